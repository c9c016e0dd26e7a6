//! The words of a transfer's phases: the model says what happened
//! ([`PhaseName`], [`MissingReason`]); this says it the way the text and JSON output
//! show it ("original call: Kevin calls Mike", "progress 100 → 180 → 200",
//! "new call released by Kevin").
//!
//! The words are not escaped: the parties' names came off the wire, so text output
//! passes them through [`super::escape_str`].

use crate::transfer::{MissingReason, Phase, PhaseKind, PhaseName};

/// The name of a phase in the user's words, with the parties' short names.
pub fn name(p: &Phase) -> String {
    match &p.name {
        PhaseName::Call {
            caller,
            callee,
            invite_seen,
        } => {
            let prefix = match p.kind {
                PhaseKind::OriginalCall => "original call: ",
                PhaseKind::ConsultationCall => "consultation: ",
                _ => "",
            };
            let unseen = if *invite_seen {
                ""
            } else {
                " (INVITE not captured)"
            };
            format!("{prefix}{caller} calls {callee}{unseen}")
        }
        PhaseName::TransferRequest { hold, response } => format!(
            "transfer request: {}REFER → {}",
            if *hold { "hold, " } else { "" },
            response.map_or("no response".to_string(), |s| s.to_string())
        ),
        PhaseName::Progress { statuses } => {
            let statuses: Vec<String> = statuses
                .iter()
                .map(|s| s.map_or("?".to_string(), |s| s.to_string()))
                .collect();
            format!("progress {}", statuses.join(" → "))
        }
        PhaseName::Released { by } => match by {
            Some(by) => format!("{} released by {by}", dialog(p.kind)),
            None => format!("{} released", dialog(p.kind)),
        },
        PhaseName::EndedByFinal { status } => format!(
            "{} ended by {}",
            dialog(p.kind),
            status.map_or("an error".to_string(), |s| s.to_string())
        ),
        PhaseName::EndedByError => format!("{} ended by an error response", dialog(p.kind)),
        PhaseName::Unseen => unseen(p.kind).to_string(),
    }
}

/// The dialog a release phase is about.
fn dialog(kind: PhaseKind) -> &'static str {
    match kind {
        PhaseKind::NewCall | PhaseKind::NewReleased => "new call",
        PhaseKind::ConsultationCall | PhaseKind::ConsultationReleased => "consultation call",
        PhaseKind::OriginalCall
        | PhaseKind::TransferRequest
        | PhaseKind::Progress
        | PhaseKind::OriginalReleased => "original call",
    }
}

/// The name of a phase that did not happen: its kind.
fn unseen(kind: PhaseKind) -> &'static str {
    match kind {
        PhaseKind::OriginalCall => "original call",
        PhaseKind::TransferRequest => "transfer request",
        PhaseKind::NewCall => "new call",
        PhaseKind::Progress => "progress",
        PhaseKind::OriginalReleased => "original call released",
        PhaseKind::NewReleased => "new call released",
        PhaseKind::ConsultationCall => "consultation call",
        PhaseKind::ConsultationReleased => "consultation call released",
    }
}

/// Why a phase is missing, in the user's words.
pub fn missing(reason: MissingReason) -> &'static str {
    match reason {
        MissingReason::ReferOutsideDialog => {
            "the REFER is outside a dialog and no Target-Dialog names one in the capture"
        }
        MissingReason::ReferDialogNotCaptured => "the REFER's dialog is not in the capture",
        MissingReason::ReferRejected => "the REFER was rejected",
        MissingReason::NoNewCallInvite => {
            "no INVITE from the transferee to the target is in the capture"
        }
        MissingReason::NoSubscription => "the REFER was rejected: no subscription",
        MissingReason::NoReferSub => "Refer-Sub: false was agreed: no NOTIFYs (RFC 4488)",
        MissingReason::NoNotify => "no NOTIFY of the REFER's subscription is in the capture",
        MissingReason::NoNotifyNorTransfereeRequest => {
            "no NOTIFY of the REFER's subscription is in the capture, nor any in-dialog request of the transferee (not even its ACK): the capture may not see the path they take"
        }
        MissingReason::StillUp => "still up at the end of the capture",
        MissingReason::UpWhenReported => {
            "still up when this transfer was reported, before the end of the capture (more transfers were pending than --max-pending)"
        }
        MissingReason::NoOriginalCall => "the original call is not in the capture",
        MissingReason::NoNewCall => "there is no new call in the capture",
        MissingReason::ReplacedDialogNotCaptured => {
            "the dialog named by Replaces is not in the capture"
        }
        MissingReason::NeverEstablished { .. } => "the call was never established",
    }
}

/// Why a phase is missing, in the user's words, with what only the phase knows: which
/// call was never established, and the status that refused it ("the new call was never
/// established: 486").
pub fn why_missing(p: &Phase) -> Option<String> {
    let reason = p.missing?;
    Some(match reason {
        MissingReason::NeverEstablished { status } => format!(
            "the {} was never established{}",
            dialog(p.kind),
            status.map_or(String::new(), |s| format!(": {s}"))
        ),
        other => missing(other).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(kind: PhaseKind, name: PhaseName) -> Phase {
        Phase {
            kind,
            name,
            first: None,
            last: None,
            dialog: None,
            missing: None,
        }
    }

    fn call(caller: &str, callee: &str, invite_seen: bool) -> PhaseName {
        PhaseName::Call {
            caller: caller.to_string(),
            callee: callee.to_string(),
            invite_seen,
        }
    }

    #[test]
    fn calls_name_who_calls_whom() {
        let p = phase(PhaseKind::OriginalCall, call("Kevin", "Mike", true));
        assert_eq!(name(&p), "original call: Kevin calls Mike");
        let p = phase(PhaseKind::NewCall, call("Kevin", "Wayne", false));
        assert_eq!(name(&p), "Kevin calls Wayne (INVITE not captured)");
        let p = phase(PhaseKind::ConsultationCall, call("bob", "carol", true));
        assert_eq!(name(&p), "consultation: bob calls carol");
    }

    #[test]
    fn requests_and_progress_list_their_statuses() {
        let request = |hold, response| PhaseName::TransferRequest { hold, response };
        let p = phase(PhaseKind::TransferRequest, request(true, Some(202)));
        assert_eq!(name(&p), "transfer request: hold, REFER → 202");
        let p = phase(PhaseKind::TransferRequest, request(false, None));
        assert_eq!(name(&p), "transfer request: REFER → no response");
        let statuses = vec![Some(100), None, Some(200)];
        let p = phase(PhaseKind::Progress, PhaseName::Progress { statuses });
        assert_eq!(name(&p), "progress 100 → ? → 200");
    }

    #[test]
    fn releases_name_their_dialog() {
        let by = |who: Option<&str>| PhaseName::Released {
            by: who.map(str::to_string),
        };
        let p = phase(PhaseKind::OriginalReleased, by(Some("Kevin")));
        assert_eq!(name(&p), "original call released by Kevin");
        let p = phase(PhaseKind::NewReleased, by(None));
        assert_eq!(name(&p), "new call released");
        let p = phase(
            PhaseKind::NewReleased,
            PhaseName::EndedByFinal { status: Some(486) },
        );
        assert_eq!(name(&p), "new call ended by 486");
        let p = phase(
            PhaseKind::ConsultationReleased,
            PhaseName::EndedByFinal { status: None },
        );
        assert_eq!(name(&p), "consultation call ended by an error");
        let p = phase(PhaseKind::OriginalReleased, PhaseName::EndedByError);
        assert_eq!(name(&p), "original call ended by an error response");
    }

    #[test]
    fn a_missing_phase_is_named_by_its_kind() {
        for (kind, words) in [
            (PhaseKind::OriginalCall, "original call"),
            (PhaseKind::Progress, "progress"),
            (PhaseKind::OriginalReleased, "original call released"),
            (PhaseKind::NewReleased, "new call released"),
            (PhaseKind::ConsultationCall, "consultation call"),
            (
                PhaseKind::ConsultationReleased,
                "consultation call released",
            ),
        ] {
            assert_eq!(name(&phase(kind, PhaseName::Unseen)), words);
        }
        assert_eq!(
            missing(MissingReason::ReferRejected),
            "the REFER was rejected"
        );
        assert_eq!(
            missing(MissingReason::StillUp),
            "still up at the end of the capture"
        );
    }
}
