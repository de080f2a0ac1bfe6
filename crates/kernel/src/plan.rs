//! What the kernel can realise of a scenario, decided before anything is created.
//!
//! [`check`] walks every line: a `link` property the host kernel's queueing disciplines
//! cannot give, or a setting that cannot hold on the real kernel, is a [`RunError`] pointing
//! at the line with the reason; a setting that only differs (the script's `hz` against the
//! kernel's) is a [`RunWarning`]. [`netem_args`] turns one direction's properties into
//! `tc … netem` arguments with the simulator's meaning.
//!
//! A `setsockopt NAME SO_LINGER on T` with T > 0 is refused: close() would then sleep until
//! the FIN is acknowledged or T runs out, even on a non-blocking socket, and a host's
//! processes share one thread here, so every other socket of the host would stall with it.
//! `SO_LINGER on 0` (close() resets at once) and an exiting process (`kill`: an exiting
//! process does not linger) are fine.
//!
//! Without netem (`CONFIG_NET_SCH_NETEM`), a one-way delay up to [`VETH_LATENCY`] is taken
//! as realised by the veth pair itself, whose own latency is of that order; anything else on
//! a link line is an error.

use std::time::Duration;

use tcplab_sim::scenario::{Command, HostCommand, Link, LinkPropKind, Ppm, Scenario, Span};
use tcplab_sim::{RunError, RunWarning};
use tcplab_stack::SockOpt;

/// The largest delay a bare veth pair stands for when the kernel has no netem.
pub(crate) const VETH_LATENCY: Duration = Duration::from_micros(100);

/// What the host kernel offers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KernelCaps {
    pub hz: u32,
    pub netem: bool,
}

/// One direction's link properties, as the simulator keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DirParams {
    pub delay: Duration,
    pub jitter: Duration,
    /// Bits per second.
    pub rate: Option<u64>,
    pub queue: Option<u32>,
    pub loss: Ppm,
    pub dup: Ppm,
    pub reorder: Option<(Ppm, Duration)>,
    pub corrupt: Ppm,
}

impl Default for DirParams {
    fn default() -> DirParams {
        DirParams {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            rate: None,
            queue: None,
            loss: Ppm(0),
            dup: Ppm(0),
            reorder: None,
            corrupt: Ppm(0),
        }
    }
}

impl DirParams {
    pub(crate) fn apply(&mut self, kind: LinkPropKind) {
        match kind {
            LinkPropKind::Delay(d) => self.delay = d,
            LinkPropKind::Jitter(d) => self.jitter = d,
            LinkPropKind::Rate(b) => self.rate = Some(b),
            LinkPropKind::Queue(n) => self.queue = Some(n),
            LinkPropKind::Loss(p) => self.loss = p,
            LinkPropKind::Dup(p) => self.dup = p,
            LinkPropKind::Reorder(p, d) => self.reorder = Some((p, d)),
            LinkPropKind::Corrupt(p) => self.corrupt = p,
        }
    }

    /// Why the kernel cannot give these properties, if it cannot.
    fn unrealisable(&self, caps: KernelCaps) -> Option<String> {
        if !caps.netem {
            let why =
                "this kernel has no netem queueing discipline (CONFIG_NET_SCH_NETEM is not set)";
            if self.delay > VETH_LATENCY {
                return Some(format!(
                    "a delay above {} needs netem, and {why}",
                    tcplab_sim::scenario::format_duration(VETH_LATENCY)
                ));
            }
            let extra = self.jitter > Duration::ZERO
                || self.rate.is_some()
                || self.queue.is_some()
                || self.loss.0 > 0
                || self.dup.0 > 0
                || self.reorder.is_some_and(|(p, _)| p.0 > 0)
                || self.corrupt.0 > 0;
            if extra {
                return Some(format!(
                    "jitter, rate, queue, loss, dup, reorder and corrupt need netem, and {why}"
                ));
            }
            return None;
        }
        if let Some((p, _)) = self.reorder
            && p.0 > 0
            && p.0 < 1_000_000
            && (self.delay > Duration::ZERO || self.jitter > Duration::ZERO)
        {
            return Some(
                "netem's reorder sends a share of packets at once and delays the rest, so the simulator's `reorder P D` (hold a share back D longer) can be given only on a direction without delay or jitter"
                    .into(),
            );
        }
        None
    }
}

fn ppm_percent(p: Ppm) -> String {
    format!("{}.{:04}%", p.0 / 10_000, p.0 % 10_000)
}

fn time_arg(d: Duration) -> String {
    let ns = d.as_nanos();
    format!("{}.{:03}us", ns / 1000, ns % 1000)
}

/// `tc qdisc … netem ARGS` for one direction, with the simulator's meaning: the delay is
/// one-way, jitter is uniform around it, `reorder P D` on a direction without delay is netem's
/// `delay D reorder (100-P)%` (the rest go at once), a queue limit applies only with a rate.
pub(crate) fn netem_args(p: &DirParams) -> Vec<String> {
    let mut a = vec!["netem".to_string()];
    let (delay, reorder) = match p.reorder {
        Some((r, d)) if r.0 >= 1_000_000 => (d, None),
        Some((r, d)) if r.0 > 0 => (d, Some(Ppm(1_000_000 - r.0))),
        _ => (p.delay, None),
    };
    a.extend(["delay".into(), time_arg(delay)]);
    if p.jitter > Duration::ZERO {
        a.push(time_arg(p.jitter));
    }
    if let Some(r) = reorder {
        a.extend(["reorder".into(), ppm_percent(r)]);
    }
    if let Some(rate) = p.rate {
        a.extend(["rate".into(), format!("{rate}bit")]);
    }
    let limit = match (p.rate, p.queue) {
        (Some(_), Some(q)) => q,
        _ => 1_000_000,
    };
    a.extend(["limit".into(), limit.to_string()]);
    for (word, v) in [
        ("loss", p.loss),
        ("duplicate", p.dup),
        ("corrupt", p.corrupt),
    ] {
        if v.0 > 0 {
            a.extend([word.to_string(), ppm_percent(v)]);
        }
    }
    a
}

fn err(sc: &Scenario, span: Span, message: String) -> RunError {
    RunError {
        file: sc.file.clone(),
        span: Some(span),
        message,
    }
}

/// Every link line in time order (the initial ones, then the `at … link` steps).
pub(crate) fn link_lines(sc: &Scenario) -> Vec<&Link> {
    let mut v: Vec<&Link> = sc.links.iter().collect();
    v.extend(sc.steps.iter().filter_map(|s| match &s.command {
        Command::Link(l) => Some(l),
        _ => None,
    }));
    v
}

/// The directions a link line sets: (from, to) host indices.
pub(crate) fn directions(l: &Link) -> Vec<(usize, usize)> {
    let mut v = vec![(l.from.index, l.to.index)];
    if l.both_ways {
        v.push((l.to.index, l.from.index));
    }
    v
}

/// Checks that the kernel can realise every line; returns the warnings. See the module docs.
pub(crate) fn check(sc: &Scenario, caps: KernelCaps) -> Result<Vec<RunWarning>, RunError> {
    let mut warnings = Vec::new();
    if sc.hosts.is_empty() {
        return Err(RunError {
            file: sc.file.clone(),
            span: None,
            message: "the scenario has no host; expected at least one `host NAME ADDR` line".into(),
        });
    }
    let any_kernel_host = |h: &tcplab_sim::scenario::HzSetting| match &h.host {
        Some(r) => sc.hosts.get(r.index).is_some_and(|x| x.kernel),
        None => sc.hosts.iter().any(|x| x.kernel),
    };
    for h in sc.settings.hz.iter().filter(|h| any_kernel_host(h)) {
        if h.hz != caps.hz {
            warnings.push(RunWarning {
                span: h.span,
                message: format!(
                    "hz {}: the kernel runs at HZ={} (CONFIG_HZ), which a script cannot change; its timers tick at {} Hz",
                    h.hz, caps.hz, caps.hz
                ),
            });
        }
    }
    for step in &sc.steps {
        if let Command::Host(
            h,
            HostCommand::Setsockopt {
                sock,
                opt: SockOpt::Linger(Some(secs)),
                span,
            },
        ) = &step.command
            && *secs > 0
        {
            return Err(err(
                sc,
                *span,
                format!(
                    "the real-time backend cannot run a lingering close yet: with SO_LINGER on {secs}, close {} on host `{}` would sleep up to {secs} s, and with it every other socket of the host (they share one thread); use SO_LINGER on 0, end the process with `kill`, or run the script in the simulator",
                    sock.name, h.name
                ),
            ));
        }
    }
    let n = sc.hosts.len();
    let mut params = vec![DirParams::default(); n * n];
    for l in link_lines(sc) {
        for (a, b) in directions(l) {
            let p = &mut params[a * n + b];
            for prop in &l.props {
                p.apply(prop.kind);
            }
            let from_tcplab = sc.hosts.get(a).is_some_and(|h| !h.kernel);
            if from_tcplab && caps.netem && *p != DirParams::default() {
                return Err(err(
                    sc,
                    l.span,
                    format!(
                        "the real-time backend cannot realise this link line: the direction from tcplab host `{}` would need a queueing discipline on its TAP port, which is not supported yet; set link properties only on directions from kernel hosts",
                        sc.hosts[a].name
                    ),
                ));
            }
            if let Some(why) = p.unrealisable(caps) {
                return Err(err(
                    sc,
                    l.span,
                    format!("the kernel backend cannot realise this link line: {why}"),
                ));
            }
        }
    }
    if !caps.netem
        && let Some(l) = link_lines(sc).into_iter().find(|l| {
            l.props
                .iter()
                .any(|p| matches!(p.kind, LinkPropKind::Delay(d) if d > Duration::ZERO))
        })
    {
        warnings.push(RunWarning {
            span: l.span,
            message: format!(
                "the kernel has no netem: the veth pair's own latency (tens of microseconds) stands for delays up to {}",
                tcplab_sim::scenario::format_duration(VETH_LATENCY)
            ),
        });
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lingering_close_is_refused_and_a_reset_close_is_not() {
        let caps = KernelCaps {
            hz: 250,
            netem: false,
        };
        let src = "host a 10.0.0.1 kernel\nhost b 10.0.0.2\nb: listen 80 as l\na: socket s\na: setsockopt s SO_LINGER on 5\na: connect 10.0.0.2:80 as s\nat 1s a: close s\n";
        let e = check(&parse(src), caps).unwrap_err();
        assert_eq!(e.span.map(|s| s.line), Some(5), "{e}");
        assert!(e.message.contains("lingering close"), "{e}");
        let src = src.replace("on 5", "on 0");
        assert!(check(&parse(&src), caps).is_ok());
    }

    fn parse(src: &str) -> Scenario {
        tcplab_sim::scenario::parse("t.tcplab", src).unwrap()
    }

    /// `src` with every host on the kernel, as `run_on_kernel` runs it.
    fn all_kernel(src: &str) -> Scenario {
        let mut sc = parse(src);
        for h in &mut sc.hosts {
            h.kernel = true;
        }
        sc
    }

    const NO_NETEM: KernelCaps = KernelCaps {
        hz: 250,
        netem: false,
    };
    const NETEM: KernelCaps = KernelCaps {
        hz: 250,
        netem: true,
    };

    #[test]
    fn netem_arguments_mean_what_the_simulator_means() {
        let mut p = DirParams::default();
        p.apply(LinkPropKind::Delay(Duration::from_millis(25)));
        p.apply(LinkPropKind::Jitter(Duration::from_micros(1500)));
        p.apply(LinkPropKind::Loss(Ppm(10_000)));
        assert_eq!(
            netem_args(&p).join(" "),
            "netem delay 25000.000us 1500.000us limit 1000000 loss 1.0000%"
        );
        let mut r = DirParams::default();
        r.apply(LinkPropKind::Reorder(
            Ppm(50_000),
            Duration::from_millis(10),
        ));
        r.apply(LinkPropKind::Rate(10_000_000));
        r.apply(LinkPropKind::Queue(100));
        assert_eq!(
            netem_args(&r).join(" "),
            "netem delay 10000.000us reorder 95.0000% rate 10000000bit limit 100"
        );
    }

    #[test]
    fn a_direction_from_a_tcplab_host_takes_no_netem() {
        let src = "host a 10.0.0.1\nhost b 10.0.0.2 kernel\nlink b -> a delay 5ms\n";
        assert!(check(&parse(src), NETEM).is_ok());
        let src = "host a 10.0.0.1\nhost b 10.0.0.2 kernel\nlink a b delay 5ms\n";
        let e = check(&parse(src), NETEM).unwrap_err();
        assert_eq!(e.span.map(|s| s.line), Some(3));
        assert!(e.message.contains("tcplab host `a`"), "{}", e.message);
        // Without netem a short delay is the bridge's own, whichever way.
        let src = "host a 10.0.0.1\nhost b 10.0.0.2 kernel\nlink a b delay 25us\nhz 100\n";
        let w = check(&parse(src), NO_NETEM).unwrap();
        // The hz line warns for the kernel host only.
        assert_eq!(w.iter().filter(|w| w.message.contains("HZ=250")).count(), 1);
        let src = "host a 10.0.0.1\nhost b 10.0.0.2 kernel\na: hz 100\n";
        assert!(check(&parse(src), NO_NETEM).unwrap().is_empty());
    }

    #[test]
    fn what_cannot_be_realised_names_its_line() {
        let sc = all_kernel("host a 10.0.0.1\nhost b 10.0.0.2\nlink a b delay 50ms\n");
        let e = check(&sc, NO_NETEM).unwrap_err();
        assert_eq!(e.span.map(|s| s.line), Some(3));
        assert!(e.message.contains("cannot realise"), "{}", e.message);
        assert!(check(&sc, NETEM).is_ok());
        let sc =
            all_kernel("host a 10.0.0.1\nhost b 10.0.0.2\nlink a b delay 5ms reorder 5% 10ms\n");
        assert!(check(&sc, NETEM).unwrap_err().message.contains("reorder"));
        let sc = all_kernel("host a 10.0.0.1\nhost b 10.0.0.2\nlink a b delay 25us\nhz 1000\n");
        let w = check(&sc, NO_NETEM).unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w.iter().any(|w| w.message.contains("HZ=250")));
    }
}
