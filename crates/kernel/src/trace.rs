//! Socket state changes from the kernel's `sock:inet_sock_set_state` tracepoint.
//!
//! A run gets its own tracefs instance (`/sys/kernel/tracing/instances/tcplab-<pid>`), so
//! global tracing is never touched: the instance's clock is `mono` (the clock of
//! `CLOCK_MONOTONIC`, so a timestamp maps onto the scenario's t=0 by subtraction), only TCP
//! sockets pass its filter, and dropping the [`Tracer`] disables the event and removes the
//! instance. The tracepoint does not say which namespace a socket is in: transitions are
//! assigned to hosts by their local address, and those of a wildcard address (a listener)
//! by the thread that made them (each host's socket program runs on its own thread).

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tcplab_stack::TcpState;

const TRACEFS: &str = "/sys/kernel/tracing";
const EVENT: &str = "events/sock/inet_sock_set_state";

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    /// `CLOCK_MONOTONIC` in nanoseconds (the trace gives microseconds).
    pub mono_ns: u64,
    /// The thread that was running.
    pub tid: u32,
    pub local: (IpAddr, u16),
    pub remote: (IpAddr, u16),
    pub from: TcpState,
    pub to: TcpState,
}

/// Whether tracefs is there, mounting it if need be.
pub(crate) fn ensure_tracefs() -> Result<(), String> {
    if Path::new(TRACEFS).join("instances").is_dir() {
        return Ok(());
    }
    let _ = Command::new("mount")
        .args(["-t", "tracefs", "nodev", TRACEFS])
        .output();
    if Path::new(TRACEFS).join(EVENT).is_dir() {
        Ok(())
    } else {
        Err(format!(
            "tracefs with the sock:inet_sock_set_state event (mount -t tracefs nodev {TRACEFS})"
        ))
    }
}

/// A tracefs instance recording state changes. See the module docs.
#[derive(Debug)]
pub(crate) struct Tracer {
    dir: PathBuf,
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    fs::write(path, value).map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}

impl Tracer {
    pub(crate) fn start(name: &str) -> Result<Tracer, String> {
        ensure_tracefs()?;
        let dir = Path::new(TRACEFS).join("instances").join(name);
        fs::create_dir(&dir)
            .map_err(|e| format!("cannot create the tracefs instance {}: {e}", dir.display()))?;
        let t = Tracer { dir };
        write(&t.dir.join("trace_clock"), "mono")?;
        let _ = write(&t.dir.join("buffer_size_kb"), "8192");
        write(&t.dir.join(EVENT).join("filter"), "protocol == 6")?;
        write(&t.dir.join(EVENT).join("enable"), "1")?;
        write(&t.dir.join("tracing_on"), "1")?;
        Ok(t)
    }

    /// Every transition recorded so far.
    pub(crate) fn read(&self) -> Result<Vec<Transition>, String> {
        let path = self.dir.join("trace");
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(text.lines().filter_map(parse_line).collect())
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join(EVENT).join("enable"), "0");
        let _ = fs::write(self.dir.join("tracing_on"), "0");
        for _ in 0..50 {
            if fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn state(name: &str) -> Option<TcpState> {
    Some(match name.strip_prefix("TCP_")? {
        "ESTABLISHED" => TcpState::Established,
        "SYN_SENT" => TcpState::SynSent,
        "SYN_RECV" | "NEW_SYN_RECV" => TcpState::SynRecv,
        "FIN_WAIT1" => TcpState::FinWait1,
        "FIN_WAIT2" => TcpState::FinWait2,
        "TIME_WAIT" => TcpState::TimeWait,
        "CLOSE" => TcpState::Close,
        "CLOSE_WAIT" => TcpState::CloseWait,
        "LAST_ACK" => TcpState::LastAck,
        "LISTEN" => TcpState::Listen,
        "CLOSING" => TcpState::Closing,
        _ => return None,
    })
}

/// `  comm-1234  [001] ..s1.  5.123456: inet_sock_set_state: family=AF_INET … newstate=…`.
pub(crate) fn parse_line(line: &str) -> Option<Transition> {
    let (head, body) = line.split_once(": inet_sock_set_state: ")?;
    let cpu = head.find(" [")?;
    let task = head[..cpu].trim();
    let tid = task.rsplit_once('-')?.1.parse().ok()?;
    let ts = head.rsplit(' ').next()?.trim_end_matches(':');
    let (secs, frac) = ts.split_once('.')?;
    let frac_ns: u64 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    let mono_ns = secs.parse::<u64>().ok()? * 1_000_000_000 + frac_ns;
    let mut f = std::collections::BTreeMap::new();
    for kv in body.split_whitespace() {
        if let Some((k, v)) = kv.split_once('=') {
            f.insert(k, v);
        }
    }
    let v6 = *f.get("family")? == "AF_INET6";
    let (sa, da) = if v6 {
        ("saddrv6", "daddrv6")
    } else {
        ("saddr", "daddr")
    };
    let addr = |k: &str| f.get(k)?.parse::<IpAddr>().ok();
    let port = |k: &str| f.get(k)?.parse::<u16>().ok();
    Some(Transition {
        mono_ns,
        tid,
        local: (addr(sa)?, port("sport")?),
        remote: (addr(da)?, port("dport")?),
        from: state(f.get("oldstate")?)?,
        to: state(f.get("newstate")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_line_parses() {
        let l = "          <idle>-0       [001] ..s1.  1234.567890: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1234 dport=57964 saddr=10.77.0.2 daddr=10.77.0.1 saddrv6=::ffff:10.77.0.2 daddrv6=::ffff:10.77.0.1 oldstate=TCP_SYN_RECV newstate=TCP_ESTABLISHED";
        let t = parse_line(l).unwrap();
        assert_eq!(t.mono_ns, 1_234_567_890_000);
        assert_eq!(t.tid, 0);
        assert_eq!(t.local, ("10.77.0.2".parse().unwrap(), 1234));
        assert_eq!(t.remote, ("10.77.0.1".parse().unwrap(), 57964));
        assert_eq!((t.from, t.to), (TcpState::SynRecv, TcpState::Established));
        let l6 = "  tcplab-a-77 [000] ..... 5.000001: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=80 dport=0 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=:: daddrv6=:: oldstate=TCP_CLOSE newstate=TCP_LISTEN";
        let t = parse_line(l6).unwrap();
        assert_eq!(t.tid, 77);
        assert_eq!(t.local, ("::".parse().unwrap(), 80));
        assert!(parse_line("# tracer: nop").is_none());
    }
}
