//! `net.ipv4.tcp_*` knobs the stack obeys, with Linux 6.18's defaults
//! (linux-tcp-timers.md §3; `tcp_sk_init()` in net/ipv4/tcp_ipv4.c).
//!
//! Times are stored in the unit the sysctl is written in (seconds, milliseconds or
//! microseconds, as its name or the kernel's table says) and converted to jiffies when armed.

/// Every TCP sysctl the stack obeys. Field names are the sysctl names after `net.ipv4.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctls {
    pub tcp_syn_retries: u8,
    pub tcp_syn_linear_timeouts: u8,
    pub tcp_synack_retries: u8,
    pub tcp_retries1: u8,
    pub tcp_retries2: u8,
    pub tcp_orphan_retries: u8,
    pub tcp_max_orphans: u32,
    /// Seconds.
    pub tcp_fin_timeout: u32,
    /// Seconds.
    pub tcp_keepalive_time: u32,
    /// Seconds.
    pub tcp_keepalive_intvl: u32,
    pub tcp_keepalive_probes: u8,
    pub tcp_max_tw_buckets: u32,
    pub tcp_tw_reuse: u8,
    /// Milliseconds.
    pub tcp_tw_reuse_delay: u32,
    pub tcp_rfc1337: u8,
    /// Microseconds.
    pub tcp_rto_min_us: u32,
    /// Milliseconds.
    pub tcp_rto_max_ms: u32,
    pub tcp_thin_linear_timeouts: u8,
    pub tcp_early_retrans: u8,
    pub tcp_recovery: u8,
    pub tcp_pingpong_thresh: u8,
    pub tcp_comp_sack_delay_ns: u64,
    pub tcp_comp_sack_slack_ns: u64,
    pub tcp_comp_sack_nr: u8,
    pub tcp_backlog_ack_defer: u8,
    pub tcp_abort_on_overflow: u8,
    pub tcp_max_syn_backlog: u32,
    pub tcp_syncookies: u8,
    /// Milliseconds.
    pub tcp_invalid_ratelimit: u32,
    pub tcp_challenge_ack_limit: u32,
    pub tcp_slow_start_after_idle: u8,
    pub tcp_frto: u8,
    pub tcp_no_metrics_save: u8,
    pub tcp_timestamps: u8,
    pub tcp_sack: u8,
    pub tcp_dsack: u8,
    pub tcp_window_scaling: u8,
    pub tcp_ecn: u8,
    /// min, default, max (bytes).
    pub tcp_rmem: [u32; 3],
    /// min, default, max (bytes).
    pub tcp_wmem: [u32; 3],
    pub tcp_adv_win_scale: i8,
    pub tcp_app_win: u8,
    pub tcp_moderate_rcvbuf: u8,
    pub tcp_notsent_lowat: u32,
    pub tcp_min_snd_mss: u32,
    pub tcp_base_mss: u32,
    pub tcp_mtu_probing: u8,
    pub tcp_congestion_control: CongestionAlgorithm,
    /// `ip_local_port_range`: first and last ephemeral port.
    pub ip_local_port_range: [u16; 2],
    /// `net.core.somaxconn`.
    pub somaxconn: u32,
    /// `net.core.rmem_max`: cap on SO_RCVBUF (before doubling).
    pub rmem_max: u32,
    /// `net.core.wmem_max`: cap on SO_SNDBUF (before doubling).
    pub wmem_max: u32,
}

/// `tcp_congestion_control`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CongestionAlgorithm {
    Reno,
    Cubic,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            tcp_syn_retries: 6,
            tcp_syn_linear_timeouts: 4,
            tcp_synack_retries: 5,
            tcp_retries1: 3,
            tcp_retries2: 15,
            tcp_orphan_retries: 0,
            tcp_max_orphans: 131_072,
            tcp_fin_timeout: 60,
            tcp_keepalive_time: 7200,
            tcp_keepalive_intvl: 75,
            tcp_keepalive_probes: 9,
            tcp_max_tw_buckets: 131_072,
            tcp_tw_reuse: 2,
            tcp_tw_reuse_delay: 1000,
            tcp_rfc1337: 0,
            tcp_rto_min_us: 200_000,
            tcp_rto_max_ms: 120_000,
            tcp_thin_linear_timeouts: 0,
            tcp_early_retrans: 3,
            tcp_recovery: 1,
            tcp_pingpong_thresh: 1,
            tcp_comp_sack_delay_ns: 1_000_000,
            tcp_comp_sack_slack_ns: 100_000,
            tcp_comp_sack_nr: 44,
            tcp_backlog_ack_defer: 1,
            tcp_abort_on_overflow: 0,
            tcp_max_syn_backlog: 2048,
            tcp_syncookies: 1,
            tcp_invalid_ratelimit: 500,
            tcp_challenge_ack_limit: i32::MAX as u32,
            tcp_slow_start_after_idle: 1,
            tcp_frto: 2,
            tcp_no_metrics_save: 0,
            tcp_timestamps: 1,
            tcp_sack: 1,
            tcp_dsack: 1,
            tcp_window_scaling: 1,
            tcp_ecn: 2,
            tcp_rmem: [4096, 131_072, 6_291_456],
            tcp_wmem: [4096, 16_384, 4_194_304],
            tcp_adv_win_scale: 1,
            tcp_app_win: 31,
            tcp_moderate_rcvbuf: 1,
            tcp_notsent_lowat: u32::MAX,
            tcp_min_snd_mss: 48,
            tcp_base_mss: 1024,
            tcp_mtu_probing: 0,
            tcp_congestion_control: CongestionAlgorithm::Cubic,
            ip_local_port_range: [32768, 60999],
            somaxconn: 4096,
            rmem_max: 212_992,
            wmem_max: 212_992,
        }
    }
}
