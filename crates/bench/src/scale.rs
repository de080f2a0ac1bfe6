//! The `scale` workload: what tcplab holds and how fast it moves at a million connections.
//! tcplab only — smoltcp keeps its sockets in a set that every packet and every poll scans,
//! and fixed buffers per socket, so it cannot hold these numbers.
//!
//! - [`sizes`]: `size_of` of a full socket, a time-wait record and a request socket;
//! - [`established`]: N idle established connections between the two hosts of
//!   [`tcplab_net::Net`], SO_KEEPALIVE on at the client (the stack whose keepalive is armed);
//!   the wall time to open them all, the heap each host holds per connection while idle, the
//!   wall time of the first full keepalive round (virtual time advanced past every deadline,
//!   every probe sent and its ACK back), then the run continued to a virtual-time horizon
//!   with all the keepalive traffic that brings (the "simulated 1 M-connection run");
//! - [`time_wait`]: N TIME_WAIT records alive at once at the client, made by opening and
//!   closing connections in batches (Linux's 60 s TIME_WAIT outlives the whole run), the
//!   wall time to make them and the heap per record.
//!
//! Guarantees: each phase checks what it claims (every connection established, every client
//! sent exactly one probe per keepalive expiry and got one ACK per probe, every TIME_WAIT
//! record present) and returns a [`BenchError`] rather than a figure when anything is off.
//! Heap figures need a counting global allocator in the binary (the `scale` example has one);
//! without a [`HeapProbe`] they are `None`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcplab_stack::listen::ReqSock;
use tcplab_stack::socket::Sock;
use tcplab_stack::timewait::TwSock;
use tcplab_stack::{Domain, Errno, Fd, Instant, SockOpt, Stack, Sysctls, TcpState};

use crate::tcplab_net::{Net, SERVER};
use crate::{BenchError, SERVER_PORT};

const NAME: &str = "tcplab";
/// Connections opened (and accepted) per batch: below the default somaxconn of 4096.
const BATCH: usize = 2000;
/// Connections per server port: within one pass over the client's ephemeral range
/// (32768–60999), so consecutive connects to one port never meet a tuple in use.
const CONNS_PER_PORT: usize = 28_000;

/// Live heap bytes of the whole process, from a counting global allocator.
pub type HeapProbe = fn() -> usize;

/// `std::mem::size_of` of the stack's per-connection records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// A full socket (`Sock`).
    pub sock: usize,
    /// A time-wait record (`TwSock`).
    pub time_wait: usize,
    /// A request socket (`ReqSock`).
    pub request: usize,
}

pub fn sizes() -> Sizes {
    Sizes {
        sock: std::mem::size_of::<Sock>(),
        time_wait: std::mem::size_of::<TwSock>(),
        request: std::mem::size_of::<ReqSock>(),
    }
}

/// How the established phase runs.
#[derive(Clone, Copy, Debug)]
pub struct EstablishedOptions {
    pub conns: usize,
    /// net.ipv4.tcp_keepalive_time and tcp_keepalive_intvl on both hosts, seconds.
    pub keepalive_time: u32,
    pub keepalive_intvl: u32,
    /// Virtual time the run covers from the end of the opening (at least one keepalive
    /// round is always run, even past this).
    pub horizon: Duration,
}

/// What the established phase measured.
#[derive(Clone, Copy, Debug)]
pub struct EstablishedResult {
    pub conns: usize,
    /// Wall time to open and accept every connection.
    pub open: Duration,
    /// Heap both hosts hold (with the application's descriptor lists) right after the
    /// opening, per connection.
    pub heap_idle_per_conn: Option<f64>,
    /// Heap per connection of the client (keepalive armed) and of the server, each measured
    /// by dropping that stack at the end of the run, when the connections are idle again.
    pub client_heap_per_conn: Option<f64>,
    pub server_heap_per_conn: Option<f64>,
    /// Wall time of the first keepalive round: from the idle link to every probe answered.
    pub round: Duration,
    /// Probes sent (and answered) in the first round.
    pub round_probes: u64,
    /// Wall time from the end of the opening to the horizon (the first round included).
    pub run: Duration,
    /// Virtual time that covered.
    pub run_virtual: Duration,
    /// Probes sent (and answered) over the whole run.
    pub run_probes: u64,
}

/// Per-connection counters read from a client socket.
fn client_counts(net: &Net, fd: Fd) -> Result<(u64, u64, u32), BenchError> {
    let s = net
        .a
        .sock(fd)
        .ok_or_else(|| BenchError::call(NAME, "sock", format!("{fd:?} is gone")))?;
    if s.state != TcpState::Established {
        return Err(BenchError::call(
            NAME,
            "keepalive",
            format!("{fd:?} left ESTABLISHED: {:?}", s.state),
        ));
    }
    Ok((
        u64::from(s.stats.segs_out),
        u64::from(s.stats.segs_in),
        s.icsk_probes_out,
    ))
}

/// Runs the link until it is idle and no timer is due at or before `until`.
fn run_until(net: &mut Net, until: Instant) -> Result<(), BenchError> {
    loop {
        if !net.idle() {
            net.deliver_to_b();
            net.deliver_to_a();
            continue;
        }
        let next = [net.a.poll_timeout(), net.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= until => net.advance_to_timer("running keepalive")?,
            _ => return Ok(()),
        }
    }
}

/// Opens `conns` connections from a to b in batches, SO_KEEPALIVE set on each client socket
/// before connect(): (client fds, server fds).
fn open_all(
    net: &mut Net,
    conns: usize,
    keepalive: bool,
) -> Result<(Vec<Fd>, Vec<Fd>), BenchError> {
    let lfds = listeners(net, conns)?;
    let mut cfds = Vec::with_capacity(conns);
    let mut sfds = Vec::with_capacity(conns);
    while cfds.len() < conns {
        let first = cfds.len();
        let batch = (conns - first).min(BATCH);
        for i in first..first + batch {
            let port = SERVER_PORT + (i / CONNS_PER_PORT) as u16;
            let fd = net
                .a
                .socket(Domain::Inet)
                .map_err(|e| BenchError::call(NAME, "socket", e))?;
            if keepalive {
                net.a
                    .setsockopt(net.now, fd, SockOpt::KeepAlive(true))
                    .map_err(|e| BenchError::call(NAME, "setsockopt", e))?;
            }
            let dst = SocketAddr::new(IpAddr::V4(SERVER), port);
            match net.a.connect(net.now, fd, dst) {
                Ok(()) | Err(Errno::EINPROGRESS) => {}
                Err(e) => return Err(BenchError::call(NAME, "connect", e)),
            }
            cfds.push(fd);
        }
        net.flush_a();
        net.settle_batch(&lfds, &mut sfds, batch, &cfds[first..])?;
    }
    Ok((cfds, sfds))
}

/// One listener on b for every [`CONNS_PER_PORT`] connections, on consecutive ports from
/// [`SERVER_PORT`].
fn listeners(net: &mut Net, conns: usize) -> Result<Vec<Fd>, BenchError> {
    (0..conns.div_ceil(CONNS_PER_PORT).max(1))
        .map(|k| net.listen(SERVER_PORT + k as u16))
        .collect()
}

/// Heap freed by dropping one host's stack (replaced by an empty one with its config).
fn heap_of(stack: &mut Stack, heap: HeapProbe) -> usize {
    let fresh = Stack::new(stack.config().clone());
    let before = heap();
    drop(std::mem::replace(stack, fresh));
    before.saturating_sub(heap())
}

/// The established phase (see the module docs).
pub fn established(
    opts: EstablishedOptions,
    heap: Option<HeapProbe>,
) -> Result<EstablishedResult, BenchError> {
    let sysctls = Sysctls {
        tcp_keepalive_time: opts.keepalive_time,
        tcp_keepalive_intvl: opts.keepalive_intvl,
        ..Sysctls::default()
    };
    let mut net = Net::with_sysctls(1500, &sysctls);
    let base = heap.map(|h| h());
    let start = std::time::Instant::now();
    let (cfds, sfds) = open_all(&mut net, opts.conns, true)?;
    let open = start.elapsed();
    let n = opts.conns as f64;
    let heap_idle_per_conn = heap
        .zip(base)
        .map(|(h, b)| h().saturating_sub(b) as f64 / n);
    let opened_at = net.now;

    let before = cfds
        .iter()
        .map(|&fd| client_counts(&net, fd))
        .collect::<Result<Vec<_>, _>>()?;
    // Every client's keepalive fires by the latest of their socket timers.
    let last_fire = cfds
        .iter()
        .filter_map(|&fd| net.a.sock(fd).and_then(|s| s.slots[2]))
        .max()
        .ok_or_else(|| BenchError::call(NAME, "keepalive", "no keepalive timer armed"))?;
    let run_start = std::time::Instant::now();
    run_until(&mut net, last_fire)?;
    let round = run_start.elapsed();
    let mut round_probes = 0;
    for (&fd, b) in cfds.iter().zip(&before) {
        let (out, inn, probes_out) = client_counts(&net, fd)?;
        let sent = out - b.0;
        if sent == 0 || inn - b.1 != sent || probes_out != 0 {
            return Err(BenchError::call(
                NAME,
                "keepalive",
                format!(
                    "{fd:?}: {sent} probe(s) sent, {} segment(s) back, {probes_out} unanswered",
                    inn - b.1
                ),
            ));
        }
        round_probes += sent;
    }
    let horizon = opened_at + opts.horizon;
    let until = horizon.max(net.now);
    run_until(&mut net, until)?;
    // Nothing is due before the horizon: the run covered it.
    net.now = until;
    let run = run_start.elapsed();
    let run_virtual = Duration::from_nanos(net.now.as_nanos() - opened_at.as_nanos());
    let mut run_probes = 0;
    for (&fd, b) in cfds.iter().zip(&before) {
        let (out, inn, probes_out) = client_counts(&net, fd)?;
        if out - b.0 != inn - b.1 || probes_out != 0 {
            return Err(BenchError::call(
                NAME,
                "keepalive",
                format!("{fd:?}: a probe went unanswered"),
            ));
        }
        run_probes += out - b.0;
    }
    for &fd in &sfds {
        if net.b.state(fd) != Some(TcpState::Established) {
            return Err(BenchError::call(
                NAME,
                "keepalive",
                format!("server {fd:?} left ESTABLISHED"),
            ));
        }
    }
    let (server_heap_per_conn, client_heap_per_conn) = match heap {
        Some(h) => (
            Some(heap_of(&mut net.b, h) as f64 / n),
            Some(heap_of(&mut net.a, h) as f64 / n),
        ),
        None => (None, None),
    };
    Ok(EstablishedResult {
        conns: opts.conns,
        open,
        heap_idle_per_conn,
        client_heap_per_conn,
        server_heap_per_conn,
        round,
        round_probes,
        run,
        run_virtual,
        run_probes,
    })
}

/// What the time-wait phase measured.
#[derive(Clone, Copy, Debug)]
pub struct TimeWaitResult {
    /// TIME_WAIT records alive at the client at the end.
    pub entries: usize,
    /// Wall time to open and close every connection.
    pub create: Duration,
    /// Virtual time that took (below 60 s, so none has expired).
    pub virtual_time: Duration,
    /// Heap the client stack holds per record (dropping it at the end).
    pub heap_per_entry: Option<f64>,
    /// Of that, the stack's pools of emptied buffers and queues (a per-stack amount whatever
    /// the count, `Stack::pooled_bytes`), in all.
    pub pooled: usize,
}

/// `entries` connections opened and closed in batches, the client closing first, so that
/// each leaves a TIME_WAIT record at the client; the server's sockets are all gone.
/// `tcp_max_tw_buckets` is raised to `entries` if it is below.
pub fn time_wait(entries: usize, heap: Option<HeapProbe>) -> Result<TimeWaitResult, BenchError> {
    // Linux caps the records at net.ipv4.tcp_max_tw_buckets (131072 by default here, after
    // which a closing connection skips TIME_WAIT); raised as an administrator would.
    let sysctls = Sysctls {
        tcp_max_tw_buckets: (entries as u32).max(Sysctls::default().tcp_max_tw_buckets),
        ..Sysctls::default()
    };
    let mut net = Net::with_sysctls(1500, &sysctls);
    let lfds = listeners(&mut net, entries)?;
    let start = std::time::Instant::now();
    let mut made = 0;
    let mut buf = [0u8; 1];
    while made < entries {
        let batch = (entries - made).min(BATCH);
        let (cfds, sfds) = open_batch(&mut net, &lfds, made, batch)?;
        for &fd in &cfds {
            net.a
                .close(net.now, fd)
                .map_err(|e| BenchError::call(NAME, "close", e))?;
        }
        net.flush_a();
        net.until("waiting for the clients' FINs", |n| {
            Ok(n.idle()
                && sfds
                    .iter()
                    .all(|&fd| n.b.recv(n.now, fd, &mut buf) == Ok(0)))
        })?;
        for &fd in &sfds {
            net.b
                .close(net.now, fd)
                .map_err(|e| BenchError::call(NAME, "close", e))?;
        }
        net.flush_b();
        net.until("closing", |n| Ok(n.idle() && n.b.counts().0 == 0))?;
        made += batch;
    }
    let create = start.elapsed();
    for l in lfds {
        net.b
            .close(net.now, l)
            .map_err(|e| BenchError::call(NAME, "close", e))?;
    }
    let (conns, reqs, tws) = net.a.counts();
    if (conns, reqs, tws) != (0, 0, entries) || net.b.counts() != (0, 0, 0) {
        return Err(BenchError::call(
            NAME,
            "time_wait",
            format!(
                "client holds {conns} sockets, {reqs} requests, {tws} TIME_WAIT (want {entries}); \
                 server {:?}",
                net.b.counts()
            ),
        ));
    }
    let pooled = net.a.pooled_bytes();
    let heap_per_entry = heap.map(|h| heap_of(&mut net.a, h) as f64 / entries as f64);
    Ok(TimeWaitResult {
        entries: tws,
        create,
        virtual_time: Duration::from_nanos(net.now.as_nanos()),
        heap_per_entry,
        pooled,
    })
}

/// Opens connections `first..first + batch` of the time-wait phase, each to the server port
/// its index falls in: (client fds, server fds).
fn open_batch(
    net: &mut Net,
    lfds: &[Fd],
    first: usize,
    batch: usize,
) -> Result<(Vec<Fd>, Vec<Fd>), BenchError> {
    let mut cfds = Vec::with_capacity(batch);
    for i in first..first + batch {
        let port = SERVER_PORT + (i / CONNS_PER_PORT) as u16;
        let fd = net
            .start_connect(port)?
            .ok_or_else(|| BenchError::call(NAME, "connect", Errno::EADDRNOTAVAIL))?;
        cfds.push(fd);
    }
    let mut sfds = Vec::with_capacity(batch);
    net.settle_batch(lfds, &mut sfds, batch, &cfds)?;
    Ok((cfds, sfds))
}

/// Everything `tcplab bench scale` and the `scale` example run.
#[derive(Clone, Copy, Debug)]
pub struct ScaleOptions {
    /// Established connections.
    pub conns: usize,
    /// TIME_WAIT records.
    pub time_wait: usize,
    /// tcp_keepalive_time and tcp_keepalive_intvl, seconds.
    pub keepalive: u32,
    /// Virtual time of the established run after the opening.
    pub horizon: Duration,
}

impl Default for ScaleOptions {
    fn default() -> Self {
        ScaleOptions {
            conns: 1_000_000,
            time_wait: 1_000_000,
            keepalive: 10,
            horizon: Duration::from_secs(60),
        }
    }
}

/// One `NAME tcplab=X smoltcp=- ratio=-` line of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleFigure {
    pub name: &'static str,
    pub value: Option<f64>,
}

/// Runs both phases, printing as it goes; returns the summary figures (heap ones `None`
/// without a probe).
pub fn report(
    opts: &ScaleOptions,
    heap: Option<HeapProbe>,
    out: &mut impl std::io::Write,
) -> Result<Vec<ScaleFigure>, Box<dyn std::error::Error>> {
    let z = sizes();
    let show = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"));
    writeln!(
        out,
        "\nscale: tcplab only (smoltcp keeps fixed buffers per socket and scans its socket set \
         on every packet and poll); heap figures {}",
        if heap.is_some() {
            "from a counting allocator"
        } else {
            "need a counting allocator (build with --features tcplab/bench-heap, or run the \
             scale example)"
        }
    )?;
    writeln!(
        out,
        "  size_of: full socket {} B, time-wait record {} B, request socket {} B",
        z.sock, z.time_wait, z.request
    )?;
    out.flush()?;
    let e = established(
        EstablishedOptions {
            conns: opts.conns,
            keepalive_time: opts.keepalive,
            keepalive_intvl: opts.keepalive,
            horizon: opts.horizon,
        },
        heap,
    )?;
    writeln!(
        out,
        "  established: {} connections opened and accepted in {:.2} s ({:.0}/s), SO_KEEPALIVE \
         at the client, tcp_keepalive_time = intvl = {} s",
        e.conns,
        e.open.as_secs_f64(),
        e.conns as f64 / e.open.as_secs_f64(),
        opts.keepalive
    )?;
    writeln!(
        out,
        "  heap per idle connection: {} B both hosts together after the opening; client \
         (keepalive armed) {} B, server {} B at the end of the run",
        show(e.heap_idle_per_conn),
        show(e.client_heap_per_conn),
        show(e.server_heap_per_conn)
    )?;
    writeln!(
        out,
        "  first keepalive round: {} probes sent and answered in {:.2} s",
        e.round_probes,
        e.round.as_secs_f64()
    )?;
    // The first round also grows the link's datagram pool to one buffer per probe; the later
    // ones reuse it.
    let rounds = e.run_probes / e.conns.max(1) as u64;
    let later_round = (rounds > 1).then(|| (e.run - e.round).as_secs_f64() / (rounds - 1) as f64);
    writeln!(
        out,
        "  run of {:.1} s virtual time: {} probes sent and answered in {:.2} s (the rounds \
         after the first: {} s each)",
        e.run_virtual.as_secs_f64(),
        e.run_probes,
        e.run.as_secs_f64(),
        later_round.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
    )?;
    out.flush()?;
    let t = time_wait(opts.time_wait, heap)?;
    let without_pools = t
        .heap_per_entry
        .map(|h| h - t.pooled as f64 / t.entries.max(1) as f64);
    writeln!(
        out,
        "  time-wait: {} records alive at the client, made in {:.2} s ({:.0}/s, {:.1} s \
         virtual); heap per record {} B, {} B without the stack's pools of emptied buffers \
         ({:.1} MiB in all, whatever the count)",
        t.entries,
        t.create.as_secs_f64(),
        t.entries as f64 / t.create.as_secs_f64(),
        t.virtual_time.as_secs_f64(),
        show(t.heap_per_entry),
        show(without_pools),
        t.pooled as f64 / f64::from(1 << 20)
    )?;
    Ok(vec![
        ScaleFigure {
            name: "scale_sock_bytes",
            value: Some(z.sock as f64),
        },
        ScaleFigure {
            name: "scale_bytes_per_conn",
            value: e.client_heap_per_conn,
        },
        ScaleFigure {
            name: "scale_server_bytes_per_conn",
            value: e.server_heap_per_conn,
        },
        ScaleFigure {
            name: "scale_open_s",
            value: Some(e.open.as_secs_f64()),
        },
        ScaleFigure {
            name: "scale_keepalive_round_s",
            value: Some(e.round.as_secs_f64()),
        },
        ScaleFigure {
            name: "scale_keepalive_later_round_s",
            value: later_round,
        },
        ScaleFigure {
            name: "scale_run_s",
            value: Some(e.run.as_secs_f64()),
        },
        ScaleFigure {
            name: "scale_time_wait_bytes",
            value: t.heap_per_entry,
        },
        ScaleFigure {
            name: "scale_time_wait_bytes_without_pools",
            value: without_pools,
        },
        ScaleFigure {
            name: "scale_time_wait_record_bytes",
            value: Some(z.time_wait as f64),
        },
        ScaleFigure {
            name: "scale_time_wait_create_s",
            value: Some(t.create.as_secs_f64()),
        },
    ])
}

/// The summary line of one figure: `NAME tcplab=X smoltcp=- ratio=-`.
pub fn summary_line(f: &ScaleFigure) -> String {
    let v = match f.value {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    };
    format!("{} tcplab={v} smoltcp=- ratio=-", f.name)
}
