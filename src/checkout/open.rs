//! Open purchases: how many one customer may have waiting at once, and the
//! customer's "cancel".
//!
//! Each open (PENDING) purchase holds its domain and costs provider calls,
//! so a customer has at most `max_open` at once (`--max-open-purchases`);
//! asking again for the same plan and domain, or the same renewal, reuses
//! the open one and counts nothing. `create_invoice` counts and creates
//! under one lock per customer, so simultaneous requests cannot pass the
//! cap together.
//!
//! Cancelling closes the invoice at the provider first, then the payment
//! (CANCELLED, which frees its domain at once). The provider refuses to
//! cancel an invoice that is paid or being paid; the invoice is then read
//! again, and money that arrived is recorded as PAID, never dropped. The
//! payment's invoicing lock is held throughout, so no invoice is attached
//! to it meanwhile.

use super::provider::{InvoiceState, ProviderError};
use super::{Checkout, CheckoutError, CheckoutResult};
use crate::payment::{Payment, PaymentState, Provider};
use crate::timestamp::Timestamp;

/// Open purchases per customer, unless configured otherwise.
pub const DEFAULT_MAX_OPEN: u32 = 3;

/// What became of closing a payment's invoice at the provider.
pub(super) enum Closing {
    /// The payment is closed as asked, or was paid and is recorded PAID.
    Done(Box<Payment>),
    /// The provider would not cancel and the invoice is still open (or
    /// could not be read): its state, if read, and the refusal.
    Refused { state: Option<InvoiceState>, why: ProviderError },
}

impl Checkout {
    /// How many purchases one customer may have open at once.
    pub fn with_max_open(mut self, max_open: u32) -> Checkout {
        self.max_open = max_open.max(1);
        self
    }

    /// Refuses a new purchase while the customer has `max_open` open ones.
    /// The caller holds the customer's `opening` lock.
    pub(super) fn within_open_limit(&self, customer_id: &str) -> CheckoutResult<()> {
        let now = Timestamp::now();
        let open = self.store.find_all(Payment::open_of(customer_id))?;
        let open = open.iter().filter(|p| p.state == PaymentState::Pending && !self.lifetime_over(p, now)).count();
        if open >= self.max_open as usize { Err(CheckoutError::TooManyOpen { limit: self.max_open }) } else { Ok(()) }
    }

    /// The customer gives up an open purchase: its invoice is cancelled at
    /// the provider and the payment becomes CANCELLED. A payment closed
    /// already is answered as it is; a paid one is `AlreadyPaid`, also when
    /// the money arrived just now (it is then recorded as PAID first).
    pub fn cancel(&self, payment_id: &str) -> CheckoutResult<Payment> {
        let lock = self.invoicing.of(payment_id);
        let _invoicing = lock.lock().unwrap_or_else(|p| p.into_inner());
        let payment: Payment = self.store.get(payment_id)?;
        match payment.state {
            PaymentState::Paid => Err(CheckoutError::AlreadyPaid),
            PaymentState::Expired | PaymentState::Cancelled => Ok(payment),
            PaymentState::Pending => self.cancel_pending(payment),
        }
    }

    fn cancel_pending(&self, payment: Payment) -> CheckoutResult<Payment> {
        // Only its own mode's provider can cancel a payment's invoice; a
        // sandbox leftover in a real shop is never money, so it just closes.
        if payment.mode() != self.mode() {
            return if payment.sandbox && self.mode() == Provider::Strike {
                self.close(&payment.id, PaymentState::Cancelled)
            } else {
                Err(CheckoutError::OtherMode { begun_in: payment.mode() })
            };
        }
        let invoice_id = match &payment.strike_invoice_id {
            Some(id) => id.clone(),
            // An invoice whose creation answer was lost is found by the
            // payment's id; with none, nothing at the provider can be paid.
            None => match self.invoice_of(&payment)? {
                Some(invoice) => invoice.id,
                None => return self.close(&payment.id, PaymentState::Cancelled),
            },
        };
        match self.close_at_provider(&payment, &invoice_id, PaymentState::Cancelled)? {
            Closing::Done(closed) if closed.state == PaymentState::Paid => Err(CheckoutError::AlreadyPaid),
            Closing::Done(closed) => Ok(*closed),
            Closing::Refused { state: Some(InvoiceState::Pending), .. } => Err(CheckoutError::PaymentInProgress),
            Closing::Refused { why, .. } => Err(why.into()),
        }
    }

    /// Makes the invoice unpayable at the provider, then closes the payment
    /// as `state`. If the provider refuses (it was paid a moment ago), the
    /// invoice is read again: paid, the payment is recorded PAID; cancelled,
    /// it is closed; otherwise it stays as it is.
    pub(super) fn close_at_provider(
        &self,
        payment: &Payment,
        invoice_id: &str,
        state: PaymentState,
    ) -> CheckoutResult<Closing> {
        let why = match self.provider.cancel_invoice(invoice_id) {
            Ok(_) => return Ok(Closing::Done(Box::new(self.close(&payment.id, state)?))),
            Err(why) => why,
        };
        log::warn!("payment {}: cancelling invoice {invoice_id} failed ({why}); reading it again", payment.id);
        let again = match self.provider.find_invoice(invoice_id) {
            Ok(again) => again,
            Err(error) => {
                log::warn!("payment {}: reading invoice {invoice_id} again failed ({error})", payment.id);
                return Ok(Closing::Refused { state: None, why });
            }
        };
        match again.map(|invoice| invoice.state) {
            Some(InvoiceState::Paid) => Ok(Closing::Done(Box::new(self.paid(&payment.id, invoice_id)?))),
            Some(InvoiceState::Cancelled) => Ok(Closing::Done(Box::new(self.close(&payment.id, state)?))),
            state => Ok(Closing::Refused { state, why }),
        }
    }
}
