//! The counters of the reports: a [`Tally`] per UTC day and per UTC hour
//! for each group and agent, the waiting-time histogram its 90th
//! percentile is read from, their keys, and the [`Sum`] of the tallies a
//! report covers, as [`Figures`].

use super::{Fact, Outcome};
use crate::domain::clock::Millis;
use crate::domain::ids::{GroupId, StaffId};
use crate::domain::rating::Score;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Slots of the waiting-time histogram.
pub const SLOTS: usize = 352;

/// The histogram slot of a duration of `ms`.
pub fn slot(ms: Millis) -> usize {
    let s = ms / 1000;
    let up = |from: u64, step: u64| (s - from).div_ceil(step);
    (match s {
        0..=120 => s,
        121..=1200 => 120 + up(120, 10),
        1201..=7200 => 228 + up(1200, 60),
        7201..=86_400 => 328 + up(7200, 3600),
        _ => 351,
    }) as usize
}

/// The duration a slot stands for, ms: exact seconds up to 2 minutes, then
/// the slot's upper end.
pub fn slot_ms(slot: usize) -> Millis {
    let k = slot as u64;
    1000 * match slot {
        0..=120 => k,
        121..=228 => 120 + 10 * (k - 120),
        229..=328 => 1200 + 60 * (k - 228),
        _ => 7200 + 3600 * (k.min(350) - 328),
    }
}

/// A count and a total of durations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Times {
    /// How many.
    pub n: u32,
    /// Their sum, ms.
    pub sum: u64,
}

impl Times {
    fn add(&mut self, ms: Option<Millis>, plus: bool) {
        if let Some(ms) = ms {
            if plus {
                self.n = self.n.saturating_add(1);
                self.sum = self.sum.saturating_add(ms);
            } else {
                self.n = self.n.saturating_sub(1);
                self.sum = self.sum.saturating_sub(ms);
            }
        }
    }

    fn merge(&mut self, o: &Times) {
        self.n = self.n.saturating_add(o.n);
        self.sum = self.sum.saturating_add(o.sum);
    }

    /// The average, ms (none without any).
    pub fn average(&self) -> Option<Millis> {
        (self.n > 0).then(|| (self.sum + u64::from(self.n) / 2) / u64::from(self.n))
    }
}

/// The counters of one group and agent over one UTC day or hour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Ended chats.
    pub chats: u32,
    /// Of them answered.
    pub answered: u32,
    /// Missed.
    pub missed: u32,
    /// Abandoned.
    pub abandoned: u32,
    /// Whose end made a ticket.
    pub tickets: u32,
    /// Rated good.
    pub good: u32,
    /// Rated bad.
    pub bad: u32,
    /// Questions an article solved (no chat started).
    pub solved: u32,
    /// Waiting, first response and handling times; then the same counted in
    /// business hours.
    pub times: [Times; 6],
    /// Chats started in each UTC hour of the day.
    pub hours: [u32; 24],
    /// Waiting times by slot (`(slot, count)`, by slot): all, business hours.
    pub waits: [Vec<(u16, u32)>; 2],
}

fn bump(n: &mut u32, plus: bool) {
    *n = if plus {
        n.saturating_add(1)
    } else {
        n.saturating_sub(1)
    };
}

fn bump_slot(h: &mut Vec<(u16, u32)>, ms: Option<Millis>, plus: bool) {
    let Some(ms) = ms else { return };
    let s = slot(ms) as u16;
    match h.binary_search_by_key(&s, |(k, _)| *k) {
        Ok(i) => {
            bump(&mut h[i].1, plus);
            if h[i].1 == 0 {
                h.remove(i);
            }
        }
        Err(i) if plus => h.insert(i, (s, 1)),
        Err(_) => {}
    }
}

/// The UTC hour (hours since the epoch) holding `at`.
pub fn hour_of(at: Millis) -> u32 {
    (at / 3_600_000) as u32
}

impl Tally {
    /// Adds (or with `plus` false, takes away) one chat's fact.
    pub fn apply(&mut self, f: &Fact, plus: bool) {
        bump(&mut self.chats, plus);
        match f.outcome {
            Outcome::Answered => bump(&mut self.answered, plus),
            Outcome::Missed => bump(&mut self.missed, plus),
            Outcome::Abandoned => bump(&mut self.abandoned, plus),
        }
        if f.ticket {
            bump(&mut self.tickets, plus);
        }
        self.rate(f.rating, plus);
        for (i, d) in [f.times, f.open_times].iter().enumerate() {
            self.times[3 * i].add(d.wait, plus);
            self.times[3 * i + 1].add(d.first_response, plus);
            self.times[3 * i + 2].add(d.handling, plus);
            bump_slot(&mut self.waits[i], d.wait, plus);
        }
        bump(&mut self.hours[(hour_of(f.started_at) % 24) as usize], plus);
    }

    /// Adds (or takes away) a rating.
    pub fn rate(&mut self, score: Option<Score>, plus: bool) {
        match score {
            Some(Score::Good) => bump(&mut self.good, plus),
            Some(Score::Bad) => bump(&mut self.bad, plus),
            None => {}
        }
    }

    /// Whether nothing is counted (the store then drops the entry).
    pub fn is_empty(&self) -> bool {
        self.chats == 0 && self.solved == 0
    }

    /// The stored form: a version byte, then fixed-width little-endian
    /// fields (a year's report reads thousands of these: no JSON).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(
            1 + 4 * 8 + 12 * 6 + 4 * 24 + 8 + 6 * (self.waits[0].len() + self.waits[1].len()),
        );
        b.push(1);
        for n in [
            self.chats,
            self.answered,
            self.missed,
            self.abandoned,
            self.tickets,
            self.good,
            self.bad,
            self.solved,
        ] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        for t in &self.times {
            b.extend_from_slice(&t.n.to_le_bytes());
            b.extend_from_slice(&t.sum.to_le_bytes());
        }
        for h in &self.hours {
            b.extend_from_slice(&h.to_le_bytes());
        }
        for w in &self.waits {
            b.extend_from_slice(&(w.len() as u32).to_le_bytes());
            for (s, n) in w {
                b.extend_from_slice(&s.to_le_bytes());
                b.extend_from_slice(&n.to_le_bytes());
            }
        }
        b
    }

    /// Reads [`Tally::encode`]'s form; `None` when it is not that.
    pub fn decode(bytes: &[u8]) -> Option<Tally> {
        let mut r = Reader(bytes);
        if r.take(1)? != [1] {
            return None;
        }
        let mut t = Tally::default();
        for n in [
            &mut t.chats,
            &mut t.answered,
            &mut t.missed,
            &mut t.abandoned,
            &mut t.tickets,
            &mut t.good,
            &mut t.bad,
            &mut t.solved,
        ] {
            *n = r.u32()?;
        }
        for x in &mut t.times {
            x.n = r.u32()?;
            x.sum = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
        }
        for h in &mut t.hours {
            *h = r.u32()?;
        }
        for w in &mut t.waits {
            let len = r.u32()? as usize;
            if len > SLOTS {
                return None;
            }
            for _ in 0..len {
                let s = u16::from_le_bytes(r.take(2)?.try_into().ok()?);
                w.push((s, r.u32()?));
            }
        }
        r.0.is_empty().then_some(t)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Tallies summed for one row of a report.
#[derive(Clone, Debug)]
pub struct Sum {
    /// The summed counters (its `waits` unused).
    pub tally: Tally,
    /// Waiting times by slot: all, business hours.
    pub waits: [Vec<u64>; 2],
}

impl Default for Sum {
    fn default() -> Self {
        Sum {
            tally: Tally::default(),
            waits: [vec![0; SLOTS], vec![0; SLOTS]],
        }
    }
}

impl Sum {
    /// Adds one tally.
    pub fn add(&mut self, t: &Tally) {
        let s = &mut self.tally;
        for (a, b) in [
            (&mut s.chats, t.chats),
            (&mut s.answered, t.answered),
            (&mut s.missed, t.missed),
            (&mut s.abandoned, t.abandoned),
            (&mut s.tickets, t.tickets),
            (&mut s.good, t.good),
            (&mut s.bad, t.bad),
            (&mut s.solved, t.solved),
        ] {
            *a = a.saturating_add(b);
        }
        for (a, b) in s.times.iter_mut().zip(&t.times) {
            a.merge(b);
        }
        for (a, b) in s.hours.iter_mut().zip(&t.hours) {
            *a = a.saturating_add(*b);
        }
        for (sum, w) in self.waits.iter_mut().zip(&t.waits) {
            for (slot, n) in w {
                if let Some(x) = sum.get_mut(usize::from(*slot)) {
                    *x += u64::from(*n);
                }
            }
        }
    }

    /// The row of figures, its times counted in business hours only when
    /// `business`.
    pub fn row(&self, business: bool) -> Figures {
        let t = &self.tally;
        let o = if business { 3 } else { 0 };
        let rated = t.good + t.bad;
        Figures {
            chats: t.chats,
            answered: t.answered,
            missed: t.missed,
            abandoned: t.abandoned,
            wait_avg_ms: t.times[o].average(),
            wait_p90_ms: p90(&self.waits[usize::from(business)]),
            first_response_avg_ms: t.times[o + 1].average(),
            handling_avg_ms: t.times[o + 2].average(),
            rated_good: t.good,
            rated_bad: t.bad,
            satisfaction_pct: (rated > 0).then(|| {
                ((u64::from(t.good) * 100 + u64::from(rated) / 2) / u64::from(rated)) as u32
            }),
            solved_by_article: t.solved,
            tickets: t.tickets,
        }
    }
}

/// The nearest-rank 90th percentile of a histogram, ms.
pub fn p90(hist: &[u64]) -> Option<Millis> {
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return None;
    }
    let rank = (n * 9).div_ceil(10);
    let mut seen = 0;
    for (slot, c) in hist.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(slot_ms(slot));
        }
    }
    None
}

/// One row's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Ended chats.
    pub chats: u32,
    /// Chats an agent accepted.
    pub answered: u32,
    /// Chats nobody accepted before the queue timed out or the group closed.
    pub missed: u32,
    /// Chats the visitor left before anyone accepted them.
    pub abandoned: u32,
    /// Average waiting time of answered chats, ms.
    pub wait_avg_ms: Option<Millis>,
    /// 90th percentile of the waiting time (nearest rank), ms.
    pub wait_p90_ms: Option<Millis>,
    /// Average time from start to the first agent message, ms.
    pub first_response_avg_ms: Option<Millis>,
    /// Average time from accept to end of answered chats, ms.
    pub handling_avg_ms: Option<Millis>,
    /// Chats rated good.
    pub rated_good: u32,
    /// Chats rated bad.
    pub rated_bad: u32,
    /// Good ratings as a whole percentage of all ratings.
    pub satisfaction_pct: Option<u32>,
    /// Questions an article solved before a chat (groups and totals only).
    pub solved_by_article: u32,
    /// Chats whose end made a ticket.
    pub tickets: u32,
}

/// The key of a tally: a UTC day or hour, the group, the agent (zeros:
/// none).
pub fn tally_key(slot: u32, group: GroupId, agent: Option<StaffId>) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..4].copy_from_slice(&slot.to_be_bytes());
    k[4..20].copy_from_slice(&group.to_bytes());
    if let Some(a) = agent {
        k[20..].copy_from_slice(&a.to_bytes());
    }
    k
}

/// Reads a [`tally_key`]: (day or hour, group, agent).
pub fn parse_tally_key(k: &[u8]) -> Option<(u32, GroupId, Option<StaffId>)> {
    let slot = u32::from_be_bytes(k.get(..4)?.try_into().ok()?);
    let group = GroupId::from_bytes(k.get(4..20)?.try_into().ok()?);
    let agent: [u8; 16] = k.get(20..36)?.try_into().ok()?;
    (k.len() == 36).then_some((
        slot,
        group,
        (agent != [0; 16]).then(|| StaffId::from_bytes(agent)),
    ))
}

/// Which tallies a report reads for `[start, end)` (ms, floored to whole
/// hours): whole UTC days from the day tallies, the hours at either edge
/// from the hour tallies. Returns (days, hour ranges).
pub fn spans(start: Millis, end: Millis) -> (std::ops::Range<u32>, [std::ops::Range<u32>; 2]) {
    let (h0, h1) = (hour_of(start), hour_of(end).max(hour_of(start)));
    let (d0, d1) = (h0.div_ceil(24), h1 / 24);
    if d0 >= d1 {
        return (0..0, [h0..h1, 0..0]);
    }
    (d0..d1, [h0..d0 * 24, d1 * 24..h1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_exact_to_the_second_then_coarser_and_ordered() {
        assert_eq!((slot(0), slot(999), slot(120_999)), (0, 0, 120));
        assert_eq!(slot_ms(slot(45_400)), 45_000);
        assert_eq!(slot_ms(slot(125_000)), 130_000);
        assert_eq!(slot_ms(slot(1_201_000)), 1_260_000);
        assert_eq!(slot_ms(slot(7_201_000)), 10_800_000);
        assert_eq!(slot(10 * 86_400_000), SLOTS - 1);
        let mut last = 0;
        for ms in (0..90_000_000).step_by(7_777) {
            let s = slot(ms);
            assert!(s >= last && s < SLOTS);
            assert!(slot_ms(s) + 1000 > ms || s == SLOTS - 1);
            last = s;
        }
    }

    #[test]
    fn p90_is_the_nearest_rank() {
        let mut h = vec![0; SLOTS];
        for n in h.iter_mut().take(11).skip(1) {
            *n += 1;
        }
        assert_eq!(p90(&h), Some(9_000));
        h[100] += 1;
        assert_eq!(p90(&h), Some(10_000));
        assert_eq!(p90(&[0; SLOTS]), None);
    }

    #[test]
    fn keys_round_trip_and_spans_split_days_from_edge_hours() {
        let (g, a) = (GroupId::generate(), StaffId::generate());
        assert_eq!(
            parse_tally_key(&tally_key(7, g, Some(a))),
            Some((7, g, Some(a)))
        );
        assert_eq!(parse_tally_key(&tally_key(7, g, None)), Some((7, g, None)));
        assert_eq!(parse_tally_key(&[1, 2]), None);
        let h = 3_600_000;
        // 22:00 on day 10 to 02:00 on day 13: hours 22-23, days 11-12, hours 0-1.
        let (days, hours) = spans((10 * 24 + 22) * h, (13 * 24 + 2) * h);
        assert_eq!(days, 11..13);
        assert_eq!(hours, [(10 * 24 + 22)..(11 * 24), (13 * 24)..(13 * 24 + 2)]);
        let (days, hours) = spans((10 * 24 + 1) * h, (10 * 24 + 5) * h);
        assert_eq!(
            (days, hours[0].clone()),
            (0..0, (10 * 24 + 1)..(10 * 24 + 5))
        );
        let (days, hours) = spans(240 * h, 264 * h);
        assert_eq!((days, hours), (10..11, [240..240, 264..264]));
    }
}
