//! Confirming an email address before anything but the confirmation is
//! sent to it: a link with a signed token, `<customer id>.<expiry>.<mac>`.
//!
//! The MAC (HMAC-SHA256 under a key derived from the session secret for
//! this purpose alone) covers the customer, the address (as compared for
//! uniqueness) and the expiry, so a link confirms only the address it was
//! sent to, and stops working when the customer changes it. The token is
//! made when the message is sent and never stored.

use crate::customer::{Customer, email_key};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a confirmation link works.
pub const LIFETIME: chrono::Duration = chrono::Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmError {
    /// Not a token of this server, or for an address the customer no
    /// longer has (the two are not told apart).
    Invalid,
    Expired,
}

impl std::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConfirmError::Invalid => "this confirmation link is not valid (or the address was changed since)",
            ConfirmError::Expired => "this confirmation link has expired; ask for a new one on your profile",
        })
    }
}

/// Makes and checks confirmation tokens.
#[derive(Clone)]
pub struct Confirmations {
    key: Vec<u8>,
}

impl Confirmations {
    /// From the session secret; the derived key signs nothing else.
    pub fn new(secret: &[u8]) -> Confirmations {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"hostr email confirmation v1");
        Confirmations { key: mac.finalize().into_bytes().to_vec() }
    }

    fn mac(&self, customer_id: &str, email: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(format!("{customer_id}\0{}\0{expires}", email_key(email)).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn token(&self, customer_id: &str, email: &str, now: Timestamp) -> String {
        let expires = (now.as_datetime() + LIFETIME).timestamp();
        format!("{customer_id}.{expires}.{}", self.mac(customer_id, email, expires))
    }

    /// The customer a token names, before anything is checked.
    pub fn customer_of(token: &str) -> Option<&str> {
        token.split('.').next().filter(|id| crate::ids::IdFormat::Uuid.accepts(id))
    }

    /// Whether `token` confirms the address `customer` has now.
    pub fn check(&self, token: &str, customer: &Customer, now: Timestamp) -> Result<String, ConfirmError> {
        let mut parts = token.split('.');
        let (Some(id), Some(expires), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ConfirmError::Invalid);
        };
        let expires: i64 = expires.parse().map_err(|_| ConfirmError::Invalid)?;
        let email = customer.email.as_deref().ok_or(ConfirmError::Invalid)?;
        let expected = self.mac(id, email, expires);
        // Compared in constant time, as the MAC crate does.
        let same =
            expected.len() == mac.len() && expected.bytes().zip(mac.bytes()).fold(0, |d, (a, b)| d | (a ^ b)) == 0;
        if id != customer.id || !same {
            return Err(ConfirmError::Invalid);
        }
        if now.as_datetime().timestamp() > expires {
            return Err(ConfirmError::Expired);
        }
        Ok(email.to_owned())
    }

    /// Confirms the address `token` was sent to; answers the customer.
    pub fn confirm(&self, store: &Store, token: &str, now: Timestamp) -> Result<Customer, ConfirmOutcome> {
        let id = Confirmations::customer_of(token).ok_or(ConfirmOutcome::Refused(ConfirmError::Invalid))?;
        store.update::<Customer, _, ConfirmOutcome>(id, |c| {
            let email = self.check(token, c, now).map_err(ConfirmOutcome::Refused)?;
            c.confirmed_email = Some(email);
            c.updated_at = now;
            Ok(c.clone())
        })
    }
}

/// Why a confirmation did not happen.
#[derive(Debug)]
pub enum ConfirmOutcome {
    Refused(ConfirmError),
    Store(StoreError),
}

impl From<StoreError> for ConfirmOutcome {
    fn from(error: StoreError) -> ConfirmOutcome {
        match error {
            StoreError::NotFound { .. } => ConfirmOutcome::Refused(ConfirmError::Invalid),
            other => ConfirmOutcome::Store(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_confirms_only_its_address_and_only_in_time() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let id = "00000000-0000-4000-8000-00000000000c";
        let mut customer = Customer::new(id.into(), "ab".repeat(32), Some("a@x.co".into()), now);
        let confirmations = Confirmations::new(b"a session secret of enough length!!");
        let token = confirmations.token(id, "A@x.co", now);
        assert_eq!(Confirmations::customer_of(&token), Some(id));
        assert_eq!(confirmations.check(&token, &customer, now), Ok("a@x.co".into()), "compared without case");
        let late = Timestamp::from(now.as_datetime() + LIFETIME + chrono::Duration::seconds(1));
        assert_eq!(confirmations.check(&token, &customer, late), Err(ConfirmError::Expired));
        let other = Confirmations::new(b"another secret of enough length!!!!");
        assert_eq!(other.check(&token, &customer, now), Err(ConfirmError::Invalid), "another server's link");
        let tampered = token.replacen(".1", ".2", 1);
        assert_eq!(confirmations.check(&tampered, &customer, now), Err(ConfirmError::Invalid), "a longer life");
        customer.email = Some("b@x.co".into());
        assert_eq!(confirmations.check(&token, &customer, now), Err(ConfirmError::Invalid), "the address changed");
        for junk in ["", "x", "a.b.c.d", &format!("{id}.x.y")] {
            assert_eq!(confirmations.check(junk, &customer, now), Err(ConfirmError::Invalid), "{junk}");
        }
    }
}
