//! The routing table: every API endpoint in one list, method and path to
//! handler. Anything else under `/api/` is a 404; other GETs are pages.

use super::request::Request;
use super::response::Response;
use super::static_files;
use crate::api::{accounts, auth, customers, payments, plans};
use crate::app::App;
use crate::error::{ApiError, ApiResult, Failure};

type Handler = fn(&App, &Request) -> ApiResult<Response>;

const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/api/health", plans::health),
    ("GET", "/api/plans", plans::list),
    ("GET", "/api/challenge", auth::challenge),
    ("POST", "/api/verify", auth::verify),
    ("POST", "/api/logout", auth::logout),
    ("GET", "/api/check", auth::check),
    ("POST", "/api/new-user", customers::new_user),
    ("GET", "/api/profile", customers::profile),
    ("PUT", "/api/profile", customers::update_profile),
    ("POST", "/api/delete-user", customers::delete_user),
    ("POST", "/api/recover-user", customers::recover_user),
    ("POST", "/api/create-invoice", payments::create_invoice),
    ("GET", "/api/check-invoice", payments::check_invoice),
    ("GET", "/api/paywall", payments::paywall),
    ("POST", "/api/sandbox/pay", payments::sandbox_pay),
    ("POST", "/api/cpanel-login", accounts::cpanel_login),
    ("POST", "/api/webhooks/strike", payments::strike_webhook),
];

pub fn route(app: &App, request: &Request) -> Response {
    let (method, path) = (request.method.as_str(), request.path.as_str());
    let same_path = || ROUTES.iter().filter(move |(_, p, _)| *p == path);
    let result = match same_path().find(|(m, _, _)| *m == method) {
        Some((_, _, handler)) => handler(app, request),
        None if same_path().next().is_some() => {
            let allowed: Vec<&str> = same_path().map(|(m, _, _)| *m).collect();
            return method_not_allowed(method, &allowed.join(", "));
        }
        None if path.starts_with("/api/") => {
            Err(ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address."))
        }
        None if matches!(method, "GET" | "HEAD") => static_files::serve(&app.config.public_dir, request),
        None => return method_not_allowed(method, "GET, HEAD"),
    };
    result.unwrap_or_else(Response::from)
}

fn method_not_allowed(method: &str, allowed: &str) -> Response {
    let error = ApiError::new(
        Failure::MethodNotAllowed,
        "method_not_allowed",
        format!("{} is not allowed here; use {allowed}.", method.escape_debug()),
    );
    Response::from(error).with_header("Allow", allowed)
}
