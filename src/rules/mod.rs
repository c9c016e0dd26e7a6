//! Protocol violations: the catalog of rules ([`catalog`], each rule's long
//! explanation in `explain/CODE.md`) and the checks that find them (`checks/`, one
//! file per rule family, run by the entry points of [`check`]).
//!
//! A finding names its rule (stable code, RFC section), its severity after the user's
//! configuration, the frames it points at, and one line in the user's terms. Findings
//! about a transfer (its REFER, NOTIFYs, triggered INVITE, Replaces) sit with that
//! transfer; the rest (message framing, CSeq order, stray Replaces) sit under the
//! capture.

pub mod catalog;
pub mod check;
mod checks;
pub mod config;

pub use catalog::{Code, Explanation, RULES, Rule, Severity};
pub use config::{Config, Level};

use crate::capture::FrameRef;

/// One violation found in a capture.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    /// The rule's severity after `--allow`/`--warn`/`--deny` and the config file.
    pub severity: Severity,
    pub frames: Vec<FrameRef>,
    /// What is wrong, in one line, in the user's terms (with wire text unescaped:
    /// escape before printing).
    pub message: String,
    /// The transfer it is about, if any.
    pub transfer: Option<usize>,
}

impl Finding {
    /// A finding of rule `code`, or `None` when the configuration silences that rule.
    pub fn new(
        config: &Config,
        code: Code,
        frames: Vec<FrameRef>,
        message: String,
    ) -> Option<Finding> {
        let rule = code.rule();
        let severity = config.severity(rule)?;
        Some(Finding {
            rule,
            severity,
            frames,
            message,
            transfer: None,
        })
    }
}
