//! Feeds arbitrary bytes to every parser and checks that whatever parses re-emits byte for
//! byte, and that the printers accept it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tcplab_wire::{Checksum, IpRepr, TcpRepr, print};

fn check_tcp(segment: &[u8]) {
    let Ok(tcp) = TcpRepr::parse(segment) else {
        return;
    };
    let mut out = vec![0u8; tcp.buffer_len()];
    assert_eq!(tcp.emit(&mut out, Checksum::Keep), Ok(segment.len()));
    assert_eq!(out, segment, "TCP parse then emit changed the bytes");
    let _ = print::tcpdump(&tcp).to_string();
    let _ = print::packetdrill(&tcp).to_string();
}

fuzz_target!(|data: &[u8]| {
    check_tcp(data);
    let _ = print::tcpdump_datagram(data);
    let Ok((ip, payload)) = IpRepr::parse(data) else {
        return;
    };
    let mut out = vec![0u8; data.len()];
    assert_eq!(ip.emit(&mut out, payload), Ok(data.len()));
    assert_eq!(out, data, "IP parse then emit changed the bytes");
    check_tcp(payload);
});
