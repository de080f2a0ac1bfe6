//! `tcplab`: thin subcommands over the tcplab libraries.
//!
//! - `tcplab demo`: one connection between two tcplab stacks in virtual time, printed as a
//!   timeline of packets, state changes and `ss -tano` snapshots;
//! - `tcplab sysctl`: Linux 6.18's TCP sysctl defaults, a sysctl.conf checker, and the host's
//!   values that differ from the defaults;
//! - `tcplab decode`: one IPv4/IPv6 datagram given in hex, printed as tcpdump and packetdrill
//!   lines and field by field;
//! - `tcplab run`: a scenario script run in virtual time, its timeline and its assertions;
//! - `tcplab soak`: random networks, workloads and firewall flaps, one per seed, checked;
//! - `tcplab drill`: packetdrill scripts against the stack in virtual time;
//! - `tcplab up`: a tcplab host on a TUN device in real time, for the kernel's own tools;
//! - `tcplab diff`: a scenario in the simulator and on the kernel, side by side;
//! - `tcplab bench` (built with the `bench` feature): tcplab against smoltcp on bulk, churn
//!   and many-connection workloads.
//!
//! Exit status: 0 on success, 1 when the work failed (data not delivered intact, a bad file, a
//! malformed datagram), 2 on a usage error (clap's own).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[cfg(feature = "bench")]
mod bench;
mod decode;
mod demo;
mod diff;
mod drill;
mod run;
mod soak;
mod sysctl;
mod up;

#[derive(Debug, Parser)]
#[command(
    name = "tcplab",
    version,
    about = "A userspace TCP/IP stack that behaves like Linux 6.18, and a lab around it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one connection in virtual time and print its timeline.
    ///
    /// A client (10.0.0.1, or fd00::1) connects to a server (10.0.0.2:1234, or fd00::2),
    /// sends the bytes, and closes; the server reads everything and closes after end of
    /// stream. Every packet, state change and requested `ss -tano` snapshot is printed, then a
    /// summary. The exit status is 1 if the data did not arrive intact.
    Demo(DemoArgs),
    /// Print Linux 6.18's TCP sysctl defaults, check a sysctl.conf file, or show how this
    /// host differs from the defaults.
    Sysctl(SysctlArgs),
    /// Decode one IPv4 or IPv6 datagram given in hex (spaces allowed).
    Decode(DecodeArgs),
    /// Run a scenario script (see docs/scenarios.md) and check its assertions.
    ///
    /// Prints the timeline, one `FILE:LINE:COL: expected …, but …` line per failed
    /// assertion and a summary. The exit status is 1 if an assertion failed and 2 if the
    /// script has an error.
    Run(RunArgs),
    /// Run random networks, workloads and firewall flaps in virtual time, one per seed, and
    /// check that every connection delivered its bytes or failed with the errno Linux gives.
    ///
    /// Prints each failed seed with the command that replays it, then `N passed, M failed`.
    /// The exit status is 1 if a seed failed.
    Soak(SoakArgs),
    /// Run packetdrill scripts against the stack in virtual time.
    ///
    /// PATH is a .pkt file or a folder (searched for .pkt files). Each script runs as IPv4
    /// and as IPv6 unless --v4 or --v6 is given. Prints one PASS / FAIL / SKIP line per
    /// script, a diff under each failure (the script line, the expected and the actual packet
    /// with their times), and `N passed, M failed, K skipped`. The exit status is 1 if a
    /// script failed.
    Drill(DrillArgs),
    /// Run a tcplab host on a TUN device in real time, reachable by the kernel's tools.
    ///
    /// Creates the device (in --netns if given), gives the kernel's side of it an address in
    /// tcplab's prefix and serves --listen / --connect applications until they are done or
    /// ctrl-c. Prints one line per connection event (accepted, connected, end of stream,
    /// errors, and at close the bytes and SHA-256 of each direction), `ss -tanoi` on SIGUSR1
    /// or every --ss-every seconds, and an exit line with the device's counters. The first
    /// ctrl-c closes every socket as a process exit does and waits for the orphans (TIME-WAIT
    /// records are dropped at exit); a second one quits at once. Needs root (CAP_NET_ADMIN)
    /// and /dev/net/tun. See docs/tun.md.
    ///
    /// Exit status: 0 when done, 1 when setup or the --connect connection failed, 2 on a
    /// usage error, 130 after a second ctrl-c.
    Up(UpArgs),
    /// Run a scenario in the simulator and on the host's Linux, and compare the timelines.
    ///
    /// Every host runs on the kernel in its own network namespace (real time, root needed);
    /// the simulator runs every host as tcplab. For each host the TCP segments it sent, its
    /// socket states and its applications' errors are aligned and shown side by side, with
    /// every difference beyond the kernel's timer granularity marked. The exit status is 0
    /// when they agree, 1 when they differ, 2 when the scenario cannot run.
    Diff(DiffArgs),
    /// Run workloads on tcplab and on smoltcp in this process, interleaved, and compare.
    ///
    /// WORKLOAD is bulk (one checked 1 GiB transfer, MTU 1500 and 65535; Gbit/s), churn
    /// (sequential connect / 1-byte request / 1-byte response / close cycles with TIME_WAIT;
    /// connections/s) or many (N established connections exchanging 64-byte messages;
    /// exchanges/s); all three if none is given. scale (run only when named) is tcplab alone
    /// at a million connections: bytes per idle connection, open time, a keepalive round, a
    /// 60 s virtual-time run, a million TIME_WAIT records. Each run is printed as it ends, then the
    /// medians; the output ends with one `WORKLOAD tcplab=X smoltcp=Y ratio=Z` line per
    /// workload. Build with `--features bench`. See docs/performance.md.
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
}

#[cfg(feature = "bench")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BenchWorkload {
    Bulk,
    Churn,
    Many,
    Scale,
}

#[cfg(feature = "bench")]
#[derive(Debug, Args)]
struct BenchArgs {
    /// The workloads to run (all if none).
    #[arg(value_name = "WORKLOAD", value_enum)]
    workloads: Vec<BenchWorkload>,
    /// Runs per stack.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Bytes per bulk transfer.
    #[arg(long, value_name = "N", default_value_t = 1 << 30, value_parser = clap::value_parser!(u64).range(1..))]
    bytes: u64,
    /// Connections in many (default 100000; smoltcp is capped at 10000), and established
    /// connections and TIME_WAIT records in scale (default 1000000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4_000_000))]
    conns: Option<u64>,
    /// Cycles in churn.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    cycles: u64,
    /// The bulk MTU (default: a run at 1500 and one at 65535).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(576..=65535))]
    mtu: Option<u32>,
}

/// Where `tcplab run` runs a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// tcplab stacks in virtual time.
    Sim,
    /// The host's Linux, every host in its own network namespace, in real time (root).
    Kernel,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The scenario script.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The simulator's random seed; overrides the script's `seed` line.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// A fixed tolerance for the gaps between events, in milliseconds, instead of the
    /// kernel's timer granularity.
    #[arg(long, value_name = "MS")]
    tolerance_ms: Option<f64>,
    /// Run the kernel side to the script's `run` time instead of one second after the
    /// simulator's last event.
    #[arg(long)]
    full: bool,
    /// Show the rows that agree too.
    #[arg(long, short)]
    all: bool,
}

/// The tick rates a Linux kernel can be built with (CONFIG_HZ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum HzArg {
    #[value(name = "100")]
    Hz100,
    #[value(name = "250")]
    Hz250,
    #[value(name = "300")]
    Hz300,
    #[value(name = "1000")]
    Hz1000,
}

impl HzArg {
    fn hz(self) -> tcplab_stack::Hz {
        tcplab_stack::Hz(match self {
            HzArg::Hz100 => 100,
            HzArg::Hz250 => 250,
            HzArg::Hz300 => 300,
            HzArg::Hz1000 => 1000,
        })
    }
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Bytes the client sends.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    bytes: u64,
    /// One-way delay of the link, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1)]
    delay: u64,
    /// Probability that the link loses a datagram, in each direction (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    loss: f64,
    /// Seed of the link's losses and of both hosts' ISNs and ports; a run is a function of it.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Use fd00::1 and fd00::2 instead of 10.0.0.1 and 10.0.0.2.
    #[arg(long)]
    ipv6: bool,
    /// The hosts' kernel tick rate, which rounds every TCP timer.
    #[arg(long, value_enum, default_value = "250")]
    hz: HzArg,
    /// Set a sysctl on both hosts, e.g. net.ipv4.tcp_sack=0 (the net.ipv4. prefix may be
    /// left out). Repeatable.
    #[arg(long = "sysctl", value_name = "NAME=VALUE", value_parser = demo::parse_sysctl)]
    sysctls: Vec<(String, String)>,
    /// Print both hosts' `ss -tano` at this virtual time, in milliseconds. Repeatable.
    #[arg(long = "ss-at", value_name = "MS")]
    ss_at: Vec<u64>,
    /// Give up after this many seconds of virtual time.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    timeout: u64,
    /// Write every datagram sent on the link to FILE, a pcap file for Wireshark or
    /// `tcpdump -r`, timestamped in virtual time from 1970-01-01.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(multiple = false)]
struct SysctlArgs {
    /// Print every TCP sysctl with Linux 6.18's default (the default action).
    #[arg(long)]
    defaults: bool,
    /// Parse a sysctl.conf file and print the values that differ from the defaults.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
    /// Read the running host's values from a /proc/sys tree (default /proc/sys) and print
    /// those that differ from the defaults.
    #[arg(
        long = "proc",
        value_name = "ROOT",
        num_args = 0..=1,
        default_missing_value = "/proc/sys"
    )]
    proc_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DecodeArgs {
    /// The datagram's bytes in hex; spaces between and inside arguments are ignored.
    #[arg(value_name = "HEX", required = true, num_args = 1..)]
    hex: Vec<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario script.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print the timeline as JSON lines (failures and the summary then go to stderr).
    #[arg(long)]
    json: bool,
    /// Write each host's packets to DIR/HOST.pcap.
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// The random seed; overrides the script's `seed` line.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Run twice and check that both runs give the same trace.
    #[arg(long)]
    check_determinism: bool,
    /// Print only the failed assertions and the summary.
    #[arg(long, short)]
    quiet: bool,
    /// Where the hosts run: `sim` (tcplab in virtual time) or `kernel` (the host's Linux in
    /// network namespaces, in real time; needs root).
    #[arg(long, value_enum, default_value_t = Backend::Sim)]
    backend: Backend,
}

#[derive(Debug, Args)]
struct SoakArgs {
    /// How many seeds to run.
    #[arg(long, value_name = "N", default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    from: u64,
    /// Print every seed's network, workload and outcomes, and a failed seed's last events.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Args)]
struct DrillArgs {
    /// Scripts, or folders to search for `.pkt` scripts.
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    paths: Vec<PathBuf>,
    /// Run only as IPv4 (192.168.0.1 talking to 192.0.2.1).
    #[arg(long, conflicts_with = "v6")]
    v4: bool,
    /// Run only as IPv6 (fd3d:a0b:17d6::1 talking to fd3d:fa7b:d17d::1).
    #[arg(long)]
    v6: bool,
    /// Print every run's transcript: the packets in and out and the calls, with their times.
    #[arg(long, short)]
    verbose: bool,
    /// The stack's kernel tick rate, which rounds every TCP timer.
    #[arg(long, value_enum, default_value = "250")]
    hz: HzArg,
    /// Timing tolerance for scripts that do not set their own `--tolerance_usecs`, in
    /// microseconds (packetdrill's default; gVisor runs its scripts with 100000).
    #[arg(long, value_name = "USECS", default_value_t = 4000)]
    tolerance_usecs: u64,
    /// Set a sysctl before each script starts, as on the host packetdrill runs on, e.g.
    /// net.ipv4.tcp_rmem="4096 87380 4194304" (the net.ipv4. prefix may be left out).
    /// Repeatable.
    #[arg(long = "sysctl", value_name = "NAME=VALUE", value_parser = demo::parse_sysctl)]
    sysctls: Vec<(String, String)>,
}

#[derive(Debug, Args)]
struct UpArgs {
    /// The TUN device's name.
    #[arg(long, value_name = "NAME", default_value = "tcplab0")]
    dev: String,
    /// tcplab's own address and the link's prefix, e.g. 10.7.0.2/24 or fd00:7::2/64. The
    /// kernel routes the prefix through the device.
    #[arg(long, value_name = "ADDR/PREFIX", value_parser = up::parse_cidr)]
    addr: (std::net::IpAddr, u8),
    /// The kernel's address on the device, in the same prefix. Default: the first host
    /// address of the prefix that is not tcplab's (10.7.0.1 for 10.7.0.2/24, 10.7.0.2 for
    /// 10.7.0.1/24; the other address of a /31).
    #[arg(long, value_name = "ADDR")]
    peer_addr: Option<std::net::IpAddr>,
    /// The device's MTU; the stack's MSS follows from it.
    #[arg(long, value_name = "BYTES", default_value_t = 1500,
          value_parser = clap::value_parser!(u16).range(576..))]
    mtu: u16,
    /// Create the device inside this network namespace (one made by `ip netns add NAME`).
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
    /// Set a sysctl, e.g. net.ipv4.tcp_sack=0 (the net.ipv4. prefix may be left out).
    /// Repeatable; applied after --sysctl-file.
    #[arg(long = "sysctl", value_name = "NAME=VALUE", value_parser = demo::parse_sysctl)]
    sysctls: Vec<(String, String)>,
    /// Read sysctls from a file in sysctl.conf syntax (`net.ipv4.tcp_fin_timeout = 30`).
    #[arg(long, value_name = "FILE")]
    sysctl_file: Option<PathBuf>,
    /// The stack's kernel tick rate, which rounds every TCP timer.
    #[arg(long, value_enum, default_value = "250")]
    hz: HzArg,
    /// Seed of the ISNs, timestamp offsets and ephemeral ports (default: a fresh one).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Listen on this port and serve every connection with --echo, --discard (the
    /// default) or --http.
    #[arg(long, value_name = "PORT")]
    listen: Option<u16>,
    /// Send back every byte received; close after the peer's end of stream.
    #[arg(long, requires = "listen", conflicts_with_all = ["discard", "http"])]
    echo: bool,
    /// Read and drop every byte; close after the peer's end of stream.
    #[arg(long, requires = "listen", conflicts_with = "http")]
    discard: bool,
    /// Answer each request with `HTTP/1.1 200 OK` and --http-size bytes of the pattern
    /// (32-byte lines `<offset in hex> tcplab-pattern`), then close.
    #[arg(long, requires = "listen")]
    http: bool,
    /// The --http body's length.
    #[arg(long, value_name = "N", default_value_t = 1024, requires = "http")]
    http_size: u64,
    /// Connect to ADDR:PORT, send stdin (or --send-bytes), shut down the sending side at
    /// its end (as `nc -N`), read to end of stream, close.
    #[arg(long, value_name = "ADDR:PORT")]
    connect: Option<std::net::SocketAddr>,
    /// Send N bytes of the pattern instead of stdin.
    #[arg(long, value_name = "N", requires = "connect")]
    send_bytes: Option<u64>,
    /// Write what the --connect connection receives to FILE.
    #[arg(long, value_name = "FILE", requires = "connect")]
    output: Option<PathBuf>,
    /// Print `ss -tanoi` of the stack's sockets every SECS seconds (SIGUSR1 prints it too).
    #[arg(long, value_name = "SECS", value_parser = up::parse_secs)]
    ss_every: Option<std::time::Duration>,
    /// Write every datagram through the device, both ways, to FILE (pcap, raw IP).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Print every datagram (tcpdump's line) and every state change and timer of the stack.
    #[arg(long, short)]
    verbose: bool,
}

/// Accepts a probability in `[0, 1]`.
fn parse_probability(text: &str) -> Result<f64, String> {
    let p: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a probability such as 0.05, got \"{text}\""))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("a probability lies between 0 and 1, got {p}"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Demo(args) => demo::run(&demo_options(args), &mut out),
        Command::Sysctl(args) => {
            let action = match (args.check, args.proc_root) {
                (Some(file), _) => sysctl::Action::Check(file),
                (None, Some(root)) => sysctl::Action::Proc(root),
                (None, None) => sysctl::Action::Defaults,
            };
            sysctl::run(action, &mut out)
        }
        Command::Decode(args) => decode::run(&args.hex, &mut out),
        Command::Run(args) => run::run(
            &run::Options {
                file: args.file,
                json: args.json,
                pcap: args.pcap,
                seed: args.seed,
                check_determinism: args.check_determinism,
                quiet: args.quiet,
                kernel: args.backend == Backend::Kernel,
            },
            &mut out,
        ),
        Command::Diff(args) => {
            let tolerance = match args.tolerance_ms {
                Some(ms) if ms.is_finite() && ms >= 0.0 => {
                    Some(std::time::Duration::from_secs_f64(ms / 1e3))
                }
                Some(ms) => {
                    eprintln!(
                        "error: invalid value '{ms}' for '--tolerance-ms <MS>': expected a number of milliseconds, 0 or more"
                    );
                    return ExitCode::from(2);
                }
                None => None,
            };
            diff::run(
                &diff::Options {
                    file: args.file,
                    seed: args.seed,
                    tolerance,
                    full: args.full,
                    all: args.all,
                },
                &mut out,
            )
        }
        Command::Drill(args) => drill::run_cli(
            &drill::Options {
                paths: args.paths,
                families: match (args.v4, args.v6) {
                    (true, _) => vec![tcplab_drill::run::Family::V4],
                    (_, true) => vec![tcplab_drill::run::Family::V6],
                    _ => vec![tcplab_drill::run::Family::V4, tcplab_drill::run::Family::V6],
                },
                verbose: args.verbose,
                hz: args.hz.hz(),
                tolerance_usecs: args.tolerance_usecs,
                sysctls: args.sysctls,
            },
            &mut out,
        ),
        Command::Up(args) => up::run(&up_options(args), &mut out),
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench::run(
            &bench::Options {
                workloads: args
                    .workloads
                    .iter()
                    .map(|w| match w {
                        BenchWorkload::Bulk => bench::Workload::Bulk,
                        BenchWorkload::Churn => bench::Workload::Churn,
                        BenchWorkload::Many => bench::Workload::Many,
                        BenchWorkload::Scale => bench::Workload::Scale,
                    })
                    .collect(),
                runs: args.runs,
                bytes: args.bytes,
                conns: args.conns.unwrap_or(100_000) as usize,
                scale_conns: args.conns.unwrap_or(1_000_000) as usize,
                cycles: args.cycles,
                mtu: args.mtu,
            },
            &mut out,
        ),
        Command::Soak(args) => soak::run(
            &soak::Options {
                seeds: args.seeds,
                from: args.from,
                verbose: args.verbose,
            },
            &mut out,
        ),
    };
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(code), Ok(())) => code,
        // A reader that went away (`tcplab demo | head`) is not an error worth a message.
        (Err(e), _) | (Ok(_), Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Err(e), _) | (Ok(_), Err(e)) => {
            eprintln!("tcplab: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo_options(args: DemoArgs) -> demo::Options {
    demo::Options {
        bytes: args.bytes,
        delay: std::time::Duration::from_millis(args.delay),
        loss: args.loss,
        seed: args.seed,
        ipv6: args.ipv6,
        hz: args.hz.hz(),
        sysctls: args.sysctls,
        ss_at: args.ss_at,
        timeout: std::time::Duration::from_secs(args.timeout),
        pcap: args.pcap,
    }
}

fn up_options(args: UpArgs) -> up::Options {
    let mode = if args.echo {
        up::Mode::Echo
    } else if args.http {
        up::Mode::Http {
            size: args.http_size,
        }
    } else {
        up::Mode::Discard
    };
    up::Options {
        dev: args.dev,
        addr: args.addr,
        peer_addr: args.peer_addr,
        mtu: args.mtu,
        netns: args.netns,
        sysctls: args.sysctls,
        sysctl_file: args.sysctl_file,
        hz: args.hz.hz(),
        seed: args.seed,
        listen: args.listen.map(|port| (port, mode)),
        connect: args.connect,
        send_bytes: args.send_bytes,
        output: args.output,
        ss_every: args.ss_every,
        pcap: args.pcap,
        verbose: args.verbose,
    }
}
