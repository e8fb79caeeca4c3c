//! Settings chosen when a store is opened, as plain values every layer may
//! read: the Argon2id cost of new hashes and the lockout policy. Like
//! `error`, this module uses no layer; what the settings do (hashing,
//! counting failures) is auth's.

use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Each Argon2id option and its range, as `InvalidArgument` states them
/// (the upper bounds are those every stored hash keeps, docs/reference/credentials.md, Passwords).
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
    /// every stored hash must keep (docs/reference/credentials.md, Passwords: m ≤ 1,048,576 KiB, t
    /// ≤ 100, p ≤ 64): `InvalidArgument` naming the bad option
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

    /// The Argon2id (version 0x13) hasher of these parameters:
    /// `InvalidArgument` naming the option Argon2 refuses.
    pub(crate) fn hasher(&self) -> Result<Argon2<'static>> {
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
}

/// The longest lockout a store accepts: one year.
pub const MAX_LOCKOUT_SECONDS: u64 = 31_536_000;

/// When and for how long failed password checks lock a user out (docs/reference/credentials.md,
/// Lockout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// Consecutive failures that lock the user (default 5); 0 never locks.
    pub threshold: u32,
    /// How long a lock lasts (default 900 s): 1 s to one year, whole seconds.
    pub duration: Duration,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            threshold: 5,
            duration: Duration::from_secs(900),
        }
    }
}

impl Lockout {
    /// Checks the policy: `InvalidArgument` naming `lockout_seconds` when the
    /// duration is not 1 to 31,536,000 whole seconds.
    pub fn validate(&self) -> Result<()> {
        let secs = self.duration.as_secs();
        if self.duration.subsec_nanos() != 0 || !(1..=MAX_LOCKOUT_SECONDS).contains(&secs) {
            return Err(Error::argument(
                "lockout_seconds",
                format!("must be 1 to {MAX_LOCKOUT_SECONDS} whole seconds"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
impl Argon2Params {
    /// The cheapest parameters Argon2id accepts, for tests.
    pub(crate) const CHEAPEST: Argon2Params = Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_name_the_option() {
        let cheap = Argon2Params::CHEAPEST;
        Argon2Params::CHEAPEST.validate().unwrap();
        for (bad, option) in [
            (
                Argon2Params {
                    memory_kib: 1,
                    ..cheap
                },
                "argon2_memory_kib",
            ),
            (
                Argon2Params {
                    memory_kib: 1_048_577,
                    ..cheap
                },
                "argon2_memory_kib",
            ),
            (
                Argon2Params {
                    iterations: 0,
                    ..cheap
                },
                "argon2_iterations",
            ),
            (
                Argon2Params {
                    iterations: 101,
                    ..cheap
                },
                "argon2_iterations",
            ),
            (
                Argon2Params {
                    parallelism: 65,
                    ..cheap
                },
                "argon2_parallelism",
            ),
        ] {
            match bad.validate() {
                Err(Error::InvalidArgument { argument, .. }) => assert_eq!(argument, option),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn durations_are_bounded_whole_seconds() {
        for bad in [
            Duration::ZERO,
            Duration::from_millis(1500),
            Duration::from_secs(MAX_LOCKOUT_SECONDS + 1),
        ] {
            let policy = Lockout {
                threshold: 5,
                duration: bad,
            };
            assert!(matches!(
                policy.validate(),
                Err(Error::InvalidArgument { argument, .. }) if argument == "lockout_seconds"
            ));
        }
        Lockout::default().validate().unwrap();
    }
}
