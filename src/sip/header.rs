//! Header names and typed header values (RFC 3261 §20, RFC 3515, 3891, 3892, 4488,
//! 4538, 6665).

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
        let _ = name;
        HeaderName::Other
    }
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
    pub fn parse(value: &'a [u8]) -> Option<NameAddr<'a>> {
        let _ = value;
        None
    }
    /// A header parameter: `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`.
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        let _ = name;
        None
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
        let _ = value;
        Replaces::default()
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
