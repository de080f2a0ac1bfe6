//! Listening sockets and request sockets (Linux: inet_connection_sock.c reqsk_* and
//! tcp_minisocks.c tcp_check_req()): a SYN on a listener creates a small request record that
//! answers with a SYN-ACK and retransmits it on its own timer; the handshake's final ACK turns
//! it into a full socket in the accept queue.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tcplab_wire::{TcpFlags, TcpOption, TcpRepr};

use crate::api::{Fd, TcpState};
use crate::ctx::{Ctx, Output};
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
}

impl Listener {
    /// Linux: sk_acceptq_is_full().
    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() as u32 > self.max_ack_backlog
    }
}

/// A request socket: a passive connection between SYN and the handshake's last ACK
/// (Linux: struct tcp_request_sock).
#[derive(Debug)]
pub struct ReqSock {
    pub listener: usize,
    pub local: SocketAddr,
    pub remote: SocketAddr,
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
    /// The final ACK came but the accept queue was full (Linux: inet_rsk(req)->acked).
    pub acked: bool,
    /// When the first SYN-ACK was sent (for the handshake RTT sample).
    pub synack_first: Instant,
    /// When the SYN-ACK timer runs.
    pub timer: Option<Instant>,
    /// Its expiry as Linux stores it, which `ss` counts down to.
    pub expires: Option<Instant>,
    pub armed: Option<(Instant, u64)>,
    pub last_oow_ack_time: Option<Jiffies>,
}

impl ReqSock {
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
        let repr = TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
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
        ctx.out.emit(self.local, self.remote, &repr);
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
