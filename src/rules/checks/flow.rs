//! The call flow around a transfer (`X5xx`, RFC 5589): who released the call, and
//! what the outcome then was.

use super::{Out, TransferView};
use crate::rules::Code;
use crate::transfer::{Outcome, RoleName};

/// The flow checks of a transfer.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    released_before_outcome_caller_lost(out, v);
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
