//! Shift and schedule rules: local times, day wraps and daylight saving.

use super::*;

fn at(tz: &str, y: i32, m: u32, d: u32, h: u32, min: u32) -> Millis {
    let tz: Tz = tz.parse().expect("zone");
    let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
    millis(resolve(
        tz,
        date,
        NaiveTime::from_hms_opt(h, min, 0).expect("time"),
    ))
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Millis {
    millis(
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("utc"),
    )
}

fn shift(days: &[Day], start: &str, end: &str, zone: &str) -> Shift {
    ShiftRule {
        name: "Day".into(),
        days: days.to_vec(),
        start: start.into(),
        end: end.into(),
        zone: zone.into(),
        agents: vec![StaffId::generate()],
        groups: vec![],
    }
    .validated()
    .expect("valid")
}

const WEEK: &[Day] = &[
    Day::Mon,
    Day::Tue,
    Day::Wed,
    Day::Thu,
    Day::Fri,
    Day::Sat,
    Day::Sun,
];

#[test]
fn a_shift_runs_in_its_own_zone() {
    let s = shift(&[Day::Mon], "09:00", "17:00", "America/New_York");
    // Monday 2026-01-05, 09:00 in New York is 14:00 UTC (EST, -5).
    assert!(s.run_at(utc(2026, 1, 5, 13, 59)).is_none());
    assert!(s.run_at(utc(2026, 1, 5, 14, 0)).is_some());
    assert!(s.run_at(utc(2026, 1, 5, 21, 59)).is_some());
    assert!(s.run_at(utc(2026, 1, 5, 22, 0)).is_none());
    assert!(s.run_at(utc(2026, 1, 6, 15, 0)).is_none(), "not on Tuesday");
    assert_eq!(
        s.next_boundary(utc(2026, 1, 5, 10, 0)),
        Some(utc(2026, 1, 5, 14, 0))
    );
    assert_eq!(
        s.next_boundary(utc(2026, 1, 5, 14, 0)),
        Some(utc(2026, 1, 5, 22, 0))
    );
    assert_eq!(
        s.next_boundary(utc(2026, 1, 5, 22, 0)),
        Some(utc(2026, 1, 12, 14, 0)),
        "next Monday"
    );
}

#[test]
fn a_night_shift_crosses_midnight() {
    let s = shift(&[Day::Fri], "22:00", "06:00", "Europe/Stockholm");
    // Friday 2026-01-09 22:00 CET = 21:00 UTC; ends Saturday 06:00 = 05:00 UTC.
    assert!(s.run_at(utc(2026, 1, 9, 20, 59)).is_none());
    assert!(s.run_at(utc(2026, 1, 9, 21, 0)).is_some());
    assert!(
        s.run_at(utc(2026, 1, 10, 4, 59)).is_some(),
        "Saturday morning is still Friday's shift"
    );
    assert!(s.run_at(utc(2026, 1, 10, 5, 0)).is_none());
    assert!(
        s.run_at(utc(2026, 1, 10, 21, 30)).is_none(),
        "no shift starts on Saturday"
    );
}

#[test]
fn daylight_saving_changes_keep_local_times_in_stockholm() {
    let s = shift(WEEK, "09:00", "17:00", "Europe/Stockholm");
    // Before 2026-03-29 Stockholm is UTC+1, after UTC+2.
    assert_eq!(
        s.run_at(utc(2026, 3, 28, 8, 0)).map(|r| r.start),
        Some(utc(2026, 3, 28, 8, 0))
    );
    assert_eq!(
        s.run_at(utc(2026, 3, 30, 7, 0)).map(|r| r.start),
        Some(utc(2026, 3, 30, 7, 0))
    );
    // Autumn: 2026-10-25 back to UTC+1.
    assert_eq!(
        s.run_at(utc(2026, 10, 24, 7, 0)).map(|r| r.end),
        Some(utc(2026, 10, 24, 15, 0))
    );
    assert_eq!(
        s.run_at(utc(2026, 10, 26, 8, 0)).map(|r| r.end),
        Some(utc(2026, 10, 26, 16, 0))
    );
}

#[test]
fn daylight_saving_changes_keep_local_times_in_new_york() {
    let s = shift(WEEK, "09:00", "17:00", "America/New_York");
    // 2026-03-08 spring forward (EST -5 → EDT -4); 2026-11-01 fall back.
    assert_eq!(
        s.run_at(utc(2026, 3, 7, 15, 0)).map(|r| r.start),
        Some(utc(2026, 3, 7, 14, 0))
    );
    assert_eq!(
        s.run_at(utc(2026, 3, 9, 15, 0)).map(|r| r.start),
        Some(utc(2026, 3, 9, 13, 0))
    );
    assert_eq!(
        s.run_at(utc(2026, 10, 31, 15, 0)).map(|r| r.start),
        Some(utc(2026, 10, 31, 13, 0))
    );
    assert_eq!(
        s.run_at(utc(2026, 11, 2, 15, 0)).map(|r| r.start),
        Some(utc(2026, 11, 2, 14, 0))
    );
}

#[test]
fn a_start_in_the_skipped_hour_begins_at_the_first_valid_instant() {
    // Stockholm skips 02:00–03:00 on 2026-03-29: a 02:30 start is 03:00 CEST = 01:00 UTC.
    let s = shift(&[Day::Sun], "02:30", "08:00", "Europe/Stockholm");
    let run = s.run_at(utc(2026, 3, 29, 2, 0)).expect("running");
    assert_eq!(run.start, utc(2026, 3, 29, 1, 0));
    assert_eq!(run.start, at("Europe/Stockholm", 2026, 3, 29, 3, 0));
    assert_eq!(run.end, utc(2026, 3, 29, 6, 0));
}

#[test]
fn a_start_in_the_repeated_hour_begins_once() {
    // Stockholm repeats 02:00–03:00 on 2026-10-25: 02:30 happens at 00:30 and 01:30 UTC.
    let s = shift(&[Day::Sun], "02:30", "04:00", "Europe/Stockholm");
    let run = s
        .run_at(utc(2026, 10, 25, 0, 45))
        .expect("running from the first 02:30");
    assert_eq!(run.start, utc(2026, 10, 25, 0, 30));
    assert_eq!(run.end, utc(2026, 10, 25, 3, 0));
    let boundaries: Vec<Millis> =
        std::iter::successors(Some(utc(2026, 10, 24, 12, 0)), |t| s.next_boundary(*t))
            .skip(1)
            .take_while(|t| *t < utc(2026, 10, 26, 0, 0))
            .collect();
    assert_eq!(
        boundaries,
        vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3, 0)],
        "one start, one end"
    );
}

#[test]
fn rules_are_checked_with_the_field_named() {
    let mut r = ShiftRule {
        name: "Morning".into(),
        days: vec![Day::Mon],
        start: "09:00".into(),
        end: "09:00".into(),
        zone: "UTC".into(),
        agents: vec![StaffId::generate()],
        groups: vec![],
    };
    let whole = r.validated().expect("24 hours");
    let monday = utc(2026, 1, 5, 8, 0);
    assert_eq!(
        whole.run_at(monday + 3_600_000).map(|x| x.end - x.start),
        Some(24 * 3_600_000)
    );
    r.end = "17:00".into();
    r.zone = "Mars/Olympus".into();
    assert_eq!(r.validated().unwrap_err().field, "zone");
    r.zone = "Europe/Stockholm".into();
    r.start = "25:00".into();
    assert_eq!(r.validated().unwrap_err().field, "start");
    r.start = "9:00".into();
    assert_eq!(
        r.validated().map(|s| s.rule.start).ok().as_deref(),
        Some("09:00")
    );
    for bad in [
        "9",
        "09:5",
        "009:00",
        "24:00",
        "12:60",
        "a:00",
        "   09:00   ",
    ] {
        r.start = bad.into();
        assert_eq!(r.validated().unwrap_err().field, "start", "{bad}");
    }
    r.start = "09:00".into();
    r.days.clear();
    assert_eq!(r.validated().unwrap_err().field, "days");
}

#[test]
fn the_schedule_answers_per_agent() {
    let ann = StaffId::generate();
    let support = GroupId::generate();
    let mut morning = shift(WEEK, "08:00", "12:00", "UTC");
    morning.rule.agents = vec![ann];
    let mut late = shift(WEEK, "16:00", "20:00", "UTC");
    late.rule.agents = vec![];
    late.rule.groups = vec![support];
    let s = Schedule {
        shifts: vec![morning, late],
        hours: vec![],
    };
    let bo = StaffId::generate();
    assert!(s.covers(ann, &[]) && s.covers(bo, &[support]) && !s.covers(bo, &[]));
    let t = utc(2026, 5, 4, 9, 0);
    assert!(s.on_shift(ann, &[], t).is_some());
    assert!(s.on_shift(bo, &[support], t).is_none());
    assert_eq!(
        s.next_boundary_for(bo, &[support], t),
        Some(utc(2026, 5, 4, 16, 0))
    );
    assert_eq!(s.next_boundary(t), Some(utc(2026, 5, 4, 12, 0)));
    assert!(!s.group_open(support, t), "Support has hours: 16 to 20");
    assert!(s.group_open(support, utc(2026, 5, 4, 17, 0)));
    assert!(
        s.group_open(GroupId::generate(), t),
        "a group without shifts is always open"
    );
}
