//! The formats of a stored password hash, the store's own and those
//! imported from other systems (docs/reference/credentials.md, Passwords): what a `passwordHash`
//! may hold. Checking a password against one is auth's (`auth::hashes`).
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
//! hash.
//!
//! bcrypt uses only the first 72 bytes of a password, as OpenBSD's bcrypt,
//! passlib, PHP and pyca `bcrypt` before 5.0 do (pyca `bcrypt` 5.0 raises an
//! error for longer passwords instead). A longer password therefore matches a
//! hash made from its first 72 bytes, which is what users of the system that
//! made the hash experienced there; the next successful check re-hashes it with
//! argon2id over the whole password. NUL bytes are password bytes like any
//! other (as in the `bcrypt` crate and pyca `bcrypt`), not a terminator.

use std::fmt;
use std::str::FromStr;

use argon2::{Algorithm, Params as Argon2Params, Version};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

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
pub(crate) const OUTPUT_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// A stored password hash, parsed and bounds-checked; never Debug-prints the hash bytes.
pub struct StoredHash {
    pub(crate) kind: Kind,
}

/// The parsed forms, each within the bounds of the module documentation.
pub(crate) enum Kind {
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
pub(crate) enum Digest {
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pbkdf2Form {
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
    let invalid = || format!("{what} is not valid base64");
    // Sizes accepted decode into a buffer here (a larger decoded text,
    // refused below, is decoded again into one of its own): no zeroed
    // allocation for each hash checked.
    let mut buffer = [0_u8; 96];
    let bytes = match engine.decode_slice(text, &mut buffer) {
        Ok(len) => buffer.get(..len).unwrap_or_default().to_vec(),
        Err(base64::DecodeSliceError::DecodeError(_)) => return Err(invalid()),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            engine.decode(text).map_err(|_| invalid())?
        }
    };
    if !sizes.contains(&bytes.len()) {
        return Err(format!(
            "{what} must be {} to {} bytes",
            sizes.start(),
            sizes.end()
        ));
    }
    Ok(bytes)
}

/// The three `$`-separated fields of `rest` (parameters, salt, hash); else
/// the `malformed` message.
fn three_fields<'a>(rest: &'a str, malformed: &str) -> Result<[&'a str; 3], String> {
    match rest.split('$').collect::<Vec<_>>()[..] {
        [params, salt, hash] => Ok([params, salt, hash]),
        _ => Err(malformed.into()),
    }
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `rest` follows `$argon2<variant>$`: `[v=N$]m=..,t=..,p=..$salt$hash`.
fn parse_argon2(algorithm: Algorithm, rest: &str) -> Result<Kind, String> {
    const MALFORMED: &str = "argon2 hash is malformed: expected an optional version, the m, t and p parameters, a salt and a hash";
    let mut fields = rest.split('$').peekable();
    // The reference implementation reads a hash without a version field
    // (made before argon2 1.3) as version 0x10.
    let version = match fields.peek().and_then(|first| first.strip_prefix("v=")) {
        Some(number) => {
            let version = match decimal(number) {
                Some(0x10) => Version::V0x10,
                Some(0x13) => Version::V0x13,
                _ => return Err("argon2 version must be 16 or 19".into()),
            };
            fields.next();
            version
        }
        None => Version::V0x10,
    };
    let (Some(params), Some(salt), Some(hash), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
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
    let [params, salt, hash] = three_fields(
        rest,
        "pbkdf2 hash is malformed: expected the iterations, a salt and a hash",
    )?;
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
    let [iterations, salt, hash] = three_fields(
        rest,
        "Django pbkdf2_sha256 hash is malformed: expected the iterations, a salt and a hash",
    )?;
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
    let [params, salt, hash] = three_fields(
        rest,
        "scrypt hash is malformed: expected the ln, r and p parameters, a salt and a hash",
    )?;
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
mod tests {
    use super::*;
    use base64::Engine as _;

    /// A field decodes to its bytes when their size is accepted; a larger
    /// one (even past the buffer on the stack) is refused for its size,
    /// and text that is not base64 is refused as such however long.
    #[test]
    fn fields_decode_within_their_sizes() {
        let field = |n: usize| STANDARD_NO_PAD.encode(vec![7_u8; n]);
        for n in [8, 33, 64] {
            assert_eq!(
                decode(&STANDARD_NO_PAD, &field(n), &SALT_BYTES, "salt"),
                Ok(vec![7_u8; n])
            );
        }
        for n in [0, 7, 65, 96, 97, 700] {
            assert_eq!(
                decode(&STANDARD_NO_PAD, &field(n), &SALT_BYTES, "salt"),
                Err("salt must be 8 to 64 bytes".to_owned()),
                "{n}"
            );
        }
        for n in [8, 64, 97, 700] {
            let bad = format!("{}*", field(n));
            assert_eq!(
                decode(&STANDARD_NO_PAD, &bad, &SALT_BYTES, "salt"),
                Err("salt is not valid base64".to_owned()),
                "{n}"
            );
        }
    }
}
