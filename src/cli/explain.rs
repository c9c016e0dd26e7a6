//! `sipxfer explain CODE`: one rule's explanation.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{DocFormat, ExplainArgs};
use super::shared::write_json;
use crate::report;

/// Prints the explanation of a rule; exit 2 when there is no such rule.
pub fn explain(args: &ExplainArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let Some(rule) = crate::rules::catalog::find(&args.code) else {
        eprintln!(
            "sipxfer: no rule {:?}; `sipxfer rules` lists every code",
            report::escape_str(&args.code)
        );
        return Ok(ExitCode::from(2));
    };
    match args.format {
        DocFormat::Text => out.write_all(report::rules::explain(rule).as_bytes())?,
        DocFormat::Json => write_json(out, rule)?,
    }
    Ok(ExitCode::SUCCESS)
}
