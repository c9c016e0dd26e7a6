//! Policy (`X7xx`): what the user's configuration allows.

use super::{Out, TransferView};
use crate::rules::Code;

/// The policy checks of a transfer.
pub(crate) fn transfer(out: &mut Out<'_>, v: &TransferView<'_>) {
    target_outside_trusted_domains(out, v);
}

/// X701: the first Refer-To's host is inside the trusted domains (RFC 3515 §5.2).
/// Silent until trusted domains are configured.
fn target_outside_trusted_domains(out: &mut Out<'_>, v: &TransferView<'_>) {
    let config = out.config;
    if !config.trusted_domains.is_empty()
        && let Some(host) = v
            .refer
            .targets
            .first()
            .and_then(|t| t.aor.as_ref())
            .map(|a| a.host.clone())
        && !config.trusts(&host)
    {
        out.add(
            Code::X701,
            vec![v.t.refer.frame],
            format!("transfer target host {host} is outside the trusted domains"),
        );
    }
}
