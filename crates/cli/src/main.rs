//! `tcplab`: thin subcommands over the tcplab libraries.
//!
//! - `tcplab demo`: one connection between two tcplab stacks in virtual time, printed as a
//!   timeline of packets, state changes and `ss -tano` snapshots;
//! - `tcplab sysctl`: Linux 6.18's TCP sysctl defaults, a sysctl.conf checker, and the host's
//!   values that differ from the defaults;
//! - `tcplab decode`: one IPv4/IPv6 datagram given in hex, printed as tcpdump and packetdrill
//!   lines and field by field;
//! - `tcplab run`: a scenario script run in virtual time, its timeline and its assertions;
//! - `tcplab soak`: random networks, workloads and firewall flaps, one per seed, checked.
//!
//! Exit status: 0 on success, 1 when the work failed (data not delivered intact, a bad file, a
//! malformed datagram), 2 on a usage error (clap's own).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod decode;
mod demo;
mod run;
mod soak;
mod sysctl;

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
