//! Moving an account to another WHM package (`changepackage`), exactly once.
//!
//! The same discipline as `createacct` in `fulfil.rs`:
//! 1. the request (`packageRequest`: the package, when) is written to the
//!    account file before WHM hears of it;
//! 2. whenever a request is on file, WHM is asked first (`accountsummary`):
//!    if the account is on the package already, the request is confirmed and
//!    nothing is sent; only otherwise is `changepackage` sent (again);
//! 3. after any failure WHM is asked again before the failure is judged, so
//!    a call that WHM applied but whose answer was lost is never repeated.
//!
//! A paid plan change (`deliver_change`) writes the new plan into the file
//! first and then moves the package by the same steps, so a crash between
//! the two is finished by the next attempt or by the reconcile pass.
//!
//! Confirming writes `whmPackage` (what hostr knows WHM to hold) and clears
//! the request. A package WHM refuses (it does not exist, the token may not
//! use it) needs the operator.

use super::fulfil::Fault;
use super::fulfil::Period;
use super::hosts::Host;
use super::lifecycle::{self, PackageStep};
use super::panel::PanelError;
use super::{CycleReport, Provisioner};
use crate::cpanel_account::{CpanelAccount, PackageRequest, PeriodPrice};
use crate::payment::{Payment, PaymentKind};
use crate::plan::Plan;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use std::collections::HashMap;

impl Provisioner {
    /// Delivers a paid plan change: the account's plan (and, for a cycle
    /// change, a new period from the moment it was priced), then its WHM
    /// package. Answers the period the payment covers.
    pub(super) fn deliver_change(
        &self,
        payment: &Payment,
        plan: &Plan,
        account: &CpanelAccount,
        kind: PaymentKind,
    ) -> Result<Period, Fault> {
        let from_plan = payment.from_plan_id.as_deref().unwrap_or_default();
        if account.plan_id != from_plan && account.plan_id != plan.id {
            return Err(Fault::Stuck(format!(
                "account {} has plan {} now, neither {from_plan} nor {}: the operator changed it meanwhile",
                account.username, account.plan_id, plan.id
            )));
        }
        let now = Timestamp::now();
        let price = payment.proration.as_ref().map_or(plan.price, |p| p.price);
        let store = &self.store;
        let (account, period) = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            let period = match kind {
                PaymentKind::Upgrade => (payment.paid_at.unwrap_or(now), a.paid_until.unwrap_or(now)),
                PaymentKind::CycleChange => a.restart_period(&payment.id, payment.created_at, plan.billing_cycle),
            };
            if a.plan_id != plan.id {
                remember_package(store, a);
                a.plan_id = plan.id.clone();
                let periods = a.period_price.as_ref().filter(|_| kind == PaymentKind::Upgrade).map_or(1, |p| p.periods);
                a.period_price = Some(PeriodPrice { amount: price, currency: payment.currency.clone(), periods });
                a.scheduled_plan = None;
                a.updated_at = now;
            }
            Ok((a.clone(), period))
        })?;
        if account.whm_created_at.is_some() {
            self.change_package(self.host_of(&account)?, &account, &plan.whm_package)?;
        }
        log::info!("account {} is on plan {} ({})", account.username, plan.id, kind.as_str());
        Ok(period)
    }

    /// Moves the account to its scheduled plan once the renewal that paid
    /// for it has begun (the reconcile pass then moves the package).
    pub(super) fn switch_due_plan(&self, account: &mut CpanelAccount, now: Timestamp) {
        if !account.clone().switch_due_plan(now) {
            return;
        }
        let switched = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            remember_package(&self.store, a);
            a.switch_due_plan(now);
            Ok(a.clone())
        });
        match switched {
            Ok(switched) => {
                log::info!("account {} is on plan {} from now on", switched.username, switched.plan_id);
                *account = switched;
            }
            Err(e) => log::error!("account {}: cannot switch to its scheduled plan: {e}", account.id),
        }
    }

    /// Brings each account's WHM package in line with its plan's, as far as
    /// hostr may (`lifecycle::package_step`); without `execute`, only says
    /// what it would do. Drift goes into `drift` under `<account id>:package`.
    pub(super) fn reconcile_packages(
        &self,
        host: &Host,
        accounts: &[&CpanelAccount],
        report: &mut CycleReport,
        drift: &mut HashMap<String, String>,
        execute: bool,
    ) {
        let plans: HashMap<String, Plan> =
            self.store.list_readable::<Plan>().unwrap_or_default().into_iter().map(|p| (p.id.clone(), p)).collect();
        let steps: Vec<(&CpanelAccount, PackageStep)> = {
            let view = host.view();
            accounts
                .iter()
                .filter_map(|&a| {
                    let wanted = plans.get(&a.plan_id).map(|p| p.whm_package.as_str());
                    Some((a, lifecycle::package_step(a, wanted, view.accounts().get(&a.username))?))
                })
                .collect()
        };
        for (account, step) in steps {
            match step {
                PackageStep::Drift(problem) => {
                    drift.insert(format!("{}:package", account.id), problem);
                }
                PackageStep::Change(package) if !execute => {
                    report.planned.push(format!("would move {} to package {package}", account.username));
                }
                PackageStep::Change(package) => {
                    if host.gateway.is_down() || host.gateway.is_held_back(&account.id) {
                        continue;
                    }
                    match self.change_package(host, account, &package) {
                        Ok(()) => {
                            report.packages_changed += 1;
                            host.gateway.accepted(&account.id);
                        }
                        Err(Fault::Retry(why)) => log::warn!("account {}: {why}", account.username),
                        Err(Fault::Stuck(why)) => {
                            let wait = host.gateway.hold_back(&account.id);
                            log::error!("account {}: {why} (tried again in {}s)", account.username, wait.as_secs());
                        }
                    }
                }
                PackageStep::Record(package) if execute => {
                    let recorded = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
                        a.whm_package = Some(package.clone());
                        Ok(())
                    });
                    if let Err(e) = recorded {
                        log::warn!("account {}: cannot record its WHM package: {e}", account.username);
                    }
                }
                PackageStep::Record(_) => {}
            }
        }
    }

    /// Puts the account on WHM package `package`, sending `changepackage`
    /// at most once per request on file (see the module's documentation).
    pub(super) fn change_package(&self, host: &Host, account: &CpanelAccount, package: &str) -> Result<(), Fault> {
        if account.package_request.as_ref().is_some_and(|r| r.package == package)
            && self.on_package(host, account, package)?
        {
            return self.confirm_package(host, account, package);
        }
        let now = Timestamp::now();
        self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            a.package_request = Some(PackageRequest { package: package.to_owned(), requested_at: now });
            a.updated_at = now;
            Ok(())
        })?;
        let error = match host.gateway.call(|panel| panel.change_package(&account.username, package)) {
            Ok(()) => {
                log::info!("account {} moved to WHM package {package}", account.username);
                return self.confirm_package(host, account, package);
            }
            Err(error) => error,
        };
        // A lost answer may hide a change WHM made: ask before judging.
        if self.on_package(host, account, package)? {
            log::info!(
                "account {} is on WHM package {package} although changepackage failed ({error})",
                account.username
            );
            return self.confirm_package(host, account, package);
        }
        Err(match error {
            PanelError::Refused { reason, .. } => Fault::Stuck(format!(
                "WHM refused to move {} to package {package}: {reason}. Check the package on WHM \
                 (the plan's whmPackage), then run `hostr payment retry` or wait for the next pass",
                account.username
            )),
            other => {
                Fault::Retry(format!("{other}; WHM will be asked whether the package changed before any new attempt"))
            }
        })
    }

    /// Whether WHM shows the account (hosting its domain) on `package`.
    fn on_package(&self, host: &Host, account: &CpanelAccount, package: &str) -> Result<bool, Fault> {
        match host.gateway.call(|panel| panel.account_summary(&account.username))? {
            Some(found) if found.domain == account.domain => Ok(found.package == package),
            Some(found) => Err(Fault::Stuck(format!(
                "{} hosts {} on WHM, not {}: hostr does not change its package",
                account.username, found.domain, account.domain
            ))),
            None => Err(Fault::Stuck(format!("{} does not exist on WHM", account.username))),
        }
    }

    fn confirm_package(&self, host: &Host, account: &CpanelAccount, package: &str) -> Result<(), Fault> {
        let now = Timestamp::now();
        self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            a.whm_package = Some(package.to_owned());
            a.package_request = None;
            a.updated_at = now;
            Ok(())
        })?;
        host.view().set_package(&account.username, package);
        Ok(())
    }
}

/// Before an account's plan changes: an account file from before hostr
/// recorded `whmPackage` is taken to be on its old plan's package, so the
/// reconcile pass moves it rather than report it as changed by hand.
pub fn remember_package(store: &crate::store::Store, account: &mut CpanelAccount) {
    if account.whm_package.is_none()
        && let Ok(old) = store.get::<Plan>(&account.plan_id)
    {
        account.whm_package = Some(old.whm_package);
    }
}
