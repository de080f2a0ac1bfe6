//! IPv4 (RFC 791) and IPv6 (RFC 8200) header views and lossless representations, and the
//! builder the stack uses for every datagram it sends.
//!
//! Guarantees: [`Ipv4Packet`] and [`Ipv6Packet`] accessors never panic; [`IpRepr::parse`] keeps
//! every header field as read (IPv4 checksum, reserved bit and options included) and the bytes
//! past the announced length as `trailer`, so [`IpRepr::emit`] with the returned payload writes
//! the input back byte for byte. IPv6 extension headers are not parsed: a next header other
//! than 6 means "not TCP" and its bytes stay in the payload.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{read_array, read_u8, read_u16, read_u32, write_bytes, write_u8, write_u16};
use crate::tcp::{Checksum, TcpRepr};
use crate::{Error, IPPROTO_TCP, checksum};

/// Length of the IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

mod v4 {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
    pub const OPTIONS: usize = 20;

    pub const FLAG_RESERVED: u16 = 0x8000;
    pub const FLAG_DF: u16 = 0x4000;
    pub const FLAG_MF: u16 = 0x2000;
    pub const FRAG_OFFSET: u16 = 0x1fff;
}

mod v6 {
    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// A zero-copy view of an IPv4 datagram.
///
/// After [`Ipv4Packet::new_checked`] the header (with options) and the total length are known
/// to be inside the buffer; the version nibble is not checked here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>, Error> {
        let packet = Ipv4Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the fixed header, the IHL (at least 5 and inside the buffer), and that the total
    /// length covers the header and is inside the buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        let have = self.buffer.as_ref().len();
        if have < IPV4_HEADER_LEN {
            return Err(Error::Truncated {
                need: IPV4_HEADER_LEN,
                have,
            });
        }
        let ihl = self.ihl();
        if ihl < 5 {
            return Err(Error::BadIhl { ihl });
        }
        let header_len = self.header_len();
        if have < header_len {
            return Err(Error::Truncated {
                need: header_len,
                have,
            });
        }
        let total_len = self.total_len();
        if usize::from(total_len) < header_len {
            return Err(Error::BadTotalLength {
                total_len,
                header_len,
            });
        }
        if have < usize::from(total_len) {
            return Err(Error::Truncated {
                need: usize::from(total_len),
                have,
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v4::VER_IHL) >> 4
    }

    /// Header length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v4::VER_IHL) & 0x0f
    }

    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The whole TOS byte: DSCP in the high six bits, ECN in the low two.
    pub fn tos(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v4::TOS)
    }

    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), v4::LENGTH)
    }

    pub fn ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), v4::IDENT)
    }

    fn flg_off(&self) -> u16 {
        read_u16(self.buffer.as_ref(), v4::FLG_OFF)
    }

    /// The reserved ("evil") bit, which must be zero on the wire but is kept as read.
    pub fn reserved_flag(&self) -> bool {
        self.flg_off() & v4::FLAG_RESERVED != 0
    }

    pub fn dont_frag(&self) -> bool {
        self.flg_off() & v4::FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flg_off() & v4::FLAG_MF != 0
    }

    /// Fragment offset in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        self.flg_off() & v4::FRAG_OFFSET
    }

    pub fn ttl(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v4::TTL)
    }

    pub fn protocol(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v4::PROTOCOL)
    }

    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), v4::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer.as_ref(), v4::SRC))
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer.as_ref(), v4::DST))
    }

    /// The option bytes between the fixed header and the IHL.
    pub fn options(&self) -> &[u8] {
        v4_parts(self.buffer.as_ref()).0
    }

    /// The bytes between the header and the total length.
    pub fn payload(&self) -> &[u8] {
        v4_parts(self.buffer.as_ref()).1
    }

    /// The bytes past the total length (link-layer padding, or garbage).
    pub fn trailer(&self) -> &[u8] {
        v4_parts(self.buffer.as_ref()).2
    }

    /// True if the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        let header = self.buffer.as_ref().get(..self.header_len()).unwrap_or(&[]);
        checksum::fold(checksum::accumulate(0, header)) == 0xffff
    }
}

/// A zero-copy view of an IPv6 datagram.
///
/// After [`Ipv6Packet::new_checked`] the fixed header and the payload length are known to be
/// inside the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>, Error> {
        let packet = Ipv6Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the fixed header and that the payload length is inside the buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        let have = self.buffer.as_ref().len();
        if have < IPV6_HEADER_LEN {
            return Err(Error::Truncated {
                need: IPV6_HEADER_LEN,
                have,
            });
        }
        let need = IPV6_HEADER_LEN + usize::from(self.payload_len());
        if have < need {
            return Err(Error::Truncated { need, have });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v6::VER_TC_FLOW) >> 4
    }

    pub fn traffic_class(&self) -> u8 {
        (read_u16(self.buffer.as_ref(), v6::VER_TC_FLOW) >> 4) as u8
    }

    pub fn flow_label(&self) -> u32 {
        read_u32(self.buffer.as_ref(), v6::VER_TC_FLOW) & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), v6::PAYLOAD_LEN)
    }

    pub fn next_header(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v6::NEXT_HEADER)
    }

    pub fn hop_limit(&self) -> u8 {
        read_u8(self.buffer.as_ref(), v6::HOP_LIMIT)
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buffer.as_ref(), v6::SRC))
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buffer.as_ref(), v6::DST))
    }

    /// The `payload_len` bytes after the fixed header.
    pub fn payload(&self) -> &[u8] {
        v6_parts(self.buffer.as_ref()).0
    }

    /// The bytes past the payload length.
    pub fn trailer(&self) -> &[u8] {
        v6_parts(self.buffer.as_ref()).1
    }
}

/// Options, payload and trailer of an IPv4 datagram, empty where the buffer is too short;
/// shared by the view and `parse`, which needs the input lifetime.
fn v4_parts(buf: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let header_len = (usize::from(read_u8(buf, v4::VER_IHL) & 0x0f) * 4).max(IPV4_HEADER_LEN);
    let total_len =
        usize::from(read_u16(buf, v4::LENGTH)).clamp(header_len, buf.len().max(header_len));
    let options = buf.get(v4::OPTIONS..header_len).unwrap_or(&[]);
    let payload = buf.get(header_len..total_len).unwrap_or(&[]);
    let trailer = buf.get(total_len..).unwrap_or(&[]);
    (options, payload, trailer)
}

/// Payload and trailer of an IPv6 datagram, empty where the buffer is too short.
fn v6_parts(buf: &[u8]) -> (&[u8], &[u8]) {
    let end = IPV6_HEADER_LEN + usize::from(read_u16(buf, v6::PAYLOAD_LEN));
    let payload = buf.get(IPV6_HEADER_LEN..end.min(buf.len())).unwrap_or(&[]);
    let trailer = buf.get(end..).unwrap_or(&[]);
    (payload, trailer)
}

/// A lossless IPv4 header, with the bytes that followed the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Repr<'a> {
    /// DSCP (high six bits) and ECN (low two bits).
    pub tos: u8,
    /// Total length as read; the builder computes it, `emit` writes it as it is.
    pub total_len: u16,
    pub ident: u16,
    /// The reserved flag bit, kept as read.
    pub reserved_flag: bool,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In 8-byte units (13 bits).
    pub frag_offset: u16,
    pub ttl: u8,
    pub protocol: u8,
    /// Header checksum as read; `emit` writes it as it is.
    pub checksum: u16,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// Option bytes (a multiple of 4, at most 40).
    pub options: &'a [u8],
    /// Bytes after `total_len` in the input (Ethernet padding, for instance).
    pub trailer: &'a [u8],
}

impl<'a> Ipv4Repr<'a> {
    /// Parses an IPv4 datagram into its header and the payload `total_len` covers.
    pub fn parse(datagram: &'a [u8]) -> Result<(Ipv4Repr<'a>, &'a [u8]), Error> {
        let packet = Ipv4Packet::new_checked(datagram)?;
        if packet.version() != 4 {
            return Err(Error::BadVersion {
                version: packet.version(),
            });
        }
        let (options, payload, trailer) = v4_parts(datagram);
        let repr = Ipv4Repr {
            tos: packet.tos(),
            total_len: packet.total_len(),
            ident: packet.ident(),
            reserved_flag: packet.reserved_flag(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            ttl: packet.ttl(),
            protocol: packet.protocol(),
            checksum: packet.checksum(),
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            options,
            trailer,
        };
        Ok((repr, payload))
    }

    pub fn header_len(&self) -> usize {
        IPV4_HEADER_LEN + self.options.len()
    }

    pub fn dscp(&self) -> u8 {
        self.tos >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.tos & 0x03
    }

    /// The header checksum these fields call for (the stored `checksum` is ignored).
    pub fn compute_checksum(&self) -> u16 {
        let mut header = [0u8; 60];
        let len = self.write_header(&mut header, 0);
        checksum::checksum(header.get(..len).unwrap_or(&[]))
    }

    /// Writes the header (fields as stored) at the start of `buf`, returning its length.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.header_len();
        if !len.is_multiple_of(4) || len > 60 {
            return Err(Error::BadIpv4Options {
                len: self.options.len(),
            });
        }
        if self.frag_offset > v4::FRAG_OFFSET {
            return Err(Error::BadFragOffset {
                frag_offset: self.frag_offset,
            });
        }
        if buf.len() < len {
            return Err(Error::BufferTooSmall {
                need: len,
                have: buf.len(),
            });
        }
        Ok(self.write_header(buf, self.checksum))
    }

    fn write_header(&self, buf: &mut [u8], checksum: u16) -> usize {
        let len = self.header_len();
        write_u8(buf, v4::VER_IHL, 0x40 | ((len / 4) as u8 & 0x0f));
        write_u8(buf, v4::TOS, self.tos);
        write_u16(buf, v4::LENGTH, self.total_len);
        write_u16(buf, v4::IDENT, self.ident);
        let flags = if self.reserved_flag {
            v4::FLAG_RESERVED
        } else {
            0
        } | if self.dont_frag { v4::FLAG_DF } else { 0 }
            | if self.more_frags { v4::FLAG_MF } else { 0 };
        write_u16(
            buf,
            v4::FLG_OFF,
            flags | (self.frag_offset & v4::FRAG_OFFSET),
        );
        write_u8(buf, v4::TTL, self.ttl);
        write_u8(buf, v4::PROTOCOL, self.protocol);
        write_u16(buf, v4::CHECKSUM, checksum);
        write_bytes(buf, v4::SRC, &self.src.octets());
        write_bytes(buf, v4::DST, &self.dst.octets());
        write_bytes(buf, v4::OPTIONS, self.options);
        len
    }

    /// Writes header, `payload` and `trailer`, returning the bytes written.
    pub fn emit(&self, buf: &mut [u8], payload: &[u8]) -> Result<usize, Error> {
        emit_with_body(buf, self.header_len(), payload, self.trailer, |b| {
            self.emit_header(b)
        })
    }
}

/// A lossless IPv6 fixed header, with the bytes that followed the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6Repr<'a> {
    pub traffic_class: u8,
    /// 20 bits.
    pub flow_label: u32,
    /// Payload length as read; `emit` writes it as it is.
    pub payload_len: u16,
    pub next_header: u8,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// Bytes after `payload_len` in the input.
    pub trailer: &'a [u8],
}

impl<'a> Ipv6Repr<'a> {
    /// Parses an IPv6 datagram into its fixed header and the payload `payload_len` covers.
    pub fn parse(datagram: &'a [u8]) -> Result<(Ipv6Repr<'a>, &'a [u8]), Error> {
        let packet = Ipv6Packet::new_checked(datagram)?;
        if packet.version() != 6 {
            return Err(Error::BadVersion {
                version: packet.version(),
            });
        }
        let (payload, trailer) = v6_parts(datagram);
        let repr = Ipv6Repr {
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
            payload_len: packet.payload_len(),
            next_header: packet.next_header(),
            hop_limit: packet.hop_limit(),
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            trailer,
        };
        Ok((repr, payload))
    }

    pub const fn header_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the fixed header at the start of `buf`, returning its length.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.flow_label > 0x000f_ffff {
            return Err(Error::BadFlowLabel {
                flow_label: self.flow_label,
            });
        }
        if buf.len() < IPV6_HEADER_LEN {
            return Err(Error::BufferTooSmall {
                need: IPV6_HEADER_LEN,
                have: buf.len(),
            });
        }
        let word = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label;
        write_bytes(buf, v6::VER_TC_FLOW, &word.to_be_bytes());
        write_u16(buf, v6::PAYLOAD_LEN, self.payload_len);
        write_u8(buf, v6::NEXT_HEADER, self.next_header);
        write_u8(buf, v6::HOP_LIMIT, self.hop_limit);
        write_bytes(buf, v6::SRC, &self.src.octets());
        write_bytes(buf, v6::DST, &self.dst.octets());
        Ok(IPV6_HEADER_LEN)
    }

    /// Writes header, `payload` and `trailer`, returning the bytes written.
    pub fn emit(&self, buf: &mut [u8], payload: &[u8]) -> Result<usize, Error> {
        emit_with_body(buf, IPV6_HEADER_LEN, payload, self.trailer, |b| {
            self.emit_header(b)
        })
    }
}

/// Checks room for header, payload and trailer, then writes all three.
fn emit_with_body(
    buf: &mut [u8],
    header_len: usize,
    payload: &[u8],
    trailer: &[u8],
    emit_header: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
) -> Result<usize, Error> {
    let total = header_len + payload.len() + trailer.len();
    if buf.len() < total {
        return Err(Error::BufferTooSmall {
            need: total,
            have: buf.len(),
        });
    }
    let header_len = emit_header(buf)?;
    write_bytes(buf, header_len, payload);
    write_bytes(buf, header_len + payload.len(), trailer);
    Ok(total)
}

/// An IPv4 or IPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpRepr<'a> {
    V4(Ipv4Repr<'a>),
    V6(Ipv6Repr<'a>),
}

impl<'a> IpRepr<'a> {
    /// Parses a datagram by its version nibble, returning the header and the payload the
    /// header's length field covers (bytes past it are kept in the repr's `trailer`).
    pub fn parse(datagram: &'a [u8]) -> Result<(IpRepr<'a>, &'a [u8]), Error> {
        let Some(first) = datagram.first() else {
            return Err(Error::Truncated { need: 1, have: 0 });
        };
        match first >> 4 {
            4 => Ipv4Repr::parse(datagram).map(|(r, p)| (IpRepr::V4(r), p)),
            6 => Ipv6Repr::parse(datagram).map(|(r, p)| (IpRepr::V6(r), p)),
            version => Err(Error::BadVersion { version }),
        }
    }

    pub fn version(&self) -> u8 {
        match self {
            IpRepr::V4(_) => 4,
            IpRepr::V6(_) => 6,
        }
    }

    pub fn src(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.src),
            IpRepr::V6(r) => IpAddr::V6(r.src),
        }
    }

    pub fn dst(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.dst),
            IpRepr::V6(r) => IpAddr::V6(r.dst),
        }
    }

    /// IPv4 protocol or IPv6 next header.
    pub fn protocol(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.protocol,
            IpRepr::V6(r) => r.next_header,
        }
    }

    /// IPv4 TTL or IPv6 hop limit.
    pub fn ttl(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ttl,
            IpRepr::V6(r) => r.hop_limit,
        }
    }

    /// IPv4 TOS byte or IPv6 traffic class.
    pub fn tos(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.tos,
            IpRepr::V6(r) => r.traffic_class,
        }
    }

    pub fn header_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.header_len(),
            IpRepr::V6(r) => r.header_len(),
        }
    }

    pub fn trailer(&self) -> &'a [u8] {
        match self {
            IpRepr::V4(r) => r.trailer,
            IpRepr::V6(r) => r.trailer,
        }
    }

    /// Writes the header alone, returning its length.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            IpRepr::V4(r) => r.emit_header(buf),
            IpRepr::V6(r) => r.emit_header(buf),
        }
    }

    /// Writes header, `payload` and trailer: with the payload `parse` returned, the input.
    pub fn emit(&self, buf: &mut [u8], payload: &[u8]) -> Result<usize, Error> {
        match self {
            IpRepr::V4(r) => r.emit(buf, payload),
            IpRepr::V6(r) => r.emit(buf, payload),
        }
    }
}

/// The IP fields the stack chooses for a datagram it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpHeader {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL for IPv4, hop limit for IPv6.
    pub ttl: u8,
    /// TOS byte for IPv4, traffic class for IPv6 (DSCP and ECN).
    pub tos: u8,
    /// IPv4 only.
    pub ident: u16,
    /// IPv4 only.
    pub dont_frag: bool,
    /// IPv6 only (20 bits).
    pub flow_label: u32,
}

/// Writes an IPv4 (with header checksum) or IPv6 header followed by `tcp` with its checksum
/// computed, returning the datagram length.
///
/// Linux: ip_queue_xmit() in net/ipv4/ip_output.c and inet6_csk_xmit() in
/// net/ipv6/inet6_connection_sock.c build the same headers for TCP.
pub fn emit_ip_tcp(buf: &mut [u8], ip: &IpHeader, tcp: &TcpRepr<'_>) -> Result<usize, Error> {
    emit_ip_tcp_gather(buf, ip, tcp, &[tcp.payload])
}

/// [`emit_ip_tcp`] with the TCP payload given as consecutive parts in place of
/// `tcp.payload` (see [`TcpRepr::emit_gather`]).
pub fn emit_ip_tcp_gather(
    buf: &mut [u8],
    ip: &IpHeader,
    tcp: &TcpRepr<'_>,
    parts: &[&[u8]],
) -> Result<usize, Error> {
    let options_len = tcp.options_len();
    let tcp_len = crate::tcp::HEADER_LEN
        + options_len.next_multiple_of(4)
        + parts.iter().map(|p| p.len()).sum::<usize>();
    let checksum = Checksum::Compute {
        src: ip.src,
        dst: ip.dst,
    };
    let header_len = match (ip.src, ip.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let total = IPV4_HEADER_LEN + tcp_len;
            let total_len = u16::try_from(total).map_err(|_| Error::TooLong { len: total })?;
            let mut repr = Ipv4Repr {
                tos: ip.tos,
                total_len,
                ident: ip.ident,
                reserved_flag: false,
                dont_frag: ip.dont_frag,
                more_frags: false,
                frag_offset: 0,
                ttl: ip.ttl,
                protocol: IPPROTO_TCP,
                checksum: 0,
                src,
                dst,
                options: &[],
                trailer: &[],
            };
            repr.checksum = repr.compute_checksum();
            check_room(buf, total)?;
            repr.emit_header(buf)?
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let payload_len =
                u16::try_from(tcp_len).map_err(|_| Error::TooLong { len: tcp_len })?;
            let repr = Ipv6Repr {
                traffic_class: ip.tos,
                flow_label: ip.flow_label,
                payload_len,
                next_header: IPPROTO_TCP,
                hop_limit: ip.ttl,
                src,
                dst,
                trailer: &[],
            };
            check_room(buf, IPV6_HEADER_LEN + tcp_len)?;
            repr.emit_header(buf)?
        }
        _ => return Err(Error::FamilyMismatch),
    };
    let rest = buf.get_mut(header_len..).unwrap_or_default();
    Ok(header_len + tcp.emit_gather_sized(rest, checksum, parts, options_len)?)
}

fn check_room(buf: &[u8], need: usize) -> Result<(), Error> {
    if buf.len() < need {
        return Err(Error::BufferTooSmall {
            need,
            have: buf.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "ip_tests.rs"]
mod tests;
