//! A minimal logger for the `log` facade: one line per message on stderr,
//! with a UTC timestamp, for journald or a terminal.
//!
//! Messages often carry what a client sent (a method, a path, an
//! identifier). Every control character is written escaped (`\n`,
//! `\u{1b}`), so no message can forge a second line or send escape
//! sequences to the operator's terminal.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let now = crate::timestamp::Timestamp::now();
            let line = format!("{now} {:<5} {}\n", record.level(), without_controls(&record.args().to_string()));
            // One write per line keeps lines from different threads whole.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// `text` with every control character escaped, everything else as it is.
pub fn without_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars().fold(String::with_capacity(text.len() + 8), |mut out, c| {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        out
    })
}

/// Installs the logger; later calls are ignored.
pub fn init(level: LevelFilter) {
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::without_controls;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let cases = [
            ("GET /shop", "GET /shop"),
            ("PO\nST", "PO\\nST"),
            ("a\r\nb", "a\\r\\nb"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("nul\0", "nul\\u{0}"),
            ("café \"quoted\"", "café \"quoted\""),
        ];
        for (raw, logged) in cases {
            assert_eq!(without_controls(raw), logged, "{raw:?}");
        }
    }
}
