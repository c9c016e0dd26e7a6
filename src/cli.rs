//! Command-line interface: maps arguments to a library call and the result to an exit
//! code. Exit codes: 0 success, 2 bad usage or unreadable input.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::{self, Options, Quiet};
use crate::capture::Input;
use crate::report::{self, Palette};

/// Find SIP call transfers in packet captures and explain what happened.
#[derive(Parser, Debug)]
#[command(name = "sipxfer", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Find the call transfers and explain each: kind, outcome, roles, REFER, NOTIFY
    /// progress, the phased flow, who released the call, findings.
    Analyze(AnalyzeArgs),
    /// List the calls (INVITE dialogs, keyed by Call-ID and both tags).
    Calls(Common),
    /// List every SIP message: frame, time, addresses, transport, method or status, CSeq, Call-ID.
    Messages(Common),
}

/// Options of `analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub common: Common,
    /// Add a text sequence diagram of each transfer (text output).
    #[arg(long)]
    pub ladder: bool,
}

/// Options every command takes.
#[derive(Args, Debug)]
pub struct Common {
    /// Capture files: pcap or pcapng, optionally gzip-compressed; `-` reads standard
    /// input. Several files are merged by timestamp.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour text output (NO_COLOR turns `auto` off).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// One JSON object per line (`analyze`: per transfer, streamed as each completes;
    /// `messages`: per message).
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    fn palette(self) -> Palette {
        let enabled = match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && io::stdout().is_terminal()
            }
        };
        Palette { enabled }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sipxfer: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

fn open_all(files: &[String]) -> Result<Vec<Input>, ExitCode> {
    let mut inputs = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        match Input::open(path, index) {
            Ok(input) => inputs.push(input),
            Err(e) => {
                eprintln!("sipxfer: {}", report::escape_str(&e.to_string()));
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(inputs)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> io::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let options = Options::default();
    match cli.command {
        Command::Analyze(args) => {
            let common = args.common;
            let inputs = match open_all(&common.files) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            match common.format {
                Format::Json => {
                    let analysis = analysis::run(inputs, &options, &mut Quiet);
                    serde_json::to_writer_pretty(&mut out, &report::transfer::json(&analysis))
                        .map_err(io::Error::other)?;
                    writeln!(out)?;
                }
                Format::Jsonl => {
                    let mut lines = report::transfer::JsonLines::new(&mut out);
                    analysis::run(inputs, &options, &mut lines);
                    lines.finish()?;
                }
                Format::Text => {
                    let palette = common.color.palette();
                    let mut rows = report::ladder::Rows::default();
                    let analysis = if args.ladder {
                        analysis::run(inputs, &options, &mut rows)
                    } else {
                        analysis::run(inputs, &options, &mut Quiet)
                    };
                    let ladder = args.ladder.then_some(&rows);
                    out.write_all(report::transfer::text(&analysis, palette, ladder).as_bytes())?;
                    writeln!(out)?;
                    out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
                }
            }
        }
        Command::Calls(common) => {
            if common.format == Format::Jsonl {
                eprintln!("sipxfer: calls has no jsonl output; use --format json");
                return Ok(ExitCode::from(2));
            }
            let inputs = match open_all(&common.files) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            let analysis = analysis::run(inputs, &options, &mut Quiet);
            match common.format {
                Format::Json | Format::Jsonl => {
                    serde_json::to_writer_pretty(&mut out, &report::calls::json(&analysis))
                        .map_err(io::Error::other)?;
                    writeln!(out)?;
                }
                Format::Text => {
                    let palette = common.color.palette();
                    out.write_all(report::calls::text(&analysis, palette).as_bytes())?;
                    writeln!(out)?;
                    out.write_all(report::summary::text(&analysis, palette).as_bytes())?;
                }
            }
        }
        Command::Messages(common) => {
            let inputs = match open_all(&common.files) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            match common.format {
                Format::Jsonl => {
                    let mut lines = report::messages::JsonLines::new(&mut out);
                    analysis::run(inputs, &options, &mut lines);
                    lines.finish()?;
                }
                Format::Json => {
                    let mut stream = report::messages::JsonStream::new(&mut out);
                    let analysis = analysis::run(inputs, &options, &mut stream);
                    stream.finish(&analysis)?;
                }
                Format::Text => {
                    let palette = common.color.palette();
                    let mut lines =
                        report::messages::TextLines::new(&mut out, common.files.len() > 1);
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
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
