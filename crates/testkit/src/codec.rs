//! Owned TCP segments and their IP datagrams, through tcplab-wire.
//!
//! Guarantees: `decode(&encode(seg))` gives `seg` back for any segment whose addresses share a
//! family; decoding never panics and says why a datagram is not a TCP segment.

use std::fmt;
use std::net::SocketAddr;

use tcplab_wire::tcp::{TcpFlags, TcpOption, TcpRepr};
use tcplab_wire::{IPPROTO_TCP, IpHeader, IpRepr, emit_ip_tcp};

/// A TCP segment with its addresses, owning its options and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: Vec<TcpOption>,
    pub payload: Vec<u8>,
}

impl Segment {
    pub fn has(&self, flag: TcpFlags) -> bool {
        self.flags.0 & flag.0 == flag.0
    }

    /// Sequence space the segment occupies: payload plus one each for SYN and FIN.
    pub fn seg_len(&self) -> u32 {
        self.payload.len() as u32
            + u32::from(self.has(TcpFlags::SYN))
            + u32::from(self.has(TcpFlags::FIN))
    }
}

/// Why bytes are not a TCP segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Ip(tcplab_wire::Error),
    NotTcp(u8),
    Tcp(tcplab_wire::Error),
    BadChecksum,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Ip(e) => write!(f, "not an IP datagram: {e}"),
            DecodeError::NotTcp(p) => write!(f, "IP protocol {p} is not TCP"),
            DecodeError::Tcp(e) => write!(f, "not a TCP segment: {e}"),
            DecodeError::BadChecksum => f.write_str("TCP checksum is wrong"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes a whole IPv4 or IPv6 datagram carrying TCP, checking the TCP checksum.
pub fn decode(datagram: &[u8]) -> Result<Segment, DecodeError> {
    let (ip, l4) = IpRepr::parse(datagram).map_err(DecodeError::Ip)?;
    if ip.protocol() != IPPROTO_TCP {
        return Err(DecodeError::NotTcp(ip.protocol()));
    }
    if !tcplab_wire::tcp::verify_checksum(ip.src(), ip.dst(), l4) {
        return Err(DecodeError::BadChecksum);
    }
    let tcp = TcpRepr::parse(l4).map_err(DecodeError::Tcp)?;
    Ok(Segment {
        src: SocketAddr::new(ip.src(), tcp.src_port),
        dst: SocketAddr::new(ip.dst(), tcp.dst_port),
        seq: tcp.seq,
        ack: tcp.ack,
        flags: tcp.flags,
        window: tcp.window,
        options: tcp.options,
        payload: tcp.payload.to_vec(),
    })
}

/// Where the transport header starts in a datagram, for corrupting only what the TCP checksum
/// covers; `None` if the bytes are not IPv4 or IPv6.
pub fn l4_offset(datagram: &[u8]) -> Option<usize> {
    IpRepr::parse(datagram).ok().map(|(ip, _)| ip.header_len())
}

/// Encodes a segment as Linux would put it on the wire: TTL 64, DF set, no TOS, checksums
/// computed.
pub fn encode(seg: &Segment, ident: u16) -> Vec<u8> {
    let ip = IpHeader {
        src: seg.src.ip(),
        dst: seg.dst.ip(),
        ttl: 64,
        tos: 0,
        ident,
        dont_frag: true,
        flow_label: 0,
    };
    let tcp = TcpRepr {
        src_port: seg.src.port(),
        dst_port: seg.dst.port(),
        seq: seg.seq,
        ack: seg.ack,
        flags: seg.flags,
        window: seg.window,
        checksum: 0,
        urgent: 0,
        options: seg.options.clone(),
        option_padding: Vec::new(),
        payload: &seg.payload,
    };
    let mut buf = vec![0u8; 60 + tcp.buffer_len()];
    let n = emit_ip_tcp(&mut buf, &ip, &tcp)
        .unwrap_or_else(|e| panic!("test segment cannot be encoded ({e}): {seg:?}"));
    buf.truncate(n);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_round_trips() {
        for (src, dst) in [
            ("10.0.0.2:80", "10.0.0.1:4000"),
            ("[fd00::2]:80", "[fd00::1]:4000"),
        ] {
            let seg = Segment {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                seq: 7,
                ack: 9,
                flags: TcpFlags(TcpFlags::PSH.0 | TcpFlags::ACK.0),
                window: 502,
                options: vec![
                    TcpOption::Nop,
                    TcpOption::Nop,
                    TcpOption::Timestamps { tsval: 1, tsecr: 2 },
                ],
                payload: b"hello".to_vec(),
            };
            let bytes = encode(&seg, 1);
            assert_eq!(decode(&bytes), Ok(seg));
            let l4 = l4_offset(&bytes).unwrap();
            let mut bad = bytes.clone();
            bad[l4 + 20 + 12] ^= 0x40;
            assert_eq!(decode(&bad), Err(DecodeError::BadChecksum));
        }
    }
}
