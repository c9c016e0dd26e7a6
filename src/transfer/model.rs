//! What a transfer session is, as the later stages read it: its kind and outcome, the
//! parties, the REFER, the NOTIFYs, the new call, the phases and the release.

use serde::Serialize;

use super::phase::Phase;
use super::record::Aor;
use crate::capture::FrameRef;
use crate::dialog::Dialog;
use crate::sip::Replaces;

/// What kind of transfer (RFC 5589 §6, §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Refer-To without Replaces: the transferor did not talk to the target first.
    Blind,
    /// Replaces names a consultation dialog that was confirmed before the REFER.
    Attended,
    /// Replaces names a consultation dialog still early (ringing) at REFER time.
    SemiAttended,
    /// Replaces names a dialog that is not in the capture.
    RemoteAttended,
    /// Not a call transfer: the Refer-To is not a sip:, sips: or tel: URI (Cisco's
    /// remote call control sends `Refer-To: cid:...` with a multipart body, RFC 2392
    /// content indirection). Such a REFER is reported as it is, with no new call, no
    /// roles beyond sender and receiver, and no transfer findings.
    #[serde(rename = "not-a-transfer")]
    NotTransfer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Blind => "blind",
            Kind::Attended => "attended",
            Kind::SemiAttended => "semi-attended",
            Kind::RemoteAttended => "remote-attended",
            Kind::NotTransfer => "not-a-transfer",
        }
    }
}

/// Whether a Refer-To URI (without `<>`) names something a call can be placed to:
/// `sip:`, `sips:` or `tel:` (RFC 3515 §2.1 allows any URI). A value with no scheme at
/// all is a broken transfer (X103), not another kind of REFER, so it counts as one.
pub fn refers_to_a_call(uri: &str) -> bool {
    let uri = uri.trim().trim_start_matches('<');
    let Some((scheme, _)) = uri.split_once(':') else {
        return true;
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    !is_scheme
        || ["sip", "sips", "tel"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
}

/// How a transfer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The transferee–target call was established.
    Completed,
    /// The target, or the transferee's attempt, ended in an error (see `status`).
    Failed,
    /// The REFER got a final non-2xx response (see `status`).
    Rejected,
    /// A party hung up before the outcome (the new call was cancelled).
    Abandoned,
    /// The capture ends before the outcome is known.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
            Outcome::Abandoned => "abandoned",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Which role a party plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Transferor,
    Transferee,
    Target,
}

/// A party of the transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    pub name: Option<String>,
    pub uri: String,
    pub address: Option<std::net::SocketAddr>,
}

impl Role {
    /// How phase names call this party: the display name, else the URI's user, else
    /// the host.
    pub fn short(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match Aor::parse(self.uri.trim_start_matches('<').trim_end_matches('>')) {
            Some(Aor {
                user: Some(user), ..
            }) if !user.is_empty() => user,
            Some(aor) => aor.host,
            None => self.uri.clone(),
        }
    }
}

/// The REFER as the transfer reports it.
#[derive(Clone, Debug)]
pub struct Refer {
    pub frame: FrameRef,
    pub call_id: String,
    pub cseq: u32,
    pub refer_to: String,
    /// More Refer-To values than one (RFC 3515 §2.4.1 allows exactly one).
    pub refer_to_count: usize,
    pub referred_by: Option<String>,
    pub replaces: Option<Replaces>,
    /// First final response: frame and status.
    pub response: Option<(FrameRef, u16)>,
    /// Hops the REFER was seen on, and retransmissions.
    pub hops: usize,
    pub retransmissions: u32,
    /// Refer-Sub asked in the REFER and granted in the 2xx (RFC 4488).
    pub refer_sub_requested: Option<bool>,
    pub refer_sub_granted: Option<bool>,
    /// The REFER travels outside any dialog (Target-Dialog, RFC 4538).
    pub out_of_dialog: bool,
}

/// A NOTIFY of the REFER's subscription.
#[derive(Clone, Debug)]
pub struct Notify {
    pub frame: FrameRef,
    pub cseq: u32,
    pub status: Option<u16>,
    pub sipfrag: Option<String>,
    pub subscription_state: Option<String>,
    pub reason: Option<String>,
    pub event_id: Option<String>,
    pub response: Option<(FrameRef, u16)>,
    pub retransmissions: u32,
}

/// The dialog the transferee's new call created.
#[derive(Clone, Debug)]
pub struct NewCall {
    pub call_id: String,
    pub invite: FrameRef,
    /// Which evidence linked it to the REFER, strongest first.
    pub evidence: Vec<&'static str>,
}

/// Who released the original call.
#[derive(Clone, Debug)]
pub struct Release {
    pub by: Option<RoleName>,
    pub frame: FrameRef,
    /// Whether the call was released before the outcome of the transfer was known.
    pub before_outcome: bool,
}

/// A transfer session.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub id: usize,
    pub kind: Kind,
    pub outcome: Outcome,
    /// The status that decided a failure or rejection.
    pub status: Option<u16>,
    pub transferor: Role,
    pub transferee: Role,
    pub target: Role,
    pub refer: Refer,
    pub notifies: Vec<Notify>,
    /// Call-ID and tags of the original call (the REFER's dialog).
    pub original_call: Option<DialogId>,
    pub consultation_call: Option<DialogId>,
    pub new_call: Option<NewCall>,
    pub phases: Vec<Phase>,
    pub released: Option<Release>,
    /// About the consultation dialog a Replaces names but the capture lacks.
    pub note: Option<String>,
    /// Findings about this transfer (RFC violations): empty as the transfer stage
    /// builds it; the analysis adds what the rules find in its [`super::TransferFacts`].
    pub findings: Vec<crate::rules::Finding>,
    /// When the outcome became known (the new call's final response, or the final
    /// sipfrag, or the REFER's rejection).
    pub outcome_frame: Option<FrameRef>,
    /// The earlier transfer this one retries: a REFER of the same transferor in the
    /// same dialog that was rejected.
    pub retry_of: Option<usize>,
    /// The earlier transfer whose new call is this one's original call (a chained
    /// transfer: A is moved to B, then on to C).
    pub follows: Option<usize>,
    /// The legs of its calls on both sides of a B2BUA (PBX, SBC), when its dialogs
    /// cross one ([`super::legs::attach`]); empty otherwise.
    pub legs: Vec<super::legs::Leg>,
}

/// A dialog's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DialogId {
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
}

impl DialogId {
    pub(super) fn of(d: &Dialog) -> DialogId {
        DialogId {
            call_id: d.call_id.clone(),
            from_tag: d.from_tag.clone(),
            to_tag: d.to_tag.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refers_to_a_call;

    #[test]
    fn only_sip_sips_and_tel_refer_to_a_call() {
        for uri in [
            "sip:carol@127.0.0.3:5064",
            "<SIPS:carol@example.com>",
            "tel:+15551234",
            "carol",
            "",
            "<sip:carol@h?Replaces=a%3Bto-tag%3Db>",
        ] {
            assert!(refers_to_a_call(uri), "{uri}");
        }
        for uri in [
            "cid:1234567890@127.0.0.9",
            "<http://example.com/x>",
            "urn:service:sos",
            "mailto:a@b",
        ] {
            assert!(!refers_to_a_call(uri), "{uri}");
        }
    }
}
