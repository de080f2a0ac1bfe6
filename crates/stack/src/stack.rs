//! The stack: sockets, the 4-tuple map, the timer queue, and the API of the crate docs.

use std::net::{IpAddr, SocketAddr};

use crate::api::{Domain, Event, Fd, Shutdown, SockOpt, SockOptName, TcpState, Transmit};
use crate::errno::Errno;
use crate::sysctl::Sysctls;
use crate::time::{Hz, Instant};

/// How a stack is set up.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// The host's own addresses (IPv4 and/or IPv6).
    pub addrs: Vec<IpAddr>,
    pub sysctls: Sysctls,
    pub hz: Hz,
    /// Seeds the ISN key and ephemeral-port choice, so a run is reproducible.
    pub seed: u64,
    /// Link MTU (the MSS offered is MTU − 40 for IPv4, − 60 for IPv6).
    pub mtu: u32,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            addrs: Vec::new(),
            sysctls: Sysctls::default(),
            hz: Hz::default(),
            seed: 0,
            mtu: 1500,
        }
    }
}

/// Why an incoming datagram was dropped (Linux: enum skb_drop_reason).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum DropReason {
    Malformed,
    NotOurAddress,
    NotTcp,
    BadChecksum,
    NoSocket,
    PawsReject,
    OutOfWindow,
    InvalidAck,
    RstNotInWindow,
    ListenOverflow,
    Other,
}

/// A TCP stack for one host.
#[derive(Debug)]
pub struct Stack {
    config: StackConfig,
}

#[allow(unused_variables)]
impl Stack {
    pub fn new(config: StackConfig) -> Stack {
        Stack { config }
    }
    pub fn sysctls(&self) -> &Sysctls {
        &self.config.sysctls
    }
    pub fn sysctls_mut(&mut self) -> &mut Sysctls {
        &mut self.config.sysctls
    }
    pub fn state(&self, fd: Fd) -> Option<TcpState> {
        None
    }
    pub fn handle_packet(&mut self, now: Instant, datagram: &[u8]) {}
    pub fn handle_timeout(&mut self, now: Instant) {}
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        None
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    pub fn poll_event(&mut self) -> Option<(Fd, Event)> {
        None
    }
    pub fn socket(&mut self, domain: Domain) -> Result<Fd, Errno> {
        Err(Errno::EAFNOSUPPORT)
    }
    pub fn bind(&mut self, fd: Fd, addr: SocketAddr) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn listen(&mut self, fd: Fd, backlog: i32) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn accept(&mut self, now: Instant, fd: Fd) -> Result<(Fd, SocketAddr), Errno> {
        Err(Errno::EBADF)
    }
    /// Non-blocking: returns `Err(EINPROGRESS)` once the SYN is queued; `Event::Connected` follows.
    pub fn connect(&mut self, now: Instant, fd: Fd, addr: SocketAddr) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn send(&mut self, now: Instant, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    /// `Ok(0)` is end of stream; `Err(EAGAIN)` means nothing to read yet.
    pub fn recv(&mut self, now: Instant, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    pub fn shutdown(&mut self, now: Instant, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn close(&mut self, now: Instant, fd: Fd) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn setsockopt(&mut self, now: Instant, fd: Fd, opt: SockOpt) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
    pub fn getsockopt(&mut self, fd: Fd, name: SockOptName) -> Result<SockOpt, Errno> {
        Err(Errno::EBADF)
    }
}
