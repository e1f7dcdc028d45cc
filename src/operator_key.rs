//! The operator's Nostr identity: the key that signs the operator's profile,
//! the plan listings, receipts and notices.
//!
//! It comes from `HOSTR_OPERATOR_NSEC` (an nsec or 64 hex digits) or, when
//! that is unset, from `.operator-key` at the root of the database, made on
//! first start with mode 0600 like the session secret. The secret never
//! leaves this module except as `nostr::Keys` for signing: `Debug` shows the
//! npub only, and no API answer, log line or record carries it.

use crate::store::{StoreError, StoreResult};
use nostr::prelude::{FromBech32, Keys, PublicKey, SecretKey, ToBech32};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that, when set, wins over the key file.
pub const ENV_VAR: &str = "HOSTR_OPERATOR_NSEC";
const FILE_NAME: &str = ".operator-key";

#[derive(Clone)]
pub struct OperatorKey {
    keys: Keys,
    source: KeySource,
}

/// Where the key was read from, for `hostr operator show` and the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

impl OperatorKey {
    /// The key in `HOSTR_OPERATOR_NSEC`, if set (checked at start, so a
    /// mistyped key stops the server instead of making a new identity).
    pub fn from_env() -> Result<Option<OperatorKey>, String> {
        match std::env::var(ENV_VAR).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(text) => {
                let keys = parse_secret(&text).map_err(|e| format!("{ENV_VAR}: {e}"))?;
                Ok(Some(OperatorKey { keys, source: KeySource::Environment }))
            }
            None => Ok(None),
        }
    }

    /// The key kept in the database folder, made now if missing.
    pub fn in_database(database: &Path) -> StoreResult<OperatorKey> {
        let path = key_path(database);
        let make = || Keys::generate().secret_key().to_bech32().expect("an nsec encodes");
        let invalid = |message: String| StoreError::Io { path: path.clone(), source: io::Error::other(message) };
        let text = crate::secret_file::load_or_create(&path, 63, make)
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        let text = String::from_utf8(text).map_err(|_| invalid("not text".to_string()))?;
        let keys = parse_secret(&text).map_err(invalid)?;
        Ok(OperatorKey { keys, source: KeySource::File(path) })
    }

    /// The key in use, without making one: `HOSTR_OPERATOR_NSEC`, else the
    /// database's key file if there is one (for `hostr check`).
    pub fn existing(database: &Path) -> Option<OperatorKey> {
        match OperatorKey::from_env() {
            Ok(Some(key)) => Some(key),
            Ok(None) if key_path(database).exists() => OperatorKey::in_database(database).ok(),
            _ => None,
        }
    }

    /// Replaces the database's key file with `secret` (an nsec or hex) and
    /// returns the new key. Refused while `HOSTR_OPERATOR_NSEC` is set,
    /// since the file would not be used.
    pub fn replace_file(database: &Path, secret: &str) -> Result<OperatorKey, String> {
        if std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty()) {
            return Err(format!("{ENV_VAR} is set, so the key file is not used: change {ENV_VAR} instead"));
        }
        let keys = parse_secret(secret)?;
        let path = key_path(database);
        let nsec = keys.secret_key().to_bech32().expect("an nsec encodes");
        crate::secret_file::replace(&path, &nsec).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(OperatorKey { keys, source: KeySource::File(path) })
    }

    /// The keys to sign with.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn public_key(&self) -> PublicKey {
        self.keys.public_key()
    }

    pub fn npub(&self) -> String {
        self.keys.public_key().to_bech32().expect("an npub encodes")
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }
}

impl fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorKey").field("npub", &self.npub()).field("source", &self.source).finish()
    }
}

fn key_path(database: &Path) -> PathBuf {
    database.join(FILE_NAME)
}

/// A secret key written as an nsec or as 64 hex digits.
fn parse_secret(text: &str) -> Result<Keys, String> {
    let text = text.trim();
    let secret = if text.starts_with("nsec1") {
        SecretKey::from_bech32(text).map_err(|_| "not a valid nsec".to_string())?
    } else if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        SecretKey::from_hex(text).map_err(|_| "not a valid secret key".to_string())?
    } else if text.starts_with("npub1") {
        return Err("that is a public key (npub); the operator key is the secret one (nsec)".to_string());
    } else {
        return Err("expected an nsec1… or 64 hex digits".to_string());
    };
    Ok(Keys::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const HEX: &str = "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a";

    #[test]
    fn secrets_are_read_as_nsec_or_hex_and_anything_else_is_explained() {
        let from_hex = parse_secret(HEX).unwrap();
        let nsec = from_hex.secret_key().to_bech32().unwrap();
        let cases: &[(&str, Result<(), &str>)] = &[
            (HEX, Ok(())),
            (&nsec, Ok(())),
            (&format!("  {nsec}\n"), Ok(())),
            ("npub1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", Err("public key")),
            ("nsec1notavalidkey", Err("not a valid nsec")),
            (&HEX[..63], Err("expected an nsec1")),
            ("", Err("expected an nsec1")),
        ];
        for (text, expected) in cases {
            match (parse_secret(text), expected) {
                (Ok(keys), Ok(())) => assert_eq!(keys.public_key(), from_hex.public_key(), "{text}"),
                (Err(error), Err(part)) => assert!(error.contains(part), "{text}: {error}"),
                (got, want) => panic!("{text}: got {:?}, want {want:?}", got.map(|k| k.public_key())),
            }
        }
    }

    #[test]
    fn the_key_file_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = OperatorKey::in_database(dir.path()).unwrap();
        let second = OperatorKey::in_database(dir.path()).unwrap();
        assert_eq!(first.public_key(), second.public_key(), "the same key on every start");
        let path = dir.path().join(FILE_NAME);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("nsec1"));
        assert_eq!(first.source(), &KeySource::File(path));
    }

    #[test]
    fn debug_shows_the_npub_never_the_secret() {
        let key = OperatorKey { keys: parse_secret(HEX).unwrap(), source: KeySource::Environment };
        let shown = format!("{key:?}");
        let nsec = key.keys().secret_key().to_bech32().unwrap();
        assert!(shown.contains(&key.npub()), "{shown}");
        assert!(!shown.contains(HEX) && !shown.contains(&nsec), "{shown}");
    }
}
