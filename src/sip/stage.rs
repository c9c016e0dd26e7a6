//! The SIP stage: the net stage's payloads in, SIP messages out, one at a time.
//!
//! [`SipStage::decode`] runs one frame through the net stage's [`Decoder`] with this
//! stage as its [`Sink`], and hands every SIP message found to a [`MessageSink`]. The
//! stage knows only capture and net; what becomes of a message (dialogs, transfers,
//! output) is the sink's business.
//!
//! Guarantees:
//! - Datagrams (UDP, SCTP): one message each ([`datagram_message`]); a datagram
//!   of CRLF keep-alives only (RFC 5626 §4.4.1) and one that cannot be SIP
//!   ([`looks_like_sip`]: RTP, DNS, ...) are counted, not parsed.
//! - TCP: each direction is classified once, at its start: WebSocket when it opens with
//!   an HTTP Upgrade handshake (RFC 6455 §4), otherwise SIP on the stream itself, framed
//!   by Content-Length (RFC 3261 §18.3). Several messages per segment and one message
//!   across segments are both framed; bytes that do not start a message are skipped to
//!   the next start line, and counted as damage only once the direction has carried SIP.
//! - WebSocket: one SIP message per WebSocket message (RFC 7118 §5.2), parsed like a
//!   datagram. When the frames stop making sense or the socket closes, the rest of the
//!   direction is read as a plain SIP stream.
//! - Every message that [`Message::parse`] accepts reaches the sink exactly once, in the
//!   order the net stage delivers the payloads, at the frame that completed it. Those it
//!   refuses are counted in [`SipStats::unparsable`].
//! - A message whose end the capture cut ([`Sink::payload_cut`]) is counted in
//!   [`SipStats::cut_by_capture`]; its problems are the capture's and are not kept.
//! - Memory: a small record per TCP direction (how it carries SIP, how many messages
//!   it carried), dropped when the direction ends; at most
//!   [`MAX_KEPT_PROBLEMS`] message problems and as many unparsable frames are kept (all
//!   of them are counted).
//! - [`plain_frame`] is the same decision the stage makes on a datagram, taken on the
//!   frame alone: a frame it sets aside and [`SipStage::count_plain`] counts leaves the
//!   stage as if it had decoded the frame.

use std::collections::HashMap;

use serde::Serialize;

use super::framing::{StreamFrame, datagram_message, frame_stream};
use super::websocket::{self, HandshakeFrame};
use super::{Message, ProblemKind, looks_like_sip};
use crate::capture::{Frame, FrameRef};
use crate::net::{Decoder, Flow, Sink, Transport};

/// One SIP message as found: where it came from and the parsed view of it.
pub struct Found<'m, 'a> {
    pub frame: FrameRef,
    /// The frame that brought the message's first byte: `frame` itself for a datagram
    /// in one frame, the first fragment's frame for a reassembled one, the segment
    /// where the message began on a stream. With `frame`, it bounds the frames that
    /// carried the message (export).
    pub first_frame: FrameRef,
    /// The frames of the IP fragments a reassembled datagram came in (empty when it
    /// came whole).
    pub fragments: &'m [FrameRef],
    /// Time zero of relative times, as the caller of [`SipStage::decode`] gave it.
    pub zero_ns: i64,
    pub flow: Flow,
    pub transport: Transport,
    pub message: &'m Message<'a>,
}

/// Where the stage hands the messages it finds.
pub trait MessageSink {
    /// A SIP message that parsed, in the order the net stage delivered it.
    fn message(&mut self, found: &Found<'_, '_>);
}

/// Counts of the SIP stage: what was framed, parsed, or skipped.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SipStats {
    /// SIP messages found (over every transport).
    pub messages: u64,
    /// Datagrams that are not SIP (RTP, DNS, ...): plain traffic, not damage.
    pub non_sip_datagrams: u64,
    /// Datagrams holding only CRLF keep-alives (RFC 5626 §4.4.1).
    pub keepalives: u64,
    /// Datagrams or stream messages that looked like SIP but could not be parsed.
    pub unparsable: u64,
    /// Bytes of TCP streams that never carried SIP: plain traffic, not damage.
    pub non_sip_stream_bytes: u64,
    /// Bytes skipped inside SIP streams to find the next message (junk, or after a gap).
    pub skipped_stream_bytes: u64,
    /// Messages incomplete when their stream ended or lost bytes.
    pub incomplete_stream_messages: u64,
    /// Messages that parsed with at least one problem.
    pub messages_with_problems: u64,
    /// Messages whose end the capture cut (snap length, or a packet cut at the capture
    /// point): their problems are the capture's, not reported as violations.
    pub cut_by_capture: u64,
    /// Messages on a stream larger than [`super::framing::MAX_MESSAGE`] (1 MiB):
    /// reported at their frame ([`ProblemKind::MessageTooLarge`]) and skipped. Written
    /// in JSON only when not zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub too_large: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A problem the parser found in a message, where it was (the first few hundred are
/// kept for the findings; [`SipStats::messages_with_problems`] counts them all).
#[derive(Clone, Debug)]
pub struct MessageProblem {
    pub frame: FrameRef,
    pub kind: ProblemKind,
}

/// How many message problems, and unparsable payloads, are kept with their frames.
pub const MAX_KEPT_PROBLEMS: usize = 256;

/// What the stage leaves when the input ends.
#[derive(Debug)]
pub struct Framed {
    pub stats: SipStats,
    /// The first [`MAX_KEPT_PROBLEMS`] problems of messages, in capture order.
    pub problems: Vec<MessageProblem>,
    /// The first [`MAX_KEPT_PROBLEMS`] frames whose SIP-looking payload did not parse.
    pub unparsable: Vec<FrameRef>,
}

/// A datagram the SIP stage only counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plain {
    /// Not SIP: RTP, DNS, ...
    NotSip,
    /// Only CRLF keep-alives (RFC 5626 §4.4.1).
    Keepalive,
}

/// What a datagram is when it is not SIP, by the cheap first-bytes check that most
/// datagrams (RTP) fail; `None` when it may be SIP.
pub fn plain_datagram(payload: &[u8]) -> Option<Plain> {
    if looks_like_sip(payload) {
        return None;
    }
    Some(
        if !payload.is_empty() && payload.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            Plain::Keepalive
        } else {
            Plain::NotSip
        },
    )
}

/// What a frame is when the net stage reads it without state as one UDP datagram
/// ([`Decoder::stateless_udp_payload`]) and the SIP stage would only count it; `None`
/// when the frame must be decoded. A reader may set such a frame aside, provided it
/// counts it with [`Decoder::count_udp_datagrams`] and [`SipStage::count_plain`].
pub fn plain_frame(frame: &Frame<'_>) -> Option<Plain> {
    Decoder::stateless_udp_payload(frame).and_then(plain_datagram)
}

/// Datagrams set aside before they reached the stage (see [`plain_frame`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlainTally {
    pub not_sip: u64,
    pub keepalives: u64,
}

impl PlainTally {
    pub fn add(&mut self, plain: Plain) {
        match plain {
            Plain::NotSip => self.not_sip += 1,
            Plain::Keepalive => self.keepalives += 1,
        }
    }
}

/// How a TCP stream direction carries SIP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Carriage {
    /// Nothing decided yet: the stream has just started.
    #[default]
    Unknown,
    /// SIP messages directly on the stream, framed by Content-Length (RFC 3261 §18.3).
    Sip,
    /// SIP inside WebSocket messages after an HTTP Upgrade (RFC 7118).
    WebSocket,
}

/// The per-stream state the SIP stage keeps for TCP.
#[derive(Default)]
struct Stream {
    carriage: Carriage,
    /// SIP messages this stream carried so far.
    messages: u64,
    /// The frame that brought the first byte the stage has not consumed yet, while
    /// a message is incomplete.
    pending_since: Option<FrameRef>,
}

/// The SIP stage: its per-stream state, counts, and the problems it keeps.
#[derive(Default)]
pub struct SipStage {
    streams: HashMap<Flow, Stream>,
    stats: SipStats,
    problems: Vec<MessageProblem>,
    unparsable: Vec<FrameRef>,
    /// The frame whose payload the capture cut, while it is being decoded.
    cut: Option<FrameRef>,
    /// Where the payload being framed began (see [`Found::first_frame`]), until the
    /// first message of it is delivered.
    first: Option<FrameRef>,
    /// The frames of the fragments of the datagram being framed.
    fragments: Vec<FrameRef>,
}

impl SipStage {
    pub fn new() -> SipStage {
        SipStage::default()
    }

    /// Decodes one frame with `decoder` and hands each SIP message it completes to
    /// `sink`; `zero_ns` goes into each [`Found`].
    pub fn decode<S: MessageSink>(
        &mut self,
        decoder: &mut Decoder,
        frame: &Frame<'_>,
        zero_ns: i64,
        sink: &mut S,
    ) {
        self.cut = None;
        self.first = None;
        decoder.decode(
            frame,
            &mut Framing {
                stage: self,
                sink,
                zero_ns,
            },
        );
    }

    /// End of input: `decoder` reports the streams it still holds, whose messages go to
    /// `sink`; returns the counts and the problems kept.
    pub fn finish<S: MessageSink>(
        mut self,
        decoder: &mut Decoder,
        zero_ns: i64,
        sink: &mut S,
    ) -> Framed {
        decoder.finish(&mut Framing {
            stage: &mut self,
            sink,
            zero_ns,
        });
        Framed {
            stats: self.stats,
            problems: self.problems,
            unparsable: self.unparsable,
        }
    }

    /// Counts datagrams that were set aside instead of decoded (see [`plain_frame`]).
    pub fn count_plain(&mut self, tally: PlainTally) {
        self.stats.non_sip_datagrams += tally.not_sip;
        self.stats.keepalives += tally.keepalives;
    }
}

/// The stage while it decodes: the net stage's sink, handing messages to `sink`.
struct Framing<'s, S> {
    stage: &'s mut SipStage,
    sink: &'s mut S,
    zero_ns: i64,
}

impl<S: MessageSink> Framing<'_, S> {
    fn deliver(
        &mut self,
        frame: FrameRef,
        flow: Flow,
        transport: Transport,
        bytes: &[u8],
        stream: bool,
    ) -> bool {
        let stage = &mut *self.stage;
        let Ok(message) = Message::parse(bytes, stream) else {
            stage.stats.unparsable += 1;
            if stage.unparsable.len() < MAX_KEPT_PROBLEMS {
                stage.unparsable.push(frame);
            }
            return false;
        };
        stage.stats.messages += 1;
        let cut = stage.cut == Some(frame);
        if cut {
            // Its end is missing because the capture cut the packet: damage of the
            // capture, not a fault of the sender.
            stage.stats.cut_by_capture += 1;
        } else if !message.problems().is_empty() {
            stage.stats.messages_with_problems += 1;
            for p in message.problems() {
                if stage.problems.len() < MAX_KEPT_PROBLEMS {
                    stage.problems.push(MessageProblem {
                        frame,
                        kind: p.kind.clone(),
                    });
                }
            }
        }
        let first_frame = stage.first.take().unwrap_or(frame);
        self.sink.message(&Found {
            frame,
            first_frame,
            fragments: &self.stage.fragments,
            zero_ns: self.zero_ns,
            flow,
            transport,
            message: &message,
        });
        true
    }

    /// SIP framed by Content-Length on the stream itself.
    fn sip_stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        let mut used = 0;
        while let Some(rest) = data.get(used..) {
            if rest.is_empty() {
                break;
            }
            match frame_stream(rest) {
                StreamFrame::Message(len) => {
                    let len = len.clamp(1, rest.len());
                    let bytes = rest.get(..len).unwrap_or(rest);
                    if self.deliver(frame, flow, Transport::Tcp, bytes, true) {
                        self.stage.streams.entry(flow).or_default().messages += 1;
                    }
                    used += len;
                }
                StreamFrame::Skip(len) => {
                    let len = len.clamp(1, rest.len());
                    self.skipped(flow, len);
                    used += len;
                }
                StreamFrame::TooLarge(len) => {
                    // A message, not plain traffic: reported at this frame, and the
                    // direction counts as carrying SIP, so what is skipped of it is
                    // damage.
                    let stage = &mut *self.stage;
                    stage.stats.too_large += 1;
                    if stage.problems.len() < MAX_KEPT_PROBLEMS {
                        stage.problems.push(MessageProblem {
                            frame,
                            kind: ProblemKind::MessageTooLarge {
                                size: rest.len() as u64,
                            },
                        });
                    }
                    stage.streams.entry(flow).or_default().messages += 1;
                    let len = len.clamp(1, rest.len());
                    self.skipped(flow, len);
                    used += len;
                }
                StreamFrame::NeedMore => break,
            }
        }
        used
    }

    /// SIP in WebSocket messages: each message holds exactly one SIP message
    /// (RFC 7118 §5.2), so no Content-Length framing is needed.
    fn websocket_stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        let decoded = websocket::decode_frames(data);
        for message in &decoded.messages {
            let payload: &[u8] = message;
            match datagram_message(payload) {
                Some(sip) if looks_like_sip(sip) => {
                    if self.deliver(frame, flow, Transport::Ws, sip, false) {
                        self.stage.streams.entry(flow).or_default().messages += 1;
                    }
                }
                Some(_) => self.stage.stats.non_sip_stream_bytes += payload.len() as u64,
                None => self.stage.stats.keepalives += 1,
            }
        }
        let mut used = decoded.consumed.min(data.len());
        if decoded.error.is_some() || decoded.closed {
            // The frames stopped making sense, or the socket closed: read the rest as
            // a plain stream, where resynchronisation finds any SIP left.
            if let Some(s) = self.stage.streams.get_mut(&flow) {
                s.carriage = Carriage::Sip;
            }
            used += self.sip_stream(frame, flow, data.get(used..).unwrap_or_default());
        }
        used
    }

    /// The bytes of a stream direction, by how the direction carries SIP; returns how
    /// many were used.
    fn stream_bytes(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        let carriage = self
            .stage
            .streams
            .get(&flow)
            .map_or(Carriage::Unknown, |s| s.carriage);
        match carriage {
            Carriage::Unknown => match websocket::frame_handshake(data) {
                HandshakeFrame::NeedMore => 0,
                HandshakeFrame::Request { len, .. } | HandshakeFrame::Response { len, .. } => {
                    self.stage.streams.entry(flow).or_default().carriage = Carriage::WebSocket;
                    self.stage.stats.non_sip_stream_bytes += len as u64;
                    let len = len.min(data.len());
                    len + self.stream_bytes(frame, flow, data.get(len..).unwrap_or_default())
                }
                HandshakeFrame::NotHandshake => {
                    self.stage.streams.entry(flow).or_default().carriage = Carriage::Sip;
                    self.sip_stream(frame, flow, data)
                }
            },
            Carriage::Sip => self.sip_stream(frame, flow, data),
            Carriage::WebSocket => self.websocket_stream(frame, flow, data),
        }
    }

    /// Counts bytes skipped on a stream: junk inside a SIP stream is damage, bytes of a
    /// stream that never carried SIP are plain traffic.
    fn skipped(&mut self, flow: Flow, len: usize) {
        let stage = &mut *self.stage;
        if stage.streams.get(&flow).is_some_and(|s| s.messages > 0) {
            stage.stats.skipped_stream_bytes += len as u64;
        } else {
            stage.stats.non_sip_stream_bytes += len as u64;
        }
    }
}

impl<S: MessageSink> Sink for Framing<'_, S> {
    fn datagram(&mut self, frame: FrameRef, flow: Flow, transport: Transport, payload: &[u8]) {
        match plain_datagram(payload) {
            Some(Plain::Keepalive) => return self.stage.stats.keepalives += 1,
            Some(Plain::NotSip) => return self.stage.stats.non_sip_datagrams += 1,
            None => {}
        }
        match datagram_message(payload) {
            Some(message) => {
                self.deliver(frame, flow, transport, message, false);
            }
            None => self.stage.stats.keepalives += 1,
        }
    }

    fn datagram_from(
        &mut self,
        fragments: &[FrameRef],
        frame: FrameRef,
        flow: Flow,
        transport: Transport,
        payload: &[u8],
    ) {
        self.stage.fragments.clear();
        self.stage.fragments.extend_from_slice(fragments);
        self.stage.first = fragments.first().copied();
        self.datagram(frame, flow, transport, payload);
        self.stage.fragments.clear();
        self.stage.first = None;
    }

    fn stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        let first = self
            .stage
            .streams
            .get(&flow)
            .and_then(|s| s.pending_since)
            .unwrap_or(frame);
        self.stage.first = Some(first);
        let used = self.stream_bytes(frame, flow, data);
        self.stage.first = None;
        if let Some(s) = self.stage.streams.get_mut(&flow) {
            // The bytes left over began at `first` when none were used, otherwise
            // after a message this frame completed: in this frame.
            s.pending_since = if used >= data.len() {
                None
            } else if used == 0 {
                Some(first)
            } else {
                Some(frame)
            };
        }
        used
    }

    fn stream_gap(&mut self, _frame: FrameRef, flow: Flow) {
        let stage = &mut *self.stage;
        if let Some(s) = stage.streams.get_mut(&flow) {
            s.pending_since = None;
        }
        if stage.streams.get(&flow).is_some_and(|s| s.messages > 0) {
            stage.stats.incomplete_stream_messages += 1;
        }
    }

    fn stream_end(&mut self, _frame: FrameRef, flow: Flow) {
        self.stage.streams.remove(&flow);
    }

    fn payload_cut(&mut self, frame: FrameRef) {
        self.stage.cut = Some(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Limits;
    use etherparse::PacketBuilder;

    /// A sink that keeps the frame number and first line of each message.
    #[derive(Default)]
    struct Lines(Vec<(u64, String)>);

    impl MessageSink for Lines {
        fn message(&mut self, found: &Found<'_, '_>) {
            let raw = found.message.raw();
            let line = raw.split(|&b| b == b'\r').next().unwrap_or_default();
            self.0.push((
                found.frame.number,
                String::from_utf8_lossy(line).into_owned(),
            ));
        }
    }

    fn udp(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5060, 5080)
            .write(&mut out, payload)
            .expect("write");
        out
    }

    fn tcp(seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let builder = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(5061, 5060, seq, 1000);
        let builder = if syn { builder.syn() } else { builder };
        builder.write(&mut out, payload).expect("write");
        out
    }

    /// Decodes `packets` (Ethernet) through the net stage into a [`SipStage`].
    fn run(packets: &[Vec<u8>]) -> (Lines, Framed) {
        let mut decoder = Decoder::new(Limits::default());
        let mut stage = SipStage::new();
        let mut sink = Lines::default();
        for (n, data) in (1u64..).zip(packets) {
            let frame = Frame {
                seq: n,
                file: 0,
                number: n,
                ts_ns: 0,
                linktype: 1,
                data,
                orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
            };
            stage.decode(&mut decoder, &frame, 0, &mut sink);
        }
        let framed = stage.finish(&mut decoder, 0, &mut sink);
        (sink, framed)
    }

    const OPTIONS: &[u8] =
        b"OPTIONS sip:b@x SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn datagrams_give_one_message_each_and_plain_ones_are_counted() {
        let packets = [
            udp(OPTIONS),
            udp(&[0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            udp(b"\r\n\r\n"),
        ];
        let (sink, framed) = run(&packets);
        assert_eq!(sink.0, vec![(1, "OPTIONS sip:b@x SIP/2.0".to_string())]);
        assert_eq!(framed.stats.messages, 1);
        assert_eq!(framed.stats.non_sip_datagrams, 1);
        assert_eq!(framed.stats.keepalives, 1);
        // The frames the stage only counts are those plain_frame sets aside.
        let plain: Vec<Option<Plain>> = packets
            .iter()
            .map(|data| {
                plain_frame(&Frame {
                    seq: 1,
                    file: 0,
                    number: 1,
                    ts_ns: 0,
                    linktype: 1,
                    data,
                    orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
                })
            })
            .collect();
        assert_eq!(
            plain,
            vec![None, Some(Plain::NotSip), Some(Plain::Keepalive)]
        );
    }

    #[test]
    fn a_stream_gives_each_message_at_the_frame_that_completes_it() {
        let mut two = OPTIONS.to_vec();
        two.extend_from_slice(OPTIONS);
        let (first, rest) = two.split_at(OPTIONS.len() + 10);
        let packets = [
            tcp(0, true, &[]),
            tcp(1, false, first),
            tcp(1 + u32::try_from(first.len()).unwrap_or(0), false, rest),
        ];
        let (sink, framed) = run(&packets);
        let frames: Vec<u64> = sink.0.iter().map(|(n, _)| *n).collect();
        assert_eq!(frames, vec![2, 3]);
        assert_eq!(framed.stats.messages, 2);
        assert_eq!(framed.stats.skipped_stream_bytes, 0);
    }

    #[test]
    fn a_message_over_the_limit_is_reported_at_its_frame_and_counted() {
        // 100 KiB of headers (read), then 1.1 MiB of headers (over the limit), then a
        // small message, in 60000-byte segments.
        let big = |n: usize, lines: usize| {
            let mut m = format!("OPTIONS sip:b@x SIP/2.0\r\nCall-ID: {n}\r\nCSeq: {n} OPTIONS\r\n")
                .into_bytes();
            for _ in 0..lines {
                m.extend_from_slice(b"X-P: ");
                m.extend_from_slice(&[b'a'; 1000]);
                m.extend_from_slice(b"\r\n");
            }
            m.extend_from_slice(b"Content-Length: 0\r\n\r\n");
            m
        };
        let stream = [big(1, 100), big(2, 1100), OPTIONS.to_vec()].concat();
        let mut packets = vec![tcp(0, true, &[])];
        let mut seq = 1u32;
        for chunk in stream.chunks(60000) {
            packets.push(tcp(seq, false, chunk));
            seq += u32::try_from(chunk.len()).unwrap_or(0);
        }
        let (sink, framed) = run(&packets);
        assert_eq!(sink.0.len(), 2, "the 100 KiB message and the last one");
        assert_eq!(framed.stats.too_large, 1);
        assert_eq!(framed.stats.non_sip_stream_bytes, 0);
        let too_large: Vec<u64> = framed
            .problems
            .iter()
            .filter(|p| matches!(p.kind, ProblemKind::MessageTooLarge { .. }))
            .map(|p| p.frame.number)
            .collect();
        // Reported at the frame where it passed the limit: 100 KiB + 1 MiB into the
        // stream, segment 20 (frame 21, after the SYN).
        assert_eq!(too_large, vec![21]);
    }
}
