//! A minimal logger for the `log` facade: one line per message on stderr,
//! with a UTC timestamp, for journald or a terminal.

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
            let line = format!("{now} {:<5} {}\n", record.level(), record.args());
            // One write per line keeps lines from different threads whole.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger; later calls are ignored.
pub fn init(level: LevelFilter) {
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}
