//! Buying hosting: a Payment for a plan's price, a Lightning invoice for it,
//! and the move to PAID, recorded exactly once, after which fulfilment starts.
//!
//! Rules kept here:
//! - the price comes from the plan on the server, never from the client;
//! - the Payment is written as PENDING *before* the provider is called, so a
//!   crash leaves a traceable record; it carries its own id as the invoice's
//!   `correlationId`, by which a lost invoice is found again;
//! - a second request for the same open purchase gets the same payment;
//! - the provider's word is re-read before anything changes (webhooks are
//!   only hints), and an invoice whose amount differs is never taken as paid.

pub mod provider;
pub mod sandbox;

use crate::cpanel_account::{CpanelAccount, check_domain};
use crate::customer::{Customer, CustomerStatus};
use crate::error::{ApiError, ApiResult, Failure};
use crate::ids::new_uuid;
use crate::payment::{FulfilmentStatus, MarkedPaid, Payment, PaymentState};
use crate::plan::Plan;
use crate::store::{Store, StoreError};
use crate::strike::{Invoice, InvoiceState};
use crate::timestamp::Timestamp;
use provider::PaymentProvider;
use sandbox::SandboxPayments;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often one payment may be looked up at the provider on behalf of a
/// polling page.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What a customer is buying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purchase {
    NewAccount { plan_id: String, domain: String },
    Renewal { account_id: String },
}

pub struct Checkout {
    provider: Arc<dyn PaymentProvider>,
    sandbox: Option<Arc<SandboxPayments>>,
    invoice_lifetime: chrono::Duration,
    last_checked: Mutex<HashMap<String, Instant>>,
}

impl Checkout {
    pub fn new(provider: Arc<dyn PaymentProvider>, invoice_lifetime: Duration) -> Checkout {
        Checkout::build(provider, None, invoice_lifetime)
    }

    pub fn sandboxed(invoice_lifetime: Duration) -> Checkout {
        let sandbox = Arc::new(SandboxPayments::default());
        Checkout::build(sandbox.clone(), Some(sandbox), invoice_lifetime)
    }

    fn build(
        provider: Arc<dyn PaymentProvider>,
        sandbox: Option<Arc<SandboxPayments>>,
        lifetime: Duration,
    ) -> Checkout {
        Checkout {
            provider,
            sandbox,
            invoice_lifetime: chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1)),
            last_checked: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_sandbox(&self) -> bool {
        self.provider.is_sandbox()
    }

    /// Starts (or returns the open) payment for `purchase` by `customer`.
    pub fn create_invoice(&self, store: &Store, customer: &Customer, purchase: Purchase) -> ApiResult<Payment> {
        match customer.status {
            CustomerStatus::Active => {}
            CustomerStatus::Suspended => return Err(suspended()),
            CustomerStatus::Deleted => return Err(deleted()),
        }
        let (plan, account_id, domain) = self.target(store, customer, &purchase)?;
        if let Some(open) = self.open_payment(store, customer, &plan, account_id.as_deref(), domain.as_deref())? {
            return self.ensure_invoice(store, open, &plan, false);
        }
        let now = Timestamp::now();
        let payment = Payment {
            id: new_uuid(),
            customer_id: customer.id.clone(),
            plan_id: plan.id.clone(),
            // A new account's id is chosen now, so the payment names it from the start.
            account_id: Some(account_id.unwrap_or_else(new_uuid)),
            domain,
            sandbox: self.is_sandbox(),
            amount: plan.price,
            currency: plan.currency.clone(),
            strike_invoice_id: None,
            bolt11: None,
            expires_at: None,
            state: PaymentState::Pending,
            fulfilment: Default::default(),
            paid_at: None,
            marked_paid: None,
            period_start: None,
            period_end: None,
            created_at: now,
            updated_at: now,
        };
        store.create(&payment)?;
        store.update::<Customer, _, StoreError>(&customer.id, |c| {
            c.payment_ids.push(payment.id.clone());
            c.updated_at = now;
            Ok(())
        })?;
        log::info!("payment {} opened: {} {} for plan {}", payment.id, payment.amount, payment.currency, plan.id);
        self.ensure_invoice(store, payment, &plan, true)
    }

    /// The plan, account id and domain a purchase is about, checked.
    fn target(
        &self,
        store: &Store,
        customer: &Customer,
        purchase: &Purchase,
    ) -> ApiResult<(Plan, Option<String>, Option<String>)> {
        match purchase {
            Purchase::NewAccount { plan_id, domain } => {
                let plan = store.get::<Plan>(plan_id).ok().filter(|p| p.available).ok_or_else(unknown_plan)?;
                let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
                check_domain(&domain).map_err(|why| ApiError::bad_request("bad_domain", format!("{why}.")))?;
                if store.find::<CpanelAccount>("domain", &domain)?.is_some() {
                    return Err(StoreError::Taken {
                        kind: crate::store::Kind::CpanelAccount,
                        field: "domain",
                        value: domain,
                    }
                    .into());
                }
                Ok((plan, None, Some(domain)))
            }
            Purchase::Renewal { account_id } => {
                let account = match store.get::<CpanelAccount>(account_id) {
                    Ok(account) => account,
                    Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => return Err(not_your_account()),
                    Err(other) => return Err(other.into()),
                };
                if account.customer_id != customer.id {
                    return Err(not_your_account());
                }
                let plan = store.get::<Plan>(&account.plan_id).map_err(|_| unknown_plan())?;
                Ok((plan, Some(account.id), None))
            }
        }
    }

    /// The customer's pending, unexpired payment for the same thing (a double
    /// click, a second tab), if any.
    fn open_payment(
        &self,
        store: &Store,
        customer: &Customer,
        plan: &Plan,
        account_id: Option<&str>,
        domain: Option<&str>,
    ) -> ApiResult<Option<Payment>> {
        let now = Timestamp::now();
        let open = store.find_all::<Payment>("customerId", &customer.id)?.into_iter().find(|p| {
            p.state == PaymentState::Pending
                && p.plan_id == plan.id
                && !self.lifetime_over(p, now)
                && match (account_id, domain) {
                    (Some(account), _) => p.account_id.as_deref() == Some(account) && p.domain.is_none(),
                    (None, Some(domain)) => p.domain.as_deref() == Some(domain),
                    (None, None) => false,
                }
        });
        Ok(open)
    }

    /// Makes sure a pending payment has an invoice and a quote, creating
    /// the invoice only if the provider has none under the payment's id
    /// (`fresh`: the payment was written just now, so it cannot have one).
    fn ensure_invoice(&self, store: &Store, payment: Payment, plan: &Plan, fresh: bool) -> ApiResult<Payment> {
        if payment.bolt11.is_some() {
            return Ok(payment);
        }
        let invoice = match payment.strike_invoice_id.as_deref() {
            Some(id) => self.provider.find_invoice(id)?,
            None if fresh => None,
            None => self.provider.find_by_correlation(&payment.id)?,
        };
        let invoice = match invoice {
            Some(invoice) => invoice,
            None => {
                let description = describe(plan, &payment);
                self.provider.issue_invoice(&payment.id, &description, payment.amount, &payment.currency)?
            }
        };
        self.attach_quote(store, &payment.id, &invoice)
    }

    /// Records the invoice and a fresh quote (BOLT11) on the payment.
    fn attach_quote(&self, store: &Store, payment_id: &str, invoice: &Invoice) -> ApiResult<Payment> {
        let quote = self.provider.issue_quote(&invoice.id)?;
        Ok(store.update::<Payment, _, StoreError>(payment_id, |p| {
            p.strike_invoice_id = Some(invoice.id.clone());
            p.bolt11 = Some(quote.bolt11.clone());
            p.expires_at = Some(quote.expires_at);
            p.updated_at = Timestamp::now();
            Ok(p.clone())
        })?)
    }

    /// The payment as the page polls it: looked up at the provider at most
    /// about once a second; with `new_quote`, an expired quote is replaced.
    pub fn check(&self, store: &Store, payment_id: &str, new_quote: bool) -> ApiResult<Payment> {
        let due = {
            let mut checked = self.last_checked.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if checked.len() > 10_000 {
                checked.retain(|_, at| now.duration_since(*at) < CHECK_INTERVAL);
            }
            match checked.get(payment_id) {
                Some(at) if now.duration_since(*at) < CHECK_INTERVAL => false,
                _ => {
                    checked.insert(payment_id.to_owned(), now);
                    true
                }
            }
        };
        if due || new_quote { self.refresh(store, payment_id, new_quote) } else { Ok(store.get(payment_id)?) }
    }

    /// Brings a pending payment up to date with what the provider says.
    /// Used by page polls, webhooks and the background poller alike.
    pub fn refresh(&self, store: &Store, payment_id: &str, new_quote: bool) -> ApiResult<Payment> {
        let payment: Payment = store.get(payment_id)?;
        if payment.state != PaymentState::Pending {
            return Ok(payment);
        }
        let now = Timestamp::now();
        let invoice = match payment.strike_invoice_id.as_deref() {
            Some(id) => self.provider.find_invoice(id)?,
            None => self.provider.find_by_correlation(&payment.id)?,
        };
        let Some(invoice) = invoice else {
            // Never reached the provider (a crash or an outage at creation).
            return if self.lifetime_over(&payment, now) {
                self.close(store, payment_id, PaymentState::Expired)
            } else {
                Ok(payment)
            };
        };
        if invoice.amount != payment.amount || invoice.currency != payment.currency {
            log::error!(
                "payment {payment_id}: invoice {} is for {} {} but the payment is for {} {}; not acting on it",
                invoice.id,
                invoice.amount,
                invoice.currency,
                payment.amount,
                payment.currency
            );
            return Ok(payment);
        }
        match invoice.state {
            InvoiceState::Paid => record_paid(store, payment_id, Some(&invoice.id), None),
            InvoiceState::Cancelled => self.close(store, payment_id, PaymentState::Cancelled),
            InvoiceState::Unpaid if self.lifetime_over(&payment, now) => {
                self.close(store, payment_id, PaymentState::Expired)
            }
            InvoiceState::Unpaid | InvoiceState::Pending => {
                let quote_expired = payment.expires_at.is_none_or(|at| at <= now);
                let no_quote = payment.bolt11.is_none() || payment.strike_invoice_id.is_none();
                if no_quote || (new_quote && quote_expired && invoice.state == InvoiceState::Unpaid) {
                    self.attach_quote(store, payment_id, &invoice)
                } else {
                    Ok(payment)
                }
            }
            InvoiceState::Other(state) => {
                log::warn!(
                    "payment {payment_id}: invoice {} is in state {state}, which hostr does not act on",
                    invoice.id
                );
                Ok(payment)
            }
        }
    }

    /// Settles a sandbox payment as a wallet would (sandbox mode only).
    pub fn pay_in_sandbox(&self, store: &Store, payment: &Payment) -> ApiResult<Payment> {
        let sandbox = self.sandbox.as_ref().ok_or_else(no_sandbox)?;
        let invoice_id = payment
            .strike_invoice_id
            .as_deref()
            .ok_or_else(|| ApiError::new(Failure::Conflict, "no_invoice", "This payment has no invoice to pay yet."))?;
        if !sandbox.settle(invoice_id) {
            return Err(ApiError::new(
                Failure::Conflict,
                "not_a_sandbox_invoice",
                "This invoice was not made by the sandbox.",
            ));
        }
        self.refresh(store, &payment.id, false)
    }

    fn close(&self, store: &Store, payment_id: &str, state: PaymentState) -> ApiResult<Payment> {
        log::info!("payment {payment_id} is now {state:?}");
        Ok(store.update::<Payment, _, StoreError>(payment_id, |p| {
            if p.state == PaymentState::Pending {
                p.state = state;
                p.updated_at = Timestamp::now();
            }
            Ok(p.clone())
        })?)
    }

    fn lifetime_over(&self, payment: &Payment, now: Timestamp) -> bool {
        now.as_datetime() > payment.created_at.as_datetime() + self.invoice_lifetime
    }
}

/// The operator's "paid by other means": recorded with the reason and
/// time, then fulfilled like any payment.
pub fn mark_paid(store: &Store, payment_id: &str, reason: &str) -> ApiResult<Payment> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request("reason_required", "Say why the payment counts as paid."));
    }
    let marked = MarkedPaid { reason: reason.to_owned(), at: Timestamp::now() };
    record_paid(store, payment_id, None, Some(marked))
}

/// The move to PAID, recorded once; fulfilment starts only the first time.
fn record_paid(
    store: &Store,
    payment_id: &str,
    invoice_id: Option<&str>,
    marked: Option<MarkedPaid>,
) -> ApiResult<Payment> {
    let (payment, first) = store.update::<Payment, _, ApiError>(payment_id, |p| {
        if marked.is_some() && p.state == PaymentState::Paid {
            return Err(ApiError::new(Failure::Conflict, "already_paid", "This payment is already paid."));
        }
        let first = p.record_paid(Timestamp::now());
        if first {
            if let Some(id) = invoice_id {
                p.strike_invoice_id.get_or_insert_with(|| id.to_owned());
            }
            p.marked_paid = marked.clone();
        }
        Ok((p.clone(), first))
    })?;
    if first {
        log::info!("payment {payment_id} PAID ({} {})", payment.amount, payment.currency);
        return fulfil(store, &payment);
    }
    Ok(payment)
}

/// Delivers what a PAID payment bought. Provisioning (creating or renewing
/// the cPanel account in WHM) arrives with its own issue; until then the
/// fulfilment is recorded as begun, for the provisioning worker to pick up.
pub fn fulfil(store: &Store, payment: &Payment) -> ApiResult<Payment> {
    Ok(store.update::<Payment, _, StoreError>(&payment.id, |p| {
        if p.state == PaymentState::Paid && p.fulfilment.status == FulfilmentStatus::None {
            p.fulfilment.status = FulfilmentStatus::Provisioning;
            p.updated_at = Timestamp::now();
        }
        Ok(p.clone())
    })?)
}

fn describe(plan: &Plan, payment: &Payment) -> String {
    let target = payment.domain.as_deref().map_or_else(|| "renewal".to_owned(), |d| format!("for {d}"));
    let text = format!("{} {target} (payment {})", plan.name, payment.id);
    text.chars().take(200).collect()
}

fn unknown_plan() -> ApiError {
    ApiError::not_found("unknown_plan", "There is no such plan on sale.")
}

fn not_your_account() -> ApiError {
    ApiError::new(Failure::Forbidden, "not_your_account", "That is not one of your accounts.")
}

fn suspended() -> ApiError {
    ApiError::new(Failure::Forbidden, "customer_suspended", "Your account is suspended. Please contact the operator.")
}

fn deleted() -> ApiError {
    ApiError::new(Failure::Forbidden, "customer_deleted", "This account is deleted. Recover it first.")
}

fn no_sandbox() -> ApiError {
    ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address.")
}
