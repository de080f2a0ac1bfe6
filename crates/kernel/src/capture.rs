//! Packet captures: the real `tcpdump`, run inside a host's namespace on its `eth0`, which
//! sees both directions of every packet that reaches the wire (an OUTPUT drop never does).
//!
//! [`Tcpdump::start`] returns once tcpdump says it is listening, so nothing sent afterwards
//! is missed; [`Tcpdump::stop`] interrupts it (tcpdump flushes its file on SIGINT) and waits
//! for it. Dropping a running [`Tcpdump`] kills it. Timestamps are nanoseconds of
//! `CLOCK_REALTIME` (tcpdump's clock), mapped to the scenario's time by the caller.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::lab::in_ns;

/// How long tcpdump may take to start listening.
const START: Duration = Duration::from_secs(5);

/// A running tcpdump. See the module docs.
#[derive(Debug)]
pub(crate) struct Tcpdump {
    child: Option<Child>,
    pub path: PathBuf,
}

impl Tcpdump {
    /// `tcpdump -i IFACE -w PATH FILTER…` in namespace `ns`.
    pub(crate) fn start(
        ns: &str,
        iface: &str,
        path: &Path,
        filter: &[String],
    ) -> Result<Tcpdump, String> {
        let path_s = path.to_string_lossy().into_owned();
        let mut args: Vec<&str> = vec![
            "-i",
            iface,
            "-n",
            "-U",
            // Without it libpcap hands packets over in blocks, after up to a second, and
            // the packets of the last block before the SIGINT are never written.
            "--immediate-mode",
            "-s",
            "0",
            "-Z",
            "root",
            "--time-stamp-precision=nano",
            "-w",
            &path_s,
        ];
        args.extend(filter.iter().map(String::as_str));
        let mut child = in_ns(ns, "tcpdump", &args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run tcpdump: {e}"))?;
        let stderr = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            let mut said = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(Ok(()));
                    // Keep reading so tcpdump never blocks on a full pipe.
                    continue;
                }
                said.push_str(&line);
                said.push('\n');
            }
            let _ = tx.send(Err(said));
        });
        let mut t = Tcpdump {
            child: Some(child),
            path: path.to_path_buf(),
        };
        match rx.recv_timeout(START) {
            Ok(Ok(())) => Ok(t),
            Ok(Err(said)) => {
                t.kill();
                Err(format!(
                    "tcpdump -i {iface} -w {path_s} did not start: {}",
                    said.trim()
                ))
            }
            Err(_) => {
                t.kill();
                Err(format!(
                    "tcpdump -i {iface} did not start listening within {START:?}"
                ))
            }
        }
    }

    /// Interrupts tcpdump and waits until it has written its file.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            }
            for _ in 0..200 {
                if matches!(c.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The IP datagrams of a capture file with their `CLOCK_REALTIME` times.
pub(crate) fn read(path: &Path) -> Result<Vec<(u64, Vec<u8>)>, String> {
    let packets = tcplab_pcap::read_file(path)
        .map_err(|e| format!("cannot read the capture {}: {e}", path.display()))?;
    Ok(packets
        .into_iter()
        .map(|p| (p.time_ns, p.datagram))
        .collect())
}
