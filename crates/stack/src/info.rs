//! Introspection: `struct tcp_info` (Linux: tcp_get_info() in net/ipv4/tcp.c) and the socket
//! table `ss -tanoi` reads (Linux: inet_sk_diag_fill() in net/ipv4/inet_diag.c).

use crate::api::TcpState;
use crate::cc::{CaState, TCP_INFINITE_SSTHRESH};
use crate::socket::{Sock, XmitTimer};
use crate::ss::{InfoView, TimerKind, TimerView};
use crate::time::{Hz, Instant};

/// The fields of Linux's `struct tcp_info` the stack keeps. Times are microseconds where the
/// kernel reports microseconds (`rto`, `ato`, `rtt`, `rttvar`) and milliseconds for the
/// `last_*` fields, as in the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub tcpi_state: u8,
    pub tcpi_ca_state: u8,
    pub tcpi_retransmits: u8,
    pub tcpi_probes: u8,
    pub tcpi_backoff: u8,
    /// TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4.
    pub tcpi_options: u8,
    pub tcpi_snd_wscale: u8,
    pub tcpi_rcv_wscale: u8,
    pub tcpi_rto: u32,
    pub tcpi_ato: u32,
    pub tcpi_snd_mss: u32,
    pub tcpi_rcv_mss: u32,
    pub tcpi_unacked: u32,
    pub tcpi_sacked: u32,
    pub tcpi_lost: u32,
    pub tcpi_retrans: u32,
    pub tcpi_last_data_sent: u32,
    pub tcpi_last_data_recv: u32,
    pub tcpi_last_ack_recv: u32,
    pub tcpi_pmtu: u32,
    pub tcpi_rcv_ssthresh: u32,
    pub tcpi_rtt: u32,
    pub tcpi_rttvar: u32,
    pub tcpi_snd_ssthresh: u32,
    pub tcpi_snd_cwnd: u32,
    pub tcpi_advmss: u32,
    pub tcpi_reordering: u32,
    pub tcpi_total_retrans: u32,
    pub tcpi_bytes_sent: u64,
    pub tcpi_bytes_retrans: u64,
    pub tcpi_bytes_acked: u64,
    pub tcpi_bytes_received: u64,
    pub tcpi_segs_out: u32,
    pub tcpi_segs_in: u32,
    pub tcpi_data_segs_out: u32,
    pub tcpi_data_segs_in: u32,
    pub tcpi_notsent_bytes: u32,
    pub tcpi_min_rtt: u32,
    pub tcpi_snd_wnd: u32,
    pub tcpi_rcv_wnd: u32,
    pub tcpi_total_rto: u32,
}

impl TcpInfo {
    /// Every field name this struct keeps, in the kernel's declaration order.
    pub const FIELDS: &'static [&'static str] = &[
        "tcpi_state",
        "tcpi_ca_state",
        "tcpi_retransmits",
        "tcpi_probes",
        "tcpi_backoff",
        "tcpi_options",
        "tcpi_snd_wscale",
        "tcpi_rcv_wscale",
        "tcpi_rto",
        "tcpi_ato",
        "tcpi_snd_mss",
        "tcpi_rcv_mss",
        "tcpi_unacked",
        "tcpi_sacked",
        "tcpi_lost",
        "tcpi_retrans",
        "tcpi_last_data_sent",
        "tcpi_last_data_recv",
        "tcpi_last_ack_recv",
        "tcpi_pmtu",
        "tcpi_rcv_ssthresh",
        "tcpi_rtt",
        "tcpi_rttvar",
        "tcpi_snd_ssthresh",
        "tcpi_snd_cwnd",
        "tcpi_advmss",
        "tcpi_reordering",
        "tcpi_total_retrans",
        "tcpi_bytes_sent",
        "tcpi_bytes_retrans",
        "tcpi_bytes_acked",
        "tcpi_bytes_received",
        "tcpi_segs_out",
        "tcpi_segs_in",
        "tcpi_data_segs_out",
        "tcpi_data_segs_in",
        "tcpi_notsent_bytes",
        "tcpi_min_rtt",
        "tcpi_snd_wnd",
        "tcpi_rcv_wnd",
        "tcpi_total_rto",
    ];

    /// The value of the field called `name` (`tcpi_snd_cwnd`), as packetdrill's Python blocks
    /// and `getsockopt(TCP_INFO)` readers see it; `None` for a name this struct does not keep.
    pub fn field(&self, name: &str) -> Option<u64> {
        Some(match name {
            "tcpi_state" => u64::from(self.tcpi_state),
            "tcpi_ca_state" => u64::from(self.tcpi_ca_state),
            "tcpi_retransmits" => u64::from(self.tcpi_retransmits),
            "tcpi_probes" => u64::from(self.tcpi_probes),
            "tcpi_backoff" => u64::from(self.tcpi_backoff),
            "tcpi_options" => u64::from(self.tcpi_options),
            "tcpi_snd_wscale" => u64::from(self.tcpi_snd_wscale),
            "tcpi_rcv_wscale" => u64::from(self.tcpi_rcv_wscale),
            "tcpi_rto" => u64::from(self.tcpi_rto),
            "tcpi_ato" => u64::from(self.tcpi_ato),
            "tcpi_snd_mss" => u64::from(self.tcpi_snd_mss),
            "tcpi_rcv_mss" => u64::from(self.tcpi_rcv_mss),
            "tcpi_unacked" => u64::from(self.tcpi_unacked),
            "tcpi_sacked" => u64::from(self.tcpi_sacked),
            "tcpi_lost" => u64::from(self.tcpi_lost),
            "tcpi_retrans" => u64::from(self.tcpi_retrans),
            "tcpi_last_data_sent" => u64::from(self.tcpi_last_data_sent),
            "tcpi_last_data_recv" => u64::from(self.tcpi_last_data_recv),
            "tcpi_last_ack_recv" => u64::from(self.tcpi_last_ack_recv),
            "tcpi_pmtu" => u64::from(self.tcpi_pmtu),
            "tcpi_rcv_ssthresh" => u64::from(self.tcpi_rcv_ssthresh),
            "tcpi_rtt" => u64::from(self.tcpi_rtt),
            "tcpi_rttvar" => u64::from(self.tcpi_rttvar),
            "tcpi_snd_ssthresh" => u64::from(self.tcpi_snd_ssthresh),
            "tcpi_snd_cwnd" => u64::from(self.tcpi_snd_cwnd),
            "tcpi_advmss" => u64::from(self.tcpi_advmss),
            "tcpi_reordering" => u64::from(self.tcpi_reordering),
            "tcpi_total_retrans" => u64::from(self.tcpi_total_retrans),
            "tcpi_bytes_sent" => self.tcpi_bytes_sent,
            "tcpi_bytes_retrans" => self.tcpi_bytes_retrans,
            "tcpi_bytes_acked" => self.tcpi_bytes_acked,
            "tcpi_bytes_received" => self.tcpi_bytes_received,
            "tcpi_segs_out" => u64::from(self.tcpi_segs_out),
            "tcpi_segs_in" => u64::from(self.tcpi_segs_in),
            "tcpi_data_segs_out" => u64::from(self.tcpi_data_segs_out),
            "tcpi_data_segs_in" => u64::from(self.tcpi_data_segs_in),
            "tcpi_notsent_bytes" => u64::from(self.tcpi_notsent_bytes),
            "tcpi_min_rtt" => u64::from(self.tcpi_min_rtt),
            "tcpi_snd_wnd" => u64::from(self.tcpi_snd_wnd),
            "tcpi_rcv_wnd" => u64::from(self.tcpi_rcv_wnd),
            "tcpi_total_rto" => u64::from(self.tcpi_total_rto),
            _ => return None,
        })
    }
}

fn ca_state_num(s: CaState) -> u8 {
    match s {
        CaState::Open => 0,
        CaState::Disorder => 1,
        CaState::Cwr => 2,
        CaState::Recovery => 3,
        CaState::Loss => 4,
    }
}

impl Sock {
    /// Linux: tcp_get_info().
    pub fn tcp_info(&self, now: Instant, hz: Hz) -> TcpInfo {
        let ms_since = |t: Instant| (now - t).as_millis() as u32;
        let mut options = 0;
        if self.rx_opt.tstamp_ok {
            options |= 1;
        }
        if self.rx_opt.sack_ok {
            options |= 2;
        }
        if self.rx_opt.wscale_ok {
            options |= 4;
        }
        TcpInfo {
            tcpi_state: self.state as u8,
            tcpi_ca_state: ca_state_num(self.ca_state),
            tcpi_retransmits: self.icsk_retransmits.min(255) as u8,
            tcpi_probes: self.icsk_probes_out.min(255) as u8,
            tcpi_backoff: self.icsk_backoff.min(255) as u8,
            tcpi_options: options,
            tcpi_snd_wscale: self.rx_opt.snd_wscale,
            tcpi_rcv_wscale: self.rx_opt.rcv_wscale,
            tcpi_rto: hz.jiffies_to_usecs(self.icsk_rto) as u32,
            tcpi_ato: hz.jiffies_to_usecs(self.ack.ato) as u32,
            tcpi_snd_mss: self.mss_cache,
            tcpi_rcv_mss: self.ack.rcv_mss,
            tcpi_unacked: self.packets_out,
            tcpi_sacked: self.recovery.sacked_out,
            tcpi_lost: self.recovery.lost_out,
            tcpi_retrans: self.recovery.retrans_out,
            tcpi_last_data_sent: ms_since(self.stats.lsndtime),
            tcpi_last_data_recv: ms_since(self.stats.last_data_recv),
            tcpi_last_ack_recv: ms_since(self.stats.last_ack_recv),
            tcpi_pmtu: self.pmtu,
            tcpi_rcv_ssthresh: self.rcv_ssthresh,
            tcpi_rtt: self.rtt.srtt_us >> 3,
            tcpi_rttvar: self.rtt.tcpi_rttvar(),
            tcpi_snd_ssthresh: self.cc.snd_ssthresh,
            tcpi_snd_cwnd: self.cc.snd_cwnd,
            tcpi_advmss: self.advmss,
            tcpi_reordering: 3,
            tcpi_total_retrans: self.stats.total_retrans,
            tcpi_bytes_sent: self.stats.bytes_sent,
            tcpi_bytes_retrans: self.stats.bytes_retrans,
            tcpi_bytes_acked: self.stats.bytes_acked,
            tcpi_bytes_received: self.stats.bytes_received,
            tcpi_segs_out: self.stats.segs_out,
            tcpi_segs_in: self.stats.segs_in,
            tcpi_data_segs_out: self.stats.data_segs_out,
            tcpi_data_segs_in: self.stats.data_segs_in,
            tcpi_notsent_bytes: self.unsent_bytes(),
            tcpi_min_rtt: self.rtt.min_rtt_us(),
            tcpi_snd_wnd: self.snd_wnd,
            tcpi_rcv_wnd: self.rcv_wnd,
            tcpi_total_rto: self.rare.total_rto,
        }
    }

    /// The `ss -i` view of `tcp_info`.
    pub fn info_view(&self, now: Instant, hz: Hz) -> InfoView {
        let i = self.tcp_info(now, hz);
        let ms = |us: u32| f64::from(us) / 1000.0;
        InfoView {
            ts: self.rx_opt.tstamp_ok,
            sack: self.rx_opt.sack_ok,
            cong: self.ca.name(),
            wscale: self
                .rx_opt
                .wscale_ok
                .then_some((i.tcpi_snd_wscale, i.tcpi_rcv_wscale)),
            rto_ms: ms(i.tcpi_rto),
            backoff: u32::from(i.tcpi_backoff),
            rtt_ms: ms(i.tcpi_rtt),
            rttvar_ms: ms(i.tcpi_rttvar),
            ato_ms: (i.tcpi_ato != 0).then(|| ms(i.tcpi_ato)),
            mss: i.tcpi_snd_mss,
            pmtu: i.tcpi_pmtu,
            rcvmss: i.tcpi_rcv_mss,
            advmss: i.tcpi_advmss,
            cwnd: i.tcpi_snd_cwnd,
            ssthresh: (i.tcpi_snd_ssthresh < TCP_INFINITE_SSTHRESH.min(0xffff))
                .then_some(i.tcpi_snd_ssthresh),
            bytes_sent: i.tcpi_bytes_sent,
            bytes_retrans: i.tcpi_bytes_retrans,
            bytes_acked: i.tcpi_bytes_acked,
            bytes_received: i.tcpi_bytes_received,
            segs_out: u64::from(i.tcpi_segs_out),
            segs_in: u64::from(i.tcpi_segs_in),
            data_segs_out: u64::from(i.tcpi_data_segs_out),
            data_segs_in: u64::from(i.tcpi_data_segs_in),
            lastsnd_ms: u64::from(i.tcpi_last_data_sent),
            lastrcv_ms: u64::from(i.tcpi_last_data_recv),
            lastack_ms: u64::from(i.tcpi_last_ack_recv),
            unacked: i.tcpi_unacked,
            retrans: (i.tcpi_retrans, i.tcpi_total_retrans),
            lost: i.tcpi_lost,
            sacked: i.tcpi_sacked,
            reordering: i.tcpi_reordering,
            rcv_space: self.rcvbuf_cap / 2,
            rcv_ssthresh: i.tcpi_rcv_ssthresh,
            notsent: i.tcpi_notsent_bytes,
            minrtt_ms: (i.tcpi_min_rtt != 0 && i.tcpi_min_rtt != u32::MAX)
                .then(|| ms(i.tcpi_min_rtt)),
            snd_wnd: i.tcpi_snd_wnd,
            rcv_wnd: i.tcpi_rcv_wnd,
            ..InfoView::default()
        }
    }

    /// The timer inet_diag reports (linux-tcp-timers.md §17): the transmit slot as `on` or
    /// `persist`, else the socket slot as `keepalive`. The delayed-ACK timer is never shown.
    pub fn timer_view(&self, now: Instant) -> Option<TimerView> {
        let remaining = |at: Instant| (at - now).as_millis() as u64;
        if let (Some(kind), Some(at)) = (self.xmit_kind, self.expires[0]) {
            let (kind, count) = match kind {
                XmitTimer::Probe0 => (TimerKind::Persist, self.icsk_probes_out),
                _ => (TimerKind::On, self.icsk_retransmits),
            };
            return Some(TimerView {
                kind,
                expires_ms: remaining(at),
                count,
                probes: self.icsk_probes_out,
            });
        }
        if let Some(at) = self.expires[2] {
            return Some(TimerView {
                kind: TimerKind::Keepalive,
                expires_ms: remaining(at),
                count: self.icsk_probes_out,
                probes: self.icsk_probes_out,
            });
        }
        None
    }

    /// `ss`'s Recv-Q: unread bytes.
    pub fn recv_q(&self) -> u32 {
        if self.state == TcpState::Listen {
            0
        } else {
            self.queues.rcvbuf.len() as u32
        }
    }
}
