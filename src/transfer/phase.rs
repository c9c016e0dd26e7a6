//! The phased flow of a transfer (DESIGN.md, "The phases"; RFC 5589 §6–§7 call flows).
//!
//! Numbers are fixed by meaning, so a phase keeps its number whether or not the others
//! happened:
//!
//! 1. original call: the original dialog's INVITE … its ACK (or final response)
//! 2. transfer request: the hold re-INVITE right before, if any, and the REFER … its
//!    final response
//! 3. transferee calls target: the new call's INVITE … ACK (or the final error)
//! 4. progress: the first NOTIFY … the response to the last one
//! 5. original call released: the BYE ending the original dialog … its response
//! 6. new call released: the BYE ending the new dialog … its response
//! 7. consultation call (attended transfers): the consultation dialog's INVITE … ACK
//! 8. consultation released: what ended the replaced consultation dialog … its response
//!
//! Phases overlap in time (3 and 4 always do); they are listed by number and carry
//! their own times.

use serde::Serialize;

use super::record::{Aor, ReferRecord};
use super::{Role, Transfer};
use crate::capture::FrameRef;
use crate::dialog::{Dialog, Ending, Side};
use crate::sip::sdp::Direction;

/// Which phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    OriginalCall,
    TransferRequest,
    NewCall,
    Progress,
    OriginalReleased,
    NewReleased,
    ConsultationCall,
    ConsultationReleased,
}

impl PhaseKind {
    pub fn number(self) -> u8 {
        match self {
            PhaseKind::OriginalCall => 1,
            PhaseKind::TransferRequest => 2,
            PhaseKind::NewCall => 3,
            PhaseKind::Progress => 4,
            PhaseKind::OriginalReleased => 5,
            PhaseKind::NewReleased => 6,
            PhaseKind::ConsultationCall => 7,
            PhaseKind::ConsultationReleased => 8,
        }
    }
}

/// One phase: what happened, when, in which frames and dialog — or why it is missing.
#[derive(Clone, Debug)]
pub struct Phase {
    pub kind: PhaseKind,
    /// In the user's words, with the parties' names ("Kevin calls Wayne").
    pub name: String,
    pub first: Option<FrameRef>,
    pub last: Option<FrameRef>,
    /// Call-ID of the dialog the phase happened in.
    pub dialog: Option<String>,
    /// Why the phase is not in the capture, when it is not.
    pub missing: Option<String>,
}

impl Phase {
    fn seen(kind: PhaseKind, name: String, first: FrameRef, last: FrameRef, d: &str) -> Phase {
        Phase {
            kind,
            name,
            first: Some(first),
            last: Some(last.max(first)),
            dialog: Some(d.to_string()),
            missing: None,
        }
    }
    fn missing(kind: PhaseKind, name: String, why: &str) -> Phase {
        Phase {
            kind,
            name,
            first: None,
            last: None,
            dialog: None,
            missing: Some(why.to_string()),
        }
    }
}

/// Which of the transfer's roles a dialog party is, by URI user and host; its own
/// name when it is none of them.
fn who(t: &Transfer, party: &crate::dialog::Party) -> String {
    let clean = |u: &str| Aor::parse(u.trim_start_matches('<').trim_end_matches('>'));
    let aor = clean(&party.uri);
    for role in [&t.transferor, &t.transferee, &t.target] {
        if aor.is_some() && clean(&role.uri) == aor {
            return role.short();
        }
    }
    Role {
        name: party.name.clone(),
        uri: party.uri.clone(),
        address: None,
    }
    .short()
}

/// The frame of the response to the BYE (or other request) that ended a dialog.
fn end_response(d: &Dialog) -> Option<FrameRef> {
    let ended = d.ended?;
    d.requests
        .iter()
        .find(|r| r.frame == ended)
        .and_then(|r| r.response.map(|(f, _)| f))
}

/// The call phase of a dialog: INVITE … ACK, or … final response.
fn call_phase(kind: PhaseKind, name: String, d: &Dialog) -> Phase {
    let first = if d.invite_seen { d.invite } else { d.first };
    let last = d.ack.or(d.answered).or(d.ended).unwrap_or(first);
    let name = if d.invite_seen {
        name
    } else {
        format!("{name} (INVITE not captured)")
    };
    Phase::seen(kind, name, first, last, &d.call_id)
}

/// The release phase of a dialog: the BYE … its response.
fn release_phase(kind: PhaseKind, what: &str, t: &Transfer, d: &Dialog) -> Phase {
    let by = |side: Option<Side>| match side {
        Some(Side::Caller) => format!(" by {}", who(t, &d.caller)),
        Some(Side::Callee) => format!(" by {}", who(t, &d.callee)),
        None => String::new(),
    };
    match (d.ending, d.ended) {
        (Some(Ending::Bye), Some(bye)) => Phase::seen(
            kind,
            format!("{what} released{}", by(d.ended_by)),
            bye,
            end_response(d).unwrap_or(bye),
            &d.call_id,
        ),
        (Some(Ending::Final), Some(end)) => Phase::seen(
            kind,
            format!(
                "{what} ended by {}",
                d.status.map_or("an error".to_string(), |s| s.to_string())
            ),
            end,
            d.ack.unwrap_or(end),
            &d.call_id,
        ),
        (Some(Ending::Error), Some(end)) => Phase::seen(
            kind,
            format!("{what} ended by an error response"),
            end,
            end,
            &d.call_id,
        ),
        _ => Phase::missing(
            kind,
            format!("{what} released"),
            "still up at the end of the capture",
        ),
    }
}

/// Computes the phases of a transfer.
pub(super) fn phases(
    t: &Transfer,
    r: &ReferRecord,
    original: Option<&Dialog>,
    consultation: Option<&Dialog>,
    new_call: Option<&Dialog>,
    transferee_requests_seen: bool,
) -> Vec<Phase> {
    let mut phases = Vec::new();
    let refer = &t.refer;

    // 1. The original call.
    match original {
        Some(o) => {
            let name = format!(
                "original call: {} calls {}",
                who(t, &o.caller),
                who(t, &o.callee)
            );
            phases.push(call_phase(PhaseKind::OriginalCall, name, o));
        }
        None => phases.push(Phase::missing(
            PhaseKind::OriginalCall,
            "original call".to_string(),
            if refer.out_of_dialog {
                "the REFER is outside a dialog and no Target-Dialog names one in the capture"
            } else {
                "the REFER's dialog is not in the capture"
            },
        )),
    }

    // 2. The transfer request: a hold right before the REFER, then REFER … response.
    let hold = original.and_then(|o| {
        let transferor_side = if o.from_tag == r.request.from_tag {
            Side::Caller
        } else {
            Side::Callee
        };
        let last = o
            .media
            .iter()
            .rev()
            .find(|m| m.frame < refer.frame && m.by == transferor_side)?;
        // A hold before the consultation call belongs to the consultation, not here.
        let before_consultation = consultation.is_some_and(|c| last.frame < c.invite);
        (last.direction != Direction::SendRecv && !before_consultation).then_some(last.frame)
    });
    let response = match refer.response {
        Some((_, status)) => status.to_string(),
        None => "no response".to_string(),
    };
    let first = hold.unwrap_or(refer.frame);
    let last = refer.response.map_or(refer.frame, |(f, _)| f);
    let name = format!(
        "transfer request: {}REFER → {response}",
        if hold.is_some() { "hold, " } else { "" }
    );
    phases.push(Phase::seen(
        PhaseKind::TransferRequest,
        name,
        first,
        last,
        &refer.call_id,
    ));

    // 3. The transferee calls the target.
    let calls = format!("{} calls {}", t.transferee.short(), t.target.short());
    match (new_call, &t.new_call) {
        (Some(d), Some(n)) => {
            let mut phase = call_phase(PhaseKind::NewCall, calls, d);
            phase.first = Some(n.invite);
            phases.push(phase);
        }
        _ => phases.push(Phase::missing(
            PhaseKind::NewCall,
            calls,
            if t.outcome == super::Outcome::Rejected {
                "the REFER was rejected"
            } else {
                "no INVITE from the transferee to the target is in the capture"
            },
        )),
    }

    // 4. Progress reported by NOTIFY.
    match (t.notifies.first(), t.notifies.last()) {
        (Some(first), Some(last)) => {
            let statuses: Vec<String> = t
                .notifies
                .iter()
                .map(|n| n.status.map_or("?".to_string(), |s| s.to_string()))
                .collect();
            let end = last.response.map_or(last.frame, |(f, _)| f);
            phases.push(Phase::seen(
                PhaseKind::Progress,
                format!("progress {}", statuses.join(" → ")),
                first.frame,
                end,
                &refer.call_id,
            ));
        }
        _ => {
            let why = if t.outcome == super::Outcome::Rejected {
                "the REFER was rejected: no subscription"
            } else if refer.refer_sub_granted == Some(false) {
                "Refer-Sub: false was agreed: no NOTIFYs (RFC 4488)"
            } else if transferee_requests_seen {
                "no NOTIFY of the REFER's subscription is in the capture"
            } else {
                "no NOTIFY of the REFER's subscription is in the capture, nor any in-dialog request of the transferee (not even its ACK): the capture may not see the path they take"
            };
            phases.push(Phase::missing(
                PhaseKind::Progress,
                "progress".to_string(),
                why,
            ));
        }
    }

    // 5. and 6. Releases.
    match original {
        Some(o) => phases.push(release_phase(
            PhaseKind::OriginalReleased,
            "original call",
            t,
            o,
        )),
        None => phases.push(Phase::missing(
            PhaseKind::OriginalReleased,
            "original call released".to_string(),
            "the original call is not in the capture",
        )),
    }
    match new_call {
        Some(d) => phases.push(release_phase(PhaseKind::NewReleased, "new call", t, d)),
        None => phases.push(Phase::missing(
            PhaseKind::NewReleased,
            "new call released".to_string(),
            "there is no new call in the capture",
        )),
    }

    // 7. and 8. The consultation call of an attended transfer.
    if refer.replaces.is_some() {
        match consultation {
            Some(c) => {
                let name = format!(
                    "consultation: {} calls {}",
                    who(t, &c.caller),
                    who(t, &c.callee)
                );
                phases.push(call_phase(PhaseKind::ConsultationCall, name, c));
                phases.push(release_phase(
                    PhaseKind::ConsultationReleased,
                    "consultation call",
                    t,
                    c,
                ));
            }
            None => {
                let why = "the dialog named by Replaces is not in the capture";
                phases.push(Phase::missing(
                    PhaseKind::ConsultationCall,
                    "consultation call".to_string(),
                    why,
                ));
                phases.push(Phase::missing(
                    PhaseKind::ConsultationReleased,
                    "consultation call released".to_string(),
                    why,
                ));
            }
        }
    }
    phases
}
