//! Prepaying: how many billing periods one purchase or renewal may buy at
//! once, and at what price.
//!
//! A plan lists its choices (`prepay`, e.g. `[{"periods": 1}, {"periods":
//! 12, "discountPercent": 10}]`); a plan file without the field offers one
//! period only, as before. Invariants: a choice is 1, 3, 6 or 12 periods,
//! each at most once; a discount is a whole percent from 1 to 99; the price
//! of N periods is computed here and nowhere else, exactly, in the plan
//! currency's smallest unit: `floor(price × N × (100 − discount) / 100)`.
//! Rounding down is in the customer's favour by less than one cent (or sat),
//! so a discount never gives less than it says. Nothing here knows the
//! store, HTTP or the clock.

use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The numbers of periods a plan may offer to prepay.
pub const ALLOWED_PERIODS: [u32; 4] = [1, 3, 6, 12];

/// One choice of a plan: buy `periods` periods at once, perhaps for less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrepayOption {
    pub periods: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<u32>,
}

impl PrepayOption {
    /// What a plan offers when its file says nothing: one period, full price.
    pub fn only_one() -> Vec<PrepayOption> {
        vec![PrepayOption { periods: 1, discount_percent: None }]
    }
}

/// Why a list of choices is not one a plan may offer, in words for the operator.
pub fn check(options: &[PrepayOption], price: Money, currency: &Currency) -> Result<(), String> {
    if options.is_empty() {
        return Err("must offer at least one number of periods, such as [{\"periods\": 1}]".to_owned());
    }
    for (i, option) in options.iter().enumerate() {
        if !ALLOWED_PERIODS.contains(&option.periods) {
            return Err(format!("{} periods cannot be prepaid: use 1, 3, 6 or 12", option.periods));
        }
        if options[..i].iter().any(|o| o.periods == option.periods) {
            return Err(format!("{} periods are listed twice", option.periods));
        }
        if let Some(percent) = option.discount_percent
            && !(1..=99).contains(&percent)
        {
            return Err(format!("the discount for {} periods must be a whole percent from 1 to 99", option.periods));
        }
        match price_of(*option, price, currency) {
            Some(total) if total > Money::default() || price == Money::default() => {}
            Some(_) => return Err(format!("the discount for {} periods leaves nothing to pay", option.periods)),
            None => return Err(format!("{} periods at this price is more than an amount can be", option.periods)),
        }
    }
    Ok(())
}

/// The price of `option`'s periods: `price` (one period, in `currency`)
/// times the periods, less the discount, rounded down to the currency's
/// smallest unit. `None` when that is beyond what an amount can be.
pub fn price_of(option: PrepayOption, price: Money, currency: &Currency) -> Option<Money> {
    let decimals = currency.decimals();
    let one = i128::from(price.minor(decimals)?);
    let keep = 100 - i128::from(option.discount_percent.unwrap_or(0).min(100));
    let total = one * i128::from(option.periods) * keep / 100;
    Money::from_minor(i64::try_from(total).ok()?, decimals).ok()
}

/// The choice for `periods` among `options`, or why it is not one.
pub fn choose(options: &[PrepayOption], periods: u32) -> Result<PrepayOption, String> {
    options.iter().copied().find(|o| o.periods == periods).ok_or_else(|| {
        let offered: Vec<String> = options.iter().map(|o| o.periods.to_string()).collect();
        format!("this plan cannot be prepaid for {periods} periods: it offers {}", offered.join(", "))
    })
}

impl FromStr for PrepayOption {
    type Err = String;

    /// `12` or `12:10` (12 periods at 10 % off), as `hostr plan` takes it.
    fn from_str(text: &str) -> Result<PrepayOption, String> {
        let bad = || format!("`{text}` is not a prepay choice: write periods, or periods:percent off, such as 12:10");
        let (periods, percent) = text.split_once(':').map_or((text, None), |(p, d)| (p, Some(d)));
        let periods = periods.trim().parse().map_err(|_| bad())?;
        let discount_percent = percent.map(|d| d.trim().parse().map_err(|_| bad())).transpose()?;
        Ok(PrepayOption { periods, discount_percent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(periods: u32, discount_percent: Option<u32>) -> PrepayOption {
        PrepayOption { periods, discount_percent }
    }

    #[test]
    fn the_price_of_several_periods_is_exact_and_rounds_down() {
        let usd = Currency::usd();
        let sat: Currency = "SAT".parse().unwrap();
        let btc = Currency::btc();
        let cases = [
            ("5", &usd, option(1, None), "5"),
            ("5", &usd, option(12, None), "60"),
            ("4.99", &usd, option(3, None), "14.97"),
            // 4.99 × 12 = 59.88; 15 % off is 50.898, rounded down to 50.89.
            ("4.99", &usd, option(12, Some(15)), "50.89"),
            ("9.99", &usd, option(6, Some(10)), "53.94"),
            ("50001", &sat, option(3, Some(5)), "142502"),
            ("0.00012345", &btc, option(12, Some(1)), "0.00146658"),
        ];
        for (price, currency, option, expected) in cases {
            let total = price_of(option, price.parse().unwrap(), currency).unwrap();
            assert_eq!(total.to_string(), expected, "{price} {currency} × {option:?}");
            assert!(currency.check(total).is_ok(), "a whole number of the currency's unit");
        }
        let huge: Money = "9000000000".parse().unwrap();
        assert_eq!(price_of(option(12, None), huge, &usd), None, "past the largest amount");
    }

    #[test]
    fn a_plan_offers_only_sensible_choices() {
        let price: Money = "5".parse().unwrap();
        let usd = Currency::usd();
        assert!(check(&PrepayOption::only_one(), price, &usd).is_ok());
        assert!(
            check(&[option(1, None), option(3, None), option(6, Some(5)), option(12, Some(10))], price, &usd).is_ok()
        );
        assert!(check(&[option(12, None)], price, &usd).is_ok(), "a plan may sell only a year of months");
        let refused = [
            (vec![], "at least one"),
            (vec![option(2, None)], "use 1, 3, 6 or 12"),
            (vec![option(3, None), option(3, Some(5))], "listed twice"),
            (vec![option(12, Some(0))], "from 1 to 99"),
            (vec![option(12, Some(100))], "from 1 to 99"),
        ];
        for (options, why) in refused {
            let error = check(&options, price, &usd).unwrap_err();
            assert!(error.contains(why), "{options:?}: {error}");
        }
        let cent: Money = "0.01".parse().unwrap();
        assert!(check(&[option(1, Some(50))], cent, &usd).unwrap_err().contains("nothing to pay"));
    }

    #[test]
    fn a_choice_is_found_or_refused_with_what_is_offered() {
        let options = [option(1, None), option(12, Some(10))];
        assert_eq!(choose(&options, 12), Ok(option(12, Some(10))));
        assert_eq!(choose(&options, 3).unwrap_err(), "this plan cannot be prepaid for 3 periods: it offers 1, 12");
        assert_eq!("12:10".parse(), Ok(option(12, Some(10))));
        assert_eq!("3".parse(), Ok(option(3, None)));
        assert!("twelve".parse::<PrepayOption>().unwrap_err().contains("12:10"));
    }
}
