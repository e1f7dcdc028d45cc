//! Command-line flags with environment overrides, validated once at
//! start-up into [`Config`], which is then passed explicitly.
//!
//! - `args.rs`: the clap tree (`Cli`, the subcommands, `ServeArgs`).
//! - `public_url.rs`: `PublicUrl`, the site's origin.
//! - here: `Config`, the checked settings of `serve`, and the secrets read
//!   from the environment only.

mod args;
mod public_url;

pub use args::{
    AccountCommand, Cli, Command, CustomerCommand, PaymentCommand, PlanAddArgs, PlanCommand, ServeArgs, StrikeCommand,
    WhmCommand,
};
pub use public_url::PublicUrl;

use crate::provisioning::Schedule;
use crate::whm::WhmTls;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
