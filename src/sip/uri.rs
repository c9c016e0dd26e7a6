//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), zero-copy.
//!
//! Guarantees: [`Uri::parse`] borrows, never panics, and splits any `scheme:` URI into
//! user, host, port, parameters and headers; only URI headers are decoded (and only
//! on request, by [`Uri::header`]).

use std::borrow::Cow;

use super::header::{Replaces, split_host_port};
use super::scan::{find_param, split_once, trim};

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
    ///
    /// `sip:`/`sips:` and other schemes follow RFC 3261 §19.1.1
    /// (`user:password@host:port;params?headers`; a `//` after the scheme is skipped).
    /// For `tel:` (RFC 3966 §3) the number is both `user` and `host`.
    pub fn parse(raw: &'a [u8]) -> Option<Uri<'a>> {
        let raw = trim(raw);
        let colon = memchr::memchr(b':', raw)?;
        let scheme = raw.get(..colon)?;
        let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return None;
        }
        let rest = raw.get(colon + 1..)?;
        if scheme.eq_ignore_ascii_case(b"tel") {
            let (number, params) = split_once(rest, b';');
            let number = trim(number);
            if number.is_empty() {
                return None;
            }
            return Some(Uri {
                raw,
                scheme,
                user: Some(number),
                host: number,
                port: None,
                params: params.unwrap_or_default(),
                headers: b"",
            });
        }
        let rest = rest.strip_prefix(b"//").unwrap_or(rest);
        // The user part may hold `?` and `;` (RFC 3261 §25.1 user-unreserved) and URI
        // headers may hold an unescaped `@` (seen in Refer-To ?Replaces=). An `@`
        // before any `?` ends the user part; an `@` after a `?` belongs to the headers.
        let at = memchr::memchr(b'@', rest);
        let question = memchr::memchr(b'?', rest);
        let (userinfo, hostpart) = match (at, question) {
            (Some(at), Some(q)) if q < at => (None, rest),
            (Some(at), _) => (rest.get(..at), rest.get(at + 1..).unwrap_or_default()),
            (None, _) => (None, rest),
        };
        let user = userinfo.map(|info| split_once(info, b':').0);
        let (before_headers, headers) = split_once(hostpart, b'?');
        let (hostport, params) = split_once(before_headers, b';');
        // A path (`http://host:port/path`) is not part of the host.
        let (hostport, _path) = split_once(hostport, b'/');
        let (host, port) = split_host_port(trim(hostport));
        if host.is_empty() {
            return None;
        }
        Some(Uri {
            raw,
            scheme,
            user,
            host,
            port,
            params: params.unwrap_or_default(),
            headers: headers.unwrap_or_default(),
        })
    }
    /// A URI parameter, e.g. `transport` (names case-insensitive, RFC 3261 §19.1.4).
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        find_param(self.params, name)
    }
    /// A URI header (after `?`), percent-decoded, e.g. `Replaces` (RFC 3261 §19.1.1).
    /// Header names compare case-insensitively.
    pub fn header(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        self.headers
            .split(|&b| b == b'&')
            .map(|pair| split_once(pair, b'='))
            .find(|(n, _)| percent_decode(trim(n)).eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| percent_decode(value.unwrap_or_default()))
    }
    /// The `?Replaces=` header decoded (RFC 3891 §4: how a Refer-To asks for an
    /// INVITE with Replaces).
    pub fn replaces(&self) -> Option<Replaces> {
        self.header("Replaces").map(|value| Replaces::parse(&value))
    }
    /// Whether the scheme is `sip` or `sips` (any case).
    pub fn is_sip(&self) -> bool {
        self.scheme.eq_ignore_ascii_case(b"sip") || self.scheme.eq_ignore_ascii_case(b"sips")
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
pub fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'%', input).is_none() {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%'
            && let [high, low, after @ ..] = tail
            && let (Some(h), Some(l)) = (hex_value(*high), hex_value(*low))
        {
            out.push(h << 4 | l);
            rest = after;
            continue;
        }
        out.push(byte);
        rest = tail;
    }
    Cow::Owned(out)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_with_everything() {
        let uri = Uri::parse(b"sips:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent")
            .unwrap();
        assert_eq!(uri.scheme, b"sips");
        assert!(uri.is_sip());
        assert_eq!(uri.user, Some(&b"alice"[..]));
        assert_eq!(uri.host, b"atlanta.com");
        assert_eq!(uri.port, Some(5061));
        assert_eq!(uri.params, b"transport=tcp;lr");
        assert_eq!(uri.param("Transport"), Some(Some(&b"tcp"[..])));
        assert_eq!(uri.param("lr"), Some(None));
        assert_eq!(uri.headers, b"subject=project%20x&priority=urgent");
        assert_eq!(uri.header("Subject").as_deref(), Some(&b"project x"[..]));
        assert_eq!(uri.header("priority").as_deref(), Some(&b"urgent"[..]));
        assert_eq!(uri.header("missing"), None);
    }

    #[test]
    fn host_only_empty_user_and_ipv6() {
        let uri = Uri::parse(b"sip:example.com").unwrap();
        assert_eq!(
            (uri.user, uri.host, uri.port),
            (None, &b"example.com"[..], None)
        );
        let uri = Uri::parse(b"sip:@example.com").unwrap();
        assert_eq!(uri.user, Some(&b""[..]));
        let uri = Uri::parse(b"SIP:bob@[2001:db8::10]:5070;maddr=[2001:db8::1]").unwrap();
        assert_eq!(uri.scheme, b"SIP");
        assert_eq!(uri.host, b"[2001:db8::10]");
        assert_eq!(uri.port, Some(5070));
        assert_eq!(uri.param("maddr"), Some(Some(&b"[2001:db8::1]"[..])));
        let uri = Uri::parse(b"sip:[2001:db8::10]").unwrap();
        assert_eq!((uri.host, uri.port), (&b"[2001:db8::10]"[..], None));
    }

    #[test]
    fn user_part_with_escapes_and_reserved_characters() {
        // user-unreserved allows `;` and `?` in the user part (RFC 3261 §25.1).
        let uri = Uri::parse(b"sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(uri.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(uri.host, b"example.com");
        assert_eq!(uri.params, b"");
    }

    #[test]
    fn refer_to_uri_with_unescaped_at_in_headers() {
        let uri = Uri::parse(b"sip:carol@h?Replaces=abc@host%3Bto-tag%3D1").unwrap();
        assert_eq!(uri.host, b"h");
        let r = uri.replaces().unwrap();
        assert_eq!(r.call_id.as_deref(), Some("abc@host"));
        assert_eq!(r.to_tag.as_deref(), Some("1"));
        let uri = Uri::parse(b"sip:h?Replaces=abc@host").unwrap();
        assert_eq!((uri.user, uri.host), (None, &b"h"[..]));
        assert_eq!(uri.replaces().unwrap().call_id.as_deref(), Some("abc@host"));
    }

    #[test]
    fn tel_and_other_schemes() {
        let uri = Uri::parse(b"tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(uri.scheme, b"tel");
        assert_eq!(uri.user, Some(&b"+1-201-555-0123"[..]));
        assert_eq!(uri.host, b"+1-201-555-0123");
        assert_eq!(uri.param("phone-context"), Some(Some(&b"example.com"[..])));
        assert!(!uri.is_sip());
        let uri = Uri::parse(b"mailto:bob@example.org").unwrap();
        assert_eq!(
            (uri.user, uri.host),
            (Some(&b"bob"[..]), &b"example.org"[..])
        );
        let uri = Uri::parse(b"http://www.example.com:8080/path").unwrap();
        assert_eq!(uri.host, b"www.example.com");
        assert_eq!(uri.port, Some(8080));
    }

    #[test]
    fn rejects_what_is_not_a_uri() {
        assert_eq!(Uri::parse(b""), None);
        assert_eq!(Uri::parse(b"example.com"), None);
        assert_eq!(Uri::parse(b":x@y"), None);
        assert_eq!(Uri::parse(b"sip:"), None);
        assert_eq!(Uri::parse(b"sip:bob@"), None);
        assert_eq!(Uri::parse(b"tel:"), None);
        assert_eq!(Uri::parse(b"1sip:a@b"), None);
        // A non-numeric port is dropped rather than failing the URI.
        let uri = Uri::parse(b"sip:a@b:port").unwrap();
        assert_eq!((uri.host, uri.port), (&b"b"[..], None));
        assert_eq!(Uri::parse(b"sip:a@b:99999").unwrap().port, None);
    }

    #[test]
    fn percent_decoding() {
        assert!(matches!(percent_decode(b"plain"), Cow::Borrowed(b"plain")));
        assert_eq!(
            &*percent_decode(b"abc%40host%3Bto-tag%3d1"),
            b"abc@host;to-tag=1"
        );
        // Invalid or cut escapes stay as written.
        assert_eq!(&*percent_decode(b"100%zz%4"), b"100%zz%4");
        assert_eq!(&*percent_decode(b"%"), b"%");
        assert_eq!(&*percent_decode(b"%ff%00"), b"\xff\x00");
    }
}
