//! Listening sockets and request sockets (Linux: inet_connection_sock.c reqsk_* and
//! tcp_minisocks.c tcp_check_req()): a SYN on a listener creates a small request record that
//! answers with a SYN-ACK and retransmits it on its own timer; the handshake's final ACK turns
//! it into a full socket in the accept queue. With TCP_DEFER_ACCEPT the listener waits for
//! data: a bare final ACK is dropped and the request lives on until data comes or the deferral
//! runs out.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tcplab_wire::{TcpFlags, TcpOption, TcpRepr};

use crate::addr_pair::AddrPair;
use crate::api::{Fd, TcpState};
use crate::ctx::{Ctx, Output};
use crate::rtt::{TCP_RTO_MAX_MS, TCP_TIMEOUT_INIT_MS};
use crate::socket::{RxOpt, SockOpts};
use crate::time::{Instant, Jiffies};

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    pub fd: Fd,
    pub local: SocketAddr,
    /// Linux: sk_max_ack_backlog — min(backlog, somaxconn).
    pub max_ack_backlog: u32,
    /// Established children waiting for accept(), as connection slab indexes.
    pub accept_queue: VecDeque<usize>,
    /// Request sockets alive (Linux: reqsk_queue_len()).
    pub qlen: u32,
    /// Request sockets that have not timed out yet (Linux: qlen_young).
    pub young: u32,
    pub opts: SockOpts,
    /// SO_SNDBUF / SO_RCVBUF as stored (doubled), inherited by accepted connections.
    pub sndbuf: Option<u32>,
    pub rcvbuf: Option<u32>,
    /// TCP_DEFER_ACCEPT as a count of SYN-ACK timeouts (Linux:
    /// icsk_accept_queue.rskq_defer_accept); 0 is off.
    pub rskq_defer_accept: u8,
}

impl Listener {
    /// Linux: sk_acceptq_is_full().
    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() as u32 > self.max_ack_backlog
    }
}

/// A request socket: a passive connection between SYN and the handshake's last ACK
/// (Linux: struct tcp_request_sock). Kept small like the time-wait record, as a SYN flood
/// makes many: the addresses are packed.
#[derive(Debug)]
pub struct ReqSock {
    pub listener: usize,
    /// (local, remote).
    pub addrs: AddrPair,
    pub iss: u32,
    pub irs: u32,
    pub ts_offset: u32,
    pub rx_opt: RxOpt,
    /// The MSS we advertise.
    pub advmss: u32,
    pub rcv_wnd: u32,
    pub window_clamp: u32,
    /// The peer's window from its SYN (unscaled).
    pub snd_wnd: u32,
    /// SYN-ACK timeouts so far (Linux: num_timeout).
    pub num_timeout: u32,
    /// SYN-ACK retransmissions so far (Linux: num_retrans).
    pub num_retrans: u32,
    /// The final ACK came but was dropped: the accept queue was full, or it was a bare ACK
    /// deferred by TCP_DEFER_ACCEPT (Linux: inet_rsk(req)->acked).
    pub acked: bool,
    /// When the first SYN-ACK was sent (for the handshake RTT sample).
    pub synack_first: Instant,
    /// When the SYN-ACK timer runs.
    pub timer: Option<Instant>,
    /// Its expiry as Linux stores it, which `ss` counts down to.
    pub expires: Option<Instant>,
    /// Its entry in the stack's timer wheel.
    pub armed: Option<crate::wheel::TimerId>,
    /// Jiffies of the last out-of-window reply, meaningful when `oow_ack_sent` (a flag beside
    /// it rather than an `Option`, which would take 16 bytes).
    pub last_oow_ack_time: Jiffies,
    pub oow_ack_sent: bool,
}

impl ReqSock {
    pub fn local(&self) -> SocketAddr {
        self.addrs.local()
    }

    pub fn remote(&self) -> SocketAddr {
        self.addrs.remote()
    }

    /// Linux: __tcp_oow_rate_limited() on the request's last_oow_ack_time.
    pub fn oow_rate_limited(&mut self, ctx: &Ctx<'_>) -> bool {
        let mut last = self.oow_ack_sent.then_some(self.last_oow_ack_time);
        let limited = ctx.oow_rate_limited(&mut last);
        self.oow_ack_sent = last.is_some();
        self.last_oow_ack_time = last.unwrap_or(0);
        limited
    }
    /// Linux: tcp_make_synack() + tcp_v4_send_synack().
    pub fn send_synack(&self, ctx: &mut Ctx<'_>) {
        let tsval = ctx.ts_ms().wrapping_add(self.ts_offset);
        let options = syn_options(
            self.advmss as u16,
            self.rx_opt
                .tstamp_ok
                .then_some((tsval, self.rx_opt.ts_recent)),
            self.rx_opt.sack_ok,
            self.rx_opt.wscale_ok.then_some(self.rx_opt.rcv_wscale),
        );
        let (local, remote) = (self.local(), self.remote());
        let repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq: self.iss,
            ack: self.irs.wrapping_add(1),
            flags: if self.rx_opt.ecn_ok {
                TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE
            } else {
                TcpFlags::SYN | TcpFlags::ACK
            },
            window: self.rcv_wnd.min(65535) as u16,
            checksum: 0,
            urgent: 0,
            options,
            option_padding: Vec::new(),
            payload: &[],
        };
        ctx.out.emit(local, remote, &repr);
    }

    /// Linux: tcp_reqsk_timeout() — `timeout << num_timeout`, capped at TCP_RTO_MAX.
    pub fn timeout(&self, ctx: &Ctx<'_>) -> Jiffies {
        let init = u64::from(ctx.hz.0); // tcp_timeout_init(): 1 s
        let max = ctx.hz.msecs_to_jiffies(u64::from(ctx.sys.tcp_rto_max_ms));
        (init << self.num_timeout.min(31)).min(max)
    }

    /// The state `ss` shows.
    pub fn state(&self) -> TcpState {
        TcpState::SynRecv
    }

    /// Linux: syn_ack_recalc() in net/ipv4/inet_connection_sock.c — at a SYN-ACK timeout,
    /// whether the request expires and whether the SYN-ACK is resent, as `(expire, resend)`.
    ///
    /// Linux: without defer_accept, `expire = num_timeout >= max_syn_ack_retries` and the
    /// SYN-ACK is always resent. With it, `expire = num_timeout >= max_syn_ack_retries &&
    /// (!acked || num_timeout >= rskq_defer_accept)` and `resend = !acked || num_timeout >=
    /// rskq_defer_accept - 1`: "Do not resend while waiting for data after ACK, start to
    /// resend on end of deferring period to give last chance for data or ACK to create
    /// established socket." A deferred request thus outlives tcp_synack_retries when the
    /// deferral is longer.
    pub fn syn_ack_recalc(&self, max_syn_ack_retries: u32, rskq_defer_accept: u8) -> (bool, bool) {
        let defer = u32::from(rskq_defer_accept);
        if defer == 0 {
            return (self.num_timeout >= max_syn_ack_retries, true);
        }
        let expire =
            self.num_timeout >= max_syn_ack_retries && (!self.acked || self.num_timeout >= defer);
        let resend = !self.acked || self.num_timeout >= defer - 1;
        (expire, resend)
    }
}

/// Linux: TCP_TIMEOUT_INIT / HZ and TCP_RTO_MAX / HZ, the seconds TCP_DEFER_ACCEPT is
/// converted with (the constants, not the `tcp_rto_max_ms` sysctl).
const DEFER_TIMEOUT_INIT_SECS: i32 = (TCP_TIMEOUT_INIT_MS / 1000) as i32;
const DEFER_RTO_MAX_SECS: i32 = (TCP_RTO_MAX_MS / 1000) as i32;

/// Linux: secs_to_retrans() in net/ipv4/tcp.c — setsockopt(TCP_DEFER_ACCEPT)'s seconds as the
/// number of SYN-ACK timeouts (1 s, doubling, capped at 120 s) whose sum first reaches them:
/// 0 for `seconds <= 0`, at most 255. So 1 → 1, 3 → 2, 5 → 3, 7 → 3, 8 → 4.
pub fn secs_to_retrans(seconds: i32) -> u8 {
    let mut res: u8 = 0;
    if seconds > 0 {
        let mut timeout = DEFER_TIMEOUT_INIT_SECS;
        let mut period = timeout;
        res = 1;
        while seconds > period && res < 255 {
            res += 1;
            timeout = (timeout << 1).min(DEFER_RTO_MAX_SECS);
            period += timeout;
        }
    }
    res
}

/// Linux: retrans_to_secs() in net/ipv4/tcp.c — what getsockopt(TCP_DEFER_ACCEPT) returns:
/// the sum of the first `retrans` SYN-ACK timeouts in seconds (so 5 reads back as 7).
pub fn retrans_to_secs(retrans: u8) -> i32 {
    let mut period = 0;
    if retrans > 0 {
        let mut timeout = DEFER_TIMEOUT_INIT_SECS;
        period = timeout;
        for _ in 1..retrans {
            timeout = (timeout << 1).min(DEFER_RTO_MAX_SECS);
            period += timeout;
        }
    }
    period
}

/// SYN and SYN-ACK options in Linux's layout (tcp_options_write()):
/// `mss, sackOK, TS val ecr, nop, wscale`, or `mss, nop, nop, TS, nop, wscale` without SACK,
/// or `mss, nop, nop, sackOK, nop, wscale` without timestamps.
pub fn syn_options(
    mss: u16,
    ts: Option<(u32, u32)>,
    sack: bool,
    wscale: Option<u8>,
) -> Vec<TcpOption> {
    let mut opts = Vec::with_capacity(7);
    opts.push(TcpOption::Mss(mss));
    if let Some((tsval, tsecr)) = ts {
        if sack {
            opts.push(TcpOption::SackPermitted);
        } else {
            opts.push(TcpOption::Nop);
            opts.push(TcpOption::Nop);
        }
        opts.push(TcpOption::Timestamps { tsval, tsecr });
    } else if sack {
        opts.push(TcpOption::Nop);
        opts.push(TcpOption::Nop);
        opts.push(TcpOption::SackPermitted);
    }
    if let Some(ws) = wscale {
        opts.push(TcpOption::Nop);
        opts.push(TcpOption::WindowScale(ws));
    }
    opts
}

/// Linux: tcp_v4_send_reset() — the answer to a segment that has no socket: `R` with the
/// segment's ACK as its sequence number, or `R.` acknowledging everything it occupied.
/// Never a reset for a reset.
pub fn send_reset_for(out: &mut Output, local: SocketAddr, remote: SocketAddr, seg: &TcpRepr<'_>) {
    if seg.flags.contains(TcpFlags::RST) {
        return;
    }
    let (seq, ack, flags) = if seg.flags.contains(TcpFlags::ACK) {
        (seg.ack, 0, TcpFlags::RST)
    } else {
        (
            0,
            seg.seq.wrapping_add(seg.seg_len()),
            TcpFlags::RST | TcpFlags::ACK,
        )
    };
    let repr = TcpRepr {
        src_port: local.port(),
        dst_port: remote.port(),
        seq,
        ack,
        flags,
        window: 0,
        checksum: 0,
        urgent: 0,
        options: Vec::new(),
        option_padding: Vec::new(),
        payload: &[],
    };
    out.emit(local, remote, &repr);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts the doc comments name, and their round trip through getsockopt.
    #[test]
    fn defer_accept_seconds_and_timeouts() {
        let counts: Vec<u8> = [-1, 0, 1, 2, 3, 4, 5, 7, 8, 127, 128, 247, 248]
            .into_iter()
            .map(secs_to_retrans)
            .collect();
        assert_eq!(counts, [0, 0, 1, 2, 2, 3, 3, 3, 4, 7, 8, 8, 9]);
        assert_eq!(secs_to_retrans(i32::MAX), 255);
        assert_eq!(retrans_to_secs(0), 0);
        assert_eq!(retrans_to_secs(3), 7);
        assert_eq!(retrans_to_secs(8), 127 + 120);
        assert_eq!(retrans_to_secs(255), 127 + 120 * 248);
    }
}
