//! Health and the plans on sale.

use crate::api::error::ApiResult;
use crate::app::App;
use crate::http::{Request, Response};
use crate::plan::Plan;
use serde_json::json;

pub fn health(app: &App, _request: &Request) -> ApiResult<Response> {
    let sandbox = app.sandbox();
    Ok(Response::json(200, &json!({"status": "ok", "sandbox": {"payments": sandbox.payments, "whm": sandbox.whm}})))
}

pub fn list(app: &App, _request: &Request) -> ApiResult<Response> {
    let plans: Vec<Plan> = app.plans_on_sale()?;
    let offers: Vec<_> = plans.iter().map(Plan::offer).collect();
    Ok(Response::json(200, &json!({"plans": offers})))
}
