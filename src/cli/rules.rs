//! `sipxfer rules`: the rule catalog.

use std::io::{self, Write};
use std::process::ExitCode;

use super::args::{DocFormat, RulesArgs};
use super::shared::write_json;
use crate::report;

/// Prints every rule with its code, default severity and RFC section.
pub fn rules(args: &RulesArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    match args.format {
        DocFormat::Text => out.write_all(report::rules::table().as_bytes())?,
        DocFormat::Json => {
            let doc = serde_json::json!({
                "schema_version": report::SCHEMA_VERSION,
                "rules": crate::rules::RULES,
            });
            write_json(out, &doc)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
