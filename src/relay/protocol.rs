//! What relays say (NIP-01, NIP-42), read as values, and what an `OK`
//! means for hostr: pure functions, tested with tables.
//!
//! Relays' messages are parsed generically rather than with the `nostr`
//! crate's `RelayMessage`, because real relays say things it refuses: the
//! PyPI relay answers a write its authenticator refused with
//! `["OK","",false,"restricted: …"]`, an empty event id. An `OK` is judged
//! by its machine-readable prefix, never by its boolean alone: `duplicate:`
//! means the relay holds the event, whatever the boolean says.

use nostr::prelude::Event;
use serde_json::Value;

/// One message from a relay.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// `["OK", id, accepted, message]`; `id` may be empty (see above).
    Ok {
        id: String,
        accepted: bool,
        message: String,
    },
    /// `["AUTH", challenge]`.
    Auth(String),
    /// `["EVENT", subscription, event]`, not verified yet.
    Event {
        subscription: String,
        event: Box<Event>,
    },
    Eose(String),
    Closed {
        subscription: String,
        message: String,
    },
    Notice(String),
    /// A well-formed message hostr has no use for (`COUNT`, …).
    Other,
}

/// Parses one text frame; an error for anything that is not a relay message.
pub fn parse(text: &str) -> Result<Incoming, String> {
    let garbage = || format!("not a relay message: {}", shorten(text));
    let value: Value = serde_json::from_str(text).map_err(|_| garbage())?;
    let items = value.as_array().ok_or_else(garbage)?;
    let text_at = |i: usize| items.get(i).and_then(Value::as_str).map(str::to_owned);
    let message = match items.first().and_then(Value::as_str).ok_or_else(garbage)? {
        "OK" => Incoming::Ok {
            id: text_at(1).ok_or_else(garbage)?,
            accepted: items.get(2).and_then(Value::as_bool).ok_or_else(garbage)?,
            message: text_at(3).unwrap_or_default(),
        },
        "AUTH" => Incoming::Auth(text_at(1).ok_or_else(garbage)?),
        "EVENT" => {
            let event = items.get(2).cloned().ok_or_else(garbage)?;
            let event: Event = serde_json::from_value(event).map_err(|_| garbage())?;
            Incoming::Event { subscription: text_at(1).ok_or_else(garbage)?, event: Box::new(event) }
        }
        "EOSE" => Incoming::Eose(text_at(1).ok_or_else(garbage)?),
        "CLOSED" => {
            Incoming::Closed { subscription: text_at(1).ok_or_else(garbage)?, message: text_at(2).unwrap_or_default() }
        }
        "NOTICE" => Incoming::Notice(text_at(1).unwrap_or_default()),
        _ => Incoming::Other,
    };
    Ok(message)
}

/// What an `OK` (or a `CLOSED`) means for what was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored or accepted.
    Accepted,
    /// The relay already holds this event id.
    Duplicate,
    /// Too fast: wait, then send the same event again.
    RateLimited(String),
    /// NIP-42 first: authenticate, then send it again (once).
    AuthRequired(String),
    /// Final for this relay: `blocked:`, `restricted:`, `invalid:`, `pow:`.
    Refused(String),
    /// Anything else that went wrong (`error:`, `mute:`, no prefix): later.
    Failed(String),
}

/// Judges an `OK` by its prefix first, its boolean second.
pub fn judge(accepted: bool, message: &str) -> Verdict {
    // A relay's words end up in records and logs: kept short (a relay may
    // send a megabyte of "reason").
    let owned = || shorten(message);
    match prefix(message) {
        Some("duplicate") => Verdict::Duplicate,
        _ if accepted => Verdict::Accepted,
        Some("rate-limited") => Verdict::RateLimited(owned()),
        Some("auth-required") => Verdict::AuthRequired(owned()),
        Some("blocked" | "restricted" | "invalid" | "pow") => Verdict::Refused(owned()),
        _ if message.is_empty() => Verdict::Failed("refused without a reason".to_owned()),
        _ => Verdict::Failed(owned()),
    }
}

/// The machine-readable prefix: the text before the first `:`, if it is one word.
pub fn prefix(message: &str) -> Option<&str> {
    let (word, _) = message.split_once(':')?;
    let word = word.trim();
    (!word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')).then_some(word)
}

/// At most 80 characters of what a relay said, for logs and records.
pub fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ok_is_judged_by_its_prefix_before_its_boolean() {
        let cases = [
            (true, "", Verdict::Accepted),
            (true, "duplicate: already have this event", Verdict::Duplicate),
            (false, "duplicate: exists", Verdict::Duplicate),
            (false, "rate-limited: slow down", Verdict::RateLimited("rate-limited: slow down".into())),
            (false, "auth-required: who are you", Verdict::AuthRequired("auth-required: who are you".into())),
            (false, "restricted: not a writer", Verdict::Refused("restricted: not a writer".into())),
            (false, "blocked: go away", Verdict::Refused("blocked: go away".into())),
            (false, "invalid: created_at too old", Verdict::Refused("invalid: created_at too old".into())),
            (false, "pow: difficulty 30", Verdict::Refused("pow: difficulty 30".into())),
            (false, "error: database down", Verdict::Failed("error: database down".into())),
            (false, "mute: nobody listening", Verdict::Failed("mute: nobody listening".into())),
            (false, "no thanks", Verdict::Failed("no thanks".into())),
            (false, "", Verdict::Failed("refused without a reason".into())),
            (true, "Note: stored", Verdict::Accepted),
            (false, &"x".repeat(1 << 20), Verdict::Failed(format!("{}…", "x".repeat(80)))),
        ];
        for (accepted, message, verdict) in cases {
            assert_eq!(judge(accepted, message), verdict, "{accepted} {message:?}");
        }
    }

    #[test]
    fn relay_messages_parse_and_garbage_is_told_apart() {
        let ok = parse(r#"["OK","","false_is_not_bool","x"]"#);
        assert!(ok.is_err());
        assert_eq!(
            parse(r#"["OK","",false,"restricted: not allowed"]"#).unwrap(),
            Incoming::Ok { id: String::new(), accepted: false, message: "restricted: not allowed".into() }
        );
        assert_eq!(parse(r#"["AUTH","c1"]"#).unwrap(), Incoming::Auth("c1".into()));
        assert_eq!(parse(r#"["EOSE","s"]"#).unwrap(), Incoming::Eose("s".into()));
        assert_eq!(parse(r#"["COUNT","s",{"count":1}]"#).unwrap(), Incoming::Other);
        assert_eq!(
            parse(r#"["CLOSED","s","auth-required: x"]"#).unwrap(),
            Incoming::Closed { subscription: "s".into(), message: "auth-required: x".into() }
        );
        for garbage in ["", "hello", "{}", "[]", "[1,2]", r#"["OK"]"#, r#"["EVENT","s",{"id":"x"}]"#, "\u{0}\u{1}"] {
            assert!(parse(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn a_prefix_is_one_lowercase_word_before_a_colon() {
        let cases = [
            ("duplicate: x", Some("duplicate")),
            ("rate-limited:x", Some("rate-limited")),
            ("http://x", Some("http")),
            ("two words: x", None),
            ("none", None),
            (": x", None),
        ];
        for (message, expected) in cases {
            assert_eq!(prefix(message), expected, "{message}");
        }
    }
}
