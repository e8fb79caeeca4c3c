//! Number literals in queries (docs/reference/queries.md, Semantics; docs/reference/errors.md):
//! what a text or a literal reads as, and errors that tell "not a number"
//! from "out of range", giving the range.
//!
//! - A whole number in a query (expression form, or parameter text for an
//!   `attributes` path) is a 64-bit integer: from −2^63 to 2^64 − 1.
//!   Beyond that it is out of range; a number with a fraction or an
//!   exponent is a double and must be finite.
//! - Integer fields (`id`, `version`, `roles`) take whole numbers from 0 to
//!   2^64 − 1; a literal like `3.0` or `1e2` is the whole number it equals.

use serde_json::Number;

/// The range of whole numbers a query can write.
pub(crate) const WHOLE_RANGE: &str = "-9223372036854775808 to 18446744073709551615";
/// The range of an integer field's literals.
pub(crate) const UNSIGNED_RANGE: &str = "0 to 18446744073709551615";

/// Why a number literal does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misfit {
    /// The text is not a number at all.
    NotANumber,
    /// A number with a fraction where a whole number is needed.
    NotWhole,
    /// A number below the range.
    TooSmall,
    /// A number above the range (or a double beyond the finite ones).
    TooLarge,
}

/// Whether `text` is a number in JSON syntax:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn json_syntax(text: &str) -> bool {
    after_number(text.as_bytes()).is_some_and(<[u8]>::is_empty)
}

/// What follows the JSON number `b` starts with (taking all the digits,
/// fraction and exponent it can), or `None` when it does not start with one.
fn after_number(b: &[u8]) -> Option<&[u8]> {
    let unsigned = b.strip_prefix(b"-").unwrap_or(b);
    let mut rest = match unsigned {
        [b'0', rest @ ..] => rest,
        _ => after_digits(unsigned)?,
    };
    if let Some(fraction) = rest.strip_prefix(b".") {
        rest = after_digits(fraction)?;
    }
    if let [b'e' | b'E', exponent @ ..] = rest {
        let unsigned = match exponent {
            [b'+' | b'-', unsigned @ ..] => unsigned,
            _ => exponent,
        };
        rest = after_digits(unsigned)?;
    }
    Some(rest)
}

/// `b` after its leading ASCII digits, or `None` when it has none.
fn after_digits(b: &[u8]) -> Option<&[u8]> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 { None } else { b.get(n..) }
}

/// The value of a number in JSON syntax: a `u64` or (negative) `i64` for a
/// whole number without fraction or exponent, else a finite `f64`.
pub(crate) fn json_number(text: &str) -> Result<Number, Misfit> {
    if !json_syntax(text) {
        return Err(Misfit::NotANumber);
    }
    let integer = !text.contains(['.', 'e', 'E']);
    if integer {
        return if let Some(digits) = text.strip_prefix('-') {
            text.parse::<i64>().map(Number::from).map_err(|_| {
                if digits.bytes().all(|d| d == b'0') {
                    Misfit::NotANumber
                } else {
                    Misfit::TooSmall
                }
            })
        } else {
            text.parse::<u64>()
                .map(Number::from)
                .map_err(|_| Misfit::TooLarge)
        };
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or(Misfit::TooLarge)
}

/// A whole number from 0 to 2^64 − 1 for an integer field, from parameter
/// text: decimal digits (leading zeros allowed), a `-` for a number below
/// the range, or any number in JSON syntax that equals a whole number.
pub(crate) fn unsigned_text(text: &str) -> Result<u64, Misfit> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if !digits.is_empty() && digits.bytes().all(|d| d.is_ascii_digit()) {
        let zero = digits.bytes().all(|d| d == b'0');
        return match digits.parse::<u64>() {
            _ if negative && !zero => Err(Misfit::TooSmall),
            Ok(n) => Ok(n),
            // Only digits: the parse fails only by overflow.
            Err(_) => Err(Misfit::TooLarge),
        };
    }
    unsigned(&json_number(text)?)
}

/// A literal number for an integer field: a whole number from 0 to 2^64 − 1.
pub(crate) fn unsigned(n: &Number) -> Result<u64, Misfit> {
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    if n.is_i64() {
        return Err(Misfit::TooSmall);
    }
    let f = n.as_f64().ok_or(Misfit::NotANumber)?;
    // 2^64 as a double; every whole double below it converts exactly.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    if f.fract() != 0.0 {
        Err(Misfit::NotWhole)
    } else if f < 0.0 {
        Err(Misfit::TooSmall)
    } else if f >= LIMIT {
        Err(Misfit::TooLarge)
    } else {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(f as u64)
    }
}

/// How a number literal is shown in a message: its text, cut when long.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// The message for a literal of an integer field that does not fit.
pub(crate) fn unsigned_message(field: &str, text: &str, misfit: Misfit) -> String {
    let n = shown(text);
    match misfit {
        Misfit::NotANumber => format!(
            "{field} takes whole numbers from {UNSIGNED_RANGE}; the value given is not a number"
        ),
        Misfit::NotWhole => {
            format!("{field} takes whole numbers from {UNSIGNED_RANGE}; {n} is not a whole number")
        }
        Misfit::TooSmall => format!(
            "{n} is out of range (too small): {field} takes whole numbers from {UNSIGNED_RANGE}"
        ),
        Misfit::TooLarge => format!(
            "{n} is out of range (too large): {field} takes whole numbers from {UNSIGNED_RANGE}"
        ),
    }
}

/// The code of a literal of an integer field that does not fit:
/// out of range, or not a whole number at all.
pub(crate) fn misfit_code(misfit: Misfit) -> crate::QueryCode {
    match misfit {
        Misfit::TooSmall | Misfit::TooLarge => crate::QueryCode::NumberOutOfRange,
        Misfit::NotANumber | Misfit::NotWhole => crate::QueryCode::TypeMismatch,
    }
}

/// The message for a number in JSON syntax that no query value can hold.
pub(crate) fn range_message(text: &str, misfit: Misfit) -> String {
    let n = shown(text);
    let integer = !text.contains(['.', 'e', 'E']);
    match (misfit, integer) {
        (Misfit::TooSmall, _) => format!(
            "the number {n} is out of range (too small): whole numbers must be from {WHOLE_RANGE}"
        ),
        (_, true) => format!(
            "the number {n} is out of range (too large): whole numbers must be from {WHOLE_RANGE} \
             (write a decimal point or an exponent for a floating-point number)"
        ),
        (_, false) => format!(
            "the number {n} is out of range (too large): a floating-point number must be \
             finite, at most about 1.8e308 in size"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_syntax_is_exact() {
        for good in [
            "0", "-0", "7", "-12", "1.5", "0.25", "1e3", "1E+3", "2.5e-3", "-0.0",
        ] {
            assert!(json_syntax(good), "{good}");
        }
        for bad in [
            "", "-", "07", "+1", ".5", "1.", "1e", "1e+", "0x10", "1_000", " 1", "NaN", "inf",
        ] {
            assert!(!json_syntax(bad), "{bad}");
        }
    }

    #[test]
    fn json_numbers_tell_range_from_syntax() {
        assert_eq!(
            json_number("18446744073709551615"),
            Ok(Number::from(u64::MAX))
        );
        assert_eq!(
            json_number("-9223372036854775808"),
            Ok(Number::from(i64::MIN))
        );
        assert_eq!(json_number("18446744073709551616"), Err(Misfit::TooLarge));
        assert_eq!(json_number("-9223372036854775809"), Err(Misfit::TooSmall));
        assert_eq!(json_number("1e999"), Err(Misfit::TooLarge));
        assert_eq!(json_number("-1e999"), Err(Misfit::TooLarge));
        assert_eq!(json_number("1e-999"), Ok(Number::from_f64(0.0).unwrap()));
        assert_eq!(json_number("abc"), Err(Misfit::NotANumber));
        assert_eq!(json_number("007"), Err(Misfit::NotANumber));
    }

    #[test]
    fn unsigned_literals() {
        let cases: [(&str, Result<u64, Misfit>); 16] = [
            ("0", Ok(0)),
            ("007", Ok(7)),
            ("-0", Ok(0)),
            ("18446744073709551615", Ok(u64::MAX)),
            ("3.0", Ok(3)),
            ("1e2", Ok(100)),
            ("1.8446744073709550e19", Ok(18_446_744_073_709_549_568)),
            ("18446744073709551616", Err(Misfit::TooLarge)),
            ("99999999999999999999999999", Err(Misfit::TooLarge)),
            ("1.8446744073709552e19", Err(Misfit::TooLarge)),
            ("1e999", Err(Misfit::TooLarge)),
            ("-1", Err(Misfit::TooSmall)),
            ("-99999999999999999999999", Err(Misfit::TooSmall)),
            ("-2.0", Err(Misfit::TooSmall)),
            ("1.5", Err(Misfit::NotWhole)),
            ("abc", Err(Misfit::NotANumber)),
        ];
        for (text, expected) in cases {
            assert_eq!(unsigned_text(text), expected, "{text}");
        }
        for text in ["", "+1", "1 2", "0x1", "١"] {
            assert_eq!(unsigned_text(text), Err(Misfit::NotANumber), "{text}");
        }
    }

    #[test]
    fn messages_say_which_way_and_give_the_range() {
        let too_large = unsigned_message("id", "18446744073709551616", Misfit::TooLarge);
        assert_eq!(
            too_large,
            "18446744073709551616 is out of range (too large): id takes whole numbers \
             from 0 to 18446744073709551615"
        );
        assert!(unsigned_message("id", "-1", Misfit::TooSmall).contains("too small"));
        let nan = unsigned_message("id", "secret", Misfit::NotANumber);
        assert!(
            nan.contains("not a number") && !nan.contains("secret"),
            "{nan}"
        );
        assert!(
            unsigned_message("roles", "1.5", Misfit::NotWhole)
                .contains("1.5 is not a whole number")
        );
        assert!(range_message("1e999", Misfit::TooLarge).contains("finite"));
        assert!(range_message("18446744073709551616", Misfit::TooLarge).contains(WHOLE_RANGE));
        assert!(shown(&"9".repeat(100)).ends_with('…'));
    }
}
