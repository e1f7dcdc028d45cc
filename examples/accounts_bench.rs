//! Accounts benchmark: one full pass of the accounts worker (fulfilment
//! check, expiry sweep, reconcile with WHM, usage) over N accounts on a
//! fake WHM on loopback. Prints the time of the pass, the WHM calls it
//! made by function, the files it wrote, and the process's memory.
//!
//! `cargo run --release --example accounts_bench -- [--accounts 10000] [--changed 50]`
//!
//! `--changed` accounts are past their paid period, so the pass expires
//! and suspends exactly those; a second pass shows the steady state.

#[path = "support/args.rs"]
mod args;
#[path = "../tests/common/fake_whm.rs"]
#[allow(dead_code)]
mod fake_whm;

use fake_whm::{FakeAccount, FakeWhm, TOKEN};
use hostr::config::WhmSettings;
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::provisioning::{Provisioner, Schedule};
use hostr::store::Store;
use hostr::timestamp::Timestamp;
use hostr::whm::WhmTls;
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn Error>> {
    let (total, changed) = (args::number("--accounts", 10_000) as usize, args::number("--changed", 50) as usize);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path())?);
    let whm = FakeWhm::start();
    let now = Timestamp::now();
    let paid = Timestamp::from(now.as_datetime() + chrono::Duration::days(20));
    let lapsed = Timestamp::from(now.as_datetime() - chrono::Duration::days(1));
    let started = Instant::now();
    {
        let mut state = whm.state.lock().unwrap();
        for i in 0..total {
            let (user, domain) = (format!("u{i}"), format!("site{i}.example"));
            let account = CpanelAccount {
                status: AccountStatus::Active,
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
    }
    store.create(&hostr::plan::Plan::seed(now))?;
    println!(
        "{total} accounts written in {:.1} s ({changed} of them past their paid period)",
        started.elapsed().as_secs_f64()
    );

    let settings = WhmSettings {
        url: whm.url.clone(),
        user: "root".into(),
        token: TOKEN.into(),
        tls: WhmTls::Verify,
        timeout: Duration::from_secs(60),
        create_timeout: Duration::from_secs(300),
    };
    let provisioner = Provisioner::new(store.clone(), Box::new(settings.client()?), Schedule::default());
    for (label, fresh) in
        [("first pass (reads WHM and usage)", true), ("second pass (steady state)", true), ("between refreshes", false)]
    {
        let before = calls(&whm);
        let rss_before = memory("VmRSS:");
        let started = Instant::now();
        let report = provisioner.cycle(fresh);
        let elapsed = started.elapsed();
        let after = calls(&whm);
        let made: BTreeMap<&String, usize> =
            after.iter().map(|(f, n)| (f, n - before.get(f).copied().unwrap_or(0))).filter(|(_, n)| *n > 0).collect();
        println!(
            "{label}: {:.0} ms, WHM calls {:?} (total {}), expired {}, suspended {}, usage written {}, RSS {} -> {} MiB (peak {} MiB)",
            elapsed.as_secs_f64() * 1000.0,
            made,
            made.values().sum::<usize>(),
            report.expired,
            report.suspended,
            report.usage_written,
            rss_before / 1024,
            memory("VmRSS:") / 1024,
            memory("VmHWM:") / 1024,
        );
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
