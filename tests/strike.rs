//! The real Strike client against a fake Strike on loopback: the happy
//! path, Strike's error envelope, 5xx, timeouts, nonsense, rate limits and
//! the budget of calls the client keeps to.

use crate::common::fake_strike::{FakeStrike, Fault, KEY};
use hostr::checkout::budget::Limits;
use hostr::checkout::provider::{InvoiceState, PaymentProvider, ProviderError};
use hostr::money::{Currency, Money};
use hostr::rate_limit::Rate;
use hostr::strike::{StrikeClient, documented_limits};
use std::time::Duration;

fn client(fake: &FakeStrike) -> StrikeClient {
    StrikeClient::with_timeout(&fake.url, KEY, Duration::from_millis(800))
}

fn five() -> Money {
    "5".parse().unwrap()
}

#[test]
fn an_invoice_is_issued_quoted_and_found_by_id_and_correlation() {
    let fake = FakeStrike::start();
    let strike = client(&fake);
    let invoice =
        strike.issue_invoice("payment-1", "Web storage basic for example.com", five(), &Currency::usd()).unwrap();
    assert_eq!(
        (invoice.state.clone(), invoice.amount, invoice.currency.as_str()),
        (InvoiceState::Unpaid, five(), "USD")
    );
    assert_eq!(fake.state.lock().unwrap().invoices[&invoice.id].amount, "5.00", "amount sent as a decimal string");

    let quote = strike.issue_quote(&invoice.id).unwrap();
    assert!(quote.bolt11.starts_with("lnbc"));
    assert!(quote.expires_at.as_datetime() > chrono::Utc::now());

    fake.set_state(&invoice.id, "PAID");
    assert_eq!(strike.find_invoice(&invoice.id).unwrap().unwrap().state, InvoiceState::Paid);
    let found = strike.find_by_correlation("payment-1").unwrap().unwrap();
    assert_eq!(found.id, invoice.id);
    assert!(strike.find_by_correlation("payment-2").unwrap().is_none());
    assert!(strike.find_invoice(&uuid::Uuid::new_v4().to_string()).unwrap().is_none(), "404 is 'no such invoice'");
    fake.set_state(&invoice.id, "REVERSED");
    assert_eq!(strike.find_invoice(&invoice.id).unwrap().unwrap().state, InvoiceState::Other("REVERSED".into()));
}

#[test]
fn strikes_refusals_keep_their_code_and_a_bad_key_is_told_apart() {
    let fake = FakeStrike::start();
    fake.fault(Fault::Status(422, "CURRENCY_UNSUPPORTED"));
    let error = client(&fake).issue_invoice("p", "d", five(), &Currency::usd()).unwrap_err();
    let ProviderError::Refused { status, code, trace_id, .. } = &error else { panic!("{error}") };
    assert_eq!((*status, code.as_str(), trace_id.as_deref()), (422, "CURRENCY_UNSUPPORTED", Some("trace-123")));

    let wrong_key = StrikeClient::with_timeout(&fake.url, "not-the-key", Duration::from_secs(1));
    let error = wrong_key.check_key().unwrap_err();
    assert!(matches!(&error, ProviderError::Refused { status: 401, code, .. } if code == "UNAUTHORIZED"), "{error}");
    assert!(!format!("{error} {wrong_key:?}").contains("not-the-key"), "the key never shows in messages");
    assert!(client(&fake).check_key().is_ok());
}

#[test]
fn reads_are_retried_through_5xx_and_html_but_creations_are_not() {
    let fake = FakeStrike::start();
    let strike = client(&fake);
    let invoice = strike.issue_invoice("p1", "d", five(), &Currency::usd()).unwrap();
    fake.fault(Fault::Status(503, "SERVICE_UNAVAILABLE"));
    fake.fault(Fault::Html(502));
    assert!(strike.find_invoice(&invoice.id).unwrap().is_some(), "third attempt succeeds");
    assert_eq!(fake.calls(&format!("GET /v1/invoices/{}", invoice.id)), 3);

    fake.fault(Fault::Status(503, "SERVICE_UNAVAILABLE"));
    let error = strike.issue_invoice("p2", "d", five(), &Currency::usd()).unwrap_err();
    assert!(matches!(error, ProviderError::Refused { status: 503, .. }));
    assert_eq!(fake.calls("POST /v1/invoices"), 2, "one attempt per creation");
}

#[test]
fn a_creation_that_times_out_is_found_again_by_its_correlation_id() {
    let fake = FakeStrike::start();
    let strike = client(&fake);
    fake.fault(Fault::Slow(Duration::from_millis(1500)));
    let error = strike.issue_invoice("payment-xyz", "d", five(), &Currency::usd()).unwrap_err();
    assert!(matches!(error, ProviderError::Unreachable(_)), "{error}");
    std::thread::sleep(Duration::from_millis(800)); // the fake finishes its slow answer
    let recovered = strike.find_by_correlation("payment-xyz").unwrap().expect("the invoice exists after all");
    assert_eq!(recovered.correlation_id.as_deref(), Some("payment-xyz"));
    assert_eq!(fake.invoice_count(), 1, "no second invoice");
}

#[test]
fn nonsense_and_rate_limits_are_reported_as_such() {
    let fake = FakeStrike::start();
    // A budget that refills quickly, so the test need not wait for Strike's.
    let quick = Rate { burst: 10, refill: 10, period: Duration::from_secs(1) };
    let strike = client(&fake).with_limits(Limits { new_invoice: quick, new_quote: quick, other: quick });
    fake.fault(Fault::Garbage);
    assert!(matches!(strike.issue_invoice("p", "d", five(), &Currency::usd()), Err(ProviderError::Nonsense(_))));

    // Strike's 429 is heeded: no call of that kind is sent before its
    // retry-after is over; other kinds go on.
    let invoice = strike.issue_invoice("p2", "d", five(), &Currency::usd()).unwrap();
    fake.fault(Fault::RateLimit(1));
    let reads = || fake.calls(&format!("GET /v1/invoices/{}", invoice.id));
    let before = reads();
    assert_eq!(
        strike.find_invoice(&invoice.id),
        Err(ProviderError::RateLimited { retry_after: Duration::from_secs(1) })
    );
    assert!(matches!(strike.find_invoice(&invoice.id), Err(ProviderError::RateLimited { .. })));
    assert_eq!(reads() - before, 1, "the second read was not sent");
    assert!(strike.issue_quote(&invoice.id).is_ok(), "quotes are counted apart");
    std::thread::sleep(Duration::from_millis(1200));
    assert!(strike.find_invoice(&invoice.id).unwrap().is_some(), "after the retry-after, reads go on");

    fake.fault(Fault::RateLimit(600));
    let error = strike.find_invoice(&invoice.id).unwrap_err();
    assert_eq!(error, ProviderError::RateLimited { retry_after: Duration::from_secs(600) });
    fake.fault(Fault::RateLimit(30));
    assert!(matches!(strike.issue_quote(&invoice.id), Err(ProviderError::RateLimited { .. })));
}

#[test]
fn no_request_is_sent_beyond_the_budget_of_its_kind() {
    let fake = FakeStrike::start();
    let spent_after = |burst| Rate { burst, refill: 0, period: Duration::from_secs(600) };
    let limits = Limits { new_invoice: spent_after(2), new_quote: spent_after(1), other: spent_after(3) };
    let strike = client(&fake).with_limits(limits);
    let invoice = strike.issue_invoice("b1", "d", five(), &Currency::usd()).unwrap();
    strike.issue_invoice("b2", "d", five(), &Currency::usd()).unwrap();
    let third = strike.issue_invoice("b3", "d", five(), &Currency::usd());
    assert!(matches!(third, Err(ProviderError::RateLimited { .. })), "{third:?}");
    assert_eq!(fake.invoice_count(), 2, "the third creation was never sent");
    assert!(strike.issue_quote(&invoice.id).is_ok());
    assert!(matches!(strike.issue_quote(&invoice.id), Err(ProviderError::RateLimited { .. })));
    for _ in 0..3 {
        assert!(strike.find_invoice(&invoice.id).unwrap().is_some());
    }
    assert!(
        matches!(strike.cancel_invoice(&invoice.id), Err(ProviderError::RateLimited { .. })),
        "cancels are reads' kind"
    );
    assert!(matches!(strike.find_by_correlation("b1"), Err(ProviderError::RateLimited { .. })));
    assert_eq!(fake.calls("GET /v1/invoices") + fake.calls("PATCH "), 3, "three reads sent, nothing more");
    assert!(strike.budget().is_some(), "checkout sees the budget it spends from");
}

#[test]
fn the_budget_is_sized_from_strikes_documented_limits() {
    let minute = Duration::from_secs(60);
    let production = documented_limits("https://api.strike.me");
    assert_eq!(production.new_invoice, Rate::within(250, minute));
    assert_eq!(production.new_quote, Rate::within(250, minute));
    assert_eq!(production.other, Rate::within(1000, minute * 10));
    let sandbox = documented_limits("https://api.dev.strike.me/");
    assert_eq!((sandbox.new_invoice, sandbox.other), (Rate::within(90, minute), Rate::within(350, minute * 10)));
}

#[test]
fn unreachable_strike_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let strike = StrikeClient::with_timeout(&format!("http://127.0.0.1:{port}"), KEY, Duration::from_millis(500));
    assert!(matches!(strike.check_key(), Err(ProviderError::Unreachable(_))));
    assert!(
        matches!(strike.issue_quote("../../v1/subscriptions"), Err(ProviderError::Nonsense(_))),
        "ids never become paths"
    );
}
