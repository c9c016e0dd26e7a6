//! `analyze --ladder`: a text sequence diagram of one transfer, like Wireshark's Flow
//! Sequence with the transfer's dialogs combined: one column per address, one row per
//! message, NOTIFY rows with their sipfrag.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{escape, escape_str, seconds};
use crate::analysis::{Analysis, Found, Observer};
use crate::capture::FrameRef;
use crate::sip::{Method, Sipfrag, StartLine};
use crate::transfer::Transfer;

/// One SIP message as the ladder shows it.
#[derive(Clone, Debug)]
pub struct Row {
    pub frame: FrameRef,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub call_id: String,
    pub label: String,
}

/// Collects the rows while the analysis runs (only SIP messages: small).
#[derive(Default)]
pub struct Rows {
    pub rows: Vec<Row>,
}

impl Observer for Rows {
    fn message(&mut self, found: &Found<'_, '_>) {
        let m = found.message;
        let mut label = match m.start_line() {
            StartLine::Request { method, .. } => method.as_str().into_owned(),
            StartLine::Response { status, reason } => {
                format!("{status} {}", escape(reason))
            }
        };
        if m.method() == Some(Method::Notify)
            && let Some(frag) = Sipfrag::parse(m.body())
        {
            let line = escape(frag.first_line);
            let _ = write!(label, " ({})", line.trim_start_matches("SIP/2.0 "));
        }
        if m.method() == Some(Method::Invite) && !m.replaces().is_empty() {
            label.push_str(" +Replaces");
        }
        self.rows.push(Row {
            frame: found.frame,
            src: found.flow.src,
            dst: found.flow.dst,
            call_id: m
                .call_id()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default(),
            label,
        });
    }
}

const LANE: usize = 26;

/// Renders the ladder of a transfer.
pub fn render(a: &Analysis, t: &Transfer, rows: &Rows) -> String {
    let call_ids: Vec<&str> = [
        t.original_call.as_ref().map(|d| d.call_id.as_str()),
        t.consultation_call.as_ref().map(|d| d.call_id.as_str()),
        t.new_call.as_ref().map(|n| n.call_id.as_str()),
        Some(t.refer.call_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mine: Vec<&Row> = rows
        .rows
        .iter()
        .filter(|r| call_ids.contains(&r.call_id.as_str()))
        .collect();
    let mut lanes: Vec<SocketAddr> = Vec::new();
    for r in &mine {
        for addr in [r.src, r.dst] {
            if !lanes.contains(&addr) {
                lanes.push(addr);
            }
        }
    }
    let several = a.inputs.len() > 1;
    let mut out = String::new();
    let width = LANE * lanes.len();
    let center = |i: usize| i * LANE + LANE / 2;
    // Header: the address of each lane, and the role it plays.
    let mut names = vec![' '; width];
    let mut roles = vec![' '; width];
    for (i, addr) in lanes.iter().enumerate() {
        let put = |line: &mut Vec<char>, text: &str| {
            let text: Vec<char> = text.chars().take(LANE - 1).collect();
            let start = center(i).saturating_sub(text.len() / 2);
            for (k, c) in text.into_iter().enumerate() {
                if let Some(slot) = line.get_mut(start + k) {
                    *slot = c;
                }
            }
        };
        put(&mut names, &addr.to_string());
        let mut role = Vec::new();
        if t.transferor.address == Some(*addr) {
            role.push(format!("transferor {}", t.transferor.short()));
        }
        if t.transferee.address == Some(*addr) {
            role.push(format!("transferee {}", t.transferee.short()));
        }
        if t.target.address == Some(*addr) {
            role.push(format!("target {}", t.target.short()));
        }
        put(&mut roles, &escape_str(&role.join(", ")));
    }
    let prefix = if several { 16 } else { 8 };
    let pad = " ".repeat(prefix + 13);
    let _ = writeln!(out, "  ladder");
    let _ = writeln!(out, "{pad}{}", names.iter().collect::<String>().trim_end());
    let _ = writeln!(out, "{pad}{}", roles.iter().collect::<String>().trim_end());
    for r in mine {
        let mut line = vec![' '; width];
        for i in 0..lanes.len() {
            if let Some(slot) = line.get_mut(center(i)) {
                *slot = '|';
            }
        }
        let from = lanes.iter().position(|l| *l == r.src).unwrap_or(0);
        let to = lanes.iter().position(|l| *l == r.dst).unwrap_or(0);
        let (lo, hi) = (from.min(to), from.max(to));
        let (a_col, b_col) = (center(lo) + 1, center(hi).saturating_sub(1));
        for slot in line.iter_mut().take(b_col + 1).skip(a_col) {
            *slot = '-';
        }
        if to > from {
            if let Some(slot) = line.get_mut(b_col) {
                *slot = '>';
            }
        } else if to < from
            && let Some(slot) = line.get_mut(a_col)
        {
            *slot = '<';
        }
        let span = b_col.saturating_sub(a_col).saturating_sub(3);
        let label: Vec<char> = if from == to {
            format!("(to itself) {}", r.label).chars().collect()
        } else if r.label.chars().count() > span {
            let mut cut: Vec<char> = r.label.chars().take(span.saturating_sub(1)).collect();
            cut.push('…');
            cut
        } else {
            r.label.chars().collect()
        };
        let start = if from == to {
            center(lo) + 2
        } else {
            a_col + 1 + span.saturating_sub(label.len()) / 2 + 1
        };
        for (k, c) in label.into_iter().enumerate() {
            match line.get_mut(start + k) {
                Some(slot) => *slot = c,
                None => line.push(c),
            }
        }
        let frame = if several {
            format!("{}:{}", r.frame.file + 1, r.frame.number)
        } else {
            r.frame.number.to_string()
        };
        let _ = writeln!(
            out,
            "  {frame:>w$} {:>11}  {}",
            seconds(a.relative(r.frame.ts_ns)),
            line.iter().collect::<String>().trim_end(),
            w = prefix - 2
        );
    }
    out
}
