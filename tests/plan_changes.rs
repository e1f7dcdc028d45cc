//! Plan changes through the API, the real WHM client and a fake WHM: an
//! upgrade charges the prorated difference and moves the package once, even
//! when WHM applied it but its answer was lost; a downgrade waits for the
//! renewal and is refused when the disk does not fit; a cycle change starts
//! a new period; the reconcile pass follows the files' packages but not a
//! package changed by hand in WHM.

use crate::provisioning::{Shop, edit_by_hand, shop, wait_for};
use hostr::cpanel_account::CpanelAccount;
use hostr::money::Money;
use hostr::plan::{BillingCycle, Plan};
use hostr::timestamp::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;

fn money(text: &str) -> Money {
    text.parse().unwrap()
}

/// A plan next to the seeded `basic` (5 USD a month, 10 GB, package `basic`).
fn add_plan(shop: &Shop, id: &str, price: &str, storage: u32, cycle: BillingCycle) {
    let plan = Plan {
        id: id.into(),
        name: format!("Plan {id}"),
        price: money(price),
        storage,
        billing_cycle: cycle,
        whm_package: format!("root_{id}"),
        ..Plan::seed(Timestamp::now())
    };
    shop.server.app.store.create(&plan).unwrap();
}

fn days_from(now: Timestamp, n: i64) -> String {
    Timestamp::from(now.as_datetime() + chrono::Duration::days(n)).to_string()
}

fn days(n: i64) -> String {
    days_from(Timestamp::now(), n)
}

/// An ACTIVE account on `basic` whose month began 10 days ago and ends in 20.
fn account_a_third_through(shop: &Shop, token: &str, domain: &str) -> CpanelAccount {
    let bought = shop.buy_and_pay(token, json!({"planId": "basic", "domain": domain}));
    let account = shop.fulfilled(&bought);
    let now = Timestamp::now();
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| {
        a["paidUntil"] = json!(days_from(now, 20));
        a["appliedPayments"][0]["from"] = json!(days_from(now, -10));
        a["appliedPayments"][0]["until"] = json!(days_from(now, 20));
    });
    account
}

fn change(shop: &Shop, token: &str, account: &str, plan: &str) -> crate::common::Reply {
    let body = json!({"accountId": account, "planId": plan}).to_string();
    shop.server.authed("POST", "/api/plan-change", token, Some(&body))
}

/// Pays an invoice answered by the API at the fake Strike; its payment id.
fn pay(shop: &Shop, token: &str, answer: &Value) -> String {
    let payment = &answer["payment"];
    let id = payment["id"].as_str().unwrap().to_owned();
    shop.strike.set_state(payment["strikeInvoiceId"].as_str().unwrap(), "PAID");
    let check = shop.server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), token, None);
    assert_eq!(check.json()["payment"]["state"], "PAID");
    id
}

#[test]
fn an_upgrade_charges_the_prorated_difference_and_changes_the_package_once_despite_a_lost_answer() {
    let shop = shop(|_| {});
    add_plan(&shop, "pro", "12.5", 50, BillingCycle::Monthly);
    let token = shop.customer();
    let account = account_a_third_through(&shop, &token, "grow.example");
    let paid_until = shop.account(&account.id).paid_until;

    // Two thirds of the month left: ceil(1250·⅔) − floor(500·⅔) = 834 − 333 cents.
    let url = format!("/api/plan-change?accountId={}&planId=pro", account.id);
    let quote = shop.server.authed("GET", &url, &token, None).json();
    assert_eq!((quote["kind"].as_str(), quote["proration"]["due"].as_f64()), (Some("upgrade"), Some(5.01)), "{quote}");
    assert_eq!((quote["proration"]["credit"].as_f64(), quote["proration"]["debit"].as_f64()), (Some(3.33), Some(8.34)));
    assert_eq!(quote["proration"]["periodSeconds"], 30 * 86400);

    // WHM applies the change but answers after the client gave up.
    shop.whm.state.lock().unwrap().slow_function = Some(("changepackage".into(), Duration::from_secs(3)));
    let reply = change(&shop, &token, &account.id, "pro");
    assert_eq!(reply.status, 201, "{:?}", reply.json());
    let answer = reply.json();
    assert_eq!((answer["kind"].as_str(), answer["payment"]["amount"].as_f64()), (Some("upgrade"), Some(5.01)));
    assert_eq!(answer["payment"]["fromPlanId"], "basic");
    let again = change(&shop, &token, &account.id, "pro").json();
    assert_eq!(again["payment"]["id"], answer["payment"]["id"], "a second click answers the open payment");
    let payment_id = pay(&shop, &token, &answer);

    let upgraded = shop.fulfilled(&payment_id);
    assert_eq!(upgraded.plan_id, "pro");
    assert_eq!(upgraded.paid_until, paid_until, "the renewal date does not move");
    assert_eq!(shop.on_whm(&upgraded.username).unwrap().plan, "root_pro");
    assert_eq!((upgraded.whm_package.as_deref(), &upgraded.package_request), (Some("root_pro"), &None));
    shop.server.app.provisioner.cycle(true);
    assert_eq!(shop.whm.calls("changepackage"), 1, "asked accountsummary instead of sending it again");

    // The next renewal is at the new plan's price.
    let renewal =
        shop.server.authed("POST", "/api/create-invoice", &token, Some(&json!({"accountId": account.id}).to_string()));
    assert_eq!(
        (renewal.json()["payment"]["planId"].as_str(), renewal.json()["payment"]["amount"].as_f64()),
        (Some("pro"), Some(12.5))
    );
}

#[test]
fn a_downgrade_waits_for_the_renewal_and_is_refused_when_the_disk_does_not_fit() {
    let shop = shop(|c| c.schedule.usage = Duration::from_millis(200));
    add_plan(&shop, "pro", "12.5", 50, BillingCycle::Monthly);
    add_plan(&shop, "mini", "2", 1, BillingCycle::Monthly);
    let token = shop.customer();
    let bought = shop.buy_and_pay(&token, json!({"planId": "pro", "domain": "shrink.example"}));
    let account = shop.fulfilled(&bought);
    let user = account.username.clone();
    shop.whm.state.lock().unwrap().accounts.get_mut(&user).unwrap().disk_used_mb = 2000;
    wait_for("the usage reading", || shop.account(&account.id).resource_usage.filter(|u| u.disk_used_mb == 2000));

    let refused = change(&shop, &token, &account.id, "mini");
    assert_eq!((refused.status, refused.error_code()), (409, "disk_too_large".into()));
    let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("2000 MB") && message.contains("1024 MB"), "{message}");

    // To basic (10 GB): scheduled, nothing charged, nothing changed yet; cancellable.
    let scheduled = change(&shop, &token, &account.id, "basic");
    assert_eq!((scheduled.status, scheduled.json()["kind"].as_str()), (200, Some("scheduled")));
    assert_eq!(scheduled.json()["account"]["scheduledPlan"]["planId"], "basic");
    assert_eq!(shop.account(&account.id).plan_id, "pro");
    let cancel = json!({"accountId": account.id}).to_string();
    let cancelled = shop.server.authed("POST", "/api/plan-change/cancel", &token, Some(&cancel));
    assert_eq!((cancelled.status, &cancelled.json()["account"]["scheduledPlan"]), (200, &Value::Null));
    assert_eq!(change(&shop, &token, &account.id, "basic").status, 200);

    // The renewal is for basic at basic's price; paid ahead, it changes nothing today.
    let renewal = shop.buy_and_pay(&token, json!({"accountId": account.id}));
    assert_eq!((shop.payment(&renewal).plan_id.as_str(), shop.payment(&renewal).amount), ("basic", money("5")));
    let renewed = shop.fulfilled(&renewal);
    assert_eq!(renewed.plan_id, "pro");
    assert_eq!(renewed.scheduled_plan.as_ref().unwrap().from, account.paid_until, "from the start of the paid period");
    let locked = shop.server.authed("POST", "/api/plan-change/cancel", &token, Some(&cancel));
    assert_eq!((locked.status, locked.error_code()), (409, "change_locked".into()));
    shop.server.app.provisioner.cycle(true);
    assert_eq!((shop.on_whm(&user).unwrap().plan.as_str(), shop.whm.calls("changepackage")), ("root_pro", 0));

    // That period begins: the plan and then the package change, once.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["scheduledPlan"]["from"] = json!(days(-1)));
    wait_for("the package change", || shop.on_whm(&user).filter(|a| a.plan == "basic"));
    assert_eq!(shop.account(&account.id).plan_id, "basic");
    assert_eq!(shop.whm.calls("changepackage"), 1);
}

#[test]
fn a_longer_cycle_starts_a_new_period_now_crediting_the_old_one() {
    let shop = shop(|_| {});
    add_plan(&shop, "basic-yearly", "50", 10, BillingCycle::Yearly);
    let token = shop.customer();
    let account = account_a_third_through(&shop, &token, "cycle.example");
    let reply = change(&shop, &token, &account.id, "basic-yearly");
    assert_eq!(reply.status, 201, "{:?}", reply.json());
    // 50 less floor(500·⅔) cents.
    assert_eq!(
        (reply.json()["kind"].as_str(), reply.json()["payment"]["amount"].as_f64()),
        (Some("cycleChange"), Some(46.67))
    );
    let payment_id = pay(&shop, &token, &reply.json());
    let changed = shop.fulfilled(&payment_id);
    let priced_at = shop.payment(&payment_id).created_at;
    assert_eq!(
        (changed.plan_id.as_str(), changed.paid_until),
        ("basic-yearly", Some(BillingCycle::Yearly.after(priced_at)))
    );
    assert_eq!(shop.on_whm(&changed.username).unwrap().plan, "root_basic-yearly");
}

#[test]
fn the_files_move_packages_but_a_package_changed_by_hand_in_whm_is_only_reported() {
    let shop = shop(|_| {});
    add_plan(&shop, "pro", "12.5", 50, BillingCycle::Monthly);
    let token = shop.customer();
    let bought = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "hand.example"}));
    let account = shop.fulfilled(&bought);
    let user = account.username.clone();

    // The operator changes the plan in the file: WHM follows.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["planId"] = json!("pro"));
    wait_for("the package change", || shop.on_whm(&user).filter(|a| a.plan == "root_pro"));
    wait_for("its record", || shop.account(&account.id).whm_package.filter(|p| p == "root_pro"));

    // Someone changes the package in WHM by hand: reported, left alone.
    shop.whm.state.lock().unwrap().accounts.get_mut(&user).unwrap().plan = "custom".into();
    let (report, _) = shop.server.app.provisioner.sync(hostr::whm_server::DEFAULT_SERVER, true).unwrap();
    assert!(report.drift.iter().any(|d| d.contains("on package custom on WHM")), "{report:?}");
    shop.server.app.provisioner.cycle(true);
    assert_eq!((shop.on_whm(&user).unwrap().plan.as_str(), shop.whm.calls("changepackage")), ("custom", 1));

    // Until the file says so.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["whmPackage"] = json!("custom"));
    wait_for("the package change", || shop.on_whm(&user).filter(|a| a.plan == "root_pro"));
    assert_eq!(shop.whm.calls("changepackage"), 2);

    // A file from before hostr recorded packages, moved by command: taken
    // to be on its old plan's package, so WHM follows instead of a report.
    wait_for("its record", || shop.account(&account.id).whm_package.filter(|p| p == "root_pro"));
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["whmPackage"] = Value::Null);
    hostr::provisioning::operator::change_plan(&shop.server.app.store, &account.id, "basic", false).unwrap();
    wait_for("the package change", || shop.on_whm(&user).filter(|a| a.plan == "basic"));
}

#[test]
fn changes_that_cannot_be_made_are_refused_with_their_reason() {
    let shop = shop(|_| {});
    add_plan(&shop, "pro", "12.5", 50, BillingCycle::Monthly);
    let euro = Plan {
        id: "euro".into(),
        currency: "EUR".parse().unwrap(),
        price: money("20"),
        ..Plan::seed(Timestamp::now())
    };
    shop.server.app.store.create(&euro).unwrap();
    let token = shop.customer();
    let bought = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "no.example"}));
    let account = shop.fulfilled(&bought);
    let code = |plan: &str| change(&shop, &token, &account.id, plan).error_code();
    assert_eq!(code("basic"), "same_plan");
    assert_eq!(code("euro"), "plan_currency_differs");
    assert_eq!(code("nope"), "unknown_plan");
    let other = shop.server.sign_in(&crate::common::new_keys());
    assert_eq!(shop.server.authed("POST", "/api/new-user", &other, Some("{}")).status, 201);
    assert_eq!(change(&shop, &other, &account.id, "pro").error_code(), "not_your_account");
    let bad = shop.server.authed("POST", "/api/plan-change", &token, Some(r#"{"accountId": 5}"#));
    assert_eq!(bad.status, 400);
    // A renewal waiting to be paid holds the account's one open payment.
    let renewal =
        shop.server.authed("POST", "/api/create-invoice", &token, Some(&json!({"accountId": account.id}).to_string()));
    assert_eq!(renewal.status, 201);
    assert_eq!(code("pro"), "renewal_open");
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["status"] = json!("EXPIRED"));
    assert_eq!(code("pro"), "account_not_active");
}
