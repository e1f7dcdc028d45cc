//! A customer's Nostr profile (a kind-0 event): which of its fields hostr
//! keeps, and the limits on them.
//!
//! The page reads the profile from relays and hands the signed event to
//! the server; the server keeps only fields it shows, each cut to a sane
//! length, and only from an event signed by the customer's own key.

use crate::auth::login_event::{LoginFailure, MAX_AHEAD_SECONDS, parse_signed};
use crate::customer::ProfileMetadata;
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// The event is malformed, forged or not a kind-0 event.
    BadEvent(String),
    /// Signed by another key than the customer's.
    NotYours,
}

/// The kept fields of a signed kind-0 `event` by `public_key`, at unix time `now`.
/// `event` is the JSON text the request carried, checked as a sign-in event is.
pub fn metadata_from_event(event: &RawValue, public_key: &str, now: i64) -> Result<ProfileMetadata, ProfileError> {
    let event = parse_signed(event).map_err(|failure| {
        ProfileError::BadEvent(match failure {
            LoginFailure::Malformed(why) => why,
            LoginFailure::BadId => "its id does not match its content".to_owned(),
            _ => "its signature does not verify".to_owned(),
        })
    })?;
    if event.kind.as_u16() != 0 {
        return Err(ProfileError::BadEvent("a profile is a kind 0 event".to_owned()));
    }
    if event.pubkey.to_hex() != public_key {
        return Err(ProfileError::NotYours);
    }
    let created_at = event.created_at.as_secs() as i64;
    if created_at > now + MAX_AHEAD_SECONDS {
        return Err(ProfileError::BadEvent("its created_at is in the future".to_owned()));
    }
    let content: serde_json::Map<String, Value> = serde_json::from_str(&event.content)
        .map_err(|_| ProfileError::BadEvent("its content must be a JSON object".to_owned()))?;
    let text = |field: &str, limit: usize| -> Option<String> {
        let value = content.get(field)?.as_str()?.trim();
        (!value.is_empty()).then(|| value.chars().filter(|c| !c.is_control() || *c == '\n').take(limit).collect())
    };
    Ok(ProfileMetadata {
        name: text("name", 100),
        display_name: text("display_name", 100),
        picture: text("picture", 1000).filter(|url| url.starts_with("https://") && !url.contains(char::is_whitespace)),
        about: text("about", 1000),
        nip05: text("nip05", 200).and_then(|id| normalize_nip05(&id)),
        lud16: text("lud16", 200),
        event_created_at: created_at,
        nip05_check: None,
    })
}

/// A NIP-05 identifier in canonical form (`local@domain`, lowercase), or
/// `None` when it is not one. A bare domain means `_@domain`.
pub fn normalize_nip05(identifier: &str) -> Option<String> {
    let identifier = identifier.trim().to_lowercase();
    let (local, domain) = identifier.split_once('@').unwrap_or(("_", &identifier));
    let local_ok = !local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    let domain_ok = crate::cpanel_account::check_domain(domain).is_ok();
    (local_ok && domain_ok).then(|| format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::login_event::tests::text;
    use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Timestamp};

    /// The event as a request carries it.
    fn metadata(event: &Value, public_key: &str, now: i64) -> Result<ProfileMetadata, ProfileError> {
        metadata_from_event(&text(event), public_key, now)
    }

    fn kind0(keys: &Keys, content: &str, created_at: i64) -> Value {
        let event = EventBuilder::new(Kind::Metadata, content)
            .custom_created_at(Timestamp::from(created_at as u64))
            .finalize(keys)
            .unwrap();
        serde_json::to_value(&event).unwrap()
    }

    #[test]
    fn keeps_only_shown_fields_cut_to_length() {
        let keys = Keys::parse(&"3".repeat(64)).unwrap();
        let me = keys.public_key().to_hex();
        let content = serde_json::json!({
            "name": "<script>alert(1)</script>", "display_name": "A".repeat(500), "about": "hi\u{0007}there",
            "picture": "javascript:alert(1)", "nip05": "Alice@Example.COM", "lud16": "alice@getalby.com",
            "website": "https://ignored.example"
        });
        let m = metadata(&kind0(&keys, &content.to_string(), 100), &me, 1000).unwrap();
        assert_eq!(m.name.as_deref(), Some("<script>alert(1)</script>"), "kept as text; pages escape it");
        assert_eq!(m.display_name.unwrap().len(), 100);
        assert_eq!(m.about.as_deref(), Some("hithere"));
        assert_eq!(m.picture, None);
        assert_eq!(m.nip05.as_deref(), Some("alice@example.com"));
        assert_eq!(m.event_created_at, 100);
    }

    #[test]
    fn refuses_other_keys_other_kinds_and_forgeries() {
        let keys = Keys::parse(&"3".repeat(64)).unwrap();
        let me = keys.public_key().to_hex();
        let theirs = Keys::parse(&"4".repeat(64)).unwrap();
        assert_eq!(metadata(&kind0(&theirs, "{}", 1), &me, 10), Err(ProfileError::NotYours));
        let mut forged = kind0(&keys, "{\"name\":\"a\"}", 1);
        forged["content"] = Value::from("{\"name\":\"b\"}");
        assert!(matches!(metadata(&forged, &me, 10), Err(ProfileError::BadEvent(_))));
        assert!(matches!(metadata(&kind0(&keys, "not json", 1), &me, 10), Err(ProfileError::BadEvent(_))));
        assert!(matches!(metadata(&kind0(&keys, "{}", 1000), &me, 10), Err(ProfileError::BadEvent(_))));
    }

    #[test]
    fn nip05_identifiers_are_normalised() {
        assert_eq!(normalize_nip05("Bob@Example.com").as_deref(), Some("bob@example.com"));
        assert_eq!(normalize_nip05("example.com").as_deref(), Some("_@example.com"));
        for bad in ["bob@", "@example.com", "b b@example.com", "bob@localhost", "bob@1.2.3.4", "bob@ex ample.com"] {
            assert_eq!(normalize_nip05(bad), None, "{bad}");
        }
    }
}
