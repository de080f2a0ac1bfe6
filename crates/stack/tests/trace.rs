//! `Stack::set_tracing` records every socket's state changes — orphans and time-wait records
//! included, which descriptors' events cannot show — and every timer that fires.

use std::time::Duration;

use tcplab_stack::{TcpState, TimerName, Trace};
use tcplab_testkit::pair::Pair;

#[test]
fn trace_follows_an_orphan_into_time_wait_and_out() {
    let mut p = Pair::new().delay(Duration::from_micros(25));
    let (c, _, s) = p.connect(80);
    p.call_a(|st, _| st.set_tracing(true));
    p.call_a(|st, now| st.close(now, c)).unwrap();
    p.run_for(Duration::from_millis(10));
    p.call_b(|st, now| st.close(now, s)).unwrap();
    p.run_for(Duration::from_secs(70));
    let mut states = Vec::new();
    let mut timers = Vec::new();
    p.call_a(|st, _| {
        while let Some(t) = st.poll_trace() {
            match t {
                Trace::State { from, to, .. } => states.push((from, to)),
                Trace::Timer { timer, .. } => timers.push(timer),
                _ => {}
            }
        }
    });
    use TcpState::*;
    assert_eq!(
        states,
        vec![
            (Established, FinWait1),
            (FinWait1, FinWait2),
            (FinWait2, TimeWait),
            (TimeWait, Close)
        ]
    );
    assert_eq!(timers.last(), Some(&TimerName::TimeWait), "{timers:?}");
}
