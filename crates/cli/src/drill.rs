//! `tcplab drill PATH… [--v4|--v6] [--verbose]`: runs packetdrill scripts against the stack in
//! virtual time (see `tcplab_drill::run`).
//!
//! Output: one line per script, `PASS`, `FAIL` or `SKIP` and its path (with the families it
//! failed in, or the reason it was skipped); under a failure, the script line, the message, and
//! for a packet the script's and the stack's packet in packetdrill notation with their times;
//! with `--verbose`, every run's transcript. The last line is `N passed, M failed, K skipped`.
//!
//! Exit status: 0 when no script failed, 1 when one failed, 2 when a path cannot be read.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tcplab_drill::run::{Failure, Family, Outcome, RunOptions, Verdict, run};

/// What `tcplab drill` does.
#[derive(Clone, Debug)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub families: Vec<Family>,
    pub verbose: bool,
    pub hz: tcplab_stack::Hz,
    pub tolerance_usecs: u64,
    pub sysctls: Vec<(String, String)>,
}

/// Every `.pkt` file under `paths` (files as given, folders walked in name order).
pub fn collect(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "pkt") {
            out.push(p);
        }
    }
    Ok(())
}

/// One script's results, one per family.
struct ScriptResult {
    path: PathBuf,
    source: String,
    runs: Vec<(Family, Outcome)>,
}

pub fn run_cli(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let files = match collect(&opts.paths) {
        Ok(f) => f,
        Err(e) => {
            writeln!(out, "tcplab drill: {e}")?;
            return Ok(ExitCode::from(2));
        }
    };
    let (mut passed, mut failed, mut skipped) = (0u32, 0u32, 0u32);
    for path in files {
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                writeln!(out, "FAIL  {}: cannot read: {e}", path.display())?;
                failed += 1;
                continue;
            }
        };
        let name = path.display().to_string();
        let script = match tcplab_drill::parse(&name, &source) {
            Ok(s) => s,
            Err(e) => {
                writeln!(out, "FAIL  {name}\n      {e}")?;
                if let Some(line) = source.lines().nth(e.pos.line as usize - 1) {
                    writeln!(out, "      | {line}")?;
                    writeln!(out, "      | {}^", " ".repeat(e.pos.col as usize - 1))?;
                }
                failed += 1;
                continue;
            }
        };
        let runs = opts
            .families
            .iter()
            .map(|&family| {
                let options = RunOptions {
                    hz: opts.hz,
                    tolerance_usecs: opts.tolerance_usecs,
                    sysctls: opts.sysctls.clone(),
                    ..RunOptions::new(family)
                };
                (family, run(&script, &options))
            })
            .collect();
        let result = ScriptResult { path, source, runs };
        match report(&result, opts.verbose, out)? {
            Tally::Pass => passed += 1,
            Tally::Fail => failed += 1,
            Tally::Skip => skipped += 1,
        }
        out.flush()?;
    }
    writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

enum Tally {
    Pass,
    Fail,
    Skip,
}

fn report(r: &ScriptResult, verbose: bool, out: &mut impl Write) -> io::Result<Tally> {
    let name = r.path.display();
    let fails: Vec<(Family, &Failure)> = r
        .runs
        .iter()
        .filter_map(|(f, o)| match &o.verdict {
            Verdict::Fail(x) => Some((*f, x)),
            _ => None,
        })
        .collect();
    let skip = r.runs.iter().find_map(|(_, o)| match &o.verdict {
        Verdict::Skip(s) => Some(s),
        _ => None,
    });
    let tally = if !fails.is_empty() {
        // Failures that read the same in every family are shown once.
        let mut shown: Vec<(Vec<Family>, &Failure)> = Vec::new();
        for (family, f) in &fails {
            match shown.iter_mut().find(|(_, g)| same_failure(g, f)) {
                Some((families, _)) => families.push(*family),
                None => shown.push((vec![*family], f)),
            }
        }
        let all: Vec<&str> = fails.iter().map(|(f, _)| f.name()).collect();
        writeln!(out, "FAIL  {name} [{}]", all.join(", "))?;
        for (families, f) in shown {
            if fails.len() > 1 && families.len() < fails.len() {
                let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
                writeln!(out, "      in {}:", names.join(", "))?;
            }
            writeln!(out, "      {name}:{}: {}", f.pos, f.message)?;
            if let Some(line) = r.source.lines().nth(f.pos.line as usize - 1) {
                writeln!(out, "      | {}", line.trim_end())?;
            }
            if let Some(e) = &f.expected {
                writeln!(out, "      script packet: {e}")?;
            }
            if let Some(a) = &f.actual {
                writeln!(out, "      actual packet: {a}")?;
            }
        }
        Tally::Fail
    } else if let Some(s) = skip {
        let at = s
            .pos
            .map(|p| format!(" (line {})", p.line))
            .unwrap_or_default();
        writeln!(out, "SKIP  {name}: {}{at}", s.reason)?;
        Tally::Skip
    } else {
        writeln!(out, "PASS  {name}")?;
        Tally::Pass
    };
    if verbose {
        for (family, o) in &r.runs {
            writeln!(out, "      -- {} transcript --", family.name())?;
            for line in &o.transcript {
                writeln!(out, "      {line}")?;
            }
        }
    }
    Ok(tally)
}

/// Two failures read the same when they point at the same place with the same words.
fn same_failure(a: &Failure, b: &Failure) -> bool {
    a == b
}
