//! The account lifecycle as pure decisions: which payments are due for
//! delivery, which accounts expire or terminate, what WHM's state should be,
//! and what must change to get there. The files are the desired state; WHM
//! is brought in line with them. Nothing here calls WHM or writes a file.

use super::panel::PanelAccount;
use crate::cpanel_account::{AccountStatus, CpanelAccount, ResourceUsage};
use crate::customer::CustomerStatus;
use crate::payment::{Fulfilment, FulfilmentStatus};
use crate::plan::Plan;
use crate::timestamp::Timestamp;
use std::collections::HashMap;

/// Every suspension hostr makes carries this prefix, so that suspensions by
/// someone else (WHM's own admin, abuse handling) are recognised and left alone.
pub const REASON_PREFIX: &str = "hostr:";

/// Whether a paid payment's delivery is tried now: new and interrupted ones
/// at once, failed ones when their retry time has come (never, for failures
/// that wait for the operator).
pub fn fulfilment_due(fulfilment: &Fulfilment, now: Timestamp) -> bool {
    match fulfilment.status {
        FulfilmentStatus::None | FulfilmentStatus::Provisioning => true,
        FulfilmentStatus::Failed => fulfilment.next_attempt_at.is_some_and(|at| at <= now),
        FulfilmentStatus::Done => false,
    }
}

/// ACTIVE accounts whose paid period (plus `grace`) is over.
pub fn expires(account: &CpanelAccount, now: Timestamp, grace: chrono::Duration) -> bool {
    account.status == AccountStatus::Active
        && account.paid_until.is_some_and(|until| until.as_datetime() + grace <= now.as_datetime())
}

/// EXPIRED accounts unpaid for `after` beyond their paid period.
pub fn terminates(account: &CpanelAccount, now: Timestamp, after: chrono::Duration) -> bool {
    account.status == AccountStatus::Expired
        && account.paid_until.is_some_and(|until| until.as_datetime() + after <= now.as_datetime())
}

/// What WHM's state of an account should be, by the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suspension {
    /// WHM does not (or no longer) hold the account: not yet created, or
    /// terminated. Nothing to compare.
    NotOnPanel,
    /// The account should run.
    Running,
    /// The account should be suspended, for this `hostr:` reason.
    Suspended(String),
}

/// Whether WHM should have the account suspended, and why.
pub fn suspension(account: &CpanelAccount, owner: CustomerStatus) -> Suspension {
    let reason = match (account.status, owner) {
        (AccountStatus::Provisioning | AccountStatus::Terminated, _) => return Suspension::NotOnPanel,
        (AccountStatus::Suspended, _) => {
            let why = account.suspend_reason.as_deref().unwrap_or("no reason given");
            format!("{REASON_PREFIX} suspended by the operator: {why}")
        }
        (_, CustomerStatus::Suspended) => format!("{REASON_PREFIX} the customer is suspended"),
        (_, CustomerStatus::Deleted) => format!("{REASON_PREFIX} the customer deleted their account"),
        (AccountStatus::Expired, _) => {
            let until = account.paid_until.map_or_else(|| "—".to_owned(), |t| t.to_string());
            format!("{REASON_PREFIX} non-payment (paid until {until})")
        }
        (AccountStatus::Active, CustomerStatus::Active) => return Suspension::Running,
    };
    Suspension::Suspended(reason)
}

/// One step to bring WHM in line with the files, or a difference hostr
/// must not fix by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Suspend { account_id: String, username: String, reason: String },
    Unsuspend { account_id: String, username: String },
    Drift { account_id: String, username: String, problem: String },
}

/// What to do so that WHM (as last read, `whm` by username) matches the
/// files. Only accounts that differ produce an action.
pub fn reconcile<'a>(
    accounts: impl IntoIterator<Item = (&'a CpanelAccount, CustomerStatus)>,
    whm: &HashMap<String, PanelAccount>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for (account, owner) in accounts {
        let wanted = suspension(account, owner);
        if wanted == Suspension::NotOnPanel {
            continue;
        }
        let (account_id, username) = (account.id.clone(), account.username.clone());
        let Some(actual) = whm.get(&account.username) else {
            let problem = format!("{} is {} here but does not exist on WHM", account.username, account.status.as_str());
            actions.push(Action::Drift { account_id, username, problem });
            continue;
        };
        if actual.domain != account.domain {
            // Someone else's site under a reused name: hostr must not touch it.
            let problem = format!("{} hosts {} on WHM but {} here", account.username, actual.domain, account.domain);
            actions.push(Action::Drift { account_id, username, problem });
            continue;
        }
        match (wanted, actual.suspended) {
            (Suspension::Suspended(reason), false) => actions.push(Action::Suspend { account_id, username, reason }),
            (Suspension::Running, true) => {
                let theirs = actual.suspend_reason.as_deref().unwrap_or("");
                if theirs.starts_with(REASON_PREFIX) {
                    actions.push(Action::Unsuspend { account_id, username });
                } else {
                    let problem = format!(
                        "{} is suspended on WHM by someone else ({}); hostr leaves it so",
                        account.username,
                        if theirs.is_empty() { "no reason given" } else { theirs }
                    );
                    actions.push(Action::Drift { account_id, username, problem });
                }
            }
            _ => {}
        }
    }
    actions
}

/// What to do about an account's WHM package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageStep {
    /// Move it (`changepackage`): the file changed, or a change is unfinished.
    Change(String),
    /// WHM already has the wanted package: only write down that it does.
    Record(String),
    /// WHM's package was changed by someone else: reported, left alone.
    Drift(String),
}

/// How to bring the account's package on WHM (`actual`, as last read) to
/// `wanted` (its plan's `whmPackage`). hostr moves it only when WHM is where
/// hostr last left it (`whmPackage` on file) or a change of its own is
/// unfinished: a package someone set by hand in WHM is reported, never
/// overwritten, until the file says so (its `whmPackage` set to what WHM has).
pub fn package_step(
    account: &CpanelAccount,
    wanted: Option<&str>,
    actual: Option<&PanelAccount>,
) -> Option<PackageStep> {
    if matches!(account.status, AccountStatus::Provisioning | AccountStatus::Terminated) {
        return None;
    }
    // A missing account or a reused username is reported by `reconcile`.
    let actual = actual.filter(|a| a.domain == account.domain)?;
    if let Some(request) = &account.package_request {
        return Some(PackageStep::Change(wanted.unwrap_or(&request.package).to_owned()));
    }
    let wanted = wanted?;
    if actual.package == wanted {
        return (account.whm_package.as_deref() != Some(wanted)).then(|| PackageStep::Record(wanted.to_owned()));
    }
    if account.whm_package.as_deref() == Some(actual.package.as_str()) {
        return Some(PackageStep::Change(wanted.to_owned()));
    }
    let known = account.whm_package.as_deref().map_or_else(|| "none on file".to_owned(), |p| format!("hostr set {p}"));
    Some(PackageStep::Drift(format!(
        "{} is on package {} on WHM ({known}) but its plan's package is {wanted}; hostr leaves it so \
         (set whmPackage to \"{}\" in the account file to let hostr move it)",
        account.username, actual.package, actual.package
    )))
}

/// Usage as read from WHM: disk from `listaccts` (MB), transfer from
/// `showbw` (bytes, converted to MB); the transfer limit is the plan's.
pub fn usage(actual: &PanelAccount, bandwidth_bytes: u64, plan: Option<&Plan>, now: Timestamp) -> ResourceUsage {
    const MB: u64 = 1024 * 1024;
    ResourceUsage {
        disk_used_mb: actual.disk_used_mb,
        disk_limit_mb: actual.disk_limit_mb.or_else(|| plan.map(|p| u64::from(p.storage) * 1024)),
        bandwidth_used_mb: bandwidth_bytes.div_ceil(MB),
        bandwidth_limit_mb: plan.map(|p| u64::from(p.bandwidth) * 1024),
        read_at: now,
    }
}

/// Whether a new reading must be written: the figures changed, or the
/// last write is a day old (so `readAt` never lags more than a day). This
/// keeps a usage pass over thousands of idle accounts from rewriting them all.
pub fn worth_writing(old: Option<&ResourceUsage>, new: &ResourceUsage) -> bool {
    let Some(old) = old else { return true };
    let same = ResourceUsage { read_at: new.read_at, ..old.clone() } == *new;
    !same || new.read_at.as_datetime() - old.read_at.as_datetime() >= chrono::Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(status: AccountStatus, paid_until: &str) -> CpanelAccount {
        let t = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        CpanelAccount {
            status,
            paid_until: Some(Timestamp::parse(paid_until).unwrap()),
            ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", t)
        }
    }

    fn on_whm(suspended: Option<&str>) -> HashMap<String, PanelAccount> {
        let a = PanelAccount {
            username: "shop".into(),
            domain: "shop.example".into(),
            package: "basic".into(),
            suspended: suspended.is_some(),
            suspend_reason: suspended.map(str::to_owned),
            disk_used_mb: 5,
            disk_limit_mb: None,
            ip: None,
        };
        HashMap::from([("shop".to_owned(), a)])
    }

    #[test]
    fn failed_fulfilments_wait_for_their_retry_time_or_the_operator() {
        use FulfilmentStatus as F;
        let now = Timestamp::parse("2026-12-03T00:00:00Z").unwrap();
        let (past, future) =
            (Timestamp::parse("2026-12-02T23:59:59Z").ok(), Timestamp::parse("2026-12-03T00:00:01Z").ok());
        let cases = [
            (F::None, None, true),
            (F::Provisioning, None, true),
            (F::Failed, past, true),
            (F::Failed, Some(now), true),
            (F::Failed, future, false),
            (F::Failed, None, false),
            (F::Done, None, false),
            (F::Done, past, false),
        ];
        for (status, next_attempt_at, due) in cases {
            let fulfilment = Fulfilment { status, next_attempt_at, ..Fulfilment::default() };
            assert_eq!(fulfilment_due(&fulfilment, now), due, "{status:?} next at {next_attempt_at:?}");
        }
    }

    #[test]
    fn expiry_counts_the_grace_period() {
        let now = Timestamp::parse("2026-12-03T00:00:00Z").unwrap();
        let a = account(AccountStatus::Active, "2026-12-01T00:00:00Z");
        assert!(expires(&a, now, chrono::Duration::zero()));
        assert!(expires(&a, now, chrono::Duration::days(2)));
        assert!(!expires(&a, now, chrono::Duration::days(3)));
        assert!(!expires(&account(AccountStatus::Suspended, "2026-12-01T00:00:00Z"), now, chrono::Duration::zero()));
        assert!(terminates(&account(AccountStatus::Expired, "2026-11-01T00:00:00Z"), now, chrono::Duration::days(30)));
        assert!(!terminates(&account(AccountStatus::Expired, "2026-11-10T00:00:00Z"), now, chrono::Duration::days(30)));
    }

    #[test]
    fn the_wanted_suspension_follows_the_account_and_its_owner() {
        use AccountStatus as A;
        use CustomerStatus as C;
        let suspended = |reason: &str| Suspension::Suspended(format!("hostr: {reason}"));
        let (paid, lapsed) = ("2027-01-01T00:00:00Z", "2026-11-01T00:00:00Z");
        let mut operator = account(A::Suspended, paid);
        operator.suspend_reason = Some("spam".into());
        let cases = [
            (account(A::Provisioning, paid), C::Active, Suspension::NotOnPanel),
            (account(A::Terminated, lapsed), C::Deleted, Suspension::NotOnPanel),
            (account(A::Active, paid), C::Active, Suspension::Running),
            (account(A::Active, paid), C::Suspended, suspended("the customer is suspended")),
            (account(A::Active, paid), C::Deleted, suspended("the customer deleted their account")),
            (account(A::Expired, lapsed), C::Active, suspended("non-payment (paid until 2026-11-01T00:00:00Z)")),
            (account(A::Expired, lapsed), C::Suspended, suspended("the customer is suspended")),
            (operator.clone(), C::Active, suspended("suspended by the operator: spam")),
            (operator, C::Deleted, suspended("suspended by the operator: spam")),
        ];
        for (account, owner, expected) in cases {
            assert_eq!(suspension(&account, owner), expected, "{:?} owned by a {owner:?} customer", account.status);
        }
    }

    #[test]
    fn only_differences_become_actions() {
        let active = account(AccountStatus::Active, "2027-01-01T00:00:00Z");
        let expired = account(AccountStatus::Expired, "2026-11-01T00:00:00Z");
        let ours = Some("hostr: non-payment");
        assert_eq!(reconcile([(&active, CustomerStatus::Active)], &on_whm(None)), vec![]);
        assert_eq!(reconcile([(&expired, CustomerStatus::Active)], &on_whm(ours)), vec![]);
        assert!(matches!(
            &reconcile([(&expired, CustomerStatus::Active)], &on_whm(None))[..],
            [Action::Suspend { reason, .. }] if reason.starts_with("hostr: non-payment")
        ));
        assert!(matches!(
            &reconcile([(&active, CustomerStatus::Active)], &on_whm(ours))[..],
            [Action::Unsuspend { .. }]
        ));
        assert!(matches!(
            &reconcile([(&active, CustomerStatus::Active)], &on_whm(Some("abuse report")))[..],
            [Action::Drift { problem, .. }] if problem.contains("someone else")
        ));
        assert!(matches!(
            &reconcile([(&active, CustomerStatus::Deleted)], &on_whm(None))[..],
            [Action::Suspend { reason, .. }] if reason.contains("deleted")
        ));
        assert!(matches!(
            &reconcile([(&active, CustomerStatus::Active)], &HashMap::new())[..],
            [Action::Drift { problem, .. }] if problem.contains("does not exist on WHM")
        ));
        let mut elsewhere = on_whm(None);
        elsewhere.get_mut("shop").unwrap().domain = "other.example".into();
        let expired_here = account(AccountStatus::Expired, "2026-11-01T00:00:00Z");
        assert!(
            matches!(&reconcile([(&expired_here, CustomerStatus::Active)], &elsewhere)[..], [Action::Drift { problem, .. }] if problem.contains("other.example")),
            "a reused username is reported, never suspended"
        );
        let mut operator = account(AccountStatus::Suspended, "2027-01-01T00:00:00Z");
        operator.suspend_reason = Some("spam".into());
        assert!(matches!(
            &reconcile([(&operator, CustomerStatus::Active)], &on_whm(None))[..],
            [Action::Suspend { reason, .. }] if reason.contains("operator: spam")
        ));
    }

    #[test]
    fn packages_follow_the_file_but_not_over_a_hand_change_in_whm() {
        use PackageStep::{Change, Drift, Record};
        let whm = on_whm(None).remove("shop").unwrap(); // on "basic"
        let with = |recorded: Option<&str>, request: Option<&str>| CpanelAccount {
            whm_package: recorded.map(str::to_owned),
            package_request: request
                .map(|p| crate::cpanel_account::PackageRequest { package: p.into(), requested_at: Timestamp::MIN }),
            ..account(AccountStatus::Active, "2027-01-01T00:00:00Z")
        };
        let cases = [
            // (recorded, unfinished request, wanted, expected)
            (Some("basic"), None, Some("basic"), None),
            (None, None, Some("basic"), Some(Record("basic".into()))),
            (Some("basic"), None, Some("pro"), Some(Change("pro".into()))),
            (Some("basic"), Some("pro"), Some("pro"), Some(Change("pro".into()))),
            (Some("pro"), Some("pro"), Some("pro"), Some(Change("pro".into()))),
            (Some("pro"), None, Some("pro"), Some(Drift(String::new()))),
            (None, None, Some("pro"), Some(Drift(String::new()))),
            (Some("basic"), None, None, None),
        ];
        for (recorded, request, wanted, expected) in cases {
            let got = package_step(&with(recorded, request), wanted, Some(&whm));
            match expected {
                Some(Drift(_)) => assert!(
                    matches!(&got, Some(Drift(why)) if why.contains("on package basic on WHM") && why.contains("leaves it")),
                    "{recorded:?} {wanted:?}: {got:?}"
                ),
                expected => assert_eq!(got, expected, "{recorded:?} {request:?} {wanted:?}"),
            }
        }
        let elsewhere = PanelAccount { domain: "other.example".into(), ..whm.clone() };
        assert_eq!(package_step(&with(Some("basic"), None), Some("pro"), Some(&elsewhere)), None, "not someone else's");
        assert_eq!(package_step(&with(Some("basic"), None), Some("pro"), None), None);
        let creating = CpanelAccount { status: AccountStatus::Provisioning, ..with(Some("basic"), None) };
        assert_eq!(package_step(&creating, Some("pro"), Some(&whm)), None);
    }

    #[test]
    fn usage_converts_bytes_to_megabytes() {
        let whm = on_whm(None).remove("shop").unwrap();
        let now = Timestamp::now();
        let plan = crate::plan::Plan::seed(now);
        let usage = usage(&whm, 3 * 1048576 + 1, Some(&plan), now);
        assert_eq!((usage.disk_used_mb, usage.bandwidth_used_mb), (5, 4));
        assert_eq!((usage.disk_limit_mb, usage.bandwidth_limit_mb), (Some(10 * 1024), Some(100 * 1024)));
        let later = |hours| ResourceUsage {
            read_at: Timestamp::from(now.as_datetime() + chrono::Duration::hours(hours)),
            ..usage.clone()
        };
        assert!(worth_writing(None, &usage));
        assert!(!worth_writing(Some(&usage), &later(5)), "unchanged");
        assert!(worth_writing(Some(&usage), &later(24)), "a day old");
        assert!(worth_writing(Some(&usage), &ResourceUsage { disk_used_mb: 6, ..later(1) }), "changed");
    }
}
