//! `hostr payment …`: list and show payments, retry a fulfilment, record a
//! payment made by other means.

use super::{CliResult, print_json};
use crate::checkout;
use crate::config::PaymentCommand;
use crate::payment::{Payment, Provider};
use crate::provisioning;
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: PaymentCommand, json: bool) -> CliResult {
    match command {
        PaymentCommand::List { state } => {
            let mut payments = store.list_readable::<Payment>().map_err(|e| e.to_string())?;
            payments.retain(|p| state.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(p.state.as_str())));
            payments.sort_by_key(|p| std::cmp::Reverse(p.created_at));
            if json {
                return print_json(&payments);
            }
            println!("{:<36} {:<9} {:<12} {:>10} {:<20} FOR", "ID", "STATE", "FULFILMENT", "AMOUNT", "CREATED");
            for p in &payments {
                let target = p.domain.clone().or_else(|| p.account_id.as_ref().map(|a| format!("renewal of {a}")));
                println!(
                    "{:<36} {:<9} {:<12} {:>6} {} {:<20} {}{}",
                    p.id,
                    p.state.as_str(),
                    p.fulfilment.status.as_str(),
                    p.amount,
                    p.currency,
                    p.created_at.to_string(),
                    target.unwrap_or_default(),
                    if p.mode() == Provider::Sandbox { " (sandbox)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PaymentCommand::Show { id } => print_json(&store.get::<Payment>(&id).map_err(|e| e.to_string())?),
        PaymentCommand::Retry { id } => {
            let payment = provisioning::retry(store, &id).map_err(|e| e.to_string())?;
            if !json {
                println!("payment {} will be fulfilled again by the running server within seconds", payment.id);
                return Ok(ExitCode::SUCCESS);
            }
            print_json(&payment)
        }
        PaymentCommand::MarkPaid { id, reason } => {
            let payment = checkout::mark_paid(store, &id, &reason).map_err(|e| e.to_string())?;
            if !json {
                println!("payment {} recorded as paid: {}", payment.id, reason.trim());
            }
            print_json(&payment)
        }
    }
}
