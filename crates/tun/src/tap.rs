//! A layer-2 TAP device: every read and write is one Ethernet frame.
//!
//! A TAP device is what lets a tcplab host sit on a Linux bridge beside kernel hosts with
//! nothing of the kernel's between its stack and the wire: no routing, no TTL decrement, no
//! netfilter of its own. The caller adds and strips the 14-byte Ethernet header
//! ([`EthernetFramer`]): the stack speaks IP, and the frames carry the lab's fixed MAC
//! addresses (the lab gives every host a static neighbour entry, so no ARP or neighbour
//! discovery is needed).
//!
//! The device has no address: it is a switch port, enslaved to a bridge by the caller. It is
//! created up, without offloads, and is not persistent: the kernel removes it when the
//! descriptor closes.

use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use tun_rs::{DeviceBuilder, Layer, SyncDevice};

use crate::Error;
use crate::device::{check_name, open_error, recv_on, send_on};

/// The length of an Ethernet II header.
pub const ETH_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// An open TAP device. Reads and writes never block.
pub struct TapDevice {
    dev: SyncDevice,
    name: String,
}

impl std::fmt::Debug for TapDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TapDevice {
    /// Creates TAP device `name` in the calling thread's network namespace, with link MTU
    /// `mtu`, and brings it up.
    pub fn open(name: &str, mtu: u16) -> Result<TapDevice, Error> {
        check_name(name)?;
        let dev = DeviceBuilder::new()
            .name(name.to_string())
            .layer(Layer::L2)
            .mtu(mtu)
            .packet_information(false)
            .offload(false)
            .enable(true)
            .build_sync()
            .map_err(|e| open_error(name, e))?;
        dev.set_nonblocking(true)
            .map_err(|source| Error::Configure {
                dev: name.to_string(),
                action: "make the descriptor non-blocking".into(),
                source,
            })?;
        Ok(TapDevice {
            dev,
            name: name.to_string(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads one frame into `buf`; `None` when nothing is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        recv_on(&self.dev, &self.name, buf)
    }

    /// Writes one frame; `Ok(false)` when the kernel would not take it now (it is lost, as
    /// on a NIC whose queue is full).
    pub fn send(&self, frame: &[u8]) -> Result<bool, Error> {
        send_on(&self.dev, &self.name, frame)
    }
}

impl AsFd for TapDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.as_fd()
    }
}

/// Ethernet II framing for a host with a fixed MAC address on a segment whose hosts' MAC
/// addresses are all known in advance.
#[derive(Clone, Debug)]
pub struct EthernetFramer {
    /// This host's MAC address: the source of every frame, the destination it accepts.
    pub mac: [u8; 6],
    /// Every other host: its IP address and MAC address.
    pub neighbours: Vec<(IpAddr, [u8; 6])>,
}

impl EthernetFramer {
    /// Writes the header for `datagram` in front of it into `frame`; the frame's length, or
    /// `None` when the datagram is not IP, its destination is not a known neighbour, or
    /// `frame` is too short.
    pub fn frame(&self, datagram: &[u8], frame: &mut [u8]) -> Option<usize> {
        let (ethertype, dst) = match datagram.first()? >> 4 {
            4 if datagram.len() >= 20 => {
                let d: [u8; 4] = datagram[16..20].try_into().ok()?;
                (ETHERTYPE_IPV4, IpAddr::from(d))
            }
            6 if datagram.len() >= 40 => {
                let d: [u8; 16] = datagram[24..40].try_into().ok()?;
                (ETHERTYPE_IPV6, IpAddr::from(d))
            }
            _ => return None,
        };
        let mac = self.neighbours.iter().find(|(a, _)| *a == dst)?.1;
        let len = ETH_HEADER + datagram.len();
        let out = frame.get_mut(..len)?;
        out[0..6].copy_from_slice(&mac);
        out[6..12].copy_from_slice(&self.mac);
        out[12..14].copy_from_slice(&ethertype.to_be_bytes());
        out[ETH_HEADER..].copy_from_slice(datagram);
        Some(len)
    }

    /// The IP datagram in a frame addressed to this host (or broadcast or multicast);
    /// `None` for anything else (ARP, other hosts' unicast, a runt).
    pub fn datagram<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        if frame.len() < ETH_HEADER {
            return None;
        }
        let dst = &frame[0..6];
        let group = dst[0] & 1 == 1;
        if dst != self.mac && !group {
            return None;
        }
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        matches!(ethertype, ETHERTYPE_IPV4 | ETHERTYPE_IPV6).then(|| &frame[ETH_HEADER..])
    }
}

/// Parses `02:74:6c:00:00:01`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer() -> EthernetFramer {
        EthernetFramer {
            mac: [2, 0, 0, 0, 0, 1],
            neighbours: vec![
                ("10.0.0.2".parse().unwrap(), [2, 0, 0, 0, 0, 2]),
                ("fd00::2".parse().unwrap(), [2, 0, 0, 0, 0, 3]),
            ],
        }
    }

    fn v4(dst: [u8; 4]) -> Vec<u8> {
        let mut d = vec![0u8; 40];
        d[0] = 0x45;
        d[16..20].copy_from_slice(&dst);
        d
    }

    #[test]
    fn frames_carry_the_neighbours_mac_and_round_trip() {
        let f = framer();
        let d = v4([10, 0, 0, 2]);
        let mut buf = [0u8; 100];
        let n = f.frame(&d, &mut buf).unwrap();
        assert_eq!(n, 54);
        assert_eq!(&buf[0..6], &[2, 0, 0, 0, 0, 2]);
        assert_eq!(&buf[6..12], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&buf[12..14], &[8, 0]);
        // Addressed to the neighbour, not to us: not ours to take.
        assert_eq!(f.datagram(&buf[..n]), None);
        buf[0..6].copy_from_slice(&f.mac);
        assert_eq!(f.datagram(&buf[..n]), Some(&d[..]));
        let mut v6 = vec![0u8; 60];
        v6[0] = 0x60;
        v6[24..40].copy_from_slice(&"fd00::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
        let n = f.frame(&v6, &mut buf).unwrap();
        assert_eq!(&buf[0..6], &[2, 0, 0, 0, 0, 3]);
        assert_eq!(&buf[12..14], &[0x86, 0xdd]);
        assert_eq!(n, 74);
    }

    #[test]
    fn unknown_destinations_short_buffers_and_non_ip_are_refused() {
        let f = framer();
        let mut buf = [0u8; 100];
        assert_eq!(f.frame(&v4([10, 0, 0, 9]), &mut buf), None);
        assert_eq!(f.frame(&v4([10, 0, 0, 2]), &mut buf[..20]), None);
        assert_eq!(f.frame(&[0x45], &mut buf), None);
        assert_eq!(f.frame(&[], &mut buf), None);
        let mut arp = [0u8; 42];
        arp[0..6].copy_from_slice(&[0xff; 6]);
        arp[12..14].copy_from_slice(&[8, 6]);
        assert_eq!(f.datagram(&arp), None);
        assert_eq!(f.datagram(&arp[..10]), None);
    }

    #[test]
    fn macs_parse() {
        assert_eq!(
            parse_mac("02:74:6c:00:00:0a"),
            Some([2, 0x74, 0x6c, 0, 0, 10])
        );
        assert_eq!(parse_mac("02:74:6c:00:00"), None);
        assert_eq!(parse_mac("02:74:6c:00:00:0a:01"), None);
        assert_eq!(parse_mac("zz:74:6c:00:00:0a"), None);
    }
}
