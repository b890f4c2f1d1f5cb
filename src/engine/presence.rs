//! The presence side of the owner task: staff connections, status changes
//! (by the agent or, for them, a manager or admin), the automatic busy rule,
//! and reacting to changed staff records, ended sessions and changed groups.

use super::conn::{Conn, ConnId, Out};
use super::core::{Agent, Core};
use super::frames::{ServerFrame, StaffRef};
use crate::domain::chat::ChatState;
use crate::domain::permissions;
use crate::domain::status::{self, Presence, Status, StatusEvent};
use crate::domain::{ChatId, GroupId, Role, Staff, StaffId};
use crate::error::AppError;
use crate::store::{StoreError, TokenHash};

fn refused(message: impl Into<String>) -> AppError {
    AppError::Forbidden(message.into())
}

impl Core {
    pub(super) fn attach_agent(&mut self, staff: Staff, conn: Conn) {
        // The record may have changed between the socket's sign-in check
        // and here (a StaffChanged for an agent not yet known is dropped).
        let staff = match self.store.staff(staff.id) {
            Ok(Some(row)) if !row.staff.disabled => row.staff,
            Ok(_) => {
                conn.push(Out::Close(1008, "account disabled"));
                return;
            }
            Err(_) => staff,
        };
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
        conn.push(Out::hello(chats, hello.json()));
        self.publish_roster(Some(id));
        // One who connects during their shift starts available; outside
        // it, offline (a choice made meanwhile still holds).
        let now = self.now();
        self.apply_schedule_to(id, now);
        for g in &staff.groups {
            if self.ensure_group(*g).is_ok() {
                if let Some(view) = self.queue_view(*g) {
                    conn.frame(&view);
                }
            }
        }
        self.route_groups_of(id);
    }

    pub(super) fn detach_agent(&mut self, id: StaffId, conn: ConnId) {
        let now = self.now();
        if let Some(a) = self.agents.get_mut(&id) {
            a.conns.retain(|c| c.id != conn);
            if a.conns.is_empty() {
                a.disconnected_at = Some(now);
            }
        }
    }

    pub(super) fn set_status(
        &mut self,
        actor: &Staff,
        target: StaffId,
        status: Status,
    ) -> Result<Status, AppError> {
        if !self.agents.contains_key(&target) {
            let row = self.store.staff(target)?.ok_or(StoreError::StaffNotFound)?;
            self.agents.insert(target, Agent::new(row.staff));
        }
        let actor = &self.current_actor(actor)?;
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
        self.note_override(target);
        self.route_groups_of(target);
        Ok(next.status)
    }

    /// Re-applies the limit rule to an agent and tells them if it changed.
    pub(super) fn settle(&mut self, id: StaffId) {
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

    pub(super) fn staff_changed(&mut self, staff: Staff) {
        let id = staff.id;
        let a = self
            .agents
            .entry(id)
            .or_insert_with(|| Agent::new(staff.clone()));
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
        self.leave_unseen_monitored(id);
        for g in groups {
            self.route(g);
        }
    }

    /// Stops `id` watching chats their current role and groups no longer
    /// let them see; each goes with `chat_left`.
    fn leave_unseen_monitored(&mut self, id: StaffId) {
        let Some(a) = self.agents.get(&id) else {
            return;
        };
        let unseen: Vec<ChatId> = a
            .monitoring
            .iter()
            .copied()
            .filter(|c| {
                self.chats.get(c).is_none_or(|l| {
                    a.staff.disabled || !permissions::supervise_chats(&a.staff, l.chat.group)
                })
            })
            .collect();
        for chat in unseen {
            if let Some(live) = self.chats.get_mut(&chat) {
                live.monitors.retain(|m| *m != id);
            }
            if let Some(a) = self.agents.get_mut(&id) {
                a.monitoring.remove(&chat);
                a.send(&ServerFrame::ChatLeft { chat_id: chat }.json());
            }
        }
    }

    pub(super) fn sessions_ended(&mut self, id: StaffId, keep: Option<TokenHash>) {
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

    /// Deletes a group unless a chat of it is open (waiting, offered or
    /// active: it would wait forever in a queue nobody sees).
    pub(super) fn delete_group(&mut self, id: GroupId) -> Result<(), AppError> {
        let (mut waiting, mut active) = (0usize, 0usize);
        for live in self.chats.values().filter(|l| l.chat.group == id) {
            match live.chat.state {
                ChatState::Active => active += 1,
                _ => waiting += 1,
            }
        }
        if waiting + active > 0 {
            let name = self
                .groups
                .get(&id)
                .map(|g| g.group.name.clone())
                .unwrap_or_default();
            return Err(AppError::Conflict {
                code: "group_has_open_chats",
                message: format!(
                    "group {name} has {} open chats ({waiting} waiting or offered, {active} active): \
                     move them to another group first (POST /api/chats/transfer with their ids and \
                     to_group, or transfer each from the console), or wait until they end, then delete it",
                    waiting + active
                ),
            });
        }
        self.store.delete_group(id)?;
        self.group_changed(id, None);
        Ok(())
    }

    pub(super) fn group_changed(&mut self, id: GroupId, by: Option<StaffRef>) {
        match self.store.group(id) {
            Ok(Some(group)) => {
                let _ = self.ensure_group(id);
                let mut switched = false;
                if let Some(g) = self.groups.get_mut(&id) {
                    switched = g.group.queue_online != group.queue_online;
                    g.group = group;
                }
                if switched {
                    self.tell_queue_switched(id, by);
                }
                self.route(id);
            }
            Ok(None) => {
                self.groups.remove(&id);
                // Deleting a group takes it out of its members' records.
                let members: Vec<StaffId> = self
                    .agents
                    .values()
                    .filter(|a| a.staff.in_group(id))
                    .map(|a| a.staff.id)
                    .collect();
                for m in members {
                    if let Ok(Some(row)) = self.store.staff(m) {
                        self.staff_changed(row.staff);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not reload a changed group"),
        }
    }
}
