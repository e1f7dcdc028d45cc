//! The further accounts of a plan with several (`checkout/group.rs` adds
//! them): each pass, every one follows its group's primary, the one place
//! the group's plan and `paidUntil` live, before expiry and termination are
//! judged, so one renewal renews the whole group and one lapse expires all
//! of it in the same pass; and one that WHM does not hold yet is created
//! there while the subscription is paid, exactly once, by the same
//! `createacct` discipline as a purchase (`fulfil.rs`).
//!
//! A hand edit of a further account's `paidUntil` or `planId` is put back
//! to the primary's; edit the primary's instead. A plan change of the
//! primary is the group's: the reconcile pass moves each site's WHM
//! package. A further account whose primary cannot be read is left as it
//! is (and logged) until it can. After a failed `createacct` the next
//! attempt waits `create_settle` (there is no payment to record the failure
//! on, so the log says it).

use super::Provisioner;
use super::fulfil::Fault;
use crate::cpanel_account::{AccountStatus, CpanelAccount, GroupTerms};
use crate::plan::Plan;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use std::collections::HashMap;

impl Provisioner {
    /// Brings each further account in `accounts` in line with its primary
    /// (written, and in `accounts`), and creates in WHM those it does not
    /// hold yet. Returns how many were created.
    pub(super) fn follow_groups(&self, accounts: &mut [CpanelAccount], now: Timestamp) -> usize {
        let terms: HashMap<String, GroupTerms> =
            accounts.iter().filter(|a| a.group_of.is_none()).map(|a| (a.id.clone(), a.group_terms())).collect();
        let mut created = 0;
        for account in accounts.iter_mut().filter(|a| a.group_of.is_some()) {
            let Some(primary) = terms.get(account.primary_id()) else {
                log::warn!("account {}: its group's primary {} cannot be read", account.id, account.primary_id());
                continue;
            };
            if account.clone().follow_primary(primary, now) {
                let followed = self.store.update::<CpanelAccount, _, StoreError>(&account.id, |a| {
                    a.follow_primary(primary, now);
                    Ok(a.clone())
                });
                match followed {
                    Ok(followed) => *account = followed,
                    Err(e) => log::error!("account {}: cannot follow its group: {e}", account.id),
                }
            }
            if self.member_creation_due(account, now) {
                created += self.create_member(account) as usize;
            }
        }
        created
    }

    /// Not on WHM yet, paid for, and no `createacct` of it may still be running.
    fn member_creation_due(&self, account: &CpanelAccount, now: Timestamp) -> bool {
        let settle = chrono::Duration::from_std(self.schedule.create_settle).unwrap_or(chrono::Duration::minutes(10));
        let settled = account.create_requested_at.is_none_or(|sent| sent.as_datetime() + settle <= now.as_datetime());
        account.whm_created_at.is_none()
            && account.status != AccountStatus::Terminated
            && account.is_paid(now)
            && settled
            && self.host_of(account).is_ok_and(|host| !host.gateway.is_down())
    }

    /// Creates a further account in WHM under a username WHM has free, then
    /// makes it ACTIVE (an operator's suspension meanwhile stays).
    fn create_member(&self, account: &mut CpanelAccount) -> bool {
        let outcome = (|| -> Result<CpanelAccount, Fault> {
            let plan: Plan = self.store.get(&account.plan_id).map_err(|e| Fault::Stuck(format!("its plan: {e}")))?;
            let host = self.host_of(account)?;
            let mut member = account.clone();
            let free = |user: &str| host.gateway.call(|panel| panel.username_available(user));
            if member.create_requested_at.is_none() && !free(&member.username)? {
                member = self.rename(host, &member)?;
            }
            self.create_in_whm(member.clone(), &plan)?;
            Ok(self.store.update::<CpanelAccount, _, StoreError>(&member.id, |a| {
                if a.status == AccountStatus::Provisioning {
                    a.status = AccountStatus::Active;
                    a.updated_at = Timestamp::now();
                }
                Ok(a.clone())
            })?)
        })();
        match outcome {
            Ok(created) => {
                log::info!(
                    "account {} ({}) of group {} created",
                    created.username,
                    created.domain,
                    created.primary_id()
                );
                *account = created;
                true
            }
            Err(Fault::Retry(why) | Fault::Stuck(why)) => {
                log::warn!("account {} ({}) of a group: not created yet: {why}", account.id, account.domain);
                false
            }
        }
    }
}
