//! A connection's two addresses in 16 bytes, for the small records a million of which can be
//! alive at once (time-wait and request sockets). Two `SocketAddr`s take 64 bytes; an IPv4
//! pair fits in 12 inline, and an IPv6 pair (rarer, and carrying flow label and scope id) is
//! boxed. The conversion is lossless: [`AddrPair::local`] and [`AddrPair::remote`] give back
//! exactly the `SocketAddr`s it was made from.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// See the module docs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AddrPair {
    V4 {
        local_ip: u32,
        remote_ip: u32,
        local_port: u16,
        remote_port: u16,
    },
    /// IPv6, or a pair that mixes the families: held as given.
    Other(Box<(SocketAddr, SocketAddr)>),
}

impl AddrPair {
    pub fn new(local: SocketAddr, remote: SocketAddr) -> AddrPair {
        match (local, remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => AddrPair::V4 {
                local_ip: u32::from(*l.ip()),
                remote_ip: u32::from(*r.ip()),
                local_port: l.port(),
                remote_port: r.port(),
            },
            _ => AddrPair::Other(Box::new((local, remote))),
        }
    }

    pub fn local(&self) -> SocketAddr {
        match self {
            AddrPair::V4 {
                local_ip,
                local_port,
                ..
            } => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(*local_ip), *local_port)),
            AddrPair::Other(p) => p.0,
        }
    }

    pub fn remote(&self) -> SocketAddr {
        match self {
            AddrPair::V4 {
                remote_ip,
                remote_port,
                ..
            } => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(*remote_ip), *remote_port)),
            AddrPair::Other(p) => p.1,
        }
    }

    /// Whether the pair is `(local, remote)`, as `SocketAddr` equality decides it.
    pub fn is(&self, local: &SocketAddr, remote: &SocketAddr) -> bool {
        match (self, local, remote) {
            (
                AddrPair::V4 {
                    local_ip,
                    remote_ip,
                    local_port,
                    remote_port,
                },
                SocketAddr::V4(l),
                SocketAddr::V4(r),
            ) => {
                *local_port == l.port()
                    && *remote_port == r.port()
                    && *local_ip == u32::from(*l.ip())
                    && *remote_ip == u32::from(*r.ip())
            }
            (AddrPair::Other(p), _, _) => p.0 == *local && p.1 == *remote,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv6Addr, SocketAddrV6};

    #[test]
    fn pairs_come_back_as_given() {
        let v4 = |a: [u8; 4], p| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), p);
        let v6_scoped = |scope| {
            let ip = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
            SocketAddr::V6(SocketAddrV6::new(ip, 443, 0x12345, scope))
        };
        let v6 = v6_scoped(7);
        let cases = [
            (v4([10, 0, 0, 1], 80), v4([192, 168, 1, 2], 65535)),
            (v4([0, 0, 0, 0], 0), v4([255, 255, 255, 255], 1)),
            (v6, v6),
            (v4([10, 0, 0, 1], 80), v6),
        ];
        for (l, r) in cases {
            let p = AddrPair::new(l, r);
            assert_eq!((p.local(), p.remote()), (l, r));
            assert!(p.is(&l, &r));
            assert_eq!(p.is(&r, &l), l == r);
        }
        let p = AddrPair::new(cases[0].0, cases[0].1);
        assert!(!p.is(&cases[0].0, &v4([192, 168, 1, 2], 65534)));
        assert!(!p.is(&v4([10, 0, 0, 2], 80), &cases[0].1));
        // The scope id is part of an IPv6 address's identity, as in `SocketAddr` equality.
        assert!(!AddrPair::new(v6, v6).is(&v6, &v6_scoped(8)));
    }

    #[test]
    fn a_pair_is_two_words() {
        assert_eq!(std::mem::size_of::<AddrPair>(), 16);
    }
}
