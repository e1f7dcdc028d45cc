//! Accounts benchmark: one full pass of the accounts worker (fulfilment
//! check, expiry sweep, reconcile with WHM, usage) over N accounts on each
//! of S fake WHM servers on loopback. Prints the time of the pass, the WHM
//! calls it made per server by function, and the process's memory.
//!
//! `cargo run --release --example accounts_bench -- [--servers 3] [--accounts 10000] [--changed 50]`
//!
//! `--accounts` and `--changed` are per server; `--changed` accounts are
//! past their paid period, so the pass expires and suspends exactly those;
//! a second pass shows the steady state.

#[path = "support/args.rs"]
mod args;
#[path = "../tests/common/fake_whm.rs"]
#[allow(dead_code)]
mod fake_whm;

use fake_whm::{FakeAccount, FakeWhm, TOKEN};
use hostr::config::WhmSettings;
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::provisioning::hosts::ServerLink;
use hostr::provisioning::{Provisioner, Schedule};
use hostr::store::Store;
use hostr::timestamp::Timestamp;
use hostr::whm::WhmTls;
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn Error>> {
    let servers = args::number("--servers", 3) as usize;
    let (total, changed) = (args::number("--accounts", 10_000) as usize, args::number("--changed", 50) as usize);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path())?);
    let whms: Vec<(String, FakeWhm)> = (0..servers).map(|s| (format!("whm{}", s + 1), FakeWhm::start())).collect();
    let now = Timestamp::now();
    let started = Instant::now();
    for (id, whm) in &whms {
        fill(&store, id, whm, total, changed, now)?;
    }
    store.create(&hostr::plan::Plan::seed(now))?;
    println!(
        "{servers} servers × {total} accounts written in {:.1} s ({changed} per server past their paid period)",
        started.elapsed().as_secs_f64()
    );
    let links = whms
        .iter()
        .map(|(id, whm)| {
            let settings = WhmSettings {
                url: whm.url.clone(),
                user: "root".into(),
                token: TOKEN.into(),
                tls: WhmTls::Verify,
                timeout: Duration::from_secs(60),
                create_timeout: Duration::from_secs(300),
            };
            Ok(ServerLink { id: id.clone(), panel: Box::new(settings.client()?), facts: Default::default() })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let provisioner = Provisioner::with_servers(store.clone(), links, Schedule::default());
    for (label, fresh) in
        [("first pass (reads WHM and usage)", true), ("second pass (steady state)", true), ("between refreshes", false)]
    {
        let before: Vec<BTreeMap<String, usize>> = whms.iter().map(|(_, w)| calls(w)).collect();
        let rss_before = memory("VmRSS:");
        let started = Instant::now();
        let report = provisioner.cycle(fresh);
        let elapsed = started.elapsed();
        println!(
            "{label}: {:.0} ms, expired {}, suspended {}, usage written {}, RSS {} -> {} MiB (peak {} MiB)",
            elapsed.as_secs_f64() * 1000.0,
            report.expired,
            report.suspended,
            report.usage_written,
            rss_before / 1024,
            memory("VmRSS:") / 1024,
            memory("VmHWM:") / 1024,
        );
        for ((id, whm), before) in whms.iter().zip(&before) {
            let after = calls(whm);
            let made: BTreeMap<&String, usize> = after
                .iter()
                .map(|(f, n)| (f, n - before.get(f).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect();
            println!("  {id}: WHM calls {made:?} (total {})", made.values().sum::<usize>());
        }
    }
    Ok(())
}

/// `total` accounts on the server `id`, in the files and on its fake WHM;
/// the first `changed` past their paid period.
fn fill(
    store: &Store,
    id: &str,
    whm: &FakeWhm,
    total: usize,
    changed: usize,
    now: Timestamp,
) -> Result<(), Box<dyn Error>> {
    let paid = Timestamp::from(now.as_datetime() + chrono::Duration::days(20));
    let lapsed = Timestamp::from(now.as_datetime() - chrono::Duration::days(1));
    let mut state = whm.state.lock().unwrap();
    for i in 0..total {
        // WHM usernames: at most 8 characters, unique across the servers.
        let (user, domain) = (format!("u{}x{i}", &id[3..]), format!("site{i}.{id}.example"));
        let account = CpanelAccount {
            status: AccountStatus::Active,
            server_id: Some(id.to_owned()),
            paid_until: Some(if i < changed { lapsed } else { paid }),
            ..CpanelAccount::provisioning(
                &hostr::ids::new_uuid(),
                &user,
                &domain,
                &hostr::ids::new_uuid(),
                "basic",
                now,
            )
        };
        store.create(&account)?;
        let fake = FakeAccount {
            domain,
            plan: "basic".into(),
            suspended: None,
            disk_used_mb: i as u64 % 900,
            bandwidth_bytes: i as u64 * 4096,
        };
        state.accounts.insert(user, fake);
    }
    Ok(())
}

fn calls(whm: &FakeWhm) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (function, _, _) in &whm.state.lock().unwrap().calls {
        *counts.entry(function.clone()).or_default() += 1;
    }
    counts
}

/// A memory figure of this process from /proc, in KiB.
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
