//! Append-only journals beside the records: one folder per journal
//! (`database/audit/`), one file of JSON lines per UTC day
//! (`2026-01-31.jsonl`).
//!
//! Unlike a record, a journal line is never rewritten: each is appended with
//! one `write` to a file opened `O_APPEND` under an exclusive `flock` of that
//! file (never renamed, so the lock means what it says), then flushed to disk
//! before the call returns. A line is one JSON value without a newline, so a
//! reader splits on newlines; a torn last line (a crash mid-write) is
//! reported by the reader and never hides the lines before it.

use super::{StoreError, StoreResult};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One line as read back, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    /// The day's file name, such as `2026-01-31.jsonl`.
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub text: String,
}

/// Whether `name` is a journal's folder name: lowercase letters and dashes.
fn is_journal_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

pub(super) fn folder(root: &Path, journal: &str) -> StoreResult<PathBuf> {
    if !is_journal_name(journal) {
        return Err(StoreError::Io { path: journal.into(), source: io::Error::other("not a journal name") });
    }
    Ok(root.join(journal))
}

/// Appends `line` to `day`'s file (`YYYY-MM-DD`) of the journal in `dir`.
pub(super) fn append(dir: &Path, day: &str, line: &str) -> StoreResult<()> {
    let path = dir.join(format!("{day}.jsonl"));
    let io_error = |source| StoreError::Io { path: path.clone(), source };
    if line.contains('\n') || day.len() != 10 || !day.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(io_error(io::Error::other("a journal line is one line, filed under YYYY-MM-DD")));
    }
    fs::create_dir_all(dir).map_err(io_error)?;
    let mut file = OpenOptions::new().append(true).create(true).mode(0o600).open(&path).map_err(io_error)?;
    // SAFETY: flock on a file descriptor we own; released when `file` closes.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) } != 0 {
        return Err(io_error(io::Error::last_os_error()));
    }
    let mut bytes = line.as_bytes().to_vec();
    bytes.push(b'\n');
    file.write_all(&bytes).and_then(|()| file.sync_data()).map_err(io_error)
}

/// Every line of the journal in `dir`, oldest file first, in file order.
pub(super) fn read(dir: &Path) -> StoreResult<Vec<JournalLine>> {
    let io_error = |source| StoreError::Io { path: dir.to_owned(), source };
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".jsonl") && !name.starts_with('.'))
            .collect(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error(error)),
    };
    names.sort();
    let mut lines = Vec::new();
    for name in names {
        let text = fs::read_to_string(dir.join(&name)).map_err(io_error)?;
        for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            lines.push(JournalLine { file: name.clone(), line: index + 1, text: line.to_owned() });
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_never_rewritten_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let journal = folder(dir.path(), "audit").unwrap();
        append(&journal, "2026-01-02", r#"{"n":2}"#).unwrap();
        append(&journal, "2026-01-01", r#"{"n":1}"#).unwrap();
        append(&journal, "2026-01-02", r#"{"n":3}"#).unwrap();
        let texts: Vec<String> = read(&journal).unwrap().into_iter().map(|l| l.text).collect();
        assert_eq!(texts, [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#]);
        assert!(append(&journal, "2026-01-02", "two\nlines").is_err());
        assert!(append(&journal, "../../etc", "x").is_err());
        assert!(folder(dir.path(), "../x").is_err());
        assert_eq!(read(&dir.path().join("none")).unwrap(), Vec::new());
    }
}
