//! `GET /api/plan-change` (what a change would cost), `POST /api/plan-change`
//! (make it: an invoice for an upgrade or a cycle change, or a change
//! scheduled for the next renewal) and `POST /api/plan-change/cancel`
//! (cancel a scheduled one). The rules are `checkout::change`'s.

use super::payments::invoice_answer;
use super::{owned_account_view, session};
use crate::api::error::{ApiError, ApiResult};
use crate::app::App;
use crate::checkout::change::{ChangeOutcome, ChangeQuote};
use crate::http::{Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangeBody {
    account_id: String,
    plan_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelBody {
    account_id: String,
}

/// The quote: the kind of change, the figures of its price, and when the
/// account renews (unchanged by an upgrade).
fn quote_view(quote: &ChangeQuote) -> Value {
    json!({
        "kind": quote.proration.kind,
        "fromPlan": quote.from.offer(),
        "toPlan": quote.to.offer(),
        "proration": quote.proration,
        "paidUntil": quote.account.paid_until,
    })
}

pub fn quote(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let param = |name: &str| {
        request.query_param(name).ok_or_else(|| {
            ApiError::bad_request("plan_change_required", "Say which account and plan: ?accountId=…&planId=…")
        })
    };
    let quote = app.checkout.quote_change(&customer, &param("accountId")?, &param("planId")?)?;
    Ok(Response::json(200, &quote_view(&quote)))
}

pub fn change(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: ChangeBody = request.json()?;
    match app.checkout.change_plan(&customer, &body.account_id, &body.plan_id)? {
        ChangeOutcome::Invoiced(payment) => {
            let mut answer = invoice_answer(app, &payment);
            answer["kind"] = json!(payment.kind);
            answer["sandbox"] = json!(payment.sandbox);
            Ok(Response::json(201, &answer))
        }
        ChangeOutcome::Scheduled(account) => Ok(Response::json(
            200,
            &json!({"kind": "scheduled", "account": owned_account_view(app, &customer, &account)}),
        )),
    }
}

pub fn cancel(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: CancelBody = request.json()?;
    let account = app.checkout.cancel_change(&customer, &body.account_id)?;
    Ok(Response::json(200, &json!({"account": owned_account_view(app, &customer, &account)})))
}
