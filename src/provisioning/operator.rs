//! What the operator does by command: retry a fulfilment, suspend or
//! unsuspend an account. These change the files only; the server's accounts
//! worker applies them to WHM, exactly as it applies hand edits.

use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::ids::IdFormat;
use crate::payment::{FulfilmentStatus, Payment, PaymentState};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;

/// Sends a payment's failed (or stuck) fulfilment back to the worker.
pub fn retry(store: &Store, payment_id: &str) -> Result<Payment, String> {
    store
        .update::<Payment, _, Refusal>(payment_id, |p| {
            if p.state != PaymentState::Paid {
                return Err(Refusal(format!("payment {payment_id} is {}, not PAID", p.state.as_str())));
            }
            if p.fulfilment.status == FulfilmentStatus::Done {
                return Err(Refusal(format!("payment {payment_id} is already fulfilled")));
            }
            p.fulfilment.status = FulfilmentStatus::Provisioning;
            p.fulfilment.next_attempt_at = None;
            p.updated_at = Timestamp::now();
            Ok(p.clone())
        })
        .map_err(|Refusal(why)| why)
}

/// Why an operator's change was not made, in words.
struct Refusal(String);

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Refusal {
        Refusal(error.to_string())
    }
}

/// An account by id or username.
pub fn find_account(store: &Store, name_or_id: &str) -> Result<CpanelAccount, String> {
    let found = if IdFormat::Uuid.accepts(name_or_id) {
        store.get::<CpanelAccount>(name_or_id).map(Some)
    } else {
        store.find(CpanelAccount::by_username(&name_or_id.to_ascii_lowercase()))
    };
    found.map_err(|e| e.to_string())?.ok_or_else(|| format!("no account with username or id `{name_or_id}`"))
}

/// Suspends an account for review (`Some(reason)`), or lifts the
/// operator's suspension (`None`): ACTIVE again when paid, else EXPIRED.
pub fn set_suspension(store: &Store, account_id: &str, reason: Option<&str>) -> Result<CpanelAccount, String> {
    let now = Timestamp::now();
    let changed = store.update::<CpanelAccount, _, Refusal>(account_id, |a| {
        match reason {
            Some(reason) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(Refusal("say why the account is suspended (--reason)".to_owned()));
                }
                if matches!(a.status, AccountStatus::Provisioning | AccountStatus::Terminated) {
                    return Err(Refusal(format!("account {} is {}", a.username, a.status.as_str())));
                }
                a.status = AccountStatus::Suspended;
                a.suspend_reason = Some(reason.to_owned());
            }
            None => {
                if a.status != AccountStatus::Suspended {
                    return Err(Refusal(format!("account {} is {}, not SUSPENDED", a.username, a.status.as_str())));
                }
                a.status = if a.is_paid(now) { AccountStatus::Active } else { AccountStatus::Expired };
                a.suspend_reason = None;
            }
        }
        a.updated_at = now;
        Ok(a.clone())
    });
    changed.map_err(|Refusal(why)| why)
}
