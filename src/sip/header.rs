//! Header names and typed header values (RFC 3261 §20, RFC 3515, 3891, 3892, 4488,
//! 4538, 6665).
//!
//! Guarantees: decoders borrow the header value, never panic, and are lenient: they
//! return what they can read and `None` only when the value has no usable core (no
//! URI, no number). Parameter names compare case-insensitively (RFC 3261 §7.3.1).

use super::scan::{
    find_param, params, parse_u16, parse_u32, split_once, trim, trim_start, unquote,
};

/// Header names this crate understands; compact forms map to the same variant
/// (RFC 3261 §7.3.3, RFC 3515 `r`, RFC 3892 `b`, RFC 6665 `o` and `u`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderName {
    CallId,
    From,
    To,
    CSeq,
    Via,
    Contact,
    ContentType,
    ContentLength,
    ContentEncoding,
    Subject,
    Supported,
    Require,
    RecordRoute,
    Route,
    MaxForwards,
    ReferTo,
    ReferredBy,
    Replaces,
    Event,
    AllowEvents,
    SubscriptionState,
    ReferSub,
    TargetDialog,
    UserAgent,
    Server,
    Expires,
    Allow,
    Other,
}

impl HeaderName {
    /// Classifies a header name, case-insensitively, full or compact form.
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        if let [single] = name {
            return HeaderName::from_compact(*single);
        }
        // Length, first and last letter pick the one candidate (they are unique
        // among [`FULL_NAMES`], a test holds it); then the whole name is compared.
        let (Some(first), Some(last)) = (name.first(), name.last()) else {
            return HeaderName::Other;
        };
        let (full, header): (&[u8], HeaderName) = match (
            name.len(),
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
        ) {
            (2, b't', b'o') => (b"To", HeaderName::To),
            (3, b'v', b'a') => (b"Via", HeaderName::Via),
            (4, b'c', b'q') => (b"CSeq", HeaderName::CSeq),
            (4, b'f', b'm') => (b"From", HeaderName::From),
            (5, b'a', b'w') => (b"Allow", HeaderName::Allow),
            (5, b'e', b't') => (b"Event", HeaderName::Event),
            (5, b'r', b'e') => (b"Route", HeaderName::Route),
            (6, b's', b'r') => (b"Server", HeaderName::Server),
            (7, b'c', b'd') => (b"Call-ID", HeaderName::CallId),
            (7, b'c', b't') => (b"Contact", HeaderName::Contact),
            (7, b'e', b's') => (b"Expires", HeaderName::Expires),
            (7, b'r', b'e') => (b"Require", HeaderName::Require),
            (7, b's', b't') => (b"Subject", HeaderName::Subject),
            (8, b'r', b'o') => (b"Refer-To", HeaderName::ReferTo),
            (8, b'r', b's') => (b"Replaces", HeaderName::Replaces),
            (9, b'r', b'b') => (b"Refer-Sub", HeaderName::ReferSub),
            (9, b's', b'd') => (b"Supported", HeaderName::Supported),
            (10, b'u', b't') => (b"User-Agent", HeaderName::UserAgent),
            (11, b'r', b'y') => (b"Referred-By", HeaderName::ReferredBy),
            (12, b'a', b's') => (b"Allow-Events", HeaderName::AllowEvents),
            (12, b'c', b'e') => (b"Content-Type", HeaderName::ContentType),
            (12, b'm', b's') => (b"Max-Forwards", HeaderName::MaxForwards),
            (12, b'r', b'e') => (b"Record-Route", HeaderName::RecordRoute),
            (13, b't', b'g') => (b"Target-Dialog", HeaderName::TargetDialog),
            (14, b'c', b'h') => (b"Content-Length", HeaderName::ContentLength),
            (16, b'c', b'g') => (b"Content-Encoding", HeaderName::ContentEncoding),
            (18, b's', b'e') => (b"Subscription-State", HeaderName::SubscriptionState),
            _ => return HeaderName::Other,
        };
        if full.eq_ignore_ascii_case(name) {
            header
        } else {
            HeaderName::Other
        }
    }

    /// Compact forms: RFC 3261 §7.3.3, RFC 3515 §7 (`r`), RFC 3892 §3 (`b`),
    /// RFC 6665 §8.2 (`o`, `u`).
    fn from_compact(letter: u8) -> HeaderName {
        match letter.to_ascii_lowercase() {
            b'i' => HeaderName::CallId,
            b'f' => HeaderName::From,
            b't' => HeaderName::To,
            b'v' => HeaderName::Via,
            b'm' => HeaderName::Contact,
            b'c' => HeaderName::ContentType,
            b'l' => HeaderName::ContentLength,
            b'e' => HeaderName::ContentEncoding,
            b's' => HeaderName::Subject,
            b'k' => HeaderName::Supported,
            b'r' => HeaderName::ReferTo,
            b'b' => HeaderName::ReferredBy,
            b'o' => HeaderName::Event,
            b'u' => HeaderName::AllowEvents,
            _ => HeaderName::Other,
        }
    }

    /// The canonical full name, as RFC 3261 §20 spells it.
    pub fn as_str(&self) -> &'static str {
        FULL_NAMES
            .iter()
            .find(|(_, header)| header == self)
            .and_then(|(full, _)| std::str::from_utf8(full).ok())
            .unwrap_or("Other")
    }
}

const FULL_NAMES: &[(&[u8], HeaderName)] = &[
    (b"Call-ID", HeaderName::CallId),
    (b"From", HeaderName::From),
    (b"To", HeaderName::To),
    (b"CSeq", HeaderName::CSeq),
    (b"Via", HeaderName::Via),
    (b"Contact", HeaderName::Contact),
    (b"Content-Type", HeaderName::ContentType),
    (b"Content-Length", HeaderName::ContentLength),
    (b"Content-Encoding", HeaderName::ContentEncoding),
    (b"Subject", HeaderName::Subject),
    (b"Supported", HeaderName::Supported),
    (b"Require", HeaderName::Require),
    (b"Record-Route", HeaderName::RecordRoute),
    (b"Route", HeaderName::Route),
    (b"Max-Forwards", HeaderName::MaxForwards),
    (b"Refer-To", HeaderName::ReferTo),
    (b"Referred-By", HeaderName::ReferredBy),
    (b"Replaces", HeaderName::Replaces),
    (b"Event", HeaderName::Event),
    (b"Allow-Events", HeaderName::AllowEvents),
    (b"Subscription-State", HeaderName::SubscriptionState),
    (b"Refer-Sub", HeaderName::ReferSub),
    (b"Target-Dialog", HeaderName::TargetDialog),
    (b"User-Agent", HeaderName::UserAgent),
    (b"Server", HeaderName::Server),
    (b"Expires", HeaderName::Expires),
    (b"Allow", HeaderName::Allow),
];

/// Position of the `"` that closes a quoted string whose opening quote was just before
/// `bytes`, honouring `\` escapes (RFC 3261 §25.1 quoted-pair).
fn closing_quote(bytes: &[u8]) -> Option<usize> {
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            return Some(i);
        }
    }
    None
}

/// `name-addr` or `addr-spec` with header parameters: From, To, Contact, Refer-To,
/// Referred-By (RFC 3261 §20.10, §25.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name, quotes removed (escapes left as written); `None` when absent.
    pub display: Option<&'a [u8]>,
    /// The URI as written between `<` `>` (or the bare addr-spec).
    pub uri: &'a [u8],
    /// Header parameters after the URI, e.g. `;tag=abc`, without the leading `;`.
    pub params: &'a [u8],
}

impl<'a> NameAddr<'a> {
    /// Parses a single name-addr / addr-spec value.
    ///
    /// Accepted forms (RFC 3261 §20.10, §25.1): `"Display" <uri>;params`,
    /// `Display <uri>;params`, `<uri>;params`, and a bare addr-spec `sip:u@h;tag=x`,
    /// whose `;` parameters are header parameters, not URI parameters. Parameters
    /// inside `<...>` stay in the URI. A missing `>` is tolerated (the URI runs to the
    /// end). `None` when there is no URI.
    pub fn parse(value: &'a [u8]) -> Option<NameAddr<'a>> {
        let value = trim(value);
        let (display, after_display) = if let Some(quoted) = value.strip_prefix(b"\"") {
            let close = closing_quote(quoted)?;
            (
                quoted.get(..close),
                trim_start(quoted.get(close + 1..).unwrap_or_default()),
            )
        } else {
            match memchr::memchr(b'<', value) {
                Some(open) => {
                    let display = trim(value.get(..open).unwrap_or_default());
                    let display = (!display.is_empty()).then_some(display);
                    (display, value.get(open..).unwrap_or_default())
                }
                None => (None, value),
            }
        };
        let (uri, rest) = if let Some(bracketed) = after_display.strip_prefix(b"<") {
            match memchr::memchr(b'>', bracketed) {
                Some(close) => (
                    bracketed.get(..close).unwrap_or_default(),
                    bracketed.get(close + 1..).unwrap_or_default(),
                ),
                None => (bracketed, &b""[..]),
            }
        } else if display.is_some() && after_display.is_empty() {
            // `"Bob"` alone: a display name and no URI.
            return None;
        } else {
            // Bare addr-spec: everything after the first `;` is a header parameter.
            let (uri, params) = split_once(after_display, b';');
            (uri, params.map_or(&b""[..], |p| p))
        };
        let uri = trim(uri);
        if uri.is_empty() {
            return None;
        }
        let rest = trim(rest);
        let params = trim(rest.strip_prefix(b";").unwrap_or(rest));
        Some(NameAddr {
            display,
            uri,
            params,
        })
    }
    /// A header parameter: `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`.
    /// Names compare case-insensitively; a quoted value loses its quotes.
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        find_param(self.params, name)
    }
    /// The Replaces carried in the URI's `?Replaces=` header (RFC 3891 §4 on Refer-To),
    /// percent-decoded.
    pub fn replaces(&self) -> Option<Replaces> {
        self.parsed_uri()?.replaces()
    }
    /// The `tag` parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.param("tag").flatten()
    }
    /// The URI, parsed.
    pub fn parsed_uri(&self) -> Option<super::Uri<'a>> {
        super::Uri::parse(self.uri)
    }
}

/// `CSeq: number method` (RFC 3261 §20.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub seq: u32,
    pub method: super::Method<'a>,
}

/// One Via hop (RFC 3261 §20.42).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// `UDP`, `TCP`, `TLS`, `WS`, ... as written.
    pub transport: &'a [u8],
    pub host: &'a [u8],
    pub port: Option<u16>,
    pub branch: Option<&'a [u8]>,
    pub received: Option<&'a [u8]>,
    pub rport: Option<&'a [u8]>,
}

/// A Replaces value (RFC 3891 §6.1): from an INVITE header, or percent-decoded from a
/// Refer-To's `?Replaces=`. Missing parts stay `None` (the Skype for Business case);
/// empty parts are `Some("")`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Replaces {
    pub call_id: Option<String>,
    pub to_tag: Option<String>,
    pub from_tag: Option<String>,
    pub early_only: bool,
}

impl Replaces {
    /// Parses `callid;to-tag=..;from-tag=..[;early-only]` (already percent-decoded).
    pub fn parse(value: &[u8]) -> Replaces {
        let mut replaces = Replaces::default();
        let value = trim(value);
        let (first, rest) = split_once(value, b';');
        let first = trim(first);
        // A leading `to-tag=..` means the Call-ID is missing, not that it is `to-tag=..`.
        let first_is_param = first.contains(&b'=') || first.eq_ignore_ascii_case(b"early-only");
        let list = if first_is_param {
            value
        } else {
            if !first.is_empty() {
                replaces.call_id = Some(lossy(first));
            }
            rest.unwrap_or_default()
        };
        for (name, param_value) in params(list) {
            if name.eq_ignore_ascii_case(b"to-tag") {
                replaces.to_tag = Some(lossy(param_value.unwrap_or_default()));
            } else if name.eq_ignore_ascii_case(b"from-tag") {
                replaces.from_tag = Some(lossy(param_value.unwrap_or_default()));
            } else if name.eq_ignore_ascii_case(b"early-only") {
                replaces.early_only = true;
            }
        }
        replaces
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl<'a> CSeq<'a> {
    /// Parses `number method` (RFC 3261 §20.16); `None` when either part is missing or
    /// the number does not fit 32 bits.
    pub fn parse(value: &'a [u8]) -> Option<CSeq<'a>> {
        let mut parts = trim(value)
            .split(|&b| super::scan::is_lws(b))
            .filter(|part| !part.is_empty());
        let seq = parse_u32(parts.next()?)?;
        let method = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        Some(CSeq {
            seq,
            method: super::Method::from_bytes(method),
        })
    }
}

impl<'a> Via<'a> {
    /// Parses one hop `SIP/2.0/UDP host:port;params` (RFC 3261 §20.42), tolerating
    /// whitespace around the `/` and `:` separators. A bare `rport` gives `Some(b"")`.
    pub fn parse(hop: &'a [u8]) -> Option<Via<'a>> {
        let hop = trim(hop);
        let (protocol, after_name) = split_once(hop, b'/');
        if trim(protocol).is_empty() {
            return None;
        }
        let (_version, after_version) = split_once(after_name?, b'/');
        let after_version = trim_start(after_version?);
        let transport_end = after_version
            .iter()
            .position(|&b| super::scan::is_lws(b) || b == b';')
            .unwrap_or(after_version.len());
        let transport = after_version.get(..transport_end)?;
        let rest = after_version.get(transport_end..).unwrap_or_default();
        let (sent_by, param_list) = split_once(rest, b';');
        let (host, port) = split_host_port(trim(sent_by));
        if transport.is_empty() || host.is_empty() {
            return None;
        }
        // One pass over the parameters (the first of each name counts, as
        // `find_param` would find it): this runs for nearly every message.
        let (mut branch, mut received, mut rport) = (None, None, None);
        for (name, value) in params(param_list.unwrap_or_default()) {
            let value = value.map(unquote);
            if branch.is_none() && name.eq_ignore_ascii_case(b"branch") {
                branch = Some(value);
            } else if received.is_none() && name.eq_ignore_ascii_case(b"received") {
                received = Some(value);
            } else if rport.is_none() && name.eq_ignore_ascii_case(b"rport") {
                rport = Some(value.unwrap_or_default());
            }
        }
        Some(Via {
            transport,
            host,
            port,
            branch: branch.flatten(),
            received: received.flatten(),
            rport,
        })
    }
}

/// Splits `host[:port]`, keeping IPv6 brackets (RFC 3261 §25.1 hostport). A port that
/// is not a number is dropped rather than failing the whole value.
pub(crate) fn split_host_port(hostport: &[u8]) -> (&[u8], Option<u16>) {
    let (host, port) = if hostport.starts_with(b"[") {
        match memchr::memchr(b']', hostport) {
            Some(close) => (
                hostport.get(..close + 1).unwrap_or_default(),
                hostport.get(close + 1..).unwrap_or_default(),
            ),
            None => (hostport, &b""[..]),
        }
    } else {
        match memchr::memchr(b':', hostport) {
            Some(colon) => (
                hostport.get(..colon).unwrap_or_default(),
                hostport.get(colon..).unwrap_or_default(),
            ),
            None => (hostport, &b""[..]),
        }
    };
    let port = trim(port)
        .strip_prefix(b":")
        .and_then(|digits| parse_u16(trim(digits)));
    (trim(host), port)
}

impl<'a> Event<'a> {
    /// Parses `package[.template];id=..` (RFC 6665 §8.2.1).
    pub fn parse(value: &'a [u8]) -> Option<Event<'a>> {
        let (package, list) = split_once(value, b';');
        let package = trim(package);
        if package.is_empty() {
            return None;
        }
        Some(Event {
            package,
            id: list.and_then(|l| find_param(l, "id")).flatten(),
        })
    }
}

impl<'a> SubscriptionState<'a> {
    /// Parses `state;reason=..;expires=..` (RFC 6665 §8.2.3). Parameters that break
    /// the grammar (a value holding another `=`, a non-numeric `expires`, an empty
    /// name) set `malformed` but the rest is still read.
    pub fn parse(value: &'a [u8]) -> Option<SubscriptionState<'a>> {
        let (state, list) = split_once(value, b';');
        let state = trim(state);
        let mut result = SubscriptionState {
            state,
            reason: None,
            expires: None,
            malformed: state.is_empty() || !state.iter().all(|&b| super::scan::is_token_byte(b)),
        };
        for (name, param_value) in params(list.unwrap_or_default()) {
            if name.is_empty() || param_value.is_some_and(|v| v.contains(&b'=')) {
                result.malformed = true;
            }
            if name.eq_ignore_ascii_case(b"reason") {
                result.reason = param_value;
                if param_value.is_none_or(<[u8]>::is_empty) {
                    result.malformed = true;
                }
            } else if name.eq_ignore_ascii_case(b"expires") {
                result.expires = param_value.and_then(parse_u32);
                if result.expires.is_none() {
                    result.malformed = true;
                }
            }
        }
        (!state.is_empty() || list.is_some()).then_some(result)
    }

    /// Whether the state is `terminated` (any case).
    pub fn is_terminated(&self) -> bool {
        self.state.eq_ignore_ascii_case(b"terminated")
    }
}

impl<'a> TargetDialog<'a> {
    /// Parses `callid;local-tag=..;remote-tag=..` (RFC 4538 §7).
    pub fn parse(value: &'a [u8]) -> Option<TargetDialog<'a>> {
        let (call_id, list) = split_once(value, b';');
        let call_id = trim(call_id);
        if call_id.is_empty() {
            return None;
        }
        let list = list.unwrap_or_default();
        Some(TargetDialog {
            call_id,
            local_tag: find_param(list, "local-tag").flatten(),
            remote_tag: find_param(list, "remote-tag").flatten(),
        })
    }
}

/// `Event: package;id=..` (RFC 6665 §8.2.1, RFC 3515 §2.4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub package: &'a [u8],
    pub id: Option<&'a [u8]>,
}

/// `Subscription-State: active|pending|terminated;reason=..;expires=..` (RFC 6665 §8.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    pub state: &'a [u8],
    pub reason: Option<&'a [u8]>,
    pub expires: Option<u32>,
    /// The parameters do not follow the grammar (e.g. `reason=reason=noresource`).
    pub malformed: bool,
}

/// `Target-Dialog: callid;local-tag=..;remote-tag=..` (RFC 4538 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetDialog<'a> {
    pub call_id: &'a [u8],
    pub local_tag: Option<&'a [u8]>,
    pub remote_tag: Option<&'a [u8]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every full name is found (case-insensitively) by the dispatch on length, first
    /// and last letter, and no two names share those.
    #[test]
    fn every_full_name_is_classified() {
        let mut keys = std::collections::HashSet::new();
        for &(full, header) in FULL_NAMES {
            assert_eq!(HeaderName::from_bytes(full), header);
            assert_eq!(HeaderName::from_bytes(&full.to_ascii_lowercase()), header);
            assert_eq!(HeaderName::from_bytes(&full.to_ascii_uppercase()), header);
            let key = (
                full.len(),
                full.first().map(u8::to_ascii_lowercase),
                full.last().map(u8::to_ascii_lowercase),
            );
            assert!(keys.insert(key), "{:?} shares its key", header);
        }
        assert_eq!(HeaderName::from_bytes(b"Call-IX"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"X-Call-ID"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
    }

    #[test]
    fn classifies_full_and_compact_names_in_any_case() {
        assert_eq!(HeaderName::from_bytes(b"call-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"CALL-ID"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"V"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"r"), HeaderName::ReferTo);
        assert_eq!(HeaderName::from_bytes(b"b"), HeaderName::ReferredBy);
        assert_eq!(HeaderName::from_bytes(b"o"), HeaderName::Event);
        assert_eq!(HeaderName::from_bytes(b"u"), HeaderName::AllowEvents);
        assert_eq!(HeaderName::from_bytes(b"k"), HeaderName::Supported);
        assert_eq!(
            HeaderName::from_bytes(b"subscription-STATE"),
            HeaderName::SubscriptionState
        );
        assert_eq!(HeaderName::from_bytes(b"X-Custom"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"q"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Toe"), HeaderName::Other);
        assert_eq!(HeaderName::TargetDialog.as_str(), "Target-Dialog");
    }

    #[test]
    fn name_addr_with_quoted_display_name() {
        let na =
            NameAddr::parse(br#" "Alice, \"A\"" <sip:alice@example.com;transport=tcp> ;tag=1928 "#)
                .unwrap();
        assert_eq!(na.display, Some(&br#"Alice, \"A\""#[..]));
        assert_eq!(na.uri, b"sip:alice@example.com;transport=tcp");
        assert_eq!(na.params, b"tag=1928");
        assert_eq!(na.tag(), Some(&b"1928"[..]));
        // Parameters inside the brackets belong to the URI, not to the header.
        assert_eq!(na.param("transport"), None);
        assert_eq!(
            na.parsed_uri().unwrap().param("transport"),
            Some(Some(&b"tcp"[..]))
        );
    }

    #[test]
    fn name_addr_with_token_display_name_and_no_display_name() {
        let na = NameAddr::parse(b"Bob Smith <sip:bob@h>;TAG=x;lr").unwrap();
        assert_eq!(na.display, Some(&b"Bob Smith"[..]));
        assert_eq!(na.param("tag"), Some(Some(&b"x"[..])));
        assert_eq!(na.param("LR"), Some(None));
        let na = NameAddr::parse(b"<sip:bob@h>").unwrap();
        assert_eq!(na.display, None);
        assert_eq!(na.params, b"");
    }

    #[test]
    fn bare_addr_spec_params_are_header_params() {
        // RFC 3261 §20.10: without brackets, `;tag` belongs to the header.
        let na = NameAddr::parse(b"sip:u@h;tag=x;transport=udp").unwrap();
        assert_eq!(na.uri, b"sip:u@h");
        assert_eq!(na.tag(), Some(&b"x"[..]));
        assert_eq!(na.param("transport"), Some(Some(&b"udp"[..])));
    }

    #[test]
    fn name_addr_with_non_utf8_display_name() {
        let na = NameAddr::parse(b"\"J\xfcrgen \xff\" <sip:j@h>;tag=9").unwrap();
        assert_eq!(na.display, Some(&b"J\xfcrgen \xff"[..]));
        assert_eq!(na.tag(), Some(&b"9"[..]));
    }

    #[test]
    fn name_addr_tolerates_damage() {
        assert_eq!(NameAddr::parse(b""), None);
        assert_eq!(NameAddr::parse(b"\"unterminated <sip:a@b>"), None);
        assert_eq!(NameAddr::parse(b"\"Only a name\""), None);
        assert_eq!(NameAddr::parse(b"<>"), None);
        let na = NameAddr::parse(b"<sip:a@b").unwrap();
        assert_eq!(na.uri, b"sip:a@b");
        let na = NameAddr::parse(b"\"Bob\" sip:bob@h;tag=1").unwrap();
        assert_eq!(na.display, Some(&b"Bob"[..]));
        assert_eq!(na.uri, b"sip:bob@h");
        assert_eq!(na.tag(), Some(&b"1"[..]));
    }

    #[test]
    fn name_addr_gives_the_decoded_replaces_of_a_refer_to() {
        let na = NameAddr::parse(b"<sip:carol@h?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>")
            .unwrap();
        let replaces = na.replaces().unwrap();
        assert_eq!(replaces.call_id.as_deref(), Some("abc@host"));
        assert_eq!(replaces.to_tag.as_deref(), Some("1"));
        assert_eq!(replaces.from_tag.as_deref(), Some("2"));
        assert!(!replaces.early_only);
        assert_eq!(NameAddr::parse(b"<sip:carol@h>").unwrap().replaces(), None);
    }

    #[test]
    fn replaces_variants() {
        let r =
            Replaces::parse(b" 425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only");
        assert_eq!(r.call_id.as_deref(), Some("425928@bobster.example.org"));
        assert_eq!(r.to_tag.as_deref(), Some("7743"));
        assert_eq!(r.from_tag.as_deref(), Some("6472"));
        assert!(r.early_only);
        // Without tags (seen from Skype for Business): the parts stay None.
        let r = Replaces::parse(b"abc");
        assert_eq!(r.call_id.as_deref(), Some("abc"));
        assert_eq!((r.to_tag, r.from_tag), (None, None));
        // Empty tags are present but empty.
        let r = Replaces::parse(b"abc;to-tag=;from-tag=");
        assert_eq!(r.to_tag.as_deref(), Some(""));
        assert_eq!(r.from_tag.as_deref(), Some(""));
        // No Call-ID at all.
        let r = Replaces::parse(b";to-tag=1;from-tag=2");
        assert_eq!(r.call_id, None);
        assert_eq!(r.to_tag.as_deref(), Some("1"));
        let r = Replaces::parse(b"to-tag=1;from-tag=2");
        assert_eq!(r.call_id, None);
        assert_eq!(r.from_tag.as_deref(), Some("2"));
        assert_eq!(Replaces::parse(b""), Replaces::default());
        // Names are case-insensitive; a bare `to-tag` is an empty tag.
        let r = Replaces::parse(b"x;TO-TAG=a;From-Tag");
        assert_eq!(r.to_tag.as_deref(), Some("a"));
        assert_eq!(r.from_tag.as_deref(), Some(""));
    }

    #[test]
    fn cseq_parses_number_and_method() {
        let c = CSeq::parse(b" 314159   INVITE ").unwrap();
        assert_eq!(c.seq, 314159);
        assert_eq!(c.method, super::super::Method::Invite);
        assert_eq!(
            CSeq::parse(b"1 FOO").unwrap().method,
            super::super::Method::Other(b"FOO")
        );
        assert_eq!(CSeq::parse(b"INVITE"), None);
        assert_eq!(CSeq::parse(b"4294967296 INVITE"), None);
        assert_eq!(CSeq::parse(b"1"), None);
        assert_eq!(CSeq::parse(b"1 INVITE extra"), None);
    }

    #[test]
    fn via_hops() {
        let v = Via::parse(
            b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=198.51.100.7;rport=5062",
        )
        .unwrap();
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.host, b"192.0.2.1");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch, Some(&b"z9hG4bK776"[..]));
        assert_eq!(v.received, Some(&b"198.51.100.7"[..]));
        assert_eq!(v.rport, Some(&b"5062"[..]));
        // Odd whitespace, IPv6, bare rport, parameter names in upper case.
        let v = Via::parse(b"SIP / 2.0 / TCP   [2001:db8::1] : 5070 ; RPORT ; Branch=z9hG4bKx")
            .unwrap();
        assert_eq!(v.transport, b"TCP");
        assert_eq!(v.host, b"[2001:db8::1]");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.rport, Some(&b""[..]));
        assert_eq!(v.branch, Some(&b"z9hG4bKx"[..]));
        let v = Via::parse(b"SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK").unwrap();
        assert_eq!(
            (v.transport, v.host, v.port),
            (&b"WSS"[..], &b"df7jal23ls0d.invalid"[..], None)
        );
        assert_eq!(Via::parse(b"garbage"), None);
        assert_eq!(Via::parse(b"SIP/2.0/UDP"), None);
        assert_eq!(Via::parse(b""), None);
    }

    #[test]
    fn event_with_and_without_id() {
        let e = Event::parse(b"refer;id=93809824").unwrap();
        assert_eq!(e.package, b"refer");
        assert_eq!(e.id, Some(&b"93809824"[..]));
        let e = Event::parse(b" refer ").unwrap();
        assert_eq!((e.package, e.id), (&b"refer"[..], None));
        let e = Event::parse(b"presence.winfo ; ID = 7").unwrap();
        assert_eq!((e.package, e.id), (&b"presence.winfo"[..], Some(&b"7"[..])));
        assert_eq!(Event::parse(b";id=1"), None);
    }

    #[test]
    fn subscription_state_variants() {
        let s = SubscriptionState::parse(b"active;expires=60").unwrap();
        assert_eq!(
            (s.state, s.expires, s.reason, s.malformed),
            (&b"active"[..], Some(60), None, false)
        );
        let s = SubscriptionState::parse(b"terminated;reason=noresource").unwrap();
        assert!(s.is_terminated());
        assert_eq!(s.reason, Some(&b"noresource"[..]));
        assert!(!s.malformed);
        let s = SubscriptionState::parse(b"Terminated").unwrap();
        assert!(s.is_terminated());
        let s = SubscriptionState::parse(b"pending ; expires = 30 ; retry-after=5").unwrap();
        assert_eq!(
            (s.state, s.expires, s.malformed),
            (&b"pending"[..], Some(30), false)
        );
        // Broken parameters are read but flagged.
        let s = SubscriptionState::parse(b"terminated;reason=reason=noresource").unwrap();
        assert!(s.malformed);
        assert!(s.is_terminated());
        assert!(
            SubscriptionState::parse(b"active;expires=soon")
                .unwrap()
                .malformed
        );
        assert!(SubscriptionState::parse(b"active;;expires=1").is_some());
        assert!(SubscriptionState::parse(b"active;=1").unwrap().malformed);
        assert!(
            SubscriptionState::parse(b"terminated;reason=")
                .unwrap()
                .malformed
        );
        assert!(SubscriptionState::parse(b";expires=1").unwrap().malformed);
        assert_eq!(SubscriptionState::parse(b""), None);
    }

    #[test]
    fn target_dialog() {
        let t =
            TargetDialog::parse(b"fa77as7dad8-sd98ajzz@host.example.com;local-tag=1;remote-tag=2")
                .unwrap();
        assert_eq!(t.call_id, b"fa77as7dad8-sd98ajzz@host.example.com");
        assert_eq!(t.local_tag, Some(&b"1"[..]));
        assert_eq!(t.remote_tag, Some(&b"2"[..]));
        let t = TargetDialog::parse(b"abc").unwrap();
        assert_eq!((t.local_tag, t.remote_tag), (None, None));
        assert_eq!(TargetDialog::parse(b" ;local-tag=1"), None);
    }
}
