//! `sipxfer messages`: every SIP message, streamed as it is found (text lines, JSON
//! Lines, or one JSON document whose counts come last).

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{Common, Format};
use super::shared::{no_pictures, open_all, run_quietly, threads};
use crate::analysis;
use crate::report;
use crate::report::filter::Shown;

/// Runs `messages`: exit 0, or 2 on unreadable input.
pub fn messages(common: &Common, out: &mut impl Write) -> io::Result<ExitCode> {
    if let Err(code) = no_pictures(common, "messages") {
        return Ok(code);
    }
    let options = threads(common);
    // `--transfer N`: which Call-IDs transfer N has is known only once the capture is
    // linked, so a first run finds them and the second lists their messages.
    let mut of_transfer = Vec::new();
    if let Some(n) = common.transfer {
        if common.files.iter().any(|f| f == "-") {
            eprintln!(
                "sipxfer: messages --transfer reads its inputs twice, so not from standard input (-): save it to a file first"
            );
            return Ok(ExitCode::from(2));
        }
        let inputs = match open_all(common) {
            Ok(i) => i,
            Err(code) => return Ok(code),
        };
        let linked = run_quietly(inputs, &options);
        of_transfer = linked
            .transfers
            .iter()
            .filter(|t| t.id == n)
            .flat_map(report::ladder::call_ids)
            .map(str::to_string)
            .collect();
    }
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    match common.format {
        Format::Jsonl => {
            let mut lines = Shown {
                inner: report::messages::JsonLines::new(&mut *out),
                filter: common.filter(),
                messages: true,
                of_transfer,
            };
            analysis::run(inputs, &options, &mut lines);
            lines.inner.finish()?;
        }
        Format::Json => {
            let mut stream = Shown {
                inner: report::messages::JsonStream::new(&mut *out),
                filter: common.filter(),
                messages: true,
                of_transfer,
            };
            let analysis = analysis::run(inputs, &options, &mut stream);
            stream.inner.finish(&analysis)?;
        }
        Format::Text | Format::Html | Format::Mermaid => {
            let palette = common.palette();
            let mut lines = report::messages::TextLines::new(&mut *out, common.files.len() > 1);
            lines.wide = common.wide;
            lines.header();
            let mut lines = Shown {
                inner: lines,
                filter: common.filter(),
                messages: true,
                of_transfer,
            };
            let analysis = analysis::run(inputs, &options, &mut lines);
            let (out, error) = lines.inner.into_inner();
            if let Some(e) = error {
                return Err(e);
            }
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
