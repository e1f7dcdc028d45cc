//! Load generator for Nostr sign-in: N client threads, each looping
//! `GET /api/challenge` → sign a NIP-98 event with its own key →
//! `POST /api/verify` on one keep-alive connection, against a hostr server
//! over a temporary database in which every client's key is a registered
//! customer (so each login looks one up).
//!
//! `cargo run --release --example login_load -- [--clients 16] [--seconds 10] [--workers 16] [--floor]`
//!
//! The server is this same executable started again as a child process,
//! running what `hostr serve` runs (`cli::run` with the logger at its
//! default level, so the access log is written, to a pipe that this process
//! drains; the background workers too). Its CPU is read from
//! `/proc/<pid>/stat` (`utime + stime`, which also counts its threads that
//! have ended), so "server CPU per login" is the server process's own work
//! over the run divided by the logins, and nothing of the generator's.
//!
//! With `--floor` the child is not hostr but `support/floor_server.rs`: the
//! same two exchanges and the same event check through the nostr crate,
//! and nothing else (no limits, sessions, lookup or log). Its CPU per login
//! is what any blocking thread-per-connection server pays on this machine,
//! so hostr's figure has its floor beside it, measured the same way.
//!
//! To profile the server, set `LOGIN_LOAD_WRAPPER` to a command that runs
//! it, e.g. `LOGIN_LOAD_WRAPPER="valgrind --tool=callgrind"`.
//!
//! Prints logins per second, login latency (both requests) p50/p99, the
//! server's and the generator's CPU per login, and the raw BIP-340
//! verification and signing rates of this machine, measured in the same run.

#[path = "support/args.rs"]
mod args;
#[path = "support/floor_server.rs"]
mod floor_server;
#[path = "support/keepalive.rs"]
mod keepalive;

use clap::Parser;
use hostr::customer::Customer;
use hostr::store::Store;
use hostr::timestamp::Timestamp;
use nostr::prelude::{Event, EventBuilder, FinalizeUnsignedEvent, Keys, Kind, Tag};
use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The origin the server is told it has; the sign-in events name it.
const PUBLIC_URL: &str = "http://login-load.test";
/// Given to the child: serve this database instead of generating load.
const SERVE_FLAG: &str = "--serve-database";
/// Given to the child: be the floor server instead of hostr.
const FLOOR_FLAG: &str = "--serve-floor";

fn main() -> Result<(), Box<dyn Error>> {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(at) = argv.iter().position(|a| a == SERVE_FLAG) {
        return serve(&argv[at + 1..]);
    }
    if argv.iter().any(|a| a == FLOOR_FLAG) {
        return Ok(floor_server::serve()?);
    }
    let floor = argv.iter().any(|a| a == "--floor");
    let (clients, seconds) = (args::number("--clients", 16) as usize, args::number("--seconds", 10));
    let workers = args::number("--workers", 16);

    let dir = tempfile::tempdir()?;
    let database = dir.path().join("database");
    let keys: Vec<Keys> = (0..clients).map(|_| Keys::generate()).collect();
    fill_database(&database, &keys)?;
    let (mut server, addr, log_lines) = start_server(&database, workers, floor)?;
    let verify_url = format!("{PUBLIC_URL}/api/verify");

    let serving = if floor { "the floor server (examples/support/floor_server.rs), not hostr" } else { "hostr" };
    println!(
        "login_load: {} cores, {clients} clients, {seconds} s, server workers {workers}, against {serving}",
        cores()
    );
    let first_key = keys[0].clone();
    let (server_cpu_before, lines_before) = (process_cpu_seconds(server.id()), log_lines.count());
    let switches_before = context_switches(server.id());

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
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = process_cpu_seconds(server.id()).minus(server_cpu_before);
    let switches = context_switches(server.id()).saturating_sub(switches_before);
    let lines = log_lines.count() - lines_before;
    per_client.sort();
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
    let logins = latencies.len().max(1) as f64;
    println!(
        "CPU per login: server {:.0} µs (the server process's utime {:.0} + stime {:.0}, {:.0}% of one core; \
         {lines} log lines), load generator {:.0} µs",
        server_cpu.total() / logins * 1e6,
        server_cpu.user / logins * 1e6,
        server_cpu.system / logins * 1e6,
        server_cpu.total() / elapsed * 100.0,
        client_cpu / logins * 1e6,
    );
    // The floor's threads end with their connections, taking their counts along.
    let switches = if floor { "not counted".to_owned() } else { format!("{:.1}", switches as f64 / logins) };
    println!(
        "server context switches per login: {switches}; logins per client: min {}, max {}",
        per_client.first().unwrap_or(&0),
        per_client.last().unwrap_or(&0)
    );
    stop(&mut server)?;
    let verifications = bip340_verifications_per_second(&first_key);
    println!("raw BIP-340 verification (one thread): {verifications:.0} per second ({:.0} µs)", 1e6 / verifications);
    // The same machine's cost of the one step no login can skip, so runs on
    // machines of different speed (or one machine under different load) compare.
    println!("server CPU per login in raw verifications: {:.2}", server_cpu.total() / logins * verifications);
    println!(
        "raw event signing, client side (one thread): {:.0} per second",
        signings_per_second(&first_key, &verify_url)
    );
    Ok(())
}

/// The child: `hostr --database DB serve …`, as the binary's `main` runs it.
fn serve(args: &[String]) -> Result<(), Box<dyn Error>> {
    let [database, workers] = args else { return Err("usage: --serve-database DB WORKERS".into()) };
    // The generator holds this pipe: when it ends, even killed, so does the server.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0)
    });
    let _flush = hostr::logger::init(log::LevelFilter::Info);
    let public_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    let command = [
        "hostr",
        "--database",
        database,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        PUBLIC_URL,
        "--public-dir",
        &public_dir.to_string_lossy(),
        "--workers",
        workers,
        "--max-connections",
        "4096",
        // Every client shares one address here.
        "--challenge-rate",
        &u32::MAX.to_string(),
    ];
    match hostr::cli::run(hostr::config::Cli::parse_from(command)) {
        code if code == std::process::ExitCode::SUCCESS => Ok(()),
        _ => Err("the server failed".into()),
    }
}

/// Every client's key a registered customer, among 10,000 others, so a
/// lookup is not in a table of 16.
fn fill_database(database: &Path, keys: &[Keys]) -> Result<(), Box<dyn Error>> {
    let store = Store::open(database)?;
    let public_keys = keys.iter().map(|k| k.public_key().to_hex()).chain((0..10_000u64).map(|n| format!("{n:064x}")));
    for public_key in public_keys {
        store.create(&Customer::new(hostr::ids::new_uuid(), public_key, None, Timestamp::now()))?;
    }
    Ok(())
}

/// Lines the server has logged so far, counted by the thread draining its stderr.
struct LogLines(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl LogLines {
    fn count(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Starts the child server and waits until it listens and has built its
/// lookup tables (so that building them is not counted in the run).
fn start_server(database: &Path, workers: u64, floor: bool) -> Result<(Child, SocketAddr, LogLines), Box<dyn Error>> {
    let wrapper = std::env::var("LOGIN_LOAD_WRAPPER").unwrap_or_default();
    let mut command: Vec<String> = wrapper.split_whitespace().map(str::to_owned).collect();
    command.push(std::env::current_exe()?.to_string_lossy().into_owned());
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .args(if floor {
            vec![FLOOR_FLAG.to_owned()]
        } else {
            vec![SERVE_FLAG.to_owned(), database.to_string_lossy().into_owned(), workers.to_string()]
        })
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (found, address) = mpsc::channel();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let lines = LogLines(counter.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some((_, rest)) = line.split_once(" listening on ") {
                let _ = found.send(Some(rest.split(' ').next().unwrap_or("").to_owned()));
            } else if line.contains(" lookup tables ready ") {
                let _ = found.send(None);
            } else if line.contains(" ERROR ") || line.contains(" WARN ") {
                eprintln!("server: {line}");
            }
        }
    });
    let mut addr = None;
    for _ in 0..2 {
        let found = address.recv_timeout(Duration::from_secs(60)).map_err(|_| "the server did not start")?;
        if let Some(listening) = found {
            addr = Some(listening.parse()?);
        }
    }
    Ok((child, addr.ok_or("the server logged no address")?, lines))
}

/// Stops the server as an operator does, with SIGTERM.
fn stop(server: &mut Child) -> Result<(), Box<dyn Error>> {
    // SAFETY: kill with the pid of a child this process started and has not reaped.
    unsafe { libc::kill(server.id() as libc::pid_t, libc::SIGTERM) };
    server.wait()?;
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
    Ok((samples, failed, cpu_seconds("/proc/thread-self/stat")))
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

/// The server process's CPU seconds so far, all its threads, ended ones included.
fn process_cpu_seconds(pid: u32) -> CpuTime {
    cpu_time(format!("/proc/{pid}/stat"))
}

/// Context switches (voluntary and not) of the server's threads alive now.
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    let status = |task: std::fs::DirEntry| std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
    let switches = |status: String| -> u64 {
        status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum()
    };
    tasks.flatten().map(status).map(switches).sum()
}

/// User plus system CPU seconds from a `/proc/…/stat` file.
fn cpu_seconds(stat: impl AsRef<Path>) -> f64 {
    cpu_time(stat).total()
}

#[derive(Clone, Copy)]
struct CpuTime {
    user: f64,
    system: f64,
}

impl CpuTime {
    fn total(self) -> f64 {
        self.user + self.system
    }

    fn minus(self, before: CpuTime) -> CpuTime {
        CpuTime { user: self.user - before.user, system: self.system - before.system }
    }
}

/// `utime` and `stime` from a `/proc/…/stat` file, in seconds.
fn cpu_time(stat: impl AsRef<Path>) -> CpuTime {
    const TICKS_PER_SECOND: f64 = 100.0; // USER_HZ on Linux
    let stat = std::fs::read_to_string(stat).unwrap_or_default();
    // After the ")" that closes the name, utime and stime are the 12th and 13th fields.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / TICKS_PER_SECOND;
    CpuTime { user: field(11), system: field(12) }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
