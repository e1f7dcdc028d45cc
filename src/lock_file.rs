//! Claims on a role held by one process at a time (the accounts worker),
//! as an advisory lock on a file beside the database.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

/// An exclusive claim on the lock file at `path`, held while the returned
/// file stays open; `None` when another process holds it. The kernel drops
/// the claim when the holder dies, so a crash never leaves it stuck.
pub fn claim(path: &Path) -> io::Result<Option<File>> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_claimed_by_one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let role = |name: &str| dir.path().join(format!(".{name}.lock"));
        let first = claim(&role("accounts-worker")).unwrap().expect("free at first");
        assert!(claim(&role("accounts-worker")).unwrap().is_none(), "held");
        assert!(claim(&role("other-role")).unwrap().is_some(), "roles are separate");
        drop(first);
        assert!(claim(&role("accounts-worker")).unwrap().is_some(), "free again once the holder lets go");
    }
}
