//! The routing table: every API endpoint in one list, method and path to
//! handler. Anything else under `/api/` is a 404; other GETs are pages.

use super::error::{ApiError, ApiResult, Failure};
use super::{accounts, auth, customers, notices, payments, plan_change, plans, receipts, wallets};
use crate::app::App;
use crate::config::Config;
use crate::http::{self, Request, Response, RunningServer, ServerSettings};
use std::sync::Arc;

type Handler = fn(&App, &Request) -> ApiResult<Response>;

const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/api/health", plans::health),
    ("GET", "/api/plans", plans::list),
    ("GET", "/api/listing", plans::listing),
    ("GET", "/api/challenge", auth::challenge),
    ("POST", "/api/verify", auth::verify),
    ("POST", "/api/logout", auth::logout),
    ("GET", "/api/check", auth::check),
    ("POST", "/api/nostrconnect", auth::nostrconnect),
    ("POST", "/api/new-user", customers::new_user),
    ("GET", "/api/profile", customers::profile),
    ("PUT", "/api/profile", customers::update_profile),
    ("POST", "/api/delete-user", customers::delete_user),
    ("POST", "/api/recover-user", customers::recover_user),
    ("GET", "/api/confirm-email", notices::check),
    ("POST", "/api/confirm-email", notices::confirm),
    ("POST", "/api/confirm-email/send", notices::send),
    ("POST", "/api/create-invoice", payments::create_invoice),
    ("GET", "/api/check-invoice", payments::check_invoice),
    ("POST", "/api/cancel-invoice", payments::cancel_invoice),
    ("GET", "/api/paywall", payments::paywall),
    ("POST", "/api/sandbox/pay", payments::sandbox_pay),
    ("POST", "/api/cpanel-login", accounts::cpanel_login),
    ("GET", "/api/auto-renew", wallets::list),
    ("POST", "/api/auto-renew", wallets::connect),
    ("POST", "/api/auto-renew/disconnect", wallets::disconnect),
    ("POST", "/api/add-account", accounts::add_account),
    ("GET", "/api/plan-change", plan_change::quote),
    ("POST", "/api/plan-change", plan_change::change),
    ("POST", "/api/plan-change/cancel", plan_change::cancel),
    // `*`: one path segment, which the handler reads (`Request::path`).
    ("GET", "/api/receipts/*", receipts::show),
    ("POST", "/api/webhooks/strike", payments::strike_webhook),
];

pub fn route(app: &App, request: &Request) -> Response {
    let (method, path) = (request.method.as_str(), request.path.as_str());
    if path.starts_with("/api/admin/") {
        return super::admin::route(app, request, matches, method_not_allowed);
    }
    let same_path = || ROUTES.iter().filter(move |(_, p, _)| matches(p, path));
    let result = match same_path().find(|(m, _, _)| *m == method) {
        Some((_, _, handler)) => handler(app, request),
        None if same_path().next().is_some() => {
            let allowed: Vec<&str> = same_path().map(|(m, _, _)| *m).collect();
            return method_not_allowed(method, &allowed.join(", "));
        }
        None if path.starts_with("/api/") => {
            Err(ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address."))
        }
        None if matches!(method, "GET" | "HEAD") => {
            if super::admin::page_hidden(app, path) {
                return Response::from(http::HttpError::not_found("not_found", "There is no page at this address."));
            }
            return app.pages.serve(request).unwrap_or_else(Response::from);
        }
        None => return method_not_allowed(method, "GET, HEAD"),
    };
    result.unwrap_or_else(Response::from)
}

/// Whether `path` is `pattern`, where a final `*` stands for one non-empty segment.
fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
        None => pattern == path,
    }
}

fn method_not_allowed(method: &str, allowed: &str) -> Response {
    let error = ApiError::new(
        Failure::MethodNotAllowed,
        "method_not_allowed",
        format!("{} is not allowed here; use {allowed}.", method.escape_debug()),
    );
    Response::from(error).with_header("Allow", allowed.to_owned())
}

/// What the pages in `public/` may do, sent as a header with every response:
/// load this site's own scripts, styles and images (and `data:` images: the
/// invoice's QR code), open WebSockets to Nostr relays (`wss:`), show a
/// customer's profile picture from anywhere on `https:`, post forms only
/// here; no plugins and no `<base>`. Pages carry no policy of their own.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' wss:; \
    img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'";

/// [`PAGE_POLICY`] for this server. A remote signer (NIP-46) answers through
/// relays: the configured `--signer-relays` for a `nostrconnect://` QR code,
/// or those a `bunker://` URI names, which are any `wss:` relay the signer
/// chose and so are already covered by `wss:`. What `wss:` does not cover is
/// a configured `ws://` relay on this machine (a local relay, as the tests
/// run): exactly those origins are added, never `ws:` as a whole.
pub fn page_policy(config: &Config) -> String {
    let plain = crate::auth::remote_signer::plain_origins(&config.signer_relays);
    if plain.is_empty() {
        return PAGE_POLICY.to_owned();
    }
    PAGE_POLICY.replacen("connect-src 'self' wss:", &format!("connect-src 'self' wss: {}", plain.join(" ")), 1)
}

/// The server's limits, from the validated settings, and the pages' policy.
pub fn server_settings(config: &Config) -> ServerSettings {
    ServerSettings {
        workers: config.workers,
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
        max_body: config.max_body,
        content_security_policy: page_policy(config),
    }
}

/// Serves `app` on its configured address through the routing table.
pub fn serve_app(app: Arc<App>) -> std::io::Result<RunningServer> {
    let (listen, settings) = (app.config.listen, server_settings(&app.config));
    let handler: http::Handler = Arc::new(move |request| route(&app, request));
    http::server::start(listen, &settings, handler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::Customer;

    fn app() -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_database(dir.path().join("database"), "127.0.0.1:0".parse().unwrap());
        (dir, App::open(config).unwrap())
    }

    fn body(response: &Response) -> serde_json::Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn handlers_answer_an_owned_request_without_a_socket() {
        let (_dir, app) = app();
        let plans = route(&app, &Request::new("GET", "/api/plans"));
        assert_eq!(plans.status, 200);
        assert_eq!(body(&plans)["plans"][0]["id"], "basic", "the seeded plan is on sale");

        let unknown = route(&app, &Request::new("GET", "/api/nothing-here"));
        assert_eq!((unknown.status, body(&unknown)["error"]["code"].as_str()), (404, Some("no_such_endpoint")));

        let wrong_method = route(&app, &Request::new("DELETE", "/api/plans"));
        assert_eq!(wrong_method.status, 405);
        assert!(wrong_method.headers.iter().any(|(name, value)| *name == "Allow" && value == "GET"));
    }

    #[test]
    fn plans_are_listed_cheapest_first_within_each_currency() {
        let (_dir, app) = app();
        let seed = crate::plan::Plan::seed(crate::timestamp::Timestamp::now());
        for (id, cents, currency) in [("zeta", 200, "USD"), ("alpha", 900, "USD"), ("euro", 100, "EUR")] {
            let plan = crate::plan::Plan {
                id: id.into(),
                price: crate::money::Money::from_cents(cents).unwrap(),
                currency: serde_json::from_value(serde_json::json!(currency)).unwrap(),
                ..seed.clone()
            };
            app.store.create(&plan).unwrap();
        }
        let plans = body(&route(&app, &Request::new("GET", "/api/plans")));
        let order: Vec<&str> = plans["plans"].as_array().unwrap().iter().filter_map(|p| p["id"].as_str()).collect();
        assert_eq!(order, ["euro", "zeta", "basic", "alpha"], "by currency, then price (basic is 5.00 USD)");
    }

    #[test]
    fn a_signed_in_caller_registers_through_the_handler() {
        let (_dir, app) = app();
        let public_key = format!("{:064x}", 7);
        let token = app.sessions.issue(&public_key, 0, crate::api::unix_now());
        let mut request = Request::new("POST", "/api/new-user");
        request.headers.push(("authorization".into(), format!("Bearer {token}")));
        request.headers.push(("content-type".into(), "application/json".into()));
        request.body = br#"{"email": "shop@example.com"}"#.to_vec();
        let created = route(&app, &request);
        assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
        let stored = app.store.find(Customer::by_public_key(&public_key)).unwrap().expect("the customer is stored");
        assert_eq!(stored.email.as_deref(), Some("shop@example.com"));
        let again = route(&app, &request);
        assert_eq!((again.status, body(&again)["error"]["code"].as_str()), (409, Some("already_registered")));
    }
}
