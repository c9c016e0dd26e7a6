//! `sipxfer export`: for every transfer of every transfer sample, the exported capture
//! holds exactly that transfer's SIP messages (tshark sees the same Call-IDs, as many
//! times as sipxfer saw them in the input), and sipxfer analyses the export to the same
//! transfer (kind, outcome, status, REFER, new call). The tshark half skips, saying
//! so, when tshark is not installed.

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, root, sample, sipxfer, skipped, stderr, stdout};

fn tshark_present() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Call-ID of every SIP message tshark sees in a capture.
fn tshark_call_ids(file: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(file)
        .args(["-Y", "sip", "-T", "fields", "-e", "sip.Call-ID"])
        .output()
        .expect("tshark runs");
    // A frame with several messages (pipelined on TCP) lists their Call-IDs with commas.
    stdout(&out)
        .lines()
        .flat_map(|l| l.split(','))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn analyze(file: &Path) -> serde_json::Value {
    json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        file.as_os_str(),
    ]))
}

/// What makes a transfer the same transfer in another capture.
fn identity(t: &serde_json::Value) -> String {
    format!(
        "{} {} {} refer {} cseq {} new call {} consultation {}",
        t["kind"],
        t["outcome"],
        t["status"],
        t["refer"]["call_id"],
        t["refer"]["cseq"],
        t["new_call"]["call_id"],
        t["consultation_call"]["call_id"]
    )
}

fn call_ids(t: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = [
        &t["original_call"]["call_id"],
        &t["consultation_call"]["call_id"],
        &t["new_call"]["call_id"],
        &t["refer"]["call_id"],
    ]
    .iter()
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn each_transfer_exports_to_a_capture_of_its_own() {
    let tshark = tshark_present();
    if !tshark {
        skipped("tshark is not installed: exports are not checked against tshark");
    }
    let dir = root().join("target/export-check");
    std::fs::create_dir_all(&dir).expect("target/export-check is made");
    let mut samples: Vec<String> = std::fs::read_dir(root().join("samples"))
        .expect("samples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("xfer-") && n.ends_with(".pcap"))
        .collect();
    samples.sort();
    let mut checked = 0;
    for name in &samples {
        let file = sample(name);
        let doc = analyze(&file);
        let messages = stdout(&sipxfer([
            "messages".as_ref(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            file.as_os_str(),
        ]));
        let seen: Vec<String> = messages
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|m| m["call_id"].as_str().map(str::to_string))
            .collect();
        for t in doc["transfers"].as_array().expect("transfers") {
            let id = t["id"].to_string();
            let out = dir.join(format!("{name}-{id}.pcap"));
            let run = sipxfer([
                "export".as_ref(),
                "--transfer".as_ref(),
                id.as_ref(),
                "-o".as_ref(),
                out.as_os_str(),
                file.as_os_str(),
            ]);
            assert!(run.status.success(), "{name} {id}: {}", stderr(&run));
            let ids = call_ids(t);
            let expected: Vec<&String> = seen.iter().filter(|c| ids.contains(c)).collect();
            assert!(
                stdout(&run).contains(&format!("({} SIP messages)", expected.len())),
                "{name} {id}: {}",
                stdout(&run)
            );
            // sipxfer reads the export as the same transfer.
            let again = analyze(&out);
            let same = again["transfers"]
                .as_array()
                .expect("transfers")
                .iter()
                .any(|u| identity(u) == identity(t));
            assert!(
                same,
                "{name} transfer {id} ({}) is not in its export",
                identity(t)
            );
            // tshark sees exactly its messages.
            if tshark {
                let mut got = tshark_call_ids(&out);
                got.sort();
                let mut want: Vec<String> = expected.into_iter().cloned().collect();
                want.sort();
                assert_eq!(got, want, "{name} transfer {id}: tshark's SIP messages");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} transfers checked");
}

#[test]
fn one_call_exports_alone_and_frames_are_mapped() {
    let dir = root().join("target/export-check");
    std::fs::create_dir_all(&dir).expect("target/export-check is made");
    let out = dir.join("one-call.pcap");
    let file = sample("calls-mixed-udp.pcapng");
    let run = sipxfer([
        "export".as_ref(),
        "--call".as_ref(),
        "mixed-busy".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        file.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let doc = json(&run);
    assert_eq!(doc["call_ids"][0], "mixed-busy-1@sipxfer.test");
    assert_eq!(doc["sip_messages"], 4);
    let frames = doc["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0]["frame"], 1);
    assert_eq!(frames[0]["original_frame"], 6);
    let calls = json(&sipxfer([
        "calls".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        out.as_os_str(),
    ]));
    assert_eq!(calls["dialogs"].as_array().map(Vec::len), Some(1));
    // A prefix that names several calls, and a transfer that is not there, are refused.
    let many = sipxfer([
        "export".as_ref(),
        "--call".as_ref(),
        "mixed".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(many.status.code(), Some(2));
    assert!(stderr(&many).contains("Call-IDs start with mixed"));
    let none = sipxfer([
        "export".as_ref(),
        "--transfer".as_ref(),
        "9".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        file.as_os_str(),
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("there is no transfer 9"));
}

#[test]
fn frames_of_two_link_types_export_as_pcapng() {
    use sipxfer::capture::Input;
    use sipxfer::capture::write::PcapWriter;
    // The blind sample split in two files: its first 10 frames as Ethernet, the rest
    // as raw IP (the Ethernet header cut off), merged again by timestamp.
    let dir = root().join("target/export-check");
    std::fs::create_dir_all(&dir).expect("target/export-check is made");
    let source = sample("xfer-blind-completed-udp.pcap");
    let mut input = Input::open(&source.to_string_lossy(), 0).expect("the sample opens");
    let mut ether = PcapWriter::new(Vec::new(), 1).expect("pcap");
    let mut raw = PcapWriter::new(Vec::new(), 101).expect("pcap");
    let mut n = 0;
    while let Some(frame) = input.next_frame() {
        n += 1;
        if n <= 10 {
            ether
                .write_packet(frame.ts_ns, frame.data)
                .expect("written");
        } else {
            raw.write_packet(frame.ts_ns, &frame.data[14..])
                .expect("written");
        }
    }
    let (a, b) = (dir.join("split-ether.pcap"), dir.join("split-raw.pcap"));
    std::fs::write(&a, ether.into_inner()).expect("written");
    std::fs::write(&b, raw.into_inner()).expect("written");
    let out = dir.join("split.pcapng");
    let run = sipxfer([
        "export".as_ref(),
        "--transfer".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        a.as_os_str(),
        b.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("pcapng"), "{}", stdout(&run));
    assert!(stdout(&run).contains("     11  2:1\n"), "{}", stdout(&run));
    let bytes = std::fs::read(&out).expect("the export");
    assert!(bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]), "pcapng");
    let original = analyze(&source);
    let again = analyze(&out);
    assert_eq!(
        identity(&original["transfers"][0]),
        identity(&again["transfers"][0])
    );
    if tshark_present() {
        assert_eq!(
            tshark_call_ids(&out).len(),
            tshark_call_ids(&source).len(),
            "tshark reads the pcapng"
        );
    } else {
        skipped("tshark is not installed: the pcapng export is not read by tshark");
    }
}

#[test]
fn a_call_on_tcp_exports_every_segment_of_its_messages() {
    // Three responses in one segment and messages across segments.
    let dir = root().join("target/export-check");
    std::fs::create_dir_all(&dir).expect("target/export-check is made");
    let out = dir.join("tcp-pipelined.pcap");
    let file = sample("tcp-pipelined-segments.pcap");
    let run = sipxfer([
        "export".as_ref(),
        "--call".as_ref(),
        "tcp-pipelined".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let count = |f: &Path| {
        stdout(&sipxfer([
            "messages".as_ref(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            f.as_os_str(),
        ]))
        .lines()
        .count()
    };
    assert_eq!(count(&out), count(&file));
    if tshark_present() {
        assert_eq!(tshark_call_ids(&out), tshark_call_ids(&file));
    } else {
        skipped("tshark is not installed: the TCP export is not read by tshark");
    }
}

#[test]
fn with_media_adds_the_rtp_and_rtcp_their_sdp_offers() {
    // baresip's blind transfer: the capture holds that transfer's calls and their media.
    let dir = root().join("target/export-check");
    std::fs::create_dir_all(&dir).expect("target/export-check is made");
    let file = sample("xfer-blind-baresip-udp.pcap");
    let export = |media: bool| {
        let out = dir.join(format!("baresip-media-{media}.pcap"));
        let mut args = vec![
            "export".as_ref(),
            "--transfer".as_ref(),
            "1".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ];
        if media {
            args.push("--with-media".as_ref());
        }
        args.push(file.as_os_str());
        let doc = json(&sipxfer(args));
        (out, doc)
    };
    let (plain, doc) = export(false);
    assert_eq!(doc["media_frames"], 0);
    let (with_media, doc) = export(true);
    assert!(doc["media_frames"].as_u64().unwrap_or(0) > 100, "{doc}");
    if !tshark_present() {
        skipped("tshark is not installed: the media export is not read by tshark");
        return;
    }
    let media = |f: &Path| {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(f)
            .args(["-Y", "rtp || rtcp"])
            .output()
            .expect("tshark runs");
        stdout(&out).lines().count()
    };
    assert_eq!(media(&plain), 0);
    assert_eq!(media(&with_media), media(&file));
    assert_eq!(
        Some(media(&with_media) as u64),
        doc["media_frames"].as_u64()
    );
}
