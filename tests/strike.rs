//! The real Strike client against a fake Strike on loopback: the happy
//! path, Strike's error envelope, 5xx, timeouts, nonsense and rate limits.

use crate::common::fake_strike::{FakeStrike, Fault, KEY};
use hostr::checkout::provider::{InvoiceState, PaymentProvider, ProviderError};
use hostr::money::{Currency, Money};
use hostr::strike::StrikeClient;
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
    let strike = client(&fake);
    fake.fault(Fault::Garbage);
    assert!(matches!(strike.issue_invoice("p", "d", five(), &Currency::usd()), Err(ProviderError::Nonsense(_))));

    // A short retry-after on a read is waited out; a long one is reported.
    let invoice = strike.issue_invoice("p2", "d", five(), &Currency::usd()).unwrap();
    fake.fault(Fault::RateLimit(1));
    let reads = fake.calls(&format!("GET /v1/invoices/{}", invoice.id));
    assert!(strike.find_invoice(&invoice.id).unwrap().is_some());
    assert_eq!(
        fake.calls(&format!("GET /v1/invoices/{}", invoice.id)) - reads,
        2,
        "retried after the short retry-after"
    );
    fake.fault(Fault::RateLimit(600));
    let error = strike.find_invoice(&invoice.id).unwrap_err();
    assert_eq!(error, ProviderError::RateLimited { retry_after: Duration::from_secs(600) });
    fake.fault(Fault::RateLimit(30));
    assert!(matches!(strike.issue_quote(&invoice.id), Err(ProviderError::RateLimited { .. })));
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
