//! The scale workload at a tiny size: every connection established, every keepalive probe
//! answered, every TIME_WAIT record present. Correctness only; no timing is checked.

use std::time::Duration;

use tcplab_bench::scale::{self, EstablishedOptions};

const N: usize = 2000;

#[test]
fn every_connection_keeps_alive_and_every_probe_is_answered() {
    let r = scale::established(
        EstablishedOptions {
            conns: N,
            keepalive_time: 10,
            keepalive_intvl: 10,
            horizon: Duration::from_secs(60),
        },
        None,
    )
    .unwrap();
    assert_eq!(r.conns, N);
    // One probe per connection in the first round, each answered (checked per socket).
    assert_eq!(r.round_probes, N as u64);
    // Every ~10 s over the minute: five more rounds at least.
    assert!(r.run_probes >= 5 * N as u64, "{} probes", r.run_probes);
    assert!(r.run_virtual >= Duration::from_secs(60));
    assert_eq!(r.client_heap_per_conn, None);
}

#[test]
fn every_time_wait_record_is_alive_at_the_end() {
    let r = scale::time_wait(N, None).unwrap();
    assert_eq!(r.entries, N);
    assert!(r.virtual_time < Duration::from_secs(60));
}

#[test]
fn the_records_stay_small() {
    let z = scale::sizes();
    // Linux: a full socket is 2,368 bytes, a time-wait entry 256, a request socket 320.
    assert!(z.sock <= 2368, "{z:?}");
    assert!(z.time_wait <= 256 && z.request <= 320, "{z:?}");
}
