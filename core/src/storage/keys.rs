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
        self.0.reserve(part.len().saturating_add(1));
        // Copied a run between inner `0x00`s at a time.
        let mut runs = part.as_bytes().split(|&byte| byte == 0);
        if let Some(first) = runs.next() {
            self.0.extend_from_slice(first);
        }
        for run in runs {
            self.0.extend_from_slice(&[0, 0xFF]);
            self.0.extend_from_slice(run);
        }
        self.0.push(0);
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

    #[test]
    fn trailing_integers_and_prefix_ends() {
        let key = Key::new().str("x").u64(42).into_bytes();
        assert_eq!(trailing_u64(&key), Some(42));
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
