//! Cross-checks against etherparse, an independent implementation: checksums, IP header fields
//! and TCP header fields of what this crate emits, and of what it parses.

mod strategies;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{NetSlice, SlicedPacket, TcpSlice, TransportSlice};
use proptest::prelude::*;
use tcplab_wire::{Checksum, IpHeader, IpRepr, TcpFlags, TcpRepr, emit_ip_tcp};

fn assert_same_tcp(ours: &TcpRepr<'_>, theirs: &TcpSlice<'_>) {
    assert_eq!(ours.src_port, theirs.source_port());
    assert_eq!(ours.dst_port, theirs.destination_port());
    assert_eq!(ours.seq, theirs.sequence_number());
    assert_eq!(ours.ack, theirs.acknowledgment_number());
    assert_eq!(ours.window, theirs.window_size());
    assert_eq!(ours.checksum, theirs.checksum());
    assert_eq!(ours.urgent, theirs.urgent_pointer());
    assert_eq!(ours.header_len(), usize::from(theirs.data_offset()) * 4);
    assert_eq!(ours.payload, theirs.payload());
    let f = ours.flags;
    assert_eq!(f.contains(TcpFlags::FIN), theirs.fin());
    assert_eq!(f.contains(TcpFlags::SYN), theirs.syn());
    assert_eq!(f.contains(TcpFlags::RST), theirs.rst());
    assert_eq!(f.contains(TcpFlags::PSH), theirs.psh());
    assert_eq!(f.contains(TcpFlags::ACK), theirs.ack());
    assert_eq!(f.contains(TcpFlags::URG), theirs.urg());
    assert_eq!(f.contains(TcpFlags::ECE), theirs.ece());
    assert_eq!(f.contains(TcpFlags::CWR), theirs.cwr());
    assert_eq!(f.contains(TcpFlags::AE), theirs.ns());
}

#[test]
fn checksum_vectors_match_etherparse() {
    let payload = b"GET / HTTP/1.1\r\n\r\n!";
    let repr = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq: 0xdead_beef,
        ack: 0x0102_0304,
        flags: TcpFlags::PSH | TcpFlags::ACK,
        window: 502,
        options: vec![
            tcplab_wire::TcpOption::Nop,
            tcplab_wire::TcpOption::Nop,
            tcplab_wire::TcpOption::Timestamps { tsval: 7, tsecr: 9 },
        ],
        payload,
        ..TcpRepr::default()
    };
    let (s4, d4) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let (s6, d6) = (
        "2001:db8::1".parse::<Ipv6Addr>().unwrap(),
        Ipv6Addr::LOCALHOST,
    );
    let mut buf = vec![0u8; repr.buffer_len()];

    repr.emit(
        &mut buf,
        Checksum::Compute {
            src: s4.into(),
            dst: d4.into(),
        },
    )
    .unwrap();
    let theirs = TcpSlice::from_slice(&buf).unwrap();
    let expected = theirs.calc_checksum_ipv4(s4.octets(), d4.octets()).unwrap();
    assert_eq!(u16::from_be_bytes([buf[16], buf[17]]), expected);

    repr.emit(
        &mut buf,
        Checksum::Compute {
            src: s6.into(),
            dst: d6.into(),
        },
    )
    .unwrap();
    let theirs = TcpSlice::from_slice(&buf).unwrap();
    let expected = theirs.calc_checksum_ipv6(s6.octets(), d6.octets()).unwrap();
    assert_eq!(u16::from_be_bytes([buf[16], buf[17]]), expected);
}

fn header(v6: bool, ttl: u8, tos: u8, ident: u16, dont_frag: bool, flow_label: u32) -> IpHeader {
    let (src, dst): (IpAddr, IpAddr) = if v6 {
        ("fd00::2".parse().unwrap(), "fd00::1".parse().unwrap())
    } else {
        ("10.0.0.2".parse().unwrap(), "10.0.0.1".parse().unwrap())
    };
    IpHeader {
        src,
        dst,
        ttl,
        tos,
        ident,
        dont_frag,
        flow_label,
    }
}

proptest! {
    #[test]
    fn emitted_datagrams_parse_identically_in_etherparse(
        (parts, payload) in strategies::tcp_repr(),
        v6 in any::<bool>(),
        (ttl, tos, ident, dont_frag) in (any::<u8>(), any::<u8>(), any::<u16>(), any::<bool>()),
        flow_label in 0u32..0x10_0000,
    ) {
        let repr = TcpRepr { payload: &payload, ..parts };
        let ip = header(v6, ttl, tos, ident, dont_frag, flow_label);
        let mut buf = vec![0u8; 200];
        let n = emit_ip_tcp(&mut buf, &ip, &repr).unwrap();
        let datagram = &buf[..n];
        let sliced = SlicedPacket::from_ip(datagram).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("etherparse found no TCP segment");
        };
        let ours = TcpRepr::parse(tcp.slice()).unwrap();
        assert_same_tcp(&ours, &tcp);
        match sliced.net {
            Some(NetSlice::Ipv4(v4)) => {
                let h = v4.header();
                prop_assert_eq!(h.ttl(), ttl);
                prop_assert_eq!(h.identification(), ident);
                prop_assert_eq!(h.dont_fragment(), dont_frag);
                prop_assert_eq!(usize::from(h.total_len()), n);
                prop_assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
                let Ok(expected) = tcp.calc_checksum_ipv4(h.source(), h.destination()) else {
                    panic!("etherparse could not checksum");
                };
                prop_assert_eq!(ours.checksum, expected);
            }
            Some(NetSlice::Ipv6(v6)) => {
                let h = v6.header();
                prop_assert_eq!(h.hop_limit(), ttl);
                prop_assert_eq!(h.traffic_class(), tos);
                prop_assert_eq!(h.flow_label().value(), flow_label);
                prop_assert_eq!(usize::from(h.payload_length()) + 40, n);
                let Ok(expected) = tcp.calc_checksum_ipv6(h.source(), h.destination()) else {
                    panic!("etherparse could not checksum");
                };
                prop_assert_eq!(ours.checksum, expected);
            }
            other => panic!("unexpected network layer {other:?}"),
        }
        let (ip_repr, _) = IpRepr::parse(datagram).unwrap();
        prop_assert_eq!(ip_repr.src(), ip.src);
    }

    #[test]
    fn parsed_segments_agree_with_etherparse(seg in strategies::tcp_segment()) {
        let ours = TcpRepr::parse(&seg).unwrap();
        let theirs = TcpSlice::from_slice(&seg).unwrap();
        assert_same_tcp(&ours, &theirs);
    }
}
