//! cPanel accounts: the hosting a customer has bought.
//!
//! Invariants: `username` follows WHM's rules and is unique; `domain` is a
//! lowercase hostname and unique; the account belongs to one customer.

use crate::ids::IdFormat;
use crate::store::{IndexKey, Invalid, Kind, Record, raw_string_keys};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Access available.
    Active,
    /// The paid period is over: access denied until payment.
    Expired,
    /// Set by the operator: access denied until review.
    Suspended,
}

/// Disk and bandwidth as last read from WHM, in megabytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUsage {
    pub disk_used_mb: u64,
    pub disk_limit_mb: Option<u64>,
    pub bandwidth_used_mb: u64,
    pub bandwidth_limit_mb: Option<u64>,
    pub read_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpanelAccount {
    pub id: String,
    pub username: String,
    pub domain: String,
    pub status: AccountStatus,
    #[serde(default)]
    pub resource_usage: Option<ResourceUsage>,
    pub customer_id: String,
    pub plan_id: String,
    pub paid_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// WHM's username rules: 1 to 8 of `a-z0-9`, not starting with a digit or `test`.
pub fn check_username(username: &str) -> Result<(), String> {
    let ok = (1..=8).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !username.as_bytes()[0].is_ascii_digit()
        && !username.starts_with("test");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{username}` is not a cPanel username: 1 to 8 lowercase letters and digits, \
             starting with a letter, not starting with `test`"
        ))
    }
}

/// A lowercase DNS hostname with at least two labels, such as `example.com`.
pub fn check_domain(domain: &str) -> Result<(), String> {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| label_ok(l))
        && !labels[labels.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if ok { Ok(()) } else { Err(format!("`{domain}` is not a domain name such as example.com")) }
}

impl Record for CpanelAccount {
    const KIND: Kind = Kind::CpanelAccount;
    const UNIQUE_FIELDS: &'static [&'static str] = &["username", "domain"];

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        check_username(&self.username).map_err(|m| Invalid::new("username", m))?;
        check_domain(&self.domain).map_err(|m| Invalid::new("domain", m))?;
        if !IdFormat::Uuid.accepts(&self.customer_id) {
            return Err(Invalid::new("customerId", format!("must be {}", IdFormat::Uuid.describe())));
        }
        if !IdFormat::Slug.accepts(&self.plan_id) {
            return Err(Invalid::new("planId", format!("must be {}", IdFormat::Slug.describe())));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        vec![
            ("username", self.username.clone()),
            ("domain", self.domain.clone()),
            ("customerId", self.customer_id.clone()),
        ]
    }

    fn salvage_unique_keys(raw: &serde_json::Map<String, serde_json::Value>) -> Vec<IndexKey> {
        raw_string_keys(raw, &["username", "domain"], str::to_ascii_lowercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_whm_rules() {
        for good in ["example", "a", "shop2024", "abcdefgh"] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["", "abcdefghi", "1shop", "testshop", "Shop", "sh-op", "sh_op"] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_are_lowercase_hostnames() {
        for good in ["example.com", "my-shop.example.co.uk", "a1.io"] {
            assert!(check_domain(good).is_ok(), "{good}");
        }
        for bad in ["", "localhost", "Example.com", "-a.com", "a-.com", "a..com", "1.2.3.4", "a_b.com", "a.com."] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
