//! The command line as clap sees it: the global flags and one subcommand per
//! operator task. The settings of `serve` are [`ServeArgs`], in
//! `serve_args.rs`.

use super::ServeArgs;
use crate::ids::IdFormat;
use crate::money::{Currency, Money};
use crate::plan::{BillingCycle, PlanChange};
use crate::prepay::PrepayOption;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hostr",
    version,
    about = "A self-hosted storefront for cPanel web hosting: Nostr sign-in, Lightning payments, WHM provisioning."
)]
pub struct Cli {
    /// The database folder (customers/, cpanel-accounts/, plans/, payments/, outbox/).
    #[arg(long, env = "HOSTR_DATABASE", default_value = "./database", global = true)]
    pub database: PathBuf,

    /// Print machine-readable JSON instead of text (admin commands).
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do; without one, `serve` with its settings from the environment.
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per process; boxing `serve`'s settings would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve(Box<ServeArgs>),
    /// Validate every record of the database, like `nginx -t`; exits 1 on problems.
    Check,
    /// Show, add, change and retire hosting plans.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Show customers; suspend or unsuspend one; move one to a new key.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Show payments, and record one paid by other means.
    #[command(subcommand)]
    Payment(PaymentCommand),
    /// Check the Strike key and register the webhook.
    #[command(subcommand)]
    Strike(StrikeCommand),
    /// Show cPanel accounts; suspend or unsuspend one (the server applies it in WHM).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Check the WHM connection; compare WHM's accounts with the files.
    #[command(subcommand)]
    Whm(WhmCommand),
    /// Show or replace the operator's Nostr key (it signs listings, receipts, notices).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Show what waits to reach Nostr relays; send an item again.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the outbox, newest first.
    List {
        /// Only items not yet finished.
        #[arg(long)]
        pending: bool,
    },
    /// Show one item: the signed event and each relay's answers.
    Show { id: String },
    /// Send an item again now to every relay that has not taken it (the same
    /// event, so the same id); the running server sends it within seconds.
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Print the operator's npub and where its key comes from.
    Show,
    /// Replace the key kept in the database folder with one read from standard
    /// input (an nsec or 64 hex digits; never on the command line, where `ps`
    /// would show it), or with a new random key.
    SetKey {
        /// Make a new random key instead of reading one.
        #[arg(long)]
        generate: bool,
        /// Replace it even though what it signed stays signed by the old key.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// List accounts.
    List,
    /// Show one account, by username or id.
    Show { account: String },
    /// Suspend an account for review; a payment never lifts this.
    Suspend {
        account: String,
        /// Why (kept on the account and sent to WHM; never shown to the customer).
        #[arg(long)]
        reason: String,
        /// What the customer is told on their profile, if anything.
        #[arg(long)]
        message: Option<String>,
    },
    /// Lift an operator's suspension: ACTIVE again if paid, else EXPIRED.
    Unsuspend { account: String },
    /// Extend an account's paid period as goodwill (no payment is recorded).
    Extend {
        account: String,
        /// Days added to the paid period (from now if it has ended), 1 to 366.
        #[arg(long)]
        days: u32,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Move an account to another plan, no money involved; the server moves
    /// its WHM package to the plan's within seconds.
    ChangePlan {
        account: String,
        plan: String,
        /// Only from the next renewal, whose invoice is then for this plan.
        #[arg(long)]
        at_renewal: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WhmCommand {
    /// Connect to each WHM server (WHM_URL's, and those in servers/) and check its token may call what hostr needs.
    Test {
        /// Only this server (its id; `default` is WHM_URL's). Default: all.
        #[arg(long)]
        server: Option<String>,
    },
    /// Compare each WHM server's accounts with the files and report the differences.
    Sync {
        /// Also suspend and unsuspend in WHM what the files say.
        #[arg(long)]
        fix: bool,
        /// Only this server (its id; `default` is WHM_URL's). Default: all.
        #[arg(long)]
        server: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PaymentCommand {
    /// List payments, newest first.
    List {
        /// Only payments in this state: PENDING, PAID, EXPIRED or CANCELLED.
        #[arg(long)]
        state: Option<String>,
    },
    /// Show one payment.
    Show { id: String },
    /// Try a failed fulfilment again now (after fixing its cause).
    Retry { id: String },
    /// Record a payment as paid by other means; fulfilment follows as for any payment.
    MarkPaid {
        id: String,
        /// Why it counts as paid (kept on the payment).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StrikeCommand {
    /// Check that STRIKE_API_KEY works and may read invoices.
    Test,
    /// Register this server's webhook (invoice.updated) with Strike, signed with STRIKE_WEBHOOK_SECRET.
    Subscribe {
        /// The public URL customers use, e.g. https://hosting.example.com.
        #[arg(long, env = "HOSTR_PUBLIC_URL")]
        public_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// List all plans, on sale or not.
    List,
    /// Show one plan.
    Show { id: String },
    /// Add a plan.
    Add(PlanAddArgs),
    /// Change an existing plan: only the fields given. Payments already made
    /// keep their amount; new purchases and renewals are at the new terms.
    #[command(override_usage = "hostr plan edit <ID> [--name NAME] [--price PRICE] [--currency CODE] \
        [--billing-cycle CYCLE] [--storage GB] [--bandwidth GB] [--whm-package PACKAGE] [--accounts N] \
        [--available | --unavailable]  (at least one)")]
    Edit(PlanEditArgs),
    /// Stop selling a plan (`available: false`); accounts that have it keep
    /// it and can renew. `plan edit ID --available` sells it again.
    Retire { id: String },
}

#[derive(Debug, Args)]
pub struct PlanAddArgs {
    /// A readable id such as `pro` (lowercase letters, digits, dashes).
    #[arg(value_parser = plan_id)]
    pub id: String,
    /// The name customers see.
    #[arg(long)]
    pub name: String,
    /// Disk space in GB.
    #[arg(long)]
    pub storage: u32,
    /// Monthly transfer in GB.
    #[arg(long)]
    pub bandwidth: u32,
    /// Price per billing cycle: at most 2 decimals in a fiat currency (9.99),
    /// 8 in BTC (0.0005), whole sats in SAT (50000).
    #[arg(long)]
    pub price: Money,
    /// ISO currency code (USD, EUR, GBP…), BTC, or SAT for sats.
    #[arg(long, default_value = "USD")]
    pub currency: Currency,
    /// `monthly` or `yearly`.
    #[arg(long, default_value = "monthly")]
    pub billing_cycle: BillingCycle,
    /// The WHM package accounts are created with [default: the plan's id].
    #[arg(long)]
    pub whm_package: Option<String>,
    /// cPanel accounts included.
    #[arg(long, default_value_t = 1)]
    pub accounts: u32,
    /// How many periods a purchase or renewal may buy at once (1, 3, 6, 12),
    /// each optionally with a whole percent off: `1,3,12:10`.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub prepay: Vec<PrepayOption>,
    /// Add the plan without putting it on sale.
    #[arg(long)]
    pub unavailable: bool,
}

#[derive(Debug, Args)]
pub struct PlanEditArgs {
    /// The plan's id.
    pub id: String,
    #[command(flatten)]
    pub change: PlanChangeArgs,
}

/// The fields `plan edit` may change; at least one.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct PlanChangeArgs {
    /// The name customers see.
    #[arg(long)]
    pub name: Option<String>,
    /// Disk space in GB.
    #[arg(long)]
    pub storage: Option<u32>,
    /// Monthly transfer in GB.
    #[arg(long)]
    pub bandwidth: Option<u32>,
    /// Price per billing cycle: at most 2 decimals in a fiat currency (9.99),
    /// 8 in BTC (0.0005), whole sats in SAT (50000).
    #[arg(long)]
    pub price: Option<Money>,
    /// ISO currency code (USD, EUR, GBP…), BTC, or SAT for sats.
    #[arg(long)]
    pub currency: Option<Currency>,
    /// `monthly` or `yearly`.
    #[arg(long)]
    pub billing_cycle: Option<BillingCycle>,
    /// The WHM package new accounts are created with (existing accounts keep theirs).
    #[arg(long)]
    pub whm_package: Option<String>,
    /// cPanel accounts included.
    #[arg(long)]
    pub accounts: Option<u32>,
    /// The periods a purchase or renewal may buy at once, with any percent
    /// off, replacing the plan's list: `1,3,12:10`.
    #[arg(long, value_delimiter = ',')]
    pub prepay: Option<Vec<PrepayOption>>,
    /// Put the plan on sale.
    #[arg(long, conflicts_with = "unavailable")]
    pub available: bool,
    /// Take the plan off sale (as `plan retire`).
    #[arg(long)]
    pub unavailable: bool,
}

impl PlanChangeArgs {
    pub fn into_change(self) -> PlanChange {
        PlanChange {
            name: self.name,
            storage: self.storage,
            bandwidth: self.bandwidth,
            price: self.price,
            currency: self.currency,
            billing_cycle: self.billing_cycle,
            whm_package: self.whm_package,
            accounts: self.accounts,
            prepay: self.prepay,
            available: match (self.available, self.unavailable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        }
    }
}

/// A plan id as `plan add` accepts it.
fn plan_id(text: &str) -> Result<String, String> {
    if IdFormat::Slug.accepts(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is not a plan id: it must be {}", IdFormat::Slug.describe()))
    }
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// List customers with their status.
    List,
    /// Show one customer, by id, hex public key or npub, with their accounts
    /// and payments (`--json`: the customer's record as stored).
    Show { customer: String },
    /// Suspend a customer: every account of theirs is suspended in WHM (the
    /// running server applies it) and they cannot buy until unsuspended.
    Suspend {
        /// The customer: id, hex public key or npub.
        customer: String,
        /// Why (kept on the customer for the operator; never shown to them).
        #[arg(long)]
        reason: String,
    },
    /// Lift a customer's suspension: their paid accounts run again.
    Unsuspend {
        /// The customer: id, hex public key or npub.
        customer: String,
    },
    /// Move a customer to a new Nostr key (they lost the old one). Every
    /// record keeps pointing at the customer; sessions of the old key end.
    SetKey {
        /// The customer: id, current hex public key or npub.
        customer: String,
        /// The new key: npub or 64 hex digits.
        new_key: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The default clap gives `flag` on `command` (or on `hostr` itself, for
    /// the global flags), as the README writes it (`off` for a switch);
    /// `None` when it has none. Panics on a flag that does not exist.
    fn default_of(command: &clap::Command, flag: &str) -> Option<String> {
        let root = Cli::command();
        let arg = [command, &root]
            .into_iter()
            .find_map(|c| c.get_arguments().find(|a| a.get_long() == Some(flag)).cloned())
            .unwrap_or_else(|| panic!("the README names --{flag}, which `hostr {}` does not have", command.get_name()));
        let default = arg.get_default_values().first()?.to_string_lossy().into_owned();
        Some(if default == "false" { "off".to_owned() } else { default })
    }

    /// Each `[--flag VALUE]` of a command line in the README: the value shown
    /// must be the flag's default when it has one.
    fn check_optional_flags(command: &clap::Command, line: &str) {
        for bracket in line.split('[').skip(1).filter_map(|rest| rest.split_once(']').map(|(inside, _)| inside)) {
            for alternative in bracket.split('|') {
                let mut words = alternative.split_whitespace();
                let Some(flag) = words.next().and_then(|w| w.strip_prefix("--")) else { continue };
                if let (Some(default), Some(shown)) = (default_of(command, flag), words.next()) {
                    assert_eq!(
                        shown, default,
                        "README shows --{flag} {shown}, the code's default is {default}: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_readme_shows_the_defaults_the_code_has() {
        let readme = include_str!("../../README.md");
        let admin = readme.split("## Admin commands").nth(1).and_then(|s| s.split("```sh").nth(1)).unwrap();
        let admin = admin.split("```").next().unwrap();
        let root = Cli::command();
        let mut current: Option<clap::Command> = None;
        for line in admin.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() == Some(&"hostr") {
                let noun = root.find_subcommand(words[1]).unwrap_or_else(|| panic!("README: {line}"));
                let verb = words.get(2).and_then(|w| noun.find_subcommand(w));
                current = Some(verb.unwrap_or(noun).clone());
            } else if !line.trim_start().starts_with('[') {
                continue;
            }
            let command = current.as_ref().unwrap_or_else(|| panic!("README: {line}"));
            let line = line.split('#').next().unwrap_or(line);
            for flag in line.split([' ', '[', ']']).filter_map(|w| w.strip_prefix("--")) {
                default_of(command, flag); // the flag exists
            }
            check_optional_flags(command, line);
        }
        // The settings table: | setting | `--flag` | `ENV` | default |
        let serve = root.find_subcommand("serve").unwrap();
        for row in readme.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let Some(flag) = cells.get(2).and_then(|c| c.strip_prefix("`--")).and_then(|c| c.strip_suffix('`')) else {
                continue;
            };
            if let Some(default) = default_of(serve, flag) {
                let shown = cells[4].trim_start_matches('`');
                assert!(shown.starts_with(&default), "README: --{flag} defaults to {default}, not {}", cells[4]);
            }
        }
    }
}
