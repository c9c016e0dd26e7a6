//! The call flow around a transfer (`X5xx`, RFC 5589): who released the call, and
//! what the outcome then was.

use super::{Out, TransferView};
use crate::dialog::{Answer, Side};
use crate::rules::Code;
use crate::transfer::{Outcome, RoleName};

/// The flow checks of a transfer.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    released_before_outcome_caller_lost(out, v);
    new_call_not_acked(out, v);
    attended_downgraded_to_blind(out, v);
}

/// X501: the transferor released the call before the outcome, and the transfer then
/// failed: the caller is lost (RFC 5589 §6, §7).
fn released_before_outcome_caller_lost(out: &mut Out<'_>, v: &TransferView<'_>) {
    let t = v.t;
    if let Some(rel) = &t.released
        && rel.before_outcome
        && rel.by == Some(RoleName::Transferor)
        && matches!(t.outcome, Outcome::Failed | Outcome::Abandoned)
    {
        let mut frames = vec![rel.frame];
        frames.extend(t.outcome_frame);
        out.add(
            Code::X501,
            frames,
            format!(
                "the transferor released the call before the outcome, and the transfer then {}{}: the caller is lost",
                t.outcome.as_str(),
                t.status.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        );
    }
}

/// X502: the transferee never ACKed the target's 2xx to the new call (RFC 3261
/// §13.2.2.4: the UAC MUST; §13.3.1.4: the UAS resends the 2xx, then ends the call).
/// Fires only where the capture shows the transferee's in-dialog requests (else the
/// ACK may have taken a path not captured) and the consequence: the 2xx resent, or
/// the target hanging up the call.
fn new_call_not_acked(out: &mut Out<'_>, v: &TransferView<'_>) {
    let Some(n) = v
        .facts
        .new_call
        .filter(|_| v.facts.transferee_requests_seen)
    else {
        return;
    };
    let Some(answered) = n.answered else {
        return;
    };
    if n.answer != Answer::Answered || n.ack.is_some() || !n.invite_seen {
        return;
    }
    let hung_up = (n.ended_by == Some(Side::Callee))
        .then_some(n.ended)
        .flatten();
    if n.retransmissions == 0 && hung_up.is_none() {
        return;
    }
    let mut frames = vec![answered];
    frames.extend(hung_up);
    let consequence = match hung_up {
        Some(bye) => format!("; the target hung up at frame {}", bye.number),
        None => "; the target kept resending it".to_string(),
    };
    out.add(
        Code::X502,
        frames,
        format!(
            "the target's 2xx to the new call (frame {}) was never ACKed in the capture{consequence}",
            answered.number
        ),
    );
}

/// X503: a blind REFER while a call between the transferor and the target was up —
/// the consultation an attended transfer would have replaced (RFC 5589 §7). Said
/// with whether that call was still up when the capture ends.
fn attended_downgraded_to_blind(out: &mut Out<'_>, v: &TransferView<'_>) {
    let Some(c) = v.facts.call_with_target else {
        return;
    };
    let after = match c.ended {
        Some(e) => format!("; that call was ended at frame {}", e.number),
        None => "; that call is still up at the end of the capture".to_string(),
    };
    out.add(
        Code::X503,
        vec![c.invite, v.t.refer.frame],
        format!(
            "REFER without Replaces while the transferor's call with the target (Call-ID {}, frame {}) was up: an attended transfer sent as blind{after}",
            c.call_id, c.invite.number
        ),
    );
}
