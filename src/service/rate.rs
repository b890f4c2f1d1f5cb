//! Rate limits on what visitors can do without signing in: starting chats
//! (per client address) and sending messages (per chat token and per
//! address). In memory, pruned by housekeeping; a restart forgives.

use crate::domain::rate::Bucket;
use crate::domain::Millis;
use std::collections::HashMap;
use std::sync::Mutex;

/// Buckets kept at most; beyond it, full ones are dropped first.
const MAX_BUCKETS: usize = 200_000;

/// Named buckets sharing one rate.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `per_minute` actions a minute per key, in bursts of up to as many.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one action for `key`, or the seconds to wait.
    pub fn take(&self, key: &str, now: Millis) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let rate = self.per_minute;
            buckets.retain(|_, b| !b.is_full_at(rate, now));
        }
        buckets
            .entry(key.to_string())
            .or_insert_with(|| Bucket::full(self.per_minute, now))
            .take(self.per_minute, now)
    }

    /// Forgets buckets that are full again.
    pub fn prune(&self, now: Millis) -> usize {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let before = buckets.len();
        let rate = self.per_minute;
        buckets.retain(|_, b| !b.is_full_at(rate, now));
        before - buckets.len()
    }
}

/// The desk's visitor limits.
pub struct VisitorLimits {
    /// Chat starts per client address.
    pub starts: RateLimiter,
    /// Messages per chat.
    pub messages_per_chat: RateLimiter,
    /// Messages per client address (five chats' worth).
    pub messages_per_address: RateLimiter,
}

impl VisitorLimits {
    /// From `[chat] visitor_starts_per_minute` and `visitor_messages_per_minute`.
    pub fn new(starts_per_minute: u32, messages_per_minute: u32) -> Self {
        Self {
            starts: RateLimiter::new(starts_per_minute),
            messages_per_chat: RateLimiter::new(messages_per_minute),
            messages_per_address: RateLimiter::new(messages_per_minute.saturating_mul(5)),
        }
    }

    /// A visitor message from `addr` in `chat`.
    pub fn message(&self, chat: &str, addr: &str, now: Millis) -> Result<(), u64> {
        self.messages_per_chat.take(chat, now)?;
        self.messages_per_address.take(addr, now)
    }

    /// Forgets idle buckets.
    pub fn prune(&self, now: Millis) -> usize {
        self.starts.prune(now)
            + self.messages_per_chat.prune(now)
            + self.messages_per_address.prune(now)
    }
}
