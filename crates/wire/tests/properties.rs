//! Property tests: no parser panics on any bytes; parse→emit is byte-exact; emit→parse returns
//! the same representation.

mod strategies;

use std::net::IpAddr;

use proptest::collection::vec;
use proptest::prelude::*;
use tcplab_wire::tcp::verify_checksum;
use tcplab_wire::{
    Checksum, IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpPacket, TcpRepr, print,
};

fn touch_views(bytes: &[u8]) {
    let t = TcpPacket::new_unchecked(bytes);
    let _ = (
        t.src_port(),
        t.dst_port(),
        t.seq_number(),
        t.ack_number(),
        t.flags(),
    );
    let _ = (
        t.window_len(),
        t.checksum(),
        t.urgent_at(),
        t.options(),
        t.payload(),
    );
    let v4 = Ipv4Packet::new_unchecked(bytes);
    let _ = (
        v4.tos(),
        v4.total_len(),
        v4.ident(),
        v4.frag_offset(),
        v4.src_addr(),
    );
    let _ = (
        v4.options(),
        v4.payload(),
        v4.trailer(),
        v4.verify_checksum(),
    );
    let v6 = Ipv6Packet::new_unchecked(bytes);
    let _ = (
        v6.traffic_class(),
        v6.flow_label(),
        v6.src_addr(),
        v6.payload(),
        v6.trailer(),
    );
}

proptest! {
    #[test]
    fn no_parser_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..160)) {
        touch_views(&bytes);
        let _ = Ipv4Repr::parse(&bytes);
        let _ = Ipv6Repr::parse(&bytes);
        let _ = print::tcpdump_datagram(&bytes);
        if let Ok(tcp) = TcpRepr::parse(&bytes) {
            let _ = print::tcpdump(&tcp).to_string();
            let _ = print::packetdrill(&tcp).to_string();
        }
        if let Ok((ip, payload)) = IpRepr::parse(&bytes) {
            let _ = TcpRepr::parse(payload);
            let _ = ip.src();
        }
    }

    #[test]
    fn parsable_tcp_bytes_reemit_exactly(seg in strategies::tcp_segment()) {
        touch_views(&seg);
        // The strategy only builds consistent option lengths, so every segment must parse.
        let repr = TcpRepr::parse(&seg).unwrap();
        let mut out = vec![0u8; repr.buffer_len()];
        prop_assert_eq!(repr.emit(&mut out, Checksum::Keep), Ok(seg.len()));
        prop_assert_eq!(&out, &seg);
        let _ = print::tcpdump(&repr).to_string();
        let _ = print::packetdrill(&repr).to_string();
    }

    #[test]
    fn parsable_ip_bytes_reemit_exactly(datagram in strategies::ip_datagram()) {
        let (ip, payload) = IpRepr::parse(&datagram).unwrap();
        let mut out = vec![0u8; datagram.len()];
        prop_assert_eq!(ip.emit(&mut out, payload), Ok(datagram.len()));
        prop_assert_eq!(&out, &datagram);
        let _ = print::tcpdump_datagram(&datagram);
    }

    #[test]
    fn valid_reprs_survive_emit_then_parse((parts, payload) in strategies::tcp_repr()) {
        let repr = TcpRepr { payload: &payload, ..parts };
        let mut buf = vec![0u8; repr.buffer_len()];
        prop_assert_eq!(repr.emit(&mut buf, Checksum::Keep), Ok(repr.buffer_len()));
        let back = TcpRepr::parse(&buf).unwrap();
        prop_assert_eq!(&back, &repr);
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "2001:db8::1".parse().unwrap();
        for (s, d) in [(src, "192.0.2.2".parse().unwrap()), (dst, dst)] {
            repr.emit(&mut buf, Checksum::Compute { src: s, dst: d }).unwrap();
            prop_assert!(verify_checksum(s, d, &buf));
        }
    }
}
