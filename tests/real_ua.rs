//! Transfers made by real user agents rather than SIPp: baresip 1.0.0 (Debian bookworm)
//! playing Alice, Bob and Carol in a blind transfer (samples/make-baresip.sh), and
//! linphonec 5.1.65 (Debian bookworm `linphone-cli`, liblinphone 5.1.65) playing them
//! in an attended one (samples/make-linphone.sh), all on loopback. The expected values
//! below come from reading the captures with tshark 4.0.17 (`tshark -n -r FILE -Y sip`,
//! plus `-T fields` for Call-ID, tags, CSeq, Refer-To, Referred-by, Replaces, Event,
//! Subscription-State, `sipfrag.line` and the SDP attributes), not from sipxfer's
//! output. The frame numbers are those of the checked-in files: the UAs pick their own
//! Call-IDs, tags and CSeqs, and the RTP between the SIP messages moves the frame
//! numbers, so remaking a capture means reading it again.
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
//! /resume, ...; no /atransferstart, no Replaces), so the attended capture is linphone's.
//!
//! What tshark shows in `xfer-attended-linphone-udp.pcap` (296 frames, 35 SIP messages,
//! the other 261 RTP/RTCP (PCMU) between ports 10000-10023; Alice 127.0.0.1:5060, Bob
//! 127.0.0.2:5062, Carol 127.0.0.3:5060; liblinphone writes From, To and Refer-To without
//! the port, hence Carol on 5060; every message says `User-Agent: Linphonec/5.1.65`
//! except the 100s):
//!
//! ```text
//!   1 127.0.0.1:5060 → 127.0.0.2:5062 INVITE sip:bob@127.0.0.2:5062  Call-ID Pcx9uE5kGg
//!     (From <sip:alice@127.0.0.1>;tag=6XJCgj9x6, To sip:bob@127.0.0.2)
//!   2 100, 3 180, 4 200 Ok (To tag pNb5K4g), 12 ACK
//!  74 Bob's hold re-INVITE (CSeq 111, a=sendonly); 75 100, 76 200 (recvonly), 83 ACK
//!  90 127.0.0.2:5062 → 127.0.0.3:5060 INVITE sip:carol@127.0.0.3  Call-ID FWW9eK9895
//!     (From tag NF-Si8BvK); 92 100, 93 180, 94 200 Ok (To tag 7Giur3q), 103 ACK
//! 195 127.0.0.2 → 127.0.0.1 REFER (CSeq 112) Refer-To:
//!     <sip:carol@127.0.0.3?Replaces=FWW9eK9895%3bfrom-tag%3dNF-Si8BvK%3bto-tag%3d7Giur3q>
//!     Referred-By: sip:bob@127.0.0.2 (no angle brackets)
//! 196 202 Accepted
//! 198 Alice's own hold re-INVITE to Bob (CSeq 21, a=sendonly); 205 100, 206 200
//!     (c=0.0.0.0, inactive), 216 ACK
//! 199 127.0.0.1:5060 → 127.0.0.3:5060 INVITE sip:carol@127.0.0.3  Call-ID yjNG77WQgi
//!     (From tag R5eV98Bmg) Replaces: FWW9eK9895;from-tag=NF-Si8BvK;to-tag=7Giur3q,
//!     Referred-By: sip:bob@127.0.0.2, no Require; 202 100, 203 180 (To tag l7qJkY~)
//! 204 127.0.0.3 → 127.0.0.2 BYE on FWW9eK9895 (Carol ends the replaced call); 213 200
//! 208 200 Ok to Alice's INVITE, 220 ACK
//! 217 NOTIFY (CSeq 22) Event: refer (no id), Subscription-State: active,
//!     sipfrag "SIP/2.0 100 Trying"; 225 200
//! 228 NOTIFY (CSeq 23) Subscription-State: terminated;reason=reason=noresource (sic),
//!     sipfrag "SIP/2.0 200 Ok"; 230 200
//! 231 127.0.0.2 → 127.0.0.1 BYE (Bob); 234 200
//! 295 127.0.0.1 → 127.0.0.3 BYE (Alice); 296 200
//! ```

mod common;

use common::{json, sample, sipxfer, stderr};
use serde_json::{Value, json};

const BLIND: &str = "xfer-blind-baresip-udp.pcap";
const ATTENDED: &str = "xfer-attended-linphone-udp.pcap";

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

/// (number, first frame, last frame) of every phase, in JSON order (0 where missing).
fn phase_frames(t: &Value) -> Vec<(u64, u64, u64)> {
    t["phases"]
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
        .collect()
}

/// Who released the original call, at which frame, and whether before the outcome.
fn release(t: &Value) -> (&Value, &Value, &Value) {
    let released = &t["released"];
    (
        &released["by"],
        &released["frame"],
        &released["before_outcome"],
    )
}

/// (Call-ID, INVITE frame, 200 frame, end frame, who ended it) of every dialog.
fn dialog_rows(dialogs: &[Value]) -> Vec<(&str, u64, u64, u64, &str)> {
    dialogs
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
        .collect()
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
    let phases = phase_frames(t);
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
    assert_eq!(
        release(t),
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
    let rows = dialog_rows(dialogs);
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

#[test]
fn linphone_attended_transfer_kind_outcome_and_roles() {
    let doc = analysis(ATTENDED);
    let t = only_transfer(&doc);
    // Bob's consultation call to Carol was answered (200 at frame 94) before the REFER
    // (frame 195): attended, not semi-attended.
    assert_eq!(t["kind"], "attended");
    assert_eq!(t["outcome"], "completed");
    assert_eq!(t["status"], Value::Null);
    // liblinphone writes From and To without display names and without the port.
    assert_eq!(
        t["transferor"],
        json!({"name": null, "uri": "sip:bob@127.0.0.2", "address": "127.0.0.2:5062"})
    );
    assert_eq!(
        t["transferee"],
        json!({"name": null, "uri": "sip:alice@127.0.0.1", "address": "127.0.0.1:5060"})
    );
    assert_eq!(
        t["target"],
        json!({"name": null, "uri": "sip:carol@127.0.0.3", "address": "127.0.0.3:5060"})
    );
}

#[test]
fn linphone_attended_transfer_refer_replaces_and_its_202() {
    let doc = analysis(ATTENDED);
    let refer = &only_transfer(&doc)["refer"];
    assert_eq!(refer["frame"], 195);
    assert_eq!(refer["call_id"], "Pcx9uE5kGg");
    assert_eq!(refer["cseq"], 112);
    assert_eq!(
        refer["refer_to"],
        "sip:carol@127.0.0.3?Replaces=FWW9eK9895%3bfrom-tag%3dNF-Si8BvK%3bto-tag%3d7Giur3q"
    );
    assert_eq!(refer["refer_to_count"], 1);
    assert_eq!(refer["referred_by"], "sip:bob@127.0.0.2");
    // The Replaces of the Refer-To, decoded (%3b = ';', %3d = '='), names the
    // consultation dialog Bob-Carol: its Call-ID, Carol's To tag, Bob's From tag.
    assert_eq!(
        refer["replaces"],
        json!({"call_id": "FWW9eK9895", "to_tag": "7Giur3q", "from_tag": "NF-Si8BvK", "early_only": false})
    );
    assert_eq!(refer["response"]["frame"], 196);
    assert_eq!(refer["response"]["status"], 202);
    assert_eq!(refer["hops"], 1);
    assert_eq!(refer["retransmissions"], 0);
    assert_eq!(refer["out_of_dialog"], false);
}

#[test]
fn linphone_attended_transfer_notifies() {
    let doc = analysis(ATTENDED);
    let t = only_transfer(&doc);
    let notifies = t["notifies"].as_array().expect("notifies");
    type Row<'a> = (&'a Value, &'a Value, &'a Value, &'a Value, &'a Value);
    let rows: Vec<Row> = notifies
        .iter()
        .map(|n| {
            (
                &n["frame"],
                &n["cseq"],
                &n["status"],
                &n["subscription_state"],
                &n["response"]["frame"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                &json!(217),
                &json!(22),
                &json!(100),
                &json!("active"),
                &json!(225)
            ),
            (
                &json!(228),
                &json!(23),
                &json!(200),
                &json!("terminated"),
                &json!(230)
            ),
        ]
    );
    assert_eq!(notifies[0]["sipfrag"], "SIP/2.0 100 Trying");
    assert_eq!(notifies[1]["sipfrag"], "SIP/2.0 200 Ok");
    // `Event: refer` with no id parameter.
    assert!(notifies.iter().all(|n| n["event_id"] == Value::Null));
    assert!(notifies.iter().all(|n| n["response"]["status"] == 200));
    // Subscription-State: terminated;reason=reason=noresource: the reason parameter's
    // value as written, which is no token, so the header is malformed.
    assert_eq!(notifies[1]["reason"], "reason=noresource");
    let x307: Vec<&Value> = t["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "X307")
        .collect();
    assert_eq!(x307.len(), 1, "{x307:#?}");
    assert_eq!(x307[0]["frames"], json!([228]));
}

#[test]
fn linphone_attended_transfer_new_call_and_consultation() {
    let doc = analysis(ATTENDED);
    let t = only_transfer(&doc);
    assert_eq!(
        t["original_call"],
        json!({"call_id": "Pcx9uE5kGg", "from_tag": "6XJCgj9x6", "to_tag": "pNb5K4g"})
    );
    // Bob calls Carol: Bob's From tag, Carol's To tag.
    assert_eq!(
        t["consultation_call"],
        json!({"call_id": "FWW9eK9895", "from_tag": "NF-Si8BvK", "to_tag": "7Giur3q"})
    );
    let new_call = &t["new_call"];
    assert_eq!(new_call["invite_frame"], 199);
    assert_eq!(new_call["call_id"], "yjNG77WQgi");
    // Alice's INVITE carries Replaces and Referred-By, goes to the Refer-To URI and
    // comes from the transferee.
    assert_eq!(
        new_call["evidence"],
        json!(["replaces", "referred-by", "request-uri", "transferee"])
    );
    // Carol's 200 to that INVITE (frame 208) comes before the final NOTIFY (228).
    assert_eq!(t["outcome_frame"]["frame"], 208);
}

#[test]
fn linphone_attended_transfer_phases_and_release() {
    let doc = analysis(ATTENDED);
    let t = only_transfer(&doc);
    let phases = phase_frames(t);
    assert_eq!(
        phases,
        vec![
            (1, 1, 12),    // INVITE .. ACK
            (2, 195, 196), // REFER, 202 (Bob's hold at 74 came before the consultation)
            (3, 199, 220), // INVITE with Replaces to Carol .. ACK
            (4, 217, 230), // NOTIFY 100 .. 200 to NOTIFY 200
            (5, 231, 234), // Bob's BYE, 200
            (6, 295, 296), // Alice's BYE to Carol, 200
            (7, 90, 103),  // consultation INVITE .. ACK
            (8, 204, 213), // Carol's BYE to Bob on the replaced call, 200
        ]
    );
    assert!(
        t["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["missing"] == false)
    );
    assert_eq!(
        release(t),
        (&json!("transferor"), &json!(231), &json!(false)),
        "Bob's BYE (frame 231) comes after Carol's 200 (208) and the final NOTIFY (228)"
    );
}

#[test]
fn linphone_attended_transfer_messages_and_dialogs() {
    let doc = analysis(ATTENDED);
    assert_eq!(doc["stats"]["frames"], 296);
    assert_eq!(doc["stats"]["sip"]["messages"], 35);
    assert_eq!(
        doc["stats"]["sip"]["non_sip_datagrams"], 261,
        "RTP and RTCP"
    );
    let dialogs = doc["dialogs"].as_array().expect("dialogs");
    let rows = dialog_rows(dialogs);
    assert_eq!(
        rows,
        vec![
            ("Pcx9uE5kGg", 1, 4, 231, "callee"),
            ("FWW9eK9895", 90, 94, 204, "callee"),
            ("yjNG77WQgi", 199, 208, 295, "caller"),
        ]
    );
    for d in dialogs {
        assert_eq!(d["caller_agent"], "Linphonec/5.1.65");
        assert_eq!(d["callee_agent"], "Linphonec/5.1.65");
        assert_eq!(d["reason"], "Ok", "liblinphone's 200 says Ok");
    }
}

#[test]
fn linphone_attended_transfer_both_holds_on_the_original_call() {
    let doc = analysis(ATTENDED);
    let original = doc["dialogs"]
        .as_array()
        .expect("dialogs")
        .iter()
        .find(|d| d["call_id"] == "Pcx9uE5kGg")
        .expect("the original call");
    let media: Vec<(&Value, &Value, &Value)> = original["media"]
        .as_array()
        .expect("media")
        .iter()
        .map(|m| (&m["frame"], &m["by"], &m["direction"]))
        .collect();
    // Bob holds Alice (frame 74, a=sendonly, answered recvonly), then, on the REFER,
    // Alice holds Bob (frame 198, a=sendonly, answered inactive): two holds by two sides.
    assert_eq!(
        media,
        vec![
            (&json!(74), &json!("callee"), &json!("sendonly")),
            (&json!(198), &json!("caller"), &json!("sendonly")),
        ]
    );
}
