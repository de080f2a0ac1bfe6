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
        let deferred: Vec<&Step> = self
            .deferred
            .iter()
            .copied()
            .filter(|s| s.time <= self.end)
            .collect();
        self.results
            .extend(check_packet_expects(self.sc, tl.events(), &deferred, end));
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
