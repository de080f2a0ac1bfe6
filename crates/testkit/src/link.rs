//! The link between the two stacks of a [`Pair`](crate::Pair): a one-way delay, seeded random
//! faults, and per-packet hooks.
//!
//! Guarantees: every datagram costs the link's generator the same six draws whatever the
//! probabilities are, so one seed gives one sequence of fates and changing one probability
//! never reshuffles the others; hooks run in the order they were added, and the first verdict
//! other than [`Verdict::Pass`] wins.

use std::fmt;
use std::time::Duration;

use tcplab_stack::Instant;

use crate::rng::Rng;

/// Which way a datagram travels.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Direction {
    AtoB,
    BtoA,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::AtoB => "a->b",
            Direction::BtoA => "b->a",
        })
    }
}

/// What a hook decides for one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let the next hook, then the link's random faults, decide.
    Pass,
    Drop,
    /// Deliver after the link delay plus this much.
    Delay(Duration),
    /// Deliver twice, back to back.
    Duplicate,
    /// Deliver these bytes instead.
    Replace(Vec<u8>),
}

/// A datagram as a hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub dir: Direction,
    /// When the sender emitted it.
    pub at: Instant,
    pub bytes: &'a [u8],
}

/// A per-packet rule; see [`Verdict`].
pub type Hook = Box<dyn FnMut(&Packet<'_>) -> Verdict>;

/// Probabilities of each random fault, each drawn independently per datagram.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`, letting later ones pass.
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Probability that one byte of the TCP segment is flipped (the receiver must drop it on
    /// its checksum).
    pub corrupt: f64,
}

/// What the random faults do to one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fate {
    pub lost: bool,
    pub duplicated: bool,
    pub extra_delay: Duration,
    pub corruption: Option<Corruption>,
}

/// A byte flip: at `pick` modulo the TCP segment's length, XOR with the non-zero `mask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corruption {
    pub pick: u64,
    pub mask: u8,
}

impl Corruption {
    /// Flips one byte after `l4_start`, where the TCP checksum will catch it: a one-byte change
    /// alters a 16-bit one's-complement sum by a non-zero amount below 0xffff.
    pub fn apply(self, datagram: &mut [u8], l4_start: usize) {
        let span = datagram.len().saturating_sub(l4_start);
        if span == 0 {
            return;
        }
        let at = l4_start + (self.pick % span as u64) as usize;
        datagram[at] ^= self.mask;
    }
}

/// One direction of the link's randomness.
#[derive(Clone, Debug)]
pub struct Link {
    pub faults: Faults,
    rng: Rng,
}

impl Link {
    pub fn new(faults: Faults, rng: Rng) -> Link {
        Link { faults, rng }
    }

    /// Draws the fate of the next datagram.
    pub fn fate(&mut self) -> Fate {
        let f = self.faults;
        let lost = self.rng.chance(f.loss);
        let duplicated = self.rng.chance(f.duplicate);
        let reordered = self.rng.chance(f.reorder);
        let corrupted = self.rng.chance(f.corrupt);
        let pick = self.rng.next_u64();
        let mask = 1 + self.rng.below(255) as u8;
        Fate {
            lost,
            duplicated,
            extra_delay: if reordered {
                f.reorder_delay
            } else {
                Duration::ZERO
            },
            corruption: corrupted.then_some(Corruption { pick, mask }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> Faults {
        Faults {
            loss: 0.1,
            duplicate: 0.1,
            reorder: 0.1,
            reorder_delay: Duration::from_millis(3),
            corrupt: 0.1,
        }
    }

    #[test]
    fn same_seed_same_fates() {
        let mut a = Link::new(faults(), Rng::new(11));
        let mut b = Link::new(faults(), Rng::new(11));
        let xs: Vec<Fate> = (0..1000).map(|_| a.fate()).collect();
        let ys: Vec<Fate> = (0..1000).map(|_| b.fate()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().any(|f| f.lost) && xs.iter().any(|f| f.corruption.is_some()));
        let mut c = Link::new(faults(), Rng::new(12));
        let zs: Vec<Fate> = (0..1000).map(|_| c.fate()).collect();
        assert_ne!(xs, zs);
    }

    #[test]
    fn one_probability_does_not_shift_the_others() {
        let mut only_loss = Link::new(
            Faults {
                loss: 0.1,
                ..Faults::default()
            },
            Rng::new(3),
        );
        let mut all = Link::new(faults(), Rng::new(3));
        for _ in 0..1000 {
            assert_eq!(only_loss.fate().lost, all.fate().lost);
        }
    }

    #[test]
    fn no_faults_means_clean_delivery() {
        let mut l = Link::new(Faults::default(), Rng::new(1));
        for _ in 0..1000 {
            assert_eq!(
                l.fate(),
                Fate {
                    lost: false,
                    duplicated: false,
                    extra_delay: Duration::ZERO,
                    corruption: None
                }
            );
        }
    }

    #[test]
    fn corruption_flips_one_byte_after_the_ip_header() {
        let mut bytes = vec![0u8; 60];
        Corruption {
            pick: 1_000_003,
            mask: 0x80,
        }
        .apply(&mut bytes, 20);
        let changed: Vec<usize> = (0..60).filter(|&i| bytes[i] != 0).collect();
        assert_eq!(changed, vec![20 + 1_000_003 % 40]);
    }
}
