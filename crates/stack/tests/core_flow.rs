//! End-to-end flows through two stacks over a `Pair`: handshake, transfer, close.

use std::time::Duration;

use tcplab_stack::{Shutdown, TcpState};
use tcplab_testkit::pair::{Pair, Side};

#[test]
fn handshake_transfer_close() {
    let mut p = Pair::new().delay(Duration::from_millis(1));
    let (c, _l, s) = p.connect(80);
    assert_eq!(p.a().state(c), Some(TcpState::Established));
    let data = vec![7u8; 100_000];
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        if sent < data.len() {
            if let Ok(n) = p.call_a(|st, now| st.send(now, c, &data[sent..])) {
                sent += n;
            }
        }
        p.run_for(Duration::from_millis(1));
        while let Ok(n) = p.call_b(|st, now| st.recv(now, s, &mut buf)) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if got.len() == data.len() {
            break;
        }
    }
    println!("{}", p.tcpdump_lines().iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
    assert_eq!(got.len(), data.len());
    p.call_a(|st, now| st.close(now, c)).unwrap();
    p.run_for(Duration::from_millis(50));
    assert_eq!(p.call_b(|st, now| st.recv(now, s, &mut buf)), Ok(0));
    p.call_b(|st, now| st.shutdown(now, s, Shutdown::Write)).unwrap();
    p.run_for(Duration::from_millis(50));
    println!("{}", p.tcpdump_lines().iter().rev().take(8).cloned().collect::<Vec<_>>().join("\n"));
    let _ = Side::A;
}

#[test]
fn lossy_bulk_small() {
    use tcplab_testkit::bulk::Bulk;
    for seed in 0..5u64 {
        let mut p = Pair::with_seed(seed)
            .delay(Duration::from_millis(5))
            .loss(0.01)
            .duplicate(0.01)
            .reorder(0.01, Duration::from_millis(3));
        let (c, _l, s) = p.connect(80);
        let mut bulk = Bulk::new(seed, c, s, 2 << 20, 2 << 20);
        let r = bulk.run(&mut p, Duration::from_secs(600));
        if let Err(e) = &r {
            let lines = p.tcpdump_lines();
            let n = lines.len();
            println!("{}", lines[n.saturating_sub(40)..].join("\n"));
            println!("seed {seed}: {e} at {}", p.now());
        }
        r.unwrap();
        println!("seed {seed}: done at {}", p.now());
    }
}

#[test]
fn lossy_bulk_then_close() {
    use tcplab_testkit::bulk::Bulk;
    for seed in 0..3u64 {
        let mut p = Pair::with_seed(seed)
            .delay(Duration::from_millis(1))
            .loss(0.01)
            .duplicate(0.01)
            .reorder(0.01, Duration::from_millis(3));
        let (c, _l, s) = p.connect(80);
        let mut bulk = Bulk::new(seed, c, s, 1 << 20, 1 << 20);
        bulk.run(&mut p, Duration::from_secs(600)).unwrap();
        p.call_a(|st, now| st.close(now, c)).unwrap();
        p.call_b(|st, now| st.close(now, s)).unwrap();
        p.run_until_idle();
        let a = p.a().connections();
        let b = p.b().connections();
        if a.iter().chain(b.iter()).any(|x| !matches!(x.2, TcpState::TimeWait | TcpState::Close)) {
            let lines = p.tcpdump_lines();
            let n = lines.len();
            println!("{}", lines[n.saturating_sub(30)..].join("\n"));
            panic!("seed {seed}: a {a:?} b {b:?}");
        }
    }
}

#[test]
fn lossy_bulk_stats() {
    use tcplab_testkit::bulk::Bulk;
    let seed = 1;
    let mut p = Pair::with_seed(seed)
        .delay(Duration::from_millis(1))
        .loss(0.01)
        .duplicate(0.01)
        .reorder(0.01, Duration::from_millis(3)).capture_limit(0);
    let (c, _l, s) = p.connect(80);
    let mut bulk = Bulk::new(seed, c, s, 8 << 20, 0);
    bulk.run(&mut p, Duration::from_secs(600)).unwrap();
    let now = p.now();
    let i = p.a().tcp_info(now, c).unwrap();
    println!("t={now} total_rto={} total_retrans={} cwnd={} ssthresh={} rto={} rtt={}", i.tcpi_total_rto, i.tcpi_total_retrans, i.tcpi_snd_cwnd, i.tcpi_snd_ssthresh, i.tcpi_rto, i.tcpi_rtt);
}
