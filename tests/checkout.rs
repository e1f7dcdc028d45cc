//! Checkout called directly, without a socket: a temporary database and the
//! sandbox provider, with the test playing the wallet (settling invoices)
//! and the clock (moving a payment's times back).

use crate::common::{customer, key, temp_dir};
use hostr::checkout::provider::{InvoiceState, PaymentProvider};
use hostr::checkout::sandbox::SandboxPayments;
use hostr::checkout::{Checkout, Purchase};
use hostr::customer::Customer;
use hostr::payment::{FulfilmentStatus, Payment, PaymentState};
use hostr::plan::Plan;
use hostr::store::{Store, StoreError};
use hostr::timestamp::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LIFETIME: Duration = Duration::from_secs(3600);

struct Shop {
    store: Arc<Store>,
    wallet: Arc<SandboxPayments>,
    checkout: Checkout,
    buyer: Customer,
    /// How many times checkout said a payment turned PAID.
    paid_hooks: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

fn shop() -> Shop {
    let dir = temp_dir();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create(&Plan::seed(Timestamp::now())).unwrap();
    let buyer = customer(&key(1), None);
    store.create(&buyer).unwrap();
    let wallet = Arc::new(SandboxPayments::default());
    let checkout = Checkout::new(store.clone(), wallet.clone(), LIFETIME);
    let paid_hooks = Arc::new(AtomicUsize::new(0));
    let heard = paid_hooks.clone();
    checkout.when_paid(Box::new(move || {
        heard.fetch_add(1, Ordering::SeqCst);
    }));
    Shop { store, wallet, checkout, buyer, paid_hooks, _dir: dir }
}

impl Shop {
    fn buy(&self, domain: &str) -> Payment {
        // The buyer's file as it is now: opening a payment lists it there.
        let buyer: Customer = self.store.get(&self.buyer.id).unwrap();
        let purchase = Purchase::NewAccount { plan_id: "basic".into(), domain: domain.into() };
        self.checkout.create_invoice(&buyer, purchase).unwrap()
    }

    fn stored(&self, payment: &Payment) -> Payment {
        self.store.get(&payment.id).unwrap()
    }

    /// Changes the payment's file as time passing (or a hand edit) would.
    fn edit(&self, payment: &Payment, change: impl FnOnce(&mut Payment)) {
        self.store
            .update::<Payment, _, StoreError>(&payment.id, |p| {
                change(p);
                Ok(())
            })
            .unwrap();
    }

    fn hooks(&self) -> usize {
        self.paid_hooks.load(Ordering::SeqCst)
    }
}

fn invoice_id(payment: &Payment) -> &str {
    payment.strike_invoice_id.as_deref().expect("the payment has an invoice")
}

fn ago(seconds: i64) -> Timestamp {
    Timestamp::from(chrono::Utc::now() - chrono::Duration::seconds(seconds))
}

#[test]
fn a_payment_is_written_with_its_sandbox_invoice_and_quote() {
    let shop = shop();
    let payment = shop.buy("Example.COM.");
    assert_eq!(
        (payment.state, payment.domain.as_deref(), payment.sandbox),
        (PaymentState::Pending, Some("example.com"), true)
    );
    assert!(payment.bolt11.as_deref().is_some_and(|b| b.starts_with("lnsandbox")));
    let invoice = shop.wallet.find_invoice(invoice_id(&payment)).unwrap().unwrap();
    assert_eq!((invoice.state, invoice.correlation_id.as_deref()), (InvoiceState::Unpaid, Some(payment.id.as_str())));
    assert_eq!(shop.buy("example.com").id, payment.id, "the same open purchase gets the same payment");
    assert_eq!(shop.store.get::<Customer>(&shop.buyer.id).unwrap().payment_ids, std::slice::from_ref(&payment.id));
}

#[test]
fn a_paid_sandbox_invoice_makes_the_payment_paid_once() {
    let shop = shop();
    let payment = shop.buy("paid.example");
    let unpaid = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!((unpaid.state, shop.hooks()), (PaymentState::Pending, 0), "nothing paid yet");

    assert!(shop.wallet.settle(invoice_id(&payment)));
    let paid = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!(paid.state, PaymentState::Paid);
    assert_eq!(paid.fulfilment.status, FulfilmentStatus::Provisioning, "fulfilment begins in the same write");
    assert!(paid.paid_at.is_some());
    assert_eq!(shop.hooks(), 1, "the accounts worker is woken");
    assert_eq!(shop.stored(&payment), paid, "what was answered is what was written");

    let again = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!((again.paid_at, again.updated_at), (paid.paid_at, paid.updated_at), "recorded once");
    assert_eq!(shop.hooks(), 1, "and announced once");
}

#[test]
fn an_expired_quote_is_replaced_only_when_the_page_asks() {
    let shop = shop();
    let payment = shop.buy("quote.example");
    let stale = ago(120);
    shop.edit(&payment, |p| p.expires_at = Some(stale));

    let kept = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!(kept.expires_at, Some(stale), "no new quote unasked");

    let fresh = shop.checkout.refresh(&payment.id, true).unwrap();
    assert_eq!(fresh.state, PaymentState::Pending);
    assert!(fresh.expires_at.is_some_and(|at| at.as_datetime() > chrono::Utc::now()), "a new quote");
    assert_eq!(fresh.strike_invoice_id, payment.strike_invoice_id, "for the same invoice");
    assert!(fresh.bolt11.is_some());
}

#[test]
fn past_its_lifetime_a_payment_expires_and_its_invoice_is_cancelled_first() {
    let shop = shop();
    let payment = shop.buy("late.example");
    shop.edit(&payment, |p| {
        p.created_at = ago(LIFETIME.as_secs() as i64 + 10);
        p.expires_at = Some(ago(120));
    });
    // Not even a requested quote is handed out once the lifetime is over.
    let expired = shop.checkout.refresh(&payment.id, true).unwrap();
    assert_eq!(expired.state, PaymentState::Expired);
    let invoice = shop.wallet.find_invoice(invoice_id(&payment)).unwrap().unwrap();
    assert_eq!(invoice.state, InvoiceState::Cancelled, "no wallet can pay it any more");
    assert_eq!(shop.hooks(), 0);
}

#[test]
fn money_paid_as_the_payment_closed_is_still_recorded() {
    let shop = shop();
    let payment = shop.buy("race.example");
    assert!(shop.wallet.settle(invoice_id(&payment)));
    // Closed by an earlier pass that had not yet seen the payment.
    shop.edit(&payment, |p| p.state = PaymentState::Expired);
    let paid = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!((paid.state, shop.hooks()), (PaymentState::Paid, 1));
}

#[test]
fn a_cancelled_invoice_cancels_the_payment() {
    let shop = shop();
    let payment = shop.buy("cancel.example");
    shop.wallet.cancel_invoice(invoice_id(&payment)).unwrap();
    let cancelled = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!(cancelled.state, PaymentState::Cancelled);
    assert!(!shop.wallet.settle("not-an-invoice-of-this-sandbox"));
}

#[test]
fn an_invoice_for_another_amount_is_never_taken_as_paid() {
    let shop = shop();
    let payment = shop.buy("amount.example");
    assert!(shop.wallet.settle(invoice_id(&payment)));
    shop.edit(&payment, |p| p.amount = "6".parse().unwrap());
    let untouched = shop.checkout.refresh(&payment.id, false).unwrap();
    assert_eq!((untouched.state, shop.hooks()), (PaymentState::Pending, 0));
}

#[test]
fn page_checks_are_paced_but_refreshes_are_not() {
    let shop = shop();
    let payment = shop.buy("paced.example");
    assert_eq!(shop.checkout.check(&payment.id, false).unwrap().state, PaymentState::Pending);
    assert!(shop.wallet.settle(invoice_id(&payment)));
    let paced = shop.checkout.check(&payment.id, false).unwrap();
    assert_eq!(paced.state, PaymentState::Pending, "a second check within the second only reads the file");
    assert_eq!(shop.checkout.refresh(&payment.id, false).unwrap().state, PaymentState::Paid);
}
