//! Scheduled jobs on tokio-cron-scheduler. Each job is a plain
//! `async fn run(state, now)` in its own file, so tests call it with a fixed
//! time; this file only schedules them. Later: shifts, idle close, retention.

pub mod housekeeping;

use crate::state::AppState;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

/// Every ten minutes, at second 0.
pub const HOUSEKEEPING_SCHEDULE: &str = "0 */10 * * * *";

/// Starts the scheduler with every job.
pub async fn start(state: AppState) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async(HOUSEKEEPING_SCHEDULE, move |_id, _scheduler| {
        let state = state.clone();
        Box::pin(async move {
            let now = state.now();
            if let Err(e) = housekeeping::run(&state, now).await {
                tracing::warn!(error = %e, "housekeeping failed; it runs again in ten minutes");
            }
        })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
