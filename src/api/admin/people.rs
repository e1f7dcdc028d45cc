//! Customers (search, one customer with all that is theirs) and plans (list,
//! add, edit through `plan::add` and `plan::edit`, as `hostr plan` does).

use super::Operator;
use crate::api::error::{ApiError, ApiResult};
use crate::app::App;
use crate::console::audit::{self, AuditEntry, Target};
use crate::cpanel_account::CpanelAccount;
use crate::customer::{Customer, npub, parse_public_key};
use crate::http::{Request, Response};
use crate::ids::IdFormat;
use crate::notices::Notice;
use crate::payment::Payment;
use crate::plan::{self, NewPlan, Plan, PlanChange};
use crate::store::StoreError;
use serde_json::{Value, json};

/// The most customers one search answers.
const MAX_FOUND: usize = 50;

fn summary(customer: &Customer, accounts: &[CpanelAccount]) -> Value {
    let domains: Vec<&str> =
        accounts.iter().filter(|a| a.customer_id == customer.id).map(|a| a.domain.as_str()).collect();
    json!({"id": customer.id, "npub": npub(&customer.public_key), "publicKey": customer.public_key,
           "email": customer.email, "status": customer.status, "domains": domains, "createdAt": customer.created_at})
}

/// Whether `customer` is what `query` (lowercase, trimmed) names: their id,
/// their key (hex or npub, parsed), part of their email or of a domain of theirs.
fn is_match(query: &str, key: Option<&str>, customer: &Customer, accounts: &[CpanelAccount]) -> bool {
    query.is_empty()
        || key == Some(customer.public_key.as_str())
        || customer.id == query
        || customer.email.as_deref().is_some_and(|e| e.to_lowercase().contains(query))
        || accounts.iter().any(|a| a.customer_id == customer.id && a.domain.contains(query))
}

/// `GET /api/admin/customers?q=`: by npub, hex key, id, email or domain;
/// newest first, at most 50.
pub fn search(app: &App, _operator: &Operator, request: &Request) -> ApiResult<Response> {
    let query = request.query_param("q").unwrap_or_default().trim().to_lowercase();
    let key = parse_public_key(&query).ok();
    let accounts = app.store.list_readable::<CpanelAccount>()?;
    let mut customers: Vec<Customer> = app
        .store
        .list_readable::<Customer>()?
        .into_iter()
        .filter(|c| is_match(&query, key.as_deref(), c, &accounts))
        .collect();
    customers.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    customers.truncate(MAX_FOUND);
    let found: Vec<Value> = customers.iter().map(|c| summary(c, &accounts)).collect();
    Ok(Response::json(200, &json!({"customers": found})))
}

/// `GET /api/admin/customers/<id>`: the customer (the private suspension
/// reason included), their accounts, payments, receipts and notices.
pub fn show(app: &App, _operator: &Operator, request: &Request) -> ApiResult<Response> {
    let id = request.path.rsplit('/').next().unwrap_or_default();
    if !IdFormat::Uuid.accepts(id) {
        return Err(ApiError::not_found("unknown_customer", "There is no customer with this id."));
    }
    let customer: Customer = app.store.get(id).map_err(|e| match e {
        StoreError::NotFound { .. } => ApiError::not_found("unknown_customer", "There is no customer with this id."),
        other => other.into(),
    })?;
    let accounts = app.store.find_all(CpanelAccount::by_customer(&customer.id))?;
    let mut payments = app.store.find_all(Payment::by_customer(&customer.id))?;
    payments.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let receipts: Vec<Value> =
        payments.iter().filter_map(|p| Some(json!({"paymentId": p.id, "label": p.receipt.as_ref()?.label}))).collect();
    let mut notices: Vec<Notice> = app
        .store
        .list_readable::<Notice>()?
        .into_iter()
        .filter(|n| n.customer_id.as_deref() == Some(customer.id.as_str()))
        .collect();
    notices.sort_by(|a, b| b.id.cmp(&a.id));
    let answer = json!({"customer": customer, "npub": npub(&customer.public_key), "accounts": accounts,
                        "payments": payments, "receipts": receipts, "notices": notices});
    Ok(Response::json(200, &answer))
}

/// `GET /api/admin/plans`: every plan, on sale or not.
pub fn plans(app: &App, _operator: &Operator, _request: &Request) -> ApiResult<Response> {
    Ok(Response::json(200, &json!({"plans": app.store.list_readable::<Plan>()?})))
}

/// `POST /api/admin/plans`: a new plan, as `hostr plan add` makes it.
pub fn add_plan(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let new: NewPlan = request.json()?;
    let id = new.id.clone();
    let added = plan::add(&app.store, new).map_err(|e| match e {
        StoreError::AlreadyExists { .. } => {
            ApiError::new(crate::api::error::Failure::Conflict, "plan_exists", format!("A plan `{id}` exists already."))
        }
        other => other.into(),
    })?;
    let entry = AuditEntry::now(&operator.npub, "plan.add", Target::new("plan", &added.id));
    let empty = json!({});
    audit::record_or_log(&app.store, &entry.changing(&empty, &serde_json::to_value(&added).unwrap_or_default()));
    Ok(Response::json(201, &added))
}

/// `PUT /api/admin/plans/<id>`: the fields given replace the plan's, as
/// `hostr plan edit` does.
pub fn edit_plan(app: &App, operator: &Operator, request: &Request) -> ApiResult<Response> {
    let id = request.path.rsplit('/').next().unwrap_or_default();
    let change: PlanChange = request.json()?;
    let (before, after) = plan::edit(&app.store, id, &change)?;
    let entry = AuditEntry::now(&operator.npub, "plan.edit", Target::new("plan", &after.id));
    audit::record_or_log(&app.store, &entry.changing(&before, &after));
    Ok(Response::json(200, &after))
}
