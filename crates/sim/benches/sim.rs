//! Wall-time figures of the simulator, printed by `cargo bench -p tcplab-sim`.
//!
//! - retries2: two hosts; after the handshake the server's OUTPUT chain drops everything to
//!   the client, the client sends 100 bytes and retransmits until tcp_retries2 gives up
//!   (ETIMEDOUT); 1000 s of virtual time with tcp_retries2 = 5 and with the default 15,
//!   median of several runs, and events per second;
//! - bulk: 64 MiB over a clean 25 µs link, virtual and wall time.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcplab_sim::{EventKind, HostConfig, Sim, SimError};
use tcplab_stack::{Errno, Instant};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const RUNS: usize = 7;

fn two_hosts(seed: u64, retries2: u8) -> Result<Sim, SimError> {
    let mut sim = Sim::new(seed);
    let mut config = HostConfig::default();
    config.sysctls.tcp_retries2 = retries2;
    sim.add_host("client", CLIENT, config.clone())?;
    sim.add_host("server", SERVER, config)?;
    Ok(sim)
}

/// One run of the retries2 experiment: wall time, events on the timeline, and when the
/// client saw ETIMEDOUT.
fn retries2(retries2: u8) -> Result<(Duration, usize, Option<Instant>), SimError> {
    let started = std::time::Instant::now();
    let mut sim = two_hosts(9, retries2)?;
    let server = sim.nc_listen("server", 1234)?;
    let client = sim.nc_connect("client", SocketAddr::new(SERVER, 1234))?;
    sim.run_until(Instant::from_secs(1))?;
    sim.set_read(server, None, false)?;
    sim.iptables("server", &["-A", "OUTPUT", "-d", "10.0.0.1", "-j", "DROP"])?;
    sim.send(client, None, 100)?;
    sim.run_until(Instant::from_secs(1001))?;
    let wall = started.elapsed();
    let timed_out = sim.timeline().events().iter().find_map(|e| match &e.kind {
        EventKind::App {
            errno: Some(Errno::ETIMEDOUT),
            ..
        } => Some(e.t),
        _ => None,
    });
    Ok((wall, sim.timeline().events().len(), timed_out))
}

/// 64 MiB from client to server over the default link: virtual time to the last byte read,
/// wall time, events.
fn bulk(bytes: u64) -> Result<(Instant, Duration, u64), SimError> {
    let started = std::time::Instant::now();
    let mut sim = two_hosts(3, 15)?;
    // The hash still covers every event; keeping them would only measure the allocator.
    sim.timeline_mut().set_keep(false);
    let server = sim.nc_listen("server", 5001)?;
    let client = sim.nc_connect("client", SocketAddr::new(SERVER, 5001))?;
    sim.run_until(Instant::from_millis(1))?;
    sim.send(client, None, bytes)?;
    let received = |sim: &Sim| {
        sim.process(server)
            .map(|p| p.socks.values().map(|s| s.received).sum::<u64>())
            .unwrap_or(0)
    };
    let mut done = Instant::ZERO;
    while sim.now() < Instant::from_secs(600) {
        sim.run_for(Duration::from_micros(100))?;
        if received(&sim) >= bytes {
            done = sim.now();
            break;
        }
    }
    Ok((done, started.elapsed(), received(&sim)))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), SimError> {
    for r2 in [5u8, 15] {
        let mut walls = Vec::new();
        let mut events = 0;
        let mut timed_out = None;
        for _ in 0..RUNS {
            let (wall, ev, t) = retries2(r2)?;
            walls.push(wall);
            events = ev;
            timed_out = t;
        }
        let m = median(walls);
        println!(
            "retries2 (tcp_retries2={r2}): 1000 s of virtual time in {:.3} ms of wall time (median of {RUNS}), {events} events, {:.0} events/s; ETIMEDOUT at {}",
            m.as_secs_f64() * 1e3,
            events as f64 / m.as_secs_f64(),
            timed_out.map_or("never".to_string(), |t| t.to_string())
        );
    }
    let bytes = 64 << 20;
    let (virt, wall, got) = bulk(bytes)?;
    println!(
        "bulk: {} MiB over a clean 25 µs link in {:.3} s of virtual time and {:.3} s of wall time ({} bytes read, {:.1} MiB/s of wall time)",
        bytes >> 20,
        virt.as_nanos() as f64 / 1e9,
        wall.as_secs_f64(),
        got,
        (got as f64 / (1 << 20) as f64) / wall.as_secs_f64()
    );
    Ok(())
}
