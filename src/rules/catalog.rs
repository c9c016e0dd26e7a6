//! The rule catalog: every finding sipxfer can report, with a stable code, a default
//! severity, the RFC section it rests on, and the text `sipxfer explain CODE` prints.
//!
//! A rule is one entry of the `catalog!` invocation below (code, name, severity,
//! RFC, one-line summary) and its long explanation in `explain/CODE.md`, read with
//! `include_str!`. The entry makes the [`Code`] variant too, so a check names its rule
//! as `Code::X301` and a mistyped code does not compile. The checks that find the
//! rules are in `rules::checks`, one file per family.
//!
//! Adding a rule takes: its entry here and its `explain/CODE.md`; its check, in its
//! family's file of `rules::checks` and called from that family's list (or from
//! `check::capture`); its row in README.md's rule table; and a fault capture in
//! samples/faults/ pinned in `FAULT_CAPTURES` of tests/rules.rs (a citation of a
//! section not yet cited also goes into `KNOWN_SECTIONS` below). The test
//! `every_rule_has_all_its_pieces` fails until each piece is there.
//!
//! Codes never change meaning and are never reused. They group by subject: `X1xx` the
//! REFER request, `X2xx` Replaces, `X3xx` the refer subscription and its NOTIFYs (and
//! dialog sequencing), `X4xx` Referred-By, `X5xx` the call flow around a transfer,
//! `X6xx` message framing, `X7xx` policy.
//!
//! The severity starts from the level the cited text sets (a broken MUST is an
//! `error`, a SHOULD a `warning`) and is one step lower where we could not read the
//! exact wording of the section, or where a capture shows legal cases that look the
//! same (a URI with no user part, a retransmission crossing its response); the
//! explanation's first section says which.

use std::fmt;

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
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable code, e.g. `X301`.
    pub code: Code,
    /// Stable kebab-case name, e.g. `refer-accepted-no-notify`.
    pub name: &'static str,
    pub severity: Severity,
    /// The RFC and section, e.g. `RFC 3515 §2.4.4`.
    pub rfc: &'static str,
    /// One line: what is wrong, in the user's terms.
    pub summary: &'static str,
    /// The text of `explain/CODE.md`; [`Rule::explanation`] reads it.
    pub explanation_md: &'static str,
    /// Reported only when the user turns it on (`--warn`, `--deny`, or a level in the
    /// config file): a rule that fires on nearly every real capture and would drown
    /// what matters (X107).
    pub off_by_default: bool,
}

impl Rule {
    /// The severity column of `sipxfer rules` and of README's table: the default
    /// severity, and `(off by default)` for a rule the user must turn on.
    pub fn default_level(&self) -> String {
        if self.off_by_default {
            format!("{} (off by default)", self.severity.as_str())
        } else {
            self.severity.as_str().to_string()
        }
    }
}

impl Rule {
    /// The long explanation, from `explain/CODE.md`.
    pub fn explanation(&self) -> Explanation {
        Explanation::parse(self.explanation_md)
    }
}

/// `sipxfer rules --format json` and `sipxfer explain --format json` write a rule
/// with its explanation's sections as fields.
impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct RuleJson<'a> {
            code: Code,
            name: &'a str,
            severity: Severity,
            rfc: &'a str,
            summary: &'a str,
            enabled_by_default: bool,
            requirement: &'a str,
            causes: &'a str,
            fix: &'a str,
        }
        let e = self.explanation();
        serde::Serialize::serialize(
            &RuleJson {
                code: self.code,
                name: self.name,
                severity: self.severity,
                rfc: self.rfc,
                summary: self.summary,
                enabled_by_default: !self.off_by_default,
                requirement: &e.requirement,
                causes: &e.causes,
                fix: &e.fix,
            },
            serializer,
        )
    }
}

/// The long explanation of a rule: the three sections of its `explain/CODE.md`, each
/// under a `## ` heading (in the order of [`Explanation::HEADINGS`]) and wrapped as
/// the file likes; a section's text is its lines joined by single spaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// What the RFC requires (our words, with the requirement level: MUST, SHOULD).
    pub requirement: String,
    /// The usual cause in real products.
    pub causes: String,
    /// How to fix it or work around it.
    pub fix: String,
}

impl Explanation {
    /// The section headings of an explanation file, in order; `sipxfer explain`
    /// prints them as titles.
    pub const HEADINGS: [&'static str; 3] =
        ["What the RFC requires", "Usual cause", "Fix or work around"];

    /// Reads an explanation file. A section whose heading is missing stays empty (the
    /// tests of this module hold every file to its three sections).
    pub fn parse(md: &str) -> Explanation {
        let mut sections: [Vec<&str>; 3] = Default::default();
        let mut current: Option<&mut Vec<&str>> = None;
        for line in md.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                current = Explanation::HEADINGS
                    .iter()
                    .position(|h| *h == heading.trim())
                    .and_then(|i| sections.get_mut(i));
            } else if let Some(words) = current.as_mut()
                && !line.trim().is_empty()
            {
                words.push(line.trim());
            }
        }
        let [requirement, causes, fix] = sections.map(|lines| lines.join(" "));
        Explanation {
            requirement,
            causes,
            fix,
        }
    }

    /// The sections with their headings, in order.
    pub fn sections(&self) -> [(&'static str, &str); 3] {
        let [requirement, causes, fix] = Explanation::HEADINGS;
        [
            (requirement, &self.requirement),
            (causes, &self.causes),
            (fix, &self.fix),
        ]
    }
}

/// Makes the catalog from one entry per rule: the [`Code`] enum, [`Code::ALL`] and
/// [`RULES`], in the order of the entries, each rule with its `explain/CODE.md`.
macro_rules! catalog {
    ($(
        $code:ident {
            name: $name:literal,
            severity: $severity:ident,
            rfc: $rfc:literal,
            summary: $summary:literal
            $(, off_by_default: $off:literal)? $(,)?
        }
    ),* $(,)?) => {
        /// A rule's stable code. Checks name their rule by it; the command line and
        /// the config file go through [`find`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in catalog order.
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            /// The code as written: `X301`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// This code's rule.
            pub fn rule(self) -> &'static Rule {
                match self {
                    $(Code::$code => &TABLE[Code::$code as usize],)*
                }
            }
        }

        /// The rules, indexed by [`Code`].
        static TABLE: [Rule; Code::ALL.len()] = [$(
            Rule {
                code: Code::$code,
                name: $name,
                severity: Severity::$severity,
                rfc: $rfc,
                summary: $summary,
                explanation_md: include_str!(concat!("explain/", stringify!($code), ".md")),
                off_by_default: false $(|| $off)?,
            },
        )*];
    };
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A code equals its written form: `Code::X308 == "X308"`.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Every rule, in code order.
pub static RULES: &[Rule] = &TABLE;

// One entry per rule, in code order; its long explanation is `explain/CODE.md`.
catalog! {
    X101 {
        name: "refer-to-missing",
        severity: Error,
        rfc: "RFC 3515 §2.4.1, §2.4.2",
        summary: "REFER has no Refer-To header, so the transferee has nowhere to call",
    },
    X102 {
        name: "refer-to-multiple",
        severity: Error,
        rfc: "RFC 3515 §2.4.1, §2.4.2",
        summary: "REFER carries more than one Refer-To value",
    },
    X103 {
        name: "refer-to-invalid-uri",
        severity: Error,
        rfc: "RFC 3515 §2.1; RFC 3261 §25.1",
        summary: "Refer-To value is not a valid URI, so the transferee cannot call it",
    },
    X104 {
        name: "refer-to-empty-user",
        severity: Warning,
        rfc: "RFC 3261 §19.1.1",
        summary: "Refer-To URI has an empty user part (\"Refer-To user is null\")",
    },
    X105 {
        name: "refer-in-early-dialog",
        severity: Warning,
        rfc: "RFC 3515 §2; RFC 3261 §15",
        summary: "REFER sent in an early dialog, before the call was answered",
    },
    X106 {
        name: "refer-retransmitted-after-final",
        severity: Warning,
        rfc: "RFC 3261 §17.1.2.2",
        summary: "REFER sent again on the same hop after its final response had arrived",
    },
    X107 {
        name: "refer-accepted-202",
        severity: Info,
        rfc: "RFC 7647 §5",
        summary: "REFER answered 202 Accepted, which RFC 7647 deprecates (200 OK is meant)",
        off_by_default: true,
    },
    X108 {
        name: "refer-challenge-not-retried",
        severity: Warning,
        rfc: "RFC 3261 §22.2, §22.3",
        summary: "REFER was challenged (401/407) and never sent again with credentials",
    },
    X109 {
        name: "refer-too-many-hops",
        severity: Warning,
        rfc: "RFC 3261 §16.3, §20.22",
        summary: "REFER answered 483 Too Many Hops: it looped or was relayed too often",
    },
    X110 {
        name: "refer-in-dialog-without-to-tag",
        severity: Error,
        rfc: "RFC 3261 §12.2.1.1",
        summary: "REFER sent in a call's Call-ID and From tag, but with no To tag (missing or empty)",
    },
    X201 {
        name: "replaces-incomplete",
        severity: Error,
        rfc: "RFC 3891 §6.1",
        summary: "Replaces lacks the Call-ID, to-tag or from-tag, so no dialog can match it",
    },
    X202 {
        name: "replaces-empty-tag",
        severity: Error,
        rfc: "RFC 3891 §6.1",
        summary: "Replaces has an empty to-tag or from-tag",
    },
    X203 {
        name: "replaces-not-invite",
        severity: Error,
        rfc: "RFC 3891 §3",
        summary: "Replaces header sent in a request other than INVITE",
    },
    X204 {
        name: "replaces-multiple",
        severity: Error,
        rfc: "RFC 3891 §3",
        summary: "INVITE carries more than one Replaces header",
    },
    X205 {
        name: "replaces-ignored",
        severity: Warning,
        rfc: "RFC 3891 §3",
        summary: "INVITE with Replaces answered 2xx, but the replaced call never ended",
    },
    X206 {
        name: "replaces-dialog-not-in-capture",
        severity: Info,
        rfc: "RFC 3891 §3",
        summary: "Replaces names a dialog that is not in the capture",
    },
    X207 {
        name: "replaces-unmatched-accepted",
        severity: Error,
        rfc: "RFC 3891 §3",
        summary: "INVITE with Replaces answered 2xx though its tags match no dialog of its Call-ID",
    },
    X208 {
        name: "replaces-rejected-481",
        severity: Warning,
        rfc: "RFC 3891 §3",
        summary: "INVITE with Replaces answered 481: the target found no dialog to replace",
    },
    X209 {
        name: "replaces-tags-swapped",
        severity: Error,
        rfc: "RFC 3891 §3, §6.1",
        summary: "Replaces names its dialog with to-tag and from-tag swapped",
    },
    X210 {
        name: "replaces-dialog-already-ended",
        severity: Warning,
        rfc: "RFC 3891 §3",
        summary: "INVITE with Replaces names a dialog that had already ended before it arrived",
    },
    X301 {
        name: "refer-accepted-no-notify",
        severity: Error,
        rfc: "RFC 3515 §2.4.4; RFC 4488 §4",
        summary: "REFER was accepted with a 2xx but no NOTIFY ever followed",
    },
    X302 {
        name: "notify-without-event-refer",
        severity: Warning,
        rfc: "RFC 3515 §2.4.4; RFC 6665 §8.2.1",
        summary: "NOTIFY in a REFER's subscription lacks `Event: refer`",
    },
    X303 {
        name: "notify-body-not-sipfrag",
        severity: Error,
        rfc: "RFC 3515 §2.4.5",
        summary: "Transfer NOTIFY body is not message/sipfrag starting with a status line",
    },
    X304 {
        name: "notify-without-subscription-state",
        severity: Error,
        rfc: "RFC 6665 §4.1.3, §8.2.3",
        summary: "NOTIFY has no Subscription-State header",
    },
    X305 {
        name: "final-status-subscription-left-active",
        severity: Error,
        rfc: "RFC 3515 §2.4.7",
        summary: "Final transfer result sent with the subscription left active, never ended",
    },
    X306 {
        name: "terminated-without-noresource",
        severity: Warning,
        rfc: "RFC 3515 §2.4.7",
        summary: "Terminating NOTIFY of a transfer lacks reason=noresource",
    },
    X307 {
        name: "subscription-state-malformed",
        severity: Error,
        rfc: "RFC 6665 §8.2.3, §8.4",
        summary: "Subscription-State header is malformed",
    },
    X308 {
        name: "notify-without-id",
        severity: Warning,
        rfc: "RFC 3515 §2.4.6",
        summary: "NOTIFY for a second REFER in the same dialog lacks `;id=`",
    },
    X309 {
        name: "notify-after-termination",
        severity: Warning,
        rfc: "RFC 6665 §4.1.3",
        summary: "NOTIFY sent after its subscription had already been terminated",
    },
    X310 {
        name: "cseq-not-increasing",
        severity: Error,
        rfc: "RFC 3261 §12.2.1.1",
        summary: "CSeq did not increase between requests in the same dialog and direction",
    },
    X311 {
        name: "sipfrag-contradicts-responses",
        severity: Warning,
        rfc: "RFC 3515 §2.4.5",
        summary: "NOTIFY reports a status the transfer target never sent",
    },
    X312 {
        name: "notify-despite-refer-sub-false",
        severity: Warning,
        rfc: "RFC 4488 §4; RFC 6665 §4.1.3",
        summary: "NOTIFY sent although Refer-Sub: false was agreed",
    },
    X313 {
        name: "notify-unanswered",
        severity: Warning,
        rfc: "RFC 6665 §4.1.3",
        summary: "The transferor never answered a NOTIFY, so the transferee kept resending it",
    },
    X314 {
        name: "no-final-notify",
        severity: Warning,
        rfc: "RFC 3515 §2.4.5, §2.4.7",
        summary: "The outcome of the transfer was never reported: no NOTIFY with a final status",
    },
    X315 {
        name: "notify-rejected-after-release",
        severity: Warning,
        rfc: "RFC 3515 §2.4.5; RFC 5589 §6",
        summary: "NOTIFY answered 481 after the call was ended: the transferor never heard the outcome",
    },
    X316 {
        name: "notify-id-not-refer-cseq",
        severity: Warning,
        rfc: "RFC 3515 §2.4.6",
        summary: "NOTIFYs after the accepted REFER carry an Event id other than its CSeq",
    },
    X401 {
        name: "referred-by-not-copied",
        severity: Info,
        rfc: "RFC 3892 §2.2",
        summary: "REFER carried Referred-By, but the INVITE it triggered did not",
    },
    X402 {
        name: "referred-by-changed",
        severity: Info,
        rfc: "RFC 3892 §2.2",
        summary: "The triggered INVITE names another referrer than the REFER's Referred-By",
    },
    X501 {
        name: "released-before-outcome-caller-lost",
        severity: Warning,
        rfc: "RFC 5589 §6, §7",
        summary: "Transferor hung up before the outcome and the transfer failed: caller lost",
    },
    X502 {
        name: "new-call-2xx-not-acked",
        severity: Error,
        rfc: "RFC 3261 §13.2.2.4, §13.3.1.4",
        summary: "The target's 2xx to the new call was never ACKed, so the target hung up",
    },
    X503 {
        name: "attended-downgraded-to-blind",
        severity: Info,
        rfc: "RFC 5589 §7",
        summary: "REFER without Replaces while the transferor's call with the target was up",
    },
    X601 {
        name: "content-length-mismatch",
        severity: Warning,
        rfc: "RFC 3261 §18.3, §20.14",
        summary: "Content-Length does not match the body bytes present",
    },
    X602 {
        name: "message-unreadable",
        severity: Warning,
        rfc: "RFC 3261 §7",
        summary: "A SIP message could not be read in full (no header end, malformed lines)",
    },
    X603 {
        name: "input-damaged",
        severity: Warning,
        rfc: "no RFC: the capture file",
        summary: "The capture file is damaged (cut short, corrupt): reading stopped early",
    },
    X701 {
        name: "target-outside-trusted-domains",
        severity: Warning,
        rfc: "RFC 3515 §5.2, §2.4.2",
        summary: "Transfer target is outside the trusted domains (possible toll fraud)",
    },
}

/// The rule with this code or name (case-insensitive).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.as_str().eq_ignore_ascii_case(code_or_name)
            || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC sections a rule may cite, each checked against that RFC's table of
    /// contents when the catalog was written. A new citation goes here first.
    const KNOWN_SECTIONS: &[(&str, &[&str])] = &[
        (
            "3261",
            &[
                "7", "12.2.1.1", "13.2.2.4", "13.3.1.4", "15", "16.3", "17.1.2.2", "18.3",
                "19.1.1", "20.14", "20.22", "22.2", "22.3", "25.1",
            ],
        ),
        (
            "3515",
            &[
                "2", "2.1", "2.4.1", "2.4.2", "2.4.4", "2.4.5", "2.4.6", "2.4.7", "5", "5.2",
            ],
        ),
        ("3891", &["3", "6.1"]),
        ("3892", &["2.2"]),
        ("4488", &["4"]),
        ("5589", &["6", "7"]),
        ("6665", &["4.1.3", "8.2.1", "8.2.3", "8.4"]),
        ("7647", &["5"]),
    ];

    /// Splits `RFC 3515 §2.4.1, §2.4.2; RFC 3261 §15` into (rfc, section) pairs,
    /// or `None` when the text does not have that shape.
    fn citations(rfc: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        for reference in rfc.split("; ") {
            let rest = reference.strip_prefix("RFC ")?;
            let (number, sections) = rest.split_once(' ')?;
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            for section in sections.split(", ") {
                out.push((number, section.strip_prefix('§')?));
            }
        }
        Some(out)
    }

    fn is_known(number: &str, section: &str) -> bool {
        KNOWN_SECTIONS
            .iter()
            .any(|(n, sections)| *n == number && sections.contains(&section))
    }

    #[test]
    fn codes_are_unique_well_formed_and_in_order() {
        for rule in RULES {
            let code = rule.code.as_str();
            let bytes = code.as_bytes();
            assert_eq!(bytes.len(), 4, "{code}");
            assert_eq!(bytes.first(), Some(&b'X'), "{code}");
            assert!(
                bytes.iter().skip(1).all(u8::is_ascii_digit),
                "{code} is not X followed by three digits"
            );
        }
        for pair in RULES.windows(2) {
            if let [a, b] = pair {
                assert!(
                    a.code.as_str() < b.code.as_str(),
                    "{} must come before {}",
                    a.code,
                    b.code
                );
            }
        }
    }

    #[test]
    fn every_code_has_its_rule_in_catalog_order() {
        assert_eq!(Code::ALL.len(), RULES.len());
        for (code, rule) in Code::ALL.iter().zip(RULES) {
            assert_eq!(rule.code, *code);
            assert!(std::ptr::eq(code.rule(), rule), "{code}");
            assert_eq!(code.to_string(), code.as_str());
            assert!(*code == code.as_str() && *code != "X000");
        }
    }

    #[test]
    fn names_are_unique_kebab_case() {
        for rule in RULES {
            assert!(!rule.name.is_empty());
            assert!(
                rule.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} has characters outside a-z 0-9 -",
                rule.name
            );
            assert!(!rule.name.starts_with('-') && !rule.name.ends_with('-'));
            assert!(!rule.name.contains("--"), "{}", rule.name);
            let same = RULES.iter().filter(|r| r.name == rule.name).count();
            assert_eq!(same, 1, "name {} is used twice", rule.name);
        }
    }

    #[test]
    fn find_works_by_code_and_by_name_in_any_case() {
        for rule in RULES {
            let lower = rule.code.as_str().to_ascii_lowercase();
            let upper_name = rule.name.to_ascii_uppercase();
            for key in [rule.code.as_str(), &lower, rule.name, &upper_name] {
                let found = find(key).map(|r| r.code);
                assert_eq!(found, Some(rule.code), "find({key})");
            }
        }
        assert_eq!(find("refer-to-MISSING").map(|r| r.code), Some(Code::X101));
        assert!(find("X999").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn every_explanation_file_has_its_three_sections() {
        for rule in RULES {
            let headings: Vec<&str> = rule
                .explanation_md
                .lines()
                .filter_map(|l| l.strip_prefix("## "))
                .collect();
            assert_eq!(
                headings,
                Explanation::HEADINGS,
                "explain/{}.md must have exactly these `## ` headings, in order",
                rule.code
            );
            let before: Vec<&str> = rule
                .explanation_md
                .lines()
                .take_while(|l| !l.starts_with("## "))
                .filter(|l| !l.trim().is_empty())
                .collect();
            assert!(
                before.is_empty(),
                "explain/{}.md has text before its first heading: {before:?}",
                rule.code
            );
        }
    }

    #[test]
    fn explanations_are_read_section_by_section() {
        let e = Explanation::parse(
            "## What the RFC requires\n\nA UA MUST\n  do this.\n\n## Usual cause\nBugs.\n\n\
             ## Fix or work around\n\nFix\nit.\n",
        );
        assert_eq!(e.requirement, "A UA MUST do this.");
        assert_eq!(e.causes, "Bugs.");
        assert_eq!(e.fix, "Fix it.");
        let partial = Explanation::parse("## Usual cause\n\nBugs.\n## Other\n\nlost\n");
        assert_eq!(partial.requirement, "");
        assert_eq!(partial.causes, "Bugs.");
        assert_eq!(partial.fix, "");
    }

    #[test]
    fn every_text_is_filled_and_summaries_fit_one_line() {
        for rule in RULES {
            let e = rule.explanation();
            for (field, text) in [
                ("summary", rule.summary),
                ("requirement", e.requirement.as_str()),
                ("causes", e.causes.as_str()),
                ("fix", e.fix.as_str()),
            ] {
                assert!(!text.trim().is_empty(), "{} {field} is empty", rule.code);
                assert!(
                    !text.contains("  "),
                    "{} {field} has a double space",
                    rule.code
                );
            }
            assert!(
                rule.summary.chars().count() <= 90,
                "{} summary is longer than 90 characters",
                rule.code
            );
            assert!(!rule.summary.contains('\n'), "{}", rule.code);
        }
    }

    /// Each fix says how to confirm the finding in Wireshark (issue 12).
    #[test]
    fn every_fix_says_how_to_confirm_it_in_wireshark() {
        for rule in RULES {
            assert!(
                rule.explanation().fix.contains("in Wireshark"),
                "{} fix does not say how to confirm it in Wireshark",
                rule.code
            );
        }
    }

    #[test]
    fn every_requirement_states_its_level() {
        for rule in RULES {
            assert!(
                ["MUST", "SHOULD", "MAY"]
                    .iter()
                    .any(|level| rule.explanation().requirement.contains(level)),
                "{} requirement names no level",
                rule.code
            );
        }
    }

    /// A rule about the capture file rather than SIP (X603) cites no RFC.
    const NO_RFC: &str = "no RFC: the capture file";

    #[test]
    fn every_citation_names_a_section_that_exists() {
        for rule in RULES {
            if rule.rfc == NO_RFC {
                assert!(rule.code.as_str().starts_with("X6"), "{}", rule.code);
                continue;
            }
            let cited = citations(rule.rfc);
            assert!(cited.is_some(), "{}: cannot read {:?}", rule.code, rule.rfc);
            for (number, section) in cited.unwrap_or_default() {
                assert!(
                    is_known(number, section),
                    "{} cites RFC {number} §{section}, not in KNOWN_SECTIONS",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn citations_are_read_strictly() {
        assert_eq!(
            citations("RFC 3515 §2; RFC 3261 §15"),
            Some(vec![("3515", "2"), ("3261", "15")])
        );
        assert_eq!(citations("RFC 3515 2.4.1"), None);
        assert_eq!(citations("RFC3515 §2.4.1"), None);
        assert_eq!(
            citations("RFC 3515 §2.4.1 (check)"),
            Some(vec![("3515", "2.4.1 (check)")])
        );
        assert!(!is_known("3515", "2.4.1 (check)"));
    }

    #[test]
    fn nothing_is_left_marked_check() {
        for rule in RULES {
            for text in [rule.rfc, rule.summary, rule.explanation_md] {
                assert!(
                    !text.to_ascii_lowercase().contains("check)"),
                    "{} still says (check)",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn severities_serialize_lowercase() {
        assert_eq!(Severity::Error.as_str(), "error");
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        let json = serde_json::to_string(&find("X107").map(|r| r.severity)).unwrap_or_default();
        assert_eq!(json, "\"info\"");
    }
}
