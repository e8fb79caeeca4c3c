//! Lockout after repeated failed password checks (docs/reference/credentials.md, Lockout): the
//! count a user record keeps, under the policy of [`crate::settings::Lockout`].

use crate::Timestamp;
use crate::settings::Lockout;

/// The lockout state a user record keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Attempts {
    /// Consecutive failures since the last success, unlock or lock.
    pub(crate) failures: u32,
    /// Until when the user is locked (may lie in the past).
    pub(crate) locked_until: Option<Timestamp>,
}

impl Attempts {
    /// Whether the user is locked at `now`.
    pub(crate) fn locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    /// Counts one failed check at `now` of a user that is not locked: at the
    /// threshold the user is locked for the policy's duration and the count
    /// starts again, so the lock is set exactly once however many checks fail
    /// together.
    pub(crate) fn fail(&mut self, now: Timestamp, policy: &Lockout) {
        debug_assert!(!self.locked(now));
        if policy.threshold == 0 {
            return;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures >= policy.threshold {
            self.failures = 0;
            self.locked_until = Some(now.plus(policy.duration));
        }
    }

    /// A successful check: the count and any expired lock are cleared.
    pub(crate) fn succeed(&mut self) {
        *self = Attempts::default();
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(secs * 1000).unwrap()
    }

    #[test]
    fn the_threshold_locks_once_for_the_duration() {
        let policy = Lockout {
            threshold: 3,
            duration: Duration::from_secs(60),
        };
        let mut a = Attempts::default();
        a.fail(at(0), &policy);
        a.fail(at(1), &policy);
        assert!(!a.locked(at(1)));
        a.fail(at(2), &policy);
        assert!(a.locked(at(2)));
        assert!(a.locked(at(61)));
        assert!(!a.locked(at(62)));
        assert_eq!(a.failures, 0);
        a.fail(at(62), &policy);
        assert_eq!(a.failures, 1);
        a.succeed();
        assert_eq!(a, Attempts::default());
    }

    #[test]
    fn threshold_zero_never_locks() {
        let policy = Lockout {
            threshold: 0,
            ..Lockout::default()
        };
        let mut a = Attempts::default();
        for i in 0..100 {
            a.fail(at(i), &policy);
        }
        assert_eq!(a, Attempts::default());
    }
}
