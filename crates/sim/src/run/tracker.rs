//! Descriptors followed through the timeline: which `socket` or `accept` call made each one,
//! its 4-tuple, its last failed call, until its `close`.

use super::*;

/// One descriptor of one process, from the `socket` or `accept` call that made it until its
/// `close`: what the assertions need to know about it after the descriptor is gone.
#[derive(Clone, Debug)]
pub(super) struct DescRec {
    pub(super) host: String,
    pub(super) pid: u32,
    pub(super) fd: u32,
    pub(super) open: bool,
    /// Made by `accept`, or `connect` was called on it.
    pub(super) conn: bool,
    /// The 4-tuple is to be looked up in the socket table while the descriptor is open.
    pub(super) need_tuple: bool,
    pub(super) local: Option<SocketAddr>,
    pub(super) peer: Option<SocketAddr>,
    pub(super) last_err: Option<(Errno, Instant)>,
    /// Connections accepted on this listener that no `accept` line has taken yet.
    pub(super) accepted: VecDeque<usize>,
}

impl DescRec {
    pub(super) fn tuple(&self) -> String {
        match (self.local, self.peer) {
            (Some(l), Some(p)) => format!("{l} > {p}"),
            (Some(l), None) => l.to_string(),
            _ => format!("fd {}", self.fd),
        }
    }
}

/// Follows descriptors through the timeline's `call` and `app` events.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    pub(super) recs: Vec<DescRec>,
    pub(super) live: BTreeMap<(String, u32, u32), usize>,
    pub(super) scanned: usize,
}

/// The descriptor a call's arguments start with (`3, 10.0.0.2:1234`).
pub(super) fn leading_fd(args: &str) -> Option<u32> {
    args.split(',').next()?.trim().parse().ok()
}

/// The address after the descriptor (`3, 10.0.0.2:1234`).
pub(super) fn trailing_addr(args: &str) -> Option<SocketAddr> {
    args.split_once(',')?.1.trim().parse().ok()
}

impl Tracker {
    pub(super) fn sync(&mut self, sim: &Sim) {
        let events = sim.timeline().events();
        while self.scanned < events.len() {
            let e = &events[self.scanned];
            self.scanned += 1;
            match &e.kind {
                EventKind::Call {
                    host,
                    pid,
                    call,
                    args,
                    ret,
                    errno,
                    ..
                } => {
                    let key = |fd: u32| (host.clone(), *pid, fd);
                    if let Some(err) = errno
                        && !matches!(*err, Errno::EINPROGRESS | Errno::EAGAIN)
                        && let Some(fd) = leading_fd(args)
                        && let Some(&r) = self.live.get(&key(fd))
                    {
                        self.recs[r].last_err = Some((*err, e.t));
                    }
                    match (*call, ret) {
                        ("socket", Some(fd)) => {
                            let fd = u32::try_from(*fd).unwrap_or(u32::MAX);
                            let r = self.push(host, *pid, fd);
                            self.live.insert(key(fd), r);
                        }
                        ("bind", Some(_)) => {
                            if let Some(fd) = leading_fd(args)
                                && let Some(&r) = self.live.get(&key(fd))
                            {
                                self.recs[r].local = trailing_addr(args);
                            }
                        }
                        ("connect", _) if ret.is_some() || *errno == Some(Errno::EINPROGRESS) => {
                            if let Some(fd) = leading_fd(args)
                                && let Some(&r) = self.live.get(&key(fd))
                            {
                                let rec = &mut self.recs[r];
                                rec.conn = true;
                                rec.need_tuple = true;
                                rec.peer = trailing_addr(args);
                            }
                        }
                        ("accept", Some(nfd)) => {
                            let nfd = u32::try_from(*nfd).unwrap_or(u32::MAX);
                            let listener =
                                leading_fd(args).and_then(|l| self.live.get(&key(l)).copied());
                            let r = self.push(host, *pid, nfd);
                            let rec = &mut self.recs[r];
                            rec.conn = true;
                            rec.need_tuple = true;
                            rec.peer = trailing_addr(args);
                            if let Some(l) = listener {
                                // Until the table says otherwise: the listener's port on
                                // the host's address.
                                let port = self.recs[l].local.map(|a| a.port());
                                let addr = sim.host_addr(host).ok();
                                if let (Some(port), Some(addr)) = (port, addr) {
                                    self.recs[r].local = Some(SocketAddr::new(addr, port));
                                }
                                self.recs[l].accepted.push_back(r);
                            }
                            self.live.insert(key(nfd), r);
                        }
                        ("close", _) => {
                            if let Some(fd) = leading_fd(args)
                                && let Some(r) = self.live.remove(&key(fd))
                            {
                                self.recs[r].open = false;
                            }
                        }
                        _ => {}
                    }
                }
                EventKind::App {
                    host,
                    pid,
                    fd: Some(fd),
                    errno: Some(err),
                    ..
                } => {
                    if let Some(&r) = self.live.get(&(host.clone(), *pid, *fd)) {
                        self.recs[r].last_err = Some((*err, e.t));
                    }
                }
                _ => {}
            }
        }
        let mut tables: BTreeMap<String, Vec<SocketEntry>> = BTreeMap::new();
        for rec in &mut self.recs {
            if !rec.need_tuple {
                continue;
            }
            rec.need_tuple = false;
            if !rec.open {
                continue;
            }
            let table = tables
                .entry(rec.host.clone())
                .or_insert_with(|| sim.sockets(&rec.host).unwrap_or_default());
            if let Some(e) = table.iter().find(|e| e.fd == Some(Fd(rec.fd))) {
                rec.local = Some(e.local);
                if e.peer.is_some() {
                    rec.peer = e.peer;
                }
            }
        }
    }

    pub(super) fn push(&mut self, host: &str, pid: u32, fd: u32) -> usize {
        self.recs.push(DescRec {
            host: host.to_string(),
            pid,
            fd,
            open: true,
            conn: false,
            need_tuple: false,
            local: None,
            peer: None,
            last_err: None,
            accepted: VecDeque::new(),
        });
        self.recs.len() - 1
    }
}
