//! `POST /api/cpanel-login`: single sign-on into cPanel for the caller's
//! own ACTIVE account. `POST /api/add-account`: a further account under the
//! subscription of a plan with several (`checkout/group.rs`).

use super::session;
use crate::api::error::{ApiError, ApiResult, Failure};
use crate::app::App;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::customer::CustomerStatus;
use crate::http::{Request, Response};
use crate::store::StoreError;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoginBody {
    account_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddAccountBody {
    account_id: String,
    domain: String,
}

pub fn add_account(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: AddAccountBody = request.json()?;
    let account = app.checkout.add_account(&customer, &body.account_id, &body.domain)?;
    Ok(Response::json(201, &json!({"account": super::owned_account_view(app, &customer, &account)})))
}

pub fn cpanel_login(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: LoginBody = request.json()?;
    let account = match app.store.get::<CpanelAccount>(&body.account_id) {
        Ok(account) if account.customer_id == customer.id => account,
        Ok(_) | Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => {
            return Err(ApiError::not_your_account());
        }
        Err(other) => return Err(other.into()),
    };
    if customer.status != CustomerStatus::Active {
        return Err(ApiError::new(
            Failure::Forbidden,
            "account_suspended",
            "Your hosting is suspended while your customer account is deleted or under review.",
        ));
    }
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Expired => {
            return Err(ApiError::new(
                Failure::PaymentRequired,
                "account_expired",
                "This account's paid period is over. Renew it to open cPanel again.",
            ));
        }
        AccountStatus::Suspended => {
            return Err(ApiError::new(
                Failure::Forbidden,
                "account_suspended",
                "This account is suspended for review. Please contact the operator.",
            ));
        }
        AccountStatus::Provisioning => {
            return Err(ApiError::new(
                Failure::Conflict,
                "account_not_ready",
                "This account is still being set up. Please try again in a minute.",
            ));
        }
        AccountStatus::Terminated => {
            return Err(ApiError::new(Failure::Gone, "account_terminated", "This account was removed."));
        }
    }
    // The URL is a one-time credential: answered, never logged or kept.
    let url = app.provisioner.login_url(&account)?;
    log::info!("single sign-on into cPanel for account {}", account.username);
    Ok(Response::json(200, &json!({"url": url})))
}
