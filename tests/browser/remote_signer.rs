//! Signing in from a phone with a remote signer (NIP-46), end to end: the
//! page in Chromium, the vendored nostr-tools client, the real relay (PyPI
//! nostr-relay) and a real signer nobody here wrote (NDK's
//! `NDKNip46Backend`, `tests/nip46/signer.mjs`), NIP-44 encrypted between
//! them. The server only names the relay (`--signer-relays`) and verifies
//! the signed kind-27235 event as always.

use super::{Browser, ONE_BROWSER_AT_A_TIME, Site, browser_tools};
use crate::common::relay::TestRelay;
use crate::common::remote_signer::RemoteSigner;
use nostr::prelude::{Keys, ToBech32};
use serde_json::json;

/// The page's fakes, but no browser signer, and the real relay at `relay`.
fn phone(relay: &str) -> serde_json::Value {
    json!({"signer": false, "realRelays": [relay], "relayEvents": []})
}

#[test]
fn a_phone_signs_in_with_a_remote_signer_by_bunker_uri_and_by_nostrconnect_code() {
    let Some(tools) = browser_tools() else { return };
    let Some(signer_tools) = RemoteSigner::tools() else { return };
    let Some(relay) = TestRelay::start() else { return };
    let _one = ONE_BROWSER_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let site = Site::start_with(|c| c.signer_relays = vec![relay.url()]);

    // bunker://: a registered customer pastes their signer's address.
    let keys = Keys::generate();
    site.register(&keys);
    let signer = RemoteSigner::start(&signer_tools, &relay.url(), &keys.secret_key().to_secret_hex());
    let browser = Browser::start(&tools, &phone(&relay.url()));
    browser.goto(&site.url("/"));
    browser.wait_visible("[data-test=remote-login]");
    // The vendored library and the remote-signer code wait for the click
    // (check_page_weight fails on either).
    browser.check_page_weight("/");
    browser.click("[data-test=remote-login]");
    browser.wait_visible("[data-test=nostrconnect-link]");
    let loaded = browser.eval(
        "return performance.getEntriesByType('resource').map(r => new URL(r.name).pathname) \
           .filter(p => p === '/vendor/nostr-nip46.js' || p === '/js/remoteLogin.js')",
        json!([]),
    );
    assert_eq!(loaded, json!(["/js/remoteLogin.js", "/vendor/nostr-nip46.js"]), "loaded on the click");
    browser.screenshots("10-remote-signer", true);
    browser.type_into("#bunker-uri", &signer.bunker_uri);
    browser.click("[data-test=bunker-connect]");
    browser.wait_url("/products.html");
    signer.wait_line("request connect");
    signer.wait_line("request sign_event 27235");
    browser.goto(&site.url("/profile.html"));
    let npub = keys.public_key().to_bech32().unwrap();
    browser.wait_visible("[data-test=identity]");
    browser.wait_for(
        "the profile to name the signer's npub",
        "return [...document.querySelectorAll('[data-test=identity] code')].some(c => c.title === arguments[0])",
        json!([npub]),
    );
    drop(browser);

    // nostrconnect://: a new key scans the page's code (here: the test hands
    // the link to the signer), and signs in as a new customer.
    let fresh = Keys::generate();
    let mut signer = RemoteSigner::start(&signer_tools, &relay.url(), &fresh.secret_key().to_secret_hex());
    let browser = Browser::start(&tools, &phone(&relay.url()));
    browser.goto(&site.url("/"));
    browser.click("[data-test=remote-login]");
    browser.wait_visible("[data-test=remote-panel] .qr img");
    let link = browser.eval("return document.querySelector('[data-test=nostrconnect-link]').href", json!([]));
    let link = link.as_str().expect("the nostrconnect link").to_owned();
    assert!(link.starts_with("nostrconnect://"), "{link}");
    assert!(link.contains(&format!("relay={}&", relay.url())), "the configured relay is named: {link}");
    assert!(link.contains("perms=sign_event:27235"), "asks only to sign sign-in events: {link}");
    browser.wait_text("[data-test=remote-panel]", "Waiting for your signer");
    signer.connect_to(&link);
    browser.wait_visible("[data-test=register]");
    browser.wait_for(
        "the register view to name the signer's npub",
        "return [...document.querySelectorAll('#register-who code')].some(c => c.title === arguments[0])",
        json!([fresh.public_key().to_bech32().unwrap()]),
    );
    signer.wait_line("request sign_event 27235");
    assert!(site.customer(&fresh).is_none(), "signed in, not yet registered");
}
