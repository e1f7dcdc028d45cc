//! Receipts: the numbered, signed record that a payment was received, kept
//! in the payment it belongs to, and the counter of each number series.
//!
//! Invariants: a receipt is written into its payment once and never
//! changed; its number comes from its series' counter (`ReceiptSeries`) at
//! the moment it is issued, after the payment became PAID, so unpaid
//! payments never consume a number and the series has no gaps; no two
//! payments hold one number of a series (a unique index key of `Payment`).
//! Seller and buyer are copied into the receipt when it is issued, so later
//! edits of the settings or the profile do not rewrite history. The signed
//! Nostr event (`event`) states the same facts; how it is built and signed
//! is `crate::receipts`' business.

use crate::ids::IdFormat;
use crate::money::{Currency, Money};
use crate::store::{Collection, Invalid, Record};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// The Nostr kind of a receipt event: a regular (stored, never replaced)
/// kind, unregistered in the NIPs' list and registry-of-kinds (docs/RECEIPTS.md).
pub const RECEIPT_KIND: u16 = 8110;

/// The series of receipts for real money.
pub const MAIN_SERIES: &str = "main";
/// The series of sandbox payments, apart so that a test never takes a
/// number of the real series.
pub const SANDBOX_SERIES: &str = "sandbox";

/// The operator's business, as printed on receipts (all optional:
/// without them a receipt is a simplified one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    pub name: Option<String>,
    pub address: Option<String>,
    pub vat_id: Option<String>,
    /// Said instead of a VAT line, such as a small-business exemption.
    pub vat_note: Option<String>,
}

/// The customer as they were when they paid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// 64 lowercase hex digits.
    pub public_key: String,
    pub npub: String,
    /// Their Nostr display name (or name), as last verified.
    pub name: Option<String>,
    pub email: Option<String>,
    /// Only when the server verified it.
    pub nip05: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub series: String,
    pub number: u64,
    /// The number as printed: `000042`, or `SANDBOX-000001`.
    pub label: String,
    /// When the payment was received (the payment's `paidAt`).
    pub issued_at: Timestamp,
    pub seller: Seller,
    pub buyer: Buyer,
    pub plan_id: String,
    pub plan_name: String,
    pub domain: Option<String>,
    pub amount: Money,
    pub currency: Currency,
    /// What the Lightning invoice asked for, when there was one.
    pub amount_msat: Option<u64>,
    /// Units of `currency` per bitcoin that the invoice implies.
    pub rate: Option<String>,
    /// "Lightning" or "Other means (recorded by the operator)".
    pub method: String,
    pub payment_hash: Option<String>,
    /// How many billing periods the payment bought at once (receipts from
    /// before prepaying existed: one).
    #[serde(default = "one_period")]
    pub periods: u32,
    /// The period paid for, as known when the payment was received.
    pub period_start: Option<Timestamp>,
    pub period_end: Option<Timestamp>,
    /// The event id of the account's previous receipt in this series.
    pub previous: Option<String>,
    /// The signed Nostr event (NIP-01 JSON) stating all of the above.
    pub event: serde_json::Value,
}

fn one_period() -> u32 {
    1
}

/// Why a payment's receipt could not be issued yet; tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptFailure {
    pub reason: String,
    pub at: Timestamp,
    pub attempts: u32,
}

/// The counter of one series: the last number it gave out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptSeries {
    pub id: String,
    pub last_number: u64,
    pub updated_at: Timestamp,
}

impl Record for ReceiptSeries {
    const COLLECTION: Collection =
        Collection { folder: "receipt-series", noun: "receipt series", id_format: IdFormat::Slug };

    fn id(&self) -> &str {
        &self.id
    }
}

/// How number `number` of `series` is printed.
pub fn label(series: &str, number: u64) -> String {
    match series {
        MAIN_SERIES => format!("{number:06}"),
        other => format!("{}-{number:06}", other.to_uppercase()),
    }
}

/// Units of `currency` per bitcoin when `amount` bought `msat`, to the cent
/// (rounded down); `None` without an amount in msat.
pub fn implied_rate(amount: Money, msat: Option<u64>) -> Option<String> {
    let msat = u128::from(msat.filter(|m| *m > 0)?);
    let cents = u128::try_from(amount.minor(2)?).ok()? * crate::bolt11::MSAT_PER_BTC / msat;
    Some(format!("{}.{:02}", cents / 100, cents % 100))
}

/// `amount` with the decimals of `currency`: `5.00` USD, `0.00050000` BTC, `50000` SAT.
pub fn fixed(amount: Money, currency: &Currency) -> String {
    amount.to_fixed(currency.decimals()).unwrap_or_else(|| amount.to_string())
}

impl Receipt {
    /// The rules a receipt in a file must keep.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !IdFormat::Slug.accepts(&self.series) {
            return Err(Invalid::new("receipt", "`series` must be a slug"));
        }
        if self.number == 0 || self.label != label(&self.series, self.number) {
            return Err(Invalid::new("receipt", "`number` must be 1 or more and `label` must print it"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_padded_with_their_series() {
        let cases =
            [(MAIN_SERIES, 1, "000001"), (MAIN_SERIES, 1_234_567, "1234567"), (SANDBOX_SERIES, 42, "SANDBOX-000042")];
        for (series, number, want) in cases {
            assert_eq!(label(series, number), want);
        }
    }

    #[test]
    fn the_rate_is_what_the_invoice_implies_to_the_cent() {
        let usd = |cents| Money::from_cents(cents).unwrap();
        let cases = [
            (usd(500), Some(5_000_000), Some("100000.00")),
            (usd(500), Some(8_450_000), Some("59171.59")),
            (usd(1), Some(1), Some("1000000000.00")),
            (usd(500), Some(0), None),
            (usd(500), None, None),
        ];
        for (amount, msat, want) in cases {
            assert_eq!(implied_rate(amount, msat).as_deref(), want, "{amount} for {msat:?} msat");
        }
    }
}
