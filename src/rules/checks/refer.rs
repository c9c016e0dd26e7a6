//! The REFER request (`X1xx`): its Refer-To, when it was sent, its retransmissions
//! and its 202.

use super::{Out, TransferView};
use crate::dialog::{Answer, Side};
use crate::rules::Code;

/// The REFER checks of a transfer, in the order of their findings.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    refer_to_count(out, v);
    refer_to_uris(out, v);
    in_early_dialog(out, v);
    retransmitted_after_final(out, v);
    accepted_202(out, v);
    challenge_not_retried(out, v);
    too_many_hops(out, v);
    in_dialog_without_to_tag(out, v);
}

/// X101, X102: the REFER carries exactly one Refer-To (RFC 3515 §2.4.1).
fn refer_to_count(out: &mut Out<'_>, v: &TransferView<'_>) {
    let frame = v.t.refer.frame;
    match v.refer.targets.len() {
        0 => out.add(Code::X101, vec![frame], "REFER has no Refer-To".to_string()),
        1 => {}
        n => out.add(
            Code::X102,
            vec![frame],
            format!("REFER has {n} Refer-To values; exactly one is allowed"),
        ),
    }
}

/// X103, X104: each Refer-To is a URI (RFC 3515 §2.1) whose user part, when there is
/// an `@`, is not empty (RFC 3261 §19.1.1).
fn refer_to_uris(out: &mut Out<'_>, v: &TransferView<'_>) {
    let frame = v.t.refer.frame;
    for target in &v.refer.targets {
        match &target.aor {
            None => out.add(
                Code::X103,
                vec![frame],
                format!("Refer-To {:?} is not a valid URI", target.raw),
            ),
            Some(aor) if aor.user.as_deref() == Some("") => out.add(
                Code::X104,
                vec![frame],
                format!("Refer-To {:?} has an empty user part", target.uri),
            ),
            Some(_) => {}
        }
    }
}

/// X105: the REFER was sent before its dialog was confirmed (RFC 3515 §2, RFC 3261
/// §15).
fn in_early_dialog(out: &mut Out<'_>, v: &TransferView<'_>) {
    let frame = v.t.refer.frame;
    if let Some(o) = v.facts.original
        && !v.t.refer.out_of_dialog
        && o.answered.is_none_or(|a| a > frame)
        && o.answer != Answer::BeforeCapture
    {
        out.add(
            Code::X105,
            vec![frame],
            "REFER sent before the dialog was confirmed (no 2xx to its INVITE yet)".to_string(),
        );
    }
}

/// X106: a REFER sent again after its final response was sent back on the same hop
/// (RFC 3261 §17.1.2.2: a client transaction that has its final response stops).
fn retransmitted_after_final(out: &mut Out<'_>, v: &TransferView<'_>) {
    for r in v.facts.refers {
        let late = r.request.retransmitted_at.iter().find_map(|s| {
            r.request
                .responses
                .iter()
                .filter(|resp| {
                    resp.status >= 200
                        && resp.frame < s.frame
                        && resp.flow.src == s.flow.dst
                        && resp.flow.dst == s.flow.src
                })
                .min_by_key(|resp| resp.frame)
                .map(|resp| (s.frame, resp))
        });
        if let Some((again, resp)) = late {
            let after = again.ts_ns.saturating_sub(resp.frame.ts_ns) as f64 / 1e9;
            out.add(
                Code::X106,
                vec![again, resp.frame],
                format!(
                    "REFER sent again at frame {}, {after:.1} s after its final response {} was sent back to the sender (frame {}): the sender did not get it, or ignored it",
                    again.number, resp.status, resp.frame.number
                ),
            );
        }
    }
}

/// X107: the REFER was answered 202 (RFC 7647 §5).
fn accepted_202(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let Some((frame, 202)) = v.t.refer.response {
        out.add(
            Code::X107,
            vec![frame],
            "REFER answered 202 Accepted; RFC 7647 asks for 200 OK".to_string(),
        );
    }
}

/// X108: a REFER challenged 401/407 is sent again with credentials (RFC 3261 §22.2,
/// §22.3: the UAC SHOULD re-originate it). Read in the REFER's dialog: no later REFER
/// from the same side follows the challenge in the capture.
fn challenge_not_retried(out: &mut Out<'_>, v: &TransferView<'_>) {
    let Some((challenge, status @ (401 | 407))) = v.t.refer.response else {
        return;
    };
    let Some(o) = v.facts.original.filter(|_| !v.t.refer.out_of_dialog) else {
        return;
    };
    let side = if o.from_tag == v.refer.request.from_tag {
        Side::Caller
    } else {
        Side::Callee
    };
    let retried = o
        .requests
        .iter()
        .any(|r| r.method == "REFER" && r.by == side && r.frame > v.t.refer.frame);
    if !retried {
        let ended = o
            .ended
            .map(|e| format!("; the dialog ended at frame {}", e.number))
            .unwrap_or_default();
        out.add(
            Code::X108,
            vec![v.t.refer.frame, challenge],
            format!(
                "REFER challenged {status} at frame {}, and no REFER with credentials follows in the capture{ended}: the transfer was dropped",
                challenge.number
            ),
        );
    }
}

/// X109: the REFER was answered 483 Too Many Hops: Max-Forwards ran out on its way
/// (RFC 3261 §16.3, §20.22), so it went round a loop or through too many relays.
fn too_many_hops(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let Some((frame, 483)) = v.t.refer.response {
        let hops: usize = v
            .facts
            .refers
            .iter()
            .map(|r| r.request.sightings.len())
            .sum();
        out.add(
            Code::X109,
            vec![v.t.refer.frame, frame],
            format!(
                "REFER answered 483 Too Many Hops at frame {} (seen on {hops} hop(s) in the capture): it looped or was relayed too often, and the transfer did not happen",
                frame.number
            ),
        );
    }
}

/// X110: a REFER that belongs to a dialog (its Call-ID, its From tag one party's tag)
/// carries no To tag, though a request inside a dialog MUST carry the remote tag
/// (RFC 3261 §12.2.1.1): the transferee cannot match it to the call.
fn in_dialog_without_to_tag(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let Some(d) = v.facts.dialog_of_tagless_refer {
        let state = if d.answered.is_some_and(|a| a < v.t.refer.frame) {
            "confirmed"
        } else {
            "early"
        };
        out.add(
            Code::X110,
            vec![v.t.refer.frame],
            format!(
                "REFER in the Call-ID of the {state} dialog {} from its party's tag {:?}, but with no To tag (missing or empty): it is not inside the dialog",
                d.call_id, v.refer.request.from_tag
            ),
        );
    }
}
