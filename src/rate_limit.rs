//! Token buckets: how often something may be done, with a burst allowance.
//! `TokenBucket` is one bucket (an upstream's allowance of calls);
//! `TokenBuckets` keeps one per key (a client address, a customer), bounded
//! in the keys it tracks. Counted in thousandths of a token to stay in
//! integers; time is passed in, so the arithmetic is tested without a clock.

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

    /// A rate that never makes more than 90% of `allowed` calls in any
    /// `window`, whatever the timing: a tenth of `allowed` at once, the rest
    /// of the 90% spread over the window. (In any window a bucket grants at
    /// most its burst plus one window's refill.) The margin leaves room for
    /// other clients of the same upstream, such as an operator's command.
    pub fn within(allowed: u32, window: Duration) -> Rate {
        let burst = (allowed / 10).max(1);
        let refill = u32::try_from(u64::from(allowed) * 9 / 10).unwrap_or(u32::MAX).saturating_sub(burst);
        Rate { burst, refill, period: window }
    }
}

/// One bucket. It starts full.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: Rate,
    milli_tokens: u64,
    /// When `milli_tokens` was counted; after a hold-off, in the future.
    updated: Instant,
}

const TOKEN: u64 = 1000;

impl TokenBucket {
    pub fn new(rate: Rate, now: Instant) -> TokenBucket {
        TokenBucket { rate, milli_tokens: TokenBucket::capacity(rate), updated: now }
    }

    fn capacity(rate: Rate) -> u64 {
        u64::from(rate.burst) * TOKEN
    }

    /// The bucket's thousandths of tokens at `now`.
    fn milli_tokens_at(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.updated).as_millis();
        let period = self.rate.period.as_millis().max(1);
        let gained = elapsed.saturating_mul(u128::from(self.rate.refill) * u128::from(TOKEN)) / period;
        let gained = u64::try_from(gained).unwrap_or(u64::MAX);
        self.milli_tokens.saturating_add(gained).min(TokenBucket::capacity(self.rate))
    }

    /// Whole tokens left at `now`.
    pub fn tokens(&self, now: Instant) -> u32 {
        u32::try_from(self.milli_tokens_at(now) / TOKEN).unwrap_or(u32::MAX)
    }

    /// Takes one token if `keep` tokens would still be left after it.
    pub fn take(&mut self, now: Instant, keep: u32) -> bool {
        let milli = self.milli_tokens_at(now);
        if milli < (u64::from(keep) + 1) * TOKEN {
            return false;
        }
        self.milli_tokens = milli - TOKEN;
        self.updated = self.updated.max(now);
        true
    }

    /// How long from `now` until `take(_, keep)` would succeed; zero when it
    /// would now, `Duration::MAX` when it never will.
    pub fn wait(&self, now: Instant, keep: u32) -> Duration {
        let wanted = (u64::from(keep) + 1) * TOKEN;
        let have = self.milli_tokens_at(now);
        if have >= wanted {
            return Duration::ZERO;
        }
        if wanted > TokenBucket::capacity(self.rate) || self.rate.refill == 0 {
            return Duration::MAX;
        }
        // Counted from `updated` (which may lie ahead, after a hold-off).
        let missing = u128::from(wanted - self.milli_tokens.min(wanted));
        let per_milli = u128::from(self.rate.refill) * u128::from(TOKEN);
        let millis = (missing * self.rate.period.as_millis()).div_ceil(per_milli);
        let ready = self.updated + Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX));
        ready.saturating_duration_since(now)
    }

    /// Empties the bucket until `until`: nothing is granted before then, and
    /// it refills from then on at its rate (an upstream said "wait").
    pub fn hold_until(&mut self, until: Instant) {
        self.milli_tokens = 0;
        self.updated = self.updated.max(until);
    }
}

pub struct TokenBuckets<K> {
    buckets: Mutex<HashMap<K, TokenBucket>>,
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
        if buckets.len() >= MAX_TRACKED {
            // Keys whose bucket has refilled are indistinguishable from new ones.
            buckets.retain(|_, b| b.tokens(now) < self.rate.burst);
        }
        buckets.entry(key).or_insert_with(|| TokenBucket::new(self.rate, now)).take(now, 0)
    }

    /// Whether `key` has a token left, without taking it.
    pub fn has_token(&self, key: &K, now: Instant) -> bool {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(key).is_none_or(|bucket| bucket.tokens(now) >= 1)
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

    #[test]
    fn a_rate_within_a_limit_never_grants_more_than_nine_tenths_of_it_in_any_window() {
        // Strike's documented limits: 1,000 reads per 10 minutes, 250 invoices a minute, and
        // the sandbox's 350 and 90.
        for (allowed, window) in [(1000, 600), (250, 60), (350, 600), (90, 60), (5, 60)] {
            let window = Duration::from_secs(window);
            let rate = Rate::within(allowed, window);
            assert!(rate.burst >= 1 && rate.burst + rate.refill <= allowed * 9 / 10, "{allowed}: {rate:?}");
            // Take greedily, every tenth of a second, for three windows; count
            // the grants in every window-long stretch.
            let t0 = Instant::now();
            let mut bucket = TokenBucket::new(rate, t0);
            let step = window / 1000;
            let grants: Vec<Duration> =
                (0..3000).map(|i| step * i).filter(|&at| bucket.take(t0 + at, 0) || bucket.take(t0 + at, 0)).collect();
            let most =
                grants.iter().map(|&start| grants.iter().filter(|&&at| at >= start && at < start + window).count());
            assert!(most.max().unwrap() <= (allowed * 9 / 10) as usize, "{allowed} per {window:?}");
        }
        assert_eq!(
            Rate::within(1000, Duration::from_secs(600)),
            Rate { burst: 100, refill: 800, period: Duration::from_secs(600) }
        );
    }

    #[test]
    fn a_bucket_can_keep_a_reserve_and_says_how_long_to_wait() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(Rate { burst: 4, refill: 1, period: Duration::from_secs(10) }, t0);
        assert!(bucket.take(t0, 2) && bucket.take(t0, 2), "down to the reserve of two");
        assert!(!bucket.take(t0, 2), "the reserve is kept");
        assert_eq!(bucket.wait(t0, 2), Duration::from_secs(10), "one more token in ten seconds");
        assert_eq!(bucket.wait(t0, 0), Duration::ZERO, "but the reserve itself is there now");
        assert!(bucket.take(t0, 0) && bucket.take(t0, 0) && !bucket.take(t0, 0));
        assert_eq!(bucket.wait(t0, 4), Duration::MAX, "never more than the burst");
        assert!(bucket.take(t0 + Duration::from_secs(10), 0));
    }

    #[test]
    fn a_held_bucket_grants_nothing_until_then_and_refills_from_then() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(Rate { burst: 10, refill: 1, period: Duration::from_secs(1) }, t0);
        bucket.hold_until(t0 + Duration::from_secs(60));
        assert_eq!(bucket.tokens(t0 + Duration::from_secs(59)), 0);
        assert!(!bucket.take(t0 + Duration::from_secs(60), 0), "empty at the end of the hold");
        assert_eq!(bucket.wait(t0, 0), Duration::from_secs(61));
        assert!(bucket.take(t0 + Duration::from_secs(61), 0), "then it refills at its rate");
    }
}
