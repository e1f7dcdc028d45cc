//! Customers: the people who sign in with a Nostr key and buy hosting.
//!
//! Invariants: `publicKey` is 64 lowercase hex digits and unique; `email`,
//! when set, is a plausible address and unique regardless of letter case.

use crate::ids::{IdFormat, is_public_key_hex};
use crate::store::{IndexKey, Invalid, Kind, Record};
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Customer {
    pub fn new(id: String, public_key: String, email: Option<String>, now: Timestamp) -> Customer {
        Customer {
            id,
            public_key,
            email,
            status: CustomerStatus::Active,
            plan_id: None,
            cpanel_account_ids: Vec::new(),
            payment_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        }
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
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{email}` is not an email address such as name@example.com"
        ))
    }
}

impl Record for Customer {
    const KIND: Kind = Kind::Customer;
    const UNIQUE_FIELDS: &'static [&'static str] = &["publicKey", "email"];

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
            return Err(Invalid::new(
                "planId",
                format!("must be {}", IdFormat::Slug.describe()),
            ));
        }
        for (field, ids) in [
            ("cpanelAccountIds", &self.cpanel_account_ids),
            ("paymentIds", &self.payment_ids),
        ] {
            if let Some(bad) = ids.iter().find(|id| !IdFormat::Uuid.accepts(id)) {
                return Err(Invalid::new(
                    field,
                    format!("`{bad}` is not {}", IdFormat::Uuid.describe()),
                ));
            }
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        let mut keys = vec![("publicKey", self.public_key.clone())];
        if let Some(email) = &self.email {
            keys.push(("email", email_key(email)));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_loosely_and_compared_without_case() {
        for good in ["a@b.co", "Name.Surname+tag@example.org"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.co", "a@co.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(email_key(" Alice@Example.COM "), "alice@example.com");
    }
}

/// A public key as a client or operator may write it (64 hex digits or
/// `npub1…`), in its stored form: lowercase hex.
pub fn parse_public_key(text: &str) -> Result<String, String> {
    nostr::key::PublicKey::parse(text.trim())
        .map(|key| key.to_hex())
        .map_err(|_| {
            format!("`{text}` is not a Nostr public key: give 64 hex digits or an npub1… key")
        })
}

/// The `npub1…` form of a stored hex key.
pub fn npub(public_key_hex: &str) -> Option<String> {
    use nostr::nips::nip19::ToBech32;
    nostr::key::PublicKey::from_hex(public_key_hex)
        .ok()?
        .to_bech32()
        .ok()
}

#[cfg(test)]
mod key_tests {
    use super::*;

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
