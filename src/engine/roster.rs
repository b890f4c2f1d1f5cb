//! The live roster: every staff member's status, load and current chats,
//! and every group's queue switch and counts, for the console's header,
//! transfer picker and chat manager. Built from the live state on each
//! tick and sent only when it changed, to each connection scoped by its
//! role and groups (docs/protocol.md, "The roster").

use super::conn::Slot;
use super::core::{Agent, Core};
use super::frames::ServerFrame;
use crate::domain::chat::ChatState;
use crate::domain::status::Status;
use crate::domain::{ChatId, GroupId, Role, Staff, StaffId};
use serde::Serialize;
use std::sync::Arc;

/// One staff member as the roster shows them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterEntry {
    /// Id.
    pub id: StaffId,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Status now.
    pub status: Status,
    /// Whether a console of theirs is connected.
    pub connected: bool,
    /// Whether they take chats at all.
    pub chat_enabled: bool,
    /// Open chats plus pending offers (what counts toward the limit).
    pub load: u32,
    /// Their limit.
    pub max_chats: u32,
    /// Their groups.
    pub groups: Vec<GroupId>,
    /// The chats they own now, for managers and admins; agents get none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chats: Option<Vec<RosterChat>>,
}

/// A chat an agent holds now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterChat {
    /// The chat.
    pub id: ChatId,
    /// The visitor's name (masked when masking is on).
    pub visitor: String,
    /// Its group.
    pub group: GroupId,
}

/// One group as the roster shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterGroup {
    /// Id.
    pub id: GroupId,
    /// Name.
    pub name: String,
    /// The queue's switch: off, visitors get the message form.
    pub queue_online: bool,
    /// Open by its business hours now (shifts, own hours, closed dates).
    pub open: bool,
    /// When it opens next, while closed (within two weeks; else null).
    pub opens_at: Option<crate::domain::Millis>,
    /// Chats waiting for an agent (offered ones included).
    pub waiting: usize,
    /// Chats active with an agent.
    pub active: usize,
}

/// Who may see whom, and how much.
fn sees(viewer: &Staff, other: &Staff) -> bool {
    viewer.role.is_admin() || viewer.id == other.id || viewer.shares_group_with(other)
}

fn sees_group(viewer: &Staff, group: GroupId) -> bool {
    viewer.role.is_admin() || viewer.in_group(group)
}

impl Core {
    fn roster_entry(&self, a: &Agent) -> RosterEntry {
        let chats = a
            .chats
            .iter()
            .filter_map(|c| self.chats.get(c))
            .filter(|l| l.chat.state == ChatState::Active)
            .map(|l| RosterChat {
                id: l.chat.id,
                visitor: self.config.staff_view().text(&l.chat.visitor.name),
                group: l.chat.group,
            })
            .collect();
        RosterEntry {
            id: a.staff.id,
            name: a.staff.display_name.clone(),
            role: a.staff.role,
            status: a.presence.status,
            connected: !a.conns.is_empty(),
            chat_enabled: a.staff.chat_enabled,
            load: a.load(),
            max_chats: a.staff.max_concurrent_chats,
            groups: a.staff.groups.clone(),
            chats: Some(chats),
        }
    }

    /// The whole roster, sorted by name then id, groups by name.
    pub(super) fn roster(&self) -> (Vec<RosterEntry>, Vec<RosterGroup>) {
        let mut staff: Vec<RosterEntry> = self
            .agents
            .values()
            .filter(|a| !a.staff.disabled)
            .map(|a| self.roster_entry(a))
            .collect();
        staff.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        let mut groups: Vec<RosterGroup> = self
            .groups
            .values()
            .map(|g| RosterGroup {
                id: g.group.id,
                name: g.group.name.clone(),
                queue_online: g.group.queue_online,
                open: self.hours_now.get(&g.group.id).is_none_or(|h| h.0),
                opens_at: self.hours_now.get(&g.group.id).and_then(|h| h.1),
                waiting: 0,
                active: 0,
            })
            .collect();
        for live in self.chats.values() {
            if let Some(g) = groups.iter_mut().find(|g| g.id == live.chat.group) {
                match live.chat.state {
                    ChatState::Active => g.active += 1,
                    ChatState::Waiting | ChatState::Offered => g.waiting += 1,
                    _ => {}
                }
            }
        }
        groups.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        (staff, groups)
    }

    /// The roster as `viewer` may see it.
    fn roster_for(
        viewer: &Staff,
        staff: &[RosterEntry],
        groups: &[RosterGroup],
        all: &std::collections::HashMap<StaffId, Agent>,
    ) -> Arc<str> {
        let supervises = viewer.role.is_admin() || viewer.role == Role::Manager;
        let staff = staff
            .iter()
            .filter(|e| all.get(&e.id).is_some_and(|a| sees(viewer, &a.staff)))
            .map(|e| {
                let mut e = e.clone();
                if !supervises {
                    e.chats = None;
                } else if let Some(chats) = e.chats.as_mut() {
                    // A manager sees the visitors of their groups' chats only.
                    chats.retain(|c| sees_group(viewer, c.group));
                }
                e
            })
            .collect();
        let groups = groups
            .iter()
            .filter(|g| sees_group(viewer, g.id))
            .cloned()
            .collect();
        ServerFrame::Roster { staff, groups }.json()
    }

    /// Sends the roster to every connection when it changed since the
    /// last time (called on each tick), and to `only` at once when given
    /// (a console that just connected).
    pub(super) fn publish_roster(&mut self, only: Option<StaffId>) {
        let (staff, groups) = self.roster();
        let changed = !self
            .roster_sent
            .as_ref()
            .is_some_and(|(s, g)| *s == staff && *g == groups);
        if !changed && only.is_none() {
            return;
        }
        for a in self.agents.values().filter(|a| !a.conns.is_empty()) {
            if !changed && Some(a.staff.id) != only {
                continue;
            }
            let frame = Self::roster_for(&a.staff, &staff, &groups, &self.agents);
            for c in &a.conns {
                c.ephemeral(Slot::Roster, &frame);
            }
        }
        self.roster_sent = Some((staff, groups));
    }

    /// Tells a group's connected members that its queue was switched on
    /// or off, and by whom.
    pub(super) fn tell_queue_switched(&self, group: GroupId, by: Option<super::frames::StaffRef>) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        let frame = ServerFrame::QueueSwitched {
            group,
            name: g.group.name.clone(),
            online: g.group.queue_online,
            by,
        }
        .json();
        for a in self.agents.values().filter(|a| a.staff.in_group(group)) {
            a.send(&frame);
        }
    }
}
