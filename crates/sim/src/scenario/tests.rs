use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

const FIN_WAIT1: &str = "\
# The FIN_WAIT1 experiment: firewall the server, then ctrl-c the client.
host client 192.168.122.167
host server 192.168.122.183

client: sysctl -w net.ipv4.tcp_orphan_retries=3
server: nc -l 1234 &
client: nc 192.168.122.183 1234 &
at 1s   client: netstat -anp | grep tcp
at 2s   server: iptables -A OUTPUT -d 192.168.122.167 -j DROP
at 3s   client: kill -INT %1
at 3.5s client: netstat -anp | grep tcp
at 3.5s server: netstat -anp | grep tcp
at 4s   client: ss -tano
run 60s
";

fn sp(line: u32, col: u32) -> Span {
    Span::new(line, col)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ok(src: &str) -> Scenario {
    match parse("t.tcplab", src) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

pub(super) fn err(src: &str) -> String {
    match parse("t.tcplab", src) {
        Ok(s) => panic!("parsed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

const HOSTS: &str = "host client 10.77.0.1\nhost server 10.77.0.2\n";

/// Parses `HOSTS` followed by `body` and returns the steps.
fn steps(body: &str) -> Vec<Step> {
    ok(&format!("{HOSTS}{body}")).steps
}

/// The error for `HOSTS` followed by `body`.
pub(super) fn err2(body: &str) -> String {
    err(&format!("{HOSTS}{body}"))
}

fn host(name: &str, index: usize, line: u32, col: u32) -> HostRef {
    HostRef {
        name: name.into(),
        index,
        span: sp(line, col),
    }
}

fn word(text: &str, line: u32, col: u32) -> Word {
    Word {
        text: text.into(),
        span: sp(line, col),
    }
}

fn at(secs_ms: u64, line: u32, col: u32) -> Option<TimeSpec> {
    Some(TimeSpec {
        relative: false,
        value: ms(secs_ms),
        time: ms(secs_ms),
        span: sp(line, col),
    })
}

fn netstat_grep(line: u32, col: u32) -> HostCommand {
    HostCommand::Snapshot(Snapshot {
        tool: SnapshotTool::Netstat,
        args: vec![word("-anp", line, col + 8)],
        greps: vec![Grep {
            invert: false,
            ignore_case: false,
            pattern: "tcp".into(),
            span: sp(line, col + 15),
        }],
        span: sp(line, col),
    })
}

#[test]
fn fin_wait1_parses_into_the_expected_ast() {
    let s = match parse("fin_wait1.tcplab", FIN_WAIT1) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let client_addr = IpAddr::V4(Ipv4Addr::new(192, 168, 122, 167));
    let server_addr = IpAddr::V4(Ipv4Addr::new(192, 168, 122, 183));
    let expected = Scenario {
        file: "fin_wait1.tcplab".into(),
        hosts: vec![
            Host {
                name: "client".into(),
                addr: client_addr,
                kernel: false,
                span: sp(2, 1),
            },
            Host {
                name: "server".into(),
                addr: server_addr,
                kernel: false,
                span: sp(3, 1),
            },
        ],
        links: vec![],
        settings: Settings::default(),
        steps: vec![
            Step {
                at: None,
                time: Duration::ZERO,
                command: Command::Host(
                    host("client", 0, 5, 1),
                    HostCommand::Sysctl(Sysctl::Write {
                        assignments: vec![SysctlAssign {
                            key: "net.ipv4.tcp_orphan_retries".into(),
                            value: "3".into(),
                            span: sp(5, 19),
                        }],
                        span: sp(5, 9),
                    }),
                ),
                text: "client: sysctl -w net.ipv4.tcp_orphan_retries=3".into(),
                span: sp(5, 1),
            },
            Step {
                at: None,
                time: Duration::ZERO,
                command: Command::Host(
                    host("server", 1, 6, 1),
                    HostCommand::Nc(Nc {
                        mode: NcMode::Listen {
                            port: 1234,
                            span: sp(6, 15),
                        },
                        job: Some(1),
                        span: sp(6, 9),
                    }),
                ),
                text: "server: nc -l 1234 &".into(),
                span: sp(6, 1),
            },
            Step {
                at: None,
                time: Duration::ZERO,
                command: Command::Host(
                    host("client", 0, 7, 1),
                    HostCommand::Nc(Nc {
                        mode: NcMode::Connect {
                            to: Endpoint {
                                addr: server_addr,
                                port: 1234,
                                host: None,
                                span: sp(7, 12),
                            },
                        },
                        job: Some(1),
                        span: sp(7, 9),
                    }),
                ),
                text: "client: nc 192.168.122.183 1234 &".into(),
                span: sp(7, 1),
            },
            Step {
                at: at(1000, 8, 4),
                time: ms(1000),
                command: Command::Host(host("client", 0, 8, 9), netstat_grep(8, 17)),
                text: "at 1s   client: netstat -anp | grep tcp".into(),
                span: sp(8, 1),
            },
            Step {
                at: at(2000, 9, 4),
                time: ms(2000),
                command: Command::Host(
                    host("server", 1, 9, 9),
                    HostCommand::Iptables(Iptables {
                        args: vec![
                            word("-A", 9, 26),
                            word("OUTPUT", 9, 29),
                            word("-d", 9, 36),
                            word("192.168.122.167", 9, 39),
                            word("-j", 9, 55),
                            word("DROP", 9, 58),
                        ],
                        span: sp(9, 17),
                    }),
                ),
                text: "at 2s   server: iptables -A OUTPUT -d 192.168.122.167 -j DROP".into(),
                span: sp(9, 1),
            },
            Step {
                at: at(3000, 10, 4),
                time: ms(3000),
                command: Command::Host(
                    host("client", 0, 10, 9),
                    HostCommand::Kill(Kill {
                        signal: Signal::Int,
                        target: KillTarget::Job(1),
                        span: sp(10, 17),
                    }),
                ),
                text: "at 3s   client: kill -INT %1".into(),
                span: sp(10, 1),
            },
            Step {
                at: at(3500, 11, 4),
                time: ms(3500),
                command: Command::Host(host("client", 0, 11, 9), netstat_grep(11, 17)),
                text: "at 3.5s client: netstat -anp | grep tcp".into(),
                span: sp(11, 1),
            },
            Step {
                at: at(3500, 12, 4),
                time: ms(3500),
                command: Command::Host(host("server", 1, 12, 9), netstat_grep(12, 17)),
                text: "at 3.5s server: netstat -anp | grep tcp".into(),
                span: sp(12, 1),
            },
            Step {
                at: at(4000, 13, 4),
                time: ms(4000),
                command: Command::Host(
                    host("client", 0, 13, 9),
                    HostCommand::Snapshot(Snapshot {
                        tool: SnapshotTool::Ss,
                        args: vec![word("-tano", 13, 20)],
                        greps: vec![],
                        span: sp(13, 17),
                    }),
                ),
                text: "at 4s   client: ss -tano".into(),
                span: sp(13, 1),
            },
        ],
        run: Some(Run {
            duration: Duration::from_secs(60),
            span: sp(14, 1),
        }),
    };
    assert_eq!(s, expected);
}

#[test]
fn examples_all_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tcplab") {
            if let Err(e) = parse_file(&path) {
                panic!("{e}");
            }
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    for want in [
        "fin_wait1",
        "syn_retries",
        "syn_retries_linear_0",
        "retries2",
        "keepalive_peer_dead",
        "keepalive_peer_alive",
        "fin_wait2_orphan",
        "fin_wait2_shutdown_wr",
        "time_wait",
        "persist",
        "delayed_ack_500ms",
        "delayed_ack_100ms_noread",
        "linger_zero",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "examples/{want}.tcplab is missing"
        );
    }
    let text = std::fs::read_to_string(dir.join("fin_wait1.tcplab")).unwrap();
    assert_eq!(
        text, FIN_WAIT1,
        "examples/fin_wait1.tcplab must be the issue's script"
    );
}

#[test]
fn parse_file_reports_unreadable_and_non_utf8_files() {
    let e = parse_file(std::path::Path::new("/nonexistent/x.tcplab")).unwrap_err();
    assert_eq!((e.line, e.col), (0, 0));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.tcplab: cannot read the script: ")
    );
    let path = std::env::temp_dir().join(format!("tcplab-bad-{}.tcplab", std::process::id()));
    std::fs::write(&path, b"host a 10.0.0.1\nhost b\xff 10.0.0.2\n").unwrap();
    let e = parse_file(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!((e.line, e.col), (2, 7));
    assert_eq!(e.message, "expected UTF-8 text, found an invalid byte");
}

#[test]
fn hosts_links_and_settings() {
    let s = ok("host client 10.0.0.1\n\
                host server fd00::2 kernel\n\
                link client server delay 25us jitter 1ms rate 10mbit queue 100 loss 1% dup 0.5% reorder 5% 10ms corrupt 0.01%\n\
                link client -> server loss 100%\n\
                hz 1000\n\
                server: hz 250\n\
                seed 42\n");
    assert!(s.hosts[1].kernel);
    assert_eq!(s.hosts[1].addr, "fd00::2".parse::<IpAddr>().unwrap());
    assert_eq!(s.links.len(), 2);
    let l = &s.links[0];
    assert!(l.both_ways);
    let kinds: Vec<LinkPropKind> = l.props.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            LinkPropKind::Delay(Duration::from_micros(25)),
            LinkPropKind::Jitter(ms(1)),
            LinkPropKind::Rate(10_000_000),
            LinkPropKind::Queue(100),
            LinkPropKind::Loss(Ppm(10_000)),
            LinkPropKind::Dup(Ppm(5_000)),
            LinkPropKind::Reorder(Ppm(50_000), ms(10)),
            LinkPropKind::Corrupt(Ppm(100)),
        ]
    );
    assert_eq!(l.props[2].span, sp(3, 42));
    let l = &s.links[1];
    assert!(!l.both_ways);
    assert_eq!((l.from.index, l.to.index), (0, 1));
    assert_eq!(l.props[0].kind, LinkPropKind::Loss(Ppm(1_000_000)));
    assert_eq!(
        s.settings.hz,
        vec![
            HzSetting {
                host: None,
                hz: 1000,
                span: sp(5, 1)
            },
            HzSetting {
                host: Some(host("server", 1, 6, 1)),
                hz: 250,
                span: sp(6, 1)
            },
        ]
    );
    assert_eq!(
        s.settings.seed,
        Some(Seed {
            value: 42,
            span: sp(7, 1)
        })
    );
    assert!(s.steps.is_empty());
    assert_eq!(s.run, None);
    assert_eq!(s.hz_of(0), Some(1000));
    assert_eq!(s.hz_of(1), Some(250));
    assert_eq!(
        s.host(&host("server", 1, 1, 1)).map(|h| h.kernel),
        Some(true)
    );
    assert_eq!(s.host_named("client").map(|h| h.span), Some(sp(1, 1)));
    assert_eq!(s.host_named("nobody"), None);
    let s = ok("host a 10.0.0.1\n");
    assert_eq!(s.hz_of(0), None);
}

#[test]
fn times_units_and_timed_links() {
    let st = steps(
        "at 200ms client: ss -tan\n\
         at +100ms client: ss -tan\n\
         client: ss -tan\n\
         at 1min expect no rst\n\
         at +1.5s link client server loss 100%\n\
         at 61500000us client: ss -tan\n\
         at 61500000001ns client: ss -tan\n",
    );
    let times: Vec<Duration> = st.iter().map(|s| s.time).collect();
    assert_eq!(
        times,
        vec![
            ms(200),
            ms(300),
            ms(300),
            ms(60_000),
            ms(61_500),
            ms(61_500),
            Duration::from_nanos(61_500_000_001)
        ]
    );
    assert_eq!(
        st[1].at,
        Some(TimeSpec {
            relative: true,
            value: ms(100),
            time: ms(300),
            span: sp(4, 4)
        })
    );
    assert_eq!(st[2].at, None);
    let Command::Link(l) = &st[4].command else {
        panic!("{:?}", st[4]);
    };
    assert_eq!(l.span, sp(7, 10));
    assert_eq!(st[4].host(), None);
}

#[test]
fn sysctl_forms() {
    let st = steps(
        "client: sysctl -w net.ipv4.tcp_fin_timeout=3 net/ipv4/tcp_rmem=\"4096 131072 6291456\"\n\
         client: sysctl -p tuning.conf\n\
         client: sysctl net.ipv4.tcp_fin_timeout net.ipv4.tcp_retries2\n",
    );
    let Command::Host(_, HostCommand::Sysctl(Sysctl::Write { assignments, .. })) = &st[0].command
    else {
        panic!()
    };
    assert_eq!(assignments[1].key, "net.ipv4.tcp_rmem");
    assert_eq!(assignments[1].value, "4096 131072 6291456");
    assert_eq!(assignments[1].span, sp(3, 46));
    assert_eq!(
        st[1].command,
        Command::Host(
            host("client", 0, 4, 1),
            HostCommand::Sysctl(Sysctl::Load {
                file: word("tuning.conf", 4, 19),
                span: sp(4, 9)
            })
        )
    );
    let Command::Host(_, HostCommand::Sysctl(Sysctl::Show { keys, .. })) = &st[2].command else {
        panic!()
    };
    assert_eq!(keys.len(), 2);
}

#[test]
fn nc_kill_and_jobs() {
    let st = steps(
        "server: nc -l -p 1234 &\n\
         server: nc -lv 2345\n\
         client: nc -v server 1234 &\n\
         client: nc 10.77.0.2 2345&\n\
         client: kill %2\n\
         client: kill -9 %1\n\
         client: kill -SIGTERM 4242\n\
         client: kill -HUP %1\n",
    );
    let nc = |i: usize| match &st[i].command {
        Command::Host(_, HostCommand::Nc(nc)) => nc.clone(),
        c => panic!("{c:?}"),
    };
    assert_eq!(
        nc(0).mode,
        NcMode::Listen {
            port: 1234,
            span: sp(3, 18)
        }
    );
    assert_eq!(nc(0).job, Some(1));
    assert_eq!(nc(1).job, None);
    let NcMode::Connect { to } = nc(2).mode else {
        panic!()
    };
    assert_eq!(to.addr, "10.77.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(to.host, Some(host("server", 1, 5, 15)));
    assert_eq!(nc(3).job, Some(2));
    let kill = |i: usize| match &st[i].command {
        Command::Host(_, HostCommand::Kill(k)) => (k.signal, k.target),
        c => panic!("{c:?}"),
    };
    assert_eq!(kill(4), (Signal::Term, KillTarget::Job(2)));
    assert_eq!(kill(5), (Signal::Kill, KillTarget::Job(1)));
    assert_eq!(kill(6), (Signal::Term, KillTarget::Pid(4242)));
    assert_eq!(kill(7), (Signal::Hup, KillTarget::Job(1)));
}

#[test]
fn snapshots_and_tcpdump() {
    let st = steps(
        "client: ss -tano state established | grep -v LISTEN | grep -i ':1234'\n\
         client: tcpdump -n -i eth0 -w out.pcap tcp port 1234 &\n\
         server: tcpdump\n\
         client: kill %1\n",
    );
    let Command::Host(_, HostCommand::Snapshot(s)) = &st[0].command else {
        panic!()
    };
    assert_eq!(s.args.len(), 3);
    assert_eq!(
        s.greps,
        vec![
            Grep {
                invert: true,
                ignore_case: false,
                pattern: "LISTEN".into(),
                span: sp(3, 38)
            },
            Grep {
                invert: false,
                ignore_case: true,
                pattern: ":1234".into(),
                span: sp(3, 55)
            },
        ]
    );
    let Command::Host(_, HostCommand::Tcpdump(t)) = &st[1].command else {
        panic!()
    };
    assert_eq!(t.file, Some(word("out.pcap", 4, 31)));
    assert_eq!(t.interface, Some(word("eth0", 4, 23)));
    assert!(t.numeric);
    assert_eq!(t.filter.len(), 3);
    assert_eq!(t.job, Some(1));
    let Command::Host(_, HostCommand::Tcpdump(t)) = &st[2].command else {
        panic!()
    };
    assert_eq!((t.file.clone(), t.job, t.filter.len()), (None, None, 0));
}

#[test]
fn the_socket_program() {
    let st = steps(
        "server: socket l\n\
         server: setsockopt l SO_RCVBUF 4096\n\
         server: listen 1234 as l backlog 16\n\
         server: accept l as c\n\
         server: noread c\n\
         client: socket s\n\
         client: setsockopt s SO_KEEPALIVE 1\n\
         client: setsockopt s TCP_KEEPIDLE 2\n\
         client: setsockopt s tcp_keepintvl 1\n\
         client: setsockopt s TCP_KEEPCNT 3\n\
         client: setsockopt s TCP_USER_TIMEOUT 3000\n\
         client: setsockopt s SO_LINGER on 0\n\
         client: setsockopt s SO_LINGER off\n\
         client: setsockopt s TCP_LINGER2 -1\n\
         client: setsockopt s TCP_QUICKACK 0\n\
         client: setsockopt s TCP_SYNCNT 2\n\
         client: setsockopt s TCP_NODELAY 1\n\
         client: setsockopt s SO_SNDBUF 1MiB\n\
         client: setsockopt s SO_REUSEADDR 1\n\
         client: setsockopt s TCP_MAXSEG 536\n\
         client: connect 10.77.0.2:1234 as s\n\
         client: write s 100\n\
         client: write s 10 repeat 30 every 100ms\n\
         client: read s\n\
         client: shutdown s wr\n\
         client: shutdown s rd\n\
         client: shutdown s rdwr\n\
         client: close s\n\
         client: connect server:1234 as t\n\
         client: connect [fd00::2]:80 as u\n\
         server: listen 10.77.0.2:80 as l2\n",
    );
    let cmd = |i: usize| match &st[i].command {
        Command::Host(_, c) => c.clone(),
        c => panic!("{c:?}"),
    };
    let name = |n: &str, line: u32, col: u32| SockName {
        name: n.into(),
        span: sp(line, col),
    };
    assert_eq!(
        cmd(2),
        HostCommand::Listen {
            sock: name("l", 5, 24),
            addr: None,
            port: 1234,
            backlog: Some(16),
            span: sp(5, 9)
        }
    );
    assert_eq!(
        cmd(3),
        HostCommand::Accept {
            listener: name("l", 6, 16),
            sock: name("c", 6, 21),
            span: sp(6, 9)
        }
    );
    let opts: Vec<SockOpt> = (6..20)
        .map(|i| match cmd(i) {
            HostCommand::Setsockopt { opt, .. } => opt,
            c => panic!("{c:?}"),
        })
        .collect();
    assert_eq!(
        opts,
        vec![
            SockOpt::KeepAlive(true),
            SockOpt::KeepIdle(2),
            SockOpt::KeepIntvl(1),
            SockOpt::KeepCnt(3),
            SockOpt::UserTimeout(3000),
            SockOpt::Linger(Some(0)),
            SockOpt::Linger(None),
            SockOpt::Linger2(-1),
            SockOpt::QuickAck(0),
            SockOpt::SynCnt(2),
            SockOpt::NoDelay(true),
            SockOpt::SndBuf(1 << 20),
            SockOpt::ReuseAddr(true),
            SockOpt::MaxSeg(536),
        ]
    );
    let HostCommand::Connect { to, .. } = cmd(20) else {
        panic!()
    };
    assert_eq!((to.port, to.host.is_none()), (1234, true));
    assert_eq!(
        cmd(22),
        HostCommand::Write {
            sock: name("s", 25, 15),
            bytes: 10,
            repeat: Some(Repeat {
                count: 30,
                every: ms(100),
                span: sp(25, 20)
            }),
            span: sp(25, 9)
        }
    );
    let hows: Vec<Shutdown> = (24..27)
        .map(|i| match cmd(i) {
            HostCommand::Shutdown { how, .. } => how,
            c => panic!("{c:?}"),
        })
        .collect();
    assert_eq!(hows, vec![Shutdown::Write, Shutdown::Read, Shutdown::Both]);
    assert!(matches!(cmd(27), HostCommand::Close { .. }));
    let HostCommand::Connect { to, .. } = cmd(28) else {
        panic!()
    };
    assert_eq!(to.host.map(|h| h.index), Some(1));
    let HostCommand::Connect { to, .. } = cmd(29) else {
        panic!()
    };
    assert_eq!(to.addr, "fd00::2".parse::<IpAddr>().unwrap());
    let HostCommand::Listen { addr, port, .. } = cmd(30) else {
        panic!()
    };
    assert_eq!((addr, port), (Some("10.77.0.2".parse().unwrap()), 80));
}

#[test]
fn assertions() {
    let st = steps(
        "client: nc server 1234 &\n\
         client: connect 10.77.0.2:1234 as s\n\
         at 3.5s expect client: state %1 FIN-WAIT-1\n\
         expect client: state s ESTAB\n\
         expect client: state s gone\n\
         expect client: errno s ETIMEDOUT at 19.35s ±300ms\n\
         expect client: errno %1 none\n\
         expect client: ss -tano | grep FIN-WAIT-1\n\
         expect client: ! netstat -an | grep 1234\n\
         expect packet client > server flags [F.] at 3s, +205ms ±4ms, +413ms, 3.837s±8ms\n\
         expect packet * > server seq 0 ack 1 len 0 win 2896 at 5s\n\
         expect rst client > server at 5.091s +- 10ms\n\
         expect no rst\n\
         expect no packet server > client flags S. from +1s until 10s\n",
    );
    let ex = |i: usize| match &st[i].command {
        Command::Expect(e) => e.clone(),
        c => panic!("{c:?}"),
    };
    assert_eq!(
        ex(2),
        Expect::State {
            host: host("client", 0, 5, 16),
            sock: SockRef::Job {
                job: 1,
                span: sp(5, 30)
            },
            state: ExpectedState::Is(TcpState::FinWait1),
            span: sp(5, 9),
        }
    );
    assert_eq!(st[2].host().map(|h| h.index), Some(0));
    assert_eq!(st[3].time, ms(3500));
    let Expect::State { state, .. } = ex(3) else {
        panic!()
    };
    assert_eq!(state, ExpectedState::Is(TcpState::Established));
    let Expect::State { state, .. } = ex(4) else {
        panic!()
    };
    assert_eq!(state, ExpectedState::Gone);
    let Expect::Errno { errno, at, .. } = ex(5) else {
        panic!()
    };
    assert_eq!(errno, Some(Errno::ETIMEDOUT));
    let at = at.unwrap();
    assert_eq!((at.time.time, at.tolerance), (ms(19_350), ms(300)));
    let Expect::Errno { errno, at, .. } = ex(6) else {
        panic!()
    };
    assert_eq!((errno, at), (None, None));
    let Expect::Output {
        negate, snapshot, ..
    } = ex(7)
    else {
        panic!()
    };
    assert!(!negate);
    assert_eq!(snapshot.greps[0].pattern, "FIN-WAIT-1");
    let Expect::Output {
        negate, snapshot, ..
    } = ex(8)
    else {
        panic!()
    };
    assert!(negate);
    assert_eq!(snapshot.tool, SnapshotTool::Netstat);
    let Expect::Packet { filter, times, .. } = ex(9) else {
        panic!()
    };
    assert_eq!(filter.from.as_ref().map(|h| h.index), Some(0));
    assert_eq!(filter.to.as_ref().map(|h| h.index), Some(1));
    assert_eq!(
        filter.flags,
        Some(FlagMatch {
            flags: TcpFlags(TcpFlags::FIN | TcpFlags::ACK),
            exact: true,
            span: sp(12, 37)
        })
    );
    let got: Vec<(Duration, bool, Duration)> = times
        .iter()
        .map(|t| (t.time.time, t.time.relative, t.tolerance))
        .collect();
    assert_eq!(
        got,
        vec![
            (ms(3000), false, ms(4)),
            (ms(3705), true, ms(4)),
            (ms(3913), true, ms(8)),
            (ms(3837), false, ms(8)),
        ]
    );
    let Expect::Packet { filter, times, .. } = ex(10) else {
        panic!()
    };
    assert_eq!(filter.from, None);
    assert_eq!(
        (filter.seq, filter.ack, filter.len, filter.win),
        (Some(0), Some(1), Some(0), Some(2896))
    );
    assert_eq!(times[0].tolerance, Duration::ZERO);
    let Expect::Packet { filter, times, .. } = ex(11) else {
        panic!()
    };
    assert_eq!(
        filter.flags.map(|f| (f.flags, f.exact)),
        Some((TcpFlags(TcpFlags::RST), false))
    );
    assert_eq!(times[0].tolerance, ms(10));
    let Expect::NoPacket {
        filter,
        from,
        until,
        ..
    } = ex(12)
    else {
        panic!()
    };
    assert_eq!((filter.from, from, until), (None, None, None));
    let Expect::NoPacket { from, until, .. } = ex(13) else {
        panic!()
    };
    assert_eq!(from.map(|t| t.time), Some(ms(4500)));
    assert_eq!(until.map(|t| t.time), Some(ms(10_000)));
}

#[test]
fn lexing_quotes_comments_and_continuations() {
    let st = steps(
        "client: ss -tan | grep 'a # b' # a comment\n\
         client: ss -tan | grep \"say \\\"hi\\\"\"\n\
         server: iptables -A INPUT \\\n    -s 10.77.0.1 -j DROP\n\
         client: ss a\\ b#c\n",
    );
    let snap = |i: usize| match &st[i].command {
        Command::Host(_, HostCommand::Snapshot(s)) => s.clone(),
        c => panic!("{c:?}"),
    };
    assert_eq!(snap(0).greps[0].pattern, "a # b");
    assert_eq!(snap(1).greps[0].pattern, "say \"hi\"");
    let Command::Host(_, HostCommand::Iptables(ipt)) = &st[2].command else {
        panic!()
    };
    assert_eq!(ipt.args.len(), 6);
    assert_eq!(ipt.args[2], word("-s", 6, 5));
    assert_eq!(st[2].text, "server: iptables -A INPUT -s 10.77.0.1 -j DROP");
    assert_eq!(st[0].text, "client: ss -tan | grep 'a # b'");
    assert_eq!(snap(3).args, vec![word("a b#c", 7, 12)]);
    assert_eq!(st[3].span, sp(7, 1));
}

#[test]
fn flags_print_like_tcpdump() {
    assert_eq!(TcpFlags::from_letters(".S").unwrap().to_string(), "S.");
    assert_eq!(TcpFlags::from_letters("P.F").unwrap().to_string(), "FP.");
    assert_eq!(TcpFlags::from_letters("none"), Some(TcpFlags(0)));
    assert_eq!(TcpFlags(0).to_string(), "none");
    assert_eq!(TcpFlags::from_letters("SS"), None);
    assert_eq!(TcpFlags::from_letters("X"), None);
    assert_eq!(TcpFlags::from_letters(""), None);
    assert_eq!(format_duration(ms(3500)), "3.5s");
    assert_eq!(format_duration(ms(200)), "200ms");
    assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
    assert_eq!(format_duration(Duration::from_nanos(7)), "7ns");
    assert_eq!(format_duration(Duration::ZERO), "0s");
}

#[test]
fn errors_before_any_host_say_so() {
    assert_eq!(
        err("client: ss\n"),
        "t.tcplab:1:1: undeclared host `client`; expected a `host client ADDR` line before this \
         one (no hosts are declared yet)"
    );
}

#[test]
fn error_struct_fields_and_display() {
    let e = parse(
        "fin_wait1.tcplab",
        "host client 10.0.0.1\nclient: nc -l abc &\n",
    )
    .unwrap_err();
    assert_eq!(
        e,
        ScenarioError {
            file: "fin_wait1.tcplab".into(),
            line: 2,
            col: 15,
            message: "expected a port number after `nc -l`, found \"abc\"".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "fin_wait1.tcplab:2:15: expected a port number after `nc -l`, found \"abc\""
    );
}

#[test]
fn empty_and_comment_only_scripts_parse() {
    let s = ok("");
    assert!(s.hosts.is_empty() && s.steps.is_empty());
    let s = ok("# nothing\n\n   # indented\r\n");
    assert!(s.steps.is_empty());
}

const VOCAB: &[&str] = &[
    "host",
    "link",
    "hz",
    "seed",
    "at",
    "expect",
    "run",
    "client:",
    "server:",
    "client",
    "server",
    "10.0.0.1",
    "10.0.0.2",
    "kernel",
    "->",
    ">",
    "*",
    "nc",
    "-l",
    "-p",
    "1234",
    "&",
    "|",
    "grep",
    "-v",
    "ss",
    "netstat",
    "-tano",
    "kill",
    "-INT",
    "%1",
    "%2",
    "%0",
    "iptables",
    "sysctl",
    "-w",
    "a.b=1",
    "-p",
    "tcpdump",
    "-i",
    "socket",
    "s",
    "connect",
    "server:1234",
    "[::1]:1",
    "as",
    "listen",
    "accept",
    "write",
    "100",
    "repeat",
    "every",
    "read",
    "noread",
    "shutdown",
    "wr",
    "close",
    "setsockopt",
    "SO_LINGER",
    "on",
    "off",
    "TCP_KEEPIDLE",
    "state",
    "errno",
    "ETIMEDOUT",
    "none",
    "gone",
    "FIN_WAIT1",
    "packet",
    "rst",
    "no",
    "flags",
    "F.",
    "seq",
    "ack",
    "len",
    "win",
    "from",
    "until",
    "1s",
    "+1s",
    "3.5s",
    "±10ms",
    "±",
    "+-",
    "10ms",
    "1%",
    "delay",
    "loss",
    "reorder",
    "!",
    "\n",
    "\n",
    "\n",
    "#",
    "'",
    "\"",
    "\\",
    "\\\n",
    "",
    "99999999999999999999999s",
    "1.5ns",
    "µs",
    "%99999999999",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC*") {
        let _ = parse("p.tcplab", &src);
    }

    #[test]
    fn arbitrary_bytes_never_panic(src in proptest::collection::vec(any::<char>(), 0..200)) {
        let s: String = src.into_iter().collect();
        let _ = parse("p.tcplab", &s);
    }

    #[test]
    fn token_soup_never_panics(
        words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..60),
        seps in proptest::collection::vec(proptest::sample::select(&[" ", " ", "\n", ""][..]), 60),
    ) {
        let mut src = String::from("host client 10.0.0.1\nhost server 10.0.0.2\n");
        for (w, s) in words.iter().zip(seps.iter()) {
            src.push_str(w);
            src.push_str(s);
        }
        if let Err(e) = parse("p.tcplab", &src) {
            prop_assert!(e.line >= 1 && e.col >= 1, "{e}");
            prop_assert!(!e.message.is_empty());
        }
    }
}
