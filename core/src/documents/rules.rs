//! The field rules of docs/reference/documents.md, as pure functions, and a collector for their
//! failures.
//!
//! Lengths count Unicode scalar values. Messages name the rule, never the value.

use std::net::IpAddr;

use unicode_general_category::{GeneralCategory, get_general_category};

use crate::{Error, FieldError, Result, ValidationCode};

/// Collects every failing field of one document.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub(crate) fn new() -> Self {
        Problems::default()
    }

    /// Records a failure, unless the field already has one (the first is the most useful).
    pub(crate) fn add(
        &mut self,
        field: impl Into<String>,
        code: ValidationCode,
        message: impl Into<String>,
    ) {
        let field = field.into();
        if !self.has(&field) {
            self.0.push(FieldError::new(field, code, message));
        }
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Runs `rule` on `value` and records its failure under `field`.
    pub(crate) fn check(&mut self, field: &str, value: &str, rule: fn(&str) -> Checked) {
        if let Err((code, message)) = rule(value) {
            self.add(field, code, message);
        }
    }

    /// Like [`Problems::check`], for an optional value.
    pub(crate) fn check_opt(
        &mut self,
        field: &str,
        value: Option<&str>,
        rule: fn(&str) -> Checked,
    ) {
        if let Some(value) = value {
            self.check(field, value, rule);
        }
    }

    /// The same problems with `prefix` before every field name.
    pub(crate) fn prefixed(self, prefix: &str) -> Problems {
        Problems(
            self.0
                .into_iter()
                .map(|e| FieldError::new(format!("{prefix}{}", e.field), e.code, e.message))
                .collect(),
        )
    }

    pub(crate) fn merge(&mut self, other: Problems) {
        for e in other.0 {
            self.add(e.field, e.code, e.message);
        }
    }

    /// Adds the fields of a `Validation` error; any other error is returned.
    pub(crate) fn absorb<T>(&mut self, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(Error::Validation { errors }) => {
                for e in errors {
                    self.add(e.field, e.code, e.message);
                }
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    pub(crate) fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { errors: self.0 })
        }
    }
}

/// The most `externalIds` a user may have (docs/reference/documents.md, Bounds and characters).
pub(crate) const MAX_EXTERNAL_IDS: usize = 100;
/// The most `roles` a user or client may hold (docs/reference/documents.md, Bounds and characters).
pub(crate) const MAX_ROLES: usize = 1000;
/// The most `permissions` a role may grant (docs/reference/documents.md, Bounds and characters).
pub(crate) const MAX_PERMISSIONS: usize = 1000;
/// The most `ipAllowlist` entries a client may have (docs/reference/documents.md, Bounds and
/// characters).
pub(crate) const MAX_IP_ALLOWLIST: usize = 100;
/// The largest id or version: 2^53 − 1, so every JSON client holds it exactly
/// (docs/reference/documents.md, Bounds and characters).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Problems {
    /// Checks a `roles` list: at most [`MAX_ROLES`] ids, each at most
    /// 2^53 − 1 (docs/reference/documents.md, Bounds and characters).
    pub(crate) fn role_ids(&mut self, roles: &[u64]) {
        if self.bounded("roles", roles.len(), MAX_ROLES)
            && roles.iter().any(|&id| id > MAX_SAFE_INTEGER)
        {
            self.add(
                "roles",
                ValidationCode::NumberOutOfRange,
                format!("role ids are whole numbers from 1 to {MAX_SAFE_INTEGER}"),
            );
        }
    }

    /// Checks that list `field` has at most `max` entries (counted as
    /// given); false, with the problem noted, when it has more — then its
    /// entries are not checked one by one, so the error list stays short.
    pub(crate) fn bounded(&mut self, field: &str, len: usize, max: usize) -> bool {
        if len > max {
            self.add(
                field,
                ValidationCode::TooManyEntries,
                format!("may have at most {max} entries (has {len})"),
            );
            false
        } else {
            true
        }
    }
}

/// What a rule finds: nothing, or the code and message of the failure.
pub(crate) type Checked = Result<(), (ValidationCode, String)>;

fn length(value: &str, min: usize, max: usize) -> Checked {
    // A character is 1 to 4 bytes: a text of at most `max` bytes and at
    // least `4 * min` has a length in range without counting.
    if value.len() <= max && value.len() >= min.saturating_mul(4) {
        return Ok(());
    }
    let n = value.chars().count();
    let code = if n < min {
        ValidationCode::StringTooShort
    } else {
        ValidationCode::StringTooLong
    };
    if (min..=max).contains(&n) {
        Ok(())
    } else if min == 0 {
        Err((code, format!("must be at most {max} characters")))
    } else {
        Err((code, format!("must be {min} to {max} characters")))
    }
}

/// Refuses control characters (Unicode Cc, docs/reference/documents.md, Bounds and characters);
/// `multiline` lets tab and newline through (only `description` is multiline).
fn no_controls(value: &str, multiline: bool) -> Checked {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        Err((
            ValidationCode::ControlCharacters,
            if multiline {
                "may not contain control characters other than tab and newline".into()
            } else {
                "may not contain control characters".into()
            },
        ))
    } else {
        Ok(())
    }
}

/// A rule for free text: a length and no control characters.
macro_rules! text_rules {
    ($($name:ident: $min:literal..=$max:literal $(, $multiline:ident)?;)*) => {
        $(pub(crate) fn $name(value: &str) -> Checked {
            length(value, $min, $max)?;
            no_controls(value, text_rules!(@multiline $($multiline)?))
        })*
    };
    (@multiline multiline) => { true };
    (@multiline) => { false };
}

text_rules! {
    name_part: 1..=50;
    nickname: 0..=50;
    telephone_number: 1..=100;
    mobile_number: 1..=30;
    external_id_type: 1..=50;
    external_id_value: 1..=255;
    role_external_id: 1..=255;
    entity_name: 1..=100;
    description: 0..=500, multiline;
}

/// Letters of any script, ASCII digits and `@ . - _`; 1 to 100 characters.
pub(crate) fn username(value: &str) -> Checked {
    length(value, 1, 100)?;
    let letter = |c: char| {
        matches!(
            get_general_category(c),
            GeneralCategory::UppercaseLetter
                | GeneralCategory::LowercaseLetter
                | GeneralCategory::TitlecaseLetter
                | GeneralCategory::ModifierLetter
                | GeneralCategory::OtherLetter
        )
    };
    only(
        value,
        |c| letter(c) || c.is_ascii_digit() || matches!(c, '@' | '.' | '-' | '_'),
        "letters, ASCII digits and @ . - _",
    )
}

/// `local@domain`: one `@`, a non-empty local part, two or more non-empty
/// dot-separated domain labels, no whitespace; 5 to 255 characters.
pub(crate) fn email(value: &str) -> Checked {
    length(value, 5, 255)?;
    no_controls(value, false)?;
    let bad = || {
        Err((
            ValidationCode::InvalidEmail,
            "must be an address of the form local@domain.tld".into(),
        ))
    };
    let Some((local, domain)) = value.split_once('@') else {
        return bad();
    };
    if local.is_empty()
        || domain.contains('@')
        || value.chars().any(char::is_whitespace)
        || !domain.contains('.')
        || domain.split('.').any(str::is_empty)
    {
        return bad();
    }
    Ok(())
}

/// 1 to 64 characters of `[A-Za-z0-9._:-]`.
pub(crate) fn tenant(value: &str) -> Checked {
    length(value, 1, 64)?;
    only(
        value,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'),
        "A-Z a-z 0-9 . _ : -",
    )
}

/// 1 to 100 characters of `[A-Za-z0-9:._*-]`.
pub(crate) fn permission(value: &str) -> Checked {
    length(value, 1, 100)?;
    only(
        value,
        |c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '*' | '-'),
        "A-Z a-z 0-9 : . _ * -",
    )
}

/// Every character of `value` is `allowed`; else `InvalidCharacters`:
/// "may contain only `characters`".
fn only(value: &str, allowed: impl Fn(char) -> bool, characters: &str) -> Checked {
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err((
            ValidationCode::InvalidCharacters,
            format!("may contain only {characters}"),
        ))
    }
}

/// 8 to 1024 characters that RFC 8265 OpaqueString accepts (no control or
/// unassigned code points).
pub(crate) fn password(value: &str) -> Checked {
    length(value, 8, 1024)?;
    match crate::documents::credentials::normalize_password(value) {
        Some(_) => Ok(()),
        None => Err((
            ValidationCode::InvalidCharacters,
            crate::documents::credentials::NOT_OPAQUE_STRING.into(),
        )),
    }
}

/// A password hash of a format docs/reference/credentials.md, Passwords accepts, with bounded cost.
pub(crate) fn password_hash(value: &str) -> Checked {
    crate::documents::stored_hash::StoredHash::parse(value)
        .map(|_| ())
        .map_err(|message| (ValidationCode::InvalidHash, message))
}

/// An IPv4 or IPv6 address, or a CIDR block of one.
pub(crate) fn ip_or_cidr(value: &str) -> Checked {
    let bad = || {
        Err((
            ValidationCode::InvalidIp,
            "must be an IPv4 or IPv6 address or CIDR block".into(),
        ))
    };
    let (addr, prefix) = match value.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (value, None),
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        return bad();
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => Ok(()),
        Some(p) if p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u8>() {
            Ok(bits) if bits <= max => Ok(()),
            _ => bad(),
        },
        Some(_) => bad(),
    }
}

/// The largest `attributes` object, in bytes of compact JSON.
pub(crate) const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

/// The deepest nesting of objects and arrays allowed inside `attributes`.
pub const MAX_ATTRIBUTES_DEPTH: usize = 32;

/// The first member of the JSON object `doc` that nests objects and arrays
/// more than [`MAX_ATTRIBUTES_DEPTH`] levels: no valid member of any
/// document does. Every entry point that takes a `serde_json::Value` asks
/// this before it clones or walks the value, so no depth of input can
/// exhaust the stack (decision 0001).
pub(crate) fn too_deep_member(doc: &serde_json::Value) -> Option<&str> {
    let serde_json::Value::Object(members) = doc else {
        return None;
    };
    members
        .iter()
        .find(|(_, v)| too_deep(v, MAX_ATTRIBUTES_DEPTH))
        .map(|(k, _)| k.as_str())
}

/// The message for a value nested too deep.
pub(crate) fn too_deep_message() -> String {
    format!("may nest objects and arrays at most {MAX_ATTRIBUTES_DEPTH} levels deep")
}

/// Whether `value` nests objects and arrays deeper than `max` (checked
/// without recursion, so any depth is safe to check).
pub(crate) fn too_deep(value: &serde_json::Value, max: usize) -> bool {
    use serde_json::Value;
    let nests = |v: &Value| matches!(v, Value::Array(_) | Value::Object(_));
    if !nests(value) {
        return false;
    }
    // Only arrays and objects are stacked: scalars nest nothing.
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth >= max {
            return true;
        }
        let below = depth.saturating_add(1);
        match v {
            Value::Array(items) => {
                stack.extend(items.iter().filter(|c| nests(c)).map(|c| (c, below)))
            }
            Value::Object(map) => {
                stack.extend(map.values().filter(|c| nests(c)).map(|c| (c, below)))
            }
            _ => {}
        }
    }
    false
}

/// The length of `value` as compact JSON, counted as it is written
/// (`usize::MAX` when it cannot be written).
fn json_size(value: &serde_json::Map<String, serde_json::Value>) -> usize {
    /// Counts the bytes written to it.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(usize::MAX, |()| count.0)
}

/// At most 16 KiB as compact JSON, nested at most 32 levels.
pub(crate) fn attributes(value: &serde_json::Map<String, serde_json::Value>) -> Checked {
    if value
        .values()
        .any(|v| too_deep(v, MAX_ATTRIBUTES_DEPTH - 1))
    {
        return Err((ValidationCode::TooDeep, too_deep_message()));
    }
    let size = json_size(value);
    if size <= MAX_ATTRIBUTES_BYTES {
        Ok(())
    } else {
        Err((
            ValidationCode::TooLarge,
            format!("must be at most {MAX_ATTRIBUTES_BYTES} bytes as JSON"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_accept_letters_of_any_script() {
        for ok in [
            "a",
            "Zoë",
            "李小龙",
            "o'neil".replace('\'', "_").as_str(),
            "a.b-c_d@e",
            "x1",
        ] {
            assert_eq!(username(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a b", "a+b", "e\u{301}", "ab!", "١٢"] {
            assert!(username(bad).is_err(), "{bad}");
        }
        assert!(username(&"a".repeat(100)).is_ok());
        assert!(username(&"a".repeat(101)).is_err());
    }

    /// The length rule counts characters, not bytes, on both sides of
    /// the bounds, for texts of one- to four-byte characters.
    #[test]
    fn lengths_count_characters() {
        for c in ["a", "é", "李", "😀"] {
            for n in 0..=12 {
                let text = c.repeat(n);
                for (min, max) in [(0, 3), (1, 4), (2, 8), (3, 10), (5, 12), (1, 100)] {
                    assert_eq!(
                        length(&text, min, max).is_ok(),
                        (min..=max).contains(&n),
                        "{n} × {c:?} in {min}..={max}"
                    );
                }
            }
        }
    }

    #[test]
    fn emails_follow_the_decided_shape() {
        for ok in ["a@b.c", "first.last@example.co.uk", "ü@bücher.de"] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ab.cd", "@b.cd", "a@b@c.d", "a@bcd", "a@b..d", "a@.bc", "a@bc.", "a b@c.d", "a@b.c\t",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip_allowlist_entries() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "::1",
            "2001:db8::/32",
            "::/128",
        ] {
            assert_eq!(ip_or_cidr(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "10.0.0.256",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "host",
        ] {
            assert!(ip_or_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_are_bounded_in_size_and_depth() {
        use serde_json::{Map, Value, json};
        let nest = |levels: usize| {
            let mut v = json!(1);
            for _ in 0..levels {
                v = json!([v]);
            }
            v
        };
        let map = |v: Value| Map::from_iter([("k".to_owned(), v)]);
        // The map itself is level 1, so `k` may nest 31 more.
        assert_eq!(attributes(&map(nest(31))), Ok(()));
        assert!(attributes(&map(nest(32))).is_err());
        assert!(too_deep(&nest(1000), 32));
        assert!(!too_deep(&json!({"a": {"b": [1, 2]}}), 3));
        assert!(too_deep(&json!({"a": {"b": [1, 2]}}), 2));
        let big = "x".repeat(MAX_ATTRIBUTES_BYTES - 8);
        assert_eq!(attributes(&map(json!(big))), Ok(()));
        assert!(attributes(&map(json!(format!("{big}x")))).is_err());
    }

    #[test]
    fn problems_keep_the_first_message_per_field() {
        let mut p = Problems::new();
        p.add("a", ValidationCode::Missing, "first");
        p.add("a", ValidationCode::StringType, "second");
        p.add("b", ValidationCode::Duplicate, "other");
        match p.into_result() {
            Err(Error::Validation { errors }) => {
                assert_eq!(
                    errors,
                    vec![
                        FieldError::new("a", ValidationCode::Missing, "first"),
                        FieldError::new("b", ValidationCode::Duplicate, "other")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
