//! Changing an ACTIVE account's plan, by the customer.
//!
//! What a change is and costs is `crate::proration`'s rule:
//! - an **upgrade** (same cycle, dearer) or a **cycle change** (to a longer
//!   cycle) is a Payment of that `kind` for the prorated amount, opened like
//!   any purchase (one open payment per account, shared with renewals); the
//!   accounts worker moves the plan and the WHM package once it is PAID;
//! - anything else is **scheduled** for the next renewal (`scheduledPlan`):
//!   the renewal invoice is for the new plan, nothing is ever refunded, and
//!   the customer may cancel it until that renewal is paid.
//!
//! Before a smaller plan is scheduled, the account's disk use (as last read
//! from WHM into `resourceUsage`) must fit the new plan's storage; the
//! refusal names both figures. The period credited is the one the account
//! is in (`CpanelAccount::current_period`), valued at the price it was
//! bought at (`periodPrice`; the plan's price for older files).

use super::{Checkout, CheckoutError, CheckoutResult};
use crate::cpanel_account::{AccountStatus, CpanelAccount, ScheduledPlan};
use crate::customer::{Customer, CustomerStatus};
use crate::money::Money;
use crate::payment::{Payment, PaymentKind, PaymentState};
use crate::plan::Plan;
use crate::prepay::{self, PrepayOption};
use crate::proration::{self, ChangeKind, Proration, ProrationError};
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use std::fmt;

/// Why a plan change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChangeRefusal {
    /// Only an ACTIVE account changes plan.
    NotActive(AccountStatus),
    Proration(ProrationError),
    /// A later period is paid already: the change waits until it begins.
    RenewedAhead {
        paid_until: Timestamp,
    },
    /// A change to this plan is scheduled already; cancel it first.
    Scheduled {
        plan_id: String,
    },
    /// The account uses more disk than the smaller plan holds.
    DiskTooLarge {
        used_mb: u64,
        quota_mb: u64,
    },
    /// The renewal for the scheduled plan is paid: it takes over on `from`.
    Locked {
        from: Timestamp,
    },
    NothingScheduled,
    /// The group has more live sites than the new plan includes.
    TooManySites {
        sites: usize,
        included: u32,
    },
    /// The credit covers the whole new price: nothing to invoice.
    NothingToPay,
}

impl fmt::Display for PlanChangeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanChangeRefusal::NotActive(status) => {
                write!(f, "only an ACTIVE account can change plan; this one is {}", status.as_str())
            }
            PlanChangeRefusal::Proration(error) => write!(f, "{error}"),
            PlanChangeRefusal::RenewedAhead { paid_until } => write!(
                f,
                "the account is already renewed for a later period (paid until {paid_until}); \
                 change the plan once that period has begun"
            ),
            PlanChangeRefusal::Scheduled { plan_id } => {
                write!(f, "a change to plan {plan_id} is scheduled for the next renewal; cancel it first")
            }
            PlanChangeRefusal::DiskTooLarge { used_mb, quota_mb } => write!(
                f,
                "the account uses {used_mb} MB of disk and the new plan holds {quota_mb} MB; \
                 free {} MB first",
                used_mb - quota_mb
            ),
            PlanChangeRefusal::Locked { from } => {
                write!(
                    f,
                    "the renewal for the new plan is paid; the plan changes on {from} and can no longer be cancelled"
                )
            }
            PlanChangeRefusal::NothingScheduled => write!(f, "no plan change is scheduled for this account"),
            PlanChangeRefusal::TooManySites { sites, included } => write!(
                f,
                "this plan has {sites} sites and the new plan includes {included}; remove {} first",
                sites - *included as usize
            ),
            PlanChangeRefusal::NothingToPay => write!(
                f,
                "what is left of the current period covers the new plan's whole price; ask the operator to make this change"
            ),
        }
    }
}

/// A change as it would be made now: the plans, and its price.
#[derive(Debug, Clone)]
pub struct ChangeQuote {
    pub account: CpanelAccount,
    pub from: Plan,
    pub to: Plan,
    pub proration: Proration,
}

/// What asking for a change did.
#[derive(Debug, Clone)]
pub enum ChangeOutcome {
    /// A payment to make (upgrade, cycle change).
    Invoiced(Box<Payment>),
    /// Written into the account for its next renewal.
    Scheduled(Box<CpanelAccount>),
}

/// The old and the new price of what a change compares: the period as
/// bought (for as many periods as were prepaid together; the plan's price for
/// older files), and the new plan for as many periods, at its prepay price
/// when it offers that many, else at its full price. A cycle change buys one
/// period of the new cycle.
fn prices(account: &CpanelAccount, from: &Plan, to: &Plan, kind: ChangeKind) -> CheckoutResult<(Money, Money)> {
    let paid = account.period_price.as_ref().filter(|p| p.currency == from.currency);
    let (old, periods) = paid.map_or((from.price, 1), |p| (p.amount, p.periods));
    let periods = if kind == ChangeKind::CycleChange { 1 } else { periods };
    let full = PrepayOption { periods, discount_percent: None };
    let new = to.price_for(periods).ok().or_else(|| prepay::price_of(full, to.price, &to.currency));
    let new = new.ok_or_else(|| refused(PlanChangeRefusal::Proration(ProrationError::NotWhole(to.price))))?;
    Ok((old, new))
}

fn refused(refusal: PlanChangeRefusal) -> CheckoutError {
    CheckoutError::PlanChange(refusal)
}

impl Checkout {
    /// What changing `account_id` to `plan_id` would be and cost now.
    pub fn quote_change(&self, customer: &Customer, account_id: &str, plan_id: &str) -> CheckoutResult<ChangeQuote> {
        match customer.status {
            CustomerStatus::Active => {}
            CustomerStatus::Suspended => return Err(CheckoutError::CustomerSuspended),
            CustomerStatus::Deleted => return Err(CheckoutError::CustomerDeleted),
        }
        let account = self.group_primary(customer, account_id)?;
        if account.status != AccountStatus::Active {
            return Err(refused(PlanChangeRefusal::NotActive(account.status)));
        }
        let to = self.store.get::<Plan>(plan_id).ok().filter(|p| p.available).ok_or(CheckoutError::UnknownPlan)?;
        let from = self.store.get::<Plan>(&account.plan_id).map_err(|_| CheckoutError::UnknownPlan)?;
        let kind = proration::classify(&from, &to).map_err(|e| refused(PlanChangeRefusal::Proration(e)))?;
        let sites = self.live_sites(&account.id)?;
        if sites > to.accounts as usize {
            return Err(refused(PlanChangeRefusal::TooManySites { sites, included: to.accounts }));
        }
        let now = Timestamp::now();
        let period = match (account.current_period(now, from.billing_cycle), kind) {
            (Some(period), _) => period,
            // A scheduled change needs no period: it waits for the next one.
            (None, ChangeKind::Scheduled) => proration::Period { start: now, end: now },
            (None, _) => {
                return Err(refused(match account.paid_until.filter(|until| *until > now) {
                    Some(paid_until) => PlanChangeRefusal::RenewedAhead { paid_until },
                    None => PlanChangeRefusal::Proration(ProrationError::PeriodOver),
                }));
            }
        };
        let (old, new) = prices(&account, &from, &to, kind)?;
        let proration = proration::price(kind, old, new, &to.currency, period, now)
            .map_err(|e| refused(PlanChangeRefusal::Proration(e)))?;
        Ok(ChangeQuote { account, from, to, proration })
    }

    /// Changes the plan: opens the payment for an upgrade or a cycle
    /// change (or answers the open one), or schedules anything else.
    pub fn change_plan(&self, customer: &Customer, account_id: &str, plan_id: &str) -> CheckoutResult<ChangeOutcome> {
        let quote = self.quote_change(customer, account_id, plan_id)?;
        // Any site of a group changes the group's plan: its primary's.
        let account_id = quote.account.id.as_str();
        if let Some(scheduled) = &quote.account.scheduled_plan {
            return Err(refused(PlanChangeRefusal::Scheduled { plan_id: scheduled.plan_id.clone() }));
        }
        let kind = match quote.proration.kind {
            ChangeKind::Scheduled => return self.schedule(&quote).map(|a| ChangeOutcome::Scheduled(Box::new(a))),
            ChangeKind::Upgrade => PaymentKind::Upgrade,
            ChangeKind::CycleChange => PaymentKind::CycleChange,
        };
        if quote.proration.due == Money::default() {
            return Err(refused(PlanChangeRefusal::NothingToPay));
        }
        let opening = self.opening.of(&customer.id);
        let opening = opening.lock().unwrap_or_else(|p| p.into_inner());
        let now = Timestamp::now();
        let open = self.store.find(Payment::open_renewal_of(account_id))?;
        if let Some(open) = open.filter(|p| p.state == PaymentState::Pending) {
            let same = open.kind == Some(kind) && open.plan_id == quote.to.id && !self.lifetime_over(&open, now);
            drop(opening);
            return if same {
                Ok(ChangeOutcome::Invoiced(Box::new(self.ensure_invoice(open, &quote.to, false)?)))
            } else {
                Err(CheckoutError::RenewalOpen)
            };
        }
        self.within_open_limit(&customer.id)?;
        let payment = Payment {
            sandbox: self.is_sandbox(),
            amount: quote.proration.due,
            kind: Some(kind),
            from_plan_id: Some(quote.from.id.clone()),
            proration: Some(quote.proration.clone()),
            ..Payment::pending(&customer.id, &quote.to, account_id.to_owned(), None, now)
        };
        match self.store.create(&payment) {
            Ok(()) => {}
            Err(StoreError::Taken { field: "openRenewal", .. }) => return Err(CheckoutError::RenewalOpen),
            Err(other) => return Err(other.into()),
        }
        self.store.update::<Customer, _, StoreError>(&customer.id, |c| {
            c.payment_ids.push(payment.id.clone());
            c.updated_at = now;
            Ok(())
        })?;
        drop(opening);
        log::info!(
            "payment {} opened: {} {} to move account {} from plan {} to {} ({})",
            payment.id,
            payment.amount,
            payment.currency,
            account_id,
            quote.from.id,
            quote.to.id,
            kind.as_str()
        );
        Ok(ChangeOutcome::Invoiced(Box::new(self.ensure_invoice(payment, &quote.to, true)?)))
    }

    /// Writes a change for the next renewal, once the disk fits the new plan.
    fn schedule(&self, quote: &ChangeQuote) -> CheckoutResult<CpanelAccount> {
        let quota_mb = u64::from(quote.to.storage) * 1024;
        if let Some(usage) = &quote.account.resource_usage
            && usage.disk_used_mb > quota_mb
        {
            return Err(refused(PlanChangeRefusal::DiskTooLarge { used_mb: usage.disk_used_mb, quota_mb }));
        }
        // The open renewal is at the old plan's price: paid, it would renew the old plan.
        if self.store.find(Payment::open_renewal_of(&quote.account.id))?.is_some() {
            return Err(CheckoutError::RenewalOpen);
        }
        let plan_id = quote.to.id.clone();
        let account = self.store.update::<CpanelAccount, _, CheckoutError>(&quote.account.id, |a| {
            if let Some(scheduled) = &a.scheduled_plan {
                return Err(refused(PlanChangeRefusal::Scheduled { plan_id: scheduled.plan_id.clone() }));
            }
            a.scheduled_plan = Some(ScheduledPlan { plan_id: plan_id.clone(), from: None });
            a.updated_at = Timestamp::now();
            Ok(a.clone())
        })?;
        log::info!("account {} will move to plan {plan_id} at its next renewal", account.username);
        Ok(account)
    }

    /// Cancels a scheduled change, until the renewal for it is paid.
    pub fn cancel_change(&self, customer: &Customer, account_id: &str) -> CheckoutResult<CpanelAccount> {
        let account = self.group_primary(customer, account_id)?;
        if self.store.find(Payment::open_renewal_of(&account.id))?.is_some_and(|p| p.kind.is_none()) {
            return Err(CheckoutError::RenewalOpen);
        }
        let account = self.store.update::<CpanelAccount, _, CheckoutError>(&account.id, |a| {
            match &a.scheduled_plan {
                None => return Err(refused(PlanChangeRefusal::NothingScheduled)),
                Some(ScheduledPlan { from: Some(from), .. }) => {
                    return Err(refused(PlanChangeRefusal::Locked { from: *from }));
                }
                Some(_) => {}
            }
            a.scheduled_plan = None;
            a.updated_at = Timestamp::now();
            Ok(a.clone())
        })?;
        log::info!("account {}: the scheduled plan change was cancelled", account.username);
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpanel_account::PeriodPrice;

    #[test]
    fn a_prepaid_span_is_compared_with_as_many_periods_of_the_new_plan() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let money = |s: &str| s.parse::<Money>().unwrap();
        let basic = Plan::seed(now);
        let pro = |prepay| Plan { id: "pro".into(), price: money("12.5"), prepay, ..Plan::seed(now) };
        let three_at_10 = vec![
            PrepayOption { periods: 1, discount_percent: None },
            PrepayOption { periods: 3, discount_percent: Some(10) },
        ];
        let paid = |amount: &str, periods| CpanelAccount {
            period_price: Some(PeriodPrice { amount: money(amount), currency: basic.currency.clone(), periods }),
            ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", now)
        };
        let older = CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", now);
        let cases = [
            (paid("13.5", 3), pro(three_at_10.clone()), ChangeKind::Upgrade, ("13.5", "33.75")),
            (paid("13.5", 3), pro(PrepayOption::only_one()), ChangeKind::Upgrade, ("13.5", "37.5")),
            (paid("5", 1), pro(three_at_10.clone()), ChangeKind::Upgrade, ("5", "12.5")),
            (older, pro(three_at_10.clone()), ChangeKind::Upgrade, ("5", "12.5")),
            (paid("13.5", 3), pro(three_at_10), ChangeKind::CycleChange, ("13.5", "12.5")),
        ];
        for (account, to, kind, (old, new)) in cases {
            assert_eq!(
                prices(&account, &basic, &to, kind).unwrap(),
                (money(old), money(new)),
                "{kind:?} {:?}",
                to.prepay
            );
        }
    }
}
