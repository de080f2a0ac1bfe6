//! CUBIC (RFC 9438) with HyStart, as net/ipv4/tcp_cubic.c implements it with its default
//! module parameters: beta 717/1024, bic_scale 41 (C ≈ 0.4), fast convergence, TCP
//! friendliness, HyStart with both ACK-train and delay detection, `hystart_low_window` 16.
//!
//! Guarantees: the window function uses the kernel's fixed-point units (time in 1/1024 s,
//! `cubic_root()` by table and one Newton step) and its clocks (`tcp_jiffies32` for the epoch,
//! microseconds for HyStart), so the same ACK sequence gives the same `snd_cwnd` as Linux.
//! Arithmetic the kernel does in wrapping 32/64-bit integers wraps here too, never panics.
//!
//! The socket is assumed unpaced (`sk_pacing_status == SK_PACING_NONE`, as with the default
//! qdisc): HyStart's ACK-train threshold is half the minimum delay.

use super::{CaEvent, CaState, CcState, CongestionControl, tcp_reno_undo_cwnd};
use crate::seq::after;
use crate::time::{Hz, Instant};

/// Scale of `beta` (Linux: BICTCP_BETA_SCALE).
const BICTCP_BETA_SCALE: u32 = 1024;
/// Time unit of the cubic function: 2^10 per second (Linux: BICTCP_HZ).
const BICTCP_HZ: u32 = 10;
/// Module parameter `beta`: cwnd is multiplied by 717/1024 ≈ 0.7 on loss.
pub const BETA: u32 = 717;
/// Module parameter `bic_scale`: C = bic_scale·10/1024 ≈ 0.4.
pub const BIC_SCALE: u32 = 41;
const FAST_CONVERGENCE: bool = true;
const TCP_FRIENDLINESS: bool = true;
const HYSTART: bool = true;
const HYSTART_ACK_TRAIN: u32 = 0x1;
const HYSTART_DELAY: u32 = 0x2;
const HYSTART_DETECT: u32 = HYSTART_ACK_TRAIN | HYSTART_DELAY;
/// Module parameter `hystart_low_window`: HyStart runs only from this cwnd up.
pub const HYSTART_LOW_WINDOW: u32 = 16;
/// Module parameter `hystart_ack_delta_us`: ACKs closer than this form a train.
pub const HYSTART_ACK_DELTA_US: u32 = 2000;
/// Delay samples taken per round before the delay test runs (Linux: HYSTART_MIN_SAMPLES).
const HYSTART_MIN_SAMPLES: u8 = 8;
const HYSTART_DELAY_MIN: u32 = 4000;
const HYSTART_DELAY_MAX: u32 = 16000;
/// `sk_gso_max_size` assumed for HyStart's TSO/GRO cushion (GSO_LEGACY_MAX_SIZE).
const GSO_MAX_SIZE: u64 = 65_536;

/// Linux: beta_scale, computed in cubictcp_register(): 8·(1024+β)/3/(1024−β) = 15.
const BETA_SCALE: u32 = 8 * (BICTCP_BETA_SCALE + BETA) / 3 / (BICTCP_BETA_SCALE - BETA);
/// Linux: cube_rtt_scale = bic_scale·10 (1024·C/rtt with rtt fixed at 100 ms).
const CUBE_RTT_SCALE: u32 = BIC_SCALE * 10;
/// Linux: cube_factor = 2^(10+3·BICTCP_HZ) / (bic_scale·10).
const CUBE_FACTOR: u64 = (1u64 << (10 + 3 * BICTCP_HZ)) / (BIC_SCALE as u64 * 10);

/// Linux's `tcp_jiffies32` at `now`: jiffies start at INITIAL_JIFFIES (−300 s), so the 32-bit
/// counter is zero only five minutes in, as on a real host.
pub fn tcp_jiffies32(hz: Hz, now: Instant) -> u32 {
    (hz.jiffies_at(now) as u32).wrapping_sub(300u32.wrapping_mul(hz.0))
}

/// The 32-bit microsecond clock HyStart reads (Linux: bictcp_clock_us(), `tp->tcp_mstamp`).
fn clock_us(now: Instant) -> u32 {
    now.as_micros() as u32
}

/// Per-socket CUBIC state; field names are those of Linux's `struct bictcp`.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cubic {
    hz: Hz,
    /// Increase cwnd by 1 after this many ACKed packets.
    pub cnt: u32,
    /// W_max: cwnd before the last reduction (lowered further by fast convergence).
    pub last_max_cwnd: u32,
    /// cwnd at the last `bictcp_update()`.
    pub last_cwnd: u32,
    /// `tcp_jiffies32` of the last `bictcp_update()`.
    pub last_time: u32,
    /// The plateau of the cubic function.
    pub bic_origin_point: u32,
    /// Time from the start of the epoch to the plateau, in 1/1024 s.
    pub bic_K: u32,
    /// Minimum RTT sample, µs.
    pub delay_min: u32,
    /// `tcp_jiffies32` when the current epoch began; 0 means no epoch.
    pub epoch_start: u32,
    /// Packets ACKed in this epoch, for the Reno-friendly estimate.
    pub ack_cnt: u32,
    /// Estimated cwnd of a Reno flow in the same epoch.
    pub tcp_cwnd: u32,
    /// HyStart: delay samples taken this round.
    pub sample_cnt: u8,
    /// HyStart: the slow start exit point has been found.
    pub found: bool,
    /// HyStart: µs clock at the start of this round.
    pub round_start: u32,
    /// HyStart: the round ends when `snd_una` passes this.
    pub end_seq: u32,
    /// HyStart: µs clock of the last ACK in the current train.
    pub last_ack: u32,
    /// HyStart: minimum delay of this round, µs.
    pub curr_rtt: u32,
}

impl Cubic {
    /// A fresh instance; `hz` is the tick rate of the epoch clock.
    pub fn new(hz: Hz) -> Cubic {
        Cubic {
            hz: Hz(hz.0.max(1)),
            cnt: 0,
            last_max_cwnd: 0,
            last_cwnd: 0,
            last_time: 0,
            bic_origin_point: 0,
            bic_K: 0,
            delay_min: 0,
            epoch_start: 0,
            ack_cnt: 0,
            tcp_cwnd: 0,
            sample_cnt: 0,
            found: false,
            round_start: 0,
            end_seq: 0,
            last_ack: 0,
            curr_rtt: 0,
        }
    }

    /// Linux: bictcp_reset() in net/ipv4/tcp_cubic.c
    fn reset(&mut self) {
        self.cnt = 0;
        self.last_max_cwnd = 0;
        self.last_cwnd = 0;
        self.last_time = 0;
        self.bic_origin_point = 0;
        self.bic_K = 0;
        self.delay_min = 0;
        self.epoch_start = 0;
        self.ack_cnt = 0;
        self.tcp_cwnd = 0;
        self.found = false;
    }

    /// Starts a HyStart round that ends when everything sent so far is ACKed.
    ///
    /// Linux: bictcp_hystart_reset() in net/ipv4/tcp_cubic.c
    fn hystart_reset(&mut self, tp: &CcState, now: Instant) {
        self.round_start = clock_us(now);
        self.last_ack = self.round_start;
        self.end_seq = tp.snd_nxt;
        self.curr_rtt = u32::MAX;
        self.sample_cnt = 0;
    }

    /// Recomputes `cnt`, the ACKs per +1 of cwnd, from the cubic function at one RTT ahead.
    ///
    /// Linux: bictcp_update() in net/ipv4/tcp_cubic.c
    fn update(&mut self, cwnd: u32, acked: u32, now: Instant) {
        let hz = self.hz.0;
        let jiffies = tcp_jiffies32(self.hz, now);
        self.ack_cnt = self.ack_cnt.wrapping_add(acked);

        if self.last_cwnd == cwnd
            && (jiffies.wrapping_sub(self.last_time) as i32) <= (hz / 32) as i32
        {
            return;
        }

        // The cubic function runs at most once per jiffy; a reduction zeroes epoch_start, which
        // forces a recomputation.
        if !(self.epoch_start != 0 && jiffies == self.last_time) {
            self.last_cwnd = cwnd;
            self.last_time = jiffies;

            if self.epoch_start == 0 {
                self.epoch_start = jiffies;
                self.ack_cnt = acked;
                self.tcp_cwnd = cwnd;
                if self.last_max_cwnd <= cwnd {
                    self.bic_K = 0;
                    self.bic_origin_point = cwnd;
                } else {
                    // K = cbrt((W_max − cwnd) / C), in 1/1024 s.
                    let diff = u64::from(self.last_max_cwnd - cwnd);
                    self.bic_K = cubic_root(CUBE_FACTOR.wrapping_mul(diff));
                    self.bic_origin_point = self.last_max_cwnd;
                }
            }

            // Time since the epoch plus one minimum RTT: the target is where cwnd should be
            // once this ACK's window has been sent and acknowledged.
            let elapsed = (jiffies.wrapping_sub(self.epoch_start) as i32).max(0) as u64;
            let t_jiffies = elapsed + self.hz.usecs_to_jiffies(u64::from(self.delay_min));
            let t = (t_jiffies << BICTCP_HZ) / u64::from(hz);
            self.cnt = self.cnt_for_target(cwnd, t);

            // The initial growth of the cubic function is too conservative while the available
            // bandwidth is still unknown.
            if self.last_max_cwnd == 0 && self.cnt > 20 {
                self.cnt = 20; // 5% per RTT
            }
        }

        if TCP_FRIENDLINESS {
            // A Reno flow with the same beta grows 3(1−β)/(1+β) per RTT: one packet per
            // cwnd·15/8 ACKed packets.
            let delta = cwnd.wrapping_mul(BETA_SCALE) >> 3;
            if delta > 0 && self.ack_cnt > delta {
                let steps = (self.ack_cnt - 1) / delta;
                self.ack_cnt -= steps * delta;
                self.tcp_cwnd = self.tcp_cwnd.wrapping_add(steps);
            }
            if self.tcp_cwnd > cwnd {
                let max_cnt = cwnd / (self.tcp_cwnd - cwnd);
                self.cnt = self.cnt.min(max_cnt);
            }
        }

        // At most one packet per two ACKed: cwnd grows at most 1.5× per RTT.
        self.cnt = self.cnt.max(2);
    }

    /// The cubic function W(t) = C·(t − K)³ + W_max at `t` (1/1024 s since the epoch).
    fn bic_target(&self, t: u64) -> u32 {
        let k = u64::from(self.bic_K);
        let offs = t.abs_diff(k);
        let delta = (u64::from(CUBE_RTT_SCALE)
            .wrapping_mul(offs)
            .wrapping_mul(offs)
            .wrapping_mul(offs)
            >> (10 + 3 * BICTCP_HZ)) as u32;
        if t < k {
            self.bic_origin_point.wrapping_sub(delta)
        } else {
            self.bic_origin_point.wrapping_add(delta)
        }
    }

    /// ACKs per +1 so that cwnd reaches W(t) within one window of ACKs.
    fn cnt_for_target(&self, cwnd: u32, t: u64) -> u32 {
        let bic_target = self.bic_target(t);
        if bic_target > cwnd {
            cwnd / (bic_target - cwnd)
        } else {
            cwnd.wrapping_mul(100) // above the curve: grow very slowly
        }
    }

    /// Cushion for TSO/GRO aggregation delays, capped at 1 ms; zero without a pacing rate.
    ///
    /// Linux: hystart_ack_delay() in net/ipv4/tcp_cubic.c
    fn hystart_ack_delay(tp: &CcState) -> u32 {
        match (GSO_MAX_SIZE * 4 * 1_000_000).checked_div(tp.pacing_rate) {
            Some(d) => d.min(1_000) as u32,
            None => 0,
        }
    }

    /// Ends slow start early when ACKs of one round keep arriving for longer than half the
    /// minimum RTT (the ACK train) or when this round's minimum RTT rose by max(4 ms, RTT/8)
    /// (delay increase), setting ssthresh to the current cwnd.
    ///
    /// Linux: hystart_update() in net/ipv4/tcp_cubic.c
    fn hystart_update(&mut self, tp: &mut CcState, delay: u32, now: Instant) {
        if after(tp.snd_una, self.end_seq) {
            self.hystart_reset(tp, now);
        }
        if tp.snd_cwnd < HYSTART_LOW_WINDOW {
            return;
        }
        if HYSTART_DETECT & HYSTART_ACK_TRAIN != 0 {
            let now_us = clock_us(now);
            if (now_us.wrapping_sub(self.last_ack) as i32) <= HYSTART_ACK_DELTA_US as i32 {
                self.last_ack = now_us;
                // Unpaced: the train may span only half the minimum delay.
                let threshold = self.delay_min.wrapping_add(Self::hystart_ack_delay(tp)) >> 1;
                // The kernel compares an s32 with a u32 here, which C makes unsigned.
                if now_us.wrapping_sub(self.round_start) > threshold {
                    self.found = true;
                    tp.snd_ssthresh = tp.snd_cwnd;
                }
            }
        }
        if HYSTART_DETECT & HYSTART_DELAY != 0 {
            self.curr_rtt = self.curr_rtt.min(delay);
            if self.sample_cnt < HYSTART_MIN_SAMPLES {
                self.sample_cnt += 1;
            } else {
                let thresh = (self.delay_min >> 3).clamp(HYSTART_DELAY_MIN, HYSTART_DELAY_MAX);
                if self.curr_rtt > self.delay_min.wrapping_add(thresh) {
                    self.found = true;
                    tp.snd_ssthresh = tp.snd_cwnd;
                }
            }
        }
    }
}

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    /// Linux: cubictcp_init() in net/ipv4/tcp_cubic.c
    fn init(&mut self, tp: &mut CcState, now: Instant) {
        self.reset();
        if HYSTART {
            self.hystart_reset(tp, now);
        }
        // With HyStart on, the `initial_ssthresh` parameter (0 by default) is not applied.
    }

    /// Linux: cubictcp_recalc_ssthresh() in net/ipv4/tcp_cubic.c
    fn ssthresh(&mut self, tp: &CcState) -> u32 {
        self.epoch_start = 0;
        let cwnd = tp.snd_cwnd;
        // Fast convergence: a flow losing below its previous W_max releases bandwidth by
        // remembering an even lower plateau.
        self.last_max_cwnd = if cwnd < self.last_max_cwnd && FAST_CONVERGENCE {
            ((u64::from(cwnd) * u64::from(BICTCP_BETA_SCALE + BETA))
                / u64::from(2 * BICTCP_BETA_SCALE)) as u32
        } else {
            cwnd
        };
        ((u64::from(cwnd) * u64::from(BETA) / u64::from(BICTCP_BETA_SCALE)) as u32).max(2)
    }

    /// Linux: cubictcp_cong_avoid() in net/ipv4/tcp_cubic.c
    fn cong_avoid(&mut self, tp: &mut CcState, _ack: u32, acked: u32, now: Instant) {
        if !tp.is_cwnd_limited() {
            return;
        }
        let mut acked = acked;
        if tp.in_slow_start() {
            acked = tp.tcp_slow_start(acked);
            if acked == 0 {
                return;
            }
        }
        self.update(tp.snd_cwnd, acked, now);
        tp.tcp_cong_avoid_ai(self.cnt, acked);
    }

    /// Linux: cubictcp_state() in net/ipv4/tcp_cubic.c
    fn set_state(&mut self, tp: &CcState, new_state: CaState, now: Instant) {
        if new_state == CaState::Loss {
            self.reset();
            self.hystart_reset(tp, now);
        }
    }

    /// Linux: cubictcp_cwnd_event() in net/ipv4/tcp_cubic.c
    fn cwnd_event(&mut self, tp: &CcState, ev: CaEvent, now: Instant) {
        if ev != CaEvent::TxStart {
            return;
        }
        let now_j = tcp_jiffies32(self.hz, now);
        let delta = now_j.wrapping_sub(tcp_jiffies32(self.hz, tp.lsndtime)) as i32;
        // After an application-limited idle period, shift the epoch so the window keeps
        // following the curve instead of jumping ahead by the idle time.
        if self.epoch_start != 0 && delta > 0 {
            self.epoch_start = self.epoch_start.wrapping_add(delta as u32);
            if after(self.epoch_start, now_j) {
                self.epoch_start = now_j;
            }
        }
    }

    /// Linux: cubictcp_acked() in net/ipv4/tcp_cubic.c
    fn pkts_acked(&mut self, tp: &mut CcState, _acked: u32, rtt_us: Option<u32>, now: Instant) {
        let Some(rtt_us) = rtt_us else { return };
        let now_j = tcp_jiffies32(self.hz, now);
        // Delay samples right after a reduction are distorted by the recovery; skip 1 s.
        if self.epoch_start != 0 && (now_j.wrapping_sub(self.epoch_start) as i32) < self.hz.0 as i32
        {
            return;
        }
        let delay = rtt_us.max(1);
        if self.delay_min == 0 || self.delay_min > delay {
            self.delay_min = delay;
        }
        if !self.found && tp.in_slow_start() && HYSTART {
            self.hystart_update(tp, delay, now);
        }
    }

    /// Linux: tcp_reno_undo_cwnd() in net/ipv4/tcp_cong.c (cubic's `.undo_cwnd`)
    fn undo_cwnd(&mut self, tp: &CcState) -> u32 {
        tcp_reno_undo_cwnd(tp)
    }
}

/// Integer cube root: a 64-entry table for the leading bits, then one Newton-Raphson step
/// (average error ≈ 0.2%).
///
/// Linux: cubic_root() in net/ipv4/tcp_cubic.c
pub fn cubic_root(a: u64) -> u32 {
    // v[x] = cbrt(x << 18) − 1 for x in 0..64, refined by hand upstream.
    const V: [u8; 64] = [
        0, 54, 54, 54, 118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156, 157, 161, 164,
        168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199, 200, 202, 204, 206, 209,
        211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229, 231, 232, 234, 236, 237, 239, 240,
        242, 244, 245, 246, 248, 250, 251, 252, 254,
    ];
    let fls = 64 - a.leading_zeros();
    if fls < 7 {
        return (u32::from(V[a as usize]) + 35) >> 6;
    }
    let b = ((fls * 84) >> 8) - 1;
    let shift = (a >> (b * 3)) as usize;
    let v = u32::from(V.get(shift).copied().unwrap_or(u8::MAX));
    let x = ((v + 10) << b) >> 6;
    // x_{k+1} = (2·x_k + a / x_k²) / 3, with x·(x−1) and 341/1024 as the kernel writes it.
    let div = a / (u64::from(x) * u64::from(x.saturating_sub(1))).max(1);
    let x = x.wrapping_mul(2).wrapping_add(div as u32);
    x.wrapping_mul(341) >> 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::TCP_INFINITE_SSTHRESH;
    use std::time::Duration;

    const HZ: Hz = Hz(1000);

    fn state(cwnd: u32, ssthresh: u32) -> CcState {
        let mut tp = CcState::new(1448);
        tp.snd_cwnd = cwnd;
        tp.snd_ssthresh = ssthresh;
        tp.is_cwnd_limited = true;
        tp
    }

    #[test]
    fn derived_constants() {
        assert_eq!(BETA_SCALE, 15);
        assert_eq!(CUBE_RTT_SCALE, 410);
        assert_eq!(CUBE_FACTOR, 2_681_735_677);
    }

    #[test]
    fn cubic_root_matches_cbrt() {
        for a in 0u64..64 {
            let want = (a as f64).cbrt();
            assert!((f64::from(cubic_root(a)) - want).abs() <= 1.0, "a={a}");
        }
        // Every magnitude from 2^6 to 2^63, several mantissas each (deterministic LCG).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for e in 6..64 {
            for _ in 0..200 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let a = (1u64 << e) | (x >> (64 - e));
                let want = (a as f64).cbrt();
                let got = f64::from(cubic_root(a));
                assert!(
                    (got - want).abs() <= 1.0 + want * 0.002,
                    "a={a} got {got} want {want}"
                );
            }
        }
        assert_eq!(cubic_root(1_000_000), 100);
        // cbrt(2^64 − 1) = 2642245.9; the table and single Newton step land 0.015% low.
        assert_eq!(cubic_root(u64::MAX), 2_641_850);
    }

    #[test]
    fn ssthresh_is_beta_and_fast_convergence() {
        let mut cc = Cubic::new(HZ);
        cc.epoch_start = 7;
        // 100·717/1024 = 70.02 → 70; W_max remembers 100.
        assert_eq!(cc.ssthresh(&state(100, 50)), 70);
        assert_eq!(cc.last_max_cwnd, 100);
        assert_eq!(cc.epoch_start, 0, "a reduction ends the epoch");
        // Losing again below W_max: W_max = 80·(1024+717)/2048 = 68.03 → 68; 80·717/1024 → 56.
        assert_eq!(cc.ssthresh(&state(80, 50)), 56);
        assert_eq!(cc.last_max_cwnd, 68);
        // Floor of two packets.
        assert_eq!(cc.ssthresh(&state(2, 50)), 2);
        for cwnd in [10u32, 33, 1000, 12_345] {
            let want = (cwnd * 717 / 1024).max(2);
            assert_eq!(Cubic::new(HZ).ssthresh(&state(cwnd, 5)), want);
        }
    }

    /// One round trip at `now`: every packet of the window is ACKed individually.
    fn one_rtt(cc: &mut Cubic, tp: &mut CcState, now: Instant) {
        let window = tp.snd_cwnd;
        for _ in 0..window {
            tp.snd_una = tp.snd_una.wrapping_add(1448);
            cc.cong_avoid(tp, tp.snd_una, 1, now);
        }
    }

    #[test]
    fn slow_start_doubles_per_rtt() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(10, TCP_INFINITE_SSTHRESH);
        let mut now = Instant::from_secs(1);
        cc.init(&mut tp, now);
        for want in [20, 40, 80] {
            now += Duration::from_millis(100);
            one_rtt(&mut cc, &mut tp, now);
            assert_eq!(tp.snd_cwnd, want);
        }
    }

    #[test]
    fn window_follows_the_cubic_function_after_a_loss() {
        let hz = Hz(1000);
        let mut cc = Cubic::new(hz);
        let mut tp = state(1000, 500);
        let start = Instant::from_secs(10);
        cc.init(&mut tp, start);
        let ssthresh = cc.ssthresh(&tp);
        assert_eq!(ssthresh, 700); // 1000·717/1024 = 700.2
        tp.snd_cwnd = ssthresh;
        tp.snd_ssthresh = ssthresh;

        // Independent model: W(t) = C·(t − K)³ + W_max with C = 410/1024 and
        // K = cbrt((W_max − W_min)/C).
        let c = 410.0 / 1024.0;
        let w_max = 1000.0f64;
        let k = ((w_max - 700.0) / c).cbrt();
        let w = |t: f64| c * (t - k).powi(3) + w_max;

        let rtt = Duration::from_millis(100);
        let mut now = start;
        // The epoch begins at the first ACK after the reduction.
        one_rtt(&mut cc, &mut tp, now);
        let epoch = now;
        let want_k = k * 1024.0;
        assert!(
            (f64::from(cc.bic_K) - want_k).abs() <= want_k * 0.005,
            "K {} vs {want_k}",
            cc.bic_K
        );
        assert_eq!(cc.bic_origin_point, 1000);

        let checkpoints = [1.0, 3.0, 5.0, 8.0, 9.0, 10.0, 12.0];
        let mut next = 0;
        while next < checkpoints.len() {
            now += rtt;
            one_rtt(&mut cc, &mut tp, now);
            let t = (now - epoch).as_secs_f64();
            if (t - checkpoints[next]).abs() < 1e-9 {
                let got = f64::from(tp.snd_cwnd);
                // cwnd reaches W(t) by the end of the round: it may lag by up to one RTT.
                let lo = w(t - 0.1) - 2.0;
                let hi = w(t) + 2.0;
                assert!(
                    lo <= got && got <= hi,
                    "t={t}: cwnd {got}, W in [{lo}, {hi}]"
                );
                next += 1;
            }
        }
    }

    #[test]
    fn growth_without_previous_loss_is_capped_at_five_percent() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(100, 100);
        let now = Instant::from_secs(5);
        cc.init(&mut tp, now);
        one_rtt(&mut cc, &mut tp, now);
        assert_eq!(cc.cnt, 20);
        assert_eq!(tp.snd_cwnd, 105);
    }

    #[test]
    fn reno_friendly_region_grows_like_reno() {
        // W_max just above cwnd: K = cbrt(1/C) ≈ 1.36 s and W(t) ≤ 21 for the first second, so
        // the cubic curve alone would leave cwnd at 20. The Reno estimate adds one packet per
        // cwnd·15/8 ≈ 37 ACKed packets: ≈ 200/37 ≈ 5 packets over 10 RTTs of ≈ 20 ACKs.
        let mut cc = Cubic::new(HZ);
        let mut tp = state(20, 10);
        let mut now = Instant::from_secs(5);
        cc.init(&mut tp, now);
        cc.last_max_cwnd = 21;
        for _ in 0..10 {
            one_rtt(&mut cc, &mut tp, now);
            now += Duration::from_millis(100);
        }
        assert!((24..=26).contains(&tp.snd_cwnd), "cwnd {}", tp.snd_cwnd);
        assert!(cc.tcp_cwnd >= 24);
    }

    #[test]
    fn not_cwnd_limited_does_not_grow() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(30, 10);
        tp.is_cwnd_limited = false;
        cc.cong_avoid(&mut tp, 0, 30, Instant::from_secs(1));
        assert_eq!(tp.snd_cwnd, 30);
        assert_eq!(cc.epoch_start, 0);
    }

    fn hystart_setup(cwnd: u32) -> (Cubic, CcState, Instant) {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(cwnd, TCP_INFINITE_SSTHRESH);
        tp.snd_nxt = 100;
        let t0 = Instant::from_secs(2);
        cc.init(&mut tp, t0);
        assert_eq!(cc.end_seq, 100);
        (cc, tp, t0)
    }

    #[test]
    fn hystart_delay_increase_exits_slow_start() {
        let (mut cc, mut tp, t0) = hystart_setup(20);
        // Round 1: ACKs 3 ms apart (no train), RTT 10 ms.
        tp.snd_una = 200;
        tp.snd_nxt = 300;
        let mut now = t0;
        for _ in 0..12 {
            now += Duration::from_millis(3);
            cc.pkts_acked(&mut tp, 1, Some(10_000), now);
        }
        assert_eq!(cc.delay_min, 10_000);
        assert_eq!(
            cc.end_seq, 300,
            "snd_una passing end_seq started a new round"
        );
        assert!(!cc.found);
        // Round 2: RTT 15 ms > 10 ms + max(4 ms, 10/8 ms). The test needs 8 samples first.
        tp.snd_una = 400;
        tp.snd_nxt = 600;
        for i in 0..8 {
            now += Duration::from_millis(3);
            cc.pkts_acked(&mut tp, 1, Some(15_000), now);
            assert!(!cc.found, "sample {i}");
        }
        now += Duration::from_millis(3);
        cc.pkts_acked(&mut tp, 1, Some(15_000), now);
        assert!(cc.found);
        assert_eq!(tp.snd_ssthresh, 20);
        assert!(!tp.in_slow_start());
    }

    #[test]
    fn hystart_small_delay_increase_is_tolerated() {
        let (mut cc, mut tp, t0) = hystart_setup(20);
        tp.snd_una = 200;
        tp.snd_nxt = 300;
        let mut now = t0;
        cc.pkts_acked(&mut tp, 1, Some(10_000), now);
        tp.snd_una = 400;
        tp.snd_nxt = 600;
        for _ in 0..20 {
            now += Duration::from_millis(3);
            cc.pkts_acked(&mut tp, 1, Some(14_000), now); // exactly the 4 ms threshold
        }
        assert!(!cc.found);
        assert_eq!(tp.snd_ssthresh, TCP_INFINITE_SSTHRESH);
    }

    #[test]
    fn hystart_ack_train_exits_slow_start() {
        let (mut cc, mut tp, t0) = hystart_setup(20);
        tp.snd_una = 200;
        tp.snd_nxt = 300;
        // ACKs 1 ms apart with a 10 ms minimum RTT: the train may last delay_min/2 = 5 ms.
        let mut now = t0;
        cc.pkts_acked(&mut tp, 1, Some(10_000), now);
        assert_eq!(cc.round_start, clock_us(t0));
        for ms in 1..=5 {
            now = t0 + Duration::from_millis(ms);
            cc.pkts_acked(&mut tp, 1, Some(10_000), now);
            assert!(!cc.found, "{ms} ms");
        }
        now = t0 + Duration::from_millis(6);
        cc.pkts_acked(&mut tp, 1, Some(10_000), now);
        assert!(cc.found);
        assert_eq!(tp.snd_ssthresh, 20);
    }

    #[test]
    fn hystart_waits_for_low_window() {
        let (mut cc, mut tp, t0) = hystart_setup(15);
        tp.snd_una = 200;
        tp.snd_nxt = 300;
        for ms in 0..=20 {
            cc.pkts_acked(
                &mut tp,
                1,
                Some(10_000 + ms * 1_000),
                t0 + Duration::from_millis(ms.into()),
            );
        }
        assert!(!cc.found);
        assert_eq!(tp.snd_ssthresh, TCP_INFINITE_SSTHRESH);
    }

    #[test]
    fn hystart_ack_delay_uses_pacing_rate() {
        let mut tp = state(20, 10);
        assert_eq!(Cubic::hystart_ack_delay(&tp), 0);
        tp.pacing_rate = 1_000_000;
        assert_eq!(Cubic::hystart_ack_delay(&tp), 1_000);
        tp.pacing_rate = 1_000_000_000;
        assert_eq!(Cubic::hystart_ack_delay(&tp), 262);
    }

    #[test]
    fn delay_samples_right_after_a_reduction_are_ignored() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(50, 40);
        let now = Instant::from_secs(20);
        cc.init(&mut tp, now);
        cc.cong_avoid(&mut tp, 0, 1, now);
        assert_ne!(cc.epoch_start, 0);
        cc.pkts_acked(&mut tp, 1, Some(5_000), now + Duration::from_millis(999));
        assert_eq!(cc.delay_min, 0);
        cc.pkts_acked(&mut tp, 1, Some(5_000), now + Duration::from_millis(1000));
        assert_eq!(cc.delay_min, 5_000);
        cc.pkts_acked(&mut tp, 1, None, now + Duration::from_millis(1001));
        cc.pkts_acked(&mut tp, 1, Some(0), now + Duration::from_millis(1002));
        assert_eq!(cc.delay_min, 1, "a zero sample counts as 1 µs");
    }

    #[test]
    fn tx_start_after_idle_shifts_the_epoch() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(50, 40);
        let t0 = Instant::from_secs(20);
        cc.init(&mut tp, t0);
        cc.cong_avoid(&mut tp, 0, 1, t0);
        let epoch = cc.epoch_start;
        assert_eq!(epoch, tcp_jiffies32(HZ, t0));
        // Last send at t0 + 1 s, restart at t0 + 6 s: the 5 s idle is added to the epoch.
        tp.lsndtime = t0 + Duration::from_secs(1);
        cc.cwnd_event(&tp, CaEvent::TxStart, t0 + Duration::from_secs(6));
        assert_eq!(cc.epoch_start, epoch.wrapping_add(5_000));
        // The shift never moves the epoch past now.
        tp.lsndtime = t0;
        cc.cwnd_event(&tp, CaEvent::TxStart, t0 + Duration::from_secs(8));
        assert_eq!(
            cc.epoch_start,
            tcp_jiffies32(HZ, t0 + Duration::from_secs(8))
        );
        // Other events change nothing.
        let snapshot = cc.clone();
        cc.cwnd_event(&tp, CaEvent::CwndRestart, t0 + Duration::from_secs(30));
        assert_eq!(cc, snapshot);
    }

    #[test]
    fn loss_state_resets_everything() {
        let mut cc = Cubic::new(HZ);
        let mut tp = state(50, 40);
        let now = Instant::from_secs(3);
        cc.init(&mut tp, now);
        cc.ssthresh(&tp);
        cc.delay_min = 7;
        cc.found = true;
        cc.set_state(&tp, CaState::Recovery, now);
        assert_eq!(cc.last_max_cwnd, 50);
        tp.snd_nxt = 999;
        cc.set_state(&tp, CaState::Loss, now);
        assert_eq!(
            (cc.last_max_cwnd, cc.delay_min, cc.epoch_start, cc.found),
            (0, 0, 0, false)
        );
        assert_eq!(cc.end_seq, 999);
        assert_eq!(cc.curr_rtt, u32::MAX);
    }

    #[test]
    fn jiffies_clock_starts_like_linux() {
        assert_eq!(
            tcp_jiffies32(Hz(250), Instant::ZERO),
            0u32.wrapping_sub(75_000)
        );
        assert_eq!(tcp_jiffies32(Hz(250), Instant::from_secs(300)), 0);
    }

    #[test]
    fn degenerate_states_do_not_panic() {
        let mut cc = Cubic::new(Hz(0));
        let mut tp = state(0, 0);
        let now = Instant::from_secs(400);
        cc.init(&mut tp, now);
        cc.cong_avoid(&mut tp, 0, u32::MAX, now);
        tp.snd_cwnd = u32::MAX;
        cc.last_max_cwnd = 0;
        cc.cong_avoid(&mut tp, 0, u32::MAX, now + Duration::from_secs(1));
        cc.ssthresh(&tp);
        cc.epoch_start = 1;
        cc.cong_avoid(&mut tp, 0, 1, now + Duration::from_secs(100_000));
        cc.pkts_acked(&mut tp, u32::MAX, Some(u32::MAX), now);
    }
}
