//! `hostr whm …`: check the WHM connection, compare WHM with the files.

use super::{CliResult, print_json};
use crate::config::{WhmCommand, WhmSettings};
use crate::provisioning::Provisioner;
use crate::provisioning::panel::HostingPanel;
use crate::store::Store;
use crate::whm::REQUIRED_FUNCTIONS;
use std::process::ExitCode;
use std::sync::Arc;

pub(super) fn run(store: Store, command: WhmCommand, json: bool) -> CliResult {
    let settings = WhmSettings::from_env()?.ok_or("WHM_URL is not set: accounts are simulated by the sandbox")?;
    let client = settings.client()?;
    match command {
        WhmCommand::Test => {
            let allowed = client.applist().map_err(|e| e.to_string())?;
            let missing: Vec<&str> =
                REQUIRED_FUNCTIONS.iter().copied().filter(|f| !allowed.iter().any(|a| a == f)).collect();
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
        WhmCommand::Sync { fix } => {
            let provisioner = Provisioner::new(Arc::new(store), Box::new(client), Default::default());
            let (report, foreign) = provisioner.sync(fix).map_err(|e| e.to_string())?;
            if json {
                let summary = serde_json::json!({
                    "suspended": report.suspended,
                    "unsuspended": report.unsuspended,
                    "wouldChange": report.planned,
                    "differences": report.drift,
                    "notInHostr": foreign,
                });
                return print_json(&summary);
            }
            for line in report.planned.iter().chain(&report.drift) {
                println!("{line}");
            }
            for account in &foreign {
                println!("on WHM but not in hostr: {account}");
            }
            if fix {
                println!("suspended {}, unsuspended {}", report.suspended, report.unsuspended);
            }
            let in_line = report.drift.is_empty() && report.planned.is_empty();
            println!("hostr whm sync: {}", if in_line { "WHM matches the files" } else { "differences found" });
            Ok(if in_line { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
