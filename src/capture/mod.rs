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
//!   keep the order of the files on the command line.

use std::fmt;
use std::io::Read;

/// One packet record of a capture, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameRef {
    pub file: u32,
    pub number: u64,
    pub ts_ns: i64,
}

impl Frame<'_> {
    pub fn reference(&self) -> FrameRef {
        FrameRef {
            file: self.file,
            number: self.number,
            ts_ns: self.ts_ns,
        }
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

/// One opened input file, read as a stream.
pub struct Input {
    name: String,
    index: u32,
    // Filled in by the implementation.
}

impl Input {
    /// Opens `path` (or standard input for `-`), detecting gzip and the capture format
    /// from the first bytes.
    pub fn open(path: &str, index: u32) -> Result<Input, OpenError> {
        let _ = (path, index);
        Err(OpenError {
            file: path.to_string(),
            message: "not implemented".into(),
        })
    }

    /// Reads a capture from any reader; `name` is what errors and reports call it.
    pub fn from_reader(
        name: &str,
        index: u32,
        reader: Box<dyn Read + Send>,
    ) -> Result<Input, OpenError> {
        let _ = reader;
        Err(OpenError {
            file: name.to_string(),
            message: format!("input {index} not implemented"),
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
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        None
    }

    /// Timestamp of the next packet record without consuming it (for merging).
    pub fn peek_ts(&mut self) -> Option<i64> {
        None
    }

    /// Bytes of the file read so far (compressed bytes for gzip), for progress.
    pub fn bytes_read(&self) -> u64 {
        0
    }

    /// Size of the file on disk, when known (not for standard input).
    pub fn file_size(&self) -> Option<u64> {
        None
    }

    /// Container format, once known.
    pub fn format(&self) -> Format {
        Format::Pcap
    }

    /// Whether the file was gzip-compressed.
    pub fn gzip(&self) -> bool {
        false
    }

    /// Damage found so far.
    pub fn damage(&self) -> &[Damage] {
        &[]
    }

    /// Counts so far.
    pub fn stats(&self) -> &CaptureStats {
        unimplemented_stats()
    }
}

fn unimplemented_stats() -> &'static CaptureStats {
    static EMPTY: CaptureStats = CaptureStats {
        frames: 0,
        bytes: 0,
        snapped_frames: 0,
        skipped_blocks: 0,
    };
    &EMPTY
}

/// Several inputs merged into one stream of frames ordered by timestamp.
pub struct Merge {
    inputs: Vec<Input>,
}

impl Merge {
    pub fn new(inputs: Vec<Input>) -> Merge {
        Merge { inputs }
    }

    /// The next frame of whichever input has the earliest timestamp.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        self.inputs.first_mut().and_then(|i| i.next_frame())
    }

    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    pub fn into_inputs(self) -> Vec<Input> {
        self.inputs
    }
}
