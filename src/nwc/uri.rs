//! The connection URI a wallet hands out (NIP-47):
//! `nostr+walletconnect://<wallet pubkey>?relay=<url>&secret=<64 hex>[&lud16=<address>]`.
//!
//! Pure. The secret is a spending credential: it is kept in [`NwcUri`] as
//! keys whose `Debug` never shows it, and no error message repeats the
//! URI, only which part is wrong. Relay URLs are returned as written; the
//! caller filters them as a customer's ([`crate::relay::RelaySettings::customer_relay`]).

use nostr::prelude::{Keys, PublicKey, SecretKey};
use percent_encoding::percent_decode_str;
use std::fmt;

/// The longest URI taken (a few relays and a lightning address).
const MAX_URI: usize = 2048;

pub struct NwcUri {
    pub wallet: PublicKey,
    pub relays: Vec<String>,
    /// The client key: signs requests, and is the other half of the encryption.
    pub keys: Keys,
    pub lud16: Option<String>,
}

impl fmt::Debug for NwcUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NwcUri").field("wallet", &self.wallet.to_hex()).field("relays", &self.relays).finish()
    }
}

/// Parses a pasted URI; the error names the part that is wrong.
pub fn parse(text: &str) -> Result<NwcUri, String> {
    let text = text.trim();
    if text.len() > MAX_URI {
        return Err("the connection URI is too long".to_owned());
    }
    let rest = ["nostr+walletconnect://", "nostr+walletconnect:"]
        .iter()
        .find_map(|scheme| strip_prefix_ignore_case(text, scheme))
        .ok_or("a wallet connection begins with nostr+walletconnect://")?;
    let (host, query) = rest.split_once('?').ok_or("the connection URI has no relay and secret")?;
    let wallet = PublicKey::from_hex(host.trim_end_matches('/'))
        .map_err(|_| "the wallet's public key (after nostr+walletconnect://) is not 64 hex digits".to_owned())?;
    let (mut relays, mut secret, mut lud16) = (Vec::new(), None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let spaced = value.replace('+', " ");
        let value = percent_decode_str(&spaced).decode_utf8().map_err(|_| "the URI is not UTF-8")?;
        match name {
            "relay" => relays.push(value.into_owned()),
            "secret" => secret = Some(value.into_owned()),
            "lud16" if !value.is_empty() => lud16 = Some(value.into_owned()),
            _ => {}
        }
    }
    if relays.is_empty() {
        return Err("the connection URI names no relay".to_owned());
    }
    let secret = secret.ok_or("the connection URI has no secret")?;
    let secret = SecretKey::from_hex(&secret)
        .ok()
        .filter(|_| secret.len() == 64)
        .ok_or("the connection's secret is not 64 hex digits")?;
    if lud16.as_ref().is_some_and(|a| a.len() > 100 || a.chars().any(char::is_control)) {
        return Err("the lightning address (lud16) is not one".to_owned());
    }
    Ok(NwcUri { wallet, relays, keys: Keys::new(secret), lud16 })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALLET: &str = "b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4";
    const SECRET: &str = "71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c";

    #[test]
    fn a_wallet_connection_uri_gives_the_wallet_its_relays_and_the_client_key() {
        let text = format!(
            "nostr+walletconnect://{WALLET}?relay=wss%3A%2F%2Frelay.damus.io&relay=wss://r2.example&secret={SECRET}&lud16=me%40getalby.com"
        );
        let uri = parse(&text).unwrap();
        assert_eq!(uri.wallet.to_hex(), WALLET);
        assert_eq!(uri.relays, ["wss://relay.damus.io", "wss://r2.example"]);
        assert_eq!(uri.keys.secret_key().to_secret_hex(), SECRET);
        assert_eq!(uri.lud16.as_deref(), Some("me@getalby.com"));
        assert!(!format!("{uri:?}").contains(SECRET), "Debug never shows the secret");
    }

    #[test]
    fn a_broken_uri_is_refused_naming_the_part_and_never_echoing_the_secret() {
        let cases = [
            ("https://example.com".to_owned(), "begins with nostr+walletconnect://"),
            (format!("nostr+walletconnect://{WALLET}"), "no relay and secret"),
            (format!("nostr+walletconnect://abc?relay=wss://r.example&secret={SECRET}"), "public key"),
            (format!("nostr+walletconnect://{WALLET}?secret={SECRET}"), "names no relay"),
            (format!("nostr+walletconnect://{WALLET}?relay=wss://r.example"), "no secret"),
            (format!("nostr+walletconnect://{WALLET}?relay=wss://r.example&secret={}", &SECRET[..60]), "secret is not"),
            ("x".repeat(3000), "too long"),
        ];
        for (text, part) in cases {
            let error = parse(&text).unwrap_err();
            assert!(error.contains(part), "{text}: {error}");
            assert!(!error.contains(&SECRET[..20]), "{error}");
        }
    }
}
