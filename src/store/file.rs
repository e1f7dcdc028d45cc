//! Reading and writing one record file: parsing with precise error
//! positions, keeping hand-added fields, and the durable atomic write.

use super::record::{Invalid, Record};
use serde_json::{Map, Value};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a record file could not be used, with where in the file the
/// problem is, in the `path:line:column: message` form editors understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The file is a readable record of its type that breaks one of its
    /// rules, rather than a file that cannot be read or parsed at all.
    pub broken_rule: bool,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
    }
}

impl std::error::Error for LoadError {}

/// Identifies one version of a file, to skip re-reading what has not changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    inode: u64,
    modified_ns: i128,
    len: u64,
}

impl FileStamp {
    /// For a file whose metadata could not be read: matches no real file.
    pub fn missing() -> FileStamp {
        FileStamp { inode: 0, modified_ns: -1, len: 0 }
    }

    pub fn of(metadata: &fs::Metadata) -> FileStamp {
        FileStamp {
            inode: metadata.ino(),
            modified_ns: i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec()),
            len: metadata.len(),
        }
    }
}

/// The largest record file read; a larger one is reported as broken. A
/// customer with thousands of payments is far below it.
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// Why a record file's bytes could not be had.
#[derive(Debug)]
pub enum ReadFailure {
    NotFound,
    /// There is something at the path, but not a record file one may read:
    /// a FIFO, a device, a directory, or a file over [`MAX_RECORD_BYTES`].
    Unusable(LoadError),
    Io(io::Error),
}

/// Reads the record file at `path` with its stamp (taken before reading:
/// should the file change in between, its inotify event finds a newer
/// stamp and the file is read again). It is opened without blocking and
/// checked to be a regular file of sane size before a byte is read, so a
/// FIFO or a device put in a folder by mistake cannot hang the reader.
pub fn read_record_file(path: &Path) -> Result<(FileStamp, Vec<u8>), ReadFailure> {
    let failure = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => ReadFailure::NotFound,
        _ => ReadFailure::Io(e),
    };
    let unusable = |why: String| {
        ReadFailure::Unusable(LoadError { path: path.to_owned(), line: 1, column: 1, message: why, broken_rule: false })
    };
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path);
    let file = file.map_err(failure)?;
    let metadata = file.metadata().map_err(failure)?;
    if !metadata.is_file() {
        return Err(unusable("cannot be read: it is not a regular file".to_owned()));
    }
    let too_large = || unusable(format!("cannot be read: it is larger than {} KiB", MAX_RECORD_BYTES / 1024));
    if metadata.len() > MAX_RECORD_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes).map_err(failure)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(too_large());
    }
    Ok((FileStamp::of(&metadata), bytes))
}

/// Parses and checks the bytes of the record file at `path`, whose name
/// says the id the record must carry.
pub fn parse_record<T: Record>(path: &Path, expected_id: &str, bytes: &[u8]) -> Result<T, LoadError> {
    let record: T = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    let rule = if record.id() != expected_id {
        Err(Invalid::new("id", format!("is `{}` but the file name says `{expected_id}`", record.id())))
    } else {
        record.validate()
    };
    rule.map_err(|invalid| {
        let (line, column) = locate_field(bytes, invalid.field);
        let message = format!("`{}` {}", invalid.field, invalid.message);
        LoadError { path: path.to_owned(), line, column, message, broken_rule: true }
    })?;
    Ok(record)
}

/// The whole file as a JSON object, to carry fields hostr does not know.
pub fn parse_object(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>, LoadError> {
    serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))
}

fn json_error(path: &Path, error: &serde_json::Error) -> LoadError {
    let text = error.to_string();
    // serde_json appends " at line L column C"; the position is kept in fields.
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    LoadError { path: path.to_owned(), line: error.line(), column: error.column(), message, broken_rule: false }
}

/// The 1-based line and column of the first `"field":` key in the file, or
/// the start of the file when the field is absent.
pub fn locate_field(bytes: &[u8], field: &str) -> (usize, usize) {
    let needle = format!("\"{field}\"");
    let text = String::from_utf8_lossy(bytes);
    match text.find(&needle) {
        Some(offset) => {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = offset - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
            (line, column)
        }
        None => (1, 1),
    }
}

/// The bytes of a record file: pretty-printed, fields in a fixed order
/// (the type's own, then any added by hand in their original order), and a
/// trailing newline, so that diffs of the folder stay readable.
pub fn encode<T: Record>(record: &T, hand_added: Option<&Map<String, Value>>) -> io::Result<Vec<u8>> {
    let mut object = match serde_json::to_value(record)? {
        Value::Object(object) => object,
        _ => return Err(io::Error::other("a record must serialize to a JSON object")),
    };
    if let Some(original) = hand_added {
        keep_hand_added(&mut object, original);
    }
    let mut bytes = serde_json::to_vec_pretty(&object)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Copies into `written` every field of `original` it lacks, at any depth
/// of nested objects, so a note an operator put inside `fulfilment` survives
/// like one at the top.
fn keep_hand_added(written: &mut Map<String, Value>, original: &Map<String, Value>) {
    for (key, value) in original {
        match (written.get_mut(key), value) {
            (None, _) => {
                written.insert(key.clone(), value.clone());
            }
            (Some(Value::Object(inner)), Value::Object(original_inner)) => keep_hand_added(inner, original_inner),
            _ => {}
        }
    }
}

/// Replaces `dir/name` with `bytes` so that a reader sees the old or the new
/// file, never a mix, and the new one survives a power loss once this returns:
/// write a temporary file in the same folder, flush it to disk, rename it over
/// the target, then flush the folder so the rename itself is durable.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<FileStamp> {
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o640).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        let stamp = FileStamp::of(&file.metadata()?);
        fs::rename(&temp, dir.join(name))?;
        File::open(dir)?.sync_all()?;
        Ok(stamp)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Whether a file name is one of the store's temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_and_column_of_a_field() {
        let text = b"{\n  \"id\": \"x\",\n    \"price\": 1\n}\n";
        assert_eq!(locate_field(text, "price"), (3, 5));
        assert_eq!(locate_field(text, "id"), (2, 3));
        assert_eq!(locate_field(text, "missing"), (1, 1));
    }
}
