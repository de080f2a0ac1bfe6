//! A bulk transfer in both directions over a [`Pair`], checked byte for byte.
//!
//! Each side writes its [`Pattern`] as fast as the stack takes it, then shuts down its write
//! side; each side reads everything and checks every byte against the other side's pattern at
//! the same stream offset, so data that is lost, duplicated, reordered or corrupted on the way
//! up to the application is caught at the first wrong byte.

use std::fmt;
use std::time::Duration;

use tcplab_stack::{Errno, Fd, Shutdown};

use crate::pair::{Pair, Side};
use crate::rng::Pattern;

/// Bytes offered to `send` per call, and the size of each `recv`.
const CHUNK: usize = 65536;

/// One side's half of the transfer.
#[derive(Clone, Debug)]
struct End {
    side: Side,
    fd: Fd,
    out: Pattern,
    to_send: u64,
    /// Pattern bytes from offset `sent`, refilled when used up.
    pending: Vec<u8>,
    pending_at: usize,
    sent: u64,
    shut: bool,
    expect: Pattern,
    to_receive: u64,
    received: u64,
    eof: bool,
}

/// Why a transfer failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkError {
    /// A socket call failed with something other than EAGAIN.
    Call {
        side: Side,
        call: &'static str,
        errno: Errno,
    },
    /// A byte differed from the pattern at this stream offset.
    Corrupt { side: Side, offset: u64 },
    /// More bytes arrived than were sent.
    TooMuch { side: Side, received: u64 },
    /// End of stream came before all bytes.
    ShortRead {
        side: Side,
        received: u64,
        expected: u64,
    },
    /// The limit passed first; how far each side got.
    Timeout { a_received: u64, b_received: u64 },
}

impl fmt::Display for BulkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BulkError::Call { side, call, errno } => {
                write!(f, "{side:?}: {call}() failed: {errno:?}")
            }
            BulkError::Corrupt { side, offset } => {
                write!(f, "{side:?} read a wrong byte at stream offset {offset}")
            }
            BulkError::TooMuch { side, received } => {
                write!(f, "{side:?} read {received} bytes, more than were sent")
            }
            BulkError::ShortRead {
                side,
                received,
                expected,
            } => {
                write!(
                    f,
                    "{side:?} saw end of stream after {received} of {expected} bytes"
                )
            }
            BulkError::Timeout {
                a_received,
                b_received,
            } => write!(
                f,
                "transfer not done in time: a read {a_received} bytes, b read {b_received}"
            ),
        }
    }
}

impl std::error::Error for BulkError {}

/// Two-way transfer state; see the module docs.
#[derive(Clone, Debug)]
pub struct Bulk {
    ends: [End; 2],
    /// Reused by every `recv`, so pumping after each event costs no allocation.
    buf: Vec<u8>,
}

impl Bulk {
    /// `a_to_b` bytes of `Pattern::new(seed)` from a's `a_fd`, `b_to_a` bytes of
    /// `Pattern::new(seed ^ 1)` back from b's `b_fd`.
    pub fn new(seed: u64, a_fd: Fd, b_fd: Fd, a_to_b: u64, b_to_a: u64) -> Bulk {
        let (pa, pb) = (Pattern::new(seed), Pattern::new(seed ^ 1));
        let end = |side, fd, out, to_send, expect, to_receive| End {
            side,
            fd,
            out,
            to_send,
            pending: Vec::new(),
            pending_at: 0,
            sent: 0,
            shut: false,
            expect,
            to_receive,
            received: 0,
            eof: false,
        };
        Bulk {
            ends: [
                end(Side::A, a_fd, pa, a_to_b, pb, b_to_a),
                end(Side::B, b_fd, pb, b_to_a, pa, a_to_b),
            ],
            buf: vec![0; CHUNK],
        }
    }

    /// True once both sides sent everything, shut down writing and read to end of stream.
    pub fn done(&self) -> bool {
        self.ends.iter().all(|e| e.shut && e.eof)
    }

    /// Bytes each side has read so far: (a, b).
    pub fn received(&self) -> (u64, u64) {
        (self.ends[0].received, self.ends[1].received)
    }

    /// Runs the pair until the transfer is done or `limit` of virtual time passed.
    pub fn run(&mut self, pair: &mut Pair, limit: Duration) -> Result<(), BulkError> {
        let mut error = None;
        pair.run_while(
            |p| match self.pump(p) {
                Ok(()) => !self.done(),
                Err(e) => {
                    error = Some(e);
                    false
                }
            },
            limit,
        );
        if let Some(e) = error {
            return Err(e);
        }
        if !self.done() {
            let (a_received, b_received) = self.received();
            return Err(BulkError::Timeout {
                a_received,
                b_received,
            });
        }
        Ok(())
    }

    /// Writes and reads as much as each stack allows right now.
    pub fn pump(&mut self, pair: &mut Pair) -> Result<(), BulkError> {
        for end in &mut self.ends {
            end.write(pair)?;
            end.read(pair, &mut self.buf)?;
        }
        Ok(())
    }
}

impl End {
    fn write(&mut self, pair: &mut Pair) -> Result<(), BulkError> {
        while self.sent < self.to_send {
            if self.pending_at == self.pending.len() {
                let n = (self.to_send - self.sent).min(CHUNK as u64) as usize;
                self.pending.resize(n, 0);
                self.out.fill(self.sent, &mut self.pending);
                self.pending_at = 0;
            }
            let (fd, chunk) = (self.fd, &self.pending[self.pending_at..]);
            match pair.call(self.side, |s, now| s.send(now, fd, chunk)) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(n) => {
                    self.pending_at += n;
                    self.sent += n as u64;
                }
                Err(errno) => {
                    return Err(BulkError::Call {
                        side: self.side,
                        call: "send",
                        errno,
                    });
                }
            }
        }
        if !self.shut {
            let fd = self.fd;
            pair.call(self.side, |s, now| s.shutdown(now, fd, Shutdown::Write))
                .map_err(|errno| BulkError::Call {
                    side: self.side,
                    call: "shutdown",
                    errno,
                })?;
            self.shut = true;
        }
        Ok(())
    }

    fn read(&mut self, pair: &mut Pair, buf: &mut [u8]) -> Result<(), BulkError> {
        while !self.eof {
            let fd = self.fd;
            match pair.call(self.side, |s, now| s.recv(now, fd, buf)) {
                Ok(0) => {
                    if self.received != self.to_receive {
                        return Err(BulkError::ShortRead {
                            side: self.side,
                            received: self.received,
                            expected: self.to_receive,
                        });
                    }
                    self.eof = true;
                }
                Ok(n) => {
                    if self.received + n as u64 > self.to_receive {
                        return Err(BulkError::TooMuch {
                            side: self.side,
                            received: self.received + n as u64,
                        });
                    }
                    self.expect
                        .check(self.received, &buf[..n])
                        .map_err(|offset| BulkError::Corrupt {
                            side: self.side,
                            offset,
                        })?;
                    self.received += n as u64;
                }
                Err(Errno::EAGAIN) => return Ok(()),
                Err(errno) => {
                    return Err(BulkError::Call {
                        side: self.side,
                        call: "recv",
                        errno,
                    });
                }
            }
        }
        Ok(())
    }
}
