//! What the transfer stage keeps of the messages it needs: REFERs, NOTIFYs and the
//! initial INVITEs that may be triggered by a REFER, each with its responses. Small
//! and owned; one record per request, however many hops and retransmissions carried it.
//!
//! Guarantees:
//! - Every lookup the linker makes is by key, never a scan over all records: a request
//!   finds its record by its identity (Call-ID, From tag, CSeq, method, bottom Via
//!   branch); a NOTIFY joins the latest REFER of its subscription (Call-ID and the
//!   transferor's tag) as it arrives; an INVITE is found by the clues a triggered call
//!   shows ([`Clue`]).
//! - Memory follows the pending transfers: a REFER's record (with its NOTIFYs) goes when
//!   the linker lets it go, and INVITE records go once no pending REFER can use them.
//!   NOTIFYs of a subscription whose REFER the capture lacks are counted, not kept.

use foldhash::HashMap;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use crate::capture::FrameRef;
use crate::dialog::Party;
use crate::net::{Flow, Transport};
use crate::sip::{Message, Method, NameAddr, Replaces, Sipfrag, Uri};

/// Lossy text of wire bytes (escaped only when printed).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A party named by a header value.
pub fn party(addr: &NameAddr<'_>) -> Party {
    Party {
        name: addr
            .display
            .map(|d| text(d).trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty()),
        uri: text(addr.uri),
    }
}

/// `user@host` of a URI, lower-cased host, for comparisons that ignore parameters
/// (DESIGN.md: "compare user and host, not parameters").
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aor {
    pub user: Option<String>,
    pub host: String,
}

impl Aor {
    pub fn of(uri: &Uri<'_>) -> Aor {
        Aor {
            user: uri.user.map(text),
            host: text(uri.host).to_ascii_lowercase(),
        }
    }
    pub fn parse(uri: &str) -> Option<Aor> {
        Uri::parse(uri.as_bytes()).map(|u| Aor::of(&u))
    }
}

/// One place a request or response was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub frame: FrameRef,
    pub flow: Flow,
    pub transport: Transport,
}

/// A response to one of the recorded requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub frame: FrameRef,
    pub flow: Flow,
    pub status: u16,
    pub reason: String,
    /// `Refer-Sub` in the response (RFC 4488 §4).
    pub refer_sub: Option<bool>,
    pub to_tag: Option<String>,
}

/// A Refer-To value (RFC 3515 §2.1), decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferTarget {
    /// The value as written.
    pub raw: String,
    pub name: Option<String>,
    /// The URI without `<>`, headers included.
    pub uri: String,
    /// `user@host` when the URI parses.
    pub aor: Option<Aor>,
    /// The `?Replaces=` header, percent-decoded (RFC 3891 §4).
    pub replaces: Option<Replaces>,
}

/// What every recorded request has.
#[derive(Clone, Debug)]
pub struct Request {
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub cseq: u32,
    pub from: Party,
    pub to: Party,
    pub request_uri: String,
    /// Every hop it was seen on, earliest first (a proxy relays it once per hop).
    pub sightings: Vec<Sighting>,
    /// Copies seen again on a hop already seen.
    pub retransmissions: u32,
    /// Where the first few of those copies were seen.
    pub retransmitted_at: Vec<Sighting>,
    /// Responses in the order seen, every hop.
    pub responses: Vec<Response>,
}

/// Capture time, then the order of analysis: a pcapng with several interfaces (or
/// merged files) may store the copies of one message out of time order, and which copy
/// came first is a matter of time, not of frame number.
fn by_time(f: &FrameRef) -> (i64, u64) {
    (f.ts_ns, f.seq)
}

impl Request {
    /// Where it was first seen: the earliest copy in time (frame order breaks ties).
    pub fn first(&self) -> Option<&Sighting> {
        self.sightings.iter().min_by_key(|s| by_time(&s.frame))
    }
    pub fn first_frame(&self) -> FrameRef {
        self.first().map(|s| s.frame).unwrap_or_default()
    }
    /// The sender's address on the first hop in time (a phone, when the capture sees
    /// it).
    pub fn sender(&self) -> Option<SocketAddr> {
        self.first().map(|s| s.flow.src)
    }
    /// The receiver's address on the last hop in time (the phone behind any proxy).
    pub fn receiver(&self) -> Option<SocketAddr> {
        self.sightings
            .iter()
            .max_by_key(|s| by_time(&s.frame))
            .map(|s| s.flow.dst)
    }
    /// The earliest final response in time.
    pub fn final_response(&self) -> Option<&Response> {
        self.responses
            .iter()
            .filter(|r| r.status >= 200)
            .min_by_key(|r| by_time(&r.frame))
    }
}

/// A REFER (RFC 3515).
#[derive(Clone, Debug)]
pub struct ReferRecord {
    pub request: Request,
    /// Every Refer-To value (there must be exactly one, §2.4.1).
    pub targets: Vec<ReferTarget>,
    pub referred_by: Option<Party>,
    pub refer_sub: Option<bool>,
    /// `Target-Dialog` (RFC 4538): call-id, local tag, remote tag.
    pub target_dialog: Option<(String, Option<String>, Option<String>)>,
    /// The NOTIFYs of its subscription (RFC 3515 §2.4.4), in the order seen: sent by the
    /// transferee to the transferor's tag in the REFER's Call-ID, after the REFER and
    /// before the next REFER of the same side of that dialog, with `Event: refer` and
    /// an `id` equal to the REFER's CSeq when there is one (§2.4.6).
    pub notifies: Vec<NotifyRecord>,
    key: Key,
    /// The clues its triggered INVITE would show, while the REFER is unresolved.
    clues: Vec<Clue>,
}

impl ReferRecord {
    /// The clues an INVITE this REFER triggered would show: the Call-ID its Replaces
    /// names, its Referred-By, the transferee's URI, and every address it was
    /// delivered to (the transferee, behind whatever relayed it).
    fn wanted_clues(&self) -> Vec<Clue> {
        let mut clues = Vec::new();
        if let Some(call_id) = self
            .targets
            .first()
            .and_then(|t| t.replaces.as_ref()?.call_id.clone())
        {
            clues.push(Clue::Replaces(call_id));
        }
        if let Some(aor) = self.referred_by.as_ref().and_then(|p| Aor::parse(&p.uri)) {
            clues.push(Clue::ReferredBy(aor));
        }
        if let Some(aor) = Aor::parse(&self.request.to.uri) {
            clues.push(Clue::From(aor));
        }
        for s in &self.request.sightings {
            let clue = Clue::Sender(s.flow.dst);
            if !clues.contains(&clue) {
                clues.push(clue);
            }
        }
        clues
    }
}

/// The state of a subscription as a NOTIFY says it (RFC 6665 §8.2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionState {
    pub state: String,
    pub reason: Option<String>,
    pub malformed: bool,
}

/// A NOTIFY (RFC 3515 §2.4.4, RFC 6665).
#[derive(Clone, Debug)]
pub struct NotifyRecord {
    pub request: Request,
    /// `Event` package and its `id` parameter.
    pub event: Option<(String, Option<String>)>,
    pub subscription_state: Option<SubscriptionState>,
    pub content_type: Option<String>,
    /// The sipfrag status line (RFC 3420), when the body has one.
    pub sipfrag_status: Option<u16>,
    pub sipfrag_line: Option<String>,
    key: Key,
}

/// An initial INVITE (no to-tag) that may be the call a REFER triggered.
#[derive(Clone, Debug)]
pub struct InviteRecord {
    pub request: Request,
    pub request_aor: Option<Aor>,
    pub replaces: Vec<Replaces>,
    pub referred_by: Option<Party>,
    key: Key,
}

/// The clues under which an initial INVITE can be found (see [`Clue`]), read off the
/// message itself, so that an INVITE no REFER waits for is never recorded.
fn invite_clues(msg: &Message<'_>, sighting: &Sighting) -> Vec<Clue> {
    let mut clues = vec![
        Clue::Sender(sighting.flow.src),
        Clue::Leg(
            msg.call_id().map(text).unwrap_or_default(),
            msg.from_tag().map(text).unwrap_or_default(),
        ),
    ];
    for call_id in msg.replaces().into_iter().filter_map(|rp| rp.call_id) {
        let clue = Clue::Replaces(call_id);
        if !clues.contains(&clue) {
            clues.push(clue);
        }
    }
    if let Some(aor) = msg.referred_by().and_then(|p| Aor::parse(&text(p.uri))) {
        clues.push(Clue::ReferredBy(aor));
    }
    if let Some(aor) = msg.from().and_then(|p| Aor::parse(&text(p.uri))) {
        clues.push(Clue::From(aor));
    }
    clues
}

/// What a triggered INVITE is looked up by: the evidence that can link it to a REFER
/// (RFC 3891 Replaces, RFC 3892 Referred-By, the transferee as sender) and its leg.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Clue {
    /// Call-ID and From tag: every INVITE attempt of one call leg.
    Leg(String, String),
    /// The Call-ID its Replaces header names.
    Replaces(String),
    /// The user and host of its Referred-By.
    ReferredBy(Aor),
    /// The address it was first sent from.
    Sender(SocketAddr),
    /// The user and host of its From.
    From(Aor),
}

/// Identity of a request across hops and retransmissions: Call-ID, From tag, CSeq,
/// method and the branch of the bottom Via, which the originating UA set and proxies
/// keep (RFC 3261 §16.6 step 8 adds Vias on top). Kept as a 64-bit digest of those
/// fields, so that looking up a response allocates nothing; the hasher's seed is random
/// per run, so a capture cannot be crafted to make two requests collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    digest: u64,
    method: RecordKind,
}

/// The requests the transfer stage records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RecordKind {
    Refer,
    Notify,
    Invite,
}

/// Where a request's record lives.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// The REFER with this serial.
    Refer(usize),
    /// The NOTIFY at this position of the REFER with this serial.
    Notify(usize, usize),
    /// The INVITE with this serial.
    Invite(usize),
}

/// Retransmissions and stray requests kept with their frames (the rest are counted).
const MAX_KEPT: usize = 16;

/// A request that carries Replaces although it is not an INVITE (RFC 3891 §3).
#[derive(Clone, Debug)]
pub struct StrayReplaces {
    pub sighting: Sighting,
    pub method: String,
    pub call_id: String,
}

/// How long after a REFER an INVITE is worth recording as its possible new call, and
/// how late after the REFER an INVITE may come to be taken as the call it triggered.
pub const TRIGGER_WINDOW_NS: i64 = 120_000_000_000;

/// Collects the records while the capture streams by.
#[derive(Default)]
pub struct Collector {
    /// REFERs not yet let go, by serial (counted from the first REFER ever seen).
    refers: BTreeMap<usize, ReferRecord>,
    next_refer: usize,
    /// The latest REFER of each side of a dialog: (Call-ID, transferor's tag) → serial.
    /// Its NOTIFYs join it as they come.
    subscriptions: HashMap<(String, String), usize>,
    /// INVITEs that may be a triggered call, oldest first; serials count from the first
    /// ever recorded, so they survive [`Collector::forget_invites_before`].
    invites: VecDeque<InviteRecord>,
    forgotten_invites: usize,
    /// INVITE serials by clue, each list in serial order.
    clues: HashMap<Clue, Vec<usize>>,
    /// Requests other than INVITE that carry a Replaces header (the first few).
    pub stray_replaces: Vec<StrayReplaces>,
    /// Each request's record.
    index: HashMap<Key, Slot>,
    /// The seed of request digests ([`Key`]).
    seed: foldhash::fast::RandomState,
    /// The clues that unresolved REFERs wait for, with how many wait for each: only an
    /// INVITE that shows one is recorded.
    wanted: HashMap<Clue, u32>,
    /// NOTIFYs with `Event: refer` (or none) whose REFER is not in the capture.
    pub orphan_notifies: u64,
}

fn key(msg: &Message<'_>, method: RecordKind, seed: &foldhash::fast::RandomState) -> Option<Key> {
    use std::hash::{BuildHasher, Hash, Hasher};
    let cseq = msg.cseq()?;
    let origin = msg.bottom_via().and_then(|v| v.branch).unwrap_or_default();
    let mut h = seed.build_hasher();
    msg.call_id()?.hash(&mut h);
    msg.from_tag().unwrap_or_default().hash(&mut h);
    cseq.seq.hash(&mut h);
    method.hash(&mut h);
    origin.hash(&mut h);
    Some(Key {
        digest: h.finish(),
        method,
    })
}

fn request(msg: &Message<'_>, sighting: Sighting) -> Request {
    let from = msg.from();
    let to = msg.to();
    let uri = match msg.start_line() {
        crate::sip::StartLine::Request { uri, .. } => text(uri),
        crate::sip::StartLine::Response { .. } => String::new(),
    };
    Request {
        call_id: msg.call_id().map(text).unwrap_or_default(),
        from_tag: from.and_then(|f| f.tag()).map(text).unwrap_or_default(),
        to_tag: to.and_then(|t| t.tag()).filter(|t| !t.is_empty()).map(text),
        cseq: msg.cseq().map_or(0, |c| c.seq),
        from: from.as_ref().map(party).unwrap_or_default(),
        to: to.as_ref().map(party).unwrap_or_default(),
        request_uri: uri,
        sightings: vec![sighting],
        retransmissions: 0,
        retransmitted_at: Vec::new(),
        responses: Vec::new(),
    }
}

impl Collector {
    fn request_mut(&mut self, slot: Slot) -> Option<&mut Request> {
        match slot {
            Slot::Refer(serial) => self.refers.get_mut(&serial).map(|r| &mut r.request),
            Slot::Notify(serial, at) => self
                .refers
                .get_mut(&serial)
                .and_then(|r| r.notifies.get_mut(at))
                .map(|n| &mut n.request),
            Slot::Invite(serial) => {
                let at = serial.checked_sub(self.forgotten_invites)?;
                self.invites.get_mut(at).map(|r| &mut r.request)
            }
        }
    }

    /// The serial the next REFER record will get.
    pub fn next_refer_serial(&self) -> usize {
        self.next_refer
    }

    /// The REFER record with this serial, unless it was let go.
    pub fn refer(&self, serial: usize) -> Option<&ReferRecord> {
        self.refers.get(&serial)
    }

    /// A REFER seen on one more hop: its transferee may be behind that one.
    fn refer_delivered(&mut self, serial: usize, sighting: Sighting) {
        let Some(r) = self.refers.get_mut(&serial) else {
            return;
        };
        let clue = Clue::Sender(sighting.flow.dst);
        if r.clues.is_empty() || r.clues.contains(&clue) {
            return;
        }
        *self.wanted.entry(clue.clone()).or_default() += 1;
        r.clues.push(clue);
    }

    /// The linker resolved this REFER: no INVITE from now on can be its new call.
    pub fn resolved(&mut self, serial: usize) {
        let Some(r) = self.refers.get_mut(&serial) else {
            return;
        };
        for clue in std::mem::take(&mut r.clues) {
            if let Some(n) = self.wanted.get_mut(&clue) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.wanted.remove(&clue);
                }
            }
        }
    }

    /// Whether an INVITE of this leg (Call-ID, From tag) is recorded: its dialog may
    /// be a transfer's new call.
    pub fn has_invite_leg(&self, call_id: &str, from_tag: &str) -> bool {
        self.clues
            .contains_key(&Clue::Leg(call_id.to_string(), from_tag.to_string()))
    }

    /// Lets go of a REFER record and its NOTIFYs: its transfer is built.
    pub fn release_refer(&mut self, serial: usize) {
        self.resolved(serial);
        let Some(r) = self.refers.remove(&serial) else {
            return;
        };
        self.index.remove(&r.key);
        for n in &r.notifies {
            self.index.remove(&n.key);
        }
        let side = (r.request.call_id, r.request.from_tag);
        if self.subscriptions.get(&side) == Some(&serial) {
            self.subscriptions.remove(&side);
        }
    }

    /// The INVITE record with this serial, unless it was let go.
    pub fn invite(&self, serial: usize) -> Option<&InviteRecord> {
        self.invites
            .get(serial.checked_sub(self.forgotten_invites)?)
    }

    /// Serials of the INVITEs recorded under any of these clues, in serial order (the
    /// order they were first seen), each once.
    pub fn invites_by(&self, clues: &[Clue]) -> Vec<usize> {
        let mut serials: Vec<usize> = clues
            .iter()
            .filter_map(|c| self.clues.get(c))
            .flatten()
            .copied()
            .filter(|&s| s >= self.forgotten_invites)
            .collect();
        serials.sort_unstable();
        serials.dedup();
        serials
    }

    /// Lets go of the INVITE records first seen before `frame`: no REFER still to be
    /// linked can use them (its new call comes after it).
    pub fn forget_invites_before(&mut self, frame: FrameRef) {
        let gone = self
            .invites
            .iter()
            .take_while(|i| i.request.first_frame() < frame)
            .count();
        if gone == 0 {
            return;
        }
        for invite in self.invites.drain(..gone) {
            self.index.remove(&invite.key);
        }
        self.forgotten_invites += gone;
        let first = self.forgotten_invites;
        self.clues.retain(|_, serials| {
            serials.retain(|&s| s >= first);
            !serials.is_empty()
        });
    }

    /// Takes one SIP message into account.
    pub fn observe(&mut self, msg: &Message<'_>, sighting: Sighting) {
        let method = match msg.method().or(msg.cseq().map(|c| c.method)) {
            Some(Method::Refer) => Some(RecordKind::Refer),
            Some(Method::Notify) => Some(RecordKind::Notify),
            Some(Method::Invite) => Some(RecordKind::Invite),
            _ => None,
        };
        // Replaces belongs in an INVITE only (RFC 3891 §3).
        if let Some(m) = msg.method()
            && m != Method::Invite
            && self.stray_replaces.len() < MAX_KEPT
            && msg.header(crate::sip::HeaderName::Replaces).is_some()
        {
            self.stray_replaces.push(StrayReplaces {
                sighting,
                method: m.as_str().into_owned(),
                call_id: msg.call_id().map(text).unwrap_or_default(),
            });
        }
        let Some(method) = method else {
            return;
        };
        let Some(key) = key(msg, method, &self.seed) else {
            return;
        };
        if msg.is_request() {
            self.request(msg, key, sighting);
        } else if let Some(&slot) = self.index.get(&key) {
            let response = Response {
                frame: sighting.frame,
                flow: sighting.flow,
                status: msg.status().unwrap_or_default(),
                reason: match msg.start_line() {
                    crate::sip::StartLine::Response { reason, .. } => text(reason),
                    crate::sip::StartLine::Request { .. } => String::new(),
                },
                refer_sub: msg.refer_sub(),
                to_tag: msg.to_tag().map(text),
            };
            if let Some(request) = self.request_mut(slot) {
                // A response retransmitted on the same hop adds nothing.
                let again = request
                    .responses
                    .iter()
                    .any(|r| r.status == response.status && r.flow == response.flow);
                if !again {
                    crate::push_few(&mut request.responses, response);
                }
            }
        }
    }

    fn request(&mut self, msg: &Message<'_>, key: Key, sighting: Sighting) {
        if let Some(&slot) = self.index.get(&key) {
            if let Some(request) = self.request_mut(slot) {
                if request.sightings.iter().any(|s| s.flow == sighting.flow) {
                    request.retransmissions = request.retransmissions.saturating_add(1);
                    if request.retransmitted_at.len() < MAX_KEPT {
                        crate::push_few(&mut request.retransmitted_at, sighting);
                    }
                } else {
                    request.sightings.push(sighting);
                    if let Slot::Refer(serial) = slot {
                        self.refer_delivered(serial, sighting);
                    }
                }
            }
            return;
        }
        match key.method {
            RecordKind::Refer => self.refer_request(msg, key, sighting),
            RecordKind::Notify => self.notify_request(msg, key, sighting),
            RecordKind::Invite => self.invite_request(msg, key, sighting),
        }
    }

    fn refer_request(&mut self, msg: &Message<'_>, key: Key, sighting: Sighting) {
        let targets = msg
            .refer_to()
            .iter()
            .map(|t| {
                let uri = t.parsed_uri();
                ReferTarget {
                    raw: text(t.uri),
                    name: party(t).name,
                    uri: text(t.uri),
                    aor: uri.as_ref().map(Aor::of),
                    replaces: t.replaces(),
                }
            })
            .collect();
        let record = ReferRecord {
            request: request(msg, sighting),
            targets,
            referred_by: msg.referred_by().as_ref().map(party),
            refer_sub: msg.refer_sub(),
            target_dialog: msg.target_dialog().map(|t| {
                (
                    text(t.call_id),
                    t.local_tag.map(text),
                    t.remote_tag.map(text),
                )
            }),
            notifies: Vec::new(),
            key,
            clues: Vec::new(),
        };
        let mut record = record;
        record.clues = record.wanted_clues();
        for clue in &record.clues {
            *self.wanted.entry(clue.clone()).or_default() += 1;
        }
        let serial = self.next_refer;
        self.next_refer += 1;
        self.index.insert(key, Slot::Refer(serial));
        let side = (
            record.request.call_id.clone(),
            record.request.from_tag.clone(),
        );
        self.subscriptions.insert(side, serial);
        self.refers.insert(serial, record);
    }

    fn notify_request(&mut self, msg: &Message<'_>, key: Key, sighting: Sighting) {
        let sipfrag = Sipfrag::parse(msg.body());
        let record = NotifyRecord {
            request: request(msg, sighting),
            event: msg
                .event()
                .map(|e| (text(e.package).to_ascii_lowercase(), e.id.map(text))),
            subscription_state: msg.subscription_state().map(|s| SubscriptionState {
                state: text(s.state).to_ascii_lowercase(),
                reason: s.reason.map(text),
                malformed: s.malformed,
            }),
            content_type: msg.content_type().map(|c| text(c).to_ascii_lowercase()),
            sipfrag_status: sipfrag.and_then(|s| s.status),
            sipfrag_line: sipfrag.map(|s| text(s.first_line)),
            key,
        };
        // The subscription: the transferee sends its NOTIFYs to the transferor's tag.
        let side = (
            record.request.call_id.clone(),
            record.request.to_tag.clone().unwrap_or_default(),
        );
        let refer = self
            .subscriptions
            .get(&side)
            .copied()
            .and_then(|serial| Some((serial, self.refers.get_mut(&serial)?)));
        let Some((serial, refer)) = refer else {
            if record.event.as_ref().is_none_or(|(p, _)| p == "refer") {
                self.orphan_notifies += 1;
            }
            return;
        };
        let cseq = refer.request.cseq.to_string();
        let belongs = record.event.as_ref().is_none_or(|(package, id)| {
            package == "refer" && id.as_deref().is_none_or(|id| id.trim() == cseq)
        });
        if !belongs {
            return;
        }
        self.index
            .insert(key, Slot::Notify(serial, refer.notifies.len()));
        crate::push_few(&mut refer.notifies, record);
    }

    fn invite_request(&mut self, msg: &Message<'_>, key: Key, sighting: Sighting) {
        // Only initial INVITEs can be a triggered call; keep those that show a clue an
        // unresolved REFER waits for.
        if msg.to_tag().is_some_and(|t| !t.is_empty()) {
            return;
        }
        if self.wanted.is_empty() {
            return;
        }
        let clues = invite_clues(msg, &sighting);
        if !clues.iter().any(|c| self.wanted.contains_key(c)) {
            return;
        }
        let record = InviteRecord {
            request: request(msg, sighting),
            request_aor: msg.request_uri().map(|u| Aor::of(&u)),
            replaces: msg.replaces(),
            referred_by: msg.referred_by().as_ref().map(party),
            key,
        };
        let serial = self.forgotten_invites + self.invites.len();
        for clue in clues {
            self.clues.entry(clue).or_default().push(serial);
        }
        self.index.insert(key, Slot::Invite(serial));
        self.invites.push_back(record);
    }
}
