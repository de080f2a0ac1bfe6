//! tcplab-kernel: runs a scenario with every host on the host machine's own Linux kernel, in
//! network namespaces, in real time, and reports it as the simulator does, so that the two
//! timelines can be compared event by event (`tcplab run --backend kernel`, `tcplab diff`).
//!
//! - [`check_available`]: what the machine lacks for a kernel run, if anything;
//! - [`run_on_kernel`]: one run, returning a [`RunReport`] with the simulator's event kinds.
//!
//! How each part of a scenario is realised:
//!
//! - hosts: a namespace each (`tcplab-<pid>-<host>`), a veth to a bridge in one more
//!   namespace (`lab`); `link` properties as netem per direction where the kernel has netem
//!   (`plan`);
//! - sysctls, iptables, ss, netstat, tcpdump: the real tools, run in the host's namespace;
//! - applications (`nc`, the socket program): real sockets made by a thread inside the
//!   host's namespace that mirrors the simulator's processes call for call (`worker`);
//! - the timeline: `packet` events from a tcpdump on each host's interface, `state` events
//!   from the `sock:inet_sock_set_state` tracepoint in a tracefs instance of the run's own
//!   (`trace`), `call`/`app` events from the threads, `command`/`snapshot` events from the
//!   tools; times are relative to t=0, the moment the first step runs (`runner`).
//!
//! Guarantees: a line the kernel cannot realise fails before anything is created, naming
//! the line; everything created (namespaces, devices, qdiscs, rules, capture processes, the
//! tracefs instance) is removed when the run ends, fails, panics or is interrupted by
//! ctrl-c; no packet leaves the run's namespaces; runs on one machine take turns (a lock
//! file), because the tracepoint sees every namespace.
//!
//! What the kernel timeline lacks beside the simulator's: `timer` and `note` events (the
//! kernel exposes no such tracepoint for all timers), and `out` packets dropped by the
//! sender's own OUTPUT chain (they never reach the interface the capture listens on).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tcplab_sim::scenario::Scenario;
use tcplab_sim::{RunError, RunReport};

mod capture;
mod lab;
mod plan;
mod runner;
mod sockopt;
mod trace;
mod worker;

/// How to run a scenario on the kernel.
#[derive(Clone, Debug, Default)]
pub struct KernelOptions {
    /// The script's directory: `sysctl -p FILE` is relative to it.
    pub base_dir: PathBuf,
    /// Write `DIR/HOST.pcap` (every packet of each host, times from t=0) at the end.
    pub pcap_dir: Option<PathBuf>,
    /// End the run at this scenario time if it comes before the `run` line's.
    pub stop_after: Option<Duration>,
    /// Print each step to stderr as it runs.
    pub verbose: bool,
}

/// The file whose lock makes kernel runs take turns.
const LOCK_FILE: &str = "/run/tcplab-kernel.lock";

fn on_path(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(PathBuf::from)
        .chain(
            std::env::var_os("PATH").map_or_else(Vec::new, |p| std::env::split_paths(&p).collect()),
        )
        .any(|d| d.join(tool).is_file())
}

/// Why this machine cannot run scenarios on its kernel, if it cannot: a sentence naming
/// what is missing.
pub fn check_available() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(
            "running on the kernel needs root (network namespaces, iptables, tracefs)".into(),
        );
    }
    let missing: Vec<&str> = ["ip", "tc", "iptables", "tcpdump", "ss", "netstat", "sysctl"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "these tools are not installed: {}",
            missing.join(", ")
        ));
    }
    trace::ensure_tracefs().map_err(|what| format!("the kernel run needs {what}"))?;
    Ok(())
}

/// The kernel's HZ, measured from `jiffies` over 200 ms (CONFIG_HZ is not always readable).
fn kernel_hz() -> u32 {
    static HZ: OnceLock<u32> = OnceLock::new();
    *HZ.get_or_init(|| {
        let jiffies = || -> Option<u64> {
            let text = std::fs::read_to_string("/proc/timer_list").ok()?;
            let line = text.lines().find(|l| l.starts_with("jiffies: "))?;
            line["jiffies: ".len()..].trim().parse().ok()
        };
        let start = std::time::Instant::now();
        let (Some(a), _) = (jiffies(), std::thread::sleep(Duration::from_millis(200))) else {
            return 250;
        };
        let Some(b) = jiffies() else { return 250 };
        let hz = (b - a) as f64 / start.elapsed().as_secs_f64();
        [100u32, 250, 300, 1000]
            .into_iter()
            .min_by(|x, y| {
                (f64::from(*x) - hz)
                    .abs()
                    .total_cmp(&(f64::from(*y) - hz).abs())
            })
            .unwrap_or(250)
    })
}

/// Whether the kernel has netem: its config says so, or the module is there.
fn kernel_has_netem() -> bool {
    if let Ok(out) = Command::new("sh")
        .args([
            "-c",
            "zcat /proc/config.gz 2>/dev/null | grep '^CONFIG_NET_SCH_NETEM='",
        ])
        .output()
        && !out.stdout.is_empty()
    {
        return true;
    }
    if Path::new("/proc/config.gz").exists() {
        return false;
    }
    Path::new("/sys/module/sch_netem").exists()
}

/// The `KernelCaps` of this machine.
fn caps() -> plan::KernelCaps {
    plan::KernelCaps {
        hz: kernel_hz(),
        netem: kernel_has_netem(),
    }
}

/// Holds the machine-wide turn of a run.
#[derive(Debug)]
struct Turn {
    _file: nix::fcntl::Flock<File>,
    _guard: std::sync::MutexGuard<'static, ()>,
}

fn take_turn() -> Result<Turn, String> {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let guard = IN_PROCESS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_FILE)
        .map_err(|e| format!("cannot open {LOCK_FILE}: {e}"))?;
    let file = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("cannot lock {LOCK_FILE}: {}", e.desc()))?;
    Ok(Turn {
        _file: file,
        _guard: guard,
    })
}

/// Catches ctrl-c while registered: sets the flag the runner checks.
#[derive(Debug)]
struct SigintGuard(signal_hook::SigId);

impl Drop for SigintGuard {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.0);
    }
}

/// Runs `sc` with every host on the kernel, whatever its `kernel` mark. See the crate docs.
pub fn run_on_kernel(sc: &Scenario, opts: &KernelOptions) -> Result<RunReport, RunError> {
    let mut all = sc.clone();
    for h in &mut all.hosts {
        h.kernel = true;
    }
    run_real(&all, opts)
}

/// Runs `sc` in real time with its hosts as marked: a `kernel` host on the kernel in its
/// namespace, any other host a tcplab stack on a TAP port of the same bridge. See the crate
/// docs.
pub fn run_real(sc: &Scenario, opts: &KernelOptions) -> Result<RunReport, RunError> {
    let whole = |message: String| RunError {
        file: sc.file.clone(),
        span: None,
        message,
    };
    let caps = caps();
    let warnings = plan::check(sc, caps)?;
    check_available().map_err(|why| whole(format!("cannot run on the kernel: {why}")))?;
    // Ctrl-c is caught from here on: a run waiting for another one's turn stops once it has
    // the turn, before it sets anything up.
    let flag = Arc::new(AtomicBool::new(false));
    let _sigint = SigintGuard(
        signal_hook::flag::register(signal_hook::consts::SIGINT, flag.clone())
            .map_err(|e| whole(format!("cannot catch SIGINT: {e}")))?,
    );
    let _turn = take_turn().map_err(whole)?;
    if flag.load(Ordering::SeqCst) {
        return Err(whole("interrupted".into()));
    }
    let mut run = runner::Run::setup(sc, opts, caps, warnings, &flag)?;
    run.run_steps()?;
    if flag.load(Ordering::SeqCst) {
        return Err(whole("interrupted".into()));
    }
    run.finish()
}
