//! The report: the kernel's state changes and captured packets merged with what the
//! applications and tools did, in time order, as a simulator timeline; then the packet
//! assertions over it.

use std::net::{IpAddr, SocketAddr};

use tcplab_sim::Dir;
use tcplab_sim::run::check_packet_expects;
use tcplab_sim::timeline::Timeline;

use super::*;
use crate::capture;

/// What the timeline is built from before sorting.
enum Item {
    Event(EventKind),
    Packet {
        host: usize,
        dir: Dir,
        bytes: Vec<u8>,
    },
}

impl Run<'_> {
    /// Stops the captures and the threads and builds the report.
    pub(crate) fn finish(mut self) -> Result<RunReport, RunError> {
        let end = self.now();
        for c in &mut self.script_dumps {
            if !c.stopped {
                c.dump.stop();
            }
        }
        for d in &mut self.dumps {
            d.stop();
        }
        let transitions = self.tracer.read().map_err(|e| self.error(None, e))?;
        let mut items: Vec<(Instant, usize, Item)> = Vec::new();
        let tids: Vec<u32> = self.workers.iter().map(|w| w.tid).collect();
        for w in std::mem::take(&mut self.workers) {
            let out = w.stop().map_err(|e| self.error(None, e))?;
            self.warnings.extend(out.warnings);
            items.extend(out.events.into_iter().map(|(t, k)| (t, 1, Item::Event(k))));
        }
        items.extend(
            std::mem::take(&mut self.events)
                .into_iter()
                .map(|(t, k)| (t, 1, Item::Event(k))),
        );
        let addrs: Vec<IpAddr> = self.sc.hosts.iter().map(|h| h.addr).collect();
        let mut packets: Vec<Vec<(Instant, Vec<u8>)>> = Vec::new();
        for (h, d) in self.dumps.iter().enumerate() {
            let mut mine = Vec::new();
            for (real_ns, bytes) in capture::read(&d.path).map_err(|e| self.error(None, e))? {
                let Some(ns) = real_ns.checked_sub(self.t0_real_ns) else {
                    continue;
                };
                let t = Instant::from_nanos(ns);
                let src = tcplab_wire::IpRepr::parse(&bytes)
                    .ok()
                    .map(|(ip, _)| ip.src());
                let dir = if src == Some(addrs[h]) {
                    Dir::Out
                } else {
                    Dir::In
                };
                mine.push((t, bytes.clone()));
                items.push((
                    t,
                    2,
                    Item::Packet {
                        host: h,
                        dir,
                        bytes,
                    },
                ));
            }
            packets.push(mine);
        }
        // The tracepoint sees every namespace, including the dying ones of earlier runs whose
        // orphans live on (a LAST_ACK socket retransmitting into a deleted namespace). A
        // connected socket's transition counts only if this run's captures hold a segment
        // of its connection; a wildcard one (a listener) only if this run's thread made it.
        let mut tuples = std::collections::HashSet::new();
        for mine in &packets {
            for (_, bytes) in mine {
                let Ok((ip, payload)) = tcplab_wire::IpRepr::parse(bytes) else {
                    continue;
                };
                if ip.protocol() != tcplab_wire::IPPROTO_TCP {
                    continue;
                }
                if let Ok(tcp) = tcplab_wire::TcpRepr::parse(payload) {
                    tuples.insert((ip.src(), tcp.src_port, ip.dst(), tcp.dst_port));
                }
            }
        }
        for tr in transitions {
            let Some(ns) = tr.mono_ns.checked_sub(self.t0_mono_ns) else {
                continue;
            };
            let connected = tr.local.1 != 0 && tr.remote.1 != 0;
            let tuple = (tr.local.0, tr.local.1, tr.remote.0, tr.remote.1);
            if connected && !tuples.contains(&tuple) {
                continue;
            }
            let host = match addrs.iter().position(|a| *a == tr.local.0) {
                Some(h) => h,
                None if tr.local.0.is_unspecified() => match tids.iter().position(|t| *t == tr.tid)
                {
                    Some(h) => h,
                    None => continue,
                },
                None => continue,
            };
            items.push((
                Instant::from_nanos(ns),
                0,
                Item::Event(EventKind::State {
                    host: self.sc.hosts[host].name.clone(),
                    local: SocketAddr::new(tr.local.0, tr.local.1),
                    remote: SocketAddr::new(tr.remote.0, tr.remote.1),
                    from: tr.from,
                    to: tr.to,
                }),
            ));
        }
        // Stable: at one instant, state changes, then calls and commands, then packets.
        items.sort_by_key(|(t, rank, _)| (*t, *rank));
        let mut tl = Timeline::new();
        for h in &self.sc.hosts {
            tl.widen(&h.name);
        }
        for (t, _, item) in items {
            match item {
                Item::Event(k) => tl.push(t, k),
                Item::Packet { host, dir, bytes } => {
                    tl.packet(t, &self.sc.hosts[host].name, dir, &bytes, None, None);
                }
            }
        }
        let forgiven: Vec<(Step, Duration)> = self
            .deferred
            .iter()
            .filter(|s| s.time <= self.end)
            .map(|s| {
                let late = self.late_by(s.time);
                (forgive_lateness(s, late), late)
            })
            .collect();
        let deferred: Vec<&Step> = forgiven.iter().map(|(s, _)| s).collect();
        let mut checked = check_packet_expects(self.sc, tl.events(), &deferred, end);
        for r in checked.iter_mut().filter(|r| !r.passed) {
            let late = forgiven
                .iter()
                .find(|(s, _)| expect_span(s) == Some(r.span))
                .map(|(_, late)| *late);
            if let Some(late) = late.filter(|l| !l.is_zero()) {
                r.seen.push_str(&format!(
                    " (the host commands at this step's time ended {:.3} ms after it, and \
                     its relative times were allowed that much later)",
                    late.as_secs_f64() * 1e3
                ));
            }
        }
        self.results.extend(checked);
        self.results.sort_by_key(|r| r.span);
        let mut files: Vec<PathBuf> = self
            .script_dumps
            .iter()
            .map(|c| c.dump.path.clone())
            .collect();
        if let Some(dir) = self.opts.pcap_dir.clone() {
            std::fs::create_dir_all(&dir).map_err(|e| {
                self.error(
                    None,
                    format!("cannot create the pcap directory {}: {e}", dir.display()),
                )
            })?;
            for (h, mine) in packets.iter().enumerate() {
                let path = dir.join(format!("{}.pcap", self.sc.hosts[h].name));
                tcplab_pcap::write_file(
                    &path,
                    mine.iter().map(|(t, b)| (t.as_nanos(), b.as_slice())),
                )
                .map_err(|e| self.error(None, format!("cannot write {}: {e}", path.display())))?;
                files.push(path);
            }
        }
        Ok(RunReport {
            hash: tl.hash(),
            timeline: tl,
            assertions: std::mem::take(&mut self.results),
            warnings: std::mem::take(&mut self.warnings),
            end,
            files,
        })
    }
}

impl Run<'_> {
    /// How late the host commands scheduled at `at` finished (zero if there were none).
    fn late_by(&self, at: Duration) -> Duration {
        self.acted
            .get(&at)
            .map_or(Duration::ZERO, |&done| done.saturating_sub(at))
    }
}

/// The span of a packet assertion.
fn expect_span(step: &Step) -> Option<Span> {
    match &step.command {
        Command::Expect(Expect::Packet { span, .. } | Expect::NoPacket { span, .. }) => Some(*span),
        _ => None,
    }
}

/// `step` with its relative times forgiving `late`: a real-time run starts a step's host
/// commands when its time comes, but a busy machine can finish them milliseconds later, and
/// what they cause on the wire (a FIN from a kill, the retransmissions timed from it) moves
/// with them. A relative time (`+205ms`, counted from the step) then matches up to `late`
/// later than written, and a relative `from` starts `late` later; nothing is allowed earlier
/// than written, and absolute times and `until` are unchanged. In the simulator steps run
/// exactly on time, so this is for the kernel backend only.
fn forgive_lateness(step: &Step, late: Duration) -> Step {
    let mut step = step.clone();
    if late.is_zero() {
        return step;
    }
    match &mut step.command {
        Command::Expect(Expect::Packet { times, .. }) => {
            for tp in times.iter_mut().filter(|tp| tp.time.relative) {
                // [t - tol, t + late + tol] as a centre and a symmetric tolerance.
                let half = late / 2;
                tp.time.time += half;
                tp.tolerance += late - half;
            }
        }
        Command::Expect(Expect::NoPacket {
            from: Some(from), ..
        }) if from.relative => from.time += late,
        _ => {}
    }
    step
}

#[cfg(test)]
mod tests {
    use tcplab_sim::run::within;
    use tcplab_sim::scenario::{TimePoint, parse};

    use super::*;

    const SCRIPT: &str = "host a 10.0.0.1\nhost b 10.0.0.2\n\
        at 1s a: sysctl -w net.ipv4.tcp_orphan_retries=3\n\
        expect packet a > b flags F. at +0s ±1ms, 1.2s ±1ms\n\
        expect no packet a > b flags F. from +3s until +4s\n\
        run 5s\n";

    fn packet_times(step: &Step) -> Vec<TimePoint> {
        match &step.command {
            Command::Expect(Expect::Packet { times, .. }) => times.clone(),
            _ => panic!("not a packet assertion: {}", step.text),
        }
    }

    #[test]
    fn relative_times_forgive_the_measured_lateness_and_only_on_the_late_side() {
        let sc = parse("t.tcplab", SCRIPT).unwrap();
        let late = Duration::from_millis(5);
        let step = forgive_lateness(&sc.steps[1], late);
        let times = packet_times(&step);
        let ms = |m: u64| Instant::from_micros(m * 1000);
        // +0s from 1 s: [0.999, 1.006] now, where it was [0.999, 1.001].
        assert!(!within(ms(998), &times[0]));
        assert!(within(ms(999), &times[0]));
        assert!(within(ms(1005), &times[0]));
        assert!(within(ms(1006), &times[0]));
        assert!(!within(ms(1007), &times[0]));
        // An absolute time is not moved.
        assert_eq!(times[1], packet_times(&sc.steps[1])[1]);
        // `from` starts later; `until` stays.
        let Command::Expect(Expect::NoPacket { from, until, .. }) =
            &forgive_lateness(&sc.steps[2], late).command
        else {
            panic!("not a no-packet assertion");
        };
        assert_eq!(from.map(|f| f.time), Some(Duration::from_millis(4005)));
        assert_eq!(until.map(|u| u.time), Some(Duration::from_secs(5)));
        // On time: nothing changes.
        assert_eq!(forgive_lateness(&sc.steps[1], Duration::ZERO), sc.steps[1]);
    }
}
