//! What the transfer stage hands up to the rules besides the transfer itself.

use crate::dialog::Dialog;

use super::record::{InviteRecord, NotifyRecord, ReferRecord};

/// The facts the transfer stage hands up for the checks of one transfer
/// ([`crate::rules::check::transfer`]): the records and dialogs it linked, and what it
/// learned about the capture's view of them.
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
