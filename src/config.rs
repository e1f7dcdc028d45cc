//! Command-line flags with environment overrides, validated once at
//! start-up into [`Config`], which is then passed explicitly.

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
    #[arg(
        long,
        env = "HOSTR_DATABASE",
        default_value = "./database",
        global = true
    )]
    pub database: PathBuf,

    /// Print machine-readable JSON instead of text (admin commands).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(flatten)]
    pub serve: ServeArgs,

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
}

impl Config {
    pub fn from_args(database: PathBuf, args: &ServeArgs) -> Result<Config, String> {
        let public_url = match &args.public_url {
            Some(url) => PublicUrl::parse(url)?,
            None => PublicUrl::parse(&format!("http://{}", args.listen))?,
        };
        if !(1..=256).contains(&args.workers) {
            return Err(format!(
                "--workers must be between 1 and 256, not {}",
                args.workers
            ));
        }
        if !(16..=100_000).contains(&args.max_connections) {
            return Err(format!(
                "--max-connections must be between 16 and 100000, not {}",
                args.max_connections
            ));
        }
        if !(1..=300).contains(&args.header_timeout) {
            return Err(format!(
                "--header-timeout must be between 1 and 300 seconds, not {}",
                args.header_timeout
            ));
        }
        if !(1024..=16 * 1024 * 1024).contains(&args.max_body) {
            return Err(format!(
                "--max-body must be between 1 KiB and 16 MiB, not {}",
                args.max_body
            ));
        }
        Ok(Config {
            listen: args.listen,
            public_url,
            database,
            public_dir: args.public_dir.clone(),
            workers: args.workers,
            max_connections: args.max_connections,
            header_timeout: Duration::from_secs(args.header_timeout),
            max_body: args.max_body,
        })
    }

    /// Settings for a server on `listen` over `database`, as tests and
    /// benchmarks want them: the defaults of every flag.
    pub fn for_database(database: PathBuf, listen: SocketAddr) -> Config {
        let args = ServeArgs::parse_from(["hostr", "--listen", &listen.to_string()]);
        Config::from_args(database, &args).expect("the defaults are valid")
    }
}

impl ServeArgs {
    fn parse_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(
        args: I,
    ) -> ServeArgs {
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
        let bad = |why: &str| {
            format!("the public URL `{url}` {why}; use a form such as https://hosting.example.com")
        };
        let trimmed = url.trim_end_matches('/');
        let (scheme, authority) = trimmed
            .split_once("://")
            .ok_or_else(|| bad("has no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("must start with http:// or https://"));
        }
        let authority_ok = !authority.is_empty()
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !authority_ok {
            return Err(bad(
                "must be only a scheme, a host and an optional port, without a path",
            ));
        }
        Ok(PublicUrl {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
        })
    }

    /// `scheme://host[:port]`, as browsers send it in the `Origin` header.
    pub fn origin(&self) -> &str {
        &self.origin
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
        assert_eq!(
            PublicUrl::parse("https://Hosting.Example.com/")
                .unwrap()
                .origin(),
            "https://hosting.example.com"
        );
        assert!(
            PublicUrl::parse("http://127.0.0.1:8080").unwrap().origin() == "http://127.0.0.1:8080"
        );
        for bad in [
            "hosting.example.com",
            "ftp://x.com",
            "https://x.com/shop",
            "https://user@x.com",
            "https://",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(PublicUrl::parse("https://x.com").unwrap().is_https());
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
