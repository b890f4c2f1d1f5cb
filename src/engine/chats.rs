//! The chat lifecycle in the owner task: starting chats (or answering
//! offline), visitor connections, accepting offers and manual picks,
//! ending (visitor, agent, idle), wrap-up, and re-queueing a lost agent's
//! chats. Messages themselves are in `messages.rs`.

use super::conn::Conn;
use super::core::{Core, LiveChat};
use super::frames::{ServerFrame, VisitorEndedBy};
use super::messages::Draft;
use super::{Reply, Started};
use crate::domain::chat::{
    self, Chat, ChatState, EndedBy, Message, MessageKind, StartChatRequest, SystemEvent,
};
use crate::domain::status::Status;
use crate::domain::ticket;

use crate::domain::{ChatId, GroupId, Routing, StaffId};
use crate::error::AppError;
use crate::service::auth::{random_token, token_hash};
use crate::store::StoreError;

/// The error for a chat that is not open.
pub(super) fn chat_gone(id: ChatId) -> AppError {
    AppError::NotFound {
        code: "chat_not_found",
        message: format!("chat {id} is not open"),
    }
}

impl Core {
    /// Whether any enabled, chat-enabled member could ever take a chat.
    pub(super) fn anyone_could_take(&self, group: GroupId) -> Result<bool, StoreError> {
        for id in self.store.group_members(group)? {
            if let Some(row) = self.store.staff(id)? {
                if row.staff.chat_enabled && !row.staff.disabled {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Whether a member of `group` is online now: connected, and available
    /// or busy (an agent at their limit is still at work).
    pub(super) fn anyone_online(&self, group: GroupId) -> bool {
        self.agents.values().any(|a| {
            a.staff.in_group(group)
                && a.staff.chat_enabled
                && !a.staff.disabled
                && !a.conns.is_empty()
                && matches!(a.presence.status, Status::Available | Status::Busy)
        })
    }

    /// Whether a chat started with `group` now would be queued (not
    /// answered "offline"): its queue is online, a chat-enabled member
    /// exists, and, when the group asks for it, one is online.
    pub(super) fn takes_chats(&self, group: GroupId) -> Result<bool, StoreError> {
        let (online, need_someone) = self.groups.get(&group).map_or((false, true), |g| {
            (g.group.queue_online, g.group.offline_when_nobody_online)
        });
        Ok(online
            && self.schedule.group_open(group, self.now())
            && self.anyone_could_take(group)?
            && (!need_someone || self.anyone_online(group)))
    }

    pub(super) fn start_chat(&mut self, req: StartChatRequest, reply: Reply<Started>) {
        let result = (|| {
            let (visitor, question) = req.visitor(self.config.max_message_chars)?;
            self.ensure_group(req.group)?;
            if !self.takes_chats(req.group)? {
                return Ok(None);
            }
            let now = self.now();
            let token = random_token(32);
            let chat = Chat::waiting(req.group, visitor.clone(), now);
            let first = Message {
                chat_id: chat.id,
                seq: 1,
                kind: MessageKind::Visitor,
                author: None,
                author_name: visitor.name,
                body: self.stored_body(&question),
                client_id: None,
                at: now,
                event: None,
            };
            self.store.insert_chat(&chat, &token_hash(&token), &first)?;
            Ok::<_, AppError>(Some((chat, token)))
        })();
        match result {
            Ok(None) => {
                let _ = reply.send(Ok(Started::Offline));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(Some((chat, token))) => {
                let live = LiveChat {
                    chat: chat.clone(),
                    offer: None,
                    last_refused: None,
                    visitors: Vec::new(),
                    monitors: Vec::new(),
                    pending: None,
                };
                let group = chat.group;
                if let Some(g) = self.groups.get_mut(&group) {
                    g.queue.insert(live.queue_key());
                }
                self.chats.insert(chat.id, live);
                self.after_durable(move |result| {
                    let _ = reply.send(
                        result
                            .map(|()| Started::Queued {
                                chat: Box::new(chat),
                                token,
                            })
                            .map_err(AppError::from),
                    );
                });
                self.route(group);
            }
        }
    }

    pub(super) fn attach_visitor(&mut self, id: ChatId, conn: Conn) -> Result<Chat, AppError> {
        let Some(live) = self.chats.get_mut(&id) else {
            // An ended chat can still be read back.
            return self.store.chat(id)?.ok_or_else(|| chat_gone(id));
        };
        live.visitors.push(conn);
        let chat = live.chat.clone();
        self.publish_queue(chat.group);
        Ok(chat)
    }

    pub(super) fn accept(&mut self, agent: StaffId, id: ChatId, reply: Reply<()>) {
        if self.pending_for(agent, id) {
            let r = self.accept_pending(id);
            self.reply_after_durable(reply, r);
            return;
        }
        if let Err(e) = self.check_accept(agent, id) {
            let _ = reply.send(Err(e));
            return;
        }
        let now = self.now();
        let Some(live) = self.chats.get_mut(&id) else {
            return;
        };
        let group = live.chat.group;
        let key = live.queue_key();
        live.offer = None;
        let waited = now.saturating_sub(live.chat.queued_at);
        if let Some(g) = self.groups.get_mut(&group) {
            g.queue.remove(&key);
            g.avg_wait_ms = (g.avg_wait_ms * 4 + waited) / 5;
        }
        let Some(a) = self.agents.get_mut(&agent) else {
            return;
        };
        a.offers.remove(&id);
        a.chats.insert(id);
        let name = a.staff.display_name.clone();
        let result = self.append(
            id,
            Draft::system(
                format!("{name} joined the chat"),
                SystemEvent::Joined { name: name.clone() },
            ),
            |c| {
                c.state = ChatState::Active;
                c.owner = Some(agent);
                c.answered_at.get_or_insert(now);
            },
        );
        let message = match result {
            Ok(m) => m,
            Err(e) => {
                // Undo: the chat waits again.
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.chats.remove(&id);
                }
                if let Some(g) = self.groups.get_mut(&group) {
                    g.queue.insert(key);
                }
                if let Some(live) = self.chats.get_mut(&id) {
                    live.chat.state = ChatState::Waiting;
                }
                let _ = reply.send(Err(e));
                return;
            }
        };
        self.settle(agent);
        // The agent gets the chat and its history, the visitor the news;
        // the answer follows once it is all durable.
        self.joined(id, agent, message, Vec::new(), name);
        self.reply_after_durable(reply, Ok(()));
        self.publish_queue(group);
    }

    pub(super) fn check_accept(&self, agent: StaffId, id: ChatId) -> Result<(), AppError> {
        let live = self.chats.get(&id).ok_or_else(|| chat_gone(id))?;
        let a = self
            .agents
            .get(&agent)
            .ok_or_else(|| AppError::Forbidden("connect to the desk first".into()))?;
        if let Some((to, _)) = live.offer {
            return if to == agent {
                Ok(())
            } else {
                Err(AppError::Conflict {
                    code: "not_offered",
                    message: "this chat is offered to someone else".into(),
                })
            };
        }
        let manual = self
            .groups
            .get(&live.chat.group)
            .is_some_and(|g| g.group.routing == Routing::Manual);
        if live.chat.state != ChatState::Waiting || !manual {
            return Err(AppError::Conflict {
                code: "not_offered",
                message: "this chat is not offered to you (any more)".into(),
            });
        }
        if !a.staff.in_group(live.chat.group) {
            return Err(AppError::Forbidden(
                "you can only pick chats of your own groups".into(),
            ));
        }
        if !a.presence.takes_offers() || a.load() >= a.staff.max_concurrent_chats {
            return Err(AppError::Conflict {
                code: "not_available",
                message: "set yourself available, below your chat limit, to pick a chat".into(),
            });
        }
        Ok(())
    }

    /// Ends a chat: the visitor ended it or an agent did.
    pub(super) fn finish(
        &mut self,
        id: ChatId,
        ended_by: EndedBy,
        text: String,
        wrap_up: Option<String>,
    ) -> Result<(), AppError> {
        let live = self.chats.get(&id).ok_or_else(|| chat_gone(id))?;
        let group = live.chat.group;
        let owner = live
            .chat
            .owner
            .filter(|_| live.chat.state == ChatState::Active);
        let to = self.recipients(live);
        let key = live.queue_key();
        // The agent an offer is taken from has a free slot again.
        let freed = if live.offer.is_some() {
            self.withdraw_offer(id, "visitor_left")
        } else {
            None
        };
        if let Some(g) = self.groups.get_mut(&group) {
            g.queue.remove(&key);
        }
        let now = self.now();
        let ticket_reasons = self.ticket_reasons.clone();
        let message = self.append(id, Draft::system(text, SystemEvent::Ended), |c| {
            c.state = ChatState::Ended;
            c.ended_at = Some(now);
            c.ended_by = Some(ended_by);
            c.wrap_up = wrap_up;
            c.follow_up = ticket::follow_up_of(c, &ticket_reasons);
        })?;
        if let Some(live) = self.chats.remove(&id) {
            for staff in live.chat.conference.iter().chain(&live.monitors) {
                if let Some(a) = self.agents.get_mut(staff) {
                    a.conferences.remove(&id);
                    a.monitoring.remove(&id);
                }
            }
        }
        let ended = ServerFrame::ChatEnded {
            chat_id: id,
            ended_by,
        }
        .json();
        let told = ServerFrame::VisitorChatEnded {
            chat_id: id,
            ended_by: VisitorEndedBy::new(ended_by, |s| self.display_name(s)),
        }
        .json();
        self.deliver(message, to, None, vec![(true, told), (false, ended)]);
        if let Some(owner) = owner {
            if let Some(a) = self.agents.get_mut(&owner) {
                a.chats.remove(&id);
            }
            self.settle(owner);
            self.route_groups_of(owner);
        }
        if let Some(agent) = freed {
            self.route_groups_of(agent);
        }
        self.publish_queue(group);
        Ok(())
    }

    /// The agent's grace period ran out: their chats go back to the front
    /// of their queues and the visitors are told.
    pub(super) fn requeue_chats_of(&mut self, agent: StaffId) {
        let Some(a) = self.agents.get_mut(&agent) else {
            return;
        };
        let chats: Vec<ChatId> = std::mem::take(&mut a.chats).into_iter().collect();
        a.disconnected_at = None;
        let name = a.staff.display_name.clone();
        for id in chats {
            let text =
                format!("{name} lost the connection; you are back at the front of the queue");
            let event = SystemEvent::Requeued { name: name.clone() };
            let result = self.append(id, Draft::system(text, event), |c| {
                c.state = ChatState::Waiting;
                c.owner = None;
                c.requeued = true;
            });
            match result {
                Ok(message) => {
                    let Some(live) = self.chats.get(&id) else {
                        continue;
                    };
                    let group = live.chat.group;
                    let key = live.queue_key();
                    let to = self.recipients(live);
                    if let Some(g) = self.groups.get_mut(&group) {
                        g.queue.insert(key);
                    }
                    self.deliver(message, to, None, Vec::new());
                    self.route(group);
                }
                Err(e) => tracing::error!(error = %e, chat = %id, "could not re-queue a chat"),
            }
        }
        self.settle(agent);
    }

    /// Closes a chat nobody wrote in for `chat.idle_close`.
    pub(super) fn close_idle(&mut self, id: ChatId) {
        let minutes = self.config.idle_close.as_secs().div_ceil(60);
        let text = format!("The chat was closed after {minutes} minutes without messages");
        if let Err(e) = self.finish(id, EndedBy::Idle, text, None) {
            tracing::warn!(error = %e, chat = %id, "could not close an idle chat");
        }
    }

    /// Ends a chat that waited longer than its group's queue timeout: a
    /// missed chat; the widget offers the message form.
    pub(super) fn miss(&mut self, id: ChatId) {
        let text = "Nobody could answer in time; the visitor was offered the message form".into();
        if let Err(e) = self.finish(id, EndedBy::QueueTimeout, text, None) {
            tracing::warn!(error = %e, chat = %id, "could not end a chat that waited too long");
        }
    }

    /// Ends a chat still waiting when its group closed: a missed chat; the
    /// widget offers the message form.
    pub(super) fn close_waiting(&mut self, id: ChatId) {
        let text =
            "The group closed before anyone could answer; the visitor was offered the message form"
                .into();
        if let Err(e) = self.finish(id, EndedBy::Closed, text, None) {
            tracing::warn!(error = %e, chat = %id, "could not end a chat of a closed group");
        }
    }

    pub(super) fn visitor_end(&mut self, id: ChatId) {
        if let Err(e) = self.finish(
            id,
            EndedBy::Visitor,
            "Customer ended the conversation".into(),
            None,
        ) {
            tracing::debug!(error = %e, "visitor end of a chat not open");
        }
    }

    pub(super) fn end_chat(
        &mut self,
        agent: StaffId,
        id: ChatId,
        reason: String,
        reply: Reply<()>,
    ) {
        let result = (|| {
            let reason = self.wrap_up_reason(&reason)?;
            let owns = self
                .chats
                .get(&id)
                .is_some_and(|c| c.chat.state == ChatState::Active && c.chat.owner == Some(agent));
            if !owns {
                return Err(AppError::Forbidden(
                    "only the agent in the chat can end it".into(),
                ));
            }
            let name = self
                .agents
                .get(&agent)
                .map(|a| a.staff.display_name.clone())
                .unwrap_or_default();
            self.finish(
                id,
                EndedBy::Agent { staff: agent },
                format!("{name} ended the chat"),
                Some(reason),
            )
        })();
        self.reply_after_durable(reply, result);
    }

    pub(super) fn wrap_up(&mut self, agent: StaffId, id: ChatId, reason: String, reply: Reply<()>) {
        let result = (|| {
            let reason = self.wrap_up_reason(&reason)?;
            let mut chat = self.store.chat(id)?.ok_or_else(|| chat_gone(id))?;
            if chat.state != ChatState::Ended || chat.owner != Some(agent) || chat.wrap_up.is_some()
            {
                return Err(AppError::Conflict {
                    code: "no_wrap_up_due",
                    message: "wrap-up is given once, by the chat's agent, after it ended".into(),
                });
            }
            chat.wrap_up = Some(reason);
            chat.follow_up = ticket::follow_up_of(&chat, &self.ticket_reasons);
            self.store.put_chat(&chat)?;
            Ok(())
        })();
        self.reply_after_durable(reply, result);
    }

    /// Answers once what was written is durable (errors at once).
    pub(super) fn reply_after_durable(&self, reply: Reply<()>, result: Result<(), AppError>) {
        match result {
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(()) => self.after_durable(move |r| {
                let _ = reply.send(r.map_err(AppError::from));
            }),
        }
    }
}

/// Checks a message body from a client against the configured limit.
pub fn check_body(body: &str, max_chars: usize) -> Result<String, AppError> {
    Ok(chat::message_body("body", body, max_chars)?)
}
