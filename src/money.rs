//! Exact amounts of money.
//!
//! An amount is held as a whole number of hundred-millionths of its
//! currency's unit (`i64`), never as a float, so that adding, comparing and
//! storing amounts is exact for every currency hostr sells in: cents of a
//! fiat currency, satoshis of a bitcoin (one hundred-millionth of a BTC) and
//! whole sats. How many decimals an amount may have is its currency's rule
//! ([`Currency::decimals`]: 2 for fiat, 8 for `BTC`, 0 for `SAT`), checked
//! by [`Currency::check`] where a price meets its currency (plans, payments).
//!
//! In JSON an amount is a plain number (`10`, `10.5`, `0.0005`), which is
//! what an operator expects to type into a plan file. Invariant: every
//! amount has at most 15 significant digits (at most 10^10 units; below
//! 10^7 units when it has digits finer than a cent), so the JSON number
//! printed for it reads back as exactly the same decimal.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;
use std::str::FromStr;

/// Hundred-millionths in one unit: the finest step of any amount.
const SCALE: i64 = 100_000_000;
/// The largest amount accepted: ten billion units.
const MAX: i64 = 10_000_000_000 * SCALE;
/// The largest amount with digits finer than a cent (15 significant digits).
const MAX_FINE: i64 = 10_000_000 * SCALE;
/// Hundred-millionths in one cent.
const CENT: i64 = SCALE / 100;

/// A non-negative amount with up to eight decimal places, in some currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    e8: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError(String);

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// `minor` units of `decimals` decimals: `from_minor(1050, 2)` is 10.50,
    /// `from_minor(50_000, 8)` is 0.0005 (50,000 sats of a BTC).
    pub fn from_minor(minor: i64, decimals: u32) -> Result<Money, MoneyError> {
        let out_of_range = || MoneyError("amount must be between 0 and 10000000000".to_owned());
        let step = 10i64.checked_pow(8u32.checked_sub(decimals).ok_or_else(out_of_range)?).ok_or_else(out_of_range)?;
        Money::from_e8(minor.checked_mul(step).ok_or_else(out_of_range)?)
    }

    pub fn from_cents(cents: i64) -> Result<Money, MoneyError> {
        Money::from_minor(cents, 2)
    }

    fn from_e8(e8: i64) -> Result<Money, MoneyError> {
        if !(0..=MAX).contains(&e8) {
            return Err(MoneyError("amount must be between 0 and 10000000000".to_owned()));
        }
        if e8 % CENT != 0 && e8 >= MAX_FINE {
            return Err(MoneyError("an amount with more than 2 decimals must be below 10000000".to_owned()));
        }
        Ok(Money { e8 })
    }

    /// The amount in whole minor units of `decimals` decimals (cents for 2,
    /// sats of a BTC for 8), or `None` when it has finer digits than that.
    pub fn minor(self, decimals: u32) -> Option<i64> {
        let step = 10i64.checked_pow(8u32.checked_sub(decimals)?)?;
        (self.e8 % step == 0).then_some(self.e8 / step)
    }

    /// How many decimals the amount needs (0 to 8).
    pub fn decimals(self) -> u32 {
        (0..=8).find(|&d| self.minor(d).is_some()).unwrap_or(8)
    }

    /// The amount with exactly `decimals` decimals, as payment APIs want it
    /// (`5.00`, `0.00050000`); `None` when that would round it.
    pub fn to_fixed(self, decimals: u32) -> Option<String> {
        let minor = self.minor(decimals)?;
        if decimals == 0 {
            return Some(minor.to_string());
        }
        let step = 10i64.pow(decimals);
        Some(format!("{}.{:0width$}", minor / step, minor % step, width = decimals as usize))
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses a plain decimal such as `10`, `10.5`, `10.05` or `0.00012345`.
    fn from_str(text: &str) -> Result<Money, MoneyError> {
        let bad = || {
            MoneyError(format!(
                "`{text}` is not an amount: use a number with at most 8 decimals, such as 10, 10.50 or 0.0005"
            ))
        };
        let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if units.is_empty() || units.len() > 13 || !all_digits(units) || !all_digits(fraction) {
            return Err(bad());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(bad());
        }
        // Trailing zeros beyond eight decimals (0.000500000) still name an exact amount.
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 8 {
            return Err(bad());
        }
        let units: i64 = units.parse().map_err(|_| bad())?;
        let fraction: i64 = format!("{fraction:0<8}").parse().map_err(|_| bad())?;
        Money::from_e8(units.checked_mul(SCALE).and_then(|u| u.checked_add(fraction)).ok_or_else(bad)?)
    }
}

impl fmt::Display for Money {
    /// The shortest exact decimal: `10`, `10.5`, `10.05`, `0.0005`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (units, fraction) = (self.e8 / SCALE, self.e8 % SCALE);
        if fraction == 0 {
            return write!(f, "{units}");
        }
        let digits = format!("{fraction:08}");
        write!(f, "{units}.{}", digits.trim_end_matches('0'))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.e8 % SCALE == 0 {
            return serializer.serialize_i64(self.e8 / SCALE);
        }
        // serde_json can only print a fractional number from an f64. The f64
        // nearest to a decimal of at most 15 significant digits (which every
        // amount is, see the module's invariant) prints back as that very
        // decimal (shortest round-trip formatting), so this is a change of
        // representation, not arithmetic.
        let nearest: f64 = self.to_string().parse().map_err(serde::ser::Error::custom)?;
        serializer.serialize_f64(nearest)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct MoneyVisitor;

        impl de::Visitor<'_> for MoneyVisitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number with at most 8 decimals, such as 10, 10.5 or 0.0005")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                // `Display` for f64 prints the shortest decimal that reads back
                // as the same f64, never with an exponent: for `10.05` (or
                // `5e-4`) in the file that is "10.05" ("0.0005"), which is then
                // parsed exactly. `10.000000005` stays itself and is refused
                // for having nine decimals.
                if !v.is_finite() {
                    return Err(E::custom("amount must be a finite number"));
                }
                format!("{v}").parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(MoneyVisitor)
    }
}

/// A currency code: ISO 4217 such as `USD`, `BTC`, or `SAT` (whole sats,
/// invoiced as `BTC`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Currency(String);

impl Currency {
    pub fn usd() -> Currency {
        Currency("USD".to_owned())
    }

    pub fn btc() -> Currency {
        Currency("BTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many decimals an amount in this currency may have: 8 for `BTC`
    /// (down to the sat), 0 for `SAT`, 2 for every other (fiat) currency.
    pub fn decimals(&self) -> u32 {
        match self.0.as_str() {
            "BTC" => 8,
            "SAT" => 0,
            _ => 2,
        }
    }

    /// Bitcoin itself (`BTC`, `SAT`) rather than a currency converted to it.
    pub fn is_bitcoin(&self) -> bool {
        matches!(self.0.as_str(), "BTC" | "SAT")
    }

    /// Whether `amount` is a whole number of this currency's smallest unit,
    /// in words for the operator when it is not.
    pub fn check(&self, amount: Money) -> Result<(), String> {
        if amount.minor(self.decimals()).is_some() {
            return Ok(());
        }
        Err(match self.decimals() {
            0 => format!("{amount} is not a whole number of {self}: {self} amounts have no decimals"),
            d => format!("{amount} {self} has {} decimals; {self} amounts have at most {d}", amount.decimals()),
        })
    }

    /// The amount and currency an invoice is issued in: sats become the
    /// same amount of `BTC` (50,000 SAT is 0.0005 BTC), since payment
    /// providers invoice bitcoin in BTC; every other currency is itself.
    pub fn invoiced(&self, amount: Money) -> (Money, Currency) {
        if self.0 == "SAT" {
            // A whole number of sats is exactly that many hundred-millionths of a BTC.
            return (Money { e8: amount.e8 / SCALE }, Currency::btc());
        }
        (amount, self.clone())
    }

    /// The sats `amount` of this currency is, when it is bitcoin.
    pub fn sats(&self, amount: Money) -> Option<i64> {
        match self.0.as_str() {
            "BTC" => amount.minor(8),
            "SAT" => amount.minor(0),
            _ => None,
        }
    }
}

impl Default for Currency {
    fn default() -> Currency {
        Currency::usd()
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Currency, MoneyError> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(code.to_owned()))
        } else {
            Err(MoneyError(format!(
                "`{code}` is not a currency code: use three capital letters such as USD, or BTC or SAT"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(de::Error::custom)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The exchange rate a quote was made at: one `source` (BTC) is `amount`
/// of `target` (the invoice's currency), as the provider said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRate {
    pub amount: Money,
    pub source_currency: Currency,
    pub target_currency: Currency,
}

/// The whole sats that buy `amount` of a currency at `rate` (that
/// currency's price of one BTC), rounded up so the amount is never short;
/// `None` for a zero rate, or more sats than there can be.
pub fn sats_at_rate(amount: Money, rate: Money) -> Option<i64> {
    if rate.e8 == 0 {
        return None;
    }
    let wanted = i128::from(amount.e8) * i128::from(SCALE);
    let sats = (wanted + i128::from(rate.e8) - 1) / i128::from(rate.e8);
    i64::try_from(sats).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_plain_decimals_exactly() {
        for (text, minor, decimals) in [
            ("10", 1000, 2),
            ("10.5", 1050, 2),
            ("10.05", 1005, 2),
            ("0.01", 1, 2),
            ("10.50", 1050, 2),
            ("10.500", 1050, 2),
            ("0", 0, 2),
            ("0.0005", 50_000, 8),
            ("0.00000001", 1, 8),
            ("0.000500000", 50_000, 8),
            ("21000", 21_000, 0),
            ("9999999.99999999", 999_999_999_999_999, 8),
            ("10000000000", 10_000_000_000, 0),
        ] {
            assert_eq!(money(text).minor(decimals), Some(minor), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        for text in [
            "",
            ".5",
            "10.",
            "0.000000001",
            "-1",
            "1e3",
            "ten",
            "10,5",
            " 10",
            "99999999999999",
            "10000000000.01",
            "10000000.00000001",
            // Past i64 once the fraction is added: refused, never a panic.
            "92233720368.99999999",
        ] {
            assert!(text.parse::<Money>().is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn prints_the_shortest_exact_decimal_and_fixed_decimals_for_payment_apis() {
        for (text, shortest, two, eight, zero) in [
            ("10", "10", Some("10.00"), Some("10.00000000"), Some("10")),
            ("10.5", "10.5", Some("10.50"), Some("10.50000000"), None),
            ("0.01", "0.01", Some("0.01"), Some("0.01000000"), None),
            ("0.0005", "0.0005", None, Some("0.00050000"), None),
            ("0.00000001", "0.00000001", None, Some("0.00000001"), None),
        ] {
            let amount = money(text);
            assert_eq!(amount.to_string(), shortest);
            assert_eq!(amount.to_fixed(2).as_deref(), two, "{text} with 2 decimals");
            assert_eq!(amount.to_fixed(8).as_deref(), eight, "{text} with 8 decimals");
            assert_eq!(amount.to_fixed(0).as_deref(), zero, "{text} with none");
        }
    }

    #[test]
    fn json_numbers_round_trip_without_drift() {
        for json in [
            "10",
            "10.5",
            "10.05",
            "0.1",
            "0.07",
            "1234567890.99",
            "9999999999.99",
            "0.0005",
            "0.12345678",
            "9999999.99999999",
        ] {
            let money: Money = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&money).unwrap(), json);
        }
        // Small amounts may come back in exponent form (still the same decimal).
        for json in ["0.00001234", "0.00000001"] {
            let money: Money = serde_json::from_str(json).unwrap();
            let again: Money = serde_json::from_str(&serde_json::to_string(&money).unwrap()).unwrap();
            assert_eq!(again, money, "{json}");
        }
        assert!(serde_json::from_str::<Money>("10.000000005").is_err());
        assert!(serde_json::from_str::<Money>("\"10\"").is_err());
        assert!(serde_json::from_str::<Money>("-5").is_err());
    }

    #[test]
    fn each_currency_has_its_own_decimals() {
        for (code, text, ok) in [
            ("USD", "10.50", true),
            ("USD", "10.005", false),
            ("EUR", "0.01", true),
            ("BTC", "0.00012345", true),
            ("BTC", "1", true),
            ("SAT", "21000", true),
            ("SAT", "21000.5", false),
            ("SAT", "0.1", false),
        ] {
            let currency: Currency = code.parse().unwrap();
            assert_eq!(currency.check(money(text)).is_ok(), ok, "{text} {code}");
        }
        let why = Currency::usd().check(money("10.005")).unwrap_err();
        assert!(why.contains("at most 2"), "{why}");
        let why = "SAT".parse::<Currency>().unwrap().check(money("1.5")).unwrap_err();
        assert!(why.contains("no decimals"), "{why}");
    }

    #[test]
    fn sats_are_invoiced_as_the_same_amount_of_btc() {
        let sat: Currency = "SAT".parse().unwrap();
        for (sats, btc) in [("50000", "0.0005"), ("1", "0.00000001"), ("100000000", "1"), ("0", "0")] {
            assert_eq!(sat.invoiced(money(sats)), (money(btc), Currency::btc()), "{sats} sats");
            assert_eq!(sat.sats(money(sats)), Currency::btc().sats(money(btc)));
        }
        assert_eq!(Currency::usd().invoiced(money("5")), (money("5"), Currency::usd()));
        assert_eq!(Currency::usd().sats(money("5")), None);
    }

    #[test]
    fn sats_at_a_rate_are_rounded_up_to_never_fall_short() {
        for (amount, rate, sats) in [
            ("5", "100000", Some(5_000)),
            ("5", "67482.38", Some(7_410)),
            ("59", "67482.38", Some(87_431)),
            ("0.01", "100000", Some(10)),
            ("10000000000", "0.01", None),
            ("5", "0", None),
        ] {
            assert_eq!(sats_at_rate(money(amount), money(rate)), sats, "{amount} at {rate}");
        }
    }

    #[test]
    fn currency_codes_are_three_capitals() {
        for good in ["USD", "BTC", "SAT"] {
            assert!(good.parse::<Currency>().is_ok(), "{good}");
        }
        for bad in ["usd", "US", "USDT", "U$D", "", "sat"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad}");
        }
    }
}
