//! Reconciling: bringing WHM in line with the files, as far as hostr may.
//! [`lifecycle::reconcile`] decides from the cached view what differs; this
//! file carries the decisions out (suspend, unsuspend; packages in
//! `package.rs`) and reports the
//! differences hostr must not fix by itself ("drift"), each once in the log.
//!
//! Each WHM server is compared with the accounts that live on it, against
//! its own view; an account on a server that is not configured is reported.
//!
//! Invariants: hostr only lifts suspensions it made (reason `hostr:`); an
//! account whose username hosts another domain on WHM is never touched; a
//! change WHM refused is held back by the gateway rather than sent every pass.

use super::hosts::Host;
use super::lifecycle::{self, Action};
use super::panel::PanelError;
use super::{CycleReport, Provisioner, ProvisioningError};
use crate::cpanel_account::CpanelAccount;
use crate::customer::{Customer, CustomerStatus};
use crate::store::StoreResult;
use std::collections::{HashMap, HashSet};

impl Provisioner {
    /// Compares one WHM server with the files (both read anew) without
    /// running the rest of a cycle: `hostr whm sync`. With `fix`, suspends
    /// and unsuspends what differs. Also returns the accounts on that WHM
    /// that hostr does not know (on that server or any other).
    pub fn sync(&self, server_id: &str, fix: bool) -> Result<(CycleReport, Vec<String>), ProvisioningError> {
        let host = self.host(server_id).ok_or_else(|| ProvisioningError::UnknownServer(server_id.to_owned()))?;
        let accounts = host.gateway.call(|panel| panel.list_accounts())?;
        let ours = self.store.list_readable::<CpanelAccount>()?;
        let known: HashSet<&str> =
            ours.iter().filter(|a| a.server() == server_id).map(|a| a.username.as_str()).collect();
        let foreign = accounts
            .iter()
            .filter(|w| !known.contains(w.username.as_str()))
            .map(|w| format!("{} ({})", w.username, w.domain))
            .collect();
        host.view().read(accounts);
        let mut report = CycleReport::default();
        let on_it: Vec<CpanelAccount> = ours.into_iter().filter(|a| a.server() == server_id).collect();
        self.reconcile_host(host, &on_it, &mut report, fix);
        report.drift.sort();
        Ok((report, foreign))
    }

    /// Brings every WHM server in line with the files, as far as hostr may.
    pub(super) fn reconcile(&self, accounts: &[CpanelAccount], report: &mut CycleReport, execute: bool) {
        let mut drift = HashMap::new();
        for account in accounts.iter().filter(|a| self.host(a.server()).is_none()) {
            if lifecycle::suspension(account, CustomerStatus::Active) != lifecycle::Suspension::NotOnPanel {
                let problem =
                    format!("{} is on WHM server `{}`, which is not configured", account.username, account.server());
                drift.insert(account.id.clone(), problem);
            }
        }
        for host in self.hosts.iter().filter(|h| h.view().is_read()) {
            let on_it: Vec<&CpanelAccount> = accounts.iter().filter(|a| a.server() == host.id).collect();
            drift.extend(self.reconcile_on(host, on_it, report, execute));
        }
        report.drift = drift.values().cloned().collect();
        report.drift.sort();
        if execute {
            self.log_new_drift(drift);
        }
    }

    /// `reconcile` on one server alone (for `sync`).
    fn reconcile_host(&self, host: &Host, accounts: &[CpanelAccount], report: &mut CycleReport, execute: bool) {
        let drift = self.reconcile_on(host, accounts.iter().collect(), report, execute);
        report.drift = drift.into_values().collect();
    }

    /// Brings one server in line with its accounts' files; without
    /// `execute`, only says what it would do (in `report.planned`).
    /// Returns the drift found, by account id.
    fn reconcile_on(
        &self,
        host: &Host,
        accounts: Vec<&CpanelAccount>,
        report: &mut CycleReport,
        execute: bool,
    ) -> HashMap<String, String> {
        let owners = match self.inactive_customers() {
            Ok(owners) => owners,
            Err(e) => {
                log::error!("cannot read customers' status: {e}");
                return HashMap::new();
            }
        };
        let with_owner =
            accounts.iter().map(|&a| (a, owners.get(&a.customer_id).copied().unwrap_or(CustomerStatus::Active)));
        let actions = lifecycle::reconcile(with_owner, host.view().accounts());
        let mut drift = HashMap::new();
        for action in actions {
            match action {
                Action::Drift { account_id, problem, .. } => {
                    drift.insert(account_id, problem);
                }
                Action::Suspend { username, reason, .. } if !execute => {
                    report.planned.push(format!("would suspend {username}: {reason}"));
                }
                Action::Unsuspend { username, .. } if !execute => {
                    report.planned.push(format!("would unsuspend {username}"));
                }
                action => self.apply(host, action, report, &mut drift),
            }
        }
        self.reconcile_packages(host, &accounts, report, &mut drift, execute);
        drift
    }

    /// Suspends or unsuspends one account in WHM, unless WHM is down this
    /// pass or refused this account a moment ago.
    fn apply(&self, host: &Host, action: Action, report: &mut CycleReport, drift: &mut HashMap<String, String>) {
        let (account_id, username, suspension) = match action {
            Action::Suspend { account_id, username, reason } => (account_id, username, Some(reason)),
            Action::Unsuspend { account_id, username } => (account_id, username, None),
            Action::Drift { .. } => return,
        };
        let gateway = &host.gateway;
        if gateway.is_down() || gateway.is_held_back(&account_id) {
            return;
        }
        let done = gateway.call(|panel| match &suspension {
            Some(reason) => panel.suspend(&username, reason),
            None => panel.unsuspend(&username),
        });
        if let Err(e) = done {
            return self.action_failed(host, &account_id, &username, e, drift);
        }
        match &suspension {
            Some(reason) => {
                log::info!("account {username} suspended in WHM: {reason}");
                report.suspended += 1;
            }
            None => {
                log::info!("account {username} unsuspended in WHM");
                report.unsuspended += 1;
            }
        }
        gateway.accepted(&account_id);
        host.view().mark(&username, suspension);
    }

    fn action_failed(
        &self,
        host: &Host,
        account_id: &str,
        username: &str,
        error: PanelError,
        drift: &mut HashMap<String, String>,
    ) {
        if error.is_missing_account() {
            host.view().forget(username);
            drift.insert(account_id.to_owned(), format!("{username} does not exist on WHM"));
            return;
        }
        // An outage or a refused token already holds back all of WHM's work.
        if matches!(error, PanelError::Unreachable(_) | PanelError::Auth(_)) {
            log::warn!("account {username}: {error}; trying again next pass");
            return;
        }
        let wait = host.gateway.hold_back(account_id);
        log::warn!("account {username}: {error}; trying again in {}s", wait.as_secs());
    }

    /// Logs the differences not logged before; forgets those that are gone,
    /// so one that comes back is logged again.
    fn log_new_drift(&self, drift: HashMap<String, String>) {
        let mut known = self.drift.lock().unwrap_or_else(|p| p.into_inner());
        for (account_id, problem) in &drift {
            if known.get(account_id) != Some(problem) {
                log::warn!("drift between the files and WHM: {problem}");
            }
        }
        *known = drift;
    }

    /// Customers whose accounts must stay suspended, by id.
    fn inactive_customers(&self) -> StoreResult<HashMap<String, CustomerStatus>> {
        let mut owners = HashMap::new();
        for status in [CustomerStatus::Suspended, CustomerStatus::Deleted] {
            for customer in self.store.find_all(Customer::by_status(status))? {
                owners.insert(customer.id, customer.status);
            }
        }
        Ok(owners)
    }
}
