//! `tcplab diff FILE`: runs a scenario in the simulator and on the host's Linux (every host
//! in its own network namespace, see `tcplab-kernel`) and prints the two timelines side by
//! side.
//!
//! For each host: the TCP segments it sent, its sockets' state changes and the errors its
//! applications saw, aligned (see [`compare`]). Each row shows the simulator's time, the
//! kernel's time, the difference between the two sides' gaps from the previous matched row,
//! and a mark: `=` the same within the tolerance, `~` the same event at a different time,
//! `<` only in the simulator, `>` only on the kernel.
//!
//! The kernel run is real time. Unless `--full`, it stops one second after the simulator's
//! last event (or at the script's `run` time if that is earlier): what the simulator shows
//! then has had time to happen on the kernel too, and a scenario with a long quiet tail does
//! not cost its whole `run` time.
//!
//! Exit status: 0 when the timelines agree, 1 when they differ, 2 when the scenario cannot
//! run (a script error, a line the kernel backend cannot realise, or a machine without root
//! and the tools the kernel backend needs).

pub mod compare;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tcplab_sim::run::{RunOptions, RunReport, run_scenario};
use tcplab_sim::scenario::{Scenario, parse_file};
use tcplab_stack::Instant;

use compare::{Mark, Names, Stream, Tolerance, compare_timelines};

/// What `tcplab diff` does.
#[derive(Clone, Debug)]
pub struct Options {
    pub file: PathBuf,
    pub seed: Option<u64>,
    /// A fixed tolerance instead of the kernel's timer granularity.
    pub tolerance: Option<Duration>,
    /// Run the kernel side to the script's `run` time.
    pub full: bool,
    /// Print the rows that agree too, not only the differences.
    pub all: bool,
}

/// The HZ assumed for the kernel when the script sets none (this machine's kernel).
const DEFAULT_HZ: u32 = 250;

/// How long the kernel run goes on after the simulator's last event.
const TAIL: Duration = Duration::from_secs(1);

/// Both runs of one scenario.
pub struct Runs {
    pub scenario: Scenario,
    pub sim: RunReport,
    pub kernel: RunReport,
}

fn base_dir(file: &Path) -> PathBuf {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs `file` on both sides; `Err` is the message for exit status 2.
pub fn run_both(opts: &Options) -> Result<Runs, String> {
    let mut sc = parse_file(&opts.file).map_err(|e| e.to_string())?;
    tcplab_kernel::check_available()
        .map_err(|why| format!("{}: cannot run on the kernel: {why}", opts.file.display()))?;
    // The simulator runs every host as tcplab; the kernel runs every host as Linux.
    for h in &mut sc.hosts {
        h.kernel = false;
    }
    let sim = run_scenario(
        &sc,
        RunOptions {
            seed: opts.seed,
            base_dir: base_dir(&opts.file),
            pcap_dir: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let last = sim.timeline.events().last().map_or(Instant::ZERO, |e| e.t);
    let stop_after = (!opts.full)
        .then(|| Duration::from_nanos(last.as_nanos()) + TAIL)
        .filter(|d| sc.run.as_ref().is_none_or(|r| *d < r.duration));
    let kernel = tcplab_kernel::run_on_kernel(
        &sc,
        &tcplab_kernel::KernelOptions {
            base_dir: base_dir(&opts.file),
            pcap_dir: None,
            stop_after,
            verbose: false,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Runs {
        scenario: sc,
        sim,
        kernel,
    })
}

/// The tolerance `opts` asks for, or the kernel's granularity at the script's HZ.
pub fn tolerance(opts: &Options, sc: &Scenario) -> Tolerance {
    match opts.tolerance {
        Some(d) => Tolerance::Fixed(d),
        None => Tolerance::Kernel {
            hz: sc.hz_of(0).unwrap_or(DEFAULT_HZ),
        },
    }
}

/// Compares the two runs and writes the report; true when they agree.
pub fn report(
    runs: &Runs,
    tolerance: Tolerance,
    all: bool,
    out: &mut impl Write,
) -> io::Result<bool> {
    let names = Names::new(runs.scenario.hosts.iter().map(|h| (h.addr, h.name.clone())));
    let streams = compare_timelines(&runs.sim.timeline, &runs.kernel.timeline, &names, tolerance);
    let mut totals = [0usize; 4];
    for s in &streams {
        write_stream(s, all, out)?;
        for r in &s.rows {
            let i = match r.mark {
                Mark::Same => 0,
                Mark::Time { .. } => 1,
                Mark::OnlySim => 2,
                Mark::OnlyKernel => 3,
            };
            totals[i] += 1;
        }
    }
    let [same, time, only_sim, only_kernel] = totals;
    let agree = time + only_sim + only_kernel == 0;
    let tol = match tolerance {
        Tolerance::Fixed(d) => format!("{} ms", d.as_secs_f64() * 1e3),
        Tolerance::Kernel { hz } => format!(
            "the kernel's timer granularity at HZ {hz} (2 jiffies + the timer wheel's level + 2 ms)"
        ),
    };
    writeln!(out, "tolerance: {tol}")?;
    if agree {
        writeln!(
            out,
            "agree: {same} events on both sides, every gap within the tolerance"
        )?;
    } else {
        writeln!(
            out,
            "differ: {same} events agree, {time} at a different time, {only_sim} only in the simulator, {only_kernel} only on the kernel"
        )?;
    }
    Ok(agree)
}

fn write_stream(s: &Stream, all: bool, out: &mut impl Write) -> io::Result<()> {
    let differences = s.differences();
    writeln!(
        out,
        "{}: {} ({} rows, {} differ)",
        s.host,
        s.kind.title(),
        s.rows.len(),
        differences
    )?;
    if differences == 0 && !all {
        return Ok(());
    }
    writeln!(
        out,
        "  {:>10}  {:>10}  {:>9}    event",
        "simulator", "kernel", "Δgap"
    )?;
    for r in &s.rows {
        if r.mark == Mark::Same && !all {
            continue;
        }
        let time = |t: Option<Instant>| t.map_or_else(|| "-".to_string(), |t| t.to_string());
        let (mark, delta, note) = match r.mark {
            Mark::Same => ('=', String::new(), String::new()),
            Mark::Time {
                delta_ns,
                tolerance,
            } => (
                '~',
                format!("{:+.1}ms", delta_ns as f64 / 1e6),
                format!(
                    "  (gap differs by more than {:.1} ms)",
                    tolerance.as_secs_f64() * 1e3
                ),
            ),
            Mark::OnlySim => ('<', String::new(), "  (only in the simulator)".into()),
            Mark::OnlyKernel => ('>', String::new(), "  (only on the kernel)".into()),
        };
        writeln!(
            out,
            "  {:>10}  {:>10}  {:>9}  {mark} {}{note}",
            time(r.sim),
            time(r.kernel),
            delta,
            r.key
        )?;
    }
    Ok(())
}

/// Runs `tcplab diff`; the exit status as described in the module docs.
pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let runs = match run_both(opts) {
        Ok(r) => r,
        Err(message) => {
            out.flush()?;
            eprintln!("{message}");
            return Ok(ExitCode::from(2));
        }
    };
    writeln!(
        out,
        "{}: the simulator (seed {}) against the kernel, {} s of the kernel's timeline",
        opts.file.display(),
        opts.seed
            .or(runs.scenario.settings.seed.as_ref().map(|s| s.value))
            .unwrap_or(tcplab_sim::run::DEFAULT_SEED),
        runs.kernel.end
    )?;
    let agree = report(&runs, tolerance(opts, &runs.scenario), opts.all, out)?;
    Ok(ExitCode::from(if agree { 0 } else { 1 }))
}
