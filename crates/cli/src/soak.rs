//! `tcplab soak --seeds N [--from S] [--verbose]`: runs seeds S, S+1, … S+N-1 of the soak
//! experiment (see `tcplab_sim::soak`) and checks each.
//!
//! Output: one block per failed seed (what failed, the last events of its timeline with
//! `--verbose`, and the command that replays it), with `--verbose` also the drawn network,
//! workload and outcome of every seed, then the summary `N passed, M failed`.
//!
//! Exit status: 0 when every seed passed, 1 when one failed.

use std::io::{self, Write};
use std::process::ExitCode;

use tcplab_sim::soak::{SeedReport, replay_command, run_seed};

/// What `tcplab soak` does.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub seeds: u64,
    pub from: u64,
    pub verbose: bool,
}

pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let (mut passed, mut failed) = (0u64, 0u64);
    for i in 0..opts.seeds {
        let Some(seed) = opts.from.checked_add(i) else {
            break;
        };
        let report = run_seed(seed);
        print_seed(&report, opts.verbose, out)?;
        if report.passed() {
            passed += 1;
        } else {
            failed += 1;
        }
        out.flush()?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_seed(r: &SeedReport, verbose: bool, out: &mut impl Write) -> io::Result<()> {
    if verbose {
        writeln!(out, "seed {}:", r.seed)?;
        for line in &r.setup {
            writeln!(out, "  {line}")?;
        }
        for line in &r.outcomes {
            writeln!(out, "  {line}")?;
        }
        writeln!(out, "  ran to {} ({} events)", r.end, r.events)?;
    }
    if r.passed() {
        return Ok(());
    }
    writeln!(out, "seed {} FAILED:", r.seed)?;
    for f in &r.failures {
        writeln!(out, "  {f}")?;
    }
    if verbose && !r.tail.is_empty() {
        writeln!(out, "  last events:")?;
        for line in &r.tail {
            writeln!(out, "    {line}")?;
        }
    }
    writeln!(out, "  replay: {}", replay_command(r.seed))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_counted_in_the_summary() {
        let mut out = Vec::new();
        let code = run(
            &Options {
                seeds: 2,
                from: 0,
                verbose: false,
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "2 passed, 0 failed\n");
        assert_eq!(code, ExitCode::SUCCESS);
    }

    #[test]
    fn a_failed_seed_names_what_failed_and_how_to_replay_it() {
        let r = SeedReport {
            seed: 77,
            failures: vec!["conn 0 h0->10.0.0.2:5001: the client saw EIO".to_string()],
            tail: vec!["1.000000 h0 something".to_string()],
            ..SeedReport::default()
        };
        let mut out = Vec::new();
        print_seed(&r, false, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "seed 77 FAILED:\n  conn 0 h0->10.0.0.2:5001: the client saw EIO\n  replay: tcplab soak --seeds 1 --from 77 --verbose\n"
        );
        let mut out = Vec::new();
        print_seed(&r, true, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("seed 77:\n"), "{text}");
        assert!(
            text.contains("  last events:\n    1.000000 h0 something\n"),
            "{text}"
        );
    }
}
