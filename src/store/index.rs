//! In-memory lookup tables over the record files, kept exact by inotify.
//!
//! Finding a customer by public key, or checking that an email is unused,
//! must not read the whole folder. Each collection's table maps
//! `(field, value)` to record ids. It is built by one scan the first time
//! the collection is looked up, and then follows every change to the folder,
//! ours or anyone's (another hostr process, an operator's editor), through an
//! inotify watch that is drained before every lookup. The kernel queues an
//! event before the `rename` or `write` that caused it returns, so a table
//! drained while holding a collection's write lock has seen every write
//! completed before that lock was taken: this is what makes uniqueness exact
//! across processes.
//!
//! The table is only ever a hint: callers read the record file named by an
//! id and check it really has the looked-up value. For the kinds of record
//! kept in memory ([`super::Record::KEPT_IN_MEMORY`]), the record a lookup
//! read is kept with its entry and stands in for the file until the next
//! event about that file, which drops it even if the file's size and
//! modification time look unchanged.

use super::file::{FileStamp, LoadError, ReadFailure, read_record_file};
use super::record::{Collection, IndexKey};
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use std::any::Any;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads one record file and returns its index keys; for a file that does
/// not parse, the error and the unique keys it still seems to hold.
pub type KeyLoader = fn(&Path, &str, &[u8]) -> Result<Vec<IndexKey>, (LoadError, Vec<IndexKey>)>;

/// What reading one record file found.
enum Reading {
    Gone,
    Keys(FileStamp, Vec<IndexKey>),
    /// Unusable until fixed; its salvaged unique keys stay reserved.
    Broken(FileStamp, LoadError, Vec<IndexKey>),
}

struct Entry {
    stamp: FileStamp,
    keys: Vec<IndexKey>,
    /// Changes with every event about the file, so a record read before an
    /// event is never kept after it.
    version: u64,
    kept: Option<KeptRecord>,
}

/// A parsed record, of the collection's type.
pub type KeptRecord = Arc<dyn Any + Send + Sync>;

/// What a lookup finds for one id: the record kept in memory, or the
/// version of the entry to keep the record it is about to read under.
pub enum Held {
    Kept(KeptRecord),
    Version(u64),
}

/// The lookup table of one collection.
pub struct CollectionIndex {
    dir: PathBuf,
    collection: Collection,
    loader: KeyLoader,
    entries: HashMap<String, Entry>,
    lookup: HashMap<IndexKey, Vec<String>>,
    broken: HashMap<String, LoadError>,
}

impl CollectionIndex {
    fn build(dir: PathBuf, collection: Collection, loader: KeyLoader) -> io::Result<CollectionIndex> {
        let mut index = CollectionIndex {
            dir,
            collection,
            loader,
            entries: HashMap::new(),
            lookup: HashMap::new(),
            broken: HashMap::new(),
        };
        let ids = record_ids(&index.dir, collection)?;
        // Reading and parsing dominate the scan; two threads halve it on this
        // kind of small machine without starving request handling for long.
        let readings: Vec<(String, Reading)> = std::thread::scope(|scope| {
            let halves: Vec<_> = ids
                .chunks(ids.len().div_ceil(2).max(1))
                .map(|chunk| {
                    let index = &index;
                    scope.spawn(move || chunk.iter().map(|id| (id.clone(), index.read(id))).collect::<Vec<_>>())
                })
                .collect();
            halves.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        for (id, reading) in readings {
            index.apply(id, reading);
        }
        Ok(index)
    }

    /// Reads one file. Only a failure of the folder itself is an error: a
    /// file that cannot be opened (a directory by that name, a file only
    /// root may read) is a broken record like one that does not parse.
    fn read(&self, id: &str) -> Reading {
        let path = self.dir.join(format!("{id}.json"));
        let unreadable = |e: io::Error| LoadError {
            path: path.clone(),
            line: 1,
            column: 1,
            message: format!("cannot be read: {e}"),
            broken_rule: false,
        };
        let (stamp, bytes) = match read_record_file(&path) {
            Ok(read) => read,
            Err(ReadFailure::NotFound) => return Reading::Gone,
            Err(ReadFailure::Unusable(error)) => return Reading::Broken(FileStamp::missing(), error, Vec::new()),
            Err(ReadFailure::Io(e)) => return Reading::Broken(FileStamp::missing(), unreadable(e), Vec::new()),
        };
        match (self.loader)(&path, id, &bytes) {
            Ok(keys) => Reading::Keys(stamp, keys),
            Err((error, salvaged)) => Reading::Broken(stamp, error, salvaged),
        }
    }

    fn apply(&mut self, id: String, reading: Reading) {
        let previous = self.entries.get(&id).map(|e| e.keys.clone()).unwrap_or_default();
        self.remove(&id);
        self.broken.remove(&id);
        match reading {
            Reading::Gone => {}
            Reading::Keys(stamp, keys) => self.insert(id, stamp, keys),
            Reading::Broken(stamp, error, salvaged) => {
                log::error!("{error} (the {} is left out until the file is fixed)", self.collection.noun);
                // A file too broken to salvage keeps the keys it had when it was whole.
                let reserved = if salvaged.is_empty() { previous } else { salvaged };
                self.insert(id.clone(), stamp, reserved);
                self.broken.insert(id, error);
            }
        }
    }

    /// Records a write this process has just made, so that its own inotify
    /// event does not make it read the file again.
    pub fn insert(&mut self, id: String, stamp: FileStamp, keys: Vec<IndexKey>) {
        self.remove(&id);
        self.broken.remove(&id);
        for key in &keys {
            self.lookup.entry(key.clone()).or_default().push(id.clone());
        }
        self.entries.insert(id, Entry { stamp, keys, version: next_version(), kept: None });
    }

    /// The record kept for `id`, or the version to keep one under.
    pub fn held(&self, id: &str) -> Held {
        match self.entries.get(id) {
            Some(Entry { kept: Some(record), .. }) => Held::Kept(record.clone()),
            Some(entry) => Held::Version(entry.version),
            None => Held::Version(0),
        }
    }

    /// Keeps `record`, read from `id`'s file after `held` answered
    /// `version`, unless an event about the file came in between.
    pub fn keep(&mut self, id: &str, version: u64, record: KeptRecord) {
        if let Some(entry) = self.entries.get_mut(id)
            && entry.version == version
        {
            entry.kept = Some(record);
        }
    }

    /// Drops the record kept for `id`, for an event that changes the file
    /// without finishing a write (a write by a process that keeps it open, a
    /// change of permissions): the keys wait for the write's end, as before.
    fn drop_kept(&mut self, id: &str) {
        if let Some(entry) = self.entries.get_mut(id) {
            (entry.version, entry.kept) = (next_version(), None);
        }
    }

    /// Records a removal this process has just made.
    pub fn forget(&mut self, id: &str) {
        self.remove(id);
        self.broken.remove(id);
    }

    fn remove(&mut self, id: &str) {
        if let Some(old) = self.entries.remove(id) {
            for key in old.keys {
                if let Some(ids) = self.lookup.get_mut(&key) {
                    ids.retain(|other| other != id);
                    if ids.is_empty() {
                        self.lookup.remove(&key);
                    }
                }
            }
        }
    }

    fn reload(&mut self, id: &str) {
        // Whatever the stamp says: a rewrite of the same size within the
        // file system's timestamp granularity leaves it unchanged.
        self.drop_kept(id);
        let current = fs::metadata(self.dir.join(format!("{id}.json"))).ok().map(|m| FileStamp::of(&m));
        let known = self.entries.get(id).map(|e| e.stamp);
        if current.is_some() && current == known {
            return;
        }
        let reading = self.read(id);
        self.apply(id.to_owned(), reading);
    }

    /// Ids of the records that carry `key`.
    pub fn ids_with(&self, key: &IndexKey) -> &[String] {
        self.lookup.get(key).map_or(&[], Vec::as_slice)
    }

    /// Records whose file could not be used, with the reason.
    pub fn broken(&self) -> impl Iterator<Item = &LoadError> {
        self.broken.values()
    }
}

/// A version no entry of this process has had: unique across collections
/// and across tables built again (after an overflow of inotify's queue, a
/// folder replaced), so a record read under an old table's version is
/// never kept in the new one.
fn next_version() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    LAST.fetch_add(1, Ordering::Relaxed) + 1
}

/// The ids of all record files in `dir`, in sorted order.
pub fn record_ids(dir: &Path, collection: Collection) -> io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json"))
            && collection.id_format.accepts(id)
        {
            ids.push(id.to_owned());
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Events after which a file is read again.
const MOVED_OR_DELETED: EventMask = EventMask::MOVED_TO.union(EventMask::MOVED_FROM).union(EventMask::DELETE);

/// All lookup tables of one store and the inotify instance that feeds them.
pub struct Indexes {
    root: PathBuf,
    inotify: Option<Inotify>,
    /// Each watch and the folder it watches.
    watches: HashMap<WatchDescriptor, &'static str>,
    /// The tables built so far, by folder.
    collections: HashMap<&'static str, CollectionIndex>,
    /// Where inotify's events are read: made once, since every lookup drains
    /// them (a fresh 16 KiB buffer was zeroed for each, under the lock).
    events: Box<[u8]>,
}

impl Indexes {
    pub fn new(root: PathBuf) -> Indexes {
        let events = vec![0; 16 * 1024].into_boxed_slice();
        Indexes { root, inotify: None, watches: HashMap::new(), collections: HashMap::new(), events }
    }

    /// Whether the table of `folder` has been built.
    pub fn is_built(&self, folder: &str) -> bool {
        self.collections.contains_key(folder)
    }

    /// The up-to-date table of `collection`, built on first use.
    pub fn collection(&mut self, collection: Collection, loader: KeyLoader) -> io::Result<&mut CollectionIndex> {
        self.refresh()?;
        let folder = collection.folder;
        if !self.collections.contains_key(folder) {
            let dir = self.root.join(folder);
            if self.inotify.is_none() {
                self.inotify = Some(Inotify::init()?);
            }
            let inotify = self.inotify.as_mut().expect("initialised just above");
            // Watch first, then scan: a change made during the scan is then
            // seen twice rather than missed.
            // MODIFY and ATTRIB only drop a record kept in memory.
            let mask = WatchMask::CLOSE_WRITE
                | WatchMask::MODIFY
                | WatchMask::ATTRIB
                | WatchMask::MOVED_TO
                | WatchMask::MOVED_FROM
                | WatchMask::DELETE
                | WatchMask::DELETE_SELF
                | WatchMask::MOVE_SELF;
            let wd = inotify.watches().add(&dir, mask)?;
            self.watches.insert(wd, folder);
            self.collections.insert(folder, CollectionIndex::build(dir, collection, loader)?);
        }
        Ok(self.collections.get_mut(folder).expect("built just above"))
    }

    /// Applies every change reported since the last call.
    fn refresh(&mut self) -> io::Result<()> {
        let Some(inotify) = self.inotify.as_mut() else {
            return Ok(());
        };
        let mut changed: Vec<(&'static str, String, bool)> = Vec::new();
        let mut rebuild: Vec<&'static str> = Vec::new();
        loop {
            let events = match inotify.read_events(&mut self.events) {
                Ok(events) => events,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            for event in events {
                if event.mask.contains(EventMask::Q_OVERFLOW) {
                    log::warn!("too many changes at once in the database; reading it all again");
                    rebuild.extend(self.collections.keys().copied());
                    continue;
                }
                let Some(&folder) = self.watches.get(&event.wd) else {
                    continue;
                };
                if event.mask.intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED) {
                    log::warn!("the folder {folder} was moved or replaced; reading it again");
                    rebuild.push(folder);
                    continue;
                }
                if let Some(id) = event.name.and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) {
                    let unfinished = !event.mask.intersects(EventMask::CLOSE_WRITE | MOVED_OR_DELETED);
                    changed.push((folder, id.to_owned(), unfinished));
                }
            }
        }
        for folder in rebuild {
            // Dropped tables are built again, with a fresh watch, on next use.
            if self.collections.remove(folder).is_some() {
                let stale: Vec<WatchDescriptor> =
                    self.watches.iter().filter(|(_, f)| **f == folder).map(|(wd, _)| wd.clone()).collect();
                for wd in stale {
                    self.watches.remove(&wd);
                    // Fails harmlessly when the kernel already dropped the watch.
                    let _ = inotify.watches().remove(wd);
                }
            }
        }
        for (folder, id, unfinished) in changed {
            if let Some(collection) = self.collections.get_mut(folder)
                && collection.collection.id_format.accepts(&id)
            {
                if unfinished { collection.drop_kept(&id) } else { collection.reload(&id) }
            }
        }
        Ok(())
    }
}
