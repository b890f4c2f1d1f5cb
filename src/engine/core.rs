//! The owner task's state: agents with their presence, connections, chats
//! and offers; each group's queue; the open chats. This file holds the
//! state, its rebuild from the store, and the command dispatch; the
//! handling lives in `presence.rs`, `routing.rs`, `chats.rs`,
//! `messages.rs` and `handoff.rs`.

use super::conn::{Conn, Out};
use super::frames::ChatView;
use super::{Command, Delivery};
use crate::config::ChatConfig;
use crate::domain::chat::{Chat, ChatState};
use crate::domain::status::Presence;
use crate::domain::{ChatId, Group, GroupId, Millis, SharedClock, Staff, StaffId};
use crate::error::AppError;
use crate::store::{Store, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Queue views are published at most this often (and on every tick).
const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Waiting visitors hear their place at most this often.
const POSITIONS_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);

/// Chat records behind their messages are rewritten at most this often.
const RECORDS_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);

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
    pub(super) fn new(staff: Staff) -> Self {
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
    pub(super) fn at_limit(&self) -> bool {
        self.load() >= self.staff.max_concurrent_chats
    }
    pub fn send(&self, json: &Arc<str>) {
        for c in &self.conns {
            c.frame(json);
        }
    }
    pub(super) fn eligible_for(&self, group: GroupId) -> bool {
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
    /// Groups whose waiting visitors are due their new place.
    pub positions_due: BTreeSet<GroupId>,
    /// Reasons an agent may give when ending or transferring a chat.
    pub wrap_up_reasons: Vec<String>,
    /// Those of them whose chats become tickets.
    pub ticket_reasons: Vec<String>,
    /// Chats whose stored record lags their messages (seq, activity).
    pub stale_records: BTreeSet<ChatId>,
    /// The shifts.
    pub schedule: crate::domain::shift::Schedule,
    /// Agents whose own or a manager's choice holds until then.
    pub overrides: HashMap<StaffId, Millis>,
    /// When the schedule next turns for anyone.
    pub next_boundary: Option<Millis>,
    /// Each group's business hours as of the last boundary: open, and when
    /// it opens next while closed (the roster shows them).
    pub hours_now: HashMap<GroupId, (bool, Option<Millis>)>,
    /// The config file's schedule.
    pub config_schedule: crate::config::ScheduleConfig,
    /// The roster as last sent.
    pub roster_sent: Option<(
        Vec<super::roster::RosterEntry>,
        Vec<super::roster::RosterGroup>,
    )>,
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
            positions_due: BTreeSet::new(),
            wrap_up_reasons: Vec::new(),
            ticket_reasons: Vec::new(),
            stale_records: BTreeSet::new(),
            schedule: Default::default(),
            overrides: HashMap::new(),
            next_boundary: None,
            roster_sent: None,
            hours_now: HashMap::new(),
            config_schedule: Default::default(),
        };
        core.wrap_up_reasons = core.store.wrap_up_reasons()?;
        core.ticket_reasons = core.store.ticket_reasons()?;
        // Every group and everyone is on the roster, connected or not.
        for group in core.store.list_groups()? {
            let _ = core.ensure_group(group.id);
        }
        for row in core.store.list_staff()? {
            core.agents.insert(row.staff.id, Agent::new(row.staff));
        }
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
        core.load_schedule();
        Ok(core)
    }

    /// Commands handled in one store transaction at most.
    pub(super) const BURST: usize = 1024;

    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut last_publish = std::time::Instant::now();
        let mut last_positions = std::time::Instant::now();
        let mut last_records = std::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        // What is queued is handled in one store
                        // transaction: one commit for the burst.
                        let mut tick = false;
                        let store = self.store.clone();
                        let handled = store.burst(|| {
                            let mut next = Some(cmd);
                            let mut n = 0;
                            while let Some(cmd) = next.take() {
                                tick |= matches!(cmd, Command::Tick(_));
                                self.handle(cmd);
                                n += 1;
                                if n < Self::BURST {
                                    next = rx.try_recv().ok();
                                }
                            }
                        });
                        if let Err(e) = handled {
                            tracing::error!(error = %e, "the engine's writes of a burst of commands were not made");
                        }
                        // Queue views list whole queues, so they go out at
                        // most every PUBLISH_EVERY (real time) and on each
                        // tick, not after every change.
                        // The throttle counts only publishes that sent
                        // something: a lone change after a quiet spell goes
                        // out at once, not at the next tick.
                        let due = tick || (rx.is_empty() && last_publish.elapsed() >= PUBLISH_EVERY);
                        if due && !self.dirty.is_empty() {
                            self.publish_dirty();
                            last_publish = std::time::Instant::now();
                        }
                        if last_positions.elapsed() >= POSITIONS_EVERY {
                            self.publish_positions();
                            last_positions = std::time::Instant::now();
                        }
                        if last_records.elapsed() >= RECORDS_EVERY {
                            self.write_stale_records();
                            last_records = std::time::Instant::now();
                        }
                    }
                    None => break,
                },
                _ = shutdown.changed() => break,
            }
        }
        self.write_stale_records();
        // Dropping the state closes the deliverer's channel: it finishes
        // what is queued and ends.
    }

    /// Brings the stored records of chats that had messages up to date
    /// (seq and activity, which lists sort by): once a second, not once
    /// per message. A crash loses at most that second of activity; the
    /// seq is mended from the messages at start-up.
    pub(super) fn write_stale_records(&mut self) {
        let store = self.store.clone();
        let written = store.burst(|| {
            for id in std::mem::take(&mut self.stale_records) {
                let Some(live) = self.chats.get(&id) else {
                    continue;
                };
                if let Err(e) = self.store.put_chat_record(&live.chat) {
                    tracing::warn!(chat = %id, error = %e, "a chat's activity could not be stored; retrying");
                    self.stale_records.insert(id);
                }
            }
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "the chats' activity could not be stored; retrying");
            self.stale_records.extend(self.chats.keys().copied());
        }
    }

    /// Handles one command and publishes queues, as the owner task does
    /// after a burst (for the property test, which drives the state directly).
    #[cfg(test)]
    pub fn handle_for_test(&mut self, cmd: Command) {
        self.handle(cmd);
        self.publish_dirty();
        self.publish_positions();
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
            Command::ScheduleChanged => self.load_schedule(),
            Command::ConfigSchedule(cfg) => {
                self.config_schedule = cfg;
                self.load_schedule();
            }
            Command::TakesChats(group, reply) => {
                let note = self
                    .schedule
                    .closed_note(group, self.now())
                    .map(|n| n.unwrap_or_default().to_string());
                let open = self.takes_chats(group).map_err(AppError::from);
                let _ = reply.send(open.map(|o| (o, note)));
            }
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
            Command::StaffChanged(staff) => {
                self.staff_changed(staff);
                // The file's shifts name staff by email: a new or renamed
                // account may now match one.
                if !self.config_schedule.shifts.is_empty() {
                    self.load_schedule();
                }
            }
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
            Command::GroupChanged(group, by) => {
                self.group_changed(group, by);
                if self.config_schedule != crate::config::ScheduleConfig::default() {
                    self.load_schedule();
                }
            }
            Command::DeleteGroup(group, reply) => {
                let _ = reply.send(self.delete_group(group));
            }
            Command::WrapUpReasonsChanged(reasons, tickets) => {
                self.wrap_up_reasons = reasons;
                self.ticket_reasons = tickets;
            }
            Command::Tick(done) => {
                self.tick();
                self.schedule_tick();
                self.publish_roster(None);
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        }
    }

    /// The listed wrap-up reason matching `given` (case-insensitively).
    pub fn wrap_up_reason(&self, given: &str) -> Result<String, AppError> {
        let given = given.trim();
        if given.is_empty() {
            return Err(AppError::BadRequest {
                code: "wrap_up_required",
                message: format!(
                    "give a wrap-up reason from the list: {}",
                    self.wrap_up_reasons.join(", ")
                ),
            });
        }
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

    /// The actor of a staff command as the store has them now. A socket
    /// keeps the `Staff` it signed in with, so rights are checked against
    /// the stored record: a demotion, a removal from a group or a disabled
    /// account counts from the next command on, not from the next sign-in.
    pub fn current_actor(&self, actor: &Staff) -> Result<Staff, AppError> {
        match self.store.staff(actor.id)? {
            Some(row) if !row.staff.disabled => Ok(row.staff),
            _ => Err(AppError::Forbidden(
                "your account is disabled or was removed; sign in again".into(),
            )),
        }
    }

    /// A staff member's display name (from the store when not live).
    pub fn display_name(&self, id: StaffId) -> Option<String> {
        self.agents
            .get(&id)
            .map(|a| a.staff.display_name.clone())
            .or_else(|| {
                self.store
                    .staff(id)
                    .ok()
                    .flatten()
                    .map(|r| r.staff.display_name)
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

    /// A chat as staff see it ([`crate::domain::masking::StaffView`]).
    pub fn agent_chat(&self, chat: &Chat) -> Chat {
        self.config.staff_view().chat(chat.clone())
    }

    pub(super) fn chat_view(&self, id: ChatId, for_agent: StaffId) -> Option<ChatView> {
        let live = self.chats.get(&id)?;
        Some(ChatView {
            chat: self.agent_chat(&live.chat),
            offer_expires_at: live.offer.filter(|(a, _)| *a == for_agent).map(|(_, d)| d),
            question: self.question(id),
        })
    }

    /// A chat's first message as staff see it.
    pub(super) fn question(&self, id: ChatId) -> Option<String> {
        let first = self
            .store
            .messages_after(id, 0, 1)
            .ok()?
            .into_iter()
            .next()?;
        (first.kind == crate::domain::chat::MessageKind::Visitor)
            .then(|| self.config.staff_view().text(&first.body))
    }
}
