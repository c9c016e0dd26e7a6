//! `sipxfer completions SHELL` (clap_complete) and `sipxfer man [COMMAND]`
//! (clap_mangen): generated from the same command-line definition that parses the
//! arguments, so they never drift from it.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ManArgs};

/// Prints the completion script of a shell.
pub fn completions(args: &CompletionsArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "sipxfer", out);
    Ok(ExitCode::SUCCESS)
}

/// Prints the manual page, as roff, of sipxfer or of one of its commands.
pub fn man(args: &ManArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let mut command = Cli::command();
    command.build();
    let page = match &args.command {
        None => command,
        Some(name) => {
            let Some(sub) = command.find_subcommand(name).cloned() else {
                eprintln!(
                    "sipxfer: no command {}; `sipxfer --help` lists them",
                    crate::report::escape_str(name)
                );
                return Ok(ExitCode::from(2));
            };
            let full = format!("sipxfer-{}", sub.get_name());
            sub.name(full)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    out.write_all(&roff)?;
    Ok(ExitCode::SUCCESS)
}
