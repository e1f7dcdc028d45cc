//! The console's revocation epochs: `database/admins/<hex key>.json`. A
//! console token carries the epoch of its key when issued; "sign out
//! everywhere" raises it, and every older token is refused from then on.
//! A key without a file has epoch 0.

use crate::ids::IdFormat;
use crate::store::{Collection, Record, Store, StoreError, StoreResult};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    /// The operator's public key, lowercase hex (also the file's name).
    pub id: String,
    pub session_epoch: u64,
    pub updated_at: Timestamp,
}

impl Record for Admin {
    // A public key has the shape of an event id: 64 lowercase hex digits.
    const COLLECTION: Collection = Collection { folder: "admins", noun: "operator", id_format: IdFormat::EventId };

    fn id(&self) -> &str {
        &self.id
    }
}

/// The current epoch of `public_key`'s console sessions.
pub fn epoch(store: &Store, public_key: &str) -> StoreResult<u64> {
    match store.get::<Admin>(public_key) {
        Ok(admin) => Ok(admin.session_epoch),
        Err(StoreError::NotFound { .. }) => Ok(0),
        Err(error) => Err(error),
    }
}

/// Ends every console session of `public_key`; returns the new epoch.
pub fn revoke(store: &Store, public_key: &str) -> StoreResult<u64> {
    let now = Timestamp::now();
    let first = Admin { id: public_key.to_owned(), session_epoch: 1, updated_at: now };
    match store.create(&first) {
        Ok(()) => return Ok(1),
        Err(StoreError::AlreadyExists { .. }) => {}
        Err(error) => return Err(error),
    }
    store.update::<Admin, _, StoreError>(public_key, |admin| {
        admin.session_epoch += 1;
        admin.updated_at = now;
        Ok(admin.session_epoch)
    })
}
