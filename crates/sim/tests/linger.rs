//! The socket program's `close` under SO_LINGER {1, t}: as a running process's close(), it
//! sleeps while the FIN is unacknowledged, for at most t seconds (Linux:
//! sk_stream_wait_close()), and the next command on the socket waits for it; `kill` does
//! not wait (a process exiting closes with no linger time).

use tcplab_sim::RunReport;
use tcplab_sim::run::{RunOptions, run_scenario};
use tcplab_stack::Instant;

fn run(src: &str) -> RunReport {
    let sc = tcplab_sim::scenario::parse("linger.tcplab", src).unwrap();
    run_scenario(&sc, RunOptions::default()).unwrap()
}

/// The times of `host`'s `close` calls.
fn closes(r: &RunReport, host: &str) -> Vec<Instant> {
    r.timeline.calls(host, "close").map(|(t, _)| t).collect()
}

const SETUP: &str = "host client 10.0.0.1\nhost server 10.0.0.2\n\
    server: listen 1234 as l\nserver: accept l as c\nserver: read c\n\
    client: connect 10.0.0.2:1234 as s\nclient: setsockopt s SO_LINGER on 1\n";

#[test]
fn close_returns_when_the_fin_is_acknowledged() {
    let r = run(&format!("{SETUP}at 1s client: close s\nrun 3s\n"));
    let c = closes(&r, "client");
    assert_eq!(c.len(), 1, "{}", r.timeline.text());
    // The FIN, then the peer's ACK of it, which Linux sends from the delayed-ACK timer at
    // its minimum (4 ms at HZ=250; examples/fin_wait2_orphan.tcplab, from a kernel trace).
    assert!(
        c[0] > Instant::from_millis(1004) && c[0] < Instant::from_millis(1005),
        "close returned at {}",
        c[0]
    );
}

#[test]
fn close_sleeps_the_linger_time_when_the_fin_is_never_acknowledged() {
    let r = run(&format!(
        "{SETUP}at 0.5s server: iptables -A INPUT -j DROP\nat 1s client: close s\n\
         at 1.5s expect client: state s FIN_WAIT1\nrun 3s\n"
    ));
    let c = closes(&r, "client");
    assert_eq!(c.len(), 1, "{}", r.timeline.text());
    // 1 s = 250 jiffies after the call, run where the timer wheel runs a timer of that
    // length (level 1: rounded up to 8 jiffies, 32 ms).
    assert!(
        c[0] >= Instant::from_millis(2000) && c[0] <= Instant::from_millis(2032),
        "close returned at {}",
        c[0]
    );
    assert!(r.assertions.iter().all(|a| a.passed), "{:?}", r.assertions);
}

#[test]
fn a_killed_process_does_not_wait() {
    let src = "host client 10.0.0.1\nhost server 10.0.0.2\n\
        server: nc -l 1234 &\nclient: nc 10.0.0.2 1234 &\n\
        at 0.5s server: iptables -A INPUT -j DROP\nat 1s client: kill %1\nrun 2s\n";
    let r = run(src);
    let c = closes(&r, "client");
    assert_eq!(c, vec![Instant::from_millis(1000)], "{}", r.timeline.text());
}
