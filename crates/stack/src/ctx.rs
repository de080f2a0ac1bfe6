//! What the per-socket code needs from the stack while it runs: the time, the configuration,
//! and the queues its results go to (datagrams to send, events for the application).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use tcplab_wire::{IpHeader, TcpRepr, emit_ip_tcp};

use crate::api::{Event, Fd};
use crate::stack::DropReason;
use crate::sysctl::Sysctls;
use crate::time::{Hz, Instant, Jiffies};

/// A datagram ready for `poll_transmit`.
#[derive(Clone, Debug)]
pub struct Datagram {
    pub bytes: Vec<u8>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// The stack's output queues and counters.
#[derive(Debug, Default)]
pub struct Output {
    pub tx: VecDeque<Datagram>,
    pub events: VecDeque<(Fd, Event)>,
    pub drops: BTreeMap<DropReason, u64>,
    /// Linux: the netns-wide challenge-ACK budget (tcp_challenge_ack_limit per second).
    pub challenge_window_start: Jiffies,
    pub challenge_count: u32,
    /// Orphaned full sockets (Linux: tcp_orphan_count), kept by the stack.
    pub orphans: u32,
    ip_ident: u16,
}

impl Output {
    /// Serializes one segment with its IP header into the transmit queue.
    pub fn emit(&mut self, src: SocketAddr, dst: SocketAddr, repr: &TcpRepr<'_>) {
        let ip = IpHeader {
            src: src.ip(),
            dst: dst.ip(),
            ttl: 64,
            tos: 0,
            ident: self.ip_ident,
            dont_frag: true,
            flow_label: 0,
        };
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let mut bytes = vec![0u8; 60 + repr.buffer_len()];
        match emit_ip_tcp(&mut bytes, &ip, repr) {
            Ok(len) => {
                bytes.truncate(len);
                self.tx.push_back(Datagram { bytes, src, dst });
            }
            // Only a family mismatch can fail here, and sockets never mix families.
            Err(e) => tracing::error!("cannot emit segment {src} > {dst}: {e}"),
        }
    }

    pub fn event(&mut self, fd: Option<Fd>, ev: Event) {
        if let Some(fd) = fd {
            self.events.push_back((fd, ev));
        }
    }

    pub fn drop(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_insert(0) += 1;
    }
}

/// The environment of one step of the stack.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub now: Instant,
    pub hz: Hz,
    pub sys: &'a Sysctls,
    pub out: &'a mut Output,
}

impl Ctx<'_> {
    /// The jiffies counter now (Linux: tcp_jiffies32).
    pub fn jiffies(&self) -> Jiffies {
        self.hz.jiffies_at(self.now)
    }

    /// The instant a timer armed now for `j` jiffies fires: Linux sets `expires = jiffies + j`
    /// and the timer runs at that tick.
    pub fn deadline(&self, j: Jiffies) -> Instant {
        Instant::from_nanos((self.jiffies() + j) * self.hz.tick_ns())
    }

    /// Milliseconds on the TCP timestamp clock (Linux: tcp_time_stamp_ms()).
    pub fn ts_ms(&self) -> u32 {
        self.now.as_millis() as u32
    }

    /// Linux: __tcp_oow_rate_limited() — at most one out-of-window reply per
    /// tcp_invalid_ratelimit per socket. `last` holds jiffies+1 of the last reply.
    pub fn oow_rate_limited(&self, last: &mut Option<Jiffies>) -> bool {
        let now = self.jiffies();
        if let Some(prev) = *last {
            let elapsed = now.wrapping_sub(prev);
            let limit = self
                .hz
                .msecs_to_jiffies(u64::from(self.sys.tcp_invalid_ratelimit));
            if elapsed < limit {
                return true;
            }
        }
        *last = Some(now);
        false
    }
}
