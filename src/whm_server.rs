//! WHM servers: the hosting servers accounts are created on, one record per
//! server in `database/servers/<id>.json`, written and edited by the
//! operator by hand.
//!
//! A record names its server (URL, WHM user), the **environment variable**
//! that holds its API token (a secret never sits in a record), how many
//! accounts it may hold, the groups plans choose it by, what customers are
//! told about it (address, nameservers, cPanel sign-in) and whether it takes
//! new accounts (`ENABLED`) or only keeps its own (`DRAINING`).
//!
//! `WHM_URL` and its companions describe the server [`DEFAULT_SERVER`]
//! without a record; an account without `serverId` lives on that server.
//!
//! Invariants: the id is a slug; the URL is https (or a test's fake on
//! 127.0.0.1); the token variable's name looks like an environment
//! variable's, never like a token.

use crate::ids::IdFormat;
use crate::store::{Collection, Invalid, Key, Record};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The server of `WHM_URL`, and of every account that names no server.
pub const DEFAULT_SERVER: &str = "default";

/// Whether a server takes new accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServerStatus {
    /// Takes new accounts and looks after its own.
    #[default]
    Enabled,
    /// Takes no new accounts; its accounts carry on as before (renewals,
    /// suspensions, sign-on, termination), until the operator moves them.
    Draining,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Enabled => "ENABLED",
            ServerStatus::Draining => "DRAINING",
        }
    }
}

/// How a plan's accounts are spread over its servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Fill {
    /// The server with the lowest share of its maximum in use.
    #[default]
    LeastFull,
    /// The first server (by id) that still has room.
    InOrder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhmServer {
    pub id: String,
    /// `https://server.example.com:2087`.
    pub url: String,
    /// The WHM user the token belongs to.
    #[serde(default = "root")]
    pub user: String,
    /// The name of the environment variable holding the API token.
    pub token_env: String,
    /// Accounts this server may hold (`None`: no limit).
    #[serde(default)]
    pub max_accounts: Option<u32>,
    /// The groups a plan may name to place its accounts here.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub status: ServerStatus,
    /// The address customers point their domains at (else WHM's answer).
    #[serde(default)]
    pub server_ip: Option<IpAddr>,
    /// The nameservers customers set at their registrar (else WHM's answer).
    #[serde(default)]
    pub nameservers: Vec<String>,
    /// Where customers sign in to cPanel (else this server's host on 2083).
    #[serde(default)]
    pub cpanel_url: Option<String>,
    /// A PEM file with the server's self-signed certificate.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Skip certificate checks (only on a trusted network).
    #[serde(default)]
    pub tls_insecure: bool,
}

fn root() -> String {
    "root".to_owned()
}

impl WhmServer {
    /// Takes new accounts of a plan placing into `group` (`None`: any server).
    pub fn serves(&self, group: Option<&str>) -> bool {
        group.is_none_or(|g| self.groups.iter().any(|mine| mine == g))
    }
}

/// An environment variable's name: `A-Z`, `0-9` and `_`, not starting with a digit.
fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl Record for WhmServer {
    const COLLECTION: Collection = Collection { folder: "servers", noun: "WHM server", id_format: IdFormat::Slug };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        let url_ok = self.url.starts_with("https://") || self.url.starts_with("http://127.0.0.1:");
        if !url_ok {
            return Err(Invalid::new("url", "must be an https:// URL such as https://server.example.com:2087"));
        }
        if crate::cpanel_account::check_username(&self.user).is_err() {
            return Err(Invalid::new("user", "must be a WHM user name such as root or reseller1"));
        }
        if !is_env_name(&self.token_env) {
            return Err(Invalid::new(
                "tokenEnv",
                "must name the environment variable that holds the token (such as WHM2_API_TOKEN), not the token",
            ));
        }
        if self.max_accounts == Some(0) {
            return Err(Invalid::new("maxAccounts", "must be at least 1 (or left out for no limit)"));
        }
        if let Some(bad) = self.groups.iter().find(|g| !IdFormat::Slug.accepts(g)) {
            return Err(Invalid::new("groups", format!("`{bad}` must be {}", IdFormat::Slug.describe())));
        }
        for nameserver in &self.nameservers {
            crate::provisioning::first_steps::parse_nameserver(nameserver)
                .map_err(|why| Invalid::new("nameservers", why))?;
        }
        if self.ca_file.is_some() && self.tls_insecure {
            return Err(Invalid::new("tlsInsecure", "set caFile or tlsInsecure, not both"));
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<WhmServer>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> WhmServer {
        serde_json::from_value(serde_json::json!({
            "id": "eu1", "url": "https://eu1.example.com:2087", "tokenEnv": "WHM_EU1_TOKEN"
        }))
        .unwrap()
    }

    #[test]
    fn a_hand_written_record_needs_only_id_url_and_token_variable() {
        let s = server();
        assert_eq!((s.user.as_str(), s.max_accounts, s.status), ("root", None, ServerStatus::Enabled));
        assert!(s.validate().is_ok());
        assert!(s.serves(None) && !s.serves(Some("eu")));
        assert!(WhmServer { groups: vec!["eu".into()], ..s.clone() }.serves(Some("eu")));
        let bad = [
            (WhmServer { url: "http://eu1.example.com:2087".into(), ..s.clone() }, "url"),
            (WhmServer { token_env: "4f9a0c1e2b3d".into(), ..s.clone() }, "tokenEnv"),
            (WhmServer { token_env: "whm_token".into(), ..s.clone() }, "tokenEnv"),
            (WhmServer { max_accounts: Some(0), ..s.clone() }, "maxAccounts"),
            (WhmServer { groups: vec!["EU West".into()], ..s.clone() }, "groups"),
            (WhmServer { nameservers: vec!["ns1".into()], ..s.clone() }, "nameservers"),
            (WhmServer { ca_file: Some("/x.pem".into()), tls_insecure: true, ..s.clone() }, "tlsInsecure"),
        ];
        for (record, field) in bad {
            assert_eq!(record.validate().map_err(|e| e.field), Err(field), "{record:?}");
        }
        let typo = serde_json::json!({"id": "x", "url": "https://x.example", "tokenEnv": "T", "maxAcounts": 3});
        assert!(serde_json::from_value::<WhmServer>(typo).is_err(), "a misspelt field is refused, not ignored");
    }
}
