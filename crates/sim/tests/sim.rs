//! The simulator: hosts, links with faults, the event loop's ordering, processes, REJECT,
//! JSON lines, pcap capture and the snapshot tools.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcplab_sim::timeline::{Dir, EventKind};
use tcplab_sim::{Action, Direction, HostConfig, LinkParams, Sim, SimError, Tool};
use tcplab_stack::{Errno, Instant, TcpState};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

fn two_hosts(seed: u64) -> Sim {
    let mut sim = Sim::new(seed);
    sim.add_host("client", A, HostConfig::default()).unwrap();
    sim.add_host("server", B, HostConfig::default()).unwrap();
    sim
}

#[test]
fn host_errors_are_sentences() {
    let mut sim = two_hosts(1);
    let e = sim
        .add_host("client", "10.0.0.9".parse().unwrap(), HostConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "a host named \"client\" exists already: expected a new name"
    );
    let e = sim.add_host("c2", A, HostConfig::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "address 10.0.0.1 belongs to host \"client\" already: expected an unused address"
    );
    let e = sim.spawn("nobody", "nc").unwrap_err();
    assert!(matches!(e, SimError::UnknownHost(_)), "{e}");
    let bad = LinkParams {
        loss: -0.1,
        ..LinkParams::default()
    };
    let e = sim
        .set_link("client", "server", bad, Direction::Both)
        .unwrap_err();
    assert!(e.to_string().contains("probability between 0 and 1"), "{e}");
    let e = sim
        .set_link("client", "client", LinkParams::default(), Direction::Both)
        .unwrap_err();
    assert!(matches!(e, SimError::SameHost(_)), "{e}");
    let e = sim
        .iptables("server", &["-A", "INPUT", "-j", "NOPE"])
        .unwrap_err();
    assert!(
        e.to_string().starts_with("on host server: iptables:"),
        "{e}"
    );
    let e = sim
        .sysctl_w("server", "net.ipv4.tcp_bogus", "1")
        .unwrap_err();
    assert!(e.to_string().starts_with("on host server: sysctl:"), "{e}");
}

/// A bulk transfer over a faulty link: every byte arrives, in order and intact.
fn faulty_transfer(seed: u64, bytes: u64) -> (Sim, u64, u64) {
    let mut sim = two_hosts(seed);
    let params = LinkParams {
        delay: Duration::from_millis(5),
        jitter: Duration::from_micros(200),
        rate: Some(2_000_000),
        queue_limit: Some(40),
        loss: 0.02,
        duplicate: 0.01,
        reorder: 0.02,
        reorder_delay: Duration::from_millis(3),
        corrupt: 0.01,
    };
    sim.set_link("client", "server", params, Direction::Both)
        .unwrap();
    let server = sim.nc_listen("server", 5001).unwrap();
    let client = sim.nc_connect("client", SocketAddr::new(B, 5001)).unwrap();
    sim.run_until(Instant::from_millis(100)).unwrap();
    sim.send(client, None, bytes).unwrap();
    sim.run_until(Instant::from_secs(60)).unwrap();
    let s = sim.process(server).unwrap();
    let sock = s
        .socks
        .values()
        .next()
        .expect("the server has its connection");
    let (received, mismatched) = (sock.received, sock.mismatched);
    (sim, received, mismatched)
}

#[test]
fn faulty_link_delivers_every_byte_and_is_deterministic_per_seed() {
    let (a, received, mismatched) = faulty_transfer(11, 300_000);
    assert_eq!(received, 300_000);
    assert_eq!(mismatched, 0);
    let st = a.link_stats("client", "server").unwrap();
    assert!(
        st.lost > 0 && st.corrupted > 0 && st.duplicated > 0,
        "{st:?}"
    );
    let (b, ..) = faulty_transfer(11, 300_000);
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert_eq!(a.timeline().json_lines(), b.timeline().json_lines());
    let (c, received_c, _) = faulty_transfer(12, 300_000);
    assert_eq!(received_c, 300_000);
    assert_ne!(a.trace_hash(), c.trace_hash());
    // Corrupted datagrams reach the host and are dropped by the stack's checksum.
    assert!(a.timeline().events().iter().any(|e| matches!(
        &e.kind,
        EventKind::Packet(p) if p.dir == Dir::In && p.note.as_deref().is_some_and(|n| n.contains("corrupted"))
    )));
}

#[test]
fn link_streams_do_not_depend_on_host_insertion_order() {
    let run = |flip: bool| {
        let mut sim = Sim::new(5);
        if flip {
            sim.add_host("server", B, HostConfig::default()).unwrap();
            sim.add_host("client", A, HostConfig::default()).unwrap();
        } else {
            sim.add_host("client", A, HostConfig::default()).unwrap();
            sim.add_host("server", B, HostConfig::default()).unwrap();
        }
        let lossy = LinkParams {
            loss: 0.3,
            ..LinkParams::default()
        };
        sim.set_link("client", "server", lossy, Direction::Both)
            .unwrap();
        sim.nc_listen("server", 80).unwrap();
        let c = sim.nc_connect("client", SocketAddr::new(B, 80)).unwrap();
        sim.run_until(Instant::from_secs(1)).unwrap();
        let _ = sim.send(c, None, 50_000);
        sim.run_until(Instant::from_secs(30)).unwrap();
        sim.timeline().json_lines()
    };
    let (a, b) = (run(false), run(true));
    assert!(a == b, "the timelines differ with the host order");
}

#[test]
fn ties_break_by_insertion_order() {
    let mut sim = two_hosts(1);
    let t = Instant::from_secs(1);
    for (i, cmd) in [
        "-A INPUT -s 10.9.0.1 -j DROP",
        "-A INPUT -s 10.9.0.2 -j DROP",
    ]
    .iter()
    .enumerate()
    {
        let host = if i == 0 { "server" } else { "client" };
        sim.schedule(
            t,
            Action::Iptables {
                host: host.into(),
                args: cmd.split_whitespace().map(String::from).collect(),
            },
        )
        .unwrap();
    }
    sim.run_until(t).unwrap();
    let hosts: Vec<&str> = sim
        .timeline()
        .events()
        .iter()
        .filter_map(|e| e.host())
        .collect();
    assert_eq!(hosts, ["server", "client"]);
    assert_eq!(sim.now(), t);
    let e = sim
        .schedule(Instant::from_millis(10), Action::Call(Box::new(|_| {})))
        .unwrap_err();
    assert!(matches!(e, SimError::InThePast { .. }), "{e}");
}

#[test]
fn input_reject_with_tcp_reset_refuses_the_connection() {
    let mut sim = two_hosts(3);
    sim.nc_listen("server", 1234).unwrap();
    sim.iptables(
        "server",
        &[
            "-I",
            "INPUT",
            "1",
            "-p",
            "tcp",
            "--dport",
            "1234",
            "--tcp-flags",
            "SYN,ACK",
            "SYN",
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ],
    )
    .unwrap();
    let c = sim.nc_connect("client", SocketAddr::new(B, 1234)).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    let ev = sim.timeline().events();
    assert!(
        ev.iter().any(|e| matches!(
            &e.kind,
            EventKind::App {
                what: "connect_failed",
                errno: Some(Errno::ECONNREFUSED),
                ..
            }
        )),
        "{}",
        sim.timeline().text()
    );
    assert!(
        !sim.process(c).unwrap().alive,
        "nc exits when connect fails"
    );
    let rst = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Packet(p) if p.host == "client" && p.dir == Dir::In => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(rst.flags, "R.");
    assert_eq!(rst.ack, Some(1));
    let syn_in = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Packet(p) if p.host == "server" && p.dir == Dir::In => Some(p),
            _ => None,
        })
        .unwrap();
    assert!(
        syn_in
            .dropped
            .as_deref()
            .unwrap()
            .contains("REJECT --reject-with tcp-reset")
    );
}

#[test]
fn output_reject_resets_the_local_sender() {
    let mut sim = two_hosts(3);
    sim.nc_listen("server", 1234).unwrap();
    let c = sim.nc_connect("client", SocketAddr::new(B, 1234)).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    sim.iptables(
        "client",
        &[
            "-A",
            "OUTPUT",
            "-p",
            "tcp",
            "--dport",
            "1234",
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ],
    )
    .unwrap();
    sim.send(c, None, 10).unwrap();
    sim.run_until(Instant::from_secs(2)).unwrap();
    assert!(
        sim.timeline().events().iter().any(|e| matches!(
            &e.kind,
            EventKind::App {
                what: "error",
                errno: Some(Errno::ECONNRESET),
                ..
            }
        )),
        "{}",
        sim.timeline().text()
    );
}

#[test]
fn json_lines_follow_the_schema() {
    let (sim, ..) = faulty_transfer(2, 20_000);
    let mut kinds = std::collections::BTreeSet::new();
    for line in sim.timeline().json_lines().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["t"].is_number(), "{line}");
        let kind = v["kind"].as_str().unwrap().to_string();
        match kind.as_str() {
            "packet" => {
                for k in [
                    "host", "dir", "src", "dst", "flags", "seq", "len", "dropped", "ack",
                ] {
                    assert!(v.get(k).is_some(), "{k} missing in {line}");
                }
                assert!(["out", "in"].contains(&v["dir"].as_str().unwrap()));
                assert!(v["src"].as_str().unwrap().contains(':'));
            }
            "state" => {
                for k in ["host", "local", "remote", "from", "to"] {
                    assert!(v[k].is_string(), "{k} missing in {line}");
                }
            }
            _ => {}
        }
        kinds.insert(kind);
    }
    for k in ["packet", "state", "call", "app"] {
        assert!(kinds.contains(k), "no {k} event: {kinds:?}");
    }
}

#[test]
fn capture_writes_a_pcap_of_what_the_host_saw() {
    let mut sim = two_hosts(4);
    sim.start_capture("server").unwrap();
    assert!(matches!(sim.pcap("client"), Err(SimError::NotCapturing(_))));
    sim.nc_listen("server", 1234).unwrap();
    let c = sim.nc_connect("client", SocketAddr::new(B, 1234)).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    sim.send(c, None, 3000).unwrap();
    sim.run_until(Instant::from_secs(2)).unwrap();
    let bytes = sim.pcap("server").unwrap();
    let mut r = tcplab_pcap::PcapReader::new(&bytes[..]).unwrap();
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        p.unwrap();
        n += 1;
    }
    let seen = sim
        .timeline()
        .events()
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Packet(p) if p.host == "server" && p.dropped.is_none()))
        .count();
    assert_eq!(n, seen);
    assert!(n >= 5);
}

#[test]
fn snapshots_print_like_the_tools() {
    let mut sim = two_hosts(4);
    sim.nc_listen("server", 1234).unwrap();
    let p = sim.spawn("server", "sleepy").unwrap();
    sim.listen(p, 8080).unwrap();
    sim.nc_connect("client", SocketAddr::new(B, 1234)).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    let ss = sim.snapshot("server", Tool::Ss, &["-tanp"]).unwrap();
    let lines: Vec<&str> = ss.lines().collect();
    assert!(lines[0].starts_with("State"), "{ss}");
    assert!(ss.contains("LISTEN") && ss.contains("ESTAB"), "{ss}");
    // Descriptors are numbered per host (the stack has one descriptor table).
    assert!(ss.contains("users:((\"nc\",pid=1000,fd=5))"), "{ss}");
    assert!(ss.contains("users:((\"sleepy\",pid=1001,fd=4))"), "{ss}");
    let ss = sim.tool_output("server", Tool::Ss, &["-t", "-n"]).unwrap();
    assert!(
        !ss.contains("LISTEN"),
        "without -a, ss hides listeners: {ss}"
    );
    let ns = sim
        .tool_output("server", Tool::Netstat, &["-tlnp"])
        .unwrap();
    assert!(
        ns.starts_with("Active Internet connections (only servers)\n"),
        "{ns}"
    );
    assert!(
        ns.contains("1001/sleepy") && !ns.contains("ESTABLISHED"),
        "{ns}"
    );
    let e = sim.tool_output("server", Tool::Ss, &["-anp"]).unwrap_err();
    assert!(e.to_string().contains("expected -t"), "{e}");
    let e = sim
        .tool_output("server", Tool::Netstat, &["-anx"])
        .unwrap_err();
    assert!(e.to_string().contains("unknown option \"-x\""), "{e}");
    assert!(sim.timeline().text().contains("$ ss -tanp\nState"));
}

/// 1000 s of the retries2 experiment: the server silently drops everything from the client
/// while the client has data in flight, so the client retransmits until tcp_retries2 (15)
/// gives up with ETIMEDOUT (about 924.6 s later). Prints the wall time.
#[test]
fn retries2_thousand_seconds_benchmark() {
    let started = std::time::Instant::now();
    let mut sim = two_hosts(9);
    let server = sim.nc_listen("server", 1234).unwrap();
    let c = sim.nc_connect("client", SocketAddr::new(B, 1234)).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    sim.set_read(server, None, false).unwrap();
    sim.iptables("server", &["-A", "INPUT", "-s", "10.0.0.1", "-j", "DROP"])
        .unwrap();
    sim.send(c, None, 100).unwrap();
    sim.run_until(Instant::from_secs(1001)).unwrap();
    let wall = started.elapsed();
    println!(
        "retries2: 1000 s of virtual time in {:.3} ms of wall time ({} events)",
        wall.as_secs_f64() * 1e3,
        sim.timeline().events().len()
    );
    let ev = sim.timeline().events();
    let failed_at = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::App {
                what: "error",
                errno: Some(Errno::ETIMEDOUT),
                ..
            } => Some(e.t),
            _ => None,
        })
        .expect("the client timed out");
    let secs = (failed_at.as_nanos() as f64 - 1e9) / 1e9;
    assert!((900.0..960.0).contains(&secs), "ETIMEDOUT after {secs} s");
    let data_out = ev
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Packet(p) if p.host == "client" && p.dir == Dir::Out && p.len > 0))
        .count();
    // The original, a tail-loss probe, then 15 RTO retransmissions.
    assert!((16..=17).contains(&data_out), "{data_out} data segments");
    assert!(
        sim.sockets("client")
            .unwrap()
            .iter()
            .all(|e| e.state != TcpState::Established)
    );
}

#[test]
fn ipv6_hosts_talk_and_reject_with_icmp6() {
    let mut sim = Sim::new(6);
    let a: IpAddr = "fd00::1".parse().unwrap();
    let b: IpAddr = "fd00::2".parse().unwrap();
    sim.add_host("a", a, HostConfig::default()).unwrap();
    sim.add_host("b", b, HostConfig::default()).unwrap();
    let srv = sim.nc_listen("b", 7).unwrap();
    let c = sim.nc_connect("a", SocketAddr::new(b, 7)).unwrap();
    sim.run_until(Instant::from_millis(10)).unwrap();
    sim.send(c, None, 5000).unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    let got = sim
        .process(srv)
        .unwrap()
        .socks
        .values()
        .next()
        .unwrap()
        .received;
    assert_eq!(got, 5000);
    sim.iptables("b", &["-A", "INPUT", "-s", "fd00::1/128", "-j", "REJECT"])
        .unwrap();
    sim.send(c, None, 10).unwrap();
    sim.run_until(Instant::from_secs(2)).unwrap();
    let icmp = sim
        .timeline()
        .events()
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Packet(p) if p.host == "a" && p.dir == Dir::In && p.proto == 58 => Some(p),
            _ => None,
        })
        .expect("an ICMPv6 destination unreachable reached a");
    assert!(icmp.dropped.is_none());
    assert!(sim.timeline().json_lines().contains("\"proto\":\"icmp6\""));
}

#[test]
fn scheduled_nc_actions_and_find_process() {
    let mut sim = two_hosts(8);
    sim.schedule(
        Instant::from_millis(100),
        Action::NcListen {
            host: "server".into(),
            port: 9,
        },
    )
    .unwrap();
    sim.schedule(
        Instant::from_millis(200),
        Action::NcConnect {
            host: "client".into(),
            dst: SocketAddr::new(B, 9),
        },
    )
    .unwrap();
    sim.run_until(Instant::from_millis(300)).unwrap();
    let c = sim.find_process("client", "nc").unwrap();
    let s = sim.find_process("server", "nc").unwrap();
    sim.send(c, None, 1000).unwrap();
    sim.schedule(Instant::from_millis(400), Action::Kill { proc: s })
        .unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    // The server's nc closed first: the client read EOF and its nc exited too.
    assert!(!sim.process(c).unwrap().alive);
    assert!(
        sim.timeline()
            .text()
            .contains("client nc[1000]: fd 3 eof: read returned 0")
    );
    let states: Vec<_> = sim
        .sockets("server")
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(states, [TcpState::TimeWait]);
    assert_eq!(sim.host_names(), ["client", "server"]);
}

#[test]
fn scheduled_action_errors_go_on_the_timeline() {
    let mut sim = two_hosts(8);
    sim.schedule(
        Instant::from_millis(5),
        Action::Iptables {
            host: "server".into(),
            args: vec!["-A".into(), "INPUT".into(), "--dport".into(), "1".into()],
        },
    )
    .unwrap();
    sim.run_until(Instant::from_secs(1)).unwrap();
    let text = sim.timeline().text();
    assert!(
        text.contains("error: on host server: iptables: unknown option \"--dport\""),
        "{text}"
    );
}
