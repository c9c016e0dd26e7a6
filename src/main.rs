//! The `sipxfer` command: arguments in, library call, exit code out.

use std::process::ExitCode;

use sipxfer::cli;

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().collect()) {
        Ok(args) => cli::exit_code(cli::run(args)),
        Err(e) => {
            let _ = e.print();
            cli::usage_exit_code(&e)
        }
    }
}
