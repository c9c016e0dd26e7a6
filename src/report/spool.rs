//! The JSON document of `analyze`, written with its call list set aside as the calls
//! finish instead of kept to the end.
//!
//! A busy capture holds hundreds of thousands of calls and the document lists each:
//! kept as [`Dialog`]s until the end they cost about 3 KB a call. [`CallSpool`] is an
//! [`Observer`] that takes each call as soon as no transfer can need it, turns it into
//! its JSON on a thread of its own (the analysis goes on meanwhile) and appends it to an
//! unnamed temporary file; [`write_document`] then writes the document with the calls
//! read back in list order.
//!
//! Guarantees:
//! - The document is byte for byte what `serde_json::to_writer_pretty` makes of
//!   [`AnalyzeJson`] (a test holds it), calls spooled or not.
//! - Memory for the call list is its index, 40 bytes a call. When no temporary file
//!   can be made, the calls' JSON is kept in memory instead: nothing is lost.
//! - A write error on the temporary file is returned by [`CallSpool::finish`].

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::Serialize;

use super::Clock;
use super::calls::DialogJson;
use super::transfer::AnalyzeJson;
use crate::analysis::Observer;
use crate::transfer::{Listed, Place};

/// Calls in flight between the analysis and the spool thread: enough to ride out a
/// burst of calls ending together, bounded so a slow disk holds the analysis back
/// rather than fill memory.
const IN_FLIGHT: usize = 4096;

/// Takes the finished calls of an analysis and writes their JSON aside.
pub struct CallSpool {
    calls: Option<SyncSender<(i64, Listed)>>,
    worker: Option<JoinHandle<io::Result<Spooled>>>,
}

/// The calls' JSON, written aside, and where each one is.
pub struct Spooled {
    store: Store,
    /// Each call's place in the list, and its JSON's offset and length in `store`.
    index: Vec<(Place, u64, u32)>,
}

/// Where the calls' JSON is: a temporary file, or memory when none could be made.
enum Store {
    File(BufWriter<File>),
    Memory(Vec<u8>),
}

impl Default for CallSpool {
    fn default() -> Self {
        CallSpool::new()
    }
}

impl CallSpool {
    /// Starts the spool thread.
    pub fn new() -> CallSpool {
        let (calls, received) = sync_channel(IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("sipxfer-calls".into())
            .spawn(move || spool(received));
        match worker {
            Ok(worker) => CallSpool {
                calls: Some(calls),
                worker: Some(worker),
            },
            // No thread: the calls stay with the analysis (takes_calls says no).
            Err(_) => CallSpool {
                calls: None,
                worker: None,
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
    fn takes_calls(&self) -> bool {
        self.calls.is_some()
    }
    fn call(&mut self, zero_ns: i64, listed: Listed) {
        // A send fails only when the thread stopped on a write error, which
        // `finish` reports.
        if let Some(calls) = &self.calls {
            let _ = calls.send((zero_ns, listed));
        }
    }
}

/// The spool thread: each call's JSON, as it will stand in the document, appended.
fn spool(received: Receiver<(i64, Listed)>) -> io::Result<Spooled> {
    let mut store = Store::temporary();
    let mut index = Vec::new();
    let mut json = Vec::new();
    let mut offset = 0u64;
    for (zero_ns, listed) in received {
        json.clear();
        let call = DialogJson::at(Clock::from_zero(zero_ns), &listed.dialog);
        // An element of the document's `dialogs` array: two levels deep.
        serde_json::to_writer_pretty(Indented::new(&mut json, ELEMENT), &call)
            .map_err(io::Error::other)?;
        store.append(&json)?;
        let len = u32::try_from(json.len()).map_err(io::Error::other)?;
        index.push((listed.place, offset, len));
        offset += u64::from(len);
    }
    Ok(Spooled { store, index })
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
                Store::File(BufWriter::with_capacity(1 << 16, file))
            }
            Err(_) => Store::Memory(Vec::new()),
        }
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Store::File(file) => file.write_all(bytes),
            Store::Memory(memory) => {
                memory.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

impl Spooled {
    /// Writes the calls as the document's `dialogs` array, in list order.
    fn write_array(self, out: &mut dyn Write) -> io::Result<()> {
        let Spooled { store, mut index } = self;
        if index.is_empty() {
            return out.write_all(b"[]");
        }
        index.sort_unstable_by_key(|&(place, _, _)| place);
        out.write_all(b"[")?;
        let mut buf = Vec::new();
        match store {
            Store::File(file) => {
                let mut file = file.into_inner().map_err(|e| e.into_error())?;
                // Calls finish roughly in list order: reading is mostly sequential.
                let mut at = u64::MAX;
                for (i, &(_, offset, len)) in index.iter().enumerate() {
                    if offset != at {
                        file.seek(SeekFrom::Start(offset))?;
                    }
                    buf.resize(len as usize, 0);
                    file.read_exact(&mut buf)?;
                    at = offset + u64::from(len);
                    write_element(out, i == 0, &buf)?;
                }
            }
            Store::Memory(memory) => {
                for (i, &(_, offset, len)) in index.iter().enumerate() {
                    let json = usize::try_from(offset)
                        .ok()
                        .and_then(|start| memory.get(start..start.checked_add(len as usize)?))
                        .ok_or_else(|| io::Error::other("call list index out of step"))?;
                    write_element(out, i == 0, json)?;
                }
            }
        }
        out.write_all(b"\n  ]")
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
    let mut fields = Fields { out, first: true };
    fields.value("schema_version", &doc.schema_version)?;
    fields.value("inputs", &doc.inputs)?;
    fields.value("stats", &doc.stats)?;
    match calls {
        Some(calls) => {
            fields.key("dialogs")?;
            calls.write_array(fields.out)?;
        }
        None => fields.value("dialogs", &doc.dialogs)?,
    }
    fields.value("transfers", &doc.transfers)?;
    fields.value("findings", &doc.findings)?;
    // As `#[serde(skip_serializing_if = "Vec::is_empty")]` on the field.
    if !doc.unlinked_refers.is_empty() {
        fields.value("unlinked_refers", &doc.unlinked_refers)?;
    }
    fields.out.write_all(b"\n}\n")
}

/// The fields of a top-level object, written one by one as serde_json's pretty
/// printer would.
struct Fields<'w> {
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

    fn value(&mut self, key: &str, value: &impl Serialize) -> io::Result<()> {
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

    #[test]
    fn indenting_leaves_the_first_line_alone() {
        let mut out = Vec::new();
        let mut w = Indented::new(&mut out, b"  ");
        w.write_all(b"{\n\"a\": 1\n}").expect("written");
        assert_eq!(out, b"{\n  \"a\": 1\n  }");
    }
}
