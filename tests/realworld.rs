//! What real networks do to transfers (issue 10), on the captures that
//! `samples/realworld/make-realworld.py` crafts (see samples/realworld/README.md):
//! copies stored out of time order, an INVITE surviving as its last IP fragment, a
//! REFER whose headers a proxy broke, a REFER that is not a transfer, phases after a
//! challenge or a failed new call, and SIP messages with huge headers over TCP.

mod common;

use common::{sipxfer, stdout};
use sipxfer::analysis::{self, Analysis, Options, Quiet};
use sipxfer::capture::Input;
use sipxfer::transfer::{Kind, Outcome, PhaseKind, Transfer};

fn realworld(name: &str) -> std::path::PathBuf {
    common::root().join("samples/realworld").join(name)
}

fn analyse(path: &std::path::Path) -> Analysis {
    let input = Input::open(path.to_str().expect("utf-8 path"), 0).expect("capture opens");
    analysis::run(vec![input], &Options::default(), &mut Quiet)
}

fn only_transfer(a: &Analysis) -> &Transfer {
    assert_eq!(a.transfers.len(), 1, "{:#?}", a.transfers);
    &a.transfers[0]
}

fn address(role: &sipxfer::transfer::Role) -> String {
    role.address.map(|a| a.to_string()).unwrap_or_default()
}

/// Item 1: a pcapng with two interfaces stores the proxy's copy of the REFER (frame 11,
/// 2.095) before Bob's own (frame 12, 2.094), and Bob's BYE (frame 18, 2.395) before
/// the new call's 200 OK (frame 28, 2.221) and the final NOTIFY (frame 32, 2.283).
#[test]
fn copies_out_of_time_order_are_ordered_by_time() {
    let a = analyse(&realworld("rw-two-interfaces-proxy.pcapng"));
    let t = only_transfer(&a);
    assert_eq!((t.kind, t.outcome), (Kind::Blind, Outcome::Completed));
    // The REFER is Bob's own copy, the first in time, not the first in the file.
    assert_eq!(t.refer.frame.number, 12);
    assert_eq!(address(&t.transferor), "127.0.0.2:5062");
    assert_eq!(address(&t.transferee), "127.0.0.1:5060");
    assert_eq!(address(&t.target), "127.0.0.3:5064");
    // The 202 is Alice's own (frame 19, 2.105), not the proxy's relay (frame 13, 2.106).
    assert_eq!(
        t.refer.response.map(|(f, s)| (f.number, s)),
        Some((19, 202))
    );
    let notifies: Vec<u64> = t.notifies.iter().map(|n| n.frame.number).collect();
    assert_eq!(notifies, vec![20, 32]);
    let released = t.released.as_ref().expect("released");
    assert_eq!(released.frame.number, 18);
    assert!(!released.before_outcome, "the BYE came after the 200 OK");
    let text = stdout(&sipxfer([realworld("rw-two-interfaces-proxy.pcapng")]));
    assert!(text.contains("after the outcome was known"), "{text}");
    assert!(!text.contains("before the outcome"), "{text}");
    // The phase table is in time order: 4 (2.156) before 3 (2.188) before 5 (2.395).
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 1 && w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(order, vec!["1", "2", "4", "3", "5", "6"], "{text}");
}

/// Item 2: the proxy's copy of Alice's INVITE to Carol (about 1500 bytes) survives
/// only as its last IP fragment; Carol's own 100, 180 and 200 (127.0.0.3:5064 → proxy)
/// are in the capture and name the target's address.
#[test]
fn target_address_from_its_responses_when_the_relayed_invite_is_lost() {
    let a = analyse(&realworld("rw-invite-last-fragment.pcap"));
    let t = only_transfer(&a);
    assert_eq!((t.kind, t.outcome), (Kind::Blind, Outcome::Completed));
    assert_eq!(address(&t.target), "127.0.0.3:5064");
    assert_eq!(a.stats.net.ip_fragments, 1);
    // Through a proxy whose every hop is captured, the target is the last hop as before.
    let a = analyse(&common::sample("xfer-blind-via-proxy-udp.pcap"));
    assert_eq!(address(&only_transfer(&a).target), "127.0.0.3:5064");
}

/// Item 5: the new call failed (Carol answered 486), so it was never established and
/// never released: phase 6 is missing, with the reason, not "new call ended by 486".
#[test]
fn no_release_phase_for_a_new_call_never_established() {
    let a = analyse(&common::sample("xfer-blind-failed-target-busy-udp.pcap"));
    let t = only_transfer(&a);
    let p6 = t
        .phases
        .iter()
        .find(|p| p.kind == PhaseKind::NewReleased)
        .expect("phase 6");
    assert_eq!((p6.first, p6.missing.is_some()), (None, true));
    let text = stdout(&sipxfer([common::sample(
        "xfer-blind-failed-target-busy-udp.pcap",
    )]));
    assert!(
        text.contains(
            "6 new call released               missing: the new call was never established: 486"
        ),
        "{text}"
    );
    assert!(!text.contains("ended by 486"), "{text}");
    let doc = common::json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        common::sample("xfer-blind-failed-target-busy-udp.pcap").as_os_str(),
    ]));
    let phase6 = &doc["transfers"][0]["phases"][5];
    assert_eq!(phase6["number"], 6);
    assert_eq!(phase6["missing"], true);
    assert_eq!(phase6["reason"], "the new call was never established: 486");
    // The same for a call refused by the REFER's target 404.
    let a = analyse(&common::sample("xfer-blind-failed-404-udp.pcap"));
    let p6 = &only_transfer(&a).phases[5];
    assert_eq!(
        sipxfer::report::phase::why_missing(p6).as_deref(),
        Some("the new call was never established: 404")
    );
}

/// Item 6: Alice's first INVITE (frame 1) is challenged 407 (2) and ACKed (3); her
/// authenticated INVITE (4) is answered 200 (7) and ACKed (8). Phase 1 runs from the
/// first INVITE to the answered INVITE's ACK, not to the ACK of the challenge.
#[test]
fn call_phase_after_a_challenge_ends_at_the_answer() {
    let a = analyse(&realworld("rw-challenged-invite.pcap"));
    let t = only_transfer(&a);
    let p1 = &t.phases[0];
    assert_eq!(p1.kind, PhaseKind::OriginalCall);
    assert_eq!(p1.first.map(|f| f.number), Some(1));
    assert_eq!(
        p1.last.map(|f| f.number),
        Some(8),
        "phase 1 ends at the answered INVITE's ACK"
    );
    let original = &a.dialogs[0];
    assert_eq!(original.challenges, 1);
}

/// Item 4: Cisco remote call control — an out-of-dialog REFER with
/// `Refer-To: cid:1234567890@127.0.0.9` and a multipart body (frame 1), 202 (2), a
/// NOTIFY with a multipart body (3). Not a call transfer: no new call is linked (the
/// later call Alice → Bob, frame 5, is an ordinary call), no MIME boundary as a status.
#[test]
fn a_refer_to_a_cid_uri_is_not_a_transfer() {
    let path = realworld("rw-cisco-remotecc-refer.pcap");
    let a = analyse(&path);
    let t = only_transfer(&a);
    assert_eq!(t.kind, Kind::NotTransfer);
    assert_eq!(t.outcome, Outcome::Unknown);
    assert!(t.new_call.is_none());
    assert_eq!(t.target.address, None);
    assert!(
        t.notifies
            .iter()
            .all(|n| n.status.is_none() && n.sipfrag.is_none())
    );
    let kinds: Vec<u8> = t.phases.iter().map(|p| p.kind.number()).collect();
    assert_eq!(kinds, vec![2, 4]);
    let text = stdout(&sipxfer([&path]));
    assert!(
        text.contains("Transfer 1  REFER (not a call transfer)   frame 1 at 0.000000"),
        "{text}"
    );
    assert!(!text.contains("uniqueBoundary"), "{text}");
    assert!(!text.contains("blind"), "{text}");
    assert!(
        text.contains("1 other call is not part of a transfer"),
        "{text}"
    );
    let doc = common::json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]));
    assert_eq!(doc["transfers"][0]["kind"], "not-a-transfer");
    assert_eq!(doc["transfers"][0]["new_call"], serde_json::Value::Null);
    // No transfer findings: its multipart NOTIFY is no X303 (not a sipfrag status).
    let check = sipxfer([std::ffi::OsStr::new("check"), path.as_os_str()]);
    let text = stdout(&check);
    assert!(!text.contains("X303"), "{text}");
    assert!(text.contains("0 error(s)"), "{text}");
    assert_eq!(check.status.code(), Some(0), "{text}");
}

/// Item 3: the proxy ends the Record-Route line it adds to the REFER (frame 6) with
/// `\n\r\n`. Nothing before it announced a body and header lines follow, so the REFER
/// is read whole (with the problem noted at that frame), and the transfer is there.
#[test]
fn a_stray_blank_line_in_a_refer_does_not_hide_the_transfer() {
    let path = realworld("rw-refer-lf-crlf.pcap");
    let a = analyse(&path);
    let t = only_transfer(&a);
    assert_eq!((t.kind, t.outcome), (Kind::Blind, Outcome::Completed));
    assert_eq!(t.refer.frame.number, 6);
    assert_eq!(t.refer.refer_to, "sip:carol@127.0.0.3:5064");
    assert_eq!(t.new_call.as_ref().map(|n| n.invite.number), Some(10));
    let doc = common::json(&sipxfer([
        "messages".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]));
    let refer = doc["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["frame"] == 6)
        .expect("frame 6");
    assert_eq!(refer["method"], "REFER");
    assert_eq!(refer["call_id"], "rw-refer-lf-crlf-1@sipxfer.test");
    let kinds: Vec<&str> = refer["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"stray_blank_line"), "{kinds:?}");
}

/// Item 3: the same REFER, but a Content-Type before the stray blank line announced a
/// body: the rest cannot be taken for headers, the REFER has no Call-ID and cannot be
/// linked — and the report says so, at its frame, instead of "no REFER".
#[test]
fn a_refer_that_cannot_be_linked_is_named_with_why() {
    let path = realworld("rw-refer-announced-body.pcap");
    let text = stdout(&sipxfer([&path]));
    assert!(!text.contains("no REFER"), "{text}");
    assert!(
        text.contains("No transfer could be linked, but the capture has a REFER:"),
        "{text}"
    );
    assert!(
        text.contains("REFER frame 6 at 2.096000 could not be linked: it has no Call-ID"),
        "{text}"
    );
    let doc = common::json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]));
    let unlinked = &doc["unlinked_refers"][0];
    assert_eq!(unlinked["frame"], 6);
    assert!(
        unlinked["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("it has no Call-ID and no CSeq")),
        "{unlinked}"
    );
    // `check` names it too, in its text and its JSON document.
    let checked = stdout(&sipxfer(["check".as_ref(), path.as_os_str()]));
    assert!(
        checked.contains("REFERs not linked into a transfer:\n  REFER frame 6 at 2.096000 could not be linked: it has no Call-ID"),
        "{checked}"
    );
    let doc = common::json(&sipxfer([
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]));
    assert_eq!(doc["unlinked_refers"][0]["frame"], 6, "{doc}");
    // A capture whose REFERs all link has no such field.
    let doc = common::json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        common::sample("xfer-blind-completed-udp.pcap").as_os_str(),
    ]));
    assert!(doc.get("unlinked_refers").is_none());
}

/// Item 9: one TCP connection with an OPTIONS of 100 KiB of headers (read: frame 3), one
/// of 1.5 MiB of headers (over the 1 MiB limit: reported and skipped, its bytes counted
/// as damage, never as "not SIP"), and an ordinary one (frame 29).
#[test]
fn big_messages_over_tcp_are_read_or_reported() {
    let path = realworld("rw-tcp-big-headers.pcap.gz");
    let a = analyse(&path);
    assert_eq!(a.stats.sip.messages, 2);
    assert_eq!(a.stats.sip.too_large, 1);
    assert_eq!(a.stats.sip.non_sip_stream_bytes, 0);
    assert!(a.stats.sip.skipped_stream_bytes > 1 << 20);
    let text = stdout(&sipxfer(["messages".as_ref(), path.as_os_str()]));
    assert!(text.contains("rw-big-headers-1@"), "{text}");
    assert!(text.contains("rw-big-headers-3@"), "{text}");
    assert!(
        text.contains("1 SIP message over the 1 MiB limit, skipped"),
        "{text}"
    );
}

/// Item 11: options before the file, formats offered only where they work, `- -`, the
/// README's configuration example, `--wide`.
#[test]
fn command_line_options_go_anywhere_and_formats_are_offered_where_they_work() {
    let file = common::sample("xfer-blind-completed-udp.pcap");
    let file = file.to_str().expect("utf-8");
    // Options before the file, with no command: analyze.
    let before = sipxfer(["--format", "json", file]);
    assert_eq!(before.status.code(), Some(0), "{}", common::stderr(&before));
    let after = sipxfer(["analyze", file, "--format", "json"]);
    assert_eq!(stdout(&before), stdout(&after));
    // Options before a command move after it.
    let calls = sipxfer(["--format", "json", "calls", file]);
    assert_eq!(calls.status.code(), Some(0), "{}", common::stderr(&calls));
    assert!(common::json(&calls)["dialogs"].is_array());
    // calls supports jsonl: one call per line.
    let lines = stdout(&sipxfer(["calls", "--format", "jsonl", file]));
    assert_eq!(lines.lines().count(), 2, "{lines}");
    for line in lines.lines() {
        let call: serde_json::Value = serde_json::from_str(line).expect("one object a line");
        assert!(call["call_id"].is_string());
    }
    // explain and rules write one document: jsonl is neither offered nor accepted.
    for command in [&["rules", "--help"][..], &["explain", "--help"][..]] {
        let help = stdout(&sipxfer(command));
        assert!(help.contains("[possible values: text, json]"), "{help}");
        assert!(!help.contains("jsonl"), "{help}");
    }
    assert_eq!(
        sipxfer(["rules", "--format", "jsonl"]).status.code(),
        Some(2)
    );
    // Standard input twice: a clear error.
    let twice = common::sipxfer_stdin(&["-", "-"], b"");
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        common::stderr(&twice).contains("standard input (-) is named more than once"),
        "{}",
        common::stderr(&twice)
    );
    // --wide: whole Call-IDs in the phase table and the call list.
    let id = "target///xfer-blind-completed-udp-1@sipxfer.test";
    let cut = "target///xfer-b…";
    assert!(stdout(&sipxfer([file])).contains(cut));
    let wide = stdout(&sipxfer(["--wide", file]));
    assert!(!wide.contains(cut), "{wide}");
    assert!(
        wide.lines()
            .any(|l| l.trim_start().starts_with("3 Alice calls carol") && l.ends_with(id)),
        "{wide}"
    );
    assert!(stdout(&sipxfer(["calls", "--wide", file])).contains(id));
    let messages = stdout(&sipxfer(["messages", "--wide", file]));
    assert!(
        messages.contains("REFER sip:alice@127.0.0.1:5060"),
        "{messages}"
    );
}

/// Item 11: the README's example sipxfer.toml neither allows and denies one rule, nor
/// fails to load.
#[test]
fn the_readme_configuration_example_is_consistent() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let start = readme.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let toml = &readme[start..];
    let toml = &toml[..toml.find("```").expect("its end")];
    let mut seen: Vec<(String, String)> = Vec::new();
    for line in toml.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !["allow", "warn", "deny"].contains(&key) {
            continue;
        }
        let value = value.split('#').next().unwrap_or_default();
        for rule in value.split('"').skip(1).step_by(2) {
            let code = sipxfer::rules::catalog::find(rule)
                .unwrap_or_else(|| panic!("{rule} is no rule"))
                .code
                .as_str()
                .to_string();
            if let Some((other, _)) = seen.iter().find(|(_, c)| *c == code) {
                panic!("{rule} ({code}) is in both {other} and {key}");
            }
            seen.push((key.to_string(), code));
        }
    }
    assert!(seen.len() >= 4, "{seen:?}");
    let dir = std::env::temp_dir().join(format!("sipxfer-readme-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("sipxfer.toml");
    std::fs::write(&path, toml).expect("written");
    let out = sipxfer([
        "check".as_ref(),
        "--config".as_ref(),
        path.as_os_str(),
        common::sample("xfer-blind-completed-udp.pcap").as_os_str(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_ne!(out.status.code(), Some(2), "{}", common::stderr(&out));
}

/// Item 8: Alice's INVITE (frame 1) gets no response and times out; Carol's call with
/// Bob (2-8) ends by BYE. Bob's 200 OK to Alice comes at 40 s (9), with ACK, BYE, 200
/// (10-12), and Carol's 200 OK to the BYE again at 60 s (13): both calls were let go
/// by then. Two calls, no phantom third or fourth; the five late messages are counted
/// and said.
#[test]
fn late_messages_after_a_call_was_let_go_make_no_phantom_call() {
    let path = realworld("rw-late-responses.pcap");
    let a = analyse(&path);
    let states: Vec<_> = a
        .dialogs
        .iter()
        .map(|d| (d.call_id.as_str(), d.ending, d.answered.map(|f| f.number)))
        .collect();
    assert_eq!(
        states,
        [
            (
                "rw-late-1@sipxfer.test",
                Some(sipxfer::dialog::Ending::Timeout),
                None
            ),
            (
                "rw-late-2@sipxfer.test",
                Some(sipxfer::dialog::Ending::Bye),
                Some(5)
            ),
        ]
    );
    assert_eq!(a.stats.dialogs.late_messages, 5);
    let calls = stdout(&sipxfer([std::ffi::OsStr::new("calls"), path.as_os_str()]));
    assert!(calls.contains("no response (timed out)"), "{calls}");
    assert!(calls.contains("answered, BYE by callee"), "{calls}");
    assert!(
        calls.contains("Late: 5 messages after their call was let go"),
        "{calls}"
    );
    let json = stdout(&sipxfer([
        std::ffi::OsStr::new("analyze"),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]));
    assert!(json.contains("\"late_messages\": 5"), "{json}");
}
