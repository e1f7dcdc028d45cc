//! Who issues the Lightning invoices: Strike, or the in-process sandbox.
//! Everything above this trait is the same code for both.

use crate::money::{Currency, Money};
use crate::strike::{Invoice, Quote, StrikeClient, StrikeResult};

pub trait PaymentProvider: Send + Sync {
    /// Invoices from this provider are not real money.
    fn is_sandbox(&self) -> bool;
    fn issue_invoice(
        &self,
        correlation_id: &str,
        description: &str,
        amount: Money,
        currency: &Currency,
    ) -> StrikeResult<Invoice>;
    fn issue_quote(&self, invoice_id: &str) -> StrikeResult<Quote>;
    fn find_invoice(&self, invoice_id: &str) -> StrikeResult<Option<Invoice>>;
    fn find_by_correlation(&self, correlation_id: &str) -> StrikeResult<Option<Invoice>>;
    /// Makes an unpaid invoice unpayable; refused for a paid one.
    fn cancel_invoice(&self, invoice_id: &str) -> StrikeResult<Invoice>;
}

impl PaymentProvider for StrikeClient {
    fn is_sandbox(&self) -> bool {
        false
    }

    fn issue_invoice(
        &self,
        correlation_id: &str,
        description: &str,
        amount: Money,
        currency: &Currency,
    ) -> StrikeResult<Invoice> {
        StrikeClient::issue_invoice(self, correlation_id, description, amount, currency)
    }

    fn issue_quote(&self, invoice_id: &str) -> StrikeResult<Quote> {
        StrikeClient::issue_quote(self, invoice_id)
    }

    fn find_invoice(&self, invoice_id: &str) -> StrikeResult<Option<Invoice>> {
        StrikeClient::find_invoice(self, invoice_id)
    }

    fn find_by_correlation(&self, correlation_id: &str) -> StrikeResult<Option<Invoice>> {
        StrikeClient::find_by_correlation(self, correlation_id)
    }

    fn cancel_invoice(&self, invoice_id: &str) -> StrikeResult<Invoice> {
        StrikeClient::cancel_invoice(self, invoice_id)
    }
}
