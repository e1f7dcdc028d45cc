//! The command line as clap sees it: the global flags, one subcommand per
//! operator task, and [`ServeArgs`], every setting of `serve` with its
//! environment variable and its `--help` text (the README sends operators to
//! `hostr serve --help`). Nothing here is checked against anything else;
//! [`Config::from_args`](super::Config::from_args) does that.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hostr",
    version,
    about = "A self-hosted storefront for cPanel web hosting: Nostr sign-in, Lightning payments, WHM provisioning."
)]
pub struct Cli {
    /// The database folder (customers/, cpanel-accounts/, plans/, payments/).
    #[arg(long, env = "HOSTR_DATABASE", default_value = "./database", global = true)]
    pub database: PathBuf,

    /// Print machine-readable JSON instead of text (admin commands).
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do; without one, `serve` with its settings from the environment.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve(ServeArgs),
    /// Validate every record of the database, like `nginx -t`; exits 1 on problems.
    Check,
    /// Show and add hosting plans.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Show customers.
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
        /// Why (kept on the account and sent to WHM).
        #[arg(long)]
        reason: String,
    },
    /// Lift an operator's suspension: ACTIVE again if paid, else EXPIRED.
    Unsuspend { account: String },
}

#[derive(Debug, Subcommand)]
pub enum WhmCommand {
    /// Connect with WHM_URL/WHM_API_TOKEN and check the token may call what hostr needs.
    Test,
    /// Compare WHM's accounts with the files and report the differences.
    Sync {
        /// Also suspend and unsuspend in WHM what the files say.
        #[arg(long)]
        fix: bool,
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
}

#[derive(Debug, Args)]
pub struct PlanAddArgs {
    /// A readable id such as `pro` (lowercase letters, digits, dashes).
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
    /// Price per billing cycle, at most 2 decimals, e.g. 9.99.
    #[arg(long)]
    pub price: String,
    /// ISO currency code.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// `monthly` or `yearly`.
    #[arg(long, default_value = "monthly")]
    pub billing_cycle: String,
    /// The WHM package accounts are created with (defaults to the id).
    #[arg(long)]
    pub whm_package: Option<String>,
    /// cPanel accounts included.
    #[arg(long, default_value_t = 1)]
    pub accounts: u32,
    /// Add the plan without putting it on sale.
    #[arg(long)]
    pub unavailable: bool,
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// List customers with their status.
    List,
    /// Show one customer, by id, hex public key or npub.
    Show { customer: String },
    /// Move a customer to a new Nostr key (they lost the old one). Every
    /// record keeps pointing at the customer; sessions of the old key end.
    SetKey {
        /// The customer: id, current hex public key or npub.
        customer: String,
        /// The new key: npub or 64 hex digits.
        new_key: String,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "HOSTR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The public URL customers use, e.g. https://hosting.example.com. Used as
    /// the origin in sign-in events, cookies and Origin checks. Defaults to
    /// http:// + the listen address.
    #[arg(long, env = "HOSTR_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder of the static pages.
    #[arg(long, env = "HOSTR_PUBLIC_DIR", default_value = "./public")]
    pub public_dir: PathBuf,

    /// Worker threads handling requests.
    #[arg(long, env = "HOSTR_WORKERS", default_value_t = 16)]
    pub workers: usize,

    /// Connections held open at once; beyond it the longest-idle one is closed.
    #[arg(long, env = "HOSTR_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Seconds a client has to send a complete request head.
    #[arg(long, env = "HOSTR_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HOSTR_MAX_BODY", default_value_t = 64 * 1024)]
    pub max_body: usize,

    /// Days a sign-in lasts before the customer must sign in again.
    #[arg(long, env = "HOSTR_SESSION_DAYS", default_value_t = 7)]
    pub session_days: u32,

    /// Days a customer who deleted themselves can still recover their account.
    #[arg(long, env = "HOSTR_DELETION_GRACE_DAYS", default_value_t = 30)]
    pub deletion_grace_days: u32,

    /// Seconds a sign-in challenge stays valid.
    #[arg(long, env = "HOSTR_CHALLENGE_LIFETIME", default_value_t = 300)]
    pub challenge_lifetime: u64,

    /// Sign-in challenges one client address may take per minute.
    #[arg(long, env = "HOSTR_CHALLENGE_RATE", default_value_t = 30)]
    pub challenge_rate: u32,

    /// Take the client's address from the last X-Forwarded-For entry; set this
    /// only behind a reverse proxy that sets that header (nginx, Caddy).
    #[arg(long, env = "HOSTR_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Minutes an unpaid invoice stays open before its payment expires.
    #[arg(long, env = "HOSTR_INVOICE_MINUTES", default_value_t = 60)]
    pub invoice_minutes: u32,

    /// Seconds between background checks of pending payments with the provider.
    #[arg(long, env = "HOSTR_PAYMENT_POLL_SECONDS", default_value_t = 20)]
    pub payment_poll_seconds: u64,

    /// Run sandbox payments although the public URL is https (a public demo).
    /// Without this, an https site without STRIKE_API_KEY refuses to start, so
    /// a missing key can never mean free hosting.
    #[arg(long, env = "HOSTR_ALLOW_SANDBOX_PAYMENTS")]
    pub allow_sandbox_payments: bool,

    /// Run with the sandbox WHM although real payments (STRIKE_API_KEY) are
    /// on. Without this, real money could buy a sandbox account.
    #[arg(long, env = "HOSTR_ALLOW_SANDBOX_WHM")]
    pub allow_sandbox_whm: bool,

    /// Seconds between passes of the accounts worker: how soon a hand edit
    /// of an account reaches WHM.
    #[arg(long, env = "HOSTR_ACCOUNT_CHECK_SECONDS", default_value_t = 5)]
    pub account_check_seconds: u64,

    /// Seconds after which WHM's list of accounts is read again (one `listaccts`).
    #[arg(long, env = "HOSTR_WHM_REFRESH_SECONDS", default_value_t = 60)]
    pub whm_refresh_seconds: u64,

    /// Minutes between readings of disk and bandwidth usage.
    #[arg(long, env = "HOSTR_USAGE_MINUTES", default_value_t = 60)]
    pub usage_minutes: u64,

    /// Days after `paidUntil` before an unpaid account is suspended.
    #[arg(long, env = "HOSTR_EXPIRY_GRACE_DAYS", default_value_t = 0)]
    pub expiry_grace_days: u32,

    /// Remove accounts from WHM (with their files!) once expired this many
    /// days. Off unless set.
    #[arg(long, env = "HOSTR_TERMINATE_AFTER_DAYS")]
    pub terminate_after_days: Option<u32>,

    /// Tests only: look up every NIP-05 identifier on this plain-HTTP server
    /// on this machine (e.g. http://127.0.0.1:9000) instead of the web.
    #[arg(long, env = "HOSTR_TEST_NIP05_SERVER", hide = true)]
    pub test_nip05_server: Option<String>,
}

impl ServeArgs {
    /// The settings of `serve` from the environment and the defaults alone.
    pub fn from_env() -> ServeArgs {
        ServeArgs::parse_from(["hostr"])
    }

    pub(super) fn parse_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(args: I) -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(args).serve
    }
}
