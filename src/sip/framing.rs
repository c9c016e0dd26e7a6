//! Cutting payloads into SIP messages (RFC 3261 §18.3).
//!
//! Guarantees: [`frame_stream`] always makes progress (`Skip(n)` has `n > 0`,
//! `Message(n)` has `n > 0`), never asks for more than a bounded header section
//! ([`MAX_HEADER_SECTION`]) and never trusts an absurd Content-Length
//! ([`MAX_CONTENT_LENGTH`]). Neither function allocates.

use super::header::HeaderName;
use super::looks_like_sip;
use super::scan::{parse_u64, trim};

/// A header section longer than this without a blank line is not waited for: the
/// stream resynchronises past it.
pub const MAX_HEADER_SECTION: usize = 64 * 1024;

/// A Content-Length above this is taken as malformed: only the headers are framed.
pub const MAX_CONTENT_LENGTH: u64 = 16 * 1024 * 1024;

/// A start line longer than this is not a start line.
const MAX_START_LINE: usize = 8 * 1024;

/// The result of looking for a message at the start of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFrame {
    /// A whole message of this many bytes starts the buffer.
    Message(usize),
    /// The message has started but is not complete yet.
    NeedMore,
    /// This many bytes are not SIP (keep-alive CRLFs, junk) and should be skipped.
    Skip(usize),
}

/// Looks for one message at the start of `buf` from a stream transport: headers up to
/// the blank line, then Content-Length bytes of body.
///
/// Leading CRLFs are keep-alives (RFC 5626 §3.5.1) and are skipped. Bytes that do not
/// start a message are skipped up to the next plausible start line. A missing
/// Content-Length counts as 0 (the parser records it); a non-numeric or absurd one
/// frames the headers alone.
pub fn frame_stream(buf: &[u8]) -> StreamFrame {
    let Some(&first) = buf.first() else {
        return StreamFrame::NeedMore;
    };
    if first == b'\r' || first == b'\n' {
        let keep_alive = buf
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(buf.len());
        return StreamFrame::Skip(keep_alive);
    }
    match memchr::memchr(b'\n', buf) {
        None => {
            // The start line is not complete yet: wait while it may still become one.
            if buf.len() <= MAX_START_LINE && first.is_ascii_uppercase() {
                return StreamFrame::NeedMore;
            }
            return StreamFrame::Skip(resync(buf));
        }
        Some(_) if !looks_like_sip(buf) => return StreamFrame::Skip(resync(buf)),
        Some(_) => {}
    }
    let Some(header_len) = header_section_len(buf) else {
        if buf.len() > MAX_HEADER_SECTION {
            return StreamFrame::Skip(resync(buf));
        }
        return StreamFrame::NeedMore;
    };
    let headers = buf.get(..header_len).unwrap_or(buf);
    let body_len = match content_length(headers) {
        Some(Some(n)) if n <= MAX_CONTENT_LENGTH => n as usize,
        // Not a number, or absurd: frame the headers alone.
        Some(_) => 0,
        None => 0,
    };
    let total = header_len.saturating_add(body_len);
    if buf.len() >= total {
        StreamFrame::Message(total)
    } else {
        StreamFrame::NeedMore
    }
}

/// The length of the header section including the blank line that ends it: the
/// first LF followed by CRLF or LF (RFC 3261 §7; bare LF tolerated).
fn header_section_len(buf: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', buf).find_map(|lf| match buf.get(lf + 1..) {
        Some([b'\n', ..]) => Some(lf + 2),
        Some([b'\r', b'\n', ..]) => Some(lf + 3),
        _ => None,
    })
}

/// The first Content-Length (full name or compact `l`) in a header section:
/// `Some(None)` when present but not a number, `None` when absent.
fn content_length(headers: &[u8]) -> Option<Option<u64>> {
    headers.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let colon = memchr::memchr(b':', line)?;
        let name = trim(line.get(..colon)?);
        (HeaderName::from_bytes(name) == HeaderName::ContentLength)
            .then(|| parse_u64(trim(line.get(colon + 1..).unwrap_or_default())))
    })
}

/// How many bytes to skip from a buffer that does not start with a message: up to the
/// next `SIP/2.0 ` status line or the next line that looks like a start line. When
/// none is found, a trailing line that may be a start line still arriving is kept.
/// Always at least 1.
fn resync(buf: &[u8]) -> usize {
    let after_first = buf.get(1..).unwrap_or_default();
    let status = memchr::memmem::find_iter(after_first, b"SIP/2.0 ")
        .map(|at| at + 1)
        .find(|&at| buf.get(at..).is_some_and(looks_like_sip));
    let request = memchr::memchr_iter(b'\n', buf)
        .map(|lf| lf + 1)
        .take_while(|&at| status.is_none_or(|s| at < s))
        .find(|&at| buf.get(at..).is_some_and(looks_like_sip));
    if let Some(at) = match (status, request) {
        (Some(s), Some(r)) => Some(s.min(r)),
        (s, r) => s.or(r),
    } {
        return at.max(1);
    }
    // Keep an incomplete last line that starts like a method or status line.
    match memchr::memrchr(b'\n', buf) {
        Some(lf)
            if buf.len().saturating_sub(lf + 1) <= MAX_START_LINE
                && buf.get(lf + 1).is_some_and(u8::is_ascii_uppercase) =>
        {
            (lf + 1).max(1)
        }
        _ => buf.len().max(1),
    }
}

/// The message in a datagram, CRLF keep-alives (RFC 5626 §4.4.1) stripped; `None` when
/// nothing is left.
pub fn datagram_message(payload: &[u8]) -> Option<&[u8]> {
    let start = payload.iter().position(|&b| b != b'\r' && b != b'\n')?;
    payload.get(start..)
}
