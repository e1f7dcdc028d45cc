//! Several WHM servers, each a fake WHM reached through the real client:
//! placement by the fill rule (skipping full, draining and silent servers),
//! the server written before `createacct` and never changed after, every
//! later call to the account's own server, one server's trouble held to
//! its own accounts, `hostr whm test/sync --server`, and the single-server
//! setup of before.

use crate::common::fake_whm::{FakeAccount, FakeWhm, TOKEN};
use crate::common::temp_dir;
use crate::provisioning::{paid_by, wait_for, whm_settings};
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::payment::{FulfilmentStatus, Payment};
use hostr::provisioning::gateway::PanelHealth;
use hostr::provisioning::hosts::ServerLink;
use hostr::provisioning::{Provisioner, Schedule};
use hostr::store::Store;
use hostr::timestamp::Timestamp;
use hostr::whm_server::{Fill, ServerStatus, WhmServer};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A server record as an operator writes it.
fn record(id: &str, url: &str, max: Option<u32>) -> WhmServer {
    let json = serde_json::json!({"id": id, "url": url, "tokenEnv": "WHM_TOKEN", "maxAccounts": max});
    serde_json::from_value(json).unwrap()
}

/// A worker over `servers` (id, URL, token), with their records written
/// (`records` adjusts each before it is).
fn worker(store: &Arc<Store>, servers: &[(&str, &str, &str)], records: impl Fn(&mut WhmServer)) -> Provisioner {
    let mut links = Vec::new();
    for (id, url, token) in servers {
        let mut server = record(id, url, None);
        records(&mut server);
        store.create(&server).unwrap();
        let panel = Box::new(whm_settings(url, token).client().unwrap());
        links.push(ServerLink { id: (*id).to_owned(), panel, facts: Default::default() });
    }
    let schedule = Schedule {
        retry_base: Duration::from_millis(50),
        create_settle: Duration::from_secs(3),
        terminate_after: Some(chrono::Duration::days(30)),
        ..Schedule::default()
    };
    Provisioner::with_servers(store.clone(), links, schedule)
}

/// A PAID payment through Strike for a new account at `domain`, by the `n`th customer.
fn paid(store: &Store, n: u64, domain: &str) -> Payment {
    paid_by(store, n, domain, |p| {
        p.strike_invoice_id = Some(hostr::ids::new_uuid());
        p.provider = Some(hostr::payment::Provider::Strike);
    })
}

fn account_of(store: &Store, payment: &Payment) -> Option<CpanelAccount> {
    store.get(payment.account_id.as_deref().unwrap()).ok()
}

fn open_store(dir: &tempfile::TempDir) -> Arc<Store> {
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create(&hostr::plan::Plan::seed(Timestamp::now())).unwrap();
    store
}

/// An address where nothing answers.
fn closed_url() -> String {
    format!("http://127.0.0.1:{}", crate::common::tools::free_port())
}

#[test]
fn new_accounts_go_to_the_least_full_server_past_full_draining_and_silent_ones() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let (a, b, c) = (FakeWhm::start(), FakeWhm::start(), FakeWhm::start());
    let down = closed_url();
    let servers = [("a", a.url.as_str(), TOKEN), ("b", &b.url, TOKEN), ("c", &c.url, TOKEN), ("d", &down, TOKEN)];
    // a holds 2, b 4; c (draining) and d (unreachable) have no limit, so
    // the rule would pick them first.
    let worker = worker(&store, &servers, |s| match s.id.as_str() {
        "a" => s.max_accounts = Some(2),
        "b" => s.max_accounts = Some(4),
        "c" => s.status = ServerStatus::Draining,
        _ => {}
    });
    // One at a time, so the order is known.
    let payments: Vec<Payment> = (0..7)
        .map(|i| {
            let payment = paid(&store, 10 + i, &format!("site{i}.example"));
            worker.cycle(false);
            payment
        })
        .collect();
    let placed: Vec<Option<String>> =
        payments.iter().map(|p| account_of(&store, p).and_then(|a| a.server_id)).collect();
    let want = |s: &str| Some(s.to_owned());
    // 0/2 = 0/4 → a (by id); ½ vs 0 → b; ½ vs ¼ → b; ½ = ½ → a; a full → b, b.
    assert_eq!(placed[..6], [want("a"), want("b"), want("b"), want("a"), want("b"), want("b")]);
    assert_eq!(placed[6], None, "both full: nowhere, and nothing written");
    let last: Payment = store.get(&payments[6].id).unwrap();
    assert_eq!(last.fulfilment.status, FulfilmentStatus::Failed);
    let why = last.fulfilment.last_error.unwrap();
    assert!(why.contains("a: full (2 of 2)") && why.contains("c: draining") && why.contains("d:"), "{why}");
    assert!(last.fulfilment.next_attempt_at.is_some(), "retried by itself once there is room");
    assert_eq!((a.calls("createacct"), b.calls("createacct"), c.calls("createacct")), (2, 4, 0));
    assert_eq!(c.calls("verify_new_username"), 0, "a draining server is not even asked");
    for payment in &payments[..6] {
        assert_eq!(store.get::<Payment>(&payment.id).unwrap().fulfilment.status, FulfilmentStatus::Done);
    }

    // The operator raises a's limit by hand: the waiting account goes there.
    let mut raised = store.get::<WhmServer>("a").unwrap();
    raised.max_accounts = Some(3);
    std::fs::write(dir.path().join("servers/a.json"), serde_json::to_string_pretty(&raised).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    worker.cycle(false);
    assert_eq!(account_of(&store, &payments[6]).and_then(|a| a.server_id).as_deref(), Some("a"));
}

#[test]
fn fill_in_order_fills_the_groups_first_server_before_the_next() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let (a, b, other) = (FakeWhm::start(), FakeWhm::start(), FakeWhm::start());
    let servers = [("a", a.url.as_str(), TOKEN), ("b", &b.url, TOKEN), ("other", &other.url, TOKEN)];
    let worker = worker(&store, &servers, |s| {
        if s.id != "other" {
            s.groups = vec!["eu".into()];
        }
        s.max_accounts = Some(2);
    });
    store
        .update::<hostr::plan::Plan, _, hostr::store::StoreError>("basic", |p| {
            p.server_group = Some("eu".into());
            p.server_fill = Fill::InOrder;
            Ok(())
        })
        .unwrap();
    let payments: Vec<Payment> = (0..3)
        .map(|i| {
            let payment = paid(&store, 30 + i, &format!("eu{i}.example"));
            worker.cycle(false);
            payment
        })
        .collect();
    let placed: Vec<String> = payments.iter().map(|p| account_of(&store, p).unwrap().server().to_owned()).collect();
    assert_eq!(placed, ["a", "a", "b"]);
    assert_eq!(other.calls("verify_new_username") + other.calls("createacct"), 0, "not in the group");
}

#[test]
fn a_server_that_goes_down_during_createacct_never_gets_the_account_made_on_another() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let (a, b) = (FakeWhm::start(), FakeWhm::start());
    let worker = worker(&store, &[("a", a.url.as_str(), TOKEN), ("b", &b.url, TOKEN)], |_| {});
    {
        // createacct answers 500 and WHM finishes it 2 s later; then a stops
        // answering accountsummary for a while.
        let mut state = a.state.lock().unwrap();
        state.background_create = Some(Duration::from_secs(2));
        state.failing_function = Some(("accountsummary".into(), 6));
    }
    let payment = paid(&store, 50, "shop.example");
    let account = wait_for("the payment to be fulfilled", || {
        worker.cycle(false);
        let account = account_of(&store, &payment)?;
        assert_eq!(account.server_id.as_deref(), Some("a"), "the server never changes once written");
        std::thread::sleep(Duration::from_millis(100));
        let done = store.get::<Payment>(&payment.id).unwrap().fulfilment.status == FulfilmentStatus::Done;
        done.then_some(account)
    });
    assert_eq!(store.get::<CpanelAccount>(&account.id).unwrap().status, AccountStatus::Active);
    assert_eq!(a.calls("createacct"), 1, "one createacct, on a");
    assert_eq!(b.calls("createacct") + b.calls("verify_new_username"), 0, "b never heard of it");
    assert!(a.state.lock().unwrap().accounts.contains_key("shop"));
}

/// An account on `server` as its file says, and on that fake WHM.
fn hosted(store: &Store, server: &str, whm: &FakeWhm, user: &str, shape: impl FnOnce(&mut CpanelAccount)) -> String {
    let now = Timestamp::now();
    let customer =
        crate::common::customer(&crate::common::key(100 + store.ids::<CpanelAccount>().unwrap().len() as u64), None);
    store.create(&customer).unwrap();
    let domain = format!("{user}.example");
    let mut account = CpanelAccount {
        status: AccountStatus::Active,
        server_id: Some(server.to_owned()),
        paid_until: Some(Timestamp::from(now.as_datetime() + chrono::Duration::days(20))),
        whm_created_at: Some(now),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), user, &domain, &customer.id, "basic", now)
    };
    shape(&mut account);
    store.create(&account).unwrap();
    whm.state.lock().unwrap().accounts.insert(user.to_owned(), FakeAccount::new(&domain, "basic"));
    account.id
}

#[test]
fn reconcile_usage_sign_on_and_termination_each_use_the_accounts_own_server() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let (a, b) = (FakeWhm::start(), FakeWhm::start());
    let worker = worker(&store, &[("a", a.url.as_str(), TOKEN), ("b", &b.url, TOKEN)], |_| {});
    let shop = hosted(&store, "a", &a, "shop", |_| {});
    let yesterday = Timestamp::from(Timestamp::now().as_datetime() - chrono::Duration::days(1));
    let lapsed = hosted(&store, "b", &b, "lapsed", |acc| acc.paid_until = Some(yesterday));
    let long_ago = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    let old = hosted(&store, "b", &b, "old", |acc| {
        acc.status = AccountStatus::Expired;
        acc.paid_until = Some(long_ago);
    });
    {
        // The same usernames on the other server belong to other sites: a
        // call to the wrong server would show up as drift or a refusal.
        let (mut on_a, mut on_b) = (a.state.lock().unwrap(), b.state.lock().unwrap());
        on_b.accounts.insert("shop".into(), FakeAccount::new("someone.example", "other"));
        on_a.accounts.insert("lapsed".into(), FakeAccount::new("else.example", "other"));
        on_a.accounts.insert("old".into(), FakeAccount::new("elsewhere.example", "other"));
        on_a.accounts.get_mut("shop").unwrap().disk_used_mb = 321;
        on_b.accounts.get_mut("shop").unwrap().disk_used_mb = 999;
    }
    let report = worker.cycle(true);
    assert!(report.drift.is_empty(), "{:?}", report.drift);
    assert_eq!((report.expired, report.suspended, report.terminated), (1, 1, 1));
    assert!(b.state.lock().unwrap().accounts["lapsed"].suspended.is_some(), "suspended on b");
    assert!(a.state.lock().unwrap().accounts["lapsed"].suspended.is_none(), "a's lapsed is someone else's");
    assert!(!b.state.lock().unwrap().accounts.contains_key("old"), "removed from b");
    assert!(a.state.lock().unwrap().accounts.contains_key("old"), "a's old is someone else's");
    assert_eq!(store.get::<CpanelAccount>(&old).unwrap().status, AccountStatus::Terminated);
    assert_eq!((a.calls("suspendacct"), a.calls("removeacct")), (0, 0));
    let usage = store.get::<CpanelAccount>(&shop).unwrap().resource_usage.expect("usage read");
    assert_eq!(usage.disk_used_mb, 321, "a's figures, not b's");
    let lapsed_usage = store.get::<CpanelAccount>(&lapsed).unwrap().resource_usage.unwrap();
    assert_eq!(lapsed_usage.disk_used_mb, 12);

    let url = worker.login_url(&store.get(&shop).unwrap()).expect("single sign-on");
    assert!(url.contains("session=shop"), "{url}");
    assert_eq!((a.calls("create_user_session"), b.calls("create_user_session")), (1, 0));
    let on_b = worker.login_url(&store.get(&lapsed).unwrap()).expect("single sign-on on b");
    assert!(on_b.contains("session=lapsed"), "{on_b}");
    assert_eq!((a.calls("create_user_session"), b.calls("create_user_session")), (1, 1));
    let a_lists = a.calls("listaccts");
    let (report, foreign) = worker.sync("b", false).unwrap();
    assert!(report.drift.is_empty() && report.planned.is_empty(), "{report:?}");
    assert_eq!(foreign, ["shop (someone.example)"], "b's own stranger only");
    assert_eq!(a.calls("listaccts"), a_lists, "sync of b reads b alone");
}

#[test]
fn one_servers_refused_token_pauses_only_that_server() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let (a, b) = (FakeWhm::start(), FakeWhm::start());
    let worker = worker(&store, &[("a", a.url.as_str(), "WRONG"), ("b", &b.url, TOKEN)], |_| {});
    let yesterday = Timestamp::from(Timestamp::now().as_datetime() - chrono::Duration::days(1));
    hosted(&store, "a", &a, "ona", |acc| acc.paid_until = Some(yesterday));
    hosted(&store, "b", &b, "onb", |acc| acc.paid_until = Some(yesterday));
    let report = worker.cycle(true);
    assert_eq!((report.expired, report.suspended), (2, 1));
    assert!(b.state.lock().unwrap().accounts["onb"].suspended.is_some());
    assert_eq!(
        worker.server_health(),
        [("a".to_owned(), PanelHealth::TokenRefused), ("b".to_owned(), PanelHealth::Answering)]
    );
    assert_eq!(worker.panel_health(), PanelHealth::TokenRefused, "the worst one, for /api/health");
    let calls_to_a = a.state.lock().unwrap().calls.len();
    // A new customer lands on b; a hears nothing while its token is paused.
    let payment = paid(&store, 60, "new.example");
    worker.cycle(true);
    assert_eq!(account_of(&store, &payment).unwrap().server(), "b");
    assert_eq!(store.get::<Payment>(&payment.id).unwrap().fulfilment.status, FulfilmentStatus::Done);
    assert_eq!(a.state.lock().unwrap().calls.len(), calls_to_a, "no call reaches a during the pause");
}

#[test]
fn a_single_server_setup_from_before_keeps_working_without_rewriting_a_file() {
    let dir = temp_dir();
    let store = open_store(&dir);
    let whm = FakeWhm::start();
    let now = Timestamp::now();
    let customer = crate::common::customer(&crate::common::key(70), None);
    store.create(&customer).unwrap();
    // An account as the versions before wrote it: no serverId.
    let account = CpanelAccount {
        status: AccountStatus::Expired,
        paid_until: Some(Timestamp::from(now.as_datetime() - chrono::Duration::days(1))),
        whm_created_at: Some(now),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "shop", "shop.example", &customer.id, "basic", now)
    };
    store.create(&account).unwrap();
    let path = dir.path().join(format!("cpanel-accounts/{}.json", account.id));
    let before = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&before).contains("serverId"));
    whm.add_account_on("shop", "shop.example", "basic");
    // WHM_URL's server, as App and the CLI make it.
    let client = whm_settings(&whm.url, TOKEN).client().unwrap();
    let worker = Provisioner::new(store.clone(), Box::new(client), Schedule::default());
    let report = worker.cycle(true);
    assert_eq!(report.suspended, 1, "found on the default server");
    assert!(report.drift.is_empty(), "{:?}", report.drift);
    let after = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert!(!after.contains("serverId"), "no migration of the file: {after}");
    // A new account names the server it was placed on.
    let payment = paid(&store, 71, "new.example");
    worker.cycle(false);
    assert_eq!(account_of(&store, &payment).unwrap().server_id.as_deref(), Some("default"));
}

fn hostr_cli(database: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hostr"));
    command.arg("--database").arg(database).args(args);
    for var in ["WHM_URL", "WHM_API_TOKEN", "STRIKE_API_KEY"] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().expect("run hostr")
}

#[test]
fn whm_test_and_sync_take_a_server_and_default_to_all() {
    let dir = temp_dir();
    let (eu, us) = (FakeWhm::start(), FakeWhm::start());
    {
        let store = Store::open(dir.path()).unwrap();
        store.create(&WhmServer { token_env: "EU_TOKEN".into(), ..record("eu", &eu.url, Some(100)) }).unwrap();
        store.create(&WhmServer { token_env: "US_TOKEN".into(), ..record("us", &us.url, None) }).unwrap();
    }
    eu.add_account("stray", "stray.example");
    let env = [("EU_TOKEN", TOKEN), ("US_TOKEN", TOKEN)];
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let all = hostr_cli(dir.path(), &env, &["whm", "test"]);
    assert!(all.status.success(), "{}", err(&all));
    assert!(out(&all).contains("WHM server eu at") && out(&all).contains("WHM server us at"), "{}", out(&all));
    let one = hostr_cli(dir.path(), &env, &["whm", "test", "--server", "us"]);
    assert!(one.status.success() && !out(&one).contains("server eu"), "{}", out(&one));
    assert_eq!((eu.calls("applist"), us.calls("applist")), (1, 2));
    let unknown = hostr_cli(dir.path(), &env, &["whm", "test", "--server", "asia"]);
    assert!(
        !unknown.status.success() && err(&unknown).contains("no WHM server `asia` is configured"),
        "{}",
        err(&unknown)
    );
    let bad_token = hostr_cli(dir.path(), &[("EU_TOKEN", "WRONG"), ("US_TOKEN", TOKEN)], &["whm", "test"]);
    assert!(!bad_token.status.success() && err(&bad_token).contains("WHM server eu"), "{}", err(&bad_token));
    let unset = hostr_cli(dir.path(), &[("EU_TOKEN", TOKEN)], &["whm", "test"]);
    assert!(err(&unset).contains("US_TOKEN (its tokenEnv) is not set"), "{}", err(&unset));

    let sync = hostr_cli(dir.path(), &env, &["whm", "sync"]);
    assert!(out(&sync).contains("[eu] on WHM but not in hostr: stray (stray.example)"), "{}", out(&sync));
    assert!(sync.status.success(), "accounts hostr does not know are reported, not a failure");
    let us_only = hostr_cli(dir.path(), &env, &["whm", "sync", "--server", "us", "--json"]);
    assert!(us_only.status.success(), "{}", err(&us_only));
    let summary: serde_json::Value = serde_json::from_slice(&us_only.stdout).unwrap();
    assert_eq!((summary["server"].as_str(), summary["notInHostr"].as_array().map(Vec::len)), (Some("us"), Some(0)));

    // `hostr check` names an account whose server has no record.
    {
        let store = Store::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let account = CpanelAccount {
            server_id: Some("asia".into()),
            ..CpanelAccount::provisioning(
                &hostr::ids::new_uuid(),
                "shop",
                "shop.example",
                &hostr::ids::new_uuid(),
                "basic",
                now,
            )
        };
        store.create(&account).unwrap();
    }
    let check = hostr_cli(dir.path(), &env, &["check"]);
    assert!(out(&check).contains("`serverId` names WHM server asia, which does not exist"), "{}", out(&check));
}
