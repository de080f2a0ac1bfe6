//! `tcplab run FILE`: runs a scenario script in virtual time and checks its assertions.
//!
//! With `--backend kernel` the scenario runs on the host's Linux instead: each host in its
//! own network namespace, in real time (`tcplab-kernel`; root needed). A script with hosts
//! marked `kernel` runs that way too, its other hosts being tcplab stacks on TAP ports of
//! the same bridge, in real time.
//!
//! Output: the timeline (human lines, or one JSON object per line with `--json`), then one
//! line per failed assertion, `FILE:LINE:COL: expected …, but …`, then the summary `N
//! assertions passed, M failed`. With `--json` the failures and the summary go to stderr, so
//! that stdout holds nothing but JSON lines. Commands that failed at run time are reported on
//! stderr as `FILE:LINE:COL: warning: …`.
//!
//! Exit status: 0 when every assertion passed, 1 when one failed (or `--check-determinism`
//! saw two different traces), 2 when the script cannot run (printed as `FILE:LINE:COL:
//! message`).
//!
//! A run that takes more than a second of wall time shows the virtual time it has reached on
//! stderr, when stderr is a terminal.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tcplab_sim::run::{RunOptions, RunReport, run_scenario_with_progress};
use tcplab_sim::scenario::parse_file;
use tcplab_stack::Instant;

/// What `tcplab run` does.
#[derive(Clone, Debug)]
pub struct Options {
    pub file: PathBuf,
    pub json: bool,
    pub pcap: Option<PathBuf>,
    pub seed: Option<u64>,
    pub check_determinism: bool,
    pub quiet: bool,
    /// Run every host on the kernel.
    pub kernel: bool,
}

/// Wall time before progress is shown, and between two updates.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Shows the virtual time reached on a terminal's stderr once a run gets slow.
struct Progress {
    enabled: bool,
    started: std::time::Instant,
    last: Option<std::time::Instant>,
    label: String,
}

impl Progress {
    fn new(label: String) -> Progress {
        Progress {
            enabled: io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            last: None,
            label,
        }
    }

    fn update(&mut self, now: Instant, end: Instant) {
        if !self.enabled || self.started.elapsed() < PROGRESS_AFTER {
            return;
        }
        if self.last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{}: virtual time {now} s of {end} s", self.label);
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.last.take().is_some() {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

fn run_once(
    file: &Path,
    seed: Option<u64>,
    pcap: Option<PathBuf>,
    kernel: bool,
) -> Result<RunReport, String> {
    let sc = parse_file(file).map_err(|e| e.to_string())?;
    let base_dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if kernel || sc.hosts.iter().any(|h| h.kernel) {
        tcplab_kernel::check_available()
            .map_err(|why| format!("{}: cannot run on the kernel: {why}", file.display()))?;

        let opts = tcplab_kernel::KernelOptions {
            base_dir,
            pcap_dir: pcap,
            stop_after: None,
            verbose: false,
        };
        let res = if kernel {
            tcplab_kernel::run_on_kernel(&sc, &opts)
        } else {
            tcplab_kernel::run_real(&sc, &opts)
        };
        return res.map_err(|e| e.to_string());
    }
    let opts = RunOptions {
        seed,
        base_dir,
        pcap_dir: pcap,
    };
    let mut progress = Progress::new(file.display().to_string());
    let res = run_scenario_with_progress(&sc, opts, &mut |now, end| progress.update(now, end));
    progress.clear();
    res.map_err(|e| e.to_string())
}

/// Runs the script; the exit status as described in the module docs.
pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let file_label = opts.file.display().to_string();
    if opts.kernel && opts.check_determinism {
        eprintln!(
            "{file_label}: --check-determinism needs the simulator: a run on the kernel is real time and never repeats exactly"
        );
        return Ok(ExitCode::from(2));
    }
    let report = match run_once(&opts.file, opts.seed, opts.pcap.clone(), opts.kernel) {
        Ok(r) => r,
        Err(message) => {
            out.flush()?;
            eprintln!("{message}");
            return Ok(ExitCode::from(2));
        }
    };
    if !opts.quiet {
        if opts.json {
            out.write_all(report.timeline.json_lines().as_bytes())?;
        } else {
            out.write_all(report.timeline.text().as_bytes())?;
        }
    }
    out.flush()?;
    for w in &report.warnings {
        eprintln!(
            "{file_label}:{}:{}: warning: {}",
            w.span.line, w.span.col, w.message
        );
    }
    let mut status = if report.failed() > 0 { 1 } else { 0 };
    let mut lines = Vec::new();
    for a in report.assertions.iter().filter(|a| !a.passed) {
        lines.push(format!(
            "{file_label}:{}:{}: {}",
            a.span.line,
            a.span.col,
            a.sentence()
        ));
    }
    if opts.check_determinism {
        match run_once(&opts.file, opts.seed, None, false) {
            Ok(second) if second.hash == report.hash => lines.push(format!(
                "deterministic: two runs gave the same trace (hash {:016x})",
                report.hash
            )),
            Ok(second) => {
                status = 1;
                let (a, b) = (report.timeline.events(), second.timeline.events());
                let index = a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                let show = |e: Option<&tcplab_sim::Event>| e.map_or("the end".into(), |e| e.json());
                lines.push(format!(
                    "{file_label}: the run is not deterministic: expected the same trace twice, but got hash {:016x} then {:016x} (first difference at event {index}: {} vs {})",
                    report.hash,
                    second.hash,
                    show(a.get(index)),
                    show(b.get(index)),
                ));
            }
            Err(message) => {
                eprintln!("{message}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    lines.push(format!(
        "{} assertions passed, {} failed",
        report.passed(),
        report.failed()
    ));
    if opts.json {
        for l in &lines {
            eprintln!("{l}");
        }
    } else {
        for l in &lines {
            writeln!(out, "{l}")?;
        }
    }
    Ok(ExitCode::from(status))
}
