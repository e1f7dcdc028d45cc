//! The routing table: one `match` on method and path, each arm one call.
//! Handlers translate HTTP to calls on the application and back.

use super::request::Request;
use super::response::Response;
use super::static_files;
use crate::app::App;
use crate::error::{ApiError, ApiResult, Failure};
use crate::plan::Plan;
use serde_json::json;

pub fn route(app: &App, request: &Request) -> Response {
    let method = request.method.as_str();
    let result = match (method, request.path.as_str()) {
        ("GET", "/api/health") => health(app),
        ("GET", "/api/plans") => plans(app),
        (_, "/api/health" | "/api/plans") => Err(method_not_allowed(method)),
        (_, path) if path.starts_with("/api/") => Err(ApiError::not_found(
            "no_such_endpoint",
            "There is no API endpoint at this address.",
        )),
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

fn health(app: &App) -> ApiResult<Response> {
    let sandbox = app.sandbox();
    Ok(Response::json(
        200,
        &json!({"status": "ok", "sandbox": {"payments": sandbox.payments, "whm": sandbox.whm}}),
    ))
}

fn plans(app: &App) -> ApiResult<Response> {
    let plans: Vec<Plan> = app.plans_on_sale()?;
    let offers: Vec<_> = plans.iter().map(Plan::offer).collect();
    Ok(Response::json(200, &json!({"plans": offers})))
}
