//! Relay URLs: parsed, normalised (`wss://r.example/` and `wss://r.example`
//! are one relay) and judged by who named them.
//!
//! A relay the operator configured is trusted: `wss://` anywhere, `ws://`
//! on loopback only (a relay beside hostr). A relay a customer named (their
//! kind 10002 or 10050 lists, later their wallet connection) is a request
//! forgery waiting to happen, so it is held to the NIP-05 check's rules:
//! `wss://` only, and every address its name resolves to must be public
//! ([`crate::nip05::is_public`]); `HOSTR_ALLOW_PRIVATE_RELAYS` lifts both for
//! tests and local demos (`ws://` still on loopback only).

use crate::nip05::{is_public, resolve_within};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use ureq::http::Uri;

/// The longest relay URL taken.
const MAX_URL: usize = 255;

/// Who named a relay, which decides what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Configured with `--relays`.
    Operator,
    /// Named by a customer; `allow_private` is `HOSTR_ALLOW_PRIVATE_RELAYS`.
    Customer { allow_private: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayAddress {
    url: String,
    host: String,
    port: u16,
    tls: bool,
    origin: Origin,
}

impl RelayAddress {
    /// A relay from `--relays`.
    pub fn operator(text: &str) -> Result<RelayAddress, String> {
        RelayAddress::parse(text, Origin::Operator)
    }

    /// A relay a customer named.
    pub fn customer(text: &str, allow_private: bool) -> Result<RelayAddress, String> {
        RelayAddress::parse(text, Origin::Customer { allow_private })
    }

    pub fn parse(text: &str, origin: Origin) -> Result<RelayAddress, String> {
        let text = text.trim();
        let refuse = |why: &str| Err(format!("`{}` is not a relay hostr will use: {why}", text.escape_debug()));
        if text.len() > MAX_URL || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return refuse("too long, or has spaces or control characters");
        }
        let Ok(uri) = text.parse::<Uri>() else { return refuse("not a URL") };
        let tls = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("wss") => true,
            Some("ws") => false,
            _ => return refuse("a relay URL begins with wss://"),
        };
        let Some(authority) = uri.authority() else { return refuse("it names no host") };
        if authority.as_str().contains('@') {
            return refuse("it carries a user name or password");
        }
        if uri.query().is_some() {
            return refuse("it has a query");
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if host.is_empty() {
            return refuse("it names no host");
        }
        if !tls && !is_loopback_name(&host) {
            return refuse("ws:// (without TLS) is only for a relay on this machine");
        }
        if let Origin::Customer { allow_private: false } = origin
            && !tls
        {
            return refuse("a customer's relay must be wss://");
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = uri.path().trim_end_matches('/');
        let shown_host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        let default_port = (tls && port == 443) || (!tls && port == 80);
        let port_part = if default_port { String::new() } else { format!(":{port}") };
        let url = format!("{}://{shown_host}{port_part}{path}", if tls { "wss" } else { "ws" });
        Ok(RelayAddress { url, host, port, tls, origin })
    }

    /// The normalised URL: the relay's key in records and connections.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Where its NIP-11 document is: the same URL over http(s).
    pub fn http_url(&self) -> String {
        let rest = self.url.split_once("://").map_or("", |(_, rest)| rest);
        format!("{}://{rest}/", if self.tls { "https" } else { "http" })
    }

    /// Whether addresses that are not public may be connected to.
    pub fn may_be_private(&self) -> bool {
        !matches!(self.origin, Origin::Customer { allow_private: false })
    }

    /// The addresses to connect to, within `limit`; for a customer's
    /// relay, refused whole when any of them is not public.
    pub fn resolve(&self, limit: Duration) -> Result<Vec<SocketAddr>, String> {
        let addresses = resolve_within(&self.host, self.port, limit).map_err(|e| format!("cannot resolve: {e}"))?;
        if !self.may_be_private()
            && let Some(address) = addresses.iter().find(|a| !is_public(a.ip()))
        {
            return Err(format!("refused: {} is not a public address", address.ip()));
        }
        if addresses.is_empty() {
            return Err("cannot resolve: no address".to_owned());
        }
        Ok(addresses)
    }
}

impl fmt::Display for RelayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// `localhost` or a loopback address literal.
fn is_loopback_name(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_relays_are_wss_or_ws_on_loopback_and_come_out_normalised() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("wss://relay.example.com", Ok("wss://relay.example.com")),
            ("wss://Relay.Example.com/", Ok("wss://relay.example.com")),
            ("WSS://relay.example.com:443/", Ok("wss://relay.example.com")),
            ("wss://relay.getalby.com/v1", Ok("wss://relay.getalby.com/v1")),
            ("wss://relay.example.com:7000", Ok("wss://relay.example.com:7000")),
            ("ws://127.0.0.1:6969", Ok("ws://127.0.0.1:6969")),
            ("ws://localhost:6969/", Ok("ws://localhost:6969")),
            ("ws://[::1]:6969", Ok("ws://[::1]:6969")),
            ("ws://relay.example.com", Err("only for a relay on this machine")),
            ("ws://10.0.0.5:6969", Err("only for a relay on this machine")),
            ("https://relay.example.com", Err("begins with wss://")),
            ("relay.example.com", Err("begins with wss://")),
            ("wss://user:pw@relay.example.com", Err("user name")),
            ("wss://relay.example.com/?x=1", Err("query")),
            ("wss://relay example.com", Err("spaces")),
            ("wss://", Err("")),
        ];
        for (text, expected) in cases {
            match (RelayAddress::operator(text), expected) {
                (Ok(address), Ok(url)) => assert_eq!(address.as_str(), *url, "{text}"),
                (Err(error), Err(part)) => assert!(error.contains(part), "{text}: {error}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_customers_relay_must_be_wss_unless_private_relays_are_allowed() {
        assert!(RelayAddress::customer("wss://relay.example.com", false).is_ok());
        let refused = RelayAddress::customer("ws://127.0.0.1:6969", false).unwrap_err();
        assert!(refused.contains("must be wss://"), "{refused}");
        assert!(RelayAddress::customer("ws://127.0.0.1:6969", true).is_ok(), "tests and demos");
        assert!(RelayAddress::customer("ws://192.168.1.2:6969", true).is_err(), "ws:// stays on loopback");
    }

    #[test]
    fn a_customers_relay_that_resolves_to_a_private_address_is_never_connected_to() {
        let limit = Duration::from_secs(5);
        for text in
            ["wss://127.0.0.1:1", "wss://localhost:1", "wss://10.0.0.1", "wss://169.254.169.254", "wss://[::1]:1"]
        {
            let address = RelayAddress::customer(text, false).unwrap();
            let refused = address.resolve(limit).unwrap_err();
            assert!(refused.contains("not a public address"), "{text}: {refused}");
            let allowed = RelayAddress::customer(text, true).unwrap();
            assert!(allowed.resolve(limit).is_ok(), "{text} with private relays allowed");
        }
        assert!(RelayAddress::operator("wss://127.0.0.1:1").unwrap().resolve(limit).is_ok(), "the operator's own");
    }

    #[test]
    fn the_nip11_document_is_at_the_same_place_over_http() {
        assert_eq!(RelayAddress::operator("wss://r.example/v1").unwrap().http_url(), "https://r.example/v1/");
        assert_eq!(RelayAddress::operator("ws://127.0.0.1:7777").unwrap().http_url(), "http://127.0.0.1:7777/");
    }
}
