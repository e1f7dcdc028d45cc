//! Command-line flags with environment overrides, validated once at
//! start-up into [`Config`], which is then passed explicitly.
//!
//! - `args.rs`: the clap tree (`Cli` and the subcommands).
//! - `serve_args.rs`: `ServeArgs`, the settings of `serve`, each number with
//!   its range declared on its flag (`limits.rs`).
//! - `public_url.rs`: `PublicUrl`, the site's origin.
//! - `secrets.rs`: what is read from the environment only (Strike, WHM, the
//!   session secret).
//! - `servers.rs`: the WHM servers, `WHM_URL`'s and those of `database/servers/`.
//! - here: `Config`, the checked settings of `serve`.

mod args;
mod limits;
mod public_url;
mod secrets;
mod serve_args;
pub mod servers;

use crate::operator_key::OperatorKey;
pub use args::{
    AccountCommand, Cli, Command, CustomerCommand, OperatorCommand, OutboxCommand, PaymentCommand, PlanAddArgs,
    PlanCommand, PlanEditArgs, StrikeCommand, WhmCommand,
};
pub use public_url::PublicUrl;
pub use secrets::{StrikeSettings, WhmSettings};
pub use serve_args::ServeArgs;

use crate::provisioning::Schedule;
use crate::provisioning::first_steps::ServerFacts;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How customers reach the operator; shown on the pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// `npub1…`.
    pub npub: Option<String>,
    pub email: Option<String>,
}

/// What the operator's Nostr profile (kind 0) says; `website` is the public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorProfile {
    pub name: String,
    pub about: String,
    pub picture: String,
    pub nip05: Option<String>,
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
    /// The console's keys (`--admin-npubs`, lowercase hex) and how long their
    /// sign-in lasts; no keys, no console.
    pub admins: Vec<String>,
    pub admin_session_lifetime: Duration,
    /// How often the record folders are compared for hand edits, for the
    /// audit log (2 s; no flag).
    pub hand_edit_check: Duration,
    pub deletion_grace: Duration,
    pub challenge_lifetime: Duration,
    pub challenge_rate: u32,
    pub trust_forwarded_for: bool,
    /// The session signing secret from `HOSTR_SESSION_SECRET`, if set; else
    /// one is generated and kept in the database folder.
    pub session_secret: Option<String>,
    /// The operator's key from `HOSTR_OPERATOR_NSEC`, if set; else the one
    /// kept in the database folder (see `operator_key`).
    pub operator_key: Option<OperatorKey>,
    pub test_nip05_server: Option<String>,
    pub invoice_lifetime: Duration,
    /// How long a sandbox quote lasts: a minute, as Strike's do. Not a
    /// flag; tests shorten it to see quotes expire.
    pub sandbox_quote_lifetime: Duration,
    /// Purchases one customer may have open at once.
    pub max_open_purchases: u32,
    pub payment_poll_interval: Duration,
    /// Strike, when `STRIKE_API_KEY` is set; otherwise sandbox payments.
    pub strike: Option<StrikeSettings>,
    /// WHM, when `WHM_URL` is set; otherwise the sandbox panel.
    pub whm: Option<WhmSettings>,
    pub schedule: Schedule,
    pub contact: Contact,
    /// `--relays` and how relays are talked to.
    pub relays: crate::relay::RelaySettings,
    pub operator_profile: OperatorProfile,
    /// How often plan files are compared with their published listings, so
    /// a hand edit reaches relays within it (10 s; no flag: tests shorten it).
    pub listing_check: Duration,
    /// What customers are told about the hosting server (first steps).
    pub server: ServerFacts,
    /// Relays a remote signer answers through (`--signer-relays`).
    pub signer_relays: Vec<String>,
    /// The operator's business as printed on receipts.
    pub seller: crate::receipt::Seller,
    /// `--publish-receipts`.
    pub publish_receipts: bool,
    pub notices: NoticeSettings,
    /// Automatic renewal through a customer's wallet (NIP-47).
    pub auto_renew: crate::nwc::RenewSettings,
}

/// The notices worker's settings.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub reminder_days: Vec<u32>,
    pub cycle: Duration,
    pub templates: crate::notices::templates::Templates,
    /// `npub1…` of the operator's personal key.
    pub operator_npub: Option<String>,
    pub operator_email: Option<String>,
    /// `HOSTR_SMTP_URL` and `HOSTR_SMTP_FROM`; no email without them.
    pub smtp: Option<crate::notices::email::SmtpSettings>,
}

impl Config {
    /// Checks what no single flag can: the public URL against the listen
    /// address, the secrets, and which sandboxes may run together.
    pub fn from_args(database: PathBuf, args: &ServeArgs) -> Result<Config, String> {
        let public_url = match &args.public_url {
            Some(url) => url.clone(),
            None => PublicUrl::parse(&format!("http://{}", args.listen))?,
        };
        let session_secret = secrets::session_secret()?;
        let (strike, whm) = upstreams(args, &public_url, &database)?;
        const DAY: u64 = 24 * 60 * 60;
        let picture = args.operator_picture.clone().unwrap_or_else(|| format!("{}/favicon.svg", public_url.origin()));
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
            admins: args.admin_npubs.iter().filter(|k| !k.is_empty()).cloned().collect(),
            admin_session_lifetime: Duration::from_secs(u64::from(args.admin_session_hours) * 60 * 60),
            hand_edit_check: Duration::from_secs(2),
            deletion_grace: Duration::from_secs(u64::from(args.deletion_grace_days) * DAY),
            challenge_lifetime: Duration::from_secs(args.challenge_lifetime),
            challenge_rate: args.challenge_rate,
            trust_forwarded_for: args.trust_forwarded_for,
            session_secret,
            operator_key: OperatorKey::from_env()?,
            test_nip05_server: args.test_nip05_server.clone(),
            invoice_lifetime: Duration::from_secs(u64::from(args.invoice_minutes) * 60),
            sandbox_quote_lifetime: crate::checkout::sandbox::QUOTE_LIFETIME,
            max_open_purchases: args.max_open_purchases,
            payment_poll_interval: Duration::from_secs(args.payment_poll_seconds),
            schedule: schedule(args),
            contact: Contact { npub: args.contact_npub.clone(), email: args.contact_email.clone() },
            relays: crate::relay::RelaySettings {
                relays: dedup(&args.relays),
                allow_private: args.allow_private_relays,
                timing: crate::relay::Timing::default(),
            },
            operator_profile: OperatorProfile {
                name: args.operator_name.trim().to_owned(),
                about: args.operator_about.trim().to_owned(),
                picture,
                nip05: args.operator_nip05.clone(),
            },
            listing_check: Duration::from_secs(10),
            server: ServerFacts {
                ip: args.server_ip,
                nameservers: args.nameservers.clone(),
                // Without it, `App` names the WHM host's cPanel port.
                cpanel_url: args.cpanel_url.clone(),
            },
            signer_relays: args.signer_relays.clone(),
            strike,
            whm,
            notices: notice_settings(args)?,
            seller: args.seller(),
            publish_receipts: args.publish_receipts,
            auto_renew: crate::nwc::RenewSettings {
                days: args.auto_renew_days,
                attempts: args.auto_renew_attempts,
                wait: Duration::from_secs(args.auto_renew_wait_seconds),
                ..crate::nwc::RenewSettings::default()
            },
        })
    }

    /// Settings for a server on `listen` over `database`, as tests and
    /// benchmarks want them: the defaults of every flag.
    pub fn for_database(database: PathBuf, listen: SocketAddr) -> Config {
        let args = ServeArgs::try_parse_from(["hostr", "--listen", &listen.to_string()]).expect("the defaults parse");
        Config::from_args(database, &args).expect("the defaults are valid")
    }
}

/// The relays once each, in the order given.
fn dedup(relays: &[crate::relay::RelayAddress]) -> Vec<crate::relay::RelayAddress> {
    let mut unique: Vec<crate::relay::RelayAddress> = Vec::new();
    for relay in relays {
        if !unique.contains(relay) {
            unique.push(relay.clone());
        }
    }
    unique
}

/// Strike and WHM from the environment, refused in the pairs where a sandbox
/// would give something away: free hosting on a public site, or real money
/// for a sandbox account.
fn upstreams(
    args: &ServeArgs,
    public_url: &PublicUrl,
    database: &std::path::Path,
) -> Result<(Option<StrikeSettings>, Option<WhmSettings>), String> {
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
    let records = crate::store::Store::has_records::<crate::whm_server::WhmServer>(database);
    if strike.is_some() && whm.is_none() && !records && !args.allow_sandbox_whm {
        return Err("STRIKE_API_KEY is set but neither WHM_URL nor a server record (servers/*.json) is: real payments would buy sandbox accounts. \
             Set WHM_URL and WHM_API_TOKEN, or pass --allow-sandbox-whm"
            .to_owned());
    }
    Ok((strike, whm))
}

fn notice_settings(args: &ServeArgs) -> Result<NoticeSettings, String> {
    let templates = crate::notices::templates::Templates::load(args.notice_templates.as_deref())?;
    Ok(NoticeSettings {
        reminder_days: args.reminder_days.0.clone(),
        cycle: Duration::from_secs(args.notice_check_seconds),
        templates,
        operator_npub: args.operator_npub.clone(),
        operator_email: args.operator_email.clone(),
        smtp: crate::notices::email::SmtpSettings::from_env()?,
    })
}

/// The accounts worker's timing, from flags whose ranges clap has checked.
fn schedule(args: &ServeArgs) -> Schedule {
    Schedule {
        cycle: Duration::from_secs(args.account_check_seconds),
        whm_refresh: Duration::from_secs(args.whm_refresh_seconds),
        usage: Duration::from_secs(60 * args.usage_minutes),
        expiry_grace: chrono::Duration::days(args.expiry_grace_days.into()),
        terminate_after: args.terminate_after_days.map(|days| chrono::Duration::days(days.into())),
        ..Schedule::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serve`'s settings from these flags, refused by clap or by `from_args`.
    fn settings(flags: &[&str]) -> Result<Config, String> {
        let args = ServeArgs::try_parse_from(["hostr"].iter().chain(flags)).map_err(|refused| refused.to_string())?;
        Config::from_args(PathBuf::from("db"), &args)
    }

    #[test]
    fn out_of_range_settings_are_refused_at_start() {
        assert!(settings(&[]).is_ok());
        assert!(settings(&["--workers", "0"]).is_err());
        assert!(settings(&["--max-body", "10"]).is_err());
        assert!(settings(&["--public-url", "example.com"]).is_err());
    }

    #[test]
    fn relays_are_a_comma_separated_list_checked_at_start() {
        let config = settings(&["--relays", "wss://a.example/,ws://127.0.0.1:7777,wss://a.example"]).unwrap();
        let urls: Vec<&str> = config.relays.relays.iter().map(|r| r.as_str()).collect();
        assert_eq!(urls, ["wss://a.example", "ws://127.0.0.1:7777"]);
        assert!(settings(&[]).unwrap().relays.relays.is_empty(), "none by default");
        let refused = settings(&["--relays", "ws://relay.example.com"]).unwrap_err();
        assert!(refused.contains("only for a relay on this machine"), "{refused}");
        assert!(settings(&["--operator-nip05", "nobody"]).is_err());
    }

    #[test]
    fn the_hosting_servers_facts_are_checked_and_kept() {
        let config =
            settings(&["--server-ip", "203.0.113.7", "--nameservers", "NS1.Example.com,ns2.example.com."]).unwrap();
        assert_eq!(config.server.ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(config.server.nameservers, ["ns1.example.com", "ns2.example.com"]);
        assert!(settings(&["--server-ip", "server.example"]).is_err());
        assert!(settings(&["--nameservers", "ns1"]).is_err());
        assert!(settings(&["--cpanel-url", "cpanel.example"]).is_err());
        assert_eq!(settings(&[]).unwrap().signer_relays, ["wss://relay.nsec.app", "wss://relay.damus.io"]);
        let local = settings(&["--signer-relays", "ws://127.0.0.1:7777"]).unwrap().signer_relays;
        assert_eq!(local, ["ws://127.0.0.1:7777"]);
        assert!(settings(&["--signer-relays", "ws://relay.example.com"]).is_err());
        let url = settings(&["--cpanel-url", "https://cp.example:2083/"]).unwrap().server.cpanel_url;
        assert_eq!(url.as_deref(), Some("https://cp.example:2083/"));
    }

    #[test]
    fn every_range_is_refused_in_the_words_it_always_had() {
        let cases = [
            ("--workers", "0", "--workers must be between 1 and 256, not 0"),
            ("--max-connections", "15", "--max-connections must be between 16 and 100000, not 15"),
            ("--header-timeout", "0", "--header-timeout must be between 1 and 300 seconds, not 0"),
            ("--max-body", "10", "--max-body must be between 1 KiB and 16 MiB, not 10"),
            ("--session-days", "0", "--session-days must be between 1 and 365, not 0"),
            ("--deletion-grace-days", "3651", "--deletion-grace-days must be at most 3650, not 3651"),
            (
                "--test-nip05-server",
                "http://x",
                "'--test-nip05-server <TEST_NIP05_SERVER>': must be http://127.0.0.1:PORT",
            ),
            ("--invoice-minutes", "4", "--invoice-minutes must be between 5 and 1440, not 4"),
            ("--payment-poll-seconds", "1", "--payment-poll-seconds must be between 2 and 3600, not 1"),
            ("--max-open-purchases", "0", "--max-open-purchases must be between 1 and 100, not 0"),
            ("--challenge-lifetime", "901", "--challenge-lifetime must be between 1 and 900 seconds, not 901"),
            ("--challenge-rate", "0", "--challenge-rate must be at least 1"),
            ("--account-check-seconds", "0", "--account-check-seconds must be between 1 and 3600, not 0"),
            ("--whm-refresh-seconds", "9", "--whm-refresh-seconds must be between 10 and 86400, not 9"),
            ("--usage-minutes", "0", "--usage-minutes must be between 1 and 10080, not 0"),
            ("--expiry-grace-days", "366", "--expiry-grace-days must be between 0 and 365, not 366"),
            ("--terminate-after-days", "0", "--terminate-after-days must be between 1 and 3650, not 0"),
            ("--public-url", "example.com", "the public URL `example.com` has no scheme"),
            ("--reminder-days", "7,0", "`0` is not a number of days from 1 to 60"),
            ("--notice-check-seconds", "0", "--notice-check-seconds must be between 1 and 3600, not 0"),
            ("--workers", "many", "invalid value 'many' for '--workers <WORKERS>': invalid digit found in string"),
        ];
        for (flag, value, words) in cases {
            let refused = settings(&[flag, value]).unwrap_err();
            assert!(refused.contains(words), "{flag} {value}: {refused}");
        }
    }

    #[test]
    fn the_edges_of_every_range_are_accepted() {
        let edges = [
            ["--workers", "256", "--max-connections", "16", "--header-timeout", "300", "--max-body", "1024"],
            [
                "--session-days",
                "365",
                "--deletion-grace-days",
                "0",
                "--invoice-minutes",
                "1440",
                "--challenge-rate",
                "1",
            ],
            [
                "--payment-poll-seconds",
                "2",
                "--challenge-lifetime",
                "900",
                "--usage-minutes",
                "10080",
                "--whm-refresh-seconds",
                "10",
            ],
            [
                "--account-check-seconds",
                "3600",
                "--expiry-grace-days",
                "365",
                "--terminate-after-days",
                "3650",
                "--max-body",
                "16777216",
            ],
            ["--max-open-purchases", "1", "--workers", "1", "--session-days", "1", "--challenge-lifetime", "1"],
            ["--max-open-purchases", "100", "--workers", "2", "--session-days", "2", "--challenge-lifetime", "2"],
        ];
        for flags in edges {
            assert!(settings(&flags).is_ok(), "{flags:?}: {:?}", settings(&flags).err());
        }
    }
}
