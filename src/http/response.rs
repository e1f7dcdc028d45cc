//! Responses as plain values; turned into tiny_http responses at the edge.

use super::error::HttpError;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Values are mostly constants, which need no copy.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: impl Into<Cow<'static, str>>, body: Vec<u8>) -> Response {
        Response { status, headers: vec![("Content-Type", content_type.into())], body }
    }

    /// A JSON answer; API answers are never cached.
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        // Most answers fit at once; serde_json's own start (128 bytes) grows
        // three times for a sign-in answer.
        let mut body = Vec::with_capacity(1024);
        match serde_json::to_writer(&mut body, value) {
            Ok(()) => Response::new(status, "application/json", body).with_header("Cache-Control", "no-store"),
            Err(e) => Response::error(&HttpError::internal(&e)),
        }
    }

    pub fn error(error: &HttpError) -> Response {
        Response::json(error.status, &error.body())
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

impl From<HttpError> for Response {
    fn from(error: HttpError) -> Response {
        Response::error(&error)
    }
}
