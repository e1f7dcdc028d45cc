//! `hostr account …`: list and show cPanel accounts, suspend or unsuspend
//! one (the server applies it in WHM).

use super::{CliResult, print_json};
use crate::config::AccountCommand;
use crate::cpanel_account::CpanelAccount;
use crate::provisioning::operator;
use crate::store::Store;
use std::process::ExitCode;

pub(super) fn run(store: &Store, command: AccountCommand, json: bool) -> CliResult {
    let changed = match command {
        AccountCommand::List => {
            let mut accounts = store.list_readable::<CpanelAccount>().map_err(|e| e.to_string())?;
            accounts.sort_by(|a, b| a.username.cmp(&b.username));
            if json {
                return print_json(&accounts);
            }
            println!("{:<8} {:<12} {:<20} {:<36} DOMAIN", "USERNAME", "STATUS", "PAID UNTIL", "ID");
            for a in &accounts {
                let until = a.paid_until.map_or_else(|| "-".to_owned(), |t| t.to_string());
                println!("{:<8} {:<12} {:<20} {:<36} {}", a.username, a.status.as_str(), until, a.id, a.domain);
            }
            return Ok(ExitCode::SUCCESS);
        }
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
