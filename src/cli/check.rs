//! `hostr check`: every record validated, like `nginx -t`; exits 1 on problems.

use super::{CliResult, print_json};
use crate::check;
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, json: bool) -> CliResult {
    let report = check::check(store).map_err(|e| e.to_string())?;
    if json {
        print_json(&report)?;
    } else {
        for problem in &report.problems {
            println!("{problem}");
        }
        for summary in report.summaries() {
            println!("  {summary}");
        }
        let verdict = if report.problems.is_empty() { "ok" } else { "FAILED" };
        println!(
            "hostr check: {} records in {}: {} problem(s): {verdict}",
            report.records,
            store.root().display(),
            report.problems.len()
        );
    }
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
