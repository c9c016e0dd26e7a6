//! REFERs in, transfer sessions out, while the capture streams by.
//!
//! Each REFER goes through three steps, each taken as soon as capture time allows, so
//! the work per REFER is a handful of index lookups and nothing waits on an unrelated
//! call:
//!
//! 1. **Grouped** ([`RELAY_WINDOW_NS`] after it was seen): with the copies of it that
//!    a back-to-back user agent relayed, found through an index of the open groups by
//!    the referred user.
//! 2. **Resolved** (when no triggered INVITE can come any more, [`RESOLVE_AFTER_NS`]
//!    after the group's first REFER), in REFER order: its id, the new call it
//!    triggered (an INVITE claimed by one transfer only, earliest REFER first), the
//!    transfer it retries and the one it follows.
//! 3. **Built** when every dialog it links is over (the dialog tracker let go of their
//!    Call-IDs): handed on at once, in whatever order transfers finish. A call that
//!    stays up holds back its own transfer, never the others.
//!
//! The result depends only on the capture, not on how often [`Linker::advance`] runs:
//! every decision is made on what lies within a fixed window of capture time.
//!
//! **The cap.** At most [`Linker::new`]'s `max_pending` groups wait to be resolved, and
//! as many resolved transfers wait for their calls to end ([`MAX_PENDING`] by default).
//! Past it, the oldest is decided early: resolved with the INVITEs seen so far, or
//! built from a copy of its calls as they stand ([`LiveCalls::snapshot`]). Each such
//! transfer says so in its note, and [`LinkStats`] counts them: nothing is let go
//! silently. Which transfers go early then depends on when `advance` runs, so the
//! caller runs it at points that depend only on the capture.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::{BTreeMap, VecDeque};

use super::TransferFacts;
use super::build::{self, Sources, final_response, original_call_id, target_address, transferee};
use super::dialogs::{FinishedDialogs, Listed, pair, party_aor};
use super::model::Transfer;
use super::new_call;
use super::record::{Aor, Collector, InviteRecord, ReferRecord, TRIGGER_WINDOW_NS};
use crate::capture::FrameRef;
use crate::dialog::{Dialog, call_key};

/// How close in capture time a relayed copy of a REFER follows the copy before it.
pub const RELAY_WINDOW_NS: i64 = 2_000_000_000;

/// The default cap on transfers pending at once (see the module docs): memory for
/// pending transfers stays under about 30 MB however many REFERs a capture holds.
pub const MAX_PENDING: usize = 4096;

/// What the linker asks of the dialog tracker about the calls still up.
pub trait LiveCalls {
    /// Whether the tracker still holds a Call-ID.
    fn is_live(&self, call_id: &str) -> bool;
    /// The dialogs of a Call-ID still held, as they stand now, in INVITE order.
    fn snapshot(&self, call_id: &str) -> Vec<Dialog>;
}

impl LiveCalls for crate::dialog::Tracker {
    fn is_live(&self, call_id: &str) -> bool {
        crate::dialog::Tracker::is_live(self, call_id)
    }
    fn snapshot(&self, call_id: &str) -> Vec<Dialog> {
        crate::dialog::Tracker::snapshot(self, call_id)
    }
}

/// The end of the capture: no call is up any more.
struct AllOver;

impl LiveCalls for AllOver {
    fn is_live(&self, _: &str) -> bool {
        false
    }
    fn snapshot(&self, _: &str) -> Vec<Dialog> {
        Vec::new()
    }
}

/// Transfers decided early because more than the cap were pending at once (see the
/// module docs).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkStats {
    /// The cap: groups waiting to be resolved, and resolved transfers waiting for
    /// their calls to end, at once.
    pub max_pending: usize,
    /// Transfers resolved before their new call's window closed: an INVITE sent
    /// after that was not looked at.
    pub resolved_early: u64,
    /// Transfers built while a call of theirs was still up, from a copy of it as it
    /// stood: what happened in it afterwards is not in their report.
    pub built_early: u64,
}

impl LinkStats {
    /// Whether the cap was never reached.
    pub fn is_quiet(&self) -> bool {
        self.resolved_early == 0 && self.built_early == 0
    }
}

/// At most this many legs of one REFER are grouped.
const MAX_LEGS: usize = 4;

/// When a group is resolved: once a triggered INVITE can no longer come, and every
/// REFER that could bound it (the next one of the same dialog side) is grouped.
pub const RESOLVE_AFTER_NS: i64 = TRIGGER_WINDOW_NS + 2 * RELAY_WINDOW_NS * MAX_LEGS as i64;

/// A REFER and its relayed copies, by record serial, first one first.
#[derive(Clone, Debug)]
struct Group {
    id: usize,
    refers: Vec<usize>,
    /// The first REFER's frame.
    first: FrameRef,
    /// Capture time of the last copy: a copy relayed later than [`RELAY_WINDOW_NS`]
    /// after it is not looked at.
    last_ns: i64,
}

/// What resolution decided about a transfer.
#[derive(Clone, Debug)]
pub struct Resolution {
    pub id: usize,
    /// Serials of the REFER records, first one first.
    pub refers: Vec<usize>,
    /// The triggered INVITE, taken out of the collector, which may let go of it
    /// before the transfer is built.
    pub new_call: Option<Trigger>,
    pub retry_of: Option<usize>,
    /// The transfer whose new call is this one's original call, when the original call
    /// is in the capture.
    pub follows: Option<usize>,
    pub earlier_refer_in_dialog: bool,
    /// The Call-IDs that must be over before the transfer can be built.
    waits_for: Vec<String>,
    /// Resolved early: more groups than the cap were open.
    pub resolved_early: bool,
}

/// What the transfers left at the end of input may look dialogs up by.
struct Needed {
    /// The Call-IDs they wait for.
    needed: HashSet<String>,
    /// The user and host of their transferors and targets ([`pair`]).
    pairs: HashSet<(Option<Aor>, Option<Aor>)>,
}

/// The INVITE a REFER triggered, as resolution found it.
#[derive(Clone, Debug)]
pub struct Trigger {
    pub invite: InviteRecord,
    /// Which evidence linked it to the REFER, strongest first.
    pub evidence: Vec<&'static str>,
    /// Where the new call leg's last INVITE went on its last hop: the target.
    pub target: Option<std::net::SocketAddr>,
}

/// Links transfers as the capture is read (see the module docs).
pub struct Linker {
    /// The next REFER record to group.
    next_refer: usize,
    /// Groups not yet resolved, in REFER order.
    open: VecDeque<Group>,
    /// Open groups by the user part of their Refer-To, for relayed copies to find.
    open_by_user: HashMap<String, Vec<usize>>,
    /// Open groups by dialog side (Call-ID, transferor's tag), for the next REFER of
    /// the same side, which bounds where a REFER's new call can be.
    open_by_side: HashMap<(String, String), Vec<usize>>,
    next_id: usize,
    /// Resolved transfers waiting for their dialogs to end, by id.
    waiting: BTreeMap<usize, Resolution>,
    /// Waiting transfers by the key ([`call_key`]) of a Call-ID they wait for: when the
    /// tracker lets that Call-ID go, only they are looked at again.
    waiting_on: HashMap<u64, Vec<usize>>,
    /// Waiting transfers to look at again.
    recheck: Vec<usize>,
    /// The step count (see [`Linker::advance`]) and size of the last
    /// [`Linker::let_go`]: it runs again once as many steps went by as it had to look
    /// at, so its cost is amortised over the steps.
    let_go_at: (u64, usize),
    /// INVITE serials already claimed as some transfer's new call.
    used_invites: HashSet<usize>,
    /// The last rejected REFER of each dialog side, to tell a retry.
    rejected: HashMap<(String, String), usize>,
    /// New calls by Call-ID, to tell a chained transfer.
    new_calls: HashMap<String, usize>,
    /// The earliest accepted REFER of each Call-ID.
    accepted: HashMap<String, FrameRef>,
    /// Finished dialogs that transfers may still need.
    dialogs: FinishedDialogs,
    /// At the end of input, what the transfers left may look up.
    last: Option<Needed>,
    /// Whether the caller lists the calls: finished dialogs no transfer can need are
    /// then handed over ([`Linker::take_released`]) rather than dropped.
    lists_calls: bool,
    /// Dialogs let go since the last [`Linker::take_released`], when the calls are listed.
    released: Vec<Listed>,
    /// Capture time of the last [`Linker::advance`].
    now_ns: i64,
    /// The cap and what went early.
    stats: LinkStats,
}

impl Linker {
    /// A linker; with `lists_calls`, every finished dialog ends up with the caller
    /// (see [`Linker::take_released`] and [`Linker::finish`]). At most `max_pending`
    /// transfers wait at each step (see the module docs; at least one).
    pub fn new(lists_calls: bool, max_pending: usize) -> Linker {
        Linker {
            next_refer: 0,
            open: VecDeque::new(),
            open_by_user: HashMap::new(),
            open_by_side: HashMap::new(),
            next_id: 1,
            waiting: BTreeMap::new(),
            waiting_on: HashMap::new(),
            recheck: Vec::new(),
            let_go_at: (0, 0),
            used_invites: HashSet::new(),
            rejected: HashMap::new(),
            new_calls: HashMap::new(),
            accepted: HashMap::new(),
            dialogs: FinishedDialogs::default(),
            last: None,
            lists_calls,
            released: Vec::new(),
            now_ns: i64::MIN,
            stats: LinkStats {
                max_pending: max_pending.max(1),
                ..LinkStats::default()
            },
        }
    }

    /// The cap and what went early because of it.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Takes the dialogs the tracker finished. While no REFER is left to resolve
    /// or waiting, none can be needed (a REFER comes while its call is up, and a
    /// dialog finishes only after the grace time): they go at once, as
    /// [`Linker::let_go`] would let them go, and a capture without transfers holds no
    /// finished dialog.
    pub fn add_dialogs(&mut self, dialogs: Vec<Dialog>, collector: &Collector) {
        let nothing_pending = self.open.is_empty()
            && self.waiting.is_empty()
            && self.next_refer >= collector.next_refer_serial();
        for d in dialogs {
            // One whose CSeq went backwards stays for the capture's findings.
            let keep = !nothing_pending || !d.cseq_regressions.is_empty();
            self.hold_or_release(d, keep);
        }
    }

    /// Holds a finished dialog for the transfers, or lets it go at once: to the call
    /// list when the calls are listed.
    fn hold_or_release(&mut self, d: Dialog, hold: bool) {
        if hold {
            self.dialogs.add(d);
        } else {
            let listed = self.dialogs.pass(d);
            if self.lists_calls {
                self.released.push(listed);
            }
        }
    }

    /// Moves to capture time `now_ns`, `steps` steps into the capture: groups,
    /// resolves and builds what it can, handing each built transfer and its facts to
    /// `emit`. `live` is the dialog tracker: which Call-IDs it still holds; `released`
    /// are the keys ([`call_key`]) of those it let go since the last call. `steps`
    /// counts the caller's steps so far (SIP messages, say): it paces the clean-up.
    pub fn advance(
        &mut self,
        collector: &mut Collector,
        (now_ns, steps): (i64, u64),
        live: &dyn LiveCalls,
        released: &[u64],
        emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
    ) {
        self.now_ns = now_ns;
        self.group(collector, now_ns.saturating_sub(RELAY_WINDOW_NS));
        while let Some(first) = self.open.front().map(|g| g.first)
            && first.ts_ns <= now_ns.saturating_sub(RESOLVE_AFTER_NS)
        {
            self.resolve_first(collector, false);
        }
        while self.open.len() > self.stats.max_pending {
            self.resolve_first(collector, true);
        }
        for key in released {
            if let Some(ids) = self.waiting_on.remove(key) {
                self.recheck.extend(ids);
            }
        }
        self.build_ready(collector, live, emit);
        while self.waiting.len() > self.stats.max_pending {
            self.build_early(collector, live, emit);
        }
        let size = self.waiting.len() + self.dialogs.len() + self.accepted.len();
        if steps.saturating_sub(self.let_go_at.0) >= self.let_go_at.1 as u64 {
            self.let_go(collector, live);
            self.let_go_at = (steps, size);
        }
    }

    /// The finished dialogs no transfer can need any more, let go since the last call
    /// (only when the calls are listed; otherwise they are dropped).
    pub fn take_released(&mut self) -> Vec<Listed> {
        std::mem::take(&mut self.released)
    }

    /// How many dialogs wait to be taken with [`Linker::take_released`].
    pub fn released_count(&self) -> usize {
        self.released.len()
    }

    /// End of input, first step: every REFER left is resolved. Then the tracker's
    /// dialogs come in ([`Linker::add_last_dialog`]), then [`Linker::finish`].
    pub fn resolve_all(&mut self, collector: &mut Collector) {
        self.group(collector, i64::MAX);
        while !self.open.is_empty() {
            self.resolve_first(collector, false);
        }
        // What the transfers left can look up: their Call-IDs, and a call between
        // the transferor and the target (a blind transfer's consultation, or the
        // leg a Replaces the capture lacks was made on).
        let mut needed = HashSet::new();
        let mut pairs = HashSet::new();
        for r in self.waiting.values() {
            needed.extend(r.waits_for.iter().cloned());
            for &serial in &r.refers {
                let Some(refer) = collector.refer(serial) else {
                    continue;
                };
                if let Some(target) = refer.targets.first().and_then(|t| t.aor.clone()) {
                    let transferor = party_aor(&refer.request.from.uri);
                    pairs.insert(pair(transferor, Some(target)));
                }
            }
        }
        self.last = Some(Needed { needed, pairs });
    }

    /// End of input: one of the dialogs the tracker still held (see
    /// [`crate::dialog::Tracker::finish_each`]). It is held only when a transfer left
    /// can look it up; any other goes to the call list at once, so the calls up at
    /// the end of a capture are never all in memory together.
    pub fn add_last_dialog(&mut self, d: Dialog) {
        let keep = match &self.last {
            Some(n) => {
                !d.cseq_regressions.is_empty()
                    || n.needed.contains(&d.call_id)
                    || (!n.pairs.is_empty()
                        && n.pairs
                            .contains(&pair(party_aor(&d.caller.uri), party_aor(&d.callee.uri))))
            }
            None => true,
        };
        self.hold_or_release(d, keep);
    }

    /// End of input: everything left is resolved and built. Returns the dialogs not
    /// yet taken with [`Linker::take_released`], in call-list order.
    pub fn finish(
        mut self,
        collector: &mut Collector,
        emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
    ) -> Vec<Listed> {
        self.resolve_all(collector);
        self.recheck = self.waiting.keys().copied().collect();
        self.build_ready(collector, &AllOver, emit);
        let mut left = std::mem::take(&mut self.released);
        left.extend(self.dialogs.into_sorted());
        left.sort_by_key(|l| l.place);
        left
    }

    /// Groups the REFERs first seen up to `until`.
    fn group(&mut self, collector: &Collector, until: i64) {
        while let Some(r) = collector.refer(self.next_refer) {
            let frame = r.request.first_frame();
            if frame.ts_ns > until {
                break;
            }
            let serial = self.next_refer;
            self.next_refer += 1;
            let home = user_of(r).and_then(|user| {
                let ids = self.open_by_user.get(user)?;
                ids.iter().copied().find(|&id| {
                    let Some(g) = self.open_group(id) else {
                        return false;
                    };
                    if frame.ts_ns.saturating_sub(g.last_ns) > RELAY_WINDOW_NS
                        || g.refers.len() >= MAX_LEGS
                    {
                        return false;
                    }
                    let legs: Vec<&ReferRecord> = g
                        .refers
                        .iter()
                        .filter_map(|&s| collector.refer(s))
                        .collect();
                    legs.len() < MAX_LEGS && relayed(&legs, r)
                })
            });
            if let Some(id) = home
                && let Some(g) = self.open_group_mut(id)
            {
                g.refers.push(serial);
                g.last_ns = frame.ts_ns;
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            if let Some(user) = user_of(r) {
                self.open_by_user
                    .entry(user.to_string())
                    .or_default()
                    .push(id);
            }
            let side = (r.request.call_id.clone(), r.request.from_tag.clone());
            self.open_by_side.entry(side).or_default().push(id);
            self.open.push_back(Group {
                id,
                refers: vec![serial],
                first: frame,
                last_ns: frame.ts_ns,
            });
        }
    }

    fn open_group(&self, id: usize) -> Option<&Group> {
        let front = self.open.front()?.id;
        self.open.get(id.checked_sub(front)?)
    }

    fn open_group_mut(&mut self, id: usize) -> Option<&mut Group> {
        let front = self.open.front()?.id;
        self.open.get_mut(id.checked_sub(front)?)
    }

    /// Resolves the oldest open group (see the module docs); `early` when the cap
    /// made it go before its time.
    fn resolve_first(&mut self, collector: &mut Collector, early: bool) {
        let Some(group) = self.open.pop_front() else {
            return;
        };
        if early {
            self.stats.resolved_early += 1;
        }
        self.resolve(&group, collector, early);
        for &serial in &group.refers {
            collector.resolved(serial);
        }
    }

    fn resolve(&mut self, group: &Group, collector: &Collector, early: bool) {
        let legs: Vec<&ReferRecord> = group
            .refers
            .iter()
            .filter_map(|&s| collector.refer(s))
            .collect();
        let Some(&r) = legs.first() else {
            return;
        };
        let req = &r.request;
        let side = (req.call_id.clone(), req.from_tag.clone());
        // The next REFER of the same dialog side bounds where this one's new call can be.
        let limit = self.open_by_side.get_mut(&side).and_then(|ids| {
            ids.retain(|&id| id != group.id);
            let next = ids.first().copied();
            next.and_then(|id| self.open.get(id.checked_sub(self.open.front()?.id)?))
                .map(|g| g.first)
        });
        if self.open_by_side.get(&side).is_some_and(Vec::is_empty) {
            self.open_by_side.remove(&side);
        }
        if let Some(user) = user_of(r)
            && let Some(ids) = self.open_by_user.get_mut(user)
        {
            ids.retain(|&id| id != group.id);
            if ids.is_empty() {
                self.open_by_user.remove(user);
            }
        }
        let final_response = final_response(&legs);
        let rejected = final_response.is_some_and(|f| f.status >= 300);
        let found = if rejected {
            None
        } else {
            let transferee = transferee(r, legs.last().copied().unwrap_or(r));
            legs.iter().find_map(|leg| {
                new_call::find(leg, &transferee, limit, collector, &self.used_invites)
            })
        };
        let new_call = found.and_then(|(serial, evidence)| {
            self.used_invites.insert(serial);
            let invite = collector.invite(serial)?;
            Some(Trigger {
                target: target_address(collector, invite),
                invite: invite.clone(),
                evidence,
            })
        });
        let retry_of = self.rejected.get(&side).copied();
        if rejected {
            self.rejected.insert(side, group.id);
        }
        let original = original_call_id(r).to_string();
        let follows = self.new_calls.get(&original).copied();
        let earlier_refer_in_dialog = self
            .accepted
            .get(&req.call_id)
            .is_some_and(|&f| f < req.first_frame());
        for leg in &legs {
            let accepted = leg
                .request
                .final_response()
                .is_some_and(|f| (200..300).contains(&f.status));
            if accepted {
                let at = leg.request.first_frame();
                let earliest = self
                    .accepted
                    .entry(leg.request.call_id.clone())
                    .or_insert(at);
                *earliest = (*earliest).min(at);
            }
        }
        let mut waits_for = vec![req.call_id.clone(), original];
        if let Some(n) = &new_call {
            let call_id = &n.invite.request.call_id;
            self.new_calls.insert(call_id.clone(), group.id);
            waits_for.push(call_id.clone());
        }
        // Every Replaces: the consultation dialog must be over to be in the capture.
        waits_for.extend(
            legs.iter()
                .filter_map(|l| l.targets.first())
                .filter_map(|t| t.replaces.as_ref()?.call_id.clone()),
        );
        waits_for.sort_unstable();
        waits_for.dedup();
        self.recheck.push(group.id);
        self.waiting.insert(
            group.id,
            Resolution {
                id: group.id,
                refers: group.refers.clone(),
                new_call,
                retry_of,
                follows,
                earlier_refer_in_dialog,
                waits_for,
                resolved_early: early,
            },
        );
    }

    /// Builds the resolved transfers whose dialogs are all over, and lets go of their
    /// records.
    fn build_ready(
        &mut self,
        collector: &mut Collector,
        live: &dyn LiveCalls,
        emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
    ) {
        let mut recheck = std::mem::take(&mut self.recheck);
        recheck.sort_unstable();
        recheck.dedup();
        for id in recheck {
            let Some(waiting) = self.waiting.get(&id) else {
                continue;
            };
            let live: Vec<u64> = waiting
                .waits_for
                .iter()
                .filter(|c| live.is_live(c))
                .map(|c| call_key(c.as_bytes()))
                .collect();
            if !live.is_empty() {
                // Looked at again when one of those is let go.
                for key in live {
                    self.waiting_on.entry(key).or_default().push(id);
                }
                continue;
            }
            let Some(resolution) = self.waiting.remove(&id) else {
                continue;
            };
            self.build(resolution, collector, false, emit);
        }
    }

    /// Builds the oldest waiting transfer now, its calls still up: from a copy of
    /// them as they stand (see the module docs).
    fn build_early(
        &mut self,
        collector: &mut Collector,
        live: &dyn LiveCalls,
        emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
    ) {
        let Some((_, resolution)) = self.waiting.pop_first() else {
            return;
        };
        self.stats.built_early += 1;
        let copies: Vec<usize> = resolution
            .waits_for
            .iter()
            .filter(|c| live.is_live(c))
            .flat_map(|c| live.snapshot(c))
            .map(|d| self.dialogs.add(d))
            .collect();
        self.build(resolution, collector, true, emit);
        for at in copies {
            self.dialogs.remove(at);
        }
    }

    /// Builds a resolved transfer from the dialogs held (its note says what the cap
    /// made of it), and lets go of its records.
    fn build(
        &self,
        resolution: Resolution,
        collector: &mut Collector,
        built_early: bool,
        emit: &mut dyn FnMut(Transfer, &TransferFacts<'_>),
    ) {
        let sources = Sources {
            collector,
            dialogs: &self.dialogs,
            built_early,
            max_pending: self.stats.max_pending,
        };
        build::build(&resolution, &sources, emit);
        for &serial in &resolution.refers {
            collector.release_refer(serial);
        }
    }

    /// Lets go of what no transfer can need any more: INVITE records older than every
    /// REFER still to resolve, what is remembered of Call-IDs that are over, and
    /// finished dialogs (handed over when the calls are listed).
    fn let_go(&mut self, collector: &mut Collector, live: &dyn LiveCalls) {
        // REFERs still to resolve: the open groups', then those not yet grouped.
        let serials: Vec<usize> = self
            .open
            .iter()
            .flat_map(|g| g.refers.iter().copied())
            .chain(self.next_refer..collector.next_refer_serial())
            .collect();
        // A new call follows its REFER: every INVITE and finished dialog that began
        // before the oldest REFER still to resolve is no new call of theirs.
        let cutoff = serials
            .iter()
            .filter_map(|&s| collector.refer(s))
            .map(|r| r.request.first_frame())
            .min();
        collector.forget_invites_before(cutoff.unwrap_or(FrameRef {
            seq: u64::MAX,
            ..FrameRef::default()
        }));
        let collector = &*collector;
        let unresolved: Vec<&ReferRecord> =
            serials.iter().filter_map(|&s| collector.refer(s)).collect();
        let mut needed: HashSet<&str> = self
            .waiting
            .values()
            .flat_map(|r| r.waits_for.iter().map(String::as_str))
            .collect();
        for r in &unresolved {
            needed.insert(r.request.call_id.as_str());
            needed.insert(original_call_id(r));
            needed.extend(
                r.targets
                    .iter()
                    .filter_map(|t| t.replaces.as_ref()?.call_id.as_deref()),
            );
        }
        let waiting = &self.waiting;
        self.waiting_on.retain(|_, ids| {
            ids.retain(|id| waiting.contains_key(id));
            !ids.is_empty()
        });
        let forgettable = |call_id: &str| !live.is_live(call_id) && !needed.contains(call_id);
        self.accepted.retain(|c, _| !forgettable(c));
        self.new_calls.retain(|c, _| !forgettable(c));
        self.rejected.retain(|(c, _), _| !forgettable(c));
        // A finished dialog stays while a transfer needs it: as its original,
        // consultation or new call, or as the call an unresolved REFER's recorded
        // INVITE made. One whose CSeq went backwards stays for the capture's findings.
        let released = self.dialogs.release(|d| {
            needed.contains(d.call_id.as_str())
                || (cutoff.is_some_and(|c| d.first >= c)
                    && collector.has_invite_leg(&d.call_id, &d.from_tag))
                || !d.cseq_regressions.is_empty()
        });
        if self.lists_calls {
            self.released.extend(released);
        }
    }
}

/// The user part of a REFER's first Refer-To, which its relayed copies share.
fn user_of(r: &ReferRecord) -> Option<&str> {
    r.targets.first()?.aor.as_ref()?.user.as_deref()
}

/// Whether `later` is the REFER of a group relayed by a back-to-back user agent (an
/// SBC or a PBX that rewrites tags and CSeq, so the copy is a request of its own):
/// sent shortly after the group's last copy, by someone other than the transferor,
/// from the box that received that copy (or in the same Call-ID with new tags), and
/// referring to the same user.
fn relayed(group: &[&ReferRecord], later: &ReferRecord) -> bool {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return false;
    };
    let (Some(to), Some(from), Some(origin)) = (
        last.request.receiver(),
        later.request.sender(),
        first.request.sender(),
    ) else {
        return false;
    };
    let (a, b) = (last.request.first_frame(), later.request.first_frame());
    // The B2BUA answers on one address and relays from another of its own, or keeps
    // the Call-ID while it rewrites tags and CSeq.
    let same_box = to.ip() == from.ip();
    let same_call = first.request.call_id == later.request.call_id
        && group
            .iter()
            .all(|g| g.request.from_tag != later.request.from_tag);
    from.ip() != origin.ip()
        && (same_box || same_call)
        && b > a
        && b.ts_ns.saturating_sub(a.ts_ns) <= RELAY_WINDOW_NS
        && user_of(first).is_some()
        && user_of(first) == user_of(later)
}
