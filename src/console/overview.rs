//! The figures of the console's first screen, pure: from the records, what
//! the store could not read, the outbox and WHM's health, at a given time.
//!
//! - income: PAID payments by the UTC month of `paidAt`, this month and the
//!   eleven before, per plan currency (never converted) and in sats (the
//!   quote's sats, else the receipt's invoice amount);
//! - MRR per currency: Σ over ACTIVE accounts of their plan's price per
//!   month (a yearly price ÷ 12, rounded down to 1e-8);
//! - accounts by status, ACTIVE accounts whose `paidUntil` falls in the
//!   next 7 days, open (PENDING) orders;
//! - what needs the operator, most urgent first: records that cannot be
//!   read (path, line, column), failed fulfilments, paid payments without a
//!   receipt after a failure, outbox events stuck for a day, WHM not
//!   answering or refusing its token.
//!
//! Sandbox payments count only in a sandbox shop: play money is no income.

use super::export::Month;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::money::Money;
use crate::outbox::OutboxItem;
use crate::payment::{FulfilmentStatus, Payment, PaymentState};
use crate::plan::{BillingCycle, Plan};
use crate::provisioning::gateway::PanelHealth;
use crate::store::LoadError;
use crate::timestamp::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

pub struct Inputs<'a> {
    pub payments: &'a [Payment],
    pub accounts: &'a [CpanelAccount],
    pub plans: &'a [Plan],
    pub broken: &'a [LoadError],
    pub outbox: &'a [OutboxItem],
    pub whm: PanelHealth,
    /// A sandbox shop: its sandbox payments are its income.
    pub sandbox_shop: bool,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub generated_at: Timestamp,
    /// Oldest month first; the last is this month.
    pub income: Vec<MonthIncome>,
    pub mrr: Vec<Amount>,
    pub accounts: BTreeMap<&'static str, usize>,
    pub expiring_soon: Vec<Expiring>,
    pub open_orders: Vec<OpenOrder>,
    pub needs: Vec<Need>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct MonthIncome {
    pub month: String,
    /// Per currency, by currency code.
    pub amounts: Vec<Amount>,
    pub sats: i64,
    pub payments: usize,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Amount {
    pub currency: String,
    /// Exact, in the currency's decimals.
    pub amount: String,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Expiring {
    pub id: String,
    pub username: String,
    pub domain: String,
    pub paid_until: Option<Timestamp>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OpenOrder {
    pub id: String,
    pub amount: String,
    pub currency: String,
    pub domain: Option<String>,
    pub created_at: Timestamp,
}

/// One thing that needs the operator.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Need {
    /// `unreadable_record`, `failed_fulfilment`, `receipt_failure`,
    /// `stuck_outbox`, `whm_unreachable`, `whm_token_refused`.
    pub kind: &'static str,
    pub message: String,
    /// The record concerned, when there is one.
    pub id: Option<String>,
    /// For an unreadable record.
    pub path: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Need {
    fn of(kind: &'static str, id: Option<&str>, message: String) -> Need {
        Need { kind, message, id: id.map(str::to_owned), path: None, line: None, column: None }
    }
}

const DAY: i64 = 86_400;

impl Overview {
    pub fn of(inputs: &Inputs, now: Timestamp) -> Overview {
        let mut accounts = BTreeMap::new();
        for a in inputs.accounts {
            *accounts.entry(a.status.as_str()).or_insert(0) += 1;
        }
        Overview {
            generated_at: now,
            income: income(inputs, now),
            mrr: mrr(inputs),
            accounts,
            expiring_soon: expiring(inputs.accounts, now),
            open_orders: open_orders(inputs.payments),
            needs: needs(inputs, now),
        }
    }
}

fn counts(inputs: &Inputs, payment: &Payment) -> bool {
    payment.state == PaymentState::Paid && (!payment.sandbox || inputs.sandbox_shop)
}

/// Sums of e8 units as exact strings, by currency code.
fn amounts(sums: &BTreeMap<String, (i64, u32)>) -> Vec<Amount> {
    sums.iter()
        .map(|(currency, (e8, decimals))| {
            let amount = Money::from_minor(*e8, 8).ok().and_then(|m| m.to_fixed(*decimals));
            Amount { currency: currency.clone(), amount: amount.unwrap_or_else(|| "overflow".to_owned()) }
        })
        .collect()
}

fn add(sums: &mut BTreeMap<String, (i64, u32)>, currency: &crate::money::Currency, e8: i64) {
    let entry = sums.entry(currency.as_str().to_owned()).or_insert((0, currency.decimals()));
    entry.0 = entry.0.saturating_add(e8);
}

fn income(inputs: &Inputs, now: Timestamp) -> Vec<MonthIncome> {
    let mut months = vec![Month::of(now)];
    while months.len() < 12 {
        months.push(months[months.len() - 1].previous());
    }
    months.reverse();
    months
        .into_iter()
        .map(|month| {
            let paid: Vec<&Payment> = inputs
                .payments
                .iter()
                .filter(|p| counts(inputs, p) && p.paid_at.is_some_and(|t| Month::of(t) == month))
                .collect();
            let mut sums = BTreeMap::new();
            for p in &paid {
                add(&mut sums, &p.currency, p.amount.minor(8).unwrap_or(0));
            }
            let sats = paid.iter().filter_map(|p| sats_of(p)).sum();
            MonthIncome { month: month.to_string(), amounts: amounts(&sums), sats, payments: paid.len() }
        })
        .collect()
}

/// The sats a payment brought: its quote's, else its receipt's invoice amount.
pub fn sats_of(payment: &Payment) -> Option<i64> {
    payment.quote_sats.or_else(|| payment.receipt.as_ref()?.amount_msat.map(|m| (m / 1000) as i64))
}

fn mrr(inputs: &Inputs) -> Vec<Amount> {
    let mut sums = BTreeMap::new();
    for account in inputs.accounts.iter().filter(|a| a.status == AccountStatus::Active) {
        let Some(plan) = inputs.plans.iter().find(|p| p.id == account.plan_id) else { continue };
        let months = match plan.billing_cycle {
            BillingCycle::Monthly => 1,
            BillingCycle::Yearly => 12,
        };
        add(&mut sums, &plan.currency, plan.price.minor(8).unwrap_or(0) / months);
    }
    amounts(&sums)
}

fn expiring(accounts: &[CpanelAccount], now: Timestamp) -> Vec<Expiring> {
    let soon = now.plus(std::time::Duration::from_secs(7 * DAY as u64));
    let mut found: Vec<Expiring> = accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Active && a.paid_until.is_some_and(|t| t > now && t <= soon))
        .map(|a| Expiring {
            id: a.id.clone(),
            username: a.username.clone(),
            domain: a.domain.clone(),
            paid_until: a.paid_until,
        })
        .collect();
    found.sort_by_key(|e| e.paid_until);
    found
}

fn open_orders(payments: &[Payment]) -> Vec<OpenOrder> {
    let mut open: Vec<OpenOrder> = payments
        .iter()
        .filter(|p| p.state == PaymentState::Pending)
        .map(|p| OpenOrder {
            id: p.id.clone(),
            amount: p.amount.to_fixed(p.currency.decimals()).unwrap_or_default(),
            currency: p.currency.as_str().to_owned(),
            domain: p.domain.clone(),
            created_at: p.created_at,
        })
        .collect();
    open.sort_by_key(|o| std::cmp::Reverse(o.created_at));
    open
}

fn needs(inputs: &Inputs, now: Timestamp) -> Vec<Need> {
    let mut needs: Vec<Need> = inputs
        .broken
        .iter()
        .map(|e| Need {
            path: Some(e.path.display().to_string()),
            line: Some(e.line),
            column: Some(e.column),
            ..Need::of("unreadable_record", None, e.message.clone())
        })
        .collect();
    for p in inputs.payments.iter().filter(|p| p.state == PaymentState::Paid) {
        if p.fulfilment.status == FulfilmentStatus::Failed {
            let why = p.fulfilment.last_error.clone().unwrap_or_else(|| "no error recorded".to_owned());
            needs.push(Need::of("failed_fulfilment", Some(&p.id), format!("delivery failed: {why}")));
        }
        if let Some(failure) = &p.receipt_failure
            && p.receipt.is_none()
        {
            needs.push(Need::of("receipt_failure", Some(&p.id), format!("no receipt yet: {}", failure.reason)));
        }
    }
    let day = std::time::Duration::from_secs(DAY as u64);
    for item in inputs.outbox.iter().filter(|item| item.stuck(now, day)) {
        needs.push(Need::of("stuck_outbox", Some(&item.id), "not delivered to its relays for a day".to_owned()));
    }
    match inputs.whm {
        PanelHealth::Answering => {}
        PanelHealth::Unreachable => needs.push(Need::of("whm_unreachable", None, "WHM did not answer".to_owned())),
        PanelHealth::TokenRefused => {
            needs.push(Need::of("whm_token_refused", None, "WHM refused the API token".to_owned()))
        }
    }
    needs
}
