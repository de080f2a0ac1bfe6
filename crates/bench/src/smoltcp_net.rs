//! The workloads on two smoltcp interfaces.
//!
//! Each host is an `Interface` (medium IP, MTU as given, checksums computed and verified:
//! `ChecksumCapabilities::default()`) with its own `SocketSet`, polled with a device that reads
//! one of the link's queues and writes the other. smoltcp runs with its defaults (no congestion
//! control unless a `socket-tcp-*` feature picks one, Nagle on, 10 ms delayed ACK, no
//! timestamps, 10 s TIME_WAIT) except for what it needs to run these workloads at speed:
//! - bulk: 1 MiB receive and send buffers per socket (window scaling follows from the receive
//!   buffer's size), so the window is not what limits it;
//! - churn: 4 KiB buffers; a new listening socket per cycle (smoltcp has no backlog);
//! - many: 1 KiB buffers and one listening socket per connection.
//!
//! An application loop here is what smoltcp's examples do: poll, act on the sockets, poll
//! again so what the application queued goes out.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use crate::link::{Datagram, Pool, Queue};
use crate::{
    BULK_BUFFER, BenchError, BulkResult, CHUNK, ChurnResult, MESSAGE_LEN, ManyResult,
    ONE_WAY_DELAY, Pattern, SERVER_PORT, TimeWait, message, server_ports_for,
};

const NAME: &str = "smoltcp";
const MAX_ROUNDS: u32 = 1_000_000;
/// Socket buffer sizes (see the module docs).
const CHURN_BUFFER: usize = 4096;
const MANY_BUFFER: usize = 1024;
/// The first client port the application picks (smoltcp has no ephemeral-port allocator).
const CLIENT_PORT_BASE: u16 = 1024;
const CLIENT_PORTS: u64 = 64_000;

pub const CLIENT: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
pub const SERVER: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);

/// One end of the link as smoltcp sees it: received datagrams come from `rx`, sent ones go
/// to `tx`.
struct Port<'n> {
    rx: &'n mut Queue,
    tx: &'n mut Queue,
    pool: &'n RefCell<Pool>,
    mtu: usize,
}

struct RxToken<'n> {
    datagram: Datagram,
    pool: &'n RefCell<Pool>,
}

struct TxToken<'n> {
    tx: &'n mut Queue,
    pool: &'n RefCell<Pool>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        let r = f(self.datagram.bytes());
        self.pool.borrow_mut().give(self.datagram.buf);
        r
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut buf = self.pool.borrow_mut().take();
        let r = f(&mut buf[..len]);
        self.tx.push_back(Datagram { buf, len });
        r
    }
}

impl Device for Port<'_> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let datagram = self.rx.pop_front()?;
        Some((
            RxToken {
                datagram,
                pool: self.pool,
            },
            TxToken {
                tx: self.tx,
                pool: self.pool,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(TxToken {
            tx: self.tx,
            pool: self.pool,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

/// One smoltcp host.
pub struct Host {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

/// Two smoltcp hosts on the link: `a` the client (10.0.0.1), `b` the server (10.0.0.2).
#[derive(Debug)]
pub struct Net {
    pub a: Host,
    pub b: Host,
    pub now: Instant,
    ab: Queue,
    ba: Queue,
    pool: RefCell<Pool>,
    mtu: usize,
}

fn host(addr: Ipv4Address, mtu: usize, seed: u64, now: Instant) -> Host {
    let mut config = Config::new(HardwareAddress::Ip);
    config.random_seed = seed;
    let (mut rx, mut tx) = (VecDeque::new(), VecDeque::new());
    let pool = RefCell::new(Pool::new(mtu));
    let mut port = Port {
        rx: &mut rx,
        tx: &mut tx,
        pool: &pool,
        mtu,
    };
    let mut iface = Interface::new(config, &mut port, now);
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(addr), 24));
    });
    Host {
        iface,
        sockets: SocketSet::new(Vec::new()),
    }
}

fn socket(buffer: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; buffer]),
        tcp::SocketBuffer::new(vec![0u8; buffer]),
    )
}

impl Net {
    pub fn new(mtu: u32) -> Net {
        let now = Instant::from_micros(0);
        let mtu = mtu as usize;
        Net {
            a: host(CLIENT, mtu, 1, now),
            b: host(SERVER, mtu, 2, now),
            now,
            ab: Queue::new(),
            ba: Queue::new(),
            pool: RefCell::new(Pool::new(mtu)),
            mtu,
        }
    }

    /// Polls a: takes what b sent, sends what a's sockets have.
    pub fn poll_a(&mut self) {
        let mut port = Port {
            rx: &mut self.ba,
            tx: &mut self.ab,
            pool: &self.pool,
            mtu: self.mtu,
        };
        self.a.iface.poll(self.now, &mut port, &mut self.a.sockets);
    }

    pub fn poll_b(&mut self) {
        let mut port = Port {
            rx: &mut self.ab,
            tx: &mut self.ba,
            pool: &self.pool,
            mtu: self.mtu,
        };
        self.b.iface.poll(self.now, &mut port, &mut self.b.sockets);
    }

    fn tick(&mut self) {
        self.now += smoltcp::time::Duration::from_micros(ONE_WAY_DELAY.as_micros() as u64);
    }

    pub fn idle(&self) -> bool {
        self.ab.is_empty() && self.ba.is_empty()
    }

    /// Jumps to the earlier host's next poll time and polls both.
    pub fn advance_to_timer(&mut self, waiting: &'static str) -> Result<(), BenchError> {
        let a = self.a.iface.poll_at(self.now, &self.a.sockets);
        let b = self.b.iface.poll_at(self.now, &self.b.sockets);
        let next = match (a, b) {
            (Some(x), Some(y)) => x.min(y),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => {
                return Err(BenchError::Stalled {
                    stack: NAME,
                    waiting,
                });
            }
        };
        // A deadline already passed still needs the clock to move for the next round.
        self.now = self
            .now
            .max(next)
            .max(self.now + smoltcp::time::Duration::from_micros(1));
        self.poll_a();
        self.poll_b();
        Ok(())
    }

    /// Runs the link until `done` holds: a round polls a then b, one delay apart; after a
    /// round in which neither host sent anything, the clock jumps to the next timer. `done`
    /// may act on sockets; what it queues goes out at the next poll.
    pub fn until(
        &mut self,
        waiting: &'static str,
        mut done: impl FnMut(&mut Net) -> Result<bool, BenchError>,
    ) -> Result<(), BenchError> {
        let mut quiet = false;
        for _ in 0..MAX_ROUNDS {
            if done(self)? {
                return Ok(());
            }
            if quiet {
                self.advance_to_timer(waiting)?;
            }
            self.tick();
            self.poll_a();
            let moved = self.ab.len();
            self.tick();
            self.poll_b();
            quiet = moved == 0 && self.idle();
        }
        Err(BenchError::Stalled {
            stack: NAME,
            waiting,
        })
    }

    pub fn client(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.a.sockets.get_mut::<tcp::Socket<'static>>(h)
    }

    pub fn server(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.b.sockets.get_mut::<tcp::Socket<'static>>(h)
    }

    /// A listening socket on b at `port`.
    pub fn listen(&mut self, port: u16, buffer: usize) -> Result<SocketHandle, BenchError> {
        let mut s = socket(buffer);
        s.listen(port)
            .map_err(|e| BenchError::call(NAME, "listen", e))?;
        Ok(self.b.sockets.add(s))
    }

    /// A socket on a connecting from `local_port` to b's `port`.
    pub fn connect(
        &mut self,
        local_port: u16,
        port: u16,
        buffer: usize,
    ) -> Result<SocketHandle, BenchError> {
        let mut s = socket(buffer);
        s.connect(
            self.a.iface.context(),
            (IpAddress::Ipv4(SERVER), port),
            local_port,
        )
        .map_err(|e| BenchError::call(NAME, "connect", e))?;
        Ok(self.a.sockets.add(s))
    }
}

/// One connection, `bytes` from a to b, as [`crate::tcplab_net::bulk`] does it.
pub fn bulk(bytes: u64, mtu: u32) -> Result<BulkResult, BenchError> {
    let mut net = Net::new(mtu);
    let sh = net.listen(SERVER_PORT, BULK_BUFFER)?;
    let ch = net.connect(CLIENT_PORT_BASE, SERVER_PORT, BULK_BUFFER)?;
    net.until("connecting", |n| {
        Ok(
            n.client(ch).state() == State::Established
                && n.server(sh).state() == State::Established,
        )
    })?;
    let pattern = Pattern::new();
    let mut rbuf = vec![0u8; CHUNK];
    let (mut sent, mut received, mut datagrams) = (0u64, 0u64, 0u64);
    let start = std::time::Instant::now();
    while received < bytes {
        {
            let s = net.client(ch);
            while sent < bytes {
                let n = (bytes - sent).min(CHUNK as u64) as usize;
                match s.send_slice(pattern.window(sent, n)) {
                    Ok(0) => break,
                    Ok(k) => sent += k as u64,
                    Err(e) => return Err(BenchError::call(NAME, "send", e)),
                }
            }
        }
        net.poll_a();
        datagrams += net.ab.len() as u64;
        net.tick();
        net.poll_b();
        {
            let s = net.b.sockets.get_mut::<tcp::Socket<'static>>(sh);
            while s.can_recv() {
                match s.recv_slice(&mut rbuf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Some(offset) = pattern.mismatch(received, &rbuf[..n]) {
                            return Err(BenchError::Corrupt {
                                stack: NAME,
                                offset,
                            });
                        }
                        received += n as u64;
                    }
                    Err(e) => return Err(BenchError::call(NAME, "recv", e)),
                }
            }
        }
        net.poll_b();
        datagrams += net.ba.len() as u64;
        net.tick();
        if net.idle() && received < bytes && sent == received {
            net.advance_to_timer("transferring")?;
        }
    }
    let elapsed = start.elapsed();
    Ok(BulkResult {
        bytes: received,
        elapsed,
        datagrams,
    })
}

/// `cycles` sequential connections as [`crate::tcplab_net::churn`] makes them. With
/// [`TimeWait::Honour`] each client socket stays in the set until its TIME_WAIT ends (the
/// application removes closed ones, oldest first, before each cycle); with
/// [`TimeWait::Discard`] it is removed as soon as it reaches TIME_WAIT. `budget` stops the
/// run early (smoltcp's socket scans make a long honoured run take minutes).
pub fn churn(
    cycles: u64,
    time_wait: TimeWait,
    budget: Option<Duration>,
) -> Result<ChurnResult, BenchError> {
    let mut net = Net::new(1500);
    let ports = server_ports_for(cycles);
    let mut waiting: VecDeque<SocketHandle> = VecDeque::new();
    let mut done = 0u64;
    let mut stopped = None;
    let start = std::time::Instant::now();
    while done < cycles {
        if let Some(b) = budget
            && done.is_multiple_of(64)
            && start.elapsed() >= b
        {
            stopped = Some(format!(
                "stopped by the {:.1} s time budget after {done} of {cycles} cycles",
                b.as_secs_f64()
            ));
            break;
        }
        while let Some(&h) = waiting.front() {
            if net.client(h).state() != State::Closed {
                break;
            }
            net.a.sockets.remove(h);
            waiting.pop_front();
        }
        let port = SERVER_PORT + (done % u64::from(ports)) as u16;
        let local = CLIENT_PORT_BASE + ((done / u64::from(ports)) % CLIENT_PORTS) as u16;
        let sh = net.listen(port, CHURN_BUFFER)?;
        let ch = net.connect(local, port, CHURN_BUFFER)?;
        churn_cycle(&mut net, ch, sh)?;
        net.b.sockets.remove(sh);
        match time_wait {
            TimeWait::Honour => waiting.push_back(ch),
            TimeWait::Discard => {
                net.a.sockets.remove(ch);
            }
        }
        done += 1;
    }
    let elapsed = start.elapsed();
    let time_wait_alive = waiting
        .iter()
        .filter(|&&h| net.client(h).state() == State::TimeWait)
        .count() as u64;
    Ok(ChurnResult {
        cycles: done,
        elapsed,
        time_wait_alive,
        virtual_time: Duration::from_micros(net.now.total_micros() as u64),
        stopped,
    })
}

fn churn_cycle(net: &mut Net, ch: SocketHandle, sh: SocketHandle) -> Result<(), BenchError> {
    net.until("connecting", |n| {
        Ok(n.client(ch).state() == State::Established)
    })?;
    net.client(ch)
        .send_slice(b"q")
        .map_err(|e| BenchError::call(NAME, "send", e))?;
    let mut byte = [0u8; 1];
    net.until("waiting for the request", |n| {
        let s = n.server(sh);
        if !s.can_recv() {
            return Ok(false);
        }
        match s.recv_slice(&mut byte) {
            Ok(1) if byte[0] == b'q' => {}
            Ok(_) => {
                return Err(BenchError::Corrupt {
                    stack: NAME,
                    offset: 0,
                });
            }
            Err(e) => return Err(BenchError::call(NAME, "recv", e)),
        }
        s.send_slice(b"r")
            .map_err(|e| BenchError::call(NAME, "send", e))?;
        Ok(true)
    })?;
    net.until("waiting for the response", |n| {
        let s = n.client(ch);
        if !s.can_recv() {
            return Ok(false);
        }
        match s.recv_slice(&mut byte) {
            Ok(1) if byte[0] == b'r' => {}
            Ok(_) => {
                return Err(BenchError::Corrupt {
                    stack: NAME,
                    offset: 0,
                });
            }
            Err(e) => return Err(BenchError::call(NAME, "recv", e)),
        }
        s.close();
        Ok(true)
    })?;
    net.until("waiting for end of stream", |n| {
        let s = n.server(sh);
        if s.may_recv() {
            return Ok(false);
        }
        s.close();
        Ok(true)
    })?;
    net.until("closing", |n| {
        Ok(n.idle()
            && n.server(sh).state() == State::Closed
            && matches!(n.client(ch).state(), State::TimeWait | State::Closed))
    })
}

/// As [`crate::tcplab_net::many`]: `conns` connections, then `passes` request/echo passes.
pub fn many(conns: usize, passes: u32) -> Result<ManyResult, BenchError> {
    let mut net = Net::new(1500);
    let ports = server_ports_for(conns as u64);
    let setup_start = std::time::Instant::now();
    let mut servers = Vec::with_capacity(conns);
    let mut clients = Vec::with_capacity(conns);
    for i in 0..conns {
        let port = SERVER_PORT + (i % usize::from(ports)) as u16;
        let local = CLIENT_PORT_BASE + ((i / usize::from(ports)) as u64 % CLIENT_PORTS) as u16;
        servers.push(net.listen(port, MANY_BUFFER)?);
        clients.push(net.connect(local, port, MANY_BUFFER)?);
    }
    net.until("opening connections", |n| {
        Ok(clients
            .iter()
            .all(|&h| n.client(h).state() == State::Established)
            && servers
                .iter()
                .all(|&h| n.server(h).state() == State::Established))
    })?;
    let setup = setup_start.elapsed();
    let mut buf = [0u8; MESSAGE_LEN];
    let start = std::time::Instant::now();
    for pass in 0..passes {
        for (i, &h) in clients.iter().enumerate() {
            let k = net
                .client(h)
                .send_slice(&message(i, pass))
                .map_err(|e| BenchError::call(NAME, "send", e))?;
            if k != MESSAGE_LEN {
                return Err(BenchError::call(NAME, "send", format!("{k} bytes")));
            }
        }
        let mut echoed = 0;
        net.until("echoing", |n| {
            for &h in &servers {
                let s = n.server(h);
                if s.recv_queue() < MESSAGE_LEN {
                    continue;
                }
                s.recv_slice(&mut buf)
                    .map_err(|e| BenchError::call(NAME, "recv", e))?;
                s.send_slice(&buf)
                    .map_err(|e| BenchError::call(NAME, "send", e))?;
                echoed += 1;
            }
            Ok(echoed == servers.len())
        })?;
        let mut back = 0;
        net.until("reading echoes", |n| {
            for (i, &h) in clients.iter().enumerate() {
                let s = n.client(h);
                if s.recv_queue() < MESSAGE_LEN {
                    continue;
                }
                s.recv_slice(&mut buf)
                    .map_err(|e| BenchError::call(NAME, "recv", e))?;
                if buf != message(i, pass) {
                    return Err(BenchError::Corrupt {
                        stack: NAME,
                        offset: 0,
                    });
                }
                back += 1;
            }
            Ok(back == clients.len())
        })?;
    }
    let elapsed = start.elapsed();
    Ok(ManyResult {
        conns,
        setup,
        messages: u64::from(passes) * conns as u64,
        elapsed,
    })
}
