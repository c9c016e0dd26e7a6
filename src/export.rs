//! `sipxfer export`: the frames of one transfer's dialogs (or of one call) written as
//! a capture of their own, for Wireshark or for a ticket.
//!
//! Two passes over the inputs. The first is the analysis itself, with an observer
//! that notes, for every SIP message, its Call-ID and every frame that carried it
//! (the IP fragments of a reassembled datagram; the segments from the one where a
//! stream message began to the one that completed it) and, with media, the addresses
//! its SDP offers. The transfer is linked whole, then its Call-IDs chosen (original
//! call, consultation, new call, the REFER's own). The second pass reads the inputs
//! again and copies the chosen frames, unchanged, with their timestamps and link type:
//! a pcap file when they share one link type, pcapng (one interface per link type)
//! when they do not.
//!
//! Guarantees:
//! - Frames come out in the order of the merge (time order across files), each once.
//! - A TCP message is carried by the data segments of its direction from the one where
//!   it began to the one that completed it; a segment shared with another message (two
//!   messages in one segment) comes along whole.
//! - Frame numbers differ from the inputs': [`Exported::frames`] maps each new number
//!   to the original file and frame (and pcapng keeps it as each packet's comment).

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::net::SocketAddr;

use crate::analysis::{self, Analysis, Found, Observer, Options};
use crate::capture::write::{PcapWriter, PcapngWriter};
use crate::capture::{FrameRef, Input, Merge};
use crate::net::{Decoder, Flow, Sink, Transport};

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Transfer N (its `id`, as `analyze` numbers them).
    Transfer(usize),
    /// One call, by Call-ID or a prefix of one that names a single Call-ID.
    Call(String),
}

/// Why nothing was exported.
#[derive(Debug)]
pub enum ExportError {
    /// No such transfer or call, or a prefix naming several calls; the message says which.
    NotFound(String),
    /// Writing the output failed.
    Io(io::Error),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::NotFound(m) => f.write_str(m),
            ExportError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for ExportError {
    fn from(e: io::Error) -> Self {
        ExportError::Io(e)
    }
}

/// What was written.
#[derive(Debug, Default)]
pub struct Exported {
    /// For each frame written, in order (new frame number = index + 1): the original.
    pub frames: Vec<FrameRef>,
    /// The Call-IDs exported.
    pub call_ids: Vec<String>,
    /// SIP messages of those Call-IDs in the inputs.
    pub messages: usize,
    /// Whether the output is pcapng (the frames differ in link type).
    pub pcapng: bool,
    /// RTP/RTCP frames among `frames` (with media).
    pub media_frames: usize,
}

/// One SIP message's carriers.
#[derive(Clone, Debug)]
struct Carried {
    frame: FrameRef,
    first: FrameRef,
    fragments: Vec<FrameRef>,
    flow: Flow,
    transport: Transport,
    media: Vec<SocketAddr>,
}

/// The first pass's observer: the carriers of every message, by Call-ID.
#[derive(Default)]
struct Carriers {
    by_call_id: HashMap<String, Vec<Carried>>,
    with_media: bool,
}

impl Observer for Carriers {
    fn message(&mut self, found: &Found<'_, '_>) {
        let m = found.message;
        let call_id = m
            .call_id()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        let media = if self.with_media {
            crate::sip::sdp::media_endpoints(m.body())
        } else {
            Vec::new()
        };
        self.by_call_id.entry(call_id).or_default().push(Carried {
            frame: found.frame,
            first: found.first_frame,
            fragments: found.fragments.to_vec(),
            flow: found.flow,
            transport: found.transport,
            media,
        });
    }
}

/// The Call-IDs a selection names, or why none.
fn chosen(
    selection: &Selection,
    a: &Analysis,
    carriers: &Carriers,
) -> Result<Vec<String>, ExportError> {
    match selection {
        Selection::Transfer(n) => {
            let t = a.transfers.iter().find(|t| t.id == *n).ok_or_else(|| {
                ExportError::NotFound(format!(
                    "there is no transfer {n} (the capture has {})",
                    a.transfers.len()
                ))
            })?;
            let mut ids: Vec<String> = crate::report::ladder::call_ids(t)
                .into_iter()
                .map(str::to_string)
                .collect();
            ids.sort();
            ids.dedup();
            Ok(ids)
        }
        Selection::Call(id) => {
            if carriers.by_call_id.contains_key(id) {
                return Ok(vec![id.clone()]);
            }
            let mut matches: Vec<&String> = carriers
                .by_call_id
                .keys()
                .filter(|c| c.starts_with(id.as_str()))
                .collect();
            matches.sort();
            match matches.as_slice() {
                [one] => Ok(vec![(*one).clone()]),
                [] => Err(ExportError::NotFound(format!(
                    "no SIP message has a Call-ID that starts with {id}"
                ))),
                many => Err(ExportError::NotFound(format!(
                    "{} Call-IDs start with {id}; give more of it",
                    many.len()
                ))),
            }
        }
    }
}

/// The second pass's sink: which TCP flows and UDP flows this frame's payloads used.
#[derive(Default)]
struct Payloads {
    streams: Vec<Flow>,
    datagrams: Vec<Flow>,
}

impl Sink for Payloads {
    fn datagram(&mut self, _frame: FrameRef, flow: Flow, _transport: Transport, _payload: &[u8]) {
        self.datagrams.push(flow);
    }
    fn stream(&mut self, _frame: FrameRef, flow: Flow, data: &[u8]) -> usize {
        self.streams.push(flow);
        data.len()
    }
    fn stream_gap(&mut self, _frame: FrameRef, _flow: Flow) {}
    fn stream_end(&mut self, _frame: FrameRef, _flow: Flow) {}
}

/// The frame's key across files: file and number.
fn key(f: FrameRef) -> (u32, u64) {
    (f.file, f.number)
}

/// Which frames to write, as the first pass found them.
struct Plan {
    /// Frames named outright: each message's completing frame and its fragments.
    frames: HashSet<(u32, u64)>,
    /// Stream messages: direction and the range of merge positions it spanned.
    windows: Vec<(Flow, u64, u64)>,
    /// Media endpoints (RTP and RTCP) and the time range of the dialogs.
    media: HashSet<SocketAddr>,
    media_from_ns: i64,
    media_to_ns: i64,
}

/// How long after the last SIP message of the calls their media is still taken.
const MEDIA_TAIL_NS: i64 = 2_000_000_000;

fn plan(call_ids: &[String], carriers: &Carriers) -> (Plan, usize) {
    let mut plan = Plan {
        frames: HashSet::new(),
        windows: Vec::new(),
        media: HashSet::new(),
        media_from_ns: i64::MAX,
        media_to_ns: i64::MIN,
    };
    let mut messages = 0;
    for c in call_ids.iter().filter_map(|id| carriers.by_call_id.get(id)) {
        for m in c {
            messages += 1;
            plan.frames.insert(key(m.frame));
            plan.frames.insert(key(m.first));
            plan.frames.extend(m.fragments.iter().map(|f| key(*f)));
            if m.transport != Transport::Udp && m.first.seq < m.frame.seq {
                plan.windows.push((m.flow, m.first.seq, m.frame.seq));
            }
            for addr in &m.media {
                plan.media.insert(*addr);
                plan.media
                    .insert(SocketAddr::new(addr.ip(), addr.port().saturating_add(1)));
            }
            plan.media_from_ns = plan.media_from_ns.min(m.frame.ts_ns);
            plan.media_to_ns = plan
                .media_to_ns
                .max(m.frame.ts_ns.saturating_add(MEDIA_TAIL_NS));
        }
    }
    (plan, messages)
}

/// Exports `selection`: the first pass over `inputs`, the second over `again` (the
/// same files opened anew), the capture written to `out`.
pub fn export(
    inputs: Vec<Input>,
    again: Vec<Input>,
    options: &Options,
    selection: &Selection,
    with_media: bool,
    out: impl Write,
) -> Result<Exported, ExportError> {
    let mut carriers = Carriers {
        with_media,
        ..Carriers::default()
    };
    let analysis = analysis::run(inputs, options, &mut carriers);
    let call_ids = chosen(selection, &analysis, &carriers)?;
    let (plan, messages) = plan(&call_ids, &carriers);
    drop(carriers);
    // Which frames, by position in the merge, and their link types: decided while
    // reading, written after (pcap or pcapng depends on every link type).
    let mut picked: Vec<(FrameRef, u32, u32, Vec<u8>, bool)> = Vec::new();
    let mut merge = Merge::new(again);
    let mut decoder = Decoder::new(options.limits.clone());
    let mut payloads = Payloads::default();
    while let Some(frame) = merge.next_frame() {
        payloads.streams.clear();
        payloads.datagrams.clear();
        decoder.decode(&frame, &mut payloads);
        let r = frame.reference();
        let named = plan.frames.contains(&key(r));
        let in_window = payloads.streams.iter().any(|flow| {
            plan.windows
                .iter()
                .any(|(f, lo, hi)| f == flow && r.seq >= *lo && r.seq <= *hi)
        });
        let media = !plan.media.is_empty()
            && r.ts_ns >= plan.media_from_ns
            && r.ts_ns <= plan.media_to_ns
            && payloads
                .datagrams
                .iter()
                .any(|f| plan.media.contains(&f.src) || plan.media.contains(&f.dst));
        if named || in_window || media {
            picked.push((
                r,
                frame.linktype,
                frame.orig_len,
                frame.data.to_vec(),
                media && !named,
            ));
        }
    }
    let pcapng = picked
        .first()
        .is_some_and(|first| picked.iter().any(|p| p.1 != first.1));
    let mut exported = Exported {
        frames: picked.iter().map(|p| p.0).collect(),
        call_ids,
        messages,
        pcapng,
        media_frames: picked.iter().filter(|p| p.4).count(),
    };
    if pcapng {
        let mut w = PcapngWriter::new(out)?;
        for (r, linktype, orig_len, data, _) in &picked {
            let comment = format!("original file {} frame {}", r.file + 1, r.number);
            w.write_packet(*linktype, r.ts_ns, data, *orig_len, Some(&comment))?;
        }
        w.into_inner().flush()?;
    } else {
        let linktype = picked.first().map_or(1, |p| p.1);
        let mut w = PcapWriter::new(out, linktype)?;
        for (r, _, orig_len, data, _) in &picked {
            w.write_record(r.ts_ns, data, *orig_len)?;
        }
        w.into_inner().flush()?;
    }
    exported.frames.shrink_to_fit();
    Ok(exported)
}
