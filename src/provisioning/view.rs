//! The cached view of WHM: its accounts as last read (one `listaccts` per
//! refresh) and this month's transfer (one `showbw` per usage reading),
//! kept up to date with what hostr itself changed since. A pass over
//! thousands of accounts compares the files with this view, so it costs
//! two WHM calls plus one per account that really changes, not one per
//! account.
//!
//! The view only decides what to ask WHM to do; what must not be done
//! blindly (terminating, single sign-on) asks WHM itself first.

use super::panel::{PanelAccount, PanelResult};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct PanelView {
    /// By username.
    accounts: HashMap<String, PanelAccount>,
    /// Bytes this month, by username.
    bandwidth: HashMap<String, u64>,
    /// The nameservers WHM gives its accounts, as last read.
    nameservers: Vec<String>,
    /// The last reading of the nameservers failed (logged once until one works).
    nameservers_failing: bool,
    read_at: Option<Instant>,
    usage_read_at: Option<Instant>,
}

/// Never read, or read `limit` ago or longer.
fn older(at: Option<Instant>, limit: Duration) -> bool {
    at.is_none_or(|at| at.elapsed() >= limit)
}

impl PanelView {
    /// WHM's accounts were read at least once: there is something to compare with.
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    /// The accounts were last read `limit` ago or longer (or never).
    pub fn is_stale(&self, limit: Duration) -> bool {
        older(self.read_at, limit)
    }

    /// The transfer figures were last read `limit` ago or longer (or never).
    pub fn usage_is_stale(&self, limit: Duration) -> bool {
        older(self.usage_read_at, limit)
    }

    /// Replaces the accounts with the list WHM just gave.
    pub fn read(&mut self, accounts: Vec<PanelAccount>) {
        self.accounts = accounts.into_iter().map(|a| (a.username.clone(), a)).collect();
        self.read_at = Some(Instant::now());
    }

    /// Replaces the transfer figures with those WHM just gave.
    pub fn read_usage(&mut self, bandwidth: Vec<(String, u64)>) {
        self.bandwidth = bandwidth.into_iter().collect();
        self.usage_read_at = Some(Instant::now());
    }

    /// Replaces the nameservers with those WHM just gave; when it would not
    /// say, keeps the last ones and logs why, once until a reading works.
    pub fn read_nameservers(&mut self, answer: PanelResult<Vec<String>>) {
        match answer {
            Ok(nameservers) => {
                self.nameservers = nameservers;
                self.nameservers_failing = false;
            }
            Err(e) => {
                if !std::mem::replace(&mut self.nameservers_failing, true) {
                    log::warn!("cannot read WHM's nameservers (--nameservers names them instead): {e}");
                }
            }
        }
    }

    /// The nameservers WHM gave when last asked (empty if never).
    pub fn nameservers(&self) -> &[String] {
        &self.nameservers
    }

    /// Every account, by username.
    pub fn accounts(&self) -> &HashMap<String, PanelAccount> {
        &self.accounts
    }

    /// The account under `username` if it hosts `domain`; a reused
    /// username hosting someone else's site is not ours.
    pub fn hosting(&self, username: &str, domain: &str) -> Option<&PanelAccount> {
        self.accounts.get(username).filter(|account| account.domain == domain)
    }

    /// This month's transfer of `username`, in bytes (0 when unknown).
    pub fn bandwidth(&self, username: &str) -> u64 {
        self.bandwidth.get(username).copied().unwrap_or(0)
    }

    /// hostr created this account.
    pub fn seen(&mut self, account: PanelAccount) {
        self.accounts.insert(account.username.clone(), account);
    }

    /// The account is gone from WHM.
    pub fn forget(&mut self, username: &str) {
        self.accounts.remove(username);
    }

    /// hostr moved the account to another package.
    pub fn set_package(&mut self, username: &str, package: &str) {
        if let Some(account) = self.accounts.get_mut(username) {
            account.package = package.to_owned();
        }
    }

    /// hostr suspended the account (`Some(reason)`) or lifted its suspension.
    pub fn mark(&mut self, username: &str, suspended: Option<String>) {
        if let Some(account) = self.accounts.get_mut(username) {
            account.suspended = suspended.is_some();
            account.suspend_reason = suspended;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_follows_what_was_read_and_what_hostr_changed() {
        let mut view = PanelView::default();
        assert!(!view.is_read() && view.is_stale(Duration::from_secs(60)) && view.usage_is_stale(Duration::MAX));
        view.read(vec![PanelAccount::new("shop", "shop.example", "basic")]);
        assert!(view.is_read() && !view.is_stale(Duration::from_secs(60)) && view.is_stale(Duration::ZERO));
        assert!(view.usage_is_stale(Duration::from_secs(60)), "usage is read apart");
        view.read_usage(vec![("shop".into(), 4096)]);
        assert_eq!((view.bandwidth("shop"), view.bandwidth("other")), (4096, 0));

        assert!(view.hosting("shop", "shop.example").is_some());
        assert!(view.hosting("shop", "other.example").is_none(), "a reused username is someone else's");
        view.mark("shop", Some("hostr: non-payment".into()));
        let shop = &view.accounts()["shop"];
        assert_eq!((shop.suspended, shop.suspend_reason.as_deref()), (true, Some("hostr: non-payment")));
        view.mark("shop", None);
        assert_eq!(
            (view.accounts()["shop"].suspended, view.accounts()["shop"].suspend_reason.as_deref()),
            (false, None)
        );
        view.seen(PanelAccount::new("new", "new.example", "basic"));
        view.forget("shop");
        assert_eq!(view.accounts().keys().collect::<Vec<_>>(), ["new"]);
        assert!(view.nameservers().is_empty());
        view.read_nameservers(Ok(vec!["ns1.example".into()]));
        view.read_nameservers(Err(super::super::panel::PanelError::Nonsense("no list".into())));
        assert_eq!(view.nameservers(), ["ns1.example"], "a failed reading keeps the last answer");
    }
}
