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
