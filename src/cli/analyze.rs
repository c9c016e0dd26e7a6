//! `sipxfer analyze` (the default command): every transfer explained, as text (with
//! `--ladder`, a sequence diagram each), one JSON document, or JSON Lines streamed as
//! each transfer completes.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{AnalyzeArgs, Format};
use super::shared::{open_all, rule_options, write_json};
use crate::analysis::{self, Quiet};
use crate::report::refers::ReferWatch;
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
            let mut watch = ReferWatch::new(Progress::new(Quiet));
            let analysis = analysis::run(inputs, &options, &mut watch);
            watch.inner.finish();
            write_json(
                out,
                &report::transfer::json_with(&analysis, &watch.unlinked),
            )?;
        }
        Format::Jsonl => {
            let mut lines = Progress::new(report::transfer::JsonLines::new(&mut *out));
            analysis::run(inputs, &options, &mut lines);
            lines.finish().finish()?;
        }
        Format::Text => {
            let palette = common.palette();
            // The ladder's rows are kept only when asked for.
            let mut watch = ReferWatch::new(Progress::new(report::ladder::Rows::default()));
            let analysis = if args.ladder {
                analysis::run(inputs, &options, &mut watch)
            } else {
                let mut quiet = ReferWatch::new(Progress::new(Quiet));
                let analysis = analysis::run(inputs, &options, &mut quiet);
                quiet.inner.finish();
                watch.unlinked = quiet.unlinked;
                analysis
            };
            let rows = watch.inner.finish();
            let ladder = args.ladder.then_some(&rows);
            let text = report::transfer::text_with(&analysis, palette, ladder, &watch.unlinked);
            out.write_all(text.as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
