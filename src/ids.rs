//! The exact shapes of record ids.
//!
//! Ids arrive from URLs, request bodies, command lines and hand-edited files,
//! and become file names. Each is checked against its exact format here,
//! before any path is built from it, so `..`, `/`, `\`, NUL, percent-escapes
//! or an over-long string can never reach the file system.

/// How the ids of one kind of record look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFormat {
    /// A lowercase hyphenated UUID: `0f8fad5b-d9cb-469f-a165-70867728950e`.
    Uuid,
    /// A readable slug: 1 to 40 of `a-z`, `0-9` and `-`, starting with a letter or digit.
    Slug,
    /// A Nostr event id: 64 lowercase hex digits.
    EventId,
}

impl IdFormat {
    pub fn accepts(self, id: &str) -> bool {
        match self {
            IdFormat::Uuid => is_uuid(id),
            IdFormat::Slug => is_slug(id),
            IdFormat::EventId => is_public_key_hex(id),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            IdFormat::Uuid => "a lowercase UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e",
            IdFormat::Slug => "1 to 40 lowercase letters, digits and dashes, such as basic",
            IdFormat::EventId => "a Nostr event id: 64 lowercase hex digits",
        }
    }
}

/// A new random id in the UUID format.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn is_uuid(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn is_slug(id: &str) -> bool {
    let bytes = id.as_bytes();
    (1..=40).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A Nostr public key (or event id) in its canonical stored form: 64 lowercase hex digits.
pub fn is_public_key_hex(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "",
        ".",
        "..",
        "../plans/basic",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "%2e%2e",
        "..%2f",
        "basic\0",
        "basic.json",
        "BASIC",
        " basic",
        "-basic",
    ];

    #[test]
    fn slugs_refuse_hostile_and_malformed_ids() {
        assert!(IdFormat::Slug.accepts("basic"));
        assert!(IdFormat::Slug.accepts("web-storage-10"));
        assert!(!IdFormat::Slug.accepts(&"a".repeat(41)));
        for id in HOSTILE {
            assert!(!IdFormat::Slug.accepts(id), "{id:?}");
        }
    }

    #[test]
    fn uuids_must_be_lowercase_and_hyphenated() {
        let id = new_uuid();
        assert!(IdFormat::Uuid.accepts(&id));
        assert!(!IdFormat::Uuid.accepts(&id.to_uppercase()));
        assert!(!IdFormat::Uuid.accepts(&id.replace('-', "")));
        assert!(!IdFormat::Uuid.accepts(&format!("{id}/..")));
        assert!(!IdFormat::Uuid.accepts("0f8fad5b-d9cb-469f-a165-70867728950g"));
        for id in HOSTILE {
            assert!(!IdFormat::Uuid.accepts(id), "{id:?}");
        }
    }

    #[test]
    fn event_ids_are_64_lowercase_hex_and_nothing_hostile() {
        assert!(IdFormat::EventId.accepts(&"0f".repeat(32)));
        assert!(!IdFormat::EventId.accepts(&"0F".repeat(32)));
        for id in HOSTILE {
            assert!(!IdFormat::EventId.accepts(id), "{id:?}");
        }
    }

    #[test]
    fn public_keys_are_64_lowercase_hex() {
        assert!(is_public_key_hex(&"ab".repeat(32)));
        assert!(!is_public_key_hex(&"AB".repeat(32)));
        assert!(!is_public_key_hex(&"ab".repeat(31)));
        assert!(!is_public_key_hex(&"zz".repeat(32)));
    }
}
