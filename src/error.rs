//! The one error type that reaches HTTP clients, and the one place where
//! errors become statuses and JSON bodies.
//!
//! Every answer that is not a success has the shape
//! `{"error": {"code": "snake_case_reason", "message": "…"}}`. Causes
//! (file paths, upstream answers) go to the log, never into a response.

use crate::store::{Kind, StoreError};
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
    PayloadTooLarge,
    UnsupportedMediaType,
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
            Failure::PayloadTooLarge => 413,
            Failure::UnsupportedMediaType => 415,
            Failure::TooManyRequests => 429,
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
        ApiError {
            failure,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(Failure::BadRequest, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(Failure::NotFound, code, message)
    }

    /// For failures that are hostr's own fault: the details go to the log,
    /// the client learns only that it was not their mistake.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        log::error!("internal error: {cause}");
        ApiError::new(
            Failure::Internal,
            "internal_error",
            "Something went wrong on our side. Please try again later.",
        )
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

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let noun = |kind: Kind| kind.noun();
        match error {
            StoreError::InvalidId { kind, .. } => ApiError::bad_request(
                "bad_id",
                format!(
                    "That is not a valid {} id: it must be {}.",
                    noun(kind),
                    kind.id_format().describe()
                ),
            ),
            StoreError::NotFound { kind, .. } => {
                ApiError::not_found("not_found", format!("There is no such {}.", noun(kind)))
            }
            StoreError::AlreadyExists { kind, .. } => ApiError::new(
                Failure::Conflict,
                "already_exists",
                format!("That {} already exists.", noun(kind)),
            ),
            StoreError::Taken { kind, field, .. } => ApiError::new(
                Failure::Conflict,
                "taken",
                format!("Another {} already uses this {field}.", noun(kind)),
            ),
            StoreError::Corrupt(load_error) => {
                log::error!("{load_error}");
                ApiError::new(
                    Failure::Unavailable,
                    "record_unreadable",
                    "This record cannot be read right now; the operator has been told. Please try again later.",
                )
            }
            error @ (StoreError::Invalid { .. } | StoreError::Io { .. }) => {
                ApiError::internal(&error)
            }
        }
    }
}
