//! The one error type of the scenario language.

use std::fmt;

/// A script that cannot be run: where, and what was expected there.
///
/// Printed as `fin_wait1.tcplab:7:9: expected a port number after `nc -l`, found "abc"`.
/// `line` and `col` are 1-based; both are 0 for an error about the file as a whole (it could
/// not be read), which prints as `fin_wait1.tcplab: …`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}
