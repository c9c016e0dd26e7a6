//! Command-line interface: the arguments ([`args`]), one function per command, and
//! [`run`], which calls the command a parsed command line names and gives its exit
//! code. Exit codes: 0 success, 1 findings at or above `check --fail-on`, 2 bad usage
//! or unreadable input.
//!
//! Each command writes to the output it is given ([`run`] gives buffered standard
//! output) and returns its exit code; an error writing the output comes back as the
//! `io::Error`, which [`exit_code`] turns into an exit code.

mod analyze;
pub mod args;
mod calls;
mod check;
mod docs;
mod explain;
mod export;
mod messages;
mod rules;
mod shared;

use std::io::{self, Write};
use std::process::ExitCode;

pub use analyze::analyze;
pub use args::{
    AnalyzeArgs, CheckArgs, Cli, Color, Command, Common, CompletionsArgs, DocFormat, ExplainArgs,
    ExportArgs, Format, RuleArgs, RulesArgs, SeverityArg, with_default_command,
};
pub use calls::calls;
pub use check::check;
pub use docs::{completions, man};
pub use explain::explain;
pub use export::export;
pub use messages::messages;
pub use rules::rules;

/// Parses a command line (the program name first), putting `analyze` before a bare
/// capture name. `Err` holds clap's message (or the help or version text) to print.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::Parser;
    Cli::try_parse_from(with_default_command(args))
}

/// The exit code of a command line clap refused: 2, or 0 for `--help` and
/// `--version`, whose text goes to standard output.
pub fn usage_exit_code(e: &clap::Error) -> ExitCode {
    ExitCode::from(if e.use_stderr() { 2 } else { 0 })
}

/// The exit code of a run: the command's own, 0 when standard output was closed early
/// (`sipxfer ... | head`), 2 when the output could not be written (said on stderr).
pub fn exit_code(result: io::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sipxfer: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs a parsed command line, writing to standard output.
pub fn run(cli: Cli) -> io::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let code = match &cli.command {
        Command::Analyze(args) => analyze(args, &mut out)?,
        Command::Check(args) => check(args, &mut out)?,
        Command::Explain(args) => explain(args, &mut out)?,
        Command::Rules(args) => rules(args, &mut out)?,
        Command::Calls(args) => calls(&args.common, args.correlate, &mut out)?,
        Command::Messages(common) => messages(common, &mut out)?,
        Command::Export(args) => export(args, &mut out)?,
        Command::Completions(args) => completions(args, &mut out)?,
        Command::Man(args) => man(args, &mut out)?,
    };
    out.flush()?;
    Ok(code)
}

#[cfg(test)]
mod tests;
