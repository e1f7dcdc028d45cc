//! The planner: which notices are due at `now`, from the records alone.
//! Pure: it reads a [`World`] (the records and the clock) and returns
//! [`Planned`] notices with their dedup keys; the worker writes and sends.
//!
//! Rules:
//! - events (a payment, an account made, a suspension, a deletion, an
//!   expiry) are announced only when they happened after `since`;
//! - reminders are states, not events: an account whose `paidUntil` is
//!   within a threshold gets the NEAREST threshold passed, keyed by its
//!   `paidUntil`, so a hand edit re-plans and a late start sends one, not a
//!   burst; a paid renewal waiting to be applied silences them;
//! - the private suspension reason is never copied into a notice: only
//!   the operator's public message is.

use super::auto_renew::{self, RenewTiming};
use super::{NoticeKind, Recipient};
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::customer::{Customer, CustomerStatus};
use crate::nwc::WalletLink;
use crate::payment::{FulfilmentStatus, Payment, PaymentState};
use crate::plan::Plan;
use crate::provisioning::first_steps::{ServerFacts, first_steps};
use crate::timestamp::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// The planner's settings, from `serve`'s flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Days before `paidUntil` at which a renewal reminder is due.
    pub reminder_days: Vec<u32>,
    pub expiry_grace: chrono::Duration,
    /// Termination after expiry, when the operator turned it on.
    pub terminate_after: Option<chrono::Duration>,
    pub deletion_grace: chrono::Duration,
    /// Whether operator alerts have somewhere to go.
    pub operator: bool,
    /// What the welcome says about pointing the domain here (the
    /// operator's `--server-ip` and `--nameservers`).
    pub server: ServerFacts,
    /// The same per WHM server, by id, where the server's record says it
    /// (an account's own server wins over `server`).
    pub servers: std::collections::BTreeMap<String, ServerFacts>,
    /// When automatic renewal asks wallets, and how many times.
    pub auto_renew: RenewTiming,
}

/// Days before a termination at which the customer is warned.
pub const TERMINATION_WARNING_DAYS: [u32; 2] = [7, 1];

/// What the planner reads.
pub struct World<'a> {
    pub now: Timestamp,
    /// Events before this are not announced.
    pub since: Timestamp,
    pub customers: &'a [Customer],
    pub accounts: &'a [CpanelAccount],
    pub payments: &'a [Payment],
    pub plans: &'a [Plan],
    /// Automatic renewal's connections (NIP-47), by account id.
    pub links: &'a [WalletLink],
}

/// A notice that is due, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub key: String,
    pub kind: NoticeKind,
    pub recipient: Recipient,
    pub customer_id: Option<String>,
    pub account_id: Option<String>,
    pub payment_id: Option<String>,
    pub fields: BTreeMap<String, String>,
}

/// Every notice due at `world.now`.
pub fn plan(world: &World, settings: &Settings) -> Vec<Planned> {
    let customers: HashMap<&str, &Customer> = world.customers.iter().map(|c| (c.id.as_str(), c)).collect();
    let plans: HashMap<&str, &Plan> = world.plans.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut out = Vec::new();
    for payment in world.payments {
        if let Some(customer) = customers.get(payment.customer_id.as_str()) {
            for_payment(payment, customer, plans.get(payment.plan_id.as_str()).copied(), world, settings, &mut out);
        }
    }
    for account in world.accounts {
        let Some(customer) = customers.get(account.customer_id.as_str()) else { continue };
        if customer.status == CustomerStatus::Active {
            let link = world.links.iter().find(|l| l.id == account.id);
            let plan = plans.get(account.plan_id.as_str()).copied();
            for_account(account, (link, plan), world, settings, &mut out);
        }
    }
    for customer in world.customers {
        for_customer(customer, world, settings, &mut out);
    }
    out
}

/// The threshold (in days) whose moment before `until` is the latest one
/// already reached at `now`; none before the first or once `until` passed.
pub fn nearest_threshold(until: Timestamp, now: Timestamp, thresholds: &[u32]) -> Option<u32> {
    let left = until.as_datetime() - now.as_datetime();
    if left <= chrono::Duration::zero() {
        return None;
    }
    thresholds.iter().copied().filter(|days| left <= chrono::Duration::days((*days).into())).min()
}

fn for_payment(
    payment: &Payment,
    customer: &Customer,
    plan: Option<&Plan>,
    world: &World,
    settings: &Settings,
    out: &mut Vec<Planned>,
) {
    let after = |t: Option<Timestamp>| t.is_some_and(|t| t >= world.since);
    let mut fields = BTreeMap::from([
        ("amount".to_owned(), format!("{} {}", payment.amount, payment.currency)),
        ("plan".to_owned(), plan.map_or_else(|| payment.plan_id.clone(), |p| p.name.clone())),
        ("domain".to_owned(), payment.domain.clone().unwrap_or_else(|| domain_of(world, payment))),
    ]);
    let notice = |kind, key: String, fields| Planned {
        key,
        kind,
        recipient: Recipient::Customer,
        customer_id: Some(customer.id.clone()),
        account_id: payment.account_id.clone(),
        payment_id: Some(payment.id.clone()),
        fields,
    };
    // A renewal the customer's wallet is asked to pay is not an order to pay by hand.
    let by_wallet = world.links.iter().any(|l| l.requested.contains(&payment.id));
    if payment.state == PaymentState::Pending
        && payment.bolt11.is_some()
        && after(Some(payment.created_at))
        && !by_wallet
    {
        out.push(notice(NoticeKind::OrderReceived, format!("order-received:{}", payment.id), fields.clone()));
    }
    if payment.state == PaymentState::Paid && after(payment.paid_at) {
        let period = match (payment.period_start, payment.period_end, payment.periods) {
            (Some(from), Some(until), 1) => format!("{} to {}", date(from), date(until)),
            (Some(from), Some(until), n) => format!("{} to {} ({n} periods)", date(from), date(until)),
            (_, _, 1) => plan.map_or_else(|| "one period".to_owned(), |p| format!("one {}", p.billing_cycle.as_str())),
            (_, _, n) => {
                plan.map_or_else(|| format!("{n} periods"), |p| format!("{n} {} periods", p.billing_cycle.as_str()))
            }
        };
        fields.insert("period".to_owned(), period);
        out.push(notice(NoticeKind::Receipt, format!("receipt:{}", payment.id), fields.clone()));
    }
    if settings.operator && payment.state == PaymentState::Paid && payment.fulfilment.status == FulfilmentStatus::Failed
    {
        let stuck = payment.fulfilment.next_attempt_at.is_none();
        let error = payment.fulfilment.last_error.clone().unwrap_or_default();
        fields.extend([
            ("payment".to_owned(), payment.id.clone()),
            ("customer".to_owned(), customer.id.clone()),
            ("error".to_owned(), error),
            ("retries".to_owned(), if stuck { "no: it waits for you" } else { "yes, by itself" }.to_owned()),
        ]);
        let key = format!("fulfilment-failed:{}:{}", payment.id, if stuck { "stuck" } else { "retrying" });
        out.push(Planned { recipient: Recipient::Operator, ..notice(NoticeKind::FulfilmentFailed, key, fields) });
    }
}

/// The welcome's first step: the nameservers or records the operator's
/// settings give, else where the profile shows them (WHM's answers).
fn dns_step(server: &ServerFacts, account: &CpanelAccount) -> String {
    let Some(steps) = first_steps(server, account, None, &[]) else { return String::new() };
    let records: Vec<String> = steps.records.iter().map(|r| format!("{} {} {}", r.kind, r.name, r.value)).collect();
    match (steps.nameservers.is_empty(), records.is_empty()) {
        (false, true) => {
            format!("set {}'s nameservers to {} at your registrar", account.domain, steps.nameservers.join(", "))
        }
        (true, false) => format!("point {} here with these DNS records: {}", account.domain, records.join("; ")),
        (false, false) => format!(
            "set {}'s nameservers to {} at your registrar, or point it here with these DNS records: {}",
            account.domain,
            steps.nameservers.join(", "),
            records.join("; ")
        ),
        (true, true) => "point your domain's DNS at the server as shown on your profile".to_owned(),
    }
}

fn domain_of(world: &World, payment: &Payment) -> String {
    let account = payment.account_id.as_deref().and_then(|id| world.accounts.iter().find(|a| a.id == id));
    account.map_or_else(String::new, |a| a.domain.clone())
}

fn for_account(
    account: &CpanelAccount,
    link_and_plan: (Option<&WalletLink>, Option<&Plan>),
    world: &World,
    settings: &Settings,
    out: &mut Vec<Planned>,
) {
    for (kind, key, fields) in account_notices(account, link_and_plan, world, settings) {
        out.push(Planned {
            key: format!("{}:{}:{key}", kind.as_str(), account.id),
            kind,
            recipient: Recipient::Customer,
            customer_id: Some(account.customer_id.clone()),
            account_id: Some(account.id.clone()),
            payment_id: None,
            fields,
        });
    }
}

/// An account's notices: kind, key after the account's id, fields.
fn account_notices(
    account: &CpanelAccount,
    (link, plan): (Option<&WalletLink>, Option<&Plan>),
    world: &World,
    settings: &Settings,
) -> Vec<auto_renew::Due> {
    let after = |t: Option<Timestamp>| t.is_some_and(|t| t >= world.since);
    let mut fields = BTreeMap::from([
        ("domain".to_owned(), account.domain.clone()),
        ("username".to_owned(), account.username.clone()),
        ("end_date".to_owned(), account.paid_until.map_or_else(String::new, date)),
    ]);
    let mut out = Vec::new();
    let mut push = |kind: NoticeKind, key: String, fields: BTreeMap<String, String>| out.push((kind, key, fields));
    let until = account.paid_until.map_or_else(|| "-".to_owned(), |t| t.to_string());
    match account.status {
        AccountStatus::Active if after(account.whm_created_at) => {
            let facts = settings.servers.get(account.server()).unwrap_or(&settings.server);
            let dns = ("dns".to_owned(), dns_step(facts, account));
            push(NoticeKind::AccountReady, String::new(), fields.clone().into_iter().chain([dns]).collect());
        }
        AccountStatus::Expired => {
            let expired_at = account.paid_until.map(|t| Timestamp::from(t.as_datetime() + settings.expiry_grace));
            if after(expired_at) {
                let removal = removal_date(account, settings).map_or_else(String::new, |d| {
                    format!("If it is not renewed, the account and its files will be removed on {d}.")
                });
                fields.insert("removal".to_owned(), removal);
                push(NoticeKind::Expired, until.clone(), fields.clone());
            }
            if let Some(removal) = account.paid_until.zip(settings.terminate_after).map(|(t, a)| t.as_datetime() + a)
                && let Some(days) = nearest_threshold(removal.into(), world.now, &TERMINATION_WARNING_DAYS)
            {
                fields.insert("removal_date".to_owned(), date(removal.into()));
                fields.insert("days".to_owned(), days.to_string());
                push(NoticeKind::TerminationWarning, format!("{until}:{days}"), fields.clone());
            }
        }
        AccountStatus::Suspended if after(account.suspension_changed_at) => {
            // The public message only: `suspendReason` is the operator's.
            fields.insert("message".to_owned(), account.public_message.clone().unwrap_or_default());
            push(NoticeKind::Suspended, stamp(account.suspension_changed_at), fields.clone());
        }
        _ => {}
    }
    if account.status != AccountStatus::Suspended && after(account.suspension_changed_at) {
        push(NoticeKind::Unsuspended, stamp(account.suspension_changed_at), fields.clone());
    }
    if account.status == AccountStatus::Active
        && let Some(paid_until) = account.paid_until
        && let Some(days) = nearest_threshold(paid_until, world.now, &settings.reminder_days)
        // A further site of a group renews with its primary: its payments and wallet.
        && !renewal_paid(world, account.primary_id())
        && !auto_renew::silences_reminders(
            world.links.iter().find(|l| l.id == account.primary_id()),
            paid_until,
            settings.auto_renew
        )
    {
        fields.insert("days".to_owned(), days.to_string());
        push(NoticeKind::RenewalDue, format!("{until}:{days}"), with_renewal(fields, account, world.plans));
    }
    if let Some(link) = link.filter(|_| account.status == AccountStatus::Active) {
        out.extend(auto_renew::due(account, link, plan, (world.now, world.since), settings.auto_renew));
    }
    out
}

/// The reminder's fields with what the renewal costs (`renewal`).
fn with_renewal(
    mut fields: BTreeMap<String, String>,
    account: &CpanelAccount,
    plans: &[Plan],
) -> BTreeMap<String, String> {
    fields.insert("renewal".to_owned(), renewal_terms(account, plans));
    fields
}

/// What the next renewal costs, in words: the plan it renews (a scheduled
/// change's), its price now, and the price the period was bought at when the
/// plan's price changed since (a price change applies from the renewal).
fn renewal_terms(account: &CpanelAccount, plans: &[Plan]) -> String {
    let next_id = account.scheduled_plan.as_ref().map_or(&account.plan_id, |s| &s.plan_id);
    let Some(next) = plans.iter().find(|p| p.id == *next_id) else { return String::new() };
    let mut terms = format!("The renewal is {} {} for {}.", next.price, next.currency, next.name);
    if *next_id != account.plan_id {
        terms.push_str(&format!(" Your plan changes to {} with it, as you asked.", next.name));
    } else if let Some(paid) = account
        .period_price
        .as_ref()
        .filter(|p| p.currency == next.currency && next.price_for(p.periods).is_ok_and(|now| now != p.amount))
    {
        terms.push_str(&format!(
            " The plan's price changed since your last payment ({} {}); the new price applies from this renewal.",
            paid.amount, paid.currency
        ));
    }
    terms
}

/// When an expired account would be removed, if termination is on.
fn removal_date(account: &CpanelAccount, settings: &Settings) -> Option<String> {
    let after = settings.terminate_after?;
    Some(date(Timestamp::from(account.paid_until?.as_datetime() + after)))
}

/// A renewal of the account that is paid and waits to be applied.
fn renewal_paid(world: &World, account_id: &str) -> bool {
    world.payments.iter().any(|p| {
        p.account_id.as_deref() == Some(account_id)
            && p.state == PaymentState::Paid
            && p.fulfilment.status != FulfilmentStatus::Done
    })
}

fn for_customer(customer: &Customer, world: &World, settings: &Settings, out: &mut Vec<Planned>) {
    let after = |t: Option<Timestamp>| t.is_some_and(|t| t >= world.since);
    let mut push = |kind: NoticeKind, at: Option<Timestamp>, fields: BTreeMap<String, String>| {
        out.push(Planned {
            key: format!("{}:{}:{}", kind.as_str(), customer.id, stamp(at)),
            kind,
            recipient: Recipient::Customer,
            customer_id: Some(customer.id.clone()),
            account_id: None,
            payment_id: None,
            fields,
        })
    };
    if customer.status == CustomerStatus::Deleted && after(customer.deleted_at) {
        let purge = customer.purge_after(settings.deletion_grace).map_or_else(String::new, date);
        push(NoticeKind::Deleted, customer.deleted_at, BTreeMap::from([("purge_date".to_owned(), purge)]));
    }
    if customer.status == CustomerStatus::Active && after(customer.recovered_at) {
        push(NoticeKind::Recovered, customer.recovered_at, BTreeMap::new());
    }
    if after(customer.suspension_changed_at) {
        // Never the operator's reason: only which sites it concerns.
        let domains: Vec<&str> =
            world.accounts.iter().filter(|a| a.customer_id == customer.id).map(|a| a.domain.as_str()).collect();
        let fields = BTreeMap::from([("domains".to_owned(), domains.join(", "))]);
        match customer.status {
            CustomerStatus::Suspended => push(NoticeKind::CustomerSuspended, customer.suspension_changed_at, fields),
            CustomerStatus::Active => push(NoticeKind::CustomerUnsuspended, customer.suspension_changed_at, fields),
            _ => {}
        }
    }
    if let Some(email) = &customer.email
        && customer.confirmed_email().is_none()
        && customer.status != CustomerStatus::Deleted
        && after(customer.email_confirmation_asked_at)
    {
        let fields = BTreeMap::from([("email".to_owned(), email.clone())]);
        push(NoticeKind::EmailConfirmation, customer.email_confirmation_asked_at, fields);
    }
}

fn date(t: Timestamp) -> String {
    t.as_datetime().format("%Y-%m-%d").to_string()
}

fn stamp(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            reminder_days: vec![7, 3, 1],
            expiry_grace: chrono::Duration::zero(),
            terminate_after: None,
            deletion_grace: chrono::Duration::days(30),
            operator: true,
            server: ServerFacts::default(),
            servers: Default::default(),
            auto_renew: RenewTiming::default(),
        }
    }

    const CUSTOMER: &str = "00000000-0000-4000-8000-00000000000c";
    const ACCOUNT: &str = "00000000-0000-4000-8000-00000000000a";

    #[test]
    fn the_reminder_names_the_price_a_price_change_and_a_scheduled_plan() {
        let plans = [
            Plan { price: "7.5".parse().unwrap(), ..Plan::seed(t("2026-01-01T00:00:00Z")) },
            Plan {
                id: "mini".into(),
                name: "Mini".into(),
                price: "2".parse().unwrap(),
                ..Plan::seed(t("2026-01-01T00:00:00Z"))
            },
        ];
        let paid = |amount: &str| {
            Some(crate::cpanel_account::PeriodPrice {
                amount: amount.parse().unwrap(),
                currency: "USD".parse().unwrap(),
                periods: 1,
            })
        };
        let account = |price, scheduled: Option<&str>| CpanelAccount {
            period_price: price,
            scheduled_plan: scheduled.map(|p| crate::cpanel_account::ScheduledPlan { plan_id: p.into(), from: None }),
            ..account(AccountStatus::Active, "2026-02-10T00:00:00Z")
        };
        let cases = [
            (account(paid("7.5"), None), "The renewal is 7.5 USD for Web storage basic."),
            (account(None, None), "The renewal is 7.5 USD for Web storage basic."),
            (
                account(paid("5"), None),
                "The renewal is 7.5 USD for Web storage basic. The plan's price changed since your last payment \
                 (5 USD); the new price applies from this renewal.",
            ),
            (
                account(paid("5"), Some("mini")),
                "The renewal is 2 USD for Mini. Your plan changes to Mini with it, as you asked.",
            ),
            (account(None, Some("gone")), ""),
        ];
        for (account, expected) in cases {
            assert_eq!(renewal_terms(&account, &plans), expected);
        }
    }

    fn customer() -> Customer {
        Customer::new(CUSTOMER.into(), "ab".repeat(32), None, t("2026-01-01T00:00:00Z"))
    }

    fn account(status: AccountStatus, paid_until: &str) -> CpanelAccount {
        CpanelAccount {
            status,
            paid_until: Some(t(paid_until)),
            whm_created_at: Some(t("2026-01-01T00:00:00Z")),
            ..CpanelAccount::provisioning(ACCOUNT, "shop", "shop.example", CUSTOMER, "basic", t("2026-01-01T00:00:00Z"))
        }
    }

    fn keys(accounts: &[CpanelAccount], payments: &[Payment], now: &str, settings: &Settings) -> Vec<String> {
        let customers = [customer()];
        let plans = [Plan::seed(t("2026-01-01T00:00:00Z"))];
        let world = World {
            now: t(now),
            since: t("2026-01-02T00:00:00Z"),
            customers: &customers,
            accounts,
            payments,
            plans: &plans,
            links: &[],
        };
        plan(&world, settings).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn the_nearest_threshold_already_reached_is_the_one_due() {
        let until = t("2026-02-10T00:00:00Z");
        let cases = [
            ("2026-02-01T00:00:00Z", None),
            ("2026-02-03T00:00:00Z", Some(7)),
            ("2026-02-07T00:00:01Z", Some(3)),
            ("2026-02-09T12:00:00Z", Some(1)),
            ("2026-02-10T00:00:00Z", None),
            ("2026-03-01T00:00:00Z", None),
        ];
        for (now, due) in cases {
            assert_eq!(nearest_threshold(until, t(now), &[7, 3, 1]), due, "{now}");
            assert_eq!(nearest_threshold(until, t(now), &[1, 7, 3]), due, "order does not matter: {now}");
        }
    }

    #[test]
    fn a_reminder_is_keyed_by_the_paid_until_and_threshold_and_silenced_by_a_paid_renewal() {
        let active = account(AccountStatus::Active, "2026-02-10T00:00:00Z");
        let reminder = |days| format!("renewal-due:{ACCOUNT}:2026-02-10T00:00:00Z:{days}");
        assert_eq!(keys(std::slice::from_ref(&active), &[], "2026-02-08T00:00:00Z", &settings()), [reminder(3)]);
        assert_eq!(keys(std::slice::from_ref(&active), &[], "2026-02-09T00:00:01Z", &settings()), [reminder(1)]);
        let edited = account(AccountStatus::Active, "2026-03-10T00:00:00Z");
        assert_eq!(
            keys(&[edited], &[], "2026-03-08T00:00:00Z", &settings()),
            [format!("renewal-due:{ACCOUNT}:2026-03-10T00:00:00Z:3")]
        );
        let plan = Plan::seed(t("2026-01-01T00:00:00Z"));
        let mut renewal = Payment::pending(CUSTOMER, &plan, ACCOUNT.into(), None, t("2026-01-01T00:00:00Z"));
        renewal.record_paid(t("2026-01-01T00:00:00Z"));
        assert!(keys(&[active], &[renewal], "2026-02-08T00:00:00Z", &settings()).is_empty(), "a paid renewal");
    }

    #[test]
    fn events_from_before_the_start_are_not_announced() {
        let before = CpanelAccount {
            whm_created_at: Some(t("2026-01-01T12:00:00Z")),
            ..account(AccountStatus::Active, "2027-01-01T00:00:00Z")
        };
        assert!(keys(&[before], &[], "2026-02-01T00:00:00Z", &settings()).is_empty());
        let after = CpanelAccount {
            whm_created_at: Some(t("2026-01-03T00:00:00Z")),
            ..account(AccountStatus::Active, "2027-01-01T00:00:00Z")
        };
        assert_eq!(keys(&[after], &[], "2026-02-01T00:00:00Z", &settings()), [format!("account-ready:{ACCOUNT}:")]);
        let old_expiry = account(AccountStatus::Expired, "2026-01-01T00:00:00Z");
        assert!(keys(&[old_expiry], &[], "2026-02-01T00:00:00Z", &settings()).is_empty());
    }

    #[test]
    fn an_expiry_names_the_removal_and_warns_before_it_when_termination_is_on() {
        let expired = account(AccountStatus::Expired, "2026-01-10T00:00:00Z");
        let on = Settings { terminate_after: Some(chrono::Duration::days(30)), ..settings() };
        assert_eq!(
            keys(std::slice::from_ref(&expired), &[], "2026-01-11T00:00:00Z", &settings()),
            [format!("expired:{ACCOUNT}:2026-01-10T00:00:00Z")]
        );
        assert_eq!(
            keys(&[expired], &[], "2026-02-03T00:00:00Z", &on),
            [
                format!("expired:{ACCOUNT}:2026-01-10T00:00:00Z"),
                format!("termination-warning:{ACCOUNT}:2026-01-10T00:00:00Z:7"),
            ]
        );
    }

    #[test]
    fn a_suspension_notice_carries_the_public_message_and_never_the_reason() {
        let suspended = CpanelAccount {
            suspend_reason: Some("PRIVATE chargeback from card 4242".into()),
            public_message: Some("Please contact us about your payment.".into()),
            suspension_changed_at: Some(t("2026-01-05T00:00:00Z")),
            ..account(AccountStatus::Suspended, "2027-01-01T00:00:00Z")
        };
        let customers = [customer()];
        let world = World {
            now: t("2026-01-06T00:00:00Z"),
            since: t("2026-01-02T00:00:00Z"),
            customers: &customers,
            accounts: std::slice::from_ref(&suspended),
            payments: &[],
            plans: &[],
            links: &[],
        };
        let planned = plan(&world, &settings());
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].kind, NoticeKind::Suspended);
        assert_eq!(planned[0].fields["message"], "Please contact us about your payment.");
        assert!(!format!("{planned:?}").contains("PRIVATE"), "the private reason is in no field");
        let lifted = CpanelAccount { status: AccountStatus::Active, suspend_reason: None, ..suspended };
        assert_eq!(
            keys(&[lifted], &[], "2026-01-06T00:00:00Z", &settings()),
            [format!("unsuspended:{ACCOUNT}:2026-01-05T00:00:00Z")]
        );
    }

    #[test]
    fn payments_bring_an_order_notice_a_receipt_and_an_operator_alert_when_delivery_fails() {
        let plan = Plan::seed(t("2026-01-01T00:00:00Z"));
        let mut payment =
            Payment::pending(CUSTOMER, &plan, ACCOUNT.into(), Some("shop.example".into()), t("2026-01-03T00:00:00Z"));
        payment.bolt11 = Some("lnbc1".into());
        let id = payment.id.clone();
        assert_eq!(
            keys(&[], &[payment.clone()], "2026-01-03T00:00:00Z", &settings()),
            [format!("order-received:{id}")]
        );
        payment.record_paid(t("2026-01-03T00:01:00Z"));
        assert_eq!(keys(&[], &[payment.clone()], "2026-01-03T00:02:00Z", &settings()), [format!("receipt:{id}")]);
        payment.fulfilment.status = FulfilmentStatus::Failed;
        let failed = keys(&[], &[payment.clone()], "2026-01-03T00:02:00Z", &settings());
        assert_eq!(failed, [format!("receipt:{id}"), format!("fulfilment-failed:{id}:stuck")]);
        let nobody = Settings { operator: false, ..settings() };
        assert_eq!(keys(&[], &[payment], "2026-01-03T00:02:00Z", &nobody), [format!("receipt:{id}")]);
    }

    #[test]
    fn an_unconfirmed_address_gets_its_confirmation_and_a_deletion_its_notice() {
        let mut c = customer();
        c.email = Some("a@example.com".into());
        c.email_confirmation_asked_at = Some(t("2026-01-03T00:00:00Z"));
        let customers = [c.clone()];
        let world = |customers| World {
            now: t("2026-01-04T00:00:00Z"),
            since: t("2026-01-02T00:00:00Z"),
            customers,
            accounts: &[],
            payments: &[],
            plans: &[],
            links: &[],
        };
        let planned = plan(&world(&customers), &settings());
        assert_eq!(planned.iter().map(|p| p.kind).collect::<Vec<_>>(), [NoticeKind::EmailConfirmation]);
        c.confirmed_email = Some("A@example.com".into());
        c.soft_delete(t("2026-01-03T00:00:00Z")).unwrap();
        let planned = plan(&world(&[c]), &settings());
        assert_eq!(planned.iter().map(|p| p.kind).collect::<Vec<_>>(), [NoticeKind::Deleted]);
        assert_eq!(planned[0].fields["purge_date"], "2026-02-02");
    }

    #[test]
    fn the_welcome_names_the_nameservers_and_records_the_operator_set() {
        let account = account(AccountStatus::Active, "2026-03-01T00:00:00Z");
        let ip = Some("203.0.113.7".parse().unwrap());
        let ns = vec!["ns1.host.example".to_owned(), "ns2.host.example".to_owned()];
        let cases = [
            (ServerFacts::default(), "as shown on your profile"),
            (ServerFacts { ip, ..Default::default() }, "with these DNS records: A "),
            (
                ServerFacts { nameservers: ns.clone(), ..Default::default() },
                "nameservers to ns1.host.example, ns2.host.example",
            ),
            (ServerFacts { ip, nameservers: ns, ..Default::default() }, "at your registrar, or point it here"),
        ];
        for (server, said) in cases {
            let step = dns_step(&server, &account);
            assert!(step.contains(said), "{server:?}: {step}");
            if server.ip.is_some() {
                assert!(step.contains("203.0.113.7"), "{step}");
            }
        }
    }
}
