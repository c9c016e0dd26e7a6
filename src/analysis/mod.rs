//! Drives the pipeline over a set of inputs and collects the result.
//!
//! capture → net → sip → dialog, one frame at a time. Nothing here interprets the
//! protocol: each stage does its own job; this module only connects them, counts what
//! was skipped, and hands each SIP message to an [`Observer`] as it is found, so a
//! caller can stream its output.

use std::collections::HashMap;

use serde::Serialize;

mod parallel;

use crate::capture::{Damage, Format, Frame, FrameRef, Input, Merge};
use crate::dialog::{Dialog, DialogStats, Observed, Tracker};
use crate::net::{Decoder, Flow, Limits, NetStats, Sink, Transport};
use crate::sip::framing::{StreamFrame, datagram_message, frame_stream};
use crate::sip::websocket::{self, HandshakeFrame};
use crate::sip::{Message, looks_like_sip};
use crate::transfer::record::Sighting;
use crate::transfer::{self, Collector, Transfer};

/// Settings of one analysis.
#[derive(Clone, Debug)]
pub struct Options {
    pub limits: Limits,
    /// Capture time an ended call is kept before it is released (see [`crate::dialog::GRACE_NS`]).
    pub grace_ns: i64,
    /// Rule levels and trusted domains for the findings.
    pub rules: crate::rules::Config,
    /// Read the inputs on threads of their own (see [`parallel`]); the result is
    /// the same either way.
    pub threads: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            grace_ns: crate::dialog::GRACE_NS,
            rules: crate::rules::Config::default(),
            threads: true,
        }
    }
}

/// One SIP message as found: where it came from and the parsed view of it.
pub struct Found<'m, 'a> {
    pub frame: FrameRef,
    /// Timestamp of the first frame of the capture: time zero of relative times.
    pub zero_ns: i64,
    pub flow: Flow,
    pub transport: Transport,
    pub message: &'m Message<'a>,
}

/// Receives results while the analysis runs. Every method has a default that ignores it.
pub trait Observer {
    /// A SIP message, in capture order.
    fn message(&mut self, found: &Found<'_, '_>) {
        let _ = found;
    }
    /// Whether the observer wants each transfer as soon as it is complete (streaming);
    /// then [`Observer::transfer`] is called with each, in REFER order.
    fn streams_transfers(&self) -> bool {
        false
    }
    /// A transfer that can no longer change. `zero_ns` is time zero of relative times.
    /// Transfers come as they finish, not in REFER order: a call that stays up holds
    /// back its own transfer only. Each has its id (its place in REFER order).
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        let _ = (zero_ns, transfer);
    }
    /// Whether the caller lists the calls ([`Analysis::dialogs`]). When it does not,
    /// a finished call is let go as soon as no transfer can need it, so memory stays
    /// flat however many calls the capture holds.
    fn lists_calls(&self) -> bool {
        !self.streams_transfers()
    }
    /// Progress: bytes read so far and the total when known. Called every few thousand
    /// frames.
    fn progress(&mut self, read: u64, total: Option<u64>) {
        let _ = (read, total);
    }
}

/// An observer that wants nothing streamed.
pub struct Quiet;
impl Observer for Quiet {}

/// What one input file contributed.
#[derive(Clone, Debug, Serialize)]
pub struct InputSummary {
    pub index: u32,
    pub path: String,
    pub format: Format,
    pub gzip: bool,
    pub frames: u64,
    pub bytes: u64,
    /// Frames cut by the snap length.
    pub snapped_frames: u64,
    /// Where reading stopped early, if it did.
    pub damage: Vec<Damage>,
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
}

/// Everything counted during a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub frames: u64,
    pub bytes: u64,
    pub net: NetStats,
    pub sip: SipStats,
    pub dialogs: DialogStats,
}

/// The result of a run.
#[derive(Debug)]
pub struct Analysis {
    pub inputs: Vec<InputSummary>,
    /// Timestamp of the first frame (time zero of every relative time), ns since the epoch.
    pub start_ns: Option<i64>,
    /// Timestamp of the last frame.
    pub end_ns: Option<i64>,
    pub stats: Stats,
    /// Every INVITE dialog, in order of its INVITE.
    pub dialogs: Vec<Dialog>,
    /// Every transfer session, in REFER order (each with its own findings). When the
    /// observer streams transfers, those already streamed are not kept here, and the
    /// calls long over are let go from `dialogs`: memory stays flat.
    pub transfers: Vec<Transfer>,
    /// Findings about the capture, tied to no transfer.
    pub findings: Vec<crate::rules::Finding>,
}

impl Analysis {
    /// Every finding: each transfer's, then the capture's.
    pub fn all_findings(&self) -> impl Iterator<Item = &crate::rules::Finding> {
        self.transfers
            .iter()
            .flat_map(|t| t.findings.iter())
            .chain(self.findings.iter())
    }
}

impl Analysis {
    /// Seconds from the first frame of the capture.
    pub fn relative(&self, ts_ns: i64) -> f64 {
        let zero = self.start_ns.unwrap_or(ts_ns);
        ts_ns.saturating_sub(zero) as f64 / 1e9
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

/// A problem the parser found in a message, where it was (the first few hundred are
/// kept for the findings; [`SipStats::messages_with_problems`] counts them all).
#[derive(Clone, Debug)]
pub struct MessageProblem {
    pub frame: FrameRef,
    pub kind: crate::sip::ProblemKind,
}

/// How many message problems, and unparsable payloads, are kept with their frames.
const MAX_KEPT_PROBLEMS: usize = 256;

/// The per-stream state the SIP stage keeps for TCP.
#[derive(Default)]
struct Stream {
    carriage: Carriage,
    /// SIP messages this stream carried so far.
    messages: u64,
}

/// The net stage's sink: frames SIP on datagrams and streams and feeds the tracker.
struct SipStage<'o, O: Observer> {
    tracker: Tracker,
    streams: HashMap<Flow, Stream>,
    stats: SipStats,
    problems: Vec<MessageProblem>,
    unparsable: Vec<FrameRef>,
    /// The frame whose payload the capture cut, while it is being decoded.
    cut: Option<FrameRef>,
    transfers: Collector,
    zero_ns: i64,
    observer: &'o mut O,
}

impl<O: Observer> SipStage<'_, O> {
    fn deliver(
        &mut self,
        frame: FrameRef,
        flow: Flow,
        transport: Transport,
        bytes: &[u8],
        stream: bool,
    ) -> bool {
        let Ok(message) = Message::parse(bytes, stream) else {
            self.stats.unparsable += 1;
            if self.unparsable.len() < MAX_KEPT_PROBLEMS {
                self.unparsable.push(frame);
            }
            return false;
        };
        self.stats.messages += 1;
        let cut = self.cut == Some(frame);
        if cut {
            // Its end is missing because the capture cut the packet: damage of the
            // capture, not a fault of the sender.
            self.stats.cut_by_capture += 1;
        } else if !message.problems().is_empty() {
            self.stats.messages_with_problems += 1;
            for p in message.problems() {
                if self.problems.len() < MAX_KEPT_PROBLEMS {
                    self.problems.push(MessageProblem {
                        frame,
                        kind: p.kind.clone(),
                    });
                }
            }
        }
        let found = Found {
            frame,
            zero_ns: self.zero_ns,
            flow,
            transport,
            message: &message,
        };
        self.observer.message(&found);
        self.transfers.observe(
            &message,
            Sighting {
                frame,
                flow,
                transport,
            },
        );
        self.tracker.observe(&Observed {
            frame,
            flow,
            transport,
            message: &message,
        });
        true
    }
}

impl<O: Observer> SipStage<'_, O> {
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
                        self.streams.entry(flow).or_default().messages += 1;
                    }
                    used += len;
                }
                StreamFrame::Skip(len) => {
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
                        self.streams.entry(flow).or_default().messages += 1;
                    }
                }
                Some(_) => self.stats.non_sip_stream_bytes += payload.len() as u64,
                None => self.stats.keepalives += 1,
            }
        }
        let mut used = decoded.consumed.min(data.len());
        if decoded.error.is_some() || decoded.closed {
            // The frames stopped making sense, or the socket closed: read the rest as
            // a plain stream, where resynchronisation finds any SIP left.
            if let Some(s) = self.streams.get_mut(&flow) {
                s.carriage = Carriage::Sip;
            }
            used += self.sip_stream(frame, flow, data.get(used..).unwrap_or_default());
        }
        used
    }

    /// Counts bytes skipped on a stream: junk inside a SIP stream is damage, bytes of a
    /// stream that never carried SIP are plain traffic.
    fn skipped(&mut self, flow: Flow, len: usize) {
        if self.streams.get(&flow).is_some_and(|s| s.messages > 0) {
            self.stats.skipped_stream_bytes += len as u64;
        } else {
            self.stats.non_sip_stream_bytes += len as u64;
        }
    }
}

impl<O: Observer> Sink for SipStage<'_, O> {
    fn datagram(&mut self, frame: FrameRef, flow: Flow, transport: Transport, payload: &[u8]) {
        match plain_datagram(payload) {
            Some(Plain::Keepalive) => return self.stats.keepalives += 1,
            Some(Plain::NotSip) => return self.stats.non_sip_datagrams += 1,
            None => {}
        }
        match datagram_message(payload) {
            Some(message) => {
                self.deliver(frame, flow, transport, message, false);
            }
            None => self.stats.keepalives += 1,
        }
    }

    fn stream(&mut self, frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        let carriage = self
            .streams
            .get(&flow)
            .map_or(Carriage::Unknown, |s| s.carriage);
        match carriage {
            Carriage::Unknown => match websocket::frame_handshake(data) {
                HandshakeFrame::NeedMore => 0,
                HandshakeFrame::Request { len, .. } | HandshakeFrame::Response { len, .. } => {
                    self.streams.entry(flow).or_default().carriage = Carriage::WebSocket;
                    self.stats.non_sip_stream_bytes += len as u64;
                    let len = len.min(data.len());
                    len + self.stream(frame, flow, data.get(len..).unwrap_or_default())
                }
                HandshakeFrame::NotHandshake => {
                    self.streams.entry(flow).or_default().carriage = Carriage::Sip;
                    self.sip_stream(frame, flow, data)
                }
            },
            Carriage::Sip => self.sip_stream(frame, flow, data),
            Carriage::WebSocket => self.websocket_stream(frame, flow, data),
        }
    }

    fn stream_gap(&mut self, _frame: FrameRef, flow: Flow) {
        if self.streams.get(&flow).is_some_and(|s| s.messages > 0) {
            self.stats.incomplete_stream_messages += 1;
        }
    }

    fn stream_end(&mut self, _frame: FrameRef, flow: Flow) {
        self.streams.remove(&flow);
    }

    fn payload_cut(&mut self, frame: FrameRef) {
        self.cut = Some(frame);
    }
}

/// A datagram the SIP stage only counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plain {
    /// Not SIP: RTP, DNS, ...
    NotSip,
    /// Only CRLF keep-alives (RFC 5626 §4.4.1).
    Keepalive,
}

/// What a datagram is when it is not SIP, by the cheap first-bytes check that most
/// datagrams (RTP) fail; `None` when it may be SIP.
fn plain_datagram(payload: &[u8]) -> Option<Plain> {
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

/// Where the frames come from: one thread merging the inputs, or a reader thread per
/// input (see [`parallel`]).
enum Frames {
    Serial(Merge),
    Parallel(parallel::Parallel),
}

impl Frames {
    /// Bytes of the inputs read up to the frame being analysed, for progress.
    fn bytes_read(&self) -> u64 {
        match self {
            Frames::Serial(merge) => merge.inputs().iter().map(Input::bytes_read).sum(),
            Frames::Parallel(p) => p.bytes_analysed(),
        }
    }

    fn into_inputs(self) -> Vec<Input> {
        match self {
            Frames::Serial(merge) => merge.into_inputs(),
            Frames::Parallel(p) => p.into_inputs(),
        }
    }
}

/// Decodes one frame; the decoder tells the SIP stage when the capture cut a payload
/// of it ([`Sink::payload_cut`]).
fn decode<O: Observer>(decoder: &mut Decoder, frame: &Frame<'_>, stage: &mut SipStage<'_, O>) {
    stage.cut = None;
    decoder.decode(frame, stage);
}

/// A transfer with the findings the rules make of its facts.
fn with_findings(
    mut t: Transfer,
    facts: &transfer::TransferFacts<'_>,
    rules: &crate::rules::Config,
) -> Transfer {
    t.findings = crate::rules::check::transfer(&t, facts, rules);
    t
}

/// How often progress is reported, in frames.
const PROGRESS_EVERY: u64 = 1 << 14;

/// Runs the pipeline over `inputs` (already opened, in command-line order).
pub fn run<O: Observer>(inputs: Vec<Input>, options: &Options, observer: &mut O) -> Analysis {
    let total: Option<u64> = inputs
        .iter()
        .map(Input::file_size)
        .try_fold(0u64, |sum, size| size.map(|s| sum.saturating_add(s)));
    // Even one input gains: its reading and the analysis then run side by side.
    let mut frames_in = if options.threads && !inputs.is_empty() {
        Frames::Parallel(parallel::Parallel::new(inputs))
    } else {
        Frames::Serial(Merge::new(inputs))
    };
    let mut decoder = Decoder::new(options.limits.clone());
    let mut stage = SipStage {
        tracker: Tracker::new(options.grace_ns),
        streams: HashMap::new(),
        stats: SipStats::default(),
        problems: Vec::new(),
        unparsable: Vec::new(),
        cut: None,
        transfers: Collector::default(),
        zero_ns: 0,
        observer,
    };
    let mut frames = 0u64;
    let mut bytes = 0u64;
    let mut start_ns = None;
    let mut end_ns: Option<i64> = None;
    if let Frames::Parallel(p) = &frames_in {
        // Plain frames never reach this thread, so time zero is known up front.
        start_ns = p.first_ts();
        stage.zero_ns = start_ns.unwrap_or_default();
    }
    let mut linker = transfer::Linker::new(stage.observer.lists_calls());
    let mut transfers = Vec::new();
    let mut next_tick = PROGRESS_EVERY;
    loop {
        // The frame to decode, if any, and the plain frames a reader thread counted
        // before it.
        let (frame, plain) = match &mut frames_in {
            Frames::Serial(merge) => match merge.next_frame() {
                Some(frame) => (Some(frame), None),
                None => break,
            },
            Frames::Parallel(p) => match p.next() {
                Some(parallel::Item::Frame(frame, plain)) => (Some(frame), Some(plain)),
                Some(parallel::Item::Plain(plain)) => (None, Some(plain)),
                None => break,
            },
        };
        if let Some(plain) = plain {
            frames += plain.frames;
            bytes += plain.bytes;
            decoder.count_udp_datagrams(plain.frames);
            stage.stats.non_sip_datagrams += plain.not_sip;
            stage.stats.keepalives += plain.keepalives;
            if let Some(latest) = plain.latest_ts {
                end_ns = Some(end_ns.map_or(latest, |e| e.max(latest)));
            }
        }
        let Some(frame) = frame else { continue };
        let frame_ts = frame.ts_ns;
        frames += 1;
        bytes += frame.data.len() as u64;
        if start_ns.is_none() {
            start_ns = Some(frame.ts_ns);
            stage.zero_ns = frame.ts_ns;
        }
        end_ns = Some(end_ns.map_or(frame.ts_ns, |e| e.max(frame.ts_ns)));
        decode(&mut decoder, &frame, &mut stage);
        if frames >= next_tick {
            next_tick = frames.saturating_add(PROGRESS_EVERY);
            linker.add_dialogs(stage.tracker.take_finished());
            let tracker = &stage.tracker;
            let observer = &mut *stage.observer;
            let zero_ns = stage.zero_ns;
            linker.advance(
                &mut stage.transfers,
                frame_ts,
                &|call_id| tracker.is_live(call_id),
                &mut |t, facts| {
                    let t = with_findings(t, facts, &options.rules);
                    if observer.streams_transfers() {
                        observer.transfer(zero_ns, &t);
                    }
                    transfers.push(t);
                },
            );
            if observer.streams_transfers() {
                // What was streamed is not kept.
                transfers.clear();
            }
            stage.observer.progress(frames_in.bytes_read(), total);
        }
    }
    decoder.finish(&mut stage);
    let SipStage {
        tracker,
        stats,
        problems,
        unparsable,
        transfers: collector,
        observer,
        zero_ns,
        ..
    } = stage;
    let (rest, dialog_stats) = tracker.finish();
    linker.add_dialogs(rest);
    let mut collector = collector;
    let streaming = observer.streams_transfers();
    let dialogs = linker.finish(&mut collector, &mut |t, facts| {
        let t = with_findings(t, facts, &options.rules);
        if streaming {
            observer.transfer(zero_ns, &t);
        }
        transfers.push(t);
    });
    transfers.sort_by_key(|t| t.id);
    let inputs = frames_in
        .into_inputs()
        .iter()
        .map(|input| InputSummary {
            index: input.index(),
            path: input.name().to_string(),
            format: input.format(),
            gzip: input.gzip(),
            frames: input.stats().frames,
            bytes: input.stats().bytes,
            snapped_frames: input.stats().snapped_frames,
            damage: input.damage().to_vec(),
        })
        .collect();
    Analysis {
        inputs,
        start_ns,
        end_ns,
        stats: Stats {
            frames,
            bytes,
            net: decoder.stats().clone(),
            sip: stats,
            dialogs: dialog_stats,
        },
        findings: crate::rules::check::capture(
            &dialogs,
            &collector,
            &problems,
            &unparsable,
            &options.rules,
        ),
        dialogs,
        transfers,
    }
}
