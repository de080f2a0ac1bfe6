//! One-line printers: tcpdump's default (`-n`) text and packetdrill's script syntax.
//!
//! Guarantees: printing never fails or panics, whatever the repr holds. The tcpdump printer
//! re-emits the option bytes and walks them exactly as tcpdump's tcp_print() in print-tcp.c
//! does (including `[len N]` for an option of unexpected length and `[bad opt]`, after which
//! tcpdump prints nothing more). Options tcpdump decodes with a dedicated printer (md5, mptcp,
//! tfo, exp) are shown here by name and raw hex. The packetdrill printer follows
//! tcp_packet_to_string() in packetdrill's packet_to_string.c, printing `-` for an empty flag
//! set (the script syntax) and `unknown-N 0x…` for an option packetdrill has no syntax for.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use crate::bytes::{read_u8, read_u16, read_u32};
use crate::tcp::{TcpFlags, TcpOption, TcpRepr};
use crate::{IPPROTO_TCP, IpRepr};

/// Initial sequence numbers subtracted to print relative numbers, as tcpdump does after the
/// handshake: `seq` from the segment's own sequence numbers, `ack` from its acknowledgment
/// number and SACK blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Isns {
    pub seq: u32,
    pub ack: u32,
}

/// tcpdump's text for one segment, starting at `Flags [..]`.
#[derive(Clone, Copy, Debug)]
pub struct Tcpdump<'r, 'a> {
    tcp: &'r TcpRepr<'a>,
    relative: Option<Isns>,
}

/// tcpdump's text for one segment with absolute sequence numbers (`tcpdump -S`).
pub fn tcpdump<'r, 'a>(tcp: &'r TcpRepr<'a>) -> Tcpdump<'r, 'a> {
    Tcpdump {
        tcp,
        relative: None,
    }
}

/// tcpdump's text for one segment with relative sequence numbers. Like tcpdump, numbers are
/// made relative only on segments with ACK and without SYN; others print absolute.
pub fn tcpdump_relative<'r, 'a>(tcp: &'r TcpRepr<'a>, isns: Isns) -> Tcpdump<'r, 'a> {
    Tcpdump {
        tcp,
        relative: Some(isns),
    }
}

impl fmt::Display for Tcpdump<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tcp = self.tcp;
        let flags = tcp.flags;
        let base = match self.relative {
            Some(isns) if flags.contains(TcpFlags::ACK) && !flags.contains(TcpFlags::SYN) => isns,
            _ => Isns { seq: 0, ack: 0 },
        };
        let seq = tcp.seq.wrapping_sub(base.seq);
        let len = tcp.payload.len() as u32;
        write!(f, "Flags [{flags}]")?;
        if len > 0 || flags.intersects(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) {
            write!(f, ", seq {seq}")?;
            if len > 0 {
                write!(f, ":{}", seq.wrapping_add(len))?;
            }
        }
        if flags.contains(TcpFlags::ACK) {
            write!(f, ", ack {}", tcp.ack.wrapping_sub(base.ack))?;
        }
        write!(f, ", win {}", tcp.window)?;
        if flags.contains(TcpFlags::URG) {
            write!(f, ", urg {}", tcp.urgent)?;
        }
        let mut opts = [0u8; 40];
        match tcp.emit_options(&mut opts) {
            Ok(0) => {}
            Ok(n) => {
                f.write_str(", options [")?;
                if !tcpdump_options(f, opts.get(..n).unwrap_or(&[]), base.ack)? {
                    return Ok(());
                }
            }
            Err(_) => return f.write_str(", options [[bad opt]"),
        }
        write!(f, ", length {len}")
    }
}

/// tcpdump's `tcp_option_values` names; kinds not listed print as `unknown-N`.
fn tcpdump_option_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0 => "eol",
        1 => "nop",
        2 => "mss",
        3 => "wscale",
        4 => "sackOK",
        5 => "sack",
        6 => "echo",
        7 => "echoreply",
        8 => "TS",
        11 => "cc",
        12 => "ccnew",
        13 => "",
        19 => "md5",
        20 => "scps",
        28 => "uto",
        29 => "tcp-ao",
        30 => "mptcp",
        34 => "tfo",
        254 => "exp",
        _ => return None,
    })
}

/// Walks option bytes as tcp_print() does, after `, options [` was written. Returns false if
/// tcpdump would have stopped at `[bad opt]`, in which case it printed nothing after.
fn tcpdump_options(
    f: &mut fmt::Formatter<'_>,
    opts: &[u8],
    sack_base: u32,
) -> Result<bool, fmt::Error> {
    let mut hlen = opts.len();
    let mut cp = 0usize;
    let mut first = true;
    let bad = |f: &mut fmt::Formatter<'_>, first: bool| -> Result<bool, fmt::Error> {
        f.write_str("[bad opt]")?;
        if !first {
            f.write_char(']')?;
        }
        Ok(false)
    };
    while hlen > 0 {
        if !first {
            f.write_char(',')?;
        }
        let opt = read_u8(opts, cp);
        cp += 1;
        let zero_len = opt == 0 || opt == 1;
        let len = if zero_len {
            1
        } else {
            if hlen < 2 {
                return bad(f, first);
            }
            let len = usize::from(read_u8(opts, cp));
            cp += 1;
            if len < 2 || len > hlen {
                return bad(f, first);
            }
            hlen -= 1;
            len
        };
        hlen -= 1;
        match tcpdump_option_name(opt) {
            Some(name) => f.write_str(name)?,
            None => write!(f, "unknown-{opt}")?,
        }
        let body = opts.get(cp..cp + hlen).unwrap_or(&[]);
        let datalen = match opt {
            2 | 3 | 6 | 7 | 11 | 12 | 13 | 8 | 20 | 28 => {
                let datalen = match opt {
                    2 | 20 | 28 => 2,
                    3 => 1,
                    8 => 8,
                    _ => 4,
                };
                if datalen > hlen {
                    return bad(f, first);
                }
                match opt {
                    2 => write!(f, " {}", read_u16(body, 0))?,
                    3 => write!(f, " {}", read_u8(body, 0))?,
                    8 => write!(f, " val {} ecr {}", read_u32(body, 0), read_u32(body, 4))?,
                    20 => write!(f, " cap {:02x} id {}", read_u8(body, 0), read_u8(body, 1))?,
                    28 => {
                        let raw = read_u16(body, 0);
                        // RFC 5482: the low bit says minutes rather than seconds.
                        let secs = if raw & 1 != 0 {
                            u32::from(raw >> 1) * 60
                        } else {
                            u32::from(raw >> 1)
                        };
                        write!(f, " 0x{raw:x} {secs}")?;
                    }
                    _ => write!(f, " {}", read_u32(body, 0))?,
                }
                datalen
            }
            5 => {
                let datalen = len - 2;
                if !datalen.is_multiple_of(8) {
                    f.write_str(" invalid sack")?;
                } else {
                    write!(f, " {} ", datalen / 8)?;
                    for block in body.get(..datalen).unwrap_or(&[]).chunks_exact(8) {
                        let s = read_u32(block, 0).wrapping_sub(sack_base);
                        let e = read_u32(block, 4).wrapping_sub(sack_base);
                        write!(f, "{{{s}:{e}}}")?;
                    }
                }
                datalen
            }
            29 => {
                let datalen = len - 2;
                if datalen < 2 {
                    f.write_str("invalid")?;
                } else {
                    write!(
                        f,
                        " keyid {} rnextkeyid {}",
                        read_u8(body, 0),
                        read_u8(body, 1)
                    )?;
                    if datalen > 2 {
                        f.write_str(" mac 0x")?;
                        write_hex(f, body.get(2..datalen).unwrap_or(&[]))?;
                    }
                }
                datalen
            }
            0 | 1 | 4 => 0,
            _ => {
                let datalen = len - 2;
                if datalen > 0 {
                    f.write_str(" 0x")?;
                    write_hex(f, body.get(..datalen).unwrap_or(&[]))?;
                }
                datalen
            }
        };
        cp += datalen;
        hlen -= datalen;
        let seen = datalen + if zero_len { 1 } else { 2 };
        if seen != len {
            write!(f, "[len {len}]")?;
        }
        first = false;
        if opt == 0 {
            break;
        }
    }
    f.write_char(']')?;
    Ok(true)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// tcpdump's whole line for a TCP datagram: `IP a.p > b.q: Flags [..], ...`.
#[derive(Clone, Copy, Debug)]
pub struct TcpdumpLine<'r, 'a> {
    src: IpAddr,
    dst: IpAddr,
    segment: Tcpdump<'r, 'a>,
}

/// The whole tcpdump line for `tcp` carried between `ip`'s addresses.
pub fn tcpdump_line<'r, 'a>(ip: &IpRepr<'_>, tcp: &'r TcpRepr<'a>) -> TcpdumpLine<'r, 'a> {
    TcpdumpLine {
        src: ip.src(),
        dst: ip.dst(),
        segment: tcpdump(tcp),
    }
}

/// The whole tcpdump line with relative sequence numbers (see [`tcpdump_relative`]).
pub fn tcpdump_line_relative<'r, 'a>(
    ip: &IpRepr<'_>,
    tcp: &'r TcpRepr<'a>,
    isns: Isns,
) -> TcpdumpLine<'r, 'a> {
    TcpdumpLine {
        src: ip.src(),
        dst: ip.dst(),
        segment: tcpdump_relative(tcp, isns),
    }
}

impl fmt::Display for TcpdumpLine<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = if self.src.is_ipv4() { "IP" } else { "IP6" };
        let tcp = self.segment.tcp;
        write!(
            f,
            "{family} {}.{} > {}.{}: {}",
            self.src, tcp.src_port, self.dst, tcp.dst_port, self.segment
        )
    }
}

/// Parses a datagram and prints its tcpdump line; a datagram that is not TCP or does not
/// parse gets a line naming what it is or why it failed.
pub fn tcpdump_datagram(datagram: &[u8]) -> String {
    let (ip, payload) = match IpRepr::parse(datagram) {
        Ok(parsed) => parsed,
        Err(err) => return format!("[invalid IP datagram: {err}]"),
    };
    let family = if ip.version() == 4 { "IP" } else { "IP6" };
    if ip.protocol() != IPPROTO_TCP {
        return format!(
            "{family} {} > {}: ip-proto-{} {}",
            ip.src(),
            ip.dst(),
            ip.protocol(),
            payload.len()
        );
    }
    match TcpRepr::parse(payload) {
        Ok(tcp) => tcpdump_line(&ip, &tcp).to_string(),
        Err(err) => format!(
            "{family} {} > {}: [invalid TCP segment: {err}]",
            ip.src(),
            ip.dst()
        ),
    }
}

/// packetdrill's flag letters, in its order (tcpdump's, with `A` for AE).
const PACKETDRILL_LETTERS: [(TcpFlags, char); 9] = [
    (TcpFlags::FIN, 'F'),
    (TcpFlags::SYN, 'S'),
    (TcpFlags::RST, 'R'),
    (TcpFlags::PSH, 'P'),
    (TcpFlags::ACK, '.'),
    (TcpFlags::URG, 'U'),
    (TcpFlags::ECE, 'E'),
    (TcpFlags::CWR, 'W'),
    (TcpFlags::AE, 'A'),
];

/// packetdrill's text for one segment: `S. 0:0(0) ack 1 win 65535 <mss 1460,...>`.
#[derive(Clone, Copy, Debug)]
pub struct Packetdrill<'r, 'a> {
    tcp: &'r TcpRepr<'a>,
}

pub fn packetdrill<'r, 'a>(tcp: &'r TcpRepr<'a>) -> Packetdrill<'r, 'a> {
    Packetdrill { tcp }
}

impl fmt::Display for Packetdrill<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tcp = self.tcp;
        let mut any = false;
        for (flag, letter) in PACKETDRILL_LETTERS {
            if tcp.flags.contains(flag) {
                f.write_char(letter)?;
                any = true;
            }
        }
        if !any {
            f.write_char('-')?;
        }
        let len = tcp.payload.len() as u32;
        write!(f, " {}:{}({len})", tcp.seq, tcp.seq.wrapping_add(len))?;
        if tcp.flags.contains(TcpFlags::ACK) {
            write!(f, " ack {}", tcp.ack)?;
        }
        write!(f, " win {}", tcp.window)?;
        if tcp.flags.contains(TcpFlags::URG) {
            write!(f, " urg {}", tcp.urgent)?;
        }
        if tcp.options.is_empty() {
            return Ok(());
        }
        f.write_str(" <")?;
        for (i, option) in tcp.options.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            match option {
                TcpOption::Eol => f.write_str("eol")?,
                TcpOption::Nop => f.write_str("nop")?,
                TcpOption::Mss(mss) => write!(f, "mss {mss}")?,
                TcpOption::WindowScale(shift) => write!(f, "wscale {shift}")?,
                TcpOption::SackPermitted => f.write_str("sackOK")?,
                TcpOption::Sack(blocks) => {
                    f.write_str("sack")?;
                    for b in blocks {
                        write!(f, " {}:{}", b.left, b.right)?;
                    }
                }
                TcpOption::Timestamps { tsval, tsecr } => write!(f, "TS val {tsval} ecr {tsecr}")?,
                TcpOption::Unknown { kind, data } => {
                    write!(f, "unknown-{kind}")?;
                    if !data.is_empty() {
                        f.write_str(" 0x")?;
                        write_hex(f, data)?;
                    }
                }
            }
        }
        f.write_char('>')
    }
}

#[cfg(test)]
#[path = "print_tests.rs"]
mod tests;
