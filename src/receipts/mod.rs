//! Issuing receipts: every PAID payment gets one numbered receipt, signed
//! by the operator's key, written into the payment once.
//!
//! How numbers stay gap-free and unique, across threads and processes (the
//! server, `hostr payment mark-paid`, a second server):
//! - one receipt is issued at a time per series, under the exclusive lock
//!   of the series' counter file (`database/receipt-series/<series>.json`,
//!   a store record, so the lock is the store's flock);
//! - under that lock the payment is read again (issued already, or not
//!   PAID: nothing to do), the number is the counter plus one, the receipt
//!   is written into the payment, and only then the counter is written;
//! - nothing else ever takes the counter's lock, and this is the only
//!   writer of a receipt, so the lock order (series, then payments) cannot
//!   deadlock;
//! - a crash between the two writes leaves a payment holding a number the
//!   counter has not recorded: the next issue finds that number taken (the
//!   unique `receiptNumber` key) and moves past it, so it is neither given
//!   twice nor skipped. A crash before the payment's write changes nothing.
//!
//! Issuing never stands in the way of payments or accounts: it runs after
//! the PAID write, on its own thread (`worker.rs`) or after the CLI's
//! write, and a failure is written on the payment (`receiptFailure`),
//! logged, retried, and reported by `hostr check`. Due receipts are issued
//! in the order the payments were paid, which also numbers the payments
//! paid before receipts existed (the first start after the upgrade).
//!
//! Publishing: with `--publish-receipts` (and relays) each new receipt's
//! event is queued in the relay outbox (`hand_to_outbox`). At start the
//! receipts issued in the last day are queued again (a no-op for those
//! already there: the outbox is keyed by event id), so a crash between
//! issuing and queueing loses no publication. Without it, receipts are only
//! served by `GET /api/receipts/<payment id>`.

pub mod event;
pub mod worker;

use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::operator_key::OperatorKey;
use crate::payment::{Payment, PaymentState, Provider};
use crate::plan::Plan;
use crate::receipt::{
    Buyer, MAIN_SERIES, Receipt, ReceiptFailure, ReceiptSeries, SANDBOX_SERIES, Seller, fixed, implied_rate, label,
};
use crate::relay::{Outbox, Targets};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use nostr::prelude::{Event, PublicKey, ToBech32};
use std::fmt;
use std::sync::Arc;

#[derive(Debug)]
pub enum ReceiptError {
    Store(StoreError),
    /// Something the receipt states cannot be read (its customer, its plan).
    Missing(String),
    Sign(String),
}

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiptError::Store(error) => write!(f, "{error}"),
            ReceiptError::Missing(what) | ReceiptError::Sign(what) => f.write_str(what),
        }
    }
}

impl From<StoreError> for ReceiptError {
    fn from(error: StoreError) -> ReceiptError {
        ReceiptError::Store(error)
    }
}

/// What one pass of [`Receipts::issue_due`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The labels given out, in order.
    pub labels: Vec<String>,
    pub failed: usize,
}

pub struct Receipts {
    store: Arc<Store>,
    operator: OperatorKey,
    seller: Seller,
    /// The relay outbox, when `--publish-receipts` is on.
    outbox: Option<Arc<Outbox>>,
    pub(crate) signal: Arc<worker::Signal>,
}

impl Receipts {
    /// Receipts of `store`, published through `outbox` when given
    /// (`--publish-receipts`).
    pub fn new(store: Arc<Store>, operator: OperatorKey, seller: Seller, outbox: Option<Arc<Outbox>>) -> Receipts {
        Receipts { store, operator, seller, outbox, signal: Arc::default() }
    }

    pub fn operator(&self) -> &OperatorKey {
        &self.operator
    }

    /// Issues every due receipt, oldest payment first. A payment that fails
    /// is recorded and left for the next pass; the others go on.
    pub fn issue_due(&self) -> Issued {
        let mut due = match self.store.find_all(Payment::receipt_due()) {
            Ok(due) => due,
            Err(error) => {
                log::error!("cannot list the payments due a receipt: {error}");
                return Issued { failed: 1, ..Issued::default() };
            }
        };
        due.sort_by(|a, b| (a.paid_at, &a.id).cmp(&(b.paid_at, &b.id)));
        let mut issued = Issued::default();
        for payment in due {
            match self.issue(&payment.id) {
                Ok(Some(receipt)) => {
                    log::info!("payment {}: receipt {} issued", payment.id, receipt.label);
                    self.hand_to_outbox(&receipt);
                    issued.labels.push(receipt.label);
                }
                Ok(None) => {}
                Err(error) => {
                    issued.failed += 1;
                    self.record_failure(&payment.id, &error);
                }
            }
        }
        issued
    }

    /// Issues the receipt of one PAID payment, unless it has one; `None`
    /// when there was nothing to do.
    pub fn issue(&self, payment_id: &str) -> Result<Option<Receipt>, ReceiptError> {
        let series = series_of(&self.store.get::<Payment>(payment_id)?);
        self.ensure_series(series)?;
        self.store.update::<ReceiptSeries, _, ReceiptError>(series, |counter| {
            let payment: Payment = self.store.get(payment_id)?;
            if payment.receipt.is_some() || payment.state != PaymentState::Paid || series_of(&payment) != series {
                return Ok(None);
            }
            let number = self.next_free(series, counter.last_number + 1)?;
            let receipt = self.build(&payment, series, number)?;
            self.store.update::<Payment, _, StoreError>(payment_id, |p| {
                p.receipt = Some(receipt.clone());
                p.receipt_failure = None;
                Ok(())
            })?;
            counter.last_number = number;
            counter.updated_at = Timestamp::now();
            Ok(Some(receipt))
        })
    }

    fn ensure_series(&self, series: &str) -> Result<(), ReceiptError> {
        match self.store.get::<ReceiptSeries>(series) {
            Err(StoreError::NotFound { .. }) => {
                let counter = ReceiptSeries { id: series.to_owned(), last_number: 0, updated_at: Timestamp::now() };
                match self.store.create(&counter) {
                    Ok(()) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
                    Err(other) => Err(other.into()),
                }
            }
            other => other.map(drop).map_err(ReceiptError::from),
        }
    }

    /// `number`, or past it when a crash left it held by a payment.
    fn next_free(&self, series: &str, mut number: u64) -> Result<u64, ReceiptError> {
        while self.store.find(Payment::by_receipt_number(series, number))?.is_some() {
            log::warn!("receipt {} was issued but not counted (a crash?); moving past it", label(series, number));
            number += 1;
        }
        Ok(number)
    }

    /// The receipt of `payment` with `number`, signed.
    fn build(&self, payment: &Payment, series: &str, number: u64) -> Result<Receipt, ReceiptError> {
        let missing = |what: &str, e: StoreError| ReceiptError::Missing(format!("its {what}: {e}"));
        let customer: Customer = self.store.get(&payment.customer_id).map_err(|e| missing("customer", e))?;
        // A plan removed by hand leaves its id; one that cannot be read is waited for.
        let plan = match self.store.get::<Plan>(&payment.plan_id) {
            Ok(plan) => Some(plan),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(missing("plan", e)),
        };
        let account = payment.account_id.as_deref().and_then(|id| self.store.get::<CpanelAccount>(id).ok());
        let issued_at = payment.paid_at.unwrap_or(payment.updated_at);
        let (period_start, period_end) = period(payment, plan.as_ref(), account.as_ref(), issued_at);
        let amount_msat = paid_msat(payment);
        let mut receipt = Receipt {
            series: series.to_owned(),
            number,
            label: label(series, number),
            issued_at,
            seller: self.seller.clone(),
            buyer: buyer(&customer),
            plan_id: payment.plan_id.clone(),
            plan_name: plan.as_ref().map_or_else(|| payment.plan_id.clone(), |plan| plan.name.clone()),
            domain: payment.domain.clone().or_else(|| account.as_ref().map(|a| a.domain.clone())),
            amount: payment.amount,
            currency: payment.currency.clone(),
            amount_msat,
            rate: rate(payment, amount_msat),
            method: if amount_msat.is_some() { "Lightning" } else { "Other means (recorded by the operator)" }.into(),
            payment_hash: payment.bolt11.as_deref().and_then(crate::bolt11::payment_hash),
            periods: payment.periods,
            period_start,
            period_end,
            previous: self.previous(payment, series)?,
            event: serde_json::Value::Null,
        };
        let signed = event::sign(&receipt, self.operator.keys()).map_err(ReceiptError::Sign)?;
        receipt.event = serde_json::to_value(&signed).map_err(|e| ReceiptError::Sign(e.to_string()))?;
        Ok(receipt)
    }

    /// The event id of the newest receipt of the payment's account in `series`.
    fn previous(&self, payment: &Payment, series: &str) -> Result<Option<String>, ReceiptError> {
        let Some(account_id) = payment.account_id.as_deref() else { return Ok(None) };
        let chain = self.store.find_all(Payment::receipts_of_account(account_id))?;
        let newest =
            chain.iter().filter_map(|p| p.receipt.as_ref()).filter(|r| r.series == series).max_by_key(|r| r.number);
        Ok(newest.and_then(|r| r.event.get("id")?.as_str().map(str::to_owned)))
    }

    /// Writes why the receipt failed on the payment (best effort: the
    /// failure may be that the payment cannot be written).
    fn record_failure(&self, payment_id: &str, error: &ReceiptError) {
        log::error!("payment {payment_id}: cannot issue its receipt yet (tried again later): {error}");
        let reason = error.to_string();
        let recorded = self.store.update::<Payment, _, StoreError>(payment_id, |p| {
            let attempts = p.receipt_failure.as_ref().map_or(0, |f| f.attempts) + 1;
            p.receipt_failure = Some(ReceiptFailure { reason: reason.clone(), at: Timestamp::now(), attempts });
            Ok(())
        });
        if let Err(e) = recorded {
            log::error!("payment {payment_id}: cannot record the receipt failure either: {e}");
        }
    }

    /// Queues a new receipt's event for the operator's relays, when
    /// publishing is on; a failure is logged (the next start queues it again).
    fn hand_to_outbox(&self, receipt: &Receipt) {
        let Some(outbox) = &self.outbox else { return };
        let queued = serde_json::from_value::<Event>(receipt.event.clone())
            .map_err(|e| e.to_string())
            .and_then(|event| outbox.publish(event, Targets::Configured).map_err(|e| e.to_string()));
        if let Err(e) = queued {
            log::error!("receipt {}: not queued for the relays: {e}", receipt.label);
        }
    }

    /// Queues again the receipts issued in the last day (see the module's
    /// doc): what a crash kept from the outbox reaches it now.
    pub fn requeue_recent(&self) {
        if self.outbox.is_none() {
            return;
        }
        let since = Timestamp::from(Timestamp::now().as_datetime() - chrono::Duration::days(1));
        match self.store.list_readable::<Payment>() {
            Ok(payments) => {
                let recent = payments.iter().filter_map(|p| p.receipt.as_ref()).filter(|r| r.issued_at >= since);
                recent.for_each(|receipt| self.hand_to_outbox(receipt));
            }
            Err(error) => log::error!("cannot list the payments to queue their receipts: {error}"),
        }
    }
}

/// The series a payment's receipt belongs to: sandbox payments apart.
pub fn series_of(payment: &Payment) -> &'static str {
    if payment.mode() == Provider::Sandbox { SANDBOX_SERIES } else { MAIN_SERIES }
}

/// What was paid in msat: the plan's own bitcoin amount, else the sats
/// the quote asked for, else what the BOLT11 says.
fn paid_msat(payment: &Payment) -> Option<u64> {
    let sats = payment.currency.sats(payment.amount).or(payment.quote_sats);
    let from_sats = sats.and_then(|sats| u64::try_from(sats).ok()?.checked_mul(1000));
    from_sats.or_else(|| payment.bolt11.as_deref().and_then(crate::bolt11::amount_msat))
}

/// Units of the payment's currency per BTC: the rate the quote was made at
/// (the provider's), else the one the invoice implies; none for bitcoin prices.
fn rate(payment: &Payment, msat: Option<u64>) -> Option<String> {
    if payment.currency.is_bitcoin() {
        return None;
    }
    match &payment.quote_rate {
        Some(rate) if rate.target_currency == payment.currency => Some(fixed(rate.amount, &rate.target_currency)),
        _ => implied_rate(payment.amount, msat),
    }
}

/// The period paid for as known now: the one fulfilment recorded, else the
/// one the account applied for this payment, else the next period of the
/// account (from the payment for a new one).
fn period(
    payment: &Payment,
    plan: Option<&Plan>,
    account: Option<&CpanelAccount>,
    paid_at: Timestamp,
) -> (Option<Timestamp>, Option<Timestamp>) {
    if payment.period_start.is_some() {
        return (payment.period_start, payment.period_end);
    }
    let applied = account.and_then(|a| a.applied_payments.iter().find(|applied| applied.payment_id == payment.id));
    if let Some(applied) = applied {
        return (Some(applied.from), Some(applied.until));
    }
    let Some(plan) = plan else { return (None, None) };
    let start = account.map_or(paid_at, |a| a.renews_from(paid_at));
    (Some(start), Some(plan.billing_cycle.after_periods(start, payment.periods)))
}

/// The customer as a receipt names them.
fn buyer(customer: &Customer) -> Buyer {
    let npub = PublicKey::from_hex(&customer.public_key).ok().and_then(|key| key.to_bech32().ok()).unwrap_or_default();
    let metadata = customer.metadata.as_ref();
    let verified = metadata.and_then(|m| m.nip05_check.as_ref()).filter(|check| check.valid);
    Buyer {
        public_key: customer.public_key.clone(),
        npub,
        name: metadata.and_then(|m| m.display_name.clone().or_else(|| m.name.clone())),
        email: customer.email.clone(),
        nip05: verified.map(|check| check.identifier.clone()),
    }
}
