//! Signing in with a Nostr key, sessions and the customer's own account,
//! through the real server; every bad input gets its own 4xx.

use crate::common::{TestServer, login_event, new_keys, signed_event, temp_dir};
use hostr::api::unix_now;
use hostr::customer::npub;
use serde_json::{Value, json};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Barrier};

fn url(server: &TestServer) -> String {
    server.app.config.public_url.verify_url()
}

#[test]
fn a_new_key_signs_in_registers_edits_deletes_recovers_and_signs_out_everywhere() {
    let dir = temp_dir();
    let nostr_json = fake_nostr_json(json!({}));
    let server = TestServer::start_on(dir.path().join("db"), |c| c.test_nip05_server = Some(nostr_json));
    let keys = new_keys();
    let hex = keys.public_key().to_hex();

    let challenge = server.get("/api/challenge");
    assert_eq!(challenge.header("cache-control"), Some("no-store"));
    let json = challenge.json();
    assert_eq!(json["challenge"].as_str().unwrap().len(), 64);
    assert_eq!(json["url"], url(&server).as_str());

    let event = login_event(&keys, &url(&server), json["challenge"].as_str().unwrap());
    let verified = server.verify(&event);
    assert_eq!(verified.status, 200);
    let cookie = verified.header("set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with("hostr_session=") && cookie.contains("HttpOnly; SameSite=Strict; Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http public URL");
    let body = verified.json();
    assert_eq!((body["publicKey"].as_str(), body["registered"].as_bool()), (Some(hex.as_str()), Some(false)));
    assert_eq!(body["npub"], npub(&hex).unwrap().as_str());
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(cookie.contains(&token));

    let check = server.authed("GET", "/api/check", &token, None).json();
    assert_eq!((check["registered"].as_bool(), &check["status"]), (Some(false), &Value::Null));
    assert_eq!(server.authed("GET", "/api/profile", &token, None).error_code(), "not_registered");

    let created = server.browser("POST", "/api/new-user", &token, Some(r#"{"email": "me@example.com"}"#));
    assert_eq!(created.status, 201, "{:?}", created.json());
    assert_eq!(created.json()["customer"]["email"], "me@example.com");
    let check = server.browser("GET", "/api/check", &token, None).json();
    assert_eq!((check["registered"].as_bool(), check["status"].as_str()), (Some(true), Some("ACTIVE")));

    // The profile: email change and a signed kind-0 with HTML in its name.
    let profile_event = {
        use nostr::prelude::*;
        let content = json!({"name": "<img src=x onerror=alert(1)>", "about": "hi", "nip05": "me@example.com"});
        let event = EventBuilder::new(Kind::Metadata, content.to_string()).finalize(&keys).unwrap();
        serde_json::to_value(&event).unwrap()
    };
    let body = json!({"email": "new@example.com", "metadata": profile_event}).to_string();
    let updated = server.browser("PUT", "/api/profile", &token, Some(&body));
    assert_eq!(updated.status, 200, "{:?}", updated.json());
    let profile = server.browser("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["customer"]["email"], "new@example.com");
    assert_eq!(profile["metadata"]["name"], "<img src=x onerror=alert(1)>");
    assert_eq!(profile["metadata"]["nip05"], "me@example.com");
    assert_eq!(profile["cpanelAccounts"], json!([]));
    let cleared = server.browser("PUT", "/api/profile", &token, Some(r#"{"email": null}"#)).json();
    assert_eq!(cleared["customer"]["email"], Value::Null);
    assert_eq!(cleared["metadata"]["name"], "<img src=x onerror=alert(1)>", "metadata untouched");

    // Delete: refused without and with a wrong confirmation, then done.
    let npub = npub(&hex).unwrap();
    let missing = server.browser("POST", "/api/delete-user", &token, Some("{}"));
    assert_eq!((missing.status, missing.error_code().as_str()), (400, "confirmation_required"));
    let other = npub_of_new_key();
    let wrong = server.browser("POST", "/api/delete-user", &token, Some(&json!({"confirm": other}).to_string()));
    assert_eq!((wrong.status, wrong.error_code().as_str()), (400, "wrong_confirmation"));
    let deleted = server.browser("POST", "/api/delete-user", &token, Some(&json!({"confirm": npub}).to_string()));
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["customer"]["status"], "DELETED");
    assert!(deleted.json()["purgeAfter"].as_str().unwrap().ends_with('Z'));
    let again = server.browser("POST", "/api/delete-user", &token, Some(&json!({"confirm": npub}).to_string()));
    assert_eq!(again.error_code(), "already_deleted");
    let frozen = server.browser("PUT", "/api/profile", &token, Some(r#"{"email": "x@example.com"}"#));
    assert_eq!((frozen.status, frozen.error_code().as_str()), (403, "customer_deleted"));

    let recovered = server.browser("POST", "/api/recover-user", &token, None);
    assert_eq!(recovered.json()["customer"]["status"], "ACTIVE");
    assert_eq!(server.browser("POST", "/api/recover-user", &token, None).error_code(), "not_deleted");

    // Sign out everywhere: every earlier token stops working.
    let second = server.sign_in(&keys);
    let out = server.browser("POST", "/api/logout", &token, Some(r#"{"everywhere": true}"#));
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    for old in [&token, &second] {
        assert_eq!(server.authed("GET", "/api/check", old, None).error_code(), "session_revoked");
    }
    let fresh = server.sign_in(&keys);
    assert_eq!(server.authed("GET", "/api/check", &fresh, None).status, 200);
}

fn npub_of_new_key() -> String {
    npub(&new_keys().public_key().to_hex()).unwrap()
}

#[test]
fn every_bad_sign_in_event_is_refused_with_its_reason() {
    let server = TestServer::start();
    let keys = new_keys();
    let url = url(&server);
    let now = unix_now();

    // Replay: the same event twice.
    let event = login_event(&keys, &url, &server.challenge());
    assert_eq!(server.verify(&event).status, 200);
    let replay = server.verify(&event);
    assert_eq!((replay.status, replay.error_code().as_str()), (401, "used_challenge"));

    let other = new_keys();
    let mut forged = login_event(&keys, &url, &server.challenge());
    forged["sig"] = login_event(&other, &url, "x")["sig"].clone();
    let mut altered = login_event(&keys, &url, &server.challenge());
    altered["content"] = Value::from("altered");
    let mut swapped = login_event(&keys, &url, &server.challenge());
    swapped["pubkey"] = Value::from(other.public_key().to_hex());
    let c = |server: &TestServer| server.challenge();
    let cases: Vec<(Value, &str)> = vec![
        (forged, "bad_signature"),
        (altered, "bad_id"),
        (swapped, "bad_id"),
        (
            signed_event(
                &keys,
                22242,
                now,
                vec![vec!["u", &url], vec!["method", "POST"], vec!["challenge", &c(&server)]],
            ),
            "wrong_kind",
        ),
        (
            signed_event(
                &keys,
                27235,
                now - 400,
                vec![vec!["u", &url], vec!["method", "POST"], vec!["challenge", &c(&server)]],
            ),
            "stale_event",
        ),
        (
            signed_event(
                &keys,
                27235,
                now + 120,
                vec![vec!["u", &url], vec!["method", "POST"], vec!["challenge", &c(&server)]],
            ),
            "future_event",
        ),
        (
            signed_event(
                &keys,
                27235,
                now,
                vec![
                    vec!["u", "https://other.example/api/verify"],
                    vec!["method", "POST"],
                    vec!["challenge", &c(&server)],
                ],
            ),
            "wrong_url",
        ),
        (
            signed_event(
                &keys,
                27235,
                now,
                vec![vec!["u", &url], vec!["method", "GET"], vec!["challenge", &c(&server)]],
            ),
            "wrong_method",
        ),
        (signed_event(&keys, 27235, now, vec![vec!["u", &url], vec!["method", "POST"]]), "missing_challenge"),
        (
            signed_event(
                &keys,
                27235,
                now,
                vec![vec!["u", &url], vec!["method", "POST"], vec!["challenge", &"ab".repeat(32)]],
            ),
            "unknown_challenge",
        ),
    ];
    for (event, code) in cases {
        let reply = server.verify(&event);
        assert_eq!((reply.status, reply.error_code().as_str()), (401, code));
    }

    let mut upper = login_event(&keys, &url, &server.challenge());
    upper["id"] = Value::from(upper["id"].as_str().unwrap().to_uppercase());
    assert_eq!(server.verify(&upper).error_code(), "malformed_event");
    for body in ["{\"event\": ", "{\"event\": 5}", "[1, 2]", "\"event\"", "{}", "{\"event\": {\"id\": \"zz\"}}"] {
        let reply = server.request("POST", "/api/verify", &[], Some(body));
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.json());
        assert!(matches!(reply.error_code().as_str(), "malformed_json" | "malformed_event"), "{body}");
    }
    let no_type = server.request("POST", "/api/verify", &[("Content-Type", "text/plain")], None);
    assert_eq!(no_type.status, 415);
    assert_eq!(server.get("/api/health").status, 200, "still serving");
}

#[test]
fn an_expired_challenge_is_refused() {
    let dir = temp_dir();
    let server =
        TestServer::start_on(dir.path().join("db"), |c| c.challenge_lifetime = std::time::Duration::from_secs(1));
    let keys = new_keys();
    let challenge = server.challenge();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Signed just now, so the event itself is fresh: only the challenge is old.
    let event = login_event(&keys, &url(&server), &challenge);
    assert_eq!(server.verify(&event).error_code(), "expired_challenge");
}

#[test]
fn one_challenge_signs_in_once_even_when_raced() {
    let server = Arc::new(TestServer::start());
    let keys = new_keys();
    let event = Arc::new(login_event(&keys, &url(&server), &server.challenge()));
    let barrier = Arc::new(Barrier::new(8));
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (server, event, barrier) = (server.clone(), event.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                server.verify(&event).status
            })
        })
        .collect();
    let statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&s| s == 200 || s == 401));
}

#[test]
fn challenges_are_rate_limited_per_address() {
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| c.challenge_rate = 5);
    for _ in 0..5 {
        assert_eq!(server.get("/api/challenge").status, 200);
    }
    let limited = server.get("/api/challenge");
    assert_eq!((limited.status, limited.error_code().as_str()), (429, "too_many_challenges"));
    assert_eq!(limited.header("retry-after"), Some("12"));
}

#[test]
fn forged_expired_revoked_and_foreign_tokens_are_refused() {
    use base64::Engine;
    let server = TestServer::start();
    let keys = new_keys();
    let token = server.sign_in(&keys);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();

    let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = Value::from(new_keys().public_key().to_hex());
    let tampered = format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2]);
    let foreign =
        hostr::auth::session::Sessions::new(b"some other server's secret, 32 b", std::time::Duration::from_secs(60))
            .issue(&keys.public_key().to_hex(), 0, unix_now());
    let expired = server.app.sessions.issue(&keys.public_key().to_hex(), 0, unix_now() - 30 * 86400);
    for (bad, code) in [
        (none.as_str(), "invalid_session"),
        (tampered.as_str(), "invalid_session"),
        (foreign.as_str(), "invalid_session"),
        (expired.as_str(), "session_expired"),
        ("garbage", "invalid_session"),
    ] {
        let reply = server.authed("GET", "/api/check", bad, None);
        assert_eq!((reply.status, reply.error_code().as_str()), (401, code), "{bad}");
        let reply = server.browser("GET", "/api/check", bad, None);
        assert_eq!(reply.error_code(), code, "cookie {bad}");
    }
    assert_eq!(server.get("/api/check").error_code(), "not_signed_in");
}

#[test]
fn cookie_requests_from_other_origins_are_refused() {
    let server = TestServer::start();
    let token = server.sign_in(&new_keys());
    let cookie = format!("hostr_session={token}");
    let body = Some("{}");
    let evil =
        server.request("POST", "/api/new-user", &[("Cookie", &cookie), ("Origin", "https://evil.example")], body);
    assert_eq!((evil.status, evil.error_code().as_str()), (403, "cross_origin"));
    let no_origin = server.request("POST", "/api/new-user", &[("Cookie", &cookie)], body);
    assert_eq!(no_origin.status, 403);
    let same_site =
        server.request("POST", "/api/new-user", &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")], body);
    assert_eq!(same_site.status, 201);
    // A bearer token is not sent by browsers on their own: no Origin needed.
    let other = server.sign_in(&new_keys());
    assert_eq!(server.authed("POST", "/api/new-user", &other, body).status, 201);
    // A login forced from another site is refused too.
    let event = login_event(&new_keys(), &url(&server), &server.challenge());
    let forced = server.request(
        "POST",
        "/api/verify",
        &[("Origin", "https://evil.example")],
        Some(&json!({"event": event}).to_string()),
    );
    assert_eq!(forced.status, 403);
}

#[test]
fn checks_registration_and_emails_refuse_what_they_must() {
    let server = TestServer::start();
    let keys = new_keys();
    let token = server.sign_in(&keys);
    let someone = npub_of_new_key();
    let theirs = server.authed("GET", &format!("/api/check?publicKey={someone}"), &token, None);
    assert_eq!((theirs.status, theirs.error_code().as_str()), (403, "not_your_key"));
    let mine = npub(&keys.public_key().to_hex()).unwrap();
    assert_eq!(server.authed("GET", &format!("/api/check?publicKey={mine}"), &token, None).status, 200);
    let hex = keys.public_key().to_hex();
    assert_eq!(server.authed("GET", &format!("/api/check?publicKey={hex}"), &token, None).status, 200);
    assert_eq!(server.authed("GET", "/api/check?publicKey=nonsense", &token, None).error_code(), "bad_public_key");

    for bad in ["not-an-email", "a@b", &format!("{}@example.com", "x".repeat(300))] {
        let reply = server.authed("POST", "/api/new-user", &token, Some(&json!({"email": bad}).to_string()));
        assert_eq!((reply.status, reply.error_code().as_str()), (400, "bad_email"), "{bad}");
    }
    let wrong_type = server.authed("POST", "/api/new-user", &token, Some(r#"{"email": 42}"#));
    assert_eq!(wrong_type.error_code(), "malformed_json");
    let unknown_field = server.authed("POST", "/api/new-user", &token, Some(r#"{"price": 0}"#));
    assert_eq!(unknown_field.error_code(), "malformed_json");
    assert_eq!(server.authed("POST", "/api/new-user", &token, Some(r#"{"email": "Taken@Example.com"}"#)).status, 201);
    let twice = server.authed("POST", "/api/new-user", &token, None);
    assert_eq!((twice.status, twice.error_code().as_str()), (409, "already_registered"));

    let other = server.sign_in(&new_keys());
    let taken = server.authed("POST", "/api/new-user", &other, Some(r#"{"email": "taken@example.COM"}"#));
    assert_eq!((taken.status, taken.error_code().as_str()), (409, "email_unavailable"));
    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(70_000));
    assert_eq!(server.authed("POST", "/api/new-user", &other, Some(&huge)).status, 413);
    assert_eq!(server.authed("POST", "/api/new-user", &other, None).status, 201);
}

#[test]
fn profile_events_must_be_the_customers_own_and_newest_wins() {
    use nostr::prelude::*;
    let server = TestServer::start();
    let keys = new_keys();
    let token = server.sign_in(&keys);
    assert_eq!(server.authed("POST", "/api/new-user", &token, None).status, 201);
    let kind0 = |keys: &Keys, name: &str, at: u64| {
        let event = EventBuilder::new(Kind::Metadata, json!({"name": name}).to_string())
            .custom_created_at(nostr::prelude::Timestamp::from(at))
            .finalize(keys)
            .unwrap();
        json!({"metadata": serde_json::to_value(&event).unwrap()}).to_string()
    };
    let now = unix_now() as u64;
    let theirs = server.authed("PUT", "/api/profile", &token, Some(&kind0(&new_keys(), "thief", now)));
    assert_eq!((theirs.status, theirs.error_code().as_str()), (403, "not_your_profile"));
    assert_eq!(server.authed("PUT", "/api/profile", &token, Some(&kind0(&keys, "new", now))).status, 200);
    let older = server.authed("PUT", "/api/profile", &token, Some(&kind0(&keys, "old", now - 100))).json();
    assert_eq!(older["metadata"]["name"], "new", "an older event must not replace a newer one");
    let mut forged: Value = serde_json::from_str(&kind0(&keys, "x", now + 1)).unwrap();
    forged["metadata"]["content"] = Value::from("{\"name\":\"y\"}");
    let forged = server.authed("PUT", "/api/profile", &token, Some(&forged.to_string()));
    assert_eq!((forged.status, forged.error_code().as_str()), (400, "bad_metadata"));
}

/// A stand-in for `https://<domain>/.well-known/nostr.json`, answering
/// `names` with the given map; returns its base URL.
fn fake_nostr_json(names: Value) -> String {
    let (base, _asked, open) = held_nostr_json(names);
    drop(open);
    base
}

/// [`fake_nostr_json`] that answers nothing until the returned sender is
/// dropped, and tells each name it is asked for as the request arrives.
fn held_nostr_json(names: Value) -> (String, Receiver<String>, Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (asked, names_asked) = channel();
    let (open, gate) = channel::<()>();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let read = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..read]);
            let name = head.split_once("name=").and_then(|(_, rest)| rest.split(' ').next()).unwrap_or("");
            let _ = asked.send(name.to_owned());
            let _ = gate.recv();
            let body = json!({"names": names}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, names_asked, open)
}

/// Puts a profile naming `identifier`, signed at `at`, as the page would.
fn set_nip05(server: &TestServer, keys: &nostr::prelude::Keys, token: &str, identifier: &str, at: u64) {
    use nostr::prelude::*;
    let event = EventBuilder::new(Kind::Metadata, json!({"nip05": identifier}).to_string())
        .custom_created_at(nostr::prelude::Timestamp::from(at))
        .finalize(keys)
        .unwrap();
    let body = json!({"metadata": serde_json::to_value(&event).unwrap()}).to_string();
    assert_eq!(server.authed("PUT", "/api/profile", token, Some(&body)).status, 200);
}

/// The server's check of the customer's NIP-05 identifier, once there is one.
fn nip05_check(server: &TestServer, token: &str) -> Value {
    (0..100)
        .find_map(|_| {
            let profile = server.authed("GET", "/api/profile", token, None).json();
            let check = profile["metadata"]["nip05Check"].clone();
            if check.is_null() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                None
            } else {
                Some(check)
            }
        })
        .expect("the check finishes within 5 s")
}

#[test]
fn nip05_identifiers_are_checked_by_the_server() {
    let keys = new_keys();
    let hex = keys.public_key().to_hex();
    let base = fake_nostr_json(json!({"alice": hex, "mallory": "ab".repeat(32)}));
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| c.test_nip05_server = Some(base));
    let token = server.sign_in(&keys);
    assert_eq!(server.authed("POST", "/api/new-user", &token, None).status, 201);
    let mut at = unix_now() as u64;
    for (identifier, valid) in
        [("alice@example.com", true), ("mallory@example.com", false), ("nobody@example.com", false)]
    {
        at += 1;
        set_nip05(&server, &keys, &token, identifier, at);
        let check = nip05_check(&server, &token);
        assert_eq!(check["identifier"], identifier);
        assert_eq!(check["valid"], valid, "{identifier}: {check}");
    }
}

#[test]
fn one_customer_sending_many_nip05_identifiers_cannot_push_another_out_of_the_queue() {
    let (mallory, bob) = (new_keys(), new_keys());
    let (base, asked, open) = held_nostr_json(json!({"bob": bob.public_key().to_hex()}));
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| c.test_nip05_server = Some(base));
    let [(mallory_token, mallory_id), (bob_token, _)] = [&mallory, &bob].map(|keys| {
        let token = server.sign_in(keys);
        let created = server.authed("POST", "/api/new-user", &token, None);
        assert_eq!(created.status, 201);
        (token, created.json()["customer"]["id"].as_str().unwrap().to_owned())
    });
    let at = unix_now() as u64 - 1000;
    set_nip05(&server, &mallory, &mallory_token, "m0@example.com", at);
    let first = asked.recv_timeout(std::time::Duration::from_secs(5));
    assert_eq!(first.as_deref(), Ok("m0"), "the first check is under way, and held");
    // More identifiers than the queue has places, as that many PUTs would
    // schedule them, but within the 5 s the held check waits.
    let public_key = mallory.public_key().to_hex();
    for n in 1..=300 {
        server.app.nip05.schedule(&mallory_id, &format!("m{n}@example.com"), &public_key);
    }
    set_nip05(&server, &bob, &bob_token, "bob@example.com", at);
    drop(open);
    let check = nip05_check(&server, &bob_token);
    assert_eq!((&check["identifier"], &check["valid"]), (&json!("bob@example.com"), &json!(true)), "{check}");
    let asked: Vec<String> = asked.try_iter().collect();
    assert_eq!(asked, ["m300", "bob"], "of Mallory's waiting identifiers, only the latest is checked");
}

#[test]
fn recovery_ends_with_the_grace_period_and_the_session_secret_is_private_and_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let db = dir.path().join("db");
    let keys = new_keys();
    let (token, customer_id) = {
        let server = TestServer::start_on(db.clone(), |_| {});
        let token = server.sign_in(&keys);
        let created = server.authed("POST", "/api/new-user", &token, None).json();
        let npub = npub(&keys.public_key().to_hex()).unwrap();
        let body = json!({"confirm": npub}).to_string();
        assert_eq!(server.authed("POST", "/api/delete-user", &token, Some(&body)).status, 200);
        (token, created["customer"]["id"].as_str().unwrap().to_owned())
    };
    let secret = db.join(".session-secret");
    assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);

    // An operator (or time) moves the deletion 40 days back; after a restart
    // the old session still works, and recovery is refused.
    let path = db.join("customers").join(format!("{customer_id}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    let deleted_at = record["deletedAt"].as_str().unwrap();
    let long_ago = hostr::timestamp::Timestamp::from(chrono::Utc::now() - chrono::Duration::days(40)).to_string();
    std::fs::write(&path, text.replace(deleted_at, &long_ago)).unwrap();
    let server = TestServer::start_on(db, |_| {});
    let late = server.authed("POST", "/api/recover-user", &token, None);
    assert_eq!((late.status, late.error_code().as_str()), (410, "grace_period_over"));
}

#[test]
fn the_operators_reason_for_suspending_a_customer_is_never_shown_to_them() {
    let server = TestServer::start();
    let keys = new_keys();
    let token = server.sign_in(&keys);
    let id = server.authed("POST", "/api/new-user", &token, None).json()["customer"]["id"].as_str().unwrap().to_owned();
    hostr::customer::suspend(&server.app.store, &id, "private note: chargeback ring").unwrap();
    let profile = server.authed("GET", "/api/profile", &token, None);
    let event = login_event(&keys, &server.app.config.public_url.verify_url(), &server.challenge());
    let verified = server.verify(&event);
    for reply in [profile, verified] {
        let body = String::from_utf8_lossy(&reply.body).into_owned();
        assert_eq!(reply.json()["customer"]["status"], "SUSPENDED", "{body}");
        assert!(!body.contains("chargeback") && !body.contains("suspendReason"), "{body}");
    }
}

#[test]
fn an_operator_suspension_survives_delete_and_recover() {
    let server = TestServer::start();
    let keys = new_keys();
    let token = server.sign_in(&keys);
    let id = server.authed("POST", "/api/new-user", &token, None).json()["customer"]["id"].as_str().unwrap().to_owned();
    let path = server.app.store.dir::<hostr::customer::Customer>().unwrap().join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"ACTIVE\"", "\"SUSPENDED\"")).unwrap();
    let npub = npub(&keys.public_key().to_hex()).unwrap();
    let refused = server.authed("POST", "/api/delete-user", &token, Some(&json!({"confirm": npub}).to_string()));
    assert_eq!((refused.status, refused.error_code().as_str()), (403, "customer_suspended"));
    assert_eq!(server.authed("POST", "/api/recover-user", &token, None).error_code(), "not_deleted");
    assert_eq!(server.authed("GET", "/api/check", &token, None).json()["status"], "SUSPENDED");
}

#[test]
fn logout_clears_the_cookie_for_the_own_site_and_a_cross_site_one_changes_nothing() {
    let server = TestServer::start();
    let token = server.sign_in(&new_keys());
    let cookie = format!("hostr_session={token}");
    let forced =
        server.request("POST", "/api/logout", &[("Cookie", &cookie), ("Origin", "https://evil.example")], None);
    assert_eq!(forced.status, 403);
    assert_eq!(forced.header("set-cookie"), None, "a refused request has no effect");
    let still = server.request("GET", "/api/check", &[("Cookie", &cookie)], None);
    assert_eq!(still.status, 200, "the session survives a logout forced by another site");
    // Everywhere, for a key that never registered: refused, cookie cleared all the same.
    let unregistered = server.browser("POST", "/api/logout", &token, Some(r#"{"everywhere": true}"#));
    assert_eq!((unregistered.status, unregistered.error_code().as_str()), (404, "not_registered"));
    assert!(unregistered.header("set-cookie").unwrap().contains("Max-Age=0"));
    // The scheme name of Authorization is case-insensitive.
    let lower = server.request("GET", "/api/check", &[("Authorization", &format!("bearer {token}"))], None);
    assert_eq!(lower.status, 200);
}

#[test]
fn whether_an_email_belongs_to_a_customer_is_not_cheap_to_learn() {
    let server = TestServer::start();
    let owner = server.sign_in(&new_keys());
    let email = |address: &str| json!({"email": address}).to_string();
    assert_eq!(server.authed("POST", "/api/new-user", &owner, Some(&email("owner@shop.example"))).status, 201);
    for address in ["first@shop.example", "second@shop.example"] {
        let other = server.sign_in(&new_keys());
        assert_eq!(server.authed("POST", "/api/new-user", &other, Some(&email(address))).status, 201);
    }

    let prober = server.sign_in(&new_keys());
    assert_eq!(server.authed("POST", "/api/new-user", &prober, None).status, 201);
    for taken in ["owner@shop.example", "first@shop.example", "SECOND@shop.example"] {
        let reply = server.authed("PUT", "/api/profile", &prober, Some(&email(taken)));
        assert_eq!((reply.status, reply.error_code().as_str()), (409, "email_unavailable"), "{taken}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(!message.to_lowercase().contains("another account"), "{message}");
    }
    // The allowance is spent: now every address is refused alike, free or taken.
    for address in ["free@elsewhere.example", "owner@shop.example"] {
        let reply = server.authed("PUT", "/api/profile", &prober, Some(&email(address)));
        assert_eq!((reply.status, reply.error_code().as_str()), (429, "too_many_email_attempts"), "{address}");
    }
    let profile = server.authed("GET", "/api/profile", &prober, None).json();
    assert_eq!(profile["customer"]["email"], Value::Null, "nothing was set");
    // Other changes of the profile still work, and so do other customers' emails.
    assert_eq!(server.authed("PUT", "/api/profile", &prober, Some(r#"{"email": null}"#)).status, 200);
    let fine = server.authed("PUT", "/api/profile", &owner, Some(&email("new@shop.example")));
    assert_eq!(fine.status, 200);
}

/// The sign-in page's nostrconnect:// code for a remote signer: the page's
/// key and secret, this site's relays, a request to sign sign-in events
/// only, and its QR code; nonsense is refused by name.
#[test]
fn a_nostrconnect_uri_names_the_signer_relays_and_refuses_nonsense() {
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| {
        c.signer_relays = vec!["wss://relay.one.example".into(), "ws://127.0.0.1:7777".into()];
    });
    let client = "c0".repeat(32);
    let body = json!({"clientPubkey": client, "secret": "0123456789abcdef"}).to_string();
    let reply = server.request("POST", "/api/nostrconnect", &[], Some(&body));
    assert_eq!(reply.status, 200, "{:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let answer = reply.json();
    let uri = answer["uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!("nostrconnect://{client}?relay=wss://relay.one.example&relay=ws://127.0.0.1:7777&")),
        "{uri}"
    );
    assert!(uri.ends_with("&secret=0123456789abcdef&perms=sign_event:27235&name=127.0.0.1:0"), "{uri}");
    assert!(answer["qrSvg"].as_str().unwrap().contains("<svg"), "a QR code");
    assert_eq!(answer["relays"], json!(["wss://relay.one.example", "ws://127.0.0.1:7777"]));
    for bad in [
        json!({"clientPubkey": "C0".repeat(32), "secret": "0123456789abcdef"}),
        json!({"clientPubkey": client, "secret": "short"}),
        json!({"clientPubkey": client, "secret": "0123456789abcdef&relay=wss%3A%2F%2Fevil"}),
    ] {
        let reply = server.request("POST", "/api/nostrconnect", &[], Some(&bad.to_string()));
        assert_eq!((reply.status, reply.error_code().as_str()), (400, "bad_nostrconnect"), "{bad}");
    }
    let extra = json!({"clientPubkey": client, "secret": "0123456789abcdef", "relay": "wss://evil.example"});
    let reply = server.request("POST", "/api/nostrconnect", &[], Some(&extra.to_string()));
    assert_eq!((reply.status, reply.error_code().as_str()), (400, "malformed_json"));
}

/// Each code costs a QR rendering and needs no session: one address gets
/// them at the sign-in challenge rate, and another site's pages none.
#[test]
fn nostrconnect_codes_are_rationed_per_address_and_refused_to_other_sites() {
    let dir = temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| c.challenge_rate = 5);
    let body = json!({"clientPubkey": "c0".repeat(32), "secret": "0123456789abcdef"}).to_string();
    let foreign = server.request("POST", "/api/nostrconnect", &[("Origin", "https://evil.example")], Some(&body));
    assert_eq!(foreign.status, 403, "{:?}", String::from_utf8_lossy(&foreign.body));
    let statuses: Vec<u16> =
        (0..6).map(|_| server.request("POST", "/api/nostrconnect", &[], Some(&body)).status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "five a minute, then refused");
}
