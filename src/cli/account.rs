//! `hostr account …`: list and show cPanel accounts, suspend or unsuspend
//! one, change its plan (the server applies it in WHM).

use super::table::{Table, left};
use super::{CliResult, print_json, when_or_dash};
use crate::config::AccountCommand;
use crate::console::audit::{self, AuditEntry, Target};
use crate::cpanel_account::CpanelAccount;
use crate::provisioning::operator;
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: AccountCommand, json: bool) -> CliResult {
    let changed = match command {
        AccountCommand::List => return list(store, json),
        AccountCommand::Show { account } => {
            return print_json(&operator::find_account(store, &account).map_err(|e| e.to_string())?);
        }
        AccountCommand::Suspend { account, reason, message } => {
            let account = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            operator::set_suspension(store, &account.id, Some(&reason), message.as_deref())
                .map_err(|e| e.to_string())?
        }
        AccountCommand::Unsuspend { account } => {
            let account = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            operator::set_suspension(store, &account.id, None, None).map_err(|e| e.to_string())?
        }
        AccountCommand::Extend { account, days, reason } => {
            let before = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            let after = operator::extend(store, &before.id, days, &reason).map_err(|e| e.to_string())?;
            let entry = AuditEntry::now("cli", "account.extend", Target::new("account", &after.id));
            audit::record_or_log(store, &entry.changing(&before, &after).because(&reason));
            after
        }
        AccountCommand::ChangePlan { account, plan, at_renewal } => {
            let account = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            let changed = operator::change_plan(store, &account.id, &plan, at_renewal).map_err(|e| e.to_string())?;
            if json {
                return print_json(&changed);
            }
            match at_renewal {
                true => println!("account {} moves to plan {plan} at its next renewal", changed.username),
                false => println!(
                    "account {} is now on plan {plan}; the running server moves its WHM package within seconds",
                    changed.username
                ),
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if json {
        return print_json(&changed);
    }
    println!(
        "account {} is now {}; the running server applies it in WHM within seconds",
        changed.username,
        changed.status.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

fn list(store: &Store, json: bool) -> CliResult {
    let mut accounts = store.list_readable::<CpanelAccount>().map_err(|e| e.to_string())?;
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    if json {
        return print_json(&accounts);
    }
    table(&accounts).print_or("no cPanel accounts yet");
    Ok(ExitCode::SUCCESS)
}

/// Accounts as a table, one row each.
pub(super) fn table(accounts: &[CpanelAccount]) -> Table {
    let mut table = Table::new([
        left("USERNAME"),
        left("DOMAIN"),
        left("STATUS"),
        left("PLAN"),
        left("PAID UNTIL (UTC)"),
        left("ID"),
    ]);
    for a in accounts {
        table.row([&a.username, &a.domain, a.status.as_str(), &a.plan_id, &when_or_dash(a.paid_until), &a.id]);
    }
    table
}
