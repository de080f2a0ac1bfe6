use super::*;
use crate::ip::{IpHeader, emit_ip_tcp};
use crate::tcp::SackBlock;

fn linux_syn() -> TcpRepr<'static> {
    TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq: 1234,
        flags: TcpFlags::SYN,
        window: 64240,
        options: vec![
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 1, tsecr: 0 },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ],
        ..TcpRepr::default()
    }
}

#[test]
fn tcpdump_prints_a_syn_with_every_option() {
    assert_eq!(
        tcpdump(&linux_syn()).to_string(),
        "Flags [S], seq 1234, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], \
         length 0"
    );
}

#[test]
fn tcpdump_prints_fin_ack_and_omits_seq_on_pure_ack() {
    let mut fin = TcpRepr {
        seq: 1,
        ack: 1,
        flags: TcpFlags::FIN | TcpFlags::ACK,
        window: 63,
        options: vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamps { tsval: 1, tsecr: 2 },
        ],
        ..TcpRepr::default()
    };
    assert_eq!(
        tcpdump(&fin).to_string(),
        "Flags [F.], seq 1, ack 1, win 63, options [nop,nop,TS val 1 ecr 2], length 0"
    );
    fin.flags = TcpFlags::ACK;
    fin.options.clear();
    assert_eq!(
        tcpdump(&fin).to_string(),
        "Flags [.], ack 1, win 63, length 0"
    );
}

#[test]
fn tcpdump_prints_data_range_urg_and_sack() {
    let data = [0u8; 100];
    let repr = TcpRepr {
        seq: 1001,
        ack: 5,
        flags: TcpFlags::PSH | TcpFlags::ACK | TcpFlags::URG,
        window: 502,
        urgent: 3,
        options: vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![
                SackBlock {
                    left: 1001,
                    right: 2001,
                },
                SackBlock {
                    left: 3001,
                    right: 4001,
                },
            ]),
        ],
        payload: &data,
        ..TcpRepr::default()
    };
    assert_eq!(
        tcpdump(&repr).to_string(),
        "Flags [P.U], seq 1001:1101, ack 5, win 502, urg 3, options \
         [nop,nop,sack 2 {1001:2001}{3001:4001}], length 100"
    );
    let rel = tcpdump_relative(
        &repr,
        Isns {
            seq: 1000,
            ack: 1000,
        },
    )
    .to_string();
    assert_eq!(
        rel,
        "Flags [P.U], seq 1:101, ack 4294966301, win 502, urg 3, options \
         [nop,nop,sack 2 {1:1001}{2001:3001}], length 100"
    );
}

#[test]
fn tcpdump_relative_leaves_syn_absolute() {
    let mut synack = linux_syn();
    synack.flags = TcpFlags::SYN | TcpFlags::ACK;
    synack.ack = 501;
    let text = tcpdump_relative(
        &synack,
        Isns {
            seq: 1234,
            ack: 500,
        },
    )
    .to_string();
    assert!(text.starts_with("Flags [S.], seq 1234, ack 501,"), "{text}");
}

#[test]
fn tcpdump_prints_unknown_options_and_wrong_lengths_as_tcpdump_does() {
    let repr = TcpRepr {
        flags: TcpFlags::ACK,
        options: vec![
            TcpOption::Unknown {
                kind: 99,
                data: vec![0xab, 0x01],
            },
            TcpOption::Unknown {
                kind: 3,
                data: vec![7, 8],
            },
            TcpOption::Eol,
        ],
        option_padding: vec![0xff, 0xff, 0xff],
        ..TcpRepr::default()
    };
    // wscale with length 4 prints its first byte, then tcpdump resumes at the byte after it.
    let text = tcpdump(&repr).to_string();
    assert_eq!(
        text,
        "Flags [.], ack 0, win 0, options [unknown-99 0xab01,wscale 7[len 4],[bad opt]]"
    );
}

#[test]
fn tcpdump_line_for_ipv4_and_ipv6() {
    let syn = linux_syn();
    let mut buf = [0u8; 128];
    let header = IpHeader {
        src: "10.0.0.1".parse().unwrap(),
        dst: "10.0.0.2".parse().unwrap(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: true,
        flow_label: 0,
    };
    let n = emit_ip_tcp(&mut buf, &header, &syn).unwrap();
    assert_eq!(
        tcpdump_datagram(&buf[..n]),
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1234, win 64240, options \
         [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
    );
    let header = IpHeader {
        src: "::1".parse().unwrap(),
        dst: "::1".parse().unwrap(),
        ..header
    };
    let n = emit_ip_tcp(&mut buf, &header, &syn).unwrap();
    assert!(
        tcpdump_datagram(&buf[..n]).starts_with("IP6 ::1.40000 > ::1.80: Flags [S], seq 1234,")
    );
    assert_eq!(
        tcpdump_datagram(&[0x45]),
        "[invalid IP datagram: the packet is truncated: 20 bytes are needed but only 1 are present]"
    );
}

#[test]
fn packetdrill_prints_script_syntax() {
    let mut synack = linux_syn();
    synack.flags = TcpFlags::SYN | TcpFlags::ACK;
    synack.seq = 0;
    synack.ack = 1;
    synack.window = 65535;
    assert_eq!(
        packetdrill(&synack).to_string(),
        "S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>"
    );
    let data = [0u8; 1000];
    let repr = TcpRepr {
        seq: 1,
        ack: 1,
        flags: TcpFlags::PSH | TcpFlags::ACK,
        window: 257,
        options: vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![
                SackBlock { left: 1, right: 2 },
                SackBlock { left: 3, right: 4 },
            ]),
        ],
        payload: &data,
        ..TcpRepr::default()
    };
    assert_eq!(
        packetdrill(&repr).to_string(),
        "P. 1:1001(1000) ack 1 win 257 <nop,nop,sack 1:2 3:4>"
    );
    let bare = TcpRepr {
        seq: 5,
        window: 9,
        ..TcpRepr::default()
    };
    assert_eq!(packetdrill(&bare).to_string(), "- 5:5(0) win 9");
    let ecn = TcpRepr {
        flags: TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR | TcpFlags::AE,
        options: vec![TcpOption::Eol],
        ..TcpRepr::default()
    };
    assert_eq!(packetdrill(&ecn).to_string(), "SEWA 0:0(0) win 0 <eol>");
}
