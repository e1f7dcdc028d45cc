//! `GET|POST /api/confirm-email` (the link sent to a new address) and
//! `POST /api/confirm-email/send` (ask for another link); the profile's
//! `notices` part.

use super::error::{ApiError, ApiResult, Failure};
use super::{optional_json, session};
use crate::app::App;
use crate::customer::{self, Customer};
use crate::http::{Request, Response};
use crate::notices::confirm::{ConfirmError, ConfirmOutcome, Confirmations};
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    token: Option<String>,
}

/// Whether a link is valid, and for which address, before the customer
/// presses "Confirm" (mail scanners open links; only the POST confirms).
pub fn check(app: &App, request: &Request) -> ApiResult<Response> {
    let token = request.query_param("token").ok_or_else(missing_token)?;
    let id = Confirmations::customer_of(&token).ok_or(refused(ConfirmError::Invalid))?;
    let customer = app.store.get::<Customer>(id).map_err(|_| refused(ConfirmError::Invalid))?;
    let email = app.confirmations.check(&token, &customer, Timestamp::now()).map_err(refused)?;
    let confirmed = customer.confirmed_email().is_some();
    Ok(Response::json(200, &json!({"email": email, "confirmed": confirmed})))
}

pub fn confirm(app: &App, request: &Request) -> ApiResult<Response> {
    let body: ConfirmBody = optional_json(request)?;
    let token = body.token.ok_or_else(missing_token)?;
    match app.confirmations.confirm(&app.store, &token, Timestamp::now()) {
        Ok(customer) => {
            log::info!("customer {} confirmed their email address", customer.id);
            Ok(Response::json(200, &json!({"email": customer.email, "confirmed": true})))
        }
        Err(ConfirmOutcome::Refused(why)) => Err(refused(why)),
        Err(ConfirmOutcome::Store(error)) => Err(error.into()),
    }
}

/// Asks for another confirmation link for the caller's address.
pub fn send(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    if customer.email.is_none() || customer.confirmed_email().is_some() {
        return Err(ApiError::new(
            Failure::Conflict,
            "nothing_to_confirm",
            "There is no unconfirmed address to confirm.",
        ));
    }
    if !customer::ask_confirmation(&app.store, &customer.id, Timestamp::now())? {
        let minutes = customer::CONFIRMATION_INTERVAL.num_minutes();
        let message = format!("A link was sent less than {minutes} minutes ago; please check your mail first.");
        return Err(ApiError::new(Failure::TooManyRequests, "confirmation_recently_sent", message));
    }
    Ok(Response::json(202, &json!({"sent": true})))
}

fn missing_token() -> ApiError {
    ApiError::bad_request("missing_token", "The confirmation link has no token; open the whole link from the email.")
}

fn refused(why: ConfirmError) -> ApiError {
    let code = match why {
        ConfirmError::Invalid => "invalid_confirmation",
        ConfirmError::Expired => "confirmation_expired",
    };
    ApiError::bad_request(code, why.to_string())
}

/// The profile's `notices`: the choices, what can reach the customer, and
/// whether anything can.
pub fn view(app: &App, customer: &Customer) -> Value {
    // From the relays, bounded in time and cached (none when relays are off).
    let inbox = if app.notifier.has_inbox(&customer.public_key) { "found" } else { "none" };
    let confirmed = customer.confirmed_email().is_some();
    json!({
        "preferences": customer.notices,
        "email": customer.email.as_ref().map(|address| json!({"address": address, "confirmed": confirmed})),
        "nostrInbox": inbox,
        "reachable": inbox == "found" || confirmed,
    })
}
