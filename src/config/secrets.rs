//! The settings that are secrets, read from the environment only (a flag
//! would show them to every user of `ps`): Strike's key and webhook secret,
//! WHM's token, the session signing secret. `serve` and the `strike` and
//! `whm` subcommands read them through the same functions.
//!
//! Invariant: a key or token is only ever sent to an https:// URL; the one
//! exception is `http://127.0.0.1:PORT`, where the tests run their fakes.

use crate::strike::PRODUCTION_URL;
use crate::whm::WhmTls;
use std::time::Duration;

/// Strike settings, from the environment only: they are secrets.
#[derive(Clone)]
pub struct StrikeSettings {
    pub api_key: String,
    pub api_url: String,
    pub webhook_secret: Option<String>,
    /// How long one call to Strike may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for StrikeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrikeSettings").field("api_url", &self.api_url).finish_non_exhaustive()
    }
}

impl StrikeSettings {
    /// Reads `STRIKE_API_KEY`, `STRIKE_API_URL` and `STRIKE_WEBHOOK_SECRET`.
    pub fn from_env() -> Result<Option<StrikeSettings>, String> {
        let Some(api_key) = var("STRIKE_API_KEY") else {
            return Ok(None);
        };
        let api_url = var("STRIKE_API_URL").unwrap_or_else(|| PRODUCTION_URL.to_owned());
        let api_url = https_only("STRIKE_API_URL", api_url, PRODUCTION_URL)?;
        let webhook_secret = var("STRIKE_WEBHOOK_SECRET");
        if webhook_secret.as_ref().is_some_and(|s| !(10..=50).contains(&s.len())) {
            return Err("STRIKE_WEBHOOK_SECRET must be 10 to 50 characters (Strike's rule)".to_owned());
        }
        Ok(Some(StrikeSettings { api_key, api_url, webhook_secret, timeout: Duration::from_secs(15) }))
    }
}

/// WHM settings, from the environment only: the token is a secret.
#[derive(Clone)]
pub struct WhmSettings {
    pub url: String,
    pub user: String,
    pub token: String,
    pub tls: WhmTls,
    /// For every call but the two below.
    pub timeout: Duration,
    /// For `createacct` and `removeacct`, which take minutes on a busy server.
    pub create_timeout: Duration,
}

impl std::fmt::Debug for WhmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhmSettings").field("url", &self.url).field("user", &self.user).finish_non_exhaustive()
    }
}

impl WhmSettings {
    pub fn client(&self) -> Result<crate::whm::WhmClient, String> {
        crate::whm::WhmClient::with_timeouts(
            &self.url,
            &self.user,
            &self.token,
            &self.tls,
            self.timeout,
            self.create_timeout,
        )
    }

    /// The settings of a server's record, its token read from the
    /// environment variable the record names.
    pub fn of_server(server: &crate::whm_server::WhmServer) -> Result<WhmSettings, String> {
        let name = format!("servers/{}.json: url", server.id);
        let url = https_only(&name, server.url.clone(), "https://server.example.com:2087")?;
        let token = var(&server.token_env).ok_or_else(|| {
            format!(
                "WHM server `{}`: the environment variable {} (its tokenEnv) is not set",
                server.id, server.token_env
            )
        })?;
        let tls = match (&server.ca_file, server.tls_insecure) {
            (Some(file), _) => WhmTls::CaFile(file.into()),
            (None, true) => WhmTls::Insecure,
            (None, false) => WhmTls::Verify,
        };
        let settings = WhmSettings {
            url,
            user: server.user.clone(),
            token,
            tls,
            timeout: crate::whm::SHORT_TIMEOUT,
            create_timeout: crate::whm::LONG_TIMEOUT,
        };
        settings.client()?; // reads and checks the CA file now rather than at the first call
        Ok(settings)
    }

    /// Reads `WHM_URL`, `WHM_USER` (default `root`), `WHM_API_TOKEN`, and
    /// `WHM_CA_FILE` or `WHM_TLS_INSECURE=1` for a self-signed certificate.
    pub fn from_env() -> Result<Option<WhmSettings>, String> {
        let Some(url) = var("WHM_URL") else {
            if var("WHM_API_TOKEN").is_some() {
                return Err("WHM_API_TOKEN is set but WHM_URL is not (e.g. https://server.example.com:2087)".to_owned());
            }
            return Ok(None);
        };
        let url = https_only("WHM_URL", url, "https://server.example.com:2087")?;
        let token = var("WHM_API_TOKEN").ok_or("WHM_URL is set but WHM_API_TOKEN is not")?;
        let tls = match (var("WHM_CA_FILE"), var("WHM_TLS_INSECURE").as_deref()) {
            (Some(_), Some("1")) => return Err("set WHM_CA_FILE or WHM_TLS_INSECURE=1, not both".to_owned()),
            (Some(file), _) => WhmTls::CaFile(file.into()),
            (None, Some("1")) => WhmTls::Insecure,
            (None, None | Some("0")) => WhmTls::Verify,
            (None, Some(other)) => return Err(format!("WHM_TLS_INSECURE must be 1 or 0, not `{other}`")),
        };
        Ok(Some(WhmSettings {
            url,
            user: var("WHM_USER").unwrap_or_else(|| "root".to_owned()),
            token,
            tls,
            timeout: crate::whm::SHORT_TIMEOUT,
            create_timeout: crate::whm::LONG_TIMEOUT,
        }))
    }
}

/// `HOSTR_SESSION_SECRET`, if set. Unlike the others it is not trimmed:
/// its bytes are the signing key, and trimming would change a key in use.
pub(super) fn session_secret() -> Result<Option<String>, String> {
    let secret = std::env::var("HOSTR_SESSION_SECRET").ok().filter(|s| !s.is_empty());
    if secret.as_ref().is_some_and(|s| s.len() < 32) {
        return Err("HOSTR_SESSION_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)".to_owned());
    }
    Ok(secret)
}

/// `name`'s value without surrounding blanks; `None` when unset or blank.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `url` (the value of `name`) if it is safe to send a secret to.
/// Plain http only to the local fakes of the tests: the whole authority
/// must be `127.0.0.1:<port>`, so `http://127.0.0.1:80@elsewhere` is refused.
fn https_only(name: &str, url: String, example: &str) -> Result<String, String> {
    let loopback = url.strip_prefix("http://127.0.0.1:").is_some_and(|rest| {
        let port = rest.split('/').next().unwrap_or_default();
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    });
    if url.starts_with("https://") || loopback {
        Ok(url)
    } else {
        Err(format!("{name} `{url}` must be an https:// URL such as {example}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sent_to_https_urls_or_the_local_fakes_only() {
        for good in ["https://api.strike.me", "https://server.example.com:2087", "http://127.0.0.1:9000/v1"] {
            assert_eq!(https_only("URL", good.to_owned(), "https://x").as_deref(), Ok(good));
        }
        let bad_urls = [
            "http://api.strike.me",
            "http://localhost:9000",
            "ftp://x",
            "api.strike.me",
            "http://127.0.0.1:80@evil.example",
            "http://127.0.0.1:80?@evil.example/",
            "http://127.0.0.1:/",
        ];
        for bad in bad_urls {
            let refused = https_only("WHM_URL", bad.to_owned(), "https://server.example.com:2087").unwrap_err();
            assert!(refused.starts_with(&format!("WHM_URL `{bad}` must be an https:// URL")), "{refused}");
        }
    }
}
