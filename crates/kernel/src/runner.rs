//! The run on the kernel: builds the lab, walks the steps in real time, collects what the
//! kernel did, and removes everything.
//!
//! Order of a run: [`plan::check`] (nothing is created if a line cannot be realised); the
//! namespaces and links; the tracefs instance; a tcpdump per host; a thread per host inside
//! its namespace. Then t=0 is taken (the monotonic and real-time clocks read together) and
//! each step runs when the monotonic clock reaches its time; a `write … repeat` schedules its
//! later writes the way the simulator does. At the end (the `run` line, or
//! `KernelOptions::stop_after` if earlier) the captures are stopped and the trace read
//! before the threads close their sockets, so the end of the run leaves no trace in the
//! timeline. Every resource is a guard: a failure, a panic in a host's thread (its requests
//! fail) or ctrl-c unwinds through the guards, which remove it all.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tcplab_sim::scenario::{Command, Expect, Scenario, Span, Step};
use tcplab_sim::{AssertionResult, EventKind, RunError, RunReport, RunWarning};
use tcplab_stack::Instant;

use crate::KernelOptions;
use crate::capture::Tcpdump;
use crate::lab::{IFACE, Lab};
use crate::plan::{self, DirParams, KernelCaps};
use crate::trace::Tracer;
use crate::worker::{HostStack, TcplabSetup, Worker};
use tcplab_sim::rng::Rng;
use tcplab_stack::Hz;

mod assemble;
mod steps;

/// What the per-host captures leave out: IGMP and IPv6 multicast (MLD, neighbour and router
/// discovery), link-local chatter the simulator has no counterpart of.
const NOISE: [&str; 10] = [
    "not",
    "igmp",
    "and",
    "not",
    "(",
    "ip6",
    "and",
    "dst",
    "net",
    "ff00::/8)",
];

/// A `tcpdump -w` of the script.
#[derive(Debug)]
pub(crate) struct ScriptCapture {
    pub dump: Tcpdump,
    pub stopped: bool,
}

/// A later write of a `write … repeat N every D` line.
#[derive(Clone, Debug)]
pub(crate) struct Repeat {
    pub host: usize,
    pub sock: String,
    pub span: Span,
    pub bytes: u64,
    pub left: u32,
    pub every: Duration,
}

/// Real-time scheduling (SCHED_FIFO) for the threads that keep a run's time: the runner's
/// and the hosts'. Without it a busy machine (a build on the other core) makes a step a few
/// milliseconds late, and a script's `±1ms` fails for reasons that are not TCP's. Set with
/// `chrt` (util-linux), so that no `unsafe` system call is needed; where `chrt` is missing
/// or refused, the run goes on at normal priority. Dropping it puts the runner's thread (the
/// caller's) back to SCHED_OTHER; the hosts' threads end with the run.
#[derive(Debug, Default)]
pub(crate) struct Realtime {
    /// Threads to put back on drop.
    restore: Vec<u32>,
}

/// The SCHED_FIFO priority: above every normal thread, below the kernel's own.
const RT_PRIORITY: &str = "10";

impl Realtime {
    fn raise(&mut self, tid: u32, restore: bool) {
        let ok = std::process::Command::new("chrt")
            .args(["-f", "-p", RT_PRIORITY, &tid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok && restore {
            self.restore.push(tid);
        }
    }
}

impl Drop for Realtime {
    fn drop(&mut self) {
        for tid in self.restore.drain(..) {
            let _ = std::process::Command::new("chrt")
                .args(["-o", "-p", "0", &tid.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// A directory removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything a run holds. Field order is drop order: the runner's priority, the threads
/// (their sockets close while the namespaces exist), then captures, the tracer, the lab, the
/// directory.
#[derive(Debug)]
pub(crate) struct Run<'a> {
    /// Held for its drop, which puts the runner's thread back to normal priority.
    _realtime: Realtime,
    pub workers: Vec<Worker>,
    pub script_dumps: Vec<ScriptCapture>,
    pub dumps: Vec<Tcpdump>,
    pub tracer: Tracer,
    pub lab: Lab,
    _tmp: TempDir,
    pub sc: &'a Scenario,
    pub opts: &'a KernelOptions,
    pub caps: KernelCaps,
    pub t0: std::time::Instant,
    pub t0_mono_ns: u64,
    pub t0_real_ns: u64,
    pub end: Duration,
    pub events: Vec<(Instant, EventKind)>,
    pub results: Vec<AssertionResult>,
    pub warnings: Vec<RunWarning>,
    pub deferred: Vec<&'a Step>,
    /// Per scheduled step time: when the last host command at that time had finished, as
    /// time since `t0` (see `late_by`).
    pub acted: BTreeMap<Duration, Duration>,
    pub repeats: BTreeMap<(Duration, u64), Repeat>,
    pub repeat_seq: u64,
    /// Per (host, job): the index into `script_dumps` of a `tcpdump … &`.
    pub dump_jobs: BTreeMap<(usize, u32), usize>,
    /// Per direction `from * n + to`: the link's properties now.
    pub links: Vec<DirParams>,
    /// Directions (from, to) whose netem qdisc exists.
    pub made_links: Vec<(usize, usize)>,
    pub interrupted: &'a AtomicBool,
}

fn clock_ns(id: nix::time::ClockId) -> u64 {
    nix::time::clock_gettime(id).map_or(0, |t| {
        u64::try_from(t.tv_sec()).unwrap_or(0) * 1_000_000_000
            + u64::try_from(t.tv_nsec()).unwrap_or(0)
    })
}

pub(crate) fn to_instant(d: Duration) -> Instant {
    Instant::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl<'a> Run<'a> {
    pub(crate) fn error(&self, span: Option<Span>, message: String) -> RunError {
        RunError {
            file: self.sc.file.clone(),
            span,
            message,
        }
    }

    /// Builds everything; nothing is left behind if this fails.
    pub(crate) fn setup(
        sc: &'a Scenario,
        opts: &'a KernelOptions,
        caps: KernelCaps,
        warnings: Vec<RunWarning>,
        interrupted: &'a AtomicBool,
    ) -> Result<Run<'a>, RunError> {
        let fail = |message: String| RunError {
            file: sc.file.clone(),
            span: None,
            message: format!("cannot set up the kernel run: {message}"),
        };
        let pid = std::process::id();
        let prefix = format!("tcplab-{pid}");
        let hosts: Vec<(String, std::net::IpAddr, bool)> = sc
            .hosts
            .iter()
            .map(|h| (h.name.clone(), h.addr, !h.kernel))
            .collect();
        let tmp = TempDir(std::env::temp_dir().join(format!("{prefix}-captures")));
        let _ = std::fs::remove_dir_all(&tmp.0);
        std::fs::create_dir_all(&tmp.0)
            .map_err(|e| fail(format!("cannot create {}: {e}", tmp.0.display())))?;
        let lab = Lab::create(&prefix, &hosts).map_err(fail)?;
        let tracer = Tracer::start(&prefix).map_err(fail)?;
        let t0_cell = Arc::new(OnceLock::new());
        let prog = tcplab_sim::run::comm_name(&sc.file);
        let seed = sc
            .settings
            .seed
            .as_ref()
            .map_or(tcplab_sim::run::DEFAULT_SEED, |s| s.value);
        let mut workers = Vec::new();
        for (i, h) in lab.hosts.iter().enumerate() {
            let stack = match &h.tap {
                None => HostStack::Kernel {
                    ns: h.ns.clone(),
                    cubic: lab.cubic_per_socket,
                },
                Some(tap) => HostStack::Tcplab {
                    ns: h.ns.clone(),
                    setup: Box::new(TcplabSetup {
                        tap: tap.clone(),
                        mac: lab
                            .macs()
                            .into_iter()
                            .find(|m| m.0 == h.addr)
                            .map_or([2, 0, 0, 0, 0, 1], |m| m.1),
                        neighbours: lab.macs().into_iter().filter(|m| m.0 != h.addr).collect(),
                        config: tcplab_stack::StackConfig {
                            addrs: vec![h.addr],
                            hz: sc.hz_of(i).map_or_else(Hz::default, Hz),
                            seed: Rng::derive(seed, &format!("host {}", h.name)).next_u64(),
                            mtu: 1500,
                            timer_wheel: true,
                            ..tcplab_stack::StackConfig::default()
                        },
                    }),
                },
            };
            workers.push(
                Worker::spawn(&h.name, h.addr.is_ipv6(), stack, &prog, t0_cell.clone())
                    .map_err(fail)?,
            );
            lab.attach(i).map_err(fail)?;
        }
        let mut dumps = Vec::new();
        for h in &lab.hosts {
            let path = tmp.0.join(format!("{}.pcap", h.name));
            let filter = NOISE.map(str::to_string);
            dumps.push(Tcpdump::start(&h.ns, h.iface(), &path, &filter).map_err(fail)?);
        }
        let mut realtime = Realtime::default();
        realtime.raise(
            u32::try_from(nix::unistd::gettid().as_raw()).unwrap_or(0),
            true,
        );
        for w in &workers {
            realtime.raise(w.tid, false);
        }
        let n = sc.hosts.len();
        let mut run = Run {
            _realtime: realtime,
            workers,
            script_dumps: Vec::new(),
            dumps,
            tracer,
            lab,
            _tmp: tmp,
            sc,
            opts,
            caps,
            t0: std::time::Instant::now(),
            t0_mono_ns: 0,
            t0_real_ns: 0,
            end: Duration::ZERO,
            events: Vec::new(),
            results: Vec::new(),
            warnings,
            deferred: Vec::new(),
            acted: BTreeMap::new(),
            repeats: BTreeMap::new(),
            repeat_seq: 0,
            dump_jobs: BTreeMap::new(),
            links: vec![DirParams::default(); n * n],
            made_links: Vec::new(),
            interrupted,
        };
        for l in &sc.links {
            run.apply_link(l).map_err(fail)?;
        }
        let last = sc.steps.last().map_or(Duration::ZERO, |s| s.time);
        let mut end = sc.run.as_ref().map_or(last, |r| r.duration);
        if let Some(s) = opts.stop_after {
            end = end.min(s);
        }
        run.end = end;
        run.t0 = std::time::Instant::now();
        run.t0_mono_ns = clock_ns(nix::time::ClockId::CLOCK_MONOTONIC);
        run.t0_real_ns = clock_ns(nix::time::ClockId::CLOCK_REALTIME);
        let _ = t0_cell.set(run.t0);
        Ok(run)
    }

    /// A link line: netem per direction on the sending host's `eth0` (HTB classes by
    /// destination), or nothing when the kernel has no netem and the veth stands for it.
    pub(crate) fn apply_link(&mut self, l: &tcplab_sim::scenario::Link) -> Result<(), String> {
        let n = self.sc.hosts.len();
        for (a, b) in plan::directions(l) {
            let p = &mut self.links[a * n + b];
            for prop in &l.props {
                p.apply(prop.kind);
            }
            let params = *p;
            // A direction from a tcplab host has default properties (`plan::check`).
            if !self.caps.netem || self.lab.hosts[a].tap.is_some() {
                continue;
            }
            let ns = self.lab.hosts[a].ns.clone();
            let peer = self.lab.hosts[b].addr;
            let class = format!("1:{}", b + 2);
            let handle = format!("{}:", b + 10);
            let tc = |args: &[&str]| -> Result<(), String> {
                crate::lab::run(
                    std::process::Command::new("tc")
                        .args(["-n", &ns])
                        .args(args),
                )
                .map(drop)
            };
            if !self.made_links.iter().any(|&(x, _)| x == a) {
                let _ = tc(&["qdisc", "del", "dev", IFACE, "root"]);
                tc(&[
                    "qdisc", "add", "dev", IFACE, "root", "handle", "1:", "htb", "default", "1",
                ])?;
                tc(&[
                    "class", "add", "dev", IFACE, "parent", "1:", "classid", "1:1", "htb", "rate",
                    "100gbit",
                ])?;
            }
            let args = plan::netem_args(&params);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            if self.made_links.contains(&(a, b)) {
                let mut c = vec![
                    "qdisc", "change", "dev", IFACE, "parent", &class, "handle", &handle,
                ];
                c.extend(&args);
                tc(&c)?;
            } else {
                tc(&[
                    "class", "add", "dev", IFACE, "parent", "1:", "classid", &class, "htb", "rate",
                    "100gbit",
                ])?;
                let mut c = vec![
                    "qdisc", "add", "dev", IFACE, "parent", &class, "handle", &handle,
                ];
                c.extend(&args);
                tc(&c)?;
                let (proto, m, len) = if peer.is_ipv6() {
                    ("ipv6", "ip6", 128)
                } else {
                    ("ip", "ip", 32)
                };
                let dst = format!("{peer}/{len}");
                tc(&[
                    "filter", "add", "dev", IFACE, "parent", "1:", "protocol", proto, "prio", "1",
                    "u32", "match", m, "dst", &dst, "flowid", &class,
                ])?;
                self.made_links.push((a, b));
            }
        }
        Ok(())
    }
}
