//! The Strike API client: Lightning invoices for hostr's payments, as a
//! `PaymentProvider`.
//!
//! Blocking HTTP through one shared ureq agent with connect and overall
//! timeouts. Wire types are private and shaped like Strike's JSON; they are
//! turned into hostr's `Invoice`, `Quote` and `ProviderError` at the edge
//! (amounts are decimal strings, parsed exactly, never as floats). Errors
//! tell apart "could not reach Strike" (after which a create may or may not
//! have happened), "Strike said no" (its error envelope, code and trace kept
//! for the log), "slow down" (429 with `retry-after`) and "answered
//! nonsense". Reads are retried a few
//! times; creations are not: the caller recovers through the invoice's
//! `correlationId` instead, so no second invoice is ever made.
//! The API key is sent only in the `Authorization` header and never logged.
//!
//! Every request, retries included, first takes a token from the client's
//! `Budget`, sized from Strike's documented limits (`documented_limits`);
//! when it is spent, or after Strike answered 429, the call answers
//! `RateLimited` without being sent, so hostr never runs into Strike's
//! lockout (an hour, for reads).

use crate::checkout::budget::{Budget, Call, Limits, Priority};
use crate::checkout::provider::{Invoice, InvoiceState, PaymentProvider, ProviderError, ProviderResult, Quote};
use crate::money::{Currency, ExchangeRate, Money};
use crate::rate_limit::Rate;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Strike's production API.
pub const PRODUCTION_URL: &str = "https://api.strike.me";
/// Strike's sandbox API, whose limits are lower.
const SANDBOX_HOST: &str = "api.dev.strike.me";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const OVERALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts of an idempotent read before giving up.
const READ_ATTEMPTS: u32 = 3;
/// Largest answer read from Strike.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

pub struct StrikeClient {
    agent: ureq::Agent,
    base: String,
    api_key: String,
    budget: Budget,
}

/// Strike's documented limits (docs.strike.me/rate-limits, per client
/// address): creating invoices and generating quotes 250 a minute each,
/// every other call 1,000 per 10 minutes; the sandbox API allows 90 and
/// 350. Each becomes a bucket that stays under it (`Rate::within`).
pub fn documented_limits(base_url: &str) -> Limits {
    let host = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    let host = host.split(['/', ':']).next().unwrap_or("");
    let (per_minute, per_ten_minutes) = if host.eq_ignore_ascii_case(SANDBOX_HOST) { (90, 350) } else { (250, 1000) };
    let per_minute = Rate::within(per_minute, Duration::from_secs(60));
    Limits {
        new_invoice: per_minute,
        new_quote: per_minute,
        other: Rate::within(per_ten_minutes, Duration::from_secs(600)),
    }
}

/// How long Strike locks a kind of call out once its limit is exceeded,
/// for a 429 that does not say (`retry-after`).
fn lockout(call: Call) -> Duration {
    match call {
        Call::NewInvoice | Call::NewQuote => Duration::from_secs(60),
        Call::Other => Duration::from_secs(3600),
    }
}

// --- Strike's wire format ---------------------------------------------------

#[derive(Serialize, Deserialize)]
struct WireAmount {
    amount: String,
    currency: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireNewInvoice<'a> {
    correlation_id: &'a str,
    description: &'a str,
    amount: WireAmount,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireInvoice {
    invoice_id: String,
    amount: WireAmount,
    state: String,
    correlation_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireQuote {
    ln_invoice: String,
    expiration: String,
    /// What the payer is debited: BTC when the quote is made.
    source_amount: Option<WireAmount>,
    conversion_rate: Option<WireRate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRate {
    amount: String,
    source_currency: String,
    target_currency: String,
}

#[derive(Deserialize)]
struct WireInvoiceList {
    items: Vec<WireInvoice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireErrorEnvelope {
    trace_id: Option<String>,
    data: WireErrorData,
}

#[derive(Deserialize)]
struct WireErrorData {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireNewSubscription<'a> {
    webhook_url: &'a str,
    webhook_version: &'a str,
    secret: &'a str,
    enabled: bool,
    event_types: [&'a str; 1],
}

#[derive(Deserialize)]
struct WireSubscription {
    id: String,
}

impl WireQuote {
    /// The sats asked for, from a BTC `sourceAmount`. Only shown to the
    /// customer, so an amount that does not parse is left out (and logged)
    /// rather than making the BOLT11 unpayable.
    fn sats(&self) -> Option<i64> {
        let source = self.source_amount.as_ref().filter(|a| a.currency == "BTC")?;
        let sats = source.amount.parse::<Money>().ok().and_then(|btc| btc.minor(8));
        if sats.is_none() {
            log::warn!(
                "Strike quoted a sourceAmount of `{}` BTC, which is not whole sats",
                source.amount.escape_debug()
            );
        }
        sats
    }

    fn rate(&self) -> Option<ExchangeRate> {
        let wire = self.conversion_rate.as_ref()?;
        let rate = match (wire.amount.parse(), wire.source_currency.parse(), wire.target_currency.parse()) {
            (Ok(amount), Ok(source_currency), Ok(target_currency)) => {
                Some(ExchangeRate { amount, source_currency, target_currency })
            }
            _ => None,
        };
        if rate.is_none() {
            log::warn!("Strike quoted a conversionRate hostr cannot read exactly: `{}`", wire.amount.escape_debug());
        }
        rate
    }
}

impl WireInvoice {
    fn into_invoice(self) -> ProviderResult<Invoice> {
        let state = match self.state.as_str() {
            "UNPAID" => InvoiceState::Unpaid,
            "PENDING" => InvoiceState::Pending,
            "PAID" => InvoiceState::Paid,
            "CANCELLED" => InvoiceState::Cancelled,
            other => InvoiceState::Other(other.to_owned()),
        };
        let amount = self
            .amount
            .amount
            .parse()
            .map_err(|e| ProviderError::Nonsense(format!("invoice {} amount: {e}", self.invoice_id)))?;
        let currency = self
            .amount
            .currency
            .parse()
            .map_err(|e| ProviderError::Nonsense(format!("invoice {} currency: {e}", self.invoice_id)))?;
        Ok(Invoice { id: self.invoice_id, state, amount, currency, correlation_id: self.correlation_id })
    }
}

// --- the client ------------------------------------------------------------------

impl StrikeClient {
    pub fn new(base_url: &str, api_key: &str) -> StrikeClient {
        StrikeClient::with_timeout(base_url, api_key, OVERALL_TIMEOUT)
    }

    /// A client whose calls give up after `overall` (tests use short ones).
    pub fn with_timeout(base_url: &str, api_key: &str, overall: Duration) -> StrikeClient {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT.min(overall)))
            .timeout_global(Some(overall))
            .http_status_as_error(false)
            .user_agent(concat!("hostr/", env!("CARGO_PKG_VERSION")))
            .build();
        StrikeClient {
            agent: config.into(),
            base: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            budget: Budget::new(documented_limits(base_url)),
        }
    }

    /// The same client spending from a budget of other limits (tests and
    /// benchmarks use small ones).
    pub fn with_limits(mut self, limits: Limits) -> StrikeClient {
        self.budget = Budget::new(limits);
        self
    }

    /// `POST /v1/subscriptions` for `invoice.updated` events to `webhook_url`.
    pub fn subscribe(&self, webhook_url: &str, secret: &str) -> ProviderResult<String> {
        let body = WireNewSubscription {
            webhook_url,
            webhook_version: "v1",
            secret,
            enabled: true,
            event_types: ["invoice.updated"],
        };
        let wire: WireSubscription = self.send_once("POST", "/v1/subscriptions", Some(&body), Call::Other)?;
        Ok(wire.id)
    }

    /// Checks that the key works and may read invoices.
    pub fn check_key(&self) -> ProviderResult<()> {
        self.read::<WireInvoiceList>("/v1/invoices", &[("$top", "1")]).map(|_| ())
    }

    /// An idempotent GET, retried on no answer and 5xx, each attempt paid
    /// for from the budget.
    fn read<T: for<'de> Deserialize<'de>>(&self, path: &str, query: &[(&str, &str)]) -> ProviderResult<T> {
        let mut attempt = 1;
        loop {
            self.spend(Call::Other)?;
            let url = format!("{}{path}", self.base);
            let mut request =
                self.agent.get(&url).header("Authorization", &self.bearer()).header("Accept", "application/json");
            for (name, value) in query {
                request = request.query(*name, *value);
            }
            let outcome = self.heed(Call::Other, answer(request.call(), lockout(Call::Other)));
            let retry_in = match &outcome {
                Err(ProviderError::Unreachable(_)) => Some(backoff(attempt)),
                Err(ProviderError::Refused { status, .. }) if *status >= 500 => Some(backoff(attempt)),
                _ => None,
            };
            match retry_in {
                Some(wait) if attempt < READ_ATTEMPTS => {
                    log::warn!(
                        "Strike GET {path} failed ({}); retrying in {} ms",
                        outcome.err().map(|e| e.to_string()).unwrap_or_default(),
                        wait.as_millis()
                    );
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    fn send_once<B: Serialize, T: for<'de> Deserialize<'de>>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
        call: Call,
    ) -> ProviderResult<T> {
        self.spend(call)?;
        let url = format!("{}{path}", self.base);
        let request = match method {
            "POST" => self.agent.post(&url),
            _ => self.agent.patch(&url),
        }
        .header("Authorization", &self.bearer())
        .header("Accept", "application/json");
        let sent = match body {
            Some(body) => {
                let json = serde_json::to_vec(body).map_err(|e| ProviderError::Nonsense(e.to_string()))?;
                request.header("Content-Type", "application/json").send(&json[..])
            }
            None => request.send_empty(),
        };
        self.heed(call, answer(sent, lockout(call)))
    }

    /// A token for one request of this kind, or `RateLimited` with how long
    /// until there is one (nothing is sent).
    fn spend(&self, call: Call) -> ProviderResult<()> {
        self.budget
            .take(call, Priority::Foreground)
            .map_err(|wait| ProviderError::RateLimited { retry_after: wait.min(lockout(Call::Other)) })
    }

    /// After Strike's own 429, no call of that kind is sent before it said.
    fn heed<T>(&self, call: Call, outcome: ProviderResult<T>) -> ProviderResult<T> {
        if let Err(ProviderError::RateLimited { retry_after }) = &outcome {
            log::warn!("Strike rate-limits {call:?} calls for {} s; none is sent before then", retry_after.as_secs());
            self.budget.hold_off(call, *retry_after);
        }
        outcome
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.api_key)
    }
}

impl PaymentProvider for StrikeClient {
    fn is_sandbox(&self) -> bool {
        false
    }

    /// `POST /v1/invoices`. Not retried: after `Unreachable` or a 5xx, look
    /// the invoice up by `correlation_id` before trying again.
    fn issue_invoice(
        &self,
        correlation_id: &str,
        description: &str,
        amount: Money,
        currency: &Currency,
    ) -> ProviderResult<Invoice> {
        // Strike wants the currency's own decimals: "5.00" USD, "0.00050000" BTC.
        let fixed = amount.to_fixed(currency.decimals()).ok_or_else(|| {
            ProviderError::Nonsense(format!("{amount} {currency} has more decimals than {currency} allows"))
        })?;
        let body = WireNewInvoice {
            correlation_id,
            description,
            amount: WireAmount { amount: fixed, currency: currency.to_string() },
        };
        let wire: WireInvoice = self.send_once("POST", "/v1/invoices", Some(&body), Call::NewInvoice)?;
        wire.into_invoice()
    }

    /// `POST /v1/invoices/{id}/quote`: a BOLT11 for the invoice, valid for a
    /// short while; asking again gives a fresh one.
    fn issue_quote(&self, invoice_id: &str) -> ProviderResult<Quote> {
        let path = format!("/v1/invoices/{}/quote", path_segment(invoice_id)?);
        let wire: WireQuote = self.send_once::<(), _>("POST", &path, None, Call::NewQuote)?;
        let expires_at = Timestamp::parse(&wire.expiration).map_err(ProviderError::Nonsense)?;
        if !wire.ln_invoice.to_ascii_lowercase().starts_with("ln") {
            return Err(ProviderError::Nonsense("the quote's lnInvoice is not a BOLT11".to_owned()));
        }
        let (sats, rate) = (wire.sats(), wire.rate());
        Ok(Quote { bolt11: wire.ln_invoice, expires_at, sats, rate })
    }

    /// `GET /v1/invoices/{id}`; `None` when Strike does not know it.
    fn find_invoice(&self, invoice_id: &str) -> ProviderResult<Option<Invoice>> {
        let path = format!("/v1/invoices/{}", path_segment(invoice_id)?);
        match self.read::<WireInvoice>(&path, &[]) {
            Ok(wire) => wire.into_invoice().map(Some),
            Err(ProviderError::Refused { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The invoice made with `correlation_id`, if any: how a creation whose
    /// answer was lost is found again.
    fn find_by_correlation(&self, correlation_id: &str) -> ProviderResult<Option<Invoice>> {
        // OData string literal: a quote is escaped by doubling it.
        let filter = format!("correlationId eq '{}'", correlation_id.replace('\'', "''"));
        let list: WireInvoiceList = self.read("/v1/invoices", &[("$filter", &filter), ("$top", "1")])?;
        list.items.into_iter().next().map(WireInvoice::into_invoice).transpose()
    }

    /// `PATCH /v1/invoices/{id}/cancel`: an unpaid invoice can no longer be
    /// paid. Strike refuses for a paid one.
    fn cancel_invoice(&self, invoice_id: &str) -> ProviderResult<Invoice> {
        let path = format!("/v1/invoices/{}/cancel", path_segment(invoice_id)?);
        let wire: WireInvoice = self.send_once::<(), _>("PATCH", &path, None, Call::Other)?;
        wire.into_invoice()
    }

    fn budget(&self) -> Option<&Budget> {
        Some(&self.budget)
    }
}

impl fmt::Debug for StrikeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("StrikeClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Reads Strike's answer into `T`, or into the error it stands for.
/// A 429 without `retry-after` is taken to last `lockout`.
fn answer<T: for<'de> Deserialize<'de>>(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    lockout: Duration,
) -> ProviderResult<T> {
    let mut response = result.map_err(|e| ProviderError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| ProviderError::Unreachable(format!("the answer was cut off: {e}")))?;
    if status == 429 {
        return Err(ProviderError::RateLimited { retry_after: retry_after.map_or(lockout, Duration::from_secs) });
    }
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_str::<WireErrorEnvelope>(&text) {
            Ok(envelope) => ProviderError::Refused {
                status,
                code: envelope.data.code.unwrap_or_else(|| "UNKNOWN".to_owned()),
                message: envelope.data.message.unwrap_or_default(),
                trace_id: envelope.trace_id,
            },
            // A proxy's HTML page or an empty body: still Strike (or its edge) saying no.
            Err(_) => ProviderError::Refused {
                status,
                code: "API_UNAVAILABLE".to_owned(),
                message: snippet(&text),
                trace_id: None,
            },
        });
    }
    serde_json::from_str(&text).map_err(|e| ProviderError::Nonsense(format!("{e} in {}", snippet(&text))))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 4u64.pow(attempt - 1))
}

/// Ids go into URL paths: Strike's are UUIDs, so anything else is refused.
fn path_segment(id: &str) -> ProviderResult<&str> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { Ok(id) } else { Err(ProviderError::Nonsense(format!("`{}` is not a Strike id", id.escape_debug()))) }
}

fn snippet(text: &str) -> String {
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}
