//! One WebSocket connection to one relay, blocking, with every wait bounded.
//!
//! The TCP stream is made here, so connecting, the handshake, reads and
//! writes all have timeouts (tungstenite's own `connect` has none). Reads
//! poll: a read timeout surfaces as `WouldBlock` and only means "nothing
//! yet". The relay's NIP-11 document is read first, over HTTP, for its
//! `max_message_length`, which no EVENT sent here exceeds. A NIP-42 AUTH
//! challenge is answered with the operator key as soon as it arrives; an
//! `auth-required:` answer is authenticated and sent again, once.
//! Anything a relay sends that is not a relay message is skipped (and a
//! relay that sends nothing else is dropped), so garbage costs the wait for
//! an `OK` at most, never a panic.

use super::address::{Origin, RelayAddress};
use super::protocol::{self, Incoming, Verdict, judge, prefix, shorten};
use nostr::nips::nip42::ClientAuthentication;
use nostr::prelude::{Event, FinalizeEvent, Keys, RelayUrl};
use serde_json::{Value, json};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The largest message taken from a relay.
const MAX_INCOMING: usize = 1 << 20;
/// The largest NIP-11 document read.
const MAX_NIP11: u64 = 64 * 1024;
/// Messages that are not relay messages taken on one connection before it
/// is given up.
const MAX_GARBAGE: u32 = 100;

/// How long each step may take; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Resolving, connecting, the handshake, a write, the NIP-11 document.
    pub connect: Duration,
    /// One read of an idle connection.
    pub poll: Duration,
    /// The wait for an `OK`, or for a query's end.
    pub answer: Duration,
    /// The first wait after a failure, doubled per failure up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            connect: Duration::from_secs(5),
            poll: Duration::from_millis(500),
            answer: Duration::from_secs(10),
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(15 * 60),
        }
    }
}

pub struct Connection {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    address: RelayAddress,
    keys: Keys,
    timing: Timing,
    /// The relay's latest NIP-42 challenge.
    challenge: Option<String>,
    /// The id of the AUTH event last sent, whose OK is not an event's.
    auth_id: Option<String>,
    /// NIP-11 `limitation.max_message_length`, when the relay gives one.
    max_message: Option<usize>,
    garbage: u32,
}

impl Connection {
    /// Connects, within `timing.connect` per step.
    pub fn open(address: &RelayAddress, keys: &Keys, timing: Timing) -> Result<Connection, String> {
        let info = RelayInfo::read(address, timing.connect);
        let tcp = connect_any(&address.resolve(timing.connect)?, timing.connect)?;
        let control = tcp.try_clone().map_err(|e| format!("cannot use the socket: {e}"))?;
        let setup = |stream: &TcpStream| -> std::io::Result<()> {
            stream.set_read_timeout(Some(timing.connect))?;
            stream.set_write_timeout(Some(timing.connect))?;
            stream.set_nodelay(true)
        };
        setup(&tcp).map_err(|e| format!("cannot use the socket: {e}"))?;
        let config = WebSocketConfig::default().max_message_size(Some(MAX_INCOMING)).max_frame_size(Some(MAX_INCOMING));
        let (socket, _) = tungstenite::client_tls_with_config(address.as_str(), tcp, Some(config), None)
            .map_err(|e| format!("WebSocket handshake failed: {e}"))?;
        control.set_read_timeout(Some(timing.poll)).map_err(|e| format!("cannot use the socket: {e}"))?;
        let mut connection = Connection {
            socket,
            address: address.clone(),
            keys: keys.clone(),
            timing,
            challenge: None,
            auth_id: None,
            max_message: info.max_message,
            garbage: 0,
        };
        if info.auth {
            // Its challenge comes on connect: answered before any EVENT, or
            // the relay judges that EVENT unauthenticated.
            let deadline = Instant::now() + timing.answer;
            while connection.challenge.is_none() && Instant::now() < deadline {
                connection.read()?;
            }
        }
        Ok(connection)
    }

    /// Sends `event` and judges the relay's `OK`. Ephemeral events get no
    /// `OK` from some relays, so they count as accepted once written. An
    /// error means the connection is of no further use.
    pub fn publish(&mut self, event: &Event) -> Result<Verdict, String> {
        let frame = json!(["EVENT", event]).to_string();
        if let Some(max) = self.max_message.filter(|&max| frame.len() > max) {
            return Ok(Verdict::Refused(format!("the event is {} bytes, the relay takes {max} (NIP-11)", frame.len())));
        }
        let id = event.id.to_hex();
        let mut authenticated = false;
        loop {
            let answered_before = self.auth_id.clone();
            self.send(&frame)?;
            if event.kind.is_ephemeral() {
                return Ok(Verdict::Accepted);
            }
            let verdict = self.await_ok(&id)?;
            // A challenge answered only while this EVENT was on its way: the
            // refusal may be of the unauthenticated connection.
            let late_auth = self.auth_id != answered_before && matches!(verdict, Verdict::Refused(_));
            match verdict {
                Verdict::AuthRequired(_) if !authenticated => {
                    self.authenticate(Instant::now() + self.timing.answer)?;
                }
                _ if late_auth && !authenticated => {}
                verdict => return Ok(verdict),
            }
            authenticated = true;
        }
    }

    /// The stored events matching `filter`, verified, until EOSE, `deadline`
    /// or `max` events.
    pub fn query(&mut self, filter: &Value, deadline: Instant, max: usize) -> Result<Vec<Event>, String> {
        let subscription = format!("hostr-{}", &crate::ids::new_uuid()[..8]);
        let request = json!(["REQ", subscription, filter]).to_string();
        self.send(&request)?;
        let (mut events, mut authenticated) = (Vec::new(), false);
        while Instant::now() < deadline && events.len() < max {
            match self.read()? {
                // Relays pass on junk: only what verifies is kept.
                Some(Incoming::Event { subscription: s, event }) if s == subscription && event.verify().is_ok() => {
                    events.push(*event);
                }
                Some(Incoming::Eose(s)) if s == subscription => break,
                Some(Incoming::Closed { subscription: s, message }) if s == subscription => {
                    if prefix(&message) == Some("auth-required") && !authenticated {
                        authenticated = true;
                        self.authenticate(deadline)?;
                        self.send(&request)?;
                        continue;
                    }
                    return Err(format!("the relay closed the query: {}", shorten(&message)));
                }
                _ => {}
            }
        }
        let _ = self.send(&json!(["CLOSE", subscription]).to_string());
        Ok(events)
    }

    /// Opens a live subscription for `filter` and waits (until `deadline`)
    /// for its EOSE, so that what is published after it is seen: ephemeral
    /// events (a wallet's answer) are never stored, only passed on.
    pub fn subscribe(&mut self, filter: &Value, deadline: Instant) -> Result<String, String> {
        let subscription = format!("hostr-{}", &crate::ids::new_uuid()[..8]);
        self.send(&json!(["REQ", subscription, filter]).to_string())?;
        while Instant::now() < deadline {
            match self.read()? {
                Some(Incoming::Eose(s)) if s == subscription => return Ok(subscription),
                Some(Incoming::Closed { subscription: s, message }) if s == subscription => {
                    return Err(format!("the relay closed the subscription: {}", shorten(&message)));
                }
                _ => {}
            }
        }
        Err("the relay did not confirm the subscription in time".to_owned())
    }

    /// The next verified event of `subscription`, none when `deadline` passes.
    pub fn next_event(&mut self, subscription: &str, deadline: Instant) -> Result<Option<Event>, String> {
        while Instant::now() < deadline {
            if let Some(Incoming::Event { subscription: s, event }) = self.read()?
                && s == subscription
                && event.verify().is_ok()
            {
                return Ok(Some(*event));
            }
        }
        Ok(None)
    }

    /// One read of an idle connection (answering pings and challenges).
    pub fn pump(&mut self) -> Result<(), String> {
        self.read().map(|_| ())
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }

    fn await_ok(&mut self, id: &str) -> Result<Verdict, String> {
        let deadline = Instant::now() + self.timing.answer;
        while Instant::now() < deadline {
            if let Some(Incoming::Ok { id: answered, accepted, message }) = self.read()? {
                let for_auth = self.auth_id.as_deref() == Some(answered.as_str());
                // An empty id answers the one event in flight (the PyPI relay).
                if answered == id || (answered.is_empty() && !for_auth) {
                    return Ok(judge(accepted, &message));
                }
            }
        }
        Err(format!("no OK within {} s", self.timing.answer.as_secs_f32()))
    }

    /// Answers the relay's challenge, waiting until `deadline` for one.
    fn authenticate(&mut self, deadline: Instant) -> Result<(), String> {
        while self.challenge.is_none() && Instant::now() < deadline {
            self.read()?;
        }
        match self.challenge.clone() {
            Some(challenge) => self.answer(&challenge),
            None => Err("the relay wants AUTH but sent no challenge".to_owned()),
        }
    }

    fn answer(&mut self, challenge: &str) -> Result<(), String> {
        let relay = RelayUrl::parse(self.address.as_str()).map_err(|e| format!("cannot name the relay: {e}"))?;
        let event = ClientAuthentication::new(challenge, relay)
            .finalize(&self.keys)
            .map_err(|e| format!("cannot sign AUTH: {e}"))?;
        self.auth_id = Some(event.id.to_hex());
        self.send(&json!(["AUTH", event]).to_string())
    }

    fn send(&mut self, text: &str) -> Result<(), String> {
        self.socket.send(Message::text(text.to_owned())).map_err(|e| format!("cannot send: {e}"))
    }

    /// The next relay message, none when the read timed out or what came
    /// was no message at all.
    fn read(&mut self) -> Result<Option<Incoming>, String> {
        let text = match self.socket.read() {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(_)) => return Err("the relay closed the connection".to_owned()),
            Ok(_) => return Ok(None),
            Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) => return Err(format!("connection lost: {e}")),
        };
        match protocol::parse(text.as_str()) {
            Ok(Incoming::Auth(challenge)) => {
                self.challenge = Some(challenge.clone());
                self.answer(&challenge)?;
                Ok(Some(Incoming::Auth(challenge)))
            }
            Ok(Incoming::Notice(notice)) => {
                log::info!("relay {} says: {}", self.address, shorten(&notice));
                Ok(Some(Incoming::Notice(notice)))
            }
            Ok(message) => Ok(Some(message)),
            Err(garbage) => {
                self.garbage += 1;
                if self.garbage == 1 {
                    log::warn!("relay {}: {garbage}", self.address);
                }
                if self.garbage > MAX_GARBAGE {
                    return Err("the relay sends nothing but garbage".to_owned());
                }
                Ok(None)
            }
        }
    }
}

/// The first of `addresses` that accepts a connection within `limit`.
fn connect_any(addresses: &[SocketAddr], limit: Duration) -> Result<TcpStream, String> {
    let mut last = String::from("no address");
    for address in addresses {
        match TcpStream::connect_timeout(address, limit) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("cannot connect to {address}: {e}"),
        }
    }
    Err(last)
}

/// What a relay's NIP-11 document says that matters here; a relay
/// without one is used with no limit of hostr's own.
#[derive(Debug, Default)]
struct RelayInfo {
    /// `limitation.max_message_length`.
    max_message: Option<usize>,
    /// NIP-42 listed in `supported_nips`, or `limitation.auth_required`.
    auth: bool,
}

impl RelayInfo {
    fn read(address: &RelayAddress, limit: Duration) -> RelayInfo {
        let agent = match address.origin() {
            Origin::Operator => ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .timeout_global(Some(limit))
                .build()
                .new_agent(),
            Origin::Customer { allow_private } => crate::nip05::guarded_agent("hostr-relay-info", allow_private),
        };
        let read = || -> Option<Value> {
            let mut response = agent.get(address.http_url()).header("Accept", "application/nostr+json").call().ok()?;
            if response.status() != 200 {
                return None;
            }
            let text = response.body_mut().with_config().limit(MAX_NIP11).read_to_string().ok()?;
            serde_json::from_str(&text).ok()
        };
        read().map(|document| RelayInfo::from_document(&document)).unwrap_or_default()
    }

    fn from_document(document: &Value) -> RelayInfo {
        let limitation = &document["limitation"];
        let max_message = limitation["max_message_length"].as_u64().and_then(|n| usize::try_from(n).ok());
        let lists_42 = document["supported_nips"].as_array().is_some_and(|nips| nips.iter().any(|n| n == 42));
        RelayInfo { max_message: max_message.filter(|&n| n > 0), auth: lists_42 || limitation["auth_required"] == true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nip11_document_gives_the_message_limit_and_whether_auth_comes() {
        let cases = [
            (json!({"limitation": {"max_message_length": 65536}}), Some(65536), false),
            (json!({"supported_nips": [1, 11, 42]}), None, true),
            (json!({"limitation": {"auth_required": true, "max_message_length": 0}}), None, true),
            (json!({"limitation": {"max_message_length": "big"}, "supported_nips": "42"}), None, false),
            (json!([]), None, false),
        ];
        for (document, max_message, auth) in cases {
            let info = RelayInfo::from_document(&document);
            assert_eq!((info.max_message, info.auth), (max_message, auth), "{document}");
        }
    }
}
