//! The console's API, `/api/admin/…`: its own routing table, every route
//! but sign-in behind [`operator`], so no handler can forget the check.
//!
//! Without `--admin-npubs` nothing here exists: every path answers 404.
//! Anyone but a signed-in operator in the allow-list is answered 403 with a
//! JSON error, whatever they send.

mod access;
mod actions;
mod export;
mod overview;
mod people;

use super::error::{ApiError, ApiResult, Failure};
use super::require_own_origin;
use crate::app::App;
use crate::http::{Request, Response};

/// The signed-in operator of a console request.
pub struct Operator {
    /// Lowercase hex.
    pub public_key: String,
    pub npub: String,
}

type Handler = fn(&App, &Operator, &Request) -> ApiResult<Response>;

/// Every console route but `POST /api/admin/verify`, all behind [`operator`].
pub const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/api/admin/session", access::session),
    ("POST", "/api/admin/logout", access::logout),
    ("GET", "/api/admin/audit", access::audit),
    ("GET", "/api/admin/overview", overview::show),
    ("GET", "/api/admin/customers", people::search),
    ("GET", "/api/admin/customers/*", people::show),
    ("POST", "/api/admin/customers/suspend", actions::suspend_customer),
    ("POST", "/api/admin/customers/unsuspend", actions::unsuspend_customer),
    ("GET", "/api/admin/plans", people::plans),
    ("POST", "/api/admin/plans", people::add_plan),
    ("PUT", "/api/admin/plans/*", people::edit_plan),
    ("POST", "/api/admin/accounts/suspend", actions::suspend),
    ("POST", "/api/admin/accounts/unsuspend", actions::unsuspend),
    ("POST", "/api/admin/accounts/extend", actions::extend),
    ("POST", "/api/admin/payments/retry", actions::retry),
    ("POST", "/api/admin/payments/mark-paid", actions::mark_paid),
    ("POST", "/api/admin/payments/cancel", actions::cancel),
    ("GET", "/api/admin/export/payments.csv", export::payments),
];

/// Answers a request under `/api/admin/`; `matches` and `method_not_allowed`
/// are the main table's.
pub fn route(
    app: &App,
    request: &Request,
    matches: fn(&str, &str) -> bool,
    method_not_allowed: fn(&str, &str) -> Response,
) -> Response {
    let (method, path) = (request.method.as_str(), request.path.as_str());
    if !app.console.is_on() {
        return ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address.").into();
    }
    if path == "/api/admin/verify" {
        return match method {
            "POST" => access::verify(app, request).unwrap_or_else(Response::from),
            _ => method_not_allowed(method, "POST"),
        };
    }
    let same_path = || ROUTES.iter().filter(move |(_, p, _)| matches(p, path));
    let Some((_, _, handler)) = same_path().find(|(m, _, _)| *m == method) else {
        if same_path().next().is_none() {
            return ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address.").into();
        }
        let allowed: Vec<&str> = same_path().map(|(m, _, _)| *m).collect();
        return method_not_allowed(method, &allowed.join(", "));
    };
    operator(app, request).and_then(|operator| handler(app, &operator, request)).unwrap_or_else(Response::from)
}

/// Whether `path` is a console page on a site without a console.
pub fn page_hidden(app: &App, path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/")) && !app.console.is_on()
}

fn refused(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(Failure::Forbidden, code, message)
}

/// The operator making `request`: a console token (Bearer, or the
/// `hostr_admin` cookie, whose writes must come from the site's own pages),
/// for a key still in the allow-list, not revoked since.
pub fn operator(app: &App, request: &Request) -> ApiResult<Operator> {
    let bearer = super::bearer_token(request);
    let cookie = request.header("cookie").and_then(|h| app.console.sessions.token_in(h));
    let token = match (bearer, cookie) {
        (Some(token), _) => token,
        (None, Some(token)) => token,
        (None, None) => return Err(refused("operator_sign_in_required", "Sign in to the console first.")),
    };
    // Like customer writes: a browser sends the cookie along with requests
    // other sites trigger; any request naming another origin is refused.
    let writes = !matches!(request.method.as_str(), "GET" | "HEAD");
    if (writes && bearer.is_none()) || request.header("origin").is_some() {
        require_own_origin(app, request)?;
    }
    let claims = app.console.sessions.verify(token).map_err(|error| match error {
        crate::auth::session::SessionError::Expired => {
            refused("session_expired", "Your console session has ended. Please sign in again.")
        }
        crate::auth::session::SessionError::Invalid => refused("not_an_operator", "This key may not use the console."),
    })?;
    if !app.console.allows(&claims.sub) {
        return Err(refused("not_an_operator", "This key may not use the console."));
    }
    if claims.epoch != crate::console::access::epoch(&app.store, &claims.sub)? {
        return Err(refused("session_revoked", "This console session was signed out. Please sign in again."));
    }
    let npub = crate::customer::npub(&claims.sub).unwrap_or_default();
    Ok(Operator { public_key: claims.sub, npub })
}
