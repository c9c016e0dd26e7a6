//! `sipxfer messages`: one line (or one JSON object) per SIP message, streamed as the
//! messages are found.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::{Clock, SCHEMA_VERSION, escape};
use crate::analysis::{Analysis, Found, Observer};
use crate::sip::{Message, Problem};

/// A SIP message in the JSON output of `messages`.
#[derive(Serialize)]
pub struct MessageJson<'a> {
    pub file: u32,
    pub frame: u64,
    /// Seconds from the first frame of the capture.
    pub time: f64,
    pub src: String,
    pub dst: String,
    pub transport: &'static str,
    pub method: Option<Cow<'a, str>>,
    pub request_uri: Option<Cow<'a, str>>,
    pub status: Option<u16>,
    pub reason: Option<Cow<'a, str>>,
    pub cseq: Option<CSeqJson<'a>>,
    pub call_id: Option<Cow<'a, str>>,
    pub from_tag: Option<Cow<'a, str>>,
    pub to_tag: Option<Cow<'a, str>>,
    /// Bytes of the whole message.
    pub length: usize,
    pub problems: &'a [Problem],
}

#[derive(Serialize)]
pub struct CSeqJson<'a> {
    pub seq: u32,
    pub method: Cow<'a, str>,
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

impl<'a> MessageJson<'a> {
    pub fn new(found: &'a Found<'_, 'a>) -> MessageJson<'a> {
        let m: &Message<'a> = found.message;
        let (request_uri, reason) = match m.start_line() {
            crate::sip::StartLine::Request { uri, .. } => (Some(lossy(uri)), None),
            crate::sip::StartLine::Response { reason, .. } => (None, Some(lossy(reason))),
        };
        MessageJson {
            file: found.frame.file,
            frame: found.frame.number,
            time: Clock::from_zero(found.zero_ns).json(found.frame),
            src: found.flow.src.to_string(),
            dst: found.flow.dst.to_string(),
            transport: found.transport.as_str(),
            method: m.method().map(|x| x.as_str()),
            request_uri,
            status: m.status(),
            reason,
            cseq: m.cseq().map(|c| CSeqJson {
                seq: c.seq,
                method: c.method.as_str(),
            }),
            call_id: m.call_id().map(lossy),
            from_tag: m.from_tag().map(lossy),
            to_tag: m.to_tag().map(lossy),
            length: m.raw().len(),
            problems: m.problems(),
        }
    }
}

/// Streams `messages` as text lines.
pub struct TextLines<W: Write> {
    out: W,
    several_files: bool,
    /// `--wide`: the method with its Request-URI (or the status) whole.
    pub wide: bool,
    /// The first write error (a closed pipe ends the output quietly).
    pub error: Option<io::Error>,
}

impl<W: Write> TextLines<W> {
    pub fn new(out: W, several_files: bool) -> Self {
        TextLines {
            out,
            several_files,
            wide: false,
            error: None,
        }
    }

    pub fn header(&mut self) {
        let frame = if self.several_files {
            "file:frame"
        } else {
            "frame"
        };
        let line = format!(
            "{frame:>8}  {:>11}  {:<21}    {:<21}  {:<4}  {:<24}  {:<14}  Call-ID",
            "time", "source", "destination", "tr", "method / status", "CSeq"
        );
        self.write(&line);
    }

    fn write(&mut self, line: &str) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{line}")
        {
            self.error = Some(e);
        }
    }

    pub fn into_inner(self) -> (W, Option<io::Error>) {
        (self.out, self.error)
    }
}

impl<W: Write> Observer for TextLines<W> {
    fn lists_calls(&self) -> bool {
        false
    }
    fn message(&mut self, found: &Found<'_, '_>) {
        if self.error.is_some() {
            return;
        }
        let m = found.message;
        let what = match m.start_line() {
            crate::sip::StartLine::Request { method, uri } => {
                format!("{} {}", method.as_str(), escape(uri))
            }
            crate::sip::StartLine::Response { status, reason } => {
                format!("{status} {}", escape(reason))
            }
        };
        let what: String = if !self.wide && what.chars().count() > 24 {
            let mut s: String = what.chars().take(23).collect();
            s.push('…');
            s
        } else {
            what
        };
        let cseq = m
            .cseq()
            .map(|c| format!("{} {}", c.seq, escape(c.method.as_str().as_bytes())))
            .unwrap_or_default();
        let frame = if self.several_files {
            format!("{}:{}", found.frame.file + 1, found.frame.number)
        } else {
            found.frame.number.to_string()
        };
        let time = Clock::from_zero(found.zero_ns).text(found.frame);
        let line = format!(
            "{frame:>8}  {time:>11}  {:<21} →  {:<21}  {:<4}  {what:<24}  {cseq:<14}  {}",
            found.flow.src.to_string(),
            found.flow.dst.to_string(),
            found.transport.as_str().to_uppercase(),
            m.call_id().map(escape).unwrap_or(Cow::Borrowed("-")),
        );
        self.write(&line);
    }
}

/// Streams `messages` as one JSON document: the messages first, as they come, then the
/// inputs and counts once the run is over.
pub struct JsonStream<W: Write> {
    out: W,
    count: u64,
    pub error: Option<io::Error>,
}

impl<W: Write> JsonStream<W> {
    pub fn new(out: W) -> Self {
        let mut s = JsonStream {
            out,
            count: 0,
            error: None,
        };
        let head = format!("{{\"schema_version\":{SCHEMA_VERSION},\"messages\":[");
        s.write_raw(head.as_bytes());
        s
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }

    /// Closes the document with the inputs and the counts.
    pub fn finish(mut self, analysis: &Analysis) -> Result<W, io::Error> {
        self.write_raw(b"\n],\"inputs\":");
        let inputs = serde_json::to_vec(&analysis.inputs).map_err(io::Error::other)?;
        self.write_raw(&inputs);
        self.write_raw(b",\"stats\":");
        let stats = serde_json::to_vec(&analysis.stats).map_err(io::Error::other)?;
        self.write_raw(&stats);
        self.write_raw(b"}\n");
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

impl<W: Write> Observer for JsonStream<W> {
    fn lists_calls(&self) -> bool {
        false
    }
    fn message(&mut self, found: &Found<'_, '_>) {
        if self.error.is_some() {
            return;
        }
        let row = MessageJson::new(found);
        let sep: &[u8] = if self.count == 0 { b"\n" } else { b",\n" };
        self.write_raw(sep);
        if let Err(e) = serde_json::to_writer(&mut self.out, &row) {
            self.error = Some(io::Error::other(e));
        }
        self.count += 1;
    }
}

/// Streams `messages --format jsonl`: one message per line.
pub struct JsonLines<W: Write> {
    out: W,
    pub error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, error: None }
    }
    pub fn finish(self) -> Result<W, io::Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

impl<W: Write> Observer for JsonLines<W> {
    fn lists_calls(&self) -> bool {
        false
    }
    fn message(&mut self, found: &Found<'_, '_>) {
        if self.error.is_some() {
            return;
        }
        let row = MessageJson::new(found);
        let written = serde_json::to_writer(&mut self.out, &row)
            .map_err(io::Error::other)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}
