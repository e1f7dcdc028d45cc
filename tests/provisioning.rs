//! Provisioning through the real WHM client against a fake WHM: a paid
//! invoice becomes one ACTIVE account, failures are recorded and retried,
//! crashes resume, and the lifecycle (expiry, renewal, operator and
//! customer suspensions, usage, single sign-on) follows the files.

use crate::common::fake_strike::{FakeStrike, KEY};
use crate::common::fake_whm::{FakeAccount, FakeWhm, NAMESERVERS, SERVER_IP, TOKEN};
use crate::common::{TestServer, ack, new_keys, playing, spawn_role, temp_dir};
use hostr::config::{Config, StrikeSettings, WhmSettings};
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::payment::{FulfilmentStatus, Payment};
use hostr::timestamp::Timestamp;
use hostr::whm::WhmTls;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) struct Shop {
    pub(crate) server: TestServer,
    pub(crate) strike: FakeStrike,
    pub(crate) whm: FakeWhm,
    pub(crate) db: PathBuf,
    _dir: tempfile::TempDir,
}

pub(crate) fn whm_settings(url: &str, token: &str) -> WhmSettings {
    WhmSettings {
        url: url.to_owned(),
        user: "root".into(),
        token: token.into(),
        tls: WhmTls::Verify,
        timeout: Duration::from_millis(1500),
        create_timeout: Duration::from_millis(1500),
    }
}

/// Settings for a shop on `strike` and `whm` with a fast accounts worker.
fn configure(config: &mut Config, strike: &FakeStrike, whm: &str) {
    config.strike = Some(StrikeSettings {
        api_key: KEY.into(),
        api_url: strike.url.clone(),
        webhook_secret: None,
        timeout: Duration::from_secs(2),
    });
    config.whm = Some(whm_settings(whm, TOKEN));
    config.payment_poll_interval = Duration::from_secs(3600);
    config.schedule.cycle = Duration::from_millis(100);
    config.schedule.retry_base = Duration::from_millis(200);
}

pub(crate) fn shop(adjust: impl FnOnce(&mut Config)) -> Shop {
    let (strike, whm, dir) = (FakeStrike::start(), FakeWhm::start(), temp_dir());
    let db = dir.path().join("db");
    let server = TestServer::start_on(db.clone(), |c| {
        configure(c, &strike, &whm.url);
        adjust(c);
    });
    Shop { server, strike, whm, db, _dir: dir }
}

impl Shop {
    pub(crate) fn customer(&self) -> String {
        let token = self.server.sign_in(&new_keys());
        let reply = self.server.authed("POST", "/api/new-user", &token, Some(r#"{"email": "owner@shop.example"}"#));
        assert_eq!(reply.status, 201);
        token
    }

    /// Buys (`{"planId", "domain"}` or `{"accountId"}`) and pays at the fake Strike.
    pub(crate) fn buy_and_pay(&self, token: &str, purchase: Value) -> String {
        let reply = self.server.authed("POST", "/api/create-invoice", token, Some(&purchase.to_string()));
        assert_eq!(reply.status, 201, "{:?}", reply.json());
        let payment = &reply.json()["payment"];
        let id = payment["id"].as_str().unwrap().to_owned();
        self.strike.set_state(payment["strikeInvoiceId"].as_str().unwrap(), "PAID");
        let check = self.server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), token, None);
        assert_eq!(check.json()["payment"]["state"], "PAID");
        id
    }

    pub(crate) fn payment(&self, id: &str) -> Payment {
        self.server.app.store.get(id).unwrap()
    }

    pub(crate) fn account(&self, id: &str) -> CpanelAccount {
        self.server.app.store.get(id).unwrap()
    }

    pub(crate) fn fulfilled(&self, payment_id: &str) -> CpanelAccount {
        let payment = wait_for("the payment to be fulfilled", || {
            Some(self.payment(payment_id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Done)
        });
        self.account(payment.account_id.as_deref().unwrap())
    }

    pub(crate) fn on_whm(&self, user: &str) -> Option<FakeAccount> {
        self.whm.state.lock().unwrap().accounts.get(user).cloned()
    }

    fn login(&self, token: &str, account_id: &str) -> crate::common::Reply {
        self.server.authed("POST", "/api/cpanel-login", token, Some(&json!({"accountId": account_id}).to_string()))
    }
}

/// Polls `probe` until it gives something, for at most 15 seconds.
pub(crate) fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Edits a record's file as an operator would, in an editor.
pub(crate) fn edit_by_hand(db: &Path, folder: &str, id: &str, edit: impl FnOnce(&mut Value)) {
    let path = db.join(folder).join(format!("{id}.json"));
    let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut record);
    std::fs::write(&path, serde_json::to_string_pretty(&record).unwrap() + "\n").unwrap();
}

#[test]
fn a_paid_invoice_becomes_one_active_account_with_usage_and_single_sign_on() {
    let shop = shop(|c| c.schedule.usage = Duration::from_millis(300));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "shop.example"}));
    let account = shop.fulfilled(&payment_id);
    assert_eq!((account.status, account.username.as_str()), (AccountStatus::Active, "shop"));
    let payment = shop.payment(&payment_id);
    let (start, end) = (payment.period_start.unwrap(), payment.period_end.unwrap());
    assert_eq!(account.paid_until, Some(end));
    assert_eq!(end, hostr::plan::BillingCycle::Monthly.after(start));
    assert_eq!(shop.whm.calls("createacct"), 1);
    let on_whm = shop.on_whm("shop").expect("created on WHM");
    assert_eq!((on_whm.domain.as_str(), on_whm.plan.as_str()), ("shop.example", "basic"));
    let password = {
        let state = shop.whm.state.lock().unwrap();
        let (_, url, body) = state.calls.iter().find(|(f, _, _)| f == "createacct").unwrap();
        assert!(body.contains("contactemail=owner%40shop%2Eexample") && body.contains("showpass=n"), "{body}");
        assert!(!url.contains("password"), "the password travels in the body only");
        let encoded = body.split('&').find_map(|pair| pair.strip_prefix("password=")).unwrap();
        percent_encoding::percent_decode_str(encoded).decode_utf8().unwrap().into_owned()
    };
    // The password is stored nowhere.
    assert!(password.len() >= 20);
    for folder in ["cpanel-accounts", "payments", "customers"] {
        for entry in std::fs::read_dir(shop.db.join(folder)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            assert!(!text.contains(&password), "the password is in {folder}");
        }
    }

    // Usage is read into the account (3 MiB of transfer, 12 MB of disk on the fake).
    let usage = wait_for("usage", || shop.account(&account.id).resource_usage);
    assert_eq!((usage.disk_used_mb, usage.bandwidth_used_mb, usage.disk_limit_mb), (12, 3, Some(10240)));
    assert_eq!(usage.bandwidth_limit_mb, Some(100 * 1024));
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["cpanelAccounts"][0]["resourceUsage"]["diskUsedMb"], 12);

    // Single sign-on for the owner only.
    let login = shop.login(&token, &account.id);
    assert_eq!(login.status, 200);
    assert!(login.json()["url"].as_str().unwrap().starts_with("https://server.example:2083/cpsess"));
    let stranger = shop.server.sign_in(&new_keys());
    assert_eq!(shop.server.authed("POST", "/api/new-user", &stranger, None).status, 201);
    assert_eq!(shop.login(&stranger, &account.id).error_code(), "not_your_account");
    assert_eq!(shop.login(&stranger, "../../etc/passwd").error_code(), "not_your_account");
    assert_eq!(shop.login(&token, &hostr::ids::new_uuid()).status, 403);
    assert_eq!(shop.server.request("POST", "/api/cpanel-login", &[], Some("{}")).status, 401);
    // This server is the database's one accounts worker: another process
    // (here: another claim) cannot become a second one.
    let claim_path = hostr::provisioning::worker_claim_path(shop.server.app.store.root());
    assert!(hostr::lock_file::claim(&claim_path).unwrap().is_none(), "the worker holds its claim");
    // A full pass reads WHM's list and usage once each, and changes nothing.
    let (lists, bandwidths) = (shop.whm.calls("listaccts"), shop.whm.calls("showbw"));
    shop.server.app.provisioner.cycle(true);
    assert_eq!((shop.whm.calls("listaccts") - lists, shop.whm.calls("showbw") - bandwidths), (1, 1));
    assert_eq!(shop.whm.calls("createacct"), 1);
}

#[test]
fn a_ready_account_tells_its_owner_where_to_point_the_domain_from_whm() {
    let shop = shop(|_| {});
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "shop.example"}));
    let account = shop.fulfilled(&payment_id);
    // The success screen's answer: the address createacct gave, at once.
    let check = shop.server.authed("GET", &format!("/api/check-invoice?paymentId={payment_id}"), &token, None).json();
    let steps = &check["account"]["firstSteps"];
    assert_eq!(steps["ip"], SERVER_IP, "{check}");
    assert_eq!((steps["username"].as_str(), steps["domain"].as_str()), (Some("shop"), Some("shop.example")));
    let cpanel = format!("https://{}:2083/", shop.whm.url.trim_start_matches("http://").split(':').next().unwrap());
    assert_eq!(steps["cpanelUrl"], cpanel.as_str(), "the WHM host's cPanel port");
    assert_eq!(
        steps["records"],
        json!([{"type": "A", "name": "shop.example", "value": SERVER_IP},
               {"type": "A", "name": "www.shop.example", "value": SERVER_IP}])
    );
    // After a refresh of the view, WHM's nameservers too; the profile says the same.
    shop.server.app.provisioner.cycle(true);
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    let steps = &profile["cpanelAccounts"][0]["firstSteps"];
    assert_eq!((steps["ip"].as_str(), steps["nameservers"].clone()), (Some(SERVER_IP), json!(NAMESERVERS)));
    // Answered from the cached view: asking again costs WHM nothing.
    let calls = shop.whm.state.lock().unwrap().calls.len();
    shop.server.authed("GET", "/api/profile", &token, None);
    shop.server.authed("GET", &format!("/api/check-invoice?paymentId={payment_id}"), &token, None);
    assert_eq!(shop.whm.state.lock().unwrap().calls.len(), calls);
    // No first steps for an account that is not ready to use.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["status"] = json!("EXPIRED"));
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["cpanelAccounts"][0]["firstSteps"], Value::Null);
}

#[test]
fn the_operators_settings_win_over_what_whm_reports() {
    let shop = shop(|c| {
        c.server.ip = Some("203.0.113.7".parse().unwrap());
        c.server.nameservers = vec!["ns1.operator.example".into(), "ns2.operator.example".into()];
        c.server.cpanel_url = Some("https://cpanel.operator.example/".into());
    });
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "shop.example"}));
    shop.fulfilled(&payment_id);
    shop.server.app.provisioner.cycle(true);
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    let steps = &profile["cpanelAccounts"][0]["firstSteps"];
    assert_eq!(steps["ip"], "203.0.113.7");
    assert_eq!(steps["records"][1], json!({"type": "A", "name": "www.shop.example", "value": "203.0.113.7"}));
    assert_eq!(steps["nameservers"], json!(["ns1.operator.example", "ns2.operator.example"]));
    assert_eq!(steps["cpanelUrl"], "https://cpanel.operator.example/");
    assert_eq!(shop.whm.calls("get_nameserver_config"), 0, "named nameservers are not asked of WHM");
}

#[test]
fn a_createacct_that_timed_out_but_worked_is_not_sent_again() {
    let shop = shop(|_| {});
    let token = shop.customer();
    // WHM creates the account but answers after the client gave up.
    shop.whm.state.lock().unwrap().slow_function = Some(("createacct".into(), Duration::from_secs(3)));
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "slow.example"}));
    let account = shop.fulfilled(&payment_id);
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(shop.whm.calls("createacct"), 1, "asked accountsummary instead of creating again");
    assert!(shop.whm.calls("accountsummary") >= 1);
}

#[test]
fn a_username_taken_on_whm_moves_to_the_next_candidate() {
    let shop = shop(|_| {});
    shop.whm.add_account("shop", "someone-else.example");
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "shop.example"}));
    assert_eq!(shop.fulfilled(&payment_id).username, "shop1");
    assert_eq!(shop.whm.calls("createacct"), 1);
}

#[test]
fn a_domain_already_on_whm_fails_clearly_and_waits_for_the_operator() {
    let shop = shop(|_| {});
    shop.whm.add_account("other", "taken.example");
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "taken.example"}));
    let failed = wait_for("the failure", || {
        Some(shop.payment(&payment_id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Failed)
    });
    let error = failed.fulfilment.last_error.unwrap();
    assert!(error.contains("taken.example") && error.contains("hostr payment retry"), "{error}");
    assert_eq!(failed.fulfilment.next_attempt_at, None, "not retried by itself");
    // The customer sees it being set up, not an account.
    let check = shop.server.authed("GET", &format!("/api/check-invoice?paymentId={payment_id}"), &token, None).json();
    assert_eq!(
        (check["payment"]["fulfilment"]["status"].as_str(), check["account"]["status"].as_str()),
        (Some("FAILED"), Some("PROVISIONING"))
    );
    for _ in 0..5 {
        shop.server.app.provisioner.cycle(false);
    }
    assert_eq!(shop.whm.calls("createacct"), 1, "no retry of a domain collision");

    // The operator frees the domain and retries: done, one more createacct.
    shop.whm.state.lock().unwrap().accounts.remove("other");
    hostr::provisioning::retry(&shop.server.app.store, &payment_id).unwrap();
    shop.server.app.provisioner.wake();
    assert_eq!(shop.fulfilled(&payment_id).status, AccountStatus::Active);
    assert_eq!(shop.whm.calls("createacct"), 2);
}

#[test]
fn a_wrong_token_fails_clearly_without_a_retry_storm() {
    let shop = shop(|c| c.whm = Some(whm_settings(&c.whm.as_ref().unwrap().url, "WRONG")));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "shop.example"}));
    let failed = wait_for("the failure", || {
        Some(shop.payment(&payment_id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Failed)
    });
    assert!(failed.fulfilment.last_error.as_deref().unwrap().contains("token"), "{:?}", failed.fulfilment);
    let calls = shop.whm.state.lock().unwrap().calls.len();
    for _ in 0..10 {
        shop.server.app.provisioner.wake();
        shop.server.app.provisioner.cycle(true);
    }
    assert_eq!(shop.whm.state.lock().unwrap().calls.len(), calls, "WHM is left alone after refusing the token");
    assert!(calls <= 2, "{calls} calls with a refused token");
    // The operator's monitor hears of it.
    let health = shop.server.get("/api/health").json();
    assert_eq!((health["status"].as_str(), health["whm"].as_str()), (Some("degraded"), Some("token_refused")));
    assert_eq!(health["failedFulfilments"], 1, "{health}");
}

#[test]
fn a_server_error_is_retried_with_backoff_until_it_works() {
    let shop = shop(|_| {});
    shop.whm.state.lock().unwrap().failing_function = Some(("createacct".into(), 2));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "flaky.example"}));
    let account = shop.fulfilled(&payment_id);
    assert_eq!(account.status, AccountStatus::Active);
    let payment = shop.payment(&payment_id);
    assert!(payment.fulfilment.attempts >= 3, "two failures, then success: {:?}", payment.fulfilment);
    assert_eq!(payment.fulfilment.last_error, None);
    assert_eq!(shop.whm.calls("createacct"), 3, "WHM had not created it, so it was sent again");
    // Each new createacct waited for the previous one to settle in WHM (twice
    // the client's 1.5 s timeout), asking accountsummary in between.
    let sends: Vec<usize> = {
        let state = shop.whm.state.lock().unwrap();
        state.calls.iter().enumerate().filter(|(_, (f, _, _))| f == "createacct").map(|(i, _)| i).collect()
    };
    let between = shop.whm.state.lock().unwrap().calls[sends[0]..sends[1]]
        .iter()
        .filter(|(f, _, _)| f == "accountsummary")
        .count();
    assert!(between >= 2, "asked WHM while waiting: {between}");
}

#[test]
fn a_creation_still_running_in_whm_is_waited_for_not_repeated() {
    // WHM answers 500 at once but finishes the account a second later; a
    // second createacct meanwhile would be refused ("a group for that
    // username already exists") and must not lead to another username.
    let shop = shop(|_| {});
    shop.whm.state.lock().unwrap().background_create = Some(Duration::from_secs(1));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "busy.example"}));
    let account = shop.fulfilled(&payment_id);
    assert_eq!((account.status, account.username.as_str()), (AccountStatus::Active, "busy"));
    assert_eq!(shop.whm.calls("createacct"), 1);
    let state = shop.whm.state.lock().unwrap();
    let hosting: Vec<&String> =
        state.accounts.iter().filter(|(_, a)| a.domain == "busy.example").map(|(u, _)| u).collect();
    assert_eq!(hosting, ["busy"], "one account for the domain");
}

#[test]
fn a_name_taken_despite_the_check_moves_on_only_when_whm_shows_whose() {
    let shop = shop(|_| {});
    shop.whm.add_account("race", "someone-else.example");
    shop.whm.state.lock().unwrap().verify_says_free = true;
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "race.example"}));
    assert_eq!(shop.fulfilled(&payment_id).username, "race1");
    assert_eq!(shop.whm.calls("createacct"), 2);
}

#[test]
fn a_failure_that_needs_the_operator_stops_retrying_after_a_retryable_one() {
    let shop = shop(|_| {});
    shop.whm.state.lock().unwrap().failing_function = Some(("createacct".into(), 1));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "later.example"}));
    wait_for("a retry to be planned", || shop.payment(&payment_id).fulfilment.next_attempt_at);
    shop.whm.add_account("squatter", "later.example");
    let stuck = wait_for("the failure that needs the operator", || {
        Some(shop.payment(&payment_id))
            .filter(|p| p.fulfilment.last_error.as_deref().is_some_and(|e| e.contains("payment retry")))
    });
    assert_eq!(stuck.fulfilment.next_attempt_at, None);
    let file = std::fs::read_to_string(shop.db.join("payments").join(format!("{payment_id}.json"))).unwrap();
    assert!(file.contains("\"nextAttemptAt\": null"), "{file}");
    let sent = shop.whm.calls("createacct");
    for _ in 0..5 {
        shop.server.app.provisioner.cycle(false);
    }
    assert_eq!(shop.whm.calls("createacct"), sent, "no more attempts");
    // The customer is told it is being set up, not WHM's words.
    let check = shop.server.authed("GET", &format!("/api/check-invoice?paymentId={payment_id}"), &token, None).json();
    assert_eq!(check["payment"]["fulfilment"]["status"], "FAILED");
    assert!(check["payment"]["fulfilment"].get("lastError").is_none(), "{check}");
}

#[test]
fn an_order_the_operator_holds_before_creation_is_still_created_and_suspended() {
    let shop = shop(|_| {});
    shop.whm.state.lock().unwrap().failing_function = Some(("createacct".into(), 1));
    let token = shop.customer();
    let payment_id = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "held.example"}));
    let account_id = shop.payment(&payment_id).account_id.unwrap();
    // The first createacct failed (and the next waits ~3 s for it to settle);
    // meanwhile the operator sets the new order SUSPENDED for review.
    wait_for("the first failure", || shop.payment(&payment_id).fulfilment.next_attempt_at);
    edit_by_hand(&shop.db, "cpanel-accounts", &account_id, |a| {
        a["status"] = json!("SUSPENDED");
        a["suspendReason"] = json!("fraud review");
    });
    let account = shop.fulfilled(&payment_id);
    assert_eq!(account.status, AccountStatus::Suspended);
    assert!(account.whm_created_at.is_some());
    wait_for("the suspension", || shop.on_whm(&account.username)?.suspended.filter(|r| r.contains("fraud review")));
    let reply = shop.login(&token, &account.id);
    assert_eq!(reply.error_code(), "account_suspended");
    assert!(!reply.body.windows(12).any(|w| w == b"fraud review"), "the operator's note stays private");
    let profile = shop.server.authed("GET", "/api/profile", &token, None);
    assert!(!profile.body.windows(12).any(|w| w == b"fraud review"), "{:?}", profile.json());
    assert_eq!(profile.json()["cpanelAccounts"][0]["status"], "SUSPENDED");
}

#[test]
fn expiry_suspends_renewal_restores_once_and_operators_win() {
    let shop = shop(|_| {});
    let token = shop.customer();
    let first = shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "life.example"}));
    let account = shop.fulfilled(&first);
    let user = account.username.clone();

    // The paid period ends: EXPIRED, suspended for non-payment, no cPanel.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["paidUntil"] = json!("2026-01-01T00:00:00Z"));
    wait_for("the suspension", || shop.on_whm(&user)?.suspended.filter(|r| r.contains("non-payment")));
    assert_eq!(shop.account(&account.id).status, AccountStatus::Expired);
    let login = shop.login(&token, &account.id);
    assert_eq!((login.status, login.error_code()), (402, "account_expired".into()));

    // Renewal: ACTIVE again, unsuspended, one month from now.
    let before_renewal = Timestamp::now();
    let renewal = shop.buy_and_pay(&token, json!({"accountId": account.id}));
    let renewed = shop.fulfilled(&renewal);
    assert_eq!(renewed.status, AccountStatus::Active);
    let payment = shop.payment(&renewal);
    assert!(payment.period_start.unwrap() >= before_renewal, "from now, not from the lapsed end");
    assert_eq!(renewed.paid_until, payment.period_end);
    wait_for("the unsuspension", || shop.on_whm(&user).filter(|a| a.suspended.is_none()));

    // The same payment processed twice extends nothing.
    edit_by_hand(&shop.db, "payments", &renewal, |p| p["fulfilment"]["status"] = json!("PROVISIONING"));
    wait_for("the second processing", || {
        Some(shop.payment(&renewal))
            .filter(|p| p.fulfilment.status == FulfilmentStatus::Done && p.fulfilment.attempts == 2)
    });
    assert_eq!(shop.account(&account.id).paid_until, renewed.paid_until, "extended once");

    // The operator suspends by hand: suspended in WHM, and a payment does not lift it.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| {
        a["status"] = json!("SUSPENDED");
        a["suspendReason"] = json!("phishing report #12");
    });
    wait_for("the operator's suspension", || shop.on_whm(&user)?.suspended.filter(|r| r.contains("phishing")));
    assert_eq!(shop.login(&token, &account.id).error_code(), "account_suspended");
    let third = shop.buy_and_pay(&token, json!({"accountId": account.id}));
    let after = shop.fulfilled(&third);
    assert_eq!(after.status, AccountStatus::Suspended);
    assert!(after.paid_until > renewed.paid_until, "the payment still counts");
    shop.server.app.provisioner.cycle(false);
    assert!(shop.on_whm(&user).unwrap().suspended.is_some());

    // The operator lifts it: unsuspended.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["status"] = json!("ACTIVE"));
    wait_for("the lifting", || shop.on_whm(&user).filter(|a| a.suspended.is_none()));
    assert_eq!(shop.login(&token, &account.id).status, 200);
}

#[test]
fn customers_who_leave_are_suspended_and_suspensions_by_others_are_reported() {
    let shop = shop(|_| {});
    let token = shop.customer();
    let account = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "gone.example"})));
    let npub = shop.server.authed("GET", "/api/profile", &token, None).json()["npub"].as_str().unwrap().to_owned();
    let deleted = shop.server.authed("POST", "/api/delete-user", &token, Some(&json!({"confirm": npub}).to_string()));
    assert_eq!(deleted.status, 200);
    wait_for("the suspension", || shop.on_whm(&account.username)?.suspended.filter(|r| r.contains("deleted")));
    assert_eq!(shop.login(&token, &account.id).error_code(), "account_suspended");
    assert_eq!(shop.server.authed("POST", "/api/recover-user", &token, None).status, 200);
    wait_for("the unsuspension", || shop.on_whm(&account.username).filter(|a| a.suspended.is_none()));

    // Suspended on WHM by someone else: left alone, reported as drift.
    shop.whm.state.lock().unwrap().accounts.get_mut(&account.username).unwrap().suspended = Some("abuse desk".into());
    let report = shop.server.app.provisioner.cycle(true);
    assert_eq!(report.unsuspended, 0);
    assert!(report.drift.iter().any(|d| d.contains("someone else") && d.contains("abuse desk")), "{report:?}");
    shop.whm.state.lock().unwrap().accounts.remove(&account.username);
    let report = shop.server.app.provisioner.cycle(true);
    assert!(report.drift.iter().any(|d| d.contains("does not exist on WHM")), "{report:?}");
}

#[test]
#[ignore = "run as a child process by a_crash_mid_creation_resumes_with_one_account"]
fn role_provisioner() {
    if !playing("provisioning::role_provisioner") {
        return;
    }
    let db = PathBuf::from(std::env::var("HOSTR_TEST_DB").unwrap());
    let mut config = Config::for_database(db, "127.0.0.1:0".parse().unwrap());
    config.whm = Some(WhmSettings {
        create_timeout: Duration::from_secs(60),
        ..whm_settings(&std::env::var("HOSTR_TEST_WHM").unwrap(), TOKEN)
    });
    config.schedule.cycle = Duration::from_millis(100);
    let app = std::sync::Arc::new(hostr::app::App::open(config).unwrap());
    app.start_workers();
    println!("ack started");
    std::thread::sleep(Duration::from_secs(120));
}

/// A paid payment as the payment flow leaves it.
fn paid_payment(store: &hostr::store::Store, domain: &str) -> Payment {
    // Paid through Strike: a real WHM delivers nothing else.
    paid_by(store, 7, domain, |p| {
        p.strike_invoice_id = Some(hostr::ids::new_uuid());
        p.provider = Some(hostr::payment::Provider::Strike);
    })
}

/// A PAID payment for a new account at `domain` by a new customer (the
/// `n`th key), with `shape` applied before it is paid and written.
pub(crate) fn paid_by(store: &hostr::store::Store, n: u64, domain: &str, shape: impl FnOnce(&mut Payment)) -> Payment {
    let plan: hostr::plan::Plan = store.get("basic").unwrap();
    let customer = crate::common::customer(&crate::common::key(n), None);
    store.create(&customer).unwrap();
    let mut payment =
        Payment::pending(&customer.id, &plan, hostr::ids::new_uuid(), Some(domain.into()), Timestamp::now());
    shape(&mut payment);
    payment.record_paid(Timestamp::now());
    hostr::checkout::fulfil(&mut payment);
    store.create(&payment).unwrap();
    payment
}

#[test]
fn a_crash_mid_creation_resumes_with_one_account() {
    // Killed while createacct is on its way: WHM creates the account, hostr
    // never hears back. After the restart it finds the account, not a second one.
    let (strike, whm, dir) = (FakeStrike::start(), FakeWhm::start(), temp_dir());
    let db = dir.path().join("db");
    let store = hostr::store::Store::open(&db).unwrap();
    store.create(&hostr::plan::Plan::seed(Timestamp::now())).unwrap();
    let payment = paid_payment(&store, "crash.example");
    whm.state.lock().unwrap().slow_function = Some(("createacct".into(), Duration::from_secs(30)));
    let mut child = spawn_role(
        "provisioning::role_provisioner",
        &[("HOSTR_TEST_DB", db.display().to_string()), ("HOSTR_TEST_WHM", whm.url.clone())],
    );
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| ack(&l) == Some("started"))));
    wait_for("createacct to be sent", || (whm.calls("createacct") == 1).then_some(()));
    child.kill().unwrap();
    child.wait().unwrap();
    let account: CpanelAccount = store.get(payment.account_id.as_deref().unwrap()).unwrap();
    assert_eq!(account.status, AccountStatus::Provisioning);
    assert!(account.create_requested_at.is_some(), "recorded before createacct");
    whm.state.lock().unwrap().slow_function = None;

    let server = TestServer::start_on(db, |c| configure(c, &strike, &whm.url));
    let payment = wait_for("the resumed fulfilment", || {
        Some(server.app.store.get::<Payment>(&payment.id).unwrap())
            .filter(|p| p.fulfilment.status == FulfilmentStatus::Done)
    });
    let account: CpanelAccount = server.app.store.get(payment.account_id.as_deref().unwrap()).unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(whm.calls("createacct"), 1, "one account, one createacct");
}

#[test]
fn a_crash_before_createacct_resumes_and_creates_it() {
    // The username was recorded, then the process died before calling WHM.
    let (strike, whm, dir) = (FakeStrike::start(), FakeWhm::start(), temp_dir());
    let db = dir.path().join("db");
    let store = hostr::store::Store::open(&db).unwrap();
    store.create(&hostr::plan::Plan::seed(Timestamp::now())).unwrap();
    let payment = paid_payment(&store, "early.example");
    let account = CpanelAccount::provisioning(
        payment.account_id.as_deref().unwrap(),
        "early",
        "early.example",
        &payment.customer_id,
        "basic",
        Timestamp::now(),
    );
    store.create(&account).unwrap();
    drop(store);

    let server = TestServer::start_on(db, |c| configure(c, &strike, &whm.url));
    wait_for("the resumed fulfilment", || {
        Some(server.app.store.get::<Payment>(&payment.id).unwrap())
            .filter(|p| p.fulfilment.status == FulfilmentStatus::Done)
    });
    assert_eq!(server.app.store.get::<CpanelAccount>(&account.id).unwrap().username, "early", "the recorded name");
    assert_eq!(whm.calls("createacct"), 1);
    assert_eq!(whm.calls("accountsummary"), 0, "nothing was sent before, so nothing to ask");
}

#[test]
fn sandbox_payments_never_make_real_accounts_and_the_sandbox_panel_signs_on_locally() {
    // A sandbox payment reaching a real WHM (the operator switched modes).
    let shop = shop(|_| {});
    let store = &shop.server.app.store;
    let mut payment = paid_payment(store, "free.example");
    store
        .update::<Payment, _, hostr::store::StoreError>(&payment.id, |p| {
            p.sandbox = true;
            Ok(())
        })
        .unwrap();
    payment.sandbox = true;
    shop.server.app.provisioner.wake();
    let failed = wait_for("the refusal", || {
        Some(shop.payment(&payment.id)).filter(|p| p.fulfilment.status == FulfilmentStatus::Failed)
    });
    assert!(failed.fulfilment.last_error.unwrap().contains("sandbox"));
    assert_eq!(shop.whm.calls("createacct"), 0);

    // The sandbox end to end: pay, ACTIVE, single sign-on to the local page.
    let server = TestServer::start();
    assert_eq!(server.get("/api/health").json()["sandbox"], json!({"payments": true, "whm": true}));
    let token = server.sign_in(&new_keys());
    assert_eq!(server.authed("POST", "/api/new-user", &token, None).status, 201);
    let body = json!({"planId": "basic", "domain": "www.Demo.example"}).to_string();
    let id = server.authed("POST", "/api/create-invoice", &token, Some(&body)).json()["payment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = json!({"paymentId": id}).to_string();
    assert_eq!(server.authed("POST", "/api/sandbox/pay", &token, Some(&pay)).status, 200);
    let account = wait_for("the sandbox account", || {
        let check = server.authed("GET", &format!("/api/check-invoice?paymentId={id}"), &token, None).json();
        Some(check["account"].clone()).filter(|a| a["status"] == "ACTIVE")
    });
    let login =
        server.authed("POST", "/api/cpanel-login", &token, Some(&json!({"accountId": account["id"]}).to_string()));
    let url = login.json()["url"].as_str().unwrap().to_owned();
    assert!(url.ends_with("/sandbox-cpanel.html?user=demo"), "{url}");
    assert_eq!(account["domain"], "demo.example", "the account is for the domain; cPanel adds www.");
}

#[test]
fn termination_removes_long_expired_accounts_only_when_turned_on() {
    for terminate_after in [None, Some(chrono::Duration::days(30))] {
        let shop = shop(|c| c.schedule.terminate_after = terminate_after);
        let token = shop.customer();
        let account = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "old.example"})));
        // The customer has opened a renewal invoice (and not paid it yet).
        let renew = json!({"accountId": account.id}).to_string();
        assert_eq!(shop.server.authed("POST", "/api/create-invoice", &token, Some(&renew)).status, 201);
        edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["paidUntil"] = json!("2026-01-01T00:00:00Z"));
        wait_for("the expiry", || (shop.account(&account.id).status != AccountStatus::Active).then_some(()));
        shop.server.app.provisioner.cycle(false);
        let after = shop.account(&account.id);
        if terminate_after.is_none() {
            assert_eq!(after.status, AccountStatus::Expired, "off by default");
            assert!(shop.on_whm(&account.username).is_some());
            assert_eq!(shop.whm.calls("removeacct"), 0);
        } else {
            assert_eq!(after.status, AccountStatus::Expired, "not while a renewal invoice is open");
            assert_eq!(shop.whm.calls("removeacct"), 0);
            let open = shop.server.app.store.find(Payment::open_renewal_of(&account.id)).unwrap().unwrap();
            edit_by_hand(&shop.db, "payments", &open.id, |p| p["state"] = json!("CANCELLED"));
            shop.server.app.provisioner.cycle(false);
            let after = shop.account(&account.id);
            assert_eq!(after.status, AccountStatus::Terminated);
            assert!(shop.on_whm(&account.username).is_none(), "removed from WHM");
            assert_eq!(shop.whm.calls("removeacct"), 1);
            let reply = shop.server.authed("POST", "/api/create-invoice", &token, Some(&renew));
            assert_eq!((reply.status, reply.error_code()), (410, "account_terminated".into()));
            // Its domain may be bought again.
            let again = json!({"planId": "basic", "domain": "old.example"}).to_string();
            assert_eq!(shop.server.authed("POST", "/api/create-invoice", &token, Some(&again)).status, 201);
        }
    }
}

/// A worker over `accounts` expired accounts (`u0`, `u1`, …) on `whm`, driven
/// by hand, with no server around it.
fn worker_with_expired(whm: &FakeWhm, accounts: usize, dir: &Path) -> hostr::provisioning::Provisioner {
    let store = std::sync::Arc::new(hostr::store::Store::open(dir).unwrap());
    let lapsed = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    for i in 0..accounts {
        let (user, domain) = (format!("u{i}"), format!("site{i}.example"));
        let account = CpanelAccount {
            status: AccountStatus::Active,
            paid_until: Some(lapsed),
            ..CpanelAccount::provisioning(
                &hostr::ids::new_uuid(),
                &user,
                &domain,
                &hostr::ids::new_uuid(),
                "basic",
                lapsed,
            )
        };
        store.create(&account).unwrap();
        whm.add_account(&user, &domain);
    }
    let schedule = hostr::provisioning::Schedule { retry_base: Duration::from_secs(60), ..Default::default() };
    let client = whm_settings(&whm.url, TOKEN).client().unwrap();
    hostr::provisioning::Provisioner::new(store, Box::new(client), schedule)
}

#[test]
fn an_unreachable_whm_ends_the_pass_instead_of_timing_out_call_after_call() {
    let (whm, dir) = (FakeWhm::start(), temp_dir());
    let worker = worker_with_expired(&whm, 3, dir.path());
    worker.cycle(true);
    assert_eq!(whm.calls("suspendacct"), 3, "reachable: all three suspended");

    let (whm, dir) = (FakeWhm::start(), temp_dir());
    let worker = worker_with_expired(&whm, 3, dir.path());
    // Each suspension outlasts the client's 1.5 s timeout.
    whm.state.lock().unwrap().slow_function = Some(("suspendacct".into(), Duration::from_secs(3)));
    let report = worker.cycle(true);
    assert_eq!((report.expired, report.suspended), (3, 0));
    assert_eq!(whm.calls("suspendacct"), 1, "the rest waits for the next pass");
    whm.state.lock().unwrap().slow_function = None;
    assert_eq!(worker.cycle(false).suspended, 3, "the next pass catches up");
}

#[test]
fn a_suspension_whm_refuses_is_not_sent_again_every_pass() {
    let (whm, dir) = (FakeWhm::start(), temp_dir());
    let worker = worker_with_expired(&whm, 1, dir.path());
    whm.state.lock().unwrap().refused_function = Some("suspendacct".into());
    for _ in 0..5 {
        worker.cycle(false);
    }
    assert_eq!(whm.calls("suspendacct"), 1, "held back after the refusal");
}

#[test]
fn a_renewal_past_the_calendars_end_is_refused_and_the_account_keeps_working() {
    let shop = shop(|_| {});
    let token = shop.customer();
    let account = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "forever.example"})));
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| a["paidUntil"] = json!("9999-12-15T00:00:00Z"));
    let far = Timestamp::parse("9999-12-15T00:00:00Z").unwrap();
    wait_for("the edit to be read", || Some(shop.account(&account.id)).filter(|a| a.paid_until == Some(far)));

    // One more month would end in the year 10000: refused before anything is charged.
    let renewal = json!({"accountId": account.id}).to_string();
    let refused = shop.server.authed("POST", "/api/create-invoice", &token, Some(&renewal));
    assert_eq!((refused.status, refused.error_code().as_str()), (409, "renewal_past_calendar"));
    let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("9999-12-15T00:00:00Z") && message.contains("Nothing was charged"), "{message}");
    assert_eq!(shop.strike.invoice_count(), 1, "no invoice for the renewal");

    // The account, the profile and the health check keep working.
    let profile = shop.server.authed("GET", "/api/profile", &token, None);
    assert_eq!(profile.status, 200);
    assert_eq!(profile.json()["payments"].as_array().unwrap().len(), 1, "no payment was opened");
    assert_eq!(profile.json()["cpanelAccounts"][0]["paidUntil"], "9999-12-15T00:00:00Z");
    assert_eq!(shop.server.get("/api/health").status, 200);
    assert_eq!(shop.login(&token, &account.id).status, 200);
    // And the operator hears of the date.
    let report = hostr::check::check(&shop.server.app.store).unwrap();
    assert!(report.problems.iter().any(|p| p.message.contains("9999-12-15")), "{:?}", report.problems);
}
