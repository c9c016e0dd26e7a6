//! The checks, one file per rule family, one function per rule (or per rules that
//! read the same thing in one pass). [`super::check`] runs the families; the order
//! they run in, and the order inside each, is the order of the findings.
//!
//! Every check states what it looks at. A check fires only on what the capture shows;
//! where a capture taken at one point of the network cannot see a message (a NOTIFY the
//! proxy answered itself), the message says "in the capture", not "was never sent".

pub(crate) mod flow;
pub(crate) mod framing;
pub(crate) mod policy;
pub(crate) mod refer;
pub(crate) mod referred_by;
pub(crate) mod replaces;
pub(crate) mod subscription;

use super::{Code, Config, Finding};
use crate::capture::FrameRef;
use crate::transfer::record::ReferRecord;
use crate::transfer::{Transfer, TransferFacts};

/// Where the checks put their findings: the configuration sets the severity of each
/// one, or silences it.
pub(crate) struct Out<'c> {
    pub(crate) config: &'c Config,
    pub(crate) findings: Vec<Finding>,
}

impl<'c> Out<'c> {
    pub(crate) fn new(config: &'c Config) -> Out<'c> {
        Out {
            config,
            findings: Vec::new(),
        }
    }

    /// A finding of rule `code`, unless the configuration silences it.
    pub(crate) fn add(&mut self, code: Code, frames: Vec<FrameRef>, message: String) {
        if let Some(f) = Finding::new(self.config, code, frames, message) {
            self.findings.push(f);
        }
    }
}

/// The transfer a family checks, with what the transfer stage found around it.
pub(crate) struct TransferView<'a> {
    pub(crate) t: &'a Transfer,
    pub(crate) facts: &'a TransferFacts<'a>,
    /// The REFER as first seen (the first of `facts.refers`).
    pub(crate) refer: &'a ReferRecord,
}
