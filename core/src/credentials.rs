//! Hashing of passwords and client secrets, and the random identifiers the store makes.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result, Secret};

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
    /// Checks the parameters are ones Argon2 accepts, naming the bad option.
    pub fn validate(&self) -> Result<()> {
        self.hasher().map(|_| ())
    }

    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| {
                let field = match e {
                    argon2::Error::MemoryTooLittle | argon2::Error::MemoryTooMuch => {
                        "argon2_memory_kib"
                    }
                    argon2::Error::TimeTooSmall => "argon2_iterations",
                    _ => "argon2_parallelism",
                };
                Error::invalid(field, e.to_string())
            })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a password or secret with a fresh random salt into a PHC string.
    pub(crate) fn hash(&self, secret: &Secret) -> Result<String> {
        let hash = self
            .hasher()?
            .hash_password(secret.expose().as_bytes())
            .map_err(|_| Error::storage("could not hash a secret"))?;
        Ok(hash.to_string())
    }
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
    getrandom::fill(&mut bytes).map_err(|e| Error::storage(format!("random source: {e}")))?;
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
            Err(Error::Validation { errors }) => assert_eq!(errors[0].field, "argon2_memory_kib"),
            other => panic!("{other:?}"),
        }
        let bad = Argon2Params {
            iterations: 0,
            ..CHEAP
        };
        match bad.validate() {
            Err(Error::Validation { errors }) => assert_eq!(errors[0].field, "argon2_iterations"),
            other => panic!("{other:?}"),
        }
    }
}
