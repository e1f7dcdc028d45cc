//! The one error type that reaches the API's clients, and the one place
//! where the app's errors become statuses and JSON bodies.
//!
//! Every answer that is not a success has the shape
//! `{"error": {"code": "snake_case_reason", "message": "…"}}`. Causes
//! (file paths, upstream answers) go to the log, never into a response.

use crate::auth::challenge::ChallengeError;
use crate::auth::login_event::LoginFailure;
use crate::auth::session::SessionError;
use crate::checkout::CheckoutError;
use crate::checkout::change::PlanChangeRefusal;
use crate::checkout::provider::ProviderError;
use crate::customer::{CustomerError, LifecycleError};
use crate::http::{HttpError, Response};
use crate::payment::Provider;
use crate::profile::ProfileError;
use crate::provisioning::ProvisioningError;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use serde_json::json;

/// What kind of failure this is; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    BadRequest,
    Unauthorized,
    PaymentRequired,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    LengthRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    UriTooLong,
    HeadersTooLarge,
    TooManyRequests,
    /// A bug in hostr, or the machine failing (disk full, permissions).
    Internal,
    BadGateway,
    /// A record is unreadable until the operator fixes its file, or the
    /// server is shutting down.
    Unavailable,
    GatewayTimeout,
}

impl Failure {
    const ALL: [Failure; 18] = [
        Failure::BadRequest,
        Failure::Unauthorized,
        Failure::PaymentRequired,
        Failure::Forbidden,
        Failure::NotFound,
        Failure::MethodNotAllowed,
        Failure::Conflict,
        Failure::Gone,
        Failure::LengthRequired,
        Failure::PayloadTooLarge,
        Failure::UnsupportedMediaType,
        Failure::UriTooLong,
        Failure::HeadersTooLarge,
        Failure::TooManyRequests,
        Failure::Internal,
        Failure::BadGateway,
        Failure::Unavailable,
        Failure::GatewayTimeout,
    ];

    /// The failure answered with `status`; an unknown status is a bug of ours.
    fn from_status(status: u16) -> Failure {
        Failure::ALL.into_iter().find(|f| f.status() == status).unwrap_or(Failure::Internal)
    }

    pub fn status(self) -> u16 {
        match self {
            Failure::BadRequest => 400,
            Failure::Unauthorized => 401,
            Failure::PaymentRequired => 402,
            Failure::Forbidden => 403,
            Failure::NotFound => 404,
            Failure::MethodNotAllowed => 405,
            Failure::Conflict => 409,
            Failure::Gone => 410,
            Failure::LengthRequired => 411,
            Failure::PayloadTooLarge => 413,
            Failure::UnsupportedMediaType => 415,
            Failure::TooManyRequests => 429,
            Failure::UriTooLong => 414,
            Failure::HeadersTooLarge => 431,
            Failure::Internal => 500,
            Failure::BadGateway => 502,
            Failure::Unavailable => 503,
            Failure::GatewayTimeout => 504,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub failure: Failure,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(failure: Failure, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { failure, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(Failure::BadRequest, code, message)
    }

    /// An account that is not the caller's (or does not exist: the same answer).
    pub fn not_your_account() -> ApiError {
        ApiError::new(Failure::Forbidden, "not_your_account", "That is not one of your accounts.")
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(Failure::NotFound, code, message)
    }

    /// For failures that are hostr's own fault: the details go to the log,
    /// the client learns only that it was not their mistake.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        ApiError::from(HttpError::internal(cause))
    }

    pub fn status(&self) -> u16 {
        self.failure.status()
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<HttpError> for ApiError {
    fn from(error: HttpError) -> ApiError {
        ApiError { failure: Failure::from_status(error.status), code: error.code, message: error.message }
    }
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Response {
        Response::json(error.status(), &error.body())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::InvalidId { collection, .. } => ApiError::bad_request(
                "bad_id",
                format!("That is not a valid {} id: it must be {}.", collection.noun, collection.id_format.describe()),
            ),
            StoreError::NotFound { collection, .. } => {
                ApiError::not_found("not_found", format!("There is no such {}.", collection.noun))
            }
            StoreError::AlreadyExists { collection, .. } => {
                ApiError::new(Failure::Conflict, "already_exists", format!("That {} already exists.", collection.noun))
            }
            // Each use case names the unique values it may meet (`CustomerError::EmailTaken`,
            // `CheckoutError::DomainTaken`, …); one that reaches here is not one of those.
            StoreError::Taken { collection, .. } => ApiError::new(
                Failure::Conflict,
                "taken",
                format!("Another {} already uses this value.", collection.noun),
            ),
            error @ StoreError::Duplicate { .. } => {
                log::error!("{error}");
                ApiError::new(
                    Failure::Unavailable,
                    "record_unreadable",
                    "This record cannot be read right now; the operator has been told. Please try again later.",
                )
            }
            StoreError::Corrupt(load_error) => {
                log::error!("{load_error}");
                ApiError::new(
                    Failure::Unavailable,
                    "record_unreadable",
                    "This record cannot be read right now; the operator has been told. Please try again later.",
                )
            }
            error @ (StoreError::Invalid { .. } | StoreError::Io { .. }) => ApiError::internal(&error),
        }
    }
}

impl From<LoginFailure> for ApiError {
    fn from(failure: LoginFailure) -> ApiError {
        let unauthorized = |code, message: &str| ApiError::new(Failure::Unauthorized, code, message);
        match failure {
            LoginFailure::Malformed(why) => ApiError::bad_request(
                "malformed_event",
                format!("The sign-in event is not a valid Nostr event: {why}."),
            ),
            LoginFailure::BadId => unauthorized("bad_id", "The event's id does not match its content."),
            LoginFailure::BadSignature => {
                unauthorized("bad_signature", "The signature does not match the public key. Please sign in again.")
            }
            LoginFailure::WrongKind => unauthorized("wrong_kind", "A sign-in event must be of kind 27235 (NIP-98)."),
            LoginFailure::Stale => unauthorized("stale_event", "The sign-in event is too old. Please sign in again."),
            LoginFailure::Future => unauthorized(
                "future_event",
                "The sign-in event is dated in the future. Please check your device's clock.",
            ),
            LoginFailure::WrongUrl => unauthorized("wrong_url", "The sign-in event was made for another site."),
            LoginFailure::WrongMethod => unauthorized("wrong_method", "The sign-in event must name the POST method."),
            LoginFailure::MissingChallenge => {
                unauthorized("missing_challenge", "The sign-in event must carry exactly one challenge tag.")
            }
        }
    }
}

impl From<ChallengeError> for ApiError {
    fn from(error: ChallengeError) -> ApiError {
        let unauthorized = |code, message: &str| ApiError::new(Failure::Unauthorized, code, message);
        match error {
            ChallengeError::TooMany => ApiError::new(
                Failure::TooManyRequests,
                "too_many_challenges",
                "Too many sign-in attempts from your address. Please wait a minute and try again.",
            ),
            ChallengeError::Unknown => unauthorized("unknown_challenge", "This sign-in challenge was not issued here."),
            ChallengeError::Expired => {
                unauthorized("expired_challenge", "The sign-in challenge has expired. Please sign in again.")
            }
            ChallengeError::Used => {
                unauthorized("used_challenge", "This sign-in challenge was already used. Please sign in again.")
            }
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> ApiError {
        match error {
            SessionError::Expired => ApiError::new(
                Failure::Unauthorized,
                "session_expired",
                "Your session has expired. Please sign in again.",
            ),
            SessionError::Invalid => ApiError::new(
                Failure::Unauthorized,
                "invalid_session",
                "Your session is not valid. Please sign in again.",
            ),
        }
    }
}

impl From<CustomerError> for ApiError {
    fn from(error: CustomerError) -> ApiError {
        match error {
            CustomerError::AlreadyRegistered => {
                ApiError::new(Failure::Conflict, "already_registered", "This key is already registered.")
            }
            // Says no more than needed: see `within_email_allowance`.
            CustomerError::EmailTaken => ApiError::new(
                Failure::Conflict,
                "email_unavailable",
                "This email address cannot be used here. Please use another one.",
            ),
            CustomerError::BadEmail(why) => ApiError::bad_request("bad_email", format!("{why}.")),
            CustomerError::Deleted => ApiError::new(
                Failure::Forbidden,
                "customer_deleted",
                "This account is deleted. Recover it first to change it.",
            ),
            CustomerError::ConfirmationRequired => ApiError::bad_request(
                "confirmation_required",
                "To delete your account, confirm by sending your npub as `confirm`.",
            ),
            CustomerError::WrongConfirmation => ApiError::bad_request(
                "wrong_confirmation",
                "The confirmation does not match your npub; nothing was deleted.",
            ),
            // The operator's use case; the API never suspends.
            CustomerError::ReasonRequired => ApiError::bad_request("reason_required", "A suspension needs a reason."),
            CustomerError::Lifecycle(error) => error.into(),
            CustomerError::Store(error) => error.into(),
        }
    }
}

impl From<LifecycleError> for ApiError {
    fn from(error: LifecycleError) -> ApiError {
        match error {
            LifecycleError::Suspended => ApiError::new(
                Failure::Forbidden,
                "customer_suspended",
                "Your account is suspended. Please contact the operator.",
            ),
            LifecycleError::AlreadyDeleted => {
                ApiError::new(Failure::Conflict, "already_deleted", "This account is already deleted.")
            }
            LifecycleError::NotDeleted => ApiError::new(
                Failure::Conflict,
                "not_deleted",
                "This account is not deleted, so there is nothing to recover.",
            ),
            LifecycleError::NotSuspended => {
                ApiError::new(Failure::Conflict, "not_suspended", "This account is not suspended.")
            }
            LifecycleError::GracePeriodOver => ApiError::new(
                Failure::Gone,
                "grace_period_over",
                "The time to recover this account has passed. Please contact the operator.",
            ),
        }
    }
}

impl From<ProfileError> for ApiError {
    fn from(error: ProfileError) -> ApiError {
        match error {
            ProfileError::BadEvent(why) => {
                ApiError::bad_request("bad_metadata", format!("The profile event cannot be used: {why}."))
            }
            ProfileError::NotYours => {
                ApiError::new(Failure::Forbidden, "not_your_profile", "The profile event is signed by another key.")
            }
        }
    }
}

impl From<ProvisioningError> for ApiError {
    fn from(error: ProvisioningError) -> ApiError {
        use ProvisioningError as E;
        let conflict = |code, error: &E| ApiError::new(Failure::Conflict, code, error.to_string());
        match error {
            E::Panel(_) | E::NotOnPanel { .. } | E::UnknownServer(_) => {
                log::error!("WHM: {error}");
                ApiError::new(
                    Failure::BadGateway,
                    "whm_error",
                    "The hosting server did not answer as expected. Please try again later.",
                )
            }
            E::Store(error) => error.into(),
            // The operator's refusals; their messages name only the operator's own input.
            E::NotPaid { .. } => conflict("not_paid", &error),
            E::AlreadyFulfilled { .. } => conflict("already_fulfilled", &error),
            E::NotSuspendable { .. } | E::NotSuspended { .. } => conflict("wrong_account_status", &error),
            E::ReasonRequired => ApiError::bad_request("reason_required", error.to_string()),
            E::UnknownAccount(_) => ApiError::not_found("unknown_account", error.to_string()),
            E::NotExtendable(_) => conflict("not_extendable", &error),
            E::GroupMember { .. } => conflict("group_member", &error),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> ApiError {
        let forbidden = |code, message: &str| ApiError::new(Failure::Forbidden, code, message);
        let conflict = |code, message: &str| ApiError::new(Failure::Conflict, code, message);
        match error {
            CheckoutError::CustomerSuspended => {
                forbidden("customer_suspended", "Your account is suspended. Please contact the operator.")
            }
            CheckoutError::CustomerDeleted => {
                forbidden("customer_deleted", "This account is deleted. Recover it first.")
            }
            CheckoutError::UnknownPlan => ApiError::not_found("unknown_plan", "There is no such plan on sale."),
            CheckoutError::BadDomain(why) => ApiError::bad_request("bad_domain", format!("{why}.")),
            CheckoutError::DomainTaken => {
                conflict("domain_taken", "This domain is already hosted here, or being bought.")
            }
            CheckoutError::DomainYours => conflict(
                "domain_yours",
                "You already host this domain here. Renew that account instead of buying it again.",
            ),
            CheckoutError::DomainOverlaps => conflict(
                "domain_overlaps",
                "This domain is part of a domain hosted or being bought here, or contains one. Choose another domain.",
            ),
            CheckoutError::RenewalOpen => {
                conflict("renewal_open", "A renewal of this account is already waiting to be paid.")
            }
            CheckoutError::PeriodsNotOffered(_)
            | CheckoutError::OtherPeriodsOpen { .. }
            | CheckoutError::PlanAccountsUsed { .. }
            | CheckoutError::SubscriptionNotActive => plan_refusal(&error),
            CheckoutError::NotYourAccount => ApiError::not_your_account(),
            CheckoutError::AccountTerminated => {
                ApiError::new(Failure::Gone, "account_terminated", "This account was removed. Buy a new one instead.")
            }
            CheckoutError::RenewalPastCalendar { paid_until } => ApiError::new(
                Failure::Conflict,
                "renewal_past_calendar",
                format!(
                    "This account is paid until {paid_until}; one more period would end after {}, \
                     the last date hostr can record. Nothing was charged.",
                    Timestamp::MAX
                ),
            ),
            CheckoutError::NoInvoice => conflict("no_invoice", "This payment has no invoice to pay yet."),
            CheckoutError::NotSandboxInvoice => {
                conflict("not_a_sandbox_invoice", "This invoice was not made by the sandbox.")
            }
            CheckoutError::OtherMode { begun_in } => other_mode(begun_in),
            CheckoutError::NoSandbox => {
                ApiError::not_found("no_such_endpoint", "There is no API endpoint at this address.")
            }
            CheckoutError::ReasonRequired => {
                ApiError::bad_request("reason_required", "Say why the payment counts as paid.")
            }
            CheckoutError::AlreadyPaid => conflict("already_paid", "This payment is already paid."),
            CheckoutError::TooManyOpen { limit } => ApiError::new(
                Failure::TooManyRequests,
                "too_many_open_purchases",
                format!(
                    "You have {limit} purchases waiting to be paid. Pay or cancel one of them before starting another."
                ),
            ),
            CheckoutError::PaymentInProgress => conflict(
                "payment_in_progress",
                "A payment of this invoice is on its way, so it cannot be cancelled now. Please wait a moment.",
            ),
            CheckoutError::PlanChange(refusal) => plan_change(refusal),
            CheckoutError::Provider(error) => error.into(),
            CheckoutError::Store(error) => error.into(),
        }
    }
}

/// What a plan does not allow: more periods at once than it sells
/// (`crate::prepay`), more accounts than it includes (`checkout/group.rs`).
fn plan_refusal(error: &CheckoutError) -> ApiError {
    match error {
        CheckoutError::PlanAccountsUsed { included } => ApiError::new(
            Failure::Conflict,
            "plan_accounts_used",
            format!(
                "Your plan includes {included} cPanel account(s), and all of them are in use. \
                 Buy another plan for this domain."
            ),
        ),
        CheckoutError::SubscriptionNotActive => ApiError::new(
            Failure::Conflict,
            "subscription_not_active",
            "Sites are added only to a paid, active plan. Renew it first.",
        ),
        CheckoutError::OtherPeriodsOpen { periods, .. } => ApiError::new(
            Failure::Conflict,
            "other_periods_open",
            format!(
                "This purchase is already waiting to be paid for {periods} period(s). \
                 Pay it, or cancel it to choose another number of periods."
            ),
        ),
        other => ApiError::bad_request("periods_not_offered", format!("{other}.")),
    }
}

/// A plan change that cannot be made: a conflict with the account's state,
/// named by its code, the message carrying the figures (disk, dates).
fn plan_change(refusal: PlanChangeRefusal) -> ApiError {
    use crate::proration::ProrationError as P;
    let code = match &refusal {
        PlanChangeRefusal::NotActive(_) => "account_not_active",
        PlanChangeRefusal::Proration(P::SamePlan) => "same_plan",
        PlanChangeRefusal::Proration(P::Currencies { .. }) => "plan_currency_differs",
        PlanChangeRefusal::Proration(P::PeriodOver) => "period_over",
        PlanChangeRefusal::Proration(P::NotWhole(_)) => "plan_price_not_whole",
        PlanChangeRefusal::RenewedAhead { .. } => "renewed_ahead",
        PlanChangeRefusal::Scheduled { .. } => "change_scheduled",
        PlanChangeRefusal::DiskTooLarge { .. } => "disk_too_large",
        PlanChangeRefusal::Locked { .. } => "change_locked",
        PlanChangeRefusal::NothingScheduled => "no_scheduled_change",
        PlanChangeRefusal::TooManySites { .. } => "too_many_sites",
        PlanChangeRefusal::NothingToPay => "nothing_to_pay",
    };
    let mut message = refusal.to_string();
    if let Some(first) = message.get(..1) {
        message = format!("{}{}.", first.to_uppercase(), &message[1..]);
    }
    ApiError::new(Failure::Conflict, code, message)
}

/// A payment of the other mode: the customer hears what waits for what.
fn other_mode(begun_in: Provider) -> ApiError {
    let message = match begun_in {
        Provider::Strike => {
            "This purchase was begun with real payments, which this server does not take right now. \
             It can be finished when it does again; please contact the operator."
        }
        Provider::Sandbox => {
            "This purchase was begun in the sandbox and cannot be paid for real. Please start it again in a minute."
        }
    };
    ApiError::new(Failure::Conflict, "other_payment_mode", message)
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> ApiError {
        log::error!("{error}");
        let (failure, message) = match error {
            ProviderError::Unreachable(_) => {
                (Failure::GatewayTimeout, "The payment provider did not answer. Please try again in a minute.")
            }
            ProviderError::RateLimited { .. } => {
                (Failure::Unavailable, "The payment provider is busy. Please try again in a minute.")
            }
            ProviderError::Refused { .. } | ProviderError::Nonsense(_) => {
                (Failure::BadGateway, "The payment provider did not give a usable answer. Please try again later.")
            }
        };
        ApiError::new(failure, "payment_provider_error", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_checkout_failure_keeps_its_status_and_code() {
        let refused = ProviderError::Refused { status: 422, code: "X".into(), message: "m".into(), trace_id: None };
        let cases = [
            (CheckoutError::CustomerSuspended, 403, "customer_suspended"),
            (CheckoutError::CustomerDeleted, 403, "customer_deleted"),
            (CheckoutError::UnknownPlan, 404, "unknown_plan"),
            (CheckoutError::BadDomain("`x` is not a domain".into()), 400, "bad_domain"),
            (CheckoutError::DomainTaken, 409, "domain_taken"),
            (CheckoutError::DomainYours, 409, "domain_yours"),
            (CheckoutError::DomainOverlaps, 409, "domain_overlaps"),
            (CheckoutError::RenewalOpen, 409, "renewal_open"),
            (CheckoutError::PeriodsNotOffered("no".into()), 400, "periods_not_offered"),
            (CheckoutError::OtherPeriodsOpen { payment_id: "p".into(), periods: 1 }, 409, "other_periods_open"),
            (CheckoutError::PlanAccountsUsed { included: 3 }, 409, "plan_accounts_used"),
            (CheckoutError::SubscriptionNotActive, 409, "subscription_not_active"),
            (CheckoutError::NotYourAccount, 403, "not_your_account"),
            (CheckoutError::AccountTerminated, 410, "account_terminated"),
            (CheckoutError::RenewalPastCalendar { paid_until: Timestamp::MAX }, 409, "renewal_past_calendar"),
            (CheckoutError::NoInvoice, 409, "no_invoice"),
            (CheckoutError::NotSandboxInvoice, 409, "not_a_sandbox_invoice"),
            (CheckoutError::OtherMode { begun_in: Provider::Strike }, 409, "other_payment_mode"),
            (CheckoutError::OtherMode { begun_in: Provider::Sandbox }, 409, "other_payment_mode"),
            (CheckoutError::NoSandbox, 404, "no_such_endpoint"),
            (CheckoutError::ReasonRequired, 400, "reason_required"),
            (CheckoutError::AlreadyPaid, 409, "already_paid"),
            (CheckoutError::TooManyOpen { limit: 3 }, 429, "too_many_open_purchases"),
            (CheckoutError::PaymentInProgress, 409, "payment_in_progress"),
            (CheckoutError::Provider(ProviderError::Unreachable("x".into())), 504, "payment_provider_error"),
            (
                CheckoutError::Provider(ProviderError::RateLimited { retry_after: Duration::from_secs(9) }),
                503,
                "payment_provider_error",
            ),
            (CheckoutError::Provider(refused), 502, "payment_provider_error"),
            (CheckoutError::Provider(ProviderError::Nonsense("x".into())), 502, "payment_provider_error"),
        ];
        for (error, status, code) in cases {
            let shown = error.to_string();
            let api = ApiError::from(error);
            assert_eq!((api.status(), api.code), (status, code), "{shown}");
        }
        let bad_domain = ApiError::from(CheckoutError::BadDomain("`x` is not a domain".into()));
        assert_eq!(bad_domain.message, "`x` is not a domain.", "the reason, as a sentence");
    }
}
