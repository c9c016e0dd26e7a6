//! The entry points of the checks: the rule families of `rules::checks`, run over one
//! transfer or over the capture as a whole, in a fixed order (the order of the
//! findings).

use super::checks::{
    Out, TransferView, flow, framing, policy, refer, referred_by, replaces, subscription,
};
use super::{Config, Finding};
use crate::capture::{Damage, FrameRef};
use crate::dialog::Dialog;
use crate::sip::stage::MessageProblem;
use crate::transfer::record::Collector;
use crate::transfer::{Kind, Transfer, TransferFacts};

/// The checks about one transfer.
pub fn transfer(t: &Transfer, facts: &TransferFacts<'_>, config: &Config) -> Vec<Finding> {
    // A REFER whose Refer-To is no sip:/sips:/tel: URI (content indirection, `cid:`,
    // RFC 3515 §2.1 allows any URI) asks for something other than a call: the transfer
    // rules (sipfrag NOTIFYs, Replaces, Referred-By, the flow) do not apply to it.
    if t.kind == Kind::NotTransfer {
        return Vec::new();
    }
    let Some(refer) = facts.refers.first() else {
        return Vec::new();
    };
    let v = TransferView { t, facts, refer };
    let mut out = Out::new(config);
    refer::transfer(&mut out, &v);
    replaces::transfer(&mut out, &v);
    subscription::transfer(&mut out, &v);
    referred_by::transfer(&mut out, &v);
    flow::transfer(&mut out, &v);
    policy::transfer(&mut out, &v);
    let mut findings = out.findings;
    for f in &mut findings {
        f.transfer = Some(t.id);
    }
    findings
}

/// The input files and what stopped their reading, for the capture's checks.
pub struct Inputs<'a> {
    pub damage: &'a [Damage],
    /// The time of the last frame read.
    pub end_ns: i64,
}

/// The checks about the capture as a whole: damage to the input files, message
/// framing, CSeq order, stray Replaces.
pub fn capture(
    inputs: &Inputs<'_>,
    dialogs: &[Dialog],
    collector: &Collector,
    problems: &[MessageProblem],
    unparsable: &[FrameRef],
    config: &Config,
) -> Vec<Finding> {
    let mut out = Out::new(config);
    framing::input_damage(&mut out, inputs.damage, inputs.end_ns);
    framing::problems(&mut out, problems.iter().map(|p| (p.frame, &p.kind)));
    framing::unparsable(&mut out, unparsable);
    subscription::cseq_not_increasing(&mut out, dialogs);
    replaces::stray(&mut out, collector);
    out.findings
}
