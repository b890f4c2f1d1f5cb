//! Shifts through the API: admins manage every shift, managers those that
//! cover only their groups and agents who share a group with them; every
//! staff member sees the shifts that cover them. A change reloads the
//! engine's schedule at once.

use super::auth::AuthContext;
use crate::domain::shift::{ShiftRule, StoredShift};
use crate::domain::staff::Role;
use crate::domain::{ShiftId, Staff};
use crate::engine::Command;
use crate::error::AppError;
use crate::state::AppState;

fn not_found(id: ShiftId) -> AppError {
    AppError::NotFound {
        code: "shift_not_found",
        message: format!("no shift {id} that you may see"),
    }
}

/// Whether `me` may see the shift.
fn may_see(me: &Staff, rule: &ShiftRule, covered: &[Staff]) -> bool {
    me.role.is_admin()
        || rule.agents.contains(&me.id)
        || rule.groups.iter().any(|g| me.in_group(*g))
        || (me.role == Role::Manager && covered.iter().any(|s| me.shares_group_with(s)))
}

/// Whether `me` may create, change or delete the shift.
fn may_manage(me: &Staff, rule: &ShiftRule, covered: &[Staff]) -> bool {
    me.role.is_admin()
        || (me.role == Role::Manager
            && rule.groups.iter().all(|g| me.in_group(*g))
            && covered.iter().all(|s| me.shares_group_with(s)))
}

/// The staff a rule names; an unknown id answers 404.
async fn covered(state: &AppState, rule: &ShiftRule) -> Result<Vec<Staff>, AppError> {
    let (agents, groups) = (rule.agents.clone(), rule.groups.clone());
    state
        .read(move |s| {
            for g in &groups {
                if s.group(*g)?.is_none() {
                    return Err(crate::store::StoreError::GroupNotFound(*g));
                }
            }
            let mut out = Vec::new();
            for a in &agents {
                out.push(
                    s.staff(*a)?
                        .ok_or(crate::store::StoreError::StaffNotFound)?
                        .staff,
                );
            }
            Ok(out)
        })
        .await
}

/// The shifts the caller may see.
pub async fn list(state: &AppState, ctx: &AuthContext) -> Result<Vec<StoredShift>, AppError> {
    // One read of the shifts and the staff, not one per shift.
    let cfg = state.config.schedule.clone();
    let (all, staff) = state
        .read(move |s| {
            let mut all = s.list_shifts()?;
            all.extend(config_schedule(s, &cfg).shifts);
            Ok((all, s.list_staff()?))
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|s| {
            let people: Vec<Staff> = staff
                .iter()
                .filter(|r| s.rule.agents.contains(&r.staff.id))
                .map(|r| r.staff.clone())
                .collect();
            may_see(&ctx.staff, &s.rule, &people)
        })
        .collect())
}

async fn save(
    state: &AppState,
    ctx: &AuthContext,
    id: ShiftId,
    rule: ShiftRule,
) -> Result<StoredShift, AppError> {
    let shift = rule.validated()?;
    let people = covered(state, &shift.rule).await?;
    if !may_manage(&ctx.staff, &shift.rule, &people) {
        return Err(AppError::Forbidden(
            "only admins, and managers for shifts of their own groups and agents, manage shifts"
                .into(),
        ));
    }
    let stored = StoredShift {
        id,
        rule: shift.rule,
        from_config: false,
    };
    let s2 = stored.clone();
    state.write(move |s| s.put_shift(&s2)).await?;
    state.engine.send(Command::ScheduleChanged).await;
    Ok(stored)
}

/// Adds a shift.
pub async fn create(
    state: &AppState,
    ctx: &AuthContext,
    rule: ShiftRule,
) -> Result<StoredShift, AppError> {
    save(state, ctx, ShiftId::generate(), rule).await
}

async fn existing(
    state: &AppState,
    ctx: &AuthContext,
    id: ShiftId,
) -> Result<StoredShift, AppError> {
    let s = state.read(move |s| s.shift(id)).await?;
    let s = match s {
        Some(s) => s,
        None => {
            let cfg = state.config.schedule.clone();
            let from_file = state
                .read(move |s| Ok(config_schedule(s, &cfg).shifts))
                .await?
                .into_iter()
                .find(|s| s.id == id);
            return Err(match from_file {
                Some(f) => AppError::Conflict {
                    code: "from_config",
                    message: format!(
                        "the shift {} is declared in the config file ([[shifts]]); change it there and restart livedesk",
                        f.rule.name
                    ),
                },
                None => not_found(id),
            });
        }
    };
    let people = covered(state, &s.rule).await.unwrap_or_default();
    if !may_see(&ctx.staff, &s.rule, &people) {
        return Err(not_found(id));
    }
    if !may_manage(&ctx.staff, &s.rule, &people) {
        return Err(AppError::Forbidden(
            "only admins, and managers for shifts of their own groups and agents, manage shifts"
                .into(),
        ));
    }
    Ok(s)
}

/// Replaces a shift's rule.
pub async fn replace(
    state: &AppState,
    ctx: &AuthContext,
    id: ShiftId,
    rule: ShiftRule,
) -> Result<StoredShift, AppError> {
    existing(state, ctx, id).await?;
    save(state, ctx, id, rule).await
}

/// Deletes a shift.
pub async fn delete(state: &AppState, ctx: &AuthContext, id: ShiftId) -> Result<(), AppError> {
    existing(state, ctx, id).await?;
    state.write(move |s| s.delete_shift(id)).await?;
    state.engine.send(Command::ScheduleChanged).await;
    Ok(())
}

/// A group the caller may see, or 404.
async fn visible_group(
    state: &AppState,
    ctx: &AuthContext,
    id: crate::domain::GroupId,
) -> Result<crate::domain::Group, AppError> {
    let g = state
        .read(move |s| s.group(id))
        .await?
        .filter(|g| crate::domain::permissions::can_view_group(&ctx.staff, g))
        .ok_or(crate::store::StoreError::GroupNotFound(id))?;
    Ok(g)
}

/// A group's own hours and closed dates.
pub async fn hours(
    state: &AppState,
    ctx: &AuthContext,
    id: crate::domain::GroupId,
) -> Result<crate::domain::hours::GroupHours, AppError> {
    visible_group(state, ctx, id).await?;
    state.read(move |s| s.hours(id)).await
}

/// Replaces a group's own hours and closed dates (admins, managers of the
/// group); the schedule applies them at once.
pub async fn set_hours(
    state: &AppState,
    ctx: &AuthContext,
    id: crate::domain::GroupId,
    h: crate::domain::hours::GroupHours,
) -> Result<crate::domain::hours::GroupHours, AppError> {
    let g = visible_group(state, ctx, id).await?;
    crate::domain::permissions::edit_group(&ctx.staff, &g)
        .map_err(|d| AppError::Forbidden(d.0.to_string()))?;
    let valid = h.validated(id)?.rule;
    let stored = valid.clone();
    state.write(move |s| s.put_hours(id, &stored)).await?;
    state.engine.send(Command::ScheduleChanged).await;
    Ok(valid)
}

/// The config file's schedule, resolved against the store: agents by
/// email, groups by name. What cannot be resolved is said in `problems`
/// (check-config prints them; the desk logs them and skips the entry).
pub struct ConfigSchedule {
    /// The shifts, with ids stable while their place and name stay.
    pub shifts: Vec<StoredShift>,
    /// Closed dates by group, with the zone the file gives, if any.
    pub closed: Vec<(
        crate::domain::GroupId,
        crate::domain::hours::ClosedDate,
        Option<String>,
    )>,
    /// `file:line: what is wrong`.
    pub problems: Vec<String>,
}

/// Resolves `[[shifts]]` and `[[closed]]` against the store.
pub fn config_schedule(
    store: &crate::store::Store,
    cfg: &crate::config::ScheduleConfig,
) -> ConfigSchedule {
    use sha2::Digest;
    let groups = store.list_groups().unwrap_or_default();
    let group = |name: &str| {
        groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
            .map(|g| g.id)
    };
    let mut out = ConfigSchedule {
        shifts: Vec::new(),
        closed: Vec::new(),
        problems: Vec::new(),
    };
    for (i, s) in cfg.shifts.iter().enumerate() {
        let mut rule = s.rule.clone();
        let mut ok = true;
        for email in &s.agents {
            match store.staff_by_email(&email.trim().to_lowercase()) {
                Ok(Some(row)) => rule.agents.push(row.staff.id),
                _ => {
                    ok = false;
                    out.problems.push(format!(
                        "{}: shifts.agents: no staff member signs in as {email:?}",
                        s.at
                    ));
                }
            }
        }
        for name in &s.groups {
            match group(name) {
                Some(g) => rule.groups.push(g),
                None => {
                    ok = false;
                    out.problems.push(format!(
                        "{}: shifts.groups: no group is named {name:?}; the groups are {}",
                        s.at,
                        groups
                            .iter()
                            .map(|g| g.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        if ok {
            let digest = sha2::Sha256::digest(format!("config shift {i} {}", rule.name));
            let mut id = [0u8; 16];
            id.copy_from_slice(&digest[..16]);
            out.shifts.push(StoredShift {
                id: ShiftId::from_bytes(id),
                rule,
                from_config: true,
            });
        }
    }
    for c in &cfg.closed {
        match group(&c.group) {
            Some(g) => out.closed.push((g, c.date.clone(), c.zone.clone())),
            None => out.problems.push(format!(
                "{}: closed.group: no group is named {:?}",
                c.at, c.group
            )),
        }
    }
    out
}
