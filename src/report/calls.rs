//! `sipxfer calls`: the call list, like Wireshark's VoIP Calls window, one row per
//! INVITE dialog (Call-ID plus both tags).

use serde::Serialize;

use super::{Clock, FrameJson, Palette, SCHEMA_VERSION, duration, escape_str, frame_name};
use crate::analysis::{Analysis, InputSummary, Stats};
use crate::dialog::{Answer, Dialog, DialogState, Ending, Party, Side};

/// The state of a call in the user's words.
pub fn state_text(d: &Dialog) -> String {
    let status = |d: &Dialog| {
        let code = d.status.map(|s| s.to_string()).unwrap_or_default();
        let reason = d.reason.as_deref().map(escape_str).unwrap_or_default();
        format!("{code} {reason}").trim().to_string()
    };
    let by = |side: Option<Side>| match side {
        Some(Side::Caller) => " by caller",
        Some(Side::Callee) => " by callee",
        None => "",
    };
    match d.answer {
        Answer::Rejected => format!("rejected {}", status(d)),
        Answer::Cancelled => "cancelled".to_string(),
        Answer::Pending => match d.state {
            _ if d.ending == Some(Ending::Timeout) => "no response (timed out)".to_string(),
            DialogState::Early => "ringing at end of capture".to_string(),
            _ => "no answer at end of capture".to_string(),
        },
        Answer::Answered | Answer::BeforeCapture => {
            let start = match (d.answer, d.invite_seen) {
                (Answer::BeforeCapture, _) => "up before capture",
                (_, false) => "answered (INVITE not captured)",
                _ => "answered",
            };
            match (d.state, d.ending) {
                (DialogState::Terminated, Some(Ending::Bye)) => {
                    format!("{start}, BYE{}", by(d.ended_by))
                }
                (DialogState::Terminated, Some(Ending::Error)) => {
                    format!("{start}, ended by error")
                }
                _ => format!("{start}, up at end of capture"),
            }
        }
    }
}

/// Short form of a Call-ID for the table: the first 16 characters.
fn short_call_id(call_id: &str, wide: bool) -> String {
    let escaped = escape_str(call_id);
    if !wide && escaped.chars().count() > 18 {
        let mut s: String = escaped.chars().take(16).collect();
        s.push('…');
        s
    } else {
        escaped.into_owned()
    }
}

/// A party for the table: display name and URI.
fn party_text(p: &Party) -> String {
    let uri = escape_str(&p.uri);
    let uri = uri.trim_start_matches('<').trim_end_matches('>');
    match &p.name {
        Some(name) => format!("{} <{uri}>", escape_str(name.trim_matches('"'))),
        None => uri.to_string(),
    }
}

/// The table's columns.
const HEADER: [&str; 9] = [
    "#", "start", "from", "to", "Call-ID", "state", "duration", "msgs", "frames",
];

/// Columns aligned right: the number, the duration and the message count.
const RIGHT: [usize; 3] = [0, 6, 7];

/// Rows rendered (and measured) at a time: the table is never held whole, so a capture
/// with a million calls lists them in the memory of a few thousand rows.
const CHUNK: usize = 4096;

/// A call's row in the table but its number (given in list order when it is
/// written): the cells from `start` on, and how its state is coloured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRow {
    cells: [String; 8],
    answer: Answer,
}

impl CallRow {
    /// The row of `d`: times on `clock`, frames named for `inputs` input files.
    pub fn of(d: &Dialog, clock: Clock, inputs: usize, wide: bool) -> CallRow {
        CallRow {
            cells: [
                clock.text(d.invite),
                party_text(&d.caller),
                party_text(&d.callee),
                short_call_id(&d.call_id, wide),
                state_text(d),
                duration(d.duration_ns()),
                d.messages.to_string(),
                format!(
                    "{}-{}",
                    frame_name(inputs, d.first),
                    frame_name(inputs, d.last)
                ),
            ],
            answer: d.answer,
        }
    }

    /// The row as one record of bytes: how it is coloured, then the cells, each
    /// ended by the unit separator (0x1f), which no cell holds (text from the wire
    /// goes through [`escape_str`], which escapes every control character).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(match self.answer {
            Answer::Answered => b'a',
            Answer::BeforeCapture => b'b',
            Answer::Rejected => b'r',
            Answer::Cancelled => b'c',
            Answer::Pending => b'p',
        });
        for cell in &self.cells {
            out.extend_from_slice(cell.as_bytes());
            out.push(0x1f);
        }
    }

    /// The row [`CallRow::encode`] made, or `None` when `bytes` are not one.
    pub fn decode(bytes: &[u8]) -> Option<CallRow> {
        let (&kind, rest) = bytes.split_first()?;
        let answer = match kind {
            b'a' => Answer::Answered,
            b'b' => Answer::BeforeCapture,
            b'r' => Answer::Rejected,
            b'c' => Answer::Cancelled,
            b'p' => Answer::Pending,
            _ => return None,
        };
        let mut cells = rest.split(|&b| b == 0x1f);
        let mut next = || String::from_utf8(cells.next()?.to_vec()).ok();
        let row = CallRow {
            cells: [
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
                next()?,
            ],
            answer,
        };
        // What follows the last separator is nothing.
        cells.next().filter(|s| s.is_empty())?;
        cells.next().is_none().then_some(row)
    }

    fn cells(&self, number: usize, palette: Palette) -> Vec<comfy_table::Cell> {
        let colour = match self.answer {
            Answer::Answered | Answer::BeforeCapture => comfy_table::Color::Green,
            Answer::Rejected => comfy_table::Color::Red,
            Answer::Cancelled | Answer::Pending => comfy_table::Color::Yellow,
        };
        let mut cells = Vec::with_capacity(HEADER.len());
        cells.push(comfy_table::Cell::new(number));
        for (i, text) in self.cells.iter().enumerate() {
            let mut cell = comfy_table::Cell::new(text);
            // The state, the fifth cell after the number.
            if i == 4 && palette.enabled {
                cell = cell.fg(colour);
            }
            cells.push(cell);
        }
        cells
    }
}

/// The width of each column of a table filled row by row, measured as comfy-table
/// measures it, [`CHUNK`] rows at a time.
pub struct Widths {
    widths: Vec<u16>,
    chunk: comfy_table::Table,
    rows: usize,
}

impl Default for Widths {
    fn default() -> Self {
        let mut chunk = comfy_table::Table::new();
        chunk.set_header(HEADER.to_vec());
        Widths {
            widths: chunk.column_max_content_widths(),
            chunk,
            rows: 0,
        }
    }
}

impl Widths {
    /// Measures one more row (numbered as it will be: the count so far plus one).
    pub fn add(&mut self, row: &CallRow) {
        self.rows += 1;
        self.chunk.add_row(row.cells(self.rows, Palette::default()));
        if self.chunk.row_count() >= CHUNK {
            self.measure();
        }
    }

    fn measure(&mut self) {
        for (w, m) in self
            .widths
            .iter_mut()
            .zip(self.chunk.column_max_content_widths())
        {
            *w = (*w).max(m);
        }
        self.chunk = comfy_table::Table::new();
    }

    /// The widths of every row added, and the header's.
    pub fn finish(mut self) -> Vec<u16> {
        self.measure();
        self.widths
    }
}

/// Renders the call table of an analysis that kept its calls.
pub fn text(analysis: &Analysis, palette: Palette) -> String {
    let inputs = analysis.inputs.len();
    let clock = Clock::of(analysis);
    let rows: Vec<CallRow> = analysis
        .dialogs
        .iter()
        .map(|d| CallRow::of(d, clock, inputs, palette.wide))
        .collect();
    let mut widths = Widths::default();
    rows.iter().for_each(|r| widths.add(r));
    let mut out = Vec::new();
    let rows = rows.into_iter().map(Ok);
    // Writing to memory fails only on a bad row, and these are all good.
    let _ = write_table(&mut out, rows, &widths.finish(), palette);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the call table: `rows` in list order, numbered from 1, with the column
/// `widths` of all of them ([`Widths`]), rendered [`CHUNK`] rows at a time.
pub fn write_table(
    out: &mut dyn std::io::Write,
    rows: impl Iterator<Item = std::io::Result<CallRow>>,
    widths: &[u16],
    palette: Palette,
) -> std::io::Result<()> {
    write_table_in_chunks(out, rows, widths, palette, CHUNK)
}

fn write_table_in_chunks(
    out: &mut dyn std::io::Write,
    rows: impl Iterator<Item = std::io::Result<CallRow>>,
    widths: &[u16],
    palette: Palette,
    chunk: usize,
) -> std::io::Result<()> {
    let mut number = 0;
    let mut table: Option<comfy_table::Table> = None;
    for row in rows {
        let row = row?;
        number += 1;
        let t = table.get_or_insert_with(|| chunk_table(number == 1, palette));
        t.add_row(row.cells(number, palette));
        if t.row_count() >= chunk
            && let Some(full) = table.take()
        {
            write_chunk(out, full, widths)?;
        }
    }
    match table {
        Some(rest) => write_chunk(out, rest, widths),
        None if number == 0 => out.write_all(b"No calls (no INVITE dialogs) in the capture.\n"),
        None => Ok(()),
    }
}

/// An empty table for one chunk of rows, with the header when it is the first.
fn chunk_table(first: bool, palette: Palette) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    if first {
        table.set_header(HEADER.to_vec());
    }
    if palette.enabled {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

/// Writes one chunk's lines, every column as wide as the whole table's; comfy-table
/// pads every line to the table's width, and trailing blanks help nobody.
fn write_chunk(
    out: &mut dyn std::io::Write,
    mut table: comfy_table::Table,
    widths: &[u16],
) -> std::io::Result<()> {
    for (i, &w) in widths.iter().enumerate() {
        if let Some(col) = table.column_mut(i) {
            let padding = col.padding_width();
            col.set_constraint(comfy_table::ColumnConstraint::Absolute(
                comfy_table::Width::Fixed(w.saturating_add(padding)),
            ));
            if RIGHT.contains(&i) {
                col.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
    }
    for line in table.lines() {
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A dialog in the JSON output.
#[derive(Serialize)]
pub struct DialogJson<'a> {
    pub call_id: &'a str,
    pub from_tag: &'a str,
    pub to_tag: Option<&'a str>,
    pub caller: &'a Party,
    pub callee: &'a Party,
    pub caller_address: String,
    pub callee_address: String,
    pub transport: &'static str,
    pub state: DialogState,
    pub answer: Answer,
    pub status: Option<u16>,
    pub reason: Option<&'a str>,
    pub ending: Option<Ending>,
    pub ended_by: Option<Side>,
    /// `state` in the words of the text table.
    pub summary: String,
    pub invite: FrameJson,
    pub answered: Option<FrameJson>,
    pub ended: Option<FrameJson>,
    pub first: FrameJson,
    pub last: FrameJson,
    pub duration: f64,
    pub messages: u32,
    pub retransmissions: u32,
    pub challenges: u32,
    pub media: Vec<MediaJson>,
    pub requests: Vec<RequestJson<'a>>,
    pub caller_agent: Option<&'a str>,
    pub callee_agent: Option<&'a str>,
    pub invite_seen: bool,
}

#[derive(Serialize)]
pub struct MediaJson {
    #[serde(flatten)]
    pub frame: FrameJson,
    pub by: Side,
    pub direction: crate::sip::sdp::Direction,
}

#[derive(Serialize)]
pub struct RequestJson<'a> {
    #[serde(flatten)]
    pub frame: FrameJson,
    pub method: &'a str,
    pub cseq: u32,
    pub by: Side,
    pub response: Option<ResponseJson>,
    pub retransmissions: u32,
}

#[derive(Serialize)]
pub struct ResponseJson {
    #[serde(flatten)]
    pub frame: FrameJson,
    pub status: u16,
}

impl<'a> DialogJson<'a> {
    pub fn new(analysis: &Analysis, d: &'a Dialog) -> DialogJson<'a> {
        DialogJson::at(Clock::of(analysis), d)
    }

    /// The call as listed, its times relative to `clock`.
    pub fn at(clock: Clock, d: &'a Dialog) -> DialogJson<'a> {
        let f = |frame| FrameJson::at(clock, frame);
        DialogJson {
            call_id: &d.call_id,
            from_tag: &d.from_tag,
            to_tag: d.to_tag.as_deref(),
            caller: &d.caller,
            callee: &d.callee,
            caller_address: d.caller_addr.to_string(),
            callee_address: d.callee_addr.to_string(),
            transport: d.transport.as_str(),
            state: d.state,
            answer: d.answer,
            status: d.status,
            reason: d.reason.as_deref(),
            ending: d.ending,
            ended_by: d.ended_by,
            summary: state_text(d),
            invite: f(d.invite),
            answered: d.answered.map(f),
            ended: d.ended.map(f),
            first: f(d.first),
            last: f(d.last),
            duration: super::micro(d.duration_ns() as f64 / 1e9),
            messages: d.messages,
            retransmissions: d.retransmissions,
            challenges: d.challenges,
            media: d
                .media
                .iter()
                .map(|m| MediaJson {
                    frame: f(m.frame),
                    by: m.by,
                    direction: m.direction,
                })
                .collect(),
            requests: d
                .requests
                .iter()
                .map(|r| RequestJson {
                    frame: f(r.frame),
                    method: &r.method,
                    cseq: r.cseq,
                    by: r.by,
                    response: r.response.map(|(frame, status)| ResponseJson {
                        frame: f(frame),
                        status,
                    }),
                    retransmissions: r.retransmissions,
                })
                .collect(),
            caller_agent: d.caller_agent.as_deref(),
            callee_agent: d.callee_agent.as_deref(),
            invite_seen: d.invite_seen,
        }
    }
}

/// The JSON document of `calls`.
#[derive(Serialize)]
pub struct CallsJson<'a> {
    pub schema_version: u32,
    pub inputs: &'a [InputSummary],
    pub stats: &'a Stats,
    pub dialogs: Vec<DialogJson<'a>>,
}

pub fn json(analysis: &Analysis) -> CallsJson<'_> {
    CallsJson {
        schema_version: SCHEMA_VERSION,
        inputs: &analysis.inputs,
        stats: &analysis.stats,
        dialogs: analysis
            .dialogs
            .iter()
            .map(|d| DialogJson::new(analysis, d))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed(name: &str) -> Analysis {
        let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
        let input = crate::capture::Input::open(&path, 0).expect("sample opens");
        let options = crate::analysis::Options::default();
        crate::analysis::run(vec![input], &options, &mut crate::analysis::Quiet)
    }

    /// The table written a few rows at a time, each piece with the whole table's
    /// widths, reads as one table: the header once, the columns aligned throughout.
    #[test]
    fn the_table_in_chunks_is_the_table_whole() {
        let analysis = analysed("calls-mixed-udp.pcapng");
        assert!(
            analysis.dialogs.len() >= 4,
            "enough calls for several chunks"
        );
        for palette in [
            Palette::default(),
            Palette {
                enabled: true,
                wide: true,
            },
        ] {
            let clock = Clock::of(&analysis);
            let rows: Vec<CallRow> = analysis
                .dialogs
                .iter()
                .map(|d| CallRow::of(d, clock, 1, palette.wide))
                .collect();
            let mut widths = Widths::default();
            rows.iter().for_each(|r| widths.add(r));
            let widths = widths.finish();
            let whole = text(&analysis, palette);
            for chunk in [1, 2, 3] {
                let mut out = Vec::new();
                let rows = rows.iter().cloned().map(Ok);
                write_table_in_chunks(&mut out, rows, &widths, palette, chunk).expect("written");
                assert_eq!(String::from_utf8_lossy(&out), whole, "chunks of {chunk}");
            }
            assert_eq!(
                whole.lines().count(),
                rows.len() + 1,
                "a header and a line a call"
            );
        }
    }

    /// A row survives the spool's encoding, whatever its cells hold; bytes that are
    /// not a row are refused, not guessed at.
    #[test]
    fn a_row_reads_back_as_it_was_written() {
        let analysis = analysed("xfer-chained-udp.pcap");
        let clock = Clock::of(&analysis);
        for d in &analysis.dialogs {
            let row = CallRow::of(d, clock, 2, false);
            let mut bytes = Vec::new();
            row.encode(&mut bytes);
            assert_eq!(CallRow::decode(&bytes), Some(row));
        }
        let mut d = analysis.dialogs[0].clone();
        d.call_id = "a\u{1f}b\x00c\u{202e}".to_string();
        let row = CallRow::of(&d, clock, 1, true);
        let mut bytes = Vec::new();
        row.encode(&mut bytes);
        assert_eq!(
            CallRow::decode(&bytes),
            Some(row),
            "escaped, so still one cell"
        );
        assert_eq!(CallRow::decode(b""), None);
        assert_eq!(CallRow::decode(b"x\x1f"), None);
        assert_eq!(
            CallRow::decode(&bytes[..bytes.len() - 1]),
            None,
            "cut short"
        );
        bytes.extend_from_slice(b"more\x1f");
        assert_eq!(CallRow::decode(&bytes), None, "a cell too many");
    }

    #[test]
    fn call_ids_are_cut_to_the_call_id_column() {
        assert_eq!(short_call_id("mixed-call-1@sip", false), "mixed-call-1@sip");
        assert_eq!(
            short_call_id("123456789012345678", false),
            "123456789012345678"
        );
        assert_eq!(
            short_call_id("1234567890123456789", false),
            "1234567890123456…"
        );
        assert_eq!(short_call_id("a\tb", false), "a\\tb");
    }

    #[test]
    fn parties_show_name_and_uri_without_brackets_or_quotes() {
        let party = |name: Option<&str>, uri: &str| Party {
            name: name.map(str::to_string),
            uri: uri.to_string(),
        };
        assert_eq!(
            party_text(&party(Some("\"Alice\""), "<sip:alice@a>")),
            "Alice <sip:alice@a>"
        );
        assert_eq!(party_text(&party(None, "<sip:bob@b>")), "sip:bob@b");
        assert_eq!(
            party_text(&party(Some("\u{202e}x"), "sip:c@c")),
            "\\u{202e}x <sip:c@c>"
        );
    }
}
