//! Payment benchmark: `create-invoice` and `check-invoice` latency and
//! throughput at N clients against a fake Strike on loopback that answers
//! at once, and the cost of one pass of the pending-payment poller with
//! many settled and a few pending payments in the database.
//!
//! `cargo run --release --example payment_load -- [--clients 16] [--seconds 5] [--settled 10000] [--pending 100]`

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

    let fake = FakeStrike::start();
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_database(dir.path().join("database"), "127.0.0.1:0".parse()?);
    config.strike = Some(StrikeSettings {
        api_key: KEY.into(),
        api_url: fake.url.clone(),
        webhook_secret: None,
        timeout: Duration::from_secs(5),
    });
    let app = Arc::new(App::open(config)?);
    let server = hostr::api::serve_app(app.clone())?;
    println!(
        "hostr payment_load: {} cores, {clients} clients, {seconds} s per phase, fake Strike on loopback",
        cores()
    );

    let tokens: Vec<String> = (0..clients)
        .map(|n| {
            let customer = Customer::new(hostr::ids::new_uuid(), format!("{:064x}", n + 1), None, Timestamp::now());
            app.store.create(&customer).expect("create a customer");
            app.sessions.issue(&customer.public_key, 0, chrono::Utc::now().timestamp())
        })
        .collect();

    // Phase 1: every request makes a new payment, invoice and quote.
    let created = run_phase(server.addr(), &tokens, seconds, |client, n| {
        let body = format!(r#"{{"planId":"basic","domain":"c{client}-n{n}.example"}}"#);
        ("POST".to_owned(), "/api/create-invoice".to_owned(), body)
    })?;
    report("create-invoice", &created);

    // Phase 2: polling one's own latest payment, as the page does.
    let latest: Vec<String> = tokens
        .iter()
        .map(|token| {
            let claims = app.sessions.verify(token).expect("own token");
            let customer: Customer =
                app.store.find(Customer::by_public_key(&claims.sub)).expect("store").expect("customer");
            customer.payment_ids.last().cloned().unwrap_or_default()
        })
        .collect();
    let checked = run_phase(server.addr(), &tokens, seconds, |client, _| {
        ("GET".to_owned(), format!("/api/check-invoice?paymentId={}", latest[client]), String::new())
    })?;
    report("check-invoice", &checked);
    let strike_reads = fake.calls("GET /v1/invoices/");
    println!(
        "  Strike reads during check-invoice: {strike_reads} for {} checks (paced to about one a second per payment)",
        checked.latencies.len()
    );
    server.stop();

    // Phase 3: the poller's pass, with many settled payments and a few pending.
    poller_pass(&app, &fake, settled / 10, pending)?;
    poller_pass(&app, &fake, settled, pending)?;
    Ok(())
}

struct Phase {
    latencies: Vec<Duration>,
    failures: usize,
    elapsed: Duration,
}

fn run_phase(
    addr: SocketAddr,
    tokens: &[String],
    seconds: u64,
    request: impl Fn(usize, usize) -> (String, String, String) + Sync,
) -> Result<Phase, Box<dyn Error>> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let threads: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(client, token)| {
                let request = &request;
                scope.spawn(move || -> Result<(Vec<Duration>, usize), String> {
                    let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
                    stream.set_nodelay(true).map_err(|e| e.to_string())?;
                    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
                    let mut writer = stream;
                    let (mut latencies, mut failures) = (Vec::new(), 0);
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let (method, path, body) = request(client, n);
                        n += 1;
                        let begun = Instant::now();
                        let auth = format!("Authorization: Bearer {token}\r\n");
                        let (status, _) = keepalive::exchange(&mut reader, &mut writer, &method, &path, &auth, &body)?;
                        if (200..300).contains(&status) {
                            latencies.push(begun.elapsed());
                        } else {
                            failures += 1;
                        }
                    }
                    Ok((latencies, failures))
                })
            })
            .collect();
        threads.into_iter().filter_map(|t| t.join().ok().and_then(Result::ok)).collect()
    });
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(l, _)| l.clone()).collect();
    latencies.sort();
    Ok(Phase { latencies, failures: results.iter().map(|(_, f)| f).sum(), elapsed })
}

fn report(name: &str, phase: &Phase) {
    let l = &phase.latencies;
    if l.is_empty() {
        println!("{name}: no successful requests ({} failed)", phase.failures);
        return;
    }
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{name}: {} in {:.1} s = {:.0}/s; failed {}; p50 {:.2} ms, p99 {:.2} ms",
        l.len(),
        phase.elapsed.as_secs_f64(),
        l.len() as f64 / phase.elapsed.as_secs_f64(),
        phase.failures,
        pct(0.50),
        pct(0.99)
    );
}

/// One pass of the poller over a database holding `settled` PAID payments
/// and `pending` PENDING ones: what it reads and how many provider calls
/// it makes. The pacing between calls is left out; it is a fixed sleep.
fn poller_pass(app: &App, fake: &FakeStrike, settled: usize, pending: usize) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let store = hostr::store::Store::open(dir.path())?;
    let now = Timestamp::now();
    let customer_id = hostr::ids::new_uuid();
    let strike = hostr::strike::StrikeClient::new(&fake.url, KEY);
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
    let calls_before = fake.calls("GET /v1/invoices/");
    let started = Instant::now();
    let open = store.find_all(Payment::open_pending())?;
    let found = started.elapsed();
    for payment in &open {
        app.checkout.refresh(&payment.id, false)?;
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
