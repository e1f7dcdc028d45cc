//! Which domains a customer may buy: one hosted by nobody here, not inside
//! a domain another customer holds, and holding none of theirs inside it.
//! The customer's own domains may nest (`shop.example` and
//! `mail.shop.example` on two accounts of one customer).
//!
//! To hold a domain is to have an account for it that is not terminated, or
//! an open purchase of it (`Payment::open_for_domain`). Holders are found
//! through index keys, never by reading a folder: each holder is indexed
//! under its own domain and under every domain that one lies inside
//! (`CpanelAccount::inside`, `Payment::open_inside`). A refusal never says
//! who the holder is.

use super::{Checkout, CheckoutError, CheckoutResult};
use crate::cpanel_account::{CpanelAccount, parent_domains};
use crate::payment::Payment;

impl Checkout {
    /// Refuses a domain hosted here already (the customer's own accounts
    /// too: one account per domain) or nested with another customer's.
    pub(super) fn check_domain_free(&self, customer_id: &str, domain: &str) -> CheckoutResult<()> {
        if let Some(account) = self.store.find(CpanelAccount::by_domain(domain))? {
            // Their own: say so, so the page can offer to renew it instead.
            return Err(if account.customer_id == customer_id {
                CheckoutError::DomainYours
            } else {
                CheckoutError::DomainTaken
            });
        }
        if self.nests_with_another(customer_id, domain)? {
            return Err(CheckoutError::DomainOverlaps);
        }
        Ok(())
    }

    /// Whether another customer holds a domain that `domain` lies inside,
    /// or one that lies inside `domain`.
    pub(super) fn nests_with_another(&self, customer_id: &str, domain: &str) -> CheckoutResult<bool> {
        let theirs = |owner: &String| *owner != customer_id;
        for parent in parent_domains(domain) {
            let account = self.store.find(CpanelAccount::by_domain(parent))?;
            let purchase = self.store.find(Payment::open_for_domain(parent))?;
            if account.is_some_and(|a| theirs(&a.customer_id)) || purchase.is_some_and(|p| theirs(&p.customer_id)) {
                return Ok(true);
            }
        }
        let accounts = self.store.find_all(CpanelAccount::inside(domain))?;
        let purchases = self.store.find_all(Payment::open_inside(domain))?;
        Ok(accounts.iter().any(|a| theirs(&a.customer_id)) || purchases.iter().any(|p| theirs(&p.customer_id)))
    }
}
