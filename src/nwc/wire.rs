//! NIP-47 messages as values: the wallet's info event (kind 13194), the
//! requests hostr signs (kind 23194) and the wallet's responses (kind
//! 23195), and what each error code means for a renewal.
//!
//! Pure. Error codes are read as strings (wallets send codes the NIP does
//! not list), and an unknown one never makes the whole answer unreadable.
//! A response is taken only from the wallet's key and for our request id
//! (`#e`); Alby's wallet service puts no `p` tag on it.

use nostr::nips::{nip04, nip44};
use nostr::prelude::{Event, EventBuilder, FinalizeEvent, Keys, Kind, PublicKey, Tag, Timestamp};
use serde_json::{Value, json};

pub const INFO: u16 = 13194;
pub const REQUEST: u16 = 23194;
pub const RESPONSE: u16 = 23195;

/// The encryption a connection speaks, as negotiated from the info event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Encryption {
    #[serde(rename = "nip44_v2")]
    Nip44V2,
    /// Only as the NIP's fallback for wallets that offer nothing newer.
    #[serde(rename = "nip04")]
    Nip04,
}

impl Encryption {
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Nip44V2 => "nip44_v2",
            Encryption::Nip04 => "nip04",
        }
    }

    fn encrypt(self, keys: &Keys, to: &PublicKey, text: &str) -> Result<String, String> {
        match self {
            Encryption::Nip44V2 => {
                nip44::encrypt(keys.secret_key(), to, text, nip44::Version::V2).map_err(|e| e.to_string())
            }
            Encryption::Nip04 => nip04::encrypt(keys.secret_key(), to, text).map_err(|e| e.to_string()),
        }
    }

    fn decrypt(self, keys: &Keys, from: &PublicKey, text: &str) -> Result<String, String> {
        match self {
            Encryption::Nip44V2 => nip44::decrypt(keys.secret_key(), from, text).map_err(|e| e.to_string()),
            Encryption::Nip04 => nip04::decrypt(keys.secret_key(), from, text).map_err(|e| e.to_string()),
        }
    }
}

/// What the wallet's info event offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletInfo {
    pub methods: Vec<String>,
    pub encryption: Encryption,
}

/// Reads the info event: its content lists the methods; its `encryption`
/// tag the schemes (absent: NIP-04 only). NIP-44 v2 is chosen when offered.
pub fn read_info(event: &Event) -> Result<WalletInfo, String> {
    let methods: Vec<String> = event.content.split_whitespace().map(str::to_owned).collect();
    if !methods.iter().any(|m| m == "pay_invoice") {
        return Err("the wallet does not offer pay_invoice to this connection".to_owned());
    }
    let offered = event.tags.iter().map(|t| t.as_slice()).find(|t| t.first().is_some_and(|n| n == "encryption"));
    let encryption = match offered {
        None => Encryption::Nip04,
        Some(list) => {
            let list: Vec<&str> = list.get(1).map_or("", String::as_str).split_whitespace().collect();
            if list.contains(&"nip44_v2") {
                Encryption::Nip44V2
            } else if list.contains(&"nip04") {
                Encryption::Nip04
            } else {
                return Err("the wallet offers no encryption hostr speaks (nip44_v2 or nip04)".to_owned());
            }
        }
    };
    Ok(WalletInfo { methods, encryption })
}

/// A signed request: `method` with `params`, encrypted to the wallet, with
/// an `expiration` tag (`expires`, unix seconds) after which a wallet should ignore it.
pub fn request(
    keys: &Keys,
    wallet: &PublicKey,
    encryption: Encryption,
    method: &str,
    params: Value,
    expires: u64,
) -> Result<Event, String> {
    let content = encryption.encrypt(keys, wallet, &json!({"method": method, "params": params}).to_string())?;
    let mut tags = vec![Tag::public_key(*wallet), Tag::expiration(Timestamp::from(expires))];
    // A request without the tag is read as NIP-04, so older wallets get none.
    if encryption == Encryption::Nip44V2 {
        tags.push(Tag::parse(["encryption", "nip44_v2"]).map_err(|e| e.to_string())?);
    }
    EventBuilder::new(Kind::from(REQUEST), content).tags(tags).finalize(keys).map_err(|e| e.to_string())
}

/// The filter for the answers to `request_id` from `wallet`.
pub fn response_filter(wallet: &PublicKey, request_id: &str) -> Value {
    json!({"kinds": [RESPONSE], "authors": [wallet.to_hex()], "#e": [request_id]})
}

/// A wallet's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `result` with no error (for pay_invoice: the preimage, which is
    /// only the wallet's word, never proof that hostr was paid).
    Done(Value),
    Error {
        code: String,
        message: String,
    },
}

/// Reads a response event: from `wallet`, answering `request_id`, decrypted.
pub fn read_response(
    event: &Event,
    keys: &Keys,
    wallet: &PublicKey,
    request_id: &str,
    encryption: Encryption,
) -> Result<Answer, String> {
    let answers = event.tags.iter().map(|t| t.as_slice()).any(|t| t.len() >= 2 && t[0] == "e" && t[1] == request_id);
    if event.pubkey != *wallet || event.kind != Kind::from(RESPONSE) || !answers {
        return Err("not the wallet's answer to this request".to_owned());
    }
    let text = encryption.decrypt(keys, wallet, &event.content)?;
    let body: Value = serde_json::from_str(&text).map_err(|_| "the answer is not JSON".to_owned())?;
    match &body["error"] {
        Value::Null => Ok(Answer::Done(body["result"].clone())),
        error => Ok(Answer::Error {
            code: error["code"].as_str().unwrap_or("OTHER").chars().take(40).collect(),
            message: error["message"].as_str().unwrap_or("").chars().take(200).collect(),
        }),
    }
}

/// What a renewal does after a wallet's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// The wallet would not pay now (budget, balance, a failed route): the
    /// customer is told, a later day tries again with a new invoice once
    /// this one is closed unpaid.
    Later,
    /// The connection is of no use (revoked, restricted, expired, an
    /// unknown code): marked broken, the customer told.
    Broken,
    /// Nothing known of the money (`INTERNAL`, `OTHER`, `RATE_LIMITED`):
    /// Strike is asked, and the very same request may be sent again.
    Unknown,
}

pub fn reaction(code: &str) -> Reaction {
    match code {
        "QUOTA_EXCEEDED" | "INSUFFICIENT_BALANCE" | "PAYMENT_FAILED" => Reaction::Later,
        "RATE_LIMITED" | "INTERNAL" | "OTHER" => Reaction::Unknown,
        _ => Reaction::Broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(tags: Vec<Vec<&str>>, content: &str) -> Event {
        let wallet = Keys::generate();
        let tags = tags.into_iter().map(|t| Tag::parse(t).unwrap());
        EventBuilder::new(Kind::from(INFO), content).tags(tags).finalize(&wallet).unwrap()
    }

    #[test]
    fn the_info_event_gives_the_methods_and_nip44_is_preferred_nip04_the_fallback() {
        type Case<'a> = (Vec<Vec<&'a str>>, &'a str, Result<Encryption, &'a str>);
        let cases: Vec<Case> = vec![
            (
                vec![vec!["encryption", "nip04 nip44_v2"], vec!["notifications", ""]],
                "pay_invoice get_info",
                Ok(Encryption::Nip44V2),
            ),
            (vec![vec!["encryption", "nip44_v2"]], "pay_invoice", Ok(Encryption::Nip44V2)),
            (vec![vec!["encryption", "nip04"]], "pay_invoice", Ok(Encryption::Nip04)),
            (vec![], "get_balance pay_invoice", Ok(Encryption::Nip04)),
            (vec![vec!["encryption", "nip99"]], "pay_invoice", Err("no encryption")),
            (vec![vec!["encryption", "nip44_v2"]], "get_balance make_invoice", Err("pay_invoice")),
        ];
        for (tags, content, expected) in cases {
            let got = read_info(&info(tags.clone(), content)).map(|i| i.encryption);
            match (&got, &expected) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{tags:?}"),
                (Err(e), Err(part)) => assert!(e.contains(part), "{e}"),
                _ => panic!("{tags:?}: {got:?} vs {expected:?}"),
            }
        }
    }

    #[test]
    fn a_request_is_encrypted_as_negotiated_and_expires_and_its_answer_is_read_by_e_tag() {
        let (client, wallet) = (Keys::generate(), Keys::generate());
        for encryption in [Encryption::Nip44V2, Encryption::Nip04] {
            let params = json!({"invoice": "lnbc1"});
            let event =
                request(&client, &wallet.public_key(), encryption, "pay_invoice", params, 1_900_000_000).unwrap();
            let tags: Vec<Vec<String>> = event.tags.iter().map(|t| t.as_slice().to_vec()).collect();
            assert!(tags.contains(&vec!["expiration".to_owned(), "1900000000".to_owned()]), "{tags:?}");
            assert_eq!(tags.iter().any(|t| t[0] == "encryption"), encryption == Encryption::Nip44V2);
            let plain = encryption.decrypt(&wallet, &client.public_key(), &event.content).unwrap();
            assert_eq!(serde_json::from_str::<Value>(&plain).unwrap()["params"]["invoice"], "lnbc1");
            // Alby's answer: only an `e` tag, and `error` left out on success.
            let answer = |body: Value, id: &str| {
                let content = encryption.encrypt(&wallet, &client.public_key(), &body.to_string()).unwrap();
                EventBuilder::new(Kind::from(RESPONSE), content)
                    .tag(Tag::parse(["e", id]).unwrap())
                    .finalize(&wallet)
                    .unwrap()
            };
            let id = event.id.to_hex();
            let paid = answer(json!({"result_type": "pay_invoice", "result": {"preimage": "00"}}), &id);
            let read = read_response(&paid, &client, &wallet.public_key(), &id, encryption).unwrap();
            assert_eq!(read, Answer::Done(json!({"preimage": "00"})));
            let refused =
                answer(json!({"result_type": "pay_invoice", "error": {"code": "EXPIRED", "message": "x"}}), &id);
            let read = read_response(&refused, &client, &wallet.public_key(), &id, encryption).unwrap();
            assert_eq!(read, Answer::Error { code: "EXPIRED".into(), message: "x".into() });
            let other = answer(json!({"result": {}}), &"0".repeat(64));
            assert!(read_response(&other, &client, &wallet.public_key(), &id, encryption).is_err());
        }
    }

    #[test]
    fn each_error_code_has_its_reaction_and_unknown_codes_break_the_connection() {
        let cases = [
            ("QUOTA_EXCEEDED", Reaction::Later),
            ("INSUFFICIENT_BALANCE", Reaction::Later),
            ("PAYMENT_FAILED", Reaction::Later),
            ("UNAUTHORIZED", Reaction::Broken),
            ("RESTRICTED", Reaction::Broken),
            ("EXPIRED", Reaction::Broken),
            ("NOT_IMPLEMENTED", Reaction::Broken),
            ("SOMETHING_NEW", Reaction::Broken),
            ("RATE_LIMITED", Reaction::Unknown),
            ("INTERNAL", Reaction::Unknown),
            ("OTHER", Reaction::Unknown),
        ];
        for (code, expected) in cases {
            assert_eq!(reaction(code), expected, "{code}");
        }
    }
}
