//! A group's own business hours and its closed dates, in the group's
//! time zone. Own hours count only for a group that no shift lists (a
//! group's shifts are its hours); closed dates close it for the whole local
//! day either way, with an optional note the widget shows.

use super::shift::{zone, Day, Shift, ShiftRule};
use super::validate::{self, FieldError};
use super::{GroupId, Millis};
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Weekly opening hours: days, local start and end (as for shifts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursRule {
    /// Days it opens on.
    pub days: Vec<Day>,
    /// Local opening time, `HH:MM`.
    pub start: String,
    /// Local closing time, `HH:MM` (before `start`: the next day).
    pub end: String,
}

/// A day the group is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedDate {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// What the widget tells visitors that day ("Closed for Christmas").
    #[serde(default)]
    pub note: Option<String>,
}

/// A group's hours as stored and sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupHours {
    /// The zone its hours and dates are in (IANA name).
    pub zone: String,
    /// Weekly hours, used while no shift lists the group (empty: always
    /// open, unless shifts list it).
    #[serde(default)]
    pub hours: Vec<HoursRule>,
    /// Closed dates (at most 366).
    #[serde(default)]
    pub closed: Vec<ClosedDate>,
}

impl Default for GroupHours {
    fn default() -> Self {
        Self {
            zone: "UTC".into(),
            hours: Vec::new(),
            closed: Vec::new(),
        }
    }
}

/// Most weekly rules a group may have.
pub const MAX_RULES: usize = 14;
/// Most closed dates a group may have.
pub const MAX_CLOSED: usize = 366;
/// The pattern of a date for the API document.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// Reads `YYYY-MM-DD`.
pub fn date(field: &'static str, s: &str) -> Result<NaiveDate, FieldError> {
    let t = s.trim();
    let ok = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    ok.then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| FieldError {
            field,
            message: format!("{s:?} is not a date: write YYYY-MM-DD, like 2026-12-24"),
        })
}

/// Hours made ready for evaluation.
#[derive(Clone, Debug)]
pub struct Hours {
    /// The group.
    pub group: GroupId,
    /// As given (normalised).
    pub rule: GroupHours,
    tz: Tz,
    own: Vec<Shift>,
    closed: Vec<(NaiveDate, Option<String>)>,
}

impl GroupHours {
    /// Checks zone, rules and dates; normalises times and drops repeated dates.
    pub fn validated(&self, group: GroupId) -> Result<Hours, FieldError> {
        let tz = zone(&self.zone)?;
        if self.hours.len() > MAX_RULES {
            return Err(FieldError {
                field: "hours",
                message: format!(
                    "give at most {MAX_RULES} opening-hour rules, got {}",
                    self.hours.len()
                ),
            });
        }
        if self.closed.len() > MAX_CLOSED {
            return Err(FieldError {
                field: "closed",
                message: format!(
                    "give at most {MAX_CLOSED} closed dates, got {}",
                    self.closed.len()
                ),
            });
        }
        let mut own = Vec::new();
        let mut hours = Vec::new();
        for h in &self.hours {
            let shift = ShiftRule {
                name: "Opening hours".into(),
                days: h.days.clone(),
                start: h.start.clone(),
                end: h.end.clone(),
                zone: tz.name().to_string(),
                agents: Vec::new(),
                groups: Vec::new(),
            }
            .validated()
            .map_err(|e| FieldError {
                field: if e.field == "name" { "hours" } else { e.field },
                message: e.message,
            })?;
            hours.push(HoursRule {
                days: shift.rule.days.clone(),
                start: shift.rule.start.clone(),
                end: shift.rule.end.clone(),
            });
            own.push(shift);
        }
        let mut closed: Vec<(NaiveDate, Option<String>)> = Vec::new();
        for c in &self.closed {
            let d = date("date", &c.date)?;
            // The limit counts what was sent (with its spaces), as the
            // API document's maxLength does.
            let note = match c.note.as_deref() {
                None => None,
                Some(n) if n.trim().is_empty() => None,
                Some(n) => Some(validate::text("note", n, 1, 200)?),
            };
            if !closed.iter().any(|(x, _)| *x == d) {
                closed.push((d, note));
            }
        }
        closed.sort_by_key(|(d, _)| *d);
        let rule = GroupHours {
            zone: tz.name().to_string(),
            hours,
            closed: closed
                .iter()
                .map(|(d, n)| ClosedDate {
                    date: d.format("%Y-%m-%d").to_string(),
                    note: n.clone(),
                })
                .collect(),
        };
        Ok(Hours {
            group,
            rule,
            tz,
            own,
            closed,
        })
    }
}

/// The start of the local day `days` days before the one holding `now`
/// in `tz` (0: today's midnight), as ms since the epoch.
pub fn local_midnight_days_before(tz: Tz, now: Millis, days: u64) -> Millis {
    let d = local_date(tz, now) - chrono::Days::new(days);
    midnight(tz, d)
}

/// Today's local midnight in `tz`.
pub fn local_midnight(tz: Tz, now: Millis) -> Millis {
    local_midnight_days_before(tz, now, 0)
}

/// The local date of `now` in `tz`.
pub fn local_date(tz: Tz, now: Millis) -> NaiveDate {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now as i64)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// The local midnight starting `d` in `tz`.
pub fn midnight(tz: Tz, d: NaiveDate) -> Millis {
    super::shift::resolve(tz, d, NaiveTime::MIN)
        .timestamp_millis()
        .max(0) as Millis
}

impl Hours {
    /// The closed date covering `now`, with its note.
    pub fn closed_at(&self, now: Millis) -> Option<Option<&str>> {
        let today = local_date(self.tz, now);
        self.closed
            .iter()
            .find(|(d, _)| *d == today)
            .map(|(_, n)| n.as_deref())
    }

    /// Whether the own hours are open at `now` (true when there are none).
    pub fn own_open(&self, now: Millis) -> bool {
        self.own.is_empty() || self.own.iter().any(|s| s.run_at(now).is_some())
    }

    /// Whether there are own hours at all.
    pub fn has_own(&self) -> bool {
        !self.own.is_empty()
    }

    /// The next instant after `now` when the own hours or a closed date turn.
    pub fn next_boundary(&self, now: Millis) -> Option<Millis> {
        let own = self.own.iter().filter_map(|s| s.next_boundary(now));
        let today = local_date(self.tz, now);
        let dates = self
            .closed
            .iter()
            .filter(|(d, _)| *d >= today)
            .take(2)
            .flat_map(|(d, _)| {
                [
                    midnight(self.tz, *d),
                    midnight(self.tz, d.succ_opt().unwrap_or(*d)),
                ]
            })
            .filter(|t| *t > now);
        own.chain(dates).min()
    }

    /// The weekday in the group's zone at `now` (for previews).
    pub fn weekday(&self, now: Millis) -> Day {
        Day::of(local_date(self.tz, now).weekday())
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }
}

/// `now` as local `YYYY-MM-DD HH:MM` in `tz`.
pub fn local_text(tz: Tz, now: Millis) -> String {
    tz.timestamp_millis_opt(now as i64)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(tz: &str, y: i32, m: u32, d: u32, h: u32) -> Millis {
        let tz: Tz = tz.parse().unwrap();
        super::super::shift::resolve(
            tz,
            NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            NaiveTime::from_hms_opt(h, 0, 0).unwrap(),
        )
        .timestamp_millis() as Millis
    }

    #[test]
    fn a_closed_date_closes_the_whole_local_day_and_says_its_note() {
        let h = GroupHours {
            zone: "America/New_York".into(),
            hours: vec![],
            closed: vec![ClosedDate {
                date: "2026-12-25".into(),
                note: Some("Merry Christmas".into()),
            }],
        }
        .validated(GroupId::generate())
        .unwrap();
        assert_eq!(h.closed_at(ms("America/New_York", 2026, 12, 24, 23)), None);
        assert_eq!(
            h.closed_at(ms("America/New_York", 2026, 12, 25, 0)),
            Some(Some("Merry Christmas"))
        );
        assert_eq!(
            h.closed_at(ms("America/New_York", 2026, 12, 25, 23)),
            Some(Some("Merry Christmas"))
        );
        assert_eq!(h.closed_at(ms("America/New_York", 2026, 12, 26, 0)), None);
        // The boundaries are the local midnights.
        let eve = ms("America/New_York", 2026, 12, 24, 12);
        assert_eq!(
            h.next_boundary(eve),
            Some(ms("America/New_York", 2026, 12, 25, 0))
        );
        assert_eq!(
            h.next_boundary(ms("America/New_York", 2026, 12, 25, 1)),
            Some(ms("America/New_York", 2026, 12, 26, 0))
        );
    }

    #[test]
    fn own_hours_open_and_close_and_bad_input_names_the_field() {
        let h = GroupHours {
            zone: "Europe/Stockholm".into(),
            hours: vec![HoursRule {
                days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
                start: "9:00".into(),
                end: "17:00".into(),
            }],
            closed: vec![],
        }
        .validated(GroupId::generate())
        .unwrap();
        assert_eq!(h.rule.hours[0].start, "09:00");
        // 2026-12-02 is a Wednesday.
        assert!(!h.own_open(ms("Europe/Stockholm", 2026, 12, 2, 8)));
        assert!(h.own_open(ms("Europe/Stockholm", 2026, 12, 2, 9)));
        assert!(
            !h.own_open(ms("Europe/Stockholm", 2026, 12, 5, 12)),
            "Saturday"
        );
        let bad = |g: GroupHours| g.validated(GroupId::generate()).unwrap_err().field;
        assert_eq!(
            bad(GroupHours {
                zone: "Mars/Base".into(),
                ..GroupHours::default()
            }),
            "zone"
        );
        assert_eq!(
            bad(GroupHours {
                closed: vec![ClosedDate {
                    date: "2026-13-01".into(),
                    note: None
                }],
                ..GroupHours::default()
            }),
            "date"
        );
        assert_eq!(
            bad(GroupHours {
                hours: vec![HoursRule {
                    days: vec![],
                    start: "09:00".into(),
                    end: "10:00".into()
                }],
                ..GroupHours::default()
            }),
            "days"
        );
    }
}
