//! `hostr whm …`: check the connection to each WHM server, compare each
//! server with the accounts that live on it (`--server` picks one).
//! Without WHM settings hostr runs a sandbox panel; these commands say so,
//! say that nothing real is read or changed, and how to configure WHM.

use super::{CliResult, print_json};
use crate::config::servers::{ServerSettings, chosen, configured};
use crate::config::{WhmCommand, WhmSettings};
use crate::provisioning::hosts::ServerLink;
use crate::provisioning::panel::HostingPanel;
use crate::provisioning::sandbox::SandboxPanel;
use crate::provisioning::{CycleReport, Provisioner};
use crate::store::Store;
use crate::whm::REQUIRED_FUNCTIONS;
use crate::whm_server::DEFAULT_SERVER;
use std::process::ExitCode;
use std::sync::Arc;

/// How to leave the sandbox, for the messages that need it.
const HOW_TO_CONFIGURE: &str = "To use a real WHM server, set WHM_URL (e.g. https://server.example.com:2087) and \
    WHM_API_TOKEN (and WHM_USER for a reseller's token) where hostr runs,\nthen check them with `hostr whm test` \
    (see \"Provisioning (WHM)\" in the README).";

pub(super) fn run(store: Store, command: WhmCommand, json: bool) -> CliResult {
    let env = WhmSettings::from_env()?;
    let servers = configured(&store, env.as_ref())?;
    if servers.is_empty() {
        return match command {
            WhmCommand::Test { .. } => Err(format!(
                "no WHM is configured (WHM_URL is not set, and database/servers/ holds no server), so there is \
                 nothing to test: accounts are simulated by hostr's sandbox panel. {HOW_TO_CONFIGURE}"
            )),
            WhmCommand::Sync { fix, .. } => sync_sandbox(store, fix, json),
        };
    }
    match command {
        WhmCommand::Test { server } => {
            let chosen = chosen(&servers, server.as_deref())?;
            let failed: Vec<String> = chosen.iter().filter_map(|s| test(s).err()).collect();
            if failed.is_empty() { Ok(ExitCode::SUCCESS) } else { Err(failed.join("\n")) }
        }
        WhmCommand::Sync { fix, server } => sync(store, chosen(&servers, server.as_deref())?, fix, json),
    }
}

/// `hostr whm sync` on the chosen servers: each compared with the accounts
/// that live on it; one that does not answer is reported and the others run.
fn sync(store: Store, servers: Vec<&ServerSettings>, fix: bool, json: bool) -> CliResult {
    let mut links = Vec::new();
    for server in &servers {
        let panel = Box::new(server.whm.client()?);
        links.push(ServerLink { id: server.id.clone(), panel, facts: server.facts.clone() });
    }
    let provisioner = Provisioner::with_servers(Arc::new(store), links, Default::default());
    let (mut summaries, mut in_line) = (Vec::new(), true);
    for server in &servers {
        let label = if servers.len() > 1 { format!("[{}] ", server.id) } else { String::new() };
        let (report, foreign) = match provisioner.sync(&server.id, fix) {
            Ok(found) => found,
            Err(e) => {
                in_line = false;
                eprintln!("{label}WHM server {} at {}: {e}", server.id, server.whm.url);
                summaries.push(serde_json::json!({"server": server.id, "error": e.to_string()}));
                continue;
            }
        };
        in_line &= report.drift.is_empty() && report.planned.is_empty();
        let mut summary = summary(&report, &foreign, false);
        summary["server"] = server.id.clone().into();
        summaries.push(summary);
        if json {
            continue;
        }
        print_differences(&label, &report, &foreign);
        if fix {
            println!(
                "{label}suspended {}, unsuspended {}, moved to another package {}",
                report.suspended, report.unsuspended, report.packages_changed
            );
        }
    }
    if json {
        return match <[serde_json::Value; 1]>::try_from(summaries) {
            Ok([one]) => print_json(&one).map(|_| exit(in_line)),
            Err(all) => print_json(&serde_json::json!({"servers": all})).map(|_| exit(in_line)),
        };
    }
    println!("hostr whm sync: {}", if in_line { "WHM matches the files" } else { "differences found" });
    Ok(exit(in_line))
}

fn exit(in_line: bool) -> ExitCode {
    if in_line { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn test(server: &ServerSettings) -> Result<(), String> {
    let (settings, id) = (&server.whm, &server.id);
    let client = settings.client()?;
    let allowed = client.applist().map_err(|e| format!("WHM server {id} at {}: {e}", settings.url))?;
    let missing: Vec<&str> = REQUIRED_FUNCTIONS.iter().copied().filter(|f| !allowed.iter().any(|a| a == f)).collect();
    if !missing.is_empty() {
        return Err(format!("WHM server {id} at {}: the token may not call {}", settings.url, missing.join(", ")));
    }
    let accounts = client.list_accounts().map_err(|e| format!("WHM server {id} at {}: {e}", settings.url))?;
    let server_word = if id == DEFAULT_SERVER { "WHM".to_owned() } else { format!("WHM server {id}") };
    println!(
        "{server_word} at {} as {}: the token works and may call everything hostr needs; {} account(s) on the server",
        settings.url,
        settings.user,
        accounts.len()
    );
    Ok(())
}

/// The comparison without WHM: against a sandbox panel made from the files
/// now, as a server starting now holds it. Never changes anything, and is
/// not a failure: the server applies the differences to its own sandbox.
fn sync_sandbox(store: Store, fix: bool, json: bool) -> CliResult {
    let panel = SandboxPanel::holding_files("http://localhost", &store).map_err(|e| e.to_string())?;
    let provisioner = Provisioner::new(Arc::new(store), Box::new(panel), Default::default());
    let (report, foreign) = provisioner.sync(DEFAULT_SERVER, false).map_err(|e| e.to_string())?;
    if json {
        return print_json(&summary(&report, &foreign, true));
    }
    println!(
        "SANDBOX: no WHM is configured (WHM_URL is not set), so accounts live in hostr's sandbox panel and \
         nothing real is read or changed.\nThis compares the files with a sandbox panel made from them just now, \
         holding every account they list, none suspended: what a server starting now would begin with."
    );
    print_differences("", &report, &foreign);
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

fn print_differences(label: &str, report: &CycleReport, foreign: &[String]) {
    for line in report.planned.iter().chain(&report.drift) {
        println!("{label}{line}");
    }
    for account in foreign {
        println!("{label}on WHM but not in hostr: {account}");
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
