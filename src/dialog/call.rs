//! What the dialog layer keeps about a call: small, owned, and serialisable.

use std::net::SocketAddr;

use serde::Serialize;

use crate::capture::FrameRef;
use crate::net::Transport;
use crate::sip::sdp::Direction;

/// A party as named in a From or To header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    /// The display name, when the header has one (lossily decoded; escape before printing).
    pub name: Option<String>,
    /// The URI as written.
    pub uri: String,
}

/// Which end of a dialog did something: the one that sent the initial INVITE, or the
/// one that received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Caller,
    Callee,
}

/// Where an INVITE dialog is in its life (RFC 3261 §12, §13.2.2.4, §15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DialogState {
    /// INVITE sent, no response with a to-tag yet.
    Trying,
    /// A provisional response with a to-tag created an early dialog (§12.1).
    Early,
    /// A 2xx confirmed the dialog.
    Confirmed,
    /// BYE, CANCEL or an error ended it.
    Terminated,
}

/// How the initial INVITE of a dialog ended (what a user calls the call's state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Still waiting for a final response at the end of the capture.
    Pending,
    /// A 2xx answered it.
    Answered,
    /// A final 3xx–6xx answered it (other than the 487 that follows a CANCEL).
    Rejected,
    /// The caller cancelled it (CANCEL, then 487 or no final response).
    Cancelled,
    /// The capture starts inside the dialog: the INVITE is not in it.
    BeforeCapture,
}

/// How a dialog ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// A BYE (RFC 3261 §15).
    Bye,
    /// The INVITE was rejected or cancelled: the dialog never got going.
    Final,
    /// An in-dialog request got 481 or 408, which ends the dialog (RFC 3261 §12.2.1.2).
    Error,
    /// The INVITE got no response at all while the capture went on for Timer B
    /// (64*T1 = 32 s, RFC 3261 §17.1.1.2): its transaction timed out.
    Timeout,
}

/// A change of media direction seen in an SDP offer (RFC 3264 §8.4): hold or resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaChange {
    pub frame: FrameRef,
    /// Who sent the offer.
    pub by: Side,
    pub direction: Direction,
}

/// An in-dialog request that later stages care about (REFER, NOTIFY, re-INVITE, BYE),
/// with its final response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub frame: FrameRef,
    pub method: String,
    pub cseq: u32,
    pub by: Side,
    /// First frame of the final response and its status.
    pub response: Option<(FrameRef, u16)>,
    /// Retransmissions of this request seen.
    pub retransmissions: u32,
}

/// One INVITE dialog: Call-ID plus both tags (RFC 3261 §12).
#[derive(Clone, Debug)]
pub struct Dialog {
    pub call_id: String,
    /// The caller's tag (From of the initial INVITE).
    pub from_tag: String,
    /// The callee's tag; `None` while no response carried one.
    pub to_tag: Option<String>,
    pub caller: Party,
    pub callee: Party,
    /// Addresses of the first INVITE packet seen (a proxy's, when the capture is taken
    /// between a phone and its proxy).
    pub caller_addr: SocketAddr,
    pub callee_addr: SocketAddr,
    pub transport: Transport,
    pub state: DialogState,
    pub answer: Answer,
    /// Final status of the initial INVITE, when one was seen.
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub ending: Option<Ending>,
    /// Who ended the dialog (the BYE's sender, the canceller, ...).
    pub ended_by: Option<Side>,
    /// Frame of the initial INVITE (or the first frame seen when the INVITE is not captured).
    pub invite: FrameRef,
    /// First 2xx to the initial INVITE.
    pub answered: Option<FrameRef>,
    /// First ACK of the initial INVITE (for the 2xx, or for the final error).
    pub ack: Option<FrameRef>,
    /// First frame of what ended the dialog (BYE, final error response, CANCEL's 487).
    pub ended: Option<FrameRef>,
    pub first: FrameRef,
    pub last: FrameRef,
    /// SIP messages seen for this dialog, retransmissions and every hop included.
    pub messages: u32,
    /// Of those, retransmissions (same transaction and message again on the same hop).
    pub retransmissions: u32,
    /// Authentication challenges (401/407) to the initial INVITE that were retried.
    pub challenges: u32,
    pub media: Vec<MediaChange>,
    pub requests: Vec<Request>,
    /// User-Agent / Server strings seen, caller's then callee's.
    pub caller_agent: Option<String>,
    pub callee_agent: Option<String>,
    /// Whether the initial INVITE is in the capture (it may be lost, or its fragments
    /// incomplete; then `invite` is the first frame seen of the dialog).
    pub invite_seen: bool,
    /// Requests whose CSeq went down from the previous request of the same side
    /// (RFC 3261 §12.2.1.1): frame, previous CSeq, this CSeq (the first few).
    pub cseq_regressions: Vec<(FrameRef, u32, u32)>,
    /// Highest CSeq of a request seen from the caller and from the callee.
    pub last_cseq: [Option<u32>; 2],
}

impl Dialog {
    /// Capture time from the INVITE (or first frame) to the end, or to the last frame
    /// seen when the dialog is still up.
    pub fn duration_ns(&self) -> i64 {
        let end = self.ended.unwrap_or(self.last);
        end.ts_ns.saturating_sub(self.invite.ts_ns).max(0)
    }

    /// Whether the dialog was still established when the capture ended.
    pub fn up_at_end(&self) -> bool {
        matches!(self.state, DialogState::Confirmed)
    }

    /// The side whose tag is `from_tag` in a request's From header.
    pub fn side_of_from_tag(&self, from_tag: &[u8]) -> Side {
        if self.from_tag.as_bytes() == from_tag {
            Side::Caller
        } else {
            Side::Callee
        }
    }
}
