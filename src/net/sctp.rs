//! SCTP DATA chunks to user messages.
//!
//! Guarantees:
//! - Every DATA chunk of a packet is looked at (chunks are bundled, RFC 9260 §6.10).
//! - An unfragmented chunk (B and E flags both set) is delivered straight from the
//!   frame. Fragments of a user message carry consecutive TSNs from the B fragment to
//!   the E fragment (RFC 9260 §6.9); they are collected per association direction and
//!   delivered as one message at the frame of the fragment that completed it.
//! - A chunk seen again (same TSN) is not buffered twice. Buffered fragments are capped
//!   per direction (`Limits::stream_bytes`); what is dropped or never completed is
//!   counted in `sctp_incomplete_messages`.

use std::collections::HashMap;

use super::link::{be16, be32};
use super::{Flow, Limits, NetStats, Sink, Transport};
use crate::capture::FrameRef;

const CHUNK_DATA: u8 = 0;
const FLAG_END: u8 = 0x01;
const FLAG_BEGIN: u8 = 0x02;

struct Piece {
    tsn: u32,
    begin: bool,
    end: bool,
    data: Vec<u8>,
}

#[derive(Default)]
pub(super) struct Reassembler {
    pending: HashMap<Flow, Vec<Piece>>,
    /// Highest TSN of a message assembled per direction: a fragment at or below it is a
    /// retransmission of a message already delivered.
    assembled: HashMap<Flow, u32>,
}

/// The ports of an SCTP packet and its chunks, or None when the common header is cut.
pub(super) fn ports(packet: &[u8]) -> Option<(u16, u16)> {
    Some((be16(packet, 0)?, be16(packet, 2)?))
}

impl Reassembler {
    /// Delivers the user messages of one SCTP packet (RFC 9260 §3: 12-byte common
    /// header, then chunks padded to 4 bytes). Returns false when a chunk is malformed
    /// (the chunks before it are still delivered).
    pub fn packet<S: Sink>(
        &mut self,
        flow: Flow,
        packet: &[u8],
        at: FrameRef,
        limits: &Limits,
        stats: &mut NetStats,
        sink: &mut S,
    ) -> bool {
        let mut rest = match packet.get(12..) {
            Some(rest) => rest,
            None => return false,
        };
        while !rest.is_empty() {
            let (Some(&kind), Some(&flags), Some(length)) =
                (rest.first(), rest.get(1), be16(rest, 2))
            else {
                return false;
            };
            let length = usize::from(length);
            let Some(chunk) = rest.get(..length).filter(|_| length >= 4) else {
                return false;
            };
            if kind == CHUNK_DATA {
                // DATA: TSN(4) stream id(2) stream seq(2) PPID(4), then user data.
                let (Some(tsn), Some(data)) = (be32(chunk, 4), chunk.get(16..)) else {
                    return false;
                };
                self.data(flow, tsn, flags, data, at, limits, stats, sink);
            }
            let padded = length.saturating_add(3) & !3;
            rest = rest.get(padded..).unwrap_or_default();
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn data<S: Sink>(
        &mut self,
        flow: Flow,
        tsn: u32,
        flags: u8,
        data: &[u8],
        at: FrameRef,
        limits: &Limits,
        stats: &mut NetStats,
        sink: &mut S,
    ) {
        let begin = flags & FLAG_BEGIN != 0;
        let end = flags & FLAG_END != 0;
        if begin && end {
            stats.sctp_messages += 1;
            sink.datagram(at, flow, Transport::Sctp, data);
            return;
        }
        // TSNs compare modulo 2^32 (RFC 9260 §3.3.1, serial number arithmetic).
        if let Some(&last) = self.assembled.get(&flow)
            && (tsn.wrapping_sub(last) as i32) <= 0
        {
            return;
        }
        let pieces = self.pending.entry(flow).or_default();
        if pieces.iter().any(|p| p.tsn == tsn) {
            return;
        }
        let held: usize = pieces.iter().map(|p| p.data.len()).sum();
        if held.saturating_add(data.len()) > limits.stream_bytes {
            // Give up what is held: those messages can no longer complete.
            stats.sctp_incomplete_messages += pieces.iter().filter(|p| p.begin).count() as u64;
            pieces.clear();
        }
        pieces.push(Piece {
            tsn,
            begin,
            end,
            data: data.to_vec(),
        });
        if let Some((message, last)) = assemble(pieces, tsn) {
            self.assembled.insert(flow, last);
            stats.sctp_messages += 1;
            sink.datagram(at, flow, Transport::Sctp, &message);
        }
        if pieces.is_empty() {
            self.pending.remove(&flow);
        }
    }

    pub fn finish(&mut self, stats: &mut NetStats) {
        for pieces in self.pending.values() {
            stats.sctp_incomplete_messages +=
                pieces.iter().filter(|p| p.begin).count().max(1) as u64;
        }
        self.pending.clear();
        self.assembled.clear();
    }
}

/// The message that the piece with `tsn` completed, with its last TSN, if any: walks back to its B
/// fragment and forward to its E fragment over consecutive TSNs.
fn assemble(pieces: &mut Vec<Piece>, tsn: u32) -> Option<(Vec<u8>, u32)> {
    let find = |pieces: &[Piece], tsn: u32| pieces.iter().position(|p| p.tsn == tsn);
    let mut first = tsn;
    loop {
        let piece = pieces.get(find(pieces, first)?)?;
        if piece.begin {
            break;
        }
        first = first.wrapping_sub(1);
    }
    let mut last = tsn;
    loop {
        let piece = pieces.get(find(pieces, last)?)?;
        if piece.end {
            break;
        }
        last = last.wrapping_add(1);
    }
    let mut message = Vec::new();
    let mut current = first;
    loop {
        let index = find(pieces, current)?;
        let piece = pieces.swap_remove(index);
        message.extend_from_slice(&piece.data);
        if current == last {
            return Some((message, last));
        }
        current = current.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    #[derive(Default)]
    struct Messages(Vec<Vec<u8>>);

    impl Sink for Messages {
        fn datagram(&mut self, _: FrameRef, _: Flow, transport: Transport, payload: &[u8]) {
            assert_eq!(transport, Transport::Sctp);
            self.0.push(payload.to_vec());
        }
        fn stream(&mut self, _: FrameRef, _: Flow, data: &[u8]) -> usize {
            data.len()
        }
        fn stream_gap(&mut self, _: FrameRef, _: Flow) {}
        fn stream_end(&mut self, _: FrameRef, _: Flow) {}
    }

    fn data_chunk(tsn: u32, flags: u8, data: &[u8]) -> Vec<u8> {
        let length = 16 + data.len();
        let mut chunk = vec![CHUNK_DATA, flags];
        chunk.extend_from_slice(&(length as u16).to_be_bytes());
        chunk.extend_from_slice(&tsn.to_be_bytes());
        chunk.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        chunk.extend_from_slice(data);
        while chunk.len() % 4 != 0 {
            chunk.push(0);
        }
        chunk
    }

    fn packet(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut packet = vec![0x13, 0xc4, 0x13, 0xc4, 0, 0, 0, 1, 0, 0, 0, 0];
        for chunk in chunks {
            packet.extend_from_slice(chunk);
        }
        packet
    }

    fn flow() -> Flow {
        let a: SocketAddr = "10.0.0.1:5060"
            .parse()
            .unwrap_or(SocketAddr::from(([0; 4], 0)));
        Flow { src: a, dst: a }
    }

    fn run(packets: &[Vec<u8>]) -> (Vec<Vec<u8>>, NetStats) {
        let mut r = Reassembler::default();
        let mut stats = NetStats::default();
        let mut sink = Messages::default();
        for p in packets {
            assert!(r.packet(
                flow(),
                p,
                FrameRef::default(),
                &Limits::default(),
                &mut stats,
                &mut sink
            ));
        }
        r.finish(&mut stats);
        (sink.0, stats)
    }

    #[test]
    fn bundled_unfragmented_chunks_are_separate_messages() {
        let p = packet(&[data_chunk(1, 3, b"one"), data_chunk(2, 3, b"two!")]);
        let (messages, stats) = run(&[p]);
        assert_eq!(messages, vec![b"one".to_vec(), b"two!".to_vec()]);
        assert_eq!(stats.sctp_messages, 2);
    }

    #[test]
    fn fragments_are_joined_in_tsn_order_whatever_the_arrival_order() {
        let p1 = packet(&[data_chunk(7, 0, b"middle-")]);
        let p2 = packet(&[data_chunk(8, FLAG_END, b"end")]);
        let p3 = packet(&[data_chunk(6, FLAG_BEGIN, b"begin-")]);
        let (messages, stats) = run(&[p1, p2.clone(), p3, p2]);
        assert_eq!(messages, vec![b"begin-middle-end".to_vec()]);
        assert_eq!(stats.sctp_incomplete_messages, 0);
    }

    #[test]
    fn a_missing_fragment_is_counted() {
        let p1 = packet(&[data_chunk(6, FLAG_BEGIN, b"begin-")]);
        let p2 = packet(&[data_chunk(8, FLAG_END, b"end")]);
        let (messages, stats) = run(&[p1, p2]);
        assert!(messages.is_empty());
        assert_eq!(stats.sctp_incomplete_messages, 1);
    }

    #[test]
    fn a_cut_chunk_is_malformed() {
        let mut p = packet(&[data_chunk(1, 3, b"one")]);
        p.truncate(p.len() - 6);
        let mut stats = NetStats::default();
        let mut sink = Messages::default();
        let ok = Reassembler::default().packet(
            flow(),
            &p,
            FrameRef::default(),
            &Limits::default(),
            &mut stats,
            &mut sink,
        );
        assert!(!ok);
    }
}
