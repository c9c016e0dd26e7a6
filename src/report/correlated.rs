//! `calls --correlate`: end-to-end calls, the legs of each call through B2BUAs
//! (PBX, SBC) grouped, with the boxes and the evidence that ties each pair of legs.

use std::fmt::Write as _;

use serde::Serialize;

use super::{SCHEMA_VERSION, escape_str};
use crate::analysis::{Analysis, InputSummary};
use crate::correlate::{CallLeg, CorrelatedCall};

/// The JSON document of `calls --correlate`.
#[derive(Serialize)]
pub struct CorrelatedJson<'a> {
    pub schema_version: u32,
    pub inputs: &'a [InputSummary],
    pub calls: &'a [CorrelatedCall],
}

pub fn json(a: &Analysis) -> CorrelatedJson<'_> {
    CorrelatedJson {
        schema_version: SCHEMA_VERSION,
        inputs: &a.inputs,
        calls: &a.correlated.calls,
    }
}

fn party(name: Option<&str>, uri: &str) -> String {
    match name {
        Some(n) => format!("{} <{}>", escape_str(n), escape_str(uri)),
        None => format!("<{}>", escape_str(uri)),
    }
}

fn leg_line(l: &CallLeg) -> String {
    format!(
        "    {:<9} {} {} → {} {}  {}  INVITE frame {}\n",
        if l.answered { "answered" } else { "-" },
        escape_str(&l.caller_address),
        party(l.caller.name.as_deref(), &l.caller.uri),
        escape_str(&l.callee_address),
        party(l.callee.name.as_deref(), &l.callee.uri),
        escape_str(&l.call_id),
        l.invite_frame
    )
}

/// The end-to-end calls as text; a line when there are none.
pub fn text(a: &Analysis) -> String {
    let mut out = String::new();
    if a.correlated.calls.is_empty() {
        out.push_str("No calls through a B2BUA: every call is one dialog (see `sipxfer calls`).\n");
        return out;
    }
    for (i, c) in a.correlated.calls.iter().enumerate() {
        let _ = writeln!(
            out,
            "Call {}  {} legs through {}",
            i + 1,
            c.legs.len(),
            escape_str(&c.boxes.join(", "))
        );
        for l in &c.legs {
            out.push_str(&leg_line(l));
        }
        for t in &c.ties {
            let _ = writeln!(
                out,
                "    tie {} ⇄ {} via {}: {}",
                escape_str(&t.from),
                escape_str(&t.to),
                escape_str(&t.via),
                t.evidence.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    out
}
