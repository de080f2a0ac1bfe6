//! Lines two timelines of one scenario up against each other: the simulator's and the
//! kernel's.
//!
//! What is compared, per host:
//! - the TCP segments it sent (`Dir::Out`, not dropped by its own firewall, since the
//!   kernel's capture never sees a segment its OUTPUT chain dropped): flags, relative
//!   sequence and acknowledgment numbers, payload length;
//! - its sockets' state changes (`from -> to`), except a socket's first one out of CLOSE
//!   and a listener's LISTEN -> CLOSE, which only the kernel's tracepoint reports;
//! - the errors its applications saw: each call that failed with an errno (EAGAIN aside).
//!   An application's own note of the error is left out: it repeats the failed call, and
//!   the two sides may log the pair in either order within the same instant.
//!
//! Ports, windows, options and timestamps are not compared: ephemeral ports and ISNs are
//! random on the kernel, and the relative numbers carry what matters.
//!
//! Each stream is aligned by a longest common subsequence of its items' keys. A matched pair
//! is then checked in time: the gap from the previous matched pair of the same stream, or
//! failing that the time itself, must be the same on both sides within a tolerance that
//! reflects how precisely the kernel keeps time (see [`Tolerance`]). Gaps are compared so
//! that one late event does not make every later one late; times, so that an event the
//! script schedules is not late because the event before it was.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use tcplab_sim::{Dir, EventKind, Timeline};
use tcplab_stack::{Errno, Instant, TcpState};

/// The tolerance for a gap between two events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tolerance {
    /// The kernel's timer granularity: two jiffies (the arming and the firing tick each fall
    /// anywhere in a jiffy), plus the granularity of the timer-wheel level a timer of that
    /// length is filed in (`calc_wheel_index()`: 1 jiffy below 63 jiffies, 8 below 504, 64
    /// below 4032, …), plus 2 ms for scheduling.
    Kernel { hz: u32 },
    /// A fixed bound.
    Fixed(Duration),
}

impl Tolerance {
    /// How far apart the two sides' gaps may be when the simulator's gap is `gap`.
    pub fn for_gap(self, gap: Duration) -> Duration {
        match self {
            Tolerance::Fixed(d) => d,
            Tolerance::Kernel { hz } => {
                let hz = u64::from(hz.max(1));
                let jiffy_ns = 1_000_000_000 / hz;
                let jiffies = u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX) / jiffy_ns;
                // LVL_CLK_SHIFT 3, LVL_BITS 6: level n starts at 63 << (3 * (n - 1)).
                let mut granularity = 1u64;
                let mut start = 63u64;
                while jiffies >= start && granularity < (1 << 24) {
                    granularity <<= 3;
                    start <<= 3;
                }
                Duration::from_nanos((2 + granularity) * jiffy_ns) + Duration::from_millis(2)
            }
        }
    }
}

/// What a stream holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StreamKind {
    Sent,
    States,
    Errors,
}

impl StreamKind {
    pub fn title(self) -> &'static str {
        match self {
            StreamKind::Sent => "segments sent",
            StreamKind::States => "socket states",
            StreamKind::Errors => "errors",
        }
    }
}

/// One comparable event: `key` must be equal on both sides for a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub t: Instant,
    pub key: String,
}

/// How a row of the comparison came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// On both sides, gaps within the tolerance.
    Same,
    /// On both sides, but the gaps differ by more than the tolerance.
    Time {
        delta_ns: i64,
        tolerance: Duration,
    },
    OnlySim,
    OnlyKernel,
}

/// One row: an item of either side or a matched pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub sim: Option<Instant>,
    pub kernel: Option<Instant>,
    pub key: String,
    pub mark: Mark,
}

/// One host's stream of one kind, aligned.
#[derive(Clone, Debug)]
pub struct Stream {
    pub host: String,
    pub kind: StreamKind,
    pub rows: Vec<Row>,
}

impl Stream {
    pub fn differences(&self) -> usize {
        self.rows.iter().filter(|r| r.mark != Mark::Same).count()
    }
}

/// Names the host an address belongs to, for readable keys.
pub struct Names {
    by_addr: BTreeMap<IpAddr, String>,
}

impl Names {
    pub fn new(hosts: impl IntoIterator<Item = (IpAddr, String)>) -> Names {
        Names {
            by_addr: hosts.into_iter().collect(),
        }
    }

    fn of(&self, addr: IpAddr) -> String {
        self.by_addr
            .get(&addr)
            .cloned()
            .unwrap_or_else(|| addr.to_string())
    }
}

/// Splits a timeline into its comparable streams, keyed by (host, kind).
pub fn streams(tl: &Timeline, names: &Names) -> BTreeMap<(String, StreamKind), Vec<Item>> {
    let mut out: BTreeMap<(String, StreamKind), Vec<Item>> = BTreeMap::new();
    for e in tl.events() {
        let (host, kind, key) = match &e.kind {
            EventKind::Packet(p)
                if p.dir == Dir::Out
                    && p.dropped.is_none()
                    && p.proto == tcplab_wire::IPPROTO_TCP =>
            {
                let ack = p.ack.map(|a| format!(" ack {a}")).unwrap_or_default();
                let key = format!(
                    "> {} {} seq {}{ack} len {}",
                    names.of(p.dst.ip()),
                    p.flags,
                    p.seq,
                    p.len
                );
                (p.host.clone(), StreamKind::Sent, key)
            }
            // A socket leaving CLOSE is a `socket()` becoming a listener or a connect: the
            // kernel's tracepoint reports it, the simulator's timeline starts a socket in its
            // first state. Not a difference.
            EventKind::State { from, .. } if *from == TcpState::Close => continue,
            // Nor does it show a listener closing; the kernel's tracepoint does.
            EventKind::State { from, to, .. }
                if *from == TcpState::Listen && *to == TcpState::Close =>
            {
                continue;
            }
            EventKind::State {
                host,
                remote,
                from,
                to,
                ..
            } => {
                let key = format!("{from} -> {to} (with {})", names.of(remote.ip()));
                (host.clone(), StreamKind::States, key)
            }
            EventKind::Call {
                host,
                call,
                errno: Some(errno),
                ..
            } if *errno != Errno::EAGAIN => (
                host.clone(),
                StreamKind::Errors,
                format!("{call}() = -1 {}", errno.name()),
            ),
            _ => continue,
        };
        out.entry((host, kind))
            .or_default()
            .push(Item { t: e.t, key });
    }
    out
}

/// Above this many cells the alignment falls back to a greedy one (long transfers).
const MAX_LCS_CELLS: usize = 16_000_000;

/// Aligns two item lists: the pairs of indices that match, in order.
fn align(a: &[Item], b: &[Item]) -> Vec<(usize, usize)> {
    if a.len().saturating_mul(b.len()) > MAX_LCS_CELLS {
        return align_greedy(a, b);
    }
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the LCS length of a[i..] and b[j..], in one flat vector.
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i].key == b[j].key {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i].key == b[j].key {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// Matches each item of `a` with the next item of `b` that has its key, looking a bounded
/// distance ahead.
fn align_greedy(a: &[Item], b: &[Item]) -> Vec<(usize, usize)> {
    const AHEAD: usize = 64;
    let (mut j, mut pairs) = (0, Vec::new());
    for (i, x) in a.iter().enumerate() {
        if let Some(k) = b[j..].iter().take(AHEAD).position(|y| y.key == x.key) {
            pairs.push((i, j + k));
            j += k + 1;
        }
    }
    pairs
}

/// Aligns one stream of both sides and checks the matched pairs' gaps.
pub fn compare(sim: &[Item], kernel: &[Item], tolerance: Tolerance) -> Vec<Row> {
    let pairs = align(sim, kernel);
    let mut rows = Vec::new();
    let (mut i, mut j) = (0, 0);
    let mut prev: Option<(Instant, Instant)> = None;
    for (pi, pj) in pairs
        .into_iter()
        .chain(std::iter::once((sim.len(), kernel.len())))
    {
        // Unmatched items before the pair, in time order across both sides.
        while i < pi || j < pj {
            let take_sim = j >= pj || (i < pi && sim[i].t <= kernel[j].t);
            if take_sim {
                rows.push(Row {
                    sim: Some(sim[i].t),
                    kernel: None,
                    key: sim[i].key.clone(),
                    mark: Mark::OnlySim,
                });
                i += 1;
            } else {
                rows.push(Row {
                    sim: None,
                    kernel: Some(kernel[j].t),
                    key: kernel[j].key.clone(),
                    mark: Mark::OnlyKernel,
                });
                j += 1;
            }
        }
        if pi == sim.len() {
            break;
        }
        let (ts, tk) = (sim[pi].t, kernel[pj].t);
        let (ps, pk) = prev.unwrap_or((Instant::ZERO, Instant::ZERO));
        let gap_sim = ts.saturating_since(ps);
        let gap_kernel = tk.saturating_since(pk);
        let ns = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        let gap_delta = ns(gap_kernel) - ns(gap_sim);
        let abs_delta = tk.as_nanos() as i64 - ts.as_nanos() as i64;
        // An event the script schedules (a write at 15.6 s) agrees in absolute time even when
        // the event before it came late; one a timer makes agrees in its gap.
        let delta_ns = if abs_delta.unsigned_abs() < gap_delta.unsigned_abs() {
            abs_delta
        } else {
            gap_delta
        };
        let tol = tolerance.for_gap(gap_sim);
        let mark = if delta_ns.unsigned_abs() as u128 > tol.as_nanos() {
            Mark::Time {
                delta_ns,
                tolerance: tol,
            }
        } else {
            Mark::Same
        };
        rows.push(Row {
            sim: Some(ts),
            kernel: Some(tk),
            key: sim[pi].key.clone(),
            mark,
        });
        prev = Some((ts, tk));
        i = pi + 1;
        j = pj + 1;
    }
    rows
}

/// Every stream of either side, aligned and checked.
pub fn compare_timelines(
    sim: &Timeline,
    kernel: &Timeline,
    names: &Names,
    tolerance: Tolerance,
) -> Vec<Stream> {
    let mut a = streams(sim, names);
    let mut b = streams(kernel, names);
    let mut keys: Vec<(String, StreamKind)> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
    keys.dedup();
    keys.into_iter()
        .map(|(host, kind)| {
            let s = a.remove(&(host.clone(), kind)).unwrap_or_default();
            let k = b.remove(&(host.clone(), kind)).unwrap_or_default();
            Stream {
                rows: compare(&s, &k, tolerance),
                host,
                kind,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &[(u64, &str)]) -> Vec<Item> {
        list.iter()
            .map(|&(ms, k)| Item {
                t: Instant::from_millis(ms),
                key: k.to_string(),
            })
            .collect()
    }

    #[test]
    fn kernel_tolerance_follows_the_wheel_levels() {
        let t = Tolerance::Kernel { hz: 250 };
        // 200 ms = 50 jiffies: level 0, 1 jiffy of granularity: 3 jiffies + 2 ms.
        assert_eq!(
            t.for_gap(Duration::from_millis(200)),
            Duration::from_millis(14)
        );
        // 1.6 s = 400 jiffies: level 1, 8 jiffies: 10 jiffies + 2 ms.
        assert_eq!(
            t.for_gap(Duration::from_millis(1600)),
            Duration::from_millis(42)
        );
        // 3.2 s = 800 jiffies: level 2, 64 jiffies.
        assert_eq!(
            t.for_gap(Duration::from_millis(3200)),
            Duration::from_millis(266)
        );
    }

    #[test]
    fn equal_streams_agree_and_jitter_within_tolerance_is_no_difference() {
        let sim = items(&[(1000, "F."), (1208, "F."), (1624, "F.")]);
        let kernel = items(&[(1003, "F."), (1213, "F."), (1630, "F.")]);
        let rows = compare(&sim, &kernel, Tolerance::Kernel { hz: 250 });
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.mark == Mark::Same), "{rows:?}");
    }

    #[test]
    fn a_late_event_is_marked_once_with_its_delta() {
        let sim = items(&[(0, "S"), (1000, "S"), (2000, "S")]);
        let kernel = items(&[(0, "S"), (1500, "S"), (2500, "S")]);
        let rows = compare(&sim, &kernel, Tolerance::Fixed(Duration::from_millis(10)));
        assert_eq!(rows[0].mark, Mark::Same);
        assert_eq!(
            rows[1].mark,
            Mark::Time {
                delta_ns: 500_000_000,
                tolerance: Duration::from_millis(10)
            }
        );
        // The gap after the late one is the same on both sides.
        assert_eq!(rows[2].mark, Mark::Same);
    }

    #[test]
    fn a_scheduled_event_after_a_late_one_agrees_in_absolute_time() {
        let sim = items(&[(14_336, "read ETIMEDOUT"), (15_600, "write EPIPE")]);
        let kernel = items(&[(14_462, "read ETIMEDOUT"), (15_600, "write EPIPE")]);
        let rows = compare(&sim, &kernel, Tolerance::Kernel { hz: 250 });
        assert!(rows.iter().all(|r| r.mark == Mark::Same), "{rows:?}");
    }

    #[test]
    fn missing_and_extra_items_are_shown_on_their_side_in_time_order() {
        let sim = items(&[(0, "S"), (100, "F."), (300, "R.")]);
        let kernel = items(&[(0, "S"), (200, "P."), (300, "R.")]);
        let rows = compare(&sim, &kernel, Tolerance::Fixed(Duration::from_millis(10)));
        let marks: Vec<Mark> = rows.iter().map(|r| r.mark).collect();
        assert_eq!(
            marks,
            [Mark::Same, Mark::OnlySim, Mark::OnlyKernel, Mark::Same]
        );
        assert_eq!(rows[1].key, "F.");
        assert_eq!(rows[2].kernel, Some(Instant::from_millis(200)));
    }

    #[test]
    fn greedy_alignment_matches_in_order() {
        let a = items(&[(0, "a"), (1, "b"), (2, "c")]);
        let b = items(&[(0, "a"), (1, "x"), (2, "c")]);
        assert_eq!(align_greedy(&a, &b), [(0, 0), (2, 2)]);
        assert_eq!(align(&a, &b), [(0, 0), (2, 2)]);
    }
}
