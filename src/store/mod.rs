//! The database: one pretty-printed JSON file per record under
//! `database/{customers,cpanel-accounts,plans,payments}/`.
//!
//! The store is the only code that touches the database folder. Its rules:
//! - ids are checked against their exact format before any path is built;
//! - every write is atomic and durable (see [`file::write_atomic`]);
//! - every read-modify-write holds the collection's exclusive lock, taken on
//!   a `.lock` file that is never renamed, so the server's threads and other
//!   processes (the CLI) never lose each other's updates;
//! - unique fields stay unique under concurrent creation, across processes;
//! - reads go to the files every time, so a hand edit is seen at once; a file
//!   that is broken is reported with its path, line and column, and only the
//!   requests that need that very record fail.

mod file;
mod index;
mod record;

pub use file::{FileStamp, LoadError, is_temp_name, locate_field};
pub use record::{IndexKey, Invalid, Kind, Record, raw_string_keys};

use index::{CollectionIndex, Indexes};
use serde_json::{Map, Value};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

#[derive(Debug)]
pub enum StoreError {
    /// An id that does not have its kind's exact format; nothing was opened.
    InvalidId {
        kind: Kind,
        id: String,
    },
    NotFound {
        kind: Kind,
        id: String,
    },
    AlreadyExists {
        kind: Kind,
        id: String,
    },
    /// Another record already holds this value of a unique field.
    Taken {
        kind: Kind,
        field: &'static str,
        value: String,
    },
    /// Several records hold one value of a unique field (a hand edit):
    /// none of them is returned until the operator resolves it.
    Duplicate {
        kind: Kind,
        field: &'static str,
        ids: Vec<String>,
    },
    /// The record about to be written breaks a rule of its kind.
    Invalid {
        kind: Kind,
        id: String,
        invalid: Invalid,
    },
    /// The file on disk cannot be used until someone fixes it.
    Corrupt(LoadError),
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InvalidId { kind, id } => {
                write!(
                    f,
                    "`{}` is not a {} id: it must be {}",
                    id.escape_debug(),
                    kind.noun(),
                    kind.id_format().describe()
                )
            }
            StoreError::NotFound { kind, id } => write!(f, "no {} with id {id}", kind.noun()),
            StoreError::AlreadyExists { kind, id } => {
                write!(f, "a {} with id {id} already exists", kind.noun())
            }
            StoreError::Taken { kind, field, value } => {
                write!(f, "another {} already has {field} `{value}`", kind.noun())
            }
            StoreError::Duplicate { kind, field, ids } => {
                write!(f, "{}s {} share one {field}; run `hostr check` and fix the files", kind.noun(), ids.join(", "))
            }
            StoreError::Invalid { kind, id, invalid } => {
                write!(f, "{} {id}: `{}` {}", kind.noun(), invalid.field, invalid.message)
            }
            StoreError::Corrupt(error) => write!(f, "{error}"),
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Corrupt(error) => Some(error),
            _ => None,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Temporary files older than this were left by a writer that crashed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(600);

pub struct Store {
    root: PathBuf,
    /// One lock file per collection, guarded by a mutex because advisory
    /// locks on one open file do not exclude threads of the same process.
    locks: [Mutex<Option<File>>; 4],
    indexes: Mutex<Indexes>,
}

/// Holds a collection's exclusive lock; released on drop.
struct CollectionLock<'a> {
    file: MutexGuard<'a, Option<File>>,
}

impl Drop for CollectionLock<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.file.as_ref() {
            let _ = file.unlock();
        }
    }
}

impl Store {
    /// Opens the database at `root`, creating its folders when missing.
    pub fn open(root: impl Into<PathBuf>) -> StoreResult<Store> {
        let root = root.into();
        for kind in Kind::ALL {
            let dir = root.join(kind.folder());
            fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
            remove_stale_temp_files(&dir);
        }
        Ok(Store { indexes: Mutex::new(Indexes::new(root.clone())), root, locks: Default::default() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, kind: Kind) -> PathBuf {
        self.root.join(kind.folder())
    }

    fn path_of(&self, kind: Kind, id: &str) -> StoreResult<PathBuf> {
        if !kind.id_format().accepts(id) {
            return Err(StoreError::InvalidId { kind, id: id.to_owned() });
        }
        Ok(self.dir(kind).join(format!("{id}.json")))
    }

    /// Reads one record, fresh from its file.
    pub fn get<T: Record>(&self, id: &str) -> StoreResult<T> {
        let path = self.path_of(T::KIND, id)?;
        let bytes = read_file(&path, T::KIND, id)?;
        file::parse_record(&path, id, &bytes).map_err(StoreError::Corrupt)
    }

    /// Every record of a kind, each read fresh; broken files come back as
    /// errors in place so that one bad file does not hide the others.
    pub fn list<T: Record>(&self) -> StoreResult<Vec<StoreResult<T>>> {
        Ok(self.ids(T::KIND)?.iter().map(|id| self.get::<T>(id)).collect())
    }

    /// Every record of a kind that can be read; a broken file is logged
    /// with its position and left out, so one bad file hides nothing else.
    pub fn list_readable<T: Record>(&self) -> StoreResult<Vec<T>> {
        let mut readable = Vec::new();
        for record in self.list::<T>()? {
            match record {
                Ok(record) => readable.push(record),
                Err(error) => log::error!("{} left out: {error}", T::KIND.noun()),
            }
        }
        Ok(readable)
    }

    /// The ids of all records of a kind, sorted.
    pub fn ids(&self, kind: Kind) -> StoreResult<Vec<String>> {
        let dir = self.dir(kind);
        index::record_ids(&dir, kind).map_err(|source| StoreError::Io { path: dir, source })
    }

    /// The record whose index `field` has `value` (such as a customer's
    /// `publicKey`), found without reading the folder.
    pub fn find<T: Record>(&self, field: &'static str, value: &str) -> StoreResult<Option<T>> {
        let mut found = self.find_all::<T>(field, value)?;
        if found.len() > 1 && T::UNIQUE_FIELDS.contains(&field) {
            let ids = found.iter().map(|r| r.id().to_owned()).collect();
            return Err(StoreError::Duplicate { kind: T::KIND, field, ids });
        }
        Ok(found.pop())
    }

    /// All records whose index `field` has `value`.
    pub fn find_all<T: Record>(&self, field: &'static str, value: &str) -> StoreResult<Vec<T>> {
        let key: IndexKey = (field, value.to_owned());
        let ids = self.with_index(T::KIND, |index| index.ids_with(&key).to_vec())?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            match self.get::<T>(&id) {
                // The table is a hint: the file itself must still say so.
                Ok(record) if record.index_keys().contains(&key) => found.push(record),
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(found)
    }

    /// The secret that signs session tokens, kept in `.session-secret` at the
    /// root of the database (mode 0600) and created on first use. It is
    /// written whole to a temporary file and hard-linked into place, so a
    /// crash never leaves a partial secret and two processes starting at
    /// once agree on one.
    pub fn session_secret(&self) -> StoreResult<Vec<u8>> {
        let path = self.root.join(".session-secret");
        let io_error = |source| StoreError::Io { path: path.clone(), source };
        if !path.exists() {
            let temp = self.root.join(format!(".session-secret.{}.tmp", uuid::Uuid::new_v4().simple()));
            let written = (|| {
                use std::io::Write;
                let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
                file.write_all(crate::auth::random_hex::<32>().as_bytes())?;
                file.sync_all()?;
                match fs::hard_link(&temp, &path) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                    _ => File::open(&self.root)?.sync_all(),
                }
            })();
            let _ = fs::remove_file(&temp);
            written.map_err(io_error)?;
        }
        let secret = fs::read(&path).map_err(io_error)?.trim_ascii().to_vec();
        if secret.len() < 32 {
            return Err(io_error(io::Error::other("shorter than 32 bytes; delete it to have a new one made")));
        }
        Ok(secret)
    }

    /// Builds the lookup table of `kind` now rather than on first use.
    pub fn warm(&self, kind: Kind) -> StoreResult<()> {
        self.with_index(kind, |_| ())
    }

    /// Files of this kind that cannot currently be used, with the reason.
    pub fn broken(&self, kind: Kind) -> StoreResult<Vec<LoadError>> {
        let mut broken = self.with_index(kind, |index| index.broken().cloned().collect::<Vec<_>>())?;
        broken.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(broken)
    }

    /// Writes a new record; fails if the id exists or a unique value is taken.
    pub fn create<T: Record>(&self, record: &T) -> StoreResult<()> {
        let id = record.id().to_owned();
        let path = self.path_of(T::KIND, &id)?;
        check_rules(record)?;
        let _lock = self.lock(T::KIND)?;
        if path.exists() {
            return Err(StoreError::AlreadyExists { kind: T::KIND, id });
        }
        self.check_unique(record)?;
        self.write(record, None)
    }

    /// Reads a record, lets `change` modify it, and writes it back, all under
    /// the collection's lock. Nothing is written when `change` fails.
    pub fn update<T: Record, R, E: From<StoreError>>(
        &self,
        id: &str,
        change: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E> {
        let path = self.path_of(T::KIND, id)?;
        let _lock = self.lock(T::KIND)?;
        let bytes = read_file(&path, T::KIND, id)?;
        let original = file::parse_object(&path, &bytes).map_err(StoreError::Corrupt)?;
        let mut record: T = file::parse_record(&path, id, &bytes).map_err(StoreError::Corrupt)?;
        let outcome = change(&mut record)?;
        if record.id() != id {
            return Err(E::from(StoreError::Invalid {
                kind: T::KIND,
                id: id.to_owned(),
                invalid: Invalid::new("id", "cannot be changed"),
            }));
        }
        check_rules(&record)?;
        self.check_unique(&record)?;
        self.write(&record, Some(&original))?;
        Ok(outcome)
    }

    fn write<T: Record>(&self, record: &T, original: Option<&Map<String, Value>>) -> StoreResult<()> {
        let dir = self.dir(T::KIND);
        let name = format!("{}.json", record.id());
        let io_error = |source| StoreError::Io { path: dir.join(&name), source };
        let bytes = file::encode(record, original).map_err(io_error)?;
        let stamp = file::write_atomic(&dir, &name, &bytes).map_err(io_error)?;
        self.with_index(T::KIND, |index| index.insert(record.id().to_owned(), stamp, record.index_keys()))
    }

    fn check_unique<T: Record>(&self, record: &T) -> StoreResult<()> {
        let taken = self.with_index(T::KIND, |index| {
            record
                .index_keys()
                .into_iter()
                .filter(|(field, _)| T::UNIQUE_FIELDS.contains(field))
                .find(|key| index.ids_with(key).iter().any(|other| other != record.id()))
        })?;
        match taken {
            Some((field, value)) => Err(StoreError::Taken { kind: T::KIND, field, value }),
            None => Ok(()),
        }
    }

    fn with_index<R>(&self, kind: Kind, f: impl FnOnce(&mut CollectionIndex) -> R) -> StoreResult<R> {
        // A panic elsewhere while holding this lock leaves the tables valid
        // (every mutation is a complete insert or remove), so carry on.
        let mut indexes = self.indexes.lock().unwrap_or_else(|p| p.into_inner());
        let collection = indexes
            .collection(kind, LOADERS[kind.index()])
            .map_err(|source| StoreError::Io { path: self.dir(kind), source })?;
        Ok(f(collection))
    }

    fn lock(&self, kind: Kind) -> StoreResult<CollectionLock<'_>> {
        let mut guard = self.locks[kind.index()].lock().unwrap_or_else(|p| p.into_inner());
        let path = self.dir(kind).join(".lock");
        let io_error = |source| StoreError::Io { path: path.clone(), source };
        loop {
            if guard.is_none() {
                let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_error)?;
                *guard = Some(file);
            }
            let file = guard.as_ref().expect("opened just above");
            file.lock().map_err(io_error)?;
            // If the lock file was deleted or replaced (a restore, a `git
            // clean`), other processes lock a different file: start over
            // with the one now at the path.
            let held = file.metadata().map(|m| m.ino()).ok();
            let current = fs::metadata(&path).map(|m| m.ino()).ok();
            if held.is_some() && held == current {
                return Ok(CollectionLock { file: guard });
            }
            let _ = file.unlock();
            *guard = None;
        }
    }

    /// An exclusive claim on the role `name` for the whole database (e.g. the
    /// accounts worker), held while the returned file stays open; `None`
    /// when another process holds it. The kernel drops it when the holder dies.
    pub fn claim(&self, name: &str) -> StoreResult<Option<File>> {
        let path = self.root.join(format!(".{name}.lock"));
        let io_error = |source| StoreError::Io { path: path.clone(), source };
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io_error(e)),
        }
    }

    /// The 1-based line and column of `field` in a record's file, for reports.
    pub fn locate(&self, kind: Kind, id: &str, field: &str) -> (usize, usize) {
        self.path_of(kind, id)
            .ok()
            .and_then(|path| fs::read(path).ok())
            .map_or((1, 1), |bytes| locate_field(&bytes, field))
    }

    /// Files in a collection's folder that are not records and not the
    /// store's own (`.lock`, temporary files, `.gitkeep`).
    pub fn stray_files(&self, kind: Kind) -> StoreResult<Vec<PathBuf>> {
        let dir = self.dir(kind);
        let entries = fs::read_dir(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        let mut stray: Vec<PathBuf> = entries
            .flatten()
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_record = name.strip_suffix(".json").is_some_and(|id| kind.id_format().accepts(id));
                !(is_record || name == ".lock" || name == ".gitkeep" || is_temp_name(&name))
            })
            .map(|entry| entry.path())
            .collect();
        stray.sort();
        Ok(stray)
    }
}

fn check_rules<T: Record>(record: &T) -> StoreResult<()> {
    record.validate().map_err(|invalid| StoreError::Invalid { kind: T::KIND, id: record.id().to_owned(), invalid })
}

fn read_file(path: &Path, kind: Kind, id: &str) -> StoreResult<Vec<u8>> {
    fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => StoreError::NotFound { kind, id: id.to_owned() },
        _ => StoreError::Io { path: path.to_owned(), source },
    })
}

fn load_keys<T: Record>(path: &Path, id: &str, bytes: &[u8]) -> Result<Vec<IndexKey>, (LoadError, Vec<IndexKey>)> {
    file::parse_record::<T>(path, id, bytes).map(|record| record.index_keys()).map_err(|error| {
        let salvaged = serde_json::from_slice::<Map<String, Value>>(bytes)
            .map(|raw| T::salvage_unique_keys(&raw))
            .unwrap_or_default();
        (error, salvaged)
    })
}

/// How to read the index keys of each kind, in `Kind::index` order.
const LOADERS: [index::KeyLoader; 4] = [
    load_keys::<crate::customer::Customer>,
    load_keys::<crate::cpanel_account::CpanelAccount>,
    load_keys::<crate::plan::Plan>,
    load_keys::<crate::payment::Payment>,
];

fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        // Names first: a stat of every record would slow start-up with a large database.
        if !entry.file_name().to_str().is_some_and(is_temp_name) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| now.duration_since(modified).unwrap_or_default() > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}
