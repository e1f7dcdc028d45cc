//! The lines a helper process (a Node wallet or signer) prints, read on a
//! thread as they come, and waited for by prefix.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Every line printed so far, and a wake-up when one comes.
#[derive(Clone)]
pub struct ChildLines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl ChildLines {
    /// Reads `output` line by line on a thread of its own.
    pub fn read(output: impl Read + Send + 'static) -> ChildLines {
        let lines = ChildLines(Arc::new((Mutex::new(Vec::new()), Condvar::new())));
        let feed = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                let (list, wake) = &*feed.0;
                list.lock().unwrap().push(line);
                wake.notify_all();
            }
        });
        lines
    }

    /// The first `count` lines starting with `prefix`, waiting up to
    /// `patience`; `who` names the process in the failure.
    pub fn wait(&self, who: &str, prefix: &str, count: usize, patience: Duration) -> Vec<String> {
        let deadline = Instant::now() + patience;
        let (list, wake) = &*self.0;
        let mut seen = list.lock().unwrap();
        loop {
            let found: Vec<String> = seen.iter().filter(|l| l.starts_with(prefix)).cloned().collect();
            if found.len() >= count {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{who} never printed {count} × `{prefix}…`; it printed {seen:?}");
            seen = wake.wait_timeout(seen, left).unwrap().0;
        }
    }

    /// The lines so far that start with `prefix`.
    pub fn starting(&self, prefix: &str) -> Vec<String> {
        self.0.0.lock().unwrap().iter().filter(|l| l.starts_with(prefix)).cloned().collect()
    }
}
