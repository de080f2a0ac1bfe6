//! The scenario language: a script that reads like a shell transcript of an experiment.
//!
//! ```text
//! host client 10.77.0.1
//! host server 10.77.0.2
//! server: nc -l 1234 &
//! client: nc server 1234 &
//! at 1s   client: kill -INT %1
//! at 1.5s expect client: state %1 FIN_WAIT2
//! run 5s
//! ```
//!
//! [`parse`] turns a script into a [`Scenario`] (see `ast.rs` for the types and
//! `docs/scenarios.md` for the language). Guarantees: parsing never panics, whatever the
//! input; the first problem is returned as a [`ScenarioError`] naming the file, line and
//! column and what was expected there; a returned `Scenario` refers only to declared hosts,
//! sockets and jobs, and its steps are in time order.

pub mod ast;
mod commands;
mod error;
mod expect;
mod lexer;
mod parser;
mod units;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use ast::*;
pub use error::ScenarioError;
pub use parser::parse;

/// Reads and parses a script file. Errors name the file as given.
pub fn parse_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read the script: {e}"),
    })?;
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let good = String::from_utf8_lossy(good);
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            return Err(ScenarioError {
                file,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: u32::try_from(col).unwrap_or(u32::MAX),
                message: "expected UTF-8 text, found an invalid byte".into(),
            });
        }
    };
    parse(&file, &src)
}
