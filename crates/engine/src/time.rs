//! Integer simulated time.
//!
//! `SimTime` is an instant and `SimDuration` a span, both in nanoseconds since the start of a
//! replication. `u64` nanoseconds cover 584 years, far beyond any simulated horizon (a month of
//! traffic is 2.6e15 ns). Conversions from seconds saturate instead of wrapping, so a sampled
//! outlier can never make time run backwards.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the replication started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every replication.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant (used as "never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `secs` seconds after the start (saturating; negative or NaN gives zero).
    pub fn from_secs_f64(secs: f64) -> SimTime {
        SimTime(SimDuration::from_secs_f64(secs).0)
    }
    /// Seconds since the start, as a float (for reporting only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// Microseconds since the start, as a float (Chrome trace timestamps).
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
    /// The span from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> SimDuration {
        SimDuration(ns)
    }
    /// A span of whole milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }
    /// A span of whole seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }
    /// Converts seconds (as sampled from a distribution) to nanoseconds, rounding to nearest.
    /// Negative values and NaN become zero; values beyond the range saturate.
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration::ZERO;
        }
        let ns = (secs * NANOS_PER_SEC as f64).round();
        if ns >= u64::MAX as f64 { SimDuration(u64::MAX) } else { SimDuration(ns as u64) }
    }
    /// Seconds, as a float (for reporting and billing arithmetic in dollars).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// Whole nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Rounds up to a whole multiple of `quantum` (e.g. Lambda's 100 ms billing unit).
    /// A zero quantum returns the span unchanged.
    pub fn round_up_to(self, quantum: SimDuration) -> SimDuration {
        if quantum.0 == 0 {
            return self;
        }
        SimDuration(self.0.div_ceil(quantum.0).saturating_mul(quantum.0))
    }
    /// Saturating subtraction.
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
    /// Half of it, rounded down to the nanosecond.
    pub fn half(self) -> SimDuration {
        SimDuration(self.0 / 2)
    }
    /// Multiplies by a non-negative factor, rounding to nearest nanosecond.
    pub fn mul_f64(self, factor: f64) -> SimDuration {
        SimDuration::from_secs_f64(self.as_secs_f64() * factor)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// The span between two instants. Panics in debug builds if `rhs` is later (a broken
    /// causality invariant); use [`SimTime::saturating_since`] where that may legitimately happen.
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(self >= rhs, "time went backwards: {self:?} - {rhs:?}");
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}

impl std::iter::Sum for SimDuration {
    fn sum<I: Iterator<Item = SimDuration>>(iter: I) -> SimDuration {
        iter.fold(SimDuration::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9} s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9} s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_billing_quantum_exactly() {
        let q = SimDuration::from_millis(100);
        assert_eq!(SimDuration::from_nanos(1).round_up_to(q), q);
        assert_eq!(SimDuration::from_millis(100).round_up_to(q), q);
        assert_eq!(SimDuration::from_nanos(100_000_001).round_up_to(q), SimDuration::from_millis(200));
        assert_eq!(SimDuration::ZERO.round_up_to(q), SimDuration::ZERO);
    }

    #[test]
    fn conversion_from_seconds_saturates_and_clamps() {
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30), SimDuration(u64::MAX));
        assert_eq!(SimDuration::from_secs_f64(1.5), SimDuration::from_millis(1500));
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
    }
}
