//! The accounts worker: one background thread that runs [`Provisioner::cycle`]
//! every `schedule.cycle`, or at once when woken (a payment was recorded).
//!
//! Invariants:
//! - one worker per database, across processes: it holds the lock file
//!   [`worker_claim_path`] while it runs, since two would race to create the
//!   same account;
//! - a bug (a panic) in one cycle is logged and the next cycle runs anyway;
//! - a cycle's work on one WHM server stops at the first sign that the
//!   server is down (its gateway's flag), and waits for the next cycle;
//!   the other servers carry on.

use super::fulfil::Fault;
use super::{CycleReport, Provisioner, lifecycle};
use crate::cpanel_account::CpanelAccount;
use crate::payment::{FulfilmentStatus, Payment, PaymentState};
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Wakes the worker before its next cycle is due. The receiving end goes to
/// the one worker thread that is started.
pub(super) struct Alarm {
    ring: SyncSender<()>,
    rung: Mutex<Option<Receiver<()>>>,
}

impl Alarm {
    pub(super) fn new() -> Alarm {
        // One pending ring is enough: the cycle it starts sees everything.
        let (ring, rung) = sync_channel(1);
        Alarm { ring, rung: Mutex::new(Some(rung)) }
    }
}

impl Provisioner {
    /// Asks for a cycle now (a payment was just recorded, a customer left).
    pub fn wake(&self) {
        let _ = self.alarm.ring.try_send(());
    }

    /// Starts the background worker.
    pub fn start(self: &Arc<Self>) {
        let Some(woken) = self.alarm.rung.lock().unwrap_or_else(|p| p.into_inner()).take() else { return };
        let provisioner = self.clone();
        let spawned = std::thread::Builder::new().name("accounts".to_owned()).spawn(move || provisioner.run(&woken));
        if let Err(e) = spawned {
            log::error!("cannot start the accounts worker: {e}");
        }
    }

    fn run(&self, woken: &Receiver<()>) {
        let _claim = self.claim_worker();
        loop {
            // A bug must not stop the accounts from being looked after.
            let cycle = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.cycle(false)));
            match cycle {
                Ok(report) if report != CycleReport::default() => log::info!("accounts: {report}"),
                Ok(_) => {}
                Err(_) => log::error!("the accounts worker hit a bug; carrying on"),
            }
            if let Err(RecvTimeoutError::Disconnected) = woken.recv_timeout(self.schedule.cycle) {
                return;
            }
        }
    }

    /// Waits until this process is the only accounts worker of the database:
    /// two would race to create the same account.
    fn claim_worker(&self) -> Option<std::fs::File> {
        let mut warned = false;
        loop {
            match crate::lock_file::claim(&worker_claim_path(self.store.root())) {
                Ok(Some(claim)) => return Some(claim),
                Ok(None) if !warned => {
                    log::error!(
                        "another hostr process runs the accounts worker of this database; waiting for it to stop"
                    );
                    warned = true;
                }
                Ok(None) => {}
                Err(e) => {
                    log::error!("cannot claim the accounts worker ({e}); running without the claim");
                    return None;
                }
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// One pass of everything; `fresh` reads WHM's state and usage anew.
    pub fn cycle(&self, fresh: bool) -> CycleReport {
        for host in &self.hosts {
            host.gateway.new_pass();
        }
        let mut report = CycleReport { fulfilled: self.fulfil_due(), ..CycleReport::default() };
        let usage_due: Vec<&str> =
            self.hosts.iter().filter(|host| self.refresh_view(host, fresh)).map(|h| h.id.as_str()).collect();
        let now = Timestamp::now();
        let mut accounts = match self.store.list_readable::<CpanelAccount>() {
            Ok(accounts) => accounts,
            Err(e) => {
                log::error!("cannot list the accounts: {e}");
                return report;
            }
        };
        // Further accounts take their group's paid period before expiry is judged.
        self.follow_groups(&mut accounts, now);
        for account in &mut accounts {
            self.switch_due_plan(account, now);
            if lifecycle::expires(account, now, self.schedule.expiry_grace) {
                report.expired += self.expire(account, now) as usize;
            }
            if let Some(after) = self.schedule.terminate_after
                && lifecycle::terminates(account, now, after)
            {
                report.terminated += self.terminate(account) as usize;
            }
        }
        self.reconcile(&accounts, &mut report, true);
        if !usage_due.is_empty() {
            let read: Vec<CpanelAccount> = accounts.into_iter().filter(|a| usage_due.contains(&a.server())).collect();
            report.usage_written = self.record_usage(&read, now);
        }
        report
    }

    /// Fulfils every PAID payment that is due; returns how many finished.
    fn fulfil_due(&self) -> usize {
        let now = Timestamp::now();
        let open = self.store.find_all(Payment::open_unfulfilled()).unwrap_or_else(|e| {
            log::error!("cannot list unfulfilled payments: {e}");
            Vec::new()
        });
        let due = open.into_iter().filter(|payment| lifecycle::fulfilment_due(&payment.fulfilment, now));
        // Once a server is found down, its payments wait for the next cycle.
        due.filter(|payment| !self.waits_for_its_server(payment) && self.fulfil(payment)).count()
    }

    /// The payment's account is on a server that is down this pass (or,
    /// for a new account not yet placed, every server is).
    fn waits_for_its_server(&self, payment: &Payment) -> bool {
        let account = payment.account_id.as_deref().and_then(|id| self.store.get::<CpanelAccount>(id).ok());
        match account {
            Some(account) => self.host(account.server()).is_some_and(|h| h.gateway.is_down()),
            None => self.hosts.iter().all(|h| h.gateway.is_down()),
        }
    }

    /// One attempt at a payment's fulfilment, recorded on the payment.
    fn fulfil(&self, payment: &Payment) -> bool {
        let outcome = self.deliver(payment);
        let now = Timestamp::now();
        let recorded = self.store.update::<Payment, _, StoreError>(&payment.id, |p| {
            if p.state != PaymentState::Paid || p.fulfilment.status == FulfilmentStatus::Done {
                return Ok(());
            }
            let f = &mut p.fulfilment;
            f.attempts += 1;
            match &outcome {
                Ok((start, end)) => {
                    f.status = FulfilmentStatus::Done;
                    f.last_error = None;
                    f.next_attempt_at = None;
                    (p.period_start, p.period_end) = (Some(*start), Some(*end));
                }
                Err(fault) => {
                    f.status = FulfilmentStatus::Failed;
                    let (why, retry) = match fault {
                        Fault::Retry(why) => (why, Some(self.retry_after(f.attempts))),
                        Fault::Stuck(why) => (why, None),
                    };
                    f.last_error = Some(why.clone());
                    f.next_attempt_at = retry.map(|wait| Timestamp::from(now.as_datetime() + wait));
                }
            }
            p.updated_at = now;
            Ok(())
        });
        if let Err(e) = recorded {
            log::error!("payment {}: cannot record its fulfilment: {e}", payment.id);
        }
        match outcome {
            Ok(_) => {
                log::info!(
                    "payment {} fulfilled (account {})",
                    payment.id,
                    payment.account_id.as_deref().unwrap_or("-")
                );
                true
            }
            Err(Fault::Retry(why)) => {
                log::warn!("payment {}: fulfilment failed, will retry: {why}", payment.id);
                false
            }
            Err(Fault::Stuck(why)) => {
                log::error!("payment {}: fulfilment needs the operator: {why}", payment.id);
                false
            }
        }
    }

    /// Reads a server's accounts again when its view is stale (and usage
    /// when it is due). Returns whether usage was read.
    fn refresh_view(&self, host: &super::hosts::Host, fresh: bool) -> bool {
        if host.gateway.is_down() {
            return false;
        }
        let (stale, usage_due) = {
            let view = host.view();
            (fresh || view.is_stale(self.schedule.whm_refresh), fresh || view.usage_is_stale(self.schedule.usage))
        };
        if !stale && !usage_due {
            return false;
        }
        let gateway = &host.gateway;
        let accounts = match gateway.call(|panel| panel.list_accounts()) {
            Ok(accounts) => accounts,
            Err(e) => {
                log::warn!("cannot read the accounts of WHM server {}: {e}", host.id);
                return false;
            }
        };
        let bandwidth = if usage_due {
            match gateway.call(|panel| panel.bandwidth()) {
                Ok(bandwidth) => Some(bandwidth),
                Err(e) => {
                    log::warn!("cannot read bandwidth from WHM server {}: {e}", host.id);
                    None
                }
            }
        } else {
            None
        };
        // Nameservers a record names win: that server is not asked for its own.
        let ask_nameservers = self.schedule.read_nameservers && host.facts.nameservers.is_empty();
        let nameservers = (stale && ask_nameservers).then(|| gateway.call(|p| p.nameservers()));
        let mut view = host.view();
        view.read(accounts);
        if let Some(nameservers) = nameservers {
            view.read_nameservers(nameservers);
        }
        let read_usage = bandwidth.is_some();
        if let Some(bandwidth) = bandwidth {
            view.read_usage(bandwidth);
        }
        read_usage
    }
}

/// The lock file that one accounts worker per database holds while it runs.
pub fn worker_claim_path(database: &std::path::Path) -> std::path::PathBuf {
    database.join(".accounts-worker.lock")
}
