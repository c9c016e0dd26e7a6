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
//!
//! A phase holds what happened as data — who called whom by their short names, the
//! statuses seen ([`PhaseName`]), why it is missing ([`MissingReason`]); the report
//! puts that into words.

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
/// The model holds what the phase was as data ([`PhaseName`], [`MissingReason`]);
/// the report puts it into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub kind: PhaseKind,
    /// What happened, with the parties' short names (`Role::short`).
    pub name: PhaseName,
    pub first: Option<FrameRef>,
    pub last: Option<FrameRef>,
    /// Call-ID of the dialog the phase happened in.
    pub dialog: Option<String>,
    /// Why the phase is not in the capture, when it is not.
    pub missing: Option<MissingReason>,
}

/// What a phase was, as data. Which dialog it is about (original, new, consultation)
/// comes from the phase's [`PhaseKind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhaseName {
    /// `caller` calls `callee` (phases 1, 3 and 7), by their short names;
    /// `invite_seen` is false when the dialog's INVITE is not in the capture.
    Call {
        caller: String,
        callee: String,
        invite_seen: bool,
    },
    /// The REFER and the status that answered it, if any, after a hold when the
    /// transferor put the call on hold right before (phase 2).
    TransferRequest { hold: bool, response: Option<u16> },
    /// The sipfrag status of each NOTIFY, in order; `None` for a NOTIFY without one
    /// (phase 4).
    Progress { statuses: Vec<Option<u16>> },
    /// The dialog was released by a BYE, sent by the party named (phases 5, 6, 8).
    Released { by: Option<String> },
    /// The dialog ended with a final response to its INVITE (an error status), or
    /// without one known.
    EndedByFinal { status: Option<u16> },
    /// The dialog ended with an error response to a request inside it.
    EndedByError,
    /// Nothing beyond the phase's kind: a phase that is missing.
    Unseen,
}

/// Why a phase is not in the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingReason {
    /// The REFER is outside a dialog and no Target-Dialog names a captured one.
    ReferOutsideDialog,
    /// The dialog the REFER travels in is not in the capture.
    ReferDialogNotCaptured,
    /// The REFER was rejected, so no new call was placed.
    ReferRejected,
    /// No INVITE from the transferee to the target is in the capture.
    NoNewCallInvite,
    /// The REFER was rejected, so no subscription (no NOTIFY) exists.
    NoSubscription,
    /// `Refer-Sub: false` was agreed (RFC 4488): no NOTIFYs.
    NoReferSub,
    /// No NOTIFY of the REFER's subscription is in the capture.
    NoNotify,
    /// No NOTIFY, nor any in-dialog request of the transferee (not even its ACK): the
    /// capture may not see the path they take.
    NoNotifyNorTransfereeRequest,
    /// The dialog is still up at the end of the capture.
    StillUp,
    /// The dialog was still up when the transfer was reported, before the end of the
    /// capture: more transfers were pending than the cap (`--max-pending`).
    UpWhenReported,
    /// The original call is not in the capture.
    NoOriginalCall,
    /// There is no new call in the capture.
    NoNewCall,
    /// The dialog the Replaces names is not in the capture.
    ReplacedDialogNotCaptured,
    /// The dialog never reached the confirmed state (its INVITE got this final error,
    /// or none), so there was no call to release.
    NeverEstablished { status: Option<u16> },
}

impl Phase {
    fn seen(kind: PhaseKind, name: PhaseName, first: FrameRef, last: FrameRef, d: &str) -> Phase {
        Phase {
            kind,
            name,
            first: Some(first),
            // By time: copies may be stored out of time order (several interfaces).
            last: Some(if (last.ts_ns, last.seq) < (first.ts_ns, first.seq) {
                first
            } else {
                last
            }),
            dialog: Some(d.to_string()),
            missing: None,
        }
    }
    fn missing(kind: PhaseKind, name: PhaseName, why: MissingReason) -> Phase {
        Phase {
            kind,
            name,
            first: None,
            last: None,
            dialog: None,
            missing: Some(why),
        }
    }
    /// A missing phase named by its kind alone.
    fn unseen(kind: PhaseKind, why: MissingReason) -> Phase {
        Phase::missing(kind, PhaseName::Unseen, why)
    }
}

/// Whether `a` came before `b` in capture time (frame order breaks ties): a capture
/// with several interfaces may store frames out of time order.
fn earlier(a: FrameRef, b: FrameRef) -> bool {
    (a.ts_ns, a.seq) < (b.ts_ns, b.seq)
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

/// The call phase of a dialog: its first INVITE (a challenged one included) … the ACK
/// of the INVITE that was answered, or … the final response.
/// `caller` and `callee` are the short names the phase gives the two parties.
fn call_phase(kind: PhaseKind, caller: String, callee: String, d: &Dialog) -> Phase {
    let first = if d.invite_seen { d.invite } else { d.first };
    // The tracker forgets the ACK of a 401/407 challenge when the INVITE is retried
    // (RFC 3261 §22.2), so `ack` is the answered INVITE's.
    let last = d.ack.or(d.answered).or(d.ended).unwrap_or(first);
    let name = PhaseName::Call {
        caller,
        callee,
        invite_seen: d.invite_seen,
    };
    Phase::seen(kind, name, first, last, &d.call_id)
}

/// The release phase of a dialog: the BYE … its response. A dialog that was never
/// established (its INVITE failed) has no release: the phase is missing, with the
/// status — except the consultation's (phase 8), whose meaning is whatever ended the
/// replaced dialog, an early one's final response included (semi-attended transfers).
/// `still_up` says why a call not over has no release: up at the end of the capture,
/// or when the transfer was reported before it (the linker's cap).
fn release_phase(kind: PhaseKind, t: &Transfer, d: &Dialog, still_up: MissingReason) -> Phase {
    if kind != PhaseKind::ConsultationReleased
        && d.answered.is_none()
        && d.answer != crate::dialog::Answer::BeforeCapture
        && d.ending == Some(Ending::Final)
    {
        let why = MissingReason::NeverEstablished { status: d.status };
        return Phase::unseen(kind, why);
    }
    match (d.ending, d.ended) {
        (Some(Ending::Bye), Some(bye)) => {
            let by = d.ended_by.map(|side| match side {
                Side::Caller => who(t, &d.caller),
                Side::Callee => who(t, &d.callee),
            });
            let last = end_response(d).unwrap_or(bye);
            Phase::seen(kind, PhaseName::Released { by }, bye, last, &d.call_id)
        }
        (Some(Ending::Final), Some(end)) => {
            let name = PhaseName::EndedByFinal { status: d.status };
            Phase::seen(kind, name, end, d.ack.unwrap_or(end), &d.call_id)
        }
        (Some(Ending::Error), Some(end)) => {
            Phase::seen(kind, PhaseName::EndedByError, end, end, &d.call_id)
        }
        _ => Phase::unseen(kind, still_up),
    }
}

/// Phase 1: the original call.
fn original_call(t: &Transfer, original: Option<&Dialog>) -> Phase {
    match original {
        Some(o) => {
            let (caller, callee) = (who(t, &o.caller), who(t, &o.callee));
            call_phase(PhaseKind::OriginalCall, caller, callee, o)
        }
        None if t.refer.out_of_dialog => {
            Phase::unseen(PhaseKind::OriginalCall, MissingReason::ReferOutsideDialog)
        }
        None => Phase::unseen(
            PhaseKind::OriginalCall,
            MissingReason::ReferDialogNotCaptured,
        ),
    }
}

/// Phase 2: a hold right before the REFER, then REFER … response.
fn transfer_request(
    t: &Transfer,
    r: &ReferRecord,
    original: Option<&Dialog>,
    consultation: Option<&Dialog>,
) -> Phase {
    let refer = &t.refer;
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
            .find(|m| earlier(m.frame, refer.frame) && m.by == transferor_side)?;
        // A hold before the consultation call belongs to the consultation, not here.
        let before_consultation = consultation.is_some_and(|c| earlier(last.frame, c.invite));
        (last.direction != Direction::SendRecv && !before_consultation).then_some(last.frame)
    });
    let name = PhaseName::TransferRequest {
        hold: hold.is_some(),
        response: refer.response.map(|(_, status)| status),
    };
    let first = hold.unwrap_or(refer.frame);
    let last = refer.response.map_or(refer.frame, |(f, _)| f);
    Phase::seen(
        PhaseKind::TransferRequest,
        name,
        first,
        last,
        &refer.call_id,
    )
}

/// Phase 3: the transferee calls the target.
fn new_call_phase(t: &Transfer, new_call: Option<&Dialog>) -> Phase {
    // The transferee and the target by their roles, whatever the dialog's parties
    // are called.
    let (caller, callee) = (t.transferee.short(), t.target.short());
    match (new_call, &t.new_call) {
        (Some(d), Some(n)) => {
            let mut phase = call_phase(PhaseKind::NewCall, caller, callee, d);
            phase.first = Some(n.invite);
            phase
        }
        _ => {
            let name = PhaseName::Call {
                caller,
                callee,
                invite_seen: true,
            };
            let why = if t.outcome == super::Outcome::Rejected {
                MissingReason::ReferRejected
            } else {
                MissingReason::NoNewCallInvite
            };
            Phase::missing(PhaseKind::NewCall, name, why)
        }
    }
}

/// Phase 4: progress reported by NOTIFY.
fn progress(t: &Transfer, transferee_requests_seen: bool) -> Phase {
    let refer = &t.refer;
    match (t.notifies.first(), t.notifies.last()) {
        (Some(first), Some(last)) => {
            let statuses = t.notifies.iter().map(|n| n.status).collect();
            let end = last.response.map_or(last.frame, |(f, _)| f);
            let name = PhaseName::Progress { statuses };
            Phase::seen(PhaseKind::Progress, name, first.frame, end, &refer.call_id)
        }
        _ => {
            let why = if t.outcome == super::Outcome::Rejected {
                MissingReason::NoSubscription
            } else if refer.refer_sub_granted == Some(false) {
                MissingReason::NoReferSub
            } else if transferee_requests_seen {
                MissingReason::NoNotify
            } else {
                MissingReason::NoNotifyNorTransfereeRequest
            };
            Phase::unseen(PhaseKind::Progress, why)
        }
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
    still_up: MissingReason,
) -> Vec<Phase> {
    let mut phases = vec![
        original_call(t, original),
        transfer_request(t, r, original, consultation),
        new_call_phase(t, new_call),
        progress(t, transferee_requests_seen),
    ];
    // 5. and 6. Releases.
    phases.push(match original {
        Some(o) => release_phase(PhaseKind::OriginalReleased, t, o, still_up),
        None => Phase::unseen(PhaseKind::OriginalReleased, MissingReason::NoOriginalCall),
    });
    phases.push(match new_call {
        Some(d) => release_phase(PhaseKind::NewReleased, t, d, still_up),
        None => Phase::unseen(PhaseKind::NewReleased, MissingReason::NoNewCall),
    });
    // 7. and 8. The consultation call of an attended transfer.
    if t.refer.replaces.is_some() {
        match consultation {
            Some(c) => {
                let (caller, callee) = (who(t, &c.caller), who(t, &c.callee));
                phases.push(call_phase(PhaseKind::ConsultationCall, caller, callee, c));
                phases.push(release_phase(
                    PhaseKind::ConsultationReleased,
                    t,
                    c,
                    still_up,
                ));
            }
            None => {
                let why = MissingReason::ReplacedDialogNotCaptured;
                phases.push(Phase::unseen(PhaseKind::ConsultationCall, why));
                phases.push(Phase::unseen(PhaseKind::ConsultationReleased, why));
            }
        }
    }
    phases
}
