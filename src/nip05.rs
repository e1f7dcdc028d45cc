//! Checking a customer's NIP-05 identifier (`name@domain`) on the server.
//!
//! The identifier comes from the customer, so the fetch is treated as
//! hostile: https only, no redirects, a short timeout, a small size cap,
//! and a resolver that refuses any address that is not public (loopback,
//! private, link-local and cloud-metadata addresses), checked on the very
//! addresses ureq then connects to, so DNS rebinding cannot slip past.
//! Checks run on one background thread from a bounded queue, so a slow
//! domain never holds up a request.

use crate::customer::{Customer, Nip05Check};
use crate::store::Store;
use crate::timestamp::Timestamp;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Checks waiting at most; more are dropped (the page sends the profile again).
const QUEUE: usize = 256;
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);
/// What ureq's resolver result can hold.
const MAX_ADDRESSES: usize = 16;

struct Job {
    customer_id: String,
    identifier: String,
    public_key: String,
}

/// Where identifiers are looked up: the real web, or (tests only) one
/// plain-HTTP server on this machine standing in for every domain.
#[derive(Debug, Clone)]
pub enum Nip05Source {
    Web,
    TestServer(String),
}

pub struct Nip05Checker {
    queue: SyncSender<Job>,
    /// Checks queued and not yet done, as (customer id, identifier), so that
    /// one customer sending their profile again and again queues one check.
    pending: Arc<Mutex<PendingSet>>,
}

type PendingSet = HashSet<(String, String)>;

impl Nip05Checker {
    pub fn start(store: Arc<Store>, source: Nip05Source) -> Nip05Checker {
        let (queue, jobs) = sync_channel(QUEUE);
        let agent = agent(&source);
        let pending: Arc<Mutex<PendingSet>> = Arc::default();
        let done = pending.clone();
        std::thread::Builder::new()
            .name("nip05".to_owned())
            .spawn(move || work(&store, &agent, &source, &jobs, &done))
            .expect("start the NIP-05 thread");
        Nip05Checker { queue, pending }
    }

    /// Queues a check of `identifier` for the customer; the result is
    /// written to their `metadata.nip05Check`.
    pub fn schedule(&self, customer_id: &str, identifier: &str, public_key: &str) {
        let key = (customer_id.to_owned(), identifier.to_owned());
        if !self.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
            return;
        }
        let job = Job {
            customer_id: customer_id.to_owned(),
            identifier: identifier.to_owned(),
            public_key: public_key.to_owned(),
        };
        if let Err(TrySendError::Full(job)) = self.queue.try_send(job) {
            log::warn!("NIP-05 queue full: not checking {} now", job.identifier);
            self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        }
    }
}

fn agent(source: &Nip05Source) -> ureq::Agent {
    let test = matches!(source, Nip05Source::TestServer(_));
    let config = ureq::Agent::config_builder()
        .https_only(!test)
        // A proxy would resolve the customer's domain itself, past PublicOnly.
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .user_agent("hostr-nip05-check")
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::default(), PublicOnly { allow_loopback: test })
}

fn work(store: &Store, agent: &ureq::Agent, source: &Nip05Source, jobs: &Receiver<Job>, pending: &Mutex<PendingSet>) {
    for job in jobs {
        let outcome = check(agent, source, &job.identifier, &job.public_key);
        let result = Nip05Check {
            identifier: job.identifier.clone(),
            valid: outcome.is_ok(),
            reason: outcome.err(),
            checked_at: Timestamp::now(),
        };
        log::info!("NIP-05 {}: {}", job.identifier, result.reason.as_deref().unwrap_or("verified"));
        let recorded = store.update::<Customer, _, crate::store::StoreError>(&job.customer_id, |c| {
            // The profile may have changed while the check ran.
            if let Some(metadata) = c.metadata.as_mut().filter(|m| m.nip05.as_deref() == Some(&job.identifier)) {
                metadata.nip05_check = Some(result);
            }
            Ok(())
        });
        if let Err(error) = recorded {
            log::error!("cannot record the NIP-05 check of {}: {error}", job.customer_id);
        }
        pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&(job.customer_id, job.identifier));
    }
}

/// Whether `identifier` (canonical `local@domain`) names `public_key`.
pub fn check(agent: &ureq::Agent, source: &Nip05Source, identifier: &str, public_key: &str) -> Result<(), String> {
    let (local, domain) = identifier.split_once('@').ok_or("not a NIP-05 identifier")?;
    let base = match source {
        Nip05Source::Web => format!("https://{domain}"),
        Nip05Source::TestServer(base) => base.clone(),
    };
    let url = format!("{base}/.well-known/nostr.json?name={local}");
    let mut response = agent.get(&url).call().map_err(|e| format!("{domain} could not be reached ({e})"))?;
    if response.status() != 200 {
        return Err(format!("{domain} answered HTTP {}", response.status().as_u16()));
    }
    let unreadable = |e: &dyn std::fmt::Display| format!("{domain} did not answer with a nostr.json document ({e})");
    let text =
        response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string().map_err(|e| unreadable(&e))?;
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| unreadable(&e))?;
    match body["names"][local].as_str() {
        Some(key) if key.eq_ignore_ascii_case(public_key) => Ok(()),
        Some(_) => Err(format!("{domain} names another key for {local}")),
        None => Err(format!("{domain} does not list {local}")),
    }
}

/// A resolver that only returns public addresses.
#[derive(Debug)]
struct PublicOnly {
    allow_loopback: bool,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut found = self.empty();
        for address in resolve_within(host, port, TIMEOUT)? {
            let ip = address.ip();
            if !(is_public(ip) || (self.allow_loopback && ip.is_loopback())) {
                log::warn!("NIP-05 check refused to connect to {ip} for {host}");
                return Err(ureq::Error::HostNotFound);
            }
            if found.len() < MAX_ADDRESSES {
                found.push(address);
            }
        }
        if found.is_empty() { Err(ureq::Error::HostNotFound) } else { Ok(found) }
    }
}

/// Looks a name up on a thread of its own, so a DNS server that never
/// answers costs at most `limit` (the system resolver has no timeout of its own).
fn resolve_within(host: &str, port: u16, limit: Duration) -> Result<Vec<std::net::SocketAddr>, ureq::Error> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let host = host.to_owned();
    std::thread::spawn(move || {
        let _ = sender.send((host.as_str(), port).to_socket_addrs().map(Iterator::collect));
    });
    match receiver.recv_timeout(limit) {
        Ok(Ok(addresses)) => Ok(addresses),
        Ok(Err(_)) => Err(ureq::Error::HostNotFound),
        Err(_) => Err(ureq::Error::Timeout(ureq::Timeout::Resolve)),
    }
}

/// Whether an address is on the public internet (not loopback, private,
/// link-local, cloud metadata, multicast, documentation or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
            if nat64 {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)) // AWS metadata over IPv6
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata address
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for public in ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fd00:ec2::254",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn the_resolver_refuses_loopback_unless_allowed() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let strict = agent(&Nip05Source::Web);
        assert!(strict.config().proxy().is_none(), "no proxy may resolve names past the resolver");
        let error = strict.get(&format!("https://localhost:{port}/")).call().unwrap_err();
        assert!(matches!(error, ureq::Error::HostNotFound), "{error}");
        let url = format!("http://localhost:{port}/");
        let uri: ureq::http::Uri = url.parse().unwrap();
        let config = ureq::config::Config::default();
        let refused = PublicOnly { allow_loopback: false }.resolve(&uri, &config, NextTimeout::default());
        assert!(refused.is_err());
        let allowed = PublicOnly { allow_loopback: true }.resolve(&uri, &config, NextTimeout::default());
        assert!(allowed.unwrap().iter().all(|a| a.ip().is_loopback()));
    }
}
