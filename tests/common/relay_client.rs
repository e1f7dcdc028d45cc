//! The tests' own minimal relay client (plain `ws://` on loopback), playing
//! the Nostr clients hostr's events are for: it publishes, queries with a
//! filter until EOSE, and answers NIP-42 AUTH when asked. It is deliberately
//! independent of hostr's relay client, so a test that fetches back what
//! hostr published checks hostr against the relay, not against itself.

use nostr::nips::nip42::ClientAuthentication;
use nostr::prelude::*;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

pub struct RelayConn {
    socket: WebSocket<TcpStream>,
    url: String,
    challenge: Option<String>,
}

/// What a relay answered to an EVENT.
#[derive(Debug)]
pub struct Accepted {
    pub ok: bool,
    pub message: String,
}

impl RelayConn {
    pub fn connect(url: &str) -> RelayConn {
        let address = url.trim_start_matches("ws://").trim_end_matches('/');
        let stream = TcpStream::connect(address).expect("connect to the test relay");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (socket, _) = tungstenite::client(url, stream).expect("WebSocket handshake with the test relay");
        RelayConn { socket, url: url.to_string(), challenge: None }
    }

    /// Publishes `event` and returns the relay's OK (the PyPI relay answers
    /// a refusal by its authenticator with an empty event id).
    pub fn publish(&mut self, event: &Event) -> Accepted {
        self.send(json!(["EVENT", event]));
        let id = event.id.to_hex();
        loop {
            let message = self.next();
            if message[0] == "OK" && (message[1] == id.as_str() || message[1] == "") {
                return Accepted {
                    ok: message[2].as_bool().unwrap_or(false),
                    message: message[3].as_str().unwrap_or("").to_string(),
                };
            }
        }
    }

    /// The stored events matching `filter`, up to EOSE.
    pub fn query(&mut self, filter: Value) -> Vec<Event> {
        let subscription = format!("q{}", rand_suffix());
        self.send(json!(["REQ", subscription, filter]));
        let mut events = Vec::new();
        loop {
            let message = self.next();
            match message[0].as_str() {
                Some("EVENT") if message[1] == subscription.as_str() => {
                    let event: Event = serde_json::from_value(message[2].clone()).expect("a relay event");
                    event.verify().expect("the relay served an event whose signature verifies");
                    events.push(event);
                }
                Some("EOSE") if message[1] == subscription.as_str() => break,
                Some("CLOSED") if message[1] == subscription.as_str() => {
                    panic!("the relay closed the query: {message}")
                }
                _ => {}
            }
        }
        self.send(json!(["CLOSE", subscription]));
        events
    }

    /// Authenticates with `keys` (NIP-42), once the relay has sent a
    /// challenge. The PyPI relay sends no OK for a successful AUTH.
    pub fn authenticate(&mut self, keys: &Keys) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.challenge.is_none() && Instant::now() < deadline {
            self.next();
        }
        let challenge = self.challenge.clone().expect("the relay sent an AUTH challenge");
        let relay = RelayUrl::parse(&self.url).expect("the relay's url");
        let event = ClientAuthentication::new(challenge, relay).finalize(keys).expect("sign AUTH");
        self.send(json!(["AUTH", event]));
    }

    fn send(&mut self, message: Value) {
        self.socket.send(Message::text(message.to_string())).expect("send to the test relay");
    }

    /// The next JSON message, remembering any AUTH challenge on the way.
    fn next(&mut self) -> Value {
        loop {
            match self.socket.read().expect("read from the test relay") {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).expect("the relay sends JSON");
                    if message[0] == "AUTH" {
                        self.challenge = message[1].as_str().map(str::to_string);
                    }
                    return message;
                }
                Message::Close(_) => panic!("the test relay closed the connection"),
                _ => {}
            }
        }
    }
}

fn rand_suffix() -> String {
    hostr::ids::new_uuid()[..8].to_string()
}
