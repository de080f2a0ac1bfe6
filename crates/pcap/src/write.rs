//! Writing datagrams to a classic pcap file of link type RAW.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use pcap_file::pcap::{PcapHeader, RawPcapPacket};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::{Error, ErrorKind, Resolution, SNAPLEN};

/// Writes IP datagrams, one record each, to a classic pcap stream of link type RAW.
///
/// The file header goes out when the writer is made; each [`write_datagram`] writes one
/// record. Call [`finish`] to flush and get the stream back: a buffered writer dropped without
/// it loses its last records silently.
///
/// [`write_datagram`]: PcapWriter::write_datagram
/// [`finish`]: PcapWriter::finish
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: pcap_file::pcap::PcapWriter<W>,
    file: String,
    resolution: Resolution,
}

impl<W: Write> PcapWriter<W> {
    /// A writer with nanosecond timestamps.
    pub fn new(writer: W) -> Result<PcapWriter<W>, Error> {
        PcapWriter::with_resolution(writer, Resolution::Nano)
    }

    /// A writer with the given timestamp resolution.
    pub fn with_resolution(writer: W, resolution: Resolution) -> Result<PcapWriter<W>, Error> {
        PcapWriter::named(writer, resolution, "the pcap output")
    }

    fn named(writer: W, resolution: Resolution, file: &str) -> Result<PcapWriter<W>, Error> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::RAW,
            ts_resolution: match resolution {
                Resolution::Micro => TsResolution::MicroSecond,
                Resolution::Nano => TsResolution::NanoSecond,
            },
            // Fixed rather than native, so that a run gives the same bytes on every host.
            endianness: Endianness::Little,
        };
        let inner = pcap_file::pcap::PcapWriter::with_header(writer, header)
            .map_err(|e| write_error(e).at(file))?;
        Ok(PcapWriter {
            inner,
            file: file.to_string(),
            resolution,
        })
    }

    /// Writes one datagram sent at `time_ns` (virtual nanoseconds). A datagram longer than
    /// [`SNAPLEN`] is cut to it, its record keeping the full length as a capture would.
    /// Microsecond files round the time down.
    pub fn write_datagram(&mut self, time_ns: u64, datagram: &[u8]) -> Result<(), Error> {
        let ts_sec = u32::try_from(time_ns / 1_000_000_000)
            .map_err(|_| ErrorKind::TimeOutOfRange { time_ns }.at(&self.file))?;
        let nanos = (time_ns % 1_000_000_000) as u32;
        let ts_frac = match self.resolution {
            Resolution::Micro => nanos / 1000,
            Resolution::Nano => nanos,
        };
        let kept = &datagram[..datagram.len().min(SNAPLEN as usize)];
        let record = RawPcapPacket {
            ts_sec,
            ts_frac,
            incl_len: kept.len() as u32,
            orig_len: u32::try_from(datagram.len()).unwrap_or(u32::MAX),
            data: Cow::Borrowed(kept),
        };
        self.inner
            .write_raw_packet(&record)
            .map_err(|e| write_error(e).at(&self.file))?;
        Ok(())
    }

    /// Flushes the stream and hands it back.
    pub fn finish(self) -> Result<W, Error> {
        let file = self.file;
        let mut writer = self.inner.into_writer();
        writer.flush().map_err(|source| {
            ErrorKind::Io {
                action: "write",
                source,
            }
            .at(&file)
        })?;
        Ok(writer)
    }
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and writes its header, with nanosecond
    /// timestamps.
    pub fn create(path: impl AsRef<Path>) -> Result<PcapWriter<BufWriter<File>>, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::create(path).map_err(|source| {
            ErrorKind::Io {
                action: "create",
                source,
            }
            .at(&name)
        })?;
        PcapWriter::named(BufWriter::new(file), Resolution::Nano, &name)
    }
}

/// Writes `(time_ns, datagram)` pairs to a new nanosecond pcap file at `path`.
pub fn write_file<'a, I>(path: impl AsRef<Path>, datagrams: I) -> Result<(), Error>
where
    I: IntoIterator<Item = (u64, &'a [u8])>,
{
    let mut writer = PcapWriter::create(path)?;
    for (time_ns, datagram) in datagrams {
        writer.write_datagram(time_ns, datagram)?;
    }
    writer.finish()?;
    Ok(())
}

fn write_error(e: PcapError) -> ErrorKind {
    let source = match e {
        PcapError::IoError(source) => source,
        other => io::Error::other(other.to_string()),
    };
    ErrorKind::Io {
        action: "write",
        source,
    }
}
