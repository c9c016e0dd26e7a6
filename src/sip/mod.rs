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
//! - [`websocket`] recognises the HTTP Upgrade handshake and unwraps RFC 6455 frames,
//!   so SIP over WebSocket (RFC 7118) reaches the same parser: one SIP message per
//!   WebSocket message, parsed like a datagram.
//! - [`stage`] is the net stage's sink: it frames the payloads of datagrams and TCP
//!   directions (plain or WebSocket) and hands each message found to a
//!   [`stage::MessageSink`]. This module imports only `capture` and `net`; nothing
//!   here knows dialogs, transfers or the analysis.

pub mod framing;
pub mod header;
pub mod message;
mod scan;
pub mod sdp;
pub mod sipfrag;
pub mod stage;
pub mod uri;
pub mod websocket;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_requests_and_responses() {
        assert!(looks_like_sip(b"INVITE sip:bob@h SIP/2.0\r\n"));
        assert!(looks_like_sip(b"SIP/2.0 200 OK\r\n"));
        assert!(looks_like_sip(b"SIP/2.0 100"));
        assert!(looks_like_sip(
            b"\r\n\r\nBYE sips:a@[::1]:5061;transport=tls SIP/2.0\r\n"
        ));
        assert!(looks_like_sip(b"NEWMETHOD tel:+1234 SIP/2.0\n"));
        assert!(looks_like_sip(b"OPTIONS sip:h SIP/2.0"));
        assert!(looks_like_sip(b"REFER sip:a@h SIP/2.0  \r\n"));
    }

    #[test]
    fn rejects_other_protocols_and_junk() {
        assert!(!looks_like_sip(b""));
        assert!(!looks_like_sip(b"\r\n\r\n"));
        assert!(!looks_like_sip(b"HTTP/1.1 200 OK\r\n"));
        assert!(!looks_like_sip(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_sip(b"GET http://x/ HTTP/1.1\r\n"));
        assert!(!looks_like_sip(b"SIP/2.0 OK\r\n"));
        assert!(!looks_like_sip(b"invite sip:a@h SIP/2.0\r\n"));
        assert!(!looks_like_sip(b"INVITE bob SIP/2.0\r\n"));
        assert!(!looks_like_sip(b"INVITE sip:bob@h\r\n"));
        assert!(!looks_like_sip(b"INVITE sip:bob@h SIP/2.0 trailing\r\n"));
        assert!(!looks_like_sip(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ sip:a SIP/2.0\r\n"
        ));
        assert!(!looks_like_sip(b"INVITE"));
    }

    #[test]
    fn rejects_rtp_and_binary_junk() {
        // An RTP header: version 2 sets the top bits of the first byte (RFC 3550 §5.1).
        let rtp = [
            0x80u8, 0x00, 0x12, 0x34, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef,
        ];
        assert!(!looks_like_sip(&rtp));
        // A cheap deterministic byte generator: no payload of it may pass.
        let mut state = 0x2545_f491_u32;
        let mut junk = [0u8; 64];
        for _ in 0..2000 {
            for byte in junk.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *byte = (state >> 24) as u8;
            }
            assert!(!looks_like_sip(&junk), "{junk:?}");
            for first in 0x80..=0xBFu8 {
                junk[0] = first;
                assert!(!looks_like_sip(&junk));
            }
        }
    }

    /// Messages in the spirit of RFC 4475 (written for this crate): every one must
    /// parse or be refused without a panic, and every accessor must be safe on it.
    const TORTURE: &[&[u8]] = &[
        // Wide range of valid but odd constructs: escaped quotes, compact forms,
        // tabs, case, folding, unknown headers and parameters.
        b"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n\
TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n\
from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n\
MaX-fOrWaRdS: 0068\r\n\
Call-ID: wsinv.ndaksdj@192.0.2.1\r\n\
Content-Length   : 150\r\n\
cseq: 0009\r\n  INVITE\r\n\
Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw\r\n\
s :\r\n\
NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n\
UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n\
Content-Type: application/sdp\r\n\
Route:\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n\
v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n\
m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33\r\n\r\n\
v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n",
        // Escaped characters in URIs and an empty user part.
        b"INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\nTo: sip:%61lice@example.com\r\nFrom: <sip:@example.com>;tag=x\r\nCall-ID: esc01\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK\r\nl: 0\r\n\r\n",
        // Non-UTF-8 bytes in the display name, reason phrase and body.
        b"SIP/2.0 200 \xc3\x28\xff OK\r\nFrom: \"\xff\xfe\" <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: \xe2\x82\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 3\r\n\r\n\x00\xff\x80",
        // Huge numbers everywhere.
        b"INVITE sip:a@h:99999999999 SIP/2.0\r\nCSeq: 99999999999999999999 INVITE\r\nContent-Length: 18446744073709551616\r\nMax-Forwards: 999999999999\r\nSubscription-State: active;expires=99999999999999\r\nVia: SIP/2.0/UDP h:999999;branch=x\r\n\r\n",
        // Unterminated quotes and brackets.
        b"REFER sip:a@h SIP/2.0\r\nFrom: \"unterminated <sip:a@h>;tag=1\r\nTo: <sip:b@h;tag=2\r\nRefer-To: <sip:c@h?Replaces=%\r\nReferred-By: \"\r\nVia: SIP/2.0/UDP \"h, SIP/2.0/UDP x\r\n\r\n",
        // Empty values and separators only.
        b"NOTIFY sip:a@h SIP/2.0\r\nFrom:\r\nTo: <>\r\nCall-ID:\r\nCSeq:\r\nVia: ,,,\r\nEvent: ;\r\nSubscription-State: ;;;\r\nTarget-Dialog: ;\r\nRefer-To: ,\r\nReplaces: ;;\r\nRefer-Sub:\r\nContent-Type:\r\n\r\n",
        // IPv6 in every place, with and without brackets.
        b"INVITE sip:[2001:db8::10]:5070 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3;received=[2001:db8::9:255]\r\nContact: <sip:2001:db8::10>\r\nTo: sip:user@[2001:db8::10\r\n\r\n",
        // Mixed line endings and a lone CR.
        b"OPTIONS sip:h SIP/2.0\nVia: SIP/2.0/UDP h\r\nCall-ID: x\rstill\nCSeq: 1 OPTIONS\n\r\n",
        // Only a start line, a response with an unknown code, a request with extra
        // spaces everywhere.
        b"SIP/2.0 999 Weird\r\n",
        b"INVITE  sip:a@h  SIP/2.0\r\n\r\n",
        // Header names with spaces and a colon-only line.
        b"BYE sip:a@h SIP/2.0\r\nCall ID: x\r\n:\r\n \r\n\t\r\n\r\n",
    ];

    /// Runs every entry point and accessor over `raw`; returns whether it parsed.
    fn exercise(raw: &[u8]) -> bool {
        let _ = looks_like_sip(raw);
        let _ = framing::frame_stream(raw);
        let _ = framing::datagram_message(raw);
        let _ = websocket::decode_frames(raw);
        let mut parsed = false;
        for stream in [false, true] {
            let Ok(m) = Message::parse(raw, stream) else {
                continue;
            };
            parsed = true;
            let _ = (
                m.call_id(),
                m.from(),
                m.to(),
                m.cseq(),
                m.vias(),
                m.contact(),
            );
            let _ = (
                m.content_type(),
                m.content_length(),
                m.refer_to(),
                m.referred_by(),
            );
            let _ = (
                m.replaces(),
                m.event(),
                m.subscription_state(),
                m.refer_sub(),
            );
            let _ = (
                m.target_dialog(),
                m.requires("x"),
                m.supports("x"),
                m.user_agent(),
            );
            let _ = (
                m.request_uri(),
                sdp::direction(m.body()),
                Sipfrag::parse(m.body()),
            );
            for na in m
                .refer_to()
                .iter()
                .chain(m.from().iter())
                .chain(m.contact().iter())
            {
                let _ = (na.tag(), na.parsed_uri(), na.replaces());
            }
            assert!(m.problems().iter().all(|p| p.offset <= raw.len()));
            assert!(m.body().len() <= raw.len());
        }
        parsed
    }

    #[test]
    fn torture_messages_never_panic() {
        for raw in TORTURE {
            exercise(raw);
        }
    }

    /// A small in-tree mutation fuzzer (no cargo-fuzz needed): random byte flips,
    /// insertions of SIP-significant bytes, deletions and cuts of the torture
    /// messages, all through every entry point.
    #[test]
    fn mutated_torture_messages_never_panic() {
        const SIGNIFICANT: &[u8] = b"\r\n \t:;,<>\"\\@?=%[]/\x00\xff";
        let mut state = 0x1234_5678_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize
        };
        let mut parsed = 0;
        for round in 0..3000 {
            let mut raw = TORTURE[round % TORTURE.len()].to_vec();
            for _ in 0..1 + next() % 8 {
                if raw.is_empty() {
                    break;
                }
                let at = next() % raw.len();
                match next() % 4 {
                    0 => raw[at] ^= 1 << (next() % 8),
                    1 => raw.insert(at, SIGNIFICANT[next() % SIGNIFICANT.len()]),
                    2 => {
                        raw.remove(at);
                    }
                    _ => raw.truncate(at),
                }
            }
            parsed += usize::from(exercise(&raw));
        }
        // Most mutants still parse: the parser is lenient, not brittle.
        assert!(parsed > 1000, "{parsed}");
    }

    #[test]
    fn torture_wide_range_message_reads_correctly() {
        let m = Message::parse(TORTURE[0], false).unwrap();
        assert_eq!(m.call_id(), Some(&b"wsinv.ndaksdj@192.0.2.1"[..]));
        assert_eq!(m.to().unwrap().tag(), Some(&b"1918181833n"[..]));
        assert_eq!(m.from().unwrap().tag(), Some(&b"98asjd8"[..]));
        assert_eq!(
            m.cseq(),
            Some(CSeq {
                seq: 9,
                method: Method::Invite
            })
        );
        let vias = m.vias();
        let hosts: Vec<&[u8]> = vias.iter().map(|v| v.host).collect();
        assert_eq!(
            hosts,
            vec![
                &b"192.0.2.2"[..],
                b"spindle.example.com",
                b"192.168.255.111"
            ]
        );
        assert_eq!(vias[0].rport, Some(&b""[..]));
        assert_eq!(vias[2].branch, Some(&b"z9hG4bK30239"[..]));
        let contact = m.contact().unwrap();
        assert_eq!(contact.uri, b"sip:jdrosen@example.com");
        assert_eq!(contact.param("newparam"), Some(Some(&b"newvalue"[..])));
        assert_eq!(contact.param("q"), Some(Some(&b"0.33"[..])));
        assert_eq!(m.content_length(), Some(150));
        assert_eq!(m.body().len(), 150);
        assert_eq!(sdp::direction(m.body()), Some(sdp::Direction::SendRecv));
    }

    /// The attended transfer through OpenSIPS (Linux cooked capture, UDP): every
    /// datagram tshark calls SIP is detected and parsed, and the transfer headers
    /// decode as tshark shows them (the counts asserted below are tshark's: 97 SIP
    /// messages, 2 REFERs with Replaces, ...).
    #[test]
    fn public_capture_attended_transfer() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/captures/public/xfer-attended-opensips-3cx-sll.pcap"
        );
        let Ok(file) = std::fs::read(path) else {
            eprintln!("skipping: {path} not found");
            return;
        };
        let Ok((_, capture)) = pcap_parser::parse_pcap(&file) else {
            panic!("cannot read {path}");
        };
        let (mut messages, mut refers_with_replaces, mut referred_by) = (0, 0, 0);
        let (mut invites_with_replaces, mut sipfrag_200) = (0, 0);
        for block in &capture.blocks {
            let Ok(packet) = etherparse::SlicedPacket::from_linux_sll(block.data) else {
                continue;
            };
            let Some(etherparse::TransportSlice::Udp(udp)) = packet.transport else {
                continue;
            };
            let payload = udp.payload();
            if !looks_like_sip(payload) {
                continue;
            }
            let raw = framing::datagram_message(payload).expect("a message");
            let m = Message::parse(raw, false).expect("parses");
            messages += 1;
            assert!(m.call_id().is_some() && m.cseq().is_some() && !m.vias().is_empty());
            if m.method() == Some(Method::Refer) {
                let refer_to = m.refer_to();
                assert_eq!(refer_to.len(), 1);
                let replaces = refer_to[0].replaces().expect("attended transfer");
                assert!(replaces.call_id.is_some() && replaces.to_tag.is_some());
                assert!(replaces.from_tag.is_some());
                refers_with_replaces += 1;
            }
            referred_by += usize::from(m.referred_by().is_some());
            if m.method() == Some(Method::Invite) && !m.replaces().is_empty() {
                invites_with_replaces += 1;
            }
            if m.method() == Some(Method::Notify) {
                let event = m.event().expect("Event");
                assert_eq!(event.package, b"refer");
                assert!(event.id.is_some());
                if Sipfrag::parse(m.body()).and_then(|f| f.status) == Some(200) {
                    sipfrag_200 += 1;
                }
            }
        }
        assert_eq!(messages, 97);
        assert_eq!(refers_with_replaces, 2);
        assert_eq!(referred_by, 2);
        assert_eq!(invites_with_replaces, 3);
        assert_eq!(sipfrag_200, 2);
    }
}
