//! What a host's processes make their socket calls on: [`Net`], with two implementations.
//!
//! - [`RealNet`]: the host's own Linux, through real non-blocking sockets made in the
//!   thread's network namespace, watched with `poll`;
//! - [`super::tcplab::TcplabNet`]: a tcplab stack on a TAP port of the lab's bridge, in real
//!   time, with the simulator's firewall, sysctls and `ss`/`netstat`.
//!
//! The processes (`procs`) are the same for both, so a tcplab host and a kernel host in one
//! scenario run the same program call for call. Errors are Linux errno values.

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use rustix::event::PollFlags;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use tcplab_sim::EventKind;
use tcplab_sim::scenario::{Shutdown, SockOpt};
use tcplab_stack::{Errno, Instant};

use super::{errno, wait};
use crate::sockopt;

/// A tool's result: whether it succeeded, what it printed, what it printed on stderr.
pub(crate) type ToolResult = (bool, String, String);

/// Socket calls as the host's processes make them; every call is non-blocking.
pub(crate) trait Net {
    /// A socket: its descriptor for the kernel, its stack descriptor for tcplab.
    type Sock: std::fmt::Debug;

    fn socket(&mut self, v6: bool) -> Result<Self::Sock, Errno>;
    /// `getsockname()` and `getpeername()`.
    fn addrs(&mut self, s: &Self::Sock) -> (Option<SocketAddr>, Option<SocketAddr>);
    /// `Err(EINPROGRESS)` while the handshake goes on.
    fn connect(&mut self, s: &Self::Sock, to: SocketAddr) -> Result<(), Errno>;
    fn bind(&mut self, s: &Self::Sock, at: SocketAddr) -> Result<(), Errno>;
    fn listen(&mut self, s: &Self::Sock, backlog: i32) -> Result<(), Errno>;
    fn setsockopt(&mut self, s: &Self::Sock, opt: SockOpt) -> Result<(), Errno>;
    /// `Err(EAGAIN)` when no connection is waiting.
    fn accept(&mut self, s: &Self::Sock) -> Result<(Self::Sock, Option<SocketAddr>), Errno>;
    /// `Ok(0)` at end of stream, `Err(EAGAIN)` when nothing is there yet.
    fn recv(&mut self, s: &Self::Sock, buf: &mut [u8]) -> Result<usize, Errno>;
    /// What fitted; `Err(EAGAIN)` when nothing did.
    fn send(&mut self, s: &Self::Sock, data: &[u8]) -> Result<usize, Errno>;
    fn shutdown(&mut self, s: &Self::Sock, how: Shutdown) -> Result<(), Errno>;
    /// `SO_ERROR`: the pending error, which reading clears.
    fn take_error(&mut self, s: &Self::Sock) -> Option<Errno>;
    /// `close()`, as a process exit makes it (it never waits).
    fn close(&mut self, s: Self::Sock);
    /// Waits until one of `interest` is ready or the wake socket is readable (or a while
    /// passes): `(index, revents)` of the ready ones, the wake socket being index 0.
    fn wait(
        &mut self,
        interest: &[(&Self::Sock, PollFlags)],
        wake: &UnixStream,
    ) -> Vec<(usize, PollFlags)>;
    /// A tool run on the host (`sysctl`, `iptables`, `ss`, `netstat`), with `owners` naming
    /// each socket's process (`pid/name`); `None` when the host's tools are the real ones,
    /// which the runner runs itself.
    fn tool(&mut self, _argv: &[String], _owners: &[(&Self::Sock, String)]) -> Option<ToolResult> {
        None
    }
    /// What the network saw that the processes did not (a tcplab stack's state changes and
    /// timers), collected so far.
    fn take_events(&mut self) -> Vec<(Instant, EventKind)> {
        Vec::new()
    }
}

/// The host's own Linux. See the module docs.
#[derive(Debug)]
pub(crate) struct RealNet {
    /// Set TCP_CONGESTION to cubic on every new socket (see `Lab::cubic_per_socket`).
    pub cubic: bool,
}

fn sockaddr(a: rustix::net::SocketAddrAny) -> Option<SocketAddr> {
    SocketAddr::try_from(a).ok()
}

impl Net for RealNet {
    type Sock = OwnedFd;

    fn socket(&mut self, v6: bool) -> Result<OwnedFd, Errno> {
        let family = if v6 {
            AddressFamily::INET6
        } else {
            AddressFamily::INET
        };
        let fd = rustix::net::socket_with(
            family,
            SocketType::STREAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            Some(rustix::net::ipproto::TCP),
        )
        .map_err(errno)?;
        if self.cubic {
            let _ = rustix::net::sockopt::set_tcp_congestion(&fd, "cubic");
        }
        Ok(fd)
    }

    fn addrs(&mut self, s: &OwnedFd) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let local = rustix::net::getsockname(s).ok().and_then(sockaddr);
        let peer = rustix::net::getpeername(s)
            .ok()
            .flatten()
            .and_then(sockaddr);
        (local, peer)
    }

    fn connect(&mut self, s: &OwnedFd, to: SocketAddr) -> Result<(), Errno> {
        rustix::net::connect(s, &to).map_err(errno)
    }

    fn bind(&mut self, s: &OwnedFd, at: SocketAddr) -> Result<(), Errno> {
        rustix::net::bind(s, &at).map_err(errno)
    }

    fn listen(&mut self, s: &OwnedFd, backlog: i32) -> Result<(), Errno> {
        rustix::net::listen(s, backlog).map_err(errno)
    }

    fn setsockopt(&mut self, s: &OwnedFd, opt: SockOpt) -> Result<(), Errno> {
        sockopt::set(s, opt)
    }

    fn accept(&mut self, s: &OwnedFd) -> Result<(OwnedFd, Option<SocketAddr>), Errno> {
        rustix::net::acceptfrom_with(s, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)
            .map(|(fd, peer)| (fd, peer.and_then(sockaddr)))
            .map_err(errno)
    }

    fn recv(&mut self, s: &OwnedFd, buf: &mut [u8]) -> Result<usize, Errno> {
        rustix::net::recv(s, buf, RecvFlags::DONTWAIT)
            .map(|(n, _)| n)
            .map_err(errno)
    }

    fn send(&mut self, s: &OwnedFd, data: &[u8]) -> Result<usize, Errno> {
        rustix::net::send(s, data, SendFlags::DONTWAIT | SendFlags::NOSIGNAL).map_err(errno)
    }

    fn shutdown(&mut self, s: &OwnedFd, how: Shutdown) -> Result<(), Errno> {
        let h = match how {
            Shutdown::Read => rustix::net::Shutdown::Read,
            Shutdown::Write => rustix::net::Shutdown::Write,
            Shutdown::Both => rustix::net::Shutdown::Both,
        };
        rustix::net::shutdown(s, h).map_err(errno)
    }

    fn take_error(&mut self, s: &OwnedFd) -> Option<Errno> {
        match rustix::net::sockopt::socket_error(s) {
            Ok(Ok(())) => None,
            Ok(Err(e)) | Err(e) => Some(errno(e)),
        }
    }

    fn close(&mut self, s: OwnedFd) {
        drop(s);
    }

    fn wait(
        &mut self,
        interest: &[(&OwnedFd, PollFlags)],
        wake: &UnixStream,
    ) -> Vec<(usize, PollFlags)> {
        wait(interest, wake)
    }

    /// `sysctl -w KEY=VALUE…` and `sysctl KEY…` straight through `/proc/sys`: the thread is
    /// in the host's namespace, and `/proc/sys/net` is the opening thread's namespace's.
    /// `ip netns exec` would mount a view of `/sys` first, which takes tens of
    /// milliseconds on a busy machine and would delay the script's next step; anything
    /// else runs as the real tool.
    fn tool(&mut self, argv: &[String], _owners: &[(&OwnedFd, String)]) -> Option<ToolResult> {
        let (program, args) = argv.split_first()?;
        if program != "sysctl" || args.iter().any(|a| a.starts_with('-') && a != "-w") {
            return None;
        }
        Some(proc_sys(args))
    }
}

/// The file of a sysctl key: `net.ipv4.tcp_fin_timeout` (or with slashes) under
/// `/proc/sys`; `None` for a key that could leave it.
fn proc_sys_path(key: &str) -> Option<std::path::PathBuf> {
    let rel = key.replace('.', "/");
    if rel.is_empty() || rel.split('/').any(|p| p.is_empty() || p == "..") {
        return None;
    }
    Some(std::path::Path::new("/proc/sys").join(rel))
}

/// What `sysctl [-w] ARGS` prints, done through `/proc/sys` as sysctl(8) does it.
fn proc_sys(args: &[String]) -> ToolResult {
    let (mut out, mut err) = (String::new(), String::new());
    let write = args.first().is_some_and(|a| a == "-w");
    for a in args.iter().filter(|a| *a != "-w") {
        let (key, value) = match (write, a.split_once('=')) {
            (true, Some((k, v))) => (k.trim(), Some(v.trim())),
            (true, None) => {
                err.push_str(&format!("sysctl: \"{a}\" must be of the form name=value\n"));
                continue;
            }
            (false, _) => (a.as_str(), None),
        };
        let missing = || {
            format!(
                "sysctl: cannot stat /proc/sys/{}: No such file or directory\n",
                key.replace('.', "/")
            )
        };
        let Some(path) = proc_sys_path(key) else {
            err.push_str(&missing());
            continue;
        };
        match value {
            Some(v) => match std::fs::write(&path, format!("{v}\n")) {
                Ok(()) => out.push_str(&format!("{key} = {v}\n")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => err.push_str(&missing()),
                Err(e) => err.push_str(&format!("sysctl: setting key \"{key}\": {e}\n")),
            },
            None => match std::fs::read_to_string(&path) {
                Ok(v) => out.push_str(&format!("{key} = {}\n", v.trim_end())),
                Err(_) => err.push_str(&missing()),
            },
        }
    }
    (err.is_empty(), out, err.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_proc_sys() {
        assert_eq!(
            proc_sys_path("net.ipv4.tcp_fin_timeout").unwrap(),
            std::path::Path::new("/proc/sys/net/ipv4/tcp_fin_timeout")
        );
        assert_eq!(
            proc_sys_path("net/ipv4/tcp_rmem").unwrap(),
            std::path::Path::new("/proc/sys/net/ipv4/tcp_rmem")
        );
        for bad in ["", "net..ipv4", "net/../../etc/passwd", "/net", "net."] {
            assert!(proc_sys_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_missing_key_is_reported_as_sysctl_reports_it() {
        let (ok, out, err) = proc_sys(&["net.ipv4.tcplab_no_such_key".to_string()]);
        assert!(!ok);
        assert!(out.is_empty());
        assert_eq!(
            err,
            "sysctl: cannot stat /proc/sys/net/ipv4/tcplab_no_such_key: No such file or directory"
        );
        let (ok, _, err) = proc_sys(&["-w".to_string(), "net.ipv4.x".to_string()]);
        assert!(!ok);
        assert!(err.contains("name=value"), "{err}");
    }
}
