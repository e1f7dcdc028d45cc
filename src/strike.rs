//! The Strike API client: Lightning invoices for hostr's payments.
//!
//! Blocking HTTP through one shared ureq agent with connect and overall
//! timeouts. Wire types are private and shaped like Strike's JSON; they are
//! turned into hostr's types at the edge (amounts are decimal strings,
//! parsed exactly, never as floats). Errors tell apart "could not reach
//! Strike" (after which a create may or may not have happened), "Strike
//! said no" (its error envelope, code kept for the log), "slow down" (429
//! with `retry-after`) and "answered nonsense". Reads are retried a few
//! times; creations are not: the caller recovers through the invoice's
//! `correlationId` instead, so no second invoice is ever made.
//! The API key is sent only in the `Authorization` header and never logged.

use crate::money::{Currency, Money};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Strike's production API.
pub const PRODUCTION_URL: &str = "https://api.strike.me";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const OVERALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts of an idempotent read before giving up.
const READ_ATTEMPTS: u32 = 3;
/// The longest `retry-after` a read waits out before reporting the limit.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(3);
/// Largest answer read from Strike.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceState {
    Unpaid,
    Pending,
    Paid,
    Cancelled,
    /// A state this version of hostr does not know (Strike has hinted at
    /// `REVERSED`): never treated as paid.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub state: InvoiceState,
    pub amount: Money,
    pub currency: Currency,
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The BOLT11 payment request.
    pub bolt11: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrikeError {
    /// No answer: connection refused, timed out, cut off. A creation may
    /// or may not have happened.
    Unreachable(String),
    /// Strike answered with an error.
    Refused { status: u16, code: String, message: String, trace_id: Option<String> },
    /// Too many requests; Strike asks to wait this long.
    RateLimited { retry_after: Duration },
    /// An answer that is not what Strike documents.
    Nonsense(String),
}

impl fmt::Display for StrikeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrikeError::Unreachable(why) => write!(f, "Strike could not be reached: {why}"),
            StrikeError::Refused { status, code, message, trace_id } => {
                write!(f, "Strike refused ({status} {code}): {message}")?;
                if let Some(trace) = trace_id {
                    write!(f, " [trace {trace}]")?;
                }
                Ok(())
            }
            StrikeError::RateLimited { retry_after } => {
                write!(f, "Strike's rate limit: retry after {} s", retry_after.as_secs())
            }
            StrikeError::Nonsense(why) => write!(f, "Strike answered something unexpected: {why}"),
        }
    }
}

impl std::error::Error for StrikeError {}

pub type StrikeResult<T> = Result<T, StrikeError>;

pub struct StrikeClient {
    agent: ureq::Agent,
    base: String,
    api_key: String,
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

impl WireInvoice {
    fn into_invoice(self) -> StrikeResult<Invoice> {
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
            .map_err(|e| StrikeError::Nonsense(format!("invoice {} amount: {e}", self.invoice_id)))?;
        let currency = self
            .amount
            .currency
            .parse()
            .map_err(|e| StrikeError::Nonsense(format!("invoice {} currency: {e}", self.invoice_id)))?;
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
        }
    }

    /// `POST /v1/invoices`. Not retried: after `Unreachable` or a 5xx, look
    /// the invoice up by `correlation_id` before trying again.
    pub fn issue_invoice(
        &self,
        correlation_id: &str,
        description: &str,
        amount: Money,
        currency: &Currency,
    ) -> StrikeResult<Invoice> {
        let body = WireNewInvoice {
            correlation_id,
            description,
            amount: WireAmount { amount: amount.to_fixed_2(), currency: currency.to_string() },
        };
        let wire: WireInvoice = self.send_once("POST", "/v1/invoices", Some(&body))?;
        wire.into_invoice()
    }

    /// `POST /v1/invoices/{id}/quote`: a BOLT11 for the invoice, valid for a
    /// short while; asking again gives a fresh one.
    pub fn issue_quote(&self, invoice_id: &str) -> StrikeResult<Quote> {
        let path = format!("/v1/invoices/{}/quote", path_segment(invoice_id)?);
        let wire: WireQuote = self.send_once::<(), _>("POST", &path, None)?;
        let expires_at = Timestamp::parse(&wire.expiration).map_err(StrikeError::Nonsense)?;
        if !wire.ln_invoice.to_ascii_lowercase().starts_with("ln") {
            return Err(StrikeError::Nonsense("the quote's lnInvoice is not a BOLT11".to_owned()));
        }
        Ok(Quote { bolt11: wire.ln_invoice, expires_at })
    }

    /// `GET /v1/invoices/{id}`; `None` when Strike does not know it.
    pub fn find_invoice(&self, invoice_id: &str) -> StrikeResult<Option<Invoice>> {
        let path = format!("/v1/invoices/{}", path_segment(invoice_id)?);
        match self.read::<WireInvoice>(&path, &[]) {
            Ok(wire) => wire.into_invoice().map(Some),
            Err(StrikeError::Refused { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The invoice made with `correlation_id`, if any: how a creation whose
    /// answer was lost is found again.
    pub fn find_by_correlation(&self, correlation_id: &str) -> StrikeResult<Option<Invoice>> {
        // OData string literal: a quote is escaped by doubling it.
        let filter = format!("correlationId eq '{}'", correlation_id.replace('\'', "''"));
        let list: WireInvoiceList = self.read("/v1/invoices", &[("$filter", &filter), ("$top", "1")])?;
        list.items.into_iter().next().map(WireInvoice::into_invoice).transpose()
    }

    /// `PATCH /v1/invoices/{id}/cancel`: an unpaid invoice can no longer be
    /// paid. Strike refuses for a paid one.
    pub fn cancel_invoice(&self, invoice_id: &str) -> StrikeResult<Invoice> {
        let path = format!("/v1/invoices/{}/cancel", path_segment(invoice_id)?);
        let wire: WireInvoice = self.send_once::<(), _>("PATCH", &path, None)?;
        wire.into_invoice()
    }

    /// `POST /v1/subscriptions` for `invoice.updated` events to `webhook_url`.
    pub fn subscribe(&self, webhook_url: &str, secret: &str) -> StrikeResult<String> {
        let body = WireNewSubscription {
            webhook_url,
            webhook_version: "v1",
            secret,
            enabled: true,
            event_types: ["invoice.updated"],
        };
        let wire: WireSubscription = self.send_once("POST", "/v1/subscriptions", Some(&body))?;
        Ok(wire.id)
    }

    /// Checks that the key works and may read invoices.
    pub fn check_key(&self) -> StrikeResult<()> {
        self.read::<WireInvoiceList>("/v1/invoices", &[("$top", "1")]).map(|_| ())
    }

    /// An idempotent GET, retried on no answer, 5xx and short rate limits.
    fn read<T: for<'de> Deserialize<'de>>(&self, path: &str, query: &[(&str, &str)]) -> StrikeResult<T> {
        let mut attempt = 1;
        loop {
            let url = format!("{}{path}", self.base);
            let mut request =
                self.agent.get(&url).header("Authorization", &self.bearer()).header("Accept", "application/json");
            for (name, value) in query {
                request = request.query(*name, *value);
            }
            let outcome = answer(request.call());
            let retry_in = match &outcome {
                Err(StrikeError::Unreachable(_)) => Some(backoff(attempt)),
                Err(StrikeError::Refused { status, .. }) if *status >= 500 => Some(backoff(attempt)),
                Err(StrikeError::RateLimited { retry_after }) if *retry_after <= MAX_INLINE_WAIT => Some(*retry_after),
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
    ) -> StrikeResult<T> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "POST" => self.agent.post(&url),
            _ => self.agent.patch(&url),
        }
        .header("Authorization", &self.bearer())
        .header("Accept", "application/json");
        answer(match body {
            Some(body) => {
                let json = serde_json::to_vec(body).map_err(|e| StrikeError::Nonsense(e.to_string()))?;
                request.header("Content-Type", "application/json").send(&json[..])
            }
            None => request.send_empty(),
        })
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.api_key)
    }
}

impl fmt::Debug for StrikeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("StrikeClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Reads Strike's answer into `T`, or into the error it stands for.
fn answer<T: for<'de> Deserialize<'de>>(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> StrikeResult<T> {
    let mut response = result.map_err(|e| StrikeError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| StrikeError::Unreachable(format!("the answer was cut off: {e}")))?;
    if status == 429 {
        return Err(StrikeError::RateLimited { retry_after: Duration::from_secs(retry_after.unwrap_or(60)) });
    }
    if !(200..300).contains(&status) {
        return Err(match serde_json::from_str::<WireErrorEnvelope>(&text) {
            Ok(envelope) => StrikeError::Refused {
                status,
                code: envelope.data.code.unwrap_or_else(|| "UNKNOWN".to_owned()),
                message: envelope.data.message.unwrap_or_default(),
                trace_id: envelope.trace_id,
            },
            // A proxy's HTML page or an empty body: still Strike (or its edge) saying no.
            Err(_) => StrikeError::Refused {
                status,
                code: "API_UNAVAILABLE".to_owned(),
                message: snippet(&text),
                trace_id: None,
            },
        });
    }
    serde_json::from_str(&text).map_err(|e| StrikeError::Nonsense(format!("{e} in {}", snippet(&text))))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 4u64.pow(attempt - 1))
}

/// Ids go into URL paths: Strike's are UUIDs, so anything else is refused.
fn path_segment(id: &str) -> StrikeResult<&str> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { Ok(id) } else { Err(StrikeError::Nonsense(format!("`{}` is not a Strike id", id.escape_debug()))) }
}

fn snippet(text: &str) -> String {
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}
