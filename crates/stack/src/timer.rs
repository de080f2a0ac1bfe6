//! What each timer slot does when it fires (Linux: net/ipv4/tcp_timer.c).
//!
//! The stack keeps every deadline in one timer wheel (`crate::wheel`); a socket keeps the deadline of each of its
//! three slots in `Sock::slots` and the kind of the transmit slot in `Sock::xmit_kind`.

use tcplab_wire::TcpFlags;

use crate::api::{Event, TcpState};
use crate::cc::{CaEvent, CaState};
use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::output::ato_min;
use crate::rtt::tcp_model_timeout;
use crate::socket::{ICSK_ACK_TIMER, Slot, Sock, XmitTimer};
use crate::time::{Instant, Jiffies};

/// What the stack must do with a socket after a timer or an input ran.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Disposition {
    Keep,
    /// The socket reached CLOSE: free it (and its descriptor's state if orphaned).
    Done,
    /// An orphan reached TIME_WAIT or FIN_WAIT2's short half: replace it with a time-wait
    /// record with this substate and lifetime.
    TimeWait {
        substate: TcpState,
        timeout: Jiffies,
    },
}

impl Sock {
    /// Moves to `to` and tells the application.
    pub fn set_state(&mut self, ctx: &mut Ctx<'_>, to: TcpState) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        ctx.out.event(self.fd, Event::StateChanged { from, to });
        ctx.out.trace(crate::api::Trace::State {
            local: self.local,
            remote: self.remote,
            from,
            to,
        });
    }

    /// Linux: tcp_done() — CLOSE, timers stopped, queues purged; no RST is sent here.
    pub fn done(&mut self, ctx: &mut Ctx<'_>) -> Disposition {
        self.set_state(ctx, TcpState::Close);
        self.clear_slots();
        self.xmit_kind = None;
        self.rcv_shutdown = true;
        self.snd_shutdown = true;
        self.queues.rtx.clear();
        self.packets_out = 0;
        self.recovery.if_present(|r| {
            r.sacked_out = 0;
            r.lost_out = 0;
            r.retrans_out = 0;
        });
        ctx.out.event(self.fd, Event::Readable);
        Disposition::Done
    }

    /// Linux: tcp_done_with_error() / tcp_write_err().
    pub fn done_with_error(&mut self, ctx: &mut Ctx<'_>, err: Errno) -> Disposition {
        self.rare.sk_err = Some(err);
        ctx.out.event(self.fd, Event::Error(err));
        self.done(ctx)
    }

    /// Runs whatever slot is due at `ctx.now`.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>, slot: Slot) -> Disposition {
        // Linux reads icsk_timeout (the nominal expiry) in some handlers.
        let expired_at = self.expires[slot as usize];
        self.clear_slot(slot);
        if ctx.out.tracing {
            use crate::api::TimerName;
            let (timer, count) = match slot {
                Slot::Xmit => match self.xmit_kind {
                    Some(XmitTimer::Retrans) => (TimerName::Retransmit, self.icsk_retransmits),
                    Some(XmitTimer::LossProbe) => (TimerName::LossProbe, self.icsk_retransmits),
                    Some(XmitTimer::Probe0) => (TimerName::ZeroWindowProbe, self.icsk_probes_out),
                    Some(XmitTimer::ReoTimeout) => {
                        (TimerName::ReorderTimeout, self.icsk_retransmits)
                    }
                    None => (TimerName::Retransmit, self.icsk_retransmits),
                },
                Slot::DelAck => (TimerName::DelayedAck, 0),
                Slot::Sk => (TimerName::Keepalive, self.icsk_probes_out),
            };
            ctx.out.trace(crate::api::Trace::Timer {
                local: self.local,
                remote: self.remote,
                timer,
                count,
            });
        }
        match slot {
            Slot::Xmit => {
                let kind = self.xmit_kind.take();
                match kind {
                    Some(XmitTimer::Retrans) => self.retransmit_timer(ctx, expired_at),
                    Some(XmitTimer::Probe0) => self.probe_timer(ctx),
                    Some(XmitTimer::LossProbe) => {
                        // Linux: the pending kind stays set while the probe runs, so that
                        // tcp_rearm_rto() can measure from the head's send time if no probe goes.
                        self.xmit_kind = Some(XmitTimer::LossProbe);
                        self.send_loss_probe(ctx);
                        Disposition::Keep
                    }
                    Some(XmitTimer::ReoTimeout) => {
                        self.xmit_kind = Some(XmitTimer::ReoTimeout);
                        self.rack_reo_timeout(ctx);
                        Disposition::Keep
                    }
                    None => Disposition::Keep,
                }
            }
            Slot::DelAck => {
                self.delack_timer(ctx);
                Disposition::Keep
            }
            Slot::Sk => self.keepalive_timer(ctx),
        }
    }

    /// Linux: tcp_rto_max().
    pub fn rto_max(&self, ctx: &Ctx<'_>) -> Jiffies {
        ctx.hz.msecs_to_jiffies(u64::from(ctx.sys.tcp_rto_max_ms))
    }

    /// Linux: retransmits_timed_out().
    fn retransmits_timed_out(&self, ctx: &Ctx<'_>, boundary: u32, user_timeout_ms: u32) -> bool {
        if self.icsk_retransmits == 0 {
            return false;
        }
        let Some(start) = self.rare.retrans_stamp else {
            return false;
        };
        let timeout_ms = if user_timeout_ms == 0 {
            let rto_base_ms = if matches!(self.state, TcpState::SynSent | TcpState::SynRecv) {
                1000 // tcp_timeout_init()
            } else {
                200 // TCP_RTO_MIN
            };
            tcp_model_timeout(boundary, rto_base_ms, u64::from(ctx.sys.tcp_rto_max_ms))
        } else {
            u64::from(user_timeout_ms)
        };
        // The TCP timestamp clock counts milliseconds.
        let elapsed_ms = ctx.ts_ms().wrapping_sub(start.as_millis() as u32);
        (elapsed_ms.wrapping_sub(timeout_ms as u32) as i32) >= 0
    }

    /// Linux: tcp_orphan_retries().
    fn orphan_retries(&self, ctx: &Ctx<'_>, alive: bool) -> u32 {
        let retries = u32::from(ctx.sys.tcp_orphan_retries);
        if retries == 0 && alive { 8 } else { retries }
    }

    /// Linux: tcp_write_timeout(). Returns true when the connection was given up.
    fn write_timeout(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mut expired = false;
        let retry_until;
        if matches!(self.state, TcpState::SynSent | TcpState::SynRecv) {
            let syn_retries = if self.opts.syncnt != 0 {
                self.opts.syncnt
            } else {
                ctx.sys.tcp_syn_retries
            };
            retry_until = u32::from(syn_retries);
            let mut max_retransmits = retry_until;
            if self.state == TcpState::SynSent {
                max_retransmits += u32::from(ctx.sys.tcp_syn_linear_timeouts);
            }
            expired = self.icsk_retransmits >= max_retransmits;
        } else {
            if self.retransmits_timed_out(ctx, u32::from(ctx.sys.tcp_retries1), 0) {
                // Linux: tcp_mtu_probing() and __dst_negative_advice(). tcplab has no routes;
                // the event shows where Linux would refresh the route.
                ctx.out.trace(crate::api::Trace::Note {
                    local: self.local,
                    remote: self.remote,
                    what: "tcp_retries1 passed: route refresh (__dst_negative_advice)",
                });
            }
            let mut until = u32::from(ctx.sys.tcp_retries2);
            if self.is_orphan() {
                let alive = self.icsk_rto < self.rto_max(ctx);
                until = self.orphan_retries(ctx, alive);
                let do_reset = alive || !self.retransmits_timed_out(ctx, until, 0);
                if self.out_of_resources(ctx, do_reset).is_some() {
                    return true;
                }
            }
            retry_until = until;
        }
        if !expired {
            expired = self.retransmits_timed_out(ctx, retry_until, self.opts.user_timeout_ms);
        }
        if expired {
            let err = Errno::ETIMEDOUT;
            self.done_with_error(ctx, err);
        }
        expired
    }

    /// Linux: tcp_enter_loss().
    pub fn enter_loss(&mut self, ctx: &mut Ctx<'_>) {
        // tcp_timeout_mark_lost(): everything not SACKed is lost, and no retransmission counts;
        // if the head is SACKed the receiver reneged, and the SACK marks are forgotten too.
        let reneged = self.queues.rtx.front().is_some_and(|s| s.sacked);
        if reneged {
            for seg in self.queues.rtx.iter_mut() {
                seg.sacked = false;
            }
            self.recovery.sacked_out = 0;
        }
        for seg in self.queues.rtx.iter_mut() {
            seg.retrans = false;
            if !seg.sacked {
                seg.lost = true;
            }
        }
        self.recovery.retrans_out = 0;
        self.recovery.lost_out = self
            .queues
            .rtx
            .iter()
            .filter(|s| s.lost && !s.sacked)
            .count() as u32;
        let first_in_window = matches!(self.ca_state, CaState::Open | CaState::Disorder)
            || !crate::seq::after(self.recovery.high_seq, self.snd_una)
            || (self.ca_state == CaState::Loss && self.icsk_retransmits == 0);
        if first_in_window {
            self.recovery.prior_cwnd = self.cc.snd_cwnd;
            self.cc.snd_ssthresh = self.ca.ssthresh(&self.cc);
            self.ca.cwnd_event(&self.cc, CaEvent::Loss, ctx.now);
        }
        self.cc.snd_cwnd = self.packets_in_flight() + 1;
        self.cc.snd_cwnd_cnt = 0;
        self.set_ca_state(CaState::Loss, ctx.now);
        self.recovery.high_seq = self.snd_nxt;
        self.recovery.dupacks = 0;
    }

    pub fn set_ca_state(&mut self, st: CaState, now: crate::time::Instant) {
        if self.ca_state != st {
            self.ca.set_state(&self.cc, st, now);
            self.ca_state = st;
        }
    }

    /// Linux: tcp_retransmit_timer(); `expired_at` is the timer's nominal expiry.
    fn retransmit_timer(&mut self, ctx: &mut Ctx<'_>, expired_at: Option<Instant>) -> Disposition {
        if self.packets_out == 0 || self.queues.rtx.is_empty() {
            return Disposition::Keep;
        }
        // Linux: an RTO ends any loss-probe episode.
        self.recovery.tlp_high_seq = None;
        if self.snd_wnd == 0
            && !self.is_orphan()
            && !matches!(self.state, TcpState::SynSent | TcpState::SynRecv)
        {
            // The peer shrank its window to zero under data in flight: the retransmissions
            // act as window probes and retries2 does not apply; only silence for 2·rto_max
            // (or TCP_USER_TIMEOUT) ends the connection (Linux: tcp_rtx_probe0_timed_out()).
            if self.rtx_probe0_timed_out(ctx, expired_at) {
                return self.done_with_error(ctx, Errno::ETIMEDOUT);
            }
            self.enter_loss(ctx);
            self.retransmit(ctx, 0);
            self.backoff_and_rearm(ctx);
            return Disposition::Keep;
        }
        if self.write_timeout(ctx) {
            return Disposition::Done;
        }
        self.enter_loss(ctx);
        // Linux: tcp_update_rto_stats().
        self.icsk_retransmits += 1;
        self.rare.total_rto += 1;
        self.retransmit(ctx, 0);
        self.backoff_and_rearm(ctx);
        Disposition::Keep
    }

    /// Linux: the `out_reset_timer` tail of tcp_retransmit_timer().
    fn backoff_and_rearm(&mut self, ctx: &Ctx<'_>) {
        let linear_syn = self.state == TcpState::SynSent
            && self.rare.total_rto <= u32::from(ctx.sys.tcp_syn_linear_timeouts);
        // Linux: tcp_stream_is_thin() — fewer than 4 packets out, past initial slow start.
        let thin = self.packets_out < 4 && !self.cc.in_initial_slowstart();
        if self.state == TcpState::Established
            && ctx.sys.tcp_thin_linear_timeouts != 0
            && thin
            && self.icsk_retransmits <= 6
        {
            // TCP_THIN_LINEAR_RETRIES: the RTO stays at srtt + rttvar for thin streams.
            self.icsk_backoff = 0;
            let rto = if self.rtt.has_sample() {
                self.rtt.rto(ctx.hz, ctx.sys.tcp_rto_max_ms)
            } else {
                self.icsk_rto
            };
            let rto_min = ctx.hz.usecs_to_jiffies(u64::from(ctx.sys.tcp_rto_min_us));
            self.icsk_rto = rto.clamp(rto_min, self.rto_max(ctx).max(rto_min));
        } else if !linear_syn {
            self.icsk_backoff += 1;
            self.icsk_rto = (self.icsk_rto << 1).min(self.rto_max(ctx));
        }
        let when = self.clamp_rto_to_user_timeout(ctx);
        self.reset_xmit_timer(ctx, XmitTimer::Retrans, when);
    }

    /// Linux: tcp_rtx_probe0_timed_out() — nothing heard for more than 2·rto_max (or the user
    /// timeout) and retransmitting for longer than that.
    fn rtx_probe0_timed_out(&self, ctx: &Ctx<'_>, expired_at: Option<Instant>) -> bool {
        let start = self
            .rare
            .retrans_stamp
            .or_else(|| self.queues.rtx.front().map(|s| s.sent_at))
            .unwrap_or(ctx.now);
        let rtx_delta_ms = (ctx.now - start).as_millis() as u64;
        let mut timeout = 2 * self.rto_max(ctx);
        let user_timeout = u64::from(self.opts.user_timeout_ms);
        if user_timeout != 0 {
            if rtx_delta_ms > user_timeout {
                return true;
            }
            timeout = timeout.min(ctx.hz.msecs_to_jiffies(user_timeout));
        }
        let expired_at = expired_at.unwrap_or(ctx.now);
        let last_rcv = self.stats.last_ack_recv;
        let rcv_delta = ctx
            .hz
            .jiffies_at(expired_at)
            .saturating_sub(ctx.hz.jiffies_at(last_rcv));
        if rcv_delta <= timeout {
            return false;
        }
        ctx.hz.msecs_to_jiffies(rtx_delta_ms) > timeout
    }

    /// Linux: tcp_probe_timer() — a zero-window probe, with the limits Linux puts on probing:
    /// TCP_USER_TIMEOUT measured from the first probe, `tcp_retries2` unanswered probes, and
    /// for orphans `tcp_orphan_retries` and the out-of-resources check.
    fn probe_timer(&mut self, ctx: &mut Ctx<'_>) -> Disposition {
        if self.packets_out > 0 || !self.has_unsent() {
            self.icsk_probes_out = 0;
            self.rare.probes_tstamp = None;
            return Disposition::Keep;
        }
        match self.rare.probes_tstamp {
            None => self.rare.probes_tstamp = Some(ctx.now),
            Some(start) => {
                let user_timeout = self.opts.user_timeout_ms;
                if user_timeout != 0
                    && ctx.hz.jiffies_at(ctx.now) - ctx.hz.jiffies_at(start)
                        >= ctx.hz.msecs_to_jiffies(u64::from(user_timeout))
                {
                    return self.done_with_error(ctx, Errno::ETIMEDOUT);
                }
            }
        }
        let mut max_probes = u32::from(ctx.sys.tcp_retries2);
        if self.is_orphan() {
            let rto_max = self.rto_max(ctx);
            let backed_off = (self.icsk_rto << self.icsk_backoff.min(63)).min(rto_max);
            let alive = backed_off < rto_max;
            max_probes = self.orphan_retries(ctx, alive);
            if !alive && self.icsk_backoff >= max_probes {
                return self.done_with_error(ctx, Errno::ETIMEDOUT);
            }
            if let Some(d) = self.out_of_resources(ctx, true) {
                return d;
            }
        }
        if self.icsk_probes_out >= max_probes {
            return self.done_with_error(ctx, Errno::ETIMEDOUT);
        }
        self.send_probe0(ctx);
        Disposition::Keep
    }

    /// Linux: tcp_send_probe0().
    fn send_probe0(&mut self, ctx: &mut Ctx<'_>) {
        self.write_wakeup(ctx);
        if self.packets_out > 0 || !self.has_unsent() {
            // Data went out (the window had room): the RTO takes over.
            self.icsk_probes_out = 0;
            self.icsk_backoff = 0;
            self.rare.probes_tstamp = None;
            return;
        }
        self.icsk_probes_out += 1;
        if self.icsk_backoff < u32::from(ctx.sys.tcp_retries2) {
            self.icsk_backoff += 1;
        }
        let when = self.probe0_when(ctx);
        let when = self.clamp_probe0_to_user_timeout(ctx, when);
        self.reset_xmit_timer(ctx, XmitTimer::Probe0, when);
    }

    /// Linux: tcp_probe0_when() — the base (RTO, at least TCP_RTO_MIN) shifted by a backoff
    /// capped at ilog2(TCP_RTO_MAX/TCP_RTO_MIN)+1, and at most rto_max.
    pub fn probe0_when(&self, ctx: &Ctx<'_>) -> Jiffies {
        let backoff = self.icsk_backoff.min(10);
        (self.probe0_base(ctx) << backoff).min(self.rto_max(ctx))
    }

    /// Linux: tcp_clamp_probe0_to_user_timeout().
    pub fn clamp_probe0_to_user_timeout(&self, ctx: &Ctx<'_>, when: Jiffies) -> Jiffies {
        let user_timeout = self.opts.user_timeout_ms;
        let Some(start) = self.rare.probes_tstamp.filter(|_| user_timeout != 0) else {
            return when;
        };
        let elapsed = ctx.hz.jiffies_at(ctx.now) - ctx.hz.jiffies_at(start);
        let limit = ctx.hz.msecs_to_jiffies(u64::from(user_timeout));
        let remaining = limit.saturating_sub(elapsed).max(2); // TCP_TIMEOUT_MIN
        when.min(remaining)
    }

    /// Linux: tcp_write_wakeup() — send what the window allows of the next segment (PSH set),
    /// or else a probe at SND.UNA−1.
    pub fn write_wakeup(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == TcpState::Close {
            return;
        }
        let start = crate::seq::seq_max(self.snd_nxt, self.sndbuf_seq);
        let wnd_end = self.snd_una.wrapping_add(self.snd_wnd);
        if self.has_unsent() && crate::seq::before(start, wnd_end) {
            let mss = self.current_mss(ctx);
            let room = wnd_end.wrapping_sub(start);
            let len = self.unsent_bytes().min(room).min(mss);
            let fin = self.fin_queued && !self.fin_sent() && len == self.unsent_bytes();
            // The send head skb (MSS chunks from the first unsent byte, the FIN on the last).
            let head_len = self.unsent_bytes().min(mss);
            let head_fin = self.fin_queued && head_len == self.unsent_bytes();
            let head_end = start
                .wrapping_add(head_len)
                .wrapping_add(u32::from(head_fin));
            if crate::seq::before(self.pushed_seq, head_end) {
                self.pushed_seq = head_end;
            }
            if len < head_len {
                // Linux: PSH is set on the skb before tcp_fragment(), which hands the flags to
                // the second part too.
                self.insert_push_mark(start.wrapping_add(head_len));
            }
            let mut flags = TcpFlags::ACK | TcpFlags::PSH;
            if fin {
                flags.insert(TcpFlags::FIN);
            }
            if self.transmit(ctx, start, flags, len) {
                self.queue_sent(ctx, start, len, fin, true);
            }
            return;
        }
        self.send_window_probe(ctx);
    }

    /// Linux: tcp_out_of_resources() — too many orphans (or a long-silent one): give up now,
    /// with a reset when the peer may still be there.
    pub fn out_of_resources(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut do_reset: bool,
    ) -> Option<Disposition> {
        let idle = ctx
            .jiffies()
            .saturating_sub(ctx.hz.jiffies_at(self.stats.lsndtime));
        let rto_max = ctx.hz.msecs_to_jiffies(120_000);
        let mut shift = 0;
        if idle > 2 * rto_max || !do_reset {
            shift += 1;
        }
        // Linux: tcp_too_many_orphans().
        let too_many =
            u64::from(ctx.out.orphan_cache) << shift > u64::from(ctx.sys.tcp_max_orphans);
        if !too_many {
            return None;
        }
        if idle <= crate::timewait::timewait_len(ctx.hz)
            || (self.snd_wnd == 0 && self.packets_out == 0)
        {
            do_reset = true;
        }
        if do_reset {
            self.send_active_reset(ctx);
        }
        Some(self.done(ctx))
    }

    /// Linux: tcp_xmit_probe_skb() — a segment at SND.UNA−1 with no data, which the peer must
    /// answer with an ACK carrying its window.
    pub fn send_window_probe(&mut self, ctx: &mut Ctx<'_>) {
        let seq = self.snd_una.wrapping_sub(1);
        self.transmit(ctx, seq, TcpFlags::ACK, 0);
    }

    /// Linux: tcp_delack_timer_handler().
    fn delack_timer(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(self.state, TcpState::Close | TcpState::Listen) {
            return;
        }
        if self.ack.pending & ICSK_ACK_TIMER == 0 {
            return;
        }
        if self.ack_scheduled() {
            let thresh = ctx.sys.tcp_pingpong_thresh;
            if !self.in_pingpong(thresh) {
                // Delayed ACK missed: inflate ATO, capped at the RTO and at 200 ms.
                let cap = self.icsk_rto.min(ctx.hz.hz_div(5));
                self.ack.ato = (self.ack.ato << 1).min(cap);
            } else {
                self.ack.pingpong = 0;
                self.ack.ato = ato_min(ctx.hz);
            }
            self.send_ack(ctx);
        }
    }

    /// Linux: tcp_keepalive_timer() for a full socket: keepalive probes, and the long half of
    /// an orphaned FIN_WAIT2.
    fn keepalive_timer(&mut self, ctx: &mut Ctx<'_>) -> Disposition {
        if self.state == TcpState::FinWait2 && self.is_orphan() {
            let fin_time = self.fin_time(ctx);
            let twlen = ctx.hz.0 as u64 * 60;
            if fin_time > twlen {
                return Disposition::TimeWait {
                    substate: TcpState::FinWait2,
                    timeout: fin_time - twlen,
                };
            }
            self.send_active_reset(ctx);
            return self.done(ctx);
        }
        if !self.opts.keepalive || matches!(self.state, TcpState::Close | TcpState::SynSent) {
            return Disposition::Keep;
        }
        let keepidle = self.keepalive_time(ctx);
        let intvl = self.keepalive_intvl(ctx);
        let probes = self
            .opts
            .keepcnt()
            .unwrap_or(u32::from(ctx.sys.tcp_keepalive_probes));
        // Linux: only probe when nothing is in flight and nothing waits to be sent.
        if self.packets_out > 0 || self.has_unsent() {
            self.reset_keepalive(ctx, keepidle);
            return Disposition::Keep;
        }
        let elapsed = self.keepalive_time_elapsed(ctx);
        if elapsed >= keepidle {
            let user_timeout = self.opts.user_timeout_ms;
            let give_up = if user_timeout != 0 {
                elapsed >= ctx.hz.msecs_to_jiffies(u64::from(user_timeout))
                    && self.icsk_probes_out > 0
            } else {
                self.icsk_probes_out >= probes
            };
            if give_up {
                self.send_active_reset(ctx);
                return self.done_with_error(ctx, Errno::ETIMEDOUT);
            }
            self.send_window_probe(ctx);
            self.icsk_probes_out += 1;
            self.reset_keepalive(ctx, intvl);
        } else {
            self.reset_keepalive(ctx, keepidle - elapsed);
        }
        Disposition::Keep
    }

    /// Linux: keepalive_time_when().
    pub fn keepalive_time(&self, ctx: &Ctx<'_>) -> Jiffies {
        let secs = self.opts.keepidle().unwrap_or(ctx.sys.tcp_keepalive_time);
        u64::from(secs) * u64::from(ctx.hz.0)
    }

    /// Linux: keepalive_intvl_when().
    pub fn keepalive_intvl(&self, ctx: &Ctx<'_>) -> Jiffies {
        let secs = self.opts.keepintvl().unwrap_or(ctx.sys.tcp_keepalive_intvl);
        u64::from(secs) * u64::from(ctx.hz.0)
    }

    /// Linux: keepalive_time_elapsed() — idle time since the last segment received.
    fn keepalive_time_elapsed(&self, ctx: &Ctx<'_>) -> Jiffies {
        let last = self.stats.last_ack_recv.max(self.stats.last_data_recv);
        ctx.hz
            .jiffies_at(ctx.now)
            .saturating_sub(ctx.hz.jiffies_at(last))
    }

    /// Linux: tcp_reset_keepalive_timer().
    pub fn reset_keepalive(&mut self, ctx: &Ctx<'_>, when: Jiffies) {
        self.arm_slot(ctx, Slot::Sk, when);
    }

    /// Linux: tcp_fin_time() — the orphaned FIN_WAIT2 lifetime, at least 3.5·RTO.
    pub fn fin_time(&self, ctx: &Ctx<'_>) -> Jiffies {
        let fin_timeout = if self.opts.linger2 > 0 {
            u64::from(self.opts.linger2.unsigned_abs()) * u64::from(ctx.hz.0)
        } else {
            u64::from(ctx.sys.tcp_fin_timeout) * u64::from(ctx.hz.0)
        };
        let rto = self.icsk_rto;
        fin_timeout.max((rto << 2) - (rto >> 1))
    }
}
