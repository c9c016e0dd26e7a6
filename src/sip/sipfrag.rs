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
