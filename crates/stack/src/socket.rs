//! A full TCP socket (Linux's `struct tcp_sock` with its `inet_connection_sock` parts): the
//! state, both sequence spaces, buffers, the retransmission queue and the three timer slots.
//!
//! The code that moves a socket lives in `input.rs` (segment arrival), `output.rs` (what to
//! send), and `timer.rs` (what a timer does when it fires); this file holds the data and the
//! small helpers every one of them needs.
//!
//! State an idle established connection does not use lives in three groups boxed on first
//! write and freed once empty again ([`Queues`], [`Recovery`], [`SockRare`], see
//! [`crate::lazy`]), so that a million idle connections stay small (issue 7).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroU16};

use crate::api::{Fd, TcpState};
use crate::assembler::Assembler;
use crate::cc::{CaState, CcState, CongestionControl};
use crate::errno::Errno;
use crate::lazy::{Lazy, LazyState};
use crate::rtt::RttEstimator;
use crate::time::{Instant, Jiffies};

/// What the transmit slot holds (Linux: `icsk_pending`, one value at a time).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum XmitTimer {
    /// ICSK_TIME_RETRANS.
    Retrans,
    /// ICSK_TIME_PROBE0: the zero-window probe (persist) timer.
    Probe0,
    /// ICSK_TIME_LOSS_PROBE.
    LossProbe,
    /// ICSK_TIME_REO_TIMEOUT.
    ReoTimeout,
}

/// The three per-connection timer slots (DESIGN.md §3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Slot {
    Xmit = 0,
    DelAck = 1,
    /// Keepalive, and the long half of an orphaned FIN_WAIT2.
    Sk = 2,
}

/// One segment in the retransmission queue (Linux keeps skbs; tcplab keeps sequence ranges
/// and reads the payload from the send buffer).
#[derive(Clone, Debug)]
pub struct TxSeg {
    pub seq: u32,
    /// Sequence after the segment, counting SYN and FIN.
    pub end_seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub psh: bool,
    /// Time of the latest (re)transmission.
    pub sent_at: Instant,
    /// Ever retransmitted (Karn: no RTT sample from it).
    pub ever_retrans: bool,
    /// Linux: TCPCB_SACKED_ACKED.
    pub sacked: bool,
    /// Linux: TCPCB_LOST.
    pub lost: bool,
    /// Linux: TCPCB_SACKED_RETRANS — retransmitted and not yet acknowledged since.
    pub retrans: bool,
}

impl TxSeg {
    pub fn data_len(&self) -> u32 {
        self.end_seq
            .wrapping_sub(self.seq)
            .wrapping_sub(u32::from(self.syn))
            .wrapping_sub(u32::from(self.fin))
    }
}

/// RACK loss detection state (Linux: struct tcp_rack, RFC 8985).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rack {
    /// Send time of the most recently sent segment that was delivered.
    pub mstamp: Instant,
    pub end_seq: u32,
    /// RTT of that delivery, µs.
    pub rtt_us: u32,
    /// A delivery advanced the state since the last loss scan.
    pub advanced: bool,
    /// The reordering window in units of min_rtt/4 (Linux: reo_wnd_steps).
    pub reo_wnd_steps: u8,
    /// Reordering was seen on this connection (Linux: tp->reord_seen).
    pub reord_seen: bool,
    /// The highest SACKed sequence (Linux: the end of tcp_highest_sack()).
    pub fack: u32,
}

impl Rack {
    /// The values `tcp_init_sock()` leaves.
    pub const INIT: Rack = Rack {
        mstamp: Instant::ZERO,
        end_seq: 0,
        rtt_us: 0,
        advanced: false,
        reo_wnd_steps: 1,
        reord_seen: false,
        fack: 0,
    };
}

impl Default for Rack {
    fn default() -> Self {
        Rack::INIT
    }
}

/// Options negotiated in the handshake (Linux: `struct tcp_options_received` and friends).
#[derive(Clone, Copy, Debug, Default)]
pub struct RxOpt {
    pub tstamp_ok: bool,
    pub sack_ok: bool,
    pub wscale_ok: bool,
    /// The peer's shift, applied to windows it sends.
    pub snd_wscale: u8,
    /// Our shift, applied to windows we send.
    pub rcv_wscale: u8,
    pub ts_recent: u32,
    /// When ts_recent was stored.
    pub ts_recent_stamp: Instant,
    /// Smallest of our MSS limit and the peer's MSS option.
    pub mss_clamp: u16,
    /// RFC 3168 ECN was negotiated (Linux: TCP_ECN_OK).
    pub ecn_ok: bool,
}

/// Delayed-ACK engine state (Linux: `icsk->icsk_ack`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AckState {
    /// ICSK_ACK_* bits.
    pub pending: u8,
    /// Remaining quick ACKs.
    pub quick: u32,
    /// Pingpong counter (interactive mode when ≥ tcp_pingpong_thresh).
    pub pingpong: u8,
    /// Adaptive ACK timeout, jiffies.
    pub ato: Jiffies,
    /// Jiffies of the last data received.
    pub lrcvtime: Jiffies,
    pub rcv_mss: u32,
    pub last_seg_size: u32,
    /// Delayed-ACK deadline when ICSK_ACK_TIMER is set.
    pub timeout: Instant,
}

pub const ICSK_ACK_SCHED: u8 = 1;
pub const ICSK_ACK_TIMER: u8 = 2;
pub const ICSK_ACK_PUSHED: u8 = 4;
pub const ICSK_ACK_PUSHED2: u8 = 8;
pub const ICSK_ACK_NOW: u8 = 16;

/// Per-socket options that override sysctls, as Linux stores them.
#[derive(Clone, Copy, Debug, Default)]
pub struct SockOpts {
    pub nodelay: bool,
    pub keepalive: bool,
    /// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT as set (None = the sysctl), in the
    /// narrowest types their setsockopt() ranges fit (1..=32767, 1..=32767, 1..=127); read
    /// them through the methods of the same names.
    pub keepidle: Option<NonZeroU16>,
    pub keepintvl: Option<NonZeroU16>,
    pub keepcnt: Option<NonZeroU8>,
    pub user_timeout_ms: u32,
    pub linger: Option<u32>,
    /// TCP_LINGER2 as stored: -1, 0 (the sysctl) or 1..=120 seconds.
    pub linger2: i8,
    pub syncnt: u8,
    pub reuseaddr: bool,
    /// TCP_MAXSEG as set by the user (0 = none).
    pub user_mss: u16,
    /// TCP_QUICKACK 0 was set: start in pingpong (delayed-ACK) mode.
    pub pingpong: bool,
    /// SO_RCVBUF/SO_SNDBUF were set (which disables autotuning).
    pub rcvbuf_locked: bool,
    pub sndbuf_locked: bool,
}

impl SockOpts {
    /// TCP_KEEPIDLE in seconds, if set.
    pub fn keepidle(&self) -> Option<u32> {
        self.keepidle.map(|v| u32::from(v.get()))
    }
    /// TCP_KEEPINTVL in seconds, if set.
    pub fn keepintvl(&self) -> Option<u32> {
        self.keepintvl.map(|v| u32::from(v.get()))
    }
    /// TCP_KEEPCNT, if set.
    pub fn keepcnt(&self) -> Option<u32> {
        self.keepcnt.map(|v| u32::from(v.get()))
    }
}

/// Counters that `tcp_info` and `ss -i` report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    /// Segment counters, 32 bits and wrapping as Linux's `struct tcp_sock` keeps them (and as
    /// `tcp_info` reports them).
    pub segs_out: u32,
    pub segs_in: u32,
    pub data_segs_out: u32,
    pub data_segs_in: u32,
    pub total_retrans: u32,
    pub lsndtime: Instant,
    pub last_ack_recv: Instant,
    pub last_data_recv: Instant,
}

/// Emptied queues of one element type, kept for reuse (see [`Spare`]).
#[derive(Debug)]
pub struct SpareQueues<T> {
    free: Vec<VecDeque<T>>,
}

impl<T> Default for SpareQueues<T> {
    fn default() -> Self {
        SpareQueues { free: Vec::new() }
    }
}

impl<T> SpareQueues<T> {
    /// Moves `q`'s allocation here if it is empty and holds one (or drops it when `held`
    /// would pass [`SPARE_QUEUE_BYTES`]), so the socket keeps none.
    fn release(&mut self, q: &mut VecDeque<T>, held: &mut usize) {
        if !q.is_empty() || q.capacity() == 0 {
            return;
        }
        let q = std::mem::take(q);
        let bytes = q.capacity() * std::mem::size_of::<T>();
        if *held + bytes <= SPARE_QUEUE_BYTES {
            *held += bytes;
            self.free.push(q);
        }
    }

    /// Gives an empty queue without capacity a spare allocation, if there is one.
    fn provision(&mut self, q: &mut VecDeque<T>, held: &mut usize) {
        if q.capacity() != 0 {
            return;
        }
        if let Some(spare) = self.free.pop() {
            *held -= spare.capacity() * std::mem::size_of::<T>();
            *q = spare;
        }
    }
}

/// The most bytes of emptied queues a stack keeps for reuse: a few connections' worth of
/// full buffers (tcp_rmem[2] is 6 MiB), so that a busy connection that drains its buffers
/// between bursts does not go back to the allocator each time.
pub const SPARE_QUEUE_BYTES: usize = 16 << 20;

/// Empty [`Queues`] boxes the stack keeps. A socket borrows one for a step at a time (a segment
/// in, its answer out), so a few cover an idle crowd woken one by one; sockets that open
/// allocate their own and would otherwise fill the pool with boxes nobody takes back.
pub const SPARE_QUEUE_BOXES: usize = 64;

/// The allocations of emptied socket queues (Linux frees consumed skbs to its slab caches;
/// this is that cache): a socket gives its empty send and receive rings, retransmission
/// queue and bookkeeping queues back after every step, and takes them again when data comes,
/// so an idle connection holds no buffer memory while a busy one rarely allocates.
#[derive(Debug, Default)]
pub struct Spare {
    bytes: SpareQueues<u8>,
    segs: SpareQueues<TxSeg>,
    chunks: SpareQueues<(u32, u32)>,
    marks: SpareQueues<u32>,
    /// Emptied [`Queues`] boxes, so that a connection woken by one segment does not allocate.
    #[allow(
        clippy::vec_box,
        reason = "the allocations themselves are what is reused"
    )]
    queues: Vec<Box<Queues>>,
    held: usize,
}

impl Spare {
    /// Bytes of spare queue capacity held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Heap the pool holds: the queues' capacity and the kept [`Queues`] boxes.
    pub fn heap_bytes(&self) -> usize {
        self.held + self.queues.len() * std::mem::size_of::<Queues>()
    }

    /// Keeps an empty [`Queues`] box for the next socket that needs one, up to
    /// [`SPARE_QUEUE_BOXES`].
    fn keep_queues(&mut self, b: Box<Queues>) {
        if self.queues.len() < SPARE_QUEUE_BOXES {
            self.queues.push(b);
        }
    }
}

/// The data a connection holds in flight or unread, with the memory accounting of the receive
/// side. Boxed because an idle connection has every queue empty and every ring given back
/// (issue 7: a million idle connections): the box is taken on first use and returned by
/// [`Sock::release_empty`] once everything in it is empty again.
#[derive(Debug)]
pub struct Queues {
    /// Bytes written and not yet acknowledged, from `Sock::sndbuf_seq`.
    pub sndbuf: VecDeque<u8>,
    /// Ends of the queued skbs Linux marked with PSH (tcp_mark_push()) that are not sent
    /// yet: the segment that carries one gets PSH. Kept in sequence order.
    pub push_marks: VecDeque<u32>,
    pub rtx: VecDeque<TxSeg>,
    pub rcvbuf: VecDeque<u8>,
    /// In-order data as the segments that brought it: (bytes not yet read, truesize). Linux
    /// charges a segment's truesize to the socket until the application has read all of it.
    pub rcv_chunks: VecDeque<(u32, u32)>,
    pub ofo: Assembler,
    /// Linux: sk_rmem_alloc — truesize of everything queued, in order or not.
    pub rmem_alloc: u64,
    /// Truesize charged for the out-of-order queue.
    pub ofo_truesize: u64,
}

static NO_QUEUES: Queues = Queues::EMPTY;

impl LazyState for Queues {
    const EMPTY: Queues = Queues {
        sndbuf: VecDeque::new(),
        push_marks: VecDeque::new(),
        rtx: VecDeque::new(),
        rcvbuf: VecDeque::new(),
        rcv_chunks: VecDeque::new(),
        ofo: Assembler::new(),
        rmem_alloc: 0,
        ofo_truesize: 0,
    };
    fn empty_ref() -> &'static Queues {
        &NO_QUEUES
    }
    fn is_empty(&self) -> bool {
        self.sndbuf.capacity() == 0
            && self.push_marks.capacity() == 0
            && self.rtx.capacity() == 0
            && self.rcvbuf.capacity() == 0
            && self.rcv_chunks.capacity() == 0
            && self.ofo.is_pristine()
            && self.rmem_alloc == 0
            && self.ofo_truesize == 0
    }
}

/// Loss-recovery bookkeeping: the scoreboard counts, the duplicate ACKs, PRR, the recovery
/// point and the tail loss probe. Boxed because only SACKs, duplicate ACKs, a loss, a loss
/// probe or an RTO set it: a connection that never lost anything (most of a million idle ones)
/// never allocates it, and one whose losses are repaired has the counts back at zero.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Recovery {
    /// Segments in `rtx` marked SACKed, lost and retransmitted (Linux: sacked_out, lost_out,
    /// retrans_out).
    pub sacked_out: u32,
    pub lost_out: u32,
    pub retrans_out: u32,
    /// Duplicate ACKs since the last ACK that advanced `snd_una`.
    pub dupacks: u32,
    /// Linux: high_seq — snd_nxt when recovery or loss began.
    pub high_seq: u32,
    /// Linux: prior_cwnd — cwnd when the reduction began (PRR's denominator).
    pub prior_cwnd: u32,
    pub prr_delivered: u32,
    pub prr_out: u32,
    /// Linux: tlp_high_seq — snd_nxt when the outstanding loss probe was sent.
    pub tlp_high_seq: Option<u32>,
    /// The loss probe was a retransmission (Linux: tlp_retrans).
    pub tlp_retrans: bool,
}

static NO_RECOVERY: Recovery = Recovery::EMPTY;

impl LazyState for Recovery {
    const EMPTY: Recovery = Recovery {
        sacked_out: 0,
        lost_out: 0,
        retrans_out: 0,
        dupacks: 0,
        high_seq: 0,
        prior_cwnd: 0,
        prr_delivered: 0,
        prr_out: 0,
        tlp_high_seq: None,
        tlp_retrans: false,
    };
    fn empty_ref() -> &'static Recovery {
        &NO_RECOVERY
    }
    /// `tlp_retrans` does not count without `tlp_high_seq`: it is read only while a probe is
    /// outstanding, and send_loss_probe() resets it before it sets `tlp_high_seq`.
    fn is_empty(&self) -> bool {
        Recovery {
            tlp_retrans: false,
            ..*self
        } == Recovery::EMPTY
    }
}

/// Fields that are set only for a moment or in unusual lives: a child waiting in the accept
/// queue, an orphan, a lingering close, a pending error, a loss episode, zero-window probing,
/// a D-SACK or an out-of-order FIN waiting to be sent or used. Boxed because an established idle connection has all of them at their initial
/// values; the box is freed when they return there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SockRare {
    /// The listener whose accept queue holds the socket (None once accepted, and for active
    /// opens).
    pub listener: Option<usize>,
    /// Counted in the stack's orphan count since close().
    pub counted_orphan: bool,
    /// close() is waiting in sk_stream_wait_close() (SO_LINGER {1, t>0}) until this time;
    /// the socket keeps its descriptor (Linux orphans it only after the wait).
    pub linger_until: Option<Instant>,
    /// Pending error for the application (Linux: sk_err).
    pub sk_err: Option<Errno>,
    /// The error was reported once; later reads see EOF, writes EPIPE.
    pub err_reported: bool,
    /// Linux: retrans_stamp, the start of the current loss episode (None = 0).
    pub retrans_stamp: Option<Instant>,
    /// Linux: icsk_probes_tstamp — when zero-window probing started (for TCP_USER_TIMEOUT).
    pub probes_tstamp: Option<Instant>,
    /// Linux: tcp_info's tcpi_total_rto — RTO expirations over the connection's life.
    pub total_rto: u32,
    /// A D-SACK block to report in the next ACK (RFC 2883).
    pub dsack: Option<(u32, u32)>,
    /// Sequence number of a FIN that arrived beyond a hole.
    pub ofo_fin_seq: Option<u32>,
}

static NO_RARE: SockRare = SockRare::EMPTY;

impl LazyState for SockRare {
    const EMPTY: SockRare = SockRare {
        listener: None,
        counted_orphan: false,
        linger_until: None,
        sk_err: None,
        err_reported: false,
        retrans_stamp: None,
        probes_tstamp: None,
        total_rto: 0,
        dsack: None,
        ofo_fin_seq: None,
    };
    fn empty_ref() -> &'static SockRare {
        &NO_RARE
    }
    fn is_empty(&self) -> bool {
        *self == SockRare::EMPTY
    }
}

/// A full TCP socket.
#[derive(Debug)]
pub struct Sock {
    pub state: TcpState,
    pub fd: Option<Fd>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub opts: SockOpts,
    /// Buffers and queues, absent while all are empty.
    pub queues: Lazy<Queues>,
    /// Loss-recovery bookkeeping, absent until something is lost.
    pub recovery: Lazy<Recovery>,
    /// Rarely set fields, absent while all hold their initial values.
    pub rare: Lazy<SockRare>,

    // Send sequence space (RFC 9293 §3.3.1).
    pub iss: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    pub snd_wnd: u32,
    pub snd_wl1: u32,
    pub max_window: u32,
    /// Sequence number of the next byte the application writes (Linux: write_seq).
    pub write_seq: u32,
    /// Sequence number of the first byte held in `sndbuf`.
    pub sndbuf_seq: u32,
    pub sndbuf_cap: u32,
    /// Linux: pushed_seq — write_seq when an skb was last marked with PSH.
    pub pushed_seq: u32,
    /// A FIN is queued after `write_seq` (shutdown or close was called).
    pub fin_queued: bool,
    /// Linux: snd_sml — end of the last small segment sent (Minshall's Nagle).
    pub snd_sml: u32,
    pub mss_cache: u32,
    pub advmss: u32,
    pub pmtu: u32,

    // Receive sequence space.
    pub irs: u32,
    pub rcv_nxt: u32,
    pub rcv_wnd: u32,
    pub rcv_wup: u32,
    pub rcv_ssthresh: u32,
    pub window_clamp: u32,
    /// Linux: copied_seq — next byte the application will read.
    pub copied_seq: u32,
    pub rcvbuf_cap: u32,
    /// Linux: scaling_ratio — payload per 256 bytes of buffer, learned from received segments.
    pub scaling_ratio: u32,
    /// Linux: rcvq_space — bytes the application read in the last measured RTT, from
    /// `rcvq_seq` since `rcvq_time` (receive-buffer autotuning, tcp_rcv_space_adjust()).
    pub rcvq_space: u32,
    pub rcvq_seq: u32,
    pub rcvq_time: Instant,
    /// Linux: rcv_rtt_est.rtt_us (8 × the receiver's RTT estimate, µs; 0 = none).
    pub rcv_rtt_us: u32,
    pub fin_received: bool,
    pub rx_opt: RxOpt,
    pub ts_offset: u32,

    // Shutdown bits (Linux: sk_shutdown).
    pub rcv_shutdown: bool,
    pub snd_shutdown: bool,

    // Timers and their state (Linux: inet_connection_sock).
    /// When each slot's timer runs (the stack's queue order).
    pub slots: [Option<Instant>; 3],
    /// Each slot's expiry as Linux stores it (`icsk_timeout`, `sk_timer.expires`), which `ss`
    /// counts down to; the wheel may run the timer a little after it.
    pub expires: [Option<Instant>; 3],
    pub xmit_kind: Option<XmitTimer>,
    pub icsk_rto: Jiffies,
    pub icsk_backoff: u32,
    pub icsk_retransmits: u32,
    pub icsk_probes_out: u32,
    pub ack: AckState,
    /// Linux: last_oow_ack_time (jiffies + 1 so that 0 means never). Inline, not rare: the
    /// side that receives keepalive probes answers them through this rate limit.
    pub last_oow_ack_time: Option<Jiffies>,
    pub rtt: RttEstimator,

    // Congestion control and loss recovery.
    pub cc: CcState,
    pub ca: Box<dyn CongestionControl>,
    pub ca_state: CaState,
    pub packets_out: u32,
    pub rack: Rack,
    /// Linux: cwnd_usage_seq — the end of the window `is_cwnd_limited` describes.
    pub cwnd_usage_seq: u32,

    pub stats: Stats,
    /// A `connect()` is outstanding (for `Event::Connected`).
    pub connecting: bool,
}

impl Sock {
    /// Takes the pending error (Linux: sock_error()); a socket without one stays unboxed.
    pub fn take_sk_err(&mut self) -> Option<Errno> {
        self.rare.if_present(|r| r.sk_err.take()).flatten()
    }

    /// Bytes in flight, in packets (Linux: tcp_packets_in_flight()).
    pub fn packets_in_flight(&self) -> u32 {
        (self
            .packets_out
            .saturating_sub(self.recovery.sacked_out + self.recovery.lost_out))
            + self.recovery.retrans_out
    }

    /// Linux: tcp_receive_window() — what is left of the window we last advertised.
    pub fn receive_window(&self) -> u32 {
        let win = self
            .rcv_wup
            .wrapping_add(self.rcv_wnd)
            .wrapping_sub(self.rcv_nxt) as i32;
        win.max(0) as u32
    }

    /// The socket has no application any more (Linux: SOCK_DEAD). A lingering close() has
    /// given up the descriptor but not the socket: Linux orphans it after the wait.
    pub fn is_orphan(&self) -> bool {
        self.fd.is_none() && self.rare.listener.is_none() && self.rare.linger_until.is_none()
    }

    /// Bytes queued but not yet sent.
    pub fn unsent_bytes(&self) -> u32 {
        let start = crate::seq::seq_max(self.snd_nxt, self.sndbuf_seq);
        if crate::seq::after(start, self.write_seq) {
            0
        } else {
            self.write_seq.wrapping_sub(start)
        }
    }

    /// Data or a FIN waits to be sent for the first time.
    pub fn has_unsent(&self) -> bool {
        self.unsent_bytes() > 0 || (self.fin_queued && !self.fin_sent())
    }

    /// Linux: inet_csk_in_pingpong_mode().
    pub fn in_pingpong(&self, thresh: u8) -> bool {
        self.ack.pingpong >= thresh
    }

    /// Linux: inet_csk_ack_scheduled().
    pub fn ack_scheduled(&self) -> bool {
        self.ack.pending & ICSK_ACK_SCHED != 0
    }

    /// Bytes the application can read now.
    pub fn readable_bytes(&self) -> usize {
        self.queues.rcvbuf.len()
    }

    /// Arms a slot for `j` jiffies from now.
    pub fn arm_slot(&mut self, ctx: &crate::ctx::Ctx<'_>, slot: Slot, j: crate::time::Jiffies) {
        let expires = ctx.expires(j);
        self.arm_slot_at(ctx, slot, expires);
    }

    /// Arms a slot with expiry `expires`.
    pub fn arm_slot_at(&mut self, ctx: &crate::ctx::Ctx<'_>, slot: Slot, expires: Instant) {
        self.expires[slot as usize] = Some(expires);
        self.slots[slot as usize] = Some(ctx.fires(expires));
    }

    /// Stops a slot's timer.
    pub fn clear_slot(&mut self, slot: Slot) {
        self.expires[slot as usize] = None;
        self.slots[slot as usize] = None;
    }

    /// Stops every timer.
    pub fn clear_slots(&mut self) {
        self.expires = [None; 3];
        self.slots = [None; 3];
    }

    /// Charges newly queued in-order bytes.
    pub fn charge_rcv(&mut self, len: u32, truesize: u32) {
        let q = &mut *self.queues;
        q.rcv_chunks.push_back((len, truesize));
        q.rmem_alloc += u64::from(truesize);
    }

    /// Releases what the application read: a segment's truesize goes when its last byte does.
    pub fn uncharge_read(&mut self, mut n: u32) {
        if n == 0 {
            return;
        }
        let q = &mut *self.queues;
        while n > 0 {
            let Some(front) = q.rcv_chunks.front_mut() else {
                break;
            };
            let take = front.0.min(n);
            front.0 -= take;
            n -= take;
            if front.0 == 0 {
                q.rmem_alloc = q.rmem_alloc.saturating_sub(u64::from(front.1));
                q.rcv_chunks.pop_front();
            }
        }
    }

    /// Gives every empty queue's allocation to `spare`: an idle connection holds no buffer
    /// memory. Only capacity moves; no byte, segment or limit changes (windows and buffer
    /// limits come from `sndbuf_cap`, `rcvbuf_cap` and the sysctls, never from capacity).
    /// The boxed groups go too once they hold their empty values again.
    pub fn release_empty(&mut self, spare: &mut Spare) {
        if self.queues.is_allocated() {
            let held = &mut spare.held;
            let q = &mut *self.queues;
            spare.bytes.release(&mut q.sndbuf, held);
            spare.bytes.release(&mut q.rcvbuf, held);
            spare.segs.release(&mut q.rtx, held);
            spare.chunks.release(&mut q.rcv_chunks, held);
            spare.marks.release(&mut q.push_marks, held);
            if q.is_empty()
                && let Some(b) = self.queues.take_box()
            {
                spare.keep_queues(b);
            }
        }
        self.recovery.free_if_empty();
        self.rare.free_if_empty();
    }

    /// Takes spare allocations for the queues a step that brings or sends data will fill.
    pub fn provision(&mut self, spare: &mut Spare, rcv: bool, snd: bool) {
        if !self.queues.is_allocated()
            && let Some(b) = spare.queues.pop()
        {
            self.queues.fill_from(b);
        }
        let held = &mut spare.held;
        let q = &mut *self.queues;
        if rcv {
            spare.bytes.provision(&mut q.rcvbuf, held);
            spare.chunks.provision(&mut q.rcv_chunks, held);
        }
        if snd {
            spare.bytes.provision(&mut q.sndbuf, held);
            spare.marks.provision(&mut q.push_marks, held);
        }
        spare.segs.provision(&mut q.rtx, held);
    }

    /// Capacity held by the data queues, bytes (0 when the connection is idle).
    pub fn queue_capacity(&self) -> usize {
        let q = &*self.queues;
        q.sndbuf.capacity()
            + q.rcvbuf.capacity()
            + q.rtx.capacity() * std::mem::size_of::<TxSeg>()
            + q.rcv_chunks.capacity() * std::mem::size_of::<(u32, u32)>()
            + q.push_marks.capacity() * std::mem::size_of::<u32>()
    }

    /// Queued for `ss`'s Send-Q: written and not yet acknowledged.
    pub fn send_q(&self) -> u32 {
        self.write_seq
            .wrapping_sub(self.snd_una)
            .wrapping_sub(u32::from(matches!(
                self.state,
                TcpState::SynSent | TcpState::SynRecv
            )))
    }
}
