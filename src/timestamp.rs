//! Points in time as the database writes them: RFC 3339 in UTC, to the second.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp::from(Utc::now())
    }

    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    pub fn parse(text: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({e})"))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Drops sub-second precision so that what is written is what is read back.
    fn from(time: DateTime<Utc>) -> Timestamp {
        let seconds = time.timestamp();
        Timestamp(DateTime::from_timestamp(seconds, 0).unwrap_or(time))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_utc_to_the_second_and_reads_any_offset() {
        let t = Timestamp::parse("2026-11-25T18:30:15.999+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T16:30:15Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-11-25T16:30:15Z\"");
        assert!(Timestamp::parse("2026-11-25 16:30").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }
}
