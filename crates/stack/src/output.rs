//! What a socket sends and when (Linux: net/ipv4/tcp_output.c): options, the advertised
//! window, segmentation of the send buffer, Nagle, retransmission of queued segments, and the
//! arming of the transmit timer that follows every transmission.

use tcplab_wire::{SackBlock, TcpFlags, TcpOption, TcpRepr};

use crate::api::TcpState;
use crate::ctx::Ctx;
use crate::seq::{after, before_eq, seq_max};
use crate::socket::{
    ICSK_ACK_NOW, ICSK_ACK_PUSHED, ICSK_ACK_PUSHED2, ICSK_ACK_SCHED, ICSK_ACK_TIMER, Slot, Sock,
    TxSeg, XmitTimer,
};
use crate::time::Jiffies;

/// Linux: TCP_MAX_WSCALE.
pub const TCP_MAX_WSCALE: u8 = 14;
/// Linux: MAX_TCP_OPTION_SPACE.
const MAX_TCP_OPTION_SPACE: usize = 40;
/// Linux: TCPOLEN_TSTAMP_ALIGNED.
pub const TCPOLEN_TSTAMP_ALIGNED: u32 = 12;

/// Linux: TCP_DEFAULT_SCALING_RATIO — until a full segment arrives, half the buffer is payload.
pub const TCP_DEFAULT_SCALING_RATIO: u32 = 128;

/// Linux: TCP_RMEM_TO_WIN_SCALE.
const TCP_RMEM_TO_WIN_SCALE: u32 = 8;

/// What a received segment costs in the receive buffer (Linux: skb->truesize). The kernel's
/// value depends on the driver; tcplab uses the payload plus 832 bytes, which reproduces the
/// windows of the kernel traces (a 1448-byte segment costs 2280 bytes, as on a veth).
pub fn truesize(len: u32) -> u32 {
    len + 832
}

/// Linux: tcp_win_from_space() with the default scaling ratio, for a socket that has not
/// received anything yet.
pub fn win_from_space(space: i64) -> i64 {
    win_from_space_ratio(space, TCP_DEFAULT_SCALING_RATIO)
}

/// Linux: tcp_win_from_space().
pub fn win_from_space_ratio(space: i64, ratio: u32) -> i64 {
    (space * i64::from(ratio)) >> TCP_RMEM_TO_WIN_SCALE
}

/// Linux: tcp_space_from_win().
pub fn space_from_win(win: u64, ratio: u32) -> u64 {
    (win << TCP_RMEM_TO_WIN_SCALE) / u64::from(ratio.max(1))
}

/// Linux: tcp_select_initial_window(). Returns (rcv_wnd, window_clamp, rcv_wscale).
pub fn select_initial_window(
    space: u32,
    mss: u32,
    window_clamp: u32,
    wscale_ok: bool,
    rmem_max: u32,
    sysctl_rmem_max: u32,
) -> (u32, u32, u8) {
    let mut window_clamp = window_clamp;
    if window_clamp == 0 {
        window_clamp = u32::from(u16::MAX) << TCP_MAX_WSCALE;
    }
    let mut space = space.min(window_clamp);
    if space > mss && mss > 0 {
        space -= space % mss;
    }
    let rcv_wnd = space;
    let mut rcv_wscale = 0u8;
    if wscale_ok {
        let s = space.max(rmem_max).max(sysctl_rmem_max).min(window_clamp);
        let ilog2 = 31 - s.max(1).leading_zeros() as i32;
        rcv_wscale = (ilog2 - 15).clamp(0, i32::from(TCP_MAX_WSCALE)) as u8;
    }
    let clamp = window_clamp.min((u32::from(u16::MAX)) << rcv_wscale);
    (rcv_wnd, clamp, rcv_wscale)
}

impl Sock {
    /// Linux: tcp_full_space().
    pub fn full_space(&self) -> u32 {
        win_from_space_ratio(i64::from(self.rcvbuf_cap), self.scaling_ratio) as u32
    }

    /// Linux: tcp_space() — the window the free part of the receive buffer supports.
    pub fn space(&self) -> i64 {
        let free = i64::from(self.rcvbuf_cap) - self.queues.rmem_alloc as i64;
        win_from_space_ratio(free, self.scaling_ratio)
    }

    /// Linux: __tcp_select_window().
    pub fn compute_window(&mut self) -> u32 {
        let mut mss = self.ack.rcv_mss as i64;
        let mut free_space = self.space();
        let allowed_space = i64::from(self.full_space());
        let full_space = i64::from(self.window_clamp).min(allowed_space);
        if mss > full_space {
            mss = full_space;
            if mss <= 0 {
                return 0;
            }
        }
        let wscale = self.rx_opt.rcv_wscale;
        if free_space < (full_space >> 1) {
            self.ack.quick = 0;
            free_space &= !((1i64 << wscale) - 1);
            if free_space < (allowed_space >> 4) || free_space < mss {
                return 0;
            }
        }
        if free_space > i64::from(self.rcv_ssthresh) {
            free_space = i64::from(self.rcv_ssthresh);
        }
        if wscale != 0 {
            let align = 1i64 << wscale;
            ((free_space + align - 1) & !(align - 1)) as u32
        } else {
            let mut window = i64::from(self.rcv_wnd);
            if window <= free_space - mss || window > free_space {
                window = if mss > 0 {
                    free_space - free_space % mss
                } else {
                    free_space
                };
            } else if mss == full_space && free_space > window + (full_space >> 1) {
                window = free_space;
            }
            window.max(0) as u32
        }
    }

    /// Linux: tcp_select_window() — the value for the window field, and the new rcv_wnd/rcv_wup.
    pub fn select_window(&mut self) -> u16 {
        let cur_win = self.receive_window();
        let mut new_win = self.compute_window();
        let wscale = self.rx_opt.rcv_wscale;
        if new_win < cur_win {
            // Never shrink the offered window (tcp_shrink_window = 0).
            let align = 1u32 << wscale;
            new_win = cur_win.div_ceil(align).saturating_mul(align);
        }
        self.rcv_wnd = new_win;
        self.rcv_wup = self.rcv_nxt;
        let new_win = new_win.min(u32::from(u16::MAX) << wscale);
        (new_win >> wscale) as u16
    }

    /// TS value for an outgoing segment (Linux: tcp_time_stamp_ts() + tsoffset).
    fn tsval(&self, ctx: &Ctx<'_>) -> u32 {
        ctx.ts_ms().wrapping_add(self.ts_offset)
    }

    /// Options of our SYN (or, in a simultaneous open, SYN-ACK), as Linux lays them out.
    pub fn syn_options(&self, ctx: &Ctx<'_>, synack: bool) -> Vec<TcpOption> {
        let ts = if synack {
            self.rx_opt.tstamp_ok
        } else {
            ctx.sys.tcp_timestamps != 0
        };
        let sack = if synack {
            self.rx_opt.sack_ok
        } else {
            ctx.sys.tcp_sack != 0
        };
        let ws = if synack {
            self.rx_opt.wscale_ok
        } else {
            ctx.sys.tcp_window_scaling != 0
        };
        let ecr = if synack { self.rx_opt.ts_recent } else { 0 };
        crate::listen::syn_options(
            self.advmss as u16,
            ts.then(|| (self.tsval(ctx), ecr)),
            sack,
            ws.then_some(self.rx_opt.rcv_wscale),
        )
    }

    /// Options of a segment on an established connection (Linux: tcp_established_options()):
    /// `nop,nop,TS` and then `nop,nop,sack …` when the receive queue has holes.
    pub fn established_options(&self, ctx: &Ctx<'_>) -> Vec<TcpOption> {
        // nop, nop, TS, nop, nop, SACK at most: one allocation.
        let mut opts = Vec::with_capacity(6);
        self.push_established_options(ctx, &mut opts);
        opts
    }

    /// [`Sock::established_options`] appended to `opts`, so that `transmit` can reuse one
    /// list for every segment.
    fn push_established_options(&self, ctx: &Ctx<'_>, opts: &mut Vec<TcpOption>) {
        let mut remaining = MAX_TCP_OPTION_SPACE;
        if self.rx_opt.tstamp_ok {
            opts.push(TcpOption::Nop);
            opts.push(TcpOption::Nop);
            opts.push(TcpOption::Timestamps {
                tsval: self.tsval(ctx),
                tsecr: self.rx_opt.ts_recent,
            });
            remaining -= TCPOLEN_TSTAMP_ALIGNED as usize;
        }
        if self.rx_opt.sack_ok && (!self.queues.ofo.is_empty() || self.rare.dsack.is_some()) {
            let max = (remaining - 4) / 8;
            // RFC 2883: a D-SACK block goes first, then the out-of-order blocks.
            let dsack = self
                .rare
                .dsack
                .map(|(left, right)| SackBlock { left, right });
            let blocks: Vec<SackBlock> = dsack
                .into_iter()
                .chain(
                    self.queues
                        .ofo
                        .sack_blocks(max)
                        .into_iter()
                        .map(|(left, right)| SackBlock { left, right }),
                )
                .take(max)
                .collect();
            if !blocks.is_empty() {
                opts.push(TcpOption::Nop);
                opts.push(TcpOption::Nop);
                opts.push(TcpOption::Sack(blocks));
            }
        }
    }

    /// Linux: tcp_current_mss() — the MSS for the next data segment, less the room SACK
    /// blocks take in this segment's header.
    pub fn current_mss(&self, ctx: &Ctx<'_>) -> u32 {
        // Without SACK blocks to send the options are at most `nop,nop,TS`, which the cached
        // MSS already allows for: nothing to subtract, and no option list to build.
        if !(self.rx_opt.sack_ok && (!self.queues.ofo.is_empty() || self.rare.dsack.is_some())) {
            return self.mss_cache.max(1);
        }
        let extra: usize = self
            .established_options(ctx)
            .iter()
            .filter(|o| matches!(o, TcpOption::Sack(_) | TcpOption::Nop))
            .map(TcpOption::wire_len)
            .sum::<usize>()
            .saturating_sub(if self.rx_opt.tstamp_ok { 2 } else { 0 });
        self.mss_cache.saturating_sub(extra as u32).max(1)
    }

    /// Builds and queues one segment. `data` is the payload range `[seq, seq+len)` read from
    /// the send buffer. Every segment but a SYN carries the current ACK and window.
    /// Returns false when the host's output filter refused the segment: Linux's bookkeeping
    /// (ACK sent, data sent) has happened all the same, but the caller must not count the
    /// segment as sent.
    pub fn transmit(&mut self, ctx: &mut Ctx<'_>, seq: u32, mut flags: TcpFlags, len: u32) -> bool {
        let syn = flags.contains(TcpFlags::SYN);
        let synack = syn && flags.contains(TcpFlags::ACK);
        let options = if syn {
            self.syn_options(ctx, synack)
        } else {
            let mut options = std::mem::take(&mut ctx.out.tcp_options);
            options.clear();
            self.push_established_options(ctx, &mut options);
            options
        };
        let window = if syn {
            // Linux: SYN and SYN-ACK windows are never scaled.
            self.rcv_wnd.min(u32::from(u16::MAX)) as u16
        } else {
            self.select_window()
        };
        // The payload stays in the send ring: its (at most two) slices are copied straight
        // into the datagram.
        let (mut head, mut tail): (&[u8], &[u8]) = (&[], &[]);
        if len > 0 {
            // The queue invariant keeps [seq, seq+len) inside the send buffer; clamp anyway so
            // that a broken invariant shows up as a short segment, never a panic.
            let off = (seq.wrapping_sub(self.sndbuf_seq) as usize).min(self.queues.sndbuf.len());
            let end = (off + len as usize).min(self.queues.sndbuf.len());
            let (a, b) = self.queues.sndbuf.as_slices();
            if off < a.len() {
                head = &a[off..end.min(a.len())];
            }
            if end > a.len() {
                tail = &b[off.saturating_sub(a.len())..end - a.len()];
            }
        }
        if self.state != TcpState::SynSent || synack {
            flags.insert(TcpFlags::ACK);
        }
        let repr = TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq,
            ack: if flags.contains(TcpFlags::ACK) {
                self.rcv_nxt
            } else {
                0
            },
            flags,
            window,
            checksum: 0,
            urgent: 0,
            options,
            option_padding: Vec::new(),
            payload: &[],
        };
        // RFC 3168 / Linux tcp_ecn_send(): new data of an ECN connection is ECT(0).
        let new_data = len > 0 && !crate::seq::before(seq, self.snd_nxt);
        let tos = if self.rx_opt.ecn_ok && new_data {
            0x02
        } else {
            0
        };
        let sent = ctx
            .out
            .emit_gather(self.local, self.remote, &repr, tos, &[head, tail]);
        // The list's allocation serves the next segment.
        let mut options = repr.options;
        options.clear();
        ctx.out.tcp_options = options;
        self.stats.segs_out = self.stats.segs_out.wrapping_add(1);
        if len > 0 {
            self.stats.data_segs_out = self.stats.data_segs_out.wrapping_add(1);
            self.stats.lsndtime = ctx.now;
            self.event_data_sent(ctx);
        }
        if flags.contains(TcpFlags::ACK) {
            self.event_ack_sent(ctx.hz);
        }
        sent
    }

    /// Linux: tcp_event_data_sent() — sending data soon after receiving makes the connection
    /// interactive (pingpong) for the delayed-ACK engine.
    fn event_data_sent(&mut self, ctx: &Ctx<'_>) {
        let now = ctx.jiffies();
        if now.wrapping_sub(self.ack.lrcvtime) < self.ack.ato && self.ack.pingpong < u8::MAX {
            self.ack.pingpong += 1;
        }
    }

    /// Linux: tcp_event_ack_sent() — an ACK went out, so nothing is pending any more.
    fn event_ack_sent(&mut self, hz: crate::time::Hz) {
        // Linux: tcp_dec_quickack_mode().
        if self.ack.quick > 0 {
            let pkts = u32::from(self.ack_scheduled());
            if pkts >= self.ack.quick {
                self.ack.quick = 0;
                // Leaving quick-ACK mode deflates the ATO to TCP_ATO_MIN.
                self.ack.ato = ato_min(hz);
            } else {
                self.ack.quick -= pkts;
            }
        }
        self.rare.if_present(|r| r.dsack = None);
        self.ack.pending &=
            !(ICSK_ACK_SCHED | ICSK_ACK_TIMER | ICSK_ACK_NOW | ICSK_ACK_PUSHED | ICSK_ACK_PUSHED2);
        self.clear_slot(Slot::DelAck);
    }

    /// Linux: tcp_send_ack().
    pub fn send_ack(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == TcpState::Close {
            return;
        }
        let seq = self.acceptable_seq();
        self.transmit(ctx, seq, TcpFlags::ACK, 0);
    }

    /// Linux: tcp_acceptable_seq() — snd_nxt, unless the peer shrank its window below it.
    pub fn acceptable_seq(&self) -> u32 {
        let wnd_end = self.snd_una.wrapping_add(self.snd_wnd);
        if !after(self.snd_nxt, wnd_end)
            || (self.rx_opt.snd_wscale > 0
                && after(self.snd_nxt, wnd_end)
                && self.snd_nxt.wrapping_sub(wnd_end) < (1 << self.rx_opt.snd_wscale))
        {
            self.snd_nxt
        } else {
            wnd_end
        }
    }

    /// Linux: tcp_send_active_reset() — `R.` at the acceptable sequence.
    pub fn send_active_reset(&mut self, ctx: &mut Ctx<'_>) {
        let seq = self.acceptable_seq();
        self.transmit(ctx, seq, TcpFlags::RST | TcpFlags::ACK, 0);
    }

    /// Linux: tcp_send_challenge_ack() — rate-limited per socket by tcp_invalid_ratelimit and
    /// per stack by tcp_challenge_ack_limit per second.
    pub fn send_challenge_ack(&mut self, ctx: &mut Ctx<'_>) {
        let mut last = self.last_oow_ack_time;
        if ctx.oow_rate_limited(&mut last) {
            self.last_oow_ack_time = last;
            return;
        }
        self.last_oow_ack_time = last;
        let now = ctx.jiffies();
        let second = u64::from(ctx.hz.0);
        if now.wrapping_sub(ctx.out.challenge_window_start) >= second {
            ctx.out.challenge_window_start = now;
            ctx.out.challenge_count = 0;
        }
        if ctx.out.challenge_count >= ctx.sys.tcp_challenge_ack_limit {
            return;
        }
        ctx.out.challenge_count += 1;
        self.send_ack(ctx);
    }

    /// Linux: tcp_send_dupack() for an out-of-window segment: rate-limited when it carries no
    /// data (tcp_oow_rate_limited()), always sent for data.
    pub fn send_oow_ack(&mut self, ctx: &mut Ctx<'_>, has_data_no_syn: bool) {
        if !has_data_no_syn {
            let mut last = self.last_oow_ack_time;
            let limited = ctx.oow_rate_limited(&mut last);
            self.last_oow_ack_time = last;
            if limited {
                return;
            }
        }
        self.send_ack(ctx);
    }

    /// Queues a FIN after the written data (Linux: tcp_send_fin()).
    pub fn send_fin(&mut self, ctx: &mut Ctx<'_>) {
        self.fin_queued = true;
        self.write_xmit(ctx, false);
    }

    /// The sequence number a queued FIN takes.
    pub fn fin_seq(&self) -> u32 {
        self.write_seq
    }

    /// Linux: tcp_write_xmit() — sends what the send window, the congestion window and Nagle
    /// allow, then schedules a tail loss probe. `probe` is the loss probe's own call
    /// (`push_one == 2`): one segment, Nagle off, cwnd ignored, no new probe scheduled.
    pub fn write_xmit(&mut self, ctx: &mut Ctx<'_>, probe: bool) -> bool {
        if !matches!(
            self.state,
            TcpState::Established
                | TcpState::CloseWait
                | TcpState::FinWait1
                | TcpState::LastAck
                | TcpState::Closing
        ) {
            return false;
        }
        let mut sent_any = false;
        let mut is_cwnd_limited = false;
        loop {
            let start = seq_max(self.snd_nxt, self.sndbuf_seq);
            let unsent = self.unsent_bytes();
            let fin_pending = self.fin_queued && !self.fin_sent();
            if unsent == 0 && !fin_pending {
                break;
            }
            let mss = self.current_mss(ctx);
            // Linux: tcp_cwnd_test() is not strict about the final FIN: a FIN segment of at
            // most one MSS goes even when the congestion window is full.
            let final_fin = fin_pending && unsent <= mss;
            let quota = self.cwnd_quota();
            if quota == 0 && !probe && !final_fin {
                is_cwnd_limited = true;
                break;
            }
            let len = unsent.min(mss);
            let wnd_end = self.snd_una.wrapping_add(self.snd_wnd);
            if after(start.wrapping_add(len), wnd_end) {
                // Linux: tcp_snd_wnd_test() failed; the persist timer takes over.
                break;
            }
            let fin = fin_pending && len == unsent;
            // Linux: tcp_nagle_test() — a FIN or a full segment always goes.
            if len < mss && !fin && !probe && !self.nagle_allows() {
                break;
            }
            let mut flags = TcpFlags::ACK;
            let end = start.wrapping_add(len);
            if fin {
                flags.insert(TcpFlags::FIN);
            }
            if self.take_push_mark(start, end) {
                flags.insert(TcpFlags::PSH);
            }
            if !self.transmit(ctx, start, flags, len) {
                // Linux: tcp_write_xmit() stops at a failed tcp_transmit_skb(); the segment
                // stays unsent and the probe timer takes over.
                break;
            }
            self.queue_sent(ctx, start, len, fin, flags.contains(TcpFlags::PSH));
            sent_any = true;
            if probe {
                break;
            }
        }
        if sent_any || is_cwnd_limited {
            self.cwnd_validate(is_cwnd_limited);
        }
        if sent_any {
            // Linux: one loss probe per tail loss episode.
            if !probe {
                self.schedule_loss_probe(ctx, false);
            }
        } else {
            self.check_probe_timer(ctx);
        }
        sent_any
    }

    /// Linux: tcp_event_new_data_sent() — new data `[start, start+len)` (and a FIN) went out:
    /// it joins the retransmission queue, and the first packet in flight arms the RTO.
    pub fn queue_sent(&mut self, ctx: &mut Ctx<'_>, start: u32, len: u32, fin: bool, psh: bool) {
        let end = start.wrapping_add(len);
        let end_seq = end.wrapping_add(u32::from(fin));
        let prior_packets = self.packets_out;
        self.queues.rtx.push_back(TxSeg {
            seq: start,
            end_seq,
            syn: false,
            fin,
            psh,
            sent_at: ctx.now,
            ever_retrans: false,
            sacked: false,
            lost: false,
            retrans: false,
        });
        self.packets_out += 1;
        if self.ca_state != crate::cc::CaState::Open {
            self.recovery.prr_out += 1;
        }
        self.snd_nxt = end_seq;
        self.stats.bytes_sent += u64::from(len);
        if len < self.mss_cache {
            self.snd_sml = end;
        }
        if prior_packets == 0 || self.xmit_kind == Some(XmitTimer::LossProbe) {
            self.rearm_rto(ctx);
        }
    }

    /// Linux: tcp_schedule_loss_probe() — arm a tail loss probe (RFC 8985) instead of the RTO:
    /// PTO = 2·SRTT, plus rto_min with one segment out (to cover a delayed ACK) or 2 ms
    /// otherwise, 1 s without an RTT sample, and never later than the RTO would fire.
    pub fn schedule_loss_probe(&mut self, ctx: &Ctx<'_>, advancing_rto: bool) -> bool {
        let early_retrans = ctx.sys.tcp_early_retrans;
        if (early_retrans != 3 && early_retrans != 4)
            || self.packets_out == 0
            || !self.rx_opt.sack_ok
            || !matches!(
                self.ca_state,
                crate::cc::CaState::Open | crate::cc::CaState::Cwr
            )
        {
            return false;
        }
        let mut timeout = if self.rtt.srtt_us != 0 {
            let mut us = u64::from(self.rtt.srtt_us >> 2);
            us += if self.packets_out == 1 {
                u64::from(ctx.sys.tcp_rto_min_us)
            } else {
                2000
            };
            ctx.hz.usecs_to_jiffies(us)
        } else {
            u64::from(ctx.hz.0) // TCP_TIMEOUT_INIT
        };
        let rto_delta_us: i64 = if advancing_rto {
            ctx.hz.jiffies_to_usecs(self.icsk_rto) as i64
        } else {
            self.rto_delta_us(ctx)
        };
        if rto_delta_us > 0 {
            timeout = timeout.min(ctx.hz.usecs_to_jiffies(rto_delta_us as u64));
        }
        self.reset_xmit_timer(ctx, XmitTimer::LossProbe, timeout);
        true
    }

    /// Linux: tcp_rto_delta_us() — how far in the future the RTO of the head segment is.
    fn rto_delta_us(&self, ctx: &Ctx<'_>) -> i64 {
        let rto_us = ctx.hz.jiffies_to_usecs(self.icsk_rto) as i64;
        match self.queues.rtx.front() {
            Some(head) => {
                let elapsed = (ctx.now - head.sent_at).as_micros() as i64;
                rto_us - elapsed
            }
            None => rto_us,
        }
    }

    /// Linux: tcp_send_loss_probe() — new data if the window allows, else the last segment
    /// again; neither counts as a retransmission for the give-up clock.
    pub fn send_loss_probe(&mut self, ctx: &mut Ctx<'_>) {
        if self.recovery.tlp_high_seq.is_none() {
            self.recovery.tlp_retrans = false;
            let mut sent = false;
            let mss = self.current_mss(ctx);
            let start = seq_max(self.snd_nxt, self.sndbuf_seq);
            let first = self.unsent_bytes().min(mss);
            let wnd_end = self.snd_una.wrapping_add(self.snd_wnd);
            if self.has_unsent() && !after(start.wrapping_add(first), wnd_end) {
                let before = self.packets_out;
                self.write_xmit(ctx, true);
                sent = self.packets_out > before;
            } else if let Some(last) = self.queues.rtx.len().checked_sub(1) {
                self.retransmit_inner(ctx, last, true);
                self.recovery.tlp_retrans = true;
                sent = true;
            }
            if sent {
                self.recovery.tlp_high_seq = Some(self.snd_nxt);
                // Linux clears icsk_pending so that tcp_rearm_rto() starts a full RTO now.
                self.xmit_kind = None;
            }
        }
        self.rearm_rto(ctx);
    }

    /// Linux: tcp_cwnd_validate() — remember whether this window used the congestion window,
    /// or the most packets it had out, so that congestion control grows cwnd only when it is
    /// the limit (tcp_is_cwnd_limited()).
    fn cwnd_validate(&mut self, is_cwnd_limited: bool) {
        if !crate::seq::before(self.snd_una, self.cwnd_usage_seq)
            || is_cwnd_limited
            || (!self.cc.is_cwnd_limited && self.packets_out > self.cc.max_packets_out)
        {
            self.cc.is_cwnd_limited = is_cwnd_limited;
            self.cc.max_packets_out = self.packets_out;
            self.cwnd_usage_seq = self.snd_nxt;
        }
    }

    /// Linux: tcp_slow_start_after_idle_check() and tcp_cwnd_restart() — a sender idle for
    /// more than an RTO starts again from the initial window (halved once per idle RTO).
    pub fn slow_start_after_idle_check(&mut self, ctx: &Ctx<'_>) {
        if ctx.sys.tcp_slow_start_after_idle == 0 || self.packets_out > 0 {
            return;
        }
        let idle = ctx
            .jiffies()
            .saturating_sub(ctx.hz.jiffies_at(self.stats.lsndtime)) as i64;
        let rto = self.icsk_rto as i64;
        if idle <= rto {
            return;
        }
        self.ca
            .cwnd_event(&self.cc, crate::cc::CaEvent::CwndRestart, ctx.now);
        let cwnd = self.cc.snd_cwnd;
        // Linux: tcp_current_ssthresh().
        let in_reduction = matches!(
            self.ca_state,
            crate::cc::CaState::Cwr | crate::cc::CaState::Recovery
        );
        if !in_reduction {
            self.cc.snd_ssthresh = self.cc.snd_ssthresh.max((cwnd >> 1) + (cwnd >> 2));
        }
        let restart = crate::cc::TCP_INIT_CWND.min(cwnd);
        let mut c = cwnd;
        let mut delta = idle;
        loop {
            delta -= rto;
            if delta <= 0 || c <= restart {
                break;
            }
            c >>= 1;
        }
        self.cc.snd_cwnd = c.max(restart);
    }

    /// Linux: tcp_cwnd_test().
    fn cwnd_quota(&self) -> u32 {
        let in_flight = self.packets_in_flight();
        let cwnd = self.cc.snd_cwnd;
        if in_flight >= cwnd {
            return 0;
        }
        let half = (cwnd >> 1).max(1);
        half.min(cwnd - in_flight).max(1)
    }

    /// Linux: tcp_nagle_check() with Minshall's rule: a small segment waits only while an
    /// earlier small segment is unacknowledged.
    fn nagle_allows(&self) -> bool {
        if self.opts.nodelay {
            return true;
        }
        let minshall = after(self.snd_sml, self.snd_una) && before_eq(self.snd_sml, self.snd_nxt);
        !(self.packets_out > 0 && minshall)
    }

    /// Linux: forced_push() in net/ipv4/tcp.c — more than half the largest window the peer
    /// ever offered has been written since the last PSH.
    pub fn forced_push(&self) -> bool {
        after(
            self.write_seq,
            self.pushed_seq.wrapping_add(self.max_window >> 1),
        )
    }

    /// Linux: tcp_mark_push() — PSH on the skb that ends at `write_seq` (the tail of the write
    /// queue), and `pushed_seq = write_seq`.
    fn mark_push(&mut self) {
        let end = self.write_seq;
        if self.queues.push_marks.back() != Some(&end) {
            self.queues.push_marks.push_back(end);
        }
        self.pushed_seq = end;
    }

    /// The PSH bookkeeping of one tcp_sendmsg_locked() call that queues `len` more bytes (the
    /// bytes themselves are already in `sndbuf`; this advances `write_seq`).
    ///
    /// Linux builds the write queue in skbs of `size_goal` bytes: a write first fills the
    /// unsent tail skb, then adds new ones. For the wire, what matters is where the skbs that
    /// carry PSH end:
    /// - the first append to an existing tail skb clears its PSH
    ///   (`if (!copied) TCP_SKB_CB(skb)->tcp_flags &= ~TCPHDR_PSH`);
    /// - each skb that fills up while more data follows gets PSH when forced_push() holds
    ///   (`tcp_mark_push()` before `__tcp_push_pending_frames()`);
    /// - the skb that ends the write gets PSH (tcp_push() without MSG_MORE).
    ///
    /// Unsent data always starts a new skb at the send head, and every unsent skb but the
    /// tail is full, so the skbs are the `size_goal` chunks from the first unsent byte.
    pub fn queue_write(&mut self, len: u32, size_goal: u32) {
        let goal = size_goal.max(1);
        let unsent = self.unsent_bytes();
        // Length of the unsent tail skb, if there is one.
        let mut tail = match unsent {
            0 => None,
            u => Some(match u % goal {
                0 => goal,
                r => r,
            }),
        };
        let mut left = len;
        let mut copied = 0u32;
        while left > 0 {
            let (skb_len, room) = match tail {
                Some(t) if t < goal => (t, goal - t),
                _ => (0, goal),
            };
            if copied == 0 && skb_len > 0 && self.queues.push_marks.back() == Some(&self.write_seq)
            {
                self.queues.push_marks.pop_back();
            }
            let copy = room.min(left);
            self.write_seq = self.write_seq.wrapping_add(copy);
            copied += copy;
            left -= copy;
            tail = Some(skb_len + copy);
            if left == 0 {
                break;
            }
            if self.forced_push() {
                self.mark_push();
            }
        }
        // Linux: tcp_push() at the end of the call marks the tail skb.
        if copied > 0 {
            self.mark_push();
        }
    }

    /// Adds a PSH mark at `end` (Linux: PSH set on the skb ending there), keeping the marks
    /// in sequence order.
    pub fn insert_push_mark(&mut self, end: u32) {
        let at = self
            .queues
            .push_marks
            .iter()
            .position(|&m| !crate::seq::before(m, end))
            .unwrap_or(self.queues.push_marks.len());
        if self.queues.push_marks.get(at) != Some(&end) {
            self.queues.push_marks.insert(at, end);
        }
    }

    /// Whether a write ended inside `(start, end]`; consumes the marks it finds.
    fn take_push_mark(&mut self, start: u32, end: u32) -> bool {
        let mut found = false;
        while let Some(&m) = self.queues.push_marks.front() {
            if after(m, end) {
                break;
            }
            if after(m, start) {
                found = true;
            }
            self.queues.push_marks.pop_front();
        }
        found
    }

    /// Our FIN has been sent (it is in the retransmission queue or acknowledged).
    pub fn fin_sent(&self) -> bool {
        self.fin_queued && after(self.snd_nxt, self.write_seq)
    }

    /// Our FIN has been acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_queued && after(self.snd_una, self.write_seq)
    }

    /// Linux: tcp_retransmit_skb() for the segment at `idx` of the retransmission queue.
    pub fn retransmit(&mut self, ctx: &mut Ctx<'_>, idx: usize) {
        self.retransmit_inner(ctx, idx, false);
    }

    /// Linux: __tcp_retransmit_skb(), and with `tlp == false` the bookkeeping of
    /// tcp_retransmit_skb() (TCPCB_RETRANS, retrans_out, retrans_stamp) that a loss probe skips.
    fn retransmit_inner(&mut self, ctx: &mut Ctx<'_>, idx: usize, tlp: bool) {
        // Linux: tcp_fragment() when the segment no longer fits the current MSS (SACK blocks
        // now take room in the header).
        let mss = self.current_mss(ctx);
        if self.queues.rtx.get(idx).is_some_and(|s| s.data_len() > mss) {
            self.fragment(idx, mss);
        }
        let Some(seg) = self.queues.rtx.get(idx).cloned() else {
            return;
        };
        let mut flags = TcpFlags::ACK;
        if seg.syn {
            flags = TcpFlags::SYN;
            if self.state == TcpState::SynRecv {
                flags.insert(TcpFlags::ACK);
            }
        }
        if seg.fin {
            flags.insert(TcpFlags::FIN);
        }
        if seg.psh {
            flags.insert(TcpFlags::PSH);
        }
        let len = seg.data_len();
        self.transmit(ctx, seg.seq, flags, len);
        self.stats.total_retrans += 1;
        self.stats.bytes_retrans += u64::from(len);
        if let Some(s) = self.queues.rtx.get_mut(idx) {
            s.sent_at = ctx.now;
            s.ever_retrans = true;
        }
        if tlp {
            return;
        }
        if self.rare.retrans_stamp.is_none() {
            self.rare.retrans_stamp = Some(ctx.now);
        }
        if let Some(s) = self.queues.rtx.get_mut(idx)
            && !s.retrans
            && !s.sacked
        {
            s.retrans = true;
            self.recovery.retrans_out += 1;
        }
        if self.ca_state != crate::cc::CaState::Open {
            self.recovery.prr_out += 1;
        }
    }

    /// Linux: tcp_fragment() — splits the queued segment at `idx` after `len` data bytes; the
    /// tail keeps the FIN and PSH and the scoreboard marks.
    pub fn fragment(&mut self, idx: usize, len: u32) {
        let Some(seg) = self.queues.rtx.get_mut(idx) else {
            return;
        };
        let data = seg.data_len();
        if len == 0 || len >= data {
            return;
        }
        let head_end = seg.seq.wrapping_add(u32::from(seg.syn)).wrapping_add(len);
        let mut tail = seg.clone();
        tail.seq = head_end;
        tail.syn = false;
        seg.end_seq = head_end;
        seg.fin = false;
        seg.psh = false;
        // A retransmitted flag covers one packet; the tail is not in flight as a retransmission.
        tail.retrans = false;
        let lost = tail.lost;
        let sacked = tail.sacked;
        self.queues.rtx.insert(idx + 1, tail);
        self.packets_out += 1;
        if lost {
            self.recovery.lost_out += 1;
        }
        if sacked {
            self.recovery.sacked_out += 1;
        }
    }

    /// Linux: tcp_xmit_retransmit_queue() — retransmits segments marked lost, as the
    /// congestion window allows.
    pub fn xmit_retransmit_queue(&mut self, ctx: &mut Ctx<'_>) {
        let mut rearm = false;
        for idx in 0..self.queues.rtx.len() {
            if self.packets_in_flight() >= self.cc.snd_cwnd {
                break;
            }
            let Some(seg) = self.queues.rtx.get(idx) else {
                break;
            };
            if !seg.lost || seg.retrans || seg.sacked {
                continue;
            }
            if idx == 0 {
                rearm = true;
            }
            self.retransmit(ctx, idx);
        }
        if rearm {
            self.rearm_rto(ctx);
        }
    }

    // ---- the transmit slot ----------------------------------------------------------------

    /// Linux: inet_csk_reset_xmit_timer() — arming one kind replaces the other.
    pub fn reset_xmit_timer(&mut self, ctx: &Ctx<'_>, kind: XmitTimer, when: Jiffies) {
        self.xmit_kind = Some(kind);
        self.arm_slot(ctx, Slot::Xmit, when);
    }

    /// Linux: inet_csk_clear_xmit_timer().
    pub fn clear_xmit_timer(&mut self) {
        self.xmit_kind = None;
        self.clear_slot(Slot::Xmit);
    }

    /// Linux: tcp_clamp_rto_to_user_timeout() — the RTO, or what is left of the user timeout.
    pub fn clamp_rto_to_user_timeout(&self, ctx: &Ctx<'_>) -> Jiffies {
        let rto = self.icsk_rto;
        let user_timeout = self.opts.user_timeout_ms;
        let Some(start) = self.rare.retrans_stamp else {
            return rto;
        };
        if user_timeout == 0 {
            return rto;
        }
        let elapsed_ms = (ctx.now - start).as_millis() as i64;
        let remaining = i64::from(user_timeout) - elapsed_ms;
        if remaining <= 0 {
            return 1;
        }
        rto.min(ctx.hz.msecs_to_jiffies(remaining as u64))
    }

    /// Linux: tcp_rearm_rto().
    pub fn rearm_rto(&mut self, ctx: &Ctx<'_>) {
        if self.packets_out == 0 {
            self.clear_xmit_timer();
            return;
        }
        let mut rto = self.clamp_rto_to_user_timeout(ctx);
        if matches!(
            self.xmit_kind,
            Some(XmitTimer::LossProbe | XmitTimer::ReoTimeout)
        ) {
            // Linux: tcp_rto_delta_us() — measured from the head's send time.
            if let Some(head) = self.queues.rtx.front() {
                let elapsed = ctx
                    .hz
                    .usecs_to_jiffies((ctx.now - head.sent_at).as_micros() as u64);
                rto = rto.saturating_sub(elapsed).max(1);
            }
        }
        self.reset_xmit_timer(ctx, XmitTimer::Retrans, rto);
    }

    /// Linux: tcp_check_probe_timer() — nothing in flight, data waiting, no timer: arm PROBE0.
    pub fn check_probe_timer(&mut self, ctx: &Ctx<'_>) {
        if self.packets_out == 0 && self.xmit_kind.is_none() && self.has_unsent() {
            let when = self.probe0_base(ctx);
            self.reset_xmit_timer(ctx, XmitTimer::Probe0, when);
        }
    }

    /// Linux: tcp_probe0_base() — the RTO, at least TCP_RTO_MIN (the backoff is applied by
    /// `probe0_when`).
    pub fn probe0_base(&self, ctx: &Ctx<'_>) -> Jiffies {
        self.icsk_rto.max(ctx.hz.hz_div(5).max(1))
    }
}

/// Linux: TCP_ATO_MIN in jiffies (HZ/25, at least 4 ticks when HZ < 100).
pub fn ato_min(hz: crate::time::Hz) -> Jiffies {
    (u64::from(hz.0) / 25).max(if hz.0 < 100 { 4 } else { 1 })
}
