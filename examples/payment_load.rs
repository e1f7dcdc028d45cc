//! Payment benchmark against a fake Strike on loopback that answers at once:
//! what one key can make hostr spend (purchases opened, Strike writes, and
//! Strike reads for rounds of `check-invoice?refresh=true`), `create-invoice`
//! and `check-invoice` latency and throughput at N clients, Strike reads
//! caused by one webhook replayed many times, how long a webhook waits while
//! the poller is in a pass over junk payments, and the cost of one pass of
//! the poller with many settled and a few pending payments in the database.
//! Every phase counts the Strike calls it caused.
//!
//! `cargo run --release --example payment_load -- [--clients 16] [--seconds 5] [--purchases 200] [--rounds 5]
//! [--replays 100] [--junk 30] [--settled 10000] [--pending 100]`

#[path = "support/args.rs"]
mod args;
#[path = "../tests/common/fake_strike.rs"]
#[allow(dead_code)]
mod fake_strike;
#[path = "support/keepalive.rs"]
mod keepalive;

use fake_strike::{FakeStrike, KEY};
use hostr::app::App;
use hostr::checkout::provider::PaymentProvider;
use hostr::config::{Config, StrikeSettings};
use hostr::customer::Customer;
use hostr::payment::{FulfilmentStatus, Payment, PaymentState};
use hostr::timestamp::Timestamp;
use std::error::Error;
use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn Error>> {
    let (clients, seconds) = (args::number("--clients", 16) as usize, args::number("--seconds", 5));
    let (settled, pending) = (args::number("--settled", 10_000) as usize, args::number("--pending", 100) as usize);
    let (purchases, rounds) = (args::number("--purchases", 200) as usize, args::number("--rounds", 5) as usize);
    let (replays, junk) = (args::number("--replays", 100) as usize, args::number("--junk", 30) as usize);

    let fake = FakeStrike::start();
    let dir = tempfile::tempdir()?;
    let app = Arc::new(App::open(bench_config(&fake, &dir.path().join("database"))?)?);
    let server = hostr::api::serve_app(app.clone())?;
    println!(
        "hostr payment_load: {} cores, {clients} clients, {seconds} s per phase, fake Strike on loopback",
        cores()
    );

    // Phase 1: one fresh key opens purchase after purchase, as in the attack.
    let attacker = customer_token(&app, 1_000_000);
    let attack = run_phase(
        server.addr(),
        std::slice::from_ref(&attacker),
        u64::MAX,
        purchases,
        |_, n| {
            (
                "POST".to_owned(),
                "/api/create-invoice".to_owned(),
                format!(r#"{{"planId":"basic","domain":"a-n{n}.example"}}"#),
            )
        },
        &fake,
    )?;
    report("one key, create-invoice", &attack);
    let theirs = payments_of(&app, &attacker);
    println!("  payments left open by that key: {}", theirs.len());

    // Phase 2: rounds of refresh=true over every payment of that key, a
    // little over a second apart (one payment is looked up at most once a second).
    let mut refreshes = Vec::new();
    for round in 0..rounds {
        if round > 0 {
            std::thread::sleep(Duration::from_millis(1100));
        }
        refreshes.push(run_phase(
            server.addr(),
            std::slice::from_ref(&attacker),
            u64::MAX,
            theirs.len(),
            |_, n| {
                ("GET".to_owned(), format!("/api/check-invoice?paymentId={}&refresh=true", theirs[n]), String::new())
            },
            &fake,
        )?);
    }
    report(&format!("one key, {rounds} rounds of check-invoice?refresh=true"), &Phase::sum(refreshes));

    // Phase 3: every request makes a new payment, invoice and quote.
    let tokens: Vec<String> = (0..clients).map(|n| customer_token(&app, n as u64 + 1)).collect();
    let created = run_phase(
        server.addr(),
        &tokens,
        seconds,
        usize::MAX,
        |client, n| {
            let body = format!(r#"{{"planId":"basic","domain":"c{client}-n{n}.example"}}"#);
            ("POST".to_owned(), "/api/create-invoice".to_owned(), body)
        },
        &fake,
    )?;
    report("create-invoice", &created);

    // Phase 4: polling one's own latest payment, as the page does.
    let latest: Vec<String> =
        tokens.iter().map(|token| payments_of(&app, token).last().cloned().unwrap_or_default()).collect();
    let checked = run_phase(
        server.addr(),
        &tokens,
        seconds,
        usize::MAX,
        |client, _| ("GET".to_owned(), format!("/api/check-invoice?paymentId={}", latest[client]), String::new()),
        &fake,
    )?;
    report("check-invoice", &checked);

    server.stop();

    // Phase 5: one signed webhook replayed many times.
    webhook_replays(&fake, replays)?;

    // Phase 6: a webhook hint while the poller is in a pass over junk payments.
    hint_during_pass(&fake, junk)?;

    // Phase 7: the poller's pass, with many settled payments and a few pending.
    poller_pass(&fake, settled / 10, pending)?;
    poller_pass(&fake, settled, pending)?;
    Ok(())
}

const SECRET: &str = "bench-webhook-secret";

fn bench_config(fake: &FakeStrike, database: &std::path::Path) -> Result<Config, Box<dyn Error>> {
    let mut config = Config::for_database(database.to_owned(), "127.0.0.1:0".parse()?);
    config.strike = Some(StrikeSettings {
        api_key: KEY.into(),
        api_url: fake.url.clone(),
        webhook_secret: Some(SECRET.into()),
        timeout: Duration::from_secs(5),
    });
    Ok(config)
}

/// A registered customer with key number `n`, and a session token for it.
fn customer_token(app: &App, n: u64) -> String {
    let customer = Customer::new(hostr::ids::new_uuid(), format!("{n:064x}"), None, Timestamp::now());
    app.store.create(&customer).expect("create a customer");
    app.sessions.issue(&customer.public_key, 0, chrono::Utc::now().timestamp())
}

/// The ids of the payments of the customer whose token this is.
fn payments_of(app: &App, token: &str) -> Vec<String> {
    let claims = app.sessions.verify(token).expect("own token");
    let customer: Customer = app.store.find(Customer::by_public_key(&claims.sub)).expect("store").expect("customer");
    customer.payment_ids
}

fn signed(body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A server over a fresh database with the payment worker running (polling
/// every `poll`), holding `pending` PENDING payments with invoices at the
/// fake and one EXPIRED payment whose invoice was paid late; returns the
/// latter's id and invoice.
fn worker_app(
    fake: &FakeStrike,
    dir: &std::path::Path,
    poll: Duration,
    pending: usize,
) -> Result<(Arc<App>, String, String), Box<dyn Error>> {
    let mut config = bench_config(fake, &dir.join("database"))?;
    config.payment_poll_interval = poll;
    let app = Arc::new(App::open(config)?);
    let strike = unbudgeted(fake);
    let now = Timestamp::now();
    let plan = hostr::plan::Plan::seed(now);
    let customer_id = hostr::ids::new_uuid();
    let (mut late, mut late_invoice) = (String::new(), String::new());
    for n in 0..=pending {
        let mut payment = Payment::pending(&customer_id, &plan, hostr::ids::new_uuid(), None, now);
        let invoice = strike.issue_invoice(&payment.id, "bench", payment.amount, &payment.currency)?;
        if n == pending {
            payment.state = PaymentState::Expired;
            fake.set_state(&invoice.id, "PAID");
            (late, late_invoice) = (payment.id.clone(), invoice.id.clone());
        }
        payment.strike_invoice_id = Some(invoice.id);
        app.store.create(&payment)?;
    }
    app.start_workers();
    Ok((app, late, late_invoice))
}

/// Sends the same signed `invoice.updated` event `replays` times and counts
/// the Strike reads of that invoice they cause (the worker reads them back).
fn webhook_replays(fake: &FakeStrike, replays: usize) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let (app, _, _) = worker_app(fake, dir.path(), Duration::from_secs(3600), 1)?;
    // The one PENDING payment: its invoice is still unpaid.
    let invoice = app.store.find_all(Payment::open_pending())?.remove(0).strike_invoice_id.unwrap_or_default();
    let server = hostr::api::serve_app(app.clone())?;
    std::thread::sleep(Duration::from_millis(500)); // the first poll, over that payment
    let event = format!(
        r#"{{"id":"{}","eventType":"invoice.updated","webhookVersion":"v1","data":{{"entityId":"{invoice}","changes":["state"]}},"created":"2026-11-25T10:00:00+00:00"}}"#,
        hostr::ids::new_uuid()
    );
    let header = format!("X-Webhook-Signature: {}\r\n", signed(&event));
    let reads = || fake.calls(&format!("GET /v1/invoices/{invoice}"));
    let before = reads();
    let stream = TcpStream::connect(server.addr())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut accepted = 0;
    for _ in 0..replays {
        let (status, _) =
            keepalive::exchange(&mut reader, &mut writer, "POST", "/api/webhooks/strike", &header, &event)?;
        accepted += usize::from(status == 200);
    }
    std::thread::sleep(Duration::from_secs(3)); // the worker reads them back in the background
    println!(
        "webhook replays: {replays} of one event ({accepted} answered 200) made {} Strike reads of its invoice",
        reads() - before
    );
    server.stop();
    Ok(())
}

/// With the worker in a pass over `junk` pending payments, how long a
/// webhook for a payment that was paid late takes to be acted on.
fn hint_during_pass(fake: &FakeStrike, junk: usize) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let reads_before = fake.calls("GET /v1/invoices/");
    let (app, late, invoice) = worker_app(fake, dir.path(), Duration::from_secs(2), junk)?;
    std::thread::sleep(Duration::from_millis(500)); // the first pass is under way
    let hinted = Instant::now();
    app.checkout.hint_invoice(invoice, None);
    let deadline = hinted + Duration::from_secs(junk as u64 * 2 + 10);
    while app.store.get::<Payment>(&late)?.state != PaymentState::Paid && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let waited = hinted.elapsed();
    println!(
        "webhook hint during a poller pass over {junk} pending payments: acted on after {:.2} s; {} Strike reads by then",
        waited.as_secs_f64(),
        fake.calls("GET /v1/invoices/") - reads_before
    );
    Ok(())
}

struct Phase {
    latencies: Vec<Duration>,
    /// How many answers had each status.
    statuses: std::collections::BTreeMap<u16, usize>,
    elapsed: Duration,
    /// Strike calls made during the phase: writes (POST, PATCH) and reads (GET).
    strike_writes: usize,
    strike_reads: usize,
}

impl Phase {
    /// Several phases counted as one.
    fn sum(phases: Vec<Phase>) -> Phase {
        let mut total = Phase {
            latencies: Vec::new(),
            statuses: std::collections::BTreeMap::new(),
            elapsed: Duration::ZERO,
            strike_writes: 0,
            strike_reads: 0,
        };
        for phase in phases {
            total.latencies.extend(phase.latencies);
            for (status, n) in phase.statuses {
                *total.statuses.entry(status).or_insert(0) += n;
            }
            total.elapsed += phase.elapsed;
            (total.strike_writes, total.strike_reads) =
                (total.strike_writes + phase.strike_writes, total.strike_reads + phase.strike_reads);
        }
        total.latencies.sort();
        total
    }
}

/// `tokens.len()` clients each sending `request(client, n)` until `seconds`
/// have passed or `limit` requests were sent in all (each client its share).
fn run_phase(
    addr: SocketAddr,
    tokens: &[String],
    seconds: u64,
    limit: usize,
    request: impl Fn(usize, usize) -> (String, String, String) + Sync,
    fake: &FakeStrike,
) -> Result<Phase, Box<dyn Error>> {
    let deadline = Instant::now().checked_add(Duration::from_secs(seconds));
    let per_client = limit.div_ceil(tokens.len().max(1));
    let strike_writes = || fake.calls("POST /v1/") + fake.calls("PATCH /v1/");
    let (writes_before, reads_before) = (strike_writes(), fake.calls("GET /v1/"));
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, Vec<u16>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(client, token)| {
                let request = &request;
                scope.spawn(move || -> Result<(Vec<Duration>, Vec<u16>), String> {
                    let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
                    stream.set_nodelay(true).map_err(|e| e.to_string())?;
                    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
                    let mut writer = stream;
                    let (mut latencies, mut statuses) = (Vec::new(), Vec::new());
                    let mut n = 0;
                    while n < per_client && deadline.is_none_or(|d| Instant::now() < d) {
                        let (method, path, body) = request(client, n);
                        n += 1;
                        let begun = Instant::now();
                        let auth = format!("Authorization: Bearer {token}\r\n");
                        let (status, _) = keepalive::exchange(&mut reader, &mut writer, &method, &path, &auth, &body)?;
                        if (200..300).contains(&status) {
                            latencies.push(begun.elapsed());
                        }
                        statuses.push(status);
                    }
                    Ok((latencies, statuses))
                })
            })
            .collect();
        threads.into_iter().filter_map(|t| t.join().ok().and_then(Result::ok)).collect()
    });
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(l, _)| l.clone()).collect();
    latencies.sort();
    let mut statuses = std::collections::BTreeMap::new();
    for status in results.iter().flat_map(|(_, s)| s) {
        *statuses.entry(*status).or_insert(0) += 1;
    }
    let (strike_writes, strike_reads) = (strike_writes() - writes_before, fake.calls("GET /v1/") - reads_before);
    Ok(Phase { latencies, statuses, elapsed, strike_writes, strike_reads })
}

fn report(name: &str, phase: &Phase) {
    let l = &phase.latencies;
    let requests: usize = phase.statuses.values().sum();
    let statuses: Vec<String> = phase.statuses.iter().map(|(status, n)| format!("{n}×{status}")).collect();
    println!(
        "{name}: {requests} requests in {:.1} s ({}); Strike calls: {} writes, {} reads",
        phase.elapsed.as_secs_f64(),
        statuses.join(", "),
        phase.strike_writes,
        phase.strike_reads
    );
    if l.is_empty() {
        return;
    }
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "  successes: {:.0}/s; p50 {:.2} ms, p99 {:.2} ms",
        l.len() as f64 / phase.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

/// One pass of the poller over a database holding `settled` PAID payments
/// and `pending` PENDING ones: what it reads and how many provider calls
/// it makes, each pending payment refreshed in turn as the worker does,
/// without the budget that paces the worker.
fn poller_pass(fake: &FakeStrike, settled: usize, pending: usize) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(hostr::store::Store::open(dir.path())?);
    let now = Timestamp::now();
    let customer_id = hostr::ids::new_uuid();
    let strike = unbudgeted(fake);
    let plan = hostr::plan::Plan::seed(now);
    for n in 0..settled + pending {
        let mut payment = Payment {
            state: PaymentState::Paid,
            paid_at: Some(now),
            ..Payment::pending(&customer_id, &plan, hostr::ids::new_uuid(), None, now)
        };
        if n < settled {
            payment.fulfilment.status = FulfilmentStatus::Done;
        } else {
            payment.state = PaymentState::Pending;
            payment.paid_at = None;
            let invoice = strike.issue_invoice(&payment.id, "bench", payment.amount, &payment.currency)?;
            payment.strike_invoice_id = Some(invoice.id);
        }
        store.create(&payment)?;
    }
    let checkout = hostr::checkout::Checkout::new(store.clone(), Arc::new(strike), Duration::from_secs(3600));
    let calls_before = fake.calls("GET /v1/invoices/");
    let started = Instant::now();
    let open = store.find_all(Payment::open_pending())?;
    let found = started.elapsed();
    for payment in &open {
        checkout.refresh(&payment.id, false)?;
    }
    let total = started.elapsed();
    println!(
        "poller pass, {settled} settled + {pending} pending: {} Strike calls; finding the {} pending {:.2} ms; whole pass {:.1} ms",
        fake.calls("GET /v1/invoices/") - calls_before,
        open.len(),
        found.as_secs_f64() * 1000.0,
        total.as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// A Strike client whose budget never runs out: for making the benchmark's
/// own invoices, and for measuring the poller's pass without its pacing.
fn unbudgeted(fake: &FakeStrike) -> hostr::strike::StrikeClient {
    let plenty = hostr::rate_limit::Rate::per_minute(1_000_000, 1_000_000);
    let limits = hostr::checkout::budget::Limits { new_invoice: plenty, new_quote: plenty, other: plenty };
    hostr::strike::StrikeClient::new(&fake.url, KEY).with_limits(limits)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
