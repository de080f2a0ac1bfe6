//! RFC 3168 ECN negotiation as Linux does it: `tcp_ecn = 1` asks with ECE|CWR in the SYN,
//! `tcp_ecn = 2` (the default) only accepts; an accepted request is answered with ECE in the
//! SYN-ACK, and new data is then sent ECT(0). Without negotiation nothing is marked.

use std::time::Duration;

use tcplab_stack::{StackConfig, Sysctls};
use tcplab_testkit::link::Direction;
use tcplab_testkit::pair::Pair;
use tcplab_wire::{IpRepr, TcpFlags, TcpRepr};

fn pair(client_ecn: u8) -> Pair {
    let cfg = |addr: &str, ecn: u8| StackConfig {
        addrs: vec![addr.parse().unwrap()],
        sysctls: Sysctls {
            tcp_ecn: ecn,
            ..Sysctls::default()
        },
        ..StackConfig::default()
    };
    Pair::new()
        .config_a(cfg("10.0.0.1", client_ecn))
        .config_b(cfg("10.0.0.2", 2))
        .delay(Duration::from_micros(25))
}

/// (direction, TCP flags, IP ECN field, payload length) of every datagram captured.
fn wire(p: &Pair) -> Vec<(Direction, TcpFlags, u8, usize)> {
    p.captured()
        .iter()
        .filter_map(|c| {
            let (ip, l4) = IpRepr::parse(&c.bytes).ok()?;
            let tcp = TcpRepr::parse(l4).ok()?;
            Some((c.dir, tcp.flags, ip.tos() & 3, tcp.payload.len()))
        })
        .collect()
}

#[test]
fn negotiated_ecn_marks_new_data_ect0() {
    let mut p = pair(1);
    let (c, _, _) = p.connect(80);
    p.call_a(|s, now| s.send(now, c, &[1u8; 3000])).unwrap();
    p.run_for(Duration::from_millis(10));
    let w = wire(&p);
    let syn = TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR;
    assert_eq!(w[0].1, syn, "the SYN asks for ECN");
    assert_eq!(
        w[1].1,
        TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE,
        "the SYN-ACK accepts"
    );
    let data: Vec<_> = w
        .iter()
        .filter(|x| x.0 == Direction::AtoB && x.3 > 0)
        .collect();
    assert!(!data.is_empty());
    assert!(data.iter().all(|x| x.2 == 2), "data is ECT(0): {data:?}");
    // Pure ACKs and the handshake are not ECN-capable transport.
    assert!(w.iter().filter(|x| x.3 == 0).all(|x| x.2 == 0), "{w:?}");
}

#[test]
fn without_a_request_nothing_is_marked() {
    let mut p = pair(2);
    let (c, _, _) = p.connect(80);
    p.call_a(|s, now| s.send(now, c, &[1u8; 3000])).unwrap();
    p.run_for(Duration::from_millis(10));
    let w = wire(&p);
    assert_eq!(w[0].1, TcpFlags::SYN);
    assert_eq!(w[1].1, TcpFlags::SYN | TcpFlags::ACK);
    assert!(w.iter().all(|x| x.2 == 0), "{w:?}");
}
