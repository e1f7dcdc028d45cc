//! Exact amounts of money.
//!
//! A price is held as a whole number of cents (`i64`), never as a float, so
//! that adding, comparing and storing amounts is exact. In JSON an amount is
//! a plain number with at most two decimals (`10`, `10.5`, `10.05`), which is
//! what an operator expects to type into a plan file.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;
use std::str::FromStr;

/// The largest amount accepted: ten billion units. Keeping amounts below
/// 10^13 cents means every amount has at most 15 significant digits, so the
/// JSON number printed for it reads back as exactly the same decimal.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// A non-negative amount with two decimal places, in some currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    cents: i64,
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
    pub fn from_cents(cents: i64) -> Result<Money, MoneyError> {
        if !(0..=MAX_CENTS).contains(&cents) {
            return Err(MoneyError(format!("amount must be between 0 and {}", MAX_CENTS / 100)));
        }
        Ok(Money { cents })
    }

    pub fn cents(self) -> i64 {
        self.cents
    }

    /// The amount with exactly two decimals, as payment APIs want it: `5.00`.
    pub fn to_fixed_2(self) -> String {
        format!("{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses a plain decimal such as `10`, `10.5` or `10.05`.
    fn from_str(text: &str) -> Result<Money, MoneyError> {
        let bad = || {
            MoneyError(format!("`{text}` is not an amount: use a number with at most 2 decimals, such as 10 or 10.50"))
        };
        let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if units.is_empty() || units.len() > 13 || !all_digits(units) || !all_digits(fraction) {
            return Err(bad());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(bad());
        }
        // Trailing zeros beyond two decimals (10.500) still name an exact cent amount.
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 2 {
            return Err(bad());
        }
        let units: i64 = units.parse().map_err(|_| bad())?;
        let fraction_cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        Money::from_cents(units * 100 + fraction_cents)
    }
}

impl fmt::Display for Money {
    /// The shortest exact decimal: `10`, `10.5`, `10.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (units, cents) = (self.cents / 100, self.cents % 100);
        match cents {
            0 => write!(f, "{units}"),
            c if c % 10 == 0 => write!(f, "{units}.{}", c / 10),
            c => write!(f, "{units}.{c:02}"),
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.cents % 100 == 0 {
            return serializer.serialize_i64(self.cents / 100);
        }
        // serde_json can only print a fractional number from an f64. The f64
        // nearest to a decimal of at most 15 significant digits prints back as
        // that very decimal (shortest round-trip formatting), so this is a
        // change of representation, not arithmetic.
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
                f.write_str("a number with at most 2 decimals, such as 10 or 10.5")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.to_string().parse().map_err(E::custom)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                // `Display` for f64 prints the shortest decimal that reads back
                // as the same f64: for `10.05` in the file that is "10.05",
                // which is then parsed exactly. `10.005` stays "10.005" and is
                // refused for having three decimals.
                if !v.is_finite() {
                    return Err(E::custom("amount must be a finite number"));
                }
                format!("{v}").parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(MoneyVisitor)
    }
}

/// An ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Currency(String);

impl Currency {
    pub fn usd() -> Currency {
        Currency("USD".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
            Err(MoneyError(format!("`{code}` is not a currency code: use three capital letters such as USD")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_exactly() {
        for (text, cents) in
            [("10", 1000), ("10.5", 1050), ("10.05", 1005), ("0.01", 1), ("10.50", 1050), ("10.500", 1050), ("0", 0)]
        {
            assert_eq!(text.parse::<Money>().unwrap().cents(), cents, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_exact_cent_amount() {
        for text in ["", ".5", "10.", "10.005", "-1", "1e3", "ten", "10,5", " 10", "99999999999999"] {
            assert!(text.parse::<Money>().is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn prints_the_shortest_exact_decimal() {
        for (cents, text) in [(1000, "10"), (1050, "10.5"), (1005, "10.05"), (1, "0.01")] {
            assert_eq!(Money::from_cents(cents).unwrap().to_string(), text);
        }
    }

    #[test]
    fn json_numbers_round_trip_without_drift() {
        for json in ["10", "10.5", "10.05", "0.1", "0.07", "1234567890.99", "9999999999.99"] {
            let money: Money = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&money).unwrap(), json);
        }
        assert!(serde_json::from_str::<Money>("10.005").is_err());
        assert!(serde_json::from_str::<Money>("\"10\"").is_err());
        assert!(serde_json::from_str::<Money>("-5").is_err());
    }

    #[test]
    fn currency_codes_are_three_capitals() {
        assert!("USD".parse::<Currency>().is_ok());
        for bad in ["usd", "US", "USDT", "U$D", ""] {
            assert!(bad.parse::<Currency>().is_err(), "{bad}");
        }
    }
}
