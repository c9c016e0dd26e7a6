//! SIP messages in, dialogs out.
//!
//! Guarantees:
//! - INVITE dialogs are keyed by Call-ID **and both tags** (RFC 3261 §12): forked
//!   provisional responses with different to-tags make separate early dialogs, and a
//!   message relayed by a proxy (seen once per hop) lands in the same dialog.
//! - The caller's INVITE attempts form a *leg* (Call-ID + from-tag); a 401/407 challenge
//!   followed by a new INVITE stays in the same leg (RFC 3261 §22.2), so a call is one row.
//! - Retransmissions (the same message of the same transaction again on the same hop,
//!   RFC 3261 §17) are recognised and counted apart.
//! - The dialog state machine follows RFC 3261: early on a tagged 1xx (§12.1), confirmed
//!   on 2xx, terminated by BYE (§15), by the final response to a rejected or cancelled
//!   INVITE (§9, §13.2.2.3), or by 481/408 to an in-dialog request (§12.2.1.2).
//! - Hold and resume are read from SDP offers in re-INVITEs and UPDATEs (RFC 3264 §8.4).
//! - Memory follows the live calls: a Call-ID whose dialogs have all ended leaves the
//!   tracker after a grace time of capture time (to catch late retransmissions), and
//!   its dialogs move to the finished list. An INVITE that got no response at all
//!   counts as ended once the capture went on for Timer B (64*T1 = 32 s, RFC 3261
//!   §17.1.1.2) without one: scanner traffic does not pile up.

mod call;

pub use call::{Answer, Dialog, DialogState, Ending, MediaChange, Party, Request, Side};

use crate::capture::FrameRef;
use crate::net::{Flow, Transport};
use crate::sip::{Message, Method, NameAddr, sdp};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

/// How long an ended Call-ID stays, in capture time: RFC 3261 Timer J/K (64*T1, 32 s)
/// bounds the retransmissions that can still come.
pub const GRACE_NS: i64 = 32_000_000_000;

/// One SIP message as the dialog layer receives it.
pub struct Observed<'m, 'a> {
    pub frame: FrameRef,
    pub flow: Flow,
    pub transport: Transport,
    pub message: &'m Message<'a>,
}

/// Counts of what the dialog layer saw.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DialogStats {
    /// SIP messages handed to the tracker.
    pub sip_messages: u64,
    pub requests: u64,
    pub responses: u64,
    /// Messages recognised as retransmissions.
    pub retransmissions: u64,
    /// INVITE dialogs (rows of the call list).
    pub dialogs: u64,
    /// Messages outside any INVITE dialog (REGISTER, OPTIONS, SUBSCRIBE, MESSAGE, ...).
    pub outside_dialogs: u64,
    /// Messages with no usable Call-ID: they cannot be placed in any dialog.
    pub without_call_id: u64,
    /// Call-IDs released from memory before the end of the capture.
    pub released_early: u64,
    /// Most Call-IDs held at once.
    pub peak_call_ids: u64,
    /// Messages of a Call-ID already let go (quiet for the grace time after its calls
    /// ended or timed out) that would otherwise have started a phantom call: a 200 OK
    /// after Timer B, a retransmission after Timer J. Counted, not listed as calls.
    #[serde(skip_serializing_if = "is_zero")]
    pub late_messages: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The caller's INVITE attempts with one from-tag, and the dialogs they created.
struct Leg {
    from_tag: Box<[u8]>,
    /// CSeq number of the latest initial INVITE (re-INVITEs carry both tags instead).
    invite_cseq: u32,
    /// A CANCEL was sent for the initial INVITE.
    cancelled: Option<FrameRef>,
    /// The last final response was a 401/407 challenge.
    challenged: bool,
    /// Some response to the initial INVITE was seen (a provisional one stops Timer B,
    /// RFC 3261 §17.1.1.2).
    responded: bool,
    /// Never empty: the first dialog is created with the leg.
    dialogs: Vec<Dialog>,
}

/// Everything held for one Call-ID.
struct CallId {
    legs: Vec<Leg>,
    /// Fingerprints of the messages seen, for retransmission detection.
    seen: HashSet<u64>,
    last_ts: i64,
}

impl CallId {
    /// A leg for a caller's tag, with its first dialog. Most Call-IDs have one leg:
    /// room is taken for that one only ([`crate::push_few`]).
    fn add_leg(&mut self, from_tag: &[u8], invite_cseq: u32, responded: bool, dialog: Dialog) {
        crate::push_few(
            &mut self.legs,
            Leg {
                from_tag: from_tag.into(),
                invite_cseq,
                cancelled: None,
                challenged: false,
                responded,
                dialogs: vec![dialog],
            },
        );
    }

    /// Whether nothing more can happen to the Call-ID's calls: every dialog ended, or
    /// its INVITE never got a response (it times out when the Call-ID stays quiet).
    fn settled(&self) -> bool {
        self.legs.iter().all(|leg| {
            !leg.responded
                || leg
                    .dialogs
                    .iter()
                    .all(|d| d.state == DialogState::Terminated)
        })
    }

    /// Ends the dialogs whose INVITE never got a response: Timer B fired.
    fn time_out(&mut self) {
        for leg in self.legs.iter_mut().filter(|l| !l.responded) {
            for d in leg.dialogs.iter_mut() {
                if d.state != DialogState::Terminated {
                    d.state = DialogState::Terminated;
                    d.ending = Some(Ending::Timeout);
                }
            }
        }
    }
}

/// What is kept of a Call-ID that carries no INVITE dialog.
struct Outside {
    last_ts: i64,
    /// Fingerprints of its messages (the first few), for retransmissions.
    seen: Vec<u64>,
}

/// Fingerprints kept per Call-ID without an INVITE dialog (a SUBSCRIBE dialog may
/// carry many NOTIFYs; beyond these, retransmissions go uncounted there).
const MAX_OUTSIDE_FINGERPRINTS: usize = 64;

/// How long the tracker remembers a Call-ID it let go, in capture time, to recognise
/// its late messages: ten grace times. Only the Call-ID's hash and a time are kept.
const REMEMBER_GONE_NS: i64 = 10 * GRACE_NS;

/// A Call-ID's key: how those without an INVITE dialog are held, and how
/// [`Tracker::take_released`] names the Call-IDs let go.
pub fn call_key(call_id: &[u8]) -> u64 {
    std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::default(), call_id)
}

/// Builds dialogs from a stream of SIP messages.
pub struct Tracker {
    calls: HashMap<Box<[u8]>, CallId>,
    /// Call-IDs without an INVITE dialog, by a hash of the Call-ID.
    outside: HashMap<u64, Outside>,
    /// When to look at those again: released once quiet for the grace time.
    release_outside: VecDeque<(i64, u64)>,
    /// Keys ([`call_key`]) of the Call-IDs let go since [`Tracker::take_released`].
    released: Vec<u64>,
    /// Call-IDs to look at again at a capture time: released if ended and quiet by then.
    release: VecDeque<(i64, Box<[u8]>)>,
    /// Keys of the calls let go, with the time they went: a late message of one is
    /// counted, not taken for a new call.
    gone: HashMap<u64, i64>,
    /// The same keys in the order they went, to forget them after [`REMEMBER_GONE_NS`].
    gone_order: VecDeque<(i64, u64)>,
    finished: Vec<Dialog>,
    grace_ns: i64,
    stats: DialogStats,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new(GRACE_NS)
    }
}

impl Tracker {
    pub fn new(grace_ns: i64) -> Tracker {
        Tracker {
            calls: HashMap::new(),
            outside: HashMap::new(),
            release_outside: VecDeque::new(),
            released: Vec::new(),
            release: VecDeque::new(),
            gone: HashMap::new(),
            gone_order: VecDeque::new(),
            finished: Vec::new(),
            grace_ns,
            stats: DialogStats::default(),
        }
    }

    pub fn stats(&self) -> &DialogStats {
        &self.stats
    }

    /// Whether a Call-ID is still held (its dialogs not all over, or within the grace
    /// time).
    pub fn is_live(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id.as_bytes())
            || self.outside.contains_key(&call_key(call_id.as_bytes()))
    }

    /// The keys ([`call_key`]) of the Call-IDs let go since the last call: whatever
    /// waited for them to be over can look again.
    pub fn take_released(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.released)
    }

    /// How many dialogs were released and not yet taken.
    pub fn finished_count(&self) -> usize {
        self.finished.len()
    }

    /// Dialogs released so far (ended and past the grace time), oldest first. The caller
    /// may take them to keep memory flat.
    pub fn take_finished(&mut self) -> Vec<Dialog> {
        std::mem::take(&mut self.finished)
    }

    /// The dialogs of a Call-ID still held, as they stand now, in order of their
    /// INVITE: what [`Tracker::finish`] would hand over if the capture ended here.
    pub fn snapshot(&self, call_id: &str) -> Vec<Dialog> {
        let mut dialogs: Vec<Dialog> = self
            .calls
            .get(call_id.as_bytes())
            .into_iter()
            .flat_map(|call| call.legs.iter().flat_map(|leg| leg.dialogs.iter().cloned()))
            .collect();
        dialogs.sort_by_key(|d| (d.invite, d.first));
        dialogs
    }

    /// End of input, one Call-ID at a time: hands `each` the dialogs released and not
    /// yet taken, oldest first, then each Call-ID's dialogs still held, in order of
    /// their INVITE (Call-IDs in no particular order). Nothing is gathered: with
    /// thousands of calls still up, memory only goes down from here.
    pub fn finish_each(mut self, mut each: impl FnMut(Dialog)) -> DialogStats {
        for d in std::mem::take(&mut self.finished) {
            each(d);
        }
        let mut dialogs = Vec::new();
        for (_, call) in self.calls.drain() {
            dialogs.extend(call.legs.into_iter().flat_map(|leg| leg.dialogs));
            // Stable: dialogs of one INVITE (forks) stay in the order they were made.
            dialogs.sort_by_key(|d| (d.invite, d.first));
            for d in dialogs.drain(..) {
                each(d);
            }
        }
        self.stats
    }

    /// End of input: every dialog still held, finished ones first, each in order of
    /// its INVITE.
    pub fn finish(self) -> (Vec<Dialog>, DialogStats) {
        let mut all = Vec::new();
        let stats = self.finish_each(|d| all.push(d));
        // Stable: ties (forks of one INVITE) keep the order finish_each gave them.
        all.sort_by_key(|d| (d.invite, d.first));
        (all, stats)
    }

    /// Takes one message into account.
    pub fn observe(&mut self, seen: &Observed<'_, '_>) {
        let now = seen.frame.ts_ns;
        self.release_due(now);
        let msg = seen.message;
        self.stats.sip_messages += 1;
        if msg.is_request() {
            self.stats.requests += 1;
        } else {
            self.stats.responses += 1;
        }
        let Some(call_id) = msg.call_id().filter(|c| !c.is_empty()) else {
            self.stats.without_call_id += 1;
            return;
        };
        let fingerprint = fingerprint(seen);
        let Some(call) = self.calls.get_mut(call_id) else {
            self.first_of_call_id(call_id, seen, fingerprint);
            return;
        };
        call.last_ts = call.last_ts.max(now);
        let retransmission = !call.seen.insert(fingerprint);
        if retransmission {
            self.stats.retransmissions += 1;
        }
        let was_ended = call.settled() && !call.legs.is_empty();
        let outcome = apply(call, call_id, seen, retransmission, &mut self.stats);
        if !outcome {
            self.stats.outside_dialogs += 1;
        }
        if !was_ended && call.settled() && !call.legs.is_empty() {
            self.release
                .push_back((now.saturating_add(self.grace_ns), call_id.into()));
        }
    }

    /// A message of a Call-ID that holds no INVITE dialog. When it starts one, the
    /// Call-ID is held in full from now on. Otherwise (REGISTER, OPTIONS, SUBSCRIBE, a
    /// REFER outside a dialog, ...) only its last time and the fingerprints of its
    /// messages are kept, for retransmissions and [`Tracker::is_live`].
    fn first_of_call_id(&mut self, call_id: &[u8], seen: &Observed<'_, '_>, fingerprint: u64) {
        let now = seen.frame.ts_ns;
        let key = call_key(call_id);
        let retransmission = self
            .outside
            .get(&key)
            .is_some_and(|o| o.seen.contains(&fingerprint));
        if retransmission {
            self.stats.retransmissions += 1;
        }
        let mut call = CallId {
            legs: Vec::new(),
            seen: HashSet::new(),
            last_ts: now,
        };
        let msg = seen.message;
        let initial_invite = msg.method() == Some(Method::Invite) && msg.to_tag().is_none();
        if !initial_invite && self.gone.contains_key(&key) {
            // A message of a call already let go: it must not start a phantom call
            // (one "already up when the capture started").
            let mut stats = self.stats.clone();
            apply(&mut call, call_id, seen, retransmission, &mut stats);
            if !call.legs.is_empty() {
                self.stats.late_messages += 1;
                return;
            }
            call.legs.clear();
        }
        let in_dialog = apply(&mut call, call_id, seen, retransmission, &mut self.stats);
        if !in_dialog {
            self.stats.outside_dialogs += 1;
        }
        if !call.legs.is_empty() {
            call.seen.insert(fingerprint);
            if let Some(o) = self.outside.remove(&key) {
                call.seen.extend(o.seen);
            }
            if call.settled() {
                self.release
                    .push_back((now.saturating_add(self.grace_ns), call_id.into()));
            }
            self.calls.insert(call_id.into(), call);
            self.stats.peak_call_ids = self.stats.peak_call_ids.max(self.held() as u64);
            return;
        }
        match self.outside.get_mut(&key) {
            Some(o) => {
                o.last_ts = o.last_ts.max(now);
                if !retransmission && o.seen.len() < MAX_OUTSIDE_FINGERPRINTS {
                    o.seen.push(fingerprint);
                }
            }
            None => {
                self.outside.insert(
                    key,
                    Outside {
                        last_ts: now,
                        seen: vec![fingerprint],
                    },
                );
                self.stats.peak_call_ids = self.stats.peak_call_ids.max(self.held() as u64);
                self.release_outside
                    .push_back((now.saturating_add(self.grace_ns), key));
            }
        }
    }

    /// Call-IDs held: with calls, and without.
    fn held(&self) -> usize {
        self.calls.len() + self.outside.len()
    }

    /// Releases the Call-IDs whose dialogs have all ended and that stayed quiet for the
    /// grace time.
    fn release_due(&mut self, now: i64) {
        while let Some(&(went, key)) = self.gone_order.front() {
            if went.saturating_add(REMEMBER_GONE_NS) > now {
                break;
            }
            self.gone_order.pop_front();
            // Forgotten unless it went again later (a Call-ID reused by a new INVITE).
            if self.gone.get(&key) == Some(&went) {
                self.gone.remove(&key);
            }
        }
        while let Some(&(due, key)) = self.release_outside.front() {
            if due > now {
                break;
            }
            self.release_outside.pop_front();
            let quiet_until = self
                .outside
                .get(&key)
                .map(|o| o.last_ts.saturating_add(self.grace_ns));
            match quiet_until {
                Some(until) if until > now => self.release_outside.push_back((until, key)),
                Some(_) => {
                    self.outside.remove(&key);
                    self.stats.released_early += 1;
                    self.released.push(key);
                }
                None => {}
            }
        }
        while let Some((due, _)) = self.release.front() {
            if *due > now {
                break;
            }
            let Some((_, key)) = self.release.pop_front() else {
                break;
            };
            let Some(call) = self.calls.get(&key) else {
                continue;
            };
            if !call.settled() {
                // Still up: looked at again when it ends.
                continue;
            }
            let quiet_until = call.last_ts.saturating_add(self.grace_ns);
            if quiet_until > now {
                self.release.push_back((quiet_until, key));
                continue;
            }
            if let Some(mut call) = self.calls.remove(&key) {
                self.stats.released_early += 1;
                let gone = call_key(&key);
                self.released.push(gone);
                self.gone.insert(gone, now);
                self.gone_order.push_back((now, gone));
                call.time_out();
                for leg in call.legs {
                    self.finished.extend(leg.dialogs);
                }
            }
        }
    }
}

/// Identity of a message for retransmission detection: the same transaction (top Via
/// branch, CSeq), the same message in it (method or status, to-tag), on the same hop.
fn fingerprint(seen: &Observed<'_, '_>) -> u64 {
    let msg = seen.message;
    let mut h = std::hash::BuildHasher::build_hasher(&foldhash::fast::FixedState::default());
    seen.flow.hash(&mut h);
    if let Some(via) = msg.top_via() {
        via.branch.hash(&mut h);
        via.host.hash(&mut h);
    }
    if let Some(cseq) = msg.cseq() {
        cseq.seq.hash(&mut h);
        cseq.method.hash(&mut h);
    }
    msg.method().hash(&mut h);
    msg.status().hash(&mut h);
    msg.to_tag().hash(&mut h);
    msg.from_tag().hash(&mut h);
    h.finish()
}

/// Lossy text of bytes from the wire (escaped only when printed).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn party(addr: Option<NameAddr<'_>>) -> Party {
    match addr {
        Some(a) => Party {
            name: a.display.filter(|d| !d.is_empty()).map(text),
            uri: text(a.uri),
        },
        None => Party::default(),
    }
}

/// A new dialog for the first message seen of it.
fn new_dialog(
    call_id: &[u8],
    seen: &Observed<'_, '_>,
    caller_tag: &[u8],
    state: DialogState,
    answer: Answer,
) -> Dialog {
    let msg = seen.message;
    // The INVITE's sender is the caller; for a message from the callee, swap.
    let from_is_caller = msg.from_tag() == Some(caller_tag);
    let request_by_caller = msg.is_request() == from_is_caller;
    let (caller_addr, callee_addr) = if request_by_caller {
        (seen.flow.src, seen.flow.dst)
    } else {
        (seen.flow.dst, seen.flow.src)
    };
    let (caller, callee) = if from_is_caller {
        (party(msg.from()), party(msg.to()))
    } else {
        (party(msg.to()), party(msg.from()))
    };
    let agent = msg.user_agent().map(text);
    let (caller_agent, callee_agent) = if request_by_caller {
        (agent, None)
    } else {
        (None, agent)
    };
    Dialog {
        call_id: text(call_id),
        from_tag: text(caller_tag),
        to_tag: None,
        caller,
        callee,
        caller_addr,
        callee_addr,
        transport: seen.transport,
        state,
        answer,
        status: None,
        reason: None,
        ending: None,
        ended_by: None,
        invite: seen.frame,
        answered: None,
        ack: None,
        ended: None,
        first: seen.frame,
        last: seen.frame,
        messages: 0,
        retransmissions: 0,
        challenges: 0,
        media: Vec::new(),
        requests: Vec::new(),
        caller_agent,
        callee_agent,
        invite_seen: msg.method() == Some(Method::Invite),
        cseq_regressions: Vec::new(),
        last_cseq: [
            msg.cseq()
                .filter(|_| msg.method() == Some(Method::Invite))
                .map(|c| c.seq),
            None,
        ],
    }
}

fn count(dialog: &mut Dialog, frame: FrameRef, retransmission: bool) {
    dialog.messages = dialog.messages.saturating_add(1);
    if retransmission {
        dialog.retransmissions = dialog.retransmissions.saturating_add(1);
    }
    if frame < dialog.first {
        dialog.first = frame;
    }
    if frame > dialog.last {
        dialog.last = frame;
    }
}

/// Updates the call with one message. Returns false when the message belongs to no
/// INVITE dialog.
fn apply(
    call: &mut CallId,
    call_id: &[u8],
    seen: &Observed<'_, '_>,
    retransmission: bool,
    stats: &mut DialogStats,
) -> bool {
    let msg = seen.message;
    let from_tag = msg.from_tag().unwrap_or_default();
    let to_tag = msg.to_tag().filter(|t| !t.is_empty());
    let cseq = msg.cseq();
    let cseq_method = cseq.map(|c| c.method);

    // Requests and responses of the initial INVITE transaction, and the CANCEL of it,
    // belong to the caller's leg; everything with both tags belongs to one dialog.
    match (msg.method(), msg.status()) {
        (Some(Method::Invite), _) if to_tag.is_none() => {
            let seq = cseq.map_or(0, |c| c.seq);
            let known = call.legs.iter().position(|l| *l.from_tag == *from_tag);
            let leg = match known.and_then(|i| call.legs.get_mut(i)) {
                Some(leg) => leg,
                None => {
                    stats.dialogs += 1;
                    let dialog = new_dialog(
                        call_id,
                        seen,
                        from_tag,
                        DialogState::Trying,
                        Answer::Pending,
                    );
                    call.add_leg(from_tag, seq, false, dialog);
                    let Some(leg) = call.legs.last_mut() else {
                        return true;
                    };
                    leg
                }
            };
            if seq > leg.invite_cseq {
                leg.invite_cseq = seq;
                if leg.challenged {
                    // A new INVITE after a 401/407: the same call, authenticated (RFC 3261 §22.2).
                    leg.challenged = false;
                    for d in leg.dialogs.iter_mut() {
                        if d.answer == Answer::Rejected {
                            d.challenges = d.challenges.saturating_add(1);
                            d.state = DialogState::Trying;
                            d.answer = Answer::Pending;
                            d.status = None;
                            d.reason = None;
                            d.ending = None;
                            d.ended = None;
                            d.ended_by = None;
                            d.to_tag = None;
                            // The ACK of the challenge ends nothing: the phase runs to
                            // the ACK of the answered INVITE (RFC 3261 §17.1.1.3).
                            d.ack = None;
                        }
                    }
                }
            }
            if let Some(d) = leg.dialogs.first_mut() {
                count(d, seen.frame, retransmission);
            }
            true
        }
        (Some(Method::Cancel), _) | (None, Some(_))
            if matches!(cseq_method, Some(Method::Cancel)) =>
        {
            let Some(leg) = call.legs.iter_mut().find(|l| *l.from_tag == *from_tag) else {
                return false;
            };
            if msg.is_request() && leg.cancelled.is_none() {
                leg.cancelled = Some(seen.frame);
            }
            if let Some(d) = leg.dialogs.first_mut() {
                count(d, seen.frame, retransmission);
            }
            true
        }
        (None, Some(status)) if matches!(cseq_method, Some(Method::Invite)) => {
            let seq = cseq.map_or(0, |c| c.seq);
            let known_dialog = to_tag.is_some_and(|to| {
                call.legs.iter().flat_map(|l| l.dialogs.iter()).any(|d| {
                    let tag = d.to_tag.as_deref().map(str::as_bytes);
                    (d.from_tag.as_bytes() == to && tag == Some(from_tag))
                        || (d.from_tag.as_bytes() == from_tag && tag == Some(to))
                })
            });
            if known_dialog && !call.legs.iter().any(|l| *l.from_tag == *from_tag) {
                // A response to a re-INVITE sent by the callee.
                return in_dialog(call, call_id, seen, retransmission, stats);
            }
            if !call.legs.iter().any(|l| *l.from_tag == *from_tag) {
                // The INVITE is not in the capture (lost, or its fragments never all
                // captured): the leg starts with its response.
                stats.dialogs += 1;
                let mut dialog = new_dialog(
                    call_id,
                    seen,
                    from_tag,
                    DialogState::Trying,
                    Answer::Pending,
                );
                dialog.invite_seen = false;
                call.add_leg(from_tag, seq, true, dialog);
            }
            let Some(leg) = call.legs.iter_mut().find(|l| *l.from_tag == *from_tag) else {
                return false;
            };
            if seq != leg.invite_cseq {
                // A response to a re-INVITE.
                return in_dialog(call, call_id, seen, retransmission, stats);
            }
            leg.responded = true;
            invite_response(leg, seen, status, to_tag, retransmission, stats);
            true
        }
        _ => in_dialog(call, call_id, seen, retransmission, stats),
    }
}

/// A response to the initial INVITE of a leg.
fn invite_response(
    leg: &mut Leg,
    seen: &Observed<'_, '_>,
    status: u16,
    to_tag: Option<&[u8]>,
    retransmission: bool,
    stats: &mut DialogStats,
) {
    let msg = seen.message;
    let reason = match msg.start_line() {
        crate::sip::StartLine::Response { reason, .. } => Some(text(reason)),
        crate::sip::StartLine::Request { .. } => None,
    };
    if status >= 300 {
        // A final error ends every dialog of the attempt still early (RFC 3261 §13.2.2.3).
        let cancelled = leg.cancelled.is_some() && status == 487;
        leg.challenged = matches!(status, 401 | 407);
        for (i, d) in leg.dialogs.iter_mut().enumerate() {
            if i == 0 || to_tag.is_some_and(|t| d.to_tag.as_deref() == Some(&*text(t))) {
                count(d, seen.frame, retransmission);
            }
            if matches!(d.state, DialogState::Trying | DialogState::Early) {
                d.state = DialogState::Terminated;
                d.answer = if cancelled {
                    Answer::Cancelled
                } else {
                    Answer::Rejected
                };
                d.status = Some(status);
                d.reason.clone_from(&reason);
                d.ending = Some(Ending::Final);
                d.ended = Some(seen.frame);
                d.ended_by = Some(if cancelled {
                    Side::Caller
                } else {
                    Side::Callee
                });
                if d.to_tag.is_none() {
                    d.to_tag = to_tag.map(text);
                }
            }
        }
        return;
    }
    let Some(tag) = to_tag else {
        // 100 Trying (no tag): hop-by-hop, belongs to the attempt.
        if let Some(d) = leg.dialogs.first_mut() {
            count(d, seen.frame, retransmission);
        }
        return;
    };
    let index = match leg
        .dialogs
        .iter()
        .position(|d| d.to_tag.as_deref().map(str::as_bytes) == Some(tag))
    {
        Some(i) => i,
        None => match leg.dialogs.iter().position(|d| d.to_tag.is_none()) {
            Some(i) => {
                if let Some(d) = leg.dialogs.get_mut(i) {
                    d.to_tag = Some(text(tag));
                }
                i
            }
            None => {
                // A forked response: a second early dialog of the same INVITE (RFC 3261 §12.1, §13.2.2.4).
                let Some(base) = leg.dialogs.first() else {
                    return;
                };
                let mut fork = base.clone();
                fork.to_tag = Some(text(tag));
                fork.state = DialogState::Trying;
                fork.answer = Answer::Pending;
                fork.status = None;
                fork.reason = None;
                fork.answered = None;
                fork.ack = None;
                fork.ended = None;
                fork.ending = None;
                fork.ended_by = None;
                fork.messages = 0;
                fork.retransmissions = 0;
                fork.media.clear();
                fork.requests.clear();
                // Each dialog keeps its own CSeq space, from the INVITE's (RFC 3261 §12.1.2).
                fork.cseq_regressions.clear();
                fork.last_cseq = [Some(leg.invite_cseq), None];
                fork.callee_agent = None;
                stats.dialogs += 1;
                leg.dialogs.push(fork);
                leg.dialogs.len() - 1
            }
        },
    };
    let Some(d) = leg.dialogs.get_mut(index) else {
        return;
    };
    count(d, seen.frame, retransmission);
    if d.callee_agent.is_none() {
        d.callee_agent = msg.user_agent().map(text);
    }
    if d.callee.name.is_none()
        && let Some(name) = msg.to().and_then(|t| t.display).filter(|n| !n.is_empty())
    {
        d.callee.name = Some(text(name));
    }
    if (101..200).contains(&status) && d.state == DialogState::Trying {
        d.state = DialogState::Early;
    }
    if (200..300).contains(&status) && d.answered.is_none() {
        d.state = DialogState::Confirmed;
        d.answer = Answer::Answered;
        d.status = Some(status);
        d.reason = reason;
        d.answered = Some(seen.frame);
    }
}

/// A message inside an established dialog (both tags), or outside any INVITE dialog.
fn in_dialog(
    call: &mut CallId,
    call_id: &[u8],
    seen: &Observed<'_, '_>,
    retransmission: bool,
    stats: &mut DialogStats,
) -> bool {
    let msg = seen.message;
    let from_tag = msg.from_tag().unwrap_or_default();
    let Some(to_tag) = msg.to_tag().filter(|t| !t.is_empty()) else {
        return false;
    };
    // Requests carry the sender's tag in From; responses keep the request's From and To.
    let found = call
        .legs
        .iter_mut()
        .flat_map(|l| l.dialogs.iter_mut())
        .find(|d| {
            let to = d.to_tag.as_deref().map(str::as_bytes);
            (d.from_tag.as_bytes() == from_tag && to == Some(to_tag))
                || (d.from_tag.as_bytes() == to_tag && to == Some(from_tag))
        });
    let dialog = match found {
        Some(d) => d,
        None => {
            // Only INVITE dialogs are tracked: a dialog whose INVITE is not in the
            // capture is recognised by a request that only INVITE dialogs carry, or a
            // response to a re-INVITE or BYE. A REFER's 2xx creates a subscription
            // dialog of its own (RFC 3515 §2.4.4, RFC 6665), not a call.
            let invite_dialog = match (msg.method(), msg.cseq().map(|c| c.method)) {
                (Some(m), _) => matches!(
                    m,
                    Method::Invite | Method::Ack | Method::Bye | Method::Refer
                ),
                (None, Some(m)) => matches!(m, Method::Invite | Method::Bye),
                (None, None) => false,
            };
            if !invite_dialog {
                return false;
            }
            stats.dialogs += 1;
            let mut d = new_dialog(
                call_id,
                seen,
                from_tag,
                DialogState::Confirmed,
                Answer::BeforeCapture,
            );
            d.to_tag = Some(text(to_tag));
            d.invite_seen = false;
            call.add_leg(from_tag, 0, true, d);
            let Some(d) = call.legs.last_mut().and_then(|l| l.dialogs.first_mut()) else {
                return true;
            };
            d
        }
    };
    count(dialog, seen.frame, retransmission);
    let cseq = msg.cseq();
    match (msg.method(), msg.status()) {
        (Some(method), _) => {
            let by = dialog.side_of_from_tag(from_tag);
            if by == Side::Caller && dialog.caller_agent.is_none() {
                dialog.caller_agent = msg.user_agent().map(text);
            }
            if by == Side::Callee && dialog.callee_agent.is_none() {
                dialog.callee_agent = msg.user_agent().map(text);
            }
            if matches!(method, Method::Ack) {
                let initial = dialog.answered.is_some() || dialog.ending == Some(Ending::Final);
                if initial && dialog.ack.is_none() {
                    dialog.ack = Some(seen.frame);
                }
                return true;
            }
            let seq = cseq.map_or(0, |c| c.seq);
            let method_name = method.as_str().into_owned();
            if let Some(r) = dialog
                .requests
                .iter_mut()
                .find(|r| r.cseq == seq && r.method == method_name && r.by == by)
            {
                if retransmission {
                    r.retransmissions = r.retransmissions.saturating_add(1);
                }
                // The same request on another hop adds nothing new.
                return true;
            }
            // A new request of one side carries a higher CSeq than its last
            // (RFC 3261 §12.2.1.1); CANCEL and ACK reuse the INVITE's.
            let slot = usize::from(by == Side::Callee);
            if !matches!(method, Method::Cancel)
                && let Some(last) = dialog.last_cseq.get_mut(slot)
            {
                match *last {
                    Some(previous) if seq < previous => {
                        if dialog.cseq_regressions.len() < 8 {
                            dialog.cseq_regressions.push((seen.frame, previous, seq));
                        }
                    }
                    _ => *last = Some(seq),
                }
            }
            crate::push_few(
                &mut dialog.requests,
                Request {
                    frame: seen.frame,
                    method: method_name,
                    cseq: seq,
                    by,
                    response: None,
                    retransmissions: 0,
                },
            );
            if matches!(method, Method::Invite | Method::Update)
                && let Some(direction) = sdp::direction(msg.body())
            {
                // Each side holds and resumes on its own (RFC 3264 §8.4): a change is
                // one from what this side offered last.
                let last = dialog
                    .media
                    .iter()
                    .rev()
                    .find(|m| m.by == by)
                    .map_or(sdp::Direction::SendRecv, |m| m.direction);
                if direction != last {
                    crate::push_few(
                        &mut dialog.media,
                        MediaChange {
                            frame: seen.frame,
                            by,
                            direction,
                        },
                    );
                }
            }
            if matches!(method, Method::Bye) && dialog.state != DialogState::Terminated {
                dialog.state = DialogState::Terminated;
                dialog.ending = Some(Ending::Bye);
                dialog.ended = Some(seen.frame);
                dialog.ended_by = Some(by);
            }
        }
        (None, Some(status)) => {
            let Some(cseq) = cseq else {
                return true;
            };
            // The response goes to the side that sent the request: its From tag.
            let by = dialog.side_of_from_tag(from_tag);
            let method_name = cseq.method.as_str();
            if status >= 200
                && let Some(r) = dialog
                    .requests
                    .iter_mut()
                    .find(|r| r.cseq == cseq.seq && r.method == method_name && r.by == by)
                && r.response.is_none()
            {
                r.response = Some((seen.frame, status));
            }
            // 481 and 408 to an in-dialog request end the dialog (RFC 3261 §12.2.1.2).
            if matches!(status, 481 | 408)
                && !matches!(cseq.method, Method::Bye)
                && dialog.state != DialogState::Terminated
            {
                dialog.state = DialogState::Terminated;
                dialog.ending = Some(Ending::Error);
                dialog.ended = Some(seen.frame);
                dialog.ended_by = Some(match by {
                    Side::Caller => Side::Callee,
                    Side::Callee => Side::Caller,
                });
            }
        }
        (None, None) => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    const ALICE: &str = "10.0.0.1:5060";
    const BOB: &str = "10.0.0.2:5060";
    const PROXY: &str = "10.0.0.9:5060";

    /// Feeds SIP messages (written with `\n`, sent with CRLF) to a tracker, one frame
    /// a second, each with its flow.
    struct Script {
        tracker: Tracker,
        frame: u64,
    }

    impl Script {
        fn new() -> Script {
            Script {
                tracker: Tracker::new(GRACE_NS),
                frame: 0,
            }
        }

        fn send(&mut self, from: &str, to: &str, text: &str) -> &mut Self {
            self.frame += 1;
            let wire = text.trim_start().replace('\n', "\r\n");
            let message = Message::parse(wire.as_bytes(), false).expect("test message parses");
            let frame = FrameRef {
                seq: self.frame,
                file: 0,
                number: self.frame,
                ts_ns: self.frame as i64 * 1_000_000_000,
            };
            let flow = Flow {
                src: from.parse::<SocketAddr>().expect("address"),
                dst: to.parse::<SocketAddr>().expect("address"),
            };
            self.tracker.observe(&Observed {
                frame,
                flow,
                transport: Transport::Udp,
                message: &message,
            });
            self
        }

        fn dialogs(self) -> Vec<Dialog> {
            self.tracker.finish().0
        }
    }

    fn request(method: &str, cseq: u32, branch: &str, to_tag: Option<&str>, extra: &str) -> String {
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        format!(
            "{method} sip:bob@10.0.0.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch={branch}
From: \"Alice\" <sip:alice@10.0.0.1>;tag=a1
To: \"Bob\" <sip:bob@10.0.0.2>{to_tag}
Call-ID: call-1@10.0.0.1
CSeq: {cseq} {method}
{extra}Content-Length: 0

"
        )
    }

    fn response(
        status: &str,
        method: &str,
        cseq: u32,
        branch: &str,
        to_tag: Option<&str>,
    ) -> String {
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        format!(
            "SIP/2.0 {status}
Via: SIP/2.0/UDP 10.0.0.1:5060;branch={branch}
From: \"Alice\" <sip:alice@10.0.0.1>;tag=a1
To: \"Bob\" <sip:bob@10.0.0.2>{to_tag}
Call-ID: call-1@10.0.0.1
CSeq: {cseq} {method}
Content-Length: 0

"
        )
    }

    /// A request from Bob to Alice inside the dialog (tags swapped).
    fn request_from_bob(method: &str, cseq: u32, branch: &str) -> String {
        format!(
            "{method} sip:alice@10.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5060;branch={branch}
From: \"Bob\" <sip:bob@10.0.0.2>;tag=b1
To: \"Alice\" <sip:alice@10.0.0.1>;tag=a1
Call-ID: call-1@10.0.0.1
CSeq: {cseq} {method}
Content-Length: 0

"
        )
    }

    fn response_to_bob(status: &str, method: &str, cseq: u32, branch: &str) -> String {
        format!(
            "SIP/2.0 {status}
Via: SIP/2.0/UDP 10.0.0.2:5060;branch={branch}
From: \"Bob\" <sip:bob@10.0.0.2>;tag=b1
To: \"Alice\" <sip:alice@10.0.0.1>;tag=a1
Call-ID: call-1@10.0.0.1
CSeq: {cseq} {method}
Content-Length: 0

"
        )
    }

    /// An OPTIONS in a Call-ID of its own: something else happening later in the
    /// capture.
    fn options(call_id: &str) -> String {
        format!(
            "OPTIONS sip:bob@10.0.0.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-{call_id}
From: <sip:monitor@10.0.0.9>;tag=m1
To: <sip:bob@10.0.0.2>
Call-ID: {call_id}
CSeq: 1 OPTIONS
Content-Length: 0

"
        )
    }

    #[test]
    fn an_invite_without_any_response_times_out_and_leaves_memory() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK-1", None, ""));
        // 40 s of other traffic: Timer B (32 s) has fired for the INVITE.
        for i in 0..40 {
            s.send(PROXY, BOB, &options(&format!("o{i}")));
        }
        assert!(
            !s.tracker.is_live("call-1@10.0.0.1"),
            "let go after Timer B"
        );
        let finished = s.tracker.take_finished();
        let d = finished
            .iter()
            .find(|d| d.call_id == "call-1@10.0.0.1")
            .expect("the call is in the finished list");
        assert_eq!(d.answer, Answer::Pending);
        assert_eq!(d.state, DialogState::Terminated);
        assert_eq!(d.ending, Some(Ending::Timeout));
    }

    #[test]
    fn a_provisional_response_stops_timer_b() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK-1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("180 Ringing", "INVITE", 1, "z9hG4bK-1", Some("b1")),
            );
        for i in 0..40 {
            s.send(PROXY, BOB, &options(&format!("o{i}")));
        }
        assert!(s.tracker.is_live("call-1@10.0.0.1"), "still ringing");
        let d = s
            .dialogs()
            .into_iter()
            .find(|d| d.call_id == "call-1@10.0.0.1");
        assert_eq!(d.map(|d| d.state), Some(DialogState::Early));
    }

    #[test]
    fn answered_call_ended_by_callee() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("100 Trying", "INVITE", 1, "z9hG4bK1", None),
            )
            .send(
                BOB,
                ALICE,
                &response("180 Ringing", "INVITE", 1, "z9hG4bK1", Some("b1")),
            )
            .send(
                BOB,
                ALICE,
                &response("200 OK", "INVITE", 1, "z9hG4bK1", Some("b1")),
            )
            .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK2", Some("b1"), ""))
            .send(BOB, ALICE, &request_from_bob("BYE", 7, "z9hG4bK3"))
            .send(ALICE, BOB, &response_to_bob("200 OK", "BYE", 7, "z9hG4bK3"));
        let dialogs = s.dialogs();
        assert_eq!(dialogs.len(), 1);
        let d = &dialogs[0];
        assert_eq!(d.call_id, "call-1@10.0.0.1");
        assert_eq!(
            (d.from_tag.as_str(), d.to_tag.as_deref()),
            ("a1", Some("b1"))
        );
        assert_eq!(d.caller.name.as_deref(), Some("Alice"));
        assert_eq!(d.caller_addr.to_string(), ALICE);
        assert_eq!(d.callee_addr.to_string(), BOB);
        assert_eq!(d.answer, Answer::Answered);
        assert_eq!(d.state, DialogState::Terminated);
        assert_eq!(
            (d.ending, d.ended_by),
            (Some(Ending::Bye), Some(Side::Callee))
        );
        assert_eq!((d.first.number, d.last.number, d.messages), (1, 7, 7));
        assert_eq!(d.answered.map(|f| f.number), Some(4));
        assert_eq!(d.ended.map(|f| f.number), Some(6));
        let bye = d
            .requests
            .iter()
            .find(|r| r.method == "BYE")
            .expect("BYE recorded");
        assert_eq!(bye.response.map(|(f, s)| (f.number, s)), Some((7, 200)));
    }

    #[test]
    fn rejected_call_carries_its_status() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("486 Busy Here", "INVITE", 1, "z9hG4bK1", Some("b1")),
            )
            .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK1", Some("b1"), ""));
        let d = &s.dialogs()[0];
        assert_eq!((d.answer, d.status), (Answer::Rejected, Some(486)));
        assert_eq!(d.reason.as_deref(), Some("Busy Here"));
        assert_eq!(d.to_tag.as_deref(), Some("b1"));
        assert_eq!((d.messages, d.ended_by), (3, Some(Side::Callee)));
    }

    #[test]
    fn cancelled_call() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("180 Ringing", "INVITE", 1, "z9hG4bK1", Some("b1")),
            )
            .send(ALICE, BOB, &request("CANCEL", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("200 OK", "CANCEL", 1, "z9hG4bK1", Some("b1")),
            )
            .send(
                BOB,
                ALICE,
                &response(
                    "487 Request Terminated",
                    "INVITE",
                    1,
                    "z9hG4bK1",
                    Some("b1"),
                ),
            )
            .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK1", Some("b1"), ""));
        let dialogs = s.dialogs();
        assert_eq!(dialogs.len(), 1);
        let d = &dialogs[0];
        assert_eq!(
            (d.answer, d.status, d.ended_by),
            (Answer::Cancelled, Some(487), Some(Side::Caller))
        );
        assert_eq!(d.messages, 6);
    }

    #[test]
    fn forked_early_dialogs_are_separate() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("180 Ringing", "INVITE", 1, "z9hG4bK1", Some("fork-a")),
            )
            .send(
                BOB,
                ALICE,
                &response("180 Ringing", "INVITE", 1, "z9hG4bK1", Some("fork-b")),
            )
            .send(
                BOB,
                ALICE,
                &response("200 OK", "INVITE", 1, "z9hG4bK1", Some("fork-a")),
            );
        let dialogs = s.dialogs();
        assert_eq!(dialogs.len(), 2);
        let a = dialogs
            .iter()
            .find(|d| d.to_tag.as_deref() == Some("fork-a"))
            .expect("a");
        let b = dialogs
            .iter()
            .find(|d| d.to_tag.as_deref() == Some("fork-b"))
            .expect("b");
        assert_eq!(
            (a.state, a.answer),
            (DialogState::Confirmed, Answer::Answered)
        );
        assert_eq!((b.state, b.answer), (DialogState::Early, Answer::Pending));
    }

    #[test]
    fn authentication_challenge_keeps_one_call() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response(
                    "407 Proxy Authentication Required",
                    "INVITE",
                    1,
                    "z9hG4bK1",
                    Some("x"),
                ),
            )
            .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK1", Some("x"), ""))
            .send(
                ALICE,
                BOB,
                &request(
                    "INVITE",
                    2,
                    "z9hG4bK2",
                    None,
                    "Proxy-Authorization: Digest x\n",
                ),
            )
            .send(
                BOB,
                ALICE,
                &response("200 OK", "INVITE", 2, "z9hG4bK2", Some("b1")),
            )
            .send(ALICE, BOB, &request("ACK", 2, "z9hG4bK3", Some("b1"), ""));
        let dialogs = s.dialogs();
        assert_eq!(dialogs.len(), 1, "{dialogs:#?}");
        let d = &dialogs[0];
        assert_eq!(
            (d.answer, d.status, d.challenges),
            (Answer::Answered, Some(200), 1)
        );
        // The phase ends at the ACK of the answered INVITE (frame 6), not of the 407 (3).
        assert_eq!(d.ack.map(|f| f.number), Some(6), "{d:#?}");
        assert_eq!(d.to_tag.as_deref(), Some("b1"));
    }

    #[test]
    fn retransmissions_are_recognised_but_hops_are_not() {
        let invite = request("INVITE", 1, "z9hG4bK1", None, "");
        // The proxy forwards the INVITE with its own Via on top: a new hop, not a retransmission.
        let forwarded = invite.replacen(
            "Via: ",
            "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKproxy\nVia: ",
            1,
        );
        let mut s = Script::new();
        s.send(ALICE, PROXY, &invite)
            .send(ALICE, PROXY, &invite)
            .send(PROXY, BOB, &forwarded);
        let stats = s.tracker.stats().clone();
        let d = &s.dialogs()[0];
        assert_eq!((d.messages, d.retransmissions), (3, 1));
        assert_eq!(stats.retransmissions, 1);
    }

    #[test]
    fn hold_and_resume_come_from_sdp_offers() {
        let sdp = |dir: &str| {
            let body = format!(
                "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na={dir}\n"
            );
            // Sent with CRLF: every line grows by one byte.
            let length = body.len() + body.matches('\n').count();
            format!("Content-Type: application/sdp\nContent-Length: {length}\n\n{body}")
        };
        let reinvite = |cseq: u32, branch: &str, dir: &str| {
            request("INVITE", cseq, branch, Some("b1"), "")
                .replace("Content-Length: 0\n\n", &sdp(dir))
        };
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("200 OK", "INVITE", 1, "z9hG4bK1", Some("b1")),
            )
            .send(ALICE, BOB, &reinvite(2, "z9hG4bK2", "sendonly"))
            .send(
                BOB,
                ALICE,
                &response("200 OK", "INVITE", 2, "z9hG4bK2", Some("b1")),
            )
            .send(ALICE, BOB, &reinvite(3, "z9hG4bK3", "sendrecv"));
        let d = &s.dialogs()[0];
        let changes: Vec<_> = d
            .media
            .iter()
            .map(|m| (m.frame.number, m.by, m.direction))
            .collect();
        assert_eq!(
            changes,
            vec![
                (3, Side::Caller, sdp::Direction::SendOnly),
                (5, Side::Caller, sdp::Direction::SendRecv)
            ]
        );
        assert_eq!(d.answer, Answer::Answered, "a re-INVITE is not a new call");
        let reinvite = d
            .requests
            .iter()
            .find(|r| r.cseq == 2)
            .expect("re-INVITE recorded");
        assert_eq!(reinvite.response.map(|(_, s)| s), Some(200));
    }

    #[test]
    fn a_call_already_up_when_the_capture_starts() {
        let mut s = Script::new();
        s.send(BOB, ALICE, &request_from_bob("BYE", 9, "z9hG4bK9"))
            .send(ALICE, BOB, &response_to_bob("200 OK", "BYE", 9, "z9hG4bK9"));
        let d = &s.dialogs()[0];
        assert_eq!(d.answer, Answer::BeforeCapture);
        // Who called is not in the capture: the first sender seen stands as the caller.
        assert_eq!(d.from_tag, "b1");
        assert_eq!(
            (d.state, d.ended_by, d.messages),
            (DialogState::Terminated, Some(Side::Caller), 2)
        );
    }

    #[test]
    fn a_lost_invite_still_gives_an_answered_call() {
        let mut s = Script::new();
        s.send(
            BOB,
            ALICE,
            &response("180 Ringing", "INVITE", 1, "z9hG4bK1", Some("b1")),
        )
        .send(
            BOB,
            ALICE,
            &response("200 OK", "INVITE", 1, "z9hG4bK1", Some("b1")),
        )
        .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK2", Some("b1"), ""));
        let dialogs = s.dialogs();
        assert_eq!(dialogs.len(), 1);
        let d = &dialogs[0];
        assert!(!d.invite_seen);
        assert_eq!(
            (d.answer, d.state),
            (Answer::Answered, DialogState::Confirmed)
        );
        assert_eq!(
            (d.from_tag.as_str(), d.caller_addr.to_string()),
            ("a1", ALICE.to_string())
        );
        assert_eq!(d.messages, 3);
    }

    #[test]
    fn ended_calls_leave_memory_after_the_grace_time() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK1", None, ""))
            .send(
                BOB,
                ALICE,
                &response("486 Busy Here", "INVITE", 1, "z9hG4bK1", Some("b1")),
            );
        assert!(
            s.tracker.take_finished().is_empty(),
            "kept during the grace time"
        );
        s.frame += 40;
        let other = request("OPTIONS", 1, "z9hG4bKo", None, "").replace("call-1@", "call-2@");
        s.send(ALICE, BOB, &other);
        let finished = s.tracker.take_finished();
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].status, Some(486));
        assert_eq!(s.tracker.stats().released_early, 1);
        assert!(s.dialogs().is_empty(), "OPTIONS is no dialog");
    }

    /// Item 8 of issue 10: a 200 OK that comes after the INVITE timed out and its
    /// Call-ID was let go is counted as late; it is no second, phantom call.
    #[test]
    fn a_late_answer_after_the_call_was_let_go_is_no_new_call() {
        let mut s = Script::new();
        s.send(ALICE, BOB, &request("INVITE", 1, "z9hG4bK-1", None, ""));
        s.frame += 40;
        s.send(PROXY, BOB, &options("o1"));
        assert!(
            !s.tracker.is_live("call-1@10.0.0.1"),
            "let go after Timer B"
        );
        s.send(
            BOB,
            ALICE,
            &response("200 OK", "INVITE", 1, "z9hG4bK-1", Some("b1")),
        )
        .send(ALICE, BOB, &request("ACK", 1, "z9hG4bK-2", Some("b1"), ""));
        assert_eq!(s.tracker.stats().late_messages, 2);
        let mut finished = s.tracker.take_finished();
        let (rest, _) = s.tracker.finish();
        finished.extend(rest);
        assert_eq!(finished.len(), 1, "{finished:#?}");
        assert_eq!(finished[0].ending, Some(Ending::Timeout));
    }
}
