//! The facts the transfer stage hands up with each transfer, for the checks of
//! [`crate::rules`] to read: the records and dialogs the transfer was built from. The
//! transfer stage knows nothing of rules; it only says what it saw.

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
}
