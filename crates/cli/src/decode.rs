//! `tcplab decode`: one IP datagram from hex to tcpdump's line, packetdrill's line and every
//! header field.
//!
//! Guarantees: any input either decodes or ends with one sentence on stderr and exit status 1;
//! nothing here panics, because every field comes from the wire crate's checked reprs.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use tcplab_wire::print::{packetdrill, tcpdump_datagram, tcpdump_line};
use tcplab_wire::tcp::verify_checksum;
use tcplab_wire::{
    Checksum, IPPROTO_TCP, IpRepr, Ipv4Repr, Ipv6Repr, TcpFlags, TcpOption, TcpRepr,
};

/// Why the arguments are not a byte string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HexError {
    Empty,
    NotHex { character: char, position: usize },
    OddLength { digits: usize },
}

impl std::fmt::Display for HexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HexError::Empty => f.write_str("no hex digits were given; pass the datagram's bytes"),
            HexError::NotHex {
                character,
                position,
            } => write!(
                f,
                "{character:?} at character {position} is not a hex digit; give the bytes as \
                 hex such as \"45 00 00 3c\""
            ),
            HexError::OddLength { digits } => write!(
                f,
                "the input has {digits} hex digits, an odd number; every byte takes two"
            ),
        }
    }
}

/// The bytes spelled by `args`: hex digits, with blanks anywhere and an optional `0x` at the
/// start of each argument. Positions in errors count characters from 1 across the arguments
/// joined by one space.
pub fn parse_hex(args: &[String]) -> Result<Vec<u8>, HexError> {
    let mut digits = Vec::new();
    let mut position = 0;
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            position += 1;
        }
        let (skipped, rest) = match arg.strip_prefix("0x").or_else(|| arg.strip_prefix("0X")) {
            Some(rest) => (2, rest),
            None => (0, arg.as_str()),
        };
        position += skipped;
        for c in rest.chars() {
            position += 1;
            if c.is_whitespace() {
                continue;
            }
            let Some(d) = c.to_digit(16) else {
                return Err(HexError::NotHex {
                    character: c,
                    position,
                });
            };
            digits.push(d as u8);
        }
    }
    if digits.is_empty() {
        return Err(HexError::Empty);
    }
    if digits.len() % 2 != 0 {
        return Err(HexError::OddLength {
            digits: digits.len(),
        });
    }
    Ok(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

pub fn run(args: &[String], out: &mut impl Write) -> io::Result<ExitCode> {
    let bytes = match parse_hex(args) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("tcplab: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (ip, l4) = match IpRepr::parse(&bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("tcplab: cannot decode the datagram: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if ip.protocol() != IPPROTO_TCP {
        writeln!(out, "tcpdump:     {}", tcpdump_datagram(&bytes))?;
        out.write_all(ip_fields(&ip).as_bytes())?;
        writeln!(
            out,
            "payload: {} of protocol {}, which tcplab does not decode",
            byte_count(l4.len()),
            ip.protocol()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let tcp = match TcpRepr::parse(l4) {
        Ok(tcp) => tcp,
        Err(e) => {
            out.write_all(ip_fields(&ip).as_bytes())?;
            out.flush()?;
            eprintln!("tcplab: cannot decode the TCP segment: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    writeln!(out, "tcpdump:     {}", tcpdump_line(&ip, &tcp))?;
    writeln!(out, "packetdrill: {}", packetdrill(&tcp))?;
    out.write_all(ip_fields(&ip).as_bytes())?;
    out.write_all(tcp_fields(&ip, &tcp, l4).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Appends one `  name  value` row.
fn row(text: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = writeln!(text, "  {name:<22}{value}");
}

fn byte_count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ip_fields(ip: &IpRepr<'_>) -> String {
    match ip {
        IpRepr::V4(v4) => ipv4_fields(v4),
        IpRepr::V6(v6) => ipv6_fields(v6),
    }
}

fn ipv4_fields(ip: &Ipv4Repr<'_>) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "IPv4 header ({} bytes):", ip.header_len());
    row(&mut t, "version", 4);
    row(
        &mut t,
        "header length",
        format!("{} bytes (ihl {})", ip.header_len(), ip.header_len() / 4),
    );
    row(
        &mut t,
        "tos",
        format!("{:#04x} (dscp {}, ecn {})", ip.tos, ip.dscp(), ip.ecn()),
    );
    row(&mut t, "total length", ip.total_len);
    row(
        &mut t,
        "identification",
        format!("{:#06x} ({})", ip.ident, ip.ident),
    );
    let mut flags = Vec::new();
    if ip.reserved_flag {
        flags.push("reserved");
    }
    if ip.dont_frag {
        flags.push("DF");
    }
    if ip.more_frags {
        flags.push("MF");
    }
    row(
        &mut t,
        "flags",
        if flags.is_empty() {
            "none".to_string()
        } else {
            flags.join(" ")
        },
    );
    row(
        &mut t,
        "fragment offset",
        format!(
            "{} ({} bytes)",
            ip.frag_offset,
            u32::from(ip.frag_offset) * 8
        ),
    );
    row(&mut t, "ttl", ip.ttl);
    row(&mut t, "protocol", protocol_name(ip.protocol));
    let expected = ip.compute_checksum();
    row(
        &mut t,
        "header checksum",
        if expected == ip.checksum {
            format!("{:#06x} (correct)", ip.checksum)
        } else {
            format!("{:#06x} (wrong, should be {expected:#06x})", ip.checksum)
        },
    );
    row(&mut t, "source", ip.src);
    row(&mut t, "destination", ip.dst);
    if !ip.options.is_empty() {
        row(&mut t, "options", hex(ip.options));
    }
    if !ip.trailer.is_empty() {
        row(
            &mut t,
            "trailer",
            format!(
                "{} after the total length: {}",
                byte_count(ip.trailer.len()),
                hex(ip.trailer)
            ),
        );
    }
    t
}

fn ipv6_fields(ip: &Ipv6Repr<'_>) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "IPv6 header ({} bytes):", ip.header_len());
    row(&mut t, "version", 6);
    row(
        &mut t,
        "traffic class",
        format!(
            "{:#04x} (dscp {}, ecn {})",
            ip.traffic_class,
            ip.traffic_class >> 2,
            ip.traffic_class & 3
        ),
    );
    row(&mut t, "flow label", format!("{:#07x}", ip.flow_label));
    row(&mut t, "payload length", ip.payload_len);
    row(&mut t, "next header", protocol_name(ip.next_header));
    row(&mut t, "hop limit", ip.hop_limit);
    row(&mut t, "source", ip.src);
    row(&mut t, "destination", ip.dst);
    if !ip.trailer.is_empty() {
        row(
            &mut t,
            "trailer",
            format!(
                "{} after the payload length: {}",
                byte_count(ip.trailer.len()),
                hex(ip.trailer)
            ),
        );
    }
    t
}

fn protocol_name(protocol: u8) -> String {
    match protocol {
        1 => "1 (icmp)".to_string(),
        6 => "6 (tcp)".to_string(),
        17 => "17 (udp)".to_string(),
        58 => "58 (icmpv6)".to_string(),
        n => n.to_string(),
    }
}

/// The flag names in header order, as RFC 9293 §3.1 and RFC 9768 (AE) name them.
const FLAG_NAMES: [(TcpFlags, &str); 9] = [
    (TcpFlags::AE, "AE"),
    (TcpFlags::CWR, "CWR"),
    (TcpFlags::ECE, "ECE"),
    (TcpFlags::URG, "URG"),
    (TcpFlags::ACK, "ACK"),
    (TcpFlags::PSH, "PSH"),
    (TcpFlags::RST, "RST"),
    (TcpFlags::SYN, "SYN"),
    (TcpFlags::FIN, "FIN"),
];

fn tcp_fields(ip: &IpRepr<'_>, tcp: &TcpRepr<'_>, segment: &[u8]) -> String {
    let mut t = String::new();
    let data_offset = segment.get(12).map_or(0, |b| b >> 4);
    let _ = writeln!(t, "TCP header ({} bytes):", usize::from(data_offset) * 4);
    row(&mut t, "source port", tcp.src_port);
    row(&mut t, "destination port", tcp.dst_port);
    row(&mut t, "sequence number", tcp.seq);
    row(&mut t, "acknowledgment number", tcp.ack);
    row(
        &mut t,
        "data offset",
        format!("{data_offset} ({} bytes)", usize::from(data_offset) * 4),
    );
    let mut names: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(flag, _)| tcp.flags.contains(*flag))
        .map(|&(_, name)| name)
        .collect();
    let reserved = tcp.flags & TcpFlags::RESERVED;
    let reserved_text = format!("reserved {:#x}", reserved.bits() >> 9);
    if !reserved.is_empty() {
        names.push(&reserved_text);
    }
    row(
        &mut t,
        "flags",
        format!(
            "{:#05x} [{}] {}",
            tcp.flags.bits(),
            tcp.flags,
            names.join(" ")
        ),
    );
    row(&mut t, "window", tcp.window);
    row(&mut t, "checksum", tcp_checksum_text(ip, tcp, segment));
    row(&mut t, "urgent pointer", tcp.urgent);
    if tcp.options.is_empty() {
        row(&mut t, "options", "none");
    } else {
        let _ = writeln!(t, "  options:");
        for option in &tcp.options {
            let _ = writeln!(t, "    {}", option_text(option));
        }
    }
    if !tcp.option_padding.is_empty() {
        row(&mut t, "padding after eol", hex(&tcp.option_padding));
    }
    let payload = if tcp.payload.is_empty() {
        "0 bytes".to_string()
    } else if tcp.payload.len() <= 32 {
        format!("{}: {}", byte_count(tcp.payload.len()), hex(tcp.payload))
    } else {
        format!(
            "{}: {}...",
            byte_count(tcp.payload.len()),
            hex(tcp.payload.get(..32).unwrap_or_default())
        )
    };
    row(&mut t, "payload", payload);
    t
}

fn tcp_checksum_text(ip: &IpRepr<'_>, tcp: &TcpRepr<'_>, segment: &[u8]) -> String {
    let (src, dst): (IpAddr, IpAddr) = (ip.src(), ip.dst());
    if verify_checksum(src, dst, segment) {
        return format!("{:#06x} (correct)", tcp.checksum);
    }
    let mut buf = vec![0u8; tcp.buffer_len()];
    match tcp.emit(&mut buf, Checksum::Compute { src, dst }) {
        Ok(_) => {
            let expected = u16::from_be_bytes([buf[16], buf[17]]);
            format!("{:#06x} (wrong, should be {expected:#06x})", tcp.checksum)
        }
        Err(_) => format!("{:#06x} (wrong)", tcp.checksum),
    }
}

fn option_text(option: &TcpOption) -> String {
    match option {
        TcpOption::Eol => "eol (kind 0)".to_string(),
        TcpOption::Nop => "nop (kind 1)".to_string(),
        TcpOption::Mss(mss) => format!("mss {mss} (kind 2)"),
        TcpOption::WindowScale(shift) => format!("wscale {shift} (kind 3)"),
        TcpOption::SackPermitted => "sackOK (kind 4)".to_string(),
        TcpOption::Sack(blocks) => {
            let blocks: Vec<String> = blocks
                .iter()
                .map(|b| format!("{}:{}", b.left, b.right))
                .collect();
            format!("sack {} (kind 5)", blocks.join(" "))
        }
        TcpOption::Timestamps { tsval, tsecr } => format!("TS val {tsval} ecr {tsecr} (kind 8)"),
        TcpOption::Unknown { kind, data } => {
            if data.is_empty() {
                format!("unknown (kind {kind})")
            } else {
                format!("unknown (kind {kind}) 0x{}", hex(data))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hex_allows_blanks_and_0x() {
        assert_eq!(
            parse_hex(&args(&["0x45 00", "0a"])),
            Ok(vec![0x45, 0x00, 0x0a])
        );
    }

    #[test]
    fn hex_errors_say_where() {
        assert_eq!(
            parse_hex(&args(&["45", "0g"])),
            Err(HexError::NotHex {
                character: 'g',
                position: 5
            })
        );
        assert_eq!(
            parse_hex(&args(&["450"])),
            Err(HexError::OddLength { digits: 3 })
        );
        assert_eq!(parse_hex(&args(&[" "])), Err(HexError::Empty));
    }
}
