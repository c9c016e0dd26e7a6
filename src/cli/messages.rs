//! `sipxfer messages`: every SIP message, streamed as it is found (text lines, JSON
//! Lines, or one JSON document whose counts come last).

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{Common, Format};
use super::shared::{no_pictures, open_all, threads};
use crate::analysis;
use crate::report;

/// Runs `messages`: exit 0, or 2 on unreadable input.
pub fn messages(common: &Common, out: &mut impl Write) -> io::Result<ExitCode> {
    if let Err(code) = no_pictures(common, "messages") {
        return Ok(code);
    }
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let options = threads(common);
    match common.format {
        Format::Jsonl => {
            let mut lines = report::messages::JsonLines::new(&mut *out);
            analysis::run(inputs, &options, &mut lines);
            lines.finish()?;
        }
        Format::Json => {
            let mut stream = report::messages::JsonStream::new(&mut *out);
            let analysis = analysis::run(inputs, &options, &mut stream);
            stream.finish(&analysis)?;
        }
        Format::Text | Format::Html | Format::Mermaid => {
            let palette = common.palette();
            let mut lines = report::messages::TextLines::new(&mut *out, common.files.len() > 1);
            lines.wide = common.wide;
            lines.header();
            let analysis = analysis::run(inputs, &options, &mut lines);
            let (out, error) = lines.into_inner();
            if let Some(e) = error {
                return Err(e);
            }
            writeln!(out)?;
            out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
