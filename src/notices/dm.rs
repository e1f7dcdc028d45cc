//! Private Nostr messages (NIP-17): a kind 14 rumor, sealed (kind 13) and
//! gift-wrapped (kind 1059) with NIP-44 v2 from the operator's key, one wrap
//! for the recipient and one for the operator's own key (the sender copy,
//! so the operator's client shows the conversation). Both wrap the SAME
//! rumor, so they have the same message id.
//!
//! The `nostr` crate does the cryptography; its builders randomise the seal's
//! and the wrap's `created_at` up to two days in the past and sign each wrap
//! with a fresh key. No `expiration` tag: a notice is worth keeping. A wrap is
//! built once and kept (the outbox resends the same event), since building it
//! again gives a new id.

use nostr::nips::nip59::GiftWrapBuilder;
use nostr::prelude::*;

/// The room's topic in the customer's client.
pub const SUBJECT: &str = "hostr account notices";

/// The two wraps of one message.
#[derive(Debug, Clone)]
pub struct Wrapped {
    pub to_recipient: Event,
    pub to_operator: Event,
}

/// Wraps `text` from `operator` to `recipient` (and to the operator).
pub fn wrap(operator: &Keys, recipient: &PublicKey, text: &str) -> Result<Wrapped, String> {
    let subject = Tag::parse(["subject", SUBJECT]).map_err(|e| e.to_string())?;
    let rumor = EventBuilder::new(Kind::PrivateDirectMessage, text)
        .tags([Tag::public_key(*recipient), subject])
        .finalize_unsigned(operator.public_key());
    let seal_and_wrap = |to: PublicKey| GiftWrapBuilder::new(to, rumor.clone()).finalize(operator);
    let to_recipient = seal_and_wrap(*recipient).map_err(|e| e.to_string())?;
    let to_operator = seal_and_wrap(operator.public_key()).map_err(|e| e.to_string())?;
    Ok(Wrapped { to_recipient, to_operator })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::nips::nip59::UnwrappedGift;

    #[test]
    fn the_customer_and_the_operator_unwrap_the_same_message_from_the_operator() {
        let (operator, customer, stranger) = (Keys::generate(), Keys::generate(), Keys::generate());
        let wrapped = wrap(&operator, &customer.public_key(), "Your plan renews on 2026-12-08.").unwrap();
        for wrap in [&wrapped.to_recipient, &wrapped.to_operator] {
            assert_eq!(wrap.kind, Kind::GiftWrap);
            assert_ne!(wrap.pubkey, operator.public_key(), "signed by a one-time key");
            assert!(wrap.created_at <= Timestamp::now(), "never in the future");
        }
        let theirs = UnwrappedGift::from_gift_wrap(&customer, &wrapped.to_recipient).unwrap();
        let ours = UnwrappedGift::from_gift_wrap(&operator, &wrapped.to_operator).unwrap();
        assert_eq!((theirs.sender, ours.sender), (operator.public_key(), operator.public_key()));
        assert_eq!(theirs.rumor.kind, Kind::PrivateDirectMessage);
        assert_eq!(theirs.rumor.content, "Your plan renews on 2026-12-08.");
        assert_eq!(theirs.rumor.id, ours.rumor.id, "one message, two copies");
        assert!(UnwrappedGift::from_gift_wrap(&stranger, &wrapped.to_recipient).is_err());
    }
}
