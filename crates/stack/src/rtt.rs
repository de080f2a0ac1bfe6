//! Round-trip time estimation and the retransmission timeout, as Linux computes them
//! (linux-tcp-timers.md §6 and §7.2).
//!
//! Guarantees:
//! - [`RttEstimator::sample`] is `tcp_rtt_estimator()` bit for bit: the same integer
//!   arithmetic, the same truncations, the same once-per-RTT `rttvar_us` decay.
//! - [`RttEstimator::rto`] is `__tcp_set_rto()` followed by `tcp_bound_rto()`: microseconds are
//!   rounded *up* to jiffies, and there is no lower clamp other than the one `rttvar_us` carries.
//! - [`tcp_model_timeout`] is the retries model of `tcp_write_timeout()`.
//! - Nothing here panics: every operation saturates or wraps where the kernel's fixed-width
//!   arithmetic would.

use crate::seq::after;
use crate::time::{Hz, Instant, Jiffies};

/// Linux: TCP_RTO_MIN = HZ/5 in include/net/tcp.h, in microseconds (`tcp_rto_min_us` default).
pub const TCP_RTO_MIN_US: u32 = 200_000;
/// Linux: TCP_RTO_MAX_MS, the default of `tcp_rto_max_ms`.
pub const TCP_RTO_MAX_MS: u32 = 120_000;
/// Linux: TCP_TIMEOUT_INIT = 1 s, the initial RTO and the initial `mdev_us`.
pub const TCP_TIMEOUT_INIT_MS: u32 = 1_000;
/// Linux: TCP_TIMEOUT_FALLBACK = 3 s, the RTO after a handshake that gave no RTT sample.
pub const TCP_TIMEOUT_FALLBACK_MS: u32 = 3_000;
/// Linux: sysctl_tcp_min_rtt_wlen default, the window of the `tcpi_min_rtt` filter in seconds.
pub const TCP_MIN_RTT_WLEN_SECS: u32 = 300;

/// Linux: TCP_RTO_MIN (`HZ/5`) in jiffies.
pub fn tcp_rto_min(hz: Hz) -> Jiffies {
    hz.hz_div(5)
}

/// Linux: TCP_RTO_MAX (`120*HZ`) in jiffies.
pub fn tcp_rto_max(hz: Hz) -> Jiffies {
    120 * u64::from(hz.0)
}

/// Linux: TCP_TIMEOUT_INIT (`1*HZ`) in jiffies.
pub fn tcp_timeout_init(hz: Hz) -> Jiffies {
    u64::from(hz.0)
}

/// Linux: TCP_TIMEOUT_FALLBACK (`3*HZ`) in jiffies.
pub fn tcp_timeout_fallback(hz: Hz) -> Jiffies {
    3 * u64::from(hz.0)
}

/// The sender's RTT state: Linux's `srtt_us`, `mdev_us`, `mdev_max_us`, `rttvar_us`,
/// `rtt_seq` and the `rtt_min` filter of `struct tcp_sock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    /// Smoothed RTT ×8, in µs; 0 until the first sample.
    pub srtt_us: u32,
    /// Smoothed mean deviation ×4, in µs (RFC 6298's 4·RTTVAR before the window maximum).
    pub mdev_us: u32,
    /// Largest `mdev_us` seen in the current RTT window, floored at `rto_min` on reset.
    pub mdev_max_us: u32,
    /// The deviation term of the RTO; never decays below `rto_min`.
    pub rttvar_us: u32,
    /// `snd_nxt` when the current RTT window began; the decay runs once `snd_una` passes it.
    pub rtt_seq: u32,
    /// Windowed minimum RTT (`tcpi_min_rtt`).
    pub rtt_min: MinMax,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl RttEstimator {
    /// The state `tcp_init_sock()` leaves: no SRTT, `mdev_us` = TCP_TIMEOUT_INIT. The kernel
    /// does not set `rttvar_us` or `mdev_max_us` there, so they start at zero; the first sample
    /// overwrites both.
    ///
    /// Linux: tcp_init_sock() in net/ipv4/tcp.c
    pub fn new() -> RttEstimator {
        RttEstimator {
            srtt_us: 0,
            mdev_us: TCP_TIMEOUT_INIT_MS * 1_000,
            mdev_max_us: 0,
            rttvar_us: 0,
            rtt_seq: 0,
            rtt_min: MinMax::new(0, u32::MAX),
        }
    }

    /// Whether any RTT sample has been taken.
    pub fn has_sample(&self) -> bool {
        self.srtt_us != 0
    }

    /// Feeds one RTT measurement of `mrtt_us` microseconds. A negative sample is ignored, as
    /// `tcp_ack_update_rtt()` returns before the estimator for one; a zero sample is used as is
    /// (the result is floored so `srtt_us` stays non-zero).
    ///
    /// Linux: tcp_rtt_estimator() in net/ipv4/tcp_input.c
    pub fn sample(&mut self, mrtt_us: i64, snd_una: u32, snd_nxt: u32, rto_min_us: u32) {
        if mrtt_us < 0 {
            return;
        }
        // The kernel's `long` sample and `u32` state: do the arithmetic wide, store truncated.
        // Samples above 2^32 µs (71 min) cannot come from tcp_ack_update_rtt(); clamp them.
        let mut m = mrtt_us.min(i64::from(u32::MAX));
        let mut srtt = i64::from(self.srtt_us);
        if srtt != 0 {
            m -= srtt >> 3; // m is now the error in the estimate
            srtt += m; // gain 1/8
            if m < 0 {
                m = -m;
                m -= i64::from(self.mdev_us >> 2);
                // A falling RTT moves mdev with gain 1/32 rather than 1/4, so a sudden drop
                // neither inflates the RTO nor collapses it (Eifel-like).
                if m > 0 {
                    m >>= 3;
                }
            } else {
                m -= i64::from(self.mdev_us >> 2);
            }
            self.mdev_us = (i64::from(self.mdev_us) + m) as u32;
            if self.mdev_us > self.mdev_max_us {
                self.mdev_max_us = self.mdev_us;
                if self.mdev_max_us > self.rttvar_us {
                    self.rttvar_us = self.mdev_max_us;
                }
            }
            if after(snd_una, self.rtt_seq) {
                if self.mdev_max_us < self.rttvar_us {
                    self.rttvar_us -= (self.rttvar_us - self.mdev_max_us) >> 2;
                }
                self.rtt_seq = snd_nxt;
                self.mdev_max_us = rto_min_us;
            }
        } else {
            srtt = m << 3;
            self.mdev_us = (m << 1) as u32;
            self.rttvar_us = self.mdev_us.max(rto_min_us);
            self.mdev_max_us = self.rttvar_us;
            self.rtt_seq = snd_nxt;
        }
        // The kernel's `srtt` is a u32: keep the low 32 bits, as its assignments do.
        self.srtt_us = (srtt as u32).max(1);
    }

    /// The RTO this state gives, in jiffies, before any backoff. Before the first sample (or
    /// [`RttEstimator::set_fallback`]) it is meaningless: the socket's RTO is then
    /// TCP_TIMEOUT_INIT, as `tcp_init_sock()` sets `icsk_rto`.
    ///
    /// Linux: __tcp_set_rto() and tcp_bound_rto() in include/net/tcp.h
    pub fn rto(&self, hz: Hz, rto_max_ms: u32) -> Jiffies {
        // usecs_to_jiffies() and msecs_to_jiffies() round up; done wide so no tick rate overflows.
        let us = u128::from(self.srtt_us >> 3) + u128::from(self.rttvar_us);
        let rto = (us * u128::from(hz.0)).div_ceil(1_000_000);
        let rto_max = (u128::from(rto_max_ms) * u128::from(hz.0)).div_ceil(1_000);
        rto.min(rto_max).min(u128::from(u64::MAX)) as Jiffies
    }

    /// The handshake gave no RTT sample: switch to the conservative 3 s of RFC 6298 §5.7.
    /// Returns the RTO to install (TCP_TIMEOUT_FALLBACK), or `None` when a sample exists and
    /// the kernel leaves the RTO alone.
    ///
    /// Linux: tcp_init_metrics() in net/ipv4/tcp_metrics.c
    pub fn set_fallback(&mut self, hz: Hz) -> Option<Jiffies> {
        if self.srtt_us != 0 {
            return None;
        }
        let hz = Hz(hz.0.max(1));
        let fallback = tcp_timeout_fallback(hz);
        self.rttvar_us = hz.jiffies_to_usecs(fallback).min(u64::from(u32::MAX)) as u32;
        self.mdev_us = self.rttvar_us;
        self.mdev_max_us = self.rttvar_us;
        Some(fallback)
    }

    /// The smoothed RTT in µs (`tcpi_rtt`).
    pub fn srtt_us(&self) -> u32 {
        self.srtt_us >> 3
    }

    /// The RTO's deviation term in µs.
    pub fn rttvar_us(&self) -> u32 {
        self.rttvar_us
    }

    /// What `tcp_get_info()` reports as `tcpi_rttvar`: `mdev_us >> 2`, not `rttvar_us`.
    pub fn tcpi_rttvar(&self) -> u32 {
        self.mdev_us >> 2
    }

    /// The windowed minimum RTT in µs (`tcpi_min_rtt`); `u32::MAX` before any sample.
    pub fn min_rtt_us(&self) -> u32 {
        self.rtt_min.get()
    }

    /// Feeds the min-RTT filter. `ack_maybe_delayed` skips samples larger than the current
    /// minimum, since a peer that keeps delaying ACKs would otherwise inflate the estimate.
    ///
    /// Linux: tcp_update_rtt_min() in net/ipv4/tcp_input.c
    pub fn update_rtt_min(&mut self, hz: Hz, now: Instant, rtt_us: u32, ack_maybe_delayed: bool) {
        if ack_maybe_delayed && rtt_us > self.min_rtt_us() {
            return;
        }
        let hz = Hz(hz.0.max(1));
        let wlen = TCP_MIN_RTT_WLEN_SECS.wrapping_mul(hz.0);
        let meas = if rtt_us == 0 {
            hz.jiffies_to_usecs(1) as u32
        } else {
            rtt_us
        };
        self.rtt_min
            .running_min(wlen, hz.jiffies_at(now) as u32, meas);
    }
}

/// One sample of a windowed filter: time `t` (jiffies) and value `v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinMaxSample {
    pub t: u32,
    pub v: u32,
}

/// Kathleen Nichols' windowed min filter: the best, second-best and third-best samples from
/// successive sub-windows, so the minimum over the window is always `s[0]`.
///
/// Linux: struct minmax in include/linux/win_minmax.h
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinMax {
    pub s: [MinMaxSample; 3],
}

impl MinMax {
    /// Linux: minmax_reset() in include/linux/win_minmax.h
    pub fn new(t: u32, meas: u32) -> MinMax {
        let val = MinMaxSample { t, v: meas };
        MinMax { s: [val; 3] }
    }

    /// Linux: minmax_get()
    pub fn get(&self) -> u32 {
        self.s[0].v
    }

    /// Linux: minmax_running_min() in lib/win_minmax.c
    pub fn running_min(&mut self, win: u32, t: u32, meas: u32) -> u32 {
        let val = MinMaxSample { t, v: meas };
        if val.v <= self.s[0].v || val.t.wrapping_sub(self.s[2].t) > win {
            *self = MinMax::new(t, meas);
            return meas;
        }
        if val.v <= self.s[1].v {
            self.s[2] = val;
            self.s[1] = val;
        } else if val.v <= self.s[2].v {
            self.s[2] = val;
        }
        self.subwin_update(win, val)
    }

    /// Linux: minmax_subwin_update() in lib/win_minmax.c
    fn subwin_update(&mut self, win: u32, val: MinMaxSample) -> u32 {
        let dt = val.t.wrapping_sub(self.s[0].t);
        if dt > win {
            // The best sample aged out: promote the runners-up, possibly twice.
            self.s[0] = self.s[1];
            self.s[1] = self.s[2];
            self.s[2] = val;
            if val.t.wrapping_sub(self.s[0].t) > win {
                self.s[0] = self.s[1];
                self.s[1] = self.s[2];
                self.s[2] = val;
            }
        } else if self.s[1].t == self.s[0].t && dt > win / 4 {
            self.s[2] = val;
            self.s[1] = val;
        } else if self.s[2].t == self.s[1].t && dt > win / 2 {
            self.s[2] = val;
        }
        self.s[0].v
    }
}

/// The time, in ms, a connection whose RTO starts at `rto_base_ms` and doubles up to
/// `rto_max_ms` takes to send `boundary` retransmissions and reach the next timeout. The
/// give-up check compares the time since `retrans_stamp` against it.
///
/// Linux: tcp_model_timeout() in net/ipv4/tcp_timer.c
pub fn tcp_model_timeout(boundary: u32, rto_base_ms: u64, rto_max_ms: u64) -> u64 {
    let base = u128::from(rto_base_ms);
    let max = u128::from(rto_max_ms);
    // ilog2 of the ratio; a zero ratio (or base) means the RTO is at its cap from the start.
    let linear_backoff_thresh = match rto_max_ms.checked_div(rto_base_ms) {
        Some(r) if r > 0 => r.ilog2(),
        _ => 0,
    };
    let doubling = |n: u32| -> u128 { (2u128 << n.min(120)) - 1 };
    let timeout = if boundary <= linear_backoff_thresh {
        doubling(boundary) * base
    } else {
        doubling(linear_backoff_thresh) * base + u128::from(boundary - linear_backoff_thresh) * max
    };
    timeout.min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ250: Hz = Hz(250);
    const HZ1000: Hz = Hz(1000);

    fn est_after_first(m: i64, rto_min_us: u32) -> RttEstimator {
        let mut e = RttEstimator::new();
        e.sample(m, 1, 100, rto_min_us);
        e
    }

    #[test]
    fn initial_state_is_tcp_init_sock() {
        let e = RttEstimator::new();
        assert_eq!(e.srtt_us, 0);
        assert_eq!(e.mdev_us, 1_000_000);
        assert_eq!(e.tcpi_rttvar(), 250_000);
        assert!(!e.has_sample());
        assert_eq!(tcp_timeout_init(HZ250), 250);
        assert_eq!(tcp_rto_min(HZ250), 50);
        assert_eq!(tcp_rto_min(HZ1000), 200);
        assert_eq!(tcp_rto_max(HZ250), 30_000);
    }

    #[test]
    fn first_sample_rto_is_m_plus_max_2m_rto_min() {
        // m = 50 µs: srtt = 50, rttvar = max(100, 200000) → 200050 µs.
        let e = est_after_first(50, TCP_RTO_MIN_US);
        assert_eq!(e.srtt_us, 400);
        assert_eq!(e.mdev_us, 100);
        assert_eq!(e.rttvar_us, 200_000);
        assert_eq!(e.mdev_max_us, 200_000);
        assert_eq!(e.rtt_seq, 100);
        assert_eq!(e.rto(HZ250, TCP_RTO_MAX_MS), 51);
        assert_eq!(HZ250.jiffies_to_msecs(e.rto(HZ250, TCP_RTO_MAX_MS)), 204);
        assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), 201);

        // m = 300 ms: 2m exceeds rto_min, RTO = 3m = 900 ms.
        let e = est_after_first(300_000, TCP_RTO_MIN_US);
        assert_eq!(e.rttvar_us, 600_000);
        assert_eq!(e.rto(HZ250, TCP_RTO_MAX_MS), 225);
        assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), 900);
    }

    #[test]
    fn zero_sample_keeps_srtt_nonzero_and_negative_is_ignored() {
        let e = est_after_first(0, TCP_RTO_MIN_US);
        assert_eq!(e.srtt_us, 1);
        assert_eq!(e.rttvar_us, TCP_RTO_MIN_US);
        let mut e = RttEstimator::new();
        e.sample(-5, 1, 2, TCP_RTO_MIN_US);
        assert_eq!(e, RttEstimator::new());
    }

    /// Five samples worked by hand from tcp_rtt_estimator(); rto_min 200 ms.
    #[test]
    fn hand_computed_sequence() {
        let mut e = RttEstimator::new();
        let mut check = |m: i64, una: u32, nxt: u32, want: [u32; 5], rto250: u64, rto1000: u64| {
            e.sample(m, una, nxt, TCP_RTO_MIN_US);
            assert_eq!(
                [e.srtt_us, e.mdev_us, e.mdev_max_us, e.rttvar_us, e.rtt_seq],
                want,
                "after sample {m}"
            );
            assert_eq!(e.rto(HZ250, TCP_RTO_MAX_MS), rto250, "HZ=250 after {m}");
            assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), rto1000, "HZ=1000 after {m}");
        };
        // 1) first sample 100 ms: srtt_us = 8·100000, mdev = 200000, rttvar = max(200000,
        //    rto_min) = 200000, rtt_seq = snd_nxt = 2000. RTO = 100000 + 200000 = 300000 µs
        //    = 75 jiffies at 250, 300 at 1000.
        check(
            100_000,
            1000,
            2000,
            [800_000, 200_000, 200_000, 200_000, 2000],
            75,
            300,
        );
        // 2) 120 ms, snd_una 1500 not after rtt_seq 2000: err = 120000 − 100000 = 20000,
        //    srtt_us = 820000; m = 20000 − 200000/4 = −30000, mdev = 170000 (below mdev_max,
        //    so rttvar stays 200000). RTO = 820000/8 + 200000 = 302500 µs → 75.625 → 76
        //    jiffies at 250; 302.5 → 303 at 1000.
        check(
            120_000,
            1500,
            3000,
            [820_000, 170_000, 200_000, 200_000, 2000],
            76,
            303,
        );
        // 3) 300 ms, snd_una 2500 after 2000: err = 300000 − 102500 = 197500, srtt_us =
        //    1017500; m = 197500 − 42500 = 155000, mdev = 325000 → mdev_max and rttvar jump to
        //    325000. Window end: mdev_max (325000) is not below rttvar, no decay; rtt_seq =
        //    4000, mdev_max = rto_min. RTO = 127187 + 325000 = 452187 µs → 113.05 → 114 / 453.
        check(
            300_000,
            2500,
            4000,
            [1_017_500, 325_000, 200_000, 325_000, 4000],
            114,
            453,
        );
        // 4) 100 ms, snd_una 4500 after 4000: err = 100000 − 127187 = −27187, srtt_us =
        //    990313; |err| − 325000/4 = 27187 − 81250 = −54063 (not > 0, no 1/8), mdev =
        //    270937 > mdev_max 200000 → mdev_max = 270937. Window end: rttvar −= (325000 −
        //    270937) >> 2 = 13515 → 311485; rtt_seq = 5000, mdev_max = 200000.
        //    RTO = 123789 + 311485 = 435274 µs → 108.8 → 109 / 436.
        check(
            100_000,
            4500,
            5000,
            [990_313, 270_937, 200_000, 311_485, 5000],
            109,
            436,
        );
        // 5) 100 ms, snd_una 4800 not after 5000: err = 100000 − 123789 = −23789, srtt_us =
        //    966524; 23789 − 67734 = −43945, mdev = 226992 > mdev_max → 226992 (rttvar stays).
        //    RTO = 120815 + 311485 = 432300 µs → 108.075 → 109 / 433.
        check(
            100_000,
            4800,
            6000,
            [966_524, 226_992, 226_992, 311_485, 5000],
            109,
            433,
        );
        assert_eq!(e.srtt_us(), 120_815);
        assert_eq!(e.rttvar_us(), 311_485);
    }

    #[test]
    fn falling_rtt_uses_gain_1_32() {
        let mut e = est_after_first(100_000, TCP_RTO_MIN_US);
        // err = −90000; |err| − mdev/4 = 90000 − 50000 = 40000 > 0 → 40000/8 = 5000.
        // With gain 1/4 mdev would have become 240000.
        e.sample(10_000, 1, 200, TCP_RTO_MIN_US);
        assert_eq!(e.mdev_us, 205_000);
        assert_eq!(e.srtt_us, 800_000 - 90_000);
        // mdev rose above mdev_max, so rttvar followed at once.
        assert_eq!(e.rttvar_us, 205_000);
    }

    #[test]
    fn rising_rtt_uses_gain_1_4() {
        let mut e = est_after_first(100_000, TCP_RTO_MIN_US);
        // err = +100000; 100000 − 50000 = 50000 added in full.
        e.sample(200_000, 1, 200, TCP_RTO_MIN_US);
        assert_eq!(e.mdev_us, 250_000);
        assert_eq!(e.srtt_us, 900_000);
    }

    #[test]
    fn rttvar_decays_once_per_rtt_but_never_below_rto_min() {
        let mut e = est_after_first(1_000_000, TCP_RTO_MIN_US);
        assert_eq!(e.rttvar_us, 2_000_000);
        let mut una = 100u32;
        for _ in 0..200 {
            una += 100;
            e.sample(1_000_000, una, una + 50, TCP_RTO_MIN_US);
        }
        assert_eq!(e.srtt_us(), 1_000_000);
        assert!(e.rttvar_us >= TCP_RTO_MIN_US);
        assert!(e.rttvar_us < TCP_RTO_MIN_US + 1_000, "{}", e.rttvar_us);
        // Samples inside one window never decay it.
        let before = e.rttvar_us;
        e.sample(1_000_000, una, una + 50, TCP_RTO_MIN_US);
        assert_eq!(e.rttvar_us, before);
    }

    #[test]
    fn rto_is_capped_at_rto_max() {
        let e = est_after_first(100_000_000, TCP_RTO_MIN_US);
        assert_eq!(e.rto(HZ250, TCP_RTO_MAX_MS), 30_000);
        assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), 120_000);
        assert_eq!(e.rto(HZ1000, 5_000), 5_000);
    }

    #[test]
    fn lower_rto_min_lowers_the_floor() {
        // 1 ms RTT: rttvar = max(2000, 5000) = 5000 → RTO = 6000 µs.
        let e = est_after_first(1_000, 5_000);
        assert_eq!(e.rttvar_us, 5_000);
        assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), 6);
        assert_eq!(e.rto(HZ250, TCP_RTO_MAX_MS), 2);
        let e = est_after_first(1_000, TCP_RTO_MIN_US);
        assert_eq!(e.rto(HZ1000, TCP_RTO_MAX_MS), 201);
        // The window reset floors mdev_max at the configured rto_min too.
        let mut e = est_after_first(1_000, 5_000);
        e.sample(1_000, 200, 300, 5_000);
        assert_eq!(e.mdev_max_us, 5_000);
    }

    #[test]
    fn fallback_only_without_sample() {
        let mut e = RttEstimator::new();
        assert_eq!(e.set_fallback(HZ250), Some(750));
        assert_eq!(e.rttvar_us, 3_000_000);
        assert_eq!(e.mdev_us, 3_000_000);
        assert_eq!(e.mdev_max_us, 3_000_000);
        assert_eq!(tcp_timeout_fallback(HZ1000), 3_000);
        let mut e = est_after_first(10_000, TCP_RTO_MIN_US);
        let snapshot = e.clone();
        assert_eq!(e.set_fallback(HZ250), None);
        assert_eq!(e, snapshot);
    }

    #[test]
    fn min_rtt_window() {
        let mut e = RttEstimator::new();
        assert_eq!(e.min_rtt_us(), u32::MAX);
        e.update_rtt_min(HZ250, Instant::from_secs(1), 5_000, false);
        e.update_rtt_min(HZ250, Instant::from_secs(2), 7_000, false);
        assert_eq!(e.min_rtt_us(), 5_000);
        // A delayed-ACK sample above the minimum is skipped entirely.
        e.update_rtt_min(HZ250, Instant::from_secs(250), 9_000, true);
        e.update_rtt_min(HZ250, Instant::from_secs(200), 6_000, false);
        assert_eq!(e.min_rtt_us(), 5_000);
        // After 300 s the old minimum expires and a later sample takes over.
        e.update_rtt_min(HZ250, Instant::from_secs(302), 8_000, false);
        assert_eq!(e.min_rtt_us(), 6_000);
        e.update_rtt_min(HZ250, Instant::from_secs(501), 8_000, false);
        assert_eq!(e.min_rtt_us(), 8_000);
        // A zero sample counts as one jiffy.
        e.update_rtt_min(HZ250, Instant::from_secs(502), 0, false);
        assert_eq!(e.min_rtt_us(), 4_000);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut e = RttEstimator::new();
        e.sample(i64::MAX, 0, 1, u32::MAX);
        e.sample(0, 5, 6, 0);
        e.sample(i64::MAX, 9, 10, 0);
        assert_eq!(e.rto(Hz(0), u32::MAX), 0);
        let e = est_after_first(i64::MAX, u32::MAX);
        assert!(e.rto(Hz(u32::MAX), u32::MAX) > 0);
        let mut e = RttEstimator::new();
        e.update_rtt_min(Hz(0), Instant::from_secs(u64::MAX / 2_000_000_000), 0, true);
        let mut e = RttEstimator::new();
        assert_eq!(e.set_fallback(Hz(0)), Some(3));
    }

    #[test]
    fn model_timeout_table() {
        // linux-tcp-timers.md §7.2, base 200 ms, rto_max 120 s.
        let want = [
            200, 600, 1_400, 3_000, 6_200, 12_600, 25_400, 51_000, 102_200, 204_600, 324_600,
            444_600, 564_600, 684_600, 804_600, 924_600,
        ];
        for (n, w) in want.iter().enumerate() {
            assert_eq!(tcp_model_timeout(n as u32, 200, 120_000), *w, "N={n}");
        }
        // SYN-style base of 1 s: thresh = ilog2(120) = 6, so N=6 is still doubling.
        assert_eq!(tcp_model_timeout(6, 1_000, 120_000), 127_000);
        assert_eq!(tcp_model_timeout(7, 1_000, 120_000), 247_000);
        // A lower rto_max shrinks the doubling phase: thresh = ilog2(10000/200) = 5.
        assert_eq!(tcp_model_timeout(6, 200, 10_000), 63 * 200 + 10_000);
        // Degenerate inputs do not panic.
        assert_eq!(tcp_model_timeout(3, 0, 120_000), 3 * 120_000);
        assert_eq!(tcp_model_timeout(u32::MAX, 1, u64::MAX), u64::MAX);
    }
}
