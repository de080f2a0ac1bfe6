//! The simulated network: hosts running tcplab stacks on one switch, a link per ordered pair
//! of hosts, a firewall per host, and the event loop.
//!
//! Guarantees:
//! - event-driven: time jumps to the earliest of the next delivery, the next scheduled action
//!   and the hosts' `poll_timeout()`; nothing is ticked;
//! - ties: at one instant, queued items (deliveries and actions) run first in insertion order,
//!   then due host timers in the order of the hosts' names; nothing is ordered by a hash;
//! - after every input and every command the host's `poll_trace`, `poll_transmit` and
//!   `poll_event` are drained until all three are empty, so no output is left behind;
//! - a run is a function of the seed and the calls made: each host's stack seed and each link
//!   direction's generator are derived from the run's seed and the names involved, so the same
//!   seed gives the same timeline byte for byte and the same [`Timeline::hash`].
//!
//! The OUTPUT chain runs inside the stack (its output filter): a datagram it refuses never
//! reaches the wire and the sending TCP sees a failed transmit, as on Linux. The INPUT chain
//! runs on arrival, after the capture point (tcpdump sees datagrams INPUT drops, not those
//! OUTPUT drops, as on Linux).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use tcplab_stack::{
    Datagram, Errno, Fd, Hz, Instant, Shutdown, SockOpt, Stack, StackConfig, Sysctls,
};

use crate::apps::{ProcId, Process};
use crate::firewall::{Chain, Firewall, FirewallError, Verdict, reject_reply};
use crate::link::{Link, LinkDrop, LinkParamError, LinkParams, corrupt};
use crate::rng::Rng;
use crate::timeline::{Dir, EventKind, Timeline};
use crate::tools::ToolError;

/// A host's index, in the order hosts were added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub usize);

/// How a host is set up.
#[derive(Clone, Debug)]
pub struct HostConfig {
    pub sysctls: Sysctls,
    pub hz: Hz,
    pub mtu: u32,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            sysctls: Sysctls::default(),
            hz: Hz::default(),
            mtu: 1500,
        }
    }
}

/// Which directions `set_link` changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the first host to the second only.
    OneWay,
    Both,
}

/// Something that could not be done, as a sentence saying what was expected.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("a host named {0:?} exists already: expected a new name")]
    DuplicateHost(String),
    #[error("address {addr} belongs to host {host:?} already: expected an unused address")]
    DuplicateAddress { addr: IpAddr, host: String },
    #[error("no host is named {0:?}: expected one of the hosts added")]
    UnknownHost(String),
    #[error("no host has address {0}: expected the address of a host")]
    UnknownAddress(IpAddr),
    #[error("a link joins two different hosts: expected two names, got {0:?} twice")]
    SameHost(String),
    #[error(transparent)]
    Link(#[from] LinkParamError),
    #[error("on host {host}: {source}")]
    Firewall { host: String, source: FirewallError },
    #[error("on host {host}: sysctl: {message}")]
    Sysctl { host: String, message: String },
    #[error("no process {0}: expected a process id returned by spawn")]
    UnknownProcess(usize),
    #[error("process {name}[{pid}] has exited: expected a running process")]
    Exited { name: String, pid: u32 },
    #[error("process {name}[{pid}] has no connected socket: expected connect or accept first")]
    NoSocket { name: String, pid: u32 },
    #[error("process {name}[{pid}] has no descriptor {fd}: expected one of its sockets")]
    NoSuchFd { name: String, pid: u32, fd: Fd },
    #[error("{call} failed: {} ({})", errno.name(), errno.text())]
    Syscall { call: &'static str, errno: Errno },
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("host {0} is not capturing: expected start_capture before asking for its pcap")]
    NotCapturing(String),
    #[error("pcap: {0}")]
    Pcap(#[from] tcplab_pcap::Error),
    #[error("{path}: cannot write it: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("time {at} is in the past (now {now}): expected a time from now on")]
    InThePast { at: Instant, now: Instant },
    #[error(
        "host {host} made no progress at {at}: a timer stays due after it ran (expected the stack to re-arm or cancel it)"
    )]
    Stuck { host: String, at: Instant },
}

/// One record of the OUTPUT chain, in the order the stack emitted datagrams.
pub(crate) struct OutRecord {
    /// `None` when the datagram passed (its bytes come from `poll_transmit`); otherwise the
    /// verdict and the refused bytes.
    pub(crate) refused: Option<(Verdict, Vec<u8>)>,
}

pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) stack: Stack,
    pub(crate) firewall: Rc<RefCell<Firewall>>,
    pub(crate) out_log: Rc<RefCell<VecDeque<OutRecord>>>,
    pub(crate) capture: Option<Vec<(Instant, Vec<u8>)>>,
    /// Which process holds each descriptor.
    pub(crate) owners: BTreeMap<Fd, ProcId>,
    pub(crate) next_pid: u32,
}

/// A timed action, run by the event loop.
pub enum Action {
    /// `nc -l PORT` on a host (a new process).
    NcListen {
        host: String,
        port: u16,
    },
    /// `nc ADDR PORT` on a host (a new process).
    NcConnect {
        host: String,
        dst: SocketAddr,
    },
    Connect {
        proc: ProcId,
        dst: SocketAddr,
    },
    Listen {
        proc: ProcId,
        port: u16,
    },
    /// Write `bytes` bytes of the pattern on `fd` (the process's connection when `None`).
    Send {
        proc: ProcId,
        fd: Option<Fd>,
        bytes: u64,
    },
    /// Turn automatic reading on or off.
    Read {
        proc: ProcId,
        fd: Option<Fd>,
        on: bool,
    },
    Shutdown {
        proc: ProcId,
        fd: Option<Fd>,
        how: Shutdown,
    },
    Close {
        proc: ProcId,
        fd: Option<Fd>,
    },
    SetSockOpt {
        proc: ProcId,
        fd: Option<Fd>,
        opt: SockOpt,
    },
    /// Close every descriptor of the process and end it (ctrl-c of `nc`).
    Kill {
        proc: ProcId,
    },
    /// `iptables ARGS` on a host.
    Iptables {
        host: String,
        args: Vec<String>,
    },
    /// `sysctl -w name=value` on a host.
    Sysctl {
        host: String,
        name: String,
        value: String,
    },
    /// `ss ARGS` or `netstat ARGS` on a host, recorded as a snapshot.
    Snapshot {
        host: String,
        tool: crate::tools::Tool,
        args: Vec<String>,
    },
    /// Anything else.
    Call(Box<dyn FnOnce(&mut Sim)>),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::NcListen { host, port } => write!(f, "NcListen({host}, {port})"),
            Action::NcConnect { host, dst } => write!(f, "NcConnect({host}, {dst})"),
            Action::Connect { proc, dst } => write!(f, "Connect({proc:?}, {dst})"),
            Action::Listen { proc, port } => write!(f, "Listen({proc:?}, {port})"),
            Action::Send { proc, fd, bytes } => write!(f, "Send({proc:?}, {fd:?}, {bytes})"),
            Action::Read { proc, fd, on } => write!(f, "Read({proc:?}, {fd:?}, {on})"),
            Action::Shutdown { proc, fd, how } => write!(f, "Shutdown({proc:?}, {fd:?}, {how:?})"),
            Action::Close { proc, fd } => write!(f, "Close({proc:?}, {fd:?})"),
            Action::SetSockOpt { proc, fd, opt } => {
                write!(f, "SetSockOpt({proc:?}, {fd:?}, {opt:?})")
            }
            Action::Kill { proc } => write!(f, "Kill({proc:?})"),
            Action::Iptables { host, args } => write!(f, "Iptables({host}, {args:?})"),
            Action::Sysctl { host, name, value } => write!(f, "Sysctl({host}, {name}={value})"),
            Action::Snapshot { host, tool, args } => {
                write!(f, "Snapshot({host}, {tool:?}, {args:?})")
            }
            Action::Call(_) => f.write_str("Call(..)"),
        }
    }
}

enum Pending {
    Deliver {
        to: HostId,
        bytes: Vec<u8>,
        note: Option<String>,
    },
    Action(Action),
}

/// Steps at one instant before the loop decides a host is spinning on a timer already due.
const MAX_STEPS_AT_ONE_INSTANT: u32 = 1_000_000;

/// The simulator. See the module docs. Its API falls in four kinds:
/// - set-up: [`Sim::new`], [`Sim::add_host`], [`Sim::set_link`], [`Sim::start_capture`];
/// - commands, run now and recorded: processes ([`Sim::nc_listen`], [`Sim::nc_connect`],
///   [`Sim::spawn`], [`Sim::connect`], [`Sim::listen`], [`Sim::send`], [`Sim::set_read`],
///   [`Sim::shutdown`], [`Sim::close`], [`Sim::setsockopt`], [`Sim::kill`]), hosts
///   ([`Sim::iptables`], [`Sim::sysctl_w`], [`Sim::snapshot`]);
/// - time: [`Sim::schedule`] an [`Action`] for later, [`Sim::run_until`], [`Sim::run_for`],
///   [`Sim::now`], [`Sim::next_event`];
/// - results: [`Sim::timeline`], [`Sim::trace_hash`], [`Sim::sockets`],
///   [`Sim::tool_output`], [`Sim::pcap`], [`Sim::process`], [`Sim::link_stats`].
pub struct Sim {
    seed: u64,
    now: Instant,
    pub(crate) hosts: Vec<Host>,
    by_name: BTreeMap<String, HostId>,
    by_addr: BTreeMap<IpAddr, HostId>,
    /// Parameters set for a direction before its link is first used or after.
    links: BTreeMap<(HostId, HostId), Link>,
    queue: BTreeMap<(Instant, u64), Pending>,
    next_seq: u64,
    pub(crate) timeline: Timeline,
    pub(crate) procs: Vec<Process>,
    buf: Vec<u8>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field(
                "hosts",
                &self.hosts.iter().map(|h| &h.name).collect::<Vec<_>>(),
            )
            .field("queued", &self.queue.len())
            .field("events", &self.timeline.events().len())
            .finish_non_exhaustive()
    }
}

impl Sim {
    pub fn new(seed: u64) -> Sim {
        Sim {
            seed,
            now: Instant::ZERO,
            hosts: Vec::new(),
            by_name: BTreeMap::new(),
            by_addr: BTreeMap::new(),
            links: BTreeMap::new(),
            queue: BTreeMap::new(),
            next_seq: 0,
            timeline: Timeline::new(),
            procs: Vec::new(),
            buf: vec![0; 65536],
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn timeline_mut(&mut self) -> &mut Timeline {
        &mut self.timeline
    }

    /// The trace hash of everything so far.
    pub fn trace_hash(&self) -> u64 {
        self.timeline.hash()
    }

    /// Adds a host with one address. Its stack's seed comes from the run's seed and `name`.
    pub fn add_host(
        &mut self,
        name: &str,
        addr: IpAddr,
        config: HostConfig,
    ) -> Result<HostId, SimError> {
        if self.by_name.contains_key(name) {
            return Err(SimError::DuplicateHost(name.to_string()));
        }
        if let Some(&h) = self.by_addr.get(&addr) {
            return Err(SimError::DuplicateAddress {
                addr,
                host: self.hosts[h.0].name.clone(),
            });
        }
        let id = HostId(self.hosts.len());
        let mut stack = Stack::new(StackConfig {
            addrs: vec![addr],
            sysctls: config.sysctls,
            hz: config.hz,
            seed: Rng::derive(self.seed, &format!("host {name}")).next_u64(),
            mtu: config.mtu,
            timer_wheel: true,
        });
        stack.set_tracing(true);
        let firewall = Rc::new(RefCell::new(Firewall::new()));
        let out_log = Rc::new(RefCell::new(VecDeque::new()));
        {
            let firewall = Rc::clone(&firewall);
            let out_log = Rc::clone(&out_log);
            stack.set_output_filter(Some(Box::new(move |d: &Datagram| {
                let verdict = firewall.borrow_mut().check(Chain::Output, &d.bytes);
                let pass = verdict == Verdict::Accept;
                out_log.borrow_mut().push_back(OutRecord {
                    refused: (!pass).then(|| (verdict, d.bytes.clone())),
                });
                pass
            })));
        }
        self.hosts.push(Host {
            name: name.to_string(),
            addrs: vec![addr],
            stack,
            firewall,
            out_log,
            capture: None,
            owners: BTreeMap::new(),
            next_pid: 1000,
        });
        self.by_name.insert(name.to_string(), id);
        self.by_addr.insert(addr, id);
        self.timeline.widen(name);
        Ok(id)
    }

    /// The hosts' names, in the order they were added.
    pub fn host_names(&self) -> Vec<&str> {
        self.hosts.iter().map(|h| h.name.as_str()).collect()
    }

    pub fn host_id(&self, name: &str) -> Result<HostId, SimError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| SimError::UnknownHost(name.to_string()))
    }

    /// The host that owns an address.
    pub fn host_of(&self, addr: IpAddr) -> Option<HostId> {
        self.by_addr.get(&addr).copied()
    }

    pub fn host_name(&self, id: HostId) -> &str {
        self.hosts.get(id.0).map_or("", |h| h.name.as_str())
    }

    /// The first address of a host.
    pub fn host_addr(&self, name: &str) -> Result<IpAddr, SimError> {
        let id = self.host_id(name)?;
        Ok(self.hosts[id.0].addrs[0])
    }

    pub fn stack(&self, name: &str) -> Result<&Stack, SimError> {
        let id = self.host_id(name)?;
        Ok(&self.hosts[id.0].stack)
    }

    /// The stack, for what the simulator offers no call for. Commands run through it are not
    /// drained until the next event; prefer the simulator's calls.
    pub fn stack_mut(&mut self, name: &str) -> Result<&mut Stack, SimError> {
        let id = self.host_id(name)?;
        Ok(&mut self.hosts[id.0].stack)
    }

    pub fn firewall(&self, name: &str) -> Result<Firewall, SimError> {
        let id = self.host_id(name)?;
        Ok(self.hosts[id.0].firewall.borrow().clone())
    }

    /// Sets one direction (`a` to `b`) or both of the link between two hosts.
    pub fn set_link(
        &mut self,
        a: &str,
        b: &str,
        params: LinkParams,
        dir: Direction,
    ) -> Result<(), SimError> {
        params.validate()?;
        let ia = self.host_id(a)?;
        let ib = self.host_id(b)?;
        if ia == ib {
            return Err(SimError::SameHost(a.to_string()));
        }
        self.link_mut(ia, ib).params = params;
        if dir == Direction::Both {
            self.link_mut(ib, ia).params = params;
        }
        Ok(())
    }

    /// The parameters of the direction `a` to `b`.
    pub fn link_params(&self, a: &str, b: &str) -> Result<LinkParams, SimError> {
        let ia = self.host_id(a)?;
        let ib = self.host_id(b)?;
        Ok(self
            .links
            .get(&(ia, ib))
            .map_or_else(LinkParams::default, |l| l.params))
    }

    /// The counters of the direction `a` to `b`.
    pub fn link_stats(&self, a: &str, b: &str) -> Result<crate::link::LinkStats, SimError> {
        let ia = self.host_id(a)?;
        let ib = self.host_id(b)?;
        Ok(self
            .links
            .get(&(ia, ib))
            .map(|l| l.stats)
            .unwrap_or_default())
    }

    fn link_mut(&mut self, a: HostId, b: HostId) -> &mut Link {
        let seed = self.seed;
        let name = format!("link {}->{}", self.hosts[a.0].name, self.hosts[b.0].name);
        self.links
            .entry((a, b))
            .or_insert_with(|| Link::new(LinkParams::default(), Rng::derive(seed, &name)))
    }

    /// Starts recording a host's datagrams (what tcpdump on its interface would see).
    pub fn start_capture(&mut self, name: &str) -> Result<(), SimError> {
        let id = self.host_id(name)?;
        self.hosts[id.0].capture.get_or_insert_with(Vec::new);
        Ok(())
    }

    /// The host's capture as a pcap file (raw IP, nanosecond timestamps).
    pub fn pcap(&self, name: &str) -> Result<Vec<u8>, SimError> {
        let id = self.host_id(name)?;
        let Some(cap) = &self.hosts[id.0].capture else {
            return Err(SimError::NotCapturing(name.to_string()));
        };
        let mut w = tcplab_pcap::PcapWriter::new(Vec::new())?;
        for (t, bytes) in cap {
            w.write_datagram(t.as_nanos(), bytes)?;
        }
        Ok(w.finish()?)
    }

    /// Writes the host's capture to a pcap file.
    pub fn write_pcap(&self, name: &str, path: &std::path::Path) -> Result<(), SimError> {
        let bytes = self.pcap(name)?;
        std::fs::write(path, bytes).map_err(|source| SimError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Runs `iptables ARGS` on a host now; the command and its result go on the timeline.
    pub fn iptables(&mut self, host: &str, args: &[&str]) -> Result<(), SimError> {
        let id = self.host_id(host)?;
        let res = self.hosts[id.0].firewall.borrow_mut().command(args);
        let command = format!("iptables {}", args.join(" "));
        let error = res.as_ref().err().map(|e| e.to_string());
        self.timeline.push(
            self.now,
            EventKind::Command {
                host: host.to_string(),
                command,
                error,
            },
        );
        res.map_err(|source| SimError::Firewall {
            host: host.to_string(),
            source,
        })
    }

    /// `sysctl -w name=value` on a host now (`net.ipv4.tcp_orphan_retries`, `3`).
    pub fn sysctl_w(&mut self, host: &str, name: &str, value: &str) -> Result<(), SimError> {
        let id = self.host_id(host)?;
        let res = self.hosts[id.0].stack.sysctls_mut().set(name, value);
        let error = res.as_ref().err().map(|e| e.to_string());
        self.timeline.push(
            self.now,
            EventKind::Command {
                host: host.to_string(),
                command: format!("sysctl -w {name}={value}"),
                error: error.clone(),
            },
        );
        match error {
            None => Ok(()),
            Some(message) => Err(SimError::Sysctl {
                host: host.to_string(),
                message,
            }),
        }
    }

    /// Queues an action to run at `at` (after everything already queued for that instant).
    pub fn schedule(&mut self, at: Instant, action: Action) -> Result<(), SimError> {
        if at < self.now {
            return Err(SimError::InThePast { at, now: self.now });
        }
        self.enqueue(at, Pending::Action(action));
        Ok(())
    }

    fn enqueue(&mut self, at: Instant, p: Pending) {
        self.next_seq += 1;
        self.queue.insert((at, self.next_seq), p);
    }

    /// The time of the next event, if any.
    pub fn next_event(&self) -> Option<Instant> {
        let q = self.queue.keys().next().map(|k| k.0);
        let t = self
            .hosts
            .iter()
            .filter_map(|h| h.stack.poll_timeout())
            .min();
        match (q, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every event up to and including `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: Instant) -> Result<(), SimError> {
        let mut steps_here = 0u32;
        loop {
            let q = self.queue.keys().next().copied();
            // Hosts whose timers are due at the same instant run in name order, so that a
            // run does not depend on the order hosts were added in.
            let timer = self
                .by_name
                .values()
                .filter_map(|&h| self.hosts[h.0].stack.poll_timeout().map(|t| (t, h.0)))
                .min_by_key(|&(t, _)| t);
            let take_queue = match (q, timer) {
                (Some((tq, _)), Some((tt, _))) => tq <= tt,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let at = if take_queue {
                q.map(|k| k.0).unwrap_or(until)
            } else {
                timer.map(|t| t.0).unwrap_or(until)
            };
            if at > until {
                break;
            }
            if at > self.now {
                self.now = at;
                steps_here = 0;
            }
            steps_here += 1;
            if steps_here > MAX_STEPS_AT_ONE_INSTANT {
                let host = timer.map_or(String::new(), |(_, i)| self.hosts[i].name.clone());
                return Err(SimError::Stuck { host, at: self.now });
            }
            if take_queue {
                if let Some(key) = q
                    && let Some(p) = self.queue.remove(&key)
                {
                    self.run_pending(p);
                }
            } else if let Some((_, i)) = timer {
                let now = self.now;
                self.hosts[i].stack.handle_timeout(now);
                self.drain(HostId(i));
            }
        }
        if until > self.now {
            self.now = until;
        }
        Ok(())
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) -> Result<(), SimError> {
        self.run_until(self.now + d)
    }

    fn run_pending(&mut self, p: Pending) {
        match p {
            Pending::Deliver { to, bytes, note } => self.deliver(to, bytes, note),
            Pending::Action(a) => {
                if let Err(e) = self.apply(a) {
                    self.timeline.push(
                        self.now,
                        EventKind::Error {
                            message: e.to_string(),
                        },
                    );
                }
            }
        }
    }

    /// Runs an action now.
    pub fn apply(&mut self, action: Action) -> Result<(), SimError> {
        match action {
            Action::NcListen { host, port } => self.nc_listen(&host, port).map(|_| ()),
            Action::NcConnect { host, dst } => self.nc_connect(&host, dst).map(|_| ()),
            Action::Connect { proc, dst } => self.connect(proc, dst).map(|_| ()),
            Action::Listen { proc, port } => self.listen(proc, port).map(|_| ()),
            Action::Send { proc, fd, bytes } => self.send(proc, fd, bytes),
            Action::Read { proc, fd, on } => self.set_read(proc, fd, on),
            Action::Shutdown { proc, fd, how } => self.shutdown(proc, fd, how),
            Action::Close { proc, fd } => self.close(proc, fd),
            Action::SetSockOpt { proc, fd, opt } => self.setsockopt(proc, fd, opt),
            Action::Kill { proc } => self.kill(proc),
            Action::Iptables { host, args } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.iptables(&host, &args)
            }
            Action::Sysctl { host, name, value } => self.sysctl_w(&host, &name, &value),
            Action::Snapshot { host, tool, args } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.snapshot(&host, tool, &args).map(|_| ())
            }
            Action::Call(f) => {
                f(self);
                // The closure may have driven a stack directly.
                for h in 0..self.hosts.len() {
                    self.drain(HostId(h));
                }
                Ok(())
            }
        }
    }

    /// A datagram reaches a host: capture, timeline, INPUT chain, then the stack.
    fn deliver(&mut self, to: HostId, bytes: Vec<u8>, note: Option<String>) {
        let now = self.now;
        let verdict = self.hosts[to.0]
            .firewall
            .borrow_mut()
            .check(Chain::Input, &bytes);
        let host = &mut self.hosts[to.0];
        if let Some(cap) = host.capture.as_mut() {
            cap.push((now, bytes.clone()));
        }
        self.timeline
            .packet(now, &host.name, Dir::In, &bytes, verdict.dropped_by(), note);
        match verdict {
            Verdict::Accept => {
                self.hosts[to.0].stack.handle_packet(now, &bytes);
                self.drain(to);
            }
            Verdict::Drop { .. } => {}
            Verdict::Reject { with, .. } => {
                if let Some(reply) = reject_reply(&bytes, with) {
                    self.send_from_firewall(to, reply);
                }
            }
        }
    }

    /// A reply built by a REJECT rule leaves `from`: it passes `from`'s OUTPUT chain (as
    /// nf_send_reset()'s ip_local_out() does) and goes on the wire, or to `from` itself.
    fn send_from_firewall(&mut self, from: HostId, bytes: Vec<u8>) {
        let verdict = self.hosts[from.0]
            .firewall
            .borrow_mut()
            .check(Chain::Output, &bytes);
        match verdict {
            Verdict::Accept => self.put_on_wire(from, bytes),
            other => {
                let name = self.hosts[from.0].name.clone();
                self.timeline
                    .packet(self.now, &name, Dir::Out, &bytes, other.dropped_by(), None);
            }
        }
    }

    /// Records a datagram leaving `from` and hands it to the link toward its destination.
    fn put_on_wire(&mut self, from: HostId, bytes: Vec<u8>) {
        let now = self.now;
        let dst = tcplab_wire::IpRepr::parse(&bytes)
            .ok()
            .map(|(ip, _)| ip.dst());
        let to = dst.and_then(|d| self.by_addr.get(&d).copied());
        if let Some(cap) = self.hosts[from.0].capture.as_mut() {
            cap.push((now, bytes.clone()));
        }
        let name = self.hosts[from.0].name.clone();
        let Some(to) = to else {
            self.timeline.packet(
                now,
                &name,
                Dir::Out,
                &bytes,
                Some("no host has this address".to_string()),
                None,
            );
            return;
        };
        if to == from {
            // A reply to the host itself (OUTPUT REJECT) does not touch a link.
            self.timeline
                .packet(now, &name, Dir::Out, &bytes, None, None);
            self.enqueue(
                now,
                Pending::Deliver {
                    to,
                    bytes,
                    note: None,
                },
            );
            return;
        }
        let fate = self.link_mut(from, to).transmit(now, bytes.len());
        let note = Some(fate.note()).filter(|n| !n.is_empty());
        match fate.arrivals {
            Err(drop) => {
                let why = match drop {
                    LinkDrop::Loss | LinkDrop::QueueFull => drop.to_string(),
                };
                self.timeline
                    .packet(now, &name, Dir::Out, &bytes, Some(why), None);
            }
            Ok(arrivals) => {
                self.timeline
                    .packet(now, &name, Dir::Out, &bytes, None, note.clone());
                let mut bytes = bytes;
                if let Some((pick, mask)) = fate.corruption {
                    corrupt(&mut bytes, pick, mask);
                }
                for at in arrivals {
                    self.enqueue(
                        at,
                        Pending::Deliver {
                            to,
                            bytes: bytes.clone(),
                            note: note.clone(),
                        },
                    );
                }
            }
        }
    }

    /// Drains a host's traces, datagrams and descriptor events until all are empty.
    pub(crate) fn drain(&mut self, h: HostId) {
        let now = self.now;
        loop {
            let mut progress = false;
            while let Some(tr) = self.hosts[h.0].stack.poll_trace() {
                progress = true;
                let Some(kind) = EventKind::from_trace(&self.hosts[h.0].name, tr) else {
                    continue;
                };
                self.timeline.push(now, kind);
            }
            loop {
                let rec = self.hosts[h.0].out_log.borrow_mut().pop_front();
                let Some(rec) = rec else { break };
                progress = true;
                match rec.refused {
                    None => {
                        let mut buf = std::mem::take(&mut self.buf);
                        let tx = self.hosts[h.0].stack.poll_transmit(now, &mut buf);
                        if let Some(tx) = tx {
                            let bytes = buf[..tx.len].to_vec();
                            self.buf = buf;
                            self.put_on_wire(h, bytes);
                        } else {
                            self.buf = buf;
                        }
                    }
                    Some((verdict, bytes)) => {
                        let name = self.hosts[h.0].name.clone();
                        self.timeline.packet(
                            now,
                            &name,
                            Dir::Out,
                            &bytes,
                            verdict.dropped_by(),
                            None,
                        );
                        if let Verdict::Reject { with, .. } = verdict
                            && let Some(reply) = reject_reply(&bytes, with)
                        {
                            // Linux: an OUTPUT REJECT answers the local sender itself.
                            self.enqueue(
                                now,
                                Pending::Deliver {
                                    to: h,
                                    bytes: reply,
                                    note: None,
                                },
                            );
                        }
                    }
                }
            }
            // Datagrams that bypassed the filter log (none today) are still sent.
            loop {
                let mut buf = std::mem::take(&mut self.buf);
                let tx = self.hosts[h.0].stack.poll_transmit(now, &mut buf);
                let bytes = tx.map(|tx| buf[..tx.len].to_vec());
                self.buf = buf;
                let Some(bytes) = bytes else { break };
                progress = true;
                self.put_on_wire(h, bytes);
            }
            while let Some((fd, ev)) = self.hosts[h.0].stack.poll_event() {
                progress = true;
                self.on_event(h, fd, ev);
            }
            if !progress {
                break;
            }
        }
    }
}
