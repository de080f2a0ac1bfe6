//! tcplab-sim: a deterministic discrete-event network simulator that runs tcplab stacks in
//! virtual time, and the scenario language that drives it.

pub mod scenario;
