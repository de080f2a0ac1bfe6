//! Classic pcap files of raw IP datagrams: what the lab writes for Wireshark and `tcpdump -r`,
//! and what it reads back from kernel reference captures.
//!
//! The record format itself comes from the `pcap-file` crate; this crate adds the lab's
//! choices on top of it:
//!
//! - [`PcapWriter`] writes classic pcap (not pcapng) with link type RAW (101: each record is
//!   one IPv4 or IPv6 datagram, no link header), snaplen 65535, little-endian, and nanosecond
//!   timestamps unless asked for microseconds. Times are the lab's virtual times in
//!   nanoseconds, written as they are: a run that starts at 0 shows up in Wireshark as
//!   1970-01-01 00:00:00 UTC. The same datagrams always give the same bytes.
//! - [`PcapReader`] reads classic pcap in either byte order and either resolution, with link
//!   types RAW, IPV4, IPV6, EN10MB (Ethernet, with at most one VLAN tag), LINUX_SLL,
//!   LINUX_SLL2 and NFLOG, and yields each record's IP datagram ([`Packet`]). Frames that
//!   carry something other than IP (ARP, LLDP, NFLOG records without a payload) are skipped
//!   and counted, never returned.
//!
//! Guarantees: reading never panics on any input; every failure is an [`Error`] that names the
//! file and prints as a sentence saying what was wrong. After an error a reader yields
//! nothing more.
//!
//! ```
//! use tcplab_pcap::{PcapReader, PcapWriter};
//!
//! let syn = [0x45u8, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
//! let mut writer = PcapWriter::new(Vec::new()).unwrap();
//! writer.write_datagram(1_500_000_123, &syn).unwrap();
//! let bytes = writer.finish().unwrap();
//!
//! let packets: Vec<_> = PcapReader::new(&bytes[..]).unwrap().collect::<Result<_, _>>().unwrap();
//! assert_eq!(packets[0].time_ns, 1_500_000_123);
//! assert_eq!(packets[0].datagram, syn);
//! ```

mod error;
mod link;
mod read;
mod write;

pub use error::{Error, ErrorKind};
pub use link::LinkType;
pub use read::{Packet, PcapReader, read_file};
pub use write::{PcapWriter, write_file};

/// How finely a file's timestamps are written: the magic number at its start says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Resolution {
    /// Magic `a1b2c3d4`: microseconds, what every pcap reader understands.
    Micro,
    /// Magic `a1b23c4d`: nanoseconds, the lab's virtual time unit.
    #[default]
    Nano,
}

/// The largest datagram a record holds whole; longer ones are cut, as `tcpdump -s 65535` does.
pub const SNAPLEN: u32 = 65535;
