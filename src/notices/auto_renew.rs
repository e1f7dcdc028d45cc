//! The notices of automatic renewal (NIP-47), planned from the account and
//! its [`WalletLink`] alone (pure, like the rest of the planner):
//!
//! - `auto-renew-soon`, the day before the wallet is first asked for the
//!   renewal from a `paidUntil`, keyed by that `paidUntil`;
//! - `auto-renew-failed`, for the recorded outcome of one attempt that did
//!   not pay (the wallet's refusal, the invoice expired, over the cap),
//!   keyed by `paidUntil` and attempt, while the account still waits;
//! - `auto-renew-broken`, once the wallet refused the connection for good,
//!   keyed by when.
//!
//! Invariant: the ordinary renewal reminders are silenced only while the
//! wallet is [`expected to pay`](WalletLink::expected_to_pay) this
//! `paidUntil`; after the last attempt they (and the expiry) follow.

use super::NoticeKind;
use crate::cpanel_account::CpanelAccount;
use crate::nwc::{LinkStatus, WalletLink};
use crate::plan::Plan;
use crate::timestamp::Timestamp;
use std::collections::BTreeMap;

/// What the planner knows of automatic renewal (`serve`'s flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewTiming {
    /// `--auto-renew-days`.
    pub days: u32,
    /// `--auto-renew-attempts`.
    pub attempts: u32,
}

impl Default for RenewTiming {
    fn default() -> RenewTiming {
        RenewTiming { days: 3, attempts: 3 }
    }
}

/// Whether the wallet is to pay the renewal from `paid_until`, so that the
/// ordinary reminders are not sent.
pub fn silences_reminders(link: Option<&WalletLink>, paid_until: Timestamp, timing: RenewTiming) -> bool {
    link.is_some_and(|l| l.expected_to_pay(paid_until, timing.attempts))
}

/// One planned notice of an account: kind, key suffix, fields.
pub type Due = (NoticeKind, String, BTreeMap<String, String>);

/// The automatic-renewal notices due for `account` at `now`.
pub fn due(
    account: &CpanelAccount,
    link: &WalletLink,
    plan: Option<&Plan>,
    (now, since): (Timestamp, Timestamp),
    timing: RenewTiming,
) -> Vec<Due> {
    let Some(paid_until) = account.paid_until else { return Vec::new() };
    let mut fields = BTreeMap::from([
        ("domain".to_owned(), account.domain.clone()),
        ("end_date".to_owned(), date(paid_until)),
        ("alias".to_owned(), link.alias.clone()),
    ]);
    let mut out = Vec::new();
    let first_at = crate::nwc::due_at(paid_until, timing.days);
    let soon = Timestamp::from(first_at.as_datetime() - chrono::Duration::days(1));
    let untried = link.attempts_for != Some(paid_until) && link.current.is_none();
    if link.status == LinkStatus::Connected && untried && now >= soon && now < first_at {
        let mut soon_fields = fields.clone();
        soon_fields.extend([
            ("date".to_owned(), date(first_at)),
            ("amount".to_owned(), amount(plan, link.periods)),
            ("cap".to_owned(), format!("{} sats", sats(link.cap_sats))),
            ("periods".to_owned(), periods(plan, link.periods)),
        ]);
        out.push((NoticeKind::AutoRenewSoon, paid_until.to_string(), soon_fields));
    }
    let Some(last) = link.last.as_ref().filter(|o| o.at >= since && o.paid_until == paid_until) else { return out };
    fields.insert("message".to_owned(), last.message.clone());
    match last.result.as_str() {
        "failed" | "skipped" => {
            let left = timing.attempts.saturating_sub(link.attempts);
            let next = match link.expected_to_pay(paid_until, timing.attempts) {
                true => format!("We will ask again on a later day ({left} more attempt(s) at most)."),
                false => {
                    format!("That was the last automatic attempt: please renew by hand before {}.", date(paid_until))
                }
            };
            fields.insert("next".to_owned(), next);
            out.push((NoticeKind::AutoRenewFailed, format!("{paid_until}:{}", last.attempt), fields));
        }
        "broken" if link.status == LinkStatus::Broken => {
            out.push((NoticeKind::AutoRenewBroken, last.at.to_string(), fields));
        }
        _ => {}
    }
    out
}

/// The renewal's price in the plan's currency (sats come from the rate of
/// the day the invoice is made).
fn amount(plan: Option<&Plan>, periods: u32) -> String {
    plan.and_then(|p| p.price_for(periods).ok().map(|price| format!("{price} {}", p.currency)))
        .unwrap_or_else(|| "the plan's price".to_owned())
}

fn periods(plan: Option<&Plan>, n: u32) -> String {
    let cycle = plan.map_or("billing", |p| p.billing_cycle.as_str());
    match n {
        1 => format!("one {cycle} period"),
        n => format!("{n} {cycle} periods"),
    }
}

/// `5123` as `5,123`.
pub fn sats(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn date(t: Timestamp) -> String {
    t.as_datetime().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpanel_account::AccountStatus;
    use crate::nwc::link::Outcome;
    use crate::nwc::wire::Encryption;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    const UNTIL: &str = "2026-02-10T00:00:00Z";
    const TIMING: RenewTiming = RenewTiming { days: 3, attempts: 2 };

    fn account() -> CpanelAccount {
        CpanelAccount {
            status: AccountStatus::Active,
            paid_until: Some(t(UNTIL)),
            ..CpanelAccount::provisioning("a", "shop", "shop.example", "c", "basic", t("2026-01-01T00:00:00Z"))
        }
    }

    fn link() -> WalletLink {
        WalletLink {
            id: "a".into(),
            customer_id: "c".into(),
            wallet_pubkey: "ab".repeat(32),
            client_pubkey: "cd".repeat(32),
            relay: "wss://relay.example".into(),
            alias: "Alby".into(),
            cap_sats: 12_345,
            periods: 3,
            encryption: Encryption::Nip44V2,
            status: LinkStatus::Connected,
            current: None,
            attempts: 0,
            attempts_for: None,
            next_attempt_at: None,
            last: None,
            requested: Vec::new(),
            created_at: t("2026-01-01T00:00:00Z"),
            updated_at: t("2026-01-01T00:00:00Z"),
        }
    }

    fn outcome(result: &str, attempt: u32, at: &str) -> Outcome {
        Outcome { at: t(at), result: result.into(), message: "QUOTA_EXCEEDED".into(), paid_until: t(UNTIL), attempt }
    }

    /// The seed plan, sold 1 or 3 periods at a time.
    fn plan() -> Plan {
        let prepay = [1, 3].map(|periods| crate::prepay::PrepayOption { periods, discount_percent: None });
        Plan { prepay: prepay.to_vec(), ..Plan::seed(t("2026-01-01T00:00:00Z")) }
    }

    fn keys(link: &WalletLink, now: &str) -> Vec<String> {
        let plan = plan();
        let since = t("2026-01-02T00:00:00Z");
        due(&account(), link, Some(&plan), (t(now), since), TIMING)
            .into_iter()
            .map(|(kind, key, _)| format!("{}:{key}", kind.as_str()))
            .collect()
    }

    #[test]
    fn the_day_before_the_first_attempt_the_customer_hears_once_what_will_be_paid() {
        let soon = format!("auto-renew-soon:{}", t(UNTIL));
        let tried = WalletLink { attempts_for: Some(t(UNTIL)), attempts: 1, ..link() };
        let broken = WalletLink { status: LinkStatus::Broken, ..link() };
        let cases: [(&WalletLink, &str, Vec<String>); 5] = [
            (&link(), "2026-02-05T23:59:59Z", vec![]),
            (&link(), "2026-02-06T00:00:00Z", vec![soon.clone()]),
            (&link(), "2026-02-07T00:00:00Z", vec![]),
            (&tried, "2026-02-06T12:00:00Z", vec![]),
            (&broken, "2026-02-06T12:00:00Z", vec![]),
        ];
        for (link, now, want) in cases {
            assert_eq!(keys(link, now), want, "{now} {:?}", link.status);
        }
        let plan = plan();
        let planned = due(&account(), &link(), Some(&plan), (t("2026-02-06T01:00:00Z"), t(UNTIL)), TIMING);
        let fields = &planned[0].2;
        assert_eq!(fields["cap"], "12,345 sats");
        assert_eq!(fields["date"], "2026-02-07");
        assert!(fields["periods"].starts_with("3 "), "{fields:?}");
        assert_eq!(fields["amount"], format!("{} {}", plan.price_for(3).unwrap(), plan.currency));
    }

    #[test]
    fn each_failed_attempt_and_a_broken_connection_is_told_once_and_only_for_this_period() {
        let failed = |attempt, attempts| WalletLink {
            attempts_for: Some(t(UNTIL)),
            attempts,
            last: Some(outcome("failed", attempt, "2026-02-07T01:00:00Z")),
            ..link()
        };
        let now = "2026-02-07T02:00:00Z";
        assert_eq!(keys(&failed(1, 1), now), [format!("auto-renew-failed:{}:1", t(UNTIL))]);
        assert_eq!(keys(&failed(2, 2), now), [format!("auto-renew-failed:{}:2", t(UNTIL))]);
        let old = WalletLink { last: Some(outcome("failed", 1, "2026-01-01T00:00:00Z")), ..failed(1, 1) };
        assert!(keys(&old, now).is_empty(), "before notices began");
        let renewed = CpanelAccount { paid_until: Some(t("2026-03-10T00:00:00Z")), ..account() };
        assert!(
            due(&renewed, &failed(1, 1), None, (t(now), t(UNTIL)), TIMING)
                .iter()
                .all(|d| d.0 != NoticeKind::AutoRenewFailed)
        );
        let paid = WalletLink { last: Some(outcome("paid", 1, "2026-02-07T01:00:00Z")), ..failed(1, 1) };
        assert!(keys(&paid, now).is_empty(), "the receipt tells a paid one");
        let broken = WalletLink {
            status: LinkStatus::Broken,
            last: Some(outcome("broken", 1, "2026-02-07T01:00:00Z")),
            ..failed(1, 1)
        };
        assert_eq!(keys(&broken, now), ["auto-renew-broken:2026-02-07T01:00:00Z"]);
        let next = |link: &WalletLink| {
            due(&account(), link, None, (t(now), t("2026-01-02T00:00:00Z")), TIMING)[0].2["next"].clone()
        };
        assert!(next(&failed(1, 1)).contains("1 more attempt"), "{}", next(&failed(1, 1)));
        assert!(next(&failed(2, 2)).contains("last automatic attempt"), "{}", next(&failed(2, 2)));
    }

    #[test]
    fn reminders_are_silenced_only_while_the_wallet_is_expected_to_pay() {
        let until = t(UNTIL);
        let spent = WalletLink { attempts_for: Some(until), attempts: 2, ..link() };
        let broken = WalletLink { status: LinkStatus::Broken, ..link() };
        let other = WalletLink { attempts_for: Some(t("2026-01-10T00:00:00Z")), attempts: 2, ..link() };
        let cases =
            [(None, false), (Some(link()), true), (Some(spent), false), (Some(broken), false), (Some(other), true)];
        for (link, silenced) in cases {
            assert_eq!(silences_reminders(link.as_ref(), until, TIMING), silenced, "{link:?}");
        }
    }

    #[test]
    fn sats_are_grouped_by_thousands() {
        for (n, text) in [(0, "0"), (999, "999"), (5_123, "5,123"), (1_000_000, "1,000,000"), (-12_345, "-12,345")] {
            assert_eq!(sats(n), text);
        }
    }
}
