//! conn_flood: checks that an HTTP server on this machine keeps answering while many
//! idle and half-sent ("slowloris") connections are held open against it.
//!
//! Standalone (std only; uses nothing from the hostr library). It talks only to the
//! given loopback address, opens a bounded number of connections and stops by itself.
//!
//! ```text
//! ulimit -n 20000      # one descriptor per connection is needed (see below)
//! cargo run --release --example conn_flood -- --target 127.0.0.1:8080 \
//!     --idle 5000 --half 5000 --hold 30 --probes 20 --path /api/health [--pid PID]
//! ```
//!
//! * `--idle N`: connections that send nothing.
//! * `--half N`: connections that send `GET PATH HTTP/1.1\r\nHost: x\r\n` and then one
//!   more header byte every ~2 s, never finishing the request head.
//! * Connections the server closes are reopened, so that they stay held open for the
//!   whole hold time (as far as the server lets them).
//! * `--hold SECONDS`: how long the flood is held once opened (opening itself is bounded
//!   to 60 s). `--probes K`: once a second during the hold, a fresh connection sends a
//!   complete request for `--path` and waits up to 5 s for the status line.
//! * `--pid PID`: the server's process; its thread count, RSS and open descriptors are
//!   sampled from /proc during the flood.
//!
//! The process needs about idle + half + 50 file descriptors: raise the soft limit with
//! `ulimit -n` in the same shell first (it cannot exceed the hard limit, `ulimit -Hn`).

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::exit;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: conn_flood --target 127.0.0.1:PORT [--idle N] [--half N] [--hold SECONDS]
                  [--probes K] [--path /api/health] [--pid PID]

Holds N idle and N half-sent (slowloris) connections open against a server on this
machine, probes it with a fresh request once a second, and reports how it coped.
Needs about idle + half + 50 open files: run `ulimit -n 20000` (or more, up to
`ulimit -Hn`) in the same shell first.";

/// Holder threads; each owns an equal share of the connections.
const SHARDS: usize = 32;
/// Pause between two passes of a holder thread over its connections.
const PASS_INTERVAL: Duration = Duration::from_millis(100);
/// Per pass, a holder thread stops (re)opening connections after this long.
const CONNECT_BUDGET: Duration = Duration::from_millis(300);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);
/// A half-sent connection sends one more header byte this often.
const DRIP_INTERVAL: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Opening the connections is given at most this long.
const SETUP_LIMIT: Duration = Duration::from_secs(60);
const EMFILE: i32 = 24;

struct Args {
    target: SocketAddr,
    idle: usize,
    half: usize,
    hold: u64,
    probes: usize,
    path: String,
    pid: Option<u32>,
}

fn parse_args() -> Args {
    let mut target = None;
    let mut args = Args {
        target: "127.0.0.1:0".parse().unwrap(),
        idle: 0,
        half: 0,
        hold: 30,
        probes: 10,
        path: "/api/health".to_string(),
        pid: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let fail = |msg: String| -> ! {
        eprintln!("conn_flood: {msg}\n\n{USAGE}");
        exit(2)
    };
    let mut i = 0;
    while i < argv.len() {
        let flag = argv[i].as_str();
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            exit(0);
        }
        let value = argv.get(i + 1).cloned().unwrap_or_else(|| fail(format!("missing value after {flag}")));
        let number = |max: u64| -> u64 {
            match value.parse::<u64>() {
                Ok(n) if n <= max => n,
                _ => fail(format!("{flag} wants a number up to {max}, got {value:?}")),
            }
        };
        match flag {
            "--target" => match value.parse::<SocketAddr>() {
                Ok(addr) => target = Some(addr),
                Err(_) => fail(format!("--target wants IP:PORT, got {value:?}")),
            },
            "--idle" => args.idle = number(50_000) as usize,
            "--half" => args.half = number(50_000) as usize,
            "--hold" => args.hold = number(600),
            "--probes" => args.probes = number(600) as usize,
            "--pid" => args.pid = Some(number(u32::MAX as u64) as u32),
            "--path" => {
                if !value.starts_with('/') || value.bytes().any(|b| b <= b' ' || b >= 0x7f) {
                    fail(format!("--path wants an absolute path without spaces, got {value:?}"));
                }
                args.path = value;
            }
            _ => fail(format!("unknown argument {flag:?}")),
        }
        i += 2;
    }
    args.target = target.unwrap_or_else(|| fail("--target is required".to_string()));
    // Safety net: this tool floods; only ever aim it at this machine.
    if !args.target.ip().is_loopback() {
        fail(format!("--target must be a loopback address, got {}", args.target));
    }
    args
}

/// (soft, hard) RLIMIT_NOFILE of this process, from /proc (Linux).
fn nofile_limits() -> Option<(String, String)> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    Some((fields.next()?.to_string(), fields.next()?.to_string()))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Idle,
    Half,
}

struct Conn {
    kind: Kind,
    stream: Option<TcpStream>,
    ever_connected: bool,
    next_drip: Instant,
}

/// Counters shared by the holder threads and the main thread.
#[derive(Default)]
struct Stats {
    held: AtomicUsize,
    ever_connected: AtomicUsize,
    closed_by_server: AtomicU64,
    connect_failures: AtomicU64,
    emfile: AtomicU64,
    stop: AtomicBool,
}

fn open(target: &SocketAddr, kind: Kind, path: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(target, CONNECT_TIMEOUT)?;
    if kind == Kind::Half {
        stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n").as_bytes())?;
    }
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// Keeps a share of the connections open until `stats.stop`: reopens the ones the server
/// closed, drips a byte on the half-sent ones.
fn hold_connections(mut conns: Vec<Conn>, target: SocketAddr, path: String, stats: Arc<Stats>) {
    let mut buf = [0u8; 512];
    let mut pause_connects_until = Instant::now();
    while !stats.stop.load(Relaxed) {
        let pass_start = Instant::now();
        // After a failed connect, open nothing more in this pass (bounds the retry rate).
        let mut connect_failed = false;
        for conn in conns.iter_mut() {
            if stats.stop.load(Relaxed) {
                break;
            }
            let now = Instant::now();
            if let Some(stream) = conn.stream.as_mut() {
                // Anything but "nothing to read yet" means the server closed it or is
                // about to (it answered, e.g. 408): drop it, to be reopened.
                let mut alive = matches!(stream.read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock);
                if alive && conn.kind == Kind::Half && now >= conn.next_drip {
                    alive = stream.write(b"a").is_ok();
                    conn.next_drip = now + DRIP_INTERVAL;
                }
                if !alive {
                    conn.stream = None;
                    stats.held.fetch_sub(1, Relaxed);
                    stats.closed_by_server.fetch_add(1, Relaxed);
                }
            } else if connect_failed || now < pause_connects_until || now - pass_start > CONNECT_BUDGET {
                // (re)open later
            } else {
                match open(&target, conn.kind, &path) {
                    Ok(stream) => {
                        conn.stream = Some(stream);
                        conn.next_drip = Instant::now() + DRIP_INTERVAL;
                        stats.held.fetch_add(1, Relaxed);
                        if !conn.ever_connected {
                            conn.ever_connected = true;
                            stats.ever_connected.fetch_add(1, Relaxed);
                        }
                    }
                    Err(e) => {
                        connect_failed = true;
                        stats.connect_failures.fetch_add(1, Relaxed);
                        if e.raw_os_error() == Some(EMFILE) {
                            if stats.emfile.fetch_add(1, Relaxed) == 0 {
                                eprintln!(
                                    "conn_flood: ERROR: out of file descriptors (EMFILE) with {} connections open: \
                                     raise the limit with `ulimit -n` (see --help)",
                                    stats.held.load(Relaxed)
                                );
                            }
                            pause_connects_until = Instant::now() + Duration::from_secs(1);
                        }
                    }
                }
            }
        }
        if let Some(rest) = PASS_INTERVAL.checked_sub(pass_start.elapsed()) {
            thread::sleep(rest);
        }
    }
}

/// Outcome of one probe: `Ok((latency, status))` or why it was not answered.
type ProbeResult = Result<(Duration, u16), String>;

fn probe(target: SocketAddr, path: &str) -> ProbeResult {
    let start = Instant::now();
    let left = || PROBE_TIMEOUT.checked_sub(start.elapsed()).filter(|d| !d.is_zero());
    let mut stream = TcpStream::connect_timeout(&target, PROBE_TIMEOUT).map_err(|e| {
        if e.raw_os_error() == Some(EMFILE) {
            "connect: out of file descriptors (EMFILE)".to_string()
        } else {
            format!("connect: {e}")
        }
    })?;
    stream.set_write_timeout(left()).map_err(|_| "timed out".to_string())?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = head.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&head[..end]).to_string();
            let status = line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad status line {line:?}"))?;
            return Ok((start.elapsed(), status));
        }
        let Some(left) = left() else {
            return Err("no answer within 5 s".to_string());
        };
        stream.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => return Err("closed without answering".to_string()),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("no answer within 5 s".to_string());
            }
            Err(e) => return Err(format!("receive: {e}")),
        }
    }
}

#[derive(Clone, Copy, Default)]
struct ProcSample {
    threads: u64,
    rss_kib: u64,
    fds: u64,
    /// user + system CPU time, in clock ticks (normally 1/100 s)
    cpu_ticks: u64,
}

fn sample_process(pid: u32) -> Option<ProcSample> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0);
    // /proc/PID/stat: fields 14 and 15 (utime, stime) come after the ")" ending the name.
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let times: Vec<u64> = after_name.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    Some(ProcSample { threads: field("Threads:")?, rss_kib: field("VmRSS:")?, fds, cpu_ticks: times.iter().sum() })
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args = parse_args();
    let total = args.idle + args.half;
    println!(
        "conn_flood: target {}, idle {}, half-sent {}, hold {} s, probes {}, path {}",
        args.target, args.idle, args.half, args.hold, args.probes, args.path
    );
    if let Some((soft, hard)) = nofile_limits() {
        let enough = soft == "unlimited" || soft.parse::<usize>().is_ok_and(|s| s >= total + 50);
        if !enough {
            eprintln!(
                "conn_flood: WARNING: open-files limit is {soft} (hard {hard}) but about {} are needed: \
                 run `ulimit -n {}` first; continuing, connections beyond the limit will fail",
                total + 50,
                total + 50
            );
        }
    }

    // Baseline of the server before the flood.
    let baseline = args.pid.and_then(sample_process);
    if let (Some(pid), None) = (args.pid, baseline) {
        eprintln!("conn_flood: WARNING: cannot read /proc/{pid}/status");
    }

    // Interleave idle and half-sent connections so both kinds open at the same pace.
    let mut kinds = Vec::with_capacity(total);
    let (mut idle_left, mut half_left) = (args.idle, args.half);
    while idle_left + half_left > 0 {
        if idle_left * args.half >= half_left * args.idle && idle_left > 0 {
            kinds.push(Kind::Idle);
            idle_left -= 1;
        } else {
            kinds.push(Kind::Half);
            half_left -= 1;
        }
    }
    let mut shards: Vec<Vec<Conn>> = (0..SHARDS).map(|_| Vec::new()).collect();
    let now = Instant::now();
    for (i, kind) in kinds.into_iter().enumerate() {
        shards[i % SHARDS].push(Conn { kind, stream: None, ever_connected: false, next_drip: now });
    }

    let stats = Arc::new(Stats::default());
    let holders: Vec<_> = shards
        .into_iter()
        .map(|conns| {
            let (target, path, stats) = (args.target, args.path.clone(), stats.clone());
            thread::spawn(move || hold_connections(conns, target, path, stats))
        })
        .collect();

    // Setup: wait until every connection has been opened once (bounded).
    // Also stops once the number held has not grown for 5 s (the server does not let more
    // be held: it closes them or does not accept them).
    let setup_start = Instant::now();
    let (mut best_held, mut best_at) = (0, Instant::now());
    let mut next_progress = setup_start + Duration::from_secs(5);
    while stats.ever_connected.load(Relaxed) < total
        && setup_start.elapsed() < SETUP_LIMIT
        && best_at.elapsed() < Duration::from_secs(5)
    {
        thread::sleep(Duration::from_millis(100));
        let held = stats.held.load(Relaxed);
        if held > best_held {
            (best_held, best_at) = (held, Instant::now());
        }
        if Instant::now() >= next_progress {
            next_progress += Duration::from_secs(5);
            println!(
                "  opening: {} opened at least once, {} held, {} closed by the server so far",
                stats.ever_connected.load(Relaxed),
                held,
                stats.closed_by_server.load(Relaxed)
            );
        }
    }
    println!(
        "setup: {}/{} connections opened at least once in {:.1} s ({} held now)",
        stats.ever_connected.load(Relaxed),
        total,
        setup_start.elapsed().as_secs_f64(),
        stats.held.load(Relaxed)
    );

    // Hold: probe once a second, sample the server and the number of held connections.
    let hold = Duration::from_secs(args.hold.max(args.probes as u64 + 2));
    if hold.as_secs() != args.hold {
        println!("hold extended to {} s to fit {} probes", hold.as_secs(), args.probes);
    }
    let results: Arc<Mutex<Vec<ProbeResult>>> = Arc::default();
    let mut probe_threads = Vec::new();
    let (mut held_min, mut held_max, mut held_sum, mut held_n) = (usize::MAX, 0, 0, 0);
    let mut server_max = ProcSample::default();
    let mut server_last = None;
    let mut hold_first = None;
    let hold_start = Instant::now();
    let mut tick = 0u64;
    while hold_start.elapsed() < hold {
        tick += 1;
        let next = hold_start + Duration::from_millis(500 * tick);
        if let Some(rest) = next.checked_duration_since(Instant::now()) {
            thread::sleep(rest);
        }
        let held = stats.held.load(Relaxed);
        held_min = held_min.min(held);
        held_max = held_max.max(held);
        held_sum += held;
        held_n += 1;
        if let Some(s) = args.pid.and_then(sample_process) {
            server_max.threads = server_max.threads.max(s.threads);
            server_max.rss_kib = server_max.rss_kib.max(s.rss_kib);
            server_max.fds = server_max.fds.max(s.fds);
            server_last = Some(s);
            hold_first.get_or_insert(s);
        }
        // One probe a second, starting 1 s into the hold.
        if tick.is_multiple_of(2) && probe_threads.len() < args.probes {
            let (target, path, results) = (args.target, args.path.clone(), results.clone());
            probe_threads.push(thread::spawn(move || {
                let r = probe(target, &path);
                results.lock().unwrap().push(r);
            }));
        }
    }
    let held_at_end = stats.held.load(Relaxed);
    for t in probe_threads {
        let _ = t.join();
    }
    stats.stop.store(true, Relaxed);
    for t in holders {
        let _ = t.join();
    }

    // Report.
    println!(
        "connections held open (client view) during the hold: min {} / avg {} / max {} / at end {} of {}",
        if held_n == 0 { 0 } else { held_min },
        held_sum.checked_div(held_n).unwrap_or(0),
        held_max,
        held_at_end,
        total
    );
    println!(
        "closed by the server (and reopened): {}; failed connects: {}{}",
        stats.closed_by_server.load(Relaxed),
        stats.connect_failures.load(Relaxed),
        match stats.emfile.load(Relaxed) {
            0 => String::new(),
            n => format!(" ({n} of them EMFILE: raise `ulimit -n`)"),
        }
    );
    let results = results.lock().unwrap();
    let mut latencies: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok().map(|(d, _)| *d)).collect();
    latencies.sort();
    let ok_2xx = results.iter().filter(|r| matches!(r, Ok((_, s)) if (200..300).contains(s))).count();
    print!("probes answered: {}/{} ({} with 2xx)", latencies.len(), results.len(), ok_2xx);
    if latencies.is_empty() {
        println!();
    } else {
        let p50 = latencies[latencies.len().div_ceil(2) - 1];
        println!("; latency p50 {}, max {}", ms(p50), ms(*latencies.last().unwrap()));
    }
    let mut failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    failures.dedup();
    for f in failures.iter().take(3) {
        println!("  unanswered probe: {f}");
    }
    if let Some(pid) = args.pid {
        let fmt = |s: Option<ProcSample>| match s {
            Some(s) => format!("{} threads, RSS {}, {} fds", s.threads, mib(s.rss_kib), s.fds),
            None => "n/a".to_string(),
        };
        println!("server pid {pid}: before {}", fmt(baseline));
        println!("server pid {pid}: max during hold {}", fmt(server_last.map(|_| server_max)));
        println!("server pid {pid}: at end of hold {}", fmt(server_last));
        if let (Some(first), Some(last)) = (hold_first, server_last) {
            let secs = last.cpu_ticks.saturating_sub(first.cpu_ticks) as f64 / 100.0;
            println!(
                "server pid {pid}: CPU used during the hold {secs:.1} s in {:.0} s ({:.0}% of one core)",
                hold.as_secs_f64(),
                100.0 * secs / hold.as_secs_f64()
            );
        }
    }
}
