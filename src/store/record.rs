//! What the store needs to know about a kind of record.

use crate::ids::IdFormat;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The four collections of the database, one folder each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Customer,
    CpanelAccount,
    Plan,
    Payment,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Customer, Kind::CpanelAccount, Kind::Plan, Kind::Payment];

    /// The folder under the database root that holds this kind.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Customer => "customers",
            Kind::CpanelAccount => "cpanel-accounts",
            Kind::Plan => "plans",
            Kind::Payment => "payments",
        }
    }

    pub fn id_format(self) -> IdFormat {
        match self {
            Kind::Plan => IdFormat::Slug,
            Kind::Customer | Kind::CpanelAccount | Kind::Payment => IdFormat::Uuid,
        }
    }

    /// How people call one record of this kind, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::CpanelAccount => "cPanel account",
            Kind::Plan => "plan",
            Kind::Payment => "payment",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
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
/// such as a customer's public key.
pub type IndexKey = (&'static str, String);

/// A record kept as one JSON file.
///
/// Serialization must always write every field the type knows (optional
/// ones as `null`): the store keeps fields an operator added by hand by
/// comparing the file's keys with the ones the type writes.
pub trait Record: Serialize + DeserializeOwned + Send + 'static {
    const KIND: Kind;

    /// Index fields that no two records may share.
    const UNIQUE_FIELDS: &'static [&'static str] = &[];

    fn id(&self) -> &str;

    /// Rules beyond the JSON types; checked on every read and write.
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }

    /// The values this record can be looked up by, as `(field, value)`.
    fn index_keys(&self) -> Vec<IndexKey> {
        Vec::new()
    }

    /// The unique values a file that does not parse as this type still
    /// seems to hold, read from its raw JSON. They stay reserved while the
    /// file is broken, so that a typo in one customer's file cannot let a
    /// second customer take their key or email.
    fn salvage_unique_keys(_raw: &Map<String, Value>) -> Vec<IndexKey> {
        Vec::new()
    }
}

/// The string values of `fields` in `raw`, as index keys, passed through `normalize`.
pub fn raw_string_keys(
    raw: &Map<String, Value>,
    fields: &[&'static str],
    normalize: fn(&str) -> String,
) -> Vec<IndexKey> {
    fields.iter().filter_map(|&field| Some((field, normalize(raw.get(field)?.as_str()?)))).collect()
}
