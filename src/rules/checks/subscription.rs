//! The refer subscription and its NOTIFYs (`X3xx`: RFC 3515 §2.4.4–§2.4.7, RFC 4488,
//! RFC 6665), and the CSeq order of every dialog (X310, numbered with them).

use super::{Out, TransferView};
use crate::capture::FrameRef;
use crate::dialog::{Answer, Dialog};
use crate::rules::Code;
use crate::transfer::record::NotifyRecord;

/// The subscription checks of a transfer, in the order of their findings.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    accepted_without_notify(out, v);
    notify_id_not_refer_cseq(out, v);
    notify_despite_refer_sub_false(out, v);
    each_notify(out, v);
    notify_unanswered(out, v);
    notify_rejected_481_after_release(out, v);
    no_final_notify(out, v);
    sipfrag_contradicts_responses(out, v);
}

/// The REFER got a 2xx.
fn accepted(v: &TransferView<'_>) -> bool {
    v.t.refer
        .response
        .is_some_and(|(_, s)| (200..300).contains(&s))
}

/// Refer-Sub: false was agreed, so there is no subscription (RFC 4488 §4).
fn no_subscription(v: &TransferView<'_>) -> bool {
    v.t.refer.refer_sub_granted == Some(false)
}

/// The transferee's NOTIFYs in the REFER's dialog after the REFER that are not of its
/// subscription (their Event is not `refer` with the REFER's CSeq as id), read in the
/// dialog's requests.
fn unlinked_notifies(v: &TransferView<'_>) -> Vec<crate::capture::FrameRef> {
    let Some(o) = v.facts.original.filter(|_| !v.t.refer.out_of_dialog) else {
        return Vec::new();
    };
    let transferor = if o.from_tag == v.refer.request.from_tag {
        crate::dialog::Side::Caller
    } else {
        crate::dialog::Side::Callee
    };
    let linked: Vec<_> = v
        .facts
        .notifies
        .iter()
        .map(|n| n.request.first_frame())
        .collect();
    let next_refer = o
        .requests
        .iter()
        .filter(|r| r.method == "REFER" && r.by == transferor && r.frame > v.t.refer.frame)
        .map(|r| r.frame)
        .min();
    o.requests
        .iter()
        .filter(|r| {
            r.method == "NOTIFY"
                && r.by != transferor
                && r.frame > v.t.refer.frame
                && next_refer.is_none_or(|n| r.frame < n)
                && !linked.contains(&r.frame)
        })
        .map(|r| r.frame)
        .collect()
}

/// X316: the REFER was accepted, none of its NOTIFYs is in the capture, but the
/// transferee sent NOTIFYs in the dialog after it that are not of its subscription:
/// their `Event: refer;id=` is not the accepted REFER's CSeq (typically the CSeq of a
/// REFER challenged 401/407 and sent again), RFC 3515 §2.4.6.
fn notify_id_not_refer_cseq(out: &mut Out<'_>, v: &TransferView<'_>) {
    if !accepted(v) || no_subscription(v) || !v.facts.notifies.is_empty() {
        return;
    }
    let frames = unlinked_notifies(v);
    if frames.is_empty() {
        return;
    }
    let retried = if v.t.retry_of.is_some() {
        " (this REFER retried a challenged one: the NOTIFYs may carry the challenged REFER's CSeq)"
    } else {
        ""
    };
    out.add(
        Code::X316,
        frames.clone(),
        format!(
            "{} NOTIFY in the dialog after the accepted REFER (CSeq {}) belong to no subscription of it: their Event is not `refer;id={}`{retried}",
            frames.len(),
            v.t.refer.cseq,
            v.t.refer.cseq
        ),
    );
}

/// X301: the REFER was accepted and no NOTIFY followed. Only where the capture shows
/// the transferee's in-dialog requests does a missing NOTIFY show a missing NOTIFY
/// (the progress phase says so otherwise); NOTIFYs of another subscription are X316.
fn accepted_without_notify(out: &mut Out<'_>, v: &TransferView<'_>) {
    if accepted(v)
        && v.facts.notifies.is_empty()
        && !no_subscription(v)
        && v.facts.transferee_requests_seen
        && unlinked_notifies(v).is_empty()
    {
        let frames = v.t.refer.response.map(|(f, _)| vec![f]).unwrap_or_default();
        // A BYE instead of the NOTIFYs: the dialog ended with none sent.
        let ended = v
            .facts
            .original
            .filter(|o| o.ending == Some(crate::dialog::Ending::Bye))
            .and_then(|o| o.ended)
            .map(|bye| format!("; the dialog was ended by BYE at frame {}", bye.number))
            .unwrap_or_default();
        out.add(
            Code::X301,
            frames,
            format!("REFER accepted, but no NOTIFY of its subscription is in the capture{ended}"),
        );
    }
}

/// X312: NOTIFYs although Refer-Sub: false was agreed; one finding names them all.
fn notify_despite_refer_sub_false(out: &mut Out<'_>, v: &TransferView<'_>) {
    let notifies = v.facts.notifies;
    if no_subscription(v) && !notifies.is_empty() {
        out.add(
            Code::X312,
            notifies.iter().map(|n| n.request.first_frame()).collect(),
            format!(
                "{} NOTIFY sent although Refer-Sub: false was agreed",
                notifies.len()
            ),
        );
    }
}

/// The checks of each NOTIFY, NOTIFY by NOTIFY (X302, X303, X308, X309, X304, X307,
/// X306); then X305, which needs them all.
fn each_notify(out: &mut Out<'_>, v: &TransferView<'_>) {
    let mut seen = Subscription::default();
    for n in v.facts.notifies {
        let frame = n.request.first_frame();
        event_not_refer(out, n, frame);
        body_not_sipfrag(out, n, frame);
        without_id(out, v, n, frame);
        after_termination(out, &seen, frame);
        state_missing_or_malformed(out, n, frame);
        terminated_without_noresource(out, n, frame);
        seen.follow(n, frame);
    }
    final_status_left_active(out, &seen);
}

/// What the NOTIFYs so far said about their subscription.
#[derive(Default)]
struct Subscription {
    /// The first NOTIFY that terminated it.
    terminated_at: Option<FrameRef>,
    /// The first NOTIFY with a final sipfrag status that left it active.
    final_active: Option<FrameRef>,
}

impl Subscription {
    fn follow(&mut self, n: &NotifyRecord, frame: FrameRef) {
        let Some(state) = &n.subscription_state else {
            return;
        };
        if state.state == "terminated" {
            self.terminated_at.get_or_insert(frame);
        } else if n.sipfrag_status.is_some_and(|s| s >= 200) {
            self.final_active.get_or_insert(frame);
        }
    }
}

/// X302: the NOTIFY says `Event: refer` (RFC 3515 §2.4.4).
fn event_not_refer(out: &mut Out<'_>, n: &NotifyRecord, frame: FrameRef) {
    match &n.event {
        None => out.add(
            Code::X302,
            vec![frame],
            "NOTIFY of the REFER's subscription has no Event header".to_string(),
        ),
        Some((package, _)) if package != "refer" => out.add(
            Code::X302,
            vec![frame],
            format!("NOTIFY of the REFER's subscription says Event: {package}"),
        ),
        _ => {}
    }
}

/// X303: the NOTIFY body is message/sipfrag and starts with a status line (RFC 3515
/// §2.4.5).
fn body_not_sipfrag(out: &mut Out<'_>, n: &NotifyRecord, frame: FrameRef) {
    let sipfrag_type = n
        .content_type
        .as_deref()
        .is_some_and(|c| c == "message/sipfrag");
    if !sipfrag_type || n.sipfrag_status.is_none() {
        let what = match (&n.content_type, n.sipfrag_status) {
            (None, _) => "has no Content-Type".to_string(),
            (Some(c), _) if c != "message/sipfrag" => format!("has Content-Type {c}"),
            _ => "has a body that does not start with a SIP status line".to_string(),
        };
        out.add(
            Code::X303,
            vec![frame],
            format!("NOTIFY {what}, not a message/sipfrag status"),
        );
    }
}

/// X308: a NOTIFY for the second REFER of a dialog carries `;id=` (RFC 3515 §2.4.6).
fn without_id(out: &mut Out<'_>, v: &TransferView<'_>, n: &NotifyRecord, frame: FrameRef) {
    if v.facts.earlier_refer_in_dialog && n.event.as_ref().is_some_and(|(_, id)| id.is_none()) {
        out.add(
            Code::X308,
            vec![frame],
            format!(
                "NOTIFY for the second REFER of the dialog has no ;id= (it should be id={})",
                v.t.refer.cseq
            ),
        );
    }
}

/// X309: a NOTIFY after one that terminated the subscription (RFC 6665 §4.1.3).
fn after_termination(out: &mut Out<'_>, seen: &Subscription, frame: FrameRef) {
    if let Some(at) = seen.terminated_at {
        out.add(
            Code::X309,
            vec![frame],
            format!(
                "NOTIFY after the subscription was terminated (frame {})",
                at.number
            ),
        );
    }
}

/// X304, X307: the NOTIFY has a Subscription-State (RFC 6665 §4.1.3), well formed
/// (§8.4).
fn state_missing_or_malformed(out: &mut Out<'_>, n: &NotifyRecord, frame: FrameRef) {
    match &n.subscription_state {
        None => out.add(
            Code::X304,
            vec![frame],
            "NOTIFY has no Subscription-State".to_string(),
        ),
        Some(state) if state.malformed => out.add(
            Code::X307,
            vec![frame],
            format!(
                "Subscription-State {:?} is malformed",
                format!(
                    "{}{}",
                    state.state,
                    state
                        .reason
                        .as_deref()
                        .map(|r| format!(";reason={r}"))
                        .unwrap_or_default()
                )
            ),
        ),
        Some(_) => {}
    }
}

/// X306: a well-formed `terminated` says reason=noresource (RFC 3515 §2.4.7).
fn terminated_without_noresource(out: &mut Out<'_>, n: &NotifyRecord, frame: FrameRef) {
    let Some(state) = &n.subscription_state else {
        return;
    };
    let noresource = state
        .reason
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("noresource"));
    if state.state == "terminated" && !noresource && !state.malformed {
        out.add(
            Code::X306,
            vec![frame],
            format!(
                "final NOTIFY has Subscription-State: terminated without reason=noresource{}",
                state
                    .reason
                    .as_deref()
                    .map(|r| format!(" (reason={r})"))
                    .unwrap_or_default()
            ),
        );
    }
}

/// X305: a final sipfrag status left the subscription active, and no NOTIFY after
/// it terminated the subscription (RFC 3515 §2.4.7).
fn final_status_left_active(out: &mut Out<'_>, seen: &Subscription) {
    if let Some(frame) = seen.final_active
        && seen.terminated_at.is_none_or(|t| t < frame)
    {
        out.add(
            Code::X305,
            vec![frame],
            "NOTIFY with a final sipfrag status leaves the subscription active, and no terminating NOTIFY follows".to_string(),
        );
    }
}

/// X313: the transferor never answered a NOTIFY: the capture saw the notifier resend
/// it (RFC 6665 §4.1.3). One finding per such NOTIFY.
fn notify_unanswered(out: &mut Out<'_>, v: &TransferView<'_>) {
    // With Refer-Sub: false agreed no NOTIFY was owed, nor an answer to one (X312 says
    // so instead).
    if no_subscription(v) {
        return;
    }
    for n in v
        .facts
        .notifies
        .iter()
        .filter(|n| n.request.responses.is_empty() && n.request.retransmissions > 0)
    {
        let mut frames = vec![n.request.first_frame()];
        frames.extend(n.request.retransmitted_at.last().map(|s| s.frame));
        out.add(
            Code::X313,
            frames,
            format!(
                "NOTIFY (CSeq {}) got no answer in the capture; it was sent {} more times",
                n.request.cseq, n.request.retransmissions
            ),
        );
    }
}

/// X315: a NOTIFY answered 481 after the original dialog had been ended: the
/// transferor (its subscriber) let go of the subscription before the result came, so it
/// never heard it (RFC 3515 §2.4.5; RFC 5589 §6). One finding, at the first such NOTIFY.
fn notify_rejected_481_after_release(out: &mut Out<'_>, v: &TransferView<'_>) {
    if no_subscription(v) {
        return;
    }
    let Some(ended) = v.facts.original.and_then(|o| o.ended) else {
        return;
    };
    let rejected = v.facts.notifies.iter().find_map(|n| {
        let frame = n.request.first_frame();
        let response = n.request.final_response().filter(|r| r.status == 481)?;
        (frame > ended).then_some((n, frame, response.frame))
    });
    if let Some((n, frame, response)) = rejected {
        let reported = n
            .sipfrag_line
            .as_deref()
            .map(|l| format!(" reporting {l:?}"))
            .unwrap_or_default();
        out.add(
            Code::X315,
            vec![frame, response],
            format!(
                "NOTIFY{reported} answered 481: the original call had been ended at frame {}, so the transferor never heard the outcome",
                ended.number
            ),
        );
    }
}

/// X314: the outcome was known (the new call answered, rejected, or cancelled by the
/// transferee) but no NOTIFY reported it (RFC 3515 §2.4.5, §2.4.7).
/// Not when Refer-Sub: false was agreed: then no NOTIFY is owed (RFC 4488 §4).
fn no_final_notify(out: &mut Out<'_>, v: &TransferView<'_>) {
    let notifies = v.facts.notifies;
    let reported = notifies.iter().any(|n| {
        n.sipfrag_status.is_some_and(|s| s >= 200)
            || n.subscription_state
                .as_ref()
                .is_some_and(|s| s.state == "terminated")
    });
    if accepted(v)
        && !no_subscription(v)
        && !notifies.is_empty()
        && !reported
        && let Some(decided) = v
            .facts
            .new_call
            .filter(|d| {
                matches!(
                    d.answer,
                    Answer::Answered | Answer::Rejected | Answer::Cancelled
                )
            })
            .and_then(|d| Some((d.answered.or(d.ended)?, d.answer)))
    {
        let (frame, answer) = decided;
        let known = if answer == Answer::Cancelled {
            "the transferee cancelled the new call"
        } else {
            "the new call's outcome was known"
        };
        out.add(
            Code::X314,
            vec![frame],
            format!(
                "{known} at frame {}, but no NOTIFY reports a final status: the subscription is left active",
                frame.number
            ),
        );
    }
}

/// X311: the final sipfrag against what the transferee's INVITE really got (RFC 3515
/// §2.4.5).
fn sipfrag_contradicts_responses(out: &mut Out<'_>, v: &TransferView<'_>) {
    let final_notify = v
        .facts
        .notifies
        .iter()
        .find(|n| n.sipfrag_status.is_some_and(|s| s >= 200));
    let (Some(n), Some(final_notify)) = (v.facts.new_call, final_notify) else {
        return;
    };
    let Some(reported) = final_notify.sipfrag_status else {
        return;
    };
    let real = match n.answer {
        Answer::Answered => Some(200),
        Answer::Rejected | Answer::Cancelled => n.status,
        _ => None,
    };
    if let Some(real) = real
        && real / 100 != reported / 100
    {
        out.add(
            Code::X311,
            vec![final_notify.request.first_frame()],
            format!(
                "NOTIFY reports {reported}, but the transferee's INVITE to the target got {real}"
            ),
        );
    }
}

/// X310: CSeq increases from each side of a dialog (RFC 3261 §12.2.1.1); the dialog
/// stage records each step back.
pub(crate) fn cseq_not_increasing(out: &mut Out<'_>, dialogs: &[Dialog]) {
    for d in dialogs {
        for &(frame, previous, now) in &d.cseq_regressions {
            out.add(
                Code::X310,
                vec![frame],
                format!(
                    "CSeq {now} after {previous} from the same side of the dialog (Call-ID {})",
                    d.call_id
                ),
            );
        }
    }
}
