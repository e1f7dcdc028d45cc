//! [`ServeArgs`], every setting of `serve`: its flag, its environment
//! variable, its default and its `--help` text (the README sends operators
//! to `hostr serve --help`). Each number's range is declared on its flag
//! ([`Limits`](super::limits)), so clap refuses a value out of range, from
//! the flag or the environment, before anything starts. What depends on more
//! than one setting is checked by [`Config::from_args`](super::Config::from_args).

use super::PublicUrl;
use super::limits::{at_least, at_most, between};
use clap::{Args, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "HOSTR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The public URL customers use, e.g. https://hosting.example.com. Used as
    /// the origin in sign-in events, cookies and Origin checks. Defaults to
    /// http:// + the listen address.
    #[arg(long, env = "HOSTR_PUBLIC_URL", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,

    /// Folder of the static pages.
    #[arg(long, env = "HOSTR_PUBLIC_DIR", default_value = "./public")]
    pub public_dir: PathBuf,

    /// Requests handled at once (each on the thread of its connection).
    #[arg(long, env = "HOSTR_WORKERS", default_value_t = 16, value_parser = between(1_usize, 256))]
    pub workers: usize,

    /// Connections held open at once; beyond it the longest-idle one is closed.
    #[arg(long, env = "HOSTR_MAX_CONNECTIONS", default_value_t = 1024, value_parser = between(16_usize, 100_000))]
    pub max_connections: usize,

    /// Seconds a client has to send a complete request head.
    #[arg(long, env = "HOSTR_HEADER_TIMEOUT", default_value_t = 10, value_parser = between(1_u64, 300).seconds())]
    pub header_timeout: u64,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HOSTR_MAX_BODY", default_value_t = 64 * 1024, value_parser = between(1024_usize, 16 << 20).in_words("between 1 KiB and 16 MiB"))]
    pub max_body: usize,

    /// Days a sign-in lasts before the customer must sign in again.
    #[arg(long, env = "HOSTR_SESSION_DAYS", default_value_t = 7, value_parser = between(1_u32, 365))]
    pub session_days: u32,

    /// The Nostr keys (npub1… or hex, comma-separated) allowed into the
    /// operator's console at /admin. Without any, there is no console.
    #[arg(long, env = "HOSTR_ADMIN_NPUBS", value_delimiter = ',', value_parser = admin_key)]
    pub admin_npubs: Vec<String>,

    /// Hours an operator's console sign-in lasts.
    #[arg(long, env = "HOSTR_ADMIN_SESSION_HOURS", default_value_t = 12, value_parser = between(1_u32, 24 * 7))]
    pub admin_session_hours: u32,

    /// Days a customer who deleted themselves can still recover their account.
    #[arg(long, env = "HOSTR_DELETION_GRACE_DAYS", default_value_t = 30, value_parser = at_most(3650_u32))]
    pub deletion_grace_days: u32,

    /// Seconds a sign-in challenge stays valid.
    #[arg(long, env = "HOSTR_CHALLENGE_LIFETIME", default_value_t = 300, value_parser = between(1_u64, 900).seconds())]
    pub challenge_lifetime: u64,

    /// Sign-in challenges one client address may take per minute.
    #[arg(long, env = "HOSTR_CHALLENGE_RATE", default_value_t = 30, value_parser = at_least(1_u32))]
    pub challenge_rate: u32,

    /// Take the client's address from the last X-Forwarded-For entry; set this
    /// only behind a reverse proxy that sets that header (nginx, Caddy).
    #[arg(long, env = "HOSTR_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Minutes an unpaid invoice stays open before its payment expires.
    #[arg(long, env = "HOSTR_INVOICE_MINUTES", default_value_t = 60, value_parser = between(5_u32, 24 * 60))]
    pub invoice_minutes: u32,

    /// Purchases one customer may have waiting to be paid at once; asking
    /// again for the same plan and domain reuses the open one.
    #[arg(long, env = "HOSTR_MAX_OPEN_PURCHASES", default_value_t = crate::checkout::DEFAULT_MAX_OPEN, value_parser = between(1_u32, 100))]
    pub max_open_purchases: u32,

    /// Seconds between background checks of pending payments with the provider.
    #[arg(long, env = "HOSTR_PAYMENT_POLL_SECONDS", default_value_t = 20, value_parser = between(2_u64, 3600))]
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
    #[arg(long, env = "HOSTR_ACCOUNT_CHECK_SECONDS", default_value_t = 5, value_parser = between(1_u64, 3600))]
    pub account_check_seconds: u64,

    /// Seconds after which WHM's list of accounts is read again (one `listaccts`).
    #[arg(long, env = "HOSTR_WHM_REFRESH_SECONDS", default_value_t = 60, value_parser = between(10_u64, 86_400))]
    pub whm_refresh_seconds: u64,

    /// Minutes between readings of disk and bandwidth usage.
    #[arg(long, env = "HOSTR_USAGE_MINUTES", default_value_t = 60, value_parser = between(1_u64, 7 * 24 * 60))]
    pub usage_minutes: u64,

    /// Days after `paidUntil` before an unpaid account is suspended.
    #[arg(long, env = "HOSTR_EXPIRY_GRACE_DAYS", default_value_t = 0, value_parser = between(0_u32, 365))]
    pub expiry_grace_days: u32,

    /// Remove accounts from WHM (with their files!) once expired this many
    /// days. Off unless set.
    #[arg(long, env = "HOSTR_TERMINATE_AFTER_DAYS", value_parser = between(1_u32, 3650))]
    pub terminate_after_days: Option<u32>,

    /// How customers reach you: a Nostr public key (npub1… or hex), shown in
    /// every page's footer and on suspended accounts.
    #[arg(long, env = "HOSTR_CONTACT_NPUB", value_parser = contact_npub)]
    pub contact_npub: Option<String>,

    /// How customers reach you by email, shown beside the npub.
    #[arg(long, env = "HOSTR_CONTACT_EMAIL", value_parser = contact_email)]
    pub contact_email: Option<String>,

    /// Nostr relays the operator's events are published to, comma-separated
    /// (`wss://…`; `ws://` only on this machine). None: nothing is published
    /// (the operator's profile, and what later issues add) and
    /// `/api/health` says `"relays": "off"`.
    #[arg(long, env = "HOSTR_RELAYS", value_delimiter = ',', value_parser = operator_relay)]
    pub relays: Vec<crate::relay::RelayAddress>,

    /// Let relays that customers name be ws:// on this machine or resolve to
    /// private addresses. For tests and local demos only: on a real server
    /// it lets any customer make hostr connect inside your network.
    #[arg(long, env = "HOSTR_ALLOW_PRIVATE_RELAYS")]
    pub allow_private_relays: bool,

    /// The operator's Nostr profile (kind 0): its name.
    #[arg(long, env = "HOSTR_OPERATOR_NAME", default_value = "hostr")]
    pub operator_name: String,

    /// The operator's Nostr profile: its description.
    #[arg(
        long,
        env = "HOSTR_OPERATOR_ABOUT",
        default_value = "cPanel web hosting, paid over Lightning, signed in with Nostr"
    )]
    pub operator_about: String,

    /// The operator's Nostr profile: a picture URL (default: the site's favicon).
    #[arg(long, env = "HOSTR_OPERATOR_PICTURE")]
    pub operator_picture: Option<String>,

    /// The operator's Nostr profile: a NIP-05 identifier (name@domain) that
    /// names the operator key.
    #[arg(long, env = "HOSTR_OPERATOR_NIP05", value_parser = operator_nip05)]
    pub operator_nip05: Option<String>,
    /// The hosting server's public address, shown to customers with the A
    /// (or AAAA) records that point their domain here. Without it, the
    /// address WHM reports for the account (`listaccts`).
    #[arg(long, env = "HOSTR_SERVER_IP")]
    pub server_ip: Option<std::net::IpAddr>,

    /// Nameservers customers may set at their registrar instead, comma
    /// separated (ns1.example.com,ns2.example.com). Without it, those WHM
    /// gives (`get_nameserver_config`).
    #[arg(long, env = "HOSTR_NAMESERVERS", value_delimiter = ',', value_parser = crate::provisioning::first_steps::parse_nameserver)]
    pub nameservers: Vec<String>,

    /// Where customers sign in to cPanel with a password, shown beside
    /// "Open cPanel". Without it, the WHM host on port 2083.
    #[arg(long, env = "HOSTR_CPANEL_URL", value_parser = web_address)]
    pub cpanel_url: Option<String>,

    /// Relays named in the sign-in page's nostrconnect:// QR code, through
    /// which a remote signer (NIP-46: Amber, nsec.app, …) answers; comma
    /// separated, wss:// (or ws:// to this machine).
    #[arg(long, env = "HOSTR_SIGNER_RELAYS", value_delimiter = ',', default_value = crate::auth::remote_signer::DEFAULT_RELAYS, value_parser = crate::auth::remote_signer::parse_relay)]
    pub signer_relays: Vec<String>,
    /// Days before `paidUntil` at which a renewal reminder is sent, e.g.
    /// 7,3,1. When several are already past (the server was down, a hand
    /// edit), only the nearest is sent.
    #[arg(long, env = "HOSTR_REMINDER_DAYS", default_value = "7,3,1", value_parser = reminder_days)]
    pub reminder_days: ReminderDays,

    /// Automatic renewal (wallets connected with NIP-47): how many days
    /// before `paidUntil` the customer's wallet is asked to pay.
    #[arg(long, env = "HOSTR_AUTO_RENEW_DAYS", default_value_t = 3, value_parser = between(1_u32, 60))]
    pub auto_renew_days: u32,

    /// Automatic renewal: attempts per renewal, a day apart, before the
    /// ordinary expiry notices take over.
    #[arg(long, env = "HOSTR_AUTO_RENEW_ATTEMPTS", default_value_t = 3, value_parser = between(1_u32, 10))]
    pub auto_renew_attempts: u32,

    /// Automatic renewal: seconds to wait for the wallet's answer to one request.
    #[arg(long, env = "HOSTR_AUTO_RENEW_WAIT_SECONDS", default_value_t = 30, value_parser = between(1_u64, 300))]
    pub auto_renew_wait_seconds: u64,

    /// Seconds between passes of the notices worker (plan, send, retry).
    #[arg(long, env = "HOSTR_NOTICE_CHECK_SECONDS", default_value_t = 60, value_parser = between(1_u64, 3600))]
    pub notice_check_seconds: u64,

    /// A folder of notice templates (`renewal-due.txt`, …) replacing the
    /// built-in texts; see the README.
    #[arg(long, env = "HOSTR_NOTICE_TEMPLATES")]
    pub notice_templates: Option<PathBuf>,

    /// The operator's personal Nostr key (npub1… or hex), which hears about
    /// failed orders (not the server's own key).
    #[arg(long, env = "HOSTR_OPERATOR_NPUB", value_parser = contact_npub)]
    pub operator_npub: Option<String>,

    /// The operator's email address for alerts about failed orders.
    #[arg(long, env = "HOSTR_OPERATOR_EMAIL", value_parser = contact_email)]
    pub operator_email: Option<String>,
    /// Your business's name, printed on receipts (with the address and VAT
    /// id below; all optional: without them a receipt is a simplified one).
    /// `hostr payment mark-paid` reads the same environment variables.
    #[arg(long, env = "HOSTR_BUSINESS_NAME", value_parser = business_text)]
    pub business_name: Option<String>,

    /// Your business's postal address, printed on receipts (`\n` between lines).
    #[arg(long, env = "HOSTR_BUSINESS_ADDRESS", value_parser = business_text)]
    pub business_address: Option<String>,

    /// Your VAT identification number, printed on receipts.
    #[arg(long, env = "HOSTR_BUSINESS_VAT_ID", value_parser = business_text)]
    pub business_vat_id: Option<String>,

    /// A statement printed on receipts in place of a VAT line, such as a
    /// small-business exemption.
    #[arg(long, env = "HOSTR_BUSINESS_VAT_NOTE", value_parser = business_text)]
    pub business_vat_note: Option<String>,

    /// Publish each signed receipt (kind 8110) to the operator's relays.
    /// Off by default: a receipt says who bought what. Needs --relays.
    #[arg(long, env = "HOSTR_PUBLISH_RECEIPTS")]
    pub publish_receipts: bool,

    /// Tests only: look up every NIP-05 identifier on this plain-HTTP server
    /// on this machine (e.g. http://127.0.0.1:9000) instead of the web.
    #[arg(long, env = "HOSTR_TEST_NIP05_SERVER", hide = true, value_parser = local_http_server)]
    pub test_nip05_server: Option<String>,
}

impl ServeArgs {
    /// The settings of `serve` from the environment and the defaults alone;
    /// exits as clap does when one of them is refused.
    pub fn from_env() -> ServeArgs {
        ServeArgs::try_parse_from(["hostr"]).unwrap_or_else(|refused| refused.exit())
    }

    pub(super) fn try_parse_from<I, T>(args: I) -> Result<ServeArgs, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::try_parse_from(args).map(|only| only.serve)
    }
}

/// A console key as lowercase hex; an empty entry (`HOSTR_ADMIN_NPUBS=`) is
/// left out by `Config`.
fn admin_key(text: &str) -> Result<String, String> {
    if text.trim().is_empty() { Ok(String::new()) } else { crate::customer::parse_public_key(text) }
}

/// A contact key in its `npub1…` form, whatever form it was given in.
fn contact_npub(text: &str) -> Result<String, String> {
    let hex = crate::customer::parse_public_key(text)?;
    crate::customer::npub(&hex).ok_or_else(|| format!("`{text}` is not a Nostr public key"))
}

fn contact_email(text: &str) -> Result<String, String> {
    let email = text.trim();
    crate::customer::check_email(email)?;
    Ok(email.to_owned())
}

fn operator_relay(text: &str) -> Result<crate::relay::RelayAddress, String> {
    crate::relay::RelayAddress::operator(text)
}

fn operator_nip05(text: &str) -> Result<String, String> {
    let text = text.trim().to_ascii_lowercase();
    match text.split_once('@') {
        Some((name, domain)) if !name.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace) => {
            Ok(text)
        }
        _ => Err("must be name@domain".to_owned()),
    }
}

/// An http(s) address with a host, as typed.
fn web_address(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !text.chars().any(char::is_whitespace) => {
            Ok(text.to_owned())
        }
        _ => Err(format!("`{text}` is not an http(s) address like https://server.example.com:2083/")),
    }
}

/// The reminder thresholds, in days, most distant first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDays(pub Vec<u32>);

fn reminder_days(text: &str) -> Result<ReminderDays, String> {
    let mut days = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u32>() {
            Ok(day) if (1..=60).contains(&day) => days.push(day),
            _ => return Err(format!("`{part}` is not a number of days from 1 to 60 (e.g. 7,3,1)")),
        }
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(ReminderDays(days))
}

/// A business detail for receipts: one to 500 characters, `\n` (as typed
/// in an environment file) between lines, no other control characters.
fn business_text(text: &str) -> Result<String, String> {
    let text = text.trim().replace("\\n", "\n");
    let lines: Vec<&str> = text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect();
    let joined = lines.join("\n");
    if joined.is_empty() || joined.chars().count() > 500 || joined.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must be 1 to 500 characters without control characters".to_owned());
    }
    Ok(joined)
}

impl ServeArgs {
    /// The seller's details as receipts print them.
    pub fn seller(&self) -> crate::receipt::Seller {
        crate::receipt::Seller {
            name: self.business_name.clone(),
            address: self.business_address.clone(),
            vat_id: self.business_vat_id.clone(),
            vat_note: self.business_vat_note.clone(),
        }
    }
}

/// The tests' stand-in for the web: only a server on this machine.
fn local_http_server(url: &str) -> Result<String, String> {
    if url.starts_with("http://127.0.0.1:") {
        Ok(url.to_owned())
    } else {
        Err("must be http://127.0.0.1:PORT".to_owned())
    }
}
