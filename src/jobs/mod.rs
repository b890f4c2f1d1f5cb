//! Scheduled jobs on tokio-cron-scheduler. Each job is a plain
//! `async fn run(state, now)` in its own file, so tests call it with a fixed
//! time; this file only schedules them: housekeeping and backups.

pub mod backup;
pub mod follow_ups;
pub mod housekeeping;
pub mod mail;
pub mod transcripts;

use crate::state::AppState;
use std::sync::{Arc, Weak};
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

/// Every ten minutes, at second 0.
pub const HOUSEKEEPING_SCHEDULE: &str = "0 */10 * * * *";

/// Starts the scheduler with every job. Jobs hold the state weakly: the
/// scheduler's background tasks outlive `shutdown()`, and a stopped desk
/// must let go of its store (and the data folder's lock).
pub async fn start(state: &Arc<AppState>) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    scheduler
        .add(every(
            HOUSEKEEPING_SCHEDULE,
            state,
            |state, now| async move {
                if let Err(e) = housekeeping::run(&state, now).await {
                    tracing::warn!(error = %e, "housekeeping failed; it runs again in ten minutes");
                }
            },
        )?)
        .await?;
    let schedule = state.config.backup.schedule.clone();
    if !schedule.is_empty() {
        scheduler
            .add(every(&schedule, state, |state, now| async move {
                if let Err(e) = backup::run(&state, now).await {
                    tracing::error!(error = %e, "SCHEDULED BACKUP FAILED; it is tried again at its next time: check the backup folder's disk space and permissions");
                }
            })?)
            .await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}

/// A job that runs `run(state, now)` on `schedule` while the desk runs.
fn every<F, Fut>(schedule: &str, state: &Arc<AppState>, run: F) -> Result<Job, JobSchedulerError>
where
    F: Fn(Arc<AppState>, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let weak: Weak<AppState> = Arc::downgrade(state);
    Job::new_async(schedule, move |_id, _scheduler| {
        let (state, run) = (weak.upgrade(), run.clone());
        Box::pin(async move {
            if let Some(state) = state {
                let now = state.now();
                run(state, now).await;
            }
        })
    })
}
