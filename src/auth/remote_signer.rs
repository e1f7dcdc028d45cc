//! Signing in with a remote signer (NIP-46: Amber, nsec.app, …): the
//! relays the site names in its `nostrconnect://` URIs, and the URI itself.
//!
//! The server takes no part in the conversation: the page and the signer
//! talk through these relays, NIP-44 encrypted, and the page then sends the
//! same signed kind-27235 event as with a browser signer. The server only
//! names the relays (a setting), builds the URI the customer's signer scans
//! (from a key and secret the page made) and draws its QR code. Pure.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What a query value must escape (`&`, `=`, `#`, `%`, `+`, spaces, …);
/// `:` and `/` stay as they are, which keeps the QR code small enough to
/// scan easily.
const QUERY_VALUE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'&').add(b'+').add(b'<').add(b'=').add(b'>').add(b'`');

/// Relays the `nostrconnect://` URI names unless `--signer-relays` says:
/// public relays that NIP-46 signers use.
pub const DEFAULT_RELAYS: &str = "wss://relay.nsec.app,wss://relay.damus.io";

/// A relay as configured: `wss://host[:port][/path]`, or `ws://` to this
/// machine only (a local relay; plain `ws:` across a network would show
/// who talks to whom to anyone on the path).
pub fn parse_relay(text: &str) -> Result<String, String> {
    let relay = text.trim();
    let refuse = || format!("`{text}` is not a relay address (wss://relay.example.com, or ws:// to this machine)");
    let (secure, rest) = match (relay.strip_prefix("wss://"), relay.strip_prefix("ws://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return Err(refuse()),
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let clean = |c: char| c.is_ascii_alphanumeric() || "-._~/:[]%".contains(c);
    if host.is_empty() || !relay.chars().all(clean) {
        return Err(refuse());
    }
    if !secure && !matches!(host, "127.0.0.1" | "localhost" | "::1") {
        return Err(format!("`{text}`: a relay across the network must use wss://"));
    }
    Ok(relay.to_owned())
}

/// The `ws://` origins among `relays`, for the pages' `connect-src` (every
/// `wss:` relay is already allowed there, for customers' profiles).
pub fn plain_origins(relays: &[String]) -> Vec<String> {
    relays
        .iter()
        .filter_map(|relay| relay.strip_prefix("ws://"))
        .map(|rest| format!("ws://{}", rest.split('/').next().unwrap_or("")))
        .collect()
}

/// A client key as the page sends it: 64 lowercase hex digits.
pub fn is_client_key(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A connection secret as the page makes it: 16 to 64 lowercase hex digits.
pub fn is_secret(text: &str) -> bool {
    (16..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `nostrconnect://<client>?relay=…&secret=…&perms=sign_event:27235&name=…`:
/// what the customer's signer scans. It asks only to sign sign-in events,
/// and names the site (`name`, its host) so the signer can say who asks.
pub fn nostrconnect_uri(client: &str, secret: &str, relays: &[String], name: &str) -> String {
    let encode = |text: &str| utf8_percent_encode(text, QUERY_VALUE).to_string();
    let mut uri = format!("nostrconnect://{client}?");
    for relay in relays {
        uri.push_str(&format!("relay={}&", encode(relay)));
    }
    uri.push_str(&format!("secret={secret}&perms=sign_event:27235&name={}", encode(name)));
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_are_wss_or_a_local_ws() {
        for (text, ok) in [
            ("wss://relay.nsec.app", true),
            (" wss://relay.example.com:444/nostr ", true),
            ("wss://[2001:db8::1]:443", true),
            ("ws://127.0.0.1:7777", true),
            ("ws://localhost:7777", true),
            ("ws://[::1]:7777", true),
            ("ws://relay.example.com", false),
            ("https://relay.example.com", false),
            ("wss://", false),
            ("wss://relay.example.com/\"; script-src *", false),
            ("wss://relay example.com", false),
        ] {
            assert_eq!(parse_relay(text).is_ok(), ok, "{text}");
        }
        assert_eq!(parse_relay(" wss://r.example ").unwrap(), "wss://r.example");
    }

    #[test]
    fn only_plain_relays_widen_the_policy() {
        let relays = vec!["wss://relay.nsec.app".into(), "ws://127.0.0.1:7777/path".into()];
        assert_eq!(plain_origins(&relays), ["ws://127.0.0.1:7777"]);
        assert!(plain_origins(&[DEFAULT_RELAYS.split(',').next().unwrap().to_owned()]).is_empty());
    }

    #[test]
    fn the_uri_names_the_relays_the_secret_and_asks_only_for_sign_in() {
        let client = "ab".repeat(32);
        let relays = vec!["wss://relay.nsec.app".to_owned(), "ws://127.0.0.1:7777".to_owned()];
        let uri = nostrconnect_uri(&client, "00ff00ff00ff00ff", &relays, "hosting.example");
        assert_eq!(
            uri,
            format!(
                "nostrconnect://{client}?relay=wss://relay.nsec.app&relay=ws://127.0.0.1:7777&\
                 secret=00ff00ff00ff00ff&perms=sign_event:27235&name=hosting.example"
            )
        );
        let odd = nostrconnect_uri(&client, "00", &["wss://r.example/a?b=c&d".to_owned()], "x y");
        assert!(odd.contains("relay=wss://r.example/a?b%3Dc%26d&") && odd.ends_with("name=x%20y"), "{odd}");
    }

    #[test]
    fn keys_and_secrets_are_lowercase_hex_of_their_length() {
        assert!(is_client_key(&"a1".repeat(32)));
        assert!(
            !is_client_key(&"A1".repeat(32)) && !is_client_key(&"a1".repeat(31)) && !is_client_key(&"g1".repeat(32))
        );
        assert!(is_secret(&"0".repeat(16)) && is_secret(&"f".repeat(64)));
        assert!(!is_secret(&"0".repeat(15)) && !is_secret(&"0".repeat(65)) && !is_secret("not hex at all, really"));
    }
}
