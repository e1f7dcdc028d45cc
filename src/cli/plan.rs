//! `hostr plan …`: list, show and add hosting plans.

use super::{CliResult, print_json};
use crate::config::{PlanAddArgs, PlanCommand};
use crate::ids::IdFormat;
use crate::plan::{BillingCycle, Plan};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: PlanCommand, json: bool) -> CliResult {
    match command {
        PlanCommand::List => {
            let plans = store.list_readable::<Plan>().map_err(|e| e.to_string())?;
            if json {
                return print_json(&plans);
            }
            println!(
                "{:<16} {:<28} {:>8} {:>9} {:>12} {:<8} {:<9}",
                "ID", "NAME", "STORAGE", "TRANSFER", "PRICE", "CYCLE", "ON SALE"
            );
            for p in &plans {
                println!(
                    "{:<16} {:<28} {:>5} GB {:>6} GB {:>8} {} {:<8} {:<9}",
                    p.id,
                    p.name,
                    p.storage,
                    p.bandwidth,
                    p.price,
                    p.currency,
                    p.billing_cycle.as_str(),
                    if p.available { "yes" } else { "no" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
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
