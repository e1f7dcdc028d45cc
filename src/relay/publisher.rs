//! [`Outbox`]: the one way hostr publishes to relays.
//!
//! `publish` writes the signed event to `database/outbox/<id>.json` (see
//! [`crate::outbox`]) and wakes the threads of its relays; it never talks to
//! a relay itself, so a caller is never held up by one. Each relay has one
//! thread that owns one connection: the configured relays' threads keep
//! theirs open (re-opened after a failure with capped, jittered backoff);
//! a customer's relay gets a thread while something waits for it. A thread
//! sends what is due for its relay one event at a time, records each answer
//! in the item's file, and holds back after `rate-limited:`. A sweep every
//! few seconds starts threads for what is pending (after a restart, or a
//! `hostr outbox retry`) and prunes what was delivered long ago.
//!
//! Crash safety: the record is durable before `publish` returns and is
//! updated only after a relay answered, so a crash at any point means the
//! same event is sent again, and relays answer `duplicate:`.

use super::RelaySettings;
use super::address::RelayAddress;
use super::connection::{Connection, Timing};
use super::protocol::Verdict;
use crate::outbox::{Attempt, OutboxItem, backoff, prunable};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use nostr::prelude::{Event, Keys};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Relay threads at most; beyond it, customers' relays wait their turn.
const MAX_THREADS: usize = 64;
/// How often pending items are looked for, and pruning considered.
const SWEEP: Duration = Duration::from_secs(5);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Finished items are kept this long (the newest of each replaceable event longer).
pub const KEEP_FINISHED: Duration = Duration::from_secs(7 * 86_400);

/// Where an event goes.
#[derive(Debug, Clone)]
pub enum Targets {
    /// The operator's `--relays`.
    Configured,
    /// These relays (a customer's inbox relays, for a DM).
    Relays(Vec<RelayAddress>),
}

/// What `publish` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    Queued,
    /// The same event was enqueued before: nothing new was written.
    AlreadyQueued,
    /// No relays are configured: publishing is off, nothing was written.
    Off,
}

#[derive(Debug)]
pub enum OutboxError {
    Store(StoreError),
    /// `Targets::Relays` with an empty list.
    NoRelays,
    /// The event could not be signed.
    Sign(String),
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Store(error) => write!(f, "{error}"),
            OutboxError::NoRelays => f.write_str("no relay to publish to"),
            OutboxError::Sign(why) => write!(f, "cannot sign the event: {why}"),
        }
    }
}

impl std::error::Error for OutboxError {}

impl From<StoreError> for OutboxError {
    fn from(error: StoreError) -> OutboxError {
        OutboxError::Store(error)
    }
}

/// One configured relay as `/api/health` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayHealth {
    pub url: String,
    pub connected: bool,
    pub last_error: Option<String>,
}

pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    keys: Keys,
    settings: RelaySettings,
    /// The relay threads running, by URL, each with its wake-up.
    threads: Mutex<HashMap<String, Arc<Wake>>>,
    health: Mutex<BTreeMap<String, RelayHealth>>,
    started: AtomicBool,
    stopped: AtomicBool,
}

impl Outbox {
    pub fn new(store: Arc<Store>, keys: Keys, settings: RelaySettings) -> Outbox {
        let health = settings
            .relays
            .iter()
            .map(|r| (r.as_str().to_owned(), RelayHealth { url: r.to_string(), connected: false, last_error: None }))
            .collect();
        let inner = Inner {
            store,
            keys,
            settings,
            threads: Mutex::default(),
            health: Mutex::new(health),
            started: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        };
        Outbox { inner: Arc::new(inner) }
    }

    /// Whether relays are configured; without them nothing is published.
    pub fn is_on(&self) -> bool {
        self.inner.settings.is_on()
    }

    pub fn settings(&self) -> &RelaySettings {
        &self.inner.settings
    }

    /// Writes `event` (signed) to the outbox for `targets`, then wakes the
    /// relays' threads. Enqueueing the same event again writes nothing.
    pub fn publish(&self, event: Event, targets: Targets) -> Result<Published, OutboxError> {
        if !self.is_on() {
            return Ok(Published::Off);
        }
        let relays: Vec<String> = match &targets {
            Targets::Configured => self.inner.settings.urls(),
            Targets::Relays(list) => list.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        if relays.is_empty() {
            return Err(OutboxError::NoRelays);
        }
        let item = OutboxItem::new(event, &relays, Timestamp::now());
        match self.inner.store.create(&item) {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => return Ok(Published::AlreadyQueued),
            Err(error) => return Err(error.into()),
        }
        log::info!("outbox: event {} (kind {}) queued for {}", item.id, item.event.kind.as_u16(), relays.join(", "));
        self.supersede_older(&item);
        for relay in &relays {
            Inner::wake(&self.inner, relay);
        }
        Ok(Published::Queued)
    }

    /// Sends an enqueued event again, the very same one (an ephemeral
    /// request whose answer never came): its deliveries made pending and
    /// its relays woken. False when there is no such item.
    pub fn resend(&self, event_id: &str) -> Result<bool, OutboxError> {
        let item = match self.inner.store.update::<OutboxItem, _, StoreError>(event_id, |item| {
            for delivery in &mut item.deliveries {
                delivery.state = crate::outbox::DeliveryState::Pending;
                delivery.next_attempt_at = None;
            }
            item.finished_at = None;
            Ok(item.clone())
        }) {
            Ok(item) => item,
            Err(StoreError::NotFound { .. }) => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        for delivery in &item.deliveries {
            Inner::wake(&self.inner, &delivery.relay);
        }
        Ok(true)
    }

    /// Ends the waiting of older versions of `item`'s replaceable event.
    fn supersede_older(&self, item: &OutboxItem) {
        let Some(coordinate) = &item.coordinate else { return };
        let Ok(versions) = self.inner.store.find_all(OutboxItem::of_coordinate(coordinate)) else { return };
        let now = Timestamp::now();
        for older in versions.iter().filter(|v| v.id != item.id && crate::outbox::newer(item, v)) {
            let ended =
                self.inner.store.update::<OutboxItem, _, StoreError>(&older.id, |o| Ok(o.supersede(&item.id, now)));
            if let Err(error) = ended {
                log::warn!("outbox: cannot mark {} as superseded: {error}", older.id);
            }
        }
    }

    /// The newest version enqueued of a replaceable or addressable event.
    pub fn latest(&self, coordinate: &str) -> Result<Option<OutboxItem>, StoreError> {
        let versions = self.inner.store.find_all(OutboxItem::of_coordinate(coordinate))?;
        Ok(versions.into_iter().reduce(|a, b| if crate::outbox::newer(&b, &a) { b } else { a }))
    }

    /// Starts the configured relays' threads and the sweep; nothing when off.
    pub fn start(&self) {
        if !self.is_on() || self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        for relay in &self.inner.settings.relays {
            Inner::wake(&self.inner, relay.as_str());
        }
        let inner = self.inner.clone();
        std::thread::Builder::new()
            .name("outbox-sweep".to_owned())
            .spawn(move || sweep(&inner))
            .expect("start the outbox sweep");
    }

    /// The configured relays, connected or with their last error; None when off.
    pub fn health(&self) -> Option<Vec<RelayHealth>> {
        self.is_on().then(|| self.inner.lock_health().values().cloned().collect())
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        for wake in self.inner.lock_threads().values() {
            wake.notify();
        }
    }
}

impl Inner {
    fn lock_threads(&self) -> MutexGuard<'_, HashMap<String, Arc<Wake>>> {
        self.threads.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_health(&self) -> MutexGuard<'_, BTreeMap<String, RelayHealth>> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn is_configured(&self, url: &str) -> bool {
        self.settings.relays.iter().any(|r| r.as_str() == url)
    }

    /// Wakes `url`'s thread, starting it if there is none (once started).
    fn wake(inner: &Arc<Inner>, url: &str) {
        if !inner.started.load(Ordering::SeqCst) || inner.stopped() {
            return;
        }
        let mut threads = inner.lock_threads();
        if let Some(wake) = threads.get(url) {
            wake.notify();
            return;
        }
        let address = match inner.settings.relays.iter().find(|r| r.as_str() == url) {
            Some(configured) => configured.clone(),
            // Recorded from a customer's list: judged again as theirs.
            None => match inner.settings.customer_relay(url) {
                Ok(address) => address,
                Err(why) => return log::warn!("outbox: {why}"),
            },
        };
        if threads.len() >= MAX_THREADS {
            return;
        }
        let wake = Arc::new(Wake::default());
        threads.insert(url.to_owned(), wake.clone());
        let worker = RelayWorker::new(inner.clone(), address, wake);
        let spawned = std::thread::Builder::new().name(format!("relay {url}")).spawn(move || worker.run());
        if let Err(error) = spawned {
            threads.remove(url);
            log::error!("outbox: cannot start a thread for {url}: {error}");
        }
    }

    /// Ids of the items due at `url` now.
    fn due_for(&self, url: &str) -> Vec<OutboxItem> {
        let now = Timestamp::now();
        match self.store.find_all(OutboxItem::pending_for(url)) {
            Ok(items) => items.into_iter().filter(|item| item.due_at(url, now)).collect(),
            Err(error) => {
                log::error!("outbox: cannot read what waits for {url}: {error}");
                Vec::new()
            }
        }
    }

    /// Ends `url`'s thread if nothing at all waits for it; decided under
    /// the threads' lock, so a `publish` either sees the thread or is seen.
    fn retire(&self, url: &str) -> bool {
        let mut threads = self.lock_threads();
        let waiting = self.store.find_all(OutboxItem::pending_for(url)).map_or(true, |items| !items.is_empty());
        if !waiting {
            threads.remove(url);
        }
        !waiting
    }

    fn record(&self, item: &OutboxItem, url: &str, attempt: &Attempt) {
        let timing = self.settings.timing;
        let jitter = f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX);
        let wait = |attempts| backoff(attempts, timing.backoff_base, timing.backoff_cap, jitter);
        let now = Timestamp::now();
        let recorded = self.store.update::<OutboxItem, _, StoreError>(&item.id, |item| {
            item.record(url, attempt, now, wait);
            Ok(())
        });
        let kind = item.event.kind.as_u16();
        match (recorded, attempt) {
            (Err(error), _) => log::error!("outbox: cannot record what {url} said of {}: {error}", item.id),
            (Ok(()), Attempt::Retry(why)) => log::warn!("outbox: {url} did not take {} (kind {kind}): {why}", item.id),
            (Ok(()), Attempt::Refused(why)) => log::warn!("outbox: {url} refused {} (kind {kind}): {why}", item.id),
            (Ok(()), _) => log::info!("outbox: {} (kind {kind}) reached {url}", item.id),
        }
    }

    fn set_health(&self, url: &str, connected: bool, error: Option<String>) {
        if let Some(health) = self.lock_health().get_mut(url) {
            health.connected = connected;
            if error.is_some() {
                health.last_error = error;
            }
        }
    }
}

/// Starts threads for what is pending and prunes old finished items.
fn sweep(inner: &Arc<Inner>) {
    let mut pruned_at: Option<Instant> = None;
    while !inner.stopped() {
        match inner.store.find_all(OutboxItem::unfinished()) {
            Ok(items) => {
                let relays = items.iter().flat_map(|i| i.deliveries.iter().filter(|d| !d.state.is_final()));
                for delivery in relays {
                    Inner::wake(inner, &delivery.relay);
                }
            }
            Err(error) => log::error!("outbox: cannot read what is pending: {error}"),
        }
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            prune(&inner.store);
        }
        std::thread::sleep(SWEEP);
    }
}

/// Removes finished items older than [`KEEP_FINISHED`] (see [`prunable`]).
pub fn prune(store: &Store) {
    let items = match store.list_readable::<OutboxItem>() {
        Ok(items) => items,
        Err(error) => return log::error!("outbox: cannot list items to prune: {error}"),
    };
    for id in prunable(&items, Timestamp::now(), KEEP_FINISHED) {
        if let Err(error) = store.remove::<OutboxItem>(&id) {
            log::error!("outbox: cannot prune {id}: {error}");
        }
    }
}

/// The thread of one relay.
struct RelayWorker {
    inner: Arc<Inner>,
    address: RelayAddress,
    wake: Arc<Wake>,
    connection: Option<Connection>,
    failures: u32,
    /// No connection attempt before this.
    retry_at: Instant,
    /// No event sent before this (after `rate-limited:`).
    hold_until: Instant,
}

impl RelayWorker {
    fn new(inner: Arc<Inner>, address: RelayAddress, wake: Arc<Wake>) -> RelayWorker {
        let now = Instant::now();
        RelayWorker { inner, address, wake, connection: None, failures: 0, retry_at: now, hold_until: now }
    }

    fn run(mut self) {
        let url = self.address.as_str().to_owned();
        let configured = self.inner.is_configured(&url);
        while !self.inner.stopped() {
            let due = self.inner.due_for(&url);
            if due.is_empty() && !configured {
                self.disconnect();
                if self.inner.retire(&url) {
                    break;
                }
            }
            let wanted = configured || !due.is_empty();
            if wanted && self.connection.is_none() && Instant::now() >= self.retry_at {
                self.connect(&due);
            }
            if self.connection.is_some() && Instant::now() >= self.hold_until {
                self.send(due);
            }
            self.idle();
        }
        self.disconnect();
    }

    fn timing(&self) -> Timing {
        self.inner.settings.timing
    }

    fn connect(&mut self, due: &[OutboxItem]) {
        let url = self.address.as_str().to_owned();
        let url = url.as_str();
        match Connection::open(&self.address, &self.inner.keys, self.timing()) {
            Ok(connection) => {
                self.connection = Some(connection);
                self.failures = 0;
                self.inner.set_health(url, true, None);
            }
            Err(why) => {
                self.failed(&why);
                for item in due {
                    self.inner.record(item, url, &Attempt::Retry(why.clone()));
                }
            }
        }
    }

    /// Sends what is due, one at a time, until something stops it.
    fn send(&mut self, due: Vec<OutboxItem>) {
        let url = self.address.as_str().to_owned();
        for item in due {
            let Some(connection) = self.connection.as_mut() else { return };
            if self.inner.stopped() {
                return;
            }
            let answer = connection.publish(&item.event);
            let rate_limited = matches!(answer, Ok(Verdict::RateLimited(_)));
            let (attempt, broken) = match answer {
                Ok(verdict) => (attempt_of(&verdict, item.event.kind.is_ephemeral()), None),
                Err(why) => (Attempt::Retry(why.clone()), Some(why)),
            };
            self.inner.record(&item, &url, &attempt);
            if let Some(why) = broken {
                self.disconnect();
                return self.failed(&why);
            }
            if rate_limited {
                self.hold_until = Instant::now() + self.timing().backoff_base;
                return;
            }
        }
    }

    /// Waits a moment for work: reading the open connection, or asleep.
    fn idle(&mut self) {
        let poll = self.timing().poll;
        if self.wake.take() {
            return;
        }
        match self.connection.as_mut().map(Connection::pump) {
            Some(Ok(())) => {}
            Some(Err(why)) => {
                self.disconnect();
                self.failed(&why);
            }
            None => {
                let until_retry = self.retry_at.saturating_duration_since(Instant::now());
                self.wake.wait(until_retry.clamp(poll / 5, poll * 2));
            }
        }
    }

    fn failed(&mut self, why: &str) {
        self.failures += 1;
        let timing = self.timing();
        let jitter = f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX);
        self.retry_at = Instant::now() + backoff(self.failures, timing.backoff_base, timing.backoff_cap, jitter);
        self.inner.set_health(self.address.as_str(), false, Some(why.to_owned()));
        log::warn!("relay {}: {why}", self.address);
    }

    fn disconnect(&mut self) {
        if let Some(connection) = self.connection.take() {
            connection.close();
            self.inner.set_health(self.address.as_str(), false, None);
        }
    }
}

/// What a relay's verdict comes to for the item.
fn attempt_of(verdict: &Verdict, ephemeral: bool) -> Attempt {
    match verdict {
        Verdict::Accepted if ephemeral => Attempt::Sent,
        Verdict::Accepted => Attempt::Delivered,
        Verdict::Duplicate => Attempt::Duplicate,
        Verdict::Refused(why) => Attempt::Refused(why.clone()),
        Verdict::RateLimited(why) | Verdict::AuthRequired(why) | Verdict::Failed(why) => Attempt::Retry(why.clone()),
    }
}

/// A thread's wake-up: set by `publish`, taken by the thread.
#[derive(Default)]
struct Wake {
    flag: Mutex<bool>,
    ready: Condvar,
}

impl Wake {
    fn notify(&self) {
        *self.flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.ready.notify_one();
    }

    /// Whether it was woken since last asked (and clears it).
    fn take(&self) -> bool {
        std::mem::take(&mut *self.flag.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Sleeps up to `limit`, or until woken.
    fn wait(&self, limit: Duration) {
        let flag = self.flag.lock().unwrap_or_else(|p| p.into_inner());
        let (mut flag, _) =
            self.ready.wait_timeout_while(flag, limit, |woken| !*woken).unwrap_or_else(|p| p.into_inner());
        *flag = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_become_attempts_and_ephemeral_events_are_only_sent() {
        let cases = [
            (Verdict::Accepted, false, Attempt::Delivered),
            (Verdict::Accepted, true, Attempt::Sent),
            (Verdict::Duplicate, false, Attempt::Duplicate),
            (Verdict::Refused("blocked: x".into()), false, Attempt::Refused("blocked: x".into())),
            (Verdict::RateLimited("rate-limited: x".into()), false, Attempt::Retry("rate-limited: x".into())),
            (Verdict::AuthRequired("auth-required: x".into()), false, Attempt::Retry("auth-required: x".into())),
            (Verdict::Failed("error: x".into()), false, Attempt::Retry("error: x".into())),
        ];
        for (verdict, ephemeral, attempt) in cases {
            assert_eq!(attempt_of(&verdict, ephemeral), attempt, "{verdict:?}");
        }
    }
}
