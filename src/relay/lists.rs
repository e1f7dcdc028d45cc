//! [`Directory`]: what a user says about themselves on relays (kind 0
//! profile, kind 10002 relay list, kind 10050 DM inbox relays), found the
//! NIP-65 way: asked of the configured relays, then of the user's own write
//! relays from their 10002 (at most [`MAX_OWN_RELAYS`], each a customer's
//! relay, so filtered like any address a customer names).
//!
//! Every read is bounded: one short connection per relay on its own thread,
//! all within [`Timing::answer`], at most [`MAX_EVENTS`] events from each;
//! only events that verify and are by the user are kept, the newest of each
//! kind. Answers are cached for `ttl`, in a cache of bounded size.

use super::RelaySettings;
use super::address::RelayAddress;
use super::connection::{Connection, Timing};
use nostr::prelude::{Event, Keys, PublicKey};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MAX_EVENTS: usize = 30;
const MAX_OWN_RELAYS: usize = 4;
const MAX_CACHED: usize = 4096;
const KINDS: [u16; 3] = [0, 10002, 10050];

/// A user's lists as found, each the newest that verified.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserLists {
    pub profile: Option<Event>,
    pub relay_list: Option<Event>,
    pub inbox_relays: Option<Event>,
}

impl UserLists {
    /// The write relays of the 10002 (`["r", url]` or `["r", url, "write"]`).
    pub fn write_relays(&self) -> Vec<String> {
        self.tag_values("r", |marker| marker != Some("read"), self.relay_list.as_ref())
    }

    /// The relays of the 10050 (`["relay", url]`).
    pub fn inbox(&self) -> Vec<String> {
        self.tag_values("relay", |_| true, self.inbox_relays.as_ref())
    }

    fn tag_values(&self, name: &str, keep: impl Fn(Option<&str>) -> bool, event: Option<&Event>) -> Vec<String> {
        let Some(event) = event else { return Vec::new() };
        event
            .tags
            .iter()
            .map(|tag| tag.as_slice())
            .filter(|tag| tag.first().map(String::as_str) == Some(name) && keep(tag.get(2).map(String::as_str)))
            .filter_map(|tag| tag.get(1).cloned())
            .collect()
    }

    /// Keeps `event` if it is the user's, verifies, and is newer than what is held.
    fn take(&mut self, author: &PublicKey, event: Event) {
        if event.pubkey != *author || event.verify().is_err() {
            return;
        }
        let slot = match event.kind.as_u16() {
            0 => &mut self.profile,
            10002 => &mut self.relay_list,
            10050 => &mut self.inbox_relays,
            _ => return,
        };
        // NIP-01: the later created_at wins; on a tie, the lower id.
        let newer = slot.as_ref().is_none_or(|held| (event.created_at, held.id) > (held.created_at, event.id));
        if newer {
            *slot = Some(event);
        }
    }
}

pub struct Directory {
    settings: RelaySettings,
    keys: Keys,
    ttl: Duration,
    cache: Mutex<HashMap<PublicKey, (Instant, UserLists)>>,
}

impl Directory {
    pub fn new(settings: RelaySettings, keys: Keys, ttl: Duration) -> Directory {
        Directory { settings, keys, ttl, cache: Mutex::default() }
    }

    /// `author`'s lists, from the cache while fresh; empty when relays are off.
    pub fn lists_of(&self, author: &PublicKey) -> UserLists {
        if !self.settings.is_on() {
            return UserLists::default();
        }
        if let Some((at, lists)) = self.lock().get(author)
            && at.elapsed() < self.ttl
        {
            return lists.clone();
        }
        let lists = self.fetch(author);
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(*author, (Instant::now(), lists.clone()));
        lists
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PublicKey, (Instant, UserLists)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the configured relays, then the user's own write relays.
    fn fetch(&self, author: &PublicKey) -> UserLists {
        let deadline = Instant::now() + self.settings.timing.answer;
        let mut lists = UserLists::default();
        let configured = self.settings.relays.clone();
        for event in query_all(&configured, author, &self.keys, self.settings.timing, deadline) {
            lists.take(author, event);
        }
        let own: Vec<RelayAddress> = lists
            .write_relays()
            .iter()
            .filter_map(|url| match self.settings.customer_relay(url) {
                Ok(address) => Some(address),
                Err(why) => {
                    log::info!("not reading {author}'s relay: {why}");
                    None
                }
            })
            .filter(|address| !configured.contains(address))
            .take(MAX_OWN_RELAYS)
            .collect();
        for event in query_all(&own, author, &self.keys, self.settings.timing, deadline) {
            lists.take(author, event);
        }
        lists
    }
}

/// The events of `author` of [`KINDS`] on each relay, all asked at once,
/// collected until `deadline`; a relay that has not answered by then is
/// left to finish on its own.
fn query_all(
    relays: &[RelayAddress],
    author: &PublicKey,
    keys: &Keys,
    timing: Timing,
    deadline: Instant,
) -> Vec<Event> {
    let (sender, receiver) = mpsc::channel();
    let filter = json!({"authors": [author.to_hex()], "kinds": KINDS, "limit": MAX_EVENTS});
    for address in relays {
        let (sender, relay, keys, filter) = (sender.clone(), address.clone(), keys.clone(), filter.clone());
        let spawned = std::thread::Builder::new().name(format!("read {relay}")).spawn(move || {
            let found = Connection::open(&relay, &keys, timing).and_then(|mut c| {
                let events = c.query(&filter, deadline, MAX_EVENTS);
                c.close();
                events
            });
            if let Err(why) = &found {
                log::info!("reading relay {relay}: {why}");
            }
            let _ = sender.send(found.unwrap_or_default());
        });
        if let Err(error) = spawned {
            log::error!("cannot start a thread to read {address}: {error}");
        }
    }
    drop(sender);
    let mut events = Vec::new();
    while let Ok(found) = receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        events.extend(found);
    }
    events
}
