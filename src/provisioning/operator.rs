//! What the operator does by command or from the console: retry a
//! fulfilment, suspend or unsuspend an account, extend one as goodwill,
//! change its plan. These change the files only; the server's accounts
//! worker applies them to WHM, exactly as it applies hand edits.

use super::ProvisioningError;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::ids::IdFormat;
use crate::payment::{FulfilmentStatus, Payment, PaymentState};
use crate::store::Store;
use crate::timestamp::Timestamp;

/// Sends a payment's failed (or stuck) fulfilment back to the worker.
pub fn retry(store: &Store, payment_id: &str) -> Result<Payment, ProvisioningError> {
    store.update::<Payment, _, ProvisioningError>(payment_id, |p| {
        if p.state != PaymentState::Paid {
            return Err(ProvisioningError::NotPaid { payment_id: payment_id.to_owned(), state: p.state });
        }
        if p.fulfilment.status == FulfilmentStatus::Done {
            return Err(ProvisioningError::AlreadyFulfilled { payment_id: payment_id.to_owned() });
        }
        p.fulfilment.status = FulfilmentStatus::Provisioning;
        p.fulfilment.next_attempt_at = None;
        p.updated_at = Timestamp::now();
        Ok(p.clone())
    })
}

/// An account by id or username.
pub fn find_account(store: &Store, name_or_id: &str) -> Result<CpanelAccount, ProvisioningError> {
    let found = if IdFormat::Uuid.accepts(name_or_id) {
        store.get::<CpanelAccount>(name_or_id).map(Some)
    } else {
        store.find(CpanelAccount::by_username(&name_or_id.to_ascii_lowercase()))
    };
    found?.ok_or_else(|| ProvisioningError::UnknownAccount(name_or_id.to_owned()))
}

/// Suspends an account for review (`Some(reason)`), or lifts the
/// operator's suspension (`None`): ACTIVE again when paid, else EXPIRED.
/// Suspends an account for `reason` (private) with an optional message for
/// the customer, or lifts the operator's suspension when `reason` is `None`.
pub fn set_suspension(
    store: &Store,
    account_id: &str,
    reason: Option<&str>,
    public_message: Option<&str>,
) -> Result<CpanelAccount, ProvisioningError> {
    let now = Timestamp::now();
    store.update::<CpanelAccount, _, ProvisioningError>(account_id, |a| {
        match reason {
            Some(reason) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(ProvisioningError::ReasonRequired);
                }
                if matches!(a.status, AccountStatus::Provisioning | AccountStatus::Terminated) {
                    return Err(ProvisioningError::NotSuspendable { username: a.username.clone(), status: a.status });
                }
                a.status = AccountStatus::Suspended;
                a.suspend_reason = Some(reason.to_owned());
                a.public_message = public_message.map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned);
            }
            None => {
                if a.status != AccountStatus::Suspended {
                    return Err(ProvisioningError::NotSuspended { username: a.username.clone(), status: a.status });
                }
                a.status = if a.is_paid(now) { AccountStatus::Active } else { AccountStatus::Expired };
                a.suspend_reason = None;
                a.public_message = None;
            }
        }
        a.suspension_changed_at = Some(now);
        a.updated_at = now;
        Ok(a.clone())
    })
}

/// A further site of a group follows its primary each pass, so a change of
/// its plan or paid period alone would be undone: refused, naming the primary.
fn refuse_group_member(store: &Store, account_id: &str) -> Result<(), ProvisioningError> {
    let account: CpanelAccount = store.get(account_id)?;
    let Some(primary) = &account.group_of else { return Ok(()) };
    let primary = store.get::<CpanelAccount>(primary).map_or_else(|_| primary.clone(), |p| p.username);
    Err(ProvisioningError::GroupMember { username: account.username, primary })
}

/// The most days one goodwill extension gives.
pub const MAX_EXTENSION_DAYS: u32 = 366;

/// Extends an account's paid period by `days` as goodwill, for `reason`
/// (kept in the audit log): from `paidUntil`, or from now when that has
/// passed. An EXPIRED account is ACTIVE again; the accounts worker lifts
/// hostr's suspension in WHM. No payment is made or recorded.
pub fn extend(store: &Store, account_id: &str, days: u32, reason: &str) -> Result<CpanelAccount, ProvisioningError> {
    if reason.trim().is_empty() {
        return Err(ProvisioningError::ReasonRequired);
    }
    if !(1..=MAX_EXTENSION_DAYS).contains(&days) {
        return Err(ProvisioningError::NotExtendable(format!("extend by 1 to {MAX_EXTENSION_DAYS} days, not {days}")));
    }
    let now = Timestamp::now();
    refuse_group_member(store, account_id)?;
    store.update::<CpanelAccount, _, ProvisioningError>(account_id, |a| {
        let refuse = |why: &str| Err(ProvisioningError::NotExtendable(format!("account {} {why}", a.username)));
        let Some(until) = a.paid_until else { return refuse("has no end to its paid period") };
        if matches!(a.status, AccountStatus::Provisioning | AccountStatus::Terminated) {
            return refuse(&format!("is {}", a.status.as_str()));
        }
        let from = if until > now { until } else { now };
        let Some(new_until) = from.as_datetime().checked_add_days(chrono::Days::new(u64::from(days))) else {
            return refuse("would be paid past the last date hostr records");
        };
        a.paid_until = Some(Timestamp::from(new_until));
        if a.status == AccountStatus::Expired {
            a.status = AccountStatus::Active;
        }
        a.updated_at = now;
        Ok(a.clone())
    })
}

/// Moves an account to another plan by the operator's word, no money
/// involved: at once (the accounts worker then moves the WHM package), or
/// `at_renewal` (its next renewal invoice is for the new plan, as when a
/// customer schedules a downgrade).
pub fn change_plan(
    store: &Store,
    account_id: &str,
    plan_id: &str,
    at_renewal: bool,
) -> Result<CpanelAccount, ProvisioningError> {
    let plan: crate::plan::Plan = store.get(plan_id)?;
    refuse_group_member(store, account_id)?;
    store.update::<CpanelAccount, _, ProvisioningError>(account_id, |a| {
        if at_renewal {
            a.scheduled_plan = Some(crate::cpanel_account::ScheduledPlan { plan_id: plan.id.clone(), from: None });
        } else if a.plan_id != plan.id {
            super::package::remember_package(store, a);
            a.plan_id = plan.id.clone();
            a.scheduled_plan = None;
        }
        a.updated_at = Timestamp::now();
        Ok(a.clone())
    })
}
