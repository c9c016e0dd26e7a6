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

mod build;
mod calls;
mod dialogs;
mod facts;
pub mod legs;
mod link;
mod model;
mod new_call;
mod phase;
pub mod record;

pub use calls::calls_outside_transfers;
pub use dialogs::{FinishedDialogs, Listed, Place};
pub use facts::{ReplacesMatch, TransferFacts};
pub use legs::{Leg, LegRole};
pub use link::{LinkStats, Linker, LiveCalls, MAX_PENDING};
pub use model::{
    DialogId, Kind, NewCall, Notify, Outcome, Refer, Release, Role, RoleName, Transfer,
};
pub use phase::{MissingReason, Phase, PhaseKind, PhaseName};
pub use record::Collector;
