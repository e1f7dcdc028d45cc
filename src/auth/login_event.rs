//! Checking the signed NIP-98 event that answers a challenge.
//!
//! Pure: given the event's JSON text, the URL it must name and the time, it
//! says who signed it and which challenge it answers, or exactly why not.
//! The text is read as it came, never built into a JSON tree first: a
//! sign-in is the hottest path of the server.
//! Consuming the challenge is the caller's next step.

use nostr::prelude::Event;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The kind of NIP-98 HTTP-auth events.
pub const HTTP_AUTH_KIND: u16 = 27235;
/// How far ahead of our clock an event may be.
pub const MAX_AHEAD_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    /// Not an event at all, or not in the exact shape NIP-01 asks for.
    Malformed(String),
    BadId,
    BadSignature,
    WrongKind,
    Stale,
    Future,
    WrongUrl,
    WrongMethod,
    MissingChallenge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEvent {
    /// The signer's key, lowercase hex.
    pub public_key: String,
    pub challenge: String,
}

/// Parses a signed Nostr event and verifies its id and signature (the
/// nostr crate's parser does not).
pub fn parse_signed(event: &RawValue) -> Result<Event, LoginFailure> {
    check_strict_shape(event)?;
    let event: Event = serde_json::from_str(event.get()).map_err(not_nip01)?;
    if !event.verify_id() {
        return Err(LoginFailure::BadId);
    }
    if !event.verify_signature() {
        return Err(LoginFailure::BadSignature);
    }
    Ok(event)
}

/// Checks `event` as a sign-in for `verify_url` at unix time `now`. It may
/// be as old as a challenge lives (`max_age`), so a slow signer prompt works.
pub fn check(event: &RawValue, verify_url: &str, now: i64, max_age: i64) -> Result<LoginEvent, LoginFailure> {
    let event = parse_signed(event)?;
    if event.kind.as_u16() != HTTP_AUTH_KIND {
        return Err(LoginFailure::WrongKind);
    }
    let created_at = event.created_at.as_secs() as i64;
    if created_at < now - max_age {
        return Err(LoginFailure::Stale);
    }
    if created_at > now + MAX_AHEAD_SECONDS {
        return Err(LoginFailure::Future);
    }
    if only_tag(&event, "u") != Some(verify_url) {
        return Err(LoginFailure::WrongUrl);
    }
    if !only_tag(&event, "method").is_some_and(|m| m.eq_ignore_ascii_case("POST")) {
        return Err(LoginFailure::WrongMethod);
    }
    let challenge = only_tag(&event, "challenge").ok_or(LoginFailure::MissingChallenge)?;
    Ok(LoginEvent { public_key: event.pubkey.to_hex(), challenge: challenge.to_owned() })
}

/// The value of the single tag named `name`; `None` when it is missing,
/// repeated, or has no value.
fn only_tag<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    let mut found = event.tags.iter().map(|t| t.as_slice()).filter(|t| t.first().map(String::as_str) == Some(name));
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    first.get(1).map(String::as_str)
}

/// The nostr crate's parser is lenient (upper-case hex, `npub` as pubkey);
/// a sign-in accepts only the canonical form.
fn check_strict_shape(event: &RawValue) -> Result<(), LoginFailure> {
    #[derive(Deserialize)]
    struct Shape<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        #[serde(borrow)]
        pubkey: Option<&'a RawValue>,
        #[serde(borrow)]
        sig: Option<&'a RawValue>,
    }
    if !event.get().starts_with('{') {
        return Err(LoginFailure::Malformed("`event` must be a JSON object".to_owned()));
    }
    let shape: Shape = serde_json::from_str(event.get()).map_err(not_nip01)?;
    for (field, value, length) in [("id", shape.id, 64), ("pubkey", shape.pubkey, 64), ("sig", shape.sig, 128)] {
        // Written as JSON: quoted, and with no escapes, as hex digits need none.
        let hex = value.and_then(|raw| raw.get().strip_prefix('"')?.strip_suffix('"'));
        let ok = hex
            .is_some_and(|v| v.len() == length && v.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        if !ok {
            return Err(LoginFailure::Malformed(format!("`{field}` must be {length} lowercase hex digits")));
        }
    }
    Ok(())
}

fn not_nip01(error: serde_json::Error) -> LoginFailure {
    LoginFailure::Malformed(format!("the event does not follow NIP-01: {error}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Tag, Timestamp};
    use serde_json::Value;

    /// `event` as the JSON text a request carries.
    pub fn text(event: &Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(event).unwrap()
    }

    pub const URL: &str = "https://hosting.example.com/api/verify";
    pub const NOW: i64 = 1_800_000_000;

    /// A signed event as a browser signer would make it.
    pub fn signed(keys: &Keys, kind: u16, created_at: i64, tags: Vec<Vec<&str>>) -> Value {
        let tags: Vec<Tag> = tags.into_iter().map(|t| Tag::parse(t).unwrap()).collect();
        let event = EventBuilder::new(Kind::from(kind), "Sign in to hosting.example.com")
            .tags(tags)
            .custom_created_at(Timestamp::from(created_at as u64))
            .finalize(keys)
            .unwrap();
        serde_json::to_value(&event).unwrap()
    }

    fn login_tags(challenge: &str) -> Vec<Vec<&str>> {
        vec![vec!["u", URL], vec!["method", "POST"], vec!["challenge", challenge]]
    }

    fn keys() -> Keys {
        Keys::parse("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5").unwrap()
    }

    #[test]
    fn a_proper_login_event_names_its_signer_and_challenge() {
        let event = signed(&keys(), 27235, NOW - 10, login_tags("abc"));
        let login = check(&text(&event), URL, NOW, 300).unwrap();
        assert_eq!(login.public_key, "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e");
        assert_eq!(login.challenge, "abc");
        let lower = signed(&keys(), 27235, NOW, vec![vec!["u", URL], vec!["method", "post"], vec!["challenge", "x"]]);
        assert!(check(&text(&lower), URL, NOW, 300).is_ok(), "the method is compared in any letter case");
    }

    #[test]
    fn every_broken_rule_has_its_own_reason() {
        let k = keys();
        let good = signed(&k, 27235, NOW, login_tags("abc"));
        let mut tampered = good.clone();
        tampered["content"] = Value::from("something else");
        let mut forged = good.clone();
        let other = signed(&Keys::parse(&"1".repeat(64)).unwrap(), 27235, NOW, login_tags("abc"));
        forged["sig"] = other["sig"].clone();
        let mut swapped = good.clone();
        swapped["pubkey"] = other["pubkey"].clone();
        let mut upper = good.clone();
        upper["id"] = Value::from(good["id"].as_str().unwrap().to_uppercase());
        let cases: Vec<(Value, LoginFailure)> = vec![
            (tampered, LoginFailure::BadId),
            (forged, LoginFailure::BadSignature),
            (swapped, LoginFailure::BadId),
            (signed(&k, 22242, NOW, login_tags("abc")), LoginFailure::WrongKind),
            (signed(&k, 27235, NOW - 301, login_tags("abc")), LoginFailure::Stale),
            (signed(&k, 27235, NOW + 61, login_tags("abc")), LoginFailure::Future),
            (
                signed(
                    &k,
                    27235,
                    NOW,
                    vec![vec!["u", "https://evil.example/api/verify"], vec!["method", "POST"], vec!["challenge", "a"]],
                ),
                LoginFailure::WrongUrl,
            ),
            (
                signed(
                    &k,
                    27235,
                    NOW,
                    vec![vec!["u", URL], vec!["u", URL], vec!["method", "POST"], vec!["challenge", "a"]],
                ),
                LoginFailure::WrongUrl,
            ),
            (
                signed(&k, 27235, NOW, vec![vec!["u", URL], vec!["method", "GET"], vec!["challenge", "a"]]),
                LoginFailure::WrongMethod,
            ),
            (signed(&k, 27235, NOW, vec![vec!["u", URL], vec!["method", "POST"]]), LoginFailure::MissingChallenge),
        ];
        for (event, expected) in cases {
            assert_eq!(check(&text(&event), URL, NOW, 300).unwrap_err(), expected);
        }
        assert!(matches!(check(&text(&upper), URL, NOW, 300), Err(LoginFailure::Malformed(_))));
        for junk in [Value::Null, Value::from("event"), serde_json::json!([1, 2]), serde_json::json!({"id": "x"})] {
            assert!(matches!(check(&text(&junk), URL, NOW, 300), Err(LoginFailure::Malformed(_))), "{junk}");
        }
    }
}
