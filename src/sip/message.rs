//! The SIP message view (RFC 3261 §7): start line, headers, body.
//!
//! Guarantees: [`Message::parse`] never panics, borrows every byte it returns, and
//! allocates only the header list (and a problem list when something is wrong).
//! Header names are classified once, at parse time; typed accessors decode values on
//! demand.

use std::borrow::Cow;

use super::header::{
    CSeq, Event, HeaderName, NameAddr, Replaces, SubscriptionState, TargetDialog, Via,
};
use super::scan::{is_token_byte, parse_u64, split_top_level, trim, trim_end};
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
        match token {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"REFER" => Method::Refer,
            b"NOTIFY" => Method::Notify,
            b"SUBSCRIBE" => Method::Subscribe,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"INFO" => Method::Info,
            b"MESSAGE" => Method::Message,
            b"PUBLISH" => Method::Publish,
            other => Method::Other(other),
        }
    }

    /// The method as written on the wire (unknown methods lossily as UTF-8).
    pub fn as_str(&self) -> Cow<'a, str> {
        Cow::Borrowed(match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(token) => return String::from_utf8_lossy(token),
        })
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
    /// A header line ends with `\n\r\n` (a bare LF, then CRLF): strictly the blank
    /// line that ends the headers (RFC 3261 §7), but header lines follow it and no
    /// Content-Length or Content-Type before it announced a body, so they were read as
    /// headers, as the phones do. `offset` is where the stray CRLF is.
    StrayBlankLine,
    /// A message on a stream whose header section, or whole length, is over the limit
    /// the stage reads ([`super::framing::MAX_MESSAGE`]): it was skipped, not read.
    /// `size` is the bytes seen of it when it was given up.
    MessageTooLarge { size: u64 },
}

/// Whether `bytes` start with a header line: a token name, optional blanks, a colon
/// (RFC 3261 §7.3.1), within the first line.
pub(crate) fn starts_with_header_line(bytes: &[u8]) -> bool {
    let name_len = bytes.iter().take_while(|&&b| is_token_byte(b)).count();
    if name_len == 0 {
        return false;
    }
    bytes
        .get(name_len..)
        .unwrap_or_default()
        .iter()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&b| b == b':')
}

/// Whether the blank line at `at` (the bytes `\r\n`) is a stray one inside the
/// headers: it follows a line ended by a bare LF (`\n\r\n`), header lines follow
/// it, and nothing before it announced a body (`announced`: a Content-Length other
/// than 0, or a Content-Type).
pub(crate) fn stray_blank_line(raw: &[u8], at: usize, announced: bool) -> bool {
    let bare_lf_before =
        at >= 1 && raw.get(at - 1) == Some(&b'\n') && (at < 2 || raw.get(at - 2) != Some(&b'\r'));
    !announced
        && bare_lf_before
        && raw.get(at..at + 2) == Some(b"\r\n")
        && starts_with_header_line(raw.get(at + 2..).unwrap_or_default())
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
    /// The headers every later stage reads of every message, parsed once.
    common: Common<'a>,
}

/// Call-ID, From, To and CSeq, parsed once when the message is.
#[derive(Clone, Copy, Debug, Default)]
struct Common<'a> {
    call_id: Option<&'a [u8]>,
    from: Option<NameAddr<'a>>,
    to: Option<NameAddr<'a>>,
    cseq: Option<CSeq<'a>>,
    from_tag: Option<&'a [u8]>,
    to_tag: Option<&'a [u8]>,
}

impl<'a> Message<'a> {
    /// Parses one framed message. `stream` says whether it came over a stream transport
    /// (where Content-Length is mandatory). The body is what Content-Length says when it
    /// is present and fits, otherwise the rest of the bytes.
    ///
    /// Leading CRLFs (keep-alives) are skipped but stay in [`Message::raw`]; problem
    /// offsets count from the start of `raw`.
    pub fn parse(raw: &'a [u8], stream: bool) -> Result<Message<'a>, ParseError> {
        let mut parser = Parser {
            raw,
            problems: Vec::new(),
            bare_lf_seen: false,
            fold_seen: false,
        };
        let start_at = raw
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(raw.len());
        let (start, headers_at) = parser.start_line(start_at)?;
        let (headers, body_at) = parser.headers(headers_at);
        let rest = raw.get(body_at..).unwrap_or_default();
        let body = parser.body(&headers, rest, body_at, stream);
        let mut message = Message {
            raw,
            start,
            headers,
            body,
            problems: parser.problems,
            common: Common::default(),
        };
        let from = message.value(HeaderName::From).and_then(NameAddr::parse);
        let to = message.value(HeaderName::To).and_then(NameAddr::parse);
        message.common = Common {
            call_id: message
                .value(HeaderName::CallId)
                .map(trim)
                .filter(|v| !v.is_empty()),
            from,
            to,
            cseq: message.value(HeaderName::CSeq).and_then(CSeq::parse),
            from_tag: from.and_then(|f| f.tag()),
            to_tag: to.and_then(|t| t.tag()),
        };
        message.check_mandatory();
        Ok(message)
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
        match self.start {
            StartLine::Request { uri, .. } => Uri::parse(uri),
            StartLine::Response { .. } => None,
        }
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

    /// The value of the first header with that name.
    fn value(&self, name: HeaderName) -> Option<&'a [u8]> {
        self.header(name).map(|h| h.value)
    }
    /// Every comma-separated value of every header with that name, in order
    /// (RFC 3261 §7.3.1); commas inside quotes and `<...>` do not split.
    fn values(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.headers_named(name)
            .flat_map(|h| split_top_level(h.value, b','))
    }

    pub fn call_id(&self) -> Option<&'a [u8]> {
        self.common.call_id
    }
    pub fn from(&self) -> Option<NameAddr<'a>> {
        self.common.from
    }
    pub fn to(&self) -> Option<NameAddr<'a>> {
        self.common.to
    }
    pub fn cseq(&self) -> Option<CSeq<'a>> {
        self.common.cseq
    }
    /// The `tag` parameter of From (parsed once).
    pub fn from_tag(&self) -> Option<&'a [u8]> {
        self.common.from_tag
    }
    /// The `tag` parameter of To (parsed once).
    pub fn to_tag(&self) -> Option<&'a [u8]> {
        self.common.to_tag
    }
    /// Every Via hop in order, topmost first (several per header line are split).
    /// Hops that cannot be read are left out.
    pub fn vias(&self) -> Vec<Via<'a>> {
        self.values(HeaderName::Via)
            .filter_map(Via::parse)
            .collect()
    }
    /// The topmost Via hop, without allocating.
    pub fn top_via(&self) -> Option<Via<'a>> {
        self.values(HeaderName::Via).next().and_then(Via::parse)
    }
    /// The bottom Via hop (the one the originating UA set), without allocating; the
    /// last hop that can be read, as [`Message::vias`] would give it.
    pub fn bottom_via(&self) -> Option<Via<'a>> {
        self.values(HeaderName::Via).filter_map(Via::parse).last()
    }
    /// The first Contact.
    pub fn contact(&self) -> Option<NameAddr<'a>> {
        self.values(HeaderName::Contact)
            .next()
            .and_then(NameAddr::parse)
    }
    /// The media type, parameters stripped, e.g. `application/sdp`.
    pub fn content_type(&self) -> Option<&'a [u8]> {
        let value = self.value(HeaderName::ContentType)?;
        let media = trim(value.split(|&b| b == b';').next().unwrap_or_default());
        (!media.is_empty()).then_some(media)
    }
    /// The Content-Length value when present and numeric.
    pub fn content_length(&self) -> Option<u64> {
        self.headers_named(HeaderName::ContentLength)
            .find_map(|h| parse_u64(trim(h.value)))
    }
    /// Every Refer-To value (there must be exactly one, RFC 3515 §2.4.1).
    pub fn refer_to(&self) -> Vec<NameAddr<'a>> {
        self.values(HeaderName::ReferTo)
            .filter_map(NameAddr::parse)
            .collect()
    }
    pub fn referred_by(&self) -> Option<NameAddr<'a>> {
        self.value(HeaderName::ReferredBy).and_then(NameAddr::parse)
    }
    /// Every Replaces header value (RFC 3891 §3 allows one).
    pub fn replaces(&self) -> Vec<Replaces> {
        self.headers_named(HeaderName::Replaces)
            .map(|h| Replaces::parse(h.value))
            .collect()
    }
    pub fn event(&self) -> Option<Event<'a>> {
        self.value(HeaderName::Event).and_then(Event::parse)
    }
    pub fn subscription_state(&self) -> Option<SubscriptionState<'a>> {
        self.value(HeaderName::SubscriptionState)
            .and_then(SubscriptionState::parse)
    }
    /// `Refer-Sub: true|false` (RFC 4488): `Some(false)` when it says false.
    /// `None` when absent or neither word.
    pub fn refer_sub(&self) -> Option<bool> {
        let value = self.value(HeaderName::ReferSub)?;
        let word = trim(value.split(|&b| b == b';').next().unwrap_or_default());
        if word.eq_ignore_ascii_case(b"true") {
            Some(true)
        } else if word.eq_ignore_ascii_case(b"false") {
            Some(false)
        } else {
            None
        }
    }
    pub fn target_dialog(&self) -> Option<TargetDialog<'a>> {
        self.value(HeaderName::TargetDialog)
            .and_then(TargetDialog::parse)
    }
    /// Whether Require or Supported (as asked) lists `option_tag`.
    /// Option tags compare case-insensitively (RFC 3261 §19.2).
    pub fn requires(&self, option_tag: &str) -> bool {
        self.lists_option(HeaderName::Require, option_tag)
    }
    pub fn supports(&self, option_tag: &str) -> bool {
        self.lists_option(HeaderName::Supported, option_tag)
    }
    fn lists_option(&self, name: HeaderName, option_tag: &str) -> bool {
        self.values(name)
            .any(|tag| tag.eq_ignore_ascii_case(option_tag.as_bytes()))
    }
    /// The User-Agent or, on responses, Server header.
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        self.value(HeaderName::UserAgent)
            .or_else(|| self.value(HeaderName::Server))
    }

    /// Records the headers RFC 3261 §8.1.1 makes mandatory and a CSeq that does not
    /// match the request (§8.1.1.5).
    fn check_mandatory(&mut self) {
        const MANDATORY: [(HeaderName, &str); 5] = [
            (HeaderName::CallId, "Call-ID"),
            (HeaderName::From, "From"),
            (HeaderName::To, "To"),
            (HeaderName::CSeq, "CSeq"),
            (HeaderName::Via, "Via"),
        ];
        for (name, label) in MANDATORY {
            if self.header(name).is_none() {
                self.problems.push(Problem {
                    kind: ProblemKind::MissingMandatoryHeader {
                        header: label.to_owned(),
                    },
                    offset: self.body_offset(),
                });
            }
        }
        if let Some(header) = self.header(HeaderName::CSeq) {
            let offset = offset_in(self.raw, header.value);
            let consistent = match (CSeq::parse(header.value), self.method()) {
                (None, _) => false,
                (Some(cseq), Some(method)) => cseq.method == method,
                (Some(_), None) => true,
            };
            if !consistent {
                self.problems.push(Problem {
                    kind: ProblemKind::MalformedCSeq,
                    offset,
                });
            }
        }
    }

    /// Offset of the body, or of the end of the headers when the body is empty.
    fn body_offset(&self) -> usize {
        offset_in(self.raw, self.body)
    }
}

/// Byte offset of `part` inside `whole`; `part` must be a sub-slice of it, which every
/// caller guarantees by construction. Saturates rather than panicking if not.
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

/// The state of one parse: the bytes and what was found wrong so far.
struct Parser<'a> {
    raw: &'a [u8],
    problems: Vec<Problem>,
    bare_lf_seen: bool,
    fold_seen: bool,
}

/// Header lists are short; this avoids regrowing the vector for common messages.
const TYPICAL_HEADER_COUNT: usize = 16;

impl<'a> Parser<'a> {
    fn problem(&mut self, kind: ProblemKind, offset: usize) {
        self.problems.push(Problem { kind, offset });
    }

    /// The line starting at `at`: its content (CR stripped) and where the next begins.
    /// `None` at the end of the bytes. Records bare LF once per message.
    fn line(&mut self, at: usize) -> Option<(&'a [u8], usize, bool)> {
        let rest = self.raw.get(at..).filter(|r| !r.is_empty())?;
        let (line, next, terminated) = match memchr::memchr(b'\n', rest) {
            Some(lf) => (rest.get(..lf).unwrap_or_default(), at + lf + 1, true),
            None => (rest, self.raw.len(), false),
        };
        let line = match line.strip_suffix(b"\r") {
            Some(stripped) => stripped,
            None => {
                if terminated && !self.bare_lf_seen {
                    self.bare_lf_seen = true;
                    self.problem(ProblemKind::BareLf, at + line.len());
                }
                line
            }
        };
        Some((line, next, terminated))
    }

    /// Parses the request or status line (RFC 3261 §7.1, §7.2), tolerating runs of
    /// spaces between elements and a missing reason phrase.
    fn start_line(&mut self, at: usize) -> Result<(StartLine<'a>, usize), ParseError> {
        let (line, next, terminated) = self.line(at).ok_or(ParseError::Truncated)?;
        let mut words = line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|w| !w.is_empty());
        let first = words.next().ok_or(ParseError::NotSip)?;
        let start = if first.len() >= 4
            && first
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
        {
            let code = words.next().ok_or(ParseError::NotSip)?;
            let status = match code {
                [a, b, c] if code.iter().all(u8::is_ascii_digit) => {
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
                }
                _ => return Err(ParseError::NotSip),
            };
            if !first.eq_ignore_ascii_case(b"SIP/2.0") {
                self.problem(ProblemKind::UnexpectedVersion, at);
            }
            // The reason phrase is everything after the code, spaces inside kept.
            let reason_at = offset_in(line, code) + code.len();
            let reason = trim(line.get(reason_at..).unwrap_or_default());
            StartLine::Response { status, reason }
        } else {
            if !first.iter().all(|&b| is_token_byte(b)) {
                return Err(ParseError::NotSip);
            }
            let line = trim_end(line);
            let version_at = line
                .iter()
                .rposition(|&b| b == b' ' || b == b'\t')
                .ok_or(ParseError::NotSip)?;
            let version = line.get(version_at + 1..).unwrap_or_default();
            let is_sip_version = version.len() >= 4
                && version
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
            if !is_sip_version {
                return Err(ParseError::NotSip);
            }
            let uri_at = first.len() + offset_in(line, first);
            let uri = trim(line.get(uri_at..version_at).unwrap_or_default());
            if uri.is_empty() {
                return Err(ParseError::NotSip);
            }
            if !version.eq_ignore_ascii_case(b"SIP/2.0") {
                self.problem(ProblemKind::UnexpectedVersion, at + version_at + 1);
            }
            StartLine::Request {
                method: Method::from_bytes(first),
                uri,
            }
        };
        if !terminated {
            return Err(ParseError::Truncated);
        }
        Ok((start, next))
    }

    /// Reads header lines from `at` up to the blank line (RFC 3261 §7.3). Returns the
    /// headers and where the body starts.
    fn headers(&mut self, mut at: usize) -> (Vec<Header<'a>>, usize) {
        let mut headers: Vec<Header<'a>> = Vec::with_capacity(TYPICAL_HEADER_COUNT);
        // Where the current header's value starts, to extend it over folded lines.
        let mut value_start: Option<usize> = None;
        loop {
            let line_at = at;
            let Some((line, next, terminated)) = self.line(at) else {
                self.problem(ProblemKind::MissingHeaderEnd, at);
                return (headers, self.raw.len());
            };
            at = next;
            if line.is_empty() {
                if !terminated {
                    self.problem(ProblemKind::MissingHeaderEnd, line_at);
                }
                let announced = headers.iter().any(|h| {
                    h.name == HeaderName::ContentType
                        || (h.name == HeaderName::ContentLength
                            && parse_u64(trim(h.value)) != Some(0))
                });
                if terminated && stray_blank_line(self.raw, line_at, announced) {
                    self.problem(ProblemKind::StrayBlankLine, line_at);
                    value_start = None;
                    continue;
                }
                return (headers, next);
            }
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                // RFC 3261 §7.3.1: a line starting with whitespace continues the
                // previous header's value; keep the fold inside the value slice.
                let content = trim(line);
                match (headers.last_mut(), value_start) {
                    (Some(last), Some(start)) if !content.is_empty() => {
                        let start = if last.value.is_empty() {
                            offset_in(self.raw, content)
                        } else {
                            start
                        };
                        let end = offset_in(self.raw, content) + content.len();
                        last.value = self.raw.get(start..end).unwrap_or(last.value);
                        value_start = Some(start);
                    }
                    (Some(_), Some(_)) => {}
                    _ => self.problem(ProblemKind::MalformedHeaderLine, line_at),
                }
                if !self.fold_seen {
                    self.fold_seen = true;
                    self.problem(ProblemKind::FoldedLine, line_at);
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                self.problem(ProblemKind::MalformedHeaderLine, line_at);
                value_start = None;
                continue;
            };
            let raw_name = trim(line.get(..colon).unwrap_or_default());
            if raw_name.is_empty() {
                self.problem(ProblemKind::MalformedHeaderLine, line_at);
                value_start = None;
                continue;
            }
            let value = trim(line.get(colon + 1..).unwrap_or_default());
            value_start = Some(offset_in(self.raw, value));
            headers.push(Header {
                name: HeaderName::from_bytes(raw_name),
                raw_name,
                value,
            });
        }
    }

    /// Cuts the body by Content-Length (RFC 3261 §18.3, §20.14), recording every
    /// disagreement between the header and the bytes present.
    fn body(
        &mut self,
        headers: &[Header<'a>],
        rest: &'a [u8],
        at: usize,
        stream: bool,
    ) -> &'a [u8] {
        let mut declared: Option<u64> = None;
        for header in headers
            .iter()
            .filter(|h| h.name == HeaderName::ContentLength)
        {
            let offset = offset_in(self.raw, header.value);
            match parse_u64(trim(header.value)) {
                None => self.problem(ProblemKind::InvalidContentLength, offset),
                Some(n) => match declared {
                    None => declared = Some(n),
                    Some(first) if first != n => {
                        self.problem(ProblemKind::ConflictingContentLength, offset)
                    }
                    Some(_) => {}
                },
            }
        }
        let present = rest.len() as u64;
        match declared {
            Some(declared) if declared <= present => {
                if declared < present {
                    self.problem(
                        ProblemKind::BodyLongerThanContentLength { declared, present },
                        at,
                    );
                }
                // `declared <= present = rest.len()`, so it fits in usize.
                rest.get(..declared as usize).unwrap_or(rest)
            }
            Some(declared) => {
                self.problem(
                    ProblemKind::BodyShorterThanContentLength { declared, present },
                    at,
                );
                rest
            }
            None => {
                if stream {
                    self.problem(ProblemKind::MissingContentLengthOnStream, at);
                }
                rest
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(message: &Message<'_>) -> Vec<ProblemKind> {
        message.problems().iter().map(|p| p.kind.clone()).collect()
    }

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp; charset=utf-8\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

    #[test]
    fn parses_a_plain_invite() {
        let m = Message::parse(INVITE, false).unwrap();
        assert!(m.is_request());
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.status(), None);
        assert_eq!(
            m.start_line(),
            &StartLine::Request {
                method: Method::Invite,
                uri: b"sip:bob@biloxi.example.com"
            }
        );
        assert_eq!(m.request_uri().unwrap().host, b"biloxi.example.com");
        assert_eq!(
            m.call_id(),
            Some(&b"a84b4c76e66710@pc33.atlanta.example.com"[..])
        );
        assert_eq!(m.from().unwrap().tag(), Some(&b"1928301774"[..]));
        assert_eq!(m.to().unwrap().tag(), None);
        assert_eq!(
            m.cseq(),
            Some(CSeq {
                seq: 314159,
                method: Method::Invite
            })
        );
        assert_eq!(
            m.contact().unwrap().uri,
            b"sip:alice@pc33.atlanta.example.com"
        );
        assert_eq!(m.content_type(), Some(&b"application/sdp"[..]));
        assert_eq!(m.content_length(), Some(4));
        assert_eq!(m.body(), b"v=0\n");
        assert_eq!(m.raw(), INVITE);
        assert_eq!(m.headers().len(), 9);
        assert_eq!(m.vias().len(), 1);
        assert!(m.problems().is_empty(), "{:?}", m.problems());
    }

    #[test]
    fn parses_a_response_with_and_without_reason_phrase() {
        let ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nServer: PBX 1.0\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(ok, false).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(
            m.start_line(),
            &StartLine::Response {
                status: 200,
                reason: b"OK"
            }
        );
        assert_eq!(m.user_agent(), Some(&b"PBX 1.0"[..]));
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        // CSeq method of a response is not compared with anything.
        let m = Message::parse(b"SIP/2.0 180\r\n\r\n", false).unwrap();
        assert_eq!(
            m.start_line(),
            &StartLine::Response {
                status: 180,
                reason: b""
            }
        );
        let m = Message::parse(b"SIP/2.0   486   Busy  Here \r\n\r\n", false).unwrap();
        assert_eq!(
            m.start_line(),
            &StartLine::Response {
                status: 486,
                reason: b"Busy  Here"
            }
        );
    }

    #[test]
    fn compact_forms_odd_whitespace_and_case() {
        let raw = b"NOTIFY sip:a@h SIP/2.0\r\n\
v:SIP/2.0/TCP h:5060;branch=z9hG4bK1\r\n\
f :  <sip:b@h>;tag=2\r\n\
T\t:<sip:a@h>;tag=1\r\n\
I: id-1\r\n\
cSeQ: 2 NOTIFY\r\n\
o: refer;id=77\r\n\
SUBSCRIPTION-state: active;expires=60\r\n\
c: message/sipfrag;version=2.0\r\n\
k: norefersub, Replaces\r\n\
l: 16\r\n\
\r\n\
SIP/2.0 200 OK\r\n";
        let m = Message::parse(raw, true).unwrap();
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        assert_eq!(m.call_id(), Some(&b"id-1"[..]));
        assert_eq!(m.from().unwrap().tag(), Some(&b"2"[..]));
        assert_eq!(m.to().unwrap().tag(), Some(&b"1"[..]));
        assert_eq!(m.vias()[0].transport, b"TCP");
        assert_eq!(
            m.event(),
            Some(Event {
                package: b"refer",
                id: Some(b"77")
            })
        );
        assert_eq!(m.subscription_state().unwrap().expires, Some(60));
        assert_eq!(m.content_type(), Some(&b"message/sipfrag"[..]));
        assert!(m.supports("replaces"));
        assert!(m.supports("NOREFERSUB"));
        assert!(!m.supports("timer"));
        assert!(!m.requires("replaces"));
        assert_eq!(m.body(), b"SIP/2.0 200 OK\r\n");
        let h = m.header(HeaderName::From).unwrap();
        assert_eq!(h.raw_name, b"f");
        assert_eq!(h.value, b"<sip:b@h>;tag=2");
    }

    #[test]
    fn folded_lines_stay_inside_the_value() {
        let raw = b"OPTIONS sip:a@h SIP/2.0\r\n\
Subject: first\r\n  second\r\n\tthird\r\n\
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1,\r\n SIP/2.0/UDP b.example;branch=z9hG4bK2\r\n\
To:\r\n <sip:a@h>\r\n\
Content-Length: 0\r\n\r\n";
        let m = Message::parse(raw, false).unwrap();
        assert_eq!(
            m.header(HeaderName::Subject).unwrap().value,
            b"first\r\n  second\r\n\tthird"
        );
        let hosts: Vec<&[u8]> = m.vias().iter().map(|v| v.host).collect();
        assert_eq!(hosts, vec![&b"a.example"[..], b"b.example"]);
        // A value that starts on the continuation line.
        assert_eq!(m.to().unwrap().uri, b"sip:a@h");
        assert_eq!(
            kinds(&m)
                .iter()
                .filter(|k| **k == ProblemKind::FoldedLine)
                .count(),
            1
        );
    }

    #[test]
    fn bare_lf_is_accepted_and_recorded_once() {
        let raw = b"BYE sip:a@h SIP/2.0\nCall-ID: x\nCSeq: 3 BYE\nContent-Length: 2\n\nhi";
        let m = Message::parse(raw, false).unwrap();
        assert_eq!(m.call_id(), Some(&b"x"[..]));
        assert_eq!(m.body(), b"hi");
        assert_eq!(
            kinds(&m)
                .iter()
                .filter(|k| **k == ProblemKind::BareLf)
                .count(),
            1
        );
        assert!(kinds(&m).contains(&ProblemKind::MissingMandatoryHeader {
            header: "Via".into()
        }));
    }

    #[test]
    fn unknown_methods_and_extra_spaces_in_the_request_line() {
        let m = Message::parse(b"NEWMETHOD  sip:a@h   SIP/2.0 \r\n\r\n", false).unwrap();
        assert_eq!(m.method(), Some(Method::Other(b"NEWMETHOD")));
        assert_eq!(m.method().unwrap().as_str(), "NEWMETHOD");
        assert_eq!(m.request_uri().unwrap().user, Some(&b"a"[..]));
        // Methods are case-sensitive (RFC 3261 §7.1).
        assert_eq!(Method::from_bytes(b"invite"), Method::Other(b"invite"));
        assert_eq!(Method::Refer.as_str(), "REFER");
    }

    #[test]
    fn not_sip_and_truncated() {
        assert_eq!(
            Message::parse(b"", false).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(
            Message::parse(b"\r\n\r\n", false).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(
            Message::parse(b"INVITE sip:a@h SIP/2.0", false).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(
            Message::parse(b"SIP/2.0 200 OK", false).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(
            Message::parse(b"HTTP/1.1 200 OK\r\n\r\n", false).unwrap_err(),
            ParseError::NotSip
        );
        assert_eq!(
            Message::parse(b"GET / HTTP/1.1\r\n\r\n", false).unwrap_err(),
            ParseError::NotSip
        );
        assert_eq!(
            Message::parse(b"SIP/2.0 2000 OK\r\n\r\n", false).unwrap_err(),
            ParseError::NotSip
        );
        assert_eq!(
            Message::parse(b"INVITE SIP/2.0\r\n\r\n", false).unwrap_err(),
            ParseError::NotSip
        );
        assert_eq!(
            Message::parse(b"\x80\x00\x01\x02\n", false).unwrap_err(),
            ParseError::NotSip
        );
    }

    #[test]
    fn unexpected_version_is_a_problem() {
        let m = Message::parse(b"INVITE sip:a@h SIP/7.0\r\n\r\n", false).unwrap();
        assert!(kinds(&m).contains(&ProblemKind::UnexpectedVersion));
        let m = Message::parse(b"SIP/1.0 200 OK\r\n\r\n", false).unwrap();
        assert!(kinds(&m).contains(&ProblemKind::UnexpectedVersion));
    }

    #[test]
    fn body_against_content_length() {
        let head = b"MESSAGE sip:a@h SIP/2.0\r\nContent-Length: 5\r\n\r\n";
        let with = |body: &[u8]| [&head[..], body].concat();
        let exact = with(b"hello");
        assert_eq!(Message::parse(&exact, false).unwrap().body(), b"hello");
        let longer = with(b"hello, world");
        let m = Message::parse(&longer, false).unwrap();
        assert_eq!(m.body(), b"hello");
        assert!(
            kinds(&m).contains(&ProblemKind::BodyLongerThanContentLength {
                declared: 5,
                present: 12
            })
        );
        let shorter = with(b"he");
        let m = Message::parse(&shorter, false).unwrap();
        assert_eq!(m.body(), b"he");
        assert!(
            kinds(&m).contains(&ProblemKind::BodyShorterThanContentLength {
                declared: 5,
                present: 2
            })
        );
        // Missing Content-Length: the rest is the body; a problem only on streams.
        let raw = b"MESSAGE sip:a@h SIP/2.0\r\nCall-ID: c\r\n\r\nbody";
        let m = Message::parse(raw, false).unwrap();
        assert_eq!(m.body(), b"body");
        assert!(!kinds(&m).contains(&ProblemKind::MissingContentLengthOnStream));
        let m = Message::parse(raw, true).unwrap();
        assert!(kinds(&m).contains(&ProblemKind::MissingContentLengthOnStream));
        assert_eq!(m.content_length(), None);
    }

    #[test]
    fn invalid_and_conflicting_content_length() {
        let m = Message::parse(
            b"INFO sip:a@h SIP/2.0\r\nContent-Length: abc\r\n\r\nxy",
            false,
        )
        .unwrap();
        assert!(kinds(&m).contains(&ProblemKind::InvalidContentLength));
        assert_eq!(m.body(), b"xy");
        let m = Message::parse(
            b"INFO sip:a@h SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nxy",
            false,
        )
        .unwrap();
        assert!(kinds(&m).contains(&ProblemKind::ConflictingContentLength));
        assert_eq!(m.body(), b"x");
        let m = Message::parse(
            b"INFO sip:a@h SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            false,
        )
        .unwrap();
        assert!(kinds(&m).contains(&ProblemKind::InvalidContentLength));
    }

    #[test]
    fn missing_header_end_and_malformed_lines() {
        let m = Message::parse(b"BYE sip:a@h SIP/2.0\r\nCall-ID: x\r\n", false).unwrap();
        assert_eq!(m.call_id(), Some(&b"x"[..]));
        assert!(kinds(&m).contains(&ProblemKind::MissingHeaderEnd));
        assert_eq!(m.body(), b"");
        let m = Message::parse(b"BYE sip:a@h SIP/2.0\r\nCall-ID: x", false).unwrap();
        assert_eq!(m.call_id(), Some(&b"x"[..]));
        assert!(kinds(&m).contains(&ProblemKind::MissingHeaderEnd));
        let m = Message::parse(b"BYE sip:a@h SIP/2.0\r\nno colon here\r\n: empty name\r\n folded first\r\nCall-ID: y\r\n\r\n", false)
            .unwrap();
        assert_eq!(
            kinds(&m)
                .iter()
                .filter(|k| **k == ProblemKind::MalformedHeaderLine)
                .count(),
            3
        );
        assert_eq!(m.call_id(), Some(&b"y"[..]));
    }

    #[test]
    fn mandatory_headers_and_cseq_checks() {
        let m = Message::parse(b"INVITE sip:a@h SIP/2.0\r\nCSeq: 1 BYE\r\n\r\n", false).unwrap();
        let k = kinds(&m);
        for header in ["Call-ID", "From", "To", "Via"] {
            assert!(
                k.contains(&ProblemKind::MissingMandatoryHeader {
                    header: header.into()
                }),
                "{header}"
            );
        }
        assert!(!k.contains(&ProblemKind::MissingMandatoryHeader {
            header: "CSeq".into()
        }));
        assert!(k.contains(&ProblemKind::MalformedCSeq));
        let m =
            Message::parse(b"INVITE sip:a@h SIP/2.0\r\nCSeq: one INVITE\r\n\r\n", false).unwrap();
        assert!(kinds(&m).contains(&ProblemKind::MalformedCSeq));
        assert_eq!(m.cseq(), None);
        // Problem offsets point into the message.
        assert!(m.problems().iter().all(|p| p.offset <= m.raw().len()));
    }

    #[test]
    fn vias_across_lines_and_in_one_line_with_quoted_commas() {
        let raw = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1;comment=\"x, y\", SIP/2.0/TCP b.example:5070;branch=z9hG4bK2\r\n\
v: SIP/2.0/TLS c.example;branch=z9hG4bK3\r\n\r\n";
        let m = Message::parse(raw, false).unwrap();
        let vias = m.vias();
        let hosts: Vec<&[u8]> = vias.iter().map(|v| v.host).collect();
        assert_eq!(hosts, vec![&b"a.example"[..], b"b.example", b"c.example"]);
        assert_eq!(vias[1].port, Some(5070));
        assert_eq!(m.top_via().unwrap().branch, Some(&b"z9hG4bK1"[..]));
    }

    #[test]
    fn refer_with_refer_to_replaces_and_referred_by() {
        let raw = b"REFER sip:bob@h SIP/2.0\r\n\
r: \"Carol, C.\" <sip:carol@h?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n\
b: <sip:alice@h>;cid=\"x\"\r\n\
Refer-Sub: false\r\n\
Require: norefersub\r\n\
Target-Dialog: dlg-1;local-tag=a;remote-tag=b\r\n\
User-Agent: Softphone/1.2\r\n\r\n";
        let m = Message::parse(raw, false).unwrap();
        let refer_to = m.refer_to();
        assert_eq!(refer_to.len(), 1);
        assert_eq!(refer_to[0].display, Some(&b"Carol, C."[..]));
        let replaces = refer_to[0].replaces().unwrap();
        assert_eq!(replaces.call_id.as_deref(), Some("abc@host"));
        assert_eq!(replaces.from_tag.as_deref(), Some("2"));
        assert_eq!(m.referred_by().unwrap().uri, b"sip:alice@h");
        assert_eq!(m.refer_sub(), Some(false));
        assert!(m.requires("NoReferSub"));
        let td = m.target_dialog().unwrap();
        assert_eq!(
            (td.call_id, td.local_tag, td.remote_tag),
            (&b"dlg-1"[..], Some(&b"a"[..]), Some(&b"b"[..]))
        );
        assert_eq!(m.user_agent(), Some(&b"Softphone/1.2"[..]));
        // Several Refer-To values (a violation of RFC 3515, still all returned).
        let m = Message::parse(b"REFER sip:b@h SIP/2.0\r\nRefer-To: <sip:x@h>, <sip:y@h>\r\nRefer-To: sip:z@h\r\nRefer-Sub: TRUE\r\n\r\n", false)
            .unwrap();
        let uris: Vec<&[u8]> = m.refer_to().iter().map(|n| n.uri).collect();
        assert_eq!(uris, vec![&b"sip:x@h"[..], b"sip:y@h", b"sip:z@h"]);
        assert_eq!(m.refer_sub(), Some(true));
    }

    #[test]
    fn invite_with_replaces_header() {
        let raw = b"INVITE sip:bob@h SIP/2.0\r\nReplaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff\r\n\r\n";
        let m = Message::parse(raw, false).unwrap();
        let replaces = m.replaces();
        assert_eq!(replaces.len(), 1);
        assert_eq!(
            replaces[0].call_id.as_deref(),
            Some("98732@sip.example.com")
        );
        assert_eq!(replaces[0].to_tag.as_deref(), Some("ff87ff"));
        assert_eq!(
            Message::parse(INVITE, false).unwrap().replaces(),
            Vec::new()
        );
    }

    #[test]
    fn leading_crlf_is_skipped() {
        let raw = b"\r\n\r\nOPTIONS sip:h SIP/2.0\r\n\r\n";
        let m = Message::parse(raw, false).unwrap();
        assert_eq!(m.method(), Some(Method::Options));
        assert_eq!(m.raw(), raw);
    }

    #[test]
    fn absent_headers_give_none() {
        let m = Message::parse(b"OPTIONS sip:h SIP/2.0\r\n\r\n", false).unwrap();
        assert_eq!(m.call_id(), None);
        assert_eq!(m.from(), None);
        assert_eq!(m.contact(), None);
        assert_eq!(m.content_type(), None);
        assert_eq!(m.event(), None);
        assert_eq!(m.subscription_state(), None);
        assert_eq!(m.refer_sub(), None);
        assert_eq!(m.target_dialog(), None);
        assert_eq!(m.user_agent(), None);
        assert_eq!(m.referred_by(), None);
        assert!(m.vias().is_empty());
        assert!(m.refer_to().is_empty());
    }

    #[test]
    fn every_prefix_of_a_long_message_parses_without_panic() {
        let raw = [
            INVITE,
            b"\r\nSIP/2.0 200 OK\nv: SIP/2.0/UDP [::1]:5\r\n x\r\nr: <sip:a@b?Replaces=%4",
        ]
        .concat();
        for end in 0..=raw.len() {
            for stream in [false, true] {
                if let Ok(m) = Message::parse(&raw[..end], stream) {
                    let _ = (
                        m.vias(),
                        m.refer_to(),
                        m.from(),
                        m.cseq(),
                        m.content_length(),
                    );
                    assert!(m.problems().iter().all(|p| p.offset <= end));
                }
            }
        }
    }

    #[test]
    fn a_stray_blank_line_inside_the_headers_is_read_over_when_unambiguous() {
        let raw = b"REFER sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP p;branch=z9hG4bK1\r\nRecord-Route: <sip:p;lr>\n\r\nFrom: <sip:b@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REFER\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(raw, false).expect("parses");
        assert_eq!(m.call_id(), Some(&b"c"[..]));
        assert!(m.body().is_empty());
        let k = kinds(&m);
        assert!(k.contains(&ProblemKind::StrayBlankLine), "{k:?}");
        assert!(
            !k.iter()
                .any(|k| matches!(k, ProblemKind::MissingMandatoryHeader { .. }))
        );
        // A body was announced before it: the blank line ends the headers.
        let raw = b"REFER sip:a@h SIP/2.0\r\nContent-Type: text/plain\n\r\nCall-ID: c\r\n\r\n";
        let m = Message::parse(raw, false).expect("parses");
        assert_eq!(m.call_id(), None);
        assert!(!kinds(&m).contains(&ProblemKind::StrayBlankLine));
        // A CRLF CRLF is always the end, whatever follows.
        let raw = b"MESSAGE sip:a@h SIP/2.0\r\nCall-ID: c\r\n\r\nX-Not-A-Header: body text\r\n";
        let m = Message::parse(raw, false).expect("parses");
        assert_eq!(m.body(), &b"X-Not-A-Header: body text\r\n"[..]);
    }
}
