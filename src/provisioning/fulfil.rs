//! Delivering a PAID payment: creating the cPanel account it bought, or
//! adding a period to the account it renews, exactly once.
//!
//! The order of writes is what makes this safe to crash anywhere:
//! 1. the account record is written as PROVISIONING with its username
//!    before WHM hears of it;
//! 2. `createRequestedAt` is written before every `createacct`, and whenever
//!    it is set WHM is asked (`accountsummary`) before anything else; while
//!    an earlier `createacct` may still be running on WHM (it takes minutes),
//!    none is sent again;
//! 3. the username changes only when WHM shows it belongs to another domain,
//!    so an account still being created under it is never abandoned;
//! 4. the period is added to `paidUntil` once per payment
//!    (`appliedPayments`), then the payment is marked DONE;
//! 5. a plan change (`Payment::kind`) moves the account's plan and WHM
//!    package instead (`package.rs`), with the same care.
//!
//! The WHM server is chosen (`placement`) together with the username and
//! written in the same PROVISIONING record, before any `createacct`. A
//! server that does not answer while a username is checked on it is passed
//! over for the next (nothing was written or created yet); once the record
//! names a server, every later step goes to that server only, however long
//! it is down: retrying elsewhere after an unclear failure is how accounts
//! get created twice.
//!
//! A real panel delivers only what was paid with real money
//! (`Payment::paid_for_real`: through Strike's invoice, or marked paid by
//! the operator, nothing of the sandbox about it), whatever the file's
//! `sandbox` flag says; anything else is a fault for the operator.

use super::Provisioner;
use super::gateway::PanelHealth;
use super::hosts::Host;
use super::panel::{PanelAccount, PanelError};
use super::placement::{self, Candidate};
use crate::cpanel_account::{AccountStatus, CpanelAccount, PeriodPrice, ScheduledPlan, check_username};
use crate::customer::Customer;
use crate::payment::{Payment, Provider};
use crate::plan::Plan;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use crate::whm_server::{DEFAULT_SERVER, ServerStatus, WhmServer};

/// Why a real panel refuses a payment that `Payment::paid_for_real` does not accept.
fn not_paid_for_real(payment: &Payment) -> String {
    let why = match payment.mode() {
        Provider::Sandbox => "it was begun in or invoiced by the sandbox",
        Provider::Strike => "it has no invoice, and the operator did not mark it paid",
    };
    format!("this payment was not paid through Strike ({why}): hostr never creates real accounts for it")
}

/// Usernames tried for one domain before giving up.
const MAX_USERNAMES: usize = 30;

/// Why a fulfilment did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Worth trying again later by itself (WHM down, a timeout).
    Retry(String),
    /// Needs the operator; tried again after `hostr payment retry`.
    Stuck(String),
}

impl From<StoreError> for Fault {
    fn from(error: StoreError) -> Fault {
        Fault::Retry(error.to_string())
    }
}

impl From<PanelError> for Fault {
    fn from(error: PanelError) -> Fault {
        Fault::Retry(error.to_string())
    }
}

type Step<T> = Result<T, Fault>;

/// The period a payment paid for: from, until.
pub type Period = (Timestamp, Timestamp);

impl Provisioner {
    /// Does what `payment` bought. Returns the period it paid for.
    pub(super) fn deliver(&self, payment: &Payment) -> Step<Period> {
        if !self.is_sandbox() && !payment.paid_for_real() {
            return Err(Fault::Stuck(not_paid_for_real(payment)));
        }
        let plan: Plan = self.store.get(&payment.plan_id).map_err(|e| Fault::Stuck(format!("its plan: {e}")))?;
        let account_id =
            payment.account_id.as_deref().ok_or_else(|| Fault::Stuck("the payment names no account".to_owned()))?;
        let account = match (self.store.get::<CpanelAccount>(account_id), &payment.domain) {
            (Ok(account), _) => account,
            (Err(StoreError::NotFound { .. }), Some(domain)) => self.place(payment, account_id, domain, &plan)?,
            (Err(StoreError::NotFound { .. }), None) => {
                return Err(Fault::Stuck(format!("the account {account_id} it renews does not exist")));
            }
            (Err(other), _) => return Err(other.into()),
        };
        let matches_payment = account.customer_id == payment.customer_id
            && payment.domain.as_ref().is_none_or(|domain| *domain == account.domain);
        if !matches_payment {
            return Err(Fault::Stuck(format!("account {} belongs to another customer or domain", account.id)));
        }
        if account.status == AccountStatus::Terminated {
            return Err(Fault::Stuck(format!("account {} was terminated", account.username)));
        }
        self.link_to_customer(&account)?;
        // Created in WHM unless seen there, whatever the status says: an
        // operator may have set a new order SUSPENDED before it was made.
        if let Some(kind) = payment.kind {
            return self.deliver_change(payment, &plan, &account, kind);
        }
        if payment.domain.is_some() && account.whm_created_at.is_none() {
            self.create_in_whm(account, &plan)?;
        }
        let now = Timestamp::now();
        let period = self.store.update::<CpanelAccount, _, StoreError>(account_id, |a| {
            let first = !a.applied_payments.iter().any(|p| p.payment_id == payment.id);
            let period = a.apply_periods(&payment.id, plan.billing_cycle, payment.periods, now);
            if first {
                a.period_price = Some(PeriodPrice {
                    amount: payment.amount,
                    currency: payment.currency.clone(),
                    periods: payment.periods,
                });
                // A renewal for another plan (a scheduled downgrade) changes
                // the plan when the period it paid for begins.
                if a.plan_id != payment.plan_id {
                    a.scheduled_plan = Some(ScheduledPlan { plan_id: payment.plan_id.clone(), from: Some(period.0) });
                    a.switch_due_plan(now);
                }
            }
            Ok(period)
        })?;
        Ok(period)
    }

    /// Lists the account on its customer's record (from the moment it is
    /// being set up, so the profile can say so).
    fn link_to_customer(&self, account: &CpanelAccount) -> Step<()> {
        let customer: Customer = self.store.get(&account.customer_id).map_err(|e| match e {
            StoreError::NotFound { .. } => Fault::Stuck(format!("its customer: {e}")),
            other => other.into(),
        })?;
        if customer.cpanel_account_ids.contains(&account.id) && customer.plan_id.as_ref() == Some(&account.plan_id) {
            return Ok(());
        }
        self.store.update::<Customer, _, StoreError>(&account.customer_id, |c| {
            if !c.cpanel_account_ids.contains(&account.id) {
                c.cpanel_account_ids.push(account.id.clone());
            }
            c.plan_id = Some(account.plan_id.clone());
            c.updated_at = Timestamp::now();
            Ok(())
        })?;
        Ok(())
    }

    /// Chooses the server by the plan's fill rule, and on it a username,
    /// and writes the account as PROVISIONING there.
    fn place(&self, payment: &Payment, account_id: &str, domain: &str, plan: &Plan) -> Step<CpanelAccount> {
        let candidates = self.candidates(plan.server_group.as_deref())?;
        let (order, mut skipped) = placement::order(&candidates, plan.server_fill);
        for server_id in order {
            let Some(host) = self.host(&server_id) else { continue };
            match self.reserve(host, payment, account_id, domain) {
                Ok(account) => {
                    let used = candidates.iter().find(|c| c.id == server_id).map_or(0, |c| c.used);
                    let passed = if skipped.is_empty() {
                        String::new()
                    } else {
                        format!("; passed over {}", skipped.join(", "))
                    };
                    log::info!(
                        "payment {}: account {} will be {} on WHM server {server_id} ({:?}, {used} account(s) there before{passed})",
                        payment.id,
                        account.id,
                        account.username,
                        plan.server_fill,
                    );
                    return Ok(account);
                }
                // Nothing was written or created on it: the next server may take it.
                Err(Placing::NotAnswering(why)) => skipped.push(format!("{server_id}: {why}")),
                Err(Placing::Fault(fault)) => return Err(fault),
            }
        }
        let group = plan.server_group.as_deref().map_or_else(String::new, |g| format!(" in group `{g}`"));
        let why = if skipped.is_empty() { "none is configured".to_owned() } else { skipped.join("; ") };
        Err(Fault::Retry(format!("no WHM server{group} can take a new account now ({why})")))
    }

    /// Every configured server as placement sees it now (its record read
    /// anew, so a hand edit of `status` or `maxAccounts` counts at once).
    fn candidates(&self, group: Option<&str>) -> Step<Vec<Candidate>> {
        let mut candidates = Vec::new();
        for host in &self.hosts {
            let record = match self.store.get::<WhmServer>(&host.id) {
                Ok(record) => Some(record),
                Err(StoreError::NotFound { .. }) if host.id == DEFAULT_SERVER => None,
                Err(e) => {
                    log::warn!("WHM server {}: its record cannot be read, so it takes no new accounts: {e}", host.id);
                    continue;
                }
            };
            let used = self.store.count(CpanelAccount::on_server(&host.id))?;
            candidates.push(Candidate {
                id: host.id.clone(),
                status: record.as_ref().map_or(ServerStatus::Enabled, |r| r.status),
                // The default server without a record is in no group.
                in_group: record.as_ref().map_or(group.is_none(), |r| r.serves(group)),
                used: u32::try_from(used).unwrap_or(u32::MAX),
                max: record.as_ref().and_then(|r| r.max_accounts),
                down: match host.gateway.health() {
                    PanelHealth::Answering => None,
                    PanelHealth::Unreachable => Some("not answering"),
                    PanelHealth::TokenRefused => Some("WHM refused its API token (its calls are paused)"),
                },
            });
        }
        Ok(candidates)
    }

    /// Chooses a username free on `host` and writes the account as
    /// PROVISIONING on that server.
    fn reserve(
        &self,
        host: &Host,
        payment: &Payment,
        account_id: &str,
        domain: &str,
    ) -> Result<CpanelAccount, Placing> {
        for username in usernames(domain).take(MAX_USERNAMES) {
            match self.username_free(host, &username) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(Fault::Retry(why)) if host.gateway.health() != PanelHealth::Answering => {
                    return Err(Placing::NotAnswering(why));
                }
                Err(fault) => return Err(Placing::Fault(fault)),
            }
            let account = CpanelAccount {
                server_id: Some(host.id.clone()),
                ..CpanelAccount::provisioning(
                    account_id,
                    &username,
                    domain,
                    &payment.customer_id,
                    &payment.plan_id,
                    Timestamp::now(),
                )
            };
            match self.store.create(&account) {
                Ok(()) => return Ok(account),
                Err(StoreError::Taken { field: "username", .. }) => continue,
                Err(StoreError::Taken { field: "domain", .. }) => {
                    let why = format!("another account in the database already hosts {domain}");
                    return Err(Placing::Fault(Fault::Stuck(why)));
                }
                Err(other) => return Err(Placing::Fault(other.into())),
            }
        }
        Err(Placing::Fault(Fault::Stuck(format!("no free cPanel username found for {domain}"))))
    }

    /// Free in the database and on the account's WHM server.
    fn username_free(&self, host: &Host, username: &str) -> Step<bool> {
        if self.store.find(CpanelAccount::by_username(username))?.is_some() {
            return Ok(false);
        }
        Ok(host.gateway.call(|panel| panel.username_available(username))?)
    }

    /// Creates the account in WHM, exactly once, under its recorded username
    /// or, when WHM shows that name belongs to another domain, the next free one.
    pub(super) fn create_in_whm(&self, mut account: CpanelAccount, plan: &Plan) -> Step<()> {
        let host = self.host_of(&account)?;
        let email = self.store.get::<Customer>(&account.customer_id).ok().and_then(|c| c.email);
        for _ in 0..MAX_USERNAMES {
            if let Some(sent) = account.create_requested_at {
                match self.existing(host, &account)? {
                    Existing::Ours => return self.confirm_created(host, &account, &plan.whm_package, None),
                    Existing::Someone => {
                        account = self.rename(host, &account)?;
                        continue;
                    }
                    Existing::Missing if self.may_still_be_creating(sent) => {
                        return Err(Fault::Retry(format!(
                            "createacct for {} was sent at {sent} and WHM has no account yet; \
                             waiting for it before sending again",
                            account.username
                        )));
                    }
                    Existing::Missing => {}
                }
            }
            let now = Timestamp::now();
            account = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
                a.create_requested_at = Some(now);
                a.updated_at = now;
                Ok(a.clone())
            })?;
            let password = strong_password();
            let created = host.gateway.call(|panel| {
                panel.create_account(&account.username, &account.domain, &plan.whm_package, email.as_deref(), &password)
            });
            let error = match created {
                Ok(ip) => {
                    log::info!("account {} ({}) created on WHM server {}", account.username, account.domain, host.id);
                    return self.confirm_created(host, &account, &plan.whm_package, ip);
                }
                Err(error) => error,
            };
            // Whatever the answer, WHM may have created it (a lost answer, or
            // a creation still running from before): ask before judging.
            match self.existing(host, &account)? {
                Existing::Ours => return self.confirm_created(host, &account, &plan.whm_package, None),
                Existing::Someone => {
                    log::warn!("username {} belongs to another account on WHM; choosing another", account.username);
                    account = self.rename(host, &account)?;
                    continue;
                }
                Existing::Missing => {}
            }
            // Any creation of ours under this name has settled by now (see
            // above) and WHM has no account under it.
            return Err(creation_fault(error, &account.domain));
        }
        Err(Fault::Stuck(format!("no free cPanel username found for {}", account.domain)))
    }

    /// Records that WHM holds the account, and updates the view of WHM (with
    /// the address WHM gave it, so first steps can name it at once).
    fn confirm_created(&self, host: &Host, account: &CpanelAccount, package: &str, ip: Option<String>) -> Step<()> {
        let now = Timestamp::now();
        self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
            a.whm_created_at.get_or_insert(now);
            a.whm_package.get_or_insert_with(|| package.to_owned());
            a.updated_at = now;
            Ok(())
        })?;
        let seen = PanelAccount { ip, ..PanelAccount::new(&account.username, &account.domain, package) };
        host.view().seen(seen);
        Ok(())
    }

    /// A `createacct` sent at `sent` may still be running on WHM.
    fn may_still_be_creating(&self, sent: Timestamp) -> bool {
        let settle = chrono::Duration::from_std(self.schedule.create_settle).unwrap_or(chrono::Duration::minutes(5));
        Timestamp::now().as_datetime() < sent.as_datetime() + settle
    }

    /// Whether WHM has an account under this one's username, and whose.
    fn existing(&self, host: &Host, account: &CpanelAccount) -> Step<Existing> {
        Ok(match host.gateway.call(|panel| panel.account_summary(&account.username))? {
            Some(found) if found.domain == account.domain => Existing::Ours,
            Some(_) => Existing::Someone,
            None => Existing::Missing,
        })
    }

    /// Moves a PROVISIONING account to the next free username.
    pub(super) fn rename(&self, host: &Host, account: &CpanelAccount) -> Step<CpanelAccount> {
        for username in usernames(&account.domain).take(MAX_USERNAMES) {
            if username == account.username || !self.username_free(host, &username)? {
                continue;
            }
            let renamed = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
                a.username = username.clone();
                a.create_requested_at = None;
                a.updated_at = Timestamp::now();
                Ok(a.clone())
            });
            match renamed {
                Ok(renamed) => return Ok(renamed),
                Err(StoreError::Taken { field: "username", .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(Fault::Stuck(format!("no free cPanel username found for {}", account.domain)))
    }
}

/// Why a server did not take a new account.
enum Placing {
    /// It did not answer (or refused its token) before anything was
    /// written: the next server may be tried.
    NotAnswering(String),
    Fault(Fault),
}

enum Existing {
    /// WHM holds the account, for this domain.
    Ours,
    /// WHM holds this username for another domain.
    Someone,
    Missing,
}

/// Why a `createacct` failed, once WHM shows no account under the name: a
/// refusal that names the domain means the domain is someone else's (the
/// operator must act); anything else is tried again.
fn creation_fault(error: PanelError, domain: &str) -> Fault {
    match error {
        PanelError::Refused { reason, .. } if reason.contains(domain) || mentions(&reason, "domain") => {
            Fault::Stuck(format!(
                "WHM refused the domain {domain}: {}. Free it on WHM (or refund the customer), \
                 then run `hostr payment retry`",
                reason.trim_end_matches('.')
            ))
        }
        PanelError::Refused { reason, .. } => Fault::Retry(format!("WHM createacct refused: {reason}")),
        other => Fault::Retry(format!("{other}; WHM will be asked whether the account exists before any new attempt")),
    }
}

fn mentions(reason: &str, word: &str) -> bool {
    reason.to_ascii_lowercase().contains(word)
}

/// Username candidates for `domain` by WHM's rules: its letters and digits
/// (without the top-level domain) cut to 8, then with a number in place of
/// the last characters: `myshopex`, `myshope1`, `myshope2`, …
pub fn usernames(domain: &str) -> impl Iterator<Item = String> {
    let name = domain.rsplit_once('.').map_or(domain, |(name, _tld)| name);
    let mut base: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .skip_while(char::is_ascii_digit)
        .collect();
    if base.starts_with("test") {
        base.replace_range(0..4, "tst");
    }
    if base.is_empty() {
        base = "site".to_owned();
    }
    (0u32..1000)
        .map(move |n| {
            let suffix = if n == 0 { String::new() } else { n.to_string() };
            let keep = base.len().min(8 - suffix.len());
            format!("{}{suffix}", &base[..keep])
        })
        .filter(|candidate| check_username(candidate).is_ok())
}

/// A password for `createacct`: 24 characters of mixed classes. It is sent
/// once and never stored; the customer signs in through single sign-on.
fn strong_password() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*+-=?@^_";
    // Bytes at or above this would favour the first characters: skipped.
    let limit = (256 / CHARS.len() * CHARS.len()) as u8;
    loop {
        let mut password = String::with_capacity(24);
        while password.len() < 24 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            let fair = bytes.iter().filter(|&&b| b < limit);
            password.extend(fair.map(|&b| CHARS[usize::from(b) % CHARS.len()] as char).take(24 - password.len()));
        }
        let classes = [
            password.bytes().any(|b| b.is_ascii_lowercase()),
            password.bytes().any(|b| b.is_ascii_uppercase()),
            password.bytes().any(|b| b.is_ascii_digit()),
            password.bytes().any(|b| !b.is_ascii_alphanumeric()),
        ];
        if classes.iter().all(|&has| has) {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_come_from_the_domain_by_whm_rules() {
        let first: Vec<String> = usernames("my-shop.example.com").take(3).collect();
        assert_eq!(first, ["myshopex", "myshope1", "myshope2"]);
        assert_eq!(usernames("a.io").next().unwrap(), "a");
        assert_eq!(usernames("a.io").nth(1).unwrap(), "a1");
        assert_eq!(usernames("2024shop.com").next().unwrap(), "shop");
        assert_eq!(usernames("testing.com").next().unwrap(), "tsting");
        assert_eq!(usernames("123.com").next().unwrap(), "site");
        let many: Vec<String> = usernames("abcdefghij.com").take(100).collect();
        assert!(many.iter().all(|u| check_username(u).is_ok()), "{many:?}");
        assert_eq!(many.len(), many.iter().collect::<std::collections::HashSet<_>>().len());
        assert_eq!(many[10], "abcdef10");
    }

    #[test]
    fn a_refusal_naming_the_domain_needs_the_operator() {
        let refused = |reason: &str| PanelError::Refused { function: "createacct".into(), reason: reason.into() };
        let cases = [
            (refused("The domain “shop.example” already exists on this server."), true),
            (refused("API failure: (XID abc) shop.example is owned by another user"), true),
            (refused("Sorry, a DOMAIN is required"), true),
            (refused("The package “basic” does not exist."), false),
            (PanelError::Unreachable("createacct: timed out".into()), false),
            (PanelError::Nonsense("an HTML page".into()), false),
        ];
        for (error, stuck) in cases {
            let fault = creation_fault(error.clone(), "shop.example");
            assert_eq!(matches!(fault, Fault::Stuck(_)), stuck, "{error} gave {fault:?}");
        }
        let Fault::Stuck(why) = creation_fault(refused("Domain taken."), "shop.example") else { unreachable!() };
        assert_eq!(
            why,
            "WHM refused the domain shop.example: Domain taken. Free it on WHM (or refund the customer), \
             then run `hostr payment retry`"
        );
    }

    #[test]
    fn passwords_are_strong_and_fresh() {
        let (a, b) = (strong_password(), strong_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(a.bytes().any(|c| c.is_ascii_digit()) && a.bytes().any(|c| !c.is_ascii_alphanumeric()));
    }
}
