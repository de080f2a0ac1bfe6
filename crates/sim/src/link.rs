//! One direction of a link between two hosts: delay, jitter, a serialization rate with a FIFO
//! queue and a tail-drop limit, and seeded random loss, duplication, reordering and corruption.
//!
//! Guarantees: every datagram costs the link's generator the same seven draws whatever the
//! parameters are, so one seed gives one sequence of fates and changing one probability never
//! reshuffles the others; the generator of a direction is derived from the run's seed and the
//! two host names, so it does not depend on the order hosts were added in.
//!
//! The order of effects follows Linux's netem qdisc (netem_enqueue()): loss first, then the
//! queue limit (tail drop), then serialization at the rate, then delay with jitter, with
//! reordered datagrams held back by an extra delay so later ones overtake them.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tcplab_stack::Instant;

use crate::rng::Rng;

/// The parameters of one direction of a link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkParams {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Each datagram's delay is drawn uniformly from `delay ± jitter` (never below zero).
    pub jitter: Duration,
    /// Serialization rate in bytes per second; `None` is infinitely fast.
    pub rate: Option<u64>,
    /// Datagrams that may wait for or be in serialization at once; more are tail-dropped.
    /// Only meaningful with a `rate`. `None` is unlimited.
    pub queue_limit: Option<usize>,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`, letting later ones pass.
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Probability that one byte after the IP header is flipped (the receiver's checksum
    /// catches it).
    pub corrupt: f64,
}

/// The one-way delay of the reference kernels' veth pair: about 25 µs.
pub const DEFAULT_DELAY: Duration = Duration::from_micros(25);

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            delay: DEFAULT_DELAY,
            jitter: Duration::ZERO,
            rate: None,
            queue_limit: None,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            corrupt: 0.0,
        }
    }
}

/// A link parameter out of range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("link parameter {name}: expected {expected}, got {value}")]
pub struct LinkParamError {
    pub name: &'static str,
    pub expected: &'static str,
    pub value: String,
}

impl LinkParams {
    /// Checks that probabilities lie in [0, 1] and that a rate is positive.
    pub fn validate(&self) -> Result<(), LinkParamError> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(LinkParamError {
                    name,
                    expected: "a probability between 0 and 1",
                    value: p.to_string(),
                });
            }
        }
        if self.rate == Some(0) {
            return Err(LinkParamError {
                name: "rate",
                expected: "a positive number of bytes per second",
                value: "0".to_string(),
            });
        }
        if self.queue_limit == Some(0) {
            return Err(LinkParamError {
                name: "queue limit",
                expected: "at least one packet",
                value: "0".to_string(),
            });
        }
        Ok(())
    }
}

/// Why a link lost a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkDrop {
    /// Random loss.
    Loss,
    /// The queue was at its limit.
    QueueFull,
}

impl fmt::Display for LinkDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkDrop::Loss => "link loss",
            LinkDrop::QueueFull => "link queue full",
        })
    }
}

/// What the link does to one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fate {
    /// `Err` when it is lost; otherwise the arrival time(s): one, or two when duplicated.
    pub arrivals: Result<Vec<Instant>, LinkDrop>,
    pub reordered: bool,
    pub duplicated: bool,
    /// `(pick, mask)`: flip the byte at `pick` modulo the L4 length with the non-zero `mask`.
    pub corruption: Option<(u64, u8)>,
}

impl Fate {
    /// A short note for the timeline (`duplicated, corrupted`), empty when nothing happened.
    pub fn note(&self) -> String {
        let mut parts = Vec::new();
        if self.arrivals.is_ok() {
            if self.reordered {
                parts.push("reordered");
            }
            if self.duplicated {
                parts.push("duplicated");
            }
            if self.corruption.is_some() {
                parts.push("corrupted");
            }
        }
        parts.join(", ")
    }
}

/// Counters of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub lost: u64,
    pub queue_drops: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
}

/// One direction of a link with its state.
#[derive(Clone, Debug)]
pub struct Link {
    pub params: LinkParams,
    rng: Rng,
    /// When the serializer is free again.
    busy_until: Instant,
    /// Finish times of the datagrams queued or in serialization, oldest first.
    backlog: VecDeque<Instant>,
    pub stats: LinkStats,
}

impl Link {
    pub fn new(params: LinkParams, rng: Rng) -> Link {
        Link {
            params,
            rng,
            busy_until: Instant::ZERO,
            backlog: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    /// Decides the fate of a datagram of `len` bytes handed to the link at `now`.
    pub fn transmit(&mut self, now: Instant, len: usize) -> Fate {
        let p = self.params;
        // Seven draws, always, in this order.
        let lost = self.rng.chance(p.loss);
        let duplicated = self.rng.chance(p.duplicate);
        let reordered = self.rng.chance(p.reorder);
        let corrupted = self.rng.chance(p.corrupt);
        let jitter_draw = self.rng.next_u64();
        let pick = self.rng.next_u64();
        let mask = 1 + self.rng.below(255) as u8;
        self.stats.sent += 1;
        let fate = |arrivals| Fate {
            arrivals,
            reordered,
            duplicated,
            corruption: corrupted.then_some((pick, mask)),
        };
        if lost {
            self.stats.lost += 1;
            return fate(Err(LinkDrop::Loss));
        }
        while self.backlog.front().is_some_and(|&t| t <= now) {
            self.backlog.pop_front();
        }
        let finish = match p.rate {
            Some(rate) => {
                if p.queue_limit.is_some_and(|l| self.backlog.len() >= l) {
                    self.stats.queue_drops += 1;
                    return fate(Err(LinkDrop::QueueFull));
                }
                let start = self.busy_until.max(now);
                let ns = (len as u128 * 1_000_000_000).div_ceil(u128::from(rate));
                let finish = start + Duration::from_nanos(ns.min(u128::from(u64::MAX)) as u64);
                self.busy_until = finish;
                self.backlog.push_back(finish);
                finish
            }
            None => now,
        };
        let delay = jittered(p.delay, p.jitter, jitter_draw);
        let mut at = finish + delay;
        if reordered {
            self.stats.reordered += 1;
            at += p.reorder_delay;
        }
        if corrupted {
            self.stats.corrupted += 1;
        }
        let mut arrivals = vec![at];
        if duplicated {
            self.stats.duplicated += 1;
            arrivals.push(at);
        }
        fate(Ok(arrivals))
    }
}

/// `delay ± jitter`, uniformly over whole nanoseconds, never negative.
fn jittered(delay: Duration, jitter: Duration, draw: u64) -> Duration {
    let j = jitter.as_nanos().min(u128::from(u64::MAX / 4)) as u64;
    if j == 0 {
        return delay;
    }
    let span = 2 * j + 1;
    let offset = ((u128::from(draw) * u128::from(span)) >> 64) as u64;
    let base = delay.as_nanos().min(u128::from(u64::MAX / 4)) as u64;
    Duration::from_nanos((base + offset).saturating_sub(j))
}

/// Flips the chosen byte after the IP header, where the TCP (or ICMP) checksum will catch it.
pub fn corrupt(datagram: &mut [u8], pick: u64, mask: u8) {
    let l4 = match datagram.first().map(|b| b >> 4) {
        Some(4) => usize::from(datagram[0] & 0x0f) * 4,
        Some(6) => 40,
        _ => 0,
    };
    let span = datagram.len().saturating_sub(l4);
    if span == 0 {
        return;
    }
    let at = l4 + (pick % span as u64) as usize;
    if let Some(b) = datagram.get_mut(at) {
        *b ^= mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn clean_link_delivers_after_delay() {
        let mut l = Link::new(LinkParams::default(), Rng::new(1));
        let f = l.transmit(Instant::from_secs(1), 100);
        assert_eq!(f.arrivals, Ok(vec![Instant::from_secs(1) + DEFAULT_DELAY]));
        assert_eq!(f.note(), "");
    }

    #[test]
    fn rate_serializes_and_queue_tail_drops() {
        let params = LinkParams {
            delay: ms(10),
            rate: Some(1_000_000),
            queue_limit: Some(2),
            ..LinkParams::default()
        };
        let mut l = Link::new(params, Rng::new(1));
        let t = Instant::from_secs(1);
        // 1000 bytes at 1 MB/s take 1 ms each.
        assert_eq!(l.transmit(t, 1000).arrivals, Ok(vec![t + ms(11)]));
        assert_eq!(l.transmit(t, 1000).arrivals, Ok(vec![t + ms(12)]));
        assert_eq!(l.transmit(t, 1000).arrivals, Err(LinkDrop::QueueFull));
        // Once the first finished, there is room again.
        assert_eq!(l.transmit(t + ms(1), 1000).arrivals, Ok(vec![t + ms(13)]));
        assert_eq!(l.stats.queue_drops, 1);
    }

    #[test]
    fn faults_are_deterministic_and_roughly_at_rate() {
        let params = LinkParams {
            loss: 0.1,
            duplicate: 0.05,
            reorder: 0.05,
            reorder_delay: ms(5),
            corrupt: 0.02,
            jitter: Duration::from_micros(10),
            ..LinkParams::default()
        };
        let run = |seed| {
            let mut l = Link::new(params, Rng::new(seed));
            let fates: Vec<Fate> = (0..10_000)
                .map(|i| l.transmit(Instant::from_millis(i), 100))
                .collect();
            (fates, l.stats)
        };
        let (a, sa) = run(3);
        let (b, _) = run(3);
        let (c, _) = run(4);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((800..1200).contains(&sa.lost), "{sa:?}");
        assert!((350..650).contains(&sa.duplicated), "{sa:?}");
        assert!((100..300).contains(&sa.corrupted), "{sa:?}");
        for f in &a {
            if let Ok(arr) = &f.arrivals {
                assert!(arr.len() == 1 + usize::from(f.duplicated));
            }
        }
    }

    #[test]
    fn changing_one_probability_keeps_the_other_draws() {
        let base = LinkParams {
            loss: 0.2,
            ..LinkParams::default()
        };
        let more = LinkParams {
            duplicate: 0.5,
            ..base
        };
        let lost = |p: LinkParams| {
            let mut l = Link::new(p, Rng::new(9));
            (0..1000)
                .map(|i| l.transmit(Instant::from_millis(i), 60).arrivals.is_err())
                .collect::<Vec<_>>()
        };
        assert_eq!(lost(base), lost(more));
    }

    #[test]
    fn validation_names_the_parameter() {
        let bad = LinkParams {
            loss: 1.5,
            ..LinkParams::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "link parameter loss: expected a probability between 0 and 1, got 1.5"
        );
    }

    #[test]
    fn corruption_flips_one_l4_byte() {
        let mut d = vec![0x45u8; 60];
        let orig = d.clone();
        corrupt(&mut d, 7, 0x10);
        let diffs: Vec<usize> = (0..60).filter(|&i| d[i] != orig[i]).collect();
        assert_eq!(diffs, vec![27]);
    }
}
