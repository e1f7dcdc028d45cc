//! Reconciling: bringing WHM in line with the files, as far as hostr may.
//! [`lifecycle::reconcile`] decides from the cached view what differs; this
//! file carries the decisions out (suspend, unsuspend; packages in
//! `package.rs`) and reports the
//! differences hostr must not fix by itself ("drift"), each once in the log.
//!
//! Invariants: hostr only lifts suspensions it made (reason `hostr:`); an
//! account whose username hosts another domain on WHM is never touched; a
//! change WHM refused is held back by the gateway rather than sent every pass.

use super::lifecycle::{self, Action};
use super::panel::PanelError;
use super::{CycleReport, Provisioner, ProvisioningError};
use crate::cpanel_account::CpanelAccount;
use crate::customer::{Customer, CustomerStatus};
use crate::store::StoreResult;
use std::collections::{HashMap, HashSet};

impl Provisioner {
    /// Compares WHM with the files (read anew) without running the rest of
    /// a cycle: `hostr whm sync`. With `fix`, suspends and unsuspends what
    /// differs. Also returns the WHM accounts hostr does not know.
    pub fn sync(&self, fix: bool) -> Result<(CycleReport, Vec<String>), ProvisioningError> {
        let accounts = self.gateway.call(|panel| panel.list_accounts())?;
        let ours = self.store.list_readable::<CpanelAccount>()?;
        let known: HashSet<&str> = ours.iter().map(|a| a.username.as_str()).collect();
        let foreign = accounts
            .iter()
            .filter(|w| !known.contains(w.username.as_str()))
            .map(|w| format!("{} ({})", w.username, w.domain))
            .collect();
        self.view().read(accounts);
        let mut report = CycleReport::default();
        self.reconcile(&ours, &mut report, fix);
        Ok((report, foreign))
    }

    /// Brings WHM in line with the files, as far as hostr may; without
    /// `execute`, only says what it would do (in `report.planned`).
    pub(super) fn reconcile(&self, accounts: &[CpanelAccount], report: &mut CycleReport, execute: bool) {
        let owners = match self.inactive_customers() {
            Ok(owners) => owners,
            Err(e) => {
                log::error!("cannot read customers' status: {e}");
                return;
            }
        };
        let with_owner =
            accounts.iter().map(|a| (a, owners.get(&a.customer_id).copied().unwrap_or(CustomerStatus::Active)));
        let actions = lifecycle::reconcile(with_owner, self.view().accounts());
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
                action => self.apply(action, report, &mut drift),
            }
        }
        self.reconcile_packages(accounts, report, &mut drift, execute);
        report.drift = drift.values().cloned().collect();
        report.drift.sort();
        if execute {
            self.log_new_drift(drift);
        }
    }

    /// Suspends or unsuspends one account in WHM, unless WHM is down this
    /// pass or refused this account a moment ago.
    fn apply(&self, action: Action, report: &mut CycleReport, drift: &mut HashMap<String, String>) {
        let (account_id, username, suspension) = match action {
            Action::Suspend { account_id, username, reason } => (account_id, username, Some(reason)),
            Action::Unsuspend { account_id, username } => (account_id, username, None),
            Action::Drift { .. } => return,
        };
        if self.gateway.is_down() || self.gateway.is_held_back(&account_id) {
            return;
        }
        let done = self.gateway.call(|panel| match &suspension {
            Some(reason) => panel.suspend(&username, reason),
            None => panel.unsuspend(&username),
        });
        if let Err(e) = done {
            return self.action_failed(&account_id, &username, e, drift);
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
        self.gateway.accepted(&account_id);
        self.view().mark(&username, suspension);
    }

    fn action_failed(&self, account_id: &str, username: &str, error: PanelError, drift: &mut HashMap<String, String>) {
        if error.is_missing_account() {
            self.view().forget(username);
            drift.insert(account_id.to_owned(), format!("{username} does not exist on WHM"));
            return;
        }
        // An outage or a refused token already holds back all of WHM's work.
        if matches!(error, PanelError::Unreachable(_) | PanelError::Auth(_)) {
            log::warn!("account {username}: {error}; trying again next pass");
            return;
        }
        let wait = self.gateway.hold_back(account_id);
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
