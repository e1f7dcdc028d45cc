//! `POST /api/new-user`, `GET|PUT /api/profile`, `POST /api/delete-user`,
//! `POST /api/recover-user`.

use super::{customer_view, optional_json, owned_account_view, payment_view, session, unix_now};
use crate::api::error::{ApiError, ApiResult, Failure};
use crate::app::App;
use crate::cpanel_account::CpanelAccount;
use crate::customer::{self, Customer, CustomerError, CustomerResult, CustomerStatus, ProfileChange, npub};
use crate::http::{Request, Response};
use crate::payment::Payment;
use crate::plan::Plan;
use crate::profile::metadata_from_event;
use crate::store::{Record, StoreError};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::time::Instant;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    email: Option<String>,
}

pub fn new_user(app: &App, request: &Request) -> ApiResult<Response> {
    let caller = session(app, request)?;
    if caller.customer.is_some() {
        return Err(CustomerError::AlreadyRegistered.into());
    }
    let body: NewUserBody = optional_json(request)?;
    let customer = within_email_allowance(app, &caller.public_key, body.email.is_some(), || {
        customer::register(&app.store, &caller.public_key, body.email.as_deref(), Timestamp::now())
    })?;
    log::info!("new customer {} ({})", customer.id, npub(&customer.public_key).unwrap_or_default());
    Ok(Response::json(201, &json!({"customer": customer_view(&customer)})))
}

pub fn profile(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    profile_response(app, customer)
}

/// `email`: absent leaves it, `null` removes it, a string sets it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    /// The signed kind-0 event, as its JSON text.
    metadata: Option<Box<RawValue>>,
    notices: Option<customer::NoticePreferences>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

pub fn update_profile(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    if customer.status == CustomerStatus::Deleted {
        return Err(CustomerError::Deleted.into());
    }
    let body: ProfileBody = request.json()?;
    let metadata = match &body.metadata {
        Some(event) => Some(metadata_from_event(event, &customer.public_key, unix_now())?),
        None => None,
    };
    let sets_email = matches!(body.email, Some(Some(_)));
    let updated = within_email_allowance(app, &customer.public_key, sets_email, || {
        let change = ProfileChange { email: body.email, metadata, notices: body.notices };
        customer::update_profile(&app.store, &customer, change)
    })?;
    if let Some(nip05) = updated.unchecked_nip05() {
        app.nip05.schedule(&updated.id, nip05, &updated.public_key);
    }
    profile_response(app, updated)
}

#[derive(Deserialize, Default)]
struct DeleteBody {
    confirm: Option<String>,
}

pub fn delete_user(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: DeleteBody = optional_json(request)?;
    let deleted = customer::delete(&app.store, &customer, body.confirm.as_deref(), Timestamp::now())?;
    log::info!("customer {} deleted their account", deleted.id);
    Ok(Response::json(
        200,
        &json!({"customer": customer_view(&deleted), "purgeAfter": deleted.purge_after(grace(app))}),
    ))
}

pub fn recover_user(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let recovered = customer::recover(&app.store, &customer, grace(app), Timestamp::now())?;
    log::info!("customer {} recovered their account", recovered.id);
    Ok(Response::json(200, &json!({"customer": customer_view(&recovered)})))
}

/// Runs a use case that may set an email address, within the caller's
/// allowance of addresses refused as already in use: once it is spent,
/// every address is refused for a while, taken or not, so that probing
/// which addresses belong to customers learns nothing more.
fn within_email_allowance<T>(
    app: &App,
    public_key: &str,
    sets_email: bool,
    change: impl FnOnce() -> CustomerResult<T>,
) -> ApiResult<T> {
    let now = Instant::now();
    if sets_email && !app.email_refusals.has_token(&public_key.to_owned(), now) {
        return Err(ApiError::new(
            Failure::TooManyRequests,
            "too_many_email_attempts",
            "Too many email addresses could not be used. Please try again in an hour.",
        ));
    }
    match change() {
        Err(CustomerError::EmailTaken) => {
            app.email_refusals.take(public_key.to_owned(), now);
            Err(CustomerError::EmailTaken.into())
        }
        other => Ok(other?),
    }
}

fn grace(app: &App) -> chrono::Duration {
    chrono::Duration::from_std(app.config.deletion_grace).unwrap_or(chrono::Duration::days(30))
}

fn profile_response(app: &App, customer: Customer) -> ApiResult<Response> {
    let accounts = load_all::<CpanelAccount>(app, &customer.cpanel_account_ids)?;
    let payments = load_all::<Payment>(app, &customer.payment_ids)?;
    let named = accounts.readable.iter().map(|a| &a.plan_id).chain(payments.readable.iter().map(|p| &p.plan_id));
    let plans = plans_named(app, named)?;
    Ok(Response::json(
        200,
        &json!({
            "npub": npub(&customer.public_key),
            "metadata": customer.metadata,
            "cpanelAccounts": accounts.readable.iter().map(|a| owned_account_view(app, &customer, a)).collect::<Vec<_>>(),
            "payments": payments.readable.iter().map(payment_view).collect::<Vec<_>>(),
            // Records that exist but cannot be read now: the page says so
            // rather than showing a paying customer no hosting at all.
            "unavailable": {"cpanelAccounts": accounts.unavailable, "payments": payments.unavailable},
            "plans": plans,
            "notices": super::notices::view(app, &customer),
            "customer": customer_view(&customer),
        }),
    ))
}

/// The plans `ids` name, on sale or not (a renewal keeps its plan), as
/// `{id: offer + onSale}`; `null` for one that cannot be read or no longer
/// exists, so the pages can say so instead of showing a bare id. Listing
/// the plans logs a broken plan file once.
fn plans_named<'a>(app: &App, ids: impl Iterator<Item = &'a String>) -> ApiResult<Map<String, Value>> {
    let readable = app.store.list_readable::<Plan>()?;
    let mut plans = Map::new();
    for id in ids {
        let plan = readable.iter().find(|plan| &plan.id == id).map(|plan| {
            let mut offer = json!(plan.offer());
            offer["onSale"] = json!(plan.available);
            offer
        });
        plans.insert(id.clone(), plan.unwrap_or(Value::Null));
    }
    Ok(plans)
}

/// The records a customer's file names, as far as they can be read.
struct Loaded<T> {
    readable: Vec<T>,
    /// How many exist but cannot be read until the operator fixes them.
    unavailable: usize,
}

/// The records named by `ids`; a broken one is logged and counted, a
/// missing one (a dangling id, which `hostr check` reports) left out.
fn load_all<T: Record>(app: &App, ids: &[String]) -> ApiResult<Loaded<T>> {
    let mut loaded = Loaded { readable: Vec::with_capacity(ids.len()), unavailable: 0 };
    for id in ids {
        match app.store.get::<T>(id) {
            Ok(record) => loaded.readable.push(record),
            Err(error @ StoreError::NotFound { .. }) => {
                log::error!("profile left out a {}: {error}", T::COLLECTION.noun)
            }
            Err(error @ (StoreError::Corrupt(_) | StoreError::Duplicate { .. })) => {
                log::error!("profile left out a {}: {error}", T::COLLECTION.noun);
                loaded.unavailable += 1;
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(loaded)
}
