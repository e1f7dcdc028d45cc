//! `hostr plan …`: list, show, add, change and retire hosting plans. The
//! flags are parsed and checked by clap (`config/args.rs`), the plan's own
//! rules by the store, the same for `add` and `edit`.

use super::table::{Table, fields, left, right};
use super::{CliResult, print_json};
use crate::config::{PlanAddArgs, PlanCommand, PlanEditArgs};
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::plan::{self, Plan};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: PlanCommand, json: bool) -> CliResult {
    match command {
        PlanCommand::List => list(store, json),
        PlanCommand::Show { id } => {
            let plan: Plan = store.get(&id).map_err(|e| e.to_string())?;
            print_json(&plan)
        }
        PlanCommand::Add(args) => add(store, args, json),
        PlanCommand::Edit(PlanEditArgs { id, change }) => {
            let (before, after) = plan::edit(store, &id, &change.into_change()).map_err(|e| e.to_string())?;
            changed(store, &before, &after, json)
        }
        PlanCommand::Retire { id } => {
            let (before, after) = plan::retire(store, &id).map_err(|e| e.to_string())?;
            changed(store, &before, &after, json)
        }
    }
}

fn add(store: &Store, args: PlanAddArgs, json: bool) -> CliResult {
    let now = Timestamp::now();
    let plan = Plan {
        whm_package: args.whm_package.unwrap_or_else(|| args.id.clone()),
        id: args.id,
        name: args.name,
        storage: args.storage,
        bandwidth: args.bandwidth,
        price: args.price,
        currency: args.currency,
        billing_cycle: args.billing_cycle,
        accounts: args.accounts,
        prepay: args.prepay,
        available: !args.unavailable,
        server_group: None,
        server_fill: Default::default(),
        created_at: now,
        updated_at: now,
    };
    store.create(&plan).map_err(|e| match e {
        StoreError::AlreadyExists { .. } => format!("a plan with id `{}` already exists", plan.id),
        other => other.to_string(),
    })?;
    if json {
        return print_json(&plan);
    }
    println!("added plan {}:", plan.id);
    print!("{}", fields(&terms(&plan)));
    Ok(ExitCode::SUCCESS)
}

/// What a plan offers, field by field, as `edit` compares them.
fn terms(plan: &Plan) -> Vec<(&'static str, String)> {
    vec![
        ("name", plan.name.clone()),
        ("price", format!("{} {} {}", plan.price, plan.currency, plan.billing_cycle.as_str())),
        ("storage", format!("{} GB", plan.storage)),
        ("transfer", format!("{} GB a month", plan.bandwidth)),
        ("cPanel accounts", plan.accounts.to_string()),
        ("prepay", prepay_terms(plan)),
        ("WHM package", plan.whm_package.clone()),
        ("on sale", if plan.available { "yes" } else { "no" }.to_owned()),
    ]
}

/// The prepay choices as the operator typed them: `1, 3, 12 (10 % off)`.
fn prepay_terms(plan: &Plan) -> String {
    let choice = |o: &crate::prepay::PrepayOption| match o.discount_percent {
        Some(percent) => format!("{} ({percent} % off)", o.periods),
        None => o.periods.to_string(),
    };
    plan.prepay.iter().map(choice).collect::<Vec<_>>().join(", ") + " periods"
}

/// Says what an edit changed and what follows from it.
fn changed(store: &Store, before: &Plan, after: &Plan, json: bool) -> CliResult {
    if json {
        return print_json(after);
    }
    let differences: Vec<(&str, String)> = terms(before)
        .into_iter()
        .zip(terms(after))
        .filter(|(old, new)| old.1 != new.1)
        .map(|((label, old), (_, new))| (label, format!("{old} → {new}")))
        .collect();
    if differences.is_empty() {
        let already = if after.available { "already had these terms" } else { "is not on sale already" };
        println!("plan {} {already}: nothing changed", after.id);
        return Ok(ExitCode::SUCCESS);
    }
    println!("changed plan {}:", after.id);
    print!("{}", fields(&differences));
    let holders = store
        .list_readable::<CpanelAccount>()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|a| a.plan_id == after.id && a.status != AccountStatus::Terminated)
        .count();
    if before.whm_package != after.whm_package {
        println!(
            "New accounts get the WHM package {}; the {holders} existing account(s) keep theirs.",
            after.whm_package
        );
    }
    if !after.available {
        println!("The plan is not on sale: customers cannot buy it; its {holders} account(s) keep it and can renew.");
        let on_sale = store.list_readable::<Plan>().map_err(|e| e.to_string())?.iter().filter(|p| p.available).count();
        if on_sale == 0 {
            println!("No plan is on sale now: the storefront has nothing to sell.");
        }
    }
    if differences.iter().any(|(label, _)| *label != "on sale") {
        println!("Payments already made keep their amount; new purchases and renewals are at these terms.");
    }
    Ok(ExitCode::SUCCESS)
}

fn list(store: &Store, json: bool) -> CliResult {
    let plans = store.list_readable::<Plan>().map_err(|e| e.to_string())?;
    if json {
        return print_json(&plans);
    }
    let mut table = Table::new([
        left("ID"),
        left("NAME").max(32),
        right("STORAGE"),
        right("TRANSFER"),
        right("PRICE"),
        left("CYCLE"),
        left("ON SALE"),
        left("WHM PACKAGE"),
    ]);
    for p in &plans {
        table.row([
            p.id.clone(),
            p.name.clone(),
            format!("{} GB", p.storage),
            format!("{} GB", p.bandwidth),
            format!("{} {}", p.price, p.currency),
            p.billing_cycle.as_str().to_owned(),
            if p.available { "yes" } else { "no" }.to_owned(),
            p.whm_package.clone(),
        ]);
    }
    table.print_or("no plans yet: add one with `hostr plan add`");
    Ok(ExitCode::SUCCESS)
}
