//! Cutting payloads into SIP messages (RFC 3261 §18.3).
//!
//! Guarantees: [`frame_stream`] always makes progress (`Skip(n)`, `TooLarge(n)` and
//! `Message(n)` have `n > 0`), never waits for more than [`MAX_MESSAGE`] bytes of one
//! message (a larger one is reported, `TooLarge`, and skipped) and never trusts an
//! absurd Content-Length ([`MAX_CONTENT_LENGTH`]). Neither function allocates.

use super::header::HeaderName;
use super::looks_like_sip;
use super::message::stray_blank_line;
use super::scan::{parse_u64, trim};

/// The largest message read on a stream, headers and body: 1 MiB, as much as the TCP
/// reassembly holds of one direction ([`crate::net::Limits::stream_bytes`]). Real
/// messages stay far below it (a big INVITE is some kilobytes), but gateways have been
/// seen writing tens of kilobytes of headers. A larger message is reported at its frame
/// ([`StreamFrame::TooLarge`]) and skipped.
pub const MAX_MESSAGE: usize = 1 << 20;

/// A header section longer than this without a blank line is not waited for: the
/// message is too large ([`MAX_MESSAGE`]).
pub const MAX_HEADER_SECTION: usize = MAX_MESSAGE;

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
    /// A message starts the buffer but is larger than [`MAX_MESSAGE`]: this many
    /// bytes of it should be skipped, and the message reported.
    TooLarge(usize),
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
            return StreamFrame::TooLarge(resync(buf));
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
    if total > MAX_MESSAGE {
        // Its headers are skipped here; the body, as bytes that start no message.
        return StreamFrame::TooLarge(header_len.max(1));
    }
    if buf.len() >= total {
        StreamFrame::Message(total)
    } else {
        StreamFrame::NeedMore
    }
}

/// The length of the header section including the blank line that ends it: the
/// first LF followed by CRLF or LF (RFC 3261 §7; bare LF tolerated) — passing over a
/// stray `\n\r\n` inside the headers as the parser does ([`stray_blank_line`]).
fn header_section_len(buf: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', buf).find_map(|lf| match buf.get(lf + 1..) {
        Some([b'\n', ..]) => Some(lf + 2),
        Some([b'\r', b'\n', ..]) => {
            let announced = content_length(&buf[..=lf]).is_some_and(|n| n != Some(0))
                || content_type_present(&buf[..=lf]);
            if stray_blank_line(buf, lf + 1, announced) {
                None
            } else {
                Some(lf + 3)
            }
        }
        _ => None,
    })
}

/// Whether a header section has a Content-Type (full name or compact `c`).
fn content_type_present(headers: &[u8]) -> bool {
    headers.split(|&b| b == b'\n').skip(1).any(|line| {
        memchr::memchr(b':', line).is_some_and(|colon| {
            HeaderName::from_bytes(trim(line.get(..colon).unwrap_or_default()))
                == HeaderName::ContentType
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:h SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 4\r\n\r\nbody";
    const OK: &[u8] = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n";

    /// Frames a whole buffer the way a TCP consumer would: messages and skipped bytes.
    fn drain(mut buf: &[u8]) -> (Vec<&[u8]>, usize) {
        let mut messages = Vec::new();
        let mut skipped = 0;
        loop {
            match frame_stream(buf) {
                StreamFrame::Message(n) => {
                    assert!(n > 0);
                    messages.push(&buf[..n]);
                    buf = &buf[n..];
                }
                StreamFrame::Skip(n) | StreamFrame::TooLarge(n) => {
                    assert!(n > 0 && n <= buf.len());
                    skipped += n;
                    buf = &buf[n..];
                }
                StreamFrame::NeedMore => return (messages, skipped),
            }
        }
    }

    #[test]
    fn two_messages_in_one_buffer() {
        let buf = [OPTIONS, OK].concat();
        assert_eq!(frame_stream(&buf), StreamFrame::Message(OPTIONS.len()));
        assert_eq!(drain(&buf), (vec![OPTIONS, OK], 0));
    }

    #[test]
    fn one_message_across_buffers() {
        for cut in 0..OPTIONS.len() {
            let frame = frame_stream(&OPTIONS[..cut]);
            assert_eq!(frame, StreamFrame::NeedMore, "cut at {cut}");
        }
        assert_eq!(frame_stream(OPTIONS), StreamFrame::Message(OPTIONS.len()));
    }

    #[test]
    fn keep_alives_are_skipped() {
        assert_eq!(frame_stream(b"\r\n\r\nOPTIONS"), StreamFrame::Skip(4));
        assert_eq!(frame_stream(b"\r\n"), StreamFrame::Skip(2));
        let buf = [&b"\r\n\r\n"[..], OK, b"\r\n", OK].concat();
        assert_eq!(drain(&buf), (vec![OK, OK], 6));
        assert_eq!(frame_stream(b""), StreamFrame::NeedMore);
    }

    #[test]
    fn junk_is_skipped_up_to_the_next_start_line() {
        let buf = [&b"\x16\x03\x01 binary junk\r\nmore junk\r\n"[..], OPTIONS].concat();
        assert_eq!(
            frame_stream(&buf),
            StreamFrame::Skip(buf.len() - OPTIONS.len())
        );
        // A status line glued to the junk without a line break.
        let buf = [&b"garbage"[..], OK].concat();
        assert_eq!(frame_stream(&buf), StreamFrame::Skip(7));
        // The tail of a message whose start was lost.
        let buf = [&b"rt: 1\r\nContent-Length: 0\r\n\r\n"[..], OK].concat();
        assert_eq!(drain(&buf).0, vec![OK]);
        // Only junk: all of it goes.
        assert_eq!(frame_stream(b"\x80\x60\x00\x01junk"), StreamFrame::Skip(8));
        // An uppercase line that is not a start line.
        assert_eq!(frame_stream(b"HELLO WORLD\r\n"), StreamFrame::Skip(13));
    }

    #[test]
    fn junk_followed_by_a_partial_start_line_keeps_the_partial_line() {
        let buf = b"junk\r\nINVITE sip:bo";
        assert_eq!(frame_stream(buf), StreamFrame::Skip(6));
        assert_eq!(frame_stream(&buf[6..]), StreamFrame::NeedMore);
    }

    #[test]
    fn missing_content_length_means_no_body() {
        let buf = b"BYE sip:a@h SIP/2.0\r\nCall-ID: x\r\n\r\nSIP/2.0 200 OK\r\n\r\n";
        assert_eq!(frame_stream(buf), StreamFrame::Message(35));
        assert_eq!(drain(buf).0.len(), 2);
    }

    #[test]
    fn bare_lf_header_end() {
        let buf = b"BYE sip:a@h SIP/2.0\nl: 2\n\nhiX";
        assert_eq!(frame_stream(buf), StreamFrame::Message(buf.len() - 1));
        let buf = b"BYE sip:a@h SIP/2.0\nl: 2\n\r\nhi";
        assert_eq!(frame_stream(buf), StreamFrame::Message(buf.len()));
    }

    #[test]
    fn bad_or_absurd_content_length_frames_headers_only() {
        let head = b"INFO sip:a@h SIP/2.0\r\nContent-Length: 999999999999\r\n\r\n";
        let buf = [&head[..], b"rest"].concat();
        assert_eq!(frame_stream(&buf), StreamFrame::Message(head.len()));
        let head = b"INFO sip:a@h SIP/2.0\r\nContent-Length: x\r\n\r\n";
        assert_eq!(frame_stream(head), StreamFrame::Message(head.len()));
    }

    #[test]
    fn oversized_header_section_is_resynchronised() {
        let mut buf = b"INVITE sip:a@h SIP/2.0\r\n".to_vec();
        while buf.len() <= MAX_HEADER_SECTION {
            buf.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        match frame_stream(&buf) {
            StreamFrame::TooLarge(n) => assert!(n > 0 && n <= buf.len()),
            other => panic!("expected a message too large, got {other:?}"),
        }
        // Just under the cap it still waits.
        assert_eq!(frame_stream(&buf[..1000]), StreamFrame::NeedMore);
    }

    #[test]
    fn large_messages_are_read_up_to_the_limit() {
        // 100 KiB of headers: one message (it used to be skipped past 64 KiB).
        let mut buf = b"OPTIONS sip:a@h SIP/2.0\r\nCall-ID: big\r\n".to_vec();
        while buf.len() < 100 * 1024 {
            buf.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        buf.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(frame_stream(&buf), StreamFrame::Message(buf.len()));
        // A body that takes the message over the limit.
        let head = b"INFO sip:a@h SIP/2.0\r\nContent-Length: 2000000\r\n\r\n";
        assert_eq!(frame_stream(head), StreamFrame::TooLarge(head.len()));
    }

    #[test]
    fn a_stray_blank_line_inside_the_headers_is_passed_over() {
        let buf = b"REFER sip:a@h SIP/2.0\r\nRecord-Route: <sip:p;lr>\n\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(frame_stream(buf), StreamFrame::Message(buf.len()));
        // Not when a body was announced before it.
        let head = b"INFO sip:a@h SIP/2.0\r\nContent-Type: text/plain\n\r\n";
        let buf = [&head[..], b"Call-ID: x\r\n\r\n"].concat();
        assert_eq!(frame_stream(&buf), StreamFrame::Message(head.len()));
    }

    #[test]
    fn datagrams() {
        assert_eq!(datagram_message(b"\r\n\r\n"), None);
        assert_eq!(datagram_message(b""), None);
        assert_eq!(datagram_message(b"\r\nOPTIONS"), Some(&b"OPTIONS"[..]));
        assert_eq!(datagram_message(OK), Some(OK));
    }

    #[test]
    fn every_prefix_frames_without_panic() {
        let buf = [
            &b"\r\nxx\r\n"[..],
            OPTIONS,
            b"\n\n",
            OK,
            b"\x80\x00\r\n",
            OPTIONS,
        ]
        .concat();
        for end in 0..=buf.len() {
            let _ = drain(&buf[..end]);
        }
        let (messages, _) = drain(&buf);
        assert_eq!(messages, vec![OPTIONS, OK, OPTIONS]);
        // Junk glued to the front of a request line (no line break) loses that
        // request: resynchronisation looks for start lines at line starts only.
        let buf = [&b"xx"[..], OPTIONS, OK].concat();
        assert_eq!(drain(&buf).0, vec![OK]);
    }

    /// Concatenates the TCP payloads of a legacy Ethernet pcap per direction (keyed by
    /// ports), dropping retransmitted segments by sequence number. Enough for these
    /// clean public captures; the real reassembly lives in `net`.
    fn tcp_directions(path: &str) -> Option<Vec<Vec<u8>>> {
        let file = std::fs::read(path).ok()?;
        let (_, capture) = pcap_parser::parse_pcap(&file).ok()?;
        let mut directions: std::collections::BTreeMap<(u16, u16), (u32, Vec<u8>)> =
            Default::default();
        for block in &capture.blocks {
            let Ok(packet) = etherparse::SlicedPacket::from_ethernet(block.data) else {
                continue;
            };
            let Some(etherparse::TransportSlice::Tcp(tcp)) = packet.transport else {
                continue;
            };
            let key = (tcp.source_port(), tcp.destination_port());
            let seq = tcp.sequence_number();
            let entry = directions.entry(key).or_insert((seq, Vec::new()));
            if tcp.syn() {
                entry.0 = seq.wrapping_add(1);
                continue;
            }
            if tcp.payload().is_empty() || seq != entry.0 {
                continue;
            }
            entry.0 = seq.wrapping_add(tcp.payload().len() as u32);
            entry.1.extend_from_slice(tcp.payload());
        }
        Some(directions.into_values().map(|(_, bytes)| bytes).collect())
    }

    #[test]
    fn public_captures_sip_over_tcp() {
        // (file, SIP messages tshark counts over TCP)
        let cases = [
            (
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../shared/captures/public/tcp-sip-split-segments-port6060.pcap"
                ),
                406,
            ),
            (
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../shared/captures/public/tcp-sip-invite-over-3-segments.pcap"
                ),
                6,
            ),
        ];
        for (path, expected) in cases {
            let name = path.rsplit('/').next().unwrap_or(path);
            let Some(directions) = tcp_directions(path) else {
                eprintln!("skipping: {path} not readable");
                continue;
            };
            let mut count = 0;
            for stream in &directions {
                let (messages, skipped) = drain(stream);
                assert_eq!(skipped, 0, "{name}");
                for message in messages {
                    let parsed = super::super::Message::parse(message, true).unwrap();
                    assert!(parsed.call_id().is_some(), "{name}");
                    assert!(
                        parsed.problems().is_empty(),
                        "{name}: {:?}",
                        parsed.problems()
                    );
                    count += 1;
                }
            }
            assert_eq!(count, expected, "{name}");
        }
    }
}
