//! What the per-socket code needs from the stack while it runs: the time, the configuration,
//! and the queues its results go to (datagrams to send, events for the application).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use tcplab_wire::ip::{IPV4_HEADER_LEN, IPV6_HEADER_LEN};
use tcplab_wire::{IpHeader, TcpOption, TcpRepr, emit_ip_tcp_gather};

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

/// Decides whether a datagram may leave the host, like netfilter's OUTPUT chain: a refused
/// datagram never reaches the wire and its sender sees a failed transmit (EPERM).
pub type OutputFilter = Box<dyn FnMut(&Datagram) -> bool>;

/// The stack's output queues and counters.
#[derive(Default)]
pub struct Output {
    /// The host's OUTPUT chain, if any.
    pub filter: Option<OutputFilter>,
    /// Datagrams the filter refused.
    pub filtered: u64,
    pub tx: VecDeque<Datagram>,
    pub events: VecDeque<(Fd, Event)>,
    pub drops: BTreeMap<DropReason, u64>,
    /// Linux: the netns-wide challenge-ACK budget (tcp_challenge_ack_limit per second).
    pub challenge_window_start: Jiffies,
    pub challenge_count: u32,
    /// Orphaned full sockets (Linux: tcp_orphan_count), kept by the stack.
    pub orphans: u32,
    /// The orphan count as the limit checks see it (Linux: tcp_orphan_cache, refreshed every
    /// TCP_ORPHAN_TIMER_PERIOD = 100 ms by tcp_orphan_update()).
    pub orphan_cache: u32,
    /// The 100 ms period the cache was last refreshed in.
    pub orphan_cache_period: u64,
    /// The per-destination metrics cache (tcp_metrics).
    pub metrics: crate::metrics::MetricsCache,
    /// Whether to collect `trace`.
    pub tracing: bool,
    pub trace: VecDeque<crate::api::Trace>,
    ip_ident: u16,
    /// Datagram buffers `poll_transmit` has emptied, reused by `emit` so that a steady flow
    /// of segments allocates nothing (at most [`SPARE_BYTES`] of them are kept).
    spare: Vec<Vec<u8>>,
    spare_bytes: usize,
    /// An empty option list whose allocation `Sock::transmit` reuses for every segment.
    pub tcp_options: Vec<TcpOption>,
}

/// Capacity of the emptied datagram buffers kept for reuse: a burst of a full congestion
/// window at MTU 1500 is a few thousand datagrams.
const SPARE_BYTES: usize = 8 << 20;

impl Output {
    /// Serializes one segment with its IP header into the transmit queue. Returns false when
    /// the output filter refused it (Linux: tcp_transmit_skb() returning an error).
    pub fn emit(&mut self, src: SocketAddr, dst: SocketAddr, repr: &TcpRepr<'_>) -> bool {
        self.emit_tos(src, dst, repr, 0)
    }

    /// [`Output::emit`] with the IP TOS / traffic-class byte (its low bits are the ECN field).
    pub fn emit_tos(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        repr: &TcpRepr<'_>,
        tos: u8,
    ) -> bool {
        self.emit_gather(src, dst, repr, tos, &[repr.payload])
    }

    /// [`Output::emit_tos`] with the payload as consecutive parts in place of
    /// `repr.payload` (the send ring's slices, copied once, straight into the datagram).
    pub fn emit_gather(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        repr: &TcpRepr<'_>,
        tos: u8,
        parts: &[&[u8]],
    ) -> bool {
        let ip = IpHeader {
            src: src.ip(),
            dst: dst.ip(),
            ttl: 64,
            tos,
            ident: self.ip_ident,
            dont_frag: true,
            flow_label: 0,
        };
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let mut bytes = match self.spare.pop() {
            Some(b) => {
                self.spare_bytes -= b.capacity();
                b
            }
            None => Vec::new(),
        };
        // Every byte up to the datagram's length is written below (headers, options with
        // their padding, payload), so a recycled buffer's old bytes need no zeroing: only a
        // buffer too short for this datagram grows (and is zeroed) by the difference.
        let payload_len: usize = parts.iter().map(|p| p.len()).sum();
        // The exact IP header length (no IPv4 options) lets a buffer recycled from a datagram
        // of the same size be reused as it is.
        let ip_len = if src.is_ipv4() {
            IPV4_HEADER_LEN
        } else {
            IPV6_HEADER_LEN
        };
        let need = ip_len + repr.header_len() + payload_len;
        if bytes.len() < need {
            bytes.resize(need, 0);
        }
        match emit_ip_tcp_gather(&mut bytes, &ip, repr, parts) {
            Ok(len) => {
                bytes.truncate(len);
                let d = Datagram { bytes, src, dst };
                if let Some(filter) = self.filter.as_mut()
                    && !filter(&d)
                {
                    self.filtered += 1;
                    return false;
                }
                self.tx.push_back(d);
                true
            }
            // Only a family mismatch can fail here, and sockets never mix families.
            Err(e) => {
                tracing::error!("cannot emit segment {src} > {dst}: {e}");
                false
            }
        }
    }

    /// Takes back a datagram's buffer once its bytes have been handed out.
    /// Capacity of the emptied datagram buffers kept for reuse.
    pub fn spare_bytes(&self) -> usize {
        self.spare_bytes
    }

    pub fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare_bytes + bytes.capacity() <= SPARE_BYTES {
            self.spare_bytes += bytes.capacity();
            self.spare.push(bytes);
        }
    }

    pub fn event(&mut self, fd: Option<Fd>, ev: Event) {
        if let Some(fd) = fd {
            self.events.push_back((fd, ev));
        }
    }

    /// Linux: tcp_orphan_update() runs every 100 ms; called at the start of every step with
    /// the step's time, it refreshes the cache once per period with the count as it stood.
    pub fn refresh_orphan_cache(&mut self, now: crate::time::Instant) {
        let period = now.as_nanos() / 100_000_000;
        if period != self.orphan_cache_period {
            self.orphan_cache_period = period;
            self.orphan_cache = self.orphans;
        }
    }

    /// Records a trace event when tracing is on.
    pub fn trace(&mut self, t: crate::api::Trace) {
        if self.tracing {
            self.trace.push_back(t);
        }
    }

    pub fn drop(&mut self, reason: DropReason) {
        *self.drops.entry(reason).or_insert(0) += 1;
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("tx", &self.tx.len())
            .field("events", &self.events.len())
            .field("drops", &self.drops)
            .field("filter", &self.filter.is_some())
            .field("filtered", &self.filtered)
            .field("orphans", &self.orphans)
            .finish()
    }
}

/// The environment of one step of the stack.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub now: Instant,
    pub hz: Hz,
    /// Model the timer wheel's rounding (see [`Ctx::fires`]).
    pub wheel: bool,
    pub sys: &'a Sysctls,
    pub out: &'a mut Output,
}

impl Ctx<'_> {
    /// The jiffies counter now (Linux: tcp_jiffies32).
    pub fn jiffies(&self) -> Jiffies {
        self.hz.jiffies_at(self.now)
    }

    /// The expiry of a timer armed now for `j` jiffies: Linux sets `expires = jiffies + j`.
    /// This is what `ss` counts down to.
    pub fn expires(&self, j: Jiffies) -> Instant {
        Instant::from_nanos((self.jiffies() + j) * self.hz.tick_ns())
    }

    /// When a timer armed now with expiry `expires` runs. Without the wheel model, at its
    /// expiry tick; with it, where Linux's timer wheel puts it (kernel/time/timer.c,
    /// calc_wheel_index()): the expiry is rounded up past the granularity of the wheel level
    /// its distance falls in — one tick below 63 ticks, 8 below 504, 64 below 4032, 512 below
    /// 32256, and so on — so long timers run late by up to an eighth of their length.
    pub fn fires(&self, expires: Instant) -> Instant {
        if !self.wheel {
            return expires;
        }
        let tick = self.hz.tick_ns();
        let clk = self.jiffies();
        let exp = expires.as_nanos().div_ceil(tick);
        Instant::from_nanos(wheel_bucket_expiry(clk, exp) * tick)
    }

    /// When a timer armed now for `j` jiffies runs.
    pub fn deadline(&self, j: Jiffies) -> Instant {
        self.fires(self.expires(j))
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

/// Linux: calc_wheel_index() and calc_index() — the jiffy at which the wheel runs a timer
/// with expiry `expires` armed when the wheel's clock is `clk`. Levels are 64 buckets of
/// 8^level ticks; a timer is rounded up (never early) to its level's granularity.
pub fn wheel_bucket_expiry(clk: Jiffies, expires: Jiffies) -> Jiffies {
    const LVL_CLK_SHIFT: u32 = 3;
    const LVL_BITS: u32 = 6;
    const LVL_DEPTH: u32 = 9;
    let delta = expires.saturating_sub(clk);
    let mut lvl = 0;
    while lvl + 1 < LVL_DEPTH {
        // LVL_START(n) = (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT)
        let start_next = ((1u64 << LVL_BITS) - 1) << (lvl * LVL_CLK_SHIFT);
        if delta < start_next {
            break;
        }
        lvl += 1;
    }
    let shift = lvl * LVL_CLK_SHIFT;
    ((expires >> shift) + 1) << shift
}

#[cfg(test)]
mod tests {
    use super::{Output, wheel_bucket_expiry};
    use tcplab_wire::{SackBlock, TcpFlags, TcpOption, TcpRepr};

    /// A segment with options that need padding and a payload in two parts.
    fn segment() -> TcpRepr<'static> {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1,
            ack: 2,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 502,
            checksum: 0,
            urgent: 0,
            options: vec![
                TcpOption::Nop,
                TcpOption::Sack(vec![SackBlock { left: 5, right: 9 }]),
                TcpOption::WindowScale(7),
            ],
            option_padding: Vec::new(),
            payload: &[],
        }
    }

    #[test]
    fn recycled_buffers_are_written_over_completely() {
        // The same segment into a fresh buffer and into recycled buffers full of other bytes,
        // longer and shorter than the datagram: the bytes must not differ.
        for (src, dst) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[::1]:40000", "[::2]:80"),
        ] {
            let (src, dst) = (src.parse().unwrap(), dst.parse().unwrap());
            let parts: [&[u8]; 2] = [b"hello ", b"world"];
            let mut fresh = Output::default();
            assert!(fresh.emit_gather(src, dst, &segment(), 2, &parts));
            let want = fresh.tx.pop_front().unwrap().bytes;
            for garbage in [vec![0xa5; 1500], vec![0xff; want.len() - 3], Vec::new()] {
                let mut out = Output::default();
                out.recycle(garbage);
                assert!(out.emit_gather(src, dst, &segment(), 2, &parts));
                assert_eq!(out.tx.pop_front().unwrap().bytes, want);
            }
        }
    }

    #[test]
    fn wheel_rounds_up_by_level_granularity() {
        // Level 0: one tick late at most (the "armed at the edge of a tick" guard).
        assert_eq!(wheel_bucket_expiry(1000, 1051), 1052);
        // Level 1 (63..504 ticks): rounded past a multiple of 8.
        assert_eq!(wheel_bucket_expiry(1000, 1102), 1104);
        assert_eq!(wheel_bucket_expiry(1000, 1104), 1112);
        // A 120 s RTO at HZ=250 (30000 ticks, level 3): a multiple of 512 above, as the kernel
        // trace shows (120.832 s measured from a tick boundary).
        assert_eq!(wheel_bucket_expiry(0, 30_000), 30_208);
        // TIME_WAIT's 60 s at HZ=250 (15000 ticks): up to 512 ticks late.
        assert_eq!(wheel_bucket_expiry(0, 15_000), 15_360);
    }
}
