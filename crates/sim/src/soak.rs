//! Soak runs: one seed draws a random network (2–5 hosts, IPv4 or IPv6 private addresses,
//! faulty links), a random workload (several connections per host pair, with writes, read
//! pauses, half-closes, closes, SO_LINGER {1,0}, TCP_USER_TIMEOUT, keepalive, connects to
//! closed ports) and random firewall flaps (DROP rules on INPUT or OUTPUT added and removed,
//! some never removed) and blackouts (100 % loss on a link for a while, or for good). The run
//! goes on until every timer has settled, then it is checked.
//!
//! Guarantees:
//! - a seed is the whole input: [`run_seed`] draws everything from it, and the simulator is
//!   deterministic, so `tcplab soak --seeds 1 --from SEED` replays a failure exactly;
//! - nothing touches a real network: the addresses exist only inside the simulator;
//! - what is checked, for every connection: every byte a reader got matches the pattern and
//!   no reader got more than its writer wrote; a connection nothing disturbed delivered every
//!   byte in both directions, reached end of stream on both sides, saw no error and left no
//!   socket behind; a disturbed connection saw only the errno Linux gives for what disturbed
//!   it (ETIMEDOUT, ECONNRESET or EPIPE after a black-holing firewall or blackout, since the
//!   side that times out goes away without a word and its peer then meets a reset;
//!   ECONNRESET or EPIPE after a reset; ECONNREFUSED for a closed port; ETIMEDOUT when
//!   keepalive probes cross a lossy link). Every host's `Stack::check_invariants()` holds
//!   at every step of the driver (every 10 ms of virtual time while the workload runs, then
//!   more sparsely) and at the end.
//!
//! The driver acts like the programs a person would write: it starts each side's writes,
//! pauses and closes at times drawn relative to when the connection was established, closes a
//! socket as soon as its application sees an error, and closes after end of stream when it
//! has finished writing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tcplab_stack::{Errno, Fd, Instant, Shutdown, SockOpt, TcpState};

use crate::apps::{ProcId, SockState};
use crate::link::LinkParams;
use crate::net::{Direction, HostConfig, Sim, SimError};
use crate::rng::Rng;
use crate::timeline::EventKind;

/// The virtual time a timer may still need after the last disturbance: tcp_retries2's
/// budget (about 924.6 s at the default 15), then TIME_WAIT and FIN_WAIT2 (60 s each), then a
/// keepalive cycle (at most 60 s idle plus 6 probes 15 s apart), with a margin.
pub const SETTLE: Duration = Duration::from_secs(1300);

/// The command that replays one seed.
pub fn replay_command(seed: u64) -> String {
    format!("tcplab soak --seeds 1 --from {seed} --verbose")
}

/// The outcome of one seed.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub seed: u64,
    /// The drawn network, workload and firewall flaps, one line each.
    pub setup: Vec<String>,
    /// What each connection did, one line each.
    pub outcomes: Vec<String>,
    /// What went wrong, one sentence each; empty when the seed passed.
    pub failures: Vec<String>,
    /// Where the run stopped, in virtual time.
    pub end: Instant,
    /// Events on the timeline.
    pub events: usize,
    /// The last events of the timeline, kept for a failed seed.
    pub tail: Vec<String>,
}

impl SeedReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How one side ends its part of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finish {
    /// shutdown(SHUT_WR) once everything is written, close() after end of stream.
    ShutWr,
    /// close() once everything is written and end of stream was read.
    CloseAfterEof,
    /// close() at a time after establishment, whatever is in flight; with SO_LINGER {1,0}
    /// when `linger0`.
    Abort { after: Duration, linger0: bool },
}

/// What one side does, relative to when its connection was established.
#[derive(Clone, Debug)]
struct Plan {
    writes: Vec<(Duration, u64)>,
    /// Reading is off from the first offset for the given length.
    pause: Option<(Duration, Duration)>,
    finish: Finish,
    user_timeout_ms: Option<u32>,
    /// TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT.
    keepalive: Option<(u32, u32, u32)>,
}

impl Plan {
    fn total(&self) -> u64 {
        self.writes.iter().map(|w| w.1).sum()
    }

    fn describe(&self) -> String {
        let mut s = format!("{} B in {} writes", self.total(), self.writes.len());
        if let Some((at, len)) = self.pause {
            let _ = write!(s, ", reads off {:?}+{:?}", at, len);
        }
        match self.finish {
            Finish::ShutWr => s.push_str(", shutdown(SHUT_WR) then close"),
            Finish::CloseAfterEof => s.push_str(", close after EOF"),
            Finish::Abort { after, linger0 } => {
                let how = if linger0 {
                    "SO_LINGER {1,0} close"
                } else {
                    "early close"
                };
                let _ = write!(s, ", {how} at +{after:?}");
            }
        }
        if let Some(ms) = self.user_timeout_ms {
            let _ = write!(s, ", TCP_USER_TIMEOUT {ms} ms");
        }
        if let Some((i, v, c)) = self.keepalive {
            let _ = write!(s, ", keepalive {i}/{v}/{c}");
        }
        s
    }
}

/// One side of a connection as the driver follows it.
#[derive(Debug)]
struct Endpoint {
    host: usize,
    proc: ProcId,
    pid: u32,
    plan: Plan,
    fd: Option<Fd>,
    established: Option<Instant>,
    next_write: usize,
    paused: bool,
    pause_done: bool,
    shut: bool,
    closed_at: Option<Instant>,
    /// The socket's counters as last seen (kept after close).
    last: SockState,
    errors: Vec<Errno>,
}

impl Endpoint {
    fn new(host: usize, proc: ProcId, pid: u32, plan: Plan) -> Endpoint {
        Endpoint {
            host,
            proc,
            pid,
            plan,
            fd: None,
            established: None,
            next_write: 0,
            paused: false,
            pause_done: false,
            shut: false,
            closed_at: None,
            last: SockState::default(),
            errors: Vec::new(),
        }
    }

    fn aborts(&self) -> bool {
        matches!(self.plan.finish, Finish::Abort { .. })
    }
}

#[derive(Debug)]
struct Conn {
    client: Endpoint,
    /// `None` when the client connects to a port nobody listens on.
    server: Option<Endpoint>,
    dst: SocketAddr,
    start: Instant,
}

/// A DROP rule on `host`'s `chain` for traffic with `peer` (every peer when `None`), or,
/// with `blackout`, 100 % loss on both directions of the link between `host` and `peer`.
#[derive(Clone, Debug)]
struct Flap {
    host: usize,
    input: bool,
    blackout: bool,
    peer: Option<usize>,
    add: Instant,
    remove: Option<Instant>,
}

impl Flap {
    fn args(&self, addrs: &[IpAddr], op: &str) -> Vec<String> {
        let chain = if self.input { "INPUT" } else { "OUTPUT" };
        let mut v = vec![op.to_string(), chain.to_string()];
        if let Some(p) = self.peer {
            v.push(if self.input { "-s" } else { "-d" }.to_string());
            v.push(addrs[p].to_string());
        }
        v.extend(["-j".to_string(), "DROP".to_string()]);
        v
    }

    fn touches(&self, a: usize, b: usize) -> bool {
        let other = if self.host == a {
            b
        } else if self.host == b {
            a
        } else {
            return false;
        };
        self.peer.is_none_or(|p| p == other)
    }

    fn overlaps(&self, from: Instant, to: Instant) -> bool {
        self.add <= to && self.remove.is_none_or(|r| r >= from)
    }
}

fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.next_f64() * (hi.ln() - lo.ln())).exp()
}

fn millis(rng: &mut Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(lo + rng.below(hi - lo + 1))
}

fn random_link(rng: &mut Rng) -> LinkParams {
    let delay = Duration::from_nanos(log_uniform(rng, 10e3, 50e6) as u64);
    let jitter = if rng.chance(0.5) {
        Duration::ZERO
    } else {
        delay.mul_f64(rng.next_f64() * 0.5)
    };
    let rate = rng
        .chance(0.5)
        .then(|| log_uniform(rng, 100e3, 100e6) as u64);
    let queue_limit = (rate.is_some() && rng.chance(0.5)).then(|| 5 + rng.below(196) as usize);
    let p = |rng: &mut Rng, chance: f64, max: f64| {
        if rng.chance(chance) {
            rng.next_f64() * max
        } else {
            0.0
        }
    };
    let loss = p(rng, 0.6, 0.05);
    let duplicate = p(rng, 0.3, 0.02);
    let reorder = p(rng, 0.3, 0.05);
    let reorder_delay = delay.mul_f64(rng.next_f64()) + Duration::from_micros(100);
    let corrupt = p(rng, 0.2, 0.02);
    LinkParams {
        delay,
        jitter,
        rate,
        queue_limit,
        loss,
        duplicate,
        reorder,
        reorder_delay,
        corrupt,
    }
}

fn describe_link(p: &LinkParams) -> String {
    let mut s = format!("delay {:?} jitter {:?}", p.delay, p.jitter);
    if let Some(r) = p.rate {
        let _ = write!(s, " rate {r} B/s");
    }
    if let Some(q) = p.queue_limit {
        let _ = write!(s, " limit {q}");
    }
    let _ = write!(
        s,
        " loss {:.4} dup {:.4} reorder {:.4} corrupt {:.4}",
        p.loss, p.duplicate, p.reorder, p.corrupt
    );
    s
}

fn random_plan(rng: &mut Rng) -> Plan {
    let total = match rng.below(10) {
        0 | 1 => 0,
        2..=4 => 1 + rng.below(2000),
        _ => 1 + rng.below(300_000),
    };
    let mut writes = Vec::new();
    if total > 0 {
        let n = 1 + rng.below(6);
        let mut left = total;
        let mut at = Duration::ZERO;
        for i in 0..n {
            let bytes = if i + 1 == n {
                left
            } else {
                rng.below(left + 1)
            };
            left -= bytes;
            if bytes > 0 {
                writes.push((at, bytes));
            }
            at += millis(rng, 0, 400);
        }
    }
    let pause = rng
        .chance(0.3)
        .then(|| (millis(rng, 0, 2000), millis(rng, 10, 5000)));
    let finish = match rng.below(10) {
        0 => Finish::Abort {
            after: millis(rng, 0, 3000),
            linger0: rng.chance(0.7),
        },
        1..=5 => Finish::ShutWr,
        _ => Finish::CloseAfterEof,
    };
    let user_timeout_ms = rng.chance(0.2).then(|| 30_000 + rng.below(60_001) as u32);
    let keepalive = rng.chance(0.25).then(|| {
        (
            5 + rng.below(56) as u32,
            2 + rng.below(14) as u32,
            4 + rng.below(3) as u32,
        )
    });
    Plan {
        writes,
        pause,
        finish,
        user_timeout_ms,
        keepalive,
    }
}

fn address(rng: &mut Rng, v6: bool, prefix: u64, i: usize) -> IpAddr {
    if v6 {
        let p = prefix as u16;
        return IpAddr::V6(Ipv6Addr::new(
            0xfd00 | (p & 0xff),
            p,
            0,
            0,
            0,
            0,
            0,
            i as u16 + 1,
        ));
    }
    let host = 1 + i as u8 + rng.below(50) as u8 * 5;
    IpAddr::V4(match prefix % 3 {
        0 => Ipv4Addr::new(10, (prefix >> 8) as u8, (prefix >> 16) as u8, host),
        1 => Ipv4Addr::new(
            172,
            16 + (prefix >> 8) as u8 % 16,
            (prefix >> 16) as u8,
            host,
        ),
        _ => Ipv4Addr::new(192, 168, (prefix >> 8) as u8, host),
    })
}

/// The whole drawn experiment.
struct World {
    names: Vec<String>,
    addrs: Vec<IpAddr>,
    conns: Vec<Conn>,
    flaps: Vec<Flap>,
    /// Per ordered host pair: the link's parameters as drawn.
    links: BTreeMap<(usize, usize), LinkParams>,
    horizon: Instant,
}

fn build(seed: u64, sim: &mut Sim, report: &mut SeedReport) -> Result<World, String> {
    let mut rng = Rng::derive(seed, "soak");
    let n = 2 + rng.below(4) as usize;
    let v6 = rng.chance(0.3);
    let prefix = rng.next_u64();
    let mut names = Vec::new();
    let mut addrs: Vec<IpAddr> = Vec::new();
    for i in 0..n {
        let name = format!("h{i}");
        let mut addr = address(&mut rng, v6, prefix, i);
        while addrs.contains(&addr) {
            addr = address(&mut rng, v6, prefix, i);
        }
        let mut config = HostConfig::default();
        if rng.chance(0.2) {
            config.sysctls.tcp_sack = 0;
        }
        if rng.chance(0.2) {
            config.sysctls.tcp_timestamps = 0;
        }
        report.setup.push(format!(
            "host {name} {addr} sack={} timestamps={}",
            config.sysctls.tcp_sack, config.sysctls.tcp_timestamps
        ));
        sim.add_host(&name, addr, config)
            .map_err(|e| e.to_string())?;
        names.push(name);
        addrs.push(addr);
    }
    let mut links = BTreeMap::new();
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            let p = random_link(&mut rng);
            report.setup.push(format!(
                "link {}->{}: {}",
                names[a],
                names[b],
                describe_link(&p)
            ));
            links.insert((a, b), p);
            sim.set_link(&names[a], &names[b], p, Direction::OneWay)
                .map_err(|e| e.to_string())?;
        }
    }
    let mut conns = Vec::new();
    let pairs = 1 + rng.below(4);
    let mut port = 5000u16;
    for _ in 0..pairs {
        let a = rng.below(n as u64) as usize;
        let b = (a + 1 + rng.below(n as u64 - 1) as usize) % n;
        for _ in 0..1 + rng.below(3) {
            port += 1;
            let dst = SocketAddr::new(addrs[b], port);
            let start = Instant::ZERO + millis(&mut rng, 0, 3000);
            let refused = rng.chance(0.08);
            let cplan = random_plan(&mut rng);
            let splan = random_plan(&mut rng);
            let mut cplan = cplan;
            if !refused
                && cplan.finish == Finish::CloseAfterEof
                && splan.finish == Finish::CloseAfterEof
            {
                // Both waiting for the other's end of stream would wait forever.
                cplan.finish = Finish::ShutWr;
            }
            let cp = sim
                .spawn(&names[a], &format!("client{port}"))
                .map_err(|e| e.to_string())?;
            let cpid = sim.process(cp).map_err(|e| e.to_string())?.pid;
            let server = if refused {
                report.setup.push(format!(
                    "conn {}->{dst}: to a closed port; client {}",
                    names[a],
                    cplan.describe()
                ));
                None
            } else {
                let sp = sim
                    .spawn(&names[b], &format!("server{port}"))
                    .map_err(|e| e.to_string())?;
                let lfd = sim.listen(sp, port).map_err(|e| e.to_string())?;
                sim.set_read(sp, Some(lfd), true)
                    .map_err(|e| e.to_string())?;
                let spid = sim.process(sp).map_err(|e| e.to_string())?.pid;
                report.setup.push(format!(
                    "conn {}->{dst} at {start}: client {}; server {}",
                    names[a],
                    cplan.describe(),
                    splan.describe()
                ));
                Some(Endpoint::new(b, sp, spid, splan))
            };
            conns.push(Conn {
                client: Endpoint::new(a, cp, cpid, cplan),
                server,
                dst,
                start,
            });
        }
    }
    let mut flaps = Vec::new();
    if rng.chance(0.6) {
        for _ in 0..1 + rng.below(3) {
            let host = rng.below(n as u64) as usize;
            let peer = rng
                .chance(0.8)
                .then(|| (host + 1 + rng.below(n as u64 - 1) as usize) % n);
            let input = rng.chance(0.5);
            let blackout = peer.is_some() && rng.chance(0.25);
            let add = Instant::ZERO + millis(&mut rng, 0, 20_000);
            let remove = (!rng.chance(0.15))
                .then(|| add + Duration::from_micros(log_uniform(&mut rng, 50e3, 200e6) as u64));
            let f = Flap {
                host,
                input,
                blackout,
                peer,
                add,
                remove,
            };
            let what = match peer {
                Some(p) if blackout => format!("100 % loss to and from {}", names[p]),
                _ => format!("iptables {}", f.args(&addrs, "-A").join(" ")),
            };
            report.setup.push(format!(
                "flap on {}: {what} at {add}, removed {}",
                names[host],
                remove.map_or("never".to_string(), |r| format!("at {r}"))
            ));
            flaps.push(f);
        }
    }
    let last = flaps
        .iter()
        .map(|f| f.remove.unwrap_or(f.add))
        .max()
        .unwrap_or(Instant::ZERO)
        .max(Instant::from_secs(30));
    Ok(World {
        names,
        addrs,
        conns,
        flaps,
        links,
        horizon: last + SETTLE,
    })
}

/// Adds (`add`) or removes a flap now. A blackout ends by restoring the links as drawn.
fn apply_flap(sim: &mut Sim, world: &World, i: usize, add: bool) -> Result<(), SimError> {
    let f = &world.flaps[i];
    match f.peer {
        Some(p) if f.blackout => {
            for (a, b) in [(f.host, p), (p, f.host)] {
                let mut params = world.links.get(&(a, b)).copied().unwrap_or_default();
                if add {
                    params.loss = 1.0;
                }
                sim.set_link(&world.names[a], &world.names[b], params, Direction::OneWay)?;
            }
            let what = if add { "starts" } else { "ends" };
            let now = sim.now();
            sim.timeline_mut().push(
                now,
                EventKind::Command {
                    host: world.names[f.host].clone(),
                    command: format!("# 100 % loss to and from {} {what}", world.names[p]),
                    error: None,
                },
            );
            Ok(())
        }
        _ => {
            let args = f.args(&world.addrs, if add { "-A" } else { "-D" });
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            sim.iptables(&world.names[f.host], &args)
        }
    }
}

fn close_endpoint(sim: &mut Sim, ep: &mut Endpoint, now: Instant) {
    if let Some(fd) = ep.fd
        && let Ok(p) = sim.process(ep.proc)
        && let Some(s) = p.socks.get(&fd)
    {
        ep.last = s.clone();
    }
    if let Some(fd) = ep.fd {
        let _ = sim.close(ep.proc, Some(fd));
    }
    ep.closed_at = Some(now);
}

/// One step of one side's program.
fn drive(sim: &mut Sim, ep: &mut Endpoint, now: Instant) {
    if ep.closed_at.is_some() {
        return;
    }
    let Ok(proc) = sim.process(ep.proc) else {
        return;
    };
    if ep.fd.is_none() {
        // The client's socket exists from connect on, the server's from accept on.
        ep.fd = proc
            .current
            .filter(|fd| proc.socks.get(fd).is_some_and(|s| !s.listener));
    }
    let Some(fd) = ep.fd else { return };
    let Some(s) = proc.socks.get(&fd).cloned() else {
        ep.closed_at = Some(now);
        return;
    };
    ep.last = s.clone();
    if s.error.is_some() || !ep.errors.is_empty() {
        close_endpoint(sim, ep, now);
        return;
    }
    let established = match ep.established {
        Some(t) => t,
        None if s.connected => {
            ep.established = Some(now);
            // A plain process does not read until told (the server's socket inherits the
            // listener's read mode; the client's starts off).
            let _ = sim.set_read(ep.proc, Some(fd), true);
            if let Some(ms) = ep.plan.user_timeout_ms {
                let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::UserTimeout(ms));
            }
            if let Some((idle, intvl, cnt)) = ep.plan.keepalive {
                let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::KeepAlive(true));
                let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::KeepIdle(idle));
                let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::KeepIntvl(intvl));
                let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::KeepCnt(cnt));
            }
            now
        }
        None => return,
    };
    let age = now.saturating_since(established);
    if let Finish::Abort { after, linger0 } = ep.plan.finish
        && age >= after
    {
        if linger0 {
            let _ = sim.setsockopt(ep.proc, Some(fd), SockOpt::Linger(Some(0)));
        }
        close_endpoint(sim, ep, now);
        return;
    }
    while let Some(&(at, bytes)) = ep.plan.writes.get(ep.next_write)
        && at <= age
    {
        let _ = sim.send(ep.proc, Some(fd), bytes);
        ep.next_write += 1;
    }
    if let Some((at, len)) = ep.plan.pause {
        if !ep.paused && !ep.pause_done && age >= at {
            let _ = sim.set_read(ep.proc, Some(fd), false);
            ep.paused = true;
        }
        if ep.paused && age >= at + len {
            let _ = sim.set_read(ep.proc, Some(fd), true);
            ep.paused = false;
            ep.pause_done = true;
        }
    }
    let Some(s) = sim
        .process(ep.proc)
        .ok()
        .and_then(|p| p.socks.get(&fd).cloned())
    else {
        return;
    };
    ep.last = s.clone();
    let written = ep.next_write == ep.plan.writes.len() && s.to_send == 0;
    match ep.plan.finish {
        Finish::ShutWr => {
            if written && !ep.shut {
                let _ = sim.shutdown(ep.proc, Some(fd), Shutdown::Write);
                ep.shut = true;
            }
            if ep.shut && s.eof {
                close_endpoint(sim, ep, now);
            }
        }
        Finish::CloseAfterEof => {
            if written && s.eof {
                close_endpoint(sim, ep, now);
            }
        }
        Finish::Abort { .. } => {}
    }
}

/// Runs one seed and checks it.
pub fn run_seed(seed: u64) -> SeedReport {
    run_seed_sim(seed).0
}

/// Runs one seed and checks it; also returns the simulator, whose timeline holds the whole
/// run, for a closer look at a failure.
pub fn run_seed_sim(seed: u64) -> (SeedReport, Sim) {
    let mut report = SeedReport {
        seed,
        ..SeedReport::default()
    };
    let mut sim = Sim::new(seed);
    let mut world = match build(seed, &mut sim, &mut report) {
        Ok(w) => w,
        Err(e) => {
            report
                .failures
                .push(format!("cannot build the network: {e}"));
            return (report, sim);
        }
    };
    // Flap commands in time order: (time, index, add?).
    let mut flap_ops: Vec<(Instant, usize, bool)> = Vec::new();
    for (i, f) in world.flaps.iter().enumerate() {
        flap_ops.push((f.add, i, true));
        if let Some(r) = f.remove {
            flap_ops.push((r, i, false));
        }
    }
    flap_ops.sort();
    let mut next_flap = 0;
    let mut owners: BTreeMap<(String, u32), (usize, bool)> = BTreeMap::new();
    for (i, c) in world.conns.iter().enumerate() {
        owners.insert(
            (world.names[c.client.host].clone(), c.client.pid),
            (i, true),
        );
        if let Some(s) = &c.server {
            owners.insert((world.names[s.host].clone(), s.pid), (i, false));
        }
    }
    let mut connect_ops: Vec<(Instant, usize)> = world
        .conns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.start, i))
        .collect();
    connect_ops.sort();
    let mut next_connect = 0;
    // Setting up the listeners is not part of any connection's story: `set_read` on a
    // listener records a read that fails with ENOTCONN (the simulator pumps it like a
    // connected socket), so errors are collected from here on.
    let mut seen_events = sim.timeline().events().len();
    let busy_until = Instant::from_secs(30);
    loop {
        let now = sim.now();
        if now >= world.horizon {
            break;
        }
        let open = world.conns.iter().any(|c| {
            c.client.closed_at.is_none() || c.server.as_ref().is_some_and(|s| s.closed_at.is_none())
        });
        let step = if now < busy_until {
            Duration::from_millis(10)
        } else if open {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(10)
        };
        let mut next = (now + step).min(world.horizon);
        if let Some(&(t, _, _)) = flap_ops.get(next_flap) {
            next = next.min(t);
        }
        if let Some(&(t, _)) = connect_ops.get(next_connect) {
            next = next.min(t);
        }
        if let Err(e) = sim.run_until(next) {
            report.failures.push(format!("the simulator stopped: {e}"));
            break;
        }
        let now = sim.now();
        while let Some(&(t, i, add)) = flap_ops.get(next_flap)
            && t <= now
        {
            if let Err(e) = apply_flap(&mut sim, &world, i, add) {
                report.failures.push(format!("at {now}: {e}"));
            }
            next_flap += 1;
        }
        while let Some(&(t, i)) = connect_ops.get(next_connect)
            && t <= now
        {
            let c = &world.conns[i];
            // A failing connect is recorded on the timeline and picked up below.
            let _ = sim.connect(c.client.proc, c.dst);
            next_connect += 1;
        }
        for e in &sim.timeline().events()[seen_events..] {
            let (host, pid, errno) = match &e.kind {
                EventKind::App {
                    host, pid, errno, ..
                }
                | EventKind::Call {
                    host, pid, errno, ..
                } => (host, *pid, *errno),
                EventKind::Error { message } => {
                    report.failures.push(format!("at {}: {message}", e.t));
                    continue;
                }
                _ => continue,
            };
            let Some(errno) = errno.filter(|e| !matches!(e, Errno::EAGAIN | Errno::EINPROGRESS))
            else {
                continue;
            };
            if let Some(&(i, client)) = owners.get(&(host.clone(), pid)) {
                let c = &mut world.conns[i];
                let ep = if client {
                    Some(&mut c.client)
                } else {
                    c.server.as_mut()
                };
                if let Some(ep) = ep
                    && !ep.errors.contains(&errno)
                {
                    ep.errors.push(errno);
                }
            }
        }
        seen_events = sim.timeline().events().len();
        for c in &mut world.conns {
            if c.start <= now {
                drive(&mut sim, &mut c.client, now);
            }
            if let Some(s) = c.server.as_mut() {
                drive(&mut sim, s, now);
            }
        }
        for name in &world.names {
            if let Ok(stack) = sim.stack(name)
                && let Err(e) = stack.check_invariants()
            {
                report
                    .failures
                    .push(format!("at {now}: host {name}: invariant broken: {e}"));
            }
        }
        if !report.failures.is_empty() {
            break;
        }
    }
    if report.failures.is_empty() {
        check(&sim, &world, &mut report);
    }
    report.end = sim.now();
    report.events = sim.timeline().events().len();
    if !report.passed() {
        let ev = sim.timeline().events();
        report.tail = ev[ev.len().saturating_sub(40)..]
            .iter()
            .map(|e| e.text(4))
            .collect();
    }
    (report, sim)
}

fn errno_list(v: &[Errno]) -> String {
    if v.is_empty() {
        return "no error".to_string();
    }
    v.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
}

/// Checks every connection once the run has settled.
fn check(sim: &Sim, world: &World, report: &mut SeedReport) {
    let end = sim.now();
    for (i, c) in world.conns.iter().enumerate() {
        let (a, b) = (c.client.host, world.host_of(c.dst));
        let tag = format!("conn {i} {}->{}", world.names[a], c.dst);
        let closed_all = [Some(&c.client), c.server.as_ref()]
            .into_iter()
            .flatten()
            .map(|e| e.closed_at.unwrap_or(end))
            .max()
            .unwrap_or(end);
        let outage = world
            .flaps
            .iter()
            .any(|f| f.touches(a, b) && f.overlaps(c.start, closed_all));
        let aborted = c.client.aborts() || c.server.as_ref().is_some_and(Endpoint::aborts);
        let lossy = [(a, b), (b, a)].iter().any(|k| {
            world
                .links
                .get(k)
                .is_some_and(|p| p.loss > 0.0 || p.corrupt > 0.0)
        });
        let keepalive = lossy
            && (c.client.plan.keepalive.is_some()
                || c.server
                    .as_ref()
                    .is_some_and(|s| s.plan.keepalive.is_some()));
        let mut allowed: Vec<Errno> = Vec::new();
        let mut causes: Vec<&str> = Vec::new();
        if outage {
            causes.push("a black hole (firewall DROP or 100 % loss)");
            allowed.extend([Errno::ETIMEDOUT, Errno::ECONNRESET, Errno::EPIPE]);
        }
        if aborted {
            causes.push("an abortive close");
            allowed.extend([Errno::ECONNRESET, Errno::EPIPE]);
        }
        if keepalive {
            causes.push("keepalive over a lossy link");
            allowed.extend([Errno::ETIMEDOUT, Errno::ECONNRESET, Errno::EPIPE]);
        }
        let Some(server) = &c.server else {
            let ok: &[Errno] = if outage {
                &[Errno::ECONNREFUSED, Errno::ETIMEDOUT]
            } else {
                &[Errno::ECONNREFUSED]
            };
            let e = &c.client.errors;
            let line = format!("{tag} (closed port): client saw {}", errno_list(e));
            if e.is_empty() || e.iter().any(|x| !ok.contains(x)) {
                report.failures.push(format!(
                    "{line}: expected ECONNREFUSED{}",
                    if outage { " or ETIMEDOUT" } else { "" }
                ));
            }
            report.outcomes.push(line);
            continue;
        };
        let cause = if causes.is_empty() {
            "undisturbed".to_string()
        } else {
            causes.join(", ")
        };
        report.outcomes.push(format!(
            "{tag} ({cause}): client sent {} got {}{} [{}]; server sent {} got {}{} [{}]",
            c.client.last.sent,
            c.client.last.received,
            if c.client.last.eof { "+EOF" } else { "" },
            errno_list(&c.client.errors),
            server.last.sent,
            server.last.received,
            if server.last.eof { "+EOF" } else { "" },
            errno_list(&server.errors),
        ));
        for (side, ep) in [("client", &c.client), ("server", server)] {
            for e in &ep.errors {
                if !allowed.contains(e) {
                    report.failures.push(format!(
                        "{tag}: the {side} saw {} ({}), which nothing in this run explains (disturbances: {cause})",
                        e.name(),
                        e.text()
                    ));
                }
            }
        }
        // Keepalive only widens what may be seen: a connection that saw no error is held
        // to the full checks.
        let saw_error = !c.client.errors.is_empty() || !server.errors.is_empty();
        if !outage && !aborted && !saw_error {
            causes.clear();
        }
        for (w, r, dir) in [
            (&c.client, server, "client to server"),
            (server, &c.client, "server to client"),
        ] {
            if r.last.mismatched > 0 {
                report.failures.push(format!(
                    "{tag}: {dir}: {} of {} bytes read differ from what was written",
                    r.last.mismatched, r.last.received
                ));
            }
            if r.last.received > w.last.sent {
                report.failures.push(format!(
                    "{tag}: {dir}: the reader got {} bytes but the writer wrote {}",
                    r.last.received, w.last.sent
                ));
            }
            if causes.is_empty() {
                let total = w.plan.total();
                if r.last.received != total || !r.last.eof {
                    report.failures.push(format!(
                        "{tag}: {dir}: undisturbed, yet the reader got {} of {total} bytes{}",
                        r.last.received,
                        if r.last.eof {
                            " and EOF"
                        } else {
                            " and no EOF"
                        }
                    ));
                }
            }
        }
        if causes.is_empty() {
            for (side, ep) in [("client", &c.client), ("server", server)] {
                if ep.closed_at.is_none() {
                    report.failures.push(format!(
                        "{tag}: undisturbed, yet the {side} never got to close its socket"
                    ));
                }
            }
            let client_local = server.last.peer;
            let closed = c.client.closed_at.is_some() && server.closed_at.is_some();
            for h in [a, b].into_iter().filter(|_| closed) {
                let Ok(entries) = sim.sockets(&world.names[h]) else {
                    continue;
                };
                for e in entries {
                    let ours = client_local.is_some_and(|cl| {
                        (e.local == cl && e.peer == Some(c.dst))
                            || (e.local == c.dst && e.peer == Some(cl))
                    });
                    if ours && e.state != TcpState::Listen {
                        report.failures.push(format!(
                            "{tag}: undisturbed and closed on both sides, yet host {} still holds {} > {} in {:?} at {end}",
                            world.names[h],
                            e.local,
                            e.peer.map_or("*".to_string(), |p| p.to_string()),
                            e.state
                        ));
                    }
                }
            }
        }
    }
}

impl World {
    fn host_of(&self, addr: SocketAddr) -> usize {
        self.addrs.iter().position(|a| *a == addr.ip()).unwrap_or(0)
    }
}
