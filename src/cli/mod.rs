//! The command line: one file per noun (`plan.rs`, `customer.rs`, …), one
//! function per subcommand. Output is for people (aligned tables from
//! `table.rs`, sentences), or JSON with `--json`. The use cases live in the
//! modules of their nouns; these functions parse, call one, and print.

mod account;
mod check;
mod customer;
mod operator;
mod outbox;
mod payment;
mod plan;
mod serve;
mod strike;
mod table;
mod whm;

use crate::config::{Cli, Command, ServeArgs};
use crate::customer::{Customer, parse_public_key};
use crate::ids::IdFormat;
use crate::store::Store;
use crate::timestamp::Timestamp;
use serde::Serialize;
use std::process::ExitCode;

/// A failed command: the message for the operator.
pub(super) type CliResult = Result<ExitCode, String>;

pub fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    let outcome = match cli.command {
        None => serve::run(cli.database, &ServeArgs::from_env()),
        Some(Command::Serve(args)) => serve::run(cli.database, &args),
        Some(Command::Check) => open_store(&cli.database).and_then(|store| check::run(&store, json)),
        Some(Command::Plan(command)) => open_store(&cli.database).and_then(|store| plan::run(&store, command, json)),
        Some(Command::Customer(command)) => {
            open_store(&cli.database).and_then(|store| customer::run(&store, command, json))
        }
        Some(Command::Payment(command)) => {
            open_store(&cli.database).and_then(|store| payment::run(&store, command, json))
        }
        Some(Command::Strike(command)) => strike::run(command),
        Some(Command::Account(command)) => {
            open_store(&cli.database).and_then(|store| account::run(&store, command, json))
        }
        Some(Command::Whm(command)) => open_store(&cli.database).and_then(|store| whm::run(store, command, json)),
        Some(Command::Operator(command)) => {
            open_store(&cli.database).and_then(|store| operator::run(&store, command, json))
        }
        Some(Command::Outbox(command)) => {
            open_store(&cli.database).and_then(|store| outbox::run(&store, command, json))
        }
    };
    outcome.unwrap_or_else(|message| {
        eprintln!("hostr: {message}");
        ExitCode::FAILURE
    })
}

fn open_store(database: &std::path::Path) -> Result<Store, String> {
    Store::open(database).map_err(|e| format!("cannot open the database: {e}"))
}

/// A customer by id, hex public key or npub.
pub fn find_customer(store: &Store, text: &str) -> Result<Customer, String> {
    if IdFormat::Uuid.accepts(text) {
        return store.get(text).map_err(|e| e.to_string());
    }
    let key = parse_public_key(text).map_err(|_| format!("`{text}` is not a customer id, hex public key or npub"))?;
    store
        .find(Customer::by_public_key(&key))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no customer has the public key {key}"))
}

pub(super) fn print_json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// A point in time for a table: `2026-01-31 12:00`, in UTC.
fn when(time: Timestamp) -> String {
    time.as_datetime().format("%Y-%m-%d %H:%M").to_string()
}

/// [`when`], or `-` for none.
fn when_or_dash(time: Option<Timestamp>) -> String {
    time.map_or_else(|| "-".to_owned(), when)
}
