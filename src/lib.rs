//! sipxfer: find SIP call transfers in packet captures and explain what happened.
//!
//! The crate follows the pipeline of `DESIGN.md`; each stage is a module with one job
//! and data flows one way, as a stream:
//!
//! ```text
//! files ─► capture ─► net ─► sip ─► dialog ─► transfer ─► report
//! ```
//!
//! - [`capture`]: streaming pcap / pcapng / gzip readers, several files merged by time.
//! - [`net`]: link layers, IP (with fragment reassembly), tunnels, UDP, TCP reassembly.
//! - [`sip`]: lenient zero-copy SIP parser, framing on datagrams and streams, typed headers.
//! - [`dialog`]: transactions, dialogs keyed by Call-ID and both tags, call state.
//! - [`transfer`]: REFER, NOTIFY, Referred-By and Replaces linked into transfer sessions.
//! - [`analysis`]: drives the stages over a set of inputs and collects the result.
//! - [`report`]: renders a finished analysis as text or JSON; computes nothing new.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod dialog;
pub mod net;
pub mod report;
pub mod rules;
pub mod sip;
pub mod transfer;
