//! The receipts thread: issues what is due at start (which numbers the
//! payments paid before receipts existed), whenever a payment turns PAID,
//! and again every `RETRY` for receipts that failed or that another process
//! left (a CLI that could not issue one).

use super::Receipts;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How often due receipts are looked for without being woken.
const RETRY: Duration = Duration::from_secs(30);

/// A wake-up that is not lost when it comes while the thread is busy.
#[derive(Default)]
pub struct Signal {
    woken: Mutex<bool>,
    bell: Condvar,
}

impl Signal {
    fn ring(&self) {
        *self.woken.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.bell.notify_one();
    }

    /// Waits until rung or `timeout`, and clears the bell.
    fn wait(&self, timeout: Duration) {
        let woken = self.woken.lock().unwrap_or_else(|p| p.into_inner());
        let (mut woken, _) =
            self.bell.wait_timeout_while(woken, timeout, |woken| !*woken).unwrap_or_else(|p| p.into_inner());
        *woken = false;
    }
}

impl Receipts {
    /// Asks the thread to issue what is due now.
    pub fn wake(&self) {
        self.signal.ring();
    }

    /// Starts the thread; it runs as long as these receipts are in use.
    pub fn start(self: &Arc<Self>) {
        self.requeue_recent();
        // The thread holds the receipts (and so the database) only while it
        // works: once the application is dropped it ends at its next wake-up.
        let (receipts, signal) = (Arc::downgrade(self), self.signal.clone());
        let spawned = std::thread::Builder::new().name("receipts".to_owned()).spawn(move || {
            while let Some(receipts) = receipts.upgrade() {
                receipts.issue_due();
                drop(receipts);
                signal.wait(RETRY);
            }
        });
        if let Err(e) = spawned {
            log::error!("cannot start the receipts thread: {e}");
        }
    }
}
