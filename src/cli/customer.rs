//! `hostr customer …`: list and show customers, move one to a new key.

use super::table::{Table, left};
use super::{CliResult, find_customer, print_json, when};
use crate::config::CustomerCommand;
use crate::customer::{Customer, CustomerError, npub, parse_public_key};
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: CustomerCommand, json: bool) -> CliResult {
    match command {
        CustomerCommand::List => list(store, json),
        CustomerCommand::Show { customer } => {
            let found = find_customer(store, &customer)?;
            print_json(&found)
        }
        CustomerCommand::SetKey { customer, new_key } => {
            let found = find_customer(store, &customer)?;
            let new_key = parse_public_key(&new_key)?;
            let moved = crate::customer::set_key(store, &found.id, &new_key).map_err(|e| match e {
                CustomerError::AlreadyRegistered => format!("another customer already has the key {new_key}"),
                other => other.to_string(),
            })?;
            if !json {
                println!("customer {} now signs in with {}", moved.id, npub(&moved.public_key).unwrap_or_default());
            }
            print_json(&moved)
        }
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

/// The name the customer gives in their Nostr profile, if any.
fn display_name(customer: &Customer) -> Option<&str> {
    let metadata = customer.metadata.as_ref()?;
    [&metadata.display_name, &metadata.name].into_iter().flatten().map(|n| n.trim()).find(|n| !n.is_empty())
}
