//! Housekeeping: removes sessions past their absolute expiry (via the
//! `expiry_tokenhash` index, never a full scan) and forgets quiet sign-in
//! failure counters.

use crate::error::AppError;
use crate::state::AppState;

/// What one run removed.
#[derive(Debug, PartialEq, Eq)]
pub struct Swept {
    /// Expired sessions deleted.
    pub sessions: usize,
    /// Limiter entries forgotten.
    pub limiter_entries: usize,
}

/// Runs housekeeping as of `now`.
pub async fn run(state: &AppState, now: u64) -> Result<Swept, AppError> {
    let sessions = state.write(move |s| s.purge_expired_sessions(now)).await?;
    let limiter_entries = state.limiter.prune(now) + state.visitor_limits.prune(now);
    if sessions > 0 {
        tracing::info!(sessions, "expired sessions removed");
    }
    Ok(Swept {
        sessions,
        limiter_entries,
    })
}
