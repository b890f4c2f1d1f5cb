//! The ticket maker: turns every ended chat in the follow-up outbox (a
//! missed chat, a wrap-up reason that makes tickets) into its ticket. The
//! store wakes it when a chat ends needing one; it also looks every few
//! seconds and once at start, so what a crash left in the outbox is made
//! after the restart. Making is idempotent per chat (the store's cause
//! index), so a repeat makes nothing.

use crate::state::AppState;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::watch;

/// How often the outbox is looked at without being woken.
const EVERY: Duration = Duration::from_secs(5);

/// A fault-injection switch for tests: while this variable is set the maker
/// makes nothing, so a test can kill the desk between a missed chat and its
/// ticket (docs/operations.md).
pub const HOLD_ENV: &str = "LIVEDESK_FAULT_HOLD_FOLLOW_UPS";

/// Runs until the desk stops.
pub fn spawn(
    state: Weak<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let held = std::env::var_os(HOLD_ENV).is_some();
    if held {
        tracing::warn!("{HOLD_ENV} is set: tickets of missed chats are not made until the desk restarts without it");
    }
    tokio::spawn(async move {
        loop {
            let Some(s) = state.upgrade() else { return };
            if !held {
                let store = s.store.clone();
                let now = s.now();
                let made = crate::state::blocking(move || {
                    crate::service::tickets::follow_up_all(&store, now)
                })
                .await;
                match made {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "could not make the tickets of ended chats yet; trying again")
                    }
                    Err(e) => tracing::warn!(error = %e, "the ticket maker failed; trying again"),
                }
            }
            let store = s.store.clone();
            drop(s);
            tokio::select! {
                _ = store.follow_ups_waiting().notified() => {}
                _ = tokio::time::sleep(EVERY) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    })
}
