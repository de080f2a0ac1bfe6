use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::tcp::{TcpFlags, TcpOption, verify_checksum};

/// An IPv4 header with every field non-trivial: TOS 0xb9 (DSCP 46, ECN 1), reserved+MF bits,
/// fragment offset 0x123, one NOP-padded option word, 4 payload bytes and 2 trailer bytes.
fn v4_datagram() -> Vec<u8> {
    vec![
        0x46, 0xb9, 0x00, 0x1c, // version 4, IHL 6, TOS, total length 28
        0xab, 0xcd, 0xa1, 0x23, // ident, reserved+MF, frag offset 0x123
        0x40, 0x06, 0x12, 0x34, // TTL 64, TCP, checksum as read (wrong)
        10, 0, 0, 1, // src
        10, 0, 0, 2, // dst
        0x01, 0x01, 0x01, 0x00, // options: nop nop nop eol
        0xde, 0xad, 0xbe, 0xef, // payload
        0x00, 0x99, // trailer
    ]
}

#[test]
fn ipv4_parse_keeps_every_field_and_reemits_exactly() {
    let bytes = v4_datagram();
    let (repr, payload) = Ipv4Repr::parse(&bytes).unwrap();
    assert_eq!(repr.tos, 0xb9);
    assert_eq!((repr.dscp(), repr.ecn()), (46, 1));
    assert_eq!(repr.total_len, 28);
    assert_eq!(repr.ident, 0xabcd);
    assert!(repr.reserved_flag);
    assert!(!repr.dont_frag);
    assert!(repr.more_frags);
    assert_eq!(repr.frag_offset, 0x123);
    assert_eq!(repr.ttl, 64);
    assert_eq!(repr.protocol, 6);
    assert_eq!(repr.checksum, 0x1234);
    assert_eq!(repr.src, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(repr.dst, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(repr.options, &[1, 1, 1, 0]);
    assert_eq!(payload, &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(repr.trailer, &[0x00, 0x99]);
    let mut out = vec![0u8; bytes.len()];
    assert_eq!(repr.emit(&mut out, payload), Ok(bytes.len()));
    assert_eq!(out, bytes);
    let view = Ipv4Packet::new_checked(&bytes[..]).unwrap();
    assert!(!view.verify_checksum());
}

#[test]
fn ipv4_errors_are_typed() {
    let bytes = v4_datagram();
    assert_eq!(
        IpRepr::parse(&[]),
        Err(Error::Truncated { need: 1, have: 0 })
    );
    assert_eq!(
        Ipv4Repr::parse(&bytes[..19]),
        Err(Error::Truncated { need: 20, have: 19 })
    );
    let mut b = bytes.clone();
    b[0] = 0x44;
    assert_eq!(Ipv4Repr::parse(&b), Err(Error::BadIhl { ihl: 4 }));
    let mut b = bytes.clone();
    b[3] = 23;
    assert_eq!(
        Ipv4Repr::parse(&b),
        Err(Error::BadTotalLength {
            total_len: 23,
            header_len: 24
        })
    );
    let mut b = bytes.clone();
    b[3] = 40;
    assert_eq!(
        Ipv4Repr::parse(&b),
        Err(Error::Truncated { need: 40, have: 30 })
    );
    let mut b = bytes.clone();
    b[0] = 0x56;
    assert_eq!(IpRepr::parse(&b), Err(Error::BadVersion { version: 5 }));
    assert_eq!(Ipv4Repr::parse(&b), Err(Error::BadVersion { version: 5 }));
}

fn v6_datagram() -> Vec<u8> {
    let mut b = vec![0x6a, 0xbc, 0xde, 0xf1, 0x00, 0x03, 17, 0x40];
    b.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    b.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
    b.extend_from_slice(&[1, 2, 3, 4, 5]);
    b
}

#[test]
fn ipv6_parse_keeps_every_field_and_reemits_exactly() {
    let bytes = v6_datagram();
    let (ip, payload) = IpRepr::parse(&bytes).unwrap();
    let IpRepr::V6(repr) = ip else {
        panic!("expected IPv6, got {ip:?}")
    };
    assert_eq!(repr.traffic_class, 0xab);
    assert_eq!(repr.flow_label, 0xcdef1);
    assert_eq!(repr.payload_len, 3);
    assert_eq!(repr.next_header, 17);
    assert_eq!(repr.hop_limit, 64);
    assert_eq!(ip.src(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(ip.dst(), "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!(ip.protocol(), 17);
    assert_eq!(payload, &[1, 2, 3]);
    assert_eq!(ip.trailer(), &[4, 5]);
    let mut out = vec![0u8; bytes.len()];
    assert_eq!(ip.emit(&mut out, payload), Ok(bytes.len()));
    assert_eq!(out, bytes);
    assert_eq!(
        IpRepr::parse(&bytes[..42]),
        Err(Error::Truncated { need: 43, have: 42 })
    );
    assert_eq!(
        IpRepr::parse(&bytes[..30]),
        Err(Error::Truncated { need: 40, have: 30 })
    );
}

fn synack() -> TcpRepr<'static> {
    TcpRepr {
        src_port: 80,
        dst_port: 40000,
        seq: 100,
        ack: 1,
        flags: TcpFlags::SYN | TcpFlags::ACK,
        window: 65160,
        options: vec![TcpOption::Mss(1460), TcpOption::SackPermitted],
        payload: b"",
        ..TcpRepr::default()
    }
}

#[test]
fn emit_ip_tcp_builds_a_valid_ipv4_datagram() {
    let header = IpHeader {
        src: IpAddr::from([10, 0, 0, 2]),
        dst: IpAddr::from([10, 0, 0, 1]),
        ttl: 64,
        tos: 0x02,
        ident: 0x4242,
        dont_frag: true,
        flow_label: 0,
    };
    let mut buf = [0u8; 100];
    let n = emit_ip_tcp(&mut buf, &header, &synack()).unwrap();
    assert_eq!(n, 20 + 28);
    let view = Ipv4Packet::new_checked(&buf[..n]).unwrap();
    assert!(view.verify_checksum());
    assert_eq!(view.total_len(), 48);
    assert!(view.dont_frag());
    assert_eq!((view.ttl(), view.tos(), view.ident()), (64, 0x02, 0x4242));
    let (ip, payload) = IpRepr::parse(&buf[..n]).unwrap();
    assert_eq!(ip.protocol(), 6);
    assert!(verify_checksum(header.src, header.dst, payload));
    let tcp = TcpRepr::parse(payload).unwrap();
    assert_eq!(tcp.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(tcp.mss(), Some(1460));
}

#[test]
fn emit_ip_tcp_builds_a_valid_ipv6_datagram() {
    let header = IpHeader {
        src: "fe80::2".parse().unwrap(),
        dst: "fe80::1".parse().unwrap(),
        ttl: 255,
        tos: 0xb8,
        ident: 0,
        dont_frag: false,
        flow_label: 0x12345,
    };
    let mut buf = [0u8; 100];
    let n = emit_ip_tcp(&mut buf, &header, &synack()).unwrap();
    assert_eq!(n, 40 + 28);
    let (ip, payload) = IpRepr::parse(&buf[..n]).unwrap();
    let IpRepr::V6(v6) = ip else {
        panic!("expected IPv6, got {ip:?}")
    };
    assert_eq!(
        (v6.traffic_class, v6.flow_label, v6.hop_limit),
        (0xb8, 0x12345, 255)
    );
    assert_eq!(v6.payload_len, 28);
    assert!(verify_checksum(header.src, header.dst, payload));
}

#[test]
fn emit_ip_tcp_errors_are_typed() {
    let mut header = IpHeader {
        src: IpAddr::from([10, 0, 0, 2]),
        dst: "::1".parse().unwrap(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: false,
        flow_label: 0,
    };
    let mut buf = [0u8; 100];
    assert_eq!(
        emit_ip_tcp(&mut buf, &header, &synack()),
        Err(Error::FamilyMismatch)
    );
    header.dst = IpAddr::from([10, 0, 0, 1]);
    assert_eq!(
        emit_ip_tcp(&mut buf[..47], &header, &synack()),
        Err(Error::BufferTooSmall { need: 48, have: 47 })
    );
    header.src = "::2".parse().unwrap();
    header.dst = "::1".parse().unwrap();
    header.flow_label = 0x10_0000;
    assert_eq!(
        emit_ip_tcp(&mut buf, &header, &synack()),
        Err(Error::BadFlowLabel {
            flow_label: 0x10_0000
        })
    );
    let big = vec![0u8; 70_000];
    let huge = TcpRepr {
        payload: &big,
        ..TcpRepr::default()
    };
    let mut out = vec![0u8; 80_000];
    header.flow_label = 0;
    assert_eq!(
        emit_ip_tcp(&mut out, &header, &huge),
        Err(Error::TooLong { len: 70_020 })
    );
}

#[test]
fn ipv4_emit_rejects_unaligned_options() {
    let bytes = v4_datagram();
    let (mut repr, payload) = Ipv4Repr::parse(&bytes).unwrap();
    repr.options = &[1, 1, 1];
    let mut out = [0u8; 64];
    assert_eq!(
        repr.emit(&mut out, payload),
        Err(Error::BadIpv4Options { len: 3 })
    );
}

#[test]
fn views_never_panic_on_short_buffers() {
    let v4 = Ipv4Packet::new_unchecked(&[0x4f][..]);
    assert_eq!((v4.version(), v4.header_len(), v4.total_len()), (4, 60, 0));
    assert!(v4.options().is_empty() && v4.payload().is_empty() && v4.trailer().is_empty());
    assert_eq!(v4.src_addr(), Ipv4Addr::UNSPECIFIED);
    let v6 = Ipv6Packet::new_unchecked(&[0x60, 0, 0][..]);
    assert_eq!((v6.version(), v6.payload_len(), v6.flow_label()), (6, 0, 0));
    assert!(v6.payload().is_empty() && v6.trailer().is_empty());
}
