//! Message framing (`X6xx`, RFC 3261 §7, §18.3, §20.14): Content-Length against the
//! body, and messages that could not be read in full. The SIP stage records the
//! problems; these checks only name them.

use super::Out;
use crate::capture::{Damage, DamageKind, FrameRef};
use crate::rules::Code;
use crate::sip::ProblemKind;

/// X601, X602: the problems the SIP stage found in messages, each with its frame.
pub(crate) fn problems<'p>(
    out: &mut Out<'_>,
    problems: impl IntoIterator<Item = (FrameRef, &'p ProblemKind)>,
) {
    for (frame, kind) in problems {
        if let Some((code, message)) = problem(kind) {
            out.add(code, vec![frame], message);
        }
    }
}

/// The rule a message problem breaks, with the finding's message; `None` for a problem
/// no rule covers.
fn problem(kind: &ProblemKind) -> Option<(Code, String)> {
    Some(match kind {
        ProblemKind::BodyShorterThanContentLength { declared, present } => (
            Code::X601,
            format!("Content-Length says {declared} bytes of body, {present} are present"),
        ),
        ProblemKind::BodyLongerThanContentLength { declared, present } => (
            Code::X601,
            format!("Content-Length says {declared} bytes of body, the datagram carries {present}"),
        ),
        ProblemKind::InvalidContentLength => {
            (Code::X601, "Content-Length is not a number".to_string())
        }
        ProblemKind::ConflictingContentLength => (
            Code::X601,
            "several Content-Length headers disagree".to_string(),
        ),
        ProblemKind::MissingHeaderEnd => (
            Code::X602,
            "no blank line ends the headers: the message is cut short".to_string(),
        ),
        ProblemKind::MalformedHeaderLine => (
            Code::X602,
            "a header line has no colon or no name".to_string(),
        ),
        ProblemKind::StrayBlankLine => (
            Code::X602,
            "a blank line inside the headers (a line ended with LF CR LF); read over, as the phones do".to_string(),
        ),
        ProblemKind::MessageTooLarge { size } => (
            Code::X602,
            format!("a message of {size} bytes passes the 1 MiB limit and was skipped"),
        ),
        _ => return None,
    })
}

/// X602: payloads that look like SIP but could not be read as a message.
pub(crate) fn unparsable(out: &mut Out<'_>, frames: &[FrameRef]) {
    for &frame in frames {
        out.add(
            Code::X602,
            vec![frame],
            "a payload that looks like SIP could not be read as a message".to_string(),
        );
    }
}

/// X603: damage that stopped the reading of an input file (cut short, corrupt, a read
/// error): what the capture held after it is lost to the analysis. `end_ns` is the
/// last frame's time, which the finding's frame reference carries.
pub(crate) fn input_damage<'d>(
    out: &mut Out<'_>,
    damage: impl IntoIterator<Item = &'d Damage>,
    end_ns: i64,
) {
    for d in damage {
        let what = match d.kind {
            DamageKind::TruncatedRecord => "the file is cut short: its last record is incomplete",
            DamageKind::GarbageAfterRecords => "bytes after the last record are not a record",
            DamageKind::CorruptBlock => "a block or record header is corrupt",
            DamageKind::CorruptCompression => "the gzip stream is corrupt or cut short",
            DamageKind::Io => "a read error",
        };
        let frame = FrameRef {
            seq: u64::MAX,
            file: d.file,
            number: d.frame,
            ts_ns: end_ns,
        };
        let detail = if d.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", d.detail)
        };
        out.add(
            Code::X603,
            vec![frame],
            format!(
                "{what} at byte {}{detail}: reading stopped at frame {}, and whatever the capture held after it is not in the analysis",
                d.offset, d.frame
            ),
        );
    }
}
