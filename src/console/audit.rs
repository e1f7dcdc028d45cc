//! The audit log: who changed what, when, from what to what.
//!
//! One JSON object per line in `database/audit/<UTC day>.jsonl` (the
//! store's journal, appended to and never rewritten). An entry is written
//! for every change made from the console (actor: the operator's npub), each
//! console sign-in and revocation, and every change to a record file the
//! server did not make itself (actor `file`: a hand edit, a script, the CLI).
//! `before` and `after` hold only the fields that changed.

use crate::store::{Store, StoreResult};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const JOURNAL: &str = "audit";
/// The actor of a change noticed in the files.
pub const FILE_ACTOR: &str = "file";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub at: Timestamp,
    /// `npub1…` of the operator, or `file`.
    pub actor: String,
    /// Such as `account.suspend`, `payment.mark-paid`, `hand-edit`, `sign-in`.
    pub action: String,
    pub target: Target,
    /// For a hand edit: the file, relative to the database folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub before: Value,
    pub after: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `customer`, `account`, `payment`, `plan`, `operator`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Target {
    pub fn new(kind: &str, id: &str) -> Target {
        Target { kind: kind.to_owned(), id: id.to_owned() }
    }
}

impl AuditEntry {
    /// An entry made now by `actor`, with nothing changed yet.
    pub fn now(actor: &str, action: &str, target: Target) -> AuditEntry {
        AuditEntry {
            at: Timestamp::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target,
            file: None,
            before: Value::Object(Default::default()),
            after: Value::Object(Default::default()),
            reason: None,
        }
    }

    /// With `before` and `after` reduced to the fields that changed.
    pub fn changing<T: Serialize>(mut self, before: &T, after: &T) -> AuditEntry {
        (self.before, self.after) = super::diff::changed(before, after);
        self
    }

    pub fn because(mut self, reason: &str) -> AuditEntry {
        self.reason = Some(reason.trim().to_owned());
        self
    }

    /// Whether `filter` (case-insensitive) is in the actor, action, target
    /// type or id, file, reason or a changed field's name.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        if filter.is_empty() {
            return true;
        }
        let fields = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        let mut texts = vec![self.actor.clone(), self.action.clone(), self.target.kind.clone(), self.target.id.clone()];
        texts.extend(self.file.clone().into_iter().chain(self.reason.clone()));
        texts.extend(fields(&self.after));
        texts.iter().any(|t| t.to_lowercase().contains(&filter))
    }
}

/// Appends `entry` to the log.
pub fn record(store: &Store, entry: &AuditEntry) -> StoreResult<()> {
    let line = serde_json::to_string(entry).unwrap_or_default();
    let day = entry.at.as_datetime().format("%Y-%m-%d").to_string();
    store.append_to_journal(JOURNAL, &day, &line)
}

/// Appends `entry`, or logs why it could not be: the change it describes is
/// made already, and must not be reported as failed.
pub fn record_or_log(store: &Store, entry: &AuditEntry) {
    if let Err(error) = record(store, entry) {
        log::error!("audit: cannot append {} by {} to the log: {error}", entry.action, entry.actor);
    }
}

/// The entries matching `filter`, newest first, at most `limit`. A line that
/// does not parse is logged and left out.
pub fn newest_first(store: &Store, filter: &str, limit: usize) -> StoreResult<Vec<AuditEntry>> {
    let mut entries: Vec<AuditEntry> = store
        .journal(JOURNAL)?
        .into_iter()
        .filter_map(|line| match serde_json::from_str::<AuditEntry>(&line.text) {
            Ok(entry) => Some(entry),
            Err(error) => {
                log::warn!("audit: {JOURNAL}/{}:{} is not an entry: {error}", line.file, line.line);
                None
            }
        })
        .filter(|entry| entry.matches(filter))
        .collect();
    entries.reverse();
    entries.truncate(limit);
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_come_back_newest_first_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = AuditEntry::now("npub1alice", "account.suspend", Target::new("account", "a1")).because("abuse");
        let mut second = AuditEntry::now(FILE_ACTOR, "hand-edit", Target::new("customer", "c1"));
        second.after = json!({"email": "x@example.com"});
        record(&store, &first).unwrap();
        record(&store, &second).unwrap();
        let all = newest_first(&store, "", 10).unwrap();
        assert_eq!(all, [second.clone(), first.clone()]);
        assert_eq!(newest_first(&store, "EMAIL", 10).unwrap(), [second]);
        assert_eq!(newest_first(&store, "abuse", 10).unwrap(), [first]);
        assert_eq!(newest_first(&store, "", 1).unwrap().len(), 1);
    }
}
