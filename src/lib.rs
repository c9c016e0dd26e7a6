//! sipxfer: find SIP call transfers in packet captures and explain what happened.
//!
//! The crate is a pipeline: each stage is a module with one job, and data flows one way,
//! as a stream (capture, net, sip and dialog each import only the stages before them):
//!
//! ```text
//! files ─► capture ─► net ─► sip ─► dialog ─► transfer ─► rules ─► report
//! ```
//!
//! - [`capture`]: streaming pcap / pcapng / gzip readers, several files merged by time,
//!   each optionally read on a thread of its own.
//! - [`net`]: link layers, IP (with fragment reassembly), tunnels, UDP, TCP reassembly.
//! - [`sip`]: lenient zero-copy SIP parser, typed headers, and the stage that frames
//!   SIP on datagrams and streams (plain or WebSocket) and hands each message on.
//! - [`dialog`]: transactions, dialogs keyed by Call-ID and both tags, call state.
//! - [`correlate`]: the legs of a call through a B2BUA (PBX, SBC) tied together.
//! - [`transfer`]: REFER, NOTIFY, Referred-By and Replaces linked into transfer sessions.
//! - [`rules`]: the catalog of protocol violations and the checks that find them.
//! - [`analysis`]: wires the stages over a set of inputs and collects the result.
//! - [`export`]: writes the frames of one transfer (or call) as a capture of their own.
//! - [`report`]: renders a finished analysis as text or JSON; computes nothing new.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod correlate;
pub mod dialog;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod net;
pub mod report;
pub mod rules;
pub mod sip;
pub mod transfer;

/// Pushes onto a list that usually holds one item (a call's legs, a request's
/// responses): the first push takes room for that one only, where a `Vec` takes room
/// for four; later pushes grow as usual. With thousands of calls up at once, those
/// three empty slots were half of what a call cost.
pub(crate) fn push_few<T>(list: &mut Vec<T>, item: T) {
    if list.capacity() == 0 {
        list.reserve_exact(1);
    }
    list.push(item);
}
