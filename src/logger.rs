//! A minimal logger for the `log` facade: one line per message on stderr,
//! with a UTC timestamp, for journald or a terminal.
//!
//! Messages often carry what a client sent (a method, a path, an
//! identifier). Every control character is written escaped (`\n`,
//! `\u{1b}`), so no message can forge a second line or send escape
//! sequences to the operator's terminal.
//!
//! Lines are written in batches: an info line (the access log, one per
//! request) waits at most [`FLUSH_DELAY`] or until [`BATCH_BYTES`] are
//! waiting, so a busy server makes one `write` for many requests instead of
//! one each. A warning or an error is written at once, together with what
//! waits before it, so lines keep their order. What still waits when the
//! process ends is written by the guard [`init`] returns (dropped at the end
//! of `main`); a process killed outright loses at most the last
//! `FLUSH_DELAY` of info lines.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Longest time an info line waits before it is written.
pub const FLUSH_DELAY: Duration = Duration::from_millis(100);
/// Lines waiting beyond this many bytes are written at once.
pub const BATCH_BYTES: usize = 32 * 1024;

struct BatchLogger {
    waiting: Mutex<Vec<u8>>,
    /// Wakes the writer thread when the first line of a batch arrives.
    arrived: Condvar,
    /// Set once a writer thread runs; without one every line is written at once.
    batching: AtomicBool,
    /// Where lines go: stderr (a parameter so that tests can watch the writes).
    sink: fn(&[u8]),
}

static LOGGER: BatchLogger = BatchLogger::new(write_to_stderr);

fn write_to_stderr(lines: &[u8]) {
    let _ = std::io::stderr().lock().write_all(lines);
}

impl BatchLogger {
    const fn new(sink: fn(&[u8])) -> BatchLogger {
        BatchLogger { waiting: Mutex::new(Vec::new()), arrived: Condvar::new(), batching: AtomicBool::new(false), sink }
    }

    fn waiting(&self) -> MutexGuard<'_, Vec<u8>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes out what waits. Called with the lock held, so that lines from
    /// different threads stay whole and in order.
    fn write_out(&self, waiting: &mut Vec<u8>) {
        if !waiting.is_empty() {
            (self.sink)(waiting);
            waiting.clear();
            waiting.shrink_to(BATCH_BYTES);
        }
    }

    /// The writer thread: waits for a first line, lets a batch gather for
    /// `FLUSH_DELAY`, writes it out.
    fn write_batches(&self) {
        loop {
            let mut waiting = self.waiting();
            while waiting.is_empty() {
                waiting = self.arrived.wait(waiting).unwrap_or_else(PoisonError::into_inner);
            }
            drop(waiting);
            std::thread::sleep(FLUSH_DELAY);
            self.write_out(&mut self.waiting());
        }
    }

    /// Adds a formatted line; writes at once if it is a warning or an error,
    /// if nothing batches, or if the batch is full.
    fn add(&self, line: &str, level: Level) {
        let mut waiting = self.waiting();
        let first = waiting.is_empty();
        waiting.extend_from_slice(line.as_bytes());
        let at_once = level <= Level::Warn || !self.batching.load(Ordering::Relaxed);
        if at_once || waiting.len() >= BATCH_BYTES {
            self.write_out(&mut waiting);
        } else if first {
            drop(waiting);
            self.arrived.notify_one();
        }
    }
}

impl Log for BatchLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = String::with_capacity(160);
        push_now(&mut line);
        let _ = write!(line, " {:<5} ", record.level());
        let _ = write!(WithoutControls(&mut line), "{}", record.args());
        line.push('\n');
        self.add(&line, record.level());
    }

    fn flush(&self) {
        self.write_out(&mut self.waiting());
    }
}

/// Appends the time as `Timestamp` shows it (to the second), formatted
/// once a second per thread rather than for every line.
fn push_now(line: &mut String) {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = crate::timestamp::Timestamp::now();
    let second = now.as_datetime().timestamp();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != second {
            *last = (second, now.to_string());
        }
        line.push_str(&last.1);
    });
}

/// Passes text on with every control character escaped.
struct WithoutControls<'a>(&'a mut String);

impl std::fmt::Write for WithoutControls<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if !text.chars().any(char::is_control) {
            self.0.push_str(text);
            return Ok(());
        }
        for c in text.chars() {
            if c.is_control() {
                self.0.extend(c.escape_default());
            } else {
                self.0.push(c);
            }
        }
        Ok(())
    }
}

/// `text` with every control character escaped, everything else as it is.
pub fn without_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = WithoutControls(&mut out).write_str(text);
    out
}

/// Writes out the lines still waiting when dropped.
#[must_use = "dropping the guard writes out the waiting lines; keep it until the end of `main`"]
pub struct FlushOnDrop;

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        log::logger().flush();
    }
}

/// Installs the logger and starts its writer thread; later calls only
/// return another guard.
pub fn init(level: LevelFilter) -> FlushOnDrop {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
        let started = std::thread::Builder::new().name("log-writer".to_owned()).spawn(|| LOGGER.write_batches());
        LOGGER.batching.store(started.is_ok(), Ordering::Relaxed);
    }
    FlushOnDrop
}

#[cfg(test)]
mod tests {
    use super::{BatchLogger, without_controls};
    use log::Level;
    use std::sync::Mutex;

    /// The writes the test logger made.
    static WRITES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record_write(lines: &[u8]) {
        WRITES.lock().unwrap().push(String::from_utf8_lossy(lines).into_owned());
    }

    #[test]
    fn info_lines_wait_for_a_batch_and_a_warning_takes_them_along_in_order() {
        let logger = BatchLogger::new(record_write);
        logger.batching.store(true, std::sync::atomic::Ordering::Relaxed);
        let writes = || WRITES.lock().unwrap().clone();
        logger.add("GET /a\n", Level::Info);
        logger.add("GET /b\n", Level::Info);
        assert_eq!(writes(), Vec::<String>::new(), "info lines wait");
        logger.add("disk full\n", Level::Warn);
        assert_eq!(writes(), ["GET /a\nGET /b\ndisk full\n"], "one write, in order");
        logger.add("GET /c\n", Level::Info);
        log::Log::flush(&logger);
        assert_eq!(writes().len(), 2);
        assert_eq!(writes()[1], "GET /c\n", "flush writes what waits");
        // Without a writer thread nothing waits.
        logger.batching.store(false, std::sync::atomic::Ordering::Relaxed);
        logger.add("GET /d\n", Level::Info);
        assert_eq!(writes()[2], "GET /d\n");
    }

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
