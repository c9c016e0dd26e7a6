//! `sipxfer analyze` (the default command): every transfer explained, as text (with
//! `--ladder`, a sequence diagram each), one JSON document, or JSON Lines streamed as
//! each transfer completes.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{AnalyzeArgs, Format};
use super::shared::{open_all, rule_options, run_quietly, write_json};
use crate::analysis;
use crate::report::{self, progress::Progress};

/// Runs `analyze`: exit 0, or 2 on bad configuration or input.
pub fn analyze(args: &AnalyzeArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let common = &args.common;
    let options = match rule_options(&args.rules, common) {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    match common.format {
        Format::Json => {
            let analysis = run_quietly(inputs, &options);
            write_json(out, &report::transfer::json(&analysis))?;
        }
        Format::Jsonl => {
            let mut lines = Progress::new(report::transfer::JsonLines::new(&mut *out));
            analysis::run(inputs, &options, &mut lines);
            lines.finish().finish()?;
        }
        Format::Text => {
            let palette = common.color.palette();
            let mut rows = Progress::new(report::ladder::Rows::default());
            let analysis = if args.ladder {
                analysis::run(inputs, &options, &mut rows)
            } else {
                run_quietly(inputs, &options)
            };
            let rows = rows.finish();
            let ladder = args.ladder.then_some(&rows);
            out.write_all(report::transfer::text(&analysis, palette, ladder).as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
