//! Health and the plans on sale.

use crate::api::error::{ApiError, ApiResult};
use crate::app::App;
use crate::http::{Request, Response};
use crate::listing::{NaddrError, plan_of_naddr};
use crate::plan::Plan;
use crate::store::StoreError;
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
            "whmServers": app.provisioner.server_health().into_iter()
                .map(|(id, h)| (id, serde_json::Value::from(h.as_str()))).collect::<serde_json::Map<_, _>>(),
            "sandbox": {"payments": sandbox.payments, "whm": sandbox.whm},
            "contact": {"npub": app.config.contact.npub, "email": app.config.contact.email},
            "operator": {"npub": app.operator.npub()},
            "relays": match app.outbox.health() {
                Some(relays) => json!(relays),
                None => json!("off"),
            },
        }),
    ))
}

/// `?naddr=naddr1…`: the plan one of the operator's listings is for, so a
/// listing seen in a Nostr client leads to checkout.
pub fn listing(app: &App, request: &Request) -> ApiResult<Response> {
    let naddr = request
        .query_param("naddr")
        .ok_or_else(|| ApiError::bad_request("missing_naddr", "Give the listing's address as ?naddr=naddr1…"))?;
    let plan_id = plan_of_naddr(&naddr, app.operator.public_key()).map_err(|e| match e {
        NaddrError::Malformed => ApiError::bad_request("invalid_naddr", "That is not a Nostr address (naddr1…)."),
        NaddrError::NotOurs => {
            ApiError::not_found("not_our_listing", "That address is not a plan listing of this shop.")
        }
    })?;
    let plan: Plan = app.store.get(&plan_id).map_err(|e| match e {
        StoreError::NotFound { .. } | StoreError::InvalidId { .. } => {
            ApiError::not_found("no_such_plan", "This shop has no such plan any more.")
        }
        other => ApiError::from(other),
    })?;
    Ok(Response::json(200, &json!({"plan": plan.id, "available": plan.available})))
}

pub fn list(app: &App, _request: &Request) -> ApiResult<Response> {
    let plans: Vec<Plan> = app.plans_on_sale()?;
    let offers: Vec<_> = plans.iter().map(Plan::offer).collect();
    Ok(Response::json(200, &json!({"plans": offers})))
}
