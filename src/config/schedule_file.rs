//! `[[shifts]]` and `[[closed]]` tables of the config file: each read
//! into a checked entry, or into problems at the lines of their keys.

use super::file::{found, string, Table};
use super::{Origin, Problem};
use toml::Value;

/// Keys of `t` that a `[[name]]` table does not have, each at its place.
fn unknown_keys(
    t: &Table,
    name: &str,
    keys: &[&str],
    at: &dyn Fn(usize) -> Origin,
) -> Vec<Problem> {
    t.iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .map(|(k, v)| Problem {
            origin: at(v.span().start),
            message: format!(
                "unknown key `{k}` in [[{name}]]; its keys are {}",
                keys.join(", ")
            ),
        })
        .collect()
}

/// The keys of a `[[shifts]]` table and of a `[[closed]]` table.
const SHIFT_KEYS: &[&str] = &["name", "days", "start", "end", "zone", "agents", "groups"];
const CLOSED_KEYS: &[&str] = &["group", "date", "note", "zone"];

fn strings(v: Value) -> Result<Vec<String>, String> {
    match v {
        Value::Array(items) => items.into_iter().map(string).collect(),
        other => Err(format!(
            "expected a list of quoted strings, found {}",
            found(&other)
        )),
    }
}

/// Reads one `[[shifts]]` table; problems at their keys.
pub(super) fn shift_table(
    t: Table,
    table_at: usize,
    at: &dyn Fn(usize) -> Origin,
    line: String,
) -> Result<super::ConfigShift, Vec<Problem>> {
    let unknown_keys = unknown_keys(&t, "shifts", SHIFT_KEYS, at);
    let mut problems = Vec::new();
    let get = |k: &str| t.get(k).map(|v| (v.span().start, v.get_ref().clone()));
    let text = |k: &str, problems: &mut Vec<Problem>| match get(k) {
        None => {
            problems.push(Problem {
                origin: at(table_at),
                message: format!("[[shifts]] needs `{k}`"),
            });
            (table_at, String::new())
        }
        Some((o, v)) => match string(v) {
            Ok(s) => (o, s),
            Err(m) => {
                problems.push(Problem {
                    origin: at(o),
                    message: format!("shifts.{k}: {m}"),
                });
                (o, String::new())
            }
        },
    };
    let (name_at, name) = text("name", &mut problems);
    let (start_at, start) = text("start", &mut problems);
    let (end_at, end) = text("end", &mut problems);
    let (zone_at, zone) = text("zone", &mut problems);
    let list = |k: &str, problems: &mut Vec<Problem>| match t.get(k) {
        None => (table_at, Vec::new()),
        Some(v) => match strings(v.get_ref().clone()) {
            Ok(l) => (v.span().start, l),
            Err(m) => {
                problems.push(Problem {
                    origin: at(v.span().start),
                    message: format!("shifts.{k}: {m}"),
                });
                (v.span().start, Vec::new())
            }
        },
    };
    let (days_at, day_names) = list("days", &mut problems);
    let (_, agents) = list("agents", &mut problems);
    let (_, groups) = list("groups", &mut problems);
    if !problems.is_empty() {
        problems.extend(unknown_keys);
        return Err(problems);
    }
    let mut days = Vec::new();
    for d in &day_names {
        match serde_json::from_value::<crate::domain::shift::Day>(serde_json::Value::String(
            d.to_lowercase(),
        )) {
            Ok(day) => days.push(day),
            Err(_) => problems.push(Problem {
                origin: at(days_at),
                message: format!("shifts.days: {d:?} is not a day; write \"mon\" … \"sun\""),
            }),
        }
    }
    if agents.is_empty() && groups.is_empty() {
        problems.push(Problem {
            origin: at(table_at),
            message: "[[shifts]] covers nobody: give agents = [\"email\", …] or groups = [\"Group name\", …]".into(),
        });
    }
    if start.trim() == end.trim() && !start.is_empty() {
        problems.push(Problem {
            origin: at(end_at),
            message: format!("shifts.end: equals the start ({start}): a shift needs a length (an end before the start runs past midnight)"),
        });
    }
    let rule = crate::domain::shift::ShiftRule {
        name,
        days,
        start,
        end,
        zone,
        agents: Vec::new(),
        groups: Vec::new(),
    };
    let checked = match rule.validated() {
        Ok(v) => Some(v.rule),
        Err(e) => {
            let o = match e.field {
                "name" => name_at,
                "start" => start_at,
                "end" => end_at,
                "zone" => zone_at,
                "days" => days_at,
                _ => table_at,
            };
            problems.push(Problem {
                origin: at(o),
                message: format!("shifts.{e}"),
            });
            None
        }
    };
    problems.extend(unknown_keys);
    match checked {
        Some(rule) if problems.is_empty() => Ok(super::ConfigShift {
            rule,
            agents,
            groups,
            at: line,
        }),
        _ => Err(problems),
    }
}

/// Reads one `[[closed]]` table; problems at their keys.
pub(super) fn closed_table(
    t: Table,
    table_at: usize,
    at: &dyn Fn(usize) -> Origin,
    line: String,
) -> Result<super::ConfigClosed, Vec<Problem>> {
    let mut problems = unknown_keys(&t, "closed", CLOSED_KEYS, at);
    let mut field = |k: &str, needed: bool| -> Option<String> {
        match t.get(k) {
            None if needed => {
                problems.push(Problem {
                    origin: at(table_at),
                    message: format!("[[closed]] needs `{k}`"),
                });
                None
            }
            None => None,
            Some(v) => {
                let o = v.span().start;
                let checked = string(v.get_ref().clone()).and_then(|s| match k {
                    "date" => crate::domain::hours::date("date", &s)
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .map_err(|e| e.message),
                    "zone" => crate::domain::shift::zone(&s)
                        .map(|z| z.name().to_string())
                        .map_err(|e| e.message),
                    "note" => {
                        crate::domain::validate::text("note", &s, 1, 200).map_err(|e| e.message)
                    }
                    _ => crate::domain::validate::text("group", &s, 1, 60).map_err(|e| e.message),
                });
                match checked {
                    Ok(s) => Some(s),
                    Err(m) => {
                        problems.push(Problem {
                            origin: at(o),
                            message: format!("closed.{k}: {m}"),
                        });
                        None
                    }
                }
            }
        }
    };
    let group = field("group", true);
    let date = field("date", true);
    let note = field("note", false);
    let zone = field("zone", false);
    match (group, date) {
        (Some(group), Some(date)) if problems.is_empty() => Ok(super::ConfigClosed {
            group,
            date: crate::domain::hours::ClosedDate { date, note },
            zone,
            at: line,
        }),
        _ => Err(problems),
    }
}
