//! `hostr payment …`: list and show payments, retry a fulfilment, record a
//! payment made by other means.

use super::table::{Table, left, right};
use super::{CliResult, print_json, when};
use crate::checkout;
use crate::config::PaymentCommand;
use crate::cpanel_account::CpanelAccount;
use crate::operator_key::OperatorKey;
use crate::payment::{Payment, Provider};
use crate::provisioning;
use crate::receipts::Receipts;
use crate::relay::Outbox;
use crate::store::Store;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

pub(super) fn run(store: &Store, command: PaymentCommand, json: bool) -> CliResult {
    match command {
        PaymentCommand::List { state } => list(store, state.as_deref(), json),
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
            let payment = issue_receipts(store, &payment, json);
            print_json(&payment)
        }
    }
}

/// Issues the receipts now due (this payment's among them, in paid order);
/// if that fails, the running server issues them within a minute.
fn issue_receipts(store: &Store, payment: &Payment, json: bool) -> Payment {
    let issued = Store::open(store.root()).map_err(|e| e.to_string()).and_then(|own| {
        let operator = match OperatorKey::from_env()? {
            Some(key) => key,
            None => OperatorKey::in_database(own.root()).map_err(|e| e.to_string())?,
        };
        let args = crate::config::ServeArgs::from_env();
        let own = Arc::new(own);
        // With --publish-receipts the receipt is queued in the outbox's
        // folder, which the running server's outbox delivers.
        let outbox = match crate::config::Config::from_args(own.root().to_path_buf(), &args) {
            Ok(config) if config.publish_receipts && config.relays.is_on() => {
                Some(Arc::new(Outbox::new(own.clone(), operator.keys().clone(), config.relays)))
            }
            _ => None,
        };
        Ok(Receipts::new(own, operator, args.seller(), outbox).issue_due())
    });
    let payment = store.get::<Payment>(&payment.id).unwrap_or_else(|_| payment.clone());
    match (&payment.receipt, issued) {
        (Some(receipt), _) if !json => println!("receipt {} issued", receipt.label),
        (None, Err(why)) => eprintln!("hostr: no receipt yet ({why}); the running server issues it"),
        (None, Ok(_)) => eprintln!("hostr: no receipt yet (see `hostr check`); the running server tries again"),
        _ => {}
    }
    payment
}

fn list(store: &Store, state: Option<&str>, json: bool) -> CliResult {
    let mut payments = store.list_readable::<Payment>().map_err(|e| e.to_string())?;
    payments.retain(|p| state.is_none_or(|s| s.eq_ignore_ascii_case(p.state.as_str())));
    payments.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    if json {
        return print_json(&payments);
    }
    let accounts = store.list_readable::<CpanelAccount>().map_err(|e| e.to_string())?;
    table(&payments, &accounts).print_or(match state {
        Some(_) => "no payments in that state",
        None => "no payments yet",
    });
    Ok(ExitCode::SUCCESS)
}

/// Payments as a table, each named by the domain it buys or renews (looked
/// up in `accounts` for a renewal).
pub(super) fn table(payments: &[Payment], accounts: &[CpanelAccount]) -> Table {
    let domains: HashMap<&str, &str> = accounts.iter().map(|a| (a.id.as_str(), a.domain.as_str())).collect();
    let mut table = Table::new([
        left("ID"),
        left("STATE"),
        left("FULFILMENT"),
        right("AMOUNT"),
        left("CREATED (UTC)"),
        left("KIND"),
        left("DOMAIN"),
    ]);
    for p in payments {
        let (kind, domain) = match (&p.domain, &p.account_id) {
            (Some(domain), _) => ("new", domain.clone()),
            (None, Some(account)) => match domains.get(account.as_str()) {
                Some(domain) => ("renewal", (*domain).to_owned()),
                None => ("renewal", format!("unknown account {account}")),
            },
            (None, None) => ("?", "-".to_owned()),
        };
        let kind = p.kind.map_or(kind, |k| k.as_str());
        let kind = if p.mode() == Provider::Sandbox { format!("{kind} (sandbox)") } else { kind.to_owned() };
        table.row([
            p.id.clone(),
            p.state.as_str().to_owned(),
            p.fulfilment.status.as_str().to_owned(),
            format!("{} {}", p.amount, p.currency),
            when(p.created_at),
            kind,
            domain,
        ]);
    }
    table
}
