//! `GET /api/receipts/<payment id>`: a customer's own receipt, with the
//! operator's key it must be signed by. Another customer's payment and an
//! unknown id get the same 404, so ids of others cannot be probed.

use super::session;
use crate::api::error::{ApiError, ApiResult};
use crate::app::App;
use crate::http::{Request, Response};
use crate::payment::{Payment, PaymentState};
use crate::store::StoreError;
use serde_json::json;

pub fn show(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let id = request.path.rsplit('/').next().unwrap_or_default();
    let unknown = || ApiError::not_found("no_such_receipt", "You have no receipt with this id.");
    let payment = match app.store.get::<Payment>(id) {
        Ok(payment) if payment.customer_id == customer.id => payment,
        Ok(_) | Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => return Err(unknown()),
        Err(other) => return Err(other.into()),
    };
    let Some(receipt) = payment.receipt else {
        let message = match payment.state {
            PaymentState::Paid => "The receipt of this payment is being issued. Try again in a minute.",
            _ => "This payment is not paid, so it has no receipt.",
        };
        return Err(ApiError::not_found("receipt_not_issued", message));
    };
    let operator = app.receipts.operator();
    let answer = json!({
        "paymentId": payment.id,
        "receipt": receipt,
        "operator": {"publicKey": operator.public_key().to_hex(), "npub": operator.npub()},
    });
    Ok(Response::json(200, &answer))
}
