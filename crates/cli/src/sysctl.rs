//! `tcplab sysctl`: the TCP sysctls in sysctl.conf syntax.
//!
//! Everything printed on stdout is itself a valid sysctl.conf file (remarks are `#`
//! comments), so the output of one run can be fed to `--check` or to `sysctl -p`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tcplab_stack::Sysctls;
use tcplab_stack::sysctl::ConfError;

/// What `tcplab sysctl` was asked to do.
#[derive(Debug)]
pub enum Action {
    Defaults,
    Check(PathBuf),
    Proc(PathBuf),
}

pub fn run(action: Action, out: &mut impl Write) -> io::Result<ExitCode> {
    match action {
        Action::Defaults => {
            writeln!(
                out,
                "# Linux 6.18 defaults of every TCP sysctl tcplab obeys"
            )?;
            out.write_all(Sysctls::default().to_conf().as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Action::Check(file) => check(&file, out),
        Action::Proc(root) => proc(&root, out),
    }
}

fn check(file: &Path, out: &mut impl Write) -> io::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("tcplab: cannot read {}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    match Sysctls::from_conf(&text, &file.display().to_string()) {
        Ok(sysctls) => {
            let diff = sysctls.diff_conf();
            if diff.is_empty() {
                writeln!(
                    out,
                    "# {}: every value is Linux 6.18's default",
                    file.display()
                )?;
            } else {
                writeln!(
                    out,
                    "# {}: values that differ from Linux 6.18's defaults",
                    file.display()
                )?;
                out.write_all(diff.as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}", describe_conf_error(&e, &text));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The error as a compiler prints one: `file:line:column: message`, then the line and a
/// caret under the column.
fn describe_conf_error(e: &ConfError, text: &str) -> String {
    let mut message = e.to_string();
    if let Some(line) = text.lines().nth(e.line.saturating_sub(1)) {
        let pad: String = line
            .chars()
            .take(e.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        message.push_str(&format!("\n  {line}\n  {pad}^"));
    }
    message
}

fn proc(root: &Path, out: &mut impl Write) -> io::Result<ExitCode> {
    let host = match Sysctls::from_proc(root) {
        Ok(host) => host,
        Err(e) => {
            eprintln!("tcplab: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let diff = host.sysctls.diff_conf();
    if diff.is_empty() {
        writeln!(
            out,
            "# {}: every value tcplab reads is Linux 6.18's default",
            root.display()
        )?;
    } else {
        writeln!(
            out,
            "# {}: values that differ from Linux 6.18's defaults",
            root.display()
        )?;
        out.write_all(diff.as_bytes())?;
    }
    for name in &host.missing {
        writeln!(out, "# {name}: not present on this kernel (default kept)")?;
    }
    for rejected in &host.rejected {
        writeln!(
            out,
            "# not representable in tcplab, default kept: {rejected}"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcplab_stack::sysctl::ConfErrorKind;

    #[test]
    fn the_caret_sits_under_the_column() {
        let e = ConfError {
            file: "x.conf".into(),
            line: 2,
            column: 5,
            kind: ConfErrorKind::EmptyName,
        };
        let text = "# ok\nab  = 1\n";
        assert_eq!(
            describe_conf_error(&e, text),
            "x.conf:2:5: expected a sysctl name before \"=\"\n  ab  = 1\n      ^"
        );
    }
}
