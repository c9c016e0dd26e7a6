//! Several inputs merged into one stream ordered by timestamp.
//!
//! Guarantees:
//! - Each input's own order is kept (a file with timestamps going backwards is not
//!   reordered); among inputs, the earliest next frame goes first and ties go to the
//!   input given first.
//! - No frame is copied: the next record of each input is parsed in place and waits in
//!   its own read window ([`Input::peek_ts`]); only the chosen one is delivered.
//! - With a single input, frames come straight from it at its own speed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Frame, Input};

/// Several inputs merged into one stream of frames ordered by timestamp.
pub struct Merge {
    inputs: Vec<Input>,
    /// Next timestamp of every input that has one, earliest first; ties by index.
    heads: BinaryHeap<Reverse<(i64, usize)>>,
    started: bool,
    /// The input whose frame was delivered last: its next timestamp is read at the
    /// next call, once that frame is no longer borrowed.
    refill: Option<usize>,
    /// Frames delivered so far: the `seq` of the merged stream.
    delivered: u64,
}

impl Merge {
    pub fn new(inputs: Vec<Input>) -> Merge {
        Merge {
            inputs,
            heads: BinaryHeap::new(),
            started: false,
            refill: None,
            delivered: 0,
        }
    }

    /// The next frame of whichever input has the earliest timestamp.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if self.inputs.len() == 1 {
            return self.inputs.first_mut().and_then(Input::next_frame);
        }
        if !self.started {
            self.started = true;
            for (i, input) in self.inputs.iter_mut().enumerate() {
                if let Some(ts) = input.peek_ts() {
                    self.heads.push(Reverse((ts, i)));
                }
            }
        }
        let mut next = None;
        if let Some(i) = self.refill.take()
            && let Some(ts) = self.inputs.get_mut(i).and_then(Input::peek_ts)
        {
            // The input just read from usually comes next again (the files of a ring
            // buffer follow each other): then the heap would hand it straight back.
            if self.heads.peek().is_none_or(|Reverse(top)| (ts, i) < *top) {
                next = Some(i);
            } else {
                self.heads.push(Reverse((ts, i)));
            }
        }
        let i = match next {
            Some(i) => i,
            None => self.heads.pop()?.0.1,
        };
        self.refill = Some(i);
        let mut frame = self.inputs.get_mut(i).and_then(Input::next_frame)?;
        self.delivered += 1;
        frame.seq = self.delivered;
        Some(frame)
    }

    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    pub fn into_inputs(self) -> Vec<Input> {
        self.inputs
    }
}
