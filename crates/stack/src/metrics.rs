//! The per-destination metrics cache (Linux: net/ipv4/tcp_metrics.c): a connection that ends
//! leaves its smoothed RTT and RTT variance for the next connection to the same host, whose
//! first RTO then starts from the cached RTT when that is larger than its own handshake's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::ctx::Ctx;
use crate::socket::Sock;
use crate::time::{Instant, Jiffies};

/// Linux: TCP_METRICS_TIMEOUT — an entry older than an hour is not used.
const TCP_METRICS_TIMEOUT_SECS: u64 = 60 * 60;

/// What is cached for one destination (Linux: struct tcp_metrics_block).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpMetrics {
    /// TCP_METRIC_RTT, in `srtt_us` units (8 × µs).
    pub rtt: u32,
    /// TCP_METRIC_RTTVAR, in `mdev_us` units.
    pub rttvar: u32,
    pub stamp: Instant,
}

/// The cache of one stack (Linux keeps one per network namespace).
pub type MetricsCache = BTreeMap<IpAddr, TcpMetrics>;

impl Sock {
    /// Linux: tcp_update_metrics() — called when the connection ends (TIME_WAIT, or the ACK
    /// of our FIN in LAST_ACK).
    pub fn update_metrics(&self, ctx: &mut Ctx<'_>) {
        if ctx.sys.tcp_no_metrics_save != 0 {
            return;
        }
        let dst = self.remote.ip();
        let srtt = self.rtt.srtt_us;
        if self.icsk_backoff > 0 || srtt == 0 {
            // This connection failed to estimate the RTT: forget the cached one.
            if let Some(tm) = ctx.out.metrics.get_mut(&dst) {
                tm.rtt = 0;
            }
            return;
        }
        let tm = ctx.out.metrics.entry(dst).or_default();
        let m = i64::from(tm.rtt) - i64::from(srtt);
        // An overestimated RTT is better than an underestimated one: a larger new RTT is
        // stored as is, a smaller one only pulls the cached value down by an eighth.
        tm.rtt = if m <= 0 {
            srtt
        } else {
            (i64::from(tm.rtt) - (m >> 3)) as u32
        };
        let mut dev = (m.unsigned_abs() >> 1) as u32;
        dev = dev.max(self.rtt.mdev_us);
        tm.rttvar = if dev >= tm.rttvar {
            dev
        } else {
            tm.rttvar - ((tm.rttvar - dev) >> 2)
        };
        tm.stamp = ctx.now;
    }

    /// Linux: the cached-RTT part of tcp_init_metrics() — the RTO from a cached RTT larger
    /// than the handshake's, if any.
    pub fn rto_from_metrics(&self, ctx: &Ctx<'_>) -> Option<Jiffies> {
        if ctx.sys.tcp_no_metrics_save != 0 {
            return None;
        }
        let tm = ctx.out.metrics.get(&self.remote.ip())?;
        if tm.rtt == 0 || (ctx.now - tm.stamp).as_secs() >= TCP_METRICS_TIMEOUT_SECS {
            return None;
        }
        if tm.rtt <= self.rtt.srtt_us {
            return None;
        }
        // crtt /= 8 * USEC_PER_SEC / HZ: 8 × µs to jiffies.
        let crtt = u64::from(tm.rtt) / (8 * 1_000_000 / u64::from(ctx.hz.0));
        let rto_min = ctx.hz.usecs_to_jiffies(u64::from(ctx.sys.tcp_rto_min_us));
        Some(crtt + (2 * crtt).max(rto_min))
    }
}
