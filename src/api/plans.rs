//! Health and the plans on sale.

use crate::api::error::ApiResult;
use crate::app::App;
use crate::http::{Request, Response};
use crate::plan::Plan;
use serde_json::json;

/// `ok`, or `degraded` with what needs the operator. Always 200: the server
/// answers; monitors read `status`.
pub fn health(app: &App, _request: &Request) -> ApiResult<Response> {
    let sandbox = app.sandbox();
    let health = app.health();
    Ok(Response::json(
        200,
        &json!({
            "status": if health.is_degraded() { "degraded" } else { "ok" },
            "unreadableRecords": health.unreadable_records,
            "failedFulfilments": health.failed_fulfilments,
            "whm": health.whm.as_str(),
            "sandbox": {"payments": sandbox.payments, "whm": sandbox.whm},
            "contact": {"npub": app.config.contact.npub, "email": app.config.contact.email},
        }),
    ))
}

pub fn list(app: &App, _request: &Request) -> ApiResult<Response> {
    let plans: Vec<Plan> = app.plans_on_sale()?;
    let offers: Vec<_> = plans.iter().map(Plan::offer).collect();
    Ok(Response::json(200, &json!({"plans": offers})))
}
