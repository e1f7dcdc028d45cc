//! Changes made to a collection's files by anyone but this process: an
//! operator's editor, a script, another hostr process (the CLI).
//!
//! [`Seen`] is the last known version of every file of one collection (its
//! stamp and raw JSON object). [`Store::changes_outside`](super::Store::changes_outside)
//! compares the folder with it: a file whose stamp is the one this process
//! last wrote is taken in silently; any other new stamp is an outside change,
//! returned with the version before and after. The first comparison only
//! learns the folder. The writer's own stamps come from `Store::write` and
//! `Store::remove`, so the server's own updates are never reported as hand
//! edits. A hand edit landing between one of our writes and the next
//! comparison is reported against the version we wrote (kept with its stamp).

use super::file::{FileStamp, ReadFailure, is_temp_name, parse_object, read_record_file};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What the watcher last knew of one collection.
#[derive(Debug, Default)]
pub struct Seen {
    learnt: bool,
    files: HashMap<String, (FileStamp, Option<Map<String, Value>>)>,
}

/// One file changed from outside. `None` is "no file" (before: created;
/// after: removed) or a file that is not a JSON object (`unreadable` says why).
#[derive(Debug, Clone, PartialEq)]
pub struct OutsideChange {
    pub id: String,
    pub path: PathBuf,
    pub before: Option<Map<String, Value>>,
    pub after: Option<Map<String, Value>>,
    pub unreadable: Option<String>,
    /// The version seen (`missing` once removed).
    pub(super) stamp: FileStamp,
}

/// The record files of `dir` (`<id>.json`) with their stamps.
fn stamps(dir: &Path) -> std::io::Result<HashMap<String, FileStamp>> {
    let mut found = HashMap::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(error) => return Err(error),
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        let Some(id) = name.strip_suffix(".json") else { continue };
        if name.starts_with('.') || is_temp_name(&name) {
            continue;
        }
        let stamp = entry.metadata().map_or_else(|_| FileStamp::missing(), |m| FileStamp::of(&m));
        found.insert(id.to_owned(), stamp);
    }
    Ok(found)
}

/// What this process last wrote of one record: its stamp (`missing` for a
/// removal) and its JSON.
pub(super) type OwnWrite = (FileStamp, Option<Map<String, Value>>);

/// Compares `dir` with `seen`; `own` holds what this process wrote, by id.
pub(super) fn compare(
    dir: &Path,
    seen: &mut Seen,
    own: &HashMap<String, OwnWrite>,
) -> std::io::Result<Vec<OutsideChange>> {
    let now = stamps(dir)?;
    let mut changes = Vec::new();
    for (id, stamp) in &now {
        if seen.files.get(id).is_some_and(|(known, _)| known == stamp) {
            continue;
        }
        let path = dir.join(format!("{id}.json"));
        let (after, unreadable) = match read_record_file(&path) {
            Ok((_, bytes)) => match parse_object(&path, &bytes) {
                Ok(object) => (Some(object), None),
                Err(error) => (None, Some(error.to_string())),
            },
            Err(ReadFailure::NotFound) => continue,
            Err(ReadFailure::Unusable(error)) => (None, Some(error.to_string())),
            Err(ReadFailure::Io(error)) => (None, Some(error.to_string())),
        };
        let before = seen.files.insert(id.clone(), (*stamp, after.clone())).and_then(|(_, object)| object);
        match own.get(id) {
            Some((ours, _)) if ours == stamp => {}
            // Changed after our own last write: against what we wrote.
            Some((_, ours)) if seen.learnt => changes.push(OutsideChange {
                id: id.clone(),
                path,
                before: ours.clone(),
                after,
                unreadable,
                stamp: *stamp,
            }),
            _ if seen.learnt => {
                changes.push(OutsideChange { id: id.clone(), path, before, after, unreadable, stamp: *stamp })
            }
            _ => {}
        }
    }
    let gone: Vec<String> = seen.files.keys().filter(|id| !now.contains_key(*id)).cloned().collect();
    for id in gone {
        let before = seen.files.remove(&id).and_then(|(_, object)| object);
        if own.get(&id).is_none_or(|(ours, _)| *ours != FileStamp::missing()) {
            let path = dir.join(format!("{id}.json"));
            changes.push(OutsideChange {
                id,
                path,
                before,
                after: None,
                unreadable: None,
                stamp: FileStamp::missing(),
            });
        }
    }
    seen.learnt = true;
    changes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(changes)
}
