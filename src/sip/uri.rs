//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), zero-copy.

use std::borrow::Cow;

/// A parsed URI borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    pub raw: &'a [u8],
    /// `sip`, `sips`, `tel`, ... lower or upper case as written.
    pub scheme: &'a [u8],
    /// The user part (percent-encoding left as written); `Some(b"")` when empty.
    pub user: Option<&'a [u8]>,
    /// Host name or address; IPv6 references keep their brackets.
    pub host: &'a [u8],
    pub port: Option<u16>,
    /// URI parameters after the host, without the leading `;`.
    pub params: &'a [u8],
    /// URI headers after `?`, without the `?`.
    pub headers: &'a [u8],
}

impl<'a> Uri<'a> {
    /// Parses a URI; `None` when it has no scheme or no host.
    pub fn parse(raw: &'a [u8]) -> Option<Uri<'a>> {
        let _ = raw;
        None
    }
    /// A URI parameter, e.g. `transport`.
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        let _ = name;
        None
    }
    /// A URI header (after `?`), percent-decoded, e.g. `Replaces`.
    pub fn header(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        let _ = name;
        None
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
pub fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    Cow::Borrowed(input)
}
