//! The finished dialogs the linker may still need, indexed by what transfers look them
//! up by: Call-ID, each party's user and host, and the pair of parties. Lookups never
//! scan the list, and letting a dialog go touches only its own index entries.

use foldhash::HashMap;

use super::record::Aor;
use crate::capture::FrameRef;
use crate::dialog::Dialog;

/// A dialog's place in the call list: calls are listed in order of their INVITE, and
/// dialogs of one INVITE (forks) in the order the tracker finished them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    invite: FrameRef,
    first: FrameRef,
    finished: u64,
}

impl Place {
    /// The place in 24 bytes, ordered as the place is: a frame's `seq` is unique
    /// (the order frames were analysed in), so it alone orders frame references.
    /// What a call list written aside keeps per call.
    pub fn key(&self) -> (u64, u64, u64) {
        (self.invite.seq, self.first.seq, self.finished)
    }
}

/// A finished dialog with its place in the call list.
pub struct Listed {
    pub place: Place,
    pub dialog: Dialog,
}

/// One held dialog, with the parties' user and host it is indexed under.
struct Held {
    dialog: Dialog,
    finished: u64,
    caller: Option<Aor>,
    callee: Option<Aor>,
}

impl Held {
    fn listed(self) -> Listed {
        Listed {
            place: Place {
                invite: self.dialog.invite,
                first: self.dialog.first,
                finished: self.finished,
            },
            dialog: self.dialog,
        }
    }
}

/// Finished dialogs (ended and let go by the dialog tracker), with their indexes.
/// Positions are stable: a dialog let go leaves a hole that the next one fills.
#[derive(Default)]
pub struct FinishedDialogs {
    slots: Vec<Option<Held>>,
    free: Vec<usize>,
    held: usize,
    /// Dialogs added so far: the next one's `finished` number.
    added: u64,
    /// Positions by Call-ID, each list in the order of the dialogs' INVITEs.
    by_call_id: HashMap<String, Vec<usize>>,
    /// Positions by the user and host of the caller and of the callee.
    by_party: HashMap<Option<Aor>, Vec<usize>>,
    /// Positions by both parties' user and host, in either order ([`pair`]).
    by_pair: HashMap<(Option<Aor>, Option<Aor>), Vec<usize>>,
}

/// Two parties as one key, whichever called whom.
pub(super) fn pair(a: Option<Aor>, b: Option<Aor>) -> (Option<Aor>, Option<Aor>) {
    if a <= b { (a, b) } else { (b, a) }
}

/// User and host of a party's URI (`<>` trimmed).
pub(super) fn party_aor(uri: &str) -> Option<Aor> {
    Aor::parse(uri.trim_start_matches('<').trim_end_matches('>'))
}

/// Takes position `at` out of the list under `key`, and the list when it is empty.
fn unlist<K: std::hash::Hash + Eq>(index: &mut HashMap<K, Vec<usize>>, key: &K, at: usize) {
    if let Some(list) = index.get_mut(key) {
        list.retain(|&i| i != at);
        if list.is_empty() {
            index.remove(key);
        }
    }
}

impl FinishedDialogs {
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    fn get(&self, at: usize) -> Option<&Dialog> {
        self.slots.get(at)?.as_ref().map(|h| &h.dialog)
    }

    /// Holds a dialog; returns its position, for [`FinishedDialogs::remove`].
    pub fn add(&mut self, d: Dialog) -> usize {
        let at = self.free.pop().unwrap_or(self.slots.len());
        // Keep each Call-ID's dialogs in INVITE order, as the call list orders them.
        let slots = &self.slots;
        let same_call = self.by_call_id.entry(d.call_id.clone()).or_default();
        let pos = same_call.partition_point(|&i| {
            slots
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|o| (o.dialog.invite, o.dialog.first) <= (d.invite, d.first))
        });
        same_call.insert(pos, at);
        let caller = party_aor(&d.caller.uri);
        let callee = party_aor(&d.callee.uri);
        self.by_pair
            .entry(pair(caller.clone(), callee.clone()))
            .or_default()
            .push(at);
        if callee != caller {
            self.by_party.entry(callee.clone()).or_default().push(at);
        }
        self.by_party.entry(caller.clone()).or_default().push(at);
        let held = Some(Held {
            dialog: d,
            finished: self.added,
            caller,
            callee,
        });
        self.added += 1;
        match self.slots.get_mut(at) {
            Some(slot) => *slot = held,
            None => self.slots.push(held),
        }
        self.held += 1;
        at
    }

    /// Drops the dialog at a position [`FinishedDialogs::add`] returned (a copy of a
    /// call still up, looked at for one transfer).
    pub fn remove(&mut self, at: usize) {
        let gone = self.slots.get_mut(at).and_then(Option::take);
        if let Some(h) = gone {
            self.unlist(at, &h);
        }
    }

    /// A dialog that is not held: it only gets its place in the call list, as if
    /// added and let go at once.
    pub fn pass(&mut self, dialog: Dialog) -> Listed {
        let finished = self.added;
        self.added += 1;
        Held {
            dialog,
            finished,
            caller: None,
            callee: None,
        }
        .listed()
    }

    /// The dialogs of a Call-ID, in INVITE order.
    pub fn with_call_id<'s>(&'s self, call_id: &str) -> impl Iterator<Item = &'s Dialog> + 's {
        self.by_call_id
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.get(i))
    }

    /// The dialogs in which this user and host is caller or callee.
    pub fn with_party<'s>(&'s self, aor: &Option<Aor>) -> impl Iterator<Item = &'s Dialog> + 's {
        self.by_party
            .get(aor)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.get(i))
    }

    /// The dialogs between these two parties, whichever called whom.
    pub fn between<'s>(
        &'s self,
        a: &Option<Aor>,
        b: &Option<Aor>,
    ) -> impl Iterator<Item = &'s Dialog> + 's {
        self.by_pair
            .get(&pair(a.clone(), b.clone()))
            .into_iter()
            .flatten()
            .filter_map(|&i| self.get(i))
    }

    /// Keeps only the dialogs `keep` says yes to; the others are handed back, each
    /// with its place in the call list.
    pub fn release(&mut self, mut keep: impl FnMut(&Dialog) -> bool) -> Vec<Listed> {
        let mut released = Vec::new();
        for at in 0..self.slots.len() {
            let gone = match self.slots.get_mut(at) {
                Some(slot) if slot.as_ref().is_some_and(|h| !keep(&h.dialog)) => slot.take(),
                _ => None,
            };
            let Some(h) = gone else {
                continue;
            };
            self.unlist(at, &h);
            released.push(h.listed());
        }
        released
    }

    /// Takes a dialog taken out of position `at` out of the indexes too.
    fn unlist(&mut self, at: usize, h: &Held) {
        unlist(&mut self.by_call_id, &h.dialog.call_id, at);
        unlist(&mut self.by_party, &h.caller, at);
        unlist(&mut self.by_party, &h.callee, at);
        unlist(
            &mut self.by_pair,
            &pair(h.caller.clone(), h.callee.clone()),
            at,
        );
        self.free.push(at);
        self.held -= 1;
    }

    /// Every dialog held, in call-list order.
    pub fn into_sorted(self) -> Vec<Listed> {
        let mut all: Vec<Listed> = self.slots.into_iter().flatten().map(Held::listed).collect();
        all.sort_by_key(|l| l.place);
        all
    }
}
