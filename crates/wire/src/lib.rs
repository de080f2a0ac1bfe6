//! tcplab-wire: zero-copy views and lossless representations of IPv4, IPv6 and TCP.
//!
//! Guarantees:
//! - every accessor on a view is panic-free once `check_len()` (called by `new_checked`) passed,
//!   and still panic-free (reading zero, ignoring writes) on an unchecked view that is too short;
//! - any byte string either parses into a `Repr` or returns a typed [`Error`] naming the reason;
//! - `Repr::parse` then `Repr::emit` reproduces the input byte for byte (lossless): every flag and
//!   reserved bit, options in wire order, unknown options and padding kept as bytes, and the
//!   checksum as it was read;
//! - parsing never copies the payload and allocates only for TCP options.
//!
//! The stack builds every outgoing datagram with [`emit_ip_tcp`] and reads every incoming one
//! with [`IpRepr::parse`] followed by [`TcpRepr::parse`].

pub mod checksum;
pub mod error;
pub mod ip;
pub mod print;
pub mod tcp;

pub use error::Error;
pub use ip::{
    IpHeader, IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, emit_ip_tcp, emit_ip_tcp_gather,
};
pub use tcp::{Checksum, SackBlock, TcpFlags, TcpOption, TcpPacket, TcpRepr};

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;

/// Big-endian reads and writes that treat bytes outside the buffer as zero and drop writes
/// outside it, so views never panic whatever the buffer length.
pub(crate) mod bytes {
    pub(crate) fn read_u8(buf: &[u8], at: usize) -> u8 {
        buf.get(at).copied().unwrap_or(0)
    }

    pub(crate) fn read_u16(buf: &[u8], at: usize) -> u16 {
        match buf.get(at..at.saturating_add(2)) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    pub(crate) fn read_u32(buf: &[u8], at: usize) -> u32 {
        match buf.get(at..at.saturating_add(4)) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    pub(crate) fn read_array<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = buf.get(at..at.saturating_add(N)) {
            out.copy_from_slice(src);
        }
        out
    }

    pub(crate) fn write_u8(buf: &mut [u8], at: usize, value: u8) {
        if let Some(b) = buf.get_mut(at) {
            *b = value;
        }
    }

    pub(crate) fn write_u16(buf: &mut [u8], at: usize, value: u16) {
        write_bytes(buf, at, &value.to_be_bytes());
    }

    pub(crate) fn write_u32(buf: &mut [u8], at: usize, value: u32) {
        write_bytes(buf, at, &value.to_be_bytes());
    }

    pub(crate) fn write_bytes(buf: &mut [u8], at: usize, value: &[u8]) {
        if let Some(dst) = buf.get_mut(at..at.saturating_add(value.len())) {
            dst.copy_from_slice(value);
        }
    }
}
