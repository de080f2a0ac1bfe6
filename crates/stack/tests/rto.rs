//! RTT estimation and the retransmission timeout through whole connections: the RTO a
//! handshake leaves behind is Linux's (linux-tcp-timers.md §6: srtt ≈ 50 µs gives 204 ms at
//! HZ=250 and 201 ms at HZ=1000), and retransmissions back off by doubling.

use std::time::Duration;

use tcplab_stack::{Hz, StackConfig, TcpState};
use tcplab_testkit::link::{Direction, Verdict};
use tcplab_testkit::pair::Pair;

fn pair_at(hz: u32, one_way: Duration) -> Pair {
    let cfg = |addr: &str| StackConfig {
        addrs: vec![addr.parse().unwrap()],
        hz: Hz(hz),
        ..StackConfig::default()
    };
    Pair::new()
        .config_a(cfg("10.0.0.1"))
        .config_b(cfg("10.0.0.2"))
        .delay(one_way)
}

#[test]
fn handshake_rto_is_linux_at_hz_250_and_1000() {
    // One RTT sample m = 50 µs: RTO = m + max(2m, rto_min) = 200.05 ms, rounded up to jiffies.
    for (hz, rto_us) in [(250, 204_000), (1000, 201_000)] {
        let mut p = pair_at(hz, Duration::from_micros(25));
        let (c, _, s) = p.connect(80);
        let now = p.now();
        let client = p.a().tcp_info(now, c).unwrap();
        assert_eq!(client.tcpi_rto, rto_us, "client RTO at HZ={hz}");
        assert_eq!(client.tcpi_rtt, 50, "client SRTT at HZ={hz}");
        // The server's sample is its SYN-ACK's round trip, the same 50 µs.
        let server = p.b().tcp_info(now, s).unwrap();
        assert_eq!(server.tcpi_rto, rto_us, "server RTO at HZ={hz}");
    }
}

#[test]
fn long_rtt_sets_rto_to_three_times_the_first_sample() {
    // First sample m = 300 ms: srtt = m, rttvar = max(2m, 200 ms) = 600 ms, RTO = 900 ms.
    let mut p = pair_at(250, Duration::from_millis(150));
    let (c, _, _) = p.connect(80);
    let info = p.a().tcp_info(p.now(), c).unwrap();
    assert_eq!(info.tcpi_rto, 900_000);
}

#[test]
fn rto_retransmissions_back_off_by_doubling() {
    let mut p = pair_at(250, Duration::from_micros(25));
    let (c, _, _) = p.connect(80);
    // From now on nothing reaches the client: its data is never acknowledged.
    p.add_hook(|pkt| {
        if pkt.dir == Direction::BtoA {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    let sent_at = p.now();
    p.call_a(|s, now| s.send(now, c, b"hello")).unwrap();
    p.run_for(Duration::from_secs(30));
    let data: Vec<Duration> = p
        .captured()
        .iter()
        .filter(|x| x.dir == Direction::AtoB && x.at >= sent_at && x.bytes.len() > 52)
        .map(|x| x.at - sent_at)
        .collect();
    assert!(
        data.len() >= 6,
        "only {} transmissions: {data:?}",
        data.len()
    );
    // Every interval between retransmissions is twice the one before, to the jiffy.
    let gaps: Vec<Duration> = data.windows(2).map(|w| w[1] - w[0]).collect();
    for w in gaps.windows(2).skip(1) {
        assert_eq!(w[1], w[0] * 2, "gaps {gaps:?}");
    }
    assert_eq!(p.a().state(c), Some(TcpState::Established));
    let info = p.a().tcp_info(p.now(), c).unwrap();
    assert!(
        info.tcpi_backoff >= 5 && info.tcpi_retransmits >= 5,
        "{info:?}"
    );
}

#[test]
fn retries2_gives_up_with_etimedout_and_no_rst() {
    let mut p = pair_at(250, Duration::from_micros(25)).sysctls(|s| s.tcp_retries2 = 5);
    let (c, _, _) = p.connect(80);
    p.add_hook(|pkt| {
        if pkt.dir == Direction::BtoA {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    let start = p.now();
    p.call_a(|s, now| s.send(now, c, b"hello")).unwrap();
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.a().state(c), Some(TcpState::Close));
    let mut buf = [0u8; 8];
    assert_eq!(
        p.call_a(|s, now| s.recv(now, c, &mut buf)),
        Err(tcplab_stack::Errno::ETIMEDOUT)
    );
    // Then end of stream for reads and EPIPE for writes, as after tcp_write_err().
    assert_eq!(p.call_a(|s, now| s.recv(now, c, &mut buf)), Ok(0));
    assert_eq!(
        p.call_a(|s, now| s.send(now, c, b"x")),
        Err(tcplab_stack::Errno::EPIPE)
    );
    let rsts = p
        .captured()
        .iter()
        .filter(|x| x.dir == Direction::AtoB && x.at >= start)
        .filter(|x| x.bytes.get(33).is_some_and(|f| f & 0x04 != 0))
        .count();
    assert_eq!(rsts, 0, "Linux sends no RST when retries2 runs out");
}

/// Rewrites a datagram's TCP window to zero (checksums recomputed).
fn zero_window(bytes: &[u8]) -> Option<Vec<u8>> {
    use tcplab_wire::{IpHeader, IpRepr, TcpRepr, emit_ip_tcp};
    let (ip, l4) = IpRepr::parse(bytes).ok()?;
    let mut tcp = TcpRepr::parse(l4).ok()?;
    tcp.window = 0;
    let hdr = IpHeader {
        src: ip.src(),
        dst: ip.dst(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: true,
        flow_label: 0,
    };
    let mut out = vec![0u8; bytes.len() + 64];
    let n = emit_ip_tcp(&mut out, &hdr, &tcp).ok()?;
    out.truncate(n);
    Some(out)
}

/// linux-tcp-timers.md §7.1 step 3: when the peer closes its window under data in flight, the
/// RTO retransmissions act as window probes and `tcp_retries2` does not end the connection;
/// only 2·rto_max (240 s) without hearing anything does (tcp_rtx_probe0_timed_out()).
#[test]
fn zero_window_under_data_in_flight_outlives_retries2_until_240_s_of_silence() {
    let mut p = pair_at(250, Duration::from_micros(25)).sysctls(|s| s.tcp_retries2 = 3);
    let (c, _, _) = p.connect(80);
    // The server's first ACK of new data shuts the window with the rest still in flight;
    // after it the server is never heard again.
    let mut first = true;
    p.add_hook(move |pkt| {
        if pkt.dir != Direction::BtoA {
            return Verdict::Pass;
        }
        if !first {
            return Verdict::Drop;
        }
        first = false;
        zero_window(pkt.bytes).map_or(Verdict::Drop, Verdict::Replace)
    });
    p.call_a(|s, now| s.send(now, c, &[7u8; 3000])).unwrap();
    p.run_for(Duration::from_secs(30));
    let info = p.a().tcp_info(p.now(), c).unwrap();
    assert_eq!(info.tcpi_snd_wnd, 0, "{info:?}");
    assert!(info.tcpi_unacked > 0 && info.tcpi_backoff >= 5, "{info:?}");
    // retries2 = 3 would have ended an ordinary connection after about 3 s.
    assert_eq!(p.a().state(c), Some(TcpState::Established));
    p.run_for(Duration::from_secs(400));
    assert_eq!(p.a().state(c), Some(TcpState::Close));
    let mut buf = [0u8; 4];
    assert_eq!(
        p.call_a(|s, now| s.recv(now, c, &mut buf)),
        Err(tcplab_stack::Errno::ETIMEDOUT)
    );
}
