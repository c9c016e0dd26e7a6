//! The ladder of a transfer: its dialogs combined into one sequence diagram, like
//! Wireshark's Flow Sequence. [`build`] makes the model — one lane per address (named
//! by the roles it plays), one arrow per message (with its dialog, its NOTIFY sipfrag,
//! whether it repeats an earlier one), the phases as bands of rows — and every
//! picture is drawn from it: the text of `analyze --ladder` ([`render`]), the SVG of
//! `--format html` ([`super::html`]) and the sequence diagram of `--format mermaid`
//! ([`super::mermaid`]).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{Clock, escape, escape_str, frame_name};
use crate::analysis::{Analysis, Found, Observer};
use crate::capture::FrameRef;
use crate::sip::{Method, StartLine};
use crate::transfer::{Phase, RoleName, Transfer};

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
    /// CSeq number and method, as written (lossily decoded): with the start line and
    /// the addresses, it tells a retransmission from a new message.
    pub cseq: Option<(u32, String)>,
    /// The whole message, lossily decoded and not escaped (escape before showing it),
    /// when the rows were collected [`Rows::with_messages`].
    pub message: Option<String>,
}

impl Row {
    /// Whether the message is a response (its label starts with the status).
    pub fn is_response(&self) -> bool {
        self.label.starts_with(|c: char| c.is_ascii_digit())
    }
}

/// Collects the rows while the analysis runs (only SIP messages: small; the whole
/// messages only when asked for).
#[derive(Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    /// Keep each message's text ([`Row::message`]), for pictures that show it.
    pub keep_messages: bool,
    /// The rows of each Call-ID, in capture order: a transfer's ladder is found
    /// without a walk over every row (a page may draw thousands).
    by_call_id: HashMap<String, Vec<usize>>,
}

impl Rows {
    /// Rows that keep each message's text.
    pub fn with_messages() -> Rows {
        Rows {
            keep_messages: true,
            ..Rows::default()
        }
    }

    /// The rows of these Call-IDs, in capture order.
    fn of_calls(&self, call_ids: &[&str]) -> Vec<&Row> {
        let mut at: Vec<usize> = call_ids
            .iter()
            .filter_map(|c| self.by_call_id.get(*c))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at.dedup();
        at.iter().filter_map(|i| self.rows.get(*i)).collect()
    }
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
        let call_id = m
            .call_id()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        let at = self.rows.len();
        match self.by_call_id.get_mut(&call_id) {
            Some(list) => list.push(at),
            None => {
                self.by_call_id.insert(call_id.clone(), vec![at]);
            }
        }
        self.rows.push(Row {
            frame: found.frame,
            src: found.flow.src,
            dst: found.flow.dst,
            call_id,
            label,
            notify,
            cseq: m.cseq().map(|c| (c.seq, c.method.as_str().into_owned())),
            message: self
                .keep_messages
                .then(|| String::from_utf8_lossy(m.raw()).into_owned()),
        });
    }
}

/// Which of the transfer's dialogs a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// The original call (the REFER's dialog).
    Original,
    /// The consultation call an attended transfer replaces.
    Consultation,
    /// The transferee's new call to the target.
    NewCall,
    /// An out-of-dialog REFER's own Call-ID (RFC 4538).
    Refer,
}

impl Leg {
    /// The name pictures use (CSS class, legend).
    pub fn as_str(self) -> &'static str {
        match self {
            Leg::Original => "original",
            Leg::Consultation => "consultation",
            Leg::NewCall => "new-call",
            Leg::Refer => "refer",
        }
    }
}

/// A column of the ladder: one address, and the roles it plays.
#[derive(Clone, Debug)]
pub struct Lane {
    pub address: SocketAddr,
    /// Each role played at this address with the party's short name (not escaped).
    pub roles: Vec<(RoleName, String)>,
}

impl Lane {
    /// `transferor Bob, target carol`, not escaped.
    pub fn role_text(&self) -> String {
        let roles: Vec<String> = self
            .roles
            .iter()
            .map(|(role, name)| format!("{} {name}", role_word(*role)))
            .collect();
        roles.join(", ")
    }
}

/// A role as the pictures name it.
pub fn role_word(role: RoleName) -> &'static str {
    match role {
        RoleName::Transferor => "transferor",
        RoleName::Transferee => "transferee",
        RoleName::Target => "target",
    }
}

/// One message of the ladder.
#[derive(Clone, Debug)]
pub struct Arrow<'r> {
    pub row: &'r Row,
    /// Lanes of the sender and the receiver (the same lane when a party sends to itself).
    pub from: usize,
    pub to: usize,
    /// The row's label, and a NOTIFY's sipfrag in brackets (`NOTIFY (180 Ringing)`); escaped.
    pub label: String,
    pub leg: Leg,
    /// The same message (start line, CSeq, Call-ID) between the same addresses again.
    pub retransmission: bool,
}

/// A phase as a band across the rows it spans (indexes into [`Ladder::arrows`]).
#[derive(Clone, Debug)]
pub struct Band<'t> {
    pub phase: &'t Phase,
    pub first: usize,
    pub last: usize,
}

/// The ladder of one transfer.
#[derive(Clone, Debug)]
pub struct Ladder<'t, 'r> {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow<'r>>,
    /// The phases that happened, by number, each over the rows it spans.
    pub bands: Vec<Band<'t>>,
}

/// The dialog of a Call-ID among the transfer's dialogs (the consultation and new call
/// first: an out-of-dialog REFER may share no Call-ID with the original call).
fn leg_of(t: &Transfer, call_id: &str) -> Leg {
    if t.consultation_call
        .as_ref()
        .is_some_and(|d| d.call_id == call_id)
    {
        Leg::Consultation
    } else if t.new_call.as_ref().is_some_and(|n| n.call_id == call_id) {
        Leg::NewCall
    } else if t
        .original_call
        .as_ref()
        .is_some_and(|d| d.call_id == call_id)
    {
        Leg::Original
    } else if t.refer.call_id == call_id && t.original_call.is_some() {
        Leg::Refer
    } else {
        Leg::Original
    }
}

/// What tells a retransmission: Call-ID, start line, CSeq, sender and receiver.
type MessageKey<'r> = (
    &'r str,
    &'r str,
    Option<&'r (u32, String)>,
    SocketAddr,
    SocketAddr,
);

/// Builds the ladder of a transfer from the rows of the run.
pub fn build<'t, 'r>(a: &Analysis, t: &'t Transfer, rows: &'r Rows) -> Ladder<'t, 'r> {
    let call_ids = call_ids(t);
    let mine = rows.of_calls(&call_ids);
    let sipfrags = sipfrags(a, &call_ids);
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for r in &mine {
        for addr in [r.src, r.dst] {
            if !addresses.contains(&addr) {
                addresses.push(addr);
            }
        }
    }
    let lanes = addresses
        .iter()
        .map(|addr| {
            let mut roles = Vec::new();
            for (role, party) in [
                (RoleName::Transferor, &t.transferor),
                (RoleName::Transferee, &t.transferee),
                (RoleName::Target, &t.target),
            ] {
                if party.address == Some(*addr) {
                    roles.push((role, party.short()));
                }
            }
            Lane {
                address: *addr,
                roles,
            }
        })
        .collect();
    let mut seen: HashSet<MessageKey<'_>> = HashSet::new();
    let arrows = mine
        .into_iter()
        .map(|r| {
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
            let key = (
                r.call_id.as_str(),
                r.label.as_str(),
                r.cseq.as_ref(),
                r.src,
                r.dst,
            );
            let retransmission = !seen.insert(key) && r.cseq.is_some();
            Arrow {
                row: r,
                from: addresses.iter().position(|l| *l == r.src).unwrap_or(0),
                to: addresses.iter().position(|l| *l == r.dst).unwrap_or(0),
                label,
                leg: leg_of(t, &r.call_id),
                retransmission,
            }
        })
        .collect::<Vec<Arrow<'r>>>();
    let mut phases: Vec<&Phase> = t.phases.iter().collect();
    phases.sort_by_key(|p| p.kind.number());
    let bands = phases
        .into_iter()
        .filter_map(|p| {
            let (first, last) = (p.first?, p.last?);
            let (lo, hi) = (first.seq.min(last.seq), first.seq.max(last.seq));
            let inside = |a: &Arrow<'_>| a.row.frame.seq >= lo && a.row.frame.seq <= hi;
            let first = arrows.iter().position(inside)?;
            let last = arrows.iter().rposition(inside)?;
            Some(Band {
                phase: p,
                first,
                last,
            })
        })
        .collect();
    Ladder {
        lanes,
        arrows,
        bands,
    }
}

const LANE: usize = 26;

/// The middle column of lane `i`, where its `|` runs.
fn center(i: usize) -> usize {
    i * LANE + LANE / 2
}

/// The Call-IDs of a transfer's dialogs: its messages are the ladder's rows.
pub fn call_ids(t: &Transfer) -> Vec<&str> {
    [
        t.original_call.as_ref().map(|d| d.call_id.as_str()),
        t.consultation_call.as_ref().map(|d| d.call_id.as_str()),
        t.new_call.as_ref().map(|n| n.call_id.as_str()),
        Some(t.refer.call_id.as_str()),
    ]
    .into_iter()
    .flatten()
    // The legs on the other side of a B2BUA: one lane for the box, one per phone.
    .chain(t.legs.iter().map(|l| l.call_id.as_str()))
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

/// Renders the ladder of a transfer as text.
pub fn render(a: &Analysis, t: &Transfer, rows: &Rows) -> String {
    let ladder = build(a, t, rows);
    let inputs = a.inputs.len();
    let clock = Clock::of(a);
    let prefix = if inputs > 1 { 16 } else { 8 };
    let pad = " ".repeat(prefix + 13);
    let (names, roles) = header(&ladder.lanes);
    let mut out = String::new();
    let _ = writeln!(out, "  ladder");
    let _ = writeln!(out, "{pad}{}", names.trim_end());
    let _ = writeln!(out, "{pad}{}", roles.trim_end());
    for arrow in &ladder.arrows {
        let line = draw(ladder.lanes.len(), arrow);
        let _ = writeln!(
            out,
            "  {:>w$} {:>11}  {}{}",
            frame_name(inputs, arrow.row.frame),
            clock.text(arrow.row.frame),
            line.trim_end(),
            if arrow.retransmission {
                "  (retransmission)"
            } else {
                ""
            },
            w = prefix - 2
        );
    }
    out
}

/// The two header lines: the address of each lane, and the roles it plays.
fn header(lanes: &[Lane]) -> (String, String) {
    let width = LANE * lanes.len();
    let mut names = vec![' '; width];
    let mut roles = vec![' '; width];
    for (i, lane) in lanes.iter().enumerate() {
        put(&mut names, i, &lane.address.to_string());
        put(&mut roles, i, &escape_str(&lane.role_text()));
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
fn draw(lanes: usize, arrow: &Arrow<'_>) -> String {
    let label = arrow.label.as_str();
    let mut line = vec![' '; LANE * lanes];
    for i in 0..lanes {
        if let Some(slot) = line.get_mut(center(i)) {
            *slot = '|';
        }
    }
    let (from, to) = (arrow.from, arrow.to);
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
