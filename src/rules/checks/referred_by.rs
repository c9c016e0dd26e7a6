//! Referred-By (`X4xx`, RFC 3892).

use super::{Out, TransferView};
use crate::rules::Code;
use crate::transfer::record::Aor;

/// The Referred-By checks of a transfer.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    not_copied(out, v);
    changed(out, v);
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

/// X402: the triggered INVITE names another referrer than the REFER's Referred-By
/// (RFC 3892 §2.2: the referee copies it); compared by user and host.
fn changed(out: &mut Out<'_>, v: &TransferView<'_>) {
    let (Some(refer_by), Some(invite)) = (&v.refer.referred_by, v.facts.invite) else {
        return;
    };
    let Some(invite_by) = &invite.referred_by else {
        return;
    };
    let (a, b) = (
        Aor::parse(&bare(&refer_by.uri)),
        Aor::parse(&bare(&invite_by.uri)),
    );
    if a.is_some() && b.is_some() && a != b {
        out.add(
            Code::X402,
            vec![v.t.refer.frame, invite.request.first_frame()],
            format!(
                "the REFER's Referred-By is {}, the triggered INVITE's is {}: the referrer was changed, not copied",
                refer_by.uri, invite_by.uri
            ),
        );
    }
}

/// A URI without the `<>` of a name-addr.
fn bare(uri: &str) -> String {
    uri.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}
