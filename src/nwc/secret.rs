//! The connection secrets: one private file per account
//! (`database/.wallet-secrets/<account id>`, mode 0600 in a 0700 folder),
//! beside the records and never in one, so no API answer, listing, log or
//! copy of the records shows it. Disconnecting removes the file.

use crate::secret_file;
use nostr::prelude::{Keys, SecretKey};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FOLDER: &str = ".wallet-secrets";

fn path(database: &Path, account_id: &str) -> io::Result<PathBuf> {
    // Account ids are UUIDs; anything else never becomes a path.
    if !crate::ids::IdFormat::Uuid.accepts(account_id) {
        return Err(io::Error::other("not an account id"));
    }
    Ok(database.join(FOLDER).join(account_id))
}

/// Keeps `keys`' secret for `account_id`, replacing any earlier one.
pub fn store(database: &Path, account_id: &str, keys: &Keys) -> io::Result<()> {
    let path = path(database, account_id)?;
    let folder = database.join(FOLDER);
    std::fs::create_dir_all(&folder)?;
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))?;
    secret_file::replace(&path, &keys.secret_key().to_secret_hex())
}

/// The connection's keys, none when there is no secret (disconnected).
pub fn load(database: &Path, account_id: &str) -> io::Result<Option<Keys>> {
    let path = path(database, account_id)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = SecretKey::from_hex(text.trim()).map_err(|_| io::Error::other("not a secret key"))?;
            Ok(Some(Keys::new(secret)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Erases the secret; nothing when there is none.
pub fn erase(database: &Path, account_id: &str) -> io::Result<()> {
    match std::fs::remove_file(path(database, account_id)?) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_private_read_back_and_gone_once_erased() {
        let dir = tempfile::tempdir().unwrap();
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let keys = Keys::generate();
        store(dir.path(), id, &keys).unwrap();
        let file = dir.path().join(FOLDER).join(id);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load(dir.path(), id).unwrap().unwrap().public_key(), keys.public_key());
        erase(dir.path(), id).unwrap();
        assert!(!file.exists());
        assert!(load(dir.path(), id).unwrap().is_none());
        assert!(store(dir.path(), "../x", &keys).is_err());
    }
}
