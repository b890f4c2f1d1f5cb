//! Shifts: who is on, and when, in the shift's own time zone. A shift
//! repeats on its days from a local start to a local end (an end before
//! the start runs past midnight into the next day; an end equal to the
//! start makes a 24-hour shift). Time zones come
//! from chrono-tz (the IANA database compiled in), never from a client.
//!
//! Daylight-saving rules, in local time:
//! - a start or end inside the skipped hour (spring forward) happens at
//!   the first valid instant after it (02:30 → 03:00 in Stockholm);
//! - a start or end inside the repeated hour (fall back) happens once, at
//!   its first occurrence.
//!
//! Everything here is a pure function of the shifts and an instant, so the
//! state is recomputed from "now" at start, after downtime and at every
//! boundary; nothing depends on a job having run.

use super::clock::Millis;
use super::ids::{GroupId, ShiftId, StaffId};
use super::validate::{self, FieldError};
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    /// The day of a chrono weekday.
    pub fn of(w: Weekday) -> Day {
        match w {
            Weekday::Mon => Day::Mon,
            Weekday::Tue => Day::Tue,
            Weekday::Wed => Day::Wed,
            Weekday::Thu => Day::Thu,
            Weekday::Fri => Day::Fri,
            Weekday::Sat => Day::Sat,
            Weekday::Sun => Day::Sun,
        }
    }
}

/// A shift's rule: days, local times, zone, and whom it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShiftRule {
    /// Shown in the console and told to agents ("Morning").
    pub name: String,
    /// The days it starts on.
    pub days: Vec<Day>,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; before `start`: the next day; equal to `start`:
    /// 24 hours later.
    pub end: String,
    /// IANA time zone, e.g. `Europe/Stockholm`.
    pub zone: String,
    /// Agents it covers.
    #[serde(default)]
    pub agents: Vec<StaffId>,
    /// Groups it covers: their members, and the groups' business hours.
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

/// A shift as stored and listed: its id and rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredShift {
    /// Stable id.
    pub id: ShiftId,
    /// The rule.
    #[serde(flatten)]
    pub rule: ShiftRule,
    /// Declared in the config file (`[[shifts]]`): read-only here; change
    /// it in the file. Its id stays while its place and name there do.
    #[serde(default)]
    pub from_config: bool,
}

/// A shift made ready for evaluation.
#[derive(Clone, Debug)]
pub struct Shift {
    /// The rule as given.
    pub rule: ShiftRule,
    tz: Tz,
    start: NaiveTime,
    end: NaiveTime,
}

/// One run of a shift: from `start` to `end` (ms since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
}

/// Reads `H:MM` or `HH:MM` (00:00 to 23:59), spaces around allowed.
fn time(field: &'static str, s: &str) -> Result<NaiveTime, FieldError> {
    let bad = || FieldError {
        field,
        message: format!("{s:?} is not a time: write HH:MM, 00:00 to 23:59"),
    };
    if s.chars().count() > 7 {
        return Err(bad());
    }
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |x: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&x.len()) && x.chars().all(|c| c.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(bad());
    }
    let (h, m) = (
        h.parse::<u32>().map_err(|_| bad())?,
        m.parse::<u32>().map_err(|_| bad())?,
    );
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

/// The pattern of [`time`] for the API document.
pub const TIME_PATTERN: &str = r"^\s*(?:[01]?[0-9]|2[0-3]):[0-5][0-9]\s*$";

/// Reads an IANA time zone name, exactly as the database spells it.
pub fn zone(name: &str) -> Result<Tz, FieldError> {
    name.parse::<Tz>().map_err(|_| FieldError {
        field: "zone",
        message: format!("{name:?} is not a time zone: use an IANA name like Europe/Stockholm or America/New_York"),
    })
}

impl ShiftRule {
    /// Checks the rule: a name, at least one day, times, a known zone, an
    /// end other than the start, and someone covered.
    pub fn validated(&self) -> Result<Shift, FieldError> {
        let name = validate::text("name", &self.name, 1, 60)?;
        if self.days.is_empty() || self.days.len() > 7 {
            return Err(FieldError {
                field: "days",
                message: format!("give 1 to 7 days (mon … sun), got {}", self.days.len()),
            });
        }
        let start = time("start", &self.start)?;
        let end = time("end", &self.end)?;
        let tz = zone(&self.zone)?;
        let mut days: Vec<Day> = Vec::new();
        for d in &self.days {
            if !days.contains(d) {
                days.push(*d);
            }
        }
        let rule = ShiftRule {
            name,
            days,
            start: start.format("%H:%M").to_string(),
            end: end.format("%H:%M").to_string(),
            zone: tz.name().to_string(),
            agents: self.agents.clone(),
            groups: self.groups.clone(),
        };
        Ok(Shift {
            rule,
            tz,
            start,
            end,
        })
    }
}

/// The instant of local `date` `time` in `tz`: the first valid instant at
/// or after it when the clock skips it, the first one when it repeats.
pub fn resolve(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut local = date.and_time(time);
    // A gap is at most a few hours; step out of it a minute at a time.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&date.and_time(time))
}

fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis().max(0) as Millis
}

fn instant(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms as i64).unwrap_or_default()
}

impl Shift {
    /// Whether the shift covers an agent in `groups`.
    pub fn covers(&self, staff: StaffId, groups: &[GroupId]) -> bool {
        self.rule.agents.contains(&staff) || self.rule.groups.iter().any(|g| groups.contains(g))
    }

    /// The runs that start on local dates from `from` for `days` days.
    fn runs_from(&self, from: NaiveDate, days: i64) -> impl Iterator<Item = Run> + '_ {
        (0..days).filter_map(move |i| {
            let date = from + Duration::days(i);
            if !self.rule.days.contains(&Day::of(date.weekday())) {
                return None;
            }
            let end_date = if self.end <= self.start {
                date + Duration::days(1)
            } else {
                date
            };
            let start = millis(resolve(self.tz, date, self.start));
            let end = millis(resolve(self.tz, end_date, self.end));
            (end > start).then_some(Run { start, end })
        })
    }

    /// The local date of `now` in the shift's zone.
    fn local_date(&self, now: Millis) -> NaiveDate {
        instant(now).with_timezone(&self.tz).date_naive()
    }

    /// The run going on at `now`, if any.
    pub fn run_at(&self, now: Millis) -> Option<Run> {
        let from = self.local_date(now) - Duration::days(1);
        self.runs_from(from, 2)
            .find(|r| r.start <= now && now < r.end)
    }

    /// The first start or end after `now` (within the coming eight days).
    pub fn next_boundary(&self, now: Millis) -> Option<Millis> {
        let from = self.local_date(now) - Duration::days(1);
        self.runs_from(from, 10)
            .flat_map(|r| [r.start, r.end])
            .filter(|t| *t > now)
            .min()
    }
}

/// Why the schedule changed an agent's status, as they are told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleNote {
    /// The shift that started or ended.
    pub shift: Option<String>,
    /// True at a start (now available), false at an end (now offline).
    pub on: bool,
}

/// Every shift of the desk, and the groups' own hours and closed dates,
/// evaluated together.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// The shifts.
    pub shifts: Vec<Shift>,
    /// Groups' own hours and closed dates.
    pub hours: Vec<super::hours::Hours>,
}

impl Schedule {
    /// Whether any shift covers the agent (only those are switched by it).
    pub fn covers(&self, staff: StaffId, groups: &[GroupId]) -> bool {
        self.shifts.iter().any(|s| s.covers(staff, groups))
    }

    /// The shift an agent is on at `now`, if any (the first listed).
    pub fn on_shift(&self, staff: StaffId, groups: &[GroupId], now: Millis) -> Option<&Shift> {
        self.shifts
            .iter()
            .find(|s| s.covers(staff, groups) && s.run_at(now).is_some())
    }

    /// The next instant after `now` at which the agent's schedule turns.
    pub fn next_boundary_for(
        &self,
        staff: StaffId,
        groups: &[GroupId],
        now: Millis,
    ) -> Option<Millis> {
        self.shifts
            .iter()
            .filter(|s| s.covers(staff, groups))
            .filter_map(|s| s.next_boundary(now))
            .min()
    }

    /// A group's business hours: closed on its closed dates; otherwise open
    /// while a shift that lists the group runs; a group no shift lists
    /// follows its own hours, and without those is always open.
    pub fn group_open(&self, group: GroupId, now: Millis) -> bool {
        let own = self.hours.iter().find(|h| h.group == group);
        if own.is_some_and(|h| h.closed_at(now).is_some()) {
            return false;
        }
        let mut listed = self
            .shifts
            .iter()
            .filter(|s| s.rule.groups.contains(&group))
            .peekable();
        if listed.peek().is_some() {
            return listed.any(|s| s.run_at(now).is_some());
        }
        own.is_none_or(|h| h.own_open(now))
    }

    /// The note of the group's closed date covering `now`, if closed by one.
    pub fn closed_note(&self, group: GroupId, now: Millis) -> Option<Option<&str>> {
        self.hours
            .iter()
            .find(|h| h.group == group)
            .and_then(|h| h.closed_at(now))
    }

    /// When a group that is closed at `now` opens next (within two weeks).
    pub fn opens_at(&self, group: GroupId, now: Millis) -> Option<Millis> {
        let mut t = now;
        for _ in 0..200 {
            t = self.next_boundary(t)?;
            if self.group_open(group, t) {
                return Some(t);
            }
            if t > now + 14 * 24 * 3600 * 1000 {
                return None;
            }
        }
        None
    }

    /// How many ms of `[from, to)` the group is open (its business hours):
    /// the report's times counted in business hours only.
    pub fn open_ms(&self, group: GroupId, from: Millis, to: Millis) -> Millis {
        let (mut t, mut open) = (from, 0);
        // A boundary at most every few hours: a long span is bounded too.
        for _ in 0..100_000 {
            if t >= to {
                break;
            }
            let next = self.next_boundary(t).map_or(to, |b| b.clamp(t + 1, to));
            if self.group_open(group, t) {
                open += next - t;
            }
            t = next;
        }
        open
    }

    /// The next instant after `now` at which any shift, own hours or closed
    /// date turns.
    pub fn next_boundary(&self, now: Millis) -> Option<Millis> {
        self.shifts
            .iter()
            .filter_map(|s| s.next_boundary(now))
            .chain(self.hours.iter().filter_map(|h| h.next_boundary(now)))
            .min()
    }
}

#[cfg(test)]
mod tests;
