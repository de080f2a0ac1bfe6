//! The stack: the descriptor table, the 4-tuple map, listeners, request and time-wait records,
//! the timer queue, and the syscall-shaped API of the crate docs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use tcplab_wire::{IpRepr, TcpFlags, TcpOption, TcpRepr};

use crate::addr_pair::AddrPair;
use crate::api::{Domain, Event, Fd, TcpState, Transmit};
use crate::cc::{CaState, CcState, new_cc};
use crate::ctx::{Ctx, Output};
use crate::hash::FastHash;
use crate::isn::IsnGenerator;
use crate::lazy::Lazy;
use crate::listen::{Listener, ReqSock, send_reset_for};
use crate::output::select_initial_window;
use crate::rtt::RttEstimator;
use crate::seq::{after, before};
use crate::socket::{AckState, RxOpt, Slot, Sock, SockOpts, Spare, Stats, TxSeg};
use crate::sysctl::Sysctls;
use crate::time::{Hz, Instant};
use crate::timer::Disposition;
use crate::timewait::{TwFlags, TwSock, TwStatus};
use crate::wheel::TimerId;

mod ehash;
mod introspect;
mod slab;
mod syscalls;
mod timers;

use ehash::{ConnRef, TupleTable};
use slab::Slab;
use timers::{TimerRef, Timers};

/// How a stack is set up.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// The host's own addresses (IPv4 and/or IPv6).
    pub addrs: Vec<IpAddr>,
    pub sysctls: Sysctls,
    pub hz: Hz,
    /// Seeds the ISN key and ephemeral-port choice, so a run is reproducible.
    pub seed: u64,
    /// Link MTU (the MSS offered is MTU − 40 for IPv4, − 60 for IPv6).
    pub mtu: u32,
    /// Fire timers when Linux's timer wheel would (rounded up to the granularity of the
    /// wheel level their length falls in) rather than exactly at their expiry.
    pub timer_wheel: bool,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            addrs: Vec::new(),
            sysctls: Sysctls::default(),
            hz: Hz::default(),
            seed: 0,
            mtu: 1500,
            timer_wheel: true,
        }
    }
}

/// The environment of one step, from the stack's configuration and output queues.
fn ctx_of<'a>(config: &'a StackConfig, out: &'a mut Output, now: Instant) -> Ctx<'a> {
    Ctx {
        now,
        hz: config.hz,
        wheel: config.timer_wheel,
        sys: &config.sysctls,
        out,
    }
}

/// Why an incoming datagram was dropped (Linux: enum skb_drop_reason).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum DropReason {
    Malformed,
    NotOurAddress,
    NotTcp,
    BadChecksum,
    NoSocket,
    PawsReject,
    OutOfWindow,
    InvalidAck,
    RstNotInWindow,
    ListenOverflow,
    Other,
}

/// Datagram slots the drained transmit queue keeps (a full congestion window at MTU 1500 is a
/// few thousand datagrams); a larger queue left by a burst is given back.
const TX_QUEUE_KEEP: usize = 16_384;

/// Linux: SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86-64.
const SOCK_MIN_SNDBUF: u32 = 4608;
const SOCK_MIN_RCVBUF: u32 = 2304;

/// A socket that is neither listening nor connected yet.
#[derive(Clone, Debug)]
struct FreshSock {
    domain: Domain,
    bound: Option<SocketAddr>,
    opts: SockOpts,
    sndbuf: Option<u32>,
    rcvbuf: Option<u32>,
    /// TCP_DEFER_ACCEPT set before listen(), carried into the listener.
    rskq_defer_accept: u8,
}

/// What a descriptor is. A connection's entry is two words: the rarely held options of an
/// unconnected socket are boxed, so a million connections do not each pay for them.
#[derive(Clone, Debug)]
enum FdKind {
    Fresh(Box<FreshSock>),
    Listener(usize),
    Conn(usize),
}

/// A close() with SO_LINGER {1, t>0} (Linux: sk_stream_wait_close() in __tcp_close()). The
/// descriptor number stays taken until the caller has seen the call return.
#[derive(Clone, Copy, Debug)]
enum Linger {
    /// Sleeping until the connection leaves FIN_WAIT1/CLOSING/LAST_ACK or the timer runs out.
    Waiting { conn: usize, timer: TimerId },
    /// The call has returned 0; the next close_blocking() reports it.
    Returned,
}

/// The wheel entries of each full socket's three timer slots, by the socket's slab index: a
/// plain table, as the indices are small and reused, so the lookup on every segment and timer
/// is an index, not a hash. Twelve bytes a socket; the deadlines live in the wheel.
#[derive(Debug, Default)]
struct ConnArmed(Vec<[Option<TimerId>; 3]>);

impl ConnArmed {
    fn get(&self, c: usize) -> [Option<TimerId>; 3] {
        self.0.get(c).copied().unwrap_or([None; 3])
    }

    fn set(&mut self, c: usize, slot: usize, id: Option<TimerId>) {
        if self.0.len() <= c {
            if id.is_none() {
                return;
            }
            self.0.resize(c + 1, [None; 3]);
        }
        self.0[c][slot] = id;
    }
}

/// A TCP stack for one host.
#[derive(Debug)]
pub struct Stack {
    config: StackConfig,
    out: Output,
    isn: IsnGenerator,
    fds: BTreeMap<Fd, FdKind>,
    conns: Slab<Sock>,
    /// Time-wait, request and full sockets by (local, remote).
    tuples: TupleTable,
    listeners: Slab<Listener>,
    /// Listeners by local port, then address (unspecified = any).
    listen_map: HashMap<u16, Vec<(IpAddr, usize)>, FastHash>,
    reqs: Slab<ReqSock>,
    tws: Slab<TwSock>,
    /// Armed timers; they fire by deadline, ties in the order they were armed.
    timers: Timers,
    conn_armed: ConnArmed,
    next_port: u32,
    /// Ports in use by bound sockets (count of users).
    ports: BTreeMap<u16, u32>,
    /// close() calls waiting for SO_LINGER, by the descriptor they close.
    lingering: BTreeMap<Fd, Linger>,
    /// Every descriptor number from 3 below this one is taken (in `fds` or `lingering`), so
    /// the lowest free number is found from here: opening N sockets costs O(N), not O(N²).
    fd_hint: u32,
    /// Unconnected sockets bound to each port (count), so the port checks of bind() and
    /// connect() do not scan the descriptor table.
    fresh_bound: BTreeMap<u16, u32>,
    /// Emptied socket queues kept for reuse: sockets hold no buffer memory between steps
    /// that need it.
    spare: Spare,
    /// The option list of the segment being parsed, kept between segments so that parsing
    /// one allocates nothing.
    rx_options: Vec<TcpOption>,
}

impl Stack {
    pub fn new(config: StackConfig) -> Stack {
        let isn = IsnGenerator::new(config.seed);
        let range = config.sysctls.ip_local_port_range;
        let span = u32::from(range[1].saturating_sub(range[0])) + 1;
        // A seeded starting point, like Linux's hashed offset into the port range.
        let next_port = (config.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as u32 % span;
        let hash = FastHash::new(config.seed.rotate_left(29) ^ 0x2545_f491_4f6c_dd1d);
        // Deadlines are whole jiffies: one per wheel tick.
        let timers = Timers::new(config.hz.tick_ns());
        Stack {
            config,
            out: Output::default(),
            isn,
            fds: BTreeMap::new(),
            conns: Slab::default(),
            tuples: TupleTable::new(hash),
            listeners: Slab::default(),
            listen_map: HashMap::with_hasher(hash),
            reqs: Slab::default(),
            tws: Slab::default(),
            timers,
            conn_armed: ConnArmed::default(),
            next_port,
            ports: BTreeMap::new(),
            lingering: BTreeMap::new(),
            fd_hint: 3,
            fresh_bound: BTreeMap::new(),
            spare: Spare::default(),
            rx_options: Vec::new(),
        }
    }

    // ---- getters ----------------------------------------------------------------------------

    pub fn config(&self) -> &StackConfig {
        &self.config
    }
    pub fn sysctls(&self) -> &Sysctls {
        &self.config.sysctls
    }
    pub fn sysctls_mut(&mut self) -> &mut Sysctls {
        &mut self.config.sysctls
    }
    /// Turns the collection of `Trace` events on or off.
    pub fn set_tracing(&mut self, on: bool) {
        self.out.tracing = on;
        if !on {
            self.out.trace.clear();
        }
    }

    /// The next trace event (state changes of every socket, timers fired).
    pub fn poll_trace(&mut self) -> Option<crate::api::Trace> {
        self.out.trace.pop_front()
    }

    /// Installs the host's OUTPUT chain: `filter` sees every datagram before it leaves, and a
    /// refused one is lost before the wire with the sender seeing a failed transmit, as with
    /// `iptables -A OUTPUT … -j DROP` on Linux (a dropped FIN stays unsent, so the socket
    /// shows the persist timer). `None` removes it.
    pub fn set_output_filter(&mut self, filter: Option<crate::ctx::OutputFilter>) {
        self.out.filter = filter;
    }

    /// Heap the stack keeps for reuse whatever its socket count (its counterpart of Linux's
    /// slab caches): emptied socket queues (at most 16 MiB of capacity) and emptied datagram
    /// buffers (at most 8 MiB).
    pub fn pooled_bytes(&self) -> usize {
        self.spare.heap_bytes() + self.out.spare_bytes()
    }

    /// Datagrams the output filter refused.
    pub fn filtered(&self) -> u64 {
        self.out.filtered
    }

    /// Counters of dropped datagrams by reason.
    pub fn drops(&self) -> &BTreeMap<DropReason, u64> {
        &self.out.drops
    }

    /// The TCP state of a descriptor's socket.
    pub fn state(&self, fd: Fd) -> Option<TcpState> {
        match self.fds.get(&fd)? {
            FdKind::Fresh(_) => Some(TcpState::Close),
            FdKind::Listener(_) => Some(TcpState::Listen),
            FdKind::Conn(c) => self.conns.get(*c).map(|s| s.state),
        }
    }

    /// The full socket behind a descriptor (for introspection).
    pub fn sock(&self, fd: Fd) -> Option<&Sock> {
        match self.fds.get(&fd)? {
            FdKind::Conn(c) => self.conns.get(*c),
            _ => None,
        }
    }

    /// Number of live connections of each kind: full sockets, request socks, time-wait records.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.conns.len(), self.reqs.len(), self.tws.len())
    }

    /// The states of every socket the stack holds, as (local, remote, state), in a stable order.
    pub fn connections(&self) -> Vec<(SocketAddr, SocketAddr, TcpState)> {
        let mut v: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, s)| s.state != TcpState::Close)
            .map(|(_, s)| (s.local, s.remote, s.state))
            .chain(
                self.reqs
                    .iter()
                    .map(|(_, r)| (r.local(), r.remote(), TcpState::SynRecv)),
            )
            .chain(
                self.tws
                    .iter()
                    .map(|(_, t)| (t.local(), t.remote(), t.substate)),
            )
            .collect();
        v.sort();
        v
    }

    fn ctx(&mut self, now: Instant) -> (Ctx<'_>, &mut Slab<Sock>) {
        self.out.refresh_orphan_cache(now);
        (ctx_of(&self.config, &mut self.out, now), &mut self.conns)
    }

    // ---- outputs ----------------------------------------------------------------------------

    /// Writes the next datagram to send into `buf`.
    pub fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let d = self.out.tx.front()?;
        if d.bytes.len() > buf.len() {
            tracing::warn!(
                "transmit buffer of {} bytes is too small for {}",
                buf.len(),
                d.bytes.len()
            );
            self.out.tx.pop_front();
            return None;
        }
        let d = self.out.tx.pop_front()?;
        buf[..d.bytes.len()].copy_from_slice(&d.bytes);
        let t = Transmit {
            len: d.bytes.len(),
            src: d.src,
            dst: d.dst,
        };
        self.out.recycle(d.bytes);
        if self.out.tx.is_empty() && self.out.tx.capacity() > TX_QUEUE_KEEP {
            // A burst from many sockets at once (a keepalive round over a million
            // connections) leaves a queue sized for it; a window's worth is kept.
            self.out.tx = VecDeque::with_capacity(TX_QUEUE_KEEP);
        }
        Some(t)
    }

    /// [`Stack::poll_transmit`] without the copy: the next datagram in the buffer the stack
    /// built it in, handed over. Give the buffer back with [`Stack::recycle_transmit`] once the
    /// datagram is sent, so that a steady flow allocates nothing. The same datagrams come out
    /// in the same order as from `poll_transmit`.
    pub fn poll_transmit_owned(&mut self, _now: Instant) -> Option<(Transmit, Vec<u8>)> {
        let d = self.out.tx.pop_front()?;
        let t = Transmit {
            len: d.bytes.len(),
            src: d.src,
            dst: d.dst,
        };
        Some((t, d.bytes))
    }

    /// Takes back a buffer from [`Stack::poll_transmit_owned`] (or any other) for building
    /// later datagrams in.
    pub fn recycle_transmit(&mut self, buf: Vec<u8>) {
        self.out.recycle(buf);
    }

    /// The earliest armed timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first()
    }

    pub fn poll_event(&mut self) -> Option<(Fd, Event)> {
        self.out.events.pop_front()
    }

    // ---- timers -----------------------------------------------------------------------------

    /// Arms `r` at `at`.
    fn arm(&mut self, at: Instant, r: TimerRef) -> TimerId {
        self.timers.insert(at, r)
    }

    /// When the timer behind `id` runs, if it is still `r`'s.
    fn armed_at(&self, id: Option<TimerId>, r: TimerRef) -> Option<Instant> {
        let (at, owner) = self.timers.get(id?)?;
        (owner == r).then_some(at)
    }

    /// Cancels the timer behind a handle from [`Stack::arm`], if it is still `r`'s.
    fn disarm(&mut self, id: TimerId, r: TimerRef) {
        if self.armed_at(Some(id), r).is_some() {
            self.timers.remove(id);
        }
    }

    /// After a socket ran: its empty queues go back to the spare pool (an idle connection
    /// holds no buffer memory) and the timer queue follows its slots.
    fn settle(&mut self, c: usize) {
        if let Some(sock) = self.conns.get_mut(c) {
            sock.release_empty(&mut self.spare);
        }
        self.sync_conn_timers(c);
    }

    /// Brings the queue in line with a socket's slots after it ran (all off once it is gone).
    fn sync_conn_timers(&mut self, c: usize) {
        let slots = self.conns.get(c).map_or([None; 3], |sock| sock.slots);
        let armed = self.conn_armed.get(c);
        for (i, (want, have)) in slots.into_iter().zip(armed).enumerate() {
            let r = TimerRef::Conn(c as u32, i as u8);
            if let Some(id) = have {
                if want.is_some() && self.timers.get(id) == want.map(|at| (at, r)) {
                    continue;
                }
                if self.timers.get(id).is_some_and(|(_, w)| w == r) {
                    self.timers.remove(id);
                }
            } else if want.is_none() {
                continue;
            }
            let new = want.map(|at| self.timers.insert(at, r));
            self.conn_armed.set(c, i, new);
        }
    }

    fn sync_req_timer(&mut self, r: usize) {
        let Some(req) = self.reqs.get(r) else { return };
        let want = req.timer;
        let armed = req.armed;
        if want == self.armed_at(armed, TimerRef::Req(r as u32)) {
            return;
        }
        if let Some(handle) = armed {
            self.disarm(handle, TimerRef::Req(r as u32));
        }
        let new = want.map(|at| self.arm(at, TimerRef::Req(r as u32)));
        if let Some(req) = self.reqs.get_mut(r) {
            req.armed = new;
        }
    }

    /// Arms a new time-wait record's timer, or moves it after a segment re-armed it. The
    /// record keeps only the expiry Linux stores; when the timer runs follows from it and the
    /// step's time, as where it was re-armed.
    fn sync_tw_timer(&mut self, now: Instant, t: usize) {
        let Some(tw) = self.tws.get_mut(t) else {
            return;
        };
        if tw.armed.is_some() && !tw.flags.take_rearmed() {
            return;
        }
        let (expires, armed) = (tw.expires, tw.armed);
        let want = ctx_of(&self.config, &mut self.out, now).fires(expires);
        if Some(want) == self.armed_at(armed, TimerRef::Tw(t as u32)) {
            return;
        }
        if let Some(handle) = armed {
            self.disarm(handle, TimerRef::Tw(t as u32));
        }
        let new = self.arm(want, TimerRef::Tw(t as u32));
        if let Some(tw) = self.tws.get_mut(t) {
            tw.armed = Some(new);
        }
    }

    /// Runs every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, r)) = self.timers.pop_due(now) {
            match r {
                TimerRef::Conn(c, slot) => {
                    let c = c as usize;
                    self.conn_armed.set(c, slot as usize, None);
                    let slot = match slot {
                        0 => Slot::Xmit,
                        1 => Slot::DelAck,
                        _ => Slot::Sk,
                    };
                    let (mut ctx, conns) = self.ctx(at);
                    let Some(sock) = conns.get_mut(c) else {
                        continue;
                    };
                    let disp = sock.on_timer(&mut ctx, slot);
                    self.finish(now, c, disp);
                }
                TimerRef::Req(rid) => self.req_timer(at, rid as usize),
                TimerRef::Linger(fd) => {
                    if let Some(Linger::Waiting { conn, .. }) = self.lingering.get(&fd).copied() {
                        self.linger_return(at, conn, Disposition::Keep);
                    }
                }
                TimerRef::Tw(t) => {
                    let t = t as usize;
                    if let Some(tw) = self.tws.remove(t) {
                        use crate::api::{TimerName, Trace};
                        let (local, remote) = (tw.local(), tw.remote());
                        self.out.trace(Trace::Timer {
                            local,
                            remote,
                            timer: TimerName::TimeWait,
                            count: 0,
                        });
                        self.out.trace(Trace::State {
                            local,
                            remote,
                            from: tw.substate,
                            to: TcpState::Close,
                        });
                        self.tuples.remove(local, remote, ConnRef::Tw(t));
                        self.release_port(local.port());
                    }
                }
            }
        }
    }

    /// Applies what a socket asked for after it ran.
    fn finish(&mut self, now: Instant, c: usize, disp: Disposition) {
        // Linux: a close() sleeping in sk_stream_wait_close() wakes once the socket leaves
        // FIN_WAIT1/CLOSING/LAST_ACK (or is gone) and runs the rest of __tcp_close().
        if let Some(sock) = self.conns.get(c)
            && sock.rare.linger_until.is_some()
            && (disp != Disposition::Keep || !syscalls::sk_stream_closing(sock.state))
        {
            self.linger_return(now, c, disp);
            return;
        }
        match disp {
            Disposition::Keep => self.settle(c),
            Disposition::Done => self.release_conn(c),
            Disposition::TimeWait { substate, timeout } => {
                let Some(sock) = self.conns.get(c) else {
                    return;
                };
                let over = self.tws.len() as u32 >= self.config.sysctls.tcp_max_tw_buckets;
                if !over {
                    let ctx = ctx_of(&self.config, &mut self.out, now);
                    let expires = ctx.expires(timeout);
                    let key = (sock.local, sock.remote);
                    let tw = TwSock {
                        addrs: AddrPair::new(sock.local, sock.remote),
                        substate,
                        snd_nxt: sock.snd_nxt,
                        rcv_nxt: sock.rcv_nxt,
                        rcv_wnd: sock.receive_window(),
                        rcv_wscale: sock.rx_opt.rcv_wscale,
                        tstamp_ok: sock.rx_opt.tstamp_ok,
                        ts_recent: sock.rx_opt.ts_recent,
                        ts_recent_stamp: crate::timewait::clock_secs(sock.rx_opt.ts_recent_stamp),
                        ts_offset: sock.ts_offset,
                        expires,
                        armed: None,
                        flags: TwFlags::default(),
                        entry_stamp: crate::timewait::clock_ms(now),
                        last_oow_ack_time: 0,
                    };
                    let port = key.0.port();
                    let t = self.tws.insert(tw);
                    // The time-wait record keeps the port bound.
                    *self.ports.entry(port).or_insert(0) += 1;
                    self.tuple_insert(key.0, key.1, ConnRef::Tw(t));
                    self.sync_tw_timer(now, t);
                }
                // The full socket is done (Linux: tcp_done() after tcp_time_wait()).
                let (ctx, conns) = self.ctx(now);
                if let Some(sock) = conns.get_mut(c) {
                    // The connection lives on in the time-wait record: only the descriptor
                    // sees its socket close, and the trace shows no CLOSE (unless no record
                    // could be made).
                    let from = sock.state;
                    sock.state = TcpState::Close;
                    ctx.out.event(
                        sock.fd,
                        Event::StateChanged {
                            from,
                            to: TcpState::Close,
                        },
                    );
                    if over {
                        ctx.out.trace(crate::api::Trace::State {
                            local: sock.local,
                            remote: sock.remote,
                            from,
                            to: TcpState::Close,
                        });
                    }
                    sock.clear_slots();
                }
                self.release_conn_keep_tuple(c, !over);
            }
        }
    }

    /// A connection reached CLOSE: unhash it; free it unless a descriptor still refers to it.
    fn release_conn(&mut self, c: usize) {
        self.release_conn_keep_tuple(c, false);
    }

    fn release_conn_keep_tuple(&mut self, c: usize, tuple_taken: bool) {
        let Some(sock) = self.conns.get_mut(c) else {
            return;
        };
        sock.clear_slots();
        let key = (sock.local, sock.remote);
        let port = sock.local.port();
        let has_fd = sock.fd.is_some() || sock.rare.linger_until.is_some();
        let listener = sock.rare.listener;
        if !tuple_taken {
            self.tuples.remove(key.0, key.1, ConnRef::Conn(c));
        }
        if tuple_taken {
            // The tuple now leads to the time-wait record; nothing to remove.
        }
        self.sync_conn_timers(c);
        if !has_fd {
            if let Some(l) = listener
                && let Some(lst) = self.listeners.get_mut(l)
            {
                lst.accept_queue.retain(|x| *x != c);
            }
            if let Some(sock) = self.conns.remove(c)
                && sock.rare.counted_orphan
            {
                self.out.orphans = self.out.orphans.saturating_sub(1);
            }
            self.sync_conn_timers(c);
            self.release_port(port);
        }
    }

    fn release_port(&mut self, port: u16) {
        if let Some(n) = self.ports.get_mut(&port) {
            *n -= 1;
            if *n == 0 {
                self.ports.remove(&port);
            }
        }
    }

    /// Linux: reqsk_timer_handler().
    fn req_timer(&mut self, now: Instant, r: usize) {
        let Some(req) = self.reqs.get_mut(r) else {
            return;
        };
        req.armed = None;
        req.timer = None;
        req.expires = None;
        let listener = req.listener;
        let lst = self.listeners.get(listener);
        let synack_retries = lst
            .map(|l| l.opts.syncnt)
            .filter(|n| *n != 0)
            .unwrap_or(self.config.sysctls.tcp_synack_retries);
        let max_retries = u32::from(synack_retries);
        let defer = lst.map_or(0, |l| l.rskq_defer_accept);
        let (expire, resend) = req.syn_ack_recalc(max_retries, defer);
        let mut ctx = ctx_of(&self.config, &mut self.out, now);
        ctx.out.trace(crate::api::Trace::Timer {
            local: req.local(),
            remote: req.remote(),
            timer: crate::api::TimerName::SynAck,
            count: req.num_timeout,
        });
        if expire {
            // Expired: dropped silently, no RST.
            let key = (req.local(), req.remote());
            ctx.out.trace(crate::api::Trace::State {
                local: key.0,
                remote: key.1,
                from: TcpState::SynRecv,
                to: TcpState::Close,
            });
            let young = req.num_timeout == 0;
            self.reqs.remove(r);
            self.tuples.remove(key.0, key.1, ConnRef::Req(r));
            if let Some(l) = self.listeners.get_mut(listener) {
                l.qlen = l.qlen.saturating_sub(1);
                if young {
                    l.young = l.young.saturating_sub(1);
                }
            }
            return;
        }
        // Linux: a request deferred by TCP_DEFER_ACCEPT skips the resend but keeps its timer
        // and backs off as if it had resent.
        if resend {
            req.send_synack(&mut ctx);
            req.num_retrans += 1;
        }
        if req.num_timeout == 0
            && let Some(l) = self.listeners.get_mut(listener)
        {
            l.young = l.young.saturating_sub(1);
        }
        req.num_timeout += 1;
        let when = req.timeout(&ctx);
        req.expires = Some(ctx.expires(when));
        req.timer = req.expires.map(|e| ctx.fires(e));
        self.sync_req_timer(r);
    }

    // ---- input ------------------------------------------------------------------------------

    /// One IP datagram from the network.
    pub fn handle_packet(&mut self, now: Instant, datagram: &[u8]) {
        let Ok((ip, l4)) = IpRepr::parse(datagram) else {
            self.out.drop(DropReason::Malformed);
            return;
        };
        let (src, dst) = (ip.src(), ip.dst());
        if !self.config.addrs.contains(&dst) {
            self.out.drop(DropReason::NotOurAddress);
            return;
        }
        if ip.protocol() != tcplab_wire::IPPROTO_TCP {
            self.out.drop(DropReason::NotTcp);
            return;
        }
        if !tcplab_wire::tcp::verify_checksum(src, dst, l4) {
            self.out.drop(DropReason::BadChecksum);
            return;
        }
        let Ok(seg) = TcpRepr::parse_into(l4, std::mem::take(&mut self.rx_options)) else {
            self.out.drop(DropReason::Malformed);
            return;
        };
        let local = SocketAddr::new(dst, seg.dst_port);
        let remote = SocketAddr::new(src, seg.src_port);
        self.input(now, local, remote, &seg);
        self.rx_options = seg.options;
    }

    fn input(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, seg: &TcpRepr<'_>) {
        match self.tuple_get(local, remote) {
            Some(ConnRef::Conn(c)) => {
                if let Some(sock) = self.conns.get_mut(c) {
                    sock.provision(&mut self.spare, !seg.payload.is_empty(), false);
                }
                let (mut ctx, conns) = self.ctx(now);
                let Some(sock) = conns.get_mut(c) else { return };
                let verdict = sock.rcv(&mut ctx, seg);
                if verdict.send_reset {
                    send_reset_for(&mut self.out, local, remote, seg);
                }
                self.finish(now, c, verdict.disposition);
            }
            Some(ConnRef::Req(r)) => self.check_req(now, r, seg),
            Some(ConnRef::Tw(t)) => {
                let mut ctx = ctx_of(&self.config, &mut self.out, now);
                let Some(tw) = self.tws.get_mut(t) else {
                    return;
                };
                match tw.process(&mut ctx, seg) {
                    TwStatus::Success => self.sync_tw_timer(now, t),
                    TwStatus::Rst => {
                        // Linux: tcp_v4_rcv() sends the reset, then inet_twsk_deschedule_put().
                        send_reset_for(&mut self.out, local, remote, seg);
                        self.kill_tw(t);
                    }
                    TwStatus::Kill => self.kill_tw(t),
                    TwStatus::Syn(isn) => {
                        if let Some(l) = self.find_listener(local) {
                            self.kill_tw(t);
                            self.listen_syn(now, l, local, remote, seg, Some(isn));
                        } else if let Some(tw) = self.tws.get(t) {
                            // Linux: with no listener TCP_TW_SYN falls through to TCP_TW_ACK.
                            let mut ctx = ctx_of(&self.config, &mut self.out, now);
                            tw.send_ack(&mut ctx);
                        }
                    }
                }
            }
            None => {
                if let Some(l) = self.find_listener(local) {
                    self.listen_rcv(now, l, local, remote, seg);
                } else {
                    self.out.drop(DropReason::NoSocket);
                    send_reset_for(&mut self.out, local, remote, seg);
                }
            }
        }
    }

    fn kill_tw(&mut self, t: usize) {
        if let Some(tw) = self.tws.remove(t) {
            let (local, remote) = (tw.local(), tw.remote());
            self.out.trace(crate::api::Trace::State {
                local,
                remote,
                from: tw.substate,
                to: TcpState::Close,
            });
            if let Some(handle) = tw.armed {
                self.disarm(handle, TimerRef::Tw(t as u32));
            }
            self.tuples.remove(local, remote, ConnRef::Tw(t));
            self.release_port(local.port());
        }
    }

    fn find_listener(&self, local: SocketAddr) -> Option<usize> {
        let list = self.listen_map.get(&local.port())?;
        list.iter()
            .find(|(a, _)| *a == local.ip())
            .or_else(|| {
                list.iter().find(|(a, _)| {
                    a.is_unspecified() && (a.is_ipv4() == local.is_ipv4() || a.is_ipv6())
                })
            })
            .map(|(_, l)| *l)
    }

    /// Linux: tcp_v4_rcv() → tcp_rcv_state_process() for a LISTEN socket.
    fn listen_rcv(
        &mut self,
        now: Instant,
        l: usize,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
    ) {
        let f = seg.flags;
        if f.contains(TcpFlags::RST) {
            return;
        }
        if f.contains(TcpFlags::ACK) {
            // An ACK for a request that does not exist (or a syncookie we never sent).
            send_reset_for(&mut self.out, local, remote, seg);
            return;
        }
        if !f.contains(TcpFlags::SYN) {
            return;
        }
        self.listen_syn(now, l, local, remote, seg, None);
    }

    /// Linux: tcp_conn_request() — a SYN on a listener.
    fn listen_syn(
        &mut self,
        now: Instant,
        l: usize,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        isn: Option<u32>,
    ) {
        let sys = &self.config.sysctls;
        let Some(lst) = self.listeners.get(l) else {
            return;
        };
        // Linux: tcp_conn_request(). A full request queue would switch to syncookies, which
        // tcplab does not model yet: the SYN is dropped and the peer retries.
        let reqsk_queue_full = lst.qlen > lst.max_ack_backlog;
        let no_cookie_pressure = sys.tcp_syncookies == 0
            && sys.tcp_max_syn_backlog.saturating_sub(lst.qlen) < (sys.tcp_max_syn_backlog >> 2);
        if (isn.is_none() && reqsk_queue_full) || lst.accept_queue_full() || no_cookie_pressure {
            self.out.drop(DropReason::ListenOverflow);
            return;
        }
        let iss = isn.unwrap_or_else(|| {
            self.isn
                .isn(now, local.ip(), local.port(), remote.ip(), remote.port())
        });
        let ts_offset = self.isn.ts_offset(local.ip(), remote.ip());
        let ip_hdr = if local.is_ipv4() { 20 } else { 40 };
        let mut advmss = self.config.mtu.saturating_sub(ip_hdr + 20);
        if lst.opts.user_mss != 0 {
            advmss = advmss.min(u32::from(lst.opts.user_mss));
        }
        let mut rx_opt = RxOpt {
            tstamp_ok: sys.tcp_timestamps != 0 && seg.timestamps().is_some(),
            // Linux: tcp_ecn_create_request() — an ECN-setup SYN is accepted with tcp_ecn 1 or 2.
            ecn_ok: sys.tcp_ecn != 0 && seg.flags.contains(TcpFlags::ECE | TcpFlags::CWR),
            sack_ok: sys.tcp_sack != 0 && seg.sack_permitted(),
            ..RxOpt::default()
        };
        if let Some((tsval, _)) = seg.timestamps().filter(|_| rx_opt.tstamp_ok) {
            rx_opt.ts_recent = tsval;
            rx_opt.ts_recent_stamp = now;
        }
        let peer_ws = seg.window_scale().filter(|_| sys.tcp_window_scaling != 0);
        rx_opt.wscale_ok = peer_ws.is_some();
        rx_opt.snd_wscale = peer_ws.unwrap_or(0).min(crate::output::TCP_MAX_WSCALE);
        let peer_mss = u32::from(seg.mss().unwrap_or(536));
        rx_opt.mss_clamp = peer_mss.min(advmss) as u16;
        // Linux: tcp_openreq_init_rwin().
        // The listener's SO_RCVBUF, if set, limits the window and the clamp.
        let rcvbuf = lst.rcvbuf.unwrap_or(sys.tcp_rmem[1]);
        let full_space = crate::output::win_from_space(i64::from(rcvbuf)) as u32;
        let clamp = if lst.opts.rcvbuf_locked {
            full_space
        } else {
            0
        };
        let mss_for_window = advmss.saturating_sub(if rx_opt.tstamp_ok { 12 } else { 0 });
        let (rcv_wnd, window_clamp, rcv_wscale) = select_initial_window(
            full_space,
            mss_for_window,
            clamp,
            rx_opt.wscale_ok,
            sys.tcp_rmem[2],
            sys.rmem_max,
        );
        rx_opt.rcv_wscale = rcv_wscale;
        let req = ReqSock {
            listener: l,
            addrs: AddrPair::new(local, remote),
            iss,
            irs: seg.seq,
            ts_offset,
            rx_opt,
            advmss,
            rcv_wnd,
            window_clamp,
            snd_wnd: u32::from(seg.window),
            num_timeout: 0,
            num_retrans: 0,
            acked: false,
            synack_first: now,
            timer: None,
            expires: None,
            armed: None,
            last_oow_ack_time: 0,
            oow_ack_sent: false,
        };
        let mut ctx = ctx_of(&self.config, &mut self.out, now);
        req.send_synack(&mut ctx);
        let when = req.timeout(&ctx);
        let expires = ctx.expires(when);
        let deadline = ctx.fires(expires);
        self.out.trace(crate::api::Trace::State {
            local,
            remote,
            from: TcpState::Listen,
            to: TcpState::SynRecv,
        });
        let r = self.reqs.insert(ReqSock {
            timer: Some(deadline),
            expires: Some(expires),
            ..req
        });
        self.tuple_insert(local, remote, ConnRef::Req(r));
        if let Some(lst) = self.listeners.get_mut(l) {
            lst.qlen += 1;
            lst.young += 1;
        }
        self.sync_req_timer(r);
    }

    /// Linux: tcp_check_req() — a segment for a request socket.
    fn check_req(&mut self, now: Instant, r: usize, seg: &TcpRepr<'_>) {
        let Some(req) = self.reqs.get_mut(r) else {
            return;
        };
        let f = seg.flags;
        let (local, remote) = (req.local(), req.remote());
        let mut ctx = ctx_of(&self.config, &mut self.out, now);
        // A retransmitted SYN: answer with the SYN-ACK again, rate-limited.
        if seg.seq == req.irs && f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::RST) {
            if !req.oow_rate_limited(&ctx) {
                req.send_synack(&mut ctx);
                req.num_retrans += 1;
                let when = req.timeout(&ctx);
                req.expires = Some(ctx.expires(when));
                req.timer = req.expires.map(|e| ctx.fires(e));
            }
            self.sync_req_timer(r);
            return;
        }
        if f.contains(TcpFlags::ACK) && seg.ack != req.iss.wrapping_add(1) {
            if !f.contains(TcpFlags::RST) {
                send_reset_for(&mut self.out, local, remote, seg);
            }
            return;
        }
        let rcv_nxt = req.irs.wrapping_add(1);
        let end_seq = seg.seq.wrapping_add(seg.seg_len());
        let in_window =
            !before(end_seq, rcv_nxt) && !after(seg.seq, rcv_nxt.wrapping_add(req.rcv_wnd));
        if !in_window {
            if !f.contains(TcpFlags::RST) && !req.oow_rate_limited(&ctx) {
                req.send_synack(&mut ctx);
            }
            return;
        }
        // Linux: "In sequence, PAWS is OK": req->ts_recent = the segment's TSval when it does
        // not start after rcv_nxt, which a later SYN-ACK echoes.
        if let Some((tsval, _)) = seg.timestamps().filter(|_| req.rx_opt.tstamp_ok)
            && !after(seg.seq, rcv_nxt)
        {
            req.rx_opt.ts_recent = tsval;
        }
        if f.intersects(TcpFlags::RST | TcpFlags::SYN) {
            // RST or SYN in window: the embryo is dropped (SYN draws a reset).
            if f.contains(TcpFlags::SYN) {
                send_reset_for(&mut self.out, local, remote, seg);
            }
            self.drop_req(r);
            return;
        }
        if !f.contains(TcpFlags::ACK) {
            return;
        }
        let l = req.listener;
        // Linux: "While TCP_DEFER_ACCEPT is active, drop bare ACK": while num_timeout <
        // rskq_defer_accept and end_seq == rcv_isn + 1, set acked and wait for data.
        let defer = self.listeners.get(l).map_or(0, |lst| lst.rskq_defer_accept);
        if req.num_timeout < u32::from(defer) && end_seq == rcv_nxt {
            req.acked = true;
            return;
        }
        let full = self
            .listeners
            .get(l)
            .is_none_or(|lst| lst.accept_queue_full());
        if full {
            if self.config.sysctls.tcp_abort_on_overflow != 0 {
                send_reset_for(&mut self.out, local, remote, seg);
                self.drop_req(r);
            } else if let Some(req) = self.reqs.get_mut(r) {
                // Linux: the ACK is dropped and the SYN-ACK timer keeps retrying.
                req.acked = true;
                self.out.drop(DropReason::ListenOverflow);
            }
            return;
        }
        let Some(req) = self.reqs.remove(r) else {
            return;
        };
        if let Some(handle) = req.armed {
            self.disarm(handle, TimerRef::Req(r as u32));
        }
        // The tuple passes to the child (a map's insert would overwrite the entry; the table
        // finds entries through their records, and this one is gone).
        self.tuples.remove(local, remote, ConnRef::Req(r));
        if let Some(lst) = self.listeners.get_mut(l) {
            lst.qlen = lst.qlen.saturating_sub(1);
            if req.num_timeout == 0 {
                lst.young = lst.young.saturating_sub(1);
            }
        }
        let c = self.create_child(now, &req);
        self.tuple_insert(local, remote, ConnRef::Conn(c));
        *self.ports.entry(local.port()).or_insert(0) += 1;
        let (mut ctx, conns) = self.ctx(now);
        let Some(sock) = conns.get_mut(c) else { return };
        let verdict = sock.rcv(&mut ctx, seg);
        let established = sock.state != TcpState::SynRecv && sock.state != TcpState::Close;
        if verdict.send_reset {
            send_reset_for(&mut self.out, local, remote, seg);
        }
        self.finish(now, c, verdict.disposition);
        if established
            && self.conns.get(c).is_some()
            && let Some(lst) = self.listeners.get_mut(l)
        {
            lst.accept_queue.push_back(c);
            let fd = lst.fd;
            self.out.events.push_back((fd, Event::Acceptable));
        }
    }

    fn drop_req(&mut self, r: usize) {
        if let Some(req) = self.reqs.remove(r) {
            let (local, remote) = (req.local(), req.remote());
            self.out.trace(crate::api::Trace::State {
                local,
                remote,
                from: TcpState::SynRecv,
                to: TcpState::Close,
            });
            if let Some(handle) = req.armed {
                self.disarm(handle, TimerRef::Req(r as u32));
            }
            self.tuples.remove(local, remote, ConnRef::Req(r));
            if let Some(lst) = self.listeners.get_mut(req.listener) {
                lst.qlen = lst.qlen.saturating_sub(1);
                if req.num_timeout == 0 {
                    lst.young = lst.young.saturating_sub(1);
                }
            }
        }
    }

    /// Linux: tcp_create_openreq_child() — the full socket for a completed passive open, in
    /// SYN_RECV with its SYN-ACK in the retransmission queue; the ACK that completes the
    /// handshake is then processed by it.
    fn create_child(&mut self, now: Instant, req: &ReqSock) -> usize {
        // The child inherits the listener's options and buffer sizes (Linux: sk_clone_lock()).
        let (opts, sndbuf, rcvbuf) = self
            .listeners
            .get(req.listener)
            .map(|l| (l.opts, l.sndbuf, l.rcvbuf))
            .unwrap_or_default();
        let mut sock = self.new_sock(req.local(), req.remote(), opts, sndbuf, rcvbuf);
        sock.state = TcpState::SynRecv;
        sock.rare.listener = Some(req.listener);
        sock.iss = req.iss;
        sock.snd_una = req.iss;
        sock.snd_nxt = req.iss.wrapping_add(1);
        sock.write_seq = req.iss.wrapping_add(1);
        // Linux: tcp_create_openreq_child() — write_seq = pushed_seq = snt_isn + 1.
        sock.pushed_seq = sock.write_seq;
        sock.sndbuf_seq = sock.write_seq;
        sock.snd_sml = sock.write_seq;
        sock.irs = req.irs;
        sock.rcv_nxt = req.irs.wrapping_add(1);
        sock.rcv_wup = sock.rcv_nxt;
        sock.copied_seq = sock.rcv_nxt;
        sock.rcv_wnd = req.rcv_wnd;
        sock.rcv_ssthresh = req.rcv_wnd;
        sock.window_clamp = req.window_clamp;
        sock.rx_opt = req.rx_opt;
        sock.ts_offset = req.ts_offset;
        sock.advmss = req.advmss;
        sock.snd_wnd = req.snd_wnd;
        sock.snd_wl1 = req.irs;
        sock.max_window = req.snd_wnd;
        sock.stats.total_retrans = req.num_retrans;
        sock.queues.rtx.push_back(TxSeg {
            seq: req.iss,
            end_seq: req.iss.wrapping_add(1),
            syn: true,
            fin: false,
            psh: false,
            sent_at: req.synack_first,
            ever_retrans: req.num_retrans > 0,
            sacked: false,
            lost: false,
            retrans: false,
        });
        sock.packets_out = 1;
        let ctx = ctx_of(&self.config, &mut self.out, now);
        sock.sync_mss(&ctx);
        self.conns.insert(sock)
    }

    /// A new full socket with Linux's initial values (tcp_init_sock()).
    fn new_sock(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        opts: SockOpts,
        sndbuf: Option<u32>,
        rcvbuf: Option<u32>,
    ) -> Sock {
        let sys = &self.config.sysctls;
        let hz = self.config.hz;
        let ip_hdr = if remote.is_ipv4() { 20 } else { 40 };
        let mut advmss = self.config.mtu.saturating_sub(ip_hdr + 20);
        if opts.user_mss != 0 {
            advmss = advmss.min(u32::from(opts.user_mss));
        }
        let mss_cache = 536;
        Sock {
            state: TcpState::Close,
            fd: None,
            local,
            remote,
            opts,
            queues: Lazy::new(),
            recovery: Lazy::new(),
            rare: Lazy::new(),
            iss: 0,
            snd_una: 0,
            snd_nxt: 0,
            snd_wnd: 0,
            snd_wl1: 0,
            max_window: 0,
            write_seq: 0,
            sndbuf_seq: 0,
            sndbuf_cap: sndbuf.unwrap_or(sys.tcp_wmem[1]),
            pushed_seq: 0,
            fin_queued: false,
            snd_sml: 0,
            mss_cache,
            advmss,
            pmtu: self.config.mtu,
            irs: 0,
            rcv_nxt: 0,
            rcv_wnd: 0,
            rcv_wup: 0,
            rcv_ssthresh: 0,
            window_clamp: 0,
            copied_seq: 0,
            rcvbuf_cap: rcvbuf.unwrap_or(sys.tcp_rmem[1]),
            scaling_ratio: crate::output::TCP_DEFAULT_SCALING_RATIO,
            rcvq_space: 0,
            rcvq_seq: 0,
            rcvq_time: Instant::ZERO,
            rcv_rtt_us: 0,
            fin_received: false,
            rx_opt: RxOpt {
                mss_clamp: 536,
                ..RxOpt::default()
            },
            ts_offset: 0,
            rcv_shutdown: false,
            snd_shutdown: false,
            slots: [None; 3],
            expires: [None; 3],
            xmit_kind: None,
            icsk_rto: hz.msecs_to_jiffies(1000),
            icsk_backoff: 0,
            icsk_retransmits: 0,
            icsk_probes_out: 0,
            ack: AckState {
                pingpong: if opts.pingpong {
                    sys.tcp_pingpong_thresh
                } else {
                    0
                },
                ..AckState::default()
            },
            last_oow_ack_time: None,
            rtt: RttEstimator::new(),
            cc: CcState::new(mss_cache),
            ca: new_cc(sys.tcp_congestion_control, hz),
            ca_state: CaState::Open,
            packets_out: 0,
            rack: crate::socket::Rack::INIT,
            cwnd_usage_seq: 0,
            stats: Stats::default(),
            connecting: false,
        }
    }
}
