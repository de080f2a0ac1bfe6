//! `ss` and `netstat` snapshots, taking the real tools' argument lists (`-tano`, `-tanoi`,
//! `-anp`, `-tanpo`) and printing what those tools print, through `tcplab_stack::ss`.
//!
//! Only TCP sockets exist in a tcplab host, so `netstat` without `-t` prints the TCP part of
//! its Internet table (no UDP rows and no UNIX-domain table) and `ss` requires `-t`. Addresses
//! and ports are always numeric, as with `-n` (the simulator has no name service).
//! Without `-a`, `ss` shows connected sockets except TIME-WAIT and SYN-RECV (iproute2's
//! SS_CONN) and `netstat` shows every socket but listeners; `-l` shows listeners only.

use tcplab_stack::TcpState;
use tcplab_stack::ss::{SocketEntry, SsOptions, netstat_header, netstat_line};

use crate::net::{Sim, SimError};
use crate::timeline::EventKind;

/// Which tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    Ss,
    Netstat,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ss => "ss",
            Tool::Netstat => "netstat",
        }
    }
}

/// Arguments a tool does not take.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    #[error(
        "{tool}: unknown option \"{option}\": expected options among {expected} (for example -tanoi)"
    )]
    UnknownOption {
        tool: &'static str,
        option: String,
        expected: &'static str,
    },
    #[error("ss: only TCP sockets exist in a tcplab host: expected -t among the options")]
    NeedsTcp,
}

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    tcp: bool,
    all: bool,
    listening: bool,
    timers: bool,
    info: bool,
    processes: bool,
}

fn parse_flags(tool: Tool, args: &[&str]) -> Result<Flags, ToolError> {
    let expected = match tool {
        Tool::Ss => "-t -a -l -n -o -i -p",
        Tool::Netstat => "-t -a -l -n -o -p -W",
    };
    let bad = |option: &str| ToolError::UnknownOption {
        tool: tool.name(),
        option: option.to_string(),
        expected,
    };
    let mut f = Flags::default();
    for &a in args {
        let long = match a {
            "--tcp" => Some('t'),
            "--all" => Some('a'),
            "--listening" => Some('l'),
            "--numeric" => Some('n'),
            "--options" if tool == Tool::Ss => Some('o'),
            "--timers" if tool == Tool::Netstat => Some('o'),
            "--info" if tool == Tool::Ss => Some('i'),
            "--processes" if tool == Tool::Ss => Some('p'),
            "--program" if tool == Tool::Netstat => Some('p'),
            "--wide" if tool == Tool::Netstat => Some('W'),
            _ => None,
        };
        let letters: Vec<char> = match long {
            Some(c) => vec![c],
            None if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 => {
                a.chars().skip(1).collect()
            }
            None => return Err(bad(a)),
        };
        for c in letters {
            match (c, tool) {
                ('t', _) => f.tcp = true,
                ('a', _) => f.all = true,
                ('l', _) => f.listening = true,
                ('n', _) => {}
                ('o', _) => f.timers = true,
                ('p', _) => f.processes = true,
                ('i', Tool::Ss) => f.info = true,
                ('W', Tool::Netstat) => {}
                _ => return Err(bad(&format!("-{c}"))),
            }
        }
    }
    Ok(f)
}

fn shown(f: &Flags, tool: Tool, e: &SocketEntry) -> bool {
    let listen = e.state == TcpState::Listen;
    if f.listening && !f.all {
        return listen;
    }
    if f.all {
        return true;
    }
    match tool {
        Tool::Ss => !matches!(
            e.state,
            TcpState::Listen | TcpState::TimeWait | TcpState::SynRecv | TcpState::Close
        ),
        Tool::Netstat => !listen,
    }
}

/// Sorts as the tools read the tables: IPv4 sockets, then IPv6, each in the stack's order.
fn by_family(entries: &[SocketEntry]) -> Vec<&SocketEntry> {
    let mut v: Vec<&SocketEntry> = entries.iter().filter(|e| e.local.is_ipv4()).collect();
    v.extend(entries.iter().filter(|e| e.local.is_ipv6()));
    v
}

/// `ss ARGS` over a socket table.
pub fn ss_text(entries: &[SocketEntry], args: &[&str]) -> Result<String, ToolError> {
    let f = parse_flags(Tool::Ss, args)?;
    if !f.tcp {
        return Err(ToolError::NeedsTcp);
    }
    let opts = SsOptions {
        timers: f.timers,
        info: f.info,
        processes: f.processes,
    };
    // ss lays out the whole table: each column as wide as its widest cell.
    let rows: Vec<SocketEntry> = by_family(entries)
        .into_iter()
        .filter(|e| shown(&f, Tool::Ss, e))
        .cloned()
        .collect();
    Ok(tcplab_stack::ss::ss_table(&rows, opts))
}

/// `netstat ARGS` over a socket table.
pub fn netstat_text(entries: &[SocketEntry], args: &[&str]) -> Result<String, ToolError> {
    let f = parse_flags(Tool::Netstat, args)?;
    let title = if f.all {
        "Active Internet connections (servers and established)"
    } else if f.listening {
        "Active Internet connections (only servers)"
    } else {
        "Active Internet connections (w/o servers)"
    };
    let mut out = format!("{title}\n{}\n", netstat_header(f.timers, f.processes));
    for e in by_family(entries) {
        if shown(&f, Tool::Netstat, e) {
            out.push_str(&netstat_line(e, f.timers, f.processes));
            out.push('\n');
        }
    }
    Ok(out)
}

impl Sim {
    /// The host's socket table now, with the owning processes filled in (`pid/name`).
    pub fn sockets(&self, host: &str) -> Result<Vec<SocketEntry>, SimError> {
        let h = self.host_id(host)?;
        let mut v = self.hosts[h.0].stack.sockets(self.now());
        for e in &mut v {
            if let Some(fd) = e.fd {
                e.process = self.owner_label(h, fd);
            }
        }
        Ok(v)
    }

    /// What `ss ARGS` or `netstat ARGS` prints on a host now, without recording it.
    pub fn tool_output(&self, host: &str, tool: Tool, args: &[&str]) -> Result<String, SimError> {
        let entries = self.sockets(host)?;
        Ok(match tool {
            Tool::Ss => ss_text(&entries, args)?,
            Tool::Netstat => netstat_text(&entries, args)?,
        })
    }

    /// Runs `ss ARGS` or `netstat ARGS` on a host now and records the output as a snapshot.
    pub fn snapshot(&mut self, host: &str, tool: Tool, args: &[&str]) -> Result<String, SimError> {
        let output = self.tool_output(host, tool, args)?;
        let command = if args.is_empty() {
            tool.name().to_string()
        } else {
            format!("{} {}", tool.name(), args.join(" "))
        };
        self.timeline.push(
            self.now(),
            EventKind::Snapshot {
                host: host.to_string(),
                command,
                output: output.clone(),
            },
        );
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcplab_stack::Fd;

    fn entry(state: TcpState, local: &str, peer: Option<&str>) -> SocketEntry {
        SocketEntry {
            state,
            recv_q: 0,
            send_q: 0,
            local: local.parse().unwrap(),
            peer: peer.map(|p| p.parse().unwrap()),
            timer: None,
            fd: Some(Fd(3)),
            process: Some("1000/nc".into()),
            info: None,
        }
    }

    fn table() -> Vec<SocketEntry> {
        vec![
            entry(TcpState::Listen, "0.0.0.0:1234", None),
            entry(
                TcpState::Established,
                "10.0.0.2:1234",
                Some("10.0.0.1:40000"),
            ),
            entry(TcpState::TimeWait, "10.0.0.2:1234", Some("10.0.0.1:40001")),
            entry(
                TcpState::Established,
                "[fd00::2]:80",
                Some("[fd00::1]:5000"),
            ),
        ]
    }

    #[test]
    fn ss_state_filters() {
        let t = table();
        let all = ss_text(&t, &["-tan"]).unwrap();
        assert_eq!(all.lines().count(), 5, "{all}");
        let conn = ss_text(&t, &["-t", "-n"]).unwrap();
        assert_eq!(conn.lines().count(), 3, "{conn}");
        assert!(!conn.contains("TIME-WAIT") && !conn.contains("LISTEN"));
        let listening = ss_text(&t, &["--tcp", "--listening"]).unwrap();
        assert_eq!(listening.lines().count(), 2, "{listening}");
        let with_users = ss_text(&t, &["-tanp"]).unwrap();
        assert!(with_users.contains("users:((\"nc\",pid=1000,fd=3))"));
    }

    #[test]
    fn netstat_titles_and_filters() {
        let t = table();
        let a = netstat_text(&t, &["-anp"]).unwrap();
        let lines: Vec<&str> = a.lines().collect();
        assert_eq!(
            lines[0],
            "Active Internet connections (servers and established)"
        );
        assert!(lines[1].starts_with("Proto Recv-Q Send-Q Local Address"));
        assert_eq!(lines.len(), 6);
        assert!(lines[5].starts_with("tcp6"), "IPv6 after IPv4: {a}");
        let w = netstat_text(&t, &["-tn"]).unwrap();
        assert!(w.starts_with("Active Internet connections (w/o servers)\n"));
        assert!(!w.contains("LISTEN") && w.contains("TIME_WAIT"), "{w}");
        let o = netstat_text(&t, &["-tanpo"]).unwrap();
        assert!(o.lines().nth(1).unwrap().ends_with("Timer"), "{o}");
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(
            ss_text(&[], &["-tanx"]).unwrap_err().to_string(),
            "ss: unknown option \"-x\": expected options among -t -a -l -n -o -i -p (for example -tanoi)"
        );
        assert_eq!(ss_text(&[], &["-an"]).unwrap_err(), ToolError::NeedsTcp);
        assert!(netstat_text(&[], &["state"]).is_err());
        assert!(netstat_text(&[], &["-i"]).is_err());
    }
}
