//! The relay client and the outbox against a real relay (PyPI nostr-relay,
//! `common::relay`) and small misbehaving WebSocket servers: the operator's
//! profile and relay list fetched back by an independent client, the
//! outbox across a SIGKILL, relays that are down, slow, rate-limiting,
//! asking for AUTH or sending garbage, `duplicate:` answered `false`, and a
//! customer's relays read the NIP-65 way with private ones refused.

use crate::common::relay::{RelayOptions, TestRelay};
use crate::common::relay_client::RelayConn;
use crate::common::{TestServer, ack, playing, spawn_role, temp_dir};
use hostr::config::Config;
use hostr::outbox::{DeliveryState, OutboxItem};
use hostr::relay::{Directory, RelayAddress, RelaySettings, Targets, Timing};
use nostr::prelude::*;
use serde_json::json;
use std::io::{BufRead, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Short waits, so that retries happen within a test (never asserted on).
fn timing() -> Timing {
    Timing {
        connect: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        answer: Duration::from_secs(2),
        backoff_base: Duration::from_secs(1),
        backoff_cap: Duration::from_secs(2),
    }
}

fn configure(config: &mut Config, relays: &[String]) {
    config.relays.relays = relays.iter().map(|r| RelayAddress::operator(r).unwrap()).collect();
    config.relays.timing = timing();
}

fn start(relays: &[String]) -> (tempfile::TempDir, TestServer) {
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("database"), |c| configure(c, relays));
    (dir, server)
}

fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited 60 s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The outbox item of the operator's replaceable event of `kind`.
fn item_of(server: &TestServer, kind: u16) -> Option<OutboxItem> {
    let coordinate = format!("{kind}:{}", server.app.operator.public_key().to_hex());
    server.app.outbox.latest(&coordinate).unwrap()
}

fn delivery<'a>(item: &'a OutboxItem, relay: &str) -> &'a hostr::outbox::Delivery {
    item.deliveries.iter().find(|d| d.relay == relay).expect("a delivery for the relay")
}

fn operator_events(relay: &TestRelay, author: &PublicKey, kind: u16) -> Vec<Event> {
    RelayConn::connect(&relay.url()).query(json!({"authors": [author.to_hex()], "kinds": [kind]}))
}

#[test]
fn the_operator_profile_and_relay_list_are_published_and_fetched_back() {
    let Some(relay) = TestRelay::start() else { return };
    let dir = temp_dir();
    let db = dir.path().join("database");
    let server = TestServer::start_on(db.clone(), |c| configure(c, &[relay.url()]));
    let operator = server.app.operator.public_key();
    let profile = eventually("the profile on the relay", || operator_events(&relay, &operator, 0).pop());
    let metadata: serde_json::Value = serde_json::from_str(&profile.content).unwrap();
    assert_eq!(metadata["name"], "hostr");
    assert_eq!(metadata["website"].as_str(), Some(server.app.config.public_url.origin()));
    let list = eventually("the relay list on the relay", || operator_events(&relay, &operator, 10002).pop());
    let tags: Vec<Vec<String>> = list.tags.iter().map(|t| t.as_slice().to_vec()).collect();
    assert_eq!(tags, vec![vec!["r".to_string(), relay.url()]]);

    let health = server.get("/api/health").json();
    assert_eq!(health["operator"]["npub"].as_str(), Some(server.app.operator.npub().as_str()));
    assert_eq!(health["relays"][0]["url"].as_str(), Some(relay.url().as_str()), "{health}");
    server.stop();

    // A restart publishes nothing new; a changed name is a new version.
    let again = TestServer::start_on(db.clone(), |c| configure(c, &[relay.url()]));
    assert_eq!(item_of(&again, 0).unwrap().id, profile.id.to_hex(), "the same profile is not signed again");
    again.stop();
    let renamed = TestServer::start_on(db, |c| {
        configure(c, &[relay.url()]);
        c.operator_profile.name = "Renamed hosting".into();
    });
    let newer = eventually("the new profile on the relay", || {
        operator_events(&relay, &operator, 0).pop().filter(|e| e.content.contains("Renamed hosting"))
    });
    assert_ne!(newer.id, profile.id);
    renamed.stop();
}

#[test]
fn without_relays_nothing_is_published_and_health_says_off() {
    let server = TestServer::start();
    assert_eq!(server.get("/api/health").json()["relays"], "off");
    let event = EventBuilder::new(Kind::TextNote, "x").finalize(server.app.operator.keys()).unwrap();
    let published = server.app.outbox.publish(event, Targets::Configured).unwrap();
    assert_eq!(published, hostr::relay::Published::Off);
    assert!(server.app.store.ids::<OutboxItem>().unwrap().is_empty(), "nothing written");
}

/// The child: a server whose only relay is down queues the operator's
/// profile, says its id, and waits to be killed.
#[test]
fn role_publisher() {
    if !playing("outbox::role_publisher") {
        return;
    }
    let db = PathBuf::from(std::env::var("HOSTR_TEST_DB").unwrap());
    let relay = std::env::var("HOSTR_TEST_RELAY_URL").unwrap();
    let server = TestServer::start_on(db, |c| configure(c, &[relay]));
    let item = eventually("the profile queued", || item_of(&server, 0));
    println!("ack {}", item.id);
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn the_outbox_survives_a_sigkill_and_delivers_the_very_same_event_after_restart() {
    let dir = temp_dir();
    let db = dir.path().join("database");
    let port = crate::common::tools::free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let mut child = spawn_role(
        "outbox::role_publisher",
        &[("HOSTR_TEST_DB", db.display().to_string()), ("HOSTR_TEST_RELAY_URL", url.clone())],
    );
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let id = lines.map_while(Result::ok).find_map(|l| ack(&l).map(str::to_owned)).expect("the child's ack");
    child.kill().unwrap();
    child.wait().unwrap();

    // The relay comes up where it was; a new process sends what was written.
    let Some(relay) = TestRelay::start_with(RelayOptions { port: Some(port), ..Default::default() }) else { return };
    let server = TestServer::start_on(db, |c| configure(c, std::slice::from_ref(&url)));
    let operator = server.app.operator.public_key();
    let found = eventually("the queued profile on the relay", || operator_events(&relay, &operator, 0).pop());
    assert_eq!(found.id.to_hex(), id, "exactly the event written before the crash");
    let item = eventually("the delivery recorded", || {
        item_of(&server, 0).filter(|i| delivery(i, &url).state == DeliveryState::Delivered)
    });
    assert_eq!(item.id, id);
}

/// A WebSocket server on loopback that plays a bad relay.
fn misbehaving_relay(behaviour: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    url
}

/// Answers every message with garbage, never with an OK.
fn garbage(stream: TcpStream) {
    let Ok(mut socket) = tungstenite::accept(stream) else { return };
    while let Ok(_message) = socket.read() {
        for junk in ["not json", "[\"OK\"]", "{\"a\":1}", "[\"OK\",\"\",\"yes\",\"\"]", "[\"EVENT\",\"x\",{}]"] {
            let _ = socket.send(Message::text(junk));
        }
        let _ = socket.send(Message::binary(vec![0xff, 0x00, 0x13]));
    }
}

/// Takes messages and never answers.
fn silent(stream: TcpStream) {
    let Ok(mut socket) = tungstenite::accept(stream) else { return };
    while socket.read().is_ok() {}
}

/// Not a WebSocket server at all.
fn not_websocket(mut stream: TcpStream) {
    let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\xff\xfe garbage\r\n\r\n");
}

#[test]
fn relays_that_are_down_slow_or_send_garbage_hold_up_nothing_and_are_retried_with_backoff() {
    let Some(good) = TestRelay::start() else { return };
    let down_port = crate::common::tools::free_port();
    let down = format!("ws://127.0.0.1:{down_port}");
    let bad = [misbehaving_relay(garbage), misbehaving_relay(silent), misbehaving_relay(not_websocket)];
    let mut relays = vec![down.clone(), good.url()];
    relays.extend(bad.iter().cloned());
    let (_dir, server) = start(&relays);
    let operator = server.app.operator.public_key();
    eventually("the profile on the good relay", || operator_events(&good, &operator, 0).pop());

    // Each bad relay is tried again, later each time, and stays pending.
    let item = eventually("two attempts at every bad relay", || {
        item_of(&server, 0).filter(|i| [&down].into_iter().chain(&bad).all(|r| delivery(i, r).attempts >= 2))
    });
    for relay in [&down].into_iter().chain(&bad) {
        let d = delivery(&item, relay);
        assert_eq!(d.state, DeliveryState::Pending, "{relay}");
        assert!(d.last_error.is_some(), "{relay}: the cause is recorded");
    }
    assert_eq!(delivery(&item, &good.url()).attempts, 1, "the good relay took it at once");
    let health = server.get("/api/health").json();
    let errors = health["relays"].as_array().unwrap().iter().filter(|r| r["lastError"].is_string()).count();
    assert!(errors >= 4, "each bad relay's error is shown: {health}");

    // The relay that was down comes up and gets what waited for it.
    let Some(back) = TestRelay::start_with(RelayOptions { port: Some(down_port), ..Default::default() }) else {
        return;
    };
    eventually("the profile on the relay that came back", || operator_events(&back, &operator, 0).pop());
}

#[test]
fn a_rate_limited_event_waits_and_is_delivered() {
    let extra_yaml = "rate_limits:\n  global:\n    EVENT: \"1/s\"\n".to_string();
    let Some(relay) = TestRelay::start_with(RelayOptions { extra_yaml, ..Default::default() }) else { return };
    let (_dir, server) = start(&[relay.url()]);
    let keys = server.app.operator.keys().clone();
    let notes: Vec<Event> =
        (0..3).map(|n| EventBuilder::new(Kind::TextNote, format!("note {n}")).finalize(&keys).unwrap()).collect();
    for note in &notes {
        server.app.outbox.publish(note.clone(), Targets::Configured).unwrap();
    }
    // The operator's profile and relay list go to this relay too: any of
    // the five events may be the one limited.
    let items = eventually("every event delivered", || {
        let items: Vec<OutboxItem> = server.app.store.list_readable::<OutboxItem>().unwrap();
        let notes_in = notes.iter().all(|n| items.iter().any(|i| i.event.id == n.id));
        (notes_in && items.iter().all(|i| i.deliveries[0].state.reached())).then_some(items)
    });
    let limited = items
        .iter()
        .map(|i| &i.deliveries[0])
        .find(|d| d.attempts >= 2 && d.last_error.as_deref().is_some_and(|e| e.starts_with("rate-limited:")));
    assert!(limited.is_some(), "one was rate-limited, waited and went again: {items:#?}\n{}", relay.log());
}

#[test]
fn a_relay_that_asks_for_auth_gets_the_operator_key_and_refuses_others_for_good() {
    let dir = temp_dir();
    let db = dir.path().join("database");
    std::fs::create_dir_all(&db).unwrap();
    let operator = hostr::operator_key::OperatorKey::in_database(&db).unwrap();
    let options = RelayOptions { writers: vec![operator.public_key().to_hex()], ..Default::default() };
    let Some(relay) = TestRelay::start_with(options) else { return };
    let server = TestServer::start_on(db, |c| configure(c, &[relay.url()]));
    eventually("the profile on the AUTH relay", || operator_events(&relay, &operator.public_key(), 0).pop());

    // Another shop's key is not a writer there: refused, final, not retried.
    let (_other_dir, other) = start(&[relay.url()]);
    let item = eventually("the refusal recorded", || item_of(&other, 0).filter(|i| i.finished_at.is_some()));
    let d = &item.deliveries[0];
    assert_eq!(d.state, DeliveryState::Refused);
    assert!(d.last_error.as_deref().is_some_and(|e| e.starts_with("restricted:")), "{d:?}");
    std::thread::sleep(timing().backoff_cap * 2);
    assert_eq!(item_of(&other, 0).unwrap().deliveries[0].attempts, 1, "a refusal is final");
    drop(server);
}

#[test]
fn a_duplicate_answered_false_counts_as_delivered() {
    let Some(relay) = TestRelay::start() else { return };
    let (_dir, server) = start(&[relay.url()]);
    let note = EventBuilder::new(Kind::TextNote, "already there").finalize(server.app.operator.keys()).unwrap();
    assert!(RelayConn::connect(&relay.url()).publish(&note).ok);
    server.app.outbox.publish(note.clone(), Targets::Configured).unwrap();
    let again = server.app.outbox.publish(note.clone(), Targets::Configured).unwrap();
    assert_eq!(again, hostr::relay::Published::AlreadyQueued, "one event, one record");
    let item = eventually("the duplicate recorded", || {
        Some(server.app.store.get::<OutboxItem>(&note.id.to_hex()).unwrap()).filter(|i| i.finished_at.is_some())
    });
    assert_eq!((item.deliveries[0].state, item.status()), (DeliveryState::Duplicate, "finished"));
}

#[test]
fn a_users_lists_are_read_from_their_own_write_relays_and_private_ones_are_refused() {
    let (Some(indexer), Some(own)) = (TestRelay::start(), TestRelay::start()) else { return };
    let user = Keys::generate();
    let relay_list = EventBuilder::new(Kind::RelayList, "")
        .tag(Tag::parse(["r", own.url().as_str(), "write"]).unwrap())
        .finalize(&user)
        .unwrap();
    let inbox = EventBuilder::new(Kind::InboxRelays, "")
        .tag(Tag::parse(["relay", "wss://inbox.example"]).unwrap())
        .finalize(&user)
        .unwrap();
    assert!(RelayConn::connect(&indexer.url()).publish(&relay_list).ok);
    assert!(RelayConn::connect(&own.url()).publish(&inbox).ok, "only on the user's own relay");

    let directory = |allow_private| {
        let settings = RelaySettings {
            relays: vec![RelayAddress::operator(&indexer.url()).unwrap()],
            allow_private,
            timing: timing(),
        };
        Directory::new(settings, Keys::generate(), Duration::from_secs(60))
    };
    let found = directory(true).lists_of(&user.public_key());
    assert_eq!(found.relay_list.map(|e| e.id), Some(relay_list.id));
    assert_eq!(found.inbox_relays.as_ref().map(|e| e.id), Some(inbox.id), "found on the user's write relay");

    // Without the test switch, a customer's ws:// loopback relay is never contacted.
    let strict = directory(false).lists_of(&user.public_key());
    assert_eq!(strict.relay_list.map(|e| e.id), Some(relay_list.id), "the configured relay is read");
    assert_eq!(strict.inbox_relays, None, "the private relay was refused");
    assert!(RelayAddress::customer(&own.url(), false).is_err());
}

#[test]
fn a_newer_version_of_a_replaceable_event_ends_the_wait_for_the_older_one() {
    // A relay that is down: both versions wait for it.
    let down = format!("ws://127.0.0.1:{}", crate::common::tools::free_port());
    let (_dir, server) = start(std::slice::from_ref(&down));
    let keys = server.app.operator.keys().clone();
    let version = |name: &str, at: u64| {
        EventBuilder::new(Kind::Metadata, json!({"name": name}).to_string())
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(&keys)
            .unwrap()
    };
    let (old, new) = (version("old", 1_800_000_000), version("new", 1_800_000_100));
    server.app.outbox.publish(old.clone(), Targets::Configured).unwrap();
    server.app.outbox.publish(new.clone(), Targets::Configured).unwrap();
    let old_item: OutboxItem = server.app.store.get(&old.id.to_hex()).unwrap();
    let new_item: OutboxItem = server.app.store.get(&new.id.to_hex()).unwrap();
    assert_eq!(delivery(&old_item, &down).state, DeliveryState::Refused, "{old_item:?}");
    assert!(delivery(&old_item, &down).last_error.as_deref().unwrap_or("").contains("superseded"));
    assert_eq!(delivery(&new_item, &down).state, DeliveryState::Pending, "the newest still waits");
}
