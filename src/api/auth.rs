//! `GET /api/challenge`, `POST /api/verify`, `POST /api/logout`, `GET /api/check`,
//! `POST /api/nostrconnect`.

use super::{Session, client_ip, customer_view, optional_json, qr_svg_of, require_own_origin, session, unix_now};
use crate::api::customer_view::CustomerView;
use crate::api::error::{ApiError, ApiResult, Failure};
use crate::app::App;
use crate::auth::challenge::ChallengeError;
use crate::auth::session::Sessions;
use crate::auth::{login_event, remote_signer};
use crate::customer::{Customer, npub, parse_public_key};
use crate::http::{Request, Response};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use std::time::Instant;

pub fn challenge(app: &App, request: &Request) -> ApiResult<Response> {
    let challenge = match app.challenges.issue(client_ip(app, request), Instant::now()) {
        Ok(challenge) => challenge,
        Err(error) => return Ok(too_many_sign_ins(app, ApiError::from(error))),
    };
    let expires_at = Timestamp::from(chrono::Utc::now() + app.challenges.lifetime());
    Ok(Response::json(
        200,
        &ChallengeAnswer {
            challenge: &challenge,
            expires_at,
            url: app.config.public_url.verify_url(),
            content: format!("Sign in to {}", app.config.public_url.host()),
        },
    ))
}

/// The answer to `GET /api/challenge` (a struct rather than a `json!`
/// tree: the two sign-in answers are the hottest path of the server).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeAnswer<'a> {
    challenge: &'a str,
    expires_at: Timestamp,
    // What the page needs to build the event, so it need not guess.
    url: String,
    content: String,
}

#[derive(Deserialize)]
struct VerifyBody {
    event: Box<RawValue>,
}

/// The answer to `POST /api/verify`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyAnswer<'a> {
    public_key: &'a str,
    npub: Option<String>,
    registered: bool,
    customer: Option<CustomerView<'a>>,
    token: &'a str,
}

pub fn verify(app: &App, request: &Request) -> ApiResult<Response> {
    if request.header("origin").is_some() {
        // A login forced on a visitor by another site's page is refused too.
        require_own_origin(app, request)?;
    }
    let body: VerifyBody = request.json()?;
    let max_age = app.challenges.lifetime().as_secs() as i64;
    let login = login_event::check(&body.event, &app.config.public_url.verify_url(), unix_now(), max_age)?;
    app.challenges.consume(&login.challenge, Instant::now())?;
    let customer = app.store.find(Customer::by_public_key(&login.public_key))?;
    let epoch = customer.as_ref().map_or(0, |c| c.session_epoch);
    let token = app.sessions.issue(&login.public_key, epoch, unix_now());
    let cookie = app.sessions.cookie(&token, app.config.public_url.is_https());
    let answer = VerifyAnswer {
        public_key: &login.public_key,
        npub: npub(&login.public_key),
        registered: customer.is_some(),
        customer: customer.as_ref().map(customer_view),
        token: &token,
    };
    Ok(Response::json(200, &answer).with_header("Set-Cookie", cookie))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    #[serde(default)]
    everywhere: bool,
}

/// Signs out: once the request is known to come from the site's own pages,
/// the cookie is cleared whatever else happens, so a browser is never left
/// holding a session its owner asked to end. A request another site made
/// the browser send is refused and changes nothing, not even the cookie.
pub fn logout(app: &App, request: &Request) -> ApiResult<Response> {
    if request.header("origin").is_some() {
        require_own_origin(app, request)?;
    }
    let clear = Sessions::clearing_cookie(app.config.public_url.is_https());
    let outcome = sign_out(app, request).map_or_else(Response::from, |()| Response::new(204, "", Vec::new()));
    Ok(outcome.with_header("Set-Cookie", clear))
}

fn sign_out(app: &App, request: &Request) -> ApiResult<()> {
    let body: LogoutBody = optional_json(request)?;
    if body.everywhere {
        let customer = session(app, request)?.registered()?;
        app.store.update::<Customer, _, ApiError>(&customer.id, |c| {
            c.session_epoch += 1;
            c.updated_at = Timestamp::now();
            Ok(())
        })?;
    }
    Ok(())
}

pub fn check(app: &App, request: &Request) -> ApiResult<Response> {
    let Session { public_key, customer } = session(app, request)?;
    if let Some(asked) = request.query_param("publicKey") {
        let asked = parse_public_key(&asked).map_err(|m| ApiError::bad_request("bad_public_key", format!("{m}.")))?;
        if asked != public_key {
            return Err(ApiError::new(
                Failure::Forbidden,
                "not_your_key",
                "You can only check the key you are signed in with.",
            ));
        }
    }
    Ok(Response::json(
        200,
        &json!({
            "publicKey": public_key,
            "npub": npub(&public_key),
            "registered": customer.is_some(),
            "status": customer.map(|c| c.status),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NostrConnectBody {
    client_pubkey: String,
    secret: String,
}

/// The `nostrconnect://` URI (and its QR code) for a remote signer to scan,
/// naming this site's signer relays, with the key and secret the page made.
/// Needs no session: it is how a customer without one signs in.
/// A 429 for sign-in attempts past `--challenge-rate`, saying when to come
/// back: one attempt returns every 60 / rate seconds.
fn too_many_sign_ins(app: &App, error: ApiError) -> Response {
    let wait = 60u32.div_ceil(app.config.challenge_rate).max(1);
    Response::from(error).with_header("Retry-After", wait.to_string())
}

pub fn nostrconnect(app: &App, request: &Request) -> ApiResult<Response> {
    if request.header("origin").is_some() {
        require_own_origin(app, request)?;
    }
    if !app.nostrconnect_requests.take(client_ip(app, request), Instant::now()) {
        return Ok(too_many_sign_ins(app, ApiError::from(ChallengeError::TooMany)));
    }
    let body: NostrConnectBody = request.json()?;
    if !remote_signer::is_client_key(&body.client_pubkey) || !remote_signer::is_secret(&body.secret) {
        return Err(ApiError::bad_request(
            "bad_nostrconnect",
            "Send {\"clientPubkey\": 64 lowercase hex digits, \"secret\": 16 to 64 lowercase hex digits}.",
        ));
    }
    let relays = &app.config.signer_relays;
    let uri = remote_signer::nostrconnect_uri(&body.client_pubkey, &body.secret, relays, app.config.public_url.host());
    Ok(Response::json(200, &json!({"uri": uri, "qrSvg": qr_svg_of(&uri), "relays": relays})))
}
