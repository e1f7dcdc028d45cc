//! `hostr plan …`: list, show and add hosting plans.

use super::table::{Table, left, right};
use super::{CliResult, print_json};
use crate::config::{PlanAddArgs, PlanCommand};
use crate::ids::IdFormat;
use crate::plan::{BillingCycle, Plan};
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
        PlanCommand::Add(args) => {
            let plan = plan_from_args(args)?;
            store.create(&plan).map_err(|e| match e {
                StoreError::AlreadyExists { .. } => {
                    format!("a plan with id `{}` already exists", plan.id)
                }
                other => other.to_string(),
            })?;
            if !json {
                println!("added plan {}", plan.id);
            }
            print_json(&plan)
        }
    }
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

fn plan_from_args(args: PlanAddArgs) -> Result<Plan, String> {
    if !IdFormat::Slug.accepts(&args.id) {
        return Err(format!("`{}` is not a plan id: it must be {}", args.id, IdFormat::Slug.describe()));
    }
    let billing_cycle = match args.billing_cycle.as_str() {
        "monthly" => BillingCycle::Monthly,
        "yearly" => BillingCycle::Yearly,
        other => {
            return Err(format!("`{other}` is not a billing cycle: use monthly or yearly"));
        }
    };
    let now = Timestamp::now();
    Ok(Plan {
        whm_package: args.whm_package.unwrap_or_else(|| args.id.clone()),
        id: args.id,
        name: args.name,
        storage: args.storage,
        bandwidth: args.bandwidth,
        price: args.price.parse().map_err(|e| format!("--price: {e}"))?,
        currency: args.currency.parse().map_err(|e| format!("--currency: {e}"))?,
        billing_cycle,
        accounts: args.accounts,
        available: !args.unavailable,
        created_at: now,
        updated_at: now,
    })
}
