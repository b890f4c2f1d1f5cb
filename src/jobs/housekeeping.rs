//! Housekeeping: removes sessions past their absolute expiry (via the
//! `expiry_tokenhash` index, never a full scan) and forgets quiet sign-in
//! failure counters and sent mail older than [`KEEP_SENT_MAIL`], and
//! packs the chats that ended since into the store's history pages
//! (`store/history.rs`: a key a stored chat would grow the desk's memory).
//! It also hands the allocator's free memory back to the system
//! (`alloc::give_back`).

use crate::error::AppError;
use crate::state::AppState;

/// How long sent mail stays in the outbox's log.
pub const KEEP_SENT_MAIL: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What one run removed.
#[derive(Debug, PartialEq, Eq)]
pub struct Swept {
    /// Expired sessions deleted.
    pub sessions: usize,
    /// Limiter entries forgotten.
    pub limiter_entries: usize,
    /// Sent mail forgotten.
    pub mail: usize,
    /// Entries of the chat history moved into its pages.
    pub packed: usize,
}

/// Runs housekeeping as of `now`.
pub async fn run(state: &AppState, now: u64) -> Result<Swept, AppError> {
    let sessions = state.write(move |s| s.purge_expired_sessions(now)).await?;
    let before = now.saturating_sub(KEEP_SENT_MAIL.as_millis() as u64);
    let mail = state.write(move |s| s.prune_sent_mail(before)).await?;
    let limiter_entries = state.limiter.prune(now) + state.visitor_limits.prune(now);
    // The chats that ended since: their keys into the history's pages.
    let packed = state.write(|s| s.pack_history()).await?;
    // What the last ten minutes freed (a large list, a report, a backup
    // download) goes back to the system, off the async threads: a trim
    // walks the allocator's free lists.
    crate::state::blocking(crate::alloc::give_back).await?;
    if sessions > 0 {
        tracing::info!(sessions, "expired sessions removed");
    }
    Ok(Swept {
        sessions,
        limiter_entries,
        mail,
        packed,
    })
}
