//! `analyze --format mermaid`: a Mermaid sequence diagram per transfer, drawn from
//! [`super::ladder`]'s model, as Markdown (a heading and a fenced `mermaid` block each)
//! ready for a ticket, a wiki or a README.
//!
//! One participant per address (named by the roles it plays), one message per arrow
//! (requests `->>`, responses `-->>`), labelled with frame and time; each run of
//! messages of one dialog in a coloured `rect` (original call, consultation, new
//! call); a note where each phase starts; retransmissions marked.
//!
//! Every byte that came off the wire is escaped twice: control characters as in text
//! output, then the characters Mermaid reads as syntax (`;`, `#`, `<`, `>`, `%`, `"`)
//! as Mermaid entity codes (`#59;`).

use std::fmt::Write as _;

use super::ladder::{self, Leg, Rows};
use super::{Clock, escape_str, frame_name, phase};
use crate::analysis::Analysis;
use crate::transfer::Transfer;

/// Text safe inside a Mermaid message, note or participant label.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape_str(s).chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '%' => out.push_str("#37;"),
            '"' => out.push_str("#quot;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a dialog's messages.
fn colour(leg: Leg) -> &'static str {
    match leg {
        Leg::Original => "rgba(31, 95, 191, 0.10)",
        Leg::Consultation => "rgba(142, 63, 176, 0.12)",
        Leg::NewCall => "rgba(29, 138, 58, 0.12)",
        Leg::Refer => "rgba(179, 92, 0, 0.12)",
    }
}

/// Every transfer's diagram, as Markdown.
pub fn document(a: &Analysis, rows: &Rows) -> String {
    let mut out = String::new();
    if a.transfers.is_empty() {
        out.push_str("No transfer (no REFER) in the capture.\n");
    }
    for (i, t) in a.transfers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&diagram(a, t, rows));
    }
    out
}

/// One transfer: a heading, then its sequence diagram in a fenced block.
pub fn diagram(a: &Analysis, t: &Transfer, rows: &Rows) -> String {
    let ladder = ladder::build(a, t, rows);
    let inputs = a.inputs.len();
    let clock = Clock::of(a);
    let mut out = String::new();
    let status = t.status.map(|s| format!(" {s}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "## Transfer {}: {} {}{status} (REFER frame {} at {})\n",
        t.id,
        t.kind.as_str(),
        t.outcome.as_str(),
        frame_name(inputs, t.refer.frame),
        clock.text(t.refer.frame)
    );
    let _ = writeln!(out, "```mermaid\nsequenceDiagram");
    for (i, lane) in ladder.lanes.iter().enumerate() {
        let roles = lane.role_text();
        let name = if roles.is_empty() {
            text(&lane.address.to_string())
        } else {
            format!("{}<br/>{}", text(&roles), text(&lane.address.to_string()))
        };
        let _ = writeln!(out, "    participant P{} as {name}", i + 1);
    }
    let last = ladder.lanes.len().max(1);
    let mut leg: Option<Leg> = None;
    for (i, arrow) in ladder.arrows.iter().enumerate() {
        if leg != Some(arrow.leg) {
            if leg.is_some() {
                let _ = writeln!(out, "    end");
            }
            let _ = writeln!(out, "    rect {}", colour(arrow.leg));
            leg = Some(arrow.leg);
        }
        for band in ladder.bands.iter().filter(|b| b.first == i) {
            let over = if last > 1 {
                format!("P1,P{last}")
            } else {
                "P1".to_string()
            };
            let _ = writeln!(
                out,
                "    Note over {over}: phase {} {}",
                band.phase.kind.number(),
                text(&phase::name(band.phase))
            );
        }
        let link = if arrow.row.is_response() {
            "-->>"
        } else {
            "->>"
        };
        let retransmission = if arrow.retransmission {
            " (retransmission)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    P{}{link}P{}: {} {} {}{retransmission}",
            arrow.from + 1,
            arrow.to + 1,
            frame_name(inputs, arrow.row.frame),
            clock.text(arrow.row.frame),
            text(&arrow.label)
        );
    }
    if leg.is_some() {
        let _ = writeln!(out, "    end");
    }
    let _ = writeln!(out, "```");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_and_controls_are_escaped() {
        assert_eq!(text("a;b#c<d>"), "a#59;b#35;c#lt;d#gt;");
        assert_eq!(text("x\ny\x1b"), "x\\ny\\x1b");
        assert_eq!(text("100 Trying"), "100 Trying");
    }
}
