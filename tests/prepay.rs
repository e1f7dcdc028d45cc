//! Prepaying several periods at once, through the real Strike client (fake
//! Strike) and the real WHM client (fake WHM): the plan decides which
//! numbers of periods are sold and their price, the payment records them,
//! `paidUntil` moves by exactly that many periods exactly once, and the
//! receipt says so.

use crate::provisioning::{Shop, edit_by_hand, shop, wait_for};
use hostr::payment::{FulfilmentStatus, PaymentState};
use hostr::plan::{BillingCycle, Plan};
use hostr::prepay::PrepayOption;
use hostr::timestamp::Timestamp;
use serde_json::json;

/// A monthly plan at 5 USD sold for 1, 3 or 12 months (12 at 10 % off).
fn prepaid_plan(shop: &Shop) {
    let choice = |periods, discount_percent| PrepayOption { periods, discount_percent };
    let plan = Plan {
        id: "pro".into(),
        name: "Pro".into(),
        whm_package: "pro".into(),
        prepay: vec![choice(1, None), choice(3, None), choice(12, Some(10))],
        ..Plan::seed(Timestamp::now())
    };
    shop.server.app.store.create(&plan).unwrap();
}

#[test]
fn prepaid_periods_are_priced_by_the_plan_and_extend_paid_until_exactly_once() {
    let shop = shop(|_| {});
    prepaid_plan(&shop);
    let token = shop.customer();
    let create =
        |body: serde_json::Value| shop.server.authed("POST", "/api/create-invoice", &token, Some(&body.to_string()));

    // Numbers the plan does not sell are refused, naming what it sells; nothing is invoiced.
    let refused = create(json!({"planId": "pro", "domain": "pre.example", "periods": 6}));
    assert_eq!((refused.status, refused.error_code()), (400, "periods_not_offered".to_owned()));
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("it offers 1, 3, 12"));
    let basic = create(json!({"planId": "basic", "domain": "pre.example", "periods": 3}));
    assert_eq!(basic.error_code(), "periods_not_offered", "a plan file without prepay sells one period");
    assert_eq!(create(json!({"planId": "pro", "domain": "pre.example", "periods": "3"})).status, 400);
    assert!(shop.strike.state.lock().unwrap().created.is_empty());

    // Three months: three times the price (a price the client sends is ignored).
    let id = shop.buy_and_pay(&token, json!({"planId": "pro", "domain": "pre.example", "periods": 3, "amount": 1}));
    let invoiced = shop.strike.state.lock().unwrap().created.last().cloned().unwrap();
    assert_eq!(invoiced["amount"], json!({"amount": "15.00", "currency": "USD"}));
    let account = shop.fulfilled(&id);
    let payment = shop.payment(&id);
    assert_eq!((payment.periods, payment.amount.to_string()), (3, "15".to_owned()));
    let start = payment.period_start.unwrap();
    assert_eq!(account.paid_until, Some(BillingCycle::Monthly.after_periods(start, 3)));
    assert_eq!(payment.period_end, account.paid_until);

    // Fulfilled again (a crash before it was recorded): extended once only.
    edit_by_hand(&shop.db, "payments", &id, |p| p["fulfilment"]["status"] = json!("PROVISIONING"));
    wait_for("the second processing", || {
        Some(shop.payment(&id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Done && p.fulfilment.attempts == 2)
    });
    assert_eq!(shop.account(&account.id).paid_until, account.paid_until, "three months, once");

    // The receipt says three periods.
    let receipt = wait_for("the receipt", || shop.payment(&id).receipt);
    assert_eq!(receipt.periods, 3);
    let tags = receipt.event["tags"].as_array().unwrap();
    assert!(tags.contains(&json!(["periods", "3"])), "{tags:?}");

    // A renewal for a year: 12 × 5 USD less 10 %, from the old end.
    let open = create(json!({"accountId": account.id}));
    assert_eq!((open.status, open.json()["payment"]["periods"].clone()), (201, json!(1)), "one unless asked");
    let other = create(json!({"accountId": account.id, "periods": 12}));
    assert_eq!((other.status, other.error_code()), (409, "other_periods_open".to_owned()));
    let open_id = open.json()["payment"]["id"].as_str().unwrap().to_owned();
    let cancel = json!({"paymentId": open_id}).to_string();
    assert_eq!(shop.server.authed("POST", "/api/cancel-invoice", &token, Some(&cancel)).status, 200);
    let renewal = shop.buy_and_pay(&token, json!({"accountId": account.id, "periods": 12}));
    let invoiced = shop.strike.state.lock().unwrap().created.last().cloned().unwrap();
    assert_eq!(invoiced["amount"], json!({"amount": "54.00", "currency": "USD"}));
    let renewed = shop.fulfilled(&renewal);
    assert_eq!(renewed.paid_until, Some(BillingCycle::Monthly.after_periods(account.paid_until.unwrap(), 12)));
    assert_eq!(shop.payment(&renewal).periods, 12);
}

#[test]
fn the_checkout_makes_a_renewal_payment_of_an_account_for_n_periods() {
    let shop = shop(|_| {});
    prepaid_plan(&shop);
    let token = shop.customer();
    let account = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "pro", "domain": "auto.example"})));
    let checkout = &shop.server.app.checkout;
    let payment = checkout.renewal_payment(&account.id, Some(12)).unwrap();
    assert_eq!((payment.state, payment.periods, payment.amount.to_string()), (PaymentState::Pending, 12, "54".into()));
    assert!(payment.bolt11.is_some(), "invoiced at Strike");
    let again = checkout.renewal_payment(&account.id, Some(12)).unwrap();
    assert_eq!(again.id, payment.id, "one open renewal per account");
    assert!(checkout.renewal_payment(&account.id, Some(6)).is_err(), "not offered");
    assert!(checkout.renewal_payment("00000000-0000-4000-8000-000000000000", None).is_err());
}
