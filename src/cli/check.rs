//! `sipxfer check`: analyze for CI, print the findings, exit 1 on one at or above
//! `--fail-on`; exit 2 when an input has no readable frame. With `--format json` the
//! document of `analyze` gets a top-level verdict.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{CheckArgs, Format, SeverityArg};
use super::shared::{no_pictures, open_all, rule_options};
use crate::analysis::{self, Quiet};
use crate::report;
use crate::report::progress::Progress;
use crate::report::refers::ReferWatch;
use crate::report::spool::{CallSpool, Style, write_document_then};
use crate::report::transfer::OtherCalls;
use crate::rules::Severity;

/// Runs `check`: exit 1 when a finding is at or above the `--fail-on` level (or the
/// config file's `fail-on`, or error), 0 otherwise, 2 on bad configuration or input.
pub fn check(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let common = &args.common;
    if let Err(code) = no_pictures(common, "check") {
        return Ok(code);
    }
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
    let filter = common.filter();
    let mut calls = None;
    let (mut analysis, unlinked) = if filter.is_active() {
        // What a filter shows depends on every call: they are kept.
        let mut watch = ReferWatch::new(Progress::new(Quiet));
        let analysis = analysis::run(inputs, &options, &mut watch);
        watch.inner.finish();
        (analysis, watch.unlinked)
    } else if common.format == Format::Text {
        // The text shows transfers and findings, no call: the calls are let go as
        // they finish (a million unanswered INVITEs: 930 MB before).
        let mut watch = ReferWatch::new(Progress::new(OtherCalls::default()));
        let mut analysis = analysis::run(inputs, &options, &mut watch);
        watch.inner.finish().finish(&mut analysis);
        (analysis, watch.unlinked)
    } else {
        // The document lists the calls: they are written aside as they finish, as
        // analyze's are; the transfers stay, for the verdict.
        let mut watch = ReferWatch::new(Progress::new(CallSpool::calls_only(Style::Element)));
        let analysis = analysis::run(inputs, &options, &mut watch);
        calls = watch.inner.finish().finish()?;
        (analysis, watch.unlinked)
    };
    // A file with no readable frame has nothing to check: that is not a pass.
    if let Some(empty) = analysis.inputs.iter().find(|i| i.frames == 0) {
        let why = empty
            .damage
            .first()
            .map(|d| format!("damaged at byte {}: {}", d.offset, d.detail))
            .unwrap_or_else(|| "the file holds no packet record".to_string());
        eprintln!(
            "sipxfer: {}: no readable frame ({}); nothing to check",
            report::escape_str(&empty.path),
            report::escape_str(&why)
        );
        return Ok(ExitCode::from(2));
    }
    filter.apply(&mut analysis);
    let failing = analysis.all_findings().any(|f| f.severity >= fail_on);
    match common.format {
        Format::Json | Format::Jsonl => {
            let count = |s: Severity| analysis.all_findings().filter(|f| f.severity == s).count();
            let counts = Counts {
                error: count(Severity::Error),
                warning: count(Severity::Warning),
                info: count(Severity::Info),
            };
            let verdict = if failing { "fail" } else { "pass" };
            let doc = report::transfer::json_with(&analysis, &unlinked);
            // The document of analyze, then the verdict, the threshold it was judged
            // against, and the findings counted by severity.
            write_document_then(out, &doc, calls, |fields| {
                fields.value("verdict", &verdict)?;
                fields.value("fail_on", &fail_on)?;
                fields.value("counts", &counts)
            })?;
        }
        Format::Text | Format::Html | Format::Mermaid => {
            let text =
                report::rules::check_text(&analysis, &unlinked, fail_on, common.color.palette());
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Findings by severity.
#[derive(serde::Serialize)]
struct Counts {
    error: usize,
    warning: usize,
    info: usize,
}
