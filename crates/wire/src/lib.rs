//! tcplab-wire: zero-copy views and lossless representations of IPv4, IPv6 and TCP.
//!
//! Guarantees:
//! - every accessor on a view is panic-free once `check_len()` (called by `new_checked`) passed;
//! - any byte string either parses into a `Repr` or returns a typed [`Error`] naming the reason;
//! - `Repr::parse` then `Repr::emit` reproduces the input byte for byte (lossless): every flag and
//!   reserved bit, options in wire order, unknown options and padding kept as bytes, and the
//!   checksum as it was read.

pub mod checksum;
pub mod error;
pub mod ip;
pub mod print;
pub mod tcp;

// pub use error::Error;
// pub use ip::{IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr};
// pub use tcp::{SackBlock, TcpFlags, TcpOption, TcpPacket, TcpRepr};

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
