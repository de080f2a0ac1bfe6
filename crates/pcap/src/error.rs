//! The crate's one error type: which file, and what was wrong with it, as a sentence.

use std::io;

/// A pcap file could not be read or written. Prints as `FILE: what was wrong`.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {kind}")]
pub struct Error {
    /// The file's path, or "the pcap input" / "the pcap output" for a bare reader or writer.
    pub file: String,
    pub kind: ErrorKind,
}

/// What was wrong. Packets are numbered from 1, as Wireshark numbers frames.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The operating system refused an open, read, write or flush.
    #[error("cannot {action} it: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },
    /// Not even the 24-byte file header is there.
    #[error(
        "it is {len} bytes long, shorter than the 24-byte pcap file header; \
         was the capture stopped before it wrote anything?"
    )]
    ShortHeader { len: usize },
    /// The file is pcapng, which this crate does not read.
    #[error(
        "it is a pcapng file, and only classic pcap is read; convert it with \
         `editcap -F pcap IN OUT` or capture with `tcpdump -w`"
    )]
    Pcapng,
    /// The first four bytes are no pcap magic number.
    #[error(
        "it is not a pcap file: it starts with {}, not a pcap magic number \
         (a1 b2 c3 d4 or a1 b2 3c 4d, in either byte order)",
        hex(magic)
    )]
    BadMagic { magic: [u8; 4] },
    /// The file header names a link type this crate cannot take IP datagrams out of.
    #[error(
        "its link type is {link_type}, which is not supported; supported are RAW (101), \
         IPV4 (228), IPV6 (229), EN10MB (1), LINUX_SLL (113), LINUX_SLL2 (276) and NFLOG (239)"
    )]
    UnsupportedLinkType { link_type: u32 },
    /// The file ends inside a record: cut short, or a record header's length is garbage.
    #[error(
        "it ends inside packet {packet}: the file was cut short or that packet's record \
         header is corrupt"
    )]
    Truncated { packet: u64 },
    /// A record's header or link-layer header makes no sense.
    #[error("packet {packet} is malformed: {reason}")]
    BadRecord { packet: u64, reason: String },
    /// A time past what pcap's 32-bit seconds field holds.
    #[error("the time {time_ns} ns is past 2^32 seconds, the latest a pcap timestamp can hold")]
    TimeOutOfRange { time_ns: u64 },
}

impl ErrorKind {
    pub(crate) fn at(self, file: &str) -> Error {
        Error {
            file: file.to_string(),
            kind: self,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
