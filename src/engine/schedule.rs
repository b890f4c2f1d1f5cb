//! The schedule in the engine: shifts switch their connected agents on at
//! a start and off at an end, in the shift's local time. The state is
//! always recomputed from the shifts as of now (at start, when an agent
//! connects, at every boundary the tick passes), so a restart or a
//! skipped tick never leaves an agent in the wrong state. A status the
//! agent or a manager picks during a shift lasts until the agent's next
//! boundary; then the schedule rules again.

use super::core::Core;
use super::frames::ServerFrame;
use crate::domain::chat::ChatState;
use crate::domain::shift::ScheduleNote;
use crate::domain::status::{self, Status, StatusEvent};
use crate::domain::{ChatId, Millis, StaffId};

impl Core {
    /// Reads the shifts from the store (rules that no longer validate,
    /// such as a zone the database dropped, are skipped with a warning)
    /// and applies them at once.
    pub(super) fn load_schedule(&mut self) {
        // The same evaluation as `livedesk shifts preview`: stored shifts and
        // hours, plus the config file's, resolved against the store.
        let (schedule, problems) =
            crate::service::preview::schedule(&self.store, &self.config_schedule);
        for p in &problems {
            tracing::warn!("config schedule entry skipped: {p}");
        }
        // The store counts report times in business hours by it.
        self.store.set_schedule(schedule.clone());
        self.schedule = schedule;
        self.apply_schedule();
    }

    /// Puts every connected agent a shift covers where the schedule says,
    /// and notes the next boundary.
    pub(super) fn apply_schedule(&mut self) {
        let now = self.now();
        let ids: Vec<StaffId> = self.agents.keys().copied().collect();
        for id in ids {
            self.apply_schedule_to(id, now);
        }
        // Visitors still waiting in a group that is closed now are told,
        // and offered the message form (their question kept).
        let closed: Vec<ChatId> = self
            .chats
            .values()
            .filter(|c| c.chat.state == ChatState::Waiting && c.chat.answered_at.is_none())
            .filter(|c| !self.schedule.group_open(c.chat.group, now))
            .map(|c| c.chat.id)
            .collect();
        for chat in closed {
            self.close_waiting(chat);
        }
        self.next_boundary = self.schedule.next_boundary(now);
        let groups: Vec<crate::domain::GroupId> = self.groups.keys().copied().collect();
        self.hours_now = groups
            .into_iter()
            .map(|g| {
                let open = self.schedule.group_open(g, now);
                (
                    g,
                    (
                        open,
                        (!open).then(|| self.schedule.opens_at(g, now)).flatten(),
                    ),
                )
            })
            .collect();
    }

    /// Applies the schedule when a boundary has passed.
    pub(super) fn schedule_tick(&mut self) {
        if self.next_boundary.is_some_and(|b| b <= self.now()) {
            self.apply_schedule();
        }
    }

    /// One agent: on their shift `available`, off it `offline`, unless a
    /// choice made during the shift still holds.
    pub(super) fn apply_schedule_to(&mut self, id: StaffId, now: Millis) {
        let Some(a) = self.agents.get(&id) else {
            return;
        };
        let groups = a.staff.groups.clone();
        if a.conns.is_empty() || !self.schedule.covers(id, &groups) {
            return;
        }
        if let Some(until) = self.overrides.get(&id).copied() {
            if now < until {
                return;
            }
            self.overrides.remove(&id);
        }
        let shift = self
            .schedule
            .on_shift(id, &groups, now)
            .map(|s| s.rule.name.clone());
        let event = if shift.is_some() {
            StatusEvent::ShiftStart
        } else {
            StatusEvent::ShiftEnd
        };
        let Ok(next) = status::apply(a.presence, event, a.staff.chat_enabled) else {
            return;
        };
        let next = status::settle(next, a.at_limit());
        if next == a.presence {
            return;
        }
        let note = ScheduleNote {
            shift: shift
                .clone()
                .or_else(|| self.last_shift_of(id, &groups, now)),
            on: shift.is_some(),
        };
        let offers: Vec<ChatId> = if next.status == Status::Offline {
            a.offers.iter().copied().collect()
        } else {
            Vec::new()
        };
        if let Some(a) = self.agents.get_mut(&id) {
            a.presence = next;
            a.send(
                &ServerFrame::ScheduledStatus {
                    status: next.status,
                    schedule: note,
                }
                .json(),
            );
        }
        // Offers pending to an agent whose shift ended go to the next one.
        for chat in offers {
            let group = self.chats.get(&chat).map(|c| c.chat.group);
            self.withdraw_offer(chat, "shift_ended");
            if let Some(g) = group {
                self.route(g);
            }
        }
        self.route_groups_of(id);
    }

    /// The shift that covered the agent most recently (for "Morning ended").
    fn last_shift_of(
        &self,
        id: StaffId,
        groups: &[crate::domain::GroupId],
        now: Millis,
    ) -> Option<String> {
        let minute = 60_000;
        self.schedule
            .on_shift(id, groups, now.saturating_sub(minute))
            .map(|s| s.rule.name.clone())
    }

    /// A status the agent or a manager chose: it holds until the agent's
    /// next schedule boundary.
    pub(super) fn note_override(&mut self, id: StaffId) {
        let Some(a) = self.agents.get(&id) else {
            return;
        };
        let groups = a.staff.groups.clone();
        if !self.schedule.covers(id, &groups) {
            return;
        }
        match self.schedule.next_boundary_for(id, &groups, self.now()) {
            Some(until) => {
                self.overrides.insert(id, until);
            }
            None => {
                self.overrides.remove(&id);
            }
        }
    }
}
