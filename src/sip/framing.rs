//! Cutting payloads into SIP messages (RFC 3261 §18.3).

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
pub fn frame_stream(buf: &[u8]) -> StreamFrame {
    let _ = buf;
    StreamFrame::NeedMore
}

/// The message in a datagram, CRLF keep-alives (RFC 5626 §4.4.1) stripped; `None` when
/// nothing is left.
pub fn datagram_message(payload: &[u8]) -> Option<&[u8]> {
    let _ = payload;
    None
}
