//! The database: one pretty-printed JSON file per record, in one folder per
//! collection (`database/customers/<id>.json`, …).
//!
//! The store knows nothing of customers, plans or payments: a record type
//! describes itself through [`Record`] (its folder, id format and index
//! keys), and a collection's folder is made the first time it is used.
//! The store is the only code that touches record folders. Its rules:
//! - ids are checked against their exact format before any path is built;
//! - every write is atomic and durable (see [`file::write_atomic`]);
//! - every read-modify-write holds the collection's exclusive lock, taken on
//!   a `.lock` file that is never renamed, so the server's threads and other
//!   processes (the CLI) never lose each other's updates;
//! - unique fields stay unique under concurrent creation, across processes;
//! - reads go to the files every time, so a hand edit is seen at once; a file
//!   that is broken is reported with its path, line and column, and only the
//!   requests that need that very record fail.

mod changes;
mod file;
mod index;
mod journal;
mod record;

pub use changes::{OutsideChange, Seen};
use file::ReadFailure;
pub use file::{FileStamp, LoadError, MAX_RECORD_BYTES, is_temp_name, locate_field};
pub use journal::JournalLine;
pub use record::{Collection, IndexKey, Invalid, Key, Record, raw_string_key};

use index::{CollectionIndex, Held, Indexes};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

#[derive(Debug)]
pub enum StoreError {
    /// An id that does not have its kind's exact format; nothing was opened.
    InvalidId {
        collection: Collection,
        id: String,
    },
    NotFound {
        collection: Collection,
        id: String,
    },
    AlreadyExists {
        collection: Collection,
        id: String,
    },
    /// Another record already holds this value of a unique field.
    Taken {
        collection: Collection,
        field: &'static str,
        value: String,
    },
    /// Several records hold one value of a unique field (a hand edit):
    /// none of them is returned until the operator resolves it.
    Duplicate {
        collection: Collection,
        field: &'static str,
        ids: Vec<String>,
    },
    /// The record about to be written breaks a rule of its kind.
    Invalid {
        collection: Collection,
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
            StoreError::InvalidId { collection, id } => {
                write!(
                    f,
                    "`{}` is not a {} id: it must be {}",
                    id.escape_debug(),
                    collection.noun,
                    collection.id_format.describe()
                )
            }
            StoreError::NotFound { collection, id } => write!(f, "no {} with id {id}", collection.noun),
            StoreError::AlreadyExists { collection, id } => {
                write!(f, "a {} with id {id} already exists", collection.noun)
            }
            StoreError::Taken { collection, field, value } => {
                write!(f, "another {} already has {field} `{value}`", collection.noun)
            }
            StoreError::Duplicate { collection, field, ids } => {
                write!(
                    f,
                    "{}s {} share one {field}; run `hostr check` and fix the files",
                    collection.noun,
                    ids.join(", ")
                )
            }
            StoreError::Invalid { collection, id, invalid } => {
                write!(f, "{} {id}: `{}` {}", collection.noun, invalid.field, invalid.message)
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
    /// Per collection (by folder): the lock file, guarded by a mutex
    /// because advisory locks on one open file do not exclude threads of
    /// the same process. An entry exists once the folder does.
    locks: Mutex<HashMap<&'static str, Arc<Mutex<Option<File>>>>>,
    indexes: Mutex<Indexes>,
    /// The problem last logged of each record `list_readable` left out,
    /// by `folder/id`, so that it is logged again only when it changes.
    left_out: Mutex<HashMap<String, String>>,
    /// For collections whose outside changes are watched (by folder): the
    /// stamps this process wrote since the last comparison, by id.
    own_writes: Mutex<HashMap<&'static str, HashMap<String, changes::OwnWrite>>>,
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
    /// Opens the database at `root`, creating the folder when missing and
    /// removing what crashed writers left in its folders. Collection folders
    /// are made when first used.
    pub fn open(root: impl Into<PathBuf>) -> StoreResult<Store> {
        let root = root.into();
        let io_error = |source| StoreError::Io { path: root.clone(), source };
        fs::create_dir_all(&root).map_err(io_error)?;
        for entry in fs::read_dir(&root).map_err(io_error)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_stale_temp_files(&entry.path());
            }
        }
        let indexes = Mutex::new(Indexes::new(root.clone()));
        Ok(Store {
            indexes,
            root,
            locks: Default::default(),
            left_out: Default::default(),
            own_writes: Default::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `T`'s records, made the first time it is asked for.
    pub fn dir<T: Record>(&self) -> StoreResult<PathBuf> {
        self.collection_lock(T::COLLECTION)?;
        Ok(self.root.join(T::COLLECTION.folder))
    }

    /// The mutex over `collection`'s lock file; the first call makes the folder.
    fn collection_lock(&self, collection: Collection) -> StoreResult<Arc<Mutex<Option<File>>>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = locks.get(collection.folder) {
            return Ok(Arc::clone(lock));
        }
        let dir = self.root.join(collection.folder);
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })?;
        let lock = Arc::new(Mutex::new(None));
        locks.insert(collection.folder, Arc::clone(&lock));
        Ok(lock)
    }

    fn path_of<T: Record>(&self, id: &str) -> StoreResult<PathBuf> {
        if !T::COLLECTION.id_format.accepts(id) {
            return Err(StoreError::InvalidId { collection: T::COLLECTION, id: id.to_owned() });
        }
        Ok(self.dir::<T>()?.join(format!("{id}.json")))
    }

    /// Reads one record, fresh from its file.
    pub fn get<T: Record>(&self, id: &str) -> StoreResult<T> {
        let path = self.path_of::<T>(id)?;
        let bytes = read_file(&path, T::COLLECTION, id)?;
        file::parse_record(&path, id, &bytes).map_err(StoreError::Corrupt)
    }

    /// Every record of a kind, each read fresh; broken files come back as
    /// errors in place so that one bad file does not hide the others.
    pub fn list<T: Record>(&self) -> StoreResult<Vec<StoreResult<T>>> {
        Ok(self.ids::<T>()?.iter().map(|id| self.get::<T>(id)).collect())
    }

    /// Every record of a kind that can be read; a broken file is left out,
    /// so one bad file hides nothing else, and logged with its position once
    /// until its problem changes (workers list every few seconds).
    pub fn list_readable<T: Record>(&self) -> StoreResult<Vec<T>> {
        let mut readable = Vec::new();
        for id in self.ids::<T>()? {
            let key = format!("{}/{id}", T::COLLECTION.folder);
            match self.get::<T>(&id) {
                Ok(record) => {
                    self.left_out(|reported| reported.remove(&key));
                    readable.push(record);
                }
                // Removed between listing and reading: nothing to leave out.
                Err(StoreError::NotFound { .. }) => {}
                Err(error) => {
                    let message = error.to_string();
                    let new = self.left_out(|reported| reported.insert(key, message.clone())) != Some(message);
                    if new {
                        log::error!("{} left out: {error}", T::COLLECTION.noun);
                    }
                }
            }
        }
        Ok(readable)
    }

    fn left_out<R>(&self, f: impl FnOnce(&mut HashMap<String, String>) -> R) -> R {
        f(&mut self.left_out.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The ids of all records of a kind, sorted.
    pub fn ids<T: Record>(&self) -> StoreResult<Vec<String>> {
        let dir = self.dir::<T>()?;
        index::record_ids(&dir, T::COLLECTION).map_err(|source| StoreError::Io { path: dir, source })
    }

    /// The record that holds a unique `key` (such as a customer's public
    /// key), found without reading the folder.
    pub fn find<T: Record>(&self, key: Key<T>) -> StoreResult<Option<T>> {
        let field = key.field();
        let unique = key.untyped().unique;
        let mut found = self.find_all(key)?;
        if found.len() > 1 && unique {
            let ids = found.iter().map(|r| r.id().to_owned()).collect();
            return Err(StoreError::Duplicate { collection: T::COLLECTION, field, ids });
        }
        Ok(found.pop())
    }

    /// All records that hold `key`.
    pub fn find_all<T: Record>(&self, key: Key<T>) -> StoreResult<Vec<T>> {
        let held = |index: &mut CollectionIndex| {
            let ids = index.ids_with(key.untyped());
            ids.iter().map(|id| (id.clone(), index.held(id))).collect::<Vec<_>>()
        };
        let mut found = Vec::new();
        for (id, held) in self.with_index::<T, _>(held)? {
            // The kept record is shared under the tables' lock and copied
            // after it, so the lock is never held for a copy.
            let record = match held {
                Held::Kept(record) => match record.downcast_ref::<T>() {
                    Some(record) => Some(record.clone()),
                    None => self.read_found::<T>(&id, None)?,
                },
                Held::Version(version) => self.read_found::<T>(&id, T::KEPT_IN_MEMORY.then_some(version))?,
            };
            // The table is a hint: the file itself must still say so.
            found.extend(record.filter(|record| record.index_keys().contains(&key)));
        }
        Ok(found)
    }

    /// Reads a record a lookup found, and keeps it in memory under `version`
    /// when given. A file reached through a link is never kept: a change
    /// made through its other name would not be reported in this folder.
    fn read_found<T: Record>(&self, id: &str, version: Option<u64>) -> StoreResult<Option<T>> {
        let record = match self.get::<T>(id) {
            Ok(record) => record,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        if let Some(version) = version {
            let own_file = fs::symlink_metadata(self.path_of::<T>(id)?).is_ok_and(|m| m.is_file() && m.nlink() == 1);
            if own_file {
                let kept = Arc::new(record.clone());
                self.with_index::<T, _>(|index| index.keep(id, version, kept))?;
            }
        }
        Ok(Some(record))
    }

    /// How many records hold `key`, from the lookup table alone (no file is
    /// read): exact once the table is built and its watch drained, which
    /// every lookup does first. For counts, such as accounts per server.
    pub fn count<T: Record>(&self, key: Key<T>) -> StoreResult<usize> {
        self.with_index::<T, _>(|index| index.ids_with(key.untyped()).len())
    }

    /// Whether the folder of `T` under the database `root` holds any record
    /// file, without opening the store (for checks made before it is).
    pub fn has_records<T: Record>(root: &Path) -> bool {
        index::record_ids(&root.join(T::COLLECTION.folder), T::COLLECTION).is_ok_and(|ids| !ids.is_empty())
    }

    /// Builds the lookup table of `T` now rather than on first use.
    pub fn warm<T: Record>(&self) -> StoreResult<()> {
        self.with_index::<T, _>(|_| ())
    }

    /// Whether `T`'s lookup table is built, so that a lookup answers at
    /// once instead of first reading the whole folder.
    pub fn is_indexed<T: Record>(&self) -> bool {
        self.indexes.lock().unwrap_or_else(|p| p.into_inner()).is_built(T::COLLECTION.folder)
    }

    /// Files of this kind that cannot currently be used, with the reason.
    pub fn broken<T: Record>(&self) -> StoreResult<Vec<LoadError>> {
        let mut broken = self.with_index::<T, _>(|index| index.broken().cloned().collect::<Vec<_>>())?;
        broken.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(broken)
    }

    /// Writes a new record; fails if the id exists or a unique value is taken.
    pub fn create<T: Record>(&self, record: &T) -> StoreResult<()> {
        let id = record.id().to_owned();
        let path = self.path_of::<T>(&id)?;
        check_rules(record)?;
        let lock = self.collection_lock(T::COLLECTION)?;
        let _lock = self.lock(&lock, T::COLLECTION)?;
        if path.exists() {
            return Err(StoreError::AlreadyExists { collection: T::COLLECTION, id });
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
        let path = self.path_of::<T>(id)?;
        let lock = self.collection_lock(T::COLLECTION)?;
        let _lock = self.lock(&lock, T::COLLECTION)?;
        let bytes = read_file(&path, T::COLLECTION, id)?;
        let original = file::parse_object(&path, &bytes).map_err(StoreError::Corrupt)?;
        let mut record: T = file::parse_record(&path, id, &bytes).map_err(StoreError::Corrupt)?;
        let outcome = change(&mut record)?;
        if record.id() != id {
            return Err(E::from(StoreError::Invalid {
                collection: T::COLLECTION,
                id: id.to_owned(),
                invalid: Invalid::new("id", "cannot be changed"),
            }));
        }
        check_rules(&record)?;
        self.check_unique(&record)?;
        self.write(&record, Some(&original))?;
        Ok(outcome)
    }

    /// Removes a record's file under the collection's lock (the folder is
    /// flushed, so the removal survives a power loss). Removing what is not
    /// there is not an error: the work is done either way.
    pub fn remove<T: Record>(&self, id: &str) -> StoreResult<()> {
        let path = self.path_of::<T>(id)?;
        let lock = self.collection_lock(T::COLLECTION)?;
        let _lock = self.lock(&lock, T::COLLECTION)?;
        let io_error = |source| StoreError::Io { path: path.clone(), source };
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(io_error(error)),
        }
        File::open(self.dir::<T>()?).and_then(|dir| dir.sync_all()).map_err(io_error)?;
        self.note_own_write(T::COLLECTION, id, FileStamp::missing(), || None);
        self.with_index::<T, _>(|index| index.forget(id))
    }

    /// Notes a write of ours to a watched collection; `object` (the JSON
    /// written) is made only then.
    fn note_own_write(
        &self,
        collection: Collection,
        id: &str,
        stamp: FileStamp,
        object: impl FnOnce() -> Option<Map<String, Value>>,
    ) {
        let mut own = self.own_writes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notes) = own.get_mut(collection.folder) {
            notes.insert(id.to_owned(), (stamp, object()));
        }
    }

    /// What changed in `T`'s files since `seen` was last compared, made by
    /// anyone but this process (see [`changes`]). From the first call on,
    /// this store notes its own writes to `T` so as to leave them out.
    pub fn changes_outside<T: Record>(&self, seen: &mut Seen) -> StoreResult<Vec<OutsideChange>> {
        let dir = self.dir::<T>()?;
        let lock = || self.own_writes.lock().unwrap_or_else(|p| p.into_inner());
        let own = lock().entry(T::COLLECTION.folder).or_default().clone();
        let mut changes = changes::compare(&dir, seen, &own).map_err(|source| StoreError::Io { path: dir, source })?;
        // Notes taken before the listing have been seen by it: done with.
        // A write of ours landing after the snapshot but before the listing
        // is ours all the same, though the snapshot missed it.
        if let Some(notes) = lock().get_mut(T::COLLECTION.folder) {
            changes.retain(|change| notes.get(&change.id).is_none_or(|(stamp, _)| *stamp != change.stamp));
            notes.retain(|id, (stamp, _)| own.get(id).is_none_or(|(seen_note, _)| seen_note != stamp));
        }
        Ok(changes)
    }

    /// Appends one line to the journal `name` (`database/<name>/<day>.jsonl`).
    pub fn append_to_journal(&self, name: &str, day: &str, line: &str) -> StoreResult<()> {
        journal::append(&journal::folder(&self.root, name)?, day, line)
    }

    /// Every line of the journal `name`, oldest first.
    pub fn journal(&self, name: &str) -> StoreResult<Vec<JournalLine>> {
        journal::read(&journal::folder(&self.root, name)?)
    }

    fn write<T: Record>(&self, record: &T, original: Option<&Map<String, Value>>) -> StoreResult<()> {
        let dir = self.dir::<T>()?;
        let name = format!("{}.json", record.id());
        let io_error = |source| StoreError::Io { path: dir.join(&name), source };
        let bytes = file::encode(record, original).map_err(io_error)?;
        let stamp = file::write_atomic(&dir, &name, &bytes).map_err(io_error)?;
        self.note_own_write(T::COLLECTION, record.id(), stamp, || serde_json::from_slice(&bytes).ok());
        let keys = record.index_keys().into_iter().map(Key::into_untyped).collect();
        self.with_index::<T, _>(|index| index.insert(record.id().to_owned(), stamp, keys))
    }

    fn check_unique<T: Record>(&self, record: &T) -> StoreResult<()> {
        let taken = self.with_index::<T, _>(|index| {
            record
                .index_keys()
                .into_iter()
                .map(Key::into_untyped)
                .filter(|key| key.unique)
                .find(|key| index.ids_with(key).iter().any(|other| other != record.id()))
        })?;
        match taken {
            Some(key) => Err(StoreError::Taken { collection: T::COLLECTION, field: key.field, value: key.value }),
            None => Ok(()),
        }
    }

    fn with_index<T: Record, R>(&self, f: impl FnOnce(&mut CollectionIndex) -> R) -> StoreResult<R> {
        let dir = self.dir::<T>()?;
        // A panic elsewhere while holding this lock leaves the tables valid
        // (every mutation is a complete insert or remove), so carry on.
        let mut indexes = self.indexes.lock().unwrap_or_else(|p| p.into_inner());
        let collection =
            indexes.collection(T::COLLECTION, load_keys::<T>).map_err(|source| StoreError::Io { path: dir, source })?;
        Ok(f(collection))
    }

    fn lock<'a>(&self, lock: &'a Mutex<Option<File>>, collection: Collection) -> StoreResult<CollectionLock<'a>> {
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.root.join(collection.folder).join(".lock");
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

    /// The 1-based line and column of `field` in a record's file, for reports.
    pub fn locate<T: Record>(&self, id: &str, field: &str) -> (usize, usize) {
        self.path_of::<T>(id)
            .ok()
            .and_then(|path| file::read_record_file(&path).ok())
            .map_or((1, 1), |(_, bytes)| locate_field(&bytes, field))
    }

    /// Files in a collection's folder that are not records and not the
    /// store's own (`.lock`, temporary files, `.gitkeep`).
    pub fn stray_files<T: Record>(&self) -> StoreResult<Vec<PathBuf>> {
        let dir = self.dir::<T>()?;
        let entries = fs::read_dir(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        let mut stray: Vec<PathBuf> = entries
            .flatten()
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_record = name.strip_suffix(".json").is_some_and(|id| T::COLLECTION.id_format.accepts(id));
                !(is_record || name == ".lock" || name == ".gitkeep" || is_temp_name(&name))
            })
            .map(|entry| entry.path())
            .collect();
        stray.sort();
        Ok(stray)
    }
}

fn check_rules<T: Record>(record: &T) -> StoreResult<()> {
    record.validate().map_err(|invalid| StoreError::Invalid {
        collection: T::COLLECTION,
        id: record.id().to_owned(),
        invalid,
    })
}

fn read_file(path: &Path, collection: Collection, id: &str) -> StoreResult<Vec<u8>> {
    match file::read_record_file(path) {
        Ok((_, bytes)) => Ok(bytes),
        Err(ReadFailure::NotFound) => Err(StoreError::NotFound { collection, id: id.to_owned() }),
        Err(ReadFailure::Unusable(error)) => Err(StoreError::Corrupt(error)),
        Err(ReadFailure::Io(source)) => Err(StoreError::Io { path: path.to_owned(), source }),
    }
}

/// Reads the index keys of one of `T`'s files, for the lookup tables.
fn load_keys<T: Record>(path: &Path, id: &str, bytes: &[u8]) -> Result<Vec<IndexKey>, (LoadError, Vec<IndexKey>)> {
    let untyped = |keys: Vec<Key<T>>| keys.into_iter().map(Key::into_untyped).collect();
    file::parse_record::<T>(path, id, bytes).map(|record| untyped(record.index_keys())).map_err(|error| {
        let salvaged = serde_json::from_slice::<Map<String, Value>>(bytes)
            .map(|raw| T::salvage_unique_keys(&raw))
            .unwrap_or_default();
        (error, untyped(salvaged))
    })
}

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
