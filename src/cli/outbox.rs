//! `hostr outbox …`: what waits to reach Nostr relays, and sending an item again.

use super::table::{Table, clean, fields, left, right};
use super::{CliResult, print_json, when, when_or_dash};
use crate::config::OutboxCommand;
use crate::outbox::OutboxItem;
use crate::store::{Store, StoreError};
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: OutboxCommand, json: bool) -> CliResult {
    match command {
        OutboxCommand::List { pending } => list(store, pending, json),
        OutboxCommand::Show { id } => show(&store.get::<OutboxItem>(&id).map_err(|e| e.to_string())?, json),
        OutboxCommand::Retry { id } => {
            let retried = store.update::<OutboxItem, _, StoreError>(&id, |item| Ok(item.retry()));
            match retried.map_err(|e| e.to_string())? {
                true if json => show(&store.get::<OutboxItem>(&id).map_err(|e| e.to_string())?, true),
                true => {
                    println!("outbox item {id} will be sent again by the running server within seconds");
                    Ok(ExitCode::SUCCESS)
                }
                false => Err(format!("outbox item {id} has reached every relay it is for: nothing to send again")),
            }
        }
    }
}

fn list(store: &Store, pending: bool, json: bool) -> CliResult {
    let mut items = store.list_readable::<OutboxItem>().map_err(|e| e.to_string())?;
    items.retain(|item| !pending || item.finished_at.is_none());
    items.sort_by_key(|item| std::cmp::Reverse(item.created_at));
    if json {
        return print_json(&items);
    }
    let mut table = Table::new([
        left("ID"),
        right("KIND"),
        left("STATUS"),
        left("RELAYS TAKEN"),
        left("CREATED (UTC)"),
        left("LAST ERROR"),
    ]);
    for item in &items {
        let taken = item.deliveries.iter().filter(|d| d.state.reached()).count();
        let error = item.deliveries.iter().filter(|d| !d.state.reached()).find_map(|d| d.last_error.clone());
        table.row([
            item.id.clone(),
            item.event.kind.as_u16().to_string(),
            item.status().to_owned(),
            format!("{taken} of {}", item.deliveries.len()),
            when(item.created_at),
            error.unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    table.print_or(if pending { "nothing waits to be published" } else { "the outbox is empty" });
    Ok(ExitCode::SUCCESS)
}

fn show(item: &OutboxItem, json: bool) -> CliResult {
    if json {
        return print_json(item);
    }
    println!(
        "{}",
        fields(&[
            ("id", item.id.clone()),
            ("kind", item.event.kind.as_u16().to_string()),
            ("status", item.status().to_owned()),
            ("created", when(item.created_at)),
            ("finished", when_or_dash(item.finished_at)),
        ])
    );
    let mut table = Table::new([
        left("RELAY"),
        left("STATE"),
        right("ATTEMPTS"),
        left("LAST ATTEMPT"),
        left("NEXT ATTEMPT"),
        left("LAST ERROR"),
    ]);
    for d in &item.deliveries {
        table.row([
            d.relay.clone(),
            d.state.as_str().to_owned(),
            d.attempts.to_string(),
            when_or_dash(d.last_attempt_at),
            when_or_dash(d.next_attempt_at),
            d.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    println!("{}", table.render());
    println!("{}", clean(&serde_json::to_string(&item.event).map_err(|e| e.to_string())?));
    Ok(ExitCode::SUCCESS)
}
