//! Prices in fiat, BTC and sats, through the fake Strike: what is invoiced
//! (the currency's own decimals; sats as BTC), what the quote asks in sats
//! and at which rate, and that such invoices are paid like any other.

use crate::common::fake_strike::FakeStrike;
use crate::payments::{buy, customer, server};
use hostr::payment::PaymentState;
use hostr::plan::Plan;
use hostr::timestamp::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;

/// A plan on sale at `price` `currency`, as the operator's file holds it.
fn plan(server: &crate::common::TestServer, id: &str, price: &str, currency: &str) {
    let plan = Plan {
        id: id.to_owned(),
        name: format!("{id} plan"),
        price: price.parse().unwrap(),
        currency: currency.parse().unwrap(),
        whm_package: id.to_owned(),
        ..Plan::seed(Timestamp::now())
    };
    server.app.store.create(&plan).expect("create the plan");
}

fn check(server: &crate::common::TestServer, token: &str, id: &str, refresh: bool) -> Value {
    let path = format!("/api/check-invoice?paymentId={id}{}", if refresh { "&refresh=true" } else { "" });
    server.authed("GET", &path, token, None).json()
}

#[test]
fn a_plan_in_sats_or_btc_is_invoiced_in_btc_to_the_sat_and_paid_like_any_other() {
    let fake = FakeStrike::start();
    let (server, _dir) = server(Some(&fake), |_| {});
    plan(&server, "sats", "50000", "SAT");
    plan(&server, "btc", "0.00123456", "BTC");
    let token = customer(&server);
    for (plan_id, domain, sent, sats, amount, currency) in [
        ("sats", "sats.example", "0.00050000", 50_000, json!(50000), "SAT"),
        ("btc", "btc.example", "0.00123456", 123_456, json!(0.00123456), "BTC"),
    ] {
        let reply = buy(&server, &token, json!({"planId": plan_id, "domain": domain}));
        assert_eq!(reply.status, 201, "{:?}", reply.json());
        let body = reply.json();
        let payment = &body["payment"];
        let created = fake.state.lock().unwrap().created.last().cloned().expect("an invoice was made");
        assert_eq!(created["amount"], json!({"amount": sent, "currency": "BTC"}), "{plan_id}: Strike is asked for BTC");
        assert_eq!((payment["amount"].clone(), payment["currency"].as_str()), (amount, Some(currency)));
        assert_eq!(payment["quoteSats"], json!(sats), "{plan_id}: the price itself, in sats");
        assert_eq!(payment["quoteRate"], Value::Null, "{plan_id}: no conversion, so no rate");
        // Paid at Strike: the BTC invoice matches the payment's amount.
        let (id, invoice) =
            (payment["id"].as_str().unwrap().to_owned(), payment["strikeInvoiceId"].as_str().unwrap().to_owned());
        fake.set_state(&invoice, "PAID");
        std::thread::sleep(Duration::from_millis(1100)); // checks are paced to one a second
        assert_eq!(check(&server, &token, &id, false)["payment"]["state"], "PAID", "{plan_id}");
    }
}

#[test]
fn a_fiat_quote_shows_its_sats_and_the_rate_and_a_new_quote_the_new_ones() {
    let fake = FakeStrike::start();
    fake.state.lock().unwrap().quote_seconds = -120; // every quote already expired: each refresh is a new one
    let (server, _dir) = server(Some(&fake), |c| c.invoice_lifetime = Duration::from_secs(600));
    let token = customer(&server);
    let body = buy(&server, &token, json!({"planId": "basic", "domain": "fiat.example"})).json();
    let payment = &body["payment"];
    let created = fake.state.lock().unwrap().created.last().cloned().expect("an invoice was made");
    assert_eq!(created["amount"], json!({"amount": "5.00", "currency": "USD"}));
    // 5 USD at 100,000 USD a BTC.
    assert_eq!(payment["quoteSats"], json!(5000));
    assert_eq!(payment["quoteRate"], json!({"amount": 100000, "sourceCurrency": "BTC", "targetCurrency": "USD"}));
    let until = Timestamp::parse(body["payableUntil"].as_str().unwrap()).unwrap();
    let created_at = Timestamp::parse(payment["createdAt"].as_str().unwrap()).unwrap();
    assert_eq!((until.as_datetime() - created_at.as_datetime()).num_seconds(), 600, "the payment's own lifetime");
    assert!(Timestamp::parse(body["serverTime"].as_str().unwrap()).is_ok(), "{body}");

    // The rate moves (67,482.38 USD a BTC); the next quote asks for more sats.
    fake.state.lock().unwrap().rate_cents = 6_748_238;
    let id = payment["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1100));
    let fresh = check(&server, &token, &id, true);
    assert_ne!(fresh["payment"]["bolt11"], payment["bolt11"], "a new quote");
    assert_eq!(fresh["payment"]["quoteSats"], json!(7410), "5 USD at 67,482.38, rounded up to the sat");
    assert_eq!(fresh["payment"]["quoteRate"]["amount"], json!(67482.38));
    assert_eq!(fresh["payment"]["state"], "PENDING");
    let stored: hostr::payment::Payment = server.app.store.get(&id).unwrap();
    assert_eq!((stored.quote_sats, stored.state), (Some(7410), PaymentState::Pending));
}

#[test]
fn sandbox_quotes_say_their_sats_at_the_sandbox_rate() {
    let (server, _dir) = server(None, |_| {});
    plan(&server, "sats", "21000", "SAT");
    let token = customer(&server);
    let fiat = buy(&server, &token, json!({"planId": "basic", "domain": "sandbox-fiat.example"})).json();
    assert_eq!(fiat["payment"]["quoteSats"], json!(5000), "5 USD at the sandbox's 100,000");
    assert_eq!(fiat["payment"]["quoteRate"]["amount"], json!(100000));
    let sats = buy(&server, &token, json!({"planId": "sats", "domain": "sandbox-sats.example"})).json();
    assert_eq!(
        (sats["payment"]["quoteSats"].clone(), sats["payment"]["quoteRate"].clone()),
        (json!(21000), Value::Null)
    );
}

#[test]
fn a_plan_file_with_more_decimals_than_its_currency_allows_is_refused() {
    let (server, _dir) = server(None, |_| {});
    for (price, currency, words) in [("1.5", "SAT", "no decimals"), ("5.001", "USD", "at most 2")] {
        let plan = Plan {
            id: "odd".to_owned(),
            price: price.parse().unwrap(),
            currency: currency.parse().unwrap(),
            ..Plan::seed(Timestamp::now())
        };
        let refused = server.app.store.create(&plan).expect_err("refused");
        assert!(refused.to_string().contains(words), "{price} {currency}: {refused}");
    }
}
