//! `analyze --ladder`: a text sequence diagram of one transfer, like Wireshark's Flow
//! Sequence with the transfer's dialogs combined: one column per address, one row per
//! message, NOTIFY rows with their sipfrag (as the transfer model holds it).

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{Clock, escape, escape_str, frame_name};
use crate::analysis::{Analysis, Found, Observer};
use crate::capture::FrameRef;
use crate::sip::{Method, StartLine};
use crate::transfer::Transfer;

/// One SIP message as the ladder shows it.
#[derive(Clone, Debug)]
pub struct Row {
    pub frame: FrameRef,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub call_id: String,
    /// Method or status and reason, escaped; `+Replaces` after an INVITE that has one.
    pub label: String,
    /// The CSeq number of a NOTIFY: with the Call-ID, it finds the NOTIFY, and its
    /// sipfrag, among the transfers' NOTIFYs.
    pub notify: Option<u32>,
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
        let notify = if m.method() == Some(Method::Notify) {
            m.cseq().map(|c| c.seq)
        } else {
            None
        };
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
            notify,
        });
    }
}

const LANE: usize = 26;

/// The middle column of lane `i`, where its `|` runs.
fn center(i: usize) -> usize {
    i * LANE + LANE / 2
}

/// The Call-IDs of a transfer's dialogs: its messages are the ladder's rows.
fn call_ids(t: &Transfer) -> Vec<&str> {
    [
        t.original_call.as_ref().map(|d| d.call_id.as_str()),
        t.consultation_call.as_ref().map(|d| d.call_id.as_str()),
        t.new_call.as_ref().map(|n| n.call_id.as_str()),
        Some(t.refer.call_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The sipfrag line of every NOTIFY the transfers in these Call-IDs hold, by Call-ID
/// and CSeq number (a NOTIFY keeps both on every hop and retransmission).
fn sipfrags<'a>(a: &'a Analysis, call_ids: &[&str]) -> Vec<(&'a str, u32, &'a str)> {
    a.transfers
        .iter()
        .filter(|t| call_ids.contains(&t.refer.call_id.as_str()))
        .flat_map(|t| {
            t.notifies.iter().filter_map(|n| {
                let line = n.sipfrag.as_deref()?;
                Some((t.refer.call_id.as_str(), n.cseq, line))
            })
        })
        .collect()
}

/// Renders the ladder of a transfer.
pub fn render(a: &Analysis, t: &Transfer, rows: &Rows) -> String {
    let call_ids = call_ids(t);
    let mine: Vec<&Row> = rows
        .rows
        .iter()
        .filter(|r| call_ids.contains(&r.call_id.as_str()))
        .collect();
    let sipfrags = sipfrags(a, &call_ids);
    let mut lanes: Vec<SocketAddr> = Vec::new();
    for r in &mine {
        for addr in [r.src, r.dst] {
            if !lanes.contains(&addr) {
                lanes.push(addr);
            }
        }
    }
    let inputs = a.inputs.len();
    let clock = Clock::of(a);
    let prefix = if inputs > 1 { 16 } else { 8 };
    let pad = " ".repeat(prefix + 13);
    let (names, roles) = header(t, &lanes);
    let mut out = String::new();
    let _ = writeln!(out, "  ladder");
    let _ = writeln!(out, "{pad}{}", names.trim_end());
    let _ = writeln!(out, "{pad}{}", roles.trim_end());
    for r in mine {
        let sipfrag = r.notify.and_then(|cseq| {
            let found = sipfrags
                .iter()
                .find(|(c, n, _)| *c == r.call_id && *n == cseq);
            found.map(|(_, _, line)| escape_str(line))
        });
        let label = match sipfrag {
            Some(line) => format!("{} ({})", r.label, line.trim_start_matches("SIP/2.0 ")),
            None => r.label.clone(),
        };
        let line = arrow(&lanes, r, &label);
        let _ = writeln!(
            out,
            "  {:>w$} {:>11}  {}",
            frame_name(inputs, r.frame),
            clock.text(r.frame),
            line.trim_end(),
            w = prefix - 2
        );
    }
    out
}

/// The two header lines: the address of each lane, and the roles it plays.
fn header(t: &Transfer, lanes: &[SocketAddr]) -> (String, String) {
    let width = LANE * lanes.len();
    let mut names = vec![' '; width];
    let mut roles = vec![' '; width];
    for (i, addr) in lanes.iter().enumerate() {
        put(&mut names, i, &addr.to_string());
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
        put(&mut roles, i, &escape_str(&role.join(", ")));
    }
    (names.iter().collect(), roles.iter().collect())
}

/// Writes `text` centred on lane `lane`, cut to the lane's width.
fn put(line: &mut [char], lane: usize, text: &str) {
    let text: Vec<char> = text.chars().take(LANE - 1).collect();
    let start = center(lane).saturating_sub(text.len() / 2);
    for (k, c) in text.into_iter().enumerate() {
        if let Some(slot) = line.get_mut(start + k) {
            *slot = c;
        }
    }
}

/// One message: every lane's `|`, the arrow from sender to receiver, and the label
/// centred on it (cut with `…` when it does not fit; beside the lane when a party
/// sends to itself).
fn arrow(lanes: &[SocketAddr], r: &Row, label: &str) -> String {
    let mut line = vec![' '; LANE * lanes.len()];
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
        format!("(to itself) {label}").chars().collect()
    } else if label.chars().count() > span {
        let mut cut: Vec<char> = label.chars().take(span.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        label.chars().collect()
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
    line.iter().collect()
}
