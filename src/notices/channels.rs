//! Which channels carry a notice, as a pure choice from the customer's
//! preferences and what can reach them.
//!
//! Rules:
//! - Nostr only to a customer who published a kind 10050 inbox list
//!   (NIP-17: no list, no message);
//! - email only to a confirmed address, except the confirmation itself,
//!   which goes to the unconfirmed address and nowhere else;
//! - a notice that is not essential is sent only if the customer wants
//!   them; an essential one (losing the account) goes out on whatever
//!   reaches the customer when their choices would leave none.

use super::NoticeKind;
use crate::customer::{EmailUse, NoticePreferences};

/// What can reach a customer now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// They published a kind 10050 list of inbox relays.
    pub inbox: bool,
    /// Their address, whether confirmed or not.
    pub email: Option<String>,
    pub email_confirmed: bool,
}

/// The channels chosen for one notice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choice {
    pub nostr: bool,
    pub email: Option<String>,
}

impl Choice {
    pub fn is_empty(&self) -> bool {
        !self.nostr && self.email.is_none()
    }
}

pub fn choose(kind: NoticeKind, prefs: &NoticePreferences, reach: &Reach) -> Choice {
    if kind == NoticeKind::EmailConfirmation {
        return Choice { nostr: false, email: reach.email.clone().filter(|_| !reach.email_confirmed) };
    }
    let confirmed = reach.email.clone().filter(|_| reach.email_confirmed);
    if !kind.is_essential() && !prefs.optional {
        return Choice::default();
    }
    let nostr = reach.inbox && prefs.nostr;
    let email = match prefs.email {
        EmailUse::Always => confirmed.clone(),
        EmailUse::Fallback if !nostr => confirmed.clone(),
        _ => None,
    };
    let chosen = Choice { nostr, email };
    if chosen.is_empty() && kind.is_essential() {
        // Essential notices cannot be switched off entirely.
        return match reach.inbox {
            true => Choice { nostr: true, email: None },
            false => Choice { nostr: false, email: confirmed },
        };
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_follow_the_preferences_within_the_rules() {
        let prefs = |nostr, email, optional| NoticePreferences { nostr, email, optional };
        let reach = |inbox, email: Option<&str>, email_confirmed| Reach {
            inbox,
            email: email.map(str::to_owned),
            email_confirmed,
        };
        let choice = |nostr, email: Option<&str>| Choice { nostr, email: email.map(str::to_owned) };
        let default = NoticePreferences::default();
        let a = Some("a@x.co");
        use EmailUse::{Always, Fallback, Never};
        use NoticeKind::{EmailConfirmation, Expired, Receipt};
        let cases = [
            (Receipt, default, reach(true, a, true), choice(true, None)),
            (Receipt, default, reach(false, a, true), choice(false, a)),
            (Receipt, default, reach(false, a, false), choice(false, None)),
            (Receipt, default, reach(false, None, false), choice(false, None)),
            (Receipt, prefs(true, Always, true), reach(true, a, true), choice(true, a)),
            (Receipt, prefs(false, Fallback, true), reach(true, a, true), choice(false, a)),
            (Receipt, prefs(true, Always, false), reach(true, a, true), choice(false, None)),
            (Expired, prefs(true, Always, false), reach(true, a, true), choice(true, a)),
            (Expired, prefs(false, Never, false), reach(true, a, true), choice(true, None)),
            (Expired, prefs(false, Never, false), reach(false, a, true), choice(false, a)),
            (Expired, prefs(false, Never, false), reach(false, a, false), choice(false, None)),
            (EmailConfirmation, default, reach(true, a, false), choice(false, a)),
            (EmailConfirmation, default, reach(true, a, true), choice(false, None)),
        ];
        for (kind, prefs, reach, expected) in cases {
            assert_eq!(choose(kind, &prefs, &reach), expected, "{kind:?} {prefs:?} {reach:?}");
        }
    }
}
