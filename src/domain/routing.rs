//! Which eligible agent gets the next chat of a group. The engine passes
//! only eligible agents (chat-enabled, member of the group, available,
//! connected, under their limit, not just declined or timed out on this
//! chat); this decides among them.

use super::clock::Millis;
use super::group::Routing;
use super::ids::StaffId;

/// One eligible agent as routing sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Who.
    pub id: StaffId,
    /// Open chats plus pending offers.
    pub load: u32,
    /// When they were last offered a chat (0 = never).
    pub last_offer_at: Millis,
}

/// Picks the agent for the next offer, or `None` (manual routing, or nobody).
/// `last_round_robin` is the group's previous round-robin pick.
pub fn choose(
    routing: Routing,
    candidates: &[Candidate],
    last_round_robin: Option<StaffId>,
) -> Option<StaffId> {
    match routing {
        Routing::Manual => None,
        Routing::LeastBusy => candidates
            .iter()
            .min_by_key(|c| (c.load, c.last_offer_at, c.id))
            .map(|c| c.id),
        Routing::RoundRobin => {
            // Rotate over ids in a fixed order: the next after the last pick.
            let next = last_round_robin.and_then(|last| {
                candidates
                    .iter()
                    .filter(|c| c.id > last)
                    .map(|c| c.id)
                    .min()
            });
            next.or_else(|| candidates.iter().map(|c| c.id).min())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(n: usize) -> Vec<Candidate> {
        let mut ids: Vec<StaffId> = (0..n).map(|_| StaffId::generate()).collect();
        ids.sort();
        ids.into_iter()
            .map(|id| Candidate {
                id,
                load: 0,
                last_offer_at: 0,
            })
            .collect()
    }

    #[test]
    fn round_robin_rotates_evenly() {
        let a = agents(3);
        let mut last = None;
        let mut counts = [0u32; 3];
        for _ in 0..100 {
            let pick = choose(Routing::RoundRobin, &a, last).expect("someone");
            counts[a.iter().position(|c| c.id == pick).expect("known")] += 1;
            last = Some(pick);
        }
        let (min, max) = (counts.iter().min().copied(), counts.iter().max().copied());
        assert!(max.zip(min).is_some_and(|(x, n)| x - n <= 1), "{counts:?}");
    }

    #[test]
    fn round_robin_skips_whoever_is_not_eligible_now() {
        let a = agents(3);
        let without_second = [a[0], a[2]];
        assert_eq!(
            choose(Routing::RoundRobin, &without_second, Some(a[0].id)),
            Some(a[2].id)
        );
        assert_eq!(
            choose(Routing::RoundRobin, &without_second, Some(a[2].id)),
            Some(a[0].id)
        );
        assert_eq!(choose(Routing::RoundRobin, &[], None), None);
    }

    #[test]
    fn least_busy_takes_the_lightest_then_the_longest_waiting() {
        let mut a = agents(3);
        a[0].load = 2;
        a[1].load = 1;
        a[2].load = 1;
        a[1].last_offer_at = 500;
        a[2].last_offer_at = 100;
        assert_eq!(choose(Routing::LeastBusy, &a, None), Some(a[2].id));
        a[2].load = 3;
        assert_eq!(choose(Routing::LeastBusy, &a, None), Some(a[1].id));
    }

    #[test]
    fn manual_routing_never_offers() {
        assert_eq!(choose(Routing::Manual, &agents(2), None), None);
    }
}
