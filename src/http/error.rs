//! The web layer's own errors: a request refused before any handler saw it
//! (too large, malformed, wrong media type), a page that is not there, or a
//! handler that panicked. Their bodies have the same shape as the app's
//! errors, `{"error": {"code": "…", "message": "…"}}`, so clients read one format.

use serde_json::json;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub type HttpResult<T> = Result<T, HttpError>;

impl HttpError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError::new(400, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError::new(404, code, message)
    }

    /// For failures that are the server's own fault: the details go to the
    /// log, the client learns only that it was not their mistake.
    pub fn internal(cause: &dyn fmt::Display) -> HttpError {
        log::error!("internal error: {cause}");
        HttpError::new(500, "internal_error", "Something went wrong on our side. Please try again later.")
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for HttpError {}
