//! What a customer (or the operator, for a customer) can do: register,
//! change the profile, delete and recover the account, move it to another
//! key. One function per use case, called by the API's handlers and the
//! CLI alike; each does its whole change in one store update.

use super::{Customer, CustomerStatus, LifecycleError, ProfileMetadata, check_email, parse_public_key};
use crate::ids::new_uuid;
use crate::store::{Record, Store, StoreError};
use crate::timestamp::Timestamp;
use std::fmt;

#[derive(Debug)]
pub enum CustomerError {
    /// The key already belongs to a customer.
    AlreadyRegistered,
    /// Another customer already uses this email address.
    EmailTaken,
    BadEmail(String),
    /// A deleted account cannot be changed until it is recovered.
    Deleted,
    /// Deleting needs the customer's own npub as confirmation.
    ConfirmationRequired,
    WrongConfirmation,
    /// Suspending a customer needs a reason for the record.
    ReasonRequired,
    Lifecycle(LifecycleError),
    Store(StoreError),
}

impl From<StoreError> for CustomerError {
    fn from(error: StoreError) -> CustomerError {
        match error {
            StoreError::Taken { collection, field: "publicKey", .. } if collection == Customer::COLLECTION => {
                CustomerError::AlreadyRegistered
            }
            StoreError::Taken { collection, field: "email", .. } if collection == Customer::COLLECTION => {
                CustomerError::EmailTaken
            }
            other => CustomerError::Store(other),
        }
    }
}

impl From<LifecycleError> for CustomerError {
    fn from(error: LifecycleError) -> CustomerError {
        CustomerError::Lifecycle(error)
    }
}

impl fmt::Display for CustomerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerError::AlreadyRegistered => write!(f, "another customer already has this key"),
            CustomerError::EmailTaken => write!(f, "another customer already uses this email address"),
            CustomerError::BadEmail(why) => write!(f, "{why}"),
            CustomerError::Deleted => write!(f, "the account is deleted; recover it first"),
            CustomerError::ConfirmationRequired => write!(f, "deleting needs the customer's npub as confirmation"),
            CustomerError::WrongConfirmation => write!(f, "the confirmation is not the customer's npub"),
            CustomerError::ReasonRequired => write!(f, "give a reason for the suspension (--reason)"),
            CustomerError::Lifecycle(error) => write!(f, "{error}"),
            CustomerError::Store(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for CustomerError {}

pub type CustomerResult<T> = Result<T, CustomerError>;

/// Registers the signed-in `public_key` (lowercase hex) as a new customer.
/// Two sign-ups of one key at once: the store lets one win, the other
/// hears [`CustomerError::AlreadyRegistered`].
pub fn register(store: &Store, public_key: &str, email: Option<&str>, now: Timestamp) -> CustomerResult<Customer> {
    let email = email.map(valid_email).transpose()?;
    let customer = Customer::new(new_uuid(), public_key.to_owned(), email, now);
    store.create(&customer)?;
    Ok(customer)
}

/// A change of the profile: `email` absent leaves it, `Some(None)` removes
/// it, `Some(Some(_))` sets it; `metadata` is a checked kind-0 profile.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub email: Option<Option<String>>,
    pub metadata: Option<ProfileMetadata>,
    /// How the customer wants to hear from the operator.
    pub notices: Option<super::NoticePreferences>,
}

pub fn update_profile(store: &Store, customer: &Customer, change: ProfileChange) -> CustomerResult<Customer> {
    if customer.status == CustomerStatus::Deleted {
        return Err(CustomerError::Deleted);
    }
    let email = match change.email {
        Some(Some(email)) => Some(Some(valid_email(&email)?)),
        other => other,
    };
    store.update::<Customer, _, CustomerError>(&customer.id, |c| {
        if let Some(email) = email {
            // A new address is confirmed before anything but its
            // confirmation is sent to it.
            let changed = email.as_deref().map(super::email_key) != c.email.as_deref().map(super::email_key);
            if changed && email.is_some() {
                c.email_confirmation_asked_at = Some(Timestamp::now());
            }
            c.email = email;
        }
        if let Some(metadata) = change.metadata {
            c.keep_newer_profile(metadata);
        }
        if let Some(notices) = change.notices {
            c.notices = notices;
        }
        c.updated_at = Timestamp::now();
        Ok(c.clone())
    })
}

/// Soft-deletes the account once `confirm` names the customer's own key
/// (its npub or hex), typed as a person types on a phone: spaces around it
/// and any mix of capitals are forgiven, every character of the key is not.
pub fn delete(store: &Store, customer: &Customer, confirm: Option<&str>, now: Timestamp) -> CustomerResult<Customer> {
    let confirm = confirm.ok_or(CustomerError::ConfirmationRequired)?.trim().to_lowercase();
    if parse_public_key(&confirm).ok().as_deref() != Some(customer.public_key.as_str()) {
        return Err(CustomerError::WrongConfirmation);
    }
    store.update::<Customer, _, CustomerError>(&customer.id, |c| {
        c.soft_delete(now)?;
        Ok(c.clone())
    })
}

/// Undoes a soft delete within the grace period.
pub fn recover(
    store: &Store,
    customer: &Customer,
    grace: chrono::Duration,
    now: Timestamp,
) -> CustomerResult<Customer> {
    store.update::<Customer, _, CustomerError>(&customer.id, |c| {
        c.recover(now, grace)?;
        Ok(c.clone())
    })
}

/// Moves a customer to `new_key` (lowercase hex), as when they lost the
/// old one: whoever holds the old key is signed out everywhere at once.
pub fn set_key(store: &Store, customer_id: &str, new_key: &str) -> CustomerResult<Customer> {
    store.update::<Customer, _, CustomerError>(customer_id, |c| {
        c.public_key = new_key.to_owned();
        c.session_epoch += 1;
        c.updated_at = Timestamp::now();
        Ok(c.clone())
    })
}

/// The operator suspends a customer (or changes the reason): the accounts
/// worker then suspends every account of theirs in WHM, and checkout
/// refuses them new invoices. `reason` is kept for the operator, trimmed.
pub fn suspend(store: &Store, customer_id: &str, reason: &str) -> CustomerResult<Customer> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CustomerError::ReasonRequired);
    }
    store.update::<Customer, _, CustomerError>(customer_id, |c| {
        c.suspend(reason, Timestamp::now())?;
        Ok(c.clone())
    })
}

/// Lifts the operator's suspension of a customer: the accounts worker
/// unsuspends the accounts that are paid and not suspended by themselves.
pub fn unsuspend(store: &Store, customer_id: &str) -> CustomerResult<Customer> {
    store.update::<Customer, _, CustomerError>(customer_id, |c| {
        c.unsuspend(Timestamp::now())?;
        Ok(c.clone())
    })
}

/// The customer asks for another confirmation link for their address; at
/// most one every [`CONFIRMATION_INTERVAL`]. Answers whether one was asked.
pub fn ask_confirmation(store: &Store, customer_id: &str, now: Timestamp) -> CustomerResult<bool> {
    store.update::<Customer, _, CustomerError>(customer_id, |c| {
        let recent = c
            .email_confirmation_asked_at
            .is_some_and(|at| now.as_datetime() - at.as_datetime() < CONFIRMATION_INTERVAL);
        if c.email.is_none() || c.confirmed_email().is_some() || recent {
            return Ok(false);
        }
        c.email_confirmation_asked_at = Some(now);
        c.updated_at = now;
        Ok(true)
    })
}

/// How often a customer may ask for a confirmation link.
pub const CONFIRMATION_INTERVAL: chrono::Duration = chrono::Duration::minutes(10);

/// A trimmed email address that looks like one.
fn valid_email(email: &str) -> CustomerResult<String> {
    let email = email.trim();
    check_email(email).map_err(CustomerError::BadEmail)?;
    Ok(email.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> String {
        format!("{n:064x}")
    }

    #[test]
    fn registering_a_key_or_an_email_twice_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let alice = register(&store, &key(1), Some(" Alice@Example.com "), now).unwrap();
        assert_eq!(alice.email.as_deref(), Some("Alice@Example.com"), "the address is kept trimmed");
        assert!(matches!(register(&store, &key(1), None, now), Err(CustomerError::AlreadyRegistered)));
        assert!(matches!(register(&store, &key(2), Some("alice@example.com"), now), Err(CustomerError::EmailTaken)));
        assert!(matches!(register(&store, &key(3), Some("not an address"), now), Err(CustomerError::BadEmail(_))));
        assert_eq!(store.ids::<Customer>().unwrap().len(), 1, "refused sign-ups write nothing");
    }

    #[test]
    fn deleting_needs_the_own_npub_and_recovering_undoes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let alice = register(&store, &key(1), None, now).unwrap();
        let own_npub = super::super::npub(&alice.public_key).unwrap();
        let other_npub = super::super::npub(&key(2)).unwrap();
        assert!(matches!(delete(&store, &alice, None, now), Err(CustomerError::ConfirmationRequired)));
        assert!(matches!(delete(&store, &alice, Some(&other_npub), now), Err(CustomerError::WrongConfirmation)));
        let last = if own_npub.ends_with('q') { 'p' } else { 'q' };
        let one_off = format!("{}{last}", &own_npub[..own_npub.len() - 1]);
        assert!(matches!(delete(&store, &alice, Some(&one_off), now), Err(CustomerError::WrongConfirmation)));
        // Typed on a phone: spaces around it, an auto-capitalised first letter.
        let typed = format!("  N{}\n", &own_npub[1..]);
        let deleted = delete(&store, &alice, Some(&typed), now).unwrap();
        assert_eq!(deleted.status, CustomerStatus::Deleted);
        let change = ProfileChange { email: Some(Some("a@example.com".into())), ..ProfileChange::default() };
        assert!(matches!(update_profile(&store, &deleted, change), Err(CustomerError::Deleted)));
        let recovered = recover(&store, &deleted, chrono::Duration::days(30), now).unwrap();
        assert_eq!(recovered.status, CustomerStatus::Active);
    }

    #[test]
    fn suspending_needs_a_reason_and_is_stored_and_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let alice = register(&store, &key(1), None, Timestamp::now()).unwrap();
        assert!(matches!(suspend(&store, &alice.id, "  "), Err(CustomerError::ReasonRequired)));
        assert!(matches!(unsuspend(&store, &alice.id), Err(CustomerError::Lifecycle(LifecycleError::NotSuspended))));
        let suspended = suspend(&store, &alice.id, " fraud report ").unwrap();
        assert_eq!(suspended.suspend_reason.as_deref(), Some("fraud report"));
        let found = store.find_all(Customer::by_status(CustomerStatus::Suspended)).unwrap();
        assert_eq!(
            found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            [alice.id.as_str()],
            "the worker finds them"
        );
        assert_eq!(unsuspend(&store, &alice.id).unwrap().status, CustomerStatus::Active);
        assert!(store.find_all(Customer::by_status(CustomerStatus::Suspended)).unwrap().is_empty());
    }

    #[test]
    fn a_new_key_signs_the_old_one_out_and_must_be_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let alice = register(&store, &key(1), None, now).unwrap();
        register(&store, &key(2), None, now).unwrap();
        assert!(matches!(set_key(&store, &alice.id, &key(2)), Err(CustomerError::AlreadyRegistered)));
        let moved = set_key(&store, &alice.id, &key(3)).unwrap();
        assert_eq!((moved.public_key.as_str(), moved.session_epoch), (key(3).as_str(), alice.session_epoch + 1));
    }
}
