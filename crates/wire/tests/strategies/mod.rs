//! proptest strategies shared by the property tests: valid representations and parsable bytes.

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use tcplab_wire::{SackBlock, TcpFlags, TcpOption, TcpRepr};

/// Option kinds the parser decodes; an `Unknown` with one of these must have a wrong length.
const KNOWN: [u8; 7] = [0, 1, 2, 3, 4, 5, 8];

fn is_known_length(kind: u8, len: usize) -> bool {
    match kind {
        2 => len == 2,
        3 => len == 1,
        4 => len == 0,
        5 => len >= 8 && len.is_multiple_of(8),
        8 => len == 8,
        _ => true,
    }
}

/// One option other than EOL that parses back to itself.
pub fn option() -> impl Strategy<Value = TcpOption> {
    prop_oneof![
        Just(TcpOption::Nop),
        any::<u16>().prop_map(TcpOption::Mss),
        any::<u8>().prop_map(TcpOption::WindowScale),
        Just(TcpOption::SackPermitted),
        vec((any::<u32>(), any::<u32>()), 1..=4).prop_map(|b| TcpOption::Sack(
            b.into_iter()
                .map(|(left, right)| SackBlock { left, right })
                .collect()
        )),
        (any::<u32>(), any::<u32>())
            .prop_map(|(tsval, tsecr)| TcpOption::Timestamps { tsval, tsecr }),
        (any::<u8>(), vec(any::<u8>(), 0..12))
            .prop_filter(
                "kind must be unknown or its length wrong",
                |(kind, data)| { !KNOWN.contains(kind) || !is_known_length(*kind, data.len()) }
            )
            .prop_filter("EOL and NOP have no length byte", |(kind, _)| *kind > 1)
            .prop_map(|(kind, data)| TcpOption::Unknown { kind, data }),
    ]
}

/// Options that fit in 40 bytes and fill whole words, ending in EOL plus padding when needed,
/// so that emit writes exactly `options` and `option_padding` and parse reads them back.
pub fn options() -> impl Strategy<Value = (Vec<TcpOption>, Vec<u8>)> {
    (vec(option(), 0..8), any::<bool>(), vec(any::<u8>(), 40)).prop_map(
        |(candidates, force_eol, pad_bytes)| {
            let mut options = Vec::new();
            let mut len = 0;
            for option in candidates {
                // Leave room for an EOL.
                if len + option.wire_len() <= 39 {
                    len += option.wire_len();
                    options.push(option);
                }
            }
            let mut padding = Vec::new();
            if force_eol || !len.is_multiple_of(4) {
                options.push(TcpOption::Eol);
                len += 1;
                let pad = len.next_multiple_of(4) - len;
                padding = pad_bytes[..pad].to_vec();
            }
            (options, padding)
        },
    )
}

/// A valid representation with every parsed field set, and a payload to attach to it.
pub fn tcp_repr() -> impl Strategy<Value = (TcpRepr<'static>, Vec<u8>)> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u16..0x1000, any::<u16>(), any::<u16>(), any::<u16>()),
        options(),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |((sp, dp, seq, ack), (flags, win, csum, urg), (options, pad), payload)| {
                let repr = TcpRepr {
                    src_port: sp,
                    dst_port: dp,
                    seq,
                    ack,
                    flags: TcpFlags(flags),
                    window: win,
                    checksum: csum,
                    urgent: urg,
                    options,
                    option_padding: pad,
                    payload: &[],
                };
                (repr, payload)
            },
        )
}

/// The wire bytes of one option, which may be malformed in kind-specific ways but always has a
/// consistent length byte.
fn option_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![1u8]),
        (
            prop::sample::select(vec![2u8, 3, 4, 5, 8, 30, 34, 254]),
            vec(any::<u8>(), 0..18)
        )
            .prop_map(|(kind, data)| {
                let mut b = vec![kind, (data.len() + 2) as u8];
                b.extend(data);
                b
            }),
    ]
}

/// TCP segments whose options are well formed in length (so they usually parse), with random
/// header fields, EOL padding and payload.
pub fn tcp_segment() -> impl Strategy<Value = Vec<u8>> {
    (
        vec(any::<u8>(), 20),
        vec(option_bytes(), 0..6),
        vec(any::<u8>(), 40),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(|(mut header, opts, pad, payload)| {
            let mut o: Vec<u8> = Vec::new();
            for b in opts {
                if o.len() + b.len() <= 39 {
                    o.extend(b);
                }
            }
            if !o.len().is_multiple_of(4) {
                o.push(0);
                let n = o.len().next_multiple_of(4) - o.len();
                o.extend_from_slice(&pad[..n]);
            }
            header[12] = ((((20 + o.len()) / 4) as u8) << 4) | (header[12] & 0x0f);
            header.extend(o);
            header.extend(payload);
            header
        })
}

/// IPv4 or IPv6 datagrams with consistent lengths, random fields, options and trailer.
pub fn ip_datagram() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        vec(any::<u8>(), 40),
        0usize..=10,
        vec(any::<u8>(), 0..80),
        vec(any::<u8>(), 0..6),
    )
        .prop_map(|(v4, mut header, words, payload, trailer)| {
            if v4 {
                header.truncate(20);
                header.resize(20 + 4 * words, 0x01);
                header[0] = 0x40 | (5 + words) as u8;
                let total = (header.len() + payload.len()) as u16;
                header[2..4].copy_from_slice(&total.to_be_bytes());
            } else {
                header[0] = 0x60 | (header[0] & 0x0f);
                header[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
            }
            header.extend(payload);
            header.extend(trailer);
            header
        })
}
