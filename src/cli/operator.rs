//! `hostr operator …`: the operator's Nostr key.

use super::{CliResult, print_json};
use crate::config::OperatorCommand;
use crate::operator_key::{KeySource, OperatorKey};
use crate::store::Store;
use std::io::Read;
use std::process::ExitCode;

/// What changes when the key changes, said before it does.
const WHAT_CHANGES: &str = "Replacing the operator key gives the shop a new Nostr identity: \
    listings, receipts and messages signed so far stay signed by the old key, \
    customers and clients that follow the old npub will not see the new one, and \
    relays that let the old key write may refuse the new one.";

pub(super) fn run(store: &Store, command: OperatorCommand, json: bool) -> CliResult {
    match command {
        OperatorCommand::Show => show(&current(store)?, json),
        OperatorCommand::SetKey { generate, yes } => set_key(store, generate, yes, json),
    }
}

fn current(store: &Store) -> Result<OperatorKey, String> {
    match OperatorKey::from_env()? {
        Some(key) => Ok(key),
        None => OperatorKey::in_database(store.root()).map_err(|e| e.to_string()),
    }
}

fn show(key: &OperatorKey, json: bool) -> CliResult {
    let source = match key.source() {
        KeySource::Environment => crate::operator_key::ENV_VAR.to_string(),
        KeySource::File(path) => path.display().to_string(),
    };
    if json {
        return print_json(&serde_json::json!({
            "npub": key.npub(),
            "publicKey": key.public_key().to_hex(),
            "source": source,
        }));
    }
    println!("{}", key.npub());
    println!("public key (hex) {}", key.public_key().to_hex());
    println!("read from        {source}");
    Ok(ExitCode::SUCCESS)
}

fn set_key(store: &Store, generate: bool, yes: bool, json: bool) -> CliResult {
    if !yes {
        return Err(format!("{WHAT_CHANGES} Run it again with --yes to go ahead."));
    }
    let secret = if generate {
        use nostr::prelude::ToBech32;
        nostr::prelude::Keys::generate().secret_key().to_bech32().map_err(|e| e.to_string())?
    } else {
        let mut text = String::new();
        std::io::stdin().take(1024).read_to_string(&mut text).map_err(|e| format!("cannot read the key: {e}"))?;
        text
    };
    let key = OperatorKey::replace_file(store.root(), &secret)?;
    if !json {
        eprintln!("{WHAT_CHANGES}");
        eprintln!("Restart the server so it signs with the new key.");
    }
    show(&key, json)
}
