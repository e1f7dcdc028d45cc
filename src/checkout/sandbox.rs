//! Sandbox payments: an in-process stand-in for Strike, used when no
//! Strike key is configured, so the whole purchase can be clicked through
//! locally. Its invoices say "sandbox" in their BOLT11-shaped string, no
//! wallet can pay them, and they are settled by `POST /api/sandbox/pay`.
//! Its quotes last a minute, as Strike's do (tests shorten that), and price
//! fiat in sats at a made-up rate, [`SANDBOX_RATE`] of any currency for one
//! BTC.

use super::provider::{Invoice, InvoiceState, PaymentProvider, ProviderError, ProviderResult, Quote};
use crate::money::{Currency, ExchangeRate, Money, sats_at_rate};
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a sandbox quote is valid, as Strike's are.
pub const QUOTE_LIFETIME: Duration = Duration::from_secs(60);

/// The sandbox's price of one BTC in any currency: made up, round, and
/// clearly not a market rate.
pub const SANDBOX_RATE: i64 = 100_000;

pub struct SandboxPayments {
    invoices: Mutex<HashMap<String, Invoice>>,
    quote_lifetime: chrono::Duration,
}

impl Default for SandboxPayments {
    fn default() -> SandboxPayments {
        SandboxPayments::with_quote_lifetime(QUOTE_LIFETIME)
    }
}

impl SandboxPayments {
    /// A sandbox whose quotes last `lifetime` (at least a second).
    pub fn with_quote_lifetime(lifetime: Duration) -> SandboxPayments {
        let lifetime =
            chrono::Duration::from_std(lifetime.max(Duration::from_secs(1))).unwrap_or(chrono::Duration::MAX);
        SandboxPayments { invoices: Mutex::default(), quote_lifetime: lifetime }
    }

    /// Marks a sandbox invoice paid, as a wallet paying it would; false for
    /// an invoice this sandbox never issued.
    pub fn settle(&self, invoice_id: &str) -> bool {
        let mut invoices = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        match invoices.get_mut(invoice_id) {
            Some(invoice) if invoice.state == InvoiceState::Unpaid => {
                invoice.state = InvoiceState::Paid;
                log::warn!("SANDBOX: invoice {invoice_id} marked paid; no money moved");
                true
            }
            Some(_) => true,
            None => false,
        }
    }
}

impl PaymentProvider for SandboxPayments {
    fn is_sandbox(&self) -> bool {
        true
    }

    fn issue_invoice(
        &self,
        correlation_id: &str,
        _description: &str,
        amount: Money,
        currency: &Currency,
    ) -> ProviderResult<Invoice> {
        let invoice = Invoice {
            id: crate::ids::new_uuid(),
            state: InvoiceState::Unpaid,
            amount,
            currency: currency.clone(),
            correlation_id: Some(correlation_id.to_owned()),
        };
        self.invoices.lock().unwrap_or_else(|p| p.into_inner()).insert(invoice.id.clone(), invoice.clone());
        log::warn!("SANDBOX: invoice {} for {amount} {currency} issued; it cannot be paid with real money", invoice.id);
        Ok(invoice)
    }

    fn issue_quote(&self, invoice_id: &str) -> ProviderResult<Quote> {
        let invoices = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        let invoice = invoices.get(invoice_id).ok_or_else(|| refused(404, "NOT_FOUND", "no such sandbox invoice"))?;
        let (sats, rate) = match invoice.currency.sats(invoice.amount) {
            Some(sats) => (Some(sats), None),
            None => {
                let rate = Money::from_minor(SANDBOX_RATE, 0).expect("a constant amount within range");
                let rate = ExchangeRate {
                    amount: rate,
                    source_currency: Currency::btc(),
                    target_currency: invoice.currency.clone(),
                };
                (sats_at_rate(invoice.amount, rate.amount), Some(rate))
            }
        };
        Ok(Quote {
            // Shaped like a BOLT11 so pages and QR codes work, and marked so
            // that nobody mistakes it for a real one; each quote is its own.
            bolt11: format!(
                "lnsandbox{}n1sandboxnotpayable{}{}",
                sats.unwrap_or(0),
                invoice_id.replace('-', ""),
                &crate::ids::new_uuid()[..8]
            ),
            expires_at: Timestamp::from(chrono::Utc::now() + self.quote_lifetime),
            sats,
            rate,
        })
    }

    fn find_invoice(&self, invoice_id: &str) -> ProviderResult<Option<Invoice>> {
        Ok(self.invoices.lock().unwrap_or_else(|p| p.into_inner()).get(invoice_id).cloned())
    }

    fn cancel_invoice(&self, invoice_id: &str) -> ProviderResult<Invoice> {
        let mut invoices = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        let invoice = invoices.get_mut(invoice_id).ok_or_else(|| refused(404, "NOT_FOUND", "sandbox"))?;
        if invoice.state == InvoiceState::Paid {
            return Err(refused(409, "INVOICE_PAID", "sandbox"));
        }
        invoice.state = InvoiceState::Cancelled;
        Ok(invoice.clone())
    }

    fn find_by_correlation(&self, correlation_id: &str) -> ProviderResult<Option<Invoice>> {
        let invoices = self.invoices.lock().unwrap_or_else(|p| p.into_inner());
        Ok(invoices.values().find(|i| i.correlation_id.as_deref() == Some(correlation_id)).cloned())
    }
}

/// The sandbox saying no, with the status and code Strike would give.
fn refused(status: u16, code: &str, message: &str) -> ProviderError {
    ProviderError::Refused { status, code: code.to_owned(), message: message.to_owned(), trace_id: None }
}
