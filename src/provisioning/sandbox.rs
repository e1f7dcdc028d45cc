//! The sandbox panel: an in-process stand-in for WHM, used when no WHM
//! settings are given, so the whole flow can be clicked through locally.
//! It obeys WHM's username and domain rules and keeps its accounts for the
//! life of the process; at start it holds the accounts the files say exist.
//! Its single sign-on URL opens a local page that says what it is.

use super::panel::{HostingPanel, PanelAccount, PanelError, PanelResult};
use crate::cpanel_account::{AccountStatus, CpanelAccount, check_username};
use crate::plan::Plan;
use crate::store::{Store, StoreResult};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Names WHM keeps for the system (a sample of the aliases real servers reserve).
const RESERVED: &[&str] =
    &["root", "admin", "abuse", "postmaster", "mail", "ftp", "mysql", "nobody", "www", "webmaster", "cpanel"];

pub struct SandboxPanel {
    origin: String,
    accounts: Mutex<BTreeMap<String, PanelAccount>>,
}

impl SandboxPanel {
    /// A sandbox whose sign-on pages are served by the hostr at `origin`.
    pub fn new(origin: &str, existing: Vec<PanelAccount>) -> SandboxPanel {
        let accounts = existing.into_iter().map(|a| (a.username.clone(), a)).collect();
        SandboxPanel { origin: origin.to_owned(), accounts: Mutex::new(accounts) }
    }

    /// A sandbox holding, running, the accounts the files say exist on the
    /// panel (neither still PROVISIONING nor TERMINATED): what a server
    /// starting now begins with.
    pub fn holding_files(origin: &str, store: &Store) -> StoreResult<SandboxPanel> {
        let plans: std::collections::HashMap<String, String> =
            store.list_readable::<Plan>()?.into_iter().map(|p| (p.id, p.whm_package)).collect();
        // On the package hostr last put it on, else its plan's.
        let package = |a: &CpanelAccount| {
            a.whm_package.clone().or_else(|| plans.get(&a.plan_id).cloned()).unwrap_or_else(|| a.plan_id.clone())
        };
        let existing = store
            .list_readable::<CpanelAccount>()?
            .into_iter()
            .filter(|a| !matches!(a.status, AccountStatus::Provisioning | AccountStatus::Terminated))
            .map(|a| PanelAccount::new(&a.username, &a.domain, &package(&a)))
            .collect();
        Ok(SandboxPanel::new(origin, existing))
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PanelAccount>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_account<T>(
        &self,
        function: &str,
        username: &str,
        f: impl FnOnce(&mut PanelAccount) -> T,
    ) -> PanelResult<T> {
        match self.accounts().get_mut(username) {
            Some(account) => Ok(f(account)),
            None => Err(refused(function, &format!("Account “{username}” does not exist."))),
        }
    }
}

fn refused(function: &str, reason: &str) -> PanelError {
    PanelError::Refused { function: function.to_owned(), reason: reason.to_owned() }
}

impl HostingPanel for SandboxPanel {
    fn is_sandbox(&self) -> bool {
        true
    }

    fn create_account(
        &self,
        username: &str,
        domain: &str,
        package: &str,
        _email: Option<&str>,
        _password: &str,
    ) -> PanelResult<Option<String>> {
        check_username(username).map_err(|why| refused("createacct", &why))?;
        if RESERVED.contains(&username) {
            return Err(refused("createacct", &format!("“{username}” is a reserved username.")));
        }
        let mut accounts = self.accounts();
        if accounts.contains_key(username) {
            return Err(refused("createacct", &format!("This system already has an account named “{username}”.")));
        }
        if accounts.values().any(|a| a.domain == domain) {
            return Err(refused("createacct", &format!("The domain “{domain}” already exists on this server.")));
        }
        let account = PanelAccount::new(username, domain, package);
        accounts.insert(username.to_owned(), account);
        // The sandbox serves nothing: no address to point a domain at.
        Ok(None)
    }

    fn account_summary(&self, username: &str) -> PanelResult<Option<PanelAccount>> {
        Ok(self.accounts().get(username).cloned())
    }

    fn list_accounts(&self) -> PanelResult<Vec<PanelAccount>> {
        Ok(self.accounts().values().cloned().collect())
    }

    fn suspend(&self, username: &str, reason: &str) -> PanelResult<()> {
        self.with_account("suspendacct", username, |a| {
            a.suspended = true;
            a.suspend_reason = Some(reason.to_owned());
        })
    }

    fn unsuspend(&self, username: &str) -> PanelResult<()> {
        self.with_account("unsuspendacct", username, |a| {
            a.suspended = false;
            a.suspend_reason = None;
        })
    }

    fn change_package(&self, username: &str, package: &str) -> PanelResult<()> {
        self.with_account("changepackage", username, |a| a.package = package.to_owned())
    }

    fn remove_account(&self, username: &str) -> PanelResult<()> {
        self.accounts()
            .remove(username)
            .map(drop)
            .ok_or_else(|| refused("removeacct", &format!("Account “{username}” does not exist.")))
    }

    fn bandwidth(&self) -> PanelResult<Vec<(String, u64)>> {
        Ok(self.accounts().keys().map(|user| (user.clone(), 0)).collect())
    }

    fn login_url(&self, username: &str) -> PanelResult<String> {
        self.with_account("create_user_session", username, |_| ())?;
        Ok(format!("{}/sandbox-cpanel.html?user={username}", self.origin))
    }

    fn username_available(&self, username: &str) -> PanelResult<bool> {
        Ok(check_username(username).is_ok() && !RESERVED.contains(&username) && !self.accounts().contains_key(username))
    }

    /// The sandbox serves no domains: only the operator's settings name nameservers.
    fn nameservers(&self) -> PanelResult<Vec<String>> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_keeps_whm_rules() {
        let panel = SandboxPanel::new("http://127.0.0.1:8080", Vec::new());
        panel.create_account("shop", "shop.example", "basic", None, "pw").unwrap();
        assert!(matches!(
            panel.create_account("shop", "other.example", "basic", None, "pw"),
            Err(PanelError::Refused { .. })
        ));
        assert!(matches!(
            panel.create_account("shop2", "shop.example", "basic", None, "pw"),
            Err(PanelError::Refused { .. })
        ));
        assert!(panel.create_account("testing", "t.example", "basic", None, "pw").is_err());
        assert!(panel.create_account("root", "r.example", "basic", None, "pw").is_err());
        assert!(!panel.username_available("shop").unwrap());
        assert!(panel.username_available("shop3").unwrap());
        panel.suspend("shop", "hostr: unpaid").unwrap();
        assert!(panel.account_summary("shop").unwrap().unwrap().suspended);
        assert_eq!(panel.login_url("shop").unwrap(), "http://127.0.0.1:8080/sandbox-cpanel.html?user=shop");
        assert!(panel.login_url("nobody").is_err());
    }
}
