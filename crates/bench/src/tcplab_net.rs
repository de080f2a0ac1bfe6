//! The workloads on two tcplab stacks.
//!
//! Both stacks run with Linux 6.18's default sysctls (`Sysctls::default()`: CUBIC,
//! timestamps, SACK, window scaling, receive-buffer autotuning, 60 s TIME_WAIT) and the
//! default timer-wheel model; only the MTU is set. After every input or command the link
//! drains the stack's datagrams and discards its events (the workloads use non-blocking calls
//! and retry on EAGAIN). The link takes each datagram in the buffer the stack built it in
//! (`poll_transmit_owned`) and gives the buffer back to that stack once the peer has read it
//! (`recycle_transmit`): each datagram is written once, as smoltcp writes each of its
//! datagrams once, straight into a buffer of the link's pool.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcplab_stack::{Domain, Errno, Fd, Instant, Stack, StackConfig, Sysctls, TcpState};

use crate::link::{Datagram, Queue};
use crate::{
    BenchError, BulkResult, CHUNK, ChurnResult, MESSAGE_LEN, ManyResult, ONE_WAY_DELAY, Pattern,
    SERVER_PORT, message, server_ports_for,
};

const NAME: &str = "tcplab";
/// Rounds one wait may take before the workload calls the connection stalled.
const MAX_ROUNDS: u32 = 1_000_000;
/// Connections opened per batch in `many` (below the default somaxconn of 4096).
const MANY_BATCH: usize = 1000;

pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Two tcplab hosts on the link: `a` the client (10.0.0.1), `b` the server (10.0.0.2).
#[derive(Debug)]
pub struct Net {
    pub a: Stack,
    pub b: Stack,
    pub now: Instant,
    /// Datagrams from a to b, and from b to a.
    ab: Queue,
    ba: Queue,
}

fn errno(call: &'static str, e: Errno) -> BenchError {
    BenchError::call(NAME, call, e)
}

impl Net {
    pub fn new(mtu: u32) -> Net {
        Net::with_sysctls(mtu, &Sysctls::default())
    }

    /// Both hosts with these sysctls instead of Linux's defaults (for experiments; the
    /// workloads use the defaults).
    pub fn with_sysctls(mtu: u32, sysctls: &Sysctls) -> Net {
        let config = |addr: Ipv4Addr, seed| StackConfig {
            addrs: vec![IpAddr::V4(addr)],
            mtu,
            seed,
            sysctls: sysctls.clone(),
            ..StackConfig::default()
        };
        Net {
            a: Stack::new(config(CLIENT, 1)),
            b: Stack::new(config(SERVER, 2)),
            now: Instant::ZERO,
            ab: Queue::new(),
            ba: Queue::new(),
        }
    }

    /// Moves what `a` queued onto the link and drops its events.
    pub fn flush_a(&mut self) {
        drain(&mut self.a, self.now, &mut self.ab);
    }

    pub fn flush_b(&mut self) {
        drain(&mut self.b, self.now, &mut self.ba);
    }

    /// One link delay later: b takes everything a sent, then runs its due timers.
    pub fn deliver_to_b(&mut self) {
        self.now += ONE_WAY_DELAY;
        deliver(&mut self.b, &mut self.a, self.now, &mut self.ab);
        drain(&mut self.b, self.now, &mut self.ba);
    }

    pub fn deliver_to_a(&mut self) {
        self.now += ONE_WAY_DELAY;
        deliver(&mut self.a, &mut self.b, self.now, &mut self.ba);
        drain(&mut self.a, self.now, &mut self.ab);
    }

    /// True when no datagram is in flight.
    pub fn idle(&self) -> bool {
        self.ab.is_empty() && self.ba.is_empty()
    }

    /// Jumps to the earlier host's next timer and runs it.
    pub fn advance_to_timer(&mut self, waiting: &'static str) -> Result<(), BenchError> {
        let next = match (self.a.poll_timeout(), self.b.poll_timeout()) {
            (Some(x), Some(y)) => x.min(y),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => {
                return Err(BenchError::Stalled {
                    stack: NAME,
                    waiting,
                });
            }
        };
        self.now = self.now.max(next);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush_a();
        self.flush_b();
        Ok(())
    }

    /// Runs the link until `done` holds: a round is a delivery each way, and an idle link
    /// jumps to the next timer.
    pub fn until(
        &mut self,
        waiting: &'static str,
        mut done: impl FnMut(&mut Net) -> Result<bool, BenchError>,
    ) -> Result<(), BenchError> {
        for _ in 0..MAX_ROUNDS {
            if done(self)? {
                return Ok(());
            }
            if self.idle() {
                self.advance_to_timer(waiting)?;
            } else {
                self.deliver_to_b();
                self.deliver_to_a();
            }
        }
        Err(BenchError::Stalled {
            stack: NAME,
            waiting,
        })
    }

    /// Accepts every connection waiting on b's listeners `lfds`, appending them to `into`.
    pub fn accept_all(&mut self, lfds: &[Fd], into: &mut Vec<Fd>) -> Result<(), BenchError> {
        for &l in lfds {
            loop {
                match self.b.accept(self.now, l) {
                    Ok((fd, _)) => into.push(fd),
                    Err(Errno::EAGAIN) => break,
                    Err(e) => return Err(errno("accept", e)),
                }
            }
        }
        Ok(())
    }

    /// After a batch of connect()s: accepts until `sfds` has `batch` more connections, then
    /// waits until every client in `cfds` is established and nothing is in flight.
    pub fn settle_batch(
        &mut self,
        lfds: &[Fd],
        sfds: &mut Vec<Fd>,
        batch: usize,
        cfds: &[Fd],
    ) -> Result<(), BenchError> {
        let want = sfds.len() + batch;
        self.until("opening connections", |n| {
            n.accept_all(lfds, sfds)?;
            Ok(sfds.len() == want)
        })?;
        self.until("finishing handshakes", |n| {
            Ok(n.idle()
                && cfds
                    .iter()
                    .all(|&fd| n.a.state(fd) == Some(TcpState::Established)))
        })
    }

    /// A listening socket on b at `port`.
    pub fn listen(&mut self, port: u16) -> Result<Fd, BenchError> {
        let fd = self
            .b
            .socket(Domain::Inet)
            .map_err(|e| errno("socket", e))?;
        let addr = SocketAddr::new(IpAddr::V4(SERVER), port);
        self.b.bind(fd, addr).map_err(|e| errno("bind", e))?;
        self.b.listen(fd, 4096).map_err(|e| errno("listen", e))?;
        Ok(fd)
    }

    /// A connect() from a to b's `port`, SYN sent. `Ok(None)` if a has no port left.
    pub fn start_connect(&mut self, port: u16) -> Result<Option<Fd>, BenchError> {
        let fd = self
            .a
            .socket(Domain::Inet)
            .map_err(|e| errno("socket", e))?;
        let dst = SocketAddr::new(IpAddr::V4(SERVER), port);
        match self.a.connect(self.now, fd, dst) {
            Err(Errno::EINPROGRESS) => {}
            Err(Errno::EADDRNOTAVAIL) => {
                let _ = self.a.close(self.now, fd);
                return Ok(None);
            }
            Ok(()) => {}
            Err(e) => return Err(errno("connect", e)),
        }
        self.flush_a();
        Ok(Some(fd))
    }
}

fn drain(stack: &mut Stack, now: Instant, queue: &mut Queue) {
    while let Some((t, buf)) = stack.poll_transmit_owned(now) {
        queue.push_back(Datagram { buf, len: t.len });
    }
    while stack.poll_event().is_some() {}
}

/// `stack` reads what `sender` queued; each buffer goes back to `sender`, which built it.
fn deliver(stack: &mut Stack, sender: &mut Stack, now: Instant, queue: &mut Queue) {
    while let Some(d) = queue.pop_front() {
        stack.handle_packet(now, d.bytes());
        sender.recycle_transmit(d.buf);
    }
    if stack.poll_timeout().is_some_and(|t| t <= now) {
        stack.handle_timeout(now);
    }
}

/// Opens one connection and accepts it: (client fd, server fd).
fn open_one(net: &mut Net, lfd: Fd) -> Result<(Fd, Fd), BenchError> {
    let cfd = net
        .start_connect(SERVER_PORT)?
        .ok_or_else(|| errno("connect", Errno::EADDRNOTAVAIL))?;
    Ok((cfd, accept_one(net, lfd, cfd)?))
}

/// Runs the link until b has accepted the connection from a's `cfd` on `lfd` and a sees it
/// established: the server's descriptor.
fn accept_one(net: &mut Net, lfd: Fd, cfd: Fd) -> Result<Fd, BenchError> {
    let mut sfd = None;
    net.until("connecting", |n| {
        if sfd.is_none() {
            match n.b.accept(n.now, lfd) {
                Ok((fd, _)) => sfd = Some(fd),
                Err(Errno::EAGAIN) => {}
                Err(e) => return Err(errno("accept", e)),
            }
        }
        Ok(sfd.is_some() && n.a.state(cfd) == Some(TcpState::Established))
    })?;
    Ok(sfd.unwrap_or(Fd(0)))
}

/// One connection, `bytes` from a to b: the sender copies from the pattern, the receiver
/// copies into its buffer and compares. The clock starts after the handshake.
pub fn bulk(bytes: u64, mtu: u32) -> Result<BulkResult, BenchError> {
    bulk_with(bytes, mtu, &Sysctls::default())
}

/// [`bulk`] with smoltcp's buffer size as the cap of tcplab's: `tcp_rmem[2]` and `tcp_wmem[2]`
/// at [`crate::BULK_BUFFER`] on both hosts (autotuning still grows the buffers up to it, as
/// Linux's does). The like-for-like comparison: with Linux's default caps (32 MiB and 4 MiB)
/// the window grows to several MiB on this lossless link, and each round's data then spills
/// from the caches, which smoltcp's 1 MiB buffers never do.
pub fn bulk_equal(bytes: u64, mtu: u32) -> Result<BulkResult, BenchError> {
    bulk_with(bytes, mtu, &equal_buffers())
}

/// Linux's defaults with `tcp_rmem[2]` and `tcp_wmem[2]` at [`crate::BULK_BUFFER`].
pub fn equal_buffers() -> Sysctls {
    let mut sysctls = Sysctls::default();
    sysctls.tcp_rmem[2] = crate::BULK_BUFFER as u32;
    sysctls.tcp_wmem[2] = crate::BULK_BUFFER as u32;
    sysctls
}

/// [`bulk`] with other sysctls on both hosts.
pub fn bulk_with(bytes: u64, mtu: u32, sysctls: &Sysctls) -> Result<BulkResult, BenchError> {
    let mut net = Net::with_sysctls(mtu, sysctls);
    let lfd = net.listen(SERVER_PORT)?;
    let (cfd, sfd) = open_one(&mut net, lfd)?;
    let pattern = Pattern::new();
    let mut rbuf = vec![0u8; CHUNK];
    let (mut sent, mut received, mut datagrams) = (0u64, 0u64, 0u64);
    let start = std::time::Instant::now();
    while received < bytes {
        while sent < bytes {
            let n = (bytes - sent).min(CHUNK as u64) as usize;
            match net.a.send(net.now, cfd, pattern.window(sent, n)) {
                Ok(k) => sent += k as u64,
                Err(Errno::EAGAIN) => break,
                Err(e) => return Err(errno("send", e)),
            }
        }
        net.flush_a();
        datagrams += net.ab.len() as u64;
        net.deliver_to_b();
        loop {
            match net.b.recv(net.now, sfd, &mut rbuf) {
                Ok(0) => return Err(errno("recv", Errno::ECONNRESET)),
                Ok(n) => {
                    if let Some(offset) = pattern.mismatch(received, &rbuf[..n]) {
                        return Err(BenchError::Corrupt {
                            stack: NAME,
                            offset,
                        });
                    }
                    received += n as u64;
                }
                Err(Errno::EAGAIN) => break,
                Err(e) => return Err(errno("recv", e)),
            }
        }
        net.flush_b();
        datagrams += net.ba.len() as u64;
        net.deliver_to_a();
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

/// `cycles` sequential connections from a to b, each: connect, a 1-byte request, a 1-byte
/// response, the client's close, the server's close after end of stream. The client's
/// TIME_WAIT records stay (Linux's 60 s); the run stops early if a runs out of ports.
pub fn churn(cycles: u64) -> Result<ChurnResult, BenchError> {
    let mut net = Net::new(1500);
    let ports = server_ports_for(cycles);
    let lfds = (0..ports)
        .map(|k| net.listen(SERVER_PORT + k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut done = 0;
    let mut stopped = None;
    let start = std::time::Instant::now();
    while done < cycles {
        let k = (done % u64::from(ports)) as usize;
        let Some(cfd) = net.start_connect(SERVER_PORT + k as u16)? else {
            stopped = Some(format!(
                "connect() failed with EADDRNOTAVAIL after {done} cycles: every ephemeral port \
                 to the {ports} server port(s) is held by a TIME_WAIT record"
            ));
            break;
        };
        churn_cycle(&mut net, lfds[k], cfd)?;
        done += 1;
    }
    let elapsed = start.elapsed();
    let time_wait_alive = (net.a.counts().2 + net.b.counts().2) as u64;
    Ok(ChurnResult {
        cycles: done,
        elapsed,
        time_wait_alive,
        virtual_time: Duration::from_nanos(net.now.as_nanos()),
        stopped,
    })
}

fn churn_cycle(net: &mut Net, lfd: Fd, cfd: Fd) -> Result<(), BenchError> {
    let sfd = accept_one(net, lfd, cfd)?;
    net.a
        .send(net.now, cfd, b"q")
        .map_err(|e| errno("send", e))?;
    net.flush_a();
    net.until("waiting for the request", |n| {
        if !read_exactly(&mut n.b, n.now, sfd, Some(b'q'), 0)? {
            return Ok(false);
        }
        n.b.send(n.now, sfd, b"r").map_err(|e| errno("send", e))?;
        n.flush_b();
        Ok(true)
    })?;
    net.until("waiting for the response", |n| {
        if !read_exactly(&mut n.a, n.now, cfd, Some(b'r'), 0)? {
            return Ok(false);
        }
        n.a.close(n.now, cfd).map_err(|e| errno("close", e))?;
        n.flush_a();
        Ok(true)
    })?;
    net.until("waiting for end of stream", |n| {
        if !read_exactly(&mut n.b, n.now, sfd, None, 1)? {
            return Ok(false);
        }
        n.b.close(n.now, sfd).map_err(|e| errno("close", e))?;
        n.flush_b();
        Ok(true)
    })?;
    // The server's FIN and the client's last ACK.
    net.until("closing", |n| Ok(n.idle()))
}

/// One recv() of a churn cycle: `Ok(false)` if nothing has come yet, `Ok(true)` once the
/// one byte `want` (or, with `None`, the end of the stream) is read; anything else is
/// corruption at stream offset `offset`.
fn read_exactly(
    stack: &mut Stack,
    now: Instant,
    fd: Fd,
    want: Option<u8>,
    offset: u64,
) -> Result<bool, BenchError> {
    let mut byte = [0u8; 1];
    match (stack.recv(now, fd, &mut byte), want) {
        (Ok(1), Some(w)) if byte[0] == w => Ok(true),
        (Ok(0), None) => Ok(true),
        (Ok(_), _) => Err(BenchError::Corrupt {
            stack: NAME,
            offset,
        }),
        (Err(Errno::EAGAIN), _) => Ok(false),
        (Err(e), _) => Err(errno("recv", e)),
    }
}

/// `conns` established connections, then `passes` passes in which every client sends a
/// 64-byte request, every server echoes it, and every client checks the echo. Setup opens
/// connections in batches of a thousand and accepts them.
pub fn many(conns: usize, passes: u32) -> Result<ManyResult, BenchError> {
    let mut net = Net::new(1500);
    let ports = server_ports_for(conns as u64);
    let lfds = (0..ports)
        .map(|k| net.listen(SERVER_PORT + k))
        .collect::<Result<Vec<_>, _>>()?;
    let setup_start = std::time::Instant::now();
    let mut cfds = Vec::with_capacity(conns);
    let mut sfds = Vec::with_capacity(conns);
    while cfds.len() < conns {
        let batch = (conns - cfds.len()).min(MANY_BATCH);
        let first = cfds.len();
        for i in first..first + batch {
            let port = SERVER_PORT + (i % usize::from(ports)) as u16;
            let fd = net
                .start_connect(port)?
                .ok_or_else(|| errno("connect", Errno::EADDRNOTAVAIL))?;
            cfds.push(fd);
        }
        net.settle_batch(&lfds, &mut sfds, batch, &cfds[first..])?;
    }
    let setup = setup_start.elapsed();
    let mut buf = [0u8; MESSAGE_LEN];
    let start = std::time::Instant::now();
    for pass in 0..passes {
        for (i, &fd) in cfds.iter().enumerate() {
            let n = net
                .a
                .send(net.now, fd, &message(i, pass))
                .map_err(|e| errno("send", e))?;
            if n != MESSAGE_LEN {
                return Err(errno("send", Errno::EAGAIN));
            }
        }
        net.flush_a();
        // Servers echo whatever each connection brought; a server may see its request in a
        // later round if the link needs one.
        let mut echoed = 0;
        net.until("echoing", |n| {
            n.deliver_to_b();
            for &fd in &sfds {
                match n.b.recv(n.now, fd, &mut buf) {
                    Ok(MESSAGE_LEN) => {
                        n.b.send(n.now, fd, &buf).map_err(|e| errno("send", e))?;
                        echoed += 1;
                    }
                    Ok(k) => return Err(BenchError::call(NAME, "recv", format!("{k} bytes"))),
                    Err(Errno::EAGAIN) => {}
                    Err(e) => return Err(errno("recv", e)),
                }
            }
            n.flush_b();
            Ok(echoed == sfds.len())
        })?;
        let mut back = 0;
        net.until("reading echoes", |n| {
            n.deliver_to_a();
            for (i, &fd) in cfds.iter().enumerate() {
                match n.a.recv(n.now, fd, &mut buf) {
                    Ok(MESSAGE_LEN) if buf == message(i, pass) => back += 1,
                    Ok(_) => {
                        return Err(BenchError::Corrupt {
                            stack: NAME,
                            offset: 0,
                        });
                    }
                    Err(Errno::EAGAIN) => {}
                    Err(e) => return Err(errno("recv", e)),
                }
            }
            Ok(back == cfds.len())
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
