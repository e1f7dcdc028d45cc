//! The `hostr` binary as an operator uses it.

use crate::common::{customer, key, temp_dir};
use hostr::customer::npub;
use hostr::store::Store;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn hostr(database: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hostr")).arg("--database").arg(database).args(args).output().expect("run hostr")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_passes_a_clean_database_and_fails_a_broken_one_with_positions() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let alice = customer(&key(7), None);
    store.create(&alice).unwrap();
    let ok = hostr(dir.path(), &["check"]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("0 problem(s)"), "{}", stdout(&ok));

    // A trailing comma in a plan, a dangling reference, a misnamed file.
    let plans = store.dir::<hostr::plan::Plan>().unwrap();
    std::fs::write(plans.join("pro.json"), "{\n  \"id\": \"pro\",\n  \"name\": \"Pro\",\n}\n").unwrap();
    let path = store.dir::<hostr::customer::Customer>().unwrap().join(format!("{}.json", alice.id));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"planId\": null", "\"planId\": \"gone\"")).unwrap();
    std::fs::write(store.dir::<hostr::customer::Customer>().unwrap().join("notes.txt"), "hello").unwrap();

    let failed = hostr(dir.path(), &["check"]);
    assert_eq!(failed.status.code(), Some(1));
    let out = stdout(&failed);
    assert!(out.contains(&format!("{}:4:1: trailing comma", plans.join("pro.json").display())), "{out}");
    assert!(out.contains(&format!("{}:6:3: `planId` names plan gone", path.display())), "{out}");
    assert!(out.contains("notes.txt:1:1: not a customer file"), "{out}");
    assert!(out.contains("3 problem(s)"), "{out}");

    let json: serde_json::Value = serde_json::from_slice(&hostr(dir.path(), &["check", "--json"]).stdout).unwrap();
    assert_eq!(json["problems"].as_array().unwrap().len(), 3);
}

#[test]
fn plans_can_be_added_listed_and_shown() {
    let dir = temp_dir();
    let added = hostr(
        dir.path(),
        &["plan", "add", "pro", "--name", "Pro hosting", "--storage", "50", "--bandwidth", "500", "--price", "12.50"],
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let list = stdout(&hostr(dir.path(), &["plan", "list"]));
    assert!(list.contains("Pro hosting") && list.contains("12.5 USD"), "{list}");
    let shown: serde_json::Value = serde_json::from_slice(&hostr(dir.path(), &["plan", "show", "pro"]).stdout).unwrap();
    assert_eq!(shown["price"], serde_json::json!(12.5));
    assert_eq!(shown["whmPackage"], "pro");

    let again =
        hostr(dir.path(), &["plan", "add", "pro", "--name", "x", "--storage", "1", "--bandwidth", "1", "--price", "1"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad_price = hostr(
        dir.path(),
        &["plan", "add", "cheap", "--name", "x", "--storage", "1", "--bandwidth", "1", "--price", "0.001"],
    );
    assert!(!bad_price.status.success());
    let why = String::from_utf8_lossy(&bad_price.stderr);
    assert!(why.contains("price") && why.contains("USD amounts have at most 2"), "{why}");
}

#[test]
fn plans_can_be_priced_in_btc_to_the_sat_or_in_whole_sats() {
    let dir = temp_dir();
    let add = |id: &str, price: &str, currency: &str| {
        let args = ["plan", "add", id, "--name", id, "--storage", "1", "--bandwidth", "1", "--price", price];
        hostr(dir.path(), &[&args[..], &["--currency", currency]].concat())
    };
    for (id, price, currency, ok, shown) in [
        ("btc", "0.00050000", "BTC", true, Some(json!(0.0005))),
        ("fine", "0.00012345", "BTC", true, Some(json!(0.00012345))),
        ("sats", "21000", "SAT", true, Some(json!(21000))),
        ("toofine", "0.000000001", "BTC", false, None),
        ("halfsat", "21000.5", "SAT", false, None),
        ("cent", "9.999", "EUR", false, None),
    ] {
        let out = add(id, price, currency);
        assert_eq!(out.status.success(), ok, "{price} {currency}: {}", String::from_utf8_lossy(&out.stderr));
        if let Some(shown) = shown {
            let plan: serde_json::Value =
                serde_json::from_slice(&hostr(dir.path(), &["plan", "show", id]).stdout).unwrap();
            assert_eq!((plan["price"].clone(), plan["currency"].as_str()), (shown, Some(currency)), "{id}");
        }
    }
    let list = stdout(&hostr(dir.path(), &["plan", "list"]));
    assert!(list.contains("0.0005 BTC") && list.contains("21000 SAT"), "{list}");
    // An edit is checked by the same rules: sats have no decimals.
    let edit = hostr(dir.path(), &["plan", "edit", "sats", "--price", "1.5"]);
    assert!(!edit.status.success());
    assert!(String::from_utf8_lossy(&edit.stderr).contains("no decimals"));
    let edit = hostr(dir.path(), &["plan", "edit", "btc", "--currency", "SAT"]);
    assert!(!edit.status.success(), "a new currency without a new price is refused");
    assert!(String::from_utf8_lossy(&edit.stderr).contains("together with a price"));
    let edit = hostr(dir.path(), &["plan", "edit", "btc", "--currency", "SAT", "--price", "50000"]);
    assert!(edit.status.success(), "{}", String::from_utf8_lossy(&edit.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&hostr(dir.path(), &["plan", "show", "btc"]).stdout).unwrap();
    assert_eq!((plan["price"].clone(), plan["currency"].as_str()), (json!(50000), Some("SAT")));
}

#[test]
fn plans_offer_prepaid_periods_checked_by_add_edit_and_check() {
    let dir = temp_dir();
    let add = ["plan", "add", "pro", "--name", "Pro", "--storage", "1", "--bandwidth", "1", "--price", "4.99"];
    let refused = hostr(dir.path(), &[&add[..], &["--prepay", "1,2"]].concat());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("use 1, 3, 6 or 12"));
    let added = hostr(dir.path(), &[&add[..], &["--prepay", "1,3,12:15"]].concat());
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(stdout(&added).contains("1, 3, 12 (15 % off) periods"), "{}", stdout(&added));
    let plan: serde_json::Value = serde_json::from_slice(&hostr(dir.path(), &["plan", "show", "pro"]).stdout).unwrap();
    assert_eq!(plan["prepay"], json!([{"periods": 1}, {"periods": 3}, {"periods": 12, "discountPercent": 15}]));
    let edit = hostr(dir.path(), &["plan", "edit", "pro", "--prepay", "12:100"]);
    assert!(
        String::from_utf8_lossy(&edit.stderr).contains("from 1 to 99"),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let edit = hostr(dir.path(), &["plan", "edit", "pro", "--prepay", "1,6:5"]);
    assert!(edit.status.success() && stdout(&edit).contains("prepay"), "{}", stdout(&edit));

    // An old plan file without the field is fine; a hand edit with a bad choice is reported.
    let path = dir.path().join("plans/pro.json");
    let mut file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    file.as_object_mut().unwrap().remove("prepay");
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    assert!(hostr(dir.path(), &["check"]).status.success());
    file["prepay"] = json!([{"periods": 3}, {"periods": 3}]);
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    let check = hostr(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("listed twice"), "{}", stdout(&check));
}

#[test]
fn customers_are_found_by_id_hex_key_or_npub() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let hex = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
    let c = customer(hex, Some("c@example.com"));
    store.create(&c).unwrap();
    let npub = npub(hex).unwrap();
    for query in [c.id.as_str(), hex, npub.as_str()] {
        let out = hostr(dir.path(), &["customer", "show", query, "--json"]);
        assert!(out.status.success(), "{query}: {}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["id"], c.id.as_str());
    }
    let list = stdout(&hostr(dir.path(), &["customer", "list"]));
    assert!(list.contains(&npub) && list.contains("ACTIVE") && list.contains("c@example.com"), "{list}");
    let missing = hostr(dir.path(), &["customer", "show", &key(9)]);
    assert!(!missing.status.success());
    let garbage = hostr(dir.path(), &["customer", "show", "../../etc/passwd"]);
    assert!(!garbage.status.success());
}

/// `hostr serve` over `database` on a free port, once it says it listens:
/// the child, its log (stderr) and its address.
fn serve(
    database: &std::path::Path,
) -> (std::process::Child, BufReader<std::process::ChildStderr>, std::net::SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hostr"))
        .args(["--database", database.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "hostr exited early");
    }
    (child, log, format!("127.0.0.1:{port}").parse().unwrap())
}

#[test]
fn serve_logs_a_broken_file_with_its_position_and_stops_on_sigterm() {
    let dir = temp_dir();
    let db = dir.path().join("database");
    std::fs::create_dir_all(db.join("plans")).unwrap();
    std::fs::write(db.join("plans/broken.json"), "{\n  \"id\": \"broken\",\n  \"storage\": \"ten\"\n}\n").unwrap();
    let (mut child, mut log, addr) = serve(&db);
    let reply = crate::common::send(addr, "GET /api/plans HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(reply.status, 200);
    std::thread::sleep(Duration::from_millis(100));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{rest}");
    let broken = db.join("plans/broken.json");
    assert!(rest.contains(&format!("{}:3:18: invalid type", broken.display())), "{rest}");
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn set_key_moves_a_customer_to_a_new_key_and_keeps_every_reference() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let old = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
    let mut c = customer(old, Some("lost@example.com"));
    c.payment_ids = vec![hostr::ids::new_uuid()];
    store.create(&c).unwrap();
    let taken = customer(&key(5), None);
    store.create(&taken).unwrap();
    let new_key = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";
    let new_npub = npub(new_key).unwrap();

    let moved = hostr(dir.path(), &["customer", "set-key", old, &new_npub]);
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    let after: hostr::customer::Customer = store.get(&c.id).unwrap();
    assert_eq!(after.public_key, new_key);
    assert_eq!((after.email.clone(), after.payment_ids.clone()), (c.email.clone(), c.payment_ids.clone()));
    assert_eq!(after.session_epoch, c.session_epoch + 1, "sessions of the old key end");
    assert_eq!(store.find(hostr::customer::Customer::by_public_key(new_key)).unwrap().unwrap().id, c.id);
    assert!(store.find(hostr::customer::Customer::by_public_key(old)).unwrap().is_none());

    let clash = hostr(dir.path(), &["customer", "set-key", &c.id, &key(5)]);
    assert!(!clash.status.success());
    assert!(String::from_utf8_lossy(&clash.stderr).contains("already has the key"));
    let junk = hostr(dir.path(), &["customer", "set-key", &c.id, "npub1nonsense"]);
    assert!(!junk.status.success());
    assert_eq!(store.get::<hostr::customer::Customer>(&c.id).unwrap().public_key, new_key);
}

#[test]
fn serve_settings_belong_to_serve_and_do_not_trouble_other_commands() {
    let dir = temp_dir();
    let misplaced = hostr(dir.path(), &["--workers", "0", "check"]);
    assert!(!misplaced.status.success(), "a serve flag before another command must be refused");
    let checked = Command::new(env!("CARGO_BIN_EXE_hostr"))
        .args(["--database", dir.path().to_str().unwrap(), "check"])
        .env("HOSTR_LISTEN", "not an address")
        .output()
        .unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let bad = hostr(dir.path(), &["serve", "--workers", "0"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--workers must be between 1 and 256"));
}

#[test]
fn payments_are_listed_shown_and_marked_paid_by_the_operator() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let c = customer(&key(11), None);
    store.create(&c).unwrap();
    let plan = hostr::plan::Plan::seed(hostr::timestamp::Timestamp::now());
    let payment = hostr::payment::Payment {
        state: hostr::payment::PaymentState::Expired,
        ..hostr::payment::Payment::pending(
            &c.id,
            &plan,
            hostr::ids::new_uuid(),
            Some("cash.example".into()),
            plan.created_at,
        )
    };
    store.create(&payment).unwrap();
    let list = stdout(&hostr(dir.path(), &["payment", "list"]));
    assert!(list.contains(&payment.id) && list.contains("EXPIRED") && list.contains("cash.example"), "{list}");
    assert!(!stdout(&hostr(dir.path(), &["payment", "list", "--state", "paid"])).contains(&payment.id));

    let no_reason = hostr(dir.path(), &["payment", "mark-paid", &payment.id, "--reason", " "]);
    assert!(!no_reason.status.success());
    let marked = hostr(dir.path(), &["payment", "mark-paid", &payment.id, "--reason", "paid in cash at the office"]);
    assert!(marked.status.success(), "{}", String::from_utf8_lossy(&marked.stderr));
    let after: hostr::payment::Payment = store.get(&payment.id).unwrap();
    assert_eq!(after.state, hostr::payment::PaymentState::Paid);
    assert_eq!(after.marked_paid.unwrap().reason, "paid in cash at the office");
    assert_eq!(after.fulfilment.status, hostr::payment::FulfilmentStatus::Provisioning, "fulfilment follows");
    let receipt = after.receipt.expect("marking paid issues the receipt");
    assert_eq!((receipt.label.as_str(), receipt.method.as_str()), ("000001", "Other means (recorded by the operator)"));
    assert!(String::from_utf8_lossy(&marked.stdout).contains("receipt 000001 issued"));
    let twice = hostr(dir.path(), &["payment", "mark-paid", &payment.id, "--reason", "again"]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already paid"));
    let shown: serde_json::Value =
        serde_json::from_slice(&hostr(dir.path(), &["payment", "show", &payment.id]).stdout).unwrap();
    assert_eq!(shown["markedPaid"]["reason"], "paid in cash at the office");
}

#[test]
fn strike_test_and_subscribe_talk_to_strike() {
    use crate::common::fake_strike::{FakeStrike, KEY};
    let fake = FakeStrike::start();
    let dir = temp_dir();
    let run = |key: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hostr"))
            .args(["--database", dir.path().to_str().unwrap()])
            .args(args)
            .env("STRIKE_API_KEY", key)
            .env("STRIKE_API_URL", &fake.url)
            .env("STRIKE_WEBHOOK_SECRET", "cli-secret-1234")
            .output()
            .unwrap()
    };
    let ok = run(KEY, &["strike", "test"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let bad = run("wrong-key", &["strike", "test"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("UNAUTHORIZED"));
    assert!(!String::from_utf8_lossy(&bad.stderr).contains("wrong-key"), "the key is never printed");
    let subscribed = run(KEY, &["strike", "subscribe", "--public-url", "https://hosting.example.com"]);
    assert!(subscribed.status.success(), "{}", String::from_utf8_lossy(&subscribed.stderr));
    assert!(stdout(&subscribed).contains("https://hosting.example.com/api/webhooks/strike"));
    assert_eq!(fake.calls("POST /v1/subscriptions"), 1);
}

fn hostr_with_whm(database: &std::path::Path, whm: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hostr"))
        .arg("--database")
        .arg(database)
        .args(args)
        .env("WHM_URL", whm)
        .env("WHM_API_TOKEN", token)
        .output()
        .expect("run hostr")
}

#[test]
fn operators_suspend_retry_and_compare_with_whm() {
    use crate::common::fake_whm::{FakeWhm, TOKEN};
    use hostr::cpanel_account::{AccountStatus, CpanelAccount};
    use hostr::payment::{FulfilmentStatus, Payment};
    use hostr::timestamp::Timestamp;

    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let plan = hostr::plan::Plan::seed(Timestamp::now());
    store.create(&plan).unwrap();
    let owner = customer(&key(9), None);
    store.create(&owner).unwrap();
    let now = Timestamp::now();
    let in_a_month = Timestamp::from(now.as_datetime() + chrono::Duration::days(30));
    let shop = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(in_a_month),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "shop", "shop.example", &owner.id, "basic", now)
    };
    store.create(&shop).unwrap();

    let list = stdout(&hostr(dir.path(), &["account", "list"]));
    assert!(list.contains("shop") && list.contains("ACTIVE") && list.contains("shop.example"), "{list}");
    assert!(!hostr(dir.path(), &["account", "suspend", "shop", "--reason", " "]).status.success());
    let suspended = hostr(dir.path(), &["account", "suspend", "shop", "--reason", "phishing"]);
    assert!(suspended.status.success(), "{}", String::from_utf8_lossy(&suspended.stderr));
    let stored: CpanelAccount = store.get(&shop.id).unwrap();
    assert_eq!((stored.status, stored.suspend_reason.as_deref()), (AccountStatus::Suspended, Some("phishing")));
    assert!(hostr(dir.path(), &["account", "unsuspend", &shop.id]).status.success());
    assert_eq!(store.get::<CpanelAccount>(&shop.id).unwrap().status, AccountStatus::Active, "paid, so ACTIVE");
    assert!(!hostr(dir.path(), &["account", "show", "nobody"]).status.success());

    // A failed fulfilment is a problem for `hostr check` until retried.
    let mut payment = Payment::pending(&owner.id, &plan, hostr::ids::new_uuid(), Some("next.example".into()), now);
    payment.record_paid(now);
    payment.fulfilment.status = FulfilmentStatus::Failed;
    payment.fulfilment.attempts = 3;
    payment.fulfilment.last_error = Some("WHM refused the domain next.example".into());
    store.create(&payment).unwrap();
    let check = hostr(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1));
    let out = stdout(&check);
    assert!(out.contains("fulfilment FAILED after 3 attempt(s): WHM refused the domain next.example"), "{out}");
    assert!(out.contains(&format!("hostr payment retry {}", payment.id)), "{out}");
    assert!(hostr(dir.path(), &["payment", "retry", &payment.id]).status.success());
    let retried: Payment = store.get(&payment.id).unwrap();
    assert_eq!(retried.fulfilment.status, FulfilmentStatus::Provisioning);
    assert!(hostr(dir.path(), &["check"]).status.success(), "{}", stdout(&hostr(dir.path(), &["check"])));

    // WHM: the token is checked; sync reports and fixes differences.
    let whm = FakeWhm::start();
    let test = hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "test"]);
    assert!(stdout(&test).contains("the token works"), "{}", String::from_utf8_lossy(&test.stderr));
    let refused = hostr_with_whm(dir.path(), &whm.url, "WRONG", &["whm", "test"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("token"));
    whm.add_account("shop", "shop.example");
    whm.state.lock().unwrap().accounts.get_mut("shop").unwrap().plan = "basic".into();
    whm.add_account("legacy", "legacy.example");
    assert!(hostr(dir.path(), &["account", "suspend", "shop", "--reason", "review"]).status.success());
    let dry = hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync"]);
    let out = stdout(&dry);
    assert_eq!(dry.status.code(), Some(1), "{out}");
    assert!(out.contains("would suspend shop") && out.contains("not in hostr: legacy (legacy.example)"), "{out}");
    assert!(whm.state.lock().unwrap().accounts["shop"].suspended.is_none(), "a dry run changes nothing");
    let fixed = hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync", "--fix"]);
    assert!(stdout(&fixed).contains("suspended 1"), "{}", stdout(&fixed));
    let reason = whm.state.lock().unwrap().accounts["shop"].suspended.clone().unwrap();
    assert!(reason.contains("operator: review"), "{reason}");
    let again = hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync"]);
    assert!(again.status.success(), "{}", stdout(&again));

    // A change of plan by command: the file first, then WHM's package by sync (or the server).
    let pro = hostr::plan::Plan { id: "pro".into(), whm_package: "root_pro".into(), ..plan.clone() };
    store.create(&pro).unwrap();
    assert!(!hostr(dir.path(), &["account", "change-plan", "shop", "nope"]).status.success());
    let changed = hostr(dir.path(), &["account", "change-plan", "shop", "pro"]);
    assert!(stdout(&changed).contains("now on plan pro"), "{}", String::from_utf8_lossy(&changed.stderr));
    let dry = stdout(&hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync"]));
    assert!(dry.contains("would move shop to package root_pro"), "{dry}");
    let fixed = stdout(&hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync", "--fix"]));
    assert!(fixed.contains("moved to another package 1"), "{fixed}");
    assert_eq!(whm.state.lock().unwrap().accounts["shop"].plan, "root_pro");
    assert!(hostr(dir.path(), &["account", "change-plan", "shop", "basic", "--at-renewal"]).status.success());
    let scheduled: CpanelAccount = store.get(&shop.id).unwrap();
    assert_eq!((scheduled.plan_id.as_str(), scheduled.scheduled_plan.unwrap().plan_id.as_str()), ("pro", "basic"));
}

#[test]
fn what_a_client_sends_cannot_forge_log_lines_or_terminal_escapes() {
    let dir = temp_dir();
    let (mut child, mut log, addr) = serve(dir.path());
    let hostile = [
        "G\u{1b}[2J\"ET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "GET\r /b\rFORGED HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "PO\0ST /c%0aFORGED%1b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ];
    for request in hostile {
        crate::common::send(addr, request);
    }
    std::thread::sleep(Duration::from_millis(200));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    assert!(!rest.chars().any(|c| c.is_control() && c != '\n'), "a control character reached the log: {rest:?}");
    assert!(rest.lines().all(|l| l.starts_with(char::is_numeric)), "every line is the logger's own: {rest}");
    assert!(!rest.contains("\"G\u{1b}") && !rest.contains("G\"ET"), "a quote in the method is escaped: {rest}");
}

#[test]
fn check_reports_the_causes_first_and_sums_up_each_kind() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    store.create(&hostr::plan::Plan::seed(hostr::timestamp::Timestamp::now())).unwrap();
    for n in 0..3 {
        let mut c = customer(&key(10 + n), None);
        c.plan_id = Some("basic".into());
        store.create(&c).unwrap();
    }
    // The cause: the plan every customer names no longer parses.
    let basic = store.dir::<hostr::plan::Plan>().unwrap().join("basic.json");
    let text = std::fs::read_to_string(&basic).unwrap();
    std::fs::write(&basic, text.replacen('{', "{,", 1)).unwrap();

    let out = stdout(&hostr(dir.path(), &["check"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(&format!("{}:", basic.display())), "the cause comes first:\n{out}");
    assert!(lines[1..4].iter().all(|l| l.contains("names plan basic")), "then the knock-on references:\n{out}");
    assert!(out.contains("  1 file cannot be read\n  3 broken references\n"), "{out}");
    assert!(out.contains("4 problem(s)"), "{out}");
    let json: serde_json::Value = serde_json::from_slice(&hostr(dir.path(), &["check", "--json"]).stdout).unwrap();
    let kinds: Vec<&str> = json["problems"].as_array().unwrap().iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds, ["unreadable", "reference", "reference", "reference"]);
}

/// The terminal column at which `needle` starts on `line`.
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|at| unicode_width::UnicodeWidthStr::width(&line[..at]))
}

#[test]
fn lists_are_tables_whose_columns_line_up_with_long_and_non_ascii_values() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let basic = hostr::plan::Plan::seed(now);
    let names = ["Bücher 日本語 🚀 hosting", "A plan whose name is far longer than any column would want to be"];
    for (id, name) in ["wide", "long"].into_iter().zip(names) {
        let plan = hostr::plan::Plan { id: id.into(), name: name.into(), whm_package: id.into(), ..basic.clone() };
        store.create(&plan).unwrap();
    }
    store.create(&basic).unwrap();
    let out = stdout(&hostr(dir.path(), &["plan", "list"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let cycle = column_of(lines[0], "CYCLE").unwrap();
    for line in &lines[1..] {
        assert_eq!(column_of(line, "monthly"), Some(cycle), "the CYCLE column starts at one place:\n{out}");
    }
    assert!(out.contains("Bücher 日本語 🚀 hosting"), "short names are shown whole:\n{out}");
    assert!(out.contains("A plan whose name is far longer…"), "long names are cut, marked with …:\n{out}");
    assert!(lines.iter().all(|l| !l.ends_with(' ')), "{out:?}");
}

#[test]
fn payment_list_names_renewals_by_the_domain_they_renew() {
    use hostr::cpanel_account::CpanelAccount;
    use hostr::payment::Payment;
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let plan = hostr::plan::Plan::seed(now);
    let owner = customer(&key(21), None);
    store.create(&owner).unwrap();
    let account_id = hostr::ids::new_uuid();
    store.create(&CpanelAccount::provisioning(&account_id, "shop", "shop.example", &owner.id, "basic", now)).unwrap();
    let renewal = Payment::pending(&owner.id, &plan, account_id.clone(), None, now);
    let new = Payment::pending(&owner.id, &plan, hostr::ids::new_uuid(), Some("new.example".into()), now);
    let orphan = Payment::pending(&owner.id, &plan, hostr::ids::new_uuid(), None, now);
    for p in [&renewal, &new, &orphan] {
        store.create(p).unwrap();
    }
    let out = stdout(&hostr(dir.path(), &["payment", "list"]));
    let row = |id: &str| out.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("{id}:\n{out}")).to_owned();
    let renewal_row = row(&renewal.id);
    assert!(renewal_row.contains("renewal") && renewal_row.ends_with("shop.example"), "{out}");
    assert!(!renewal_row.contains(&account_id), "not by the account's id:\n{out}");
    assert!(row(&new.id).contains("new") && row(&new.id).ends_with("new.example"), "{out}");
    assert!(row(&orphan.id).contains("unknown account"), "a renewal of a missing account says so:\n{out}");
}

#[test]
fn customer_show_reads_as_sentences_and_tables_and_json_keeps_the_record() {
    use hostr::cpanel_account::{AccountStatus, CpanelAccount};
    use hostr::payment::Payment;
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let plan = hostr::plan::Plan::seed(now);
    let mut alice = customer(&key(31), Some("alice@example.com"));
    alice.metadata = Some(hostr::customer::ProfileMetadata { name: Some("Zoë 日本".into()), ..Default::default() });
    let shop = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(now),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "shop", "shop.example", &alice.id, "basic", now)
    };
    let bought = Payment::pending(&alice.id, &plan, shop.id.clone(), Some("shop.example".into()), now);
    let renewal = Payment::pending(&alice.id, &plan, shop.id.clone(), None, now);
    let broken_id = hostr::ids::new_uuid();
    alice.cpanel_account_ids = vec![shop.id.clone()];
    alice.payment_ids = vec![bought.id.clone(), renewal.id.clone(), broken_id.clone()];
    store.create(&alice).unwrap();
    store.create(&shop).unwrap();
    store.create(&bought).unwrap();
    store.create(&renewal).unwrap();
    let payments = store.dir::<Payment>().unwrap();
    std::fs::write(payments.join(format!("{broken_id}.json")), "{ not json").unwrap();

    let shown = hostr(dir.path(), &["customer", "show", &alice.id]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let out = stdout(&shown);
    assert!(!out.trim_start().starts_with('{'), "not JSON:\n{out}");
    for expected in [
        format!("Customer {}", alice.id),
        format!("Signs in with  {}", npub(&alice.public_key).unwrap()),
        "Zoë 日本 (from their Nostr profile)".into(),
        "alice@example.com".into(),
        "Status         ACTIVE".into(),
        "1 cPanel account:".into(),
        "2 payments, newest first:".into(),
        "renewal".into(),
        format!("payment {broken_id} cannot be read"),
    ] {
        assert!(out.contains(&expected), "{expected}:\n{out}");
    }
    assert_eq!(out.matches("shop.example").count(), 3, "the account and both payments name the domain:\n{out}");
    let json: serde_json::Value =
        serde_json::from_slice(&hostr(dir.path(), &["customer", "show", &alice.id, "--json"]).stdout).unwrap();
    assert_eq!((json["id"].as_str(), json["email"].as_str()), (Some(alice.id.as_str()), Some("alice@example.com")));
}

#[test]
fn a_suspended_customer_has_every_account_suspended_until_unsuspended() {
    use crate::common::fake_whm::{FakeWhm, TOKEN};
    use hostr::cpanel_account::{AccountStatus, CpanelAccount};
    use hostr::customer::{Customer, CustomerStatus};
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let bob = customer(&key(32), None);
    store.create(&bob).unwrap();
    let paid = Some(hostr::timestamp::Timestamp::from(now.as_datetime() + chrono::Duration::days(30)));
    let shop = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: paid,
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "shop", "shop.example", &bob.id, "basic", now)
    };
    store.create(&shop).unwrap();
    let whm = FakeWhm::start();
    whm.add_account("shop", "shop.example");
    let bob_npub = npub(&bob.public_key).unwrap();

    let no_reason = hostr(dir.path(), &["customer", "suspend", &bob_npub, "--reason", "  "]);
    assert!(!no_reason.status.success() && String::from_utf8_lossy(&no_reason.stderr).contains("reason"));
    let suspended = hostr(dir.path(), &["customer", "suspend", &bob_npub, "--reason", " chargeback "]);
    assert!(suspended.status.success(), "{}", String::from_utf8_lossy(&suspended.stderr));
    assert!(stdout(&suspended).contains("SUSPENDED: chargeback"), "{}", stdout(&suspended));
    let stored: Customer = store.get(&bob.id).unwrap();
    assert_eq!((stored.status, stored.suspend_reason.as_deref()), (CustomerStatus::Suspended, Some("chargeback")));
    let shown = stdout(&hostr(dir.path(), &["customer", "show", &bob.id]));
    assert!(shown.contains("SUSPENDED by the operator: chargeback"), "{shown}");

    // The accounts worker's comparison: the customer's account is to be suspended.
    let sync = hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync"]);
    let out = stdout(&sync);
    assert!(out.contains("would suspend shop: hostr: the customer is suspended"), "{out}");
    assert_eq!(
        store.get::<CpanelAccount>(&shop.id).unwrap().status,
        AccountStatus::Active,
        "the account keeps its own"
    );

    let lifted = hostr(dir.path(), &["customer", "unsuspend", &bob.id]);
    assert!(lifted.status.success(), "{}", String::from_utf8_lossy(&lifted.stderr));
    let stored: Customer = store.get(&bob.id).unwrap();
    assert_eq!((stored.status, stored.suspend_reason), (CustomerStatus::Active, None));
    assert!(hostr_with_whm(dir.path(), &whm.url, TOKEN, &["whm", "sync"]).status.success(), "nothing to do now");
    let again = hostr(dir.path(), &["customer", "unsuspend", &bob.id]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not suspended"), "{again:?}");
}

#[test]
fn plans_are_edited_through_the_store_and_retired_plans_still_renew() {
    use hostr::checkout::{Checkout, CheckoutError, Purchase};
    use hostr::cpanel_account::{AccountStatus, CpanelAccount};
    use hostr::plan::Plan;
    let dir = temp_dir();
    let add = ["plan", "add", "pro", "--name", "Pro", "--storage", "50", "--bandwidth", "500", "--price", "12.50"];
    assert!(hostr(dir.path(), &add).status.success());
    let edit = ["plan", "edit", "pro", "--price", "15", "--name", "Pro+", "--whm-package", "pro_v2", "--storage", "60"];
    let edited = hostr(dir.path(), &edit);
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    let out = stdout(&edited);
    assert!(out.contains("12.5 USD monthly → 15 USD monthly") && out.contains("Pro → Pro+"), "{out}");
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let pro: Plan = store.get("pro").unwrap();
    assert_eq!((pro.name.as_str(), pro.price.minor(2), pro.storage), ("Pro+", Some(1500), 60));
    assert_eq!((pro.whm_package.as_str(), pro.bandwidth, pro.available), ("pro_v2", 500, true), "the rest is kept");

    // Refused like `plan add` refuses, and nothing is written.
    for (args, says) in [
        (&["plan", "edit", "pro", "--storage", "0"][..], "storage"),
        (&["plan", "edit", "pro", "--price", "1.001"][..], "USD amounts have at most 2"),
        (&["plan", "edit", "pro", "--price", "1.000000001"][..], "--price"),
        (&["plan", "edit", "pro", "--currency", "usd"][..], "--currency"),
        (&["plan", "edit", "pro", "--billing-cycle", "weekly"][..], "monthly or yearly"),
        (&["plan", "edit", "pro", "--whm-package", "a/b"][..], "whmPackage"),
        (&["plan", "edit", "pro"][..], "required"),
        (&["plan", "edit", "gone", "--price", "1"][..], "no plan"),
    ] {
        let refused = hostr(dir.path(), args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(store.get::<Plan>("pro").unwrap(), pro, "refused edits wrote nothing");

    // Retired: off the storefront, but the account that has it renews, at its current price.
    let owner = customer(&key(41), None);
    store.create(&owner).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let shop = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(now),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "shop", "shop.example", &owner.id, "pro", now)
    };
    store.create(&shop).unwrap();
    let retired = hostr(dir.path(), &["plan", "retire", "pro"]);
    assert!(retired.status.success(), "{}", String::from_utf8_lossy(&retired.stderr));
    assert!(stdout(&retired).contains("its 1 account(s) keep it and can renew"), "{}", stdout(&retired));
    assert!(!store.get::<Plan>("pro").unwrap().available);
    let checkout = Checkout::sandboxed(store.clone(), Duration::from_secs(600));
    let buy = Purchase::NewAccount { plan_id: "pro".into(), domain: "other.example".into() };
    assert!(matches!(checkout.create_invoice(&owner, buy), Err(CheckoutError::UnknownPlan)));
    let owner: hostr::customer::Customer = store.get(&owner.id).unwrap();
    let renewal = checkout.create_invoice(&owner, Purchase::Renewal { account_id: shop.id.clone() }).unwrap();
    assert_eq!((renewal.plan_id.as_str(), renewal.amount.minor(2)), ("pro", Some(1500)));
    let again = hostr(dir.path(), &["plan", "edit", "pro", "--available"]);
    assert!(again.status.success() && store.get::<Plan>("pro").unwrap().available);
}

#[test]
fn whm_commands_without_whm_say_they_use_the_sandbox_and_how_to_configure_whm() {
    use hostr::cpanel_account::{AccountStatus, CpanelAccount};
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let owner = customer(&key(51), None);
    store.create(&owner).unwrap();
    let now = hostr::timestamp::Timestamp::now();
    let held = CpanelAccount {
        status: AccountStatus::Suspended,
        suspend_reason: Some("review".into()),
        paid_until: Some(now),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "held", "held.example", &owner.id, "basic", now)
    };
    store.create(&held).unwrap();
    let without_whm = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hostr"))
            .arg("--database")
            .arg(dir.path())
            .args(args)
            .env_remove("WHM_URL")
            .env_remove("WHM_API_TOKEN")
            .output()
            .unwrap()
    };
    for args in [&["whm", "sync"][..], &["whm", "sync", "--fix"][..]] {
        let sync = without_whm(args);
        let out = stdout(&sync);
        assert!(sync.status.success(), "{args:?}: not a failure in the sandbox: {out}");
        assert!(
            out.contains("SANDBOX: no WHM is configured") && out.contains("nothing real is read or changed"),
            "{out}"
        );
        assert!(out.contains("would suspend held: hostr: suspended by the operator: review"), "{out}");
        assert!(
            out.contains("set WHM_URL") && out.contains("WHM_API_TOKEN") && out.contains("hostr whm test"),
            "{out}"
        );
    }
    assert!(stdout(&without_whm(&["whm", "sync", "--fix"])).contains("--fix changes nothing here"));
    let json: serde_json::Value = serde_json::from_slice(&without_whm(&["whm", "sync", "--json"]).stdout).unwrap();
    assert_eq!((json["sandbox"].as_bool(), json["wouldChange"].as_array().map(Vec::len)), (Some(true), Some(1)));
    let test = without_whm(&["whm", "test"]);
    let stderr = String::from_utf8_lossy(&test.stderr);
    assert!(!test.status.success() && stderr.contains("sandbox") && stderr.contains("set WHM_URL"), "{stderr}");
}

#[test]
fn the_operator_key_is_made_once_shown_as_npub_and_replaced_only_when_confirmed() {
    use std::io::Write;
    let dir = temp_dir();
    let first = stdout(&hostr(dir.path(), &["operator", "show"]));
    let npub = first.lines().next().unwrap().to_string();
    assert!(npub.starts_with("npub1"), "{first}");
    assert_eq!(stdout(&hostr(dir.path(), &["operator", "show"])).lines().next(), Some(npub.as_str()), "kept");
    let file = std::fs::read_to_string(dir.path().join(".operator-key")).unwrap();
    assert!(!first.contains(file.trim()), "the secret is never printed");

    let refused = hostr(dir.path(), &["operator", "set-key", "--generate"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("new Nostr identity"), "warns first");

    let keys = crate::common::new_keys();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hostr"))
        .arg("--database")
        .arg(dir.path())
        .args(["operator", "set-key", "--yes"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(keys.secret_key().to_secret_hex().as_bytes()).unwrap();
    let replaced = child.wait_with_output().unwrap();
    assert!(replaced.status.success(), "{}", String::from_utf8_lossy(&replaced.stderr));
    let wanted = nostr::prelude::ToBech32::to_bech32(&keys.public_key()).unwrap();
    assert_eq!(stdout(&hostr(dir.path(), &["operator", "show"])).lines().next(), Some(wanted.as_str()));

    let from_env = Command::new(env!("CARGO_BIN_EXE_hostr"))
        .arg("--database")
        .arg(dir.path())
        .args(["operator", "set-key", "--generate", "--yes"])
        .env("HOSTR_OPERATOR_NSEC", keys.secret_key().to_secret_hex())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&from_env.stderr).contains("HOSTR_OPERATOR_NSEC is set"),
        "env wins, file untouched"
    );
}
