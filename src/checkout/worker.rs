//! The payment worker: the background thread that settles payments.
//!
//! It re-reads the invoices webhooks point at, and every poll interval
//! makes a pass over the pending payments, so a lost webhook (or none
//! configured) still ends in PAID. Webhooks are only hints: every change
//! goes through `Checkout::refresh`, which asks the provider itself.
//!
//! What it costs is bounded by the provider's budget (`budget.rs`), not by
//! the number of payments: a pass refreshes one payment whenever the budget
//! allows a call at background priority, which leaves a reserve to pages
//! and webhooks, and between any two payments the webhook hints that came
//! in are served first. With the budget spent the worker waits; nothing is
//! lost, a hint that could not be read is read later.
//!
//! Webhooks carry no timestamp, so a signed one can be replayed at will.
//! Within `HINT_WINDOW` of reading an invoice, a hint naming an event seen
//! for it already is a replay and costs nothing; a new event (a real change)
//! is read at once; hints without an event id are answered by one more read
//! at the end of the window.

use super::budget::{Call, Priority};
use super::provider::ProviderError;
use super::{Checkout, CheckoutError};
use crate::payment::Payment;
use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Webhook hints waiting at most; beyond it they are dropped (the poller
/// still finds those payments).
const WEBHOOK_QUEUE: usize = 1024;

/// How long after reading an invoice its events are remembered as read.
const HINT_WINDOW: Duration = Duration::from_secs(30);

/// Invoices whose hints are remembered; past it, those whose window is
/// over are forgotten.
const MAX_TRACKED_INVOICES: usize = 10_000;

/// Event ids remembered per invoice within its window.
const MAX_EVENTS_PER_INVOICE: usize = 16;

/// The longest the worker sleeps without looking at the clock again.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// A webhook's invoice id, and the id of its event when it had one.
pub(super) struct Hint {
    invoice_id: String,
    event_id: Option<String>,
}

/// Hints from the provider's webhooks, for the worker to re-read.
pub(super) struct Hints {
    sender: SyncSender<Hint>,
    /// Taken by the one worker that starts.
    inbox: Mutex<Option<Receiver<Hint>>>,
}

impl Hints {
    pub(super) fn new() -> Hints {
        let (sender, inbox) = sync_channel(WEBHOOK_QUEUE);
        Hints { sender, inbox: Mutex::new(Some(inbox)) }
    }
}

impl Checkout {
    /// Passes a webhook's invoice id (and event id) to the payment worker;
    /// never blocks.
    pub fn hint_invoice(&self, invoice_id: String, event_id: Option<String>) {
        if self.hints.sender.try_send(Hint { invoice_id, event_id }).is_err() {
            log::warn!("webhook queue full or closed; the poller will find the payment");
        }
    }

    /// Starts the payment worker, polling every `poll_interval`; a second
    /// call does nothing.
    pub fn start(self: &Arc<Self>, poll_interval: Duration) {
        let Some(inbox) = self.hints.inbox.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let worker = Worker {
            checkout: self.clone(),
            inbox,
            book: HintBook::new(HINT_WINDOW),
            ready: VecDeque::new(),
            pass: VecDeque::new(),
            poll_interval,
            next_poll: Instant::now(),
        };
        let spawned = std::thread::Builder::new().name("payments".to_owned()).spawn(move || worker.run());
        if let Err(e) = spawned {
            log::error!("cannot start the payment worker: {e}");
        }
    }

    /// How long until the provider may be read at `priority`.
    fn budget_wait(&self, priority: Priority) -> Duration {
        self.provider.budget().map_or(Duration::ZERO, |budget| budget.wait(Call::Other, priority))
    }
}

struct Worker {
    checkout: Arc<Checkout>,
    inbox: Receiver<Hint>,
    book: HintBook,
    /// Invoices to read for webhooks, in the order they came.
    ready: VecDeque<String>,
    /// The payments the current pass has still to look at.
    pass: VecDeque<String>,
    poll_interval: Duration,
    next_poll: Instant,
}

/// What the worker does next.
enum Job {
    Hint(String),
    Payment(String),
    Wait(Duration),
}

impl Worker {
    fn run(mut self) {
        loop {
            while let Ok(hint) = self.inbox.try_recv() {
                self.offer(hint);
            }
            let now = Instant::now();
            for invoice in self.book.due(now) {
                self.queue(invoice);
            }
            let job = self.next_job(now);
            if let Job::Wait(wait) = job {
                match self.inbox.recv_timeout(wait) {
                    Ok(hint) => self.offer(hint),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                continue;
            }
            // A bug must not end the settling of payments for good.
            let survived = catch_unwind(AssertUnwindSafe(|| match job {
                Job::Hint(invoice) => self.settle_hinted(&invoice),
                Job::Payment(payment) => settle(&self.checkout, &payment),
                Job::Wait(_) => {}
            }));
            if survived.is_err() {
                log::error!("the payment worker hit a bug; carrying on");
            }
        }
    }

    /// A webhook hint first, then the next payment of the pass (starting a
    /// pass when one is due), each when the budget allows; else how long
    /// until one of them could be done.
    fn next_job(&mut self, now: Instant) -> Job {
        let foreground = self.checkout.budget_wait(Priority::Foreground);
        if foreground.is_zero()
            && let Some(invoice) = self.ready.pop_front()
        {
            return Job::Hint(invoice);
        }
        if self.pass.is_empty() && now >= self.next_poll {
            self.start_pass(now);
        }
        let background = self.checkout.budget_wait(Priority::Background);
        if background.is_zero()
            && let Some(payment) = self.pass.pop_front()
        {
            return Job::Payment(payment);
        }
        let mut wait = if self.pass.is_empty() { self.next_poll.saturating_duration_since(now) } else { background };
        if !self.ready.is_empty() {
            wait = wait.min(foreground);
        }
        if let Some(due) = self.book.next_due() {
            wait = wait.min(due.saturating_duration_since(now));
        }
        Job::Wait(wait.clamp(Duration::from_millis(1), MAX_SLEEP))
    }

    /// The pending payments, found through the lookup table: the pass costs
    /// what is pending, not what was ever paid.
    fn start_pass(&mut self, now: Instant) {
        self.next_poll = now + self.poll_interval;
        match self.checkout.store.find_all(Payment::open_pending()) {
            Ok(pending) => self.pass = pending.into_iter().map(|p| p.id).collect(),
            Err(e) => log::error!("cannot list pending payments: {e}"),
        }
    }

    fn offer(&mut self, hint: Hint) {
        if self.book.offer(&hint.invoice_id, hint.event_id.as_deref(), Instant::now()) {
            self.queue(hint.invoice_id);
        }
    }

    fn queue(&mut self, invoice: String) {
        if self.ready.contains(&invoice) {
            return;
        }
        if self.ready.len() >= WEBHOOK_QUEUE {
            log::warn!("too many webhook hints waiting; the poller will find the payment of invoice {invoice}");
            return;
        }
        self.ready.push_back(invoice);
    }

    /// A webhook said an invoice changed: re-read it from the provider and
    /// act on what the provider says. Unknown invoices change nothing; one
    /// that could not be read because reads are held back (Strike said to
    /// wait) goes back in the queue, to be read once they may be made.
    fn settle_hinted(&mut self, invoice_id: &str) {
        match self.checkout.store.find(Payment::by_invoice(invoice_id)) {
            Ok(Some(payment)) => match self.checkout.refresh(&payment.id, false) {
                Err(CheckoutError::Provider(ProviderError::RateLimited { .. }))
                    if !self.checkout.budget_wait(Priority::Foreground).is_zero() =>
                {
                    self.queue(invoice_id.to_owned());
                }
                Err(e) => log::warn!("payment {}: {e}", payment.id),
                Ok(_) => {}
            },
            Ok(None) => log::info!("webhook for invoice {invoice_id}, which is not one of ours"),
            Err(e) => log::error!("webhook for invoice {invoice_id}: {e}"),
        }
    }
}

/// A failure is only logged: the next pass tries again.
fn settle(checkout: &Checkout, payment_id: &str) {
    if let Err(e) = checkout.refresh(payment_id, false) {
        log::warn!("payment {payment_id}: {e}");
    }
}

/// Which invoices webhooks asked about lately, and which events for them.
struct HintBook {
    window: Duration,
    seen: HashMap<String, Seen>,
}

struct Seen {
    /// When the invoice was last queued to be read.
    read_at: Instant,
    events: Vec<String>,
    /// A hint without an event id came within the window: read it once
    /// more at the window's end.
    again: bool,
}

impl HintBook {
    fn new(window: Duration) -> HintBook {
        HintBook { window, seen: HashMap::new() }
    }

    /// Whether a hint for `invoice` (from `event`) is to be read now. Within
    /// the window of the last read, a known event is a replay and changes
    /// nothing, a new one is read (and starts the window again), and one
    /// without an id is kept for one read at the window's end.
    fn offer(&mut self, invoice: &str, event: Option<&str>, now: Instant) -> bool {
        if self.seen.len() >= MAX_TRACKED_INVOICES {
            let window = self.window;
            self.seen.retain(|_, seen| seen.again || now < seen.read_at + window);
        }
        match self.seen.get_mut(invoice) {
            Some(seen) if now < seen.read_at + self.window => match event {
                Some(event) if seen.events.iter().any(|known| known == event) => false,
                Some(event) => {
                    if seen.events.len() >= MAX_EVENTS_PER_INVOICE {
                        seen.events.remove(0);
                    }
                    seen.events.push(event.to_owned());
                    seen.read_at = now;
                    true
                }
                None => {
                    seen.again = true;
                    false
                }
            },
            _ => {
                let events = event.map(str::to_owned).into_iter().collect();
                self.seen.insert(invoice.to_owned(), Seen { read_at: now, events, again: false });
                true
            }
        }
    }

    /// The invoices whose window is over with another read owed; their
    /// window starts again now.
    fn due(&mut self, now: Instant) -> Vec<String> {
        let window = self.window;
        let mut due = Vec::new();
        for (invoice, seen) in self.seen.iter_mut().filter(|(_, seen)| seen.again && now >= seen.read_at + window) {
            (seen.again, seen.read_at) = (false, now);
            due.push(invoice.clone());
        }
        due
    }

    fn next_due(&self) -> Option<Instant> {
        self.seen.values().filter(|seen| seen.again).map(|seen| seen.read_at + self.window).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_within_the_window_cost_nothing_and_new_events_are_read() {
        let mut book = HintBook::new(Duration::from_secs(30));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(book.offer("inv", Some("e1"), t0), "the first hint is read at once");
        for s in 0..30 {
            assert!(!book.offer("inv", Some("e1"), at(s)), "a replay at {s} s");
        }
        assert_eq!(book.next_due(), None, "replays owe nothing");
        assert!(book.offer("other", Some("e1"), at(1)), "other invoices have their own window");
        assert!(book.offer("inv", Some("e2"), at(2)), "a new event is a change: read at once");
        assert!(!book.offer("inv", Some("e1"), at(31)), "the window started again with it");
        assert!(!book.offer("inv", Some("e2"), at(31)));
        assert!(book.offer("inv", Some("e1"), at(32)), "after the window, a replay is read again");
    }

    #[test]
    fn hints_without_an_event_id_cost_one_read_at_the_end_of_the_window() {
        let mut book = HintBook::new(Duration::from_secs(30));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(book.offer("inv", None, t0));
        for s in 1..10 {
            assert!(!book.offer("inv", None, at(s)));
        }
        assert_eq!(book.next_due(), Some(at(30)));
        assert!(book.due(at(29)).is_empty());
        assert_eq!(book.due(at(30)), vec!["inv".to_owned()], "one read for all of them");
        assert!(book.due(at(31)).is_empty(), "and only one");
    }
}
