//! The message log: the ordinary messages of open chats (`logno_message`),
//! keyed by one number that only grows, so a burst of messages to many
//! chats writes the end of one tree instead of a page of
//! `chatid_seq_message` per chat. redb copies every page a transaction
//! changes, so a page a message was most of a message's cost
//! (docs/performance.md, "The message log").
//!
//! Which log entries belong to which chat, and their client ids, are kept
//! in memory ([`MessageLog`]), loaded at open from a second tree of small
//! entries appended beside the first (`logno_chatseq`): the log holds
//! only open chats' messages, since the write that ends a chat packs them
//! into its transcript and removes them (`messages.rs`, [`super::messages::Loose`]).
//! So this memory follows the open chats, not the stored ones.

use super::keys::u64_be;
use super::kv::Tree;
use super::StoreError;
use crate::domain::chat::Message;
use crate::domain::ChatId;
use std::collections::HashMap;
use std::sync::Mutex;

/// One open chat's part of the log.
#[derive(Default)]
struct ChatLog {
    /// (seq, log number), in seq order.
    entries: Vec<(u64, u64)>,
    /// Client id → seq.
    clients: HashMap<String, u64>,
}

#[derive(Default)]
struct Inner {
    /// The number the next entry gets.
    next: u64,
    chats: HashMap<ChatId, ChatLog>,
}

/// What the log holds, by chat.
#[derive(Default)]
pub(crate) struct MessageLog {
    inner: Mutex<Inner>,
}

/// A log entry's key (in both trees).
pub(super) fn log_key(no: u64) -> [u8; 8] {
    u64_be(no)
}

/// A `logno_chatseq` value: whose the entry is.
pub(super) fn whose(m: &Message) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + m.client_id.as_ref().map_or(0, String::len));
    v.extend_from_slice(&m.chat_id.to_bytes());
    v.extend_from_slice(&u64_be(m.seq));
    if let Some(c) = &m.client_id {
        v.extend_from_slice(c.as_bytes());
    }
    v
}

fn parse_whose(v: &[u8]) -> Result<(ChatId, u64, Option<String>), StoreError> {
    let corrupt = || StoreError::Corrupt(format!("a logno_chatseq value of {} bytes", v.len()));
    let chat: [u8; 16] = v
        .get(..16)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let seq = super::keys::parse_u64(v.get(16..24).ok_or_else(corrupt)?)?;
    let client = match v.get(24..) {
        Some([]) | None => None,
        Some(c) => Some(String::from_utf8(c.to_vec()).map_err(|_| corrupt())?),
    };
    Ok((ChatId::from_bytes(chat), seq, client))
}

impl MessageLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads whose each entry is (at open): the small `logno_chatseq`,
    /// not the messages.
    pub(super) fn load(&self, index: &Tree) -> Result<(), StoreError> {
        let mut inner = Inner::default();
        for kv in index.iter() {
            let (k, v) = kv?;
            let no = super::keys::parse_u64(&k)?;
            let (chat, seq, client) = parse_whose(&v)?;
            inner.next = no + 1;
            let log = inner.chats.entry(chat).or_default();
            log.entries.push((seq, no));
            if let Some(c) = client {
                log.clients.insert(c, seq);
            }
        }
        for chat in inner.chats.values_mut() {
            chat.entries.sort_unstable();
        }
        *self.lock() = inner;
        Ok(())
    }

    /// The number for a new entry.
    pub(super) fn take_no(&self) -> u64 {
        let mut inner = self.lock();
        let no = inner.next;
        inner.next += 1;
        no
    }

    /// Notes that entry `no` now holds `m`.
    pub(super) fn record(&self, m: &Message, no: u64) {
        let mut inner = self.lock();
        let chat = inner.chats.entry(m.chat_id).or_default();
        match chat.entries.last() {
            Some(&(last, _)) if last > m.seq => {
                let at = chat.entries.partition_point(|&(s, _)| s < m.seq);
                chat.entries.insert(at, (m.seq, no));
            }
            _ => chat.entries.push((m.seq, no)),
        }
        if let Some(c) = &m.client_id {
            chat.clients.insert(c.clone(), m.seq);
        }
    }

    /// The seq `client_id` was given in `chat`'s logged messages.
    pub(super) fn seq_of_client(&self, chat: ChatId, client_id: &str) -> Option<u64> {
        self.lock()
            .chats
            .get(&chat)
            .and_then(|c| c.clients.get(client_id).copied())
    }

    /// `chat`'s entries with seq above `after`, in seq order: (seq, number).
    pub(super) fn entries_after(&self, chat: ChatId, after: u64) -> Vec<(u64, u64)> {
        self.lock().chats.get(&chat).map_or_else(Vec::new, |c| {
            let from = c.entries.partition_point(|&(s, _)| s <= after);
            c.entries[from..].to_vec()
        })
    }

    /// The newest logged seq of `chat` (0: none).
    pub(super) fn newest(&self, chat: ChatId) -> u64 {
        self.lock()
            .chats
            .get(&chat)
            .and_then(|c| c.entries.last())
            .map_or(0, |&(s, _)| s)
    }

    /// Forgets `chat`: its entries were packed or deleted.
    pub(super) fn forget(&self, chat: ChatId) {
        self.lock().chats.remove(&chat);
    }

    /// How many client ids `chat`'s entries have (for tests).
    #[cfg(test)]
    pub(super) fn client_count(&self, chat: ChatId) -> usize {
        self.lock().chats.get(&chat).map_or(0, |c| c.clients.len())
    }
}
