//! Nothing is left behind: after a run, after a run that fails half-way (a `sysctl -p` of a
//! missing file at 0.5 s) and after ctrl-c, `ip netns list` shows no namespace of this
//! process and the tracefs instance is gone.
//!
//! Needs root and the tools; without them each test prints why and passes, except under CI.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{can_run, my_namespaces};
use tcplab_kernel::{KernelOptions, run_on_kernel};

/// The tests look at the machine's namespaces: one at a time.
static ONE: Mutex<()> = Mutex::new(());

fn instance_gone() -> bool {
    !std::path::Path::new(&format!(
        "/sys/kernel/tracing/instances/tcplab-{}",
        std::process::id()
    ))
    .exists()
}

fn run(src: &str) -> Result<tcplab_sim::RunReport, tcplab_sim::RunError> {
    let sc = tcplab_sim::scenario::parse("cleanup.tcplab", src).unwrap();
    run_on_kernel(&sc, &KernelOptions::default())
}

const SHORT: &str = "host a 10.88.0.1\nhost b 10.88.0.2\n\
    b: nc -l 80 &\na: nc 10.88.0.2 80 &\nat 0.3s a: kill -INT %1\n\
    at 0.5s expect b: state %1 gone\nrun 0.6s\n";

#[test]
fn a_run_leaves_nothing() {
    let _one = ONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !can_run("a_run_leaves_nothing") {
        return;
    }
    let r = run(SHORT).unwrap();
    assert_eq!(r.failed(), 0, "{:?}\n{}", r.assertions, r.timeline.text());
    assert_eq!(my_namespaces(), Vec::<String>::new());
    assert!(instance_gone());
}

#[test]
fn a_run_that_fails_half_way_leaves_nothing() {
    let _one = ONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !can_run("a_run_that_fails_half_way_leaves_nothing") {
        return;
    }
    let src = "host a 10.88.0.1\nhost b 10.88.0.2\nb: nc -l 80 &\n\
        at 0.5s a: sysctl -p no-such-file.conf\nrun 1s\n";
    let e = run(src).unwrap_err();
    assert_eq!(e.span.map(|s| s.line), Some(4), "{e}");
    assert!(e.message.contains("no-such-file.conf"), "{e}");
    assert_eq!(my_namespaces(), Vec::<String>::new());
    assert!(instance_gone());
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_nothing() {
    let _one = ONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !can_run("ctrl_c_stops_the_run_and_leaves_nothing") {
        return;
    }
    let pid = nix::unistd::Pid::this();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    });
    let started = std::time::Instant::now();
    let e = run("host a 10.88.0.1\nhost b 10.88.0.2\nb: nc -l 80 &\nrun 5s\n").unwrap_err();
    t.join().unwrap();
    assert_eq!(e.message, "interrupted");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(my_namespaces(), Vec::<String>::new());
    assert!(instance_gone());
}
