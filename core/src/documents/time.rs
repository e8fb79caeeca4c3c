//! Millisecond UTC timestamps, written as RFC 3339 (`2026-11-23T17:16:32.123Z`).

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, in milliseconds since the Unix epoch, UTC.
///
/// Documents write it as an RFC 3339 string with millisecond precision; the
/// storage format writes the integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MS_PER_DAY: i64 = 86_400_000;
/// 0000-01-01 .. 9999-12-31: the years RFC 3339 can write.
const MIN_MILLIS: i64 = -62_167_219_200_000;
const MAX_MILLIS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// The current time, truncated to milliseconds.
    pub fn now() -> Self {
        let millis = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(MAX_MILLIS),
            Err(e) => {
                i64::try_from(e.duration().as_millis()).map_or(MIN_MILLIS, i64::saturating_neg)
            }
        };
        Timestamp(millis.clamp(MIN_MILLIS, MAX_MILLIS))
    }

    /// The instant `millis` milliseconds after the Unix epoch, if RFC 3339 can write it.
    pub fn from_millis(millis: i64) -> Option<Self> {
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&millis)
            .then_some(Timestamp(millis))
    }

    /// The instant `millis` milliseconds after the Unix epoch, moved into
    /// the range RFC 3339 can write.
    pub(crate) fn clamped(millis: i64) -> Self {
        Timestamp(millis.clamp(MIN_MILLIS, MAX_MILLIS))
    }

    /// This instant moved `by` later, saturating at the last writable instant.
    pub fn plus(self, by: std::time::Duration) -> Self {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        Timestamp::clamped(self.0.saturating_add(by))
    }

    /// Whole seconds since the Unix epoch (0 before it).
    pub fn as_unix_seconds(self) -> u64 {
        u64::try_from(self.0.div_euclid(1000)).unwrap_or(0)
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp with
    /// an optional fraction and a `Z` or `±HH:MM` offset. Sub-millisecond
    /// digits are truncated.
    pub fn parse(text: &str) -> Option<Self> {
        Timestamp::parse_precise(text).map(|(t, _)| t)
    }

    /// Like [`Timestamp::parse`], also returning the nanoseconds beyond the
    /// millisecond (0 to 999,999) that the timestamp itself cannot hold, so
    /// a query literal keeps its full precision.
    pub fn parse_precise(text: &str) -> Option<(Self, u32)> {
        let b = text.as_bytes();
        let date = parse_date(b.get(..10)?)?;
        if b.len() == 10 {
            return Timestamp::from_millis(date.checked_mul(MS_PER_DAY)?).map(|t| (t, 0));
        }
        let (clock, rest) = b.get(10..)?.split_first_chunk::<9>()?;
        let [b'T' | b't' | b' ', h1, h2, b':', m1, m2, b':', s1, s2] = clock else {
            return None;
        };
        let hour = digits(&[*h1, *h2])?;
        let minute = digits(&[*m1, *m2])?;
        let second = digits(&[*s1, *s2])?;
        if rest.is_empty() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let (millis, nanos, rest) = match rest.split_first() {
            Some((b'.', frac)) => {
                let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                let (fraction, rest) = frac.split_at_checked(n)?;
                let (millis, nanos) = parse_fraction(fraction)?;
                (millis, nanos, rest)
            }
            _ => (0, 0, rest),
        };
        let offset_minutes = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2])?;
                let m = digits(&[*m1, *m2])?;
                if h > 23 || m > 59 {
                    return None;
                }
                let total = sum_of(&[(h, 60), (m, 1)])?;
                if *sign == b'-' {
                    total.checked_neg()?
                } else {
                    total
                }
            }
            _ => return None,
        };
        let seconds = sum_of(&[
            (hour, 3600),
            (minute, 60),
            (second.min(59), 1),
            (offset_minutes, -60),
        ])?;
        let millis = sum_of(&[(date, MS_PER_DAY), (seconds, 1000), (millis, 1)])?;
        Timestamp::from_millis(millis).map(|t| (t, nanos))
    }
}

/// The milliseconds (first three digits) and the nanoseconds within the
/// millisecond (digits 4 to 9) of a fraction's digits; digits beyond the
/// ninth, below a nanosecond, count as 1 ns when the others are 0, so the
/// fraction stays apart from a whole millisecond. `None` when empty.
fn parse_fraction(fraction: &[u8]) -> Option<(i64, u32)> {
    if fraction.is_empty() {
        return None;
    }
    let mut padded = [b'0'; 9];
    for (slot, c) in padded.iter_mut().zip(fraction) {
        *slot = *c;
    }
    let [a, b, c, rest @ ..] = padded;
    let millis = digits(&[a, b, c])?;
    let nanos = u32::try_from(digits(&rest)?).ok()?;
    let below_nanos = fraction
        .get(9..)
        .is_some_and(|beyond| beyond.iter().any(|&c| c != b'0'));
    Some((millis, if nanos == 0 && below_nanos { 1 } else { nanos }))
}

/// The decimal number `b` spells, or `None` when it is empty, holds anything
/// but ASCII digits, or overflows.
fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |n, &c| {
        let digit = char::from(c).to_digit(10)?;
        n.checked_mul(10)?.checked_add(i64::from(digit))
    })
}

/// `value × unit` summed over `terms`, or `None` on overflow.
fn sum_of(terms: &[(i64, i64)]) -> Option<i64> {
    terms.iter().try_fold(0i64, |sum, &(value, unit)| {
        sum.checked_add(value.checked_mul(unit)?)
    })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, checking the day exists.
fn parse_date(b: &[u8]) -> Option<i64> {
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = b else {
        return None;
    };
    let y = digits(&[*y1, *y2, *y3, *y4])?;
    let m = digits(&[*m1, *m2])?;
    let d = digits(&[*d1, *d2])?;
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) {
        return None;
    }
    days_from_civil(y, m, d)
}

/// Howard Hinnant's `days_from_civil` (years starting in March, so that a
/// leap day ends them); `None` on overflow.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let (y, mp) = if m > 2 {
        (y, m.checked_sub(3)?)
    } else {
        (y.checked_sub(1)?, m.checked_add(9)?)
    };
    let (era, yoe) = (y.div_euclid(400), y.rem_euclid(400));
    let doy = (mp.checked_mul(153)?.checked_add(2)? / 5)
        .checked_add(d)?
        .checked_sub(1)?;
    let doe = sum_of(&[(yoe, 365), (yoe / 4, 1), (yoe / 100, -1), (doy, 1)])?;
    sum_of(&[(era, 146_097), (doe, 1), (-719_468, 1)])
}

/// Howard Hinnant's `civil_from_days`: the year, month and day of a day
/// count since 1970-01-01; `None` on overflow.
fn civil_from_days(z: i64) -> Option<(i64, i64, i64)> {
    let z = z.checked_add(719_468)?;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = sum_of(&[
        (doe, 1),
        (doe / 1460, -1),
        (doe / 36_524, 1),
        (doe / 146_096, -1),
    ])? / 365;
    let doy = sum_of(&[(doe, 1), (yoe, -365), (yoe / 4, -1), (yoe / 100, 1)])?;
    let mp = sum_of(&[(doy, 5), (2, 1)])? / 153;
    let d = sum_of(&[(doy, 1), (sum_of(&[(mp, 153), (2, 1)])? / 5, -1), (1, 1)])?;
    let y = sum_of(&[(yoe, 1), (era, 400)])?;
    if mp < 10 {
        Some((y, mp.checked_add(3)?, d))
    } else {
        Some((y.checked_add(1)?, mp.checked_sub(9)?, d))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        // A Timestamp's days lie within ±3·10^6, far from overflowing.
        let (y, m, d) = civil_from_days(days).ok_or(fmt::Error)?;
        // `{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z`, written
        // digit by digit: documents show several timestamps each, and
        // `write!` with padded arguments costs several times more.
        let mut text = *b"0000-00-00T00:00:00.000Z";
        for (at, width, value) in [
            (0, 4, y),
            (5, 2, m),
            (8, 2, d),
            (11, 2, ms / 3_600_000),
            (14, 2, ms / 60_000 % 60),
            (17, 2, ms / 1000 % 60),
            (20, 3, ms % 1000),
        ] {
            put_digits(text.get_mut(at..).and_then(|t| t.get_mut(..width)), value)?;
        }
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// Writes `value` into `slot` as decimal digits, zero-padded to its length;
/// an error when it is negative or has more digits (which no field of a
/// Timestamp has: its years are 0000–9999).
fn put_digits(slot: Option<&mut [u8]>, value: i64) -> fmt::Result {
    let slot = slot.ok_or(fmt::Error)?;
    let mut rest = u64::try_from(value).map_err(|_| fmt::Error)?;
    for digit in slot.iter_mut().rev() {
        *digit = b'0'.saturating_add(u8::try_from(rest % 10).map_err(|_| fmt::Error)?);
        rest /= 10;
    }
    if rest == 0 { Ok(()) } else { Err(fmt::Error) }
}

impl FromStr for Timestamp {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s).ok_or_else(|| {
            crate::Error::invalid(
                "",
                crate::ValidationCode::InvalidTimestamp,
                "not an RFC 3339 timestamp",
            )
        })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            Timestamp::parse(&text).ok_or_else(|| D::Error::custom("not an RFC 3339 timestamp"))
        } else {
            let millis = i64::deserialize(d)?;
            Timestamp::from_millis(millis).ok_or_else(|| D::Error::custom("timestamp out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit writing is the padded `write!` it replaced.
    #[test]
    fn writes_what_padded_formatting_writes() {
        let padded = |t: Timestamp| {
            let days = t.0.div_euclid(MS_PER_DAY);
            let ms = t.0.rem_euclid(MS_PER_DAY);
            let (y, m, d) = civil_from_days(days).unwrap();
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        let mut millis = vec![
            MIN_MILLIS,
            MIN_MILLIS + 1,
            -1,
            0,
            1,
            999,
            1000,
            MAX_MILLIS - 1,
            MAX_MILLIS,
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = (MAX_MILLIS - MIN_MILLIS) as u64;
            millis.push(MIN_MILLIS + (x % span) as i64);
        }
        for ms in millis {
            let t = Timestamp::from_millis(ms).unwrap();
            assert_eq!(t.to_string(), padded(t), "{ms}");
        }
    }

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_795_454_192_123).to_string(),
            "2026-11-23T17:16:32.123Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_dates_and_timestamps() {
        let t = Timestamp::parse("2026-11-23T17:16:32.123Z").unwrap();
        assert_eq!(t.as_millis(), 1_795_454_192_123);
        assert_eq!(Timestamp::parse("2026-11-23T17:16:32.123456Z"), Some(t));
        assert_eq!(Timestamp::parse("2026-11-23T18:16:32.123+01:00"), Some(t));
        assert_eq!(
            Timestamp::parse("2014-01-15").unwrap().to_string(),
            "2014-01-15T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse("2024-02-29T00:00:00Z")
                .unwrap()
                .to_string(),
            "2024-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn keeps_sub_millisecond_digits_apart() {
        let (t, nanos) = Timestamp::parse_precise("2026-11-23T17:16:32.123456789Z").unwrap();
        assert_eq!((t.as_millis(), nanos), (1_795_454_192_123, 456_789));
        assert_eq!(
            Timestamp::parse_precise("2026-11-23T17:16:32.1234Z")
                .unwrap()
                .1,
            400_000
        );
        assert_eq!(
            Timestamp::parse_precise("2026-11-23T17:16:32.123000000001Z")
                .unwrap()
                .1,
            1
        );
        assert_eq!(
            Timestamp::parse_precise("2026-11-23T17:16:32.123000Z")
                .unwrap()
                .1,
            0
        );
        assert_eq!(Timestamp::parse_precise("2014-01-15").unwrap().1, 0);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "2014-1-15",
            "2014-13-01",
            "2023-02-29",
            "2014-01-15T",
            "2014-01-15T10:00:00",
            "2014-01-15T25:00:00Z",
            "2014-01-15T10:00:00.Z",
            "2014-01-15T10:00:00+0100",
            "2014-01-15T10:00:00Zjunk",
            "é014-01-15",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_across_the_range() {
        for millis in [MIN_MILLIS, -86_400_001, 0, 951_782_400_000, MAX_MILLIS] {
            let t = Timestamp(millis);
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
        assert_eq!(Timestamp::from_millis(MAX_MILLIS + 1), None);
    }
}
