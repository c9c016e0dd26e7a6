//! A transfer through a back-to-back user agent, told end to end: the legs of its
//! calls on both sides of the box (from [`crate::correlate`]), the real parties (the
//! phones, not the box), and the outcome as the legs show it.
//!
//! Two shapes occur, and one procedure covers both:
//! - **box-executed** (a PBX): the REFER ends at the box; the box places the call to
//!   the target itself (blind) or joins the transferee's leg to the target's
//!   consultation leg and hangs up the transferor's legs (attended);
//! - **relayed** (an SBC): the REFER, the NOTIFYs and the triggered INVITE cross the
//!   box with new Call-IDs and tags, the Replaces rewritten to name the box's own leg.
//!
//! Each leg names its role, the box it crosses (`via`), the phases that happened on
//! it, and the evidence that ties it into the transfer, strongest first. A transfer
//! whose dialogs cross no box gets no legs and stays exactly as built.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::model::{Outcome, Role, Transfer};
use super::phase::PhaseKind;
use crate::capture::FrameRef;
use crate::correlate::{self, Correlator, LegRecord};

/// What a leg is to the transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegRole {
    /// The transferee's leg of the original call (phone ↔ box).
    Transferee,
    /// The transferor's leg of the original call: the one the REFER travels in.
    Transferor,
    /// The transferor's consultation leg (the dialog a Replaces names).
    Consultation,
    /// The target's side of the consultation, replaced by the new call.
    Replaced,
    /// The transferee's new call into the box (relayed transfer).
    NewCall,
    /// The leg that reaches the target and carries the result.
    Target,
}

impl LegRole {
    pub fn as_str(self) -> &'static str {
        match self {
            LegRole::Transferee => "transferee",
            LegRole::Transferor => "transferor",
            LegRole::Consultation => "consultation",
            LegRole::Replaced => "replaced",
            LegRole::NewCall => "new-call",
            LegRole::Target => "target",
        }
    }
}

/// One leg of a transfer through a box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leg {
    pub call_id: String,
    pub role: LegRole,
    /// The box (B2BUA) the leg crosses: the address that is the UAS of one leg and
    /// the UAC of the other.
    pub via: String,
    /// The phone at the other end of the leg from the box.
    pub phone: String,
    /// The frame of the leg's INVITE.
    pub invite_frame: u64,
    /// The phases (by number) that happened on the leg.
    pub phases: Vec<u8>,
    /// What ties the leg into the transfer, strongest first.
    pub evidence: Vec<&'static str>,
    #[serde(skip)]
    pub invite: FrameRef,
}

/// Evidence that the target's leg was bridged to the transferee's leg.
pub const BRIDGED_SDP: &str = "bridged-sdp";
pub const JOINED: &str = "joined";
pub const RELEASE_PROPAGATED: &str = "release-propagated";
/// The new call's Replaces names this leg: the box rewrote the Replaces of the REFER
/// it relayed to name its own leg toward the target.
pub const REPLACES_REWRITTEN: &str = "replaces-rewritten";
/// The leg is the one a REFER travels in, or a Replaces names.
pub const REFER: &str = "refer";

/// How soon the box passes a hang-up on to the other leg.
const PROPAGATE_NS: i64 = 2_000_000_000;

fn before(a: FrameRef, b: FrameRef) -> bool {
    (a.ts_ns, a.seq) < (b.ts_ns, b.seq)
}

struct Found {
    serial: usize,
    role: LegRole,
    via: Option<SocketAddr>,
    evidence: Vec<&'static str>,
}

/// Adds the legs of `t` through any box, and with them the phones as the parties and
/// the outcome the legs show. Returns whether the transfer crosses a box.
pub fn attach(t: &mut Transfer, c: &Correlator) -> bool {
    if c.is_empty() {
        return false;
    }
    let r = match &t.original_call {
        Some(d) => c.find(&d.call_id, Some(&d.from_tag)),
        None => c.find(&t.refer.call_id, None),
    };
    let Some(r) = r else { return false };
    let mut found: Vec<Found> = Vec::new();
    let push = |found: &mut Vec<Found>, f: Found| {
        if !found.iter().any(|x| x.serial == f.serial) {
            found.push(f);
        }
    };
    let r_ties = c.partners(r);
    push(
        &mut found,
        Found {
            serial: r,
            role: LegRole::Transferor,
            via: r_ties.first().map(|t| t.via),
            evidence: vec![REFER],
        },
    );
    // The transferee's legs: the original call on the other side of the box. The
    // REFER must have ended at that box (box-executed) or, relayed, reached the phone
    // at the leg's far end: a tie alone does not make the box part of the transfer.
    let receiver = t.transferee.address;
    let crosses = |tie: &correlate::Tie, l: &LegRecord| {
        receiver.is_some_and(|a| a.ip() == tie.via.ip() || a == l.far_end(tie.via.ip()).1)
    };
    for tie in r_ties.iter().filter(|tie| {
        c.leg(tie.other)
            .is_some_and(|l| before(l.invite, t.refer.frame) && crosses(tie, l))
    }) {
        push(
            &mut found,
            Found {
                serial: tie.other,
                role: LegRole::Transferee,
                via: Some(tie.via),
                evidence: tie.evidence.clone(),
            },
        );
    }
    // The consultation and the target's side of it.
    if let Some(d) = &t.consultation_call
        && let Some(k) = c.find(&d.call_id, Some(&d.from_tag))
    {
        let ties = c.partners(k);
        push(
            &mut found,
            Found {
                serial: k,
                role: LegRole::Consultation,
                via: ties.first().map(|t| t.via),
                evidence: vec![correlate::REPLACES],
            },
        );
        for tie in ties {
            let role = if t.new_call.is_some() {
                LegRole::Replaced
            } else {
                LegRole::Target
            };
            push(
                &mut found,
                Found {
                    serial: tie.other,
                    role,
                    via: Some(tie.via),
                    evidence: tie.evidence,
                },
            );
        }
    }
    // The new call: placed by the box itself (box-executed) or by the transferee
    // and relayed to the target.
    if let Some(n) = &t.new_call
        && let Some(s) = c.find(&n.call_id, None)
    {
        let box_ips: Vec<IpAddr> = found.iter().filter_map(|f| f.via.map(|v| v.ip())).collect();
        let by_box = c
            .leg(s)
            .is_some_and(|l| box_ips.contains(&l.caller_addr.ip()));
        let ties = c.partners(s);
        let role = if by_box || ties.is_empty() {
            LegRole::Target
        } else {
            LegRole::NewCall
        };
        let via = if by_box {
            c.leg(s).map(|l| l.caller_addr)
        } else {
            ties.first().map(|t| t.via)
        };
        push(
            &mut found,
            Found {
                serial: s,
                role,
                via,
                evidence: n.evidence.clone(),
            },
        );
        if role == LegRole::NewCall {
            for tie in ties {
                push(
                    &mut found,
                    Found {
                        serial: tie.other,
                        role: LegRole::Target,
                        via: Some(tie.via),
                        evidence: tie.evidence,
                    },
                );
            }
        }
    }
    // A Replaces rewritten by the box names its own leg toward the target: the new
    // call's Replaces names the replaced leg.
    let new_leg_replaces: Vec<String> = found
        .iter()
        .filter(|f| matches!(f.role, LegRole::NewCall | LegRole::Target))
        .filter_map(|f| c.leg(f.serial))
        .flat_map(|l| l.ids.iter())
        .filter(|(k, _)| *k == correlate::REPLACES)
        .filter_map(|(_, v)| v.split(';').next().map(str::to_string))
        .collect();
    for f in found.iter_mut().filter(|f| f.role == LegRole::Replaced) {
        if c.leg(f.serial)
            .is_some_and(|l| new_leg_replaces.contains(&l.call_id))
        {
            f.evidence.insert(0, REPLACES_REWRITTEN);
        }
    }
    if !found.iter().any(|f| f.role == LegRole::Transferee) {
        return false;
    }
    // A box-executed new call carries the transferee's correlation too: say so.
    let transferee_legs: Vec<usize> = found
        .iter()
        .filter(|f| f.role == LegRole::Transferee)
        .map(|f| f.serial)
        .collect();
    let target_leg = found
        .iter()
        .filter(|f| f.role == LegRole::Target)
        .map(|f| f.serial)
        .next_back();
    if let Some(target) = target_leg {
        let tied: Vec<&'static str> = c
            .partners(target)
            .into_iter()
            .filter(|tie| transferee_legs.contains(&tie.other))
            .flat_map(|tie| tie.evidence)
            .collect();
        let bridged = bridge_evidence(t, c, &found, target, &transferee_legs);
        if let Some(f) = found.iter_mut().find(|f| f.serial == target) {
            for e in tied.into_iter().chain(bridged.iter().copied()) {
                if !f.evidence.contains(&e) {
                    f.evidence.push(e);
                }
            }
        }
        outcome_from_legs(t, c, target, !bridged.is_empty());
    }
    // The phones as the parties.
    if let Some(f) = found.iter().find(|f| f.role == LegRole::Transferee)
        && let (Some(l), Some(via)) = (c.leg(f.serial), f.via)
    {
        t.transferee = phone_role(l, via.ip());
    }
    if let Some(f) = found.iter().rfind(|f| f.role == LegRole::Target)
        && let (Some(l), Some(via)) = (c.leg(f.serial), f.via)
    {
        t.target = phone_role(l, via.ip());
    }
    let phases = phase_map(t, &found, c);
    t.legs = found
        .iter()
        .zip(phases)
        .filter_map(|(f, phases)| {
            let l = c.leg(f.serial)?;
            let via = f.via?;
            Some(Leg {
                call_id: l.call_id.clone(),
                role: f.role,
                via: via.to_string(),
                phone: l.far_end(via.ip()).1.to_string(),
                invite_frame: l.invite.number,
                phases,
                evidence: f.evidence.clone(),
                invite: l.invite,
            })
        })
        .collect();
    t.legs.sort_by_key(|l| (l.invite.ts_ns, l.invite.seq));
    name_the_box(t, c, &found);
    true
}

/// The phone at the far end of a leg, as a role.
fn phone_role(l: &LegRecord, box_ip: IpAddr) -> Role {
    let (party, address) = l.far_end(box_ip);
    Role {
        name: party.name.clone(),
        uri: party.uri.clone(),
        address: Some(address),
    }
}

/// Why the target's leg counts as bridged to the transferee's leg, if it does:
/// the box re-offered the target's SDP session on the transferee's leg after the
/// REFER; the box hung up the transferor's legs while both stayed up (joined); a
/// hang-up on one was passed on to the other by the box.
fn bridge_evidence(
    t: &Transfer,
    c: &Correlator,
    found: &[Found],
    target: usize,
    transferee_legs: &[usize],
) -> Vec<&'static str> {
    let mut evidence = Vec::new();
    let Some(tl) = c.leg(target) else {
        return evidence;
    };
    let transferees: Vec<&LegRecord> = transferee_legs.iter().filter_map(|&s| c.leg(s)).collect();
    if transferees.is_empty() || tl.answered.is_none() {
        return evidence;
    }
    // The target's session offered to the transferee after the REFER.
    let sessions: Vec<&String> = tl.origins.iter().map(|(o, _)| o).collect();
    if transferees.iter().any(|l| {
        l.origins
            .iter()
            .any(|(o, f)| sessions.contains(&o) && before(t.refer.frame, *f))
    }) {
        evidence.push(BRIDGED_SDP);
    }
    // The box hung up the transferor's legs; the transferee's and target's stayed.
    let box_ips: Vec<IpAddr> = found.iter().filter_map(|f| f.via.map(|v| v.ip())).collect();
    let transferor_legs: Vec<&LegRecord> = found
        .iter()
        .filter(|f| matches!(f.role, LegRole::Transferor | LegRole::Consultation))
        .filter_map(|f| c.leg(f.serial))
        .collect();
    let last_box_bye = transferor_legs
        .iter()
        .map(|l| l.bye.filter(|(_, by)| box_ips.contains(&by.ip())))
        .collect::<Option<Vec<_>>>()
        .and_then(|byes| {
            byes.into_iter()
                .map(|(f, _)| f)
                .max_by_key(|f| (f.ts_ns, f.seq))
        });
    if let Some(joined_at) = last_box_bye {
        let up = |l: &LegRecord| l.bye.is_none_or(|(f, _)| before(joined_at, f));
        if t.new_call.is_none() && up(tl) && transferees.iter().all(|l| up(l)) {
            evidence.push(JOINED);
        }
    }
    // A hang-up passed on by the box.
    let passed = |a: &LegRecord, b: &LegRecord| match (a.bye, b.bye) {
        (Some((fa, _)), Some((fb, by))) => {
            box_ips.contains(&by.ip())
                && before(fa, fb)
                && fb.ts_ns.saturating_sub(fa.ts_ns) <= PROPAGATE_NS
        }
        _ => false,
    };
    if transferees.iter().any(|l| passed(l, tl) || passed(tl, l)) {
        evidence.push(RELEASE_PROPAGATED);
    }
    evidence
}

/// The outcome as the legs show it: the target's leg answered and bridged to the
/// transferee's → completed; the target's leg failed → failed with its status. The
/// sipfrag of a box's NOTIFY may say otherwise; the legs are what the users heard.
fn outcome_from_legs(t: &mut Transfer, c: &Correlator, target: usize, bridged: bool) {
    let Some(l) = c.leg(target) else { return };
    match (l.answered, l.failed) {
        // A refused REFER stays refused: the box did nothing for it.
        _ if t.outcome == Outcome::Rejected => {}
        (Some(answered), _) if bridged && t.outcome != Outcome::Completed => {
            t.outcome = Outcome::Completed;
            t.status = None;
            t.outcome_frame = Some(answered);
        }
        (None, Some((frame, status))) if t.outcome == Outcome::Unknown => {
            t.outcome = Outcome::Failed;
            t.status = Some(status);
            t.outcome_frame = Some(frame);
        }
        _ => {}
    }
}

/// For each found leg, the phases that happened on it: the phase's own dialog, and
/// for the calls the box relayed, the legs on the other side.
fn phase_map(t: &Transfer, found: &[Found], c: &Correlator) -> Vec<Vec<u8>> {
    found
        .iter()
        .map(|f| {
            let Some(l) = c.leg(f.serial) else {
                return Vec::new();
            };
            let mut numbers: Vec<u8> = t
                .phases
                .iter()
                .filter(|p| p.missing.is_none())
                .filter(|p| {
                    let own = p.dialog.as_deref() == Some(l.call_id.as_str());
                    let mirrored = match (p.kind, f.role) {
                        (PhaseKind::OriginalCall, LegRole::Transferee) => true,
                        (PhaseKind::TransferRequest | PhaseKind::Progress, LegRole::Transferee) => {
                            t.refer.hops > 1
                        }
                        (PhaseKind::OriginalReleased, LegRole::Transferee) => {
                            // The box passed the release on to this leg.
                            p.first.is_some_and(|first| {
                                l.bye.is_some_and(|(bye, by)| {
                                    f.via.is_some_and(|v| v.ip() == by.ip())
                                        && !before(bye, first)
                                        && bye.ts_ns.saturating_sub(first.ts_ns) <= PROPAGATE_NS
                                })
                            })
                        }
                        (PhaseKind::NewCall | PhaseKind::NewReleased, LegRole::Target) => true,
                        (
                            PhaseKind::ConsultationCall | PhaseKind::ConsultationReleased,
                            LegRole::Replaced,
                        ) => true,
                        (PhaseKind::ConsultationCall, LegRole::Target) => t.new_call.is_none(),
                        _ => false,
                    };
                    own || mirrored
                })
                .map(|p| p.kind.number())
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            numbers
        })
        .collect()
}

/// Findings about a message a box sent say so: the box, not a phone, broke the rule.
fn name_the_box(t: &mut Transfer, c: &Correlator, found: &[Found]) {
    let boxes: Vec<SocketAddr> = found.iter().filter_map(|f| f.via).collect();
    for finding in &mut t.findings {
        let sender = finding.frames.iter().find_map(|frame| {
            found
                .iter()
                .filter_map(|f| c.sender_of(f.serial, *frame))
                .find(|s| boxes.iter().any(|b| b.ip() == s.ip()))
        });
        if let Some(sender) = sender {
            finding
                .message
                .push_str(&format!(" (sent by the B2BUA at {sender})"));
        } else if finding.rule.code.as_str() == "X402" {
            // The referrer named by the triggered INVITE is the box's own address: the
            // box rewrote Referred-By when it relayed the REFER (topology hiding).
            let rewritten = boxes.iter().find(|b| {
                found.iter().any(|f| {
                    c.leg(f.serial).is_some_and(|l| {
                        l.ids.iter().any(|(k, v)| {
                            *k == correlate::REFERRED_BY
                                && v.rsplit('@').next() == Some(b.ip().to_string().as_str())
                        })
                    })
                })
            });
            if let Some(b) = rewritten {
                finding.message.push_str(&format!(
                    " (the B2BUA at {b} rewrote Referred-By when it relayed the REFER)"
                ));
            }
        }
    }
}
