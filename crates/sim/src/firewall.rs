//! A host firewall with iptables' filter-table semantics: chains INPUT and OUTPUT, rules
//! evaluated in order, the first rule whose matches all hold decides, policy ACCEPT.
//!
//! [`Firewall::command`] takes iptables' own argument syntax: `-A`, `-I [n]`, `-D n` or
//! `-D rule`, `-F [chain]`; matches `-s`, `-d` (addresses with an optional `/prefix` or
//! `/mask`), `-p tcp`, `--sport`, `--dport` (a port or `lo:hi`), `--tcp-flags MASK COMP`,
//! `--syn`, each negatable with a leading `!`; targets `ACCEPT`, `DROP` and
//! `REJECT [--reject-with tcp-reset | icmp-…-unreachable | icmp-…-prohibited | icmp6-…]`.
//!
//! One firewall covers both families, like a host with the same rules in iptables and
//! ip6tables: a rule naming an IPv4 address never matches an IPv6 datagram and the other way
//! round; a rule without addresses matches both. An ICMP reject type of the other family is
//! mapped to its counterpart (`icmp-port-unreachable` on an IPv6 datagram sends
//! `icmp6-port-unreachable`).
//!
//! Replies built here follow Linux: a TCP reset like nf_send_reset() (net/ipv4/netfilter/
//! nf_reject_ipv4.c, which mirrors tcp_v4_send_reset()), an ICMP destination-unreachable like
//! icmp_send()/icmp6_send(). Note that the tcplab stack ignores ICMP today: a reject with an
//! ICMP type reaches the peer's capture and timeline but does not abort its connection.
//!
//! Guarantees: parsing never panics and names the argument at fault; evaluation is a pure
//! function of the rules and the datagram (plus per-rule counters).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcplab_wire::checksum;
use tcplab_wire::tcp::{TcpFlags, TcpRepr};
use tcplab_wire::{IPPROTO_TCP, IpHeader, IpRepr, Ipv4Repr, Ipv6Repr, emit_ip_tcp};

/// A built-in chain of the filter table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    Input,
    Output,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Chain::Input => "INPUT",
            Chain::Output => "OUTPUT",
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An address with a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    fn parse(option: &str, s: &str) -> Result<Cidr, FirewallError> {
        let bad = || FirewallError::BadValue {
            option: option.to_string(),
            value: s.to_string(),
            expected: "an IPv4 or IPv6 address with an optional /prefix",
        };
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                Ok(_) => return Err(bad()),
                Err(_) => match p.parse::<Ipv4Addr>() {
                    // A dotted netmask, contiguous ones only.
                    Ok(m) if addr.is_ipv4() => {
                        let m = u32::from(m);
                        let ones = m.leading_ones();
                        if m.checked_shl(ones).unwrap_or(0) != 0 {
                            return Err(bad());
                        }
                        ones as u8
                    }
                    _ => return Err(bad()),
                },
            },
        };
        // iptables stores the network address with the host bits cleared.
        let addr = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A port or an inclusive range of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    fn parse(option: &str, s: &str) -> Result<PortRange, FirewallError> {
        let bad = || FirewallError::BadValue {
            option: option.to_string(),
            value: s.to_string(),
            expected: "a port number or a range lo:hi",
        };
        let port = |p: &str, default: u16| -> Result<u16, FirewallError> {
            if p.is_empty() {
                return Ok(default);
            }
            p.parse::<u16>().map_err(|_| bad())
        };
        let (lo, hi) = match s.split_once(':') {
            Some((a, b)) => (port(a, 0)?, port(b, u16::MAX)?),
            None if s.is_empty() => return Err(bad()),
            None => {
                let p = port(s, 0)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(bad());
        }
        Ok(PortRange { lo, hi })
    }

    fn contains(&self, p: u16) -> bool {
        (self.lo..=self.hi).contains(&p)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}:{}", self.lo, self.hi)
        }
    }
}

/// `--tcp-flags MASK COMP`: the flags in `mask` must be exactly those in `comp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlagsMatch {
    pub mask: u16,
    pub comp: u16,
}

const FLAG_NAMES: [(&str, u16); 8] = [
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ECE", 0x40),
    ("CWR", 0x80),
];

fn parse_flag_list(s: &str) -> Result<u16, FirewallError> {
    let mut bits = 0;
    for name in s.split(',') {
        bits |= match name.to_ascii_uppercase().as_str() {
            "ALL" => 0xff,
            "NONE" => 0,
            n => FLAG_NAMES
                .iter()
                .find(|(f, _)| *f == n)
                .map(|&(_, b)| b)
                .ok_or_else(|| FirewallError::BadValue {
                    option: "--tcp-flags".to_string(),
                    value: s.to_string(),
                    expected: "a comma-separated list of SYN, ACK, FIN, RST, URG, PSH, ECE, CWR, ALL or NONE",
                })?,
        };
    }
    Ok(bits)
}

fn flag_list(bits: u16) -> String {
    if bits & 0xff == 0xff {
        return "ALL".to_string();
    }
    if bits == 0 {
        return "NONE".to_string();
    }
    FLAG_NAMES
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// A match and whether it is negated with `!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond<T> {
    pub value: T,
    pub negated: bool,
}

impl<T> Cond<T> {
    fn holds(&self, f: impl FnOnce(&T) -> bool) -> bool {
        f(&self.value) != self.negated
    }
    fn bang(&self) -> &'static str {
        if self.negated { "! " } else { "" }
    }
}

/// What `--reject-with` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectWith {
    TcpReset,
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpPortUnreachable,
    IcmpProtoUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    Icmp6NoRoute,
    Icmp6AdmProhibited,
    Icmp6AddrUnreachable,
    Icmp6PortUnreachable,
}

const REJECT_NAMES: [(&str, RejectWith); 12] = [
    ("tcp-reset", RejectWith::TcpReset),
    ("icmp-net-unreachable", RejectWith::IcmpNetUnreachable),
    ("icmp-host-unreachable", RejectWith::IcmpHostUnreachable),
    ("icmp-port-unreachable", RejectWith::IcmpPortUnreachable),
    ("icmp-proto-unreachable", RejectWith::IcmpProtoUnreachable),
    ("icmp-net-prohibited", RejectWith::IcmpNetProhibited),
    ("icmp-host-prohibited", RejectWith::IcmpHostProhibited),
    ("icmp-admin-prohibited", RejectWith::IcmpAdminProhibited),
    ("icmp6-no-route", RejectWith::Icmp6NoRoute),
    ("icmp6-adm-prohibited", RejectWith::Icmp6AdmProhibited),
    ("icmp6-addr-unreachable", RejectWith::Icmp6AddrUnreachable),
    ("icmp6-port-unreachable", RejectWith::Icmp6PortUnreachable),
];

impl RejectWith {
    pub fn name(self) -> &'static str {
        REJECT_NAMES
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(n, _)| *n)
            .unwrap_or("tcp-reset")
    }

    /// ICMPv4 destination-unreachable code (RFC 792, RFC 1812).
    fn icmp4_code(self) -> u8 {
        match self {
            RejectWith::IcmpNetUnreachable | RejectWith::Icmp6NoRoute => 0,
            RejectWith::IcmpHostUnreachable | RejectWith::Icmp6AddrUnreachable => 1,
            RejectWith::IcmpProtoUnreachable => 2,
            RejectWith::IcmpPortUnreachable
            | RejectWith::Icmp6PortUnreachable
            | RejectWith::TcpReset => 3,
            RejectWith::IcmpNetProhibited => 9,
            RejectWith::IcmpHostProhibited => 10,
            RejectWith::IcmpAdminProhibited | RejectWith::Icmp6AdmProhibited => 13,
        }
    }

    /// ICMPv6 destination-unreachable code (RFC 4443 §3.1).
    fn icmp6_code(self) -> u8 {
        match self {
            RejectWith::IcmpNetUnreachable | RejectWith::Icmp6NoRoute => 0,
            RejectWith::IcmpNetProhibited
            | RejectWith::IcmpHostProhibited
            | RejectWith::IcmpAdminProhibited
            | RejectWith::Icmp6AdmProhibited => 1,
            RejectWith::IcmpHostUnreachable | RejectWith::Icmp6AddrUnreachable => 3,
            RejectWith::IcmpPortUnreachable
            | RejectWith::IcmpProtoUnreachable
            | RejectWith::Icmp6PortUnreachable
            | RejectWith::TcpReset => 4,
        }
    }
}

/// What a rule does with a datagram it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Accept,
    Drop,
    Reject(RejectWith),
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rule {
    pub src: Option<Cond<Cidr>>,
    pub dst: Option<Cond<Cidr>>,
    /// The IP protocol number (`-p tcp` is 6).
    pub proto: Option<Cond<u8>>,
    pub sport: Option<Cond<PortRange>>,
    pub dport: Option<Cond<PortRange>>,
    pub tcp_flags: Option<Cond<FlagsMatch>>,
    /// `None`: a rule that only counts (no `-j`).
    pub target: Option<Target>,
    /// Packets and bytes this rule matched.
    pub packets: u64,
    pub bytes: u64,
}

/// The fields of a datagram the rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    /// Ports and flags, for TCP segments that parse.
    pub tcp: Option<(u16, u16, u16)>,
    pub len: usize,
}

impl PacketInfo {
    /// Reads what the rules need; `None` for bytes that are not an IP datagram.
    pub fn parse(datagram: &[u8]) -> Option<PacketInfo> {
        let (ip, payload) = IpRepr::parse(datagram).ok()?;
        let tcp = if ip.protocol() == IPPROTO_TCP && payload.len() >= 20 {
            let sport = u16::from_be_bytes([payload[0], payload[1]]);
            let dport = u16::from_be_bytes([payload[2], payload[3]]);
            let flags = u16::from(payload[13]);
            Some((sport, dport, flags))
        } else {
            None
        };
        Some(PacketInfo {
            src: ip.src(),
            dst: ip.dst(),
            proto: ip.protocol(),
            tcp,
            len: datagram.len(),
        })
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".to_string(),
        6 => "tcp".to_string(),
        17 => "udp".to_string(),
        58 => "ipv6-icmp".to_string(),
        n => n.to_string(),
    }
}

impl Rule {
    /// Whether every match of the rule holds for `p`.
    pub fn matches(&self, p: &PacketInfo) -> bool {
        if let Some(c) = &self.src
            && !c.holds(|n| n.contains(p.src))
        {
            return false;
        }
        if let Some(c) = &self.dst
            && !c.holds(|n| n.contains(p.dst))
        {
            return false;
        }
        // A rule naming an address of one family never applies to the other.
        let family_v4 = [&self.src, &self.dst]
            .into_iter()
            .flatten()
            .map(|c| c.value.addr.is_ipv4())
            .next();
        if family_v4.is_some_and(|v4| v4 != p.src.is_ipv4()) {
            return false;
        }
        if let Some(c) = &self.proto
            && !c.holds(|&n| n == p.proto)
        {
            return false;
        }
        if self.sport.is_some() || self.dport.is_some() || self.tcp_flags.is_some() {
            // Linux: tcp_mt() does not match a segment it cannot read.
            let Some((sport, dport, flags)) = p.tcp else {
                return false;
            };
            if let Some(c) = &self.sport
                && !c.holds(|r| r.contains(sport))
            {
                return false;
            }
            if let Some(c) = &self.dport
                && !c.holds(|r| r.contains(dport))
            {
                return false;
            }
            if let Some(c) = &self.tcp_flags
                && !c.holds(|m| flags & m.mask == m.comp)
            {
                return false;
            }
        }
        true
    }

    /// The rule as `iptables -S` prints it, after `-A CHAIN`.
    pub fn spec(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.src {
            parts.push(format!("{}-s {}", c.bang(), c.value));
        }
        if let Some(c) = &self.dst {
            parts.push(format!("{}-d {}", c.bang(), c.value));
        }
        if let Some(c) = &self.proto {
            parts.push(format!("{}-p {}", c.bang(), proto_name(c.value)));
        }
        if self.sport.is_some() || self.dport.is_some() || self.tcp_flags.is_some() {
            parts.push("-m tcp".to_string());
        }
        if let Some(c) = &self.sport {
            parts.push(format!("{}--sport {}", c.bang(), c.value));
        }
        if let Some(c) = &self.dport {
            parts.push(format!("{}--dport {}", c.bang(), c.value));
        }
        if let Some(c) = &self.tcp_flags {
            parts.push(format!(
                "{}--tcp-flags {} {}",
                c.bang(),
                flag_list(c.value.mask),
                flag_list(c.value.comp)
            ));
        }
        match self.target {
            Some(Target::Accept) => parts.push("-j ACCEPT".to_string()),
            Some(Target::Drop) => parts.push("-j DROP".to_string()),
            Some(Target::Reject(w)) => parts.push(format!("-j REJECT --reject-with {}", w.name())),
            None => {}
        }
        parts.join(" ")
    }

    /// The rule's matches and target, ignoring counters (for `-D rule`).
    fn same_as(&self, other: &Rule) -> bool {
        self.src == other.src
            && self.dst == other.dst
            && self.proto == other.proto
            && self.sport == other.sport
            && self.dport == other.dport
            && self.tcp_flags == other.tcp_flags
            && self.target == other.target
    }
}

/// A datagram's fate in a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Dropped by a rule; `rule` is `-A CHAIN …` as `iptables -S` prints it, `index` 1-based.
    Drop {
        index: usize,
        rule: String,
    },
    /// Rejected: dropped, and a reply is sent.
    Reject {
        index: usize,
        rule: String,
        with: RejectWith,
    },
}

impl Verdict {
    /// The rule that refused the datagram, as the timeline shows it.
    pub fn dropped_by(&self) -> Option<String> {
        match self {
            Verdict::Accept => None,
            Verdict::Drop { rule, .. } | Verdict::Reject { rule, .. } => Some(rule.clone()),
        }
    }
}

/// An iptables command that could not be applied. Printed as a sentence naming the argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FirewallError {
    #[error("iptables: expected a command (-A, -I, -D or -F), got {0}")]
    NoCommand(String),
    #[error("iptables: only one command may be given, got {first} and {second}")]
    TwoCommands { first: String, second: String },
    #[error("iptables: {option} expects a chain (INPUT or OUTPUT)")]
    MissingChain { option: String },
    #[error(
        "iptables: No chain/target/match by that name: {0} (tcplab hosts have the INPUT and OUTPUT chains of the filter table)"
    )]
    UnknownChain(String),
    #[error("iptables: table {0} is not modelled: expected filter")]
    UnknownTable(String),
    #[error("iptables: option {option} requires an argument: {expected}")]
    MissingValue {
        option: String,
        expected: &'static str,
    },
    #[error("iptables: {option}: expected {expected}, got \"{value}\"")]
    BadValue {
        option: String,
        value: String,
        expected: &'static str,
    },
    #[error("iptables: unknown option \"{0}\"")]
    UnknownOption(String),
    #[error("iptables: unknown option \"{0}\": TCP port and flag matches need -p tcp before them")]
    NeedsTcp(String),
    #[error("iptables: multiple {0} flags not allowed")]
    Duplicate(String),
    #[error("iptables: \"!\" must be followed by a match option, got {0}")]
    BadNegation(String),
    #[error("iptables: --reject-with needs -j REJECT before it")]
    RejectWithoutReject,
    #[error("iptables: --reject-with tcp-reset is valid only with -p tcp")]
    TcpResetNeedsTcp,
    #[error("iptables: source and destination must be of the same family, got {src} and {dst}")]
    MixedFamilies { src: String, dst: String },
    #[error("iptables: Index of insertion too big: chain {chain} has {len} rules, got {index}")]
    InsertIndex {
        chain: Chain,
        len: usize,
        index: usize,
    },
    #[error("iptables: Index of deletion too big: chain {chain} has {len} rules, got {index}")]
    DeleteIndex {
        chain: Chain,
        len: usize,
        index: usize,
    },
    #[error("iptables: Bad rule (does a matching rule exist in that chain?): -D {chain} {rule}")]
    NoSuchRule { chain: Chain, rule: String },
    #[error("iptables: -D {0} expects a rule number or a rule specification")]
    DeleteWhat(Chain),
    #[error("iptables: unexpected argument \"{0}\"")]
    Unexpected(String),
}

/// The INPUT and OUTPUT chains of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Firewall {
    pub input: Vec<Rule>,
    pub output: Vec<Rule>,
}

enum Command {
    Append(Chain),
    Insert(Chain, usize),
    Delete(Chain),
    Flush(Option<Chain>),
}

fn parse_chain(option: &str, s: Option<&&str>) -> Result<Chain, FirewallError> {
    match s.copied() {
        Some("INPUT") => Ok(Chain::Input),
        Some("OUTPUT") => Ok(Chain::Output),
        Some(other) if !other.starts_with('-') => Err(FirewallError::UnknownChain(other.into())),
        _ => Err(FirewallError::MissingChain {
            option: option.to_string(),
        }),
    }
}

impl Firewall {
    pub fn new() -> Firewall {
        Firewall::default()
    }

    pub fn chain(&self, chain: Chain) -> &[Rule] {
        match chain {
            Chain::Input => &self.input,
            Chain::Output => &self.output,
        }
    }

    fn chain_mut(&mut self, chain: Chain) -> &mut Vec<Rule> {
        match chain {
            Chain::Input => &mut self.input,
            Chain::Output => &mut self.output,
        }
    }

    /// Applies one iptables command, given as its arguments without the program name:
    /// `["-A", "OUTPUT", "-d", "192.168.122.167", "-j", "DROP"]`.
    pub fn command(&mut self, args: &[&str]) -> Result<(), FirewallError> {
        let mut cmd: Option<(Command, String)> = None;
        let mut rest: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let set = |cmd: &mut Option<(Command, String)>, c: Command| {
                if let Some((_, first)) = cmd {
                    return Err(FirewallError::TwoCommands {
                        first: first.clone(),
                        second: a.to_string(),
                    });
                }
                *cmd = Some((c, a.to_string()));
                Ok(())
            };
            match a {
                "-A" | "--append" => {
                    let chain = parse_chain(a, args.get(i + 1))?;
                    set(&mut cmd, Command::Append(chain))?;
                    i += 2;
                }
                "-I" | "--insert" => {
                    let chain = parse_chain(a, args.get(i + 1))?;
                    i += 2;
                    let mut index = 1;
                    if let Some(n) = args.get(i)
                        && n.bytes().all(|b| b.is_ascii_digit())
                    {
                        index = n.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(|| {
                            FirewallError::BadValue {
                                option: "-I".to_string(),
                                value: n.to_string(),
                                expected: "a rule number from 1",
                            }
                        })?;
                        i += 1;
                    }
                    set(&mut cmd, Command::Insert(chain, index))?;
                }
                "-D" | "--delete" => {
                    let chain = parse_chain(a, args.get(i + 1))?;
                    set(&mut cmd, Command::Delete(chain))?;
                    i += 2;
                }
                "-F" | "--flush" => {
                    let chain = match args.get(i + 1) {
                        Some(c) if !c.starts_with('-') && *c != "!" => {
                            i += 1;
                            Some(parse_chain(a, Some(c))?)
                        }
                        _ => None,
                    };
                    set(&mut cmd, Command::Flush(chain))?;
                    i += 1;
                }
                "-t" | "--table" => match args.get(i + 1) {
                    Some(&"filter") => i += 2,
                    Some(t) => return Err(FirewallError::UnknownTable(t.to_string())),
                    None => {
                        return Err(FirewallError::MissingValue {
                            option: a.to_string(),
                            expected: "a table name (filter)",
                        });
                    }
                },
                _ => {
                    rest.push(a);
                    i += 1;
                }
            }
        }
        let Some((cmd, _)) = cmd else {
            return Err(FirewallError::NoCommand(match args.first() {
                Some(a) => format!("\"{a}\""),
                None => "nothing".to_string(),
            }));
        };
        match cmd {
            Command::Flush(chain) => {
                if let Some(a) = rest.first() {
                    return Err(FirewallError::Unexpected(a.to_string()));
                }
                match chain {
                    Some(c) => self.chain_mut(c).clear(),
                    None => {
                        self.input.clear();
                        self.output.clear();
                    }
                }
                Ok(())
            }
            Command::Append(chain) => {
                let rule = parse_rule(&rest)?;
                self.chain_mut(chain).push(rule);
                Ok(())
            }
            Command::Insert(chain, index) => {
                let rule = parse_rule(&rest)?;
                let rules = self.chain_mut(chain);
                if index > rules.len() + 1 {
                    return Err(FirewallError::InsertIndex {
                        chain,
                        len: rules.len(),
                        index,
                    });
                }
                rules.insert(index - 1, rule);
                Ok(())
            }
            Command::Delete(chain) => {
                if let [n] = rest.as_slice()
                    && n.bytes().all(|b| b.is_ascii_digit())
                {
                    let index: usize = n.parse().unwrap_or(usize::MAX);
                    let rules = self.chain_mut(chain);
                    if index == 0 || index > rules.len() {
                        return Err(FirewallError::DeleteIndex {
                            chain,
                            len: rules.len(),
                            index,
                        });
                    }
                    rules.remove(index - 1);
                    return Ok(());
                }
                if rest.is_empty() {
                    return Err(FirewallError::DeleteWhat(chain));
                }
                let rule = parse_rule(&rest)?;
                let rules = self.chain_mut(chain);
                match rules.iter().position(|r| r.same_as(&rule)) {
                    Some(at) => {
                        rules.remove(at);
                        Ok(())
                    }
                    None => Err(FirewallError::NoSuchRule {
                        chain,
                        rule: rule.spec(),
                    }),
                }
            }
        }
    }

    /// Runs a datagram through a chain: the first matching rule with a target decides.
    pub fn check(&mut self, chain: Chain, datagram: &[u8]) -> Verdict {
        let info = PacketInfo::parse(datagram);
        for (i, rule) in self.chain_mut(chain).iter_mut().enumerate() {
            let hit = match &info {
                Some(p) => rule.matches(p),
                // Bytes that are not IP match only a rule without matches.
                None => {
                    *rule
                        == Rule {
                            target: rule.target,
                            packets: rule.packets,
                            bytes: rule.bytes,
                            ..Rule::default()
                        }
                }
            };
            if !hit {
                continue;
            }
            rule.packets += 1;
            rule.bytes += datagram.len() as u64;
            let text = || format!("-A {chain} {}", rule.spec());
            match rule.target {
                None => continue,
                Some(Target::Accept) => return Verdict::Accept,
                Some(Target::Drop) => {
                    return Verdict::Drop {
                        index: i + 1,
                        rule: text(),
                    };
                }
                Some(Target::Reject(with)) => {
                    return Verdict::Reject {
                        index: i + 1,
                        rule: text(),
                        with,
                    };
                }
            }
        }
        Verdict::Accept
    }

    /// The rules as `iptables -S` prints them.
    pub fn save(&self) -> String {
        let mut out = String::from("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
        for chain in [Chain::Input, Chain::Output] {
            for r in self.chain(chain) {
                out.push_str(&format!("-A {chain} {}\n", r.spec()));
            }
        }
        out
    }
}

fn parse_rule(args: &[&str]) -> Result<Rule, FirewallError> {
    let mut r = Rule::default();
    let mut i = 0;
    let mut negate = false;
    let mut reject_with: Option<RejectWith> = None;
    let mut saw_reject = false;
    while i < args.len() {
        let a = args[i];
        if a == "!" {
            if negate {
                return Err(FirewallError::BadNegation("!".into()));
            }
            negate = true;
            i += 1;
            continue;
        }
        let value = |expected: &'static str| -> Result<&str, FirewallError> {
            args.get(i + 1)
                .copied()
                .ok_or_else(|| FirewallError::MissingValue {
                    option: a.to_string(),
                    expected,
                })
        };
        let neg = negate;
        negate = false;
        fn mk<T>(negated: bool, value: T) -> Cond<T> {
            Cond { value, negated }
        }
        fn once<T>(slot: &mut Option<T>, v: T, opt: &str) -> Result<(), FirewallError> {
            if slot.is_some() {
                return Err(FirewallError::Duplicate(opt.to_string()));
            }
            *slot = Some(v);
            Ok(())
        }
        let tcp_only = |r: &Rule| {
            if r.proto
                == Some(Cond {
                    value: IPPROTO_TCP,
                    negated: false,
                })
            {
                Ok(())
            } else {
                Err(FirewallError::NeedsTcp(a.to_string()))
            }
        };
        match a {
            "-s" | "--source" | "--src" => {
                let v = value("an address[/prefix]")?;
                once(&mut r.src, mk(neg, Cidr::parse(a, v)?), "-s")?;
                i += 2;
            }
            "-d" | "--destination" | "--dst" => {
                let v = value("an address[/prefix]")?;
                once(&mut r.dst, mk(neg, Cidr::parse(a, v)?), "-d")?;
                i += 2;
            }
            "-p" | "--protocol" => {
                let v = value("a protocol (tcp, udp, icmp, all or a number)")?;
                let p = match v.to_ascii_lowercase().as_str() {
                    "tcp" => Some(6),
                    "udp" => Some(17),
                    "icmp" => Some(1),
                    "ipv6-icmp" | "icmpv6" => Some(58),
                    "all" | "0" => None,
                    n => Some(n.parse::<u8>().map_err(|_| FirewallError::BadValue {
                        option: a.to_string(),
                        value: v.to_string(),
                        expected: "a protocol (tcp, udp, icmp, all or a number)",
                    })?),
                };
                if let Some(p) = p {
                    once(&mut r.proto, mk(neg, p), "-p")?;
                }
                i += 2;
            }
            "-m" | "--match" => {
                let v = value("a match module (tcp)")?;
                if v != "tcp" {
                    return Err(FirewallError::BadValue {
                        option: a.to_string(),
                        value: v.to_string(),
                        expected: "the tcp match module (the only one modelled)",
                    });
                }
                tcp_only(&r)?;
                i += 2;
            }
            "--sport" | "--source-port" => {
                tcp_only(&r)?;
                let v = value("a port or lo:hi")?;
                once(&mut r.sport, mk(neg, PortRange::parse(a, v)?), "--sport")?;
                i += 2;
            }
            "--dport" | "--destination-port" => {
                tcp_only(&r)?;
                let v = value("a port or lo:hi")?;
                once(&mut r.dport, mk(neg, PortRange::parse(a, v)?), "--dport")?;
                i += 2;
            }
            "--tcp-flags" => {
                tcp_only(&r)?;
                let (Some(mask), Some(comp)) = (args.get(i + 1), args.get(i + 2)) else {
                    return Err(FirewallError::MissingValue {
                        option: a.to_string(),
                        expected: "two flag lists, the mask and the flags that must be set (SYN,ACK SYN)",
                    });
                };
                let m = FlagsMatch {
                    mask: parse_flag_list(mask)?,
                    comp: parse_flag_list(comp)?,
                };
                once(&mut r.tcp_flags, mk(neg, m), "--tcp-flags")?;
                i += 3;
            }
            "--syn" => {
                tcp_only(&r)?;
                let m = FlagsMatch {
                    mask: 0x17,
                    comp: 0x02,
                };
                once(&mut r.tcp_flags, mk(neg, m), "--tcp-flags")?;
                i += 1;
            }
            "-j" | "--jump" => {
                if neg {
                    return Err(FirewallError::BadNegation(a.to_string()));
                }
                let v = value("a target (ACCEPT, DROP or REJECT)")?;
                let t = match v {
                    "ACCEPT" => Target::Accept,
                    "DROP" => Target::Drop,
                    "REJECT" => {
                        saw_reject = true;
                        Target::Reject(RejectWith::IcmpPortUnreachable)
                    }
                    _ => {
                        return Err(FirewallError::BadValue {
                            option: a.to_string(),
                            value: v.to_string(),
                            expected: "a target (ACCEPT, DROP or REJECT)",
                        });
                    }
                };
                once(&mut r.target, t, "-j")?;
                i += 2;
            }
            "--reject-with" => {
                if !saw_reject || neg {
                    return Err(FirewallError::RejectWithoutReject);
                }
                let v = value("a reject type (tcp-reset or an icmp type)")?;
                let w = REJECT_NAMES
                    .iter()
                    .find(|(n, _)| *n == v)
                    .map(|(_, w)| *w)
                    .ok_or_else(|| FirewallError::BadValue {
                        option: a.to_string(),
                        value: v.to_string(),
                        expected: "tcp-reset, icmp-net-unreachable, icmp-host-unreachable, icmp-port-unreachable, icmp-proto-unreachable, icmp-net-prohibited, icmp-host-prohibited, icmp-admin-prohibited or an icmp6- type",
                    })?;
                once(&mut reject_with, w, "--reject-with")?;
                i += 2;
            }
            _ if neg => return Err(FirewallError::BadNegation(a.to_string())),
            _ if a.starts_with('-') => return Err(FirewallError::UnknownOption(a.to_string())),
            _ => return Err(FirewallError::Unexpected(a.to_string())),
        }
    }
    if negate {
        return Err(FirewallError::BadNegation("the end of the rule".into()));
    }
    if let Some(w) = reject_with {
        if w == RejectWith::TcpReset
            && r.proto
                != Some(Cond {
                    value: IPPROTO_TCP,
                    negated: false,
                })
        {
            return Err(FirewallError::TcpResetNeedsTcp);
        }
        r.target = Some(Target::Reject(w));
    }
    if let (Some(s), Some(d)) = (&r.src, &r.dst)
        && s.value.addr.is_ipv4() != d.value.addr.is_ipv4()
    {
        return Err(FirewallError::MixedFamilies {
            src: s.value.to_string(),
            dst: d.value.to_string(),
        });
    }
    Ok(r)
}

/// The reply a REJECT sends for `datagram`, or `None` when Linux sends none (the datagram is
/// a reset, not TCP for `tcp-reset`, has a bad checksum, or does not parse).
pub fn reject_reply(datagram: &[u8], with: RejectWith) -> Option<Vec<u8>> {
    match with {
        RejectWith::TcpReset => tcp_reset_reply(datagram),
        _ => icmp_unreachable_reply(datagram, with),
    }
}

/// Linux: nf_send_reset() and nf_reject_ip_tcphdr_put() (nf_reject_ipv4.c; the IPv6 twin in
/// nf_reject_ipv6.c): no reply to a reset or to a segment with a bad checksum; if the segment
/// carried an ACK, `R` with seq = its ack; otherwise `R.` with seq 0 acking all it occupied.
fn tcp_reset_reply(datagram: &[u8]) -> Option<Vec<u8>> {
    let (ip, payload) = IpRepr::parse(datagram).ok()?;
    if ip.protocol() != IPPROTO_TCP {
        return None;
    }
    let tcp = TcpRepr::parse(payload).ok()?;
    if tcp.flags.contains(TcpFlags::RST)
        || !tcplab_wire::tcp::verify_checksum(ip.src(), ip.dst(), payload)
    {
        return None;
    }
    let (seq, ack, flags) = if tcp.flags.contains(TcpFlags::ACK) {
        (tcp.ack, 0, TcpFlags::RST)
    } else {
        let occupied = tcp.payload.len() as u32
            + u32::from(tcp.flags.contains(TcpFlags::SYN))
            + u32::from(tcp.flags.contains(TcpFlags::FIN));
        (
            0,
            tcp.seq.wrapping_add(occupied),
            TcpFlags(TcpFlags::RST.bits() | TcpFlags::ACK.bits()),
        )
    };
    let reply = TcpRepr {
        src_port: tcp.dst_port,
        dst_port: tcp.src_port,
        seq,
        ack,
        flags,
        window: 0,
        ..TcpRepr::default()
    };
    let header = IpHeader {
        src: ip.dst(),
        dst: ip.src(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: true,
        flow_label: 0,
    };
    let mut buf = vec![0u8; 60 + reply.buffer_len()];
    let n = emit_ip_tcp(&mut buf, &header, &reply).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Linux: icmp_send() / icmp6_send(): a destination-unreachable quoting as much of the
/// offending datagram as fits in 576 bytes (IPv4) or 1280 bytes (IPv6).
fn icmp_unreachable_reply(datagram: &[u8], with: RejectWith) -> Option<Vec<u8>> {
    let (ip, _) = IpRepr::parse(datagram).ok()?;
    match (ip.src(), ip.dst()) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let quote = &datagram[..datagram.len().min(576 - 20 - 8)];
            let mut icmp = vec![3, with.icmp4_code(), 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(quote);
            let c = checksum::checksum(&icmp);
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            let mut repr = Ipv4Repr {
                tos: 0xc0,
                total_len: (20 + icmp.len()) as u16,
                ident: 0,
                reserved_flag: false,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
                ttl: 64,
                protocol: 1,
                checksum: 0,
                src: dst,
                dst: src,
                options: &[],
                trailer: &[],
            };
            repr.checksum = repr.compute_checksum();
            let mut buf = vec![0u8; 20 + icmp.len()];
            let n = repr.emit(&mut buf, &icmp).ok()?;
            buf.truncate(n);
            Some(buf)
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let quote = &datagram[..datagram.len().min(1280 - 40 - 8)];
            let mut icmp = vec![1, with.icmp6_code(), 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(quote);
            let pseudo = checksum::pseudo_header_v6(dst, src, 58, icmp.len() as u32);
            let c = !checksum::fold(checksum::accumulate(pseudo, &icmp));
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            let repr = Ipv6Repr {
                traffic_class: 0,
                flow_label: 0,
                payload_len: icmp.len() as u16,
                next_header: 58,
                hop_limit: 64,
                src: dst,
                dst: src,
                trailer: &[],
            };
            let mut buf = vec![0u8; 40 + icmp.len()];
            let n = repr.emit(&mut buf, &icmp).ok()?;
            buf.truncate(n);
            Some(buf)
        }
        _ => None,
    }
}
