//! The scenario language (being written).
