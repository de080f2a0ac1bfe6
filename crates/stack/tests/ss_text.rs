//! `ss` and `netstat` tables against the real tools.
//!
//! Each fixture is the output of iproute2 6.1 `ss` or net-tools 2.10 `netstat`, piped to a file
//! (or, for the `TTY` ones, written to a pseudo-terminal of the stated width), on Linux 6.18
//! for sockets made in a private network namespace. The tests read the sockets back out of
//! that text (addresses, queues, owner, timer, `tcp_info` items), build the same
//! [`SocketEntry`] values and check that [`ss_table`] and [`netstat_table`] print the text
//! again byte for byte. Fixtures are written as `cat -A` shows them: `$` ends a line, `^I` is
//! a tab, so trailing blanks are visible and survive editors.
//!
//! To capture them again (as root; needs iproute2, net-tools, iptables and python3), save the
//! three files below and run `run.sh full` and `run.sh listen`; output lands in
//! /tmp/sscap/out-full and /tmp/sscap/out-listen.
//!
//! /tmp/sscap/run.sh:
//! ```text
//! #!/bin/bash
//! # One-off capture: sockets in a private namespace, ss and netstat piped to files.
//! # Usage: run.sh full|listen
//! set -e
//! NS=sscap
//! SC=$1
//! ip netns del $NS 2>/dev/null || true
//! ip netns add $NS
//! ip -n $NS link set lo up
//! ip -n $NS addr add fd00:1234:5678:9abc::1/64 dev lo nodad
//! out=/tmp/sscap/out-$SC; rm -rf $out; mkdir -p $out
//! ip netns exec $NS python3 /tmp/sscap/socks.py $SC > $out/py.log &
//! PY=$!
//! while ! grep -q ready $out/py.log 2>/dev/null; do sleep 0.05; done
//! ip netns exec $NS ss -tanoi > $out/tanoi.txt
//! ip netns exec $NS ss -tano > $out/tano.txt
//! ip netns exec $NS ss -tan > $out/tan.txt
//! ip netns exec $NS ss -tanop > $out/tanop.txt
//! ip netns exec $NS ss -tani > $out/tani.txt
//! ip netns exec $NS ss -tanopi > $out/tanopi.txt
//! for w in 60 100 160; do ip netns exec $NS python3 /tmp/sscap/ontty.py $w ss -tano > $out/tty$w-tano.txt; done
//! ip netns exec $NS netstat -tanpo > $out/netstat_tanpo.txt
//! ip netns exec $NS netstat -tan > $out/netstat_tan.txt
//! ip netns exec $NS netstat -tanp > $out/netstat_tanp.txt
//! ip netns exec $NS netstat -tano > $out/netstat_tano.txt
//! wait $PY
//! ip netns del $NS
//! ```
//!
//! /tmp/sscap/socks.py (sockets in every state; congestion control is set to cubic per
//! socket because the namespace cannot change the host's default):
//! ```text
//! # Creates sockets in many TCP states inside the capture namespace, then waits.
//! import socket, time, sys, subprocess
//! def S(fam=socket.AF_INET, typ=socket.SOCK_STREAM):
//!     s = socket.socket(fam, typ)
//!     s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
//!     return s
//! def listener(addr, port, fam=socket.AF_INET, backlog=128, v6only=None, rcvbuf=None):
//!     s = S(fam, socket.SOCK_STREAM)
//!     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
//!     if v6only is not None:
//!         s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
//!     if rcvbuf:
//!         s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
//!     s.bind((addr, port)); s.listen(backlog); return s
//! def ipt(*a): subprocess.run(["iptables", *a], check=True)
//! keep = []
//! if sys.argv[1] == "listen":
//!     keep.append(listener("0.0.0.0", 22))
//!     keep.append(listener("127.0.0.1", 631, backlog=4096))
//!     keep.append(listener("::", 80, socket.AF_INET6, 511))
//!     print("ready", flush=True); time.sleep(4); sys.exit()
//! l = listener("0.0.0.0", 8080); keep.append(l)
//! l6 = listener("::", 8443, socket.AF_INET6, 4096); keep.append(l6)
//! l6o = listener("::", 8444, socket.AF_INET6, 10); keep.append(l6o)
//! # idle ESTAB pair
//! c = S(); c.connect(("127.0.0.1", 8080)); a, _ = l.accept(); keep += [c, a]
//! # keepalive
//! k = S(); k.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); k.connect(("127.0.0.1", 8080)); ka, _ = l.accept(); keep += [k, ka]
//! # TIME-WAIT on the client side
//! t = S(); t.connect(("127.0.0.1", 8080)); ta, _ = l.accept(); t.close(); time.sleep(0.05); ta.close()
//! # FIN-WAIT-2 full socket (shutdown) and orphaned (timewait minisock)
//! f = S(); f.connect(("127.0.0.1", 8080)); fa, _ = l.accept(); f.shutdown(socket.SHUT_WR); keep += [f, fa]
//! o = S(); o.connect(("127.0.0.1", 8080)); oa, _ = l.accept(); o.close(); keep.append(oa)
//! # persist: the receiver never reads and has a tiny buffer
//! lp = listener("127.0.0.1", 9003, rcvbuf=2048); keep.append(lp)
//! p = S(); p.connect(("127.0.0.1", 9003)); pa, _ = lp.accept(); keep += [p, pa]
//! p.setblocking(False)
//! try:
//!     for _ in range(100000):
//!         p.send(b"x" * 1000)
//! except BlockingIOError:
//!     pass
//! # retransmit timer (ESTAB) and FIN-WAIT-1: data to port 9001 dropped after the handshakes
//! lr = listener("127.0.0.1", 9001); keep.append(lr)
//! r = S(); r.connect(("127.0.0.1", 9001)); ra, _ = lr.accept(); keep += [r, ra]
//! r1 = S(); r1.connect(("127.0.0.1", 9001)); ra1, _ = lr.accept(); keep += [r1, ra1]
//! ipt("-A", "INPUT", "-p", "tcp", "--dport", "9001", "-j", "DROP")
//! r.send(b"y" * 100)
//! r1.send(b"w" * 7); r1.shutdown(socket.SHUT_WR)
//! # SYN-RECV: the client's handshake ACK to 9002 is dropped
//! ls = listener("127.0.0.1", 9002); keep.append(ls)
//! ipt("-A", "INPUT", "-p", "tcp", "--dport", "9002", "--tcp-flags", "SYN,ACK", "ACK", "-j", "DROP")
//! sr = S(); sr.connect(("127.0.0.1", 9002)); keep.append(sr)
//! # SYN-SENT to a port whose SYNs are dropped
//! ipt("-A", "OUTPUT", "-p", "tcp", "--dport", "9999", "-j", "DROP")
//! sy = S(); sy.setblocking(False)
//! try: sy.connect(("127.0.0.1", 9999))
//! except BlockingIOError: pass
//! keep.append(sy)
//! # IPv6: loopback pair with unread data, and a long global address
//! c6 = S(socket.AF_INET6); c6.connect(("::1", 8443)); a6, _ = l6.accept(); c6.send(b"z" * 5); keep += [c6, a6]
//! g6 = S(socket.AF_INET6); g6.connect(("fd00:1234:5678:9abc::1", 8444)); ga6, _ = l6o.accept(); keep += [g6, ga6]
//! time.sleep(1.2)
//! print("ready", flush=True)
//! time.sleep(3)
//! ```
//!
//! /tmp/sscap/ontty.py (a command with its stdout on a terminal of a given width):
//! ```text
//! # Runs a command with stdout on a pseudo-terminal of the given width; prints what it wrote.
//! import os, pty, sys, fcntl, termios, struct
//! cols = int(sys.argv[1]); cmd = sys.argv[2:]
//! pid, fd = pty.fork()
//! if pid == 0:
//!     fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
//!     os.execvp(cmd[0], cmd)
//! out = b""
//! while True:
//!     try:
//!         b = os.read(fd, 65536)
//!     except OSError:
//!         break
//!     if not b:
//!         break
//!     out += b
//! os.waitpid(pid, 0)
//! sys.stdout.write(out.decode().replace("\r\n", "\n"))
//! ```

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use tcplab_stack::api::{Fd, TcpState};
use tcplab_stack::ss::{
    InfoView, SocketEntry, SsOptions, SsScreen, TimerKind, TimerView, netstat_table, ss_table,
    ss_table_on,
};

const STATES: [TcpState; 11] = [
    TcpState::Established,
    TcpState::SynSent,
    TcpState::SynRecv,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::TimeWait,
    TcpState::Close,
    TcpState::CloseWait,
    TcpState::LastAck,
    TcpState::Listen,
    TcpState::Closing,
];

/// A fixture in `cat -A` form back to the bytes the tool wrote.
fn uncat(fixture: &str) -> String {
    let mut out = String::new();
    for line in fixture.lines() {
        let line = line
            .strip_suffix('$')
            .unwrap_or_else(|| panic!("fixture line without its `$`: {line:?}"));
        out.push_str(&line.replace("^I", "\t"));
        out.push('\n');
    }
    out
}

/// `addr:port` as either tool prints it; `*` is the IPv6 wildcard (ss) or port 0.
fn sock_addr(s: &str) -> SocketAddr {
    let (addr, port) = s
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no port in {s:?}"));
    let port = if port == "*" {
        0
    } else {
        port.parse().unwrap_or_else(|_| panic!("bad port in {s:?}"))
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = match addr {
        "*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        // netstat cuts long addresses short (`fd00:1234:5678:9a:42330`); there is one.
        a if a.starts_with("fd00:1234:5678:9a") && a.parse::<IpAddr>().is_err() => {
            "fd00:1234:5678:9abc::1".parse().unwrap()
        }
        a => a.parse().unwrap_or_else(|_| panic!("bad address in {s:?}")),
    };
    SocketAddr::new(ip, port)
}

fn peer(s: &str) -> Option<SocketAddr> {
    let p = sock_addr(s);
    (!(p.ip().is_unspecified() && p.port() == 0)).then_some(p)
}

fn entry(state: TcpState, recv_q: u32, send_q: u32, local: &str, peer_: &str) -> SocketEntry {
    SocketEntry {
        state,
        recv_q,
        send_q,
        local: sock_addr(local),
        peer: peer(peer_),
        timer: None,
        fd: None,
        process: None,
        info: None,
    }
}

fn num<T: std::str::FromStr>(s: &str) -> T {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// `timer:(on,1.764ms,1)` back to a timer; `print_ms_timer()` loses what it drops, which
/// prints the same again.
fn ss_timer(s: &str) -> TimerView {
    let inner = s
        .strip_prefix("timer:(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("bad timer {s:?}"));
    let mut parts = inner.split(',');
    let kind = match parts.next() {
        Some("on") => TimerKind::On,
        Some("keepalive") => TimerKind::Keepalive,
        Some("timewait") => TimerKind::TimeWait,
        Some("persist") => TimerKind::Persist,
        k => panic!("unknown timer kind {k:?}"),
    };
    let time = parts.next().unwrap_or("");
    let count: u32 = num(parts.next().unwrap_or(""));
    TimerView {
        kind,
        expires_ms: ms_from_ss(time),
        count,
        probes: count,
    }
}

/// Inverse of `print_ms_timer()`: `119min`, `58sec`, `1.764ms`, `372ms`, `1min5sec`.
fn ms_from_ss(mut s: &str) -> u64 {
    let mut ms = 0;
    if let Some((m, rest)) = s.split_once("min") {
        ms += num::<u64>(m) * 60_000;
        s = rest;
    }
    if let Some(sec) = s.strip_suffix("sec") {
        ms += num::<u64>(sec) * 1000;
    } else if let Some((sec, msec)) = s.split_once('.') {
        ms += num::<u64>(sec) * 1000 + num::<u64>(msec.trim_end_matches("ms"));
    } else if let Some(msec) = s.strip_suffix("ms") {
        ms += num::<u64>(msec);
    }
    ms
}

/// `users:(("python3",pid=12914,fd=3))` back to netstat's `12914/python3` and the fd.
fn ss_users(s: &str) -> (String, Fd) {
    let inner = s
        .strip_prefix("users:((\"")
        .and_then(|s| s.strip_suffix("))"))
        .unwrap_or_else(|| panic!("bad users {s:?}"));
    let (name, rest) = inner.split_once("\",pid=").expect("pid");
    let (pid, fd) = rest.split_once(",fd=").expect("fd");
    (format!("{pid}/{name}"), Fd(num(fd)))
}

/// A rate token of `ss -n`, `77037647059bps`, in bytes per second as tcp_info holds it.
fn rate_bytes(s: Option<&str>) -> u64 {
    let bits: u64 = num(s.and_then(|s| s.strip_suffix("bps")).expect("a rate"));
    assert_eq!(bits % 8, 0, "{bits} bps is not whole bytes");
    bits / 8
}

/// The `-i` line's items back to an [`InfoView`]; an item this parser does not know fails the
/// test, so nothing the tool printed is silently left out.
fn ss_info(line: &str) -> InfoView {
    let mut i = InfoView::default();
    let mut tokens = line.split_whitespace();
    let pair = |v: &str, sep: char| -> (String, String) {
        let (a, b) = v.split_once(sep).expect("a pair");
        (a.to_string(), b.to_string())
    };
    while let Some(t) = tokens.next() {
        let (key, value) = t.split_once(':').unwrap_or((t, ""));
        match key {
            "ts" => i.ts = true,
            "sack" => i.sack = true,
            "ecn" => i.ecn = true,
            "ecnseen" => i.ecnseen = true,
            "cubic" => i.cong = "cubic",
            "reno" => i.cong = "reno",
            "app_limited" => i.app_limited = true,
            "wscale" => {
                let (s, r) = pair(value, ',');
                i.wscale = Some((num(&s), num(&r)));
            }
            "rto" => i.rto_ms = num(value),
            "backoff" => i.backoff = num(value),
            "rtt" => {
                let (rtt, var) = pair(value, '/');
                (i.rtt_ms, i.rttvar_ms) = (num(&rtt), num(&var));
            }
            "ato" => i.ato_ms = Some(num(value)),
            "mss" => i.mss = num(value),
            "pmtu" => i.pmtu = num(value),
            "rcvmss" => i.rcvmss = num(value),
            "advmss" => i.advmss = num(value),
            "cwnd" => i.cwnd = num(value),
            "ssthresh" => i.ssthresh = Some(num(value)),
            "bytes_sent" => i.bytes_sent = num(value),
            "bytes_retrans" => i.bytes_retrans = num(value),
            "bytes_acked" => i.bytes_acked = num(value),
            "bytes_received" => i.bytes_received = num(value),
            "segs_out" => i.segs_out = num(value),
            "segs_in" => i.segs_in = num(value),
            "data_segs_out" => i.data_segs_out = num(value),
            "data_segs_in" => i.data_segs_in = num(value),
            // Derived from cwnd, mss and rtt: the table must compute the same figure.
            "send" => {
                tokens.next();
            }
            "lastsnd" => i.lastsnd_ms = num(value),
            "lastrcv" => i.lastrcv_ms = num(value),
            "lastack" => i.lastack_ms = num(value),
            "pacing_rate" => i.pacing_rate = Some(rate_bytes(tokens.next())),
            "delivery_rate" => i.delivery_rate = rate_bytes(tokens.next()),
            "delivered" => i.delivered = num(value),
            "busy" => i.busy_ms = num(value.trim_end_matches("ms")),
            "rwnd_limited" | "sndbuf_limited" => {
                let ms = num(value.split_once("ms(").expect("ms(share%)").0);
                if key == "rwnd_limited" {
                    i.rwnd_limited_ms = ms;
                } else {
                    i.sndbuf_limited_ms = ms;
                }
            }
            "unacked" => i.unacked = num(value),
            "retrans" => {
                let (now, total) = pair(value, '/');
                i.retrans = (num(&now), num(&total));
            }
            "lost" => i.lost = num(value),
            "sacked" => i.sacked = num(value),
            "dsack_dups" => i.dsack_dups = num(value),
            "reordering" => i.reordering = num(value),
            "reord_seen" => i.reord_seen = num(value),
            "rcv_rtt" => i.rcv_rtt_ms = num(value),
            "rcv_space" => i.rcv_space = num(value),
            "rcv_ssthresh" => i.rcv_ssthresh = num(value),
            "notsent" => i.notsent = num(value),
            "minrtt" => i.minrtt_ms = Some(num(value)),
            "rcv_ooopack" => i.rcv_ooopack = num(value),
            "snd_wnd" => i.snd_wnd = num(value),
            _ => panic!("unknown tcp_info item {t:?}"),
        }
    }
    i
}

/// The sockets of an `ss -tan[o][p][i]` table.
fn parse_ss(text: &str) -> Vec<SocketEntry> {
    let mut entries: Vec<SocketEntry> = Vec::new();
    for line in text.lines().skip(1) {
        if let Some(info) = line.strip_prefix('\t') {
            let e = entries.last_mut().expect("an -i line after its socket");
            // Request and timewait socks have an empty -i line: no tcp_info.
            if !info.trim().is_empty() {
                e.info = Some(ss_info(info));
            }
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let state = *STATES
            .iter()
            .find(|s| s.ss_name() == t[0])
            .unwrap_or_else(|| panic!("unknown state {:?}", t[0]));
        let mut e = entry(state, num(t[1]), num(t[2]), t[3], t[4]);
        for extra in &t[5..] {
            if extra.starts_with("users:") {
                let (process, fd) = ss_users(extra);
                e.process = Some(process);
                e.fd = Some(fd);
            } else {
                e.timer = Some(ss_timer(extra));
            }
        }
        entries.push(e);
    }
    entries
}

/// netstat's `on (1.76/1/0)`: seconds to expiry, retransmissions, probes.
fn netstat_timer(kind: &str, value: &str) -> Option<TimerView> {
    let kind = match kind {
        "off" => return None,
        "on" => TimerKind::On,
        "keepalive" => TimerKind::Keepalive,
        "timewait" => TimerKind::TimeWait,
        "probe" => TimerKind::Persist,
        k => panic!("unknown netstat timer {k:?}"),
    };
    let inner = value.trim_start_matches('(').trim_end_matches(')');
    let mut parts = inner.split('/');
    let (secs, hundredths) = parts.next().and_then(|s| s.split_once('.')).expect("S.ss");
    let expires_ms = num::<u64>(secs) * 1000 + num::<u64>(hundredths) * 10;
    let retr: u32 = num(parts.next().expect("retransmissions"));
    let probes: u32 = num(parts.next().expect("probes"));
    let count = if kind == TimerKind::On { retr } else { probes };
    Some(TimerView {
        kind,
        expires_ms,
        count,
        probes,
    })
}

/// The sockets of a `netstat -tan[p][o]` table.
fn parse_netstat(text: &str, with_timer: bool, with_program: bool) -> Vec<SocketEntry> {
    let mut entries = Vec::new();
    for line in text.lines().skip(2) {
        let t: Vec<&str> = line.split_whitespace().collect();
        let state = *STATES
            .iter()
            .find(|s| s.netstat_name() == t[5])
            .unwrap_or_else(|| panic!("unknown state {:?}", t[5]));
        let mut e = entry(state, num(t[1]), num(t[2]), t[3], t[4]);
        let mut rest = &t[6..];
        if with_program {
            if rest[0] != "-" {
                e.process = Some(rest[0].to_string());
            }
            rest = &rest[1..];
        }
        if with_timer {
            e.timer = netstat_timer(rest[0], rest[1]);
        }
        entries.push(e);
    }
    entries
}

fn opts(timers: bool, processes: bool, info: bool) -> SsOptions {
    SsOptions {
        timers,
        info,
        processes,
    }
}

/// Reads the sockets back out of `fixture` and prints them again with `opts`.
#[track_caller]
fn ss_round_trip(fixture: &str, opts: SsOptions, screen: SsScreen) {
    let want = uncat(fixture);
    let entries = parse_ss(&want);
    assert!(!entries.is_empty());
    let got = ss_table_on(&entries, opts, screen);
    assert_eq!(got, want, "\n--- got\n{got}--- want\n{want}");
}

#[track_caller]
fn netstat_round_trip(fixture: &str, with_timer: bool, with_program: bool) {
    let want = uncat(fixture);
    let entries = parse_netstat(&want, with_timer, with_program);
    assert!(!entries.is_empty());
    let got = netstat_table(&entries, with_timer, with_program);
    assert_eq!(got, want, "\n--- got\n{got}--- want\n{want}");
}

#[test]
fn ss_tan_every_state() {
    ss_round_trip(FULL_TAN, opts(false, false, false), SsScreen::Pipe);
    ss_round_trip(LISTEN_TAN, opts(false, false, false), SsScreen::Pipe);
}

#[test]
fn ss_tano_timers() {
    ss_round_trip(FULL_TANO, opts(true, false, false), SsScreen::Pipe);
    ss_round_trip(LISTEN_TANO, opts(true, false, false), SsScreen::Pipe);
    let full = uncat(FULL_TANO);
    for timer in [
        "timer:(on,1.",
        "timer:(persist,",
        "timer:(keepalive,119min,0)",
        "timer:(timewait,58sec,0)",
    ] {
        assert!(full.contains(timer), "the fixture shows {timer}");
    }
}

#[test]
fn ss_tanop_users_before_timer() {
    ss_round_trip(FULL_TANOP, opts(true, true, false), SsScreen::Pipe);
    ss_round_trip(LISTEN_TANOP, opts(true, true, false), SsScreen::Pipe);
}

#[test]
fn ss_info_lines() {
    ss_round_trip(FULL_TANOI, opts(true, false, true), SsScreen::Pipe);
    ss_round_trip(FULL_TANI, opts(false, false, true), SsScreen::Pipe);
    ss_round_trip(FULL_TANOPI, opts(true, true, true), SsScreen::Pipe);
    ss_round_trip(LISTEN_TANOI, opts(true, false, true), SsScreen::Pipe);
}

#[test]
fn ss_on_a_terminal_fills_its_width() {
    let o = opts(true, false, false);
    ss_round_trip(FULL_TTY60_TANO, o, SsScreen::Terminal(60));
    ss_round_trip(FULL_TTY100_TANO, o, SsScreen::Terminal(100));
    ss_round_trip(FULL_TTY160_TANO, o, SsScreen::Terminal(160));
    ss_round_trip(LISTEN_TTY60_TANO, o, SsScreen::Terminal(60));
    ss_round_trip(LISTEN_TTY100_TANO, o, SsScreen::Terminal(100));
    // A width of 0 is unknown: laid out as for a pipe.
    ss_round_trip(LISTEN_TANO, o, SsScreen::Terminal(0));
}

/// The listeners-only table from hand-built entries, so the parser above cannot hide a
/// mistake it shares with the formatter.
#[test]
fn ss_listeners_by_hand() {
    let info = InfoView {
        cong: "cubic",
        cwnd: 10,
        ..InfoView::default()
    };
    let mut ssh = entry(TcpState::Listen, 0, 128, "0.0.0.0:22", "0.0.0.0:*");
    let mut cups = entry(TcpState::Listen, 0, 4096, "127.0.0.1:631", "0.0.0.0:*");
    let mut web = entry(TcpState::Listen, 0, 511, "[::]:80", "[::]:*");
    for e in [&mut ssh, &mut cups, &mut web] {
        e.info = Some(info.clone());
    }
    // Given IPv6 first: the table still lists IPv4 first, as ss does.
    let table = [web, ssh, cups];
    assert_eq!(
        ss_table(&table, opts(false, false, false)),
        "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n\
         LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n\
         LISTEN 0      4096       127.0.0.1:631       0.0.0.0:*          \n\
         LISTEN 0      511                *:80              *:*          \n"
    );
    assert_eq!(
        ss_table(&table, opts(true, false, true)),
        uncat(LISTEN_TANOI)
    );
}

#[test]
fn ss_established_by_hand() {
    let mut e = entry(
        TcpState::Established,
        0,
        100,
        "127.0.0.1:36574",
        "127.0.0.1:9001",
    );
    e.timer = Some(TimerView {
        kind: TimerKind::On,
        expires_ms: 372,
        count: 2,
        probes: 0,
    });
    e.process = Some("12914/python3".into());
    e.fd = Some(Fd(18));
    let l = entry(TcpState::Listen, 0, 128, "127.0.0.1:9001", "0.0.0.0:*");
    // The last column is as wide as its widest cell, the ESTAB row's.
    let ext = " users:((\"python3\",pid=12914,fd=18)) timer:(on,372ms,2)";
    let w = ext.len();
    assert_eq!(
        ss_table(&[l, e], opts(true, true, false)),
        format!(
            "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port{:<w$}\n\
             LISTEN 0      128        127.0.0.1:9001       0.0.0.0:*   {:<w$}\n\
             ESTAB  0      100        127.0.0.1:36574    127.0.0.1:9001{ext}\n",
            "Process", ""
        )
    );
    assert_eq!(
        ss_table(&[], SsOptions::default()),
        "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    );
    // As in an empty network namespace (checked there with ss -tan and -tanoi, netstat -tanpo).
    assert_eq!(
        ss_table(&[], opts(true, false, true)),
        "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    );
    assert_eq!(
        netstat_table(&[], true, true),
        "Active Internet connections (servers and established)\n\
         Proto Recv-Q Send-Q Local Address           Foreign Address         State       \
         PID/Program name     Timer\n"
    );
}

/// However narrow the terminal, the text comes out whole and in order; only blanks move (a
/// port column narrower than its header glues `Port` to `Process`, as `ss` does).
#[test]
fn narrow_terminals_keep_every_cell() {
    let entries = parse_ss(&uncat(FULL_TANOPI));
    let o = opts(true, true, true);
    let words = |t: &str| t.split_whitespace().collect::<String>();
    let pipe = ss_table(&entries, o);
    for width in [1, 2, 5, 13, 40, 79, 80, 81, 200, 10_000] {
        let tty = ss_table_on(&entries, o, SsScreen::Terminal(width));
        assert_eq!(words(&tty), words(&pipe), "width {width}");
        assert_eq!(tty.lines().count(), pipe.lines().count(), "width {width}");
    }
}

#[test]
fn netstat_tables() {
    netstat_round_trip(NETSTAT_FULL_TAN, false, false);
    netstat_round_trip(NETSTAT_FULL_TANP, false, true);
    netstat_round_trip(NETSTAT_FULL_TANO, true, false);
    netstat_round_trip(NETSTAT_FULL_TANPO, true, true);
    netstat_round_trip(NETSTAT_LISTEN_TANPO, true, true);
}

/// `ss -tan`, the full scenario.
const FULL_TAN: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process$
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*           $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*           $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*           $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*           $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968       $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946       $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003        $
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274       $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970       $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999        $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080        $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080        $
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080        $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080        $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080        $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002        $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950       $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574       $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584       $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658       $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001        $
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001        $
LISTEN     0      10                             *:8444                         *:*           $
LISTEN     0      4096                           *:8443                         *:*           $
ESTAB      5      0                          [::1]:8443                     [::1]:36626       $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444        $
ESTAB      0      0                          [::1]:36626                    [::1]:8443        $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722       $
";

/// `ss -tano`, the full scenario.
const FULL_TANO: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process                    $
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*                               $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*                               $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*                               $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*                               $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968                           $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946                           $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003  timer:(persist,484ms,1)   $
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274                           $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970                           $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999  timer:(on,780ms,1)        $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080                            $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080  timer:(keepalive,119min,0)$
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080  timer:(timewait,58sec,0)  $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080                            $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080  timer:(timewait,58sec,0)  $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002                            $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950                           $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574                           $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584                           $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658 timer:(on,1.780ms,1)      $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001  timer:(on,388ms,2)        $
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001  timer:(on,196ms,2)        $
LISTEN     0      10                             *:8444                         *:*                               $
LISTEN     0      4096                           *:8443                         *:*                               $
ESTAB      5      0                          [::1]:8443                     [::1]:36626                           $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444                            $
ESTAB      0      0                          [::1]:36626                    [::1]:8443                            $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722                           $
";

/// `ss -tanop`, the full scenario.
const FULL_TANOP: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process                                                       $
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=3))                           $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=22))                          $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=13))                          $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=17))                          $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968 users:((\"python3\",pid=12914,fd=12))                          $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946 users:((\"python3\",pid=12914,fd=7))                           $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003  users:((\"python3\",pid=12914,fd=15)) timer:(persist,468ms,1)  $
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274 users:((\"python3\",pid=12914,fd=16))                          $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970 users:((\"python3\",pid=12914,fd=14))                          $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999  users:((\"python3\",pid=12914,fd=24)) timer:(on,764ms,1)       $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=6))                           $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=8)) timer:(keepalive,119min,0)$
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080  timer:(timewait,58sec,0)                                     $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=11))                          $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080  timer:(timewait,58sec,0)                                     $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002  users:((\"python3\",pid=12914,fd=23))                          $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950 users:((\"python3\",pid=12914,fd=9))                           $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574 users:((\"python3\",pid=12914,fd=19))                          $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584 users:((\"python3\",pid=12914,fd=21))                          $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658 timer:(on,1.764ms,1)                                         $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001  users:((\"python3\",pid=12914,fd=18)) timer:(on,372ms,2)       $
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001  users:((\"python3\",pid=12914,fd=20)) timer:(on,180ms,2)       $
LISTEN     0      10                             *:8444                         *:*     users:((\"python3\",pid=12914,fd=5))                           $
LISTEN     0      4096                           *:8443                         *:*     users:((\"python3\",pid=12914,fd=4))                           $
ESTAB      5      0                          [::1]:8443                     [::1]:36626 users:((\"python3\",pid=12914,fd=26))                          $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444  users:((\"python3\",pid=12914,fd=27))                          $
ESTAB      0      0                          [::1]:36626                    [::1]:8443  users:((\"python3\",pid=12914,fd=25))                          $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722 users:((\"python3\",pid=12914,fd=28))                          $
";

/// `ss -tani`, the full scenario: no `ts sack` without `-o`.
const FULL_TANI: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process                                                                                                                                                                                                                                                                                                                                                                                                                        $
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968$
^I cubic wscale:10,10 rto:200 rtt:0.008/0.004 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 327680000000bps lastsnd:1276 lastrcv:1276 lastack:1276 pacing_rate 655360000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.008 snd_wnd:65536                                                                                                  $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946$
^I cubic wscale:10,10 rto:204 rtt:0.321/0.16 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 8166479751bps lastsnd:1324 lastrcv:1324 lastack:1324 pacing_rate 16332959496bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.321 snd_wnd:65536                                                                                                                                         $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003 $
^I cubic wscale:0,10 rto:208 backoff:2 rtt:5.235/10.447 mss:1024 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_sent:2048 bytes_acked:2049 segs_out:7 segs_in:5 data_segs_out:3 send 15648520bps lastsnd:1012 lastrcv:1272 lastack:800 pacing_rate 31296288bps delivery_rate 2730666664bps delivered:4 app_limited busy:1272ms rwnd_limited:1272ms(100.0%) rcv_space:65495 rcv_ssthresh:65495 notsent:1449936 minrtt:0.003   $
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274$
^I cubic wscale:10,0 rto:200 rtt:0.004/0.002 ato:80 mss:32768 pmtu:65535 rcvmss:1000 advmss:65483 cwnd:10 bytes_received:2048 segs_out:4 segs_in:7 data_segs_in:3 send 655360000000bps lastsnd:1272 lastrcv:1012 lastack:1272 pacing_rate 1310720000000bps delivered:1 app_limited rcv_space:2048 rcv_ssthresh:2048 minrtt:0.004 snd_wnd:65536                                                                                 $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970$
^I cubic wscale:10,10 rto:200 rtt:0.003/0.001 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 873813333333bps lastsnd:1276 lastrcv:1276 lastack:1276 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                 $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999 $
^I cubic rto:1000 mss:524 pmtu:65535 rcvmss:88 advmss:65495 cwnd:1 ssthresh:7 segs_out:2 lastsnd:4625808 lastrcv:4625808 lastack:4625808 app_limited unacked:1 retrans:0/1 lost:1 rcv_ssthresh:65495                                                                                                                                                                                                                           $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080 $
^I cubic wscale:10,10 rto:204 rtt:0.031/0.015 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 84492903226bps lastsnd:1324 lastrcv:1324 lastack:1324 pacing_rate 168985806448bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.031 snd_wnd:65483                                                                                                             $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080 $
^I cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654820000000bps lastsnd:1324 lastrcv:1324 lastack:1324 pacing_rate 1309640000000bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.004 snd_wnd:65483                                                                                                           $
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080 $
^I                                                                                                                                                                                                                                                                                                                                                                                                                             $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080 $
^I cubic wscale:10,10 rto:204 rtt:0.581/1.15 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:2 segs_out:3 segs_in:2 send 4511944923bps lastsnd:1276 lastrcv:1276 lastack:1268 pacing_rate 9023889840bps delivery_rate 57000216bps delivered:2 busy:8ms rcv_space:65495 rcv_ssthresh:65495 minrtt:0.007 snd_wnd:65536                                                                                          $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080 $
^I                                                                                                                                                                                                                                                                                                                                                                                                                             $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002 $
^I cubic wscale:10,10 rto:200 rtt:0.012/0.006 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:3 segs_in:2 send 218273333333bps lastsnd:1264 lastrcv:1264 lastack:1264 pacing_rate 436546666664bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.012 snd_wnd:65483                                                                                                            $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950$
^I cubic wscale:10,10 rto:204 rtt:0.003/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 873813333333bps lastsnd:1324 lastrcv:1324 lastack:1324 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                                                    $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574$
^I cubic wscale:10,10 rto:200 rtt:0.007/0.003 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 374491428571bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 748982857136bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.007 snd_wnd:65536                                                                                                                                     $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584$
^I cubic wscale:10,10 rto:200 rtt:0.002/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 1310720000000bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 2621440000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.002 snd_wnd:65536                                                                                                                                   $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658$
^I                                                                                                                                                                                                                                                                                                                                                                                                                             $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001 $
^I cubic wscale:10,10 rto:800 backoff:2 rtt:0.009/0.004 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:400 bytes_retrans:300 bytes_acked:1 segs_out:6 segs_in:1 data_segs_out:4 send 29103111111bps lastsnd:432 lastrcv:1272 lastack:1272 pacing_rate 582062222216bps delivered:1 app_limited busy:1264ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.009 snd_wnd:65483$
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001 $
^I cubic wscale:10,10 rto:800 backoff:2 rtt:0.003/0.001 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:21 bytes_retrans:14 bytes_acked:1 segs_out:7 segs_in:1 data_segs_out:3 send 87309333333bps lastsnd:624 lastrcv:1272 lastack:1272 pacing_rate 1746186666664bps delivered:1 app_limited busy:1264ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.003 snd_wnd:65483 $
LISTEN     0      10                             *:8444                         *:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
LISTEN     0      4096                           *:8443                         *:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                               $
ESTAB      5      0                          [::1]:8443                     [::1]:36626$
^I cubic wscale:10,10 rto:204 rtt:0.009/0.004 ato:40 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_received:5 segs_out:1 segs_in:3 data_segs_in:1 send 291271111111bps lastsnd:1264 lastrcv:1264 lastack:1264 pacing_rate 582542222216bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.009 snd_wnd:65536                                                                                   $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444 $
^I cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32732 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654640000000bps lastsnd:1264 lastrcv:1264 lastack:1264 pacing_rate 1309280000000bps delivered:1 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65464                                                                                                           $
ESTAB      0      0                          [::1]:36626                    [::1]:8443 $
^I cubic wscale:10,10 rto:204 rtt:0.015/0.008 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_sent:5 bytes_acked:6 segs_out:3 segs_in:2 data_segs_out:1 send 174762666667bps lastsnd:1264 lastrcv:1264 lastack:1264 pacing_rate 341000325200bps delivery_rate 65536000000bps delivered:2 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65536                                                  $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722$
^I cubic wscale:10,10 rto:204 rtt:0.005/0.002 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 segs_in:2 send 524288000000bps lastsnd:1264 lastrcv:1264 lastack:1264 pacing_rate 1048576000000bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.005 snd_wnd:65536                                                                                                                                    $
";

/// `ss -tanoi`, the full scenario.
const FULL_TANOI: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process                                                                                                                                                                                                                                                                                                                                                                                                                                                    $
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.008/0.004 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 327680000000bps lastsnd:1248 lastrcv:1248 lastack:1248 pacing_rate 655360000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.008 snd_wnd:65536                                                                                                                      $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.321/0.16 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 8166479751bps lastsnd:1296 lastrcv:1296 lastack:1296 pacing_rate 16332959496bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.321 snd_wnd:65536                                                                                                                                                             $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003  timer:(persist,492ms,1)$
^I ts sack cubic wscale:0,10 rto:208 backoff:2 rtt:5.235/10.447 mss:1024 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_sent:2048 bytes_acked:2049 segs_out:7 segs_in:5 data_segs_out:3 send 15648520bps lastsnd:984 lastrcv:1244 lastack:772 pacing_rate 31296288bps delivery_rate 2730666664bps delivered:4 app_limited busy:1244ms rwnd_limited:1244ms(100.0%) rcv_space:65495 rcv_ssthresh:65495 notsent:1449936 minrtt:0.003$
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274$
^I ts sack cubic wscale:10,0 rto:200 rtt:0.004/0.002 ato:80 mss:32768 pmtu:65535 rcvmss:1000 advmss:65483 cwnd:10 bytes_received:2048 segs_out:4 segs_in:7 data_segs_in:3 send 655360000000bps lastsnd:1244 lastrcv:984 lastack:1244 pacing_rate 1310720000000bps delivered:1 app_limited rcv_space:2048 rcv_ssthresh:2048 minrtt:0.004 snd_wnd:65536                                                                                                      $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.003/0.001 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 873813333333bps lastsnd:1248 lastrcv:1248 lastack:1248 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                                     $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999  timer:(on,788ms,1)$
^I cubic rto:1000 mss:524 pmtu:65535 rcvmss:88 advmss:65495 cwnd:1 ssthresh:7 segs_out:2 lastsnd:4625780 lastrcv:4625780 lastack:4625780 app_limited unacked:1 retrans:0/1 lost:1 rcv_ssthresh:65495                                                                                                                                                                                                                                    $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080 $
^I ts sack cubic wscale:10,10 rto:204 rtt:0.031/0.015 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 84492903226bps lastsnd:1296 lastrcv:1296 lastack:1296 pacing_rate 168985806448bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.031 snd_wnd:65483                                                                                                                                 $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080  timer:(keepalive,119min,0)$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654820000000bps lastsnd:1296 lastrcv:1296 lastack:1296 pacing_rate 1309640000000bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.004 snd_wnd:65483                                                                                                    $
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080  timer:(timewait,58sec,0)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080 $
^I ts sack cubic wscale:10,10 rto:204 rtt:0.581/1.15 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:2 segs_out:3 segs_in:2 send 4511944923bps lastsnd:1248 lastrcv:1248 lastack:1240 pacing_rate 9023889840bps delivery_rate 57000216bps delivered:2 busy:8ms rcv_space:65495 rcv_ssthresh:65495 minrtt:0.007 snd_wnd:65536                                                                                                              $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080  timer:(timewait,58sec,0)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002 $
^I ts sack cubic wscale:10,10 rto:200 rtt:0.012/0.006 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:3 segs_in:2 send 218273333333bps lastsnd:1236 lastrcv:1236 lastack:1236 pacing_rate 436546666664bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.012 snd_wnd:65483                                                                                                                                $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.003/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 873813333333bps lastsnd:1296 lastrcv:1296 lastack:1296 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                                                                        $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.007/0.003 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 374491428571bps lastsnd:1244 lastrcv:1244 lastack:1244 pacing_rate 748982857136bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.007 snd_wnd:65536                                                                                                                                                         $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.002/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 1310720000000bps lastsnd:1248 lastrcv:1248 lastack:1248 pacing_rate 2621440000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.002 snd_wnd:65536                                                                                                                                                       $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658 timer:(on,1.784ms,1)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                    $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001  timer:(on,392ms,2)$
^I ts sack cubic wscale:10,10 rto:800 backoff:2 rtt:0.009/0.004 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:400 bytes_retrans:300 bytes_acked:1 segs_out:6 segs_in:1 data_segs_out:4 send 29103111111bps lastsnd:408 lastrcv:1248 lastack:1248 pacing_rate 582062222216bps delivered:1 app_limited busy:1240ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.009 snd_wnd:65483 $
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001  timer:(on,200ms,2)$
^I ts sack cubic wscale:10,10 rto:800 backoff:2 rtt:0.003/0.001 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:21 bytes_retrans:14 bytes_acked:1 segs_out:7 segs_in:1 data_segs_out:3 send 87309333333bps lastsnd:600 lastrcv:1248 lastack:1248 pacing_rate 1746186666664bps delivered:1 app_limited busy:1240ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.003 snd_wnd:65483  $
LISTEN     0      10                             *:8444                         *:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
LISTEN     0      4096                           *:8443                         *:*    $
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                           $
ESTAB      5      0                          [::1]:8443                     [::1]:36626$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.009/0.004 ato:40 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_received:5 segs_out:1 segs_in:3 data_segs_in:1 send 291271111111bps lastsnd:1236 lastrcv:1236 lastack:1236 pacing_rate 582542222216bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.009 snd_wnd:65536                                                                                                       $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444 $
^I ts sack cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32732 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654640000000bps lastsnd:1236 lastrcv:1236 lastack:1236 pacing_rate 1309280000000bps delivered:1 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65464                                                                                                                               $
ESTAB      0      0                          [::1]:36626                    [::1]:8443 $
^I ts sack cubic wscale:10,10 rto:204 rtt:0.015/0.008 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_sent:5 bytes_acked:6 segs_out:3 segs_in:2 data_segs_out:1 send 174762666667bps lastsnd:1236 lastrcv:1236 lastack:1236 pacing_rate 341000325200bps delivery_rate 65536000000bps delivered:2 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65536                                                                      $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.005/0.002 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 segs_in:2 send 524288000000bps lastsnd:1236 lastrcv:1236 lastack:1236 pacing_rate 1048576000000bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.005 snd_wnd:65536                                                                                                                                                        $
";

/// `ss -tanopi`, the full scenario.
const FULL_TANOPI: &str = "\
State      Recv-Q Send-Q             Local Address:Port              Peer Address:Port Process                                                                                                                                                                                                                                                                                                                                                                                                                                                                                         $
LISTEN     0      128                      0.0.0.0:8080                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=3))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                             $
LISTEN     0      128                    127.0.0.1:9002                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=22))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                            $
LISTEN     0      128                    127.0.0.1:9003                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=13))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                            $
LISTEN     0      128                    127.0.0.1:9001                   0.0.0.0:*     users:((\"python3\",pid=12914,fd=17))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                            $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46968 users:((\"python3\",pid=12914,fd=12))$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.008/0.004 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 327680000000bps lastsnd:1288 lastrcv:1288 lastack:1288 pacing_rate 655360000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.008 snd_wnd:65536                                                                                                                       $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46946 users:((\"python3\",pid=12914,fd=7))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.321/0.16 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 8166479751bps lastsnd:1336 lastrcv:1336 lastack:1336 pacing_rate 16332959496bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.321 snd_wnd:65536                                                                                                                                                               $
ESTAB      0      1449936                127.0.0.1:40274                127.0.0.1:9003  users:((\"python3\",pid=12914,fd=15)) timer:(persist,452ms,1)$
^I ts sack cubic wscale:0,10 rto:208 backoff:2 rtt:5.235/10.447 mss:1024 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_sent:2048 bytes_acked:2049 segs_out:7 segs_in:5 data_segs_out:3 send 15648520bps lastsnd:1024 lastrcv:1284 lastack:812 pacing_rate 31296288bps delivery_rate 2730666664bps delivered:4 app_limited busy:1284ms rwnd_limited:1284ms(100.0%) rcv_space:65495 rcv_ssthresh:65495 notsent:1449936 minrtt:0.003$
ESTAB      2048   0                      127.0.0.1:9003                 127.0.0.1:40274 users:((\"python3\",pid=12914,fd=16))$
^I ts sack cubic wscale:10,0 rto:200 rtt:0.004/0.002 ato:80 mss:32768 pmtu:65535 rcvmss:1000 advmss:65483 cwnd:10 bytes_received:2048 segs_out:4 segs_in:7 data_segs_in:3 send 655360000000bps lastsnd:1284 lastrcv:1024 lastack:1284 pacing_rate 1310720000000bps delivered:1 app_limited rcv_space:2048 rcv_ssthresh:2048 minrtt:0.004 snd_wnd:65536                                                                                                      $
CLOSE-WAIT 1      0                      127.0.0.1:8080                 127.0.0.1:46970 users:((\"python3\",pid=12914,fd=14))$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.003/0.001 ato:40 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_received:1 segs_out:1 segs_in:3 send 873813333333bps lastsnd:1288 lastrcv:1288 lastack:1288 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                                      $
SYN-SENT   0      1                      127.0.0.1:45024                127.0.0.1:9999  users:((\"python3\",pid=12914,fd=24)) timer:(on,748ms,1)$
^I cubic rto:1000 mss:524 pmtu:65535 rcvmss:88 advmss:65495 cwnd:1 ssthresh:7 segs_out:2 lastsnd:4625820 lastrcv:4625820 lastack:4625820 app_limited unacked:1 retrans:0/1 lost:1 rcv_ssthresh:65495                                                                                                                                                                                                                                     $
ESTAB      0      0                      127.0.0.1:46946                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=6))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.031/0.015 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 84492903226bps lastsnd:1336 lastrcv:1336 lastack:1336 pacing_rate 168985806448bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.031 snd_wnd:65483                                                                                                                                   $
ESTAB      0      0                      127.0.0.1:46950                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=8)) timer:(keepalive,119min,0)$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654820000000bps lastsnd:1336 lastrcv:1336 lastack:1336 pacing_rate 1309640000000bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.004 snd_wnd:65483                                                                                                      $
TIME-WAIT  0      0                      127.0.0.1:46966                127.0.0.1:8080  timer:(timewait,58sec,0)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                                                     $
FIN-WAIT-2 0      0                      127.0.0.1:46968                127.0.0.1:8080  users:((\"python3\",pid=12914,fd=11))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.581/1.15 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:2 segs_out:3 segs_in:2 send 4511944923bps lastsnd:1288 lastrcv:1288 lastack:1280 pacing_rate 9023889840bps delivery_rate 57000216bps delivered:2 busy:8ms rcv_space:65495 rcv_ssthresh:65495 minrtt:0.007 snd_wnd:65536                                                                                                               $
FIN-WAIT-2 0      0                      127.0.0.1:46970                127.0.0.1:8080  timer:(timewait,58sec,0)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                                                     $
ESTAB      0      0                      127.0.0.1:59658                127.0.0.1:9002  users:((\"python3\",pid=12914,fd=23))$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.012/0.006 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 bytes_acked:1 segs_out:3 segs_in:2 send 218273333333bps lastsnd:1276 lastrcv:1276 lastack:1276 pacing_rate 436546666664bps delivered:1 app_limited rcv_space:65495 rcv_ssthresh:65495 minrtt:0.012 snd_wnd:65483                                                                                                                                 $
ESTAB      0      0                      127.0.0.1:8080                 127.0.0.1:46950 users:((\"python3\",pid=12914,fd=9))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.003/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 873813333333bps lastsnd:1336 lastrcv:1336 lastack:1336 pacing_rate 1747626666664bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.003 snd_wnd:65536                                                                                                                                                          $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36574 users:((\"python3\",pid=12914,fd=19))$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.007/0.003 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 374491428571bps lastsnd:1284 lastrcv:1284 lastack:1284 pacing_rate 748982857136bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.007 snd_wnd:65536                                                                                                                                                          $
ESTAB      0      0                      127.0.0.1:9001                 127.0.0.1:36584 users:((\"python3\",pid=12914,fd=21))$
^I ts sack cubic wscale:10,10 rto:200 rtt:0.002/0.001 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10 segs_in:2 send 1310720000000bps lastsnd:1284 lastrcv:1284 lastack:1284 pacing_rate 2621440000000bps delivered:1 app_limited rcv_space:65483 rcv_ssthresh:65483 minrtt:0.002 snd_wnd:65536                                                                                                                                                        $
SYN-RECV   0      0                      127.0.0.1:9002                 127.0.0.1:59658 timer:(on,1.748ms,1)$
^I                                                                                                                                                                                                                                                                                                                                                                                                                                                                         $
ESTAB      0      100                    127.0.0.1:36574                127.0.0.1:9001  users:((\"python3\",pid=12914,fd=18)) timer:(on,356ms,2)$
^I ts sack cubic wscale:10,10 rto:800 backoff:2 rtt:0.009/0.004 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:400 bytes_retrans:300 bytes_acked:1 segs_out:6 segs_in:1 data_segs_out:4 send 29103111111bps lastsnd:444 lastrcv:1284 lastack:1284 pacing_rate 582062222216bps delivered:1 app_limited busy:1276ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.009 snd_wnd:65483  $
FIN-WAIT-1 0      8                      127.0.0.1:36584                127.0.0.1:9001  users:((\"python3\",pid=12914,fd=20)) timer:(on,164ms,2)$
^I ts sack cubic wscale:10,10 rto:800 backoff:2 rtt:0.003/0.001 mss:32741 pmtu:65535 rcvmss:536 advmss:65483 cwnd:1 ssthresh:7 bytes_sent:21 bytes_retrans:14 bytes_acked:1 segs_out:7 segs_in:1 data_segs_out:3 send 87309333333bps lastsnd:636 lastrcv:1284 lastack:1284 pacing_rate 1746186666664bps delivered:1 app_limited busy:1276ms unacked:1 retrans:1/3 lost:1 rcv_space:65495 rcv_ssthresh:65495 minrtt:0.003 snd_wnd:65483   $
LISTEN     0      10                             *:8444                         *:*     users:((\"python3\",pid=12914,fd=5))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                             $
LISTEN     0      4096                           *:8443                         *:*     users:((\"python3\",pid=12914,fd=4))$
^I cubic cwnd:10                                                                                                                                                                                                                                                                                                                                                                                                                                             $
ESTAB      5      0                          [::1]:8443                     [::1]:36626 users:((\"python3\",pid=12914,fd=26))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.009/0.004 ato:40 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_received:5 segs_out:1 segs_in:3 data_segs_in:1 send 291271111111bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 582542222216bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.009 snd_wnd:65536                                                                                                        $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:47722 [fd00:1234:5678:9abc::1]:8444  users:((\"python3\",pid=12914,fd=27))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.004/0.002 mss:32732 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_acked:1 segs_out:2 segs_in:1 send 654640000000bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 1309280000000bps delivered:1 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65464                                                                                                                                $
ESTAB      0      0                          [::1]:36626                    [::1]:8443  users:((\"python3\",pid=12914,fd=25))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.015/0.008 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 bytes_sent:5 bytes_acked:6 segs_out:3 segs_in:2 data_segs_out:1 send 174762666667bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 341000325200bps delivery_rate 65536000000bps delivered:2 app_limited rcv_space:65476 rcv_ssthresh:65476 minrtt:0.004 snd_wnd:65536                                                                       $
ESTAB      0      0       [fd00:1234:5678:9abc::1]:8444  [fd00:1234:5678:9abc::1]:47722 users:((\"python3\",pid=12914,fd=28))$
^I ts sack cubic wscale:10,10 rto:204 rtt:0.005/0.002 mss:32768 pmtu:65536 rcvmss:536 advmss:65464 cwnd:10 segs_in:2 send 524288000000bps lastsnd:1272 lastrcv:1272 lastack:1272 pacing_rate 1048576000000bps delivered:1 app_limited rcv_space:65464 rcv_ssthresh:65464 minrtt:0.005 snd_wnd:65536                                                                                                                                                         $
";

/// `ss -tano` on a 60-column terminal, the full scenario.
const FULL_TTY60_TANO: &str = "\
State      Recv-Q  Send-Q               Local Address:Port               Peer Address:Port  Process                     $
LISTEN     0       128                        0.0.0.0:8080                    0.0.0.0:*                                 $
LISTEN     0       128                      127.0.0.1:9002                    0.0.0.0:*                                 $
LISTEN     0       128                      127.0.0.1:9003                    0.0.0.0:*                                 $
LISTEN     0       128                      127.0.0.1:9001                    0.0.0.0:*                                 $
CLOSE-WAIT 1       0                        127.0.0.1:8080                  127.0.0.1:46968                             $
ESTAB      0       0                        127.0.0.1:8080                  127.0.0.1:46946                             $
ESTAB      0       1449936                  127.0.0.1:40274                 127.0.0.1:9003   timer:(persist,304ms,1)    $
ESTAB      2048    0                        127.0.0.1:9003                  127.0.0.1:40274                             $
CLOSE-WAIT 1       0                        127.0.0.1:8080                  127.0.0.1:46970                             $
SYN-SENT   0       1                        127.0.0.1:45024                 127.0.0.1:9999   timer:(on,600ms,1)         $
ESTAB      0       0                        127.0.0.1:46946                 127.0.0.1:8080                              $
ESTAB      0       0                        127.0.0.1:46950                 127.0.0.1:8080   timer:(keepalive,119min,0) $
TIME-WAIT  0       0                        127.0.0.1:46966                 127.0.0.1:8080   timer:(timewait,58sec,0)   $
FIN-WAIT-2 0       0                        127.0.0.1:46968                 127.0.0.1:8080                              $
FIN-WAIT-2 0       0                        127.0.0.1:46970                 127.0.0.1:8080   timer:(timewait,58sec,0)   $
ESTAB      0       0                        127.0.0.1:59658                 127.0.0.1:9002                              $
ESTAB      0       0                        127.0.0.1:8080                  127.0.0.1:46950                             $
ESTAB      0       0                        127.0.0.1:9001                  127.0.0.1:36574                             $
ESTAB      0       0                        127.0.0.1:9001                  127.0.0.1:36584                             $
SYN-RECV   0       0                        127.0.0.1:9002                  127.0.0.1:59658  timer:(on,1.596ms,1)       $
ESTAB      0       100                      127.0.0.1:36574                 127.0.0.1:9001   timer:(on,204ms,2)         $
FIN-WAIT-1 0       8                        127.0.0.1:36584                 127.0.0.1:9001   timer:(on,012ms,2)         $
LISTEN     0       10                               *:8444                          *:*                                 $
LISTEN     0       4096                             *:8443                          *:*                                 $
ESTAB      5       0                            [::1]:8443                      [::1]:36626                             $
ESTAB      0       0         [fd00:1234:5678:9abc::1]:47722  [fd00:1234:5678:9abc::1]:8444                              $
ESTAB      0       0                            [::1]:36626                     [::1]:8443                              $
ESTAB      0       0         [fd00:1234:5678:9abc::1]:8444   [fd00:1234:5678:9abc::1]:47722                             $
";

/// `ss -tano` on a 100-column terminal, the full scenario.
const FULL_TTY100_TANO: &str = "\
State       Recv-Q   Send-Q                 Local Address:Port                  Peer Address:Port   Process                                                                                             $
LISTEN      0        128                          0.0.0.0:8080                       0.0.0.0:*                                                                                                          $
LISTEN      0        128                        127.0.0.1:9002                       0.0.0.0:*                                                                                                          $
LISTEN      0        128                        127.0.0.1:9003                       0.0.0.0:*                                                                                                          $
LISTEN      0        128                        127.0.0.1:9001                       0.0.0.0:*                                                                                                          $
CLOSE-WAIT  1        0                          127.0.0.1:8080                     127.0.0.1:46968                                                                                                      $
ESTAB       0        0                          127.0.0.1:8080                     127.0.0.1:46946                                                                                                      $
ESTAB       0        1449936                    127.0.0.1:40274                    127.0.0.1:9003    timer:(persist,132ms,1)                                                                            $
ESTAB       2048     0                          127.0.0.1:9003                     127.0.0.1:40274                                                                                                      $
CLOSE-WAIT  1        0                          127.0.0.1:8080                     127.0.0.1:46970                                                                                                      $
SYN-SENT    0        1                          127.0.0.1:45024                    127.0.0.1:9999    timer:(on,428ms,1)                                                                                 $
ESTAB       0        0                          127.0.0.1:46946                    127.0.0.1:8080                                                                                                       $
ESTAB       0        0                          127.0.0.1:46950                    127.0.0.1:8080    timer:(keepalive,119min,0)                                                                         $
TIME-WAIT   0        0                          127.0.0.1:46966                    127.0.0.1:8080    timer:(timewait,58sec,0)                                                                           $
FIN-WAIT-2  0        0                          127.0.0.1:46968                    127.0.0.1:8080                                                                                                       $
FIN-WAIT-2  0        0                          127.0.0.1:46970                    127.0.0.1:8080    timer:(timewait,58sec,0)                                                                           $
ESTAB       0        0                          127.0.0.1:59658                    127.0.0.1:9002                                                                                                       $
ESTAB       0        0                          127.0.0.1:8080                     127.0.0.1:46950                                                                                                      $
ESTAB       0        0                          127.0.0.1:9001                     127.0.0.1:36574                                                                                                      $
ESTAB       0        0                          127.0.0.1:9001                     127.0.0.1:36584                                                                                                      $
SYN-RECV    0        0                          127.0.0.1:9002                     127.0.0.1:59658   timer:(on,1.428ms,1)                                                                               $
ESTAB       0        100                        127.0.0.1:36574                    127.0.0.1:9001    timer:(on,032ms,2)                                                                                 $
FIN-WAIT-1  0        8                          127.0.0.1:36584                    127.0.0.1:9001    timer:(on,1.472ms,3)                                                                               $
LISTEN      0        10                                 *:8444                             *:*                                                                                                          $
LISTEN      0        4096                               *:8443                             *:*                                                                                                          $
ESTAB       5        0                              [::1]:8443                         [::1]:36626                                                                                                      $
ESTAB       0        0           [fd00:1234:5678:9abc::1]:47722     [fd00:1234:5678:9abc::1]:8444                                                                                                       $
ESTAB       0        0                              [::1]:36626                        [::1]:8443                                                                                                       $
ESTAB       0        0           [fd00:1234:5678:9abc::1]:8444      [fd00:1234:5678:9abc::1]:47722                                                                                                      $
";

/// `ss -tano` on a 160-column terminal, the full scenario.
const FULL_TTY160_TANO: &str = "\
State           Recv-Q      Send-Q                         Local Address:Port                          Peer Address:Port       Process                          $
LISTEN          0           128                                  0.0.0.0:8080                               0.0.0.0:*                                           $
LISTEN          0           128                                127.0.0.1:9002                               0.0.0.0:*                                           $
LISTEN          0           128                                127.0.0.1:9003                               0.0.0.0:*                                           $
LISTEN          0           128                                127.0.0.1:9001                               0.0.0.0:*                                           $
CLOSE-WAIT      1           0                                  127.0.0.1:8080                             127.0.0.1:46968                                       $
ESTAB           0           0                                  127.0.0.1:8080                             127.0.0.1:46946                                       $
ESTAB           0           1449936                            127.0.0.1:40274                            127.0.0.1:9003        timer:(persist,1.644ms,0)       $
ESTAB           2048        0                                  127.0.0.1:9003                             127.0.0.1:40274                                       $
CLOSE-WAIT      1           0                                  127.0.0.1:8080                             127.0.0.1:46970                                       $
SYN-SENT        0           1                                  127.0.0.1:45024                            127.0.0.1:9999        timer:(on,244ms,1)              $
ESTAB           0           0                                  127.0.0.1:46946                            127.0.0.1:8080                                        $
ESTAB           0           0                                  127.0.0.1:46950                            127.0.0.1:8080        timer:(keepalive,119min,0)      $
TIME-WAIT       0           0                                  127.0.0.1:46966                            127.0.0.1:8080        timer:(timewait,58sec,0)        $
FIN-WAIT-2      0           0                                  127.0.0.1:46968                            127.0.0.1:8080                                        $
FIN-WAIT-2      0           0                                  127.0.0.1:46970                            127.0.0.1:8080        timer:(timewait,58sec,0)        $
ESTAB           0           0                                  127.0.0.1:59658                            127.0.0.1:9002                                        $
ESTAB           0           0                                  127.0.0.1:8080                             127.0.0.1:46950                                       $
ESTAB           0           0                                  127.0.0.1:9001                             127.0.0.1:36574                                       $
ESTAB           0           0                                  127.0.0.1:9001                             127.0.0.1:36584                                       $
SYN-RECV        0           0                                  127.0.0.1:9002                             127.0.0.1:59658       timer:(on,1.244ms,1)            $
ESTAB           0           100                                127.0.0.1:36574                            127.0.0.1:9001        timer:(on,1.480ms,3)            $
FIN-WAIT-1      0           8                                  127.0.0.1:36584                            127.0.0.1:9001        timer:(on,1.288ms,3)            $
LISTEN          0           10                                         *:8444                                     *:*                                           $
LISTEN          0           4096                                       *:8443                                     *:*                                           $
ESTAB           5           0                                      [::1]:8443                                 [::1]:36626                                       $
ESTAB           0           0                   [fd00:1234:5678:9abc::1]:47722             [fd00:1234:5678:9abc::1]:8444                                        $
ESTAB           0           0                                      [::1]:36626                                [::1]:8443                                        $
ESTAB           0           0                   [fd00:1234:5678:9abc::1]:8444              [fd00:1234:5678:9abc::1]:47722                                       $
";

/// `ss -tan`, listeners only: the `PortProcess` header.
const LISTEN_TAN: &str = "\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess$
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          $
LISTEN 0      4096       127.0.0.1:631       0.0.0.0:*          $
LISTEN 0      511                *:80              *:*          $
";

/// `ss -tano`, listeners only.
const LISTEN_TANO: &str = "\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess$
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          $
LISTEN 0      4096       127.0.0.1:631       0.0.0.0:*          $
LISTEN 0      511                *:80              *:*          $
";

/// `ss -tanoi`, listeners only.
const LISTEN_TANOI: &str = "\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess         $
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*   $
^I cubic cwnd:10$
LISTEN 0      4096       127.0.0.1:631       0.0.0.0:*   $
^I cubic cwnd:10$
LISTEN 0      511                *:80              *:*   $
^I cubic cwnd:10$
";

/// `ss -tanop`, listeners only.
const LISTEN_TANOP: &str = "\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess                            $
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"python3\",pid=13226,fd=3))$
LISTEN 0      4096       127.0.0.1:631       0.0.0.0:*    users:((\"python3\",pid=13226,fd=4))$
LISTEN 0      511                *:80              *:*    users:((\"python3\",pid=13226,fd=5))$
";

/// `ss -tano` on a 60-column terminal, listeners only: Process wraps to a line of its own.
const LISTEN_TTY60_TANO: &str = "\
State  Recv-Q Send-Q Local Address:Port   Peer Address:Port Process                                                     $
LISTEN 0      128          0.0.0.0:22          0.0.0.0:*                                                                $
LISTEN 0      4096       127.0.0.1:631         0.0.0.0:*                                                                $
LISTEN 0      511                *:80                *:*                                                                $
";

/// `ss -tano` on a 100-column terminal, listeners only.
const LISTEN_TTY100_TANO: &str = "\
State      Recv-Q     Send-Q         Local Address:Port           Peer Address:Port     Process     $
LISTEN     0          128                  0.0.0.0:22                  0.0.0.0:*                    $
LISTEN     0          4096               127.0.0.1:631                 0.0.0.0:*                    $
LISTEN     0          511                        *:80                        *:*                    $
";

/// `netstat -tan`, the full scenario.
const NETSTAT_FULL_TAN: &str = "\
Active Internet connections (servers and established)$
Proto Recv-Q Send-Q Local Address           Foreign Address         State      $
tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN     $
tcp        0      0 127.0.0.1:9002          0.0.0.0:*               LISTEN     $
tcp        0      0 127.0.0.1:9003          0.0.0.0:*               LISTEN     $
tcp        0      0 127.0.0.1:9001          0.0.0.0:*               LISTEN     $
tcp        1      0 127.0.0.1:8080          127.0.0.1:46968         CLOSE_WAIT $
tcp        0      0 127.0.0.1:8080          127.0.0.1:46946         ESTABLISHED$
tcp        0 1449936 127.0.0.1:40274         127.0.0.1:9003          ESTABLISHED$
tcp     2048      0 127.0.0.1:9003          127.0.0.1:40274         ESTABLISHED$
tcp        1      0 127.0.0.1:8080          127.0.0.1:46970         CLOSE_WAIT $
tcp        0      1 127.0.0.1:45024         127.0.0.1:9999          SYN_SENT   $
tcp        0      0 127.0.0.1:46946         127.0.0.1:8080          ESTABLISHED$
tcp        0      0 127.0.0.1:46950         127.0.0.1:8080          ESTABLISHED$
tcp        0      0 127.0.0.1:46966         127.0.0.1:8080          TIME_WAIT  $
tcp        0      0 127.0.0.1:46968         127.0.0.1:8080          FIN_WAIT2  $
tcp        0      0 127.0.0.1:46970         127.0.0.1:8080          FIN_WAIT2  $
tcp        0      0 127.0.0.1:59658         127.0.0.1:9002          ESTABLISHED$
tcp        0      0 127.0.0.1:8080          127.0.0.1:46950         ESTABLISHED$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36574         ESTABLISHED$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36584         ESTABLISHED$
tcp        0      0 127.0.0.1:9002          127.0.0.1:59658         SYN_RECV   $
tcp        0    100 127.0.0.1:36574         127.0.0.1:9001          ESTABLISHED$
tcp        0      8 127.0.0.1:36584         127.0.0.1:9001          FIN_WAIT1  $
tcp6       0      0 :::8444                 :::*                    LISTEN     $
tcp6       0      0 :::8443                 :::*                    LISTEN     $
tcp6       5      0 ::1:8443                ::1:36626               ESTABLISHED$
tcp6       0      0 fd00:1234:5678:9a:47722 fd00:1234:5678:9ab:8444 ESTABLISHED$
tcp6       0      0 ::1:36626               ::1:8443                ESTABLISHED$
tcp6       0      0 fd00:1234:5678:9ab:8444 fd00:1234:5678:9a:47722 ESTABLISHED$
";

/// `netstat -tanp`, the full scenario.
const NETSTAT_FULL_TANP: &str = "\
Active Internet connections (servers and established)$
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    $
tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      12914/python3       $
tcp        0      0 127.0.0.1:9002          0.0.0.0:*               LISTEN      12914/python3       $
tcp        0      0 127.0.0.1:9003          0.0.0.0:*               LISTEN      12914/python3       $
tcp        0      0 127.0.0.1:9001          0.0.0.0:*               LISTEN      12914/python3       $
tcp        1      0 127.0.0.1:8080          127.0.0.1:46968         CLOSE_WAIT  12914/python3       $
tcp        0      0 127.0.0.1:8080          127.0.0.1:46946         ESTABLISHED 12914/python3       $
tcp        0 1449936 127.0.0.1:40274         127.0.0.1:9003          ESTABLISHED 12914/python3       $
tcp     2048      0 127.0.0.1:9003          127.0.0.1:40274         ESTABLISHED 12914/python3       $
tcp        1      0 127.0.0.1:8080          127.0.0.1:46970         CLOSE_WAIT  12914/python3       $
tcp        0      1 127.0.0.1:45024         127.0.0.1:9999          SYN_SENT    12914/python3       $
tcp        0      0 127.0.0.1:46946         127.0.0.1:8080          ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:46950         127.0.0.1:8080          ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:46966         127.0.0.1:8080          TIME_WAIT   -                   $
tcp        0      0 127.0.0.1:46968         127.0.0.1:8080          FIN_WAIT2   12914/python3       $
tcp        0      0 127.0.0.1:46970         127.0.0.1:8080          FIN_WAIT2   -                   $
tcp        0      0 127.0.0.1:59658         127.0.0.1:9002          ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:8080          127.0.0.1:46950         ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:9001          127.0.0.1:36574         ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:9001          127.0.0.1:36584         ESTABLISHED 12914/python3       $
tcp        0      0 127.0.0.1:9002          127.0.0.1:59658         SYN_RECV    -                   $
tcp        0    100 127.0.0.1:36574         127.0.0.1:9001          ESTABLISHED 12914/python3       $
tcp        0      8 127.0.0.1:36584         127.0.0.1:9001          FIN_WAIT1   12914/python3       $
tcp6       0      0 :::8444                 :::*                    LISTEN      12914/python3       $
tcp6       0      0 :::8443                 :::*                    LISTEN      12914/python3       $
tcp6       5      0 ::1:8443                ::1:36626               ESTABLISHED 12914/python3       $
tcp6       0      0 fd00:1234:5678:9a:47722 fd00:1234:5678:9ab:8444 ESTABLISHED 12914/python3       $
tcp6       0      0 ::1:36626               ::1:8443                ESTABLISHED 12914/python3       $
tcp6       0      0 fd00:1234:5678:9ab:8444 fd00:1234:5678:9a:47722 ESTABLISHED 12914/python3       $
";

/// `netstat -tano`, the full scenario.
const NETSTAT_FULL_TANO: &str = "\
Active Internet connections (servers and established)$
Proto Recv-Q Send-Q Local Address           Foreign Address         State       Timer$
tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      off (0.00/0/0)$
tcp        0      0 127.0.0.1:9002          0.0.0.0:*               LISTEN      off (0.00/0/0)$
tcp        0      0 127.0.0.1:9003          0.0.0.0:*               LISTEN      off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          0.0.0.0:*               LISTEN      off (0.00/0/0)$
tcp        1      0 127.0.0.1:8080          127.0.0.1:46968         CLOSE_WAIT  off (0.00/0/0)$
tcp        0      0 127.0.0.1:8080          127.0.0.1:46946         ESTABLISHED off (0.00/0/0)$
tcp        0 1449936 127.0.0.1:40274         127.0.0.1:9003          ESTABLISHED probe (1.61/0/0)$
tcp     2048      0 127.0.0.1:9003          127.0.0.1:40274         ESTABLISHED off (0.00/0/0)$
tcp        1      0 127.0.0.1:8080          127.0.0.1:46970         CLOSE_WAIT  off (0.00/0/0)$
tcp        0      1 127.0.0.1:45024         127.0.0.1:9999          SYN_SENT    on (0.21/1/0)$
tcp        0      0 127.0.0.1:46946         127.0.0.1:8080          ESTABLISHED off (0.00/0/0)$
tcp        0      0 127.0.0.1:46950         127.0.0.1:8080          ESTABLISHED keepalive (7198.12/0/0)$
tcp        0      0 127.0.0.1:46966         127.0.0.1:8080          TIME_WAIT   timewait (58.17/0/0)$
tcp        0      0 127.0.0.1:46968         127.0.0.1:8080          FIN_WAIT2   off (0.00/0/0)$
tcp        0      0 127.0.0.1:46970         127.0.0.1:8080          FIN_WAIT2   timewait (58.18/0/0)$
tcp        0      0 127.0.0.1:59658         127.0.0.1:9002          ESTABLISHED off (0.00/0/0)$
tcp        0      0 127.0.0.1:8080          127.0.0.1:46950         ESTABLISHED off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36574         ESTABLISHED off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36584         ESTABLISHED off (0.00/0/0)$
tcp        0      0 127.0.0.1:9002          127.0.0.1:59658         SYN_RECV    on (1.21/1/0)$
tcp        0    100 127.0.0.1:36574         127.0.0.1:9001          ESTABLISHED on (1.45/3/0)$
tcp        0      8 127.0.0.1:36584         127.0.0.1:9001          FIN_WAIT1   on (1.26/3/0)$
tcp6       0      0 :::8444                 :::*                    LISTEN      off (0.00/0/0)$
tcp6       0      0 :::8443                 :::*                    LISTEN      off (0.00/0/0)$
tcp6       5      0 ::1:8443                ::1:36626               ESTABLISHED off (0.00/0/0)$
tcp6       0      0 fd00:1234:5678:9a:47722 fd00:1234:5678:9ab:8444 ESTABLISHED off (0.00/0/0)$
tcp6       0      0 ::1:36626               ::1:8443                ESTABLISHED off (0.00/0/0)$
tcp6       0      0 fd00:1234:5678:9ab:8444 fd00:1234:5678:9a:47722 ESTABLISHED off (0.00/0/0)$
";

/// `netstat -tanpo`, the full scenario.
const NETSTAT_FULL_TANPO: &str = "\
Active Internet connections (servers and established)$
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer$
tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9002          0.0.0.0:*               LISTEN      12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9003          0.0.0.0:*               LISTEN      12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          0.0.0.0:*               LISTEN      12914/python3        off (0.00/0/0)$
tcp        1      0 127.0.0.1:8080          127.0.0.1:46968         CLOSE_WAIT  12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:8080          127.0.0.1:46946         ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0 1449936 127.0.0.1:40274         127.0.0.1:9003          ESTABLISHED 12914/python3        probe (1.62/0/0)$
tcp     2048      0 127.0.0.1:9003          127.0.0.1:40274         ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        1      0 127.0.0.1:8080          127.0.0.1:46970         CLOSE_WAIT  12914/python3        off (0.00/0/0)$
tcp        0      1 127.0.0.1:45024         127.0.0.1:9999          SYN_SENT    12914/python3        on (0.22/1/0)$
tcp        0      0 127.0.0.1:46946         127.0.0.1:8080          ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:46950         127.0.0.1:8080          ESTABLISHED 12914/python3        keepalive (7198.14/0/0)$
tcp        0      0 127.0.0.1:46966         127.0.0.1:8080          TIME_WAIT   -                    timewait (58.19/0/0)$
tcp        0      0 127.0.0.1:46968         127.0.0.1:8080          FIN_WAIT2   12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:46970         127.0.0.1:8080          FIN_WAIT2   -                    timewait (58.20/0/0)$
tcp        0      0 127.0.0.1:59658         127.0.0.1:9002          ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:8080          127.0.0.1:46950         ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36574         ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9001          127.0.0.1:36584         ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:9002          127.0.0.1:59658         SYN_RECV    -                    on (1.22/1/0)$
tcp        0    100 127.0.0.1:36574         127.0.0.1:9001          ESTABLISHED 12914/python3        on (1.46/3/0)$
tcp        0      8 127.0.0.1:36584         127.0.0.1:9001          FIN_WAIT1   12914/python3        on (1.27/3/0)$
tcp6       0      0 :::8444                 :::*                    LISTEN      12914/python3        off (0.00/0/0)$
tcp6       0      0 :::8443                 :::*                    LISTEN      12914/python3        off (0.00/0/0)$
tcp6       5      0 ::1:8443                ::1:36626               ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp6       0      0 fd00:1234:5678:9a:47722 fd00:1234:5678:9ab:8444 ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp6       0      0 ::1:36626               ::1:8443                ESTABLISHED 12914/python3        off (0.00/0/0)$
tcp6       0      0 fd00:1234:5678:9ab:8444 fd00:1234:5678:9a:47722 ESTABLISHED 12914/python3        off (0.00/0/0)$
";

/// `netstat -tanpo`, listeners only.
const NETSTAT_LISTEN_TANPO: &str = "\
Active Internet connections (servers and established)$
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer$
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      13226/python3        off (0.00/0/0)$
tcp        0      0 127.0.0.1:631           0.0.0.0:*               LISTEN      13226/python3        off (0.00/0/0)$
tcp6       0      0 :::80                   :::*                    LISTEN      13226/python3        off (0.00/0/0)$
";
