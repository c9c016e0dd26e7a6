//! The summary that ends every text run: what was read, what was skipped, what was
//! damaged. Plain non-SIP traffic is counted, not reported as damage.

use std::fmt::Write as _;

use super::{Palette, escape_str, short_path};
use crate::analysis::Analysis;
use crate::capture::DamageKind;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Renders the summary lines.
pub fn text(analysis: &Analysis, palette: Palette) -> String {
    let s = &analysis.stats;
    let mut out = String::new();
    let files = analysis.inputs.len() as u64;
    let mb = s.bytes as f64 / 1e6;
    let _ = writeln!(
        out,
        "Read {}: {} ({mb:.1} MB), {}, {}.",
        plural(files, "file", "files"),
        plural(s.frames, "frame", "frames"),
        plural(s.sip.messages, "SIP message", "SIP messages"),
        plural(s.dialogs.dialogs, "dialog", "dialogs"),
    );
    if files > 1 {
        for input in &analysis.inputs {
            let _ = writeln!(out, "  {}: {}", input.index + 1, escape_str(&input.path));
        }
    }
    let skipped = skipped(analysis);
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            palette.dim(&format!("Not SIP (skipped): {}.", skipped.join(", ")))
        );
    }
    if s.dialogs.late_messages > 0 {
        // The tracker lets a call go once it has been quiet for the grace time; what
        // comes later is counted here rather than shown as a call of its own.
        let _ = writeln!(
            out,
            "{}",
            palette.dim(&format!(
                "Late: {} after their call was let go (ended or timed out, then quiet for 32 s): counted, not taken for new calls.",
                plural(s.dialogs.late_messages, "message", "messages")
            ))
        );
    }
    let early = &s.transfers;
    if !early.is_quiet() {
        // The linker's cap on pending transfers was reached: those decided early say
        // so in their notes.
        let _ = writeln!(
            out,
            "{}",
            palette.warn(&format!(
                "Decided early: more than {} transfers were pending at once, so {} resolved before their new call's window closed and {} built while a call of theirs was still up (each says so in its note; raise --max-pending to keep more).",
                thousands(early.max_pending as u64),
                thousands(early.resolved_early),
                thousands(early.built_early),
            ))
        );
    }
    let mut damage = input_damage(analysis);
    damage.extend(lost(analysis));
    if !damage.is_empty() {
        let _ = writeln!(out, "{}", palette.warn("Damaged or incomplete input:"));
        for line in damage {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// What was read and is not SIP, counted.
fn skipped(analysis: &Analysis) -> Vec<String> {
    let s = &analysis.stats;
    let mut skipped = Vec::new();
    if s.sip.non_sip_datagrams > 0 {
        skipped.push(plural(s.sip.non_sip_datagrams, "datagram", "datagrams"));
    }
    if s.sip.non_sip_stream_bytes > 0 {
        skipped.push(plural(s.sip.non_sip_stream_bytes, "TCP byte", "TCP bytes"));
    }
    if s.net.non_ip_frames > 0 {
        skipped.push(plural(s.net.non_ip_frames, "non-IP frame", "non-IP frames"));
    }
    if s.net.other_ip_protocol > 0 {
        skipped.push(plural(
            s.net.other_ip_protocol,
            "packet of another IP protocol",
            "packets of other IP protocols",
        ));
    }
    if s.sip.keepalives > 0 {
        skipped.push(plural(s.sip.keepalives, "keep-alive", "keep-alives"));
    }
    skipped
}

/// Damage of each input file: where reading stopped, frames cut by the snap length.
fn input_damage(analysis: &Analysis) -> Vec<String> {
    let mut damage: Vec<String> = Vec::new();
    for input in &analysis.inputs {
        for d in &input.damage {
            let what = match d.kind {
                DamageKind::TruncatedRecord => "the file ends inside a record (cut short)",
                DamageKind::GarbageAfterRecords => "bytes after the last record are not a record",
                DamageKind::CorruptBlock => "corrupt record or block",
                DamageKind::CorruptCompression => "the gzip data is corrupt or cut short",
                DamageKind::Io => "read error",
            };
            damage.push(format!(
                "{}: frame {} at byte {}: {what}; reading stopped there ({})",
                escape_str(short_path(&input.path)),
                d.frame,
                d.offset,
                escape_str(&d.detail)
            ));
        }
        if input.snapped_frames > 0 {
            damage.push(format!(
                "{}: {} cut by the snap length",
                escape_str(short_path(&input.path)),
                plural(input.snapped_frames, "frame", "frames"),
            ));
        }
    }
    damage
}

/// What was lost or could not be decoded on the way from frames to SIP messages.
fn lost(analysis: &Analysis) -> Vec<String> {
    let s = &analysis.stats;
    let mut damage = Vec::new();
    let counts = [
        (
            s.net.malformed_frames,
            "malformed frame",
            "malformed frames",
        ),
        (
            s.net.unsupported_link_frames,
            "frame of an unsupported link type",
            "frames of unsupported link types",
        ),
        (
            s.net.incomplete_fragment_datagrams,
            "fragmented datagram never completed",
            "fragmented datagrams never completed",
        ),
        (s.net.tcp_gaps, "TCP gap", "TCP gaps"),
        (
            s.net.tcp_overflows,
            "TCP stream over its buffer cap",
            "TCP streams over their buffer cap",
        ),
        (
            s.sip.unparsable,
            "SIP-like payload that could not be parsed",
            "SIP-like payloads that could not be parsed",
        ),
        (
            s.sip.too_large,
            "SIP message over the 1 MiB limit, skipped",
            "SIP messages over the 1 MiB limit, skipped",
        ),
        (
            s.sip.skipped_stream_bytes,
            "byte skipped in SIP streams",
            "bytes skipped in SIP streams",
        ),
        (
            s.sip.incomplete_stream_messages,
            "SIP message cut by a stream gap",
            "SIP messages cut by stream gaps",
        ),
        (
            s.sip.cut_by_capture,
            "SIP message cut short by the capture",
            "SIP messages cut short by the capture",
        ),
        (
            s.dialogs.without_call_id,
            "SIP message without Call-ID",
            "SIP messages without Call-ID",
        ),
    ];
    for (n, one, many) in counts {
        if n > 0 {
            damage.push(plural(n, one, many));
        }
    }
    if s.net.tcp_gap_bytes > 0 {
        damage.push(plural(
            s.net.tcp_gap_bytes,
            "byte lost in TCP gaps",
            "bytes lost in TCP gaps",
        ));
    }
    damage
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
