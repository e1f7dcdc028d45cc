//! Customers: the people who sign in with a Nostr key and buy hosting.
//!
//! Invariants: `publicKey` is 64 lowercase hex digits and unique; `email`,
//! when set, is a plausible address and unique regardless of letter case.

mod use_cases;

pub use use_cases::{
    CONFIRMATION_INTERVAL, CustomerError, CustomerResult, ProfileChange, ask_confirmation, delete, recover, register,
    set_key, suspend, unsuspend, update_profile,
};

use crate::ids::{IdFormat, is_public_key_hex};
use crate::store::{Collection, Invalid, Key, Record, raw_string_key};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    #[default]
    Active,
    Suspended,
    Deleted,
}

impl CustomerStatus {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "ACTIVE",
            CustomerStatus::Suspended => "SUSPENDED",
            CustomerStatus::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub public_key: String,
    pub email: Option<String>,
    #[serde(default)]
    pub status: CustomerStatus,
    #[serde(default)]
    pub plan_id: Option<String>,
    #[serde(default)]
    pub cpanel_account_ids: Vec<String>,
    #[serde(default)]
    pub payment_ids: Vec<String>,
    /// Raised to revoke every session issued before ("sign out everywhere").
    #[serde(default)]
    pub session_epoch: u64,
    /// When the customer deleted themselves; recoverable for a grace period.
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
    /// The operator's reason for a SUSPENDED customer; never shown to them.
    #[serde(default)]
    pub suspend_reason: Option<String>,
    /// When the operator last suspended or unsuspended the customer (what
    /// the customer is told about, once per change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension_changed_at: Option<Timestamp>,
    /// The customer's Nostr profile (kind 0), as last verified.
    #[serde(default)]
    pub metadata: Option<ProfileMetadata>,
    /// When the customer last recovered their deleted account.
    #[serde(default)]
    pub recovered_at: Option<Timestamp>,
    /// The address the customer confirmed by the link sent to it; `email`
    /// receives notices only while it is this address.
    #[serde(default)]
    pub confirmed_email: Option<String>,
    /// When a confirmation link for `email` was last asked for (setting the
    /// address asks for one).
    #[serde(default)]
    pub email_confirmation_asked_at: Option<Timestamp>,
    /// How the customer wants to hear from the operator.
    #[serde(default)]
    pub notices: NoticePreferences,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields of a kind-0 profile that hostr shows, each length-limited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProfileMetadata {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub picture: Option<String>,
    pub about: Option<String>,
    pub nip05: Option<String>,
    pub lud16: Option<String>,
    /// `created_at` of the event these fields came from; older events are ignored.
    pub event_created_at: i64,
    /// The server's own check of `nip05`, when there is one.
    #[serde(default)]
    pub nip05_check: Option<Nip05Check>,
}

/// How a customer wants to hear from the operator (see `notices::channels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NoticePreferences {
    /// Encrypted Nostr messages to the relays of their kind 10050 list.
    pub nostr: bool,
    /// Email to their confirmed address: `fallback` when no message can
    /// reach them over Nostr, `always` as well, `never`.
    pub email: EmailUse,
    /// Notices that are not essential (order, receipt, welcome, reminders,
    /// deletion); the essential ones cannot be switched off entirely.
    pub optional: bool,
}

impl Default for NoticePreferences {
    fn default() -> NoticePreferences {
        NoticePreferences { nostr: true, email: EmailUse::Fallback, optional: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmailUse {
    #[default]
    Fallback,
    Always,
    Never,
}

impl Customer {
    /// The address notices may go to: set, and confirmed by its owner.
    pub fn confirmed_email(&self) -> Option<&str> {
        let email = self.email.as_deref()?;
        let confirmed = self.confirmed_email.as_deref()?;
        (email_key(email) == email_key(confirmed)).then_some(email)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nip05Check {
    /// The identifier that was checked.
    pub identifier: String,
    pub valid: bool,
    /// Why it is not valid, when it is not.
    pub reason: Option<String>,
    pub checked_at: Timestamp,
}

impl Customer {
    pub fn new(id: String, public_key: String, email: Option<String>, now: Timestamp) -> Customer {
        Customer {
            id,
            public_key,
            email: email.clone(),
            status: CustomerStatus::Active,
            plan_id: None,
            cpanel_account_ids: Vec::new(),
            payment_ids: Vec::new(),
            session_epoch: 0,
            deleted_at: None,
            suspend_reason: None,
            suspension_changed_at: None,
            metadata: None,
            recovered_at: None,
            confirmed_email: None,
            email_confirmation_asked_at: email.is_some().then_some(now),
            notices: NoticePreferences::default(),
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleError {
    /// Suspended by the operator: deleting would let a recovery lift it.
    Suspended,
    AlreadyDeleted,
    NotDeleted,
    GracePeriodOver,
    /// Only a suspended customer can be unsuspended.
    NotSuspended,
}

impl std::fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LifecycleError::Suspended => "the customer is suspended by the operator",
            LifecycleError::AlreadyDeleted => "the account is already deleted",
            LifecycleError::NotDeleted => "the account is not deleted",
            LifecycleError::GracePeriodOver => "the grace period for recovering the account is over",
            LifecycleError::NotSuspended => "the customer is not suspended",
        })
    }
}

impl Customer {
    /// Soft delete: nothing is erased before `grace` has passed.
    pub fn soft_delete(&mut self, now: Timestamp) -> Result<(), LifecycleError> {
        match self.status {
            CustomerStatus::Active => {}
            CustomerStatus::Suspended => return Err(LifecycleError::Suspended),
            CustomerStatus::Deleted => return Err(LifecycleError::AlreadyDeleted),
        }
        self.status = CustomerStatus::Deleted;
        self.deleted_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Suspends the customer, or changes the reason of a suspension: every
    /// account of theirs is suspended in WHM, whatever was paid, until
    /// [`Customer::unsuspend`]. A deleted customer's accounts are suspended
    /// already; they must recover first.
    pub fn suspend(&mut self, reason: &str, now: Timestamp) -> Result<(), LifecycleError> {
        if self.status == CustomerStatus::Deleted {
            return Err(LifecycleError::AlreadyDeleted);
        }
        self.status = CustomerStatus::Suspended;
        self.suspend_reason = Some(reason.to_owned());
        self.suspension_changed_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Lifts the operator's suspension; each account is then as its own
    /// status says (an account suspended by itself stays suspended).
    pub fn unsuspend(&mut self, now: Timestamp) -> Result<(), LifecycleError> {
        if self.status != CustomerStatus::Suspended {
            return Err(LifecycleError::NotSuspended);
        }
        self.status = CustomerStatus::Active;
        self.suspend_reason = None;
        self.suspension_changed_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Keeps `metadata` unless the profile held is at least as new (relays
    /// may hand the page an older one); the server's check of an unchanged
    /// NIP-05 identifier carries over.
    pub fn keep_newer_profile(&mut self, mut metadata: ProfileMetadata) {
        if let Some(old) = &self.metadata {
            if metadata.event_created_at <= old.event_created_at {
                return;
            }
            if old.nip05 == metadata.nip05 {
                metadata.nip05_check = old.nip05_check.clone();
            }
        }
        self.metadata = Some(metadata);
    }

    /// The NIP-05 identifier the server has not checked yet, if any.
    pub fn unchecked_nip05(&self) -> Option<&str> {
        self.metadata.as_ref().filter(|m| m.nip05_check.is_none()).and_then(|m| m.nip05.as_deref())
    }

    /// When a soft-deleted customer's data may be erased.
    pub fn purge_after(&self, grace: chrono::Duration) -> Option<Timestamp> {
        self.deleted_at.map(|t| Timestamp::from(t.as_datetime() + grace))
    }

    /// Undoes a soft delete within the grace period.
    pub fn recover(&mut self, now: Timestamp, grace: chrono::Duration) -> Result<(), LifecycleError> {
        if self.status != CustomerStatus::Deleted {
            return Err(LifecycleError::NotDeleted);
        }
        if self.purge_after(grace).is_some_and(|end| now > end) {
            return Err(LifecycleError::GracePeriodOver);
        }
        self.status = CustomerStatus::Active;
        self.deleted_at = None;
        self.recovered_at = Some(now);
        self.updated_at = now;
        Ok(())
    }
}

/// The form in which emails are compared for uniqueness.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A deliberately loose check: one `@`, something before it, a dotted
/// domain after it, no spaces. Whether mail arrives is the mail system's call.
pub fn check_email(email: &str) -> Result<(), String> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if ok { Ok(()) } else { Err(format!("`{email}` is not an email address such as name@example.com")) }
}

impl Record for Customer {
    const COLLECTION: Collection = Collection { folder: "customers", noun: "customer", id_format: IdFormat::Uuid };
    // Every sign-in and every signed-in request finds its customer by key.
    const KEPT_IN_MEMORY: bool = true;

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        if !is_public_key_hex(&self.public_key) {
            return Err(Invalid::new("publicKey", "must be 64 lowercase hex digits"));
        }
        if let Some(email) = &self.email {
            check_email(email).map_err(|m| Invalid::new("email", m))?;
        }
        if let Some(plan_id) = &self.plan_id
            && !IdFormat::Slug.accepts(plan_id)
        {
            return Err(Invalid::new("planId", format!("must be {}", IdFormat::Slug.describe())));
        }
        for (field, ids) in [("cpanelAccountIds", &self.cpanel_account_ids), ("paymentIds", &self.payment_ids)] {
            if let Some(bad) = ids.iter().find(|id| !IdFormat::Uuid.accepts(id)) {
                return Err(Invalid::new(field, format!("`{bad}` is not {}", IdFormat::Uuid.describe())));
            }
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<Customer>> {
        let mut keys = vec![Customer::by_public_key(&self.public_key)];
        if let Some(email) = &self.email {
            keys.push(Customer::by_email(email));
        }
        // The few customers whose accounts must stay suspended are found
        // without reading every customer.
        if self.status != CustomerStatus::Active {
            keys.push(Customer::by_status(self.status));
        }
        keys
    }

    fn salvage_unique_keys(raw: &serde_json::Map<String, serde_json::Value>) -> Vec<Key<Customer>> {
        let public_key = raw_string_key(raw, "publicKey", |k| Customer::by_public_key(&k.to_ascii_lowercase()));
        public_key.into_iter().chain(raw_string_key(raw, "email", Customer::by_email)).collect()
    }
}

impl Customer {
    /// The customer who signs in with this key (lowercase hex).
    pub fn by_public_key(public_key_hex: &str) -> Key<Customer> {
        Key::unique("publicKey", public_key_hex)
    }

    /// The customer with this email address, compared as [`email_key`] does.
    pub fn by_email(email: &str) -> Key<Customer> {
        Key::unique("email", email_key(email))
    }

    /// The customers in `status`; only kept for the statuses other than ACTIVE.
    pub fn by_status(status: CustomerStatus) -> Key<Customer> {
        Key::shared("status", status.as_str())
    }
}

/// A public key as a client or operator may write it (64 hex digits or
/// `npub1…`), in its stored form: lowercase hex.
pub fn parse_public_key(text: &str) -> Result<String, String> {
    nostr::key::PublicKey::parse(text.trim())
        .map(|key| key.to_hex())
        .map_err(|_| format!("`{text}` is not a Nostr public key: give 64 hex digits or an npub1… key"))
}

/// The `npub1…` form of a stored hex key.
pub fn npub(public_key_hex: &str) -> Option<String> {
    use nostr::nips::nip19::ToBech32;
    nostr::key::PublicKey::from_hex(public_key_hex).ok()?.to_bech32().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_delete_is_recoverable_within_the_grace_period_only() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let grace = chrono::Duration::days(30);
        let mut c = Customer::new("id".into(), "ab".repeat(32), None, t0);
        assert_eq!(c.recover(t0, grace), Err(LifecycleError::NotDeleted));
        c.soft_delete(t0).unwrap();
        assert_eq!(c.soft_delete(t0), Err(LifecycleError::AlreadyDeleted));
        assert_eq!(c.purge_after(grace).unwrap().to_string(), "2026-01-31T00:00:00Z");
        let late = Timestamp::parse("2026-01-31T00:00:01Z").unwrap();
        assert_eq!(c.clone().recover(late, grace), Err(LifecycleError::GracePeriodOver));
        c.recover(Timestamp::parse("2026-01-30T00:00:00Z").unwrap(), grace).unwrap();
        assert_eq!((c.status, c.deleted_at), (CustomerStatus::Active, None));
        c.status = CustomerStatus::Suspended;
        assert_eq!(c.soft_delete(t0), Err(LifecycleError::Suspended), "a suspension is not lifted by delete + recover");
    }

    #[test]
    fn a_suspension_holds_a_reason_until_lifted_and_never_follows_a_deletion() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let mut c = Customer::new("id".into(), "ab".repeat(32), None, t0);
        assert_eq!(c.unsuspend(t0), Err(LifecycleError::NotSuspended));
        c.suspend("chargeback", t0).unwrap();
        c.suspend("chargeback, then abuse", t0).unwrap();
        assert_eq!(
            (c.status, c.suspend_reason.as_deref()),
            (CustomerStatus::Suspended, Some("chargeback, then abuse"))
        );
        c.unsuspend(t0).unwrap();
        assert_eq!((c.status, c.suspend_reason.as_deref()), (CustomerStatus::Active, None));
        c.soft_delete(t0).unwrap();
        assert_eq!(c.suspend("late", t0), Err(LifecycleError::AlreadyDeleted));
        assert_eq!(c.unsuspend(t0), Err(LifecycleError::NotSuspended));
    }

    #[test]
    fn the_newest_profile_wins_and_keeps_a_check_of_the_same_identifier() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let mut c = Customer::new("id".into(), "ab".repeat(32), None, t0);
        let profile = |at: i64, nip05: &str| ProfileMetadata {
            nip05: Some(nip05.to_owned()),
            event_created_at: at,
            ..Default::default()
        };
        c.keep_newer_profile(profile(10, "a@x.com"));
        assert_eq!(c.unchecked_nip05(), Some("a@x.com"));
        let check = Nip05Check { identifier: "a@x.com".into(), valid: true, reason: None, checked_at: t0 };
        c.metadata.as_mut().unwrap().nip05_check = Some(check.clone());
        c.keep_newer_profile(profile(5, "old@x.com"));
        assert_eq!(c.metadata.as_ref().unwrap().event_created_at, 10, "an older event is ignored");
        c.keep_newer_profile(profile(20, "a@x.com"));
        assert_eq!(c.metadata.as_ref().unwrap().nip05_check, Some(check), "same identifier: check kept");
        c.keep_newer_profile(profile(30, "b@x.com"));
        assert_eq!(c.unchecked_nip05(), Some("b@x.com"), "a new identifier is checked anew");
    }

    #[test]
    fn emails_are_checked_loosely_and_compared_without_case() {
        for good in ["a@b.co", "Name.Surname+tag@example.org"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.co", "a@co."] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(email_key(" Alice@Example.COM "), "alice@example.com");
    }

    #[test]
    fn keys_are_accepted_as_hex_or_npub() {
        let hex = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
        let npub = npub(hex).unwrap();
        assert!(npub.starts_with("npub1"));
        assert_eq!(parse_public_key(&npub).unwrap(), hex);
        assert_eq!(parse_public_key(&hex.to_uppercase()).unwrap(), hex);
        assert!(parse_public_key("npub1xyz").is_err());
        assert!(parse_public_key(&hex[..63]).is_err());
    }
}
