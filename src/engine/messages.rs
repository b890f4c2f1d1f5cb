//! Messages in the owner task: each gets the chat's next seq, is written
//! with the chat's activity in one transaction, and is acknowledged and
//! delivered (masked for agents) only once durable; resends with a known
//! client id are acknowledged again. Typing indicators go out live.

use super::chats::chat_gone;
use super::conn::{Conn, Out, Slot};
use super::core::{Core, LiveChat};
use super::frames::{Answering, ServerFrame};
use crate::domain::chat::{Chat, ChatState, Message, MessageKind, SystemEvent};
use crate::domain::masking::mask;
use crate::domain::{ChatId, StaffId};
use crate::error::AppError;
use crate::store::{Appended, StoreError};
use std::sync::Arc;

fn not_durable(e: &StoreError, chat_id: ChatId, client_id: &str) -> Arc<str> {
    ServerFrame::refusal(
        Answering::message(Some(chat_id), client_id.to_string()),
        "store_unavailable",
        format!("{e}; the message was not accepted, send it again"),
    )
}

/// A message before it has a seq.
pub(super) struct Draft {
    kind: MessageKind,
    author: Option<StaffId>,
    author_name: String,
    body: String,
    client_id: Option<String>,
    event: Option<SystemEvent>,
}

impl Draft {
    /// A system message: the desk's English `text` and the event it records.
    pub(super) fn system(text: String, event: SystemEvent) -> Self {
        Draft {
            kind: MessageKind::System,
            author: None,
            author_name: String::new(),
            body: text,
            client_id: None,
            event: Some(event),
        }
    }
}

/// Who receives a message, captured when it is written.
pub(super) struct Recipients {
    pub visitors: Vec<Conn>,
    pub agents: Vec<Conn>,
}

impl Core {
    pub(super) fn stored_body(&self, body: &str) -> String {
        if self.config.store_masked {
            mask(body)
        } else {
            body.to_string()
        }
    }

    /// Everyone in a chat: visitors; owner, conference agents and monitors.
    pub(super) fn recipients(&self, chat: &LiveChat) -> Recipients {
        let owner = chat
            .chat
            .owner
            .filter(|_| chat.chat.state == ChatState::Active);
        let staff = owner
            .iter()
            .chain(&chat.chat.conference)
            .chain(&chat.monitors);
        let mut agents = Vec::new();
        for id in staff {
            if let Some(a) = self.agents.get(id) {
                agents.extend(a.conns.iter().cloned());
            }
        }
        Recipients {
            visitors: chat.visitors.clone(),
            agents,
        }
    }

    /// The message a draft becomes as the next one of a chat whose newest
    /// is `last_seq`.
    fn next_message(&self, chat_id: ChatId, last_seq: u64, draft: Draft) -> Message {
        let Draft {
            kind,
            author,
            author_name,
            body,
            client_id,
            event,
        } = draft;
        let body = if kind == MessageKind::System {
            body
        } else {
            self.stored_body(&body)
        };
        Message {
            chat_id,
            seq: last_seq + 1,
            kind,
            author,
            author_name,
            body,
            client_id,
            at: self.now(),
            event,
        }
    }

    /// Writes the next message of `chat_id`, an ordinary one that leaves
    /// the chat's state, group and people as they were: the live chat moves
    /// on in place (no copy of it per message), and its stored record
    /// follows within a second ([`Core::stale_records`]).
    pub(super) fn append_plain(
        &mut self,
        chat_id: ChatId,
        draft: Draft,
    ) -> Result<Message, AppError> {
        let live = self.chats.get(&chat_id).ok_or_else(|| chat_gone(chat_id))?;
        let message = self.next_message(chat_id, live.chat.last_seq, draft);
        self.store.append_plain_message(&message)?;
        if let Some(live) = self.chats.get_mut(&chat_id) {
            moved_on(&mut live.chat, &message);
        }
        self.stale_records.insert(chat_id);
        Ok(message)
    }

    /// Writes the next message of `chat_id`, applying `update` to the chat
    /// in the same transaction.
    pub(super) fn append(
        &mut self,
        chat_id: ChatId,
        draft: Draft,
        update: impl FnOnce(&mut Chat),
    ) -> Result<Message, AppError> {
        let live = self.chats.get(&chat_id).ok_or_else(|| chat_gone(chat_id))?;
        let mut next = live.chat.clone();
        let message = self.next_message(chat_id, next.last_seq, draft);
        moved_on(&mut next, &message);
        update(&mut next);
        match self.store.append_message(&live.chat, &next, &message)? {
            Appended::MessageOnly => self.stale_records.insert(chat_id),
            Appended::WithChat => self.stale_records.remove(&chat_id),
        };
        if let Some(live) = self.chats.get_mut(&chat_id) {
            live.chat = next;
        }
        Ok(message)
    }

    /// Once durable: the ack to the sender, the message to everyone in the
    /// chat (masked for agents), plus `extra` frames to visitors and agents.
    pub(super) fn deliver(
        &self,
        message: Message,
        to: Recipients,
        sender: Option<(Conn, String)>,
        extra: Vec<(bool, Arc<str>)>,
    ) {
        let chat_id = message.chat_id;
        let seq = message.seq;
        // Visitor sessions wrap this in their frame with its `prev_seq`.
        let visitor_json = message
            .kind
            .visible_to_visitor()
            .then(|| Arc::<str>::from(super::frames::visitor_message_json(&message)));
        let agent_message = self.config.staff_view().message(message);
        let agent_json = ServerFrame::Message {
            message: agent_message,
        }
        .json();
        self.after_durable(move |result| {
            if let Err(e) = result {
                if let Some((conn, client_id)) = sender {
                    conn.frame(&ServerFrame::refusal(
                        Answering::message(Some(chat_id), client_id),
                        "store_unavailable",
                        format!("{e}; send the message again"),
                    ));
                }
                return;
            }
            if let Some((conn, client_id)) = &sender {
                conn.frame(
                    &ServerFrame::Ack {
                        chat_id,
                        client_id: client_id.clone(),
                        seq,
                    }
                    .json(),
                );
            }
            if let Some(json) = visitor_json {
                let out = Out::message(chat_id, seq, json);
                for c in &to.visitors {
                    c.push(out.clone());
                }
            }
            let out = Out::message(chat_id, seq, agent_json);
            for c in &to.agents {
                c.push(out.clone());
            }
            for (to_visitors, json) in extra {
                for c in if to_visitors {
                    &to.visitors
                } else {
                    &to.agents
                } {
                    c.frame(&json);
                }
            }
        });
    }

    pub(super) fn visitor_message(
        &mut self,
        id: ChatId,
        conn: Conn,
        client_id: String,
        body: String,
    ) {
        let open = self
            .chats
            .get(&id)
            .is_some_and(|c| c.chat.state != ChatState::Ended);
        if !open {
            conn.frame(&ServerFrame::refusal(
                Answering::message(Some(id), client_id),
                "chat_ended",
                "this chat has ended; start a new one",
            ));
            return;
        }
        if self.resend(id, &conn, &client_id) {
            return;
        }
        let name = self
            .chats
            .get(&id)
            .map(|c| c.chat.visitor.name.clone())
            .unwrap_or_default();
        let draft = Draft {
            kind: MessageKind::Visitor,
            author: None,
            author_name: name,
            body,
            client_id: Some(client_id.clone()),
            event: None,
        };
        self.send_message(id, conn, draft);
    }

    /// Writes a client's message and, once durable, acks it and delivers it
    /// to everyone in the chat; a failure goes back to the sender.
    pub(super) fn send_message(&mut self, id: ChatId, conn: Conn, draft: Draft) {
        let client_id = draft.client_id.clone().unwrap_or_default();
        match self.append_plain(id, draft) {
            Ok(message) => {
                if let Some(to) = self.chats.get(&id).map(|c| self.recipients(c)) {
                    self.deliver(message, to, Some((conn, client_id)), Vec::new());
                }
            }
            Err(e) => conn.frame(&ServerFrame::refusal(
                Answering::message(Some(id), client_id),
                e.code(),
                e.to_string(),
            )),
        }
    }

    /// A client id already used in this chat: ack it again once durable.
    pub(super) fn resend(&self, chat_id: ChatId, conn: &Conn, client_id: &str) -> bool {
        match self.store.seq_of_client_id(chat_id, client_id) {
            Ok(Some(seq)) => {
                let ack = ServerFrame::Ack {
                    chat_id,
                    client_id: client_id.to_string(),
                    seq,
                }
                .json();
                let conn = conn.clone();
                let client_id = client_id.to_string();
                self.after_durable(move |r| match r {
                    Ok(()) => conn.frame(&ack),
                    Err(e) => conn.frame(&not_durable(&e, chat_id, &client_id)),
                });
                true
            }
            Ok(None) => false,
            Err(e) => {
                conn.frame(&not_durable(&e, chat_id, client_id));
                true
            }
        }
    }

    pub(super) fn agent_message(
        &mut self,
        agent: StaffId,
        id: ChatId,
        conn: Conn,
        client_id: String,
        body: String,
        whisper: bool,
    ) {
        let role = self
            .chats
            .get(&id)
            .filter(|c| c.chat.state == ChatState::Active)
            .map(|c| {
                let speaks = c.chat.owner == Some(agent) || c.chat.conference.contains(&agent);
                (speaks, c.monitors.contains(&agent))
            });
        let allowed = match role {
            Some((true, _)) => true,
            Some((false, true)) => whisper,
            _ => false,
        };
        if !allowed {
            let why = if role.is_some_and(|r| r.1) {
                "monitors can only whisper"
            } else {
                "you are not in this chat (any more)"
            };
            conn.frame(&ServerFrame::refusal(
                Answering::message(Some(id), client_id),
                "not_in_chat",
                why,
            ));
            return;
        }
        if self.resend(id, &conn, &client_id) {
            return;
        }
        let name = self
            .agents
            .get(&agent)
            .map(|a| a.staff.display_name.clone())
            .unwrap_or_default();
        let kind = if whisper {
            MessageKind::Whisper
        } else {
            MessageKind::Agent
        };
        let draft = Draft {
            kind,
            author: Some(agent),
            author_name: name,
            body,
            client_id: Some(client_id.clone()),
            event: None,
        };
        self.send_message(id, conn, draft);
    }

    pub(super) fn visitor_typing(&mut self, id: ChatId, text: Option<String>) {
        let Some(live) = self.chats.get(&id) else {
            return;
        };
        let active = text.is_some();
        // Without sneak peek agents see only that the visitor is typing.
        let peek = self
            .groups
            .get(&live.chat.group)
            .is_none_or(|g| g.group.sneak_peek);
        let text = text
            .filter(|_| peek)
            .map(|t| self.config.staff_view().text(&t));
        let frame = ServerFrame::Typing {
            chat_id: id,
            from: "visitor",
            active,
            text,
        }
        .json();
        for c in self.recipients(live).agents {
            c.ephemeral(Slot::Typing(id, true), &frame);
        }
    }

    pub(super) fn agent_typing(&mut self, agent: StaffId, id: ChatId, on: bool) {
        let in_chat =
            |c: &&LiveChat| c.chat.owner == Some(agent) || c.chat.conference.contains(&agent);
        let Some(live) = self.chats.get(&id).filter(in_chat) else {
            return;
        };
        let frame = ServerFrame::Typing {
            chat_id: id,
            from: "agent",
            active: on,
            text: None,
        }
        .json();
        for c in &live.visitors {
            c.ephemeral(Slot::Typing(id, false), &frame);
        }
    }
}

/// A chat after `message`: its seq and the author's side's activity.
fn moved_on(chat: &mut Chat, message: &Message) {
    chat.last_seq = message.seq;
    match message.kind {
        MessageKind::Visitor => chat.visitor_active_at = message.at,
        MessageKind::Agent => {
            chat.agent_active_at = message.at;
            chat.first_response_at.get_or_insert(message.at);
        }
        MessageKind::Whisper => chat.agent_active_at = message.at,
        MessageKind::System => {}
    }
}
