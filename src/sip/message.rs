//! The SIP message view (RFC 3261 §7): start line, headers, body.

use std::borrow::Cow;

use super::header::{
    CSeq, Event, HeaderName, NameAddr, Replaces, SubscriptionState, TargetDialog, Via,
};
use super::uri::Uri;

/// A request method. Unknown methods are kept as they are (RFC 3261 §7.1: extension-method).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Refer,
    Notify,
    Subscribe,
    Prack,
    Update,
    Info,
    Message,
    Publish,
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// Methods are case-sensitive (RFC 3261 §7.1); an unknown token stays `Other`.
    pub fn from_bytes(token: &'a [u8]) -> Method<'a> {
        Method::Other(token)
    }

    /// The method as written on the wire (unknown methods lossily as UTF-8).
    pub fn as_str(&self) -> Cow<'a, str> {
        Cow::Borrowed("")
    }
}

/// The first line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request {
        method: Method<'a>,
        /// The Request-URI as written.
        uri: &'a [u8],
    },
    Response {
        status: u16,
        /// Possibly empty (some stacks omit it).
        reason: &'a [u8],
    },
}

/// One header line (folded continuation lines included in `value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: HeaderName,
    /// The name as written (for `HeaderName::Other` and for reports).
    pub raw_name: &'a [u8],
    /// The value as written, leading and trailing whitespace trimmed; may contain
    /// folded line breaks, which typed accessors treat as whitespace.
    pub value: &'a [u8],
}

/// What the parser found wrong or unusual in a message it still accepted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ProblemKind {
    /// Lines end with LF alone, not CRLF (RFC 3261 §7).
    BareLf,
    /// A header value continues on a folded line (legal, but deprecated by RFC 3261 §7.3.1).
    FoldedLine,
    /// A header line with no colon, or an empty name.
    MalformedHeaderLine,
    /// Content-Length is not a number (RFC 3261 §20.14).
    InvalidContentLength,
    /// Content-Length says more bytes than the message has (the body is cut short).
    BodyShorterThanContentLength { declared: u64, present: u64 },
    /// Content-Length says fewer bytes than the datagram carries after the headers.
    BodyLongerThanContentLength { declared: u64, present: u64 },
    /// No Content-Length on a stream transport, where it is mandatory (RFC 3261 §18.3, §20.14).
    MissingContentLengthOnStream,
    /// Several Content-Length headers with different values.
    ConflictingContentLength,
    /// No blank line ends the headers.
    MissingHeaderEnd,
    /// A mandatory header is missing (RFC 3261 §8.1.1): named in `header`.
    MissingMandatoryHeader { header: String },
    /// The CSeq header is not `number method`, or its method differs from the request's.
    MalformedCSeq,
    /// The SIP version is not SIP/2.0.
    UnexpectedVersion,
}

/// A problem, with the header line it concerns when there is one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    #[serde(flatten)]
    pub kind: ProblemKind,
    /// Byte offset within the message where the problem is.
    pub offset: usize,
}

/// Why bytes could not be read as a SIP message at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The first line is neither a request line nor a status line.
    NotSip,
    /// The bytes end before the first line does.
    Truncated,
}

/// A parsed SIP message borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    raw: &'a [u8],
    start: StartLine<'a>,
    headers: Vec<Header<'a>>,
    body: &'a [u8],
    problems: Vec<Problem>,
}

impl<'a> Message<'a> {
    /// Parses one framed message. `stream` says whether it came over a stream transport
    /// (where Content-Length is mandatory). The body is what Content-Length says when it
    /// is present and fits, otherwise the rest of the bytes.
    pub fn parse(raw: &'a [u8], stream: bool) -> Result<Message<'a>, ParseError> {
        let _ = stream;
        let _ = raw;
        Err(ParseError::NotSip)
    }

    /// The bytes of the whole message.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }
    /// The method of a request.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }
    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }
    /// The Request-URI of a request, parsed.
    pub fn request_uri(&self) -> Option<Uri<'a>> {
        None
    }
    pub fn headers(&self) -> &[Header<'a>] {
        &self.headers
    }
    /// Every header with that name, in order (compact and full forms alike).
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header<'a>> {
        self.headers.iter().filter(move |h| h.name == name)
    }
    /// The first header with that name.
    pub fn header(&self, name: HeaderName) -> Option<&Header<'a>> {
        self.headers_named(name).next()
    }
    /// The body (per Content-Length when it fits).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub fn call_id(&self) -> Option<&'a [u8]> {
        None
    }
    pub fn from(&self) -> Option<NameAddr<'a>> {
        None
    }
    pub fn to(&self) -> Option<NameAddr<'a>> {
        None
    }
    pub fn cseq(&self) -> Option<CSeq<'a>> {
        None
    }
    /// Every Via hop in order, topmost first (several per header line are split).
    pub fn vias(&self) -> Vec<Via<'a>> {
        Vec::new()
    }
    /// The first Contact.
    pub fn contact(&self) -> Option<NameAddr<'a>> {
        None
    }
    /// The media type, parameters stripped, e.g. `application/sdp`.
    pub fn content_type(&self) -> Option<&'a [u8]> {
        None
    }
    /// The Content-Length value when present and numeric.
    pub fn content_length(&self) -> Option<u64> {
        None
    }
    /// Every Refer-To value (there must be exactly one, RFC 3515 §2.4.1).
    pub fn refer_to(&self) -> Vec<NameAddr<'a>> {
        Vec::new()
    }
    pub fn referred_by(&self) -> Option<NameAddr<'a>> {
        None
    }
    /// Every Replaces header value (RFC 3891 §3 allows one).
    pub fn replaces(&self) -> Vec<Replaces> {
        Vec::new()
    }
    pub fn event(&self) -> Option<Event<'a>> {
        None
    }
    pub fn subscription_state(&self) -> Option<SubscriptionState<'a>> {
        None
    }
    /// `Refer-Sub: true|false` (RFC 4488): `Some(false)` when it says false.
    pub fn refer_sub(&self) -> Option<bool> {
        None
    }
    pub fn target_dialog(&self) -> Option<TargetDialog<'a>> {
        None
    }
    /// Whether Require or Supported (as asked) lists `option_tag`.
    pub fn requires(&self, option_tag: &str) -> bool {
        let _ = option_tag;
        false
    }
    pub fn supports(&self, option_tag: &str) -> bool {
        let _ = option_tag;
        false
    }
    /// The User-Agent or, on responses, Server header.
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        None
    }
}
