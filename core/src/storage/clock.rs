//! The one clock a store reads (docs/reference/credentials.md, Sessions): the system's, or one that
//! tests move by hand so that expiry and lockout are tested without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::Timestamp;

/// Where a store reads the time: timestamps, lockouts, TOTP steps and
/// session expiry all come from here.
///
/// Two clocks are equal when they are the same clock (clones of one).
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// The current time, in milliseconds (RFC 3339 range).
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Source::System => Timestamp::now(),
            Source::Manual(millis) => Timestamp::clamped(millis.load(Ordering::SeqCst)),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Source::System, Source::System) => true,
            (Source::Manual(a), Source::Manual(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Clock {}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock(system)"),
            Source::Manual(_) => write!(f, "Clock(manual, {})", self.now()),
        }
    }
}

/// A clock that stands still until moved: give [`ManualClock::clock`] to
/// [`crate::Options::with_clock`] and move time with [`ManualClock::advance`].
#[derive(Clone, Debug)]
pub struct ManualClock(Clock);

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Clock(Source::Manual(Arc::new(AtomicI64::new(
            start.as_millis(),
        )))))
    }

    /// The clock to hand to a store; it follows every move of this one.
    pub fn clock(&self) -> Clock {
        self.0.clone()
    }

    /// The time it reads.
    pub fn now(&self) -> Timestamp {
        self.0.now()
    }

    /// Moves the clock forward by `by` (whole milliseconds).
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        if let Source::Manual(now) = &self.0.0 {
            let _ = now.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(millis))
            });
        }
    }

    /// Sets the clock to `to` (it may go backwards).
    pub fn set(&self, to: Timestamp) {
        if let Source::Manual(now) = &self.0.0 {
            now.store(to.as_millis(), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let manual = ManualClock::new(start);
        let clock = manual.clock();
        assert_eq!(clock.now(), start);
        manual.advance(Duration::from_secs(90));
        assert_eq!(clock.now().to_string(), "2026-01-01T00:01:30.000Z");
        manual.set(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock, manual.clock());
        assert_ne!(clock, Clock::system());
        assert_ne!(clock, ManualClock::new(start).clock());
        manual.advance(Duration::MAX);
        assert_eq!(clock.now().to_string(), "9999-12-31T23:59:59.999Z");
    }
}
