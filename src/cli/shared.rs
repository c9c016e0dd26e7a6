//! What several commands share: the rules configuration, opening the inputs, running
//! an analysis whose output comes at the end, and writing a JSON document.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{Common, RuleArgs};
use crate::analysis::{self, Options, Quiet};
use crate::capture::Input;
use crate::report::{self, progress::Progress};
use crate::rules::{Config as RulesConfig, Level};

/// Builds the rules configuration: the config file first, the command line after
/// (so it wins). Errors say which file and line.
pub(super) fn rules_config(args: &RuleArgs) -> Result<RulesConfig, String> {
    let mut config = RulesConfig::default();
    let (path, required) = match &args.config {
        Some(p) => (p.clone(), true),
        None => ("sipxfer.toml".to_string(), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => config
            .parse_file(&text)
            .map_err(|e| format!("{path}: {e}"))?,
        Err(e) if required => return Err(format!("{path}: {e}")),
        Err(_) => {}
    }
    for (codes, level) in [
        (&args.allow, Level::Allow),
        (&args.warn, Level::Warn),
        (&args.deny, Level::Deny),
    ] {
        for code in codes {
            config.set(code, level)?;
        }
    }
    Ok(config)
}

/// The options of a run with rules, reading inputs on threads of their own unless
/// `--single-thread`: or the error already printed and exit code 2.
pub(super) fn rule_options(args: &RuleArgs, common: &Common) -> Result<Options, ExitCode> {
    match rules_config(args) {
        Ok(rules) => Ok(Options {
            rules,
            ..threads(common)
        }),
        Err(e) => {
            eprintln!("sipxfer: {}", report::escape_str(&e));
            Err(ExitCode::from(2))
        }
    }
}

/// The default options, reading inputs on threads of their own unless
/// `--single-thread`.
pub(super) fn threads(common: &Common) -> Options {
    Options {
        threads: !common.single_thread,
        max_pending: common.max_pending,
        ..Options::default()
    }
}

/// Refuses `--format html` and `--format mermaid` for a command other than `analyze`
/// (said on stderr, exit code 2).
pub(super) fn no_pictures(common: &Common, command: &str) -> Result<(), ExitCode> {
    if common.format.is_picture() {
        eprintln!(
            "sipxfer: {command} has no --format html or mermaid; `sipxfer analyze --format html|mermaid` draws the transfers"
        );
        return Err(ExitCode::from(2));
    }
    Ok(())
}

/// Opens every input file, or prints why one cannot be read and gives exit code 2.
pub(super) fn open_all(common: &Common) -> Result<Vec<Input>, ExitCode> {
    let files = &common.files;
    if files.iter().filter(|f| f.as_str() == "-").count() > 1 {
        eprintln!(
            "sipxfer: standard input (-) is named more than once; it can be read only once (name it once, or save it to a file)"
        );
        return Err(ExitCode::from(2));
    }
    let mut inputs = Vec::with_capacity(files.len());
    // gzip input is decompressed on a thread of its own (the second core's share);
    // plain files are not: reading them costs less than handing the bytes over.
    let read_ahead = false;
    for (i, path) in files.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let opened = if common.single_thread {
            Input::open_in_place(path, index)
        } else {
            Input::open_with(path, index, read_ahead)
        };
        match opened {
            Ok(input) => inputs.push(input),
            Err(e) => {
                eprintln!("sipxfer: {}", report::escape_str(&e.to_string()));
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(inputs)
}

/// Runs an analysis whose output comes at the end, with the progress line meanwhile.
pub(super) fn run_quietly(inputs: Vec<Input>, options: &Options) -> analysis::Analysis {
    let mut progress = Progress::new(Quiet);
    let analysis = analysis::run(inputs, options, &mut progress);
    progress.finish();
    analysis
}

/// Writes one JSON document, pretty-printed, with a final newline.
pub(super) fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}
