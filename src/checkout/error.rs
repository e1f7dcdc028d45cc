//! Why a checkout use case did not go through, one variant per failure.
//!
//! This knows nothing of HTTP: `api/error.rs` decides the status, code and
//! message a client sees; the CLI prints the `Display` text to the operator.

use super::provider::ProviderError;
use crate::payment::Provider;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use std::fmt;

#[derive(Debug)]
pub enum CheckoutError {
    /// A suspended customer may not buy.
    CustomerSuspended,
    /// A deleted customer must recover the account before buying.
    CustomerDeleted,
    /// No plan with that id is on sale.
    UnknownPlan,
    /// Not a domain cPanel could host; the reason.
    BadDomain(String),
    /// An account hosts the domain already, or another payment is buying it.
    DomainTaken,
    /// The customer already hosts this domain here (renew it instead).
    DomainYours,
    /// The domain lies inside a domain another customer holds, or holds one
    /// of theirs (who, is not said).
    DomainOverlaps,
    /// A renewal of the account is already waiting to be paid.
    RenewalOpen,
    /// The plan does not offer to prepay that many periods; the reason.
    PeriodsNotOffered(String),
    /// The same purchase is open for another number of periods: pay or
    /// cancel that payment first.
    OtherPeriodsOpen {
        payment_id: String,
        periods: u32,
    },
    /// The account is someone else's, or does not exist (the same answer).
    NotYourAccount,
    /// The subscription has all the accounts its plan includes.
    PlanAccountsUsed {
        included: u32,
    },
    /// Further accounts are added only to a paid, active subscription.
    SubscriptionNotActive,
    /// The account was removed from WHM; it cannot be renewed.
    AccountTerminated,
    /// One more period would end past the last time hostr can record
    /// (`Timestamp::MAX`); the account is paid until `paid_until`.
    RenewalPastCalendar {
        paid_until: Timestamp,
    },
    /// A sandbox payment was asked for before the payment had an invoice.
    NoInvoice,
    /// The payment's invoice was not made by this sandbox.
    NotSandboxInvoice,
    /// The payment was begun in the other mode (real payments or the
    /// sandbox), whose provider alone may invoice or settle it.
    OtherMode {
        begun_in: Provider,
    },
    /// Sandbox payment asked of a server whose payments are real.
    NoSandbox,
    /// The operator marked a payment paid without saying why.
    ReasonRequired,
    /// The operator marked a payment paid that was paid already, or the
    /// customer cancelled one that is paid.
    AlreadyPaid,
    /// The customer has this many purchases open already (`open.rs`).
    TooManyOpen {
        limit: u32,
    },
    /// A payment of the invoice is on its way, so it cannot be cancelled.
    PaymentInProgress,
    /// A plan change that cannot be made (`change.rs`).
    PlanChange(super::change::PlanChangeRefusal),
    /// The payment provider failed to answer usefully.
    Provider(ProviderError),
    Store(StoreError),
}

pub type CheckoutResult<T> = Result<T, CheckoutError>;

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckoutError::CustomerSuspended => write!(f, "the customer is suspended"),
            CheckoutError::CustomerDeleted => write!(f, "the customer is deleted"),
            CheckoutError::UnknownPlan => write!(f, "there is no such plan on sale"),
            CheckoutError::BadDomain(why) => write!(f, "{why}"),
            CheckoutError::DomainTaken => write!(f, "the domain is already hosted here, or being bought"),
            CheckoutError::DomainYours => write!(f, "the customer already hosts this domain here"),
            CheckoutError::DomainOverlaps => {
                write!(f, "the domain is inside, or contains, a domain another customer holds")
            }
            CheckoutError::RenewalOpen => write!(f, "a renewal of this account is already waiting to be paid"),
            CheckoutError::PeriodsNotOffered(why) => write!(f, "{why}"),
            CheckoutError::OtherPeriodsOpen { payment_id, periods } => {
                write!(f, "payment {payment_id} for the same is open for {periods} period(s): pay or cancel it first")
            }
            CheckoutError::NotYourAccount => write!(f, "not one of the customer's accounts"),
            CheckoutError::PlanAccountsUsed { included } => {
                write!(f, "the plan includes {included} cPanel account(s), and all are in use")
            }
            CheckoutError::SubscriptionNotActive => write!(f, "the subscription is not paid and active"),
            CheckoutError::AccountTerminated => write!(f, "the account was removed"),
            CheckoutError::RenewalPastCalendar { paid_until } => {
                write!(f, "the account is paid until {paid_until}: one more period would end after {}", Timestamp::MAX)
            }
            CheckoutError::NoInvoice => write!(f, "the payment has no invoice to pay yet"),
            CheckoutError::NotSandboxInvoice => write!(f, "the invoice was not made by the sandbox"),
            CheckoutError::OtherMode { begun_in: Provider::Strike } => {
                write!(f, "the payment was begun with Strike, which is not configured now")
            }
            CheckoutError::OtherMode { begun_in: Provider::Sandbox } => {
                write!(f, "the payment was begun in the sandbox, and payments are real now")
            }
            CheckoutError::NoSandbox => write!(f, "payments are not in the sandbox"),
            CheckoutError::ReasonRequired => write!(f, "say why the payment counts as paid"),
            CheckoutError::AlreadyPaid => write!(f, "this payment is already paid"),
            CheckoutError::TooManyOpen { limit } => write!(f, "the customer has {limit} purchases open already"),
            CheckoutError::PaymentInProgress => write!(f, "a payment of the invoice is on its way"),
            CheckoutError::PlanChange(refusal) => write!(f, "{refusal}"),
            CheckoutError::Provider(error) => write!(f, "{error}"),
            CheckoutError::Store(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for CheckoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckoutError::Provider(error) => Some(error),
            CheckoutError::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ProviderError> for CheckoutError {
    fn from(error: ProviderError) -> CheckoutError {
        CheckoutError::Provider(error)
    }
}

impl From<StoreError> for CheckoutError {
    fn from(error: StoreError) -> CheckoutError {
        CheckoutError::Store(error)
    }
}
