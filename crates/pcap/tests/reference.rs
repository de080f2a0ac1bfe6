//! Every kernel reference capture reads, and every datagram in it parses as IP and TCP.

use std::path::{Path, PathBuf};

use tcplab_pcap::{LinkType, PcapReader, read_file};
use tcplab_wire::print::tcpdump_datagram;
use tcplab_wire::{IpRepr, TcpFlags, TcpRepr};

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/kernel/pcap"
);

fn reference_files() -> Vec<PathBuf> {
    let dir = Path::new(REFERENCE);
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "the kernel reference captures are missing: cannot list {}: {e}; \
             these tests need shared/ beside the repository",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no .pcap file", dir.display());
    files
}

#[test]
fn every_reference_datagram_parses_as_tcp() {
    let mut truncated = Vec::new();
    for path in reference_files() {
        let mut reader = PcapReader::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let link = reader.link_type();
        let expected_link = if path.to_string_lossy().contains(".nflog") {
            LinkType::Nflog
        } else {
            LinkType::Ethernet
        };
        assert_eq!(link, expected_link, "{}", path.display());
        let mut count = 0;
        for packet in reader.by_ref() {
            let packet = packet.unwrap_or_else(|e| panic!("{e}"));
            count += 1;
            let at = format!("{} packet {count}", path.display());
            if packet.is_truncated() {
                // The captures' snaplen is 256: the headers are whole, the payload is cut.
                let ihl = usize::from(packet.datagram[0] & 0x0f) * 4;
                let tcp =
                    TcpRepr::parse(&packet.datagram[ihl..]).unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(
                    packet.wire_len > packet.datagram.len() && !tcp.payload.is_empty(),
                    "{at}"
                );
                truncated.push(at);
                continue;
            }
            let (ip, payload) =
                IpRepr::parse(&packet.datagram).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(ip.protocol(), 6, "{at}");
            assert!(ip.trailer().is_empty(), "{at}: Ethernet padding left in");
            TcpRepr::parse(payload).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(packet.wire_len, packet.datagram.len(), "{at}");
        }
        assert!(count > 0, "{} yielded no datagram", path.display());
        assert_eq!(
            reader.skipped(),
            0,
            "{}: a record without IP",
            path.display()
        );
    }
    // Only persist__default's four full-sized data segments exceed the 256-byte snaplen.
    assert_eq!(truncated.len(), 4, "{truncated:?}");
    assert!(
        truncated.iter().all(|at| at.contains("persist__default")),
        "{truncated:?}"
    );
}

#[test]
fn first_syn_of_syn_retries() {
    let path = reference_files()
        .into_iter()
        .find(|p| p.ends_with("syn_retries__syn_retries_3.wire.pcap"))
        .expect("syn_retries__syn_retries_3.wire.pcap is among the reference captures");
    let packets = read_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let line = tcpdump_datagram(&packets[0].datagram);
    let (_, payload) = IpRepr::parse(&packets[0].datagram).unwrap();
    let syn = TcpRepr::parse(payload).unwrap();
    assert_eq!(syn.flags, TcpFlags::SYN);
    assert!(line.starts_with("IP 10.77.0.1."), "{line}");
    assert!(line.contains("Flags [S], seq "), "{line}");
    assert!(line.contains("options [mss 1460,sackOK,TS val "), "{line}");
    assert!(line.contains(" ecr 0,nop,wscale 10]"), "{line}");
    // The SYN is sent again and again, first after TCP_TIMEOUT_INIT (1 s), later backed off.
    let times: Vec<u64> = packets
        .iter()
        .filter(|p| tcpdump_datagram(&p.datagram).contains("Flags [S],"))
        .map(|p| p.time_ns)
        .collect();
    assert!(times.len() >= 4, "{times:?}");
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        (1_000_000_000..1_050_000_000).contains(&gaps[0]),
        "{gaps:?}"
    );
    assert!(gaps[gaps.len() - 1] >= 2 * gaps[0], "{gaps:?}");
}
