//! Checking a password against a stored hash (docs/reference/credentials.md, Passwords): the
//! store's own argon2id and the formats imported from other systems, parsed and bounded
//! by [`StoredHash::parse`] (see `documents::stored_hash`).
//!
//! [`StoredHash::verify`] recomputes the hash with the scheme's own crate
//! and compares in constant time; it never panics and any failure is `false`.
//! bcrypt uses only the first 72 bytes of a password (see
//! `documents::stored_hash`).
//!
//! The vectors in `tests/vectors/password_hashes.json` were made by independent
//! tools (argon2-cffi, pyca bcrypt, passlib, Django, Python's hashlib).

use argon2::{Algorithm, Argon2, Version};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::documents::stored_hash::{Digest, Kind, OUTPUT_BYTES, StoredHash};

impl StoredHash {
    /// Whether `password` (bytes as given; the caller normalises) matches, in constant time
    /// with respect to the hash comparison. Never panics, whatever the input (empty, 1 MB, NUL bytes).
    ///
    /// bcrypt uses only the first 72 bytes of `password` (see the module documentation).
    pub fn verify(&self, password: &[u8]) -> bool {
        #[cfg(feature = "internals")]
        crate::internals::work::record(match &self.kind {
            Kind::Argon2 { params, .. } => crate::internals::work::Hashing::Argon2 {
                memory_kib: params.m_cost(),
                iterations: params.t_cost(),
                parallelism: params.p_cost(),
            },
            Kind::Bcrypt { .. } => crate::internals::work::Hashing::Other("bcrypt"),
            Kind::Pbkdf2 { .. } => crate::internals::work::Hashing::Other("pbkdf2"),
            Kind::Scrypt { .. } => crate::internals::work::Hashing::Other("scrypt"),
        });
        match &self.kind {
            Kind::Argon2 {
                algorithm,
                version,
                params,
                salt,
                hash,
            } => recomputed_equals(hash, |out| {
                Argon2::new(*algorithm, *version, params.clone())
                    .hash_password_into(password, salt, out)
                    .is_ok()
            }),
            // `bcrypt::verify` truncates at 72 bytes and compares in constant time.
            Kind::Bcrypt { text, .. } => bcrypt::verify(password, text).unwrap_or(false),
            Kind::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
                ..
            } => recomputed_equals(hash, |out| {
                match digest {
                    Digest::Sha256 => {
                        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *iterations, out);
                    }
                    Digest::Sha512 => {
                        pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, out);
                    }
                }
                true
            }),
            Kind::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                    return false;
                };
                recomputed_equals(hash, |out| {
                    scrypt::scrypt(password, salt, &params, out).is_ok()
                })
            }
        }
    }

    /// Whether this is an argon2id, version 0x13 hash with exactly these parameters
    /// (memory KiB, iterations, parallelism) — i.e. it needs no re-hash.
    pub(crate) fn is_current(&self, memory_kib: u32, iterations: u32, parallelism: u32) -> bool {
        match &self.kind {
            Kind::Argon2 {
                algorithm: Algorithm::Argon2id,
                version: Version::V0x13,
                params,
                ..
            } => {
                params.m_cost() == memory_kib
                    && params.t_cost() == iterations
                    && params.p_cost() == parallelism
            }
            _ => false,
        }
    }
}

/// Whether `compute`, writing an output of `hash`'s length, succeeds and
/// writes `hash`: compared in constant time.
fn recomputed_equals(hash: &[u8], compute: impl FnOnce(&mut [u8]) -> bool) -> bool {
    let mut buffer = [0u8; *OUTPUT_BYTES.end()];
    let Some(out) = buffer.get_mut(..hash.len()) else {
        return false;
    };
    compute(out) && bool::from(out.ct_eq(hash))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../tests/vectors/password_hashes.json");

    fn vectors() -> Value {
        serde_json::from_str(VECTORS).expect("password_hashes.json is JSON")
    }

    fn list<'a>(value: &'a Value, key: &str) -> &'a Vec<Value> {
        value[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is an array"))
    }

    fn text<'a>(value: &'a Value, key: &str) -> &'a str {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("`{key}` is a string"))
    }

    fn strings<'a>(value: &'a Value, key: &str) -> Vec<&'a str> {
        list(value, key)
            .iter()
            .map(|s| s.as_str().expect("a string"))
            .collect()
    }

    /// The list `key` of the vectors, which must hold more than `min` of them.
    fn more_than<'a>(vectors: &'a Value, key: &str, min: usize) -> &'a Vec<Value> {
        let items = list(vectors, key);
        assert!(
            items.len() > min,
            "suspiciously few {key} vectors: {}",
            items.len()
        );
        items
    }

    /// Fails naming every failure, if there is any.
    fn assert_none(failures: &[String]) {
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// Identifiers and parameter fields, which messages and Debug may name.
    fn is_ident_or_params(segment: &str) -> bool {
        segment.contains('=')
            || [
                "argon2id",
                "argon2i",
                "argon2d",
                "pbkdf2-sha256",
                "pbkdf2-sha512",
                "pbkdf2_sha256",
                "scrypt",
            ]
            .contains(&segment)
    }

    /// The salt and hash fields of a hash text (bcrypt: its 22 + 31 characters).
    fn secret_parts(hash: &str) -> Vec<&str> {
        if hash.starts_with("$2") && hash.len() == 60 {
            return vec![&hash[7..29], &hash[29..]];
        }
        hash.rsplit('$').take(2).filter(|s| s.len() >= 8).collect()
    }

    /// Whether a check with this hash is cheap enough for a test loop.
    fn cheap(hash: &StoredHash) -> bool {
        match &hash.kind {
            Kind::Argon2 { params, .. } => {
                u64::from(params.m_cost()) * u64::from(params.t_cost()) <= 4096
            }
            Kind::Bcrypt { cost, .. } => *cost <= 6,
            Kind::Pbkdf2 { iterations, .. } => *iterations <= 20_000,
            Kind::Scrypt { log_n, r, p, .. } => (1u64 << log_n) * u64::from(r * p) <= 8192,
        }
    }

    #[test]
    fn valid_vectors_parse_and_verify() {
        let vectors = vectors();
        let valid = more_than(&vectors, "valid", 30);
        let mut failures = Vec::new();
        for vector in valid {
            let hash = text(vector, "hash");
            let parsed = match StoredHash::parse(hash) {
                Ok(parsed) => parsed,
                Err(message) => {
                    failures.push(format!("{hash}: refused: {message}"));
                    continue;
                }
            };
            if parsed.scheme() != text(vector, "scheme") {
                failures.push(format!("{hash}: scheme {}", parsed.scheme()));
            }
            let matches = strings(vector, "matches");
            assert!(matches.contains(&text(vector, "password")), "{hash}");
            for password in matches {
                if !parsed.verify(password.as_bytes()) {
                    failures.push(format!("{hash}: does not match {password:?}"));
                }
            }
            let rejects = strings(vector, "rejects");
            assert!(
                rejects.contains(&""),
                "{hash}: rejects should include the empty password"
            );
            for password in rejects {
                if parsed.verify(password.as_bytes()) {
                    failures.push(format!("{hash}: matches {password:?}"));
                }
            }
        }
        assert_none(&failures);
    }

    #[test]
    fn every_scheme_has_vectors() {
        let vectors = vectors();
        for scheme in [
            "argon2id",
            "argon2i",
            "argon2d",
            "bcrypt",
            "pbkdf2-sha256",
            "pbkdf2-sha512",
            "django-pbkdf2-sha256",
            "scrypt",
        ] {
            let count = list(&vectors, "valid")
                .iter()
                .filter(|v| text(v, "scheme") == scheme)
                .count();
            assert!(count >= 2, "{scheme}: {count} vectors");
        }
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            assert!(
                list(&vectors, "valid")
                    .iter()
                    .any(|v| text(v, "hash").starts_with(prefix)),
                "no {prefix} vector"
            );
        }
    }

    #[test]
    fn invalid_vectors_are_refused_without_echoing_the_hash() {
        let vectors = vectors();
        let invalid = more_than(&vectors, "invalid", 80);
        let mut failures = Vec::new();
        for vector in invalid {
            let hash = text(vector, "hash");
            let why = text(vector, "why");
            match StoredHash::parse(hash) {
                Ok(parsed) => failures.push(format!("{why}: accepted as {parsed:?}")),
                Err(message) => {
                    let echoed = (!hash.is_empty() && message.contains(hash))
                        || hash
                            .split('$')
                            .filter(|s| s.len() >= 6 && !is_ident_or_params(s))
                            .any(|s| message.contains(s));
                    if message.is_empty() || echoed {
                        failures.push(format!("{why}: message {message:?}"));
                    }
                }
            }
        }
        assert_none(&failures);
    }

    #[test]
    fn messages_name_the_rule() {
        let salt_hash = "$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg";
        let cases = [
            (
                format!("$argon2id$v=19$m=4294967295,t=1,p=1{salt_hash}"),
                "argon2 memory must be at most 1048576 KiB",
            ),
            (
                format!("$argon2id$v=19$m=64,t=101,p=1{salt_hash}"),
                "argon2 iterations must be between 1 and 100",
            ),
            (
                format!("$argon2id$v=19$m=1024,t=1,p=65{salt_hash}"),
                "argon2 parallelism must be between 1 and 64",
            ),
            (
                "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AQ".to_string(),
                "argon2 hash must be 16 to 64 bytes",
            ),
            (
                format!("$scrypt$ln=30,r=8,p=1{salt_hash}"),
                "scrypt ln (log2 N) must be between 1 and 20",
            ),
            (
                "plaintext".to_string(),
                "not a supported password hash format",
            ),
            ("x".repeat(2000), "must be at most 1024 bytes"),
        ];
        for (hash, expected) in cases {
            assert_eq!(StoredHash::parse(&hash).unwrap_err(), expected);
        }
    }

    #[test]
    fn hash_parts_decoding_to_megabytes_are_refused_by_the_size_cap() {
        // A hash part of 13,981,016 base64 characters decodes to 10 MiB.
        let hash = format!(
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ${}",
            "A".repeat(13_981_016)
        );
        assert_eq!(
            StoredHash::parse(&hash).unwrap_err(),
            "must be at most 1024 bytes"
        );
        let salt = format!(
            "$scrypt$ln=4,r=8,p=1${}$Wz0VCgo2fMbt9uy1X4vLZg",
            "A".repeat(1000)
        );
        assert!(StoredHash::parse(&salt).is_err());
    }

    #[test]
    fn is_current_only_for_argon2id_v19_with_the_exact_parameters() {
        let vectors = vectors();
        let mut argon2 = 0;
        for vector in list(&vectors, "valid") {
            let parsed = StoredHash::parse(text(vector, "hash")).expect("valid vector");
            let Some(m) = vector["m"].as_u64() else {
                assert!(!parsed.is_current(19_456, 2, 1), "{vector}");
                assert!(!parsed.is_current(64, 1, 1), "{vector}");
                continue;
            };
            argon2 += 1;
            let number = |key: &str| u32::try_from(vector[key].as_u64().expect(key)).expect(key);
            let (m, t, p) = (u32::try_from(m).expect("m"), number("t"), number("p"));
            let expected = text(vector, "scheme") == "argon2id" && number("version") == 19;
            assert_eq!(parsed.is_current(m, t, p), expected, "{vector}");
            assert!(!parsed.is_current(m + 1, t, p), "{vector}");
            assert!(!parsed.is_current(m, t + 1, p), "{vector}");
            assert!(!parsed.is_current(m, t, p + 1), "{vector}");
        }
        assert!(argon2 >= 8, "argon2 vectors: {argon2}");
    }

    #[test]
    fn the_store_own_argon2id_hashes_verify_and_are_current() {
        use argon2::PasswordHasher as _;
        let params = argon2::Params::new(8, 1, 1, None).expect("params");
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse")
            .expect("hash")
            .to_string();
        let parsed = StoredHash::parse(&hash).expect("the store's own hash parses");
        assert_eq!(parsed.scheme(), "argon2id");
        assert!(parsed.is_current(8, 1, 1));
        assert!(!parsed.is_current(19_456, 2, 1));
        assert!(parsed.verify(b"correct horse"));
        assert!(!parsed.verify(b"correct horsf"));
    }

    #[test]
    fn bcrypt_uses_only_the_first_72_bytes() {
        let long: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
        let hash = bcrypt::hash_with_salt(&long, 4, [7; 16])
            .expect("hash")
            .format_for_version(bcrypt::Version::TwoB);
        let parsed = StoredHash::parse(&hash).expect("bcrypt parses");
        assert!(parsed.verify(&long));
        assert!(parsed.verify(&long[..72]));
        assert!(parsed.verify(&[&long[..72], b"anything".as_slice()].concat()));
        assert!(!parsed.verify(&long[..71]));
        // NUL is an ordinary byte, not a terminator.
        let short = StoredHash::parse(
            &bcrypt::hash_with_salt(b"ab", 4, [7; 16])
                .expect("hash")
                .format_for_version(bcrypt::Version::TwoY),
        )
        .expect("bcrypt parses");
        assert!(short.verify(b"ab"));
        assert!(!short.verify(b"ab\0"));
        assert!(!short.verify(b"ab\0cd"));
    }

    #[test]
    fn verify_is_false_for_empty_huge_and_nul_passwords() {
        let vectors = vectors();
        let huge = vec![b'a'; 1 << 20];
        let nuls = vec![0u8; 1 << 20];
        for vector in list(&vectors, "valid") {
            let hash = text(vector, "hash");
            let parsed = StoredHash::parse(hash).expect("valid vector");
            let password = text(vector, "password").as_bytes();
            let mid = password.len().min(30) / 2;
            let inserted = [&password[..mid], b"\0".as_slice(), &password[mid..]].concat();
            let leading = [b"\0".as_slice(), password].concat();
            for candidate in [b"".as_slice(), b"\0", &huge, &nuls, &inserted, &leading] {
                assert!(
                    !parsed.verify(candidate),
                    "{hash}: {} bytes",
                    candidate.len()
                );
            }
        }
    }

    #[test]
    fn debug_shows_no_salt_or_hash() {
        let vectors = vectors();
        for vector in list(&vectors, "valid") {
            let hash = text(vector, "hash");
            let debug = format!("{:?}", StoredHash::parse(hash).expect("valid vector"));
            assert!(debug.starts_with("StoredHash {"), "{debug}");
            assert!(debug.contains(text(vector, "scheme")), "{debug}");
            for part in secret_parts(hash) {
                assert!(!debug.contains(part), "{debug} shows {part}");
            }
        }
    }

    /// A small deterministic generator for the mutation loop.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % (n.max(1) as u64)).expect("fits")
        }
    }

    /// Byte-level mutations of `hash`: replaced, inserted, deleted and
    /// duplicated bytes, truncation, and numbers swapped for huge ones.
    fn mutate(hash: &str, rng: &mut XorShift) -> String {
        const BYTES: &[u8] = b"$=,.+/-_09AZaz!\0 \xff\xc3";
        const NUMBERS: [&str; 6] = [
            "0",
            "4294967295",
            "4294967296",
            "99999999999999999999999",
            "17",
            "+1",
        ];
        let mut bytes = hash.as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(6) {
                0 if at < bytes.len() => bytes[at] = BYTES[rng.below(BYTES.len())],
                1 => bytes.insert(at, BYTES[rng.below(BYTES.len())]),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                3 => bytes.truncate(at),
                4 => {
                    let end = (at + rng.below(40)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
                _ => {
                    if let Some(start) = bytes.iter().position(u8::is_ascii_digit) {
                        let end = bytes[start..]
                            .iter()
                            .position(|b| !b.is_ascii_digit())
                            .map_or(bytes.len(), |n| start + n);
                        let number = NUMBERS[rng.below(NUMBERS.len())].as_bytes().to_vec();
                        bytes.splice(start..end, number);
                    }
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn parse_and_verify_never_panic_on_mutated_vectors() {
        let vectors = vectors();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let (mut parsed_count, mut verified) = (0, 0);
        for vector in list(&vectors, "valid") {
            let hash = text(vector, "hash");
            let password = text(vector, "password").as_bytes();
            for _ in 0..150 {
                let mutated = mutate(hash, &mut rng);
                match StoredHash::parse(&mutated) {
                    Ok(parsed) => {
                        parsed_count += 1;
                        if cheap(&parsed) {
                            verified += 1;
                            let _ = parsed.verify(password);
                            let _ = parsed.verify(b"");
                        }
                    }
                    Err(message) => assert!(!message.is_empty()),
                }
            }
        }
        // Some mutations (a changed hash character) still parse, and are checked.
        assert!(
            parsed_count > 100 && verified > 100,
            "{parsed_count} parsed, {verified} verified"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
            let _ = StoredHash::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_hash_shaped_text(
            prefix in prop::sample::select(vec![
                "$argon2id$", "$argon2i$v=19$", "$argon2d$v=16$m=", "$2a$", "$2b$04$", "$2y$1",
                "$pbkdf2-sha256$", "$pbkdf2-sha512$i=", "pbkdf2_sha256$", "$scrypt$ln=",
            ]),
            tail in "[$a-zA-Z0-9=,.+/]{0,120}",
        ) {
            let text = format!("{prefix}{tail}");
            if let Ok(parsed) = StoredHash::parse(&text)
                && cheap(&parsed)
            {
                let _ = parsed.verify(b"password");
            }
        }
    }
}
