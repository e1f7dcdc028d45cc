//! The console's actions on accounts and payments. Each calls the use case
//! the CLI calls (`provisioning::operator`, `provisioning::retry`,
//! `checkout::mark_paid`; cancelling, the customers' `Checkout::cancel`),
//! appends the change to the audit log, and answers the record. With
//! `"dryRun": true` nothing changes: the answer's `confirm` says what would
//! happen, in WHM too, for the page's confirmation.

use super::Operator;
use crate::api::error::ApiResult;
use crate::app::App;
use crate::console::audit::{self, AuditEntry, Target};
use crate::cpanel_account::CpanelAccount;
use crate::http::{Request, Response};
use crate::payment::Payment;
use crate::provisioning::operator as use_case;
use serde::Deserialize;
use serde::Serialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountAction {
    /// Id or username.
    account: String,
    #[serde(default)]
    reason: String,
    /// What the customer is told (suspend).
    message: Option<String>,
    /// Days (extend).
    days: Option<u32>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PaymentAction {
    payment: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    dry_run: bool,
}

/// The answer: the changed record after the audit entry is written, or
/// for a dry run only the sentence.
fn done<T: Serialize>(app: &App, entry: AuditEntry, before: &T, after: &T, confirm: String) -> Response {
    audit::record_or_log(&app.store, &entry.changing(before, after));
    Response::json(200, &json!({"done": after, "confirm": confirm}))
}

fn dry(confirm: String) -> ApiResult<Response> {
    Ok(Response::json(200, &json!({"confirm": confirm})))
}

fn account_entry(operator: &Operator, action: &str, account: &CpanelAccount) -> AuditEntry {
    AuditEntry::now(&operator.npub, action, Target::new("account", &account.id))
}

pub fn suspend(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: AccountAction = request.json()?;
    let before = use_case::find_account(&app.store, &body.account)?;
    let confirm = format!(
        "WHM suspends {} ({}) within seconds: the site stops and cPanel sign-in is refused. The reason stays \
         private; the customer {}.",
        before.username,
        before.domain,
        match body.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(message) => format!("reads: \u{201c}{message}\u{201d}"),
            None => "is shown no message".to_owned(),
        }
    );
    if body.dry_run {
        return dry(confirm);
    }
    let after = use_case::set_suspension(&app.store, &before.id, Some(&body.reason), body.message.as_deref())?;
    app.provisioner.wake();
    let entry = account_entry(operator, "account.suspend", &after).because(&body.reason);
    Ok(done(app, entry, &before, &after, confirm))
}

pub fn unsuspend(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: AccountAction = request.json()?;
    let before = use_case::find_account(&app.store, &body.account)?;
    let confirm = match before.is_paid(crate::timestamp::Timestamp::now()) {
        true => format!("WHM unsuspends {} within seconds: the site runs again.", before.username),
        false => format!(
            "{} is not paid, so it becomes EXPIRED and stays suspended in WHM until it is renewed.",
            before.username
        ),
    };
    if body.dry_run {
        return dry(confirm);
    }
    let after = use_case::set_suspension(&app.store, &before.id, None, None)?;
    app.provisioner.wake();
    Ok(done(app, account_entry(operator, "account.unsuspend", &after), &before, &after, confirm))
}

pub fn extend(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: AccountAction = request.json()?;
    let before = use_case::find_account(&app.store, &body.account)?;
    let days = body.days.unwrap_or(0);
    let confirm = match before.status {
        crate::cpanel_account::AccountStatus::Expired => format!(
            "{} is paid for {days} more days from now and becomes ACTIVE: WHM unsuspends it within seconds. \
             No payment is recorded.",
            before.username
        ),
        _ => {
            format!("{} is paid for {days} more days. Nothing changes in WHM. No payment is recorded.", before.username)
        }
    };
    if body.dry_run {
        return dry(confirm);
    }
    let after = use_case::extend(&app.store, &before.id, days, &body.reason)?;
    app.provisioner.wake();
    let entry = account_entry(operator, "account.extend", &after).because(&body.reason);
    Ok(done(app, entry, &before, &after, confirm))
}

fn payment_entry(operator: &Operator, action: &str, payment: &Payment) -> AuditEntry {
    AuditEntry::now(&operator.npub, action, Target::new("payment", &payment.id))
}

pub fn retry(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: PaymentAction = request.json()?;
    let before: Payment = app.store.get(&body.payment)?;
    let confirm = "The accounts worker tries again within seconds: it asks WHM whether the account exists \
                   (accountsummary) and creates it (createacct) only if it does not."
        .to_owned();
    if body.dry_run {
        return dry(confirm);
    }
    let after = crate::provisioning::retry(&app.store, &before.id)?;
    app.provisioner.wake();
    Ok(done(app, payment_entry(operator, "payment.retry", &after), &before, &after, confirm))
}

pub fn mark_paid(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: PaymentAction = request.json()?;
    let before: Payment = app.store.get(&body.payment)?;
    let what = if before.account_id.is_some() { "renews the account" } else { "creates the account" };
    let confirm = format!(
        "Records {} {} as paid by other means, without Strike; WHM then {what} within seconds, and a receipt \
         is issued.",
        before.amount, before.currency
    );
    if body.dry_run {
        return dry(confirm);
    }
    let after = crate::checkout::mark_paid(&app.store, &before.id, &body.reason)?;
    app.provisioner.wake();
    app.receipts.wake();
    let entry = payment_entry(operator, "payment.mark-paid", &after).because(&body.reason);
    Ok(done(app, entry, &before, &after, confirm))
}

pub fn cancel(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: PaymentAction = request.json()?;
    let before: Payment = app.store.get(&body.payment)?;
    let confirm = "Cancels the invoice at the payment provider and closes the order. Nothing happens in WHM.";
    if body.dry_run {
        return dry(confirm.to_owned());
    }
    let after = app.checkout.cancel(&before.id)?;
    let entry = payment_entry(operator, "payment.cancel", &after);
    Ok(done(
        app,
        if body.reason.is_empty() { entry } else { entry.because(&body.reason) },
        &before,
        &after,
        confirm.to_owned(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomerAction {
    /// The customer's id.
    customer: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    dry_run: bool,
}

/// `hostr customer suspend`'s use case: every account of theirs suspended.
pub fn suspend_customer(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: CustomerAction = request.json()?;
    let before: crate::customer::Customer = app.store.get(&body.customer)?;
    let confirm = "WHM suspends every account of this customer within seconds, and they cannot buy until \
                   unsuspended. The reason stays private; they are told which sites stop."
        .to_owned();
    if body.dry_run {
        return dry(confirm);
    }
    let after = crate::customer::suspend(&app.store, &before.id, &body.reason)?;
    app.provisioner.wake();
    let entry = AuditEntry::now(&operator.npub, "customer.suspend", Target::new("customer", &after.id));
    Ok(done(app, entry.because(&body.reason), &before, &after, confirm))
}

/// `hostr customer unsuspend`'s use case.
pub fn unsuspend_customer(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: CustomerAction = request.json()?;
    let before: crate::customer::Customer = app.store.get(&body.customer)?;
    let confirm = "WHM unsuspends this customer's paid accounts within seconds; an account suspended by itself \
                   stays suspended."
        .to_owned();
    if body.dry_run {
        return dry(confirm);
    }
    let after = crate::customer::unsuspend(&app.store, &before.id)?;
    app.provisioner.wake();
    let entry = AuditEntry::now(&operator.npub, "customer.unsuspend", Target::new("customer", &after.id));
    Ok(done(app, entry, &before, &after, confirm))
}
