//! Numbers with units, parsed exactly (decimal text to integers, never through floats, so
//! `3.5s` is 3 500 000 000 ns on every machine).

use std::time::Duration;

use super::ast::Ppm;

/// Why a number with a unit did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UnitError {
    /// No digits at the start.
    NotANumber,
    /// Digits but no unit: the number part.
    NoUnit(String),
    /// A unit that is not one of the allowed ones: the unit.
    BadUnit(String),
    /// More decimals than the smallest unit can hold.
    TooPrecise,
    /// Too large to represent.
    TooLarge,
}

/// Splits `3.5ms` into `("3.5", "ms")`. The number is digits with at most one `.` between
/// digits.
fn split_number(s: &str) -> Option<(&str, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (num, unit) = s.split_at(end);
    let mut parts = num.split('.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    if parts.next().is_some() || whole.is_empty() || frac.is_some_and(str::is_empty) {
        return None;
    }
    Some((num, unit))
}

/// `num` (digits, optional `.digits`) times `scale`, exactly.
fn scaled(num: &str, scale: u128) -> Result<u128, UnitError> {
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    let mut value: u128 = 0;
    for c in whole.chars() {
        let d = u128::from(c.to_digit(10).ok_or(UnitError::NotANumber)?);
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or(UnitError::TooLarge)?;
        if value > u128::from(u64::MAX) {
            return Err(UnitError::TooLarge);
        }
    }
    let value = value.checked_mul(scale).ok_or(UnitError::TooLarge)?;
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        return Ok(value);
    }
    if frac.len() > 30 {
        return Err(UnitError::TooPrecise);
    }
    let mut num: u128 = 0;
    for c in frac.chars() {
        num = num * 10 + u128::from(c.to_digit(10).ok_or(UnitError::NotANumber)?);
    }
    let den = 10u128.pow(frac.len() as u32);
    // num < den <= 10^30 and scale <= 6e10, so the product fits.
    let product = num.checked_mul(scale).ok_or(UnitError::TooPrecise)?;
    if product % den != 0 {
        return Err(UnitError::TooPrecise);
    }
    let value = value
        .checked_add(product / den)
        .ok_or(UnitError::TooLarge)?;
    Ok(value)
}

fn with_units(s: &str, units: &[(&str, u128)]) -> Result<u128, UnitError> {
    let (num, unit) = split_number(s).ok_or(UnitError::NotANumber)?;
    if unit.is_empty() {
        return Err(UnitError::NoUnit(num.to_string()));
    }
    let scale = units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, s)| *s)
        .ok_or_else(|| UnitError::BadUnit(unit.to_string()))?;
    scaled(num, scale)
}

/// The time units, smallest first.
pub(crate) const TIME_UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("min", 60_000_000_000),
];

/// `3.5s`, `200ms`, `25us`, `10ns`, `2min`.
pub(crate) fn duration(s: &str) -> Result<Duration, UnitError> {
    let ns = with_units(s, TIME_UNITS)?;
    u64::try_from(ns)
        .map(Duration::from_nanos)
        .map_err(|_| UnitError::TooLarge)
}

/// `1%`, `0.5%`, `100%`.
pub(crate) fn percent(s: &str) -> Result<Ppm, UnitError> {
    let ppm = with_units(s, &[("%", 10_000)])?;
    u32::try_from(ppm)
        .ok()
        .filter(|p| *p <= 1_000_000)
        .map(Ppm)
        .ok_or(UnitError::TooLarge)
}

/// `10mbit`, `1.5gbit`, `500kbit`, `9600bit` (case-insensitive, as tc): bits per second.
pub(crate) fn rate(s: &str) -> Result<u64, UnitError> {
    let lower = s.to_ascii_lowercase();
    let bps = with_units(
        &lower,
        &[
            ("bit", 1),
            ("kbit", 1_000),
            ("mbit", 1_000_000),
            ("gbit", 1_000_000_000),
        ],
    )?;
    u64::try_from(bps).map_err(|_| UnitError::TooLarge)
}

/// `100`, `4KiB`, `1MiB`, `1GiB`, `10kB`, `1MB`: bytes.
pub(crate) fn bytes(s: &str) -> Result<u64, UnitError> {
    let (num, unit) = split_number(s).ok_or(UnitError::NotANumber)?;
    let n = if unit.is_empty() {
        if num.contains('.') {
            return Err(UnitError::TooPrecise);
        }
        scaled(num, 1)?
    } else {
        with_units(
            s,
            &[
                ("B", 1),
                ("kB", 1_000),
                ("KiB", 1 << 10),
                ("MB", 1_000_000),
                ("MiB", 1 << 20),
                ("GB", 1_000_000_000),
                ("GiB", 1 << 30),
            ],
        )?
    };
    u64::try_from(n).map_err(|_| UnitError::TooLarge)
}

/// A plain unsigned decimal integer (no sign, no unit).
pub(crate) fn integer(s: &str) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_exact() {
        assert_eq!(duration("3.5s"), Ok(Duration::from_millis(3500)));
        assert_eq!(duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(duration("25us"), Ok(Duration::from_micros(25)));
        assert_eq!(duration("25µs"), Ok(Duration::from_micros(25)));
        assert_eq!(duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(duration("1.5ns"), Err(UnitError::TooPrecise));
        assert_eq!(duration("1.50ns"), Err(UnitError::TooPrecise));
        assert_eq!(duration("1.0ns"), Ok(Duration::from_nanos(1)));
        assert_eq!(duration("3"), Err(UnitError::NoUnit("3".into())));
        assert_eq!(duration("3sec"), Err(UnitError::BadUnit("sec".into())));
        assert_eq!(duration("s"), Err(UnitError::NotANumber));
        assert_eq!(duration("1.s"), Err(UnitError::NotANumber));
        assert_eq!(duration(".5s"), Err(UnitError::NotANumber));
        assert_eq!(duration("1.2.3s"), Err(UnitError::NotANumber));
        assert_eq!(duration("99999999999999999999s"), Err(UnitError::TooLarge));
        assert_eq!(duration("18446744074s"), Err(UnitError::TooLarge));
    }

    #[test]
    fn other_units() {
        assert_eq!(percent("1%"), Ok(Ppm(10_000)));
        assert_eq!(percent("0.5%"), Ok(Ppm(5_000)));
        assert_eq!(percent("100%"), Ok(Ppm(1_000_000)));
        assert_eq!(percent("101%"), Err(UnitError::TooLarge));
        assert_eq!(percent("0.00001%"), Err(UnitError::TooPrecise));
        assert_eq!(rate("10mbit"), Ok(10_000_000));
        assert_eq!(rate("1.5Gbit"), Ok(1_500_000_000));
        assert_eq!(bytes("100"), Ok(100));
        assert_eq!(bytes("1MiB"), Ok(1 << 20));
        assert_eq!(bytes("4KiB"), Ok(4096));
        assert_eq!(bytes("1.5"), Err(UnitError::TooPrecise));
        assert_eq!(bytes("1.5KiB"), Ok(1536));
        assert_eq!(integer("42"), Some(42));
        assert_eq!(integer("-1"), None);
        assert_eq!(integer(""), None);
    }
}
