//! Hashing of passwords and client secrets, and the random identifiers the store makes.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use std::borrow::Cow;

use precis_core::profile::PrecisFastInvocation;
use precis_profiles::OpaqueString;

use crate::auth::hashes::StoredHash;
use crate::{Error, Result, Secret};

/// Each Argon2id option and its range, as `InvalidArgument` states them
/// (the upper bounds are those every stored hash keeps, SPEC §6.1).
const MEMORY: (&str, &str) = (
    "argon2_memory_kib",
    "must be 8 KiB per lane (argon2_parallelism) to 1048576 KiB",
);
const ITERATIONS: (&str, &str) = ("argon2_iterations", "must be 1 to 100");
const PARALLELISM: (&str, &str) = ("argon2_parallelism", "must be 1 to 64");

/// Argon2id cost parameters for new password and secret hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (default 19456, the OWASP minimum).
    pub memory_kib: u32,
    /// Passes over memory (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    /// Checks the parameters are ones Argon2 accepts and within the bounds
    /// every stored hash must keep (SPEC §6.1: m ≤ 1,048,576 KiB, t ≤ 100,
    /// p ≤ 64): `InvalidArgument` naming the bad option
    /// (`argon2_memory_kib`, `argon2_iterations`, `argon2_parallelism`)
    /// otherwise.
    pub fn validate(&self) -> Result<()> {
        if self.memory_kib > 1_048_576 {
            return Err(Error::argument(MEMORY.0, MEMORY.1));
        }
        if self.iterations > 100 {
            return Err(Error::argument(ITERATIONS.0, ITERATIONS.1));
        }
        if self.parallelism > 64 {
            return Err(Error::argument(PARALLELISM.0, PARALLELISM.1));
        }
        self.hasher().map(|_| ())
    }

    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| {
                let (field, range) = match e {
                    argon2::Error::MemoryTooLittle | argon2::Error::MemoryTooMuch => MEMORY,
                    argon2::Error::TimeTooSmall => ITERATIONS,
                    _ => PARALLELISM,
                };
                Error::argument(field, range)
            })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a password or secret with a fresh random salt into a PHC string.
    pub(crate) fn hash(&self, secret: &Secret) -> Result<String> {
        #[cfg(feature = "internals")]
        crate::internals::work::record(crate::internals::work::Hashing::Argon2 {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        });
        let hash = self
            .hasher()?
            .hash_password(secret.expose().as_bytes())
            .map_err(|e| Error::internal(format!("could not hash a secret: {e}")))?;
        Ok(hash.to_string())
    }
}

/// The longest password a check looks at (SPEC §2.1: 1024 characters).
const MAX_PASSWORD_CHARS: usize = 1024;

/// A password prepared for hashing or checking: PRECIS OpaqueString
/// enforcement (RFC 8265 §4.2: non-ASCII spaces become U+0020, then NFC;
/// control and unassigned code points are refused). `None` when the
/// profile refuses it or it is longer than any password can be.
pub(crate) fn normalize_password(password: &str) -> Option<Cow<'_, str>> {
    if password.len() > MAX_PASSWORD_CHARS * 4 || password.chars().count() > MAX_PASSWORD_CHARS {
        return None;
    }
    OpaqueString::enforce(password).ok()
}

/// Hashes a new password with the store's parameters, after normalising it.
/// `Validation` on `password` when OpaqueString refuses it.
pub(crate) fn hash_password(params: &Argon2Params, password: &Secret) -> Result<String> {
    let normalized = normalize_password(password.expose()).ok_or_else(|| {
        Error::invalid(
            "password",
            crate::ValidationCode::InvalidCharacters,
            "may not hold control or unassigned characters (RFC 8265 OpaqueString)",
        )
    })?;
    params.hash(&Secret::new(normalized.into_owned()))
}

/// The outcome of checking a password or secret against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    /// Whether it matched.
    pub(crate) matched: bool,
    /// Whether the stored hash should be made again with the store's parameters.
    pub(crate) rehash: bool,
}

impl Checked {
    const NO: Checked = Checked {
        matched: false,
        rehash: false,
    };
}

/// Checks a password against a stored hash (`None`: the user has none or
/// does not exist). The normalised form is checked first, then the password
/// as given when that differs (SPEC §6.1: an imported hash may be of the
/// unnormalised text; a match that way re-hashes the normalised form). Where there
/// is nothing to check against, a hash of the same cost is computed anyway so
/// that every failure takes similar time.
pub(crate) fn check_password(
    params: &Argon2Params,
    stored: Option<&str>,
    password: &Secret,
) -> Checked {
    let given = password.expose();
    let hash = stored.and_then(|s| StoredHash::parse(s).ok());
    let (Some(hash), Some(normalized)) = (hash, normalize_password(given)) else {
        // As many hashes as a failed check of a stored hash computes: the
        // normalised form, then the form as given when it differs.
        dummy_work(params);
        if normalize_password(given).is_some_and(|n| n != given) {
            dummy_work(params);
        }
        return Checked::NO;
    };
    let current = hash.is_current(params.memory_kib, params.iterations, params.parallelism);
    // The form as given is tried for every hash, not only imported-looking
    // ones: a hash imported with the store's own parameters looks current.
    let as_given = |h: &StoredHash| normalized != given && h.verify(given.as_bytes());
    let (matched, by_given) = if hash.verify(normalized.as_bytes()) {
        (true, false)
    } else {
        let by_given = as_given(&hash);
        (by_given, by_given)
    };
    Checked {
        matched,
        // A hash of the unnormalised form is made again from the normalised one.
        rehash: matched && (!current || by_given),
    }
}

/// Checks a client secret (no normalisation: secrets are made by the store).
pub(crate) fn check_secret(
    params: &Argon2Params,
    stored: Option<&str>,
    secret: &Secret,
) -> Checked {
    let given = secret.expose();
    let Some(hash) = stored.and_then(|s| StoredHash::parse(s).ok()) else {
        dummy_work(params);
        return Checked::NO;
    };
    if given.len() > MAX_PASSWORD_CHARS {
        dummy_work(params);
        return Checked::NO;
    }
    let matched = hash.verify(given.as_bytes());
    Checked {
        matched,
        rehash: matched
            && !hash.is_current(params.memory_kib, params.iterations, params.parallelism),
    }
}

/// Work of the cost of one check, for a check that has nothing to compare.
fn dummy_work(params: &Argon2Params) {
    let _ = params.hash(&Secret::new("rosterdb dummy password"));
}

/// True when `text` is a PHC string of one of the Argon2 variants.
pub(crate) fn is_argon2_phc(text: &str) -> bool {
    match PasswordHash::new(text) {
        Ok(hash) => {
            matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d")
                && hash.salt.is_some()
                && hash.hash.is_some()
        }
        Err(_) => false,
    }
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::storage_with(format!("random source: {e}"), e))?;
    Ok(bytes)
}

/// A new client secret: 32 random bytes, base64url without padding.
pub(crate) fn new_client_secret() -> Result<Secret> {
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// A new public client id: `rc_` and 22 random base62 characters.
pub(crate) fn new_client_id() -> Result<String> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::from("rc_");
    while id.len() < 25 {
        for byte in random_bytes::<32>()? {
            // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
            if byte < 248 && id.len() < 25 {
                #[allow(clippy::indexing_slicing, reason = "`byte % 62` < 62 = ALPHABET.len()")]
                id.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Params = Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_are_salted_argon2id_phc_strings() {
        let secret = Secret::new("correct horse battery");
        let a = CHEAP.hash(&secret).unwrap();
        let b = CHEAP.hash(&secret).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(is_argon2_phc(&a));
        assert!(!a.contains("correct horse"));
    }

    #[test]
    fn recognises_only_argon2_phc_strings() {
        assert!(is_argon2_phc(
            "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg"
        ));
        assert!(!is_argon2_phc(
            "$scrypt$ln=4,r=8,p=1$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg"
        ));
        assert!(!is_argon2_phc("$argon2id$v=19$m=16,t=2,p=1"));
        assert!(!is_argon2_phc("plaintext"));
    }

    #[test]
    fn client_ids_and_secrets_have_their_shapes() {
        let id = new_client_id().unwrap();
        assert_eq!(id.len(), 25);
        assert!(id.starts_with("rc_"));
        assert!(id[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, new_client_id().unwrap());
        let secret = new_client_secret().unwrap();
        assert_eq!(secret.expose().len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(secret.expose()).unwrap().len(), 32);
    }

    #[test]
    fn bad_parameters_name_the_option() {
        let bad = Argon2Params {
            memory_kib: 1,
            ..CHEAP
        };
        match bad.validate() {
            Err(Error::InvalidArgument { argument, .. }) => {
                assert_eq!(argument, "argon2_memory_kib")
            }
            other => panic!("{other:?}"),
        }
        let bad = Argon2Params {
            iterations: 0,
            ..CHEAP
        };
        match bad.validate() {
            Err(Error::InvalidArgument { argument, .. }) => {
                assert_eq!(argument, "argon2_iterations")
            }
            other => panic!("{other:?}"),
        }
    }
}
