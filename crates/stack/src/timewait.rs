//! Time-wait records (Linux: struct inet_timewait_sock / tcp_timewait_sock and
//! tcp_timewait_state_process() in net/ipv4/tcp_minisocks.c): what is left of a connection in
//! TIME_WAIT, or of an orphan in FIN_WAIT2 when its timeout is short, far smaller than a full
//! socket.

use std::net::SocketAddr;

use tcplab_wire::{TcpFlags, TcpOption, TcpRepr};

use crate::addr_pair::AddrPair;
use crate::api::TcpState;
use crate::ctx::Ctx;
use crate::seq::{after, before};
use crate::time::{Instant, Jiffies};

/// Linux: ktime_get_seconds(), the clock of `ts_recent_stamp` (seconds since boot, 32 bits
/// as the time-wait record keeps them).
pub fn clock_secs(now: Instant) -> u32 {
    (now.as_millis() / 1000) as u32
}

/// Linux: tcp_clock_ms() truncated to the 32 bits of `tw_entry_stamp`.
pub fn clock_ms(now: Instant) -> u32 {
    now.as_millis() as u32
}

/// The latest jiffy at or before `now` whose low 32 bits are `low`: what a 32-bit jiffies
/// stamp stood for, within the 2^32 jiffies Linux's own 32-bit comparisons cover.
fn widen_jiffies(now: Jiffies, low: u32) -> Jiffies {
    now.saturating_sub(u64::from((now as u32).wrapping_sub(low)))
}

/// Linux: TCP_TIMEWAIT_LEN in jiffies.
pub fn timewait_len(hz: crate::time::Hz) -> Jiffies {
    u64::from(hz.0) * 60
}

/// A time-wait record. A million of them can be alive at once, so it is kept small: the
/// addresses are packed, and the fields are as Linux keeps them or as wide as their range
/// needs (`size_of` is guarded by a test in tests/record_sizes.rs).
#[derive(Debug, Clone)]
pub struct TwSock {
    /// (local, remote).
    pub addrs: AddrPair,
    /// TIME_WAIT or FIN_WAIT2 (Linux: tw_substate).
    pub substate: TcpState,
    pub snd_nxt: u32,
    pub rcv_nxt: u32,
    pub rcv_wnd: u32,
    pub rcv_wscale: u8,
    pub tstamp_ok: bool,
    pub ts_recent: u32,
    /// Seconds since boot when `ts_recent` was recorded, as Linux keeps it
    /// (`tw_ts_recent_stamp`, from ktime_get_seconds()).
    pub ts_recent_stamp: u32,
    pub ts_offset: u32,
    /// Its expiry as Linux stores it, which `ss` counts down to.
    pub expires: Instant,
    /// Its entry in the stack's timer wheel, which holds when the timer runs.
    pub armed: Option<crate::wheel::TimerId>,
    /// Whether a segment re-armed the timer, and whether `last_oow_ack_time` is set.
    pub flags: TwFlags,
    /// Milliseconds since boot when the record was created, as Linux keeps it
    /// (`tw_entry_stamp`, from tcp_clock_ms()); `tcp_tw_reuse_delay` is measured from it.
    pub entry_stamp: u32,
    /// The low 32 bits of the jiffies of the last out-of-window ACK, as Linux keeps them
    /// (`tw_last_oow_ack_time`), meaningful when [`TwFlags::oow_ack_sent`]: a flag beside it
    /// rather than an `Option`, which would take 8 bytes.
    pub last_oow_ack_time: u32,
}

/// A time-wait record's two flags in one byte, which keeps the record at 64 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwFlags(u8);

impl TwFlags {
    /// A segment re-armed the timer (a new `expires`): the stack moves the wheel entry.
    const REARMED: u8 = 1;
    /// `last_oow_ack_time` holds the time of an out-of-window ACK.
    const OOW_ACK_SENT: u8 = 2;

    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }

    /// Whether the timer was re-armed since the last call, clearing the flag.
    pub fn take_rearmed(&mut self) -> bool {
        let was = self.0 & Self::REARMED != 0;
        self.set(Self::REARMED, false);
        was
    }

    pub fn oow_ack_sent(self) -> bool {
        self.0 & Self::OOW_ACK_SENT != 0
    }
}

/// What the stack does with a segment that hit a time-wait record (Linux: enum tcp_tw_status).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TwStatus {
    /// Consumed (possibly after re-arming the timer or answering with an ACK).
    Success,
    /// Answer with a reset built from the segment.
    Rst,
    /// The record is gone (assassinated by a RST, RFC 1337).
    Kill,
    /// A new SYN may reuse the 4-tuple: hand it to the listener with this ISN.
    Syn(u32),
}

impl TwSock {
    pub fn local(&self) -> SocketAddr {
        self.addrs.local()
    }

    pub fn remote(&self) -> SocketAddr {
        self.addrs.remote()
    }

    /// Linux: tcp_timewait_state_process().
    pub fn process(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>) -> TwStatus {
        let flags = seg.flags;
        let seq = seg.seq;
        let end_seq = seq.wrapping_add(seg.seg_len());
        let ts = if self.tstamp_ok {
            seg.timestamps()
        } else {
            None
        };
        let paws_reject = match ts {
            Some((tsval, _)) if !flags.contains(TcpFlags::RST) => {
                (self.ts_recent.wrapping_sub(tsval) as i32) > 0
            }
            _ => false,
        };
        if self.substate == TcpState::FinWait2 {
            let in_window = !before(end_seq, self.rcv_nxt)
                && !after(seq, self.rcv_nxt.wrapping_add(self.rcv_wnd));
            if paws_reject || !in_window {
                self.oow_ack(ctx, seg);
                return TwStatus::Success;
            }
            if flags.contains(TcpFlags::RST) {
                return TwStatus::Kill;
            }
            if flags.contains(TcpFlags::SYN) && !before(seq, self.rcv_nxt) {
                return TwStatus::Rst;
            }
            if !flags.contains(TcpFlags::ACK) || !after(end_seq, self.rcv_nxt) || end_seq == seq {
                return TwStatus::Success;
            }
            // New data after a half-duplex close is reset; a FIN completes the close.
            if !flags.contains(TcpFlags::FIN) || end_seq != self.rcv_nxt.wrapping_add(1) {
                return TwStatus::Rst;
            }
            self.substate = TcpState::TimeWait;
            ctx.out.trace(crate::api::Trace::State {
                local: self.local(),
                remote: self.remote(),
                from: TcpState::FinWait2,
                to: TcpState::TimeWait,
            });
            self.rcv_nxt = end_seq;
            if let Some((tsval, _)) = ts {
                self.ts_recent = tsval;
                self.ts_recent_stamp = clock_secs(ctx.now);
            }
            self.rearm(ctx);
            self.send_ack(ctx);
            return TwStatus::Success;
        }
        // The real TIME_WAIT.
        if !paws_reject && seq == self.rcv_nxt && (seq == end_seq || flags.contains(TcpFlags::RST))
        {
            if flags.contains(TcpFlags::RST) {
                if ctx.sys.tcp_rfc1337 == 0 {
                    return TwStatus::Kill;
                }
            } else {
                self.rearm(ctx);
            }
            if let Some((tsval, _)) = ts {
                self.ts_recent = tsval;
                self.ts_recent_stamp = clock_secs(ctx.now);
            }
            return TwStatus::Success;
        }
        if flags.contains(TcpFlags::SYN)
            && !flags.intersects(TcpFlags::RST | TcpFlags::ACK)
            && !paws_reject
            && (after(seq, self.rcv_nxt)
                || ts.is_some_and(|(tsval, _)| (self.ts_recent.wrapping_sub(tsval) as i32) < 0))
        {
            let mut isn = self.snd_nxt.wrapping_add(65535 + 2);
            if isn == 0 {
                isn = 1;
            }
            return TwStatus::Syn(isn);
        }
        if !flags.contains(TcpFlags::RST) {
            if paws_reject || flags.contains(TcpFlags::ACK) {
                self.rearm(ctx);
            }
            self.oow_ack(ctx, seg);
        }
        TwStatus::Success
    }

    /// Linux: inet_twsk_reschedule(tw, TCP_TIMEWAIT_LEN).
    fn rearm(&mut self, ctx: &Ctx<'_>) {
        self.expires = ctx.expires(timewait_len(ctx.hz));
        self.flags.set(TwFlags::REARMED, true);
    }

    /// Linux: tcp_timewait_check_oow_rate_limit() then tcp_v4_timewait_ack().
    fn oow_ack(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr<'_>) {
        let data_no_syn = seg.seg_len() > 0 && !seg.flags.contains(TcpFlags::SYN);
        if !data_no_syn {
            let now = ctx.jiffies();
            let mut last = self
                .flags
                .oow_ack_sent()
                .then(|| widen_jiffies(now, self.last_oow_ack_time));
            let limited = ctx.oow_rate_limited(&mut last);
            self.flags.set(TwFlags::OOW_ACK_SENT, last.is_some());
            self.last_oow_ack_time = last.unwrap_or(0) as u32;
            if limited {
                return;
            }
        }
        self.send_ack(ctx);
    }

    /// Linux: tcp_v4_timewait_ack().
    pub fn send_ack(&self, ctx: &mut Ctx<'_>) {
        let mut options = Vec::new();
        if self.tstamp_ok {
            options.push(TcpOption::Nop);
            options.push(TcpOption::Nop);
            options.push(TcpOption::Timestamps {
                tsval: ctx.ts_ms().wrapping_add(self.ts_offset),
                tsecr: self.ts_recent,
            });
        }
        let (local, remote) = (self.local(), self.remote());
        let repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq: self.snd_nxt,
            ack: self.rcv_nxt,
            flags: TcpFlags::ACK,
            window: (self.rcv_wnd >> self.rcv_wscale).min(65535) as u16,
            checksum: 0,
            urgent: 0,
            options,
            option_padding: Vec::new(),
            payload: &[],
        };
        ctx.out.emit(local, remote, &repr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_32_bit_jiffies_stamp_widens_to_the_latest_jiffy_with_those_bits() {
        assert_eq!(widen_jiffies(1000, 990), 990);
        assert_eq!(widen_jiffies(1000, 1000), 1000);
        // Past a wrap of the low 32 bits.
        let now = (1u64 << 32) + 5;
        assert_eq!(widen_jiffies(now, u32::MAX - 1), (1 << 32) - 2);
        assert_eq!(widen_jiffies(now, 3), (1 << 32) + 3);
        // A stamp that would lie before jiffy 0 stops there.
        assert_eq!(widen_jiffies(5, 7), 0);
    }

    #[test]
    fn the_clocks_truncate_as_linux_keeps_them() {
        let t = Instant::from_micros(12_345_678);
        assert_eq!(clock_secs(t), 12);
        assert_eq!(clock_ms(t), 12_345);
    }
}
