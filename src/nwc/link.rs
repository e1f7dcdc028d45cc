//! `WalletLink`: one account's automatic renewal, the record
//! (`database/wallet-links/<account id>.json`). It holds only what may be
//! shown: the wallet's public key, relay, name, the cap, the encryption,
//! the status and the attempts. The connection secret is never here; it is
//! in [`super::secret`].
//!
//! Invariants: one request per renewal payment, ever: `requested` lists
//! every payment a request was signed for, and `current` keeps that
//! request whole (its id and JSON) from before it is first sent, so a
//! resend is the same event.

use super::wire::Encryption;
use crate::ids::IdFormat;
use crate::store::{Collection, Invalid, Key, Record};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    /// Expected to pay the next renewal.
    Connected,
    /// The wallet refused this connection for good, or vanished.
    Broken,
}

/// One request to pay one renewal payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub payment_id: String,
    /// The `paidUntil` this attempt renews from.
    pub paid_until: Timestamp,
    pub request_id: String,
    /// The signed request, as first sent (no secret in it).
    pub request: serde_json::Value,
    pub sats: i64,
    /// When the request's invoice (the quote) expires: after that it is
    /// never sent again, since a wallet could only fail to pay it.
    #[serde(default)]
    pub invoice_expires_at: Option<Timestamp>,
    pub sent_at: Timestamp,
    pub sends: u32,
    /// The wallet's answer, when one came: `paid`, or its error code.
    #[serde(default)]
    pub answer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub at: Timestamp,
    /// `paid`, `failed`, `skipped` or `broken`.
    pub result: String,
    pub message: String,
    /// The `paidUntil` it was about (a notice per period and attempt).
    pub paid_until: Timestamp,
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletLink {
    /// The account's id.
    pub id: String,
    pub customer_id: String,
    pub wallet_pubkey: String,
    /// The connection's own public key (from the secret): who signs requests.
    pub client_pubkey: String,
    pub relay: String,
    pub alias: String,
    pub cap_sats: i64,
    /// Periods each renewal buys (the plan's prepay choices); the cap is
    /// checked against their total.
    #[serde(default = "one")]
    pub periods: u32,
    pub encryption: Encryption,
    pub status: LinkStatus,
    #[serde(default)]
    pub current: Option<Attempt>,
    /// Attempts made for `attemptsFor` (the `paidUntil` they renew from).
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub attempts_for: Option<Timestamp>,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default)]
    pub last: Option<Outcome>,
    /// Every payment a request was ever signed for.
    #[serde(default)]
    pub requested: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn one() -> u32 {
    1
}

impl WalletLink {
    /// Whether the renewal from `paid_until` may still be paid by the wallet:
    /// connected, and not out of attempts (or over the cap) for that period.
    pub fn expected_to_pay(&self, paid_until: Timestamp, limit: u32) -> bool {
        self.status == LinkStatus::Connected && (self.attempts_for != Some(paid_until) || self.attempts < limit)
    }

    pub fn of_customer(customer_id: &str) -> Key<WalletLink> {
        Key::shared("customerId", customer_id)
    }
}

impl Record for WalletLink {
    const COLLECTION: Collection =
        Collection { folder: "wallet-links", noun: "wallet connection", id_format: IdFormat::Uuid };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        for (field, key) in [("walletPubkey", &self.wallet_pubkey), ("clientPubkey", &self.client_pubkey)] {
            if !IdFormat::EventId.accepts(key) {
                return Err(Invalid::new(field, "must be 64 lowercase hex digits"));
            }
        }
        if self.cap_sats <= 0 {
            return Err(Invalid::new("capSats", "must be a positive number of sats"));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<WalletLink>> {
        vec![WalletLink::of_customer(&self.customer_id)]
    }
}
