//! A fake Strike API on 127.0.0.1 for tests: the documented paths, JSON
//! shapes, states and error envelope, with knobs for failures.

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "test-strike-key";

/// What the fake does with the next request instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this status with Strike's error envelope.
    Status(u16, &'static str),
    /// A 429 with this `retry-after`.
    RateLimit(u64),
    /// A 200 whose body is not JSON.
    Garbage,
    /// Do the work, then answer only after this long.
    Slow(Duration),
    /// An HTML page, as a proxy in front would send.
    Html(u16),
}

#[derive(Debug, Clone)]
pub struct FakeInvoice {
    pub amount: String,
    pub currency: String,
    pub correlation_id: String,
    pub description: String,
    pub state: &'static str,
}

#[derive(Default)]
pub struct State {
    pub invoices: HashMap<String, FakeInvoice>,
    pub calls: Vec<String>,
    pub faults: VecDeque<Fault>,
    pub quotes: usize,
    pub quote_seconds: i64,
    /// The price of one BTC in every fiat currency, in cents.
    pub rate_cents: i128,
    /// The body of each `POST /v1/invoices`, as sent.
    pub created: Vec<Value>,
}

pub struct FakeStrike {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
}

impl FakeStrike {
    pub fn start() -> FakeStrike {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the fake Strike"));
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(State { quote_seconds: 30, rate_cents: 10_000_000, ..State::default() }));
        for _ in 0..4 {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(request, &state);
                }
            });
        }
        FakeStrike { url, state, server }
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn set_state(&self, invoice_id: &str, state: &'static str) {
        self.state.lock().unwrap().invoices.get_mut(invoice_id).expect("a known invoice").state = state;
    }

    pub fn invoice_count(&self) -> usize {
        self.state.lock().unwrap().invoices.len()
    }

    /// How many calls were made whose `METHOD path` starts with `prefix`.
    pub fn calls(&self, prefix: &str) -> usize {
        self.state.lock().unwrap().calls.iter().filter(|c| c.starts_with(prefix)).count()
    }
}

impl Drop for FakeStrike {
    fn drop(&mut self) {
        self.server.unblock();
        for _ in 0..4 {
            self.server.unblock();
        }
    }
}

fn envelope(status: u16, code: &str) -> Value {
    json!({"traceId": "trace-123", "data": {"status": status, "code": code, "message": format!("fake {code}"), "values": {}}})
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>) {
    let method = request.method().to_string();
    let url = request.url().to_owned();
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let authorized =
        request.headers().iter().any(|h| h.field.equiv("Authorization") && h.value.as_str() == format!("Bearer {KEY}"));
    let fault = {
        let mut state = state.lock().unwrap();
        state.calls.push(format!("{method} {url}"));
        state.faults.pop_front()
    };
    let (mut status, mut reply) =
        if !authorized { (401, envelope(401, "UNAUTHORIZED").to_string()) } else { route(&method, &url, &body, state) };
    match fault {
        Some(Fault::Status(code, name)) => (status, reply) = (code, envelope(code, name).to_string()),
        Some(Fault::Garbage) => (status, reply) = (200, "this is not json".to_owned()),
        Some(Fault::Html(code)) => (status, reply) = (code, "<html><body>Bad gateway</body></html>".to_owned()),
        Some(Fault::Slow(delay)) => std::thread::sleep(delay),
        Some(Fault::RateLimit(seconds)) => {
            let response = tiny_http::Response::from_string(envelope(429, "RATE_LIMIT_EXCEEDED").to_string())
                .with_status_code(429)
                .with_header(tiny_http::Header::from_bytes("retry-after", seconds.to_string()).unwrap());
            let _ = request.respond(response);
            return;
        }
        None => {}
    }
    let response = tiny_http::Response::from_string(reply)
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap());
    let _ = request.respond(response);
}

fn invoice_json(id: &str, invoice: &FakeInvoice) -> Value {
    json!({
        "invoiceId": id,
        "amount": {"amount": invoice.amount, "currency": invoice.currency},
        "state": invoice.state,
        "created": "2026-11-25T10:00:00.123+00:00",
        "correlationId": invoice.correlation_id,
        "description": invoice.description,
        "issuerId": "bf909224-3432-400b-895a-3010302f80f5",
        "receiverId": "bf909224-3432-400b-895a-3010302f80f5"
    })
}

/// A decimal string as an integer of `decimals` decimals: "5.00" with 2 is 500.
fn minor(text: &str, decimals: usize) -> i128 {
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<decimals$}");
    format!("{units}{}", &fraction[..decimals]).parse().expect("a decimal amount")
}

fn decimal(minor: i128, decimals: u32) -> String {
    let step = 10i128.pow(decimals);
    format!("{}.{:0width$}", minor / step, minor % step, width = decimals as usize)
}

/// What Strike quotes for an invoice at `rate_cents` a BTC: the BTC the
/// payer is debited (rounded up to the sat), the amount credited, and its
/// (fiat) currency. A BTC invoice is credited in USD.
fn quote_amounts(invoice: &FakeInvoice, rate_cents: i128) -> (String, String, String) {
    if invoice.currency == "BTC" {
        let sats = minor(&invoice.amount, 8);
        let cents = sats * rate_cents / 100_000_000;
        return (decimal(sats, 8), decimal(cents, 2), "USD".to_owned());
    }
    let cents = minor(&invoice.amount, 2);
    let sats = (cents * 100_000_000 + rate_cents - 1) / rate_cents;
    (decimal(sats, 8), invoice.amount.clone(), invoice.currency.clone())
}

fn route(method: &str, url: &str, body: &str, state: &Mutex<State>) -> (u16, String) {
    let mut state = state.lock().unwrap();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["v1", "invoices"]) => {
            let Ok(new) = serde_json::from_str::<Value>(body) else {
                return (400, envelope(400, "INVALID_DATA").to_string());
            };
            state.created.push(new.clone());
            let correlation = new["correlationId"].as_str().unwrap_or("").to_owned();
            if state.invoices.values().any(|i| i.correlation_id == correlation) {
                return (422, envelope(422, "DUPLICATE_INVOICE").to_string());
            }
            let id = uuid::Uuid::new_v4().to_string();
            let invoice = FakeInvoice {
                amount: new["amount"]["amount"].as_str().unwrap_or("").to_owned(),
                currency: new["amount"]["currency"].as_str().unwrap_or("").to_owned(),
                correlation_id: correlation,
                description: new["description"].as_str().unwrap_or("").to_owned(),
                state: "UNPAID",
            };
            let reply = invoice_json(&id, &invoice).to_string();
            state.invoices.insert(id, invoice);
            (201, reply)
        }
        ("POST", ["v1", "invoices", id, "quote"]) => {
            let Some(invoice) = state.invoices.get(*id).cloned() else {
                return (404, envelope(404, "NOT_FOUND").to_string());
            };
            state.quotes += 1;
            let expires = chrono::Utc::now() + chrono::Duration::seconds(state.quote_seconds);
            let (source, target, fiat) = quote_amounts(&invoice, state.rate_cents);
            let reply = json!({
                "quoteId": uuid::Uuid::new_v4().to_string(),
                "lnInvoice": format!("lnbc50u1pfake{}{}", state.quotes, id.replace('-', "")),
                "expiration": expires.to_rfc3339(),
                "expirationInSec": state.quote_seconds,
                "targetAmount": {"amount": target, "currency": fiat},
                "sourceAmount": {"amount": source, "currency": "BTC"},
                "conversionRate": {"amount": decimal(state.rate_cents, 2), "sourceCurrency": "BTC", "targetCurrency": fiat}
            });
            (201, reply.to_string())
        }
        ("PATCH", ["v1", "invoices", id, "cancel"]) => match state.invoices.get_mut(*id) {
            Some(invoice) if invoice.state == "UNPAID" => {
                invoice.state = "CANCELLED";
                (200, invoice_json(id, invoice).to_string())
            }
            Some(_) => (409, envelope(409, "INVALID_STATE_FOR_INVOICE_CANCELLATION").to_string()),
            None => (404, envelope(404, "NOT_FOUND").to_string()),
        },
        ("GET", ["v1", "invoices", id]) => match state.invoices.get(*id) {
            Some(invoice) => (200, invoice_json(id, invoice).to_string()),
            None => (404, envelope(404, "NOT_FOUND").to_string()),
        },
        ("GET", ["v1", "invoices"]) => {
            let decoded =
                percent_encoding::percent_decode_str(&query.replace('+', " ")).decode_utf8_lossy().into_owned();
            let wanted = decoded.split("correlationId eq '").nth(1).and_then(|rest| rest.split('\'').next());
            let items: Vec<Value> = state
                .invoices
                .iter()
                .filter(|(_, i)| wanted.is_none_or(|w| i.correlation_id == w))
                .take(1)
                .map(|(id, i)| invoice_json(id, i))
                .collect();
            (200, json!({"items": items, "count": items.len()}).to_string())
        }
        ("POST", ["v1", "subscriptions"]) => {
            let Ok(new) = serde_json::from_str::<Value>(body) else {
                return (400, envelope(400, "INVALID_DATA").to_string());
            };
            let secret_len = new["secret"].as_str().map_or(0, str::len);
            if !(10..=50).contains(&secret_len) || !new["webhookUrl"].as_str().unwrap_or("").starts_with("https://") {
                return (400, envelope(400, "INVALID_DATA").to_string());
            }
            (
                201,
                json!({"id": uuid::Uuid::new_v4().to_string(), "webhookUrl": new["webhookUrl"], "enabled": true})
                    .to_string(),
            )
        }
        _ => (404, envelope(404, "NOT_FOUND").to_string()),
    }
}
