//! The JSON document of `analyze`, written with its call list and its transfers set
//! aside as they finish instead of kept to the end.
//!
//! A busy capture holds hundreds of thousands of calls and tens of thousands of
//! transfers, and the document lists each: kept as [`Dialog`]s and
//! [`Transfer`]s until the end they cost about 3 KB a call and 5 KB a transfer.
//! [`CallSpool`] is an [`Observer`] that takes each call as soon as no transfer can need
//! it, and each transfer as soon as it can no longer change, turns it into its JSON on
//! a thread of its own (the analysis goes on meanwhile) and appends it to an unnamed
//! temporary file; [`write_document`] then writes the document with the calls and the
//! transfers (and the transfers' findings) read back in order.
//!
//! Guarantees:
//! - The document is byte for byte what `serde_json::to_writer_pretty` makes of
//!   [`AnalyzeJson`] (a test holds it), spooled or not.
//! - Memory for the call list is at most one run of its index (64 Ki entries, about
//!   2.5 MB; the rest is sorted into the temporary file and merged at the end); for
//!   the transfers, 24 bytes a transfer and a finding. When no temporary file can be
//!   made, the JSON is kept in memory instead: nothing is lost.
//! - A write error on the temporary file is returned by [`CallSpool::finish`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::Serialize;

use super::Clock;
use super::Palette;
use super::calls::{CallRow, CallsJson, DialogJson, Widths};
use super::transfer::{AnalyzeJson, FindingJson, TransferJson};
use crate::analysis::Observer;
use crate::transfer::{Listed, Transfer};

/// Calls in flight between the analysis and the spool thread: enough to ride out a
/// burst of calls ending together, bounded so a slow disk holds the analysis back
/// rather than fill memory.
const IN_FLIGHT: usize = 4096;

/// Takes the finished calls and transfers of an analysis and writes their JSON aside.
pub struct CallSpool {
    calls: Option<SyncSender<Piece>>,
    worker: Option<JoinHandle<io::Result<Spooled>>>,
    /// Whether transfers are taken too (`analyze`), or left to the analysis (`calls`).
    transfers: bool,
}

/// How each call is written aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Its JSON, as an element of a top-level array of a pretty-printed document.
    Element,
    /// Its JSON on one line (JSON Lines).
    Line,
    /// Its row of the call table ([`CallRow`]), frames named for `inputs` input
    /// files, Call-IDs whole when `wide`; the table's column widths are measured
    /// as the rows come.
    Row { inputs: usize, wide: bool },
}

/// What the analysis hands the spool thread, with time zero of relative times.
// Calls are most of the pieces: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
enum Piece {
    Call(i64, Listed),
    Transfer(i64, Box<Transfer>),
}

/// The calls' and transfers' JSON, written aside, and where each one is.
pub struct Spooled {
    store: Store,
    /// Each call's place in the list and where its JSON (or row) is.
    index: CallIndex,
    /// Each transfer's id, and where its JSON is.
    transfers: Vec<(usize, u64, u32)>,
    /// Each transfer finding's transfer id and place among that transfer's findings,
    /// and where its JSON is.
    findings: Vec<((usize, usize), u64, u32)>,
    /// The call table's column widths, when the calls were spooled as rows.
    widths: Option<Widths>,
    /// Whether the transfers were taken too (then the document's are empty).
    took_transfers: bool,
}

/// Where the calls' JSON is: a temporary file, or memory when none could be made;
/// and how many bytes were appended, so each append says where it went.
struct Store {
    medium: Medium,
    end: u64,
}

enum Medium {
    File(BufWriter<File>),
    Memory(Vec<u8>),
}

impl Default for CallSpool {
    fn default() -> Self {
        CallSpool::new()
    }
}

impl CallSpool {
    /// Starts the spool thread for `analyze`'s document: calls and transfers.
    pub fn new() -> CallSpool {
        CallSpool::start(Style::Element, true)
    }

    /// Starts the spool thread for the call list alone (`calls`), each call written
    /// in `style`.
    pub fn calls_only(style: Style) -> CallSpool {
        CallSpool::start(style, false)
    }

    fn start(style: Style, transfers: bool) -> CallSpool {
        let (calls, received) = sync_channel(IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("sipxfer-calls".into())
            .spawn(move || spool(received, style, transfers));
        match worker {
            Ok(worker) => CallSpool {
                calls: Some(calls),
                worker: Some(worker),
                transfers,
            },
            // No thread: the calls stay with the analysis (takes_calls says no).
            Err(_) => CallSpool {
                calls: None,
                worker: None,
                transfers,
            },
        }
    }

    /// Waits for every call to be written; `None` when the calls were not taken (no
    /// thread could be started) and are in [`crate::analysis::Analysis::dialogs`].
    pub fn finish(mut self) -> io::Result<Option<Spooled>> {
        self.calls = None;
        match self.worker.take() {
            Some(worker) => match worker.join() {
                Ok(spooled) => spooled.map(Some),
                Err(_) => Err(io::Error::other("the thread writing the call list failed")),
            },
            None => Ok(None),
        }
    }
}

impl Drop for CallSpool {
    fn drop(&mut self) {
        // Hang up, then wait: the thread ends once the channel is drained.
        self.calls = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Observer for CallSpool {
    // Calls are listed (in the spool), whether or not transfers are streamed to it.
    fn lists_calls(&self) -> bool {
        true
    }
    fn takes_calls(&self) -> bool {
        self.calls.is_some()
    }
    fn call(&mut self, zero_ns: i64, listed: Listed) {
        // A send fails only when the thread stopped on a write error, which
        // `finish` reports.
        if let Some(calls) = &self.calls {
            let _ = calls.send(Piece::Call(zero_ns, listed));
        }
    }
    fn streams_transfers(&self) -> bool {
        self.transfers && self.calls.is_some()
    }
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        // A copy is cheaper than its JSON, which the spool thread writes.
        if let Some(calls) = &self.calls {
            let _ = calls.send(Piece::Transfer(zero_ns, Box::new(transfer.clone())));
        }
    }
}

/// Appends `value`'s JSON, as an element of a top-level array of the document (two
/// levels deep) or on one line, to `store`; returns where and its length.
fn append_element(
    store: &mut Store,
    json: &mut Vec<u8>,
    value: &impl Serialize,
    style: Style,
) -> io::Result<(u64, u32)> {
    json.clear();
    match style {
        Style::Element => serde_json::to_writer_pretty(Indented::new(&mut *json, ELEMENT), value),
        // Rows are not JSON: they never come here.
        Style::Line | Style::Row { .. } => serde_json::to_writer(&mut *json, value),
    }
    .map_err(io::Error::other)?;
    store.append(json)
}

/// The spool thread: each call's and transfer's JSON, as it will stand in the
/// document, appended.
fn spool(received: Receiver<Piece>, style: Style, took_transfers: bool) -> io::Result<Spooled> {
    let mut spooled = Spooled {
        store: Store::temporary(),
        index: CallIndex::new(RUN),
        transfers: Vec::new(),
        findings: Vec::new(),
        widths: None,
        took_transfers,
    };
    let store = &mut spooled.store;
    let mut json = Vec::new();
    for piece in received {
        match piece {
            Piece::Call(zero_ns, listed) => {
                let clock = Clock::from_zero(zero_ns);
                let (at, len) = match style {
                    Style::Row { inputs, wide } => {
                        let row = CallRow::of(&listed.dialog, clock, inputs, wide);
                        spooled.widths.get_or_insert_default().add(&row);
                        json.clear();
                        row.encode(&mut json);
                        store.append(&json)?
                    }
                    Style::Element | Style::Line => {
                        let call = DialogJson::at(clock, &listed.dialog);
                        append_element(store, &mut json, &call, style)?
                    }
                };
                spooled.index.push((listed.place.key(), at, len), store)?;
            }
            Piece::Transfer(zero_ns, t) => {
                let value = TransferJson::at(zero_ns, &t);
                let (at, len) = append_element(store, &mut json, &value, style)?;
                spooled.transfers.push((t.id, at, len));
                for (i, f) in t.findings.iter().enumerate() {
                    let value = FindingJson::new(f);
                    let (at, len) = append_element(store, &mut json, &value, style)?;
                    spooled.findings.push(((t.id, i), at, len));
                }
            }
        }
    }
    Ok(spooled)
}

impl Store {
    /// An unnamed temporary file (created, then unlinked while open), or memory.
    fn temporary() -> Store {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("sipxfer-{}-{n}.calls.json", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path);
        match file {
            Ok(file) => {
                // Unix keeps the open file; elsewhere it is removed when dropped.
                let _ = std::fs::remove_file(&path);
                Store::on(Medium::File(BufWriter::with_capacity(1 << 16, file)))
            }
            Err(_) => Store::on(Medium::Memory(Vec::new())),
        }
    }

    fn on(medium: Medium) -> Store {
        Store { medium, end: 0 }
    }

    /// Appends `bytes`; returns where they are and their length.
    fn append(&mut self, bytes: &[u8]) -> io::Result<(u64, u32)> {
        let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
        match &mut self.medium {
            Medium::File(file) => file.write_all(bytes)?,
            Medium::Memory(memory) => memory.extend_from_slice(bytes),
        }
        let at = self.end;
        self.end += u64::from(len);
        Ok((at, len))
    }

    /// The `len` bytes appended at `offset` (read into `buf` from a file). Reading
    /// is mostly sequential: calls finish roughly in list order, transfers roughly in
    /// REFER order.
    fn read<'b>(&'b mut self, offset: u64, len: u32, buf: &'b mut Vec<u8>) -> io::Result<&'b [u8]> {
        match &mut self.medium {
            Medium::File(file) => {
                // Whatever is still buffered goes to the file first; then the buffer
                // is empty and seeking it seeks the file.
                file.flush()?;
                let file = file.get_mut();
                if file.stream_position()? != offset {
                    file.seek(SeekFrom::Start(offset))?;
                }
                buf.resize(len as usize, 0);
                file.read_exact(buf)?;
                Ok(buf)
            }
            Medium::Memory(memory) => usize::try_from(offset)
                .ok()
                .and_then(|start| memory.get(start..start.checked_add(len as usize)?))
                .ok_or_else(|| io::Error::other("spool index out of step")),
        }
    }
}

impl Spooled {
    /// Writes the calls as the document's `dialogs` array, in list order.
    fn write_calls(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut array = Array::open(out);
        let mut calls = self.index.sorted(&mut self.store)?;
        while let Some((offset, len)) = calls.next(&mut self.store)? {
            array.spooled(&mut self.store, offset, len)?;
        }
        array.close()
    }

    /// Writes the transfers as the document's `transfers` array, in REFER order.
    fn write_transfers(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut array = Array::open(out);
        for (offset, len) in in_order(std::mem::take(&mut self.transfers)) {
            array.spooled(&mut self.store, offset, len)?;
        }
        array.close()
    }

    /// Writes the document's `findings` array: the transfers' findings (transfer by
    /// transfer, in REFER order), then `capture`'s.
    fn write_findings(&mut self, out: &mut dyn Write, capture: &[FindingJson]) -> io::Result<()> {
        let mut array = Array::open(out);
        for (offset, len) in in_order(std::mem::take(&mut self.findings)) {
            array.spooled(&mut self.store, offset, len)?;
        }
        for f in capture {
            array.value(f)?;
        }
        array.close()
    }

    /// Writes the calls one per line (JSON Lines), in list order.
    pub fn write_lines(mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut calls = self.index.sorted(&mut self.store)?;
        while let Some((offset, len)) = calls.next(&mut self.store)? {
            out.write_all(self.store.read(offset, len, &mut buf)?)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes the call table (calls spooled as [`Style::Row`]), in list order.
    pub fn write_table(mut self, out: &mut dyn Write, palette: Palette) -> io::Result<()> {
        let widths = self.widths.take().unwrap_or_default().finish();
        let mut buf = Vec::new();
        let store = &mut self.store;
        let mut calls = self.index.sorted(store)?;
        let rows = std::iter::from_fn(|| {
            let (offset, len) = match calls.next(store) {
                Ok(next) => next?,
                Err(e) => return Some(Err(e)),
            };
            let row = store.read(offset, len, &mut buf).and_then(|bytes| {
                CallRow::decode(bytes)
                    .ok_or_else(|| io::Error::other("spooled call row unreadable"))
            });
            Some(row)
        });
        super::calls::write_table(out, rows, &widths, palette)
    }
}

/// Index entries kept in memory at most, per run: 64 Ki entries, 2.5 MB.
const RUN: usize = 1 << 16;

/// Bytes of one index entry in a run: the place (three u64), the offset (u64) and
/// the length (u32), little-endian.
const ENTRY: usize = 36;

/// Entries read from a run at a time when the runs are merged.
const MERGE_BLOCK: usize = 1024;

/// A call's place in the list ([`crate::transfer::Place::key`]), and where its piece is
/// in the store.
type Entry = (Key, u64, u32);

/// A call's place in the list, as [`crate::transfer::Place::key`] gives it.
type Key = (u64, u64, u64);

/// Where each call is, by its place in the list: an external sort, so that memory
/// does not grow with the calls (2 million calls: 80 MB as one vector). Entries are
/// kept until a run is full, which is then sorted and appended to the store; the
/// list is written from a merge of the runs and what is left in memory.
struct CallIndex {
    run: usize,
    current: Vec<Entry>,
    /// The runs in the store: offset and entry count.
    runs: Vec<(u64, usize)>,
}

impl CallIndex {
    fn new(run: usize) -> CallIndex {
        CallIndex {
            run: run.max(1),
            current: Vec::new(),
            runs: Vec::new(),
        }
    }

    fn push(&mut self, entry: Entry, store: &mut Store) -> io::Result<()> {
        self.current.push(entry);
        if self.current.len() >= self.run {
            self.current.sort_unstable_by_key(|e| e.0);
            let mut bytes = Vec::with_capacity(self.current.len() * ENTRY);
            for &((a, b, c), at, len) in &self.current {
                for n in [a, b, c, at] {
                    bytes.extend_from_slice(&n.to_le_bytes());
                }
                bytes.extend_from_slice(&len.to_le_bytes());
            }
            let (at, _) = store.append(&bytes)?;
            self.runs.push((at, self.current.len()));
            self.current.clear();
        }
        Ok(())
    }

    /// The entries in list order, each run's first block read from `store` (taken:
    /// the index is empty afterwards).
    fn sorted(&mut self, store: &mut Store) -> io::Result<Merge> {
        let mut current = std::mem::take(&mut self.current);
        current.sort_unstable_by_key(|e| e.0);
        let mut sources: Vec<Source> = std::mem::take(&mut self.runs)
            .into_iter()
            .map(|(offset, left)| Source {
                next: offset,
                left,
                block: std::collections::VecDeque::new(),
            })
            .collect();
        sources.push(Source {
            next: 0,
            left: 0,
            block: current.into(),
        });
        let mut merge = Merge {
            heap: BinaryHeap::new(),
            sources,
            buf: Vec::new(),
        };
        for i in 0..merge.sources.len() {
            merge.refill(i, store)?;
        }
        Ok(merge)
    }
}

/// One sorted run being merged: the entries read from it and not yet taken, and
/// where the rest are.
struct Source {
    next: u64,
    left: usize,
    block: std::collections::VecDeque<Entry>,
}

/// The merge of [`CallIndex`]'s runs: the smallest head first.
struct Merge {
    /// Each source's head key, with the source.
    heap: BinaryHeap<Reverse<(Key, usize)>>,
    sources: Vec<Source>,
    buf: Vec<u8>,
}

impl Merge {
    /// Where the next call in list order is.
    fn next(&mut self, store: &mut Store) -> io::Result<Option<(u64, u32)>> {
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let Some(entry) = self.sources.get_mut(i).and_then(|s| s.block.pop_front()) else {
            return Err(io::Error::other("spool index out of step"));
        };
        self.refill(i, store)?;
        Ok(Some((entry.1, entry.2)))
    }

    /// Reads the next block of source `i` when it has none in memory, and puts its
    /// head on the heap.
    fn refill(&mut self, i: usize, store: &mut Store) -> io::Result<()> {
        let Some(source) = self.sources.get_mut(i) else {
            return Ok(());
        };
        if source.block.is_empty() && source.left > 0 {
            source.read_block(store, &mut self.buf)?;
        }
        if let Some(head) = source.block.front() {
            self.heap.push(Reverse((head.0, i)));
        }
        Ok(())
    }
}

impl Source {
    /// Reads up to [`MERGE_BLOCK`] more entries of the run.
    fn read_block(&mut self, store: &mut Store, buf: &mut Vec<u8>) -> io::Result<()> {
        let n = self.left.min(MERGE_BLOCK);
        let len = u32::try_from(n * ENTRY).map_err(io::Error::other)?;
        let bytes = store.read(self.next, len, buf)?;
        for e in bytes.chunks_exact(ENTRY) {
            let word = |k: usize| {
                e.get(k * 8..k * 8 + 8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
                    .unwrap_or_default()
            };
            let len = e
                .get(32..36)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .unwrap_or_default();
            self.block
                .push_back(((word(0), word(1), word(2)), word(3), len));
        }
        self.next += u64::from(len);
        self.left -= n;
        Ok(())
    }
}

/// Where each spooled piece is, in the order of its key (list place, transfer id, ...).
fn in_order<K: Ord>(mut index: Vec<(K, u64, u32)>) -> impl Iterator<Item = (u64, u32)> {
    index.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    index.into_iter().map(|(_, offset, len)| (offset, len))
}

/// The fields every document starts with, the call list last: from `calls` when they
/// were spooled (then `dialogs` is empty).
fn write_head(
    fields: &mut Fields<'_>,
    (schema_version, inputs, stats): (
        u32,
        &[crate::analysis::InputSummary],
        &crate::analysis::Stats,
    ),
    dialogs: &[DialogJson<'_>],
    calls: Option<&mut Spooled>,
) -> io::Result<()> {
    fields.value("schema_version", &schema_version)?;
    fields.value("inputs", &inputs)?;
    fields.value("stats", &stats)?;
    match calls {
        Some(spooled) => {
            fields.key("dialogs")?;
            spooled.write_calls(fields.out)
        }
        None => fields.value("dialogs", &dialogs),
    }
}

/// Writes the document of `calls`, the call list from `calls` when they were spooled
/// (then `doc.dialogs` is empty), followed by a newline.
pub fn write_calls_document(
    out: &mut dyn Write,
    doc: &CallsJson<'_>,
    mut calls: Option<Spooled>,
) -> io::Result<()> {
    let mut fields = Fields { out, first: true };
    let head = (doc.schema_version, doc.inputs, doc.stats);
    write_head(&mut fields, head, &doc.dialogs, calls.as_mut())?;
    fields.out.write_all(b"\n}\n")
}

/// A top-level array of the document being written, as serde_json's pretty printer
/// writes one.
struct Array<'w> {
    out: &'w mut dyn Write,
    empty: bool,
    buf: Vec<u8>,
}

impl<'w> Array<'w> {
    fn open(out: &'w mut dyn Write) -> Array<'w> {
        Array {
            out,
            empty: true,
            buf: Vec::new(),
        }
    }

    /// An element as the spool wrote it.
    fn spooled(&mut self, store: &mut Store, offset: u64, len: u32) -> io::Result<()> {
        let json = store.read(offset, len, &mut self.buf)?;
        if self.empty {
            self.out.write_all(b"[")?;
        }
        write_element(self.out, self.empty, json)?;
        self.empty = false;
        Ok(())
    }

    fn value(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer_pretty(Indented::new(&mut self.buf, ELEMENT), value)
            .map_err(io::Error::other)?;
        if self.empty {
            self.out.write_all(b"[")?;
        }
        write_element(self.out, self.empty, &self.buf)?;
        self.empty = false;
        Ok(())
    }

    fn close(self) -> io::Result<()> {
        self.out
            .write_all(if self.empty { b"[]" } else { b"\n  ]" })
    }
}

/// Indentation of a top-level field's value, and of an element of a top-level array.
const FIELD: &[u8] = b"  ";
const ELEMENT: &[u8] = b"    ";

/// One element of a top-level array, as serde_json's pretty printer writes it.
fn write_element(out: &mut dyn Write, first: bool, json: &[u8]) -> io::Result<()> {
    out.write_all(if first { b"\n" } else { b",\n" })?;
    out.write_all(ELEMENT)?;
    out.write_all(json)
}

/// Writes the document of `analyze`, the call list from `calls` when they were
/// spooled (then `doc.dialogs` is empty), followed by a newline.
pub fn write_document(
    out: &mut dyn Write,
    doc: &AnalyzeJson<'_>,
    calls: Option<Spooled>,
) -> io::Result<()> {
    write_document_then(out, doc, calls, |_| Ok(()))
}

/// [`write_document`], with the fields `more` writes after the document's own (as
/// `#[serde(flatten)]` of the document in a struct with those fields would).
pub fn write_document_then(
    out: &mut dyn Write,
    doc: &AnalyzeJson<'_>,
    mut calls: Option<Spooled>,
    more: impl FnOnce(&mut Fields<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut fields = Fields { out, first: true };
    let head = (doc.schema_version, doc.inputs, doc.stats);
    write_head(&mut fields, head, &doc.dialogs, calls.as_mut())?;
    match calls {
        // Whatever the spool did not take is in `doc`.
        Some(mut spooled) if spooled.took_transfers => {
            fields.key("transfers")?;
            spooled.write_transfers(fields.out)?;
            fields.key("findings")?;
            spooled.write_findings(fields.out, &doc.findings)?;
        }
        _ => {
            fields.value("transfers", &doc.transfers)?;
            fields.value("findings", &doc.findings)?;
        }
    }
    // As `#[serde(skip_serializing_if = "Vec::is_empty")]` on the field.
    if !doc.unlinked_refers.is_empty() {
        fields.value("unlinked_refers", &doc.unlinked_refers)?;
    }
    more(&mut fields)?;
    fields.out.write_all(b"\n}\n")
}

/// The fields of a top-level object, written one by one as serde_json's pretty
/// printer would.
pub struct Fields<'w> {
    out: &'w mut dyn Write,
    first: bool,
}

impl Fields<'_> {
    fn key(&mut self, key: &str) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"{\n" } else { b",\n" })?;
        self.first = false;
        self.out.write_all(FIELD)?;
        serde_json::to_writer(&mut *self.out, key).map_err(io::Error::other)?;
        self.out.write_all(b": ")
    }

    /// One field: its key, then its value pretty-printed at the field's depth.
    pub fn value(&mut self, key: &str, value: &impl Serialize) -> io::Result<()> {
        self.key(key)?;
        serde_json::to_writer_pretty(Indented::new(&mut *self.out, FIELD), value)
            .map_err(io::Error::other)
    }
}

/// A writer that indents every line but the first by `indent`: a pretty-printed value
/// becomes the same value nested that deep (JSON strings hold no raw newline, so
/// every newline is the printer's own).
struct Indented<W: Write> {
    out: W,
    indent: &'static [u8],
}

impl<W: Write> Indented<W> {
    fn new(out: W, indent: &'static [u8]) -> Indented<W> {
        Indented { out, indent }
    }
}

impl<W: Write> Write for Indented<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(at + 1);
            self.out.write_all(line)?;
            self.out.write_all(self.indent)?;
            rest = after;
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{self, Options, Quiet};
    use crate::capture::Input;
    use crate::report::transfer::json;

    fn open(name: &str) -> Vec<Input> {
        let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
        vec![Input::open(&path, 0).expect("sample opens")]
    }

    /// The document with its calls spooled equals serde_json's pretty printing of
    /// the same analysis kept whole, and so does the hand-written one without spool.
    #[test]
    fn spooled_document_equals_the_serialized_one() {
        for name in [
            "xfer-attended-replaces-udp.pcap",
            "calls-mixed-udp.pcapng",
            "xfer-chained-udp.pcap",
            "basic-call-tcp.pcap",
            // Findings of a transfer and of the capture: the transfer's come first.
            "xfer-transferor-hangs-up-early-udp.pcap",
            "b2bua-sbc-attended-udp.pcap",
        ] {
            let whole = analysis::run(open(name), &Options::default(), &mut Quiet);
            let mut expected = serde_json::to_vec_pretty(&json(&whole)).expect("JSON");
            expected.push(b'\n');
            assert!(!whole.dialogs.is_empty(), "{name} lists calls");

            let mut plain = Vec::new();
            write_document(&mut plain, &json(&whole), None).expect("written");
            assert_eq!(
                String::from_utf8_lossy(&plain),
                String::from_utf8_lossy(&expected),
                "{name}, calls kept"
            );

            let mut spool = CallSpool::new();
            let taken = analysis::run(open(name), &Options::default(), &mut spool);
            assert!(taken.dialogs.is_empty(), "{name}: the spool took the calls");
            assert!(
                taken.transfers.is_empty(),
                "{name}: the spool took the transfers"
            );
            let spooled = spool.finish().expect("spooled");
            let mut out = Vec::new();
            write_document(&mut out, &json(&taken), spooled).expect("written");
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected),
                "{name}, calls spooled"
            );
        }
    }

    /// `calls`: the document and the JSON Lines with the calls spooled equal those of
    /// the same analysis kept whole.
    #[test]
    fn spooled_call_list_equals_the_serialized_one() {
        for name in ["calls-mixed-udp.pcapng", "xfer-chained-udp.pcap"] {
            let whole = analysis::run(open(name), &Options::default(), &mut Quiet);
            let doc = crate::report::calls::json(&whole);
            let mut expected = serde_json::to_vec_pretty(&doc).expect("JSON");
            expected.push(b'\n');
            let mut expected_lines = Vec::new();
            for d in &doc.dialogs {
                serde_json::to_writer(&mut expected_lines, d).expect("JSON");
                expected_lines.push(b'\n');
            }

            let mut spool = CallSpool::calls_only(Style::Element);
            let taken = analysis::run(open(name), &Options::default(), &mut spool);
            assert!(taken.dialogs.is_empty(), "{name}: the spool took the calls");
            assert_eq!(
                taken.transfers.len(),
                whole.transfers.len(),
                "{name}: transfers stay with the analysis"
            );
            let mut out = Vec::new();
            let spooled = spool.finish().expect("spooled");
            write_calls_document(&mut out, &crate::report::calls::json(&taken), spooled)
                .expect("written");
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected),
                "{name}"
            );

            let mut spool = CallSpool::calls_only(Style::Line);
            analysis::run(open(name), &Options::default(), &mut spool);
            let mut lines = Vec::new();
            spool
                .finish()
                .expect("spooled")
                .expect("a thread")
                .write_lines(&mut lines)
                .expect("written");
            assert_eq!(
                String::from_utf8_lossy(&lines),
                String::from_utf8_lossy(&expected_lines),
                "{name}, lines"
            );
        }
    }

    /// `calls` as a table: written from the spooled rows, it is the table of the
    /// same analysis kept whole, for one input and for several.
    #[test]
    fn spooled_call_table_equals_the_one_kept_whole() {
        let both = || {
            let mut inputs = open("xfer-chained-udp.pcap");
            inputs.extend(open("calls-mixed-udp.pcapng"));
            inputs
        };
        for (inputs, open) in [
            (
                1,
                &(|| open("calls-mixed-udp.pcapng")) as &dyn Fn() -> Vec<Input>,
            ),
            (2, &both),
        ] {
            for palette in [
                Palette::default(),
                Palette {
                    enabled: true,
                    wide: true,
                },
            ] {
                let whole = analysis::run(open(), &Options::default(), &mut Quiet);
                let expected = crate::report::calls::text(&whole, palette);
                let style = Style::Row {
                    inputs,
                    wide: palette.wide,
                };
                let mut spool = CallSpool::calls_only(style);
                let taken = analysis::run(open(), &Options::default(), &mut spool);
                assert!(taken.dialogs.is_empty(), "the spool took the calls");
                let mut out = Vec::new();
                let spooled = spool.finish().expect("spooled").expect("a thread");
                spooled.write_table(&mut out, palette).expect("written");
                assert_eq!(String::from_utf8_lossy(&out), expected, "{inputs} input(s)");
            }
        }
    }

    /// `check --format json`: the calls spooled, the transfers kept for the verdict,
    /// fields after the document's own: what serde makes of the document flattened
    /// into a struct with those fields.
    #[test]
    fn fields_after_the_document_are_as_flattened() {
        #[derive(Serialize)]
        struct Judged<'a> {
            #[serde(flatten)]
            document: AnalyzeJson<'a>,
            verdict: &'static str,
            counts: [usize; 2],
        }
        for name in [
            "xfer-transferor-hangs-up-early-udp.pcap",
            "calls-mixed-udp.pcapng",
        ] {
            let whole = analysis::run(open(name), &Options::default(), &mut Quiet);
            let judged = Judged {
                document: json(&whole),
                verdict: "fail",
                counts: [1, 2],
            };
            let mut expected = serde_json::to_vec_pretty(&judged).expect("JSON");
            expected.push(b'\n');

            let mut spool = CallSpool::calls_only(Style::Element);
            let taken = analysis::run(open(name), &Options::default(), &mut spool);
            assert!(taken.dialogs.is_empty(), "{name}: the spool took the calls");
            assert_eq!(taken.transfers.len(), whole.transfers.len());
            let spooled = spool.finish().expect("spooled");
            let mut out = Vec::new();
            write_document_then(&mut out, &json(&taken), spooled, |f| {
                f.value("verdict", &"fail")?;
                f.value("counts", &[1, 2])
            })
            .expect("written");
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected),
                "{name}"
            );
        }
    }

    /// The index sorted in runs and merged gives every call once, in list order,
    /// whether the runs are in a file or in memory, one run or many.
    #[test]
    fn the_call_index_merges_its_runs_in_list_order() {
        // A scrambled order, as calls finish: long calls late, short ones early.
        let keys: Vec<u64> = (0..1000u64).map(|i| (i * 7919) % 1000).collect();
        for run in [1, 3, 64, 1000, 5000] {
            for mut store in [Store::temporary(), Store::on(Medium::Memory(Vec::new()))] {
                let mut index = CallIndex::new(run);
                for &k in &keys {
                    // Each piece is a few bytes of the store, as a call's JSON is.
                    let piece = format!("call {k};");
                    let (at, len) = store.append(piece.as_bytes()).expect("appended");
                    index
                        .push(((k, k + 1, 2), at, len), &mut store)
                        .expect("pushed");
                }
                assert_eq!(index.runs.len(), 1000 / run, "runs of {run}");
                let mut merged = index.sorted(&mut store).expect("sorted");
                let mut seen = Vec::new();
                let mut buf = Vec::new();
                while let Some((at, len)) = merged.next(&mut store).expect("next") {
                    let piece = store.read(at, len, &mut buf).expect("read");
                    seen.push(String::from_utf8_lossy(piece).into_owned());
                }
                let expected: Vec<String> = (0..1000).map(|k| format!("call {k};")).collect();
                assert_eq!(seen, expected, "runs of {run}");
            }
        }
    }

    #[test]
    fn indenting_leaves_the_first_line_alone() {
        let mut out = Vec::new();
        let mut w = Indented::new(&mut out, b"  ");
        w.write_all(b"{\n\"a\": 1\n}").expect("written");
        assert_eq!(out, b"{\n  \"a\": 1\n  }");
    }
}
