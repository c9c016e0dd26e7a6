//! Transfer sessions, checked field by field: on the samples (made on loopback by SIPp
//! playing the phones, see samples/README.md) and on every `xfer-` capture of
//! ../shared/captures/public against tests/expected/xfer-public.json, which was written
//! by reading those captures with tshark, independently of this code.

mod common;

use common::{json, sample, sipxfer, snapshot, stderr, stdout};
use sipxfer::analysis::{self, Analysis, Options, Quiet};
use sipxfer::capture::Input;
use sipxfer::report::phase;
use sipxfer::transfer::{Kind, Outcome, PhaseKind, RoleName, Transfer};

fn analyse(path: &std::path::Path) -> Analysis {
    let input = Input::open(path.to_str().expect("utf-8 path"), 0).expect("capture opens");
    analysis::run(vec![input], &Options::default(), &mut Quiet)
}

fn only_transfer(a: &Analysis) -> &Transfer {
    assert_eq!(a.transfers.len(), 1, "{:#?}", a.transfers);
    &a.transfers[0]
}

/// Every phase as (number, first frame, last frame); missing phases as (number, 0, 0).
fn phase_frames(t: &Transfer) -> Vec<(u8, u64, u64)> {
    t.phases
        .iter()
        .map(|p| {
            (
                p.kind.number(),
                p.first.map_or(0, |f| f.number),
                p.last.map_or(0, |f| f.number),
            )
        })
        .collect()
}

fn notify_frames(t: &Transfer) -> Vec<(u64, Option<u16>)> {
    t.notifies
        .iter()
        .map(|n| (n.frame.number, n.status))
        .collect()
}

fn address(role: &sipxfer::transfer::Role) -> String {
    role.address.map(|a| a.to_string()).unwrap_or_default()
}

#[test]
fn blind_transfer_completed() {
    let a = analyse(&sample("xfer-blind-completed-udp.pcap"));
    let t = only_transfer(&a);
    assert_eq!(
        (t.kind, t.outcome, t.status),
        (Kind::Blind, Outcome::Completed, None)
    );
    assert_eq!(t.transferor.name.as_deref(), Some("Bob"));
    assert_eq!(address(&t.transferor), "127.0.0.2:5062");
    assert_eq!(t.transferee.name.as_deref(), Some("Alice"));
    assert_eq!(address(&t.transferee), "127.0.0.1:5060");
    assert_eq!(t.target.uri, "sip:carol@127.0.0.3:5064");
    assert_eq!(address(&t.target), "127.0.0.3:5064");
    assert_eq!(t.refer.frame.number, 6);
    assert_eq!(t.refer.response.map(|(f, s)| (f.number, s)), Some((7, 202)));
    assert_eq!(
        t.refer.referred_by.as_deref(),
        Some("sip:bob@127.0.0.2:5062")
    );
    assert_eq!(notify_frames(t), vec![(8, Some(100)), (15, Some(200))]);
    let new_call = t.new_call.as_ref().expect("new call");
    assert_eq!(new_call.invite.number, 10);
    assert_eq!(
        new_call.evidence,
        vec!["referred-by", "request-uri", "transferee"]
    );
    assert_eq!(
        phase_frames(t),
        vec![
            (1, 1, 5),
            (2, 6, 7),
            (3, 10, 14),
            (4, 8, 16),
            (5, 17, 18),
            (6, 19, 20)
        ]
    );
    let released = t.released.as_ref().expect("released");
    assert_eq!(
        (released.by, released.frame.number),
        (Some(RoleName::Transferor), 17)
    );
    assert!(!released.before_outcome);
}

#[test]
fn blind_transfer_failed_at_the_target() {
    let a = analyse(&sample("xfer-blind-failed-target-busy-udp.pcap"));
    let t = only_transfer(&a);
    assert_eq!(
        (t.kind, t.outcome, t.status),
        (Kind::Blind, Outcome::Failed, Some(486))
    );
    assert_eq!(t.refer.frame.number, 6);
    assert_eq!(notify_frames(t), vec![(8, Some(100)), (14, Some(486))]);
    assert_eq!(t.new_call.as_ref().map(|n| n.invite.number), Some(10));
    assert_eq!(
        phase_frames(t),
        vec![
            (1, 1, 5),
            (2, 6, 7),
            (3, 10, 13),
            (4, 8, 15),
            (5, 16, 17),
            (6, 0, 0)
        ]
    );
    // The new call was never established, so it was never released (issue 10 item 5).
    let phase6 = &t.phases[5];
    assert_eq!(phase::name(phase6), "new call released");
    assert_eq!(
        phase::why_missing(phase6).as_deref(),
        Some("the new call was never established: 486")
    );
}

#[test]
fn refer_rejected() {
    let a = analyse(&sample("xfer-refer-rejected-udp.pcap"));
    let t = only_transfer(&a);
    assert_eq!(
        (t.kind, t.outcome, t.status),
        (Kind::Blind, Outcome::Rejected, Some(603))
    );
    assert_eq!(t.refer.response.map(|(f, s)| (f.number, s)), Some((7, 603)));
    assert!(t.notifies.is_empty() && t.new_call.is_none());
    assert_eq!(t.target.address, None, "the target was never called");
    assert_eq!(
        phase_frames(t),
        vec![
            (1, 1, 5),
            (2, 6, 7),
            (3, 0, 0),
            (4, 0, 0),
            (5, 8, 9),
            (6, 0, 0)
        ]
    );
    assert_eq!(
        t.phases[2].missing.map(phase::missing),
        Some("the REFER was rejected")
    );
}

#[test]
fn attended_transfer_with_replaces() {
    let a = analyse(&sample("xfer-attended-replaces-udp.pcap"));
    let t = only_transfer(&a);
    assert_eq!((t.kind, t.outcome), (Kind::Attended, Outcome::Completed));
    let replaces = t
        .refer
        .replaces
        .as_ref()
        .expect("Replaces decoded from Refer-To");
    assert_eq!(
        replaces.call_id.as_deref(),
        Some("consult///xfer-attended-replaces-udp-1@sipxfer.test")
    );
    assert_eq!(replaces.to_tag.as_deref(), Some("carol-1"));
    assert_eq!(replaces.from_tag.as_deref(), Some("bob-c-1"));
    let consultation = t.consultation_call.as_ref().expect("consultation dialog");
    assert_eq!(
        consultation.call_id,
        "consult///xfer-attended-replaces-udp-1@sipxfer.test"
    );
    let new_call = t.new_call.as_ref().expect("new call");
    assert_eq!(new_call.invite.number, 15);
    assert_eq!(new_call.evidence.first(), Some(&"replaces"));
    assert_eq!(notify_frames(t), vec![(13, Some(100)), (21, Some(200))]);
    assert_eq!(
        phase_frames(t),
        vec![
            (1, 1, 5),
            (2, 11, 12),
            (3, 15, 18),
            (4, 13, 22),
            (5, 23, 24),
            (6, 25, 26),
            (7, 6, 10),
            (8, 19, 20)
        ]
    );
    let replaced = t
        .phases
        .iter()
        .find(|p| p.kind == PhaseKind::ConsultationReleased);
    assert_eq!(
        replaced.map(phase::name).as_deref(),
        Some("consultation call released by carol")
    );
}

#[test]
fn analyze_text_json_and_ladder_snapshots() {
    for (name, file) in [
        ("blind-completed", "xfer-blind-completed-udp.pcap"),
        ("attended", "xfer-attended-replaces-udp.pcap"),
        ("rejected", "xfer-refer-rejected-udp.pcap"),
    ] {
        let path = sample(file);
        let text = sipxfer(["analyze", "--ladder", path.to_str().unwrap()]);
        assert!(text.status.success(), "{}", stderr(&text));
        snapshot(&format!("analyze-{name}.txt"), &stdout(&text));
        let doc = sipxfer(["analyze", "--format", "json", path.to_str().unwrap()]);
        assert!(doc.status.success(), "{}", stderr(&doc));
        let value = json(&doc);
        assert_eq!(value["schema_version"], 1);
        let pretty = serde_json::to_string_pretty(&value["transfers"]).expect("json");
        snapshot(&format!("analyze-{name}.json"), &format!("{pretty}\n"));
    }
}

#[test]
fn json_contract_names() {
    let path = sample("xfer-blind-failed-target-busy-udp.pcap");
    let doc = json(&sipxfer([
        "analyze",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    let t = &doc["transfers"][0];
    assert_eq!(t["id"], 1);
    assert_eq!(t["kind"], "blind");
    assert_eq!(t["outcome"], "failed");
    assert_eq!(t["status"], 486);
    assert_eq!(t["transferor"]["name"], "Bob");
    assert_eq!(t["transferor"]["address"], "127.0.0.2:5062");
    assert_eq!(t["refer"]["frame"], 6);
    assert_eq!(t["refer"]["response"]["status"], 202);
    assert_eq!(t["refer"]["replaces"], serde_json::Value::Null);
    assert_eq!(t["notifies"][1]["status"], 486);
    assert_eq!(t["notifies"][1]["subscription_state"], "terminated");
    assert_eq!(t["new_call"]["invite_frame"], 10);
    assert_eq!(t["phases"][0]["number"], 1);
    assert_eq!(t["phases"][0]["first_frame"], 1);
    assert_eq!(t["phases"][0]["last_frame"], 5);
    assert!(t["phases"][0]["start"].is_number() && t["phases"][0]["dialog"].is_string());
    assert!(t["findings"].is_array());
    assert!(doc["findings"].is_array());
    assert!(doc["dialogs"].as_array().is_some_and(|d| d.len() == 2));
    assert!(t["original_call"]["call_id"].is_string());
}

/// tests/expected/xfer-public.json, read by hand with tshark.
#[test]
fn public_transfers_match_the_independent_reading() {
    let expected_path = common::root().join("tests/expected/xfer-public.json");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(expected_path).expect("expected file"))
            .expect("expected JSON");
    let Some(captures) = expected["captures"].as_object() else {
        panic!("no captures in the expected file");
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, want) in captures {
        let Some(path) = common::public(name) else {
            continue;
        };
        checked += 1;
        let a = analyse(&path);
        let want = want["transfers"].as_array().cloned().unwrap_or_default();
        if a.transfers.len() != want.len() {
            failures.push(format!(
                "{name}: {} transfers, expected {}",
                a.transfers.len(),
                want.len()
            ));
            continue;
        }
        for (t, w) in a.transfers.iter().zip(&want) {
            let mut check = |field: &str, got: serde_json::Value| {
                if got != w[field] {
                    failures.push(format!(
                        "{name} transfer {}: {field} = {got}, expected {}",
                        t.id, w[field]
                    ));
                }
            };
            check("refer_frame", t.refer.frame.number.into());
            check("kind", t.kind.as_str().into());
            check("outcome", t.outcome.as_str().into());
            check("status", t.status.into());
            check(
                "refer_response_frame",
                t.refer.response.map(|(f, _)| f.number).into(),
            );
            check(
                "refer_response_status",
                t.refer.response.map(|(_, s)| s).into(),
            );
            check(
                "notify_frames",
                t.notifies
                    .iter()
                    .map(|n| n.frame.number)
                    .collect::<Vec<_>>()
                    .into(),
            );
            check(
                "notify_sipfrag_statuses",
                t.notifies
                    .iter()
                    .map(|n| n.status)
                    .collect::<Vec<_>>()
                    .into(),
            );
            check(
                "new_call_invite_frame",
                t.new_call.as_ref().map(|n| n.invite.number).into(),
            );
            check(
                "new_call_call_id",
                t.new_call.as_ref().map(|n| n.call_id.clone()).into(),
            );
            check(
                "original_bye_frame",
                t.released.as_ref().map(|r| r.frame.number).into(),
            );
            let by = t.released.as_ref().and_then(|r| r.by).map(|b| match b {
                RoleName::Transferor => "transferor",
                RoleName::Transferee => "transferee",
                RoleName::Target => "target",
            });
            check("original_bye_by", by.into());
            check(
                "transferor_uri",
                t.transferor.uri.trim_matches(['<', '>']).into(),
            );
            check(
                "transferee_uri",
                t.transferee.uri.trim_matches(['<', '>']).into(),
            );
        }
    }
    eprintln!("checked {checked} public captures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One sample's expected analysis: (kind, outcome, status, REFER frame, REFER response
/// (frame, status), NOTIFYs (frame, sipfrag status), new-call INVITE frame, released
/// by (role, frame, before the outcome)).
struct Expect {
    file: &'static str,
    kind: Kind,
    outcome: Outcome,
    status: Option<u16>,
    refer: u64,
    response: (u64, u16),
    notifies: &'static [(u64, u16)],
    new_call: Option<u64>,
    released: (RoleName, u64, bool),
    phases: &'static [(u8, u64, u64)],
}

fn check_sample(e: &Expect, t: &Transfer) {
    let name = e.file;
    assert_eq!(
        (t.kind, t.outcome, t.status),
        (e.kind, e.outcome, e.status),
        "{name}"
    );
    assert_eq!(t.refer.frame.number, e.refer, "{name}: REFER");
    assert_eq!(
        t.refer.response.map(|(f, s)| (f.number, s)),
        Some(e.response),
        "{name}"
    );
    let notifies: Vec<(u64, u16)> = t
        .notifies
        .iter()
        .map(|n| (n.frame.number, n.status.unwrap_or_default()))
        .collect();
    assert_eq!(notifies, e.notifies, "{name}: NOTIFYs");
    assert_eq!(
        t.new_call.as_ref().map(|n| n.invite.number),
        e.new_call,
        "{name}: new call"
    );
    let released = t.released.as_ref().expect("released");
    assert_eq!(
        (released.by, released.frame.number, released.before_outcome),
        (Some(e.released.0), e.released.1, e.released.2),
        "{name}: release"
    );
    assert_eq!(phase_frames(t), e.phases.to_vec(), "{name}: phases");
}

#[test]
fn more_samples_field_by_field() {
    let samples = [
        Expect {
            file: "xfer-blind-completed-tcp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Completed,
            status: None,
            refer: 17,
            response: (18, 202),
            notifies: &[(20, 100), (32, 200)],
            new_call: Some(23),
            released: (RoleName::Transferor, 36, false),
            phases: &[
                (1, 7, 15),
                (2, 17, 18),
                (3, 23, 31),
                (4, 20, 33),
                (5, 36, 38),
                (6, 42, 44),
            ],
        },
        Expect {
            file: "xfer-blind-via-proxy-udp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Completed,
            status: None,
            refer: 11,
            response: (13, 202),
            notifies: &[(15, 100), (29, 200)],
            new_call: Some(19),
            released: (RoleName::Transferor, 33, false),
            phases: &[
                (1, 1, 9),
                (2, 11, 13),
                (3, 19, 27),
                (4, 15, 31),
                (5, 33, 35),
                (6, 37, 39),
            ],
        },
        Expect {
            file: "xfer-refer-sub-false-udp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Completed,
            status: None,
            refer: 6,
            response: (7, 202),
            notifies: &[],
            new_call: Some(8),
            released: (RoleName::Transferor, 13, false),
            phases: &[
                (1, 1, 5),
                (2, 6, 7),
                (3, 8, 12),
                (4, 0, 0),
                (5, 13, 14),
                (6, 15, 16),
            ],
        },
        Expect {
            file: "xfer-semi-attended-udp.pcap",
            kind: Kind::SemiAttended,
            outcome: Outcome::Completed,
            status: None,
            refer: 9,
            response: (10, 202),
            notifies: &[(11, 100), (19, 200)],
            new_call: Some(13),
            released: (RoleName::Transferor, 21, false),
            phases: &[
                (1, 1, 5),
                (2, 9, 10),
                (3, 13, 16),
                (4, 11, 20),
                (5, 21, 22),
                (6, 23, 24),
                (7, 6, 18),
                (8, 17, 18),
            ],
        },
        Expect {
            file: "xfer-blind-failed-404-udp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Failed,
            status: Some(404),
            refer: 6,
            response: (7, 202),
            notifies: &[(8, 100), (14, 404)],
            new_call: Some(10),
            released: (RoleName::Transferor, 16, false),
            phases: &[
                (1, 1, 5),
                (2, 6, 7),
                (3, 10, 13),
                (4, 8, 15),
                (5, 16, 17),
                (6, 0, 0),
            ],
        },
        Expect {
            file: "xfer-out-of-dialog-refer-udp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Completed,
            status: None,
            refer: 6,
            response: (7, 202),
            notifies: &[(8, 100), (15, 200)],
            new_call: Some(10),
            released: (RoleName::Transferor, 17, false),
            phases: &[
                (1, 1, 5),
                (2, 6, 7),
                (3, 10, 14),
                (4, 8, 16),
                (5, 17, 18),
                (6, 19, 20),
            ],
        },
        Expect {
            file: "xfer-transferor-hangs-up-early-udp.pcap",
            kind: Kind::Blind,
            outcome: Outcome::Failed,
            status: Some(486),
            refer: 6,
            response: (7, 202),
            notifies: &[(8, 100), (17, 486)],
            new_call: Some(10),
            released: (RoleName::Transferor, 12, true),
            phases: &[
                (1, 1, 5),
                (2, 6, 7),
                (3, 10, 16),
                (4, 8, 18),
                (5, 12, 13),
                (6, 0, 0),
            ],
        },
    ];
    for e in &samples {
        let a = analyse(&sample(e.file));
        check_sample(e, only_transfer(&a));
    }
}

#[test]
fn through_a_proxy_every_message_is_seen_twice_and_counted_once() {
    let a = analyse(&sample("xfer-blind-via-proxy-udp.pcap"));
    let t = only_transfer(&a);
    assert_eq!(t.refer.hops, 2, "phone → proxy and proxy → phone");
    assert_eq!(
        address(&t.transferor),
        "127.0.0.2:5062",
        "the phone, not the proxy"
    );
    assert_eq!(address(&t.transferee), "127.0.0.1:5060");
    assert_eq!(address(&t.target), "127.0.0.3:5064");
    assert_eq!(a.dialogs.len(), 2, "one dialog per call, both hops in it");
}

#[test]
fn a_refer_rejected_then_retried_is_two_transfers_linked() {
    let a = analyse(&sample("xfer-two-transfers-udp.pcap"));
    type Row = (Kind, Outcome, Option<u16>, u64, Option<usize>);
    let summary: Vec<Row> = a
        .transfers
        .iter()
        .map(|t| {
            (
                t.kind,
                t.outcome,
                t.status,
                t.refer.frame.number,
                t.retry_of,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Kind::Blind, Outcome::Completed, None, 6, None),
            (Kind::Blind, Outcome::Rejected, Some(403), 26, None),
            (Kind::Blind, Outcome::Completed, None, 28, Some(2)),
        ]
    );
    let retry = &a.transfers[2];
    assert_eq!(notify_frames(retry), vec![(30, Some(100)), (37, Some(200))]);
    assert_eq!(retry.new_call.as_ref().map(|n| n.invite.number), Some(32));
    assert!(
        retry.findings.iter().all(|f| f.rule.code != "X308"),
        "the rejected REFER made no subscription: no ;id= needed"
    );
}

#[test]
fn jsonl_prints_one_transfer_per_line() {
    let path = sample("xfer-two-transfers-udp.pcap");
    let out = sipxfer(["analyze", "--format", "jsonl", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let full = json(&sipxfer([
        "analyze",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    assert_eq!(serde_json::Value::Array(lines), full["transfers"]);
}

#[test]
fn a_refer_outside_the_dialog_finds_its_call_by_target_dialog() {
    let a = analyse(&sample("xfer-out-of-dialog-refer-udp.pcap"));
    let t = only_transfer(&a);
    assert!(t.refer.out_of_dialog);
    let original = t.original_call.as_ref().expect("Target-Dialog names it");
    assert_eq!(
        original.call_id,
        "xfer-out-of-dialog-refer-udp-1@sipxfer.test"
    );
    assert_eq!(
        a.dialogs.len(),
        2,
        "the REFER's subscription dialog is no call"
    );
}

#[test]
fn chained_transfers_say_which_they_follow() {
    let a = analyse(&sample("xfer-chained-udp.pcap"));
    assert_eq!(a.transfers.len(), 2);
    let (first, second) = (&a.transfers[0], &a.transfers[1]);
    assert_eq!(
        (first.refer.frame.number, second.refer.frame.number),
        (6, 19)
    );
    assert!(first.outcome == Outcome::Completed && second.outcome == Outcome::Completed);
    let first_new = first.new_call.as_ref().expect("new call").call_id.clone();
    assert_eq!(
        second.original_call.as_ref().map(|o| o.call_id.clone()),
        Some(first_new)
    );
    assert_eq!((first.follows, second.follows), (None, Some(1)));
    assert_eq!(
        notify_frames(second),
        vec![(21, Some(100)), (28, Some(200))]
    );
    assert_eq!(second.new_call.as_ref().map(|n| n.invite.number), Some(23));
    assert_eq!(
        phase_frames(second),
        vec![
            (1, 10, 14),
            (2, 19, 20),
            (3, 23, 27),
            (4, 21, 29),
            (5, 30, 31),
            (6, 32, 33)
        ]
    );
}
