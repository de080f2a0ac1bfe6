//! Runs a scenario on the kernel (or with `--sim`, in the simulator) and prints its timeline
//! and assertions: `cargo run -p tcplab-kernel --example kernel_run -- FILE [--sim] [--stop SECS]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: kernel_run FILE [--sim] [--stop SECS] [--pcap DIR]");
        std::process::exit(2);
    };
    let sim = args.iter().any(|a| a == "--sim");
    let stop_after = args
        .iter()
        .position(|a| a == "--stop")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let pcap_dir = args
        .iter()
        .position(|a| a == "--pcap")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let path = Path::new(file);
    let sc = match tcplab_sim::scenario::parse_file(path) {
        Ok(sc) => sc,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let res = if sim {
        tcplab_sim::run_scenario(
            &sc,
            tcplab_sim::RunOptions {
                seed: None,
                base_dir,
                pcap_dir,
            },
        )
    } else {
        tcplab_kernel::run_on_kernel(
            &sc,
            &tcplab_kernel::KernelOptions {
                base_dir,
                pcap_dir,
                stop_after,
                verbose: true,
            },
        )
    };
    match res {
        Ok(r) => {
            print!("{}", r.timeline.text());
            for w in &r.warnings {
                println!("warning: line {}: {}", w.span.line, w.message);
            }
            for a in &r.assertions {
                let mark = if a.passed { "PASS" } else { "FAIL" };
                println!("{mark} line {}: {}", a.span.line, a.sentence());
            }
            println!("{} passed, {} failed", r.passed(), r.failed());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
