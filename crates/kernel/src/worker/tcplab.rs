//! A tcplab host among kernel hosts: a tcplab stack on a TAP port of the lab's bridge, in
//! real time, on the host thread.
//!
//! The host is what the simulator makes of a tcplab host, with the wire replaced by the
//! bridge: the stack (tracing on, so its state changes and timers join the timeline), the
//! simulator's firewall (INPUT checked before the stack sees a datagram, OUTPUT as the
//! stack's output filter, REJECT answered as the simulator answers it), its sysctls, and its
//! `ss`/`netstat`. Nothing of the kernel's lies between the stack and the wire: the TAP
//! device is a bridge port, and frames carry the lab's fixed MAC addresses.
//!
//! Readiness follows the stack's events, as the simulator's processes follow them:
//! `Acceptable` and `Readable` make a socket readable until a call finds nothing
//! (`EAGAIN`), `Writable` and `Connected` make it writable until a send falls short,
//! `Error` makes it report POLLERR until the error is read; a socket in CLOSE reports
//! POLLHUP, as `tcp_poll()` does.
//!
//! Time: the stack's `Instant` is the run's clock (nanoseconds since t=0, zero before the
//! run starts), so its timeline lines up with the kernel hosts' without conversion.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use tcplab_sim::scenario::{Shutdown, SockOpt};
use tcplab_sim::tools::{netstat_text, ss_text};
use tcplab_sim::{Chain, EventKind, Firewall, Verdict, reject_reply};
use tcplab_stack::{
    Datagram, Domain, Errno, Event, Fd, Instant, SockOptName, Stack, StackConfig, TcpState,
};
use tcplab_tun::{ETH_HEADER, EthernetFramer, TapDevice};

use super::net::{Net, ToolResult};

/// Frames read in one wait before the stack's answers are written.
const RX_BATCH: usize = 256;
/// The longest frame: an IP datagram of 64 KiB and its Ethernet header.
const MAX_FRAME: usize = 65535 + ETH_HEADER;
/// The longest wait without a timer, so that a stop is seen promptly.
const IDLE: Duration = Duration::from_millis(200);

/// What a tcplab host is made of, decided by the runner.
#[derive(Clone, Debug)]
pub(crate) struct TcplabSetup {
    /// The TAP device's name, a port of the bridge.
    pub tap: String,
    pub mac: [u8; 6],
    /// Every other host of the lab: address and MAC address.
    pub neighbours: Vec<(IpAddr, [u8; 6])>,
    pub config: StackConfig,
}

/// The stack, its device and its firewall. See the module docs.
pub(crate) struct TcplabNet {
    host: String,
    stack: Stack,
    tap: TapDevice,
    framer: EthernetFramer,
    firewall: Rc<RefCell<Firewall>>,
    /// Datagrams refused by OUTPUT with a REJECT target, whose reply goes to the stack.
    rejected: Rc<RefCell<Vec<Vec<u8>>>>,
    flags: HashMap<Fd, PollFlags>,
    t0: Arc<OnceLock<std::time::Instant>>,
    events: Vec<(Instant, EventKind)>,
    rx: Vec<u8>,
    tx: Vec<u8>,
    frame: Vec<u8>,
}

impl std::fmt::Debug for TcplabNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcplabNet")
            .field("host", &self.host)
            .field("tap", &self.tap)
            .finish_non_exhaustive()
    }
}

impl TcplabNet {
    /// Opens the TAP device (in the calling thread's namespace) and builds the stack.
    pub(crate) fn open(
        host: &str,
        setup: TcplabSetup,
        t0: Arc<OnceLock<std::time::Instant>>,
    ) -> Result<TcplabNet, String> {
        let mtu = u16::try_from(setup.config.mtu).unwrap_or(1500);
        let tap = TapDevice::open(&setup.tap, mtu).map_err(|e| e.to_string())?;
        let mut stack = Stack::new(setup.config);
        stack.set_tracing(true);
        let firewall = Rc::new(RefCell::new(Firewall::new()));
        let rejected = Rc::new(RefCell::new(Vec::new()));
        {
            let firewall = Rc::clone(&firewall);
            let rejected = Rc::clone(&rejected);
            stack.set_output_filter(Some(Box::new(move |d: &Datagram| {
                match firewall.borrow_mut().check(Chain::Output, &d.bytes) {
                    Verdict::Accept => true,
                    Verdict::Reject { with, .. } => {
                        // Linux: an OUTPUT REJECT answers the local sender itself.
                        if let Some(reply) = reject_reply(&d.bytes, with) {
                            rejected.borrow_mut().push(reply);
                        }
                        false
                    }
                    Verdict::Drop { .. } => false,
                }
            })));
        }
        Ok(TcplabNet {
            host: host.to_string(),
            stack,
            tap,
            framer: EthernetFramer {
                mac: setup.mac,
                neighbours: setup.neighbours,
            },
            firewall,
            rejected,
            flags: HashMap::new(),
            t0,
            events: Vec::new(),
            rx: vec![0; MAX_FRAME],
            tx: vec![0; MAX_FRAME],
            frame: vec![0; MAX_FRAME],
        })
    }

    fn now(&self) -> Instant {
        let ns = self.t0.get().map_or(0, |t0| t0.elapsed().as_nanos());
        Instant::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    fn set(&mut self, fd: Fd, f: PollFlags) {
        *self.flags.entry(fd).or_insert(PollFlags::empty()) |= f;
    }

    fn clear(&mut self, fd: Fd, f: PollFlags) {
        if let Some(x) = self.flags.get_mut(&fd) {
            x.remove(f);
        }
    }

    /// Writes the stack's datagrams, records its traces, follows its events, until there is
    /// nothing left.
    fn pump(&mut self) {
        loop {
            let mut progress = false;
            let now = self.now();
            while let Some(tr) = self.stack.poll_trace() {
                progress = true;
                if let Some(kind) = EventKind::from_trace(&self.host, tr) {
                    self.events.push((now, kind));
                }
            }
            while let Some(t) = self.stack.poll_transmit(now, &mut self.tx) {
                progress = true;
                if let Some(n) = self.framer.frame(&self.tx[..t.len], &mut self.frame) {
                    let _ = self.tap.send(&self.frame[..n]);
                }
            }
            let replies = std::mem::take(&mut *self.rejected.borrow_mut());
            for reply in replies {
                progress = true;
                self.stack.handle_packet(now, &reply);
            }
            while let Some((fd, ev)) = self.stack.poll_event() {
                progress = true;
                match ev {
                    Event::Acceptable | Event::Readable => self.set(fd, PollFlags::IN),
                    Event::Writable | Event::Connected => self.set(fd, PollFlags::OUT),
                    Event::Error(_) => {
                        self.set(fd, PollFlags::ERR | PollFlags::IN | PollFlags::OUT);
                    }
                    Event::StateChanged { .. } => {}
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// A datagram from the wire: INPUT, then the stack (or the REJECT's reply, through
    /// OUTPUT, to the wire).
    fn deliver(&mut self, now: Instant, len: usize) {
        let Some(d) = self.framer.datagram(&self.rx[..len]) else {
            return;
        };
        let verdict = self.firewall.borrow_mut().check(Chain::Input, d);
        match verdict {
            Verdict::Accept => self.stack.handle_packet(now, d),
            Verdict::Drop { .. } => {}
            Verdict::Reject { with, .. } => {
                let Some(reply) = reject_reply(d, with) else {
                    return;
                };
                if self.firewall.borrow_mut().check(Chain::Output, &reply) == Verdict::Accept
                    && let Some(n) = self.framer.frame(&reply, &mut self.frame)
                {
                    let _ = self.tap.send(&self.frame[..n]);
                }
            }
        }
    }

    fn readiness(&self, interest: &[(&Fd, PollFlags)]) -> Vec<(usize, PollFlags)> {
        interest
            .iter()
            .enumerate()
            .filter_map(|(i, (fd, want))| {
                let mut r = self.flags.get(fd).copied().unwrap_or(PollFlags::empty())
                    & (*want | PollFlags::ERR);
                if self.stack.state(**fd) == Some(TcpState::Close) {
                    r |= PollFlags::HUP;
                }
                (!r.is_empty()).then_some((i + 1, r))
            })
            .collect()
    }

    fn sysctl(&mut self, args: &[String]) -> ToolResult {
        let mut out = String::new();
        let mut err = String::new();
        match args.first().map(String::as_str) {
            Some("-w") => {
                for kv in &args[1..] {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    match self.stack.sysctls_mut().set(k, v) {
                        Ok(()) => out.push_str(&format!("{k} = {v}\n")),
                        Err(e) => err.push_str(&format!("sysctl: {e}\n")),
                    }
                }
            }
            Some("-p") => {
                let path = args.get(1).map_or("/etc/sysctl.conf", String::as_str);
                match std::fs::read_to_string(Path::new(path)) {
                    Ok(text) => {
                        if let Err(e) = self.stack.sysctls_mut().apply_conf(&text, path) {
                            err.push_str(&format!("sysctl: {e}\n"));
                        }
                    }
                    Err(e) => err.push_str(&format!("sysctl: cannot open \"{path}\": {e}\n")),
                }
            }
            _ => {
                for k in args {
                    let key = k.replace('/', ".");
                    match self.stack.sysctls().get(&key) {
                        Some(v) => out.push_str(&format!("{key} = {v}\n")),
                        None => err.push_str(&format!(
                            "sysctl: cannot stat /proc/sys/{}: No such file or directory\n",
                            key.replace('.', "/")
                        )),
                    }
                }
            }
        }
        (err.is_empty(), out, err.trim_end().to_string())
    }
}

impl Net for TcplabNet {
    type Sock = Fd;

    fn socket(&mut self, v6: bool) -> Result<Fd, Errno> {
        let domain = if v6 { Domain::Inet6 } else { Domain::Inet };
        let fd = self.stack.socket(domain)?;
        self.flags.remove(&fd);
        Ok(fd)
    }

    fn addrs(&mut self, s: &Fd) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let now = self.now();
        self.stack
            .sockets(now)
            .into_iter()
            .find(|e| e.fd == Some(*s))
            .map_or((None, None), |e| (Some(e.local), e.peer))
    }

    fn connect(&mut self, s: &Fd, to: SocketAddr) -> Result<(), Errno> {
        let now = self.now();
        self.stack.connect(now, *s, to)
    }

    fn bind(&mut self, s: &Fd, at: SocketAddr) -> Result<(), Errno> {
        self.stack.bind(*s, at)
    }

    fn listen(&mut self, s: &Fd, backlog: i32) -> Result<(), Errno> {
        self.stack.listen(*s, backlog)
    }

    fn setsockopt(&mut self, s: &Fd, opt: SockOpt) -> Result<(), Errno> {
        let now = self.now();
        self.stack.setsockopt(now, *s, opt)
    }

    fn accept(&mut self, s: &Fd) -> Result<(Fd, Option<SocketAddr>), Errno> {
        let now = self.now();
        match self.stack.accept(now, *s) {
            Ok((fd, peer)) => {
                self.flags.insert(fd, PollFlags::OUT);
                Ok((fd, Some(peer)))
            }
            Err(e) => {
                if e == Errno::EAGAIN {
                    self.clear(*s, PollFlags::IN);
                }
                Err(e)
            }
        }
    }

    fn recv(&mut self, s: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        let now = self.now();
        let res = self.stack.recv(now, *s, buf);
        match res {
            Err(Errno::EAGAIN) => self.clear(*s, PollFlags::IN),
            Err(_) => self.clear(*s, PollFlags::ERR),
            Ok(_) => {}
        }
        res
    }

    fn send(&mut self, s: &Fd, data: &[u8]) -> Result<usize, Errno> {
        let now = self.now();
        let res = self.stack.send(now, *s, data);
        match res {
            Ok(n) if n < data.len() => self.clear(*s, PollFlags::OUT),
            Err(Errno::EAGAIN) => self.clear(*s, PollFlags::OUT),
            Err(_) => self.clear(*s, PollFlags::ERR),
            Ok(_) => {}
        }
        res
    }

    fn shutdown(&mut self, s: &Fd, how: Shutdown) -> Result<(), Errno> {
        let now = self.now();
        self.stack.shutdown(now, *s, how)
    }

    fn take_error(&mut self, s: &Fd) -> Option<Errno> {
        self.clear(*s, PollFlags::ERR);
        match self.stack.getsockopt(*s, SockOptName::Error) {
            Ok(SockOpt::Error(e)) if e != 0 => Errno::from_raw(e),
            _ => None,
        }
    }

    fn close(&mut self, s: Fd) {
        let now = self.now();
        let _ = self.stack.close(now, s);
        self.flags.remove(&s);
    }

    fn wait(
        &mut self,
        interest: &[(&Fd, PollFlags)],
        wake: &UnixStream,
    ) -> Vec<(usize, PollFlags)> {
        self.pump();
        let ready = self.readiness(interest);
        if !ready.is_empty() {
            return ready;
        }
        let now = self.now();
        let left = self
            .stack
            .poll_timeout()
            .map_or(IDLE, |at| at.saturating_since(now))
            .min(IDLE);
        let timeout = rustix::event::Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(0),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let (tap_ready, woken) = {
            let mut fds = [
                PollFd::new(wake, PollFlags::IN),
                PollFd::new(&self.tap, PollFlags::IN),
            ];
            if poll(&mut fds, Some(&timeout)).is_err() {
                return Vec::new();
            }
            (!fds[1].revents().is_empty(), !fds[0].revents().is_empty())
        };
        if woken {
            let mut buf = [0u8; 64];
            let mut w = wake;
            while matches!(std::io::Read::read(&mut w, &mut buf), Ok(n) if n > 0) {}
        }
        if tap_ready {
            for _ in 0..RX_BATCH {
                let Ok(Some(n)) = self.tap.recv(&mut self.rx) else {
                    break;
                };
                let now = self.now();
                self.deliver(now, n);
                self.pump();
            }
        }
        let now = self.now();
        if self.stack.poll_timeout().is_some_and(|at| at <= now) {
            self.stack.handle_timeout(now);
        }
        self.pump();
        let mut ready = self.readiness(interest);
        if woken {
            ready.insert(0, (0, PollFlags::IN));
        }
        ready
    }

    fn tool(&mut self, argv: &[String], owners: &[(&Fd, String)]) -> Option<ToolResult> {
        let (program, args) = argv.split_first()?;
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        Some(match program.as_str() {
            "sysctl" => self.sysctl(args),
            "iptables" => match self.firewall.borrow_mut().command(&words) {
                Ok(()) => (true, String::new(), String::new()),
                Err(e) => (false, String::new(), format!("iptables: {e}")),
            },
            "ss" | "netstat" => {
                let now = self.now();
                let mut entries = self.stack.sockets(now);
                for e in &mut entries {
                    e.process =
                        e.fd.and_then(|fd| owners.iter().find(|(s, _)| **s == fd))
                            .map(|(_, label)| label.clone());
                }
                let text = if program == "ss" {
                    ss_text(&entries, &words)
                } else {
                    netstat_text(&entries, &words)
                };
                match text {
                    Ok(t) => (true, t, String::new()),
                    Err(e) => (false, String::new(), e.to_string()),
                }
            }
            other => (
                false,
                String::new(),
                format!("{other}: not a tool of a tcplab host"),
            ),
        })
    }

    fn take_events(&mut self) -> Vec<(Instant, EventKind)> {
        self.pump();
        std::mem::take(&mut self.events)
    }
}
