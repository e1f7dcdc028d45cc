//! cPanel accounts: the hosting a customer has bought.
//!
//! Invariants: `username` follows WHM's rules and is unique; `domain` is a
//! lowercase hostname and unique (a TERMINATED account gives its domain
//! back), and is indexed under each domain it lies inside, so that nobody
//! else's domain nests in it or it in theirs; the account belongs to one
//! customer; each payment extends `paidUntil` at most once
//! (`appliedPayments`). `planId` is the plan in force now; a plan change
//! waiting for a renewal is `scheduledPlan`, and `whmPackage` is the WHM
//! package hostr last put the account on (or saw it on), which tells a change
//! of the file (hostr moves WHM) from a change made by hand in WHM (reported).

use crate::ids::IdFormat;
use crate::money::{Currency, Money};
use crate::plan::BillingCycle;
use crate::proration::Period;
use crate::store::{Collection, Invalid, Key, Record, raw_string_key};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Paid for, being created in WHM under the username recorded here.
    Provisioning,
    /// Access available.
    Active,
    /// The paid period is over: access denied until payment.
    Expired,
    /// Set by the operator: access denied until review.
    Suspended,
    /// Removed from WHM after a long expiry (only when the operator turned
    /// termination on). The record stays as history.
    Terminated,
}

impl AccountStatus {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Provisioning => "PROVISIONING",
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Expired => "EXPIRED",
            AccountStatus::Suspended => "SUSPENDED",
            AccountStatus::Terminated => "TERMINATED",
        }
    }
}

/// One payment's period, as added to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPayment {
    pub payment_id: String,
    pub from: Timestamp,
    pub until: Timestamp,
}

/// A plan change waiting for the account's next renewal (a downgrade, or
/// a move to a shorter cycle): no money moves for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledPlan {
    pub plan_id: String,
    /// When the renewal for it was paid: the start of that renewal's
    /// period, when the plan changes. None until then (it may be cancelled).
    #[serde(default)]
    pub from: Option<Timestamp>,
}

/// A `changepackage` hostr sent (or is about to send): written before the
/// call, so that after a crash or an unclear answer WHM is asked
/// (`accountsummary`) before the call is ever sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageRequest {
    pub package: String,
    pub requested_at: Timestamp,
}

/// What the current period is worth: the price it was bought at, which a
/// plan change credits (a later price change of the plan does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodPrice {
    pub amount: Money,
    pub currency: Currency,
    /// How many billing periods `amount` bought at once (prepaid, `crate::prepay`).
    #[serde(default = "one_period")]
    pub periods: u32,
}

fn one_period() -> u32 {
    1
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
    /// The WHM server that holds (or will hold) the account, chosen and
    /// written before `createacct` and never changed by hostr after;
    /// `None` (accounts made before there were several servers) is
    /// `whm_server::DEFAULT_SERVER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    pub paid_until: Option<Timestamp>,
    /// The operator's reason for a SUSPENDED account: private, never shown
    /// to the customer.
    #[serde(default)]
    pub suspend_reason: Option<String>,
    /// What the operator tells the customer about a suspension, shown on
    /// their profile (unlike `suspendReason`).
    #[serde(default)]
    pub public_message: Option<String>,
    /// The periods payments added to `paidUntil`, one entry per payment.
    #[serde(default)]
    pub applied_payments: Vec<AppliedPayment>,
    /// When `createacct` was last sent for this account: after a crash or an
    /// unclear answer, WHM is asked whether the account exists before any
    /// second attempt.
    #[serde(default)]
    pub create_requested_at: Option<Timestamp>,
    /// When WHM was seen to hold the account; until then the paying
    /// customer's account is still to be created, whatever its status.
    #[serde(default)]
    pub whm_created_at: Option<Timestamp>,
    /// When the operator last suspended or unsuspended the account (by
    /// command): the event the customer's notice announces.
    #[serde(default)]
    pub suspension_changed_at: Option<Timestamp>,
    /// For a further account of a plan with several (`Plan::accounts`): the
    /// account whose purchase is the subscription (the group's primary),
    /// which holds the group's plan, payments and `paidUntil`. None for a
    /// primary, and for every account from before groups existed.
    #[serde(default)]
    pub group_of: Option<String>,
    /// The WHM package hostr last put the account on or saw it on.
    #[serde(default)]
    pub whm_package: Option<String>,
    /// A `changepackage` sent and not yet seen to have taken effect.
    #[serde(default)]
    pub package_request: Option<PackageRequest>,
    /// A plan change waiting for the next renewal.
    #[serde(default)]
    pub scheduled_plan: Option<ScheduledPlan>,
    /// The price the current period was bought at (files from before it
    /// was recorded have none: the plan's price stands in).
    #[serde(default)]
    pub period_price: Option<PeriodPrice>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a group's further accounts take from its primary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTerms {
    pub plan_id: String,
    pub paid_until: Option<Timestamp>,
}

impl CpanelAccount {
    /// A new account, paid for but not yet created in WHM.
    pub fn provisioning(
        id: &str,
        username: &str,
        domain: &str,
        customer_id: &str,
        plan_id: &str,
        now: Timestamp,
    ) -> CpanelAccount {
        CpanelAccount {
            id: id.to_owned(),
            username: username.to_owned(),
            domain: domain.to_owned(),
            status: AccountStatus::Provisioning,
            resource_usage: None,
            customer_id: customer_id.to_owned(),
            plan_id: plan_id.to_owned(),
            server_id: None,
            paid_until: None,
            suspend_reason: None,
            public_message: None,
            applied_payments: Vec::new(),
            create_requested_at: None,
            whm_created_at: None,
            suspension_changed_at: None,
            group_of: None,
            whm_package: None,
            package_request: None,
            scheduled_plan: None,
            period_price: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Adds one billing period bought by `payment_id` to `paidUntil`,
    /// counting from the later of now and the old end; once per payment (a
    /// second call answers the period added the first time). An EXPIRED or
    /// PROVISIONING account becomes ACTIVE; an operator's suspension stays.
    pub fn apply_payment(&mut self, payment_id: &str, cycle: BillingCycle, now: Timestamp) -> (Timestamp, Timestamp) {
        self.apply_periods(payment_id, cycle, 1, now)
    }

    /// As [`CpanelAccount::apply_payment`], for a payment that bought
    /// `periods` periods at once: they are added together, once, counted
    /// from the same start (`BillingCycle::after_periods`).
    pub fn apply_periods(
        &mut self,
        payment_id: &str,
        cycle: BillingCycle,
        periods: u32,
        now: Timestamp,
    ) -> (Timestamp, Timestamp) {
        if let Some(applied) = self.applied_payments.iter().find(|p| p.payment_id == payment_id) {
            return (applied.from, applied.until);
        }
        let from = self.renews_from(now);
        let until = cycle.after_periods(from, periods);
        self.paid_until = Some(until);
        self.applied_payments.push(AppliedPayment { payment_id: payment_id.to_owned(), from, until });
        if matches!(self.status, AccountStatus::Provisioning | AccountStatus::Expired) {
            self.status = AccountStatus::Active;
        }
        self.updated_at = now;
        (from, until)
    }

    /// The group's primary: the account that holds its `paidUntil` (itself
    /// for a primary or a single account).
    pub fn primary_id(&self) -> &str {
        self.group_of.as_deref().unwrap_or(&self.id)
    }

    /// What this account, as a group's primary, gives its further accounts.
    pub fn group_terms(&self) -> GroupTerms {
        GroupTerms { plan_id: self.plan_id.clone(), paid_until: self.paid_until }
    }

    /// Brings a further account of a group in line with its primary, the
    /// one place the group's plan and paid period live: the same `planId`
    /// (the accounts worker then moves its WHM package, as for any plan
    /// change) and `paidUntil`, and ACTIVE again once that is paid (as a
    /// renewal makes the primary). An operator's suspension of this one
    /// site stays. Whether it changed.
    pub fn follow_primary(&mut self, primary: &GroupTerms, now: Timestamp) -> bool {
        let before = (self.paid_until, self.status, self.plan_id.clone());
        self.paid_until = primary.paid_until;
        self.plan_id.clone_from(&primary.plan_id);
        if self.status == AccountStatus::Expired && self.is_paid(now) {
            self.status = AccountStatus::Active;
        }
        let changed = before != (self.paid_until, self.status, self.plan_id.clone());
        if changed {
            self.updated_at = now;
        }
        changed
    }

    /// Starts a new period at `from` for a change of billing cycle bought by
    /// `payment_id` (the old period's rest was credited); once per payment.
    pub fn restart_period(&mut self, payment_id: &str, from: Timestamp, cycle: BillingCycle) -> (Timestamp, Timestamp) {
        if let Some(applied) = self.applied_payments.iter().find(|p| p.payment_id == payment_id) {
            return (applied.from, applied.until);
        }
        let until = cycle.after(from);
        self.paid_until = Some(until);
        self.applied_payments.push(AppliedPayment { payment_id: payment_id.to_owned(), from, until });
        (from, until)
    }

    /// The paid period the account is in at `now`: the applied payment
    /// whose period holds `now` and ends at `paidUntil`, else (a hand-set
    /// `paidUntil`) one `cycle` back from it. `None` when unpaid, paid
    /// indefinitely, or when a later period is already paid (renewed ahead).
    pub fn current_period(&self, now: Timestamp, cycle: BillingCycle) -> Option<Period> {
        let end = self.paid_until.filter(|until| *until > now)?;
        let holding = self.applied_payments.iter().rev().find(|p| p.from <= now && now < p.until);
        match holding {
            Some(p) if p.until == end => Some(Period { start: p.from, end }),
            Some(_) => None,
            None if self.applied_payments.iter().any(|p| p.from > now) => None,
            None => {
                let months = chrono::Months::new(if cycle == BillingCycle::Yearly { 12 } else { 1 });
                let start = end.as_datetime().checked_sub_months(months)?;
                Some(Period { start: Timestamp::from(start), end })
            }
        }
    }

    /// Moves to the scheduled plan once its period has begun; true when it did.
    pub fn switch_due_plan(&mut self, now: Timestamp) -> bool {
        let Some(scheduled) = self.scheduled_plan.as_ref().filter(|s| s.from.is_some_and(|from| from <= now)) else {
            return false;
        };
        self.plan_id = scheduled.plan_id.clone();
        self.scheduled_plan = None;
        self.updated_at = now;
        true
    }

    /// Where a period paid at `now` starts: the later of now and the old end.
    pub fn renews_from(&self, now: Timestamp) -> Timestamp {
        self.paid_until.map_or(now, |until| until.max(now))
    }

    /// The id of the WHM server the account lives on.
    pub fn server(&self) -> &str {
        self.server_id.as_deref().unwrap_or(crate::whm_server::DEFAULT_SERVER)
    }

    /// Paid for at `now` (an account without `paidUntil` is paid indefinitely,
    /// as an operator may set by hand).
    pub fn is_paid(&self, now: Timestamp) -> bool {
        self.paid_until.is_none_or(|until| until > now)
    }
}

/// WHM's username rules: 1 to 8 of `a-z0-9`, not starting with a digit or
/// `test`, not ending in `assword`.
pub fn check_username(username: &str) -> Result<(), String> {
    let ok = (1..=8).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !username.as_bytes()[0].is_ascii_digit()
        && !username.starts_with("test")
        && !username.ends_with("assword");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{username}` is not a cPanel username: 1 to 8 lowercase letters and digits, \
             starting with a letter, not starting with `test`, not ending in `assword`"
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

/// The domain a customer asks for, as hostr records it: trimmed, without
/// the trailing dot, in its ASCII form (`bücher.de` is `xn--bcher-kva.de`,
/// by IDNA's UTS #46 rules, which also lowercase it), and without leading
/// `www.` labels (cPanel serves `www.` itself, so `www.www.shop.example` is
/// `shop.example`) as long as what is left is still a domain (`www.com`
/// stays). The result is checked with [`check_domain`].
pub fn purchase_domain(asked: &str) -> Result<String, String> {
    let trimmed = asked.trim().trim_end_matches('.');
    let mut domain = idna::domain_to_ascii(trimmed)
        .map_err(|_| format!("`{trimmed}` is not a domain name such as example.com or bücher.de"))?;
    while let Some(rest) = domain.strip_prefix("www.").filter(|rest| rest.contains('.')) {
        domain = rest.to_owned();
    }
    check_domain(&domain)?;
    Ok(domain)
}

/// The domains `domain` lies inside, nearest first, down to two labels:
/// `a.b.example.com` → `b.example.com`, `example.com`.
pub fn parent_domains(domain: &str) -> impl Iterator<Item = &str> {
    domain.match_indices('.').map(move |(dot, _)| &domain[dot + 1..]).filter(|parent| parent.contains('.'))
}

impl Record for CpanelAccount {
    const COLLECTION: Collection =
        Collection { folder: "cpanel-accounts", noun: "cPanel account", id_format: IdFormat::Uuid };

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
        if let Some(primary) = &self.group_of
            && (!IdFormat::Uuid.accepts(primary) || *primary == self.id)
        {
            return Err(Invalid::new("groupOf", "must be the id of another account, the group's primary"));
        }
        if let Some(scheduled) = &self.scheduled_plan
            && !IdFormat::Slug.accepts(&scheduled.plan_id)
        {
            return Err(Invalid::new("scheduledPlan", format!("planId must be {}", IdFormat::Slug.describe())));
        }
        if let Some(price) = &self.period_price
            && let Err(why) = price.currency.check(price.amount)
        {
            return Err(Invalid::new("periodPrice", why));
        }
        if self.server_id.as_deref().is_some_and(|s| !IdFormat::Slug.accepts(s)) {
            return Err(Invalid::new("serverId", format!("must be {}", IdFormat::Slug.describe())));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<CpanelAccount>> {
        let mut keys = vec![CpanelAccount::by_username(&self.username), CpanelAccount::by_customer(&self.customer_id)];
        keys.extend(self.group_of.as_deref().map(CpanelAccount::in_group));
        // A removed account's domain may be bought again.
        if self.status != AccountStatus::Terminated {
            keys.push(CpanelAccount::by_domain(&self.domain));
            keys.push(CpanelAccount::on_server(self.server()));
            keys.extend(parent_domains(&self.domain).map(CpanelAccount::inside));
        }
        keys
    }

    fn salvage_unique_keys(raw: &serde_json::Map<String, serde_json::Value>) -> Vec<Key<CpanelAccount>> {
        let lowercase = |key: fn(&str) -> Key<CpanelAccount>| move |v: &str| key(&v.to_ascii_lowercase());
        let username = raw_string_key(raw, "username", lowercase(CpanelAccount::by_username));
        username.into_iter().chain(raw_string_key(raw, "domain", lowercase(CpanelAccount::by_domain))).collect()
    }
}

impl CpanelAccount {
    /// The account with this WHM username.
    pub fn by_username(username: &str) -> Key<CpanelAccount> {
        Key::unique("username", username)
    }

    /// The account hosting this domain, unless it was terminated.
    pub fn by_domain(domain: &str) -> Key<CpanelAccount> {
        Key::unique("domain", domain)
    }

    /// The accounts, unless terminated, whose domains lie inside `domain`
    /// (`shop.example.com` and `a.shop.example.com` inside `example.com`).
    pub fn inside(domain: &str) -> Key<CpanelAccount> {
        Key::shared("insideDomain", domain)
    }

    /// The accounts, unless terminated, on one WHM server (those without
    /// `serverId` on the default one): what counts against its `maxAccounts`.
    pub fn on_server(server_id: &str) -> Key<CpanelAccount> {
        Key::shared("serverId", server_id)
    }

    /// The accounts of one customer.
    pub fn by_customer(customer_id: &str) -> Key<CpanelAccount> {
        Key::shared("customerId", customer_id)
    }

    /// The further accounts of the group whose primary is `primary_id`.
    pub fn in_group(primary_id: &str) -> Key<CpanelAccount> {
        Key::shared("groupOf", primary_id)
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
    fn a_further_account_follows_its_primarys_paid_period() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let now = t("2026-12-01T00:00:00Z");
        let primary = CpanelAccount {
            status: AccountStatus::Active,
            paid_until: Some(t("2027-01-01T00:00:00Z")),
            ..CpanelAccount::provisioning("p", "shop", "shop.example", "c", "trio", now)
        };
        let member = |status, paid_until| CpanelAccount {
            status,
            paid_until,
            group_of: Some("p".into()),
            ..CpanelAccount::provisioning("m", "blog", "blog.example", "c", "trio", now)
        };
        let cases = [
            (AccountStatus::Expired, Some(t("2026-11-01T00:00:00Z")), AccountStatus::Active, true),
            (AccountStatus::Active, Some(t("2027-01-01T00:00:00Z")), AccountStatus::Active, false),
            (AccountStatus::Suspended, None, AccountStatus::Suspended, true),
            (AccountStatus::Provisioning, None, AccountStatus::Provisioning, true),
        ];
        for (status, until, after, changed) in cases {
            let mut m = member(status, until);
            assert_eq!(m.follow_primary(&primary.group_terms(), now), changed, "{status:?}");
            assert_eq!((m.status, m.paid_until, m.primary_id()), (after, primary.paid_until, "p"), "{status:?}");
        }
        // A plan change of the primary (paid or by the operator) is the group's.
        let upgraded = CpanelAccount { plan_id: "quartet".into(), ..primary.clone() };
        let mut m = member(AccountStatus::Active, primary.paid_until);
        assert!(m.follow_primary(&upgraded.group_terms(), now), "a new plan is a change");
        assert_eq!(m.plan_id, "quartet");
        let lapsed = CpanelAccount { paid_until: Some(t("2026-11-01T00:00:00Z")), ..primary.clone() };
        let mut m = member(AccountStatus::Expired, None);
        m.follow_primary(&lapsed.group_terms(), now);
        assert_eq!(m.status, AccountStatus::Expired, "not paid: stays expired");
        assert_eq!(primary.primary_id(), "p");
        assert!(CpanelAccount { group_of: Some("p".into()), ..primary.clone() }.validate().is_err(), "not itself");
    }

    #[test]
    fn a_payment_extends_the_paid_period_once() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let mut account = CpanelAccount {
            status: AccountStatus::Active,
            paid_until: Some(t("2026-12-10T00:00:00Z")),
            ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", t("2026-11-10T00:00:00Z"))
        };
        let now = t("2026-11-25T00:00:00Z");
        // Early renewal: from the old end, not from now.
        let period = account.apply_payment("p1", BillingCycle::Monthly, now);
        assert_eq!(period, (t("2026-12-10T00:00:00Z"), t("2027-01-10T00:00:00Z")));
        assert_eq!(account.apply_payment("p1", BillingCycle::Monthly, now), period, "the same period, not another");
        assert_eq!(account.paid_until, Some(t("2027-01-10T00:00:00Z")));
        // Late renewal of an expired account: from now, and ACTIVE again.
        account.status = AccountStatus::Expired;
        let later = t("2027-02-01T00:00:00Z");
        assert_eq!(account.apply_payment("p2", BillingCycle::Yearly, later), (later, t("2028-02-01T00:00:00Z")));
        assert_eq!(account.status, AccountStatus::Active);
        // An operator's suspension stays.
        account.status = AccountStatus::Suspended;
        account.apply_payment("p3", BillingCycle::Monthly, later);
        assert_eq!(account.status, AccountStatus::Suspended);
        assert_eq!(account.applied_payments.len(), 3);
    }

    #[test]
    fn the_current_period_is_the_paid_one_holding_now() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let mut account = CpanelAccount {
            status: AccountStatus::Active,
            ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", t("2026-01-10T00:00:00Z"))
        };
        let (monthly, now) = (BillingCycle::Monthly, t("2026-01-20T00:00:00Z"));
        assert_eq!(account.current_period(now, monthly), None, "never paid");
        account.apply_payment("p1", monthly, t("2026-01-10T00:00:00Z"));
        let january = Period { start: t("2026-01-10T00:00:00Z"), end: t("2026-02-10T00:00:00Z") };
        assert_eq!(account.current_period(now, monthly), Some(january));
        assert_eq!(account.current_period(t("2026-02-10T00:00:00Z"), monthly), None, "over");
        account.apply_payment("p2", monthly, now);
        assert_eq!(account.current_period(now, monthly), None, "renewed ahead");
        // A paidUntil set by hand: one cycle back from it.
        let by_hand = CpanelAccount { applied_payments: Vec::new(), ..account.clone() };
        let february = Period { start: t("2026-02-10T00:00:00Z"), end: t("2026-03-10T00:00:00Z") };
        assert_eq!(by_hand.current_period(t("2026-02-20T00:00:00Z"), monthly), Some(february));
        // A cycle change restarts the period now, once.
        let restarted = account.restart_period("p3", now, BillingCycle::Yearly);
        assert_eq!(restarted, (now, t("2027-01-20T00:00:00Z")));
        assert_eq!(account.restart_period("p3", t("2026-06-01T00:00:00Z"), BillingCycle::Yearly), restarted);
        assert_eq!(account.current_period(now, BillingCycle::Yearly).map(|p| p.end), Some(t("2027-01-20T00:00:00Z")));
    }

    #[test]
    fn a_scheduled_plan_takes_over_when_its_paid_period_begins() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let mut account =
            CpanelAccount::provisioning("a", "shop", "shop.example", "c", "pro", t("2026-01-01T00:00:00Z"));
        account.scheduled_plan = Some(ScheduledPlan { plan_id: "basic".into(), from: None });
        assert!(!account.switch_due_plan(t("2030-01-01T00:00:00Z")), "not before its renewal is paid");
        account.scheduled_plan = Some(ScheduledPlan { plan_id: "basic".into(), from: Some(t("2026-02-01T00:00:00Z")) });
        assert!(!account.switch_due_plan(t("2026-01-31T23:59:59Z")));
        assert_eq!(account.plan_id, "pro");
        assert!(account.switch_due_plan(t("2026-02-01T00:00:00Z")));
        assert_eq!((account.plan_id.as_str(), &account.scheduled_plan), ("basic", &None));
    }

    #[test]
    fn asked_domains_lose_case_trailing_dot_and_every_leading_www() {
        let cases = [
            (" Shop.Example. ", Ok("shop.example")),
            ("www.shop.example", Ok("shop.example")),
            ("www.www.shop.example", Ok("shop.example")),
            ("WWW.www.Www.shop.example", Ok("shop.example")),
            ("mail.www.shop.example", Ok("mail.www.shop.example")),
            ("www.com", Ok("www.com")),
            ("www.www.com", Ok("www.com")),
            ("wwwshop.example", Ok("wwwshop.example")),
            ("www.", Err(())),
            ("www", Err(())),
            // Internationalised domains are kept in their ASCII (punycode) form.
            ("bücher.de", Ok("xn--bcher-kva.de")),
            ("www.BÜCHER.de", Ok("xn--bcher-kva.de")),
            ("xn--bcher-kva.de", Ok("xn--bcher-kva.de")),
            ("例え.テスト", Ok("xn--r8jz45g.xn--zckzah")),
            ("shop example.com", Err(())),
            ("a..b", Err(())),
        ];
        for (asked, expected) in cases {
            let got = purchase_domain(asked);
            assert_eq!(got.as_deref().map_err(|_| ()), expected, "{asked:?}");
        }
    }

    #[test]
    fn a_domain_lies_inside_each_of_its_parents_down_to_two_labels() {
        let parents = |d: &'static str| parent_domains(d).collect::<Vec<_>>();
        assert_eq!(parents("a.b.example.com"), ["b.example.com", "example.com"]);
        assert_eq!(parents("shop.example"), Vec::<&str>::new());
        assert_eq!(parents("mail.alice-shop.com"), ["alice-shop.com"]);
        let account = |status, domain| CpanelAccount {
            status,
            ..CpanelAccount::provisioning("a", "shop", domain, "c", "basic", Timestamp::MIN)
        };
        let keys = account(AccountStatus::Active, "mail.alice-shop.com").index_keys();
        assert!(keys.contains(&CpanelAccount::inside("alice-shop.com")));
        assert!(!keys.contains(&CpanelAccount::inside("mail.alice-shop.com")), "not inside itself");
        let gone = account(AccountStatus::Terminated, "mail.alice-shop.com").index_keys();
        assert!(!gone.contains(&CpanelAccount::inside("alice-shop.com")), "a removed account holds nothing");
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
