//! The real WHM client against a fake WHM on loopback: the account
//! lifecycle, loose result types, refusals, bad tokens, HTML and timeouts.

use crate::common::fake_whm::{FakeWhm, TOKEN, WhmFault};
use hostr::provisioning::panel::{HostingPanel, PanelError};
use hostr::whm::{WhmClient, WhmTls};
use std::time::Duration;

const PASSWORD: &str = "correct-horse-battery-staple-9";

fn client(fake: &FakeWhm) -> WhmClient {
    WhmClient::with_timeouts(
        &fake.url,
        "root",
        TOKEN,
        &WhmTls::Verify,
        Duration::from_millis(800),
        Duration::from_millis(1500),
    )
    .unwrap()
}

#[test]
fn an_account_is_created_read_suspended_measured_and_removed() {
    let fake = FakeWhm::start();
    let whm = client(&fake);
    assert!(whm.applist().unwrap().iter().any(|f| f == "createacct"));
    assert!(whm.username_available("shop").unwrap());
    whm.create_account("shop", "shop.example", "basic", Some("me@example.com"), PASSWORD).unwrap();
    assert!(!whm.username_available("shop").unwrap());

    let account = whm.account_summary("shop").unwrap().unwrap();
    assert_eq!(
        (account.domain.as_str(), account.package.as_str(), account.suspended),
        ("shop.example", "basic", false)
    );
    assert_eq!((account.disk_used_mb, account.disk_limit_mb), (12, Some(10240)));
    assert!(whm.account_summary("nobody").unwrap().is_none());

    whm.suspend("shop", "Unpaid since 2026-11-01").unwrap();
    let listed = whm.list_accounts().unwrap();
    assert_eq!(
        (listed.len(), listed[0].suspended, listed[0].suspend_reason.as_deref()),
        (1, true, Some("Unpaid since 2026-11-01"))
    );
    whm.unsuspend("shop").unwrap();
    assert!(!whm.account_summary("shop").unwrap().unwrap().suspended);
    assert_eq!(whm.bandwidth().unwrap(), vec![("shop".to_owned(), 3 * 1048576)]);
    assert!(whm.login_url("shop").unwrap().starts_with("https://server.example:2083/cpsess"));
    whm.remove_account("shop").unwrap();
    assert!(whm.account_summary("shop").unwrap().is_none());

    // Passwords and tokens travel in bodies and headers only.
    let state = fake.state.lock().unwrap();
    assert!(state.calls.iter().all(|(_, url, _)| !url.contains(PASSWORD) && !url.contains(TOKEN)));
    assert!(state.calls.iter().all(|(_, url, _)| url.contains("api.version=1")));
    let (_, _, create_body) = state.calls.iter().find(|(f, _, _)| f == "createacct").unwrap();
    assert!(create_body.contains("showpass=n"));
}

#[test]
fn refusals_keep_their_reason_and_a_bad_token_is_told_apart() {
    let fake = FakeWhm::start();
    let whm = client(&fake);
    whm.create_account("shop", "shop.example", "basic", None, PASSWORD).unwrap();
    let error = whm.create_account("other", "shop.example", "basic", None, PASSWORD).unwrap_err();
    assert!(matches!(&error, PanelError::Refused { reason, .. } if reason.contains("already exists")), "{error}");

    let wrong = WhmClient::new(&fake.url, "root", "WRONGTOKEN", &WhmTls::Verify).unwrap();
    let error = wrong.suspend("shop", "x").unwrap_err();
    assert!(matches!(error, PanelError::Auth(_)), "{error}");
    assert!(!format!("{error} {wrong:?}").contains("WRONGTOKEN"), "the token never shows");
}

#[test]
fn html_server_errors_and_timeouts_are_not_refusals() {
    let fake = FakeWhm::start();
    let whm = client(&fake);
    fake.fault(WhmFault::Html);
    assert!(matches!(whm.list_accounts(), Err(PanelError::Nonsense(_))));
    fake.fault(WhmFault::ServerError);
    assert!(matches!(whm.list_accounts(), Err(PanelError::Unreachable(_))));

    // createacct that times out but did create the account: the summary tells.
    fake.fault(WhmFault::Slow(Duration::from_millis(2500)));
    let error = whm.create_account("slow", "slow.example", "basic", None, PASSWORD).unwrap_err();
    assert!(matches!(error, PanelError::Unreachable(_)), "{error}");
    assert!(whm.account_summary("slow").unwrap().is_some());
    assert_eq!(fake.calls("createacct"), 1);
}

#[test]
fn a_ca_file_is_read_and_a_missing_one_refused() {
    let missing =
        WhmClient::new("https://whm.example:2087", "root", TOKEN, &WhmTls::CaFile("/nonexistent/ca.pem".into()));
    assert!(missing.unwrap_err().contains("cannot read"));
    let dir = crate::common::temp_dir();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    assert!(WhmClient::new("https://whm.example:2087", "root", TOKEN, &WhmTls::CaFile(not_pem)).is_err());
    assert!(WhmClient::new("https://whm.example:2087", "root", TOKEN, &WhmTls::Insecure).is_ok());
}
