//! Robustness: arbitrary bytes and hostile segments fed to `handle_packet` in every TCP state
//! never panic and never break an invariant.
//!
//! Each fixture brings one stack of a [`Pair`] into a state with a real peer (the handshake
//! and close run over the simulated link, with hooks dropping what must not arrive), checks
//! that the state was reached, and then takes that stack over: from then on the test is its
//! only peer, and nothing it sends reaches the other stack. The test feeds it
//! - arbitrary byte strings as whole datagrams, and as TCP segments behind a valid IP header
//!   with the connection's ports and a correct checksum (so they reach the TCP code);
//! - well-formed IPv4/IPv6 segments to the connection's 4-tuple with any of the 12 flag bits,
//!   sequence and acknowledgment numbers near the live values or anywhere, any window, option
//!   lists with malformed and unknown options, SACK blocks with random edges, timestamps old
//!   and new, and payloads;
//! - the same interleaved with `handle_timeout` at advancing times and with socket calls.
//!
//! After every step the stack's output is drained and these must hold:
//! - nothing panicked (the socket table and `TCP_INFO` are read and rendered every step too),
//!   and `check_invariants()` is Ok;
//! - every datagram sent parses as IP and TCP, its IPv4 header and TCP checksums are valid, and
//!   it matches the `Transmit` that carried it (addresses and ports);
//! - it fits the link MTU, leaves from one of the stack's own addresses and goes to the peer
//!   (or, for a datagram the test made up with another source, to that source);
//! - no RST answers a segment that carried RST.
//!
//! Fixtures run in three profiles (Linux's defaults; no timestamps, SACK or window scaling; the
//! smallest MTU) over IPv4 and IPv6. Proptests (fixed seed) shrink a failure to a short list of
//! steps; the hostile-peer tests run 20 seeds of 2,000 steps per state; regressions replay bugs.

use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRng, TestRunner};
use tcplab_stack::ss::{self, SsOptions};
use tcplab_stack::{Errno, Fd, Instant, Shutdown, SockOpt, Stack, StackConfig, TcpState};
use tcplab_testkit::{Direction, Pair, Side, Verdict};
use tcplab_wire::{
    IpHeader, IpRepr, Ipv4Packet, SackBlock, TcpFlags, TcpOption, TcpPacket, TcpRepr, emit_ip_tcp,
};

const SERVER_PORT: u16 = 80;
/// The source port of the made-up peer of a listener.
const LISTEN_PEER_PORT: u16 = 40_000;

// ---- fixtures -------------------------------------------------------------------------------

/// A state to start from, and how it is reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fixture {
    /// b listens; nothing has arrived.
    Listen,
    /// a connects; its SYNs are dropped.
    SynSent,
    /// b's request socket: a's handshake ACK is dropped.
    SynRecvPassive,
    /// a and b connect to each other at once; every segment with ACK is dropped.
    SynRecvSimultaneous,
    /// a, right after the handshake.
    Established,
    /// a with 30 kB unacknowledged (b's ACKs dropped).
    EstablishedInFlight,
    /// a shut down writing; b's ACKs dropped.
    FinWait1,
    /// a sent 5 kB and closed; b's ACKs dropped.
    FinWait1Orphan,
    /// a shut down writing; b acknowledged.
    FinWait2,
    /// a closed; b acknowledged (the orphan may live as a time-wait record).
    FinWait2Orphan,
    /// a and b shut down writing at once; b's plain ACKs are dropped.
    Closing,
    /// a closed first, then b.
    TimeWait,
    /// b, after a shut down writing.
    CloseWait,
    /// b shut down writing from CLOSE_WAIT; a's ACKs dropped.
    LastAck,
    /// b closed from CLOSE_WAIT; a's ACKs dropped.
    LastAckOrphan,
    /// a, still holding its descriptor, after b reset the connection.
    Closed,
}

const FIXTURES: [Fixture; 16] = [
    Fixture::Listen,
    Fixture::SynSent,
    Fixture::SynRecvPassive,
    Fixture::SynRecvSimultaneous,
    Fixture::Established,
    Fixture::EstablishedInFlight,
    Fixture::FinWait1,
    Fixture::FinWait1Orphan,
    Fixture::FinWait2,
    Fixture::FinWait2Orphan,
    Fixture::Closing,
    Fixture::TimeWait,
    Fixture::CloseWait,
    Fixture::LastAck,
    Fixture::LastAckOrphan,
    Fixture::Closed,
];

impl Fixture {
    fn state(self) -> TcpState {
        match self {
            Fixture::Listen => TcpState::Listen,
            Fixture::SynSent => TcpState::SynSent,
            Fixture::SynRecvPassive | Fixture::SynRecvSimultaneous => TcpState::SynRecv,
            Fixture::Established | Fixture::EstablishedInFlight => TcpState::Established,
            Fixture::FinWait1 | Fixture::FinWait1Orphan => TcpState::FinWait1,
            Fixture::FinWait2 | Fixture::FinWait2Orphan => TcpState::FinWait2,
            Fixture::Closing => TcpState::Closing,
            Fixture::TimeWait => TcpState::TimeWait,
            Fixture::CloseWait => TcpState::CloseWait,
            Fixture::LastAck | Fixture::LastAckOrphan => TcpState::LastAck,
            Fixture::Closed => TcpState::Close,
        }
    }
}

/// How both hosts are configured.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Profile {
    /// Linux's defaults: timestamps, SACK and window scaling on, MTU 1500.
    Linux,
    /// Timestamps, SACK and window scaling off.
    Bare,
    /// The smallest MTU each family allows (576 for IPv4, 1280 for IPv6).
    SmallMtu,
}

const PROFILES: [Profile; 3] = [Profile::Linux, Profile::Bare, Profile::SmallMtu];

/// The flags of a datagram on the link (none if it does not parse).
fn flags_of(bytes: &[u8]) -> TcpFlags {
    IpRepr::parse(bytes)
        .ok()
        .and_then(|(_, l4)| TcpRepr::parse(l4).ok())
        .map_or(TcpFlags::NONE, |t| t.flags)
}

fn drop_dir(dir: Direction) -> impl FnMut(&tcplab_testkit::Packet<'_>) -> Verdict {
    move |p| {
        if p.dir == dir {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    }
}

fn ok<T>(r: Result<T, Errno>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what} failed: {e:?}"))
}

fn close(pair: &mut Pair, side: Side, fd: Fd) {
    ok(pair.call(side, |s, now| s.close(now, fd)), "close");
}

fn shutdown_write(pair: &mut Pair, side: Side, fd: Fd) {
    ok(
        pair.call(side, |s, now| s.shutdown(now, fd, Shutdown::Write)),
        "shutdown",
    );
}

/// The only connection a stack holds in `state`, as (local, remote).
fn only_conn(stack: &Stack, state: TcpState) -> (SocketAddr, SocketAddr) {
    let found: Vec<_> = stack
        .connections()
        .into_iter()
        .filter(|c| c.2 == state)
        .collect();
    match found.as_slice() {
        [(l, r, _)] => (*l, *r),
        _ => panic!(
            "expected one connection in {state}, the stack holds {:?}",
            stack.connections()
        ),
    }
}

/// The state of the connection with this 4-tuple, if the stack holds it.
fn state_of(stack: &Stack, local: SocketAddr, remote: SocketAddr) -> Option<TcpState> {
    stack
        .connections()
        .into_iter()
        .find(|c| (c.0, c.1) == (local, remote))
        .map(|c| c.2)
}

/// A stack in a fixture's state, taken over from its pair.
struct Live {
    pair: Pair,
    fixture: Fixture,
    side: Side,
    /// The descriptor the application holds, if any.
    fd: Option<Fd>,
    listener: Option<Fd>,
    local: SocketAddr,
    remote: SocketAddr,
    anchors: Anchors,
    now: Instant,
    buf: Vec<u8>,
    /// Datagrams the stack sent since the takeover.
    sent: u64,
    /// What the test did since the takeover, one line a step, for failure messages.
    trace: Vec<String>,
    /// FNV-1a of every datagram and event the stack produced since the takeover.
    digest: u64,
}

impl Live {
    fn new(fixture: Fixture, profile: Profile, v6: bool, seed: u64) -> Live {
        let pair = Pair::with_seed(seed);
        let pair = if v6 { pair.ipv6() } else { pair };
        let mut pair = match profile {
            Profile::Linux => pair,
            Profile::Bare => pair.sysctls(|s| {
                s.tcp_timestamps = 0;
                s.tcp_sack = 0;
                s.tcp_window_scaling = 0;
            }),
            Profile::SmallMtu => {
                let config = StackConfig {
                    mtu: if v6 { 1280 } else { 576 },
                    ..StackConfig::default()
                };
                pair.config_a(config.clone()).config_b(config)
            }
        };
        let domain = pair.domain();
        let server = SocketAddr::new(pair.addr(Side::B), SERVER_PORT);
        let ms = Duration::from_millis;
        let (side, fd, listener) = match fixture {
            Fixture::Listen => {
                let l = pair.call_b(|s, _| -> Result<Fd, Errno> {
                    let fd = s.socket(domain)?;
                    s.bind(fd, server)?;
                    s.listen(fd, 16)?;
                    Ok(fd)
                });
                let l = ok(l, "listen");
                (Side::B, Some(l), Some(l))
            }
            Fixture::SynSent => {
                pair.add_hook(drop_dir(Direction::AtoB));
                let fd = pair.call_a(|s, now| -> Result<Fd, Errno> {
                    let fd = s.socket(domain)?;
                    match s.connect(now, fd, server) {
                        Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                        Err(e) => Err(e),
                    }
                });
                let fd = ok(fd, "connect");
                pair.run_for(ms(10));
                (Side::A, Some(fd), None)
            }
            Fixture::SynRecvPassive => {
                pair.add_hook(|p| {
                    let syn = flags_of(p.bytes).contains(TcpFlags::SYN);
                    if p.dir == Direction::AtoB && !syn {
                        Verdict::Drop
                    } else {
                        Verdict::Pass
                    }
                });
                let l = pair.call_b(|s, _| -> Result<Fd, Errno> {
                    let fd = s.socket(domain)?;
                    s.bind(fd, server)?;
                    s.listen(fd, 16)?;
                    Ok(fd)
                });
                let l = ok(l, "listen");
                let c = pair.call_a(|s, now| -> Result<Fd, Errno> {
                    let fd = s.socket(domain)?;
                    match s.connect(now, fd, server) {
                        Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                        Err(e) => Err(e),
                    }
                });
                ok(c, "connect");
                pair.run_for(ms(10));
                (Side::B, Some(l), Some(l))
            }
            Fixture::SynRecvSimultaneous => {
                pair.add_hook(|p| {
                    if flags_of(p.bytes).contains(TcpFlags::ACK) {
                        Verdict::Drop
                    } else {
                        Verdict::Pass
                    }
                });
                let a_addr = SocketAddr::new(pair.addr(Side::A), 5000);
                let b_addr = SocketAddr::new(pair.addr(Side::B), 6000);
                let open = |mine: SocketAddr, theirs: SocketAddr| {
                    move |s: &mut Stack, now: Instant| -> Result<Fd, Errno> {
                        let fd = s.socket(domain)?;
                        s.bind(fd, mine)?;
                        match s.connect(now, fd, theirs) {
                            Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                            Err(e) => Err(e),
                        }
                    }
                };
                let a = ok(pair.call_a(open(a_addr, b_addr)), "connect a");
                ok(pair.call_b(open(b_addr, a_addr)), "connect b");
                pair.run_for(ms(10));
                (Side::A, Some(a), None)
            }
            _ => {
                let (a, l, b) = pair.connect(SERVER_PORT);
                pair.run_for(ms(50));
                match fixture {
                    Fixture::Established => (Side::A, Some(a), None),
                    Fixture::EstablishedInFlight => {
                        pair.add_hook(drop_dir(Direction::BtoA));
                        let data = vec![0x5a; 30_000];
                        ok(pair.call_a(|s, now| s.send(now, a, &data)), "send");
                        pair.run_for(ms(5));
                        (Side::A, Some(a), None)
                    }
                    Fixture::FinWait1 => {
                        pair.add_hook(drop_dir(Direction::BtoA));
                        shutdown_write(&mut pair, Side::A, a);
                        pair.run_for(ms(5));
                        (Side::A, Some(a), None)
                    }
                    Fixture::FinWait1Orphan => {
                        pair.add_hook(drop_dir(Direction::BtoA));
                        let data = vec![0xa5; 5_000];
                        ok(pair.call_a(|s, now| s.send(now, a, &data)), "send");
                        close(&mut pair, Side::A, a);
                        pair.run_for(ms(5));
                        (Side::A, None, None)
                    }
                    Fixture::FinWait2 => {
                        shutdown_write(&mut pair, Side::A, a);
                        pair.run_for(ms(50));
                        (Side::A, Some(a), None)
                    }
                    Fixture::FinWait2Orphan => {
                        close(&mut pair, Side::A, a);
                        pair.run_for(ms(50));
                        (Side::A, None, None)
                    }
                    Fixture::Closing => {
                        pair.add_hook(|p| {
                            let fin = flags_of(p.bytes).contains(TcpFlags::FIN);
                            if p.dir == Direction::BtoA && !fin {
                                Verdict::Drop
                            } else {
                                Verdict::Pass
                            }
                        });
                        shutdown_write(&mut pair, Side::A, a);
                        shutdown_write(&mut pair, Side::B, b);
                        pair.run_for(ms(5));
                        (Side::A, Some(a), None)
                    }
                    Fixture::TimeWait => {
                        close(&mut pair, Side::A, a);
                        pair.run_for(ms(50));
                        close(&mut pair, Side::B, b);
                        pair.run_for(ms(50));
                        (Side::A, None, None)
                    }
                    Fixture::CloseWait => {
                        shutdown_write(&mut pair, Side::A, a);
                        pair.run_for(ms(50));
                        (Side::B, Some(b), Some(l))
                    }
                    Fixture::LastAck | Fixture::LastAckOrphan => {
                        shutdown_write(&mut pair, Side::A, a);
                        pair.run_for(ms(50));
                        pair.add_hook(drop_dir(Direction::AtoB));
                        if fixture == Fixture::LastAck {
                            shutdown_write(&mut pair, Side::B, b);
                        } else {
                            close(&mut pair, Side::B, b);
                        }
                        pair.run_for(ms(5));
                        let fd = (fixture == Fixture::LastAck).then_some(b);
                        (Side::B, fd, Some(l))
                    }
                    Fixture::Closed => {
                        let linger =
                            |s: &mut Stack, now| s.setsockopt(now, b, SockOpt::Linger(Some(0)));
                        ok(pair.call_b(linger), "SO_LINGER");
                        close(&mut pair, Side::B, b);
                        pair.run_for(ms(10));
                        (Side::A, Some(a), None)
                    }
                    _ => unreachable!("handled above"),
                }
            }
        };
        let state = fixture.state();
        let stack = pair.stack(side);
        let (local, remote) = if state == TcpState::Listen {
            (
                server,
                SocketAddr::new(pair.addr(Side::A), LISTEN_PEER_PORT),
            )
        } else if state == TcpState::Close {
            // A closed socket is no connection; its descriptor still knows the 4-tuple.
            let sock = fd.and_then(|fd| stack.sock(fd));
            sock.map(|s| (s.local, s.remote))
                .expect("the closed socket is held")
        } else {
            only_conn(stack, state)
        };
        if let Some(fd) = fd.filter(|&fd| Some(fd) != listener || state == TcpState::Listen) {
            assert_eq!(
                stack.state(fd),
                Some(state),
                "{fixture:?}: fd {fd}\n{}",
                pair.dump()
            );
        }
        if state != TcpState::Listen && state != TcpState::Close {
            assert_eq!(
                state_of(stack, local, remote),
                Some(state),
                "{fixture:?}\n{}",
                pair.dump()
            );
        }
        let anchors = Anchors::from_capture(&pair, side, local, remote);
        let now = pair.now();
        let mut live = Live {
            pair,
            fixture,
            side,
            fd,
            listener,
            local,
            remote,
            anchors,
            now,
            buf: vec![0; 65_536],
            sent: 0,
            trace: Vec::new(),
            digest: FNV_OFFSET,
        };
        live.refresh_anchors();
        live
    }

    fn stack(&mut self) -> &mut Stack {
        self.pair.stack_mut(self.side)
    }
}

// ---- live sequence values -------------------------------------------------------------------

/// The values a hostile segment is aimed near, learned from what the stack sent and, where
/// the application still holds the socket, read from it.
#[derive(Clone, Copy, Debug, Default)]
struct Anchors {
    snd_una: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    /// The peer's latest TSval.
    peer_ts: u32,
    /// The stack's latest TSval.
    our_ts: u32,
}

impl Anchors {
    fn from_capture(pair: &Pair, side: Side, local: SocketAddr, remote: SocketAddr) -> Anchors {
        let mut a = Anchors::default();
        for c in pair.captured() {
            let Ok((ip, l4)) = IpRepr::parse(&c.bytes) else {
                continue;
            };
            let Ok(tcp) = TcpRepr::parse(l4) else {
                continue;
            };
            let src = SocketAddr::new(ip.src(), tcp.src_port);
            let dst = SocketAddr::new(ip.dst(), tcp.dst_port);
            if c.dir == side.outbound() && (src, dst) == (local, remote) {
                a.learn_sent(&tcp);
            } else if !c.dropped && (src, dst) == (remote, local) {
                if tcp.flags.contains(TcpFlags::ACK) {
                    a.snd_una = tcp.ack;
                }
                if let Some((tsval, _)) = tcp.timestamps() {
                    a.peer_ts = tsval;
                }
            }
        }
        a
    }

    fn learn_sent(&mut self, tcp: &TcpRepr<'_>) {
        let end = tcp.seq.wrapping_add(tcp.seg_len());
        if self.snd_nxt == 0 || (end.wrapping_sub(self.snd_nxt) as i32) > 0 {
            self.snd_nxt = end;
        }
        if tcp.flags.contains(TcpFlags::ACK) && !tcp.flags.contains(TcpFlags::RST) {
            self.rcv_nxt = tcp.ack;
        }
        if let Some((tsval, _)) = tcp.timestamps() {
            self.our_ts = tsval;
        }
    }
}

impl Live {
    fn refresh_anchors(&mut self) {
        let Some(fd) = self.fd else { return };
        let Some(s) = self.pair.stack(self.side).sock(fd) else {
            return;
        };
        if (s.local, s.remote) != (self.local, self.remote) {
            return;
        }
        self.anchors.snd_una = s.snd_una;
        self.anchors.snd_nxt = s.snd_nxt;
        self.anchors.rcv_nxt = s.rcv_nxt;
        if s.rx_opt.tstamp_ok {
            self.anchors.peer_ts = s.rx_opt.ts_recent;
        }
    }
}

// ---- what the hostile peer does -------------------------------------------------------------

/// A sequence number relative to a live value, or anywhere.
#[derive(Clone, Copy, Debug)]
enum Pick {
    RcvNxt(i32),
    SndUna(i32),
    SndNxt(i32),
    Any(u32),
}

/// A timestamp relative to the peer's or the stack's latest, or anywhere.
#[derive(Clone, Copy, Debug)]
enum TsPick {
    Peer(i32),
    Ours(i32),
    Any(u32),
}

#[derive(Clone, Debug)]
enum Opt {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(Pick, Pick)>),
    /// SACK blocks `[snd_una + start, snd_una + start + len)`, which land in flight.
    SackRuns(Vec<(u32, u16)>),
    Timestamps(TsPick, TsPick),
    /// Any kind, or a known kind with a length that does not fit it.
    Raw(u8, Vec<u8>),
}

/// A well-formed segment to the connection's 4-tuple.
#[derive(Clone, Debug)]
struct Seg {
    /// All 12 bits.
    flags: u16,
    seq: Pick,
    ack: Pick,
    window: u16,
    urgent: u16,
    options: Vec<Opt>,
    /// Payload length; the bytes are `fill`, `fill + 1`, …
    len: u16,
    fill: u8,
    /// A source port other than the peer's.
    stray_port: Option<u16>,
}

#[derive(Clone, Copy, Debug)]
enum Call {
    Send(u16),
    Recv(u16),
    Shutdown(Shutdown),
    Close,
    Accept,
    SetOpt(SockOpt),
}

#[derive(Clone, Debug)]
enum Action {
    /// Arbitrary bytes as a whole datagram.
    Bytes(Vec<u8>),
    /// Arbitrary bytes as the TCP segment (the connection's ports written over the first four
    /// when long enough), behind a valid IP header, with a correct checksum.
    TcpBytes(Vec<u8>),
    Segment(Seg),
    /// A well-formed segment with bytes of its TCP header and payload flipped (at each
    /// position modulo the segment's length, XOR the mask), the checksum then made right.
    Mutated(Seg, Vec<(u8, u8)>),
    /// Time passes by this many microseconds; due timers run.
    Wait(u64),
    /// Time passes by this many microseconds and the driver is late: timers that fall due are
    /// left for the next `handle_timeout`.
    Late(u64),
    Call(Call),
}

fn offset() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => -2i32..=2,
        3 => -3_000i32..3_000,
        2 => -140_000i32..140_000,
        1 => any::<i32>(),
    ]
}

fn seq_pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => offset().prop_map(Pick::RcvNxt),
        1 => offset().prop_map(Pick::SndNxt),
        1 => any::<u32>().prop_map(Pick::Any),
    ]
}

fn ack_pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => offset().prop_map(Pick::SndUna),
        3 => offset().prop_map(Pick::SndNxt),
        1 => offset().prop_map(Pick::RcvNxt),
        1 => any::<u32>().prop_map(Pick::Any),
    ]
}

fn sack_edge() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => (0i32..40_000).prop_map(Pick::SndUna),
        1 => offset().prop_map(Pick::SndNxt),
        1 => any::<u32>().prop_map(Pick::Any),
    ]
}

fn ts_pick(fresh: TsPickKind) -> impl Strategy<Value = TsPick> {
    let near = match fresh {
        TsPickKind::Val => prop_oneof![
            4 => (0i32..5_000).prop_map(TsPick::Peer),
            2 => offset().prop_map(TsPick::Peer),
        ]
        .boxed(),
        TsPickKind::Ecr => prop_oneof![
            4 => (-3i32..=0).prop_map(TsPick::Ours),
            2 => offset().prop_map(TsPick::Ours),
        ]
        .boxed(),
    };
    prop_oneof![5 => near, 1 => any::<u32>().prop_map(TsPick::Any)]
}

#[derive(Clone, Copy)]
enum TsPickKind {
    Val,
    Ecr,
}

fn opt() -> impl Strategy<Value = Opt> {
    prop_oneof![
        2 => Just(Opt::Nop),
        1 => Just(Opt::Eol),
        1 => any::<u16>().prop_map(Opt::Mss),
        1 => any::<u8>().prop_map(Opt::WindowScale),
        1 => Just(Opt::SackPermitted),
        3 => prop::collection::vec((sack_edge(), sack_edge()), 1..=4).prop_map(Opt::Sack),
        3 => (ts_pick(TsPickKind::Val), ts_pick(TsPickKind::Ecr))
            .prop_map(|(v, e)| Opt::Timestamps(v, e)),
        2 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(k, d)| Opt::Raw(k, d)),
    ]
}

fn options() -> impl Strategy<Value = Vec<Opt>> {
    let fresh_ts = (0i32..3_000, -2i32..=0).prop_map(|(v, e)| {
        vec![
            Opt::Nop,
            Opt::Nop,
            Opt::Timestamps(TsPick::Peer(v), TsPick::Ours(e)),
        ]
    });
    let sack = prop_oneof![
        1 => prop::collection::vec((sack_edge(), sack_edge()), 1..=3).prop_map(Opt::Sack),
        2 => prop::collection::vec((0u32..40_000, 1u16..6_000), 1..=3).prop_map(Opt::SackRuns),
    ];
    let ts_and_sack = (0i32..3_000, sack).prop_map(|(v, sack)| {
        vec![
            Opt::Nop,
            Opt::Nop,
            Opt::Timestamps(TsPick::Peer(v), TsPick::Ours(0)),
            Opt::Nop,
            Opt::Nop,
            sack,
        ]
    });
    // What a SYN or SYN-ACK carries, with any values.
    let handshake = (any::<u16>(), any::<u8>(), 0i32..3_000, any::<bool>()).prop_map(
        |(mss, wscale, v, sack_ok)| {
            let mut o = vec![Opt::Mss(mss)];
            if sack_ok {
                o.push(Opt::SackPermitted);
            }
            o.push(Opt::Timestamps(TsPick::Peer(v), TsPick::Ours(0)));
            o.extend([Opt::Nop, Opt::WindowScale(wscale)]);
            o
        },
    );
    prop_oneof![
        4 => fresh_ts,
        3 => ts_and_sack,
        1 => handshake,
        1 => Just(Vec::new()),
        3 => prop::collection::vec(opt(), 0..6),
    ]
}

fn flags() -> impl Strategy<Value = u16> {
    let ack = TcpFlags::ACK.bits();
    let common = prop::sample::select(vec![
        ack,
        ack | TcpFlags::PSH.bits(),
        ack | TcpFlags::FIN.bits(),
        ack | TcpFlags::FIN.bits() | TcpFlags::PSH.bits(),
        TcpFlags::SYN.bits(),
        TcpFlags::SYN.bits() | ack,
        TcpFlags::RST.bits(),
        TcpFlags::RST.bits() | ack,
        TcpFlags::FIN.bits(),
        0,
        ack | TcpFlags::URG.bits(),
        ack | TcpFlags::ECE.bits() | TcpFlags::CWR.bits(),
    ]);
    prop_oneof![
        6 => common,
        2 => any::<u16>().prop_map(|f| f & TcpFlags::ALL.bits() & !TcpFlags::RST.bits()),
        1 => any::<u16>().prop_map(|f| f & TcpFlags::ALL.bits()),
    ]
}

fn seg() -> impl Strategy<Value = Seg> {
    let len = prop_oneof![4 => Just(0u16), 4 => 1u16..200, 1 => 1_000u16..1_500];
    let window = prop_oneof![3 => 400u16..=u16::MAX, 1 => Just(0u16), 1 => any::<u16>()];
    let stray = prop_oneof![15 => Just(None), 1 => any::<u16>().prop_map(Some)];
    (
        flags(),
        seq_pick(),
        ack_pick(),
        window,
        any::<u16>(),
        options(),
        len,
        any::<u8>(),
        stray,
    )
        .prop_map(
            |(flags, seq, ack, window, urgent, options, len, fill, stray_port)| Seg {
                flags,
                seq,
                ack,
                window,
                urgent,
                options,
                len,
                fill,
                stray_port,
            },
        )
}

fn bytes_action() -> impl Strategy<Value = Action> {
    let raw = prop::collection::vec(any::<u8>(), 0..120);
    prop_oneof![
        1 => raw.clone().prop_map(Action::Bytes),
        3 => raw.prop_map(Action::TcpBytes),
        4 => (seg(), prop::collection::vec((any::<u8>(), 1u8..=255), 1..4))
            .prop_map(|(s, flips)| Action::Mutated(s, flips)),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        3 => (1u16..20_000).prop_map(Call::Send),
        3 => (1u16..20_000).prop_map(Call::Recv),
        1 => prop::sample::select(vec![Shutdown::Read, Shutdown::Write, Shutdown::Both])
            .prop_map(Call::Shutdown),
        1 => Just(Call::Close),
        1 => Just(Call::Accept),
        2 => sockopt().prop_map(Call::SetOpt),
    ]
}

/// Options with the values that make timers short and buffers and segments small.
fn sockopt() -> impl Strategy<Value = SockOpt> {
    prop_oneof![
        any::<bool>().prop_map(SockOpt::KeepAlive),
        (0u32..5).prop_map(SockOpt::KeepIdle),
        (0u32..5).prop_map(SockOpt::KeepIntvl),
        (0u32..5).prop_map(SockOpt::KeepCnt),
        (0u32..3_000).prop_map(SockOpt::UserTimeout),
        (-1i32..10).prop_map(SockOpt::Linger2),
        prop::option::of(0u32..3).prop_map(SockOpt::Linger),
        (0u32..5_000).prop_map(SockOpt::RcvBuf),
        (0u32..5_000).prop_map(SockOpt::SndBuf),
        any::<bool>().prop_map(SockOpt::NoDelay),
        (0u32..2_000).prop_map(SockOpt::MaxSeg),
        (0u32..4).prop_map(SockOpt::QuickAck),
        (0u32..8).prop_map(SockOpt::SynCnt),
    ]
}

fn wait() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..2_000,
        3 => 2_000u64..400_000,
        1 => 400_000u64..130_000_000,
    ]
}

fn mixed_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => seg().prop_map(Action::Segment),
        1 => bytes_action(),
        3 => wait().prop_map(Action::Wait),
        1 => (0u64..300_000).prop_map(Action::Late),
        2 => call().prop_map(Action::Call),
    ]
}

// ---- feeding and checking -------------------------------------------------------------------

fn resolve(p: Pick, a: &Anchors) -> u32 {
    match p {
        Pick::RcvNxt(d) => a.rcv_nxt.wrapping_add_signed(d),
        Pick::SndUna(d) => a.snd_una.wrapping_add_signed(d),
        Pick::SndNxt(d) => a.snd_nxt.wrapping_add_signed(d),
        Pick::Any(v) => v,
    }
}

fn resolve_ts(p: TsPick, a: &Anchors) -> u32 {
    match p {
        TsPick::Peer(d) => a.peer_ts.wrapping_add_signed(d),
        TsPick::Ours(d) => a.our_ts.wrapping_add_signed(d),
        TsPick::Any(v) => v,
    }
}

fn tcp_option(o: &Opt, a: &Anchors) -> TcpOption {
    match o {
        Opt::Nop => TcpOption::Nop,
        Opt::Eol => TcpOption::Eol,
        Opt::Mss(v) => TcpOption::Mss(*v),
        Opt::WindowScale(v) => TcpOption::WindowScale(*v),
        Opt::SackPermitted => TcpOption::SackPermitted,
        Opt::Sack(blocks) => TcpOption::Sack(
            blocks
                .iter()
                .map(|&(l, r)| SackBlock {
                    left: resolve(l, a),
                    right: resolve(r, a),
                })
                .collect(),
        ),
        Opt::SackRuns(runs) => TcpOption::Sack(
            runs.iter()
                .map(|&(start, len)| {
                    let left = a.snd_una.wrapping_add(start);
                    SackBlock {
                        left,
                        right: left.wrapping_add(u32::from(len)),
                    }
                })
                .collect(),
        ),
        Opt::Timestamps(v, e) => TcpOption::Timestamps {
            tsval: resolve_ts(*v, a),
            tsecr: resolve_ts(*e, a),
        },
        Opt::Raw(kind, data) => TcpOption::Unknown {
            kind: *kind,
            data: data.clone(),
        },
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Live {
    fn ip_header(&self) -> IpHeader {
        IpHeader {
            src: self.remote.ip(),
            dst: self.local.ip(),
            ttl: 64,
            tos: 0,
            ident: 0,
            dont_frag: true,
            flow_label: 0,
        }
    }

    /// The datagram for a segment, aimed at the live values.
    fn datagram(&self, s: &Seg) -> Vec<u8> {
        let a = &self.anchors;
        let payload: Vec<u8> = (0..s.len).map(|i| s.fill.wrapping_add(i as u8)).collect();
        let mut options: Vec<TcpOption> = s.options.iter().map(|o| tcp_option(o, a)).collect();
        while options.iter().map(TcpOption::wire_len).sum::<usize>() > 40 {
            options.pop();
        }
        let repr = TcpRepr {
            src_port: s.stray_port.unwrap_or(self.remote.port()),
            dst_port: self.local.port(),
            seq: resolve(s.seq, a),
            ack: resolve(s.ack, a),
            flags: TcpFlags(s.flags),
            window: s.window,
            checksum: 0,
            urgent: s.urgent,
            options,
            option_padding: Vec::new(),
            payload: &payload,
        };
        let mut buf = vec![0; 40 + repr.buffer_len()];
        let n = emit_ip_tcp(&mut buf, &self.ip_header(), &repr)
            .unwrap_or_else(|e| panic!("cannot emit {repr:?}: {e}"));
        buf.truncate(n);
        buf
    }

    /// Arbitrary bytes as the TCP segment behind a valid IP header, with a valid checksum.
    fn tcp_bytes_datagram(&self, l4: &[u8]) -> Vec<u8> {
        let mut l4 = l4.to_vec();
        if l4.len() < 20 {
            l4.resize(20, 0);
        }
        l4[0..2].copy_from_slice(&self.remote.port().to_be_bytes());
        l4[2..4].copy_from_slice(&self.local.port().to_be_bytes());
        let filler = vec![0; l4.len() - 20];
        let template = TcpRepr {
            payload: &filler,
            ..TcpRepr::default()
        };
        let mut buf = vec![0; 40 + l4.len()];
        let n = emit_ip_tcp(&mut buf, &self.ip_header(), &template).expect("template emits");
        buf.truncate(n);
        let start = n - l4.len();
        buf[start..].copy_from_slice(&l4);
        let ok = TcpPacket::new_unchecked(&mut buf[start..])
            .fill_checksum(self.remote.ip(), self.local.ip());
        assert!(ok, "same family");
        buf
    }

    fn mutated(&self, seg: &Seg, flips: &[(u8, u8)]) -> Vec<u8> {
        let mut d = self.datagram(seg);
        let start = if self.local.is_ipv4() { 20 } else { 40 };
        let len = d.len() - start;
        for &(at, mask) in flips {
            d[start + usize::from(at) % len] ^= mask;
        }
        let (src, dst) = (self.remote.ip(), self.local.ip());
        assert!(TcpPacket::new_unchecked(&mut d[start..]).fill_checksum(src, dst));
        d
    }

    /// One step; `Err` names the first broken property (a panic is caught and reported too).
    fn step(&mut self, action: &Action) -> Result<(), String> {
        let r = catch_unwind(AssertUnwindSafe(|| self.step_inner(action)));
        let r = match r {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(format!("panicked: {msg}"))
            }
        };
        r.map_err(|e| {
            let skip = self.trace.len().saturating_sub(16);
            format!(
                "{:?} ({}) {} > {} at {}: {e}\n  step: {action:?}\n  anchors: {:?}\n  \
                 connections: {:?}\n  steps since the fixture{}:\n    {}",
                self.fixture,
                if self.local.is_ipv4() { "IPv4" } else { "IPv6" },
                self.local,
                self.remote,
                self.now,
                self.anchors,
                self.pair.stack(self.side).connections(),
                if skip > 0 {
                    format!(" (the last 16 of {})", self.trace.len())
                } else {
                    String::new()
                },
                self.trace[skip..].join("\n    "),
            )
        })
    }

    fn step_inner(&mut self, action: &Action) -> Result<(), String> {
        let now = self.now;
        let mut fed_rst = false;
        let mut fed_src = None;
        match action {
            Action::Bytes(b) => {
                if let Ok((ip, l4)) = IpRepr::parse(b) {
                    fed_src = Some(ip.src());
                    fed_rst = TcpRepr::parse(l4).is_ok_and(|t| t.flags.contains(TcpFlags::RST));
                }
                self.trace.push(format!("{now} packet {}", hex(b)));
                self.stack().handle_packet(now, b);
            }
            Action::Mutated(seg, flips) => {
                let d = self.mutated(seg, flips);
                fed_rst = flags_of(&d).contains(TcpFlags::RST);
                self.trace.push(format!("{now} packet {}", hex(&d)));
                self.stack().handle_packet(now, &d);
            }
            Action::TcpBytes(b) => {
                let d = self.tcp_bytes_datagram(b);
                fed_rst = flags_of(&d).contains(TcpFlags::RST);
                self.trace.push(format!("{now} packet {}", hex(&d)));
                self.stack().handle_packet(now, &d);
            }
            Action::Segment(s) => {
                let d = self.datagram(s);
                fed_rst = s.flags & TcpFlags::RST.bits() != 0;
                let tsval = IpRepr::parse(&d)
                    .ok()
                    .and_then(|(_, l4)| TcpRepr::parse(l4).ok())
                    .and_then(|t| t.timestamps());
                if let Some((tsval, _)) = tsval
                    && (tsval.wrapping_sub(self.anchors.peer_ts) as i32) > 0
                {
                    self.anchors.peer_ts = tsval;
                }
                self.trace.push(format!("{now} packet {}", hex(&d)));
                self.stack().handle_packet(now, &d);
            }
            Action::Wait(us) => {
                self.now = now + Duration::from_micros(*us);
                let now = self.now;
                self.trace.push(format!("{now} handle_timeout"));
                self.stack().handle_timeout(now);
            }
            Action::Late(us) => {
                self.now = now + Duration::from_micros(*us);
                self.trace.push(format!("{} (no handle_timeout)", self.now));
            }
            Action::Call(c) => {
                self.trace
                    .push(format!("{now} {c:?} on {:?}", self.fd.or(self.listener)));
                self.call(*c);
            }
        }
        self.drain(fed_rst, fed_src)?;
        self.pair.stack(self.side).check_invariants()?;
        self.introspect();
        self.refresh_anchors();
        Ok(())
    }

    /// Reads the socket table and `TCP_INFO` and renders every line, which must not panic.
    fn introspect(&self) {
        let stack = self.pair.stack(self.side);
        let all = SsOptions {
            timers: true,
            info: true,
            processes: true,
        };
        for (i, e) in stack.sockets(self.now).iter().enumerate() {
            ss::ss_line(e, all);
            ss::netstat_line(e, true, true);
            ss::proc_net_tcp_line(i, e);
        }
        if let Some(fd) = self.fd {
            let _ = stack.tcp_info(self.now, fd);
        }
    }

    /// A socket call; errors are the socket's business, only panics and invariants matter.
    fn call(&mut self, c: Call) {
        let now = self.now;
        let (fd, listener) = (self.fd, self.listener);
        let s = self.pair.stack_mut(self.side);
        let _ = match (c, fd) {
            (Call::Send(n), Some(fd)) => s.send(now, fd, &vec![0x42; usize::from(n)]).map(drop),
            (Call::Recv(n), Some(fd)) => s.recv(now, fd, &mut vec![0; usize::from(n)]).map(drop),
            (Call::Shutdown(how), Some(fd)) => s.shutdown(now, fd, how),
            (Call::Close, Some(fd)) => {
                self.fd = None;
                if listener == Some(fd) {
                    self.listener = None;
                }
                s.close(now, fd)
            }
            (Call::SetOpt(opt), _) => match fd.or(listener) {
                Some(fd) => s.setsockopt(now, fd, opt),
                None => Ok(()),
            },
            (Call::Accept, _) => match listener {
                // The accepted socket is closed at once: the test plays only one connection.
                Some(l) => s.accept(now, l).and_then(|(fd, _)| s.close(now, fd)),
                None => Ok(()),
            },
            (_, None) => Ok(()),
        };
    }

    fn drain(&mut self, fed_rst: bool, fed_src: Option<IpAddr>) -> Result<(), String> {
        let now = self.now;
        let (local, remote) = (self.local, self.remote);
        let stack = self.pair.stack_mut(self.side);
        let own = stack.config().addrs.clone();
        let mtu = stack.config().mtu;
        while let Some(t) = stack.poll_transmit(now, &mut self.buf) {
            let bytes = &self.buf[..t.len];
            let (ip, l4) = IpRepr::parse(bytes).map_err(|e| {
                format!("sent a datagram that does not parse ({e}): {}", hex(bytes))
            })?;
            let tcp = TcpRepr::parse(l4)
                .map_err(|e| format!("sent a segment that does not parse ({e}): {}", hex(bytes)))?;
            if !tcplab_wire::tcp::verify_checksum(ip.src(), ip.dst(), l4) {
                return Err(format!(
                    "sent a segment with a bad checksum: {}",
                    hex(bytes)
                ));
            }
            if ip.version() == 4 && !Ipv4Packet::new_unchecked(bytes).verify_checksum() {
                return Err(format!(
                    "sent an IPv4 header with a bad checksum: {}",
                    hex(bytes)
                ));
            }
            if t.len > mtu as usize {
                let head = &self.buf[..t.len.min(72)];
                return Err(format!(
                    "sent {} bytes on a link whose MTU is {mtu}: {}…",
                    t.len,
                    hex(head)
                ));
            }
            let (src, dst) = (
                SocketAddr::new(ip.src(), tcp.src_port),
                SocketAddr::new(ip.dst(), tcp.dst_port),
            );
            if (src, dst) != (t.src, t.dst) {
                return Err(format!(
                    "Transmit says {} > {} but the datagram is {src} > {dst}",
                    t.src, t.dst
                ));
            }
            if !own.contains(&ip.src()) {
                return Err(format!("sent from {} which is not the stack's", ip.src()));
            }
            if ip.dst() != remote.ip() && Some(ip.dst()) != fed_src {
                return Err(format!("sent to {} which is not the peer", ip.dst()));
            }
            if fed_rst && tcp.flags.contains(TcpFlags::RST) {
                return Err(format!("answered a RST with a RST: {}", hex(bytes)));
            }
            if (src, dst) == (local, remote) {
                self.anchors.learn_sent(&tcp);
            }
            self.sent += 1;
            self.digest = fnv(self.digest, bytes);
        }
        while let Some(e) = stack.poll_event() {
            self.digest = fnv(self.digest, format!("{e:?}").as_bytes());
        }
        Ok(())
    }
}

// ---- proptests ------------------------------------------------------------------------------

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x7c91_ab05),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

fn run(
    fixture: Fixture,
    profile: Profile,
    v6: bool,
    seed: u64,
    actions: &[Action],
) -> Result<(), String> {
    let mut live = Live::new(fixture, profile, v6, seed);
    for (i, a) in actions.iter().enumerate() {
        live.step(a)
            .map_err(|e| format!("step {i} of {} (pair seed {seed}): {e}", actions.len()))?;
    }
    Ok(())
}

// ---- the hostile peer -----------------------------------------------------------------------

/// Steps per seed and state; a fixture is rebuilt when its connection is gone or after
/// `EPISODE` steps, so most steps hit a live connection.
const STEPS: usize = 2_000;
const EPISODE: usize = 250;
const SEEDS: u64 = 20;

/// Plays a hostile peer against `fixture`: `SEEDS` seeds × `STEPS` mixed steps; successive
/// fixtures alternate IPv4 and IPv6 and cycle through the profiles.
fn hostile_peer(fixture: Fixture) {
    let strategy = mixed_action();
    for seed in 0..SEEDS {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8] = fixture as u8;
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let mut done = 0;
        let mut episode = 0u64;
        while done < STEPS {
            let v6 = episode % 2 == 1;
            let profile = PROFILES[(episode / 2 % 3) as usize];
            let pair_seed = seed * 1_000 + episode;
            let mut live = Live::new(fixture, profile, v6, pair_seed);
            for step in 0..EPISODE {
                let action = strategy.new_tree(&mut runner).expect("strategy").current();
                if let Err(e) = live.step(&action) {
                    panic!(
                        "hostile peer, seed {seed}, episode {episode} (pair seed {pair_seed}, {}), \
                         step {step}: {e}",
                        if v6 { "IPv6" } else { "IPv4" },
                    );
                }
                done += 1;
                let gone = match live.fixture.state() {
                    TcpState::Listen => live.listener.is_none(),
                    TcpState::Close => live.fd.is_none(),
                    _ => !matches!(
                        state_of(live.pair.stack(live.side), live.local, live.remote),
                        Some(s) if s != TcpState::Close
                    ),
                };
                if gone {
                    break;
                }
            }
            episode += 1;
        }
    }
}

/// For each state: the three proptests and the hostile peer.
macro_rules! state_tests {
    ($($name:ident => $fixture:ident,)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config(64))]

                /// (a) Arbitrary bytes, as datagrams and as TCP segments that pass the checksum.
                #[test]
                fn arbitrary_bytes(
                    v6 in any::<bool>(),
                    seed in 0u64..4,
                    profile in prop::sample::select(PROFILES.to_vec()),
                    actions in prop::collection::vec(bytes_action(), 1..24),
                ) {
                    let r = run(Fixture::$fixture, profile, v6, seed, &actions);
                    prop_assert!(r.is_ok(), "{}", r.unwrap_err());
                }

                /// (b) Well-formed segments to the connection with arbitrary fields and options.
                #[test]
                fn hostile_segments(
                    v6 in any::<bool>(),
                    seed in 0u64..4,
                    profile in prop::sample::select(PROFILES.to_vec()),
                    actions in prop::collection::vec(seg().prop_map(Action::Segment), 1..24),
                ) {
                    let r = run(Fixture::$fixture, profile, v6, seed, &actions);
                    prop_assert!(r.is_ok(), "{}", r.unwrap_err());
                }

                /// (c) Segments and bytes interleaved with timeouts at advancing times and
                /// socket calls.
                #[test]
                fn segments_timers_and_calls(
                    v6 in any::<bool>(),
                    seed in 0u64..4,
                    profile in prop::sample::select(PROFILES.to_vec()),
                    actions in prop::collection::vec(mixed_action(), 1..32),
                ) {
                    let r = run(Fixture::$fixture, profile, v6, seed, &actions);
                    prop_assert!(r.is_ok(), "{}", r.unwrap_err());
                }
            }

            #[test]
            fn hostile_peer() {
                super::hostile_peer(Fixture::$fixture);
            }
        }
    )*};
}

state_tests! {
    listen => Listen,
    syn_sent => SynSent,
    syn_recv_passive => SynRecvPassive,
    syn_recv_simultaneous => SynRecvSimultaneous,
    established => Established,
    established_in_flight => EstablishedInFlight,
    fin_wait1 => FinWait1,
    fin_wait1_orphan => FinWait1Orphan,
    fin_wait2 => FinWait2,
    fin_wait2_orphan => FinWait2Orphan,
    closing => Closing,
    time_wait => TimeWait,
    close_wait => CloseWait,
    last_ack => LastAck,
    last_ack_orphan => LastAckOrphan,
    closed => Closed,
}

/// Running the same steps twice from the same fixture gives the same datagrams and events
/// (nothing in the stack's output depends on hash order or on anything but its inputs).
#[test]
fn same_steps_same_output() {
    let strategy = mixed_action();
    for (i, fixture) in FIXTURES.into_iter().enumerate() {
        let key = [i as u8 + 1; 32];
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &key),
        );
        let actions: Vec<Action> = (0..300)
            .map(|_| strategy.new_tree(&mut runner).expect("strategy").current())
            .collect();
        let play = || {
            let mut live = Live::new(fixture, Profile::Linux, i % 2 == 1, i as u64);
            // A broken invariant is the other tests' business; compare up to it.
            let steps = actions.iter().take_while(|a| live.step(a).is_ok()).count();
            (steps, live.sent, live.digest)
        };
        assert_eq!(play(), play(), "{fixture:?}");
    }
}

/// Every fixture reaches its state, over IPv4 and IPv6, in every profile.
#[test]
fn fixtures_reach_their_states() {
    for fixture in FIXTURES {
        for v6 in [false, true] {
            for profile in PROFILES {
                // `Live::new` asserts the state; this checks what it leaves behind.
                let live = Live::new(fixture, profile, v6, 7);
                let stack = live.pair.stack(live.side);
                let what = format!("{fixture:?} {profile:?} v6={v6}");
                assert_eq!(stack.check_invariants(), Ok(()), "{what}");
                assert_eq!(live.local.is_ipv6(), v6, "{what}");
                let tuple = state_of(stack, live.local, live.remote);
                if matches!(fixture.state(), TcpState::Listen | TcpState::Close) {
                    let state = live.fd.and_then(|fd| stack.state(fd));
                    assert_eq!(state, Some(fixture.state()), "{what}");
                } else {
                    assert_eq!(tuple, Some(fixture.state()), "{what}");
                }
            }
        }
    }
}

// ---- regressions ----------------------------------------------------------------------------
//
// Failures the tests above found, kept as fixed sequences of steps.

/// Runs `steps` from `fixture` and fails with the first broken property.
fn replay(fixture: Fixture, v6: bool, steps: &[Action]) {
    let mut live = Live::new(fixture, Profile::Linux, v6, 0);
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = live.step(step) {
            panic!("step {i}: {e}");
        }
    }
}

/// An ACK carrying fresh timestamps.
fn ack_seg(seq: Pick, ack: Pick) -> Seg {
    Seg {
        flags: TcpFlags::ACK.bits(),
        seq,
        ack,
        window: 1_000,
        urgent: 0,
        options: vec![
            Opt::Nop,
            Opt::Nop,
            Opt::Timestamps(TsPick::Peer(1), TsPick::Ours(0)),
        ],
        len: 0,
        fill: 0,
        stray_port: None,
    }
}

/// A FIN with one byte before it, the byte sitting where the peer's first FIN was: the second
/// FIN must not move `rcv_nxt` again (it broke "rcv_nxt - copied_seq = queued bytes + FIN").
#[test]
fn data_and_fin_over_a_received_fin() {
    for fixture in [Fixture::CloseWait, Fixture::Closing, Fixture::LastAck] {
        for v6 in [false, true] {
            let seg = Seg {
                flags: (TcpFlags::ACK | TcpFlags::FIN).bits(),
                len: 1,
                ..ack_seg(Pick::RcvNxt(-1), Pick::SndUna(0))
            };
            replay(fixture, v6, &[Action::Segment(seg)]);
        }
    }
}

/// A reset after the retransmission timer fired: the closed socket, still held by its
/// descriptor, must not keep lost/retransmitted counts for a queue that was emptied.
#[test]
fn reset_after_a_retransmission() {
    for v6 in [false, true] {
        let rst = Seg {
            flags: TcpFlags::RST.bits(),
            options: Vec::new(),
            ..ack_seg(Pick::RcvNxt(0), Pick::SndUna(0))
        };
        let steps = [
            Action::Call(Call::Send(1)),
            Action::Wait(400_000),
            Action::Segment(rst),
        ];
        replay(Fixture::Established, v6, &steps);
    }
}

/// An acknowledgment that ends inside a segment, after the retransmission timer fired: the
/// retransmission it triggers must start at the acknowledged byte (it once panicked in
/// `Sock::transmit` slicing the send buffer from before its start, "range end index
/// 4294968743 out of range for slice of length 28551").
#[test]
fn partial_ack_inside_a_retransmitted_segment() {
    for v6 in [false, true] {
        let steps = [
            Action::Wait(400_000),
            Action::Segment(ack_seg(Pick::RcvNxt(0), Pick::SndUna(1_449))),
        ];
        replay(Fixture::EstablishedInFlight, v6, &steps);
    }
}

/// A retransmission that carries SACK blocks must still fit the MTU (Linux: tcp_current_mss()
/// takes the SACK option's bytes off the MSS, and tcp_retransmit_skb() fragments a segment
/// larger than that). It once went out as a full 1448-byte segment behind a 44-byte header
/// (timestamps and one SACK block): a 1512-byte IPv4 datagram on a 1500-byte link.
#[test]
fn retransmission_with_sack_blocks_fits_the_mtu() {
    for v6 in [false, true] {
        // Data the peer never acknowledges, one byte out of order from the peer so that the
        // stack has a SACK block to report, and the retransmission timer.
        let out_of_order = Seg {
            len: 1,
            ..ack_seg(Pick::RcvNxt(1), Pick::SndUna(0))
        };
        let steps = [
            Action::Call(Call::Send(3_000)),
            Action::Segment(out_of_order),
            Action::Wait(1_000_000),
        ];
        replay(Fixture::Established, v6, &steps);
    }
}
