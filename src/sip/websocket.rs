//! SIP over WebSocket (RFC 7118): the HTTP Upgrade handshake and RFC 6455 framing.
//!
//! Guarantees: nothing here panics on any input. [`frame_handshake`] recognises the
//! opening handshake at the start of a stream direction; [`decode_frames`] turns the
//! bytes that follow into whole WebSocket messages (fragments joined, client masking
//! removed), each of which carries exactly one SIP message (RFC 7118 §5.2). Unmasked
//! single-frame messages are borrowed; only masked or fragmented ones are copied.
//! A frame or message longer than [`MAX_MESSAGE`] is refused as invalid.

use std::borrow::Cow;

use super::scan::trim;

/// Largest WebSocket message accepted; a SIP message is far smaller.
pub const MAX_MESSAGE: u64 = 16 * 1024 * 1024;

/// Longest HTTP handshake waited for before giving up on it.
const MAX_HANDSHAKE: usize = 16 * 1024;

/// What starts a stream direction, as far as the opening handshake goes
/// (RFC 6455 §4.1, §4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeFrame {
    /// Not an HTTP Upgrade to WebSocket.
    NotHandshake,
    /// Looks like one, but the blank line ending it has not arrived.
    NeedMore,
    /// The client's `GET` with `Upgrade: websocket`, this many bytes long.
    Request { len: usize, sip: bool },
    /// The server's `HTTP/1.1 101`, this many bytes long.
    Response { len: usize, sip: bool },
}

/// Recognises the WebSocket opening handshake at the start of `buf`. `sip` says
/// whether `Sec-WebSocket-Protocol` names `sip` (RFC 7118 §4).
pub fn frame_handshake(buf: &[u8]) -> HandshakeFrame {
    let is_request = buf.starts_with(b"GET ");
    let is_response = buf.len() >= 12
        && buf
            .get(..12)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/1.1 101"));
    if !is_request && !is_response {
        // A prefix of either may still grow into one.
        let could_grow =
            !buf.is_empty() && (b"GET ".starts_with(buf) || b"HTTP/1.1 101".starts_with(buf));
        return if could_grow {
            HandshakeFrame::NeedMore
        } else {
            HandshakeFrame::NotHandshake
        };
    }
    let Some(len) = memchr::memmem::find(buf, b"\r\n\r\n").map(|at| at + 4) else {
        return if buf.len() > MAX_HANDSHAKE {
            HandshakeFrame::NotHandshake
        } else {
            HandshakeFrame::NeedMore
        };
    };
    let head = buf.get(..len).unwrap_or_default();
    let mut upgrade = false;
    let mut sip = false;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = trim(line.get(..colon).unwrap_or_default());
        let value = trim(line.get(colon + 1..).unwrap_or_default());
        if name.eq_ignore_ascii_case(b"Upgrade") {
            upgrade |= contains_token(value, b"websocket");
        } else if name.eq_ignore_ascii_case(b"Sec-WebSocket-Protocol") {
            sip |= contains_token(value, b"sip");
        }
    }
    match (is_request, upgrade) {
        (true, true) => HandshakeFrame::Request { len, sip },
        (true, false) => HandshakeFrame::NotHandshake,
        // A 101 switches protocols whatever the Upgrade header says.
        (false, _) => HandshakeFrame::Response { len, sip },
    }
}

/// Whether a comma-separated header value lists `token`, case-insensitively.
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

/// A frame opcode (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A frame header (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    /// RSV1: set by permessage-deflate (RFC 7692 §6) when the payload is compressed.
    pub compressed: bool,
    pub opcode: Opcode,
    /// The masking key of client-to-server frames.
    pub mask: Option<[u8; 4]>,
    /// Bytes of header before the payload.
    pub header_len: usize,
    pub payload_len: u64,
}

/// Why the bytes cannot be WebSocket frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// An opcode RFC 6455 §5.2 reserves.
    ReservedOpcode(u8),
    /// A control frame that is fragmented or longer than 125 bytes (RFC 6455 §5.5).
    BadControlFrame,
    /// A length over [`MAX_MESSAGE`], or with the top bit set (RFC 6455 §5.2).
    TooLong(u64),
    /// A continuation frame with no message started, or a new message inside one.
    UnexpectedFragment,
}

/// The result of reading one frame header at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameParse {
    Header(FrameHeader),
    NeedMore,
    Invalid(FrameError),
}

/// Reads the frame header at the start of `buf` (RFC 6455 §5.2: 7-, 16- or 64-bit
/// payload length, optional 4-byte masking key).
pub fn parse_frame_header(buf: &[u8]) -> FrameParse {
    let [first, second, rest @ ..] = buf else {
        return FrameParse::NeedMore;
    };
    let fin = first & 0x80 != 0;
    let compressed = first & 0x40 != 0;
    let Some(opcode) = Opcode::from_bits(first & 0x0F) else {
        return FrameParse::Invalid(FrameError::ReservedOpcode(first & 0x0F));
    };
    let masked = second & 0x80 != 0;
    let (payload_len, after_len): (u64, &[u8]) = match second & 0x7F {
        126 => match rest {
            [a, b, after @ ..] => (u64::from(u16::from_be_bytes([*a, *b])), after),
            _ => return FrameParse::NeedMore,
        },
        127 => match rest.split_first_chunk::<8>() {
            Some((bytes, after)) => (u64::from_be_bytes(*bytes), after),
            None => return FrameParse::NeedMore,
        },
        short => (u64::from(short), rest),
    };
    if payload_len > MAX_MESSAGE {
        return FrameParse::Invalid(FrameError::TooLong(payload_len));
    }
    if opcode.is_control() && (!fin || payload_len > 125) {
        return FrameParse::Invalid(FrameError::BadControlFrame);
    }
    let mask = if masked {
        match after_len.first_chunk::<4>() {
            Some(key) => Some(*key),
            None => return FrameParse::NeedMore,
        }
    } else {
        None
    };
    let header_len = buf
        .len()
        .saturating_sub(after_len.len())
        .saturating_add(if masked { 4 } else { 0 });
    FrameParse::Header(FrameHeader {
        fin,
        compressed,
        opcode,
        mask,
        header_len,
        payload_len,
    })
}

/// Appends `payload` to `out` with the masking key removed (RFC 6455 §5.3).
pub fn unmask_into(payload: &[u8], mask: Option<[u8; 4]>, out: &mut Vec<u8>) {
    match mask {
        None => out.extend_from_slice(payload),
        Some(key) => out.extend(
            payload
                .iter()
                .zip(key.iter().cycle())
                .map(|(byte, k)| byte ^ k),
        ),
    }
}

/// What [`decode_frames`] found in a buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Whole text or binary messages, unmasked, in order.
    pub messages: Vec<Cow<'a, [u8]>>,
    /// Bytes the caller may drop: every complete message and control frame. A message
    /// whose last fragment has not arrived is not consumed.
    pub consumed: usize,
    /// Messages skipped because permessage-deflate compressed them.
    pub compressed_skipped: usize,
    /// A Close frame was seen (RFC 6455 §5.5.1); nothing after it is read.
    pub closed: bool,
    /// The frames stopped making sense at `consumed`.
    pub error: Option<FrameError>,
}

/// Decodes the complete frames at the start of `buf`, which must begin at a frame
/// boundary (after the handshake). Fragmented messages are joined (RFC 6455 §5.4);
/// control frames are consumed and dropped.
pub fn decode_frames(buf: &[u8]) -> Decoded<'_> {
    let mut decoded = Decoded::default();
    // The message being assembled from fragments, and whether it is compressed.
    let mut pending: Option<(Vec<u8>, bool)> = None;
    let mut at = 0usize;
    loop {
        let rest = buf.get(at..).unwrap_or_default();
        let header = match parse_frame_header(rest) {
            FrameParse::Header(header) => header,
            FrameParse::NeedMore => break,
            FrameParse::Invalid(error) => {
                decoded.error = Some(error);
                break;
            }
        };
        // payload_len <= MAX_MESSAGE, so it fits in usize on every supported target.
        let Ok(payload_len) = usize::try_from(header.payload_len) else {
            decoded.error = Some(FrameError::TooLong(header.payload_len));
            break;
        };
        let total = header.header_len.saturating_add(payload_len);
        let Some(payload) = rest.get(header.header_len..total) else {
            break;
        };
        at = at.saturating_add(total);
        match header.opcode {
            Opcode::Text | Opcode::Binary => {
                if pending.is_some() {
                    decoded.error = Some(FrameError::UnexpectedFragment);
                    break;
                }
                if !header.fin {
                    let mut message = Vec::with_capacity(payload_len);
                    unmask_into(payload, header.mask, &mut message);
                    pending = Some((message, header.compressed));
                    continue;
                }
                if header.compressed {
                    decoded.compressed_skipped += 1;
                } else if header.mask.is_none() {
                    decoded.messages.push(Cow::Borrowed(payload));
                } else {
                    let mut message = Vec::with_capacity(payload_len);
                    unmask_into(payload, header.mask, &mut message);
                    decoded.messages.push(Cow::Owned(message));
                }
            }
            Opcode::Continuation => {
                let Some((message, compressed)) = pending.as_mut() else {
                    decoded.error = Some(FrameError::UnexpectedFragment);
                    break;
                };
                if (message.len() as u64).saturating_add(header.payload_len) > MAX_MESSAGE {
                    decoded.error = Some(FrameError::TooLong(header.payload_len));
                    break;
                }
                unmask_into(payload, header.mask, message);
                if !header.fin {
                    continue;
                }
                if *compressed {
                    decoded.compressed_skipped += 1;
                } else if let Some((message, _)) = pending.take() {
                    decoded.messages.push(Cow::Owned(message));
                }
                pending = None;
            }
            Opcode::Close => decoded.closed = true,
            Opcode::Ping | Opcode::Pong => {}
        }
        // Only now is everything up to `at` complete.
        if pending.is_none() {
            decoded.consumed = at;
        }
        if decoded.closed {
            break;
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a frame the way RFC 6455 §5.2 lays it out.
    fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        let mask_bit = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(mask_bit | n as u8),
            n if n <= 0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if let Some(key) = mask {
            out.extend_from_slice(&key);
        }
        unmask_into(payload, mask, &mut out);
        out
    }

    const OPTIONS: &[u8] = b"OPTIONS sip:h SIP/2.0\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn handshake_request_and_response() {
        let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n\x81\x00";
        assert_eq!(
            frame_handshake(request),
            HandshakeFrame::Request {
                len: request.len() - 2,
                sip: true
            }
        );
        assert_eq!(frame_handshake(&request[..20]), HandshakeFrame::NeedMore);
        assert_eq!(frame_handshake(b"GE"), HandshakeFrame::NeedMore);
        let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        assert_eq!(
            frame_handshake(response),
            HandshakeFrame::Response {
                len: response.len(),
                sip: false
            }
        );
        assert_eq!(
            frame_handshake(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            HandshakeFrame::NotHandshake
        );
        assert_eq!(frame_handshake(OPTIONS), HandshakeFrame::NotHandshake);
        assert_eq!(frame_handshake(b""), HandshakeFrame::NotHandshake);
    }

    #[test]
    fn frame_lengths_7_16_and_64_bit() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![b'x'; len];
            let bytes = frame(true, 1, Some([1, 2, 3, 4]), &payload);
            let FrameParse::Header(h) = parse_frame_header(&bytes) else {
                panic!("no header for {len}");
            };
            assert_eq!(h.payload_len, len as u64);
            assert_eq!(h.header_len + len, bytes.len());
            let decoded = decode_frames(&bytes);
            assert_eq!(decoded.consumed, bytes.len());
            assert_eq!(decoded.messages, vec![Cow::Owned::<[u8]>(payload)]);
            // Every prefix asks for more, none decodes.
            for cut in [0, 1, 2, h.header_len - 1, bytes.len() - 1] {
                let partial = decode_frames(&bytes[..cut]);
                assert_eq!(
                    (partial.consumed, partial.messages.len(), partial.error),
                    (0, 0, None)
                );
            }
        }
    }

    #[test]
    fn masked_and_unmasked_messages_back_to_back() {
        let mut bytes = frame(true, 1, Some([0xde, 0xad, 0xbe, 0xef]), OPTIONS);
        bytes.extend(frame(true, 9, None, b"ping"));
        bytes.extend(frame(true, 2, None, OPTIONS));
        bytes.extend(frame(true, 1, None, b"partial")[..4].iter());
        let decoded = decode_frames(&bytes);
        assert_eq!(decoded.messages.len(), 2);
        assert!(decoded.messages.iter().all(|m| &**m == OPTIONS));
        assert!(matches!(decoded.messages[1], Cow::Borrowed(_)));
        assert_eq!(decoded.consumed, bytes.len() - 4);
    }

    #[test]
    fn fragments_are_joined_and_not_consumed_until_complete() {
        let (a, b) = OPTIONS.split_at(10);
        let mut bytes = frame(false, 1, Some([9, 8, 7, 6]), a);
        bytes.extend(frame(true, 10, None, b""));
        let first_part = bytes.len();
        bytes.extend(frame(true, 0, Some([1, 1, 1, 1]), b));
        let partial = decode_frames(&bytes[..first_part]);
        assert_eq!((partial.consumed, partial.messages.len()), (0, 0));
        let decoded = decode_frames(&bytes);
        assert_eq!(decoded.messages, vec![Cow::Borrowed(OPTIONS)]);
        assert_eq!(decoded.consumed, bytes.len());
    }

    #[test]
    fn close_compressed_and_invalid_frames() {
        let mut bytes = frame(true, 8, None, b"\x03\xe8");
        bytes.extend(frame(true, 1, None, OPTIONS));
        let decoded = decode_frames(&bytes);
        assert!(decoded.closed);
        assert!(decoded.messages.is_empty());
        let mut compressed = frame(true, 1, None, b"\xf2\x0f");
        compressed[0] |= 0x40;
        assert_eq!(decode_frames(&compressed).compressed_skipped, 1);
        assert_eq!(
            decode_frames(&frame(true, 3, None, b"")).error,
            Some(FrameError::ReservedOpcode(3))
        );
        assert_eq!(
            decode_frames(&frame(false, 9, None, b"")).error,
            Some(FrameError::BadControlFrame)
        );
        assert_eq!(
            decode_frames(&frame(true, 0, None, b"x")).error,
            Some(FrameError::UnexpectedFragment)
        );
        let huge = [0x81, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            decode_frames(&huge).error,
            Some(FrameError::TooLong(_))
        ));
    }

    #[test]
    fn junk_never_panics() {
        let mut state = 0x9e37_79b9_u32;
        let mut junk = [0u8; 300];
        for _ in 0..2000 {
            for byte in junk.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *byte = (state >> 24) as u8;
            }
            let decoded = decode_frames(&junk);
            assert!(decoded.consumed <= junk.len());
            let _ = frame_handshake(&junk);
        }
    }

    /// The public capture of SIP over WebSocket: client and server byte streams,
    /// handshake first, then one SIP message per WebSocket message.
    #[test]
    fn public_capture_websocket_sip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/captures/public/websocket-sip-tcp.pcap"
        );
        let Ok(file) = std::fs::read(path) else {
            eprintln!("skipping: {path} not found");
            return;
        };
        let Ok((_, capture)) = pcap_parser::parse_pcap(&file) else {
            panic!("cannot read {path}");
        };
        // Both directions of the WebSocket connection (port 8080), in capture order.
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        for block in &capture.blocks {
            let Ok(packet) = etherparse::SlicedPacket::from_ethernet(block.data) else {
                continue;
            };
            if let Some(etherparse::TransportSlice::Tcp(tcp)) = packet.transport {
                if tcp.destination_port() == 8080 {
                    to_server.extend_from_slice(tcp.payload());
                } else if tcp.source_port() == 8080 {
                    to_client.extend_from_slice(tcp.payload());
                }
            }
        }
        let mut sip_messages = 0;
        for (stream, client) in [(&to_server, true), (&to_client, false)] {
            let body = match frame_handshake(stream) {
                HandshakeFrame::Request { len, sip } if client => {
                    assert!(sip);
                    &stream[len..]
                }
                HandshakeFrame::Response { len, sip } if !client => {
                    assert!(sip);
                    &stream[len..]
                }
                other => panic!("unexpected handshake {other:?}"),
            };
            let decoded = decode_frames(body);
            assert_eq!(decoded.error, None);
            assert_eq!(decoded.consumed, body.len());
            for message in &decoded.messages {
                let parsed =
                    super::super::Message::parse(message, true).expect("SIP in every message");
                assert!(parsed.call_id().is_some());
                sip_messages += 1;
            }
        }
        // tshark shows 11 SIP messages (INVITE, 407, ACK, INVITE, 100, 180, 183, 200,
        // ACK, BYE, 200) over this WebSocket connection.
        assert_eq!(sip_messages, 11);
    }
}
