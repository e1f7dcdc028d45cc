//! The operator's Nostr profile: kind 0 (name, about, picture, website =
//! the public URL, nip05 when configured) and kind 10002 (the relays it
//! publishes to), signed by the operator key and published through the
//! outbox when the server starts.
//!
//! Invariant: a new version is signed and enqueued only when what it says
//! (content, tags) or where it goes (the relays) differs from the newest
//! version enqueued, so restarts publish nothing new.

use crate::config::OperatorProfile;
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
    let relays = outbox.settings().urls();
    if outbox.latest(&coordinate)?.is_some_and(|latest| latest.says(&content, &tags, &relays)) {
        return Ok(Published::AlreadyQueued);
    }
    let event =
        EventBuilder::new(kind, content).tags(tags).finalize(keys).map_err(|e| OutboxError::Sign(e.to_string()))?;
    outbox.publish(event, Targets::Configured)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
