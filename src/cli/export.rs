//! `sipxfer export`: one transfer's (or one call's) frames as a capture of their own,
//! and the mapping from new frame numbers to the original ones.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{DocFormat, ExportArgs};
use crate::analysis::Options;
use crate::capture::Input;
use crate::export::{self, ExportError, Selection};
use crate::report::{self, escape_str};

/// Opens the inputs (once per pass), or says why not (exit 2).
fn open(files: &[String]) -> Result<Vec<Input>, ExitCode> {
    let mut inputs = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        match Input::open_in_place(path, index) {
            Ok(input) => inputs.push(input),
            Err(e) => {
                eprintln!("sipxfer: {}", escape_str(&e.to_string()));
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(inputs)
}

#[derive(serde::Serialize)]
struct FrameMap {
    frame: usize,
    original_file: u32,
    original_frame: u64,
}

#[derive(serde::Serialize)]
struct ExportJson<'a> {
    schema_version: u32,
    output: &'a str,
    format: &'static str,
    call_ids: &'a [String],
    sip_messages: usize,
    media_frames: usize,
    frames: Vec<FrameMap>,
}

/// Runs `export`: exit 0, or 2 on bad usage, input or output.
pub fn export(args: &ExportArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    if args.files.iter().any(|f| f == "-") {
        eprintln!(
            "sipxfer: export reads its inputs twice, so not from standard input (-): save it to a file first"
        );
        return Ok(ExitCode::from(2));
    }
    let selection = match (&args.transfer, &args.call) {
        (Some(n), _) => Selection::Transfer(*n),
        (None, Some(c)) => Selection::Call(c.clone()),
        (None, None) => return Ok(ExitCode::from(2)),
    };
    let (first, again) = match (open(&args.files), open(&args.files)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return Ok(code),
    };
    let file = match std::fs::File::create(&args.output) {
        Ok(f) => io::BufWriter::new(f),
        Err(e) => {
            eprintln!(
                "sipxfer: cannot write {}: {e}",
                escape_str(args.output.as_str())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let options = Options {
        threads: false,
        ..Options::default()
    };
    let done = match export::export(first, again, &options, &selection, args.with_media, file) {
        Ok(done) => done,
        Err(ExportError::NotFound(why)) => {
            let _ = std::fs::remove_file(&args.output);
            eprintln!("sipxfer: {}", escape_str(&why));
            return Ok(ExitCode::from(2));
        }
        Err(ExportError::Io(e)) => {
            eprintln!(
                "sipxfer: cannot write {}: {e}",
                escape_str(args.output.as_str())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let inputs = args.files.len();
    match args.format {
        DocFormat::Json => {
            let doc = ExportJson {
                schema_version: report::SCHEMA_VERSION,
                output: &args.output,
                format: if done.pcapng { "pcapng" } else { "pcap" },
                call_ids: &done.call_ids,
                sip_messages: done.messages,
                media_frames: done.media_frames,
                frames: done
                    .frames
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FrameMap {
                        frame: i + 1,
                        original_file: f.file,
                        original_frame: f.number,
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
            writeln!(out)?;
        }
        DocFormat::Text => {
            writeln!(
                out,
                "Wrote {} frames ({} SIP messages{}) of Call-ID {} to {} ({}).",
                done.frames.len(),
                done.messages,
                if args.with_media {
                    format!(", {} media frames", done.media_frames)
                } else {
                    String::new()
                },
                done.call_ids
                    .iter()
                    .map(|c| escape_str(c).into_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                escape_str(args.output.as_str()),
                if done.pcapng {
                    "pcapng: the frames differ in link type; each packet's comment names its original frame"
                } else {
                    "pcap"
                }
            )?;
            writeln!(out, "  frame  original")?;
            for (i, f) in done.frames.iter().enumerate() {
                writeln!(out, "  {:>5}  {}", i + 1, report::frame_name(inputs, *f))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
