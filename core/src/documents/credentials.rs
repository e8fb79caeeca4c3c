//! The credential values a record holds and the format rules its fields
//! follow: a password's PRECIS form (RFC 8265), a client secret's PHC
//! argon2 string, and the stored state of a TOTP second factor. Hashing,
//! verifying and checking codes are auth's (`auth::credentials`,
//! `auth::hashes`, `auth::totp`).

use std::borrow::Cow;

use argon2::password_hash::phc::PasswordHash;
use precis_core::profile::PrecisFastInvocation;
use precis_profiles::OpaqueString;
use serde::{Deserialize, Serialize};

/// The longest password a check looks at (docs/reference/documents.md, Users: 1024 characters).
pub(crate) const MAX_PASSWORD_CHARS: usize = 1024;

/// Why a password that [`normalize_password`] refuses is invalid.
pub(crate) const NOT_OPAQUE_STRING: &str =
    "may not hold control or unassigned characters (RFC 8265 OpaqueString)";

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

/// What a user record keeps of its second factor (docs/reference/credentials.md, "Second factor
/// (TOTP)"); made and checked by `auth::totp`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TotpState {
    /// The shared HMAC key: 20 random bytes (RFC 4226 §4 recommends 160
    /// bits). Empty after an import, which carries no secret: then no code
    /// matches until the user is enrolled again (fail closed).
    pub(crate) secret: Vec<u8>,
    /// False while an enrolment waits for its first code.
    pub(crate) confirmed: bool,
    /// The last time step whose code was accepted; codes of this step and
    /// earlier ones are refused (RFC 6238 §5.2).
    pub(crate) last_step: u64,
    /// SHA-256 digests of the recovery codes not used yet.
    pub(crate) recovery: Vec<[u8; 32]>,
}

impl TotpState {
    /// The state of an imported user that had a confirmed second factor:
    /// the secret did not travel, so every code is refused.
    pub(crate) fn lost() -> TotpState {
        TotpState {
            secret: Vec::new(),
            confirmed: true,
            last_step: 0,
            recovery: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn passwords_are_normalised_or_refused() {
        // A non-ASCII space becomes U+0020; a control character is refused.
        assert_eq!(
            normalize_password("pass\u{00A0}word").as_deref(),
            Some("pass word")
        );
        assert_eq!(normalize_password("pass\u{0007}word"), None);
        assert_eq!(
            normalize_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)),
            None
        );
        assert!(normalize_password(&"x".repeat(MAX_PASSWORD_CHARS)).is_some());
    }
}
