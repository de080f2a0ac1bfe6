//! The real-time loop: a stack, a device and a clock.
//!
//! Each [`Driver::step`] writes what the stack has queued, waits in `ppoll` until the device
//! has a datagram, the stack's next timer is due, a caller's descriptor is readable or the
//! caller's deadline passes, then hands every waiting datagram to `handle_packet` (each with
//! the time it was read), runs the timers that are due and writes the stack's answers. The
//! caller makes its socket calls between steps and calls [`Driver::flush`] after them, or
//! leaves that to the next step.

use std::fs::File;
use std::io::BufWriter;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;
use tcplab_pcap::PcapWriter;
use tcplab_stack::{Instant, Stack, StackConfig};

use crate::{Error, TunDevice};

/// Datagrams read in one step before the stack's answers are written: enough to take a
/// window's worth of segments in one go, few enough that ACKs go out promptly.
const RX_BATCH: usize = 256;
/// The largest IP datagram there is; the buffers take any datagram whatever the MTU.
const MAX_DATAGRAM: usize = 65535;

/// The stack's clock in real time: nanoseconds since the clock started, from the monotonic
/// clock, so the stack's time never goes back when the wall clock is set.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: std::time::Instant,
    /// The wall-clock time at `start`, in nanoseconds since the Unix epoch.
    wall_start_ns: u64,
}

impl Clock {
    /// A clock that reads zero now.
    pub fn start() -> Clock {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Clock {
            start: std::time::Instant::now(),
            wall_start_ns: u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// The stack's time now.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// The wall-clock time of stack time `at`, in nanoseconds since the Unix epoch, for
    /// capture timestamps that line up with tcpdump's.
    pub fn wall_ns(&self, at: Instant) -> u64 {
        self.wall_start_ns.saturating_add(at.as_nanos())
    }
}

/// Which way a datagram went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Read from the device: sent by the kernel to the stack.
    In,
    /// Written to the device: sent by the stack.
    Out,
}

/// Counters of what crossed the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub rx_datagrams: u64,
    pub rx_bytes: u64,
    pub tx_datagrams: u64,
    pub tx_bytes: u64,
    /// Datagrams the kernel would not take (a full backlog); TCP retransmits them.
    pub tx_refused: u64,
    /// Datagrams longer than the MTU that the stack produced and the driver did not write.
    pub oversize: u64,
    /// The longest datagram written.
    pub largest_tx: usize,
}

/// Something to call with every datagram, in either direction, with its stack time.
pub type Tap = Box<dyn FnMut(Direction, Instant, &[u8])>;

/// A stack on a TUN device in real time.
pub struct Driver {
    stack: Stack,
    device: TunDevice,
    clock: Clock,
    rx: Vec<u8>,
    tx: Vec<u8>,
    pcap: Option<PcapWriter<BufWriter<File>>>,
    tap: Option<Tap>,
    stats: Stats,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("device", &self.device)
            .field("clock", &self.clock)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A stack made from `config`, whose MTU is replaced by the device's, with its clock
    /// starting now.
    pub fn new(device: TunDevice, mut config: StackConfig) -> Driver {
        config.mtu = device.mtu();
        Driver {
            stack: Stack::new(config),
            device,
            clock: Clock::start(),
            rx: vec![0; MAX_DATAGRAM],
            tx: vec![0; MAX_DATAGRAM],
            pcap: None,
            tap: None,
            stats: Stats::default(),
        }
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The stack, for socket calls; call [`Driver::flush`] after them (or let the next step
    /// write what they queued).
    pub fn stack_mut(&mut self) -> &mut Stack {
        &mut self.stack
    }

    pub fn device(&self) -> &TunDevice {
        &self.device
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The stack's time now.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Writes every datagram from now on, both ways, to a pcap file (raw IP, wall-clock
    /// nanosecond timestamps).
    pub fn capture(&mut self, path: &Path) -> Result<(), Error> {
        self.pcap = Some(PcapWriter::create(path)?);
        Ok(())
    }

    /// Ends the capture, flushing the file.
    pub fn finish_capture(&mut self) -> Result<(), Error> {
        if let Some(writer) = self.pcap.take() {
            writer.finish()?;
        }
        Ok(())
    }

    /// Calls `tap` with every datagram from now on.
    pub fn set_tap(&mut self, tap: Option<Tap>) {
        self.tap = tap;
    }

    /// Writes every datagram the stack has queued to the device.
    pub fn flush(&mut self) -> Result<(), Error> {
        let mtu = self.device.mtu() as usize;
        loop {
            let now = self.clock.now();
            let Some(t) = self.stack.poll_transmit(now, &mut self.tx) else {
                return Ok(());
            };
            if t.len > mtu {
                self.stats.oversize += 1;
                continue;
            }
            self.record(Direction::Out, now, t.len)?;
            if self.device.send(&self.tx[..t.len])? {
                self.stats.tx_datagrams += 1;
                self.stats.tx_bytes += t.len as u64;
                self.stats.largest_tx = self.stats.largest_tx.max(t.len);
            } else {
                self.stats.tx_refused += 1;
            }
        }
    }

    /// Writes what is queued, waits until a datagram arrives, a timer is due, one of `extra`
    /// is readable (or hung up) or `until` passes, then takes in every datagram waiting, runs
    /// the due timers and writes the stack's answers. Returns, for each of `extra`, whether
    /// it is readable. A signal that interrupts the wait ends it early with nothing ready.
    pub fn step(
        &mut self,
        extra: &[BorrowedFd<'_>],
        until: Option<Instant>,
    ) -> Result<Vec<bool>, Error> {
        self.flush()?;
        let now = self.clock.now();
        let next = match (self.stack.poll_timeout(), until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = next.map(|at| TimeSpec::from_duration(at.saturating_since(now)));
        let (device_ready, ready) = {
            let readable = PollFlags::POLLIN;
            let mut fds = Vec::with_capacity(1 + extra.len());
            fds.push(PollFd::new(self.device.as_fd(), readable));
            fds.extend(extra.iter().map(|fd| PollFd::new(*fd, readable)));
            let interrupted = match ppoll(&mut fds, timeout, None) {
                Ok(_) => false,
                Err(nix::errno::Errno::EINTR) => true,
                Err(e) => {
                    return Err(Error::Io {
                        dev: self.device.name().to_string(),
                        action: "poll",
                        source: e.into(),
                    });
                }
            };
            let is_ready = |fd: &PollFd<'_>| {
                !interrupted
                    && fd.revents().is_some_and(|r| {
                        r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                    })
            };
            (
                is_ready(&fds[0]),
                fds[1..].iter().map(is_ready).collect::<Vec<_>>(),
            )
        };
        if device_ready {
            for _ in 0..RX_BATCH {
                let Some(n) = self.device.recv(&mut self.rx)? else {
                    break;
                };
                let now = self.clock.now();
                self.stats.rx_datagrams += 1;
                self.stats.rx_bytes += n as u64;
                self.record(Direction::In, now, n)?;
                self.stack.handle_packet(now, &self.rx[..n]);
            }
        }
        let now = self.clock.now();
        if self.stack.poll_timeout().is_some_and(|at| at <= now) {
            self.stack.handle_timeout(now);
        }
        self.flush()?;
        Ok(ready)
    }

    /// Hands datagram `len` bytes long (in `rx` or `tx` by direction) to the tap and the
    /// capture.
    fn record(&mut self, dir: Direction, at: Instant, len: usize) -> Result<(), Error> {
        let bytes = match dir {
            Direction::In => &self.rx[..len],
            Direction::Out => &self.tx[..len],
        };
        if let Some(tap) = &mut self.tap {
            tap(dir, at, bytes);
        }
        if let Some(pcap) = &mut self.pcap {
            pcap.write_datagram(self.clock.wall_ns(at), bytes)?;
        }
        Ok(())
    }
}
