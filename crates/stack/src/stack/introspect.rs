//! What the stack shows of itself: the invariant checks the tests run after every step, and
//! `tcp_info` and the socket table that `ss`, `netstat` and the timeline read.

use super::*;

impl Stack {
    /// Checks the stack's internal consistency; tests call it after every step. Returns the
    /// first broken invariant as a sentence.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut bound = BTreeMap::new();
        for k in self.fds.values() {
            if let FdKind::Fresh(f) = k
                && let Some(b) = f.bound
            {
                *bound.entry(b.port()).or_insert(0u32) += 1;
            }
        }
        if bound != self.fresh_bound {
            return Err(format!(
                "bound unconnected sockets {bound:?} but the port index says {:?}",
                self.fresh_bound
            ));
        }
        if let Some(n) = (3..self.fd_hint)
            .find(|&n| !self.fds.contains_key(&Fd(n)) && !self.lingering.contains_key(&Fd(n)))
        {
            return Err(format!(
                "descriptor {n} is free but below the allocation hint"
            ));
        }
        for (c, s) in self.conns.iter() {
            let at =
                |what: &str| format!("socket {} > {} ({:?}): {what}", s.local, s.remote, s.state);
            if crate::seq::after(s.snd_una, s.snd_nxt) {
                return Err(at("snd_una is after snd_nxt"));
            }
            if s.packets_out as usize != s.queues.rtx.len() {
                return Err(at(&format!(
                    "packets_out {} but {} queued",
                    s.packets_out,
                    s.queues.rtx.len()
                )));
            }
            let sacked = s.queues.rtx.iter().filter(|x| x.sacked).count() as u32;
            let lost = s.queues.rtx.iter().filter(|x| x.lost).count() as u32;
            let retrans = s.queues.rtx.iter().filter(|x| x.retrans).count() as u32;
            if (sacked, lost, retrans)
                != (
                    s.recovery.sacked_out,
                    s.recovery.lost_out,
                    s.recovery.retrans_out,
                )
            {
                return Err(at(&format!(
                    "scoreboard counts sacked/lost/retrans {:?} != queue {:?}",
                    (
                        s.recovery.sacked_out,
                        s.recovery.lost_out,
                        s.recovery.retrans_out
                    ),
                    (sacked, lost, retrans)
                )));
            }
            if let Some(head) = s.queues.rtx.front()
                && head.seq != s.snd_una
                && !crate::seq::before(head.seq, s.snd_una)
            {
                return Err(at("retransmission queue does not start at snd_una"));
            }
            let charged: u64 = s
                .queues
                .rcv_chunks
                .iter()
                .map(|c| u64::from(c.1))
                .sum::<u64>()
                + s.queues.ofo_truesize;
            if charged != s.queues.rmem_alloc {
                return Err(at(&format!(
                    "rmem_alloc {} but {charged} charged",
                    s.queues.rmem_alloc
                )));
            }
            let unread: u64 = s.queues.rcv_chunks.iter().map(|c| u64::from(c.0)).sum();
            if unread != s.queues.rcvbuf.len() as u64 {
                return Err(at(&format!(
                    "{unread} bytes charged, {} queued",
                    s.queues.rcvbuf.len()
                )));
            }
            let written = s.write_seq.wrapping_sub(s.sndbuf_seq) as usize;
            if written != s.queues.sndbuf.len() {
                return Err(at(&format!(
                    "send buffer holds {} bytes, sequence says {written}",
                    s.queues.sndbuf.len()
                )));
            }
            if s.rcv_nxt.wrapping_sub(s.copied_seq) as usize
                != s.queues.rcvbuf.len()
                    + usize::from(s.fin_received && !matches!(s.state, TcpState::SynSent))
                && s.state != TcpState::Close
            {
                return Err(at(&format!(
                    "receive queue holds {} bytes but rcv_nxt - copied_seq = {}",
                    s.queues.rcvbuf.len(),
                    s.rcv_nxt.wrapping_sub(s.copied_seq)
                )));
            }
            if s.state != TcpState::Close && s.state != TcpState::Listen {
                match self.tuple_get(s.local, s.remote) {
                    Some(ConnRef::Conn(x)) if x == c => {}
                    other => return Err(at(&format!("4-tuple map points to {other:?}"))),
                }
            } else if s.slots.iter().any(Option::is_some) {
                return Err(at("a closed socket has a timer armed"));
            }
            let armed = self.conn_armed.get(c);
            for (i, (slot, id)) in s.slots.iter().zip(armed).enumerate() {
                let queued = id.and_then(|id| self.timers.get(id));
                if *slot != queued.map(|(at, _)| at)
                    || queued.is_some_and(|(_, r)| r != TimerRef::Conn(c as u32, i as u8))
                {
                    return Err(at(&format!(
                        "slot {i} is {slot:?} but the queue has {queued:?}"
                    )));
                }
            }
        }
        let orphans = self
            .conns
            .iter()
            .filter(|(_, s)| s.rare.counted_orphan)
            .count() as u32;
        if orphans != self.out.orphans {
            return Err(format!(
                "orphan count {} but {orphans} orphans",
                self.out.orphans
            ));
        }
        for r in self.tuples.refs() {
            let Some((local, remote)) = self.records().tuple(r) else {
                return Err(format!("a 4-tuple leads to a missing {r:?}"));
            };
            // Found again through its own addresses: hashed where they say, and the only entry.
            let found = self.tuple_get(local, remote);
            if found != Some(r) {
                return Err(format!(
                    "4-tuple {local} > {remote} leads to {found:?}, not to its {r:?}"
                ));
            }
        }
        self.timers.check()?;
        for (at, r) in self.timers.iter() {
            let (at, r) = (&at, &r);
            let live = match r {
                TimerRef::Conn(c, slot) => self
                    .conns
                    .get(*c as usize)
                    .is_some_and(|s| s.slots[*slot as usize] == Some(*at)),
                TimerRef::Req(x) => self
                    .reqs
                    .get(*x as usize)
                    .is_some_and(|s| s.timer == Some(*at)),
                TimerRef::Tw(x) => self
                    .tws
                    .get(*x as usize)
                    .is_some_and(|s| self.armed_at(s.armed, *r) == Some(*at)),
                TimerRef::Linger(fd) => matches!(
                    self.lingering.get(fd),
                    Some(Linger::Waiting { conn, timer }) if self.timers.get(*timer).is_some_and(|t| t.0 == *at)
                        && self.conns.get(*conn).is_some_and(|s| s.rare.linger_until == Some(*at))
                ),
            };
            if !live {
                return Err(format!("timer {r:?} at {at} belongs to nothing"));
            }
        }
        Ok(())
    }
}

impl Stack {
    /// `getsockopt(TCP_INFO)`.
    pub fn tcp_info(
        &self,
        now: Instant,
        fd: Fd,
    ) -> Result<crate::info::TcpInfo, crate::errno::Errno> {
        match self.fds.get(&fd) {
            Some(FdKind::Conn(c)) => self
                .conns
                .get(*c)
                .map(|s| s.tcp_info(now, self.config.hz))
                .ok_or(crate::errno::Errno::EBADF),
            Some(FdKind::Listener(_)) => Ok(crate::info::TcpInfo {
                tcpi_state: TcpState::Listen as u8,
                ..Default::default()
            }),
            Some(FdKind::Fresh(_)) => Ok(crate::info::TcpInfo {
                tcpi_state: TcpState::Close as u8,
                ..Default::default()
            }),
            None => Err(crate::errno::Errno::EBADF),
        }
    }

    /// The socket table as `ss -tanoi` shows it: listeners, request sockets, full sockets
    /// (including orphans) and time-wait records, in a stable order (by local then peer
    /// address).
    pub fn sockets(&self, now: Instant) -> Vec<crate::ss::SocketEntry> {
        use crate::ss::{SocketEntry, TimerKind, TimerView};
        let remaining = |at: Instant| (at - now).as_millis() as u64;
        let mut v = Vec::new();
        for (_, l) in self.listeners.iter() {
            v.push(SocketEntry {
                state: TcpState::Listen,
                recv_q: l.accept_queue.len() as u32,
                send_q: l.max_ack_backlog,
                local: l.local,
                peer: None,
                timer: None,
                fd: Some(l.fd),
                process: None,
                info: None,
            });
        }
        for (_, r) in self.reqs.iter() {
            v.push(SocketEntry {
                state: TcpState::SynRecv,
                recv_q: 0,
                send_q: 0,
                local: r.local(),
                peer: Some(r.remote()),
                timer: r.expires.map(|at| TimerView {
                    kind: TimerKind::On,
                    expires_ms: remaining(at),
                    count: r.num_retrans,
                    probes: 0,
                }),
                fd: None,
                process: None,
                info: None,
            });
        }
        for (_, s) in self.conns.iter() {
            // Linux unhashes a socket in tcp_done(): a descriptor may still hold it, but
            // inet_diag no longer sees it.
            if s.state == TcpState::Close {
                continue;
            }
            v.push(SocketEntry {
                state: s.state,
                recv_q: s.recv_q(),
                send_q: s.send_q(),
                local: s.local,
                peer: Some(s.remote),
                timer: s.timer_view(now),
                fd: s.fd,
                process: None,
                info: Some(s.info_view(now, self.config.hz)),
            });
        }
        for (_, t) in self.tws.iter() {
            v.push(SocketEntry {
                state: t.substate,
                recv_q: 0,
                send_q: 0,
                local: t.local(),
                peer: Some(t.remote()),
                timer: Some(TimerView {
                    kind: TimerKind::TimeWait,
                    expires_ms: remaining(t.expires),
                    count: 0,
                    probes: 0,
                }),
                fd: None,
                process: None,
                info: None,
            });
        }
        v.sort_by_key(|a| (a.local, a.peer));
        v
    }
}
