//! `sipxfer explain`, `sipxfer rules`, and the text of `sipxfer check`.

use std::fmt::Write as _;

use super::Palette;
use super::transfer::finding_line;
use crate::analysis::Analysis;
use crate::rules::{RULES, Rule, Severity};

/// Wraps text at `width` columns, each line indented by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// The long text of one rule.
pub fn explain(rule: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({}, {})",
        rule.code,
        rule.name,
        rule.default_level(),
        rule.rfc
    );
    let _ = writeln!(out, "\n{}\n", rule.summary);
    let explanation = rule.explanation();
    for (title, text) in explanation.sections() {
        let _ = writeln!(out, "{title}:");
        out.push_str(&wrap(text, "  ", 84));
        let _ = writeln!(out);
    }
    if rule.off_by_default {
        let _ = writeln!(
            out,
            "It is off by default: turn it on with --warn/--deny {} or in sipxfer.toml.",
            rule.code
        );
    } else {
        let _ = writeln!(
            out,
            "Change its level with --allow/--warn/--deny {} or in sipxfer.toml.",
            rule.code
        );
    }
    out
}

/// Every rule, one line each.
pub fn table() -> String {
    // Columns as wide as their widest entry, so the summaries line up.
    let name_width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let rfc_width = RULES
        .iter()
        .map(|r| r.rfc.chars().count())
        .max()
        .unwrap_or(0);
    let level_width = RULES
        .iter()
        .map(|r| r.default_level().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<5} {:<level_width$} {:<name_width$} {:<rfc_width$} summary",
        "code", "severity", "name", "RFC"
    );
    for r in RULES {
        let _ = writeln!(
            out,
            "{:<5} {:<level_width$} {:<name_width$} {:<rfc_width$} {}",
            r.code,
            r.default_level(),
            r.name,
            r.rfc,
            r.summary
        );
    }
    out
}

/// The text of `check`: the findings by transfer, the capture's, and a verdict.
pub fn check_text(
    a: &Analysis,
    unlinked: &[super::refers::Unlinked],
    fail_on: Severity,
    palette: Palette,
) -> String {
    let mut out = String::new();
    let inputs = a.inputs.len();
    for t in &a.transfers {
        if t.findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "Transfer {} ({} {}, REFER frame {}):",
            t.id,
            t.kind.as_str(),
            t.outcome.as_str(),
            super::frame_name(inputs, t.refer.frame)
        );
        for f in &t.findings {
            out.push_str(&finding_line(inputs, f, palette));
        }
    }
    if !a.findings.is_empty() {
        let _ = writeln!(out, "Capture:");
        for f in &a.findings {
            out.push_str(&finding_line(inputs, f, palette));
        }
    }
    // A REFER that could not become a transfer is named, never passed over.
    if !unlinked.is_empty() {
        let _ = writeln!(out, "REFERs not linked into a transfer:");
        out.push_str(&super::transfer::unlinked_lines(a, unlinked));
    }
    let count = |s: Severity| a.all_findings().filter(|f| f.severity == s).count();
    let failing = a.all_findings().filter(|f| f.severity >= fail_on).count();
    let _ = writeln!(
        out,
        "{} transfer(s), {} error(s), {} warning(s), {} info; {} at or above {}: {}",
        a.transfers.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        failing,
        fail_on.as_str(),
        if failing > 0 {
            palette.bad("FAIL")
        } else {
            palette.good("ok")
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_explains_itself() {
        for r in RULES {
            let text = explain(r);
            assert!(
                text.starts_with(r.code.as_str()) && text.contains(r.rfc),
                "{text}"
            );
            assert!(text.contains("What the RFC requires:"));
        }
        assert_eq!(table().lines().count(), RULES.len() + 1);
    }

    #[test]
    fn wrapping_keeps_every_word() {
        let text = "one two three four five six seven";
        let wrapped = wrap(text, "  ", 10);
        assert!(wrapped.lines().all(|l| l.chars().count() <= 12));
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>().join(" "),
            text
        );
    }
}
