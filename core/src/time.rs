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
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(-MIN_MILLIS),
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
            return Timestamp::from_millis(date * MS_PER_DAY).map(|t| (t, 0));
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.len() < 20 {
            return None;
        }
        let hour = digits(&b[11..13])?;
        let minute = digits(&b[14..16])?;
        let second = digits(&b[17..19])?;
        if b[13] != b':' || b[16] != b':' || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &b[19..];
        let mut millis = 0;
        let mut nanos = 0u32;
        if let Some((b'.', frac)) = rest.split_first() {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            for (i, c) in frac[..n.min(3)].iter().enumerate() {
                millis += i64::from(c - b'0') * [100, 10, 1][i];
            }
            // Digits 4 to 9 are nanoseconds within the millisecond; beyond, below a nanosecond.
            for (i, c) in frac[n.min(3)..n.min(9)].iter().enumerate() {
                nanos += u32::from(c - b'0') * [100_000, 10_000, 1000, 100, 10, 1][i];
            }
            if nanos == 0 && frac[n.min(9)..n].iter().any(|&c| c != b'0') {
                nanos = 1;
            }
            rest = &frac[n..];
        }
        let offset_minutes = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2])?;
                let m = digits(&[*m1, *m2])?;
                if h > 23 || m > 59 {
                    return None;
                }
                let total = h * 60 + m;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let seconds = hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
        Timestamp::from_millis(date * MS_PER_DAY + seconds * 1000 + millis).map(|t| (t, nanos))
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, c| n * 10 + i64::from(c - b'0')))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, checking the day exists.
fn parse_date(b: &[u8]) -> Option<i64> {
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    }
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
