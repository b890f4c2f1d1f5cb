//! Reports: what each ended chat adds to the figures (its [`Fact`]), the
//! counters kept per UTC day and per UTC hour for each group and agent
//! ([`Tally`]), and how a report for a date range in a time zone is summed
//! from them ([`Sum`], [`Row`]). Pure: the store keeps the counters in
//! step with every chat that ends, is rated or deleted.
//!
//! Rules (docs/console.md, "Reports"):
//! - A chat counts once it has ended, on the day and hour it started, for
//!   the group and the agent it ended with (a transferred chat counts for
//!   the last; a missed chat for no agent).
//! - answered: an agent accepted it; missed: nobody did before the queue
//!   timed out or the group closed; abandoned: the visitor left (or it
//!   idled out) before anyone accepted it.
//! - waiting time: from start to the first accept, over answered chats;
//!   first response: from start to the first agent message; handling: from
//!   the first accept to the end. Each is also kept counted in business
//!   hours only (the group's open time by its shifts and hours).
//! - The 90th percentile is the nearest rank, read from a histogram that is
//!   exact to the second up to 2 minutes, then to 10 s up to 20 minutes, to
//!   the minute up to 2 hours, to the hour up to a day.

use super::chat::{Chat, EndedBy};
use super::clock::Millis;
use super::ids::{ChatId, GroupId, StaffId};
use super::rating::Score;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod tally;
pub use tally::*;

/// How a chat came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An agent accepted it.
    Answered,
    /// Nobody accepted it before its queue timed out or its group closed.
    Missed,
    /// The visitor left, or it idled out, before anyone accepted it.
    Abandoned,
}

/// Durations of one chat, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    /// Start to first accept (answered chats).
    pub wait: Option<Millis>,
    /// Start to the first agent message.
    pub first_response: Option<Millis>,
    /// First accept to end (answered chats).
    pub handling: Option<Millis>,
}

/// What one ended chat adds to the reports, kept so that a rating or a
/// deletion later changes the same counters, and so a figure lists the
/// chats behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The chat.
    pub chat: ChatId,
    /// The group it ended in.
    pub group: GroupId,
    /// The agent it ended with (none for a missed or abandoned chat).
    pub agent: Option<StaffId>,
    /// When it started.
    pub started_at: Millis,
    /// How it came out.
    pub outcome: Outcome,
    /// Its durations.
    pub times: Durations,
    /// Its durations counted in its group's business hours only.
    pub open_times: Durations,
    /// A ticket was made from it (before or after it ended).
    pub ticket: bool,
    /// The visitor's rating, once given.
    pub rating: Option<Score>,
}

/// The open (business-hours) ms of `group` between two instants; the
/// store passes the desk's schedule (`|_, a, b| b - a` counts all time).
pub type OpenTime<'a> = &'a dyn Fn(GroupId, Millis, Millis) -> Millis;

impl Fact {
    /// The fact of an ended chat (`None` while it runs); `ticket`: a
    /// ticket was made from it.
    pub fn of(
        chat: &Chat,
        rating: Option<Score>,
        ticket: bool,
        open: OpenTime<'_>,
    ) -> Option<Fact> {
        let ended = chat.ended_at?;
        let answered = chat.answered_at;
        let outcome = match (answered, chat.ended_by) {
            (Some(_), _) => Outcome::Answered,
            (None, Some(EndedBy::QueueTimeout | EndedBy::Closed)) => Outcome::Missed,
            (None, _) => Outcome::Abandoned,
        };
        let span = |a: Millis, b: Millis| b.saturating_sub(a);
        let pairs = [
            answered.map(|a| (chat.started_at, a)),
            chat.first_response_at.map(|r| (chat.started_at, r)),
            answered.map(|a| (a, ended)),
        ];
        let times = |f: &dyn Fn(Millis, Millis) -> Millis| Durations {
            wait: pairs[0].map(|(a, b)| f(a, b)),
            first_response: pairs[1].map(|(a, b)| f(a, b)),
            handling: pairs[2].map(|(a, b)| f(a, b)),
        };
        Some(Fact {
            chat: chat.id,
            group: chat.group,
            agent: answered.and(chat.owner),
            started_at: chat.started_at,
            outcome,
            times: times(&span),
            open_times: times(&|a, b| if b > a { open(chat.group, a, b) } else { 0 }),
            ticket,
            rating,
        })
    }

    /// Whether this chat is behind `measure`'s figure.
    pub fn counts_in(&self, measure: Measure) -> bool {
        match measure {
            Measure::Chats => true,
            Measure::Answered => self.outcome == Outcome::Answered,
            Measure::Missed => self.outcome == Outcome::Missed,
            Measure::Abandoned => self.outcome == Outcome::Abandoned,
            Measure::Tickets => self.ticket,
            Measure::Good => self.rating == Some(Score::Good),
            Measure::Bad => self.rating == Some(Score::Bad),
        }
    }
}

/// Whether `staff` sees the figures of `group` and `agent`: admins every
/// one, managers their groups' and their own, agents their own.
pub fn visible_to(staff: &super::staff::Staff, group: GroupId, agent: Option<StaffId>) -> bool {
    staff.role.is_admin()
        || agent == Some(staff.id)
        || (staff.role == super::staff::Role::Manager && staff.in_group(group))
}

/// A figure whose chats can be listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Every ended chat.
    #[default]
    Chats,
    /// Answered chats.
    Answered,
    /// Missed chats.
    Missed,
    /// Abandoned chats.
    Abandoned,
    /// Chats whose end made a ticket.
    Tickets,
    /// Chats rated good.
    Good,
    /// Chats rated bad.
    Bad,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{ChatState, Visitor};

    fn ended(wait_s: Option<u64>, by: EndedBy) -> Chat {
        let mut c = Chat::waiting(
            GroupId::generate(),
            Visitor {
                name: "Vera".into(),
                email: None,
                page_url: None,
            },
            1_000_000,
        );
        c.state = ChatState::Ended;
        c.answered_at = wait_s.map(|s| 1_000_000 + s * 1000);
        c.owner = wait_s.map(|_| StaffId::generate());
        c.first_response_at = wait_s.map(|s| 1_000_000 + s * 1000 + 5000);
        c.ended_at = Some(2_000_000);
        c.ended_by = Some(by);
        c
    }

    fn all(_: GroupId, a: Millis, b: Millis) -> Millis {
        b - a
    }

    #[test]
    fn a_fact_names_its_outcome_and_times() {
        let f = Fact::of(&ended(Some(30), EndedBy::Visitor), None, false, &all).expect("ended");
        assert_eq!(f.outcome, Outcome::Answered);
        assert_eq!(
            f.times,
            Durations {
                wait: Some(30_000),
                first_response: Some(35_000),
                handling: Some(970_000)
            }
        );
        let missed =
            Fact::of(&ended(None, EndedBy::QueueTimeout), None, false, &all).expect("ended");
        assert_eq!((missed.outcome, missed.agent), (Outcome::Missed, None));
        let left = Fact::of(&ended(None, EndedBy::Visitor), None, false, &all).expect("ended");
        assert_eq!(left.outcome, Outcome::Abandoned);
        let closed = |_: GroupId, _: Millis, _: Millis| 0;
        let f = Fact::of(&ended(Some(30), EndedBy::Visitor), None, false, &closed).expect("ended");
        assert_eq!(f.open_times.wait, Some(0));
        let mut running = ended(Some(1), EndedBy::Visitor);
        running.ended_at = None;
        assert_eq!(Fact::of(&running, None, false, &all), None);
    }

    #[test]
    fn a_tally_adds_and_takes_away_and_round_trips() {
        let f = Fact::of(
            &ended(Some(30), EndedBy::Visitor),
            Some(Score::Good),
            false,
            &all,
        )
        .expect("ended");
        let mut t = Tally::default();
        t.apply(&f, true);
        t.apply(&f, true);
        t.solved = 3;
        assert_eq!((t.chats, t.answered, t.good), (2, 2, 2));
        assert_eq!(t.waits[0], vec![(30, 2)]);
        assert_eq!(Tally::decode(&t.encode()), Some(t.clone()));
        assert_eq!(Tally::decode(&t.encode()[1..]), None);
        t.apply(&f, false);
        t.apply(&f, false);
        assert_eq!(
            (t.chats, t.waits[0].len(), t.times[0]),
            (0, 0, Times::default())
        );
        let mut s = Sum::default();
        t.apply(&f, true);
        s.add(&t);
        s.add(&t);
        let row = s.row(false);
        assert_eq!(
            (
                row.chats,
                row.wait_avg_ms,
                row.wait_p90_ms,
                row.satisfaction_pct
            ),
            (2, Some(30_000), Some(30_000), Some(100))
        );
    }
}
