//! One workload on one stack, once, for profilers and A/B comparisons of two builds:
//! `cargo run --release -p tcplab-bench --example workload -- STACK bulk|bulk64k|churn|many [N]`
//! (N: bytes for bulk, cycles for churn, connections for many). STACK is tcplab, smoltcp, or
//! tcplab-1m: tcplab with `tcp_rmem[2]` and `tcp_wmem[2]` at 1 MiB, smoltcp's buffer size, as
//! `tcplab bench` runs its headline bulk figure (bulk only; plain tcplab has Linux's caps).

use tcplab_bench::{TimeWait, smoltcp_net, tcplab_net};
use tcplab_stack::Sysctls;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stack, workload) = match (args.first(), args.get(1)) {
        (Some(s), Some(w)) => (s.as_str(), w.as_str()),
        _ => {
            eprintln!("usage: workload tcplab|smoltcp bulk|bulk64k|churn|many [N]");
            std::process::exit(2);
        }
    };
    let n: Option<u64> = args.get(2).and_then(|a| a.parse().ok());
    let tcplab = stack.starts_with("tcplab");
    let sysctls = if stack == "tcplab-1m" {
        tcplab_net::equal_buffers()
    } else {
        Sysctls::default()
    };
    let line = match workload {
        "bulk" | "bulk64k" => {
            let mtu = if workload == "bulk" { 1500 } else { 65535 };
            let bytes = n.unwrap_or(1 << 30);
            let r = if tcplab {
                tcplab_net::bulk_with(bytes, mtu, &sysctls)
            } else {
                smoltcp_net::bulk(bytes, mtu)
            };
            r.map(|r| format!("{:.2} Gbit/s", r.gbps()))
        }
        "churn" => {
            let cycles = n.unwrap_or(100_000);
            let r = if tcplab {
                tcplab_net::churn(cycles)
            } else {
                smoltcp_net::churn(cycles, TimeWait::Discard, None)
            };
            r.map(|r| {
                format!(
                    "{:.0} conn/s, {} TIME_WAIT alive",
                    r.per_sec(),
                    r.time_wait_alive
                )
            })
        }
        "many" => {
            let conns = n.unwrap_or(100_000) as usize;
            let r = if tcplab {
                tcplab_net::many(conns, 3)
            } else {
                smoltcp_net::many(conns, 3)
            };
            r.map(|r| {
                format!(
                    "{:.0} msg/s, setup {:.3} s",
                    r.per_sec(),
                    r.setup.as_secs_f64()
                )
            })
        }
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    };
    match line {
        Ok(l) => println!("{stack} {workload}: {l}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
