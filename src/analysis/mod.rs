//! Wires the stages over a set of inputs and collects the result.
//!
//! capture → net → sip → dialog and transfer, one frame at a time. Nothing here
//! interprets a protocol: this module opens the stages, takes the frames from
//! [`crate::capture`] (merged on this thread, or from reader threads: [`parallel`]),
//! has [`SipStage`] decode each through the net stage, hands every SIP message found
//! to the dialog [`Tracker`], the transfer [`Collector`] and the caller's [`Observer`],
//! links the transfers and builds the [`Analysis`].
//!
//! Guarantees:
//! - The result is the same with reader threads as on one thread
//!   ([`Options::threads`]): the readers set aside only the frames the SIP stage would
//!   only count ([`plain_frame`]), and those are counted where decoding would have
//!   counted them.
//! - Each SIP message reaches the observer, then the transfer collector, then the
//!   dialog tracker, in the order the net stage delivers them.
//! - Time zero of relative times is the timestamp of the first frame of the merge.
//! - An observer that streams transfers gets each once it can no longer change, in
//!   REFER order; the calls and records no REFER still needs are then let go, so
//!   memory follows the live calls, not the size of the capture.

use serde::Serialize;

pub use crate::sip::stage::Found;

use crate::capture::parallel::{self, SetAside};
use crate::capture::{Damage, Format, Frame, Input, Merge};
use crate::dialog::{Dialog, DialogStats, Observed, Tracker};
use crate::net::{Decoder, Limits, NetStats};
use crate::sip::stage::{Framed, MessageSink, PlainTally, SipStage, SipStats, plain_frame};
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
    /// Group the legs of calls through B2BUAs into end-to-end calls
    /// ([`Analysis::correlated`], `calls --correlate`): every leg is then kept to the
    /// end of the capture.
    pub correlate_calls: bool,
    /// At most this many transfers wait at once to be linked, and as many to be
    /// built; past it the oldest is decided early, counted in [`Stats::transfers`]
    /// and said in its note (see [`transfer::Linker`]).
    pub max_pending: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            grace_ns: crate::dialog::GRACE_NS,
            rules: crate::rules::Config::default(),
            threads: true,
            correlate_calls: false,
            max_pending: transfer::MAX_PENDING,
        }
    }
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
    /// Whether the observer takes the listed calls one by one ([`Observer::call`]) as
    /// soon as no transfer can need them, instead of finding them all in
    /// [`Analysis::dialogs`] at the end: the call list then costs no memory here.
    /// Only asked when [`Observer::lists_calls`].
    fn takes_calls(&self) -> bool {
        false
    }
    /// A finished call for the list, with its place in it: calls come roughly, not
    /// exactly, in list order. `zero_ns` is time zero of relative times.
    fn call(&mut self, zero_ns: i64, listed: transfer::Listed) {
        let _ = (zero_ns, listed);
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

/// Everything counted during a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub frames: u64,
    pub bytes: u64,
    pub net: NetStats,
    pub sip: SipStats,
    pub dialogs: DialogStats,
    /// Transfers decided early because too many were pending (absent when none was).
    #[serde(skip_serializing_if = "transfer::LinkStats::is_quiet")]
    pub transfers: transfer::LinkStats,
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
    /// Calls through B2BUAs: their legs tied end to end (`calls --correlate`; empty
    /// unless [`Options::correlate_calls`]).
    pub correlated: crate::correlate::Correlated,
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

/// The stages after sip: each message goes to the observer, the transfer collector and
/// the dialog tracker, in that order.
struct Downstream<'o, O: Observer> {
    tracker: Tracker,
    transfers: Collector,
    /// The legs of calls through B2BUAs (issue 14).
    legs: crate::correlate::Correlator,
    /// Time zero of relative times: the first frame's timestamp.
    zero_ns: i64,
    /// SIP messages so far: they pace the linker.
    messages: u64,
    observer: &'o mut O,
}

impl<O: Observer> MessageSink for Downstream<'_, O> {
    fn message(&mut self, found: &Found<'_, '_>) {
        let Found {
            frame,
            flow,
            transport,
            message,
            ..
        } = *found;
        self.messages += 1;
        self.observer.message(found);
        self.legs.observe(frame, flow, message);
        self.transfers.observe(
            message,
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
            message,
        });
    }
}

/// What the reader threads set aside: the UDP datagrams the net stage reads without
/// state and the SIP stage only counts (see [`plain_frame`]).
#[derive(Clone, Copy)]
struct PlainUdp;

impl SetAside for PlainUdp {
    type Tally = PlainTally;
    fn set_aside(&self, frame: &Frame<'_>, tally: &mut PlainTally) -> bool {
        let Some(plain) = plain_frame(frame) else {
            return false;
        };
        tally.add(plain);
        true
    }
}

/// Where the frames come from: one thread merging the inputs, or a reader thread per
/// input (see [`parallel`]).
enum Frames {
    Serial(Merge),
    Parallel(parallel::Parallel<PlainUdp>),
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

/// A transfer with the findings the rules make of its facts, then its legs through
/// any B2BUA ([`transfer::legs::attach`]).
fn with_findings(
    mut t: Transfer,
    facts: &transfer::TransferFacts<'_>,
    rules: &crate::rules::Config,
    legs: &crate::correlate::Correlator,
) -> Transfer {
    t.findings = crate::rules::check::transfer(&t, facts, rules);
    transfer::legs::attach(&mut t, legs);
    t
}

/// Hands finished calls to an observer that takes them, or keeps them in `listed`.
fn list_calls<O: Observer>(
    observer: &mut O,
    zero_ns: i64,
    released: Vec<transfer::Listed>,
    listed: &mut Vec<transfer::Listed>,
) {
    if observer.takes_calls() {
        for l in released {
            observer.call(zero_ns, l);
        }
    } else {
        listed.extend(released);
    }
}

/// Finished calls that make the linker look at once, whatever the frame count.
const HAND_OVER_AT: usize = 1024;

/// The linker looks again after this many SIP messages, or this much capture time
/// since it last looked, whichever comes first. Only frames with SIP messages count,
/// and those are the same whether reader threads run or not: when the linker looks,
/// and so whatever its cap decides, depends only on the capture.
const LINK_EVERY_MESSAGES: u64 = 4096;
const LINK_EVERY_NS: i64 = 1_000_000_000;

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
        Frames::Parallel(parallel::Parallel::new(inputs, PlainUdp))
    } else {
        Frames::Serial(Merge::new(inputs))
    };
    let mut decoder = Decoder::new(options.limits.clone());
    let mut sip = SipStage::new();
    let mut stage = Downstream {
        tracker: Tracker::new(options.grace_ns),
        transfers: Collector::default(),
        legs: crate::correlate::Correlator::new(options.correlate_calls),
        zero_ns: 0,
        messages: 0,
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
    let mut linker = transfer::Linker::new(stage.observer.lists_calls(), options.max_pending);
    let mut next_link = (LINK_EVERY_MESSAGES, i64::MIN);
    let mut transfers = Vec::new();
    // Finished calls for the list, when the observer does not take them.
    let mut listed = Vec::new();
    let mut next_tick = PROGRESS_EVERY;
    loop {
        // The frame to decode, if any, and the plain frames a reader thread counted
        // before it.
        let (frame, plain) = match &mut frames_in {
            Frames::Serial(merge) => match merge.next_frame() {
                Some(frame) => (Some(frame), None),
                None => break,
            },
            Frames::Parallel(p) => match p.next_item() {
                Some(parallel::Item::Frame(frame, plain)) => (Some(frame), Some(plain)),
                Some(parallel::Item::Plain(plain)) => (None, Some(plain)),
                None => break,
            },
        };
        if let Some(plain) = plain {
            frames += plain.frames;
            bytes += plain.bytes;
            decoder.count_udp_datagrams(plain.frames);
            sip.count_plain(plain.tally);
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
        let messages = stage.messages;
        sip.decode(&mut decoder, &frame, stage.zero_ns, &mut stage);
        if frames >= next_tick {
            next_tick = frames.saturating_add(PROGRESS_EVERY);
            stage.observer.progress(frames_in.bytes_read(), total);
        }
        // Also early when many calls ended at once (Timer B firing for a burst of
        // unanswered INVITEs): they move on rather than pile up here.
        if stage.messages > messages
            && (stage.messages >= next_link.0
                || frame_ts >= next_link.1
                || stage.tracker.finished_count() >= HAND_OVER_AT)
        {
            next_link = (
                stage.messages.saturating_add(LINK_EVERY_MESSAGES),
                frame_ts.saturating_add(LINK_EVERY_NS),
            );
            linker.add_dialogs(stage.tracker.take_finished(), &stage.transfers);
            let released = stage.tracker.take_released();
            let tracker = &stage.tracker;
            let legs = &stage.legs;
            let observer = &mut *stage.observer;
            let zero_ns = stage.zero_ns;
            linker.advance(
                &mut stage.transfers,
                (frame_ts, stage.messages),
                tracker,
                &released,
                &mut |t, facts| {
                    let t = with_findings(t, facts, &options.rules, legs);
                    // What is streamed is not kept.
                    if observer.streams_transfers() {
                        observer.transfer(zero_ns, &t);
                    } else {
                        transfers.push(t);
                    }
                },
            );
            list_calls(
                &mut *stage.observer,
                zero_ns,
                linker.take_released(),
                &mut listed,
            );
        }
    }
    let Framed {
        stats,
        problems,
        unparsable,
    } = sip.finish(&mut decoder, stage.zero_ns, &mut stage);
    let Downstream {
        tracker,
        transfers: mut collector,
        legs,
        observer,
        zero_ns,
        ..
    } = stage;
    // The calls still up go one Call-ID at a time: those no transfer can look up
    // straight to the call list.
    linker.resolve_all(&mut collector);
    let dialog_stats = tracker.finish_each(|d| {
        linker.add_last_dialog(d);
        if linker.released_count() >= HAND_OVER_AT {
            list_calls(&mut *observer, zero_ns, linker.take_released(), &mut listed);
        }
    });
    let link_stats = linker.stats().clone();
    let streaming = observer.streams_transfers();
    let mut held = linker.finish(&mut collector, &mut |t, facts| {
        let t = with_findings(t, facts, &options.rules, &legs);
        // What is streamed is not kept: a capture's worth of transfers built at its
        // end (REFERs in calls still up) would be.
        if streaming {
            observer.transfer(zero_ns, &t);
        } else {
            transfers.push(t);
        }
    });
    // The capture's findings look at the dialogs whose CSeq went backwards (X310);
    // the linker holds every such dialog to the end.
    let held_dialogs: Vec<Dialog> = held
        .iter()
        .filter(|l| !l.dialog.cseq_regressions.is_empty())
        .map(|l| l.dialog.clone())
        .collect();
    list_calls(
        &mut *observer,
        zero_ns,
        std::mem::take(&mut held),
        &mut listed,
    );
    listed.sort_by_key(|l| l.place);
    let dialogs: Vec<Dialog> = listed.into_iter().map(|l| l.dialog).collect();
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
        .collect::<Vec<InputSummary>>();
    let damage: Vec<crate::capture::Damage> = inputs
        .iter()
        .flat_map(|i| i.damage.iter().cloned())
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
            transfers: link_stats,
        },
        findings: crate::rules::check::capture(
            &crate::rules::check::Inputs {
                damage: &damage,
                end_ns: end_ns.unwrap_or_default(),
            },
            &held_dialogs,
            &collector,
            &problems,
            &unparsable,
            &options.rules,
        ),
        dialogs,
        transfers,
        correlated: if options.correlate_calls {
            crate::correlate::Correlated::of(&legs)
        } else {
            crate::correlate::Correlated::default()
        },
    }
}
