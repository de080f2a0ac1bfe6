//! TCP header view and lossless representation (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 3168,
//! RFC 9768 for AE).
//!
//! Guarantees: [`TcpPacket`] accessors never panic; [`TcpRepr::parse`] accepts any segment whose
//! data offset and option lengths are consistent and keeps every bit of it, so that
//! [`TcpRepr::emit`] with [`Checksum::Keep`] writes the same bytes back; options are kept in
//! wire order, a known kind with an unexpected length is kept as [`TcpOption::Unknown`], and the
//! bytes after an EOL option are kept in [`TcpRepr::option_padding`].

use std::fmt;
use std::net::IpAddr;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not, Sub};

use crate::bytes::{read_u8, read_u16, read_u32, write_bytes, write_u8, write_u16, write_u32};
use crate::{Error, IPPROTO_TCP, checksum};

/// Length of the TCP header without options.
pub const HEADER_LEN: usize = 20;
/// Largest TCP header: a 4-bit data offset of 15 words.
pub const MAX_HEADER_LEN: usize = 60;
/// Most option bytes a header can carry.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// TCP option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ_NUM: usize = 4;
    pub const ACK_NUM: usize = 8;
    /// Data offset (4 bits), reserved (3 bits) and AE, then CWR..FIN.
    pub const FLAGS: usize = 12;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
    pub const OPTIONS: usize = 20;
}

/// The twelve flag bits of the TCP header (the 4 low bits of byte 12 and all of byte 13).
/// Bit 8 is AE (formerly NS); bits 9..=11 are reserved and kept as they were read.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x001);
    pub const SYN: TcpFlags = TcpFlags(0x002);
    pub const RST: TcpFlags = TcpFlags(0x004);
    pub const PSH: TcpFlags = TcpFlags(0x008);
    pub const ACK: TcpFlags = TcpFlags(0x010);
    pub const URG: TcpFlags = TcpFlags(0x020);
    pub const ECE: TcpFlags = TcpFlags(0x040);
    pub const CWR: TcpFlags = TcpFlags(0x080);
    pub const AE: TcpFlags = TcpFlags(0x100);
    /// The three reserved bits between the data offset and AE.
    pub const RESERVED: TcpFlags = TcpFlags(0xe00);
    /// Every bit the header can carry; `Not` stays within it.
    pub const ALL: TcpFlags = TcpFlags(0xfff);
    pub const NONE: TcpFlags = TcpFlags(0);

    pub const fn bits(self) -> u16 {
        self.0
    }

    /// True if every bit of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set in `self`.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }

    pub fn set(&mut self, other: TcpFlags, on: bool) {
        if on {
            self.insert(other);
        } else {
            self.remove(other);
        }
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl BitAndAssign for TcpFlags {
    fn bitand_assign(&mut self, rhs: TcpFlags) {
        self.0 &= rhs.0;
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0 & TcpFlags::ALL.0)
    }
}

impl Sub for TcpFlags {
    type Output = TcpFlags;
    /// The flags of `self` that are not in `rhs`.
    fn sub(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & !rhs.0)
    }
}

/// tcpdump's letters in tcpdump's order (`tcp_flag_values` in print-tcp.c); reserved bits are
/// not shown and a set without any shown bit prints `none`, as tcpdump does.
const TCPDUMP_LETTERS: [(TcpFlags, char); 9] = [
    (TcpFlags::FIN, 'F'),
    (TcpFlags::SYN, 'S'),
    (TcpFlags::RST, 'R'),
    (TcpFlags::PSH, 'P'),
    (TcpFlags::ACK, '.'),
    (TcpFlags::URG, 'U'),
    (TcpFlags::ECE, 'E'),
    (TcpFlags::CWR, 'W'),
    (TcpFlags::AE, 'e'),
];

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.intersects(TcpFlags(0x1ff)) {
            return f.write_str("none");
        }
        for (flag, letter) in TCPDUMP_LETTERS {
            if self.contains(flag) {
                fmt::Write::write_char(f, letter)?;
            }
        }
        Ok(())
    }
}

/// One SACK block: `[left, right)` in sequence space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SackBlock {
    pub left: u32,
    pub right: u32,
}

/// One TCP option, in the order it appeared on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TcpOption {
    /// Kind 0. Everything after it up to the data offset is kept in `TcpRepr::option_padding`.
    Eol,
    /// Kind 1.
    Nop,
    /// Kind 2, length 4.
    Mss(u16),
    /// Kind 3, length 3.
    WindowScale(u8),
    /// Kind 4, length 2.
    SackPermitted,
    /// Kind 5, length 2 + 8·n (n = 1..=4 in practice).
    Sack(Vec<SackBlock>),
    /// Kind 8, length 10.
    Timestamps { tsval: u32, tsecr: u32 },
    /// Any other kind (or a known kind with a length that does not match its definition),
    /// kept as its kind and the bytes after the length byte.
    Unknown { kind: u8, data: Vec<u8> },
}

impl TcpOption {
    /// The option's kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::Eol => kind::EOL,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Bytes the option takes on the wire, kind and length bytes included.
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOption::Eol | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(blocks) => 2 + 8 * blocks.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Parses one option from the start of `opts`, returning it and the bytes it took.
    /// `offset` is where `opts` starts within the TCP header, for error reports.
    fn parse(opts: &[u8], offset: usize) -> Result<(TcpOption, usize), Error> {
        let kind = read_u8(opts, 0);
        match kind {
            kind::EOL => return Ok((TcpOption::Eol, 1)),
            kind::NOP => return Ok((TcpOption::Nop, 1)),
            _ => {}
        }
        let bad = Error::BadOptionLength { kind, offset };
        let len = usize::from(*opts.get(1).ok_or(bad)?);
        if len < 2 {
            return Err(bad);
        }
        let data = opts.get(2..len).ok_or(bad)?;
        let option = match (kind, data.len()) {
            (kind::MSS, 2) => TcpOption::Mss(read_u16(data, 0)),
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(read_u8(data, 0)),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            // Linux tcp_parse_options() takes a SACK option only with at least one block.
            (kind::SACK, n) if n >= 8 && n.is_multiple_of(8) => TcpOption::Sack(
                data.chunks_exact(8)
                    .map(|b| SackBlock {
                        left: read_u32(b, 0),
                        right: read_u32(b, 4),
                    })
                    .collect(),
            ),
            (kind::TIMESTAMPS, 8) => TcpOption::Timestamps {
                tsval: read_u32(data, 0),
                tsecr: read_u32(data, 4),
            },
            _ => TcpOption::Unknown {
                kind,
                data: data.to_vec(),
            },
        };
        Ok((option, len))
    }

    /// Writes the option at the start of `buf`, which the caller has sized with `wire_len`.
    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.wire_len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall {
                need: len,
                have: buf.len(),
            });
        }
        if len > usize::from(u8::MAX) {
            return Err(Error::OptionTooLong {
                kind: self.kind(),
                len: len - 2,
            });
        }
        write_u8(buf, 0, self.kind());
        if len > 1 {
            write_u8(buf, 1, len as u8);
        }
        match self {
            TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
            TcpOption::Mss(mss) => write_u16(buf, 2, *mss),
            TcpOption::WindowScale(shift) => write_u8(buf, 2, *shift),
            TcpOption::Sack(blocks) => {
                for (i, block) in blocks.iter().enumerate() {
                    write_u32(buf, 2 + 8 * i, block.left);
                    write_u32(buf, 6 + 8 * i, block.right);
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                write_u32(buf, 2, *tsval);
                write_u32(buf, 6, *tsecr);
            }
            TcpOption::Unknown { data, .. } => write_bytes(buf, 2, data),
        }
        Ok(len)
    }
}

/// A zero-copy view of a TCP segment.
///
/// After [`TcpPacket::new_checked`] the header and its options are known to be inside the
/// buffer; accessors on an unchecked view read zero past the end instead of panicking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len) accepted it.
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>, Error> {
        let packet = TcpPacket::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header is present, the data offset is at least 5 words, and the
    /// header it announces fits in the buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        let have = self.buffer.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::Truncated {
                need: HEADER_LEN,
                have,
            });
        }
        let data_offset = read_u8(self.buffer.as_ref(), field::FLAGS) >> 4;
        if data_offset < 5 {
            return Err(Error::BadDataOffset { data_offset });
        }
        let need = self.header_len();
        if have < need {
            return Err(Error::Truncated { need, have });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::DST_PORT)
    }

    pub fn seq_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::SEQ_NUM)
    }

    pub fn ack_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::ACK_NUM)
    }

    /// Header length in bytes, from the data offset field.
    pub fn header_len(&self) -> usize {
        usize::from(read_u8(self.buffer.as_ref(), field::FLAGS) >> 4) * 4
    }

    /// All twelve flag and reserved bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(read_u16(self.buffer.as_ref(), field::FLAGS) & TcpFlags::ALL.0)
    }

    pub fn window_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn urgent_at(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::URGENT)
    }

    /// The option bytes between the fixed header and the data offset.
    pub fn options(&self) -> &[u8] {
        options_of(self.buffer.as_ref())
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        payload_of(self.buffer.as_ref())
    }

    /// True if the checksum field is correct for this segment between `src` and `dst`.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        verify_checksum(src, dst, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::SRC_PORT, value);
    }

    pub fn set_dst_port(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::DST_PORT, value);
    }

    pub fn set_seq_number(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::SEQ_NUM, value);
    }

    pub fn set_ack_number(&mut self, value: u32) {
        write_u32(self.buffer.as_mut(), field::ACK_NUM, value);
    }

    /// Sets the data offset from a header length in bytes (rounded down to whole words).
    pub fn set_header_len(&mut self, len: usize) {
        let low = read_u8(self.buffer.as_ref(), field::FLAGS) & 0x0f;
        let words = (len / 4).min(15) as u8;
        write_u8(self.buffer.as_mut(), field::FLAGS, (words << 4) | low);
    }

    /// Sets the twelve flag and reserved bits, keeping the data offset.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        let offset = read_u8(self.buffer.as_ref(), field::FLAGS) & 0xf0;
        let bits = flags.0 & TcpFlags::ALL.0;
        write_u8(
            self.buffer.as_mut(),
            field::FLAGS,
            offset | (bits >> 8) as u8,
        );
        write_u8(self.buffer.as_mut(), field::FLAGS + 1, bits as u8);
    }

    pub fn set_window_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::WINDOW, value);
    }

    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    pub fn set_urgent_at(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::URGENT, value);
    }

    /// Computes and writes the checksum over the whole buffer; false if the address families
    /// differ (the field is then left as it was).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) -> bool {
        match segment_checksum(src, dst, self.buffer.as_ref()) {
            Some(sum) => {
                self.set_checksum(sum);
                true
            }
            None => false,
        }
    }
}

/// The option bytes of a segment; shared by the view and `parse`, which needs the input lifetime.
fn options_of(segment: &[u8]) -> &[u8] {
    let end = (usize::from(read_u8(segment, field::FLAGS) >> 4) * 4).max(field::OPTIONS);
    segment.get(field::OPTIONS..end).unwrap_or(&[])
}

/// The payload of a segment; shared by the view and `parse`, which needs the input lifetime.
fn payload_of(segment: &[u8]) -> &[u8] {
    let start = (usize::from(read_u8(segment, field::FLAGS) >> 4) * 4).max(HEADER_LEN);
    segment.get(start..).unwrap_or(&[])
}

/// What [`TcpRepr::emit`] writes in the checksum field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// Write [`TcpRepr::checksum`] as it is (a parsed repr then re-emits its bytes exactly).
    Keep,
    /// Compute it over the pseudo-header of `src` and `dst` and the emitted segment.
    Compute { src: IpAddr, dst: IpAddr },
}

/// The checksum `segment` (with its checksum field taken as zero) should carry between `src`
/// and `dst`, or `None` if the families differ.
fn segment_checksum(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Option<u16> {
    let len = u32::try_from(segment.len()).ok()?;
    let pseudo = checksum::pseudo_header(src, dst, IPPROTO_TCP, len)?;
    let stored = u64::from(read_u16(segment, field::CHECKSUM));
    // Subtracting the stored field from the sum is the same as summing with it zeroed, since
    // the field is one aligned 16-bit word; adding 0xffff first keeps the value positive.
    let sum = checksum::accumulate(pseudo, segment) + 0xffff - stored;
    Some(!checksum::fold(sum))
}

/// True if `segment`'s checksum is correct for the pseudo-header of `src` and `dst`; false also
/// when the address families differ.
pub fn verify_checksum(src: IpAddr, dst: IpAddr, segment: &[u8]) -> bool {
    let Ok(len) = u32::try_from(segment.len()) else {
        return false;
    };
    match checksum::pseudo_header(src, dst, IPPROTO_TCP, len) {
        Some(pseudo) => checksum::fold(checksum::accumulate(pseudo, segment)) == 0xffff,
        None => false,
    }
}

/// A lossless TCP segment: header fields, options in wire order, and the payload.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TcpRepr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Checksum as read; `emit` can keep it or compute it.
    pub checksum: u16,
    pub urgent: u16,
    pub options: Vec<TcpOption>,
    /// Bytes after an EOL option up to the data offset (normally zeros).
    pub option_padding: Vec<u8>,
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a segment (TCP header and payload). The checksum is kept as read, not verified:
    /// call [`verify_checksum`] for that.
    pub fn parse(segment: &'a [u8]) -> Result<TcpRepr<'a>, Error> {
        let opts = options_of(segment);
        // Room for a usual option list at once (SYN: mss, sackOK, TS, nop, wscale; data: two
        // nops and TS, maybe SACK), so parsing allocates once.
        let options = Vec::with_capacity(if opts.is_empty() { 0 } else { 8 });
        TcpRepr::parse_into(segment, options)
    }

    /// [`TcpRepr::parse`] with the option list in `options` (cleared first), so that a
    /// receiver can reuse one list, taken back from `TcpRepr::options`, for every segment.
    pub fn parse_into(
        segment: &'a [u8],
        mut options: Vec<TcpOption>,
    ) -> Result<TcpRepr<'a>, Error> {
        let packet = TcpPacket::new_checked(segment)?;
        let opts = options_of(segment);
        options.clear();
        let mut option_padding = Vec::new();
        let mut at = 0;
        while let Some(rest) = opts.get(at..).filter(|rest| !rest.is_empty()) {
            let (option, len) = TcpOption::parse(rest, field::OPTIONS + at)?;
            at += len;
            let end = option == TcpOption::Eol;
            options.push(option);
            if end {
                option_padding = opts.get(at..).unwrap_or(&[]).to_vec();
                break;
            }
        }
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq_number(),
            ack: packet.ack_number(),
            flags: packet.flags(),
            window: packet.window_len(),
            checksum: packet.checksum(),
            urgent: packet.urgent_at(),
            options,
            option_padding,
            payload: payload_of(segment),
        })
    }

    /// Option bytes before rounding: every option plus `option_padding`.
    pub fn options_len(&self) -> usize {
        self.options.iter().map(TcpOption::wire_len).sum::<usize>() + self.option_padding.len()
    }

    /// Header length `emit` writes: 20 bytes plus the options rounded up to a multiple of 4.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len().next_multiple_of(4)
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the segment at the start of `buf`, returning its length ([`buffer_len`]).
    ///
    /// Options are followed by `option_padding` and then zero bytes up to a multiple of 4.
    /// Flag bits above the twelve the header holds are not written.
    ///
    /// [`buffer_len`]: Self::buffer_len
    pub fn emit(&self, buf: &mut [u8], checksum: Checksum) -> Result<usize, Error> {
        self.emit_gather(buf, checksum, &[self.payload])
    }

    /// [`TcpRepr::emit`] with the payload given as consecutive parts (a ring buffer's two
    /// slices) in place of `self.payload`, which is ignored: the parts are copied straight
    /// into `buf`, with no intermediate buffer.
    pub fn emit_gather(
        &self,
        buf: &mut [u8],
        checksum: Checksum,
        parts: &[&[u8]],
    ) -> Result<usize, Error> {
        self.emit_gather_sized(buf, checksum, parts, self.options_len())
    }

    /// [`TcpRepr::emit_gather`] given `options_len()`, which a caller that sized the buffer
    /// has already computed (the option list is walked once per segment, not three times).
    pub(crate) fn emit_gather_sized(
        &self,
        buf: &mut [u8],
        checksum: Checksum,
        parts: &[&[u8]],
        options_len: usize,
    ) -> Result<usize, Error> {
        let header_len = HEADER_LEN + options_len.next_multiple_of(4);
        if header_len > MAX_HEADER_LEN {
            return Err(Error::OptionsTooLong { len: options_len });
        }
        let payload_len: usize = parts.iter().map(|p| p.len()).sum();
        let total = header_len + payload_len;
        let have = buf.len();
        let Some(buf) = buf.get_mut(..total) else {
            return Err(Error::BufferTooSmall { need: total, have });
        };
        let mut packet = TcpPacket::new_unchecked(&mut *buf);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq);
        packet.set_ack_number(self.ack);
        packet.set_header_len(header_len);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window);
        packet.set_checksum(0);
        packet.set_urgent_at(self.urgent);
        let (header, mut payload) = buf.split_at_mut(header_len);
        self.emit_options_sized(
            header.get_mut(field::OPTIONS..).unwrap_or_default(),
            options_len,
        )?;
        for part in parts {
            let (here, rest) = payload.split_at_mut(part.len());
            here.copy_from_slice(part);
            payload = rest;
        }
        let sum = match checksum {
            Checksum::Keep => self.checksum,
            Checksum::Compute { src, dst } => {
                if matches!((src, dst), (IpAddr::V4(_), IpAddr::V4(_)))
                    && u16::try_from(total).is_err()
                {
                    return Err(Error::TooLong { len: total });
                }
                segment_checksum(src, dst, buf).ok_or(Error::FamilyMismatch)?
            }
        };
        write_u16(buf, field::CHECKSUM, sum);
        Ok(total)
    }

    /// Writes the options, then `option_padding`, then zero bytes up to a multiple of 4, at the
    /// start of `buf`; returns the bytes written (`header_len() - 20`).
    pub fn emit_options(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.emit_options_sized(buf, self.options_len())
    }

    /// [`TcpRepr::emit_options`] given `options_len()`.
    fn emit_options_sized(&self, buf: &mut [u8], options_len: usize) -> Result<usize, Error> {
        if options_len > MAX_OPTIONS_LEN {
            return Err(Error::OptionsTooLong { len: options_len });
        }
        // header_len() - HEADER_LEN.
        let len = options_len.next_multiple_of(4);
        let have = buf.len();
        let Some(opts) = buf.get_mut(..len) else {
            return Err(Error::BufferTooSmall { need: len, have });
        };
        let mut at = 0;
        for option in &self.options {
            at += option.emit(opts.get_mut(at..).unwrap_or_default())?;
        }
        write_bytes(opts, at, &self.option_padding);
        at += self.option_padding.len();
        opts.get_mut(at..).unwrap_or_default().fill(0);
        Ok(len)
    }

    /// Sequence space the segment occupies: payload bytes plus one each for SYN and FIN.
    pub fn seg_len(&self) -> u32 {
        let flags = u32::from(self.flags.contains(TcpFlags::SYN))
            + u32::from(self.flags.contains(TcpFlags::FIN));
        (self.payload.len() as u32).wrapping_add(flags)
    }

    /// The first MSS option's value.
    pub fn mss(&self) -> Option<u16> {
        self.options.iter().find_map(|o| match o {
            TcpOption::Mss(mss) => Some(*mss),
            _ => None,
        })
    }

    /// The first window scale option's shift count, as sent (not clamped to 14).
    pub fn window_scale(&self) -> Option<u8> {
        self.options.iter().find_map(|o| match o {
            TcpOption::WindowScale(shift) => Some(*shift),
            _ => None,
        })
    }

    pub fn sack_permitted(&self) -> bool {
        self.options.contains(&TcpOption::SackPermitted)
    }

    /// The first timestamps option as `(tsval, tsecr)`.
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        self.options.iter().find_map(|o| match o {
            TcpOption::Timestamps { tsval, tsecr } => Some((*tsval, *tsecr)),
            _ => None,
        })
    }

    /// The blocks of the first SACK option, or none.
    pub fn sack_blocks(&self) -> &[SackBlock] {
        self.options
            .iter()
            .find_map(|o| match o {
                TcpOption::Sack(blocks) => Some(blocks.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
