//! Plans with several accounts, through the real WHM client (fake WHM) and
//! the real Strike client (fake Strike): a plan of three delivers three
//! domains under one subscription and refuses a fourth; one renewal renews
//! the group once; one lapse expires and suspends all of it.

use crate::provisioning::{Shop, edit_by_hand, shop, wait_for};
use hostr::cpanel_account::{AccountStatus, CpanelAccount};
use hostr::payment::FulfilmentStatus;
use hostr::plan::Plan;
use hostr::timestamp::Timestamp;
use serde_json::json;

fn add(shop: &Shop, token: &str, account_id: &str, domain: &str) -> crate::common::Reply {
    let body = json!({"accountId": account_id, "domain": domain}).to_string();
    shop.server.authed("POST", "/api/add-account", token, Some(&body))
}

/// Waits until the account is on WHM and ACTIVE.
fn created(shop: &Shop, id: &str) -> CpanelAccount {
    wait_for("the further account to be created", || {
        Some(shop.account(id)).filter(|a| a.whm_created_at.is_some() && a.status == AccountStatus::Active)
    })
}

#[test]
fn a_three_account_plan_delivers_three_domains_renews_and_expires_as_one() {
    let shop = shop(|_| {});
    let trio = Plan { id: "trio".into(), name: "Trio".into(), accounts: 3, ..Plan::seed(Timestamp::now()) };
    shop.server.app.store.create(&trio).unwrap();
    let token = shop.customer();
    let primary = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "trio", "domain": "one.example"})));

    // Two more domains, no payment; a fourth is refused, and so is a domain already here.
    let mut group = vec![primary.clone()];
    for domain in ["two.example", "three.example"] {
        let reply = add(&shop, &token, &primary.id, domain);
        assert_eq!(reply.status, 201, "{:?}", reply.json());
        let member = created(&shop, reply.json()["account"]["id"].as_str().unwrap());
        assert_eq!((member.group_of.as_deref(), member.paid_until), (Some(primary.id.as_str()), primary.paid_until));
        assert!(shop.on_whm(&member.username).is_some_and(|a| a.domain == domain));
        group.push(member);
    }
    let fourth = add(&shop, &token, &group[2].id, "four.example");
    assert_eq!((fourth.status, fourth.error_code()), (409, "plan_accounts_used".to_owned()));
    assert!(fourth.json()["error"]["message"].as_str().unwrap().contains("includes 3"));
    assert_eq!(add(&shop, &token, &primary.id, "two.example").error_code(), "domain_yours");
    assert!(shop.server.app.store.find(CpanelAccount::by_domain("four.example")).unwrap().is_none());
    let profile = shop.server.authed("GET", "/api/profile", &token, None).json();
    let grouped = profile["cpanelAccounts"].as_array().unwrap().iter().filter(|a| a["groupOf"] == json!(primary.id));
    assert_eq!(grouped.count(), 2, "the profile can group them");

    // One renewal, asked for on any account of the group, renews all three once.
    let renewal = shop.buy_and_pay(&token, json!({"accountId": group[1].id}));
    assert_eq!(shop.payment(&renewal).account_id.as_deref(), Some(primary.id.as_str()), "the group's payment");
    let renewed = shop.fulfilled(&renewal).paid_until;
    assert!(renewed > primary.paid_until);
    let all_at = |until| {
        wait_for("the group to follow", || group.iter().all(|a| shop.account(&a.id).paid_until == until).then_some(()))
    };
    all_at(renewed);
    edit_by_hand(&shop.db, "payments", &renewal, |p| p["fulfilment"]["status"] = json!("PROVISIONING"));
    wait_for("the second processing", || {
        let p = shop.payment(&renewal);
        (p.fulfilment.status == FulfilmentStatus::Done && p.fulfilment.attempts == 2).then_some(())
    });
    shop.server.app.provisioner.cycle(false);
    all_at(renewed);

    // The primary's period lapses: all three expire and are suspended on WHM.
    edit_by_hand(&shop.db, "cpanel-accounts", &primary.id, |a| a["paidUntil"] = json!("2026-01-01T00:00:00Z"));
    for account in &group {
        wait_for("the suspension", || shop.on_whm(&account.username)?.suspended.filter(|r| r.contains("non-payment")));
        assert_eq!(shop.account(&account.id).status, AccountStatus::Expired);
    }
    // One payment brings the whole group back.
    let back = shop.buy_and_pay(&token, json!({"accountId": primary.id}));
    shop.fulfilled(&back);
    for account in &group {
        wait_for("the unsuspension", || shop.on_whm(&account.username).filter(|a| a.suspended.is_none()));
        assert_eq!(shop.account(&account.id).status, AccountStatus::Active);
    }
}

#[test]
fn a_single_account_plan_still_sells_one_and_an_old_account_file_reads() {
    let shop = shop(|_| {});
    let token = shop.customer();
    let account = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "basic", "domain": "solo.example"})));
    let refused = add(&shop, &token, &account.id, "solo-two.example");
    assert_eq!((refused.status, refused.error_code()), (409, "plan_accounts_used".to_owned()));
    // A file from before groups: no groupOf. It renews as it always did.
    edit_by_hand(&shop.db, "cpanel-accounts", &account.id, |a| {
        a.as_object_mut().unwrap().remove("groupOf");
    });
    let renewed = shop.fulfilled(&shop.buy_and_pay(&token, json!({"accountId": account.id})));
    assert!(renewed.paid_until > account.paid_until && renewed.group_of.is_none());
}

#[test]
fn a_groups_plan_changes_on_its_primary_and_never_below_its_sites() {
    let shop = shop(|_| {});
    let store = &shop.server.app.store;
    let now = Timestamp::now();
    let trio = Plan { id: "trio".into(), name: "Trio".into(), accounts: 3, ..Plan::seed(now) };
    let big = Plan {
        id: "big".into(),
        name: "Big".into(),
        accounts: 3,
        price: hostr::money::Money::from_cents(trio.price.minor(2).unwrap() * 2).unwrap(),
        ..Plan::seed(now)
    };
    let solo = Plan { id: "solo".into(), name: "Solo".into(), accounts: 1, ..Plan::seed(now) };
    for plan in [&trio, &big, &solo] {
        store.create(plan).unwrap();
    }
    let token = shop.customer();
    let primary = shop.fulfilled(&shop.buy_and_pay(&token, json!({"planId": "trio", "domain": "one.example"})));
    let reply = add(&shop, &token, &primary.id, "two.example");
    let member = created(&shop, reply.json()["account"]["id"].as_str().unwrap());
    let change = |plan: &str| {
        let body = json!({"accountId": member.id, "planId": plan}).to_string();
        shop.server.authed("POST", "/api/plan-change", &token, Some(&body))
    };

    // Two sites do not fit a plan of one.
    let refused = change("solo");
    assert_eq!((refused.status, refused.error_code()), (409, "too_many_sites".to_owned()), "{:?}", refused.json());
    // An upgrade asked on the further site is the group's: paid for the primary.
    let upgrade = change("big");
    assert_eq!(upgrade.status, 201, "{:?}", upgrade.json());
    assert_eq!(upgrade.json()["payment"]["accountId"], json!(primary.id));
    // The operator cannot change one further site alone either (the pass would undo it).
    let extended = hostr::provisioning::operator::extend(store, &member.id, 5, "goodwill");
    assert!(extended.is_err_and(|e| e.to_string().contains("further site")));
    assert_eq!(shop.account(&member.id).paid_until, member.paid_until);
}
