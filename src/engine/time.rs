//! Virtual time: an integer count of nanoseconds since the start of the run.
//!
//! Integer time makes runs exact and reproducible: no floating-point clock drifts, and two
//! events at "the same time" really are at the same time (their order is then decided by
//! the event queue's sequence numbers, never by rounding).

use std::fmt;

/// A point in virtual time, or a span of it, in nanoseconds. `u64` nanoseconds reach
/// about 584 years, far beyond any horizon a scenario may ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub const NS_PER_S: u64 = 1_000_000_000;

    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * Self::NS_PER_S)
    }
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }
    pub const fn ns(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::NS_PER_S as f64
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// `self + d`, saturating at the end of time instead of wrapping.
    #[inline]
    pub fn after(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// `self - earlier`, or zero when `earlier` is later.
    #[inline]
    pub fn since(self, earlier: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for SimTime {
    /// Shortest exact spelling in the scenario syntax, e.g. `1.5s`, `250us`, `2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS.iter().rev() {
            if ns.is_multiple_of(*size) {
                return write!(f, "{}{}", ns / size, unit);
            }
        }
        // Not a whole number of any unit: print seconds with enough digits to be exact.
        let secs = ns as f64 / 1e9;
        write!(f, "{secs}s")
    }
}

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration (write a number and a unit, e.g. \"250ms\")")]
    Empty,
    #[error("\"{0}\" has no unit (add one of ns, us, ms, s, m, h, d, e.g. \"{0}s\")")]
    NoUnit(String),
    #[error("\"{0}\": unknown unit \"{1}\" (use one of ns, us, ms, s, m, h, d)")]
    UnknownUnit(String, String),
    #[error("\"{0}\" is not a number followed by a unit (e.g. \"2.5s\")")]
    BadNumber(String),
    #[error("\"{0}\" is negative; durations are zero or more")]
    Negative(String),
    #[error("\"{0}\" is too long to simulate")]
    Overflow(String),
}

/// Parses `"250us"`, `"5ms"`, `"2.5s"`, `"10m"`, `"1h"`, `"3d"` (also `"ns"`, `"µs"`), and
/// compound forms that add their terms, largest unit first: `"1m30s"`, `"1h2m3.5s"` (the
/// spelling Go's `time.ParseDuration` and Kubernetes use). Fractions are rounded to the
/// nearest nanosecond.
pub fn parse_duration(text: &str) -> Result<SimTime, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut rest = s;
    let mut total = 0u64;
    let mut last_size = u64::MAX;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(rest.len());
        let unit_end = rest[num_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+')
            .map_or(rest.len(), |i| num_end + i);
        let (num, unit) = (&rest[..num_end], &rest[num_end..unit_end]);
        let (ns, size) = term(s, num, unit)?;
        if size >= last_size {
            return Err(DurationError::BadNumber(s.to_string()));
        }
        last_size = size;
        total = total
            .checked_add(ns)
            .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
        rest = &rest[unit_end..];
    }
    Ok(SimTime(total))
}

/// One `number unit` term of the duration `s`: its nanoseconds and the unit's size.
fn term(s: &str, num: &str, unit: &str) -> Result<(u64, u64), DurationError> {
    if num.is_empty() {
        return Err(DurationError::BadNumber(s.to_string()));
    }
    if unit.is_empty() {
        return Err(DurationError::NoUnit(s.to_string()));
    }
    let size = match unit.trim() {
        "ns" => 1u64,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        other => return Err(DurationError::UnknownUnit(s.to_string(), other.to_string())),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| DurationError::BadNumber(s.to_string()))?;
    if !value.is_finite() {
        return Err(DurationError::BadNumber(s.to_string()));
    }
    if value < 0.0 || num.starts_with('-') {
        return Err(DurationError::Negative(s.to_string()));
    }
    // Whole numbers are computed in integers so that "3d" is exact.
    if !num.contains('.') {
        let whole: u64 = num
            .trim_start_matches('+')
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_string()))?;
        return whole
            .checked_mul(size)
            .map(|ns| (ns, size))
            .ok_or_else(|| DurationError::Overflow(s.to_string()));
    }
    let ns = (value * size as f64).round();
    if ns >= u64::MAX as f64 / 2.0 {
        return Err(DurationError::Overflow(s.to_string()));
    }
    Ok((ns as u64, size))
}

impl SimTime {
    /// For messages: days, hours, minutes and seconds to the millisecond
    /// (`6h18m45.784s`), or the exact spelling below one second. Parses back as a
    /// duration.
    pub fn human(self) -> Human {
        Human(self)
    }
}

/// [`SimTime::human`]'s spelling.
pub struct Human(SimTime);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0 .0;
        if ns < SimTime::NS_PER_S {
            return write!(f, "{}", self.0);
        }
        let ms = (ns + 500_000) / 1_000_000;
        let (d, h, m) = (ms / 86_400_000, ms / 3_600_000 % 24, ms / 60_000 % 60);
        let (s, frac) = (ms / 1000 % 60, ms % 1000);
        for (n, unit) in [(d, "d"), (h, "h"), (m, "m")] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        match (s, frac) {
            (0, 0) => Ok(()),
            (s, 0) => write!(f, "{s}s"),
            (s, frac) => {
                let digits = format!("{frac:03}");
                write!(f, "{s}.{}s", digits.trim_end_matches('0'))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("250us"), Ok(SimTime(250_000)));
        assert_eq!(parse_duration("5ms"), Ok(SimTime(5_000_000)));
        assert_eq!(parse_duration("2.5s"), Ok(SimTime(2_500_000_000)));
        assert_eq!(parse_duration("10m"), Ok(SimTime::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(SimTime::from_secs(3600)));
        assert_eq!(parse_duration("3d"), Ok(SimTime::from_secs(3 * 86_400)));
        assert_eq!(parse_duration("0s"), Ok(SimTime::ZERO));
        assert_eq!(parse_duration("7ns"), Ok(SimTime(7)));
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(matches!(parse_duration("5"), Err(DurationError::NoUnit(_))));
        assert!(matches!(
            parse_duration("5 sec"),
            Err(DurationError::UnknownUnit(..))
        ));
        assert!(matches!(
            parse_duration("-1s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("abc"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("99999999999d"),
            Err(DurationError::Overflow(_))
        ));
    }

    /// Compound durations (pinned in the contract): terms add, largest unit first.
    #[test]
    fn compound_durations_add_their_terms() {
        assert_eq!(parse_duration("1m30s"), Ok(SimTime::from_secs(90)));
        assert_eq!(parse_duration("5m1s"), Ok(SimTime::from_secs(301)));
        assert_eq!(parse_duration("1h2m3.5s"), Ok(SimTime(3_723_500_000_000)));
        assert_eq!(parse_duration("1s500ms"), Ok(SimTime(1_500_000_000)));
        assert!(matches!(
            parse_duration("30s1m"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1m-3s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("1m30"),
            Err(DurationError::NoUnit(_))
        ));
        assert!(matches!(
            parse_duration("213500d10000h"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn human_spelling_is_readable_and_parses_back() {
        let t = SimTime(22_725_784_075_628);
        assert_eq!(t.human().to_string(), "6h18m45.784s");
        assert_eq!(
            parse_duration("6h18m45.784s"),
            Ok(SimTime(22_725_784_000_000))
        );
        assert_eq!(SimTime::from_secs(90).human().to_string(), "1m30s");
        assert_eq!(SimTime::from_secs(86_400).human().to_string(), "1d");
        assert_eq!(SimTime(250_000).human().to_string(), "250us");
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(SimTime::from_secs(7200).to_string(), "2h");
        assert_eq!(SimTime(1_500_000_000).to_string(), "1500ms");
        assert_eq!(SimTime(250_000).to_string(), "250us");
    }
}
