//! The receipt as a Nostr event (kind 8110, docs/RECEIPTS.md): its tags and
//! its one-sentence content, built from a `Receipt` alone (pure), signed by
//! the operator's key, and checked again by `hostr check`.

use crate::receipt::{RECEIPT_KIND, Receipt, SANDBOX_SERIES, fixed};
use nostr::prelude::{Event, EventBuilder, FinalizeEvent, Keys, Kind, Tag, Timestamp};

/// The event's tags, in the documented order.
pub fn tags(receipt: &Receipt, operator_hex: &str) -> Vec<Vec<String>> {
    let text = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<String>>();
    let mut tags = vec![
        text(&["p", &receipt.buyer.public_key]),
        text(&["a", &format!("30402:{operator_hex}:{}", receipt.plan_id)]),
    ];
    if let Some(previous) = &receipt.previous {
        tags.push(text(&["e", previous, "", operator_hex]));
    }
    tags.push(text(&["d", &receipt.label]));
    tags.push(text(&["receipt", &receipt.number.to_string(), &receipt.series]));
    tags.push(text(&["amount", &fixed(receipt.amount, &receipt.currency), receipt.currency.as_str()]));
    if let Some(msat) = receipt.amount_msat {
        tags.push(text(&["amount", &msat.to_string(), "msat"]));
    }
    if let Some(rate) = &receipt.rate {
        tags.push(text(&["rate", rate, receipt.currency.as_str(), "BTC"]));
    }
    match &receipt.payment_hash {
        Some(hash) => tags.push(text(&["payment", "lightning", hash])),
        None if receipt.amount_msat.is_some() => tags.push(text(&["payment", "lightning"])),
        None => tags.push(text(&["payment", "other"])),
    }
    // Only a prepayment says how many periods: a receipt of one period
    // keeps the tags it always had, so receipts issued before still verify.
    if receipt.periods > 1 {
        tags.push(text(&["periods", &receipt.periods.to_string()]));
    }
    if let (Some(start), Some(end)) = (receipt.period_start, receipt.period_end) {
        let secs = |t: crate::timestamp::Timestamp| t.as_datetime().timestamp().to_string();
        tags.push(text(&["period", &secs(start), &secs(end)]));
    }
    if let Some(domain) = &receipt.domain {
        tags.push(text(&["domain", domain]));
    }
    tags.push(text(&["alt", &format!("hostr payment receipt {}", receipt.label)]));
    tags
}

/// One sentence a person (or a client that does not know the kind) reads.
pub fn content(receipt: &Receipt) -> String {
    let what = match &receipt.domain {
        Some(domain) => format!("{} for {domain}", receipt.plan_name),
        None => receipt.plan_name.clone(),
    };
    let day = |t: crate::timestamp::Timestamp| t.as_datetime().format("%Y-%m-%d").to_string();
    let period = match (receipt.period_start, receipt.period_end) {
        (Some(start), Some(end)) => format!(", {} to {}", day(start), day(end)),
        _ => String::new(),
    };
    let period = match receipt.periods {
        1 => period,
        n => format!(", {n} periods{period}"),
    };
    let sats = receipt.amount_msat.map(|msat| format!(" ({} sats)", thousands(msat / 1000))).unwrap_or_default();
    let how = if receipt.amount_msat.is_some() { "by Lightning" } else { "by other means" };
    let opening = if receipt.series == SANDBOX_SERIES { "Sandbox receipt, no real money" } else { "Receipt" };
    format!(
        "{opening} {}: {what}{period}, {} {}{sats} paid {how}.",
        receipt.label,
        fixed(receipt.amount, &receipt.currency),
        receipt.currency
    )
}

/// The receipt signed by `keys`, dated when the payment was received.
pub fn sign(receipt: &Receipt, keys: &Keys) -> Result<Event, String> {
    let tags = tags(receipt, &keys.public_key().to_hex())
        .into_iter()
        .map(|tag| Tag::parse(tag).map_err(|e| format!("a receipt tag: {e}")))
        .collect::<Result<Vec<Tag>, String>>()?;
    let created_at = u64::try_from(receipt.issued_at.as_datetime().timestamp()).map_err(|_| "a date before 1970")?;
    EventBuilder::new(Kind::Custom(RECEIPT_KIND), content(receipt))
        .tags(tags)
        .custom_created_at(Timestamp::from(created_at))
        .finalize(keys)
        .map_err(|e| format!("signing the receipt: {e}"))
}

/// Whether a stored receipt's event is intact: a valid signature by
/// `operator_hex`, and the very tags and content its fields call for
/// (so a hand edit of either shows).
pub fn matches_fields(receipt: &Receipt, operator_hex: &str) -> Result<(), String> {
    let event: Event = serde_json::from_value(receipt.event.clone()).map_err(|e| format!("not an event: {e}"))?;
    event.verify().map_err(|_| "its signature or id does not verify".to_owned())?;
    if event.pubkey.to_hex() != operator_hex {
        return Err("it is signed by another key than the operator's".to_owned());
    }
    let stored: Vec<Vec<String>> = event.tags.iter().map(|t| t.as_slice().to_vec()).collect();
    if event.kind.as_u16() != RECEIPT_KIND || stored != tags(receipt, operator_hex) || event.content != content(receipt)
    {
        return Err("its event does not state the receipt's fields".to_owned());
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::{Buyer, MAIN_SERIES, Seller, label};
    use crate::timestamp::Timestamp as At;

    fn receipt() -> Receipt {
        let at = |s| At::parse(s).unwrap();
        Receipt {
            series: MAIN_SERIES.into(),
            number: 42,
            label: label(MAIN_SERIES, 42),
            issued_at: at("2026-12-08T10:00:00Z"),
            seller: Seller::default(),
            buyer: Buyer { public_key: "ab".repeat(32), npub: "npub1x".into(), ..Buyer::default() },
            plan_id: "basic".into(),
            plan_name: "Basic hosting".into(),
            domain: Some("shop.example".into()),
            amount: crate::money::Money::from_cents(500).unwrap(),
            currency: crate::money::Currency::usd(),
            amount_msat: Some(8_450_000),
            rate: Some("59171.59".into()),
            method: "Lightning".into(),
            payment_hash: None,
            periods: 1,
            period_start: Some(at("2026-12-08T10:00:00Z")),
            period_end: Some(at("2027-01-08T10:00:00Z")),
            previous: None,
            event: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_sentence_says_what_when_and_how_much() {
        let cases = [
            (
                receipt(),
                "Receipt 000042: Basic hosting for shop.example, 2026-12-08 to 2027-01-08, 5.00 USD (8,450 sats) paid by Lightning.",
            ),
            (
                Receipt { domain: None, period_start: None, amount_msat: None, ..receipt() },
                "Receipt 000042: Basic hosting, 5.00 USD paid by other means.",
            ),
            (
                Receipt { periods: 12, period_end: Some(At::parse("2027-12-08T10:00:00Z").unwrap()), ..receipt() },
                "Receipt 000042: Basic hosting for shop.example, 12 periods, 2026-12-08 to 2027-12-08, 5.00 USD (8,450 sats) paid by Lightning.",
            ),
            (
                Receipt { series: SANDBOX_SERIES.into(), label: label(SANDBOX_SERIES, 42), ..receipt() },
                "Sandbox receipt, no real money SANDBOX-000042: Basic hosting for shop.example, 2026-12-08 to 2027-01-08, 5.00 USD (8,450 sats) paid by Lightning.",
            ),
        ];
        for (receipt, want) in cases {
            assert_eq!(content(&receipt), want);
        }
        assert_eq!(["0", "999", "1,000", "1,234,567"].map(String::from), [0, 999, 1000, 1_234_567].map(thousands));
    }

    #[test]
    fn the_previous_receipt_is_the_only_e_tag_and_the_customer_the_p_tag() {
        let op = "cd".repeat(32);
        let first = tags(&receipt(), &op);
        assert_eq!(first[0], ["p", &"ab".repeat(32)]);
        assert_eq!(first[1], ["a", &format!("30402:{op}:basic")]);
        assert!(!first.iter().any(|t| t[0] == "e"), "the first of an account points nowhere");
        assert!(!first.iter().any(|t| t[0] == "periods"), "one period: the tags of receipts from before");
        let prepaid = tags(&Receipt { periods: 12, ..receipt() }, &op);
        assert!(prepaid.contains(&vec!["periods".to_owned(), "12".to_owned()]));
        let next = tags(&Receipt { previous: Some("ef".repeat(32)), ..receipt() }, &op);
        assert_eq!(
            next.iter().filter(|t| t[0] == "e").collect::<Vec<_>>(),
            [&vec!["e".to_owned(), "ef".repeat(32), String::new(), op.clone()]]
        );
    }

    #[test]
    fn a_signed_receipt_matches_its_fields_until_either_is_edited() {
        let keys = Keys::generate();
        let op = keys.public_key().to_hex();
        let mut signed = receipt();
        signed.event = serde_json::to_value(sign(&signed, &keys).unwrap()).unwrap();
        assert_eq!(matches_fields(&signed, &op), Ok(()));
        let edited = Receipt { amount: crate::money::Money::from_cents(1).unwrap(), ..signed.clone() };
        assert!(matches_fields(&edited, &op).is_err(), "an edited amount shows");
        let mut forged = signed.clone();
        forged.event["content"] = "Receipt 000042: nothing".into();
        assert!(matches_fields(&forged, &op).unwrap_err().contains("signature"));
        assert!(matches_fields(&signed, &"00".repeat(32)).unwrap_err().contains("another key"));
    }
}
