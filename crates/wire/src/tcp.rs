//! TCP header view and lossless representation (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 3168,
//! RFC 9768 for AE).

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
    // (implementation: contains, union via BitOr, etc.)
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

/// A lossless TCP segment: header fields, options in wire order, and the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
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
