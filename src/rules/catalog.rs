//! The rule catalog: every finding sipxfer can report, with a stable code, a default
//! severity, the RFC section it rests on, and the text `sipxfer explain CODE` prints.
//!
//! Codes never change meaning and are never reused. A rule is data here plus a small
//! check in `rules::check`.

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Rule {
    /// Stable code, e.g. `X301`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `refer-accepted-no-notify`.
    pub name: &'static str,
    pub severity: Severity,
    /// The RFC and section, e.g. `RFC 3515 §2.4.4`.
    pub rfc: &'static str,
    /// One line: what is wrong, in the user's terms.
    pub summary: &'static str,
    /// What the RFC requires (our words, with the requirement level: MUST, SHOULD).
    pub requirement: &'static str,
    /// The usual cause in real products.
    pub causes: &'static str,
    /// How to fix it or work around it.
    pub fix: &'static str,
}

/// Every rule, in code order.
pub static RULES: &[Rule] = &[];

/// The rule with this code or name (case-insensitive).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}
