//! Hosting plans: what is for sale and at what price.
//!
//! Invariants: the id is a readable slug; the price is exact money; a plan
//! names the WHM package its accounts are created with.

use crate::ids::IdFormat;
use crate::money::{Currency, Money};
use crate::store::{Collection, Invalid, Record};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingCycle {
    Monthly,
    Yearly,
}

impl BillingCycle {
    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingCycle::Monthly => "monthly",
            BillingCycle::Yearly => "yearly",
        }
    }

    /// The end of one period that starts at `start` (the same day of the
    /// month, or the month's last day when it is shorter), at most
    /// [`Timestamp::MAX`].
    pub fn after(self, start: Timestamp) -> Timestamp {
        self.ends_within_calendar(start).unwrap_or(Timestamp::MAX)
    }

    /// The end of one period that starts at `start`, unless it would end
    /// past [`Timestamp::MAX`] (such a period cannot be sold whole).
    pub fn ends_within_calendar(self, start: Timestamp) -> Option<Timestamp> {
        let months = chrono::Months::new(match self {
            BillingCycle::Monthly => 1,
            BillingCycle::Yearly => 12,
        });
        let end = start.as_datetime().checked_add_months(months)?;
        (end <= Timestamp::MAX.as_datetime()).then(|| Timestamp::from(end))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: String,
    pub name: String,
    /// Disk space in GB.
    pub storage: u32,
    /// Monthly transfer in GB.
    pub bandwidth: u32,
    pub price: Money,
    #[serde(default)]
    pub currency: Currency,
    pub billing_cycle: BillingCycle,
    pub whm_package: String,
    /// How many cPanel accounts the plan includes.
    pub accounts: u32,
    pub available: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The public view of a plan, as `GET /api/plans` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanOffer<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub storage: u32,
    pub bandwidth: u32,
    pub price: Money,
    pub currency: &'a Currency,
    pub billing_cycle: BillingCycle,
    pub accounts: u32,
}

impl Plan {
    /// The plan written into an empty database on first start.
    pub fn seed(now: Timestamp) -> Plan {
        Plan {
            id: "basic".to_owned(),
            name: "Web storage basic".to_owned(),
            storage: 10,
            bandwidth: 100,
            price: Money::from_cents(500).expect("a constant amount within range"),
            currency: Currency::usd(),
            billing_cycle: BillingCycle::Monthly,
            whm_package: "basic".to_owned(),
            accounts: 1,
            available: true,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn offer(&self) -> PlanOffer<'_> {
        PlanOffer {
            id: &self.id,
            name: &self.name,
            storage: self.storage,
            bandwidth: self.bandwidth,
            price: self.price,
            currency: &self.currency,
            billing_cycle: self.billing_cycle,
            accounts: self.accounts,
        }
    }
}

impl Record for Plan {
    const COLLECTION: Collection = Collection { folder: "plans", noun: "plan", id_format: IdFormat::Slug };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(Invalid::new("name", "must be 1 to 100 characters"));
        }
        if self.storage == 0 {
            return Err(Invalid::new("storage", "must be at least 1 GB"));
        }
        if self.accounts == 0 {
            return Err(Invalid::new("accounts", "must include at least 1 cPanel account"));
        }
        let package_ok = !self.whm_package.is_empty()
            && self.whm_package.len() <= 64
            && self.whm_package.chars().all(|c| c.is_ascii_alphanumeric() || "_- .".contains(c));
        if !package_ok {
            return Err(Invalid::new(
                "whmPackage",
                "must be the name of a WHM package: 1 to 64 letters, digits, spaces, dots, dashes or underscores",
            ));
        }
        Ok(())
    }
}
