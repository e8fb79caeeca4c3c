//! Order-preserving encoding of index keys.
//!
//! A key is a tuple of parts appended in order: strings end with `0x00` (an
//! inner `0x00` is written `0x00 0xFF`), integers are 8 bytes big-endian.
//! Byte order of the encoded keys is then the tuple order of their parts, so
//! an index can be range-scanned by any prefix of its parts.

/// Builds one encoded index key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Key(Vec<u8>);

impl Key {
    pub(crate) fn new() -> Self {
        Key(Vec::with_capacity(32))
    }

    /// Appends a string part.
    pub(crate) fn str(mut self, part: &str) -> Self {
        self.push_str(part);
        self
    }

    /// Appends a string part in place (a key buffer reused for many keys).
    pub(crate) fn push_str(&mut self, part: &str) {
        push_str(&mut self.0, part);
    }

    /// Appends a text value as an index holds it: its case-folded form,
    /// then its exact form ([`push_text`]).
    pub(crate) fn text(mut self, folded: &str, exact: &str) -> Self {
        push_text(&mut self.0, folded, exact);
        self
    }

    /// Empties the key, keeping its buffer, and starts it with `part`.
    pub(crate) fn restart(&mut self, part: u8) {
        self.0.clear();
        self.0.push(part);
    }

    /// Appends an optional tenant: no tenant is the empty string, which no tenant can be.
    pub(crate) fn tenant(self, tenant: Option<&str>) -> Self {
        self.str(tenant.unwrap_or(""))
    }

    /// Appends one byte (a marker or a boolean).
    pub(crate) fn byte(mut self, part: u8) -> Self {
        self.0.push(part);
        self
    }

    /// Appends a signed integer so that byte order is numeric order.
    pub(crate) fn i64(self, part: i64) -> Self {
        self.u64(part.cast_unsigned() ^ (1 << 63))
    }

    /// Appends the bytes of a string part without its terminator: a prefix
    /// of every key whose string part starts with `part`.
    pub(crate) fn str_prefix(mut self, part: &str) -> Self {
        for &byte in part.as_bytes() {
            self.0.push(byte);
            if byte == 0 {
                self.0.push(0xFF);
            }
        }
        self
    }

    /// Appends an integer part.
    pub(crate) fn u64(mut self, part: u64) -> Self {
        self.0.extend_from_slice(&part.to_be_bytes());
        self
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The key's bytes followed by `tail` (a fixed-size last part).
    pub(crate) fn bytes_with(&self, tail: &[u8]) -> Vec<u8> {
        let mut out = self.0.clone();
        out.extend_from_slice(tail);
        out
    }
}

/// Appends a string part to a key buffer, as [`Key::str`] does.
pub(crate) fn push_str(key: &mut Vec<u8>, part: &str) {
    let bytes = part.as_bytes();
    key.reserve(bytes.len().saturating_add(1));
    // Copied a run between inner `0x00`s at a time.
    let mut runs = bytes.split(|&byte| byte == 0);
    if let Some(first) = runs.next() {
        key.extend_from_slice(first);
    }
    for run in runs {
        key.extend_from_slice(&[0, 0xFF]);
        key.extend_from_slice(run);
    }
    key.push(0);
}

/// The tag of a text's exact form that sorts before its folded form.
const EXACT_BELOW: u8 = 0x01;
/// The tag of a text that is its own folded form (nothing follows it).
const EXACT_SAME: u8 = 0x02;
/// The tag of a text's exact form that sorts after its folded form.
const EXACT_ABOVE: u8 = 0x03;

/// Appends a text value as an ordered index holds it (format 11): its
/// case-folded form as a string part, then its exact form as a tag and,
/// unless the text is its own folded form, a string part. A text equal to
/// its folded form (most e-mail addresses and usernames) then takes one
/// byte for its exact form instead of its whole length again. The tags
/// keep byte order the order of (folded, exact): among the texts of one
/// folded form, those whose exact form sorts before the folded form come
/// first (tag 1, by exact form), then the folded form itself (tag 2),
/// then the rest (tag 3, by exact form).
pub(crate) fn push_text(key: &mut Vec<u8>, folded: &str, exact: &str) {
    push_str(key, folded);
    match exact.as_bytes().cmp(folded.as_bytes()) {
        std::cmp::Ordering::Equal => key.push(EXACT_SAME),
        std::cmp::Ordering::Less => {
            key.push(EXACT_BELOW);
            push_str(key, exact);
        }
        std::cmp::Ordering::Greater => {
            key.push(EXACT_ABOVE);
            push_str(key, exact);
        }
    }
}

/// Reads a text value from the start of `bytes`, as [`push_text`] wrote
/// it: its folded and exact forms and the bytes after it, or `None` when
/// the bytes hold none.
pub(crate) fn read_text(bytes: &[u8]) -> Option<(String, String, &[u8])> {
    let (folded, rest) = read_str(bytes)?;
    let (&tag, rest) = rest.split_first()?;
    match tag {
        EXACT_SAME => Some((folded.clone(), folded, rest)),
        EXACT_BELOW | EXACT_ABOVE => {
            let (exact, rest) = read_str(rest)?;
            Some((folded, exact, rest))
        }
        _ => None,
    }
}

/// Reads a string part from the start of `bytes` (as [`Key::str`] wrote
/// it: up to its terminator, an inner `0x00 0xFF` standing for `0x00`);
/// returns the string and the bytes after its terminator, or `None` when
/// the bytes hold no terminated UTF-8 string part. The part must be the
/// last or followed by another string part: a terminator followed by an
/// integer part starting `0xFF` would read as an inner `0x00` (no UTF-8
/// text starts with `0xFF`).
pub(crate) fn read_str(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        match *bytes.get(at)? {
            0 if bytes.get(at.saturating_add(1)) == Some(&0xFF) => {
                out.push(0);
                at = at.saturating_add(2);
            }
            0 => {
                let text = String::from_utf8(out).ok()?;
                return Some((text, bytes.get(at.saturating_add(1)..)?));
            }
            byte => {
                out.push(byte);
                at = at.saturating_add(1);
            }
        }
    }
}

/// Reads the trailing 8-byte integer part of an encoded key.
pub(crate) fn trailing_u64(key: &[u8]) -> Option<u64> {
    let (_, tail) = key.split_last_chunk::<8>()?;
    Some(u64::from_be_bytes(*tail))
}

/// The smallest key greater than every key starting with `prefix`, if any.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if let Some(next) = last.checked_add(1) {
            end.push(next);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::caseless::fold;

    #[test]
    fn byte_order_is_tuple_order() {
        let k = |a: &str, n: u64| Key::new().str(a).u64(n).into_bytes();
        let mut keys = vec![
            k("ab", 1),
            k("a", 9),
            k("a\0b", 0),
            k("", 5),
            k("b", 0),
            k("a", 2),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                k("", 5),
                k("a", 2),
                k("a", 9),
                k("a\0b", 0),
                k("ab", 1),
                k("b", 0)
            ]
        );
    }

    #[test]
    fn signed_integers_keep_their_order() {
        let mut keys: Vec<_> = [5i64, -1, i64::MIN, 0, i64::MAX]
            .iter()
            .map(|&n| (Key::new().i64(n).into_bytes(), n))
            .collect();
        keys.sort();
        let order: Vec<i64> = keys.into_iter().map(|(_, n)| n).collect();
        assert_eq!(order, [i64::MIN, -1, 0, 5, i64::MAX]);
    }

    #[test]
    fn string_prefixes_prefix_their_keys() {
        let key = Key::new().str("alice").u64(3).into_bytes();
        assert!(key.starts_with(Key::new().str_prefix("ali").bytes()));
        assert!(!key.starts_with(Key::new().str_prefix("alx").bytes()));
    }

    #[test]
    fn strings_with_nul_do_not_collide() {
        assert_ne!(
            Key::new().str("a\0").str("b"),
            Key::new().str("a").str("\0b")
        );
    }

    #[test]
    fn string_parts_read_back() {
        for (a, b) in [("", "x"), ("a\0b", "\0"), ("müller", "Müller"), ("a\0", "")] {
            let key = Key::new().str(a).str(b).u64(7).into_bytes();
            let (first, rest) = read_str(&key).unwrap();
            let (second, rest) = read_str(rest).unwrap();
            assert_eq!((first.as_str(), second.as_str()), (a, b));
            assert_eq!(trailing_u64(rest), Some(7));
        }
        assert_eq!(read_str(b"abc"), None, "no terminator");
        assert_eq!(read_str(&[0xC3, 0]), None, "not UTF-8");
    }

    /// Texts whose folded and exact forms relate every way: equal, the
    /// exact form before (capitals) and after (`ß`, fullwidth, a composed
    /// `ñ` against nothing) its folded form, inner `0x00`, empty.
    const TEXTS: [&str; 24] = [
        "", "a", "A", "ng", "Ng", "NG", "ñg", "Ñg", "weiss", "Weiss", "weiß", "WEISS", "Weiß",
        "ss", "ß", "SS", "ａｂ", "ab", "AB", "a\0b", "A\0b", "\0", "x", "ǅ",
    ];

    /// The key a text value of record `id` takes in an ordered index.
    fn text_key(text: &str, id: u64) -> Vec<u8> {
        Key::new()
            .byte(1)
            .text(&fold(text), text)
            .u64(id)
            .into_bytes()
    }

    /// Byte order of text keys is the order of (folded, exact, id).
    fn assert_tuple_order(texts: &[String]) {
        let mut by_key: Vec<(Vec<u8>, &str, u64)> = Vec::new();
        for (at, text) in texts.iter().enumerate() {
            for id in [1_u64, 2] {
                let id = u64::try_from(at)
                    .unwrap()
                    .saturating_mul(2)
                    .saturating_add(id);
                by_key.push((text_key(text, id), text, id));
            }
        }
        let mut by_tuple: Vec<(String, &str, u64)> =
            by_key.iter().map(|&(_, t, id)| (fold(t), t, id)).collect();
        by_key.sort();
        by_tuple.sort();
        let keyed: Vec<(&str, u64)> = by_key.iter().map(|&(_, t, id)| (t, id)).collect();
        let tupled: Vec<(&str, u64)> = by_tuple.iter().map(|&(_, t, id)| (t, id)).collect();
        assert_eq!(keyed, tupled);
    }

    #[test]
    fn text_keys_sort_as_folded_then_exact_then_id() {
        let texts: Vec<String> = TEXTS.iter().map(|t| (*t).to_owned()).collect();
        assert_tuple_order(&texts);
    }

    proptest::proptest! {
        #[test]
        fn text_keys_sort_as_folded_then_exact_for_any_texts(
            texts in proptest::collection::vec("[aAsSßẞ\\x00ñÑＡａ̃İı]{0,4}", 1..12)
        ) {
            assert_tuple_order(&texts);
        }
    }

    #[test]
    fn text_values_read_back_and_a_folded_text_takes_one_byte_more() {
        for text in TEXTS {
            let folded = fold(text);
            let key = Key::new().text(&folded, text).u64(9).into_bytes();
            let (f, exact, rest) = read_text(&key).unwrap();
            assert_eq!((f.as_str(), exact.as_str()), (folded.as_str(), text));
            assert_eq!(trailing_u64(rest), Some(9));
            let whole = Key::new().str(&folded).into_bytes().len();
            if folded == text {
                assert_eq!(key.len(), whole + 1 + 8, "{text:?}");
            } else {
                let exact_len = Key::new().str(text).into_bytes().len();
                assert_eq!(key.len(), whole + 1 + exact_len + 8, "{text:?}");
            }
        }
        assert_eq!(read_text(b"ab\0"), None, "no tag");
        assert_eq!(read_text(b"ab\0\x07"), None, "an unknown tag");
        assert_eq!(read_text(b"ab\0\x01AB"), None, "an exact form unterminated");
    }

    #[test]
    fn trailing_integers_and_prefix_ends() {
        let key = Key::new().str("x").u64(42).into_bytes();
        assert_eq!(trailing_u64(&key), Some(42));
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
