//! Timestamps, written independently of the store's own code: RFC 3339 and
//! dates to nanoseconds since the epoch, and back in several forms.

pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
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

pub const NANOS_PER_SEC: i128 = 1_000_000_000;
pub const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SEC;

/// Nanoseconds since the epoch of `YYYY-MM-DD` (midnight UTC) or an RFC 3339
/// timestamp (`YYYY-MM-DDTHH:MM:SS[.f]` and `Z` or `±HH:MM`).
pub fn parse_ts(s: &str) -> Option<i128> {
    let num = |t: &str| -> Option<i64> {
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let days = days_from_civil(num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let mut nanos = i128::from(days) * NANOS_PER_DAY;
    if b.len() == 10 {
        return Some(nanos);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let secs = num(&s[11..13])? * 3600 + num(&s[14..16])? * 60 + num(&s[17..19])?;
    nanos += i128::from(secs) * NANOS_PER_SEC;
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let value: i128 = frac[..digits].parse().ok()?;
        nanos += value * 10i128.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    match rest {
        "Z" | "z" => Some(nanos),
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let offset = num(&rest[1..3])? * 3600 + num(&rest[4..6])? * 60;
            Some(nanos - i128::from(sign * offset) * NANOS_PER_SEC)
        }
        _ => None,
    }
}

/// Prints an instant in one of several equivalent or nearby RFC 3339 forms.
pub fn format_ts(nanos: i128, form: u8) -> String {
    let (offset_secs, suffix) = match form % 6 {
        1 => (7200, "+02:00".to_owned()),
        2 => (-19800, "-05:30".to_owned()),
        _ => (0, "Z".to_owned()),
    };
    let local = nanos + i128::from(offset_secs) * NANOS_PER_SEC;
    let days = local.div_euclid(NANOS_PER_DAY);
    let in_day = local.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(i64::try_from(days).expect("a sane date"));
    let date = format!("{y:04}-{m:02}-{d:02}");
    if form % 6 == 4 {
        return date;
    }
    let secs = in_day / NANOS_PER_SEC;
    let frac = in_day % NANOS_PER_SEC;
    let clock = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let frac = match form % 6 {
        5 if frac == 0 => String::new(),
        3 => format!(".{frac:09}"),
        _ if frac % 1_000_000 == 0 => format!(".{:03}", frac / 1_000_000),
        _ => format!(".{frac:09}"),
    };
    format!("{date}T{clock}{frac}{suffix}")
}
