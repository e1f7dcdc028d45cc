//! Signed receipts: verified by the `nostr` crate (an implementation hostr
//! did not write), tagged with the customer, the plan listing and the
//! account's previous receipt; numbered without gaps or duplicates across
//! threads and processes; the payments paid before receipts existed numbered
//! on the first start, in paid order, once; served to their customer only.

use crate::common::{TestServer, ack, playing, spawn_role, temp_dir};
use hostr::cpanel_account::CpanelAccount;
use hostr::customer::Customer;
use hostr::ids::new_uuid;
use hostr::operator_key::OperatorKey;
use hostr::payment::{Payment, PaymentState, Provider};
use hostr::plan::Plan;
use hostr::receipt::{ReceiptSeries, Seller};
use hostr::receipts::Receipts;
use hostr::store::{Store, StoreError};
use hostr::timestamp::Timestamp;
use nostr::prelude::{Event, Keys, Kind, PublicKey};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn at(seconds_ago: i64) -> Timestamp {
    Timestamp::from(chrono::Utc::now() - chrono::Duration::seconds(seconds_ago))
}

/// A database with the basic plan and one customer with a real key.
fn shop(root: &Path) -> (Arc<Store>, Customer, Keys) {
    let store = Arc::new(Store::open(root).unwrap());
    if store.get::<Plan>("basic").is_err() {
        store.create(&Plan::seed(Timestamp::now())).unwrap();
    }
    let keys = Keys::generate();
    let customer =
        crate::common::customer(&keys.public_key().to_hex(), Some(&format!("{}@example.com", &new_uuid()[..8])));
    store.create(&customer).unwrap();
    (store, customer, keys)
}

/// A payment paid through Strike at `paid_at`: for a new account on
/// `domain`, or renewing `account`.
fn paid(store: &Store, customer: &Customer, target: Result<&str, &str>, paid_at: Timestamp) -> Payment {
    let plan: Plan = store.get("basic").unwrap();
    let (account, domain) = match target {
        Ok(domain) => (new_uuid(), Some(domain.to_owned())),
        Err(account) => (account.to_owned(), None),
    };
    let mut payment = Payment::pending(&customer.id, &plan, account, domain, at(86_400));
    payment.strike_invoice_id = Some(new_uuid());
    payment.provider = Some(Provider::Strike);
    payment.bolt11 = Some("lnbc50u1pfakeinvoice".into());
    payment.record_paid(paid_at);
    store.create(&payment).unwrap();
    // (A customer that does not exist has no list to be on.)
    let _ = store.update::<Customer, _, StoreError>(&customer.id, |c| {
        c.payment_ids.push(payment.id.clone());
        Ok(())
    });
    payment
}

fn receipts(store: &Arc<Store>) -> Receipts {
    let operator = OperatorKey::in_database(store.root()).unwrap();
    let seller = Seller { name: Some("Hostr Ltd".into()), vat_id: Some("EU123".into()), ..Seller::default() };
    Receipts::new(store.clone(), operator, seller, None)
}

fn event_of(payment: &Payment) -> Event {
    serde_json::from_value(payment.receipt.as_ref().expect("a receipt").event.clone()).expect("an event")
}

fn tag<'e>(event: &'e Event, name: &str) -> Vec<&'e [String]> {
    event.tags.iter().map(|t| t.as_slice()).filter(|t| t[0] == name).collect()
}

#[test]
fn a_receipt_verifies_independently_and_chains_the_account() {
    let dir = temp_dir();
    let (store, customer, _) = shop(dir.path());
    let first = paid(&store, &customer, Ok("shop.example"), at(300));
    let account = first.account_id.clone().unwrap();
    let file = CpanelAccount::provisioning(&account, "shopexam", "shop.example", &customer.id, "basic", at(300));
    store.create(&file).unwrap();
    let renewal = paid(&store, &customer, Err(&account), at(200));
    let other = paid(&store, &customer, Ok("other.example"), at(100));
    let issuer = receipts(&store);
    assert_eq!(issuer.issue_due().labels, ["000001", "000002", "000003"]);

    let operator = issuer.operator().public_key();
    let [first, renewal, other] = [first, renewal, other].map(|p| store.get::<Payment>(&p.id).unwrap());
    for (payment, number) in [(&first, "1"), (&renewal, "2"), (&other, "3")] {
        let event = event_of(payment);
        event.verify().expect("the nostr crate verifies the id and the signature");
        assert_eq!((event.pubkey, event.kind), (operator, Kind::Custom(8110)));
        assert_eq!(tag(&event, "p"), [&["p".to_owned(), customer.public_key.clone()][..]]);
        assert_eq!(tag(&event, "a")[0][1], format!("30402:{}:basic", operator.to_hex()));
        assert_eq!(tag(&event, "receipt")[0][1..], [number.to_owned(), "main".to_owned()]);
        assert_eq!(tag(&event, "amount")[0][1..], ["5.00".to_owned(), "USD".to_owned()]);
        assert_eq!(tag(&event, "amount")[1][1..], ["5000000".to_owned(), "msat".to_owned()]);
        assert_eq!(tag(&event, "rate")[0][1], "100000.00");
        assert_eq!(event.created_at.as_secs() as i64, payment.paid_at.unwrap().as_datetime().timestamp());
    }
    assert!(tag(&event_of(&first), "e").is_empty(), "the account's first receipt points nowhere");
    assert!(tag(&event_of(&other), "e").is_empty(), "another account has its own chain");
    let renewal_event = event_of(&renewal);
    let previous = tag(&renewal_event, "e");
    assert_eq!(previous.len(), 1);
    assert_eq!(previous[0][1], event_of(&first).id.to_hex(), "the renewal points at the account's last receipt");
    assert_eq!(tag(&event_of(&renewal), "domain")[0][1], "shop.example");
    let receipt = first.receipt.unwrap();
    assert_eq!((receipt.seller.name.as_deref(), receipt.buyer.email), (Some("Hostr Ltd"), customer.email.clone()));
    assert!(receipt.buyer.npub.starts_with("npub1"));
    assert!(hostr::check::check(&store).unwrap().problems.is_empty());
}

#[test]
fn a_receipt_changed_by_hand_or_a_failed_one_is_reported_by_check() {
    let dir = temp_dir();
    let (store, customer, _) = shop(dir.path());
    let payment = paid(&store, &customer, Ok("shop.example"), at(100));
    receipts(&store).issue_due();
    store
        .update::<Payment, _, StoreError>(&payment.id, |p| {
            p.receipt.as_mut().unwrap().amount = hostr::money::Money::from_cents(1).unwrap();
            Ok(())
        })
        .unwrap();
    let orphan = paid(&store, &crate::common::customer(&crate::common::key(9), None), Ok("gone.example"), at(50));
    let issued = receipts(&store).issue_due();
    assert_eq!((issued.labels.len(), issued.failed), (0, 1), "a customer that does not exist: no receipt");
    let failure = store.get::<Payment>(&orphan.id).unwrap().receipt_failure.expect("the failure is recorded");
    assert_eq!(failure.attempts, 1);
    let report = hostr::check::check(&store).unwrap();
    let said: Vec<String> = report.problems.iter().map(|p| p.message.clone()).collect();
    assert!(said.iter().any(|m| m.contains("receipt 000001 was changed")), "{said:?}");
    assert!(said.iter().any(|m| m.contains("no receipt yet") && m.contains("customer")), "{said:?}");
}

/// Issues what is due, and every payment in `HOSTR_TEST_IDS`, from a second process.
#[test]
#[ignore = "run as a child process by receipt_numbers_have_no_gaps_or_duplicates_across_threads_and_processes"]
fn role_issuer() {
    if !playing("receipts::role_issuer") {
        return;
    }
    let store = Arc::new(Store::open(std::env::var("HOSTR_TEST_DB").unwrap()).unwrap());
    let issuer = receipts(&store);
    for id in std::env::var("HOSTR_TEST_IDS").unwrap().split(',') {
        issuer.issue(id).unwrap();
        issuer.issue_due();
    }
    println!("ack done");
}

#[test]
fn receipt_numbers_have_no_gaps_or_duplicates_across_threads_and_processes() {
    const PAYMENTS: i64 = 40;
    let dir = temp_dir();
    let (store, customer, _) = shop(dir.path());
    let ids: Vec<String> =
        (0..PAYMENTS).map(|n| paid(&store, &customer, Ok(&format!("site{n}.example")), at(1000 - n)).id).collect();
    // Everyone goes through all of them, each in another order.
    let order = |k: usize| -> Vec<String> {
        let mut ids = ids.clone();
        let shift = k * 7 % ids.len();
        ids.rotate_left(shift);
        if k % 2 == 1 {
            ids.reverse();
        }
        ids
    };
    let children: Vec<_> = (0..2)
        .map(|k| {
            spawn_role(
                "receipts::role_issuer",
                &[("HOSTR_TEST_DB", dir.path().display().to_string()), ("HOSTR_TEST_IDS", order(k).join(","))],
            )
        })
        .collect();
    let threads: Vec<_> = (2..5)
        .map(|k| {
            let (store, ids) = (store.clone(), order(k));
            std::thread::spawn(move || {
                let issuer = receipts(&store);
                ids.iter().filter_map(|id| issuer.issue(id).unwrap()).count()
            })
        })
        .collect();
    let _: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(String::from_utf8_lossy(&output.stdout).lines().any(|l| ack(l) == Some("done")), "a child failed");
    }
    let mut numbers: Vec<u64> =
        ids.iter().map(|id| store.get::<Payment>(id).unwrap().receipt.expect("every payment has one").number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=PAYMENTS as u64).collect::<Vec<_>>(), "1 to {PAYMENTS}, each once");
    assert_eq!(store.get::<ReceiptSeries>("main").unwrap().last_number, PAYMENTS as u64);
}

#[test]
fn a_number_issued_but_not_counted_before_a_crash_is_not_given_again() {
    let dir = temp_dir();
    let (store, customer, _) = shop(dir.path());
    paid(&store, &customer, Ok("one.example"), at(300));
    paid(&store, &customer, Ok("two.example"), at(200));
    receipts(&store).issue_due();
    // As if the process died after writing receipt 2 into its payment, before the counter.
    store
        .update::<ReceiptSeries, _, StoreError>("main", |s| {
            s.last_number = 1;
            Ok(())
        })
        .unwrap();
    paid(&store, &customer, Ok("three.example"), at(100));
    assert_eq!(receipts(&store).issue_due().labels, ["000003"]);
}

/// Waits until every PAID payment has a receipt.
fn wait_for_receipts(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !store.find_all(Payment::receipt_due()).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "receipts were not issued");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_first_start_numbers_earlier_payments_in_paid_order_once() {
    let dir = temp_dir();
    let database = dir.path().join("database");
    let (store, customer, _) = shop(&database);
    // Created in one order, paid in another.
    let late = paid(&store, &customer, Ok("late.example"), at(100));
    let early = paid(&store, &customer, Ok("early.example"), at(900));
    let middle = paid(&store, &customer, Ok("middle.example"), at(500));
    let plan: Plan = store.get("basic").unwrap();
    let unpaid = Payment::pending(&customer.id, &plan, new_uuid(), Some("unpaid.example".into()), at(50));
    store.create(&unpaid).unwrap();
    let expired =
        Payment { state: PaymentState::Expired, ..Payment::pending(&customer.id, &plan, new_uuid(), None, at(40)) };
    store.create(&expired).unwrap();

    let server = TestServer::start_on(database.clone(), |_| {});
    wait_for_receipts(&store);
    // The counter is written just after the last receipt (crash order), so
    // wait for it too before the snapshot the second start is compared with.
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.get::<ReceiptSeries>("main").map(|c| c.last_number).unwrap_or(0) < 3 {
        assert!(Instant::now() < deadline, "the counter did not reach 3");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
    let label = |p: &Payment| store.get::<Payment>(&p.id).unwrap().receipt.map(|r| r.label);
    assert_eq!(
        [&early, &middle, &late].map(label),
        [Some("000001".into()), Some("000002".into()), Some("000003".into())]
    );
    assert_eq!([&unpaid, &expired].map(label), [None, None], "only what was paid");

    // The accounts worker goes on delivering the orders, so what is compared
    // is the receipts and the counters.
    let receipts_now = || -> (Vec<String>, Vec<u8>) {
        let mut receipts: Vec<String> = store
            .list_readable::<Payment>()
            .unwrap()
            .iter()
            .map(|p| format!("{} {}", p.id, serde_json::to_string(&p.receipt).unwrap()))
            .collect();
        receipts.sort();
        (receipts, std::fs::read(database.join("receipt-series/main.json")).unwrap())
    };
    let before = receipts_now();
    let again = TestServer::start_on(database.clone(), |_| {});
    assert_eq!(again.app.receipts.issue_due(), Default::default(), "nothing is due on the second start");
    again.stop();
    assert_eq!(receipts_now(), before, "the second start changed no receipt and no counter");
}

#[test]
fn a_receipt_is_served_to_its_customer_only() {
    let server = TestServer::start();
    let store = server.app.store.clone();
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let tokens: Vec<String> = [&alice, &bob]
        .iter()
        .map(|keys| {
            let token = server.sign_in(keys);
            assert_eq!(server.authed("POST", "/api/new-user", &token, Some("{}")).status, 201);
            token
        })
        .collect();
    let owner = store.find(Customer::by_public_key(&alice.public_key().to_hex())).unwrap().unwrap();
    let payment = paid(&store, &owner, Ok("alice.example"), at(60));
    // Written behind checkout's back, so the thread is told as checkout would.
    server.app.receipts.wake();
    wait_for_receipts(&store);

    let mine = server.authed("GET", &format!("/api/receipts/{}", payment.id), &tokens[0], None);
    assert_eq!(mine.status, 200, "{}", String::from_utf8_lossy(&mine.body));
    let answer = mine.json();
    let event: Event = serde_json::from_value(answer["receipt"]["event"].clone()).unwrap();
    event.verify().expect("the served event verifies");
    assert_eq!(answer["operator"]["publicKey"], event.pubkey.to_hex());
    assert_eq!(answer["receipt"]["label"], "000001");

    let theirs = server.authed("GET", &format!("/api/receipts/{}", payment.id), &tokens[1], None);
    let unknown = server.authed("GET", &format!("/api/receipts/{}", new_uuid()), &tokens[1], None);
    assert_eq!((theirs.status, theirs.error_code()), (404, "no_such_receipt".to_owned()));
    assert_eq!(theirs.body, unknown.body, "another's receipt looks like no receipt at all");
    assert_eq!(server.authed("GET", "/api/receipts/not-an-id", &tokens[0], None).error_code(), "no_such_receipt");
    assert_eq!(server.get(&format!("/api/receipts/{}", payment.id)).status, 401);
    let plan: Plan = store.get("basic").unwrap();
    let open = Payment::pending(&owner.id, &plan, new_uuid(), Some("open.example".into()), Timestamp::now());
    store.create(&open).unwrap();
    let unpaid = server.authed("GET", &format!("/api/receipts/{}", open.id), &tokens[0], None);
    assert_eq!((unpaid.status, unpaid.error_code()), (404, "receipt_not_issued".to_owned()));
    let listed = server.authed("GET", "/api/profile", &tokens[0], None).json();
    let row = listed["payments"].as_array().unwrap().iter().find(|p| p["id"] == payment.id.as_str()).cloned().unwrap();
    assert_eq!(row["receipt"], serde_json::json!({"number": 1, "label": "000001"}), "lists name the receipt only");
}

#[test]
fn with_publish_receipts_a_receipt_reaches_the_relay_and_only_then() {
    use crate::common::relay::TestRelay;
    use crate::common::relay_client::RelayConn;
    let Some(relay) = TestRelay::start() else { return };
    let query = |author: &PublicKey| {
        RelayConn::connect(&relay.url()).query(serde_json::json!({"authors": [author.to_hex()], "kinds": [8110]}))
    };
    for publish in [false, true] {
        let dir = temp_dir();
        let database = dir.path().join("database");
        let (store, customer, _) = shop(&database);
        let payment = paid(&store, &customer, Ok("published.example"), at(60));
        let server = TestServer::start_on(database.clone(), |config| {
            config.relays.relays = vec![hostr::relay::RelayAddress::operator(&relay.url()).unwrap()];
            config.publish_receipts = publish;
        });
        wait_for_receipts(&store);
        let issued = event_of(&store.get::<Payment>(&payment.id).unwrap());
        let operator = server.app.operator.public_key();
        if publish {
            let deadline = Instant::now() + Duration::from_secs(60);
            let found = loop {
                let found = query(&operator);
                if !found.is_empty() || Instant::now() > deadline {
                    break found;
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), vec![issued.id], "the receipt, once");
        } else {
            // Give a wrongly published receipt the time to arrive.
            std::thread::sleep(Duration::from_secs(2));
            assert!(query(&operator).is_empty(), "a receipt is the customer's business: not published");
        }
        server.stop();
    }
}
