//! The routing table: one `match` on method and path, each arm one call.

use super::request::Request;
use super::response::Response;
use super::static_files;
use crate::api::{auth, customers, plans};
use crate::app::App;
use crate::error::{ApiError, Failure};

pub fn route(app: &App, request: &Request) -> Response {
    let method = request.method.as_str();
    let result = match (method, request.path.as_str()) {
        ("GET", "/api/health") => plans::health(app),
        ("GET", "/api/plans") => plans::list(app),
        ("GET", "/api/challenge") => auth::challenge(app, request),
        ("POST", "/api/verify") => auth::verify(app, request),
        ("POST", "/api/logout") => auth::logout(app, request),
        ("GET", "/api/check") => auth::check(app, request),
        ("POST", "/api/new-user") => customers::new_user(app, request),
        ("GET", "/api/profile") => customers::profile(app, request),
        ("PUT", "/api/profile") => customers::update_profile(app, request),
        ("POST", "/api/delete-user") => customers::delete_user(app, request),
        ("POST", "/api/recover-user") => customers::recover_user(app, request),
        (
            _,
            "/api/health" | "/api/plans" | "/api/challenge" | "/api/verify" | "/api/logout" | "/api/check"
            | "/api/new-user" | "/api/profile" | "/api/delete-user" | "/api/recover-user",
        ) => Err(method_not_allowed(method)),
        (_, path) if path.starts_with("/api/") => {
            Err(ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address."))
        }
        ("GET" | "HEAD", _) => static_files::serve(&app.config.public_dir, request),
        _ => Err(method_not_allowed(method)),
    };
    result.unwrap_or_else(Response::from)
}

fn method_not_allowed(method: &str) -> ApiError {
    ApiError::new(
        Failure::MethodNotAllowed,
        "method_not_allowed",
        format!("{} is not allowed here.", method.escape_debug()),
    )
}
