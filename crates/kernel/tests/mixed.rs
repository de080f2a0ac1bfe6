//! Scenarios that mix tcplab and kernel hosts: the tcplab host on a TAP port of the lab's
//! bridge, the kernel host in its namespace, both in real time (`run_real`).
//!
//! - the seed experiment with a tcplab client and a kernel server whose OUTPUT drops
//!   everything: every assertion of examples/fin_wait1_orphan.tcplab passes, and tcplab's
//!   FIN retransmissions match the kernel's own (reference trace
//!   fin_wait1_orphan__orphan_retries_3) within the kernel's granularity;
//! - the other way round (a kernel client, a tcplab server) on fin_wait2_orphan;
//! - 3 MB each way at once between the two, every byte read, no reset, each side's `ss`
//!   showing the connection.
//!
//! Needs root and the tools `tcplab_kernel::check_available` names; without them each test
//! prints why and passes, except under CI (`CI` set), where it fails.

mod common;

use std::time::Duration;

use common::{
    assert_all_pass, assert_fin_times_match, can_run, reference_fin_times, root, twice_if_late,
};
use tcplab_kernel::{KernelOptions, run_real};
use tcplab_sim::RunReport;
use tcplab_sim::scenario::Scenario;

/// examples/NAME.tcplab with host `kernel_host` marked `kernel`.
fn example_with_kernel_host(name: &str, kernel_host: &str) -> Scenario {
    let path = root().join("examples").join(format!("{name}.tcplab"));
    let mut sc = tcplab_sim::scenario::parse_file(&path).unwrap();
    let h = sc.hosts.iter_mut().find(|h| h.name == kernel_host).unwrap();
    h.kernel = true;
    sc
}

fn run(sc: &Scenario, stop_after: Option<Duration>) -> RunReport {
    let opts = KernelOptions {
        base_dir: root().join("examples"),
        pcap_dir: None,
        stop_after,
        verbose: false,
    };
    twice_if_late(&sc.file, || {
        run_real(sc, &opts).unwrap_or_else(|e| panic!("{}: {e}", sc.file))
    })
}

/// Whether the timeline has an event of `kind` (a `kind_name`) on `host`.
fn has(r: &RunReport, host: &str, kind: &str) -> bool {
    r.timeline
        .events()
        .iter()
        .any(|e| e.kind_name() == kind && e.host() == Some(host))
}

#[test]
fn seed_experiment_tcplab_client_kernel_server() {
    let test = "seed_experiment_tcplab_client_kernel_server";
    if !can_run(test) {
        return;
    }
    let Some(want) = reference_fin_times(test) else {
        return;
    };
    let sc = example_with_kernel_host("fin_wait1_orphan", "server");
    let r = run(&sc, Some(Duration::from_millis(8600)));
    assert_all_pass("fin_wait1_orphan, kernel server", &r);
    assert_fin_times_match(&r, &want);
    // Each side is what it says: tcplab's timers are on the timeline (the kernel shows
    // none), and the server's state changes come from the kernel's tracepoint.
    assert!(has(&r, "client", "timer"), "{}", r.timeline.text());
    assert!(!has(&r, "server", "timer"), "{}", r.timeline.text());
    assert!(has(&r, "server", "state"), "{}", r.timeline.text());
}

#[test]
fn fin_wait2_orphan_kernel_client_tcplab_server() {
    if !can_run("fin_wait2_orphan_kernel_client_tcplab_server") {
        return;
    }
    let sc = example_with_kernel_host("fin_wait2_orphan", "client");
    let r = run(&sc, None);
    assert_all_pass("fin_wait2_orphan, kernel client", &r);
    assert!(has(&r, "server", "timer") || has(&r, "server", "state"));
}

/// The bytes `host`'s `read` calls returned.
fn bytes_read(r: &RunReport, host: &str) -> i64 {
    r.timeline.calls(host, "read").filter_map(|(_, n)| n).sum()
}

#[test]
fn three_megabytes_each_way_between_tcplab_and_the_kernel() {
    if !can_run("three_megabytes_each_way_between_tcplab_and_the_kernel") {
        return;
    }
    let src = "host client 10.89.1.1 kernel\n\
        host server 10.89.1.2\n\
        server: listen 5000 as l\n\
        server: accept l as c\n\
        server: read c\n\
        client: socket s\n\
        client: connect 10.89.1.2:5000 as s\n\
        client: read s\n\
        at 0.1s client: write s 3000000\n\
        at 0.1s server: write c 3000000\n\
        at 2s expect server: ss -tan | grep ESTAB\n\
        at 2s expect client: ss -tan | grep ESTAB\n\
        at 2.5s client: close s\n\
        at 2.5s server: close c\n\
        expect no rst\n\
        run 3s\n";
    let sc = tcplab_sim::scenario::parse("both_ways.tcplab", src).unwrap();
    let r = run(&sc, None);
    assert_all_pass("both_ways", &r);
    assert_eq!(bytes_read(&r, "server"), 3_000_000, "{}", r.timeline.text());
    assert_eq!(bytes_read(&r, "client"), 3_000_000, "{}", r.timeline.text());
}
