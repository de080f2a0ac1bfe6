//! `setsockopt` for every option of [`SockOpt`], on a real socket.
//!
//! rustix covers most options; TCP_LINGER2, TCP_SYNCNT, TCP_DEFER_ACCEPT, TCP_MAXSEG and
//! setting SO_ERROR (which Linux refuses with ENOPROTOOPT, as the simulator's stack does) are
//! declared with nix's `sockopt_impl!`, which holds the only `unsafe` code involved.

use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::{getsockopt_impl, libc, setsockopt_impl, sockopt_impl};
use rustix::net::sockopt as so;
use tcplab_sim::scenario::SockOpt;
use tcplab_stack::Errno;

use crate::worker::errno;

sockopt_impl!(
    /// TCP_LINGER2: the orphaned FIN_WAIT2 lifetime in seconds.
    TcpLinger2, Both, libc::IPPROTO_TCP, libc::TCP_LINGER2, i32
);
sockopt_impl!(
    /// TCP_SYNCNT: SYN retransmissions before connect() gives up.
    TcpSynCnt, Both, libc::IPPROTO_TCP, libc::TCP_SYNCNT, i32
);
sockopt_impl!(
    /// TCP_DEFER_ACCEPT in seconds.
    TcpDeferAccept, Both, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, i32
);
sockopt_impl!(
    /// TCP_MAXSEG.
    TcpMaxSegSet, Both, libc::IPPROTO_TCP, libc::TCP_MAXSEG, i32
);
sockopt_impl!(
    /// SO_ERROR, set (Linux refuses it).
    SoErrorSet, SetOnly, libc::SOL_SOCKET, libc::SO_ERROR, i32
);

fn nix_err(e: nix::errno::Errno) -> Errno {
    Errno::from_raw(e as i32).unwrap_or(Errno::EIO)
}

fn as_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Sets one option; the errno is Linux's.
pub(crate) fn set(fd: &OwnedFd, opt: SockOpt) -> Result<(), Errno> {
    let secs = |s: u32| Duration::from_secs(u64::from(s));
    match opt {
        SockOpt::Linger(l) => so::set_socket_linger(fd, l.map(secs)).map_err(errno),
        SockOpt::KeepAlive(on) => so::set_socket_keepalive(fd, on).map_err(errno),
        SockOpt::RcvBuf(n) => so::set_socket_recv_buffer_size(fd, n as usize).map_err(errno),
        SockOpt::SndBuf(n) => so::set_socket_send_buffer_size(fd, n as usize).map_err(errno),
        SockOpt::ReuseAddr(on) => so::set_socket_reuseaddr(fd, on).map_err(errno),
        SockOpt::NoDelay(on) => so::set_tcp_nodelay(fd, on).map_err(errno),
        SockOpt::KeepIdle(s) => so::set_tcp_keepidle(fd, secs(s)).map_err(errno),
        SockOpt::KeepIntvl(s) => so::set_tcp_keepintvl(fd, secs(s)).map_err(errno),
        SockOpt::KeepCnt(n) => so::set_tcp_keepcnt(fd, n).map_err(errno),
        SockOpt::UserTimeout(ms) => so::set_tcp_user_timeout(fd, ms).map_err(errno),
        SockOpt::QuickAck(n) => so::set_tcp_quickack(fd, n != 0).map_err(errno),
        SockOpt::Linger2(s) => nix::sys::socket::setsockopt(fd, TcpLinger2, &s).map_err(nix_err),
        SockOpt::SynCnt(n) => {
            nix::sys::socket::setsockopt(fd, TcpSynCnt, &as_i32(n)).map_err(nix_err)
        }
        SockOpt::MaxSeg(n) => {
            nix::sys::socket::setsockopt(fd, TcpMaxSegSet, &as_i32(n)).map_err(nix_err)
        }
        SockOpt::DeferAccept(s) => {
            nix::sys::socket::setsockopt(fd, TcpDeferAccept, &s).map_err(nix_err)
        }
        SockOpt::Error(v) => nix::sys::socket::setsockopt(fd, SoErrorSet, &v).map_err(nix_err),
    }
}
