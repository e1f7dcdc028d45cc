//! Automatic renewal through a real NIP-47 wallet service (`@getalby/sdk`'s
//! NWCWalletService, `common/nwc_wallet.rs`) on a real relay (PyPI
//! nostr-relay), with the fake Strike whose invoice state the test flips:
//! only Strike's word extends an account.

use crate::common::fake_strike::{FakeStrike, KEY};
use crate::common::nwc_wallet::TestWallet;
use crate::common::relay::TestRelay;
use crate::common::smtp::{Mail, TestSmtp};
use crate::common::{TestServer, ack, customer, playing, spawn_role, temp_dir};
use crate::provisioning::wait_for;
use hostr::config::StrikeSettings;
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::notices::email::SmtpSettings;
use hostr::notices::{Notice, NoticeKind};
use hostr::nwc::{LinkStatus, RenewSettings, WalletLink};
use hostr::outbox::OutboxItem;
use hostr::payment::{Payment, PaymentState};
use hostr::plan::Plan;
use hostr::prepay::PrepayOption;
use hostr::relay::{RelayAddress, RelaySettings};
use hostr::store::Store;
use hostr::timestamp::Timestamp;
use nostr::prelude::Keys;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const ACCOUNT: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const EMAIL: &str = "ann@mail.test";
const MONTH: Duration = Duration::from_secs(30 * 86_400);

struct Shop {
    smtp: Option<TestSmtp>,
    strike: FakeStrike,
    relay: TestRelay,
    server: TestServer,
    db: PathBuf,
    token: String,
    client: Keys,
    wallet_keys: Keys,
    _dir: tempfile::TempDir,
}

/// A customer with one active account paid until tomorrow (so due at
/// once), Strike faked, the relay both the shop's and the wallet's.
fn shop() -> Option<Shop> {
    shop_with(Duration::from_secs(86_400), false)
}

/// The account paid for `paid_for` from now; with `mail`, the customer's
/// confirmed address gets the notices through a real SMTP server.
fn shop_with(paid_for: Duration, mail: bool) -> Option<Shop> {
    let relay = TestRelay::start()?;
    let smtp = if mail { Some(TestSmtp::start()?) } else { None };
    let (strike, dir, keys) = (FakeStrike::start(), temp_dir(), Keys::generate());
    let db = dir.path().join("db");
    seed(&db, &keys, paid_for, smtp.as_ref().map(|_| EMAIL));
    let server = start(&db, &strike.url, &relay.url(), smtp.as_ref(), WAIT);
    let token = server.sign_in(&keys);
    Some(Shop {
        smtp,
        strike,
        relay,
        server,
        db,
        token,
        client: Keys::generate(),
        wallet_keys: Keys::generate(),
        _dir: dir,
    })
}

/// The customer (`keys`, with `email` confirmed) and the account, paid for
/// `paid_for` from now.
fn seed(db: &Path, keys: &Keys, paid_for: Duration, email: Option<&str>) {
    let store = Store::open(db).unwrap();
    let mut owner = customer(&keys.public_key().to_hex(), email);
    owner.confirmed_email = owner.email.clone();
    store.create(&owner).unwrap();
    let now = Timestamp::now();
    let account = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(now.plus(paid_for)),
        whm_created_at: Some(Timestamp::from(now.as_datetime() - chrono::Duration::days(1))),
        ..CpanelAccount::provisioning(ACCOUNT, "shop", "shop.example", &owner.id, "basic", now)
    };
    store.create(&account).unwrap();
}

/// How long the server waits for the wallet's answer.
const WAIT: Duration = Duration::from_secs(3);

fn start(db: &Path, strike: &str, relay: &str, smtp: Option<&TestSmtp>, wait: Duration) -> TestServer {
    TestServer::start_on(db.to_path_buf(), |c| {
        if let Some(smtp) = smtp {
            c.notices.smtp = Some(SmtpSettings::new(&smtp.url(), "Hosting <hosting@shop.test>").unwrap());
            c.notices.cycle = Duration::from_millis(200);
        }
        c.strike = Some(StrikeSettings {
            api_key: KEY.into(),
            api_url: strike.to_owned(),
            webhook_secret: None,
            timeout: Duration::from_secs(2),
        });
        c.relays = RelaySettings {
            relays: vec![RelayAddress::operator(relay).unwrap()],
            allow_private: true,
            timing: Default::default(),
        };
        c.payment_poll_interval = Duration::from_secs(3600);
        c.schedule.cycle = Duration::from_millis(100);
        c.auto_renew = RenewSettings {
            days: 3,
            attempts: 2,
            wait,
            cycle: Duration::from_millis(200),
            retry_after: Duration::from_secs(3600),
        };
    })
}

fn wallet_uri(relay: &str, client: &Keys, wallet: &Keys) -> String {
    let relay = percent_encoding::utf8_percent_encode(relay, percent_encoding::NON_ALPHANUMERIC);
    let secret = client.secret_key().to_secret_hex();
    format!("nostr+walletconnect://{}?relay={relay}&secret={secret}", wallet.public_key().to_hex())
}

fn connect(server: &TestServer, token: &str, uri: &str, cap: i64) -> serde_json::Value {
    let body = json!({"accountId": ACCOUNT, "uri": uri, "capSats": cap}).to_string();
    let reply = server.authed("POST", "/api/auto-renew", token, Some(&body));
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

impl Shop {
    fn wallet(&self, mode: &str) -> Option<TestWallet> {
        let secret = self.wallet_keys.secret_key().to_secret_hex();
        TestWallet::start(&self.relay.url(), &secret, &self.client.public_key().to_hex(), mode)
    }

    fn uri(&self) -> String {
        wallet_uri(&self.relay.url(), &self.client, &self.wallet_keys)
    }

    fn connect(&self, cap: i64) -> serde_json::Value {
        connect(&self.server, &self.token, &self.uri(), cap)
    }

    fn link(&self) -> WalletLink {
        self.server.app.store.get(ACCOUNT).unwrap()
    }

    /// A hand edit of `paidUntil` (the clock is never waited on).
    fn set_paid_until(&self, from_now: Duration) {
        let until = Timestamp::now().plus(from_now);
        self.server
            .app
            .store
            .update::<CpanelAccount, _, hostr::store::StoreError>(ACCOUNT, |a| {
                a.paid_until = Some(until);
                Ok(())
            })
            .unwrap();
    }

    fn account(&self) -> CpanelAccount {
        self.server.app.store.get(ACCOUNT).unwrap()
    }

    /// The renewal payment the wallet was asked to pay.
    fn requested_payment(&self) -> Payment {
        let id = wait_for("a request to the wallet", || self.link().current.map(|c| c.payment_id));
        self.server.app.store.get(&id).unwrap()
    }

    /// The mails to the customer once there are `count`, after two more
    /// notice passes (so that one more would have come).
    fn mails(&self, count: usize) -> Vec<Mail> {
        let smtp = self.smtp.as_ref().unwrap();
        wait_for("the mails", || (smtp.mails_to(EMAIL).len() >= count).then_some(()));
        let passes = self.server.app.notifier.passes();
        wait_for("two more passes", || (self.server.app.notifier.passes() >= passes + 2).then_some(()));
        smtp.mails_to(EMAIL)
    }

    fn notice_kinds(&self) -> Vec<NoticeKind> {
        self.server.app.store.list_readable::<Notice>().unwrap().into_iter().map(|n| n.kind).collect()
    }

    fn requests(&self) -> Vec<OutboxItem> {
        let items = self.server.app.store.list_readable::<OutboxItem>().unwrap();
        items.into_iter().filter(|i| i.event.kind.as_u16() == 23194).collect()
    }
}

#[test]
fn a_renewal_paid_through_the_wallet_extends_the_account_once() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("preimage") else { return };
    let connected = shop.connect(100_000);
    assert!(connected["message"].as_str().unwrap().contains("Connected to Test Wallet"), "{connected}");
    assert_eq!(connected["account"]["encryption"], "nip44_v2");
    let before = shop.account().paid_until.unwrap();
    let payment = shop.requested_payment();
    let asked = wallet.wait_lines("pay_invoice ", 1);
    assert_eq!(asked[0], format!("pay_invoice {}", payment.bolt11.clone().unwrap()));
    shop.strike.set_state(payment.strike_invoice_id.as_deref().unwrap(), "PAID");
    let renewed = wait_for("the extension", || Some(shop.account()).filter(|a| a.paid_until != Some(before)));
    assert_eq!(renewed.applied_payments.iter().filter(|a| a.payment_id == payment.id).count(), 1);
    wait_for("the attempt to end", || Some(shop.link()).filter(|l| l.current.is_none()));
    assert_eq!(shop.link().last.unwrap().result, "paid");
    assert_eq!(shop.strike.invoice_count(), 1, "one invoice");
    assert_eq!(shop.requests().len(), 1, "one request");
}

#[test]
fn a_preimage_without_strike_saying_paid_extends_nothing() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("preimage") else { return };
    shop.connect(100_000);
    let before = shop.account().paid_until;
    let payment = shop.requested_payment();
    wallet.wait_lines("pay_invoice ", 1);
    wait_for("the wallet's answer", || shop.link().current.and_then(|c| c.answer)).eq("paid").then_some(()).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(shop.account().paid_until, before);
    let stored: Payment = shop.server.app.store.get(&payment.id).unwrap();
    assert_eq!(stored.state, PaymentState::Pending);
    assert_eq!(shop.requests().len(), 1, "answered: never sent again");
}

#[test]
fn quota_exceeded_is_told_and_extends_nothing() {
    let Some(shop) = shop() else { return };
    let Some(_wallet) = shop.wallet("quota") else { return };
    shop.connect(100_000);
    let before = shop.account().paid_until;
    let last = wait_for("the outcome", || shop.link().last);
    assert_eq!(last.result, "failed");
    assert!(last.message.contains("QUOTA_EXCEEDED"), "{}", last.message);
    assert_eq!(shop.link().status, LinkStatus::Connected, "a later day tries again");
    assert_eq!(shop.account().paid_until, before);
}

#[test]
fn a_refusal_is_mailed_once_with_the_manual_link_and_no_ordinary_reminder_meanwhile() {
    let Some(shop) = shop_with(MONTH, true) else { return };
    let Some(_wallet) = shop.wallet("quota") else { return };
    shop.connect(100_000);
    shop.set_paid_until(Duration::from_secs(86_400));
    let mails = shop.mails(1);
    assert_eq!(mails.len(), 1, "{:?}", mails.iter().map(Mail::subject).collect::<Vec<_>>());
    assert_eq!(mails[0].subject(), "shop.example: the automatic renewal from Test Wallet did not go through");
    assert!(mails[0].text.contains("QUOTA_EXCEEDED"), "{}", mails[0].text);
    assert!(mails[0].text.contains("/profile.html"), "the manual renewal link: {}", mails[0].text);
    assert!(mails[0].text.contains("1 more attempt"), "{}", mails[0].text);
    assert!(!shop.notice_kinds().contains(&NoticeKind::RenewalDue), "{:?}", shop.notice_kinds());
}

#[test]
fn the_day_before_the_wallet_is_asked_the_customer_hears_what_it_will_pay() {
    // Paid for 3.5 days, asked 3 days before: the first attempt is in half a day.
    let Some(shop) = shop_with(MONTH, true) else { return };
    let Some(wallet) = shop.wallet("preimage") else { return };
    shop.connect(100_000);
    shop.set_paid_until(Duration::from_secs(84 * 3600));
    let mails = shop.mails(1);
    assert_eq!(mails.len(), 1, "{:?}", mails.iter().map(Mail::subject).collect::<Vec<_>>());
    assert!(mails[0].subject().contains("we will pay its renewal from Test Wallet"), "{}", mails[0].subject());
    assert!(mails[0].text.contains("never more than your cap of 100,000 sats"), "{}", mails[0].text);
    assert_eq!(shop.notice_kinds(), [NoticeKind::AutoRenewSoon], "no 7-day reminder while the wallet pays");
    assert!(wallet.lines("pay_invoice").is_empty(), "not asked before its day");
}

#[test]
fn a_silent_wallet_gets_the_same_request_again_and_never_a_second_invoice() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("silent") else { return };
    shop.connect(100_000);
    let payment = shop.requested_payment();
    wallet.wait_lines("pay_invoice ", 1);
    // The wallet's relay client drops an event id it has seen, so the
    // resends are counted where they are made: the link and the outbox.
    let resent = wait_for("two resends", || shop.link().current.filter(|c| c.sends >= 3));
    let requests = shop.requests();
    assert_eq!(requests.len(), 1, "the same event, resent");
    assert_eq!(resent.request_id, requests[0].id);
    assert!(requests[0].deliveries[0].attempts >= 3, "{:?}", requests[0].deliveries);
    assert!(
        wallet.lines("pay_invoice ").iter().all(|l| *l == format!("pay_invoice {}", payment.bolt11.clone().unwrap()))
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(shop.link().current.unwrap().sends, 3, "no more than two resends");
    assert_eq!(shop.strike.invoice_count(), 1);
    assert_eq!(shop.link().requested, vec![payment.id]);
}

/// The child: a server that connects the wallet, asks it to pay, says the
/// request's id once it is recorded, and is killed while it waits for the
/// answer (ten minutes), before it reads Strike.
#[test]
fn role_renewer() {
    if !playing("nwc::role_renewer") {
        return;
    }
    let env = |name: &str| std::env::var(name).unwrap();
    let db = PathBuf::from(env("HOSTR_TEST_DB"));
    let server = start(&db, &env("HOSTR_TEST_STRIKE"), &env("HOSTR_TEST_RELAY_URL"), None, Duration::from_secs(600));
    let keys = Keys::parse(&env("HOSTR_TEST_CUSTOMER")).unwrap();
    connect(&server, &server.sign_in(&keys), &env("HOSTR_TEST_URI"), 100_000);
    let link = || server.app.store.get::<WalletLink>(ACCOUNT).ok();
    let current = wait_for("the request recorded", || link().and_then(|l| l.current));
    println!("ack {}", current.request_id);
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_sigkill_between_the_request_and_strike_ends_in_one_extension_and_one_request() {
    let Some(relay) = TestRelay::start() else { return };
    let (strike, dir, keys, client, wallet_keys) =
        (FakeStrike::start(), temp_dir(), Keys::generate(), Keys::generate(), Keys::generate());
    let db = dir.path().join("db");
    seed(&db, &keys, Duration::from_secs(86_400), None);
    let secret = wallet_keys.secret_key().to_secret_hex();
    let Some(wallet) = TestWallet::start(&relay.url(), &secret, &client.public_key().to_hex(), "silent") else {
        return;
    };
    let mut child = spawn_role(
        "nwc::role_renewer",
        &[
            ("HOSTR_TEST_DB", db.display().to_string()),
            ("HOSTR_TEST_STRIKE", strike.url.clone()),
            ("HOSTR_TEST_RELAY_URL", relay.url()),
            ("HOSTR_TEST_CUSTOMER", keys.secret_key().to_secret_hex()),
            ("HOSTR_TEST_URI", wallet_uri(&relay.url(), &client, &wallet_keys)),
        ],
    );
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let request_id = lines.map_while(Result::ok).find_map(|l| ack(&l).map(str::to_owned)).expect("the child's ack");
    let asked = wallet.wait_lines("pay_invoice ", 1);
    child.kill().unwrap();
    child.wait().unwrap();

    // Killed while waiting for the answer; then Strike says PAID.
    let before = Store::open(&db).unwrap().get::<CpanelAccount>(ACCOUNT).unwrap().paid_until;
    let link: WalletLink = Store::open(&db).unwrap().get(ACCOUNT).unwrap();
    let payment: Payment = Store::open(&db).unwrap().get(&link.current.unwrap().payment_id).unwrap();
    strike.set_state(payment.strike_invoice_id.as_deref().unwrap(), "PAID");
    let server = start(&db, &strike.url, &relay.url(), None, WAIT);
    let token = server.sign_in(&keys);
    let shop = Shop { smtp: None, strike, relay, server, db, token, client, wallet_keys, _dir: dir };
    let renewed = wait_for("the extension", || Some(shop.account()).filter(|a| a.paid_until != before));
    wait_for("the attempt to end", || Some(shop.link()).filter(|l| l.current.is_none()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(shop.account().paid_until, renewed.paid_until, "extended once");
    assert_eq!(renewed.applied_payments.iter().filter(|a| a.payment_id == payment.id).count(), 1);
    assert_eq!(shop.link().last.unwrap().result, "paid");
    assert_eq!(shop.link().requested, vec![payment.id.clone()], "one request, for the one payment");
    assert_eq!(shop.strike.invoice_count(), 1, "never a second invoice");
    let requests = shop.requests();
    assert_eq!(requests.len(), 1, "the one request: {requests:?}");
    assert_eq!(requests[0].id, request_id, "the same event as before the kill");
    let invoice = format!("pay_invoice {}", payment.bolt11.unwrap());
    assert_eq!(asked[0], invoice);
    assert!(wallet.lines("pay_invoice ").iter().all(|l| *l == invoice), "{:?}", wallet.lines("pay_invoice "));
}

#[test]
fn prepaying_12_periods_extends_by_12_periods_exactly_once() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("preimage") else { return };
    let store = &shop.server.app.store;
    store
        .update::<Plan, _, hostr::store::StoreError>("basic", |p| {
            p.prepay = [1, 12].map(|periods| PrepayOption { periods, discount_percent: None }).to_vec();
            Ok(())
        })
        .unwrap();
    let plan: Plan = store.get("basic").unwrap();
    let refused = shop.server.authed(
        "POST",
        "/api/auto-renew",
        &shop.token,
        Some(&json!({"accountId": ACCOUNT, "uri": shop.uri(), "capSats": 100_000, "periods": 6}).to_string()),
    );
    assert_eq!((refused.status, refused.error_code()), (400, "periods_not_offered".to_owned()));
    assert!(store.get::<WalletLink>(ACCOUNT).is_err(), "nothing connected");
    let body = json!({"accountId": ACCOUNT, "uri": shop.uri(), "capSats": 100_000_000, "periods": 12}).to_string();
    let reply = shop.server.authed("POST", "/api/auto-renew", &shop.token, Some(&body));
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    assert!(reply.json()["message"].as_str().unwrap().contains("per renewal of 12 periods"), "{}", reply.json());
    let before = shop.account().paid_until.unwrap();
    let payment = shop.requested_payment();
    assert_eq!(payment.periods, 12);
    assert_eq!(payment.amount, plan.price_for(12).unwrap());
    wallet.wait_lines("pay_invoice ", 1);
    shop.strike.set_state(payment.strike_invoice_id.as_deref().unwrap(), "PAID");
    let renewed = wait_for("the extension", || Some(shop.account()).filter(|a| a.paid_until != Some(before)));
    wait_for("the attempt to end", || Some(shop.link()).filter(|l| l.current.is_none()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(renewed.paid_until, Some(plan.billing_cycle.after_periods(before, 12)), "12 periods");
    assert_eq!(shop.account().paid_until, renewed.paid_until, "once");
    assert_eq!(renewed.applied_payments.iter().filter(|a| a.payment_id == payment.id).count(), 1);
    assert_eq!(shop.strike.invoice_count(), 1);
}

#[test]
fn a_request_whose_invoice_expired_is_not_sent_again() {
    let Some(shop) = shop() else { return };
    // The quote lives 2 s, less than the 3 s the server waits for an answer.
    shop.strike.state.lock().unwrap().quote_seconds = 2;
    let Some(wallet) = shop.wallet("silent") else { return };
    shop.connect(100_000);
    shop.requested_payment();
    wallet.wait_lines("pay_invoice ", 1);
    let current = wait_for("the wait to end", || shop.link().current.filter(|c| c.sends >= 1));
    let after = current.invoice_expires_at.unwrap();
    wait_for("the quote to expire", || (Timestamp::now() > after).then_some(()));
    let cycles = shop.requests()[0].deliveries[0].attempts;
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(shop.link().current.map(|c| c.sends), Some(1), "never resent");
    assert_eq!(shop.requests()[0].deliveries[0].attempts, cycles, "the outbox was not asked again");
}

#[test]
fn an_amount_over_the_cap_is_never_requested() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("preimage") else { return };
    shop.connect(10);
    let last = wait_for("the skip", || shop.link().last);
    assert_eq!(last.result, "skipped");
    assert!(last.message.contains("above your cap of 10 sats"), "{}", last.message);
    std::thread::sleep(Duration::from_secs(1));
    assert!(wallet.lines("pay_invoice").is_empty());
    assert!(shop.requests().is_empty());
}

#[test]
fn a_nip04_only_wallet_is_paid_through_too() {
    let Some(shop) = shop() else { return };
    let Some(wallet) = shop.wallet("nip04") else { return };
    let connected = shop.connect(100_000);
    assert_eq!(connected["account"]["encryption"], "nip04");
    let payment = shop.requested_payment();
    wallet.wait_lines("pay_invoice ", 1);
    wait_for("the wallet's answer", || shop.link().current.and_then(|c| c.answer));
    shop.strike.set_state(payment.strike_invoice_id.as_deref().unwrap(), "PAID");
    wait_for("the extension", || {
        Some(shop.account()).filter(|a| a.applied_payments.iter().any(|p| p.payment_id == payment.id))
    });
}

#[test]
fn disconnecting_erases_the_secret_and_it_never_shows_anywhere_else() {
    let Some(shop) = shop() else { return };
    let Some(_wallet) = shop.wallet("quota") else { return };
    let secret = shop.client.secret_key().to_secret_hex();
    let connected = shop.connect(100_000);
    wait_for("the outcome", || shop.link().last);
    let listed = shop.server.authed("GET", "/api/auto-renew", &shop.token, None);
    let profile = shop.server.authed("GET", "/api/profile", &shop.token, None);
    for answer in [
        connected.to_string(),
        String::from_utf8_lossy(&listed.body).into_owned(),
        String::from_utf8_lossy(&profile.body).into_owned(),
    ] {
        assert!(!answer.contains(&secret), "an API answer shows the secret: {answer}");
    }
    let file = shop.db.join(".wallet-secrets").join(ACCOUNT);
    assert!(file.is_file());
    for path in files(&shop.db).into_iter().filter(|p| *p != file) {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(!text.contains(&secret), "{} holds the secret", path.display());
    }
    let reply = shop.server.authed(
        "POST",
        "/api/auto-renew/disconnect",
        &shop.token,
        Some(&json!({"accountId": ACCOUNT}).to_string()),
    );
    assert_eq!(reply.status, 200);
    assert!(!file.exists(), "the secret is erased");
    assert!(shop.server.app.store.get::<WalletLink>(ACCOUNT).is_err());
}

/// The child: the whole life of a connection (connect, a refused attempt,
/// the list, disconnect) with every log line, of every level, on stderr.
#[test]
fn role_logged_connection() {
    if !playing("nwc::role_logged_connection") {
        return;
    }
    let _flush = hostr::logger::init(log::LevelFilter::Trace);
    let Some(mut shop) = shop() else { return };
    shop.client = Keys::parse(&std::env::var("HOSTR_TEST_CLIENT").unwrap()).unwrap();
    let Some(_wallet) = shop.wallet("quota") else { return };
    shop.connect(100_000);
    wait_for("the outcome", || shop.link().last);
    shop.server.authed("GET", "/api/auto-renew", &shop.token, None);
    let body = json!({"accountId": ACCOUNT}).to_string();
    assert_eq!(shop.server.authed("POST", "/api/auto-renew/disconnect", &shop.token, Some(&body)).status, 200);
    println!("ack done");
}

#[test]
fn the_secret_never_reaches_a_log_line() {
    let client = Keys::generate();
    let secret = client.secret_key().to_secret_hex();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["nwc::role_logged_connection", "--exact", "--nocapture", "--test-threads=1"])
        .env("HOSTR_TEST_ROLE", "nwc::role_logged_connection")
        .env("HOSTR_TEST_CLIENT", &secret)
        .output()
        .unwrap();
    let (stdout, log) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !stdout.lines().any(|l| ack(l) == Some("done")) {
        assert!(out.status.success(), "the child failed: {stdout}\n{log}");
        return; // No relay or wallet here: the child said so.
    }
    // The capture is real: the lines of this connection are in it.
    assert!(log.contains(&format!("account {ACCOUNT}: automatic renewal connected to wallet")), "{log}");
    assert!(log.contains("the wallet answers QUOTA_EXCEEDED"), "{log}");
    assert!(log.contains(&format!("account {ACCOUNT}: automatic renewal disconnected")), "{log}");
    for (n, line) in log.lines().enumerate() {
        assert!(!line.contains(&secret), "log line {n} holds the secret: {line}");
    }
    let npub_secret = nostr::prelude::ToBech32::to_bech32(client.secret_key()).unwrap();
    assert!(!log.contains(&npub_secret), "the secret as nsec is in the log");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn a_further_account_of_a_group_is_renewed_by_its_primary_and_takes_no_wallet() {
    let Some(shop) = shop() else { return };
    let store = &shop.server.app.store;
    let primary: CpanelAccount = store.get(ACCOUNT).unwrap();
    let member = CpanelAccount {
        group_of: Some(ACCOUNT.into()),
        ..CpanelAccount::provisioning(
            &hostr::ids::new_uuid(),
            "blog",
            "blog.example",
            &primary.customer_id,
            "basic",
            Timestamp::now(),
        )
    };
    store.create(&member).unwrap();
    let uri = wallet_uri(&shop.relay.url(), &shop.client, &shop.wallet_keys);
    let body = json!({"accountId": member.id, "uri": uri, "capSats": 100_000}).to_string();
    let reply = shop.server.authed("POST", "/api/auto-renew", &shop.token, Some(&body));
    assert_eq!(reply.status, 409, "{}", String::from_utf8_lossy(&reply.body));
    let answer = reply.json();
    assert_eq!(answer["error"]["code"], "renews_with_primary");
    assert!(answer["error"]["message"].as_str().unwrap().contains("shop.example"), "{answer}");
    let kept = files(&shop.db).into_iter().filter(|f| f.to_string_lossy().contains(&member.id));
    assert!(kept.clone().all(|f| f.starts_with(shop.db.join("cpanel-accounts"))), "{:?}", kept.collect::<Vec<_>>());
}
