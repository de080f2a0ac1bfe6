//! Every workload at a tiny size on both stacks: all bytes arrive and match, every cycle and
//! every exchange completes. Correctness only; no timing is checked.

use tcplab_bench::{TimeWait, smoltcp_net, tcplab_net};

const MIB: u64 = 1 << 20;

#[test]
fn bulk_moves_every_byte_on_both_stacks() {
    for mtu in [1500, 65535] {
        let t = tcplab_net::bulk(MIB, mtu).unwrap();
        assert_eq!(t.bytes, MIB, "tcplab, MTU {mtu}");
        let s = smoltcp_net::bulk(MIB, mtu).unwrap();
        assert_eq!(s.bytes, MIB, "smoltcp, MTU {mtu}");
    }
}

#[test]
fn bulk_of_an_odd_size_ends_exactly() {
    let n = 3 * MIB + 12_345;
    assert_eq!(tcplab_net::bulk(n, 1500).unwrap().bytes, n);
    assert_eq!(smoltcp_net::bulk(n, 1500).unwrap().bytes, n);
}

#[test]
fn churn_completes_every_cycle_and_keeps_time_wait() {
    let t = tcplab_net::churn(200).unwrap();
    assert_eq!((t.cycles, t.stopped.as_deref()), (200, None));
    // Linux's 60 s TIME_WAIT outlives a 200-cycle run: every client record is still there.
    assert_eq!(t.time_wait_alive, 200);
    let s = smoltcp_net::churn(200, TimeWait::Honour, None).unwrap();
    assert_eq!((s.cycles, s.stopped.as_deref()), (200, None));
    assert_eq!(s.time_wait_alive, 200);
    let d = smoltcp_net::churn(200, TimeWait::Discard, None).unwrap();
    assert_eq!((d.cycles, d.time_wait_alive), (200, 0));
}

#[test]
fn many_echoes_every_message() {
    let t = tcplab_net::many(200, 2).unwrap();
    assert_eq!((t.conns, t.messages), (200, 400));
    let s = smoltcp_net::many(200, 2).unwrap();
    assert_eq!((s.conns, s.messages), (200, 400));
}
