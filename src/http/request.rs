//! The request as handlers see it: an owned value, read from the socket
//! once with hard limits, so handlers are plain functions testable without one.

use super::error::{HttpError, HttpResult};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::net::SocketAddr;

/// Longest request target (path and query) accepted, in bytes.
pub const MAX_URL: usize = 8 * 1024;
/// Largest total size of the request's header fields, in bytes.
pub const MAX_HEADERS: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    /// Uppercase, as sent: `GET`, `POST`, …
    pub method: String,
    /// The path, still percent-encoded, without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub remote: Option<SocketAddr>,
}

impl Request {
    /// Builds a request by hand, for tests and internal callers.
    pub fn new(method: &str, target: &str) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            remote: None,
        }
    }

    /// Copies a tiny_http request into an owned value, reading at most
    /// `max_body` bytes of body: a larger body is refused without being
    /// read further.
    pub fn read(raw: &mut tiny_http::Request, max_body: usize) -> HttpResult<Request> {
        let target = raw.url();
        if target.len() > MAX_URL {
            return Err(HttpError::new(414, "url_too_long", format!("The address is longer than {MAX_URL} bytes.")));
        }
        let mut request = Request::new(raw.method().as_str(), target);
        let mut header_bytes = 0;
        for header in raw.headers() {
            let (name, value) = (header.field.as_str().as_str(), header.value.as_str());
            header_bytes += name.len() + value.len() + 4;
            request.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        if header_bytes > MAX_HEADERS {
            return Err(HttpError::new(
                431,
                "headers_too_large",
                format!("The request's headers are larger than {MAX_HEADERS} bytes."),
            ));
        }
        request.remote = raw.remote_addr().copied();
        // An upgrade would hand this worker the raw socket for as long as the
        // client likes; hostr speaks plain HTTP only.
        let upgrading = request.header("connection").is_some_and(|c| c.to_ascii_lowercase().contains("upgrade"));
        if upgrading || request.header("upgrade").is_some() {
            return Err(HttpError::bad_request("upgrade_not_supported", "This server does not switch protocols."));
        }
        if raw.body_length().is_none() && request.header("transfer-encoding").is_some() {
            return Err(HttpError::new(411, "length_required", "Send the request body with a Content-Length header."));
        }
        let too_large = || {
            HttpError::new(
                413,
                "body_too_large",
                format!("The request body is larger than the limit of {max_body} bytes."),
            )
        };
        if raw.body_length().is_some_and(|declared| declared > max_body) {
            return Err(too_large());
        }
        // Room for the declared body at once (it is within the limit by now).
        request.body.reserve_exact(raw.body_length().unwrap_or(0));
        raw.as_reader()
            .take(max_body as u64 + 1)
            .read_to_end(&mut request.body)
            .map_err(|_| HttpError::bad_request("body_incomplete", "The request body could not be read completely."))?;
        if request.body.len() > max_body {
            return Err(too_large());
        }
        Ok(request)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| {
                let value = value.replace('+', " ");
                percent_decode_str(&value).decode_utf8_lossy().into_owned()
            })
        })
    }

    /// The body parsed as JSON into `T`, with a 415 for another content type
    /// and a 400 that says what is wrong with the JSON.
    pub fn json<T: DeserializeOwned>(&self) -> HttpResult<T> {
        let content_type = self.header("content-type").unwrap_or("");
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            return Err(HttpError::new(
                415,
                "unsupported_media_type",
                "Send the request body as JSON with Content-Type: application/json.",
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            HttpError::bad_request(
                "malformed_json",
                format!("The request body is not what was expected: {}.", plain_words(&e)),
            )
        })
    }
}

/// serde's message without the names of hostr's Rust types
/// ("expected struct VerifyBody" becomes "expected a JSON object").
fn plain_words(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let Some(at) = text.find("struct ") else { return text };
    let after = &text[at + "struct ".len()..];
    let name_end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
    format!("{}a JSON object{}", &text[..at], &after[name_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let rq = Request::new("GET", "/api/check-invoice?paymentId=a%2Db&x=1+2");
        assert_eq!(rq.query_param("paymentId").as_deref(), Some("a-b"));
        assert_eq!(rq.query_param("x").as_deref(), Some("1 2"));
        assert_eq!(rq.query_param("missing"), None);
        assert_eq!(rq.path, "/api/check-invoice");
    }

    #[test]
    fn json_bodies_need_the_json_content_type() {
        let mut rq = Request::new("POST", "/api/x");
        rq.body = br#"{"a": 1}"#.to_vec();
        assert_eq!(rq.json::<serde_json::Value>().unwrap_err().status(), 415);
        rq.headers.push(("content-type".into(), "application/json; charset=utf-8".into()));
        assert_eq!(rq.json::<serde_json::Value>().unwrap()["a"], 1);
        rq.body = b"{\"a\": 1,}".to_vec();
        assert_eq!(rq.json::<serde_json::Value>().unwrap_err().code, "malformed_json");

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct SecretInternalName {
            a: u8,
        }
        rq.body = b"\"text\"".to_vec();
        let message = rq.json::<SecretInternalName>().unwrap_err().message;
        assert!(!message.contains("SecretInternalName"), "{message}");
        assert!(message.contains("a JSON object"), "{message}");
    }
}
