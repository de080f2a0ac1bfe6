//! tcplab-stack: a sans-IO TCP stack that behaves like Linux 6.18.
//!
//! Nothing here reads a clock, sleeps, spawns or does I/O. The [`Stack`] API falls in four kinds:
//! - getters: [`Stack::state`], [`Stack::tcp_info`], [`Stack::sockets`], [`Stack::sysctls`];
//! - inputs: [`Stack::handle_packet`] (one IP datagram), [`Stack::handle_timeout`];
//! - application commands shaped like the socket syscalls, returning `Result<_, Errno>`:
//!   `socket`, `bind`, `listen`, `accept`, `connect`, `send`, `recv`, `shutdown`, `close`,
//!   `close_blocking` (a close() that waits for SO_LINGER),
//!   `setsockopt`, `getsockopt`;
//! - outputs, to drain after every input or command: [`Stack::poll_transmit`] (or, without
//!   the copy, [`Stack::poll_transmit_owned`] and [`Stack::recycle_transmit`]),
//!   [`Stack::poll_timeout`], [`Stack::poll_event`].
//!
//! Bad input never panics and never corrupts state: a malformed or unacceptable segment is
//! dropped and counted with a [`DropReason`]; the peer's misbehaviour surfaces as an [`Event`].

pub mod addr_pair;
pub mod api;
pub mod assembler;
pub mod cc;
pub mod ctx;
pub mod errno;
pub mod hash;
pub mod info;
pub mod input;
pub mod isn;
pub mod lazy;
pub mod listen;
pub mod metrics;
pub mod output;
pub mod rtt;
pub mod seq;
pub mod socket;
pub mod ss;
pub mod stack;
pub mod sysctl;
pub mod time;
pub mod timer;
pub mod timewait;
pub mod wheel;

pub use api::{
    Domain, Event, Fd, Shutdown, SockOpt, SockOptName, TcpState, TimerName, Trace, Transmit,
};
pub use ctx::{Datagram, OutputFilter};
pub use errno::Errno;
pub use stack::{DropReason, Stack, StackConfig};
pub use sysctl::Sysctls;
pub use time::{Hz, Instant};
