//! REFERs that could not become a transfer: seen while the analysis runs (an
//! [`Observer`] around another), so that the report never says "no REFER" when a REFER
//! request line was in the capture, and says which REFER could not be linked and why.
//!
//! A REFER is linked by its Call-ID and CSeq (with its From tag and bottom Via branch,
//! RFC 3261 §17.2.3): one that lacks either cannot be, typically because a blank line
//! cut its header section short and the rest was read as its body.

use serde::Serialize;

use crate::analysis::{Found, Observer};
use crate::capture::FrameRef;
use crate::sip::message::starts_with_header_line;
use crate::sip::{Method, ProblemKind};
use crate::transfer::Transfer;

/// How many unlinked REFERs are kept with their frames (all are counted).
pub const MAX_KEPT: usize = 64;

/// A REFER that could not be linked into a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unlinked {
    pub frame: FrameRef,
    /// Why, in the user's words.
    pub reason: String,
}

/// The JSON of an unlinked REFER.
#[derive(Serialize)]
pub struct UnlinkedJson<'a> {
    pub file: u32,
    pub frame: u64,
    pub time: f64,
    pub reason: &'a str,
}

/// Why a REFER cannot be linked, or `None` when it can.
fn unlinkable(found: &Found<'_, '_>) -> Option<String> {
    let m = found.message;
    if m.method() != Some(Method::Refer) {
        return None;
    }
    let mut missing = Vec::new();
    if m.call_id().is_none() {
        missing.push("Call-ID");
    }
    if m.cseq().is_none() {
        missing.push("CSeq");
    }
    if missing.is_empty() {
        return None;
    }
    let mut reason = format!("it has no {}", missing.join(" and no "));
    let body = m.body();
    let start = body
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(body.len());
    if starts_with_header_line(body.get(start..).unwrap_or_default()) {
        reason.push_str(
            ": a blank line ends its headers early, and the header lines after it were read as its body",
        );
        let announced = m.content_type().is_some() || m.content_length().is_some_and(|n| n > 0);
        if announced {
            reason.push_str(" (a Content-Type or Content-Length before it announced a body)");
        }
    } else if m
        .problems()
        .iter()
        .any(|p| p.kind == ProblemKind::MissingHeaderEnd)
    {
        reason.push_str(": its headers are cut short");
    }
    Some(reason)
}

/// An observer that notes the REFERs that cannot be linked, and passes everything on
/// to `inner`.
pub struct ReferWatch<O> {
    pub inner: O,
    pub unlinked: Vec<Unlinked>,
    /// Every unlinked REFER, kept or not.
    pub count: u64,
}

impl<O> ReferWatch<O> {
    pub fn new(inner: O) -> ReferWatch<O> {
        ReferWatch {
            inner,
            unlinked: Vec::new(),
            count: 0,
        }
    }
}

impl<O: Observer> Observer for ReferWatch<O> {
    fn message(&mut self, found: &Found<'_, '_>) {
        if let Some(reason) = unlinkable(found) {
            self.count += 1;
            if self.unlinked.len() < MAX_KEPT {
                self.unlinked.push(Unlinked {
                    frame: found.frame,
                    reason,
                });
            }
        }
        self.inner.message(found);
    }
    fn streams_transfers(&self) -> bool {
        self.inner.streams_transfers()
    }
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        self.inner.transfer(zero_ns, transfer);
    }
    fn lists_calls(&self) -> bool {
        self.inner.lists_calls()
    }
    fn takes_calls(&self) -> bool {
        self.inner.takes_calls()
    }
    fn call(&mut self, zero_ns: i64, listed: crate::transfer::Listed) {
        self.inner.call(zero_ns, listed);
    }
    fn progress(&mut self, read: u64, total: Option<u64>) {
        self.inner.progress(read, total);
    }
}
