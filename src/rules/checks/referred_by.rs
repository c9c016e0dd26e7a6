//! Referred-By (`X4xx`, RFC 3892).

use super::{Out, TransferView};
use crate::rules::Code;

/// The Referred-By checks of a transfer.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    not_copied(out, v);
}

/// X401: the REFER's Referred-By is copied into the triggered INVITE (RFC 3892 §2.2).
fn not_copied(out: &mut Out<'_>, v: &TransferView<'_>) {
    if let (Some(_), Some(invite)) = (&v.t.refer.referred_by, v.facts.invite)
        && invite.referred_by.is_none()
    {
        out.add(
            Code::X401,
            vec![invite.request.first_frame()],
            "the REFER carried Referred-By, the triggered INVITE does not".to_string(),
        );
    }
}
