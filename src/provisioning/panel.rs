//! Where cPanel accounts live: a real WHM server (`crate::whm`), or the
//! in-process sandbox. Everything above this trait is the same code for both.
//!
//! The trait speaks hostr's own types: a [`PanelAccount`] is an account as
//! the panel reports it, a [`PanelError`] says whether the panel could not be
//! reached, refused the credentials, said no, or answered nonsense. Each
//! panel converts its own wire format into these at its edge; provisioning
//! never sees a WHM answer.

use std::fmt;

/// One cPanel account as the panel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelAccount {
    pub username: String,
    pub domain: String,
    /// The panel's package (WHM's `plan`), which sets quotas.
    pub package: String,
    pub suspended: bool,
    /// Who suspended it and why; hostr's own reasons start with `hostr:`.
    pub suspend_reason: Option<String>,
    pub disk_used_mb: u64,
    /// `None` is unlimited.
    pub disk_limit_mb: Option<u64>,
    /// The address the account's sites are served from (WHM's `ip`), when known.
    pub ip: Option<String>,
}

impl PanelAccount {
    /// A new account as the panel holds it right after creation: active, empty.
    pub fn new(username: &str, domain: &str, package: &str) -> PanelAccount {
        PanelAccount {
            username: username.to_owned(),
            domain: domain.to_owned(),
            package: package.to_owned(),
            suspended: false,
            suspend_reason: None,
            disk_used_mb: 0,
            disk_limit_mb: None,
            ip: None,
        }
    }
}

/// Why a panel call failed. The messages name WHM: it is the only real
/// panel, and the sandbox stands in for it with WHM's own refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelError {
    /// No usable answer: unreachable, timed out, cut off, or a server error.
    /// The call may or may not have taken effect.
    Unreachable(String),
    /// The token or user was refused: retrying will not help.
    Auth(String),
    /// The panel understood and said no, with its reason; `function` is the
    /// panel's name for the call (`createacct`).
    Refused { function: String, reason: String },
    /// An answer that is not what the panel's API promises (an HTML page, a proxy).
    Nonsense(String),
}

impl fmt::Display for PanelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelError::Unreachable(why) => write!(f, "WHM could not be reached: {why}"),
            PanelError::Auth(why) => write!(f, "WHM refused the API token: {why}"),
            PanelError::Refused { function, reason } => write!(f, "WHM {function} refused: {reason}"),
            PanelError::Nonsense(why) => write!(f, "WHM answered something unexpected: {why}"),
        }
    }
}

impl std::error::Error for PanelError {}

impl PanelError {
    /// The panel said the account does not exist.
    pub fn is_missing_account(&self) -> bool {
        matches!(self, PanelError::Refused { reason, .. } if reason.to_ascii_lowercase().contains("does not exist"))
    }
}

pub type PanelResult<T> = Result<T, PanelError>;

pub trait HostingPanel: Send + Sync {
    /// Accounts on this panel are not real hosting.
    fn is_sandbox(&self) -> bool;
    /// Creates an account and says its address when the panel does; after
    /// an unclear failure, ask [`account_summary`](Self::account_summary)
    /// before trying again.
    fn create_account(
        &self,
        username: &str,
        domain: &str,
        package: &str,
        email: Option<&str>,
        password: &str,
    ) -> PanelResult<Option<String>>;
    /// The account named `username`, or `None` when there is none.
    fn account_summary(&self, username: &str) -> PanelResult<Option<PanelAccount>>;
    /// Every account on the panel, in one call.
    fn list_accounts(&self) -> PanelResult<Vec<PanelAccount>>;
    fn suspend(&self, username: &str, reason: &str) -> PanelResult<()>;
    fn unsuspend(&self, username: &str) -> PanelResult<()>;
    /// Moves the account to another package (WHM's `changepackage`), which
    /// rewrites its quotas. After an unclear failure, ask
    /// [`account_summary`](Self::account_summary) whether it took effect.
    fn change_package(&self, username: &str, package: &str) -> PanelResult<()>;
    /// Removes the account and its files.
    fn remove_account(&self, username: &str) -> PanelResult<()>;
    /// This month's transfer of every account, in bytes by username.
    fn bandwidth(&self) -> PanelResult<Vec<(String, u64)>>;
    /// A one-time cPanel login URL. Never cache, store or log it.
    fn login_url(&self, username: &str) -> PanelResult<String>;
    /// Whether the panel would accept `username` for a new account.
    fn username_available(&self, username: &str) -> PanelResult<bool>;
    /// The nameservers the panel gives its accounts' domains (empty when it
    /// has none to give).
    fn nameservers(&self) -> PanelResult<Vec<String>>;
}
