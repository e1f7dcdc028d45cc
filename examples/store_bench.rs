//! store_bench: measures the file store against its targets, all in one run.
//!
//! ```text
//! cargo run --release --example store_bench            # full size, a few minutes
//! cargo run --release --example store_bench -- --quick # every count 10x smaller
//! ```
//!
//! Everything happens in a fresh folder under the system temp dir, removed at
//! the end. Progress goes to stderr; the table that a README can quote goes to
//! stdout. Measured:
//! 1. the bare cost of a durable file replacement (write a temp file,
//!    `sync_data`, rename over the target, `sync_all` the folder): the floor,
//!    also with a new name each time and inside the store's own folder;
//! 2. `Store::update` and `Store::create` of customers, against that floor
//!    (all five kinds take turns, one write of each per iteration, so that
//!    the disk's ups and downs fall on all of them alike);
//! 3. `Store::find` by public key with 1,000 and 100,000 customers (written
//!    directly as the store would write them, without fsync; the two sizes
//!    alternate in blocks), with as many other lookups split into reading the
//!    file, parsing it, and the rest (index, lock, inotify drain);
//! 4. `hostr check` over the 100,000 customers;
//! 5. server start-up over the 100,000 customers: until `GET /api/health`
//!    answers 200, and until the first lookup by public key succeeds.
//!
//! The page cache is warm throughout (the files were just written): these are
//! not cold-start disk numbers.

use hostr::app::App;
use hostr::config::Config;
use hostr::customer::Customer;
use hostr::store::{Record, Store, StoreError};
use hostr::timestamp::Timestamp;
use std::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// Unmeasured writes of each kind before the measured ones.
const WARM_UP_WRITES: usize = 20;
const P99_TARGET_US: f64 = 200.0;
const RATIO_TARGET_LOOKUP: f64 = 1.5;
const RATIO_TARGET_WRITE: f64 = 1.3;

struct Sizes {
    writes: usize,
    small: usize,
    large: usize,
    lookups: usize,
}

fn main() -> BenchResult<()> {
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            other => return Err(format!("unknown argument `{other}` (only --quick)").into()),
        }
    }
    let scale = if quick { 10 } else { 1 };
    let sizes = Sizes { writes: 2_000 / scale, small: 1_000 / scale, large: 100_000 / scale, lookups: 20_000 / scale };
    let temp = tempfile::Builder::new()
        .prefix("hostr-store-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let root = temp.path().to_owned();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut out = Vec::new();

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    out.push(format!(
        "hostr store_bench{}: {cores} cores, folder {} ({})",
        if quick { " --quick (counts / 10)" } else { "" },
        root.display(),
        filesystem_of(&root)
    ));

    writes(&root, &sizes, &mut rng, &mut out)?;
    lookups_check_and_start(&root, &sizes, &mut rng, &mut out)?;

    eprintln!("removing {}", root.display());
    temp.close().map_err(|e| format!("cannot remove {}: {e}", root.display()))?;
    println!();
    for line in out {
        println!("{line}");
    }
    Ok(())
}

// ---------------------------------------------------------------- writes

fn writes(root: &Path, sizes: &Sizes, rng: &mut Rng, out: &mut Vec<String>) -> BenchResult<()> {
    let bare_dir = root.join("bare");
    let bare_new_dir = root.join("bare-new");
    for dir in [&bare_dir, &bare_new_dir] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let store_root = root.join("db-writes");
    let store = Store::open(&store_root)?;
    let payload = vec![b'x'; 500];

    let target =
        Customer::new(hostr::ids::new_uuid(), rng.hex_key(), Some("first@example.com".to_owned()), Timestamp::now());
    store.create(&target)?;
    let customer_bytes = fs::read(store.dir::<Customer>()?.join(format!("{}.json", target.id)))
        .map_err(|e| format!("cannot read back the customer: {e}"))?;

    let mut bare = Vec::with_capacity(sizes.writes);
    let mut bare_new = Vec::with_capacity(sizes.writes);
    let mut bare_in_store = Vec::with_capacity(sizes.writes);
    let customers_dir = store.dir::<Customer>()?;
    let mut updates = Vec::with_capacity(sizes.writes);
    let mut creates = Vec::with_capacity(sizes.writes);
    eprintln!("durable writes: {} × (bare, bare-new, bare-in-store, update, create), interleaved", sizes.writes);
    for serial in 0..WARM_UP_WRITES + sizes.writes {
        // The first iterations are an unmeasured warm-up.
        let keep = serial >= WARM_UP_WRITES;
        let t = Instant::now();
        bare_write(&bare_dir, "target.json", serial, &payload)?;
        record(keep, &mut bare, t);

        let name = format!("{}.json", hostr::ids::new_uuid());
        let t = Instant::now();
        bare_write(&bare_new_dir, &name, serial, &payload)?;
        record(keep, &mut bare_new, t);

        let t = Instant::now();
        bare_write(&customers_dir, "floor.json", serial, &payload)?;
        record(keep, &mut bare_in_store, t);

        let email = format!("u{serial}@example.com");
        let t = Instant::now();
        store.update::<Customer, (), StoreError>(&target.id, |c| {
            c.email = Some(email);
            Ok(())
        })?;
        record(keep, &mut updates, t);

        let customer = Customer::new(
            hostr::ids::new_uuid(),
            rng.hex_key(),
            Some(format!("c{serial}@example.com")),
            Timestamp::now(),
        );
        let t = Instant::now();
        store.create(&customer)?;
        record(keep, &mut creates, t);
    }

    let floor = Stats::of(&mut bare);
    let rows = [
        ("bare: temp+sync_data+rename+dir sync", floor, None),
        ("bare, new name each time", Stats::of(&mut bare_new), Some((floor.mean, floor.p50))),
        ("bare, in the store's growing folder", Stats::of(&mut bare_in_store), Some((floor.mean, floor.p50))),
        ("store.update (customer email)", Stats::of(&mut updates), Some((floor.mean, floor.p50))),
        ("store.create (new customer)", Stats::of(&mut creates), Some((floor.mean, floor.p50))),
    ];
    out.push(String::new());
    out.push(format!("1-2. durable writes, µs (bare payload 500 B; customer file {} B)", customer_bytes.len()));
    out.push(format!(
        "  {:<38} {:>6} {:>8} {:>8} {:>8} {:>8} {:>14}",
        "", "n", "p50", "p99", "mean", "max", "÷ bare mean/p50"
    ));
    for (label, s, base) in rows {
        let ratio = base.map_or_else(
            || "1.00× / 1.00×".to_owned(),
            |(mean, p50)| {
                let r = s.mean / mean;
                let verdict = if label.starts_with("store") { verdict(r <= RATIO_TARGET_WRITE) } else { "" };
                format!("{r:.2}× / {:.2}×{verdict}", s.p50 / p50)
            },
        );
        out.push(format!(
            "  {label:<38} {:>6} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>14}",
            s.n, s.p50, s.p99, s.mean, s.max, ratio
        ));
    }
    out.push(format!(
        "  (target: store ÷ bare ≤ {RATIO_TARGET_WRITE}×; the five kinds of write take turns, one of each per iteration)"
    ));
    Ok(())
}

fn record(keep: bool, samples: &mut Vec<Duration>, started: Instant) {
    let elapsed = started.elapsed();
    if keep {
        samples.push(elapsed);
    }
}

/// The floor: what any durable atomic replacement of one small file costs.
fn bare_write(dir: &Path, name: &str, serial: usize, bytes: &[u8]) -> BenchResult<()> {
    let temp = dir.join(format!(".{name}.{serial}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&temp)
        .map_err(|e| format!("cannot create {}: {e}", temp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    drop(file);
    let target = dir.join(name);
    fs::rename(&temp, &target).map_err(|e| format!("cannot rename over {}: {e}", target.display()))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| format!("cannot sync {}: {e}", dir.display()))?;
    Ok(())
}

// ------------------------------------------- lookups, check and start-up

struct Lookups {
    customers: usize,
    index_build: Duration,
    stats: Stats,
    read: Stats,
    parse: Stats,
}

fn lookups_check_and_start(root: &Path, sizes: &Sizes, rng: &mut Rng, out: &mut Vec<String>) -> BenchResult<()> {
    let small_db = root.join("db-small");
    let db = root.join("db-large");
    let customers_dir = db.join("customers");
    let mut small_people = Vec::with_capacity(sizes.small);
    let mut people = Vec::with_capacity(sizes.large);
    write_customers(&small_db, sizes.small, rng, &mut small_people)?;
    write_customers(&db, sizes.large, rng, &mut people)?;
    let (small, large) = lookup_bench([(&small_db, &small_people), (&db, &people)], sizes.lookups, rng)?;

    out.push(String::new());
    out.push(format!("3. find::<Customer>(\"publicKey\", …), {} lookups of random existing keys, µs", sizes.lookups));
    out.push(format!(
        "  {:<10} {:>12} {:>7} {:>7} {:>7} {:>7} │ {:>13} {:>13} {:>8}",
        "customers", "index build", "p50", "p99", "max", "mean", "read p50/p99", "parse p50/p99", "rest p50"
    ));
    for l in [&small, &large] {
        out.push(format!(
            "  {:<10} {:>9.1} ms {:>7.1} {:>7.1} {:>7.0} {:>7.1} │ {:>6.1}/{:<6.1} {:>6.1}/{:<6.1} {:>8.1}",
            group(l.customers),
            l.index_build.as_secs_f64() * 1e3,
            l.stats.p50,
            l.stats.p99,
            l.stats.max,
            l.stats.mean,
            l.read.p50,
            l.read.p99,
            l.parse.p50,
            l.parse.p99,
            (l.stats.p50 - l.read.p50 - l.parse.p50).max(0.0)
        ));
    }
    let ratio = large.stats.p99 / small.stats.p99;
    out.push(format!(
        "  p99 {}: {:.1} µs{} (target < {P99_TARGET_US:.0});  p99 {} ÷ p99 {}: {ratio:.2}×{} (target ≤ {RATIO_TARGET_LOOKUP}×)",
        group(large.customers),
        large.stats.p99,
        verdict(large.stats.p99 < P99_TARGET_US && small.stats.p99 < P99_TARGET_US),
        group(large.customers),
        group(small.customers),
        verdict(ratio <= RATIO_TARGET_LOOKUP),
    ));
    out.push(format!(
        "  (read = fs::read of the file alone, p99 {} ÷ {}: {:.2}×; parse = serde_json + validate; rest = index, lock, inotify drain)",
        group(large.customers),
        group(small.customers),
        large.read.p99 / small.read.p99
    ));

    // 4. hostr check
    eprintln!("hostr check over {} customers", group(people.len()));
    let t = Instant::now();
    let store = Store::open(&db)?;
    let open = t.elapsed();
    let t = Instant::now();
    let report = hostr::check::check(&store)?;
    let checked = t.elapsed();
    drop(store);
    let (ids, read_all, parse_all) = check_breakdown(&customers_dir)?;
    let (listing, listing_with_stat) = open_breakdown(&customers_dir)?;
    out.push(String::new());
    out.push(format!(
        "4. hostr check over {} records: {:.2} s = {} records/s ({} problems); Store::open {:.0} ms",
        group(report.records),
        checked.as_secs_f64(),
        group((report.records as f64 / checked.as_secs_f64()) as usize),
        report.problems.len(),
        open.as_secs_f64() * 1e3
    ));
    out.push(format!(
        "  (alone, one thread: list+sort ids {:.0} ms, read all files {:.0} ms, parse+validate all {:.0} ms)",
        ids.as_secs_f64() * 1e3,
        read_all.as_secs_f64() * 1e3,
        parse_all.as_secs_f64() * 1e3
    ));
    out.push(format!(
        "  (Store::open scans for stale temp files: read_dir alone {:.0} ms, read_dir + stat of every entry {:.0} ms)",
        listing.as_secs_f64() * 1e3,
        listing_with_stat.as_secs_f64() * 1e3
    ));
    if !report.problems.is_empty() {
        return Err(format!("check found problems, first: {}", report.problems[0]).into());
    }

    // 5. server start-up
    let (_, key) = &people[rng.below(people.len())];
    start_up(&db, key, people.len(), out)
}

fn write_customers(db: &Path, count: usize, rng: &mut Rng, people: &mut Vec<(String, String)>) -> BenchResult<()> {
    eprintln!("writing {} customers (no fsync)", group(count));
    let dir = db.join(Customer::COLLECTION.folder);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let now = Timestamp::now();
    for _ in 0..count {
        let n = people.len();
        let customer = Customer::new(hostr::ids::new_uuid(), rng.hex_key(), Some(format!("user{n}@example.com")), now);
        // Exactly the bytes the store writes.
        let mut bytes = serde_json::to_vec_pretty(&customer)?;
        bytes.push(b'\n');
        let path = dir.join(format!("{}.json", customer.id));
        fs::write(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        people.push((customer.id, customer.public_key));
    }
    Ok(())
}

/// One timed lookup by public key, checked to find the right customer.
fn timed_find(store: &Store, (id, key): &(String, String)) -> BenchResult<Duration> {
    let t = Instant::now();
    let found = store.find(Customer::by_public_key(key))?;
    let elapsed = t.elapsed();
    match found {
        Some(customer) if customer.id == *id => Ok(elapsed),
        _ => Err(format!("publicKey {key} did not find customer {id}").into()),
    }
}

/// Lookups in both databases, each through a fresh store, alternating in
/// blocks so that both sizes see the same background noise.
fn lookup_bench(
    dbs: [(&Path, &[(String, String)]); 2],
    lookups: usize,
    rng: &mut Rng,
) -> BenchResult<(Lookups, Lookups)> {
    const BLOCK: usize = 500;
    eprintln!(
        "{} lookups each with {} and {} customers, alternating in blocks of {BLOCK}",
        group(lookups),
        group(dbs[0].1.len()),
        group(dbs[1].1.len())
    );
    let mut stores = Vec::new();
    let mut builds = Vec::new();
    let mut picks = Vec::new();
    for (db, people) in dbs {
        let store = Store::open(db)?;
        // The first lookup builds the index.
        builds.push(timed_find(&store, &people[rng.below(people.len())])?);
        picks.push((0..lookups).map(|_| rng.below(people.len())).collect::<Vec<_>>());
        stores.push(store);
    }
    let mut samples = [Vec::with_capacity(lookups), Vec::with_capacity(lookups)];
    for start in (0..lookups).step_by(BLOCK) {
        for side in 0..2 {
            for &i in &picks[side][start..(start + BLOCK).min(lookups)] {
                samples[side].push(timed_find(&stores[side], &dbs[side].1[i])?);
            }
        }
    }
    let mut results = Vec::new();
    for side in 0..2 {
        // As many other random lookups, split into their parts outside the
        // store. Fresh picks: files the lookups above did not already read
        // (except by chance), as cold or warm as the ones they did read.
        let dir = stores[side].dir::<Customer>()?;
        let mut reads = Vec::with_capacity(lookups);
        let mut parses = Vec::with_capacity(lookups);
        let people = dbs[side].1;
        let fresh: Vec<usize> = (0..lookups).map(|_| rng.below(people.len())).collect();
        for &i in &fresh {
            let path = dir.join(format!("{}.json", people[i].0));
            let t = Instant::now();
            let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            reads.push(t.elapsed());
            let t = Instant::now();
            let customer: Customer = serde_json::from_slice(&bytes)?;
            customer.validate().map_err(|e| format!("{}: {}", path.display(), e.message))?;
            parses.push(t.elapsed());
        }
        results.push(Lookups {
            customers: people.len(),
            index_build: builds[side],
            stats: Stats::of(&mut samples[side]),
            read: Stats::of(&mut reads),
            parse: Stats::of(&mut parses),
        });
    }
    let large = results.pop().ok_or("two results")?;
    let small = results.pop().ok_or("two results")?;
    Ok((small, large))
}

/// What `check` spends on listing, reading and parsing, each timed alone.
fn check_breakdown(dir: &Path) -> BenchResult<(Duration, Duration, Duration)> {
    let list_error = |e: std::io::Error| format!("cannot list {}: {e}", dir.display());
    let t = Instant::now();
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_error)? {
        if let Ok(name) = entry.map_err(list_error)?.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort_unstable();
    let listed = t.elapsed();
    let t = Instant::now();
    let mut contents = Vec::with_capacity(names.len());
    for name in names.iter().filter(|n| n.ends_with(".json")) {
        let path = dir.join(name);
        contents.push(fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    }
    let read = t.elapsed();
    let t = Instant::now();
    for bytes in &contents {
        let customer: Customer = serde_json::from_slice(bytes)?;
        customer.validate().map_err(|e| e.message)?;
    }
    Ok((listed, read, t.elapsed()))
}

/// Listing a folder with and without a stat of every entry.
fn open_breakdown(dir: &Path) -> BenchResult<(Duration, Duration)> {
    let list_error = |e: std::io::Error| format!("cannot list {}: {e}", dir.display());
    let t = Instant::now();
    let mut names = 0usize;
    for entry in fs::read_dir(dir).map_err(list_error)? {
        names += entry.map_err(list_error)?.file_name().len();
    }
    let listing = t.elapsed();
    let t = Instant::now();
    let mut modified = 0usize;
    for entry in fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        names += entry.file_name().len();
        modified += usize::from(entry.metadata().and_then(|m| m.modified()).is_ok());
    }
    std::hint::black_box((names, modified));
    Ok((listing, t.elapsed()))
}

fn start_up(db: &Path, key: &str, customers: usize, out: &mut Vec<String>) -> BenchResult<()> {
    eprintln!("server start-up with {} customers", group(customers));
    let t0 = Instant::now();
    let config = Config::for_database(db.to_owned(), "127.0.0.1:0".parse()?);
    let app = Arc::new(App::open(config.clone())?);
    let opened = t0.elapsed();
    let running = hostr::api::serve_app(app.clone())?;
    let started = t0.elapsed();
    let health = get_health(running.addr())?;
    let healthy = t0.elapsed();
    let found = app.store.find(Customer::by_public_key(key))?;
    let first_find = t0.elapsed();
    if found.is_none() {
        return Err(format!("publicKey {key} was not found after start-up").into());
    }
    let mut warm = Vec::with_capacity(100);
    for _ in 0..100 {
        let t = Instant::now();
        app.store.find(Customer::by_public_key(key))?;
        warm.push(t.elapsed());
    }
    let warm = Stats::of(&mut warm);
    let t = Instant::now();
    running.stop();
    let stopped = t.elapsed();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    out.push(String::new());
    out.push(format!(
        "5. server start-up with {} customers ({} workers), ms from the start of App::open",
        group(customers),
        config.workers
    ));
    out.push(format!(
        "  App::open {:.1}  →  server::start {:.1}  →  GET /api/health {health} {:.1}  →  first find by publicKey {:.1}",
        ms(opened),
        ms(started),
        ms(healthy),
        ms(first_find)
    ));
    out.push(format!(
        "  (first find = index build of {} customers: {:.1} ms; later finds p50 {:.1} µs; stop {:.0} ms)",
        group(customers),
        ms(first_find - healthy),
        warm.p50,
        ms(stopped)
    ));
    Ok(())
}

/// One `GET /api/health` over a plain TCP connection; the status code.
fn get_health(addr: SocketAddr) -> BenchResult<u16> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_get_health(addr) {
            Ok(200) => return Ok(200),
            outcome if Instant::now() >= deadline => {
                return Err(format!("GET /api/health on {addr} did not answer 200: {outcome:?}").into());
            }
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

fn try_get_health(addr: SocketAddr) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| format!("cannot set a read timeout: {e}"))?;
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| format!("cannot read the answer: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", text.lines().next()))?;
    Ok(status)
}

// ---------------------------------------------------------------- helpers

/// Summary of samples, in microseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    n: usize,
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Stats {
        samples.sort_unstable();
        let n = samples.len();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        // Nearest rank: the smallest sample with at least p of them at or below it.
        let rank = |p: f64| us(samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1]);
        Stats {
            n,
            p50: rank(0.50),
            p99: rank(0.99),
            max: us(samples[n - 1]),
            mean: samples.iter().map(|d| us(*d)).sum::<f64>() / n as f64,
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { " ok" } else { " MISSED" }
}

/// 100000 → "100,000".
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// The file system type of the mount holding `path`, from /proc/mounts.
fn filesystem_of(path: &Path) -> String {
    let Ok(mounts) = fs::read_to_string("/proc/mounts") else {
        return "file system unknown".to_owned();
    };
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, mount, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(mount).then(|| (mount.len(), format!("{kind} on {device}")))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "file system unknown".to_owned(), |(_, fs)| fs)
}

/// splitmix64: deterministic, good enough to pick keys and make them up.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// 64 lowercase hex digits, the stored form of a public key.
    fn hex_key(&mut self) -> String {
        (0..4).map(|_| format!("{:016x}", self.next())).collect()
    }
}
