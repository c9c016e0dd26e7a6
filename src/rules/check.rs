//! The checks: one small function per rule, over what the earlier stages kept.
//!
//! Every check states what it looks at. A check fires only on what the capture shows;
//! where a capture taken at one point of the network cannot see a message (a NOTIFY the
//! proxy answered itself), the message says "in the capture", not "was never sent".

use super::{Config, Finding};
use crate::capture::FrameRef;
use crate::dialog::{Answer, Dialog, DialogState};
use crate::sip::ProblemKind;
use crate::sip::Replaces;
use crate::sip::stage::MessageProblem;
use crate::transfer::record::{Collector, InviteRecord, NotifyRecord, ReferRecord};
use crate::transfer::{Outcome, RoleName, Transfer};

/// What a transfer's checks look at besides the transfer itself.
pub struct TransferFacts<'a> {
    /// The REFER and its copies relayed by a B2BUA (at least one).
    pub refers: &'a [&'a ReferRecord],
    /// The NOTIFYs of its subscription, in order.
    pub notifies: &'a [&'a NotifyRecord],
    /// The triggered INVITE, when found.
    pub invite: Option<&'a InviteRecord>,
    pub original: Option<&'a Dialog>,
    pub consultation: Option<&'a Dialog>,
    pub new_call: Option<&'a Dialog>,
    /// Another REFER was sent earlier in the same dialog.
    pub earlier_refer_in_dialog: bool,
    /// The capture shows in-dialog requests of the transferee, so it would show its
    /// NOTIFYs too.
    pub transferee_requests_seen: bool,
}

struct Out<'c> {
    config: &'c Config,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn add(&mut self, code: &str, frames: Vec<FrameRef>, message: String) {
        if let Some(f) = Finding::new(self.config, code, frames, message) {
            self.findings.push(f);
        }
    }
}

/// How a Replaces value falls short of RFC 3891 §6.1.
fn replaces_defects(r: &Replaces) -> (Vec<&'static str>, Vec<&'static str>) {
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

fn check_replaces(out: &mut Out<'_>, r: &Replaces, frame: FrameRef, whence: &str) {
    let (missing, empty) = replaces_defects(r);
    if !missing.is_empty() {
        out.add(
            "X201",
            vec![frame],
            format!(
                "{whence} Replaces has no {}: it names no dialog",
                missing.join(", ")
            ),
        );
    }
    if !empty.is_empty() {
        out.add(
            "X202",
            vec![frame],
            format!("{whence} Replaces has an empty {}", empty.join(" and ")),
        );
    }
}

/// The checks about one transfer.
pub fn transfer(t: &Transfer, facts: &TransferFacts<'_>, config: &Config) -> Vec<Finding> {
    let mut out = Out {
        config,
        findings: Vec::new(),
    };
    let refer_frame = t.refer.frame;
    let Some(first) = facts.refers.first() else {
        return out.findings;
    };

    // Refer-To (RFC 3515 §2.4.1, RFC 3261 §19.1.1).
    match first.targets.len() {
        0 => out.add(
            "X101",
            vec![refer_frame],
            "REFER has no Refer-To".to_string(),
        ),
        1 => {}
        n => out.add(
            "X102",
            vec![refer_frame],
            format!("REFER has {n} Refer-To values; exactly one is allowed"),
        ),
    }
    for target in &first.targets {
        match &target.aor {
            None => out.add(
                "X103",
                vec![refer_frame],
                format!("Refer-To {:?} is not a valid URI", target.raw),
            ),
            Some(aor) if aor.user.as_deref() == Some("") => out.add(
                "X104",
                vec![refer_frame],
                format!("Refer-To {:?} has an empty user part", target.uri),
            ),
            Some(_) => {}
        }
    }

    // REFER in an early dialog (RFC 3515 §2, RFC 3261 §15).
    if let Some(o) = facts.original
        && !t.refer.out_of_dialog
        && o.answered.is_none_or(|a| a > refer_frame)
        && o.answer != Answer::BeforeCapture
    {
        out.add(
            "X105",
            vec![refer_frame],
            "REFER sent before the dialog was confirmed (no 2xx to its INVITE yet)".to_string(),
        );
    }

    // REFER retransmitted after its final response was sent back on the same hop
    // (RFC 3261 §17.1.2.2: a client transaction that has its final response stops).
    for r in facts.refers {
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
                "X106",
                vec![again, resp.frame],
                format!(
                    "REFER sent again at frame {}, {after:.1} s after its final response {} was sent back to the sender (frame {}): the sender did not get it, or ignored it",
                    again.number, resp.status, resp.frame.number
                ),
            );
        }
    }

    // 202 to REFER (RFC 7647 §5).
    if let Some((frame, 202)) = t.refer.response {
        out.add(
            "X107",
            vec![frame],
            "REFER answered 202 Accepted; RFC 7647 asks for 200 OK".to_string(),
        );
    }

    // Replaces, in the Refer-To and in the triggered INVITE (RFC 3891).
    if let Some(r) = &t.refer.replaces {
        check_replaces(&mut out, r, refer_frame, "Refer-To");
    }
    if let Some(invite) = facts.invite {
        let frame = invite.request.first_frame();
        if invite.replaces.len() > 1 {
            out.add(
                "X204",
                vec![frame],
                format!(
                    "INVITE carries {} Replaces headers; one is allowed",
                    invite.replaces.len()
                ),
            );
        }
        for r in &invite.replaces {
            check_replaces(&mut out, r, frame, "INVITE");
        }
    }
    if let (Some(c), Some(n)) = (facts.consultation, facts.new_call)
        && n.answer == Answer::Answered
        && !facts.invite.is_none_or(|i| i.replaces.is_empty())
        && c.state != DialogState::Terminated
    {
        let answered = n.answered.map(|f| vec![f]).unwrap_or_default();
        out.add(
            "X205",
            answered,
            "the INVITE with Replaces was answered 2xx, but the dialog it replaces was never ended: the target took it as a new call".to_string(),
        );
    }
    if let (Some(note), Some(_)) = (&t.note, &t.refer.replaces) {
        out.add("X206", vec![refer_frame], note.clone());
    }

    // The implicit subscription (RFC 3515 §2.4.4–§2.4.7, RFC 4488, RFC 6665).
    let accepted = t
        .refer
        .response
        .is_some_and(|(_, s)| (200..300).contains(&s));
    let no_subscription = t.refer.refer_sub_granted == Some(false);
    // Only where the capture shows the transferee's in-dialog requests does a missing
    // NOTIFY show a missing NOTIFY (the phase says so otherwise).
    if accepted && facts.notifies.is_empty() && !no_subscription && facts.transferee_requests_seen {
        let frames = t.refer.response.map(|(f, _)| vec![f]).unwrap_or_default();
        out.add(
            "X301",
            frames,
            "REFER accepted, but no NOTIFY of its subscription is in the capture".to_string(),
        );
    }
    if no_subscription && !facts.notifies.is_empty() {
        out.add(
            "X312",
            facts
                .notifies
                .iter()
                .map(|n| n.request.first_frame())
                .collect(),
            format!(
                "{} NOTIFY sent although Refer-Sub: false was agreed",
                facts.notifies.len()
            ),
        );
    }
    let mut terminated_at: Option<FrameRef> = None;
    let mut final_active: Option<FrameRef> = None;
    for n in facts.notifies {
        let frame = n.request.first_frame();
        match &n.event {
            None => out.add(
                "X302",
                vec![frame],
                "NOTIFY of the REFER's subscription has no Event header".to_string(),
            ),
            Some((package, _)) if package != "refer" => out.add(
                "X302",
                vec![frame],
                format!("NOTIFY of the REFER's subscription says Event: {package}"),
            ),
            _ => {}
        }
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
                "X303",
                vec![frame],
                format!("NOTIFY {what}, not a message/sipfrag status"),
            );
        }
        if facts.earlier_refer_in_dialog && n.event.as_ref().is_some_and(|(_, id)| id.is_none()) {
            out.add(
                "X308",
                vec![frame],
                format!(
                    "NOTIFY for the second REFER of the dialog has no ;id= (it should be id={})",
                    t.refer.cseq
                ),
            );
        }
        if let Some(at) = terminated_at {
            out.add(
                "X309",
                vec![frame],
                format!(
                    "NOTIFY after the subscription was terminated (frame {})",
                    at.number
                ),
            );
        }
        match &n.subscription_state {
            None => out.add(
                "X304",
                vec![frame],
                "NOTIFY has no Subscription-State".to_string(),
            ),
            Some(state) => {
                if state.malformed {
                    out.add(
                        "X307",
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
                    );
                }
                if state.state == "terminated" {
                    if terminated_at.is_none() {
                        terminated_at = Some(frame);
                    }
                    let noresource = state
                        .reason
                        .as_deref()
                        .is_some_and(|r| r.eq_ignore_ascii_case("noresource"));
                    if !noresource && !state.malformed {
                        out.add(
                            "X306",
                            vec![frame],
                            format!(
                                "final NOTIFY has Subscription-State: terminated without reason=noresource{}",
                                state.reason.as_deref().map(|r| format!(" (reason={r})")).unwrap_or_default()
                            ),
                        );
                    }
                } else if n.sipfrag_status.is_some_and(|s| s >= 200) && final_active.is_none() {
                    final_active = Some(frame);
                }
            }
        }
    }
    if let Some(frame) = final_active
        && terminated_at.is_none_or(|t| t < frame)
    {
        out.add(
            "X305",
            vec![frame],
            "NOTIFY with a final sipfrag status leaves the subscription active, and no terminating NOTIFY follows".to_string(),
        );
    }

    // NOTIFYs the transferor never answered: the capture saw the notifier resend them
    // (RFC 6665 §4.1.3).
    if let Some(n) = facts
        .notifies
        .iter()
        .find(|n| n.request.responses.is_empty() && n.request.retransmissions > 0)
    {
        let mut frames = vec![n.request.first_frame()];
        frames.extend(n.request.retransmitted_at.last().map(|s| s.frame));
        out.add(
            "X313",
            frames,
            format!(
                "NOTIFY (CSeq {}) got no answer; it was sent {} more times",
                n.request.cseq, n.request.retransmissions
            ),
        );
    }

    // The outcome was known but never reported (RFC 3515 §2.4.5, §2.4.7).
    let reported = facts.notifies.iter().any(|n| {
        n.sipfrag_status.is_some_and(|s| s >= 200)
            || n.subscription_state
                .as_ref()
                .is_some_and(|s| s.state == "terminated")
    });
    if accepted
        && !facts.notifies.is_empty()
        && !reported
        && let Some(decided) = facts
            .new_call
            .filter(|d| matches!(d.answer, Answer::Answered | Answer::Rejected))
            .and_then(|d| d.answered.or(d.ended))
    {
        out.add(
            "X314",
            vec![decided],
            format!(
                "the new call's outcome was known at frame {}, but no NOTIFY reports a final status",
                decided.number
            ),
        );
    }

    // The sipfrag against what the transferee really got (RFC 3515 §2.4.5).
    if let (Some(n), Some(final_notify)) = (
        facts.new_call,
        facts
            .notifies
            .iter()
            .find(|n| n.sipfrag_status.is_some_and(|s| s >= 200)),
    ) && let Some(reported) = final_notify.sipfrag_status
    {
        let real = match n.answer {
            Answer::Answered => Some(200),
            Answer::Rejected | Answer::Cancelled => n.status,
            _ => None,
        };
        if let Some(real) = real
            && real / 100 != reported / 100
        {
            out.add(
                "X311",
                vec![final_notify.request.first_frame()],
                format!(
                    "NOTIFY reports {reported}, but the transferee's INVITE to the target got {real}"
                ),
            );
        }
    }

    // Referred-By copied into the triggered INVITE (RFC 3892 §2.2).
    if let (Some(_), Some(invite)) = (&t.refer.referred_by, facts.invite)
        && invite.referred_by.is_none()
    {
        out.add(
            "X401",
            vec![invite.request.first_frame()],
            "the REFER carried Referred-By, the triggered INVITE does not".to_string(),
        );
    }

    // The caller lost (RFC 5589 §6, §7).
    if let Some(rel) = &t.released
        && rel.before_outcome
        && rel.by == Some(RoleName::Transferor)
        && matches!(t.outcome, Outcome::Failed | Outcome::Abandoned)
    {
        let mut frames = vec![rel.frame];
        frames.extend(t.outcome_frame);
        out.add(
            "X501",
            frames,
            format!(
                "the transferor released the call before the outcome, and the transfer then {}{}: the caller is lost",
                t.outcome.as_str(),
                t.status.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        );
    }

    // Trusted domains (RFC 3515 §5.2): silent until configured.
    if !config.trusted_domains.is_empty()
        && let Some(host) = first
            .targets
            .first()
            .and_then(|t| t.aor.as_ref())
            .map(|a| a.host.clone())
        && !config.trusts(&host)
    {
        out.add(
            "X701",
            vec![refer_frame],
            format!("transfer target host {host} is outside the trusted domains"),
        );
    }

    for f in &mut out.findings {
        f.transfer = Some(t.id);
    }
    out.findings
}

/// The checks about the capture as a whole: message framing, CSeq order, stray
/// Replaces.
pub fn capture(
    dialogs: &[Dialog],
    collector: &Collector,
    problems: &[MessageProblem],
    unparsable: &[FrameRef],
    config: &Config,
) -> Vec<Finding> {
    let mut out = Out {
        config,
        findings: Vec::new(),
    };
    for p in problems {
        match &p.kind {
            ProblemKind::BodyShorterThanContentLength { declared, present } => out.add(
                "X601",
                vec![p.frame],
                format!("Content-Length says {declared} bytes of body, {present} are present"),
            ),
            ProblemKind::BodyLongerThanContentLength { declared, present } => out.add(
                "X601",
                vec![p.frame],
                format!(
                    "Content-Length says {declared} bytes of body, the datagram carries {present}"
                ),
            ),
            ProblemKind::InvalidContentLength => out.add(
                "X601",
                vec![p.frame],
                "Content-Length is not a number".to_string(),
            ),
            ProblemKind::ConflictingContentLength => out.add(
                "X601",
                vec![p.frame],
                "several Content-Length headers disagree".to_string(),
            ),
            ProblemKind::MissingHeaderEnd => out.add(
                "X602",
                vec![p.frame],
                "no blank line ends the headers: the message is cut short".to_string(),
            ),
            ProblemKind::MalformedHeaderLine => out.add(
                "X602",
                vec![p.frame],
                "a header line has no colon or no name".to_string(),
            ),
            _ => {}
        }
    }
    for &frame in unparsable {
        out.add(
            "X602",
            vec![frame],
            "a payload that looks like SIP could not be read as a message".to_string(),
        );
    }
    for d in dialogs {
        for &(frame, previous, now) in &d.cseq_regressions {
            out.add(
                "X310",
                vec![frame],
                format!(
                    "CSeq {now} after {previous} from the same side of the dialog (Call-ID {})",
                    d.call_id
                ),
            );
        }
    }
    for s in &collector.stray_replaces {
        out.add(
            "X203",
            vec![s.sighting.frame],
            format!("{} carries a Replaces header; only INVITE may", s.method),
        );
    }
    out.findings
}
