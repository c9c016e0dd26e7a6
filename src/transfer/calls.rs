//! Which calls took part in no transfer: `analyze` points the user at `sipxfer calls`
//! for those.

use super::Transfer;
use crate::dialog::Dialog;

/// The indexes in `dialogs` of the calls that are no transfer's original,
/// consultation or new call. Calls are matched by Call-ID, so every dialog of a forked
/// INVITE belongs to the transfer one of them belongs to.
pub fn calls_outside_transfers(transfers: &[Transfer], dialogs: &[Dialog]) -> Vec<usize> {
    let involved: std::collections::HashSet<&str> = transfers
        .iter()
        .flat_map(|t| {
            [
                t.original_call.as_ref().map(|d| d.call_id.as_str()),
                t.consultation_call.as_ref().map(|d| d.call_id.as_str()),
                t.new_call.as_ref().map(|n| n.call_id.as_str()),
            ]
        })
        .flatten()
        .collect();
    dialogs
        .iter()
        .enumerate()
        .filter(|(_, d)| !involved.contains(d.call_id.as_str()))
        .map(|(i, _)| i)
        .collect()
}
