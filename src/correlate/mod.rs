//! The legs of a call through a back-to-back user agent (B2BUA), tied together.
//!
//! A PBX or an SBC ends the dialog a phone starts and starts another one of its own,
//! with a new Call-ID and new tags: every call through it is two or more INVITE
//! dialogs, *legs*. This stage keeps a small record of each leg as the messages go by
//! ([`Correlator::observe`]) and, asked about a leg, finds the legs on the other side
//! of the box ([`Correlator::partners`]).
//!
//! A **box** is an address that is the UAS of one leg and the UAC of the other
//! (compared by IP address: a box may answer on one port and call from another).
//! Two legs are tied only through a box, only when they overlap in time, and only on
//! evidence, kept per tie, strongest first:
//!
//! 1. headers that carry a correlation id: `X-Call-ID` / `X-CID` naming the other
//!    leg's Call-ID ([`X_CALL_ID`]), RFC 7989 `Session-ID` (the local UUID, [`SESSION_ID`]),
//!    `P-Charging-Vector` `icid-value` (RFC 7315, [`ICID`]), the same `Replaces` on
//!    both legs after any rewriting ([`REPLACES`]), the same `Referred-By` ([`REFERRED_BY`]);
//! 2. SDP: the same `o=` session (username, session id, address; [`SDP_ORIGIN`]) or
//!    the same media address and port ([`SDP_MEDIA`]);
//! 3. timing and numbers: a leg out of the box started within [`DIAL_WINDOW_NS`]
//!    after a leg into it, to the same dialled user ([`TIMING_NUMBER`]).
//!
//! Guarantees:
//! - Every lookup is by key (correlation value, SDP origin, box address and dialled
//!   user); a key shared by more than [`MAX_PER_KEY`] legs (a constant SDP origin of
//!   some phone model, say) stops counting as evidence, so the cost stays linear.
//! - Nothing here reads a Call-ID's text for meaning: two Call-IDs that share a
//!   suffix are unrelated unless the evidence above ties them.
//! - Never panics on wire bytes; values are kept lossily decoded, escaped only when
//!   printed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use foldhash::{HashMap, HashMapExt};

use crate::capture::FrameRef;
use crate::dialog::Party;
use crate::net::Flow;
use crate::sip::header::HeaderName;
use crate::sip::{Message, Method, NameAddr, sdp};

/// Evidence names, as the JSON and the text show them, strongest first.
pub const X_CALL_ID: &str = "x-call-id";
pub const SESSION_ID: &str = "session-id";
pub const ICID: &str = "icid";
pub const REPLACES: &str = "replaces";
pub const REFERRED_BY: &str = "referred-by";
pub const SDP_ORIGIN: &str = "sdp-origin";
pub const SDP_MEDIA: &str = "sdp-media";
pub const TIMING_NUMBER: &str = "timing+number";

/// The order of trust of the evidence names.
const TRUST: [&str; 8] = [
    X_CALL_ID,
    SESSION_ID,
    ICID,
    REPLACES,
    REFERRED_BY,
    SDP_ORIGIN,
    SDP_MEDIA,
    TIMING_NUMBER,
];

/// How soon after a leg into a box a leg out of it, to the same user, counts as the
/// same call.
pub const DIAL_WINDOW_NS: i64 = 2_000_000_000;

/// Legs one key may tie before it stops being evidence.
pub const MAX_PER_KEY: usize = 8;

/// Frames remembered per leg with their sender, for findings to name the box.
const MAX_SENT: usize = 64;

/// What is kept of one leg (an INVITE dialog: Call-ID and the caller's tag).
#[derive(Clone, Debug)]
pub struct LegRecord {
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub caller: Party,
    pub callee: Party,
    /// Sender and receiver of the first copy of the initial INVITE.
    pub caller_addr: SocketAddr,
    pub callee_addr: SocketAddr,
    /// The user part of the initial INVITE's Request-URI (the dialled number).
    pub dialled: Option<String>,
    pub invite: FrameRef,
    /// CSeq number of the latest initial INVITE (a challenged INVITE is retried with
    /// a higher one; a re-INVITE carries both tags).
    pub invite_cseq: u32,
    /// Some response to the initial INVITE was seen (a provisional one stops Timer B).
    pub responded: bool,
    /// The first 2xx to the initial INVITE.
    pub answered: Option<FrameRef>,
    /// The final error status of the initial INVITE, if it failed.
    pub failed: Option<(FrameRef, u16)>,
    /// The first BYE and who sent it.
    pub bye: Option<(FrameRef, SocketAddr)>,
    /// SDP sessions seen on the leg (`o=` key) with the first frame of each.
    pub origins: Vec<(String, FrameRef)>,
    /// Media addresses offered or answered on the leg.
    pub media: Vec<SocketAddr>,
    /// Correlation values seen (evidence name, value).
    pub ids: Vec<(&'static str, String)>,
    /// Frames of the leg (number) with their sender, the first [`MAX_SENT`].
    pub sent: Vec<(u32, u64, SocketAddr)>,
}

impl LegRecord {
    /// When the leg ended (its BYE, or the final error), if it did.
    pub fn end(&self) -> Option<FrameRef> {
        self.bye.map(|(f, _)| f).or(self.failed.map(|(f, _)| f))
    }

    /// The far end of the leg seen from box `ip`: the caller when the box is the
    /// callee, else the callee.
    pub fn far_end(&self, box_ip: IpAddr) -> (&Party, SocketAddr) {
        if self.callee_addr.ip() == box_ip {
            (&self.caller, self.caller_addr)
        } else {
            (&self.callee, self.callee_addr)
        }
    }
}

/// A tie between two legs through a box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tie {
    /// The other leg's serial.
    pub other: usize,
    /// The box: the address that is the UAS of one leg and the UAC of the other, as
    /// the leg into the box names it.
    pub via: SocketAddr,
    /// Evidence, strongest first.
    pub evidence: Vec<&'static str>,
}

/// How long a leg is remembered, in capture time, after it ended: two grace times
/// (64 s). A transfer is built within a grace time of its calls ending, so its legs
/// are still here when it is.
pub const ENDED_LEG_MEMORY_NS: i64 = 2 * crate::dialog::GRACE_NS;

/// How long a leg whose INVITE got only provisional responses is remembered after
/// the INVITE: ten grace times (320 s), beyond Timer C (3 min, RFC 3261 §16.6), by
/// when an INVITE is answered or fails. One that got no response at all goes after
/// Timer B (64*T1 = 32 s, RFC 3261 §17.1.1.2), as the dialog tracker lets it go.
pub const RINGING_LEG_MEMORY_NS: i64 = 10 * crate::dialog::GRACE_NS;

/// Leg records and their indexes.
#[derive(Default)]
pub struct Correlator {
    /// By serial; a leg let go leaves `None` until a new leg takes the slot (a
    /// serial is unlisted everywhere before it is reused).
    legs: Vec<Option<LegRecord>>,
    /// Slots of legs let go, for new legs.
    free: Vec<usize>,
    /// Hash of (Call-ID, caller's tag) → serials ([`leg_key`]): looked up for every
    /// message without building a key.
    by_key: HashMap<u64, Vec<usize>>,
    /// Keep every leg to the end (for `calls --correlate`), or let go of those over
    /// (see [`ENDED_LEG_MEMORY_NS`], [`RINGING_LEG_MEMORY_NS`]).
    keep_all: bool,
    /// When to look at a leg again, earliest first: let go if it is over by then. A
    /// heap, not a queue: legs are looked at again after different times (32 s, 64 s,
    /// 320 s), and a queue in push order would let one leg due late hold back every
    /// leg behind it (a ringing leg: 5 minutes of calls kept).
    expiry: BinaryHeap<Reverse<(i64, usize)>>,
    /// Call-ID → serials (the few legs of one Call-ID: forks, retries).
    by_call_id: HashMap<String, Vec<usize>>,
    /// (evidence name, value) → serials, at most [`MAX_PER_KEY`] + 1.
    by_value: HashMap<(&'static str, String), Vec<usize>>,
    /// (box IP, dialled user) → serials of the legs into that box and out of it.
    /// In INVITE order, so legs let go (oldest first) leave from the front.
    into_box: HashMap<(IpAddr, String), VecDeque<usize>>,
    out_of_box: HashMap<(IpAddr, String), VecDeque<usize>>,
}

/// Lossy text of wire bytes.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn party(addr: Option<NameAddr<'_>>) -> Party {
    addr.map(|a| Party {
        name: a
            .display
            .map(|d| text(d).trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty()),
        uri: text(a.uri),
    })
    .unwrap_or_default()
}

/// A dialled user, compared without a leading `+` and case.
fn dialled_user(user: &[u8]) -> String {
    text(user).trim_start_matches('+').to_ascii_lowercase()
}

/// The correlation values a message carries, by evidence name.
fn correlation_ids(m: &Message<'_>) -> Vec<(&'static str, String)> {
    let mut ids = Vec::new();
    for h in m.headers() {
        match h.name {
            HeaderName::Other => {
                let name = h.raw_name;
                let value = text(h.value);
                if name.eq_ignore_ascii_case(b"X-Call-ID") || name.eq_ignore_ascii_case(b"X-CID") {
                    ids.push((X_CALL_ID, value.trim().to_string()));
                } else if name.eq_ignore_ascii_case(b"Session-ID") {
                    // RFC 7989 §5: the local UUID, before any parameter; the null
                    // UUID identifies nothing.
                    let uuid = value
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    if !uuid.is_empty() && uuid.bytes().any(|b| b != b'0') {
                        ids.push((SESSION_ID, uuid));
                    }
                } else if name.eq_ignore_ascii_case(b"P-Charging-Vector")
                    && let Some(icid) = value.split(';').find_map(|p| {
                        let (k, v) = p.split_once('=')?;
                        k.trim()
                            .eq_ignore_ascii_case("icid-value")
                            .then(|| v.trim().trim_matches('"').to_string())
                    })
                    && !icid.is_empty()
                {
                    ids.push((ICID, icid));
                }
            }
            HeaderName::Replaces => {
                let r = crate::sip::Replaces::parse(h.value);
                if let (Some(c), Some(t), Some(f)) = (r.call_id, r.to_tag, r.from_tag) {
                    ids.push((REPLACES, format!("{c};to-tag={t};from-tag={f}")));
                }
            }
            HeaderName::ReferredBy => {
                if let Some(uri) = NameAddr::parse(h.value).and_then(|a| a.parsed_uri()) {
                    let user = uri.user.map(text).unwrap_or_default();
                    ids.push((
                        REFERRED_BY,
                        format!("{user}@{}", text(uri.host).to_ascii_lowercase()),
                    ));
                }
            }
            _ => {}
        }
    }
    ids
}

/// Whether wire bytes read lossily are `kept`: compared as bytes first (valid UTF-8,
/// the usual case, costs no decoding).
fn same_text(bytes: &[u8], kept: &str) -> bool {
    bytes == kept.as_bytes() || String::from_utf8_lossy(bytes) == kept
}

/// The key legs are found by for each message: a hash of the Call-ID and the
/// caller's tag (the records are compared on lookup, so a collision costs nothing).
fn leg_key(call_id: &[u8], from_tag: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    call_id.hash(&mut h);
    from_tag.hash(&mut h);
    h.finish()
}

/// Takes `serial` out of the list under `key`, and the list when it is empty.
fn unlist<K: std::hash::Hash + Eq>(index: &mut HashMap<K, Vec<usize>>, key: &K, serial: usize) {
    if let Some(list) = index.get_mut(key) {
        list.retain(|&s| s != serial);
        if list.is_empty() {
            index.remove(key);
        }
    }
}

/// Takes `serial` out of a list in INVITE order, looking from the oldest: a number
/// dialled thousands of times costs no more to let go of.
fn unlist_oldest<K: std::hash::Hash + Eq>(
    index: &mut HashMap<K, VecDeque<usize>>,
    key: &K,
    serial: usize,
) {
    if let Some(list) = index.get_mut(key) {
        if let Some(at) = list.iter().position(|&s| s == serial) {
            list.remove(at);
        }
        if list.is_empty() {
            index.remove(key);
        }
    }
}

impl Correlator {
    /// A correlator; `keep_all` keeps every leg to the end of the capture (the
    /// end-to-end call list needs them), otherwise memory follows the live calls.
    pub fn new(keep_all: bool) -> Correlator {
        Correlator {
            keep_all,
            ..Correlator::default()
        }
    }

    pub fn leg(&self, serial: usize) -> Option<&LegRecord> {
        self.legs.get(serial)?.as_ref()
    }

    /// The leg of this Call-ID with this caller's tag, without allocating.
    fn serial_of(&self, call_id: &[u8], from_tag: &[u8]) -> Option<usize> {
        self.by_key
            .get(&leg_key(call_id, from_tag))?
            .iter()
            .copied()
            .find(|&s| {
                self.leg(s).is_some_and(|l| {
                    same_text(call_id, &l.call_id) && same_text(from_tag, &l.from_tag)
                })
            })
    }

    /// Lets go of the legs over by capture time `now`; a leg that got a response
    /// since it was queued is queued again for its longer memory.
    fn expire(&mut self, now: i64) {
        while let Some(&Reverse((due, serial))) = self.expiry.peek()
            && due <= now
        {
            self.expiry.pop();
            let Some(l) = self.leg(serial) else { continue };
            let until = match l.end() {
                Some(end) => end.ts_ns.saturating_add(ENDED_LEG_MEMORY_NS),
                None if l.answered.is_some() => continue, // up: queued again when it ends
                None if l.responded => l.invite.ts_ns.saturating_add(RINGING_LEG_MEMORY_NS),
                None => l.invite.ts_ns.saturating_add(crate::dialog::GRACE_NS),
            };
            if until <= now {
                self.forget(serial);
            } else {
                self.expiry.push(Reverse((until, serial)));
            }
        }
    }

    /// Takes a leg out of the records and of every index.
    fn forget(&mut self, serial: usize) {
        let Some(leg) = self.legs.get_mut(serial).and_then(Option::take) else {
            return;
        };
        self.free.push(serial);
        unlist(
            &mut self.by_key,
            &leg_key(leg.call_id.as_bytes(), leg.from_tag.as_bytes()),
            serial,
        );
        unlist(&mut self.by_call_id, &leg.call_id, serial);
        for (k, v) in &leg.ids {
            unlist(&mut self.by_value, &(*k, v.clone()), serial);
        }
        for (o, _) in &leg.origins {
            unlist(&mut self.by_value, &(SDP_ORIGIN, o.clone()), serial);
        }
        for a in &leg.media {
            unlist(&mut self.by_value, &(SDP_MEDIA, a.to_string()), serial);
        }
        if let Some(user) = leg.dialled {
            unlist_oldest(
                &mut self.into_box,
                &(leg.callee_addr.ip(), user.clone()),
                serial,
            );
            unlist_oldest(&mut self.out_of_box, &(leg.caller_addr.ip(), user), serial);
        }
    }

    pub fn len(&self) -> usize {
        self.legs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// The leg with this Call-ID whose tags include `tag` (either end's), or the only
    /// leg of the Call-ID when no tag is given.
    pub fn find(&self, call_id: &str, tag: Option<&str>) -> Option<usize> {
        let serials = self.by_call_id.get(call_id)?;
        match tag {
            Some(tag) => serials.iter().copied().find(|&s| {
                self.leg(s)
                    .is_some_and(|l| l.from_tag == tag || l.to_tag.as_deref() == Some(tag))
            }),
            None => serials.first().copied(),
        }
    }

    /// Takes one SIP message into account.
    pub fn observe(&mut self, frame: FrameRef, flow: Flow, m: &Message<'_>) {
        if !self.keep_all {
            self.expire(frame.ts_ns);
        }
        let (Some(call_id), Some(from_tag)) = (m.call_id(), m.from_tag()) else {
            return;
        };
        let is_invite = m.cseq().is_some_and(|c| c.method == Method::Invite);
        let initial_invite =
            m.is_request() && m.method() == Some(Method::Invite) && m.to_tag().is_none();
        let serial = match self.serial_of(call_id, from_tag) {
            Some(s) => Some(s),
            None if initial_invite => {
                Some(self.new_leg(frame, flow, m, &text(call_id), &text(from_tag)))
            }
            // A request of the callee carries its own tag in From.
            None => self.find(
                &String::from_utf8_lossy(call_id),
                Some(&String::from_utf8_lossy(from_tag)),
            ),
        };
        let Some(serial) = serial else { return };
        let ids = if is_invite {
            correlation_ids(m)
        } else {
            Vec::new()
        };
        let body = m.body();
        let (origin, media) = if is_invite && !body.is_empty() {
            (sdp::origin(body), sdp::media_endpoints(body))
        } else {
            (None, Vec::new())
        };
        let Some(leg) = self.legs.get_mut(serial).and_then(Option::as_mut) else {
            return;
        };
        let ended = leg.end().is_some();
        if initial_invite && let Some(c) = m.cseq() {
            leg.invite_cseq = leg.invite_cseq.max(c.seq);
        }
        let here = (frame.file, frame.number);
        if leg.sent.len() < MAX_SENT && !leg.sent.iter().any(|&(f, n, _)| (f, n) == here) {
            crate::push_few(&mut leg.sent, (frame.file, frame.number, flow.src));
        }
        if let Some(status) = m.status() {
            let initial = is_invite && m.cseq().is_some_and(|c| c.seq == leg.invite_cseq);
            leg.responded |= initial;
            if initial && (200..300).contains(&status) && leg.answered.is_none() {
                leg.answered = Some(frame);
                if leg.to_tag.is_none() {
                    leg.to_tag = m.to_tag().map(text);
                }
            } else if initial && status >= 300 && leg.failed.is_none() && leg.answered.is_none() {
                leg.failed = Some((frame, status));
            }
        } else if m.method() == Some(Method::Bye) && leg.bye.is_none() {
            leg.bye = Some((frame, flow.src));
        }
        if !ended && !self.keep_all && leg.end().is_some() {
            self.expiry.push(Reverse((
                frame.ts_ns.saturating_add(ENDED_LEG_MEMORY_NS),
                serial,
            )));
        }
        let mut new_keys: Vec<(&'static str, String)> = Vec::new();
        for id in ids {
            if !leg.ids.contains(&id) {
                crate::push_few(&mut leg.ids, id.clone());
                new_keys.push(id);
            }
        }
        if let Some(o) = origin
            && !leg.origins.iter().any(|(k, _)| *k == o)
        {
            crate::push_few(&mut leg.origins, (o.clone(), frame));
            new_keys.push((SDP_ORIGIN, o));
        }
        for a in media {
            if !leg.media.contains(&a) {
                crate::push_few(&mut leg.media, a);
                new_keys.push((SDP_MEDIA, a.to_string()));
            }
        }
        for key in new_keys {
            let list = self.by_value.entry(key).or_default();
            if list.len() <= MAX_PER_KEY && !list.contains(&serial) {
                list.push(serial);
            }
        }
    }

    fn new_leg(
        &mut self,
        frame: FrameRef,
        flow: Flow,
        m: &Message<'_>,
        call_id: &str,
        from_tag: &str,
    ) -> usize {
        let serial = self.free.pop().unwrap_or(self.legs.len());
        let dialled = m
            .request_uri()
            .and_then(|u| u.user.map(dialled_user))
            .filter(|u| !u.is_empty());
        let record = Some(LegRecord {
            call_id: call_id.to_string(),
            from_tag: from_tag.to_string(),
            to_tag: None,
            caller: party(m.from()),
            callee: party(m.to()),
            caller_addr: flow.src,
            callee_addr: flow.dst,
            dialled: dialled.clone(),
            invite: frame,
            invite_cseq: m.cseq().map_or(0, |c| c.seq),
            responded: false,
            answered: None,
            failed: None,
            bye: None,
            origins: Vec::new(),
            media: Vec::new(),
            ids: Vec::new(),
            sent: Vec::new(),
        });
        match self.legs.get_mut(serial) {
            Some(slot) => *slot = record,
            None => self.legs.push(record),
        }
        self.by_key
            .entry(leg_key(call_id.as_bytes(), from_tag.as_bytes()))
            .or_default()
            .push(serial);
        if !self.keep_all {
            self.expiry.push(Reverse((
                frame.ts_ns.saturating_add(crate::dialog::GRACE_NS),
                serial,
            )));
        }
        self.by_call_id
            .entry(call_id.to_string())
            .or_default()
            .push(serial);
        if let Some(user) = dialled {
            self.into_box
                .entry((flow.dst.ip(), user.clone()))
                .or_default()
                .push_back(serial);
            self.out_of_box
                .entry((flow.src.ip(), user))
                .or_default()
                .push_back(serial);
        }
        serial
    }

    /// The box between legs `a` and `b`, if one is the UAS of one and the UAC of the
    /// other and the legs overlap in time.
    fn box_between(&self, a: usize, b: usize) -> Option<SocketAddr> {
        if a == b {
            return None;
        }
        let (la, lb) = (self.leg(a)?, self.leg(b)?);
        let overlap = |x: &LegRecord, y: &LegRecord| {
            x.end()
                .is_none_or(|e| (y.invite.ts_ns, y.invite.seq) <= (e.ts_ns, e.seq))
        };
        if !(overlap(la, lb) && overlap(lb, la)) {
            return None;
        }
        if la.callee_addr.ip() == lb.caller_addr.ip() && la.caller_addr.ip() != la.callee_addr.ip()
        {
            Some(la.callee_addr)
        } else if lb.callee_addr.ip() == la.caller_addr.ip()
            && lb.caller_addr.ip() != lb.callee_addr.ip()
        {
            Some(lb.callee_addr)
        } else {
            None
        }
    }

    /// The legs tied to leg `serial` through a box, with the evidence of each tie,
    /// in the order of their INVITEs.
    pub fn partners(&self, serial: usize) -> Vec<Tie> {
        let Some(leg) = self.leg(serial) else {
            return Vec::new();
        };
        let mut found: Vec<(usize, Vec<&'static str>)> = Vec::new();
        let mut add = |other: usize, evidence: &'static str| match found
            .iter_mut()
            .find(|(o, _)| *o == other)
        {
            Some((_, e)) => {
                if !e.contains(&evidence) {
                    e.push(evidence);
                }
            }
            None => found.push((other, vec![evidence])),
        };
        // Values both legs carry.
        let keys = leg
            .ids
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .chain(leg.origins.iter().map(|(o, _)| (SDP_ORIGIN, o.clone())))
            .chain(leg.media.iter().map(|a| (SDP_MEDIA, a.to_string())));
        for key in keys {
            if let Some(list) = self.by_value.get(&key).filter(|l| l.len() <= MAX_PER_KEY) {
                for &other in list {
                    if other != serial {
                        add(other, key.0);
                    }
                }
            }
            // An X-Call-ID names the other leg's Call-ID.
            if key.0 == X_CALL_ID {
                for &other in self.by_call_id.get(&key.1).into_iter().flatten() {
                    if other != serial {
                        add(other, X_CALL_ID);
                    }
                }
            }
        }
        // Legs whose X-Call-ID names this leg's Call-ID.
        if let Some(list) = self
            .by_value
            .get(&(X_CALL_ID, leg.call_id.clone()))
            .filter(|l| l.len() <= MAX_PER_KEY)
        {
            for &other in list {
                if other != serial {
                    add(other, X_CALL_ID);
                }
            }
        }
        // Timing and number: out of the box soon after into it, same user; each leg
        // out is paired with the latest leg into the box before it only.
        if let Some(user) = &leg.dialled {
            let at = (leg.invite.ts_ns, leg.invite.seq);
            // This leg out of its caller's box: the latest leg in before it.
            if let Some(ins) = self.into_box.get(&(leg.caller_addr.ip(), user.clone()))
                && let Some(other) = self.latest_before(ins, at, serial)
            {
                add(other, TIMING_NUMBER);
            }
            // This leg into its callee's box: the legs out whose latest leg in is this.
            if let Some(outs) = self.out_of_box.get(&(leg.callee_addr.ip(), user.clone())) {
                let from = outs.partition_point(|&o| {
                    self.leg(o)
                        .is_some_and(|l| (l.invite.ts_ns, l.invite.seq) < at)
                });
                let ins = self.into_box.get(&(leg.callee_addr.ip(), user.clone()));
                for &other in outs.iter().skip(from) {
                    let Some(o) = self.leg(other) else {
                        continue;
                    };
                    if o.invite.ts_ns.saturating_sub(leg.invite.ts_ns) > DIAL_WINDOW_NS {
                        break;
                    }
                    let latest = ins.and_then(|ins| {
                        self.latest_before(ins, (o.invite.ts_ns, o.invite.seq), other)
                    });
                    if other != serial && latest == Some(serial) {
                        add(other, TIMING_NUMBER);
                    }
                }
            }
        }
        let mut ties: Vec<Tie> = found
            .into_iter()
            .filter_map(|(other, mut evidence)| {
                let via = self.box_between(serial, other)?;
                // SDP of the box's own (its media, a phone's own port reused on its
                // consultation call) says nothing about whose call a leg is.
                if !self.sdp_passes_through(serial, other, via.ip()) {
                    evidence.retain(|e| *e != SDP_ORIGIN && *e != SDP_MEDIA);
                }
                if evidence.is_empty() {
                    return None;
                }
                evidence.sort_by_key(|e| TRUST.iter().position(|t| t == e));
                Some(Tie {
                    other,
                    via,
                    evidence,
                })
            })
            .collect();
        ties.sort_by_key(|t| self.leg(t.other).map(|l| (l.invite.ts_ns, l.invite.seq)));
        ties
    }

    /// Whether the SDP two legs share names someone other than the box: a session
    /// origin or media address on both whose address is not the box's.
    fn sdp_passes_through(&self, a: usize, b: usize, box_ip: IpAddr) -> bool {
        let (Some(la), Some(lb)) = (self.leg(a), self.leg(b)) else {
            return false;
        };
        let not_box = |o: &str| o.rsplit(' ').next() != Some(box_ip.to_string().as_str());
        la.origins
            .iter()
            .any(|(o, _)| not_box(o) && lb.origins.iter().any(|(p, _)| p == o))
            || la
                .media
                .iter()
                .any(|m| m.ip() != box_ip && lb.media.contains(m))
    }

    /// Of the legs `list` (in INVITE order), the latest whose INVITE came before `at`
    /// and within [`DIAL_WINDOW_NS`] of it, other than `not`. A binary search: a
    /// number dialled often costs no more.
    fn latest_before(&self, list: &VecDeque<usize>, at: (i64, u64), not: usize) -> Option<usize> {
        let time = |s: usize| self.leg(s).map(|l| (l.invite.ts_ns, l.invite.seq));
        let end = list.partition_point(|&s| time(s).is_some_and(|t| t < at));
        list.range(..end)
            .rev()
            .find(|&&s| s != not)
            .copied()
            .filter(|&s| time(s).is_some_and(|t| at.0.saturating_sub(t.0) <= DIAL_WINDOW_NS))
    }

    /// The sender of `frame`, if it is one of the leg's first frames.
    pub fn sender_of(&self, serial: usize, frame: FrameRef) -> Option<SocketAddr> {
        self.leg(serial)?
            .sent
            .iter()
            .find(|&&(f, n, _)| (f, n) == (frame.file, frame.number))
            .map(|&(_, _, s)| s)
    }

    /// End-to-end calls: the legs grouped by their ties, each group in INVITE order;
    /// only groups of more than one leg. Linear in the legs (each asks its partners
    /// once, by key), then a union-find.
    pub fn calls(&self) -> Vec<EndToEnd> {
        let n = self.legs.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while let Some(&p) = parent.get(i) {
                if p == i {
                    break;
                }
                let grand = parent.get(p).copied().unwrap_or(p);
                if let Some(slot) = parent.get_mut(i) {
                    *slot = grand;
                }
                i = p;
            }
            i
        }
        let mut ties: Vec<(usize, Tie)> = Vec::new();
        for i in 0..n {
            for t in self.partners(i) {
                if t.other > i {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, t.other));
                    if a != b
                        && let Some(slot) = parent.get_mut(b)
                    {
                        *slot = a;
                    }
                    ties.push((i, t));
                }
            }
        }
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for i in 0..n {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        let mut calls: Vec<EndToEnd> = groups
            .into_values()
            .filter(|g| g.len() > 1)
            .map(|legs| {
                let mut boxes: Vec<SocketAddr> = Vec::new();
                let mut links = Vec::new();
                for (a, t) in ties.iter().filter(|(a, _)| legs.contains(a)) {
                    if !boxes.contains(&t.via) {
                        boxes.push(t.via);
                    }
                    links.push((*a, t.clone()));
                }
                EndToEnd { legs, boxes, links }
            })
            .collect();
        calls.sort_by_key(|c| c.legs.first().copied());
        calls
    }
}

/// One end-to-end call: legs (serials, in INVITE order) tied through boxes.
#[derive(Clone, Debug)]
pub struct EndToEnd {
    pub legs: Vec<usize>,
    pub boxes: Vec<SocketAddr>,
    /// Each tie once: (leg, tie to a later leg).
    pub links: Vec<(usize, Tie)>,
}

/// One leg as the end-to-end call list shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CallLeg {
    pub call_id: String,
    pub caller: Party,
    pub callee: Party,
    pub caller_address: String,
    pub callee_address: String,
    #[serde(skip)]
    pub invite: FrameRef,
    pub invite_frame: u64,
    pub answered: bool,
}

/// One end-to-end call: its legs in INVITE order, the boxes they cross, and each tie
/// with its evidence (by index into `legs`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CorrelatedCall {
    pub legs: Vec<CallLeg>,
    pub boxes: Vec<String>,
    pub ties: Vec<TieJson>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TieJson {
    pub from: String,
    pub to: String,
    pub via: String,
    pub evidence: Vec<&'static str>,
}

/// The calls through B2BUAs of a whole capture, owned (the correlator is let go).
#[derive(Clone, Debug, Default)]
pub struct Correlated {
    pub calls: Vec<CorrelatedCall>,
}

impl Correlated {
    pub fn of(c: &Correlator) -> Correlated {
        let leg = |s: usize| {
            c.leg(s).map(|l| CallLeg {
                call_id: l.call_id.clone(),
                caller: l.caller.clone(),
                callee: l.callee.clone(),
                caller_address: l.caller_addr.to_string(),
                callee_address: l.callee_addr.to_string(),
                invite: l.invite,
                invite_frame: l.invite.number,
                answered: l.answered.is_some(),
            })
        };
        let calls = c
            .calls()
            .into_iter()
            .map(|e| CorrelatedCall {
                legs: e.legs.iter().filter_map(|&s| leg(s)).collect(),
                boxes: e.boxes.iter().map(|b| b.to_string()).collect(),
                ties: e
                    .links
                    .iter()
                    .filter_map(|(a, t)| {
                        Some(TieJson {
                            from: c.leg(*a)?.call_id.clone(),
                            to: c.leg(t.other)?.call_id.clone(),
                            via: t.via.to_string(),
                            evidence: t.evidence.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        Correlated { calls }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64, ms: i64) -> FrameRef {
        FrameRef {
            seq: n,
            file: 0,
            number: n,
            ts_ns: ms * 1_000_000,
        }
    }

    fn flow(src: &str, dst: &str) -> Flow {
        Flow {
            src: src.parse().expect("address"),
            dst: dst.parse().expect("address"),
        }
    }

    fn invite(ruri: &str, call_id: &str, tag: &str, extra: &str) -> Vec<u8> {
        format!(
            "INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{tag}\r\nFrom: <sip:a@h>;tag={tag}\r\nTo: <{ruri}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn observe(c: &mut Correlator, n: u64, ms: i64, f: Flow, raw: &[u8]) {
        let m = Message::parse(raw, false).expect("parses");
        c.observe(frame(n, ms), f, &m);
    }

    #[test]
    fn sdp_origin_keeps_user_session_and_address() {
        let body = b"v=0\r\no=alice 42 7 IN IP4 10.0.0.1\r\ns=-\r\n";
        assert_eq!(sdp::origin(body).as_deref(), Some("alice 42 10.0.0.1"));
        assert_eq!(sdp::origin(b"v=0\r\no=broken\r\n"), None);
        assert_eq!(sdp::origin(b""), None);
    }

    #[test]
    fn legs_tied_through_a_box_by_header_and_timing() {
        let mut c = Correlator::new(false);
        let a = invite("sip:bob@10.0.0.10", "A", "a", "");
        let b = invite("sip:bob@10.0.0.2", "B", "b", "X-Call-ID: A\r\n");
        observe(&mut c, 1, 0, flow("10.0.0.1:5060", "10.0.0.10:5060"), &a);
        observe(&mut c, 2, 5, flow("10.0.0.10:5060", "10.0.0.2:5060"), &b);
        let ties = c.partners(0);
        assert_eq!(ties.len(), 1);
        assert_eq!(ties[0].other, 1);
        assert_eq!(ties[0].via.to_string(), "10.0.0.10:5060");
        assert_eq!(ties[0].evidence, vec![X_CALL_ID, TIMING_NUMBER]);
        assert_eq!(c.calls().len(), 1);
    }

    #[test]
    fn legs_over_are_let_go_unless_all_are_kept() {
        let a = invite("sip:bob@10.0.0.10", "A", "a", "Session-ID: 1234\r\n");
        let later = invite("sip:carol@10.0.0.10", "C", "c", "");
        let minute = 60_000;
        for keep_all in [false, true] {
            let mut c = Correlator::new(keep_all);
            observe(&mut c, 1, 0, flow("10.0.0.1:5060", "10.0.0.10:5060"), &a);
            assert!(c.find("A", None).is_some());
            // Never answered: let go once the memory time passed after its INVITE.
            observe(
                &mut c,
                2,
                6 * minute,
                flow("10.0.0.1:5060", "10.0.0.10:5060"),
                &later,
            );
            assert_eq!(
                c.find("A", None).is_none(),
                !keep_all,
                "keep_all {keep_all}"
            );
            // Its slot went to the new leg.
            assert_eq!(c.legs.len(), if keep_all { 2 } else { 1 });
            assert_eq!(c.by_value.is_empty(), !keep_all, "its Session-ID unlisted");
            assert!(c.find("C", None).is_some(), "the live leg stays");
        }
    }

    /// A leg kept long (ringing: 320 s) does not hold back the legs after it that are
    /// over sooner: memory follows the live calls, not the longest memory time.
    #[test]
    fn a_ringing_leg_holds_back_no_other() {
        let mut c = Correlator::new(false);
        let ringing = invite("sip:bob@10.0.0.10", "R", "r", "");
        observe(
            &mut c,
            1,
            0,
            flow("10.0.0.1:5060", "10.0.0.10:5060"),
            &ringing,
        );
        let ring = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nFrom: <sip:a@h>;tag=r\r\nTo: <sip:bob@10.0.0.10>;tag=x\r\nCall-ID: R\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        observe(&mut c, 2, 10, flow("10.0.0.10:5060", "10.0.0.1:5060"), ring);
        // One unanswered INVITE a second for three minutes, each let go after Timer B.
        for i in 0..180u64 {
            let call_id = format!("U{i}");
            let raw = invite("sip:carol@10.0.0.10", &call_id, "u", "");
            let at = 1_000 * (i as i64 + 1);
            observe(
                &mut c,
                3 + i,
                at,
                flow("10.0.0.2:5060", "10.0.0.10:5060"),
                &raw,
            );
        }
        // The ringing leg is kept (320 s); of the others, only those of the last
        // Timer B (32 s) are.
        assert!(c.find("R", None).is_some());
        let live = c.legs.iter().filter(|l| l.is_some()).count();
        assert!(live <= 34, "{live} legs kept");
        assert!(c.find("U179", None).is_some());
    }

    #[test]
    fn no_box_no_tie() {
        // The same Session-ID on two calls placed by one phone: no address is the UAS
        // of one and the UAC of the other.
        let mut c = Correlator::new(false);
        let sid = "Session-ID: ab30317f1a784dc48ff824d0d3715d86\r\n";
        let a = invite("sip:bob@10.0.0.2", "A", "a", sid);
        let b = invite("sip:carol@10.0.0.3", "B", "b", sid);
        observe(&mut c, 1, 0, flow("10.0.0.1:5060", "10.0.0.2:5060"), &a);
        observe(&mut c, 2, 5, flow("10.0.0.1:5060", "10.0.0.3:5060"), &b);
        assert!(c.partners(0).is_empty());
        assert!(c.calls().is_empty());
    }

    #[test]
    fn timing_pairs_only_the_latest_leg_in() {
        let mut c = Correlator::new(false);
        let box_in = |n: u64, ms: i64, cid: &str, c: &mut Correlator| {
            let m = invite("sip:help@10.0.0.10", cid, cid, "");
            observe(c, n, ms, flow("10.0.0.1:5060", "10.0.0.10:5060"), &m);
        };
        box_in(1, 0, "in1", &mut c);
        box_in(2, 100, "in2", &mut c);
        let out = invite("sip:help@10.0.0.2", "out", "o", "");
        observe(
            &mut c,
            3,
            150,
            flow("10.0.0.10:5060", "10.0.0.2:5060"),
            &out,
        );
        let ties = c.partners(2);
        assert_eq!(ties.iter().map(|t| t.other).collect::<Vec<_>>(), vec![1]);
        assert!(c.partners(0).is_empty());
    }

    #[test]
    fn correlation_values_are_read_leniently() {
        let raw = invite(
            "sip:x@h",
            "C",
            "t",
            "x-cid: Z\r\nSession-ID: 00000000000000000000000000000000\r\nP-Charging-Vector: icid-value=\"abc\";orig-ioi=x\r\nReplaces: k;to-tag=1;from-tag=2\r\n",
        );
        let m = Message::parse(&raw, false).expect("parses");
        let ids = correlation_ids(&m);
        assert!(ids.contains(&(X_CALL_ID, "Z".to_string())));
        assert!(ids.contains(&(ICID, "abc".to_string())));
        assert!(ids.contains(&(REPLACES, "k;to-tag=1;from-tag=2".to_string())));
        // The null UUID identifies nothing.
        assert!(!ids.iter().any(|(k, _)| *k == SESSION_ID));
    }
}
