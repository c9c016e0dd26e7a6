//! message/sipfrag bodies (RFC 3420) as carried by refer NOTIFYs (RFC 3515 §2.4.5).
//!
//! Guarantees: only the first line is read; a status line gives the code, anything
//! else (a request line, a bare header) gives `status: None`. Never panics.

use super::scan::{is_lws, trim, trim_start};

/// The start line of a sipfrag body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sipfrag<'a> {
    /// The status code when the fragment starts with a status line.
    pub status: Option<u16>,
    pub reason: &'a [u8],
    /// The first line as written.
    pub first_line: &'a [u8],
}

impl<'a> Sipfrag<'a> {
    /// Parses a sipfrag body; `None` when it is empty.
    /// Leading whitespace and blank lines are skipped.
    pub fn parse(body: &'a [u8]) -> Option<Sipfrag<'a>> {
        let body = trim_start(body);
        if body.is_empty() {
            return None;
        }
        let line_end = memchr::memchr(b'\n', body).unwrap_or(body.len());
        let first_line = trim(body.get(..line_end).unwrap_or_default());
        let mut words = first_line.split(|&b| is_lws(b)).filter(|w| !w.is_empty());
        let is_status_line = words.next().is_some_and(|version| {
            version.len() >= 4
                && version
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
        });
        let code = words.next().filter(|_| is_status_line);
        let status = code.and_then(|code| match code {
            [a, b, c] if code.iter().all(u8::is_ascii_digit) => {
                Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
            }
            _ => None,
        });
        let reason = match (status, code) {
            (Some(_), Some(code)) => {
                let after = (code.as_ptr() as usize)
                    .saturating_sub(first_line.as_ptr() as usize)
                    .saturating_add(code.len());
                trim(first_line.get(after..).unwrap_or_default())
            }
            _ => b"",
        };
        Some(Sipfrag {
            status,
            reason,
            first_line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_fragments() {
        let f = Sipfrag::parse(b"SIP/2.0 200 OK\r\n").unwrap();
        assert_eq!(
            (f.status, f.reason, f.first_line),
            (Some(200), &b"OK"[..], &b"SIP/2.0 200 OK"[..])
        );
        let f = Sipfrag::parse(b"SIP/2.0 100 Trying").unwrap();
        assert_eq!(f.status, Some(100));
        let f =
            Sipfrag::parse(b"\r\n  SIP/2.0 503 Service Unavailable\r\nRetry-After: 5\r\n").unwrap();
        assert_eq!(
            (f.status, f.reason),
            (Some(503), &b"Service Unavailable"[..])
        );
        // Missing reason phrase, lower-case version, bare LF.
        let f = Sipfrag::parse(b"sip/2.0 180\n").unwrap();
        assert_eq!((f.status, f.reason), (Some(180), &b""[..]));
    }

    #[test]
    fn request_lines_and_junk_have_no_status() {
        let f = Sipfrag::parse(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n").unwrap();
        assert_eq!(f.status, None);
        assert_eq!(f.first_line, b"INVITE sip:bob@biloxi.example.com SIP/2.0");
        assert_eq!(Sipfrag::parse(b"SIP/2.0 OK\r\n").unwrap().status, None);
        assert_eq!(Sipfrag::parse(b"SIP/2.0 2000 OK").unwrap().status, None);
        assert_eq!(Sipfrag::parse(b"SIP/2.0").unwrap().status, None);
        assert_eq!(Sipfrag::parse(b"\xff\xfe").unwrap().status, None);
        assert_eq!(Sipfrag::parse(b""), None);
        assert_eq!(Sipfrag::parse(b" \r\n\r\n"), None);
    }
}
