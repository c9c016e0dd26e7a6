//! The finished dialogs the linker may still need, indexed by what transfers look them
//! up by: Call-ID, and the user and host of each party. Lookups never scan the list.

use foldhash::HashMap;

use super::record::Aor;
use crate::dialog::Dialog;

/// Finished dialogs (ended and let go by the dialog tracker), with their indexes.
#[derive(Default)]
pub struct FinishedDialogs {
    dialogs: Vec<Dialog>,
    /// Positions by Call-ID, each list in the order of the dialogs' INVITEs.
    by_call_id: HashMap<String, Vec<usize>>,
    /// Positions by the user and host of the caller and of the callee.
    by_party: HashMap<Option<Aor>, Vec<usize>>,
    /// Positions by both parties' user and host, in either order ([`pair`]).
    by_pair: HashMap<(Option<Aor>, Option<Aor>), Vec<usize>>,
}

/// Two parties as one key, whichever called whom.
fn pair(a: Option<Aor>, b: Option<Aor>) -> (Option<Aor>, Option<Aor>) {
    if a <= b { (a, b) } else { (b, a) }
}

/// User and host of a party's URI (`<>` trimmed).
pub(super) fn party_aor(uri: &str) -> Option<Aor> {
    Aor::parse(uri.trim_start_matches('<').trim_end_matches('>'))
}

impl FinishedDialogs {
    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }

    pub fn add(&mut self, d: Dialog) {
        let at = self.dialogs.len();
        let same_call = self.by_call_id.entry(d.call_id.clone()).or_default();
        // Keep each Call-ID's dialogs in INVITE order, as the call list orders them.
        let dialogs = &self.dialogs;
        let pos = same_call.partition_point(|&i| {
            dialogs
                .get(i)
                .is_some_and(|o| (o.invite, o.first) <= (d.invite, d.first))
        });
        same_call.insert(pos, at);
        let caller = party_aor(&d.caller.uri);
        let callee = party_aor(&d.callee.uri);
        self.by_pair
            .entry(pair(caller.clone(), callee.clone()))
            .or_default()
            .push(at);
        if callee != caller {
            self.by_party.entry(callee).or_default().push(at);
        }
        self.by_party.entry(caller).or_default().push(at);
        self.dialogs.push(d);
    }

    /// The dialogs of a Call-ID, in INVITE order.
    pub fn with_call_id<'s>(&'s self, call_id: &str) -> impl Iterator<Item = &'s Dialog> + 's {
        self.by_call_id
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.dialogs.get(i))
    }

    /// The dialogs in which this user and host is caller or callee.
    pub fn with_party<'s>(&'s self, aor: &Option<Aor>) -> impl Iterator<Item = &'s Dialog> + 's {
        self.by_party
            .get(aor)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.dialogs.get(i))
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
            .filter_map(|&i| self.dialogs.get(i))
    }

    /// Keeps only the dialogs `keep` says yes to.
    pub fn retain(&mut self, keep: impl FnMut(&Dialog) -> bool) {
        let before = self.dialogs.len();
        self.dialogs.retain(keep);
        if self.dialogs.len() == before {
            return;
        }
        let kept = std::mem::take(&mut self.dialogs);
        self.by_call_id.clear();
        self.by_party.clear();
        self.by_pair.clear();
        for d in kept {
            self.add(d);
        }
    }

    /// Every dialog, in order of its INVITE.
    pub fn into_sorted(self) -> Vec<Dialog> {
        let mut all = self.dialogs;
        all.sort_by_key(|d| (d.invite, d.first));
        all
    }
}
