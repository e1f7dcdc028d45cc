//! What one customer's purchases may cost: a few open at once, cancelled by
//! the customer at Strike (never into a loss), and every Strike call paid
//! from one budget shared by pages, webhooks and the background poller,
//! which serves webhooks first and never spends the pages' reserve.

use crate::common::fake_strike::{FakeStrike, Fault, KEY};
use crate::common::{Reply, TestServer, temp_dir};
use crate::payments::{SECRET, buy, customer, event_for, eventually, server, signed, stored, webhook};
use hostr::checkout::Checkout;
use hostr::checkout::budget::Limits;
use hostr::checkout::provider::PaymentProvider;
use hostr::payment::{FulfilmentStatus, Payment, PaymentState};
use hostr::rate_limit::Rate;
use hostr::store::Store;
use hostr::strike::StrikeClient;
use hostr::timestamp::Timestamp;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cancel(server: &TestServer, token: &str, payment_id: &str) -> Reply {
    server.browser("POST", "/api/cancel-invoice", token, Some(&json!({"paymentId": payment_id}).to_string()))
}

fn check(server: &TestServer, token: &str, payment_id: &str, refresh: bool) -> Reply {
    let path = format!("/api/check-invoice?paymentId={payment_id}{}", if refresh { "&refresh=true" } else { "" });
    server.authed("GET", &path, token, None)
}

/// The payment id and Strike invoice id of a successful purchase.
fn ids(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    let payment = &reply.json()["payment"];
    let id = |field: &str| payment[field].as_str().unwrap_or_default().to_owned();
    (id("id"), id("strikeInvoiceId"))
}

/// Waits (bounded) until `done` holds.
fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `count` PENDING payments with unpaid invoices at the fake, and one that
/// expired unpaid but whose invoice was paid late, as the files would hold
/// them; the invoices are made with a client of their own, so that they
/// spend nothing of the budget under test. Returns the late one's ids.
fn junk_and_one_paid_late(store: &Store, fake: &FakeStrike, count: usize) -> (String, String) {
    let plenty = Rate::per_minute(1000, 1000);
    let limits = Limits { new_invoice: plenty, new_quote: plenty, other: plenty };
    let maker = StrikeClient::new(&fake.url, KEY).with_limits(limits);
    let plan = hostr::plan::Plan::seed(Timestamp::now());
    let customer_id = hostr::ids::new_uuid();
    let mut late = (String::new(), String::new());
    for n in 0..=count {
        let mut payment = Payment::pending(&customer_id, &plan, hostr::ids::new_uuid(), None, Timestamp::now());
        let invoice = maker.issue_invoice(&payment.id, "junk", payment.amount, &payment.currency).unwrap();
        if n == count {
            payment.state = PaymentState::Expired;
            fake.set_state(&invoice.id, "PAID");
            late = (payment.id.clone(), invoice.id.clone());
        }
        payment.strike_invoice_id = Some(invoice.id);
        store.create(&payment).unwrap();
    }
    late
}

#[test]
fn a_customer_has_at_most_three_open_purchases_and_the_same_one_is_reused() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    let first = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "one.example"}))).0;
    for domain in ["two.example", "three.example"] {
        assert_eq!(buy(&server, &token, json!({"planId": "basic", "domain": domain})).status, 201);
    }
    let strike_calls = fake.calls("POST ");
    let fourth = buy(&server, &token, json!({"planId": "basic", "domain": "four.example"}));
    assert_eq!((fourth.status, fourth.error_code().as_str()), (429, "too_many_open_purchases"));
    let said = fourth.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(said.contains("3 purchases waiting to be paid") && said.contains("cancel"), "{said}");
    assert_eq!(fake.calls("POST "), strike_calls, "a refused purchase costs Strike nothing");
    let again = buy(&server, &token, json!({"planId": "basic", "domain": "ONE.example"}));
    assert_eq!(ids(&again).0, first, "the same plan and domain is the open purchase, even at the cap");

    // Others are not held back by this customer, and cancelling makes room.
    let other = customer(&server);
    assert_eq!(buy(&server, &other, json!({"planId": "basic", "domain": "five.example"})).status, 201);
    assert_eq!(cancel(&server, &token, &first).status, 200);
    assert_eq!(buy(&server, &token, json!({"planId": "basic", "domain": "four.example"})).status, 201);
    let profile = server.authed("GET", "/api/profile", &token, None).json();
    let open = profile["payments"].as_array().unwrap().iter().filter(|p| p["state"] == "PENDING").count();
    assert_eq!(open, 3);
}

#[test]
fn the_cap_is_configurable_and_holds_against_simultaneous_requests() {
    let (server, _dir) = server(None, |c| c.max_open_purchases = 2);
    let server = Arc::new(server);
    let token = Arc::new(customer(&server));
    let clicks: Vec<_> = (0..6)
        .map(|n| {
            let (server, token) = (server.clone(), token.clone());
            std::thread::spawn(move || {
                buy(&server, &token, json!({"planId": "basic", "domain": format!("d{n}.example")}))
            })
        })
        .collect();
    let mut statuses: Vec<u16> = clicks.into_iter().map(|t| t.join().unwrap().status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 201, 429, 429, 429, 429]);
}

#[test]
fn a_customer_cancels_an_open_purchase_at_strike_and_the_domain_is_free_at_once() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let (token, other) = (customer(&server), customer(&server));
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "cancel.example"})));
    let taken = buy(&server, &other, json!({"planId": "basic", "domain": "cancel.example"}));
    assert_eq!(taken.error_code(), "domain_taken", "held while open");

    // Only the customer, from the site's own pages, cancels it.
    let body = json!({"paymentId": id}).to_string();
    let cookie = format!("hostr_session={token}");
    let forged = server.request(
        "POST",
        "/api/cancel-invoice",
        &[("Cookie", &cookie), ("Origin", "https://evil.example")],
        Some(&body),
    );
    assert_eq!((forged.status, forged.error_code().as_str()), (403, "cross_origin"));
    let theirs = cancel(&server, &other, &id);
    assert_eq!((theirs.status, theirs.error_code().as_str()), (403, "not_your_payment"));
    assert_eq!(cancel(&server, &token, "not-an-id").status, 400);
    let unsigned = server.request("POST", "/api/cancel-invoice", &[], Some(&body));
    assert_eq!(unsigned.status, 401);
    assert_eq!(
        (stored(&server, &id).state, fake.state.lock().unwrap().invoices[&invoice].state),
        (PaymentState::Pending, "UNPAID")
    );

    let cancelled = cancel(&server, &token, &id);
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.json());
    assert_eq!(cancelled.json()["payment"]["state"], "CANCELLED");
    assert_eq!(fake.state.lock().unwrap().invoices[&invoice].state, "CANCELLED", "no wallet can pay it now");
    assert_eq!(fake.calls(&format!("PATCH /v1/invoices/{invoice}/cancel")), 1, "Strike's cancel endpoint");
    assert_eq!(
        buy(&server, &other, json!({"planId": "basic", "domain": "cancel.example"})).status,
        201,
        "free at once"
    );

    // Cancelling again changes nothing and asks Strike nothing.
    let again = cancel(&server, &token, &id);
    assert_eq!((again.status, again.json()["payment"]["state"].as_str()), (200, Some("CANCELLED")));
    assert_eq!(fake.calls("PATCH "), 1);
}

#[test]
fn a_purchase_paid_at_strike_is_never_cancelled_into_a_loss() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);

    // Paid just before the click: Strike refuses the cancel, and the money is recorded.
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "paid.example"})));
    fake.set_state(&invoice, "PAID");
    let refused = cancel(&server, &token, &id);
    assert_eq!((refused.status, refused.error_code().as_str()), (409, "already_paid"));
    let paid = stored(&server, &id);
    assert_eq!(paid.state, PaymentState::Paid);
    assert_ne!(paid.fulfilment.status, FulfilmentStatus::None, "fulfilment started");
    assert_eq!(fake.state.lock().unwrap().invoices[&invoice].state, "PAID");
    assert_eq!(cancel(&server, &token, &id).error_code(), "already_paid");

    // Being paid right now: nothing is cancelled, nothing changes.
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "paying.example"})));
    fake.set_state(&invoice, "PENDING");
    let refused = cancel(&server, &token, &id);
    assert_eq!((refused.status, refused.error_code().as_str()), (409, "payment_in_progress"));
    assert_eq!(stored(&server, &id).state, PaymentState::Pending);

    // Strike cannot be reached: the customer is told, the purchase stays open.
    let (id, _) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "later.example"})));
    for _ in 0..4 {
        fake.fault(Fault::Status(503, "SERVICE_UNAVAILABLE")); // the cancel, and three reads after it
    }
    let failed = cancel(&server, &token, &id);
    assert_eq!((failed.status, failed.error_code().as_str()), (502, "payment_provider_error"));
    assert_eq!(stored(&server, &id).state, PaymentState::Pending);
    assert_eq!(cancel(&server, &token, &id).status, 200, "and can cancel it once Strike answers");
}

#[test]
fn a_purchase_whose_invoice_answer_was_lost_is_cancelled_at_strike_too() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    // Strike makes the invoice, but its answer is an error.
    fake.fault(Fault::Status(503, "SERVICE_UNAVAILABLE"));
    assert_eq!(buy(&server, &token, json!({"planId": "basic", "domain": "lost.example"})).status, 502);
    let id =
        server.authed("GET", "/api/profile", &token, None).json()["payments"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored(&server, &id).strike_invoice_id, None, "hostr never learnt the invoice's id");
    let cancelled = cancel(&server, &token, &id);
    assert_eq!((cancelled.status, cancelled.json()["payment"]["state"].as_str()), (200, Some("CANCELLED")));
    let at_strike: Vec<_> =
        fake.state.lock().unwrap().invoices.values().map(|i| (i.correlation_id.clone(), i.state)).collect();
    assert_eq!(at_strike, [(id, "CANCELLED")], "found by the payment's id and cancelled, so nobody can pay it");
}

#[test]
fn with_strikes_allowance_spent_pages_answer_from_the_file_and_nobody_asks_strike() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |c| c.payment_poll_interval = Duration::from_secs(1));
    let token = customer(&server);
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "spent.example"})));
    // Whoever reads from Strike next (this page or the poller) is told to wait an hour.
    fake.fault(Fault::RateLimit(3600));
    std::thread::sleep(Duration::from_millis(1100)); // page checks are paced to one a second
    let first = check(&server, &token, &id, true);
    assert_eq!((first.status, first.json()["payment"]["state"].as_str()), (200, Some("PENDING")), "the stored payment");
    let asked = || fake.calls("GET ") + fake.calls("PATCH ") + fake.calls("POST ");
    let before = asked();

    fake.set_state(&invoice, "PAID");
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(1100));
        let answer = check(&server, &token, &id, true);
        assert_eq!((answer.status, answer.json()["payment"]["state"].as_str()), (200, Some("PENDING")));
    }
    let event = event_for(&invoice);
    assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    std::thread::sleep(Duration::from_millis(2500)); // two passes of the poller
    assert_eq!(asked(), before, "not the pages, the webhook or the poller: nobody asked Strike");
    assert_eq!(stored(&server, &id).state, PaymentState::Pending, "nothing was decided without Strike");
}

#[test]
fn a_webhook_that_arrives_while_strike_says_wait_is_read_when_it_may_be() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "wait.example"})));
    fake.set_state(&invoice, "PAID");
    fake.fault(Fault::RateLimit(1));
    let event = event_for(&invoice);
    assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    assert_eq!(eventually(&server, &id, |p| p.state == PaymentState::Paid).state, PaymentState::Paid, "only later");
    assert!(fake.calls(&format!("GET /v1/invoices/{invoice}")) >= 2, "read once (told to wait), then again");
}

#[test]
fn replays_of_one_webhook_cost_one_strike_read() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    let (id, invoice) = ids(&buy(&server, &token, json!({"planId": "basic", "domain": "replay.example"})));
    let reads = || fake.calls(&format!("GET /v1/invoices/{invoice}"));
    let before = reads();
    let event = event_for(&invoice);
    for _ in 0..20 {
        assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    }
    until("the first delivery to be read", || reads() > before);
    // A new event is a real change and is read at once; the worker takes
    // hints in order, so once it is read every replay before it was seen.
    fake.set_state(&invoice, "PAID");
    let change = event_for(&invoice);
    assert_eq!(webhook(&server, &change, Some(&signed(&change, SECRET))), 200);
    assert_eq!(eventually(&server, &id, |p| p.state == PaymentState::Paid).state, PaymentState::Paid);
    assert_eq!(reads() - before, 2, "one read for twenty deliveries of one event, one for the change");
}

#[test]
fn a_webhook_is_served_between_the_payments_of_a_long_poller_pass() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |c| c.payment_poll_interval = Duration::from_secs(1));
    // Forty junk purchases: the old poller took a second over each, and a
    // webhook waited for the whole pass.
    let (late, invoice) = junk_and_one_paid_late(&server.app.store, &fake, 40);
    let reads = fake.calls("GET /v1/invoices/");
    until("the poller's pass to begin", || fake.calls("GET /v1/invoices/") > reads);
    let event = event_for(&invoice);
    assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    assert_eq!(eventually(&server, &late, |p| p.state == PaymentState::Paid).state, PaymentState::Paid);
}

#[test]
fn the_poller_spends_only_what_pages_and_webhooks_leave_it() {
    let fake = FakeStrike::start();
    let dir = temp_dir();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let (late, invoice) = junk_and_one_paid_late(&store, &fake, 20);
    // Ten reads in all, and no more for the length of the test.
    let plenty = Rate::per_minute(100, 100);
    let reads_budget = Rate { burst: 10, refill: 0, period: Duration::from_secs(600) };
    let limits = Limits { new_invoice: plenty, new_quote: plenty, other: reads_budget };
    let strike = Arc::new(StrikeClient::new(&fake.url, KEY).with_limits(limits));
    let checkout = Arc::new(Checkout::new(store.clone(), strike, Duration::from_secs(3600)));
    let reads = || fake.calls("GET /v1/invoices/");
    let before = reads();
    checkout.start(Duration::from_secs(3600)); // one pass, at once
    until("the poller to spend its half", || reads() - before == 5);
    std::thread::sleep(Duration::from_millis(1500)); // the old poller read one more a second
    assert_eq!(reads() - before, 5, "the poller leaves half the burst");

    // What is left serves a webhook and a page.
    checkout.hint_invoice(invoice, None);
    until("the webhook to be read", || store.get::<Payment>(&late).unwrap().state == PaymentState::Paid);
    let pending = store.find_all(Payment::open_pending()).unwrap();
    assert_eq!(pending.len(), 20);
    assert!(checkout.check(&pending[0].id, false).is_ok());
    assert_eq!(reads() - before, 7, "five for the poller, one for the webhook, one for the page");
}
