//! The socket program's named sockets: each line's call waits its turn on its socket, as
//! in the simulator's interpreter (crates/sim/src/run.rs), then runs on the host thread.

use super::*;

impl<N: Net> Host<N> {
    /// Runs the socket program's commands whose turn has come, until nothing changes.
    pub(super) fn settle(&mut self) {
        loop {
            self.bind_accepts();
            if !self.pump_slots() {
                break;
            }
        }
    }

    fn bind_accepts(&mut self) {
        let listeners: Vec<usize> = self.waiters.keys().copied().collect();
        for l in listeners {
            while !self.recs[l].accepted.is_empty()
                && self.waiters.get(&l).is_some_and(|w| !w.is_empty())
            {
                let (Some(conn), Some(name)) = (
                    self.recs[l].accepted.pop_front(),
                    self.waiters.get_mut(&l).and_then(VecDeque::pop_front),
                ) else {
                    break;
                };
                let slot = self.slots.entry(name).or_default();
                slot.rec = Some(conn);
                slot.blocked = None;
            }
        }
        self.waiters.retain(|_, w| !w.is_empty());
    }

    fn prog_sock(&self, rec: usize) -> Option<(usize, u32, &Sock<N::Sock>)> {
        let p = self.prog?;
        self.procs[p]
            .socks
            .iter()
            .find(|(_, s)| s.rec == rec)
            .map(|(&vfd, s)| (p, vfd, s))
    }

    fn still_blocked(&self, b: Block, rec: Option<usize>) -> bool {
        let s = rec.and_then(|r| self.prog_sock(r)).map(|x| x.2);
        match b {
            Block::Accept => true,
            Block::Connect => s.is_some_and(|s| s.connecting),
            Block::Write => s.is_some_and(|s| s.to_send > 0 && s.error.is_none()),
        }
    }

    fn pump_slots(&mut self) -> bool {
        let mut progress = false;
        let names: Vec<String> = self.slots.keys().cloned().collect();
        for name in names {
            while let Some((blocked, rec)) = self.slots.get(&name).map(|s| (s.blocked, s.rec)) {
                if let Some(b) = blocked {
                    if self.still_blocked(b, rec) {
                        break;
                    }
                    if let Some(s) = self.slots.get_mut(&name) {
                        s.blocked = None;
                    }
                }
                let Some((span, op)) = self.slots.get_mut(&name).and_then(|s| s.queue.pop_front())
                else {
                    break;
                };
                progress = true;
                let block = self.exec(&name, span, op);
                if let Some(s) = self.slots.get_mut(&name) {
                    s.blocked = block;
                }
                self.bind_accepts();
            }
        }
        progress
    }

    /// The open descriptor behind a slot, for commands other than connect/listen/accept.
    fn open_fd(&mut self, name: &str, span: Span, op: &OpKind) -> Option<(usize, u32)> {
        let rec = self.slots.get(name).and_then(|s| s.rec);
        let Some(r) = rec else {
            self.warn(
                span,
                format!(
                    "{} {name}: the socket does not exist (an earlier call on it failed)",
                    op.name()
                ),
            );
            return None;
        };
        match self.prog_sock(r) {
            Some((p, vfd, _)) if self.recs[r].open => Some((p, vfd)),
            _ => {
                self.warn(
                    span,
                    format!(
                        "{} {name}: the socket is closed; expected a command before `close {name}`",
                        op.name()
                    ),
                );
                None
            }
        }
    }

    fn exec(&mut self, name: &str, span: Span, op: OpKind) -> Option<Block> {
        let p = self.program();
        let v6 = self.host_v6();
        let existing = self
            .slots
            .get(name)
            .and_then(|s| s.rec)
            .filter(|&r| self.recs[r].open)
            .and_then(|r| self.prog_sock(r).map(|x| x.1));
        let set_rec = |h: &mut Host<N>, vfd: Option<u32>| {
            let rec = vfd.and_then(|v| h.sock(p, v)).map(|s| s.rec);
            if let Some(s) = h.slots.get_mut(name) {
                s.rec = rec;
            }
        };
        match op {
            OpKind::Socket => {
                let vfd = self.new_socket(p, v6);
                set_rec(self, vfd);
                None
            }
            OpKind::Connect(dst) => {
                let vfd = existing.or_else(|| self.new_socket(p, dst.is_ipv6()));
                set_rec(self, vfd);
                self.connect(p, vfd?, dst)
            }
            OpKind::Listen {
                addr,
                port,
                backlog,
            } => {
                let vfd = existing.or_else(|| self.new_socket(p, addr.map_or(v6, |a| a.is_ipv6())));
                set_rec(self, vfd);
                let local = SocketAddr::new(addr.unwrap_or(any_addr(v6)), port);
                let backlog = backlog.map_or(128, |b| i32::try_from(b).unwrap_or(i32::MAX));
                self.bind_listen(p, vfd?, local, backlog);
                None
            }
            OpKind::Accept { listener } => {
                let lrec = self
                    .slots
                    .get(&listener)
                    .and_then(|s| s.rec)
                    .filter(|&r| self.recs[r].open);
                match lrec {
                    Some(l) => {
                        self.waiters
                            .entry(l)
                            .or_default()
                            .push_back(name.to_string());
                        Some(Block::Accept)
                    }
                    None => {
                        self.warn(
                            span,
                            format!("accept {listener}: `{listener}` is not a listening socket (its listen failed or it was closed)"),
                        );
                        None
                    }
                }
            }
            OpKind::Write(bytes) => {
                let (p, vfd) = self.open_fd(name, span, &OpKind::Write(bytes))?;
                if let Some(s) = self.sock_mut(p, vfd) {
                    s.to_send += bytes;
                }
                self.pump_send(p, vfd);
                Some(Block::Write)
            }
            OpKind::Read(on) => {
                let (p, vfd) = self.open_fd(name, span, &OpKind::Read(on))?;
                if let Some(s) = self.sock_mut(p, vfd) {
                    s.reading = on;
                }
                if on {
                    self.pump_read(p, vfd);
                }
                None
            }
            OpKind::Shutdown(how) => {
                let (p, vfd) = self.open_fd(name, span, &OpKind::Shutdown(how))?;
                let word = match how {
                    Shutdown::Read => "SHUT_RD",
                    Shutdown::Write => "SHUT_WR",
                    Shutdown::Both => "SHUT_RDWR",
                };
                self.begin();
                let s = self.procs.get(p)?.socks.get(&vfd)?;
                let res = self.net.shutdown(&s.fd, how);
                self.record_call(p, "shutdown", format!("{vfd}, {word}"), res.map(|()| 0));
                None
            }
            OpKind::Close => {
                let (p, vfd) = self.open_fd(name, span, &OpKind::Close)?;
                self.close_fd(p, vfd);
                None
            }
            OpKind::SetOpt(opt) => {
                let (p, vfd) = self.open_fd(name, span, &OpKind::SetOpt(opt))?;
                self.begin();
                let s = self.procs.get(p)?.socks.get(&vfd)?;
                let res = self.net.setsockopt(&s.fd, opt);
                self.record_call(p, "setsockopt", format!("{vfd}, {opt:?}"), res.map(|()| 0));
                None
            }
        }
    }
}
