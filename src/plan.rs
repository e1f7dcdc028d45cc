//! Hosting plans: what is for sale and at what price.
//!
//! Invariants: the id is a readable slug; the price is exact money; a plan
//! names the WHM package its accounts are created with. A plan is never
//! removed while accounts may name it: it is retired (`available: false`),
//! and its accounts keep it and renew at its current terms.

use crate::ids::IdFormat;
use crate::money::{Currency, Money};
use crate::prepay::{self, PrepayOption};
use crate::store::{Collection, Invalid, Record, Store, StoreResult};
use crate::timestamp::Timestamp;
use crate::whm_server::Fill;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

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
        self.after_periods(start, 1)
    }

    /// The end of `periods` periods that start at `start`, counted from
    /// `start` itself (the anchor), so that month ends do not drift: three
    /// months from 31 January end on 30 April, not on 28 April as three
    /// single renewals in a row would. At most [`Timestamp::MAX`].
    pub fn after_periods(self, start: Timestamp, periods: u32) -> Timestamp {
        self.periods_within_calendar(start, periods).unwrap_or(Timestamp::MAX)
    }

    /// The end of one period that starts at `start`, unless it would end
    /// past [`Timestamp::MAX`] (such a period cannot be sold whole).
    pub fn ends_within_calendar(self, start: Timestamp) -> Option<Timestamp> {
        self.periods_within_calendar(start, 1)
    }

    /// The end of `periods` periods from `start`, unless past [`Timestamp::MAX`].
    pub fn periods_within_calendar(self, start: Timestamp, periods: u32) -> Option<Timestamp> {
        let per_period = match self {
            BillingCycle::Monthly => 1,
            BillingCycle::Yearly => 12,
        };
        let months = chrono::Months::new(periods.checked_mul(per_period)?);
        let end = start.as_datetime().checked_add_months(months)?;
        (end <= Timestamp::MAX.as_datetime()).then(|| Timestamp::from(end))
    }
}

impl FromStr for BillingCycle {
    type Err = String;

    fn from_str(text: &str) -> Result<BillingCycle, String> {
        match text {
            "monthly" => Ok(BillingCycle::Monthly),
            "yearly" => Ok(BillingCycle::Yearly),
            other => Err(format!("`{other}` is not a billing cycle: use monthly or yearly")),
        }
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
    /// How many periods one purchase or renewal may buy at once, and their
    /// discounts (`crate::prepay`); a file without it offers one period.
    #[serde(default = "PrepayOption::only_one")]
    pub prepay: Vec<PrepayOption>,
    pub available: bool,
    /// The server group new accounts are placed in (`None`: every server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_group: Option<String>,
    /// How new accounts are spread over the group's servers.
    #[serde(default, skip_serializing_if = "is_least_full")]
    pub server_fill: Fill,
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
    pub prepay: Vec<PrepayOffer>,
}

/// One prepay choice as offered: the periods, the discount and the price.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepayOffer {
    pub periods: u32,
    pub discount_percent: Option<u32>,
    pub price: Option<Money>,
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
            prepay: PrepayOption::only_one(),
            available: true,
            server_group: None,
            server_fill: Fill::LeastFull,
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
            prepay: self
                .prepay
                .iter()
                .map(|o| PrepayOffer {
                    periods: o.periods,
                    discount_percent: o.discount_percent,
                    price: self.price_for(o.periods).ok(),
                })
                .collect(),
        }
    }

    /// The fewest periods the plan sells at once: what a purchase that does
    /// not say buys.
    pub fn smallest_prepay(&self) -> u32 {
        self.prepay.iter().map(|o| o.periods).min().unwrap_or(1)
    }

    /// What `periods` periods of this plan cost, if the plan offers them;
    /// else why not, in words for the customer.
    pub fn price_for(&self, periods: u32) -> Result<Money, String> {
        let option = prepay::choose(&self.prepay, periods)?;
        prepay::price_of(option, self.price, &self.currency)
            .ok_or_else(|| format!("{periods} periods of this plan cost more than an amount can be"))
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
        if let Err(why) = self.currency.check(self.price) {
            return Err(Invalid::new("price", why));
        }
        if self.accounts == 0 {
            return Err(Invalid::new("accounts", "must include at least 1 cPanel account"));
        }
        if let Err(why) = prepay::check(&self.prepay, self.price, &self.currency) {
            return Err(Invalid::new("prepay", why));
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
        if let Some(group) = self.server_group.as_deref().filter(|g| !IdFormat::Slug.accepts(g)) {
            return Err(Invalid::new("serverGroup", format!("`{group}` must be {}", IdFormat::Slug.describe())));
        }
        Ok(())
    }
}

/// The terms of a new plan (`hostr plan add`, the console's add).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPlan {
    pub id: String,
    pub name: String,
    pub storage: u32,
    pub bandwidth: u32,
    pub price: Money,
    pub currency: Currency,
    pub billing_cycle: BillingCycle,
    /// The plan's id when not given.
    #[serde(default)]
    pub whm_package: Option<String>,
    pub accounts: u32,
    /// One period at a time when not given.
    #[serde(default = "PrepayOption::only_one")]
    pub prepay: Vec<PrepayOption>,
    pub available: bool,
}

/// Adds a plan; the store checks it by the plan's rules and refuses an id
/// taken (`AlreadyExists`).
pub fn add(store: &Store, new: NewPlan) -> StoreResult<Plan> {
    let now = Timestamp::now();
    let plan = Plan {
        whm_package: new.whm_package.unwrap_or_else(|| new.id.clone()),
        id: new.id,
        name: new.name,
        storage: new.storage,
        bandwidth: new.bandwidth,
        price: new.price,
        currency: new.currency,
        billing_cycle: new.billing_cycle,
        accounts: new.accounts,
        prepay: new.prepay,
        available: new.available,
        server_group: None,
        server_fill: Default::default(),
        created_at: now,
        updated_at: now,
    };
    store.create(&plan)?;
    Ok(plan)
}

fn is_least_full(fill: &Fill) -> bool {
    *fill == Fill::LeastFull
}

/// A change to an existing plan: each field given replaces the plan's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanChange {
    pub name: Option<String>,
    pub storage: Option<u32>,
    pub bandwidth: Option<u32>,
    pub price: Option<Money>,
    pub currency: Option<Currency>,
    pub billing_cycle: Option<BillingCycle>,
    pub whm_package: Option<String>,
    pub accounts: Option<u32>,
    pub prepay: Option<Vec<PrepayOption>>,
    pub available: Option<bool>,
}

impl Plan {
    /// The plan with `change` applied; `updatedAt` moves only when
    /// something did.
    pub fn changed(&self, change: &PlanChange, now: Timestamp) -> Plan {
        let c = change.clone();
        let mut plan = Plan {
            name: c.name.unwrap_or_else(|| self.name.clone()),
            storage: c.storage.unwrap_or(self.storage),
            bandwidth: c.bandwidth.unwrap_or(self.bandwidth),
            price: c.price.unwrap_or(self.price),
            currency: c.currency.unwrap_or_else(|| self.currency.clone()),
            billing_cycle: c.billing_cycle.unwrap_or(self.billing_cycle),
            whm_package: c.whm_package.unwrap_or_else(|| self.whm_package.clone()),
            accounts: c.accounts.unwrap_or(self.accounts),
            prepay: c.prepay.unwrap_or_else(|| self.prepay.clone()),
            available: c.available.unwrap_or(self.available),
            ..self.clone()
        };
        if plan != *self {
            plan.updated_at = now;
        }
        plan
    }
}

/// Changes an existing plan through the store, which checks the result by
/// the same rules as a new plan's. Answers the plan before and after.
/// Payments already made keep their amount; new ones, purchases and
/// renewals alike, are at the new terms.
pub fn edit(store: &Store, id: &str, change: &PlanChange) -> StoreResult<(Plan, Plan)> {
    store.update(id, |plan: &mut Plan| {
        // 12.5 USD must not silently become 12.5 BTC.
        if change.price.is_none() && change.currency.as_ref().is_some_and(|c| *c != plan.currency) {
            return Err(crate::store::StoreError::Invalid {
                collection: Plan::COLLECTION,
                id: plan.id.clone(),
                invalid: Invalid::new("currency", "can change only together with a price in the new currency"),
            });
        }
        let before = plan.clone();
        *plan = plan.changed(change, Timestamp::now());
        Ok((before, plan.clone()))
    })
}

/// Stops selling a plan: it leaves the storefront, while the accounts that
/// have it keep it and can still renew.
pub fn retire(store: &Store, id: &str) -> StoreResult<(Plan, Plan)> {
    edit(store, id, &PlanChange { available: Some(false), ..PlanChange::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_replaces_only_what_it_names() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let t1 = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        let plan = Plan::seed(t0);
        let change = PlanChange { price: Some("7.5".parse().unwrap()), available: Some(false), ..Default::default() };
        let changed = plan.changed(&change, t1);
        assert_eq!((changed.price.minor(2), changed.available, changed.updated_at), (Some(750), false, t1));
        assert_eq!(Plan { price: plan.price, available: true, updated_at: t0, ..changed.clone() }, plan);
        assert_eq!(changed.changed(&change, t0).updated_at, t1, "a change that changes nothing keeps the date");
    }

    #[test]
    fn several_periods_end_counted_from_their_start_on_the_calendar() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let cases = [
            (BillingCycle::Monthly, "2026-01-31T10:00:00Z", 1, "2026-02-28T10:00:00Z"),
            (BillingCycle::Monthly, "2026-01-31T10:00:00Z", 3, "2026-04-30T10:00:00Z"),
            (BillingCycle::Monthly, "2027-11-30T00:00:00Z", 3, "2028-02-29T00:00:00Z"),
            (BillingCycle::Monthly, "2026-03-15T12:00:00Z", 12, "2027-03-15T12:00:00Z"),
            (BillingCycle::Yearly, "2028-02-29T00:00:00Z", 1, "2029-02-28T00:00:00Z"),
            (BillingCycle::Yearly, "2028-02-29T00:00:00Z", 12, "2040-02-29T00:00:00Z"),
        ];
        for (cycle, start, periods, end) in cases {
            assert_eq!(cycle.after_periods(at(start), periods), at(end), "{start} + {periods} {cycle:?}");
        }
        let late = at("9999-06-01T00:00:00Z");
        assert_eq!(BillingCycle::Monthly.periods_within_calendar(late, 6), Some(at("9999-12-01T00:00:00Z")));
        assert_eq!(BillingCycle::Monthly.periods_within_calendar(late, 12), None, "past the calendar's end");
        assert_eq!(BillingCycle::Monthly.after_periods(late, 12), Timestamp::MAX);
    }

    #[test]
    fn a_plan_file_from_before_prepaying_sells_one_period_and_bad_choices_are_refused() {
        let mut file = serde_json::to_value(Plan::seed(Timestamp::now())).unwrap();
        file.as_object_mut().unwrap().remove("prepay");
        let old: Plan = serde_json::from_value(file).expect("an old plan file still reads");
        assert_eq!((old.prepay.clone(), old.smallest_prepay()), (PrepayOption::only_one(), 1));
        assert!(old.validate().is_ok());
        assert_eq!(old.price_for(1).map(|m| m.to_string()), Ok("5".to_owned()));
        assert!(old.price_for(12).unwrap_err().contains("it offers 1"));
        let twice = Plan { prepay: vec![PrepayOption { periods: 2, discount_percent: None }], ..old };
        assert_eq!(twice.validate().unwrap_err().field, "prepay");
    }

    #[test]
    fn an_edit_is_checked_like_a_new_plan_and_a_refused_one_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create(&Plan::seed(Timestamp::now())).unwrap();
        let empty_name = PlanChange { name: Some(" ".into()), ..Default::default() };
        assert!(matches!(edit(&store, "basic", &empty_name), Err(crate::store::StoreError::Invalid { .. })));
        assert_eq!(store.get::<Plan>("basic").unwrap().name, "Web storage basic");
        let (before, after) = retire(&store, "basic").unwrap();
        assert!(before.available && !after.available);
        assert!(!store.get::<Plan>("basic").unwrap().available);
        assert!(matches!(retire(&store, "gone"), Err(crate::store::StoreError::NotFound { .. })));
        assert_eq!("yearly".parse(), Ok(BillingCycle::Yearly));
        assert!("weekly".parse::<BillingCycle>().unwrap_err().contains("monthly or yearly"));
    }
}
