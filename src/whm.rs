//! The WHM API 1 client: creating, suspending and removing cPanel accounts,
//! reading their state and usage, and cPanel single sign-on.
//!
//! Every call is `POST {WHM_URL}/json-api/<function>?api.version=1` with a
//! form body (passwords never go into URLs) and `Authorization: whm
//! <user>:<token>`. WHM answers HTTP 200 for failures too, so the outcome is
//! judged by `metadata.result` (a number or a string); a 403 or a legacy
//! `cpanelresult` error is an authentication failure, and HTML or non-JSON
//! is told apart from an API refusal. Account creation and removal get
//! minutes, everything else seconds. TLS is verified unless the operator
//! opts out or names a CA file. Tokens and passwords never appear in logs
//! or errors.
//!
//! The client implements provisioning's `HostingPanel`: WHM's JSON stays in
//! this file, and what leaves it is a `PanelAccount` or a `PanelError`.

use crate::provisioning::panel::{HostingPanel, PanelAccount, PanelError, PanelResult};
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;

pub const SHORT_TIMEOUT: Duration = Duration::from_secs(20);
pub const LONG_TIMEOUT: Duration = Duration::from_secs(300);
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// The functions hostr calls, which the WHM token must be allowed.
pub const REQUIRED_FUNCTIONS: &[&str] = &[
    "createacct",
    "accountsummary",
    "listaccts",
    "suspendacct",
    "unsuspendacct",
    "changepackage",
    "removeacct",
    "showbw",
    "create_user_session",
    "verify_new_username",
];

/// How the WHM server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhmTls {
    /// Against the public roots (the default).
    Verify,
    /// Against this PEM bundle (a self-signed server certificate).
    CaFile(std::path::PathBuf),
    /// Not at all: an explicit operator choice.
    Insecure,
}

pub struct WhmClient {
    short: ureq::Agent,
    long: ureq::Agent,
    base: String,
    authorization: String,
}

impl fmt::Debug for WhmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token.
        f.debug_struct("WhmClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl WhmClient {
    pub fn new(url: &str, user: &str, token: &str, tls: &WhmTls) -> Result<WhmClient, String> {
        WhmClient::with_timeouts(url, user, token, tls, SHORT_TIMEOUT, LONG_TIMEOUT)
    }

    /// A client with other timeouts (tests use short ones).
    pub fn with_timeouts(
        url: &str,
        user: &str,
        token: &str,
        tls: &WhmTls,
        short: Duration,
        long: Duration,
    ) -> Result<WhmClient, String> {
        let tls_config = match tls {
            WhmTls::Verify => ureq::tls::TlsConfig::builder().build(),
            WhmTls::Insecure => ureq::tls::TlsConfig::builder().disable_verification(true).build(),
            WhmTls::CaFile(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| format!("cannot read the WHM CA file {}: {e}", path.display()))?;
                let certs = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("the WHM CA file {} is not PEM: {e}", path.display()))?;
                if certs.is_empty() {
                    return Err(format!("the WHM CA file {} holds no certificate", path.display()));
                }
                ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build()
            }
        };
        let agent = |timeout: Duration| -> ureq::Agent {
            ureq::Agent::config_builder()
                .timeout_connect(Some(Duration::from_secs(10).min(timeout)))
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .tls_config(tls_config.clone())
                .user_agent(concat!("hostr/", env!("CARGO_PKG_VERSION")))
                .build()
                .into()
        };
        Ok(WhmClient {
            short: agent(short),
            long: agent(long),
            base: url.trim_end_matches('/').to_owned(),
            authorization: format!("whm {user}:{token}"),
        })
    }

    /// The functions the token may call (`applist`), to compare with
    /// [`REQUIRED_FUNCTIONS`]; only `hostr whm test` asks.
    pub fn applist(&self) -> PanelResult<Vec<String>> {
        let data = self.call("applist", &[], false)?;
        let apps = data.get("app").ok_or_else(|| nonsense("applist has no app list"))?;
        Ok(match apps {
            Value::Array(list) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Value::Object(map) => map.keys().cloned().collect(),
            _ => return Err(nonsense("applist's app is neither a list nor a map")),
        })
    }

    fn call(&self, function: &str, params: &[(&str, &str)], long: bool) -> PanelResult<Value> {
        let url = format!("{}/json-api/{function}?api.version=1", self.base);
        let mut body = String::from("api.version=1");
        for (name, value) in params {
            body.push('&');
            body.push_str(name);
            body.push('=');
            body.extend(percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC));
        }
        let agent = if long { &self.long } else { &self.short };
        let response = agent
            .post(&url)
            .header("Authorization", &self.authorization)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes());
        let mut response = response.map_err(|e| PanelError::Unreachable(format!("{function}: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| PanelError::Unreachable(format!("{function}: the answer was cut off: {e}")))?;
        judge(function, status, &text)
    }
}

/// hostr's panel API is the client's API: each call converts WHM's answer
/// into hostr's types here, at the edge.
impl HostingPanel for WhmClient {
    fn is_sandbox(&self) -> bool {
        false
    }

    /// `createacct`, answering the account's address (`data.ip`). The
    /// password travels in the body and `showpass=n` keeps it out of WHM's
    /// own output. After `Unreachable`, ask
    /// [`account_summary`](Self::account_summary) before trying again.
    fn create_account(
        &self,
        username: &str,
        domain: &str,
        package: &str,
        email: Option<&str>,
        password: &str,
    ) -> PanelResult<Option<String>> {
        let mut params = vec![
            ("username", username),
            ("domain", domain),
            ("plan", package),
            ("password", password),
            ("showpass", "n"),
        ];
        if let Some(email) = email {
            params.push(("contactemail", email));
        }
        let data = self.call("createacct", &params, true)?;
        Ok(data.get("ip").and_then(Value::as_str).map(str::trim).filter(|ip| !ip.is_empty()).map(str::to_owned))
    }

    /// `accountsummary`; `None` when WHM has no such account.
    fn account_summary(&self, username: &str) -> PanelResult<Option<PanelAccount>> {
        match self.call("accountsummary", &[("user", username)], false) {
            Ok(data) => Ok(accounts(&data)?.into_iter().next()),
            Err(error) if error.is_missing_account() => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Every account on the server (`listaccts`), in one call.
    fn list_accounts(&self) -> PanelResult<Vec<PanelAccount>> {
        let data = self.call(
            "listaccts",
            &[("want", "user,domain,plan,suspended,suspendreason,diskused,disklimit,ip")],
            false,
        )?;
        accounts(&data)
    }

    fn suspend(&self, username: &str, reason: &str) -> PanelResult<()> {
        self.call("suspendacct", &[("user", username), ("reason", reason)], false).map(drop)
    }

    fn unsuspend(&self, username: &str) -> PanelResult<()> {
        self.call("unsuspendacct", &[("user", username)], false).map(drop)
    }

    /// `changepackage` (`user`, `pkg`): metadata only, no `data`.
    fn change_package(&self, username: &str, package: &str) -> PanelResult<()> {
        self.call("changepackage", &[("user", username), ("pkg", package)], false).map(drop)
    }

    /// `removeacct`: the account and its files are gone.
    fn remove_account(&self, username: &str) -> PanelResult<()> {
        self.call("removeacct", &[("username", username), ("keepdns", "0")], true).map(drop)
    }

    /// Bandwidth used this month by every account (`showbw`), in bytes by username.
    fn bandwidth(&self) -> PanelResult<Vec<(String, u64)>> {
        let data = self.call("showbw", &[], false)?;
        let list = data.get("acct").and_then(Value::as_array).ok_or_else(|| nonsense("showbw has no acct list"))?;
        list.iter()
            .map(|acct| {
                let user =
                    acct.get("user").and_then(Value::as_str).ok_or_else(|| nonsense("showbw entry without user"))?;
                Ok((user.to_owned(), number(acct.get("totalbytes")).unwrap_or(0)))
            })
            .collect()
    }

    /// A one-time cPanel login URL for `username` (`create_user_session`).
    /// Never cache, store or log it.
    fn login_url(&self, username: &str) -> PanelResult<String> {
        let data = self.call("create_user_session", &[("user", username), ("service", "cpaneld")], false)?;
        let url = data.get("url").and_then(Value::as_str).ok_or_else(|| nonsense("create_user_session gave no url"))?;
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(nonsense("create_user_session gave no URL"));
        }
        Ok(url.to_owned())
    }

    /// Whether WHM would accept `username` for a new account.
    fn username_available(&self, username: &str) -> PanelResult<bool> {
        match self.call("verify_new_username", &[("user", username)], false) {
            Ok(_) => Ok(true),
            Err(PanelError::Refused { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// `get_nameserver_config`: the nameservers WHM gives new accounts.
    fn nameservers(&self) -> PanelResult<Vec<String>> {
        let data = self.call("get_nameserver_config", &[], false)?;
        let list = data
            .get("nameservers")
            .and_then(Value::as_array)
            .ok_or_else(|| nonsense("get_nameserver_config has no nameservers list"))?;
        Ok(list
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|ns| !ns.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// What a WHM answer means, from its status and body.
fn judge(function: &str, status: u16, text: &str) -> PanelResult<Value> {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let legacy_error = json
        .as_ref()
        .and_then(|j| j.get("cpanelresult"))
        .and_then(|c| c.get("error").or_else(|| c.get("data").and_then(|d| d.get("reason"))))
        .and_then(Value::as_str);
    if status == 401 || status == 403 || legacy_error.is_some() {
        return Err(PanelError::Auth(legacy_error.unwrap_or("access denied").to_owned()));
    }
    if status >= 500 {
        return Err(PanelError::Unreachable(format!("{function}: HTTP {status}")));
    }
    let Some(json) = json else {
        let why = if text.contains("Brute Force Protection") {
            "WHM's brute-force protection blocked this server's address".to_owned()
        } else if text.to_ascii_lowercase().contains("<html") {
            format!("{function} answered an HTML page (HTTP {status}): check WHM_URL (https, port 2087)")
        } else {
            format!("{function} answered HTTP {status} without JSON")
        };
        return Err(PanelError::Nonsense(why));
    };
    let metadata = json.get("metadata").and_then(Value::as_object).ok_or_else(|| {
        PanelError::Nonsense(format!("{function} answered without WHM API 1 metadata (is api.version=1 honoured?)"))
    })?;
    if number(metadata.get("result")) != Some(1) {
        let reason = metadata.get("reason").and_then(Value::as_str).unwrap_or("no reason given");
        return Err(PanelError::Refused { function: function.to_owned(), reason: reason.to_owned() });
    }
    Ok(json.get("data").cloned().unwrap_or(Value::Object(Map::new())))
}

/// A count or size that WHM sends as a number or as a string ("1", "14M").
fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().trim_end_matches(['M', 'm']).parse().ok(),
        _ => None,
    }
}

fn accounts(data: &Value) -> PanelResult<Vec<PanelAccount>> {
    let list = data.get("acct").and_then(Value::as_array).ok_or_else(|| nonsense("no acct list"))?;
    list.iter()
        .map(|acct| {
            let text = |field: &str| acct.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
            let username = text("user");
            if username.is_empty() {
                return Err(nonsense("an account without a user"));
            }
            let reason = acct.get("suspendreason").and_then(Value::as_str).filter(|r| *r != "not suspended");
            Ok(PanelAccount {
                domain: text("domain"),
                package: text("plan"),
                suspended: number(acct.get("suspended")) == Some(1),
                suspend_reason: reason.map(str::to_owned),
                disk_used_mb: number(acct.get("diskused")).unwrap_or(0),
                disk_limit_mb: number(acct.get("disklimit")).filter(|&mb| mb > 0),
                ip: Some(text("ip")).filter(|ip| !ip.is_empty()),
                username,
            })
        })
        .collect()
}

fn nonsense(why: &str) -> PanelError {
    PanelError::Nonsense(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_by_metadata_not_by_status() {
        let ok = r#"{"metadata":{"command":"suspendacct","version":1,"result":1,"reason":"OK"}}"#;
        assert!(judge("suspendacct", 200, ok).is_ok());
        let as_string = r#"{"metadata":{"result":"1","reason":"OK"},"data":{"x":1}}"#;
        assert_eq!(judge("f", 200, as_string).unwrap()["x"], 1);
        let refused = r#"{"metadata":{"result":0,"reason":"API failure: (XID abc) domain exists"}}"#;
        assert!(
            matches!(judge("createacct", 200, refused), Err(PanelError::Refused { reason, .. }) if reason.contains("domain exists"))
        );
        let refused_string = r#"{"metadata":{"result":"0","reason":"no"}}"#;
        assert!(matches!(judge("f", 200, refused_string), Err(PanelError::Refused { .. })));
        let denied = r#"{"cpanelresult":{"apiversion":"2","error":"Access denied","data":{"reason":"Access denied","result":"0"}}}"#;
        assert!(matches!(judge("f", 403, denied), Err(PanelError::Auth(_))));
        assert!(matches!(judge("f", 200, denied), Err(PanelError::Auth(_))));
        assert!(
            matches!(judge("f", 200, "<html>Brute Force Protection</html>"), Err(PanelError::Nonsense(w)) if w.contains("brute-force"))
        );
        assert!(matches!(judge("f", 200, "<HTML><meta http-equiv=refresh>"), Err(PanelError::Nonsense(_))));
        assert!(matches!(judge("f", 500, ""), Err(PanelError::Unreachable(_))));
        assert!(matches!(judge("f", 200, r#"{"result":[{"status":1}]}"#), Err(PanelError::Nonsense(_))), "API 0 shape");
    }

    #[test]
    fn accounts_read_loose_types_and_units() {
        let data: Value = serde_json::from_str(
            r#"{"acct":[{"user":"acme","domain":"acme.example","plan":"basic","suspended":0,
               "suspendreason":"not suspended","diskused":"212M","disklimit":"5000M"},
              {"user":"beta","domain":"beta.example","plan":"basic","suspended":"1",
               "suspendreason":"Overdue","diskused":"0M","disklimit":"unlimited"}]}"#,
        )
        .unwrap();
        let list = accounts(&data).unwrap();
        assert_eq!((list[0].disk_used_mb, list[0].disk_limit_mb, list[0].suspended), (212, Some(5000), false));
        assert_eq!(list[0].suspend_reason, None);
        assert_eq!(
            (list[1].suspended, list[1].suspend_reason.as_deref(), list[1].disk_limit_mb),
            (true, Some("Overdue"), None)
        );
    }
}
