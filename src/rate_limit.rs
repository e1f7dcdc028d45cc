//! Token buckets per key (a client address, a customer): how often someone
//! may do something, with a burst allowance. Counted in thousandths of a
//! token to stay in integers; bounded in the keys it tracks.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `burst` at once, then `refill` more every `period` on average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub refill: u32,
    pub period: Duration,
}

impl Rate {
    pub fn per_minute(burst: u32, per_minute: u32) -> Rate {
        Rate { burst, refill: per_minute, period: Duration::from_secs(60) }
    }
}

struct Bucket {
    milli_tokens: u64,
    updated: Instant,
}

pub struct TokenBuckets<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
    rate: Rate,
}

/// Keys tracked before those whose bucket is full again are forgotten.
const MAX_TRACKED: usize = 50_000;

impl<K: Hash + Eq> TokenBuckets<K> {
    pub fn new(rate: Rate) -> TokenBuckets<K> {
        TokenBuckets { buckets: Mutex::new(HashMap::new()), rate }
    }

    /// Takes one token of `key`'s bucket; `false` when it is empty.
    pub fn take(&self, key: K, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let full = self.full();
        if buckets.len() >= MAX_TRACKED {
            // Keys whose bucket has refilled are indistinguishable from new ones.
            buckets.retain(|_, b| self.tokens(b, now) < full);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { milli_tokens: full, updated: now });
        let tokens = self.tokens(bucket, now);
        if tokens < 1000 {
            return false;
        }
        bucket.milli_tokens = tokens - 1000;
        bucket.updated = now;
        true
    }

    /// Whether `key` has a token left, without taking it.
    pub fn has_token(&self, key: &K, now: Instant) -> bool {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(key).is_none_or(|bucket| self.tokens(bucket, now) >= 1000)
    }

    fn full(&self) -> u64 {
        u64::from(self.rate.burst) * 1000
    }

    /// The bucket's tokens at `now`, without changing it.
    fn tokens(&self, bucket: &Bucket, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_millis();
        let period = self.rate.period.as_millis().max(1);
        let gained = elapsed.saturating_mul(u128::from(self.rate.refill) * 1000) / period;
        let gained = u64::try_from(gained).unwrap_or(u64::MAX);
        bucket.milli_tokens.saturating_add(gained).min(self.full())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let buckets = TokenBuckets::new(Rate { burst: 3, refill: 3, period: Duration::from_secs(3600) });
        let t0 = Instant::now();
        let cases = [
            (0, true),
            (0, true),
            (0, true),
            (0, false),
            (1_199, false),
            (1_200, true), // one token every 20 minutes
            (1_200, false),
            (10_000, true),
        ];
        for (seconds, allowed) in cases {
            assert_eq!(buckets.take("alice", t0 + Duration::from_secs(seconds)), allowed, "at {seconds} s");
        }
        assert!(buckets.take("bob", t0), "each key has its own bucket");
        assert!(buckets.has_token(&"carol", t0), "an unknown key has a full bucket");
    }
}
