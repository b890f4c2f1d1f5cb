//! The owner task's state: agents with their presence, connections, chats
//! and offers; each group's queue; the open chats. This file holds the
//! presence side (attach, status, routing, offers, RONA); `chats.rs` the
//! chat side (start, messages, accept, end).

use super::conn::{Conn, ConnId, Out};
use super::frames::{ChatView, QueueEntry, ServerFrame, StaffRef};
use super::{Command, Delivery};
use crate::config::ChatConfig;
use crate::domain::chat::{Chat, ChatState};
use crate::domain::masking::mask;
use crate::domain::routing::{self, Candidate};
use crate::domain::status::{self, Presence, Status, StatusEvent};
use crate::domain::{ChatId, Group, GroupId, Millis, Role, Routing, SharedClock, Staff, StaffId};
use crate::error::AppError;
use crate::store::{Store, StoreError, TokenHash};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Queue order: re-queued chats first, then by time queued.
pub(super) type QueueKey = (u8, Millis, ChatId);

/// A staff member known to the live desk.
pub(super) struct Agent {
    pub staff: Staff,
    pub presence: Presence,
    pub conns: Vec<Conn>,
    pub chats: BTreeSet<ChatId>,
    pub offers: BTreeSet<ChatId>,
    /// Chats joined by invitation (not counted toward the limit).
    pub conferences: BTreeSet<ChatId>,
    /// Chats watched as a monitor.
    pub monitoring: BTreeSet<ChatId>,
    pub last_offer_at: Millis,
    /// Since when the agent has had no connection (grace period running).
    pub disconnected_at: Option<Millis>,
}

impl Agent {
    fn new(staff: Staff) -> Self {
        Self {
            staff,
            presence: Presence::OFFLINE,
            conns: Vec::new(),
            chats: BTreeSet::new(),
            offers: BTreeSet::new(),
            conferences: BTreeSet::new(),
            monitoring: BTreeSet::new(),
            last_offer_at: 0,
            disconnected_at: None,
        }
    }
    pub fn load(&self) -> u32 {
        (self.chats.len() + self.offers.len()) as u32
    }
    fn at_limit(&self) -> bool {
        self.load() >= self.staff.max_concurrent_chats
    }
    pub fn send(&self, json: &Arc<str>) {
        for c in &self.conns {
            c.frame(json);
        }
    }
    fn eligible_for(&self, group: GroupId) -> bool {
        self.staff.chat_enabled
            && !self.staff.disabled
            && self.staff.in_group(group)
            && self.presence.takes_offers()
            && !self.conns.is_empty()
            && !self.at_limit()
    }
}

/// A group's live queue.
pub(super) struct GroupLive {
    pub group: Group,
    pub queue: BTreeSet<QueueKey>,
    pub last_round_robin: Option<StaffId>,
    /// Moving average of time to answer, for the visitors' estimate.
    pub avg_wait_ms: u64,
}

/// An open chat.
pub(super) struct LiveChat {
    pub chat: Chat,
    /// Offered to, and the deadline.
    pub offer: Option<(StaffId, Millis)>,
    /// The last agent who declined or timed out: not offered it again next.
    pub last_refused: Option<StaffId>,
    pub visitors: Vec<Conn>,
    /// Managers and admins watching, unseen by the visitor.
    pub monitors: Vec<StaffId>,
    /// A transfer or conference request awaiting its receiver.
    pub pending: Option<Pending>,
}

/// What a pending request asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PendingKind {
    /// Take the chat over; the reason is the requester's wrap-up.
    Transfer(String),
    /// Join the chat.
    Conference,
}

/// A transfer or conference request.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub kind: PendingKind,
    pub from: StaffId,
    pub to: StaffId,
    pub deadline: Millis,
}

impl PendingKind {
    pub fn name(&self) -> &'static str {
        match self {
            PendingKind::Transfer(_) => "transfer",
            PendingKind::Conference => "conference",
        }
    }
}

impl LiveChat {
    pub fn queue_key(&self) -> QueueKey {
        (
            u8::from(!self.chat.requeued),
            self.chat.queued_at,
            self.chat.id,
        )
    }
}

/// All live state; owned by one task.
pub(super) struct Core {
    pub store: Arc<Store>,
    pub clock: SharedClock,
    pub config: ChatConfig,
    pub deliver: mpsc::UnboundedSender<Delivery>,
    pub agents: HashMap<StaffId, Agent>,
    pub groups: HashMap<GroupId, GroupLive>,
    pub chats: HashMap<ChatId, LiveChat>,
    /// Groups whose queue changed since it was last published.
    pub dirty: BTreeSet<GroupId>,
    /// Reasons an agent may give when ending or transferring a chat.
    pub wrap_up_reasons: Vec<String>,
}

fn refused(message: impl Into<String>) -> AppError {
    AppError::Forbidden(message.into())
}

impl Core {
    /// Rebuilds from the store: waiting and offered chats wait again in
    /// their order, active chats keep their owner.
    pub fn rebuild(
        store: Arc<Store>,
        clock: SharedClock,
        config: ChatConfig,
        deliver: mpsc::UnboundedSender<Delivery>,
    ) -> Result<Self, StoreError> {
        let mut core = Core {
            store,
            clock,
            config,
            deliver,
            agents: HashMap::new(),
            groups: HashMap::new(),
            chats: HashMap::new(),
            dirty: BTreeSet::new(),
            wrap_up_reasons: Vec::new(),
        };
        core.wrap_up_reasons = core.store.wrap_up_reasons()?;
        for mut chat in core.store.open_chats()? {
            let _ = core.ensure_group(chat.group);
            let owner = chat.owner.filter(|_| chat.state == ChatState::Active);
            if chat.state == ChatState::Offered {
                chat.state = ChatState::Waiting;
            }
            let id = chat.id;
            for member in chat.conference.clone() {
                if let Some(row) = core.store.staff(member)? {
                    let agent = core
                        .agents
                        .entry(member)
                        .or_insert_with(|| Agent::new(row.staff));
                    agent.conferences.insert(chat.id);
                }
            }
            let live = LiveChat {
                chat,
                offer: None,
                last_refused: None,
                visitors: Vec::new(),
                monitors: Vec::new(),
                pending: None,
            };
            let started = core.now();
            match owner {
                Some(owner) => {
                    if let Some(row) = core.store.staff(owner)? {
                        // The owner gets the grace period to reconnect.
                        let agent = core
                            .agents
                            .entry(owner)
                            .or_insert_with(|| Agent::new(row.staff));
                        agent.chats.insert(id);
                        agent.disconnected_at = Some(started);
                    }
                }
                None => {
                    if let Some(g) = core.groups.get_mut(&live.chat.group) {
                        g.queue.insert(live.queue_key());
                    }
                }
            }
            core.chats.insert(id, live);
        }
        Ok(core)
    }

    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        self.handle(cmd);
                        // Queue views go out once a burst of commands is
                        // handled: at once when idle, coalesced under load.
                        if rx.is_empty() {
                            self.publish_dirty();
                        }
                    }
                    None => break,
                },
                _ = shutdown.changed() => break,
            }
        }
        // Dropping the state closes the deliverer's channel: it finishes
        // what is queued and ends.
    }

    /// Handles one command and publishes queues, as the owner task does
    /// after a burst (for the property test, which drives the state directly).
    #[cfg(test)]
    pub fn handle_for_test(&mut self, cmd: Command) {
        self.handle(cmd);
        self.publish_dirty();
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::StartChat(req, reply) => self.start_chat(req, reply),
            Command::AttachVisitor(chat, conn, reply) => {
                let _ = reply.send(self.attach_visitor(chat, conn));
            }
            Command::DetachVisitor(chat, conn) => {
                if let Some(live) = self.chats.get_mut(&chat) {
                    live.visitors.retain(|c| c.id != conn);
                }
            }
            Command::VisitorMessage {
                chat,
                conn,
                client_id,
                body,
            } => self.visitor_message(chat, conn, client_id, body),
            Command::VisitorTyping(chat, text) => self.visitor_typing(chat, text),
            Command::VisitorEnd(chat) => self.visitor_end(chat),
            Command::AttachAgent(staff, conn) => self.attach_agent(staff, conn),
            Command::DetachAgent(staff, conn) => self.detach_agent(staff, conn),
            Command::SetStatus {
                actor,
                target,
                status,
                reply,
            } => {
                let _ = reply.send(self.set_status(&actor, target, status));
            }
            Command::Accept(agent, chat, reply) => self.accept(agent, chat, reply),
            Command::Decline(agent, chat, reply) => {
                let r = if self.pending_for(agent, chat) {
                    self.drop_pending(chat, "declined");
                    Ok(())
                } else {
                    self.decline(agent, chat)
                };
                let _ = reply.send(r);
            }
            Command::AgentMessage {
                agent,
                chat,
                conn,
                client_id,
                body,
                whisper,
            } => self.agent_message(agent, chat, conn, client_id, body, whisper),
            Command::AgentTyping(agent, chat, on) => self.agent_typing(agent, chat, on),
            Command::EndChat(agent, chat, reason, reply) => {
                self.end_chat(agent, chat, reason, reply)
            }
            Command::WrapUp(agent, chat, reason, reply) => self.wrap_up(agent, chat, reason, reply),
            Command::Transfer {
                agent,
                chat,
                to,
                wrap_up,
                reply,
            } => {
                let r = self.transfer(agent, chat, to, wrap_up);
                self.reply_after_durable(reply, r);
            }
            Command::Invite(agent, chat, to, reply) => {
                let r = self.invite(agent, chat, to);
                let _ = reply.send(r);
            }
            Command::Leave(agent, chat, reply) => {
                let r = self.leave(agent, chat);
                self.reply_after_durable(reply, r);
            }
            Command::Monitor {
                actor,
                chat,
                on,
                reply,
            } => {
                let _ = reply.send(self.monitor(&actor, chat, on));
            }
            Command::MoveToGroup {
                actor,
                chat,
                group,
                reply,
            } => {
                let r = self.bulk_move(&actor, chat, group);
                self.reply_after_durable(reply, r);
            }
            Command::StaffChanged(staff) => self.staff_changed(staff),
            Command::SessionsEnded(staff, keep) => self.sessions_ended(staff, keep),
            Command::SessionClosed(staff, session) => {
                if let Some(a) = self.agents.get_mut(&staff) {
                    a.conns.retain(|c| {
                        let closing = c.session == Some(session);
                        if closing {
                            c.push(Out::Close(1008, "signed out"));
                        }
                        !closing
                    });
                }
            }
            Command::GroupChanged(group) => self.group_changed(group),
            Command::WrapUpReasonsChanged(reasons) => self.wrap_up_reasons = reasons,
            Command::Tick(done) => {
                self.tick();
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        }
    }

    /// The listed wrap-up reason matching `given` (case-insensitively).
    pub fn wrap_up_reason(&self, given: &str) -> Result<String, AppError> {
        let given = given.trim();
        self.wrap_up_reasons
            .iter()
            .find(|r| r.eq_ignore_ascii_case(given))
            .cloned()
            .ok_or_else(|| AppError::BadRequest {
                code: "unknown_wrap_up",
                message: format!(
                    "choose a wrap-up reason from the list: {}",
                    self.wrap_up_reasons.join(", ")
                ),
            })
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Runs `then` once everything written so far is durable.
    pub fn after_durable(&self, then: impl FnOnce(Result<(), StoreError>) + Send + 'static) {
        let ticket = self.store.commit_ticket();
        let _ = self.deliver.send(Delivery {
            ticket,
            then: Box::new(then),
        });
    }

    /// Loads a group into the live state if needed.
    pub fn ensure_group(&mut self, id: GroupId) -> Result<(), AppError> {
        if self.groups.contains_key(&id) {
            return Ok(());
        }
        let group = self.store.group(id)?.ok_or(StoreError::GroupNotFound(id))?;
        self.groups.insert(
            id,
            GroupLive {
                group,
                queue: BTreeSet::new(),
                last_round_robin: None,
                avg_wait_ms: 60_000,
            },
        );
        Ok(())
    }

    /// A chat as an agent may see it: the visitor's email masked when
    /// masking is on.
    pub fn agent_chat(&self, chat: &Chat) -> Chat {
        let mut c = chat.clone();
        if self.config.mask_pii {
            c.visitor.email = c.visitor.email.as_deref().map(mask);
            c.visitor.name = mask(&c.visitor.name);
        }
        c
    }

    fn chat_view(&self, id: ChatId, for_agent: StaffId) -> Option<ChatView> {
        let live = self.chats.get(&id)?;
        Some(ChatView {
            chat: self.agent_chat(&live.chat),
            offer_expires_at: live.offer.filter(|(a, _)| *a == for_agent).map(|(_, d)| d),
        })
    }

    // ---- agents and presence ----

    fn attach_agent(&mut self, staff: Staff, conn: Conn) {
        let id = staff.id;
        let agent = self
            .agents
            .entry(id)
            .or_insert_with(|| Agent::new(staff.clone()));
        agent.staff = staff.clone();
        agent.conns.push(conn.clone());
        agent.disconnected_at = None;
        let (chats, offers): (Vec<ChatId>, Vec<ChatId>) = (
            agent
                .chats
                .iter()
                .chain(&agent.conferences)
                .copied()
                .collect(),
            agent.offers.iter().copied().collect(),
        );
        let status = agent.presence.status;
        let hello = ServerFrame::Hello {
            staff: staff.clone(),
            status,
            chats: chats
                .iter()
                .filter_map(|c| self.chat_view(*c, id))
                .collect(),
            offers: offers
                .iter()
                .filter_map(|c| self.chat_view(*c, id))
                .collect(),
        };
        conn.frame(&hello.json());
        for g in &staff.groups {
            if self.ensure_group(*g).is_ok() {
                if let Some(view) = self.queue_view(*g) {
                    conn.frame(&view);
                }
            }
        }
        self.route_groups_of(id);
    }

    fn detach_agent(&mut self, id: StaffId, conn: ConnId) {
        let now = self.now();
        if let Some(a) = self.agents.get_mut(&id) {
            a.conns.retain(|c| c.id != conn);
            if a.conns.is_empty() {
                a.disconnected_at = Some(now);
            }
        }
    }

    fn set_status(
        &mut self,
        actor: &Staff,
        target: StaffId,
        status: Status,
    ) -> Result<Status, AppError> {
        if !self.agents.contains_key(&target) {
            let row = self.store.staff(target)?.ok_or(StoreError::StaffNotFound)?;
            self.agents.insert(target, Agent::new(row.staff));
        }
        let agent = self.agents.get(&target).ok_or(StoreError::StaffNotFound)?;
        let allowed = actor.id == target
            || actor.role.is_admin()
            || (actor.role == Role::Manager && actor.shares_group_with(&agent.staff));
        if !allowed {
            return Err(refused(
                "only the agent, a manager of their group or an admin can change their status",
            ));
        }
        let next = status::apply(
            agent.presence,
            StatusEvent::Set(status),
            agent.staff.chat_enabled,
        )
        .map_err(|r| AppError::BadRequest {
            code: "status_refused",
            message: r.0.to_string(),
        })?;
        let next = status::settle(next, agent.at_limit());
        let by = (actor.id != target).then(|| StaffRef {
            id: actor.id,
            name: actor.display_name.clone(),
        });
        if let Some(a) = self.agents.get_mut(&target) {
            a.presence = next;
            a.send(
                &ServerFrame::Status {
                    status: next.status,
                    by,
                }
                .json(),
            );
        }
        self.route_groups_of(target);
        Ok(next.status)
    }

    /// Re-applies the limit rule to an agent and tells them if it changed.
    pub fn settle(&mut self, id: StaffId) {
        if let Some(a) = self.agents.get_mut(&id) {
            let next = status::settle(a.presence, a.at_limit());
            if next != a.presence {
                a.presence = next;
                a.send(
                    &ServerFrame::Status {
                        status: next.status,
                        by: None,
                    }
                    .json(),
                );
            }
        }
    }

    fn staff_changed(&mut self, staff: Staff) {
        let id = staff.id;
        let Some(a) = self.agents.get_mut(&id) else {
            return;
        };
        let mut groups: Vec<GroupId> = a.staff.groups.clone();
        groups.extend(staff.groups.iter().copied());
        a.staff = staff;
        if a.staff.disabled {
            for c in a.conns.drain(..) {
                c.push(Out::Close(1008, "account disabled"));
            }
            a.presence = Presence::OFFLINE;
        } else if !a.staff.chat_enabled
            && matches!(a.presence.status, Status::Available | Status::Busy)
        {
            a.presence = Presence::OFFLINE;
            a.send(
                &ServerFrame::Status {
                    status: Status::Offline,
                    by: None,
                }
                .json(),
            );
        }
        self.settle(id);
        for g in groups {
            self.route(g);
        }
    }

    fn sessions_ended(&mut self, id: StaffId, keep: Option<TokenHash>) {
        if let Some(a) = self.agents.get_mut(&id) {
            a.conns.retain(|c| {
                let stays = keep.is_some() && c.session == keep;
                if !stays {
                    c.push(Out::Close(1008, "session ended; sign in again"));
                }
                stays
            });
        }
    }

    fn group_changed(&mut self, id: GroupId) {
        match self.store.group(id) {
            Ok(Some(group)) => {
                if let Some(g) = self.groups.get_mut(&id) {
                    g.group = group;
                }
                self.route(id);
            }
            Ok(None) => {
                self.groups.remove(&id);
            }
            Err(e) => tracing::warn!(error = %e, "could not reload a changed group"),
        }
    }

    // ---- routing, offers, RONA ----

    pub fn route_groups_of(&mut self, id: StaffId) {
        let groups = self
            .agents
            .get(&id)
            .map(|a| a.staff.groups.clone())
            .unwrap_or_default();
        for g in groups {
            self.route(g);
        }
    }

    /// Offers waiting chats of `group`, oldest first, while eligible agents
    /// have free slots (work-conserving), then publishes the queue.
    pub fn route(&mut self, group: GroupId) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        let strategy = g.group.routing;
        if strategy != Routing::Manual {
            let waiting: Vec<ChatId> = g.queue.iter().map(|k| k.2).collect();
            for chat_id in waiting {
                let refused = self.chats.get(&chat_id).and_then(|c| c.last_refused);
                let candidates: Vec<Candidate> = self
                    .agents
                    .values()
                    .filter(|a| a.eligible_for(group) && Some(a.staff.id) != refused)
                    .map(|a| Candidate {
                        id: a.staff.id,
                        load: a.load(),
                        last_offer_at: a.last_offer_at,
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let last = self.groups.get(&group).and_then(|g| g.last_round_robin);
                if let Some(pick) = routing::choose(strategy, &candidates, last) {
                    self.offer(group, chat_id, pick);
                }
            }
        }
        self.publish_queue(group);
    }

    fn offer(&mut self, group: GroupId, chat_id: ChatId, agent_id: StaffId) {
        let now = self.now();
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let deadline = now + u64::from(g.group.rona_timeout_secs) * 1000;
        let Some(live) = self.chats.get_mut(&chat_id) else {
            return;
        };
        g.queue.remove(&live.queue_key());
        g.last_round_robin = Some(agent_id);
        live.chat.state = ChatState::Offered;
        live.offer = Some((agent_id, deadline));
        if let Some(a) = self.agents.get_mut(&agent_id) {
            a.offers.insert(chat_id);
            a.last_offer_at = now;
        }
        if let Some(view) = self.chat_view(chat_id, agent_id) {
            if let Some(a) = self.agents.get(&agent_id) {
                a.send(&ServerFrame::Offer { chat: view }.json());
            }
        }
        self.settle(agent_id);
    }

    /// Takes an offer back: the chat waits again in its old place.
    pub fn withdraw_offer(&mut self, chat_id: ChatId, reason: &'static str) -> Option<StaffId> {
        let live = self.chats.get_mut(&chat_id)?;
        let (agent_id, _) = live.offer.take()?;
        live.chat.state = ChatState::Waiting;
        let key = live.queue_key();
        let group = live.chat.group;
        // A timed-out or declined offer waits again in its place; a chat
        // the visitor left or that moves elsewhere does not.
        if reason == "timeout" || reason == "declined" {
            live.last_refused = Some(agent_id);
            if let Some(g) = self.groups.get_mut(&group) {
                g.queue.insert(key);
            }
        }
        if let Some(a) = self.agents.get_mut(&agent_id) {
            a.offers.remove(&chat_id);
            a.send(&ServerFrame::OfferWithdrawn { chat_id, reason }.json());
        }
        self.settle(agent_id);
        Some(agent_id)
    }

    fn decline(&mut self, agent: StaffId, chat: ChatId) -> Result<(), AppError> {
        let offered_to = self.chats.get(&chat).and_then(|c| c.offer).map(|(a, _)| a);
        if offered_to != Some(agent) {
            return Err(AppError::Conflict {
                code: "not_offered",
                message: "this chat is not offered to you (any more)".into(),
            });
        }
        self.withdraw_offer(chat, "declined");
        if let Some(g) = self.chats.get(&chat).map(|c| c.chat.group) {
            self.route(g);
        }
        // The freed slot may serve a chat of another of the agent's groups.
        self.route_groups_of(agent);
        Ok(())
    }

    /// Deadlines: offers not accepted in time make the agent `rona` and go
    /// to the next eligible agent.
    fn tick(&mut self) {
        let now = self.now();
        let expired: Vec<(ChatId, StaffId, GroupId)> = self
            .chats
            .values()
            .filter_map(|c| match c.offer {
                Some((agent, deadline)) if deadline <= now => {
                    Some((c.chat.id, agent, c.chat.group))
                }
                _ => None,
            })
            .collect();
        let grace = self.config.reconnect_grace.as_millis() as u64;
        let lost: Vec<StaffId> = self
            .agents
            .values()
            .filter(|a| a.disconnected_at.is_some_and(|t| t + grace <= now) && !a.chats.is_empty())
            .map(|a| a.staff.id)
            .collect();
        for agent in lost {
            self.requeue_chats_of(agent);
        }
        let idle = self.config.idle_close.as_millis() as u64;
        let idle_chats: Vec<ChatId> = self
            .chats
            .values()
            .filter(|c| c.chat.state == ChatState::Active)
            .filter(|c| {
                let last = c
                    .chat
                    .visitor_active_at
                    .max(c.chat.agent_active_at)
                    .max(c.chat.answered_at.unwrap_or(0));
                last + idle <= now
            })
            .map(|c| c.chat.id)
            .collect();
        for chat in idle_chats {
            self.close_idle(chat);
        }
        let dropped: Vec<ChatId> = self
            .chats
            .values()
            .filter(|c| c.pending.as_ref().is_some_and(|p| p.deadline <= now))
            .map(|c| c.chat.id)
            .collect();
        for chat in dropped {
            self.drop_pending(chat, "timeout");
        }
        for (chat, agent, group) in expired {
            if let Some(a) = self.agents.get_mut(&agent) {
                if let Ok(next) =
                    status::apply(a.presence, StatusEvent::OfferTimedOut, a.staff.chat_enabled)
                {
                    if next != a.presence {
                        a.presence = next;
                        a.send(
                            &ServerFrame::Status {
                                status: next.status,
                                by: None,
                            }
                            .json(),
                        );
                    }
                }
            }
            self.withdraw_offer(chat, "timeout");
            self.route(group);
        }
    }

    // ---- queue views ----

    fn queue_view(&self, group: GroupId) -> Option<Arc<str>> {
        let g = self.groups.get(&group)?;
        let entry = |c: &LiveChat| QueueEntry {
            id: c.chat.id,
            visitor: if self.config.mask_pii {
                mask(&c.chat.visitor.name)
            } else {
                c.chat.visitor.name.clone()
            },
            queued_at: c.chat.queued_at,
            requeued: c.chat.requeued,
            offered_to: c.offer.map(|(a, _)| a),
        };
        let waiting = g
            .queue
            .iter()
            .filter_map(|k| self.chats.get(&k.2))
            .map(entry)
            .collect();
        let mut unanswered: Vec<QueueEntry> = self
            .chats
            .values()
            .filter(|c| c.chat.group == group && c.offer.is_some())
            .map(entry)
            .collect();
        unanswered.sort_by_key(|e| (e.queued_at, e.id));
        let mut answered: Vec<QueueEntry> = self
            .chats
            .values()
            .filter(|c| c.chat.group == group && c.chat.state == ChatState::Active)
            .map(|c| QueueEntry {
                offered_to: c.chat.owner,
                ..entry(c)
            })
            .collect();
        answered.sort_by_key(|e| (e.queued_at, e.id));
        Some(
            ServerFrame::QueueView {
                group,
                waiting,
                unanswered,
                answered,
            }
            .json(),
        )
    }

    /// Marks a group's queue as changed; see [`Core::publish_dirty`].
    pub fn publish_queue(&mut self, group: GroupId) {
        self.dirty.insert(group);
    }

    /// Publishes every changed queue.
    pub fn publish_dirty(&mut self) {
        for group in std::mem::take(&mut self.dirty) {
            self.publish_now(group);
        }
    }

    /// Tells waiting visitors their place and the group's agents the queue.
    fn publish_now(&mut self, group: GroupId) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        let waiting = g.queue.len();
        let avg = g.avg_wait_ms;
        for (i, key) in g.queue.iter().enumerate() {
            if let Some(live) = self.chats.get(&key.2) {
                let frame = ServerFrame::Queue {
                    position: i + 1,
                    waiting,
                    estimated_wait_secs: avg * (i as u64 + 1) / 1000,
                }
                .json();
                for c in &live.visitors {
                    c.frame(&frame);
                }
            }
        }
        if let Some(view) = self.queue_view(group) {
            for a in self.agents.values().filter(|a| a.staff.in_group(group)) {
                a.send(&view);
            }
        }
    }
}
