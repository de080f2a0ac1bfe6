//! Feeds arbitrary bytes to a stack as one incoming datagram and drains what it sends back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tcplab_stack::{Instant, Stack, StackConfig};

fuzz_target!(|data: &[u8]| {
    let mut stack = Stack::new(StackConfig {
        addrs: vec!["10.0.0.2".parse().unwrap()],
        ..Default::default()
    });
    stack.handle_packet(Instant::ZERO, data);
    let mut buf = vec![0u8; 65536];
    while stack.poll_transmit(Instant::ZERO, &mut buf).is_some() {}
});
