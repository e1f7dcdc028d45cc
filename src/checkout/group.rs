//! Plans with several accounts: a customer whose plan includes `accounts: N`
//! adds up to N − 1 further cPanel accounts (each with its own domain) to
//! the subscription their purchase made, without paying again.
//!
//! The data model: the purchased account is the group's **primary** and
//! holds the group's plan, payments and `paidUntil`; each further account
//! names it in `groupOf`. A renewal of any account of the group renews the
//! primary (one payment, one renewal date), and the accounts worker copies
//! the primary's `paidUntil` to the others on every pass
//! (`CpanelAccount::follow_primary`), so expiry, termination and renewal
//! reach the whole group in the same pass. Invariants: a group never has
//! more than the plan's `accounts` accounts that are not terminated (counted
//! and created under the customer's opening lock, so simultaneous requests
//! cannot pass the cap); a further account is only added to a paid, active
//! subscription; its domain passes the same checks as a purchase's.

use super::{Checkout, CheckoutError, CheckoutResult, may_buy};
use crate::cpanel_account::{AccountStatus, CpanelAccount, purchase_domain};
use crate::customer::Customer;
use crate::ids::new_uuid;
use crate::payment::Payment;
use crate::plan::Plan;
use crate::store::StoreError;
use crate::timestamp::Timestamp;

/// Usernames tried for a further account before giving up (WHM's own
/// availability is checked by the accounts worker before `createacct`).
const MAX_USERNAMES: usize = 30;

impl Checkout {
    /// Adds a further account for `domain` to the subscription of the
    /// customer's account `account_id` (the primary, or any account of its
    /// group). Answers the new account, PROVISIONING: the accounts worker
    /// creates it in WHM.
    pub fn add_account(&self, customer: &Customer, account_id: &str, domain: &str) -> CheckoutResult<CpanelAccount> {
        may_buy(customer)?;
        let primary = self.group_primary(customer, account_id)?;
        let plan = self.store.get::<Plan>(&primary.plan_id).map_err(|_| CheckoutError::UnknownPlan)?;
        let now = Timestamp::now();
        if primary.status != AccountStatus::Active || !primary.is_paid(now) {
            return Err(CheckoutError::SubscriptionNotActive);
        }
        let domain = purchase_domain(domain).map_err(CheckoutError::BadDomain)?;
        let opening = self.opening.of(&customer.id);
        let _opening = opening.lock().unwrap_or_else(|p| p.into_inner());
        self.check_domain_free(&customer.id, &domain)?;
        if self.store.find(Payment::open_for_domain(&domain))?.is_some() {
            return Err(CheckoutError::DomainTaken);
        }
        if self.live_sites(&primary.id)? >= plan.accounts as usize {
            return Err(CheckoutError::PlanAccountsUsed { included: plan.accounts });
        }
        let account = self.create_member(&primary, &domain, now)?;
        self.store.update::<Customer, _, StoreError>(&customer.id, |c| {
            if !c.cpanel_account_ids.contains(&account.id) {
                c.cpanel_account_ids.push(account.id.clone());
            }
            c.updated_at = now;
            Ok(())
        })?;
        log::info!("account {} ({domain}) added to the group of {} (plan {})", account.id, primary.id, plan.id);
        // The same hook that starts fulfilment wakes the accounts worker.
        if let Some(hook) = self.on_paid.get() {
            hook();
        }
        Ok(account)
    }

    /// The primary of the group that the customer's account `account_id`
    /// belongs to (the account itself when it is one).
    pub(super) fn group_primary(&self, customer: &Customer, account_id: &str) -> CheckoutResult<CpanelAccount> {
        let own = |id: &str| match self.store.get::<CpanelAccount>(id) {
            Ok(account) if account.customer_id == customer.id => Ok(account),
            Ok(_) | Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => {
                Err(CheckoutError::NotYourAccount)
            }
            Err(other) => Err(other.into()),
        };
        let account = own(account_id)?;
        let primary = match &account.group_of {
            Some(primary) => own(primary)?,
            None => account,
        };
        if primary.status == AccountStatus::Terminated {
            return Err(CheckoutError::AccountTerminated);
        }
        Ok(primary)
    }

    /// How many sites of the group of `primary_id` count against its plan's
    /// `accounts`: the primary and every further one not terminated.
    pub(super) fn live_sites(&self, primary_id: &str) -> CheckoutResult<usize> {
        let members = self.store.find_all(CpanelAccount::in_group(primary_id))?;
        Ok(1 + members.iter().filter(|m| m.status != AccountStatus::Terminated).count())
    }

    /// Writes the further account as PROVISIONING under the first username
    /// for its domain that no account here has.
    fn create_member(&self, primary: &CpanelAccount, domain: &str, now: Timestamp) -> CheckoutResult<CpanelAccount> {
        let id = new_uuid();
        for username in crate::provisioning::fulfil::usernames(domain).take(MAX_USERNAMES) {
            let account = CpanelAccount {
                group_of: Some(primary.id.clone()),
                paid_until: primary.paid_until,
                // A group lives on its primary's WHM server.
                server_id: primary.server_id.clone(),
                ..CpanelAccount::provisioning(&id, &username, domain, &primary.customer_id, &primary.plan_id, now)
            };
            match self.store.create(&account) {
                Ok(()) => return Ok(account),
                Err(StoreError::Taken { field: "username", .. }) => continue,
                Err(StoreError::Taken { field: "domain", .. }) => return Err(CheckoutError::DomainTaken),
                Err(other) => return Err(other.into()),
            }
        }
        Err(CheckoutError::BadDomain(format!("no free cPanel username could be made from {domain}")))
    }
}
