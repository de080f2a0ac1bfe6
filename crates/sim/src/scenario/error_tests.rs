//! Every error the parser reports, with its exact text and position.

use super::tests::err2;

/// Every error kind, with its exact text and position.
#[test]
fn errors_name_the_place_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        // Lexical.
        (
            "client: ss | grep 'abc\n",
            "3:19: expected a closing `'` before the end of the line",
        ),
        (
            "client: ss | grep \"abc\n",
            "3:19: expected a closing `\"` before the end of the line",
        ),
        (
            "client: ss; ss\n",
            "3:11: `;` is not supported: write one command per line",
        ),
        (
            "client: nc -l 1 && ss\n",
            "3:17: `&&` is not supported: write one command per line",
        ),
        (
            "client: ss || ss\n",
            "3:12: `||` is not supported: write one command per line",
        ),
        // Top level.
        (
            "frobnicate\n",
            "3:1: expected `host`, `link`, `hz`, `seed`, `at`, `expect`, `run` or `HOST: command`, found \"frobnicate\"",
        ),
        (
            "| grep x\n",
            "3:1: expected `host`, `link`, `hz`, `seed`, `at`, `expect`, `run` or `HOST: command`, found `|`",
        ),
        (
            "client nc -l 1\n",
            "3:1: expected `client:` (a host name followed by a colon), found \"client\"",
        ),
        (
            "client:nc -l 1\n",
            "3:1: expected a blank after `client:`, found \"client:nc\"",
        ),
        (
            "nobody: ss\n",
            "3:1: undeclared host `nobody`; expected a `host nobody ADDR` line before this one (declared hosts: client, server)",
        ),
        (
            "at 1s frob\n",
            "3:7: expected `HOST: command`, `expect` or `link` after the time, found \"frob\"",
        ),
        (
            "at 1s\n",
            "3:6: expected `HOST: command`, `expect` or `link` after `at 1s`, found the end of the line",
        ),
        (
            "at 1s host x 10.0.0.9\n",
            "3:7: `host` is a declaration for the whole run and takes no `at` time",
        ),
        (
            "at 1s client: hz 100\n",
            "3:15: `hz` is a declaration for the whole run and takes no `at` time",
        ),
        (
            "run 10s\nclient: ss\n",
            "4:1: expected nothing after `run` (line 3): it ends the scenario",
        ),
        (
            "at 11s client: ss\nrun 10s\n",
            "4:1: the run ends at 10s, before the step at 11s (line 3); expected `run 11s` or longer",
        ),
        (
            "expect packet at 12s\nrun 10s\n",
            "4:1: the run ends at 10s, before the expected time 12s (line 3); expected `run 12s` or longer",
        ),
        // Times and units.
        (
            "at abc client: ss\n",
            "3:4: expected a time such as `1s`, `3.5s` or `+100ms` after `at`, found \"abc\"",
        ),
        (
            "at 3 client: ss\n",
            "3:4: expected a unit (ns, us, ms, s, min) after \"3\", as in `3s`",
        ),
        (
            "at 3sec client: ss\n",
            "3:4: unknown time unit \"sec\" in \"3sec\"; expected ns, us, ms, s or min",
        ),
        (
            "at 0.0000000001s client: ss\n",
            "3:4: \"0.0000000001s\" is finer than a nanosecond",
        ),
        (
            "at 99999999999999999999s client: ss\n",
            "3:4: \"99999999999999999999s\" is too large",
        ),
        (
            "at 2s client: ss\nat 1s client: ss\n",
            "4:4: time goes backwards: 1s is before the previous `at 2s` (line 3); expected 2s or later",
        ),
        (
            "run\n",
            "3:4: expected a duration such as `200ms` or `3.5s` after `run`, found the end of the line",
        ),
        // Hosts.
        (
            "host client 10.0.0.9\n",
            "3:6: host `client` is already declared (line 1); expected a new name",
        ),
        (
            "host other 10.77.0.1\n",
            "3:12: address 10.77.0.1 is already host `client`'s (line 1); expected a new address",
        ),
        (
            "host other 10.77.0.300\n",
            "3:12: expected an IP address after `host other`, found \"10.77.0.300\"",
        ),
        (
            "host 9lives 10.0.0.9\n",
            "3:6: expected a host name (a letter, then letters, digits, `_` or `-`) after `host`, found \"9lives\"",
        ),
        (
            "host run 10.0.0.9\n",
            "3:6: `run` is a keyword and cannot name a host",
        ),
        (
            "host flags 10.0.0.9\n",
            "3:6: `flags` is a keyword and cannot name a host",
        ),
        (
            "host other 10.0.0.9 kernal\n",
            "3:21: expected the end of the line after `10.0.0.9`, found \"kernal\"",
        ),
        // Links.
        (
            "link client nobody\n",
            "3:13: undeclared host `nobody`; expected a `host nobody ADDR` line before this one (declared hosts: client, server)",
        ),
        (
            "link client client\n",
            "3:13: expected a host other than `client`: a link joins two hosts",
        ),
        (
            "link client server delay\n",
            "3:25: expected a duration such as `200ms` or `3.5s` after `delay`, found the end of the line",
        ),
        (
            "link client server loss 1\n",
            "3:25: expected `%` after \"1\", as in `1%`",
        ),
        (
            "link client server loss 150%\n",
            "3:25: expected a percentage from 0% to 100%, found \"150%\"",
        ),
        (
            "link client server rate 10\n",
            "3:25: expected a unit (bit, kbit, mbit, gbit) after \"10\", as in `10mbit`",
        ),
        (
            "link client server rate 10mbps\n",
            "3:25: unknown rate unit \"mbps\"; expected bit, kbit, mbit or gbit",
        ),
        (
            "link client server bandwidth 1\n",
            "3:20: unknown link property \"bandwidth\"; expected delay, jitter, rate, queue, loss, dup, reorder or corrupt",
        ),
        (
            "link client server loss 1% loss 2%\n",
            "3:28: `loss` is already given on this line (column 20); expected each property once",
        ),
        (
            "link client server reorder 5%\n",
            "3:30: expected a duration such as `200ms` or `3.5s` after `reorder 5%`, found the end of the line",
        ),
        // Settings.
        (
            "hz 200\n",
            "3:4: expected 100, 250, 300 or 1000 (Linux's HZ choices) after `hz`, found \"200\"",
        ),
        (
            "hz 250\nhz 1000\n",
            "4:1: hz is already set for all hosts (line 3); expected it once",
        ),
        (
            "client: hz 250\nclient: hz 100\n",
            "4:1: hz is already set for host `client` (line 3); expected it once",
        ),
        (
            "seed 1\nseed 2\n",
            "4:1: the seed is already set (line 3); expected it once",
        ),
        (
            "seed x\n",
            "3:6: expected a number after `seed`, found \"x\"",
        ),
        // Host commands.
        (
            "client: frob\n",
            "3:9: unknown command \"frob\" after `client:`; expected one of sysctl, nc, kill, iptables, ss, netstat, tcpdump, socket, connect, listen, accept, write, read, noread, shutdown, close, setsockopt, hz",
        ),
        (
            "client:\n",
            "3:8: expected a command after `client:` (sysctl, nc, kill, iptables, ss, netstat, tcpdump, socket, connect, listen, accept, write, read, noread, shutdown, close, setsockopt, hz), found the end of the line",
        ),
        (
            "server: nc -l abc &\n",
            "3:15: expected a port number after `nc -l`, found \"abc\"",
        ),
        (
            "server: nc -l 70000\n",
            "3:15: expected a port number after `nc -l`, found \"70000\"",
        ),
        (
            "server: nc -x 1\n",
            "3:12: unknown nc option \"-x\"; expected -l, -p PORT, -n or -v",
        ),
        (
            "client: nc nowhere 1\n",
            "3:12: expected an IP address or a declared host's name after `nc`, found \"nowhere\"",
        ),
        (
            "client: nc server\n",
            "3:18: expected a port number after `nc server`, found the end of the line",
        ),
        (
            "client: nc -l 1 & x\n",
            "3:17: expected the end of the line after `nc …`, found `&`",
        ),
        (
            "client: ss -tan &\n",
            "3:17: expected the end of the line after `ss …`, found `&`: only `nc` and `tcpdump` run as background jobs",
        ),
        (
            "client: kill %1\n",
            "3:14: no job %1 on `client`; no job has been started on `client` with `&`",
        ),
        (
            "client: nc -l 1 &\nclient: kill %2\n",
            "4:14: no job %2 on `client`; jobs on `client`: %1 (nc, line 3)",
        ),
        (
            "client: kill %x\n",
            "3:14: expected a job such as `%1`, found \"%x\"",
        ),
        (
            "client: kill -USR1 %1\n",
            "3:14: unknown signal \"-USR1\"; expected -INT, -TERM, -KILL, -HUP (or -2, -15, -9, -1)",
        ),
        (
            "client: kill -INT\n",
            "3:18: expected a job such as `%1` or a process id after `kill -INT`, found the end of the line",
        ),
        (
            "client: sysctl -w tcp_fin_timeout\n",
            "3:19: expected KEY=VALUE after `sysctl -w`, found \"tcp_fin_timeout\"",
        ),
        (
            "client: sysctl -w =3\n",
            "3:19: expected a sysctl name such as `net.ipv4.tcp_fin_timeout` after `sysctl -w`, found \"=3\"",
        ),
        (
            "client: sysctl -w\n",
            "3:18: expected KEY=VALUE after `sysctl -w`, found the end of the line",
        ),
        (
            "client: sysctl -p\n",
            "3:18: expected a sysctl.conf file after `sysctl -p`, found the end of the line",
        ),
        (
            "client: sysctl -a\n",
            "3:16: unknown sysctl option \"-a\"; expected -w KEY=VALUE, -p FILE or KEY",
        ),
        (
            "client: iptables\n",
            "3:17: expected iptables arguments after `iptables`, found the end of the line",
        ),
        (
            "client: iptables -L | grep x\n",
            "3:21: expected the end of the line after `iptables …`, found `|`",
        ),
        (
            "client: ss -tan | sort\n",
            "3:19: expected `grep` after `|`, found \"sort\"",
        ),
        (
            "client: ss -tan | grep\n",
            "3:23: expected a pattern after `grep`, found the end of the line",
        ),
        (
            "client: ss -tan | grep -c x\n",
            "3:24: unknown grep option \"-c\"; expected -v, -i or -F",
        ),
        (
            "client: ss -tan | grep a b\n",
            "3:26: expected `|` or the end of the line after `grep PATTERN`, found \"b\"",
        ),
        (
            "client: tcpdump -w\n",
            "3:19: expected a file name after `tcpdump -w`, found the end of the line",
        ),
        (
            "client: tcpdump -X\n",
            "3:17: unknown tcpdump option \"-X\"; expected -w FILE, -i INTERFACE or -n",
        ),
        // The socket program.
        (
            "client: write s 10\n",
            "3:15: no socket `s` on `client`; expected one created earlier by `socket s`, `connect ADDR:PORT as s`, `listen PORT as s` or `accept L as s`",
        ),
        (
            "client: connect 10.77.0.2:1234\n",
            "3:31: expected `as NAME` after `connect 10.77.0.2:1234`, found the end of the line",
        ),
        (
            "client: connect 10.77.0.2 as s\n",
            "3:17: expected ADDR:PORT (such as `10.0.0.2:1234`, `[::1]:1234` or `server:1234`) after `connect`, found \"10.77.0.2\"",
        ),
        (
            "client: connect 10.77.0.2:x as s\n",
            "3:17: expected a port number (1-65535) after \"10.77.0.2:\", found \"x\"",
        ),
        (
            "client: connect fd00::2:80 as s\n",
            "3:17: expected an IPv6 address in brackets, as in `[::1]:1234`, found \"fd00::2:80\"",
        ),
        (
            "client: connect nowhere:80 as s\n",
            "3:17: expected an IP address or a declared host's name after `connect`, found \"nowhere\"",
        ),
        (
            "client: connect server:80 as 1s\n",
            "3:30: expected a socket name (a letter, then letters, digits or `_`) after `as`, found \"1s\"",
        ),
        (
            "client: connect server:80 as s\nclient: connect server:80 as s\n",
            "4:30: socket `s` already exists on `client` (line 3); expected a new name",
        ),
        (
            "client: socket s\nclient: socket s\n",
            "4:16: socket `s` already exists on `client` (line 3); expected a new name",
        ),
        (
            "client: connect server:80 as s\nclient: accept s as c\n",
            "4:16: expected a listening socket after `accept`, but `s` was not created by `listen … as s`",
        ),
        (
            "server: listen x as l\n",
            "3:16: expected a port or ADDR:PORT (port 1-65535) after `listen`, found \"x\"",
        ),
        (
            "client: socket s\nclient: shutdown s both\n",
            "4:20: expected `rd`, `wr` or `rdwr` after `shutdown s`, found \"both\"",
        ),
        (
            "client: socket s\nclient: write s ten\n",
            "4:17: expected a byte count such as `100` or `1MiB` after `write s`, found \"ten\"",
        ),
        (
            "client: socket s\nclient: write s 1TB\n",
            "4:17: unknown size unit \"TB\"; expected B, kB, KiB, MB, MiB, GB or GiB",
        ),
        (
            "client: socket s\nclient: write s 1 repeat 0 every 1s\n",
            "4:19: expected a repeat count of at least 1",
        ),
        (
            "client: socket s\nclient: write s 1 repeat 3\n",
            "4:27: expected `every DURATION` after `repeat 3`, found the end of the line",
        ),
        (
            "client: socket s\nclient: setsockopt s SO_FROB 1\n",
            "4:22: unknown socket option \"SO_FROB\"; expected one of SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, TCP_NODELAY, TCP_QUICKACK, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_LINGER2, TCP_SYNCNT, TCP_MAXSEG",
        ),
        (
            "client: socket s\nclient: setsockopt s SO_KEEPALIVE yes\n",
            "4:35: expected 0 or 1 after `setsockopt s SO_KEEPALIVE`, found \"yes\"",
        ),
        (
            "client: socket s\nclient: setsockopt s SO_LINGER 1 0\n",
            "4:32: expected `on SECONDS` or `off` after `setsockopt s SO_LINGER`, found \"1\"",
        ),
        (
            "client: socket s\nclient: setsockopt s TCP_KEEPIDLE -1\n",
            "4:35: expected seconds after `setsockopt s TCP_KEEPIDLE`, found \"-1\"",
        ),
        (
            "client: socket s\nclient: setsockopt s TCP_KEEPIDLE 99999999999\n",
            "4:35: expected seconds after `setsockopt s TCP_KEEPIDLE` (at most 4294967295), found \"99999999999\"",
        ),
        (
            "client: socket s\nclient: setsockopt s TCP_LINGER2 x\n",
            "4:34: expected seconds (an integer, -1 for none) after `setsockopt s TCP_LINGER2`, found \"x\"",
        ),
        // Assertions.
        (
            "expect\n",
            "3:7: expected `HOST:`, `packet`, `rst` or `no` after `expect`, found the end of the line",
        ),
        (
            "expect nothing\n",
            "3:8: expected `HOST:`, `packet`, `rst` or `no` after `expect`, found \"nothing\"",
        ),
        (
            "expect client: frob\n",
            "3:16: expected `state`, `errno`, `ss`, `netstat` or `!` after `expect client:`, found \"frob\"",
        ),
        (
            "client: socket s\nexpect client: state s FIN_WAIT3\n",
            "4:24: unknown TCP state \"FIN_WAIT3\"; expected one of LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT, CLOSE or gone (ss spellings such as FIN-WAIT-1 work too)",
        ),
        (
            "expect client: state %1 ESTAB\n",
            "3:22: no job %1 on `client`; no job has been started on `client` with `&`",
        ),
        (
            "client: tcpdump -w x &\nexpect client: state %1 ESTAB\n",
            "4:22: job %1 on `client` is tcpdump (line 3), which has no socket; expected an `nc` job",
        ),
        (
            "client: socket s\nexpect client: errno s EFROB\n",
            "4:24: unknown errno \"EFROB\"; expected a name such as ETIMEDOUT, ECONNRESET, ECONNREFUSED or EPIPE, or `none`",
        ),
        (
            "client: socket s\nexpect client: errno s EPIPE at 1s 2s\n",
            "4:30: expected exactly one time after `at`",
        ),
        (
            "expect client: ! grep x\n",
            "3:18: expected `ss` or `netstat` after `expect client: !`, found \"grep\"",
        ),
        (
            "expect packet client server at 1s\n",
            "3:22: expected `>` (as in `client > server`) after `expect packet client`, found \"server\"",
        ),
        (
            "expect packet client > nobody at 1s\n",
            "3:24: undeclared host `nobody`; expected a `host nobody ADDR` line before this one (declared hosts: client, server)",
        ),
        (
            "expect packet flags Q at 1s\n",
            "3:21: expected tcpdump's flag letters (S F R P . U E W, each once, or `none`) after `flags`, found \"Q\"",
        ),
        (
            "expect packet flags S flags F at 1s\n",
            "3:23: `flags` is already given in this filter; expected it once",
        ),
        (
            "expect rst flags F at 1s\n",
            "3:12: `rst` already sets the flags; expected `expect packet … flags …` instead",
        ),
        (
            "expect packet seq -1 at 1s\n",
            "3:19: expected a number after `seq`, found \"-1\"",
        ),
        (
            "expect packet client > server\n",
            "3:30: expected `A > B`, `flags`, `seq`, `ack`, `len`, `win` or `at TIME` after `expect packet …`, found the end of the line",
        ),
        (
            "expect packet flags S\n",
            "3:22: expected `at TIME` after `expect packet …`, found the end of the line",
        ),
        (
            "expect packet at\n",
            "3:17: expected a time such as `3.205s` or `+205ms` after `at`, found the end of the line",
        ),
        (
            "expect packet at ±10ms 1s\n",
            "3:18: expected a time before `±10ms`",
        ),
        (
            "expect packet at 1s ±\n",
            "3:22: expected a tolerance such as `10ms` after `±`, found the end of the line",
        ),
        (
            "expect packet at 1s ±10\n",
            "3:21: expected a unit (ns, us, ms, s, min) after \"10\", as in `10s`",
        ),
        (
            "expect no\n",
            "3:10: expected `packet` or `rst` after `expect no`, found the end of the line",
        ),
        (
            "expect no rst until 1s from 2s\n",
            "3:24: expected the end of the line after `expect no …`, found \"from\"",
        ),
        (
            "expect no rst from 2s until 1s\n",
            "3:29: expected an `until` time at or after the `from` time 2s",
        ),
        (
            "expect no rst frob\n",
            "3:15: expected `A > B`, `flags`, `seq`, `ack`, `len`, `win`, `at`, `from` or `until` in the packet filter, found \"frob\"",
        ),
    ];
    for (body, want) in cases {
        let got = err2(body);
        assert_eq!(got, format!("t.tcplab:{want}"), "for {body:?}");
    }
}
