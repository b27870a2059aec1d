//! Exact decimals of any magnitude for unit factors.

use std::fmt;
use std::ops::{Div, Mul};
use std::str::FromStr;

use rust_decimal::Decimal;

/// Significant digits a [`Number`] keeps (those of a `rust_decimal`).
const DIGITS: usize = 28;

/// A decimal `mantissa × 10^exponent` with 28 significant digits and an
/// exponent of any size, so that UCUM factors from `[m_e]` (10⁻²⁸ g) to
/// `Ymol` (10⁴⁸) stay exact where their digits allow. The operations are
/// total: a quotient by zero is zero, and the exponent saturates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Number {
    /// Zero, or at least 1 and less than 10 in magnitude.
    mantissa: Decimal,
    exponent: i64,
}

fn pow10(n: u32) -> Decimal {
    Decimal::from_i128_with_scale(10i128.pow(n), 0)
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        mantissa: Decimal::ZERO,
        exponent: 0,
    };
    /// One.
    pub const ONE: Number = Number {
        mantissa: Decimal::ONE,
        exponent: 0,
    };

    /// `m × 10^e`, normalized.
    fn new(m: Decimal, e: i64) -> Number {
        let m = m.normalize();
        let mant = m.mantissa();
        if mant == 0 {
            return Number::ZERO;
        }
        // |mant| < 2^96, so at most 29 digits and a scale of at most 28.
        let digits = mant.unsigned_abs().ilog10() + 1;
        let exponent = e
            .saturating_add(i64::from(digits))
            .saturating_sub(1)
            .saturating_sub(i64::from(m.scale()));
        Number {
            mantissa: Decimal::from_i128_with_scale(mant, digits - 1),
            exponent,
        }
    }

    /// A decimal as a number.
    pub fn from_decimal(d: Decimal) -> Number {
        Number::new(d, 0)
    }

    /// The number a float literal stands for: its shortest decimal form
    /// (`6.0221367e23` is 6.0221367 × 10²³ exactly, not the binary value).
    pub fn from_f64(f: f64) -> Number {
        Number::parse(&format!("{f:e}")).unwrap_or(Number::ZERO)
    }

    /// Read `12`, `-0.001`, `6.0221367e23`; digits past the 28th are dropped.
    pub fn parse(s: &str) -> Option<Number> {
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s.get(i + 1..)?.parse::<i64>().ok()?),
            None => (s, 0),
        };
        let (negative, mant) = match mant.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mant.strip_prefix('+').unwrap_or(mant)),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all: String = int.chars().chain(frac.chars()).collect();
        let significant = all.trim_start_matches('0');
        if significant.is_empty() {
            return Some(Number::ZERO);
        }
        let kept = significant.get(..DIGITS).unwrap_or(significant);
        let dropped = (significant.len() - kept.len()) as i64;
        let m: i128 = kept.parse().ok()?;
        let e = exp
            .saturating_sub(frac.len() as i64)
            .saturating_add(dropped);
        Some(Number::new(
            Decimal::from_i128_with_scale(if negative { -m } else { m }, 0),
            e,
        ))
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.mantissa.is_zero()
    }

    /// This number to an integer power.
    pub fn powi(self, e: i32) -> Number {
        let mut base = self;
        let mut n = e.unsigned_abs();
        let mut acc = Number::ONE;
        while n > 0 {
            if n & 1 == 1 {
                acc = acc * base;
            }
            n >>= 1;
            if n > 0 {
                base = base * base;
            }
        }
        if e < 0 {
            Number::ONE / acc
        } else {
            acc
        }
    }

    /// As a `rust_decimal` (28 digits, magnitudes up to about 7.9 × 10²⁸):
    /// `None` when it is too large; a value below 10⁻²⁸ keeps the digits
    /// that fit (down to zero).
    pub fn to_decimal(self) -> Option<Decimal> {
        let mant = self.mantissa.mantissa();
        let k = self
            .exponent
            .saturating_sub(i64::from(self.mantissa.scale()));
        if k >= 0 {
            let k = u32::try_from(k).ok().filter(|k| *k <= 28)?;
            Decimal::from_i128_with_scale(mant, 0).checked_mul(pow10(k))
        } else if k >= -28 {
            Some(Decimal::from_i128_with_scale(mant, k.unsigned_abs() as u32))
        } else if k >= -56 {
            Decimal::from_i128_with_scale(mant, 28).checked_div(pow10((-k - 28) as u32))
        } else {
            Some(Decimal::ZERO)
        }
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        f64::from_str(&format!("{}e{}", self.mantissa, self.exponent)).unwrap_or(f64::NAN)
    }
}

impl Mul for Number {
    type Output = Number;

    /// The product.
    fn mul(self, other: Number) -> Number {
        // Both mantissas are below 10 in magnitude: the product fits,
        // rounded to 28 digits.
        match self.mantissa.checked_mul(other.mantissa) {
            Some(m) => Number::new(m, self.exponent.saturating_add(other.exponent)),
            None => Number::ZERO,
        }
    }
}

impl Div for Number {
    type Output = Number;

    /// The quotient; zero when `other` is zero.
    fn div(self, other: Number) -> Number {
        match self.mantissa.checked_div(other.mantissa) {
            Some(m) => Number::new(m, self.exponent.saturating_sub(other.exponent)),
            None => Number::ZERO,
        }
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation where it is exact (`0.001`, `1000`),
    /// otherwise `1.6605402e-24`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self
            .exponent
            .saturating_sub(i64::from(self.mantissa.scale()));
        match self.to_decimal() {
            // exact in plain notation
            Some(d) if (-28..=28).contains(&k) => write!(f, "{}", d.normalize()),
            _ => write!(f, "{}e{}", self.mantissa, self.exponent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(n("1000"), n("1e3"));
        assert_eq!(n("0.001"), n("1e-3"));
        assert_eq!(n("-12.50"), n("-1.25e1"));
        assert_eq!(n("000"), Number::ZERO);
        assert_eq!(
            Number::from_f64(6.022_136_7e23),
            n("602213670000000000000000")
        );
        assert_eq!(
            Number::from_f64(1.660_540_2e-24).to_string(),
            "1.6605402e-24"
        );
        assert_eq!(n("0.000123").to_string(), "0.000123");
        assert!(Number::parse("").is_none());
        assert!(Number::parse("1.2.3").is_none());
        assert!(Number::parse("x").is_none());
        // digits past the 28th are dropped, the magnitude kept
        let long = n("12345678901234567890123456789012345");
        assert_eq!(long.to_string(), "1.234567890123456789012345678e34");
    }

    #[test]
    fn exact_arithmetic() {
        assert_eq!((n("0.1") * n("0.2")).to_decimal(), Some(d("0.02")));
        assert_eq!((n("1") / n("1000")).to_decimal(), Some(d("0.001")));
        assert_eq!(n("0.001").powi(3), n("1e-9"));
        assert_eq!(n("10").powi(-2).to_decimal(), Some(d("0.01")));
        assert_eq!((n("2.54") * n("0.01")).to_decimal(), Some(d("0.0254")));
        assert_eq!(n("1") / Number::ZERO, Number::ZERO);
        // far outside rust_decimal's range and back
        let big = n("1e40") * n("1e-38");
        assert_eq!(big.to_decimal(), Some(d("100")));
        assert_eq!(n("1e40").to_decimal(), None);
        assert_eq!(n("1e-60").to_decimal(), Some(Decimal::ZERO));
        assert_eq!(n("6.02e-30").to_f64(), 6.02e-30);
    }
}
