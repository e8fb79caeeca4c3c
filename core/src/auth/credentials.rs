//! Hashing of passwords and client secrets, and the random identifiers the store makes.

use argon2::PasswordHasher;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::documents::credentials::{MAX_PASSWORD_CHARS, NOT_OPAQUE_STRING, normalize_password};
use crate::documents::stored_hash::StoredHash;
use crate::settings::Argon2Params;
use crate::{Error, Result, Secret};

impl Argon2Params {
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

/// Hashes a new password with the store's parameters, after normalising it.
/// `Validation` on `password` when OpaqueString refuses it.
pub(crate) fn hash_password(params: &Argon2Params, password: &Secret) -> Result<String> {
    let normalized = normalize_password(password.expose()).ok_or_else(|| {
        Error::invalid(
            "password",
            crate::ValidationCode::InvalidCharacters,
            NOT_OPAQUE_STRING,
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
/// as given when that differs (docs/reference/credentials.md, Passwords: an imported hash may be of
/// the unnormalised text; a match that way re-hashes the normalised form). Where there
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

    const CHEAP: Argon2Params = Argon2Params::CHEAPEST;

    #[test]
    fn hashes_are_salted_argon2id_phc_strings() {
        let secret = Secret::new("correct horse battery");
        let a = CHEAP.hash(&secret).unwrap();
        let b = CHEAP.hash(&secret).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(crate::documents::credentials::is_argon2_phc(&a));
        assert!(!a.contains("correct horse"));
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
}
