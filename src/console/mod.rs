//! The operator's console (`/admin/`, `/api/admin/…`): who may enter, the
//! audit log, the hand edits the server notices, and the figures of the
//! overview.
//!
//! Invariants:
//! - with no key in `--admin-npubs` there is no console: every `/api/admin/`
//!   route answers 404 and no console session can be issued;
//! - a console session is its own kind of token ([`Sessions::admin`]), checked
//!   on every request against the allow-list and the key's revocation epoch
//!   ([`access::Admin`]);
//! - every change made from the console calls the same use case as the CLI
//!   and is appended to the audit log ([`audit`]) with the operator's npub;
//!   the log is appended to, never rewritten.

pub mod access;
pub mod audit;
pub mod diff;
pub mod export;
pub mod hand_edits;
pub mod overview;

use crate::auth::session::Sessions;
use crate::config::Config;

pub struct Console {
    /// The keys allowed in, lowercase hex; empty: no console.
    admins: Vec<String>,
    pub sessions: Sessions,
}

impl Console {
    pub fn new(config: &Config, secret: &[u8]) -> Console {
        Console { admins: config.admins.clone(), sessions: Sessions::admin(secret, config.admin_session_lifetime) }
    }

    /// Whether the site has a console at all.
    pub fn is_on(&self) -> bool {
        !self.admins.is_empty()
    }

    /// Whether `public_key` (lowercase hex) is in the allow-list.
    pub fn allows(&self, public_key: &str) -> bool {
        self.admins.iter().any(|k| k == public_key)
    }
}
