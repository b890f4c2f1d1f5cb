//! Routing in the owner task: offering waiting chats to eligible agents
//! (oldest first, re-queued first, work-conserving), taking offers back,
//! declines, the deadlines of offers and requests (RONA), lost agents and
//! idle chats, and publishing each group's queue.

use super::conn::Slot;
use super::core::{Core, LiveChat, QueueKey};
use super::frames::{QueueEntry, ServerFrame, VIEW_LIMIT};
use crate::domain::chat::ChatState;
use crate::domain::routing::{self, Candidate};
use crate::domain::status::{self, StatusEvent};
use crate::domain::{ChatId, GroupId, Routing, StaffId};
use crate::error::AppError;
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::Arc;

impl Core {
    pub(super) fn route_groups_of(&mut self, id: StaffId) {
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
    pub(super) fn route(&mut self, group: GroupId) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        let strategy = g.group.routing;
        // Oldest first, and only as far as some agent has a free slot: with
        // thousands waiting and everyone busy, a new chat costs one look.
        let mut after: Option<QueueKey> = None;
        if strategy != Routing::Manual {
            while let Some(g) = self.groups.get(&group) {
                let next = match &after {
                    None => g.queue.iter().next(),
                    Some(k) => g.queue.range((Excluded(k), Unbounded)).next(),
                };
                let Some(key) = next.copied() else {
                    break;
                };
                after = Some(key);
                let chat_id = key.2;
                let refused = self.chats.get(&chat_id).and_then(|c| c.last_refused);
                let eligible: Vec<Candidate> = self
                    .agents
                    .values()
                    .filter(|a| a.eligible_for(group))
                    .map(|a| Candidate {
                        id: a.staff.id,
                        load: a.load(),
                        last_offer_at: a.last_offer_at,
                    })
                    .collect();
                if eligible.is_empty() {
                    break;
                }
                let candidates: Vec<Candidate> = eligible
                    .into_iter()
                    .filter(|c| Some(c.id) != refused)
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

    pub(super) fn offer(&mut self, group: GroupId, chat_id: ChatId, agent_id: StaffId) {
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
    pub(super) fn withdraw_offer(
        &mut self,
        chat_id: ChatId,
        reason: &'static str,
    ) -> Option<StaffId> {
        let live = self.chats.get_mut(&chat_id)?;
        let (agent_id, _) = live.offer.take()?;
        live.chat.state = ChatState::Waiting;
        let key = live.queue_key();
        let group = live.chat.group;
        // A timed-out or declined offer waits again in its place; a chat
        // the visitor left or that moves elsewhere does not.
        if reason == "timeout" || reason == "declined" || reason == "shift_ended" {
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

    pub(super) fn decline(&mut self, agent: StaffId, chat: ChatId) -> Result<(), AppError> {
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
    pub(super) fn tick(&mut self) {
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
        let missed: Vec<ChatId> = self
            .chats
            .values()
            .filter(|c| c.chat.state == ChatState::Waiting)
            .filter(|c| {
                self.groups.get(&c.chat.group).is_some_and(|g| {
                    let limit = u64::from(g.group.queue_timeout_secs) * 1000;
                    limit > 0 && c.chat.answered_at.is_none() && c.chat.started_at + limit <= now
                })
            })
            .map(|c| c.chat.id)
            .collect();
        for chat in missed {
            self.miss(chat);
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

    pub(super) fn queue_view(&self, group: GroupId) -> Option<Arc<str>> {
        let g = self.groups.get(&group)?;
        let entry = |c: &LiveChat| QueueEntry {
            id: c.chat.id,
            visitor: self.config.staff_view().text(&c.chat.visitor.name),
            queued_at: c.chat.queued_at,
            requeued: c.chat.requeued,
            offered_to: c.offer.map(|(a, _)| a),
        };
        let waiting = g
            .queue
            .iter()
            .filter_map(|k| self.chats.get(&k.2))
            .take(VIEW_LIMIT)
            .map(entry)
            .collect();
        let waiting_total = g.queue.len();
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
        let (unanswered_total, answered_total) = (unanswered.len(), answered.len());
        unanswered.truncate(VIEW_LIMIT);
        answered.truncate(VIEW_LIMIT);
        Some(
            ServerFrame::QueueView {
                group,
                waiting,
                unanswered,
                answered,
                waiting_total,
                unanswered_total,
                answered_total,
            }
            .json(),
        )
    }

    /// Marks a group's queue as changed; see [`Core::publish_dirty`] and
    /// [`Core::publish_positions`].
    pub(super) fn publish_queue(&mut self, group: GroupId) {
        self.dirty.insert(group);
        self.positions_due.insert(group);
    }

    /// Sends every changed queue's view to its group's agents.
    pub(super) fn publish_dirty(&mut self) {
        for group in std::mem::take(&mut self.dirty) {
            if let Some(view) = self.queue_view(group) {
                for a in self.agents.values().filter(|a| a.staff.in_group(group)) {
                    for c in &a.conns {
                        c.ephemeral(Slot::QueueView(group), &view);
                    }
                }
            }
        }
    }

    /// Tells the waiting visitors of every changed queue their place. Each
    /// change moves everyone behind it, so with thousands waiting this is
    /// thousands of frames: it goes out less often than agents' views.
    pub(super) fn publish_positions(&mut self) {
        for group in std::mem::take(&mut self.positions_due) {
            self.tell_positions(group);
        }
    }

    fn tell_positions(&self, group: GroupId) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        let waiting = g.queue.len();
        let avg = g.avg_wait_ms;
        for (i, key) in g.queue.iter().enumerate() {
            // A visitor who is not connected hears their place on
            // reconnecting; no frame is made for nobody.
            if let Some(live) = self.chats.get(&key.2).filter(|l| !l.visitors.is_empty()) {
                let frame = ServerFrame::Queue {
                    position: i + 1,
                    waiting,
                    estimated_wait_secs: avg * (i as u64 + 1) / 1000,
                }
                .json();
                for c in &live.visitors {
                    c.ephemeral(Slot::QueuePlace(key.2), &frame);
                }
            }
        }
    }
}
