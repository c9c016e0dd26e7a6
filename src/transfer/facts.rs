//! The facts the transfer stage hands up with each transfer, for the checks of
//! [`crate::rules`] to read: the records and dialogs the transfer was built from. The
//! transfer stage knows nothing of rules; it only says what it saw.

use super::dialogs::{FinishedDialogs, party_aor};
use super::record::{InviteRecord, NotifyRecord, ReferRecord};
use crate::dialog::Dialog;

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
    /// How the first Replaces of the triggered INVITE (what the target received)
    /// matches the dialogs of the capture; `None` when the INVITE has no Replaces or
    /// is not in the capture.
    pub replaces_match: Option<ReplacesMatch<'a>>,
    /// A blind transfer's REFER was sent while a call between the transferor and the
    /// target was up (answered before the REFER, not ended before it): the call a
    /// consultation would have been.
    pub call_with_target: Option<&'a Dialog>,
    /// A REFER with no To tag (missing or empty) and no Target-Dialog was sent in the
    /// Call-ID of this dialog, from the tag of one of its parties: it belongs to the
    /// dialog but does not say so.
    pub dialog_of_tagless_refer: Option<&'a Dialog>,
}

/// How a Replaces value (RFC 3891 §3) matches the dialogs of the capture. The target
/// (the INVITE's recipient) matches the to-tag against its own tag and the from-tag
/// against the other party's.
#[derive(Clone, Copy, Debug)]
pub enum ReplacesMatch<'a> {
    /// It names this dialog, tags the right way round (or the capture does not say
    /// which side the target was).
    Exact(&'a Dialog),
    /// It names this dialog only with to-tag and from-tag swapped.
    Swapped(&'a Dialog),
    /// Dialogs with its Call-ID are in the capture, but none has its two tags.
    TagsDiffer,
    /// It lacks the Call-ID or a tag, or has one empty.
    Incomplete,
    /// No dialog with its Call-ID is in the capture.
    UnknownCallId,
}

/// How the triggered INVITE's first Replaces matches the dialogs (see
/// [`ReplacesMatch`]). The target's side of the named dialog is the side that is not
/// the transferor (the REFER's sender: its address, else its URI).
pub(super) fn replaces_match<'d>(
    invite: Option<&InviteRecord>,
    refer: &ReferRecord,
    dialogs: &'d FinishedDialogs,
) -> Option<ReplacesMatch<'d>> {
    let r = invite?.replaces.first()?;
    let (Some(call_id), Some(to_tag), Some(from_tag)) = (
        non_empty(&r.call_id),
        non_empty(&r.to_tag),
        non_empty(&r.from_tag),
    ) else {
        return Some(ReplacesMatch::Incomplete);
    };
    let mut same_call = dialogs.with_call_id(call_id).peekable();
    if same_call.peek().is_none() {
        return Some(ReplacesMatch::UnknownCallId);
    }
    let sender = refer.request.sender();
    let transferor = party_aor(&refer.request.from.uri);
    for d in same_call {
        let Some(callee_tag) = d.to_tag.as_deref() else {
            continue;
        };
        let caller_tag = d.from_tag.as_str();
        let tags = (to_tag, from_tag);
        if tags != (callee_tag, caller_tag) && tags != (caller_tag, callee_tag) {
            continue;
        }
        // The target's own tag, when the capture says which side it was.
        let transferor_is_caller = Some(d.caller_addr) == sender
            || (transferor.is_some() && party_aor(&d.caller.uri) == transferor);
        let transferor_is_callee = Some(d.callee_addr) == sender
            || (transferor.is_some() && party_aor(&d.callee.uri) == transferor);
        let target_tag = match (transferor_is_caller, transferor_is_callee) {
            (true, false) => callee_tag,
            (false, true) => caller_tag,
            _ => return Some(ReplacesMatch::Exact(d)),
        };
        return Some(if to_tag == target_tag {
            ReplacesMatch::Exact(d)
        } else {
            ReplacesMatch::Swapped(d)
        });
    }
    Some(ReplacesMatch::TagsDiffer)
}

/// For a blind transfer (no Replaces in the Refer-To), a call between the transferor
/// and the Refer-To's target (by user and host) that was up when the REFER was sent.
pub(super) fn call_with_target<'d>(
    refer: &ReferRecord,
    original: Option<&Dialog>,
    dialogs: &'d FinishedDialogs,
) -> Option<&'d Dialog> {
    let target = refer.targets.first()?;
    if target.replaces.is_some() {
        return None;
    }
    let target = target.aor.as_ref()?;
    let at = refer.request.first_frame();
    let transferor = party_aor(&refer.request.from.uri);
    // Looked up by the pair of parties, so a phone with many calls costs nothing.
    dialogs
        .between(&transferor, &Some(target.clone()))
        .find(|d| {
            let is_original = original.is_some_and(|o| std::ptr::eq(o, *d));
            !is_original && d.answered.is_some_and(|a| a < at) && d.ended.is_none_or(|e| e > at)
        })
}

/// A Replaces part that is there and not empty.
fn non_empty(part: &Option<String>) -> Option<&str> {
    part.as_deref().filter(|v| !v.is_empty())
}

/// For a REFER without a To tag (missing or empty) and without Target-Dialog, the
/// dialog of its Call-ID whose caller or callee tag is the REFER's From tag.
pub(super) fn dialog_of_tagless_refer<'d>(
    refer: &ReferRecord,
    dialogs: &'d FinishedDialogs,
) -> Option<&'d Dialog> {
    let req = &refer.request;
    if req.to_tag.is_some() || refer.target_dialog.is_some() {
        return None;
    }
    dialogs
        .with_call_id(&req.call_id)
        .find(|d| d.from_tag == req.from_tag || d.to_tag.as_deref() == Some(req.from_tag.as_str()))
}
