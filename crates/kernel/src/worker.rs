//! A host's applications on the real kernel: one thread per host, moved into the host's
//! network namespace (`setns` acts on the calling thread only, and a socket stays in the
//! namespace it was made in), that makes the real socket calls.
//!
//! The thread runs what the simulator's processes do (crates/sim/src/apps.rs and
//! run/commands.rs): the socket program and `nc` jobs are processes with pids from 1000 and
//! descriptors numbered per host from 3, as the simulator numbers them; every call is a
//! `call` event with its real result or errno, asynchronous results are `app` events.
//! Sockets are non-blocking and watched with `poll`, so that a blocking call of the script
//! (`connect`, `accept`, `write`) is a wait on its socket while the others go on, exactly as
//! the simulator's one-thread-per-socket program: a command waits until the call before it
//! on the same socket has returned.
//!
//! The runner talks to the thread through [`Worker`]: each request is answered once it has
//! run, so the script's lines run in order across hosts. Guarantees: the thread never
//! blocks except in `poll`; dropping or stopping the worker closes every socket it holds
//! (the kernel then treats them as a process exit does).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use tcplab_sim::scenario::{KillTarget, Span};
use tcplab_sim::{EventKind, RunWarning};
use tcplab_stack::{Errno, Instant};

mod net;
mod procs;
mod tcplab;

pub(crate) use tcplab::TcplabSetup;

/// How long a request may take before the runner gives up on the thread.
const REPLY: Duration = Duration::from_secs(10);

pub(crate) use tcplab_sim::run::OpKind;

/// Which socket an assertion is about.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Named(String),
    Job(u32),
}

/// What an assertion needs to know about a socket.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecView {
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    pub last_err: Option<(Errno, Instant)>,
}

pub(crate) enum Req {
    NcListen {
        port: u16,
        job: Option<u32>,
    },
    NcConnect {
        to: SocketAddr,
        job: Option<u32>,
    },
    Kill {
        target: KillTarget,
        span: Span,
    },
    Op {
        sock: String,
        span: Span,
        kind: OpKind,
    },
    Lookup(Target, Sender<Result<RecView, String>>),
    /// A tool (argv) the host's thread runs itself, answered with its result, or `None`
    /// when the runner is to run the real one in the host's namespace.
    Tool(Vec<String>, Sender<Option<net::ToolResult>>),
}

/// What a host's thread makes its socket calls on.
#[derive(Clone, Debug)]
pub(crate) enum HostStack {
    /// The kernel of namespace `ns`.
    Kernel { ns: String, cubic: bool },
    /// A tcplab stack on a TAP port made in namespace `ns` (the switch's).
    Tcplab { ns: String, setup: Box<TcplabSetup> },
}

/// What the thread recorded, handed back when it stops.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub events: Vec<(Instant, EventKind)>,
    pub warnings: Vec<RunWarning>,
}

/// The runner's handle on a host's thread.
#[derive(Debug)]
pub(crate) struct Worker {
    tx: Option<Sender<Req>>,
    wake: UnixStream,
    done: Receiver<()>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<JoinHandle<Output>>,
    /// The thread's id, as the tracepoint names it.
    pub tid: u32,
}

impl Worker {
    /// Starts the thread for host `name`; returns once it is inside its namespace, with its
    /// device made if it has one.
    pub(crate) fn spawn(
        name: &str,
        v6: bool,
        stack: HostStack,
        prog_name: &str,
        t0: Arc<OnceLock<std::time::Instant>>,
    ) -> Result<Worker, String> {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let (wake, wake_rx) =
            UnixStream::pair().map_err(|e| format!("cannot make a socket pair: {e}"))?;
        wake_rx
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make a socket pair non-blocking: {e}"))?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (host, prog) = (name.to_string(), prog_name.to_string());
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name(format!("tcplab-{name}"))
            .spawn(move || {
                let ns_name = match &stack {
                    HostStack::Kernel { ns, .. } | HostStack::Tcplab { ns, .. } => ns.clone(),
                };
                if let Err(e) = enter(&ns_name) {
                    let _ = ready_tx.send(Err(e));
                    return Output::default();
                }
                match stack {
                    HostStack::Kernel { cubic, .. } => {
                        let _ = ready_tx.send(Ok(nix::unistd::gettid().as_raw()));
                        let net = net::RealNet { cubic };
                        let mut h = procs::Host::new(host, v6, net, prog, t0);
                        h.serve(&rx, &wake_rx, &done_tx, &stop2);
                        h.finish()
                    }
                    HostStack::Tcplab { setup, .. } => {
                        let net = match tcplab::TcplabNet::open(&host, *setup, t0.clone()) {
                            Ok(n) => n,
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                                return Output::default();
                            }
                        };
                        let _ = ready_tx.send(Ok(nix::unistd::gettid().as_raw()));
                        let mut h = procs::Host::new(host, v6, net, prog, t0);
                        h.serve(&rx, &wake_rx, &done_tx, &stop2);
                        h.finish()
                    }
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let tid = match ready.recv_timeout(REPLY) {
            Ok(Ok(tid)) => u32::try_from(tid).unwrap_or(0),
            Ok(Err(e)) => {
                let _ = handle.join();
                return Err(e);
            }
            Err(_) => return Err(format!("the thread of host {name} did not start")),
        };
        Ok(Worker {
            tx: Some(tx),
            wake,
            done,
            stop,
            handle: Some(handle),
            tid,
        })
    }

    /// Sends a request and waits until it has run.
    pub(crate) fn request(&mut self, req: Req) -> Result<(), String> {
        let tx = self.tx.as_ref().ok_or("the host's thread has stopped")?;
        tx.send(req)
            .map_err(|_| "the host's thread has stopped (it panicked)".to_string())?;
        let _ = self.wake.write_all(&[1]);
        self.done
            .recv_timeout(REPLY)
            .map_err(|_| "the host's thread did not answer (it panicked or hung)".to_string())
    }

    /// Runs a tool on the host's thread: (succeeded, stdout, stderr), or `None` when the
    /// thread leaves it to the real tool.
    pub(crate) fn tool(&mut self, argv: Vec<String>) -> Result<Option<net::ToolResult>, String> {
        let (tx, rx) = mpsc::channel();
        self.request(Req::Tool(argv, tx))?;
        rx.recv_timeout(REPLY)
            .map_err(|_| "the host's thread did not answer".to_string())
    }

    pub(crate) fn lookup(&mut self, t: Target) -> Result<Result<RecView, String>, String> {
        let (tx, rx) = mpsc::channel();
        self.request(Req::Lookup(t, tx))?;
        rx.recv_timeout(REPLY)
            .map_err(|_| "the host's thread did not answer".to_string())
    }

    /// Stops the thread (closing its sockets) and returns what it recorded.
    pub(crate) fn stop(mut self) -> Result<Output, String> {
        self.halt()
            .ok_or_else(|| "the host's thread panicked".to_string())
    }

    fn halt(&mut self) -> Option<Output> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.tx = None;
        let _ = self.wake.write_all(&[1]);
        self.handle.take()?.join().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

fn enter(ns: &str) -> Result<(), String> {
    let path = format!("/var/run/netns/{ns}");
    let f = File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("setns({path}) failed: {}", e.desc()))
}

/// Waits until a socket or the wake pipe is ready: `(index, revents)` of the ready ones,
/// the wake pipe being index 0.
pub(crate) fn wait(fds: &[(&OwnedFd, PollFlags)], wake: &UnixStream) -> Vec<(usize, PollFlags)> {
    let mut pfds: Vec<PollFd<'_>> = Vec::with_capacity(fds.len() + 1);
    pfds.push(PollFd::new(wake, PollFlags::IN));
    for (fd, flags) in fds {
        pfds.push(PollFd::from_borrowed_fd(fd.as_fd(), *flags));
    }
    let timeout = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 200_000_000,
    };
    if poll(&mut pfds, Some(&timeout)).is_err() {
        return Vec::new();
    }
    let ready: Vec<(usize, PollFlags)> = pfds
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.revents().is_empty())
        .map(|(i, p)| (i, p.revents()))
        .collect();
    if ready.first().is_some_and(|r| r.0 == 0) {
        let mut buf = [0u8; 64];
        let mut w = wake;
        while matches!(w.read(&mut buf), Ok(n) if n > 0) {}
    }
    ready
}

/// The errno of a failed system call.
pub(crate) fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error()).unwrap_or(Errno::EIO)
}

/// Requests waiting in the channel.
pub(crate) fn pending(rx: &Receiver<Req>) -> VecDeque<Req> {
    let mut v = VecDeque::new();
    while let Ok(r) = rx.try_recv() {
        v.push_back(r);
    }
    v
}
