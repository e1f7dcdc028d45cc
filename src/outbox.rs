//! The outbox: signed Nostr events that must reach relays, one record per
//! event (`database/outbox/<event id>.json`), with the relays it is for and
//! what became of it at each.
//!
//! Invariants: an event is written here, whole and signed, before any relay
//! sees it, and it is never signed again: a resend is the very same JSON,
//! so the same id, and relays de-duplicate it. The record's id is the
//! event's id, so enqueueing one event twice is one record. A delivery is
//! final once a relay took the event (`delivered`, `duplicate`, `sent` for
//! ephemeral kinds, which get no OK) or refused it for good (`refused`:
//! `blocked:`, `restricted:`, `invalid:`); anything else is tried again
//! later, after a capped backoff. The item is finished when every delivery
//! is final. This module is pure: the sending is `relay::outbox`.

use crate::ids::IdFormat;
use crate::store::{Collection, Invalid, Key, Record};
use crate::timestamp::Timestamp;
use nostr::prelude::{Event, Tag};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What became of an event at one relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not taken yet: tried again at `nextAttemptAt` (or at once when none).
    Pending,
    /// The relay answered OK true.
    Delivered,
    /// The relay already held this event id (`duplicate:`, whatever its boolean).
    Duplicate,
    /// An ephemeral event written to the relay; relays send no OK for those.
    Sent,
    /// The relay refused it for good; `hostr outbox retry` tries again.
    Refused,
}

impl DeliveryState {
    pub fn is_final(self) -> bool {
        self != DeliveryState::Pending
    }

    /// Whether the relay holds (or was handed) the event.
    pub fn reached(self) -> bool {
        matches!(self, DeliveryState::Delivered | DeliveryState::Duplicate | DeliveryState::Sent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Duplicate => "duplicate",
            DeliveryState::Sent => "sent",
            DeliveryState::Refused => "refused",
        }
    }
}

/// One relay an event is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The relay's normalised URL (`relay::RelayAddress`).
    pub relay: String,
    pub state: DeliveryState,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_attempt_at: Option<Timestamp>,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
    /// The last thing that went wrong (kept after a later success, as history).
    #[serde(default)]
    pub last_error: Option<String>,
}

/// What one attempt at one relay came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    Duplicate,
    Sent,
    /// Final for this relay, with the relay's words.
    Refused(String),
    /// Try again after the backoff (rate limited, timed out, unreachable…).
    Retry(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    /// The event's id.
    pub id: String,
    /// The signed event, exactly as it is sent.
    pub event: Event,
    /// `kind:pubkey` or `kind:pubkey:d` for replaceable and addressable
    /// events: what a newer version of it replaces.
    pub coordinate: Option<String>,
    pub deliveries: Vec<Delivery>,
    pub created_at: Timestamp,
    /// When the last delivery became final.
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
}

impl OutboxItem {
    /// Whether this item's event says `content` and `tags` to exactly
    /// `relays`: a new version that would say the same need not be sent.
    pub fn says(&self, content: &str, tags: &[Tag], relays: &[String]) -> bool {
        let mut went: Vec<&str> = self.deliveries.iter().map(|d| d.relay.as_str()).collect();
        let mut going: Vec<&str> = relays.iter().map(String::as_str).collect();
        went.sort_unstable();
        going.sort_unstable();
        going.dedup();
        self.event.content == content && self.event.tags.as_slice() == tags && went == going
    }

    /// A new item for `event`, pending at each of `relays` (normalised URLs).
    pub fn new(event: Event, relays: &[String], now: Timestamp) -> OutboxItem {
        let mut relays: Vec<&String> = relays.iter().collect();
        relays.sort();
        relays.dedup();
        let deliveries = relays
            .into_iter()
            .map(|relay| Delivery {
                relay: relay.clone(),
                state: DeliveryState::Pending,
                attempts: 0,
                last_attempt_at: None,
                next_attempt_at: None,
                last_error: None,
            })
            .collect();
        OutboxItem {
            id: event.id.to_hex(),
            coordinate: coordinate(&event),
            event,
            deliveries,
            created_at: now,
            finished_at: None,
        }
    }

    /// Whether `relay` has a pending delivery due at `now`.
    pub fn due_at(&self, relay: &str, now: Timestamp) -> bool {
        self.deliveries.iter().any(|d| {
            d.relay == relay && d.state == DeliveryState::Pending && d.next_attempt_at.is_none_or(|at| at <= now)
        })
    }

    /// Records what one attempt at `relay` came to; `backoff` is the wait
    /// before the next one when it is to be tried again.
    pub fn record(&mut self, relay: &str, attempt: &Attempt, now: Timestamp, backoff: impl Fn(u32) -> Duration) {
        let Some(delivery) = self.deliveries.iter_mut().find(|d| d.relay == relay) else {
            return;
        };
        delivery.attempts += 1;
        delivery.last_attempt_at = Some(now);
        delivery.next_attempt_at = None;
        delivery.state = match attempt {
            Attempt::Delivered => DeliveryState::Delivered,
            Attempt::Duplicate => DeliveryState::Duplicate,
            Attempt::Sent => DeliveryState::Sent,
            Attempt::Refused(why) => {
                delivery.last_error = Some(why.clone());
                DeliveryState::Refused
            }
            Attempt::Retry(why) => {
                delivery.last_error = Some(why.clone());
                delivery.next_attempt_at = Some(now.plus(backoff(delivery.attempts)));
                DeliveryState::Pending
            }
        };
        if self.finished_at.is_none() && self.deliveries.iter().all(|d| d.state.is_final()) {
            self.finished_at = Some(now);
        }
    }

    /// Gives up the deliveries still pending because `newer` (a later
    /// version of the same replaceable event) replaces this one: relays
    /// would drop it anyway. True when one was pending.
    pub fn supersede(&mut self, newer: &str, now: Timestamp) -> bool {
        let why = format!("superseded by the newer version {newer}");
        let pending: Vec<String> =
            self.deliveries.iter().filter(|d| !d.state.is_final()).map(|d| d.relay.clone()).collect();
        for relay in &pending {
            self.record(relay, &Attempt::Refused(why.clone()), now, |_| Duration::ZERO);
        }
        !pending.is_empty()
    }

    /// Makes every delivery that did not reach its relay pending again, due
    /// at once (`hostr outbox retry`); true when there was one.
    pub fn retry(&mut self) -> bool {
        let mut any = false;
        for delivery in self.deliveries.iter_mut().filter(|d| !d.state.reached()) {
            delivery.state = DeliveryState::Pending;
            delivery.next_attempt_at = None;
            any = true;
        }
        if any {
            self.finished_at = None;
        }
        any
    }

    /// Whether at least one relay holds the event.
    pub fn reached_any(&self) -> bool {
        self.deliveries.iter().any(|d| d.state.reached())
    }

    /// Unfinished for longer than `limit` at `now`: what `hostr check` reports.
    pub fn stuck(&self, now: Timestamp, limit: Duration) -> bool {
        self.finished_at.is_none() && self.created_at.plus(limit) < now
    }

    /// The one-word state of the item: `finished`, `pending`, or `refused`
    /// (finished without any relay holding it).
    pub fn status(&self) -> &'static str {
        match (self.finished_at, self.reached_any()) {
            (None, _) => "pending",
            (Some(_), true) => "finished",
            (Some(_), false) => "refused",
        }
    }
}

/// The coordinate of a replaceable (`kind:pubkey`) or addressable
/// (`kind:pubkey:d`) event; none for the others.
pub fn coordinate(event: &Event) -> Option<String> {
    let (kind, author) = (event.kind, event.pubkey.to_hex());
    if kind.is_replaceable() {
        return Some(format!("{}:{author}", kind.as_u16()));
    }
    if kind.is_addressable() {
        let d = event.tags.identifier().unwrap_or_default();
        return Some(format!("{}:{author}:{d}", kind.as_u16()));
    }
    None
}

/// Whether `kind` is ephemeral (20000–29999): relays send no OK for it.
pub fn is_ephemeral(event: &Event) -> bool {
    event.kind.is_ephemeral()
}

impl Record for OutboxItem {
    const COLLECTION: Collection = Collection { folder: "outbox", noun: "outbox item", id_format: IdFormat::EventId };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        if self.event.id.to_hex() != self.id {
            return Err(Invalid::new("id", "must be the event's id"));
        }
        // A hand edit of the event would send something nobody signed.
        if self.event.verify().is_err() {
            return Err(Invalid::new("event", "its id or signature does not verify"));
        }
        if self.deliveries.is_empty() {
            return Err(Invalid::new("deliveries", "must name at least one relay"));
        }
        if self.coordinate != coordinate(&self.event) {
            return Err(Invalid::new("coordinate", "must be the event's coordinate"));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<OutboxItem>> {
        let mut keys = Vec::new();
        if self.finished_at.is_none() {
            keys.push(OutboxItem::unfinished());
        }
        for delivery in self.deliveries.iter().filter(|d| d.state == DeliveryState::Pending) {
            keys.push(OutboxItem::pending_for(&delivery.relay));
        }
        if let Some(coordinate) = &self.coordinate {
            keys.push(OutboxItem::of_coordinate(coordinate));
        }
        keys
    }
}

impl OutboxItem {
    /// Items with a delivery still to make.
    pub fn unfinished() -> Key<OutboxItem> {
        Key::shared("open", "unfinished")
    }

    /// Items waiting for `relay`.
    pub fn pending_for(relay: &str) -> Key<OutboxItem> {
        Key::shared("pendingRelay", relay)
    }

    /// Every version enqueued of a replaceable or addressable event.
    pub fn of_coordinate(coordinate: &str) -> Key<OutboxItem> {
        Key::shared("coordinate", coordinate)
    }
}

/// The wait before attempt `attempts + 1`: `base` doubled per attempt
/// made, at most `cap`, plus up to a quarter more chosen by `jitter` (0..1)
/// so that many items retried together spread out.
pub fn backoff(attempts: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let wait = base.saturating_mul(1 << doublings).min(cap);
    wait + wait.mul_f64(jitter.clamp(0.0, 1.0) / 4.0)
}

/// Which finished items may be removed at `now`: those finished more than
/// `keep` ago, except the newest of each coordinate (a replaceable event's
/// last version is what the next one is compared with).
pub fn prunable(items: &[OutboxItem], now: Timestamp, keep: Duration) -> Vec<String> {
    let newest = |item: &OutboxItem| {
        item.coordinate
            .as_ref()
            .is_some_and(|c| !items.iter().any(|other| other.coordinate.as_ref() == Some(c) && newer(other, item)))
    };
    items
        .iter()
        .filter(|item| item.finished_at.is_some_and(|at| at.plus(keep) < now) && !newest(item))
        .map(|item| item.id.clone())
        .collect()
}

/// Whether `a` is a later version than `b` (NIP-01: later `created_at`,
/// then the lower id).
pub fn newer(a: &OutboxItem, b: &OutboxItem) -> bool {
    (a.event.created_at, std::cmp::Reverse(&a.id)) > (b.event.created_at, std::cmp::Reverse(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Tag};

    fn event(kind: u16, created_at: u64) -> Event {
        EventBuilder::new(Kind::from_u16(kind), "x")
            .custom_created_at(nostr::prelude::Timestamp::from_secs(created_at))
            .tag(Tag::identifier("basic"))
            .finalize(&Keys::parse("7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a").unwrap())
            .unwrap()
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + seconds).unwrap()
    }

    const NO_WAIT: fn(u32) -> Duration = |_| Duration::from_secs(10);

    #[test]
    fn each_answer_moves_a_delivery_and_the_item_finishes_when_all_are_final() {
        let relays = ["wss://b".to_string(), "wss://a".to_string(), "wss://a".to_string()];
        let mut item = OutboxItem::new(event(1, 1), &relays, at(0));
        assert_eq!(item.deliveries.iter().map(|d| d.relay.as_str()).collect::<Vec<_>>(), ["wss://a", "wss://b"]);
        assert!(item.due_at("wss://a", at(0)));
        item.record("wss://a", &Attempt::Retry("rate-limited: slow down".into()), at(0), NO_WAIT);
        assert!(!item.due_at("wss://a", at(5)), "waits out the backoff");
        assert!(item.due_at("wss://a", at(10)));
        item.record("wss://a", &Attempt::Duplicate, at(10), NO_WAIT);
        assert_eq!((item.deliveries[0].state, item.deliveries[0].attempts), (DeliveryState::Duplicate, 2));
        assert_eq!(item.status(), "pending");
        item.record("wss://b", &Attempt::Refused("blocked: no".into()), at(11), NO_WAIT);
        assert_eq!((item.status(), item.finished_at), ("finished", Some(at(11))));
        assert!(item.retry(), "the refused one is tried again");
        assert_eq!((item.status(), item.deliveries[1].state), ("pending", DeliveryState::Pending));
        assert_eq!(item.deliveries[0].state, DeliveryState::Duplicate, "what reached a relay stays");
    }

    #[test]
    fn only_replaceable_and_addressable_events_have_a_coordinate() {
        let cases =
            [(0, true, false), (1, false, false), (10002, true, false), (30402, true, true), (23194, false, false)];
        for (kind, has, with_d) in cases {
            let found = coordinate(&event(kind, 1));
            assert_eq!(found.is_some(), has, "{kind}");
            assert_eq!(found.is_some_and(|c| c.ends_with(":basic")), with_d, "{kind}");
        }
        assert!(is_ephemeral(&event(23194, 1)) && !is_ephemeral(&event(1, 1)));
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_at_most_a_quarter_of_jitter() {
        let (base, cap) = (Duration::from_secs(2), Duration::from_secs(60));
        let cases = [(1, 0.0, 2), (2, 0.0, 4), (3, 0.0, 8), (6, 0.0, 60), (1000, 0.0, 60)];
        for (attempts, jitter, seconds) in cases {
            assert_eq!(backoff(attempts, base, cap, jitter), Duration::from_secs(seconds), "{attempts}");
        }
        assert_eq!(backoff(1000, base, cap, 1.0), Duration::from_secs(75));
        assert_eq!(backoff(1, base, cap, 7.0), Duration::from_millis(2500), "jitter is clamped");
    }

    #[test]
    fn old_finished_items_are_pruned_but_the_newest_version_of_each_coordinate_is_kept() {
        let week = Duration::from_secs(7 * 86_400);
        let finished = |kind, created, finished_at: Option<Timestamp>| OutboxItem {
            finished_at,
            ..OutboxItem::new(event(kind, created), &["wss://a".into()], at(0))
        };
        let old = Some(at(0));
        let items = [
            finished(0, 1, old),                         // an old profile: replaced by the next
            finished(0, 2, old),                         // the newest profile: kept
            finished(1, 1, old),                         // an old note: pruned
            finished(1, 2, Some(at(7 * 86_400 + 3600))), // recent: kept
            finished(1, 3, None),                        // unfinished: kept
        ];
        let now = at(8 * 86_400);
        let mut expected = vec![items[0].id.clone(), items[2].id.clone()];
        expected.sort();
        let mut pruned = prunable(&items, now, week);
        pruned.sort();
        assert_eq!(pruned, expected);
    }

    #[test]
    fn a_hand_edited_event_is_refused() {
        let mut item = OutboxItem::new(event(1, 1), &["wss://a".into()], at(0));
        assert!(item.validate().is_ok());
        item.event.content = "changed".into();
        assert_eq!(item.validate().unwrap_err().field, "event");
    }

    #[test]
    fn a_newer_version_ends_what_an_older_one_still_waits_for() {
        let mut older = OutboxItem::new(event(0, 1), &["wss://a".into(), "wss://b".into()], at(0));
        older.record("wss://a", &Attempt::Delivered, at(1), |_| Duration::ZERO);
        assert!(older.supersede("newer-id", at(2)));
        let b = older.deliveries.iter().find(|d| d.relay == "wss://b").unwrap();
        assert_eq!(b.state, DeliveryState::Refused);
        assert!(b.last_error.as_deref().unwrap().contains("newer-id"));
        assert_eq!(older.deliveries[0].state, DeliveryState::Delivered, "what was delivered stays so");
        assert!(older.finished_at.is_some());
        assert!(!older.supersede("newer-id", at(3)), "nothing left to give up");
    }

    #[test]
    fn a_version_is_new_when_its_content_tags_or_relays_differ() {
        let keys = Keys::generate();
        let relays = vec!["wss://a".to_string(), "wss://b".to_string()];
        let tags = vec![Tag::parse(["r", "wss://a"]).unwrap()];
        let event = EventBuilder::new(Kind::RelayList, "").tags(tags.clone()).finalize(&keys).unwrap();
        let item = OutboxItem::new(event, &relays, Timestamp::now());
        assert!(item.says("", &tags, &["wss://b".into(), "wss://a".into()]));
        assert!(!item.says("x", &tags, &relays), "other content");
        assert!(!item.says("", &[], &relays), "other tags");
        assert!(!item.says("", &tags, &relays[..1]), "other relays");
    }
}
