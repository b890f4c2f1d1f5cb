//! Sign-in limiting. Failures are counted per account (the typed email,
//! whether or not it exists, so limiting reveals nothing) and per client
//! address. After the free attempts each failure doubles the wait, up to a
//! maximum; attempts during the wait are refused without checking the
//! password. A success clears the account's count but not the address's,
//! so one valid account cannot launder guesses at others. Attempts still
//! being checked count too: a burst of concurrent guesses gets no more
//! checks than the free allowance, and past it one at a time. Kept in memory:
//! a restart forgives, which is the usual trade for a single box.

use crate::config::AuthConfig;
use crate::domain::Millis;
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept at most; beyond it, quiet entries are dropped first.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Copy, Debug, Default)]
struct Attempts {
    failures: u32,
    blocked_until: Millis,
    last_failure: Millis,
    /// Attempts begun and not yet answered.
    in_flight: u32,
}

/// What is limited: an account or a client address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// The email as typed (normalized).
    Account(String),
    /// The client's IP address.
    Address(String),
}

/// Failed sign-in tracking.
pub struct LoginLimiter {
    entries: Mutex<HashMap<LimitKey, Attempts>>,
    free: u32,
    base_ms: u64,
    max_ms: u64,
}

impl LoginLimiter {
    /// Limits as configured in `[auth]`.
    pub fn new(c: &AuthConfig) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            free: c.login_free_attempts,
            base_ms: c.login_base_delay.as_millis() as u64,
            max_ms: c.login_max_delay.as_millis() as u64,
        }
    }

    fn free_for(&self, key: &LimitKey) -> u32 {
        match key {
            LimitKey::Account(_) => self.free,
            // An office behind one address has many staff.
            LimitKey::Address(_) => self.free.saturating_mul(4),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LimitKey, Attempts>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds to wait)` while any of `keys` is blocked.
    pub fn check(&self, keys: &[LimitKey], now: Millis) -> Result<(), u64> {
        blocked(&self.lock(), keys, now)
    }

    /// Begins an attempt: `Err(seconds to wait)` while any of `keys` is
    /// blocked, or when its free attempts are taken by failures and
    /// attempts still being checked and one is already being checked.
    /// The attempt counts until the returned hold is dropped.
    pub fn begin(&self, keys: &[LimitKey], now: Millis) -> Result<Held<'_>, u64> {
        let mut entries = self.lock();
        blocked(&entries, keys, now)?;
        let busy = keys.iter().any(|k| {
            entries
                .get(k)
                .is_some_and(|a| a.in_flight > 0 && a.failures + a.in_flight >= self.free_for(k))
        });
        if busy {
            return Err(1);
        }
        for key in keys {
            entries.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(Held {
            limiter: self,
            keys: keys.to_vec(),
        })
    }

    /// Records a failure for each key.
    pub fn failed(&self, keys: &[LimitKey], now: Millis) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let forget = self.forget_after();
            entries.retain(|_, a| a.blocked_until > now || now - a.last_failure < forget);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        for key in keys {
            let free = self.free_for(key);
            let a = entries.entry(key.clone()).or_default();
            if now.saturating_sub(a.last_failure) > self.forget_after() {
                *a = Attempts {
                    in_flight: a.in_flight,
                    ..Attempts::default()
                };
            }
            a.failures += 1;
            a.last_failure = now;
            if a.failures > free {
                let doublings = (a.failures - free - 1).min(40);
                let delay = self.base_ms.saturating_mul(1 << doublings).min(self.max_ms);
                a.blocked_until = now + delay;
            }
        }
    }

    /// Clears an account's failures after a successful sign-in. Other
    /// attempts at it still being checked keep counting.
    pub fn succeeded(&self, account: &LimitKey) {
        let mut entries = self.lock();
        match entries.get_mut(account) {
            Some(a) if a.in_flight > 0 => {
                *a = Attempts {
                    in_flight: a.in_flight,
                    ..Attempts::default()
                }
            }
            _ => {
                entries.remove(account);
            }
        }
    }

    /// A quiet spell after which failures are forgiven.
    fn forget_after(&self) -> u64 {
        self.max_ms.saturating_mul(2)
    }

    /// Drops entries that no longer limit anything (housekeeping).
    pub fn prune(&self, now: Millis) -> usize {
        let forget = self.forget_after();
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, a| {
            a.in_flight > 0 || a.blocked_until > now || now.saturating_sub(a.last_failure) < forget
        });
        before - entries.len()
    }
}

/// `Err(seconds to wait)` while any of `keys` is blocked in `entries`.
fn blocked(
    entries: &HashMap<LimitKey, Attempts>,
    keys: &[LimitKey],
    now: Millis,
) -> Result<(), u64> {
    let until = keys
        .iter()
        .filter_map(|k| entries.get(k))
        .map(|a| a.blocked_until)
        .max()
        .unwrap_or(0);
    if until > now {
        Err((until - now).div_ceil(1000))
    } else {
        Ok(())
    }
}

/// An attempt being checked; it stops counting when dropped.
pub struct Held<'a> {
    limiter: &'a LoginLimiter,
    keys: Vec<LimitKey>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut entries = self.limiter.lock();
        for key in &self.keys {
            if let Some(a) = entries.get_mut(key) {
                a.in_flight = a.in_flight.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter() -> LoginLimiter {
        let mut c = crate::config::Config::default().auth;
        c.login_free_attempts = 2;
        c.login_base_delay = Duration::from_secs(1);
        c.login_max_delay = Duration::from_secs(8);
        LoginLimiter::new(&c)
    }

    #[test]
    fn delays_grow_after_the_free_attempts_and_cap() {
        let l = limiter();
        let k = [LimitKey::Account("a@x.io".into())];
        let mut now = 1_000_000;
        l.failed(&k, now);
        l.failed(&k, now);
        assert_eq!(l.check(&k, now), Ok(()));
        let mut waits = Vec::new();
        for _ in 0..6 {
            l.failed(&k, now);
            let wait = l.check(&k, now).unwrap_err();
            waits.push(wait);
            now += wait * 1000;
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 8, 8]);
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let l = limiter();
        let acct = LimitKey::Account("a@x.io".into());
        let addr = LimitKey::Address("10.0.0.1".into());
        let keys = [acct.clone(), addr.clone()];
        for _ in 0..3 {
            l.failed(&keys, 0);
        }
        assert!(l.check(std::slice::from_ref(&acct), 0).is_err());
        l.succeeded(&acct);
        assert_eq!(l.check(&[acct], 0), Ok(()));
        for _ in 0..6 {
            l.failed(std::slice::from_ref(&addr), 0);
        }
        assert!(l.check(&[addr], 0).is_err(), "address allowance is 4x free");
    }

    #[test]
    fn attempts_being_checked_count_against_the_allowance() {
        let l = limiter();
        let k = [LimitKey::Account("a@x.io".into())];
        let first = l.begin(&k, 0).expect("free");
        let second = l.begin(&k, 0).expect("free");
        assert_eq!(
            l.begin(&k, 0).err(),
            Some(1),
            "two free, both being checked"
        );
        drop(first);
        l.failed(&k, 0);
        assert_eq!(
            l.begin(&k, 0).err(),
            Some(1),
            "one failed, one being checked"
        );
        drop(second);
        l.failed(&k, 0);
        let third = l.begin(&k, 0).expect("past the allowance: one at a time");
        assert!(l.begin(&k, 0).is_err());
        l.failed(&k, 0);
        drop(third);
        assert!(l.begin(&k, 0).is_err(), "blocked after the third failure");
        assert!(l.begin(&k, 1_000).is_ok(), "the block ends");
    }

    #[test]
    fn a_success_keeps_the_other_attempts_being_checked() {
        let l = limiter();
        let k = [LimitKey::Account("a@x.io".into())];
        let winner = l.begin(&k, 0).expect("free");
        let other = l.begin(&k, 0).expect("free");
        l.succeeded(&k[0]);
        drop(winner);
        let next = l.begin(&k, 0).expect("two free: the other and this one");
        assert!(l.begin(&k, 0).is_err(), "the other is still counted");
        drop((other, next));
    }

    #[test]
    fn quiet_entries_are_forgiven_and_pruned() {
        let l = limiter();
        let k = [LimitKey::Account("a@x.io".into())];
        for _ in 0..3 {
            l.failed(&k, 0);
        }
        assert_eq!(l.prune(1), 0);
        assert_eq!(l.prune(100_000), 1);
        l.failed(&k, 200_000);
        assert_eq!(l.check(&k, 200_000), Ok(()));
    }
}
