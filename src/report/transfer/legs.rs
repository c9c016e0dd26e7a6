//! The legs of a transfer through a B2BUA, as text: one line a leg under the
//! transfer, with its role, the phone at its far end, its Call-ID, the frame of its
//! INVITE, the phases that happened on it and the evidence that ties it in.

use std::fmt::Write as _;

use crate::report::escape_str;
use crate::transfer::Transfer;

/// The `legs` section of a transfer; empty when its dialogs cross no box.
pub fn legs_text(t: &Transfer) -> String {
    let mut out = String::new();
    if t.legs.is_empty() {
        return out;
    }
    let mut boxes: Vec<&str> = t.legs.iter().map(|l| l.via.as_str()).collect();
    boxes.dedup();
    boxes.sort_unstable();
    boxes.dedup();
    let _ = writeln!(
        out,
        "  legs        through the B2BUA at {}",
        escape_str(&boxes.join(", "))
    );
    let width = t
        .legs
        .iter()
        .map(|l| escape_str(&l.call_id).chars().count())
        .max()
        .unwrap_or(0);
    for l in &t.legs {
        let phases: Vec<String> = l.phases.iter().map(u8::to_string).collect();
        let _ = writeln!(
            out,
            "    {:<13} {:<21} {:<width$}  INVITE {:<5} phases {:<9} {}",
            l.role.as_str(),
            escape_str(&l.phone),
            escape_str(&l.call_id),
            l.invite_frame,
            if phases.is_empty() {
                "-".to_string()
            } else {
                phases.join(",")
            },
            l.evidence.join(", "),
        );
    }
    out
}
