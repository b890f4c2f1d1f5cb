//! Keeps the transcript index in step with the store: every chat written
//! ended is (re)indexed and every deleted one taken out, in batches, as
//! the store tells (`Store::set_chat_events`). The whole index is rebuilt
//! from the store at start when it is stale, and whenever the masking
//! switch no longer matches how it was written. A crash loses at most the
//! events in flight: the next start sees the count differ and rebuilds.

use crate::domain::chat::ChatState;
use crate::state::AppState;
use crate::store::ChatEvent;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often the masking switch is compared with the index.
const EVERY: Duration = Duration::from_secs(2);
/// Chats written per commit.
const BATCH: usize = 500;

/// Reindexes `ids` (or, `all`, every ended chat after emptying the index)
/// and takes `gone` out.
fn index(
    s: &AppState,
    ids: Vec<crate::domain::ChatId>,
    gone: Vec<crate::domain::ChatId>,
    all: bool,
) -> Result<usize, String> {
    let masked = s.config.chat.mask_pii.get();
    let view = s.config.chat.staff_view();
    // A rebuild reads the ended chats' ids, then each chat in turn: memory
    // stays at a batch whatever the history.
    let ids = if all {
        s.store.ended_chat_ids().map_err(|e| e.to_string())?
    } else {
        ids
    };
    // One write at least: a rebuild of nothing still empties the index
    // and stamps it, and deletions need one.
    let mut chunks: Vec<&[crate::domain::ChatId]> = ids.chunks(BATCH).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let mut done = 0;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut put = Vec::with_capacity(chunk.len());
        for id in chunk {
            let Some(chat) = s.store.chat(*id).map_err(|e| e.to_string())? else {
                continue;
            };
            if chat.state != ChatState::Ended {
                continue;
            }
            let messages = s
                .store
                .messages_after(*id, 0, usize::MAX)
                .map_err(|e| e.to_string())?;
            put.push((chat, messages));
        }
        let gone_now = if i == 0 { &gone[..] } else { &[] };
        s.transcripts
            .write(&put, gone_now, view, masked, all && i == 0)
            .map_err(|e| e.to_string())?;
        done += put.len();
    }
    if all {
        // A rebuild read every chat: what it freed goes back.
        crate::alloc::give_back();
    }
    Ok(done)
}

/// Runs until the desk stops; `rebuild`: the index must be built first.
pub fn spawn(
    state: Weak<AppState>,
    mut events: mpsc::UnboundedReceiver<ChatEvent>,
    mut rebuild: bool,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let mut ids = Vec::new();
            let mut gone = Vec::new();
            if !rebuild {
                tokio::select! {
                    e = events.recv() => match e {
                        Some(e) => {
                            let mut next = Some(e);
                            while let Some(e) = next {
                                match e {
                                    ChatEvent::Ended(id) => ids.push(id),
                                    ChatEvent::Deleted(id) => gone.push(id),
                                }
                                next = events.try_recv().ok();
                            }
                        }
                        None => return,
                    },
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = shutdown.changed() => return,
                }
            }
            if *shutdown.borrow() {
                return;
            }
            let Some(s) = state.upgrade() else { return };
            if s.config.chat.mask_pii.get() != s.transcripts.masked() {
                rebuild = true;
            }
            if !rebuild && ids.is_empty() && gone.is_empty() {
                continue;
            }
            let all = rebuild;
            let s2 = s.clone();
            drop(s);
            // Nothing is searchable before it is on disk (the transcript's rule).
            if let Err(e) = s2.store.durable().await {
                tracing::warn!(error = %e, "the store cannot make chats durable; indexing later");
                rebuild = true;
                tokio::time::sleep(EVERY).await;
                continue;
            }
            let result = crate::state::blocking(move || index(&s2, ids, gone, all)).await;
            match result {
                Ok(Ok(n)) => {
                    if all {
                        tracing::info!(chats = n, "transcript search index built from the store");
                    }
                    rebuild = false;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not update the transcript search index; trying again");
                    rebuild = true;
                    tokio::time::sleep(EVERY).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the transcript indexer failed; trying again");
                    rebuild = true;
                    tokio::time::sleep(EVERY).await;
                }
            }
        }
    })
}
