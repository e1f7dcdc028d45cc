//! Email through SMTP (`lettre`'s blocking transport over rustls), from
//! `HOSTR_SMTP_URL` and `HOSTR_SMTP_FROM`, both read from the environment
//! only (the URL holds the password).
//!
//! Invariants: mail leaves only over TLS: `smtps://` (implicit TLS, 465)
//! or `smtp://…?tls=required` (STARTTLS that is never skipped, 587); plain
//! `smtp://127.0.0.1:PORT` without credentials is for the tests' server
//! alone. Each message carries a `Message-ID` made from its notice's id, so
//! a message sent twice after a crash is recognisably one.

use super::templates::Rendered;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// How long one SMTP exchange may take before the server counts as down.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The SMTP settings; `Debug` shows no credentials.
#[derive(Clone)]
pub struct SmtpSettings {
    url: String,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// `HOSTR_SMTP_URL` and `HOSTR_SMTP_FROM`, checked; none when unset.
    pub fn from_env() -> Result<Option<SmtpSettings>, String> {
        let var = |name| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match (var("HOSTR_SMTP_URL"), var("HOSTR_SMTP_FROM")) {
            (None, None) => Ok(None),
            (Some(url), Some(from)) => SmtpSettings::new(&url, &from).map(Some),
            (Some(_), None) => {
                Err("HOSTR_SMTP_URL is set but HOSTR_SMTP_FROM is not (e.g. Hosting <hosting@example.com>)".into())
            }
            (None, Some(_)) => Err("HOSTR_SMTP_FROM is set but HOSTR_SMTP_URL is not".into()),
        }
    }

    pub fn new(url: &str, from: &str) -> Result<SmtpSettings, String> {
        check_url(url)?;
        let from = from.parse::<Mailbox>().map_err(|e| format!("HOSTR_SMTP_FROM `{from}` is not an address ({e})"))?;
        Ok(SmtpSettings { url: url.to_owned(), from })
    }
}

/// Refuses an SMTP URL that could send mail (or a password) in clear.
pub fn check_url(url: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("HOSTR_SMTP_URL: {why}"));
    let (scheme, rest) = url.split_once("://").ok_or("HOSTR_SMTP_URL must be smtps://… or smtp://…?tls=required")?;
    let (authority, query) = rest.split_once('?').map_or((rest, ""), |(a, q)| (a, q));
    let authority = authority.split('/').next().unwrap_or_default();
    let (credentials, host) = authority.rsplit_once('@').map_or((None, authority), |(c, h)| (Some(c), h));
    let tls_param: Vec<&str> = query.split('&').filter_map(|p| p.strip_prefix("tls=")).collect();
    let local = host.strip_prefix("127.0.0.1:").is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match (scheme, tls_param.as_slice()) {
        ("smtps", []) => Ok(()),
        ("smtp", ["required"]) => Ok(()),
        ("smtp", ["opportunistic"]) => refuse("tls=opportunistic may fall back to clear text; use tls=required"),
        ("smtp", []) if local && credentials.is_none() => Ok(()),
        ("smtp", []) => {
            refuse("plain smtp:// sends in clear text; use smtps://host (465) or smtp://host?tls=required (587)")
        }
        _ => refuse("must be smtps://user:pass@host or smtp://user:pass@host?tls=required"),
    }
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The server could not be reached or failed for now: try again later.
    Unavailable(String),
    /// The server refused this message for good (a bad address).
    Refused(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Unavailable(why) => write!(f, "the SMTP server is unavailable: {why}"),
            MailError::Refused(why) => write!(f, "the SMTP server refused the message: {why}"),
        }
    }
}

/// `List-Unsubscribe` (RFC 2369): where a customer turns such notices off.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<ListUnsubscribe, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(text.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// One message to send.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub rendered: &'a Rendered,
    /// The notice's id, for the `Message-ID`.
    pub notice_id: &'a str,
    /// For notices a customer may switch off: the preferences page.
    pub unsubscribe: Option<&'a str>,
}

/// The transport, built once.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, String> {
        let builder = SmtpTransport::from_url(&settings.url).map_err(|e| format!("HOSTR_SMTP_URL: {e}"))?;
        Ok(Mailer { transport: builder.timeout(Some(TIMEOUT)).build(), from: settings.from.clone() })
    }

    pub fn send(&self, message: &Outgoing) -> Result<(), MailError> {
        let to = message.to.parse::<Mailbox>().map_err(|e| MailError::Refused(format!("`{}`: {e}", message.to)))?;
        let domain = self.from.email.domain().to_owned();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.rendered.subject.clone())
            .date_now()
            .message_id(Some(format!("<{}@{domain}>", message.notice_id)));
        if let Some(link) = message.unsubscribe {
            builder = builder.header(ListUnsubscribe(format!("<{link}>")));
        }
        let body = MultiPart::alternative_plain_html(message.rendered.text.clone(), message.rendered.html());
        let email = builder.multipart(body).map_err(|e| MailError::Refused(e.to_string()))?;
        self.transport.send(&email).map(|_| ()).map_err(|e| match e.is_permanent() {
            true => MailError::Refused(e.to_string()),
            false => MailError::Unavailable(e.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_leaves_over_tls_only_except_to_the_tests_local_server() {
        for good in [
            "smtps://user:pass@smtp.example.com",
            "smtps://smtp.example.com:465",
            "smtp://user:pass@smtp.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("smtp://smtp.example.com", "clear text"),
            ("smtp://user:pass@127.0.0.1:2525", "clear text"),
            ("smtp://127.0.0.1:25@evil.example", "clear text"),
            ("smtp://smtp.example.com?tls=opportunistic", "fall back"),
            ("http://smtp.example.com", "must be smtps://"),
            ("smtp.example.com", "must be smtps://"),
        ] {
            let refused = check_url(bad).unwrap_err();
            assert!(refused.contains(why), "{bad}: {refused}");
        }
    }
}
