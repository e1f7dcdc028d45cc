//! `GET|POST /api/auto-renew` and `POST /api/auto-renew/disconnect`: a
//! customer's wallet connections (NIP-47) for automatic renewal. The
//! connection secret goes in once, with the URI, and never comes back out:
//! answers carry only the record's public fields.

use super::error::{ApiError, ApiResult, Failure};
use super::session;
use crate::app::App;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::http::{Request, Response};
use crate::nwc::{NwcError, Terms, WalletLink};
use crate::plan::Plan;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConnectBody {
    account_id: String,
    uri: String,
    cap_sats: Option<i64>,
    periods: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DisconnectBody {
    account_id: String,
}

/// Every account of the caller with its automatic renewal, on or off.
pub fn list(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let links = app.nwc.links_of(&customer)?;
    let accounts = app.store.find_all(CpanelAccount::by_customer(&customer.id))?;
    let views: Vec<Value> = accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Terminated)
        .map(|account| view(app, account, links.iter().find(|l| l.id == account.id)))
        .collect();
    let days = app.nwc.settings().days;
    Ok(Response::json(200, &json!({"on": app.outbox.is_on(), "daysBefore": days, "accounts": views})))
}

pub fn connect(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: ConnectBody = request.json()?;
    let terms = Terms { cap_sats: body.cap_sats, periods: body.periods };
    let link = app.nwc.connect(&customer, &body.account_id, &body.uri, terms)?;
    let account = app.store.get::<CpanelAccount>(&link.id)?;
    let periods =
        if link.periods == 1 { "per renewal".to_owned() } else { format!("per renewal of {} periods", link.periods) };
    let message = format!("Connected to {}, pays up to {} sats {periods}.", link.alias, link.cap_sats);
    Ok(Response::json(201, &json!({"message": message, "account": view(app, &account, Some(&link))})))
}

pub fn disconnect(app: &App, request: &Request) -> ApiResult<Response> {
    let customer = session(app, request)?.registered()?;
    let body: DisconnectBody = request.json()?;
    app.nwc.disconnect(&customer, &body.account_id)?;
    Ok(Response::json(200, &json!({"disconnected": true})))
}

/// An account's automatic renewal as the profile shows it: public fields only.
fn view(app: &App, account: &CpanelAccount, link: Option<&WalletLink>) -> Value {
    let periods =
        link.map_or_else(|| app.store.get::<Plan>(&account.plan_id).map_or(1, |p| p.smallest_prepay()), |l| l.periods);
    let default_cap = app.nwc.default_cap(account, periods).ok().flatten();
    let Some(link) = link else {
        return json!({
            "accountId": account.id,
            "domain": account.domain,
            "on": false,
            "periods": periods,
            "defaultCapSats": default_cap,
        });
    };
    let next = app.nwc.next_attempt(link);
    json!({
        "accountId": account.id,
        "domain": account.domain,
        "on": link.status == crate::nwc::LinkStatus::Connected,
        "status": link.status,
        "alias": link.alias,
        "relay": link.relay,
        "walletPubkey": link.wallet_pubkey,
        "encryption": link.encryption,
        "capSats": link.cap_sats,
        "periods": link.periods,
        "defaultCapSats": default_cap,
        "nextAttemptAt": next,
        "nextAmountSats": next.map(|_| default_cap.map_or(link.cap_sats, |d| d.min(link.cap_sats))),
        "inFlight": link.current.as_ref().map(|c| json!({"paymentId": c.payment_id, "sats": c.sats, "sentAt": c.sent_at})),
        "last": link.last,
    })
}

impl From<NwcError> for ApiError {
    fn from(error: NwcError) -> ApiError {
        let text = error.to_string();
        match error {
            NwcError::BadUri(_) => ApiError::new(Failure::BadRequest, "bad_wallet_uri", text),
            NwcError::RefusedRelay(_) => ApiError::new(Failure::BadRequest, "wallet_relay_refused", text),
            NwcError::Wallet(_) => ApiError::new(Failure::BadGateway, "wallet_unusable", text),
            NwcError::BadCap(_) => ApiError::new(Failure::BadRequest, "bad_cap", text),
            NwcError::BadPeriods(_) => ApiError::new(Failure::BadRequest, "periods_not_offered", text),
            NwcError::NotYourAccount => ApiError::not_found("no_such_account", "No such account of yours."),
            NwcError::Off => ApiError::new(Failure::Conflict, "auto_renew_off", text),
            NwcError::GroupMember(_) => ApiError::new(Failure::Conflict, "renews_with_primary", text),
            NwcError::Secret(e) => {
                log::error!("auto-renew: {e}");
                ApiError::new(Failure::Internal, "internal", "The connection could not be kept; try again later.")
            }
            NwcError::Store(e) => e.into(),
        }
    }
}
