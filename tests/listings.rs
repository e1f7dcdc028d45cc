//! Plans as NIP-99 listings on a real relay (PyPI nostr-relay), fetched back
//! by the tests' own client: every plan on sale is listed, a price change
//! replaces the listing, a plan off sale stops being listed (and is listed
//! inactive), a restart publishes nothing new, and a plan back on sale is
//! listed again.

use crate::common::relay::TestRelay;
use crate::common::relay_client::RelayConn;
use crate::common::{TestServer, temp_dir};
use hostr::outbox::OutboxItem;
use hostr::plan::{self, Plan, PlanChange};
use hostr::relay::RelayAddress;
use nostr::prelude::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn start(database: &Path, relay: &TestRelay) -> TestServer {
    TestServer::start_on(database.to_path_buf(), |config| {
        config.relays.relays = vec![RelayAddress::operator(&relay.url()).unwrap()];
        config.listing_check = Duration::from_millis(200);
    })
}

/// The operator's events of `kind` for plan `id` on the relay.
fn listed(relay: &TestRelay, operator: &PublicKey, kind: u16, id: &str) -> Vec<Event> {
    RelayConn::connect(&relay.url()).query(json!({"authors": [operator.to_hex()], "kinds": [kind], "#d": [id]}))
}

fn tag<'a>(event: &'a Event, name: &str) -> Vec<&'a str> {
    let tag = event.tags.iter().find(|t| t.as_slice()[0] == name).unwrap_or_else(|| panic!("no {name} tag"));
    tag.as_slice()[1..].iter().map(String::as_str).collect()
}

/// Waits until the relay holds exactly one listing of `kind` for `id`
/// that passes `ok`, and returns it.
fn wait_for(relay: &TestRelay, operator: &PublicKey, kind: u16, id: &str, ok: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = listed(relay, operator, kind, id);
        if let [event] = events.as_slice()
            && ok(event)
        {
            return event.clone();
        }
        assert!(Instant::now() < deadline, "waited 60 s for listing {kind} {id}; the relay has {events:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn outbox_items(server: &TestServer) -> usize {
    server.app.store.list_readable::<OutboxItem>().unwrap().len()
}

#[test]
fn plans_are_listed_replaced_on_change_withdrawn_off_sale_and_relisted() {
    let Some(relay) = TestRelay::start() else { return };
    let dir = temp_dir();
    let database = dir.path().join("database");
    let server = start(&database, &relay);
    let operator = server.app.operator.public_key();

    let first = wait_for(&relay, &operator, 30402, "basic", |_| true);
    first.verify().expect("the listing's signature verifies");
    assert_eq!(tag(&first, "price"), vec!["5", "USD", "month"]);
    assert_eq!(tag(&first, "title"), vec!["Web storage basic"]);
    let link = format!("{}/products.html?plan=basic", server.app.config.public_url.origin());
    assert_eq!(tag(&first, "r"), vec![link.as_str()]);

    // A price change (as a hand edit or `plan edit` makes it) replaces it.
    let change = PlanChange { price: Some("7.5".parse().unwrap()), ..Default::default() };
    plan::edit(&server.app.store, "basic", &change).unwrap();
    let repriced = wait_for(&relay, &operator, 30402, "basic", |e| tag(e, "price")[0] == "7.5");
    assert!(repriced.created_at > first.created_at, "the new version is newer");

    // Off sale: no active listing, an inactive one instead.
    plan::retire(&server.app.store, "basic").unwrap();
    let inactive = wait_for(&relay, &operator, 30403, "basic", |_| true);
    assert_eq!(tag(&inactive, "status"), vec!["sold"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !listed(&relay, &operator, 30402, "basic").is_empty() {
        assert!(Instant::now() < deadline, "the active listing was never withdrawn");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A restart publishes nothing new.
    let before = outbox_items(&server);
    server.stop();
    let server = start(&database, &relay);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(outbox_items(&server), before, "nothing re-queued after a restart");

    // Back on sale, even saying what it said before: listed again.
    let change = PlanChange { available: Some(true), ..Default::default() };
    plan::edit(&server.app.store, "basic", &change).unwrap();
    let relisted = wait_for(&relay, &operator, 30402, "basic", |_| true);
    assert!(relisted.created_at > inactive.created_at);
    let plans: Vec<Plan> = server.app.store.list_readable().unwrap();
    assert_eq!(plans.len(), 1);
}
