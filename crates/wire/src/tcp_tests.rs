use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// A SYN as Linux sends it: `mss 1460,sackOK,TS val 0x01020304 ecr 0,nop,wscale 7`.
const LINUX_SYN: [u8; 40] = [
    0x9c, 0x40, 0x00, 0x50, // ports 40000 -> 80
    0x12, 0x34, 0x56, 0x78, // seq
    0x00, 0x00, 0x00, 0x00, // ack
    0xa0, 0x02, 0xfa, 0xf0, // data offset 10, SYN, window 64240
    0xbe, 0xef, 0x00, 0x00, // checksum (not valid), urgent
    0x02, 0x04, 0x05, 0xb4, // mss 1460
    0x04, 0x02, // sackOK
    0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // TS
    0x01, // nop
    0x03, 0x03, 0x07, // wscale 7
];

fn segment_with_options(opts: &[u8]) -> Vec<u8> {
    let mut seg = LINUX_SYN[..20].to_vec();
    seg[12] = (((20 + opts.len()) / 4) as u8) << 4;
    seg.extend_from_slice(opts);
    seg
}

fn roundtrip(bytes: &[u8]) -> TcpRepr<'_> {
    let repr = TcpRepr::parse(bytes).unwrap();
    let mut out = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut out, Checksum::Keep), Ok(bytes.len()));
    assert_eq!(out, bytes);
    repr
}

#[test]
fn linux_syn_parses_every_field_and_option() {
    let repr = roundtrip(&LINUX_SYN);
    assert_eq!(repr.src_port, 40000);
    assert_eq!(repr.dst_port, 80);
    assert_eq!(repr.seq, 0x1234_5678);
    assert_eq!(repr.ack, 0);
    assert_eq!(repr.flags, TcpFlags::SYN);
    assert_eq!(repr.window, 64240);
    assert_eq!(repr.checksum, 0xbeef);
    assert_eq!(repr.urgent, 0);
    assert_eq!(
        repr.options,
        vec![
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0
            },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ]
    );
    assert!(repr.option_padding.is_empty());
    assert_eq!(repr.header_len(), 40);
    assert_eq!(repr.mss(), Some(1460));
    assert!(repr.sack_permitted());
    assert_eq!(repr.timestamps(), Some((0x0102_0304, 0)));
    assert_eq!(repr.window_scale(), Some(7));
    assert_eq!(repr.sack_blocks(), &[]);
    assert_eq!(repr.seg_len(), 1);
}

#[test]
fn each_flag_bit_and_reserved_bits_survive() {
    for bit in 0..12 {
        let mut seg = LINUX_SYN[..20].to_vec();
        seg[12] = 0x50;
        let bits = 1u16 << bit;
        seg[12] |= (bits >> 8) as u8;
        seg[13] = bits as u8;
        let repr = roundtrip(&seg);
        assert_eq!(repr.flags, TcpFlags(bits), "bit {bit}");
    }
    let named = [
        TcpFlags::FIN,
        TcpFlags::SYN,
        TcpFlags::RST,
        TcpFlags::PSH,
        TcpFlags::ACK,
        TcpFlags::URG,
        TcpFlags::ECE,
        TcpFlags::CWR,
        TcpFlags::AE,
    ];
    for (bit, flag) in named.iter().enumerate() {
        assert_eq!(flag.bits(), 1 << bit);
    }
}

#[test]
fn urgent_pointer_and_payload_are_kept() {
    let mut seg = LINUX_SYN[..20].to_vec();
    seg[12] = 0x50;
    seg[13] = 0x38; // URG PSH ACK
    seg[18] = 0x00;
    seg[19] = 0x05;
    seg.extend_from_slice(b"hello");
    let repr = roundtrip(&seg);
    assert_eq!(repr.urgent, 5);
    assert_eq!(repr.payload, b"hello");
    assert_eq!(repr.flags, TcpFlags::URG | TcpFlags::PSH | TcpFlags::ACK);
    assert_eq!(repr.seg_len(), 5);
}

#[test]
fn sack_blocks_are_parsed_in_order() {
    let opts = [
        1, 1, 5, 18, 0, 0, 0x03, 0xe9, 0, 0, 0x07, 0xd1, 0, 0, 0x0b, 0xb9, 0, 0, 0x0f, 0xa1,
    ];
    let seg = segment_with_options(&opts);
    let repr = roundtrip(&seg);
    assert_eq!(
        repr.sack_blocks(),
        &[
            SackBlock {
                left: 1001,
                right: 2001
            },
            SackBlock {
                left: 3001,
                right: 4001
            }
        ]
    );
}

#[test]
fn unknown_kinds_and_known_kinds_of_wrong_length_are_kept_as_bytes() {
    // kind 30 (MPTCP) length 4; MSS with length 3; SACK with 0 blocks; TS with length 6.
    let opts = [
        30, 4, 0xaa, 0xbb, 2, 3, 0x05, 5, 2, 8, 6, 1, 2, 3, 4, 1, 1, 1, 1,
    ];
    let mut padded = opts.to_vec();
    padded.push(1);
    let seg = segment_with_options(&padded);
    let repr = roundtrip(&seg);
    assert_eq!(
        repr.options[0],
        TcpOption::Unknown {
            kind: 30,
            data: vec![0xaa, 0xbb]
        }
    );
    assert_eq!(
        repr.options[1],
        TcpOption::Unknown {
            kind: 2,
            data: vec![0x05]
        }
    );
    assert_eq!(
        repr.options[2],
        TcpOption::Unknown {
            kind: 5,
            data: vec![]
        }
    );
    assert_eq!(
        repr.options[3],
        TcpOption::Unknown {
            kind: 8,
            data: vec![1, 2, 3, 4]
        }
    );
    assert_eq!(repr.mss(), None);
    assert_eq!(repr.timestamps(), None);
}

#[test]
fn bytes_after_eol_are_kept_as_padding() {
    let opts = [2, 4, 0x05, 0xb4, 0, 0xde, 0xad, 0x00];
    let seg = segment_with_options(&opts);
    let repr = roundtrip(&seg);
    assert_eq!(repr.options, vec![TcpOption::Mss(1460), TcpOption::Eol]);
    assert_eq!(repr.option_padding, vec![0xde, 0xad, 0x00]);
}

#[test]
fn option_length_errors_name_kind_and_offset() {
    let seg = segment_with_options(&[1, 2, 1, 0]);
    assert_eq!(
        TcpRepr::parse(&seg),
        Err(Error::BadOptionLength {
            kind: 2,
            offset: 21
        })
    );
    let seg = segment_with_options(&[8, 10, 0, 0]);
    assert_eq!(
        TcpRepr::parse(&seg),
        Err(Error::BadOptionLength {
            kind: 8,
            offset: 20
        })
    );
    let seg = segment_with_options(&[1, 1, 1, 3]);
    assert_eq!(
        TcpRepr::parse(&seg),
        Err(Error::BadOptionLength {
            kind: 3,
            offset: 23
        })
    );
    let seg = segment_with_options(&[9, 0, 1, 1]);
    assert_eq!(
        TcpRepr::parse(&seg),
        Err(Error::BadOptionLength {
            kind: 9,
            offset: 20
        })
    );
}

#[test]
fn header_length_errors() {
    assert_eq!(
        TcpRepr::parse(&LINUX_SYN[..19]),
        Err(Error::Truncated { need: 20, have: 19 })
    );
    let mut seg = LINUX_SYN;
    seg[12] = 0x40;
    assert_eq!(
        TcpRepr::parse(&seg),
        Err(Error::BadDataOffset { data_offset: 4 })
    );
    assert_eq!(
        TcpRepr::parse(&LINUX_SYN[..39]),
        Err(Error::Truncated { need: 40, have: 39 })
    );
}

#[test]
fn emit_pads_options_with_zeros_to_a_word() {
    let repr = TcpRepr {
        flags: TcpFlags::SYN,
        options: vec![TcpOption::Mss(536), TcpOption::WindowScale(2)],
        ..TcpRepr::default()
    };
    assert_eq!(repr.header_len(), 28);
    let mut buf = [0xffu8; 28];
    assert_eq!(repr.emit(&mut buf, Checksum::Keep), Ok(28));
    assert_eq!(&buf[20..], &[2, 4, 2, 0x18, 3, 3, 2, 0]);
    assert_eq!(buf[12], 0x70);
    let back = TcpRepr::parse(&buf).unwrap();
    assert_eq!(
        back.options,
        vec![
            TcpOption::Mss(536),
            TcpOption::WindowScale(2),
            TcpOption::Eol
        ]
    );
}

#[test]
fn emit_errors_are_typed() {
    let repr = TcpRepr {
        payload: b"abc",
        ..TcpRepr::default()
    };
    let mut small = [0u8; 22];
    assert_eq!(
        repr.emit(&mut small, Checksum::Keep),
        Err(Error::BufferTooSmall { need: 23, have: 22 })
    );
    let long = TcpRepr {
        options: vec![TcpOption::Unknown {
            kind: 99,
            data: vec![0; 40],
        }],
        ..TcpRepr::default()
    };
    let mut buf = [0u8; 100];
    assert_eq!(
        long.emit(&mut buf, Checksum::Keep),
        Err(Error::OptionsTooLong { len: 42 })
    );
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    assert_eq!(
        repr.emit(&mut buf, Checksum::Compute { src: v4, dst: v6 }),
        Err(Error::FamilyMismatch)
    );
}

#[test]
fn computed_checksum_verifies_and_detects_corruption() {
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: 3,
        ack: 4,
        flags: TcpFlags::PSH | TcpFlags::ACK,
        window: 5,
        options: vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamps { tsval: 1, tsecr: 2 },
        ],
        payload: b"odd",
        ..TcpRepr::default()
    };
    for (src, dst) in [
        (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2])),
        (
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6("fe80::1".parse().unwrap()),
        ),
    ] {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf, Checksum::Compute { src, dst }).unwrap();
        assert!(verify_checksum(src, dst, &buf));
        assert!(
            TcpPacket::new_checked(&buf[..])
                .unwrap()
                .verify_checksum(src, dst)
        );
        assert!(!verify_checksum(dst, dst, &buf));
        // The stored checksum does not influence the computed one.
        let mut other = repr.clone();
        other.checksum = 0x1234;
        let mut buf2 = vec![0u8; repr.buffer_len()];
        other
            .emit(&mut buf2, Checksum::Compute { src, dst })
            .unwrap();
        assert_eq!(buf, buf2);
        buf[24] ^= 0x01;
        assert!(!verify_checksum(src, dst, &buf));
        let mut packet = TcpPacket::new_unchecked(&mut buf[..]);
        assert!(packet.fill_checksum(src, dst));
        assert!(verify_checksum(src, dst, &buf));
    }
}

#[test]
fn seg_len_counts_syn_and_fin() {
    let repr = TcpRepr {
        flags: TcpFlags::SYN | TcpFlags::FIN,
        payload: b"xy",
        ..TcpRepr::default()
    };
    assert_eq!(repr.seg_len(), 4);
}

#[test]
fn flags_operations() {
    let synack = TcpFlags::SYN | TcpFlags::ACK;
    assert!(synack.contains(TcpFlags::SYN));
    assert!(!synack.contains(TcpFlags::SYN | TcpFlags::FIN));
    assert!(synack.intersects(TcpFlags::SYN | TcpFlags::FIN));
    assert!(!synack.intersects(TcpFlags::RST));
    assert_eq!(synack & TcpFlags::ACK, TcpFlags::ACK);
    assert_eq!(synack - TcpFlags::ACK, TcpFlags::SYN);
    assert_eq!(!TcpFlags::NONE, TcpFlags::ALL);
    assert_eq!(!synack & synack, TcpFlags::NONE);
    assert!(TcpFlags::NONE.is_empty());
    let mut f = TcpFlags::FIN;
    f.insert(TcpFlags::ACK);
    f.remove(TcpFlags::FIN);
    f.set(TcpFlags::PSH, true);
    assert_eq!(f, TcpFlags::ACK | TcpFlags::PSH);
}

#[test]
fn flags_print_in_tcpdump_letters() {
    let cases = [
        (TcpFlags::SYN, "S"),
        (TcpFlags::SYN | TcpFlags::ACK, "S."),
        (TcpFlags::FIN | TcpFlags::ACK, "F."),
        (TcpFlags::PSH | TcpFlags::ACK, "P."),
        (TcpFlags::RST, "R"),
        (TcpFlags::RST | TcpFlags::ACK, "R."),
        (TcpFlags::ACK, "."),
        (TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK, "FP."),
        (TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR, "SEW"),
        (TcpFlags(0x1ff), "FSRP.UEWe"),
        (TcpFlags::NONE, "none"),
        (TcpFlags::RESERVED, "none"),
    ];
    for (flags, text) in cases {
        assert_eq!(flags.to_string(), text);
    }
}

#[test]
fn view_accessors_never_panic_on_short_buffers() {
    let packet = TcpPacket::new_unchecked(&[0x12u8, 0x34, 0x56][..]);
    assert_eq!(packet.src_port(), 0x1234);
    assert_eq!(packet.dst_port(), 0);
    assert_eq!(packet.seq_number(), 0);
    assert_eq!(packet.flags(), TcpFlags::NONE);
    assert_eq!(packet.options(), &[] as &[u8]);
    assert_eq!(packet.payload(), &[] as &[u8]);
    let mut empty = [0u8; 0];
    let mut view = TcpPacket::new_unchecked(&mut empty[..]);
    view.set_seq_number(7);
    view.set_flags(TcpFlags::ALL);
    assert_eq!(view.seq_number(), 0);
}

#[test]
fn view_setters_write_the_fields_the_getters_read() {
    let mut buf = [0u8; 24];
    let mut view = TcpPacket::new_unchecked(&mut buf[..]);
    view.set_header_len(24);
    view.set_flags(TcpFlags::AE | TcpFlags::SYN | TcpFlags(0x800));
    view.set_src_port(1);
    view.set_dst_port(2);
    view.set_seq_number(3);
    view.set_ack_number(4);
    view.set_window_len(5);
    view.set_checksum(6);
    view.set_urgent_at(7);
    let view = TcpPacket::new_checked(&buf[..]).unwrap();
    assert_eq!(view.header_len(), 24);
    assert_eq!(view.flags(), TcpFlags(0x902));
    assert_eq!(
        (
            view.src_port(),
            view.dst_port(),
            view.seq_number(),
            view.ack_number()
        ),
        (1, 2, 3, 4)
    );
    assert_eq!(
        (view.window_len(), view.checksum(), view.urgent_at()),
        (5, 6, 7)
    );
    assert_eq!(view.options(), &[0, 0, 0, 0]);
    assert_eq!(buf[12], 0x69);
}

#[test]
fn errors_print_as_sentences() {
    assert_eq!(
        Error::BadOptionLength {
            kind: 8,
            offset: 20
        }
        .to_string(),
        "the TCP option of kind 8 at header byte 20 has a length that is below 2 or runs past \
         the end of the header"
    );
    assert_eq!(
        Error::BufferTooSmall { need: 60, have: 20 }.to_string(),
        "the output buffer holds 20 bytes but 60 are needed"
    );
}
