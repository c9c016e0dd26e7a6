//! The transferee's INVITE that a REFER triggered (RFC 3515 §2.4.3, RFC 5589 §6-§7),
//! found by the strongest evidence available, strongest first: the Replaces from the
//! Refer-To (RFC 3891), the REFER's Referred-By (RFC 3892), the Request-URI against the
//! Refer-To (user and host), the transferee's address or URI, timing. Candidates come
//! from the collector's clue index: an INVITE that shows none of the clues could never
//! score enough, so it is never looked at.

use super::model::Role;
use super::record::{Aor, Clue, Collector, ReferRecord, TRIGGER_WINDOW_NS};
use crate::capture::FrameRef;

/// Evidence of one link, with its weight; a candidate needs 3 in all.
const MIN_SCORE: u32 = 3;

/// How soon after the REFER the transferee's next call counts on timing alone.
const TIMING_WINDOW_NS: i64 = 10_000_000_000;

/// Finds the transferee's INVITE that the REFER triggered, with the evidence used: its
/// serial and the evidence, strongest first. INVITEs in `used` are taken by earlier
/// transfers. Only INVITEs after the REFER, before `limit` (the next REFER of the same
/// dialog side) and within [`TRIGGER_WINDOW_NS`] of it are candidates.
pub(super) fn find(
    r: &ReferRecord,
    transferee: &Role,
    limit: Option<FrameRef>,
    collector: &Collector,
    used: &foldhash::HashSet<usize>,
) -> Option<(usize, Vec<&'static str>)> {
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
    let mut clues = Vec::with_capacity(4);
    clues.extend(wanted_replaces.clone().map(Clue::Replaces));
    clues.extend(referred_by.clone().map(Clue::ReferredBy));
    clues.extend(transferee.address.map(Clue::Sender));
    clues.extend(transferee_aor.clone().map(Clue::From));
    let mut best: Option<(u32, usize, Vec<&'static str>)> = None;
    for serial in collector.invites_by(&clues) {
        let Some(invite) = collector.invite(serial) else {
            continue;
        };
        let frame = invite.request.first_frame();
        if frame <= refer_frame
            || limit.is_some_and(|l| frame >= l)
            || frame.ts_ns.saturating_sub(refer_frame.ts_ns) > TRIGGER_WINDOW_NS
            || used.contains(&serial)
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
        let from = Aor::parse(&invite.request.from.uri);
        let from_transferee = invite.request.sender() == transferee.address
            || (transferee_aor.is_some() && from == transferee_aor);
        let from_transferor = invite.request.sender() == req.sender()
            || (transferor_aor.is_some() && from == transferor_aor);
        // The transferor calling the target itself is never the triggered call.
        if from_transferor && !from_transferee && !replaces {
            continue;
        }
        let (score, evidence) = weigh(&Evidence {
            replaces,
            same_referrer,
            uri,
            uri_user,
            from_transferee,
            soon: frame.ts_ns.saturating_sub(refer_frame.ts_ns) <= TIMING_WINDOW_NS,
        });
        if score < MIN_SCORE {
            continue;
        }
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, serial, evidence));
        }
    }
    best.map(|(_, serial, evidence)| (serial, evidence))
}

/// What a candidate INVITE shows.
struct Evidence {
    replaces: bool,
    same_referrer: bool,
    uri: bool,
    uri_user: bool,
    from_transferee: bool,
    soon: bool,
}

/// The score and the names of the evidence, strongest first. The Request-URI counts
/// only for a call the transferee places: anyone may call the target. Without a content
/// match, only the transferee's next call within a few seconds is taken, and said to
/// rest on timing.
fn weigh(e: &Evidence) -> (u32, Vec<&'static str>) {
    let content = e.replaces || e.same_referrer || e.uri || e.uri_user;
    let weighed = [
        (e.replaces, "replaces", 8),
        (e.same_referrer, "referred-by", 4),
        (e.uri && e.from_transferee, "request-uri", 4),
        (e.uri_user && e.from_transferee, "request-uri-user", 2),
        (e.from_transferee, "transferee", 2),
        (e.from_transferee && e.soon && !content, "timing", 1),
    ];
    let evidence = weighed.iter().filter(|w| w.0).map(|w| w.1).collect();
    let score = weighed.iter().filter(|w| w.0).map(|w| w.2).sum();
    (score, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence() -> Evidence {
        Evidence {
            replaces: false,
            same_referrer: false,
            uri: false,
            uri_user: false,
            from_transferee: false,
            soon: false,
        }
    }

    #[test]
    fn replaces_alone_links_a_call() {
        let (score, names) = weigh(&Evidence {
            replaces: true,
            ..evidence()
        });
        assert!(score >= MIN_SCORE);
        assert_eq!(names, ["replaces"]);
    }

    #[test]
    fn the_transferee_calling_anyone_later_is_not_enough() {
        let (score, _) = weigh(&Evidence {
            from_transferee: true,
            ..evidence()
        });
        assert!(score < MIN_SCORE);
        let (score, names) = weigh(&Evidence {
            from_transferee: true,
            soon: true,
            ..evidence()
        });
        assert!(score >= MIN_SCORE);
        assert_eq!(names, ["transferee", "timing"]);
    }

    #[test]
    fn a_request_uri_match_counts_only_from_the_transferee() {
        let (score, _) = weigh(&Evidence {
            uri: true,
            ..evidence()
        });
        assert!(score < MIN_SCORE);
        let (_, names) = weigh(&Evidence {
            uri: true,
            from_transferee: true,
            ..evidence()
        });
        assert_eq!(names, ["request-uri", "transferee"]);
    }
}
