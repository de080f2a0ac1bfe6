//! The network a scenario runs on: one network namespace per host and one for the switch.
//!
//! Each host's namespace has `lo` and `eth0` (one end of a veth pair whose other end is a
//! port of bridge `br0` in the switch namespace), the host's address on `eth0` with a prefix
//! that puts every host of the same family on-link, static neighbour entries for the other
//! hosts (so that no ARP or neighbour discovery delays the first segment, as in the
//! simulator, which has no link layer), GSO limited to one segment (so that captures show
//! the segments the wire carries, not 64 KB super-packets), and `cubic`, Linux's default
//! congestion control (the host's own default may differ; new namespaces inherit it; where
//! the namespace may not choose it, each socket does, see `cubic_per_socket`).
//!
//! Guarantees: [`Lab`] owns everything it made; dropping it deletes every namespace it made
//! (and with them their devices, qdiscs, iptables rules and sockets), also when creation
//! failed half-way. Nothing is connected to the host's own namespace, so no traffic leaves.

use std::net::IpAddr;
use std::process::{Command, Output};

/// A command that failed: the command line and what it printed.
pub(crate) fn run(cmd: &mut Command) -> Result<Output, String> {
    let line = command_text(cmd);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run `{line}`: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(format!("`{line}` failed: {err}"))
    }
}

fn command_text(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `ip netns exec NS PROGRAM ARGS…`.
pub(crate) fn in_ns(ns: &str, program: &str, args: &[&str]) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, program]).args(args);
    c
}

fn ip(args: &[&str]) -> Result<(), String> {
    run(Command::new("ip").args(args)).map(drop)
}

/// One host of the lab.
#[derive(Clone, Debug)]
pub(crate) struct LabHost {
    pub name: String,
    /// The host's namespace; for a tcplab host, the switch's (where its TAP port is).
    pub ns: String,
    pub addr: IpAddr,
    pub mac: String,
    /// A tcplab host: the name of its TAP port on the bridge, made by its thread.
    pub tap: Option<String>,
}

impl LabHost {
    /// The interface its packets cross: `eth0` in its namespace, or its TAP port.
    pub(crate) fn iface(&self) -> &str {
        self.tap.as_deref().unwrap_or(IFACE)
    }
}

/// The namespaces of one run. See the module docs.
#[derive(Debug)]
pub(crate) struct Lab {
    pub switch_ns: String,
    pub hosts: Vec<LabHost>,
    /// Namespaces made so far, deleted on drop.
    made: Vec<String>,
    /// A namespace may not choose cubic (the host's `tcp_allowed_congestion_control` lacks
    /// it): each socket sets it with TCP_CONGESTION instead, as root may.
    pub cubic_per_socket: bool,
}

/// The interface every host has.
pub(crate) const IFACE: &str = "eth0";

/// The longest prefix, capped at `cap`, that `addrs` (all of one family) share.
pub(crate) fn common_prefix(addrs: &[IpAddr], cap: u32) -> u32 {
    let bits = |a: &IpAddr| -> u128 {
        match a {
            IpAddr::V4(v) => u128::from(u32::from(*v)) << 96,
            IpAddr::V6(v) => u128::from(*v),
        }
    };
    let Some(first) = addrs.first() else {
        return cap;
    };
    let mut len = cap;
    for a in &addrs[1..] {
        let diff = bits(first) ^ bits(a);
        len = len.min(diff.leading_zeros());
    }
    len
}

impl Lab {
    /// Namespace names for a run: `PREFIX-HOST` for each host and `PREFIX-switch` (with
    /// digits added if a host has that name).
    pub(crate) fn names(prefix: &str, hosts: &[String]) -> (String, Vec<String>) {
        let mut switch = format!("{prefix}-switch");
        let mut n = 0;
        while hosts.iter().any(|h| format!("{prefix}-{h}") == switch) {
            n += 1;
            switch = format!("{prefix}-switch{n}");
        }
        let ns = hosts.iter().map(|h| format!("{prefix}-{h}")).collect();
        (switch, ns)
    }

    /// Builds the network: a namespace and veth for each kernel host, nothing yet for a
    /// tcplab host (`hosts[i].2`), whose thread makes its TAP port ([`Lab::attach`]). On an
    /// error everything made so far is removed.
    pub(crate) fn create(prefix: &str, hosts: &[(String, IpAddr, bool)]) -> Result<Lab, String> {
        let names: Vec<String> = hosts.iter().map(|h| h.0.clone()).collect();
        let (switch_ns, ns_names) = Lab::names(prefix, &names);
        let mut lab = Lab {
            switch_ns,
            hosts: Vec::new(),
            made: Vec::new(),
            cubic_per_socket: false,
        };
        for (i, ((name, addr, tcplab), ns)) in hosts.iter().zip(ns_names).enumerate() {
            let (ns, tap) = if *tcplab {
                (lab.switch_ns.clone(), Some(format!("tap{i}")))
            } else {
                (ns, None)
            };
            lab.hosts.push(LabHost {
                name: name.clone(),
                ns,
                tap,
                addr: *addr,
                mac: format!(
                    "02:74:6c:{:02x}:{:02x}:{:02x}",
                    i >> 16,
                    (i >> 8) & 0xff,
                    i & 0xff
                ),
            });
        }
        lab.build()?;
        Ok(lab)
    }

    /// A namespace; without IPv6 unless `v6` (so that no router solicitation or MLD report
    /// shows up in the captures).
    fn add_ns(&mut self, ns: &str, v6: bool) -> Result<(), String> {
        ip(&["netns", "add", ns])?;
        self.made.push(ns.to_string());
        if !v6 {
            for key in [
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ] {
                run(&mut in_ns(ns, "sysctl", &["-qw", key]))?;
            }
        }
        Ok(())
    }

    fn build(&mut self) -> Result<(), String> {
        let sw = self.switch_ns.clone();
        self.add_ns(&sw, false)?;
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        let v4: Vec<IpAddr> = self
            .hosts
            .iter()
            .map(|h| h.addr)
            .filter(IpAddr::is_ipv4)
            .collect();
        let v6: Vec<IpAddr> = self
            .hosts
            .iter()
            .map(|h| h.addr)
            .filter(IpAddr::is_ipv6)
            .collect();
        let (p4, p6) = (common_prefix(&v4, 24), common_prefix(&v6, 64));
        for (i, h) in self.hosts.clone().iter().enumerate() {
            if h.tap.is_some() {
                continue;
            }
            self.add_ns(&h.ns, h.addr.is_ipv6())?;
            let port = format!("h{i}");
            ip(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", IFACE, "address",
                &h.mac, "netns", &h.ns,
            ])?;
            ip(&["-n", &sw, "link", "set", &port, "master", "br0", "up"])?;
            ip(&["-n", &h.ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &h.ns, "link", "set", IFACE, "gso_max_segs", "1"])?;
            let cidr = match h.addr {
                IpAddr::V4(a) => format!("{a}/{p4}"),
                IpAddr::V6(a) => format!("{a}/{p6}"),
            };
            let mut args = vec!["-n", &h.ns, "addr", "add", &cidr, "dev", IFACE];
            if h.addr.is_ipv6() {
                args.push("nodad");
            }
            ip(&args)?;
            ip(&["-n", &h.ns, "link", "set", IFACE, "up"])?;
            if run(&mut in_ns(
                &h.ns,
                "sysctl",
                &["-qw", "net.ipv4.tcp_congestion_control=cubic"],
            ))
            .is_err()
            {
                self.cubic_per_socket = true;
            }
        }
        for h in self.hosts.iter().filter(|h| h.tap.is_none()) {
            for peer in &self.hosts {
                if peer.name == h.name || peer.addr.is_ipv4() != h.addr.is_ipv4() {
                    continue;
                }
                let a = peer.addr.to_string();
                ip(&[
                    "-n",
                    &h.ns,
                    "neigh",
                    "replace",
                    &a,
                    "lladdr",
                    &peer.mac,
                    "dev",
                    IFACE,
                    "nud",
                    "permanent",
                ])?;
            }
        }
        Ok(())
    }
}

impl Lab {
    /// Makes a tcplab host's TAP port (made by its thread) a port of the bridge, up.
    pub(crate) fn attach(&self, host: usize) -> Result<(), String> {
        let Some(tap) = self.hosts.get(host).and_then(|h| h.tap.clone()) else {
            return Ok(());
        };
        let sw = &self.switch_ns;
        ip(&["-n", sw, "link", "set", &tap, "master", "br0"])?;
        ip(&["-n", sw, "link", "set", &tap, "up"])
    }

    /// The MAC address of every host, by address.
    pub(crate) fn macs(&self) -> Vec<(IpAddr, [u8; 6])> {
        self.hosts
            .iter()
            .filter_map(|h| Some((h.addr, tcplab_tun::parse_mac(&h.mac)?)))
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.made.drain(..).rev() {
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_put_hosts_on_link() {
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(common_prefix(&[a("10.77.0.1"), a("10.77.0.2")], 24), 24);
        assert_eq!(common_prefix(&[a("10.77.0.1"), a("10.78.0.2")], 24), 14);
        assert_eq!(common_prefix(&[a("fd00::1"), a("fd00::2")], 64), 64);
        assert_eq!(common_prefix(&[], 24), 24);
    }

    #[test]
    fn the_switch_never_takes_a_host_name() {
        let (sw, ns) = Lab::names("tcplab-7", &["switch".into(), "b".into()]);
        assert_eq!(sw, "tcplab-7-switch1");
        assert_eq!(ns, vec!["tcplab-7-switch", "tcplab-7-b"]);
    }
}
