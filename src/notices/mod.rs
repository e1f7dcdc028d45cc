//! Lifecycle notices: what the customer (or the operator) is told, and
//! whether it was.
//!
//! Notices are derived from the records, never raised by the code that
//! changes them: the planner ([`plan`]) reads customers, accounts and
//! payments and says which notices are due now; each is written as a
//! [`Notice`] whose id is a hash of its dedup key ([`Notice::id_for`]), with
//! create-new semantics, BEFORE anything is sent. So:
//! - a notice is planned once per event (per account or payment, kind,
//!   period or threshold), whatever restarts or crashes come between;
//! - before each attempt the planner is asked again, and a notice it no
//!   longer plans (the renewal was paid, a nearer reminder took over) is
//!   dropped with the reason recorded, never sent;
//! - on the first start with notices ([`NoticeStart`]), events from before
//!   are not announced: no burst of old news.
//!
//! Email is at-least-once at the very edge (a crash after the SMTP server
//! accepted a message and before `SENT` is written sends it again, with the
//! same `Message-ID`); everything before that edge is exactly once.

pub mod auto_renew;
pub mod channels;
pub mod confirm;
pub mod dm;
pub mod email;
pub mod plan;
pub mod templates;
pub mod worker;

use crate::ids::IdFormat;
use crate::store::{Collection, Invalid, Key, Record};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What a notice tells. Its name is the template's file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    OrderReceived,
    Receipt,
    AccountReady,
    RenewalDue,
    Expired,
    Suspended,
    Unsuspended,
    /// Every account of the customer, by `hostr customer suspend`.
    CustomerSuspended,
    CustomerUnsuspended,
    TerminationWarning,
    Deleted,
    Recovered,
    EmailConfirmation,
    /// To the operator: a paid order could not be delivered.
    FulfilmentFailed,
    /// The day before the wallet is asked to pay a renewal.
    AutoRenewSoon,
    /// The wallet did not pay (refused, expired unpaid, over the cap).
    AutoRenewFailed,
    /// The wallet refused the connection for good: renew by hand.
    AutoRenewBroken,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 17] = [
        NoticeKind::OrderReceived,
        NoticeKind::Receipt,
        NoticeKind::AccountReady,
        NoticeKind::RenewalDue,
        NoticeKind::Expired,
        NoticeKind::Suspended,
        NoticeKind::Unsuspended,
        NoticeKind::CustomerSuspended,
        NoticeKind::CustomerUnsuspended,
        NoticeKind::TerminationWarning,
        NoticeKind::Deleted,
        NoticeKind::Recovered,
        NoticeKind::EmailConfirmation,
        NoticeKind::FulfilmentFailed,
        NoticeKind::AutoRenewSoon,
        NoticeKind::AutoRenewFailed,
        NoticeKind::AutoRenewBroken,
    ];

    /// The name in files and of the template: `renewal-due`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::OrderReceived => "order-received",
            NoticeKind::Receipt => "receipt",
            NoticeKind::AccountReady => "account-ready",
            NoticeKind::RenewalDue => "renewal-due",
            NoticeKind::Expired => "expired",
            NoticeKind::Suspended => "suspended",
            NoticeKind::Unsuspended => "unsuspended",
            NoticeKind::CustomerSuspended => "customer-suspended",
            NoticeKind::CustomerUnsuspended => "customer-unsuspended",
            NoticeKind::TerminationWarning => "termination-warning",
            NoticeKind::Deleted => "deleted",
            NoticeKind::Recovered => "recovered",
            NoticeKind::EmailConfirmation => "email-confirmation",
            NoticeKind::FulfilmentFailed => "fulfilment-failed",
            NoticeKind::AutoRenewSoon => "auto-renew-soon",
            NoticeKind::AutoRenewFailed => "auto-renew-failed",
            NoticeKind::AutoRenewBroken => "auto-renew-broken",
        }
    }

    /// Notices a customer cannot switch off entirely while they have an
    /// account: the ones about losing it.
    pub fn is_essential(self) -> bool {
        matches!(
            self,
            NoticeKind::Expired
                | NoticeKind::Suspended
                | NoticeKind::CustomerSuspended
                | NoticeKind::TerminationWarning
                | NoticeKind::EmailConfirmation
                | NoticeKind::FulfilmentFailed
        )
    }

    /// Why a pending notice of this kind is dropped when the planner no
    /// longer plans it.
    pub fn gone_reason(self) -> &'static str {
        match self {
            NoticeKind::OrderReceived => "the invoice is no longer open",
            NoticeKind::RenewalDue => "no longer due: renewed, paid, edited, or a nearer reminder took over",
            NoticeKind::TerminationWarning => "no longer due: renewed, or a nearer warning took over",
            NoticeKind::FulfilmentFailed => "the fulfilment no longer fails",
            NoticeKind::EmailConfirmation => "the address changed or was confirmed",
            NoticeKind::AutoRenewSoon => "no longer due: disconnected, renewed, or the attempt began",
            NoticeKind::AutoRenewFailed | NoticeKind::AutoRenewBroken => {
                "no longer so: renewed, disconnected, or a newer outcome took over"
            }
            _ => "what it announces is no longer so",
        }
    }
}

/// Who a notice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipient {
    Customer,
    /// `HOSTR_OPERATOR_NPUB` and `HOSTR_OPERATOR_EMAIL`.
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NoticeState {
    /// Written, not yet delivered on every channel chosen for it.
    Pending,
    /// Delivered on every channel chosen (or refused for good on some).
    Sent,
    /// Not sent, and never will be: see `droppedReason`.
    Dropped,
}

/// One channel's part of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Delivery {
    /// Not chosen (yet) for this notice.
    #[default]
    None,
    /// Chosen; to be sent (again, after an outage).
    Due,
    Sent,
    /// Refused for good by the other side (an address the server rejects).
    Failed,
}

/// A notice planned for one event, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// [`Notice::id_for`] of `key`.
    pub id: String,
    /// What makes it one event: `renewal-due:<account>:<paidUntil>:3`.
    pub key: String,
    pub kind: NoticeKind,
    pub recipient: Recipient,
    pub customer_id: Option<String>,
    pub account_id: Option<String>,
    pub payment_id: Option<String>,
    /// The template's named fields, as planned. Never a secret, never the
    /// operator's private suspension reason.
    pub fields: BTreeMap<String, String>,
    pub state: NoticeState,
    /// Whether the channels were chosen (on the first attempt).
    #[serde(default)]
    pub channels_chosen: bool,
    #[serde(default)]
    pub email: Delivery,
    /// The address chosen for `email`.
    #[serde(default)]
    pub email_to: Option<String>,
    #[serde(default)]
    pub nostr: Delivery,
    /// The gift wraps built for `nostr` (to the recipient, then the
    /// operator's copy), kept so that a retry hands the outbox the same
    /// events rather than new ones.
    #[serde(default)]
    pub nostr_events: Vec<serde_json::Value>,
    /// The recipient's inbox relays the wrap goes to.
    #[serde(default)]
    pub nostr_relays: Vec<String>,
    #[serde(default)]
    pub dropped_reason: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Notice {
    /// The id of the notice for dedup `key`: the key's SHA-256 shaped as a
    /// UUID (version 8, "custom"), so the same event always names the same
    /// file and a second creation is refused by the store.
    pub fn id_for(key: &str) -> String {
        let mut bytes: [u8; 16] = Sha256::digest(key.as_bytes())[..16].try_into().expect("16 of 32 bytes");
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(bytes).to_string()
    }

    /// Whether every chosen channel is done with (sent or refused for good).
    pub fn is_delivered(&self) -> bool {
        self.channels_chosen && self.email != Delivery::Due && self.nostr != Delivery::Due
    }
}

impl Record for Notice {
    const COLLECTION: Collection = Collection { folder: "notices", noun: "notice", id_format: IdFormat::Uuid };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        if self.id != Notice::id_for(&self.key) {
            return Err(Invalid::new("id", "must be the hash of `key` (see docs): a notice is named by its event"));
        }
        if self.recipient == Recipient::Customer && self.customer_id.is_none() {
            return Err(Invalid::new("customerId", "a customer's notice must name the customer"));
        }
        if self.state == NoticeState::Dropped && self.dropped_reason.is_none() {
            return Err(Invalid::new("droppedReason", "a DROPPED notice must say why"));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<Notice>> {
        let mut keys = Vec::new();
        if let Some(customer) = &self.customer_id {
            keys.push(Notice::of_customer(customer));
        }
        // The worker reads what is pending, not every notice ever sent.
        if self.state == NoticeState::Pending {
            keys.push(Notice::pending());
        }
        keys
    }
}

impl Notice {
    pub fn pending() -> Key<Notice> {
        Key::shared("open", "pending")
    }

    pub fn of_customer(customer_id: &str) -> Key<Notice> {
        Key::shared("customerId", customer_id)
    }
}

/// When this database began sending notices: events from before are not
/// announced. Made on the first start with notices (`database/notice-start/
/// since.json`); an operator may move it forward by hand to skip a backlog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoticeStart {
    pub id: String,
    pub since: Timestamp,
}

impl NoticeStart {
    pub const ID: &'static str = "since";
}

impl Record for NoticeStart {
    const COLLECTION: Collection =
        Collection { folder: "notice-start", noun: "notice start", id_format: IdFormat::Slug };

    fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_named_by_its_event() {
        let a = Notice::id_for("renewal-due:acct:2026-01-01T00:00:00Z:3");
        assert!(IdFormat::Uuid.accepts(&a), "{a}");
        assert_eq!(a, Notice::id_for("renewal-due:acct:2026-01-01T00:00:00Z:3"), "the same event, the same id");
        assert_ne!(a, Notice::id_for("renewal-due:acct:2026-01-01T00:00:00Z:1"));
        assert_eq!(&a[14..15], "8", "a version-8 UUID");
    }
}
