//! Command-line flags with environment overrides, validated once at
//! start-up into [`Config`], which is then passed explicitly.

use crate::provisioning::Schedule;
use crate::whm::WhmTls;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

/// Strike settings, from the environment only: they are secrets.
#[derive(Clone)]
pub struct StrikeSettings {
    pub api_key: String,
    pub api_url: String,
    pub webhook_secret: Option<String>,
    /// How long one call to Strike may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for StrikeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrikeSettings").field("api_url", &self.api_url).finish_non_exhaustive()
    }
}

impl StrikeSettings {
    /// Reads `STRIKE_API_KEY`, `STRIKE_API_URL` and `STRIKE_WEBHOOK_SECRET`.
    pub fn from_env() -> Result<Option<StrikeSettings>, String> {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(api_key) = var("STRIKE_API_KEY") else {
            return Ok(None);
        };
        let api_url = var("STRIKE_API_URL").unwrap_or_else(|| crate::strike::PRODUCTION_URL.to_owned());
        if !(api_url.starts_with("https://") || api_url.starts_with("http://127.0.0.1:")) {
            return Err(format!("STRIKE_API_URL `{api_url}` must be an https:// URL"));
        }
        let webhook_secret = var("STRIKE_WEBHOOK_SECRET");
        if webhook_secret.as_ref().is_some_and(|s| !(10..=50).contains(&s.len())) {
            return Err("STRIKE_WEBHOOK_SECRET must be 10 to 50 characters (Strike's rule)".to_owned());
        }
        Ok(Some(StrikeSettings { api_key, api_url, webhook_secret, timeout: Duration::from_secs(15) }))
    }
}

/// WHM settings, from the environment only: the token is a secret.
#[derive(Clone)]
pub struct WhmSettings {
    pub url: String,
    pub user: String,
    pub token: String,
    pub tls: WhmTls,
    /// For every call but the two below.
    pub timeout: Duration,
    /// For `createacct` and `removeacct`, which take minutes on a busy server.
    pub create_timeout: Duration,
}

impl std::fmt::Debug for WhmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhmSettings").field("url", &self.url).field("user", &self.user).finish_non_exhaustive()
    }
}

impl WhmSettings {
    pub fn client(&self) -> Result<crate::whm::WhmClient, String> {
        crate::whm::WhmClient::with_timeouts(
            &self.url,
            &self.user,
            &self.token,
            &self.tls,
            self.timeout,
            self.create_timeout,
        )
    }

    /// Reads `WHM_URL`, `WHM_USER` (default `root`), `WHM_API_TOKEN`, and
    /// `WHM_CA_FILE` or `WHM_TLS_INSECURE=1` for a self-signed certificate.
    pub fn from_env() -> Result<Option<WhmSettings>, String> {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(url) = var("WHM_URL") else {
            if var("WHM_API_TOKEN").is_some() {
                return Err("WHM_API_TOKEN is set but WHM_URL is not (e.g. https://server.example.com:2087)".to_owned());
            }
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://127.0.0.1:")) {
            return Err(format!("WHM_URL `{url}` must be an https:// URL such as https://server.example.com:2087"));
        }
        let token = var("WHM_API_TOKEN").ok_or("WHM_URL is set but WHM_API_TOKEN is not")?;
        let tls = match (var("WHM_CA_FILE"), var("WHM_TLS_INSECURE").as_deref()) {
            (Some(_), Some("1")) => return Err("set WHM_CA_FILE or WHM_TLS_INSECURE=1, not both".to_owned()),
            (Some(file), _) => WhmTls::CaFile(file.into()),
            (None, Some("1")) => WhmTls::Insecure,
            (None, None | Some("0")) => WhmTls::Verify,
            (None, Some(other)) => return Err(format!("WHM_TLS_INSECURE must be 1 or 0, not `{other}`")),
        };
        Ok(Some(WhmSettings {
            url,
            user: var("WHM_USER").unwrap_or_else(|| "root".to_owned()),
            token,
            tls,
            timeout: crate::whm::SHORT_TIMEOUT,
            create_timeout: crate::whm::LONG_TIMEOUT,
        }))
    }
}

/// The server's settings, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: PublicUrl,
    pub database: PathBuf,
    pub public_dir: PathBuf,
    pub workers: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub max_body: usize,
    pub session_lifetime: Duration,
    pub deletion_grace: Duration,
    pub challenge_lifetime: Duration,
    pub challenge_rate: u32,
    pub trust_forwarded_for: bool,
    /// The session signing secret from `HOSTR_SESSION_SECRET`, if set; else
    /// one is generated and kept in the database folder.
    pub session_secret: Option<String>,
    pub test_nip05_server: Option<String>,
    pub invoice_lifetime: Duration,
    pub payment_poll_interval: Duration,
    /// Strike, when `STRIKE_API_KEY` is set; otherwise sandbox payments.
    pub strike: Option<StrikeSettings>,
    /// WHM, when `WHM_URL` is set; otherwise the sandbox panel.
    pub whm: Option<WhmSettings>,
    pub schedule: Schedule,
}

impl Config {
    pub fn from_args(database: PathBuf, args: &ServeArgs) -> Result<Config, String> {
        let public_url = match &args.public_url {
            Some(url) => PublicUrl::parse(url)?,
            None => PublicUrl::parse(&format!("http://{}", args.listen))?,
        };
        if !(1..=256).contains(&args.workers) {
            return Err(format!("--workers must be between 1 and 256, not {}", args.workers));
        }
        if !(16..=100_000).contains(&args.max_connections) {
            return Err(format!("--max-connections must be between 16 and 100000, not {}", args.max_connections));
        }
        if !(1..=300).contains(&args.header_timeout) {
            return Err(format!("--header-timeout must be between 1 and 300 seconds, not {}", args.header_timeout));
        }
        if !(1024..=16 * 1024 * 1024).contains(&args.max_body) {
            return Err(format!("--max-body must be between 1 KiB and 16 MiB, not {}", args.max_body));
        }
        if !(1..=365).contains(&args.session_days) {
            return Err(format!("--session-days must be between 1 and 365, not {}", args.session_days));
        }
        if args.deletion_grace_days > 3650 {
            return Err(format!("--deletion-grace-days must be at most 3650, not {}", args.deletion_grace_days));
        }
        if let Some(server) = &args.test_nip05_server
            && !server.starts_with("http://127.0.0.1:")
        {
            return Err("--test-nip05-server must be http://127.0.0.1:PORT".to_owned());
        }
        if !(5..=24 * 60).contains(&args.invoice_minutes) {
            return Err(format!("--invoice-minutes must be between 5 and 1440, not {}", args.invoice_minutes));
        }
        if !(2..=3600).contains(&args.payment_poll_seconds) {
            return Err(format!(
                "--payment-poll-seconds must be between 2 and 3600, not {}",
                args.payment_poll_seconds
            ));
        }
        if !(1..=900).contains(&args.challenge_lifetime) {
            return Err(format!(
                "--challenge-lifetime must be between 1 and 900 seconds, not {}",
                args.challenge_lifetime
            ));
        }
        if args.challenge_rate == 0 {
            return Err("--challenge-rate must be at least 1".to_owned());
        }
        let session_secret = std::env::var("HOSTR_SESSION_SECRET").ok().filter(|s| !s.is_empty());
        if session_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err("HOSTR_SESSION_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)".to_owned());
        }
        let strike = StrikeSettings::from_env()?;
        if strike.is_none() && public_url.is_https() && !args.allow_sandbox_payments {
            return Err(format!(
                "{} is a public https site but STRIKE_API_KEY is not set: set it, or pass \
                 --allow-sandbox-payments to run a demo where nothing is paid for real",
                public_url.origin()
            ));
        }
        let whm = WhmSettings::from_env()?;
        if let Some(whm) = &whm {
            whm.client()?; // reads and checks WHM_CA_FILE now rather than at the first call
        }
        if strike.is_some() && whm.is_none() && !args.allow_sandbox_whm {
            return Err("STRIKE_API_KEY is set but WHM_URL is not: real payments would buy sandbox accounts. \
                 Set WHM_URL and WHM_API_TOKEN, or pass --allow-sandbox-whm"
                .to_owned());
        }
        let schedule = Schedule {
            cycle: Duration::from_secs(in_range("--account-check-seconds", args.account_check_seconds, 1..=3600)?),
            whm_refresh: Duration::from_secs(in_range("--whm-refresh-seconds", args.whm_refresh_seconds, 10..=86_400)?),
            usage: Duration::from_secs(60 * in_range("--usage-minutes", args.usage_minutes, 1..=7 * 24 * 60)?),
            expiry_grace: chrono::Duration::days(in_range(
                "--expiry-grace-days",
                args.expiry_grace_days.into(),
                0..=365,
            )? as i64),
            terminate_after: args
                .terminate_after_days
                .map(|days| in_range("--terminate-after-days", days.into(), 1..=3650))
                .transpose()?
                .map(|days| chrono::Duration::days(days as i64)),
            ..Schedule::default()
        };
        const DAY: u64 = 24 * 60 * 60;
        Ok(Config {
            listen: args.listen,
            public_url,
            database,
            public_dir: args.public_dir.clone(),
            workers: args.workers,
            max_connections: args.max_connections,
            header_timeout: Duration::from_secs(args.header_timeout),
            max_body: args.max_body,
            session_lifetime: Duration::from_secs(u64::from(args.session_days) * DAY),
            deletion_grace: Duration::from_secs(u64::from(args.deletion_grace_days) * DAY),
            challenge_lifetime: Duration::from_secs(args.challenge_lifetime),
            challenge_rate: args.challenge_rate,
            trust_forwarded_for: args.trust_forwarded_for,
            session_secret,
            test_nip05_server: args.test_nip05_server.clone(),
            invoice_lifetime: Duration::from_secs(u64::from(args.invoice_minutes) * 60),
            payment_poll_interval: Duration::from_secs(args.payment_poll_seconds),
            strike,
            whm,
            schedule,
        })
    }

    /// Settings for a server on `listen` over `database`, as tests and
    /// benchmarks want them: the defaults of every flag.
    pub fn for_database(database: PathBuf, listen: SocketAddr) -> Config {
        let args = ServeArgs::parse_from(["hostr", "--listen", &listen.to_string()]);
        Config::from_args(database, &args).expect("the defaults are valid")
    }
}

fn in_range(flag: &str, value: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{flag} must be between {} and {}, not {value}", range.start(), range.end()))
    }
}

impl ServeArgs {
    /// The settings of `serve` from the environment and the defaults alone.
    pub fn from_env() -> ServeArgs {
        ServeArgs::parse_from(["hostr"])
    }

    fn parse_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(args: I) -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(args).serve
    }
}

/// The origin customers reach the site at: scheme, host and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
}

impl PublicUrl {
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let bad = |why: &str| format!("the public URL `{url}` {why}; use a form such as https://hosting.example.com");
        let trimmed = url.trim_end_matches('/');
        let (scheme, authority) = trimmed.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("must start with http:// or https://"));
        }
        let authority_ok =
            !authority.is_empty() && authority.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !authority_ok {
            return Err(bad("must be only a scheme, a host and an optional port, without a path"));
        }
        // Browsers leave the default port out of `Origin`; so must we.
        let authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
        Ok(PublicUrl { origin: format!("{scheme}://{authority}") })
    }

    /// `scheme://host[:port]`, as browsers send it in the `Origin` header.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The exact URL sign-in events must name in their `u` tag.
    pub fn verify_url(&self) -> String {
        format!("{}/api/verify", self.origin)
    }

    /// The host (and port) part, for "Sign in to …" lines.
    pub fn host(&self) -> &str {
        self.origin.split_once("://").map_or(&self.origin, |(_, host)| host)
    }

    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(PublicUrl::parse("https://Hosting.Example.com/").unwrap().origin(), "https://hosting.example.com");
        assert!(PublicUrl::parse("http://127.0.0.1:8080").unwrap().origin() == "http://127.0.0.1:8080");
        for bad in ["hosting.example.com", "ftp://x.com", "https://x.com/shop", "https://user@x.com", "https://"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(PublicUrl::parse("https://x.com").unwrap().is_https());
        assert_eq!(PublicUrl::parse("https://x.com:443").unwrap().origin(), "https://x.com");
        assert_eq!(PublicUrl::parse("http://x.com:80/").unwrap().origin(), "http://x.com");
        assert_eq!(PublicUrl::parse("https://x.com:8443").unwrap().origin(), "https://x.com:8443");
    }

    #[test]
    fn out_of_range_settings_are_refused_at_start() {
        let args = |extra: &[&str]| {
            let mut all = vec!["hostr"];
            all.extend_from_slice(extra);
            ServeArgs::parse_from(all)
        };
        let db = PathBuf::from("db");
        assert!(Config::from_args(db.clone(), &args(&[])).is_ok());
        assert!(Config::from_args(db.clone(), &args(&["--workers", "0"])).is_err());
        assert!(Config::from_args(db.clone(), &args(&["--max-body", "10"])).is_err());
        assert!(Config::from_args(db, &args(&["--public-url", "example.com"])).is_err());
    }
}
