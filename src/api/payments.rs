//! `POST /api/create-invoice`, `GET /api/check-invoice`,
//! `POST /api/cancel-invoice`, `GET /api/paywall`, `POST /api/sandbox/pay`
//! and Strike's `POST /api/webhooks/strike`.

use super::{account_view, owned_account_view, payment_view, session};
use crate::api::error::{ApiError, ApiResult, Failure};
use crate::app::App;
use crate::checkout::{CheckoutError, Purchase};
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::customer::{Customer, CustomerStatus};
use crate::http::{Request, Response};
use crate::payment::Payment;
use crate::plan::Plan;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInvoiceBody {
    plan_id: Option<String>,
    domain: Option<String>,
    account_id: Option<String>,
    /// How many periods to buy at once; the plan's smallest number if absent.
    periods: Option<u32>,
    // Anything else a client sends (a price, an amount) is ignored: prices
    // come from the plan on the server.
}

pub fn create_invoice(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: CreateInvoiceBody = request.json()?;
    let periods = body.periods;
    let purchase = match body {
        CreateInvoiceBody { account_id: Some(account_id), plan_id: None, domain: None, .. } => {
            Purchase::Renewal { account_id }
        }
        CreateInvoiceBody { plan_id: Some(plan_id), domain: Some(domain), account_id: None, .. } => {
            Purchase::NewAccount { plan_id, domain }
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_purchase",
                "Send either {\"planId\", \"domain\"} for a new account or {\"accountId\"} to renew one.",
            ));
        }
    };
    let payment = app.checkout.create_invoice_for(&customer, purchase, periods)?;
    let mut answer = invoice_answer(app, &payment);
    answer["sandbox"] = json!(payment.sandbox);
    Ok(Response::json(201, &answer))
}

pub fn check_invoice(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let payment_id = request
        .query_param("paymentId")
        .ok_or_else(|| ApiError::bad_request("payment_id_required", "Say which payment: ?paymentId=…"))?;
    own_payment(app, &customer, &payment_id)?;
    let refresh = request.query_param("refresh").is_some_and(|v| v == "true" || v == "1");
    let payment = app.checkout.check(&payment_id, refresh)?;
    let account = match payment.account_id.as_deref() {
        Some(id) => app.store.get::<CpanelAccount>(id).ok(),
        None => None,
    };
    let mut answer = invoice_answer(app, &payment);
    answer["account"] = json!(account.as_ref().map(|a| owned_account_view(app, &customer, a)));
    Ok(Response::json(200, &answer))
}

/// What the payment page draws an invoice from: the payment, its QR code,
/// when the payment's own lifetime ends (`payableUntil`: no new quote
/// after it) and the server's clock (`serverTime`), against which the page
/// judges whether a quote has expired, whatever the customer's clock says.
pub(super) fn invoice_answer(app: &App, payment: &Payment) -> Value {
    json!({
        "payment": payment_view(payment),
        "qrSvg": qr_svg(payment),
        "payableUntil": app.checkout.payable_until(payment),
        "serverTime": crate::timestamp::Timestamp::now(),
    })
}

/// The body of the requests about one payment of the caller's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PaymentIdBody {
    payment_id: String,
}

/// The customer gives up an open purchase: the invoice is cancelled at the
/// provider and the domain is free again. Allowed to suspended and deleted
/// customers too: it only ever ends something.
pub fn cancel_invoice(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: PaymentIdBody = request.json()?;
    own_payment(app, &customer, &body.payment_id)?;
    let payment = app.checkout.cancel(&body.payment_id)?;
    Ok(Response::json(200, &json!({"payment": payment_view(&payment)})))
}

pub fn sandbox_pay(app: &App, request: &Request) -> ApiResult<Response> {
    if !app.checkout.is_sandbox() {
        return Err(CheckoutError::NoSandbox.into());
    }
    let customer = session(app, request)?.registered()?;
    let body: PaymentIdBody = request.json()?;
    let payment = own_payment(app, &customer, &body.payment_id)?;
    let payment = app.checkout.pay_in_sandbox(&payment)?;
    Ok(Response::json(200, &json!({"payment": payment_view(&payment), "sandbox": true})))
}

pub fn paywall(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let accounts: Vec<CpanelAccount> =
        customer.cpanel_account_ids.iter().filter_map(|id| app.store.get::<CpanelAccount>(id).ok()).collect();
    let reason = match customer.status {
        CustomerStatus::Deleted => "deleted",
        CustomerStatus::Suspended => "suspended",
        CustomerStatus::Active if accounts.iter().any(|a| a.status == AccountStatus::Active) => {
            let active: Vec<&CpanelAccount> = accounts.iter().filter(|a| a.status == AccountStatus::Active).collect();
            let active: Vec<Value> = active.into_iter().map(account_view).collect();
            return Ok(Response::json(200, &json!({"access": true, "accounts": active})));
        }
        CustomerStatus::Active if accounts.iter().any(|a| a.status == AccountStatus::Suspended) => "suspended",
        CustomerStatus::Active if !accounts.is_empty() => "expired",
        CustomerStatus::Active => "no_plan",
    };
    let plans: Vec<Plan> = app.plans_on_sale()?;
    let offers: Vec<_> = plans.iter().map(Plan::offer).collect();
    Ok(Response::json(402, &json!({"access": false, "reason": reason, "plans": offers})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookEvent {
    /// The event's own id: the same for every delivery of one event.
    #[serde(default)]
    id: Option<String>,
    event_type: String,
    data: WebhookData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookData {
    entity_id: String,
}

/// Strike's webhook: accepted only with a valid signature over the raw body,
/// and only a hint: the invoice is read back from Strike by the payment
/// worker, so duplicates, replays and reordering change nothing (and
/// replays of one event cost no more reads: see `worker.rs`). Answers at
/// once, well within Strike's 5-second budget.
pub fn strike_webhook(app: &App, request: &Request) -> ApiResult<Response> {
    let secret = app.config.strike.as_ref().and_then(|s| s.webhook_secret.as_deref());
    let signature = request.header("x-webhook-signature").unwrap_or("");
    if !secret.is_some_and(|secret| signature_matches(secret, &request.body, signature)) {
        return Err(ApiError::new(Failure::Unauthorized, "bad_signature", "The webhook signature does not match."));
    }
    let event: WebhookEvent = serde_json::from_slice(&request.body)
        .map_err(|_| ApiError::bad_request("malformed_event", "The webhook is not a Strike event."))?;
    let plausible_id = event.data.entity_id.len() <= 64
        && event.data.entity_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if event.event_type.starts_with("invoice.") && plausible_id {
        let event_id = event.id.filter(|id| id.len() <= 64);
        app.checkout.hint_invoice(event.data.entity_id, event_id);
    }
    Ok(Response::json(200, &json!({"received": true})))
}

/// HMAC-SHA256 of the raw body with the secret, against the hex header (any
/// letter case), compared in constant time.
pub fn signature_matches(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(given) = hex::decode(header.trim()) else { return false };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn own_payment(app: &App, customer: &Customer, payment_id: &str) -> ApiResult<Payment> {
    let payment: Payment = app.store.get(payment_id)?;
    if payment.customer_id != customer.id {
        return Err(ApiError::new(Failure::Forbidden, "not_your_payment", "That is not one of your payments."));
    }
    Ok(payment)
}

/// The BOLT11 as a QR code in SVG, `lightning:`-prefixed and upper-cased
/// (which QR codes store most compactly, and wallets accept).
fn qr_svg(payment: &Payment) -> Option<String> {
    let bolt11 = payment.bolt11.as_deref()?;
    super::qr_svg_of(&format!("LIGHTNING:{}", bolt11.to_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signatures_are_hmac_sha256_hex_in_any_case() {
        let body = br#"{"id":"e1","eventType":"invoice.updated","data":{"entityId":"abc"}}"#;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"secret-1234").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(signature_matches("secret-1234", body, &good));
        assert!(signature_matches("secret-1234", body, &good.to_uppercase()));
        assert!(!signature_matches("secret-1234", b"{}", &good), "another body");
        assert!(!signature_matches("another-secret", body, &good));
        assert!(!signature_matches("secret-1234", body, ""));
        assert!(!signature_matches("secret-1234", body, "zz"));
        assert!(!signature_matches("secret-1234", body, &good[..32]));
    }
}
