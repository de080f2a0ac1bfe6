//! A host's OUTPUT chain refusing datagrams is not loss on the wire: the sender's transmit
//! fails and the segment stays unsent. Mirrors the server side of
//! `fin_wait1_orphan__orphan_retries_3`: its `iptables -A OUTPUT -d CLIENT -j DROP` kept the
//! server's FIN unsent, and `ss` showed `LAST-ACK … timer:(persist,…)`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tcplab_stack::TcpState;
use tcplab_stack::ss::TimerKind;
use tcplab_testkit::pair::Pair;

#[test]
fn refused_fin_stays_unsent_and_the_persist_timer_runs() {
    let mut p = Pair::new().delay(Duration::from_micros(25));
    let (c, _, s) = p.connect(1234);
    let drop_all = Rc::new(Cell::new(false));
    let flag = drop_all.clone();
    p.call_b(|st, _| st.set_output_filter(Some(Box::new(move |_| !flag.get()))));
    drop_all.set(true);
    p.call_a(|st, now| st.close(now, c)).unwrap();
    p.run_for(Duration::from_millis(50));
    // The client's FIN arrived; the server's ACK of it was refused.
    assert_eq!(p.b().state(s), Some(TcpState::CloseWait));
    p.call_b(|st, now| st.close(now, s)).unwrap();
    p.run_for(Duration::from_millis(500));
    let now = p.now();
    let table = p.b().sockets(now);
    let server = table
        .iter()
        .find(|e| e.local.port() == 1234 && e.peer.is_some())
        .expect("the server's connection is still in the table");
    assert_eq!(server.state, TcpState::LastAck);
    let timer = server.timer.expect("a timer runs");
    assert_eq!(timer.kind, TimerKind::Persist, "{server:?}");
    // Nothing the server tried to send reached the wire after the rule went in.
    assert!(p.b().filtered() >= 2, "filtered {}", p.b().filtered());
    let server_fin_on_wire = p.captured().iter().any(|x| {
        x.dir == tcplab_testkit::link::Direction::BtoA
            && x.bytes.get(33).is_some_and(|f| f & 1 != 0)
    });
    assert!(!server_fin_on_wire);
}
