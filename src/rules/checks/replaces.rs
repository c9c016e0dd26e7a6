//! Replaces (`X2xx`, RFC 3891): in the Refer-To and in the triggered INVITE, what the
//! target did with it, and a Replaces on any other request.

use super::{Out, TransferView};
use crate::capture::FrameRef;
use crate::dialog::{Answer, DialogState};
use crate::rules::Code;
use crate::sip::Replaces;
use crate::transfer::ReplacesMatch;
use crate::transfer::record::Collector;

/// The Replaces checks of a transfer, in the order of their findings.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    in_refer_to(out, v);
    in_invite(out, v);
    ignored(out, v);
    dialog_not_in_capture(out, v);
    tags_swapped(out, v);
    unmatched_accepted(out, v);
    rejected_481(out, v);
    dialog_already_ended(out, v);
}

/// X201, X202 on the Replaces of the Refer-To.
fn in_refer_to(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let Some(r) = &v.t.refer.replaces {
        value(out, r, v.t.refer.frame, "Refer-To");
    }
}

/// X204: one Replaces in the triggered INVITE (RFC 3891 §3); then X201, X202 on each.
fn in_invite(out: &mut Out<'_>, v: &TransferView<'_>) {
    let Some(invite) = v.facts.invite else {
        return;
    };
    let frame = invite.request.first_frame();
    if invite.replaces.len() > 1 {
        out.add(
            Code::X204,
            vec![frame],
            format!(
                "INVITE carries {} Replaces headers; one is allowed",
                invite.replaces.len()
            ),
        );
    }
    for r in &invite.replaces {
        value(out, r, frame, "INVITE");
    }
}

/// X201, X202: a Replaces value names a dialog by Call-ID and two non-empty tags
/// (RFC 3891 §6.1). `whence` says where it was found.
fn value(out: &mut Out<'_>, r: &Replaces, frame: FrameRef, whence: &str) {
    let (missing, empty) = defects(r);
    if !missing.is_empty() {
        out.add(
            Code::X201,
            vec![frame],
            format!(
                "{whence} Replaces has no {}: it names no dialog",
                missing.join(", ")
            ),
        );
    }
    if !empty.is_empty() {
        out.add(
            Code::X202,
            vec![frame],
            format!("{whence} Replaces has an empty {}", empty.join(" and ")),
        );
    }
}

/// The parts a Replaces value lacks, and those it has empty.
fn defects(r: &Replaces) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut missing = Vec::new();
    let mut empty = Vec::new();
    for (name, part) in [
        ("Call-ID", &r.call_id),
        ("to-tag", &r.to_tag),
        ("from-tag", &r.from_tag),
    ] {
        match part.as_deref() {
            None => missing.push(name),
            Some("") => empty.push(name),
            Some(_) => {}
        }
    }
    (missing, empty)
}

/// X205: the INVITE with Replaces was answered, but the consultation dialog it
/// replaces never ended (RFC 3891 §3).
fn ignored(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let (Some(c), Some(n)) = (v.facts.consultation, v.facts.new_call)
        && n.answer == Answer::Answered
        && !v.facts.invite.is_none_or(|i| i.replaces.is_empty())
        && c.state != DialogState::Terminated
    {
        let answered = n.answered.map(|f| vec![f]).unwrap_or_default();
        out.add(
            Code::X205,
            answered,
            "the INVITE with Replaces was answered 2xx, but the dialog it replaces was never ended: the target took it as a new call".to_string(),
        );
    }
}

/// X206: the Replaces names a dialog the capture does not hold; the transfer stage's
/// note says what that suggests.
fn dialog_not_in_capture(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let (Some(note), Some(_)) = (&v.t.note, &v.t.refer.replaces) {
        out.add(Code::X206, vec![v.t.refer.frame], note.clone());
    }
}

/// The new call's INVITE, its answer and the frame of that answer.
fn answer(v: &TransferView<'_>) -> Option<(FrameRef, Answer, Option<u16>, Option<FrameRef>)> {
    let invite = v.facts.invite?;
    let n = v.facts.new_call?;
    let decided = match n.answer {
        Answer::Answered => n.answered,
        _ => n.ended,
    };
    Some((invite.request.first_frame(), n.answer, n.status, decided))
}

/// X209: the INVITE's Replaces names a dialog of the capture with its to-tag and
/// from-tag swapped: the target matches the to-tag against its own tag (RFC 3891 §3,
/// §6.1).
fn tags_swapped(out: &mut Out<'_>, v: &TransferView<'_>) {
    let (Some(ReplacesMatch::Swapped(d)), Some(invite)) = (v.facts.replaces_match, v.facts.invite)
    else {
        return;
    };
    let accepted = v
        .facts
        .new_call
        .is_some_and(|n| n.answer == Answer::Answered);
    out.add(
        Code::X209,
        vec![invite.request.first_frame()],
        format!(
            "INVITE Replaces names dialog {} with to-tag and from-tag swapped (to-tag is the transferor's tag {:?}, not the target's){}",
            d.call_id,
            invite
                .replaces
                .first()
                .and_then(|r| r.to_tag.as_deref())
                .unwrap_or_default(),
            if accepted {
                "; the target accepted it anyway, a stricter one answers 481"
            } else {
                ""
            }
        ),
    );
}

/// X207: the target answered 2xx to an INVITE whose Replaces matches no dialog of
/// that Call-ID in the capture: it should have answered 481 (RFC 3891 §3).
fn unmatched_accepted(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let Some(ReplacesMatch::TagsDiffer) = v.facts.replaces_match
        && let Some((invite, Answer::Answered, _, answered)) = answer(v)
    {
        let mut frames = vec![invite];
        frames.extend(answered);
        out.add(
            Code::X207,
            frames,
            "the target answered 2xx to an INVITE whose Replaces tags match no dialog of that Call-ID in the capture; RFC 3891 wants 481".to_string(),
        );
    }
}

/// X208: the INVITE with Replaces was answered 481: the transfer failed because the
/// target found no dialog to replace (RFC 3891 §3); says why, as far as the capture
/// shows.
fn rejected_481(out: &mut Out<'_>, v: &TransferView<'_>) {
    let Some((invite_frame, Answer::Rejected, Some(481), rejected)) = answer(v) else {
        return;
    };
    if v.facts.invite.is_none_or(|i| i.replaces.is_empty()) {
        return;
    }
    let why = match v.facts.replaces_match {
        Some(ReplacesMatch::UnknownCallId) => {
            "its Call-ID names no dialog in the capture (a wrong or rewritten Call-ID, or the dialog lives elsewhere)".to_string()
        }
        Some(ReplacesMatch::Swapped(_)) => "its to-tag and from-tag are swapped".to_string(),
        Some(ReplacesMatch::Incomplete) => "it lacks the Call-ID or a tag".to_string(),
        Some(ReplacesMatch::TagsDiffer) => {
            "its tags match no dialog of that Call-ID in the capture".to_string()
        }
        Some(ReplacesMatch::Exact(d)) => match d.ended {
            Some(e) if e < invite_frame => format!(
                "it names a dialog that had already ended at frame {} (RFC 3891 asks for 603 then)",
                e.number
            ),
            _ => "it names a dialog of the capture, which the target did not match".to_string(),
        },
        None => "the capture does not say".to_string(),
    };
    let mut frames = vec![invite_frame];
    frames.extend(rejected);
    out.add(
        Code::X208,
        frames,
        format!(
            "the target answered 481 to the INVITE with Replaces, so the transfer failed: {why}"
        ),
    );
}

/// X210: the INVITE's Replaces names a dialog of the capture that had ended before
/// the INVITE was sent: the consultation call was released too early (RFC 3891 §3: the
/// target then declines with 603). Not on a 481, which X208 explains.
fn dialog_already_ended(out: &mut Out<'_>, v: &TransferView<'_>) {
    let (Some(ReplacesMatch::Exact(d)), Some(invite)) = (v.facts.replaces_match, v.facts.invite)
    else {
        return;
    };
    let sent = invite.request.first_frame();
    let Some(ended) = d.ended.filter(|e| *e < sent) else {
        return;
    };
    let answer = v.facts.new_call.map(|n| (n.answer, n.status));
    let then = match answer {
        Some((_, Some(481))) => return,
        Some((Answer::Answered, _)) => {
            "; the target accepted it anyway, where RFC 3891 asks for 603".to_string()
        }
        Some((_, Some(603))) => "; the target declined it 603, as RFC 3891 asks".to_string(),
        Some((_, Some(status))) => format!("; the target answered {status}"),
        _ => String::new(),
    };
    out.add(
        Code::X210,
        vec![ended, sent],
        format!(
            "INVITE Replaces names dialog {} which had already ended at frame {}{then}",
            d.call_id, ended.number
        ),
    );
}

/// X203: a Replaces header on a request other than INVITE (RFC 3891 §3).
pub(crate) fn stray(out: &mut Out<'_>, collector: &Collector) {
    for s in &collector.stray_replaces {
        out.add(
            Code::X203,
            vec![s.sighting.frame],
            format!("{} carries a Replaces header; only INVITE may", s.method),
        );
    }
}
