//! The operator's console over real sockets: who gets in (every route, every
//! kind of credential), signing in and revoking, hand edits in the audit
//! log, and console actions writing exactly what the CLI writes.

use crate::common::{self, TestServer, login_event, new_keys};
use hostr::app::App;
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::payment::{FulfilmentStatus, Payment};
use hostr::timestamp::Timestamp;
use nostr::prelude::{Keys, ToBech32};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn console_server(admin: &Keys, workers: bool) -> (tempfile::TempDir, TestServer) {
    let dir = common::temp_dir();
    let database = dir.path().join("database");
    let admins = vec![admin.public_key().to_hex()];
    if workers {
        return (dir, TestServer::start_on(database, |c| c.admins = admins));
    }
    // No workers: nothing but the request under test writes the files.
    let mut config = hostr::config::Config::for_database(database, "127.0.0.1:0".parse().unwrap());
    config.admins = admins;
    let app = Arc::new(App::open(config).unwrap());
    let handler_app = app.clone();
    let handler: hostr::http::Handler = Arc::new(move |rq| hostr::api::route(&handler_app, rq));
    (dir, TestServer::with_handler(app, handler))
}

fn admin_verify_url(server: &TestServer) -> String {
    format!("{}/api/admin/verify", server.app.config.public_url.origin())
}

/// Signs `keys` in to the console; the token.
fn console_sign_in(server: &TestServer, keys: &Keys) -> String {
    let event = login_event(keys, &admin_verify_url(server), &server.challenge());
    let reply = server.request("POST", "/api/admin/verify", &[], Some(&json!({"event": event}).to_string()));
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// Every console route with its `*` filled in.
fn console_routes() -> Vec<(&'static str, String)> {
    hostr::api::admin::ROUTES.iter().map(|(method, path, _)| (*method, path.replace('*', "basic"))).collect()
}

#[test]
fn a_customer_key_is_refused_on_every_console_route() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let customer_token = server.sign_in(&new_keys());
    // Even the operator's own key, signed in as a customer, is no operator.
    let own_customer_token = server.sign_in(&admin);
    let body = Some("{}");
    for (method, path) in console_routes() {
        let attempts = [
            ("no credential", server.request(method, &path, &[], body)),
            ("customer bearer", server.authed(method, &path, &customer_token, body)),
            ("customer cookie", server.browser(method, &path, &customer_token, body)),
            ("operator's customer session", server.authed(method, &path, &own_customer_token, body)),
            (
                "customer token in the console cookie",
                server.request(method, &path, &[("Cookie", &format!("hostr_admin={customer_token}"))], body),
            ),
            ("garbage", server.authed(method, &path, "not.a.token", body)),
        ];
        for (what, reply) in attempts {
            assert_eq!(reply.status, 403, "{method} {path} with {what}: {}", String::from_utf8_lossy(&reply.body));
            assert!(!reply.error_code().is_empty(), "{method} {path} with {what} answers a JSON error");
        }
    }
    // The operator's console token gets past the door…
    let token = console_sign_in(&server, &admin);
    let me = server.authed("GET", "/api/admin/session", &token, None);
    assert_eq!((me.status, me.json()["npub"].as_str()), (200, Some(admin.public_key().to_bech32().unwrap().as_str())));
    // …but not from another site's page with the cookie.
    let cookie = format!("hostr_admin={token}");
    let forged = server.request(
        "POST",
        "/api/admin/accounts/suspend",
        &[("Cookie", &cookie), ("Origin", "https://evil.example")],
        Some(r#"{"account": "x", "reason": "r"}"#),
    );
    assert_eq!((forged.status, forged.error_code().as_str()), (403, "cross_origin"));
    // A console token is no customer session either.
    assert_eq!(server.authed("GET", "/api/profile", &token, None).status, 401);
}

#[test]
fn a_site_without_an_allow_list_has_no_console() {
    let server = TestServer::start();
    let mut routes = console_routes();
    routes.push(("POST", "/api/admin/verify".to_owned()));
    for (method, path) in routes {
        let reply = server.request(method, &path, &[], Some("{}"));
        assert_eq!((reply.status, reply.error_code().as_str()), (404, "no_such_endpoint"), "{method} {path}");
    }
    assert_eq!(server.get("/admin/").status, 404, "nor its page");
}

#[test]
fn operators_sign_in_with_the_challenge_and_can_end_every_session() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let outsider = login_event(&new_keys(), &admin_verify_url(&server), &server.challenge());
    let refused = server.request("POST", "/api/admin/verify", &[], Some(&json!({"event": outsider}).to_string()));
    assert_eq!((refused.status, refused.error_code().as_str()), (403, "not_an_operator"));
    // An event signed to sign in as a customer does not open the console.
    let customer_event = login_event(&admin, &server.app.config.public_url.verify_url(), &server.challenge());
    let wrong_door =
        server.request("POST", "/api/admin/verify", &[], Some(&json!({"event": customer_event}).to_string()));
    assert!(wrong_door.status >= 400 && wrong_door.status < 500, "{}", wrong_door.status);

    let event = login_event(&admin, &admin_verify_url(&server), &server.challenge());
    let reply = server.request("POST", "/api/admin/verify", &[], Some(&json!({"event": event}).to_string()));
    assert_eq!(reply.status, 200);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("hostr_admin=") && cookie.contains("Path=/api/admin; Max-Age=43200"), "{cookie}");
    let (first, second) = (reply.json()["token"].as_str().unwrap().to_owned(), console_sign_in(&server, &admin));
    let out = server.authed("POST", "/api/admin/logout", &first, Some(r#"{"everywhere": true}"#));
    assert_eq!(out.status, 204);
    for token in [&first, &second] {
        let reply = server.authed("GET", "/api/admin/session", token, None);
        assert_eq!((reply.status, reply.error_code().as_str()), (403, "session_revoked"));
    }
    let fresh = console_sign_in(&server, &admin);
    let audit = server.authed("GET", "/api/admin/audit?q=sign", &fresh, None).json();
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["sign-in", "sign-out-everywhere", "sign-in", "sign-in"], "newest first");
}

fn account(server: &TestServer, n: u64) -> CpanelAccount {
    let store = &server.app.store;
    let customer = common::customer(&common::key(1000 + n), None);
    store.create(&customer).unwrap();
    let now = Timestamp::now();
    let account = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(Timestamp::from(now.as_datetime() + chrono::Duration::days(20))),
        whm_created_at: Some(now),
        ..CpanelAccount::provisioning(
            &hostr::ids::new_uuid(),
            &format!("user{n}"),
            &format!("site{n}.example"),
            &customer.id,
            "basic",
            now,
        )
    };
    store.create(&account).unwrap();
    account
}

/// Waits until the audit log holds an entry about `id` matching `action`.
fn audit_entry(server: &TestServer, token: &str, id: &str, action: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = server.authed("GET", &format!("/api/admin/audit?q={id}"), token, None).json();
        let found = log["entries"].as_array().unwrap().iter().find(|e| e["action"] == action).cloned();
        if let Some(entry) = found {
            return entry;
        }
        assert!(Instant::now() < deadline, "no {action} of {id} in the audit log: {log}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_hand_edit_of_an_account_file_appears_in_the_audit_log_with_the_changed_fields() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, true);
    let token = console_sign_in(&server, &admin);
    let account = account(&server, 1);
    // The server's own write is no hand edit.
    server
        .app
        .store
        .update::<CpanelAccount, _, hostr::store::StoreError>(&account.id, |a| {
            a.public_message = Some("server wrote this".into());
            Ok(())
        })
        .unwrap();
    let path = server.app.store.root().join("cpanel-accounts").join(format!("{}.json", account.id));
    let mut file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    file["paidUntil"] = json!("2031-01-01T00:00:00Z");
    file["operatorNote"] = json!("moved by hand");
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();

    let entry = audit_entry(&server, &token, &account.id, "hand-edit");
    assert_eq!(entry["actor"], "file");
    assert_eq!(entry["file"], format!("cpanel-accounts/{}.json", account.id));
    let old_until = serde_json::to_value(account.paid_until).unwrap();
    assert_eq!(entry["before"], json!({"paidUntil": old_until, "operatorNote": null}));
    assert_eq!(entry["after"], json!({"paidUntil": "2031-01-01T00:00:00Z", "operatorNote": "moved by hand"}));
    let all = server.authed("GET", &format!("/api/admin/audit?q={}", account.id), &token, None).json();
    assert_eq!(all["entries"].as_array().unwrap().len(), 1, "only the hand edit: {all}");
}

fn hostr_cli(database: &Path, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_hostr"))
        .arg("--database")
        .arg(database)
        .arg("--json")
        .args(args)
        .env_remove("HOSTR_OPERATOR_NSEC")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A record's JSON without what differs between two records by nature:
/// their ids, names and times.
fn shape(mut record: Value) -> Value {
    let fields = record.as_object_mut().unwrap();
    for name in ["id", "username", "domain", "customerId", "accountId", "strikeInvoiceId", "receipt", "receiptFailure"]
    {
        fields.remove(name);
    }
    fields.retain(|_, v| v.as_str().is_none_or(|s| Timestamp::parse(s).is_err()));
    if let Some(marked) = fields.get_mut("markedPaid").and_then(Value::as_object_mut) {
        marked.remove("at");
    }
    record
}

fn file_of(server: &TestServer, folder: &str, id: &str) -> Value {
    let path = server.app.store.root().join(folder).join(format!("{id}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn failed_payment(server: &TestServer, n: u64) -> Payment {
    let payment = paid_payment(server, n);
    server
        .app
        .store
        .update::<Payment, _, hostr::store::StoreError>(&payment.id, |p| {
            p.fulfilment.status = FulfilmentStatus::Failed;
            p.fulfilment.last_error = Some("WHM said no".into());
            Ok(p.clone())
        })
        .unwrap()
}

fn pending_payment(server: &TestServer, n: u64) -> Payment {
    let store = &server.app.store;
    let plan: hostr::plan::Plan = store.get("basic").unwrap();
    let customer = common::customer(&common::key(2000 + n), None);
    store.create(&customer).unwrap();
    let domain = Some(format!("order{n}.example"));
    let payment = Payment::pending(&customer.id, &plan, hostr::ids::new_uuid(), domain, Timestamp::now());
    store.create(&payment).unwrap();
    payment
}

fn paid_payment(server: &TestServer, n: u64) -> Payment {
    let mut payment = pending_payment(server, n);
    payment.record_paid(Timestamp::now());
    hostr::checkout::fulfil(&mut payment);
    server
        .app
        .store
        .update::<Payment, _, hostr::store::StoreError>(&payment.id, |p| {
            *p = payment.clone();
            Ok(())
        })
        .unwrap();
    payment
}

#[test]
fn console_actions_write_what_the_cli_writes_and_are_audited_with_the_operators_npub() {
    let admin = new_keys();
    let npub = admin.public_key().to_bech32().unwrap();
    let (_dir, server) = console_server(&admin, false);
    let database = server.app.store.root().to_path_buf();
    let token = console_sign_in(&server, &admin);
    let post = |path: &str, body: Value| {
        let reply = server.authed("POST", path, &token, Some(&body.to_string()));
        assert_eq!(reply.status, 200, "{path}: {}", String::from_utf8_lossy(&reply.body));
        reply.json()
    };

    // Suspend: a dry run says what WHM will do and changes nothing.
    let (by_console, by_cli) = (account(&server, 1), account(&server, 2));
    let suspend =
        json!({"account": by_console.username, "reason": "phishing report", "message": "Call us", "dryRun": true});
    let preview = post("/api/admin/accounts/suspend", suspend.clone());
    assert!(preview["confirm"].as_str().unwrap().contains("WHM suspends user1"), "{preview}");
    assert_eq!(file_of(&server, "cpanel-accounts", &by_console.id)["status"], "ACTIVE");
    let mut suspend = suspend;
    suspend["dryRun"] = json!(false);
    post("/api/admin/accounts/suspend", suspend);
    hostr_cli(
        &database,
        &["account", "suspend", &by_cli.username, "--reason", "phishing report", "--message", "Call us"],
    );
    let (console_file, cli_file) =
        (file_of(&server, "cpanel-accounts", &by_console.id), file_of(&server, "cpanel-accounts", &by_cli.id));
    assert_eq!(console_file["status"], "SUSPENDED");
    assert_eq!(shape(console_file), shape(cli_file));
    let entry = audit_entry(&server, &token, &by_console.id, "account.suspend");
    assert_eq!((entry["actor"].as_str(), entry["reason"].as_str()), (Some(npub.as_str()), Some("phishing report")));
    assert_eq!(entry["after"]["status"], "SUSPENDED");
    assert_eq!(entry["before"]["status"], "ACTIVE");

    // Retry a failed fulfilment.
    let (by_console, by_cli) = (failed_payment(&server, 3), failed_payment(&server, 4));
    post("/api/admin/payments/retry", json!({"payment": by_console.id}));
    hostr_cli(&database, &["payment", "retry", &by_cli.id]);
    let console_file = file_of(&server, "payments", &by_console.id);
    assert_eq!(console_file["fulfilment"]["status"], "PROVISIONING");
    assert_eq!(shape(console_file), shape(file_of(&server, "payments", &by_cli.id)));
    let entry = audit_entry(&server, &token, &by_console.id, "payment.retry");
    assert_eq!(entry["actor"], npub.as_str());

    // Mark an open order paid.
    let (by_console, by_cli) = (pending_payment(&server, 5), pending_payment(&server, 6));
    post("/api/admin/payments/mark-paid", json!({"payment": by_console.id, "reason": "bank transfer"}));
    hostr_cli(&database, &["payment", "mark-paid", &by_cli.id, "--reason", "bank transfer"]);
    let console_file = file_of(&server, "payments", &by_console.id);
    assert_eq!(console_file["state"], "PAID");
    assert_eq!(shape(console_file), shape(file_of(&server, "payments", &by_cli.id)));
    let entry = audit_entry(&server, &token, &by_console.id, "payment.mark-paid");
    assert_eq!((entry["actor"].as_str(), entry["reason"].as_str()), (Some(npub.as_str()), Some("bank transfer")));

    // Extend by 10 days, from the console and from the CLI.
    let (by_console, by_cli) = (account(&server, 7), account(&server, 8));
    post("/api/admin/accounts/extend", json!({"account": by_console.id, "days": 10, "reason": "outage"}));
    hostr_cli(&database, &["account", "extend", &by_cli.id, "--days", "10", "--reason", "outage"]);
    let moved = |a: &CpanelAccount| {
        let file: CpanelAccount = serde_json::from_value(file_of(&server, "cpanel-accounts", &a.id)).unwrap();
        file.paid_until.unwrap().as_datetime() - a.paid_until.unwrap().as_datetime()
    };
    assert_eq!((moved(&by_console), moved(&by_cli)), (chrono::Duration::days(10), chrono::Duration::days(10)));
    assert_eq!(audit_entry(&server, &token, &by_cli.id, "account.extend")["actor"], "cli");
    assert_eq!(audit_entry(&server, &token, &by_console.id, "account.extend")["actor"], npub.as_str());

    // Suspend a customer.
    let (by_console, by_cli) = (account(&server, 11).customer_id, account(&server, 12).customer_id);
    post("/api/admin/customers/suspend", json!({"customer": by_console, "reason": "chargeback"}));
    hostr_cli(&database, &["customer", "suspend", &by_cli, "--reason", "chargeback"]);
    let console_file = file_of(&server, "customers", &by_console);
    assert_eq!(console_file["status"], "SUSPENDED");
    let mut cli_file = file_of(&server, "customers", &by_cli);
    cli_file["publicKey"] = console_file["publicKey"].clone();
    assert_eq!(shape(console_file), shape(cli_file));
    let entry = audit_entry(&server, &token, &by_console, "customer.suspend");
    assert_eq!((entry["actor"].as_str(), entry["reason"].as_str()), (Some(npub.as_str()), Some("chargeback")));
}

/// A PAID payment of plan `plan` at `paid_at` bringing `sats`.
fn paid_at(server: &TestServer, n: u64, plan: &str, paid_at: Timestamp, sats: i64) -> Payment {
    let store = &server.app.store;
    let plan: hostr::plan::Plan = store.get(plan).unwrap();
    let customer = common::customer(&common::key(3000 + n), None);
    store.create(&customer).unwrap();
    let mut payment = Payment::pending(&customer.id, &plan, hostr::ids::new_uuid(), None, paid_at);
    payment.record_paid(paid_at);
    payment.quote_sats = Some(sats);
    payment.fulfilment.status = FulfilmentStatus::Done;
    store.create(&payment).unwrap();
    payment
}

/// The database of the figures tests: payments over 14 months in two
/// currencies, a failed fulfilment and a broken customer file.
pub(crate) struct Shop {
    pub(crate) payments: Vec<Payment>,
    pub(crate) failed: Payment,
    pub(crate) broken: String,
}

pub(crate) fn shop(server: &TestServer) -> Shop {
    let store = &server.app.store;
    let euro = hostr::plan::Plan {
        id: "euro".into(),
        price: hostr::money::Money::from_cents(12_000).unwrap(),
        currency: "EUR".parse().unwrap(),
        billing_cycle: hostr::plan::BillingCycle::Yearly,
        ..store.get::<hostr::plan::Plan>("basic").unwrap()
    };
    store.create(&euro).unwrap();
    let now = chrono::Utc::now();
    let ago = |days: i64| Timestamp::from(now - chrono::Duration::days(days));
    let mut payments = Vec::new();
    for (n, (plan, days, sats)) in [
        ("basic", 0, 5_000),
        ("basic", 0, 5_100),
        ("euro", 1, 130_000),
        ("basic", 40, 4_900),
        ("euro", 100, 125_000),
        ("basic", 420, 9_000),
    ]
    .into_iter()
    .enumerate()
    {
        payments.push(paid_at(server, n as u64, plan, ago(days), sats));
    }
    let failed = failed_payment(server, 50);
    payments.push(store.get(&failed.id).unwrap());
    let broken = hostr::ids::new_uuid();
    std::fs::write(
        store.root().join("customers").join(format!("{broken}.json")),
        "{\n  \"id\": \"oops\",\n  oops\n}\n",
    )
    .unwrap();
    Shop { payments, failed, broken }
}

/// Income per month and currency, worked out here from the payments as
/// built: cents (every price here is in cents) and sats, by `YYYY-MM`.
pub(crate) fn income_by_month(
    payments: &[Payment],
) -> std::collections::BTreeMap<String, (std::collections::BTreeMap<String, i64>, i64)> {
    let mut months = std::collections::BTreeMap::new();
    for p in payments {
        let month = p.paid_at.unwrap().as_datetime().format("%Y-%m").to_string();
        let entry: &mut (std::collections::BTreeMap<String, i64>, i64) = months.entry(month).or_default();
        *entry.0.entry(p.currency.to_string()).or_default() += p.amount.minor(2).unwrap();
        entry.1 += p.quote_sats.unwrap_or(0);
    }
    months
}

#[test]
fn the_overview_shows_income_per_month_and_what_needs_the_operator_first() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let shop = shop(&server);
    let token = console_sign_in(&server, &admin);
    let overview = server.authed("GET", "/api/admin/overview", &token, None).json();

    let income = overview["income"].as_array().unwrap();
    assert_eq!(income.len(), 12);
    let expected = income_by_month(&shop.payments);
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(income[11]["month"], this_month.as_str());
    for month in income {
        let name = month["month"].as_str().unwrap();
        let (cents, sats) = expected.get(name).cloned().unwrap_or_default();
        let shown: std::collections::BTreeMap<String, i64> = month["amounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let amount: f64 = a["amount"].as_str().unwrap().parse().unwrap();
                (a["currency"].as_str().unwrap().to_owned(), (amount * 100.0).round() as i64)
            })
            .collect();
        assert_eq!((shown, month["sats"].as_i64().unwrap()), (cents, sats), "{name}");
    }
    let first = income[0]["month"].as_str().unwrap();
    assert!(expected.keys().any(|m| m.as_str() < first), "the 14-month-old payment is outside the chart");

    let needs = overview["needs"].as_array().unwrap();
    assert_eq!(needs[0]["kind"], "unreadable_record", "{needs:?}");
    assert_eq!(needs[0]["path"], format!("customers/{}.json", shop.broken));
    assert_eq!(needs[0]["line"], 3);
    assert_eq!(
        (needs[1]["kind"].as_str(), needs[1]["id"].as_str()),
        (Some("failed_fulfilment"), Some(shop.failed.id.as_str()))
    );
}

#[test]
fn the_monthly_csv_matches_the_payments() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let shop = shop(&server);
    let token = console_sign_in(&server, &admin);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let reply = server.authed("GET", &format!("/api/admin/export/payments.csv?month={month}"), &token, None);
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(reply.body).unwrap();
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some("receipt,date,customer_npub,plan,amount,currency,sats,rate"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    let mut expected: Vec<&Payment> = shop
        .payments
        .iter()
        .filter(|p| p.paid_at.unwrap().as_datetime().format("%Y-%m").to_string() == month)
        .collect();
    expected.sort_by_key(|p| (p.paid_at, p.id.clone()));
    assert_eq!(rows.len(), expected.len(), "{csv}");
    for (row, payment) in rows.iter().zip(expected) {
        let customer: hostr::customer::Customer = server.app.store.get(&payment.customer_id).unwrap();
        let npub = nostr::prelude::PublicKey::from_hex(&customer.public_key).unwrap().to_bech32().unwrap();
        assert_eq!(row[1], payment.paid_at.unwrap().to_string());
        assert_eq!((row[2].as_str(), row[3].as_str()), (npub.as_str(), payment.plan_id.as_str()));
        assert_eq!(
            (row[4].as_str(), row[5].as_str()),
            (format!("{:.2}", payment.amount.minor(2).unwrap() as f64 / 100.0).as_str(), payment.currency.as_str())
        );
        assert_eq!(row[6], payment.quote_sats.map(|s| s.to_string()).unwrap_or_default());
    }
    let bad = server.authed("GET", "/api/admin/export/payments.csv?month=2026-13", &token, None);
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "bad_month"));
}

#[test]
fn customers_are_found_by_npub_hex_email_and_domain_and_shown_with_what_is_theirs() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let token = console_sign_in(&server, &admin);
    let found = account(&server, 9);
    let store = &server.app.store;
    store
        .update::<hostr::customer::Customer, _, hostr::store::StoreError>(&found.customer_id, |c| {
            c.email = Some("Shop.Owner@example.com".into());
            Ok(())
        })
        .unwrap();
    account(&server, 10); // someone else
    let customer: hostr::customer::Customer = store.get(&found.customer_id).unwrap();
    let npub = nostr::prelude::PublicKey::from_hex(&customer.public_key).unwrap().to_bech32().unwrap();
    for query in [npub.as_str(), customer.public_key.as_str(), "shop.owner@", "site9.exam", customer.id.as_str()] {
        let reply = server.authed("GET", &format!("/api/admin/customers?q={query}"), &token, None).json();
        let ids: Vec<&str> = reply["customers"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
        assert_eq!(ids, [customer.id.as_str()], "{query}");
    }
    let all = server.authed("GET", "/api/admin/customers", &token, None).json();
    assert_eq!(all["customers"].as_array().unwrap().len(), 2);
    let page = server.authed("GET", &format!("/api/admin/customers/{}", customer.id), &token, None).json();
    assert_eq!(page["accounts"][0]["domain"], "site9.example");
    assert_eq!(page["npub"], npub.as_str());
    let missing = server.authed("GET", "/api/admin/customers/not-an-id", &token, None);
    assert_eq!((missing.status, missing.error_code().as_str()), (404, "unknown_customer"));
}

#[test]
fn plans_added_and_edited_from_the_console_are_the_files_hostr_plan_writes() {
    let admin = new_keys();
    let (_dir, server) = console_server(&admin, false);
    let database = server.app.store.root().to_path_buf();
    let token = console_sign_in(&server, &admin);
    let terms = json!({"name": "Pro hosting", "storage": 50, "bandwidth": 500, "price": 12.5, "currency": "EUR",
                       "billingCycle": "yearly", "accounts": 2, "available": true});
    let mut body = terms.clone();
    body["id"] = json!("pro");
    body["whmPackage"] = json!("pack");
    let added = server.authed("POST", "/api/admin/plans", &token, Some(&body.to_string()));
    assert_eq!(added.status, 201, "{}", String::from_utf8_lossy(&added.body));
    hostr_cli(
        &database,
        &[
            "plan",
            "add",
            "pro2",
            "--name",
            "Pro hosting",
            "--storage",
            "50",
            "--bandwidth",
            "500",
            "--price",
            "12.50",
            "--currency",
            "EUR",
            "--billing-cycle",
            "yearly",
            "--accounts",
            "2",
            "--whm-package",
            "pack",
        ],
    );
    let edited = server.authed("PUT", "/api/admin/plans/pro", &token, Some(r#"{"price": 15, "available": false}"#));
    assert_eq!(edited.status, 200, "{}", String::from_utf8_lossy(&edited.body));
    hostr_cli(&database, &["plan", "edit", "pro2", "--price", "15", "--unavailable"]);
    let (console_file, cli_file) = (file_of(&server, "plans", "pro"), file_of(&server, "plans", "pro2"));
    assert_eq!((console_file["price"].clone(), console_file["available"].clone()), (json!(15), json!(false)));
    assert_eq!(shape(console_file), shape(cli_file));
    let raw = std::fs::read_to_string(database.join("plans/pro.json")).unwrap();
    let raw_cli = std::fs::read_to_string(database.join("plans/pro2.json")).unwrap();
    let keys = |text: &str| text.lines().map(|l| l.split(':').next().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(keys(&raw), keys(&raw_cli), "the same fields in the same order");
    let entry = audit_entry(&server, &token, "pro", "plan.edit");
    assert_eq!((entry["before"]["price"].clone(), entry["after"]["price"].clone()), (json!(12.5), json!(15)));
    let taken = server.authed("POST", "/api/admin/plans", &token, Some(&body.to_string()));
    assert_eq!((taken.status, taken.error_code().as_str()), (409, "plan_exists"));
}
