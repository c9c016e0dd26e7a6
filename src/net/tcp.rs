//! TCP stream reassembly, one direction at a time.
//!
//! Guarantees:
//! - Bytes reach the sink in sequence order, each byte at most once: retransmissions
//!   are dropped and overlaps trimmed (the copy received first wins), and both are
//!   counted.
//! - A stream starts at SYN+1 (RFC 9293 §3.4), or at the first segment with data when
//!   the capture begins mid-stream. Sequence numbers are compared modulo 2^32 (RFC 9293
//!   §3.4.1) and mapped to a 64-bit stream offset, so wrap-around is invisible.
//! - Fast path: an in-order segment with nothing unconsumed is handed to the sink
//!   straight from the frame. Bytes are copied only when the sink leaves some
//!   unconsumed or a segment arrives out of order.
//! - Out-of-order bytes and unconsumed bytes are capped per direction
//!   (`Limits::stream_bytes`) and over all streams (`Limits::total_stream_bytes`).
//!   When a cap is hit, the oldest hole is declared lost: the sink gets `stream_gap`
//!   and delivery resumes with the buffered bytes. Holes still open at FIN, at
//!   eviction and at the end are given up the same way.
//! - FIN and RST end a direction with `stream_end` (RST both directions);
//!   idle directions (`Limits::stream_idle_ns` of capture time) are flushed and ended.
//!   Events at the end of the input follow a sorted order of flows (deterministic).

use std::collections::{BTreeMap, HashMap};

use super::{Flow, Limits, NetStats, Sink};
use crate::capture::FrameRef;

/// How long a closed direction is remembered (capture time), so that retransmissions
/// arriving after its FIN or RST are recognised rather than taken for a new stream.
const CLOSED_LINGER_NS: i64 = 10_000_000_000;

/// One TCP segment, as the IP layer decoded it.
pub(super) struct Segment<'a> {
    pub flow: Flow,
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// One direction of a TCP connection.
struct Direction {
    /// Sequence number of stream offset 0.
    base_seq: u32,
    /// Initial sequence number when the SYN was seen (to recognise its retransmission).
    isn: Option<u32>,
    /// Stream offset of the next byte expected.
    next: u64,
    /// In-order bytes offered to the sink and not consumed; they end at `next`.
    unconsumed: Vec<u8>,
    /// Out-of-order segments by stream offset (may overlap each other).
    ahead: BTreeMap<u64, Vec<u8>>,
    ahead_bytes: usize,
    /// FIN or RST processed: only retransmissions or a new SYN are expected.
    closed: bool,
    last_frame: FrameRef,
}

impl Direction {
    fn new(base_seq: u32, isn: Option<u32>, at: FrameRef) -> Direction {
        Direction {
            base_seq,
            isn,
            next: 0,
            unconsumed: Vec::new(),
            ahead: BTreeMap::new(),
            ahead_bytes: 0,
            closed: false,
            last_frame: at,
        }
    }

    fn buffered(&self) -> usize {
        self.unconsumed.len() + self.ahead_bytes
    }

    /// Stream offset of `seq`: the signed distance to the next expected sequence
    /// number, so a number just past 2^32 - 1 maps just after `next`.
    fn offset_of(&self, seq: u32) -> i64 {
        let expected = self.base_seq.wrapping_add(self.next as u32);
        let distance = seq.wrapping_sub(expected) as i32;
        (self.next as i64).saturating_add(i64::from(distance))
    }
}

#[derive(Default)]
pub(super) struct Reassembler {
    streams: HashMap<Flow, Direction>,
    /// Bytes buffered over all directions.
    buffered: usize,
    /// Capture time of the next sweep for idle directions.
    next_sweep_ns: Option<i64>,
}

/// What a call into the reassembler needs besides the segment.
pub(super) struct Context<'s, S: Sink> {
    pub at: FrameRef,
    pub limits: &'s Limits,
    pub stats: &'s mut NetStats,
    pub sink: &'s mut S,
}

impl Reassembler {
    pub fn segment<S: Sink>(&mut self, segment: Segment<'_>, cx: &mut Context<'_, S>) {
        cx.stats.tcp_segments += 1;
        self.sweep_idle(cx);
        let flow = segment.flow;
        // A reset also ends the reverse direction, so both take part in the accounting.
        let flows = [flow, reverse(flow)];
        let before: usize = flows.iter().map(|f| self.buffered_in(f)).sum();
        self.process(segment, cx);
        let after: usize = flows.iter().map(|f| self.buffered_in(f)).sum();
        self.buffered = (self.buffered + after).saturating_sub(before);
        if self.buffered > cx.limits.total_stream_bytes {
            // Over the global cap: give up the holes of this direction (the one that grew).
            if let Some(direction) = self.streams.get_mut(&flow) {
                let before = direction.buffered();
                cx.stats.tcp_overflows += 1;
                let at = cx.at;
                skip_holes(direction, flow, at, true, cx);
                if !direction.unconsumed.is_empty() {
                    cx.sink.stream_gap(at, flow);
                    direction.unconsumed.clear();
                }
                let after = direction.buffered();
                self.buffered = (self.buffered + after).saturating_sub(before);
            }
        }
    }

    fn buffered_in(&self, flow: &Flow) -> usize {
        self.streams.get(flow).map_or(0, Direction::buffered)
    }

    fn process<S: Sink>(&mut self, segment: Segment<'_>, cx: &mut Context<'_, S>) {
        let flow = segment.flow;
        if segment.rst {
            // RFC 9293 §3.10.7: a reset aborts the connection, both directions.
            for flow in [flow, reverse(flow)] {
                if let Some(direction) = self.streams.get_mut(&flow) {
                    end(direction, flow, cx.at, cx);
                }
            }
            return;
        }
        let restart = match self.streams.get(&flow) {
            None => true,
            // A SYN with a new ISN is a new connection on the same ports.
            Some(d) => segment.syn && d.isn != Some(segment.seq),
        };
        if restart {
            if let Some(old) = self.streams.get_mut(&flow) {
                end(old, flow, cx.at, cx);
            }
            if segment.syn {
                // The SYN occupies one sequence number; data starts after it.
                let direction =
                    Direction::new(segment.seq.wrapping_add(1), Some(segment.seq), cx.at);
                self.streams.insert(flow, direction);
            } else if segment.payload.is_empty() {
                // A bare ACK or FIN of a stream never seen: nothing to follow.
                return;
            } else {
                self.streams
                    .insert(flow, Direction::new(segment.seq, None, cx.at));
            }
        }
        let data_seq = if segment.syn {
            segment.seq.wrapping_add(1)
        } else {
            segment.seq
        };
        if let Some(closed) = self.streams.get(&flow).filter(|d| d.closed) {
            let offset = closed.offset_of(data_seq);
            let end = offset.saturating_add(segment.payload.len() as i64);
            if end <= closed.next as i64 {
                // Late copies of what was delivered before the FIN or RST.
                if !segment.payload.is_empty() {
                    cx.stats.tcp_retransmissions += 1;
                }
                return;
            }
            // New bytes after the end: a new connection whose SYN was not captured.
            self.streams
                .insert(flow, Direction::new(data_seq, None, cx.at));
        }
        let Some(direction) = self.streams.get_mut(&flow) else {
            return;
        };
        direction.last_frame = cx.at;
        let offset = direction.offset_of(data_seq);
        if !segment.payload.is_empty() {
            receive(direction, flow, offset, segment.payload, cx);
        }
        if segment.fin {
            // The sender has no more data (RFC 9293 §3.6): a hole still open now is
            // given up, so the sink hears about it at the frame of the FIN rather
            // than at the end of the capture.
            end(direction, flow, cx.at, cx);
        }
    }

    /// Flushes and ends directions idle for longer than the cap, and forgets closed
    /// ones after a short linger. Runs a few times per idle period of capture time (at
    /// least every few seconds), so the scan costs little per segment.
    fn sweep_idle<S: Sink>(&mut self, cx: &mut Context<'_, S>) {
        let now = cx.at.ts_ns;
        let idle = cx.limits.stream_idle_ns.max(1);
        let linger = CLOSED_LINGER_NS.min(idle);
        match self.next_sweep_ns {
            Some(next) if now < next => return,
            _ => {
                let interval = (idle / 4).min(linger / 2).max(1);
                self.next_sweep_ns = Some(now.saturating_add(interval));
            }
        }
        let mut stale: Vec<Flow> = self
            .streams
            .iter()
            .filter(|(_, d)| {
                let age = now.saturating_sub(d.last_frame.ts_ns);
                age > idle || (d.closed && age > linger)
            })
            .map(|(flow, _)| *flow)
            .collect();
        stale.sort_unstable_by_key(|f| (f.src, f.dst));
        for flow in stale {
            if let Some(mut direction) = self.streams.remove(&flow) {
                self.buffered = self.buffered.saturating_sub(direction.buffered());
                let last = direction.last_frame;
                end(&mut direction, flow, last, cx);
            }
        }
    }

    /// End of input: open directions are flushed (holes become gaps) and ended.
    pub fn finish<S: Sink>(&mut self, cx: &mut Context<'_, S>) {
        let mut flows: Vec<Flow> = self.streams.keys().copied().collect();
        flows.sort_unstable_by_key(|f| (f.src, f.dst));
        for flow in flows {
            if let Some(mut direction) = self.streams.remove(&flow) {
                let last = direction.last_frame;
                end(&mut direction, flow, last, cx);
            }
        }
        self.buffered = 0;
    }
}

fn reverse(flow: Flow) -> Flow {
    Flow {
        src: flow.dst,
        dst: flow.src,
    }
}

/// Takes the bytes of one segment at `offset`.
fn receive<S: Sink>(
    direction: &mut Direction,
    flow: Flow,
    offset: i64,
    payload: &[u8],
    cx: &mut Context<'_, S>,
) {
    let next = direction.next as i64;
    let end = offset.saturating_add(payload.len() as i64);
    if end <= next {
        cx.stats.tcp_retransmissions += 1;
        return;
    }
    let payload = if offset < next {
        // Starts before what was already received: keep only the new tail.
        cx.stats.tcp_overlaps += 1;
        let skip = (next - offset) as usize;
        payload.get(skip..).unwrap_or_default()
    } else {
        payload
    };
    let offset = offset.max(next) as u64;
    if offset == direction.next {
        deliver(direction, flow, payload, cx);
    } else {
        let slot = direction.ahead.entry(offset).or_default();
        if slot.len() < payload.len() {
            direction.ahead_bytes = direction.ahead_bytes + payload.len() - slot.len();
            slot.clear();
            slot.extend_from_slice(payload);
        } else {
            cx.stats.tcp_retransmissions += 1;
        }
    }
    if direction.buffered() > cx.limits.stream_bytes {
        cx.stats.tcp_overflows += 1;
        let at = cx.at;
        flush(direction, flow, at, cx);
    }
}

/// Appends in-order bytes, pulls what became contiguous from the out-of-order buffer,
/// and offers everything unconsumed to the sink.
fn deliver<S: Sink>(direction: &mut Direction, flow: Flow, data: &[u8], cx: &mut Context<'_, S>) {
    direction.next += data.len() as u64;
    let contiguous_ahead = direction
        .ahead
        .first_key_value()
        .is_some_and(|(offset, _)| *offset <= direction.next);
    if direction.unconsumed.is_empty() && !contiguous_ahead {
        // Fast path: straight from the frame, copy only what the sink leaves.
        let used = cx.sink.stream(cx.at, flow, data).min(data.len());
        if let Some(rest) = data.get(used..) {
            direction.unconsumed.extend_from_slice(rest);
        }
        return;
    }
    direction.unconsumed.extend_from_slice(data);
    pull_ahead(direction, cx.stats);
    offer(direction, flow, cx.at, cx);
}

/// Moves out-of-order segments that now continue the stream into `unconsumed`.
fn pull_ahead(direction: &mut Direction, stats: &mut NetStats) {
    while let Some(entry) = direction.ahead.first_entry() {
        let offset = *entry.key();
        if offset > direction.next {
            break;
        }
        let bytes = entry.remove();
        direction.ahead_bytes = direction.ahead_bytes.saturating_sub(bytes.len());
        let skip = (direction.next - offset) as usize;
        match bytes.get(skip..) {
            Some(tail) if !tail.is_empty() => {
                if skip > 0 {
                    stats.tcp_overlaps += 1;
                }
                direction.unconsumed.extend_from_slice(tail);
                direction.next += tail.len() as u64;
            }
            _ => stats.tcp_retransmissions += 1,
        }
    }
}

fn offer<S: Sink>(direction: &mut Direction, flow: Flow, at: FrameRef, cx: &mut Context<'_, S>) {
    if direction.unconsumed.is_empty() {
        return;
    }
    let used = cx.sink.stream(at, flow, &direction.unconsumed);
    let used = used.min(direction.unconsumed.len());
    direction.unconsumed.drain(..used);
}

/// Gives up on holes until the buffered bytes fit the cap again (or, with `all`, until
/// nothing is left ahead): each hole becomes a gap, delivery resumes after it.
fn skip_holes<S: Sink>(
    direction: &mut Direction,
    flow: Flow,
    at: FrameRef,
    all: bool,
    cx: &mut Context<'_, S>,
) {
    while let Some((&offset, _)) = direction.ahead.first_key_value() {
        if !all && direction.buffered() <= cx.limits.stream_bytes {
            break;
        }
        if offset > direction.next {
            cx.stats.tcp_gaps += 1;
            cx.stats.tcp_gap_bytes += offset - direction.next;
            cx.sink.stream_gap(at, flow);
            // What the sink left unconsumed can no longer be completed.
            direction.unconsumed.clear();
            direction.next = offset;
        }
        pull_ahead(direction, cx.stats);
        offer(direction, flow, at, cx);
    }
    if direction.unconsumed.len() > cx.limits.stream_bytes {
        // The sink keeps refusing bytes: drop them rather than grow without bound.
        cx.sink.stream_gap(at, flow);
        direction.unconsumed.clear();
    }
}

/// Over a cap: skip holes until the direction fits again.
fn flush<S: Sink>(direction: &mut Direction, flow: Flow, at: FrameRef, cx: &mut Context<'_, S>) {
    skip_holes(direction, flow, at, false, cx);
}

/// Ends a direction: remaining holes become gaps, buffered bytes are offered, then
/// `stream_end`. The direction stays as a closed marker so late retransmissions are
/// recognised, with its buffers freed.
fn end<S: Sink>(direction: &mut Direction, flow: Flow, at: FrameRef, cx: &mut Context<'_, S>) {
    if direction.closed {
        return;
    }
    skip_holes(direction, flow, at, true, cx);
    cx.sink.stream_end(at, flow);
    direction.closed = true;
    direction.unconsumed = Vec::new();
    direction.ahead = BTreeMap::new();
    direction.ahead_bytes = 0;
}
