//! Link types and how to find the IP datagram inside each one's records.

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The NFLOG attribute that carries the packet (Linux: NFULA_PAYLOAD in
/// include/uapi/linux/netfilter/nfnetlink_log.h).
const NFULA_PAYLOAD: u16 = 9;

/// The link types this crate reads, with their LINKTYPE_ numbers from the tcpdump.org list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// 1: Ethernet II, optionally with one 802.1Q or 802.1ad tag.
    Ethernet,
    /// 101: the record is the IP datagram. The only type [`crate::PcapWriter`] writes.
    Raw,
    /// 113: Linux "cooked" capture (`tcpdump -i any` before libpcap 1.10), 16-byte header.
    LinuxSll,
    /// 228: the record is an IPv4 datagram.
    Ipv4,
    /// 229: the record is an IPv6 datagram.
    Ipv6,
    /// 239: Linux netfilter log (`tcpdump -i nflog:N`), the datagram in a TLV.
    Nflog,
    /// 276: Linux "cooked" capture v2, 20-byte header.
    LinuxSll2,
}

impl LinkType {
    /// The link type with this LINKTYPE_ number, if this crate reads it.
    pub fn from_number(number: u32) -> Option<LinkType> {
        Some(match number {
            1 => LinkType::Ethernet,
            101 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            239 => LinkType::Nflog,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// Its LINKTYPE_ number, as written in a pcap file header.
    pub fn number(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Nflog => 239,
            LinkType::LinuxSll2 => 276,
        }
    }

    /// Where the IP datagram starts and ends in a captured record (`None` when the record
    /// carries something other than IP), or why the record is malformed. `big_endian` is the
    /// file's byte order, which NFLOG's TLV headers follow.
    pub(crate) fn ip_span(
        self,
        record: &[u8],
        big_endian: bool,
    ) -> Result<Option<(usize, usize)>, String> {
        let start = match self {
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => Some(0),
            LinkType::Ethernet => ethernet(record)?,
            LinkType::LinuxSll => by_ethertype(u16_be(record, 14, "Linux cooked (SLL)")?, 16),
            LinkType::LinuxSll2 => by_ethertype(u16_be(record, 0, "Linux cooked v2 (SLL2)")?, 20),
            LinkType::Nflog => nflog(record, big_endian)?,
        };
        let Some(start) = start else {
            return Ok(None);
        };
        if start > record.len() {
            return Err(format!(
                "its {}-byte record is shorter than its {start}-byte link header",
                record.len()
            ));
        }
        // Ethernet pads short frames to 60 bytes: the datagram ends where its own length
        // field says, when the record holds that much.
        let end = match ip_len(&record[start..]) {
            Some(len) if start + len <= record.len() => start + len,
            _ => record.len(),
        };
        Ok(Some((start, end)))
    }
}

/// The datagram's length according to its IPv4 total length or IPv6 payload length field,
/// when the header is there and the field is usable (not an IPv6 jumbogram's 0).
pub(crate) fn ip_len(datagram: &[u8]) -> Option<usize> {
    match datagram.first()? >> 4 {
        4 => Some(usize::from(u16::from_be_bytes([
            *datagram.get(2)?,
            *datagram.get(3)?,
        ])))
        .filter(|&len| len >= 20),
        6 => Some(usize::from(u16::from_be_bytes([
            *datagram.get(4)?,
            *datagram.get(5)?,
        ])))
        .filter(|&len| len > 0)
        .map(|len| len + 40),
        _ => None,
    }
}

fn ethernet(frame: &[u8]) -> Result<Option<usize>, String> {
    let ethertype = u16_be(frame, 12, "Ethernet")?;
    if matches!(ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ) {
        return Ok(by_ethertype(u16_be(frame, 16, "VLAN-tagged Ethernet")?, 18));
    }
    Ok(by_ethertype(ethertype, 14))
}

fn by_ethertype(ethertype: u16, header_len: usize) -> Option<usize> {
    matches!(ethertype, ETHERTYPE_IPV4 | ETHERTYPE_IPV6).then_some(header_len)
}

/// Linux: nfulnl_build_packet() in net/netfilter/nfnetlink_log.c writes a 4-byte nfgenmsg
/// and then netlink attributes, each padded to 4 bytes.
fn nflog(record: &[u8], big_endian: bool) -> Result<Option<usize>, String> {
    if record.len() < 4 {
        return Err(format!(
            "its {}-byte record is shorter than the 4-byte NFLOG header",
            record.len()
        ));
    }
    let mut at = 4;
    while at + 4 <= record.len() {
        let field = |i: usize| {
            let bytes = [record[i], record[i + 1]];
            if big_endian {
                u16::from_be_bytes(bytes)
            } else {
                u16::from_le_bytes(bytes)
            }
        };
        let (len, kind) = (usize::from(field(at)), field(at + 2) & 0x3fff);
        if len < 4 {
            return Err(format!(
                "its NFLOG attribute at byte {at} has length {len}, below the 4 of its own header"
            ));
        }
        if kind == NFULA_PAYLOAD {
            return Ok(Some(at + 4));
        }
        at += len.next_multiple_of(4);
    }
    Ok(None)
}

fn u16_be(record: &[u8], at: usize, what: &str) -> Result<u16, String> {
    match record.get(at..at + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(format!(
            "its {}-byte record is too short for a {what} header",
            record.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4: [u8; 20] = [
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    #[test]
    fn ethernet_padding_and_vlan() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        frame.extend_from_slice(&IPV4);
        frame.resize(64, 0);
        assert_eq!(
            LinkType::Ethernet.ip_span(&frame, false),
            Ok(Some((18, 38)))
        );
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.resize(42, 0);
        assert_eq!(LinkType::Ethernet.ip_span(&arp, false), Ok(None));
        assert!(LinkType::Ethernet.ip_span(&frame[..13], false).is_err());
    }

    #[test]
    fn cooked_headers() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&IPV4);
        assert_eq!(LinkType::LinuxSll.ip_span(&sll, false), Ok(Some((16, 36))));
        let mut sll2 = vec![0x86, 0xdd];
        sll2.resize(20, 0);
        sll2.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, 6, 64]);
        sll2.resize(60, 0);
        assert_eq!(
            LinkType::LinuxSll2.ip_span(&sll2, false),
            Ok(Some((20, 60)))
        );
    }

    #[test]
    fn nflog_in_both_byte_orders() {
        for big_endian in [false, true] {
            let u16s = |v: u16| {
                if big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            let mut record = vec![2, 0, 0, 77];
            // A 5-byte prefix attribute, padded to 8, then the payload.
            record.extend_from_slice(&u16s(5));
            record.extend_from_slice(&u16s(10));
            record.extend_from_slice(&[b'x', 0, 0, 0]);
            record.extend_from_slice(&u16s(24));
            record.extend_from_slice(&u16s(NFULA_PAYLOAD));
            record.extend_from_slice(&IPV4);
            assert_eq!(
                LinkType::Nflog.ip_span(&record, big_endian),
                Ok(Some((16, 36)))
            );
            record[4..6].copy_from_slice(&u16s(2));
            assert!(LinkType::Nflog.ip_span(&record, big_endian).is_err());
        }
    }

    #[test]
    fn numbers_round_trip() {
        for n in 0..300 {
            if let Some(link) = LinkType::from_number(n) {
                assert_eq!(link.number(), n);
            }
        }
    }
}
