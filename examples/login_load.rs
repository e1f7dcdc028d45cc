//! Load generator for Nostr sign-in: N client threads, each looping
//! `GET /api/challenge` → sign a NIP-98 event with its own key →
//! `POST /api/verify` on one keep-alive connection, against a hostr server
//! started in this process over a temporary database in which every
//! client's key is a registered customer (so each login looks one up).
//!
//! `cargo run --release --example login_load -- [--clients 16] [--seconds 10] [--workers 16]`
//!
//! Prints logins per second, login latency (both requests) p50/p99, and the
//! raw BIP-340 verification rate of this machine, measured in the same run.

#[path = "support/args.rs"]
mod args;
#[path = "support/keepalive.rs"]
mod keepalive;

use hostr::api;
use hostr::app::App;
use hostr::config::Config;
use hostr::customer::Customer;
use nostr::prelude::{Event, EventBuilder, FinalizeUnsignedEvent, Keys, Kind, Tag};
use std::error::Error;
use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn Error>> {
    let (clients, seconds) = (args::number("--clients", 16) as usize, args::number("--seconds", 10));

    let dir = tempfile::tempdir()?;
    let mut config = Config::for_database(dir.path().join("database"), "127.0.0.1:0".parse()?);
    config.challenge_rate = u32::MAX; // every client shares one address here
    config.max_connections = 4096;
    config.workers = args::number("--workers", config.workers as u64) as usize;
    let app = Arc::new(App::open(config.clone())?);
    let keys: Vec<Keys> = (0..clients).map(|_| Keys::generate()).collect();
    for key in &keys {
        let customer =
            Customer::new(hostr::ids::new_uuid(), key.public_key().to_hex(), None, hostr::timestamp::Timestamp::now());
        app.store.create(&customer)?;
    }
    // Other customers in the database, so a lookup is not in a table of 16.
    for n in 0..10_000u64 {
        let customer =
            Customer::new(hostr::ids::new_uuid(), format!("{n:064x}"), None, hostr::timestamp::Timestamp::now());
        app.store.create(&customer)?;
    }
    let server = api::serve_app(app.clone())?;
    let addr = server.addr();
    let verify_url = config.public_url.verify_url();

    println!("hostr login_load: {} cores, {clients} clients, {seconds} s, server workers {}", cores(), config.workers);
    let first_key = keys[0].clone();
    let cpu_before = cpu_by_thread_group();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = keys
        .into_iter()
        .enumerate()
        .map(|(n, key)| {
            let url = verify_url.clone();
            std::thread::Builder::new()
                .name(format!("client-{n}"))
                .spawn(move || client(addr, &key, &url, deadline))
                .expect("start a client thread")
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    let mut per_client = Vec::new();
    let mut client_cpu = 0.0;
    for thread in threads {
        let (mut samples, failed, cpu) = thread.join().map_err(|_| "a client thread panicked")??;
        client_cpu += cpu;
        per_client.push(samples.len());
        latencies.append(&mut samples);
        failures += failed;
    }
    per_client.sort();
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "logins: {} in {elapsed:.1} s = {:.0} logins/s; failed {failures}; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );
    let cpu_after = cpu_by_thread_group();
    let spent = |group: &str| cpu_after.get(group).unwrap_or(&0.0) - cpu_before.get(group).unwrap_or(&0.0);
    let logins = latencies.len().max(1) as f64;
    println!(
        "CPU per login: server {:.0} µs (workers {:.0}, connection threads {:.0}), load generator {:.0} µs",
        (spent("worker") + spent("connection")) / logins * 1e6,
        spent("worker") / logins * 1e6,
        spent("connection") / logins * 1e6,
        client_cpu / logins * 1e6,
    );
    println!("logins per client: min {}, max {}", per_client.first().unwrap_or(&0), per_client.last().unwrap_or(&0));
    println!("raw BIP-340 verification (one thread): {:.0} per second", bip340_verifications_per_second(&first_key));
    println!(
        "raw event signing, client side (one thread): {:.0} per second",
        signings_per_second(&first_key, &verify_url)
    );
    server.stop();
    Ok(())
}

/// Latencies, failures and the thread's own CPU seconds.
type ClientResult = Result<(Vec<Duration>, usize, f64), String>;

fn client(addr: SocketAddr, key: &Keys, verify_url: &str, deadline: Instant) -> ClientResult {
    let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    let mut samples = Vec::new();
    let mut failed = 0;
    while Instant::now() < deadline {
        let begun = Instant::now();
        let (status, body) = keepalive::exchange(&mut reader, &mut writer, "GET", "/api/challenge", "", "")?;
        if status != 200 {
            failed += 1;
            continue;
        }
        let challenge: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let challenge = challenge["challenge"].as_str().ok_or("no challenge")?.to_owned();
        let event = sign(key, verify_url, &challenge);
        let body = serde_json::json!({"event": event}).to_string();
        let (status, _) = keepalive::exchange(&mut reader, &mut writer, "POST", "/api/verify", "", &body)?;
        if status == 200 {
            samples.push(begun.elapsed());
        } else {
            failed += 1;
        }
    }
    Ok((samples, failed, thread_cpu_seconds("/proc/thread-self/stat")))
}

/// Signs a sign-in event as a browser signer does. (The nostr crate's
/// `finalize` also verifies what it has just signed, which would double
/// the generator's own cryptography and blur the server's figures.)
fn sign(key: &Keys, url: &str, challenge: &str) -> serde_json::Value {
    let tags = [vec!["u", url], vec!["method", "POST"], vec!["challenge", challenge]]
        .into_iter()
        .map(|t| Tag::parse(t).expect("valid tag"));
    let unsigned =
        EventBuilder::new(Kind::from(27235u16), "Sign in to hostr").tags(tags).finalize_unsigned(key.public_key());
    let id = unsigned.compute_id();
    let sig = key.sign_schnorr(id.as_bytes());
    let event =
        Event::new(id, unsigned.pubkey, unsigned.created_at, unsigned.kind, unsigned.tags, unsigned.content, sig);
    serde_json::to_value(&event).expect("an event is JSON")
}

fn bip340_verifications_per_second(key: &Keys) -> f64 {
    let event: Event = serde_json::from_value(sign(key, "https://bench.example/api/verify", "x")).expect("an event");
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        assert!(event.verify_signature());
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn signings_per_second(key: &Keys, url: &str) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        std::hint::black_box(sign(key, url, "0123456789abcdef"));
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// CPU seconds used so far by this process's threads, grouped by name:
/// `worker` (request handlers) and `connection` (tiny_http's connection and
/// accept threads, which are unnamed); the clients count their own.
fn cpu_by_thread_group() -> std::collections::HashMap<String, f64> {
    let mut groups = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return groups };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let group = match name.trim() {
            n if n.starts_with("worker") => "worker",
            "login_load" => "connection",
            _ => "other",
        };
        *groups.entry(group.to_owned()).or_insert(0.0) += thread_cpu_seconds(task.path().join("stat"));
    }
    groups
}

/// User plus system CPU seconds from a `/proc/…/stat` file.
fn thread_cpu_seconds(stat: impl AsRef<std::path::Path>) -> f64 {
    const TICKS_PER_SECOND: f64 = 100.0; // USER_HZ on Linux
    let stat = std::fs::read_to_string(stat).unwrap_or_default();
    // After the ")" that closes the name, utime and stime are the 12th and 13th fields.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / TICKS_PER_SECOND
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
