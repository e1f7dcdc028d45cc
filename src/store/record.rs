//! What the store needs to know about a kind of record.
//!
//! The store knows no domain type: each record type describes itself here
//! (its folder, its noun, its id format, its index keys), and the store
//! works from that description alone.

use crate::ids::IdFormat;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// One folder of the database and how its records are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// The folder under the database root, such as `customers`.
    pub folder: &'static str,
    /// How people call one record, for messages: `customer`.
    pub noun: &'static str,
    pub id_format: IdFormat,
}

/// A rule that a record breaks although its JSON parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The JSON field at fault, in its camelCase spelling.
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid { field, message: message.into() }
    }
}

/// A value by which records are found without reading the whole folder,
/// such as a customer's public key, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexKey {
    pub field: &'static str,
    pub value: String,
    /// No two records may hold this key.
    pub unique: bool,
}

/// An index key of the record type `T`. Record types build these with
/// their own named functions (`Customer::by_public_key`), so a misspelt
/// lookup does not compile and a lookup cannot ask one type for another's key.
#[derive(Debug, Clone)]
pub struct Key<T> {
    key: IndexKey,
    record: PhantomData<fn() -> T>,
}

impl<T> PartialEq for Key<T> {
    fn eq(&self, other: &Key<T>) -> bool {
        self.key == other.key
    }
}

impl<T: Record> Key<T> {
    /// A key that several records may share.
    pub fn shared(field: &'static str, value: impl Into<String>) -> Key<T> {
        Key { key: IndexKey { field, value: value.into(), unique: false }, record: PhantomData }
    }

    /// A key that no two records may hold (the store refuses the second).
    pub fn unique(field: &'static str, value: impl Into<String>) -> Key<T> {
        Key { key: IndexKey { field, value: value.into(), unique: true }, record: PhantomData }
    }

    pub fn field(&self) -> &'static str {
        self.key.field
    }

    pub fn value(&self) -> &str {
        &self.key.value
    }

    pub(crate) fn untyped(&self) -> &IndexKey {
        &self.key
    }

    pub(crate) fn into_untyped(self) -> IndexKey {
        self.key
    }
}

/// A record kept as one JSON file.
///
/// Serialization must always write every field the type knows (optional
/// ones as `null`): the store keeps fields an operator added by hand by
/// comparing the file's keys with the ones the type writes.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + Sized + 'static {
    const COLLECTION: Collection;

    /// Whether records found through a lookup are kept in memory until their
    /// file changes (the lookup tables see every change), instead of read
    /// again by every lookup. For the kinds looked up on every request, whose
    /// records are few and small; the others would only cost memory.
    const KEPT_IN_MEMORY: bool = false;

    fn id(&self) -> &str;

    /// Rules beyond the JSON types; checked on every read and write.
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }

    /// The keys this record can be looked up by.
    fn index_keys(&self) -> Vec<Key<Self>> {
        Vec::new()
    }

    /// The unique keys a file that does not parse as this type still seems
    /// to hold, read from its raw JSON. They stay reserved while the file
    /// is broken, so that a typo in one customer's file cannot let a second
    /// customer take their key or email.
    fn salvage_unique_keys(_raw: &Map<String, Value>) -> Vec<Key<Self>> {
        Vec::new()
    }
}

/// The string value of `field` in `raw`, passed through `key` (a record
/// type's own key function), for [`Record::salvage_unique_keys`].
pub fn raw_string_key<T: Record>(
    raw: &Map<String, Value>,
    field: &str,
    key: impl Fn(&str) -> Key<T>,
) -> Option<Key<T>> {
    raw.get(field)?.as_str().map(key)
}
