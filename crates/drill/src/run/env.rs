//! What a script's command-line options and shell lines mean for the stack under test.
//!
//! packetdrill runs a script on a real host: options pick addresses and tolerances, and shell
//! lines (back-quoted) set sysctls through `defaults.sh`, `set_sysctls.py`, `sysctl` or put a
//! queue discipline on the tun device. tcplab maps the lines the corpus uses onto the stack's
//! configuration; any other line is [`ShellError::Unsupported`] and the script is skipped with
//! the line quoted, never silently run without it.

use std::net::IpAddr;

use tcplab_stack::Sysctls;
use tcplab_stack::sysctl::SysctlError;

use crate::ast::{CmdOption, OptionValue, Pos};

/// Upstream's default timing tolerance (packetdrill's `--tolerance_usecs`).
pub const DEFAULT_TOLERANCE_USECS: u64 = 4_000;

/// The address family of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// packetdrill's name for the family (`ipv4`, `ipv6`).
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

/// The settings of one run, from the defaults, the script's options and the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    pub family: Family,
    /// The stack's address (packetdrill: `--local_ip`).
    pub local_ip: IpAddr,
    /// The script's address (packetdrill: `--remote_ip`).
    pub remote_ip: IpAddr,
    /// Link MTU. IPv6 runs use 1520 so that the MSS stays 1460, as upstream does.
    pub mtu: u32,
    /// The port `bind(..., ...)` binds and `connect(..., ...)` connects to.
    pub port: u16,
    /// The script's own port for connections it opens (packetdrill picks an ephemeral one).
    pub remote_port: u16,
    pub tolerance_usecs: u64,
    /// `--tcp_ts_tick_usecs`: when set, outgoing TSvals are checked against the script, in
    /// ticks of this length counted from the first TSval the stack sent.
    pub ts_tick_usecs: Option<u64>,
}

impl Setup {
    /// Upstream's defaults for `family` (packetdrill's config.c and its run scripts).
    pub fn new(family: Family) -> Setup {
        let (local_ip, remote_ip, mtu) = match family {
            Family::V4 => (
                IpAddr::from([192, 168, 0, 1]),
                IpAddr::from([192, 0, 2, 1]),
                1500,
            ),
            Family::V6 => (
                IpAddr::from([0xfd3d, 0x0a0b, 0x17d6, 0, 0, 0, 0, 1]),
                IpAddr::from([0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1]),
                1520,
            ),
        };
        Setup {
            family,
            local_ip,
            remote_ip,
            mtu,
            port: 8080,
            remote_port: 48_879,
            tolerance_usecs: DEFAULT_TOLERANCE_USECS,
            ts_tick_usecs: None,
        }
    }

    /// Applies the script's `--name=value` lines. An option that changes what the script means
    /// and that tcplab does not model is an error naming it (the script is skipped).
    pub fn apply_options(&mut self, options: &[CmdOption]) -> Result<(), (Pos, String)> {
        for opt in options {
            let int = || match &opt.value {
                Some(OptionValue::Integer(n)) => Ok(*n),
                _ => Err((opt.pos, format!("--{} needs an integer value", opt.name))),
            };
            match opt.name.as_str() {
                "tolerance_usecs" => self.tolerance_usecs = int()?,
                "tcp_ts_tick_usecs" => {
                    let n = int()?;
                    self.ts_tick_usecs = (n > 0).then_some(n);
                }
                "mtu" => {
                    self.mtu = u32::try_from(int()?)
                        .map_err(|_| (opt.pos, "--mtu is out of range".to_string()))?;
                }
                "bind_port" | "connect_port" => {
                    self.port = u16::try_from(int()?)
                        .map_err(|_| (opt.pos, format!("--{} is out of range", opt.name)))?;
                }
                "ip_version" => {
                    let want = match &opt.value {
                        Some(OptionValue::Word(w)) => w.as_str(),
                        _ => "",
                    };
                    let ok = matches!(
                        (want, self.family),
                        ("ipv4", Family::V4) | ("ipv6", Family::V6)
                    );
                    if !ok {
                        return Err((
                            opt.pos,
                            format!(
                                "the script asks for --ip_version={want}; this run is {}",
                                self.family.name()
                            ),
                        ));
                    }
                }
                "local_ip" | "remote_ip" => {
                    let ip = match &opt.value {
                        Some(OptionValue::Ipv4(s) | OptionValue::Ipv6(s)) => s.parse().ok(),
                        _ => None,
                    }
                    .ok_or((opt.pos, format!("--{} needs an IP address", opt.name)))?;
                    if IpAddr::is_ipv4(&ip) != (self.family == Family::V4) {
                        return Err((
                            opt.pos,
                            format!("--{} is not a {} address", opt.name, self.family.name()),
                        ));
                    }
                    if opt.name == "local_ip" {
                        self.local_ip = ip;
                    } else {
                        self.remote_ip = ip;
                    }
                }
                // Options that only change how packetdrill itself runs or prints.
                "verbose" | "dry_run" | "non_fatal" | "gateway_ip" | "netmask_ip" | "speed"
                | "init_scripts" => {}
                other => return Err((opt.pos, format!("option --{other} is not supported"))),
            }
        }
        Ok(())
    }
}

/// What a shell line does to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellEffect {
    /// Write these sysctls (full names), in order.
    Sysctls(Vec<(String, String)>),
    /// Restore the sysctls saved before the last `set_sysctls.py`.
    Restore,
    /// Drop (true) or pass (false) everything the stack transmits (a pfifo queue of limit 0).
    DropTransmits(bool),
}

/// A shell line tcplab cannot honour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellError {
    /// Not a line tcplab knows how to map (quoted).
    Unsupported(String),
    /// A sysctl the stack does not model.
    UnknownSysctl(String),
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellError::Unsupported(line) => write!(f, "shell command not supported: `{line}`"),
            ShellError::UnknownSysctl(name) => write!(f, "sysctl {name} is not modelled"),
        }
    }
}

/// What upstream's `defaults.sh` writes. Knobs the stack does not have are listed in
/// [`DEFAULTS_WITHOUT_KNOB`] with the reason nothing is lost.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("net.ipv4.tcp_rmem", "4096 540000 15728640"),
    ("net.ipv4.tcp_wmem", "4096 262144 4194304"),
    ("net.ipv4.tcp_timestamps", "1"),
    ("net.ipv4.tcp_syn_retries", "5"),
    ("net.ipv4.tcp_synack_retries", "5"),
    ("net.ipv4.tcp_frto", "2"),
    ("net.ipv4.tcp_sack", "1"),
    ("net.ipv4.tcp_dsack", "1"),
    ("net.ipv4.tcp_early_retrans", "4"),
    ("net.ipv4.tcp_recovery", "1"),
    ("net.ipv4.tcp_congestion_control", "cubic"),
    ("net.ipv4.tcp_slow_start_after_idle", "0"),
    ("net.ipv4.tcp_ecn", "0"),
    ("net.ipv4.tcp_notsent_lowat", "4294967295"),
    ("net.ipv4.tcp_syncookies", "1"),
];

/// `defaults.sh` knobs with no counterpart in the stack, and why their absence changes nothing.
pub const DEFAULTS_WITHOUT_KNOB: &[(&str, &str)] = &[
    (
        "net.ipv4.tcp_reordering",
        "3 is the kernel default the stack uses",
    ),
    (
        "net.ipv4.tcp_fack",
        "removed from Linux in 4.15; 6.18 has no such file",
    ),
    (
        "net.ipv4.tcp_tso_win_divisor",
        "3 is the kernel default; the stack sends no TSO bursts",
    ),
    (
        "net.ipv4.tcp_pacing_ss_ratio",
        "200 is the kernel default; the stack does not pace",
    ),
    (
        "net.ipv4.tcp_pacing_ca_ratio",
        "120 is the kernel default; the stack does not pace",
    ),
    (
        "net.ipv4.tcp_fastopen",
        "Fast Open is off unless a script uses it, and none can here",
    ),
];

/// Knobs scripts set that size TSO bursts or pacing, which the stack does not build: it sends
/// MSS-sized segments and packetdrill joins the segments of a burst before comparing, so
/// writing them changes nothing a script can observe here. They are accepted, not modelled.
pub const ACCEPTED_WITHOUT_EFFECT: &[(&str, &str)] = &[
    (
        "net.ipv4.tcp_min_tso_segs",
        "sizes TSO bursts; the stack sends MSS-sized segments",
    ),
    (
        "net.ipv4.tcp_tso_rtt_log",
        "sizes TSO bursts; the stack sends MSS-sized segments",
    ),
];

/// Reads one back-quoted shell command (possibly several lines).
pub fn shell_effects(text: &str) -> Result<Vec<ShellEffect>, ShellError> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        for cmd in line.split(';').flat_map(|c| c.split("&&")) {
            let cmd = cmd.trim();
            if cmd.is_empty() || cmd.starts_with('#') {
                continue;
            }
            out.push(command_effect(cmd)?);
        }
    }
    Ok(out)
}

fn command_effect(cmd: &str) -> Result<ShellEffect, ShellError> {
    let words = shell_words(cmd);
    let unsupported = || ShellError::Unsupported(cmd.to_string());
    let Some(program) = words.first() else {
        return Err(unsupported());
    };
    let base = program.rsplit('/').next().unwrap_or(program);
    match base {
        "defaults.sh" if words.len() == 1 => Ok(ShellEffect::Sysctls(
            DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )),
        "set_sysctls.py" => {
            let mut set = Vec::new();
            for w in &words[1..] {
                let (path, value) = w.split_once('=').ok_or_else(unsupported)?;
                let name = path
                    .strip_prefix("/proc/sys/")
                    .ok_or_else(unsupported)?
                    .replace('/', ".");
                set.push((name, value.to_string()));
            }
            Ok(ShellEffect::Sysctls(set))
        }
        "sysctl" => {
            let mut set = Vec::new();
            for w in &words[1..] {
                match w.as_str() {
                    "-q" | "-w" | "-e" => {}
                    _ => {
                        let (name, value) = w.split_once('=').ok_or_else(unsupported)?;
                        set.push((name.replace('/', "."), value.to_string()));
                    }
                }
            }
            if set.is_empty() {
                return Err(unsupported());
            }
            Ok(ShellEffect::Sysctls(set))
        }
        _ if base.starts_with("sysctl_restore_") && base.ends_with(".sh") => {
            Ok(ShellEffect::Restore)
        }
        "tc" => tc_effect(&words).ok_or_else(unsupported),
        _ => Err(unsupported()),
    }
}

/// `tc qdisc {add|replace|change} dev D root pfifo limit N` and `tc qdisc del dev D root`.
fn tc_effect(words: &[String]) -> Option<ShellEffect> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        [
            "tc",
            "qdisc",
            "add" | "replace" | "change",
            "dev",
            _,
            "root",
            "pfifo",
            "limit",
            n,
        ] => Some(ShellEffect::DropTransmits(n.parse::<u32>().ok()? == 0)),
        ["tc", "qdisc", "del" | "delete", "dev", _, "root"] => {
            Some(ShellEffect::DropTransmits(false))
        }
        _ => None,
    }
}

/// Splits a command into words the way a shell would for the simple lines scripts use:
/// blanks separate words, and single or double quotes group (and are removed).
fn shell_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in cmd.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Writes `set` into `sysctls`, as the shell line would on a host.
pub fn apply_sysctls(sysctls: &mut Sysctls, set: &[(String, String)]) -> Result<(), ShellError> {
    for (name, value) in set {
        let quiet = DEFAULTS_WITHOUT_KNOB
            .iter()
            .chain(ACCEPTED_WITHOUT_EFFECT)
            .any(|(k, _)| k == name);
        match sysctls.set(name, value) {
            Ok(()) => {}
            Err(SysctlError::Unknown { .. }) if quiet => {}
            Err(SysctlError::Unknown { .. }) => {
                return Err(ShellError::UnknownSysctl(name.clone()));
            }
            Err(e) => return Err(ShellError::Unsupported(format!("{name}={value}: {e}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_set_sysctls() {
        let text = "../common/defaults.sh\n../common/set_sysctls.py \
                    /proc/sys/net/ipv4/tcp_slow_start_after_idle=1 \\\n\t\t\t \
                    /proc/sys/net/ipv4/tcp_min_tso_segs=10";
        let effects = shell_effects(text).unwrap();
        assert_eq!(effects.len(), 2);
        let mut sys = Sysctls::default();
        let ShellEffect::Sysctls(d) = &effects[0] else {
            panic!("{effects:?}")
        };
        apply_sysctls(&mut sys, d).unwrap();
        assert_eq!(
            sys.get("net.ipv4.tcp_rmem").unwrap(),
            "4096\t540000\t15728640"
        );
        let ShellEffect::Sysctls(s) = &effects[1] else {
            panic!("{effects:?}")
        };
        assert_eq!(
            s[0],
            (
                "net.ipv4.tcp_slow_start_after_idle".to_string(),
                "1".to_string()
            )
        );
        apply_sysctls(&mut sys, s).unwrap();
        assert_eq!(sys.get("net.ipv4.tcp_slow_start_after_idle").unwrap(), "1");
        assert_eq!(
            apply_sysctls(&mut sys, &[("net.ipv4.tcp_bogus".into(), "1".into())]),
            Err(ShellError::UnknownSysctl("net.ipv4.tcp_bogus".to_string()))
        );
    }

    #[test]
    fn sysctl_quoted_vector_and_unknown_lines() {
        let e = shell_effects("sysctl -q net.ipv4.tcp_rmem=\"4096 87380 6291456\"").unwrap();
        assert_eq!(
            e,
            vec![ShellEffect::Sysctls(vec![(
                "net.ipv4.tcp_rmem".into(),
                "4096 87380 6291456".into()
            )])]
        );
        assert_eq!(
            shell_effects("tc qdisc replace dev tun0 root pfifo limit 0").unwrap(),
            vec![ShellEffect::DropTransmits(true)]
        );
        assert_eq!(
            shell_effects("/tmp/sysctl_restore_${PPID}.sh").unwrap(),
            vec![ShellEffect::Restore]
        );
        assert_eq!(
            shell_effects("ip link set dev tun0 mtu 1400"),
            Err(ShellError::Unsupported(
                "ip link set dev tun0 mtu 1400".into()
            ))
        );
        assert_eq!(
            shell_effects("echo hi > /dev/null; defaults.sh"),
            Err(ShellError::Unsupported("echo hi > /dev/null".into()))
        );
    }
}
