//! [`Limits`], the value parser that declares a number flag's range on the
//! flag itself (`value_parser = between(1_usize, 256)`), so a value out of
//! range is refused while clap parses, whether it came from the flag or from
//! its environment variable.
//!
//! It is clap's ranged parser with the refusal in the words operators have
//! always read: "--workers must be between 1 and 256, not 0".

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use std::ffi::OsStr;
use std::fmt::{self, Display};
use std::str::FromStr;

/// The accepted values of one number flag.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits<T> {
    bounds: Bounds<T>,
    unit: &'static str,
    /// Replaces "between {min} and {max}" where the bare numbers read badly.
    words: Option<&'static str>,
}

/// Both bounds are included.
#[derive(Debug, Clone, Copy)]
enum Bounds<T> {
    Between(T, T),
    /// The type itself stops at zero.
    AtMost(T),
    AtLeast(T),
}

pub(super) fn between<T>(min: T, max: T) -> Limits<T> {
    Limits { bounds: Bounds::Between(min, max), unit: "", words: None }
}

pub(super) fn at_most<T>(max: T) -> Limits<T> {
    Limits { bounds: Bounds::AtMost(max), unit: "", words: None }
}

pub(super) fn at_least<T>(min: T) -> Limits<T> {
    Limits { bounds: Bounds::AtLeast(min), unit: "", words: None }
}

impl<T> Limits<T> {
    /// Names the unit after the numbers: "between 1 and 300 seconds".
    pub(super) fn seconds(self) -> Self {
        Limits { unit: " seconds", ..self }
    }

    /// Says the limits in these words instead of the numbers.
    pub(super) fn in_words(self, words: &'static str) -> Self {
        Limits { words: Some(words), ..self }
    }
}

impl<T: PartialOrd> Limits<T> {
    fn admit(&self, value: &T) -> bool {
        match &self.bounds {
            Bounds::Between(min, max) => min <= value && value <= max,
            Bounds::AtMost(max) => value <= max,
            Bounds::AtLeast(min) => min <= value,
        }
    }
}

impl<T: Display> Display for Limits<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.words, &self.bounds) {
            (Some(words), _) => f.write_str(words)?,
            (None, Bounds::Between(min, max)) => write!(f, "between {min} and {max}")?,
            (None, Bounds::AtMost(max)) => write!(f, "at most {max}")?,
            (None, Bounds::AtLeast(min)) => write!(f, "at least {min}")?,
        }
        f.write_str(self.unit)
    }
}

impl<T> TypedValueParser for Limits<T>
where
    T: FromStr + PartialOrd + Display + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        // What is not a number at all is refused by clap's own parser, in its words.
        let number = (|text: &str| text.parse::<T>()).parse_ref(cmd, arg, value)?;
        if self.admit(&number) {
            return Ok(number);
        }
        let flag = arg.and_then(clap::Arg::get_long).map_or_else(|| "the value".to_owned(), |long| format!("--{long}"));
        let refusal = format!("{flag} must be {self}, not {number}\n");
        Err(clap::Error::raw(ErrorKind::ValueValidation, refusal).with_cmd(cmd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(limits: Limits<u64>, inside: &[u64], outside: &[u64], words: &str) {
        assert!(inside.iter().all(|v| limits.admit(v)), "{limits}");
        assert!(!outside.iter().any(|v| limits.admit(v)), "{limits}");
        assert_eq!(limits.to_string(), words);
    }

    #[test]
    fn limits_admit_their_bounds_and_say_them() {
        check(between(1, 256), &[1, 256], &[0, 257], "between 1 and 256");
        check(between(1, 300).seconds(), &[1, 300], &[0, 301], "between 1 and 300 seconds");
        check(at_most(3650), &[0, 3650], &[3651], "at most 3650");
        check(at_least(1), &[1, u64::MAX], &[0], "at least 1");
        let bytes = between(1024, 1 << 24).in_words("between 1 KiB and 16 MiB");
        check(bytes, &[1024, 1 << 24], &[10, (1 << 24) + 1], "between 1 KiB and 16 MiB");
    }
}
