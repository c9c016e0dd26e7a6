//! `sipxfer calls`: the call list, as a table or one JSON document.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{Common, Format};
use super::shared::{no_pictures, open_all, run_quietly, threads, write_json};
use crate::report;
use crate::report::progress::Progress;
use crate::report::spool::{CallSpool, Style};

/// Runs `calls`: exit 0, or 2 on bad input.
pub fn calls(common: &Common, correlate: bool, out: &mut impl Write) -> io::Result<ExitCode> {
    if let Err(code) = no_pictures(common, "calls") {
        return Ok(code);
    }
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let options = crate::analysis::Options {
        correlate_calls: correlate,
        ..threads(common)
    };
    let filter = common.filter();
    if !correlate && !filter.is_active() {
        // The calls are written aside as they finish: memory does not grow with the
        // calls in the capture (a million unanswered INVITEs: 1.3 GB before, 3.7 GB
        // as a table).
        let palette = common.palette();
        let style = match common.format {
            Format::Json => Style::Element,
            Format::Jsonl => Style::Line,
            Format::Text | Format::Html | Format::Mermaid => Style::Row {
                inputs: inputs.len(),
                wide: palette.wide,
            },
        };
        let mut progress = Progress::new(CallSpool::calls_only(style));
        let analysis = crate::analysis::run(inputs, &options, &mut progress);
        let spooled = progress.finish().finish()?;
        let doc = report::calls::json(&analysis);
        match (style, spooled) {
            (Style::Line, Some(spooled)) => spooled.write_lines(out)?,
            (Style::Line, None) => lines(&doc, out)?,
            (Style::Element, spooled) => report::spool::write_calls_document(out, &doc, spooled)?,
            (Style::Row { .. }, spooled) => {
                match spooled {
                    Some(spooled) => spooled.write_table(out, palette)?,
                    None => out.write_all(report::calls::text(&analysis, palette).as_bytes())?,
                }
                writeln!(out)?;
                out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut analysis = run_quietly(inputs, &options);
    filter.apply(&mut analysis);
    if correlate {
        return correlated(common, &analysis, out);
    }
    match common.format {
        Format::Json => write_json(out, &report::calls::json(&analysis))?,
        Format::Jsonl => lines(&report::calls::json(&analysis), out)?,
        Format::Text | Format::Html | Format::Mermaid => {
            let palette = common.palette();
            out.write_all(report::calls::text(&analysis, palette).as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One call per line, as `dialogs` of the JSON document holds them.
fn lines(doc: &report::calls::CallsJson<'_>, out: &mut impl Write) -> io::Result<()> {
    for d in &doc.dialogs {
        serde_json::to_writer(&mut *out, d).map_err(io::Error::other)?;
        writeln!(out)?;
    }
    Ok(())
}

/// `calls --correlate`: end-to-end calls, their legs through B2BUAs grouped.
fn correlated(
    common: &Common,
    analysis: &crate::analysis::Analysis,
    out: &mut impl Write,
) -> io::Result<ExitCode> {
    match common.format {
        Format::Json => write_json(out, &report::correlated::json(analysis))?,
        Format::Jsonl => {
            for c in &analysis.correlated.calls {
                serde_json::to_writer(&mut *out, c).map_err(io::Error::other)?;
                writeln!(out)?;
            }
        }
        Format::Text | Format::Html | Format::Mermaid => {
            let palette = common.palette();
            out.write_all(report::correlated::text(analysis).as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary::text(analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
