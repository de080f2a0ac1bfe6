//! One test per construct of the packetdrill grammar, on scripts written for these tests.

use tcplab_drill::ast::*;
use tcplab_drill::parse;

fn script(src: &str) -> Script {
    match parse("t.pkt", src) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn one_event(src: &str) -> Event {
    let mut s = script(src);
    assert_eq!(s.events.len(), 1, "{s:?}");
    s.events.remove(0)
}

fn packet(src: &str) -> TcpPacket {
    match one_event(src).action {
        Action::Packet(p) => p,
        other => panic!("not a TCP packet: {other:?}"),
    }
}

fn syscall(src: &str) -> Syscall {
    match one_event(src).action {
        Action::Syscall(c) => c,
        other => panic!("not a system call: {other:?}"),
    }
}

fn pos(line: u32, col: u32) -> Pos {
    Pos { line, col }
}

fn e(line: u32, col: u32, kind: ExprKind) -> Expr {
    Expr {
        pos: pos(line, col),
        kind,
    }
}

#[test]
fn option_lines_are_classified() {
    let s = script(
        "--tolerance_usecs=405000\n--ip_version=ipv4\n--local_ip=10.0.0.1\n\
         --remote_ip=fd3d:fa7b:d17d::1\n--mtu=1520\n--verbose\n--define=\"x y\"\n0 `true`\n",
    );
    let got: Vec<(&str, Option<&OptionValue>)> = s
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_ref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("tolerance_usecs", Some(&OptionValue::Integer(405000))),
            ("ip_version", Some(&OptionValue::Word("ipv4".into()))),
            ("local_ip", Some(&OptionValue::Ipv4("10.0.0.1".into()))),
            (
                "remote_ip",
                Some(&OptionValue::Ipv6("fd3d:fa7b:d17d::1".into()))
            ),
            ("mtu", Some(&OptionValue::Integer(1520))),
            ("verbose", None),
            ("define", Some(&OptionValue::Str("x y".into()))),
        ]
    );
    assert_eq!(s.options[2].pos, pos(3, 1));
}

#[test]
fn event_times() {
    let s = script("0 `a`\n0.100 `a`\n+.01 `a`\n+0 `a`\n* `a`\n0.1~0.25 `a`\n+.3~+1.4 `a`\n");
    let t = |line, col, usecs| Time {
        pos: pos(line, col),
        usecs,
    };
    let times: Vec<EventTime> = s.events.iter().map(|e| e.time).collect();
    assert_eq!(
        times,
        vec![
            EventTime::Absolute(t(1, 1, 0)),
            EventTime::Absolute(t(2, 1, 100_000)),
            EventTime::Relative(t(3, 2, 10_000)),
            EventTime::Relative(t(4, 2, 0)),
            EventTime::Any,
            EventTime::AbsoluteRange(t(6, 1, 100_000), t(6, 5, 250_000)),
            EventTime::RelativeRange(t(7, 2, 300_000), t(7, 6, 1_400_000)),
        ]
    );
    assert_eq!(s.events[4].pos, pos(5, 1));
}

#[test]
fn blocking_syscall_end_time() {
    let c = syscall("   +0...0.200 accept(3, ..., ...) = 4\n");
    assert_eq!(
        c.end_time,
        Some(Time {
            pos: pos(1, 9),
            usecs: 200_000
        })
    );
    assert_eq!(c.name, "accept");
    assert_eq!(c.pos, pos(1, 15));
    let c = syscall("+.01...0.011 connect(3, ..., ...) = 0");
    assert_eq!(c.end_time.map(|t| t.usecs), Some(11_000));
}

#[test]
fn inbound_syn_with_options() {
    let p = packet("0.100 < S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,nop,wscale 7>");
    assert_eq!(p.pos, pos(1, 7));
    assert_eq!(p.direction, Direction::Inbound);
    assert!(p.flags.syn && !p.flags.ack && !p.flags.fin);
    assert_eq!(p.flags.pos, pos(1, 9));
    assert_eq!(
        p.seq,
        SeqRange {
            pos: pos(1, 11),
            start: 0,
            end: 0,
            len: 0
        }
    );
    assert_eq!(p.ack, None);
    assert_eq!(p.win, Some(32792));
    let Some(TcpOptions::List(opts)) = p.options else {
        panic!("no option list");
    };
    let kinds: Vec<TcpOptionKind> = opts.iter().map(|o| o.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            TcpOptionKind::Mss(1460),
            TcpOptionKind::SackOk,
            TcpOptionKind::Nop,
            TcpOptionKind::Nop,
            TcpOptionKind::Nop,
            TcpOptionKind::WScale(7),
        ]
    );
    assert_eq!(opts[0].pos, pos(1, 29));
    assert_eq!(opts[5].pos, pos(1, 57));
}

#[test]
fn outbound_flags_ack_and_any_options() {
    let p = packet("+0 > S. 0:0(0) ack 1    <...>");
    assert_eq!(p.direction, Direction::Outbound);
    assert!(p.flags.syn && p.flags.ack);
    assert_eq!(p.ack, Some(1));
    assert_eq!(p.win, None);
    assert_eq!(p.options, Some(TcpOptions::Any(pos(1, 25))));

    let p = packet("+0 > P. 1:1001(1000) ack 1");
    assert!(p.flags.psh && p.flags.ack && !p.flags.syn);
    assert_eq!((p.seq.start, p.seq.end, p.seq.len), (1, 1001, 1000));
    assert_eq!(p.options, None);

    let p = packet("+0 > F. 1:1(0) ack 1 win 0 urg 5");
    assert!(p.flags.fin && p.flags.ack);
    assert_eq!(p.urg, Some(5));

    let p = packet("+0 > R 2:2(0)");
    assert!(p.flags.rst && !p.flags.ack);

    let p = packet("+0 > . 1:1(0) ack 1");
    assert!(p.flags.ack && !p.flags.syn && !p.flags.rst);

    let p = packet("+.01 < - 1:1001(1000) win 20000");
    assert_eq!(
        p.flags,
        TcpFlags {
            pos: pos(1, 8),
            ..TcpFlags::default()
        }
    );

    let p = packet("0 < SEWU. 0:0(0) win 1");
    assert!(p.flags.syn && p.flags.ece && p.flags.cwr && p.flags.urg && p.flags.ack);
}

#[test]
fn timestamps_sack_eol_and_fast_open() {
    let p = packet(
        "0 > . 1:1(0) ack 1 <nop,nop,TS val 200 ecr 700,sack 1001:2001 3001:4001,eol,\
         FO 0123abcd,FOEXP,md5 deadbeef>",
    );
    let Some(TcpOptions::List(opts)) = p.options else {
        panic!("no option list");
    };
    let kinds: Vec<TcpOptionKind> = opts.into_iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        vec![
            TcpOptionKind::Nop,
            TcpOptionKind::Nop,
            TcpOptionKind::Timestamp { val: 200, ecr: 700 },
            TcpOptionKind::Sack(vec![(1001, 2001), (3001, 4001)]),
            TcpOptionKind::Eol,
            TcpOptionKind::FastOpen(Some("0123abcd".into())),
            TcpOptionKind::FastOpenExp(None),
            TcpOptionKind::Md5("deadbeef".into()),
        ]
    );
}

#[test]
fn ip_info_and_ports() {
    let p = packet("0 < [ect0] 8080>80 S 0:0(0) win 1");
    assert_eq!(
        p.ip_info,
        Some(IpInfo {
            pos: pos(1, 5),
            items: vec![IpInfoItem::Ecn("ect0".into())]
        })
    );
    assert_eq!(p.ports, Some((8080, 80)));
    let p = packet("0 > (tos 0x10, flowlabel 0x3) . 1:1(0) ack 1");
    assert_eq!(
        p.ip_info.map(|i| i.items),
        Some(vec![IpInfoItem::Tos(0x10), IpInfoItem::FlowLabel(3)])
    );
}

#[test]
fn syscall_arguments() {
    let c = syscall("0.000 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0");
    assert_eq!(
        c.args,
        vec![
            e(1, 18, ExprKind::Int(3)),
            e(1, 21, ExprKind::Word("SOL_SOCKET".into())),
            e(1, 33, ExprKind::Word("SO_REUSEADDR".into())),
            e(1, 47, ExprKind::Array(vec![e(1, 48, ExprKind::Int(1))])),
            e(1, 52, ExprKind::Int(4)),
        ]
    );
    assert_eq!(c.result, e(1, 57, ExprKind::Int(0)));
    assert_eq!(c.errno, None);
    assert_eq!(c.note, None);

    let c = syscall("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
    assert_eq!(c.args[0].kind, ExprKind::Ellipsis);
    assert_eq!(c.args[2].kind, ExprKind::Word("IPPROTO_TCP".into()));

    let c = syscall("0 getpid() = 1");
    assert!(c.args.is_empty());

    let c = syscall("+0 read(4,..., 4) = 4");
    assert_eq!(c.args[1].kind, ExprKind::Ellipsis);
}

#[test]
fn bit_or_hex_strings_and_notes() {
    let c = syscall("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
    assert_eq!(
        c.args[2],
        e(
            1,
            21,
            ExprKind::BitOr(
                Box::new(e(1, 21, ExprKind::Word("O_RDWR".into()))),
                Box::new(e(1, 28, ExprKind::Word("O_NONBLOCK".into())))
            )
        )
    );
    let c = syscall("0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)");
    assert_eq!(c.result.kind, ExprKind::Hex(2));
    assert_eq!(c.errno, None);
    assert_eq!(
        c.note,
        Some(Note {
            pos: pos(1, 27),
            text: "flags O_RDWR".into()
        })
    );
    let c = syscall("0 write(3, \"a\\n\"..., 5) = 5");
    assert_eq!(c.args[1].kind, ExprKind::StrPrefix("a\n".into()));
    let c = syscall("0 write(3, \"ab\", 2) = 2");
    assert_eq!(c.args[1].kind, ExprKind::Str("ab".into()));
}

#[test]
fn error_return_with_errno_and_text() {
    let c = syscall("0.100 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
    assert_eq!(c.result, e(1, 30, ExprKind::Int(-1)));
    assert_eq!(
        c.errno,
        Some(Ident {
            pos: pos(1, 33),
            name: "EINPROGRESS".into()
        })
    );
    assert_eq!(
        c.note.map(|n| n.text),
        Some("Operation now in progress".into())
    );
    let c = syscall("0 write(4, ..., 1000) = -1 EPIPE");
    assert_eq!(c.errno.map(|i| i.name), Some("EPIPE".into()));
    assert_eq!(c.note, None);
}

#[test]
fn structs_calls_and_fields() {
    let c = syscall(
        "0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), \
         sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0",
    );
    let ExprKind::Struct(fields) = &c.args[1].kind else {
        panic!("not a struct: {:?}", c.args[1]);
    };
    assert_eq!(fields.len(), 3);
    let ExprKind::Field(name, value) = &fields[1].kind else {
        panic!("not a field: {:?}", fields[1]);
    };
    assert_eq!(name.name, "sin_port");
    let ExprKind::Call(f, args) = &value.kind else {
        panic!("not a call: {value:?}");
    };
    assert_eq!(f.name, "htons");
    assert_eq!(args[0].kind, ExprKind::Int(8080));

    let c =
        syscall("0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10");
    let ExprKind::Struct(fields) = &c.args[1].kind else {
        panic!("not a struct");
    };
    let ExprKind::CallField(name, args, value) = &fields[1].kind else {
        panic!("not a call field: {:?}", fields[1]);
    };
    assert_eq!(name.name, "msg_iov");
    assert_eq!(args[0].kind, ExprKind::Int(1));
    assert!(matches!(value.kind, ExprKind::Array(_)));

    let c = syscall("0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1");
    assert!(matches!(c.args[0].kind, ExprKind::Array(ref a) if a.len() == 1));
    let c = syscall("0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0");
    assert!(matches!(c.args[3].kind, ExprKind::Struct(ref s) if s.len() == 2));
    let c = syscall("0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0");
    assert_eq!(c.args.len(), 5);
    let c = syscall("0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [], 0) = 0");
    assert_eq!(c.args[3].kind, ExprKind::Array(vec![]));
}

#[test]
fn commands_code_and_comments() {
    let s = script(
        "// header comment\n`../common/defaults.sh\nset_sysctls.py x=1`\n/* block\ncomment */\n\
         0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing\n\
         +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n+0 `tc qdisc show`\n`cleanup.sh`\n",
    );
    assert_eq!(
        s.init_command,
        Some(Command {
            pos: pos(2, 1),
            text: "../common/defaults.sh\nset_sysctls.py x=1".into()
        })
    );
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.events[0].pos, pos(6, 1));
    assert_eq!(
        s.events[1].action,
        Action::Code(Code {
            pos: pos(7, 4),
            text: " assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ".into()
        })
    );
    assert_eq!(
        s.events[2].action,
        Action::Command(Command {
            pos: pos(8, 4),
            text: "tc qdisc show".into()
        })
    );
    assert_eq!(
        s.cleanup_command,
        Some(Command {
            pos: pos(9, 1),
            text: "cleanup.sh".into()
        })
    );
}

#[test]
fn multi_line_command_event_then_next_event() {
    let s = script("0 `a \\\n b`\n+0 close(3) = 0 /* c */\n+1 `x`\n");
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.events[1].pos, pos(3, 1));
    assert!(s.cleanup_command.is_none());
}

#[test]
fn udp_and_icmp_lines_are_unsupported_nodes() {
    let s = script(
        "0 < udp (1472)\n+0 > icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n\
         +0 < [ect0] udp (8)\n+0 > . 1:1(0) ack 1\n",
    );
    let kinds: Vec<(Pos, String, String)> = s
        .events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Unsupported(u) => Some((u.pos, u.kind.clone(), u.text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (pos(1, 3), "udp".into(), "< udp (1472)".into()),
            (
                pos(2, 4),
                "icmp".into(),
                "> icmp unreachable frag_needed mtu 1200 [1:1461(1460)]".into()
            ),
            (pos(3, 4), "udp".into(), "< [ect0] udp (8)".into()),
        ]
    );
    assert!(matches!(s.events[3].action, Action::Packet(_)));
}

#[test]
fn empty_and_comment_only_scripts_have_no_events() {
    assert_eq!(script("").events, vec![]);
    assert_eq!(script("// nothing\n/* here */\n").events, vec![]);
}
