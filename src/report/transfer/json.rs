//! `sipxfer analyze`: each transfer with its roles, REFER, progress, phased flow,
//! release and findings, as text or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::calls::DialogJson;
use super::{FrameJson, Palette, SCHEMA_VERSION, escape_str, frame_name, micro, seconds};
use crate::analysis::{Analysis, InputSummary, Stats};
use crate::capture::FrameRef;
use crate::rules::{Finding, Severity};
use crate::sip::Replaces;
use crate::transfer::{DialogId, Kind, Outcome, Role, RoleName, Transfer};

/// A role in JSON.
#[derive(Serialize)]
pub struct RoleJson<'a> {
    pub name: Option<&'a str>,
    pub uri: &'a str,
    pub address: Option<String>,
}

impl<'a> RoleJson<'a> {
    fn new(r: &'a Role) -> Self {
        RoleJson {
            name: r.name.as_deref(),
            uri: &r.uri,
            address: r.address.map(|a| a.to_string()),
        }
    }
}

#[derive(Serialize)]
pub struct ResponseJson {
    pub file: u32,
    pub frame: u64,
    pub time: f64,
    pub status: u16,
}

#[derive(Serialize)]
pub struct ReferJson<'a> {
    pub file: u32,
    pub frame: u64,
    pub time: f64,
    pub call_id: &'a str,
    pub cseq: u32,
    pub refer_to: &'a str,
    pub refer_to_count: usize,
    pub referred_by: Option<&'a str>,
    pub replaces: Option<&'a Replaces>,
    pub response: Option<ResponseJson>,
    pub hops: usize,
    pub retransmissions: u32,
    pub refer_sub_requested: Option<bool>,
    pub refer_sub_granted: Option<bool>,
    pub out_of_dialog: bool,
}

#[derive(Serialize)]
pub struct NotifyJson<'a> {
    pub file: u32,
    pub frame: u64,
    pub time: f64,
    pub cseq: u32,
    /// The sipfrag status code.
    pub status: Option<u16>,
    pub sipfrag: Option<&'a str>,
    pub subscription_state: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub response: Option<ResponseJson>,
    pub retransmissions: u32,
}

#[derive(Serialize)]
pub struct NewCallJson<'a> {
    pub call_id: &'a str,
    pub invite_file: u32,
    pub invite_frame: u64,
    pub evidence: &'a [&'static str],
}

#[derive(Serialize)]
pub struct PhaseJson<'a> {
    pub number: u8,
    pub kind: crate::transfer::PhaseKind,
    pub name: &'a str,
    pub first_file: Option<u32>,
    pub first_frame: Option<u64>,
    pub last_file: Option<u32>,
    pub last_frame: Option<u64>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub dialog: Option<&'a str>,
    pub missing: bool,
    pub reason: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ReleaseJson {
    pub by: Option<RoleName>,
    pub file: u32,
    pub frame: u64,
    pub time: f64,
    pub before_outcome: bool,
}

#[derive(Serialize)]
pub struct FindingJson<'a> {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: &'static str,
    pub rfc: &'static str,
    pub files: Vec<u32>,
    pub frames: Vec<u64>,
    pub message: &'a str,
    pub transfer: Option<usize>,
}

impl<'a> FindingJson<'a> {
    pub fn new(f: &'a Finding) -> FindingJson<'a> {
        FindingJson {
            rule: f.rule.code,
            name: f.rule.name,
            severity: f.severity.as_str(),
            rfc: f.rule.rfc,
            files: f.frames.iter().map(|x| x.file).collect(),
            frames: f.frames.iter().map(|x| x.number).collect(),
            message: &f.message,
            transfer: f.transfer,
        }
    }
}

#[derive(Serialize)]
pub struct TransferJson<'a> {
    pub id: usize,
    pub kind: Kind,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub transferor: RoleJson<'a>,
    pub transferee: RoleJson<'a>,
    pub target: RoleJson<'a>,
    pub refer: ReferJson<'a>,
    pub notifies: Vec<NotifyJson<'a>>,
    pub original_call: Option<&'a DialogId>,
    pub consultation_call: Option<&'a DialogId>,
    pub new_call: Option<NewCallJson<'a>>,
    pub phases: Vec<PhaseJson<'a>>,
    pub released: Option<ReleaseJson>,
    pub outcome_frame: Option<FrameJson>,
    pub note: Option<&'a str>,
    /// The id of the rejected transfer this one retries.
    pub retry_of: Option<usize>,
    /// The id of the transfer whose new call is this one's original call.
    pub follows: Option<usize>,
    pub findings: Vec<FindingJson<'a>>,
}

/// Seconds of `f` from time zero, to the microsecond.
fn seconds_from(zero_ns: i64, f: FrameRef) -> f64 {
    micro(f.ts_ns.saturating_sub(zero_ns) as f64 / 1e9)
}

fn response(zero_ns: i64, r: Option<(FrameRef, u16)>) -> Option<ResponseJson> {
    r.map(|(f, status)| ResponseJson {
        file: f.file,
        frame: f.number,
        time: seconds_from(zero_ns, f),
        status,
    })
}

impl<'a> TransferJson<'a> {
    pub fn new(a: &Analysis, t: &'a Transfer) -> TransferJson<'a> {
        TransferJson::at(a.start_ns.unwrap_or_default(), t)
    }

    /// The JSON of a transfer, with times from `zero_ns` (the first frame).
    pub fn at(zero_ns: i64, t: &'a Transfer) -> TransferJson<'a> {
        let time = |f: FrameRef| seconds_from(zero_ns, f);
        TransferJson {
            id: t.id,
            kind: t.kind,
            outcome: t.outcome,
            status: t.status,
            transferor: RoleJson::new(&t.transferor),
            transferee: RoleJson::new(&t.transferee),
            target: RoleJson::new(&t.target),
            refer: ReferJson {
                file: t.refer.frame.file,
                frame: t.refer.frame.number,
                time: time(t.refer.frame),
                call_id: &t.refer.call_id,
                cseq: t.refer.cseq,
                refer_to: &t.refer.refer_to,
                refer_to_count: t.refer.refer_to_count,
                referred_by: t.refer.referred_by.as_deref(),
                replaces: t.refer.replaces.as_ref(),
                response: response(zero_ns, t.refer.response),
                hops: t.refer.hops,
                retransmissions: t.refer.retransmissions,
                refer_sub_requested: t.refer.refer_sub_requested,
                refer_sub_granted: t.refer.refer_sub_granted,
                out_of_dialog: t.refer.out_of_dialog,
            },
            notifies: t
                .notifies
                .iter()
                .map(|n| NotifyJson {
                    file: n.frame.file,
                    frame: n.frame.number,
                    time: time(n.frame),
                    cseq: n.cseq,
                    status: n.status,
                    sipfrag: n.sipfrag.as_deref(),
                    subscription_state: n.subscription_state.as_deref(),
                    reason: n.reason.as_deref(),
                    event_id: n.event_id.as_deref(),
                    response: response(zero_ns, n.response),
                    retransmissions: n.retransmissions,
                })
                .collect(),
            original_call: t.original_call.as_ref(),
            consultation_call: t.consultation_call.as_ref(),
            new_call: t.new_call.as_ref().map(|n| NewCallJson {
                call_id: &n.call_id,
                invite_file: n.invite.file,
                invite_frame: n.invite.number,
                evidence: &n.evidence,
            }),
            phases: t
                .phases
                .iter()
                .map(|p| PhaseJson {
                    number: p.kind.number(),
                    kind: p.kind,
                    name: &p.name,
                    first_file: p.first.map(|f| f.file),
                    first_frame: p.first.map(|f| f.number),
                    last_file: p.last.map(|f| f.file),
                    last_frame: p.last.map(|f| f.number),
                    start: p.first.map(time),
                    end: p.last.map(time),
                    dialog: p.dialog.as_deref(),
                    missing: p.missing.is_some(),
                    reason: p.missing.as_deref(),
                })
                .collect(),
            released: t.released.as_ref().map(|r| ReleaseJson {
                by: r.by,
                file: r.frame.file,
                frame: r.frame.number,
                time: time(r.frame),
                before_outcome: r.before_outcome,
            }),
            outcome_frame: t.outcome_frame.map(|f| FrameJson {
                file: f.file,
                frame: f.number,
                time: time(f),
            }),
            note: t.note.as_deref(),
            retry_of: t.retry_of,
            follows: t.follows,
            findings: findings_json(t),
        }
    }
}

fn findings_json(t: &Transfer) -> Vec<FindingJson<'_>> {
    t.findings.iter().map(FindingJson::new).collect()
}

/// The JSON document of `analyze`.
#[derive(Serialize)]
pub struct AnalyzeJson<'a> {
    pub schema_version: u32,
    pub inputs: &'a [InputSummary],
    pub stats: &'a Stats,
    pub dialogs: Vec<DialogJson<'a>>,
    pub transfers: Vec<TransferJson<'a>>,
    pub findings: Vec<FindingJson<'a>>,
}

pub fn json(a: &Analysis) -> AnalyzeJson<'_> {
    AnalyzeJson {
        schema_version: SCHEMA_VERSION,
        inputs: &a.inputs,
        stats: &a.stats,
        dialogs: a.dialogs.iter().map(|d| DialogJson::new(a, d)).collect(),
        transfers: a
            .transfers
            .iter()
            .map(|t| TransferJson::new(a, t))
            .collect(),
        findings: a.all_findings().map(FindingJson::new).collect(),
    }
}

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

/// Renders one transfer as text.
pub fn text_one(a: &Analysis, t: &Transfer, palette: Palette) -> String {
    let frame = |f: FrameRef| frame_name(a.inputs.len(), f);
    let time = |f: FrameRef| seconds(a.relative(f.ts_ns));
    let mut out = String::new();
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
    let _ = writeln!(
        out,
        "{}  {}  {}   REFER frame {} at {}{retry}",
        palette.bold(&format!("Transfer {}", t.id)),
        t.kind.as_str(),
        outcome,
        frame(t.refer.frame),
        time(t.refer.frame)
    );
    let _ = writeln!(out, "{}", role_line("transferor", &t.transferor));
    let _ = writeln!(out, "{}", role_line("transferee", &t.transferee));
    let _ = writeln!(out, "{}", role_line("target", &t.target));
    let _ = writeln!(out);

    let r = &t.refer;
    let response = match r.response {
        Some((f, s)) => format!("→ {s} (frame {})", frame(f)),
        None => "→ no response".to_string(),
    };
    let _ = writeln!(
        out,
        "  REFER       frame {}  Refer-To {}  {response}",
        frame(r.frame),
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
    if t.notifies.is_empty() {
        let _ = writeln!(out, "  NOTIFY      none");
    } else {
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
                        format!(", answered {status} at {}", frame(f))
                    }
                    _ => String::new(),
                };
                format!("{what} ({}{state}{answer})", frame(n.frame))
            })
            .collect();
        let _ = writeln!(out, "  NOTIFY      {}", list.join(" → "));
    }
    if let Some(n) = &t.new_call {
        let _ = writeln!(
            out,
            "  new call    INVITE frame {}, Call-ID {} (linked by {})",
            frame(n.invite),
            escape_str(&n.call_id),
            n.evidence.join(", ")
        );
    }
    if let Some(note) = &t.note {
        let _ = writeln!(out, "  note        {}", escape_str(note));
    }
    let _ = writeln!(out);

    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .force_no_tty()
        .set_header(vec!["  phase", "start", "end", "frames", "dialog"]);
    // As they happened: by start time, overlaps and all; missing phases last, each on
    // a line of its own after the table, so their reasons do not widen its columns.
    let mut phases: Vec<&crate::transfer::Phase> = t.phases.iter().collect();
    phases.sort_by_key(|p| (p.first.is_none(), p.first, p.kind.number()));
    let label =
        |p: &crate::transfer::Phase| format!("  {} {}", p.kind.number(), escape_str(&p.name));
    let mut missing = Vec::new();
    for p in phases {
        let (Some(f), Some(l)) = (p.first, p.last) else {
            missing.push(p);
            continue;
        };
        let dialog = p.dialog.as_deref().map(short_id).unwrap_or_default();
        table.add_row(vec![
            label(p),
            time(f),
            time(l),
            format!("{}-{}", frame(f), frame(l)),
            dialog,
        ]);
    }
    // The phase column as the table pads it: its widest cell, one space either side.
    let width = t
        .phases
        .iter()
        .filter(|p| p.first.is_some() && p.last.is_some())
        .map(|p| label(p).chars().count())
        .chain(std::iter::once("  phase".len()))
        .max()
        .unwrap_or_default();
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for p in missing {
        let why = p.missing.as_deref().map(escape_str).unwrap_or_default();
        let _ = writeln!(out, " {:<width$}  missing: {why}", label(p));
    }
    let _ = writeln!(out);

    match &t.released {
        Some(rel) => {
            let by = match rel.by {
                Some(RoleName::Transferor) => {
                    format!(" by the transferor ({})", t.transferor.short())
                }
                Some(RoleName::Transferee) => {
                    format!(" by the transferee ({})", t.transferee.short())
                }
                Some(RoleName::Target) => " by the target".to_string(),
                None => String::new(),
            };
            let when = if rel.before_outcome {
                palette.warn("before the outcome was known")
            } else {
                "after the outcome was known".to_string()
            };
            let _ = writeln!(
                out,
                "  released    original call released{} at {} (frame {}), {when}",
                escape_str(&by),
                time(rel.frame),
                frame(rel.frame)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  released    the original call was not released by a BYE in the capture"
            );
        }
    }
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

fn short_id(call_id: &str) -> String {
    let escaped = escape_str(call_id);
    if escaped.chars().count() > 16 {
        let mut s: String = escaped.chars().take(15).collect();
        s.push('…');
        s
    } else {
        escaped.into_owned()
    }
}

/// Renders every transfer, with a line for the calls that are not part of one.
pub fn text(a: &Analysis, palette: Palette, ladder: Option<&super::ladder::Rows>) -> String {
    let mut out = String::new();
    if a.transfers.is_empty() {
        let _ = writeln!(out, "No transfer (no REFER) in the capture.");
    }
    for t in &a.transfers {
        out.push_str(&text_one(a, t, palette));
        if let Some(rows) = ladder {
            let _ = writeln!(out);
            out.push_str(&super::ladder::render(a, t, rows));
        }
        let _ = writeln!(out);
    }
    if !a.findings.is_empty() {
        let _ = writeln!(out, "Findings about the capture");
        for f in &a.findings {
            out.push_str(&finding_line(a.inputs.len(), f, palette));
        }
        let _ = writeln!(out);
    }
    let involved: std::collections::HashSet<&str> = a
        .transfers
        .iter()
        .flat_map(|t| {
            [
                t.original_call.as_ref().map(|d| d.call_id.as_str()),
                t.consultation_call.as_ref().map(|d| d.call_id.as_str()),
                t.new_call.as_ref().map(|n| n.call_id.as_str()),
            ]
        })
        .flatten()
        .collect();
    let others = a
        .dialogs
        .iter()
        .filter(|d| !involved.contains(d.call_id.as_str()))
        .count();
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

/// Streams `analyze --format jsonl`: one JSON object per line, per transfer, written
/// as soon as the transfer can no longer change.
pub struct JsonLines<W: std::io::Write> {
    out: W,
    pub error: Option<std::io::Error>,
}

impl<W: std::io::Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, error: None }
    }
    pub fn finish(self) -> Result<W, std::io::Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

impl<W: std::io::Write> crate::analysis::Observer for JsonLines<W> {
    fn streams_transfers(&self) -> bool {
        true
    }
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        if self.error.is_some() {
            return;
        }
        let line = TransferJson::at(zero_ns, transfer);
        let written = serde_json::to_writer(&mut self.out, &line)
            .map_err(std::io::Error::other)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}
