//! The `scale` workload with heap figures (a counting global allocator is installed here):
//! `cargo run --release -p tcplab-bench --example scale -- [--conns N] [--time-wait N]
//! [--keepalive SECS] [--horizon SECS]`. Prints the same lines as `tcplab bench scale`.

use std::alloc::System;
use std::time::Duration;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tcplab_bench::scale;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> usize {
    let s = INSTRUMENTED_SYSTEM.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = scale::ScaleOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v: u64 = match it.next().and_then(|v| v.parse().ok()) {
            Some(v) => v,
            None => {
                eprintln!(
                    "usage: scale [--conns N] [--time-wait N] [--keepalive SECS] [--horizon SECS]"
                );
                std::process::exit(2);
            }
        };
        match a.as_str() {
            "--conns" => opts.conns = v as usize,
            "--time-wait" => opts.time_wait = v as usize,
            "--keepalive" => opts.keepalive = v as u32,
            "--horizon" => opts.horizon = Duration::from_secs(v),
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    let mut out = std::io::stdout();
    match scale::report(&opts, Some(live_bytes), &mut out) {
        Ok(figures) => {
            println!();
            for f in &figures {
                println!("{}", scale::summary_line(f));
            }
        }
        Err(e) => {
            eprintln!("scale: {e}");
            std::process::exit(1);
        }
    }
}
