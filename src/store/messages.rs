//! A chat's stored messages, read: by seq (replay after a reconnect), the
//! newest, the newest a visitor may see, and a client id's seq (so a resent
//! message is acknowledged, not stored twice). Writes are in `chats.rs`,
//! in the same transaction as the chat.

use super::keys::{chat_client, chat_seq, parse_u64};
use super::records::{decode, MessageRecord};
use super::{Store, StoreError};
use crate::domain::chat::Message;
use crate::domain::ChatId;

impl Store {
    /// The seq a client id was given in this chat, if any. An entry whose
    /// message is not there (a crash between the two writes of
    /// [`Store::append_message`]) counts as none: that message was never
    /// acknowledged, and its seq may since belong to another message.
    pub fn seq_of_client_id(
        &self,
        chat: ChatId,
        client_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        let key = chat_client(chat, client_id);
        let Some(bytes) = self.trees.chatid_clientid_seq.get(&key)? else {
            return Ok(None);
        };
        let seq = parse_u64(&bytes)?;
        let stored = self
            .trees
            .chatid_seq_message
            .get(chat_seq(chat, seq))?
            .map(|b| decode::<MessageRecord, Message>("message", &b))
            .transpose()?;
        if stored.is_some_and(|m| m.client_id.as_deref() == Some(client_id)) {
            Ok(Some(seq))
        } else {
            // Only this cleanup of a stale entry writes; the lookup every
            // message makes passes no gate.
            let _w = self.gate.writing();
            self.trees.chatid_clientid_seq.remove(&key)?;
            Ok(None)
        }
    }

    /// The seq of the newest stored message of `chat` (0: none).
    pub(super) fn newest_seq(&self, chat: ChatId) -> Result<u64, StoreError> {
        match self
            .trees
            .chatid_seq_message
            .scan_prefix(chat.to_bytes())
            .keys()
            .next_back()
        {
            Some(key) => parse_u64(key?.get(16..).unwrap_or_default()),
            None => Ok(0),
        }
    }

    /// The seq of the chat's newest message a visitor can see (0: none).
    /// Whispers are rare, so this reads back only a few messages.
    pub fn last_visible_seq(&self, chat: ChatId) -> Result<u64, StoreError> {
        for kv in self
            .trees
            .chatid_seq_message
            .scan_prefix(chat.to_bytes())
            .values()
            .rev()
        {
            let m = decode::<MessageRecord, Message>("message", &kv?)?;
            if m.kind.visible_to_visitor() {
                return Ok(m.seq);
            }
        }
        Ok(0)
    }

    /// Up to `limit` messages with seq greater than `after`, in order.
    pub fn messages_after(
        &self,
        chat: ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let start = chat_seq(chat, after.saturating_add(1));
        let end = chat_seq(chat, u64::MAX);
        self.trees
            .chatid_seq_message
            .range(start..=end)
            .take(limit)
            .map(|kv| decode::<MessageRecord, Message>("message", &kv?.1))
            .collect()
    }
}
