//! Reports for a date range in a time zone, as the caller may see them:
//! figures per group and per agent, a heat map of chats by weekday and
//! hour, chats per day, the chats behind any figure, and each table as
//! CSV. Summed from the day and hour counters the store keeps as chats
//! end (`domain::report`), never from the chats themselves.

use super::auth::AuthContext;
use crate::domain::chat_list::ChatRow;
use crate::domain::report::{self, Fact, Figures, Measure, Outcome, Sum};
use crate::domain::{ChatId, GroupId, Millis, StaffId};
use crate::error::AppError;
use crate::state::AppState;
use chrono::{Datelike, NaiveDate, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};

mod csv;
pub use csv::{csv, Csv, CSV_MAX_CHATS};

/// The longest range a report covers, in days.
pub const MAX_DAYS: i64 = 731;
/// Facts one page of the chats behind a figure reads at most; a page
/// can then come back short with `next` set.
const SCAN_PER_PAGE: usize = 200_000;

/// Query of `GET /api/reports`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The last day of the range, `YYYY-MM-DD` in `zone` (default: today
    /// there).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// How many days the range covers, ending on `to`: 1 to 731 (default 7).
    #[param(minimum = 1, maximum = 731)]
    pub days: Option<u32>,
    /// The IANA time zone of the days and the heat map (default UTC).
    pub zone: Option<String>,
    /// Count times in business hours only (default false).
    pub business_hours: Option<bool>,
    /// Only this group.
    pub group: Option<GroupId>,
}

/// Query of `GET /api/reports/chats` and `GET /api/reports/csv`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportChatsQuery {
    /// The last day of the range, `YYYY-MM-DD` in `zone` (default: today
    /// there).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// How many days the range covers, ending on `to`: 1 to 731 (default 7).
    #[param(minimum = 1, maximum = 731)]
    pub days: Option<u32>,
    /// The IANA time zone of the days (default UTC).
    pub zone: Option<String>,
    /// Times counted in business hours only (default false).
    pub business_hours: Option<bool>,
    /// Only this group.
    pub group: Option<GroupId>,
    /// Only this agent's chats.
    pub agent: Option<StaffId>,
    /// The figure: `chats` (default), `answered`, `missed`, `abandoned`,
    /// `tickets`, `good` or `bad`.
    #[param(inline)]
    pub measure: Option<Measure>,
    /// The `next` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}_[0-9a-f]{32}$")]
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// For `GET /api/reports/csv`: `groups` (default), `agents`, `days`,
    /// `heatmap` or `chats`.
    #[param(inline)]
    pub table: Option<Table>,
}

/// A table of the report, for CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// A row per group.
    #[default]
    Groups,
    /// A row per agent.
    Agents,
    /// Chats per day.
    Days,
    /// Chats by weekday and hour.
    Heatmap,
    /// The chats behind the figure `measure`.
    Chats,
}

/// One group's figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupFigures {
    /// The group.
    pub group: GroupId,
    /// Its name (empty once deleted).
    pub name: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One agent's figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentFigures {
    /// The agent.
    pub agent: StaffId,
    /// Their name.
    pub name: String,
    /// Their figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Chats started on one day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayCount {
    /// The day in the report's zone, `YYYY-MM-DD`.
    pub date: String,
    /// Ended chats that started on it.
    pub chats: u32,
}

/// A report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// First day.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// The zone of the days and hours.
    pub zone: String,
    /// Whether times count business hours only.
    pub business_hours: bool,
    /// Everything the caller may see.
    pub total: Figures,
    /// Per group, by name.
    pub groups: Vec<GroupFigures>,
    /// Per agent, by name.
    pub agents: Vec<AgentFigures>,
    /// Chats started, by local weekday (Monday first) and hour (0 to 23).
    pub heatmap: Vec<Vec<u32>>,
    /// Chats started per local day, every day of the range.
    pub days: Vec<DayCount>,
}

/// One chat behind a figure.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportChat {
    /// The chat as a list row (its link opens the transcript).
    #[serde(flatten)]
    pub chat: ChatRow,
    /// How it came out.
    pub outcome: Outcome,
    /// Start to first accept, ms (in business hours when asked).
    pub wait_ms: Option<Millis>,
    /// Start to the first agent message, ms.
    pub first_response_ms: Option<Millis>,
    /// First accept to end, ms.
    pub handling_ms: Option<Millis>,
    /// Its end made a ticket.
    pub ticket: bool,
}

/// A page of the chats behind a figure, in start order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportChatPage {
    /// The chats.
    pub chats: Vec<ReportChat>,
    /// Pass as `after` for the next page; none at the end. A page may hold
    /// fewer than `limit` rows and still have a next one.
    pub next: Option<String>,
}

fn bad(message: String) -> AppError {
    AppError::BadRequest {
        code: "invalid_field",
        message,
    }
}

/// A report's range: its days and zone, and the UTC instants they span
/// (floored to the hour, the counters' grain).
pub(super) struct Window {
    pub(super) from: NaiveDate,
    pub(super) to: NaiveDate,
    pub(super) zone: Tz,
    pub(super) start: Millis,
    pub(super) end: Millis,
}

fn window(
    to: Option<&str>,
    days: Option<u32>,
    zone: Option<&str>,
    now: Millis,
) -> Result<Window, AppError> {
    let zone: Tz = match zone {
        None => chrono_tz::UTC,
        Some(z) => {
            crate::domain::shift::zone(z).map_err(|e| bad(format!("zone: {}", e.message)))?
        }
    };
    let day = |field: &'static str, s: &str| {
        crate::domain::hours::date(field, s).map_err(|e| bad(format!("{field}: {}", e.message)))
    };
    let to = match to {
        Some(t) => day("to", t)?,
        None => crate::domain::hours::local_date(zone, now),
    };
    let days = i64::from(days.unwrap_or(7));
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(bad(format!(
            "days: a report covers 1 to {MAX_DAYS} days; choose a shorter range"
        )));
    }
    let from = to
        .checked_sub_days(chrono::Days::new(days as u64 - 1))
        .ok_or_else(|| bad("to: too early a date".into()))?;
    let hour = 3_600_000;
    let start = crate::domain::hours::midnight(zone, from) / hour * hour;
    let end = crate::domain::hours::midnight(zone, to + chrono::Days::new(1)) / hour * hour;
    Ok(Window {
        from,
        to,
        zone,
        start,
        end,
    })
}

pub(super) fn local(zone: Tz, at: Millis) -> chrono::DateTime<Tz> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at as i64)
        .unwrap_or_default()
        .with_timezone(&zone)
}

/// The report for `q`, as the caller may see it.
pub async fn report(
    state: &AppState,
    ctx: &AuthContext,
    q: ReportQuery,
) -> Result<Report, AppError> {
    let w = window(q.to.as_deref(), q.days, q.zone.as_deref(), state.now())?;
    let business = q.business_hours.unwrap_or(false);
    let staff = ctx.staff.clone();
    let only = q.group;
    let (days, hours) = report::spans(w.start, w.end);
    let (total, mut groups, mut agents, starts) = state
        .read(move |s| {
            let mut total = Sum::default();
            let mut groups: HashMap<GroupId, Sum> = HashMap::new();
            let mut agents: HashMap<StaffId, Sum> = HashMap::new();
            let mut starts: BTreeMap<u32, u32> = BTreeMap::new();
            s.for_each_tally(days, &hours, &mut |base, group, agent, t| {
                if only.is_some_and(|g| g != group) || !report::visible_to(&staff, group, agent) {
                    return;
                }
                total.add(t);
                groups.entry(group).or_default().add(t);
                if let Some(a) = agent {
                    agents.entry(a).or_default().add(t);
                }
                for (i, n) in t.hours.iter().enumerate().filter(|(_, n)| **n > 0) {
                    *starts.entry(base / 24 * 24 + i as u32).or_default() += n;
                }
            })?;
            Ok((total, groups, agents, starts))
        })
        .await?;
    let me = ctx.staff.clone();
    let (all_groups, all_staff) = state
        .read(|s| Ok((s.list_groups()?, s.list_staff()?)))
        .await?;
    // Every group and agent the caller looks after has a row, with zeros
    // when no chat of the range is theirs.
    for g in all_groups.iter().filter(|g| only.is_none_or(|o| o == g.id)) {
        if me.role.is_admin() || me.in_group(g.id) {
            groups.entry(g.id).or_default();
        }
    }
    for r in all_staff.iter().map(|r| &r.staff) {
        let takes_chats = r.chat_enabled && !r.disabled && !r.groups.is_empty();
        let seen = r.id == me.id
            || me.role.is_admin()
            || (me.role == crate::domain::staff::Role::Manager && r.shares_group_with(&me));
        if takes_chats && seen && only.is_none_or(|o| r.in_group(o)) {
            agents.entry(r.id).or_default();
        }
    }
    let group_names: HashMap<GroupId, String> =
        all_groups.into_iter().map(|g| (g.id, g.name)).collect();
    let staff_names: HashMap<StaffId, String> = all_staff
        .into_iter()
        .map(|r| (r.staff.id, r.staff.display_name))
        .collect();
    let mut groups: Vec<GroupFigures> = groups
        .into_iter()
        .map(|(group, sum)| GroupFigures {
            group,
            name: group_names.get(&group).cloned().unwrap_or_default(),
            figures: sum.row(business),
        })
        .collect();
    groups.sort_by_key(|a| a.name.to_lowercase());
    let mut agents: Vec<AgentFigures> = agents
        .into_iter()
        .map(|(agent, sum)| AgentFigures {
            agent,
            name: staff_names.get(&agent).cloned().unwrap_or_default(),
            figures: sum.row(business),
        })
        .collect();
    agents.sort_by_key(|a| a.name.to_lowercase());
    let mut heatmap = vec![vec![0u32; 24]; 7];
    let mut per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for (hour, n) in starts {
        let t = local(w.zone, u64::from(hour) * 3_600_000);
        heatmap[t.weekday().num_days_from_monday() as usize][t.hour() as usize] += n;
        *per_day.entry(t.date_naive()).or_default() += n;
    }
    let days = w
        .from
        .iter_days()
        .take_while(|d| *d <= w.to)
        .map(|d| DayCount {
            date: d.format("%Y-%m-%d").to_string(),
            chats: per_day.get(&d).copied().unwrap_or(0),
        })
        .collect();
    Ok(Report {
        from: w.from.format("%Y-%m-%d").to_string(),
        to: w.to.format("%Y-%m-%d").to_string(),
        zone: w.zone.name().to_string(),
        business_hours: business,
        total: total.row(business),
        groups,
        agents,
        heatmap,
        days,
    })
}

/// A page's `next`: the last fact's start and chat (`{ms}_{32 hex}`).
fn next_cursor(at: Millis, chat: ChatId) -> String {
    format!("{at}_{}", hex::encode(chat.to_bytes()))
}

fn cursor(raw: &str) -> Result<(Millis, ChatId), AppError> {
    raw.split_once('_')
        .filter(|(ms, id)| ms.len() <= 15 && id.len() == 32)
        .and_then(|(ms, id)| Some((ms.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| bad("after: not a cursor from a previous page's next".into()))
}

/// A drill-down's page size (1 to 200, default 50) and where it goes on
/// from, checked for the chats and the CSV alike.
pub(super) fn paging(q: &ReportChatsQuery) -> Result<(usize, Option<(Millis, ChatId)>), AppError> {
    let limit = q.limit.unwrap_or(50) as usize;
    if !(1..=200).contains(&limit) {
        return Err(bad("limit: must be between 1 and 200".into()));
    }
    Ok((limit, q.after.as_deref().map(cursor).transpose()?))
}

/// Facts behind `q`'s figure the caller may see, from `after`, up to
/// `limit`, reading at most `scan` facts; and the cursor to go on from.
pub(super) async fn facts(
    state: &AppState,
    ctx: &AuthContext,
    q: &ReportChatsQuery,
    after: Option<(Millis, ChatId)>,
    limit: usize,
    scan: usize,
) -> Result<(Window, Vec<Fact>, Option<String>), AppError> {
    let w = window(q.to.as_deref(), q.days, q.zone.as_deref(), state.now())?;
    let (staff, group, agent) = (ctx.staff.clone(), q.group, q.agent);
    let measure = q.measure.unwrap_or_default();
    let (start, end) = (w.start, w.end);
    let (found, next) = state
        .read(move |s| {
            let mut found = Vec::new();
            let (mut read, mut last, mut stopped) = (0, None, false);
            s.for_each_fact(start, end, after, &mut |f| {
                read += 1;
                last = Some((f.started_at, f.chat));
                if group.is_none_or(|g| g == f.group)
                    && agent.is_none_or(|a| Some(a) == f.agent)
                    && report::visible_to(&staff, f.group, f.agent)
                    && f.counts_in(measure)
                {
                    found.push(f);
                }
                stopped = found.len() >= limit || read >= scan;
                !stopped
            })?;
            let next = last.filter(|_| stopped).map(|(ms, id)| next_cursor(ms, id));
            Ok((found, next))
        })
        .await?;
    Ok((w, found, next))
}

/// A page of the chats behind a figure.
pub async fn chats(
    state: &AppState,
    ctx: &AuthContext,
    q: ReportChatsQuery,
) -> Result<ReportChatPage, AppError> {
    let (limit, after) = paging(&q)?;
    let business = q.business_hours.unwrap_or(false);
    let (_, found, next) = facts(state, ctx, &q, after, limit, SCAN_PER_PAGE).await?;
    Ok(ReportChatPage {
        chats: rows(state, found, business).await?,
        next,
    })
}

/// The chats of `facts` as rows (a chat deleted since is left out).
pub(super) async fn rows(
    state: &AppState,
    facts: Vec<Fact>,
    business: bool,
) -> Result<Vec<ReportChat>, AppError> {
    let ids: Vec<ChatId> = facts.iter().map(|f| f.chat).collect();
    let chats = super::chats::chats_by_id(state, ids).await?;
    let named = super::chats::Rows::load(state).await?;
    Ok(facts
        .into_iter()
        .zip(chats)
        .filter_map(|(f, chat)| {
            let mut row = named.row(chat?);
            row.rating = f.rating;
            let t = if business { f.open_times } else { f.times };
            Some(ReportChat {
                chat: row,
                outcome: f.outcome,
                wait_ms: t.wait,
                first_response_ms: t.first_response,
                handling_ms: t.handling,
                ticket: f.ticket,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_local_days_floored_to_hours_and_bounded() {
        let w = window(Some("2026-03-01"), Some(1), Some("Europe/Stockholm"), 0).expect("valid");
        // Stockholm is UTC+1 in March: 23:00 UTC the day before, 24 hours.
        assert_eq!(w.end - w.start, 24 * 3_600_000);
        assert_eq!(w.start % 86_400_000, 23 * 3_600_000);
        let week = window(Some("2026-03-01"), None, None, 0).expect("valid");
        assert_eq!(week.from.to_string(), "2026-02-23");
        // Any date a schema-valid client sends is a range, even far off.
        for to in ["0001-01-01", "9999-12-31"] {
            assert!(window(Some(to), Some(731), None, 0).is_ok(), "{to}");
        }
        assert!(window(Some("2026-03-01"), Some(0), None, 0).is_err());
        assert!(window(Some("2026-03-01"), Some(732), None, 0).is_err());
        assert!(window(Some("2026-13-01"), None, None, 0).is_err());
        assert!(window(None, None, Some("Mars/Olympus"), 0).is_err());
        let id = ChatId::generate();
        assert_eq!(cursor(&next_cursor(42, id)).ok(), Some((42, id)));
        assert!(cursor("12_nope").is_err());
    }
}
