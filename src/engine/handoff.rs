//! Transfer, conference and monitoring. A transfer to a group re-queues the
//! chat ahead of chats that never had an agent; a transfer to an agent and
//! a conference invitation are requests the receiver must accept before the
//! group's RONA timeout, else they are dropped and the chat stays as it
//! was. Monitors (managers of the group, admins) watch unseen by the
//! visitor and may only whisper.

use super::conn::Out;
use super::core::{Core, Pending, PendingKind};
use super::frames::{ServerFrame, StaffRef};
use super::TransferTo;
use crate::domain::chat::{ChatState, Handoff, SystemEvent};
use crate::domain::permissions;
use crate::domain::{ChatId, Staff, StaffId};
use crate::error::AppError;
use crate::store::StoreError;

use super::messages::Draft;

fn conflict(code: &'static str, message: &str) -> AppError {
    AppError::Conflict {
        code,
        message: message.to_string(),
    }
}

impl Core {
    fn owned_active(&self, agent: StaffId, id: ChatId) -> Result<(), AppError> {
        let owns = self
            .chats
            .get(&id)
            .is_some_and(|c| c.chat.state == ChatState::Active && c.chat.owner == Some(agent));
        if owns {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only the agent who owns an active chat can do this".into(),
            ))
        }
    }

    fn staff_ref(&self, id: StaffId) -> StaffRef {
        StaffRef {
            id,
            name: self
                .agents
                .get(&id)
                .map(|a| a.staff.display_name.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether `agent` has a pending request on `chat`.
    pub(super) fn pending_for(&self, agent: StaffId, chat: ChatId) -> bool {
        self.chats
            .get(&chat)
            .and_then(|c| c.pending.as_ref())
            .is_some_and(|p| p.to == agent)
    }

    /// A connected, enabled, chat-enabled agent other than `from`.
    fn check_receiver(&self, from: StaffId, to: StaffId) -> Result<(), AppError> {
        let ok = to != from
            && self
                .agents
                .get(&to)
                .is_some_and(|a| a.staff.chat_enabled && !a.staff.disabled && !a.conns.is_empty());
        if ok {
            Ok(())
        } else {
            Err(conflict(
                "agent_unavailable",
                "that agent is not connected and able to take chats now",
            ))
        }
    }

    fn request(
        &mut self,
        from: StaffId,
        id: ChatId,
        to: StaffId,
        kind: PendingKind,
    ) -> Result<(), AppError> {
        self.check_receiver(from, to)?;
        let now = self.now();
        let Some(live) = self.chats.get_mut(&id) else {
            return Err(AppError::NotFound {
                code: "chat_not_found",
                message: "chat not open".into(),
            });
        };
        if live.pending.is_some() {
            return Err(conflict(
                "request_pending",
                "another transfer or invitation for this chat awaits an answer",
            ));
        }
        if live.chat.conference.contains(&to) {
            return Err(conflict(
                "already_in_chat",
                "that agent is already in this chat",
            ));
        }
        let rona = self
            .groups
            .get(&live.chat.group)
            .map_or(30, |g| u64::from(g.group.rona_timeout_secs));
        let deadline = now + rona * 1000;
        let request = kind.name();
        live.pending = Some(Pending {
            kind,
            from,
            to,
            deadline,
        });
        let view = super::frames::ChatView {
            chat: self.agent_chat(&self.chats[&id].chat),
            offer_expires_at: Some(deadline),
            question: self.question(id),
        };
        let frame = ServerFrame::Request {
            request,
            chat: view,
            from: self.staff_ref(from),
            expires_at: deadline,
        }
        .json();
        if let Some(a) = self.agents.get(&to) {
            a.send(&frame);
        }
        Ok(())
    }

    pub(super) fn transfer(
        &mut self,
        agent: StaffId,
        id: ChatId,
        to: TransferTo,
        reason: String,
    ) -> Result<(), AppError> {
        let reason = self.wrap_up_reason(&reason)?;
        self.owned_active(agent, id)?;
        match to {
            TransferTo::Agent(target) => {
                self.request(agent, id, target, PendingKind::Transfer(reason))
            }
            TransferTo::Group(group) => {
                let name = self.staff_ref(agent).name;
                self.move_to_group(id, group, agent, &name, reason)
            }
        }
    }

    /// Moves a chat to `group`'s queue, ahead of chats that never had an
    /// agent: by its owner (a transfer) or by a manager or admin (a bulk
    /// transfer). The owner, if any, leaves with a hand-off record.
    pub(super) fn move_to_group(
        &mut self,
        id: ChatId,
        group: crate::domain::GroupId,
        by: StaffId,
        by_name: &str,
        reason: String,
    ) -> Result<(), AppError> {
        self.ensure_group(group)?;
        let live = self.chats.get(&id).ok_or_else(|| AppError::NotFound {
            code: "chat_not_found",
            message: "chat not open".into(),
        })?;
        let owner = live
            .chat
            .owner
            .filter(|_| live.chat.state == ChatState::Active);
        let old_key = live.queue_key();
        let old_group = live.chat.group;
        let freed = if live.offer.is_some() {
            self.withdraw_offer(id, "transferred")
        } else {
            None
        };
        if let Some(g) = self.groups.get_mut(&old_group) {
            g.queue.remove(&old_key);
        }
        let now = self.now();
        let group_name = self
            .groups
            .get(&group)
            .map(|g| g.group.name.clone())
            .unwrap_or_default();
        let staff_before = self
            .chats
            .get(&id)
            .map(|c| self.recipients(c).agents)
            .unwrap_or_default();
        let message = self.append(
            id,
            Draft::system(
                format!("{by_name} transferred the chat to {group_name}"),
                SystemEvent::Transferred {
                    to: group_name.clone(),
                },
            ),
            |c| {
                if let Some(from) = owner {
                    c.handoffs.push(Handoff {
                        from,
                        to: group.to_string(),
                        reason,
                        at: now,
                    });
                }
                c.state = ChatState::Waiting;
                c.owner = None;
                if c.group != group {
                    c.past_groups.push(c.group);
                }
                c.group = group;
                c.requeued = true;
                c.conference.clear();
            },
        )?;
        if let Some(o) = owner {
            self.leave_all(id, o);
        }
        let visitors = match self.chats.get_mut(&id) {
            Some(live) => {
                live.last_refused = None;
                let key = live.queue_key();
                if let Some(g) = self.groups.get_mut(&group) {
                    g.queue.insert(key);
                }
                live.visitors.clone()
            }
            None => Vec::new(),
        };
        let left = ServerFrame::ChatLeft { chat_id: id }.json();
        let to = super::messages::Recipients {
            visitors,
            agents: staff_before,
        };
        self.deliver(message, to, None, vec![(false, left)]);
        tracing::info!(chat = %id, by = %by, group = %group, "chat moved to a group");
        if let Some(o) = owner {
            self.route_groups_of(o);
        }
        if let Some(agent) = freed {
            self.route_groups_of(agent);
        }
        self.publish_queue(old_group);
        self.route(group);
        Ok(())
    }

    /// Everyone but monitors leaves the chat's staff side (before a group
    /// transfer); returns the chat's old group.
    fn leave_all(&mut self, id: ChatId, owner: StaffId) -> Option<crate::domain::GroupId> {
        let members: Vec<StaffId> = self.agents.keys().copied().collect();
        for m in members {
            if let Some(a) = self.agents.get_mut(&m) {
                a.conferences.remove(&id);
            }
        }
        if let Some(a) = self.agents.get_mut(&owner) {
            a.chats.remove(&id);
        }
        self.settle(owner);
        self.chats.get(&id).map(|c| c.chat.group)
    }

    pub(super) fn invite(
        &mut self,
        agent: StaffId,
        id: ChatId,
        to: StaffId,
    ) -> Result<(), AppError> {
        self.owned_active(agent, id)?;
        self.request(agent, id, to, PendingKind::Conference)
    }

    /// The receiver accepted the pending request.
    pub(super) fn accept_pending(&mut self, id: ChatId) -> Result<(), AppError> {
        let pending = self
            .chats
            .get_mut(&id)
            .and_then(|c| c.pending.take())
            .ok_or_else(|| conflict("not_offered", "nothing awaits your answer on this chat"))?;
        let (from, to) = (pending.from, pending.to);
        let (from_name, to_name) = (self.staff_ref(from).name, self.staff_ref(to).name);
        let now = self.now();
        match pending.kind {
            PendingKind::Transfer(reason) => {
                let a = self.agents.get(&to).ok_or(StoreError::StaffNotFound)?;
                if a.load() >= a.staff.max_concurrent_chats {
                    return Err(conflict(
                        "at_limit",
                        "you are at your chat limit; end a chat first",
                    ));
                }
                let before = self
                    .chats
                    .get(&id)
                    .map(|c| self.recipients(c).agents)
                    .unwrap_or_default();
                let message = self.append(
                    id,
                    Draft::system(
                        format!("{from_name} transferred the chat to {to_name}"),
                        SystemEvent::Transferred {
                            to: to_name.clone(),
                        },
                    ),
                    |c| {
                        c.handoffs.push(Handoff {
                            from,
                            to: to.to_string(),
                            reason,
                            at: now,
                        });
                        c.owner = Some(to);
                        c.conference.retain(|m| *m != to);
                    },
                )?;
                if let Some(a) = self.agents.get_mut(&from) {
                    a.chats.remove(&id);
                }
                if let Some(a) = self.agents.get_mut(&to) {
                    a.chats.insert(id);
                    a.conferences.remove(&id);
                }
                self.joined(id, to, message, before, to_name);
                self.tell_left(from, id);
                self.settle(from);
                self.settle(to);
                self.route_groups_of(from);
            }
            PendingKind::Conference => {
                let before = self
                    .chats
                    .get(&id)
                    .map(|c| self.recipients(c).agents)
                    .unwrap_or_default();
                let message = self.append(
                    id,
                    Draft::system(
                        format!("{to_name} joined the conversation"),
                        SystemEvent::Joined {
                            name: to_name.clone(),
                        },
                    ),
                    |c| {
                        c.conference.push(to);
                    },
                )?;
                if let Some(a) = self.agents.get_mut(&to) {
                    a.conferences.insert(id);
                }
                self.joined(id, to, message, before, to_name);
            }
        }
        Ok(())
    }

    /// Delivers a join: the message to those already in, the chat to the
    /// newcomer (history follows), the news to the visitor.
    pub(super) fn joined(
        &self,
        id: ChatId,
        newcomer: StaffId,
        message: crate::domain::chat::Message,
        before: Vec<super::Conn>,
        name: String,
    ) {
        let Some(live) = self.chats.get(&id) else {
            return;
        };
        let joined = Out::joined(
            id,
            message.seq,
            ServerFrame::ChatJoined {
                chat: self.agent_chat(&live.chat),
            }
            .json(),
        );
        let newcomer_conns = self
            .agents
            .get(&newcomer)
            .map(|a| a.conns.clone())
            .unwrap_or_default();
        let to = super::messages::Recipients {
            visitors: live.visitors.clone(),
            agents: before,
        };
        let agent_joined = ServerFrame::AgentJoined { name }.json();
        self.deliver(message, to, None, vec![(true, agent_joined)]);
        self.after_durable(move |r| {
            if r.is_ok() {
                for c in &newcomer_conns {
                    c.push(joined.clone());
                }
            }
        });
    }

    /// The pending request is dropped: the chat stays as it was.
    pub(super) fn drop_pending(&mut self, id: ChatId, reason: &'static str) {
        let Some(pending) = self.chats.get_mut(&id).and_then(|c| c.pending.take()) else {
            return;
        };
        let request = pending.kind.name();
        if let Some(a) = self.agents.get(&pending.from) {
            a.send(
                &ServerFrame::RequestDropped {
                    chat_id: id,
                    request,
                    reason,
                }
                .json(),
            );
        }
        if let Some(a) = self.agents.get(&pending.to) {
            a.send(
                &ServerFrame::OfferWithdrawn {
                    chat_id: id,
                    reason,
                }
                .json(),
            );
        }
    }

    pub(super) fn leave(&mut self, agent: StaffId, id: ChatId) -> Result<(), AppError> {
        let live = self
            .chats
            .get(&id)
            .filter(|c| c.chat.state == ChatState::Active);
        let Some(live) = live else {
            return Err(AppError::NotFound {
                code: "chat_not_found",
                message: "chat not open".into(),
            });
        };
        let is_owner = live.chat.owner == Some(agent);
        let next_owner = live.chat.conference.first().copied();
        if !is_owner && !live.chat.conference.contains(&agent) {
            return Err(AppError::Forbidden("you are not in this chat".into()));
        }
        if is_owner && next_owner.is_none() {
            return Err(conflict(
                "last_agent",
                "you are the only agent in this chat: end or transfer it instead",
            ));
        }
        let name = self.staff_ref(agent).name;
        let before = self.recipients(live).agents;
        let visitors = live.visitors.clone();
        let message = self.append(
            id,
            Draft::system(
                format!("{name} left the conversation"),
                SystemEvent::Left { name: name.clone() },
            ),
            |c| {
                c.conference.retain(|m| *m != agent);
                if is_owner {
                    c.owner = next_owner;
                    c.conference.retain(|m| Some(*m) != next_owner);
                }
            },
        )?;
        if let Some(a) = self.agents.get_mut(&agent) {
            a.conferences.remove(&id);
            a.chats.remove(&id);
        }
        if let (true, Some(n)) = (is_owner, next_owner) {
            if let Some(a) = self.agents.get_mut(&n) {
                a.conferences.remove(&id);
                a.chats.insert(id);
            }
            self.settle(n);
        }
        self.settle(agent);
        self.route_groups_of(agent);
        self.deliver(
            message,
            super::messages::Recipients {
                visitors,
                agents: before,
            },
            None,
            Vec::new(),
        );
        self.tell_left(agent, id);
        Ok(())
    }

    /// Tells an agent, once what was written is durable, that they are no
    /// longer in the chat.
    fn tell_left(&self, agent: StaffId, id: ChatId) {
        let left = ServerFrame::ChatLeft { chat_id: id }.json();
        let conns: Vec<_> = self
            .agents
            .get(&agent)
            .map(|a| a.conns.clone())
            .unwrap_or_default();
        self.after_durable(move |r| {
            if r.is_ok() {
                for c in &conns {
                    c.frame(&left);
                }
            }
        });
    }

    /// A manager (of the chat's group) or an admin moves a chat to a group.
    pub(super) fn bulk_move(
        &mut self,
        actor: &Staff,
        id: ChatId,
        group: crate::domain::GroupId,
    ) -> Result<(), AppError> {
        let actor = &self.current_actor(actor)?;
        let live = self.chats.get(&id).ok_or_else(|| AppError::NotFound {
            code: "chat_not_found",
            message: format!("chat {id} is not open"),
        })?;
        if !permissions::supervise_chats(actor, live.chat.group) {
            return Err(AppError::Forbidden(
                "only admins and managers of the chat's group can transfer it".into(),
            ));
        }
        let reason = self
            .wrap_up_reason("Transferred")
            .unwrap_or_else(|_| "Transferred".to_string());
        self.move_to_group(id, group, actor.id, &actor.display_name, reason)
    }

    pub(super) fn monitor(&mut self, actor: &Staff, id: ChatId, on: bool) -> Result<(), AppError> {
        let actor = &self.current_actor(actor)?;
        let live = self.chats.get(&id).ok_or_else(|| AppError::NotFound {
            code: "chat_not_found",
            message: "chat not open".into(),
        })?;
        if on && !permissions::supervise_chats(actor, live.chat.group) {
            return Err(AppError::Forbidden(
                "only admins and managers of the chat's group can monitor it".into(),
            ));
        }
        if !self.agents.contains_key(&actor.id) {
            return Err(AppError::Forbidden("connect to the desk first".into()));
        }
        let last_seq = live.chat.last_seq;
        let chat = self.agent_chat(&live.chat);
        if let Some(live) = self.chats.get_mut(&id) {
            live.monitors.retain(|m| *m != actor.id);
            if on {
                live.monitors.push(actor.id);
            }
        }
        if let Some(a) = self.agents.get_mut(&actor.id) {
            if on {
                a.monitoring.insert(id);
                let joined = Out::joined(id, last_seq, ServerFrame::ChatJoined { chat }.json());
                for c in &a.conns {
                    c.push(joined.clone());
                }
            } else {
                a.monitoring.remove(&id);
                a.send(&ServerFrame::ChatLeft { chat_id: id }.json());
            }
        }
        Ok(())
    }
}
