//! The payment worker: the background thread that settles payments.
//!
//! It re-reads the invoices webhooks point at, and every poll interval
//! looks at each pending payment, so a lost webhook (or none configured)
//! still ends in PAID. Webhooks are only hints: every change goes through
//! `Checkout::refresh`, which asks the provider itself. The worker's cost
//! follows the number of pending payments, not of all payments ever made,
//! and it calls the provider at most about once a second, leaving the rest
//! of the provider's allowance to pages and webhooks.

use super::Checkout;
use crate::payment::Payment;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Webhook hints waiting at most; beyond it they are dropped (the poller
/// still finds those payments).
const WEBHOOK_QUEUE: usize = 1024;

/// Pause between provider calls while polling: Strike allows 1,000 reads
/// per 10 minutes, and pages and webhooks need their share.
const PACE: Duration = Duration::from_millis(1000);

/// Invoice ids from the provider's webhooks, for the worker to re-read.
pub(super) struct Hints {
    sender: SyncSender<String>,
    /// Taken by the one worker that starts.
    inbox: Mutex<Option<Receiver<String>>>,
}

impl Hints {
    pub(super) fn new() -> Hints {
        let (sender, inbox) = sync_channel(WEBHOOK_QUEUE);
        Hints { sender, inbox: Mutex::new(Some(inbox)) }
    }
}

impl Checkout {
    /// Passes a webhook's invoice id to the payment worker; never blocks.
    pub fn hint_invoice(&self, invoice_id: String) {
        if self.hints.sender.try_send(invoice_id).is_err() {
            log::warn!("webhook queue full or closed; the poller will find the payment");
        }
    }

    /// Starts the payment worker, polling every `poll_interval`; a second
    /// call does nothing.
    pub fn start(self: &Arc<Self>, poll_interval: Duration) {
        let Some(inbox) = self.hints.inbox.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let checkout = self.clone();
        let spawned = std::thread::Builder::new()
            .name("payments".to_owned())
            .spawn(move || checkout.settle_payments(&inbox, poll_interval));
        if let Err(e) = spawned {
            log::error!("cannot start the payment worker: {e}");
        }
    }

    fn settle_payments(&self, inbox: &Receiver<String>, poll_interval: Duration) {
        let mut next_poll = Instant::now();
        loop {
            let wait = next_poll.saturating_duration_since(Instant::now());
            let received = inbox.recv_timeout(wait);
            if let Err(RecvTimeoutError::Disconnected) = received {
                return;
            }
            // A bug must not end the settling of payments for good.
            let survived = catch_unwind(AssertUnwindSafe(|| match received {
                Ok(invoice_id) => self.settle_hinted(&invoice_id),
                Err(_) => self.settle_pending(),
            }));
            if survived.is_err() {
                log::error!("the payment worker hit a bug; carrying on");
            }
            if Instant::now() >= next_poll {
                next_poll = Instant::now() + poll_interval;
            }
        }
    }

    /// One poll: every pending payment brought up to date, one at a time.
    fn settle_pending(&self) {
        let pending = self.store.find_all(Payment::open_pending()).unwrap_or_else(|e| {
            log::error!("cannot list pending payments: {e}");
            Vec::new()
        });
        for payment in pending {
            self.settle(&payment);
            std::thread::sleep(PACE);
        }
    }

    /// A webhook said an invoice changed: re-read it from the provider and
    /// act on what the provider says. Unknown invoices change nothing.
    fn settle_hinted(&self, invoice_id: &str) {
        match self.store.find(Payment::by_invoice(invoice_id)) {
            Ok(Some(payment)) => self.settle(&payment),
            Ok(None) => log::info!("webhook for invoice {invoice_id}, which is not one of ours"),
            Err(e) => log::error!("webhook for invoice {invoice_id}: {e}"),
        }
    }

    /// A failure is only logged: the next poll tries again.
    fn settle(&self, payment: &Payment) {
        if let Err(e) = self.refresh(&payment.id, false) {
            log::warn!("payment {}: {e}", payment.id);
        }
    }
}
