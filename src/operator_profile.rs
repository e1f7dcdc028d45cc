//! The operator's Nostr profile: kind 0 (name, about, picture, website =
//! the public URL, nip05 when configured) and kind 10002 (the relays it
//! publishes to), signed by the operator key and published through the
//! outbox when the server starts.
//!
//! Invariant: a new version is signed and enqueued only when what it says
//! (content, tags) or where it goes (the relays) differs from the newest
//! version enqueued, so restarts publish nothing new.

use crate::config::OperatorProfile;
use crate::outbox::OutboxItem;
use crate::relay::{Outbox, OutboxError, Published, RelayAddress, Targets};
use nostr::prelude::{EventBuilder, FinalizeEvent, Keys, Kind, Tag};
use serde_json::json;

/// The kind 0 content: the profile as JSON.
pub fn metadata_content(profile: &OperatorProfile, website: &str) -> String {
    let mut metadata = json!({
        "name": profile.name,
        "about": profile.about,
        "picture": profile.picture,
        "website": website,
    });
    if let Some(nip05) = &profile.nip05 {
        metadata["nip05"] = json!(nip05);
    }
    metadata.to_string()
}

/// The kind 10002 tags: each relay, read and write.
pub fn relay_list_tags(relays: &[RelayAddress]) -> Vec<Tag> {
    relays.iter().map(|relay| Tag::parse(["r", relay.as_str()]).expect("two strings make a tag")).collect()
}

/// Publishes both if they changed; errors are logged (the next start tries again).
pub fn publish(outbox: &Outbox, keys: &Keys, profile: &OperatorProfile, website: &str) {
    if !outbox.is_on() {
        return;
    }
    let relays = outbox.settings().relays.clone();
    let versions = [
        (Kind::Metadata, metadata_content(profile, website), Vec::new()),
        (Kind::RelayList, String::new(), relay_list_tags(&relays)),
    ];
    for (kind, content, tags) in versions {
        match publish_if_changed(outbox, keys, kind, content, tags) {
            Ok(Published::Queued) => log::info!("operator profile: kind {} queued", kind.as_u16()),
            Ok(_) => {}
            Err(error) => log::error!("operator profile: cannot queue kind {}: {error}", kind.as_u16()),
        }
    }
}

fn publish_if_changed(
    outbox: &Outbox,
    keys: &Keys,
    kind: Kind,
    content: String,
    tags: Vec<Tag>,
) -> Result<Published, OutboxError> {
    let coordinate = format!("{}:{}", kind.as_u16(), keys.public_key().to_hex());
    let relays: Vec<String> = outbox.settings().relays.iter().map(|r| r.as_str().to_owned()).collect();
    if unchanged(outbox.latest(&coordinate)?.as_ref(), &content, &tags, &relays) {
        return Ok(Published::AlreadyQueued);
    }
    let event =
        EventBuilder::new(kind, content).tags(tags).finalize(keys).map_err(|e| OutboxError::Sign(e.to_string()))?;
    outbox.publish(event, Targets::Configured)
}

/// Whether the newest version enqueued already says `content` and `tags`
/// to exactly `relays`.
pub fn unchanged(latest: Option<&OutboxItem>, content: &str, tags: &[Tag], relays: &[String]) -> bool {
    let Some(latest) = latest else { return false };
    let mut went: Vec<&str> = latest.deliveries.iter().map(|d| d.relay.as_str()).collect();
    let mut going: Vec<&str> = relays.iter().map(String::as_str).collect();
    went.sort_unstable();
    going.sort_unstable();
    going.dedup();
    latest.event.content == content && latest.event.tags.as_slice() == tags && went == going
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    fn profile(nip05: Option<&str>) -> OperatorProfile {
        OperatorProfile {
            name: "hostr".into(),
            about: "hosting".into(),
            picture: "https://h.example/favicon.svg".into(),
            nip05: nip05.map(str::to_owned),
        }
    }

    #[test]
    fn the_profile_says_what_was_configured_and_nip05_only_when_set() {
        let without: serde_json::Value =
            serde_json::from_str(&metadata_content(&profile(None), "https://h.example")).unwrap();
        assert_eq!(without["website"], "https://h.example");
        assert!(without.get("nip05").is_none());
        let with: serde_json::Value =
            serde_json::from_str(&metadata_content(&profile(Some("shop@h.example")), "https://h.example")).unwrap();
        assert_eq!((with["name"].as_str(), with["nip05"].as_str()), (Some("hostr"), Some("shop@h.example")));
    }

    #[test]
    fn a_version_is_new_when_its_content_tags_or_relays_differ() {
        let keys = Keys::generate();
        let relays = vec!["wss://a".to_string(), "wss://b".to_string()];
        let tags = relay_list_tags(&[RelayAddress::operator("wss://a").unwrap()]);
        let event = EventBuilder::new(Kind::RelayList, "").tags(tags.clone()).finalize(&keys).unwrap();
        let item = OutboxItem::new(event, &relays, Timestamp::now());
        assert!(unchanged(Some(&item), "", &tags, &["wss://b".into(), "wss://a".into()]));
        assert!(!unchanged(None, "", &tags, &relays), "nothing was published yet");
        assert!(!unchanged(Some(&item), "x", &tags, &relays), "other content");
        assert!(!unchanged(Some(&item), "", &[], &relays), "other tags");
        assert!(!unchanged(Some(&item), "", &tags, &relays[..1]), "other relays");
    }
}
