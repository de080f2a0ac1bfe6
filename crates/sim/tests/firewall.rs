//! iptables parsing and matching, and REJECT replies.

use std::net::IpAddr;

use tcplab_sim::firewall::{Chain, Firewall, FirewallError, Verdict, reject_reply};
use tcplab_wire::tcp::{TcpFlags, TcpRepr};
use tcplab_wire::{IpHeader, IpRepr, emit_ip_tcp};

fn seg(src: &str, sport: u16, dst: &str, dport: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq: 1000,
        ack: 5000,
        flags: TcpFlags(flags),
        window: 100,
        payload,
        ..TcpRepr::default()
    };
    let ip = IpHeader {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        ttl: 64,
        tos: 0,
        ident: 1,
        dont_frag: true,
        flow_label: 0,
    };
    let mut buf = vec![0u8; 100 + payload.len()];
    let n = emit_ip_tcp(&mut buf, &ip, &tcp).unwrap();
    buf.truncate(n);
    buf
}

const SYN: u16 = 0x02;
const ACK: u16 = 0x10;
const FIN: u16 = 0x01;
const RST: u16 = 0x04;

fn fw(cmds: &[&str]) -> Firewall {
    let mut f = Firewall::new();
    for c in cmds {
        let args: Vec<&str> = c.split_whitespace().collect();
        f.command(&args).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    f
}

fn dropped(f: &mut Firewall, chain: Chain, d: &[u8]) -> bool {
    f.check(chain, d) != Verdict::Accept
}

#[test]
fn address_matches_with_prefixes_and_negation() {
    let a = seg("10.0.0.1", 40000, "10.0.0.2", 1234, ACK, b"");
    let b = seg("10.0.1.1", 40000, "10.0.0.2", 1234, ACK, b"");
    let mut f = fw(&["-A INPUT -s 10.0.0.0/24 -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &a));
    assert!(!dropped(&mut f, Chain::Input, &b));
    assert!(!dropped(&mut f, Chain::Output, &a), "other chain untouched");
    let mut f = fw(&["-A INPUT ! -s 10.0.0.0/255.255.255.0 -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &a));
    assert!(dropped(&mut f, Chain::Input, &b));
    let mut f = fw(&["-A OUTPUT -d 10.0.0.2 -j DROP"]);
    assert!(dropped(&mut f, Chain::Output, &a));
    let mut f = fw(&["-A OUTPUT -d 10.0.0.3 -j DROP"]);
    assert!(!dropped(&mut f, Chain::Output, &a));
}

#[test]
fn ports_protocol_and_flags() {
    let syn = seg("10.0.0.1", 40000, "10.0.0.2", 1234, SYN, b"");
    let ack = seg("10.0.0.1", 40000, "10.0.0.2", 1234, ACK, b"");
    let other = seg("10.0.0.1", 40000, "10.0.0.2", 80, SYN, b"");
    let mut f = fw(&["-A INPUT -p tcp --dport 1234 -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &syn));
    assert!(!dropped(&mut f, Chain::Input, &other));
    let mut f = fw(&["-A INPUT -p tcp ! --dport 1234 -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &syn));
    assert!(dropped(&mut f, Chain::Input, &other));
    let mut f = fw(&["-A INPUT -p tcp --sport 39000:41000 -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &syn));
    let mut f = fw(&["-A INPUT -p tcp --sport 1:39999 -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &syn));
    let mut f = fw(&["-A INPUT -p tcp --tcp-flags SYN,ACK SYN -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &syn));
    assert!(!dropped(&mut f, Chain::Input, &ack));
    let mut f = fw(&["-A INPUT -p tcp ! --tcp-flags SYN,ACK SYN -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &syn));
    assert!(dropped(&mut f, Chain::Input, &ack));
    let mut f = fw(&["-A INPUT -p tcp --syn -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &syn));
    assert!(!dropped(&mut f, Chain::Input, &ack));
    let mut f = fw(&["-A INPUT -p udp -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &syn));
    let mut f = fw(&["-A INPUT ! -p udp -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &syn));
}

#[test]
fn ipv6_rules_apply_to_ipv6_only() {
    let v6 = seg("fd00::1", 40000, "fd00::2", 1234, ACK, b"");
    let v4 = seg("10.0.0.1", 40000, "10.0.0.2", 1234, ACK, b"");
    let mut f = fw(&["-A INPUT -s fd00::/64 -j DROP"]);
    assert!(dropped(&mut f, Chain::Input, &v6));
    assert!(!dropped(&mut f, Chain::Input, &v4));
    let mut f = fw(&["-A INPUT ! -s 10.0.0.0/8 -j DROP"]);
    assert!(!dropped(&mut f, Chain::Input, &v6), "a v4 rule skips v6");
    let mut f = fw(&["-A INPUT -p tcp --dport 1234 -j DROP"]);
    assert!(
        dropped(&mut f, Chain::Input, &v6),
        "no address: both families"
    );
}

#[test]
fn first_match_wins_and_insert_delete_flush() {
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, ACK, b"");
    let mut f = fw(&["-A INPUT -s 10.0.0.1 -j DROP"]);
    f.command(&["-I", "INPUT", "-s", "10.0.0.1", "-j", "ACCEPT"])
        .unwrap();
    assert_eq!(f.check(Chain::Input, &d), Verdict::Accept);
    f.command(&["-D", "INPUT", "1"]).unwrap();
    assert_eq!(
        f.check(Chain::Input, &d),
        Verdict::Drop {
            index: 1,
            rule: "-A INPUT -s 10.0.0.1/32 -j DROP".into()
        }
    );
    f.command(&["-I", "INPUT", "2", "-p", "tcp", "-j", "ACCEPT"])
        .unwrap();
    assert_eq!(f.input.len(), 2);
    f.command(&["-D", "INPUT", "-s", "10.0.0.1/32", "-j", "DROP"])
        .unwrap();
    assert_eq!(f.input.len(), 1);
    assert_eq!(f.check(Chain::Input, &d), Verdict::Accept);
    let mut g = fw(&["-A INPUT -j DROP", "-A OUTPUT -j DROP"]);
    g.command(&["-F", "INPUT"]).unwrap();
    assert_eq!((g.input.len(), g.output.len()), (0, 1));
    g.command(&["-F"]).unwrap();
    assert_eq!(g.output.len(), 0);
    assert_eq!(
        fw(&["-A INPUT -p tcp -m tcp ! --dport 22 -j REJECT --reject-with tcp-reset"]).save(),
        "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n\
         -A INPUT -p tcp -m tcp ! --dport 22 -j REJECT --reject-with tcp-reset\n"
    );
}

fn err(cmd: &[&str]) -> String {
    let mut f = fw(&["-A INPUT -j DROP"]);
    f.command(cmd).unwrap_err().to_string()
}

#[test]
fn errors_name_the_argument_and_what_was_expected() {
    assert_eq!(
        err(&["-A", "INPUT", "--dport", "80", "-j", "DROP"]),
        "iptables: unknown option \"--dport\": TCP port and flag matches need -p tcp before them"
    );
    assert_eq!(
        err(&["-A", "INPUT", "-s", "example.com", "-j", "DROP"]),
        "iptables: -s: expected an IPv4 or IPv6 address with an optional /prefix, got \"example.com\""
    );
    assert_eq!(
        err(&["-A", "FORWARD", "-j", "DROP"]),
        "iptables: No chain/target/match by that name: FORWARD (tcplab hosts have the INPUT and OUTPUT chains of the filter table)"
    );
    assert_eq!(
        err(&["-D", "INPUT", "5"]),
        "iptables: Index of deletion too big: chain INPUT has 1 rules, got 5"
    );
    assert_eq!(
        err(&["-I", "INPUT", "3", "-j", "DROP"]),
        "iptables: Index of insertion too big: chain INPUT has 1 rules, got 3"
    );
    assert_eq!(
        err(&["-A", "INPUT", "-j", "REJECT", "--reject-with", "tcp-reset"]),
        "iptables: --reject-with tcp-reset is valid only with -p tcp"
    );
    assert!(err(&["-A", "INPUT", "-j", "LOG"]).contains("expected a target"));
    assert!(err(&["-A", "INPUT", "-s"]).contains("requires an argument"));
    assert!(err(&["-A", "INPUT", "-p", "tcp", "--dport", "99999"]).contains("a port number"));
    assert!(err(&["-A", "INPUT", "-p", "tcp", "--tcp-flags", "SYN", "BOGUS"]).contains("SYN, ACK"));
    assert!(err(&["-L"]).contains("expected a command"));
    assert!(err(&[]).contains("got nothing"));
    assert!(err(&["-A", "INPUT", "-x"]).contains("unknown option \"-x\""));
    assert!(err(&["-A", "INPUT", "-D", "INPUT"]).contains("only one command"));
    assert!(err(&["-D", "INPUT", "-s", "1.2.3.4", "-j", "DROP"]).contains("Bad rule"));
    assert!(err(&["-A", "INPUT", "-s", "::1", "-d", "1.2.3.4"]).contains("same family"));
    let e = Firewall::new().command(&["-A", "INPUT", "!"]).unwrap_err();
    assert!(matches!(e, FirewallError::BadNegation(_)), "{e}");
}

#[test]
fn reject_tcp_reset_is_built_like_linux() {
    // A segment with ACK: R with seq = its ack.
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, ACK | FIN, b"");
    let r = reject_reply(&d, tcplab_sim::firewall::RejectWith::TcpReset).unwrap();
    let (ip, payload) = IpRepr::parse(&r).unwrap();
    let tcp = TcpRepr::parse(payload).unwrap();
    assert_eq!(ip.src(), "10.0.0.2".parse::<IpAddr>().unwrap());
    assert_eq!((tcp.src_port, tcp.dst_port), (1234, 40000));
    assert_eq!(tcp.flags, TcpFlags::RST);
    assert_eq!(tcp.seq, 5000);
    assert!(tcplab_wire::tcp::verify_checksum(
        ip.src(),
        ip.dst(),
        payload
    ));
    // A SYN: R. with seq 0 acking the SYN.
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, SYN, b"");
    let r = reject_reply(&d, tcplab_sim::firewall::RejectWith::TcpReset).unwrap();
    let (_, payload) = IpRepr::parse(&r).unwrap();
    let tcp = TcpRepr::parse(payload).unwrap();
    assert_eq!(tcp.flags.to_string(), "R.");
    assert_eq!((tcp.seq, tcp.ack), (0, 1001));
    // Data without ACK: acks the payload.
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, 0, b"hello");
    let r = reject_reply(&d, tcplab_sim::firewall::RejectWith::TcpReset).unwrap();
    let tcp_ack = TcpRepr::parse(IpRepr::parse(&r).unwrap().1).unwrap().ack;
    assert_eq!(tcp_ack, 1005);
    // Never a reset for a reset.
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, RST, b"");
    assert!(reject_reply(&d, tcplab_sim::firewall::RejectWith::TcpReset).is_none());
}

#[test]
fn reject_icmp_builds_a_destination_unreachable() {
    use tcplab_sim::firewall::RejectWith;
    let d = seg("10.0.0.1", 40000, "10.0.0.2", 1234, SYN, b"");
    let r = reject_reply(&d, RejectWith::IcmpPortUnreachable).unwrap();
    let (ip, payload) = IpRepr::parse(&r).unwrap();
    assert_eq!(ip.protocol(), 1);
    assert_eq!(&payload[..2], &[3, 3]);
    assert_eq!(tcplab_wire::checksum::checksum(payload), 0);
    assert_eq!(&payload[8..], &d[..]);
    let d6 = seg("fd00::1", 40000, "fd00::2", 1234, SYN, b"");
    let r = reject_reply(&d6, RejectWith::IcmpPortUnreachable).unwrap();
    let (ip, payload) = IpRepr::parse(&r).unwrap();
    assert_eq!(ip.protocol(), 58);
    assert_eq!(&payload[..2], &[1, 4]);
    let pseudo =
        tcplab_wire::checksum::pseudo_header(ip.src(), ip.dst(), 58, payload.len() as u32).unwrap();
    let sum = tcplab_wire::checksum::accumulate(pseudo, payload);
    assert_eq!(tcplab_wire::checksum::fold(sum), 0xffff);
}

mod fuzz {
    use proptest::prelude::*;
    use tcplab_sim::firewall::{Chain, Firewall, RejectWith, reject_reply};

    const TOKENS: &[&str] = &[
        "-A",
        "-I",
        "-D",
        "-F",
        "INPUT",
        "OUTPUT",
        "FORWARD",
        "!",
        "-s",
        "-d",
        "-p",
        "tcp",
        "udp",
        "--sport",
        "--dport",
        "--tcp-flags",
        "SYN,ACK",
        "SYN",
        "ALL",
        "NONE",
        "--syn",
        "-j",
        "DROP",
        "REJECT",
        "ACCEPT",
        "--reject-with",
        "tcp-reset",
        "icmp-port-unreachable",
        "10.0.0.1",
        "10.0.0.0/8",
        "fd00::/64",
        "1",
        "0",
        "65535",
        "1:2",
        "3:",
        "-m",
        "-t",
        "filter",
        "/",
        "::",
        "x",
    ];

    proptest! {
        // A fixed seed: the same cases on every run.
        #![proptest_config(ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_f1e1),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn commands_never_panic(picks in proptest::collection::vec(0..TOKENS.len(), 0..12),
                                bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut f = Firewall::new();
            let args: Vec<&str> = picks.iter().map(|&i| TOKENS[i]).collect();
            let _ = f.command(&args);
            let _ = f.check(Chain::Input, &bytes);
            let _ = f.check(Chain::Output, &bytes);
            let _ = reject_reply(&bytes, RejectWith::TcpReset);
            let _ = reject_reply(&bytes, RejectWith::IcmpHostProhibited);
        }
    }
}
