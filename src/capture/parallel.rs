//! Inputs read on threads of their own, merged back into one stream of frames.
//!
//! Each input gets a reader thread. It reads the input's frames and sets aside the plain
//! traffic the pipeline would only count, as the caller's [`SetAside`] decides frame
//! by frame (the analysis sets aside the UDP datagrams that are not SIP: RTP, mostly).
//! Every other frame is copied into a batch and sent to the thread that calls
//! [`Parallel::next_item`], with the counts of the plain frames read before it. That
//! thread is then left with a few per cent of the frames: with one file the reading and the
//! analysis run on both cores side by side (2 GB: 0.68 s against 1.02 s on one
//! thread), with several files the reading too is shared.
//!
//! This module knows frames only: what a frame is, and what its tally counts, is the
//! [`SetAside`]'s business.
//!
//! Guarantees:
//! - The frames handed on come in exactly the order [`crate::capture::Merge`] delivers
//!   them, so the analysis is identical to a run on one thread. Why: that merge always
//!   takes the input whose next frame has the earliest timestamp, so a frame no later
//!   than one already taken from its input is taken at once, and the frames come out
//!   ordered by (the latest timestamp of their input so far, input index, position).
//!   Each frame sent carries that key, computed over every frame of its input, the
//!   plain ones included; the plain frames need no place in the order.
//! - Every frame [`SetAside::set_aside`] refuses is handed on, and every frame it takes
//!   is counted once in the [`PlainCounts`] before the next frame of its input (or at
//!   the input's end).
//! - Memory is bounded: a reader runs ahead by at most `CHANNEL_BATCHES` batches of at
//!   most `BATCH_BYTES` (4 MiB of frames handed on; plain frames take no room), fewer
//!   when many inputs are read at once (16 MiB for all of them up to 32 inputs), and an
//!   input is started only when the merge reaches its first frame or when it is the next
//!   by first timestamp and a core is free (a ring buffer: the next file is read while
//!   this one is analysed).
//! - Nothing is lost: the plain frames' counts, each input's own counts and damage, and
//!   the bytes read (for progress) all reach the caller.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::{BytesRead, Frame, Input};

/// Frame bytes one batch holds before it is sent.
const BATCH_BYTES: usize = 256 * 1024;
/// Frames one batch holds before it is sent.
const BATCH_FRAMES: usize = 4096;
/// Batches a reader may have sent and not yet had taken: how far it runs ahead. A
/// ring-buffer file read ahead gets this far (a few hundred MB of capture at the usual
/// share of SIP) before it waits for the analysis.
const CHANNEL_BATCHES: usize = 16;
/// Batches all readers together may hold when many inputs overlap in time (all read at
/// once): each reader then gets its share, at least 2.
const ALL_CHANNELS_BATCHES: usize = 64;
/// Inputs started before the merge reaches their first frame, at most.
const STARTED_AHEAD: usize = 1;
/// Used batches the analysis hands back to a reader to fill again, at most: a batch is
/// reused rather than allocated, grown and freed (with freed pages given back to the
/// system at once, each new batch cost page faults: a tenth of a SIP-only run).
const RECYCLED_BATCHES: usize = 4;

/// Decides, on a reader thread, which frames are plain: only counted, never handed on.
///
/// Each reader gets a clone of it. The decision must depend on the frame alone, so that
/// it is the same on every thread.
pub trait SetAside: Clone + Send + 'static {
    /// What the caller counts of the plain frames, besides frames, bytes and time.
    type Tally: Copy + Default + std::fmt::Debug + PartialEq + Eq + Send + 'static;

    /// Whether `frame` is plain; when it is, it is counted in `tally`.
    fn set_aside(&self, frame: &Frame<'_>, tally: &mut Self::Tally) -> bool;
}

/// Plain frames an input had since its previous frame that was sent on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlainCounts<T> {
    pub frames: u64,
    /// Captured bytes of those frames.
    pub bytes: u64,
    /// What the [`SetAside`] counted of them.
    pub tally: T,
    /// The latest timestamp among those frames.
    pub latest_ts: Option<i64>,
}

impl<T> PlainCounts<T> {
    fn add(&mut self, ts_ns: i64, bytes: usize) {
        self.frames += 1;
        self.bytes += bytes as u64;
        self.latest_ts = Some(self.latest_ts.map_or(ts_ns, |t| t.max(ts_ns)));
    }
}

/// A frame sent on, without its bytes (they are in the batch's `data`).
struct Sent<T> {
    /// Merge key: the latest timestamp of the input up to and including this frame.
    key: i64,
    number: u64,
    ts_ns: i64,
    linktype: u32,
    orig_len: u32,
    len: usize,
    plain_before: PlainCounts<T>,
    /// Bytes of the input read when this frame was: how far the analysis has got once
    /// it takes this frame (the reader itself runs ahead).
    bytes_read: u64,
}

/// What a reader sends: frames in file order, and after the last frame the counts of
/// the plain frames that followed it.
struct Batch<T> {
    frames: Vec<Sent<T>>,
    data: Vec<u8>,
    /// Set on the input's last batch.
    tail: Option<PlainCounts<T>>,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            frames: Vec::new(),
            data: Vec::new(),
            tail: None,
        }
    }
}

impl<T> Batch<T> {
    /// A batch emptied for reuse, keeping its buffers.
    fn emptied(mut self) -> Self {
        self.frames.clear();
        self.data.clear();
        self.tail = None;
        self
    }

    fn full(&self) -> bool {
        self.frames.len() >= BATCH_FRAMES || self.data.len() >= BATCH_BYTES
    }
}

/// Reads one input into batches: the same code on a reader thread and, when no thread
/// can be had, on the analysis thread itself.
struct Reader<A> {
    input: Input,
    bytes_read: BytesRead,
    /// The latest timestamp so far: the merge key of the next frame sent on.
    key: i64,
    set_aside: A,
}

impl<A: SetAside> Reader<A> {
    fn new(input: Input, set_aside: A) -> Reader<A> {
        Reader {
            bytes_read: input.bytes_read_handle(),
            input,
            key: i64::MIN,
            set_aside,
        }
    }

    /// The next batch of frames the pipeline must decode, filled into `batch` (an empty
    /// one, or one used before: it is emptied); at the input's end, one with the `tail`
    /// set.
    fn next_batch(&mut self, batch: Batch<A::Tally>) -> Batch<A::Tally> {
        let mut batch = batch.emptied();
        let mut plain = PlainCounts::default();
        while let Some(frame) = self.input.next_frame() {
            self.key = self.key.max(frame.ts_ns);
            if self.set_aside.set_aside(&frame, &mut plain.tally) {
                plain.add(frame.ts_ns, frame.data.len());
                continue;
            }
            batch.frames.push(Sent {
                key: self.key,
                number: frame.number,
                ts_ns: frame.ts_ns,
                linktype: frame.linktype,
                orig_len: frame.orig_len,
                len: frame.data.len(),
                plain_before: std::mem::take(&mut plain),
                bytes_read: self.bytes_read.get(),
            });
            batch.data.extend_from_slice(frame.data);
            if batch.full() {
                return batch;
            }
        }
        batch.tail = Some(plain);
        batch
    }

    /// Reads the input to its end on a thread of its own, sending every batch (filling
    /// the used ones the analysis hands back, when there are some); returns the input,
    /// with its counts and damage.
    fn run(
        mut self,
        to_analysis: SyncSender<Batch<A::Tally>>,
        used: Receiver<Batch<A::Tally>>,
    ) -> Input {
        loop {
            let batch = self.next_batch(used.try_recv().unwrap_or_default());
            let last = batch.tail.is_some();
            // A send fails only when the analysis stopped listening.
            if to_analysis.send(batch).is_err() || last {
                return self.input;
            }
        }
    }
}

/// Where the batches of an input being read come from.
enum Batches<A: SetAside> {
    Thread {
        from_reader: Receiver<Batch<A::Tally>>,
        /// Used batches, back to the reader.
        to_reader: SyncSender<Batch<A::Tally>>,
        /// Gives the input back at the end (`None` only if the reader never reached
        /// the thread, which then kept it here).
        reader: JoinHandle<Option<Input>>,
    },
    /// No thread could be started: read on the analysis thread, batch by batch.
    Here(Box<Reader<A>>),
}

impl<A: SetAside> Batches<A> {
    /// The next batch, `used` being the one the analysis is done with; `None` when the
    /// reader thread ended without its last batch.
    fn next(&mut self, used: Batch<A::Tally>) -> Option<Batch<A::Tally>> {
        match self {
            Batches::Thread {
                from_reader,
                to_reader,
                ..
            } => {
                // When the reader has enough batches to fill already, this one is freed.
                let _ = to_reader.try_send(used);
                from_reader.recv().ok()
            }
            Batches::Here(reader) => Some(reader.next_batch(used)),
        }
    }

    fn running(&self) -> bool {
        matches!(self, Batches::Thread { reader, .. } if !reader.is_finished())
    }

    /// Stops the reader without waiting for the input's end: its thread ends at its
    /// next send, and is waited for. The input is dropped (and with it its own
    /// read-ahead thread, if any).
    fn stop(self) {
        if let Batches::Thread {
            from_reader,
            to_reader,
            reader,
        } = self
        {
            drop(from_reader);
            drop(to_reader);
            // A panic on the reader is not raised here: this runs in a drop, perhaps
            // while unwinding already.
            let _ = reader.join();
        }
    }

    /// The input back, once read.
    fn into_input(self) -> Option<Input> {
        match self {
            Batches::Thread {
                from_reader,
                to_reader,
                reader,
            } => {
                // A reader blocked on a full channel ends once the channel is gone.
                drop(from_reader);
                drop(to_reader);
                match reader.join() {
                    Ok(input) => input,
                    // A panic on the reader thread is a bug of ours, not of the input:
                    // let it surface as it would have on one thread.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Batches::Here(reader) => Some(reader.input),
        }
    }
}

/// Where one input's reading stands.
enum State<A: SetAside> {
    /// Not started: its first frame is not reached yet.
    Waiting(Input),
    Reading {
        batches: Batches<A>,
        batch: Batch<A::Tally>,
        /// Next frame of `batch`, and where its bytes start.
        next: usize,
        offset: usize,
    },
    Done(Input),
    /// Only while changing state.
    Moving,
}

struct Source<A: SetAside> {
    state: State<A>,
    /// Capacity of the reader's channel, in batches.
    channel_batches: usize,
    index: u32,
    bytes_read: BytesRead,
    /// Bytes of the input read up to the frame the analysis took last.
    analysed: u64,
    first_ts: Option<i64>,
    /// Whether the merge has reached the input's first frame.
    reached: bool,
}

/// What [`Parallel::next_item`] hands on.
pub enum Item<'a, T> {
    /// A frame to decode, and the plain frames its input had before it.
    Frame(Frame<'a>, PlainCounts<T>),
    /// Plain frames at the end of an input.
    Plain(PlainCounts<T>),
}

/// Inputs, each read on a thread of its own, merged by timestamp.
pub struct Parallel<A: SetAside> {
    sources: Vec<Source<A>>,
    /// Merge keys of the next frame of every input being read, or the first timestamp
    /// of an input not started: earliest first, ties by index.
    heads: BinaryHeap<Reverse<(i64, usize)>>,
    /// Inputs not started yet, by first timestamp; `next_start` is the next of them.
    start_order: Vec<usize>,
    next_start: usize,
    /// Inputs started before the merge reached them.
    started_ahead: usize,
    /// Readers that may run at once besides the analysis.
    threads: usize,
    /// Whether readers get threads of their own (tests read on the calling thread too).
    spawn: bool,
    /// The input whose frame was handed on last: its next key is looked up at the next
    /// call, once that frame is no longer borrowed.
    refill: Option<usize>,
    delivered: u64,
    set_aside: A,
}

impl<A: SetAside> Parallel<A> {
    /// Reads `inputs` (in command-line order), setting aside the frames `set_aside`
    /// takes.
    pub fn new(inputs: Vec<Input>, set_aside: A) -> Parallel<A> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let channel_batches =
            (ALL_CHANNELS_BATCHES / inputs.len().max(1)).clamp(2, CHANNEL_BATCHES);
        let sources: Vec<Source<A>> = inputs
            .into_iter()
            .map(|mut input| Source {
                index: input.index(),
                bytes_read: input.bytes_read_handle(),
                analysed: 0,
                first_ts: input.peek_ts(),
                reached: false,
                channel_batches,
                state: State::Waiting(input),
            })
            .collect();
        let mut heads = BinaryHeap::new();
        let mut start_order = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            // An input with nothing to read stays as it is.
            if let Some(ts) = source.first_ts {
                heads.push(Reverse((ts, i)));
                start_order.push(i);
            }
        }
        start_order.sort_by_key(|&i| (sources.get(i).and_then(|s| s.first_ts), i));
        Parallel {
            sources,
            heads,
            start_order,
            next_start: 0,
            started_ahead: 0,
            threads,
            spawn: true,
            refill: None,
            delivered: 0,
            set_aside,
        }
    }

    /// The timestamp of the first frame the merge delivers: time zero.
    pub fn first_ts(&self) -> Option<i64> {
        self.sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.first_ts.map(|ts| (ts, i)))
            .min()
            .map(|(ts, _)| ts)
    }

    /// Bytes of every input read up to the frames analysed so far: what a progress
    /// line shows (the readers themselves run ahead).
    pub fn bytes_analysed(&self) -> u64 {
        self.sources.iter().map(|s| s.analysed).sum()
    }

    /// The next frame in merge order, or the plain frames that ended an input.
    pub fn next_item(&mut self) -> Option<Item<'_, A::Tally>> {
        if let Some(i) = self.refill.take()
            && let Some(tail) = self.refill_head(i)
        {
            return Some(Item::Plain(tail));
        }
        // The input whose next frame comes first, once every input whose first frame
        // the merge reaches is started.
        let spawn = self.spawn;
        let i = loop {
            let Reverse((_, i)) = self.heads.pop()?;
            let source = self.sources.get_mut(i)?;
            if source.reached {
                break i;
            }
            // The merge reached an input's first frame: start its reader unless it was
            // started ahead, then put its first frame's key in place.
            source.reached = true;
            if !source.start(spawn, &self.set_aside) {
                self.started_ahead = self.started_ahead.saturating_sub(1);
            }
            self.start_ahead();
            if let Some(tail) = self.refill_head(i) {
                return Some(Item::Plain(tail));
            }
        };
        self.refill = Some(i);
        let source = self.sources.get_mut(i)?;
        let State::Reading {
            batch,
            next,
            offset,
            ..
        } = &mut source.state
        else {
            return None;
        };
        let sent = batch.frames.get(*next)?;
        let data = batch
            .data
            .get(*offset..offset.saturating_add(sent.len))
            .unwrap_or_default();
        *next += 1;
        *offset += sent.len;
        source.analysed = sent.bytes_read;
        self.delivered += sent.plain_before.frames + 1;
        let frame = Frame {
            seq: self.delivered,
            file: source.index,
            number: sent.number,
            ts_ns: sent.ts_ns,
            linktype: sent.linktype,
            data,
            orig_len: sent.orig_len,
        };
        Some(Item::Frame(frame, sent.plain_before))
    }

    /// Puts the key of input `i`'s next frame on the heap, waiting for its reader when
    /// the batch in hand is used up. At the input's end, returns the plain frames that
    /// followed its last frame.
    fn refill_head(&mut self, i: usize) -> Option<PlainCounts<A::Tally>> {
        loop {
            let source = self.sources.get_mut(i)?;
            let State::Reading {
                batches,
                batch,
                next,
                offset,
            } = &mut source.state
            else {
                return None;
            };
            if let Some(sent) = batch.frames.get(*next) {
                self.heads.push(Reverse((sent.key, i)));
                return None;
            }
            if let Some(tail) = batch.tail.take() {
                source.finish();
                source.analysed = source.bytes_read.get();
                self.delivered += tail.frames;
                self.start_ahead();
                return Some(tail);
            }
            match batches.next(std::mem::take(batch)) {
                Some(b) => {
                    *batch = b;
                    *next = 0;
                    *offset = 0;
                    // A reader may have finished meanwhile, freeing a core.
                    self.start_ahead();
                }
                // The reader ended without its last batch: it panicked, and finishing
                // lets that surface.
                None => {
                    source.finish();
                    return None;
                }
            }
        }
    }

    /// Starts the next inputs by first timestamp while fewer than [`STARTED_AHEAD`]
    /// run ahead of the merge and a core is free.
    fn start_ahead(&mut self) {
        while self.started_ahead < STARTED_AHEAD {
            let running = self
                .sources
                .iter()
                .filter(|s| matches!(&s.state, State::Reading { batches, .. } if batches.running()))
                .count();
            if running >= self.threads {
                return;
            }
            let Some(&i) = self.start_order.get(self.next_start) else {
                return;
            };
            self.next_start += 1;
            if let Some(source) = self.sources.get_mut(i)
                && !source.reached
                && source.start(self.spawn, &self.set_aside)
            {
                self.started_ahead += 1;
            }
        }
    }

    /// Every input, read to its end or to where it stopped, in command-line order.
    pub fn into_inputs(mut self) -> Vec<Input> {
        // Taken, as `Parallel` has a `Drop`; what is left for it is nothing.
        std::mem::take(&mut self.sources)
            .into_iter()
            .filter_map(|mut s| {
                s.finish();
                match s.state {
                    State::Done(input) | State::Waiting(input) => Some(input),
                    State::Reading { .. } | State::Moving => None,
                }
            })
            .collect()
    }
}

/// A `Parallel` let go before its inputs' ends (an analysis stopped early, a panic)
/// stops its reader threads and waits for them, so that no thread outlives it still
/// reading an input (and holding its buffers) that nobody will look at.
impl<A: SetAside> Drop for Parallel<A> {
    fn drop(&mut self) {
        for source in &mut self.sources {
            if let State::Reading { batches, .. } =
                std::mem::replace(&mut source.state, State::Moving)
            {
                batches.stop();
            }
        }
    }
}

impl<A: SetAside> Source<A> {
    /// Starts reading on a thread of its own (on this one when no thread can be had,
    /// or `threads` is false); false if it was started already.
    fn start(&mut self, threads: bool, set_aside: &A) -> bool {
        match std::mem::replace(&mut self.state, State::Moving) {
            State::Waiting(input) if !threads => {
                self.state = State::Reading {
                    batches: Batches::Here(Box::new(Reader::new(input, set_aside.clone()))),
                    batch: Batch::default(),
                    next: 0,
                    offset: 0,
                };
                true
            }
            State::Waiting(input) => {
                let reader = Reader::new(input, set_aside.clone());
                // The reader is handed over only once the thread runs, so a thread that
                // cannot be started loses nothing.
                let (hand_over, take_over) = sync_channel::<Reader<A>>(1);
                let (to_analysis, from_reader) = sync_channel(self.channel_batches);
                let (to_reader, used) = sync_channel(RECYCLED_BATCHES);
                let thread = std::thread::Builder::new()
                    .name(format!("read input {}", self.index))
                    .spawn(move || take_over.recv().ok().map(|r| r.run(to_analysis, used)));
                let batches = match thread {
                    Ok(thread) => match hand_over.send(reader) {
                        Ok(()) => Batches::Thread {
                            from_reader,
                            to_reader,
                            reader: thread,
                        },
                        // The thread is gone already: read here.
                        Err(back) => Batches::Here(Box::new(back.0)),
                    },
                    Err(_) => Batches::Here(Box::new(reader)),
                };
                self.state = State::Reading {
                    batches,
                    batch: Batch::default(),
                    next: 0,
                    offset: 0,
                };
                true
            }
            other => {
                self.state = other;
                false
            }
        }
    }

    /// Waits for the reader to hand its input back.
    fn finish(&mut self) {
        self.state = match std::mem::replace(&mut self.state, State::Moving) {
            State::Reading { batches, .. } => match batches.into_input() {
                Some(input) => State::Done(input),
                None => State::Moving,
            },
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Merge;
    use crate::capture::write::PcapWriter;
    use etherparse::PacketBuilder;

    /// A small deterministic generator (xorshift), so the test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
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

    /// A capture of `frames` packets: mostly RTP-like, some SIP, keep-alives, and frames
    /// that are not Ethernet/IPv4/UDP. Timestamps start at `start`, mostly go forward,
    /// and sometimes jump back (as with several interfaces in one file).
    fn capture(rng: &mut Rng, start: i64, frames: usize) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), 1).expect("header");
        let mut ts = start;
        for n in 0..frames {
            ts += i64::try_from(rng.below(2_000)).unwrap_or(0);
            if rng.below(50) == 0 {
                ts -= i64::try_from(rng.below(30_000)).unwrap_or(0);
            }
            let data = match rng.below(100) {
                0..=2 => udp(format!("OPTIONS sip:x SIP/2.0\r\nCall-ID: {n}\r\n\r\n").as_bytes()),
                3 => udp(b"\r\n\r\n"),
                4 => vec![0xff; 40], // not IPv4: takes the decoder's general path
                _ => udp(&[0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            };
            w.write_packet(ts, &data).expect("packet");
        }
        w.into_inner()
    }

    fn inputs(files: &[Vec<u8>]) -> Vec<Input> {
        files
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                let reader = Box::new(std::io::Cursor::new(bytes.clone()));
                Input::from_reader(&format!("f{i}"), u32::try_from(i).unwrap_or(0), reader)
                    .expect("input")
            })
            .collect()
    }

    /// Where the UDP payload starts in the frames of [`udp`]: Ethernet II, IPv4
    /// without options, UDP.
    const UDP_PAYLOAD: usize = 14 + 20 + 8;

    /// What the test sets aside: the RTP-like datagrams and the keep-alives, told
    /// apart by their first bytes (this module knows no protocol).
    #[derive(Clone)]
    struct RtpAndKeepalives;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Tally {
        rtp: u64,
        keepalives: u64,
    }

    impl SetAside for RtpAndKeepalives {
        type Tally = Tally;
        fn set_aside(&self, frame: &Frame<'_>, tally: &mut Tally) -> bool {
            match frame.data.get(UDP_PAYLOAD..) {
                Some([0x80, ..]) => tally.rtp += 1,
                Some(b"\r\n\r\n") => tally.keepalives += 1,
                _ => return false,
            }
            true
        }
    }

    fn is_plain(frame: &Frame<'_>) -> bool {
        RtpAndKeepalives.set_aside(frame, &mut Tally::default())
    }

    /// (file, frame number) of every frame decoded, and the number of frames in all.
    fn serial(files: &[Vec<u8>]) -> (Vec<(u32, u64)>, u64) {
        let mut merge = Merge::new(inputs(files));
        let (mut order, mut all) = (Vec::new(), 0);
        while let Some(frame) = merge.next_frame() {
            all += 1;
            if !is_plain(&frame) {
                order.push((frame.file, frame.number));
            }
        }
        (order, all)
    }

    fn parallel(files: &[Vec<u8>]) -> (Vec<(u32, u64)>, u64) {
        let on_threads = parallel_with(files, true);
        // Without threads (as when none can be had) the readers' code runs here.
        assert_eq!(on_threads, parallel_with(files, false));
        on_threads
    }

    fn parallel_with(files: &[Vec<u8>], spawn: bool) -> (Vec<(u32, u64)>, u64) {
        let mut p = Parallel::new(inputs(files), RtpAndKeepalives);
        p.spawn = spawn;
        let (mut order, mut all) = (Vec::new(), 0);
        let mut last_seq = 0;
        while let Some(item) = p.next_item() {
            match item {
                Item::Frame(frame, plain) => {
                    assert!(frame.seq > last_seq, "seq goes up");
                    last_seq = frame.seq;
                    assert!(!is_plain(&frame));
                    assert_eq!(plain.frames, plain.tally.rtp + plain.tally.keepalives);
                    all += plain.frames + 1;
                    order.push((frame.file, frame.number));
                }
                Item::Plain(plain) => {
                    assert_eq!(plain.frames, plain.tally.rtp + plain.tally.keepalives);
                    all += plain.frames;
                }
            }
        }
        let read: u64 = p.into_inputs().iter().map(|i| i.stats().frames).sum();
        assert_eq!(read, all, "every frame is counted once");
        (order, all)
    }

    #[test]
    fn frames_come_in_the_order_of_the_one_thread_merge() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..12 {
            let files = 1 + rng.below(4) as usize;
            let ring = round % 3 == 0;
            let captures: Vec<Vec<u8>> = (0..files)
                .map(|f| {
                    let frames = rng.below(12_000) as usize;
                    // A ring buffer: each file after the one before; else overlapping.
                    let start = if ring {
                        1_000_000_000 * i64::try_from(f).unwrap_or(0)
                    } else {
                        i64::try_from(rng.below(5_000_000)).unwrap_or(0)
                    };
                    capture(&mut rng, start, frames)
                })
                .collect();
            assert_eq!(serial(&captures), parallel(&captures), "round {round}");
        }
    }

    #[test]
    fn an_empty_input_and_ties_keep_the_command_line_order() {
        let mut rng = Rng(7);
        let same = capture(&mut rng, 0, 500);
        let empty = PcapWriter::new(Vec::new(), 1).expect("header").into_inner();
        let captures = vec![same.clone(), empty, same];
        assert_eq!(serial(&captures), parallel(&captures));
    }
}
