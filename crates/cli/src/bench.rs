//! `tcplab bench`: tcplab and smoltcp side by side on the workloads of `tcplab-bench`.
//!
//! Each workload runs `runs` times on each stack in one process, interleaved (tcplab, smoltcp,
//! tcplab, smoltcp, …) because this kind of machine changes speed by up to 2× over tens of
//! seconds; every run is printed as it ends, then the medians and the ratio. The output ends
//! with one line per workload, `WORKLOAD tcplab=X smoltcp=Y ratio=Z`, for scripts:
//!
//! - `bulk` (MTU 1500) and `bulk_mtu65535`: payload Gbit/s of one checked transfer, both
//!   stacks with 1 MiB socket buffers (tcplab's as the `tcp_wmem[2]`/`tcp_rmem[2]` cap);
//!   `bulk_linux_buffers` and `bulk_mtu65535_linux_buffers`: tcplab with Linux's default caps
//!   against the same smoltcp runs;
//! - `churn`: connections per second; tcplab with its 60 s TIME_WAIT against smoltcp with its
//!   TIME_WAIT discarded (smoltcp's faster figure; its honoured one is printed above);
//! - `many`: request/echo exchanges per second over N established connections (smoltcp's
//!   connection count is capped, see [`SMOLTCP_MANY_CAP`]);
//! - `scale` (only when named): tcplab alone at a million connections (`tcplab_bench::scale`),
//!   one line per figure as `scale_NAME tcplab=X smoltcp=- ratio=-` (sizes and heap in bytes,
//!   times in seconds; heap figures `-` unless built with the `bench-heap` feature, which
//!   installs a counting allocator).
//!
//! `ratio` is tcplab/smoltcp: above 1 tcplab is faster.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use tcplab_bench::scale::{self, HeapProbe, ScaleOptions};
use tcplab_bench::{
    BenchError, BulkResult, ChurnResult, ManyResult, TimeWait, median, smoltcp_net, tcplab_net,
};

/// Counts live heap bytes for the scale workload's figures (six atomic adds per allocation,
/// so only in a build that asks for it).
#[cfg(feature = "bench-heap")]
#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

#[cfg(feature = "bench-heap")]
fn live_bytes() -> usize {
    let s = stats_alloc::INSTRUMENTED_SYSTEM.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

#[cfg(feature = "bench-heap")]
const HEAP: Option<HeapProbe> = Some(live_bytes);
#[cfg(not(feature = "bench-heap"))]
const HEAP: Option<HeapProbe> = None;

/// Above this many connections smoltcp's `many` runs with this many (each packet and each
/// poll scans its whole socket set, so 100 k would take tens of minutes per run).
pub const SMOLTCP_MANY_CAP: usize = 10_000;
/// Wall-clock time after which a smoltcp churn run with TIME_WAIT honoured stops (its socket
/// set grows with every TIME_WAIT socket, so each cycle gets slower).
pub const SMOLTCP_TIME_WAIT_BUDGET: Duration = Duration::from_secs(3);
/// Request/echo passes over all connections in `many`.
pub const MANY_PASSES: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Bulk,
    Churn,
    Many,
    Scale,
}

/// What `tcplab bench` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Empty: all three.
    pub workloads: Vec<Workload>,
    /// Runs per stack.
    pub runs: u32,
    /// Bytes per bulk transfer.
    pub bytes: u64,
    /// Connections in `many`.
    pub conns: usize,
    /// Cycles in `churn`.
    pub cycles: u64,
    /// Established connections and TIME_WAIT records in `scale`.
    pub scale_conns: usize,
    /// The bulk MTU; `None` runs 1500 and 65535.
    pub mtu: Option<u32>,
}

/// One summary line.
struct Summary {
    name: String,
    tcplab: f64,
    smoltcp: f64,
}

pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let workloads = if opts.workloads.is_empty() {
        vec![Workload::Bulk, Workload::Churn, Workload::Many]
    } else {
        opts.workloads.clone()
    };
    writeln!(
        out,
        "tcplab bench: {} run(s) per stack, interleaved; link delay {} µs each way, virtual time",
        opts.runs,
        tcplab_bench::ONE_WAY_DELAY.as_micros()
    )?;
    let mut summaries = Vec::new();
    let mut scale_lines = Vec::new();
    for w in workloads {
        let r = match w {
            Workload::Bulk => {
                let mtus = match opts.mtu {
                    Some(m) => vec![m],
                    None => vec![1500, 65535],
                };
                let mut r = Ok(());
                for mtu in mtus {
                    r = bulk(opts, mtu, out, &mut summaries);
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            Workload::Churn => churn(opts, out, &mut summaries),
            Workload::Many => many(opts, out, &mut summaries),
            Workload::Scale => {
                let o = ScaleOptions {
                    conns: opts.scale_conns,
                    time_wait: opts.scale_conns,
                    ..ScaleOptions::default()
                };
                match scale::report(&o, HEAP, out) {
                    Ok(figures) => {
                        scale_lines.extend(figures.iter().map(scale::summary_line));
                        Ok(())
                    }
                    Err(e) => {
                        writeln!(out, "error: {e}")?;
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
        };
        if let Err(e) = r {
            match e {
                Failure::Io(e) => return Err(e),
                Failure::Bench(e) => {
                    writeln!(out, "error: {e}")?;
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    writeln!(out)?;
    for s in &summaries {
        writeln!(
            out,
            "{} tcplab={} smoltcp={} ratio={:.2}",
            s.name,
            figure(s.tcplab),
            figure(s.smoltcp),
            s.tcplab / s.smoltcp
        )?;
    }
    for line in &scale_lines {
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Gbit/s with two decimals; rates above 100 as whole numbers.
fn figure(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

enum Failure {
    Io(io::Error),
    Bench(BenchError),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<BenchError> for Failure {
    fn from(e: BenchError) -> Self {
        Failure::Bench(e)
    }
}

fn bulk(
    opts: &Options,
    mtu: u32,
    out: &mut impl Write,
    summaries: &mut Vec<Summary>,
) -> Result<(), Failure> {
    writeln!(
        out,
        "\nbulk: one connection, {} bytes a→b, MTU {mtu}, checksums on, copied in and out, \
         every byte checked (Gbit/s of payload)\n  \
         buffers: smoltcp {buf} send and receive; tcplab tcp_wmem[2] = tcp_rmem[2] = {buf} \
         (\"tcplab\"), and Linux's defaults {wmem} and {rmem} (\"tcplab-linux\")",
        opts.bytes,
        buf = mib(tcplab_bench::BULK_BUFFER as u64),
        wmem = mib(u64::from(tcplab_stack::Sysctls::default().tcp_wmem[2])),
        rmem = mib(u64::from(tcplab_stack::Sysctls::default().tcp_rmem[2])),
    )?;
    let line = |stack: &str, run: u32, r: &BulkResult| {
        format!(
            "  run {run}  {stack:<13} {:>8.2} Gbit/s  ({:.3} s, {} datagrams)",
            r.gbps(),
            r.elapsed.as_secs_f64(),
            r.datagrams
        )
    };
    let (mut t, mut s, mut l) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=opts.runs {
        let r = tcplab_net::bulk_equal(opts.bytes, mtu)?;
        writeln!(out, "{}", line("tcplab", run, &r))?;
        out.flush()?;
        t.push(r.gbps());
        let r = smoltcp_net::bulk(opts.bytes, mtu)?;
        writeln!(out, "{}", line("smoltcp", run, &r))?;
        out.flush()?;
        s.push(r.gbps());
        let r = tcplab_net::bulk(opts.bytes, mtu)?;
        writeln!(out, "{}", line("tcplab-linux", run, &r))?;
        out.flush()?;
        l.push(r.gbps());
    }
    let (mt, ms, ml) = (median(&t), median(&s), median(&l));
    writeln!(
        out,
        "  median   tcplab {mt:.2} Gbit/s, smoltcp {ms:.2} Gbit/s, ratio {:.2}; \
         tcplab with Linux's buffers {ml:.2} Gbit/s, ratio {:.2}",
        mt / ms,
        ml / ms
    )?;
    let name = if mtu == 1500 {
        "bulk".to_string()
    } else {
        format!("bulk_mtu{mtu}")
    };
    summaries.push(Summary {
        name: name.clone(),
        tcplab: mt,
        smoltcp: ms,
    });
    summaries.push(Summary {
        name: format!("{name}_linux_buffers"),
        tcplab: ml,
        smoltcp: ms,
    });
    Ok(())
}

/// `n` bytes as whole MiB (or bytes when not a whole MiB).
fn mib(n: u64) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} B")
    }
}

fn churn_line(stack: &str, run: u32, r: &ChurnResult) -> String {
    let mut s = format!(
        "  run {run}  {stack:<18} {:>9.0} conn/s  ({} cycles in {:.3} s, {:.1} s virtual, \
         {} TIME_WAIT alive at the end)",
        r.per_sec(),
        r.cycles,
        r.elapsed.as_secs_f64(),
        r.virtual_time.as_secs_f64(),
        r.time_wait_alive
    );
    if let Some(why) = &r.stopped {
        s.push_str(&format!("\n           {why}"));
    }
    s
}

fn churn(
    opts: &Options,
    out: &mut impl Write,
    summaries: &mut Vec<Summary>,
) -> Result<(), Failure> {
    writeln!(
        out,
        "\nchurn: {} sequential cycles of connect, 1-byte request, 1-byte response, client \
         close, server close (connections/s); tcplab keeps Linux's 60 s TIME_WAIT, smoltcp its \
         10 s one (runs stop after {} s) or none",
        opts.cycles,
        SMOLTCP_TIME_WAIT_BUDGET.as_secs()
    )?;
    let (mut t, mut sh, mut sd) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=opts.runs {
        let r = tcplab_net::churn(opts.cycles)?;
        writeln!(out, "{}", churn_line("tcplab", run, &r))?;
        out.flush()?;
        t.push(r.per_sec());
        let r = smoltcp_net::churn(
            opts.cycles,
            TimeWait::Honour,
            Some(SMOLTCP_TIME_WAIT_BUDGET),
        )?;
        writeln!(out, "{}", churn_line("smoltcp", run, &r))?;
        out.flush()?;
        sh.push(r.per_sec());
        let r = smoltcp_net::churn(opts.cycles, TimeWait::Discard, None)?;
        writeln!(out, "{}", churn_line("smoltcp, no TW", run, &r))?;
        out.flush()?;
        sd.push(r.per_sec());
    }
    let (mt, mh, md) = (median(&t), median(&sh), median(&sd));
    writeln!(
        out,
        "  median   tcplab {mt:.0} conn/s; smoltcp {mh:.0} conn/s with TIME_WAIT (ratio {:.2}), \
         {md:.0} conn/s without (ratio {:.2})",
        mt / mh,
        mt / md
    )?;
    summaries.push(Summary {
        name: "churn".into(),
        tcplab: mt,
        smoltcp: md,
    });
    Ok(())
}

fn many_line(stack: &str, run: u32, r: &ManyResult) -> String {
    format!(
        "  run {run}  {stack:<8} {:>9.0} msg/s  ({} connections, {} exchanges in {:.3} s; \
         setup {:.3} s)",
        r.per_sec(),
        r.conns,
        r.messages,
        r.elapsed.as_secs_f64(),
        r.setup.as_secs_f64()
    )
}

fn many(opts: &Options, out: &mut impl Write, summaries: &mut Vec<Summary>) -> Result<(), Failure> {
    let smol_conns = opts.conns.min(SMOLTCP_MANY_CAP);
    writeln!(
        out,
        "\nmany: {} established connections, {MANY_PASSES} passes of a 64-byte request and its \
         echo on each (exchanges/s)",
        opts.conns
    )?;
    if smol_conns < opts.conns {
        writeln!(
            out,
            "  smoltcp capped at {smol_conns} connections: every packet and every poll scans \
             its whole socket set"
        )?;
    }
    let (mut t, mut s) = (Vec::new(), Vec::new());
    for run in 1..=opts.runs {
        let r = tcplab_net::many(opts.conns, MANY_PASSES)?;
        writeln!(out, "{}", many_line("tcplab", run, &r))?;
        out.flush()?;
        t.push(r.per_sec());
        let r = smoltcp_net::many(smol_conns, MANY_PASSES)?;
        writeln!(out, "{}", many_line("smoltcp", run, &r))?;
        out.flush()?;
        s.push(r.per_sec());
    }
    let (mt, ms) = (median(&t), median(&s));
    writeln!(
        out,
        "  median   tcplab {mt:.0} msg/s, smoltcp {ms:.0} msg/s, ratio {:.2}",
        mt / ms
    )?;
    summaries.push(Summary {
        name: "many".into(),
        tcplab: mt,
        smoltcp: ms,
    });
    Ok(())
}
