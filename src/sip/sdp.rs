//! The little of SDP (RFC 4566) that call state needs: media direction, for hold and
//! resume (RFC 3264 §8.4).
//!
//! Guarantees: one pass over the lines, no allocation, never panics; CRLF or bare LF.

use super::scan::trim;

/// Where each media stream of an SDP body is received: the connection address that
/// applies to each `m=` line (its own `c=`, else the session's) with the line's port;
/// streams with port 0 (refused) or no usable address are left out. RTCP goes to the
/// next port up unless `a=rtcp:` says otherwise (RFC 3605); the caller adds it.
pub fn media_endpoints(body: &[u8]) -> Vec<std::net::SocketAddr> {
    let mut session: Option<std::net::IpAddr> = None;
    // Each m= line's port and its own connection address, if any.
    let mut media: Vec<(u16, Option<std::net::IpAddr>)> = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        let line = trim(line);
        match line {
            [b'm', b'=', rest @ ..] => {
                let port = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|r| r.split_whitespace().nth(1))
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse::<u16>().ok())
                    .unwrap_or(0);
                media.push((port, None));
            }
            [b'c', b'=', rest @ ..] => {
                let address = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|r| r.split_whitespace().nth(2))
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.parse::<std::net::IpAddr>().ok());
                match media.last_mut() {
                    Some(last) => last.1 = address,
                    None => session = address,
                }
            }
            _ => {}
        }
    }
    media
        .into_iter()
        .filter(|(port, _)| *port != 0)
        .filter_map(|(port, own)| {
            let address = own.or(session)?;
            (!address.is_unspecified()).then_some(std::net::SocketAddr::new(address, port))
        })
        .collect()
}

/// The session an SDP body belongs to, from its `o=` line (RFC 4566 §5.2): username,
/// session id and unicast address, which a B2BUA that passes SDP through leaves as
/// they are (the version moves on; it is left out). `None` without an `o=` line.
pub fn origin(body: &[u8]) -> Option<String> {
    let line = body
        .split(|&b| b == b'\n')
        .map(trim)
        .find(|l| l.starts_with(b"o="))?;
    let text = String::from_utf8_lossy(line.get(2..)?);
    let f: Vec<&str> = text.split_whitespace().collect();
    match f.as_slice() {
        [user, id, _version, _net, _kind, address, ..] => Some(format!("{user} {id} {address}")),
        _ => None,
    }
}

/// Direction of the media offered or answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// The direction of the first audio stream: `a=sendonly/recvonly/inactive` at media or
/// session level, or `c=0.0.0.0` (RFC 2543 style hold). `None` when the body is not SDP.
///
/// The media-level attribute wins over the session-level one (RFC 4566 §6); with
/// neither, the stream is `sendrecv`. When the connection address that applies to
/// the first audio stream (its own `c=`, else the session's) is `0.0.0.0`, the peer
/// has no address to send to, so the receive half is removed: `sendrecv` becomes
/// `sendonly` and `recvonly` becomes `inactive` (RFC 3264 §8.4 describes this older
/// way of putting a call on hold). Without an audio `m=` line the session level
/// decides.
pub fn direction(body: &[u8]) -> Option<Direction> {
    let mut is_sdp = false;
    let mut session = Level::default();
    let mut audio = Level::default();
    // Which section the current line belongs to.
    #[derive(PartialEq)]
    enum Section {
        Session,
        FirstAudio,
        OtherMedia,
    }
    let mut section = Section::Session;
    let mut audio_seen = false;
    for line in body.split(|&b| b == b'\n') {
        let line = trim(line);
        match line {
            [b'v', b'=', ..] => is_sdp = true,
            [b'm', b'=', media @ ..] => {
                if section == Section::FirstAudio {
                    break;
                }
                if !audio_seen && media.starts_with(b"audio") {
                    audio_seen = true;
                    section = Section::FirstAudio;
                } else {
                    section = Section::OtherMedia;
                }
            }
            [b'c', b'=', connection @ ..] => {
                let level = match section {
                    Section::Session => &mut session,
                    Section::FirstAudio => &mut audio,
                    Section::OtherMedia => continue,
                };
                level.zero_connection = Some(is_zero_address(connection));
            }
            [b'a', b'=', attribute @ ..] => {
                let level = match section {
                    Section::Session => &mut session,
                    Section::FirstAudio => &mut audio,
                    Section::OtherMedia => continue,
                };
                if let Some(direction) = direction_attribute(attribute) {
                    level.direction = Some(direction);
                }
            }
            _ => {}
        }
    }
    if !is_sdp {
        return None;
    }
    let direction = audio
        .direction
        .or(session.direction)
        .unwrap_or(Direction::SendRecv);
    let zero = audio
        .zero_connection
        .or(session.zero_connection)
        .unwrap_or(false);
    Some(if zero {
        match direction {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
        }
    } else {
        direction
    })
}

/// What one level (session or media) of the description says.
#[derive(Default)]
struct Level {
    direction: Option<Direction>,
    /// `Some(true)` when its `c=` line carries 0.0.0.0.
    zero_connection: Option<bool>,
}

/// RFC 3264 §5.1 direction attributes.
fn direction_attribute(attribute: &[u8]) -> Option<Direction> {
    match attribute {
        b"sendrecv" => Some(Direction::SendRecv),
        b"sendonly" => Some(Direction::SendOnly),
        b"recvonly" => Some(Direction::RecvOnly),
        b"inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

/// `IN IP4 0.0.0.0` (a `/ttl` suffix allowed).
fn is_zero_address(connection: &[u8]) -> bool {
    connection
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .nth(2)
        .is_some_and(|address| address.split(|&b| b == b'/').next() == Some(b"0.0.0.0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_endpoints_take_the_address_that_applies_to_each_stream() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP6 ::1\r\n";
        let found = media_endpoints(sdp);
        assert_eq!(
            found,
            vec![
                "10.0.0.1:4000".parse().expect("addr"),
                "[::1]:5000".parse().expect("addr")
            ]
        );
        assert!(
            media_endpoints(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n").is_empty()
        );
        assert!(media_endpoints(b"SIP/2.0 200 OK").is_empty());
    }

    fn sdp(lines: &[&str]) -> Vec<u8> {
        let mut text = String::new();
        for line in lines {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.into_bytes()
    }

    const HEAD: [&str; 4] = ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"];

    fn with(extra: &[&str]) -> Vec<u8> {
        let mut lines = HEAD.to_vec();
        lines.extend_from_slice(extra);
        sdp(&lines)
    }

    #[test]
    fn default_is_sendrecv() {
        let body = with(&["c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0"]);
        assert_eq!(direction(&body), Some(Direction::SendRecv));
    }

    #[test]
    fn media_level_attribute_wins_over_session_level() {
        let body = with(&[
            "a=sendonly",
            "c=IN IP4 192.0.2.1",
            "m=audio 4000 RTP/AVP 0",
            "a=recvonly",
        ]);
        assert_eq!(direction(&body), Some(Direction::RecvOnly));
        let body = with(&[
            "a=inactive",
            "m=audio 4000 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
        ]);
        assert_eq!(direction(&body), Some(Direction::Inactive));
    }

    #[test]
    fn only_the_first_audio_stream_counts() {
        let body = with(&[
            "c=IN IP4 192.0.2.1",
            "m=video 5000 RTP/AVP 96",
            "a=inactive",
            "m=audio 4000 RTP/AVP 0",
            "a=sendonly",
            "m=audio 4002 RTP/AVP 0",
            "a=recvonly",
        ]);
        assert_eq!(direction(&body), Some(Direction::SendOnly));
    }

    #[test]
    fn zero_connection_address_removes_the_receive_half() {
        // RFC 2543 hold at session level.
        let body = with(&["c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0"]);
        assert_eq!(direction(&body), Some(Direction::SendOnly));
        // At media level, combined with recvonly.
        let body = with(&[
            "c=IN IP4 192.0.2.1",
            "m=audio 4000 RTP/AVP 0",
            "c=IN IP4 0.0.0.0/127",
            "a=recvonly",
        ]);
        assert_eq!(direction(&body), Some(Direction::Inactive));
        // A media-level address overrides a zero session-level one.
        let body = with(&[
            "c=IN IP4 0.0.0.0",
            "m=audio 4000 RTP/AVP 0",
            "c=IN IP4 192.0.2.9",
        ]);
        assert_eq!(direction(&body), Some(Direction::SendRecv));
    }

    #[test]
    fn session_level_without_audio_and_bare_lf() {
        assert_eq!(
            direction(b"v=0\na=recvonly\nm=video 1 RTP/AVP 96\n"),
            Some(Direction::RecvOnly)
        );
        assert_eq!(direction(b"v=0\n"), Some(Direction::SendRecv));
    }

    #[test]
    fn not_sdp() {
        assert_eq!(direction(b""), None);
        assert_eq!(direction(b"SIP/2.0 200 OK\r\n"), None);
        assert_eq!(direction(b"\x80\x00v=0"), None);
    }
}
