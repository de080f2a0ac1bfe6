//! `tcplab bench` at a tiny size (built only with the `bench` feature): every workload runs on
//! both stacks and the output ends with one `WORKLOAD tcplab=X smoltcp=Y ratio=Z` line each
//! (bulk twice per MTU: both stacks with 1 MiB buffers, and tcplab with Linux's).
#![cfg(feature = "bench")]

use std::process::Command;

#[test]
fn bench_ends_with_one_summary_line_per_workload() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcplab"))
        .args([
            "bench", "--runs", "1", "--bytes", "1048576", "--cycles", "100",
        ])
        .args(["--conns", "100"])
        .output()
        .expect("the tcplab binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let tail = &lines[lines.len() - 6..];
    let names: Vec<&str> = tail
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "bulk",
            "bulk_linux_buffers",
            "bulk_mtu65535",
            "bulk_mtu65535_linux_buffers",
            "churn",
            "many"
        ],
        "{stdout}"
    );
    for line in tail {
        let fields: Vec<&str> = line.split(' ').skip(1).collect();
        assert_eq!(fields.len(), 3, "{line}");
        for (field, key) in fields.iter().zip(["tcplab=", "smoltcp=", "ratio="]) {
            let value = field.strip_prefix(key).unwrap_or_else(|| panic!("{line}"));
            let x: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            assert!(x.is_finite() && x > 0.0, "{line}");
        }
    }
}
