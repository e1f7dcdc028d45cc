//! Noticing hand edits: every few seconds the record folders of customers,
//! accounts, payments and plans are compared with their last known version
//! ([`Store::changes_outside`]), and each file changed by anyone but this
//! server goes to the audit log as a `hand-edit` by `file`, with the fields
//! that changed. The first pass at start only learns the folders: what was
//! edited while the server was down is not reported.

use super::audit::{self, AuditEntry, FILE_ACTOR, Target};
use super::diff::changed_fields;
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::payment::Payment;
use crate::plan::Plan;
use crate::store::{OutsideChange, Record, Seen, Store, StoreResult};
use std::sync::Weak;
use std::time::Duration;

/// What is known of the four folders watched.
#[derive(Default)]
pub struct HandEdits {
    customers: Seen,
    accounts: Seen,
    payments: Seen,
    plans: Seen,
}

impl HandEdits {
    /// Compares the folders and logs each outside change; returns how many.
    pub fn check(&mut self, store: &Store) -> usize {
        let mut noted = 0;
        noted += note::<Customer>(store, &mut self.customers, "customer");
        noted += note::<CpanelAccount>(store, &mut self.accounts, "account");
        noted += note::<Payment>(store, &mut self.payments, "payment");
        noted += note::<Plan>(store, &mut self.plans, "plan");
        noted
    }
}

fn note<T: Record>(store: &Store, seen: &mut Seen, kind: &str) -> usize {
    let changes: StoreResult<Vec<OutsideChange>> = store.changes_outside::<T>(seen);
    match changes {
        Ok(changes) => {
            for change in &changes {
                audit::record_or_log(store, &entry(store, kind, change));
            }
            changes.len()
        }
        Err(error) => {
            log::warn!("audit: cannot compare the {} files: {error}", T::COLLECTION.noun);
            0
        }
    }
}

/// The audit entry of one outside change.
pub fn entry(store: &Store, kind: &str, change: &OutsideChange) -> AuditEntry {
    let action = match (&change.before, &change.after, &change.unreadable) {
        (_, None, Some(_)) => "hand-edit.unreadable",
        (None, Some(_), _) => "hand-edit.added",
        (Some(_), None, None) => "hand-edit.removed",
        _ => "hand-edit",
    };
    let mut entry = AuditEntry::now(FILE_ACTOR, action, Target::new(kind, &change.id));
    let file = change.path.strip_prefix(store.root()).unwrap_or(&change.path);
    entry.file = Some(file.display().to_string());
    if change.unreadable.is_none() {
        (entry.before, entry.after) = changed_fields(change.before.as_ref(), change.after.as_ref());
    }
    entry.reason = change.unreadable.clone();
    entry
}

/// Starts the thread that checks every `period` while the store lives.
pub fn start(store: Weak<Store>, period: Duration) {
    let mut edits = HandEdits::default();
    std::thread::Builder::new()
        .name("hand-edits".to_owned())
        .spawn(move || {
            while let Some(store) = store.upgrade() {
                edits.check(&store);
                drop(store);
                std::thread::sleep(period);
            }
        })
        .expect("start the hand-edits watcher");
}
