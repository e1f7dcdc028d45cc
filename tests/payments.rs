//! Buying hosting: invoices through the sandbox and through a fake Strike,
//! polling and webhooks, and every way a purchase must be refused.

use crate::common::fake_strike::{FakeStrike, Fault, KEY};
use crate::common::{TestServer, new_keys, temp_dir};
use hmac::{Hmac, Mac};
use hostr::checkout::provider::PaymentProvider;
use hostr::config::StrikeSettings;
use hostr::payment::{FulfilmentStatus, Payment, PaymentState};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub(crate) const SECRET: &str = "webhook-secret-123";

/// A server over a fresh database talking to `fake` (or the sandbox).
pub(crate) fn server(
    fake: Option<&FakeStrike>,
    adjust: impl FnOnce(&mut hostr::config::Config),
) -> (TestServer, tempfile::TempDir) {
    let dir = temp_dir();
    let strike = fake.map(|f| StrikeSettings {
        api_key: KEY.into(),
        api_url: f.url.clone(),
        webhook_secret: Some(SECRET.into()),
        timeout: Duration::from_secs(2),
    });
    let server = TestServer::start_on(dir.path().join("db"), |c| {
        c.strike = strike;
        c.payment_poll_interval = Duration::from_secs(3600);
        adjust(c);
    });
    (server, dir)
}

/// A registered customer's token.
pub(crate) fn customer(server: &TestServer) -> String {
    let token = server.sign_in(&new_keys());
    assert_eq!(server.authed("POST", "/api/new-user", &token, None).status, 201);
    token
}

pub(crate) fn buy(server: &TestServer, token: &str, body: Value) -> crate::common::Reply {
    server.authed("POST", "/api/create-invoice", token, Some(&body.to_string()))
}

pub(crate) fn stored(server: &TestServer, id: &str) -> Payment {
    server.app.store.get(id).unwrap()
}

/// Waits (bounded) until the stored payment satisfies `done`.
pub(crate) fn eventually(server: &TestServer, id: &str, done: impl Fn(&Payment) -> bool) -> Payment {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let payment = stored(server, id);
        if done(&payment) || Instant::now() > deadline {
            return payment;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn signed(body: &str, secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes()).to_uppercase()
}

pub(crate) fn webhook(server: &TestServer, body: &str, signature: Option<&str>) -> u16 {
    let headers: Vec<(&str, &str)> = signature.map(|s| vec![("X-Webhook-Signature", s)]).unwrap_or_default();
    server.request("POST", "/api/webhooks/strike", &headers, Some(body)).status
}

pub(crate) fn event_for(invoice_id: &str) -> String {
    json!({"id": uuid::Uuid::new_v4().to_string(), "eventType": "invoice.updated", "webhookVersion": "v1",
           "data": {"entityId": invoice_id, "changes": ["state"]}, "created": "2026-11-25T10:00:00+00:00"})
    .to_string()
}

#[test]
fn a_sandbox_purchase_is_paid_once_and_becomes_an_active_account() {
    let (server, _dir) = server(None, |_| {});
    assert_eq!(server.get("/api/health").json()["sandbox"]["payments"], true);
    let token = customer(&server);
    let reply =
        buy(&server, &token, json!({"planId": "basic", "domain": "Example.COM", "price": 0.01, "amount": "0.01"}));
    assert_eq!(reply.status, 201, "{:?}", reply.json());
    let body = reply.json();
    let payment = &body["payment"];
    assert_eq!(
        (payment["amount"].clone(), payment["currency"].as_str()),
        (json!(5), Some("USD")),
        "the plan's price, not the client's"
    );
    assert_eq!(payment["domain"], "example.com");
    assert_eq!(payment["state"], "PENDING");
    assert!(payment["bolt11"].as_str().unwrap().starts_with("lnsandbox"));
    assert!(body["qrSvg"].as_str().unwrap().contains("<svg"));
    let id = payment["id"].as_str().unwrap().to_owned();

    // A double click, or a second tab: the same payment.
    let again = buy(&server, &token, json!({"planId": "basic", "domain": "example.com"}));
    assert_eq!(again.json()["payment"]["id"], id.as_str());

    let check = server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
    assert_eq!(check["payment"]["state"], "PENDING");
    let paid = server.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": id}).to_string()));
    assert_eq!(paid.status, 200, "{:?}", paid.json());
    assert_eq!(paid.json()["payment"]["state"], "PAID");
    let payment = eventually(&server, &id, |p| p.fulfilment.status == FulfilmentStatus::Done);
    assert!(payment.paid_at.is_some() && payment.sandbox);
    assert_eq!(payment.fulfilment.attempts, 1);
    // Paying twice changes nothing.
    let twice = server.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": id}).to_string()));
    assert_eq!(twice.json()["payment"]["paidAt"], json!(payment.paid_at.unwrap().to_string()));
    let profile = server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["payments"][0]["id"], id.as_str());
    let account = &profile["cpanelAccounts"][0];
    assert_eq!((account["status"].as_str(), account["domain"].as_str()), (Some("ACTIVE"), Some("example.com")));
    assert_eq!(account["id"], payment.account_id.as_deref().unwrap());
    let paywall = server.authed("GET", "/api/paywall", &token, None);
    assert_eq!((paywall.status, paywall.json()["access"].as_bool()), (200, Some(true)));
}

#[test]
fn through_strike_a_payment_is_settled_by_polling() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    assert_eq!(server.get("/api/health").json()["sandbox"]["payments"], false);
    let token = customer(&server);
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "shop.example"})).json();
    let id = body["payment"]["id"].as_str().unwrap().to_owned();
    let invoice = body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned();
    {
        let state = fake.state.lock().unwrap();
        let at_strike = &state.invoices[&invoice];
        assert_eq!((at_strike.amount.as_str(), at_strike.correlation_id.as_str()), ("5.00", id.as_str()));
        assert!(at_strike.description.contains("shop.example"));
    }
    assert!(body["payment"]["bolt11"].as_str().unwrap().starts_with("lnbc"));
    assert_eq!(
        server.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": id}).to_string())).status,
        404,
        "no sandbox with real credentials"
    );

    let check =
        |server: &TestServer| server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
    assert_eq!(check(&server)["payment"]["state"], "PENDING");
    // However often the page polls a pending payment, Strike is asked about once a second.
    let before = fake.calls(&format!("GET /v1/invoices/{invoice}"));
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(check(&server)["payment"]["state"], "PENDING");
    }
    let allowed = started.elapsed().as_secs() as usize + 1;
    assert!(fake.calls(&format!("GET /v1/invoices/{invoice}")) - before <= allowed);
    fake.set_state(&invoice, "PAID");
    std::thread::sleep(Duration::from_millis(1100)); // checks are paced to one a second
    assert_eq!(check(&server)["payment"]["state"], "PAID");
    assert_ne!(stored(&server, &id).fulfilment.status, FulfilmentStatus::None, "fulfilment started");
}

#[test]
fn webhooks_are_verified_and_only_a_hint() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "hook.example"})).json();
    let id = body["payment"]["id"].as_str().unwrap().to_owned();
    let invoice = body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned();
    let event = event_for(&invoice);

    assert_eq!(webhook(&server, &event, None), 401, "no signature");
    assert_eq!(webhook(&server, &event, Some(&"ab".repeat(32))), 401, "wrong signature");
    assert_eq!(webhook(&server, &event, Some(&signed("{}", SECRET))), 401, "signature over another body");
    assert_eq!(webhook(&server, &event, Some(&signed(&event, "another-secret"))), 401, "another secret");
    let unknown = event_for(&uuid::Uuid::new_v4().to_string());
    assert_eq!(webhook(&server, &unknown, Some(&signed(&unknown, SECRET))), 200, "unknown invoices are fine");

    // "Changed", but Strike still says UNPAID: nothing changes.
    assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stored(&server, &id).state, PaymentState::Pending);

    // Strike tells of the change in a new event (a replay of the old one is
    // a replay: see purchases.rs), perhaps more than once.
    fake.set_state(&invoice, "PAID");
    let change = event_for(&invoice);
    for _ in 0..5 {
        assert_eq!(webhook(&server, &change, Some(&signed(&change, SECRET).to_lowercase())), 200);
    }
    let paid = eventually(&server, &id, |p| p.state == PaymentState::Paid);
    assert_eq!(paid.state, PaymentState::Paid, "settled through the webhook");
    let paid_at = paid.paid_at;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stored(&server, &id).paid_at, paid_at, "replays change nothing");
    let garbage = "not json";
    assert_eq!(webhook(&server, garbage, Some(&signed(garbage, SECRET))), 400);
}

#[test]
fn purchases_are_refused_when_they_must_be() {
    let (server, _dir) = server(None, |_| {});
    let token = customer(&server);
    let other = customer(&server);
    let code = |reply: crate::common::Reply| (reply.status, reply.error_code());
    assert_eq!(
        code(buy(&server, &token, json!({"planId": "gold", "domain": "a.example"}))),
        (404, "unknown_plan".into())
    );
    assert_eq!(
        code(buy(&server, &token, json!({"planId": "basic", "domain": "not a domain"}))),
        (400, "bad_domain".into())
    );
    assert_eq!(code(buy(&server, &token, json!({"planId": "basic"}))), (400, "bad_purchase".into()));
    assert_eq!(code(buy(&server, &token, json!({"planId": 5, "domain": "a.example"}))), (400, "malformed_json".into()));

    // Someone else's pending purchase holds the domain.
    assert_eq!(buy(&server, &other, json!({"planId": "basic", "domain": "taken.example"})).status, 201);
    assert_eq!(
        code(buy(&server, &token, json!({"planId": "basic", "domain": "TAKEN.example"}))),
        (409, "domain_taken".into())
    );

    // Renewing an account that is not yours (or does not exist).
    let other_id =
        server.authed("GET", "/api/profile", &other, None).json()["customer"]["id"].as_str().unwrap().to_owned();
    let now = hostr::timestamp::Timestamp::now();
    let account = hostr::cpanel_account::CpanelAccount {
        status: hostr::cpanel_account::AccountStatus::Active,
        ..hostr::cpanel_account::CpanelAccount::provisioning(
            &hostr::ids::new_uuid(),
            "theirs",
            "theirs.example",
            &other_id,
            "basic",
            now,
        )
    };
    server.app.store.create(&account).unwrap();
    assert_eq!(code(buy(&server, &token, json!({"accountId": account.id}))), (403, "not_your_account".into()));
    assert_eq!(
        code(buy(&server, &token, json!({"accountId": hostr::ids::new_uuid()}))),
        (403, "not_your_account".into())
    );
    assert_eq!(
        code(buy(&server, &token, json!({"planId": "basic", "domain": "theirs.example"}))),
        (409, "domain_taken".into())
    );
    assert_eq!(buy(&server, &other, json!({"accountId": account.id})).status, 201, "the owner may renew");

    // Someone else's payment cannot be checked or paid.
    let theirs = buy(&server, &other, json!({"planId": "basic", "domain": "mine.example"})).json()["payment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let peek = server.authed("GET", &format!("/api/check-invoice?paymentId={theirs}"), &token, None);
    assert_eq!((peek.status, peek.error_code().as_str()), (403, "not_your_payment"));
    let pay = server.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": theirs}).to_string()));
    assert_eq!(pay.status, 403);
    let bad = server.authed("GET", "/api/check-invoice?paymentId=../../etc", &token, None);
    assert_eq!(bad.status, 400);

    // A suspended customer buys nothing.
    let id = server.authed("GET", "/api/profile", &token, None).json()["customer"]["id"].as_str().unwrap().to_owned();
    let path = server.app.store.dir::<hostr::customer::Customer>().unwrap().join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"ACTIVE\"", "\"SUSPENDED\"")).unwrap();
    assert_eq!(
        code(buy(&server, &token, json!({"planId": "basic", "domain": "b.example"}))),
        (403, "customer_suspended".into())
    );
    assert_eq!(server.authed("GET", "/api/paywall", &token, None).json()["reason"], "suspended");
}

#[test]
fn a_failed_or_lost_invoice_creation_is_recovered_without_a_second_invoice() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);

    // Strike fails: 502 for the customer, the payment stays PENDING and traceable.
    fake.fault(Fault::Status(503, "SERVICE_UNAVAILABLE"));
    let failed = buy(&server, &token, json!({"planId": "basic", "domain": "retry.example"}));
    assert_eq!((failed.status, failed.error_code().as_str()), (502, "payment_provider_error"));
    let profile = server.authed("GET", "/api/profile", &token, None).json();
    let id = profile["payments"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored(&server, &id).state, PaymentState::Pending);
    // The second click goes through, with the same payment and one invoice.
    let retried = buy(&server, &token, json!({"planId": "basic", "domain": "retry.example"}));
    assert_eq!(retried.json()["payment"]["id"], id.as_str());
    assert_eq!(fake.invoice_count(), 1);
}

#[test]
fn a_creation_that_timed_out_is_found_by_correlation_id() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let token = customer(&server);
    // Strike makes the invoice but the answer never arrives in time.
    fake.fault(Fault::Slow(Duration::from_secs(3)));
    let lost = buy(&server, &token, json!({"planId": "basic", "domain": "slow.example"}));
    assert_eq!((lost.status, lost.error_code().as_str()), (504, "payment_provider_error"));
    assert_eq!(fake.invoice_count(), 1);
    std::thread::sleep(Duration::from_millis(1200)); // the fake finishes its slow answer
    let id =
        server.authed("GET", "/api/profile", &token, None).json()["payments"][0]["id"].as_str().unwrap().to_owned();
    let check = server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
    assert!(check["payment"]["bolt11"].as_str().unwrap().starts_with("lnbc"), "{check}");
    assert_eq!(fake.calls("POST /v1/invoices "), 0);
    assert_eq!(fake.calls("POST /v1/invoices"), 2, "one creation and one quote: no second invoice");
}

#[test]
fn quotes_are_refreshed_and_invoices_expire_or_get_cancelled() {
    let fake = FakeStrike::start();
    // Every quote is already past its expiry, so the expiry of the payment
    // depends on its own lifetime only.
    fake.state.lock().unwrap().quote_seconds = -120;
    let (server, _dir) = server(Some(&fake), |c| c.invoice_lifetime = Duration::from_secs(3));
    let token = customer(&server);
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "quote.example"})).json();
    let id = body["payment"]["id"].as_str().unwrap().to_owned();
    let invoice = body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned();
    let first = body["payment"]["bolt11"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1100)); // checks are paced to one a second
    let refreshed =
        server.authed("GET", &format!("/api/check-invoice?paymentId={id}&refresh=true"), &token, None).json();
    let second = refreshed["payment"]["bolt11"].as_str().unwrap().to_owned();
    assert_ne!(first, second, "a fresh quote replaces the expired one");
    assert_eq!(refreshed["payment"]["state"], "PENDING");
    // Asking again at once is paced: no new quote, no call to Strike.
    let quotes = fake.state.lock().unwrap().quotes;
    for _ in 0..10 {
        server.authed("GET", &format!("/api/check-invoice?paymentId={id}&refresh=true"), &token, None);
    }
    assert_eq!(fake.state.lock().unwrap().quotes, quotes, "refresh requests are paced too");
    std::thread::sleep(Duration::from_millis(3500)); // times are kept to the second
    let expired = server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
    assert_eq!(expired["payment"]["state"], "EXPIRED", "past the invoice's lifetime");
    assert_eq!(fake.state.lock().unwrap().invoices[&invoice].state, "CANCELLED", "closed at Strike first");

    let body = buy(&server, &token, json!({"planId": "basic", "domain": "cancel.example"})).json();
    let (id, invoice) = (
        body["payment"]["id"].as_str().unwrap().to_owned(),
        body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned(),
    );
    fake.set_state(&invoice, "CANCELLED");
    let cancelled = server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
    assert_eq!(cancelled["payment"]["state"], "CANCELLED");
    // The domain is free again once nothing holds it.
    assert_eq!(buy(&server, &token, json!({"planId": "basic", "domain": "cancel.example"})).status, 201);
}

#[test]
fn money_paid_at_the_last_moment_or_late_is_never_lost() {
    let fake = FakeStrike::start();
    fake.state.lock().unwrap().quote_seconds = -120;
    let (server, _dir) = server(Some(&fake), |c| c.invoice_lifetime = Duration::from_secs(2));
    let token = customer(&server);
    let check = |id: &str| server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();

    // Paid just as hostr was about to expire it: the cancel is refused and
    // the payment is recorded as paid.
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "last.example"})).json();
    let (id, invoice) = (
        body["payment"]["id"].as_str().unwrap().to_owned(),
        body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned(),
    );
    std::thread::sleep(Duration::from_millis(3200));
    fake.set_state(&invoice, "PAID");
    assert_eq!(check(&id)["payment"]["state"], "PAID");
    assert_ne!(stored(&server, &id).fulfilment.status, FulfilmentStatus::None, "fulfilment started");

    // Paid after hostr expired it: the webhook still brings it in.
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "late.example"})).json();
    let (id, invoice) = (
        body["payment"]["id"].as_str().unwrap().to_owned(),
        body["payment"]["strikeInvoiceId"].as_str().unwrap().to_owned(),
    );
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(check(&id)["payment"]["state"], "EXPIRED");
    fake.set_state(&invoice, "PAID");
    let event = event_for(&invoice);
    assert_eq!(webhook(&server, &event, Some(&signed(&event, SECRET))), 200);
    assert_eq!(eventually(&server, &id, |p| p.state == PaymentState::Paid).state, PaymentState::Paid);
}

#[test]
fn simultaneous_clicks_make_one_payment_and_one_invoice() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    let server = std::sync::Arc::new(server);
    let token = std::sync::Arc::new(customer(&server));
    let race = |body: Value| -> Vec<String> {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (server, token, body) = (server.clone(), token.clone(), body.clone());
                std::thread::spawn(move || {
                    let reply = buy(&server, &token, body);
                    let json = reply.json();
                    json["payment"]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("{} {json}", reply.status))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("a click failed: {e}"))).collect()
    };
    let ids = race(json!({"planId": "basic", "domain": "race.example"}));
    assert_eq!(ids.len(), 4, "every click is answered");
    assert!(ids.iter().all(|id| id == &ids[0]), "one payment: {ids:?}");
    assert_eq!(fake.invoice_count(), 1, "one invoice at Strike");

    let profile = server.authed("GET", "/api/profile", &token, None).json();
    let customer_id = profile["customer"]["id"].as_str().unwrap().to_owned();
    let now = hostr::timestamp::Timestamp::now();
    let account = hostr::cpanel_account::CpanelAccount {
        status: hostr::cpanel_account::AccountStatus::Active,
        ..hostr::cpanel_account::CpanelAccount::provisioning(
            &hostr::ids::new_uuid(),
            "mine",
            "mine.example",
            &customer_id,
            "basic",
            now,
        )
    };
    server.app.store.create(&account).unwrap();
    let ids = race(json!({"accountId": account.id}));
    assert_eq!(ids.len(), 4);
    assert!(ids.iter().all(|id| id == &ids[0]), "one renewal: {ids:?}");
    assert_eq!(fake.invoice_count(), 2);
}

#[test]
fn a_crash_between_recording_and_invoicing_is_resolved_by_the_poller() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |c| {
        c.invoice_lifetime = Duration::from_secs(2);
        c.payment_poll_interval = Duration::from_secs(1);
    });
    let token = customer(&server);
    let profile = server.authed("GET", "/api/profile", &token, None).json();
    let customer_id = profile["customer"]["id"].as_str().unwrap();
    // As a crashed server left them: PENDING, no invoice; Strike has one of them.
    let orphan = |domain: &str| {
        let plan = hostr::plan::Plan::seed(hostr::timestamp::Timestamp::now());
        let payment =
            Payment::pending(customer_id, &plan, hostr::ids::new_uuid(), Some(domain.into()), plan.created_at);
        server.app.store.create(&payment).unwrap();
        payment.id
    };
    let never_invoiced = orphan("lost.example");
    let invoiced = orphan("found.example");
    let strike = hostr::strike::StrikeClient::new(&fake.url, KEY);
    let at_strike = strike.issue_invoice(&invoiced, "d", "5".parse().unwrap(), &hostr::money::Currency::usd()).unwrap();
    fake.set_state(&at_strike.id, "PAID");

    let found = eventually(&server, &invoiced, |p| p.state == PaymentState::Paid);
    assert_eq!(found.strike_invoice_id.as_deref(), Some(at_strike.id.as_str()));
    let lost = eventually(&server, &never_invoiced, |p| p.state == PaymentState::Expired);
    assert_eq!(lost.state, PaymentState::Expired, "nothing at Strike and past its lifetime");
    assert_eq!(fake.invoice_count(), 1, "the poller never creates invoices");
}

#[test]
fn a_domain_nested_with_another_customers_is_refused_without_saying_whose() {
    // Each customer opens more purchases here than a shop allows by default.
    let (server, _dir) = server(None, |c| c.max_open_purchases = 20);
    let (alice, mallory) = (customer(&server), customer(&server));
    let code = |reply: crate::common::Reply| (reply.status, reply.error_code());
    let domain = |body: Value| stored(&server, body["payment"]["id"].as_str().unwrap()).domain.unwrap();
    let buy_ok = |token: &str, asked: &str| {
        let reply = buy(&server, token, json!({"planId": "basic", "domain": asked}));
        assert_eq!(reply.status, 201, "{asked}: {:?}", reply.json());
        domain(reply.json())
    };
    let alice_id =
        server.authed("GET", "/api/profile", &alice, None).json()["customer"]["id"].as_str().unwrap().to_owned();

    // Alice's open purchase holds alice-shop.example and what lies inside it.
    assert_eq!(buy_ok(&alice, "alice-shop.example"), "alice-shop.example");
    for nested in ["mail.alice-shop.example", "a.b.alice-shop.example", "www.mail.alice-shop.example"] {
        let refused = buy(&server, &mallory, json!({"planId": "basic", "domain": nested}));
        let message = refused.json()["error"]["message"].to_string();
        assert_eq!(code(refused), (409, "domain_overlaps".into()), "{nested}");
        assert!(!message.contains(&alice_id), "whose is not said: {message}");
    }
    // Alice's own subdomains stay hers to buy; neighbours by name are not inside.
    assert_eq!(buy_ok(&alice, "mail.alice-shop.example"), "mail.alice-shop.example");
    assert_eq!(buy_ok(&mallory, "mallory-alice-shop.example"), "mallory-alice-shop.example");
    assert_eq!(buy_ok(&mallory, "shop.example"), "shop.example", "alice-shop.example is not inside shop.example");

    // The reverse: a domain holding one that another customer holds inside it.
    assert_eq!(buy_ok(&alice, "shop.bob-corp.example"), "shop.bob-corp.example");
    for outer in ["bob-corp.example", "www.bob-corp.example", "WWW.www.Bob-Corp.example."] {
        assert_eq!(
            code(buy(&server, &mallory, json!({"planId": "basic", "domain": outer}))),
            (409, "domain_overlaps".into()),
            "{outer}"
        );
    }

    // Accounts hold what lies inside them (and around them) the same way,
    // until they are terminated.
    let account = |domain: &str, user: &str, status| hostr::cpanel_account::CpanelAccount {
        status,
        ..hostr::cpanel_account::CpanelAccount::provisioning(
            &hostr::ids::new_uuid(),
            user,
            domain,
            &alice_id,
            "basic",
            hostr::timestamp::Timestamp::now(),
        )
    };
    use hostr::cpanel_account::AccountStatus::{Active, Terminated};
    server.app.store.create(&account("carol.example", "carol", Active)).unwrap();
    server.app.store.create(&account("deep.dave.example", "dave", Active)).unwrap();
    server.app.store.create(&account("old.erin.example", "erin", Terminated)).unwrap();
    for (asked, why) in [("x.y.carol.example", "inside"), ("dave.example", "around")] {
        let reply = buy(&server, &mallory, json!({"planId": "basic", "domain": asked}));
        assert_eq!(code(reply), (409, "domain_overlaps".into()), "{why} an account");
    }
    assert_eq!(buy_ok(&mallory, "erin.example"), "erin.example", "a terminated account holds nothing");

    // Repeated `www.` labels all go: the account is for the bare domain.
    assert_eq!(buy_ok(&mallory, "www.www.frank.example"), "frank.example");
    assert_eq!(
        code(buy(&server, &alice, json!({"planId": "basic", "domain": "www.frank.example"}))),
        (409, "domain_taken".into())
    );
    assert_eq!(buy_ok(&alice, "www.example"), "www.example", "a domain is left: nothing to strip");
}

#[test]
fn a_customer_buying_their_own_domain_hears_it_is_theirs_and_unicode_domains_are_accepted() {
    let (server, _dir) = server(None, |_| {});
    let token = customer(&server);
    let reply = buy(&server, &token, json!({"planId": "basic", "domain": "www.Bücher.de"}));
    assert_eq!(reply.status, 201, "{:?}", reply.json());
    assert_eq!(reply.json()["payment"]["domain"], "xn--bcher-kva.de", "kept in its ASCII form");
    let id = reply.json()["payment"]["id"].as_str().unwrap().to_owned();
    let paid = server.authed("POST", "/api/sandbox/pay", &token, Some(&json!({"paymentId": id}).to_string()));
    assert_eq!(paid.status, 200);
    eventually(&server, &id, |p| p.fulfilment.status == FulfilmentStatus::Done);

    let again = buy(&server, &token, json!({"planId": "basic", "domain": "bücher.de"}));
    assert_eq!((again.status, again.error_code().as_str()), (409, "domain_yours"), "{:?}", again.json());
    let other = customer(&server);
    let theirs = buy(&server, &other, json!({"planId": "basic", "domain": "xn--bcher-kva.de"}));
    assert_eq!((theirs.status, theirs.error_code().as_str()), (409, "domain_taken"), "another's is not called yours");
}
