//! Password hashes, the store's own and those imported from other systems (SPEC §6.1).
//!
//! A user's `passwordHash` may come from another system: PHC argon2
//! (`$argon2id$`, `$argon2i$`, `$argon2d$`), bcrypt (`$2a$`, `$2b$`, `$2y$`),
//! PBKDF2 (`$pbkdf2-sha256$`, `$pbkdf2-sha512$`, in RustCrypto's strict PHC form
//! `$pbkdf2-sha256$i=N,l=32$salt$hash` and in passlib's `$pbkdf2-sha256$N$salt$hash`),
//! Django's `pbkdf2_sha256$N$salt$hash`, and PHC scrypt (`$scrypt$ln=..,r=..,p=..$salt$hash`).
//!
//! [`StoredHash::parse`] checks every cost parameter and size when the hash is
//! imported, so that no stored hash can make a later check run away in time or
//! memory: argon2 m ≤ 1,048,576 KiB, t ≤ 100, p ≤ 64; bcrypt cost 4..=16; PBKDF2
//! 1..=10,000,000 iterations; scrypt log₂N 1..=20, r 1..=16, p 1..=16; the text at
//! most 1,024 bytes; salts 8..=64 bytes (Django: 1..=128 characters); outputs
//! 16..=64 bytes. Its error messages name the broken rule and never quote the
//! hash. [`StoredHash::verify`] recomputes the hash with the scheme's own crate
//! and compares in constant time; it never panics and any failure is `false`.
//!
//! bcrypt uses only the first 72 bytes of a password, as OpenBSD's bcrypt,
//! passlib, PHP and pyca `bcrypt` before 5.0 do (pyca `bcrypt` 5.0 raises an
//! error for longer passwords instead). A longer password therefore matches a
//! hash made from its first 72 bytes, which is what users of the system that
//! made the hash experienced there; the next successful check re-hashes it with
//! argon2id over the whole password. NUL bytes are password bytes like any
//! other (as in the `bcrypt` crate and pyca `bcrypt`), not a terminator.
//!
//! The vectors in `tests/vectors/password_hashes.json` were made by independent
//! tools (argon2-cffi, pyca bcrypt, passlib, Django, Python's hashlib).

use std::fmt;
use std::str::FromStr;

use argon2::{Algorithm, Argon2, Params as Argon2Params, Version};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Longest accepted hash text, in bytes.
const MAX_TEXT_BYTES: usize = 1024;
/// Largest argon2 memory cost, in KiB (1 GiB).
const ARGON2_MAX_M: u64 = 1_048_576;
/// Largest argon2 iteration count.
const ARGON2_MAX_T: u64 = 100;
/// Largest argon2 lane count.
const ARGON2_MAX_P: u64 = 64;
/// argon2 needs at least this much memory per lane, in KiB.
const ARGON2_KIB_PER_LANE: u64 = 8;
/// Accepted bcrypt costs (log₂ of the rounds).
const BCRYPT_COST: std::ops::RangeInclusive<u64> = 4..=16;
/// Largest PBKDF2 iteration count.
const PBKDF2_MAX_ITERATIONS: u64 = 10_000_000;
/// Largest scrypt log₂N.
const SCRYPT_MAX_LN: u64 = 20;
/// Largest scrypt r (block size).
const SCRYPT_MAX_R: u64 = 16;
/// Largest scrypt p (parallelism).
const SCRYPT_MAX_P: u64 = 16;
/// Accepted decoded salt sizes of the PHC-style formats, in bytes.
const SALT_BYTES: std::ops::RangeInclusive<usize> = 8..=64;
/// Accepted Django salt lengths, in characters.
const DJANGO_SALT_CHARS: std::ops::RangeInclusive<usize> = 1..=128;
/// Accepted decoded output (hash) sizes, in bytes.
const OUTPUT_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// A stored password hash, parsed and bounds-checked; never Debug-prints the hash bytes.
pub struct StoredHash {
    kind: Kind,
}

/// The parsed forms, each within the bounds of the module documentation.
enum Kind {
    Argon2 {
        algorithm: Algorithm,
        version: Version,
        params: Argon2Params,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// The bcrypt crate parses the 60-character text itself when verifying.
    Bcrypt { text: String, cost: u32 },
    Pbkdf2 {
        digest: Digest,
        form: Pbkdf2Form,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Digest {
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pbkdf2Form {
    /// `$pbkdf2-sha256$i=N,l=32$salt$hash` (RustCrypto).
    Phc,
    /// `$pbkdf2-sha256$N$salt$hash` with passlib's adapted base64.
    Passlib,
    /// `pbkdf2_sha256$N$salt$hash` (Django); the salt is used as text.
    Django,
}

impl StoredHash {
    /// Parses a stored hash. Accepted: PHC argon2 (`$argon2id$`, `$argon2i$`, `$argon2d$`),
    /// bcrypt (`$2a$`, `$2b$`, `$2y$`), PBKDF2 (`$pbkdf2-sha256$`, `$pbkdf2-sha512$`: both the strict
    /// PHC form `$pbkdf2-sha256$i=N,l=32$salt$hash` (RustCrypto) and passlib's form
    /// `$pbkdf2-sha256$N$ab64salt$ab64hash` with passlib's "adapted base64" ('.' instead of '+')),
    /// Django `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, and PHC scrypt (`$scrypt$ln=..,r=..,p=..$salt$hash`).
    /// Err(message) for anything else, malformed or out of bounds. The message is for a
    /// `Validation` error on field `passwordHash`: it names the rule (e.g. "argon2 memory must be at most 1048576 KiB",
    /// "not a supported password hash format") and NEVER echoes the hash text or any part of it.
    pub fn parse(text: &str) -> Result<StoredHash, String> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!("must be at most {MAX_TEXT_BYTES} bytes"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "may contain only printable ASCII characters, without spaces or line breaks".into(),
            );
        }
        let kind = if let Some(rest) = text.strip_prefix("$argon2id$") {
            parse_argon2(Algorithm::Argon2id, rest)?
        } else if let Some(rest) = text.strip_prefix("$argon2i$") {
            parse_argon2(Algorithm::Argon2i, rest)?
        } else if let Some(rest) = text.strip_prefix("$argon2d$") {
            parse_argon2(Algorithm::Argon2d, rest)?
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
            parse_bcrypt(text)?
        } else if let Some(rest) = text.strip_prefix("$pbkdf2-sha256$") {
            parse_pbkdf2(Digest::Sha256, rest)?
        } else if let Some(rest) = text.strip_prefix("$pbkdf2-sha512$") {
            parse_pbkdf2(Digest::Sha512, rest)?
        } else if let Some(rest) = text.strip_prefix("pbkdf2_sha256$") {
            parse_django(rest)?
        } else if let Some(rest) = text.strip_prefix("$scrypt$") {
            parse_scrypt(rest)?
        } else {
            return Err("not a supported password hash format".into());
        };
        Ok(StoredHash { kind })
    }

    /// Whether `password` (bytes as given; the caller normalises) matches, in constant time
    /// with respect to the hash comparison. Never panics, whatever the input (empty, 1 MB, NUL bytes).
    ///
    /// bcrypt uses only the first 72 bytes of `password` (see the module documentation).
    pub fn verify(&self, password: &[u8]) -> bool {
        match &self.kind {
            Kind::Argon2 {
                algorithm,
                version,
                params,
                salt,
                hash,
            } => {
                let mut buffer = [0u8; *OUTPUT_BYTES.end()];
                let Some(out) = buffer.get_mut(..hash.len()) else {
                    return false;
                };
                Argon2::new(*algorithm, *version, params.clone())
                    .hash_password_into(password, salt, out)
                    .is_ok()
                    && bool::from(out.ct_eq(hash))
            }
            // `bcrypt::verify` truncates at 72 bytes and compares in constant time.
            Kind::Bcrypt { text, .. } => bcrypt::verify(password, text).unwrap_or(false),
            Kind::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
                ..
            } => {
                let mut buffer = [0u8; *OUTPUT_BYTES.end()];
                let Some(out) = buffer.get_mut(..hash.len()) else {
                    return false;
                };
                match digest {
                    Digest::Sha256 => {
                        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *iterations, out);
                    }
                    Digest::Sha512 => {
                        pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, out);
                    }
                }
                bool::from(out.ct_eq(hash))
            }
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
                let mut buffer = [0u8; *OUTPUT_BYTES.end()];
                let Some(out) = buffer.get_mut(..hash.len()) else {
                    return false;
                };
                scrypt::scrypt(password, salt, &params, out).is_ok() && bool::from(out.ct_eq(hash))
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

    /// The scheme's name for docs/tests: "argon2id", "argon2i", "argon2d", "bcrypt", "pbkdf2-sha256",
    /// "pbkdf2-sha512", "django-pbkdf2-sha256", "scrypt".
    pub fn scheme(&self) -> &'static str {
        match &self.kind {
            Kind::Argon2 { algorithm, .. } => match algorithm {
                Algorithm::Argon2d => "argon2d",
                Algorithm::Argon2i => "argon2i",
                Algorithm::Argon2id => "argon2id",
            },
            Kind::Bcrypt { .. } => "bcrypt",
            Kind::Pbkdf2 {
                form: Pbkdf2Form::Django,
                ..
            } => "django-pbkdf2-sha256",
            Kind::Pbkdf2 {
                digest: Digest::Sha256,
                ..
            } => "pbkdf2-sha256",
            Kind::Pbkdf2 {
                digest: Digest::Sha512,
                ..
            } => "pbkdf2-sha512",
            Kind::Scrypt { .. } => "scrypt",
        }
    }

    /// The cost parameters as `name=value` pairs joined by commas (argon2
    /// `v=19,m=19456,t=2,p=1`, bcrypt `cost=12`, PBKDF2 `i=600000`, scrypt
    /// `ln=15,r=8,p=1`), for Debug and the fuzzers: no salt or hash bytes.
    pub fn cost(&self) -> String {
        match &self.kind {
            Kind::Argon2 {
                version, params, ..
            } => format!(
                "v={},m={},t={},p={}",
                u32::from(*version),
                params.m_cost(),
                params.t_cost(),
                params.p_cost()
            ),
            Kind::Bcrypt { cost, .. } => format!("cost={cost}"),
            Kind::Pbkdf2 { iterations, .. } => format!("i={iterations}"),
            Kind::Scrypt { log_n, r, p, .. } => format!("ln={log_n},r={r},p={p}"),
        }
    }
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredHash")
            .field("scheme", &self.scheme())
            .field("cost", &self.cost())
            .finish_non_exhaustive()
    }
}

/// A decimal number: ASCII digits only (no sign, no spaces). Values too large
/// for `u64` saturate, so that they fail the bounds check, not the syntax check.
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().unwrap_or(u64::MAX))
}

/// Reads `name=value,...` pairs whose names are all in `names`, each at most once.
/// Returns the values in the order of `names`; `None` for absent ones.
fn named_params<const N: usize>(
    text: &str,
    names: [&str; N],
    scheme: &str,
) -> Result<[Option<u64>; N], String> {
    let mut values = [None; N];
    for pair in text.split(',') {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{scheme} parameters must be name=value pairs"))?;
        let (_, slot) = names
            .iter()
            .zip(values.iter_mut())
            .find(|(n, _)| **n == name)
            .ok_or_else(|| format!("{scheme} accepts only the parameters {}", names.join(", ")))?;
        if slot.is_some() {
            return Err(format!("{scheme} parameters may not repeat"));
        }
        *slot = Some(
            decimal(value).ok_or_else(|| format!("{scheme} parameters must be decimal numbers"))?,
        );
    }
    Ok(values)
}

/// Decodes a salt or hash field with `engine`, checking its decoded size.
fn decode(
    engine: &impl base64::Engine,
    text: &str,
    sizes: &std::ops::RangeInclusive<usize>,
    what: &str,
) -> Result<Vec<u8>, String> {
    let bytes = engine
        .decode(text)
        .map_err(|_| format!("{what} is not valid base64"))?;
    if !sizes.contains(&bytes.len()) {
        return Err(format!(
            "{what} must be {} to {} bytes",
            sizes.start(),
            sizes.end()
        ));
    }
    Ok(bytes)
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `rest` follows `$argon2<variant>$`: `[v=N$]m=..,t=..,p=..$salt$hash`.
fn parse_argon2(algorithm: Algorithm, rest: &str) -> Result<Kind, String> {
    const MALFORMED: &str = "argon2 hash is malformed: expected an optional version, the m, t and p parameters, a salt and a hash";
    let mut fields: Vec<&str> = rest.split('$').collect();
    // The reference implementation reads a hash without a version field
    // (made before argon2 1.3) as version 0x10.
    let version = match fields.first() {
        Some(first) if first.starts_with("v=") => {
            let version = match decimal(&first[2..]) {
                Some(0x10) => Version::V0x10,
                Some(0x13) => Version::V0x13,
                _ => return Err("argon2 version must be 16 or 19".into()),
            };
            fields.remove(0);
            version
        }
        _ => Version::V0x10,
    };
    let [params, salt, hash] = fields[..] else {
        return Err(MALFORMED.into());
    };
    let [Some(m), Some(t), Some(p)] = named_params(params, ["m", "t", "p"], "argon2")? else {
        return Err("argon2 parameters must include m, t and p".into());
    };
    if m > ARGON2_MAX_M {
        return Err(format!("argon2 memory must be at most {ARGON2_MAX_M} KiB"));
    }
    if !(1..=ARGON2_MAX_T).contains(&t) {
        return Err(format!(
            "argon2 iterations must be between 1 and {ARGON2_MAX_T}"
        ));
    }
    if !(1..=ARGON2_MAX_P).contains(&p) {
        return Err(format!(
            "argon2 parallelism must be between 1 and {ARGON2_MAX_P}"
        ));
    }
    if ARGON2_KIB_PER_LANE
        .checked_mul(p)
        .is_none_or(|least| m < least)
    {
        return Err(format!(
            "argon2 memory must be at least {ARGON2_KIB_PER_LANE} KiB per lane"
        ));
    }
    let salt = decode(&STANDARD_NO_PAD, salt, &SALT_BYTES, "argon2 salt")?;
    let hash = decode(&STANDARD_NO_PAD, hash, &OUTPUT_BYTES, "argon2 hash")?;
    let params = Argon2Params::new(to_u32(m), to_u32(t), to_u32(p), Some(hash.len()))
        .map_err(|_| "argon2 parameters are not valid".to_string())?;
    Ok(Kind::Argon2 {
        algorithm,
        version,
        params,
        salt,
        hash,
    })
}

/// `text` starts with `$2a$`, `$2b$` or `$2y$`: `$2b$NN$<22 salt chars><31 hash chars>`.
fn parse_bcrypt(text: &str) -> Result<Kind, String> {
    if text.len() != 60 {
        return Err("bcrypt hash must be 60 characters".into());
    }
    let cost = match (text.get(4..6), text.as_bytes().get(6)) {
        (Some(digits), Some(b'$')) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            decimal(digits).unwrap_or(u64::MAX)
        }
        _ => return Err("bcrypt hash must have a two-digit cost".into()),
    };
    if !BCRYPT_COST.contains(&cost) {
        return Err(format!(
            "bcrypt cost must be between {} and {}",
            BCRYPT_COST.start(),
            BCRYPT_COST.end()
        ));
    }
    // The crate's own parser checks the salt and hash are bcrypt's base64.
    bcrypt::HashParts::from_str(text)
        .map_err(|_| "bcrypt salt and hash must be bcrypt base64".to_string())?;
    Ok(Kind::Bcrypt {
        text: text.to_string(),
        cost: to_u32(cost),
    })
}

fn check_iterations(iterations: u64, scheme: &str) -> Result<u32, String> {
    if !(1..=PBKDF2_MAX_ITERATIONS).contains(&iterations) {
        return Err(format!(
            "{scheme} iterations must be between 1 and {PBKDF2_MAX_ITERATIONS}"
        ));
    }
    Ok(to_u32(iterations))
}

/// `rest` follows `$pbkdf2-sha256$` or `$pbkdf2-sha512$`: `i=N[,l=N]$salt$hash`
/// (PHC) or `N$salt$hash` (passlib).
fn parse_pbkdf2(digest: Digest, rest: &str) -> Result<Kind, String> {
    let [params, salt, hash] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err("pbkdf2 hash is malformed: expected the iterations, a salt and a hash".into());
    };
    if let Some(iterations) = decimal(params) {
        // passlib: "adapted base64", '.' for '+' (passlib also reads '+').
        let iterations = check_iterations(iterations, "pbkdf2")?;
        let salt = decode(
            &STANDARD_NO_PAD,
            &salt.replace('.', "+"),
            &SALT_BYTES,
            "pbkdf2 salt",
        )?;
        let hash = decode(
            &STANDARD_NO_PAD,
            &hash.replace('.', "+"),
            &OUTPUT_BYTES,
            "pbkdf2 hash",
        )?;
        return Ok(Kind::Pbkdf2 {
            digest,
            form: Pbkdf2Form::Passlib,
            iterations,
            salt,
            hash,
        });
    }
    if !params.contains('=') {
        return Err("pbkdf2 iterations must be a decimal number".into());
    }
    let [iterations, length] = named_params(params, ["i", "l"], "pbkdf2")?;
    let iterations = iterations.ok_or("pbkdf2 parameters must include i")?;
    let iterations = check_iterations(iterations, "pbkdf2")?;
    let salt = decode(&STANDARD_NO_PAD, salt, &SALT_BYTES, "pbkdf2 salt")?;
    let hash = decode(&STANDARD_NO_PAD, hash, &OUTPUT_BYTES, "pbkdf2 hash")?;
    if length.is_some_and(|l| l != hash.len() as u64) {
        return Err("pbkdf2 parameter l must equal the length of the hash".into());
    }
    Ok(Kind::Pbkdf2 {
        digest,
        form: Pbkdf2Form::Phc,
        iterations,
        salt,
        hash,
    })
}

/// `rest` follows `pbkdf2_sha256$`: `N$salt$hash`, the salt used as text and
/// the hash in padded standard base64.
fn parse_django(rest: &str) -> Result<Kind, String> {
    let [iterations, salt, hash] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err(
            "Django pbkdf2_sha256 hash is malformed: expected the iterations, a salt and a hash"
                .into(),
        );
    };
    let iterations =
        decimal(iterations).ok_or("Django pbkdf2_sha256 iterations must be a decimal number")?;
    let iterations = check_iterations(iterations, "Django pbkdf2_sha256")?;
    // Every character is printable ASCII (checked in parse), so bytes are characters.
    if !DJANGO_SALT_CHARS.contains(&salt.len()) {
        return Err(format!(
            "Django pbkdf2_sha256 salt must be {} to {} characters",
            DJANGO_SALT_CHARS.start(),
            DJANGO_SALT_CHARS.end()
        ));
    }
    let hash = decode(&STANDARD, hash, &OUTPUT_BYTES, "Django pbkdf2_sha256 hash")?;
    Ok(Kind::Pbkdf2 {
        digest: Digest::Sha256,
        form: Pbkdf2Form::Django,
        iterations,
        salt: salt.as_bytes().to_vec(),
        hash,
    })
}

/// `rest` follows `$scrypt$`: `ln=..,r=..,p=..$salt$hash`.
fn parse_scrypt(rest: &str) -> Result<Kind, String> {
    let [params, salt, hash] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err(
            "scrypt hash is malformed: expected the ln, r and p parameters, a salt and a hash"
                .into(),
        );
    };
    let [Some(log_n), Some(r), Some(p)] = named_params(params, ["ln", "r", "p"], "scrypt")? else {
        return Err("scrypt parameters must include ln, r and p".into());
    };
    if !(1..=SCRYPT_MAX_LN).contains(&log_n) {
        return Err(format!(
            "scrypt ln (log2 N) must be between 1 and {SCRYPT_MAX_LN}"
        ));
    }
    if !(1..=SCRYPT_MAX_R).contains(&r) {
        return Err(format!("scrypt r must be between 1 and {SCRYPT_MAX_R}"));
    }
    if !(1..=SCRYPT_MAX_P).contains(&p) {
        return Err(format!("scrypt p must be between 1 and {SCRYPT_MAX_P}"));
    }
    let salt = decode(&STANDARD_NO_PAD, salt, &SALT_BYTES, "scrypt salt")?;
    let hash = decode(&STANDARD_NO_PAD, hash, &OUTPUT_BYTES, "scrypt hash")?;
    let log_n = u8::try_from(log_n).unwrap_or(u8::MAX);
    let (r, p) = (to_u32(r), to_u32(p));
    scrypt::Params::new(log_n, r, p).map_err(|_| "scrypt parameters are not valid".to_string())?;
    Ok(Kind::Scrypt {
        log_n,
        r,
        p,
        salt,
        hash,
    })
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
        let valid = list(&vectors, "valid");
        assert!(
            valid.len() > 30,
            "suspiciously few valid vectors: {}",
            valid.len()
        );
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
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
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
        let invalid = list(&vectors, "invalid");
        assert!(
            invalid.len() > 80,
            "suspiciously few invalid vectors: {}",
            invalid.len()
        );
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
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
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
        let params = Argon2Params::new(8, 1, 1, None).expect("params");
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
