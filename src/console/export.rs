//! A month's payments as CSV for the accountant, pure apart from looking up
//! each customer's key: one row per PAID payment whose `paidAt` falls in
//! the month (UTC), oldest first. Fields are quoted when they hold a comma,
//! a quote or a line break (RFC 4180), and a field that a spreadsheet would
//! run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.

use crate::customer::{Customer, npub};
use crate::payment::{Payment, PaymentState};
use crate::store::Store;
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use std::fmt;

pub const HEADER: &str = "receipt,date,customer_npub,plan,amount,currency,sats,rate";

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let month = Month { year: year.parse().ok()?, month: month.parse().ok()? };
        NaiveDate::from_ymd_opt(month.year, month.month, 1).map(|_| month)
    }

    pub fn of(time: crate::timestamp::Timestamp) -> Month {
        let date = time.as_datetime();
        Month { year: date.year(), month: date.month() }
    }

    /// The month before this one.
    pub fn previous(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One field, quoted when needed and defused against formulas.
pub fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

/// The row of one payment; `npub` is its customer's key.
pub fn row(payment: &Payment, npub: &str) -> String {
    let receipt = payment.receipt.as_ref();
    let sats = payment.quote_sats.or_else(|| receipt?.amount_msat.map(|m| (m / 1000) as i64));
    let rate =
        receipt.and_then(|r| r.rate.clone()).or_else(|| payment.quote_rate.as_ref().map(|r| r.amount.to_string()));
    let date = payment.paid_at.map(|t| t.to_string()).unwrap_or_default();
    let cells = [
        receipt.map(|r| r.label.clone()).unwrap_or_default(),
        date,
        npub.to_owned(),
        payment.plan_id.clone(),
        payment.amount.to_fixed(payment.currency.decimals()).unwrap_or_else(|| payment.amount.to_string()),
        payment.currency.to_string(),
        sats.map(|s| s.to_string()).unwrap_or_default(),
        rate.unwrap_or_default(),
    ];
    cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",")
}

/// The CSV of `month`'s paid payments, header first, lines ending in CRLF.
pub fn payments_csv(store: &Store, payments: &[Payment], month: Month) -> String {
    let mut paid: Vec<&Payment> = payments
        .iter()
        .filter(|p| p.state == PaymentState::Paid && p.paid_at.is_some_and(|t| Month::of(t) == month))
        .collect();
    paid.sort_by_key(|p| (p.paid_at, p.id.clone()));
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut csv = format!("{HEADER}\r\n");
    for payment in paid {
        let key = keys.entry(payment.customer_id.clone()).or_insert_with(|| {
            store.get::<Customer>(&payment.customer_id).ok().and_then(|c| npub(&c.public_key)).unwrap_or_default()
        });
        csv.push_str(&row(payment, key));
        csv.push_str("\r\n");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_exactly_and_step_back_over_new_year() {
        let cases = [("2026-01", Some((2026, 1))), ("2026-13", None), ("26-01", None), ("2026-1", None), ("", None)];
        for (text, want) in cases {
            assert_eq!(Month::parse(text).map(|m| (m.year, m.month)), want, "{text}");
        }
        assert_eq!(Month::parse("2026-01").unwrap().previous().to_string(), "2025-12");
    }

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let cases = [("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("=1+1", "'=1+1")];
        for (text, want) in cases {
            assert_eq!(field(text), want);
        }
    }
}
