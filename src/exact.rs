//! Exact rational arithmetic for scores (docs/method.md §4, "Exactness").
//!
//! A score is the exact decimal value of its verdict text, so `4.4 - 2.4` is exactly 2 and the
//! mean of 0.1 and 0.2 is exactly 0.15. An [`Exact`] is a fraction `num / den` (den > 0, not
//! necessarily reduced). The fast form holds both in `i128` and every operation is checked;
//! an operation that would overflow is redone with arbitrary-precision integers (`num-bigint`),
//! so results are exact for any number of digits. Verdicts have at most a few decimals, so
//! the fast form covers them: a verdict with up to 36 fractional digits parses into it, and
//! means, gaps and threshold comparisons stay in it while the digits of the scores involved
//! (plus those of the row count) stay below about 17 per operand.
//!
//! Floats enter as the shortest decimal that prints as them ([`Exact::from_f64`], the digits
//! of Python's `repr` and Rust's `{}`), and leave as the nearest float ([`Exact::to_f64`],
//! correctly rounded, ties to even).

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;

/// Most significant digits a decimal may have in its integer part and in its fraction
/// ([`Exact::parse_decimal`]). A verdict in [0, 10] has at most 2 integer digits, so this
/// bounds its fraction: a longer one is an invalid verdict. It keeps the big-integer fallback
/// to microseconds per value on hostile input (a 10 MB verdict), and no float needs more
/// (the longest shortest decimal of an f64 has under 800 digits).
pub const MAX_DIGITS: usize = 4096;

/// `num / den` with `den > 0`.
#[derive(Debug, Clone)]
pub enum Exact {
    Small { num: i128, den: i128 },
    Big(Box<(BigInt, BigInt)>),
}

impl PartialEq for Exact {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Exact {}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Exact::Small { num: a, den: b }, Exact::Small { num: c, den: d }) = (self, other) {
            if b == d {
                return a.cmp(c);
            }
            if let (Some(left), Some(right)) = (a.checked_mul(*d), c.checked_mul(*b)) {
                return left.cmp(&right);
            }
        }
        let ((a, b), (c, d)) = (self.big(), other.big());
        (a * &d).cmp(&(c * &b))
    }
}

/// `small` divides `large` (both > 0), with one hardware division when both fit in 64 bits
/// (decimal denominators always do): the common case of adding decimals of different lengths.
fn divides(small: i128, large: i128) -> bool {
    if let (Ok(small), Ok(large)) = (u64::try_from(small), u64::try_from(large)) {
        return large % small == 0;
    }
    large % small == 0
}

/// `large / small` for a divisor [`divides`] accepted.
fn quotient(large: i128, small: i128) -> i128 {
    if let (Ok(small), Ok(large)) = (u64::try_from(small), u64::try_from(large)) {
        return i128::from(large / small);
    }
    large / small
}

fn pow10_i128(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

fn big_pow10(exponent: usize) -> BigInt {
    num_traits::pow(BigInt::from(10u8), exponent)
}

impl Exact {
    pub const ZERO: Exact = Exact::Small { num: 0, den: 1 };

    /// An integer.
    pub fn int(value: i64) -> Exact {
        Exact::Small {
            num: i128::from(value),
            den: 1,
        }
    }

    fn from_big(num: BigInt, den: BigInt) -> Exact {
        debug_assert!(den.sign() == Sign::Plus);
        Exact::Big(Box::new((num, den)))
    }

    /// (num, den) as big integers.
    fn big(&self) -> (BigInt, BigInt) {
        match self {
            Exact::Small { num, den } => (BigInt::from(*num), BigInt::from(*den)),
            Exact::Big(parts) => (parts.0.clone(), parts.1.clone()),
        }
    }

    /// A plain decimal `[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)` (ASCII digits, no exponent); `None`
    /// for anything else, and for a decimal with more than [`MAX_DIGITS`] digits in its integer
    /// part (leading zeros aside) or in its fraction (trailing zeros aside). Linear in the
    /// length; no allocation unless the digits overflow the fast form.
    pub fn parse_decimal(text: &[u8]) -> Option<Exact> {
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (int, frac) = match body.iter().position(|&b| b == b'.') {
            Some(point) => (&body[..point], &body[point + 1..]),
            None => (body, &[][..]),
        };
        let digits_only = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
        if (int.is_empty() && frac.is_empty()) || !digits_only(int) || !digits_only(frac) {
            return None;
        }
        let int = &int[int.iter().position(|&d| d != b'0').unwrap_or(int.len())..];
        let frac = &frac[..frac
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |last| last + 1)];
        if int.len() > MAX_DIGITS || frac.len() > MAX_DIGITS {
            return None;
        }
        let num = int.iter().chain(frac).try_fold(0i128, |n, &d| {
            n.checked_mul(10)?.checked_add(i128::from(d - b'0'))
        });
        let den = u32::try_from(frac.len()).ok().and_then(pow10_i128);
        Some(match (num, den) {
            (Some(num), Some(den)) => Exact::Small {
                num: if negative { -num } else { num },
                den,
            },
            _ => {
                let digits: Vec<u8> = int.iter().chain(frac).copied().collect();
                let magnitude = BigInt::parse_bytes(&digits, 10).unwrap_or_default();
                let num = if negative { -magnitude } else { magnitude };
                Exact::from_big(num, big_pow10(frac.len()))
            }
        })
    }

    /// The shortest decimal that prints as `value` (Rust's `{}` gives the same digits as
    /// Python's `repr`); `None` for NaN and infinities.
    pub fn from_f64(value: f64) -> Option<Exact> {
        if !value.is_finite() {
            return None;
        }
        if value == value.trunc() && value.abs() < 1e18 {
            return Some(Exact::int(value as i64));
        }
        Exact::parse_decimal(format!("{value}").as_bytes())
    }

    /// `low <= self <= high`, with one multiplication in the fast form.
    pub fn in_range(&self, low: i64, high: i64) -> bool {
        if let Exact::Small { num, den } = self {
            if let (Some(low), Some(high)) =
                (den.checked_mul(low.into()), den.checked_mul(high.into()))
            {
                return (low..=high).contains(num);
            }
        }
        *self >= Exact::int(low) && *self <= Exact::int(high)
    }

    pub fn is_positive(&self) -> bool {
        match self {
            Exact::Small { num, .. } => *num > 0,
            Exact::Big(parts) => parts.0.sign() == Sign::Plus,
        }
    }

    /// `self + other` (`sign = 1`) or `self - other` (`sign = -1`).
    fn combine(&self, other: &Exact, sign: i128) -> Exact {
        if let (Exact::Small { num: a, den: b }, Exact::Small { num: c, den: d }) = (self, other) {
            let small = if b == d {
                c.checked_mul(sign)
                    .and_then(|c| a.checked_add(c))
                    .map(|num| (num, *b))
            } else if sign > 0 && divides(*b, *d) {
                // Sums of decimals: one denominator divides the other, so the sum keeps the
                // larger one instead of growing with every term (a difference is computed
                // once per row: the cross product below is cheaper than a division).
                quotient(*d, *b)
                    .checked_mul(*a)
                    .zip(c.checked_mul(sign))
                    .and_then(|(a, c)| a.checked_add(c))
                    .map(|num| (num, *d))
            } else if sign > 0 && divides(*d, *b) {
                quotient(*b, *d)
                    .checked_mul(*c)
                    .and_then(|c| c.checked_mul(sign))
                    .and_then(|c| a.checked_add(c))
                    .map(|num| (num, *b))
            } else {
                a.checked_mul(*d)
                    .zip(c.checked_mul(*b).and_then(|c| c.checked_mul(sign)))
                    .and_then(|(ad, cb)| ad.checked_add(cb))
                    .zip(b.checked_mul(*d))
            };
            if let Some((num, den)) = small {
                return Exact::Small { num, den };
            }
        }
        let ((a, b), (c, d)) = (self.big(), other.big());
        let c = if sign < 0 { -c } else { c };
        if b == d {
            Exact::from_big(a + c, b)
        } else if d.is_multiple_of(&b) {
            Exact::from_big(a * (&d / &b) + c, d)
        } else if b.is_multiple_of(&d) {
            Exact::from_big(a + c * (&b / &d), b)
        } else {
            Exact::from_big(a * &d + c * &b, b * d)
        }
    }

    pub fn add(&self, other: &Exact) -> Exact {
        self.combine(other, 1)
    }

    pub fn sub(&self, other: &Exact) -> Exact {
        self.combine(other, -1)
    }

    /// `self / count` (count > 0).
    pub fn div_count(&self, count: usize) -> Exact {
        debug_assert!(count > 0);
        if let Exact::Small { num, den } = self {
            if let Some(den) = i128::try_from(count).ok().and_then(|c| den.checked_mul(c)) {
                return Exact::Small { num: *num, den };
            }
        }
        let (num, den) = self.big();
        Exact::from_big(num, den * BigInt::from(count))
    }

    /// The nearest float (ties to even).
    pub fn to_f64(&self) -> f64 {
        const EXACT_INT: i128 = 1 << 53;
        match self {
            // Both operands are exact floats, so the one IEEE division rounds correctly.
            Exact::Small { num, den } if num.abs() <= EXACT_INT && *den <= EXACT_INT => {
                *num as f64 / *den as f64
            }
            _ => {
                let (num, den) = self.big();
                big_ratio_to_f64(&num, &den)
            }
        }
    }
}

/// `2^exponent * mantissa` for a mantissa of at most 53 bits, exact whenever the result is
/// representable (scaling in two steps keeps the intermediate normal).
fn scale_by_power_of_two(mantissa: f64, exponent: i64) -> f64 {
    let step = |x: f64, e: i64| x * f64::powi(2.0, e as i32);
    if exponent < -1000 {
        step(step(mantissa, exponent + 1000), -1000)
    } else if exponent > 1000 {
        step(step(mantissa, 1000), (exponent - 1000).min(1100))
    } else {
        step(mantissa, exponent)
    }
}

/// The nearest float to `num / den` (den > 0), ties to even, subnormals included.
fn big_ratio_to_f64(num: &BigInt, den: &BigInt) -> f64 {
    if num.sign() == Sign::NoSign {
        return 0.0;
    }
    let negative = num.sign() == Sign::Minus;
    let (n, d) = (num.magnitude().clone(), den.magnitude().clone());
    // Quotient with at least 55 bits: q = floor(n * 2^shift / d), value = q * 2^-shift.
    let shift = 55 - (n.bits() as i64 - d.bits() as i64);
    let (scaled_n, scaled_d) = if shift >= 0 {
        (n << shift as u64, d)
    } else {
        (n, d << (-shift) as u64)
    };
    let (q, r) = scaled_n.div_rem(&scaled_d);
    let sticky = r.bits() > 0;
    let bits = q.bits() as i64;
    let top = bits - 1 - shift; // binary exponent of the leading bit
    let lowest = if top >= -1022 { top - 52 } else { -1074 };
    let drop = (lowest + shift).clamp(0, bits + 1) as u64; // low bits of q to round away
    let mantissa = &q >> drop;
    let rest = &q - (&mantissa << drop);
    let half = if drop == 0 {
        num_bigint::BigUint::default()
    } else {
        num_bigint::BigUint::from(1u8) << (drop - 1)
    };
    let odd = mantissa.bit(0);
    let round_up = drop > 0 && (rest > half || (rest == half && (sticky || odd)));
    let mantissa = if round_up { mantissa + 1u8 } else { mantissa };
    let mantissa: f64 = mantissa.to_u64_digits().first().copied().unwrap_or(0) as f64;
    let value = scale_by_power_of_two(mantissa, drop as i64 - shift);
    if negative {
        -value
    } else {
        value
    }
}

/// Exact mean of `values`; `None` when empty.
pub fn mean<'a>(values: impl IntoIterator<Item = &'a Exact>) -> Option<Exact> {
    let mut count = 0usize;
    let mut sum = Exact::ZERO;
    for value in values {
        sum = sum.add(value);
        count += 1;
    }
    (count > 0).then(|| sum.div_count(count))
}

/// Big integers for tests of the fallback (forces the slow path on the same value).
#[cfg(test)]
pub(crate) fn as_big(value: &Exact) -> Exact {
    let (num, den) = value.big();
    Exact::from_big(num, den)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Exact {
        Exact::parse_decimal(text.as_bytes()).unwrap()
    }

    #[test]
    fn the_methods_examples() {
        assert_eq!(dec("4.4").sub(&dec("2.4")), Exact::int(2));
        let chosen = mean([&dec("0.1"), &dec("0.2")]).unwrap();
        assert_eq!(chosen, dec("0.15"));
        assert_eq!(chosen.to_f64(), 0.15);
        assert_eq!(dec("7."), Exact::int(7));
        assert_eq!(dec("-0"), Exact::ZERO);
    }

    #[test]
    fn grammar() {
        for bad in [
            "", "+", "-", ".", "1e1", "inf", "1,5", "1.2.3", " 1", "+-1", "١",
        ] {
            assert!(Exact::parse_decimal(bad.as_bytes()).is_none(), "{bad:?}");
        }
        for good in ["7", "7.", ".5", "+5", "-0", "007", "7.50"] {
            assert!(Exact::parse_decimal(good.as_bytes()).is_some(), "{good:?}");
        }
    }

    #[test]
    fn long_decimals_fall_back_exactly() {
        let long = format!("0.{}1", "0".repeat(60));
        let tiny = dec(&long);
        assert!(matches!(tiny, Exact::Big(_)));
        assert!(tiny.is_positive());
        assert!(tiny > Exact::ZERO);
        let sum = dec("1").add(&tiny);
        assert!(sum > Exact::int(1));
        assert_eq!(sum.sub(&tiny), Exact::int(1));
        assert_eq!(tiny.to_f64(), 1e-61);
    }

    #[test]
    fn zeros_cost_nothing_and_the_digit_limit_holds() {
        let padded = format!("{}7.5{}", "0".repeat(100_000), "0".repeat(100_000));
        assert!(matches!(dec(&padded), Exact::Small { num: 75, den: 10 }));
        let longest = format!("0.{}", "3".repeat(MAX_DIGITS));
        assert!(matches!(dec(&longest), Exact::Big(_)));
        let too_long = format!("0.{}", "3".repeat(MAX_DIGITS + 1));
        assert!(Exact::parse_decimal(too_long.as_bytes()).is_none());
        let huge = "9".repeat(MAX_DIGITS + 1);
        assert!(Exact::parse_decimal(huge.as_bytes()).is_none());
    }

    #[test]
    fn floats_read_as_their_shortest_decimal() {
        assert_eq!(Exact::from_f64(0.1).unwrap(), dec("0.1"));
        assert_eq!(Exact::from_f64(1e-300).unwrap().to_f64(), 1e-300);
        assert_eq!(Exact::from_f64(f64::MAX).unwrap().to_f64(), f64::MAX);
        assert_eq!(Exact::from_f64(5e-324).unwrap().to_f64(), 5e-324);
        assert!(Exact::from_f64(f64::NAN).is_none());
    }

    proptest! {
        #[test]
        fn float_round_trip(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let exact = Exact::from_f64(x).unwrap();
            prop_assert_eq!(exact.to_f64(), x + 0.0);
            prop_assert_eq!(as_big(&exact).to_f64(), x + 0.0);
        }

        #[test]
        fn small_and_big_agree(a in -100_000i64..100_000, b in -100_000i64..100_000,
                               sa in 0u32..6, sb in 0u32..6, count in 1usize..20) {
            let x = Exact::Small { num: i128::from(a), den: 10i128.pow(sa) };
            let y = Exact::Small { num: i128::from(b), den: 10i128.pow(sb) };
            let (bx, by) = (as_big(&x), as_big(&y));
            prop_assert_eq!(x.cmp(&y), bx.cmp(&by));
            prop_assert_eq!(x.sub(&y), bx.sub(&by));
            prop_assert_eq!(x.add(&y).div_count(count).to_f64(), bx.add(&by).div_count(count).to_f64());
            // Correct rounding: the float quotient of exact small values.
            let want = (a as f64 * 10f64.powi(sb as i32) - b as f64 * 10f64.powi(sa as i32))
                / (10f64.powi((sa + sb) as i32) * count as f64);
            prop_assert_eq!(bx.sub(&by).div_count(count).to_f64(), want);
        }
    }
}
