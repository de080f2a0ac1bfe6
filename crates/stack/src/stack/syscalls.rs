//! The application commands: socket, bind, listen, accept, connect, send, recv, shutdown,
//! close, setsockopt, getsockopt — non-blocking, with Linux's errno for every refusal.

use std::net::{IpAddr, SocketAddr};
use std::num::{NonZeroU8, NonZeroU16};

use tcplab_wire::TcpFlags;

use super::{ConnRef, FdKind, FreshSock, Linger, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, Stack};
use crate::api::{Domain, Fd, Shutdown, SockOpt, SockOptName, TcpState};
use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::listen::{Listener, retrans_to_secs, secs_to_retrans};
use crate::output::select_initial_window;
use crate::socket::{SockOpts, TxSeg, XmitTimer};
use crate::time::Instant;
use crate::timer::Disposition;

/// Linux: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT, MAX_TCP_SYNCNT.
const MAX_TCP_KEEPIDLE: u32 = 32767;
const MAX_TCP_KEEPINTVL: u32 = 32767;
const MAX_TCP_KEEPCNT: u32 = 127;
const MAX_TCP_SYNCNT: u32 = 127;

impl Stack {
    fn lowest_free_fd(&self) -> Fd {
        // A lingering close() still holds its number until the caller sees it return.
        let mut n = self.fd_hint;
        while self.fds.contains_key(&Fd(n)) || self.lingering.contains_key(&Fd(n)) {
            n += 1;
        }
        Fd(n)
    }

    /// Takes the number `lowest_free_fd` returned: everything below it is taken now.
    fn take_fd(&mut self, fd: Fd, kind: FdKind) {
        self.fds.insert(fd, kind);
        self.fd_hint = fd.0 + 1;
    }

    /// A descriptor number became free (closed, or its lingering close returned).
    fn free_fd_number(&mut self, fd: Fd) {
        self.fd_hint = self.fd_hint.min(fd.0);
    }

    /// The descriptor `fd` stops being an unconnected socket (`kind` is what it was).
    fn leave_fresh(&mut self, kind: &FdKind) {
        if let FdKind::Fresh(f) = kind
            && let Some(b) = f.bound
            && let Some(n) = self.fresh_bound.get_mut(&b.port())
        {
            *n -= 1;
            if *n == 0 {
                self.fresh_bound.remove(&b.port());
            }
        }
    }

    /// `socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TCP)`.
    pub fn socket(&mut self, domain: Domain) -> Result<Fd, Errno> {
        if self.fds.len() >= 1 << 20 {
            return Err(Errno::EMFILE);
        }
        let fd = self.lowest_free_fd();
        self.take_fd(
            fd,
            FdKind::Fresh(Box::new(FreshSock {
                domain,
                bound: None,
                opts: SockOpts::default(),
                sndbuf: None,
                rcvbuf: None,
                rskq_defer_accept: 0,
            })),
        );
        Ok(fd)
    }

    fn fresh_mut(&mut self, fd: Fd) -> Result<&mut FreshSock, Errno> {
        match self.fds.get_mut(&fd) {
            Some(FdKind::Fresh(f)) => Ok(f),
            Some(_) => Err(Errno::EINVAL),
            None => Err(Errno::EBADF),
        }
    }

    fn port_in_use(&self, addr: SocketAddr) -> bool {
        self.ports.contains_key(&addr.port()) || self.fresh_bound.contains_key(&addr.port())
    }

    /// `bind()`. Port 0 picks an ephemeral port.
    pub fn bind(&mut self, fd: Fd, addr: SocketAddr) -> Result<(), Errno> {
        let domain = match self.fds.get(&fd) {
            Some(FdKind::Fresh(f)) => {
                if f.bound.is_some() {
                    return Err(Errno::EINVAL);
                }
                f.domain
            }
            Some(_) => return Err(Errno::EINVAL),
            None => return Err(Errno::EBADF),
        };
        if domain == Domain::Inet && addr.is_ipv6() {
            return Err(Errno::EAFNOSUPPORT);
        }
        let ip = addr.ip();
        if !ip.is_unspecified() && !self.config.addrs.contains(&ip) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let mut addr = addr;
        if addr.port() == 0 {
            addr.set_port(self.ephemeral_port()?);
        } else {
            let reuse = self
                .fresh_mut(fd)
                .map(|f| f.opts.reuseaddr)
                .unwrap_or(false);
            let listening = self.listen_map.contains_key(&addr.port());
            if self.port_in_use(addr) && (!reuse || listening) {
                return Err(Errno::EADDRINUSE);
            }
        }
        self.fresh_mut(fd)?.bound = Some(addr);
        *self.fresh_bound.entry(addr.port()).or_insert(0) += 1;
        Ok(())
    }

    /// Picks a free port from `ip_local_port_range`.
    fn ephemeral_port(&mut self) -> Result<u16, Errno> {
        let [lo, hi] = self.config.sysctls.ip_local_port_range;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span {
            let p = lo + (self.next_port % span) as u16;
            self.next_port = self.next_port.wrapping_add(1);
            if !self.port_in_use(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), p)) {
                return Ok(p);
            }
        }
        Err(Errno::EADDRNOTAVAIL)
    }

    /// Linux: __inet_hash_connect() — the first port of the range (from a seeded offset) that
    /// no bind() or listener holds and whose 4-tuple to `dst` is free or a time-wait record
    /// `tcp_tw_reuse` lets us take over. Ports are shared between different destinations.
    fn connect_port(
        &mut self,
        now: Instant,
        local_ip: IpAddr,
        dst: SocketAddr,
    ) -> Result<u16, Errno> {
        let [lo, hi] = self.config.sysctls.ip_local_port_range;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span {
            let p = lo + (self.next_port % span) as u16;
            self.next_port = self.next_port.wrapping_add(1);
            let bound = self.listen_map.contains_key(&p) || self.fresh_bound.contains_key(&p);
            if bound {
                continue;
            }
            let usable = match self.tuple_get(SocketAddr::new(local_ip, p), dst) {
                None => true,
                Some(ConnRef::Tw(t)) => self
                    .tws
                    .get(t)
                    .and_then(|tw| self.twsk_unique(now, tw))
                    .is_some(),
                Some(_) => false,
            };
            if usable {
                return Ok(p);
            }
        }
        Err(Errno::EADDRNOTAVAIL)
    }

    /// `listen()`. The backlog is capped by `somaxconn`, as Linux does.
    pub fn listen(&mut self, fd: Fd, backlog: i32) -> Result<(), Errno> {
        let max = self.config.sysctls.somaxconn;
        let backlog = if backlog < 0 {
            max
        } else {
            (backlog as u32).min(max)
        };
        match self.fds.get(&fd) {
            Some(FdKind::Listener(l)) => {
                if let Some(lst) = self.listeners.get_mut(*l) {
                    lst.max_ack_backlog = backlog;
                }
                return Ok(());
            }
            Some(FdKind::Conn(_)) => return Err(Errno::EINVAL),
            Some(FdKind::Fresh(_)) => {}
            None => return Err(Errno::EBADF),
        }
        let f = self.fresh_mut(fd)?.clone();
        let local = match f.bound {
            Some(a) => a,
            None => {
                let port = self.ephemeral_port()?;
                let ip = match f.domain {
                    Domain::Inet => IpAddr::from([0, 0, 0, 0]),
                    Domain::Inet6 => IpAddr::from([0u16; 8]),
                };
                SocketAddr::new(ip, port)
            }
        };
        if self.listen_map.get(&local.port()).is_some_and(|v| {
            v.iter()
                .any(|(a, _)| *a == local.ip() || a.is_unspecified() || local.ip().is_unspecified())
        }) {
            return Err(Errno::EADDRINUSE);
        }
        let l = self.listeners.insert(Listener {
            fd,
            local,
            max_ack_backlog: backlog,
            accept_queue: Default::default(),
            qlen: 0,
            young: 0,
            opts: f.opts,
            sndbuf: f.sndbuf,
            rcvbuf: f.rcvbuf,
            rskq_defer_accept: f.rskq_defer_accept,
        });
        self.listen_map
            .entry(local.port())
            .or_default()
            .push((local.ip(), l));
        if let Some(old) = self.fds.insert(fd, FdKind::Listener(l)) {
            self.leave_fresh(&old);
        }
        Ok(())
    }

    /// `accept()`: the oldest established connection, or EAGAIN.
    pub fn accept(&mut self, _now: Instant, fd: Fd) -> Result<(Fd, SocketAddr), Errno> {
        let l = match self.fds.get(&fd) {
            Some(FdKind::Listener(l)) => *l,
            Some(_) => return Err(Errno::EINVAL),
            None => return Err(Errno::EBADF),
        };
        let c = self
            .listeners
            .get_mut(l)
            .and_then(|lst| lst.accept_queue.pop_front())
            .ok_or(Errno::EAGAIN)?;
        let newfd = self.lowest_free_fd();
        let sock = self.conns.get_mut(c).ok_or(Errno::ECONNABORTED)?;
        sock.fd = Some(newfd);
        sock.rare.listener = None;
        // Waiting in the queue was what boxed the rare fields of most children.
        sock.rare.free_if_empty();
        let remote = sock.remote;
        self.take_fd(newfd, FdKind::Conn(c));
        Ok((newfd, remote))
    }

    /// `connect()`, non-blocking: `Err(EINPROGRESS)` once the SYN is sent; `Event::Connected`
    /// or `Event::Error` follows.
    pub fn connect(&mut self, now: Instant, fd: Fd, addr: SocketAddr) -> Result<(), Errno> {
        match self.fds.get(&fd) {
            Some(FdKind::Fresh(_)) => {}
            Some(FdKind::Listener(_)) => return Err(Errno::EISCONN),
            Some(FdKind::Conn(c)) => {
                let sock = self.conns.get_mut(*c).ok_or(Errno::EBADF)?;
                return match sock.state {
                    TcpState::SynSent | TcpState::SynRecv => Err(Errno::EALREADY),
                    TcpState::Close => match sock.take_sk_err() {
                        Some(e) => Err(e),
                        None => Err(Errno::ECONNABORTED),
                    },
                    _ => Err(Errno::EISCONN),
                };
            }
            None => return Err(Errno::EBADF),
        }
        let f = self.fresh_mut(fd)?.clone();
        if (f.domain == Domain::Inet) != addr.is_ipv4() {
            return Err(Errno::EAFNOSUPPORT);
        }
        if addr.ip().is_unspecified() || addr.port() == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        let local_ip = match f.bound.map(|b| b.ip()).filter(|ip| !ip.is_unspecified()) {
            Some(ip) => ip,
            None => self
                .config
                .addrs
                .iter()
                .copied()
                .find(|a| a.is_ipv4() == addr.is_ipv4())
                .ok_or(Errno::ENETUNREACH)?,
        };
        let port = match f.bound {
            Some(b) => b.port(),
            None => self.connect_port(now, local_ip, addr)?,
        };
        let local = SocketAddr::new(local_ip, port);
        // Linux: __inet_check_established() — a 4-tuple in TIME_WAIT may be taken over
        // (tcp_twsk_unique()), anything else makes the address unavailable.
        let mut reused = None;
        match self.tuple_get(local, addr) {
            None => {}
            Some(ConnRef::Tw(t)) => {
                match self.tws.get(t).and_then(|tw| self.twsk_unique(now, tw)) {
                    Some(r) => {
                        reused = Some(r);
                        self.kill_tw(t);
                    }
                    None => return Err(Errno::EADDRNOTAVAIL),
                }
            }
            Some(_) => return Err(Errno::EADDRNOTAVAIL),
        }
        let mut sock = self.new_sock(local, addr, f.opts, f.sndbuf, f.rcvbuf);
        let sys = &self.config.sysctls;
        sock.fd = Some(fd);
        sock.connecting = true;
        sock.iss = match reused {
            Some((seq, ts_recent, ts_recent_stamp)) => {
                sock.rx_opt.ts_recent = ts_recent;
                sock.rx_opt.ts_recent_stamp = ts_recent_stamp;
                seq
            }
            None => self
                .isn
                .isn(now, local.ip(), local.port(), addr.ip(), addr.port()),
        };
        sock.ts_offset = self.isn.ts_offset(local.ip(), addr.ip());
        sock.snd_una = sock.iss;
        sock.snd_nxt = sock.iss.wrapping_add(1);
        sock.write_seq = sock.snd_nxt;
        // Linux: tcp_connect() — pushed_seq = write_seq once the SYN is queued.
        sock.pushed_seq = sock.write_seq;
        sock.sndbuf_seq = sock.snd_nxt;
        sock.snd_sml = sock.snd_nxt;
        // Linux: tcp_connect_init().
        let space = crate::output::win_from_space(i64::from(sock.rcvbuf_cap)) as u32;
        let window_clamp = if f.opts.rcvbuf_locked { space } else { 0 };
        let (rcv_wnd, clamp, wscale) = select_initial_window(
            space,
            sock.advmss,
            window_clamp,
            sys.tcp_window_scaling != 0,
            sys.tcp_rmem[2],
            sys.rmem_max,
        );
        sock.rcv_wnd = rcv_wnd;
        sock.rcv_ssthresh = rcv_wnd;
        sock.window_clamp = clamp;
        sock.rx_opt.rcv_wscale = wscale;
        sock.rx_opt.mss_clamp = sock.advmss as u16;
        sock.state = TcpState::SynSent;
        let c = self.conns.insert(sock);
        self.tuple_insert(local, addr, ConnRef::Conn(c));
        *self.ports.entry(port).or_insert(0) += 1;
        if let Some(old) = self.fds.insert(fd, FdKind::Conn(c)) {
            self.leave_fresh(&old);
        }
        let (mut ctx, conns) = self.ctx(now);
        let Some(sock) = conns.get_mut(c) else {
            return Err(Errno::EBADF);
        };
        ctx.out.event(
            Some(fd),
            crate::api::Event::StateChanged {
                from: TcpState::Close,
                to: TcpState::SynSent,
            },
        );
        // Linux: tcp_connect() — queue the SYN, arm the RTO, start retrans_stamp.
        let iss = sock.iss;
        // Linux: tcp_ecn_send_syn() — tcp_ecn = 1 asks for ECN with ECE|CWR in the SYN.
        let syn_flags = if ctx.sys.tcp_ecn == 1 {
            TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR
        } else {
            TcpFlags::SYN
        };
        sock.transmit(&mut ctx, iss, syn_flags, 0);
        sock.queues.rtx.push_back(TxSeg {
            seq: iss,
            end_seq: iss.wrapping_add(1),
            syn: true,
            fin: false,
            psh: false,
            sent_at: now,
            ever_retrans: false,
            sacked: false,
            lost: false,
            retrans: false,
        });
        sock.packets_out = 1;
        sock.rare.retrans_stamp = Some(now);
        let rto = sock.icsk_rto;
        sock.reset_xmit_timer(&ctx, XmitTimer::Retrans, rto);
        self.settle(c);
        Err(Errno::EINPROGRESS)
    }

    /// Linux: tcp_twsk_unique() — whether `connect()` may take over a time-wait 4-tuple
    /// (`tcp_tw_reuse`: 1 always, 2 on loopback; the entry older than `tcp_tw_reuse_delay`,
    /// timestamps in use). Returns the new ISN (old snd_nxt + 65537) and the TS state to keep.
    fn twsk_unique(
        &self,
        now: Instant,
        tw: &crate::timewait::TwSock,
    ) -> Option<(u32, u32, Instant)> {
        let sys = &self.config.sysctls;
        let mut reuse = sys.tcp_tw_reuse;
        if tw.substate == TcpState::FinWait2 {
            reuse = 0;
        }
        if reuse == 2 && !(tw.remote().ip().is_loopback() || tw.local().ip().is_loopback()) {
            reuse = 0;
        }
        // time_after32(tcp_clock_ms(), tw_entry_stamp + reuse_thresh)
        let deadline = tw.entry_stamp.wrapping_add(sys.tcp_tw_reuse_delay);
        let old_enough = (deadline.wrapping_sub(crate::timewait::clock_ms(now)) as i32) < 0;
        if !tw.tstamp_ok || reuse == 0 || !old_enough {
            return None;
        }
        let mut seq = tw.snd_nxt.wrapping_add(65535 + 2);
        if seq == 0 {
            seq = 1;
        }
        let stamp = Instant::from_secs(u64::from(tw.ts_recent_stamp));
        Some((seq, tw.ts_recent, stamp))
    }

    fn conn_of(&self, fd: Fd) -> Result<usize, Errno> {
        match self.fds.get(&fd) {
            Some(FdKind::Conn(c)) => Ok(*c),
            Some(_) => Err(Errno::ENOTCONN),
            None => Err(Errno::EBADF),
        }
    }

    /// `send()`/`write()`: queues what fits in the send buffer; `Err(EAGAIN)` when full.
    pub fn send(&mut self, now: Instant, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let c = match self.fds.get(&fd) {
            Some(FdKind::Conn(c)) => *c,
            Some(FdKind::Fresh(_) | FdKind::Listener(_)) => return Err(Errno::EPIPE),
            None => return Err(Errno::EBADF),
        };
        if let Some(sock) = self.conns.get_mut(c)
            && !data.is_empty()
        {
            sock.provision(&mut self.spare, false, true);
        }
        let (mut ctx, conns) = self.ctx(now);
        let sock = conns.get_mut(c).ok_or(Errno::EBADF)?;
        if let Some(e) = sock.take_sk_err() {
            sock.rare.err_reported = true;
            return Err(e);
        }
        if sock.snd_shutdown || sock.state == TcpState::Close {
            return Err(Errno::EPIPE);
        }
        if matches!(sock.state, TcpState::SynSent | TcpState::SynRecv) {
            return Err(Errno::EAGAIN);
        }
        let cap = sock.sndbuf_limit(&ctx) as usize;
        let room = cap.saturating_sub(sock.queues.sndbuf.len());
        if room == 0 {
            return Err(Errno::EAGAIN);
        }
        let n = room.min(data.len());
        if n == 0 {
            return Ok(0);
        }
        // Linux: tcp_skb_entail() checks for slow start after idle on every new skb.
        sock.slow_start_after_idle_check(&ctx);
        sock.queues.sndbuf.extend(&data[..n]);
        // Linux: tcp_send_mss() — skbs are built in size_goal chunks; tcplab sends MSS-sized
        // segments (no TSO/GSO), so the size goal is the current MSS.
        let size_goal = sock.current_mss(&ctx);
        sock.queue_write(n as u32, size_goal);
        sock.write_xmit(&mut ctx, false);
        self.settle(c);
        Ok(n)
    }

    /// `recv()`/`read()`: `Ok(0)` is end of stream; `Err(EAGAIN)` means nothing yet.
    pub fn recv(&mut self, now: Instant, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        let c = match self.fds.get(&fd) {
            Some(FdKind::Conn(c)) => *c,
            Some(_) => return Err(Errno::ENOTCONN),
            None => return Err(Errno::EBADF),
        };
        let (mut ctx, conns) = self.ctx(now);
        let sock = conns.get_mut(c).ok_or(Errno::EBADF)?;
        if !sock.queues.rcvbuf.is_empty() {
            let n = buf.len().min(sock.queues.rcvbuf.len());
            // Two slice copies (the ring may wrap), then the bytes leave the ring.
            let (head, tail) = sock.queues.rcvbuf.as_slices();
            let k = n.min(head.len());
            buf[..k].copy_from_slice(&head[..k]);
            buf[k..n].copy_from_slice(&tail[..n - k]);
            sock.queues.rcvbuf.drain(..n);
            sock.copied_seq = sock.copied_seq.wrapping_add(n as u32);
            sock.uncharge_read(n as u32);
            sock.rcv_space_adjust(&ctx);
            sock.cleanup_rbuf(&mut ctx, n);
            self.settle(c);
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(e) = sock.take_sk_err() {
            sock.rare.err_reported = true;
            return Err(e);
        }
        if sock.rcv_shutdown || sock.fin_received || sock.state == TcpState::Close {
            return Ok(0);
        }
        if sock.state == TcpState::SynSent {
            return Err(Errno::EAGAIN);
        }
        Err(Errno::EAGAIN)
    }

    /// `shutdown()`.
    pub fn shutdown(&mut self, now: Instant, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        let c = self.conn_of(fd)?;
        let (mut ctx, conns) = self.ctx(now);
        let sock = conns.get_mut(c).ok_or(Errno::EBADF)?;
        if matches!(sock.state, TcpState::Close) {
            return Err(Errno::ENOTCONN);
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            sock.rcv_shutdown = true;
        }
        let mut disp = Disposition::Keep;
        if matches!(how, Shutdown::Write | Shutdown::Both) && !sock.snd_shutdown {
            sock.snd_shutdown = true;
            disp = close_state_and_fin(sock, &mut ctx);
        }
        self.finish(now, c, disp);
        Ok(())
    }

    /// `close()` that never waits: Linux's close with a zero timeout, which is what a process
    /// gets with SO_LINGER off or {1, 0}, and with any SO_LINGER when it is exiting
    /// (inet_release() passes no timeout under PF_EXITING). The connection lives on as an
    /// orphan until its protocol ends. [`Stack::close_blocking`] is `close()` as a running
    /// process makes it.
    pub fn close(&mut self, now: Instant, fd: Fd) -> Result<(), Errno> {
        let kind = self.fds.remove(&fd).ok_or(Errno::EBADF)?;
        self.free_fd_number(fd);
        self.leave_fresh(&kind);
        match kind {
            FdKind::Fresh(_) => Ok(()),
            FdKind::Listener(l) => {
                self.close_listener(now, l);
                Ok(())
            }
            FdKind::Conn(c) => {
                let (mut ctx, conns) = self.ctx(now);
                let Some(sock) = conns.get_mut(c) else {
                    return Ok(());
                };
                sock.fd = None;
                if sock.rare.listener.is_none() {
                    sock.rare.counted_orphan = true;
                    ctx.out.orphans += 1;
                }
                let disp = tcp_close(sock, &mut ctx);
                self.finish(now, c, disp);
                Ok(())
            }
        }
    }

    /// `close()` as a running process makes it. With SO_LINGER {1, t>0} Linux's close()
    /// sleeps (inet_release() passes `sk_lingertime` = t·HZ to tcp_close(), and
    /// sk_stream_wait_close() waits) while the connection is in FIN_WAIT1, CLOSING or
    /// LAST_ACK, for at most t seconds, and returns 0 either way; only then is the socket
    /// orphaned and the rest of __tcp_close() run (FIN_WAIT2's linger2 timer, the orphan
    /// check). O_NONBLOCK makes no difference: nothing on that path looks at it.
    ///
    /// Returns `Err(EAGAIN)` while the call is still sleeping: the FIN is out, the descriptor
    /// is gone for every other call (EBADF) but its number stays taken; call again with the
    /// same `fd` after later inputs (the end of the linger time is in
    /// [`Stack::poll_timeout`]) until it returns `Ok(())`. Without a wait it is
    /// [`Stack::close`].
    pub fn close_blocking(&mut self, now: Instant, fd: Fd) -> Result<(), Errno> {
        match self.lingering.get(&fd) {
            Some(Linger::Returned) => {
                self.lingering.remove(&fd);
                self.free_fd_number(fd);
                return Ok(());
            }
            Some(Linger::Waiting { .. }) => return Err(Errno::EAGAIN),
            None => {}
        }
        let c = match self.fds.get(&fd) {
            Some(FdKind::Conn(c)) => *c,
            _ => return self.close(now, fd),
        };
        let linger = self.conns.get(c).and_then(|s| s.opts.linger);
        let Some(secs) = linger.filter(|&t| t > 0) else {
            return self.close(now, fd);
        };
        self.fds.remove(&fd);
        // The number stays taken while the close sleeps (it goes into `lingering` below),
        // but lowering the hint is always safe.
        self.free_fd_number(fd);
        let (mut ctx, conns) = self.ctx(now);
        let Some(sock) = conns.get_mut(c) else {
            return Ok(());
        };
        sock.fd = None;
        let disp = tcp_close_begin(sock, &mut ctx);
        if disp != Disposition::Keep || !sk_stream_closing(sock.state) {
            // sk_wait_event() finds the condition true at once: no sleep.
            if sock.rare.listener.is_none() {
                sock.rare.counted_orphan = true;
                ctx.out.orphans += 1;
            }
            let disp = if disp == Disposition::Keep {
                adjudge_to_death(sock, &mut ctx)
            } else {
                disp
            };
            self.finish(now, c, disp);
            return Ok(());
        }
        // Linux: sock_setsockopt(SO_LINGER) stores l_linger * HZ; the sleep ends on a timer.
        let expires = ctx.expires(u64::from(secs) * u64::from(ctx.hz.0));
        let fires = ctx.fires(expires);
        sock.rare.linger_until = Some(fires);
        let timer = self.arm(fires, super::TimerRef::Linger(fd));
        self.lingering
            .insert(fd, Linger::Waiting { conn: c, timer });
        self.settle(c);
        Err(Errno::EAGAIN)
    }

    /// The lingering close() of connection `c` wakes up (Linux: sk_stream_wait_close()
    /// returns): the socket is orphaned and __tcp_close() goes on at `adjudge_to_death`;
    /// `disp` is what the socket's last step asked for.
    pub(super) fn linger_return(&mut self, now: Instant, c: usize, disp: Disposition) {
        let waiting = self.lingering.iter().find_map(|(fd, l)| match l {
            Linger::Waiting { conn, timer } if *conn == c => Some((*fd, *timer)),
            _ => None,
        });
        if let Some((fd, timer)) = waiting {
            self.disarm(timer, super::TimerRef::Linger(fd));
            self.lingering.insert(fd, Linger::Returned);
        }
        let (mut ctx, conns) = self.ctx(now);
        let Some(sock) = conns.get_mut(c) else {
            return;
        };
        sock.rare.linger_until = None;
        if sock.rare.listener.is_none() {
            sock.rare.counted_orphan = true;
            ctx.out.orphans += 1;
        }
        // Linux: `if (state != TCP_CLOSE && sk->sk_state == TCP_CLOSE) goto out;` — a socket
        // that a softirq closed (or moved to TIME_WAIT) meanwhile just goes.
        let disp = if disp == Disposition::Keep {
            adjudge_to_death(sock, &mut ctx)
        } else {
            disp
        };
        self.finish(now, c, disp);
    }

    /// Linux: inet_csk_listen_stop() — children not yet accepted are reset, embryos dropped.
    fn close_listener(&mut self, now: Instant, l: usize) {
        let Some(lst) = self.listeners.remove(l) else {
            return;
        };
        if let Some(v) = self.listen_map.get_mut(&lst.local.port()) {
            v.retain(|(_, x)| *x != l);
            if v.is_empty() {
                self.listen_map.remove(&lst.local.port());
            }
        }
        let reqs: Vec<usize> = self
            .reqs
            .iter()
            .filter(|(_, r)| r.listener == l)
            .map(|(i, _)| i)
            .collect();
        for r in reqs {
            self.drop_req(r);
        }
        for c in lst.accept_queue {
            let (mut ctx, conns) = self.ctx(now);
            let Some(sock) = conns.get_mut(c) else {
                continue;
            };
            sock.rare.listener = None;
            if matches!(
                sock.state,
                TcpState::Established | TcpState::CloseWait | TcpState::SynRecv
            ) {
                sock.send_active_reset(&mut ctx);
            }
            let disp = sock.done(&mut ctx);
            self.finish(now, c, disp);
        }
    }

    /// `setsockopt()` with Linux's validation.
    pub fn setsockopt(&mut self, now: Instant, fd: Fd, opt: SockOpt) -> Result<(), Errno> {
        let rmem_max = self.config.sysctls.rmem_max;
        let wmem_max = self.config.sysctls.wmem_max;
        type Bufs<'a> = Option<(&'a mut Option<u32>, &'a mut Option<u32>)>;
        let (opts, bufs, defer): (&mut SockOpts, Bufs<'_>, &mut u8) = match self.fds.get_mut(&fd) {
            None => return Err(Errno::EBADF),
            Some(FdKind::Fresh(f)) => (
                &mut f.opts,
                Some((&mut f.sndbuf, &mut f.rcvbuf)),
                &mut f.rskq_defer_accept,
            ),
            Some(FdKind::Listener(l)) => {
                let l = *l;
                let lst = self.listeners.get_mut(l).ok_or(Errno::EBADF)?;
                (
                    &mut lst.opts,
                    Some((&mut lst.sndbuf, &mut lst.rcvbuf)),
                    &mut lst.rskq_defer_accept,
                )
            }
            Some(FdKind::Conn(c)) => {
                let c = *c;
                let (mut ctx, conns) = self.ctx(now);
                let sock = conns.get_mut(c).ok_or(Errno::EBADF)?;
                let r = set_conn_opt(sock, &mut ctx, opt, rmem_max, wmem_max);
                self.settle(c);
                return r;
            }
        };
        apply_opt(opts, opt)?;
        if let SockOpt::DeferAccept(secs) = opt {
            // Linux: do_tcp_setsockopt() — rskq_defer_accept = secs_to_retrans(val,
            // TCP_TIMEOUT_INIT / HZ, TCP_RTO_MAX / HZ), in any state.
            *defer = secs_to_retrans(secs);
        }
        if let Some((snd, rcv)) = bufs {
            match opt {
                SockOpt::SndBuf(v) => *snd = Some((v.min(wmem_max) * 2).max(SOCK_MIN_SNDBUF)),
                SockOpt::RcvBuf(v) => *rcv = Some((v.min(rmem_max) * 2).max(SOCK_MIN_RCVBUF)),
                _ => {}
            }
        }
        Ok(())
    }

    /// `getsockopt()`.
    pub fn getsockopt(&mut self, fd: Fd, name: SockOptName) -> Result<SockOpt, Errno> {
        let sys = &self.config.sysctls;
        let (opts, sndbuf, rcvbuf, sock, defer) = match self.fds.get(&fd) {
            None => return Err(Errno::EBADF),
            Some(FdKind::Fresh(f)) => (
                f.opts,
                f.sndbuf.unwrap_or(sys.tcp_wmem[1]),
                f.rcvbuf.unwrap_or(sys.tcp_rmem[1]),
                None,
                f.rskq_defer_accept,
            ),
            Some(FdKind::Listener(l)) => {
                let lst = self.listeners.get(*l).ok_or(Errno::EBADF)?;
                (
                    lst.opts,
                    lst.sndbuf.unwrap_or(sys.tcp_wmem[1]),
                    lst.rcvbuf.unwrap_or(sys.tcp_rmem[1]),
                    None,
                    lst.rskq_defer_accept,
                )
            }
            Some(FdKind::Conn(c)) => {
                let s = self.conns.get(*c).ok_or(Errno::EBADF)?;
                // An accepted child starts with an empty accept queue (Linux:
                // inet_csk_clone_lock() clears icsk_accept_queue), hence 0. tcplab keeps no
                // TCP_DEFER_ACCEPT on connected sockets, where Linux would return the value
                // set on them (it has no effect there).
                (s.opts, s.sndbuf_cap, s.rcvbuf_cap, Some(*c), 0)
            }
        };
        Ok(match name {
            SockOptName::Linger => SockOpt::Linger(opts.linger),
            SockOptName::KeepAlive => SockOpt::KeepAlive(opts.keepalive),
            SockOptName::RcvBuf => SockOpt::RcvBuf(rcvbuf),
            SockOptName::SndBuf => SockOpt::SndBuf(sndbuf),
            SockOptName::ReuseAddr => SockOpt::ReuseAddr(opts.reuseaddr),
            SockOptName::NoDelay => SockOpt::NoDelay(opts.nodelay),
            SockOptName::KeepIdle => {
                SockOpt::KeepIdle(opts.keepidle().unwrap_or(sys.tcp_keepalive_time))
            }
            SockOptName::KeepIntvl => {
                SockOpt::KeepIntvl(opts.keepintvl().unwrap_or(sys.tcp_keepalive_intvl))
            }
            SockOptName::KeepCnt => SockOpt::KeepCnt(
                opts.keepcnt()
                    .unwrap_or(u32::from(sys.tcp_keepalive_probes)),
            ),
            SockOptName::UserTimeout => SockOpt::UserTimeout(opts.user_timeout_ms),
            SockOptName::Linger2 => SockOpt::Linger2(if opts.linger2 == 0 {
                sys.tcp_fin_timeout as i32
            } else {
                i32::from(opts.linger2)
            }),
            SockOptName::SynCnt => SockOpt::SynCnt(u32::from(if opts.syncnt == 0 {
                sys.tcp_syn_retries
            } else {
                opts.syncnt
            })),
            SockOptName::QuickAck => {
                let pp = sock
                    .and_then(|c| self.conns.get(c))
                    .is_some_and(|s| s.in_pingpong(sys.tcp_pingpong_thresh));
                SockOpt::QuickAck(u32::from(!pp))
            }
            SockOptName::MaxSeg => SockOpt::MaxSeg(match sock.and_then(|c| self.conns.get(c)) {
                Some(s) if s.state != TcpState::Close && s.state != TcpState::SynSent => {
                    s.mss_cache
                }
                _ => {
                    if opts.user_mss != 0 {
                        u32::from(opts.user_mss)
                    } else {
                        536
                    }
                }
            }),
            // Linux: do_tcp_getsockopt() — retrans_to_secs(rskq_defer_accept, …).
            SockOptName::DeferAccept => SockOpt::DeferAccept(retrans_to_secs(defer)),
            SockOptName::Error => {
                let err = sock
                    .and_then(|c| self.conns.get_mut(c))
                    .and_then(|s| s.take_sk_err())
                    .map_or(0, |e| e as i32);
                SockOpt::Error(err)
            }
        })
    }
}

/// Validates and stores an option in a socket's option block.
fn apply_opt(opts: &mut SockOpts, opt: SockOpt) -> Result<(), Errno> {
    match opt {
        SockOpt::Linger(v) => opts.linger = v,
        SockOpt::KeepAlive(v) => opts.keepalive = v,
        SockOpt::RcvBuf(_) => opts.rcvbuf_locked = true,
        SockOpt::SndBuf(_) => opts.sndbuf_locked = true,
        SockOpt::ReuseAddr(v) => opts.reuseaddr = v,
        SockOpt::NoDelay(v) => opts.nodelay = v,
        SockOpt::KeepIdle(v) => {
            if !(1..=MAX_TCP_KEEPIDLE).contains(&v) {
                return Err(Errno::EINVAL);
            }
            opts.keepidle = NonZeroU16::new(v as u16); // 1..=32767: lossless
        }
        SockOpt::KeepIntvl(v) => {
            if !(1..=MAX_TCP_KEEPINTVL).contains(&v) {
                return Err(Errno::EINVAL);
            }
            opts.keepintvl = NonZeroU16::new(v as u16); // 1..=32767: lossless
        }
        SockOpt::KeepCnt(v) => {
            if !(1..=MAX_TCP_KEEPCNT).contains(&v) {
                return Err(Errno::EINVAL);
            }
            opts.keepcnt = NonZeroU8::new(v as u8); // 1..=127: lossless
        }
        SockOpt::UserTimeout(v) => {
            if v > i32::MAX as u32 {
                return Err(Errno::EINVAL);
            }
            opts.user_timeout_ms = v;
        }
        SockOpt::Linger2(v) => {
            // Linux: negative means abort at close; above TCP_FIN_TIMEOUT_MAX it is clamped.
            opts.linger2 = if v < 0 { -1 } else { v.min(120) as i8 };
        }
        SockOpt::SynCnt(v) => {
            if !(1..=MAX_TCP_SYNCNT).contains(&v) {
                return Err(Errno::EINVAL);
            }
            opts.syncnt = v as u8;
        }
        // Linux: __tcp_sock_set_quickack() works in any state; 0 enters pingpong mode.
        SockOpt::QuickAck(v) => opts.pingpong = v == 0,
        SockOpt::MaxSeg(v) => {
            if v != 0 && !(88..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            opts.user_mss = v as u16;
        }
        // Kept beside the option block by listeners and fresh sockets (setsockopt()).
        SockOpt::DeferAccept(_) => {}
        SockOpt::Error(_) => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

/// setsockopt on a connected socket: store, then apply what takes effect at once.
fn set_conn_opt(
    sock: &mut crate::socket::Sock,
    ctx: &mut Ctx<'_>,
    opt: SockOpt,
    rmem_max: u32,
    wmem_max: u32,
) -> Result<(), Errno> {
    let was_keepalive = sock.opts.keepalive;
    apply_opt(&mut sock.opts, opt)?;
    let live = !matches!(sock.state, TcpState::Close | TcpState::Listen);
    match opt {
        SockOpt::KeepAlive(on) => {
            // Linux: tcp_set_keepalive() arms the timer only when keepalive turns on.
            if on && !was_keepalive && live {
                let when = sock.keepalive_time(ctx);
                sock.reset_keepalive(ctx, when);
            } else if !on && (sock.state != TcpState::FinWait2 || !sock.is_orphan()) {
                sock.clear_slot(crate::socket::Slot::Sk);
            }
        }
        SockOpt::KeepIdle(_) if sock.opts.keepalive && live => {
            // Linux: tcp_sock_set_keepidle_locked() re-arms for what is left of the idle time.
            let idle = sock.keepalive_time(ctx);
            let last = sock.stats.last_ack_recv.max(sock.stats.last_data_recv);
            let elapsed = ctx.jiffies().saturating_sub(ctx.hz.jiffies_at(last));
            sock.reset_keepalive(ctx, idle.saturating_sub(elapsed));
        }
        SockOpt::NoDelay(true) => {
            sock.write_xmit(ctx, false);
        }
        SockOpt::QuickAck(v) => {
            let thresh = ctx.sys.tcp_pingpong_thresh;
            if v == 0 {
                sock.ack.pingpong = thresh;
            } else {
                sock.ack.pingpong = 0;
                if matches!(sock.state, TcpState::Established | TcpState::CloseWait)
                    && sock.ack_scheduled()
                {
                    sock.send_ack(ctx);
                }
                if v & 1 == 0 {
                    sock.ack.pingpong = thresh;
                }
            }
        }
        SockOpt::SndBuf(v) => sock.sndbuf_cap = (v.min(wmem_max) * 2).max(SOCK_MIN_SNDBUF),
        SockOpt::RcvBuf(v) => sock.rcvbuf_cap = (v.min(rmem_max) * 2).max(SOCK_MIN_RCVBUF),
        _ => {}
    }
    Ok(())
}

/// Linux: tcp_close_state() and tcp_send_fin() — the next state when our side closes.
fn close_state_and_fin(sock: &mut crate::socket::Sock, ctx: &mut Ctx<'_>) -> Disposition {
    let (next, fin) = match sock.state {
        TcpState::Established | TcpState::SynRecv => (TcpState::FinWait1, true),
        TcpState::CloseWait => (TcpState::LastAck, true),
        TcpState::SynSent | TcpState::TimeWait | TcpState::Close | TcpState::Listen => {
            (TcpState::Close, false)
        }
        s => (s, false),
    };
    if next == TcpState::Close {
        return sock.done(ctx);
    }
    sock.set_state(ctx, next);
    if fin {
        sock.send_fin(ctx);
    }
    Disposition::Keep
}

/// Linux: sk_stream_closing() in net/core/stream.c — the states a lingering close() waits in.
pub(super) fn sk_stream_closing(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::FinWait1 | TcpState::Closing | TcpState::LastAck
    )
}

/// Linux: __tcp_close() with a zero timeout (no SO_LINGER wait).
fn tcp_close(sock: &mut crate::socket::Sock, ctx: &mut Ctx<'_>) -> Disposition {
    let disp = tcp_close_begin(sock, ctx);
    if disp != Disposition::Keep {
        return disp;
    }
    adjudge_to_death(sock, ctx)
}

/// Linux: __tcp_close() up to sk_stream_wait_close(): unread data resets, SO_LINGER {1, 0}
/// aborts, otherwise the FIN is queued.
fn tcp_close_begin(sock: &mut crate::socket::Sock, ctx: &mut Ctx<'_>) -> Disposition {
    sock.rcv_shutdown = true;
    sock.snd_shutdown = true;
    if sock.state == TcpState::Close {
        return Disposition::Done;
    }
    let unread = !sock.queues.rcvbuf.is_empty() || !sock.queues.ofo.is_empty();
    if unread {
        // RFC 2525 §2.17: closing with unread data resets the connection.
        sock.set_state(ctx, TcpState::Close);
        sock.send_active_reset(ctx);
        return sock.done(ctx);
    } else if sock.opts.linger == Some(0) {
        // Linux: tcp_disconnect() — abort with RST where the peer has a connection.
        if matches!(
            sock.state,
            TcpState::Established
                | TcpState::CloseWait
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::SynRecv
        ) || (sock.snd_nxt != sock.write_seq
            && matches!(sock.state, TcpState::Closing | TcpState::LastAck))
        {
            sock.send_active_reset(ctx);
        }
        return sock.done(ctx);
    }
    close_state_and_fin(sock, ctx)
}

/// Linux: __tcp_close() from `adjudge_to_death` on, for a socket that is still there: an
/// orphan in FIN_WAIT2 gets the linger2 timer (or goes to TIME_WAIT, or resets with
/// linger2 < 0), then tcp_check_oom().
fn adjudge_to_death(sock: &mut crate::socket::Sock, ctx: &mut Ctx<'_>) -> Disposition {
    if sock.state == TcpState::FinWait2 {
        if sock.opts.linger2 < 0 {
            sock.send_active_reset(ctx);
            return sock.done(ctx);
        }
        let tmo = sock.fin_time(ctx);
        let twlen = u64::from(ctx.hz.0) * 60;
        if tmo > twlen {
            sock.reset_keepalive(ctx, tmo - twlen);
        } else {
            return sock.enter_time_wait(ctx, TcpState::FinWait2);
        }
    }
    // Linux: tcp_check_oom().
    if sock.state != TcpState::Close && ctx.out.orphan_cache > ctx.sys.tcp_max_orphans {
        sock.set_state(ctx, TcpState::Close);
        sock.send_active_reset(ctx);
        return sock.done(ctx);
    }
    Disposition::Keep
}

impl crate::socket::Sock {
    /// The send buffer's size: SO_SNDBUF when set, else grown with the congestion window as
    /// Linux's tcp_sndbuf_expand() does (two windows' worth), up to tcp_wmem[2].
    pub fn sndbuf_limit(&self, ctx: &Ctx<'_>) -> u32 {
        if self.opts.sndbuf_locked {
            // Linux counts skb overhead against sk_sndbuf; half of it holds payload.
            return self.sndbuf_cap / 2;
        }
        let per_mss = self.mss_cache.max(1);
        let cwnd = self.cc.snd_cwnd.max(crate::cc::TCP_INIT_CWND);
        let want = 2u64 * u64::from(per_mss) * u64::from(cwnd) * 2;
        (want.max(u64::from(self.sndbuf_cap)) as u32).min(ctx.sys.tcp_wmem[2])
    }
}
