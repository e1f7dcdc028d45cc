//! Buying hosting: a Payment for a plan's price, a Lightning invoice for it,
//! and the move to PAID, recorded exactly once, after which fulfilment starts.
//!
//! Rules kept here:
//! - the price comes from the plan on the server, never from the client;
//! - the Payment is written as PENDING *before* the provider is called, so a
//!   crash leaves a traceable record; it carries its own id as the invoice's
//!   `correlationId`, by which a lost invoice is found again;
//! - a second request for the same open purchase gets the same payment, and
//!   a customer has only a few open at once (`open.rs`, also the cancel);
//! - a payment belongs to the mode it was begun in (`Payment::mode`): the
//!   provider of another mode never invoices it, looks it up, settles it or
//!   closes it (a purchase whose open payment is of the other mode is
//!   refused with `OtherMode` until that mode returns), and who issued an
//!   invoice is recorded with it (`Payment::provider`);
//! - the provider's word is re-read before anything changes (webhooks are
//!   only hints), and an invoice whose amount differs is never taken as paid.
//!
//! `Checkout` owns the store and the provider (`provider.rs`, Strike or the
//! `sandbox.rs`), as `Provisioner` does; every provider call is paid from
//! the provider's `budget.rs`, and when it is spent a page's check answers
//! from the stored payment; `worker.rs` is the background
//! thread that settles pending payments through the same `refresh`; the
//! failures are `CheckoutError`s (`error.rs`), turned into HTTP answers only
//! in `crate::api::error`. Nothing here knows HTTP or a vendor's wire format.

pub mod budget;
pub mod change;
mod domains;
pub mod error;
mod group;
mod locks;
mod open;
pub mod provider;
pub mod sandbox;
pub mod worker;

pub use error::{CheckoutError, CheckoutResult};
pub use open::DEFAULT_MAX_OPEN;

use crate::cpanel_account::{CpanelAccount, purchase_domain};
use crate::customer::{Customer, CustomerStatus};
use crate::ids::new_uuid;
use crate::payment::{FulfilmentStatus, MarkedPaid, Payment, PaymentState, Provider};
use crate::plan::Plan;
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use locks::KeyedLocks;
use open::Closing;
use provider::{Invoice, InvoiceState, PaymentProvider, ProviderError};
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
    store: Arc<Store>,
    provider: Arc<dyn PaymentProvider>,
    sandbox: Option<Arc<SandboxPayments>>,
    invoice_lifetime: chrono::Duration,
    last_checked: Mutex<HashMap<String, Instant>>,
    /// One lock per payment being invoiced, so that two requests for the
    /// same payment (a double click) never ask for two invoices.
    invoicing: KeyedLocks,
    /// One lock per customer opening a purchase (`open.rs`).
    opening: KeyedLocks,
    max_open: u32,
    /// Told when a payment turns PAID, so fulfilment starts at once.
    on_paid: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    hints: worker::Hints,
}

impl Checkout {
    pub fn new(store: Arc<Store>, provider: Arc<dyn PaymentProvider>, invoice_lifetime: Duration) -> Checkout {
        Checkout::build(store, provider, None, invoice_lifetime)
    }

    pub fn sandboxed(store: Arc<Store>, invoice_lifetime: Duration) -> Checkout {
        Checkout::sandboxed_with(store, invoice_lifetime, sandbox::QUOTE_LIFETIME)
    }

    /// A sandbox checkout whose quotes last `quote_lifetime`.
    pub fn sandboxed_with(store: Arc<Store>, invoice_lifetime: Duration, quote_lifetime: Duration) -> Checkout {
        let sandbox = Arc::new(SandboxPayments::with_quote_lifetime(quote_lifetime));
        Checkout::build(store, sandbox.clone(), Some(sandbox), invoice_lifetime)
    }

    fn build(
        store: Arc<Store>,
        provider: Arc<dyn PaymentProvider>,
        sandbox: Option<Arc<SandboxPayments>>,
        lifetime: Duration,
    ) -> Checkout {
        Checkout {
            store,
            provider,
            sandbox,
            invoice_lifetime: chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1)),
            last_checked: Mutex::new(HashMap::new()),
            invoicing: KeyedLocks::default(),
            opening: KeyedLocks::default(),
            max_open: open::DEFAULT_MAX_OPEN,
            on_paid: std::sync::OnceLock::new(),
            hints: worker::Hints::new(),
        }
    }

    /// Sets who hears that a payment was just recorded as PAID.
    pub fn when_paid(&self, hook: Box<dyn Fn() + Send + Sync>) {
        let _ = self.on_paid.set(hook);
    }

    fn paid(&self, payment_id: &str, invoice_id: &str) -> CheckoutResult<Payment> {
        let payment = record_paid(&self.store, payment_id, Some((invoice_id, self.mode())), None)?;
        if let Some(hook) = self.on_paid.get() {
            hook();
        }
        Ok(payment)
    }

    pub fn is_sandbox(&self) -> bool {
        self.provider.is_sandbox()
    }

    /// The mode of this checkout's provider, which alone may act on the
    /// payments begun in it.
    pub fn mode(&self) -> Provider {
        if self.is_sandbox() { Provider::Sandbox } else { Provider::Strike }
    }

    /// Starts (or returns the open) payment for `purchase` by `customer`,
    /// for the plan's smallest number of periods.
    pub fn create_invoice(&self, customer: &Customer, purchase: Purchase) -> CheckoutResult<Payment> {
        self.create_invoice_for(customer, purchase, None)
    }

    /// The renewal payment of account `account_id` for `periods` periods
    /// (none: the plan's smallest number), invoiced, as its customer would
    /// start it: the same rules, the same one open renewal per account.
    /// For callers other than the customer's page (automatic renewal).
    pub fn renewal_payment(&self, account_id: &str, periods: Option<u32>) -> CheckoutResult<Payment> {
        let account = match self.store.get::<CpanelAccount>(account_id) {
            Ok(account) => account,
            Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => {
                return Err(CheckoutError::NotYourAccount);
            }
            Err(other) => return Err(other.into()),
        };
        let customer: Customer = self.store.get(&account.customer_id)?;
        self.create_invoice_for(&customer, Purchase::Renewal { account_id: account.id }, periods)
    }

    /// Starts (or returns the open) payment for `purchase` by `customer`,
    /// buying `periods` periods at once (none: the plan's smallest number).
    /// The price is the plan's for that many (`crate::prepay`).
    pub fn create_invoice_for(
        &self,
        customer: &Customer,
        purchase: Purchase,
        periods: Option<u32>,
    ) -> CheckoutResult<Payment> {
        may_buy(customer)?;
        let (plan, account_id, domain) = self.target(customer, &purchase)?;
        let periods = periods.unwrap_or_else(|| plan.smallest_prepay());
        self.check_periods(&plan, account_id.as_deref(), periods)?;
        // One customer's purchases are opened one at a time, so that the
        // cap holds against simultaneous requests.
        let opening = self.opening.of(&customer.id);
        let opening = opening.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = self.open_payment(customer, &plan, account_id.as_deref(), domain.as_deref())? {
            drop(opening);
            return self.reuse(open, &plan, periods);
        }
        self.within_open_limit(&customer.id)?;
        let renewal_of = account_id;
        let now = Timestamp::now();
        // A new account's id is chosen now, so the payment names it from the start.
        let account = renewal_of.clone().unwrap_or_else(new_uuid);
        let payment =
            Payment { sandbox: self.is_sandbox(), ..Payment::pending(&customer.id, &plan, account, domain, now) }
                .for_periods(&plan, periods)
                .ok_or_else(|| CheckoutError::PeriodsNotOffered(format!("{periods} periods are not offered")))?;
        if let Err(error) = self.store.create(&payment) {
            let taken = match error {
                StoreError::Taken { field: "openDomain", .. } => CheckoutError::DomainTaken,
                StoreError::Taken { field: "openRenewal", .. } => CheckoutError::RenewalOpen,
                other => return Err(other.into()),
            };
            // Another request of this very customer won the race for the
            // same purchase: answer with its payment.
            return match self.open_payment(customer, &plan, renewal_of.as_deref(), payment.domain.as_deref())? {
                Some(open) => self.reuse(open, &plan, periods),
                None => Err(taken),
            };
        }
        self.store.update::<Customer, _, StoreError>(&customer.id, |c| {
            c.payment_ids.push(payment.id.clone());
            c.updated_at = now;
            Ok(())
        })?;
        // Another customer may have begun a nested purchase at this moment.
        if let Some(domain) = &payment.domain
            && self.nests_with_another(&customer.id, domain)?
        {
            self.close(&payment.id, PaymentState::Cancelled)?;
            return Err(CheckoutError::DomainOverlaps);
        }
        drop(opening);
        let (id, amount, currency, periods) = (&payment.id, payment.amount, &payment.currency, payment.periods);
        log::info!("payment {id} opened: {amount} {currency} for {periods} period(s) of plan {}", plan.id);
        self.ensure_invoice(payment, &plan, true)
    }

    /// The plan, account id and domain a purchase is about, checked.
    fn target(
        &self,
        customer: &Customer,
        purchase: &Purchase,
    ) -> CheckoutResult<(Plan, Option<String>, Option<String>)> {
        match purchase {
            Purchase::NewAccount { plan_id, domain } => {
                let plan =
                    self.store.get::<Plan>(plan_id).ok().filter(|p| p.available).ok_or(CheckoutError::UnknownPlan)?;
                let domain = purchase_domain(domain).map_err(CheckoutError::BadDomain)?;
                self.check_domain_free(&customer.id, &domain)?;
                Ok((plan, None, Some(domain)))
            }
            Purchase::Renewal { account_id } => {
                // Any account of a group renews the group: its primary.
                let account = self.group_primary(customer, account_id)?;
                // A change scheduled for the next renewal is what it renews.
                let plan_id = account.scheduled_plan.as_ref().map_or(&account.plan_id, |s| &s.plan_id);
                let plan = self.store.get::<Plan>(plan_id).map_err(|_| CheckoutError::UnknownPlan)?;
                Ok((plan, Some(account.id), None))
            }
        }
    }

    /// Refuses a number of periods the plan does not offer, and a renewal
    /// whose periods would end past the calendar's end (nobody pays for a
    /// period that would be cut short).
    fn check_periods(&self, plan: &Plan, renewal_of: Option<&str>, periods: u32) -> CheckoutResult<()> {
        plan.price_for(periods).map_err(CheckoutError::PeriodsNotOffered)?;
        let Some(account_id) = renewal_of else { return Ok(()) };
        let account: CpanelAccount = self.store.get(account_id)?;
        let from = account.renews_from(Timestamp::now());
        if plan.billing_cycle.periods_within_calendar(from, periods).is_none() {
            return Err(CheckoutError::RenewalPastCalendar { paid_until: from });
        }
        Ok(())
    }

    /// The open payment for the same purchase, answered again if it is for
    /// as many periods as asked; for another number, the customer must pay
    /// or cancel it first (it may be being paid this very moment).
    fn reuse(&self, open: Payment, plan: &Plan, periods: u32) -> CheckoutResult<Payment> {
        if open.periods != periods {
            return Err(CheckoutError::OtherPeriodsOpen { payment_id: open.id, periods: open.periods });
        }
        self.ensure_invoice(open, plan, false)
    }

    /// The customer's pending, unexpired payment for the same thing (a double
    /// click, a second tab), if any.
    fn open_payment(
        &self,
        customer: &Customer,
        plan: &Plan,
        account_id: Option<&str>,
        domain: Option<&str>,
    ) -> CheckoutResult<Option<Payment>> {
        let now = Timestamp::now();
        let open = self.store.find_all(Payment::open_of(&customer.id))?.into_iter().find(|p| {
            p.state == PaymentState::Pending
                && p.plan_id == plan.id
                && p.kind.is_none()
                // One of the other mode stays in the way however old: this
                // mode cannot tell whether it was paid.
                && (p.mode() != self.mode() || !self.lifetime_over(p, now))
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
    fn ensure_invoice(&self, payment: Payment, plan: &Plan, fresh: bool) -> CheckoutResult<Payment> {
        if payment.mode() != self.mode() {
            return Err(CheckoutError::OtherMode { begun_in: payment.mode() });
        }
        if payment.bolt11.is_some() {
            return Ok(payment);
        }
        let lock = self.invoicing.of(&payment.id);
        let _invoicing = lock.lock().unwrap_or_else(|p| p.into_inner());
        // Whoever held the lock before may have finished the job.
        let payment: Payment = self.store.get(&payment.id)?;
        if payment.bolt11.is_some() {
            return Ok(payment);
        }
        let invoice = if fresh { None } else { self.invoice_of(&payment)? };
        let invoice = match invoice {
            Some(invoice) => invoice,
            None => {
                let description = describe(plan, &payment);
                let (amount, currency) = payment.currency.invoiced(payment.amount);
                self.provider.issue_invoice(&payment.id, &description, amount, &currency)?
            }
        };
        self.attach_quote(&payment.id, &invoice)
    }

    /// Records the invoice and a fresh quote (BOLT11) on the payment, unless
    /// the payment moved on meanwhile (closed, or bound to another invoice).
    fn attach_quote(&self, payment_id: &str, invoice: &Invoice) -> CheckoutResult<Payment> {
        let quote = self.provider.issue_quote(&invoice.id)?;
        Ok(self.store.update::<Payment, _, StoreError>(payment_id, |p| {
            let same_invoice = p.strike_invoice_id.as_deref().is_none_or(|id| id == invoice.id);
            if p.state == PaymentState::Pending && same_invoice && p.mode() == self.mode() {
                p.strike_invoice_id = Some(invoice.id.clone());
                p.provider = Some(self.mode());
                p.bolt11 = Some(quote.bolt11.clone());
                p.expires_at = Some(quote.expires_at);
                // A price in bitcoin is its own amount in sats: no rate in it.
                p.quote_sats = p.currency.sats(p.amount).or(quote.sats);
                p.quote_rate = quote.rate.clone().filter(|_| !p.currency.is_bitcoin());
                p.updated_at = Timestamp::now();
            }
            Ok(p.clone())
        })?)
    }

    /// The payment as the page polls it: looked up at the provider at most
    /// about once a second; with `new_quote`, an expired quote is replaced.
    pub fn check(&self, payment_id: &str, new_quote: bool) -> CheckoutResult<Payment> {
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
        // A request for a new quote is paced like any other check: one
        // customer must not spend the shop's allowance of provider calls.
        // With that allowance spent, the page is told what is stored.
        match if due { self.refresh(payment_id, new_quote) } else { Ok(self.store.get(payment_id)?) } {
            Err(CheckoutError::Provider(ProviderError::RateLimited { .. })) => Ok(self.store.get(payment_id)?),
            answer => answer,
        }
    }

    /// Brings a pending payment up to date with what the provider says.
    /// Used by page polls, webhooks and the background poller alike.
    pub fn refresh(&self, payment_id: &str, new_quote: bool) -> CheckoutResult<Payment> {
        let payment: Payment = self.store.get(payment_id)?;
        // Only its own mode's provider can say what became of a payment. A
        // payment begun in the sandbox never turns into money, so a real
        // shop closes it rather than let it hold its domain.
        if payment.mode() != self.mode() {
            let leftover = payment.sandbox && self.mode() == Provider::Strike && payment.state == PaymentState::Pending;
            return if leftover { self.close(payment_id, PaymentState::Cancelled) } else { Ok(payment) };
        }
        // A closed payment with an invoice is still looked at: a wallet may
        // have paid in the moment it closed, and that money must not be lost.
        let closed_with_invoice = matches!(payment.state, PaymentState::Expired | PaymentState::Cancelled)
            && payment.strike_invoice_id.is_some();
        if payment.state != PaymentState::Pending && !closed_with_invoice {
            return Ok(payment);
        }
        let now = Timestamp::now();
        let Some(invoice) = self.invoice_of(&payment)? else {
            // Never reached the provider (a crash or an outage at creation).
            return if payment.state == PaymentState::Pending && self.lifetime_over(&payment, now) {
                self.close(payment_id, PaymentState::Expired)
            } else {
                Ok(payment)
            };
        };
        if !same_amount(&payment, &invoice) {
            return Ok(payment);
        }
        self.follow(payment, &invoice, new_quote, now)
    }

    /// Does to a payment what its invoice's state calls for.
    fn follow(&self, payment: Payment, invoice: &Invoice, new_quote: bool, now: Timestamp) -> CheckoutResult<Payment> {
        let payment_id = payment.id.as_str();
        match &invoice.state {
            InvoiceState::Paid => {
                if payment.state != PaymentState::Pending {
                    log::warn!(
                        "payment {payment_id} was paid after it was {}; recording it as paid",
                        payment.state.as_str()
                    );
                }
                self.paid(payment_id, &invoice.id)
            }
            _ if payment.state != PaymentState::Pending => Ok(payment),
            InvoiceState::Cancelled => self.close(payment_id, PaymentState::Cancelled),
            InvoiceState::Unpaid if self.expired(&payment, now) => self.expire(&payment, invoice),
            InvoiceState::Unpaid | InvoiceState::Pending => {
                let quote_expired = payment.expires_at.is_none_or(|at| at <= now);
                let no_quote = payment.bolt11.is_none() || payment.strike_invoice_id.is_none();
                // No fresh quote once the payment's own lifetime is over.
                let may_quote = invoice.state == InvoiceState::Unpaid && !self.lifetime_over(&payment, now);
                if may_quote && (no_quote || (new_quote && quote_expired)) {
                    self.attach_quote(payment_id, invoice)
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

    /// The payment's invoice at the provider, checked to be that very one.
    fn invoice_of(&self, payment: &Payment) -> CheckoutResult<Option<Invoice>> {
        let found = match payment.strike_invoice_id.as_deref() {
            Some(id) => self.provider.find_invoice(id)?.filter(|invoice| invoice.id == id),
            None => self.provider.find_by_correlation(&payment.id)?,
        };
        Ok(found.filter(|invoice| {
            let ours = invoice.correlation_id.as_deref().is_none_or(|c| c == payment.id);
            if !ours {
                log::error!(
                    "payment {}: the provider answered with invoice {} of another payment",
                    payment.id,
                    invoice.id
                );
            }
            ours
        }))
    }

    /// Past the payment's lifetime and past the last quote it handed out
    /// (with a minute's grace for a wallet still paying it).
    fn expired(&self, payment: &Payment, now: Timestamp) -> bool {
        let quote_open =
            payment.expires_at.is_some_and(|at| now.as_datetime() <= at.as_datetime() + chrono::Duration::seconds(60));
        self.lifetime_over(payment, now) && !quote_open
    }

    /// Closes an unpaid invoice at the provider before calling the payment
    /// EXPIRED; a payment that arrived meanwhile is recorded as such.
    fn expire(&self, payment: &Payment, invoice: &Invoice) -> CheckoutResult<Payment> {
        match self.close_at_provider(payment, &invoice.id, PaymentState::Expired)? {
            Closing::Done(payment) => Ok(*payment),
            Closing::Refused { .. } => Ok(payment.clone()),
        }
    }

    /// Settles a sandbox payment as a wallet would (sandbox mode only).
    pub fn pay_in_sandbox(&self, payment: &Payment) -> CheckoutResult<Payment> {
        let sandbox = self.sandbox.as_ref().ok_or(CheckoutError::NoSandbox)?;
        if payment.mode() != Provider::Sandbox {
            return Err(CheckoutError::OtherMode { begun_in: payment.mode() });
        }
        let invoice_id = payment.strike_invoice_id.as_deref().ok_or(CheckoutError::NoInvoice)?;
        if !sandbox.settle(invoice_id) {
            return Err(CheckoutError::NotSandboxInvoice);
        }
        self.refresh(&payment.id, false)
    }

    fn close(&self, payment_id: &str, state: PaymentState) -> CheckoutResult<Payment> {
        log::info!("payment {payment_id} is now {}", state.as_str());
        Ok(self.store.update::<Payment, _, StoreError>(payment_id, |p| {
            if p.state == PaymentState::Pending {
                p.state = state;
                p.updated_at = Timestamp::now();
            }
            Ok(p.clone())
        })?)
    }

    fn lifetime_over(&self, payment: &Payment, now: Timestamp) -> bool {
        now > self.payable_until(payment)
    }

    /// The end of a payment's own lifetime (`--invoice-minutes` after it was
    /// begun): no new quote is made for it after that, so the page stops
    /// offering it once its last quote has expired.
    pub fn payable_until(&self, payment: &Payment) -> Timestamp {
        Timestamp::from(payment.created_at.as_datetime() + self.invoice_lifetime)
    }
}

/// Only an active customer buys: a suspended one may not, a deleted one
/// must recover first.
fn may_buy(customer: &Customer) -> CheckoutResult<()> {
    match customer.status {
        CustomerStatus::Active => Ok(()),
        CustomerStatus::Suspended => Err(CheckoutError::CustomerSuspended),
        CustomerStatus::Deleted => Err(CheckoutError::CustomerDeleted),
    }
}

/// An invoice whose amount differs from its payment's is never taken as paid.
/// A payment in sats was invoiced as the same amount of BTC.
fn same_amount(payment: &Payment, invoice: &Invoice) -> bool {
    let same = (invoice.amount, invoice.currency.clone()) == payment.currency.invoiced(payment.amount);
    if !same {
        log::error!(
            "payment {}: invoice {} is for {} {} but the payment is for {} {}; not acting on it",
            payment.id,
            invoice.id,
            invoice.amount,
            invoice.currency,
            payment.amount,
            payment.currency
        );
    }
    same
}

/// The operator's "paid by other means": recorded with the reason and
/// time, then fulfilled like any payment.
pub fn mark_paid(store: &Store, payment_id: &str, reason: &str) -> CheckoutResult<Payment> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CheckoutError::ReasonRequired);
    }
    let marked = MarkedPaid { reason: reason.to_owned(), at: Timestamp::now() };
    record_paid(store, payment_id, None, Some(marked))
}

/// The move to PAID, recorded once, and fulfilment started in the same
/// write, so that no paid payment is ever left without its fulfilment begun.
/// `invoice` is the invoice found paid and who issued it.
fn record_paid(
    store: &Store,
    payment_id: &str,
    invoice: Option<(&str, Provider)>,
    marked: Option<MarkedPaid>,
) -> CheckoutResult<Payment> {
    let (payment, first) = store.update::<Payment, _, CheckoutError>(payment_id, |p| {
        if marked.is_some() && p.state == PaymentState::Paid {
            return Err(CheckoutError::AlreadyPaid);
        }
        let first = p.record_paid(Timestamp::now());
        if first {
            if let Some((id, provider)) = invoice
                && p.strike_invoice_id.get_or_insert_with(|| id.to_owned()) == id
            {
                p.provider.get_or_insert(provider);
            }
            p.marked_paid = marked.clone();
            fulfil(p);
        }
        Ok((p.clone(), first))
    })?;
    if first {
        log::info!("payment {payment_id} PAID ({} {})", payment.amount, payment.currency);
    }
    Ok(payment)
}

/// Marks what a PAID payment bought as due for delivery; the accounts
/// worker (`provisioning`) creates or renews the account.
pub fn fulfil(payment: &mut Payment) {
    if payment.state == PaymentState::Paid && payment.fulfilment.status == FulfilmentStatus::None {
        payment.fulfilment.status = FulfilmentStatus::Provisioning;
    }
}

fn describe(plan: &Plan, payment: &Payment) -> String {
    let target = match (payment.kind, payment.domain.as_deref()) {
        (Some(kind), _) => kind.as_str().to_owned(),
        (None, Some(domain)) => format!("for {domain}"),
        (None, None) => "renewal".to_owned(),
    };
    let periods = match payment.periods {
        1 => String::new(),
        n => format!(", {n} {} periods", plan.billing_cycle.as_str()),
    };
    let text = format!("{} {target}{periods} (payment {})", plan.name, payment.id);
    text.chars().take(200).collect()
}
