//! Transfers made by real user agents rather than SIPp: baresip 1.0.0 (Debian bookworm)
//! playing Alice, Bob and Carol on loopback (samples/make-baresip.sh). The expected
//! values below come from reading the capture with tshark 4.0.17
//! (`tshark -n -r samples/xfer-blind-baresip-udp.pcap -Y sip`, plus `-T fields` for
//! Call-ID, tags, CSeq, Refer-To, Event, Subscription-State and `sipfrag.line`), not from
//! sipxfer's output. The frame numbers are those of the checked-in file: baresip picks
//! its own Call-IDs, tags and CSeqs, and the RTP between the SIP messages moves the
//! frame numbers, so remaking the capture means reading it again.
//!
//! What tshark shows in `xfer-blind-baresip-udp.pcap` (131 frames, 18 SIP messages, the
//! other 113 RTP/RTCP between ports 10004-10027; every address in 127.0.0.0/8):
//!
//! ```text
//!   1 127.0.0.1:5060 → 127.0.0.2:5062 INVITE sip:bob@127.0.0.2:5062  Call-ID 01f56751932f31d8
//!   2 180 Ringing, 4 200 Answering (To tag bc276676f407d909), 6 ACK
//!  59 127.0.0.2 → 127.0.0.1 REFER (CSeq 3088, Refer-To: sip:carol@127.0.0.3:5064,
//!     no angle brackets, no Referred-By)
//!  60 202 Accepted
//!  61 NOTIFY Event: refer;id=3088, Subscription-State: active;expires=60,
//!     sipfrag "SIP/2.0 100 Trying"; 62 200 OK
//!  63 127.0.0.1:5060 → 127.0.0.3:5064 INVITE sip:carol@127.0.0.3:5064
//!     Call-ID b2bd4e7b604f79e5 (no Referred-By, no Replaces)
//!  64 180 Ringing, 66 200 Answering, 68 ACK
//!  69 NOTIFY terminated;reason=noresource, sipfrag "SIP/2.0 200 OK"; 70 200 OK
//!  71 127.0.0.2 → 127.0.0.1 BYE (Bob, From tag bc276676f407d909); 73 200 OK
//! 128 127.0.0.1 → 127.0.0.3 BYE (Alice); 129 200 OK
//! ```
//!
//! baresip 1.0.0 has no attended transfer (its in-call commands are /transfer, /hold,
//! /resume, ...; no /atransferstart, no Replaces), so there is no attended capture.

mod common;

use common::{json, sample, sipxfer, stderr};
use serde_json::{Value, json};

const BLIND: &str = "xfer-blind-baresip-udp.pcap";

/// `sipxfer analyze --format json` of a sample.
fn analysis(file: &str) -> Value {
    let path = sample(file);
    let out = sipxfer(["analyze", "--format", "json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    json(&out)
}

/// The only transfer of the analysis.
fn only_transfer(doc: &Value) -> &Value {
    let transfers = doc["transfers"].as_array().expect("transfers");
    assert_eq!(transfers.len(), 1, "{transfers:#?}");
    &transfers[0]
}

#[test]
fn baresip_blind_transfer_kind_outcome_and_roles() {
    let doc = analysis(BLIND);
    let t = only_transfer(&doc);
    assert_eq!(t["kind"], "blind");
    assert_eq!(t["outcome"], "completed");
    assert_eq!(t["status"], Value::Null);
    // No display names in From/To: baresip writes bare <sip:user@host:port>.
    assert_eq!(
        t["transferor"],
        json!({"name": null, "uri": "sip:bob@127.0.0.2:5062", "address": "127.0.0.2:5062"})
    );
    assert_eq!(
        t["transferee"],
        json!({"name": null, "uri": "sip:alice@127.0.0.1:5060", "address": "127.0.0.1:5060"})
    );
    assert_eq!(
        t["target"],
        json!({"name": null, "uri": "sip:carol@127.0.0.3:5064", "address": "127.0.0.3:5064"})
    );
}

#[test]
fn baresip_blind_transfer_refer_and_its_202() {
    let doc = analysis(BLIND);
    let refer = &only_transfer(&doc)["refer"];
    assert_eq!(refer["frame"], 59);
    assert_eq!(refer["call_id"], "01f56751932f31d8");
    assert_eq!(refer["cseq"], 3088);
    assert_eq!(refer["refer_to"], "sip:carol@127.0.0.3:5064");
    assert_eq!(refer["refer_to_count"], 1);
    assert_eq!(
        refer["referred_by"],
        Value::Null,
        "baresip sends no Referred-By"
    );
    assert_eq!(refer["replaces"], Value::Null);
    assert_eq!(refer["response"]["frame"], 60);
    assert_eq!(refer["response"]["status"], 202);
    assert_eq!(refer["hops"], 1);
    assert_eq!(refer["retransmissions"], 0);
    assert_eq!(refer["out_of_dialog"], false);
}

#[test]
fn baresip_blind_transfer_notifies() {
    let doc = analysis(BLIND);
    let notifies = only_transfer(&doc)["notifies"]
        .as_array()
        .expect("notifies");
    type Row<'a> = (&'a Value, &'a Value, &'a Value, &'a Value, &'a Value);
    let rows: Vec<Row> = notifies
        .iter()
        .map(|n| {
            (
                &n["frame"],
                &n["status"],
                &n["subscription_state"],
                &n["event_id"],
                &n["response"]["frame"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                &json!(61),
                &json!(100),
                &json!("active"),
                &json!("3088"),
                &json!(62)
            ),
            (
                &json!(69),
                &json!(200),
                &json!("terminated"),
                &json!("3088"),
                &json!(70)
            ),
        ]
    );
    assert_eq!(notifies[0]["sipfrag"], "SIP/2.0 100 Trying");
    assert_eq!(notifies[1]["sipfrag"], "SIP/2.0 200 OK");
    assert_eq!(notifies[1]["reason"], "noresource");
    assert_eq!(notifies[1]["response"]["status"], 200);
}

#[test]
fn baresip_blind_transfer_new_call_without_referred_by() {
    let doc = analysis(BLIND);
    let t = only_transfer(&doc);
    assert_eq!(
        t["original_call"],
        json!({"call_id": "01f56751932f31d8", "from_tag": "4fbe632e9e7bf5eb", "to_tag": "bc276676f407d909"})
    );
    assert_eq!(t["consultation_call"], Value::Null);
    let new_call = &t["new_call"];
    assert_eq!(new_call["invite_frame"], 63);
    assert_eq!(new_call["call_id"], "b2bd4e7b604f79e5");
    // No Referred-By and no Replaces on the wire: only the Request-URI (= Refer-To)
    // and the sender (the transferee) tie the INVITE to the REFER.
    assert_eq!(new_call["evidence"], json!(["request-uri", "transferee"]));
    // The outcome is known from Carol's 200 to that INVITE.
    assert_eq!(t["outcome_frame"]["frame"], 66);
}

#[test]
fn baresip_blind_transfer_phases_and_release() {
    let doc = analysis(BLIND);
    let t = only_transfer(&doc);
    let phases: Vec<(u64, u64, u64)> = t["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| {
            (
                p["number"].as_u64().unwrap(),
                p["first_frame"].as_u64().unwrap_or(0),
                p["last_frame"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        phases,
        vec![
            (1, 1, 6),     // INVITE .. ACK
            (2, 59, 60),   // REFER, 202
            (3, 63, 68),   // INVITE to Carol .. ACK
            (4, 61, 70),   // NOTIFY 100 .. 200 OK to NOTIFY 200
            (5, 71, 73),   // Bob's BYE, 200
            (6, 128, 129), // Alice's BYE to Carol, 200
        ]
    );
    assert!(
        t["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["missing"] == false)
    );
    let released = &t["released"];
    assert_eq!(
        (
            &released["by"],
            &released["frame"],
            &released["before_outcome"]
        ),
        (&json!("transferor"), &json!(71), &json!(false)),
        "Bob's BYE (frame 71) comes after the final NOTIFY (69)"
    );
}

#[test]
fn baresip_blind_transfer_messages_and_dialogs() {
    let doc = analysis(BLIND);
    assert_eq!(doc["stats"]["frames"], 131);
    assert_eq!(doc["stats"]["sip"]["messages"], 18);
    assert_eq!(
        doc["stats"]["sip"]["non_sip_datagrams"], 113,
        "RTP and RTCP"
    );
    let dialogs = doc["dialogs"].as_array().expect("dialogs");
    type Row<'a> = (&'a str, u64, u64, u64, &'a str);
    let rows: Vec<Row> = dialogs
        .iter()
        .map(|d| {
            (
                d["call_id"].as_str().unwrap(),
                d["invite"]["frame"].as_u64().unwrap(),
                d["answered"]["frame"].as_u64().unwrap(),
                d["ended"]["frame"].as_u64().unwrap(),
                d["ended_by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("01f56751932f31d8", 1, 4, 71, "callee"),
            ("b2bd4e7b604f79e5", 63, 66, 128, "caller"),
        ]
    );
    for d in dialogs {
        assert_eq!(d["caller_agent"], "baresip v1.0.0 (x86_64/linux)");
        assert_eq!(d["callee_agent"], "baresip v1.0.0 (x86_64/linux)");
        assert_eq!(d["reason"], "Answering", "baresip's 200 says Answering");
    }
}
