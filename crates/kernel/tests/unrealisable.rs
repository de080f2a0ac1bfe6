//! A line the kernel backend cannot realise fails before anything is created, with a
//! message that names its line and says why. Runs anywhere (the check needs no root).

use tcplab_kernel::{KernelOptions, run_on_kernel};

#[test]
fn an_unrealisable_link_line_fails_naming_its_line() {
    // netem's reorder sends a share at once; the simulator's holds a share back: with a
    // delay on the direction the two cannot agree, whatever the kernel.
    let src = "host a 10.89.0.1\nhost b 10.89.0.2\n\
        link a b delay 5ms reorder 5% 10ms\nrun 1s\n";
    let sc = tcplab_sim::scenario::parse("reorder.tcplab", src).unwrap();
    let e = run_on_kernel(&sc, &KernelOptions::default()).unwrap_err();
    assert_eq!(e.span.map(|s| s.line), Some(3), "{e}");
    assert!(
        e.message.contains("kernel backend cannot realise"),
        "{}",
        e.message
    );
    // Which reason comes first depends on the kernel: without netem, the delay already
    // cannot be given.
    assert!(
        e.message.contains("reorder") || e.message.contains("netem"),
        "{}",
        e.message
    );
    assert!(e.to_string().starts_with("reorder.tcplab:3:"), "{e}");
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output();
    if let Ok(out) = out {
        let prefix = format!("tcplab-{}-", std::process::id());
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&prefix));
    }
}
