//! The JSON of `analyze` and `check`: one document ([`json`]), or one line per
//! transfer streamed as each completes ([`JsonLines`]).

use serde::Serialize;

use crate::analysis::{Analysis, InputSummary, Stats};
use crate::capture::FrameRef;
use crate::report::calls::DialogJson;
use crate::report::{Clock, FrameJson, SCHEMA_VERSION, phase};
use crate::rules::Finding;
use crate::sip::Replaces;
use crate::transfer::{DialogId, Kind, Outcome, Phase, Role, RoleName, Transfer};

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
    /// In the user's words ([`phase::name`]).
    pub name: String,
    pub first_file: Option<u32>,
    pub first_frame: Option<u64>,
    pub last_file: Option<u32>,
    pub last_frame: Option<u64>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub dialog: Option<&'a str>,
    pub missing: bool,
    pub reason: Option<String>,
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
            rule: f.rule.code.as_str(),
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
    /// The legs through a B2BUA (PBX, SBC), when the transfer crosses one; absent
    /// otherwise, so the JSON of a transfer between phones is unchanged.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub legs: &'a [crate::transfer::Leg],
}

fn response(clock: Clock, r: Option<(FrameRef, u16)>) -> Option<ResponseJson> {
    r.map(|(f, status)| ResponseJson {
        file: f.file,
        frame: f.number,
        time: clock.json(f),
        status,
    })
}

impl<'a> ReferJson<'a> {
    fn new(clock: Clock, r: &'a crate::transfer::Refer) -> ReferJson<'a> {
        ReferJson {
            file: r.frame.file,
            frame: r.frame.number,
            time: clock.json(r.frame),
            call_id: &r.call_id,
            cseq: r.cseq,
            refer_to: &r.refer_to,
            refer_to_count: r.refer_to_count,
            referred_by: r.referred_by.as_deref(),
            replaces: r.replaces.as_ref(),
            response: response(clock, r.response),
            hops: r.hops,
            retransmissions: r.retransmissions,
            refer_sub_requested: r.refer_sub_requested,
            refer_sub_granted: r.refer_sub_granted,
            out_of_dialog: r.out_of_dialog,
        }
    }
}

impl<'a> NotifyJson<'a> {
    fn new(clock: Clock, n: &'a crate::transfer::Notify) -> NotifyJson<'a> {
        NotifyJson {
            file: n.frame.file,
            frame: n.frame.number,
            time: clock.json(n.frame),
            cseq: n.cseq,
            status: n.status,
            sipfrag: n.sipfrag.as_deref(),
            subscription_state: n.subscription_state.as_deref(),
            reason: n.reason.as_deref(),
            event_id: n.event_id.as_deref(),
            response: response(clock, n.response),
            retransmissions: n.retransmissions,
        }
    }
}

impl<'a> PhaseJson<'a> {
    fn new(clock: Clock, p: &'a Phase) -> PhaseJson<'a> {
        PhaseJson {
            number: p.kind.number(),
            kind: p.kind,
            name: phase::name(p),
            first_file: p.first.map(|f| f.file),
            first_frame: p.first.map(|f| f.number),
            last_file: p.last.map(|f| f.file),
            last_frame: p.last.map(|f| f.number),
            start: p.first.map(|f| clock.json(f)),
            end: p.last.map(|f| clock.json(f)),
            dialog: p.dialog.as_deref(),
            missing: p.missing.is_some(),
            reason: phase::why_missing(p),
        }
    }
}

impl<'a> TransferJson<'a> {
    pub fn new(a: &Analysis, t: &'a Transfer) -> TransferJson<'a> {
        TransferJson::at(Clock::of(a).zero_ns, t)
    }

    /// The JSON of a transfer, with times from `zero_ns` (the first frame).
    pub fn at(zero_ns: i64, t: &'a Transfer) -> TransferJson<'a> {
        let clock = Clock::from_zero(zero_ns);
        TransferJson {
            id: t.id,
            kind: t.kind,
            outcome: t.outcome,
            status: t.status,
            transferor: RoleJson::new(&t.transferor),
            transferee: RoleJson::new(&t.transferee),
            target: RoleJson::new(&t.target),
            refer: ReferJson::new(clock, &t.refer),
            notifies: t
                .notifies
                .iter()
                .map(|n| NotifyJson::new(clock, n))
                .collect(),
            original_call: t.original_call.as_ref(),
            consultation_call: t.consultation_call.as_ref(),
            new_call: t.new_call.as_ref().map(|n| NewCallJson {
                call_id: &n.call_id,
                invite_file: n.invite.file,
                invite_frame: n.invite.number,
                evidence: &n.evidence,
            }),
            phases: t.phases.iter().map(|p| PhaseJson::new(clock, p)).collect(),
            released: t.released.as_ref().map(|r| ReleaseJson {
                by: r.by,
                file: r.frame.file,
                frame: r.frame.number,
                time: clock.json(r.frame),
                before_outcome: r.before_outcome,
            }),
            outcome_frame: t.outcome_frame.map(|f| FrameJson::at(clock, f)),
            note: t.note.as_deref(),
            retry_of: t.retry_of,
            follows: t.follows,
            findings: t.findings.iter().map(FindingJson::new).collect(),
            legs: &t.legs,
        }
    }
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
    /// REFERs seen that could not be linked into a transfer (no Call-ID, no CSeq),
    /// with why; written only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unlinked_refers: Vec<crate::report::refers::UnlinkedJson<'a>>,
}

pub fn json(a: &Analysis) -> AnalyzeJson<'_> {
    json_with(a, &[])
}

/// The document of `analyze`, with the REFERs that could not be linked.
pub fn json_with<'a>(
    a: &'a Analysis,
    unlinked: &'a [crate::report::refers::Unlinked],
) -> AnalyzeJson<'a> {
    let clock = Clock::of(a);
    AnalyzeJson {
        unlinked_refers: unlinked
            .iter()
            .map(|u| crate::report::refers::UnlinkedJson {
                file: u.frame.file,
                frame: u.frame.number,
                time: clock.json(u.frame),
                reason: &u.reason,
            })
            .collect(),
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
