//! tcplab-testkit (being written).
