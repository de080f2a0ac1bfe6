//! Packet and system call lines built from random values parse back to those values.

use proptest::prelude::*;
use tcplab_drill::ast::{Action, EventTime, ExprKind, TcpOptionKind, TcpOptions};

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn tcp_lines_round_trip(
        rel in any::<bool>(),
        secs in 0u32..100,
        usecs in 0u32..1_000_000,
        inbound in any::<bool>(),
        flags in proptest::sample::subsequence(vec!['F', 'S', 'R', 'P', 'U', 'E', 'W'], 0..=7),
        ack_flag in any::<bool>(),
        start in any::<u32>(),
        len in 0u32..70_000,
        ack in proptest::option::of(any::<u32>()),
        win in proptest::option::of(0u32..=65_535),
        mss in proptest::option::of(0u32..=65_535),
        ts in proptest::option::of((any::<u32>(), any::<u32>())),
        pad in "[ \t]{1,3}",
    ) {
        let mut flag_text: String = flags.iter().collect();
        if ack_flag {
            flag_text.push('.');
        }
        if flag_text.is_empty() {
            flag_text.push('-');
        }
        let end = start.wrapping_add(len);
        let mut line = format!(
            "{}{secs}.{usecs:06}{pad}{}{pad}{flag_text}{pad}{start}:{end}({len})",
            if rel { "+" } else { "" },
            if inbound { '<' } else { '>' },
        );
        if let Some(a) = ack {
            line += &format!("{pad}ack{pad}{a}");
        }
        if let Some(w) = win {
            line += &format!("{pad}win{pad}{w}");
        }
        let mut opts = Vec::new();
        if let Some(m) = mss {
            opts.push(format!("mss {m}"));
        }
        if let Some((v, e)) = ts {
            opts.push(format!("TS val {v} ecr {e}"));
        }
        if !opts.is_empty() {
            line += &format!("{pad}<{}>", opts.join(","));
        }
        line.push_str("  // comment\n");

        let script = tcplab_drill::parse("g.pkt", &line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(script.events.len(), 1);
        let ev = &script.events[0];
        let want_us = u64::from(secs) * 1_000_000 + u64::from(usecs);
        match ev.time {
            EventTime::Relative(t) if rel => prop_assert_eq!(t.usecs, want_us),
            EventTime::Absolute(t) if !rel => prop_assert_eq!(t.usecs, want_us),
            other => prop_assert!(false, "time {:?}", other),
        }
        let Action::Packet(p) = &ev.action else {
            return Err(TestCaseError::fail("not a packet"));
        };
        prop_assert_eq!(p.seq.start, start);
        prop_assert_eq!(p.seq.end, end);
        prop_assert_eq!(p.seq.len, len);
        prop_assert_eq!(p.ack, ack);
        prop_assert_eq!(p.win, win);
        prop_assert_eq!(p.flags.fin, flags.contains(&'F'));
        prop_assert_eq!(p.flags.syn, flags.contains(&'S'));
        prop_assert_eq!(p.flags.rst, flags.contains(&'R'));
        prop_assert_eq!(p.flags.psh, flags.contains(&'P'));
        prop_assert_eq!(p.flags.urg, flags.contains(&'U'));
        prop_assert_eq!(p.flags.ece, flags.contains(&'E'));
        prop_assert_eq!(p.flags.cwr, flags.contains(&'W'));
        prop_assert_eq!(p.flags.ack, ack_flag);
        let mut want = Vec::new();
        if let Some(m) = mss {
            want.push(TcpOptionKind::Mss(m));
        }
        if let Some((val, ecr)) = ts {
            want.push(TcpOptionKind::Timestamp { val, ecr });
        }
        let got = match &p.options {
            None => Vec::new(),
            Some(TcpOptions::List(l)) => l.iter().map(|o| o.kind.clone()).collect(),
            Some(TcpOptions::Any(_)) => return Err(TestCaseError::fail("unexpected <...>")),
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn syscall_results_round_trip(
        fd in 0i64..1000,
        ret in -4096i64..100_000,
        errno in proptest::option::of("E[A-Z]{2,10}"),
    ) {
        let line = match &errno {
            Some(e) => format!("0 close({fd}) = {ret} {e} (some text)\n"),
            None => format!("0 close({fd}) = {ret}\n"),
        };
        let script = tcplab_drill::parse("g.pkt", &line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let Action::Syscall(c) = &script.events[0].action else {
            return Err(TestCaseError::fail("not a syscall"));
        };
        prop_assert_eq!(&c.args[0].kind, &ExprKind::Int(fd));
        prop_assert_eq!(&c.result.kind, &ExprKind::Int(ret));
        prop_assert_eq!(c.errno.as_ref().map(|i| i.name.clone()), errno.clone());
        prop_assert_eq!(c.note.is_some(), errno.is_some());
    }
}
