//! `livedesk shifts preview`: who is on and which groups are open, hour by
//! hour, from the config file and the store, in each group's local time —
//! so a sysadmin checks a schedule before relying on it.

use crate::config::ScheduleConfig;
use crate::domain::hours::local_text;
use crate::domain::shift::{resolve, Schedule};
use crate::domain::Millis;
use crate::store::Store;
use chrono::{Duration, NaiveDate, NaiveTime};
use std::fmt::Write;

/// The schedule of the store and the file, as the engine evaluates it.
pub fn schedule(store: &Store, cfg: &ScheduleConfig) -> (Schedule, Vec<String>) {
    let file = super::shifts::config_schedule(store, cfg);
    let mut shifts: Vec<_> = store.list_shifts().unwrap_or_default();
    shifts.extend(file.shifts);
    let mut hours = store.list_hours().unwrap_or_default();
    for (g, date, zone) in &file.closed {
        match hours.iter_mut().find(|(x, _)| x == g) {
            Some((_, h)) => h.closed.push(date.clone()),
            None => hours.push((
                *g,
                crate::domain::hours::GroupHours {
                    zone: zone.clone().unwrap_or_else(|| "UTC".into()),
                    hours: Vec::new(),
                    closed: vec![date.clone()],
                },
            )),
        }
    }
    // Rules that no longer validate (a zone the database dropped) are skipped.
    let schedule = Schedule {
        shifts: shifts
            .iter()
            .filter_map(|s| match s.rule.validated() {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(shift = %s.id, error = %e.message, "a shift is skipped");
                    None
                }
            })
            .collect(),
        hours: hours
            .iter()
            .filter_map(|(g, h)| h.validated(*g).ok())
            .collect(),
    };
    (schedule, file.problems)
}

/// The preview text: per group, per day from `from` for `days` days, one
/// line per hour (`HH:00  open    Ann, Bob`), in the group's zone (its own
/// hours' zone, else that of the first shift listing it, else UTC).
pub fn render(
    store: &Store,
    cfg: &ScheduleConfig,
    from: NaiveDate,
    days: u32,
    only: Option<&str>,
) -> Result<String, String> {
    let (schedule, problems) = schedule(store, cfg);
    let mut groups = store.list_groups().map_err(|e| e.to_string())?;
    groups.sort_by_key(|g| g.name.to_lowercase());
    if let Some(name) = only {
        groups.retain(|g| g.name.eq_ignore_ascii_case(name));
        if groups.is_empty() {
            return Err(format!("no group is named {name:?}"));
        }
    }
    let staff = store.list_staff().map_err(|e| e.to_string())?;
    let mut out = String::new();
    for p in &problems {
        let _ = writeln!(out, "skipped: {p}");
    }
    for g in &groups {
        let zone_name = schedule
            .hours
            .iter()
            .find(|h| h.group == g.id)
            .map(|h| h.rule.zone.clone())
            .or_else(|| {
                schedule
                    .shifts
                    .iter()
                    .find(|s| s.rule.groups.contains(&g.id))
                    .map(|s| s.rule.zone.clone())
            })
            .unwrap_or_else(|| "UTC".into());
        let tz: chrono_tz::Tz = zone_name.parse().unwrap_or(chrono_tz::UTC);
        let _ = writeln!(out, "{} ({})", g.name, tz.name());
        let members: Vec<_> = staff
            .iter()
            .filter(|r| !r.staff.disabled && r.staff.chat_enabled)
            .filter(|r| {
                r.staff.in_group(g.id)
                    || schedule.shifts.iter().any(|s| {
                        s.rule.groups.contains(&g.id) && s.rule.agents.contains(&r.staff.id)
                    })
            })
            .collect();
        for d in 0..days {
            let date = from + Duration::days(i64::from(d));
            let _ = writeln!(out, "  {}", date.format("%a %Y-%m-%d"));
            for hour in 0..24 {
                let Some(time) = NaiveTime::from_hms_opt(hour, 0, 0) else {
                    continue;
                };
                let at = resolve(tz, date, time).timestamp_millis().max(0) as Millis;
                // The skipped hour of a spring change shows as the next valid one.
                let shown = local_text(tz, at);
                if !shown.starts_with(&date.format("%Y-%m-%d").to_string())
                    || !shown.ends_with(&format!("{hour:02}:00"))
                {
                    continue;
                }
                let open = schedule.group_open(g.id, at);
                let on: Vec<&str> = members
                    .iter()
                    .filter(|r| schedule.on_shift(r.staff.id, &r.staff.groups, at).is_some())
                    .map(|r| r.staff.display_name.as_str())
                    .collect();
                let note = schedule
                    .closed_note(g.id, at)
                    .map(|n| match n {
                        Some(n) => format!("  (closed date: {n})"),
                        None => "  (closed date)".into(),
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    {hour:02}:00  {:<6}  {}{note}",
                    if open { "open" } else { "closed" },
                    if on.is_empty() {
                        "-".to_string()
                    } else {
                        on.join(", ")
                    }
                );
            }
        }
    }
    Ok(out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n")
}
