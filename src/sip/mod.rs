//! Bytes in, SIP messages out: detection, framing and a lenient zero-copy parser.
//!
//! Guarantees:
//! - [`looks_like_sip`] decides from the first bytes, cheaply, whether a payload can be
//!   SIP; it is the filter every UDP datagram goes through, so it must stay fast.
//! - [`framing`] cuts datagrams (one message each, CRLF keep-alives skipped) and streams
//!   (Content-Length framing, several messages per segment or one across segments).
//! - [`Message::parse`] borrows the bytes and never panics. It is lenient: full and
//!   compact header names, any case, whitespace around the colon, folded lines, bare
//!   LF, non-UTF-8 bytes, unknown methods, a missing reason phrase. It keeps every
//!   message it can frame and records what it found wrong as [`Problem`]s.
//! - Typed accessors decode, on demand, the headers that dialogs and transfers need.

pub mod framing;
pub mod header;
pub mod message;
mod scan;
pub mod sdp;
pub mod sipfrag;
pub mod uri;

pub use header::{
    CSeq, Event, HeaderName, NameAddr, Replaces, SubscriptionState, TargetDialog, Via,
};
pub use message::{Message, Method, ParseError, Problem, ProblemKind, StartLine};
pub use sipfrag::Sipfrag;
pub use uri::Uri;

/// Whether `payload` can be a SIP message: a request line (`METHOD SP ... SIP/2.0`) or
/// a status line (`SIP/2.0 SP 3DIGIT`), after optional leading CRLFs.
///
/// Cost: the first byte rejects RTP/RTCP (0x80..=0xBF) and most binary at once; a
/// candidate request costs one `memchr` over its first line.
pub fn looks_like_sip(payload: &[u8]) -> bool {
    let start = payload
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(payload.len());
    let Some(rest) = payload.get(start..) else {
        return false;
    };
    // Both a status line (`SIP/`) and every method begin with an uppercase letter.
    if !rest.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    if let Some(after) = rest.strip_prefix(b"SIP/2.0 ") {
        return after.first().is_some_and(u8::is_ascii_digit);
    }
    looks_like_request_line(rest)
}

/// Longest method name accepted by the detector; real ones are at most 9 letters.
const MAX_METHOD_LEN: usize = 20;

/// `METHOD SP uri-with-colon SP ... SIP/2.0` on the first line (RFC 3261 §7.1).
fn looks_like_request_line(bytes: &[u8]) -> bool {
    let method_len = bytes
        .iter()
        .take(MAX_METHOD_LEN + 1)
        .position(|&b| !b.is_ascii_uppercase())
        .unwrap_or(bytes.len().min(MAX_METHOD_LEN + 1));
    if method_len == 0 || method_len > MAX_METHOD_LEN || bytes.get(method_len) != Some(&b' ') {
        return false;
    }
    let after_method = bytes.get(method_len + 1..).unwrap_or_default();
    let line_end = memchr::memchr(b'\n', after_method).unwrap_or(after_method.len());
    let line = after_method.get(..line_end).unwrap_or_default();
    let line = scan::trim_end(line);
    let uri_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let uri = line.get(..uri_end).unwrap_or_default();
    memchr::memchr(b':', uri).is_some() && uri_end < line.len() && line.ends_with(b" SIP/2.0")
}
