//! The command line as clap parses it: commands, their options, and the small value
//! types options take. Nothing here runs an analysis.

use std::io::{self, IsTerminal};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Palette;
use crate::report::filter::{Filter, Time};
use crate::rules::Severity;

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
    Calls(CallsArgs),
    /// List every SIP message: frame, time, addresses, transport, method or status, CSeq, Call-ID.
    Messages(Common),
    /// Write the frames of one transfer's dialogs (or of one call) as a capture of
    /// their own, and print which original frame each new frame is.
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), of sipxfer or of one of its commands.
    Man(ManArgs),
}

/// Options of `completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of `man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command whose own page to print (analyze, calls, ...); none: sipxfer's page.
    pub command: Option<String>,
}

/// Options of `export`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["transfer", "call"])))]
pub struct ExportArgs {
    /// Capture files: pcap or pcapng, optionally gzip-compressed (not standard input:
    /// they are read twice). Several files are merged by timestamp.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// The transfer to export (its number in `analyze`).
    #[arg(long, value_name = "N")]
    pub transfer: Option<usize>,
    /// The call to export: a Call-ID, or a prefix naming one.
    #[arg(long, value_name = "CALL-ID")]
    pub call: Option<String>,
    /// The capture to write (pcap; pcapng when the frames differ in link type).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: String,
    /// Add the RTP/RTCP of those dialogs, found through their SDP.
    #[arg(long)]
    pub with_media: bool,
    /// Print the frame mapping as JSON.
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

/// Options of `calls`.
#[derive(Args, Debug)]
pub struct CallsArgs {
    #[command(flatten)]
    pub common: Common,
    /// List end-to-end calls instead of dialogs: the legs of each call through a
    /// B2BUA (PBX, SBC) grouped, with the box and the evidence that ties them.
    #[arg(long)]
    pub correlate: bool,
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
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<String>,
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
    /// Output format (one JSON document; no JSON Lines).
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

/// Options of `rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Output format (one JSON document; no JSON Lines).
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

/// The formats of a command that writes one document: text or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Error,
    Warning,
    Info,
}

impl SeverityArg {
    pub fn severity(self) -> Severity {
        match self {
            SeverityArg::Error => Severity::Error,
            SeverityArg::Warning => Severity::Warning,
            SeverityArg::Info => Severity::Info,
        }
    }
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
    /// At most N transfers wait at once to be linked to their new call, and N to see
    /// their calls end; past it the oldest is decided early (counted in the summary
    /// and the JSON stats, said in its note). Memory for pending transfers grows with N.
    #[arg(long, value_name = "N", default_value_t = crate::transfer::MAX_PENDING,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_pending: usize,
    /// Text output: show Call-IDs, methods and Request-URIs whole instead of cutting
    /// them to fit the columns.
    #[arg(long)]
    pub wide: bool,
    /// Show only what concerns a Call-ID starting with ID (transfers are still linked
    /// from the whole capture).
    #[arg(long, value_name = "ID", help_heading = "Filters")]
    pub call_id: Option<String>,
    /// Show only transfer N (its calls, with `calls`; its messages, with `messages`).
    #[arg(long, value_name = "N", help_heading = "Filters")]
    pub transfer: Option<usize>,
    /// Show only what involves a number: the user part of From, To, Request-URI or
    /// Refer-To contains DIGITS (separators - . ( ) and spaces ignored).
    #[arg(long, value_name = "DIGITS", help_heading = "Filters")]
    pub number: Option<String>,
    /// Show only what reaches past TIME: seconds from the first frame (12.5) or UTC
    /// wall-clock time (2026-12-05T13:10:00Z).
    #[arg(long, value_name = "TIME", value_parser = Time::parse, help_heading = "Filters")]
    pub from: Option<Time>,
    /// Show only what starts before TIME (as for --from).
    #[arg(long, value_name = "TIME", value_parser = Time::parse, help_heading = "Filters")]
    pub to: Option<Time>,
}

impl Common {
    /// The filters given.
    pub fn filter(&self) -> Filter {
        Filter {
            call_id: self.call_id.clone(),
            transfer: self.transfer,
            number: self.number.clone(),
            from: self.from,
            to: self.to,
        }
    }

    /// The colours and layout of text output: `--color` and `--wide`.
    pub fn palette(&self) -> Palette {
        Palette {
            wide: self.wide,
            ..self.color.palette()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// One JSON object per line (`analyze`: per transfer, streamed as each completes;
    /// `messages`: per message; `calls`: per call).
    Jsonl,
    /// `analyze` only: one self-contained HTML page with an SVG ladder per transfer.
    Html,
    /// `analyze` only: a Mermaid sequence diagram per transfer, as Markdown.
    Mermaid,
}

impl Format {
    /// Whether the format is a picture only `analyze` draws.
    pub fn is_picture(self) -> bool {
        matches!(self, Format::Html | Format::Mermaid)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// The colours of text output: `auto` colours when `NO_COLOR` is unset (or empty)
    /// and standard output is a terminal.
    pub fn palette(self) -> Palette {
        let enabled = match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && io::stdout().is_terminal()
            }
        };
        Palette {
            enabled,
            wide: false,
        }
    }
}

/// `sipxfer capture.pcapng` means `sipxfer analyze capture.pcapng`: when the first
/// argument is no command, `analyze` is put before it — also when it is an option
/// (`sipxfer --format json capture.pcapng`): options go before or after the files.
/// Options before a command (`sipxfer --format json calls FILE`) move after it.
/// `--help`, `-h`, `--version` and `-V` first keep their meaning.
pub fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_string);
    let Some(first) = first else {
        return args;
    };
    let command = Cli::command();
    let is_command = |word: &str| {
        command
            .get_subcommands()
            .any(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word))
            || word == "help"
    };
    if is_command(&first) || matches!(first.as_str(), "--help" | "-h" | "--version" | "-V") {
        return args;
    }
    let option = first.starts_with('-') && first != "-";
    if option {
        // The first word that is no option and no option's value, if it is a command.
        let mut i = 1;
        while let Some(word) = args.get(i).and_then(|a| a.to_str()) {
            if word.starts_with('-') && word != "-" {
                i += if word.contains('=') || !takes_value(word) {
                    1
                } else {
                    2
                };
                continue;
            }
            if is_command(word) {
                let command = args.remove(i);
                args.insert(1, command);
                return args;
            }
            break;
        }
    }
    args.insert(1, "analyze".into());
    args
}

/// Whether an option takes a value as the next argument (`--format json`).
fn takes_value(option: &str) -> bool {
    matches!(
        option,
        "--format"
            | "--color"
            | "--allow"
            | "--warn"
            | "--deny"
            | "--config"
            | "--fail-on"
            | "-o"
            | "--output"
            | "--call-id"
            | "--transfer"
            | "--number"
            | "--from"
            | "--to"
            | "--call"
    )
}
