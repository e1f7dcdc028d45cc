//! Who issues the Lightning invoices: Strike, or the in-process sandbox.
//! Everything above this trait is the same code for both.
//!
//! The trait speaks hostr's own types: an `Invoice` with exact amounts and
//! a closed set of states, a `Quote` (the BOLT11 to pay), and a
//! `ProviderError` that tells apart the four failures checkout handles
//! differently. Each provider turns its own answers into these at its edge
//! (`strike.rs` from Strike's JSON); nothing here knows a vendor's wire format.

use super::budget::Budget;
use crate::money::{Currency, ExchangeRate, Money};
use crate::timestamp::Timestamp;
use std::fmt;
use std::time::Duration;

/// An invoice as the provider keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub state: InvoiceState,
    pub amount: Money,
    pub currency: Currency,
    /// The payment id the invoice was made for, by which a creation whose
    /// answer was lost is found again.
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceState {
    Unpaid,
    Pending,
    Paid,
    Cancelled,
    /// A state this version of hostr does not know (Strike has hinted at
    /// `REVERSED`): never treated as paid.
    Other(String),
}

/// What a wallet pays: one invoice may be quoted many times, each quote
/// valid for a short while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The BOLT11 payment request.
    pub bolt11: String,
    pub expires_at: Timestamp,
    /// What the wallet is asked to pay, in sats, when the provider says
    /// (Strike: the quote's `sourceAmount` in BTC).
    pub sats: Option<i64>,
    /// The rate the invoice's currency was converted at, when it was.
    pub rate: Option<ExchangeRate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// No answer: connection refused, timed out, cut off. A creation may
    /// or may not have happened.
    Unreachable(String),
    /// The provider answered with an error: its status, its own reason
    /// code, its message, and its reference for the failure (to quote to
    /// its support), all for the log.
    Refused { status: u16, code: String, message: String, trace_id: Option<String> },
    /// Too many requests; the provider asks to wait this long.
    RateLimited { retry_after: Duration },
    /// An answer that is not what the provider documents.
    Nonsense(String),
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::Unreachable(why) => write!(f, "the payment provider could not be reached: {why}"),
            ProviderError::Refused { status, code, message, trace_id } => {
                write!(f, "the payment provider refused ({status} {code}): {message}")?;
                if let Some(trace) = trace_id {
                    write!(f, " [trace {trace}]")?;
                }
                Ok(())
            }
            ProviderError::RateLimited { retry_after } => {
                write!(f, "the payment provider's rate limit: retry after {} s", retry_after.as_secs())
            }
            ProviderError::Nonsense(why) => write!(f, "the payment provider answered something unexpected: {why}"),
        }
    }
}

impl std::error::Error for ProviderError {}

pub type ProviderResult<T> = Result<T, ProviderError>;

pub trait PaymentProvider: Send + Sync {
    /// Invoices from this provider are not real money.
    fn is_sandbox(&self) -> bool;
    /// Not retried by any provider: after `Unreachable`, look the invoice up
    /// by `correlation_id` before trying again, so no second one is made.
    /// `amount` is in `currency`'s decimals, and `currency` one a provider
    /// invoices in (`Currency::invoiced`: never `SAT`).
    fn issue_invoice(
        &self,
        correlation_id: &str,
        description: &str,
        amount: Money,
        currency: &Currency,
    ) -> ProviderResult<Invoice>;
    /// A fresh BOLT11 for the invoice.
    fn issue_quote(&self, invoice_id: &str) -> ProviderResult<Quote>;
    /// `None` when the provider does not know the invoice.
    fn find_invoice(&self, invoice_id: &str) -> ProviderResult<Option<Invoice>>;
    fn find_by_correlation(&self, correlation_id: &str) -> ProviderResult<Option<Invoice>>;
    /// Makes an unpaid invoice unpayable; refused for a paid one.
    fn cancel_invoice(&self, invoice_id: &str) -> ProviderResult<Invoice>;
    /// The allowance of calls this provider spends from, when it has one
    /// (the sandbox has none); an empty one answers `RateLimited` without
    /// sending anything.
    fn budget(&self) -> Option<&Budget> {
        None
    }
}
