//! Reading IP datagrams out of classic pcap files.

use std::fs::File;
use std::io::{self, Chain, Cursor, ErrorKind as IoKind, Read};
use std::path::Path;

use pcap_file::{Endianness, PcapError, TsResolution};

use crate::link::{LinkType, ip_len};
use crate::{Error, ErrorKind, Resolution};

/// The pcapng Section Header Block type, the same in both byte orders.
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The classic pcap file header's size.
const HEADER_LEN: usize = 24;
const PCAP_MAGICS: [u32; 2] = [0xa1b2_c3d4, 0xa1b2_3c4d];

/// One captured IP datagram.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Capture time in nanoseconds since the epoch (virtual time for files the lab wrote).
    pub time_ns: u64,
    /// The IP datagram as captured: no link header, no Ethernet padding, and cut short if
    /// the capture's snaplen was smaller than the datagram.
    pub datagram: Vec<u8>,
    /// The datagram's length on the wire, from its IP header when that was captured.
    pub wire_len: usize,
}

impl Packet {
    /// Whether the capture kept less than the whole datagram.
    pub fn is_truncated(&self) -> bool {
        self.datagram.len() < self.wire_len
    }
}

/// Reads the IP datagrams of a classic pcap stream, as an iterator of
/// `Result<Packet, Error>`. Records that carry no IP datagram are skipped (see [`skipped`]);
/// the first error ends the iteration.
///
/// [`skipped`]: PcapReader::skipped
#[derive(Debug)]
pub struct PcapReader<R: Read> {
    inner: pcap_file::pcap::PcapReader<Chain<Cursor<[u8; HEADER_LEN]>, R>>,
    file: String,
    link: LinkType,
    resolution: Resolution,
    big_endian: bool,
    /// Records read so far, the number of the last one.
    records: u64,
    skipped: u64,
    done: bool,
}

impl<R: Read> PcapReader<R> {
    /// Reads the file header from `reader`.
    pub fn new(reader: R) -> Result<PcapReader<R>, Error> {
        PcapReader::named(reader, "the pcap input")
    }

    fn named(mut reader: R, file: &str) -> Result<PcapReader<R>, Error> {
        // The file header is read here, not by pcap-file, to tell short, pcapng and garbage
        // files apart in the error; pcap-file then reads it again from this copy.
        let mut header = [0u8; HEADER_LEN];
        let got = read_up_to(&mut reader, &mut header).map_err(|e| read_error(e).at(file))?;
        let magic = [header[0], header[1], header[2], header[3]];
        if got >= magic.len() && magic == PCAPNG_MAGIC {
            return Err(ErrorKind::Pcapng.at(file));
        }
        if got >= magic.len()
            && !PCAP_MAGICS.contains(&u32::from_be_bytes(magic))
            && !PCAP_MAGICS.contains(&u32::from_le_bytes(magic))
        {
            return Err(ErrorKind::BadMagic { magic }.at(file));
        }
        if got < HEADER_LEN {
            return Err(ErrorKind::ShortHeader { len: got }.at(file));
        }
        let inner = pcap_file::pcap::PcapReader::new(Cursor::new(header).chain(reader)).map_err(
            |e| match e {
                PcapError::IoError(e) => read_error(e).at(file),
                _ => ErrorKind::BadMagic { magic }.at(file),
            },
        )?;
        let header = inner.header();
        let number = u32::from(header.datalink);
        let link = LinkType::from_number(number)
            .ok_or_else(|| ErrorKind::UnsupportedLinkType { link_type: number }.at(file))?;
        Ok(PcapReader {
            inner,
            file: file.to_string(),
            link,
            resolution: match header.ts_resolution {
                TsResolution::MicroSecond => Resolution::Micro,
                TsResolution::NanoSecond => Resolution::Nano,
            },
            big_endian: header.endianness == Endianness::Big,
            records: 0,
            skipped: 0,
            done: false,
        })
    }

    /// The file's link type.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The file's timestamp resolution.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Records so far that carried no IP datagram.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next datagram, `None` at the end of the file or after an error.
    pub fn next_packet(&mut self) -> Option<Result<Packet, Error>> {
        let packet = self.next_inner();
        if !matches!(packet, Some(Ok(_))) {
            self.done = true;
        }
        packet.map(|r| r.map_err(|kind| kind.at(&self.file)))
    }

    fn next_inner(&mut self) -> Option<Result<Packet, ErrorKind>> {
        loop {
            if self.done {
                return None;
            }
            let packet = self.records + 1;
            let raw = match self.inner.next_raw_packet()? {
                Ok(raw) => raw,
                Err(PcapError::IoError(e)) if e.kind() == IoKind::UnexpectedEof => {
                    return Some(Err(ErrorKind::Truncated { packet }));
                }
                Err(PcapError::IoError(e)) => return Some(Err(read_error(e))),
                Err(e) => {
                    return Some(Err(ErrorKind::BadRecord {
                        packet,
                        reason: e.to_string(),
                    }));
                }
            };
            self.records = packet;
            let bad = |reason: String| Some(Err(ErrorKind::BadRecord { packet, reason }));
            let (unit_ns, per_second) = match self.resolution {
                Resolution::Micro => (1000, 1_000_000),
                Resolution::Nano => (1, 1_000_000_000),
            };
            if raw.ts_frac >= per_second {
                return bad(format!(
                    "its timestamp's fraction of a second is {} but must be below {per_second}",
                    raw.ts_frac
                ));
            }
            if raw.incl_len > raw.orig_len {
                return bad(format!(
                    "its record holds {} bytes, more than the {} its header says were on the wire",
                    raw.incl_len, raw.orig_len
                ));
            }
            let (start, end) = match self.link.ip_span(&raw.data, self.big_endian) {
                Ok(Some(span)) => span,
                Ok(None) => {
                    self.skipped += 1;
                    continue;
                }
                Err(reason) => return bad(reason),
            };
            let datagram = raw.data[start..end].to_vec();
            let wire_len = ip_len(&datagram)
                .unwrap_or((raw.orig_len as usize).saturating_sub(start))
                .max(datagram.len());
            return Some(Ok(Packet {
                time_ns: u64::from(raw.ts_sec) * 1_000_000_000 + u64::from(raw.ts_frac) * unit_ns,
                datagram,
                wire_len,
            }));
        }
    }
}

impl PcapReader<File> {
    /// Opens the file at `path` and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<PcapReader<File>, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| {
            ErrorKind::Io {
                action: "open",
                source,
            }
            .at(&name)
        })?;
        PcapReader::named(file, &name)
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Packet, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_packet()
    }
}

/// Reads every IP datagram of the pcap file at `path`.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Packet>, Error> {
    PcapReader::open(path)?.collect()
}

fn read_error(source: io::Error) -> ErrorKind {
    ErrorKind::Io {
        action: "read",
        source,
    }
}

/// Reads until `buf` is full or the stream ends, returning how much was read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
