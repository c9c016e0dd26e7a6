//! The text of `analyze`: each transfer — headline, roles, REFER and progress, the
//! phase table, the release, findings — then the findings about the capture and a line
//! for the calls that took part in no transfer.

use std::fmt::Write as _;

use crate::analysis::{Analysis, Observer};
use crate::capture::FrameRef;
use crate::report::refers::Unlinked;
use crate::report::{Clock, Palette, escape_str, frame_name, ladder, phase};
use crate::rules::{Finding, Severity};
use crate::transfer::{
    Kind, Listed, Outcome, Phase, Role, RoleName, Transfer, calls_outside_transfers,
};

/// How frames are named and timed in this run's text.
#[derive(Clone, Copy)]
struct Frames {
    inputs: usize,
    clock: Clock,
}

impl Frames {
    fn of(a: &Analysis) -> Frames {
        Frames {
            inputs: a.inputs.len(),
            clock: Clock::of(a),
        }
    }
    fn name(self, f: FrameRef) -> String {
        frame_name(self.inputs, f)
    }
    fn time(self, f: FrameRef) -> String {
        self.clock.text(f)
    }
}

/// Renders every transfer, with a line for the calls that are not part of one.
pub fn text(a: &Analysis, palette: Palette, ladder: Option<&ladder::Rows>) -> String {
    let others = calls_outside_transfers(&a.transfers, &a.dialogs).len();
    text_with(a, palette, ladder, &[], others)
}

/// What the text needs of the calls when it is not to hold them: the transfers, and
/// how many calls are in none of them.
///
/// As an [`Observer`] it keeps each transfer as it finishes and takes each call as
/// soon as no transfer can need it, counting it when its Call-ID is in none of the
/// transfers kept so far: the linker lets a call go only once every transfer it is
/// in was built (each waits for its calls' Call-IDs). Memory then grows with the
/// transfers, not with the calls (a million unanswered INVITEs: 930 MB before).
#[derive(Default)]
pub struct OtherCalls {
    transfers: Vec<Transfer>,
    /// Call-IDs of the kept transfers' calls.
    involved: std::collections::HashSet<String>,
    others: usize,
}

impl OtherCalls {
    /// Hands the kept transfers to `a`, in REFER order, as an analysis that kept its
    /// calls would hold them; returns the number of calls outside every transfer.
    pub fn finish(self, a: &mut Analysis) -> usize {
        let mut transfers = self.transfers;
        transfers.sort_by_key(|t| t.id);
        a.transfers = transfers;
        self.others
    }
}

impl Observer for OtherCalls {
    fn streams_transfers(&self) -> bool {
        true
    }
    fn transfer(&mut self, _zero_ns: i64, t: &Transfer) {
        let calls = [
            t.original_call.as_ref().map(|d| &d.call_id),
            t.consultation_call.as_ref().map(|d| &d.call_id),
            t.new_call.as_ref().map(|n| &n.call_id),
        ];
        self.involved.extend(calls.into_iter().flatten().cloned());
        self.transfers.push(t.clone());
    }
    fn lists_calls(&self) -> bool {
        true
    }
    fn takes_calls(&self) -> bool {
        true
    }
    fn call(&mut self, _zero_ns: i64, listed: Listed) {
        if !self.involved.contains(&listed.dialog.call_id) {
            self.others += 1;
        }
    }
}

/// One line per REFER that could not be linked into a transfer: its frame, its time
/// and why.
pub fn unlinked_lines(a: &Analysis, unlinked: &[Unlinked]) -> String {
    let frames = Frames::of(a);
    let mut out = String::new();
    for u in unlinked {
        let _ = writeln!(
            out,
            "  REFER frame {} at {} could not be linked: {}",
            frames.name(u.frame),
            frames.time(u.frame),
            u.reason
        );
    }
    out
}

/// Renders every transfer, then the REFERs that could not be linked into one (never
/// "no REFER" when a REFER was seen), then a line for the calls that are not part of
/// a transfer.
pub fn text_with(
    a: &Analysis,
    palette: Palette,
    ladder: Option<&ladder::Rows>,
    unlinked: &[Unlinked],
    others: usize,
) -> String {
    let mut out = String::new();
    if a.transfers.is_empty() && !unlinked.is_empty() {
        let _ = writeln!(
            out,
            "No transfer could be linked, but the capture has {}:",
            if unlinked.len() == 1 {
                "a REFER".to_string()
            } else {
                format!("{} REFERs", unlinked.len())
            }
        );
    } else if a.transfers.is_empty() {
        let _ = writeln!(out, "No transfer (no REFER) in the capture.");
    } else if a.transfers.iter().all(|t| t.kind == Kind::NotTransfer) {
        let _ = writeln!(
            out,
            "No call transfer in the capture: the REFERs below ask for something other than a call."
        );
        let _ = writeln!(out);
    }
    for t in &a.transfers {
        out.push_str(&text_one(a, t, palette));
        if let Some(rows) = ladder {
            let _ = writeln!(out);
            out.push_str(&ladder::render(a, t, rows));
        }
        let _ = writeln!(out);
    }
    if !unlinked.is_empty() {
        if !a.transfers.is_empty() {
            let _ = writeln!(out, "REFERs not linked into a transfer:");
        }
        out.push_str(&unlinked_lines(a, unlinked));
        let _ = writeln!(out);
    }
    if !a.findings.is_empty() {
        let _ = writeln!(out, "Findings about the capture");
        for f in &a.findings {
            out.push_str(&finding_line(a.inputs.len(), f, palette));
        }
        let _ = writeln!(out);
    }
    if others > 0 {
        let _ = writeln!(
            out,
            "{} not part of a transfer (see `sipxfer calls`).",
            if others == 1 {
                "1 other call is".to_string()
            } else {
                format!("{others} other calls are")
            }
        );
    }
    out
}

/// Renders one transfer as text.
pub fn text_one(a: &Analysis, t: &Transfer, palette: Palette) -> String {
    let frames = Frames::of(a);
    if t.kind == Kind::NotTransfer {
        return not_a_transfer(a, t, frames, palette);
    }
    let mut out = headline(t, frames, palette);
    let _ = writeln!(out, "{}", role_line("transferor", &t.transferor));
    let _ = writeln!(out, "{}", role_line("transferee", &t.transferee));
    let _ = writeln!(out, "{}", role_line("target", &t.target));
    let _ = writeln!(out);
    out.push_str(&refer_lines(t, frames));
    out.push_str(&notify_line(t, frames));
    if let Some(n) = &t.new_call {
        let _ = writeln!(
            out,
            "  new call    INVITE frame {}, Call-ID {} (linked by {})",
            frames.name(n.invite),
            escape_str(&n.call_id),
            n.evidence.join(", ")
        );
    }
    if let Some(note) = &t.note {
        let _ = writeln!(out, "  note        {}", escape_str(note));
    }
    out.push_str(&super::legs::legs_text(t));
    let _ = writeln!(out);
    out.push_str(&phase_table(t, frames, palette.wide));
    let _ = writeln!(out);
    out.push_str(&release_line(t, frames, palette));
    if t.findings.is_empty() {
        let _ = writeln!(out, "  findings    none");
    } else {
        let _ = writeln!(out, "  findings");
        for f in &t.findings {
            out.push_str(&finding_line(a.inputs.len(), f, palette));
        }
    }
    out
}

/// A REFER that is not a call transfer (its Refer-To names no call): who sent it to
/// whom, the REFER and its NOTIFYs, why it is not a transfer, and its findings.
fn not_a_transfer(a: &Analysis, t: &Transfer, frames: Frames, palette: Palette) -> String {
    let mut out = format!(
        "{}  REFER (not a call transfer)   frame {} at {}\n",
        palette.bold(&format!("Transfer {}", t.id)),
        frames.name(t.refer.frame),
        frames.time(t.refer.frame)
    );
    let _ = writeln!(out, "{}", role_line("from", &t.transferor));
    let _ = writeln!(out, "{}", role_line("to", &t.transferee));
    let _ = writeln!(out);
    out.push_str(&refer_lines(t, frames));
    out.push_str(&notify_line(t, frames));
    if let Some(note) = &t.note {
        let _ = writeln!(out, "  note        {}", escape_str(note));
    }
    if !t.findings.is_empty() {
        let _ = writeln!(out, "  findings");
        for f in &t.findings {
            out.push_str(&finding_line(a.inputs.len(), f, palette));
        }
    }
    out
}

/// `Transfer 1  blind  completed   REFER frame 27 at 40.861666`, and the transfer it
/// retries or follows.
fn headline(t: &Transfer, frames: Frames, palette: Palette) -> String {
    let outcome = match t.status {
        Some(s) => format!("{} {s}", t.outcome.as_str()),
        None => t.outcome.as_str().to_string(),
    };
    let outcome = match t.outcome {
        Outcome::Completed => palette.good(&outcome),
        Outcome::Failed | Outcome::Rejected | Outcome::Abandoned => palette.bad(&outcome),
        Outcome::Unknown => palette.warn(&outcome),
    };
    let mut retry = t
        .retry_of
        .map(|id| format!("   retries transfer {id}"))
        .unwrap_or_default();
    if let Some(id) = t.follows {
        retry.push_str(&format!("   follows transfer {id} (chained)"));
    }
    format!(
        "{}  {}  {}   REFER frame {} at {}{retry}\n",
        palette.bold(&format!("Transfer {}", t.id)),
        t.kind.as_str(),
        outcome,
        frames.name(t.refer.frame),
        frames.time(t.refer.frame)
    )
}

/// A role: label, `name <uri>`, address.
fn role_line(label: &str, r: &Role) -> String {
    let name = r.name.as_deref().map(escape_str).unwrap_or_default();
    let uri = escape_str(&r.uri);
    let uri = uri.trim_start_matches('<').trim_end_matches('>');
    let address = r
        .address
        .map(|a| a.to_string())
        .unwrap_or_else(|| "-".to_string());
    format!(
        "  {label:<11} {:<40} {address}",
        format!("{name} <{uri}>").trim()
    )
}

/// The REFER with its Refer-To and answer, its Referred-By and Replaces.
fn refer_lines(t: &Transfer, frames: Frames) -> String {
    let mut out = String::new();
    let r = &t.refer;
    let response = match r.response {
        Some((f, s)) => format!("→ {s} (frame {})", frames.name(f)),
        None => "→ no response".to_string(),
    };
    let _ = writeln!(
        out,
        "  REFER       frame {}  Refer-To {}  {response}",
        frames.name(r.frame),
        escape_str(&r.refer_to)
    );
    if let Some(by) = &r.referred_by {
        let _ = writeln!(out, "  Referred-By {}", escape_str(by));
    }
    if let Some(rp) = &r.replaces {
        let part = |p: &Option<String>| {
            p.as_deref()
                .map_or("(missing)".to_string(), |v| escape_str(v).into_owned())
        };
        let _ = writeln!(
            out,
            "  Replaces    {}; to-tag={}; from-tag={}{}",
            part(&rp.call_id),
            part(&rp.to_tag),
            part(&rp.from_tag),
            if rp.early_only { "; early-only" } else { "" }
        );
    }
    out
}

/// The NOTIFYs in order: sipfrag, frame, subscription state, an error answer.
fn notify_line(t: &Transfer, frames: Frames) -> String {
    if t.notifies.is_empty() {
        return "  NOTIFY      none\n".to_string();
    }
    let list: Vec<String> = t
        .notifies
        .iter()
        .map(|n| {
            let what = n
                .sipfrag
                .as_deref()
                .map(|s| escape_str(s.trim_start_matches("SIP/2.0 ")).into_owned())
                .unwrap_or_else(|| "no sipfrag".to_string());
            let state = match (&n.subscription_state, &n.reason) {
                (Some(s), Some(r)) => format!(", {};{}", escape_str(s), escape_str(r)),
                (Some(s), None) => format!(", {}", escape_str(s)),
                _ => String::new(),
            };
            let answer = match n.response {
                Some((f, status)) if status >= 300 => {
                    format!(", answered {status} at {}", frames.name(f))
                }
                _ => String::new(),
            };
            format!("{what} ({}{state}{answer})", frames.name(n.frame))
        })
        .collect();
    format!("  NOTIFY      {}\n", list.join(" → "))
}

/// A phase's label in the table: number and name.
fn label(p: &Phase) -> String {
    format!("  {} {}", p.kind.number(), escape_str(&phase::name(p)))
}

/// The phases as they happened: by start time, overlaps and all; missing phases
/// last, each on a line of its own after the table, so their reasons do not widen its
/// columns.
fn phase_table(t: &Transfer, frames: Frames, wide: bool) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .force_no_tty()
        .set_header(vec!["  phase", "start", "end", "frames", "dialog"]);
    let mut phases: Vec<&Phase> = t.phases.iter().collect();
    // By start time (frame order breaks ties): a capture with several interfaces may
    // store frames out of time order.
    phases.sort_by_key(|p| {
        let start = p.first.map(|f| (f.ts_ns, f.seq));
        (start.is_none(), start, p.kind.number())
    });
    let mut missing = Vec::new();
    // The phase column as the table pads it: its widest cell, one space either side.
    let mut width = "  phase".len();
    for p in phases {
        let (Some(f), Some(l)) = (p.first, p.last) else {
            missing.push(p);
            continue;
        };
        let label = label(p);
        width = width.max(label.chars().count());
        let dialog = p
            .dialog
            .as_deref()
            .map(|d| short_id(d, wide))
            .unwrap_or_default();
        table.add_row(vec![
            label,
            frames.time(f),
            frames.time(l),
            format!("{}-{}", frames.name(f), frames.name(l)),
            dialog,
        ]);
    }
    let mut out = String::new();
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for p in missing {
        let why = phase::why_missing(p).unwrap_or_default();
        let _ = writeln!(out, " {:<width$}  missing: {why}", label(p));
    }
    out
}

/// Who released the original call, when, and whether the outcome was known then.
fn release_line(t: &Transfer, frames: Frames, palette: Palette) -> String {
    let Some(rel) = &t.released else {
        return "  released    the original call was not released by a BYE in the capture\n"
            .to_string();
    };
    let by = match rel.by {
        Some(RoleName::Transferor) => format!(" by the transferor ({})", t.transferor.short()),
        Some(RoleName::Transferee) => format!(" by the transferee ({})", t.transferee.short()),
        Some(RoleName::Target) => " by the target".to_string(),
        None => String::new(),
    };
    let when = if rel.before_outcome {
        palette.warn("before the outcome was known")
    } else {
        "after the outcome was known".to_string()
    };
    format!(
        "  released    original call released{} at {} (frame {}), {when}\n",
        escape_str(&by),
        frames.time(rel.frame),
        frames.name(rel.frame)
    )
}

/// One finding as a line of text: severity, code, frames, message, RFC section.
pub fn finding_line(inputs: usize, f: &Finding, palette: Palette) -> String {
    let frames: Vec<String> = f.frames.iter().map(|x| frame_name(inputs, *x)).collect();
    let severity = format!("{:<7}", f.severity.as_str());
    let severity = match f.severity {
        Severity::Error => palette.bad(&severity),
        Severity::Warning => palette.warn(&severity),
        Severity::Info => palette.dim(&severity),
    };
    let at = match frames.len() {
        0 => String::new(),
        1 => format!("frame {}: ", frames.join("")),
        _ => format!("frames {}: ", frames.join(", ")),
    };
    format!(
        "    {severity} {}  {at}{} ({})\n",
        f.rule.code,
        escape_str(&f.message),
        f.rule.rfc
    )
}

/// A Call-ID cut to 16 characters (15 and `…`) for the phase table; whole with
/// `--wide`.
fn short_id(call_id: &str, wide: bool) -> String {
    let escaped = escape_str(call_id);
    if !wide && escaped.chars().count() > 16 {
        let mut s: String = escaped.chars().take(15).collect();
        s.push('…');
        s
    } else {
        escaped.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;

    /// Counting the calls outside the transfers as they are let go gives what the
    /// count over every call kept to the end gives, and the same transfers, on
    /// captures with transfers (chained, two in one call, through B2BUAs) and calls
    /// outside them.
    #[test]
    fn other_calls_counted_as_they_go_match_the_calls_kept() {
        let open = |name: &str| {
            let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
            vec![crate::capture::Input::open(&path, 0).expect("sample opens")]
        };
        let options = crate::analysis::Options::default();
        let mut outside = 0;
        for name in [
            "calls-mixed-udp.pcapng",
            "xfer-chained-udp.pcap",
            "xfer-two-transfers-udp.pcap",
            "b2bua-pbx-attended-udp.pcap",
            "xfer-attended-replaces-udp.pcap",
        ] {
            let kept = crate::analysis::run(open(name), &options, &mut crate::analysis::Quiet);
            let expected = calls_outside_transfers(&kept.transfers, &kept.dialogs).len();
            let mut counter = OtherCalls::default();
            let mut counted = crate::analysis::run(open(name), &options, &mut counter);
            assert!(counted.dialogs.is_empty(), "{name}: no call kept");
            let others = counter.finish(&mut counted);
            assert_eq!(others, expected, "{name}");
            let ids = |a: &Analysis| a.transfers.iter().map(|t| t.id).collect::<Vec<_>>();
            assert_eq!(ids(&counted), ids(&kept), "{name}: the same transfers");
            let palette = Palette::default();
            assert_eq!(
                text_with(&counted, palette, None, &[], others),
                text(&kept, palette, None),
                "{name}: the same text"
            );
            outside += others;
        }
        assert!(outside > 0, "some sample has calls outside transfers");
    }

    #[test]
    fn call_ids_are_cut_to_the_dialog_column() {
        assert_eq!(short_id("a84b4c76e66710", false), "a84b4c76e66710");
        assert_eq!(short_id("0123456789abcdef", false), "0123456789abcdef");
        assert_eq!(short_id("0123456789abcdefg", false), "0123456789abcde…");
        assert_eq!(short_id("0123456789abcdefg", true), "0123456789abcdefg");
        // Escaped first (a control cannot reach the terminal), then counted in
        // characters, not bytes.
        assert_eq!(short_id("ab\x1bcd", false), "ab\\x1bcd");
        assert_eq!(short_id("é".repeat(20).as_str(), false).chars().count(), 16);
    }

    #[test]
    fn role_lines_align_the_address_column() {
        let role = |name: Option<&str>, uri: &str, address: Option<&str>| Role {
            name: name.map(str::to_string),
            uri: uri.to_string(),
            address: address.map(|a| a.parse().expect("address")),
        };
        let mike = role(Some("Mike"), "<sip:mike@10.0.0.2>", Some("10.0.0.2:5060"));
        let line = role_line("transferor", &mike);
        assert_eq!(
            line,
            format!(
                "  transferor  {:<40} 10.0.0.2:5060",
                "Mike <sip:mike@10.0.0.2>"
            )
        );
        let anonymous = role(None, "sip:x@h", None);
        let line = role_line("target", &anonymous);
        assert_eq!(line, format!("  target      {:<40} -", "<sip:x@h>"));
        let evil = role(Some("a\x1b[2J"), "sip:a@h", None);
        assert!(role_line("target", &evil).contains("a\\x1b[2J <sip:a@h>"));
    }

    #[test]
    fn finding_lines_name_their_frames() {
        let frame = |number| FrameRef {
            seq: number,
            file: 1,
            number,
            ts_ns: 0,
        };
        let rule = &RULES[0];
        let mut f = Finding {
            rule,
            severity: Severity::Warning,
            frames: vec![frame(40)],
            message: "bad\r\nthing".to_string(),
            transfer: Some(1),
        };
        let plain = Palette {
            enabled: false,
            wide: false,
        };
        assert_eq!(
            finding_line(1, &f, plain),
            format!(
                "    warning {}  frame 40: bad\\r\\nthing ({})\n",
                rule.code, rule.rfc
            )
        );
        f.frames.push(frame(41));
        f.severity = Severity::Info;
        assert_eq!(
            finding_line(2, &f, plain),
            format!(
                "    info    {}  frames 2:40, 2:41: bad\\r\\nthing ({})\n",
                rule.code, rule.rfc
            )
        );
        f.frames.clear();
        assert!(finding_line(1, &f, plain).starts_with(&format!("    info    {}  bad", rule.code)));
    }
}
