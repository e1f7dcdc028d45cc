//! `hostr customer …`: list customers, show one with their accounts and
//! payments, suspend or unsuspend one, move one to a new key.

use super::table::{Table, fields, left};
use super::{CliResult, account, find_customer, payment, print_json, when};
use crate::config::CustomerCommand;
use crate::cpanel_account::CpanelAccount;
use crate::customer::{self, Customer, CustomerError, CustomerStatus, LifecycleError, npub, parse_public_key};
use crate::payment::Payment;
use crate::store::{Record, Store};
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: CustomerCommand, json: bool) -> CliResult {
    match command {
        CustomerCommand::List => list(store, json),
        CustomerCommand::Show { customer } => show(store, &find_customer(store, &customer)?, json),
        CustomerCommand::Suspend { customer, reason } => {
            let found = find_customer(store, &customer)?;
            let suspended = customer::suspend(store, &found.id, &reason).map_err(|e| refused(&found, e))?;
            if json {
                return print_json(&suspended);
            }
            println!(
                "customer {} is now SUSPENDED: {}. The running server suspends every account of theirs in WHM \
                 within seconds, and they cannot buy until `hostr customer unsuspend {}`.",
                name(&suspended),
                suspended.suspend_reason.as_deref().unwrap_or_default(),
                suspended.id
            );
            Ok(ExitCode::SUCCESS)
        }
        CustomerCommand::Unsuspend { customer } => {
            let found = find_customer(store, &customer)?;
            let lifted = customer::unsuspend(store, &found.id).map_err(|e| refused(&found, e))?;
            if json {
                return print_json(&lifted);
            }
            println!(
                "customer {} is ACTIVE again. The running server unsuspends their paid accounts in WHM within \
                 seconds; an account you suspended by itself (`hostr account suspend`) stays suspended.",
                name(&lifted)
            );
            Ok(ExitCode::SUCCESS)
        }
        CustomerCommand::SetKey { customer, new_key } => set_key(store, &customer, &new_key, json),
    }
}

fn set_key(store: &Store, customer: &str, new_key: &str, json: bool) -> CliResult {
    let found = find_customer(store, customer)?;
    let new_key = parse_public_key(new_key)?;
    let moved = customer::set_key(store, &found.id, &new_key).map_err(|e| match e {
        CustomerError::AlreadyRegistered => format!("another customer already has the key {new_key}"),
        other => other.to_string(),
    })?;
    if json {
        return print_json(&moved);
    }
    println!("customer {} now signs in with {}", moved.id, npub(&moved.public_key).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// Why a suspension or its lifting was refused, for the operator.
fn refused(customer: &Customer, error: CustomerError) -> String {
    let who = name(customer);
    match error {
        CustomerError::Lifecycle(LifecycleError::AlreadyDeleted) => format!(
            "customer {who} deleted their account, so it cannot be suspended; its hosting is suspended already, \
             and if they recover it, suspend them then"
        ),
        CustomerError::Lifecycle(LifecycleError::NotSuspended) => {
            format!("customer {who} is not suspended (status {})", customer.status.as_str())
        }
        other => other.to_string(),
    }
}

/// How the operator recognises a customer in a sentence: their profile's
/// name with the id, or the id.
fn name(customer: &Customer) -> String {
    match display_name(customer) {
        Some(shown) => format!("{shown} ({})", customer.id),
        None => customer.id.clone(),
    }
}

fn list(store: &Store, json: bool) -> CliResult {
    let customers = store.list_readable::<Customer>().map_err(|e| e.to_string())?;
    if json {
        return print_json(&customers);
    }
    let mut table = Table::new([
        left("ID"),
        left("NPUB"),
        left("STATUS"),
        left("REGISTERED (UTC)"),
        left("EMAIL").max(40),
        left("NAME").max(24),
    ]);
    for c in &customers {
        table.row([
            c.id.clone(),
            npub(&c.public_key).unwrap_or_else(|| c.public_key.clone()),
            c.status.as_str().to_owned(),
            when(c.created_at),
            c.email.clone().unwrap_or_else(|| "-".to_owned()),
            display_name(c).unwrap_or("-").to_owned(),
        ]);
    }
    table.print_or("no customers yet");
    Ok(ExitCode::SUCCESS)
}

/// The customer, then their accounts and payments as tables. With `--json`,
/// the customer's record as stored.
fn show(store: &Store, customer: &Customer, json: bool) -> CliResult {
    if json {
        return print_json(customer);
    }
    println!("Customer {}", customer.id);
    print!("{}", fields(&about(customer)));
    let mut accounts = store.find_all(CpanelAccount::by_customer(&customer.id)).map_err(|e| e.to_string())?;
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    let mut payments = store.find_all(Payment::by_customer(&customer.id)).map_err(|e| e.to_string())?;
    payments.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    println!();
    section(&account::table(&accounts), "cPanel account", "cPanel accounts");
    unreadable(store, &customer.cpanel_account_ids, &accounts);
    println!();
    section(&payment::table(&payments, &accounts), "payment", "payments, newest first");
    unreadable(store, &customer.payment_ids, &payments);
    Ok(ExitCode::SUCCESS)
}

/// A counted heading ("No payment.", "1 payment:", "3 payments, …:"), then
/// the table if it has rows.
fn section(table: &Table, one: &str, many: &str) {
    match table.len() {
        0 => println!("No {one}."),
        1 => println!("1 {one}:"),
        n => println!("{n} {many}:"),
    }
    if !table.is_empty() {
        print!("{}", table.render());
    }
}

/// What there is to say about a customer, line by line.
fn about(customer: &Customer) -> Vec<(&'static str, String)> {
    let mut lines = vec![("Signs in with", npub(&customer.public_key).unwrap_or_else(|| customer.public_key.clone()))];
    if let Some(shown) = display_name(customer) {
        lines.push(("Name", format!("{shown} (from their Nostr profile)")));
    }
    if let Some(nip05) = customer.metadata.as_ref().and_then(|m| m.nip05.as_deref()) {
        let check = customer.metadata.as_ref().and_then(|m| m.nip05_check.as_ref()).filter(|c| c.identifier == nip05);
        let verdict = match check {
            Some(c) if c.valid => format!("verified on {}", when(c.checked_at)),
            Some(c) => format!("not verified: {}", c.reason.as_deref().unwrap_or("no reason given")),
            None => "not checked yet".to_owned(),
        };
        lines.push(("NIP-05", format!("{nip05} ({verdict})")));
    }
    lines.push(("Email", customer.email.clone().unwrap_or_else(|| "none given".to_owned())));
    lines.push(("Registered", format!("{} UTC", when(customer.created_at))));
    lines.push(("Status", status(customer)));
    lines
}

fn status(customer: &Customer) -> String {
    match customer.status {
        CustomerStatus::Active => "ACTIVE".to_owned(),
        CustomerStatus::Suspended => format!(
            "SUSPENDED by the operator: {}. Every account of theirs is suspended, and they cannot buy.",
            customer.suspend_reason.as_deref().unwrap_or("no reason given")
        ),
        CustomerStatus::Deleted => format!(
            "DELETED by themselves{}: their accounts are suspended; they may recover it within the grace period.",
            customer.deleted_at.map(|t| format!(" on {} UTC", when(t))).unwrap_or_default()
        ),
    }
}

/// Says which records the customer's file names that cannot be read (or
/// are missing), rather than leaving them out in silence.
fn unreadable<T: Record>(store: &Store, named: &[String], found: &[T]) {
    for id in named.iter().filter(|id| !found.iter().any(|r| r.id() == id.as_str())) {
        if let Err(error) = store.get::<T>(id) {
            println!("  {} {id} cannot be read: {error} (run `hostr check`)", T::COLLECTION.noun);
        }
    }
}

/// The name the customer gives in their Nostr profile, if any.
fn display_name(customer: &Customer) -> Option<&str> {
    let metadata = customer.metadata.as_ref()?;
    [&metadata.display_name, &metadata.name].into_iter().flatten().map(|n| n.trim()).find(|n| !n.is_empty())
}
