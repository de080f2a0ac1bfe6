//! A segment arriving at a full socket (Linux: net/ipv4/tcp_input.c, tcp_rcv_state_process()
//! and the functions it calls): validation, ACK processing with SACK and loss recovery,
//! in-order and out-of-order data, FIN, and the decision to ACK now or later.

use tcplab_wire::{TcpFlags, TcpRepr};

use crate::api::{Event, TcpState};
use crate::cc::CaState;
use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::output::ato_min;
use crate::seq::{after, after_eq, before, before_eq, between};
use crate::socket::{
    ICSK_ACK_NOW, ICSK_ACK_PUSHED, ICSK_ACK_PUSHED2, ICSK_ACK_SCHED, ICSK_ACK_TIMER, Slot, Sock,
};
use crate::stack::DropReason;
use crate::time::Instant;
use crate::timer::Disposition;

/// Linux: TCP_MAX_QUICKACKS.
const TCP_MAX_QUICKACKS: u32 = 16;
/// Linux: TCP_FASTRETRANS_THRESH (the dupthresh of RFC 6675).
const DUPTHRESH: u32 = 3;

/// The result of feeding one segment to a socket.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Verdict {
    pub disposition: Disposition,
    /// The caller must answer with a reset built from the segment (tcp_v4_send_reset()).
    pub send_reset: bool,
}

impl Verdict {
    fn keep() -> Verdict {
        Verdict {
            disposition: Disposition::Keep,
            send_reset: false,
        }
    }
    fn reset() -> Verdict {
        Verdict {
            disposition: Disposition::Keep,
            send_reset: true,
        }
    }
    fn with(disposition: Disposition) -> Verdict {
        Verdict {
            disposition,
            send_reset: false,
        }
    }
}

impl Sock {
    /// Linux: tcp_rcv_state_process() for every state but LISTEN.
    pub fn rcv(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>) -> Verdict {
        self.stats.segs_in = self.stats.segs_in.wrapping_add(1);
        if self.state == TcpState::SynSent {
            return self.rcv_synsent(ctx, seg);
        }
        if self.state == TcpState::Close {
            return Verdict::reset();
        }
        let flags = seg.flags;
        let ts = if self.rx_opt.tstamp_ok {
            seg.timestamps()
        } else {
            None
        };

        // Linux: tcp_validate_incoming() — PAWS (RFC 7323 §5).
        if let Some((tsval, _)) = ts
            && !flags.contains(TcpFlags::RST)
            && self.paws_reject(ctx.now, tsval)
        {
            ctx.out.drop(DropReason::PawsReject);
            self.send_oow_ack(
                ctx,
                !seg.payload.is_empty() && !flags.contains(TcpFlags::SYN),
            );
            return Verdict::keep();
        }
        let seq = seg.seq;
        let end_seq = seq.wrapping_add(seg.seg_len());
        // Linux: tcp_sequence().
        if !self.sequence_ok(seq, end_seq) {
            ctx.out.drop(DropReason::OutOfWindow);
            if !flags.contains(TcpFlags::RST) {
                if self.state == TcpState::SynRecv && flags.contains(TcpFlags::SYN) {
                    return Verdict::keep();
                }
                self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                self.send_oow_ack(
                    ctx,
                    !seg.payload.is_empty() && !flags.contains(TcpFlags::SYN),
                );
            }
            return Verdict::keep();
        }
        // RFC 5961 §3: only an RST at exactly rcv_nxt resets; others in the window draw a
        // challenge ACK.
        if flags.contains(TcpFlags::RST) {
            if seq == self.rcv_nxt {
                return Verdict::with(self.reset(ctx));
            }
            ctx.out.drop(DropReason::RstNotInWindow);
            self.send_challenge_ack(ctx);
            return Verdict::keep();
        }
        // RFC 5961 §4: a SYN on a synchronized connection draws a challenge ACK.
        // Linux lets one SYN through: the peer's SYN-ACK crossing ours in a simultaneous
        // open, which completes the handshake and is then acknowledged as a duplicate.
        let crossed_synack = self.state == TcpState::SynRecv
            && flags.contains(TcpFlags::ACK)
            && seg.payload.is_empty()
            && !flags.contains(TcpFlags::FIN)
            && seq.wrapping_add(1) == self.rcv_nxt
            && seg.ack == self.snd_nxt;
        if flags.contains(TcpFlags::SYN) && !crossed_synack {
            self.send_challenge_ack(ctx);
            return Verdict::keep();
        }
        if !flags.contains(TcpFlags::ACK) {
            ctx.out.drop(DropReason::Other);
            return Verdict::keep();
        }
        // Linux: tcp_replace_ts_recent() happens once the segment is known acceptable.
        if let Some((tsval, _)) = ts
            && !after(seq, self.rcv_wup)
        {
            self.rx_opt.ts_recent = tsval;
            self.rx_opt.ts_recent_stamp = ctx.now;
        }

        let was_synrecv = self.state == TcpState::SynRecv;
        if was_synrecv {
            // The handshake's final ACK (a passive open's child, or a simultaneous open).
            if !between(seg.ack, self.snd_una.wrapping_add(1), self.snd_nxt) {
                return Verdict::reset();
            }
            self.snd_wnd = u32::from(seg.window) << self.rx_opt.snd_wscale;
            self.snd_wl1 = seq;
            self.set_state(ctx, TcpState::Established);
            self.connected(ctx);
            if crossed_synack {
                // tcp_data_queue(): the SYN is old data — ACK at once.
                self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                self.ack.pending |= ICSK_ACK_NOW;
                self.schedule_ack();
            }
        }

        // Linux: tcp_ack().
        let prior_state = self.state;
        if before(seg.ack, self.snd_una.wrapping_sub(self.max_window)) {
            self.send_challenge_ack(ctx);
            return Verdict::keep();
        }
        if after(seg.ack, self.snd_nxt) {
            ctx.out.drop(DropReason::InvalidAck);
            self.send_challenge_ack(ctx);
            return Verdict::keep();
        }
        self.ack(ctx, seg, ts);
        if was_synrecv {
            // Linux: tcp_init_transfer() once the SYN-ACK's RTT sample is in.
            self.init_transfer(ctx);
        }

        // State transitions driven by the ACK of our FIN.
        match prior_state {
            TcpState::FinWait1 if self.fin_acked() => {
                self.set_state(ctx, TcpState::FinWait2);
                self.snd_shutdown = true;
                if self.is_orphan() {
                    // Linux: the FIN_WAIT1 case of tcp_rcv_state_process(). Returning "reset"
                    // makes the stack answer this very segment with tcp_v4_send_reset().
                    if self.opts.linger2 < 0 {
                        return Verdict {
                            disposition: self.done(ctx),
                            send_reset: true,
                        };
                    }
                    let end = end_seq.wrapping_sub(u32::from(flags.contains(TcpFlags::FIN)));
                    if end_seq != seq && after(end, self.rcv_nxt) {
                        // Data after close(): TCPAbortOnData.
                        return Verdict {
                            disposition: self.done(ctx),
                            send_reset: true,
                        };
                    }
                    let tmo = self.fin_time(ctx);
                    let twlen = crate::timewait::timewait_len(ctx.hz);
                    if tmo > twlen {
                        self.reset_keepalive(ctx, tmo - twlen);
                    } else if flags.contains(TcpFlags::FIN) {
                        // The FIN in this segment is processed below; keep the full socket.
                        self.reset_keepalive(ctx, tmo);
                    } else {
                        return Verdict::with(Disposition::TimeWait {
                            substate: TcpState::FinWait2,
                            timeout: tmo,
                        });
                    }
                }
            }
            TcpState::Closing if self.fin_acked() => {
                return Verdict::with(self.enter_time_wait(ctx, TcpState::TimeWait));
            }
            TcpState::LastAck if self.fin_acked() => {
                self.update_metrics(ctx);
                return Verdict::with(self.done(ctx));
            }
            _ => {}
        }

        // Data and FIN (Linux: tcp_data_queue()).
        let has_data = !seg.payload.is_empty() || flags.contains(TcpFlags::FIN);
        if has_data {
            match self.state {
                TcpState::CloseWait | TcpState::Closing | TcpState::LastAck
                    // The peer already sent its FIN: anything new is bogus.
                    if !before(seq, self.rcv_nxt) => {
                        return Verdict::keep();
                    }
                TcpState::FinWait1 | TcpState::FinWait2
                    if self.rcv_shutdown
                        && !seg.payload.is_empty()
                        && after(end_seq.wrapping_sub(u32::from(flags.contains(TcpFlags::FIN))), self.rcv_nxt) =>
                {
                    // Linux: data after close() — tcp_reset(), and the segment is answered
                    // with a reset built from it (TCPAbortOnData).
                    let d = self.done_with_error(ctx, Errno::ECONNRESET);
                    return Verdict { disposition: d, send_reset: true };
                }
                _ => {}
            }
            if let Some(d) = self.data_queue(ctx, seg) {
                return Verdict::with(d);
            }
        }

        if self.state != TcpState::Close {
            self.write_xmit(ctx, false);
            self.ack_snd_check(ctx, true);
        }
        Verdict::keep()
    }

    /// Linux: tcp_paws_discard() with paws_win 0: the timestamp is older than ts_recent and
    /// ts_recent is fresh (24 days, TCP_PAWS_24DAYS).
    fn paws_reject(&self, now: crate::time::Instant, tsval: u32) -> bool {
        let older = (self.rx_opt.ts_recent.wrapping_sub(tsval) as i32) > 0;
        let fresh = (now - self.rx_opt.ts_recent_stamp).as_secs() < 24 * 86_400;
        older && fresh
    }

    /// Linux: tcp_sequence() — the segment overlaps the receive window.
    fn sequence_ok(&self, seq: u32, end_seq: u32) -> bool {
        !before(end_seq, self.rcv_wup)
            && !after(seq, self.rcv_nxt.wrapping_add(self.receive_window()))
    }

    /// Linux: tcp_reset() — the errno follows the state.
    fn reset(&mut self, ctx: &mut Ctx<'_>) -> Disposition {
        let err = match self.state {
            TcpState::SynSent => Errno::ECONNREFUSED,
            TcpState::CloseWait => Errno::EPIPE,
            _ => Errno::ECONNRESET,
        };
        if self.state == TcpState::TimeWait || self.is_orphan() {
            return self.done(ctx);
        }
        self.done_with_error(ctx, err)
    }

    /// The application side of a completed connect().
    fn connected(&mut self, ctx: &mut Ctx<'_>) {
        if self.connecting {
            self.connecting = false;
            ctx.out.event(self.fd, Event::Connected);
        }
        ctx.out.event(self.fd, Event::Writable);
    }

    /// Linux: tcp_rcv_synsent_state_process().
    fn rcv_synsent(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>) -> Verdict {
        let flags = seg.flags;
        if flags.contains(TcpFlags::ACK) {
            if !after(seg.ack, self.iss) || after(seg.ack, self.snd_nxt) {
                if flags.contains(TcpFlags::RST) {
                    return Verdict::keep();
                }
                // Linux: with no retransmission yet, retry the SYN almost at once.
                if self.icsk_retransmits == 0 {
                    self.reset_xmit_timer(ctx, crate::socket::XmitTimer::Retrans, 2);
                }
                return Verdict::reset();
            }
            if flags.contains(TcpFlags::RST) {
                return Verdict::with(self.reset(ctx));
            }
            if !flags.contains(TcpFlags::SYN) {
                return Verdict::keep();
            }
            // A SYN-ACK.
            self.learn_peer_syn(ctx, seg);
            // Linux: tcp_ecn_rcv_synack() — ECN holds if we asked and the answer is ECE alone.
            self.rx_opt.ecn_ok = ctx.sys.tcp_ecn == 1
                && self.stats.total_retrans == 0
                && flags.contains(TcpFlags::ECE)
                && !flags.contains(TcpFlags::CWR);
            // The SYN is acknowledged: RTT sample, queue cleaned (tcp_ack()).
            self.ack(ctx, seg, seg.timestamps().filter(|_| self.rx_opt.tstamp_ok));
            self.init_transfer(ctx);
            self.set_state(ctx, TcpState::Established);
            self.connected(ctx);
            // Linux: the third ACK goes at once unless data is about to be written or the
            // socket is in pingpong mode, when the delayed-ACK timer carries it.
            if self.in_pingpong(ctx.sys.tcp_pingpong_thresh) {
                self.schedule_ack();
                self.ack.ato = ato_min(ctx.hz);
                self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                let when = ctx.hz.hz_div(5);
                self.ack.pending |= ICSK_ACK_TIMER;
                self.ack.timeout = ctx.expires(when);
                self.arm_slot(ctx, Slot::DelAck, when);
            } else {
                self.send_ack(ctx);
            }
            self.write_xmit(ctx, false);
            return Verdict::keep();
        }
        if flags.contains(TcpFlags::RST) {
            return Verdict::keep();
        }
        if flags.contains(TcpFlags::SYN) {
            // Simultaneous open (RFC 9293 §3.5, Linux: "crossed SYN").
            self.learn_peer_syn(ctx, seg);
            self.set_state(ctx, TcpState::SynRecv);
            // Linux: tcp_send_synack() retransmits the SYN skb as a SYN-ACK.
            self.retransmit_synack(ctx);
            return Verdict::keep();
        }
        Verdict::keep()
    }

    /// Takes the peer's SYN (or SYN-ACK): its options, its sequence space, its (unscaled)
    /// window and timestamp.
    fn learn_peer_syn(&mut self, ctx: &Ctx<'_>, seg: &TcpRepr<'_>) {
        self.learn_syn_options(ctx, seg);
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq.wrapping_add(1);
        self.rcv_wup = self.rcv_nxt;
        self.copied_seq = self.rcv_nxt;
        self.snd_wnd = u32::from(seg.window);
        self.snd_wl1 = seg.seq;
        self.max_window = self.max_window.max(self.snd_wnd);
        if let Some((tsval, _)) = seg.timestamps().filter(|_| self.rx_opt.tstamp_ok) {
            self.rx_opt.ts_recent = tsval;
            self.rx_opt.ts_recent_stamp = ctx.now;
        }
    }

    /// Sends the queued SYN again as a SYN-ACK (simultaneous open), without counting it as a
    /// retransmission.
    fn retransmit_synack(&mut self, ctx: &mut Ctx<'_>) {
        let iss = self.iss;
        self.transmit(ctx, iss, TcpFlags::SYN | TcpFlags::ACK, 0);
    }

    /// Reads MSS, window scale, SACK-permitted and timestamps from a SYN or SYN-ACK
    /// (Linux: tcp_parse_options() and the SYN_SENT part of tcp_rcv_synsent_state_process()).
    fn learn_syn_options(&mut self, ctx: &Ctx<'_>, seg: &TcpRepr<'_>) {
        self.rx_opt.sack_ok = ctx.sys.tcp_sack != 0 && seg.sack_permitted();
        self.rx_opt.tstamp_ok = ctx.sys.tcp_timestamps != 0 && seg.timestamps().is_some();
        match seg
            .window_scale()
            .filter(|_| ctx.sys.tcp_window_scaling != 0)
        {
            Some(ws) => {
                self.rx_opt.wscale_ok = true;
                self.rx_opt.snd_wscale = ws.min(crate::output::TCP_MAX_WSCALE);
            }
            None => {
                self.rx_opt.wscale_ok = false;
                self.rx_opt.snd_wscale = 0;
                self.rx_opt.rcv_wscale = 0;
                self.window_clamp = self.window_clamp.min(65535);
            }
        }
        let peer_mss = u32::from(seg.mss().unwrap_or(536))
            .max(u32::from(ctx.sys.tcp_min_snd_mss as u16).min(536));
        self.rx_opt.mss_clamp = peer_mss.min(self.advmss) as u16;
        self.sync_mss(ctx);
    }

    /// Linux: tcp_sync_mss() — the sending MSS from the path MTU and the options in use.
    pub fn sync_mss(&mut self, ctx: &Ctx<'_>) {
        let ip_hdr = if self.remote.is_ipv4() { 20 } else { 40 };
        let mut mss = self.pmtu.saturating_sub(ip_hdr + 20);
        mss = mss.min(u32::from(self.rx_opt.mss_clamp));
        if self.rx_opt.tstamp_ok {
            mss = mss.saturating_sub(crate::output::TCPOLEN_TSTAMP_ALIGNED);
        }
        self.mss_cache = mss.max(u32::from(ctx.sys.tcp_min_snd_mss as u16).min(mss.max(1)));
        self.cc.mss_cache = self.mss_cache;
    }

    /// Linux: tcp_init_transfer() and tcp_init_metrics() after the handshake.
    pub fn init_transfer(&mut self, ctx: &mut Ctx<'_>) {
        // Linux: tcp_init_metrics() — a larger cached RTT sets the RTO; without any sample
        // the RTO falls back to 3 s.
        if let Some(rto) = self.rto_from_metrics(ctx) {
            self.icsk_rto = rto.min(self.rto_max(ctx));
        } else if !self.rtt.has_sample()
            && let Some(rto) = self.rtt.set_fallback(ctx.hz)
        {
            self.icsk_rto = rto;
        }
        // More than one SYN (or SYN-ACK) retransmission: start with a window of one.
        self.cc.snd_cwnd = if self.stats.total_retrans > 1 {
            1
        } else {
            crate::cc::TCP_INIT_CWND
        };
        self.ca.init(&mut self.cc, ctx.now);
        self.icsk_retransmits = 0;
        self.rare.if_present(|r| r.retrans_stamp = None);
        self.ack.rcv_mss = self.initial_rcv_mss();
        self.init_buffer_space(ctx);
        if self.opts.keepalive {
            let when = self.keepalive_time(ctx);
            self.reset_keepalive(ctx, when);
        }
    }

    /// Linux: tcp_init_buffer_space() — the window clamp follows the receive buffer, and the
    /// autotuning measurement starts from the initial window.
    fn init_buffer_space(&mut self, ctx: &Ctx<'_>) {
        self.rcvq_space = self
            .rcv_ssthresh
            .min(self.rcv_wnd)
            .min(crate::cc::TCP_INIT_CWND * self.advmss);
        self.rcvq_seq = self.copied_seq;
        self.rcvq_time = ctx.now;
        let maxwin = self.full_space();
        if self.window_clamp >= maxwin {
            self.window_clamp = maxwin;
            let app_win = u32::from(ctx.sys.tcp_app_win);
            if app_win != 0 && maxwin > 4 * self.advmss {
                let reserve = if app_win >= 32 { 0 } else { maxwin >> app_win };
                self.window_clamp = (maxwin - reserve).max(4 * self.advmss);
            }
        }
        self.rcv_ssthresh = self.rcv_ssthresh.min(self.window_clamp);
    }

    /// Linux: tcp_rcv_rtt_measure_ts() and tcp_rcv_rtt_update() — the receiver's RTT from
    /// the timestamps echoed on data, which autotuning needs.
    fn rcv_rtt_measure_ts(&mut self, ctx: &Ctx<'_>, seg: &TcpRepr<'_>) {
        let Some((_, tsecr)) = seg.timestamps().filter(|_| self.rx_opt.tstamp_ok) else {
            return;
        };
        if tsecr == 0 {
            return;
        }
        let delta_ms = ctx.ts_ms().wrapping_add(self.ts_offset).wrapping_sub(tsecr);
        if (delta_ms as i32) < 0 || delta_ms > 10_000 {
            return;
        }
        let sample = delta_ms.max(1) * 1000;
        let m = sample << 3;
        let old = self.rcv_rtt_us;
        if old == 0 || m < old {
            self.rcv_rtt_us = m;
        } else if self.rcv_nxt == self.copied_seq {
            self.rcv_rtt_us = old - (old >> 3) + sample;
        }
    }

    /// Linux: tcp_rcv_space_adjust() — grow the receive buffer (and the window clamp) to twice
    /// what the application read in the last RTT, plus room for the sender's growth.
    pub fn rcv_space_adjust(&mut self, ctx: &Ctx<'_>) {
        let time_us = (ctx.now - self.rcvq_time).as_micros() as u64;
        if self.rcv_rtt_us == 0 || time_us < u64::from(self.rcv_rtt_us >> 3) {
            return;
        }
        let copied = self.copied_seq.wrapping_sub(self.rcvq_seq);
        if copied > self.rcvq_space {
            if ctx.sys.tcp_moderate_rcvbuf != 0 && !self.opts.rcvbuf_locked && self.rcvq_space > 0 {
                let mut rcvwin = (u64::from(copied) << 1) + 16 * u64::from(self.advmss);
                let grow =
                    rcvwin * u64::from(copied - self.rcvq_space) / u64::from(self.rcvq_space);
                rcvwin += grow << 1;
                let rcvbuf = crate::output::space_from_win(rcvwin, self.scaling_ratio)
                    .min(u64::from(ctx.sys.tcp_rmem[2])) as u32;
                if rcvbuf > self.rcvbuf_cap {
                    self.rcvbuf_cap = rcvbuf;
                    self.window_clamp =
                        crate::output::win_from_space_ratio(i64::from(rcvbuf), self.scaling_ratio)
                            as u32;
                }
            }
            self.rcvq_space = copied;
        }
        self.rcvq_seq = self.copied_seq;
        self.rcvq_time = ctx.now;
    }

    /// Linux: tcp_initialize_rcv_mss().
    fn initial_rcv_mss(&self) -> u32 {
        let hint = self.advmss.min(self.mss_cache);
        let hint = hint.min(self.rcv_wnd / 2).min(536);
        hint.max(88)
    }

    /// Linux: tcp_ack() — window update, cumulative ACK, SACK, RTT, congestion control and
    /// loss recovery.
    fn ack(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>, ts: Option<(u32, u32)>) {
        let prior_snd_una = self.snd_una;
        let ack = seg.ack;
        let is_dupack_candidate = ack == prior_snd_una
            && seg.payload.is_empty()
            && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN);
        self.stats.last_ack_recv = ctx.now;
        // A valid ACK zeroes the probe counter (Linux: icsk_probes_out = 0 in tcp_ack()).
        self.icsk_probes_out = 0;
        let prior_packets = self.packets_out;
        self.ack_update_window(seg);

        let mut newly_sacked = 0;
        if self.rx_opt.sack_ok && !seg.sack_blocks().is_empty() {
            newly_sacked = self.sacktag(ctx, seg, ack);
        }

        let mut newly_acked = 0u32;
        let mut rtt_sample: Option<i64> = None;
        let mut acked_retransmitted = false;
        if after(ack, prior_snd_una) {
            // Linux: tcp_clean_rtx_queue().
            while let Some(head) = self.queues.rtx.front() {
                if after(head.end_seq, ack) {
                    break;
                }
                let Some(head) = self.queues.rtx.pop_front() else {
                    break;
                };
                newly_acked += 1;
                self.packets_out = self.packets_out.saturating_sub(1);
                if head.sacked {
                    self.recovery.sacked_out = self.recovery.sacked_out.saturating_sub(1);
                }
                if head.lost {
                    self.recovery.lost_out = self.recovery.lost_out.saturating_sub(1);
                }
                if head.retrans {
                    self.recovery.retrans_out = self.recovery.retrans_out.saturating_sub(1);
                }
                if !head.sacked {
                    // Linux: tcp_clean_rtx_queue() — a cumulatively acknowledged segment below
                    // the highest SACK was delivered out of order; RACK learns its delivery.
                    if !head.ever_retrans && before(head.end_seq, self.rack.fack) {
                        self.rack.reord_seen = true;
                    }
                    self.rack_advance(ctx, head.sent_at, head.ever_retrans, head.end_seq);
                }
                if head.ever_retrans {
                    acked_retransmitted = true;
                } else if rtt_sample.is_none() && !head.sacked {
                    rtt_sample = Some((ctx.now - head.sent_at).as_micros() as i64);
                }
            }
            // Linux: tcp_trim_head() — a partly acknowledged head keeps only its unacked part.
            if let Some(head) = self.queues.rtx.front_mut()
                && after(ack, head.seq)
            {
                if head.syn {
                    head.syn = false;
                }
                head.seq = ack;
            }
            let acked_bytes = ack.wrapping_sub(prior_snd_una);
            self.stats.bytes_acked += u64::from(acked_bytes);
            self.snd_una = ack;
            // Drop acknowledged bytes from the send buffer.
            let data_end = if after(ack, self.write_seq) {
                self.write_seq
            } else {
                ack
            };
            if after(data_end, self.sndbuf_seq) {
                let n = data_end.wrapping_sub(self.sndbuf_seq) as usize;
                let n = n.min(self.queues.sndbuf.len());
                self.queues.sndbuf.drain(..n);
                self.sndbuf_seq = self.sndbuf_seq.wrapping_add(n as u32);
                ctx.out.event(self.fd, Event::Writable);
            }
            self.icsk_retransmits = 0;
            self.recovery.if_present(|r| r.dupacks = 0);
            if acked_retransmitted {
                rtt_sample = None;
            }
        }
        // Karn's rule leaves the timestamp echo as the sample (tcp_ack_update_rtt()).
        if rtt_sample.is_none()
            && newly_acked > 0
            && let Some((_, tsecr)) = ts
            && tsecr != 0
        {
            let delta_ms = ctx.ts_ms().wrapping_add(self.ts_offset).wrapping_sub(tsecr);
            if (delta_ms as i32) >= 0 {
                rtt_sample = Some(i64::from(delta_ms.max(1)) * 1000);
            }
        }
        if let Some(m) = rtt_sample {
            let rto_min_us = ctx.sys.tcp_rto_min_us;
            self.rtt.sample(m, self.snd_una, self.snd_nxt, rto_min_us);
            self.rtt
                .update_rtt_min(ctx.hz, ctx.now, m.max(1) as u32, false);
            self.icsk_rto = self.rtt.rto(ctx.hz, ctx.sys.tcp_rto_max_ms);
            self.icsk_backoff = 0;
            self.cc.srtt_us = self.rtt.srtt_us;
        }

        if is_dupack_candidate && self.packets_out > 0 && newly_acked == 0 {
            self.recovery.dupacks += 1;
        }

        // Linux: tcp_process_tlp_ack().
        if let Some(high) = self.recovery.tlp_high_seq
            && !before(ack, high)
        {
            let dsack = seg
                .sack_blocks()
                .first()
                .is_some_and(|b| before_eq(b.right, ack));
            if !self.recovery.tlp_retrans || dsack {
                self.recovery.tlp_high_seq = None;
            } else if after(ack, high) {
                // The probe repaired a loss: reduce the window once (CWR), then carry on.
                self.recovery.tlp_high_seq = None;
                self.cc.snd_ssthresh = self.ca.ssthresh(&self.cc);
                self.cc.snd_cwnd = self.cc.snd_ssthresh.max(1);
            } else if newly_acked == 0 && newly_sacked == 0 && seg.payload.is_empty() {
                // A pure duplicate ACK: original and probe both arrived.
                self.recovery.tlp_high_seq = None;
            }
        }

        // Congestion control and recovery (Linux: tcp_fastretrans_alert(), tcp_cong_control()).
        self.sync_cc();
        let delivered = newly_acked + newly_sacked;
        let in_recovery = matches!(self.ca_state, CaState::Recovery | CaState::Loss);
        let mut reo_armed = false;
        if in_recovery {
            if !before(self.snd_una, self.recovery.high_seq) {
                // Recovery ends: the reduced window holds (tcp_end_cwnd_reduction()).
                if self.ca_state == CaState::Recovery {
                    self.cc.snd_cwnd = self.cc.snd_ssthresh.max(1);
                }
                self.set_ca_state(CaState::Open, ctx.now);
                self.rare.retrans_stamp = None;
            } else if self.ca_state == CaState::Recovery {
                if !self.rx_opt.sack_ok && newly_acked > 0 {
                    // NewReno partial ACK: the new head is lost too (RFC 6582).
                    self.mark_head_lost();
                }
                if self.rx_opt.sack_ok && self.rack_mark_lost(ctx) {
                    reo_armed = true;
                }
                self.cwnd_reduction(delivered, newly_acked > 0);
            } else {
                // In Loss, RACK finds retransmissions lost again; new ACKs grow the window
                // from one (slow start).
                if self.rx_opt.sack_ok && self.rack_mark_lost(ctx) {
                    reo_armed = true;
                }
                if newly_acked > 0 {
                    self.ca.cong_avoid(&mut self.cc, ack, newly_acked, ctx.now);
                }
            }
        } else {
            // Linux: tcp_identify_packet_loss() with RACK, then tcp_time_to_recover().
            let lost = if self.rx_opt.sack_ok {
                if self.rack_mark_lost(ctx) {
                    reo_armed = true;
                }
                self.recovery.lost_out > 0
            } else if self.recovery.dupacks >= DUPTHRESH {
                self.mark_head_lost();
                true
            } else {
                false
            };
            if lost {
                self.enter_recovery(ctx);
                self.cwnd_reduction(delivered.max(1), false);
            } else if newly_acked > 0 {
                self.ca.pkts_acked(
                    &mut self.cc,
                    newly_acked,
                    rtt_sample.map(|m| m as u32),
                    ctx.now,
                );
                self.ca.cong_avoid(&mut self.cc, ack, newly_acked, ctx.now);
            }
        }
        // Linux: tcp_ack_probe() — nothing was in flight: the window opened, or probe again.
        if prior_packets == 0 && self.has_unsent() && self.state != TcpState::SynSent {
            let start = crate::seq::seq_max(self.snd_nxt, self.sndbuf_seq);
            let first = self.unsent_bytes().min(self.mss_cache).max(1);
            let wnd_end = self.snd_una.wrapping_add(self.snd_wnd);
            if !after(start.wrapping_add(first), wnd_end) {
                self.icsk_backoff = 0;
                self.rare.if_present(|r| r.probes_tstamp = None);
                if self.xmit_kind == Some(crate::socket::XmitTimer::Probe0) {
                    self.clear_xmit_timer();
                }
            } else {
                let when = self.probe0_when(ctx);
                let when = self.clamp_probe0_to_user_timeout(ctx, when);
                self.reset_xmit_timer(ctx, crate::socket::XmitTimer::Probe0, when);
            }
        }

        // Linux: tcp_check_sack_reneging() — the ACK stops at data the peer had SACKed: it
        // threw that data away. Let the RTO fire soon; it will resend everything.
        let reneging = newly_acked > 0 && self.queues.rtx.front().is_some_and(|s| s.sacked);
        if reneging {
            let half_srtt = ctx.hz.usecs_to_jiffies(u64::from(self.rtt.srtt_us >> 4));
            let delay = half_srtt.max(ctx.hz.msecs_to_jiffies(10));
            self.reset_xmit_timer(ctx, crate::socket::XmitTimer::Retrans, delay);
        }
        // Linux: tcp_set_xmit_timer() — a loss probe if one applies, else the RTO.
        if newly_acked > 0 && !reneging && !reo_armed && !self.schedule_loss_probe(ctx, true) {
            self.rearm_rto(ctx);
        }
        if matches!(self.ca_state, CaState::Recovery | CaState::Loss) {
            self.xmit_retransmit_queue(ctx);
        }
        if self.packets_out == 0 {
            self.clear_xmit_timer_if_rto();
        }
    }

    fn clear_xmit_timer_if_rto(&mut self) {
        if matches!(
            self.xmit_kind,
            Some(crate::socket::XmitTimer::Retrans | crate::socket::XmitTimer::LossProbe)
        ) {
            self.clear_xmit_timer();
        }
    }

    /// Copies the fields congestion control reads from the socket.
    fn sync_cc(&mut self) {
        self.cc.packets_out = self.packets_out;
        self.cc.snd_una = self.snd_una;
        self.cc.snd_nxt = self.snd_nxt;
        self.cc.srtt_us = self.rtt.srtt_us;
        self.cc.lsndtime = self.stats.lsndtime;
    }

    /// Linux: tcp_enter_recovery().
    fn enter_recovery(&mut self, ctx: &Ctx<'_>) {
        self.recovery.prior_cwnd = self.cc.snd_cwnd;
        self.cc.prior_cwnd = self.cc.snd_cwnd;
        self.cc.snd_ssthresh = self.ca.ssthresh(&self.cc);
        self.recovery.prr_delivered = 0;
        self.recovery.prr_out = 0;
        self.recovery.high_seq = self.snd_nxt;
        self.set_ca_state(CaState::Recovery, ctx.now);
    }

    /// Linux: tcp_cwnd_reduction() — Proportional Rate Reduction (RFC 6937).
    fn cwnd_reduction(&mut self, newly_acked_sacked: u32, una_advanced: bool) {
        if newly_acked_sacked == 0 || self.recovery.prior_cwnd == 0 {
            return;
        }
        let in_flight = self.packets_in_flight() as i64;
        let ssthresh = i64::from(self.cc.snd_ssthresh);
        let delta = ssthresh - in_flight;
        self.recovery.prr_delivered += newly_acked_sacked;
        let mut sndcnt: i64;
        if delta < 0 {
            let dividend = ssthresh * i64::from(self.recovery.prr_delivered)
                + i64::from(self.recovery.prior_cwnd)
                - 1;
            sndcnt =
                dividend / i64::from(self.recovery.prior_cwnd) - i64::from(self.recovery.prr_out);
        } else {
            sndcnt = (i64::from(self.recovery.prr_delivered) - i64::from(self.recovery.prr_out))
                .max(i64::from(newly_acked_sacked));
            if una_advanced {
                sndcnt += 1;
            }
            sndcnt = sndcnt.min(delta);
        }
        sndcnt = sndcnt.max(if self.recovery.prr_out > 0 { 0 } else { 1 });
        self.cc.snd_cwnd = (in_flight + sndcnt).max(1) as u32;
    }

    /// Linux: tcp_mark_head_lost() for one segment (non-SACK recovery).
    fn mark_head_lost(&mut self) {
        if let Some(head) = self.queues.rtx.front_mut()
            && !head.lost
            && !head.sacked
        {
            head.lost = true;
            self.recovery.lost_out += 1;
        }
    }

    /// Linux: tcp_sacktag_write_queue() — marks segments the peer holds. DSACK blocks
    /// (below SND.UNA) are recognised and ignored.
    fn sacktag(&mut self, ctx: &Ctx<'_>, seg: &TcpRepr<'_>, ack: u32) -> u32 {
        let mut newly = 0;
        let mut delivered = Vec::new();
        for (i, b) in seg.sack_blocks().iter().enumerate() {
            if !after(b.right, b.left) {
                continue;
            }
            // RFC 2883: a first block below the cumulative ACK reports a duplicate.
            if i == 0 && before_eq(b.right, ack) {
                continue;
            }
            if after(b.right, self.snd_nxt)
                || before(b.left, self.snd_una.wrapping_sub(self.max_window))
            {
                continue;
            }
            for s in self.queues.rtx.iter_mut() {
                if s.sacked {
                    continue;
                }
                if after_eq(s.seq, b.left) && before_eq(s.end_seq, b.right) {
                    s.sacked = true;
                    self.recovery.sacked_out += 1;
                    newly += 1;
                    delivered.push((s.sent_at, s.ever_retrans, s.end_seq));
                    if s.lost {
                        s.lost = false;
                        self.recovery.lost_out = self.recovery.lost_out.saturating_sub(1);
                    }
                    if s.retrans {
                        s.retrans = false;
                        self.recovery.retrans_out = self.recovery.retrans_out.saturating_sub(1);
                    }
                }
            }
        }
        // Linux: tcp_sacktag_one() → tcp_rack_advance(), and tcp_check_sack_reordering() for a
        // never-retransmitted segment SACKed below the highest SACK.
        for &(sent_at, ever_retrans, end_seq) in &delivered {
            if !ever_retrans && before(end_seq, self.rack.fack) {
                self.rack.reord_seen = true;
            }
            self.rack_advance(ctx, sent_at, ever_retrans, end_seq);
        }
        for &(_, _, end_seq) in &delivered {
            if after(end_seq, self.rack.fack) || self.rack.fack == 0 {
                self.rack.fack = end_seq;
            }
        }
        newly
    }

    /// Linux: tcp_rack_advance() — the latest-sent delivered segment and its RTT.
    fn rack_advance(&mut self, ctx: &Ctx<'_>, sent_at: Instant, ever_retrans: bool, end_seq: u32) {
        let rtt_us = (ctx.now - sent_at).as_micros() as u32;
        if ever_retrans && rtt_us < self.rtt.min_rtt_us() {
            // Ambiguous: the original may have been delivered, not the retransmission.
            return;
        }
        self.rack.advanced = true;
        self.rack.rtt_us = rtt_us;
        let later = sent_at > self.rack.mstamp
            || (sent_at == self.rack.mstamp && after(end_seq, self.rack.end_seq));
        if later {
            self.rack.mstamp = sent_at;
            self.rack.end_seq = end_seq;
        }
    }

    /// Linux: tcp_rack_reo_wnd() — no settling time while recovering or once DupThresh
    /// segments are SACKed, unless reordering was seen; else min_rtt/4 per step, at most SRTT.
    fn rack_reo_wnd(&self) -> u32 {
        if !self.rack.reord_seen
            && (matches!(self.ca_state, CaState::Recovery | CaState::Loss)
                || self.recovery.sacked_out >= DUPTHRESH)
        {
            return 0;
        }
        ((self.rtt.min_rtt_us() >> 2).saturating_mul(u32::from(self.rack.reo_wnd_steps)))
            .min(self.rtt.srtt_us >> 3)
    }

    /// Linux: tcp_rack_detect_loss() — every segment sent before the latest delivered one and
    /// not delivered within RACK.RTT + reo_wnd of its sending is lost. Returns the longest
    /// time (µs) a not-yet-expired candidate still has.
    pub fn rack_detect_loss(&mut self, ctx: &Ctx<'_>) -> u32 {
        let reo_wnd = i64::from(self.rack_reo_wnd());
        // Linux walks its transmit-time-ordered list (tsorted_sent_queue) and stops at the
        // first segment sent after the RACK segment. Whether a segment is sent after it depends
        // on (sent_at, end_seq) alone, and marking one segment lost does not depend on another,
        // so visiting the segments in queue order and skipping the later-sent ones marks the
        // same segments and finds the same timeout, without building and sorting the order.
        // The walk stops where no later segment can be older (see the `break`), so on an ACK
        // without loss it visits the few segments the ACK left, not the whole window.
        let mut timeout = 0u32;
        for i in 0..self.queues.rtx.len() {
            let Some(s) = self.queues.rtx.get(i) else {
                continue;
            };
            if s.sacked || (s.lost && !s.retrans) {
                continue;
            }
            let sent_after = self.rack.mstamp > s.sent_at
                || (self.rack.mstamp == s.sent_at && after(self.rack.end_seq, s.end_seq));
            if !sent_after {
                // New data goes out in sequence order, and a retransmission only makes a
                // segment's time later; so every segment after one that was never
                // retransmitted was sent after it, and none of them is older than the RACK
                // segment either. Linux's walk in send order stops here too.
                if !s.ever_retrans {
                    debug_assert!(
                        self.queues
                            .rtx
                            .range(i..)
                            .all(|s| self.rack.mstamp < s.sent_at
                                || (self.rack.mstamp == s.sent_at
                                    && !after(self.rack.end_seq, s.end_seq))),
                        "a segment after {i} is older than the RACK segment"
                    );
                    break;
                }
                continue;
            }
            let elapsed = (ctx.now - s.sent_at).as_micros() as i64;
            let remaining = i64::from(self.rack.rtt_us) + reo_wnd - elapsed;
            if remaining <= 0 {
                self.mark_seg_lost(i);
            } else {
                timeout = timeout.max(remaining as u32);
            }
        }
        timeout
    }

    /// Linux: tcp_mark_skb_lost().
    fn mark_seg_lost(&mut self, i: usize) {
        let Some(s) = self.queues.rtx.get_mut(i) else {
            return;
        };
        if s.sacked {
            return;
        }
        if s.lost {
            if s.retrans {
                // A retransmission lost again.
                s.retrans = false;
                self.recovery.retrans_out = self.recovery.retrans_out.saturating_sub(1);
            }
        } else {
            s.lost = true;
            self.recovery.lost_out += 1;
        }
    }

    /// Linux: tcp_rack_mark_lost() — returns whether the reordering timer was armed.
    fn rack_mark_lost(&mut self, ctx: &Ctx<'_>) -> bool {
        if !self.rack.advanced {
            return false;
        }
        self.rack.advanced = false;
        let timeout = self.rack_detect_loss(ctx);
        if timeout > 0 {
            let j = ctx.hz.usecs_to_jiffies(u64::from(timeout)) + 2; // + TCP_TIMEOUT_MIN
            self.reset_xmit_timer(ctx, crate::socket::XmitTimer::ReoTimeout, j);
            return true;
        }
        false
    }

    /// Linux: tcp_rack_reo_timeout() — the reordering window passed: mark, recover, resend.
    pub fn rack_reo_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let prior_inflight = self.packets_in_flight();
        self.rack_detect_loss(ctx);
        if prior_inflight != self.packets_in_flight() {
            if self.ca_state != CaState::Recovery && self.ca_state != CaState::Loss {
                self.sync_cc();
                self.enter_recovery(ctx);
                self.cwnd_reduction(1, false);
            }
            self.xmit_retransmit_queue(ctx);
        }
        if self.xmit_kind != Some(crate::socket::XmitTimer::Retrans) {
            self.rearm_rto(ctx);
        }
    }

    /// Linux: tcp_ack_update_window() with tcp_may_update_window().
    fn ack_update_window(&mut self, seg: &TcpRepr<'_>) -> bool {
        let nwin = u32::from(seg.window) << self.rx_opt.snd_wscale;
        let ack = seg.ack;
        let may = after(ack, self.snd_una)
            || after(seg.seq, self.snd_wl1)
            || (seg.seq == self.snd_wl1 && nwin > self.snd_wnd);
        if may {
            self.snd_wl1 = seg.seq;
            let changed = self.snd_wnd != nwin;
            self.snd_wnd = nwin;
            self.max_window = self.max_window.max(nwin);
            return changed;
        }
        false
    }

    /// Linux: tcp_data_queue() — in-order data to the receive queue, out-of-order data to the
    /// reassembly queue, and the FIN. Returns a disposition when the socket changes kind.
    fn data_queue(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>) -> Option<Disposition> {
        let fin = seg.flags.contains(TcpFlags::FIN);
        let mut seq = seg.seq;
        let mut data = seg.payload;
        if data.is_empty() && !fin {
            return None;
        }
        if self.fin_received {
            // Nothing follows a FIN: whatever overlaps it is a retransmission (Linux would
            // queue a segment straddling its FIN; tcplab keeps the stream ended).
            self.ack.pending |= ICSK_ACK_NOW;
            self.schedule_ack();
            return None;
        }
        // Trim what we already have.
        if before(seq, self.rcv_nxt) {
            let dup = self.rcv_nxt.wrapping_sub(seq) as usize;
            if dup >= data.len() {
                if !(fin && seq.wrapping_add(data.len() as u32) == self.rcv_nxt) {
                    // A pure duplicate (Linux: tcp_data_queue() "retransmit" branch): report
                    // it with a D-SACK (tcp_dsack_set()) and enter quick-ACK mode, which
                    // normally sends the ACK at once.
                    if !data.is_empty() && self.rx_opt.sack_ok && ctx.sys.tcp_dsack != 0 {
                        self.rare.dsack = Some((seq, seq.wrapping_add(data.len() as u32)));
                    }
                    self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                    self.schedule_ack();
                    return None;
                }
                data = &[];
            } else {
                // Partly old: the old part is a duplicate (Linux: tcp_dsack_set() in the
                // partial-overlap branch).
                if self.rx_opt.sack_ok && ctx.sys.tcp_dsack != 0 {
                    self.rare.dsack = Some((seq, self.rcv_nxt));
                }
                data = &data[dup..];
            }
            seq = self.rcv_nxt;
        }
        if seq == self.rcv_nxt {
            if self.receive_window() == 0 && !data.is_empty() {
                // Out of window: Linux drops it and ACKs at once.
                self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                self.ack.pending |= ICSK_ACK_NOW;
                self.schedule_ack();
                return None;
            }
            // Linux: tcp_try_rmem_schedule() — over its size, the buffer first gives up the
            // out-of-order queue (tcp_prune_ofo_queue()) to make room for in-order data.
            if self.queues.rmem_alloc > u64::from(self.rcvbuf_cap) && !data.is_empty() {
                self.prune_ofo_queue();
            }
            if self.queues.rmem_alloc > u64::from(self.rcvbuf_cap) && !data.is_empty() {
                // Linux: tcp_try_rmem_schedule() failed — drop, quick-ACK.
                ctx.out.drop(DropReason::Other);
                self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
                self.ack.pending |= ICSK_ACK_NOW;
                self.schedule_ack();
                return None;
            }
            if !data.is_empty() {
                self.queues.rcvbuf.extend(data);
                self.charge_rcv(
                    data.len() as u32,
                    crate::output::truesize(seg.payload.len() as u32),
                );
                self.rcv_nxt = self.rcv_nxt.wrapping_add(data.len() as u32);
                self.stats.bytes_received += data.len() as u64;
                self.stats.data_segs_in = self.stats.data_segs_in.wrapping_add(1);
                self.stats.last_data_recv = ctx.now;
                self.rcv_rtt_measure_ts(ctx, seg);
                self.event_data_recv(ctx, data.len() as u32, seg);
            }
            let mut fin_now = fin;
            if !self.queues.ofo.is_empty() {
                let mut pulled = Vec::new();
                let n = self
                    .queues
                    .ofo
                    .pop_ready(self.rcv_nxt, &mut |b: &[u8]| pulled.extend_from_slice(b));
                if n > 0 {
                    self.queues.rcvbuf.extend(&pulled);
                    // The pulled segments' truesize moves with them to the in-order queue.
                    let moved = if self.queues.ofo.is_empty() {
                        self.queues.ofo_truesize
                    } else {
                        let left = self.queues.ofo.bytes() as u64;
                        self.queues.ofo_truesize * u64::from(n) / (u64::from(n) + left).max(1)
                    };
                    self.queues.ofo_truesize -= moved;
                    self.queues.rcv_chunks.push_back((n, moved as u32));
                    self.rcv_nxt = self.rcv_nxt.wrapping_add(n);
                    self.stats.bytes_received += u64::from(n);
                }
                if self.queues.ofo.is_empty() {
                    // RFC 5681 §4.2: a filled hole is ACKed at once.
                    self.ack.pending |= ICSK_ACK_NOW;
                }
                if let Some(fs) = self.rare.ofo_fin_seq
                    && fs == self.rcv_nxt
                {
                    fin_now = true;
                }
            }
            if !data.is_empty() || n_ready(&self.queues.rcvbuf) {
                ctx.out.event(self.fd, Event::Readable);
            }
            if fin_now {
                self.rare.ofo_fin_seq = None;
                return self.fin(ctx);
            }
            return None;
        }
        // Out of order (Linux: tcp_data_queue_ofo()).
        if !before(seq, self.rcv_nxt.wrapping_add(self.receive_window())) {
            self.enter_quickack_mode(ctx, TCP_MAX_QUICKACKS);
            self.ack.pending |= ICSK_ACK_NOW;
            self.schedule_ack();
            return None;
        }
        if !data.is_empty() {
            let stored = self.queues.ofo.insert(self.rcv_nxt, seq, data).stored;
            if stored > 0 {
                let t = u64::from(crate::output::truesize(stored));
                self.queues.ofo_truesize += t;
                self.queues.rmem_alloc += t;
            }
            self.stats.data_segs_in = self.stats.data_segs_in.wrapping_add(1);
            self.stats.last_data_recv = ctx.now;
        }
        if fin {
            self.rare.ofo_fin_seq = Some(seq.wrapping_add(data.len() as u32));
        }
        // Linux sends an immediate (dup)ACK with SACK for out-of-order data.
        self.ack.pending |= ICSK_ACK_NOW;
        self.schedule_ack();
        None
    }

    /// Linux: tcp_prune_ofo_queue() — drop the out-of-order queue (Linux drops from its end
    /// until the buffer fits; tcplab drops it whole) and forget the SACK blocks it reported.
    /// The sender finds the SACKed data missing (reneging) and sends it again.
    fn prune_ofo_queue(&mut self) {
        if self.queues.ofo.is_empty() {
            return;
        }
        self.queues.ofo.clear();
        self.queues.rmem_alloc = self
            .queues
            .rmem_alloc
            .saturating_sub(self.queues.ofo_truesize);
        self.queues.ofo_truesize = 0;
        self.rare.ofo_fin_seq = None;
    }

    /// Linux: tcp_fin().
    fn fin(&mut self, ctx: &mut Ctx<'_>) -> Option<Disposition> {
        self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
        self.fin_received = true;
        self.rcv_shutdown = true;
        self.schedule_ack();
        ctx.out.event(self.fd, Event::Readable);
        match self.state {
            TcpState::SynRecv | TcpState::Established => {
                self.set_state(ctx, TcpState::CloseWait);
                // Linux: inet_csk_enter_pingpong_mode() — the FIN's ACK may wait for our reply.
                self.ack.pingpong = ctx.sys.tcp_pingpong_thresh;
                None
            }
            TcpState::FinWait1 => {
                // Our FIN is not yet acknowledged: simultaneous close.
                self.send_ack(ctx);
                self.set_state(ctx, TcpState::Closing);
                None
            }
            TcpState::FinWait2 => {
                self.send_ack(ctx);
                Some(self.enter_time_wait(ctx, TcpState::TimeWait))
            }
            _ => None,
        }
    }

    /// Linux: tcp_time_wait() — the full socket gives way to a time-wait record.
    pub fn enter_time_wait(&mut self, ctx: &mut Ctx<'_>, substate: TcpState) -> Disposition {
        self.update_metrics(ctx);
        self.set_state(ctx, substate);
        let timeout = if substate == TcpState::TimeWait {
            u64::from(ctx.hz.0) * 60 // TCP_TIMEWAIT_LEN
        } else {
            self.fin_time(ctx)
        };
        Disposition::TimeWait { substate, timeout }
    }

    /// Linux: inet_csk_schedule_ack().
    pub fn schedule_ack(&mut self) {
        self.ack.pending |= ICSK_ACK_SCHED;
    }

    /// Linux: tcp_enter_quickack_mode().
    pub fn enter_quickack_mode(&mut self, ctx: &Ctx<'_>, max_quickacks: u32) {
        self.incr_quickack(max_quickacks);
        self.ack.pingpong = 0;
        self.ack.ato = ato_min(ctx.hz);
    }

    /// Linux: tcp_incr_quickack().
    fn incr_quickack(&mut self, max_quickacks: u32) {
        let rcv_mss = self.ack.rcv_mss.max(1);
        let mut quickacks = self.rcv_wnd / (2 * rcv_mss);
        if quickacks == 0 {
            quickacks = 2;
        }
        quickacks = quickacks.min(max_quickacks);
        if quickacks > self.ack.quick {
            self.ack.quick = quickacks;
        }
    }

    /// Linux: tcp_event_data_recv().
    fn event_data_recv(&mut self, ctx: &Ctx<'_>, len: u32, seg: &TcpRepr<'_>) {
        self.schedule_ack();
        self.measure_rcv_mss(len, seg);
        let now = ctx.jiffies();
        let ato_min = ato_min(ctx.hz);
        if self.ack.ato == 0 {
            self.incr_quickack(TCP_MAX_QUICKACKS);
            self.ack.ato = ato_min;
        } else {
            let m = now.wrapping_sub(self.ack.lrcvtime);
            if m <= ato_min / 2 {
                self.ack.ato = (self.ack.ato >> 1) + ato_min / 2;
            } else if m < self.ack.ato {
                self.ack.ato = ((self.ack.ato >> 1) + m)
                    .min(self.icsk_rto)
                    .min(ctx.hz.hz_div(5));
            } else if m > self.icsk_rto {
                self.incr_quickack(TCP_MAX_QUICKACKS);
            }
        }
        self.ack.lrcvtime = now;
        if len >= 128 {
            self.grow_window(len);
        }
    }

    /// Linux: tcp_measure_rcv_mss().
    fn measure_rcv_mss(&mut self, len: u32, seg: &TcpRepr<'_>) {
        let lss = self.ack.last_seg_size;
        self.ack.last_seg_size = 0;
        if len >= self.ack.rcv_mss {
            if len != self.ack.rcv_mss {
                // Linux 6.x learns the payload-to-truesize ratio from full segments and lets
                // the window clamp follow it (tcp_set_window_clamp()).
                let ratio =
                    ((u64::from(len) << 8) / u64::from(crate::output::truesize(len))).max(1) as u32;
                if ratio != self.scaling_ratio {
                    self.scaling_ratio = ratio;
                    let val =
                        crate::output::win_from_space_ratio(i64::from(self.rcvbuf_cap), ratio);
                    let new_clamp = (val.max(0) as u32).max(2304 / 2);
                    let old_clamp = self.window_clamp;
                    self.window_clamp = new_clamp;
                    if new_clamp < old_clamp {
                        self.rcv_ssthresh = self.rcv_ssthresh.min(new_clamp);
                    } else {
                        self.rcv_ssthresh = self.rcv_ssthresh.max(self.rcv_wnd.min(new_clamp));
                    }
                    if self.window_clamp < self.rcvq_space {
                        self.rcvq_space = self.window_clamp;
                    }
                }
            }
            self.ack.rcv_mss = len.min(self.advmss);
        } else {
            let hdr_len = seg.header_len() as u32;
            let total = len + hdr_len;
            let remnant = seg.flags.intersects(
                TcpFlags::PSH | TcpFlags::URG | TcpFlags::FIN | TcpFlags::SYN | TcpFlags::RST,
            );
            if total >= 536 + 20 || (total >= 88 + 20 && !remnant) {
                let tcp_header_len = 20 + if self.rx_opt.tstamp_ok { 12 } else { 0 };
                let l = total.saturating_sub(tcp_header_len);
                self.ack.last_seg_size = l;
                if l == lss {
                    self.ack.rcv_mss = l;
                    return;
                }
            }
            if self.ack.pending & ICSK_ACK_PUSHED != 0 {
                self.ack.pending |= ICSK_ACK_PUSHED2;
            }
            self.ack.pending |= ICSK_ACK_PUSHED;
        }
    }

    /// Linux: tcp_grow_window() — raise rcv_ssthresh by two segments per in-order segment
    /// while the buffer allows.
    fn grow_window(&mut self, _len: u32) {
        let full = self.full_space();
        if self.rcv_ssthresh < self.window_clamp && (self.rcv_ssthresh as i64) < self.space() {
            let incr = 2 * self.advmss;
            self.rcv_ssthresh = (self.rcv_ssthresh + incr).min(self.window_clamp).min(full);
        }
    }

    /// Linux: __tcp_ack_snd_check() — ACK now, or arm the delayed-ACK timer.
    pub fn ack_snd_check(&mut self, ctx: &mut Ctx<'_>, _ofo_possible: bool) {
        if !self.ack_scheduled() {
            return;
        }
        let thresh = ctx.sys.tcp_pingpong_thresh;
        // Evaluated in Linux's order: computing the window can end quick-ACK mode (a nearly
        // full receive buffer sets icsk_ack.quick = 0 in __tcp_select_window()).
        let more_than_one_full = self.rcv_nxt.wrapping_sub(self.rcv_wup) > self.ack.rcv_mss
            && (self.rcv_nxt.wrapping_sub(self.copied_seq) < 1 || {
                let w = self.compute_window();
                w >= self.rcv_wnd
            });
        let quick = self.ack.quick > 0 && !self.in_pingpong(thresh);
        if more_than_one_full || quick || self.ack.pending & ICSK_ACK_NOW != 0 {
            self.send_ack(ctx);
            return;
        }
        self.send_delayed_ack(ctx);
    }

    /// Linux: tcp_send_delayed_ack().
    pub fn send_delayed_ack(&mut self, ctx: &mut Ctx<'_>) {
        let mut ato = self.ack.ato;
        let delack_min = ato_min(ctx.hz);
        if ato > delack_min {
            let thresh = ctx.sys.tcp_pingpong_thresh;
            let mut max_ato = ctx.hz.hz_div(2);
            if self.in_pingpong(thresh) || self.ack.pending & ICSK_ACK_PUSHED != 0 {
                max_ato = ctx.hz.hz_div(5);
            }
            if self.rtt.srtt_us != 0 {
                let rtt = ctx
                    .hz
                    .usecs_to_jiffies(u64::from(self.rtt.srtt_us >> 3))
                    .max(delack_min);
                if rtt < max_ato {
                    max_ato = rtt;
                }
            }
            ato = ato.min(max_ato);
        }
        // Linux: tcp_delack_max() — min(200 ms, rto_min − 1 jiffy).
        let rto_min = ctx.hz.usecs_to_jiffies(u64::from(ctx.sys.tcp_rto_min_us));
        let delack_max = ctx.hz.hz_div(5).min(rto_min.saturating_sub(1)).max(1);
        ato = ato.min(delack_max);
        let mut timeout = ctx.expires(ato);
        if self.ack.pending & ICSK_ACK_TIMER != 0 {
            let soon = ctx.expires(ato >> 2);
            if self.ack.timeout <= soon {
                self.send_ack(ctx);
                return;
            }
            if timeout >= self.ack.timeout {
                timeout = self.ack.timeout;
            }
        }
        self.ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
        self.ack.timeout = timeout;
        self.arm_slot_at(ctx, Slot::DelAck, timeout);
    }

    /// Linux: __tcp_cleanup_rbuf() — after the application read `copied` bytes.
    pub fn cleanup_rbuf(&mut self, ctx: &mut Ctx<'_>, copied: usize) {
        let mut time_to_ack = false;
        let thresh = ctx.sys.tcp_pingpong_thresh;
        if self.ack_scheduled()
            && (self.rcv_nxt.wrapping_sub(self.rcv_wup) > self.ack.rcv_mss
                || (copied > 0
                    && (self.ack.pending & ICSK_ACK_PUSHED2 != 0
                        || (self.ack.pending & ICSK_ACK_PUSHED != 0 && !self.in_pingpong(thresh)))
                    && self.queues.rcvbuf.is_empty()
                    && self.queues.ofo.is_empty()))
        {
            time_to_ack = true;
        }
        if copied > 0 && !time_to_ack && !self.rcv_shutdown {
            let rcv_window_now = self.receive_window();
            if 2 * rcv_window_now <= self.window_clamp {
                let new_window = self.compute_window();
                if new_window > 0 && new_window >= 2 * rcv_window_now {
                    time_to_ack = true;
                }
            }
        }
        if time_to_ack {
            self.send_ack(ctx);
        }
    }
}

fn n_ready(buf: &std::collections::VecDeque<u8>) -> bool {
    !buf.is_empty()
}
