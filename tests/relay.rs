//! The test relay itself (PyPI `nostr-relay`, see `common::relay`): what the
//! other tests rely on it doing, checked once here so that a relay upgrade
//! that changes it fails loudly in one place.

use crate::common::relay::{RelayOptions, TestRelay};
use crate::common::relay_client::RelayConn;
use nostr::prelude::*;
use serde_json::json;

#[test]
fn the_test_relay_stores_serves_and_deduplicates_events() {
    let Some(relay) = TestRelay::start() else { return };
    let keys = Keys::generate();
    let event = EventBuilder::new(Kind::TextNote, "hello from hostr's tests").finalize(&keys).unwrap();
    let mut conn = RelayConn::connect(&relay.url());

    let first = conn.publish(&event);
    assert!(first.ok, "first publish accepted: {first:?}");
    // The quirk hostr's outbox must handle: a duplicate is `false` here.
    let again = conn.publish(&event);
    assert!(again.message.starts_with("duplicate:"), "second publish is a duplicate: {again:?}");

    let found = conn.query(json!({"ids": [event.id.to_hex()]}));
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), vec![event.id]);
}

#[test]
fn an_auth_relay_saves_only_for_an_authenticated_writer() {
    let writer = Keys::generate();
    let options = RelayOptions { writers: vec![writer.public_key().to_hex()], ..Default::default() };
    let Some(relay) = TestRelay::start_with(options) else { return };
    let event = EventBuilder::new(Kind::TextNote, "needs auth").finalize(&writer).unwrap();
    let mut conn = RelayConn::connect(&relay.url());

    let refused = conn.publish(&event);
    assert!(!refused.ok && refused.message.starts_with("restricted:"), "refused before AUTH: {refused:?}");
    conn.authenticate(&writer);
    let accepted = conn.publish(&event);
    assert!(accepted.ok, "accepted after AUTH: {accepted:?}\n{}", relay.log());
    let stranger = Keys::generate();
    let other = EventBuilder::new(Kind::TextNote, "not a writer").finalize(&stranger).unwrap();
    let mut second = RelayConn::connect(&relay.url());
    second.authenticate(&stranger);
    assert!(second.publish(&other).message.starts_with("restricted:"));
}
