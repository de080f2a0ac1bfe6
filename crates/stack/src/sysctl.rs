//! `net.ipv4.tcp_*` knobs the stack obeys, with Linux 6.18's defaults
//! (linux-tcp-timers.md §3; `tcp_sk_init()` in net/ipv4/tcp_ipv4.c), and their text forms:
//! one knob by name ([`Sysctls::set`], [`Sysctls::get`]), a sysctl.conf file
//! ([`Sysctls::apply_conf`], [`Sysctls::to_conf`]) and a host's `/proc/sys` tree
//! ([`Sysctls::from_proc`]).
//!
//! Times are stored in the unit the sysctl is written in (seconds, milliseconds or
//! microseconds, as its name or the kernel's table says) and converted to jiffies when armed.
//!
//! Guarantees: a value is accepted exactly when Linux 6.18 would accept it (same ranges, same
//! integer syntax: decimal, `0x` hex or leading-`0` octal, as `proc_get_long()` reads it), with
//! three deliberate narrowings noted on the knobs: negative values of `int` knobs whose field
//! is unsigned are refused, a vector must be written whole, and only `cubic` and `reno` exist.
//! A refused value or file leaves the struct unchanged. Nothing here panics on any input.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::errno::Errno;

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

impl CongestionAlgorithm {
    /// The name Linux reads and writes (`cubic`).
    pub fn name(self) -> &'static str {
        match self {
            CongestionAlgorithm::Reno => "reno",
            CongestionAlgorithm::Cubic => "cubic",
        }
    }

    /// The algorithm with this name, if the stack has it.
    pub fn from_name(name: &str) -> Option<CongestionAlgorithm> {
        match name {
            "reno" => Some(CongestionAlgorithm::Reno),
            "cubic" => Some(CongestionAlgorithm::Cubic),
            _ => None,
        }
    }
}

impl fmt::Display for CongestionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
            // Linux 6.18: tcp_rmem[2] is 32 MiB, which makes the window scale 10.
            tcp_rmem: [4096, 131_072, 33_554_432],
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

/// `HZ` of the reference kernel: a seconds knob stored in jiffies must fit `INT_MAX / HZ`
/// (`proc_dointvec_jiffies()`).
const HZ: i128 = 250;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const ULONG_MAX: i128 = u64::MAX as i128;
/// `ip_unprivileged_port_start`'s default: the ephemeral range may not start below it.
const IP_PROT_SOCK: i128 = 1024;
/// `SOCK_MIN_RCVBUF` and `SOCK_MIN_SNDBUF` on x86-64, the floors of `net.core.rmem_max` and
/// `net.core.wmem_max`.
const SOCK_MIN_RCVBUF: i128 = 2304;
const SOCK_MIN_SNDBUF: i128 = 4608;
/// `MAX_TCP_SYNCNT`, the cap of `tcp_syn_retries` and `tcp_syn_linear_timeouts`.
const MAX_TCP_SYNCNT: i128 = 127;

/// Why a sysctl write was refused. Linux refuses all of these with `EINVAL`, except an
/// unknown name (`ENOENT`: no such file under /proc/sys) and an unknown congestion control
/// (`ENOENT` from `tcp_set_default_congestion_control()`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SysctlError {
    #[error("unknown sysctl {name}")]
    Unknown { name: String },
    #[error("{name}: expected {}, got \"{value}\"", count_text(*.count))]
    NotInteger {
        name: &'static str,
        count: usize,
        value: String,
    },
    #[error("{name}: {value} is out of range {min}..={max}")]
    OutOfRange {
        name: &'static str,
        value: String,
        min: i64,
        max: u64,
    },
    #[error("{name}: first port {low} is above last port {high}")]
    PortRangeInverted {
        name: &'static str,
        low: u16,
        high: u16,
    },
    #[error("{name}: first port {low} is below ip_unprivileged_port_start {IP_PROT_SOCK}")]
    PortRangePrivileged { name: &'static str, low: u16 },
    #[error("{name}: expected cubic or reno, got \"{value}\"")]
    UnknownCongestionControl { name: &'static str, value: String },
}

/// "an integer" or "3 integers", for [`SysctlError::NotInteger`].
fn count_text(count: usize) -> String {
    if count == 1 {
        "an integer".to_string()
    } else {
        format!("{count} integers")
    }
}

impl SysctlError {
    /// The errno a write to `/proc/sys` fails with.
    pub fn errno(&self) -> Errno {
        match self {
            SysctlError::Unknown { .. } | SysctlError::UnknownCongestionControl { .. } => {
                Errno::ENOENT
            }
            _ => Errno::EINVAL,
        }
    }
}

/// A sysctl.conf line that could not be applied: `fin.conf:3:28: net.ipv4.tcp_fin_timeout:
/// expected an integer, got "abc"`. Line and column are 1-based; the column points at the
/// value for a refused value and at the name otherwise.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {kind}")]
pub struct ConfError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: ConfErrorKind,
}

/// What was wrong with a sysctl.conf line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfErrorKind {
    #[error("expected \"name = value\", got \"{text}\"")]
    MissingEquals { text: String },
    #[error("expected a sysctl name before \"=\"")]
    EmptyName,
    #[error(transparent)]
    Sysctl(#[from] SysctlError),
}

/// A `/proc/sys` tree that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("{}: expected a directory such as /proc/sys", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot read {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// What [`Sysctls::from_proc`] read from a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcSysctls {
    /// The host's values; the defaults where a knob was missing or refused.
    pub sysctls: Sysctls,
    /// Knobs the running kernel does not have (older kernels), by full name.
    pub missing: Vec<&'static str>,
    /// Knobs whose host value the stack cannot take (`bbr`, a negative `int`), with why.
    pub rejected: Vec<SysctlError>,
}

/// The value syntax of a knob and the limits its `proc_handler` enforces.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// One integer in `min..=max`.
    Int { min: i128, max: i128 },
    /// `n` integers, each in `min..=max`.
    Vector { n: usize, min: i128, max: i128 },
    /// `ip_local_port_range`: two ports, first ≤ last, first ≥ `IP_PROT_SOCK`.
    PortRange,
    /// `tcp_congestion_control`: an algorithm name.
    Congestion,
}

/// One knob: its full name, syntax, and how to read and store it.
struct Knob {
    name: &'static str,
    shape: Shape,
    get: fn(&Sysctls) -> String,
    /// Stores already-validated integers (unused slots are zero).
    put: fn(&mut Sysctls, [i128; 3]),
}

/// `proc_dou8vec_minmax` with its default bounds.
const U8: Shape = Shape::Int { min: 0, max: 255 };
/// `proc_dointvec` / `proc_dointvec_ms_jiffies` into an unsigned field.
const INT: Shape = Shape::Int {
    min: 0,
    max: INT_MAX,
};
/// `proc_dointvec_jiffies`: seconds whose jiffies fit an int.
const SECS: Shape = Shape::Int {
    min: 0,
    max: INT_MAX / HZ,
};
/// `proc_doulongvec_minmax` without bounds.
const ULONG: Shape = Shape::Int {
    min: 0,
    max: ULONG_MAX,
};

macro_rules! int_knob {
    ($name:literal, $field:ident, $shape:expr) => {
        Knob {
            name: $name,
            shape: $shape,
            get: |s| s.$field.to_string(),
            put: |s, v| s.$field = v[0] as _,
        }
    };
}

macro_rules! vec3_knob {
    ($name:literal, $field:ident) => {
        Knob {
            name: $name,
            shape: Shape::Vector {
                n: 3,
                min: 1,
                max: INT_MAX,
            },
            get: |s| join_tabs(&s.$field),
            put: |s, v| s.$field = [v[0] as u32, v[1] as u32, v[2] as u32],
        }
    };
}

/// Every knob, sorted by name (the order of `sysctl -a` and of [`Sysctls::to_conf`]).
static KNOBS: &[Knob] = &[
    int_knob!(
        "net.core.rmem_max",
        rmem_max,
        Shape::Int {
            min: SOCK_MIN_RCVBUF,
            max: INT_MAX
        }
    ),
    int_knob!("net.core.somaxconn", somaxconn, INT),
    int_knob!(
        "net.core.wmem_max",
        wmem_max,
        Shape::Int {
            min: SOCK_MIN_SNDBUF,
            max: INT_MAX
        }
    ),
    Knob {
        name: "net.ipv4.ip_local_port_range",
        shape: Shape::PortRange,
        get: |s| join_tabs(&s.ip_local_port_range),
        put: |s, v| s.ip_local_port_range = [v[0] as u16, v[1] as u16],
    },
    int_knob!("net.ipv4.tcp_abort_on_overflow", tcp_abort_on_overflow, U8),
    int_knob!(
        "net.ipv4.tcp_adv_win_scale",
        tcp_adv_win_scale,
        Shape::Int { min: -31, max: 31 }
    ),
    int_knob!(
        "net.ipv4.tcp_app_win",
        tcp_app_win,
        Shape::Int { min: 0, max: 31 }
    ),
    int_knob!(
        "net.ipv4.tcp_backlog_ack_defer",
        tcp_backlog_ack_defer,
        Shape::Int { min: 0, max: 1 }
    ),
    int_knob!("net.ipv4.tcp_base_mss", tcp_base_mss, INT),
    int_knob!(
        "net.ipv4.tcp_challenge_ack_limit",
        tcp_challenge_ack_limit,
        INT
    ),
    int_knob!(
        "net.ipv4.tcp_comp_sack_delay_ns",
        tcp_comp_sack_delay_ns,
        ULONG
    ),
    int_knob!("net.ipv4.tcp_comp_sack_nr", tcp_comp_sack_nr, U8),
    int_knob!(
        "net.ipv4.tcp_comp_sack_slack_ns",
        tcp_comp_sack_slack_ns,
        ULONG
    ),
    Knob {
        name: "net.ipv4.tcp_congestion_control",
        shape: Shape::Congestion,
        get: |s| s.tcp_congestion_control.name().to_string(),
        put: |_, _| {},
    },
    int_knob!("net.ipv4.tcp_dsack", tcp_dsack, U8),
    int_knob!(
        "net.ipv4.tcp_early_retrans",
        tcp_early_retrans,
        Shape::Int { min: 0, max: 4 }
    ),
    int_knob!("net.ipv4.tcp_ecn", tcp_ecn, Shape::Int { min: 0, max: 2 }),
    int_knob!("net.ipv4.tcp_fin_timeout", tcp_fin_timeout, SECS),
    int_knob!("net.ipv4.tcp_frto", tcp_frto, U8),
    int_knob!("net.ipv4.tcp_invalid_ratelimit", tcp_invalid_ratelimit, INT),
    int_knob!("net.ipv4.tcp_keepalive_intvl", tcp_keepalive_intvl, SECS),
    int_knob!("net.ipv4.tcp_keepalive_probes", tcp_keepalive_probes, U8),
    int_knob!("net.ipv4.tcp_keepalive_time", tcp_keepalive_time, SECS),
    int_knob!("net.ipv4.tcp_max_orphans", tcp_max_orphans, INT),
    int_knob!("net.ipv4.tcp_max_syn_backlog", tcp_max_syn_backlog, INT),
    int_knob!("net.ipv4.tcp_max_tw_buckets", tcp_max_tw_buckets, INT),
    int_knob!(
        "net.ipv4.tcp_min_snd_mss",
        tcp_min_snd_mss,
        Shape::Int {
            min: 48,
            max: 65535
        }
    ),
    int_knob!("net.ipv4.tcp_moderate_rcvbuf", tcp_moderate_rcvbuf, U8),
    int_knob!("net.ipv4.tcp_mtu_probing", tcp_mtu_probing, U8),
    int_knob!("net.ipv4.tcp_no_metrics_save", tcp_no_metrics_save, U8),
    int_knob!(
        "net.ipv4.tcp_notsent_lowat",
        tcp_notsent_lowat,
        Shape::Int {
            min: 0,
            max: UINT_MAX
        }
    ),
    int_knob!("net.ipv4.tcp_orphan_retries", tcp_orphan_retries, U8),
    int_knob!(
        "net.ipv4.tcp_pingpong_thresh",
        tcp_pingpong_thresh,
        Shape::Int { min: 1, max: 255 }
    ),
    int_knob!("net.ipv4.tcp_recovery", tcp_recovery, U8),
    int_knob!("net.ipv4.tcp_retries1", tcp_retries1, U8),
    int_knob!("net.ipv4.tcp_retries2", tcp_retries2, U8),
    int_knob!("net.ipv4.tcp_rfc1337", tcp_rfc1337, U8),
    vec3_knob!("net.ipv4.tcp_rmem", tcp_rmem),
    int_knob!(
        "net.ipv4.tcp_rto_max_ms",
        tcp_rto_max_ms,
        Shape::Int {
            min: 1000,
            max: 120_000
        }
    ),
    int_knob!(
        "net.ipv4.tcp_rto_min_us",
        tcp_rto_min_us,
        Shape::Int {
            min: 1,
            max: INT_MAX
        }
    ),
    int_knob!("net.ipv4.tcp_sack", tcp_sack, U8),
    int_knob!(
        "net.ipv4.tcp_slow_start_after_idle",
        tcp_slow_start_after_idle,
        U8
    ),
    int_knob!(
        "net.ipv4.tcp_syn_linear_timeouts",
        tcp_syn_linear_timeouts,
        Shape::Int {
            min: 0,
            max: MAX_TCP_SYNCNT
        }
    ),
    int_knob!(
        "net.ipv4.tcp_syn_retries",
        tcp_syn_retries,
        Shape::Int {
            min: 1,
            max: MAX_TCP_SYNCNT
        }
    ),
    int_knob!("net.ipv4.tcp_synack_retries", tcp_synack_retries, U8),
    int_knob!("net.ipv4.tcp_syncookies", tcp_syncookies, U8),
    int_knob!(
        "net.ipv4.tcp_thin_linear_timeouts",
        tcp_thin_linear_timeouts,
        U8
    ),
    int_knob!("net.ipv4.tcp_timestamps", tcp_timestamps, U8),
    int_knob!(
        "net.ipv4.tcp_tw_reuse",
        tcp_tw_reuse,
        Shape::Int { min: 0, max: 2 }
    ),
    // proc_douintvec_minmax, 1..=TCP_PAWS_MSL * MSEC_PER_SEC.
    int_knob!(
        "net.ipv4.tcp_tw_reuse_delay",
        tcp_tw_reuse_delay,
        Shape::Int {
            min: 1,
            max: 60_000
        }
    ),
    int_knob!("net.ipv4.tcp_window_scaling", tcp_window_scaling, U8),
    vec3_knob!("net.ipv4.tcp_wmem", tcp_wmem),
];

/// The names in [`KNOBS`], in the same order.
static NAMES: [&str; 52] = [
    "net.core.rmem_max",
    "net.core.somaxconn",
    "net.core.wmem_max",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_adv_win_scale",
    "net.ipv4.tcp_app_win",
    "net.ipv4.tcp_backlog_ack_defer",
    "net.ipv4.tcp_base_mss",
    "net.ipv4.tcp_challenge_ack_limit",
    "net.ipv4.tcp_comp_sack_delay_ns",
    "net.ipv4.tcp_comp_sack_nr",
    "net.ipv4.tcp_comp_sack_slack_ns",
    "net.ipv4.tcp_congestion_control",
    "net.ipv4.tcp_dsack",
    "net.ipv4.tcp_early_retrans",
    "net.ipv4.tcp_ecn",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_frto",
    "net.ipv4.tcp_invalid_ratelimit",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_max_orphans",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.tcp_min_snd_mss",
    "net.ipv4.tcp_moderate_rcvbuf",
    "net.ipv4.tcp_mtu_probing",
    "net.ipv4.tcp_no_metrics_save",
    "net.ipv4.tcp_notsent_lowat",
    "net.ipv4.tcp_orphan_retries",
    "net.ipv4.tcp_pingpong_thresh",
    "net.ipv4.tcp_recovery",
    "net.ipv4.tcp_retries1",
    "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_rfc1337",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_rto_max_ms",
    "net.ipv4.tcp_rto_min_us",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_syn_linear_timeouts",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_thin_linear_timeouts",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_tw_reuse_delay",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_wmem",
];

/// A vector the way `proc_dointvec` prints it: tab-separated.
fn join_tabs<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\t")
}

/// The dotted name for `name`, which sysctl(8) also accepts `/`-separated.
fn canonical_name(name: &str) -> String {
    name.trim().trim_start_matches('/').replace('/', ".")
}

/// The knob with this dotted name (the table is sorted, so a binary search finds it).
fn find_knob(name: &str) -> Option<&'static Knob> {
    KNOBS
        .binary_search_by(|k| k.name.cmp(name))
        .ok()
        .and_then(|i| KNOBS.get(i))
}

/// Why one integer token was refused.
enum IntError {
    /// Not an integer at all.
    Syntax,
    /// An integer too large for any sysctl.
    Overflow,
}

/// Reads one integer as the kernel does: an optional `-`, then `0x` hex, leading-`0` octal or
/// decimal (`strtoul(…, 0)`).
///
/// Linux: proc_get_long() in kernel/sysctl.c
fn proc_get_long(token: &str) -> Result<i128, IntError> {
    let (negative, body) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (radix, digits) =
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, hex)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() {
        return Err(IntError::Syntax);
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(IntError::Syntax)?;
        value = value * i128::from(radix) + i128::from(d);
        // strtoul stops at ULONG_MAX; anything past it is refused (and cannot overflow i128).
        if value > ULONG_MAX {
            return Err(IntError::Overflow);
        }
    }
    Ok(if negative { -value } else { value })
}

/// Parses `value` as `n` integers each in `min..=max`, reporting errors against `name`.
fn parse_ints(
    name: &'static str,
    value: &str,
    n: usize,
    min: i128,
    max: i128,
) -> Result<[i128; 3], SysctlError> {
    let not_integer = || SysctlError::NotInteger {
        name,
        count: n,
        value: value.trim().to_string(),
    };
    let tokens: Vec<&str> = value.split_whitespace().collect();
    if tokens.len() != n || n > 3 {
        return Err(not_integer());
    }
    let mut out = [0i128; 3];
    for (slot, token) in out.iter_mut().zip(&tokens) {
        let v = match proc_get_long(token) {
            Ok(v) => v,
            Err(IntError::Syntax) => return Err(not_integer()),
            Err(IntError::Overflow) => i128::MAX,
        };
        if v < min || v > max {
            return Err(SysctlError::OutOfRange {
                name,
                value: token.to_string(),
                min: i64::try_from(min).unwrap_or(i64::MIN),
                max: u64::try_from(max).unwrap_or(u64::MAX),
            });
        }
        *slot = v;
    }
    Ok(out)
}

impl Sysctls {
    /// Every knob's full name, sorted.
    pub fn names() -> &'static [&'static str] {
        &NAMES
    }

    /// Writes `value` to the knob `name` (`net.ipv4.tcp_fin_timeout` or
    /// `net/ipv4/tcp_fin_timeout`), validated as the kernel validates a write to /proc/sys.
    /// On error nothing changes.
    ///
    /// Linux: the proc_handler of each entry in net/ipv4/sysctl_net_ipv4.c and
    /// net/core/sysctl_net_core.c
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SysctlError> {
        let canonical = canonical_name(name);
        let knob = find_knob(&canonical).ok_or(SysctlError::Unknown { name: canonical })?;
        match knob.shape {
            Shape::Int { min, max } => {
                let v = parse_ints(knob.name, value, 1, min, max)?;
                (knob.put)(self, v);
            }
            Shape::Vector { n, min, max } => {
                let v = parse_ints(knob.name, value, n, min, max)?;
                (knob.put)(self, v);
            }
            Shape::PortRange => {
                let v = parse_ints(knob.name, value, 2, 1, 65535)?;
                // Both are within 1..=65535 here.
                let low = u16::try_from(v[0]).unwrap_or(u16::MAX);
                let high = u16::try_from(v[1]).unwrap_or(u16::MAX);
                // Linux: ipv4_local_port_range() refuses an inverted or privileged range.
                if high < low {
                    return Err(SysctlError::PortRangeInverted {
                        name: knob.name,
                        low,
                        high,
                    });
                }
                if i128::from(low) < IP_PROT_SOCK {
                    return Err(SysctlError::PortRangePrivileged {
                        name: knob.name,
                        low,
                    });
                }
                (knob.put)(self, v);
            }
            Shape::Congestion => {
                let trimmed = value.trim();
                let algo = CongestionAlgorithm::from_name(trimmed).ok_or_else(|| {
                    SysctlError::UnknownCongestionControl {
                        name: knob.name,
                        value: trimmed.to_string(),
                    }
                })?;
                self.tcp_congestion_control = algo;
            }
        }
        Ok(())
    }

    /// The knob's value as reading its /proc/sys file prints it (vectors tab-separated), or
    /// `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<String> {
        find_knob(&canonical_name(name)).map(|k| (k.get)(self))
    }

    /// Every knob in sysctl.conf syntax, one `name = value` line each, sorted by name.
    pub fn to_conf(&self) -> String {
        KNOBS
            .iter()
            .map(|k| format!("{} = {}\n", k.name, (k.get)(self)))
            .collect()
    }

    /// Like [`Sysctls::to_conf`], but only the knobs that differ from Linux's defaults.
    pub fn diff_conf(&self) -> String {
        let defaults = Sysctls::default();
        KNOBS
            .iter()
            .filter(|k| (k.get)(self) != (k.get)(&defaults))
            .map(|k| format!("{} = {}\n", k.name, (k.get)(self)))
            .collect()
    }

    /// Applies a sysctl.conf file: `name = value` lines, `#` and `;` comments, blank lines,
    /// and a leading `-` that makes a line's errors ignored, as sysctl(8) reads it. `file`
    /// names the text in errors. All or nothing: on error nothing changes.
    ///
    /// Linux: Preload() in procps-ng sysctl.c
    pub fn apply_conf(&mut self, text: &str, file: &str) -> Result<(), ConfError> {
        let mut next = self.clone();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if let Err((column, kind)) = next.apply_conf_line(raw) {
                return Err(ConfError {
                    file: file.to_string(),
                    line,
                    column,
                    kind,
                });
            }
        }
        *self = next;
        Ok(())
    }

    /// One sysctl.conf line; the error carries the 1-based column it points at.
    fn apply_conf_line(&mut self, raw: &str) -> Result<(), (usize, ConfErrorKind)> {
        let column_of = |part: &str| raw[..raw.len() - part.len()].chars().count() + 1;
        let mut rest = raw.trim_start();
        if rest.is_empty() || rest.starts_with('#') || rest.starts_with(';') {
            return Ok(());
        }
        let ignore_errors = rest.starts_with('-');
        if ignore_errors {
            rest = rest[1..].trim_start();
        }
        let result = match rest.split_once('=') {
            None => Err((
                column_of(rest),
                ConfErrorKind::MissingEquals {
                    text: rest.trim_end().to_string(),
                },
            )),
            Some((key, value)) => {
                let name = key.trim();
                let value_start = value.trim_start();
                if name.is_empty() {
                    Err((column_of(rest), ConfErrorKind::EmptyName))
                } else {
                    self.set(name, value_start.trim_end()).map_err(|e| {
                        let column = match e {
                            SysctlError::Unknown { .. } => column_of(rest),
                            _ => column_of(value_start),
                        };
                        (column, ConfErrorKind::Sysctl(e))
                    })
                }
            }
        };
        if ignore_errors { Ok(()) } else { result }
    }

    /// Linux's defaults with a sysctl.conf file applied.
    pub fn from_conf(text: &str, file: &str) -> Result<Sysctls, ConfError> {
        let mut s = Sysctls::default();
        s.apply_conf(text, file)?;
        Ok(s)
    }

    /// Reads a host's knobs from its `/proc/sys` tree (`root` is usually `/proc/sys`). Knobs
    /// the kernel lacks are listed in `missing`, values the stack cannot take in `rejected`;
    /// both keep Linux 6.18's default.
    pub fn from_proc(root: &Path) -> Result<ProcSysctls, ProcError> {
        if !root.is_dir() {
            return Err(ProcError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        let mut out = ProcSysctls {
            sysctls: Sysctls::default(),
            missing: Vec::new(),
            rejected: Vec::new(),
        };
        for knob in KNOBS {
            let path = knob
                .name
                .split('.')
                .fold(root.to_path_buf(), |p, part| p.join(part));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    if let Err(e) = out.sysctls.set(knob.name, &text) {
                        out.rejected.push(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => out.missing.push(knob.name),
                Err(source) => return Err(ProcError::Io { path, source }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A struct with every field moved off its default, to a value Linux accepts.
    fn all_changed() -> Sysctls {
        Sysctls {
            tcp_syn_retries: 3,
            tcp_syn_linear_timeouts: 0,
            tcp_synack_retries: 2,
            tcp_retries1: 4,
            tcp_retries2: 8,
            tcp_orphan_retries: 1,
            tcp_max_orphans: 1000,
            tcp_fin_timeout: 5,
            tcp_keepalive_time: 10,
            tcp_keepalive_intvl: 2,
            tcp_keepalive_probes: 3,
            tcp_max_tw_buckets: 10,
            tcp_tw_reuse: 1,
            tcp_tw_reuse_delay: 500,
            tcp_rfc1337: 1,
            tcp_rto_min_us: 5000,
            tcp_rto_max_ms: 60_000,
            tcp_thin_linear_timeouts: 1,
            tcp_early_retrans: 0,
            tcp_recovery: 3,
            tcp_pingpong_thresh: 3,
            tcp_comp_sack_delay_ns: 500_000,
            tcp_comp_sack_slack_ns: 10_000,
            tcp_comp_sack_nr: 0,
            tcp_backlog_ack_defer: 0,
            tcp_abort_on_overflow: 1,
            tcp_max_syn_backlog: 128,
            tcp_syncookies: 0,
            tcp_invalid_ratelimit: 100,
            tcp_challenge_ack_limit: 1000,
            tcp_slow_start_after_idle: 0,
            tcp_frto: 0,
            tcp_no_metrics_save: 1,
            tcp_timestamps: 0,
            tcp_sack: 0,
            tcp_dsack: 0,
            tcp_window_scaling: 0,
            tcp_ecn: 1,
            tcp_rmem: [1, 2, 3],
            tcp_wmem: [8192, 65536, 1_048_576],
            tcp_adv_win_scale: -2,
            tcp_app_win: 0,
            tcp_moderate_rcvbuf: 0,
            tcp_notsent_lowat: 16384,
            tcp_min_snd_mss: 536,
            tcp_base_mss: 512,
            tcp_mtu_probing: 1,
            tcp_congestion_control: CongestionAlgorithm::Reno,
            ip_local_port_range: [40000, 40009],
            somaxconn: 128,
            rmem_max: 4_194_304,
            wmem_max: 8192,
        }
    }

    #[test]
    fn names_are_sorted_unique_and_match_the_table() {
        assert!(
            NAMES.windows(2).all(|w| w[0] < w[1]),
            "NAMES must be sorted"
        );
        assert_eq!(KNOBS.len(), NAMES.len());
        for (k, n) in KNOBS.iter().zip(NAMES.iter()) {
            assert_eq!(k.name, *n);
        }
        assert_eq!(Sysctls::names().len(), 52);
    }

    #[test]
    fn every_knob_round_trips_through_conf() {
        let changed = all_changed();
        let text = changed.to_conf();
        assert_eq!(text.lines().count(), Sysctls::names().len());
        assert_eq!(Sysctls::from_conf(&text, "all.conf"), Ok(changed.clone()));
        // Every knob differs from its default, so the diff is the whole file.
        assert_eq!(changed.diff_conf(), text);
        let defaults = Sysctls::default();
        assert_eq!(
            Sysctls::from_conf(&defaults.to_conf(), "d.conf"),
            Ok(defaults.clone())
        );
        assert_eq!(defaults.diff_conf(), "");
    }

    #[test]
    fn defaults_are_linux_6_18() {
        let d = Sysctls::default();
        let get = |n: &str| d.get(n).unwrap_or_default();
        assert_eq!(get("net.ipv4.tcp_syn_retries"), "6");
        assert_eq!(get("net.ipv4.tcp_syn_linear_timeouts"), "4");
        assert_eq!(get("net.ipv4.tcp_synack_retries"), "5");
        assert_eq!(get("net.ipv4.tcp_retries2"), "15");
        assert_eq!(get("net.ipv4.tcp_fin_timeout"), "60");
        assert_eq!(get("net.ipv4.tcp_keepalive_time"), "7200");
        assert_eq!(get("net.ipv4.tcp_keepalive_intvl"), "75");
        assert_eq!(get("net.ipv4.tcp_tw_reuse"), "2");
        assert_eq!(get("net.ipv4.tcp_rto_min_us"), "200000");
        assert_eq!(get("net.ipv4.tcp_rto_max_ms"), "120000");
        assert_eq!(get("net.ipv4.tcp_comp_sack_slack_ns"), "100000");
        assert_eq!(get("net.ipv4.tcp_comp_sack_nr"), "44");
        assert_eq!(get("net.ipv4.tcp_invalid_ratelimit"), "500");
        assert_eq!(get("net.ipv4.tcp_challenge_ack_limit"), "2147483647");
        assert_eq!(get("net.ipv4.tcp_rmem"), "4096\t131072\t33554432");
        assert_eq!(get("net.ipv4.ip_local_port_range"), "32768\t60999");
        assert_eq!(get("net.ipv4.tcp_congestion_control"), "cubic");
        assert_eq!(get("net.core.somaxconn"), "4096");
    }

    #[test]
    fn set_and_get_by_either_separator() {
        let mut s = Sysctls::default();
        assert_eq!(s.set("net/ipv4/tcp_fin_timeout", "30"), Ok(()));
        assert_eq!(s.tcp_fin_timeout, 30);
        assert_eq!(s.get("net.ipv4.tcp_fin_timeout").as_deref(), Some("30"));
        assert_eq!(s.get("net/ipv4/tcp_fin_timeout").as_deref(), Some("30"));
        assert_eq!(s.set("net.ipv4.tcp_rmem", "4096 87380\t6291456\n"), Ok(()));
        assert_eq!(s.tcp_rmem, [4096, 87380, 6_291_456]);
        assert_eq!(s.set("net.ipv4.tcp_congestion_control", "reno"), Ok(()));
        assert_eq!(s.tcp_congestion_control, CongestionAlgorithm::Reno);
        assert_eq!(s.set("net.ipv4.tcp_adv_win_scale", "-31"), Ok(()));
        assert_eq!(s.tcp_adv_win_scale, -31);
        assert_eq!(
            s.set("net.ipv4.tcp_comp_sack_delay_ns", "18446744073709551615"),
            Ok(())
        );
        assert_eq!(s.tcp_comp_sack_delay_ns, u64::MAX);
        assert_eq!(s.get("net.ipv4.tcp_foo"), None);
    }

    #[test]
    fn integers_read_like_strtoul_base_0() {
        let mut s = Sysctls::default();
        assert_eq!(s.set("net.ipv4.tcp_syn_retries", "0x10"), Ok(()));
        assert_eq!(s.tcp_syn_retries, 16);
        assert_eq!(s.set("net.ipv4.tcp_syn_retries", "010"), Ok(()));
        assert_eq!(s.tcp_syn_retries, 8);
        assert_eq!(
            s.set("net.ipv4.tcp_syn_retries", "0"),
            Err(out_of_range("tcp_syn_retries", "0", 1, 127))
        );
        assert!(matches!(
            s.set("net.ipv4.tcp_syn_retries", "08"),
            Err(SysctlError::NotInteger { .. })
        ));
    }

    fn out_of_range(knob: &str, value: &str, min: i64, max: u64) -> SysctlError {
        let name = NAMES
            .iter()
            .find(|n| n.ends_with(knob))
            .copied()
            .unwrap_or("");
        SysctlError::OutOfRange {
            name,
            value: value.to_string(),
            min,
            max,
        }
    }

    #[test]
    fn range_errors_say_which_knob_and_why() {
        let mut s = Sysctls::default();
        let before = s.clone();
        let err = |s: &mut Sysctls, n: &str, v: &str| s.set(n, v).err().map(|e| e.to_string());
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_syn_retries", "200").as_deref(),
            Some("net.ipv4.tcp_syn_retries: 200 is out of range 1..=127")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_foo", "1").as_deref(),
            Some("unknown sysctl net.ipv4.tcp_foo")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_rmem", "4096 x").as_deref(),
            Some("net.ipv4.tcp_rmem: expected 3 integers, got \"4096 x\"")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_rmem", "4096 0 8192").as_deref(),
            Some("net.ipv4.tcp_rmem: 0 is out of range 1..=2147483647")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_rto_max_ms", "999").as_deref(),
            Some("net.ipv4.tcp_rto_max_ms: 999 is out of range 1000..=120000")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_rto_max_ms", "120001").as_deref(),
            Some("net.ipv4.tcp_rto_max_ms: 120001 is out of range 1000..=120000")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_rto_min_us", "0").as_deref(),
            Some("net.ipv4.tcp_rto_min_us: 0 is out of range 1..=2147483647")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_tw_reuse", "3").as_deref(),
            Some("net.ipv4.tcp_tw_reuse: 3 is out of range 0..=2")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_pingpong_thresh", "0").as_deref(),
            Some("net.ipv4.tcp_pingpong_thresh: 0 is out of range 1..=255")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_early_retrans", "5").as_deref(),
            Some("net.ipv4.tcp_early_retrans: 5 is out of range 0..=4")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_keepalive_probes", "256").as_deref(),
            Some("net.ipv4.tcp_keepalive_probes: 256 is out of range 0..=255")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_fin_timeout", "8589935").as_deref(),
            Some("net.ipv4.tcp_fin_timeout: 8589935 is out of range 0..=8589934")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_syn_linear_timeouts", "128").as_deref(),
            Some("net.ipv4.tcp_syn_linear_timeouts: 128 is out of range 0..=127")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.ip_local_port_range", "40000 30000").as_deref(),
            Some("net.ipv4.ip_local_port_range: first port 40000 is above last port 30000")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.ip_local_port_range", "80 30000").as_deref(),
            Some(
                "net.ipv4.ip_local_port_range: first port 80 is below ip_unprivileged_port_start 1024"
            )
        );
        assert_eq!(
            err(&mut s, "net.ipv4.ip_local_port_range", "1024 65536").as_deref(),
            Some("net.ipv4.ip_local_port_range: 65536 is out of range 1..=65535")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_congestion_control", "bbr").as_deref(),
            Some("net.ipv4.tcp_congestion_control: expected cubic or reno, got \"bbr\"")
        );
        assert_eq!(
            err(&mut s, "net.ipv4.tcp_fin_timeout", "").as_deref(),
            Some("net.ipv4.tcp_fin_timeout: expected an integer, got \"\"")
        );
        assert_eq!(
            err(
                &mut s,
                "net.ipv4.tcp_comp_sack_delay_ns",
                "18446744073709551616"
            )
            .as_deref(),
            Some(
                "net.ipv4.tcp_comp_sack_delay_ns: 18446744073709551616 is out of range 0..=18446744073709551615"
            )
        );
        assert_eq!(s, before, "a refused write changes nothing");
    }

    #[test]
    fn errno_is_einval_or_enoent() {
        let mut s = Sysctls::default();
        let errno = |r: Result<(), SysctlError>| r.err().map(|e| e.errno());
        assert_eq!(
            errno(s.set("net.ipv4.tcp_syn_retries", "200")),
            Some(Errno::EINVAL)
        );
        assert_eq!(
            errno(s.set("net.ipv4.tcp_rmem", "1 2")),
            Some(Errno::EINVAL)
        );
        assert_eq!(errno(s.set("net.ipv4.tcp_foo", "1")), Some(Errno::ENOENT));
        assert_eq!(
            errno(s.set("net.ipv4.tcp_congestion_control", "x")),
            Some(Errno::ENOENT)
        );
    }

    #[test]
    fn conf_syntax_comments_blanks_and_forms() {
        let text = "# a comment\n\n; another\n  net.ipv4.tcp_fin_timeout = 30\n\
                    net.ipv4.tcp_syn_retries=3\nnet/ipv4/tcp_rmem = 4096 87380 6291456\n\
                    -net.ipv4.tcp_nonexistent = 1\n- net.ipv4.tcp_retries2 = 999\n\
                    -this line has no equals sign\n";
        let s = Sysctls::from_conf(text, "t.conf").map_err(|e| e.to_string());
        let s = s.unwrap_or_default();
        assert_eq!(s.tcp_fin_timeout, 30);
        assert_eq!(s.tcp_syn_retries, 3);
        assert_eq!(s.tcp_rmem, [4096, 87380, 6_291_456]);
        assert_eq!(s.tcp_retries2, 15, "an ignored bad line leaves the default");
    }

    #[test]
    fn bad_conf_lines_name_file_line_and_column() {
        let err = |text: &str| {
            Sysctls::from_conf(text, "fin.conf")
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            err("# timers\n\nnet.ipv4.tcp_fin_timeout = abc\n").as_deref(),
            Some("fin.conf:3:28: net.ipv4.tcp_fin_timeout: expected an integer, got \"abc\"")
        );
        assert_eq!(
            err("net.ipv4.tcp_fin_timeout=abc").as_deref(),
            Some("fin.conf:1:26: net.ipv4.tcp_fin_timeout: expected an integer, got \"abc\"")
        );
        assert_eq!(
            err("net.ipv4.tcp_fin_timeout = 1\n  net.ipv4.tcp_foo = 1").as_deref(),
            Some("fin.conf:2:3: unknown sysctl net.ipv4.tcp_foo")
        );
        assert_eq!(
            err("net.ipv4.tcp_syn_retries = 200").as_deref(),
            Some("fin.conf:1:28: net.ipv4.tcp_syn_retries: 200 is out of range 1..=127")
        );
        assert_eq!(
            err("\tnet.ipv4.tcp_syn_retries 3").as_deref(),
            Some("fin.conf:1:2: expected \"name = value\", got \"net.ipv4.tcp_syn_retries 3\"")
        );
        assert_eq!(
            err(" = 3").as_deref(),
            Some("fin.conf:1:2: expected a sysctl name before \"=\"")
        );
        let e = Sysctls::from_conf("a\n", "x.conf").err();
        assert_eq!(e.map(|e| (e.line, e.column)), Some((1, 1)));
    }

    #[test]
    fn apply_conf_is_atomic() {
        let mut s = Sysctls::default();
        let r = s.apply_conf(
            "net.ipv4.tcp_fin_timeout = 5\nnet.ipv4.tcp_syn_retries = 0\n",
            "a",
        );
        assert!(r.is_err());
        assert_eq!(s, Sysctls::default(), "the good first line must not stick");
        assert_eq!(s.apply_conf("net.ipv4.tcp_fin_timeout = 5\n", "a"), Ok(()));
        assert_eq!(s.tcp_fin_timeout, 5);
    }

    #[test]
    fn from_proc_reads_a_tree_and_reports_missing_and_rejected() {
        let root = std::env::temp_dir().join(format!("tcplab-sysctl-{}", std::process::id()));
        let ipv4 = root.join("net/ipv4");
        let core = root.join("net/core");
        assert!(std::fs::create_dir_all(&ipv4).is_ok() && std::fs::create_dir_all(&core).is_ok());
        // A kernel from before 6.11 (no tcp_rto_min_us) running BBR.
        for name in Sysctls::names() {
            let rel = name.replace('.', "/");
            let value = match *name {
                "net.ipv4.tcp_rto_min_us" | "net.ipv4.tcp_rto_max_ms" => continue,
                "net.ipv4.tcp_fin_timeout" => "30\n".to_string(),
                "net.ipv4.tcp_rmem" => "4096\t131072\t33554432\n".to_string(),
                "net.ipv4.tcp_congestion_control" => "bbr\n".to_string(),
                _ => format!("{}\n", Sysctls::default().get(name).unwrap_or_default()),
            };
            assert!(std::fs::write(root.join(rel), value).is_ok());
        }
        let got = Sysctls::from_proc(&root);
        let _ = std::fs::remove_dir_all(&root);
        let got = got.map_err(|e| e.to_string());
        let Ok(got) = got else {
            panic!("from_proc failed: {got:?}")
        };
        assert_eq!(
            got.missing,
            vec!["net.ipv4.tcp_rto_max_ms", "net.ipv4.tcp_rto_min_us"]
        );
        assert_eq!(got.rejected.len(), 1);
        assert_eq!(got.rejected[0].errno(), Errno::ENOENT);
        assert_eq!(got.sysctls.tcp_fin_timeout, 30);
        assert_eq!(got.sysctls.tcp_rmem, [4096, 131_072, 33_554_432]);
        assert_eq!(
            got.sysctls.tcp_congestion_control,
            CongestionAlgorithm::Cubic
        );
        assert_eq!(got.sysctls.tcp_rto_min_us, 200_000);
        assert!(Sysctls::from_proc(Path::new("/nonexistent/tcplab")).is_err());
    }

    #[test]
    fn from_proc_matches_this_host() {
        let root = Path::new("/proc/sys");
        if !root.join("net/ipv4/tcp_syn_retries").exists() {
            return; // not Linux, or /proc not mounted: nothing to compare against
        }
        let got = Sysctls::from_proc(root).map_err(|e| e.to_string());
        let Ok(got) = got else {
            panic!("from_proc failed: {got:?}")
        };
        let rejected: Vec<String> = got
            .rejected
            .iter()
            .map(|e| match e {
                SysctlError::Unknown { name } => name.clone(),
                other => other.to_string(),
            })
            .collect();
        let mut compared = 0;
        for name in Sysctls::names() {
            if got.missing.contains(name) || rejected.iter().any(|r| r.starts_with(name)) {
                continue;
            }
            let path = root.join(name.replace('.', "/"));
            let host = std::fs::read_to_string(&path).unwrap_or_default();
            let host: Vec<&str> = host.split_whitespace().collect();
            let ours = got.sysctls.get(name).unwrap_or_default();
            let ours: Vec<&str> = ours.split_whitespace().collect();
            assert_eq!(ours, host, "{name}");
            compared += 1;
        }
        assert!(compared >= 40, "only {compared} knobs compared");
    }

    proptest::proptest! {
        #[test]
        fn apply_conf_never_panics(text in "(?s).{0,400}") {
            let mut s = Sysctls::default();
            let before = s.clone();
            if s.apply_conf(&text, "p.conf").is_err() {
                proptest::prop_assert_eq!(s, before);
            }
        }

        #[test]
        fn apply_conf_never_panics_on_near_misses(
            name in proptest::sample::select(NAMES.to_vec()),
            value in "[-0-9xX a-f\\t]{0,24}",
            sep in "[ =/.#;-]{0,3}",
        ) {
            let mut s = Sysctls::default();
            let _ = s.apply_conf(&format!("{sep}{name}{sep}={value}\n"), "p.conf");
            let _ = s.set(name, &value);
        }
    }
}
