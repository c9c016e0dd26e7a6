//! The `sipxfer` command: arguments in, library call, exit code out.

fn main() -> std::process::ExitCode {
    sipxfer::cli::main()
}
