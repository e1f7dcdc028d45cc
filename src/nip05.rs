//! Checking a customer's NIP-05 identifier (`name@domain`) on the server.
//!
//! The identifier comes from the customer, so the fetch is treated as
//! hostile: https only, no redirects, a short timeout, a small size cap,
//! and a resolver that refuses any address that is not public, checked on
//! the very addresses ureq then connects to, so DNS rebinding cannot slip
//! past. A domain with one refused address among its addresses is not
//! fetched at all. Public means: IPv4 outside every special-purpose block
//! ([`NOT_PUBLIC_V4`]); IPv6 inside global unicast `2000::/3` and outside
//! [`NOT_PUBLIC_V6`] (so 6to4 and Teredo are refused whole); IPv4-mapped and
//! NAT64 `64:ff9b::/96` addresses as public as the IPv4 address they carry.
//! Checks run on one background thread from a bounded queue, so a slow
//! domain never holds up a request; the queue holds at most one check per
//! customer (the latest identifier they sent), so no customer can fill it.

use crate::customer::{Customer, Nip05Check};
use crate::store::Store;
use crate::timestamp::Timestamp;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Customers whose checks can wait at once; more are dropped (the page
/// sends the profile again).
const QUEUE: usize = 256;
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);
/// What ureq's resolver result can hold.
const MAX_ADDRESSES: usize = 16;

#[derive(Debug, PartialEq)]
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
    shared: Arc<Shared>,
}

impl Nip05Checker {
    pub fn start(store: Arc<Store>, source: Nip05Source) -> Nip05Checker {
        let agent = agent(&source);
        let shared: Arc<Shared> = Arc::default();
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("nip05".to_owned())
            .spawn(move || work(&store, &agent, &source, &worker))
            .expect("start the NIP-05 thread");
        Nip05Checker { shared }
    }

    /// Queues a check of `identifier` for the customer, in place of any
    /// check of theirs still waiting; the result is written to their
    /// `metadata.nip05Check`.
    pub fn schedule(&self, customer_id: &str, identifier: &str, public_key: &str) {
        let job = Job {
            customer_id: customer_id.to_owned(),
            identifier: identifier.to_owned(),
            public_key: public_key.to_owned(),
        };
        if let Err(job) = self.shared.lock().push(job) {
            log::warn!("NIP-05 queue full: not checking {} now", job.identifier);
        }
        self.shared.ready.notify_one();
    }
}

impl Drop for Nip05Checker {
    /// Ends the worker once it is done with the check in hand.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
    }
}

/// The queue between [`Nip05Checker::schedule`] and the worker thread.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next check to run, waiting for one; `None` once the checker is gone.
    fn next(&self) -> Option<Job> {
        let mut queue = self.lock();
        loop {
            if queue.closed {
                return None;
            }
            if let Some(job) = queue.pop() {
                return Some(job);
            }
            queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The checks waiting, in the order customers asked, at most one per
/// customer: a customer who sends identifier after identifier holds one
/// place, whose check is of the latest, so they cannot crowd others out.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    /// The check under way, as (customer id, identifier).
    running: Option<(String, String)>,
    closed: bool,
}

impl Queue {
    /// Adds `job`, or puts it in the place of the customer's waiting check;
    /// gives it back when every place is taken by other customers.
    fn push(&mut self, job: Job) -> Result<(), Job> {
        let theirs = |waiting: &Job| waiting.customer_id == job.customer_id;
        let under_way =
            |(customer, identifier): &(String, String)| *customer == job.customer_id && *identifier == job.identifier;
        if self.running.as_ref().is_some_and(under_way) {
            // That very check is under way and is the latest again.
            self.waiting.retain(|waiting| !theirs(waiting));
        } else if let Some(place) = self.waiting.iter_mut().find(|waiting| theirs(waiting)) {
            *place = job;
        } else if self.waiting.len() < QUEUE {
            self.waiting.push_back(job);
        } else {
            return Err(job);
        }
        Ok(())
    }

    /// The next check, which is under way from now on; asking for it means
    /// the one before is done.
    fn pop(&mut self) -> Option<Job> {
        let job = self.waiting.pop_front();
        self.running = job.as_ref().map(|job| (job.customer_id.clone(), job.identifier.clone()));
        job
    }
}

fn agent(source: &Nip05Source) -> ureq::Agent {
    let test = matches!(source, Nip05Source::TestServer(_));
    guarded_agent("hostr-nip05-check", test)
}

/// An agent for addresses that come from customers (NIP-05 domains, their
/// relays' NIP-11 documents): https only, no proxy, no redirects, a short
/// timeout, and only public addresses; `local` (tests, demos) allows plain
/// http and loopback.
pub(crate) fn guarded_agent(user_agent: &'static str, local: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .https_only(!local)
        // A proxy would resolve the customer's domain itself, past PublicOnly.
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .user_agent(user_agent)
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::default(), PublicOnly { allow_loopback: local })
}

fn work(store: &Store, agent: &ureq::Agent, source: &Nip05Source, queue: &Shared) {
    while let Some(job) = queue.next() {
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
                log::warn!("refused to connect to {ip} for {host}: not a public address");
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
pub(crate) fn resolve_within(host: &str, port: u16, limit: Duration) -> Result<Vec<std::net::SocketAddr>, ureq::Error> {
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

/// IPv4 blocks off the public internet: those of IANA's special-purpose
/// registry that are not globally reachable, multicast and the reserved rest.
const NOT_PUBLIC_V4: [(Ipv4Addr, u32); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (carrier-grade NAT)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, with 169.254.169.254, the cloud metadata address
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated, RFC 7526)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, with 255.255.255.255 (broadcast)
];

/// Every public IPv6 address is global unicast: the regional registries
/// hand out nothing else. Outside it lie the unspecified and loopback
/// addresses, IPv4-compatible `::/96` (deprecated since 2006; tunnels once
/// carried it to the embedded IPv4 address), the local-use NAT64 prefix
/// `64:ff9b:1::/48`, discard-only `100::/64`, unique local `fc00::/7`
/// (with AWS's metadata address `fd00:ec2::254`), site-local `fec0::/10`,
/// link-local `fe80::/10`, multicast `ff00::/8` and whatever IANA adds there.
const GLOBAL_UNICAST: (Ipv6Addr, u32) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// The blocks inside global unicast that are not public either.
const NOT_PUBLIC_V6: [(Ipv6Addr, u32); 4] = [
    // IETF protocol assignments, among them Teredo (2001::/32), benchmarking
    // (2001:2::/48) and ORCHID; the few anycast services in it are no web servers.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    // 6to4 is refused whole, whatever IPv4 address it embeds: a 6to4 host
    // owns that public IPv4 address and can be reached on it, so nothing is
    // lost, and no relay or tunnel is trusted to reach what it says.
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
];

/// IPv6 prefixes whose last 32 bits are an IPv4 address the host reaches
/// over IPv4: IPv4-mapped `::ffff:0:0/96` (a socket connects to the IPv4
/// address itself) and the well-known NAT64 prefix `64:ff9b::/96` (how an
/// IPv6-only host reaches IPv4 sites). They are as public as that address.
const CARRIES_V4: [(Ipv6Addr, u32); 2] =
    [(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96), (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)];

/// Whether an address is on the public internet: see the tables above.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) if CARRIES_V4.iter().any(|&block| in_v6(v6, block)) => {
            is_public_v4(Ipv4Addr::from_bits(v6.to_bits() as u32))
        }
        IpAddr::V6(v6) => in_v6(v6, GLOBAL_UNICAST) && !NOT_PUBLIC_V6.iter().any(|&block| in_v6(v6, block)),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NOT_PUBLIC_V4.iter().any(|&(network, length)| {
        let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
        ip.to_bits() & mask == network.to_bits() & mask
    })
}

fn in_v6(ip: Ipv6Addr, (network, length): (Ipv6Addr, u32)) -> bool {
    let mask = u128::MAX.checked_shl(128 - length).unwrap_or(0);
    ip.to_bits() & mask == network.to_bits() & mask
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

    /// A block, addresses inside it, and addresses just outside it with
    /// whether each is public.
    type Block = (&'static str, &'static [&'static str], &'static [(&'static str, bool)]);

    /// Each block the filter refuses, with addresses inside it (refused) and
    /// just outside it (public, or refused by the block named beside them).
    const BLOCKS: &[Block] = &[
        ("0.0.0.0/8 this network", &["0.0.0.0", "0.255.255.255"], &[("1.0.0.0", true)]),
        ("10.0.0.0/8 private", &["10.0.0.0", "10.255.255.255"], &[("9.255.255.255", true), ("11.0.0.0", true)]),
        (
            "100.64.0.0/10 shared",
            &["100.64.0.0", "100.127.255.255"],
            &[("100.63.255.255", true), ("100.128.0.0", true)],
        ),
        ("127.0.0.0/8 loopback", &["127.0.0.0", "127.255.255.255"], &[("126.255.255.255", true), ("128.0.0.0", true)]),
        (
            "169.254.0.0/16 link-local",
            &["169.254.0.0", "169.254.169.254", "169.254.255.255"],
            &[("169.253.255.255", true), ("169.255.0.0", true)],
        ),
        ("172.16.0.0/12 private", &["172.16.0.0", "172.31.255.255"], &[("172.15.255.255", true), ("172.32.0.0", true)]),
        ("192.0.0.0/24 IETF", &["192.0.0.0", "192.0.0.255"], &[("191.255.255.255", true), ("192.0.1.0", true)]),
        ("192.0.2.0/24 documentation", &["192.0.2.0", "192.0.2.255"], &[("192.0.1.255", true), ("192.0.3.0", true)]),
        (
            "192.88.99.0/24 6to4 relay",
            &["192.88.99.0", "192.88.99.255"],
            &[("192.88.98.255", true), ("192.88.100.0", true)],
        ),
        (
            "192.168.0.0/16 private",
            &["192.168.0.0", "192.168.255.255"],
            &[("192.167.255.255", true), ("192.169.0.0", true)],
        ),
        (
            "198.18.0.0/15 benchmarking",
            &["198.18.0.0", "198.19.255.255"],
            &[("198.17.255.255", true), ("198.20.0.0", true)],
        ),
        (
            "198.51.100.0/24 documentation",
            &["198.51.100.0", "198.51.100.255"],
            &[("198.51.99.255", true), ("198.51.101.0", true)],
        ),
        (
            "203.0.113.0/24 documentation",
            &["203.0.113.0", "203.0.113.255"],
            &[("203.0.112.255", true), ("203.0.114.0", true)],
        ),
        (
            "224.0.0.0/4 multicast",
            &["224.0.0.0", "239.255.255.255"],
            &[("223.255.255.255", true), ("240.0.0.0", false)],
        ),
        ("240.0.0.0/4 reserved", &["240.0.0.0", "255.255.255.255"], &[("239.255.255.255", false)]),
        (
            "outside 2000::/3 global unicast",
            &["1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "5f00::1"],
            &[("2000::", true), ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true)],
        ),
        (
            "::/96 IPv4-compatible, with :: and ::1",
            &["::", "::1", "::10.0.0.1", "::127.0.0.1", "::1.1.1.1", "::255.255.255.255"],
            &[("::1:0:0", false)], // outside 2000::/3
        ),
        (
            "::ffff:0:0/96 IPv4-mapped, as its IPv4 address",
            &["::ffff:0.0.0.0", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:192.0.2.1"],
            &[
                ("::ffff:1.1.1.1", true),
                ("::ffff:9.255.255.255", true),
                ("::ffff:11.0.0.0", true),
                ("::fffe:ffff:ffff", false),
            ],
        ),
        ("::ffff:0:0:0/96 IPv4-translated", &["::ffff:0:1.1.1.1", "::ffff:0:10.0.0.1"], &[("::ffff:1:0:0", false)]),
        (
            "64:ff9b::/96 NAT64, as its IPv4 address",
            &["64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.0.1"],
            &[("64:ff9b::1.1.1.1", true), ("64:ff9b::11.0.0.0", true), ("64:ff9b::1:0:0", false)],
        ),
        (
            "64:ff9b:1::/48 local-use NAT64",
            &["64:ff9b:1::101:101", "64:ff9b:1::a00:1"],
            &[("64:ff9b:2::101:101", false)],
        ),
        ("100::/64 discard-only", &["100::", "100::ffff:ffff:ffff:ffff"], &[("100:0:0:1::", false)]),
        (
            "2001::/23 IETF: Teredo, benchmarking, ORCHID",
            &["2001::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("2001:200::", true)],
        ),
        (
            "2001:db8::/32 documentation",
            &["2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true), ("2001:db9::", true)],
        ),
        (
            "2002::/16 6to4, whatever it embeds",
            &[
                "2002::",
                "2002:c0a8:101::1",
                "2002:7f00:1::1",
                "2002:808:808::1",
                "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
            &[("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("2003::", true)],
        ),
        (
            "3fff::/20 documentation",
            &["3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("3fff:1000::", true)],
        ),
        (
            "fc00::/7 unique local",
            &["fc00::", "fd00:ec2::254", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false), ("fe00::", false)], // outside 2000::/3
        ),
        (
            "fe80::/10 link-local",
            &["fe80::", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false), ("fec0::", false)], // outside 2000::/3, site-local
        ),
        (
            "fec0::/10 site-local",
            &["fec0::", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false), ("ff00::", false)], // link-local, multicast
        ),
        (
            "ff00::/8 multicast",
            &["ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
            &[("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false)], // site-local
        ),
    ];

    #[test]
    fn every_block_off_the_public_internet_is_refused_to_its_edges() {
        for (block, inside, outside) in BLOCKS {
            for address in *inside {
                assert!(!is_public(address.parse().unwrap()), "{address} is in {block}");
            }
            for (address, public) in *outside {
                assert_eq!(is_public(address.parse().unwrap()), *public, "{address}, just outside {block}");
            }
        }
    }

    fn job(customer_id: &str, identifier: &str) -> Job {
        Job { customer_id: customer_id.to_owned(), identifier: identifier.to_owned(), public_key: "ab".repeat(32) }
    }

    fn customers_and_identifiers(queue: &mut Queue) -> Vec<(String, String)> {
        std::iter::from_fn(|| queue.pop()).map(|job| (job.customer_id, job.identifier)).collect()
    }

    #[test]
    fn a_customer_holds_one_place_in_the_queue_checking_their_latest_identifier() {
        let mut queue = Queue::default();
        queue.push(job("alice", "alice@a.com")).unwrap();
        for n in 0..2 * QUEUE {
            queue.push(job("mallory", &format!("m{n}@m.com"))).unwrap();
        }
        queue.push(job("bob", "bob@b.com")).expect("Mallory holds one place, not all of them");
        let last = format!("m{}@m.com", 2 * QUEUE - 1);
        let order = [("alice", "alice@a.com"), ("mallory", last.as_str()), ("bob", "bob@b.com")];
        assert_eq!(customers_and_identifiers(&mut queue), order.map(|(c, i)| (c.to_owned(), i.to_owned())));
    }

    #[test]
    fn a_full_queue_refuses_a_new_customer_and_a_check_under_way_is_not_queued_again() {
        let mut queue = Queue::default();
        for n in 0..QUEUE {
            queue.push(job(&format!("c{n}"), "x@x.com")).unwrap();
        }
        assert_eq!(queue.push(job("late", "late@x.com")), Err(job("late", "late@x.com")));
        queue.push(job("c0", "newer@x.com")).expect("a waiting customer may change their identifier");
        assert_eq!(queue.pop(), Some(job("c0", "newer@x.com")));
        queue.push(job("c0", "other@x.com")).unwrap();
        queue.push(job("c0", "newer@x.com")).unwrap();
        assert_eq!(queue.waiting.len(), QUEUE - 1, "newer@x.com is under way: nothing of c0's waits");
        queue.push(job("late", "late@x.com")).expect("a place is free again");
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
