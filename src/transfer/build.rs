//! One transfer session built from its REFER group, once every dialog it links is
//! over: the original call, the NOTIFYs, the new call, the kind, the target's address,
//! the outcome and the release. Each link is a function of its own; every lookup goes
//! through an index ([`FinishedDialogs`], [`Collector`]).

use super::TransferFacts;
use super::dialogs::{FinishedDialogs, party_aor};
use super::link::Resolution;
use super::model::{
    DialogId, Kind, NewCall, Notify, Outcome, Refer, Release, Role, RoleName, Transfer,
    refers_to_a_call,
};
use super::phase;
use super::record::{self, Aor, Clue, Collector, InviteRecord, NotifyRecord, ReferRecord};
use crate::capture::FrameRef;
use crate::dialog::{Answer, Dialog, Ending, Side};
use crate::sip::Replaces;

/// Whether `d` is the dialog with this Call-ID and these two tags, in either order.
fn same_dialog(d: &Dialog, call_id: &str, tag_a: &str, tag_b: Option<&str>) -> bool {
    if d.call_id != call_id {
        return false;
    }
    let to = d.to_tag.as_deref();
    match tag_b {
        Some(b) => (d.from_tag == tag_a && to == Some(b)) || (d.from_tag == b && to == Some(tag_a)),
        None => d.from_tag == tag_a || to == Some(tag_a),
    }
}

/// The dialog a Replaces names (RFC 3891 §3): Call-ID and both tags; when the tags are
/// missing (a broken Replaces), the Call-ID alone, if it names one dialog.
pub(super) fn replaced_dialog<'d>(
    dialogs: &'d FinishedDialogs,
    r: &Replaces,
) -> Option<&'d Dialog> {
    let call_id = r.call_id.as_deref()?;
    let by_tags = dialogs.with_call_id(call_id).find(|d| {
        let (Some(to), Some(from)) = (r.to_tag.as_deref(), r.from_tag.as_deref()) else {
            return false;
        };
        same_dialog(d, call_id, to, Some(from))
    });
    by_tags.or_else(|| {
        let mut same_call = dialogs.with_call_id(call_id);
        let first = same_call.next()?;
        same_call.next().is_none().then_some(first)
    })
}

/// The transferee as the REFER names it: the To party, at the receiver's address on
/// the last leg (the phone behind any proxy or B2BUA).
pub(super) fn transferee(r: &ReferRecord, last_leg: &ReferRecord) -> Role {
    Role {
        name: r.request.to.name.clone(),
        uri: r.request.to.uri.clone(),
        address: last_leg.request.receiver(),
    }
}

/// What every transfer is built from.
pub(super) struct Sources<'a> {
    pub collector: &'a Collector,
    pub dialogs: &'a FinishedDialogs,
    /// Built while a call of it was still up, from a copy of it (the linker's cap).
    pub built_early: bool,
    /// The linker's cap, for the note of a transfer it decided early.
    pub max_pending: usize,
}

/// Builds the transfer of a resolved REFER group and hands it, with the facts the
/// checks need, to `emit`.
pub(super) fn build(
    resolution: &Resolution,
    sources: &Sources<'_>,
    emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
) {
    let Sources {
        collector,
        dialogs,
        built_early,
        max_pending,
    } = *sources;
    let group: Vec<&ReferRecord> = resolution
        .refers
        .iter()
        .filter_map(|&s| collector.refer(s))
        .collect();
    let Some(&r) = group.first() else {
        return;
    };
    let last_leg = group.last().copied().unwrap_or(r);
    let req = &r.request;
    let refer_frame = req.first_frame();
    // Of the legs' Refer-To values, the one whose Replaces names a dialog in the
    // capture speaks for the transfer (a B2BUA may rewrite it on its other leg).
    let target = group
        .iter()
        .filter_map(|g| g.targets.first())
        .find(|t| {
            t.replaces
                .as_ref()
                .is_some_and(|rp| replaced_dialog(dialogs, rp).is_some())
        })
        .or(r.targets.first());
    // A Refer-To that names no call (cid:, http:, ...): not a transfer at all.
    let not_a_transfer = target.is_some_and(|t| !refers_to_a_call(&t.uri));
    let replaces = target
        .filter(|_| !not_a_transfer)
        .and_then(|t| t.replaces.clone());
    let final_response = final_response(&group);
    let granted = final_response.and_then(|f| f.refer_sub);

    let original = original_dialog(r, dialogs);
    let transferor = Role {
        name: req.from.name.clone(),
        uri: req.from.uri.clone(),
        address: req.sender(),
    };
    let transferee = transferee(r, last_leg);

    let notify_records: Vec<&NotifyRecord> = r.notifies.iter().collect();
    let mut notifies: Vec<Notify> = notify_records.iter().map(|n| Notify::of(n)).collect();
    if not_a_transfer {
        // Their bodies report on whatever the REFER asked for (a multipart body, say),
        // not on a call: no sipfrag status to read.
        for n in &mut notifies {
            n.status = None;
            n.sipfrag = None;
        }
    }

    // No call is placed for a REFER that is not a transfer: a call linked by timing
    // alone is someone else's.
    let trigger = resolution.new_call.as_ref().filter(|_| !not_a_transfer);
    let new_dialog = trigger.and_then(|n| dialog_of_invite(dialogs, &n.invite));

    // The consultation call (attended transfers) and the kind.
    let consultation = replaces
        .as_ref()
        .and_then(|rp| replaced_dialog(dialogs, rp));
    let (kind, note) = if not_a_transfer {
        let scheme = target
            .and_then(|t| t.uri.trim_start_matches('<').split_once(':'))
            .map_or("", |(scheme, _)| scheme);
        let note = format!(
            "Refer-To is a {scheme}: URI, not sip:, sips: or tel:: this REFER asks for something other than a call (RFC 3515 §2.1; e.g. Cisco remote call control with content indirection, RFC 2392), so it is not a call transfer"
        );
        (Kind::NotTransfer, Some(note))
    } else {
        kind_of(replaces.as_ref(), consultation, dialogs, req, target)
    };
    let note = early_note(note, resolution.resolved_early, built_early, max_pending);

    // The target: named by the Refer-To; its address from the new call's last hop.
    let target_role = Role {
        name: target.and_then(|t| t.name.clone()),
        uri: target.map(|t| strip_headers(&t.uri)).unwrap_or_default(),
        address: trigger.and_then(|n| n.target),
    };

    let (outcome, status, outcome_frame) = match final_response {
        // What the REFER asked for is not a call: only its refusal is an outcome.
        Some(f) if not_a_transfer && f.status >= 300 => {
            (Outcome::Rejected, Some(f.status), Some(f.frame))
        }
        _ if not_a_transfer => (Outcome::Unknown, None, None),
        _ => outcome_of(final_response, new_dialog, &notifies),
    };
    let released = original
        .filter(|_| !not_a_transfer)
        .and_then(|o| release_of(o, req, outcome_frame));

    let refer = Refer {
        frame: refer_frame,
        call_id: req.call_id.clone(),
        cseq: req.cseq,
        refer_to: target.map(|t| t.raw.clone()).unwrap_or_default(),
        refer_to_count: r.targets.len(),
        referred_by: r.referred_by.as_ref().map(|p| p.uri.clone()),
        replaces,
        response: final_response.map(|f| (f.frame, f.status)),
        hops: group.iter().map(|g| g.request.sightings.len()).sum(),
        retransmissions: group.iter().map(|g| g.request.retransmissions).sum(),
        refer_sub_requested: r.refer_sub,
        refer_sub_granted: granted,
        out_of_dialog: req.to_tag.is_none(),
    };
    let mut transfer = Transfer {
        id: resolution.id,
        kind,
        outcome,
        status,
        transferor,
        transferee,
        target: target_role,
        refer,
        notifies,
        original_call: original.map(DialogId::of),
        consultation_call: consultation.map(DialogId::of),
        new_call: trigger.map(|n| NewCall {
            call_id: n.invite.request.call_id.clone(),
            invite: n.invite.request.first_frame(),
            evidence: n.evidence.clone(),
        }),
        phases: Vec::new(),
        released,
        note,
        findings: Vec::new(),
        outcome_frame,
        retry_of: resolution.retry_of,
        follows: original.and(resolution.follows),
        legs: Vec::new(),
    };
    let transferee_sends_seen = transferee_requests_seen(req, original, new_dialog);
    transfer.phases = phase::phases(
        &transfer,
        r,
        original,
        consultation,
        new_dialog,
        transferee_sends_seen,
        if built_early {
            // Its calls were copied as they stood, not seen to the end.
            phase::MissingReason::UpWhenReported
        } else {
            phase::MissingReason::StillUp
        },
    );
    if not_a_transfer {
        // Only the REFER and its NOTIFYs happened; the call phases mean nothing here.
        transfer.phases.retain(|p| {
            matches!(
                p.kind,
                phase::PhaseKind::TransferRequest | phase::PhaseKind::Progress
            )
        });
    }
    let facts = TransferFacts {
        transferee_requests_seen: transferee_sends_seen,
        refers: &group,
        notifies: &notify_records,
        invite: trigger.map(|n| &n.invite),
        original,
        consultation,
        new_call: new_dialog,
        earlier_refer_in_dialog: resolution.earlier_refer_in_dialog,
        replaces_match: super::facts::replaces_match(trigger.map(|n| &n.invite), r, dialogs),
        call_with_target: super::facts::call_with_target(r, original, dialogs),
        dialog_of_tagless_refer: super::facts::dialog_of_tagless_refer(r, dialogs),
    };
    emit(transfer, &facts);
}

/// The earliest final response to any leg of the REFER.
/// `note`, with what the linker's cap (`max_pending`) made of the transfer, if
/// anything.
fn early_note(
    note: Option<String>,
    resolved_early: bool,
    built_early: bool,
    max_pending: usize,
) -> Option<String> {
    let mut notes: Vec<String> = note.into_iter().collect();
    if resolved_early {
        notes.push(format!(
            "linked before its new call could be looked for in full: more than {max_pending} REFERs waited to be linked at once (raise --max-pending), so a later INVITE was not looked at"
        ));
    }
    if built_early {
        notes.push(format!(
            "reported while a call of it was still up: more than {max_pending} transfers waited for their calls to end (raise --max-pending), so what happened in that call afterwards is not in this report"
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

pub(super) fn final_response<'r>(group: &[&'r ReferRecord]) -> Option<&'r record::Response> {
    group
        .iter()
        .filter_map(|g| g.request.final_response())
        .min_by_key(|f| (f.frame.ts_ns, f.frame.seq))
}

/// The original call: the REFER's dialog, or the one its Target-Dialog names
/// (RFC 4538) when the REFER travels outside any dialog.
fn original_dialog<'d>(r: &ReferRecord, dialogs: &'d FinishedDialogs) -> Option<&'d Dialog> {
    let req = &r.request;
    match &req.to_tag {
        Some(to) => dialogs
            .with_call_id(&req.call_id)
            .find(|d| same_dialog(d, &req.call_id, &req.from_tag, Some(to))),
        None => r
            .target_dialog
            .as_ref()
            .and_then(|(call_id, local, remote)| {
                dialogs.with_call_id(call_id).find(|d| {
                    same_dialog(
                        d,
                        call_id,
                        local.as_deref().unwrap_or_default(),
                        remote.as_deref(),
                    )
                })
            }),
    }
}

/// The Call-ID of the original call: the REFER's own, or its Target-Dialog's.
pub(super) fn original_call_id(r: &ReferRecord) -> &str {
    match (&r.request.to_tag, &r.target_dialog) {
        (None, Some((call_id, _, _))) => call_id,
        _ => &r.request.call_id,
    }
}

impl Notify {
    fn of(n: &NotifyRecord) -> Notify {
        let state = n.subscription_state.as_ref();
        Notify {
            frame: n.request.first_frame(),
            cseq: n.request.cseq,
            status: n.sipfrag_status,
            sipfrag: n.sipfrag_line.clone(),
            subscription_state: state.map(|s| s.state.clone()),
            reason: state.and_then(|s| s.reason.clone()),
            event_id: n.event.as_ref().and_then(|(_, id)| id.clone()),
            response: n.request.final_response().map(|f| (f.frame, f.status)),
            retransmissions: n.request.retransmissions,
        }
    }
}

/// The dialog an initial INVITE created: the answered one when it forked.
fn dialog_of_invite<'d>(dialogs: &'d FinishedDialogs, invite: &InviteRecord) -> Option<&'d Dialog> {
    let mut matching = dialogs
        .with_call_id(&invite.request.call_id)
        .filter(|d| d.from_tag == invite.request.from_tag);
    let first = matching.next();
    let answered = std::iter::once(first)
        .flatten()
        .chain(matching)
        .find(|d| d.answer == Answer::Answered);
    answered.or(first)
}

/// The kind of a transfer, and for a Replaces naming a dialog the capture lacks, what
/// that most likely means.
fn kind_of(
    replaces: Option<&Replaces>,
    consultation: Option<&Dialog>,
    dialogs: &FinishedDialogs,
    req: &record::Request,
    target: Option<&record::ReferTarget>,
) -> (Kind, Option<String>) {
    let refer_frame = req.first_frame();
    match (replaces, consultation) {
        (None, _) => (Kind::Blind, None),
        (Some(_), Some(c)) => match c.answered {
            // By time (copies may be stored out of time order).
            Some(answered)
                if (answered.ts_ns, answered.seq) < (refer_frame.ts_ns, refer_frame.seq) =>
            {
                (Kind::Attended, None)
            }
            _ => (Kind::SemiAttended, None),
        },
        (Some(rp), None) => {
            let target_aor = target.and_then(|t| t.aor.clone());
            // A call between the transferor and the target, looked up by the
            // transferor's user and host.
            let leg_between = dialogs.with_party(&party_aor(&req.from.uri)).any(|d| {
                let parties = [&d.caller.uri, &d.callee.uri];
                target_aor
                    .as_ref()
                    .is_some_and(|t| parties.iter().any(|p| Aor::parse(p).as_ref() == Some(t)))
            });
            let call_id = rp.call_id.as_deref().unwrap_or("(none)");
            let note = if leg_between {
                format!(
                    "Replaces names Call-ID {call_id} which is not in the capture, but a call between the transferor and the target is: the capture misses a leg, or a B2BUA changed the Call-ID"
                )
            } else {
                format!(
                    "Replaces names Call-ID {call_id} which is not in the capture, and no call between the transferor and the target is: a remote attended transfer (the consultation dialog lives on another server), or the capture misses that leg"
                )
            };
            (Kind::RemoteAttended, Some(note))
        }
    }
}

/// The target's address: where the new call leg's last INVITE (an authenticated
/// retry after a 401/407 is a new request) goes on its last hop in time — unless that
/// address itself received responses to it: then it is a proxy relaying them (the
/// INVITE's hop beyond it is not in the capture, say only its last IP fragment is),
/// and the target is who sent the earliest response of the dialog that answered: the
/// target's own 180 or 200 (RFC 3261 §8.2.6.2, the UAS sets the To tag).
pub(super) fn target_address(
    collector: &Collector,
    invite: &InviteRecord,
) -> Option<std::net::SocketAddr> {
    let leg = Clue::Leg(
        invite.request.call_id.clone(),
        invite.request.from_tag.clone(),
    );
    let attempts: Vec<&InviteRecord> = collector
        .invites_by(std::slice::from_ref(&leg))
        .into_iter()
        .filter_map(|serial| collector.invite(serial))
        .collect();
    let by_time = |f: &FrameRef| (f.ts_ns, f.seq);
    let last = attempts
        .iter()
        .flat_map(|o| o.request.sightings.iter())
        .max_by_key(|s| by_time(&s.frame))?;
    let hop = last.flow.dst;
    // The responses to the attempt that reached furthest.
    let attempt = attempts
        .iter()
        .find(|o| o.request.sightings.iter().any(|s| s == last))?;
    let responses = &attempt.request.responses;
    if !responses.iter().any(|r| r.flow.dst == hop) {
        return Some(hop);
    }
    // The dialog that answered (the final response's To tag), else any tagged one.
    let tag = attempt
        .request
        .final_response()
        .and_then(|f| f.to_tag.clone())
        .or_else(|| responses.iter().find_map(|r| r.to_tag.clone()));
    responses
        .iter()
        .filter(|r| tag.is_some() && r.to_tag == tag)
        .min_by_key(|r| by_time(&r.frame))
        .map(|r| r.flow.src)
        .or(Some(hop))
}

/// The outcome, the status that decided it, and when it became known: the REFER's
/// rejection, else the new call's answer, else the final sipfrag.
fn outcome_of(
    final_response: Option<&record::Response>,
    new_dialog: Option<&Dialog>,
    notifies: &[Notify],
) -> (Outcome, Option<u16>, Option<FrameRef>) {
    let final_notify = notifies.iter().find(|n| n.status.is_some_and(|s| s >= 200));
    if let Some(f) = final_response.filter(|f| f.status >= 300) {
        return (Outcome::Rejected, Some(f.status), Some(f.frame));
    }
    match (new_dialog, final_notify) {
        (Some(d), _) if matches!(d.answer, Answer::Answered | Answer::BeforeCapture) => {
            (Outcome::Completed, None, d.answered.or(Some(d.first)))
        }
        (Some(d), _) if d.answer == Answer::Rejected => (Outcome::Failed, d.status, d.ended),
        (Some(d), _) if d.answer == Answer::Cancelled => (Outcome::Abandoned, d.status, d.ended),
        (_, Some(n)) => sipfrag_outcome(n),
        _ => (Outcome::Unknown, None, None),
    }
}

/// Who released the original call with a BYE, and whether before the outcome.
fn release_of(
    o: &Dialog,
    req: &record::Request,
    outcome_frame: Option<FrameRef>,
) -> Option<Release> {
    if o.ending != Some(Ending::Bye) {
        return None;
    }
    let frame = o.ended?;
    let by = o.ended_by.map(|side| {
        let (sender_tag, sender) = match side {
            Side::Caller => (o.from_tag.as_str(), &o.caller),
            Side::Callee => (o.to_tag.as_deref().unwrap_or_default(), &o.callee),
        };
        // In the dialog, the REFER's From tag is the transferor's own. A REFER
        // outside the dialog has a tag of its own: then the party's URI tells.
        let in_dialog = req.to_tag.is_some()
            && (o.from_tag == req.from_tag || o.to_tag.as_deref() == Some(req.from_tag.as_str()));
        let is_transferor = if in_dialog {
            sender_tag == req.from_tag
        } else {
            let aor = party_aor(&sender.uri);
            aor.is_some() && aor == party_aor(&req.from.uri)
        };
        if is_transferor {
            RoleName::Transferor
        } else {
            RoleName::Transferee
        }
    });
    Some(Release {
        by,
        frame,
        // By time: the copies of a capture with several interfaces may be stored out
        // of time order.
        before_outcome: outcome_frame.is_none_or(|o| (frame.ts_ns, frame.seq) < (o.ts_ns, o.seq)),
    })
}

/// Whether the capture shows in-dialog requests sent by the transferee: in the original
/// dialog (its ACK or any later request) or in the new call (its ACK, BYE, ...). Such
/// requests follow the dialog's route set (RFC 3261 §12.2.1.1), as its NOTIFYs do
/// (RFC 3515 §2.4.4); a capture that shows none of them may miss the path a NOTIFY took
/// (a Record-Route through an interface not captured), so a missing NOTIFY there proves
/// nothing.
fn transferee_requests_seen(
    req: &record::Request,
    original: Option<&Dialog>,
    new_call: Option<&Dialog>,
) -> bool {
    let in_original = original.is_some_and(|o| {
        // The REFER's From tag is the transferor's; the other side is the transferee. A
        // REFER outside the dialog does not say which side that is.
        let transferee = if o.from_tag == req.from_tag {
            Side::Callee
        } else if o.to_tag.as_deref() == Some(req.from_tag.as_str()) {
            Side::Caller
        } else {
            return false;
        };
        (transferee == Side::Caller && o.ack.is_some())
            || o.requests
                .iter()
                .any(|r| r.by == transferee && r.frame != o.invite)
    });
    // The transferee is the new call's caller.
    let in_new_call = new_call.is_some_and(|d| {
        d.ack.is_some()
            || d.requests
                .iter()
                .any(|r| r.by == Side::Caller && r.frame != d.invite)
    });
    in_original || in_new_call
}

/// The outcome a final sipfrag reports when the new call itself is not in the capture.
fn sipfrag_outcome(n: &Notify) -> (Outcome, Option<u16>, Option<FrameRef>) {
    match n.status {
        Some(s) if (200..300).contains(&s) => (Outcome::Completed, None, Some(n.frame)),
        Some(s) => (Outcome::Failed, Some(s), Some(n.frame)),
        None => (Outcome::Unknown, None, None),
    }
}

/// A URI without its `?headers` (the Replaces travels there).
fn strip_headers(uri: &str) -> String {
    uri.split('?').next().unwrap_or(uri).to_string()
}
