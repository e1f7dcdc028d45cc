//! The payment provider's allowance of calls, shared by everything that
//! calls it: pages, webhooks and the background poller all go through the
//! one provider, and the provider takes a token for every request it sends.
//!
//! A provider documents separate limits for separate kinds of call (Strike:
//! invoice creation and quotes per minute each, every other call, reads and
//! cancels, per 10 minutes with an hour's lockout), so there is one bucket
//! per `Call`. Each is sized by the provider from its documented limit
//! (`Rate::within`), so hostr stays under it whatever the timing. When the
//! provider says "slow down" anyway, that bucket is held empty for as long
//! as it asks.
//!
//! Invariant: the poller (`Priority::Background`) never takes the last half
//! of a bucket's burst; that half is for customers waiting on a page and for
//! webhooks. An empty budget loses nothing: callers answer from the stored
//! state or wait, and ask later.

use crate::rate_limit::{Rate, TokenBucket};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A kind of provider call, counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Creating an invoice.
    NewInvoice,
    /// Asking for a quote (a BOLT11) for an invoice.
    NewQuote,
    /// Everything else: reading invoices, cancelling them, subscriptions.
    Other,
}

impl Call {
    fn index(self) -> usize {
        match self {
            Call::NewInvoice => 0,
            Call::NewQuote => 1,
            Call::Other => 2,
        }
    }
}

/// Who is asking: a customer or a webhook (who may use it all), or the
/// background poller (who leaves a reserve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Foreground,
    Background,
}

/// The rate of each kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub new_invoice: Rate,
    pub new_quote: Rate,
    pub other: Rate,
}

impl Limits {
    fn rate(&self, call: Call) -> Rate {
        match call {
            Call::NewInvoice => self.new_invoice,
            Call::NewQuote => self.new_quote,
            Call::Other => self.other,
        }
    }
}

pub struct Budget {
    limits: Limits,
    buckets: Mutex<[TokenBucket; 3]>,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        let now = Instant::now();
        let bucket = |call| TokenBucket::new(limits.rate(call), now);
        Budget { limits, buckets: Mutex::new([bucket(Call::NewInvoice), bucket(Call::NewQuote), bucket(Call::Other)]) }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes a token for one `call`, or says how long until there is one.
    pub fn take(&self, call: Call, priority: Priority) -> Result<(), Duration> {
        self.take_at(call, priority, Instant::now())
    }

    pub fn take_at(&self, call: Call, priority: Priority, now: Instant) -> Result<(), Duration> {
        let keep = self.reserve(call, priority);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = &mut buckets[call.index()];
        if bucket.take(now, keep) { Ok(()) } else { Err(bucket.wait(now, keep)) }
    }

    /// How long until `call` could be made at `priority`; zero when now.
    pub fn wait(&self, call: Call, priority: Priority) -> Duration {
        self.wait_at(call, priority, Instant::now())
    }

    pub fn wait_at(&self, call: Call, priority: Priority, now: Instant) -> Duration {
        let keep = self.reserve(call, priority);
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())[call.index()].wait(now, keep)
    }

    /// The provider asked to wait `retry_after` before the next `call`.
    pub fn hold_off(&self, call: Call, retry_after: Duration) {
        self.hold_off_at(call, retry_after, Instant::now());
    }

    pub fn hold_off_at(&self, call: Call, retry_after: Duration, now: Instant) {
        let until = now.checked_add(retry_after).unwrap_or(now + Duration::from_secs(24 * 3600));
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())[call.index()].hold_until(until);
    }

    fn reserve(&self, call: Call, priority: Priority) -> u32 {
        match priority {
            Priority::Foreground => 0,
            Priority::Background => self.limits.rate(call).burst / 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        let rate = Rate { burst: 4, refill: 1, period: Duration::from_secs(10) };
        Budget::new(Limits { new_invoice: Rate { burst: 1, ..rate }, new_quote: rate, other: rate })
    }

    #[test]
    fn each_kind_of_call_has_its_own_bucket() {
        let (budget, now) = (budget(), Instant::now());
        assert_eq!(budget.take_at(Call::NewInvoice, Priority::Foreground, now), Ok(()));
        assert_eq!(budget.take_at(Call::NewInvoice, Priority::Foreground, now), Err(Duration::from_secs(10)));
        assert_eq!(budget.take_at(Call::NewQuote, Priority::Foreground, now), Ok(()), "quotes are counted apart");
        assert_eq!(budget.take_at(Call::Other, Priority::Foreground, now), Ok(()), "and so are reads");
    }

    #[test]
    fn the_poller_leaves_half_the_burst_to_pages_and_webhooks() {
        let (budget, now) = (budget(), Instant::now());
        assert_eq!(budget.take_at(Call::Other, Priority::Background, now), Ok(()));
        assert_eq!(budget.take_at(Call::Other, Priority::Background, now), Ok(()));
        assert!(budget.take_at(Call::Other, Priority::Background, now).is_err(), "two of four kept back");
        assert_eq!(budget.wait_at(Call::Other, Priority::Background, now), Duration::from_secs(10));
        assert_eq!(budget.wait_at(Call::Other, Priority::Foreground, now), Duration::ZERO);
        assert_eq!(budget.take_at(Call::Other, Priority::Foreground, now), Ok(()));
        assert_eq!(budget.take_at(Call::Other, Priority::Foreground, now), Ok(()));
        assert!(budget.take_at(Call::Other, Priority::Foreground, now).is_err(), "now it is spent");
    }

    #[test]
    fn a_hold_off_stops_that_kind_of_call_for_as_long_as_asked() {
        let (budget, now) = (budget(), Instant::now());
        budget.hold_off_at(Call::Other, Duration::from_secs(3600), now);
        let later = now + Duration::from_secs(3599);
        assert!(budget.take_at(Call::Other, Priority::Foreground, later).is_err());
        assert_eq!(budget.take_at(Call::NewQuote, Priority::Foreground, later), Ok(()), "other kinds go on");
        assert_eq!(budget.take_at(Call::Other, Priority::Foreground, now + Duration::from_secs(3610)), Ok(()));
    }
}
