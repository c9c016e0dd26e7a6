//! Capture files in, frames out.
//!
//! Guarantees:
//! - Streaming: a capture is never loaded into memory; a frame borrows the reader's
//!   buffer until the next call to `next_frame`.
//! - Legacy pcap (micro- and nanosecond, both byte orders), pcapng (several sections,
//!   several interfaces, each with its own link type and timestamp resolution), and
//!   either of them gzip-compressed (recognised by the magic bytes, not the name).
//!   `-` reads standard input.
//! - Frame numbers are 1-based per file and count every packet record, exactly
//!   Wireshark's `frame.number`.
//! - Never panics on input. A file that is not a capture at all fails to open with an
//!   [`OpenError`]. Damage later in a file (a record cut short, garbage after the valid
//!   records, a corrupt block) is recorded as a [`Damage`] naming file, frame and byte
//!   offset; the frames before it are still delivered.
//! - Several inputs are merged by timestamp by [`Merge`] (ring-buffer captures); ties
//!   keep the order of the files on the command line. [`parallel::Parallel`] reads each
//!   input on a thread of its own and hands on the frames in exactly that order, with
//!   the frames a caller's [`parallel::SetAside`] takes counted instead of handed on.
//! - This stage imports no later one (net, sip, ...): what a frame carries is not its
//!   business.
//! - No allocation and no copy per frame: records are parsed in place in one read
//!   window per input (64 KiB growing to 1 MiB; beyond that only for a single record,
//!   up to [`MAX_RECORD_LEN`]).
//!
//! The record layer is parsed here (a few fixed-size fields per record) rather than by
//! pcap-parser's streaming readers, which allocate the options of every Enhanced Packet
//! Block, do not know the obsolete Packet Block, read `if_tsoffset` little-endian in
//! big-endian sections, lose the OS message of read errors and need a whole Section
//! Header Block in their first read (short reads from pipes and gzip).

mod merge;
pub mod parallel;
mod pcap;
mod pcapng;
pub mod read_ahead;
mod stream;
pub mod write;

pub use merge::Merge;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use flate2::read::MultiGzDecoder;

use stream::{ByteStream, Counted, Fill, ReadCounters, read_up_to};

/// One packet record of a capture, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Position in the order frames are analysed: the frame number for a single file,
    /// the position in the merged stream for several.
    pub seq: u64,
    /// Index of the input file (0-based, in command-line order).
    pub file: u32,
    /// 1-based frame number within its file (Wireshark's `frame.number`).
    pub number: u64,
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// LINKTYPE_* value of the interface the packet was captured on.
    pub linktype: u32,
    /// The captured bytes (may be shorter than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

/// Where a frame came from, without its bytes: what later stages keep.
///
/// Frame references order by `seq`, the order the frames were analysed in: frame
/// number order within one file (even where timestamps go backwards, as with several
/// interfaces), timestamp order across merged files. That order is total, so "first"
/// and "before" mean what the user sees scrolling through the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameRef {
    pub seq: u64,
    pub file: u32,
    pub number: u64,
    pub ts_ns: i64,
}

impl Frame<'_> {
    pub fn reference(&self) -> FrameRef {
        FrameRef {
            seq: self.seq,
            file: self.file,
            number: self.number,
            ts_ns: self.ts_ns,
        }
    }
}

/// Bytes read so far from one input, readable from any thread (see
/// [`Input::bytes_read_handle`]).
#[derive(Clone)]
pub struct BytesRead(Arc<ReadCounters>);

impl BytesRead {
    pub fn get(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }
}

/// A file that could not be opened as a capture.
#[derive(Debug)]
pub struct OpenError {
    /// The file as the user named it.
    pub file: String,
    /// What is wrong and what to do next, in one line.
    pub message: String,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for OpenError {}

/// What kind of damage a capture file had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DamageKind {
    /// The file ends in the middle of a record (a capture cut short).
    TruncatedRecord,
    /// Bytes after the last valid record that are not a record.
    GarbageAfterRecords,
    /// A block or record header that makes no sense (impossible length, bad magic).
    CorruptBlock,
    /// A gzip stream that is corrupt or cut short.
    CorruptCompression,
    /// A read error from the operating system.
    Io,
}

/// Damage found in an input file; reading of that file stopped there.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Damage {
    pub file: u32,
    /// The frame number the damaged record would have had.
    pub frame: u64,
    /// Byte offset of the damaged record in the (decompressed) file.
    pub offset: u64,
    pub kind: DamageKind,
    pub detail: String,
}

/// Counts for one input file.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CaptureStats {
    /// Packet records delivered.
    pub frames: u64,
    /// Captured bytes delivered (sum of record lengths).
    pub bytes: u64,
    /// Records whose captured length is shorter than the wire length (snap length).
    pub snapped_frames: u64,
    /// Blocks that are not packets and were skipped (pcapng statistics, name resolution, ...).
    pub skipped_blocks: u64,
}

/// The container format of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pcap,
    PcapNanos,
    Pcapng,
}

/// Largest single record or block accepted (and so the largest the read window grows):
/// anything longer is damage, not a packet.
pub const MAX_RECORD_LEN: usize = 256 * 1024 * 1024;

/// What to tell a user whose file is not a capture.
const WHAT_WE_READ: &str = "sipxfer reads pcap and pcapng files, optionally gzip-compressed";

/// One opened input file, read as a stream.
pub struct Input {
    name: String,
    index: u32,
    stream: ByteStream,
    container: Container,
    format: Format,
    gzip: bool,
    file_size: Option<u64>,
    counters: Arc<ReadCounters>,
    damage: Vec<Damage>,
    stats: CaptureStats,
    /// Frame number given to the last packet record parsed.
    last_number: u64,
    /// Bytes of the last delivered record, consumed at the next call: the delivered
    /// frame borrows them until then.
    pending: usize,
    /// A record parsed by `peek_ts` and not yet delivered; its bytes are at the start
    /// of the window.
    peeked: Option<Record>,
    finished: bool,
}

enum Container {
    Pcap(pcap::LegacyFile),
    Pcapng(pcapng::NgFile),
}

/// A packet record located in the read window, relative to the window's start.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Whole record or block, consumed once the frame is done with.
    size: usize,
    data_start: usize,
    data_len: usize,
    ts_ns: i64,
    linktype: u32,
    orig_len: u32,
    number: u64,
}

/// What a format parser found at the start of the window.
enum Step {
    Packet(Record),
    /// A well-formed block that is not a packet; `skipped` when it is not used at all.
    Block {
        size: usize,
        skipped: bool,
    },
    End,
    Damaged(DamageKind, String),
    ReadFailed(std::io::Error),
}

/// Reads a u32 at `at` in the given byte order; `None` when out of bounds.
#[inline]
fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Which inputs are read on a thread of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threads {
    Always,
    Gzip,
    Never,
}

impl Input {
    /// Opens `path` (or standard input for `-`), detecting gzip and the capture format
    /// from the first bytes.
    pub fn open(path: &str, index: u32) -> Result<Input, OpenError> {
        Self::open_with(path, index, false)
    }

    /// [`Input::open`], reading the file on a thread of its own when `read_ahead` is
    /// set (see [`read_ahead`]); gzip input is always read ahead, as decompression is
    /// the costly part. The frames are the same either way.
    pub fn open_with(path: &str, index: u32, read_ahead: bool) -> Result<Input, OpenError> {
        Self::open_threaded(
            path,
            index,
            if read_ahead {
                Threads::Always
            } else {
                Threads::Gzip
            },
        )
    }

    /// [`Input::open`] with every byte read on the calling thread, gzip included.
    pub fn open_in_place(path: &str, index: u32) -> Result<Input, OpenError> {
        Self::open_threaded(path, index, Threads::Never)
    }

    fn open_threaded(path: &str, index: u32, threads: Threads) -> Result<Input, OpenError> {
        if path == "-" {
            return Self::from_source(path, index, Box::new(std::io::stdin()), None, threads);
        }
        let file = File::open(path).map_err(|e| OpenError {
            file: path.to_string(),
            message: format!("cannot open: {e}"),
        })?;
        let file_size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        Self::from_source(path, index, Box::new(file), file_size, threads)
    }

    /// Reads a capture from any reader; `name` is what errors and reports call it.
    pub fn from_reader(
        name: &str,
        index: u32,
        reader: Box<dyn Read + Send>,
    ) -> Result<Input, OpenError> {
        Self::from_source(name, index, reader, None, Threads::Gzip)
    }

    fn from_source(
        name: &str,
        index: u32,
        reader: Box<dyn Read + Send>,
        file_size: Option<u64>,
        threads: Threads,
    ) -> Result<Input, OpenError> {
        let fail = |message: String| OpenError {
            file: name.to_string(),
            message,
        };
        let counters = Arc::new(ReadCounters::default());
        let mut raw = Counted {
            inner: reader,
            counters: Arc::clone(&counters),
        };
        // gzip is recognised by its magic (RFC 1952 section 2.3.1), not by the name.
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut raw, &mut magic).map_err(|e| fail(format!("cannot read: {e}")))?;
        let gzip = n == 2 && magic == [0x1f, 0x8b];
        let prefix = std::io::Cursor::new(magic).take(n as u64);
        let source: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(prefix.chain(raw)))
        } else {
            Box::new(prefix.chain(raw))
        };
        let ahead = match threads {
            Threads::Always => true,
            Threads::Gzip => gzip,
            Threads::Never => false,
        };
        let source = if ahead {
            read_ahead::ReadAhead::spawn(source)
        } else {
            source
        };
        let mut stream = ByteStream::new(source);
        let read_failure = match stream.request(pcap::FILE_HEADER_LEN) {
            Fill::Failed(e) => Some(e),
            Fill::Ready | Fill::Eof => None,
        };
        if let Some(e) = read_failure {
            return Err(fail(if gzip && !counters.failed.load(Ordering::Relaxed) {
                format!("gzip-compressed, but the compressed data is corrupt ({e})")
            } else {
                format!("cannot read: {e}")
            }));
        }
        let head = stream.available();
        let inside = if gzip { "gzip-compressed, but " } else { "" };
        let (container, format) = if pcap::LegacyFile::is_magic(head) {
            let Some(file) = pcap::LegacyFile::parse_header(head) else {
                return Err(fail(format!(
                    "{inside}the file ends inside the pcap file header ({} of {} bytes); it was cut short",
                    head.len(),
                    pcap::FILE_HEADER_LEN
                )));
            };
            stream.consume(pcap::FILE_HEADER_LEN);
            let format = if file.nanos {
                Format::PcapNanos
            } else {
                Format::Pcap
            };
            (Container::Pcap(file), format)
        } else if read_u32(head, 0, false) == Some(pcapng::SHB)
            && pcapng::has_byte_order_magic(head)
        {
            // The first section header is then read like any other block.
            (Container::Pcapng(pcapng::NgFile::default()), Format::Pcapng)
        } else if read_u32(head, 0, false) == Some(pcapng::SHB) && head.len() < 12 {
            return Err(fail(format!(
                "{inside}the file ends inside the pcapng section header ({} of 12 bytes); it was cut short",
                head.len()
            )));
        } else {
            return Err(fail(format!("{inside}{}; {WHAT_WE_READ}", describe(head))));
        };
        Ok(Input {
            name: name.to_string(),
            index,
            stream,
            container,
            format,
            gzip,
            file_size,
            counters,
            damage: Vec::new(),
            stats: CaptureStats::default(),
            last_number: 0,
            pending: 0,
            peeked: None,
            finished: false,
        })
    }

    /// The file as the user named it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Index of this input on the command line.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The next packet record, or `None` at the end of the file or at damage that stops
    /// reading (see [`Input::damage`]).
    #[inline]
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let record = match self.peeked.take() {
            Some(r) => r,
            None => self.advance()?,
        };
        self.pending = record.size;
        self.stats.frames += 1;
        self.stats.bytes += record.data_len as u64;
        if (record.data_len as u64) < u64::from(record.orig_len) {
            self.stats.snapped_frames += 1;
        }
        let end = record.data_start.saturating_add(record.data_len);
        let data = self
            .stream
            .available()
            .get(record.data_start..end)
            .unwrap_or(&[]);
        Some(Frame {
            seq: record.number,
            file: self.index,
            number: record.number,
            ts_ns: record.ts_ns,
            linktype: record.linktype,
            data,
            orig_len: record.orig_len,
        })
    }

    /// Timestamp of the next packet record without consuming it (for merging).
    pub fn peek_ts(&mut self) -> Option<i64> {
        if self.peeked.is_none() {
            self.peeked = self.advance();
        }
        self.peeked.map(|r| r.ts_ns)
    }

    /// Parses the next packet record, skipping other blocks; records damage and stops.
    #[inline]
    fn advance(&mut self) -> Option<Record> {
        if self.pending > 0 {
            self.stream.consume(self.pending);
            self.pending = 0;
        }
        loop {
            if self.finished {
                return None;
            }
            let delivered = self.last_number;
            let step = match &mut self.container {
                Container::Pcap(file) => file.next_record(&mut self.stream, delivered),
                Container::Pcapng(file) => file.next_block(&mut self.stream, delivered),
            };
            match step {
                Step::Packet(mut record) => {
                    self.last_number += 1;
                    record.number = self.last_number;
                    return Some(record);
                }
                Step::Block { size, skipped } => {
                    self.stream.consume(size);
                    if skipped {
                        self.stats.skipped_blocks += 1;
                    }
                }
                Step::End => self.finished = true,
                Step::Damaged(kind, detail) => self.stop(kind, detail),
                Step::ReadFailed(e) => {
                    // Under gzip, an error that did not come from the file is the decoder's.
                    if self.gzip && !self.counters.failed.load(Ordering::Relaxed) {
                        self.stop(
                            DamageKind::CorruptCompression,
                            format!("gzip stream is corrupt or cut short ({e})"),
                        );
                    } else {
                        self.stop(DamageKind::Io, format!("read error: {e}"));
                    }
                }
            }
        }
    }

    #[cold]
    fn stop(&mut self, kind: DamageKind, detail: String) {
        self.damage.push(Damage {
            file: self.index,
            frame: self.last_number + 1,
            offset: self.stream.offset(),
            kind,
            detail,
        });
        self.finished = true;
    }

    /// Bytes of the file read so far (compressed bytes for gzip), for progress.
    pub fn bytes_read(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    /// A handle that tells [`Input::bytes_read`] from another thread, for progress
    /// while the input is read on a thread of its own.
    pub fn bytes_read_handle(&self) -> BytesRead {
        BytesRead(Arc::clone(&self.counters))
    }

    /// Size of the file on disk, when known (not for standard input).
    pub fn file_size(&self) -> Option<u64> {
        self.file_size
    }

    /// Container format, once known.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the file was gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// Damage found so far.
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// Counts so far.
    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }
}

/// What the first bytes of a file that is not a capture look like, in a few words.
fn describe(head: &[u8]) -> String {
    let magic = |m: &[u8]| head.starts_with(m);
    if head.is_empty() {
        return "the file is empty".into();
    }
    if magic(b"PK\x03\x04") {
        return "this is a zip archive; extract the capture from it first".into();
    }
    if magic(b"\xfd7zXZ\x00") {
        return "this is xz-compressed; decompress it first (xz -d)".into();
    }
    if magic(b"\x28\xb5\x2f\xfd") {
        return "this is zstd-compressed; decompress it first (zstd -d)".into();
    }
    if magic(b"BZh") {
        return "this is bzip2-compressed; decompress it first (bzip2 -d)".into();
    }
    let sample = head.get(..64).unwrap_or(head);
    let text = sample
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    // A sample cut inside a multi-byte character is still text.
    let utf8 = std::str::from_utf8(sample).map_or_else(|e| e.error_len().is_none(), |_| true);
    if text && utf8 {
        let line = sample.split(|&b| b == b'\n').next().unwrap_or(sample);
        let shown: String = String::from_utf8_lossy(line)
            .chars()
            .take(40)
            .flat_map(char::escape_default)
            .collect();
        return format!("this is a text file, not a capture (it starts with \"{shown}\")");
    }
    match read_u32(head, 0, true) {
        Some(m) => format!("not a capture file (unknown magic number 0x{m:08x})"),
        None => format!("not a capture file (only {} bytes)", head.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::pcapng::build::NgBuilder;
    use super::write::PcapWriter;
    use super::*;
    use std::io::Write;

    const SEC: i64 = 1_000_000_000;
    const T0: i64 = 1_700_000_000 * SEC;

    fn input(bytes: Vec<u8>) -> Input {
        Input::from_reader("test", 0, Box::new(std::io::Cursor::new(bytes))).unwrap()
    }

    fn open_error(bytes: Vec<u8>) -> String {
        match Input::from_reader("test", 0, Box::new(std::io::Cursor::new(bytes))) {
            Ok(_) => panic!("opened"),
            Err(e) => e.message,
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// (number, ts, linktype, data, orig_len) of every frame.
    fn frames(input: &mut Input) -> Vec<(u64, i64, u32, Vec<u8>, u32)> {
        let mut out = Vec::new();
        while let Some(f) = input.next_frame() {
            out.push((f.number, f.ts_ns, f.linktype, f.data.to_vec(), f.orig_len));
        }
        out
    }

    fn legacy(nanos: bool, big_endian: bool) -> Vec<u8> {
        let mut w = PcapWriter::with_format(Vec::new(), 1, nanos, big_endian).unwrap();
        w.write_packet(T0 + 123_456_789, b"first").unwrap();
        w.write_record(T0 + SEC, b"snapped", 1500).unwrap();
        w.write_packet(T0 + 2 * SEC, b"").unwrap();
        w.into_inner()
    }

    #[test]
    fn legacy_pcap_in_both_resolutions_and_byte_orders_plain_or_gzip() {
        for nanos in [false, true] {
            for be in [false, true] {
                for gz in [false, true] {
                    let bytes = legacy(nanos, be);
                    let mut input = input(if gz { gzip(&bytes) } else { bytes });
                    let expected_first_ts = if nanos {
                        T0 + 123_456_789
                    } else {
                        T0 + 123_456_000
                    };
                    assert_eq!(input.gzip(), gz);
                    let want_format = if nanos {
                        Format::PcapNanos
                    } else {
                        Format::Pcap
                    };
                    assert_eq!(input.format(), want_format);
                    assert_eq!(
                        frames(&mut input),
                        vec![
                            (1, expected_first_ts, 1, b"first".to_vec(), 5),
                            (2, T0 + SEC, 1, b"snapped".to_vec(), 1500),
                            (3, T0 + 2 * SEC, 1, vec![], 0),
                        ],
                        "nanos {nanos} be {be} gzip {gz}"
                    );
                    assert!(input.damage().is_empty());
                    let s = input.stats();
                    assert_eq!((s.frames, s.bytes, s.snapped_frames), (3, 12, 1));
                }
            }
        }
    }

    /// Two sections (the second big-endian), interfaces with their own link types and
    /// timestamp resolutions, every packet block kind and blocks to skip.
    fn two_sections() -> Vec<u8> {
        let mut b = NgBuilder::new();
        b.section(false)
            .interface(1, 0, None, None) // Ethernet, microseconds (default)
            .interface(113, 0, Some(9), Some(10)) // Linux SLL, nanoseconds, +10 s
            .epb(0, 1_700_000_000_000_001, b"eth", 3)
            .block(pcap_parser::NRB_MAGIC, &[0; 4]) // name resolution: skipped
            .epb(1, 1_700_000_000_000_000_005, b"sll!!", 60)
            .spb(b"simple", 6)
            .section(true)
            .interface(101, 4, Some(0x80 | 10), None) // raw IP, 2^-10 s, snaplen 4
            .epb(0, 1024 * 1_700_000_001, b"raw", 3)
            .spb(b"cut-by-snaplen", 14)
            .opb(0, 1024 * 1_700_000_002 + 512, b"old")
            .block(pcap_parser::ISB_MAGIC, &[0; 8]); // statistics: skipped
        b.out
    }

    #[test]
    fn pcapng_sections_interfaces_and_packet_blocks() {
        for gz in [false, true] {
            let bytes = two_sections();
            let mut input = input(if gz { gzip(&bytes) } else { bytes });
            assert_eq!(input.format(), Format::Pcapng);
            let got = frames(&mut input);
            let eth_ts = T0 + 1_000;
            assert_eq!(
                got,
                vec![
                    (1, eth_ts, 1, b"eth".to_vec(), 3),
                    (2, T0 + 10 * SEC + 5, 113, b"sll!!".to_vec(), 60),
                    // SPB: previous timestamp, interface 0 of the section
                    (3, T0 + 10 * SEC + 5, 1, b"simple".to_vec(), 6),
                    (4, T0 + SEC, 101, b"raw".to_vec(), 3),
                    (5, T0 + SEC, 101, b"cut-".to_vec(), 14),
                    (6, T0 + 2 * SEC + SEC / 2, 101, b"old".to_vec(), 3),
                ]
            );
            assert!(input.damage().is_empty(), "{:?}", input.damage());
            let s = input.stats();
            assert_eq!((s.frames, s.snapped_frames, s.skipped_blocks), (6, 2, 2));
        }
    }

    #[test]
    fn a_pipe_that_delivers_one_byte_at_a_time_reads_the_same() {
        struct OneByte(std::io::Cursor<Vec<u8>>);
        impl Read for OneByte {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(1);
                self.0.read(&mut buf[..n])
            }
        }
        for bytes in [two_sections(), gzip(&two_sections()), legacy(true, true)] {
            let mut whole = input(bytes.clone());
            let want = frames(&mut whole);
            let pipe = OneByte(std::io::Cursor::new(bytes));
            let mut piped = Input::from_reader("-", 0, Box::new(pipe)).unwrap();
            assert_eq!(frames(&mut piped), want);
            assert!(piped.damage().is_empty());
        }
    }

    #[test]
    fn bytes_read_counts_the_file_not_the_content() {
        let bytes = two_sections();
        let compressed = gzip(&bytes);
        let mut input = input(compressed.clone());
        while input.next_frame().is_some() {}
        assert_eq!(input.bytes_read(), compressed.len() as u64);
        assert_eq!(input.file_size(), None);
    }

    #[test]
    fn peek_then_next_gives_the_same_frame() {
        let mut input = input(legacy(true, false));
        assert_eq!(input.peek_ts(), Some(T0 + 123_456_789));
        assert_eq!(input.peek_ts(), Some(T0 + 123_456_789));
        assert_eq!(input.next_frame().unwrap().data, b"first");
        assert_eq!(input.next_frame().unwrap().number, 2);
        assert_eq!(input.peek_ts(), Some(T0 + 2 * SEC));
        assert_eq!(input.next_frame().unwrap().number, 3);
        assert_eq!(input.peek_ts(), None);
        assert!(input.next_frame().is_none());
    }

    #[test]
    fn a_record_cut_short_is_reported_with_its_frame_and_offset() {
        let bytes = legacy(false, false);
        // header 24, record 1 = 16 + 5, record 2 starts at 45
        let cut = bytes[..45 + 20].to_vec();
        let mut input = input(cut);
        assert_eq!(frames(&mut input).len(), 1);
        let d = &input.damage()[0];
        assert_eq!(
            (d.kind, d.frame, d.offset),
            (DamageKind::TruncatedRecord, 2, 45)
        );
        // A cut inside the record header is the same damage.
        let mut input = self::input(bytes[..45 + 3].to_vec());
        assert_eq!(frames(&mut input).len(), 1);
        assert_eq!(input.damage()[0].kind, DamageKind::TruncatedRecord);
    }

    #[test]
    fn garbage_after_the_records_is_reported_after_delivering_them() {
        let mut bytes = legacy(false, false);
        let end = bytes.len() as u64;
        bytes.extend_from_slice(b"some text that is not a pcap record at all\n");
        let mut input = input(bytes);
        assert_eq!(frames(&mut input).len(), 3);
        let d = &input.damage()[0];
        assert_eq!(
            (d.kind, d.frame, d.offset),
            (DamageKind::GarbageAfterRecords, 4, end)
        );

        let mut bytes = two_sections();
        let end = bytes.len() as u64;
        bytes.extend_from_slice(b"some text that is not a pcapng block\n");
        let mut input = self::input(bytes);
        assert_eq!(frames(&mut input).len(), 6);
        let d = &input.damage()[0];
        assert_eq!(
            (d.kind, d.frame, d.offset),
            (DamageKind::GarbageAfterRecords, 7, end)
        );
    }

    #[test]
    fn broken_pcapng_blocks_are_corrupt() {
        // A packet on an interface the section never described.
        let mut b = NgBuilder::new();
        b.section(false)
            .interface(1, 0, None, None)
            .epb(0, 1, b"ok", 2)
            .epb(3, 2, b"x", 1);
        let mut input = input(b.out);
        assert_eq!(frames(&mut input).len(), 1);
        assert_eq!(input.damage()[0].kind, DamageKind::CorruptBlock);
        assert_eq!(input.damage()[0].frame, 2);

        // Trailing length that does not match.
        let mut b = NgBuilder::new();
        b.section(false)
            .interface(1, 0, None, None)
            .epb(0, 1, b"ok", 2);
        let n = b.out.len();
        b.out[n - 1] = 0x7f;
        let mut input = self::input(b.out);
        assert_eq!(frames(&mut input).len(), 0);
        assert_eq!(input.damage()[0].kind, DamageKind::CorruptBlock);
    }

    #[test]
    fn the_mixed_endian_header_file_shape_is_damage_not_a_panic() {
        // Big-endian file header, little-endian record: the length reads as absurd.
        let mut bytes = PcapWriter::with_format(Vec::new(), 0, false, true)
            .unwrap()
            .into_inner();
        let mut rec = PcapWriter::with_format(Vec::new(), 0, false, false).unwrap();
        rec.write_packet(T0, &[0x45; 547]).unwrap();
        bytes.extend_from_slice(&rec.into_inner()[24..]);
        let mut input = input(bytes);
        assert!(input.next_frame().is_none());
        let d = &input.damage()[0];
        assert_eq!(
            (d.kind, d.frame, d.offset),
            (DamageKind::CorruptBlock, 1, 24)
        );
    }

    #[test]
    fn corrupt_or_cut_gzip_is_compression_damage() {
        let mut many = PcapWriter::new(Vec::new(), 1).unwrap();
        for i in 0..2000 {
            many.write_packet(T0 + i, &[i as u8; 200]).unwrap();
        }
        let compressed = gzip(&many.into_inner());
        // Cut in the middle.
        let mut input = input(compressed[..compressed.len() / 2].to_vec());
        let n = frames(&mut input).len();
        assert!(n > 0 && n < 2000);
        let d = &input.damage()[0];
        assert_eq!(d.kind, DamageKind::CorruptCompression, "{d:?}");
        assert_eq!(d.frame, n as u64 + 1);
        // Bytes flipped in the middle.
        let mut flipped = compressed.clone();
        let mid = flipped.len() / 2;
        for b in &mut flipped[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let mut input = self::input(flipped);
        let _ = frames(&mut input);
        assert!(!input.damage().is_empty());
    }

    #[test]
    fn read_errors_keep_the_os_message() {
        struct Failing(std::io::Cursor<Vec<u8>>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.read(buf)? {
                    0 => Err(std::io::Error::other("disk on fire")),
                    n => Ok(n),
                }
            }
        }
        for gz in [false, true] {
            let bytes = legacy(false, false);
            let bytes = if gz { gzip(&bytes) } else { bytes };
            let cut = bytes[..bytes.len() - 3].to_vec();
            let mut input =
                Input::from_reader("f", 0, Box::new(Failing(std::io::Cursor::new(cut)))).unwrap();
            let _ = frames(&mut input);
            let d = &input.damage()[0];
            assert_eq!(d.kind, DamageKind::Io, "gzip {gz}");
            assert!(d.detail.contains("disk on fire"), "{}", d.detail);
        }
    }

    #[test]
    fn a_record_larger_than_the_window_is_read_whole() {
        let big = vec![0xabu8; 3 * 1024 * 1024 + 7];
        let mut b = NgBuilder::new();
        b.section(false)
            .interface(1, 0, None, None)
            .epb(0, 1, &big, big.len() as u32);
        b.epb(0, 2, b"after", 5);
        let mut input = input(b.out);
        assert_eq!(input.next_frame().unwrap().data.len(), big.len());
        assert_eq!(input.next_frame().unwrap().data, b"after");
    }

    #[test]
    fn files_that_are_not_captures_say_what_they_look_like() {
        let m = open_error(vec![]);
        assert!(m.contains("empty") && m.contains(WHAT_WE_READ), "{m}");
        let m = open_error(b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n".to_vec());
        assert!(
            m.contains("text file") && m.contains("INVITE sip:bob"),
            "{m}"
        );
        let m = open_error(vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]);
        assert!(m.contains("0xdeadbeef"), "{m}");
        let m = open_error(b"PK\x03\x04rest".to_vec());
        assert!(m.contains("zip"), "{m}");
        let m = open_error(gzip(b"hello world\n"));
        assert!(
            m.starts_with("gzip-compressed, but") && m.contains("text"),
            "{m}"
        );
        let m = open_error(legacy(false, false)[..10].to_vec());
        assert!(m.contains("cut short"), "{m}");
        let m = open_error(b"\n\r\r\nnot a section header\n".to_vec());
        assert!(m.contains("text file"), "{m}");
        let m = open_error(b"\n\r\r\n\x1c\x00\x00".to_vec());
        assert!(m.contains("cut short"), "{m}");
        let m = open_error(vec![0x1f, 0x8b, 8, 0, 0]);
        assert!(m.contains("gzip"), "{m}");
        let e = match Input::open("/nonexistent/file.pcap", 0) {
            Err(e) => e,
            Ok(_) => panic!("opened"),
        };
        assert!(e.to_string().contains("No such file"), "{e}");
    }

    #[test]
    fn inputs_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<Input>();
        send::<Merge>();
    }

    #[test]
    fn open_reports_file_size() {
        let dir = std::env::temp_dir().join(format!("sipxfer-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.pcap");
        std::fs::write(&path, legacy(true, true)).unwrap();
        let mut input = Input::open(path.to_str().unwrap(), 4).unwrap();
        assert_eq!(input.file_size(), Some(legacy(true, true).len() as u64));
        assert_eq!(input.next_frame().unwrap().file, 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn merge_interleaves_by_time_and_keeps_file_numbers() {
        let write = |times: &[i64]| {
            let mut w = PcapWriter::new(Vec::new(), 1).unwrap();
            for &t in times {
                w.write_packet(t, &t.to_le_bytes()).unwrap();
            }
            w.into_inner()
        };
        let a = write(&[1, 3, 3, 7]);
        let b = write(&[2, 3, 8]);
        let mut merge = Merge::new(vec![
            Input::from_reader("a", 0, Box::new(std::io::Cursor::new(a))).unwrap(),
            Input::from_reader("b", 1, Box::new(std::io::Cursor::new(b))).unwrap(),
        ]);
        let mut got = Vec::new();
        while let Some(f) = merge.next_frame() {
            assert_eq!(f.data, f.ts_ns.to_le_bytes());
            got.push((f.ts_ns, f.file, f.number));
        }
        assert_eq!(
            got,
            vec![
                (1, 0, 1),
                (2, 1, 1),
                (3, 0, 2),
                (3, 0, 3),
                (3, 1, 2),
                (7, 0, 4),
                (8, 1, 3)
            ]
        );
        assert_eq!(merge.inputs()[1].stats().frames, 3);
    }
}
