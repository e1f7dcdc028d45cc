//! Talking to a wallet's relay: blocking, every wait bounded, over the
//! relay client's [`Connection`] (NIP-42 answered with the connection's
//! own key). A request's answer is subscribed to (`#e`, the wallet as
//! author) BEFORE the request is sent: answers are ephemeral, and a late
//! subscription misses them.

use super::wire::{self, Answer, Encryption, WalletInfo};
use crate::relay::{Connection, RelayAddress, Timing};
use nostr::prelude::{Event, Keys, PublicKey};
use serde_json::json;
use std::time::{Duration, Instant};

/// The wallet's info event (kind 13194), read.
pub fn fetch_info(relay: &RelayAddress, keys: &Keys, wallet: &PublicKey, timing: Timing) -> Result<WalletInfo, String> {
    let mut connection = Connection::open(relay, keys, timing)?;
    let filter = json!({"kinds": [wire::INFO], "authors": [wallet.to_hex()], "limit": 1});
    let events = connection.query(&filter, Instant::now() + timing.answer, 10)?;
    connection.close();
    let newest = events.into_iter().filter(|e| e.pubkey == *wallet).max_by_key(|e| e.created_at);
    wire::read_info(&newest.ok_or("the wallet has published no info event (kind 13194) on its relay")?)
}

/// A wallet as one connection reaches it.
#[derive(Clone, Copy)]
pub struct Peer<'a> {
    pub relay: &'a RelayAddress,
    pub keys: &'a Keys,
    pub wallet: &'a PublicKey,
    pub encryption: Encryption,
}

/// Sends `request` with `send` once the answer is subscribed to, and waits
/// up to `wait` for the wallet's answer; none when it did not come.
pub fn ask(
    peer: &Peer,
    request: &Event,
    wait: Duration,
    send: impl FnOnce(&mut Connection) -> Result<(), String>,
    timing: Timing,
) -> Result<Option<Answer>, String> {
    let Peer { relay, keys, wallet, encryption } = *peer;
    let mut connection = Connection::open(relay, keys, timing)?;
    let id = request.id.to_hex();
    let subscription = connection.subscribe(&wire::response_filter(wallet, &id), Instant::now() + timing.answer)?;
    send(&mut connection)?;
    let deadline = Instant::now() + wait;
    let mut answer = None;
    while answer.is_none() {
        let Some(event) = connection.next_event(&subscription, deadline)? else { break };
        match wire::read_response(&event, keys, wallet, &id, encryption) {
            Ok(read) => answer = Some(read),
            Err(why) => log::warn!("wallet relay {relay}: an answer hostr cannot read: {why}"),
        }
    }
    connection.close();
    Ok(answer)
}

/// The wallet's name from `get_info`, when it answers within `wait`.
pub fn alias(
    relay: &RelayAddress,
    keys: &Keys,
    wallet: &PublicKey,
    info: &WalletInfo,
    timing: Timing,
) -> Option<String> {
    if !info.methods.iter().any(|m| m == "get_info") {
        return None;
    }
    let expires = (crate::timestamp::Timestamp::now().as_datetime().timestamp() + 60) as u64;
    let request = wire::request(keys, wallet, info.encryption, "get_info", json!({}), expires).ok()?;
    let send = |c: &mut Connection| c.publish(&request).map(|_| ());
    let peer = Peer { relay, keys, wallet, encryption: info.encryption };
    match ask(&peer, &request, timing.answer, send, timing) {
        Ok(Some(Answer::Done(result))) => {
            result["alias"].as_str().filter(|a| !a.trim().is_empty()).map(|a| a.chars().take(60).collect())
        }
        _ => None,
    }
}
