//! Points in time as the database writes them: RFC 3339 in UTC, to the second.
//!
//! RFC 3339 has four-digit years, so a `Timestamp` is always between
//! [`Timestamp::MIN`] and [`Timestamp::MAX`]: a time computed past the end
//! (a renewal of an account paid until 9999) is held at the end, and
//! whatever hostr writes it can read back.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The first second RFC 3339 can write: 0000-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(DateTime::from_timestamp(-62_167_219_200, 0).expect("in chrono's range"));
    /// The last second RFC 3339 can write: 9999-12-31T23:59:59Z.
    pub const MAX: Timestamp = Timestamp(DateTime::from_timestamp(253_402_300_799, 0).expect("in chrono's range"));

    pub fn now() -> Timestamp {
        Timestamp::from(Utc::now())
    }

    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// The second `seconds` after the Unix epoch, if RFC 3339 can write it.
    pub fn from_unix(seconds: i64) -> Option<Timestamp> {
        let time = DateTime::from_timestamp(seconds, 0)?;
        (Timestamp::MIN.0..=Timestamp::MAX.0).contains(&time).then_some(Timestamp(time))
    }

    /// `duration` later, rounded up to the second (so a wait is never cut
    /// short), held at [`Timestamp::MAX`].
    pub fn plus(self, duration: std::time::Duration) -> Timestamp {
        let seconds = duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0));
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        Timestamp::from_unix(self.0.timestamp().saturating_add(seconds)).unwrap_or(Timestamp::MAX)
    }

    pub fn parse(text: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({e})"))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Drops sub-second precision and holds the time within the years RFC
    /// 3339 can write, so that what is written is what is read back.
    fn from(time: DateTime<Utc>) -> Timestamp {
        let seconds = time.timestamp().clamp(Timestamp::MIN.0.timestamp(), Timestamp::MAX.0.timestamp());
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

    #[test]
    fn times_past_year_9999_are_held_at_its_end_and_read_back() {
        let cases = [
            ("9999-12-31T23:59:59Z", chrono::Duration::zero()),
            ("9999-12-15T00:00:00Z", chrono::Duration::days(31)),
            ("9999-12-31T23:59:59Z", chrono::Duration::seconds(1)),
        ];
        for (start, plus) in cases {
            let later = Timestamp::from(Timestamp::parse(start).unwrap().as_datetime() + plus);
            assert_eq!(later, Timestamp::MAX, "{start} + {plus}");
            assert_eq!(Timestamp::parse(&later.to_string()), Ok(later), "written as {later}");
        }
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00Z");
        let before = Timestamp::from(Timestamp::MIN.as_datetime() - chrono::Duration::days(1));
        assert_eq!(before, Timestamp::MIN);
    }
}
