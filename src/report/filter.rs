//! What a command shows: `--call-id`, `--transfer`, `--number`, `--from`, `--to`.
//!
//! Filtering never changes what is linked: the analysis runs whole over the capture,
//! then each transfer, call, message or finding is shown or not. A transfer is shown
//! when every filter given matches it:
//!
//! - `--call-id ID`: one of its dialogs' Call-IDs (original, consultation, new call,
//!   the REFER's) starts with ID;
//! - `--transfer N`: it is transfer N;
//! - `--number DIGITS`: the user part of one of its parties' URIs (From/To of its
//!   dialogs) or of the Refer-To contains DIGITS, once visual separators
//!   (`-`, `.`, space, brackets) are taken out of both;
//! - `--from T`, `--to T`: its frames (REFER and phases) reach into the window.
//!
//! A call is shown on the same terms (its Call-ID, its caller's and callee's URIs,
//! its first to last frame; with `--transfer N`, the calls of transfer N); a message
//! on its own Call-ID, From, To, Request-URI and Refer-To, and its frame's time.
//! Findings about the capture (tied to no transfer) are shown only when no filter but
//! the time window is given, and then when one of their frames is in it.

use std::collections::HashSet;

use crate::analysis::Analysis;
use crate::capture::FrameRef;
use crate::dialog::Dialog;
use crate::sip::{Message, Uri};
use crate::transfer::Transfer;

/// A bound of the time window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Time {
    /// Seconds from the first frame of the capture.
    Relative(f64),
    /// Wall-clock time, nanoseconds since the Unix epoch (UTC).
    Absolute(i64),
}

impl Time {
    /// Parses `12.5` (seconds from the first frame) or a UTC wall-clock time
    /// `2026-12-05T13:10:00[.123][Z]` (a space may stand for the `T`).
    pub fn parse(text: &str) -> Result<Time, String> {
        let text = text.trim();
        if let Ok(s) = text.parse::<f64>()
            && s.is_finite()
        {
            return Ok(Time::Relative(s));
        }
        wall_clock(text).map(Time::Absolute).ok_or_else(|| {
            format!(
                "{text:?} is not a time: give seconds from the first frame (12.5) or a UTC time (2026-12-05T13:10:00Z)"
            )
        })
    }

    /// Nanoseconds since the epoch, given time zero.
    pub fn ns(self, zero_ns: i64) -> i64 {
        match self {
            Time::Relative(s) => zero_ns.saturating_add((s * 1e9) as i64),
            Time::Absolute(ns) => ns,
        }
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z]` as ns since the epoch.
fn wall_clock(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.split('-');
    let (y, m, day) = (
        d.next()?.parse::<i64>().ok()?,
        d.next()?.parse::<i64>().ok()?,
        d.next()?.parse::<i64>().ok()?,
    );
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let secs: f64 = t.next().unwrap_or("0").parse().ok()?;
    if t.next().is_some() || h > 23 || min > 59 || !(0.0..61.0).contains(&secs) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let whole = days * 86_400 + h * 3600 + min * 60;
    Some(whole * 1_000_000_000 + (secs * 1e9).round() as i64)
}

/// The filters a command was given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub call_id: Option<String>,
    pub transfer: Option<usize>,
    pub number: Option<String>,
    pub from: Option<Time>,
    pub to: Option<Time>,
}

/// Digits (and letters) of a number or user part without visual separators.
fn bare(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '.' | ' ' | '(' | ')'))
        .collect()
}

/// The user part of a URI written as text (with or without `<>`).
fn user_of(uri: &str) -> Option<String> {
    let uri = uri.trim().trim_start_matches('<');
    let uri = uri.split('>').next().unwrap_or(uri);
    let parsed = Uri::parse(uri.as_bytes())?;
    parsed.user.map(|u| String::from_utf8_lossy(u).into_owned())
}

impl Filter {
    /// Whether any filter was given.
    pub fn is_active(&self) -> bool {
        *self != Filter::default()
    }

    /// Whether a filter other than the time window was given.
    fn names_something(&self) -> bool {
        self.call_id.is_some() || self.transfer.is_some() || self.number.is_some()
    }

    fn number_in(&self, users: &[Option<String>]) -> bool {
        let Some(number) = &self.number else {
            return true;
        };
        let number = bare(number);
        users.iter().flatten().any(|u| bare(u).contains(&number))
    }

    fn call_id_in<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        match &self.call_id {
            Some(prefix) => ids.any(|c| c.starts_with(prefix.as_str())),
            None => true,
        }
    }

    /// Whether frames from `first` to `last` reach into the time window.
    fn overlaps(&self, zero_ns: i64, first: i64, last: i64) -> bool {
        let from = self.from.map_or(i64::MIN, |t| t.ns(zero_ns));
        let to = self.to.map_or(i64::MAX, |t| t.ns(zero_ns));
        last >= from && first <= to
    }

    /// Whether a transfer is shown.
    pub fn keeps_transfer(&self, zero_ns: i64, t: &Transfer) -> bool {
        if self.transfer.is_some_and(|n| n != t.id) {
            return false;
        }
        if !self.call_id_in(super::ladder::call_ids(t).into_iter()) {
            return false;
        }
        let users = [
            user_of(&t.transferor.uri),
            user_of(&t.transferee.uri),
            user_of(&t.target.uri),
            user_of(&t.refer.refer_to),
        ];
        if !self.number_in(&users) {
            return false;
        }
        let frames = t
            .phases
            .iter()
            .flat_map(|p| [p.first, p.last])
            .flatten()
            .chain(std::iter::once(t.refer.frame));
        let (first, last) = frames.fold((i64::MAX, i64::MIN), |(lo, hi), f: FrameRef| {
            (lo.min(f.ts_ns), hi.max(f.ts_ns))
        });
        self.overlaps(zero_ns, first, last)
    }

    /// Whether a call is shown; `of_transfer` holds the Call-IDs of transfer N when
    /// `--transfer N` was given.
    pub fn keeps_dialog(&self, zero_ns: i64, d: &Dialog, of_transfer: &[&str]) -> bool {
        if self.transfer.is_some() && !of_transfer.contains(&d.call_id.as_str()) {
            return false;
        }
        self.call_id_in(std::iter::once(d.call_id.as_str()))
            && self.number_in(&[user_of(&d.caller.uri), user_of(&d.callee.uri)])
            && self.overlaps(zero_ns, d.first.ts_ns, d.last.ts_ns)
    }

    /// Whether a message is shown; `of_transfer` as for [`Filter::keeps_dialog`].
    pub fn keeps_message(
        &self,
        zero_ns: i64,
        frame: FrameRef,
        m: &Message<'_>,
        of_transfer: &[String],
    ) -> bool {
        let call_id = m
            .call_id()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        if self.transfer.is_some() && !of_transfer.contains(&call_id) {
            return false;
        }
        if !self.call_id_in(std::iter::once(call_id.as_str())) {
            return false;
        }
        if self.number.is_some() {
            let user = |uri: &[u8]| {
                Uri::parse(uri)
                    .and_then(|u| u.user)
                    .map(|u| String::from_utf8_lossy(u).into_owned())
            };
            let mut users = vec![
                m.from().and_then(|n| user(n.uri)),
                m.to().and_then(|n| user(n.uri)),
                m.request_uri()
                    .and_then(|u| u.user)
                    .map(|u| String::from_utf8_lossy(u).into_owned()),
            ];
            users.extend(m.refer_to().iter().map(|n| user(n.uri)));
            if !self.number_in(&users) {
                return false;
            }
        }
        self.overlaps(zero_ns, frame.ts_ns, frame.ts_ns)
    }

    /// Keeps in `a` only what is shown: transfers, calls (a call of a hidden transfer
    /// is not listed as a call outside any transfer), and findings.
    pub fn apply(&self, a: &mut Analysis) {
        if !self.is_active() {
            return;
        }
        let zero = a.start_ns.unwrap_or_default();
        let of_transfer: Vec<String> = a
            .transfers
            .iter()
            .filter(|t| Some(t.id) == self.transfer)
            .flat_map(super::ladder::call_ids)
            .map(str::to_string)
            .collect();
        let keep: Vec<bool> = a
            .transfers
            .iter()
            .map(|t| self.keeps_transfer(zero, t))
            .collect();
        // Call-IDs of hidden and of shown transfers (sets: a capture may hold thousands).
        let mut hidden: HashSet<String> = HashSet::new();
        let mut shown: HashSet<String> = HashSet::new();
        for (t, kept) in a.transfers.iter().zip(&keep) {
            let set = if *kept { &mut shown } else { &mut hidden };
            set.extend(super::ladder::call_ids(t).into_iter().map(str::to_string));
        }
        let mut kept = keep.into_iter();
        a.transfers.retain(|_| kept.next().unwrap_or(false));
        let of: Vec<&str> = of_transfer.iter().map(String::as_str).collect();
        a.dialogs.retain(|d| {
            let in_hidden = hidden.contains(&d.call_id) && !shown.contains(&d.call_id);
            !in_hidden && self.keeps_dialog(zero, d, &of)
        });
        if self.names_something() {
            a.findings.clear();
        } else {
            a.findings.retain(|f| {
                f.frames
                    .iter()
                    .any(|fr| self.overlaps(zero, fr.ts_ns, fr.ts_ns))
            });
        }
    }
}

/// An observer that passes on only what the filter shows: the transfers streamed, and
/// with `messages`, the messages (not for `analyze`, whose transfers are linked from
/// every message).
pub struct Shown<O> {
    pub inner: O,
    pub filter: Filter,
    /// Filter messages too.
    pub messages: bool,
    /// The Call-IDs of transfer N, for `--transfer N` on messages.
    pub of_transfer: Vec<String>,
}

impl<O: crate::analysis::Observer> crate::analysis::Observer for Shown<O> {
    fn message(&mut self, found: &crate::analysis::Found<'_, '_>) {
        if !self.messages
            || self.filter.keeps_message(
                found.zero_ns,
                found.frame,
                found.message,
                &self.of_transfer,
            )
        {
            self.inner.message(found);
        }
    }
    fn streams_transfers(&self) -> bool {
        self.inner.streams_transfers()
    }
    fn transfer(&mut self, zero_ns: i64, transfer: &Transfer) {
        if self.filter.keeps_transfer(zero_ns, transfer) {
            self.inner.transfer(zero_ns, transfer);
        }
    }
    fn lists_calls(&self) -> bool {
        self.inner.lists_calls()
    }
    fn takes_calls(&self) -> bool {
        self.inner.takes_calls()
    }
    fn call(&mut self, zero_ns: i64, listed: crate::transfer::Listed) {
        self.inner.call(zero_ns, listed);
    }
    fn progress(&mut self, read: u64, total: Option<u64>) {
        self.inner.progress(read, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_relative_seconds_or_utc_wall_clock() {
        assert_eq!(Time::parse("12.5"), Ok(Time::Relative(12.5)));
        assert_eq!(
            Time::parse("1970-01-02T00:00:01Z"),
            Ok(Time::Absolute(86_401_000_000_000))
        );
        assert_eq!(
            Time::parse("2026-12-05 13:10:00.5"),
            Ok(Time::Absolute(1_796_476_200_500_000_000))
        );
        assert!(Time::parse("yesterday").is_err());
        assert!(Time::parse("2026-13-01T00:00:00").is_err());
        assert_eq!(Time::Relative(1.5).ns(1_000), 1_500_001_000);
    }

    #[test]
    fn numbers_match_without_separators() {
        let f = Filter {
            number: Some("030-1234".to_string()),
            ..Filter::default()
        };
        assert!(!f.number_in(&[None, Some("+49 30 1234 5".to_string())]));
        assert!(f.number_in(&[Some("0301234".to_string())]));
        assert!(f.number_in(&[Some("49030-12345".to_string())]));
        assert_eq!(
            user_of("<sip:0301234@h;user=phone>"),
            Some("0301234".to_string())
        );
        assert_eq!(user_of("sip:h"), None);
    }
}
