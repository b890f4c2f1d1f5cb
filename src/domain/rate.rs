//! Token buckets for rate limits: a bucket holds up to `per_minute` tokens,
//! refills continuously at `per_minute` a minute, and each action takes one.

use super::clock::Millis;

/// One bucket's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: Millis,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(per_minute: u32, now: Millis) -> Self {
        Self {
            tokens: f64::from(per_minute),
            at: now,
        }
    }

    /// Takes a token, or says how many seconds until one is there.
    pub fn take(&mut self, per_minute: u32, now: Millis) -> Result<(), u64> {
        let rate_per_ms = f64::from(per_minute) / 60_000.0;
        let elapsed = now.saturating_sub(self.at) as f64;
        self.tokens = (self.tokens + elapsed * rate_per_ms).min(f64::from(per_minute));
        self.at = now.max(self.at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if rate_per_ms <= 0.0 {
            Err(60)
        } else {
            Err((((1.0 - self.tokens) / rate_per_ms) / 1000.0)
                .ceil()
                .max(1.0) as u64)
        }
    }

    /// Whether the bucket is full again (and can be forgotten).
    pub fn is_full_at(&self, per_minute: u32, now: Millis) -> bool {
        let elapsed = now.saturating_sub(self.at) as f64;
        self.tokens + elapsed * f64::from(per_minute) / 60_000.0 >= f64::from(per_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_rate_then_one_per_interval() {
        let mut b = Bucket::full(6, 0);
        for _ in 0..6 {
            assert_eq!(b.take(6, 0), Ok(()));
        }
        assert_eq!(b.take(6, 0), Err(10), "one token every 10 s");
        assert_eq!(b.take(6, 9_000), Err(1));
        assert_eq!(b.take(6, 10_000), Ok(()));
        assert!(!b.is_full_at(6, 10_000));
        assert!(b.is_full_at(6, 70_000));
    }
}
