//! Dialogs and transfer records in, transfer sessions out.
//!
//! A transfer session is one REFER transaction (RFC 3515) — however many hops and
//! retransmissions carried it — linked to the dialogs around it:
//!
//! - the **original call**: the dialog the REFER travels in (or the one its
//!   Target-Dialog names, RFC 4538, for a REFER outside a dialog);
//! - its **NOTIFYs**: same dialog identifiers, `Event: refer`, and `id` equal to the
//!   REFER's CSeq when there is one (RFC 3515 §2.4.6);
//! - the **new call**: the transferee's INVITE after the REFER, found by the strongest
//!   evidence available — the Replaces from the Refer-To (RFC 3891), the REFER's
//!   Referred-By (RFC 3892), the Request-URI against the Refer-To (user and host), the
//!   transferee's address, timing — every link keeps the evidence it used;
//! - the **consultation call** of an attended transfer: the dialog the Replaces names.
//!
//! Roles (RFC 5589): the transferor sends the REFER, the transferee receives it and
//! places the new call, the transfer target is called. Addresses are taken from the
//! phones' ends of each request (first hop for the sender, last hop for the receiver),
//! not from a proxy in between.

mod calls;
mod phase;
pub mod record;

pub use calls::calls_outside_transfers;
pub use phase::{MissingReason, Phase, PhaseKind, PhaseName};
pub use record::Collector;

use serde::Serialize;

use crate::capture::FrameRef;
use crate::dialog::{Answer, Dialog, Ending, Side};
use crate::rules::Config;
use crate::sip::Replaces;
use record::{Aor, InviteRecord, NotifyRecord, ReferRecord};

/// What kind of transfer (RFC 5589 §6, §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Refer-To without Replaces: the transferor did not talk to the target first.
    Blind,
    /// Replaces names a consultation dialog that was confirmed before the REFER.
    Attended,
    /// Replaces names a consultation dialog still early (ringing) at REFER time.
    SemiAttended,
    /// Replaces names a dialog that is not in the capture.
    RemoteAttended,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Blind => "blind",
            Kind::Attended => "attended",
            Kind::SemiAttended => "semi-attended",
            Kind::RemoteAttended => "remote-attended",
        }
    }
}

/// How a transfer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The transferee–target call was established.
    Completed,
    /// The target, or the transferee's attempt, ended in an error (see `status`).
    Failed,
    /// The REFER got a final non-2xx response (see `status`).
    Rejected,
    /// A party hung up before the outcome (the new call was cancelled).
    Abandoned,
    /// The capture ends before the outcome is known.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
            Outcome::Abandoned => "abandoned",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Which role a party plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Transferor,
    Transferee,
    Target,
}

/// A party of the transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    pub name: Option<String>,
    pub uri: String,
    pub address: Option<std::net::SocketAddr>,
}

impl Role {
    /// How phase names call this party: the display name, else the URI's user, else
    /// the host.
    pub fn short(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match Aor::parse(self.uri.trim_start_matches('<').trim_end_matches('>')) {
            Some(Aor {
                user: Some(user), ..
            }) if !user.is_empty() => user,
            Some(aor) => aor.host,
            None => self.uri.clone(),
        }
    }
}

/// The REFER as the transfer reports it.
#[derive(Clone, Debug)]
pub struct Refer {
    pub frame: FrameRef,
    pub call_id: String,
    pub cseq: u32,
    pub refer_to: String,
    /// More Refer-To values than one (RFC 3515 §2.4.1 allows exactly one).
    pub refer_to_count: usize,
    pub referred_by: Option<String>,
    pub replaces: Option<Replaces>,
    /// First final response: frame and status.
    pub response: Option<(FrameRef, u16)>,
    /// Hops the REFER was seen on, and retransmissions.
    pub hops: usize,
    pub retransmissions: u32,
    /// Refer-Sub asked in the REFER and granted in the 2xx (RFC 4488).
    pub refer_sub_requested: Option<bool>,
    pub refer_sub_granted: Option<bool>,
    /// The REFER travels outside any dialog (Target-Dialog, RFC 4538).
    pub out_of_dialog: bool,
}

/// A NOTIFY of the REFER's subscription.
#[derive(Clone, Debug)]
pub struct Notify {
    pub frame: FrameRef,
    pub cseq: u32,
    pub status: Option<u16>,
    pub sipfrag: Option<String>,
    pub subscription_state: Option<String>,
    pub reason: Option<String>,
    pub event_id: Option<String>,
    pub response: Option<(FrameRef, u16)>,
    pub retransmissions: u32,
}

/// The dialog the transferee's new call created.
#[derive(Clone, Debug)]
pub struct NewCall {
    pub call_id: String,
    pub invite: FrameRef,
    /// Which evidence linked it to the REFER, strongest first.
    pub evidence: Vec<&'static str>,
}

/// Who released the original call.
#[derive(Clone, Debug)]
pub struct Release {
    pub by: Option<RoleName>,
    pub frame: FrameRef,
    /// Whether the call was released before the outcome of the transfer was known.
    pub before_outcome: bool,
}

/// A transfer session.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub id: usize,
    pub kind: Kind,
    pub outcome: Outcome,
    /// The status that decided a failure or rejection.
    pub status: Option<u16>,
    pub transferor: Role,
    pub transferee: Role,
    pub target: Role,
    pub refer: Refer,
    pub notifies: Vec<Notify>,
    /// Call-ID and tags of the original call (the REFER's dialog).
    pub original_call: Option<DialogId>,
    pub consultation_call: Option<DialogId>,
    pub new_call: Option<NewCall>,
    pub phases: Vec<Phase>,
    pub released: Option<Release>,
    /// About the consultation dialog a Replaces names but the capture lacks.
    pub note: Option<String>,
    /// Findings about this transfer (RFC violations), from [`crate::rules::check`].
    pub findings: Vec<crate::rules::Finding>,
    /// When the outcome became known (the new call's final response, or the final
    /// sipfrag, or the REFER's rejection).
    pub outcome_frame: Option<FrameRef>,
    /// The earlier transfer this one retries: a REFER of the same transferor in the
    /// same dialog that was rejected.
    pub retry_of: Option<usize>,
    /// The earlier transfer whose new call is this one's original call (a chained
    /// transfer: A is moved to B, then on to C).
    pub follows: Option<usize>,
}

/// A dialog's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DialogId {
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
}

impl DialogId {
    fn of(d: &Dialog) -> DialogId {
        DialogId {
            call_id: d.call_id.clone(),
            from_tag: d.from_tag.clone(),
            to_tag: d.to_tag.clone(),
        }
    }
}

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
fn replaced_dialog<'d>(dialogs: &'d [Dialog], r: &Replaces) -> Option<&'d Dialog> {
    let call_id = r.call_id.as_deref()?;
    let by_tags = dialogs.iter().find(|d| {
        let (Some(to), Some(from)) = (r.to_tag.as_deref(), r.from_tag.as_deref()) else {
            return false;
        };
        same_dialog(d, call_id, to, Some(from))
    });
    by_tags.or_else(|| {
        let mut same_call = dialogs.iter().filter(|d| d.call_id == call_id);
        let first = same_call.next()?;
        same_call.next().is_none().then_some(first)
    })
}

/// How close in capture time a relayed copy of a REFER follows the original.
const RELAY_WINDOW_NS: i64 = 2_000_000_000;

/// Whether `later` is the REFER of a group relayed by a back-to-back user agent (an
/// SBC or a PBX that rewrites tags and CSeq, so the copy is a request of its own):
/// sent shortly after the group's last copy, by someone other than the transferor,
/// from the box that received that copy (or in the same Call-ID with new tags), and
/// referring to the same user.
fn relayed(group: &[&ReferRecord], later: &ReferRecord) -> bool {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return false;
    };
    let (Some(to), Some(from), Some(origin)) = (
        last.request.receiver(),
        later.request.sender(),
        first.request.sender(),
    ) else {
        return false;
    };
    let (a, b) = (last.request.first_frame(), later.request.first_frame());
    let user = |r: &ReferRecord| {
        r.targets
            .first()
            .and_then(|t| t.aor.clone())
            .and_then(|a| a.user)
    };
    // The B2BUA answers on one address and relays from another of its own, or keeps
    // the Call-ID while it rewrites tags and CSeq.
    let same_box = to.ip() == from.ip();
    let same_call = first.request.call_id == later.request.call_id
        && group
            .iter()
            .all(|g| g.request.from_tag != later.request.from_tag);
    from.ip() != origin.ip()
        && (same_box || same_call)
        && b > a
        && b.ts_ns.saturating_sub(a.ts_ns) <= RELAY_WINDOW_NS
        && user(first).is_some()
        && user(first) == user(later)
}

/// Builds the transfer sessions from what the collector kept and the finished dialogs.
pub fn link(collector: &Collector, dialogs: &[Dialog], config: &Config) -> Vec<Transfer> {
    Linker::default().ready(collector, dialogs, &|_| false, i64::MAX, config)
}

/// Links transfers as soon as they are complete, so they can be streamed while the
/// capture is still being read (`--format jsonl`); the last call, at the end of the
/// input, links the rest. The result is the same as one [`link`] at the end.
#[derive(Default)]
pub struct Linker {
    /// REFER records already linked into emitted transfers (they come in frame order).
    done: usize,
    /// Transfers emitted so far (the next one's id follows).
    emitted: usize,
    used_invites: Vec<usize>,
    /// The last rejected REFERs (Call-ID, transferor tag, transfer id), to tell a retry.
    rejected: Vec<(String, String, usize)>,
    /// The last new calls (Call-ID, transfer id), to tell a chained transfer.
    new_calls: Vec<(String, usize)>,
}

impl Linker {
    /// The first frame of the oldest REFER not yet linked.
    pub fn oldest_pending(&self, collector: &Collector) -> Option<FrameRef> {
        collector
            .refers
            .get(self.done)
            .map(|r| r.request.first_frame())
    }

    /// Call-IDs that REFERs not yet linked may need: their own, and those their
    /// Replaces name.
    pub fn pending_call_ids<'c>(
        &self,
        collector: &'c Collector,
    ) -> std::collections::HashSet<&'c str> {
        collector
            .refers
            .get(self.done..)
            .unwrap_or_default()
            .iter()
            .flat_map(|r| {
                let replaced = r
                    .targets
                    .iter()
                    .filter_map(|t| t.replaces.as_ref().and_then(|rp| rp.call_id.as_deref()));
                std::iter::once(r.request.call_id.as_str()).chain(replaced)
            })
            .collect()
    }

    /// The transfers that can no longer change, in REFER order: every dialog they link
    /// is over (`is_live` says no for its Call-ID) and the capture time `now_ns` is past
    /// the window in which a triggered INVITE could still come.
    pub fn ready(
        &mut self,
        collector: &Collector,
        dialogs: &[Dialog],
        is_live: &dyn Fn(&str) -> bool,
        now_ns: i64,
        config: &Config,
    ) -> Vec<Transfer> {
        let pending = collector.refers.get(self.done..).unwrap_or_default();
        // Group each REFER with its copies relayed by back-to-back user agents: one
        // transfer, seen on several legs.
        let mut groups: Vec<Vec<&ReferRecord>> = Vec::new();
        for r in pending {
            let home = groups.iter_mut().find(|g| g.len() < 4 && relayed(g, r));
            match home {
                Some(g) => g.push(r),
                None => groups.push(vec![r]),
            }
        }
        let mut transfers = Vec::new();
        for (i, group) in groups.iter().enumerate() {
            let Some(r) = group.first() else {
                continue;
            };
            let refer_ts = r.request.first_frame().ts_ns;
            if now_ns.saturating_sub(refer_ts) < record::TRIGGER_WINDOW_NS
                || is_live(&r.request.call_id)
            {
                break;
            }
            // The next REFER on the same dialog from the same side bounds where this
            // one's NOTIFYs and new call can be.
            let next_same_dialog = groups
                .iter()
                .skip(i + 1)
                .filter_map(|g| g.first())
                .find(|n| {
                    n.request.call_id == r.request.call_id
                        && n.request.from_tag == r.request.from_tag
                });
            let limit = next_same_dialog.map(|n| n.request.first_frame());
            let mut used = self.used_invites.clone();
            let transfer = build(
                self.emitted + transfers.len() + 1,
                r,
                group,
                limit,
                &Sources {
                    collector,
                    dialogs,
                    config,
                },
                &mut used,
            );
            let linked = [
                transfer.new_call.as_ref().map(|n| n.call_id.as_str()),
                transfer
                    .consultation_call
                    .as_ref()
                    .map(|d| d.call_id.as_str()),
            ];
            if linked.into_iter().flatten().any(is_live) {
                break;
            }
            self.used_invites = used;
            self.done += group.len();
            let mut transfer = transfer;
            transfer.retry_of = self
                .rejected
                .iter()
                .rev()
                .find(|(call_id, tag, _)| {
                    *call_id == r.request.call_id && *tag == r.request.from_tag
                })
                .map(|(_, _, id)| *id);
            transfer.follows = transfer.original_call.as_ref().and_then(|o| {
                self.new_calls
                    .iter()
                    .rev()
                    .find(|(call_id, _)| *call_id == o.call_id)
                    .map(|(_, id)| *id)
            });
            if let Some(n) = &transfer.new_call {
                if self.new_calls.len() >= 64 {
                    self.new_calls.remove(0);
                }
                self.new_calls.push((n.call_id.clone(), transfer.id));
            }
            if transfer.outcome == Outcome::Rejected {
                if self.rejected.len() >= 64 {
                    self.rejected.remove(0);
                }
                self.rejected.push((
                    r.request.call_id.clone(),
                    r.request.from_tag.clone(),
                    transfer.id,
                ));
            }
            transfers.push(transfer);
        }
        self.emitted += transfers.len();
        transfers
    }
}

/// What every transfer is built from.
struct Sources<'a> {
    collector: &'a Collector,
    dialogs: &'a [Dialog],
    config: &'a Config,
}

fn build(
    id: usize,
    r: &ReferRecord,
    group: &[&ReferRecord],
    limit: Option<FrameRef>,
    sources: &Sources<'_>,
    used_invites: &mut Vec<usize>,
) -> Transfer {
    let Sources {
        collector,
        dialogs,
        config,
    } = *sources;
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
    let replaces = target.and_then(|t| t.replaces.clone());
    let final_response = group
        .iter()
        .filter_map(|g| g.request.final_response())
        .min_by_key(|f| f.frame);
    let granted = final_response.and_then(|f| f.refer_sub);

    let original = original_dialog(r, dialogs);

    let transferor = Role {
        name: req.from.name.clone(),
        uri: req.from.uri.clone(),
        address: req.sender(),
    };
    let transferee = Role {
        name: req.to.name.clone(),
        uri: req.to.uri.clone(),
        address: last_leg.request.receiver(),
    };

    let notify_records = subscription_notifies(collector, req, limit);
    let notifies: Vec<Notify> = notify_records.iter().map(|n| Notify::of(n)).collect();

    // The new call.
    let rejected = final_response.is_some_and(|f| f.status >= 300);
    let new_call = if rejected {
        None
    } else {
        group
            .iter()
            .find_map(|g| find_new_call(g, &transferee, limit, collector, used_invites))
    };
    let new_dialog = new_call
        .as_ref()
        .and_then(|(invite, _)| dialog_of_invite(dialogs, invite));

    // The consultation call (attended transfers) and the kind.
    let consultation = replaces
        .as_ref()
        .and_then(|rp| replaced_dialog(dialogs, rp));
    let (kind, note) = kind_of(replaces.as_ref(), consultation, dialogs, req, target);

    // The target: named by the Refer-To; its address from the new call's last hop.
    let target_role = Role {
        name: target.and_then(|t| t.name.clone()),
        uri: target.map(|t| strip_headers(&t.uri)).unwrap_or_default(),
        address: new_call
            .as_ref()
            .and_then(|(invite, _)| target_address(collector, invite)),
    };

    let (outcome, status, outcome_frame) = outcome_of(final_response, new_dialog, &notifies);

    let released = original.and_then(|o| release_of(o, req, outcome_frame));

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
        id,
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
        new_call: new_call.as_ref().map(|(invite, evidence)| NewCall {
            call_id: invite.request.call_id.clone(),
            invite: invite.request.first_frame(),
            evidence: evidence.clone(),
        }),
        phases: Vec::new(),
        released,
        note,
        findings: Vec::new(),
        outcome_frame,
        retry_of: None,
        follows: None,
    };
    let transferee_sends_seen = transferee_requests_seen(req, original, new_dialog);
    transfer.phases = phase::phases(
        &transfer,
        r,
        original,
        consultation,
        new_dialog,
        transferee_sends_seen,
    );
    let facts = crate::rules::check::TransferFacts {
        transferee_requests_seen: transferee_sends_seen,
        refers: group,
        notifies: &notify_records,
        invite: new_call.as_ref().map(|(invite, _)| *invite),
        original,
        consultation,
        new_call: new_dialog,
        earlier_refer_in_dialog: accepted_refer_before(collector, req, group),
    };
    transfer.findings = crate::rules::check::transfer(&transfer, &facts, config);
    transfer
}

/// The original call: the REFER's dialog, or the one its Target-Dialog names
/// (RFC 4538) when the REFER travels outside any dialog.
fn original_dialog<'d>(r: &ReferRecord, dialogs: &'d [Dialog]) -> Option<&'d Dialog> {
    let req = &r.request;
    match &req.to_tag {
        Some(to) => dialogs
            .iter()
            .find(|d| same_dialog(d, &req.call_id, &req.from_tag, Some(to))),
        None => r
            .target_dialog
            .as_ref()
            .and_then(|(call_id, local, remote)| {
                dialogs.iter().find(|d| {
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

/// The NOTIFYs of a REFER's subscription: sent by the transferee to the transferor's
/// tag, in the REFER's Call-ID, after the REFER and before the next one of the same
/// dialog, `Event: refer` with `id` equal to the REFER's CSeq when present
/// (RFC 3515 §2.4.4, §2.4.6). In order.
fn subscription_notifies<'c>(
    collector: &'c Collector,
    req: &record::Request,
    limit: Option<FrameRef>,
) -> Vec<&'c NotifyRecord> {
    let refer_frame = req.first_frame();
    let mut n: Vec<&NotifyRecord> = collector
        .notifies
        .iter()
        .filter(|n| {
            let nr = &n.request;
            let frame = nr.first_frame();
            nr.call_id == req.call_id
                && nr.to_tag.as_deref() == Some(req.from_tag.as_str())
                && frame > refer_frame
                && limit.is_none_or(|l| frame < l)
                && n.event.as_ref().is_none_or(|(package, id)| {
                    package == "refer"
                        && id
                            .as_deref()
                            .is_none_or(|id| id.trim() == req.cseq.to_string())
                })
        })
        .collect();
    n.sort_by_key(|n| n.request.first_frame());
    n
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
fn dialog_of_invite<'d>(dialogs: &'d [Dialog], invite: &InviteRecord) -> Option<&'d Dialog> {
    let mut matching = dialogs
        .iter()
        .filter(|d| d.call_id == invite.request.call_id && d.from_tag == invite.request.from_tag);
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
    dialogs: &[Dialog],
    req: &record::Request,
    target: Option<&record::ReferTarget>,
) -> (Kind, Option<String>) {
    let refer_frame = req.first_frame();
    match (replaces, consultation) {
        (None, _) => (Kind::Blind, None),
        (Some(_), Some(c)) => match c.answered {
            Some(answered) if answered < refer_frame => (Kind::Attended, None),
            _ => (Kind::SemiAttended, None),
        },
        (Some(rp), None) => {
            let target_aor = target.and_then(|t| t.aor.clone());
            let leg_between = dialogs.iter().any(|d| {
                let parties = [&d.caller.uri, &d.callee.uri];
                let has = |uri: &str| {
                    let aor = Aor::parse(uri.trim_start_matches('<').trim_end_matches('>'));
                    parties
                        .iter()
                        .any(|p| Aor::parse(p.trim_start_matches('<').trim_end_matches('>')) == aor)
                };
                has(&req.from.uri)
                    && target_aor
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
/// retry after a 401/407 is a new request) goes on its last hop.
fn target_address(collector: &Collector, invite: &InviteRecord) -> Option<std::net::SocketAddr> {
    collector
        .invites
        .iter()
        .filter(|o| {
            o.request.call_id == invite.request.call_id
                && o.request.from_tag == invite.request.from_tag
        })
        .flat_map(|o| o.request.sightings.iter())
        .max_by_key(|s| s.frame)
        .map(|s| s.flow.dst)
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
        let in_dialog = !outside_dialog(req)
            && (o.from_tag == req.from_tag || o.to_tag.as_deref() == Some(req.from_tag.as_str()));
        let is_transferor = if in_dialog {
            sender_tag == req.from_tag
        } else {
            let aor = |uri: &str| Aor::parse(uri.trim_start_matches('<').trim_end_matches('>'));
            aor(&sender.uri).is_some() && aor(&sender.uri) == aor(&req.from.uri)
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
        before_outcome: outcome_frame.is_none_or(|o| frame < o),
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

/// Whether an earlier REFER in the same Call-ID (not a copy of this one) was accepted:
/// only then is there another subscription the NOTIFYs must be told apart from
/// (RFC 3515 §2.4.6).
fn accepted_refer_before(
    collector: &Collector,
    req: &record::Request,
    group: &[&ReferRecord],
) -> bool {
    let refer_frame = req.first_frame();
    collector.refers.iter().any(|other| {
        other.request.call_id == req.call_id
            && other.request.first_frame() < refer_frame
            && !group.iter().any(|g| std::ptr::eq(*g, other))
            && other
                .request
                .final_response()
                .is_some_and(|f| (200..300).contains(&f.status))
    })
}

/// Whether a REFER travels outside any dialog (no To tag).
fn outside_dialog(req: &record::Request) -> bool {
    req.to_tag.is_none()
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

/// Finds the transferee's INVITE that the REFER triggered, with the evidence used.
fn find_new_call<'c>(
    r: &ReferRecord,
    transferee: &Role,
    limit: Option<FrameRef>,
    collector: &'c Collector,
    used: &mut Vec<usize>,
) -> Option<(&'c InviteRecord, Vec<&'static str>)> {
    let req = &r.request;
    let refer_frame = req.first_frame();
    let target = r.targets.first();
    let target_aor = target.and_then(|t| t.aor.clone());
    let wanted_replaces = target
        .and_then(|t| t.replaces.as_ref())
        .and_then(|rp| rp.call_id.clone());
    let referred_by = r.referred_by.as_ref().and_then(|p| Aor::parse(&p.uri));
    let transferee_aor = Aor::parse(&req.to.uri);
    let transferor_aor = Aor::parse(&req.from.uri);
    let mut best: Option<(u32, usize, Vec<&'static str>)> = None;
    for (index, invite) in collector.invites_with_serials() {
        let frame = invite.request.first_frame();
        if frame <= refer_frame
            || limit.is_some_and(|l| frame >= l)
            || used.contains(&index)
            || invite.request.call_id == req.call_id
        {
            continue;
        }
        let replaces = wanted_replaces.as_ref().is_some_and(|call_id| {
            invite
                .replaces
                .iter()
                .any(|rp| rp.call_id.as_deref() == Some(call_id.as_str()))
        });
        let same_referrer = referred_by.as_ref().is_some_and(|want| {
            invite
                .referred_by
                .as_ref()
                .and_then(|p| Aor::parse(&p.uri))
                .as_ref()
                == Some(want)
        });
        let (uri, uri_user) = match (target_aor.as_ref(), invite.request_aor.as_ref()) {
            (Some(want), Some(have)) => (
                want == have,
                want != have && want.user.is_some() && want.user == have.user,
            ),
            _ => (false, false),
        };
        let from_transferee = invite.request.sender() == transferee.address
            || (transferee_aor.is_some() && Aor::parse(&invite.request.from.uri) == transferee_aor);
        let from_transferor = invite.request.sender() == req.sender()
            || (transferor_aor.is_some() && Aor::parse(&invite.request.from.uri) == transferor_aor);
        // The transferor calling the target itself is never the triggered call.
        if from_transferor && !from_transferee && !replaces {
            continue;
        }
        // Without a content match, only the transferee's next call within a few
        // seconds is taken, and said to rest on timing.
        let soon = frame.ts_ns.saturating_sub(refer_frame.ts_ns) <= 10_000_000_000;
        let timing = from_transferee && soon && !(replaces || same_referrer || uri || uri_user);
        // Strongest evidence first. The Request-URI counts only for a call the
        // transferee places: anyone may call the target.
        let weighed = [
            (replaces, "replaces", 8),
            (same_referrer, "referred-by", 4),
            (uri && from_transferee, "request-uri", 4),
            (uri_user && from_transferee, "request-uri-user", 2),
            (from_transferee, "transferee", 2),
            (timing, "timing", 1),
        ];
        let evidence: Vec<&'static str> = weighed.iter().filter(|w| w.0).map(|w| w.1).collect();
        let score: u32 = weighed.iter().filter(|w| w.0).map(|w| w.2).sum();
        if score < 3 {
            continue;
        }
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, index, evidence));
        }
    }
    let (_, index, evidence) = best?;
    used.push(index);
    collector.invite(index).map(|i| (i, evidence))
}
