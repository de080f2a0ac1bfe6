//! How engineers read sockets: `ss -tanoi`, `netstat -tanpo` and `/proc/net/tcp` text for a
//! snapshot of the socket table. Pure formatting; the stack fills a [`SocketEntry`] per socket.
//!
//! Guarantees: every function is total (no panics on any value) and deterministic. Fields and
//! their order, the rules for omitting zero fields, and the number formats (`%g`, iproute2's
//! `print_ms_timer()`, net-tools' `%2.2f` timer seconds, the kernel's little-endian hex
//! addresses) follow iproute2 `misc/ss.c`, net-tools `netstat.c` and `tcp_ipv4.c`.
//!
//! # Whole tables: [`ss_table`] and [`netstat_table`]
//!
//! These reproduce the tools' output byte for byte, header and trailing blanks included; the
//! oracle is iproute2 6.1 and net-tools 2.10 on Linux 6.18, piped (not a terminal), and
//! `crates/stack/tests/ss_text.rs` holds their captured output with the programs that made it.
//! `ss` buffers the whole table and sizes each column to its widest cell, the header included:
//! State, Recv-Q and Send-Q left-aligned (the queues are printed `%-6d`), each address
//! right-aligned with its `:` and each port left-aligned right after it, then one column for
//! ` users:(…)`, ` timer:(…)` and, with `-i`, `\n\t` and the `tcp_info` items. So the header
//! reads `Peer Address:PortProcess` when no port is wider than `Port`, and every line is padded
//! with blanks to the width of that last column (the `-i` line counts in it, tab and all).
//! Piped, `ss` adds no further spacing; on a terminal it spreads the spare width over the
//! columns ([`ss_table_on`] with [`SsScreen::Terminal`]).
//! [`netstat_table`] is net-tools' fixed layout with its title line; nothing is trimmed.
//! Both list IPv4 sockets before IPv6 ones, as the tools read the two tables one after the
//! other; within a family the caller's order is kept.
//!
//! Approximations, for lack of a field in [`SocketEntry`]:
//! * IPv6 wildcards print as `*` (`*:8443`, `*:*`), as `ss` does for a socket without
//!   `IPV6_V6ONLY` (Linux's default `bindv6only = 0`); a V6ONLY socket would show `[::]`.
//! * `users:` shows one owner (`pid/name` and the fd); `ss` lists every process sharing it.
//! * `-i` prints the [`InfoView`] fields only: no `bbr:(…)`, `dctcp:(…)`, `fastopen`,
//!   `pacing_rate …/max`, `delivered_ce` or `fackets`. `rwnd_limited` and `sndbuf_limited`
//!   percentages come from milliseconds where `ss` divides microseconds, so their tenth of a
//!   percent can differ.
//!   `rcv_wnd` is printed when non-zero, as iproute2 6.7 and later do (6.1 has no such field).
//! * Rates are printed as `ss -n` prints them (`send 77037647059bps`); `ss` without `-n`
//!   would abbreviate (`77.0Gbps`).
//!
//! # One line at a time: [`ss_line`] and [`netstat_line`]
//!
//! Kept for callers that print rows as they go. [`ss_line`] cannot see the other rows, so it
//! uses fixed widths wide enough for any IPv4 socket: State 10 (`FIN-WAIT-1`), Recv-Q 6,
//! Send-Q 6, each address 15 right-aligned (`255.255.255.255`), each port 5 left-aligned, one
//! blank between columns, and IPv6 wildcards as `[::]`. Longer cells (IPv6) push the rest of
//! the line right. [`netstat_line`] has net-tools' own widths. Both trim trailing blanks.
//! IPv4 /proc/net/tcp lines keep the kernel's padding.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::api::{Fd, TcpState};

/// The timer a socket reports (`idiag_timer`, the `tr` column of /proc/net/tcp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Retransmit, RACK reordering or tail-loss-probe timer (also a request sock's SYN-ACK
    /// timer).
    On,
    /// `sk_timer`: keepalive, or the first half of an orphan's FIN-WAIT-2 wait.
    Keepalive,
    /// A timewait minisock (TIME-WAIT or its FIN-WAIT-2 substate).
    TimeWait,
    /// Zero-window probe timer.
    Persist,
}

impl TimerKind {
    /// The `idiag_timer` / `tr` code.
    pub fn code(self) -> u8 {
        match self {
            TimerKind::On => 1,
            TimerKind::Keepalive => 2,
            TimerKind::TimeWait => 3,
            TimerKind::Persist => 4,
        }
    }

    /// The name `ss -o` prints.
    pub fn ss_name(self) -> &'static str {
        match self {
            TimerKind::On => "on",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "timewait",
            TimerKind::Persist => "persist",
        }
    }

    /// The name `netstat -o` prints (net-tools calls the persist timer `probe`).
    pub fn netstat_name(self) -> &'static str {
        match self {
            TimerKind::On => "on",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "timewait",
            TimerKind::Persist => "probe",
        }
    }
}

/// A socket's pending timer as inet_diag reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerView {
    pub kind: TimerKind,
    /// Milliseconds until expiry (0 once overdue).
    pub expires_ms: u64,
    /// `idiag_retrans`: retransmissions for `on` (`num_timeout` for a request sock), probes
    /// for `keepalive`/`persist`, 0 for `timewait`.
    pub count: u32,
    /// `icsk_probes_out` (the `timeout` column of /proc/net/tcp).
    pub probes: u32,
}

/// The `tcp_info` fields `ss -i` prints. Times are milliseconds, as `ss` shows them; a zero
/// field is not printed, as in `ss`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InfoView {
    pub ts: bool,
    pub sack: bool,
    pub ecn: bool,
    pub ecnseen: bool,
    /// Congestion control name (`cubic`); empty prints nothing.
    pub cong: &'static str,
    /// (snd_wscale, rcv_wscale), when window scaling was negotiated.
    pub wscale: Option<(u8, u8)>,
    /// `tcpi_rto`; not printed when 0 or exactly the 3 s initial value, as `ss` does.
    pub rto_ms: f64,
    pub backoff: u32,
    pub rtt_ms: f64,
    pub rttvar_ms: f64,
    pub ato_ms: Option<f64>,
    /// `tcpi_snd_mss`.
    pub mss: u32,
    pub pmtu: u32,
    pub rcvmss: u32,
    pub advmss: u32,
    pub cwnd: u32,
    /// `None` while in initial slow start (`tcpi_snd_ssthresh` ≥ 0xFFFF is not printed).
    pub ssthresh: Option<u32>,
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub segs_out: u64,
    pub segs_in: u64,
    pub data_segs_out: u64,
    pub data_segs_in: u64,
    /// `tcpi_pacing_rate` in bytes per second; `None` when unlimited.
    pub pacing_rate: Option<u64>,
    /// `tcpi_delivery_rate` in bytes per second.
    pub delivery_rate: u64,
    pub delivered: u32,
    pub app_limited: bool,
    /// `tcpi_busy_time` in milliseconds.
    pub busy_ms: u64,
    /// `tcpi_rwnd_limited` in milliseconds; printed only with a non-zero `busy_ms`, with its
    /// share of it (`rwnd_limited:1244ms(100.0%)`).
    pub rwnd_limited_ms: u64,
    /// `tcpi_sndbuf_limited` in milliseconds; printed like `rwnd_limited_ms`.
    pub sndbuf_limited_ms: u64,
    pub lastsnd_ms: u64,
    pub lastrcv_ms: u64,
    pub lastack_ms: u64,
    pub unacked: u32,
    /// (`tcpi_retrans`, `tcpi_total_retrans`).
    pub retrans: (u32, u32),
    pub lost: u32,
    pub sacked: u32,
    pub dsack_dups: u32,
    /// `tcpi_reordering`; printed unless 3 (Linux's default) or 0 (not filled in).
    pub reordering: u32,
    pub reord_seen: u32,
    pub rcv_rtt_ms: f64,
    pub rcv_space: u32,
    pub rcv_ssthresh: u32,
    /// `tcpi_notsent_bytes`.
    pub notsent: u32,
    pub minrtt_ms: Option<f64>,
    pub rcv_ooopack: u32,
    pub snd_wnd: u32,
    /// Printed by iproute2 6.7 and later.
    pub rcv_wnd: u32,
}

/// One row of the socket table.
#[derive(Clone, Debug, PartialEq)]
pub struct SocketEntry {
    /// For a timewait minisock, its substate (`FinWait2` or `TimeWait`).
    pub state: TcpState,
    /// Unread bytes; for a listener, the accept-queue length.
    pub recv_q: u32,
    /// Unacknowledged plus unsent bytes; for a listener, the backlog.
    pub send_q: u32,
    pub local: SocketAddr,
    /// `None` prints `0.0.0.0:*` (`[::]:*` in `ss`, `:::*` in `netstat` for IPv6).
    pub peer: Option<SocketAddr>,
    pub timer: Option<TimerView>,
    pub fd: Option<Fd>,
    /// The owner as netstat prints it, `1234/nc`, or just the program name.
    pub process: Option<String>,
    pub info: Option<InfoView>,
}

/// Which of `ss`'s optional parts to print (`-n` and `-a` are implied).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SsOptions {
    /// `-o`: ` timer:(…)`.
    pub timers: bool,
    /// `-i`: the `tcp_info` line.
    pub info: bool,
    /// `-p`: ` users:((…))`.
    pub processes: bool,
}

const STATE_W: usize = 10;
const QUEUE_W: usize = 6;
const ADDR_W: usize = 15;
const PORT_W: usize = 5;

/// `ss`'s time format, quirks included: seconds and milliseconds join as `1.696ms`,
/// milliseconds are dropped from 10 s, seconds from 10 min, and 0 prints nothing.
///
/// Linux: print_ms_timer() in iproute2 misc/ss.c
pub fn format_ms_timer(ms: u64) -> String {
    let mut secs = ms / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = ms % 1000;
    let mut out = String::new();
    if minutes != 0 {
        msecs = 0;
        out.push_str(&format!("{minutes}min"));
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs != 0 {
        if secs > 9 {
            msecs = 0;
        }
        out.push_str(&format!("{secs}{}", if msecs != 0 { "." } else { "sec" }));
    }
    if msecs != 0 {
        out.push_str(&format!("{msecs:03}ms"));
    }
    out
}

/// C's `printf("%g", x)`: six significant digits, trailing zeros dropped, exponent form
/// below 1e-4 and from 1e6.
fn format_g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    let decimals = usize::try_from(5 - exp).unwrap_or(0);
    strip_zeros(&format!("{x:.decimals$}")).to_string()
}

/// Drops a fraction's trailing zeros and a bare trailing point.
fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A rate in bits per second as `ss -n` prints it: `%.0f` (without `-n` it abbreviates).
///
/// Linux: sprint_bw() in iproute2 misc/ss.c
fn sprint_bw(bw: f64) -> String {
    format!("{bw:.0}")
}

/// `ss`'s address and port cells: `10.0.0.1` / `[::1]`, and `*` for port 0.
fn ss_addr_port(addr: IpAddr, port: u16) -> (String, String) {
    let a = match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let p = if port == 0 {
        "*".to_string()
    } else {
        port.to_string()
    };
    (a, p)
}

/// The peer to print: the socket's own family's wildcard when it has none.
fn peer_or_wildcard(e: &SocketEntry) -> SocketAddr {
    e.peer.unwrap_or_else(|| match e.local {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    })
}

/// `ss`'s header line for [`ss_line`]'s fixed widths.
pub fn ss_header() -> String {
    format!(
        "{:<STATE_W$} {:<QUEUE_W$} {:<QUEUE_W$} {:>ADDR_W$}:{:<PORT_W$} {:>ADDR_W$}:{:<PORT_W$} Process",
        "State", "Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port"
    )
}

/// The `users:((…))` cell from a netstat-style `pid/name` owner.
fn ss_users(process: &str, fd: Option<Fd>) -> String {
    let (pid, name) = match process.split_once('/') {
        Some((pid, name)) if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(pid), name)
        }
        _ => (None, process),
    };
    let mut out = format!("users:((\"{name}\"");
    if let Some(pid) = pid {
        out.push_str(&format!(",pid={pid}"));
    }
    if let Some(fd) = fd {
        out.push_str(&format!(",fd={fd}"));
    }
    out.push_str("))");
    out
}

/// One socket as `ss -tan` prints it, plus ` users:(…)` with `-p`, ` timer:(…)` with `-o`
/// and, with `-i`, a second line (after `\n`) starting with a tab. Fixed column widths and
/// no trailing blanks (see the module docs); [`ss_table`] prints what `ss` prints.
///
/// Linux: inet_stats_print(), tcp_timer_print() and tcp_show_info() in iproute2 misc/ss.c
pub fn ss_line(e: &SocketEntry, opts: SsOptions) -> String {
    let peer = peer_or_wildcard(e);
    let (la, lp) = ss_addr_port(e.local.ip(), e.local.port());
    let (pa, pp) = ss_addr_port(peer.ip(), peer.port());
    let mut line = format!(
        "{:<STATE_W$} {:<QUEUE_W$} {:<QUEUE_W$} {la:>ADDR_W$}:{lp:<PORT_W$} {pa:>ADDR_W$}:{pp:<PORT_W$}",
        e.state.ss_name(),
        e.recv_q,
        e.send_q
    );
    line.push_str(&ss_users_timer(e, opts));
    let mut line = line.trim_end().to_string();
    if opts.info
        && let Some(info) = &e.info
    {
        line.push_str("\n\t");
        line.push_str(&ss_info(info, e.state, opts.timers));
    }
    line
}

/// ` users:((…))` with `-p` and ` timer:(…)` with `-o`, each with its leading blank.
///
/// Linux: proc_ctx_print() and tcp_timer_print() in iproute2 misc/ss.c
fn ss_users_timer(e: &SocketEntry, opts: SsOptions) -> String {
    let mut out = String::new();
    if opts.processes
        && let Some(process) = &e.process
    {
        out.push(' ');
        out.push_str(&ss_users(process, e.fd));
    }
    if opts.timers
        && let Some(t) = &e.timer
    {
        out.push_str(&format!(
            " timer:({},{},{})",
            t.kind.ss_name(),
            format_ms_timer(t.expires_ms),
            t.count
        ));
    }
    out
}

/// Where `ss` writes, which decides how wide its columns get.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SsScreen {
    /// A pipe or a file: each column as wide as its widest cell, nothing more.
    #[default]
    Pipe,
    /// A terminal this many columns wide: the spare width is spread over the columns, and a
    /// row too wide for it is laid out over several screen lines (the text has no extra
    /// newlines; the terminal wraps it). 0 means the width is unknown, as for a pipe.
    Terminal(usize),
}

/// How a column's cells sit in its width.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// `ss`'s columns for `-t` (the Netid column is off): alignment, header, and the delimiter
/// printed before a cell that does not start the line. The last column (processes, with an
/// empty header) stays empty for TCP: `users:` goes with the timer into "Process".
///
/// Linux: columns[] in iproute2 misc/ss.c
const SS_COLUMNS: [(Align, &str, &str); 9] = [
    (Align::Left, "State", " "),
    (Align::Left, "Recv-Q", " "),
    (Align::Left, "Send-Q", " "),
    (Align::Right, "Local Address:", " "),
    (Align::Left, "Port", ""),
    (Align::Right, "Peer Address:", " "),
    (Align::Left, "Port", ""),
    (Align::Left, "Process", ""),
    (Align::Left, "", ""),
];

/// The address cell of the table, delimiter included: `127.0.0.1:`, `[::1]:`, and `*:` for
/// the IPv6 wildcard of a dual-stack socket.
///
/// Linux: inet_addr_print() in iproute2 misc/ss.c
fn ss_table_addr(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:"),
        IpAddr::V6(a) if a.is_unspecified() => "*:".to_string(),
        IpAddr::V6(a) => format!("[{a}]:"),
    }
}

/// One socket's cells, in [`SS_COLUMNS`] order.
///
/// Linux: inet_stats_print(), proc_ctx_print() and tcp_show_info() in iproute2 misc/ss.c
fn ss_row(e: &SocketEntry, opts: SsOptions) -> [String; 9] {
    let peer = peer_or_wildcard(e);
    let port = |p: u16| {
        if p == 0 {
            "*".to_string()
        } else {
            p.to_string()
        }
    };
    let mut ext = ss_users_timer(e, opts);
    // ss starts the -i line for every socket, even one (a request or timewait sock) that has
    // no tcp_info to put on it.
    if opts.info {
        ext.push_str("\n\t");
        if let Some(info) = &e.info {
            ext.push_str(&ss_info(info, e.state, opts.timers));
        }
    }
    [
        e.state.ss_name().to_string(),
        format!("{:<6}", e.recv_q),
        format!("{:<6}", e.send_q),
        ss_table_addr(e.local.ip()),
        port(e.local.port()),
        ss_table_addr(peer.ip()),
        port(peer.port()),
        ext,
        String::new(),
    ]
}

/// Column widths from the measured cells: the widest cell plus the delimiter (except for the
/// first column), capped at the screen width.
///
/// Linux: render_calc_width() in iproute2 misc/ss.c
fn ss_widths(max_len: &[usize; 9], screen: SsScreen) -> [usize; 9] {
    let screen_width = match screen {
        SsScreen::Terminal(w) if w > 0 => Some(w),
        _ => None,
    };
    let mut widths = [0; 9];
    let mut first = true;
    for (i, w) in widths.iter_mut().enumerate() {
        let delim = SS_COLUMNS[i].2.len();
        *w = if !first && max_len[i] != 0 {
            max_len[i] + delim
        } else {
            max_len[i]
        };
        if let Some(sw) = screen_width {
            *w = (*w).min(sw);
        }
        if *w != 0 {
            first = false;
        }
    }
    if let Some(sw) = screen_width {
        fill_screen(&mut widths, sw);
    }
    widths
}

/// Breaks the columns into screen lines and spreads each line's spare width over its
/// columns, the extra blank of an uneven split going to the rightmost ones.
///
/// Linux: the second pass of render_calc_width() in iproute2 misc/ss.c
fn fill_screen(widths: &mut [usize; 9], screen: usize) {
    let n = widths.len();
    // `eol` is one past the last column of the previous screen line.
    let (mut eol, mut len, mut linecols) = (0usize, 0usize, 0usize);
    let mut c = 0usize;
    while c < n {
        if widths[c] == 0 {
            c += 1;
            continue;
        }
        linecols += 1;
        len += widths[c];
        let last = widths[c + 1..].iter().all(|&w| w == 0);
        if !last && len < screen {
            c += 1;
            continue;
        }
        // The line ends after column `end`.
        let mut end = c;
        if len > screen && linecols > 1 {
            // This column does not fit: it starts the next line.
            len -= widths[c];
            linecols -= 1;
            end = c - 1;
        }
        if len < screen {
            let pad = screen - len;
            let (spacing, mut rem) = (pad / linecols, pad % linecols);
            for w in widths[eol..=end].iter_mut().rev() {
                if *w == 0 {
                    continue;
                }
                *w += spacing;
                if rem > 0 {
                    *w += 1;
                    rem -= 1;
                }
            }
        }
        eol = end + 1;
        len = 0;
        linecols = 0;
        c = end + 1;
    }
}

/// The whole table as `ss -tan` prints it into a pipe, header first, one `\n` after each
/// line: `opts` adds `-p`, `-o` and `-i` (so `ss -tanoi` is `timers` and `info`).
/// IPv4 sockets come before IPv6 ones; see the module docs for the layout and what is
/// approximated.
///
/// Linux: main(), print_header(), render() and tcp_show_sock() in iproute2 misc/ss.c
pub fn ss_table(entries: &[SocketEntry], opts: SsOptions) -> String {
    ss_table_on(entries, opts, SsScreen::Pipe)
}

/// [`ss_table`] for a given screen: on a terminal `ss` widens the columns to fill it.
///
/// Linux: render() and render_calc_width() in iproute2 misc/ss.c
pub fn ss_table_on(entries: &[SocketEntry], opts: SsOptions, screen: SsScreen) -> String {
    let mut rows: Vec<[String; 9]> = Vec::with_capacity(entries.len() + 1);
    rows.push(SS_COLUMNS.map(|(_, header, _)| header.to_string()));
    rows.extend(by_family(entries).map(|e| ss_row(e, opts)));
    let mut max_len = [0usize; 9];
    for row in &rows {
        for (m, cell) in max_len.iter_mut().zip(row) {
            *m = (*m).max(cell.len());
        }
    }
    let widths = ss_widths(&max_len, screen);
    let mut out = String::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let (align, _, delim) = SS_COLUMNS[i];
            let mut printed = 0;
            if i > 0 {
                out.push_str(delim);
                printed = delim.len();
            }
            let width = widths[i];
            if width != 0 && align == Align::Right {
                let pad = width.saturating_sub(cell.len() + printed);
                out.extend(std::iter::repeat_n(' ', pad));
                printed += pad;
            }
            out.push_str(cell);
            printed += cell.len();
            if width != 0 && align == Align::Left {
                out.extend(std::iter::repeat_n(' ', width.saturating_sub(printed)));
            }
        }
        out.push('\n');
    }
    out
}

/// IPv4 sockets, then IPv6 ones, each in the given order: the tools read `tcp` before `tcp6`.
fn by_family(entries: &[SocketEntry]) -> impl Iterator<Item = &SocketEntry> {
    let v4 = entries.iter().filter(|e| e.local.is_ipv4());
    v4.chain(entries.iter().filter(|e| e.local.is_ipv6()))
}

/// The `tcp_info` items, each with its leading blank, in `ss`'s order. The option flags
/// (`ts`, `sack`, `ecn`, `ecnseen`) appear only with `-o`, as in `ss`.
///
/// Linux: tcp_stats_print() in iproute2 misc/ss.c
fn ss_info(i: &InfoView, state: TcpState, show_options: bool) -> String {
    let mut out = String::new();
    let mut item = |cond: bool, text: &dyn Fn() -> String| {
        if cond {
            out.push(' ');
            out.push_str(&text());
        }
    };
    item(show_options && i.ts, &|| "ts".into());
    item(show_options && i.sack, &|| "sack".into());
    item(show_options && i.ecn, &|| "ecn".into());
    item(show_options && i.ecnseen, &|| "ecnseen".into());
    item(!i.cong.is_empty(), &|| i.cong.to_string());
    if let Some((snd, rcv)) = i.wscale {
        item(true, &|| format!("wscale:{snd},{rcv}"));
    }
    // ss hides the 3 s initial RTO (TCP_TIMEOUT_INIT before any sample).
    item(i.rto_ms != 0.0 && i.rto_ms != 3000.0, &|| {
        format!("rto:{}", format_g(i.rto_ms))
    });
    item(i.backoff != 0, &|| format!("backoff:{}", i.backoff));
    item(i.rtt_ms != 0.0, &|| {
        format!("rtt:{}/{}", format_g(i.rtt_ms), format_g(i.rttvar_ms))
    });
    if let Some(ato) = i.ato_ms {
        item(ato != 0.0, &|| format!("ato:{}", format_g(ato)));
    }
    item(i.mss != 0, &|| format!("mss:{}", i.mss));
    item(i.pmtu != 0, &|| format!("pmtu:{}", i.pmtu));
    item(i.rcvmss != 0, &|| format!("rcvmss:{}", i.rcvmss));
    item(i.advmss != 0, &|| format!("advmss:{}", i.advmss));
    item(i.cwnd != 0, &|| format!("cwnd:{}", i.cwnd));
    if let Some(ssthresh) = i.ssthresh {
        item(ssthresh != 0 && ssthresh < 0xFFFF, &|| {
            format!("ssthresh:{ssthresh}")
        });
    }
    item(i.bytes_sent != 0, &|| {
        format!("bytes_sent:{}", i.bytes_sent)
    });
    item(i.bytes_retrans != 0, &|| {
        format!("bytes_retrans:{}", i.bytes_retrans)
    });
    item(i.bytes_acked != 0, &|| {
        format!("bytes_acked:{}", i.bytes_acked)
    });
    item(i.bytes_received != 0, &|| {
        format!("bytes_received:{}", i.bytes_received)
    });
    item(i.segs_out != 0, &|| format!("segs_out:{}", i.segs_out));
    item(i.segs_in != 0, &|| format!("segs_in:{}", i.segs_in));
    item(i.data_segs_out != 0, &|| {
        format!("data_segs_out:{}", i.data_segs_out)
    });
    item(i.data_segs_in != 0, &|| {
        format!("data_segs_in:{}", i.data_segs_in)
    });
    // send = cwnd * mss * 8 / srtt, computed from tcpi_rtt in whole microseconds.
    let rtt_us = (i.rtt_ms * 1000.0).round();
    item(rtt_us > 0.0 && i.mss != 0 && i.cwnd != 0, &|| {
        let bps = f64::from(i.cwnd) * f64::from(i.mss) * 8_000_000.0 / rtt_us;
        format!("send {}bps", sprint_bw(bps))
    });
    item(i.lastsnd_ms != 0, &|| format!("lastsnd:{}", i.lastsnd_ms));
    item(i.lastrcv_ms != 0, &|| format!("lastrcv:{}", i.lastrcv_ms));
    item(i.lastack_ms != 0, &|| format!("lastack:{}", i.lastack_ms));
    if let Some(rate) = i.pacing_rate {
        item(rate != 0 && rate != u64::MAX, &|| {
            format!("pacing_rate {}bps", sprint_bw(rate as f64 * 8.0))
        });
    }
    item(i.delivery_rate != 0, &|| {
        format!(
            "delivery_rate {}bps",
            sprint_bw(i.delivery_rate as f64 * 8.0)
        )
    });
    item(i.delivered != 0, &|| format!("delivered:{}", i.delivered));
    item(i.app_limited, &|| "app_limited".into());
    item(i.busy_ms != 0, &|| format!("busy:{}ms", i.busy_ms));
    // ss divides microseconds; from milliseconds the tenth of a percent can differ.
    let share = |limited: u64| 100.0 * limited as f64 / i.busy_ms as f64;
    item(i.busy_ms != 0 && i.rwnd_limited_ms != 0, &|| {
        format!(
            "rwnd_limited:{}ms({:.1}%)",
            i.rwnd_limited_ms,
            share(i.rwnd_limited_ms)
        )
    });
    item(i.busy_ms != 0 && i.sndbuf_limited_ms != 0, &|| {
        format!(
            "sndbuf_limited:{}ms({:.1}%)",
            i.sndbuf_limited_ms,
            share(i.sndbuf_limited_ms)
        )
    });
    item(i.unacked != 0, &|| format!("unacked:{}", i.unacked));
    item(i.retrans != (0, 0), &|| {
        format!("retrans:{}/{}", i.retrans.0, i.retrans.1)
    });
    item(i.lost != 0, &|| format!("lost:{}", i.lost));
    item(i.sacked != 0 && state != TcpState::Listen, &|| {
        format!("sacked:{}", i.sacked)
    });
    item(i.dsack_dups != 0, &|| {
        format!("dsack_dups:{}", i.dsack_dups)
    });
    item(i.reordering != 3 && i.reordering != 0, &|| {
        format!("reordering:{}", i.reordering)
    });
    item(i.reord_seen != 0, &|| {
        format!("reord_seen:{}", i.reord_seen)
    });
    item(i.rcv_rtt_ms != 0.0, &|| {
        format!("rcv_rtt:{}", format_g(i.rcv_rtt_ms))
    });
    item(i.rcv_space != 0, &|| format!("rcv_space:{}", i.rcv_space));
    item(i.rcv_ssthresh != 0, &|| {
        format!("rcv_ssthresh:{}", i.rcv_ssthresh)
    });
    item(i.notsent != 0, &|| format!("notsent:{}", i.notsent));
    if let Some(minrtt) = i.minrtt_ms {
        item(minrtt != 0.0, &|| format!("minrtt:{}", format_g(minrtt)));
    }
    item(i.rcv_ooopack != 0, &|| {
        format!("rcv_ooopack:{}", i.rcv_ooopack)
    });
    item(i.snd_wnd != 0, &|| format!("snd_wnd:{}", i.snd_wnd));
    item(i.rcv_wnd != 0, &|| format!("rcv_wnd:{}", i.rcv_wnd));
    out
}

/// net-tools' `Proto Recv-Q Send-Q …` header for [`netstat_line`], trailing blanks trimmed.
///
/// Linux: the banner printed by main() and print_progname_banner() in net-tools netstat.c
pub fn netstat_header(with_timer: bool, with_program: bool) -> String {
    netstat_header_row(with_timer, with_program)
        .trim_end()
        .to_string()
}

/// The header exactly as net-tools prints it, padding included.
fn netstat_header_row(with_timer: bool, with_program: bool) -> String {
    let mut out = String::from(
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
    );
    if with_program {
        out.push_str(&format!(" {:<20}", "PID/Program name"));
    }
    if with_timer {
        out.push_str(" Timer");
    }
    out
}

/// `addr:port` as netstat -n prints it, shortened to 22 characters unless `-W`.
///
/// Linux: addr_do_one() in net-tools netstat.c
fn netstat_addr(addr: IpAddr, port: u16) -> String {
    const SHORT_LEN: usize = 22;
    let saddr = addr.to_string();
    let sport = if port == 0 {
        "*".to_string()
    } else {
        port.to_string()
    };
    if saddr.len() + sport.len() > SHORT_LEN {
        let port_len = sport.len().min(SHORT_LEN - 4);
        let addr_len = SHORT_LEN - port_len;
        // Both strings are ASCII, so byte slicing is safe; get() keeps it total anyway.
        let a = saddr.get(..addr_len).unwrap_or(&saddr);
        let p = sport.get(..port_len).unwrap_or(&sport);
        format!("{a}:{p}")
    } else {
        format!("{saddr}:{sport}")
    }
}

/// The Timer cell, `on (0.20/1/0)`: seconds to expiry from /proc's USER_HZ ticks, the
/// retransmit count and the probe count.
///
/// Linux: tcp_do_one() in net-tools netstat.c
fn netstat_timer(timer: Option<&TimerView>) -> String {
    let Some(t) = timer else {
        return "off (0.00/0/0)".to_string();
    };
    let ticks = proc_ticks(t.expires_ms);
    let (retr, probes) = proc_retr_probes(t);
    format!(
        "{} ({}.{:02}/{retr}/{probes})",
        t.kind.netstat_name(),
        ticks / 100,
        ticks % 100
    )
}

/// One socket as `netstat -an` prints it, with `-p` and `-o` columns when asked, trailing
/// blanks trimmed.
///
/// Linux: tcp_do_one() and finish_this_one() in net-tools netstat.c
pub fn netstat_line(e: &SocketEntry, with_timer: bool, with_program: bool) -> String {
    netstat_row(e, with_timer, with_program)
        .trim_end()
        .to_string()
}

/// A row exactly as net-tools prints it, padding included.
///
/// Linux: tcp_do_one() and finish_this_one() in net-tools netstat.c
fn netstat_row(e: &SocketEntry, with_timer: bool, with_program: bool) -> String {
    let proto = if e.local.is_ipv6() { "tcp6" } else { "tcp" };
    let peer = peer_or_wildcard(e);
    let local = netstat_addr(e.local.ip(), e.local.port());
    let remote = netstat_addr(peer.ip(), peer.port());
    let mut out = format!(
        "{proto:<4}  {:>6} {:>6} {local:<23} {remote:<23} {:<11}",
        e.recv_q,
        e.send_q,
        e.state.netstat_name()
    );
    if with_program {
        out.push_str(&format!(" {:<20}", e.process.as_deref().unwrap_or("-")));
    }
    if with_timer {
        out.push(' ');
        out.push_str(&netstat_timer(e.timer.as_ref()));
    }
    out
}

/// The whole of `netstat -tan` (`-tanp` with `with_program`, `-tano` with `with_timer`):
/// the title, the header and one row per socket, IPv4 before IPv6, each line ending in `\n`
/// and padded as net-tools pads it (`LISTEN     `, `11088/python3       `).
///
/// Linux: main(), prg_cache and tcp_do_one() in net-tools netstat.c
pub fn netstat_table(entries: &[SocketEntry], with_timer: bool, with_program: bool) -> String {
    let mut out = String::from("Active Internet connections (servers and established)\n");
    out.push_str(&netstat_header_row(with_timer, with_program));
    out.push('\n');
    for e in by_family(entries) {
        out.push_str(&netstat_row(e, with_timer, with_program));
        out.push('\n');
    }
    out
}

/// Milliseconds as USER_HZ (100/s) clock ticks, rounded down as `jiffies_to_clock_t()` does.
fn proc_ticks(ms: u64) -> u64 {
    ms / 10
}

/// /proc's `retrnsmt` and `timeout` columns for a timer. `retrnsmt` is `icsk_retransmits`,
/// known here only for the `on` timer; other timers report 0 (an approximation: Linux keeps
/// the count while a keepalive or persist timer runs, which is rare).
fn proc_retr_probes(t: &TimerView) -> (u32, u32) {
    match t.kind {
        TimerKind::On => (t.count, t.probes),
        TimerKind::TimeWait => (0, 0),
        TimerKind::Keepalive | TimerKind::Persist => (0, t.probes),
    }
}

/// The /proc/net/tcp (or tcp6) header.
///
/// Linux: tcp4_seq_show() in net/ipv4/tcp_ipv4.c, tcp6_seq_show() in net/ipv6/tcp_ipv6.c
pub fn proc_net_tcp_header(ipv6: bool) -> String {
    if ipv6 {
        "  sl  local_address                         remote_address                        \
         st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
            .to_string()
    } else {
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  \
         timeout inode"
            .to_string()
    }
}

/// An address the way the kernel prints it: each 32-bit word of the network-order bytes
/// read in host (little-endian) order, `%08X`; 127.0.0.1 is `0100007F`.
fn proc_addr(addr: IpAddr) -> String {
    let words = |bytes: &[u8]| -> String {
        bytes
            .chunks_exact(4)
            .map(|c| format!("{:08X}", u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    };
    match addr {
        IpAddr::V4(a) => words(&a.octets()),
        IpAddr::V6(a) => words(&a.octets()),
    }
}

/// One socket as a /proc/net/tcp (or tcp6, by the local address's family) line, without the
/// newline. IPv4 lines are padded to 149 columns as the kernel pads them.
///
/// What a snapshot cannot know is printed as a quiet host would show it: uid 0, inode 0,
/// refcount 1 (3 for a timewait minisock, 0 for a request sock), a zero socket pointer (as
/// `%pK` prints for readers without CAP_SYSLOG), and the `(quick << 1) | pingpong` column 0.
/// Without `info`, rto, ato, cwnd and ssthresh show a new socket's values (1 s, 0, 10, -1).
///
/// Linux: get_tcp4_sock(), get_openreq4() and get_timewait4_sock() in net/ipv4/tcp_ipv4.c
pub fn proc_net_tcp_line(slot: usize, e: &SocketEntry) -> String {
    let peer = peer_or_wildcard(e);
    let head = format!(
        "{slot:4}: {}:{:04X} {}:{:04X} {:02X}",
        proc_addr(e.local.ip()),
        e.local.port(),
        proc_addr(peer.ip()),
        peer.port(),
        e.state as u8
    );
    let (tr, ticks) = match &e.timer {
        Some(t) => (t.kind.code(), proc_ticks(t.expires_ms)),
        None => (0, 0),
    };
    let is_minisock =
        e.state == TcpState::TimeWait || e.timer.is_some_and(|t| t.kind == TimerKind::TimeWait);
    let line = if is_minisock {
        format!(
            "{head} {:08X}:{:08X} {:02X}:{ticks:08X} {:08X} {:5} {:8} {} {} {:016x}",
            0, 0, 3, 0, 0, 0, 0, 3, 0
        )
    } else if e.state == TcpState::SynRecv {
        let retr = e.timer.map_or(0, |t| t.count);
        format!(
            "{head} {:08X}:{:08X} {:02X}:{ticks:08X} {retr:08X} {:5} {:8} {} {} {:016x}",
            0, 0, 1, 0, 0, 0, 0, 0
        )
    } else {
        let (retr, probes) = e.timer.as_ref().map_or((0, 0), proc_retr_probes);
        let tx_queue = if e.state == TcpState::Listen {
            0
        } else {
            e.send_q
        };
        let info = e.info.as_ref();
        let rto = info.map_or(100, |i| (i.rto_ms / 10.0) as u64);
        let ato = info.and_then(|i| i.ato_ms).map_or(0, |a| (a / 10.0) as u64);
        let cwnd = info.map_or(10, |i| i.cwnd);
        // A listener prints its Fast Open queue limit here (0 without TFO).
        let ssthresh = if e.state == TcpState::Listen {
            0
        } else {
            info.and_then(|i| i.ssthresh).map_or(-1, i64::from)
        };
        format!(
            "{head} {tx_queue:08X}:{:08X} {tr:02X}:{ticks:08X} {retr:08X} {:5} {probes:8} {} {} \
             {:016x} {rto} {ato} {} {cwnd} {ssthresh}",
            e.recv_q, 0, 0, 1, 0, 0
        )
    };
    if e.local.is_ipv6() {
        line
    } else {
        format!("{line:<149}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> SocketAddr {
        s.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn entry(state: TcpState, local: &str, peer: Option<&str>) -> SocketEntry {
        SocketEntry {
            state,
            recv_q: 0,
            send_q: 0,
            local: v4(local),
            peer: peer.map(v4),
            timer: None,
            fd: None,
            process: None,
            info: None,
        }
    }

    const O: SsOptions = SsOptions {
        timers: true,
        info: false,
        processes: false,
    };

    #[test]
    fn ms_timer_table() {
        // linux-tcp-timers.md §17, every row.
        assert_eq!(format_ms_timer(0), "");
        assert_eq!(format_ms_timer(200), "200ms");
        assert_eq!(format_ms_timer(1696), "1.696ms");
        assert_eq!(format_ms_timer(1000), "1sec");
        assert_eq!(format_ms_timer(15_000), "15sec");
        assert_eq!(format_ms_timer(59_000), "59sec");
        assert_eq!(format_ms_timer(65_000), "1min5sec");
        assert_eq!(format_ms_timer(600_000), "10min");
        assert_eq!(format_ms_timer(605_000), "10min");
        // The quirks the table implies.
        assert_eq!(format_ms_timer(50), "050ms");
        assert_eq!(format_ms_timer(3200), "3.200ms");
        assert_eq!(format_ms_timer(15_500), "15sec");
        assert_eq!(format_ms_timer(60_500), "1min");
        assert!(!format_ms_timer(u64::MAX).is_empty());
    }

    #[test]
    fn printf_g() {
        assert_eq!(format_g(204.0), "204");
        assert_eq!(format_g(0.05), "0.05");
        assert_eq!(format_g(0.025), "0.025");
        assert_eq!(format_g(40.0), "40");
        assert_eq!(format_g(1.234567), "1.23457");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(1_000_000.0), "1e+06");
        assert_eq!(format_g(123_456.0), "123456");
        assert_eq!(sprint_bw(2_316_800_000.0), "2316800000");
        assert_eq!(sprint_bw(77_037_647_058.8), "77037647059");
        assert_eq!(sprint_bw(880.0), "880");
    }

    #[test]
    fn header() {
        assert_eq!(
            ss_header(),
            "State      Recv-Q Send-Q   Local Address:Port     Peer Address:Port  Process"
        );
    }

    #[test]
    fn ss_listener() {
        let mut e = entry(TcpState::Listen, "0.0.0.0:80", None);
        e.send_q = 4096;
        e.fd = Some(Fd(3));
        e.process = Some("1234/nc".into());
        assert_eq!(
            ss_line(&e, SsOptions::default()),
            "LISTEN     0      4096           0.0.0.0:80            0.0.0.0:*"
        );
        let p = SsOptions {
            processes: true,
            ..O
        };
        assert_eq!(
            ss_line(&e, p),
            "LISTEN     0      4096           0.0.0.0:80            0.0.0.0:*     \
             users:((\"nc\",pid=1234,fd=3))"
        );
    }

    #[test]
    fn ss_established_with_retransmit_timer_and_info() {
        let mut e = entry(
            TcpState::Established,
            "10.0.0.1:44410",
            Some("10.0.0.2:1234"),
        );
        e.send_q = 1448;
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 204,
            count: 2,
            probes: 0,
        });
        e.info = Some(InfoView {
            ts: true,
            sack: true,
            cong: "cubic",
            wscale: Some((7, 7)),
            rto_ms: 204.0,
            rtt_ms: 0.05,
            rttvar_ms: 0.025,
            ato_ms: Some(40.0),
            mss: 1448,
            pmtu: 1500,
            rcvmss: 536,
            advmss: 1448,
            cwnd: 10,
            bytes_sent: 2896,
            bytes_acked: 1449,
            segs_out: 4,
            segs_in: 2,
            data_segs_out: 2,
            lastsnd_ms: 4,
            lastrcv_ms: 8,
            lastack_ms: 8,
            unacked: 1,
            retrans: (1, 2),
            reordering: 3,
            rcv_space: 14480,
            rcv_ssthresh: 64088,
            minrtt_ms: Some(0.05),
            snd_wnd: 65536,
            ..InfoView::default()
        });
        assert_eq!(
            ss_line(&e, O),
            "ESTAB      0      1448          10.0.0.1:44410        10.0.0.2:1234  timer:(on,204ms,2)"
        );
        let all = SsOptions { info: true, ..O };
        assert_eq!(
            ss_line(&e, all),
            "ESTAB      0      1448          10.0.0.1:44410        10.0.0.2:1234  timer:(on,204ms,2)\n\
             \t ts sack cubic wscale:7,7 rto:204 rtt:0.05/0.025 ato:40 mss:1448 pmtu:1500 \
             rcvmss:536 advmss:1448 cwnd:10 bytes_sent:2896 bytes_acked:1449 segs_out:4 \
             segs_in:2 data_segs_out:2 send 2316800000bps lastsnd:4 lastrcv:8 lastack:8 \
             unacked:1 retrans:1/2 rcv_space:14480 rcv_ssthresh:64088 minrtt:0.05 snd_wnd:65536"
        );
    }

    #[test]
    fn option_flags_need_dash_o() {
        let i = InfoView {
            ts: true,
            sack: true,
            cong: "cubic",
            cwnd: 10,
            ..InfoView::default()
        };
        assert_eq!(
            ss_info(&i, TcpState::Established, true),
            " ts sack cubic cwnd:10"
        );
        assert_eq!(ss_info(&i, TcpState::Established, false), " cubic cwnd:10");
        let mut e = entry(TcpState::Listen, "0.0.0.0:2024", None);
        e.info = Some(InfoView {
            cong: "cubic",
            cwnd: 10,
            ..InfoView::default()
        });
        let i_only = SsOptions {
            info: true,
            ..SsOptions::default()
        };
        assert!(ss_line(&e, i_only).ends_with("0.0.0.0:*\n\t cubic cwnd:10"));
    }

    #[test]
    fn ss_hides_initial_rto_and_infinite_ssthresh() {
        let i = InfoView {
            rto_ms: 3000.0,
            ssthresh: Some(0x7fff_ffff),
            cwnd: 10,
            ..InfoView::default()
        };
        assert_eq!(ss_info(&i, TcpState::SynSent, true), " cwnd:10");
        let i = InfoView {
            rto_ms: 1000.0,
            ssthresh: Some(7),
            cwnd: 10,
            ..InfoView::default()
        };
        assert_eq!(
            ss_info(&i, TcpState::Established, true),
            " rto:1000 cwnd:10 ssthresh:7"
        );
    }

    #[test]
    fn ss_fin_wait_1_time_wait_syn_recv() {
        let mut e = entry(
            TcpState::FinWait1,
            "192.168.122.167:44410",
            Some("192.168.122.183:1234"),
        );
        e.send_q = 1;
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 3200,
            count: 4,
            probes: 0,
        });
        assert_eq!(
            ss_line(&e, O),
            "FIN-WAIT-1 0      1      192.168.122.167:44410 192.168.122.183:1234  timer:(on,3.200ms,4)"
        );
        let mut e = entry(
            TcpState::TimeWait,
            "127.0.0.1:1234",
            Some("127.0.0.1:44410"),
        );
        e.timer = Some(TimerView {
            kind: TimerKind::TimeWait,
            expires_ms: 59_000,
            count: 0,
            probes: 0,
        });
        assert_eq!(
            ss_line(&e, O),
            "TIME-WAIT  0      0            127.0.0.1:1234        127.0.0.1:44410 timer:(timewait,59sec,0)"
        );
        let mut e = entry(TcpState::SynRecv, "10.0.0.2:80", Some("10.0.0.1:40000"));
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 1964,
            count: 1,
            probes: 0,
        });
        assert_eq!(
            ss_line(&e, O),
            "SYN-RECV   0      0             10.0.0.2:80           10.0.0.1:40000 timer:(on,1.964ms,1)"
        );
        // An overdue timer prints an empty time.
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 0,
            count: 0,
            probes: 0,
        });
        assert!(ss_line(&e, O).ends_with(" timer:(on,,0)"));
        // Without -o no timer.
        assert!(!ss_line(&e, SsOptions::default()).contains("timer"));
    }

    #[test]
    fn ss_ipv6_uses_brackets() {
        let e = SocketEntry {
            state: TcpState::Listen,
            recv_q: 0,
            send_q: 128,
            local: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 22),
            peer: None,
            timer: None,
            fd: None,
            process: None,
            info: None,
        };
        assert_eq!(
            ss_line(&e, SsOptions::default()),
            "LISTEN     0      128               [::]:22               [::]:*"
        );
        let mut e = e;
        e.state = TcpState::Established;
        e.local = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80);
        e.peer = Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 50000));
        assert_eq!(
            ss_line(&e, SsOptions::default()),
            "ESTAB      0      128              [::1]:80              [::1]:50000"
        );
    }

    #[test]
    fn netstat_lines() {
        assert_eq!(
            netstat_header(true, true),
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \
             PID/Program name     Timer"
        );
        assert_eq!(
            netstat_header(false, false),
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State"
        );
        let mut e = entry(
            TcpState::FinWait1,
            "192.168.122.167:44410",
            Some("192.168.122.183:1234"),
        );
        e.send_q = 1;
        e.process = Some("1234/nc".into());
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 204,
            count: 1,
            probes: 0,
        });
        assert_eq!(
            netstat_line(&e, false, true),
            "tcp        0      1 192.168.122.167:44410   192.168.122.183:1234    FIN_WAIT1   1234/nc"
        );
        assert_eq!(
            netstat_line(&e, true, true),
            "tcp        0      1 192.168.122.167:44410   192.168.122.183:1234    FIN_WAIT1   \
             1234/nc              on (0.20/1/0)"
        );
        let l = entry(TcpState::Listen, "0.0.0.0:2024", None);
        assert_eq!(
            netstat_line(&l, true, true),
            "tcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN      \
             -                    off (0.00/0/0)"
        );
        let mut k = entry(
            TcpState::Established,
            "10.0.0.1:5000",
            Some("10.0.0.2:6000"),
        );
        k.timer = Some(TimerView {
            kind: TimerKind::Keepalive,
            expires_ms: 7_199_996,
            count: 0,
            probes: 0,
        });
        assert!(netstat_line(&k, true, false).ends_with("ESTABLISHED keepalive (7199.99/0/0)"));
        k.timer = Some(TimerView {
            kind: TimerKind::Persist,
            expires_ms: 1448,
            count: 2,
            probes: 2,
        });
        assert!(netstat_line(&k, true, false).ends_with("ESTABLISHED probe (1.44/0/2)"));
        let mut t = entry(
            TcpState::TimeWait,
            "127.0.0.1:1234",
            Some("127.0.0.1:44410"),
        );
        t.timer = Some(TimerView {
            kind: TimerKind::TimeWait,
            expires_ms: 59_000,
            count: 0,
            probes: 0,
        });
        assert_eq!(
            netstat_line(&t, true, false),
            "tcp        0      0 127.0.0.1:1234          127.0.0.1:44410         TIME_WAIT   \
             timewait (59.00/0/0)"
        );
    }

    #[test]
    fn netstat_ipv6_and_truncation() {
        let mut e = entry(TcpState::Listen, "0.0.0.0:0", None);
        e.local = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 22);
        assert_eq!(
            netstat_line(&e, false, false),
            "tcp6       0      0 :::22                   :::*                    LISTEN"
        );
        let long: Ipv6Addr = "2001:db8:1234:5678:9abc:def0:1234:5678"
            .parse()
            .unwrap_or(Ipv6Addr::LOCALHOST);
        assert_eq!(
            netstat_addr(IpAddr::V6(long), 443),
            "2001:db8:1234:5678::443"
        );
    }

    #[test]
    fn proc_net_tcp_lines() {
        let l = entry(TcpState::Listen, "0.0.0.0:2024", None);
        let line = proc_net_tcp_line(0, &l);
        assert_eq!(line.len(), 149);
        assert_eq!(
            line.trim_end(),
            "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0"
        );
        let mut e = entry(
            TcpState::Established,
            "127.0.0.1:44410",
            Some("127.0.0.1:1234"),
        );
        e.send_q = 5;
        e.recv_q = 2;
        e.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 204,
            count: 1,
            probes: 0,
        });
        e.info = Some(InfoView {
            rto_ms: 408.0,
            ato_ms: Some(40.0),
            cwnd: 1,
            ssthresh: Some(7),
            ..InfoView::default()
        });
        assert_eq!(
            proc_net_tcp_line(1, &e).trim_end(),
            "   1: 0100007F:AD7A 0100007F:04D2 01 00000005:00000002 01:00000014 00000001     0        0 0 1 0000000000000000 40 4 0 1 7"
        );
        let mut t = entry(
            TcpState::TimeWait,
            "127.0.0.1:1234",
            Some("127.0.0.1:44410"),
        );
        t.timer = Some(TimerView {
            kind: TimerKind::TimeWait,
            expires_ms: 59_000,
            count: 0,
            probes: 0,
        });
        assert_eq!(
            proc_net_tcp_line(2, &t).trim_end(),
            "   2: 0100007F:04D2 0100007F:AD7A 06 00000000:00000000 03:0000170C 00000000     0        0 0 3 0000000000000000"
        );
        let mut r = entry(TcpState::SynRecv, "10.0.0.2:80", Some("10.0.0.1:40000"));
        r.timer = Some(TimerView {
            kind: TimerKind::On,
            expires_ms: 1964,
            count: 1,
            probes: 0,
        });
        assert_eq!(
            proc_net_tcp_line(3, &r).trim_end(),
            "   3: 0200000A:0050 0100000A:9C40 03 00000000:00000000 01:000000C4 00000001     0        0 0 0 0000000000000000"
        );
        let mut v6 = l.clone();
        v6.local = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80);
        assert_eq!(
            proc_net_tcp_line(0, &v6),
            "   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0"
        );
        assert!(proc_net_tcp_header(false).starts_with("  sl  local_address rem_address   st"));
    }
}
