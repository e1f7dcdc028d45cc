//! Where cPanel accounts live: a real WHM server, or the in-process sandbox.
//! Everything above this trait is the same code for both.

use crate::whm::{WhmAccount, WhmClient, WhmResult};

pub trait HostingPanel: Send + Sync {
    /// Accounts on this panel are not real hosting.
    fn is_sandbox(&self) -> bool;
    /// `createacct`; after an unclear failure, ask [`account_summary`](Self::account_summary).
    fn create_account(
        &self,
        username: &str,
        domain: &str,
        package: &str,
        email: Option<&str>,
        password: &str,
    ) -> WhmResult<()>;
    /// The account named `username`, or `None` when there is none.
    fn account_summary(&self, username: &str) -> WhmResult<Option<WhmAccount>>;
    fn list_accounts(&self) -> WhmResult<Vec<WhmAccount>>;
    fn suspend(&self, username: &str, reason: &str) -> WhmResult<()>;
    fn unsuspend(&self, username: &str) -> WhmResult<()>;
    fn remove_account(&self, username: &str) -> WhmResult<()>;
    /// This month's transfer of every account, in bytes by username.
    fn bandwidth(&self) -> WhmResult<Vec<(String, u64)>>;
    /// A one-time cPanel login URL. Never cache, store or log it.
    fn login_url(&self, username: &str) -> WhmResult<String>;
    fn username_available(&self, username: &str) -> WhmResult<bool>;
    /// The functions the credentials may call.
    fn applist(&self) -> WhmResult<Vec<String>>;
}

impl HostingPanel for WhmClient {
    fn is_sandbox(&self) -> bool {
        false
    }

    fn create_account(
        &self,
        username: &str,
        domain: &str,
        package: &str,
        email: Option<&str>,
        password: &str,
    ) -> WhmResult<()> {
        WhmClient::create_account(self, username, domain, package, email, password)
    }

    fn account_summary(&self, username: &str) -> WhmResult<Option<WhmAccount>> {
        WhmClient::account_summary(self, username)
    }

    fn list_accounts(&self) -> WhmResult<Vec<WhmAccount>> {
        WhmClient::list_accounts(self)
    }

    fn suspend(&self, username: &str, reason: &str) -> WhmResult<()> {
        WhmClient::suspend(self, username, reason)
    }

    fn unsuspend(&self, username: &str) -> WhmResult<()> {
        WhmClient::unsuspend(self, username)
    }

    fn remove_account(&self, username: &str) -> WhmResult<()> {
        WhmClient::remove_account(self, username)
    }

    fn bandwidth(&self) -> WhmResult<Vec<(String, u64)>> {
        WhmClient::bandwidth(self)
    }

    fn login_url(&self, username: &str) -> WhmResult<String> {
        WhmClient::login_url(self, username)
    }

    fn username_available(&self, username: &str) -> WhmResult<bool> {
        WhmClient::username_available(self, username)
    }

    fn applist(&self) -> WhmResult<Vec<String>> {
        WhmClient::applist(self)
    }
}

/// The functions hostr calls, which the WHM token must be allowed.
pub const REQUIRED_FUNCTIONS: &[&str] = &[
    "createacct",
    "accountsummary",
    "listaccts",
    "suspendacct",
    "unsuspendacct",
    "removeacct",
    "showbw",
    "create_user_session",
    "verify_new_username",
];
