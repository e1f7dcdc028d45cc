//! Provisioning: cPanel accounts in WHM following what the files say.
//!
//! One background worker (`worker`) does everything that touches WHM, in cycles:
//! 1. fulfil PAID payments (`fulfil`): create or renew accounts, retrying
//!    failures with backoff;
//! 2. expire ACTIVE accounts past `paidUntil` (+ grace), and terminate long
//!    expired ones when the operator turned that on (this file);
//! 3. reconcile (`reconcile`): compare each account's file with the cached
//!    view of WHM (`view`, one `listaccts` per refresh) and suspend or
//!    unsuspend only what differs, and move packages to the plans' (`package`);
//!    report what it must not fix;
//! 4. read usage (one `listaccts` and one `showbw`) into `resourceUsage`
//!    (this file).
//!
//! There may be several WHM servers (`hosts`): each account lives on the one
//! written on it (`serverId`), chosen by `placement` before `createacct`, and
//! every step above runs per server, against that server's view.
//!
//! What should happen is decided by pure functions (`lifecycle`). Every WHM
//! call goes through its server's gateway (`gateway`), which pauses that
//! server's calls after a refused token, ends a pass's work on it once it is
//! unreachable, and backs off per account. WHM is a `panel::HostingPanel` speaking hostr's types:
//! the real client (`crate::whm`, which provisioning never imports) or the
//! sandbox. Handlers and the CLI get a `ProvisioningError`, never HTTP.

pub mod error;
pub mod first_steps;
pub mod fulfil;
pub mod gateway;
mod group;
pub mod hosts;
pub mod lifecycle;
pub mod operator;
pub mod package;
pub mod panel;
pub mod placement;
pub mod reconcile;
pub mod sandbox;
pub mod view;
pub mod worker;

pub use error::ProvisioningError;
pub use operator::retry;
pub use worker::worker_claim_path;

use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::payment::Payment;
use crate::plan::Plan;
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use gateway::PanelHealth;
use hosts::{Host, ServerLink};
use panel::{HostingPanel, PanelError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the worker paces itself; from the configuration.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Between cycles: how soon a hand edit reaches WHM.
    pub cycle: Duration,
    /// How old WHM's state as last read may get before it is read again.
    pub whm_refresh: Duration,
    /// Between usage readings.
    pub usage: Duration,
    /// Days past `paidUntil` before an account expires.
    pub expiry_grace: chrono::Duration,
    /// Remove accounts expired this long; `None` (the default) never does.
    pub terminate_after: Option<chrono::Duration>,
    /// The first retry of a failed fulfilment; doubled each time, up to an hour.
    pub retry_base: Duration,
    /// How long WHM is left alone after it refused the token.
    pub auth_pause: Duration,
    /// How long a `createacct` may go on running in WHM after it was sent
    /// (hostr's own wait for the answer, twice over: `App` sets it from the
    /// WHM settings); no second one before.
    pub create_settle: Duration,
    /// Ask WHM for its nameservers at each refresh (`App` turns it off when
    /// the operator named them: `--nameservers` wins anyway).
    pub read_nameservers: bool,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            cycle: Duration::from_secs(5),
            whm_refresh: Duration::from_secs(60),
            usage: Duration::from_secs(3600),
            expiry_grace: chrono::Duration::zero(),
            terminate_after: None,
            retry_base: Duration::from_secs(30),
            auth_pause: Duration::from_secs(15 * 60),
            create_settle: Duration::from_secs(600),
            read_nameservers: true,
        }
    }
}

/// What one cycle did, for logs and the benchmark.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CycleReport {
    pub fulfilled: usize,
    pub expired: usize,
    pub terminated: usize,
    pub suspended: usize,
    pub unsuspended: usize,
    /// Accounts moved to another WHM package (`changepackage`).
    pub packages_changed: usize,
    pub usage_written: usize,
    /// Differences hostr must not fix by itself.
    pub drift: Vec<String>,
    /// What a dry run (`hostr whm sync` without `--fix`) would do.
    pub planned: Vec<String>,
}

impl std::fmt::Display for CycleReport {
    /// "2 accounts created or renewed, 1 expired": only what happened.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts = [
            (self.fulfilled, "created or renewed"),
            (self.expired, "expired"),
            (self.terminated, "removed"),
            (self.suspended, "suspended"),
            (self.unsuspended, "unsuspended"),
            (self.packages_changed, "moved to another WHM package"),
            (self.usage_written, "with new usage readings"),
        ];
        let mut parts: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} account{} {what}", if *n == 1 { "" } else { "s" }))
            .collect();
        parts.extend(self.drift.iter().map(|d| format!("differs from WHM: {d}")));
        parts.extend(self.planned.iter().map(|p| format!("would {p}")));
        f.write_str(&parts.join("; "))
    }
}

/// The accounts' use cases: the worker's cycle, `hostr whm sync`, single
/// sign-on. The server holds one (in `App`); the CLI makes its own.
pub struct Provisioner {
    store: Arc<Store>,
    /// The WHM servers, by id; each with its gateway and its view of WHM.
    hosts: Vec<Host>,
    schedule: Schedule,
    /// Drift already reported, by account id, so the log says it once.
    drift: Mutex<HashMap<String, String>>,
    alarm: worker::Alarm,
}

impl Provisioner {
    /// One server, the default one (`WHM_URL`'s, or the sandbox).
    pub fn new(store: Arc<Store>, panel: Box<dyn HostingPanel>, schedule: Schedule) -> Provisioner {
        let link = ServerLink { id: crate::whm_server::DEFAULT_SERVER.to_owned(), panel, facts: Default::default() };
        Provisioner::with_servers(store, vec![link], schedule)
    }

    /// Several servers; their ids are those accounts name in `serverId`.
    pub fn with_servers(store: Arc<Store>, mut links: Vec<ServerLink>, schedule: Schedule) -> Provisioner {
        links.sort_by(|a, b| a.id.cmp(&b.id));
        Provisioner {
            store,
            hosts: links.into_iter().map(|link| Host::new(link, &schedule)).collect(),
            schedule,
            drift: Mutex::new(HashMap::new()),
            alarm: worker::Alarm::new(),
        }
    }

    /// How WHM answered lately: the worst of the servers.
    pub fn panel_health(&self) -> PanelHealth {
        hosts::worst(self.hosts.iter().map(|h| h.gateway.health()))
    }

    /// How each server answered lately, by id.
    pub fn server_health(&self) -> Vec<(String, PanelHealth)> {
        self.hosts.iter().map(|h| (h.id.clone(), h.gateway.health())).collect()
    }

    /// The ids of the configured servers, sorted.
    pub fn server_ids(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.id.clone()).collect()
    }

    pub fn is_sandbox(&self) -> bool {
        self.hosts.iter().all(|h| h.gateway.is_sandbox())
    }

    /// The wait before a failed fulfilment's try number `attempts + 1`.
    fn retry_after(&self, attempts: u32) -> chrono::Duration {
        let wait = gateway::backoff(self.schedule.retry_base, attempts);
        chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
    }

    fn host(&self, server_id: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.id == server_id)
    }

    /// The host of the account's server; a server that is not configured
    /// answers as unreachable (its accounts wait, nothing goes elsewhere).
    fn host_of(&self, account: &CpanelAccount) -> Result<&Host, PanelError> {
        self.host(account.server()).ok_or_else(|| {
            PanelError::Unreachable(format!(
                "account {} is on WHM server `{}`, which is not configured",
                account.username,
                account.server()
            ))
        })
    }

    /// Marks the account EXPIRED (checked again under the lock); true when it did.
    fn expire(&self, account: &mut CpanelAccount, now: Timestamp) -> bool {
        let grace = self.schedule.expiry_grace;
        let changed = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            // Checked again under the lock: a renewal may have just landed.
            if !lifecycle::expires(a, now, grace) {
                return Ok(None);
            }
            a.status = AccountStatus::Expired;
            a.updated_at = now;
            Ok(Some(a.clone()))
        });
        match changed {
            Ok(Some(expired)) => {
                log::info!(
                    "account {} ({}) EXPIRED: paid until {}",
                    expired.username,
                    expired.domain,
                    expired.paid_until.map_or_else(|| "no date".to_owned(), |t| t.to_string())
                );
                *account = expired;
                true
            }
            Ok(None) => false,
            Err(e) => {
                log::error!("account {}: cannot expire it: {e}", account.id);
                false
            }
        }
    }

    /// Removes a long-expired account from WHM and marks it TERMINATED,
    /// unless a payment for it is open or WHM shows the username hosts
    /// another domain; true when it did.
    fn terminate(&self, account: &mut CpanelAccount) -> bool {
        // Not while the customer is paying for it, or a renewal awaits delivery.
        let open = self.store.find(Payment::open_renewal_of(&account.id)).ok().flatten().is_some()
            || self
                .store
                .find_all(Payment::open_unfulfilled())
                .unwrap_or_default()
                .iter()
                .any(|p| p.account_id.as_deref() == Some(account.id.as_str()));
        let Ok(host) = self.host_of(account) else { return false };
        if open || host.gateway.is_down() {
            return false;
        }
        match host.gateway.call(|panel| panel.account_summary(&account.username)) {
            // Someone else's site under a reused name (reported once as drift).
            Ok(Some(found)) if found.domain != account.domain => return false,
            Ok(Some(_)) => {
                if let Err(e) = host.gateway.call(|panel| panel.remove_account(&account.username)) {
                    log::error!("account {}: cannot remove it from WHM: {e}", account.username);
                    return false;
                }
            }
            Ok(None) => {}
            Err(e) => {
                log::warn!("account {}: not terminated now: {e}", account.username);
                return false;
            }
        }
        host.view().forget(&account.username);
        let now = Timestamp::now();
        let written = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            a.status = AccountStatus::Terminated;
            a.updated_at = now;
            Ok(a.clone())
        });
        match written {
            Ok(terminated) => {
                log::warn!("account {} ({}) TERMINATED: removed from WHM", account.username, account.domain);
                *account = terminated;
                true
            }
            Err(e) => {
                log::error!("account {}: removed from WHM but cannot record it: {e}", account.id);
                false
            }
        }
    }

    /// Writes the usage just read into each account that WHM holds, where
    /// it changed (or was last written a day ago).
    fn record_usage(&self, accounts: &[CpanelAccount], now: Timestamp) -> usize {
        let plans: HashMap<String, Plan> =
            self.store.list_readable::<Plan>().unwrap_or_default().into_iter().map(|p| (p.id.clone(), p)).collect();
        let mut readings: Vec<(String, crate::cpanel_account::ResourceUsage)> = Vec::new();
        for host in &self.hosts {
            let view = host.view();
            readings.extend(accounts.iter().filter(|a| a.server() == host.id).filter_map(|a| {
                let actual = view.hosting(&a.username, &a.domain)?;
                let bytes = view.bandwidth(&a.username);
                let usage = lifecycle::usage(actual, bytes, plans.get(&a.plan_id), now);
                lifecycle::worth_writing(a.resource_usage.as_ref(), &usage).then(|| (a.id.clone(), usage))
            }));
        }
        let mut written = 0;
        for (account_id, usage) in readings {
            let result = self.store.update::<CpanelAccount, _, StoreError>(&account_id, |a| {
                a.resource_usage = Some(usage);
                Ok(())
            });
            match result {
                Ok(()) => written += 1,
                Err(e) => log::warn!("account {account_id}: cannot record its usage: {e}"),
            }
        }
        written
    }

    /// What the customer needs to use `account` (see `first_steps`), from
    /// the operator's settings about its server (for the default server,
    /// `settings`: the flags) and that server as last read; never asks WHM.
    pub fn first_steps(
        &self,
        settings: &first_steps::ServerFacts,
        account: &CpanelAccount,
    ) -> Option<first_steps::FirstSteps> {
        let host = self.host(account.server())?;
        let facts = self.facts(host, settings);
        let view = host.view();
        let ip = view.hosting(&account.username, &account.domain).and_then(|a| a.ip.as_deref());
        first_steps::first_steps(&facts, account, ip, view.nameservers())
    }

    /// What customers are told about `host`: its record's settings; for
    /// the default server, where its record says nothing, the flags
    /// (`settings`: they describe the one server of a single-server setup).
    fn facts(&self, host: &Host, settings: &first_steps::ServerFacts) -> first_steps::ServerFacts {
        let own = &host.facts;
        if host.id != crate::whm_server::DEFAULT_SERVER {
            return own.clone();
        }
        first_steps::ServerFacts {
            ip: own.ip.or(settings.ip),
            nameservers: if own.nameservers.is_empty() {
                settings.nameservers.clone()
            } else {
                own.nameservers.clone()
            },
            cpanel_url: own.cpanel_url.clone().or_else(|| settings.cpanel_url.clone()),
        }
    }

    /// What customers are told about each server, by id, with `settings`
    /// (the flags) where a server's record says nothing (for notices).
    pub fn server_facts(&self, settings: &first_steps::ServerFacts) -> HashMap<String, first_steps::ServerFacts> {
        self.hosts.iter().map(|h| (h.id.clone(), self.facts(h, settings))).collect()
    }

    /// A one-time cPanel login URL for the account's owner, once WHM
    /// confirms the username still hosts this account's domain.
    pub fn login_url(&self, account: &CpanelAccount) -> Result<String, ProvisioningError> {
        let gateway = &self.host_of(account)?.gateway;
        match gateway.call(|panel| panel.account_summary(&account.username))? {
            Some(found) if found.domain == account.domain => {
                Ok(gateway.call(|panel| panel.login_url(&account.username))?)
            }
            found => Err(ProvisioningError::NotOnPanel {
                username: account.username.clone(),
                domain: account.domain.clone(),
                found: found.map(|other| other.domain),
            }),
        }
    }
}
