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

/// Renders the call table.
pub fn text(analysis: &Analysis, palette: Palette) -> String {
    let inputs = analysis.inputs.len();
    let clock = Clock::of(analysis);
    if analysis.dialogs.is_empty() {
        return "No calls (no INVITE dialogs) in the capture.\n".to_string();
    }
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(vec![
            "#", "start", "from", "to", "Call-ID", "state", "duration", "msgs", "frames",
        ]);
    for (i, d) in analysis.dialogs.iter().enumerate() {
        let colour = match d.answer {
            Answer::Answered | Answer::BeforeCapture => comfy_table::Color::Green,
            Answer::Rejected => comfy_table::Color::Red,
            Answer::Cancelled | Answer::Pending => comfy_table::Color::Yellow,
        };
        let mut state = comfy_table::Cell::new(state_text(d));
        if palette.enabled {
            state = state.fg(colour);
        }
        table.add_row(vec![
            comfy_table::Cell::new(i + 1),
            comfy_table::Cell::new(clock.text(d.invite)),
            comfy_table::Cell::new(party_text(&d.caller)),
            comfy_table::Cell::new(party_text(&d.callee)),
            comfy_table::Cell::new(short_call_id(&d.call_id, palette.wide)),
            state,
            comfy_table::Cell::new(duration(d.duration_ns())),
            comfy_table::Cell::new(d.messages),
            comfy_table::Cell::new(format!(
                "{}-{}",
                frame_name(inputs, d.first),
                frame_name(inputs, d.last)
            )),
        ]);
    }
    if palette.enabled {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for i in [0usize, 6, 7] {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    let mut out = table.to_string();
    // comfy-table pads every line to the table's width; trailing blanks help nobody.
    out = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
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
