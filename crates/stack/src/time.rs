//! The stack's own clock types. Nothing in the stack reads a real clock: every time-dependent
//! call takes `now: Instant`, a nanosecond count that starts at zero in a simulation.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point in the stack's time, in nanoseconds since an arbitrary origin.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_nanos(ns: u64) -> Instant {
        Instant(ns)
    }
    pub const fn from_micros(us: u64) -> Instant {
        Instant(us * 1_000)
    }
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Instant {
        Instant(s * 1_000_000_000)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub const fn as_micros(self) -> u64 {
        self.0 / 1_000
    }
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Time since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(
            self.0
                .saturating_add(d.as_nanos().min(u64::MAX as u128) as u64),
        )
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Seconds with microsecond precision, as a timeline prints it: `1.204000`.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}",
            self.0 / 1_000_000_000,
            (self.0 % 1_000_000_000) / 1_000
        )
    }
}

/// The kernel tick rate. Linux arms TCP timers in jiffies and rounds conversions up, so the
/// tick rate is observable (a LAN RTO is 204 ms at HZ=250 and 201 ms at HZ=1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hz(pub u32);

impl Default for Hz {
    /// Debian's and this project's reference kernels run at 250.
    fn default() -> Self {
        Hz(250)
    }
}

/// A count of kernel ticks.
pub type Jiffies = u64;

impl Hz {
    /// Nanoseconds in one tick.
    pub fn tick_ns(self) -> u64 {
        1_000_000_000 / u64::from(self.0)
    }
    /// Linux: usecs_to_jiffies() — rounds up.
    pub fn usecs_to_jiffies(self, us: u64) -> Jiffies {
        (us * u64::from(self.0)).div_ceil(1_000_000)
    }
    /// Linux: msecs_to_jiffies() — rounds up.
    pub fn msecs_to_jiffies(self, ms: u64) -> Jiffies {
        (ms * u64::from(self.0)).div_ceil(1_000)
    }
    /// Linux: jiffies_to_usecs().
    pub fn jiffies_to_usecs(self, j: Jiffies) -> u64 {
        j * 1_000_000 / u64::from(self.0)
    }
    /// Linux: jiffies_to_msecs().
    pub fn jiffies_to_msecs(self, j: Jiffies) -> u64 {
        j * 1_000 / u64::from(self.0)
    }
    /// The length of `j` ticks.
    pub fn duration(self, j: Jiffies) -> Duration {
        Duration::from_nanos(j * self.tick_ns())
    }
    /// `HZ / d` in ticks, as the kernel's constants are written (`HZ/5` is TCP_RTO_MIN).
    pub fn hz_div(self, d: u32) -> Jiffies {
        u64::from(self.0 / d)
    }
    /// The jiffies counter at `now` (the tick `now` falls in).
    pub fn jiffies_at(self, now: Instant) -> Jiffies {
        now.as_nanos() / self.tick_ns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_linux() {
        let hz = Hz(250);
        assert_eq!(hz.usecs_to_jiffies(200_050), 51);
        assert_eq!(hz.jiffies_to_msecs(51), 204);
        assert_eq!(Hz(1000).usecs_to_jiffies(200_050), 201);
        assert_eq!(hz.msecs_to_jiffies(200), 50);
        assert_eq!(hz.hz_div(5), 50);
    }

    #[test]
    fn display_is_seconds_with_micros() {
        assert_eq!(Instant::from_micros(1_204_000).to_string(), "1.204000");
    }
}
