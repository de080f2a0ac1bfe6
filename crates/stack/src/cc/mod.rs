//! Congestion control behind a trait shaped like Linux's `struct tcp_congestion_ops`.
//!
//! The socket owns a [`CcState`] (the `struct tcp_sock` fields congestion control reads and
//! writes) and a boxed [`CongestionControl`]; it calls the hooks where Linux calls them:
//! `init` when the connection is established, `cong_avoid` from `tcp_cong_avoid()` on an ACK that
//! advances `snd_una` in CA_Open, `ssthresh` on entering CWR/Recovery/Loss, `set_state` on every
//! `icsk_ca_state` change, `cwnd_event` for CA_EVENT_*, `pkts_acked` from
//! `tcp_clean_rtx_queue()`, `undo_cwnd` on a spurious-loss undo.
//!
//! Guarantees: the shared helpers ([`CcState::tcp_slow_start`], [`CcState::tcp_cong_avoid_ai`])
//! are the kernel's integer arithmetic; every hook is total (no division by zero, no overflow
//! panic) even on states the kernel never produces, such as a zero window.

mod cubic;
mod reno;

pub use cubic::{Cubic, cubic_root};
pub use reno::Reno;

use crate::sysctl::CongestionAlgorithm;
use crate::time::{Hz, Instant};

/// Linux: TCP_INIT_CWND in include/net/tcp.h (RFC 6928).
pub const TCP_INIT_CWND: u32 = 10;
/// Linux: TCP_INFINITE_SSTHRESH, the initial `snd_ssthresh`.
pub const TCP_INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

/// The `struct tcp_sock` fields congestion control uses. Windows count packets (MSS units).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CcState {
    pub snd_cwnd: u32,
    pub snd_ssthresh: u32,
    /// ACKed packets credited towards the next +1 in congestion avoidance.
    pub snd_cwnd_cnt: u32,
    pub snd_cwnd_clamp: u32,
    /// `snd_cwnd` saved when a reduction began, for undo.
    pub prior_cwnd: u32,
    pub mss_cache: u32,
    /// 8·SRTT in µs, as `tp->srtt_us`.
    pub srtt_us: u32,
    pub packets_out: u32,
    /// Most packets in flight during the last window (`tp->max_packets_out`).
    pub max_packets_out: u32,
    /// Whether the sender filled `snd_cwnd` in the last window (`tp->is_cwnd_limited`).
    pub is_cwnd_limited: bool,
    pub delivered: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    /// When the last data segment was sent (`tp->lsndtime`).
    pub lsndtime: Instant,
    /// `sk->sk_pacing_rate` in bytes per second; 0 when unknown. HyStart uses it to size its
    /// TSO/GRO cushion.
    pub pacing_rate: u64,
}

impl CcState {
    /// The values `tcp_init_sock()` gives a new socket.
    ///
    /// Linux: tcp_init_sock() in net/ipv4/tcp.c
    pub fn new(mss_cache: u32) -> CcState {
        CcState {
            snd_cwnd: TCP_INIT_CWND,
            snd_ssthresh: TCP_INFINITE_SSTHRESH,
            snd_cwnd_cnt: 0,
            snd_cwnd_clamp: u32::MAX,
            prior_cwnd: 0,
            mss_cache,
            srtt_us: 0,
            packets_out: 0,
            max_packets_out: 0,
            is_cwnd_limited: false,
            delivered: 0,
            snd_una: 0,
            snd_nxt: 0,
            lsndtime: Instant::ZERO,
            pacing_rate: 0,
        }
    }

    /// Linux: tcp_in_slow_start() in include/net/tcp.h
    pub fn in_slow_start(&self) -> bool {
        self.snd_cwnd < self.snd_ssthresh
    }

    /// Linux: tcp_in_initial_slowstart() in include/net/tcp.h
    pub fn in_initial_slowstart(&self) -> bool {
        self.snd_ssthresh >= TCP_INFINITE_SSTHRESH
    }

    /// Whether growing cwnd is justified: the sender used it, or in slow start it has not yet
    /// reached twice what was in flight.
    ///
    /// Linux: tcp_is_cwnd_limited() in include/net/tcp.h
    pub fn is_cwnd_limited(&self) -> bool {
        if self.is_cwnd_limited {
            return true;
        }
        if self.in_slow_start() {
            return u64::from(self.snd_cwnd) < 2 * u64::from(self.max_packets_out);
        }
        false
    }

    /// Grows cwnd by `acked` up to ssthresh and returns the ACKed packets left over for
    /// congestion avoidance (RFC 5681 §3.1 with RFC 3465 byte counting, L = ∞).
    ///
    /// Linux: tcp_slow_start() in net/ipv4/tcp_cong.c
    pub fn tcp_slow_start(&mut self, acked: u32) -> u32 {
        let cwnd = self.snd_cwnd.saturating_add(acked).min(self.snd_ssthresh);
        let left = acked.wrapping_sub(cwnd.wrapping_sub(self.snd_cwnd));
        self.snd_cwnd = cwnd.min(self.snd_cwnd_clamp);
        left
    }

    /// Additive increase: +1 packet per `w` packets ACKed. A zero `w` (the kernel never passes
    /// one) is taken as 1.
    ///
    /// Linux: tcp_cong_avoid_ai() in net/ipv4/tcp_cong.c
    pub fn tcp_cong_avoid_ai(&mut self, w: u32, acked: u32) {
        let w = w.max(1);
        // Credits accumulated at a larger w are applied gently now.
        if self.snd_cwnd_cnt >= w {
            self.snd_cwnd_cnt = 0;
            self.snd_cwnd = self.snd_cwnd.saturating_add(1);
        }
        self.snd_cwnd_cnt = self.snd_cwnd_cnt.saturating_add(acked);
        if self.snd_cwnd_cnt >= w {
            let delta = self.snd_cwnd_cnt / w;
            self.snd_cwnd_cnt -= delta * w;
            self.snd_cwnd = self.snd_cwnd.saturating_add(delta);
        }
        self.snd_cwnd = self.snd_cwnd.min(self.snd_cwnd_clamp);
    }
}

/// Linux: enum tcp_ca_state in include/net/tcp.h (`icsk_ca_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaState {
    Open,
    Disorder,
    Cwr,
    Recovery,
    Loss,
}

/// Linux: enum tcp_ca_event in include/net/tcp.h.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaEvent {
    /// First transmission when no packets were in flight.
    TxStart,
    /// Congestion window restart after idle.
    CwndRestart,
    /// End of a congestion window reduction.
    CompleteCwr,
    /// Loss timeout.
    Loss,
    /// ECT set, but not CE marked.
    EcnNoCe,
    /// Received a CE-marked IP packet.
    EcnIsCe,
}

/// One congestion control algorithm; Linux: struct tcp_congestion_ops in include/net/tcp.h.
///
/// Hooks that need the clock take `now`; Linux reads `tcp_jiffies32` and `tcp_mstamp` there.
pub trait CongestionControl: std::fmt::Debug {
    /// The name `TCP_CONGESTION` and `ss -i` show.
    fn name(&self) -> &'static str;
    /// Called once the connection is established (`tcp_init_congestion_control()`).
    fn init(&mut self, _tp: &mut CcState, _now: Instant) {}
    /// The slow start threshold to use after a loss or ECN signal.
    fn ssthresh(&mut self, tp: &CcState) -> u32;
    /// Grows cwnd on an ACK for `acked` packets, with `ack` the new `snd_una`.
    fn cong_avoid(&mut self, tp: &mut CcState, ack: u32, acked: u32, now: Instant);
    /// `icsk_ca_state` is about to become `new_state`.
    fn set_state(&mut self, _tp: &CcState, _new_state: CaState, _now: Instant) {}
    /// A CA_EVENT_* happened.
    fn cwnd_event(&mut self, _tp: &CcState, _ev: CaEvent, _now: Instant) {}
    /// `acked` packets left the retransmit queue; `rtt_us` is the ACK's RTT sample if any.
    /// May set `snd_ssthresh` (HyStart does).
    fn pkts_acked(&mut self, _tp: &mut CcState, _acked: u32, _rtt_us: Option<u32>, _now: Instant) {}
    /// The cwnd to restore when a reduction proves spurious.
    fn undo_cwnd(&mut self, tp: &CcState) -> u32;
}

/// The algorithm `tcp_congestion_control` names. `hz` is the tick rate CUBIC's clock runs at.
pub fn new_cc(alg: CongestionAlgorithm, hz: Hz) -> Box<dyn CongestionControl> {
    match alg {
        CongestionAlgorithm::Reno => Box::new(Reno),
        CongestionAlgorithm::Cubic => Box::new(Cubic::new(hz)),
    }
}

/// Linux: tcp_reno_undo_cwnd() in net/ipv4/tcp_cong.c
pub fn tcp_reno_undo_cwnd(tp: &CcState) -> u32 {
    tp.snd_cwnd.max(tp.prior_cwnd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(cwnd: u32, ssthresh: u32) -> CcState {
        let mut tp = CcState::new(1448);
        tp.snd_cwnd = cwnd;
        tp.snd_ssthresh = ssthresh;
        tp.is_cwnd_limited = true;
        tp
    }

    #[test]
    fn initial_values() {
        let tp = CcState::new(1448);
        assert_eq!(tp.snd_cwnd, 10);
        assert_eq!(tp.snd_ssthresh, 0x7fff_ffff);
        assert!(tp.in_slow_start());
        assert!(tp.in_initial_slowstart());
        assert_eq!(new_cc(CongestionAlgorithm::Reno, Hz(250)).name(), "reno");
        assert_eq!(new_cc(CongestionAlgorithm::Cubic, Hz(250)).name(), "cubic");
    }

    #[test]
    fn slow_start_stops_at_ssthresh_and_returns_the_rest() {
        let mut tp = limited(18, 20);
        assert_eq!(tp.tcp_slow_start(5), 3);
        assert_eq!(tp.snd_cwnd, 20);
        let mut tp = limited(10, TCP_INFINITE_SSTHRESH);
        assert_eq!(tp.tcp_slow_start(4), 0);
        assert_eq!(tp.snd_cwnd, 14);
        tp.snd_cwnd_clamp = 15;
        tp.tcp_slow_start(4);
        assert_eq!(tp.snd_cwnd, 15);
    }

    #[test]
    fn cong_avoid_ai_counts_credits() {
        let mut tp = limited(10, 5);
        tp.tcp_cong_avoid_ai(10, 9);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (10, 9));
        tp.tcp_cong_avoid_ai(10, 1);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (11, 0));
        // A stretch ACK of 25 at w = 11 gives +2 with 3 left over.
        tp.tcp_cong_avoid_ai(11, 25);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (13, 3));
        // Credits already ≥ w are applied first.
        tp.snd_cwnd_cnt = 20;
        tp.tcp_cong_avoid_ai(13, 0);
        assert_eq!((tp.snd_cwnd, tp.snd_cwnd_cnt), (14, 0));
        // w = 0 does not divide by zero.
        tp.tcp_cong_avoid_ai(0, 3);
        assert_eq!(tp.snd_cwnd, 17);
    }

    #[test]
    fn cwnd_limited_rule() {
        let mut tp = CcState::new(1448);
        assert!(!tp.is_cwnd_limited());
        tp.max_packets_out = 6;
        assert!(
            tp.is_cwnd_limited(),
            "slow start grows to twice what was in flight"
        );
        tp.max_packets_out = 5;
        assert!(!tp.is_cwnd_limited());
        tp.snd_ssthresh = 5;
        tp.max_packets_out = 100;
        assert!(
            !tp.is_cwnd_limited(),
            "outside slow start only the flag counts"
        );
    }

    #[test]
    fn reno_undo_takes_the_larger() {
        let mut tp = CcState::new(1448);
        tp.snd_cwnd = 5;
        tp.prior_cwnd = 12;
        assert_eq!(tcp_reno_undo_cwnd(&tp), 12);
        tp.prior_cwnd = 3;
        assert_eq!(tcp_reno_undo_cwnd(&tp), 5);
    }
}
