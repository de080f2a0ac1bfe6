//! Writing and reading back, the exact bytes of the format, and typed errors on bad input.

use std::path::PathBuf;
use std::process::Command;

use etherparse::{PacketBuilder, TcpOptionElement};
use tcplab_pcap::{
    ErrorKind, LinkType, Packet, PcapReader, PcapWriter, Resolution, read_file, write_file,
};

/// A SYN, a SYN-ACK over IPv6, a full-sized data segment and a FIN, with times that cover a
/// zero, sub-microsecond digits and more than a second.
fn datagrams() -> Vec<(u64, Vec<u8>)> {
    let syn_options = [
        TcpOptionElement::MaximumSegmentSize(1460),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOptionElement::Timestamp(1000, 0),
        TcpOptionElement::WindowScale(7),
    ];
    let a = [10, 0, 0, 1];
    let b = [10, 0, 0, 2];
    let mut out = Vec::new();
    let mut syn = Vec::new();
    PacketBuilder::ipv4(a, b, 64)
        .tcp(40000, 1234, 1, 64240)
        .syn()
        .options(&syn_options)
        .unwrap()
        .write(&mut syn, &[])
        .unwrap();
    out.push((0, syn));
    let mut syn_ack = Vec::new();
    let (a6, b6) = ([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], {
        let mut b6 = [0; 16];
        b6[0] = 0xfd;
        b6[15] = 2;
        b6
    });
    PacketBuilder::ipv6(b6, a6, 64)
        .tcp(1234, 40000, 7, 65160)
        .syn()
        .ack(2)
        .options(&syn_options)
        .unwrap()
        .write(&mut syn_ack, &[])
        .unwrap();
    out.push((1_000_123, syn_ack));
    let mut data = Vec::new();
    let payload: Vec<u8> = (0..1448u32).map(|i| (i * 7) as u8).collect();
    PacketBuilder::ipv4(a, b, 64)
        .tcp(40000, 1234, 2, 502)
        .ack(8)
        .psh()
        .write(&mut data, &payload)
        .unwrap();
    out.push((1_999_999_999, data));
    let mut fin = Vec::new();
    PacketBuilder::ipv4(a, b, 64)
        .tcp(40000, 1234, 1450, 502)
        .ack(8)
        .fin()
        .write(&mut fin, &[])
        .unwrap();
    out.push((3_600_000_000_001, fin));
    out
}

fn write_all(resolution: Resolution, datagrams: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut writer = PcapWriter::with_resolution(Vec::new(), resolution).unwrap();
    for (time_ns, datagram) in datagrams {
        writer.write_datagram(*time_ns, datagram).unwrap();
    }
    writer.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Vec<Packet> {
    PcapReader::new(bytes)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn read_error(bytes: &[u8]) -> tcplab_pcap::Error {
    match PcapReader::new(bytes) {
        Err(e) => e,
        Ok(reader) => reader
            .filter_map(Result::err)
            .next()
            .expect("the input should give an error"),
    }
}

/// A fresh path in the temporary directory, unique to this test process.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tcplab-pcap-{}-{name}", std::process::id()))
}

#[test]
fn round_trip_nanoseconds() {
    let datagrams = datagrams();
    let bytes = write_all(Resolution::Nano, &datagrams);
    let reader = PcapReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.link_type(), LinkType::Raw);
    assert_eq!(reader.resolution(), Resolution::Nano);
    let packets = read_all(&bytes);
    assert_eq!(packets.len(), datagrams.len());
    for (packet, (time_ns, datagram)) in packets.iter().zip(&datagrams) {
        assert_eq!(packet.time_ns, *time_ns);
        assert_eq!(&packet.datagram, datagram);
        assert_eq!(packet.wire_len, datagram.len());
        assert!(!packet.is_truncated());
    }
}

#[test]
fn round_trip_microseconds_rounds_times_down() {
    let datagrams = datagrams();
    let bytes = write_all(Resolution::Micro, &datagrams);
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let packets = read_all(&bytes);
    let times: Vec<u64> = packets.iter().map(|p| p.time_ns).collect();
    assert_eq!(times, [0, 1_000_000, 1_999_999_000, 3_600_000_000_000]);
    for (packet, (_, datagram)) in packets.iter().zip(&datagrams) {
        assert_eq!(&packet.datagram, datagram);
    }
}

#[test]
fn file_and_record_headers_are_exact() {
    let mut writer = PcapWriter::new(Vec::new()).unwrap();
    writer.write_datagram(2_000_000_003, &[0x45, 1, 2]).unwrap();
    let bytes = writer.finish().unwrap();
    #[rustfmt::skip]
    let expected = [
        0x4d, 0x3c, 0xb2, 0xa1, // nanosecond magic, little-endian
        2, 0, 4, 0,             // version 2.4
        0, 0, 0, 0, 0, 0, 0, 0, // thiszone, sigfigs
        0xff, 0xff, 0, 0,       // snaplen 65535
        101, 0, 0, 0,           // LINKTYPE_RAW
        2, 0, 0, 0,             // seconds
        3, 0, 0, 0,             // nanoseconds
        3, 0, 0, 0, 3, 0, 0, 0, // captured and original length
        0x45, 1, 2,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn write_file_then_read_file() {
    let path = temp_path("roundtrip.pcap");
    let datagrams = datagrams();
    write_file(&path, datagrams.iter().map(|(t, d)| (*t, &d[..]))).unwrap();
    let packets = read_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let back: Vec<(u64, Vec<u8>)> = packets
        .into_iter()
        .map(|p| (p.time_ns, p.datagram))
        .collect();
    assert_eq!(back, datagrams);
}

#[test]
fn over_long_datagram_is_cut_to_the_snaplen() {
    // An IPv6 header whose payload length 0 announces a jumbogram.
    let mut jumbo = vec![0u8; 70_000];
    jumbo[0] = 0x60;
    let bytes = write_all(Resolution::Nano, &[(5, jumbo.clone())]);
    let packets = read_all(&bytes);
    assert_eq!(packets[0].datagram, jumbo[..65535]);
    assert_eq!(packets[0].wire_len, 70_000);
    assert!(packets[0].is_truncated());
}

#[test]
fn time_past_2106_is_an_error() {
    let mut writer = PcapWriter::new(Vec::new()).unwrap();
    let time_ns = (1u64 << 32) * 1_000_000_000;
    let err = writer.write_datagram(time_ns, &[0x45]).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::TimeOutOfRange { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the pcap output: the time {time_ns} ns is past 2^32 seconds, the latest a pcap \
             timestamp can hold"
        )
    );
    writer.write_datagram(time_ns - 1, &[0x45]).unwrap();
}

/// A classic pcap file written by hand in big-endian byte order, microseconds, Ethernet.
#[test]
fn reads_big_endian_ethernet_with_vlan() {
    let (_, syn) = &datagrams()[0];
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a, 0x08, 0x00]);
    frame.extend_from_slice(syn);
    let mut bytes = vec![0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4];
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&65535u32.to_be_bytes());
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(&7u32.to_be_bytes());
    bytes.extend_from_slice(&250_000u32.to_be_bytes());
    bytes.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&frame);
    let reader = PcapReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.link_type(), LinkType::Ethernet);
    assert_eq!(reader.resolution(), Resolution::Micro);
    let packets = read_all(&bytes);
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0].time_ns, 7_250_000_000);
    assert_eq!(&packets[0].datagram, syn);
}

#[test]
fn non_ip_frames_are_skipped_and_counted() {
    let (_, syn) = &datagrams()[0];
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.resize(42, 0);
    let mut ip = vec![0u8; 12];
    ip.extend_from_slice(&[0x08, 0x00]);
    ip.extend_from_slice(syn);
    let mut bytes = write_all(Resolution::Nano, &[(1, arp), (2, ip)]);
    bytes[20] = 1; // LINKTYPE_ETHERNET
    let mut reader = PcapReader::new(&bytes[..]).unwrap();
    let packet = reader.next_packet().unwrap().unwrap();
    assert_eq!((packet.time_ns, &packet.datagram), (2, syn));
    assert_eq!(reader.skipped(), 1);
    assert!(reader.next_packet().is_none());
}

#[test]
fn short_and_foreign_files_are_typed_errors() {
    let err = read_error(&[]);
    assert!(
        matches!(err.kind, ErrorKind::ShortHeader { len: 0 }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the pcap input: it is 0 bytes long, shorter than the 24-byte pcap file header; was \
         the capture stopped before it wrote anything?"
    );
    let valid = write_all(Resolution::Nano, &datagrams());
    let err = read_error(&valid[..10]);
    assert!(
        matches!(err.kind, ErrorKind::ShortHeader { len: 10 }),
        "{err}"
    );

    let err = read_error(&[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0]);
    assert!(matches!(err.kind, ErrorKind::Pcapng), "{err}");
    assert!(err.to_string().contains("editcap -F pcap"), "{err}");

    let err = read_error(b"GIF89a, not a capture at all");
    assert!(matches!(err.kind, ErrorKind::BadMagic { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "the pcap input: it is not a pcap file: it starts with 47 49 46 38, not a pcap magic \
         number (a1 b2 c3 d4 or a1 b2 3c 4d, in either byte order)"
    );

    let mut wifi = valid.clone();
    wifi[20] = 105; // LINKTYPE_IEEE802_11
    let err = read_error(&wifi);
    assert!(
        matches!(err.kind, ErrorKind::UnsupportedLinkType { link_type: 105 }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("the pcap input: its link type is 105, which is not supported")
    );
}

#[test]
fn cut_files_are_truncated_errors_after_the_whole_packets() {
    let valid = write_all(Resolution::Nano, &datagrams());
    // Inside the last record's data, then inside its 16-byte record header.
    let last_record = valid.len() - 16 - datagrams()[3].1.len();
    for cut in [valid.len() - 5, last_record + 9] {
        let mut reader = PcapReader::new(&valid[..cut]).unwrap();
        for _ in 0..3 {
            reader.next_packet().unwrap().unwrap();
        }
        let err = reader.next_packet().unwrap().unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::Truncated { packet: 4 }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "the pcap input: it ends inside packet 4: the file was cut short or that packet's \
             record header is corrupt"
        );
        assert!(
            reader.next_packet().is_none(),
            "a reader stops after an error"
        );
    }
}

#[test]
fn nonsense_record_headers_are_bad_records() {
    let valid = write_all(Resolution::Nano, &datagrams()[..1]);
    let mut bad_time = valid.clone();
    bad_time[28..32].copy_from_slice(&1_000_000_000u32.to_le_bytes());
    let err = read_error(&bad_time);
    assert!(
        matches!(err.kind, ErrorKind::BadRecord { packet: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("fraction of a second is 1000000000"),
        "{err}"
    );

    let mut longer_than_wire = valid.clone();
    longer_than_wire[36..40].copy_from_slice(&10u32.to_le_bytes());
    let err = read_error(&longer_than_wire);
    assert!(
        matches!(err.kind, ErrorKind::BadRecord { packet: 1, .. }),
        "{err}"
    );

    let mut short_ethernet = valid[..24].to_vec();
    short_ethernet[20] = 1;
    short_ethernet.extend_from_slice(&[0; 8]);
    short_ethernet.extend_from_slice(&[6, 0, 0, 0, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    let err = read_error(&short_ethernet);
    assert_eq!(
        err.to_string(),
        "the pcap input: packet 1 is malformed: its 6-byte record is too short for a \
         Ethernet header"
    );
}

#[test]
fn missing_file_names_the_path() {
    let path = temp_path("does-not-exist.pcap");
    let err = read_file(&path).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Io { action: "open", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot open it: ", path.display()))
    );
}

/// Every prefix of a file and every single-byte corruption of it reads without a panic.
#[test]
fn damaged_files_never_panic() {
    let valid = write_all(Resolution::Nano, &datagrams());
    for link in [1u8, 101, 113, 228, 229, 239] {
        let mut bytes = valid.clone();
        bytes[20] = link;
        for cut in 0..bytes.len() {
            let _ = PcapReader::new(&bytes[..cut]).map(|reader| reader.count());
        }
        let mut state = u64::from(link);
        for _ in 0..500 {
            // A fixed linear congruential sequence: the same corruptions every run.
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let mut damaged = bytes.clone();
            let at = (state >> 33) as usize % damaged.len();
            damaged[at] ^= (state >> 8) as u8 | 1;
            let _ = PcapReader::new(&damaged[..]).map(|reader| reader.count());
        }
    }
}

/// Wireshark's expert-info severity of a warning (epan/proto.h); errors are higher.
const PI_WARN: u32 = 0x0060_0000;

/// Wireshark's own reader takes the files as they are written.
#[test]
fn tshark_reads_written_files_without_complaint() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("skipped: tshark is not installed (apt-get install tshark)");
        return;
    }
    let datagrams = datagrams();
    for resolution in [Resolution::Nano, Resolution::Micro] {
        let path = temp_path(&format!("tshark-{resolution:?}.pcap"));
        let mut writer = PcapWriter::with_resolution(Vec::new(), resolution).unwrap();
        for (time_ns, datagram) in &datagrams {
            writer.write_datagram(*time_ns, datagram).unwrap();
        }
        std::fs::write(&path, writer.finish().unwrap()).unwrap();
        let output = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-e",
                "frame.time_epoch",
                "-e",
                "_ws.expert.severity",
            ])
            .args([
                "-e",
                "_ws.malformed",
                "-e",
                "tcp.flags.str",
                "-e",
                "tcp.len",
            ])
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "tshark failed: {stderr}");
        let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
        assert_eq!(lines.len(), datagrams.len(), "{stdout}{stderr}");
        let expect_times = match resolution {
            Resolution::Nano => [
                "0.000000000",
                "0.001000123",
                "1.999999999",
                "3600.000000001",
            ],
            Resolution::Micro => [
                "0.000000000",
                "0.001000000",
                "1.999999000",
                "3600.000000000",
            ],
        };
        for (fields, time) in lines.iter().zip(expect_times) {
            assert_eq!(fields[0], time, "{stdout}");
            assert_eq!(fields[2], "", "tshark found a malformed packet: {stdout}");
            // Chat and note items (connection setup, FIN) are fine; warnings and errors are not.
            for severity in fields[1].split(',').filter(|s| !s.is_empty()) {
                let severity: u32 = severity.parse().unwrap();
                assert!(severity < PI_WARN, "tshark warns: {stdout}");
            }
        }
        let flags: Vec<&str> = lines.iter().map(|f| f[3]).collect();
        assert_eq!(flags[0].trim_matches('·'), "S", "{stdout}");
        assert_eq!(lines[2][4], "1448", "{stdout}");
    }
}
