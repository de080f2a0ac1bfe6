//! NewReno (RFC 5681, RFC 6582): slow start, then one packet per window of ACKs, halving on
//! loss. Loss recovery itself lives in the socket; this is only the window arithmetic.

use super::{CcState, CongestionControl, tcp_reno_undo_cwnd};
use crate::time::Instant;

/// Linux: tcp_reno in net/ipv4/tcp_cong.c
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reno;

impl CongestionControl for Reno {
    fn name(&self) -> &'static str {
        "reno"
    }

    /// Linux: tcp_reno_ssthresh() in net/ipv4/tcp_cong.c
    fn ssthresh(&mut self, tp: &CcState) -> u32 {
        (tp.snd_cwnd >> 1).max(2)
    }

    /// Linux: tcp_reno_cong_avoid() in net/ipv4/tcp_cong.c
    fn cong_avoid(&mut self, tp: &mut CcState, _ack: u32, acked: u32, _now: Instant) {
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
        tp.tcp_cong_avoid_ai(tp.snd_cwnd, acked);
    }

    /// Linux: tcp_reno_undo_cwnd() in net/ipv4/tcp_cong.c
    fn undo_cwnd(&mut self, tp: &CcState) -> u32 {
        tcp_reno_undo_cwnd(tp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::TCP_INFINITE_SSTHRESH;

    fn state(cwnd: u32, ssthresh: u32) -> CcState {
        let mut tp = CcState::new(1448);
        tp.snd_cwnd = cwnd;
        tp.snd_ssthresh = ssthresh;
        tp.is_cwnd_limited = true;
        tp
    }

    /// One round trip: every packet of the window is ACKed individually.
    fn one_rtt(cc: &mut Reno, tp: &mut CcState) {
        let window = tp.snd_cwnd;
        for _ in 0..window {
            tp.snd_una = tp.snd_una.wrapping_add(1448);
            cc.cong_avoid(tp, tp.snd_una, 1, Instant::ZERO);
        }
    }

    #[test]
    fn slow_start_doubles_per_rtt() {
        let mut cc = Reno;
        let mut tp = state(10, TCP_INFINITE_SSTHRESH);
        for want in [20, 40, 80, 160] {
            one_rtt(&mut cc, &mut tp);
            assert_eq!(tp.snd_cwnd, want);
        }
    }

    #[test]
    fn congestion_avoidance_adds_one_mss_per_window() {
        let mut cc = Reno;
        let mut tp = state(20, 20);
        for want in 21..=30 {
            one_rtt(&mut cc, &mut tp);
            assert_eq!(tp.snd_cwnd, want);
            assert_eq!(tp.snd_cwnd_cnt, 0);
        }
        // One ACK short of a window: no growth yet.
        for _ in 0..29 {
            cc.cong_avoid(&mut tp, 0, 1, Instant::ZERO);
        }
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (30, 29));
    }

    #[test]
    fn slow_start_hands_the_excess_to_avoidance() {
        let mut cc = Reno;
        let mut tp = state(18, 20);
        cc.cong_avoid(&mut tp, 0, 5, Instant::ZERO);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (20, 3));
    }

    #[test]
    fn not_cwnd_limited_does_not_grow() {
        let mut cc = Reno;
        let mut tp = state(10, TCP_INFINITE_SSTHRESH);
        tp.is_cwnd_limited = false;
        tp.max_packets_out = 4;
        cc.cong_avoid(&mut tp, 0, 4, Instant::ZERO);
        assert_eq!(tp.snd_cwnd, 10);
    }

    #[test]
    fn ssthresh_halves_with_floor_two() {
        let mut cc = Reno;
        for (cwnd, want) in [(10, 5), (11, 5), (3, 2), (1, 2), (0, 2), (1000, 500)] {
            assert_eq!(cc.ssthresh(&state(cwnd, 5)), want, "cwnd {cwnd}");
        }
    }

    #[test]
    fn undo_restores_prior() {
        let mut cc = Reno;
        let mut tp = state(5, 5);
        tp.prior_cwnd = 10;
        assert_eq!(cc.undo_cwnd(&tp), 10);
    }
}
