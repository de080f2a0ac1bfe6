//! tcplab-tun: the sans-IO stack on a Linux TUN device, in real time.
//!
//! - [`netns::enter`] moves the calling thread into a named network namespace
//!   (`/var/run/netns/NAME`, as `ip netns` makes them), so the device is created there;
//! - [`TunDevice`] is a layer-3 TUN device (`IFF_TUN | IFF_NO_PI`: every read and write is one
//!   bare IPv4 or IPv6 datagram) with the kernel's side of the link configured: an address
//!   and prefix, the MTU, the link up;
//! - [`Driver`] runs a [`tcplab_stack::Stack`] on the device: a monotonic [`Clock`] gives the
//!   stack its `Instant` (nanoseconds since the driver started), the stack's `poll_timeout`
//!   becomes the `ppoll` timeout, every datagram read goes to `handle_packet` and every
//!   datagram from `poll_transmit` is written to the device.
//!
//! - [`TapDevice`] is a layer-2 TAP device, a port of a bridge, with [`EthernetFramer`] to put
//!   the stack's datagrams in Ethernet frames (how a tcplab host joins kernel hosts in a
//!   scenario run on real namespaces).
//!
//! The device is opened with the `tun-rs` crate; this crate itself has no `unsafe`.
//!
//! Guarantees: the stack's MTU is the device's, read back after it is set, and no datagram
//! longer than that MTU is ever written (one would be a stack bug: it is dropped and counted in
//! [`Stats::oversize`]). Nothing here panics on what the network or the kernel sends.
//! Everything the driver creates goes when it is dropped: the device is not persistent, so
//! the kernel removes it when its descriptor closes.

mod device;
mod driver;
pub mod netns;
mod tap;

use std::io;

pub use device::{TunConfig, TunDevice};
pub use driver::{Clock, Direction, Driver, Stats};
pub use tap::{ETH_HEADER, EthernetFramer, TapDevice, parse_mac};

/// What went wrong, as a sentence that says how to fix it where there is a fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `/var/run/netns/NAME` could not be opened or entered.
    #[error("cannot enter network namespace {name}: {reason}")]
    Netns { name: String, reason: String },
    /// `/dev/net/tun` could not be opened or the device not created.
    #[error("cannot create TUN device {dev}: {reason}")]
    Open { dev: String, reason: String },
    /// The device exists but could not be configured.
    #[error("cannot {action} on TUN device {dev}: {source}")]
    Configure {
        dev: String,
        action: String,
        #[source]
        source: io::Error,
    },
    /// Reading, writing or waiting failed.
    #[error("TUN device {dev}: {action} failed: {source}")]
    Io {
        dev: String,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    /// The capture file could not be written.
    #[error(transparent)]
    Pcap(#[from] tcplab_pcap::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_starts_at_zero_and_goes_forward() {
        let clock = Clock::start();
        let a = clock.now();
        let b = clock.now();
        assert!(a <= b);
        assert!(a.as_nanos() < 1_000_000_000);
        assert!(clock.wall_ns(b) >= clock.wall_ns(a));
    }

    #[test]
    fn bad_names_are_refused_before_any_system_call() {
        for name in ["", "much-too-long-name", "a/b", "a b", ".."] {
            let e = TunDevice::open(&TunConfig {
                name: name.into(),
                mtu: 1500,
                kernel_addr: ("10.7.0.1".parse().unwrap(), 24),
            })
            .unwrap_err();
            assert!(matches!(e, Error::Open { .. }), "{name:?}: {e}");
            assert!(e.to_string().contains("--dev"), "{e}");
        }
        for name in ["", "a/b", ".."] {
            let e = netns::enter(name).unwrap_err();
            assert!(e.to_string().contains("no slash"), "{e}");
        }
        let e = netns::enter("tcplab-no-such-namespace").unwrap_err();
        assert!(
            e.to_string()
                .contains("ip netns add tcplab-no-such-namespace"),
            "{e}"
        );
    }
}
