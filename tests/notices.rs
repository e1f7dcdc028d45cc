//! Lifecycle notices against a real SMTP server (PyPI aiosmtpd, reading
//! what it stored in its Maildir): each notice once, reminders at the
//! thresholds as `paidUntil` is moved by hand (the clock is never waited
//! on), a renewal paid while a reminder waited cancels it, outages delay
//! and lose nothing, the private suspension reason appears nowhere, an
//! unconfirmed address receives only its confirmation.

use crate::common::relay::TestRelay;
use crate::common::relay_client::RelayConn;
use crate::common::smtp::{Mail, TestSmtp};
use crate::common::{self, TestServer};
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::customer::Customer;
use hostr::notices::email::SmtpSettings;
use hostr::notices::{Delivery, Notice, NoticeKind, NoticeState};
use hostr::payment::{FulfilmentStatus, Payment};
use hostr::store::{Store, StoreError};
use hostr::timestamp::Timestamp;
use std::time::{Duration, Instant};

struct Shop {
    server: TestServer,
    smtp: TestSmtp,
    _dir: tempfile::TempDir,
}

const OPERATOR_EMAIL: &str = "operator@shop.test";

/// A server whose notices go through a fresh aiosmtpd, a pass a second.
fn shop() -> Option<Shop> {
    shop_with(|_| {})
}

fn shop_with(adjust: impl FnOnce(&mut hostr::config::Config)) -> Option<Shop> {
    let smtp = TestSmtp::start()?;
    let dir = common::temp_dir();
    let url = smtp.url();
    let server = TestServer::start_on(dir.path().join("database"), |config| {
        config.notices.smtp = Some(SmtpSettings::new(&url, "Hosting <hosting@shop.test>").unwrap());
        config.notices.cycle = Duration::from_millis(300);
        config.notices.operator_email = Some(OPERATOR_EMAIL.to_owned());
        adjust(config);
    });
    let shop = Shop { server, smtp, _dir: dir };
    // The first pass records when notices began: what follows is news.
    shop.passes(1);
    Some(shop)
}

impl Shop {
    fn store(&self) -> &Store {
        &self.server.app.store
    }

    /// Waits until `n` more passes of the notices worker have finished.
    fn passes(&self, n: u64) {
        let target = self.server.app.notifier.passes() + n;
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.server.app.notifier.passes() < target {
            assert!(Instant::now() < deadline, "the notices worker made no progress in 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The mails to `to` once there are `count` of them; then two more
    /// passes, to see that no more come.
    fn mails(&self, to: &str, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.smtp.mails_to(to).len() < count {
            assert!(Instant::now() < deadline, "{count} mails to {to} did not arrive: {:#?}", self.notices());
            std::thread::sleep(Duration::from_millis(50));
        }
        self.passes(2);
        self.smtp.mails_to(to)
    }

    fn notices(&self) -> Vec<Notice> {
        self.store().list_readable::<Notice>().unwrap()
    }

    fn notice(&self, kind: NoticeKind) -> Notice {
        let found: Vec<Notice> = self.notices().into_iter().filter(|n| n.kind == kind).collect();
        assert_eq!(found.len(), 1, "one {kind:?} notice: {found:#?}");
        found.into_iter().next().unwrap()
    }

    fn customer(&self, email: Option<&str>, confirmed: bool) -> Customer {
        let mut customer = common::customer(&common::key(rand_n()), email);
        if confirmed {
            customer.confirmed_email = email.map(str::to_owned);
        }
        self.store().create(&customer).unwrap();
        customer
    }

    fn account(&self, customer: &Customer, paid_for: chrono::Duration) -> CpanelAccount {
        let now = Timestamp::now();
        let n = rand_n();
        let account = CpanelAccount {
            status: AccountStatus::Active,
            paid_until: Some(Timestamp::from(now.as_datetime() + paid_for)),
            whm_created_at: Some(now),
            ..CpanelAccount::provisioning(
                &hostr::ids::new_uuid(),
                &format!("u{}", n % 10_000_000),
                &format!("site{n}.example"),
                &customer.id,
                "basic",
                now,
            )
        };
        self.store().create(&account).unwrap();
        account
    }

    /// A hand edit of `paidUntil`, as an operator makes it.
    fn set_paid_until(&self, account: &CpanelAccount, from_now: chrono::Duration) {
        let until = Timestamp::from(Timestamp::now().as_datetime() + from_now);
        self.store()
            .update::<CpanelAccount, _, StoreError>(&account.id, |a| {
                a.paid_until = Some(until);
                Ok(())
            })
            .unwrap();
    }
}

fn rand_n() -> u64 {
    u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) >> 20
}

fn days(n: f64) -> chrono::Duration {
    chrono::Duration::seconds((n * 86_400.0) as i64)
}

#[test]
fn a_confirmed_email_gets_the_welcome_and_each_reminder_once_as_paid_until_moves() {
    let Some(shop) = shop() else { return };
    let customer = shop.customer(Some("ann@mail.test"), true);
    let account = shop.account(&customer, days(30.0));
    let welcome = shop.mails("ann@mail.test", 1);
    assert_eq!(welcome[0].subject(), format!("Your hosting for {} is ready", account.domain));
    assert!(welcome[0].text.contains(&account.username), "{}", welcome[0].text);
    assert!(welcome[0].header("List-Unsubscribe").is_some(), "a welcome may be switched off");
    for (left, threshold, count) in [(6.5, 7, 2), (2.5, 3, 3), (0.5, 1, 4)] {
        shop.set_paid_until(&account, days(left));
        let mails = shop.mails("ann@mail.test", count);
        assert_eq!(mails.len(), count, "one reminder at {threshold} days: {mails:#?}");
        let reminder = &mails[count - 1];
        assert!(reminder.subject().starts_with(&format!("{} renews on", account.domain)), "{}", reminder.subject());
        assert!(reminder.text.contains(&format!("{threshold} day(s) from now")), "{}", reminder.text);
    }
    // Moved back inside the 7 days after the 1-day reminder, with another
    // `paidUntil`: one reminder again, the nearest, not a burst of three.
    shop.set_paid_until(&account, days(0.8));
    let mails = shop.mails("ann@mail.test", 5);
    assert_eq!(mails.len(), 5);
    assert!(mails[4].text.contains("1 day(s) from now"));
    let ids: std::collections::HashSet<_> = mails.iter().map(|m| m.header("Message-ID").unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 5, "each message is its own notice");
}

#[test]
fn a_renewal_paid_while_smtp_is_down_cancels_the_reminder_and_the_outage_loses_nothing() {
    let Some(mut shop) = shop() else { return };
    shop.smtp.pause();
    let customer = shop.customer(Some("bob@mail.test"), true);
    let account = shop.account(&customer, days(2.0));
    shop.passes(2);
    let reminder = shop.notice(NoticeKind::RenewalDue);
    assert_eq!(reminder.state, NoticeState::Pending, "{reminder:#?}");
    assert_eq!(reminder.email, Delivery::Due, "planned for email, waiting: {reminder:#?}");
    assert!(shop.notices().iter().any(|n| n.last_error.is_some()), "the outage was met and recorded");
    // The renewal is paid while the reminder waits for the SMTP server.
    let plan = shop.store().get::<hostr::plan::Plan>("basic").unwrap();
    let mut renewal = Payment::pending(&customer.id, &plan, account.id.clone(), None, Timestamp::now());
    renewal.record_paid(Timestamp::now());
    shop.store().create(&renewal).unwrap();
    shop.smtp.resume().unwrap();
    let mails = shop.mails("bob@mail.test", 2);
    let subjects: Vec<&str> = mails.iter().map(Mail::subject).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects.iter().any(|s| s.ends_with("is ready")), "the welcome waited and came: {subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with("Payment received")), "{subjects:?}");
    assert!(!subjects.iter().any(|s| s.contains("renews on")), "no reminder after the renewal: {subjects:?}");
    let dropped = shop.notice(NoticeKind::RenewalDue);
    assert_eq!(dropped.state, NoticeState::Dropped);
    assert!(dropped.dropped_reason.unwrap().contains("no longer due"));
}

#[test]
fn an_operator_suspension_tells_the_public_message_and_never_the_private_reason() {
    let Some(shop) = shop() else { return };
    let customer = shop.customer(Some("cat@mail.test"), true);
    let account = shop.account(&customer, days(30.0));
    shop.mails("cat@mail.test", 1);
    let (reason, message) = ("PRIVATE-chargeback-4242", "Please contact us about your last payment.");
    hostr::provisioning::operator::set_suspension(shop.store(), &account.id, Some(reason), Some(message)).unwrap();
    let mails = shop.mails("cat@mail.test", 2);
    assert_eq!(mails[1].subject(), format!("{} is suspended", account.domain));
    assert!(mails[1].text.contains(message), "{}", mails[1].text);
    assert!(mails[1].header("List-Unsubscribe").is_none(), "a suspension cannot be switched off");
    hostr::provisioning::operator::set_suspension(shop.store(), &account.id, None, None).unwrap();
    let mails = shop.mails("cat@mail.test", 3);
    assert_eq!(mails[2].subject(), format!("{} is running again", account.domain));
    for mail in &mails {
        assert!(!mail.raw.contains("PRIVATE"), "the private reason was sent: {}", mail.raw);
    }
    let notices_folder = shop.store().dir::<Notice>().unwrap();
    for entry in std::fs::read_dir(notices_folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("PRIVATE"), "the private reason is in a notice record: {text}");
    }
}

#[test]
fn a_suspended_customer_hears_which_sites_stop_and_when_they_run_again_never_why() {
    let Some(shop) = shop() else { return };
    let customer = shop.customer(Some("dog@mail.test"), true);
    let account = shop.account(&customer, days(30.0));
    shop.mails("dog@mail.test", 1);
    hostr::customer::suspend(shop.store(), &customer.id, "PRIVATE-fraud-check").unwrap();
    let mails = shop.mails("dog@mail.test", 2);
    assert_eq!(mails[1].subject(), "Your hosting is suspended");
    assert!(mails[1].text.contains(&account.domain), "{}", mails[1].text);
    hostr::customer::unsuspend(shop.store(), &customer.id).unwrap();
    let mails = shop.mails("dog@mail.test", 3);
    assert_eq!(mails[2].subject(), "Your hosting is running again");
    for mail in &mails {
        assert!(!mail.raw.contains("PRIVATE"), "the private reason was sent: {}", mail.raw);
    }
}

#[test]
fn an_unconfirmed_address_receives_only_its_confirmation_until_it_is_confirmed() {
    let Some(shop) = shop() else { return };
    let keys = common::new_keys();
    let token = shop.server.sign_in(&keys);
    let created = shop.server.authed("POST", "/api/new-user", &token, Some(r#"{"email":"dan@mail.test"}"#));
    assert_eq!(created.status, 201);
    let customer = shop.store().find(Customer::by_public_key(&keys.public_key().to_hex())).unwrap().unwrap();
    shop.account(&customer, days(30.0));
    let mails = shop.mails("dan@mail.test", 1);
    assert_eq!(mails.len(), 1, "nothing but the confirmation: {mails:#?}");
    assert_eq!(mails[0].subject(), "Confirm your email address");
    let ready = shop.notice(NoticeKind::AccountReady);
    assert_eq!(ready.state, NoticeState::Dropped, "nothing could reach the customer: {ready:#?}");
    let link = mails[0].text.split_whitespace().find(|w| w.contains("/confirm-email.html?token=")).unwrap().to_owned();
    let confirm = link.split("token=").nth(1).unwrap();
    let body = serde_json::json!({ "token": confirm }).to_string();
    let refused = shop.server.request("POST", "/api/confirm-email", &[], Some(r#"{"token":"x.1.2"}"#));
    assert_eq!((refused.status, refused.error_code().as_str()), (400, "invalid_confirmation"));
    let confirmed = shop.server.request("POST", "/api/confirm-email", &[], Some(&body));
    assert_eq!(confirmed.status, 200, "{}", String::from_utf8_lossy(&confirmed.body));
    assert_eq!(confirmed.json()["email"], "dan@mail.test");
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["notices"]["email"]["confirmed"], true, "{profile}");
    // Now notices come by email.
    hostr::customer::delete(shop.store(), &customer, Some(&keys.public_key().to_hex()), Timestamp::now()).unwrap();
    let mails = shop.mails("dan@mail.test", 2);
    assert_eq!(mails[1].subject(), "Your account was deleted");
}

#[test]
fn neither_an_inbox_nor_an_email_sends_nothing_and_the_profile_says_so() {
    let Some(shop) = shop() else { return };
    let keys = common::new_keys();
    let token = shop.server.sign_in(&keys);
    assert_eq!(shop.server.authed("POST", "/api/new-user", &token, None).status, 201);
    let customer = shop.store().find(Customer::by_public_key(&keys.public_key().to_hex())).unwrap().unwrap();
    shop.account(&customer, days(30.0));
    shop.passes(3);
    let ready = shop.notice(NoticeKind::AccountReady);
    assert_eq!(ready.state, NoticeState::Dropped);
    assert!(ready.dropped_reason.unwrap().contains("no kind 10050 list and no confirmed email"));
    assert!(shop.smtp.mails().is_empty(), "nothing was sent");
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(profile["notices"]["reachable"], false, "{profile}");
    assert_eq!(profile["notices"]["nostrInbox"], "none", "{profile}");
}

#[test]
fn the_operator_hears_about_a_failed_fulfilment_once() {
    let Some(shop) = shop() else { return };
    let customer = shop.customer(None, false);
    let plan = shop.store().get::<hostr::plan::Plan>("basic").unwrap();
    let account_id = hostr::ids::new_uuid();
    let mut payment = Payment::pending(&customer.id, &plan, account_id, Some("stuck.example".into()), Timestamp::now());
    payment.record_paid(Timestamp::now());
    payment.fulfilment.status = FulfilmentStatus::Failed;
    payment.fulfilment.last_error = Some("WHM said: package basic does not exist".into());
    payment.fulfilment.attempts = 1;
    shop.store().create(&payment).unwrap();
    let mails = shop.mails(OPERATOR_EMAIL, 1);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject().contains("stuck.example"), "{}", mails[0].subject());
    assert!(mails[0].text.contains("package basic does not exist"));
    assert!(mails[0].text.contains(&format!("hostr payment retry {}", payment.id)));
}

/// `hostr serve` over `database`, its notices through `smtp_url`, a pass a
/// second.
fn serve(database: &std::path::Path, smtp_url: &str) -> std::process::Child {
    let port = common::tools::free_port();
    std::process::Command::new(env!("CARGO_BIN_EXE_hostr"))
        .args(["--database", database.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--notice-check-seconds", "1"])
        .env("HOSTR_SMTP_URL", smtp_url)
        .env("HOSTR_SMTP_FROM", "Hosting <hosting@shop.test>")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start hostr serve")
}

fn kill_hard(mut child: std::process::Child) {
    // SAFETY: SIGKILL to the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reminders_fire_once_each_across_a_sigkill_in_the_middle_of_sending_and_a_restart() {
    let Some(smtp) = TestSmtp::start() else { return };
    let dir = common::temp_dir();
    let database = dir.path().join("database");
    let store = Store::open(&database).unwrap();
    let an_hour_ago = Timestamp::from(Timestamp::now().as_datetime() - chrono::Duration::hours(1));
    let start = hostr::notices::NoticeStart { id: hostr::notices::NoticeStart::ID.to_owned(), since: an_hour_ago };
    store.create(&start).unwrap();
    let mut customer = common::customer(&common::key(rand_n()), Some("eve@mail.test"));
    customer.confirmed_email = customer.email.clone();
    store.create(&customer).unwrap();
    let now = Timestamp::now();
    let account = CpanelAccount {
        status: AccountStatus::Active,
        paid_until: Some(Timestamp::from(now.as_datetime() + days(6.5))),
        whm_created_at: Some(Timestamp::from(now.as_datetime() - chrono::Duration::hours(2))),
        ..CpanelAccount::provisioning(&hostr::ids::new_uuid(), "eve", "eve.example", &customer.id, "basic", now)
    };
    store.create(&account).unwrap();

    // An SMTP server that takes the connection and never answers: the
    // server is killed while it waits in the middle of sending.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!("smtp://{}", hanging.local_addr().unwrap());
    let first = serve(&database, &hanging_url);
    let (_held, _) = hanging.accept().expect("hostr connects to send the 7-day reminder");
    kill_hard(first);
    let pending = store.find_all(Notice::pending()).unwrap();
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!((pending[0].kind, pending[0].email), (NoticeKind::RenewalDue, Delivery::Due));

    let reminders = |count: usize| {
        wait_until(&format!("{count} reminders"), || {
            smtp.mails_to("eve@mail.test").len() >= count && store.find_all(Notice::pending()).unwrap().is_empty()
        });
        smtp.mails_to("eve@mail.test")
    };
    let second = serve(&database, &smtp.url());
    let mails = reminders(1);
    assert_eq!(mails.len(), 1, "the interrupted reminder, once: {mails:#?}");
    assert!(mails[0].text.contains("7 day(s) from now"));
    let moved = |left: f64| {
        let until = Timestamp::from(Timestamp::now().as_datetime() + days(left));
        let edit = |a: &mut CpanelAccount| {
            a.paid_until = Some(until);
            Ok(())
        };
        store.update::<CpanelAccount, _, StoreError>(&account.id, edit).unwrap();
    };
    moved(2.5);
    let mails = reminders(2);
    kill_hard(second);
    let third = serve(&database, &smtp.url());
    moved(0.5);
    let mails_after = reminders(3);
    kill_hard(third);
    assert_eq!(mails.len(), 2);
    assert_eq!(mails_after.len(), 3, "{mails_after:#?}");
    for (mail, threshold) in mails_after.iter().zip([7, 3, 1]) {
        assert!(mail.text.contains(&format!("{threshold} day(s) from now")), "{}", mail.text);
    }
    let sent: Vec<Notice> = store.list_readable::<Notice>().unwrap();
    assert_eq!(sent.len(), 3, "three reminders, nothing else: {sent:#?}");
    assert!(sent.iter().all(|n| n.state == NoticeState::Sent && n.kind == NoticeKind::RenewalDue));
}

/// A shop publishing to `relay`, customers' relays on loopback allowed.
fn shop_on_relay(relay: &TestRelay, operator: Option<&nostr::prelude::Keys>) -> Option<Shop> {
    let url = relay.url();
    let operator_npub = operator.map(|k| k.public_key().to_hex());
    shop_with(move |config| {
        config.relays.relays = vec![hostr::relay::RelayAddress::operator(&url).unwrap()];
        config.relays.allow_private = true;
        config.notices.operator_npub = operator_npub;
    })
}

/// `keys` publish a kind 10050 naming `relay` as their inbox.
fn publish_inbox(relay: &TestRelay, keys: &nostr::prelude::Keys) {
    use nostr::prelude::*;
    let list = EventBuilder::new(Kind::InboxRelays, "").tag(Tag::parse(["relay", &relay.url()]).unwrap());
    let event = list.finalize(keys).unwrap();
    RelayConn::connect(&relay.url()).publish(&event);
}

/// The gift wraps on `relay` addressed to `keys`, unwrapped with the
/// `nostr` crate (not hostr's code), once `count` are there.
fn messages_to(relay: &TestRelay, keys: &nostr::prelude::Keys, count: usize) -> Vec<nostr::nips::nip59::UnwrappedGift> {
    use nostr::nips::nip59::UnwrappedGift;
    let filter = serde_json::json!({"kinds": [1059], "#p": [keys.public_key().to_hex()]});
    let mut wraps = Vec::new();
    wait_until(&format!("{count} gift wraps"), || {
        wraps = RelayConn::connect(&relay.url()).query(filter.clone());
        wraps.len() >= count
    });
    wraps.iter().map(|w| UnwrappedGift::from_gift_wrap(keys, w).expect("a gift wrap the recipient can open")).collect()
}

#[test]
fn a_customer_with_an_inbox_list_gets_each_notice_once_as_a_private_message_from_the_operator() {
    let Some(relay) = TestRelay::start() else { return };
    let Some(shop) = shop_on_relay(&relay, None) else { return };
    let customer_keys = common::new_keys();
    publish_inbox(&relay, &customer_keys);
    let token = shop.server.sign_in(&customer_keys);
    assert_eq!(shop.server.authed("POST", "/api/new-user", &token, None).status, 201);
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    assert_eq!(
        (profile["notices"]["nostrInbox"].as_str(), profile["notices"]["reachable"].as_bool()),
        (Some("found"), Some(true))
    );
    let customer = shop.store().find(Customer::by_public_key(&customer_keys.public_key().to_hex())).unwrap().unwrap();
    let account = shop.account(&customer, days(30.0));
    let operator = shop.server.app.operator.public_key();
    let welcome = messages_to(&relay, &customer_keys, 1);
    assert_eq!(welcome[0].sender, operator, "from the operator's key");
    assert_eq!(welcome[0].rumor.kind, nostr::prelude::Kind::PrivateDirectMessage);
    assert!(welcome[0].rumor.content.starts_with(&format!("Your hosting for {} is ready", account.domain)));
    shop.set_paid_until(&account, days(2.5));
    let both = messages_to(&relay, &customer_keys, 2);
    shop.passes(3);
    let all = messages_to(&relay, &customer_keys, 2);
    assert_eq!(all.len(), 2, "each notice once: {:?}", all.iter().map(|m| &m.rumor.content).collect::<Vec<_>>());
    assert!(both.iter().any(|m| m.rumor.content.contains("3 day(s) from now")));
    // The operator's own copy of the same message, to its own key.
    let copies = messages_to(&relay, shop.server.app.operator.keys(), 2);
    let ids: std::collections::HashSet<_> = all.iter().map(|m| m.rumor.id).collect();
    assert!(copies.iter().all(|c| ids.contains(&c.rumor.id)), "the copies are the same rumors");
    assert!(shop.smtp.mails().is_empty(), "no email: a Nostr message reached the customer");
}

#[test]
fn the_operator_gets_a_private_message_for_a_failed_fulfilment() {
    let Some(relay) = TestRelay::start() else { return };
    let personal = common::new_keys();
    publish_inbox(&relay, &personal);
    let Some(shop) = shop_on_relay(&relay, Some(&personal)) else { return };
    let customer = shop.customer(None, false);
    let plan = shop.store().get::<hostr::plan::Plan>("basic").unwrap();
    let mut payment =
        Payment::pending(&customer.id, &plan, hostr::ids::new_uuid(), Some("broke.example".into()), Timestamp::now());
    payment.record_paid(Timestamp::now());
    payment.fulfilment.status = FulfilmentStatus::Failed;
    payment.fulfilment.last_error = Some("WHM refused the token".into());
    shop.store().create(&payment).unwrap();
    let alert = messages_to(&relay, &personal, 1);
    assert_eq!(alert[0].sender, shop.server.app.operator.public_key());
    assert!(alert[0].rumor.content.contains("WHM refused the token"), "{}", alert[0].rumor.content);
    assert!(alert[0].rumor.content.contains(&format!("hostr payment retry {}", payment.id)));
}
