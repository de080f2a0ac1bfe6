//! `tcplab up`: a tcplab host on a TUN device, reachable by the kernel's own tools.
//!
//! The process creates a TUN device (optionally inside a network namespace), gives the
//! kernel's side of it an address in tcplab's prefix, and runs the stack on it in real time
//! with small applications, each like a classic tool:
//!
//! - `--listen PORT` with `--echo` (every byte back), `--discard` (read and drop, the default)
//!   or `--http` (one static HTTP/1.1 response per connection, then close);
//! - `--connect ADDR:PORT`, which sends stdin or `--send-bytes N` bytes of the pattern, shuts
//!   down its sending side (as `nc -N`), reads to end of stream and closes.
//!
//! One line per connection event goes to stdout: accepted, connected, end of stream, errors,
//! and at close the bytes and SHA-256 of each direction. `--ss-every` and SIGUSR1 print the
//! stack's `ss -tanoi`; `-v` adds every datagram (tcpdump's line) and every state change and
//! timer, orphans included.
//!
//! The first ctrl-c (or SIGTERM) closes every socket as a process exit does (unread data
//! draws a reset, the rest a FIN); the process stays until the orphans are gone, except
//! TIME-WAIT records, which only re-acknowledge a retransmitted FIN and are dropped at exit.
//! A second ctrl-c quits at once. With `--connect` and no `--listen` the process ends the
//! same way once its connection is closed.
//!
//! Guarantees: nothing is sent before the device is configured; a bad option, a missing
//! namespace or a missing permission is a one-line message and exit status 2 or 1, never a
//! panic; the pcap file is complete at every exit but a kill.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tcplab_stack::ss::{SocketEntry, SsOptions, ss_table};
use tcplab_stack::{
    Domain, Errno, Event, Fd, Hz, Instant, Shutdown, StackConfig, Sysctls, TcpState, Trace,
};
use tcplab_tun::{Direction, Driver, TunConfig, TunDevice};

/// Bytes moved per `send`, `recv` and stdin `read` call.
const CHUNK: usize = 65536;
/// The listener's backlog.
const BACKLOG: i32 = 128;
/// The most an HTTP request's header may take before it is refused with 431.
const MAX_REQUEST_HEAD: usize = 65536;
/// Calls per connection per turn of the loop, so one busy connection cannot starve the
/// others or the device.
const CALLS_PER_TURN: usize = 64;

/// What the listener's connections do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send back every byte received; close after the peer's end of stream.
    Echo,
    /// Read and drop; close after the peer's end of stream.
    Discard,
    /// Read a request head, answer `200 OK` with `size` bytes of the pattern, close.
    Http { size: u64 },
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Discard => "discard",
            Mode::Http { .. } => "http",
        }
    }
}

/// What `tcplab up` runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub dev: String,
    /// tcplab's address and the link's prefix length.
    pub addr: (IpAddr, u8),
    /// The kernel's address on the link; `None` picks the first free host address.
    pub peer_addr: Option<IpAddr>,
    pub mtu: u16,
    pub netns: Option<String>,
    /// Sysctl writes, after the file, in order.
    pub sysctls: Vec<(String, String)>,
    pub sysctl_file: Option<PathBuf>,
    pub hz: Hz,
    pub seed: Option<u64>,
    pub listen: Option<(u16, Mode)>,
    pub connect: Option<SocketAddr>,
    /// Bytes of the pattern `--connect` sends; `None` sends stdin.
    pub send_bytes: Option<u64>,
    /// Where `--connect` writes what it receives.
    pub output: Option<PathBuf>,
    pub ss_every: Option<Duration>,
    pub pcap: Option<PathBuf>,
    pub verbose: bool,
}

/// Parses `ADDR/PREFIX`.
pub fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
    let usage =
        || format!("expected ADDR/PREFIX such as 10.7.0.2/24 or fd00:7::2/64, got \"{text}\"");
    let (addr, prefix) = text.trim().split_once('/').ok_or_else(usage)?;
    let addr: IpAddr = addr.parse().map_err(|_| usage())?;
    let prefix: u8 = prefix.parse().map_err(|_| usage())?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > bits {
        return Err(format!(
            "a prefix of {addr} is at most /{bits}, got /{prefix}"
        ));
    }
    if addr.is_unspecified() || addr.is_loopback() || addr.is_multicast() {
        return Err(format!("{addr} cannot be a host's address on a link"));
    }
    Ok((addr, prefix))
}

/// Parses a positive number of seconds, such as `1` or `0.25`.
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected seconds such as 1 or 0.5, got \"{text}\""))?;
    if !(0.001..=1e6).contains(&secs) {
        return Err(format!(
            "expected between 0.001 and 1000000 seconds, got {text}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// The kernel's address: `given` checked against the prefix, or the first host address of
/// the prefix that is not tcplab's (network + 1, else network + 2; the other one of a /31
/// or /127). IPv4 network and broadcast addresses are refused for either side.
pub fn kernel_addr(addr: (IpAddr, u8), given: Option<IpAddr>) -> Result<IpAddr, String> {
    let (ours, prefix) = addr;
    let width: u32 = if ours.is_ipv4() { 32 } else { 128 };
    let host_bits = width - u32::from(prefix);
    let mask = if host_bits >= 128 {
        0
    } else {
        (u128::MAX << host_bits) & (u128::MAX >> (128 - width))
    };
    let net = to_bits(ours) & mask;
    let last = net | (!mask & (u128::MAX >> (128 - width)));
    let cidr = format!("{}/{prefix}", from_bits(ours, net));
    // A /31 or /127 is a point-to-point link where both addresses are hosts (RFC 3021).
    let reserved = |bits: u128| ours.is_ipv4() && host_bits >= 2 && (bits == net || bits == last);
    if reserved(to_bits(ours)) {
        return Err(format!(
            "{ours} is the network or broadcast address of {cidr}; give tcplab a host address"
        ));
    }
    if let Some(peer) = given {
        if peer.is_ipv4() != ours.is_ipv4() {
            return Err(format!(
                "--peer-addr {peer} is not of the same family as {ours}"
            ));
        }
        let bits = to_bits(peer);
        if bits & mask != net {
            return Err(format!("--peer-addr {peer} is not in {cidr}"));
        }
        if peer == ours {
            return Err(format!("--peer-addr {peer} is tcplab's own address"));
        }
        if reserved(bits) {
            return Err(format!(
                "--peer-addr {peer} is the network or broadcast address of {cidr}"
            ));
        }
        return Ok(peer);
    }
    match host_bits {
        0 => Err(format!(
            "{cidr} leaves no address for the kernel's side of the link; use a wider prefix \
             such as /24"
        )),
        1 => Ok(from_bits(ours, to_bits(ours) ^ 1)),
        _ => {
            let first = net + 1;
            Ok(from_bits(
                ours,
                if first == to_bits(ours) {
                    net + 2
                } else {
                    first
                },
            ))
        }
    }
}

/// Fills `buf` with the pattern from stream offset `offset` on: 32-byte lines, each the
/// offset of its first byte in 16 hex digits followed by ` tcplab-pattern\n`, so every line
/// is different and readable (`0000000000000020 tcplab-pattern`).
pub fn pattern_fill(offset: u64, buf: &mut [u8]) {
    const TAIL: &[u8; 16] = b" tcplab-pattern\n";
    let mut at = offset;
    let mut i = 0;
    while i < buf.len() {
        let line = at & !31;
        let col = (at - line) as usize;
        let mut text = [0u8; 32];
        let hex = format!("{line:016x}");
        text[..16].copy_from_slice(hex.as_bytes());
        text[16..].copy_from_slice(TAIL);
        let n = (32 - col).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&text[col..col + n]);
        i += n;
        at += n as u64;
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A timestamp as the output prints it, right-aligned: `  0.001000`.
fn stamp(at: Instant) -> String {
    format!("{:>10}", at.to_string())
}

/// Who sent the first FIN of a connection, as far as the application sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum First {
    Tcplab,
    Peer,
}

/// What a connection still has to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// Nothing but what the role pushes (echo data, an HTTP head).
    Nothing,
    /// The pattern from `next` up to `end`.
    Pattern { next: u64, end: u64 },
    /// Standard input, until its end.
    Stdin { eof: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Accepted(Mode),
    Connect,
}

/// An HTTP connection's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Http {
    /// Reading the request head (what came so far).
    Head(Vec<u8>),
    /// The response is queued or being sent.
    Responding,
}

#[derive(Debug)]
struct Conn {
    fd: Fd,
    peer: SocketAddr,
    role: Role,
    received: u64,
    rx_hash: Sha256,
    sent: u64,
    tx_hash: Sha256,
    /// Bytes to send, from `out_at` on.
    out: Vec<u8>,
    out_at: usize,
    source: Source,
    /// An HTTP connection's progress; `None` for the other roles.
    http: Option<Http>,
    eof: bool,
    wr_shut: bool,
    first_fin: Option<First>,
    closed: bool,
    failed: bool,
}

impl Conn {
    fn new(fd: Fd, peer: SocketAddr, role: Role, source: Source) -> Conn {
        Conn {
            fd,
            peer,
            role,
            received: 0,
            rx_hash: Sha256::new(),
            sent: 0,
            tx_hash: Sha256::new(),
            out: Vec::new(),
            out_at: 0,
            source,
            http: match role {
                Role::Accepted(Mode::Http { .. }) => Some(Http::Head(Vec::new())),
                _ => None,
            },
            eof: false,
            wr_shut: false,
            first_fin: None,
            closed: false,
            failed: false,
        }
    }

    fn out_empty(&self) -> bool {
        self.out_at == self.out.len()
    }

    /// Whether everything this connection will ever send has been handed to the stack.
    fn all_sent(&self) -> bool {
        self.out_empty()
            && match self.source {
                Source::Nothing => !matches!(self.http, Some(Http::Head(_))),
                Source::Pattern { next, end } => next >= end,
                Source::Stdin { eof } => eof,
            }
    }

    fn wants_stdin(&self) -> bool {
        !self.closed && self.out_empty() && self.source == (Source::Stdin { eof: false })
    }

    /// Puts the next piece of the pattern in the output buffer when it is empty.
    fn refill(&mut self) -> bool {
        if !self.out_empty() {
            return false;
        }
        let Source::Pattern { next, end } = self.source else {
            return false;
        };
        if next >= end {
            return false;
        }
        let n = (end - next).min(CHUNK as u64) as usize;
        self.out.resize(n, 0);
        pattern_fill(next, &mut self.out);
        self.out_at = 0;
        self.source = Source::Pattern {
            next: next + n as u64,
            end,
        };
        true
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.out_empty() {
            self.out.clear();
            self.out_at = 0;
        }
        self.out.extend_from_slice(bytes);
    }
}

/// Every line the run prints goes through here, so a failed write is remembered and ends
/// the run instead of being lost.
struct Log<'a, W: Write> {
    out: &'a mut W,
    error: Option<io::Error>,
}

impl<W: Write> Log<'_, W> {
    fn line(&mut self, at: Instant, text: impl std::fmt::Display) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{} {text}", stamp(at))
        {
            self.error = Some(e);
        }
    }
    fn raw(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.error = Some(e);
        }
    }
}

/// The applications: the listener, the connections and the `--connect` output file.
struct Apps {
    listener: Option<(Fd, Mode)>,
    conns: Vec<Conn>,
    output: Option<BufWriter<File>>,
    /// Whether the `--connect` connection failed.
    connect_failed: bool,
    buf: Vec<u8>,
}

impl Apps {
    fn wants_stdin(&self) -> Option<usize> {
        self.conns.iter().position(Conn::wants_stdin)
    }

    /// Makes every call that can make progress now.
    fn pump<W: Write>(&mut self, driver: &mut Driver, log: &mut Log<'_, W>) {
        let now = driver.now();
        let stack = driver.stack_mut();
        while let Some((fd, event)) = stack.poll_event() {
            let Some(conn) = self.conns.iter_mut().find(|c| c.fd == fd && !c.closed) else {
                continue;
            };
            match event {
                Event::Connected => {
                    let local = stack
                        .sockets(now)
                        .into_iter()
                        .find(|e| e.fd == Some(fd))
                        .map(|e| e.local.to_string())
                        .unwrap_or_else(|| "?".into());
                    log.line(now, format!("fd {fd}: connected {local} -> {}", conn.peer));
                }
                Event::Error(errno) => fail(conn, errno, stack, now, log),
                _ => {}
            }
        }
        if let Some((listener, mode)) = self.listener {
            loop {
                match stack.accept(now, listener) {
                    Ok((fd, peer)) => {
                        log.line(now, format!("fd {fd}: accepted {peer} ({})", mode.name()));
                        let conn = Conn::new(fd, peer, Role::Accepted(mode), Source::Nothing);
                        self.conns.push(conn);
                    }
                    Err(Errno::EAGAIN) => break,
                    Err(e) => {
                        log.line(now, format!("fd {listener}: accept() failed with {e}"));
                        break;
                    }
                }
            }
        }
        for conn in &mut self.conns {
            if conn.closed {
                continue;
            }
            pump_conn(conn, stack, now, &mut self.buf, self.output.as_mut(), log);
        }
        self.connect_failed |= self
            .conns
            .iter()
            .any(|c| c.failed && c.role == Role::Connect);
        self.conns.retain(|c| !c.closed);
    }

    /// Closes every socket, as the kernel does when a process exits.
    fn close_all<W: Write>(&mut self, driver: &mut Driver, log: &mut Log<'_, W>) {
        let now = driver.now();
        let stack = driver.stack_mut();
        if let Some((fd, _)) = self.listener.take() {
            let _ = stack.close(now, fd);
        }
        for conn in &mut self.conns {
            if !conn.closed {
                close(conn, stack, now, log);
            }
        }
        self.conns.clear();
    }
}

fn fail<W: Write>(
    conn: &mut Conn,
    errno: Errno,
    stack: &mut tcplab_stack::Stack,
    now: Instant,
    log: &mut Log<'_, W>,
) {
    log.line(now, format!("fd {}: error {errno}", conn.fd));
    conn.failed = true;
    close(conn, stack, now, log);
}

fn close<W: Write>(
    conn: &mut Conn,
    stack: &mut tcplab_stack::Stack,
    now: Instant,
    log: &mut Log<'_, W>,
) {
    if conn.closed {
        return;
    }
    let _ = stack.close(now, conn.fd);
    conn.closed = true;
    if conn.first_fin.is_none() && !conn.failed {
        conn.first_fin = Some(First::Tcplab);
    }
    let how = match (conn.failed, conn.first_fin) {
        (true, _) => "after an error",
        (false, Some(First::Peer)) => "the peer closed first",
        (false, _) => "tcplab closed first",
    };
    let rx = hex(&conn.rx_hash.clone().finalize());
    let tx = hex(&conn.tx_hash.clone().finalize());
    log.line(
        now,
        format!(
            "fd {}: closed ({how}), received {} bytes sha256 {rx}, sent {} bytes sha256 {tx}",
            conn.fd, conn.received, conn.sent
        ),
    );
}

/// One connection's calls: send what is queued, read what came, and close or shut down
/// when its role says so.
fn pump_conn<W: Write>(
    conn: &mut Conn,
    stack: &mut tcplab_stack::Stack,
    now: Instant,
    buf: &mut [u8],
    mut output: Option<&mut BufWriter<File>>,
    log: &mut Log<'_, W>,
) {
    for _ in 0..CALLS_PER_TURN {
        let mut progressed = conn.refill();
        if !conn.out_empty() && !conn.wr_shut {
            match stack.send(now, conn.fd, &conn.out[conn.out_at..]) {
                Ok(n) => {
                    conn.tx_hash.update(&conn.out[conn.out_at..conn.out_at + n]);
                    conn.out_at += n;
                    conn.sent += n as u64;
                    progressed |= n > 0;
                }
                Err(Errno::EAGAIN) => {}
                Err(e) => return fail(conn, e, stack, now, log),
            }
        }
        // An echo server reads only what it can send back, so a peer that does not read
        // sees its window close, as with a blocking echo loop.
        let may_read = !conn.eof && (conn.role != Role::Accepted(Mode::Echo) || conn.out_empty());
        if may_read {
            match stack.recv(now, conn.fd, buf) {
                Ok(0) => {
                    conn.eof = true;
                    conn.first_fin.get_or_insert(First::Peer);
                    log.line(
                        now,
                        format!(
                            "fd {}: end of stream after {} bytes",
                            conn.fd, conn.received
                        ),
                    );
                    progressed = true;
                }
                Ok(n) => {
                    let data = &buf[..n];
                    conn.rx_hash.update(data);
                    conn.received += n as u64;
                    progressed = true;
                    match conn.role {
                        Role::Accepted(Mode::Echo) => conn.push(data),
                        Role::Accepted(Mode::Http { size }) => http_request(conn, data, size),
                        Role::Accepted(Mode::Discard) => {}
                        Role::Connect => {
                            if let Some(file) = output.as_mut()
                                && let Err(e) = file.write_all(data)
                            {
                                log.line(
                                    now,
                                    format!("fd {}: cannot write --output: {e}", conn.fd),
                                );
                                output = None;
                            }
                        }
                    }
                }
                Err(Errno::EAGAIN) => {}
                Err(e) => return fail(conn, e, stack, now, log),
            }
        }
        if !progressed {
            break;
        }
    }
    match conn.role {
        Role::Accepted(Mode::Echo | Mode::Discard) => {
            if conn.eof && conn.out_empty() {
                close(conn, stack, now, log);
            }
        }
        Role::Accepted(Mode::Http { .. }) => {
            if conn.all_sent() || (conn.eof && matches!(conn.http, Some(Http::Head(_)))) {
                // What the client sent after its request is read first, so that close()
                // sends a FIN and not the reset that unread data would draw.
                while let Ok(n @ 1..) = stack.recv(now, conn.fd, buf) {
                    conn.rx_hash.update(&buf[..n]);
                    conn.received += n as u64;
                }
                close(conn, stack, now, log);
            }
        }
        Role::Connect => {
            // Not before the handshake: Linux turns a shutdown in SYN-SENT into a disconnect.
            let connected = matches!(
                stack.state(conn.fd),
                Some(TcpState::Established | TcpState::CloseWait)
            );
            if !conn.wr_shut && conn.all_sent() && connected {
                match stack.shutdown(now, conn.fd, Shutdown::Write) {
                    Ok(()) => {
                        conn.wr_shut = true;
                        conn.first_fin.get_or_insert(First::Tcplab);
                    }
                    Err(Errno::ENOTCONN) => {}
                    Err(e) => return fail(conn, e, stack, now, log),
                }
            }
            if conn.eof && conn.wr_shut {
                close(conn, stack, now, log);
            }
        }
    }
}

/// Takes request bytes; once the head is complete, queues the response.
fn http_request(conn: &mut Conn, data: &[u8], size: u64) {
    let Some(Http::Head(head)) = &mut conn.http else {
        return;
    };
    head.extend_from_slice(data);
    let end = find(head, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(head, b"\n\n").map(|i| i + 2));
    let (status, body) = match end {
        None if head.len() > MAX_REQUEST_HEAD => ("431 Request Header Fields Too Large", 0),
        None => return,
        Some(_) => {
            let method = head.split(|&b| b == b' ').next().unwrap_or_default();
            match method {
                b"GET" => ("200 OK", size),
                b"HEAD" => ("200 OK", 0),
                _ => ("405 Method Not Allowed", 0),
            }
        }
    };
    let length = if status.starts_with("200") { size } else { 0 };
    let allow = if status.starts_with("405") {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nServer: tcplab\r\nContent-Type: text/plain\r\n\
         Content-Length: {length}\r\n{allow}Connection: close\r\n\r\n"
    );
    conn.http = Some(Http::Responding);
    conn.push(response.as_bytes());
    conn.source = Source::Pattern { next: 0, end: body };
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The read ends of the signal pipes: signal-hook writes a byte for each signal.
struct Signals {
    quit: UnixStream,
    usr1: UnixStream,
}

impl Signals {
    fn register() -> io::Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        use signal_hook::low_level::pipe;
        let (quit, quit_w) = UnixStream::pair()?;
        let (usr1, usr1_w) = UnixStream::pair()?;
        quit.set_nonblocking(true)?;
        usr1.set_nonblocking(true)?;
        pipe::register(SIGINT, quit_w.try_clone()?)?;
        pipe::register(SIGTERM, quit_w)?;
        pipe::register(SIGUSR1, usr1_w)?;
        Ok(Signals { quit, usr1 })
    }

    /// How many signals arrived on `pipe` since the last call.
    fn drain(mut pipe: &UnixStream) -> usize {
        let mut buf = [0u8; 64];
        let mut n = 0;
        while let Ok(k @ 1..) = io::Read::read(&mut pipe, &mut buf) {
            n += k;
        }
        n
    }
}

/// Reads the sysctl file and the `--sysctl` writes over Linux's defaults.
fn sysctls(opts: &Options) -> Result<Sysctls, String> {
    let mut sysctls = Sysctls::default();
    if let Some(path) = &opts.sysctl_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --sysctl-file {}: {e}", path.display()))?;
        sysctls
            .apply_conf(&text, &path.display().to_string())
            .map_err(|e| e.to_string())?;
    }
    for (name, value) in &opts.sysctls {
        sysctls
            .set(name, value)
            .map_err(|e| format!("--sysctl {name}={value}: {e}"))?;
    }
    Ok(sysctls)
}

/// A seed for ISNs and ports that differs from run to run, as a kernel's secret does.
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

fn usage(message: impl std::fmt::Display) -> io::Result<ExitCode> {
    eprintln!("tcplab up: {message}");
    Ok(ExitCode::from(2))
}

fn failure(message: impl std::fmt::Display) -> io::Result<ExitCode> {
    eprintln!("tcplab up: {message}");
    Ok(ExitCode::FAILURE)
}

/// Whether only sockets that need no process are left: none, or TIME-WAIT records.
fn only_time_wait(entries: &[SocketEntry]) -> bool {
    entries.iter().all(|e| e.state == TcpState::TimeWait)
}

/// Runs `tcplab up` until its applications are done or it is interrupted.
pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let (addr, prefix) = opts.addr;
    let kernel = match kernel_addr(opts.addr, opts.peer_addr) {
        Ok(k) => k,
        Err(e) => return usage(e),
    };
    if let Some(target) = opts.connect {
        if target.is_ipv4() != addr.is_ipv4() {
            return usage(format!(
                "--connect {target} is not of the same family as tcplab's address {addr}"
            ));
        }
        if target.port() == 0 || target.ip().is_unspecified() {
            return usage(format!(
                "--connect {target}: no address or port to connect to"
            ));
        }
    }
    if opts.listen.is_some_and(|(port, _)| port == 0) {
        return usage("--listen 0: give the port to listen on");
    }
    let sysctls = match sysctls(opts) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let signals = match Signals::register() {
        Ok(s) => s,
        Err(e) => return failure(format!("cannot install the signal handlers: {e}")),
    };
    if let Some(name) = &opts.netns
        && let Err(e) = tcplab_tun::netns::enter(name)
    {
        return failure(e);
    }
    let device = match TunDevice::open(&TunConfig {
        name: opts.dev.clone(),
        mtu: opts.mtu,
        kernel_addr: (kernel, prefix),
    }) {
        Ok(d) => d,
        Err(e) => return failure(e),
    };
    let seed = opts.seed.unwrap_or_else(fresh_seed);
    let mut driver = Driver::new(
        device,
        StackConfig {
            addrs: vec![addr],
            sysctls,
            hz: opts.hz,
            seed,
            ..StackConfig::default()
        },
    );
    if let Some(path) = &opts.pcap
        && let Err(e) = driver.capture(path)
    {
        return failure(e);
    }
    let output = match &opts.output {
        Some(path) => match File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => return failure(format!("cannot create --output {}: {e}", path.display())),
        },
        None => None,
    };
    let packets = std::rc::Rc::new(std::cell::RefCell::new(
        Vec::<(Direction, Instant, Vec<u8>)>::new(),
    ));
    if opts.verbose {
        let sink = packets.clone();
        driver.set_tap(Some(Box::new(move |dir, at, bytes| {
            sink.borrow_mut().push((dir, at, bytes.to_vec()));
        })));
        driver.stack_mut().set_tracing(true);
    }
    let domain = if addr.is_ipv4() {
        Domain::Inet
    } else {
        Domain::Inet6
    };
    let mut log = Log { out, error: None };
    let where_ = opts
        .netns
        .as_ref()
        .map(|n| format!(" in network namespace {n}"))
        .unwrap_or_default();
    log.raw(&format!(
        "# tcplab up: {addr}/{prefix} on {} (MTU {}){where_}; the kernel's side is {kernel}; \
         HZ {}; ctrl-c closes the sockets, a second ctrl-c quits\n",
        driver.device().name(),
        driver.device().mtu(),
        opts.hz.0
    ));
    let mut apps = Apps {
        listener: None,
        conns: Vec::new(),
        output,
        connect_failed: false,
        buf: vec![0; CHUNK],
    };
    let now = driver.now();
    if let Some((port, mode)) = opts.listen {
        let local = SocketAddr::new(addr, port);
        let stack = driver.stack_mut();
        let listener = stack.socket(domain).and_then(|fd| {
            stack.bind(fd, local)?;
            stack.listen(fd, BACKLOG)?;
            Ok(fd)
        });
        match listener {
            Ok(fd) => {
                let what = match mode {
                    Mode::Http { size } => format!("http, {size}-byte body"),
                    m => m.name().to_string(),
                };
                log.line(now, format!("fd {fd}: listening on {local} ({what})"));
                apps.listener = Some((fd, mode));
            }
            Err(e) => return failure(format!("cannot listen on {local}: {e}")),
        }
    }
    if let Some(target) = opts.connect {
        let stack = driver.stack_mut();
        let fd = stack
            .socket(domain)
            .and_then(|fd| match stack.connect(now, fd, target) {
                Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                Err(e) => Err(e),
            });
        match fd {
            Ok(fd) => {
                let source = match opts.send_bytes {
                    Some(n) => Source::Pattern { next: 0, end: n },
                    None => Source::Stdin { eof: false },
                };
                log.line(now, format!("fd {fd}: connecting to {target}"));
                apps.conns
                    .push(Conn::new(fd, target, Role::Connect, source));
            }
            Err(e) => return failure(format!("cannot connect to {target}: {e}")),
        }
    }
    let only_connect = opts.listen.is_none() && opts.connect.is_some();
    let mut closing = false;
    let mut quit_now = false;
    let mut next_ss = opts.ss_every.map(|every| driver.now() + every);
    let mut left: Vec<String> = Vec::new();
    let stdin = io::stdin();
    let mut stdin_buf = vec![0u8; CHUNK];
    loop {
        // With -v, what the last step took in and sent comes before what the applications
        // make of it, and what their calls sent after that.
        print_verbose(&mut driver, &packets, &mut log);
        apps.pump(&mut driver, &mut log);
        if let Err(e) = driver.flush() {
            let _ = driver.finish_capture();
            return failure(e);
        }
        print_verbose(&mut driver, &packets, &mut log);
        if only_connect && !closing && apps.conns.is_empty() {
            closing = true;
        }
        if closing {
            let now = driver.now();
            let table = driver.stack().sockets(now);
            if only_time_wait(&table) {
                break;
            }
            let now_left: Vec<String> = table
                .iter()
                .filter(|e| e.state != TcpState::TimeWait)
                .map(|e| match e.peer {
                    Some(p) => format!("{} {} > {p}", e.state.ss_name(), e.local),
                    None => format!("{} {}", e.state.ss_name(), e.local),
                })
                .collect();
            if now_left != left {
                log.line(
                    now,
                    format!(
                        "waiting for {} socket(s): {}",
                        now_left.len(),
                        now_left.join(", ")
                    ),
                );
                left = now_left;
            }
        }
        if let Some(e) = log.error.take() {
            let _ = driver.finish_capture();
            return Err(e);
        }
        log.out.flush()?;
        let stdin_conn = if closing { None } else { apps.wants_stdin() };
        let mut fds: Vec<BorrowedFd<'_>> = vec![signals.quit.as_fd(), signals.usr1.as_fd()];
        if stdin_conn.is_some() {
            fds.push(stdin.as_fd());
        }
        let ready = match driver.step(&fds, next_ss) {
            Ok(r) => r,
            Err(e) => {
                let _ = driver.finish_capture();
                return failure(e);
            }
        };
        drop(fds);
        let now = driver.now();
        if ready[0] {
            let n = Signals::drain(&signals.quit);
            if closing || n >= 2 {
                quit_now = true;
                log.line(now, "interrupted again: quitting now");
                break;
            }
            closing = true;
            log.line(
                now,
                "interrupted: closing every socket as a process exit does",
            );
            apps.close_all(&mut driver, &mut log);
        }
        if ready[1] && Signals::drain(&signals.usr1) > 0 {
            print_ss(&driver, &mut log);
        }
        if let (Some(at), Some(every)) = (next_ss, opts.ss_every)
            && now >= at
        {
            print_ss(&driver, &mut log);
            next_ss = Some(at + every);
        }
        if let Some(i) = stdin_conn
            && ready.get(2).copied().unwrap_or(false)
        {
            let conn = &mut apps.conns[i];
            match nix::unistd::read(stdin.as_fd(), &mut stdin_buf) {
                Ok(0) => conn.source = Source::Stdin { eof: true },
                Ok(n) => conn.push(&stdin_buf[..n]),
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    log.line(
                        now,
                        format!("cannot read stdin ({}): sending no more", e.desc()),
                    );
                    conn.source = Source::Stdin { eof: true };
                }
            }
        }
    }
    if let Some(file) = apps.output.as_mut()
        && let Err(e) = file.flush()
    {
        log.line(driver.now(), format!("cannot write --output: {e}"));
    }
    let capture = driver.finish_capture();
    let now = driver.now();
    let stats = driver.stats();
    let drops: Vec<String> = driver
        .stack()
        .drops()
        .iter()
        .map(|(reason, n)| format!("{reason:?} {n}"))
        .collect();
    let time_wait = driver
        .stack()
        .sockets(now)
        .iter()
        .filter(|e| e.state == TcpState::TimeWait)
        .count();
    log.line(
        now,
        format!(
            "exit: {} datagrams in ({} bytes), {} out ({} bytes, the longest {} with MTU {}), \
             {} longer than the MTU not sent, {} refused by the device; dropped on input: {}; \
             {time_wait} TIME-WAIT record(s) dropped",
            stats.rx_datagrams,
            stats.rx_bytes,
            stats.tx_datagrams,
            stats.tx_bytes,
            stats.largest_tx,
            driver.device().mtu(),
            stats.oversize,
            stats.tx_refused,
            if drops.is_empty() {
                "none".to_string()
            } else {
                drops.join(", ")
            }
        ),
    );
    if let Some(e) = log.error.take() {
        return Err(e);
    }
    if let Err(e) = capture {
        return failure(e);
    }
    Ok(if quit_now {
        ExitCode::from(130)
    } else if apps.connect_failed || stats.oversize > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The stack's `ss -tanoi`.
fn print_ss<W: Write>(driver: &Driver, log: &mut Log<'_, W>) {
    let now = driver.now();
    log.line(now, "$ ss -tanoi");
    let table = ss_table(
        &driver.stack().sockets(now),
        SsOptions {
            timers: true,
            info: true,
            processes: false,
        },
    );
    // ss pads every column, the last one too; that padding only makes long lines here.
    for line in table.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        log.raw(&format!("{:>10}   {line}\n", ""));
    }
}

/// With `-v`: the datagrams that crossed the device and the stack's trace since last time.
fn print_verbose<W: Write>(
    driver: &mut Driver,
    packets: &std::cell::RefCell<Vec<(Direction, Instant, Vec<u8>)>>,
    log: &mut Log<'_, W>,
) {
    for (dir, at, bytes) in packets.borrow_mut().drain(..) {
        let arrow = match dir {
            Direction::In => "in ",
            Direction::Out => "out",
        };
        log.line(
            at,
            format!("{arrow} {}", tcplab_wire::print::tcpdump_datagram(&bytes)),
        );
    }
    let now = driver.now();
    while let Some(trace) = driver.stack_mut().poll_trace() {
        match trace {
            Trace::State {
                local,
                remote,
                from,
                to,
            } => log.line(now, format!("{local} > {remote}: {from} -> {to}")),
            Trace::Timer {
                local,
                remote,
                timer,
                count,
            } => log.line(
                now,
                format!(
                    "{local} > {remote}: timer {} fired ({count})",
                    timer.linux_name()
                ),
            ),
            Trace::Note {
                local,
                remote,
                what,
            } => log.line(now, format!("{local} > {remote}: {what}")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn kernel_side_is_the_first_free_host_address() {
        let k = |addr: &str, given: Option<&str>| {
            kernel_addr(parse_cidr(addr).unwrap(), given.map(ip)).map(|a| a.to_string())
        };
        assert_eq!(k("10.7.0.2/24", None).unwrap(), "10.7.0.1");
        assert_eq!(k("10.7.0.1/24", None).unwrap(), "10.7.0.2");
        assert_eq!(k("10.7.0.200/24", Some("10.7.0.9")).unwrap(), "10.7.0.9");
        assert_eq!(k("10.7.0.5/30", None).unwrap(), "10.7.0.6");
        assert_eq!(k("10.7.0.4/31", None).unwrap(), "10.7.0.5");
        assert_eq!(k("10.7.0.5/31", None).unwrap(), "10.7.0.4");
        assert_eq!(k("fd00:7::2/64", None).unwrap(), "fd00:7::1");
        assert_eq!(k("fd00:7::1/64", None).unwrap(), "fd00:7::2");
        assert!(
            k("10.7.0.2/32", None)
                .unwrap_err()
                .contains("leaves no address")
        );
        assert!(
            k("10.7.0.0/24", None)
                .unwrap_err()
                .contains("network or broadcast")
        );
        assert!(
            k("10.7.0.255/24", None)
                .unwrap_err()
                .contains("network or broadcast")
        );
        assert!(
            k("10.7.0.2/24", Some("10.7.1.1"))
                .unwrap_err()
                .contains("is not in 10.7.0.0/24")
        );
        assert!(
            k("10.7.0.2/24", Some("10.7.0.2"))
                .unwrap_err()
                .contains("tcplab's own")
        );
        assert!(
            k("10.7.0.2/24", Some("10.7.0.255"))
                .unwrap_err()
                .contains("broadcast")
        );
        assert!(
            k("10.7.0.2/24", Some("fd00::1"))
                .unwrap_err()
                .contains("same family")
        );
    }

    #[test]
    fn cidr_and_seconds_parse_or_say_why() {
        assert_eq!(parse_cidr("10.7.0.2/24").unwrap(), (ip("10.7.0.2"), 24));
        assert!(parse_cidr("10.7.0.2").is_err());
        assert!(
            parse_cidr("10.7.0.2/33")
                .unwrap_err()
                .contains("at most /32")
        );
        assert!(parse_cidr("127.0.0.1/8").is_err());
        assert_eq!(parse_secs("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("soon").is_err());
    }

    #[test]
    fn pattern_lines_carry_their_offset() {
        let mut all = vec![0u8; 100];
        pattern_fill(0, &mut all);
        assert_eq!(&all[..32], b"0000000000000000 tcplab-pattern\n");
        assert_eq!(&all[32..64], b"0000000000000020 tcplab-pattern\n");
        // Any piece equals the same range of the whole.
        for start in [0, 1, 31, 32, 33, 70] {
            let mut piece = vec![0u8; 100 - start];
            pattern_fill(start as u64, &mut piece);
            assert_eq!(piece, all[start..]);
        }
    }

    #[test]
    fn http_answers_a_complete_head_once() {
        let mut conn = Conn::new(
            Fd(4),
            "10.7.0.1:1".parse().unwrap(),
            Role::Accepted(Mode::Http { size: 10 }),
            Source::Nothing,
        );
        http_request(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n", 10);
        assert!(conn.out_empty() && !conn.all_sent());
        http_request(&mut conn, b"\r\n", 10);
        let head = String::from_utf8(conn.out.clone()).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Length: 10\r\n"), "{head}");
        assert_eq!(conn.source, Source::Pattern { next: 0, end: 10 });
        http_request(&mut conn, b"GET / HTTP/1.1\r\n\r\n", 10);
        assert_eq!(
            conn.out,
            head.as_bytes(),
            "a second request is not answered"
        );

        let mut head_only = Conn::new(
            Fd(5),
            "10.7.0.1:2".parse().unwrap(),
            Role::Accepted(Mode::Http { size: 10 }),
            Source::Nothing,
        );
        http_request(&mut head_only, b"HEAD / HTTP/1.1\r\n\r\n", 10);
        assert_eq!(head_only.source, Source::Pattern { next: 0, end: 0 });
        let mut post = Conn::new(
            Fd(6),
            "10.7.0.1:3".parse().unwrap(),
            Role::Accepted(Mode::Http { size: 10 }),
            Source::Nothing,
        );
        http_request(&mut post, b"POST / HTTP/1.1\r\n\r\n", 10);
        assert!(String::from_utf8_lossy(&post.out).starts_with("HTTP/1.1 405"));
    }
}
