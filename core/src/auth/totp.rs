//! The second factor (docs/reference/credentials.md, "Second factor (TOTP)"): time-based one-time
//! passwords (RFC 6238, HMAC-SHA-1, 30 s steps, 6 digits, ±1 step) and one-time recovery codes.
//!
//! The RFC 6238 arithmetic is `totp-rs`'s; the state a user record keeps
//! (secret, confirmation, the last accepted step so that no code is accepted
//! twice, the digests of unused recovery codes) is
//! [`TotpState`](crate::documents::credentials::TotpState), which this
//! module enrols, checks and confirms.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

use crate::auth::credentials::random_bytes;
use crate::documents::credentials::TotpState;
use crate::{Error, Result, Secret, Timestamp};

/// Seconds per time step (RFC 6238 §4.1 `X`, its recommended default).
pub(crate) const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub(crate) const DIGITS: usize = 6;
/// Recovery codes handed out at confirmation.
pub(crate) const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code, before its hyphen: base32, 5 bits each.
const RECOVERY_CHARS: usize = 10;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

impl TotpState {
    /// A new, unconfirmed enrolment with a fresh secret.
    pub(crate) fn enrol() -> Result<TotpState> {
        Ok(TotpState {
            secret: random_bytes::<20>()?.to_vec(),
            confirmed: false,
            last_step: 0,
            recovery: Vec::new(),
        })
    }

    /// The secret in base32 (RFC 4648 §6, no padding), as authenticator apps take it.
    pub(crate) fn secret_base32(&self) -> Secret {
        Secret::new(totp_rs::Secret::from(self.secret.clone()).to_base32())
    }

    /// The `otpauth://totp/…` URI of the Key Uri Format for enrolment.
    pub(crate) fn uri(&self, issuer: &str, account: &str) -> Result<Secret> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.secret.clone())
            .with_issuer(Some(issuer))
            .with_account_name(account.replace(':', "_"))
            .build()
            .map_err(|e| Error::internal(format!("TOTP enrolment: {e}")))?;
        let url = totp
            .to_url()
            .map_err(|e| Error::internal(format!("TOTP enrolment: {e}")))?;
        Ok(Secret::new(url))
    }

    /// The step of a current code: `code` matches the step of `now` or one
    /// step either side, and that step is later than the last accepted one.
    pub(crate) fn accepts_code(&self, code: &str, now: Timestamp) -> Option<u64> {
        if self.secret.is_empty()
            || code.len() != DIGITS
            || !code.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let totp = self.totp();
        let step = now.as_unix_seconds() / STEP_SECONDS;
        let mut found = None;
        // Every candidate is computed and compared, in constant time each.
        for candidate in [step.saturating_sub(1), step, step.saturating_add(1)] {
            let expected = totp
                .generate(candidate.saturating_mul(STEP_SECONDS))
                .to_string();
            let same: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
            if same && candidate > self.last_step && found.is_none() {
                found = Some(candidate);
            }
        }
        found
    }

    /// The index of the unused recovery code `code` (case, spaces and
    /// hyphens aside), if it is one.
    pub(crate) fn accepts_recovery(&self, code: &str) -> Option<usize> {
        let digest = recovery_digest(code)?;
        let mut found = None;
        for (i, stored) in self.recovery.iter().enumerate() {
            if bool::from(stored.ct_eq(&digest)) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    /// Confirms the enrolment and hands out fresh recovery codes, keeping only their digests.
    pub(crate) fn confirm(&mut self, step: u64) -> Result<Vec<Secret>> {
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        self.recovery.clear();
        for _ in 0..RECOVERY_CODES {
            let code = new_recovery_code()?;
            let digest = recovery_digest(&code)
                .ok_or_else(|| Error::internal("a new recovery code is malformed"))?;
            self.recovery.push(digest);
            codes.push(Secret::new(code));
        }
        self.confirmed = true;
        self.last_step = step;
        Ok(codes)
    }

    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.secret.clone())
            .build_noncompliant()
    }
}

/// The RFC 6238 code of `secret` at `unix_seconds`, with `digits` digits (6 to 8).
#[cfg(test)]
pub(crate) fn code_at(secret: &[u8], unix_seconds: u64, digits: u8) -> String {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits.clamp(6, 8))
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .build_noncompliant()
        .generate(unix_seconds)
        .to_string()
}

/// `xxxxx-xxxxx`: ten base32 characters (50 random bits).
fn new_recovery_code() -> Result<String> {
    let bytes = random_bytes::<RECOVERY_CHARS>()?;
    let mut code = String::with_capacity(RECOVERY_CHARS + 1);
    for (i, b) in bytes.iter().enumerate() {
        if i == RECOVERY_CHARS / 2 {
            code.push('-');
        }
        #[allow(clippy::indexing_slicing, reason = "`b & 31` < 32 = BASE32.len()")]
        code.push(char::from(BASE32[usize::from(b & 31)]));
    }
    Ok(code)
}

/// The digest a recovery code is kept as, after dropping spaces and hyphens
/// and lowering its case; `None` when it cannot be a recovery code.
fn recovery_digest(code: &str) -> Option<[u8; 32]> {
    if code.len() > 64 {
        return None;
    }
    let canonical: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if canonical.len() != RECOVERY_CHARS || !canonical.bytes().all(|b| BASE32.contains(&b)) {
        return None;
    }
    Some(Sha256::digest(canonical.as_bytes()).into())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 rows (seed "12345678901234567890", 8 digits).
    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(seed, time, 8), code, "T = {time}");
            // Six digits are the same value modulo 10^6 (RFC 4226 §5.3).
            assert_eq!(code_at(seed, time, 6), code[2..], "T = {time}");
        }
    }

    fn state(secret: &[u8]) -> TotpState {
        TotpState {
            secret: secret.to_vec(),
            confirmed: true,
            last_step: 0,
            recovery: Vec::new(),
        }
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_millis(i64::try_from(secs).unwrap() * 1000).unwrap()
    }

    #[test]
    fn codes_of_one_step_either_side_are_accepted_once() {
        let s = state(b"12345678901234567890");
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        let current = code_at(&s.secret, now, 6);
        assert_eq!(s.accepts_code(&current, at(now)), Some(step));
        let previous = code_at(&s.secret, now - 30, 6);
        assert_eq!(s.accepts_code(&previous, at(now)), Some(step - 1));
        let next = code_at(&s.secret, now + 30, 6);
        assert_eq!(s.accepts_code(&next, at(now)), Some(step + 1));
        let old = code_at(&s.secret, now - 60, 6);
        assert_eq!(s.accepts_code(&old, at(now)), None);
        let used = TotpState {
            last_step: step,
            ..s.clone()
        };
        assert_eq!(used.accepts_code(&current, at(now)), None);
        assert_eq!(used.accepts_code(&previous, at(now)), None);
        assert_eq!(used.accepts_code(&next, at(now)), Some(step + 1));
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６", " 12345"] {
            assert_eq!(s.accepts_code(bad, at(now)), None, "{bad:?}");
        }
        assert_eq!(TotpState::lost().accepts_code(&current, at(now)), None);
    }

    #[test]
    fn recovery_codes_are_kept_as_digests_and_match_loosely() {
        let mut s = TotpState::enrol().unwrap();
        let codes = s.confirm(7).unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(s.confirmed);
        assert_eq!(s.last_step, 7);
        for (i, code) in codes.iter().enumerate() {
            let code = code.expose();
            assert_eq!(code.len(), 11);
            assert_eq!(s.accepts_recovery(code), Some(i));
            assert_eq!(
                s.accepts_recovery(&code.to_uppercase().replace('-', " ")),
                Some(i)
            );
            assert!(!s.recovery.iter().any(|d| d.as_slice() == code.as_bytes()));
        }
        for bad in ["", "aaaaa-aaaaa", "not a code", &"x".repeat(100_000)] {
            assert_eq!(s.accepts_recovery(bad), None);
        }
    }

    #[test]
    fn enrolment_uris_follow_the_key_uri_format() {
        let s = state(b"12345678901234567890");
        assert_eq!(
            s.secret_base32().expose(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        let uri = s.uri("rosterdb", "alice").unwrap();
        assert_eq!(
            uri.expose(),
            "otpauth://totp/rosterdb:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=rosterdb"
        );
    }
}
