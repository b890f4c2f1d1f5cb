//! Chats and their messages: `chatid_chat`, `chatid_seq_message` (ordered
//! by seq), `chatid_clientid_seq` (resends are no-ops), `tokenhash_chatid`
//! (a visitor's token finds only its own chat) and `open_chatid` (what the
//! engine rebuilds at start). A message and its chat's new activity are
//! written in one transaction.

use super::keys::{chat_client, chat_seq, parse_chat_id, parse_u64, u64_be, TokenHash};
use super::records::{decode, encode, ChatRecord, MessageRecord};
use super::{abort, tx_done, Store, StoreError};
use crate::domain::chat::{Chat, ChatState, Message};
use crate::domain::ChatId;
use sled::transaction::TransactionalTree;
use sled::Transactional;

fn write_chat(
    chats: &TransactionalTree,
    open: &TransactionalTree,
    chat: &Chat,
) -> super::TxResult<()> {
    chats.insert(
        &chat.id.to_bytes()[..],
        encode(&ChatRecord::V1(chat.clone())),
    )?;
    if chat.state == ChatState::Ended {
        open.remove(&chat.id.to_bytes()[..])?;
    } else {
        open.insert(&chat.id.to_bytes()[..], &[][..])?;
    }
    Ok(())
}

fn write_message(
    messages: &TransactionalTree,
    clients: &TransactionalTree,
    m: &Message,
) -> super::TxResult<()> {
    messages.insert(
        &chat_seq(m.chat_id, m.seq)[..],
        encode(&MessageRecord::V1(m.clone())),
    )?;
    if let Some(c) = &m.client_id {
        clients.insert(chat_client(m.chat_id, c), &u64_be(m.seq)[..])?;
    }
    Ok(())
}

impl Store {
    /// Stores a new chat, its visitor token and its first message.
    pub fn insert_chat(
        &self,
        chat: &Chat,
        token: &TokenHash,
        first: &Message,
    ) -> Result<(), StoreError> {
        let t = &self.trees;
        tx_done(
            (
                &t.chatid_chat,
                &t.open_chatid,
                &t.tokenhash_chatid,
                &t.chatid_seq_message,
                &t.chatid_clientid_seq,
            )
                .transaction(|(chats, open, tokens, messages, clients)| {
                    tokens.insert(&token[..], &chat.id.to_bytes()[..])?;
                    write_chat(chats, open, chat)?;
                    write_message(messages, clients, first)
                }),
        )
    }

    /// Replaces a chat's record (state, owner, activity).
    pub fn put_chat(&self, chat: &Chat) -> Result<(), StoreError> {
        let t = &self.trees;
        tx_done(
            (&t.chatid_chat, &t.open_chatid)
                .transaction(|(chats, open)| write_chat(chats, open, chat)),
        )
    }

    /// Appends `message` and stores `chat` (whose `last_seq` is the message's)
    /// in one transaction. A client id already used in this chat aborts with
    /// nothing written.
    pub fn append_message(&self, chat: &Chat, message: &Message) -> Result<(), StoreError> {
        let t = &self.trees;
        tx_done(
            (
                &t.chatid_chat,
                &t.open_chatid,
                &t.chatid_seq_message,
                &t.chatid_clientid_seq,
            )
                .transaction(|(chats, open, messages, clients)| {
                    if let Some(c) = &message.client_id {
                        if clients.get(chat_client(message.chat_id, c))?.is_some() {
                            return abort(StoreError::ChangedMeanwhile);
                        }
                    }
                    write_message(messages, clients, message)?;
                    write_chat(chats, open, chat)
                }),
        )
    }

    /// One chat.
    pub fn chat(&self, id: ChatId) -> Result<Option<Chat>, StoreError> {
        self.trees
            .chatid_chat
            .get(id.to_bytes())?
            .map(|b| decode::<ChatRecord, Chat>("chat", &b))
            .transpose()
    }

    /// The chat a visitor token opens.
    pub fn chat_id_by_token(&self, token: &TokenHash) -> Result<Option<ChatId>, StoreError> {
        self.trees
            .tokenhash_chatid
            .get(token)?
            .map(|b| parse_chat_id(&b))
            .transpose()
    }

    /// The seq a client id was given in this chat, if any.
    pub fn seq_of_client_id(
        &self,
        chat: ChatId,
        client_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        self.trees
            .chatid_clientid_seq
            .get(chat_client(chat, client_id))?
            .map(|b| parse_u64(&b))
            .transpose()
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

    /// Every chat not yet ended, oldest first.
    pub fn open_chats(&self) -> Result<Vec<Chat>, StoreError> {
        let ids: Vec<ChatId> = self
            .trees
            .open_chatid
            .iter()
            .map(|kv| parse_chat_id(&kv?.0))
            .collect::<Result<_, StoreError>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.chat(id)? {
                Some(c) => out.push(c),
                None => return Err(StoreError::Corrupt(format!("open chat {id} has no record"))),
            }
        }
        Ok(out)
    }
}
