//! The injectable clock: every deadline, sweep and score reads time through [`Clock`], so tests walk a
//! notice through weeks of deadlines by moving a [`ManualClock`] instead of sleeping.

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to; clones share the same instant.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock stopped at `t`.
    pub fn at(t: Timestamp) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(t)))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: SignedDuration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g = g.saturating_add(d).unwrap_or(*g);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
