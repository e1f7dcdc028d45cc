//! The renewal thread: every cycle, each connected account whose renewal is
//! due gets at most one request per renewal payment.
//!
//! Order, for crash safety: the renewal payment and its Strike invoice are
//! made as for a manual renewal; the request is signed and written into
//! the link (`current`, and the payment into `requested`) before anything
//! is sent; then the answer is subscribed to and the request handed to the
//! outbox, which writes it to `database/outbox/` and sends it. A crash at
//! any point leaves either no request (made afresh, for a payment never
//! requested) or the one request, which is resent as itself. What the
//! wallet answers is recorded and acted on only for the connection
//! (broken, a notice); the payment is decided by Strike alone
//! ([`Checkout::refresh`]). A new attempt, with a new payment, comes only
//! once the previous payment closed unpaid (its invoice expired or was
//! cancelled), after `retry_after`.

use super::client;
use super::link::{Attempt, LinkStatus, Outcome, WalletLink};
use super::wire::{self, Answer, Reaction};
use super::{Nwc, secret};
use crate::checkout::Purchase;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::customer::Customer;
use crate::payment::{Payment, PaymentState};
use crate::relay::Targets;
use crate::store::StoreError;
use crate::timestamp::Timestamp;
use nostr::prelude::{Event, PublicKey};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Sends of one request at most (the first and two resends).
const MAX_SENDS: u32 = 3;
/// A request's `expiration`: a wallet should ignore it after that.
const REQUEST_LIFETIME: Duration = Duration::from_secs(120);

/// When the renewal from `paid_until` is first attempted.
pub fn due_at(paid_until: Timestamp, days: u32) -> Timestamp {
    Timestamp::from(paid_until.as_datetime() - chrono::Duration::days(days.into()))
}

impl Nwc {
    /// Starts the thread (one per database: `.nwc-worker.lock`).
    pub fn start(self: &Arc<Self>) {
        let nwc = self.clone();
        let spawned = std::thread::Builder::new().name("auto-renew".to_owned()).spawn(move || {
            let path = nwc.store.root().join(".nwc-worker.lock");
            let _claim = loop {
                match crate::lock_file::claim(&path) {
                    Ok(Some(claim)) => break claim,
                    Ok(None) => std::thread::sleep(nwc.settings.cycle),
                    Err(e) => return log::error!("auto-renew: cannot claim {}: {e}", path.display()),
                }
            };
            loop {
                let cycle = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| nwc.cycle()));
                if cycle.is_err() {
                    log::error!("the auto-renew thread hit a bug; carrying on");
                }
                std::thread::sleep(nwc.settings.cycle);
            }
        });
        if let Err(e) = spawned {
            log::error!("cannot start the auto-renew thread: {e}");
        }
    }

    /// One look at every connection.
    pub fn cycle(&self) {
        let links = match self.store.list_readable::<WalletLink>() {
            Ok(links) => links,
            Err(e) => return log::warn!("auto-renew: cannot list the connections: {e}"),
        };
        for link in links.into_iter().filter(|l| l.status == LinkStatus::Connected) {
            if let Err(e) = self.step(link) {
                log::warn!("auto-renew: {e}");
            }
        }
    }

    fn step(&self, link: WalletLink) -> Result<(), String> {
        let account = match self.store.get::<CpanelAccount>(&link.id) {
            Ok(account) if account.status != AccountStatus::Terminated => account,
            _ => return Ok(()),
        };
        if let Some(attempt) = link.current.clone() {
            return self.follow(&link, &attempt);
        }
        let (Some(paid_until), now) = (account.paid_until, Timestamp::now()) else { return Ok(()) };
        let waiting = link.next_attempt_at.is_some_and(|at| at > now);
        let spent = link.attempts_for == Some(paid_until) && (link.attempts >= self.settings.attempts || waiting);
        // Paid, and the accounts worker has not moved `paidUntil` yet (it may
        // lag a pass or more): this period is done, never asked for again.
        let paid = link.last.as_ref().is_some_and(|o| o.paid_until == paid_until && o.result == "paid");
        if now < due_at(paid_until, self.settings.days) || spent || paid {
            return Ok(());
        }
        self.begin(&link, paid_until)
    }

    /// A new attempt: the renewal payment, then one signed request for it.
    fn begin(&self, link: &WalletLink, paid_until: Timestamp) -> Result<(), String> {
        let customer: Customer = self.store.get(&link.customer_id).map_err(|e| e.to_string())?;
        let payment = self
            .checkout
            .create_invoice_for(&customer, Purchase::Renewal { account_id: link.id.clone() }, Some(link.periods))
            .map_err(|e| format!("account {}: cannot open the renewal: {e}", link.id))?;
        // Asked once already (a customer's own open renewal, or a crash):
        // never a second request for it; it closes, then a new one comes.
        if payment.state != PaymentState::Pending || link.requested.contains(&payment.id) {
            return Ok(());
        }
        let (Some(sats), Some(bolt11)) = (payment.quote_sats, payment.bolt11.clone()) else { return Ok(()) };
        let attempt_no = if link.attempts_for == Some(paid_until) { link.attempts + 1 } else { 1 };
        if sats > link.cap_sats {
            let message = format!("the renewal costs {sats} sats, above your cap of {} sats", link.cap_sats);
            log::info!("account {}: automatic renewal skipped: {message}", link.id);
            return self.note(&link.id, paid_until, self.settings.attempts, "skipped", &message, |_| {});
        }
        let event = self.sign(link, &bolt11)?;
        let attempt = Attempt {
            payment_id: payment.id.clone(),
            paid_until,
            request_id: event.id.to_hex(),
            request: serde_json::to_value(&event).map_err(|e| e.to_string())?,
            sats,
            invoice_expires_at: payment.expires_at,
            sent_at: Timestamp::now(),
            sends: 0,
            answer: None,
        };
        let recorded = attempt.clone();
        self.store
            .update::<WalletLink, _, StoreError>(&link.id, |l| {
                l.requested.push(recorded.payment_id.clone());
                l.current = Some(recorded.clone());
                l.attempts_for = Some(paid_until);
                l.attempts = attempt_no;
                l.updated_at = Timestamp::now();
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        log::info!("account {}: asking the wallet to pay {sats} sats (payment {})", link.id, payment.id);
        self.send(link, &attempt)
    }

    fn sign(&self, link: &WalletLink, bolt11: &str) -> Result<Event, String> {
        let keys = match secret::load(self.store.root(), &link.id) {
            Ok(Some(keys)) => keys,
            Ok(None) => return Err(format!("account {}: the connection secret is gone", link.id)),
            Err(e) => return Err(format!("account {}: cannot read the connection secret: {e}", link.id)),
        };
        let wallet = PublicKey::from_hex(&link.wallet_pubkey).map_err(|e| e.to_string())?;
        let expires = Timestamp::now().plus(REQUEST_LIFETIME).as_datetime().timestamp() as u64;
        wire::request(&keys, &wallet, link.encryption, "pay_invoice", json!({"invoice": bolt11}), expires)
    }

    /// Sends the attempt's request (the outbox's copy again, or first
    /// written there), waits for the answer, then asks Strike.
    fn send(&self, link: &WalletLink, attempt: &Attempt) -> Result<(), String> {
        let relay = self.relays.customer_relay(&link.relay)?;
        let event: Event = serde_json::from_value(attempt.request.clone()).map_err(|e| e.to_string())?;
        let keys = secret::load(self.store.root(), &link.id).ok().flatten().ok_or("the connection secret is gone")?;
        let wallet = PublicKey::from_hex(&link.wallet_pubkey).map_err(|e| e.to_string())?;
        let outbox = self.outbox.clone();
        let deliver = |_: &mut crate::relay::Connection| -> Result<(), String> {
            if !outbox.resend(&attempt.request_id).map_err(|e| e.to_string())? {
                outbox.publish(event.clone(), Targets::Relays(vec![relay.clone()])).map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        let wait = self.settings.wait;
        let peer = client::Peer { relay: &relay, keys: &keys, wallet: &wallet, encryption: link.encryption };
        let answer = client::ask(&peer, &event, wait, deliver, self.relays.timing);
        self.store
            .update::<WalletLink, _, StoreError>(&link.id, |l| {
                if let Some(current) = l.current.as_mut().filter(|c| c.request_id == attempt.request_id) {
                    current.sends += 1;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        match answer {
            Ok(Some(answer)) => self.answered(link, attempt, answer)?,
            Ok(None) => log::info!("account {}: no answer from the wallet within {} s", link.id, wait.as_secs()),
            Err(why) => log::warn!("account {}: the wallet's relay: {why}", link.id),
        }
        self.settle(link, attempt)
    }

    /// Records the wallet's word; it decides nothing about the money.
    fn answered(&self, link: &WalletLink, attempt: &Attempt, answer: Answer) -> Result<(), String> {
        let (word, message) = match &answer {
            Answer::Done(_) => ("paid".to_owned(), String::new()),
            Answer::Error { code, message } => (code.clone(), message.clone()),
        };
        log::info!("account {}: the wallet answers {word} (Strike decides)", link.id);
        let id = attempt.request_id.clone();
        let record = |l: &mut WalletLink| {
            if let Some(current) = l.current.as_mut().filter(|c| c.request_id == id) {
                current.answer = Some(word.clone());
            }
        };
        let Answer::Error { code, .. } = &answer else {
            return self
                .store
                .update::<WalletLink, _, StoreError>(&link.id, |l| {
                    record(l);
                    Ok(())
                })
                .map_err(|e| e.to_string());
        };
        let told = format!("the wallet refused: {code} {message}").trim().to_owned();
        match wire::reaction(code) {
            Reaction::Unknown => self
                .store
                .update::<WalletLink, _, StoreError>(&link.id, |l| {
                    record(l);
                    Ok(())
                })
                .map_err(|e| e.to_string()),
            Reaction::Later => self.note(&link.id, attempt.paid_until, 0, "failed", &told, record),
            Reaction::Broken => self.note(&link.id, attempt.paid_until, 0, "broken", &told, |l| {
                record(l);
                l.status = LinkStatus::Broken;
            }),
        }
    }

    /// Records an outcome (what the notices tell); `attempts`, when not 0,
    /// becomes the period's count (over the cap: no more attempts).
    fn note(
        &self,
        id: &str,
        paid_until: Timestamp,
        attempts: u32,
        result: &str,
        message: &str,
        also: impl Fn(&mut WalletLink),
    ) -> Result<(), String> {
        self.store
            .update::<WalletLink, _, StoreError>(id, |l| {
                if attempts > 0 {
                    l.attempts_for = Some(paid_until);
                    l.attempts = attempts;
                }
                let attempt = l.attempts;
                let (at, result, message) = (Timestamp::now(), result.to_owned(), message.to_owned());
                l.last = Some(Outcome { at, result, message, paid_until, attempt });
                l.updated_at = at;
                also(l);
                Ok(())
            })
            .map_err(|e| e.to_string())
    }

    /// An attempt in flight: Strike is asked; paid ends it, closed unpaid
    /// ends it for a later day, open and unanswered sends it again while
    /// its invoice has not expired.
    fn follow(&self, link: &WalletLink, attempt: &Attempt) -> Result<(), String> {
        let payment = self.payment(&attempt.payment_id)?;
        let payable = attempt.invoice_expires_at.is_none_or(|at| at > Timestamp::now());
        match payment.state {
            PaymentState::Pending if payable && attempt.answer.is_none() && attempt.sends < MAX_SENDS => {
                self.send(link, attempt)
            }
            _ => self.settle(link, attempt),
        }
    }

    /// Strike's word on the attempt's payment, and the attempt ended when
    /// the payment is no longer open.
    fn settle(&self, link: &WalletLink, attempt: &Attempt) -> Result<(), String> {
        let payment = self.payment(&attempt.payment_id)?;
        let (retry_after, paid) = (self.settings.retry_after, payment.state == PaymentState::Paid);
        let closed = matches!(payment.state, PaymentState::Expired | PaymentState::Cancelled);
        if !paid && !closed {
            return Ok(());
        }
        log::info!("account {}: automatic renewal payment {} is {}", link.id, payment.id, payment.state.as_str());
        let id = attempt.request_id.clone();
        let end = move |l: &mut WalletLink| {
            if l.current.as_ref().is_some_and(|c| c.request_id == id) {
                l.current = None;
                l.next_attempt_at = (!paid).then(|| Timestamp::now().plus(retry_after));
            }
        };
        let already =
            link.last.as_ref().is_some_and(|o| o.paid_until == attempt.paid_until && o.attempt == link.attempts);
        match (paid, already) {
            (true, _) => self.note(&link.id, attempt.paid_until, 0, "paid", &format!("{} sats", attempt.sats), end),
            (false, true) => self
                .store
                .update::<WalletLink, _, StoreError>(&link.id, |l| {
                    end(l);
                    Ok(())
                })
                .map_err(|e| e.to_string()),
            (false, false) => self.note(&link.id, attempt.paid_until, 0, "failed", "the invoice expired unpaid", end),
        }
    }

    /// The payment as Strike now says (the stored one when Strike cannot be asked).
    fn payment(&self, id: &str) -> Result<Payment, String> {
        match self.checkout.refresh(id, false) {
            Ok(payment) => Ok(payment),
            Err(e) => {
                log::warn!("auto-renew: payment {id}: {e}");
                self.store.get::<Payment>(id).map_err(|e| e.to_string())
            }
        }
    }
}
