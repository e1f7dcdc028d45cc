//! The store's promises: whole files after crashes, no lost updates,
//! uniqueness under races (threads and processes), ids checked before any
//! file is touched, hand edits seen at once, broken files reported precisely.

use crate::common::{ack, customer, key, playing, spawn_role, temp_dir};
use hostr::check::check;
use hostr::customer::Customer;
use hostr::plan::Plan;
use hostr::store::{Store, StoreError};
use hostr::timestamp::Timestamp;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn counter_plan(store: &Store) {
    let mut plan = Plan::seed(Timestamp::now());
    plan.id = "counter".to_owned();
    plan.storage = 1;
    match store.create(&plan) {
        Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => panic!("create the counter plan: {e}"),
    }
}

fn increment(store: &Store) {
    store
        .update::<Plan, _, StoreError>("counter", |plan| {
            plan.storage += 1;
            Ok(())
        })
        .expect("increment the counter");
}

fn db_from_env() -> Store {
    Store::open(std::env::var("HOSTR_TEST_DB").expect("HOSTR_TEST_DB")).expect("open the store")
}

/// Child process: writes records forever, printing each one it has
/// finished writing, until it is killed.
#[test]
#[ignore = "run as a child process by writes_survive_sigkill"]
fn role_writer() {
    if !playing("store::role_writer") {
        return;
    }
    let store = db_from_env();
    let base: u64 = std::env::var("HOSTR_TEST_BASE").unwrap().parse().unwrap();
    for i in 1.. {
        let c = customer(&key(base + i), None);
        store.create(&c).expect("create");
        println!("ack customer {}", c.id);
        store
            .update::<Plan, _, StoreError>("counter", |plan| {
                plan.storage = (base + i) as u32;
                Ok(())
            })
            .expect("update");
        println!("ack counter {}", base + i);
    }
}

#[test]
fn writes_survive_sigkill_at_random_moments() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    counter_plan(&store);
    let mut acked_customers = Vec::new();
    let mut last_counter = 0u64;
    for round in 0..12u64 {
        let base = 1_000_000 * (round + 1);
        let mut child = spawn_role(
            "store::role_writer",
            &[("HOSTR_TEST_DB", dir.path().display().to_string()), ("HOSTR_TEST_BASE", base.to_string())],
        );
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
        // Vary the moment of death; uuid bytes are a handy random source.
        let jitter = uuid::Uuid::new_v4().as_bytes()[0] as u64;
        std::thread::sleep(Duration::from_millis(150 + jitter));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            if let Some(id) = ack(&line).and_then(|a| a.strip_prefix("customer ")) {
                acked_customers.push(id.to_owned());
            } else if let Some(n) = ack(&line).and_then(|a| a.strip_prefix("counter ")) {
                last_counter = n.parse().unwrap();
            }
        }
        // Every file is whole and valid, and nothing acknowledged is lost.
        let report = check(&store).unwrap();
        assert!(report.problems.is_empty(), "round {round}: {:?}", report.problems);
        let counter: Plan = store.get("counter").unwrap();
        assert!(u64::from(counter.storage) >= last_counter, "round {round}: acknowledged counter lost");
    }
    assert!(acked_customers.len() > 12, "the child should have written records: {}", acked_customers.len());
    for id in &acked_customers {
        store.get::<Customer>(id).unwrap_or_else(|e| panic!("acknowledged customer {id} lost: {e}"));
    }
    for outcome in store.list::<Customer>().unwrap() {
        outcome.expect("every customer file parses");
    }
}

#[test]
#[ignore = "run as a child process by concurrent_increments_lose_no_update"]
fn role_incrementer() {
    if !playing("store::role_incrementer") {
        return;
    }
    let store = db_from_env();
    let times: usize = std::env::var("HOSTR_TEST_TIMES").unwrap().parse().unwrap();
    for _ in 0..times {
        increment(&store);
    }
    println!("ack done");
}

#[test]
fn concurrent_increments_lose_no_update() {
    const PER_WORKER: usize = 150;
    let dir = temp_dir();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    counter_plan(&store);
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn_role(
                "store::role_incrementer",
                &[("HOSTR_TEST_DB", dir.path().display().to_string()), ("HOSTR_TEST_TIMES", PER_WORKER.to_string())],
            )
        })
        .collect();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || (0..PER_WORKER).for_each(|_| increment(&store)))
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(String::from_utf8_lossy(&output.stdout).lines().any(|l| ack(l) == Some("done")), "child failed");
    }
    let plan: Plan = store.get("counter").unwrap();
    assert_eq!(plan.storage as usize, 1 + 5 * PER_WORKER);
}

const RACE_ROUNDS: u64 = 25;

/// One contender's attempts: in round r, create a customer that shares its
/// public key (odd r) or its email (even r) with every other contender.
fn race(store: &Store, contender: u64) -> Vec<u64> {
    let mut won = Vec::new();
    for round in 0..RACE_ROUNDS {
        let (public_key, email) = if round % 2 == 1 {
            (key(round), format!("c{contender}-r{round}@example.com"))
        } else {
            (key(1_000 + round * 100 + contender), format!("Round{round}@Example.com"))
        };
        let email = if round.is_multiple_of(2) && contender.is_multiple_of(2) { email.to_lowercase() } else { email };
        match store.create(&customer(&public_key, Some(&email))) {
            Ok(()) => won.push(round),
            Err(StoreError::Taken { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    won
}

#[test]
#[ignore = "run as a child process by unique_fields_hold_under_concurrent_creation"]
fn role_racer() {
    if !playing("store::role_racer") {
        return;
    }
    let store = db_from_env();
    for round in race(&store, 99) {
        println!("ack won {round}");
    }
}

#[test]
fn unique_fields_hold_under_concurrent_creation() {
    let dir = temp_dir();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    // Build the index before the race so the child is not the only one racing.
    assert!(store.find(Customer::by_public_key(&key(1))).unwrap().is_none());
    let child = spawn_role("store::role_racer", &[("HOSTR_TEST_DB", dir.path().display().to_string())]);
    let barrier = Arc::new(Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|contender| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                race(&store, contender)
            })
        })
        .collect();
    let mut wins = vec![0; RACE_ROUNDS as usize];
    for thread in threads {
        for round in thread.join().unwrap() {
            wins[round as usize] += 1;
        }
    }
    let output = child.wait_with_output().unwrap();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some(round) = ack(line).and_then(|a| a.strip_prefix("won ")) {
            wins[round.parse::<usize>().unwrap()] += 1;
        }
    }
    assert!(wins.iter().all(|&w| w == 1), "each round must have exactly one winner: {wins:?}");
    let customers: Vec<Customer> = store.list().unwrap().into_iter().map(Result::unwrap).collect();
    assert_eq!(customers.len(), RACE_ROUNDS as usize);
    assert!(check(&store).unwrap().problems.is_empty());
}

#[test]
fn hostile_ids_are_refused_before_any_file_is_touched() {
    let dir = temp_dir();
    let db = dir.path().join("database");
    let store = Store::open(&db).unwrap();
    // Files a traversal would reach if ids became paths unchecked.
    std::fs::write(dir.path().join("victim.json"), "{}").unwrap();
    std::fs::write(db.join("victim.json"), "{}").unwrap();
    let long = "a".repeat(300);
    let hostile = [
        "..",
        "../victim",
        "../../victim",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "..%2fvictim",
        "%2e%2e",
        "basic\0",
        &long,
        "",
        " ",
        "victim.json",
    ];
    for id in hostile {
        assert!(matches!(store.get::<Plan>(id), Err(StoreError::InvalidId { .. })), "plan {id:?}");
        assert!(matches!(store.get::<Customer>(id), Err(StoreError::InvalidId { .. })), "customer {id:?}");
        let update = store.update::<Plan, _, StoreError>(id, |_| Ok(()));
        assert!(matches!(update, Err(StoreError::InvalidId { .. })), "update {id:?}");
        let mut plan = Plan::seed(Timestamp::now());
        plan.id = id.to_owned();
        assert!(matches!(store.create(&plan), Err(StoreError::InvalidId { .. })), "create {id:?}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("victim.json")).unwrap(), "{}");
    assert!(store.ids::<Plan>().unwrap().is_empty(), "nothing may have been created");
}

#[test]
fn hand_edits_are_seen_at_once_and_broken_files_are_reported_precisely() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let (alice, bob) = (customer(&key(1), Some("alice@example.com")), customer(&key(2), None));
    store.create(&alice).unwrap();
    store.create(&bob).unwrap();
    assert_eq!(store.find(Customer::by_public_key(&key(1))).unwrap().unwrap().id, alice.id);

    // An operator breaks Alice's file with a trailing comma, editing in place.
    let path = store.dir::<hostr::customer::Customer>().unwrap().join(format!("{}.json", alice.id));
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, good.replace("\"status\": \"ACTIVE\",", "\"status\": \"ACTIVE\",,")).unwrap();
    let error = store.get::<Customer>(&alice.id).unwrap_err();
    let StoreError::Corrupt(load) = error else { panic!("expected a corrupt-file error, got {error}") };
    assert_eq!(load.path, path);
    assert_eq!(load.line, 5, "{load}");
    // Other records keep working, through the index too.
    assert_eq!(store.find(Customer::by_public_key(&key(2))).unwrap().unwrap().id, bob.id);
    // Alice's key and email stay hers while her file is broken: a sign-in
    // must not find "no such customer" and register her again.
    assert!(matches!(store.find(Customer::by_public_key(&key(1))), Err(StoreError::Corrupt(_))));
    let impostor = customer(&key(1), Some("someone@example.com"));
    assert!(matches!(store.create(&impostor), Err(StoreError::Taken { .. })));
    let same_email = customer(&key(9), Some("ALICE@example.com"));
    assert!(matches!(store.create(&same_email), Err(StoreError::Taken { field: "email", .. })));
    assert_eq!(store.broken::<Customer>().unwrap()[0].line, 5);
    let report = check(&store).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!((report.problems[0].path.clone(), report.problems[0].line), (path.clone(), 5));

    // A value of the wrong type and an unknown status are just as precise.
    std::fs::write(&path, good.replace("\"status\": \"ACTIVE\"", "\"status\": \"FROZEN\"")).unwrap();
    let StoreError::Corrupt(load) = store.get::<Customer>(&alice.id).unwrap_err() else { panic!() };
    assert_eq!(load.line, 5);
    assert!(load.message.contains("FROZEN"), "{load}");
    std::fs::write(&path, good.replace("\"email\": \"alice@example.com\"", "\"email\": 42")).unwrap();
    let StoreError::Corrupt(load) = store.get::<Customer>(&alice.id).unwrap_err() else { panic!() };
    assert_eq!(load.line, 4, "{load}");

    // Fixing the file by hand (and moving Alice to a new key) needs no restart.
    std::fs::write(&path, good.replace(&key(1), &key(3))).unwrap();
    assert_eq!(store.find(Customer::by_public_key(&key(3))).unwrap().unwrap().id, alice.id);
    assert!(store.find(Customer::by_public_key(&key(1))).unwrap().is_none());
    assert!(store.broken::<Customer>().unwrap().is_empty());
    assert!(check(&store).unwrap().problems.is_empty());

    // A hand edit that duplicates a unique value is reported by check,
    // serves neither holder, and blocks creating yet another one.
    std::fs::write(&path, good.replace(&key(1), &key(2))).unwrap();
    let report = check(&store).unwrap();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    assert!(report.problems[0].message.contains("also used by"));
    assert!(matches!(store.find(Customer::by_public_key(&key(2))), Err(StoreError::Duplicate { .. })));
    assert!(matches!(store.create(&customer(&key(2), None)), Err(StoreError::Taken { field: "publicKey", .. })));

    // Something unreadable under a record's name is one broken record, not
    // a broken collection.
    let odd = store.dir::<hostr::customer::Customer>().unwrap().join(format!("{}.json", hostr::ids::new_uuid()));
    std::fs::create_dir(&odd).unwrap();
    assert!(store.create(&customer(&key(4), None)).is_ok());
    assert!(store.find(Customer::by_public_key(&key(4))).unwrap().is_some());
    let report = check(&store).unwrap();
    assert!(
        report.problems.iter().any(|p| p.path == odd && p.message.contains("cannot be read")),
        "{:?}",
        report.problems
    );
}

/// Customers found by key are kept in memory (every request looks one up);
/// any change to the file, by this process, another one or an editor, must
/// still be seen by the next lookup, even a rewrite that leaves the file's
/// size and modification time as they were.
#[test]
fn a_customer_kept_in_memory_is_never_served_after_its_file_changed() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let alice = customer(&key(1), Some("alice@example.com"));
    store.create(&alice).unwrap();
    let find = || store.find(Customer::by_public_key(&key(1))).unwrap().expect("alice is found");
    assert_eq!(find().session_epoch, 0);
    assert_eq!(find().session_epoch, 0, "found again, now from memory");

    // An editor rewrites the file in place, same size, and the modification
    // time is put back: only the change notification tells.
    let path = store.dir::<Customer>().unwrap().join(format!("{}.json", alice.id));
    let before = std::fs::metadata(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("\"sessionEpoch\": 0", "\"sessionEpoch\": 7");
    assert_ne!(edited, text, "the edit applies");
    std::fs::write(&path, &edited).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(before.modified().unwrap()).unwrap();
    drop(file);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!((after.len(), after.modified().unwrap()), (before.len(), before.modified().unwrap()));
    assert_eq!(find().session_epoch, 7);

    // Another process (its own store) writes; then this one does.
    let other = Store::open(dir.path()).unwrap();
    other
        .update::<Customer, _, StoreError>(&alice.id, |c| {
            c.session_epoch = 8;
            Ok(())
        })
        .unwrap();
    assert_eq!(find().session_epoch, 8);
    store
        .update::<Customer, _, StoreError>(&alice.id, |c| {
            c.session_epoch = 9;
            Ok(())
        })
        .unwrap();
    assert_eq!(find().session_epoch, 9);

    // A process that writes in place and keeps the file open.
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("\"sessionEpoch\": 9", "\"sessionEpoch\": 5");
    assert_ne!(edited, text);
    let writer = std::fs::File::options().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&writer, edited.as_bytes(), 0).unwrap();
    assert_eq!(find().session_epoch, 5, "seen before the writer closes the file");
    drop(writer);

    // A record file that is a link to a file elsewhere, edited there: no
    // event reaches this folder, so it is never kept.
    let elsewhere = dir.path().join("alice-elsewhere.json");
    std::fs::write(&elsewhere, &edited).unwrap();
    let link = path.with_extension("link");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    std::fs::rename(&link, &path).unwrap();
    assert_eq!(find().session_epoch, 5);
    std::fs::write(&elsewhere, edited.replace("\"sessionEpoch\": 5", "\"sessionEpoch\": 6")).unwrap();
    assert_eq!(find().session_epoch, 6);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &text).unwrap();
    assert_eq!(find().session_epoch, 9);

    // Broken by hand, then removed: never the kept copy.
    std::fs::write(&path, text.replace("\"status\": \"ACTIVE\",", "\"status\": \"ACTIVE\",,")).unwrap();
    assert!(matches!(store.find(Customer::by_public_key(&key(1))), Err(StoreError::Corrupt(_))));
    std::fs::remove_file(&path).unwrap();
    assert!(store.find(Customer::by_public_key(&key(1))).unwrap().is_none());
}

#[test]
fn fields_added_by_hand_survive_a_rewrite_and_prices_stay_exact() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let path = store.dir::<hostr::plan::Plan>().unwrap().join("pro.json");
    std::fs::write(
        &path,
        r#"{"id": "pro", "name": "Pro", "storage": 50, "bandwidth": 500, "price": 10.5,
            "billingCycle": "yearly", "whmPackage": "pro", "accounts": 3, "available": true,
            "operatorNote": {"reason": "launch offer"}, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00+01:00"}"#,
    )
    .unwrap();
    let plan: Plan = store.get("pro").unwrap();
    assert_eq!(plan.price.minor(2), Some(1050));
    // A note inside a nested object survives too.
    let mut c = customer(&key(1), None);
    c.metadata = Some(hostr::customer::ProfileMetadata { name: Some("A".into()), ..Default::default() });
    store.create(&c).unwrap();
    let c_path = store.dir::<hostr::customer::Customer>().unwrap().join(format!("{}.json", c.id));
    let text = std::fs::read_to_string(&c_path).unwrap();
    std::fs::write(&c_path, text.replace("\"name\": \"A\",", "\"name\": \"A\", \"operatorNote\": \"vip\",")).unwrap();
    store
        .update::<Customer, _, StoreError>(&c.id, |c| {
            c.email = Some("a@example.com".into());
            Ok(())
        })
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&c_path).unwrap()).unwrap();
    assert_eq!(json["metadata"]["operatorNote"], "vip");
    assert_eq!(json["email"], "a@example.com");
    assert_eq!(plan.currency.as_str(), "USD", "currency defaults to USD");
    store
        .update::<Plan, _, StoreError>("pro", |plan| {
            plan.name = "Pro+".to_owned();
            Ok(())
        })
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["operatorNote"]["reason"], "launch offer");
    assert_eq!(json["name"], "Pro+");
    assert!(text.contains("\"price\": 10.5,"), "{text}");
    assert!(text.contains("\"updatedAt\": \"2025-12-31T23:00:00Z\""), "{text}");
    assert!(text.ends_with("}\n"));
    // Known fields first, in the type's order; hand-added ones after them.
    let id_at = text.find("\"id\"").unwrap();
    let note_at = text.find("\"operatorNote\"").unwrap();
    let updated_at = text.find("\"updatedAt\"").unwrap();
    assert!(id_at < updated_at && updated_at < note_at, "{text}");
    // Three decimals is not a price.
    std::fs::write(&path, text.replace("10.5", "10.505")).unwrap();
    assert!(matches!(store.get::<Plan>("pro"), Err(StoreError::Corrupt(_))));
}

#[test]
fn temp_files_left_by_a_crash_are_never_records_and_old_ones_are_removed() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    let plans = store.dir::<hostr::plan::Plan>().unwrap();
    let old = plans.join(".basic.json.0123.tmp");
    let fresh = plans.join(".basic.json.4567.tmp");
    for path in [&old, &fresh] {
        std::fs::write(path, "{\"id\": \"basic\", \"half").unwrap();
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(hour_ago).unwrap();
    let reopened = Store::open(dir.path()).unwrap();
    assert!(!old.exists(), "a temp file from an hour ago is a crash leftover");
    assert!(fresh.exists(), "a fresh temp file may be another process's write in progress");
    assert!(reopened.ids::<Plan>().unwrap().is_empty());
    assert!(check(&reopened).unwrap().problems.is_empty());
}

#[test]
fn a_replaced_lock_file_does_not_end_locking_between_processes() {
    const TIMES: usize = 150;
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    counter_plan(&store);
    increment(&store); // this process now holds the lock file open
    std::fs::remove_file(store.dir::<hostr::plan::Plan>().unwrap().join(".lock")).unwrap();
    let child = spawn_role(
        "store::role_incrementer",
        &[("HOSTR_TEST_DB", dir.path().display().to_string()), ("HOSTR_TEST_TIMES", TIMES.to_string())],
    );
    (0..TIMES).for_each(|_| increment(&store));
    let output = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).lines().any(|l| ack(l) == Some("done")));
    let plan: Plan = store.get("counter").unwrap();
    assert_eq!(plan.storage as usize, 2 + 2 * TIMES);
}

/// Runs `work` on its own thread and fails the test, rather than hanging
/// it, if the work never ends.
fn finishes<R: Send + 'static>(what: &str, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(work()));
    result.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("{what} hangs"))
}

#[test]
fn a_fifo_or_an_oversized_file_is_one_broken_record_and_never_hangs_a_reader() {
    let dir = temp_dir();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create(&Plan::seed(Timestamp::now())).unwrap();
    let plans = store.dir::<Plan>().unwrap();
    let fifo = plans.join("fifo.json");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "make a FIFO");
    let huge = plans.join("huge.json");
    let padding = " ".repeat(hostr::store::MAX_RECORD_BYTES as usize);
    std::fs::write(&huge, format!("{{\"id\": \"huge\"{padding}}}")).unwrap();

    let listing = Arc::clone(&store);
    let listed = finishes("listing plans", move || listing.list_readable::<Plan>().unwrap());
    assert_eq!(listed.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["basic"], "the good plan is still listed");
    let reading = Arc::clone(&store);
    let got = finishes("reading the FIFO", move || reading.get::<Plan>("fifo"));
    assert!(matches!(got, Err(StoreError::Corrupt(ref e)) if e.message.contains("not a regular file")), "{got:?}");

    let checking = Arc::clone(&store);
    let report = finishes("hostr check", move || check(&checking).unwrap());
    let message = |path: &std::path::Path| {
        report.problems.iter().find(|p| p.path == path).map(|p| p.message.clone()).unwrap_or_default()
    };
    assert!(message(&fifo).contains("not a regular file"), "{:?}", report.problems);
    assert!(message(&huge).contains("larger than 1024 KiB"), "{:?}", report.problems);
}

#[test]
#[ignore = "run as a child process by a_broken_file_is_logged_once_until_its_problem_changes"]
fn role_lister() {
    if !playing("store::role_lister") {
        return;
    }
    let _flush = hostr::logger::init(log::LevelFilter::Info);
    let store = db_from_env();
    let plans = store.dir::<Plan>().unwrap();
    let listings = |n| (0..n).for_each(|_| assert_eq!(store.list_readable::<Plan>().unwrap().len(), 1));
    listings(3);
    std::fs::write(plans.join("broken.json"), "{\"id\": \"broken\", \"name\": 7}").unwrap();
    listings(2);
    std::fs::write(plans.join("broken.json"), "{\"id\": \"broken\",}").unwrap();
    listings(2);
    println!("ack done");
}

#[test]
fn a_broken_file_is_logged_once_until_its_problem_changes() {
    let dir = temp_dir();
    let store = Store::open(dir.path()).unwrap();
    store.create(&Plan::seed(Timestamp::now())).unwrap();
    std::fs::write(store.dir::<Plan>().unwrap().join("broken.json"), "{\"id\": \"broken\"").unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["store::role_lister", "--exact", "--nocapture", "--test-threads=1", "--include-ignored"])
        .env("HOSTR_TEST_ROLE", "store::role_lister")
        .env("HOSTR_TEST_DB", dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).lines().any(|l| ack(l) == Some("done")));
    let log = String::from_utf8_lossy(&output.stderr);
    let left_out: Vec<&str> = log.lines().filter(|l| l.contains("plan left out")).collect();
    assert_eq!(left_out.len(), 3, "once per distinct problem, not once per listing:\n{log}");
    assert!(
        left_out[0].contains("EOF") && left_out[1].contains("invalid type") && left_out[2].contains("trailing comma")
    );
}
