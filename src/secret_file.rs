//! Secrets kept as small private files beside the database (the session
//! secret, the operator's key), never inside a record.
//!
//! A secret is written whole to a temporary file (mode 0600) and
//! hard-linked into place, so a crash never leaves a partial secret and two
//! processes starting at once agree on one: the first link wins and both
//! read the winner.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The trimmed contents of the secret file at `path`, created from `make`
/// when missing. Fails when the file holds fewer than `min_len` bytes.
pub fn load_or_create(path: &Path, min_len: usize, make: impl FnOnce() -> String) -> io::Result<Vec<u8>> {
    if !path.exists() {
        create(path, &make())?;
    }
    let secret = fs::read(path)?.trim_ascii().to_vec();
    if secret.len() < min_len {
        return Err(io::Error::other(format!("shorter than {min_len} bytes; delete it to have a new one made")));
    }
    Ok(secret)
}

/// Replaces the secret at `path` with `contents`, whole or not at all
/// (written beside it, then renamed over it).
pub fn replace(path: &Path, contents: &str) -> io::Result<()> {
    write_then(path, contents, |temp| fs::rename(temp, path))
}

/// Creates the secret unless another process made it first.
fn create(path: &Path, contents: &str) -> io::Result<()> {
    write_then(path, contents, |temp| match fs::hard_link(temp, path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    })
}

/// Writes `contents` to a private temporary file beside `path`, hands it
/// to `place`, syncs the folder and removes whatever temporary file is left.
fn write_then(path: &Path, contents: &str, place: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("secret");
    let temp = dir.join(format!("{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        place(&temp)?;
        File::open(dir)?.sync_all()
    })();
    let _ = fs::remove_file(&temp);
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_secret_is_made_once_private_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".secret");
        let first = load_or_create(&path, 8, || "first-secret".into()).unwrap();
        let second = load_or_create(&path, 8, || "second-secret".into()).unwrap();
        assert_eq!(first, b"first-secret");
        assert_eq!(second, first, "an existing secret is never replaced");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn a_replaced_secret_is_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".secret");
        load_or_create(&path, 8, || "first-secret".into()).unwrap();
        replace(&path, "second-secret").unwrap();
        assert_eq!(load_or_create(&path, 8, || unreachable!()).unwrap(), b"second-secret");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn a_short_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".secret");
        fs::write(&path, "short\n").unwrap();
        let error = load_or_create(&path, 32, || unreachable!()).unwrap_err();
        assert!(error.to_string().contains("shorter than 32 bytes"), "{error}");
    }
}
