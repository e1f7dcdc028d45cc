//! The gateway to WHM: every panel call provisioning makes goes through
//! [`Gateway::call`], which keeps WHM's bad moments from turning into a
//! storm of calls.
//!
//! - A refused token pauses every call for `auth_pause` instead of retrying,
//!   so a wrong token never trips WHM's brute-force protection.
//! - Once WHM could not be reached during a pass, the rest of the pass's
//!   WHM work waits for the next one instead of timing out call by call
//!   ([`is_down`](Gateway::is_down), reset by [`new_pass`](Gateway::new_pass)).
//! - A suspension or unsuspension WHM refused for one account is held back
//!   for that account, doubling up to an hour ([`backoff`]); outages and a
//!   refused token hold back all of WHM instead, never single accounts.
//!
//! There is one gateway per WHM server: a server that is down or refused
//! its token holds back only its own accounts.

use super::Schedule;
use super::panel::{HostingPanel, PanelError, PanelResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The wait before try number `attempts + 1`: `base`, doubling, at most an hour.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    base.saturating_mul(1 << attempts.saturating_sub(1).min(16)).min(Duration::from_secs(3600))
}

/// How the hosting panel answered lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelHealth {
    Answering,
    /// The last pass could not reach it.
    Unreachable,
    /// It refused the API token; calls are paused.
    TokenRefused,
}

impl PanelHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            PanelHealth::Answering => "ok",
            PanelHealth::Unreachable => "unreachable",
            PanelHealth::TokenRefused => "token_refused",
        }
    }
}

pub struct Gateway {
    /// The server's id, for the log.
    name: String,
    panel: Box<dyn HostingPanel>,
    auth_pause: Duration,
    retry_base: Duration,
    /// Calls are held back until then after a refused token.
    paused_until: Mutex<Option<Instant>>,
    /// Set when WHM could not be reached during this pass.
    unreachable: AtomicBool,
    /// Account changes WHM refused, by account id: not tried again before
    /// the time given; the count of refusals in a row.
    held_back: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Gateway {
    pub fn new(panel: Box<dyn HostingPanel>, schedule: &Schedule) -> Gateway {
        Gateway::named(crate::whm_server::DEFAULT_SERVER, panel, schedule)
    }

    /// The gateway to the server `name`.
    pub fn named(name: &str, panel: Box<dyn HostingPanel>, schedule: &Schedule) -> Gateway {
        Gateway {
            name: name.to_owned(),
            panel,
            auth_pause: schedule.auth_pause,
            retry_base: schedule.retry_base,
            paused_until: Mutex::new(None),
            unreachable: AtomicBool::new(false),
            held_back: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_sandbox(&self) -> bool {
        self.panel.is_sandbox()
    }

    /// Calls the panel unless WHM refused the token a moment ago; a refusal
    /// pauses every WHM call for `auth_pause`.
    pub fn call<T>(&self, f: impl FnOnce(&dyn HostingPanel) -> PanelResult<T>) -> PanelResult<T> {
        {
            let paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = *paused
                && Instant::now() < until
            {
                let left = until.saturating_duration_since(Instant::now()).as_secs() / 60 + 1;
                return Err(PanelError::Auth(format!(
                    "calls to server {} paused for {left} more minute(s) after WHM refused the token; fix its token",
                    self.name
                )));
            }
        }
        let result = f(self.panel.as_ref());
        match &result {
            Err(PanelError::Auth(why)) => {
                let minutes = self.auth_pause.as_secs().div_ceil(60);
                log::error!(
                    "WHM server {} refused the API token ({why}); pausing its calls for {minutes} minute(s)",
                    self.name
                );
                *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + self.auth_pause);
            }
            Err(PanelError::Unreachable(_)) => self.unreachable.store(true, Ordering::Relaxed),
            _ => {}
        }
        result
    }

    /// How WHM answered lately, for `/api/health`.
    pub fn health(&self) -> PanelHealth {
        let paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_some_and(|until| Instant::now() < until) {
            PanelHealth::TokenRefused
        } else if self.is_down() {
            PanelHealth::Unreachable
        } else {
            PanelHealth::Answering
        }
    }

    /// A new pass begins: WHM is given another chance to answer.
    pub fn new_pass(&self) {
        self.unreachable.store(false, Ordering::Relaxed);
    }

    /// WHM failed to answer earlier in this pass.
    pub fn is_down(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
    }

    /// The wait before a failed fulfilment's try number `attempts + 1`.
    pub fn retry_after(&self, attempts: u32) -> chrono::Duration {
        chrono::Duration::from_std(backoff(self.retry_base, attempts)).unwrap_or(chrono::Duration::hours(1))
    }

    /// A change WHM refused for this account waits before it is tried again.
    pub fn is_held_back(&self, account_id: &str) -> bool {
        let held = self.held_back();
        held.get(account_id).is_some_and(|(until, _)| Instant::now() < *until)
    }

    /// WHM refused a change to this account: holds the account's changes
    /// back, longer with each refusal in a row. Returns the wait.
    pub fn hold_back(&self, account_id: &str) -> Duration {
        let mut held = self.held_back();
        let failures = held.get(account_id).map_or(0, |(_, n)| *n) + 1;
        let wait = backoff(self.retry_base, failures);
        held.insert(account_id.to_owned(), (Instant::now() + wait, failures));
        wait
    }

    /// WHM made a change to this account: its next refusal starts the count anew.
    pub fn accepted(&self, account_id: &str) {
        self.held_back().remove(account_id);
    }

    fn held_back(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u32)>> {
        self.held_back.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::sandbox::SandboxPanel;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=5).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480]);
        assert_eq!(backoff(base, 9), Duration::from_secs(3600));
        assert_eq!(backoff(base, u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn refusals_hold_one_account_back_longer_each_time() {
        let schedule = Schedule { retry_base: Duration::from_secs(30), ..Schedule::default() };
        let gateway = Gateway::new(Box::new(SandboxPanel::new("http://127.0.0.1", Vec::new())), &schedule);
        assert!(!gateway.is_held_back("a"));
        assert_eq!(gateway.hold_back("a"), Duration::from_secs(30));
        assert_eq!(gateway.hold_back("a"), Duration::from_secs(60));
        assert!(gateway.is_held_back("a") && !gateway.is_held_back("b"));
        gateway.accepted("a");
        assert!(!gateway.is_held_back("a"));
        assert_eq!(gateway.hold_back("a"), Duration::from_secs(30), "counted anew");
    }
}
