//! Transfers through a B2BUA (issue 14): the three captures `samples/b2bua-*.pcap`
//! (made by `samples/make-b2bua.sh`, SIPp playing the phones and the box at
//! 127.0.0.10:5060) checked field by field — legs, roles (the phones), kind, outcome,
//! evidence — and each leg against a tshark reading of the same capture where tshark
//! is installed (skipped, visibly, where it is not).
//!
//! What tshark shows (`tshark -n -r FILE -Y sip`), in short:
//! - `b2bua-pbx-blind-udp.pcap` (30 SIP messages, 3 Call-IDs): Alice 127.0.0.1 INVITEs
//!   bob at the PBX (frame 1, leg A); the PBX INVITEs Bob 127.0.0.2 (frame 3, leg B,
//!   `X-Call-ID` = leg A's Call-ID, Alice's SDP); Bob REFERs leg B to Carol (11) → 202
//!   (12) from the PBX, which NOTIFYs "100 Trying" (13), INVITEs Carol 127.0.0.3 itself
//!   (15, leg C, Referred-By Bob, `X-Call-ID`, Alice's SDP), 200 (18), re-INVITEs Alice
//!   with Carol's SDP (20), NOTIFYs "200 OK" (23); Bob BYEs leg B (25); Alice BYEs leg
//!   A (27) and the PBX BYEs leg C (29).
//! - `b2bua-pbx-attended-udp.pcap` (34, 4): legs A (1) and B (3) with one RFC 7989
//!   Session-ID; Bob's consultation to carol at the PBX, leg B2 (11), and the PBX's leg
//!   C to Carol (13) with B2's Session-ID; Bob's REFER on B (21) with Replaces naming
//!   B2; 202, NOTIFY 100 / 200 from the PBX (22-26); the PBX BYEs B2 (27) and B (29):
//!   A and C stay joined; Alice BYEs A (31), the PBX BYEs C (33).
//! - `b2bua-sbc-attended-udp.pcap` (52, 6): every dialog is two legs with their own
//!   Call-IDs and tags, tied by P-Charging-Vector icids: A1 (1) / A2 (3), C1 (11) / C2
//!   (13); Bob's REFER on A2 (21, Replaces naming C1) relayed on A1 (22, Replaces
//!   rewritten to C2, Referred-By rewritten to the SBC); Alice's INVITE with Replaces,
//!   N1 (29), relayed as N2 (31) to Carol; Carol BYEs C2 (37), the SBC BYEs C1 (39).

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, sample, sipxfer, skipped, stdout};
use serde_json::Value;

/// A leg as the JSON gives it: Call-ID, role, box, phone, INVITE frame, evidence.
type Leg = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u64,
    &'static [&'static str],
);

struct Expected {
    file: &'static str,
    kind: &'static str,
    outcome: &'static str,
    /// (transferor, transferee, target) addresses: the phones.
    roles: [&'static str; 3],
    legs: &'static [Leg],
}

const BOX: &str = "127.0.0.10:5060";
const ALICE: &str = "127.0.0.1:5060";
const BOB: &str = "127.0.0.2:5062";
const CAROL: &str = "127.0.0.3:5064";

const EXPECTED: &[Expected] = &[
    Expected {
        file: "b2bua-pbx-blind-udp.pcap",
        kind: "blind",
        outcome: "completed",
        roles: [BOB, ALICE, CAROL],
        legs: &[
            (
                "b2bua-pbx-blind-udp-1@sipxfer.test",
                "transferee",
                BOX,
                ALICE,
                1,
                &["x-call-id", "sdp-origin", "sdp-media", "timing+number"],
            ),
            (
                "pbx-b///b2bua-pbx-blind-udp-1@sipxfer.test",
                "transferor",
                BOX,
                BOB,
                3,
                &["refer"],
            ),
            (
                "pbx-c///b2bua-pbx-blind-udp-1@sipxfer.test",
                "target",
                BOX,
                CAROL,
                15,
                &[
                    "referred-by",
                    "request-uri",
                    "transferee",
                    "x-call-id",
                    "sdp-origin",
                    "sdp-media",
                    "bridged-sdp",
                    "release-propagated",
                ],
            ),
        ],
    },
    Expected {
        file: "b2bua-pbx-attended-udp.pcap",
        kind: "attended",
        outcome: "completed",
        roles: [BOB, ALICE, CAROL],
        legs: &[
            (
                "b2bua-pbx-attended-udp-1@sipxfer.test",
                "transferee",
                BOX,
                ALICE,
                1,
                &["session-id", "timing+number"],
            ),
            (
                "pbx-b///b2bua-pbx-attended-udp-1@sipxfer.test",
                "transferor",
                BOX,
                BOB,
                3,
                &["refer"],
            ),
            (
                "bob-c///b2bua-pbx-attended-udp-1@sipxfer.test",
                "consultation",
                BOX,
                BOB,
                11,
                &["replaces"],
            ),
            (
                "pbx-c///b2bua-pbx-attended-udp-1@sipxfer.test",
                "target",
                BOX,
                CAROL,
                13,
                &[
                    "session-id",
                    "timing+number",
                    "joined",
                    "release-propagated",
                ],
            ),
        ],
    },
    Expected {
        file: "b2bua-sbc-attended-udp.pcap",
        kind: "attended",
        outcome: "completed",
        roles: [BOB, ALICE, CAROL],
        legs: &[
            (
                "b2bua-sbc-attended-udp-1@sipxfer.test",
                "transferee",
                BOX,
                ALICE,
                1,
                &["icid", "timing+number"],
            ),
            (
                "sbc-a2///b2bua-sbc-attended-udp-1@sipxfer.test",
                "transferor",
                BOX,
                BOB,
                3,
                &["refer"],
            ),
            (
                "bob-c///b2bua-sbc-attended-udp-1@sipxfer.test",
                "consultation",
                BOX,
                BOB,
                11,
                &["replaces"],
            ),
            (
                "sbc-c2///b2bua-sbc-attended-udp-1@sipxfer.test",
                "replaced",
                BOX,
                CAROL,
                13,
                &["replaces-rewritten", "icid", "timing+number"],
            ),
            (
                "alice-n///b2bua-sbc-attended-udp-1@sipxfer.test",
                "new-call",
                BOX,
                ALICE,
                29,
                &["request-uri", "transferee"],
            ),
            (
                "sbc-n2///b2bua-sbc-attended-udp-1@sipxfer.test",
                "target",
                BOX,
                CAROL,
                31,
                &[
                    "icid",
                    "replaces",
                    "referred-by",
                    "timing+number",
                    "release-propagated",
                ],
            ),
        ],
    },
];

fn analyse(file: &str) -> Value {
    json(&sipxfer([
        "analyze",
        "--format",
        "json",
        sample(file).to_str().expect("utf-8 path"),
    ]))
}

#[test]
fn b2bua_transfers_told_end_to_end() {
    for e in EXPECTED {
        let doc = analyse(e.file);
        let transfers = doc["transfers"].as_array().expect("transfers");
        assert_eq!(transfers.len(), 1, "{}", e.file);
        let t = &transfers[0];
        assert_eq!(t["kind"], e.kind, "{}", e.file);
        assert_eq!(t["outcome"], e.outcome, "{}", e.file);
        for (role, want) in ["transferor", "transferee", "target"].iter().zip(e.roles) {
            assert_eq!(t[role]["address"], want, "{} {role}", e.file);
        }
        let legs = t["legs"].as_array().expect("legs");
        assert_eq!(legs.len(), e.legs.len(), "{}", e.file);
        for (got, want) in legs.iter().zip(e.legs) {
            let (call_id, role, via, phone, frame, evidence) = *want;
            assert_eq!(got["call_id"], call_id, "{}", e.file);
            assert_eq!(got["role"], role, "{} {call_id}", e.file);
            assert_eq!(got["via"], via, "{} {call_id}", e.file);
            assert_eq!(got["phone"], phone, "{} {call_id}", e.file);
            assert_eq!(got["invite_frame"], frame, "{} {call_id}", e.file);
            let ev: Vec<&str> = got["evidence"]
                .as_array()
                .expect("evidence")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(ev, evidence, "{} {call_id}", e.file);
        }
    }
}

#[test]
fn b2bua_phases_map_onto_legs() {
    let doc = analyse("b2bua-pbx-blind-udp.pcap");
    let phases: Vec<Vec<u64>> = doc["transfers"][0]["legs"]
        .as_array()
        .expect("legs")
        .iter()
        .map(|l| {
            l["phases"]
                .as_array()
                .expect("phases")
                .iter()
                .filter_map(Value::as_u64)
                .collect()
        })
        .collect();
    // Alice's leg: the original call; Bob's: the call, the REFER, the NOTIFYs, his
    // BYE; Carol's: the call the PBX placed and its release.
    assert_eq!(phases, vec![vec![1], vec![1, 2, 4, 5], vec![3, 6]]);
}

#[test]
fn b2bua_findings_name_the_box() {
    let doc = analyse("b2bua-sbc-attended-udp.pcap");
    let findings = doc["transfers"][0]["findings"]
        .as_array()
        .expect("findings");
    let x402 = findings.iter().find(|f| f["rule"] == "X402").expect("X402");
    let message = x402["message"].as_str().expect("message");
    assert!(
        message.contains("the B2BUA at 127.0.0.10:5060 rewrote Referred-By"),
        "{message}"
    );
}

#[test]
fn b2bua_calls_correlate_groups_legs() {
    let doc = json(&sipxfer([
        "calls",
        "--correlate",
        "--format",
        "json",
        sample("b2bua-sbc-attended-udp.pcap")
            .to_str()
            .expect("utf-8 path"),
    ]));
    let calls = doc["calls"].as_array().expect("calls");
    let legs: Vec<Vec<&str>> = calls
        .iter()
        .map(|c| {
            c["legs"]
                .as_array()
                .expect("legs")
                .iter()
                .filter_map(|l| l["call_id"].as_str())
                .collect()
        })
        .collect();
    assert_eq!(
        legs,
        vec![
            vec![
                "b2bua-sbc-attended-udp-1@sipxfer.test",
                "sbc-a2///b2bua-sbc-attended-udp-1@sipxfer.test"
            ],
            vec![
                "bob-c///b2bua-sbc-attended-udp-1@sipxfer.test",
                "sbc-c2///b2bua-sbc-attended-udp-1@sipxfer.test"
            ],
            vec![
                "alice-n///b2bua-sbc-attended-udp-1@sipxfer.test",
                "sbc-n2///b2bua-sbc-attended-udp-1@sipxfer.test"
            ],
        ]
    );
    // Samples between phones have no B2BUA: nothing to group.
    let text = stdout(&sipxfer([
        "calls",
        "--correlate",
        sample("xfer-attended-replaces-udp.pcap")
            .to_str()
            .expect("utf-8 path"),
    ]));
    assert!(text.starts_with("No calls through a B2BUA"), "{text}");
}

#[test]
fn b2bua_json_has_no_legs_without_a_box() {
    for file in [
        "xfer-attended-replaces-udp.pcap",
        "xfer-blind-via-proxy-udp.pcap",
    ] {
        let doc = analyse(file);
        for t in doc["transfers"].as_array().expect("transfers") {
            assert!(t.get("legs").is_none(), "{file}");
        }
    }
}

/// One SIP message as tshark reads it.
struct Msg {
    frame: u64,
    src: String,
    dst: String,
    call_id: String,
    method: String,
    headers: String,
}

fn tshark(file: &Path) -> Option<Vec<Msg>> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", "sip", "-T", "fields", "-E", "separator=|"])
        .args(["-e", "frame.number", "-e", "ip.src", "-e", "udp.srcport"])
        .args(["-e", "ip.dst", "-e", "udp.dstport", "-e", "sip.Call-ID"])
        .args(["-e", "sip.Method", "-e", "sip.msg_hdr"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        stdout(&out)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.splitn(8, '|').collect();
                let [frame, sip, sport, dip, dport, call_id, method, headers] = f[..] else {
                    return None;
                };
                Some(Msg {
                    frame: frame.parse().ok()?,
                    src: format!("{sip}:{sport}"),
                    dst: format!("{dip}:{dport}"),
                    call_id: call_id.to_string(),
                    method: method.to_string(),
                    headers: headers.to_string(),
                })
            })
            .collect(),
    )
}

/// Each leg against tshark: its INVITE frame carries its Call-ID, goes between the
/// phone and the box (one end the box, the other the phone), and the correlation
/// header its evidence names is on the wire in that leg's INVITE or its answer.
#[test]
fn b2bua_legs_match_tshark() {
    for e in EXPECTED {
        let Some(msgs) = tshark(&sample(e.file)) else {
            skipped(&format!(
                "tshark is not installed: {} not cross-checked",
                e.file
            ));
            return;
        };
        for &(call_id, role, via, phone, frame, evidence) in e.legs {
            let invite = msgs
                .iter()
                .find(|m| m.frame == frame)
                .unwrap_or_else(|| panic!("{}: tshark has no SIP frame {frame}", e.file));
            assert_eq!(invite.call_id, call_id, "{} frame {frame}", e.file);
            assert_eq!(invite.method, "INVITE", "{} frame {frame}", e.file);
            let ends = [invite.src.as_str(), invite.dst.as_str()];
            assert!(
                ends.contains(&via) && ends.contains(&phone),
                "{} {role}: {ends:?}",
                e.file
            );
            let leg: Vec<&Msg> = msgs.iter().filter(|m| m.call_id == call_id).collect();
            let header = |name: &str| {
                leg.iter()
                    .any(|m| m.headers.to_ascii_lowercase().contains(&format!("{name}:")))
            };
            for ev in evidence {
                let on_wire = match *ev {
                    "x-call-id" => {
                        header("x-call-id") || msgs.iter().any(|m| m.headers.contains(call_id))
                    }
                    "session-id" => header("session-id"),
                    "icid" => header("p-charging-vector"),
                    "replaces" if role == "consultation" => true,
                    "replaces" => header("replaces"),
                    "referred-by" => header("referred-by"),
                    _ => true,
                };
                assert!(on_wire, "{} {role} {call_id}: {ev} not on the wire", e.file);
            }
        }
    }
}
