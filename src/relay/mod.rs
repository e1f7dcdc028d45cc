//! hostr's Nostr relay client: blocking, on std threads, no async runtime.
//!
//! - `address.rs`: relay URLs, normalised, and who may name what (the
//!   operator's `--relays`; a customer's relays held to the NIP-05 rules).
//! - `protocol.rs`: relay messages as values, and what an `OK` means.
//! - `connection.rs`: one WebSocket to one relay with every wait bounded,
//!   NIP-11 limits, NIP-42 AUTH with the operator key.
//! - `publisher.rs`: [`Outbox`], the durable way to publish: the signed
//!   event is written to `database/outbox/` first, then one thread per relay
//!   sends it over the one connection it keeps open, with backoff.
//! - `lists.rs`: [`Directory`], a user's kinds 0, 10002 and 10050 read from
//!   the configured relays plus the user's own write relays, bounded and cached.
//!
//! Invariants: nothing is published without its outbox record written
//! first; a relay is contacted only through a [`RelayAddress`]; a slow,
//! broken or hostile relay holds up only its own thread.

mod address;
mod connection;
mod lists;
mod protocol;
mod publisher;

pub use address::{Origin, RelayAddress};
pub use connection::{Connection, Timing};
pub use lists::{Directory, UserLists};
pub use protocol::{Verdict, judge};
pub use publisher::{Outbox, OutboxError, Published, RelayHealth, Targets};

/// The relay settings of `serve`.
#[derive(Debug, Clone, Default)]
pub struct RelaySettings {
    /// `--relays`: where the operator's events go. None: publishing is off.
    pub relays: Vec<RelayAddress>,
    /// `HOSTR_ALLOW_PRIVATE_RELAYS`: customers' relays may be `ws://` on
    /// loopback or resolve to private addresses (tests, demos).
    pub allow_private: bool,
    pub timing: Timing,
}

impl RelaySettings {
    pub fn is_on(&self) -> bool {
        !self.relays.is_empty()
    }

    /// The `--relays` URLs, as outbox items record them.
    pub fn urls(&self) -> Vec<String> {
        self.relays.iter().map(|r| r.as_str().to_owned()).collect()
    }

    /// A relay a customer named, under these settings.
    pub fn customer_relay(&self, text: &str) -> Result<RelayAddress, String> {
        RelayAddress::customer(text, self.allow_private)
    }
}
