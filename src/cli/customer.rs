//! `hostr customer …`: list and show customers, move one to a new key.

use super::{CliResult, find_customer, print_json};
use crate::config::CustomerCommand;
use crate::customer::{Customer, CustomerError, npub, parse_public_key};
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: CustomerCommand, json: bool) -> CliResult {
    match command {
        CustomerCommand::List => {
            let customers = store.list_readable::<Customer>().map_err(|e| e.to_string())?;
            if json {
                return print_json(&customers);
            }
            println!("{:<36} {:<63} {:<9} {:<20} {:<30}", "ID", "NPUB", "STATUS", "REGISTERED", "EMAIL");
            for c in &customers {
                println!(
                    "{:<36} {:<63} {:<9} {:<20} {:<30}",
                    c.id,
                    npub(&c.public_key).unwrap_or_else(|| c.public_key.clone()),
                    c.status.as_str(),
                    c.created_at.to_string(),
                    c.email.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
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
