//! Command-line interface: maps arguments to a library call and the result to an exit
//! code. Exit codes: 0 success, 2 bad usage or unreadable input.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::{self, Options, Quiet};
use crate::capture::Input;
use crate::report::progress::Progress;
use crate::report::{self, Palette};
use crate::rules::{Config as RulesConfig, Level, Severity};

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
    /// For CI: analyze, print the findings, and exit 1 when one is at or above
    /// --fail-on (0 otherwise, 2 on bad usage or input).
    Check(CheckArgs),
    /// Explain a rule: what the RFC requires, the usual cause, how to fix it.
    Explain(ExplainArgs),
    /// List every rule with its code, default severity and RFC section.
    Rules(RulesArgs),
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
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Add a text sequence diagram of each transfer (text output).
    #[arg(long)]
    pub ladder: bool,
}

/// Options of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Exit 1 when a finding at or above this severity is present (default: error,
    /// or `fail-on` in the config file).
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
}

/// How the rules are configured.
#[derive(Args, Debug)]
pub struct RuleArgs {
    /// Do not report this rule (code or name; repeatable).
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Report this rule as a warning (repeatable).
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Report this rule as an error (repeatable).
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,
    /// Rule configuration file (default: sipxfer.toml in the current directory, if
    /// there is one). See README.md, "Rules".
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
}

/// Options of `explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A rule code (X301) or name (refer-accepted-no-notify).
    pub code: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Options of `rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Error,
    Warning,
    Info,
}

impl SeverityArg {
    fn severity(self) -> Severity {
        match self {
            SeverityArg::Error => Severity::Error,
            SeverityArg::Warning => Severity::Warning,
            SeverityArg::Info => Severity::Info,
        }
    }
}

/// Builds the rules configuration: the config file first, the command line after
/// (so it wins). Errors say which file and line.
fn rules_config(args: &RuleArgs) -> Result<RulesConfig, String> {
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
    /// Read every input on the analysis thread. By default each file is read on a
    /// thread of its own (and a gzip file decompressed on another); the result is the
    /// same either way.
    #[arg(long)]
    pub single_thread: bool,
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
    let cli = match Cli::try_parse_from(with_default_command(std::env::args_os().collect())) {
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

/// `sipxfer capture.pcapng` means `sipxfer analyze capture.pcapng`: when the first
/// argument is no command and no option, `analyze` is put before it.
pub fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_string);
    if let Some(first) = first {
        let command = Cli::command();
        let known = command
            .get_subcommands()
            .any(|c| c.get_name() == first || c.get_all_aliases().any(|a| a == first))
            || first == "help";
        let option = first.starts_with('-') && first != "-";
        if !known && !option {
            args.insert(1, "analyze".into());
        }
    }
    args
}

/// Writes one JSON document, pretty-printed, with a final newline.
fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// The options of a run with rules: the config file and the command line, or the
/// error already printed and exit code 2.
fn rule_options(args: &RuleArgs) -> Result<Options, ExitCode> {
    match rules_config(args) {
        Ok(rules) => Ok(Options {
            rules,
            ..Options::default()
        }),
        Err(e) => {
            eprintln!("sipxfer: {}", report::escape_str(&e));
            Err(ExitCode::from(2))
        }
    }
}

impl Options {
    /// These options, reading inputs on threads of their own unless `--single-thread`.
    fn threads(self, common: &Common) -> Options {
        Options {
            threads: !common.single_thread,
            ..self
        }
    }
}

/// Runs an analysis whose output comes at the end, with the progress line meanwhile.
fn run_quietly(inputs: Vec<Input>, options: &Options) -> analysis::Analysis {
    let mut progress = Progress::new(Quiet);
    let analysis = analysis::run(inputs, options, &mut progress);
    progress.finish();
    analysis
}

fn open_all(common: &Common) -> Result<Vec<Input>, ExitCode> {
    let files = &common.files;
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

/// Runs a parsed command line.
pub fn run(cli: Cli) -> io::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let options = Options::default();
    match cli.command {
        Command::Explain(args) => {
            let Some(rule) = crate::rules::catalog::find(&args.code) else {
                eprintln!(
                    "sipxfer: no rule {:?}; `sipxfer rules` lists every code",
                    report::escape_str(&args.code)
                );
                return Ok(ExitCode::from(2));
            };
            match args.format {
                Format::Text => out.write_all(report::rules::explain(rule).as_bytes())?,
                Format::Json | Format::Jsonl => {
                    write_json(&mut out, rule)?;
                }
            }
        }
        Command::Rules(args) => match args.format {
            Format::Text => out.write_all(report::rules::table().as_bytes())?,
            Format::Json | Format::Jsonl => {
                let doc = serde_json::json!({
                    "schema_version": report::SCHEMA_VERSION,
                    "rules": crate::rules::RULES,
                });
                write_json(&mut out, &doc)?;
            }
        },
        Command::Check(args) => {
            let common = args.common;
            let options = match rule_options(&args.rules) {
                Ok(o) => o.threads(&common),
                Err(code) => return Ok(code),
            };
            let fail_on = args
                .fail_on
                .map(SeverityArg::severity)
                .or(options.rules.fail_on)
                .unwrap_or(Severity::Error);
            let inputs = match open_all(&common) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            let analysis = run_quietly(inputs, &options);
            match common.format {
                Format::Json | Format::Jsonl => {
                    write_json(&mut out, &report::transfer::json(&analysis))?;
                }
                Format::Text => {
                    let palette = common.color.palette();
                    out.write_all(
                        report::rules::check_text(&analysis, fail_on, palette).as_bytes(),
                    )?;
                }
            }
            out.flush()?;
            let failing = analysis.all_findings().any(|f| f.severity >= fail_on);
            return Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Analyze(args) => {
            let common = args.common;
            let options = match rule_options(&args.rules) {
                Ok(o) => o.threads(&common),
                Err(code) => return Ok(code),
            };
            let inputs = match open_all(&common) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            match common.format {
                Format::Json => {
                    let analysis = run_quietly(inputs, &options);
                    write_json(&mut out, &report::transfer::json(&analysis))?;
                }
                Format::Jsonl => {
                    let mut lines = Progress::new(report::transfer::JsonLines::new(&mut out));
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
        }
        Command::Calls(common) => {
            if common.format == Format::Jsonl {
                eprintln!("sipxfer: calls has no jsonl output; use --format json");
                return Ok(ExitCode::from(2));
            }
            let inputs = match open_all(&common) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            let analysis = run_quietly(inputs, &options.threads(&common));
            match common.format {
                Format::Json | Format::Jsonl => {
                    write_json(&mut out, &report::calls::json(&analysis))?;
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
            let inputs = match open_all(&common) {
                Ok(i) => i,
                Err(code) => return Ok(code),
            };
            let options = options.threads(&common);
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
