//! `sipxfer analyze` (the default command): every transfer explained, as text (with
//! `--ladder`, a sequence diagram each), one JSON document, JSON Lines streamed as
//! each transfer completes, one HTML page, or Mermaid diagrams; to standard output or
//! to the file `-o` names.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{AnalyzeArgs, Format};
use super::shared::{open_all, rule_options};
use crate::analysis::{self, Quiet};
use crate::report::filter::Shown;
use crate::report::refers::ReferWatch;
use crate::report::spool::CallSpool;
use crate::report::transfer::OtherCalls;
use crate::report::{self, progress::Progress};

/// Runs `analyze`: exit 0, or 2 on bad configuration, input or output file.
pub fn analyze(args: &AnalyzeArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let Some(path) = &args.output else {
        return analyze_to(args, out);
    };
    let file = match std::fs::File::create(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "sipxfer: cannot write {}: {e}",
                report::escape_str(path.as_str())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let mut file = io::BufWriter::with_capacity(1 << 16, file);
    let code = analyze_to(args, &mut file)?;
    file.flush()?;
    Ok(code)
}

fn analyze_to(args: &AnalyzeArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let common = &args.common;
    let options = match rule_options(&args.rules, common) {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let filter = common.filter();
    match common.format {
        Format::Json if filter.is_active() => {
            // What the filter shows depends on every transfer: the calls are kept.
            let mut watch = ReferWatch::new(Progress::new(Quiet));
            let mut analysis = analysis::run(inputs, &options, &mut watch);
            watch.inner.finish();
            filter.apply(&mut analysis);
            let doc = report::transfer::json_with(&analysis, &watch.unlinked);
            report::spool::write_document(out, &doc, None)?;
        }
        Format::Json => {
            // The calls are written aside as they finish: memory does not grow with
            // the calls in the capture.
            let mut watch = ReferWatch::new(Progress::new(CallSpool::new()));
            let analysis = analysis::run(inputs, &options, &mut watch);
            let calls = watch.inner.finish().finish()?;
            let doc = report::transfer::json_with(&analysis, &watch.unlinked);
            report::spool::write_document(out, &doc, calls)?;
        }
        Format::Jsonl => {
            let mut lines = Shown {
                inner: Progress::new(report::transfer::JsonLines::new(&mut *out)),
                filter,
                messages: false,
                of_transfer: Vec::new(),
            };
            analysis::run(inputs, &options, &mut lines);
            lines.inner.finish().finish()?;
        }
        Format::Html | Format::Mermaid => {
            // The page shows each whole message; the diagrams only their labels.
            let rows = if common.format == Format::Html {
                report::ladder::Rows::with_messages()
            } else {
                report::ladder::Rows::default()
            };
            let mut watch = ReferWatch::new(Progress::new(rows));
            let mut analysis = analysis::run(inputs, &options, &mut watch);
            let rows = watch.inner.finish();
            filter.apply(&mut analysis);
            let text = if common.format == Format::Html {
                report::html::page_with(&analysis, &rows, &watch.unlinked)
            } else {
                report::mermaid::document(&analysis, &rows)
            };
            out.write_all(text.as_bytes())?;
        }
        Format::Text => {
            let palette = common.palette();
            // The ladder's rows are kept only when asked for; what a filter shows
            // depends on every call.
            let (mut analysis, rows, unlinked, others) = if args.ladder {
                let mut watch = ReferWatch::new(Progress::new(report::ladder::Rows::default()));
                let analysis = analysis::run(inputs, &options, &mut watch);
                let rows = watch.inner.finish();
                (analysis, rows, watch.unlinked, None)
            } else if filter.is_active() {
                let mut watch = ReferWatch::new(Progress::new(Quiet));
                let analysis = analysis::run(inputs, &options, &mut watch);
                watch.inner.finish();
                let rows = report::ladder::Rows::default();
                (analysis, rows, watch.unlinked, None)
            } else {
                // Only the number of calls outside the transfers is shown: the calls
                // are let go as they finish.
                let mut watch = ReferWatch::new(Progress::new(OtherCalls::default()));
                let mut analysis = analysis::run(inputs, &options, &mut watch);
                let others = watch.inner.finish().finish(&mut analysis);
                let rows = report::ladder::Rows::default();
                (analysis, rows, watch.unlinked, Some(others))
            };
            let before = analysis.transfers.len();
            filter.apply(&mut analysis);
            if filter.is_active() {
                writeln!(
                    out,
                    "Filters show {} of the {before} transfers in the capture.\n",
                    analysis.transfers.len()
                )?;
            }
            let others = others.unwrap_or_else(|| {
                crate::transfer::calls_outside_transfers(&analysis.transfers, &analysis.dialogs)
                    .len()
            });
            let ladder = args.ladder.then_some(&rows);
            let text = report::transfer::text_with(&analysis, palette, ladder, &unlinked, others);
            out.write_all(text.as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
