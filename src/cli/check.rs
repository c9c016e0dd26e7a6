//! `sipxfer check`: analyze for CI, print the findings, exit 1 on one at or above
//! `--fail-on`.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{CheckArgs, Format, SeverityArg};
use super::shared::{open_all, rule_options, run_quietly, write_json};
use crate::report;
use crate::rules::Severity;

/// Runs `check`: exit 1 when a finding is at or above the `--fail-on` level (or the
/// config file's `fail-on`, or error), 0 otherwise, 2 on bad configuration or input.
pub fn check(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let common = &args.common;
    let options = match rule_options(&args.rules, common) {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let fail_on = args
        .fail_on
        .map(SeverityArg::severity)
        .or(options.rules.fail_on)
        .unwrap_or(Severity::Error);
    let inputs = match open_all(common) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let analysis = run_quietly(inputs, &options);
    match common.format {
        Format::Json | Format::Jsonl => write_json(out, &report::transfer::json(&analysis))?,
        Format::Text => {
            let text = report::rules::check_text(&analysis, fail_on, common.color.palette());
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    let failing = analysis.all_findings().any(|f| f.severity >= fail_on);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
