//! The agent status machine of ENGINE.md: `available`, `busy` (automatic at
//! the chat limit, or set by hand), `away`, `offline`, `rona`. Pure: the
//! engine feeds events and keeps the result. Only chat-enabled staff can be
//! available or busy; rona is only ever set by the desk.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An agent's status as staff see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Takes new chats.
    Available,
    /// Takes no new chats: at the limit (automatic) or by choice.
    Busy,
    /// Takes no new chats; keeps open ones.
    Away,
    /// Takes no new chats; keeps open ones.
    Offline,
    /// Did not accept an offer in time; back only by setting available.
    Rona,
}

/// Status plus whether a busy was set by hand (which the limit never lifts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Presence {
    /// The status.
    pub status: Status,
    /// True when `Busy` was chosen by a person, not reached at the limit.
    pub busy_by_hand: bool,
}

impl Presence {
    /// Where every agent starts.
    pub const OFFLINE: Presence = Presence {
        status: Status::Offline,
        busy_by_hand: false,
    };

    fn of(status: Status) -> Self {
        Self {
            status,
            busy_by_hand: false,
        }
    }

    /// Whether new offers may go to this agent (capacity aside).
    pub fn takes_offers(self) -> bool {
        self.status == Status::Available
    }
}

/// What happens to an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusEvent {
    /// The agent, or a manager for them, picks a status.
    Set(Status),
    /// Open chats plus offers reached the limit.
    ReachLimit,
    /// Open chats plus offers dropped below the limit.
    BelowLimit,
    /// An offer to them was not accepted in time.
    OfferTimedOut,
    /// Their shift starts.
    ShiftStart,
    /// Their shift ends.
    ShiftEnd,
}

/// Why a status change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusRefused(pub &'static str);

/// The next presence after `event`, per the table in ENGINE.md.
pub fn apply(
    p: Presence,
    event: StatusEvent,
    chat_enabled: bool,
) -> Result<Presence, StatusRefused> {
    use Status::*;
    use StatusEvent::*;
    let same = Ok(p);
    match event {
        Set(Rona) => Err(StatusRefused(
            "rona is set by the desk when an offer is not accepted in time",
        )),
        Set(Available | Busy) if !chat_enabled => Err(StatusRefused(
            "only chat-enabled staff can be available or busy; an admin can enable chats for them",
        )),
        Set(Busy) => Ok(Presence {
            status: Busy,
            busy_by_hand: true,
        }),
        Set(s) => Ok(Presence::of(s)),
        ReachLimit => match p.status {
            Available => Ok(Presence::of(Busy)),
            _ => same,
        },
        BelowLimit => match p.status {
            Busy if !p.busy_by_hand => Ok(Presence::of(Available)),
            _ => same,
        },
        OfferTimedOut => match p.status {
            Available => Ok(Presence::of(Rona)),
            Busy if !p.busy_by_hand => Ok(Presence::of(Rona)),
            _ => same,
        },
        ShiftStart => match p.status {
            Away | Offline if chat_enabled => Ok(Presence::of(Available)),
            _ => same,
        },
        ShiftEnd => match p.status {
            Offline => same,
            _ => Ok(Presence::of(Offline)),
        },
    }
}

/// Applies the automatic busy rule after any change: an available agent at
/// the limit becomes busy, an automatically busy one below it available.
pub fn settle(p: Presence, at_limit: bool) -> Presence {
    let event = if at_limit {
        StatusEvent::ReachLimit
    } else {
        StatusEvent::BelowLimit
    };
    apply(p, event, true).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;
    use StatusEvent::*;

    const AVAILABLE: Presence = Presence {
        status: Available,
        busy_by_hand: false,
    };
    const BUSY_AUTO: Presence = Presence {
        status: Busy,
        busy_by_hand: false,
    };
    const BUSY_HAND: Presence = Presence {
        status: Busy,
        busy_by_hand: true,
    };
    const AWAY: Presence = Presence {
        status: Away,
        busy_by_hand: false,
    };
    const OFFLINE: Presence = Presence {
        status: Offline,
        busy_by_hand: false,
    };
    const RONA: Presence = Presence {
        status: Rona,
        busy_by_hand: false,
    };

    fn next(p: Presence, e: StatusEvent) -> Presence {
        apply(p, e, true).expect("allowed")
    }

    #[test]
    fn every_cell_of_the_engine_table() {
        let rows = [AVAILABLE, BUSY_AUTO, BUSY_HAND, AWAY, OFFLINE, RONA];
        // Columns: set available, reach limit, drop below limit, offer times out, shift start, shift end.
        let expected = [
            [AVAILABLE, BUSY_AUTO, AVAILABLE, RONA, AVAILABLE, OFFLINE],
            [AVAILABLE, BUSY_AUTO, AVAILABLE, RONA, BUSY_AUTO, OFFLINE],
            [
                AVAILABLE, BUSY_HAND, BUSY_HAND, BUSY_HAND, BUSY_HAND, OFFLINE,
            ],
            [AVAILABLE, AWAY, AWAY, AWAY, AVAILABLE, OFFLINE],
            [AVAILABLE, OFFLINE, OFFLINE, OFFLINE, AVAILABLE, OFFLINE],
            [AVAILABLE, RONA, RONA, RONA, RONA, OFFLINE],
        ];
        let events = [
            Set(Available),
            ReachLimit,
            BelowLimit,
            OfferTimedOut,
            ShiftStart,
            ShiftEnd,
        ];
        for (row, want) in rows.iter().zip(expected) {
            for (event, w) in events.iter().zip(want) {
                assert_eq!(next(*row, *event), w, "{row:?} + {event:?}");
            }
            // "set busy/away/offline": that status, busy by hand.
            assert_eq!(next(*row, Set(Busy)), BUSY_HAND);
            assert_eq!(next(*row, Set(Away)), AWAY);
            assert_eq!(next(*row, Set(Offline)), OFFLINE);
        }
    }

    #[test]
    fn only_chat_enabled_staff_are_available_or_busy_and_rona_is_never_chosen() {
        assert!(apply(OFFLINE, Set(Available), false).is_err());
        assert!(apply(OFFLINE, Set(Busy), false).is_err());
        assert_eq!(apply(OFFLINE, Set(Away), false), Ok(AWAY));
        assert_eq!(apply(OFFLINE, ShiftStart, false), Ok(OFFLINE));
        assert!(apply(AVAILABLE, Set(Rona), true).is_err());
    }

    #[test]
    fn settle_applies_the_limit_rule_only_to_automatic_busy() {
        assert_eq!(settle(AVAILABLE, true), BUSY_AUTO);
        assert_eq!(settle(BUSY_AUTO, false), AVAILABLE);
        assert_eq!(settle(BUSY_HAND, false), BUSY_HAND);
        assert_eq!(settle(AWAY, true), AWAY);
        assert!(AVAILABLE.takes_offers() && !BUSY_AUTO.takes_offers() && !RONA.takes_offers());
    }
}
