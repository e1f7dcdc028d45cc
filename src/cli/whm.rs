//! `hostr whm …`: check the WHM connection, compare WHM with the files.
//! Without WHM settings hostr runs a sandbox panel; these commands say so,
//! say that nothing real is read or changed, and how to configure WHM.

use super::{CliResult, print_json};
use crate::config::{WhmCommand, WhmSettings};
use crate::provisioning::panel::HostingPanel;
use crate::provisioning::sandbox::SandboxPanel;
use crate::provisioning::{CycleReport, Provisioner};
use crate::store::Store;
use crate::whm::{REQUIRED_FUNCTIONS, WhmClient};
use std::process::ExitCode;
use std::sync::Arc;

/// How to leave the sandbox, for the messages that need it.
const HOW_TO_CONFIGURE: &str = "To use a real WHM server, set WHM_URL (e.g. https://server.example.com:2087) and \
    WHM_API_TOKEN (and WHM_USER for a reseller's token) where hostr runs,\nthen check them with `hostr whm test` \
    (see \"Provisioning (WHM)\" in the README).";

pub(super) fn run(store: Store, command: WhmCommand, json: bool) -> CliResult {
    let Some(settings) = WhmSettings::from_env()? else {
        return match command {
            WhmCommand::Test => Err(format!(
                "no WHM is configured (WHM_URL is not set), so there is nothing to test: \
                 accounts are simulated by hostr's sandbox panel. {HOW_TO_CONFIGURE}"
            )),
            WhmCommand::Sync { fix } => sync_sandbox(store, fix, json),
        };
    };
    let client = settings.client()?;
    match command {
        WhmCommand::Test => test(&settings, &client),
        WhmCommand::Sync { fix } => {
            let provisioner = Provisioner::new(Arc::new(store), Box::new(client), Default::default());
            let (report, foreign) = provisioner.sync(fix).map_err(|e| e.to_string())?;
            if json {
                return print_json(&summary(&report, &foreign, false));
            }
            print_differences(&report, &foreign);
            if fix {
                println!(
                    "suspended {}, unsuspended {}, moved to another package {}",
                    report.suspended, report.unsuspended, report.packages_changed
                );
            }
            let in_line = report.drift.is_empty() && report.planned.is_empty();
            println!("hostr whm sync: {}", if in_line { "WHM matches the files" } else { "differences found" });
            Ok(if in_line { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

fn test(settings: &WhmSettings, client: &WhmClient) -> CliResult {
    let allowed = client.applist().map_err(|e| e.to_string())?;
    let missing: Vec<&str> = REQUIRED_FUNCTIONS.iter().copied().filter(|f| !allowed.iter().any(|a| a == f)).collect();
    if !missing.is_empty() {
        return Err(format!("WHM at {}: the token may not call {}", settings.url, missing.join(", ")));
    }
    let accounts = client.list_accounts().map_err(|e| e.to_string())?;
    println!(
        "WHM at {} as {}: the token works and may call everything hostr needs; {} account(s) on the server",
        settings.url,
        settings.user,
        accounts.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The comparison without WHM: against a sandbox panel made from the files
/// now, as a server starting now holds it. Never changes anything, and is
/// not a failure: the server applies the differences to its own sandbox.
fn sync_sandbox(store: Store, fix: bool, json: bool) -> CliResult {
    let panel = SandboxPanel::holding_files("http://localhost", &store).map_err(|e| e.to_string())?;
    let provisioner = Provisioner::new(Arc::new(store), Box::new(panel), Default::default());
    let (report, foreign) = provisioner.sync(false).map_err(|e| e.to_string())?;
    if json {
        return print_json(&summary(&report, &foreign, true));
    }
    println!(
        "SANDBOX: no WHM is configured (WHM_URL is not set), so accounts live in hostr's sandbox panel and \
         nothing real is read or changed.\nThis compares the files with a sandbox panel made from them just now, \
         holding every account they list, none suspended: what a server starting now would begin with."
    );
    print_differences(&report, &foreign);
    if fix {
        println!(
            "--fix changes nothing here: the sandbox panel lives inside the running server, which applies the files itself."
        );
    }
    let verdict = match report.planned.len() + report.drift.len() {
        0 => "the sandbox matches the files".to_owned(),
        n => format!("{n} difference(s), which the server applies to its sandbox by itself"),
    };
    println!("hostr whm sync (sandbox): {verdict}");
    println!("{HOW_TO_CONFIGURE}");
    Ok(ExitCode::SUCCESS)
}

fn print_differences(report: &CycleReport, foreign: &[String]) {
    for line in report.planned.iter().chain(&report.drift) {
        println!("{line}");
    }
    for account in foreign {
        println!("on WHM but not in hostr: {account}");
    }
}

fn summary(report: &CycleReport, foreign: &[String], sandbox: bool) -> serde_json::Value {
    serde_json::json!({
        "sandbox": sandbox,
        "suspended": report.suspended,
        "unsuspended": report.unsuspended,
        "packagesChanged": report.packages_changed,
        "wouldChange": report.planned,
        "differences": report.drift,
        "notInHostr": foreign,
    })
}
