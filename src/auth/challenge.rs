//! The challenges handed out by `GET /api/challenge`.
//!
//! Each is 32 random bytes, valid for a few minutes and usable once. They
//! live only in memory: a restart merely makes people sign in again. The
//! book is bounded (the oldest challenges give way when it is full) and
//! each client address may take only so many per minute, so a flood of
//! challenge requests can exhaust neither memory nor anyone's patience.

use crate::rate_limit::{Rate, TokenBuckets};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeError {
    /// This client asked for too many challenges lately.
    TooMany,
    Unknown,
    Expired,
    Used,
}

struct Entry {
    issued: Instant,
    used: bool,
}

struct Book {
    entries: HashMap<String, Entry>,
    /// Challenges in the order issued, to forget the oldest first.
    order: VecDeque<(Instant, String)>,
}

pub struct ChallengeBook {
    book: Mutex<Book>,
    lifetime: Duration,
    capacity: usize,
    /// How many challenges one client address may take.
    clients: TokenBuckets<IpAddr>,
}

impl ChallengeBook {
    pub fn new(lifetime: Duration, capacity: usize, limit: Rate) -> ChallengeBook {
        ChallengeBook {
            book: Mutex::new(Book { entries: HashMap::new(), order: VecDeque::new() }),
            lifetime,
            capacity: capacity.max(1),
            clients: TokenBuckets::new(limit),
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A new challenge for a client at `client`.
    pub fn issue(&self, client: IpAddr, now: Instant) -> Result<String, ChallengeError> {
        if !self.clients.take(rate_limit_key(client), now) {
            return Err(ChallengeError::TooMany);
        }
        // Drawn before taking the lock: a system call, which every other
        // sign-in would wait for.
        let challenge = super::random_hex::<32>();
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        self.forget_old(&mut book, now);
        while book.entries.len() >= self.capacity {
            match book.order.pop_front() {
                Some((_, oldest)) => book.entries.remove(&oldest),
                None => break,
            };
        }
        book.entries.insert(challenge.clone(), Entry { issued: now, used: false });
        book.order.push_back((now, challenge.clone()));
        Ok(challenge)
    }

    /// Uses up a challenge. Of two concurrent uses only one succeeds: the
    /// check and the marking happen under one lock.
    pub fn consume(&self, challenge: &str, now: Instant) -> Result<(), ChallengeError> {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        self.forget_old(&mut book, now);
        let entry = book.entries.get_mut(challenge).ok_or(ChallengeError::Unknown)?;
        if entry.used {
            return Err(ChallengeError::Used);
        }
        entry.used = true;
        if now.duration_since(entry.issued) > self.lifetime {
            return Err(ChallengeError::Expired);
        }
        Ok(())
    }

    /// Drops challenges long past their lifetime. They are kept for a second
    /// lifetime first, so that a late answer hears "expired" or "used"
    /// rather than "unknown".
    fn forget_old(&self, book: &mut Book, now: Instant) {
        while let Some((issued, _)) = book.order.front() {
            if now.duration_since(*issued) <= self.lifetime * 2 {
                break;
            }
            if let Some((_, challenge)) = book.order.pop_front() {
                book.entries.remove(&challenge);
            }
        }
    }
}

/// Whom a client address is counted as: itself for IPv4, its /64 network
/// for IPv6, since one subscriber commonly holds a whole /64.
fn rate_limit_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn book(capacity: usize, burst: u32) -> ChallengeBook {
        ChallengeBook::new(Duration::from_secs(300), capacity, Rate::per_minute(burst, 60))
    }

    #[test]
    fn a_challenge_is_used_once_and_expires() {
        let book = book(10, 10);
        let t0 = Instant::now();
        let c = book.issue(HOME, t0).unwrap();
        assert_eq!(c.len(), 64);
        assert_eq!(book.consume(&c, t0), Ok(()));
        assert_eq!(book.consume(&c, t0), Err(ChallengeError::Used));
        let late = book.issue(HOME, t0).unwrap();
        assert_eq!(book.consume(&late, t0 + Duration::from_secs(301)), Err(ChallengeError::Expired));
        assert_eq!(book.consume(&"0".repeat(64), t0), Err(ChallengeError::Unknown));
        let forgotten = book.issue(HOME, t0).unwrap();
        assert_eq!(book.consume(&forgotten, t0 + Duration::from_secs(700)), Err(ChallengeError::Unknown));
    }

    #[test]
    fn the_book_is_bounded_and_forgets_the_oldest() {
        let book = ChallengeBook::new(Duration::from_secs(300), 3, Rate::per_minute(100, 6000));
        let t0 = Instant::now();
        let all: Vec<String> = (0..5).map(|_| book.issue(HOME, t0).unwrap()).collect();
        assert_eq!(book.consume(&all[0], t0), Err(ChallengeError::Unknown));
        assert_eq!(book.consume(&all[1], t0), Err(ChallengeError::Unknown));
        assert_eq!(book.consume(&all[4], t0), Ok(()));
    }

    #[test]
    fn each_address_is_rate_limited_on_its_own() {
        let book = book(100, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            book.issue(HOME, t0).unwrap();
        }
        assert_eq!(book.issue(HOME, t0), Err(ChallengeError::TooMany));
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(book.issue(other, t0).is_ok());
        // Addresses of one IPv6 /64 share one allowance.
        for n in 1..=3 {
            assert!(book.issue(format!("2001:db8:1:2::{n}").parse().unwrap(), t0).is_ok());
        }
        assert_eq!(book.issue("2001:db8:1:2:ffff::9".parse().unwrap(), t0), Err(ChallengeError::TooMany));
        assert!(book.issue("2001:db8:1:3::1".parse().unwrap(), t0).is_ok());
        // One token comes back per second at 60 a minute.
        assert!(book.issue(HOME, t0 + Duration::from_millis(1000)).is_ok());
        assert_eq!(book.issue(HOME, t0 + Duration::from_millis(1000)), Err(ChallengeError::TooMany));
    }
}
