//! "Renew automatically" on an account's renewal page (the profile's
//! "Renew"), end to end: the page in Chromium loads `autoRenew.js` when opened, the customer pastes a wallet
//! connection, chooses periods and a cap, and the server reads the real
//! wallet service (`@getalby/sdk`'s NWCWalletService, `common/nwc_wallet.rs`)
//! on the real relay; then disconnects, and the secret file is gone.

use super::{Browser, ONE_BROWSER_AT_A_TIME, Site, browser_tools, signer_config};
use crate::common::nwc_wallet::TestWallet;
use crate::common::relay::TestRelay;
use hostr::nwc::WalletLink;
use hostr::relay::{RelayAddress, RelaySettings};
use nostr::prelude::Keys;
use serde_json::{Value, json};

#[test]
fn a_customer_connects_a_wallet_on_the_renewal_page_and_disconnects_it() {
    let Some(tools) = browser_tools() else { return };
    let Some(relay) = TestRelay::start() else { return };
    let (client, wallet_keys) = (Keys::generate(), Keys::generate());
    let secret = wallet_keys.secret_key().to_secret_hex();
    let Some(_wallet) = TestWallet::start(&relay.url(), &secret, &client.public_key().to_hex(), "quota") else {
        return;
    };
    let _one = ONE_BROWSER_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let site = Site::start_with(|c| {
        c.relays = RelaySettings {
            relays: vec![RelayAddress::operator(&relay.url()).unwrap()],
            allow_private: true,
            timing: Default::default(),
        }
    });
    let keys = Keys::generate();
    let customer = site.register(&keys);
    let account = site.add_account(&customer, "alpha", "auto.example.com", "ACTIVE", Value::Null, 20);
    let browser = Browser::start(&tools, &signer_config(&keys, "ok", 0, vec![]));
    browser.goto(&site.url("/"));
    browser.click("[data-test=login]");
    browser.wait_url("/profile.html");

    browser.click("[data-test=account][data-domain='auto.example.com'] [data-test=renew]");
    browser.wait_url("/products.html?renew=");
    browser.wait_visible("#auto-renew summary");
    let loaded = "return performance.getEntriesByType('resource').some((r) => r.name.endsWith('/js/autoRenew.js'))";
    assert_eq!(browser.eval(loaded, json!([])), json!(false), "not loaded before it is opened");
    browser.click("#auto-renew summary");
    let card = format!("[data-account='{}']", account.id);
    browser.wait_text(&format!("{card} [data-test=auto-renew-state]"), "Off: you renew by hand.");
    let url = relay.url();
    let relay_param = percent_encoding::utf8_percent_encode(&url, percent_encoding::NON_ALPHANUMERIC);
    let uri = format!(
        "nostr+walletconnect://{}?relay={relay_param}&secret={}",
        wallet_keys.public_key().to_hex(),
        client.secret_key().to_secret_hex()
    );
    browser.type_into(&format!("[id='auto-renew-uri-{}']", account.id), &uri);
    browser.type_into(&format!("[id='auto-renew-cap-{}']", account.id), "5000");
    browser.click(&format!("{card} [data-test=auto-renew-form] button[type=submit]"));
    browser.wait_text(
        &format!("{card} [data-test=auto-renew-connected]"),
        "Connected to Test Wallet, pays up to 5000 sats",
    );
    browser.wait_text(&format!("{card} [data-test=auto-renew-state]"), "On: Test Wallet pays up to 5000 sats");
    let link: WalletLink = site.server.app.store.get(&account.id).expect("the connection");
    assert_eq!(link.cap_sats, 5000);
    let page = browser.eval("return document.documentElement.outerHTML", json!([]));
    assert!(!page.as_str().unwrap().contains(&client.secret_key().to_secret_hex()), "the secret left the page");
    browser.screenshots("30-profile-auto-renew-on", false);

    browser.click(&format!("{card} [data-test=auto-renew-disconnect]"));
    browser.wait_text(&format!("{card} [data-test=auto-renew-state]"), "Off: you renew by hand.");
    assert!(site.server.app.store.get::<WalletLink>(&account.id).is_err(), "disconnected");
    let file = site.server.app.store.root().join(".wallet-secrets").join(&account.id);
    assert!(!file.exists(), "the secret is erased");
}
