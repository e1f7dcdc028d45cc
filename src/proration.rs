//! Plan changes in money: what a change of plan costs for the rest of a
//! paid period, and which kind of change it is.
//!
//! The rule (`../shared/reference/operations.md` §1.6), in whole minor units
//! of the currency (cents, sats of a BTC, whole `SAT`), with R the seconds
//! left of the period and L its length:
//! - **upgrade** (same cycle, higher price): `due = ceil(new·R/L) − floor(old·R/L)`,
//!   the renewal date unchanged;
//! - **cycle change** to a longer cycle (monthly → yearly): a new period
//!   starts now, `due = new − floor(old·R/L)`;
//! - anything else (a lower or equal price, a shorter cycle) waits for the
//!   next renewal: no money moves, so nothing is ever refunded.
//!
//! Invariants: integers only, multiplied before divided (in `i128`); the
//! credit is rounded down and the debit up, so the operator never loses a
//! fraction of a unit and the customer never pays more than one unit over
//! the exact figure. Nothing is converted between currencies: a change
//! between plans of different currencies is refused, because the rate would
//! have to be taken and recorded at the moment of the invoice, which hostr
//! does not do for plan changes.

use crate::money::{Currency, Money};
use crate::plan::{BillingCycle, Plan};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The paid period an account is in: `start` ≤ now < `end`, normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    /// Its length in whole seconds (L), at least 1.
    pub fn seconds(&self) -> i64 {
        (self.end.as_datetime() - self.start.as_datetime()).num_seconds().max(1)
    }

    /// The whole seconds left of it at `now` (R), from 0 to L.
    pub fn left_at(&self, now: Timestamp) -> i64 {
        (self.end.as_datetime() - now.as_datetime()).num_seconds().clamp(0, self.seconds())
    }
}

/// What kind of change moving from one plan to another is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// Higher price, same cycle: pay the difference now, same renewal date.
    Upgrade,
    /// To a longer cycle: a new period now, the old one's rest credited.
    CycleChange,
    /// Lower or equal price, or a shorter cycle: at the next renewal.
    Scheduled,
}

/// Why a change cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProrationError {
    SamePlan,
    /// hostr converts nothing: see the module's documentation.
    Currencies {
        from: Currency,
        to: Currency,
    },
    /// No time is left of the period: renew first.
    PeriodOver,
    /// An amount that is not whole units of its currency (a hand-edited file).
    NotWhole(Money),
}

impl fmt::Display for ProrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProrationError::SamePlan => f.write_str("the account already has this plan"),
            ProrationError::Currencies { from, to } => write!(
                f,
                "the plans are priced in different currencies ({from} and {to}); hostr does not convert between them"
            ),
            ProrationError::PeriodOver => f.write_str("the paid period is over: renew the account first"),
            ProrationError::NotWhole(amount) => write!(f, "{amount} is not a whole number of the currency's units"),
        }
    }
}

impl std::error::Error for ProrationError {}

/// The price of a change, with the figures that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proration {
    pub kind: ChangeKind,
    pub currency: Currency,
    /// What the unused rest of the old period is worth (rounded down).
    pub credit: Money,
    /// What the new plan costs for what is bought (rounded up).
    pub debit: Money,
    /// `debit − credit`, never below zero.
    pub due: Money,
    /// The new plan's price for a whole period: what the period is worth
    /// once the change is made (the credit of any later change).
    pub price: Money,
    pub remaining_seconds: i64,
    pub period_seconds: i64,
}

/// Which kind of change `from` → `to` is (price per day compared within
/// one cycle; a longer cycle is a cycle change whatever its price).
pub fn classify(from: &Plan, to: &Plan) -> Result<ChangeKind, ProrationError> {
    if from.id == to.id {
        return Err(ProrationError::SamePlan);
    }
    if from.currency != to.currency {
        return Err(ProrationError::Currencies { from: from.currency.clone(), to: to.currency.clone() });
    }
    Ok(match (from.billing_cycle, to.billing_cycle) {
        (BillingCycle::Monthly, BillingCycle::Yearly) => ChangeKind::CycleChange,
        (BillingCycle::Yearly, BillingCycle::Monthly) => ChangeKind::Scheduled,
        _ if to.price > from.price => ChangeKind::Upgrade,
        _ => ChangeKind::Scheduled,
    })
}

/// The price of changing at `now` from a period valued at `old` to the
/// plan priced `new` (both in `currency`), by the rule of `kind`.
pub fn price(
    kind: ChangeKind,
    old: Money,
    new: Money,
    currency: &Currency,
    period: Period,
    now: Timestamp,
) -> Result<Proration, ProrationError> {
    let decimals = currency.decimals();
    let minor = |amount: Money| amount.minor(decimals).ok_or(ProrationError::NotWhole(amount));
    let (old_minor, new_minor) = (i128::from(minor(old)?), i128::from(minor(new)?));
    let (left, length) = (period.left_at(now), period.seconds());
    if left == 0 && kind != ChangeKind::Scheduled {
        return Err(ProrationError::PeriodOver);
    }
    let (r, l) = (i128::from(left), i128::from(length));
    let credit = match kind {
        ChangeKind::Scheduled => 0,
        _ => old_minor * r / l,
    };
    let debit = match kind {
        ChangeKind::Upgrade => (new_minor * r + l - 1) / l,
        ChangeKind::CycleChange => new_minor,
        ChangeKind::Scheduled => 0,
    };
    let money = |units: i128| {
        let units = i64::try_from(units).map_err(|_| ProrationError::NotWhole(new))?;
        Money::from_minor(units, decimals).map_err(|_| ProrationError::NotWhole(new))
    };
    Ok(Proration {
        kind,
        currency: currency.clone(),
        credit: money(credit)?,
        debit: money(debit)?,
        due: money((debit - credit).max(0))?,
        price: new,
        remaining_seconds: left,
        period_seconds: length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn period(start: &str, end: &str) -> Period {
        Period { start: t(start), end: t(end) }
    }

    fn plan(id: &str, price: &str, currency: &str, cycle: BillingCycle) -> Plan {
        Plan {
            id: id.into(),
            price: price.parse().unwrap(),
            currency: currency.parse().unwrap(),
            billing_cycle: cycle,
            ..Plan::seed(t("2026-01-01T00:00:00Z"))
        }
    }

    #[test]
    fn upgrades_pay_the_rounded_difference_for_the_time_left() {
        use ChangeKind::{CycleChange, Upgrade};
        let year26 = period("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        let leap = period("2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z");
        let feb_leap = period("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z");
        let month = period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
        // (kind, old, new, currency, period, now, credit, debit, due)
        let cases = [
            // The reference's worked example: 183 of 365 days left.
            (Upgrade, "60", "120", "USD", year26, "2026-07-02T00:00:00Z", "30.08", "60.17", "30.09"),
            // A leap year has 366 days: the same date leaves 183 of 366.
            (Upgrade, "60", "120", "USD", leap, "2028-07-02T00:00:00Z", "30", "60", "30"),
            // The first second of a period: the whole difference.
            (Upgrade, "5", "12.5", "USD", month, "2026-03-01T00:00:00Z", "5", "12.5", "7.5"),
            // One second left: the old credit rounds to nothing, the new debit up to one cent.
            (Upgrade, "5", "12.5", "USD", month, "2026-03-31T23:59:59Z", "0", "0.01", "0.01"),
            // February of a leap year is 29 days; half of it is 14.5 days.
            (Upgrade, "29", "58", "EUR", feb_leap, "2028-02-15T12:00:00Z", "14.5", "29", "14.5"),
            // Whole sats of a BTC price: 0.0001 BTC = 10,000 sats; a third left.
            (
                Upgrade,
                "0.0001",
                "0.0002",
                "BTC",
                period("2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"),
                "2026-01-03T00:00:00Z",
                "0.00003333",
                "0.00006667",
                "0.00003334",
            ),
            // Whole SAT prices never gain decimals.
            (
                Upgrade,
                "1000",
                "2000",
                "SAT",
                period("2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"),
                "2026-01-03T00:00:00Z",
                "333",
                "667",
                "334",
            ),
            // Monthly → yearly halfway through March: the year's price less half a month.
            (CycleChange, "5", "50", "USD", month, "2026-03-16T12:00:00Z", "2.5", "50", "47.5"),
        ];
        for (kind, old, new, code, period, now, credit, debit, due) in cases {
            let currency: Currency = code.parse().unwrap();
            let got = price(kind, old.parse().unwrap(), new.parse().unwrap(), &currency, period, t(now)).unwrap();
            let money = |s: &str| s.parse::<Money>().unwrap();
            assert_eq!(
                (got.credit, got.debit, got.due),
                (money(credit), money(debit), money(due)),
                "{old}→{new} {now}"
            );
            assert!(got.remaining_seconds <= got.period_seconds);
        }
    }

    #[test]
    fn the_operator_loses_nothing_and_the_customer_at_most_one_unit() {
        let month = period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
        let usd = Currency::usd();
        for second in (0..month.seconds()).step_by(7919) {
            let now = Timestamp::from(month.start.as_datetime() + chrono::Duration::seconds(second));
            let got = price(ChangeKind::Upgrade, "7.99".parse().unwrap(), "19.99".parse().unwrap(), &usd, month, now)
                .unwrap();
            // Exact difference in cent-seconds: 1200 · R / L.
            let (r, l) = (i128::from(month.left_at(now)), i128::from(month.seconds()));
            let due = i128::from(got.due.minor(2).unwrap()) * l;
            assert!(due >= 1200 * r && due <= 1200 * r + 2 * l, "at {now}: {}", got.due);
        }
    }

    #[test]
    fn no_time_left_or_mixed_currencies_or_the_same_plan_are_refused() {
        let month = period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
        let usd = Currency::usd();
        let (five, ten) = ("5".parse().unwrap(), "10".parse().unwrap());
        for now in ["2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"] {
            assert_eq!(
                price(ChangeKind::Upgrade, five, ten, &usd, month, t(now)),
                Err(ProrationError::PeriodOver),
                "{now}"
            );
        }
        let scheduled = price(ChangeKind::Scheduled, ten, five, &usd, month, t("2026-04-01T00:00:00Z")).unwrap();
        assert_eq!(scheduled.due, Money::default(), "a scheduled change costs nothing now");
        let odd = "0.005".parse().unwrap();
        assert_eq!(price(ChangeKind::Upgrade, odd, ten, &usd, month, month.start), Err(ProrationError::NotWhole(odd)));

        use BillingCycle::{Monthly, Yearly};
        let basic = plan("basic", "5", "USD", Monthly);
        let cases = [
            (plan("pro", "10", "USD", Monthly), Ok(ChangeKind::Upgrade)),
            (plan("mini", "2", "USD", Monthly), Ok(ChangeKind::Scheduled)),
            (plan("same", "5", "USD", Monthly), Ok(ChangeKind::Scheduled)),
            (plan("basic-y", "50", "USD", Yearly), Ok(ChangeKind::CycleChange)),
            (plan("cheap-y", "1", "USD", Yearly), Ok(ChangeKind::CycleChange)),
            (
                plan("pro-eur", "10", "EUR", Monthly),
                Err(ProrationError::Currencies { from: usd, to: "EUR".parse().unwrap() }),
            ),
            (basic.clone(), Err(ProrationError::SamePlan)),
        ];
        for (to, expected) in cases {
            assert_eq!(classify(&basic, &to), expected, "basic → {}", to.id);
        }
        assert_eq!(
            classify(&plan("y", "50", "USD", Yearly), &basic),
            Ok(ChangeKind::Scheduled),
            "a shorter cycle waits"
        );
    }
}
