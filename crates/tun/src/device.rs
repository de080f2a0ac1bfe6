//! A layer-3 TUN device with the kernel's side of the link configured.
//!
//! The device is created with `IFF_TUN | IFF_NO_PI` (every read and write is one bare IPv4 or
//! IPv6 datagram, no packet-information header) and without `IFF_VNET_HDR`, so the kernel
//! advertises no segmentation offload on it and hands over datagrams no longer than the MTU.
//! It is not persistent: the kernel removes it when the descriptor closes.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use tun_rs::{DeviceBuilder, SyncDevice};

use crate::Error;

/// Linux: IFNAMSIZ − 1, the longest interface name.
const MAX_NAME_LEN: usize = 15;

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunConfig {
    /// The interface name, as `ip link` shows it.
    pub name: String,
    /// The link MTU: the kernel sends nothing longer, and the stack sizes its MSS from it.
    pub mtu: u16,
    /// The kernel's own address on the link and the prefix routed through the device.
    pub kernel_addr: (IpAddr, u8),
}

/// An open TUN device. Reads and writes never block.
pub struct TunDevice {
    dev: SyncDevice,
    name: String,
    mtu: u32,
}

impl std::fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunDevice")
            .field("name", &self.name)
            .field("mtu", &self.mtu)
            .finish_non_exhaustive()
    }
}

impl TunDevice {
    /// Creates the device in the calling thread's network namespace, gives the kernel its
    /// address, sets the MTU and brings the link up.
    pub fn open(config: &TunConfig) -> Result<TunDevice, Error> {
        let name = &config.name;
        check_name(name)?;
        let (addr, prefix) = config.kernel_addr;
        let builder = DeviceBuilder::new()
            .name(name.clone())
            .mtu(config.mtu)
            .packet_information(false)
            .offload(false);
        let builder = match addr {
            IpAddr::V4(a) => builder.ipv4(a, prefix, None),
            IpAddr::V6(a) => builder.ipv6(a, prefix),
        };
        let dev = builder
            .enable(true)
            .build_sync()
            .map_err(|e| open_error(name, e))?;
        dev.set_nonblocking(true)
            .map_err(|source| Error::Configure {
                dev: name.clone(),
                action: "make the descriptor non-blocking".into(),
                source,
            })?;
        let mtu = dev.mtu().map_err(|source| Error::Configure {
            dev: name.clone(),
            action: "read the MTU".into(),
            source,
        })?;
        Ok(TunDevice {
            dev,
            name: name.clone(),
            mtu: u32::from(mtu),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MTU the kernel reports for the device.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Reads one datagram into `buf`; `None` when nothing is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        recv_on(&self.dev, &self.name, buf)
    }

    /// Writes one datagram. `Ok(false)` when the kernel would not take it now (a full backlog,
    /// or a datagram it rejects as invalid): it is lost, as on a NIC whose queue is full, and
    /// TCP recovers it.
    pub fn send(&self, datagram: &[u8]) -> Result<bool, Error> {
        send_on(&self.dev, &self.name, datagram)
    }
}

impl AsFd for TunDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.as_fd()
    }
}

/// Reads one frame or datagram; `None` when nothing is waiting.
pub(crate) fn recv_on(
    dev: &SyncDevice,
    name: &str,
    buf: &mut [u8],
) -> Result<Option<usize>, Error> {
    loop {
        match dev.recv(buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Error::Io {
                    dev: name.to_string(),
                    action: "read",
                    source,
                });
            }
        }
    }
}

/// Writes one frame or datagram; `Ok(false)` when the kernel would not take it now.
pub(crate) fn send_on(dev: &SyncDevice, name: &str, bytes: &[u8]) -> Result<bool, Error> {
    loop {
        match dev.send(bytes) {
            Ok(_) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(nix::libc::ENOBUFS)
                    || e.raw_os_error() == Some(nix::libc::EINVAL) =>
            {
                return Ok(false);
            }
            Err(source) => {
                return Err(Error::Io {
                    dev: name.to_string(),
                    action: "write",
                    source,
                });
            }
        }
    }
}

/// Checks an interface name before any system call.
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    let bad_name = |why: &str| Error::Open {
        dev: name.to_string(),
        reason: format!("{why}; pick another name with --dev"),
    };
    if name.is_empty() {
        return Err(bad_name("the name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(bad_name("Linux interface names are at most 15 bytes long"));
    }
    if name == "." || name == ".." || name.contains(['/', ':', '%']) {
        return Err(bad_name(
            "an interface name cannot be . or .. or contain / : or %",
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad_name("an interface name cannot contain spaces"));
    }
    Ok(())
}

/// Explains a failed create in the words of the usual causes.
pub(crate) fn open_error(dev: &str, e: io::Error) -> Error {
    use nix::libc;
    let hint = match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            " (creating a TUN device needs CAP_NET_ADMIN: run as root)"
        }
        Some(libc::ENOENT | libc::ENODEV | libc::ENXIO) => {
            " (is the tun driver there? /dev/net/tun must exist: `modprobe tun`)"
        }
        Some(libc::EBUSY) => " (another process holds a device of that name: pick another --dev)",
        Some(libc::EINVAL) => {
            " (a device of that name may already exist and not be a TUN device, or the MTU or \
             address is out of range)"
        }
        _ => "",
    };
    Error::Open {
        dev: dev.to_string(),
        reason: format!("{e}{hint}"),
    }
}
