//! A chat's stored messages, read: by seq (replay after a reconnect), the
//! newest, the newest a visitor may see, and a client id's seq (so a resent
//! message is acknowledged, not stored twice). Writes are in `chats.rs`,
//! in the same transaction as the chat.
//!
//! An open chat's ordinary messages are entries of the message log
//! (`logno_message`, `log.rs`); those written with a change of the chat
//! (start, join, transfer, end ...) a key each (`chatid_seq_message`, plus
//! `chatid_clientid_seq` for those with a client id). The write that ends
//! a chat packs both into one `chatid_transcript` value and removes those
//! keys ([`Loose`]): sled 0.34 keeps memory for every page of keys, so the
//! history costs one key a chat, not one or two a message. An ended chat
//! takes no messages from clients (the engine answers `chat_ended`), so its
//! client ids are not kept. Reads take the packed messages first, then any
//! key after them (a message written to an ended chat: none today).

use super::keys::{chat_client, chat_seq, parse_u64};
use super::records::{
    decode, encode, ChatRecord, MessageRecord, TranscriptRecord, TranscriptRecordRef,
};
use super::trees::Trees;
use super::{Store, StoreError, TxResult};
use crate::domain::chat::{Chat, ChatState, Message};
use crate::domain::ChatId;
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::{IVec, Transactional};

/// A chat's messages still stored a key each, read before the write that
/// packs them (the engine's owner task is the only writer of a chat's
/// messages, so none comes in between).
#[derive(Default)]
pub(super) struct Loose {
    /// The messages, in seq order.
    messages: Vec<Message>,
    /// Their `chatid_seq_message` keys.
    message_keys: Vec<IVec>,
    /// The chat's `chatid_clientid_seq` keys.
    client_keys: Vec<IVec>,
    /// Its `logno_message` (and `logno_chatseq`) keys.
    log_keys: Vec<IVec>,
}

impl Loose {
    /// Whether there is nothing to pack.
    pub(super) fn is_empty(&self) -> bool {
        self.message_keys.is_empty() && self.client_keys.is_empty() && self.log_keys.is_empty()
    }

    /// In a transaction: the chat's transcript becomes what it held,
    /// these messages and `last` (the ending message, not stored alone),
    /// and the loose keys go.
    pub(super) fn pack(
        &self,
        chat: ChatId,
        last: Option<&Message>,
        transcripts: &super::history::PackedTx<'_>,
        messages: &TransactionalTree,
        clients: &TransactionalTree,
        (log, log_index): (&TransactionalTree, &TransactionalTree),
    ) -> TxResult<()> {
        let key = chat.to_bytes();
        let mut all: Vec<Message> = match transcripts.get(&key)? {
            Some(bytes) => match decode::<TranscriptRecord, Vec<Message>>("transcript", &bytes) {
                Ok(m) => m,
                Err(e) => return super::abort(e),
            },
            None => Vec::new(),
        };
        all.extend(self.messages.iter().cloned());
        all.extend(last.cloned());
        all.sort_by_key(|m| m.seq);
        all.dedup_by_key(|m| m.seq);
        transcripts.insert(
            &key[..],
            encode(&TranscriptRecordRef::V1 { messages: &all }),
        )?;
        for k in &self.message_keys {
            messages.remove(k)?;
        }
        for k in &self.client_keys {
            clients.remove(k)?;
        }
        for k in &self.log_keys {
            log.remove(k)?;
            log_index.remove(k)?;
        }
        Ok(())
    }
}

/// The messages and client ids of `chat` stored a key each.
pub(super) fn loose_messages(trees: &Trees, chat: ChatId) -> Result<Loose, StoreError> {
    let mut loose = Loose::default();
    for kv in trees.chatid_seq_message.scan_prefix(chat.to_bytes()) {
        let (k, v) = kv?;
        loose
            .messages
            .push(decode::<MessageRecord, Message>("message", &v)?);
        loose.message_keys.push(k);
    }
    for k in trees
        .chatid_clientid_seq
        .scan_prefix(chat.to_bytes())
        .keys()
    {
        loose.client_keys.push(k?);
    }
    for (_, no) in trees.log.entries_after(chat, 0) {
        let key = super::log::log_key(no);
        if let Some(v) = trees.logno_message.get(key)? {
            loose
                .messages
                .push(decode::<MessageRecord, Message>("message", &v)?);
            loose.log_keys.push(key.to_vec());
        }
    }
    loose.messages.sort_by_key(|m| m.seq);
    Ok(loose)
}

/// Schema 8's step: packs the messages of every ended chat stored before
/// it (a run cut short packs the rest; a packed chat has no loose key).
/// Returns how many chats it packed.
pub(super) fn pack_ended(trees: &Trees) -> Result<usize, StoreError> {
    let mut packed = 0;
    for kv in trees.chats().iter() {
        let (_, v) = kv?;
        let chat = decode::<ChatRecord, Chat>("chat", &v)?;
        if chat.state != ChatState::Ended {
            continue;
        }
        let loose = loose_messages(trees, chat.id)?;
        if loose.is_empty() {
            continue;
        }
        let pre = super::history::Prefetched::default().read(
            trees,
            super::history::Map::Transcripts,
            &chat.id.to_bytes(),
        )?;
        super::tx_done(
            (
                &trees.chatid_transcript,
                &trees.chatid_seq_message,
                &trees.chatid_clientid_seq,
                &trees.logno_message,
                &trees.logno_chatseq,
            )
                .transaction(|(transcripts, messages, clients, log, log_index)| {
                    let transcripts = super::history::PackedTx::new(
                        super::history::Map::Transcripts,
                        transcripts,
                        &pre,
                    );
                    loose.pack(
                        chat.id,
                        None,
                        &transcripts,
                        messages,
                        clients,
                        (log, log_index),
                    )
                }),
        )?;
        trees.log.forget(chat.id);
        packed += 1;
        if packed % 100_000 == 0 {
            tracing::info!(chats = packed, "packing the ended chats' messages");
        }
    }
    Ok(packed)
}

impl Store {
    /// The packed messages of an ended chat (none for an open one).
    fn packed(&self, chat: ChatId) -> Result<Vec<Message>, StoreError> {
        match self.trees.transcripts().get(&chat.to_bytes())? {
            Some(bytes) => decode::<TranscriptRecord, Vec<Message>>("transcript", &bytes),
            None => Ok(Vec::new()),
        }
    }

    /// The seq a client id was given in this chat, if any. An entry whose
    /// message is not there (a crash between the two writes of
    /// [`Store::append_message`]) counts as none: that message was never
    /// acknowledged, and its seq may since belong to another message.
    pub fn seq_of_client_id(
        &self,
        chat: ChatId,
        client_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        if let Some(seq) = self.trees.log.seq_of_client(chat, client_id) {
            return Ok(Some(seq));
        }
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
        let logged = self.trees.log.newest(chat);
        let keyed = match self
            .trees
            .chatid_seq_message
            .scan_prefix(chat.to_bytes())
            .keys()
            .next_back()
        {
            Some(key) => parse_u64(key?.get(16..).unwrap_or_default())?,
            None => self.packed(chat)?.last().map_or(0, |m| m.seq),
        };
        Ok(logged.max(keyed))
    }

    /// `chat`'s logged messages with seq above `after`, in seq order.
    fn logged_after(
        &self,
        chat: ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let mut out = Vec::new();
        for (_, no) in self
            .trees
            .log
            .entries_after(chat, after)
            .into_iter()
            .take(limit)
        {
            // None only after a failed write (the store is then broken).
            if let Some(v) = self.trees.logno_message.get(super::log::log_key(no))? {
                out.push(decode::<MessageRecord, Message>("message", &v)?);
            }
        }
        Ok(out)
    }

    /// The seq of the chat's newest message a visitor can see (0: none).
    /// Whispers are rare, so this reads back only a few messages.
    pub fn last_visible_seq(&self, chat: ChatId) -> Result<u64, StoreError> {
        let mut logged = 0;
        for (seq, no) in self.trees.log.entries_after(chat, 0).into_iter().rev() {
            if let Some(v) = self.trees.logno_message.get(super::log::log_key(no))? {
                if decode::<MessageRecord, Message>("message", &v)?
                    .kind
                    .visible_to_visitor()
                {
                    logged = seq;
                    break;
                }
            }
        }
        for kv in self
            .trees
            .chatid_seq_message
            .scan_prefix(chat.to_bytes())
            .values()
            .rev()
        {
            let m = decode::<MessageRecord, Message>("message", &kv?)?;
            if m.kind.visible_to_visitor() {
                return Ok(m.seq.max(logged));
            }
        }
        if logged > 0 {
            return Ok(logged);
        }
        Ok(self
            .packed(chat)?
            .iter()
            .rev()
            .find(|m| m.kind.visible_to_visitor())
            .map_or(0, |m| m.seq))
    }

    /// Up to `limit` messages with seq greater than `after`, in order.
    pub fn messages_after(
        &self,
        chat: ChatId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let mut out: Vec<Message> = self
            .packed(chat)?
            .into_iter()
            .filter(|m| m.seq > after)
            .take(limit)
            .collect();
        let from = out.last().map_or(after, |m| m.seq);
        let left = limit - out.len();
        let start = chat_seq(chat, from.saturating_add(1));
        let end = chat_seq(chat, u64::MAX);
        // Keyed and logged messages interleave by seq: the first `left` of
        // both together are among the first `left` of each.
        let mut rest = self.logged_after(chat, from, left)?;
        for kv in self.trees.chatid_seq_message.range(start..=end).take(left) {
            rest.push(decode::<MessageRecord, Message>("message", &kv?.1)?);
        }
        rest.sort_by_key(|m| m.seq);
        rest.dedup_by_key(|m| m.seq);
        out.extend(rest.into_iter().take(left));
        Ok(out)
    }
}
