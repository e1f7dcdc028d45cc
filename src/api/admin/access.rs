//! Signing in to the console and out of it, and reading the audit log.

use super::Operator;
use crate::api::error::{ApiError, ApiResult, Failure};
use crate::api::{optional_json, require_own_origin, unix_now};
use crate::app::App;
use crate::auth::login_event;
use crate::console::audit::{self, AuditEntry, Target};
use crate::customer::npub;
use crate::http::{Request, Response};
use crate::timestamp::Timestamp;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use std::time::Instant;

/// The `u` a console sign-in event names: not the customers' `/api/verify`,
/// so an event signed to sign in as a customer cannot open the console.
pub fn verify_url(app: &App) -> String {
    format!("{}/api/admin/verify", app.config.public_url.origin())
}

#[derive(Deserialize)]
struct VerifyBody {
    event: Box<RawValue>,
}

/// `POST /api/admin/verify`: the customers' challenge, answered by an event
/// for [`verify_url`], from a key in the allow-list.
pub fn verify(app: &App, request: &Request) -> ApiResult<Response> {
    if request.header("origin").is_some() {
        require_own_origin(app, request)?;
    }
    let body: VerifyBody = request.json()?;
    let max_age = app.challenges.lifetime().as_secs() as i64;
    let login = login_event::check(&body.event, &verify_url(app), unix_now(), max_age)?;
    app.challenges.consume(&login.challenge, Instant::now())?;
    if !app.console.allows(&login.public_key) {
        return Err(ApiError::new(Failure::Forbidden, "not_an_operator", "This key may not use the console."));
    }
    let epoch = crate::console::access::epoch(&app.store, &login.public_key)?;
    let token = app.console.sessions.issue(&login.public_key, epoch, unix_now());
    let cookie = app.console.sessions.cookie(&token, app.config.public_url.is_https());
    let npub = npub(&login.public_key).unwrap_or_default();
    audit::record_or_log(&app.store, &AuditEntry::now(&npub, "sign-in", Target::new("operator", &npub)));
    let expires_at = Timestamp::from(chrono::Utc::now() + app.console.sessions.lifetime());
    let answer = json!({"publicKey": login.public_key, "npub": npub, "token": token, "expiresAt": expires_at});
    Ok(Response::json(200, &answer).with_header("Set-Cookie", cookie))
}

/// `GET /api/admin/session`: who is signed in.
pub fn session(_app: &App, operator: &Operator, _request: &Request) -> ApiResult<Response> {
    Ok(Response::json(200, &json!({"publicKey": operator.public_key, "npub": operator.npub})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    #[serde(default)]
    everywhere: bool,
}

/// `POST /api/admin/logout`: clears the cookie; with `everywhere`, ends
/// every console session of this key.
pub fn logout(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let body: LogoutBody = optional_json(request)?;
    if body.everywhere {
        crate::console::access::revoke(&app.store, &operator.public_key)?;
        let entry = AuditEntry::now(&operator.npub, "sign-out-everywhere", Target::new("operator", &operator.npub));
        audit::record_or_log(&app.store, &entry);
    }
    let clear = app.console.sessions.clearing(app.config.public_url.is_https());
    Ok(Response::new(204, "", Vec::new()).with_header("Set-Cookie", clear))
}

/// `GET /api/admin/audit?q=&limit=`: the log, newest first.
pub fn audit(app: &App, _operator: &Operator, request: &Request) -> ApiResult<Response> {
    let filter = request.query_param("q").unwrap_or_default();
    let limit = match request.query_param("limit") {
        None => 200,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .ok_or_else(|| ApiError::bad_request("bad_limit", "limit must be a whole number from 1 to 5000."))?,
    };
    let entries = audit::newest_first(&app.store, &filter, limit)?;
    Ok(Response::json(200, &json!({"entries": entries})))
}
