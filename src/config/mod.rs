//! Command-line flags with environment overrides, validated once at
//! start-up into [`Config`], which is then passed explicitly.
//!
//! - `args.rs`: the clap tree (`Cli`, the subcommands, `ServeArgs`).
//! - `public_url.rs`: `PublicUrl`, the site's origin.
//! - `secrets.rs`: what is read from the environment only (Strike, WHM, the
//!   session secret).
//! - here: `Config`, the checked settings of `serve`.

mod args;
mod public_url;
mod secrets;

pub use args::{
    AccountCommand, Cli, Command, CustomerCommand, PaymentCommand, PlanAddArgs, PlanCommand, ServeArgs, StrikeCommand,
    WhmCommand,
};
pub use public_url::PublicUrl;
pub use secrets::{StrikeSettings, WhmSettings};

use crate::provisioning::Schedule;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
        let session_secret = secrets::session_secret()?;
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
