//! Packet events: building the segments the script injects and checking the ones the stack
//! sends (packetdrill's run_packet.c).

use tcplab_stack::Instant;
use tcplab_wire::print::packetdrill;
use tcplab_wire::{IpHeader, IpRepr, SackBlock, TcpFlags, TcpOption, TcpRepr, emit_ip_tcp};

use super::{Failure, Runner, SNIFF_GIVE_UP_USECS, Sent, Step, Stop, When, ceil_us, secs};
use crate::ast::{Direction, IpInfoItem, Pos, TcpOptionKind, TcpOptions, TcpPacket};

/// TTL of injected packets when the script gives none (packetdrill's default).
const INJECT_TTL: u8 = 255;

/// The flag bits a script packet line sets.
fn script_flags(p: &TcpPacket) -> TcpFlags {
    let f = &p.flags;
    let mut out = TcpFlags::NONE;
    for (on, flag) in [
        (f.fin, TcpFlags::FIN),
        (f.syn, TcpFlags::SYN),
        (f.rst, TcpFlags::RST),
        (f.psh, TcpFlags::PSH),
        (f.ack, TcpFlags::ACK),
        (f.urg, TcpFlags::URG),
        (f.ece, TcpFlags::ECE),
        (f.cwr, TcpFlags::CWR),
        (f.ae, TcpFlags::AE),
    ] {
        out.set(flag, on);
    }
    out
}

/// The ECN bits and TOS byte an `[ect0]`/`(tos 0x10)` decoration asks for.
fn ip_ecn_tos(p: &TcpPacket) -> (Option<&str>, Option<u8>, Option<u8>) {
    let mut ecn = None;
    let mut tos = None;
    let mut ttl = None;
    for item in p.ip_info.iter().flat_map(|i| &i.items) {
        match item {
            IpInfoItem::Ecn(e) => ecn = Some(e.as_str()),
            IpInfoItem::Tos(t) => tos = Some(*t as u8),
            IpInfoItem::Ttl(t) => ttl = Some(*t as u8),
            IpInfoItem::FlowLabel(_) => {}
        }
    }
    (ecn, tos, ttl)
}

fn ecn_bits(name: &str) -> Option<u8> {
    match name {
        "no_ecn" => Some(0),
        "ect1" => Some(1),
        "ect0" => Some(2),
        "ce" => Some(3),
        _ => None,
    }
}

impl Runner<'_> {
    /// The offset from script to live space for the stack's sequence numbers.
    fn local_offset(&self, syn: bool) -> u32 {
        let live = self.peer.live_local_isn.unwrap_or(0);
        if syn {
            live.wrapping_sub(self.peer.script_local_isn)
        } else {
            live
        }
    }

    /// The offset from script to live space for the script's own sequence numbers.
    fn remote_offset(&self, syn: bool) -> u32 {
        if syn { 0 } else { self.peer.remote_isn }
    }

    /// Injects a `<` packet at the current time.
    pub(super) fn inject(&mut self, p: &TcpPacket) -> Step {
        let Some(win) = p.win else {
            return Err(Stop::fail(
                p.pos,
                "window must be specified for inbound packets",
            ));
        };
        let flags = script_flags(p);
        let syn = flags.contains(TcpFlags::SYN);
        if syn {
            self.peer.remote_isn = p.seq.start;
        }
        let local_off = self.local_offset(syn);
        let mut options = Vec::new();
        match &p.options {
            Some(TcpOptions::Any(pos)) => {
                return Err(Stop::fail(
                    *pos,
                    "<...> for TCP options can only be used with outbound packets",
                ));
            }
            Some(TcpOptions::List(list)) => {
                for opt in list {
                    options.push(self.inbound_option(opt, flags, local_off)?);
                }
            }
            None => {}
        }
        let (src_port, dst_port) = p.ports.unwrap_or((
            self.peer.remote_port,
            self.peer.local_port.unwrap_or(self.setup.port),
        ));
        let ack = if flags.contains(TcpFlags::ACK) {
            p.ack.unwrap_or(0).wrapping_add(local_off)
        } else {
            p.ack.unwrap_or(0)
        };
        let payload = vec![0u8; p.seq.len as usize];
        let tcp = TcpRepr {
            src_port,
            dst_port,
            seq: p.seq.start.wrapping_add(self.remote_offset(syn)),
            ack,
            flags,
            window: u16::try_from(win)
                .map_err(|_| Stop::fail(p.pos, format!("window {win} does not fit 16 bits")))?,
            urgent: p.urg.unwrap_or(0) as u16,
            options,
            payload: &payload,
            ..TcpRepr::default()
        };
        let (ecn, tos, ttl) = ip_ecn_tos(p);
        let mut tos_byte = tos.unwrap_or(0);
        if let Some(bits) = ecn.and_then(ecn_bits) {
            tos_byte = (tos_byte & !3) | bits;
        }
        let ip = IpHeader {
            src: self.setup.remote_ip,
            dst: self.setup.local_ip,
            ttl: ttl.unwrap_or(INJECT_TTL),
            tos: tos_byte,
            ident: 0,
            dont_frag: false,
            flow_label: 0,
        };
        let mut buf = vec![0u8; 60 + 40 + tcp.buffer_len()];
        let n = emit_ip_tcp(&mut buf, &ip, &tcp)
            .map_err(|e| Stop::fail(p.pos, format!("cannot build this packet: {e}")))?;
        self.transcript.push(format!(
            "{} < {}",
            secs(self.now),
            packetdrill(&TcpRepr {
                seq: p.seq.start,
                ack: p.ack.unwrap_or(0),
                options: match &p.options {
                    Some(TcpOptions::List(l)) => l.iter().filter_map(script_option).collect(),
                    _ => Vec::new(),
                },
                ..tcp.clone()
            })
        ));
        self.stack
            .handle_packet(Instant::from_micros(self.now), &buf[..n]);
        self.after_input()
    }

    fn inbound_option(
        &self,
        opt: &crate::ast::TcpOption,
        flags: TcpFlags,
        local_off: u32,
    ) -> Result<TcpOption, Stop> {
        let too_big = |what: &str| Stop::fail(opt.pos, format!("{what} is out of range"));
        Ok(match &opt.kind {
            TcpOptionKind::Nop => TcpOption::Nop,
            TcpOptionKind::Eol => TcpOption::Eol,
            TcpOptionKind::Mss(m) => TcpOption::Mss(u16::try_from(*m).map_err(|_| too_big("mss"))?),
            TcpOptionKind::WScale(w) => {
                TcpOption::WindowScale(u8::try_from(*w).map_err(|_| too_big("wscale"))?)
            }
            TcpOptionKind::SackOk => TcpOption::SackPermitted,
            TcpOptionKind::Sack(blocks) => TcpOption::Sack(
                blocks
                    .iter()
                    .map(|&(l, r)| SackBlock {
                        left: l.wrapping_add(local_off),
                        right: r.wrapping_add(local_off),
                    })
                    .collect(),
            ),
            TcpOptionKind::Timestamp { val, ecr } => {
                let tsecr = if flags.contains(TcpFlags::ACK) {
                    self.live_ecr(*ecr).ok_or_else(|| {
                        Stop::fail(
                            opt.pos,
                            format!(
                                "unable to infer live TS ecr for script TS ecr {ecr}; no \
                                 matching or preceding outbound TS val"
                            ),
                        )
                    })?
                } else {
                    *ecr
                };
                TcpOption::Timestamps { tsval: *val, tsecr }
            }
            TcpOptionKind::Md5(_) | TcpOptionKind::FastOpen(_) | TcpOptionKind::FastOpenExp(_) => {
                return Err(Stop::skip(
                    opt.pos,
                    "TCP MD5 and Fast Open options are not modelled",
                ));
            }
        })
    }

    /// The TSval the stack really sent for a script TSval (what an echo of it must carry).
    fn live_ecr(&self, script_ecr: u32) -> Option<u32> {
        self.peer.ts_map.get(&script_ecr).copied()
    }

    /// Takes the next datagram the stack sent, running its timers until it sends one.
    fn next_sent(&mut self, pos: Pos, when: &When) -> Result<Sent, Stop> {
        let give_up = when.end + when.tolerance + SNIFF_GIVE_UP_USECS;
        loop {
            if let Some(s) = self.sent.pop_front() {
                return Ok(s);
            }
            let next = self.stack.poll_timeout().map(ceil_us);
            match next {
                Some(at) if at <= give_up => {
                    self.now = self.now.max(at);
                    self.stack.handle_timeout(Instant::from_micros(self.now));
                    self.after_input()?;
                }
                _ => {
                    return Err(Stop::fail(
                        pos,
                        format!(
                            "expected an outbound packet at {} sec but the stack sent nothing \
                             (waited until {} sec)",
                            secs(when.start),
                            secs(self.now.max(when.end + when.tolerance))
                        ),
                    ));
                }
            }
        }
    }

    /// Checks a `>` packet against what the stack sent next.
    pub(super) fn expect(&mut self, p: &TcpPacket, when: &When) -> Step {
        debug_assert_eq!(p.direction, Direction::Outbound);
        let expect_len = p.seq.len;
        let first = self.next_sent(p.pos, when)?;
        let mut pieces = vec![first];
        loop {
            let total: u32 = pieces.iter().map(|s| payload_len(&s.bytes)).sum();
            if total >= expect_len {
                break;
            }
            let next = self.next_sent(p.pos, when)?;
            let (prev_seq, prev_len) = seq_len(&pieces[pieces.len() - 1].bytes);
            let (seq, _) = seq_len(&next.bytes);
            if seq != prev_seq.wrapping_add(prev_len) {
                pieces.push(next);
                break;
            }
            pieces.push(next);
        }
        let last = &pieces[pieces.len() - 1];
        let at = last.at;
        self.now = self.now.max(at);
        let Ok((ip, seg)) = IpRepr::parse(&last.bytes) else {
            return Err(Stop::fail(
                p.pos,
                "the stack sent a datagram that does not parse",
            ));
        };
        let Ok(mut tcp) = TcpRepr::parse(seg) else {
            return Err(Stop::fail(
                p.pos,
                "the stack sent a TCP segment that does not parse",
            ));
        };
        // A joined burst: headers from the last piece, seq and CWR from the first.
        let mut joined_payload = Vec::new();
        for piece in &pieces {
            if let Ok((_, s)) = IpRepr::parse(&piece.bytes)
                && let Ok(t) = TcpRepr::parse(s)
            {
                joined_payload.extend_from_slice(t.payload);
            }
        }
        if pieces.len() > 1 {
            let (seq0, _) = seq_len(&pieces[0].bytes);
            tcp.seq = seq0;
            let cwr0 = first_flags(&pieces[0].bytes).contains(TcpFlags::CWR);
            tcp.flags.set(TcpFlags::CWR, cwr0);
        }
        tcp.payload = &joined_payload;
        let flags = tcp.flags;
        let syn = flags.contains(TcpFlags::SYN);
        if syn && !flags.contains(TcpFlags::RST) {
            self.peer.live_local_isn = Some(tcp.seq);
            self.peer.script_local_isn = p.seq.start;
            if !flags.contains(TcpFlags::ACK) {
                self.peer.local_port = Some(tcp.src_port);
                self.peer.remote_port = tcp.dst_port;
            }
        }
        // Map the live packet into script space.
        let mut rel = tcp.clone();
        rel.seq = tcp.seq.wrapping_sub(self.local_offset(syn));
        if flags.contains(TcpFlags::ACK) {
            rel.ack = tcp.ack.wrapping_sub(self.remote_offset(syn));
        }
        let remote_off = self.remote_offset(false);
        for opt in &mut rel.options {
            if let TcpOption::Sack(blocks) = opt {
                for b in blocks.iter_mut() {
                    b.left = b.left.wrapping_sub(remote_off);
                    b.right = b.right.wrapping_sub(remote_off);
                }
            }
        }
        let script_ts = match &p.options {
            Some(TcpOptions::List(l)) => l.iter().find_map(|o| match o.kind {
                TcpOptionKind::Timestamp { val, .. } => Some(val),
                _ => None,
            }),
            _ => None,
        };
        if let (Some(script_val), Some((live_val, _))) = (script_ts, tcp.timestamps()) {
            let (first_script, first_live) =
                *self.peer.ts_base.get_or_insert((script_val, live_val));
            self.peer.ts_map.insert(script_val, live_val);
            for opt in &mut rel.options {
                if let TcpOption::Timestamps { tsval, .. } = opt {
                    *tsval = first_script.wrapping_add(live_val.wrapping_sub(first_live));
                }
            }
        }
        let actual_text = format!("{} {}", secs(at), packetdrill(&rel));
        let expected_text = format!("{} {}", secs(when.start), script_text(p));
        let fail = |message: String| {
            Stop::Fail(Box::new(Failure {
                pos: p.pos,
                message,
                expected: Some(expected_text.clone()),
                actual: Some(actual_text.clone()),
            }))
        };
        // IP fields, only when the script gives them.
        let (ecn, tos, ttl) = ip_ecn_tos(p);
        if let Some(name) = ecn {
            let live = ip.tos() & 3;
            let ok = if name == "ect01" {
                live == 1 || live == 2
            } else {
                ecn_bits(name) == Some(live)
            };
            if !ok {
                return Err(fail(format!(
                    "live packet field ip_ecn: expected: {name} vs actual: 0x{live:x}"
                )));
            }
        }
        if let Some(t) = tos
            && ip.tos() != t
        {
            return Err(fail(field("tos", u32::from(t), u32::from(ip.tos()))));
        }
        if let Some(t) = ttl
            && ip.ttl() != t
        {
            return Err(fail(field("ttl", u32::from(t), u32::from(ip.ttl()))));
        }
        let want = script_flags(p);
        for (name, flag) in [
            ("tcp_fin", TcpFlags::FIN),
            ("tcp_syn", TcpFlags::SYN),
            ("tcp_rst", TcpFlags::RST),
            ("tcp_psh", TcpFlags::PSH),
            ("tcp_ack", TcpFlags::ACK),
            ("tcp_urg", TcpFlags::URG),
            ("tcp_ece", TcpFlags::ECE),
            ("tcp_cwr", TcpFlags::CWR),
            ("tcp_ae", TcpFlags::AE),
        ] {
            let (w, l) = (want.contains(flag), flags.contains(flag));
            if w != l {
                return Err(fail(field(name, u32::from(w), u32::from(l))));
            }
        }
        if flags.intersects(TcpFlags::RESERVED) {
            let bits = u32::from((flags.bits() & TcpFlags::RESERVED.bits()) >> 9);
            return Err(fail(field("tcp_reserved_bits", 0, bits)));
        }
        if rel.seq != p.seq.start {
            return Err(fail(field("tcp_seq", p.seq.start, rel.seq)));
        }
        let want_ack = p.ack.unwrap_or(0);
        if rel.ack != want_ack {
            return Err(fail(field("tcp_ack_seq", want_ack, rel.ack)));
        }
        if let Some(win) = p.win
            && u32::from(tcp.window) != win
        {
            return Err(fail(field("tcp_window", win, u32::from(tcp.window))));
        }
        let want_urg = p.urg.unwrap_or(0);
        if u32::from(tcp.urgent) != want_urg {
            return Err(fail(field("tcp_urg_ptr", want_urg, u32::from(tcp.urgent))));
        }
        match &p.options {
            Some(TcpOptions::Any(_)) => {}
            None => {
                if !rel.options.is_empty() {
                    return Err(fail("bad outbound TCP options: expected none".to_string()));
                }
            }
            Some(TcpOptions::List(list)) => {
                self.check_options(list, &rel.options, when).map_err(fail)?;
            }
        }
        let live_len = joined_payload.len() as u32;
        if live_len != expect_len {
            return Err(fail(format!(
                "live packet payload: expected {expect_len} bytes vs actual {live_len} bytes"
            )));
        }
        if joined_payload.iter().any(|&b| b != 0) {
            return Err(fail("incorrect outbound data payload".to_string()));
        }
        if pieces.len() > 1 {
            // Consecutive pieces must continue one another.
            for w in pieces.windows(2) {
                let (s0, l0) = seq_len(&w[0].bytes);
                let (s1, _) = seq_len(&w[1].bytes);
                if s1 != s0.wrapping_add(l0) {
                    return Err(fail(
                        "fragment payload: the stack's segments do not continue one another"
                            .to_string(),
                    ));
                }
            }
        }
        self.check_time(p.pos, "outbound packet", when, at)
            .map_err(|stop| match stop {
                Stop::Fail(mut f) => {
                    f.expected = Some(expected_text.clone());
                    f.actual = Some(actual_text.clone());
                    Stop::Fail(f)
                }
                other => other,
            })
    }

    /// Compares the options in order (packetdrill: verify_outbound_live_tcp_options()).
    fn check_options(
        &self,
        want: &[crate::ast::TcpOption],
        live: &[TcpOption],
        when: &When,
    ) -> Result<(), String> {
        let kinds = |w: &[crate::ast::TcpOption]| {
            w.iter().map(|o| script_kind(&o.kind)).collect::<Vec<_>>()
        };
        let live_kinds: Vec<u8> = live.iter().map(TcpOption::kind).collect();
        if kinds(want) != live_kinds {
            return Err("bad outbound TCP options".to_string());
        }
        for (w, l) in want.iter().zip(live) {
            let ok = match (&w.kind, l) {
                (TcpOptionKind::Mss(a), TcpOption::Mss(b)) => *a == u32::from(*b),
                (TcpOptionKind::WScale(a), TcpOption::WindowScale(b)) => *a == u32::from(*b),
                (TcpOptionKind::Sack(a), TcpOption::Sack(b)) => {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| x.0 == y.left && x.1 == y.right)
                }
                (TcpOptionKind::Timestamp { val, .. }, TcpOption::Timestamps { tsval, .. }) => {
                    match self.setup.ts_tick_usecs {
                        Some(tick) => {
                            let diff =
                                u64::from((*tsval).wrapping_sub(*val).cast_signed().unsigned_abs());
                            if diff * tick > when.tolerance {
                                return Err(format!(
                                    "bad outbound TCP timestamp value, tolerance {}",
                                    when.tolerance
                                ));
                            }
                            true
                        }
                        None => true,
                    }
                }
                _ => true,
            };
            if !ok {
                return Err(format!("bad value outbound TCP option {}", l.kind()));
            }
        }
        Ok(())
    }

    /// A live datagram in packetdrill notation, relative to the ISNs known so far.
    pub(super) fn describe_live(&self, bytes: &[u8]) -> String {
        let Ok((_, seg)) = IpRepr::parse(bytes) else {
            return "(a datagram that does not parse)".to_string();
        };
        let Ok(mut tcp) = TcpRepr::parse(seg) else {
            return "(a segment that does not parse)".to_string();
        };
        let syn = tcp.flags.contains(TcpFlags::SYN);
        match self.peer.live_local_isn {
            Some(_) => tcp.seq = tcp.seq.wrapping_sub(self.local_offset(syn)),
            // The stack's SYN carries its ISN, which the script calls 0.
            None if syn => tcp.seq = 0,
            None => {}
        }
        if tcp.flags.contains(TcpFlags::ACK) {
            tcp.ack = tcp.ack.wrapping_sub(self.remote_offset(syn));
        }
        packetdrill(&tcp).to_string()
    }
}

fn field(name: &str, expected: u32, actual: u32) -> String {
    format!(
        "live packet field {name}: expected: {expected} (0x{expected:x}) vs actual: {actual} \
         (0x{actual:x})"
    )
}

fn script_kind(k: &TcpOptionKind) -> u8 {
    match k {
        TcpOptionKind::Eol => 0,
        TcpOptionKind::Nop => 1,
        TcpOptionKind::Mss(_) => 2,
        TcpOptionKind::WScale(_) => 3,
        TcpOptionKind::SackOk => 4,
        TcpOptionKind::Sack(_) => 5,
        TcpOptionKind::Timestamp { .. } => 8,
        TcpOptionKind::Md5(_) => 19,
        TcpOptionKind::FastOpen(_) => 34,
        TcpOptionKind::FastOpenExp(_) => 254,
    }
}

/// The wire option a script option names, for printing (values as written).
fn script_option(o: &crate::ast::TcpOption) -> Option<TcpOption> {
    Some(match &o.kind {
        TcpOptionKind::Nop => TcpOption::Nop,
        TcpOptionKind::Eol => TcpOption::Eol,
        TcpOptionKind::Mss(m) => TcpOption::Mss(*m as u16),
        TcpOptionKind::WScale(w) => TcpOption::WindowScale(*w as u8),
        TcpOptionKind::SackOk => TcpOption::SackPermitted,
        TcpOptionKind::Sack(b) => TcpOption::Sack(
            b.iter()
                .map(|&(left, right)| SackBlock { left, right })
                .collect(),
        ),
        TcpOptionKind::Timestamp { val, ecr } => TcpOption::Timestamps {
            tsval: *val,
            tsecr: *ecr,
        },
        _ => return None,
    })
}

/// A script packet line in packetdrill notation (what it expects).
fn script_text(p: &TcpPacket) -> String {
    let payload = vec![0u8; p.seq.len as usize];
    let tcp = TcpRepr {
        seq: p.seq.start,
        ack: p.ack.unwrap_or(0),
        flags: script_flags(p),
        window: p.win.unwrap_or(0) as u16,
        urgent: p.urg.unwrap_or(0) as u16,
        options: match &p.options {
            Some(TcpOptions::List(l)) => l.iter().filter_map(script_option).collect(),
            _ => Vec::new(),
        },
        payload: &payload,
        ..TcpRepr::default()
    };
    let mut text = packetdrill(&tcp).to_string();
    if p.win.is_none() {
        // The printer always shows a window; the script does not check one.
        text = text.replacen(" win 0", "", 1);
    }
    if matches!(p.options, Some(TcpOptions::Any(_))) {
        text.push_str(" <...>");
    }
    text
}

fn payload_len(bytes: &[u8]) -> u32 {
    IpRepr::parse(bytes)
        .ok()
        .and_then(|(_, s)| TcpRepr::parse(s).ok())
        .map_or(0, |t| t.payload.len() as u32)
}

fn seq_len(bytes: &[u8]) -> (u32, u32) {
    IpRepr::parse(bytes)
        .ok()
        .and_then(|(_, s)| TcpRepr::parse(s).ok())
        .map_or((0, 0), |t| (t.seq, t.payload.len() as u32))
}

fn first_flags(bytes: &[u8]) -> TcpFlags {
    IpRepr::parse(bytes)
        .ok()
        .and_then(|(_, s)| TcpRepr::parse(s).ok())
        .map_or(TcpFlags::NONE, |t| t.flags)
}
