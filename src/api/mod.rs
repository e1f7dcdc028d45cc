//! The JSON API's handlers: each translates an HTTP request into calls on
//! the application and its answer back into a response. Shared here: who is
//! asking (the session), where from (client address, Origin), and bodies.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod customer_view;
pub mod customers;
pub mod error;
pub mod notices;
pub mod payments;
pub mod plan_change;
pub mod plans;
pub mod receipts;
mod routes;
pub mod wallets;

pub use routes::{route, serve_app, server_settings};

use crate::app::App;
use crate::auth::session::token_from_cookie_header;
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::http::Request;
use crate::payment::Payment;
pub use customer_view::customer_view;
use error::{ApiError, ApiResult, Failure};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;

/// The signed-in caller.
pub struct Session {
    /// Lowercase hex.
    pub public_key: String,
    /// The customer with this key, when registered.
    pub customer: Option<Customer>,
}

impl Session {
    /// The caller's customer record, or 404 when the key is not registered.
    pub fn registered(self) -> ApiResult<Customer> {
        self.customer.ok_or_else(|| {
            ApiError::not_found("not_registered", "This key is not registered yet. Create your account first.")
        })
    }
}

/// The session of the request, from `Authorization: Bearer` or the cookie.
/// A state-changing request authenticated by the cookie must also come
/// from the site's own origin: a browser sends the cookie along with
/// requests that other sites trigger.
pub fn session(app: &App, request: &Request) -> ApiResult<Session> {
    let bearer = bearer_token(request);
    let cookie = request.header("cookie").and_then(token_from_cookie_header);
    let token = match (bearer, cookie) {
        (Some(token), _) => token,
        (None, Some(token)) => {
            if !matches!(request.method.as_str(), "GET" | "HEAD") {
                require_own_origin(app, request)?;
            }
            token
        }
        (None, None) => {
            return Err(ApiError::new(Failure::Unauthorized, "not_signed_in", "Please sign in first."));
        }
    };
    let claims = app.sessions.verify(token)?;
    let customer = app.store.find(Customer::by_public_key(&claims.sub))?;
    if claims.epoch != customer.as_ref().map_or(0, |c| c.session_epoch) {
        return Err(ApiError::new(
            Failure::Unauthorized,
            "session_revoked",
            "This session was signed out. Please sign in again.",
        ));
    }
    Ok(Session { public_key: claims.sub, customer })
}

/// The token of an `Authorization: Bearer` header, if any; the scheme
/// name is case-insensitive (RFC 9110).
pub fn bearer_token(request: &Request) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Refuses a request that a page on another site made the browser send.
/// Scripts and API clients send no `Origin`; browsers always do on POST,
/// and a same-origin fetch without one still says `Sec-Fetch-Site: same-origin`.
pub fn require_own_origin(app: &App, request: &Request) -> ApiResult<()> {
    let own = match request.header("origin") {
        Some(origin) => origin.eq_ignore_ascii_case(app.config.public_url.origin()),
        None => request.header("sec-fetch-site") == Some("same-origin"),
    };
    if own {
        Ok(())
    } else {
        Err(ApiError::new(Failure::Forbidden, "cross_origin", "This request must come from the site's own pages."))
    }
}

/// The client's address: the peer, or behind a trusted proxy the last
/// address the proxy appended to `X-Forwarded-For`.
pub fn client_ip(app: &App, request: &Request) -> IpAddr {
    let forwarded = app
        .config
        .trust_forwarded_for
        .then(|| request.header("x-forwarded-for")?.rsplit(',').next()?.trim().parse().ok())
        .flatten();
    forwarded.or(request.remote.map(|a| a.ip())).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The JSON body, or `T::default()` when the body is empty.
pub fn optional_json<T: DeserializeOwned + Default>(request: &Request) -> ApiResult<T> {
    if request.body.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { Ok(request.json()?) }
}

/// A payment as its customer sees it: the operator's error details stay in
/// the file and the log.
pub fn payment_view(payment: &Payment) -> Value {
    let mut value = serde_json::to_value(payment).unwrap_or(Value::Null);
    if let Some(fulfilment) = value.get_mut("fulfilment").and_then(Value::as_object_mut) {
        fulfilment.remove("lastError");
    }
    // The receipt itself is served by `GET /api/receipts/<id>`; lists say
    // only that there is one, and the failure is the operator's business.
    if let Some(fields) = value.as_object_mut() {
        fields.remove("receiptFailure");
        if let Some(receipt) = payment.receipt.as_ref() {
            fields.insert("receipt".into(), serde_json::json!({"number": receipt.number, "label": receipt.label}));
        }
    }
    value
}

/// An account as its customer sees it: without the operator's notes and
/// hostr's bookkeeping with WHM.
pub fn account_view(account: &CpanelAccount) -> Value {
    let mut value = serde_json::to_value(account).unwrap_or(Value::Null);
    if let Some(fields) = value.as_object_mut() {
        for internal in
            ["suspendReason", "createRequestedAt", "whmCreatedAt", "whmPackage", "packageRequest", "serverId"]
        {
            fields.remove(internal);
        }
    }
    value
}

/// An account as its owner sees it on the profile and the success screen:
/// with its `firstSteps` (cPanel user, where to point the domain) while it
/// and its owner are in good standing, else `null`. From the settings and
/// WHM as last read: never a WHM call per request.
pub fn owned_account_view(app: &App, owner: &Customer, account: &CpanelAccount) -> Value {
    let mut value = account_view(account);
    let steps = (owner.status == crate::customer::CustomerStatus::Active)
        .then(|| app.provisioner.first_steps(&app.config.server, account))
        .flatten();
    if let Some(fields) = value.as_object_mut() {
        fields.insert("firstSteps".to_owned(), serde_json::to_value(steps).unwrap_or(Value::Null));
    }
    value
}

/// `text` as a QR code in SVG, at least 240 px square with its quiet zone.
pub fn qr_svg_of(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text).ok()?;
    Some(code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
}

/// Unix time now, in seconds.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
