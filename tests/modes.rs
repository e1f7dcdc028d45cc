//! Provider modes never mix: a payment begun with Strike is never invoiced,
//! settled or closed by the sandbox, a payment begun in the sandbox never
//! reaches Strike, and a real WHM builds only what was paid through Strike,
//! whatever a payment file's `sandbox` flag says.

use crate::common::fake_strike::{FakeStrike, KEY};
use crate::common::fake_whm::{FakeWhm, TOKEN};
use crate::common::{Reply, TestServer, new_keys, temp_dir};
use crate::provisioning::{paid_by, wait_for, whm_settings};
use hostr::config::{Config, StrikeSettings};
use hostr::payment::{FulfilmentStatus, Payment, PaymentState, Provider};
use serde_json::json;
use std::time::Duration;

/// Strike at `url` (a fake, or nothing listening).
fn strike_at(url: &str) -> StrikeSettings {
    StrikeSettings {
        api_key: KEY.into(),
        api_url: url.to_owned(),
        webhook_secret: None,
        timeout: Duration::from_secs(1),
    }
}

/// A real (fake) WHM with a fast accounts worker; the payment poller runs
/// once at start, then hourly.
fn on_whm(config: &mut Config, whm: &FakeWhm) {
    config.whm = Some(whm_settings(&whm.url, TOKEN));
    config.payment_poll_interval = Duration::from_secs(3600);
    config.schedule.cycle = Duration::from_millis(100);
    config.schedule.retry_base = Duration::from_millis(200);
}

/// Signs in with `keys`, registering the customer the first time.
fn sign_in(server: &TestServer, keys: &nostr::prelude::Keys) -> String {
    let token = server.sign_in(keys);
    let status = server.authed("POST", "/api/new-user", &token, None).status;
    assert!(status == 201 || status == 409, "new-user answered {status}");
    token
}

fn buy(server: &TestServer, token: &str, domain: &str) -> Reply {
    let body = json!({"planId": "basic", "domain": domain}).to_string();
    server.authed("POST", "/api/create-invoice", token, Some(&body))
}

fn stored(server: &TestServer, id: &str) -> Payment {
    server.app.store.get(id).unwrap()
}

fn first_payment_id(server: &TestServer, token: &str) -> String {
    let profile = server.authed("GET", "/api/profile", token, None).json();
    profile["payments"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_payment_begun_with_strike_is_never_invoiced_or_settled_by_the_sandbox() {
    let (whm, dir, keys) = (FakeWhm::start(), temp_dir(), new_keys());
    let db = dir.path().join("db");
    // A Strike key, but Strike cannot be reached: 504, and a real payment
    // without an invoice is left PENDING (Strike may still have made one).
    let real = TestServer::start_on(db.clone(), |c| {
        c.strike = Some(strike_at("http://127.0.0.1:9"));
        on_whm(c, &whm);
    });
    let token = sign_in(&real, &keys);
    let lost = buy(&real, &token, "alice-shop.example");
    assert_eq!((lost.status, lost.error_code().as_str()), (504, "payment_provider_error"));
    let id = first_payment_id(&real, &token);
    let begun = stored(&real, &id);
    assert_eq!((begun.state, begun.sandbox, &begun.strike_invoice_id), (PaymentState::Pending, false, &None));
    real.stop();

    // Restarted without the key (sandbox payments), on the same real WHM.
    let sandbox = TestServer::start_on(db, |c| on_whm(c, &whm));
    let token = sign_in(&sandbox, &keys);
    let again = buy(&sandbox, &token, "alice-shop.example");
    assert_eq!((again.status, again.error_code().as_str()), (409, "other_payment_mode"), "{}", again.json()["error"]);
    assert!(again.json()["error"]["message"].as_str().unwrap().contains("real payments"));
    let pay = sandbox.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": id}).to_string()));
    assert_eq!((pay.status, pay.error_code().as_str()), (409, "other_payment_mode"));
    let check = sandbox.authed("GET", &format!("/api/check-invoice?paymentId={id}&refresh=true"), &token, None);
    assert_eq!(check.status, 200);
    let untouched = stored(&sandbox, &id);
    assert_eq!(
        (untouched.state, &untouched.strike_invoice_id, &untouched.bolt11),
        (PaymentState::Pending, &None, &None)
    );
    assert_eq!(
        (untouched.sandbox, untouched.provider, untouched.fulfilment.status),
        (false, None, FulfilmentStatus::None)
    );
    assert_eq!(whm.calls("createacct"), 0);

    // A purchase begun in this mode goes through, its invoice recorded as the sandbox's.
    let fresh = buy(&sandbox, &token, "bob-shop.example");
    assert_eq!(fresh.status, 201);
    let fresh = stored(&sandbox, fresh.json()["payment"]["id"].as_str().unwrap());
    assert_eq!((fresh.sandbox, fresh.provider), (true, Some(Provider::Sandbox)));
}

#[test]
fn a_payment_begun_in_the_sandbox_never_reaches_strike_and_a_real_shop_closes_it() {
    let (strike, whm, dir, keys) = (FakeStrike::start(), FakeWhm::start(), temp_dir(), new_keys());
    let db = dir.path().join("db");
    let demo = TestServer::start_on(db.clone(), |c| on_whm(c, &whm));
    let token = sign_in(&demo, &keys);
    let begun = buy(&demo, &token, "demo-shop.example").json();
    let id = begun["payment"]["id"].as_str().unwrap().to_owned();
    assert!(begun["payment"]["bolt11"].as_str().unwrap().starts_with("lnsandbox"));
    demo.stop();

    // Now with Strike: the poller's first pass closes the sandbox payment,
    // which can never be paid for real, without asking Strike about it.
    let live = TestServer::start_on(db, |c| {
        c.strike = Some(strike_at(&strike.url));
        on_whm(c, &whm);
    });
    wait_for("the sandbox payment to be closed", || {
        Some(stored(&live, &id)).filter(|p| p.state == PaymentState::Cancelled)
    });
    assert_eq!(strike.calls(""), 0, "nothing about a sandbox payment is asked of Strike");
    let token = sign_in(&live, &keys);
    let check = live.authed("GET", &format!("/api/check-invoice?paymentId={id}&refresh=true"), &token, None);
    assert_eq!(check.json()["payment"]["state"], "CANCELLED");
    assert_eq!(strike.calls(""), 0);

    // The domain is free again, for a real payment through Strike.
    let fresh = buy(&live, &token, "demo-shop.example");
    assert_eq!(fresh.status, 201, "{:?}", fresh.json());
    let fresh = stored(&live, fresh.json()["payment"]["id"].as_str().unwrap());
    assert_ne!(fresh.id, id);
    assert_eq!((fresh.sandbox, fresh.provider), (false, Some(Provider::Strike)));
}

#[test]
fn a_real_whm_builds_only_what_was_paid_through_strike() {
    let (strike, whm, dir) = (FakeStrike::start(), FakeWhm::start(), temp_dir());
    let server = TestServer::start_on(dir.path().join("db"), |c| {
        c.strike = Some(strike_at(&strike.url));
        on_whm(c, &whm);
    });
    let invoice = |p: &mut Payment, provider: Option<Provider>, bolt11: &str| {
        p.strike_invoice_id = Some(hostr::ids::new_uuid());
        p.provider = provider;
        p.bolt11 = Some(bolt11.to_owned());
    };
    // Files as the mixing of modes left them: begun real, invoiced by the
    // sandbox (recorded, or told by the BOLT11 alone), or with no invoice.
    let refused = [
        paid_by(&server.app.store, 1, "recorded.example", |p| invoice(p, Some(Provider::Sandbox), "lnbc50u1pfake")),
        paid_by(&server.app.store, 2, "old-file.example", |p| invoice(p, None, "lnsandbox500n1sandboxnotpayablex")),
        paid_by(&server.app.store, 3, "no-invoice.example", |_| {}),
    ];
    // Paid through Strike, with the provider recorded or as an old file.
    let delivered = [
        paid_by(&server.app.store, 4, "strike.example", |p| invoice(p, Some(Provider::Strike), "lnbc50u1pfake")),
        paid_by(&server.app.store, 5, "old-strike.example", |p| invoice(p, None, "lnbc50u1pfake")),
    ];
    server.app.provisioner.wake();
    for payment in &delivered {
        wait_for("the delivery", || {
            Some(stored(&server, &payment.id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Done)
        });
    }
    for payment in &refused {
        let failed = wait_for("the refusal", || {
            Some(stored(&server, &payment.id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Failed)
        });
        let why = failed.fulfilment.last_error.unwrap();
        assert!(why.contains("not paid through Strike"), "{why}");
        assert_eq!(failed.fulfilment.next_attempt_at, None, "it waits for the operator");
    }
    let report = hostr::check::check(&server.app.store).unwrap();
    let told = |payment: &Payment, words: &str| {
        let file = format!("{}.json", payment.id);
        report.problems.iter().any(|p| p.path.ends_with(&file) && p.message.contains(words))
    };
    for payment in &refused {
        assert!(told(payment, "waits for the operator"), "hostr check tells of {}: {:?}", payment.id, report.problems);
    }
    let [recorded, old_file, no_invoice] = &refused;
    assert!(told(recorded, "invoiced by the sandbox") && told(old_file, "invoiced by the sandbox"));
    assert!(!told(no_invoice, "invoiced by the sandbox"));
    assert_eq!(whm.calls("createacct"), delivered.len());
}
