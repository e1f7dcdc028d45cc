//! First steps: what a customer needs to use an account once it is ready —
//! the cPanel user, where to sign in to cPanel directly, and where to point
//! the domain (the server's address for A/AAAA records, and/or the
//! nameservers to set at the registrar).
//!
//! The operator's settings ([`ServerFacts`]) win over what WHM reports
//! (the account's `ip` from `listaccts`, the nameservers from
//! `get_nameserver_config`, both as cached in the view): an operator
//! behind NAT or a proxy knows the public address better than WHM does.
//! Pure: the caller brings the settings, the account and WHM's answers.

use crate::cpanel_account::{AccountStatus, CpanelAccount};
use serde::Serialize;
use std::net::IpAddr;

/// The operator's settings about the hosting server (`--server-ip`,
/// `--nameservers`, `--cpanel-url`, or WHM's host).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFacts {
    pub ip: Option<IpAddr>,
    pub nameservers: Vec<String>,
    /// Where customers sign in to cPanel with their password, e.g.
    /// `https://server.example:2083/`.
    pub cpanel_url: Option<String>,
}

/// One DNS record the customer should create at their DNS provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// `A` or `AAAA`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
}

/// What the success screen and the profile show for a ready account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstSteps {
    pub username: String,
    pub domain: String,
    pub ip: Option<String>,
    pub nameservers: Vec<String>,
    pub cpanel_url: Option<String>,
    /// The records that point the domain (and `www.`) at `ip`.
    pub records: Vec<DnsRecord>,
}

/// The first steps for `account`, or `None` while it is not ACTIVE (there is
/// nothing to use yet, or nothing to use any more). `panel_ip` and
/// `panel_nameservers` are WHM's answers, used where no setting says.
pub fn first_steps(
    settings: &ServerFacts,
    account: &CpanelAccount,
    panel_ip: Option<&str>,
    panel_nameservers: &[String],
) -> Option<FirstSteps> {
    if account.status != AccountStatus::Active {
        return None;
    }
    let ip: Option<IpAddr> = settings.ip.or_else(|| panel_ip?.trim().parse().ok());
    let nameservers =
        if settings.nameservers.is_empty() { panel_nameservers.to_vec() } else { settings.nameservers.clone() };
    let records = ip.map_or_else(Vec::new, |ip| {
        let kind = if ip.is_ipv6() { "AAAA" } else { "A" };
        [account.domain.clone(), format!("www.{}", account.domain)]
            .into_iter()
            .map(|name| DnsRecord { kind, name, value: ip.to_string() })
            .collect()
    });
    Some(FirstSteps {
        username: account.username.clone(),
        domain: account.domain.clone(),
        ip: ip.map(|ip| ip.to_string()),
        nameservers,
        cpanel_url: settings.cpanel_url.clone(),
        records,
    })
}

/// cPanel's own sign-in address on the WHM server at `whm_url`: the same
/// host on port 2083 (cPanel over TLS), or `None` when the URL has no host.
pub fn cpanel_url_of(whm_url: &str) -> Option<String> {
    let rest = whm_url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => authority.split(':').next()?.to_owned(),
    };
    (!host.is_empty()).then(|| format!("https://{host}:2083/"))
}

/// A nameserver as the operator typed it: a host name with at least two
/// labels, lower-cased, without a trailing dot.
pub fn parse_nameserver(text: &str) -> Result<String, String> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() <= 253 && name.contains('.') && name.split('.').all(label_ok) {
        Ok(name)
    } else {
        Err(format!("`{text}` is not a nameserver's host name (like ns1.example.com)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    fn account(status: AccountStatus) -> CpanelAccount {
        let t = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        CpanelAccount { status, ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", t) }
    }

    #[test]
    fn settings_win_over_whm_and_whm_fills_the_gaps() {
        let whm_ns = vec!["ns1.whm.example".to_owned()];
        let set = ServerFacts {
            ip: Some("203.0.113.7".parse().unwrap()),
            nameservers: vec!["ns1.op.example".into(), "ns2.op.example".into()],
            cpanel_url: Some("https://cp.example:2083/".into()),
        };
        let none = ServerFacts::default();
        // (settings, WHM's ip, WHM's nameservers) → (ip, nameservers)
        type Case<'a> = (&'a ServerFacts, Option<&'a str>, &'a [String], Option<&'a str>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (&set, Some("192.0.2.10"), &whm_ns, Some("203.0.113.7"), vec!["ns1.op.example", "ns2.op.example"]),
            (&none, Some("192.0.2.10"), &whm_ns, Some("192.0.2.10"), vec!["ns1.whm.example"]),
            (&none, Some(" 192.0.2.10 "), &[], Some("192.0.2.10"), vec![]),
            (&none, Some("not an ip"), &[], None, vec![]),
            (&none, None, &[], None, vec![]),
        ];
        for (settings, ip, ns, want_ip, want_ns) in cases {
            let steps = first_steps(settings, &account(AccountStatus::Active), ip, ns).unwrap();
            assert_eq!(steps.ip.as_deref(), want_ip, "{settings:?} {ip:?}");
            assert_eq!(steps.nameservers, want_ns, "{settings:?} {ns:?}");
            assert_eq!(steps.records.len(), if want_ip.is_some() { 2 } else { 0 });
            assert_eq!((steps.username.as_str(), steps.domain.as_str()), ("shop", "shop.example"));
        }
    }

    #[test]
    fn records_point_the_domain_and_www_at_the_address() {
        let v6 = ServerFacts { ip: Some("2001:db8::1".parse().unwrap()), ..ServerFacts::default() };
        let steps = first_steps(&v6, &account(AccountStatus::Active), None, &[]).unwrap();
        let records: Vec<(&str, &str, &str)> =
            steps.records.iter().map(|r| (r.kind, r.name.as_str(), r.value.as_str())).collect();
        assert_eq!(records, [("AAAA", "shop.example", "2001:db8::1"), ("AAAA", "www.shop.example", "2001:db8::1")]);
        let v4 = first_steps(&ServerFacts::default(), &account(AccountStatus::Active), Some("192.0.2.1"), &[]).unwrap();
        assert_eq!(v4.records[0].kind, "A");
    }

    #[test]
    fn only_a_ready_account_has_first_steps() {
        for status in
            [AccountStatus::Provisioning, AccountStatus::Suspended, AccountStatus::Expired, AccountStatus::Terminated]
        {
            assert_eq!(first_steps(&ServerFacts::default(), &account(status), Some("192.0.2.1"), &[]), None);
        }
    }

    #[test]
    fn cpanel_is_on_port_2083_of_the_whm_host() {
        for (whm, want) in [
            ("https://server.example:2087", Some("https://server.example:2083/")),
            ("https://server.example:2087/json-api/", Some("https://server.example:2083/")),
            ("http://127.0.0.1:40000", Some("https://127.0.0.1:2083/")),
            ("https://[2001:db8::1]:2087", Some("https://[2001:db8::1]:2083/")),
            ("no scheme", None),
            ("https://", None),
        ] {
            assert_eq!(cpanel_url_of(whm).as_deref(), want, "{whm}");
        }
    }

    #[test]
    fn nameservers_are_host_names() {
        for (text, want) in [
            ("ns1.example.com", Ok("ns1.example.com")),
            (" NS1.Example.COM. ", Ok("ns1.example.com")),
            ("ns1", Err(())),
            ("ns1..example", Err(())),
            ("-ns.example", Err(())),
            ("ns_1.example", Err(())),
            ("", Err(())),
        ] {
            assert_eq!(parse_nameserver(text).as_deref().map_err(drop), want, "{text}");
        }
    }
}
