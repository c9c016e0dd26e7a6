//! The `sipxfer` command as a user runs it, over the captures in samples/ (made on
//! loopback by SIPp; see samples/README.md and samples/make-samples.sh).

mod common;

use common::{json, root, sample, sipxfer, sipxfer_stdin, snapshot, stderr, stdout};
use sipxfer::capture::write::PcapWriter;
use std::path::PathBuf;

#[test]
fn calls_lists_every_call_with_its_state() {
    let out = sipxfer(["calls", sample("calls-mixed-udp.pcapng").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    snapshot("calls-mixed-udp.txt", &stdout(&out));
}

#[test]
fn calls_json_has_each_dialog_field_by_field() {
    let out = sipxfer([
        "calls",
        "--format",
        "json",
        sample("calls-mixed-udp.pcapng").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["inputs"][0]["format"], "pcapng");
    assert_eq!(doc["stats"]["sip"]["messages"], 23);
    let dialogs = doc["dialogs"].as_array().expect("dialogs");
    let row = |call_id: &str| {
        dialogs
            .iter()
            .find(|d| {
                d["call_id"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(call_id)
            })
            .unwrap_or_else(|| panic!("no dialog {call_id}"))
    };
    // (answer, state, status, ended_by, first frame, last frame, messages)
    let expect = [
        (
            "mixed-call-1",
            "answered",
            "terminated",
            200,
            "caller",
            1,
            19,
            7,
        ),
        (
            "mixed-busy-1",
            "rejected",
            "terminated",
            486,
            "callee",
            6,
            9,
            4,
        ),
        (
            "mixed-cancel-1",
            "cancelled",
            "terminated",
            487,
            "caller",
            10,
            23,
            7,
        ),
    ];
    for (id, answer, state, status, by, first, last, messages) in expect {
        let d = row(id);
        assert_eq!(d["answer"], answer, "{id}");
        assert_eq!(d["state"], state, "{id}");
        assert_eq!(d["status"], status, "{id}");
        assert_eq!(d["ended_by"], by, "{id}");
        assert_eq!(d["first"]["frame"], first, "{id}");
        assert_eq!(d["last"]["frame"], last, "{id}");
        assert_eq!(d["messages"], messages, "{id}");
        assert!(d["to_tag"].is_string(), "{id}: both tags known");
    }
    let up = row("mixed-up-1");
    assert_eq!(
        (up["answer"].as_str(), up["state"].as_str()),
        (Some("answered"), Some("confirmed"))
    );
    assert_eq!(up["summary"], "answered, up at end of capture");
    assert_eq!(up["ending"], serde_json::Value::Null);
}

#[test]
fn messages_over_tcp_are_listed_at_the_frame_that_completes_them() {
    let out = sipxfer(["messages", sample("basic-call-tcp.pcap").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    snapshot("messages-basic-call-tcp.txt", &stdout(&out));
}

#[test]
fn messages_json_has_method_status_cseq_and_call_id() {
    let out = sipxfer([
        "messages",
        "--format",
        "json",
        sample("basic-call-udp.pcap").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    let messages = doc["messages"].as_array().expect("messages");
    let summary: Vec<String> = messages
        .iter()
        .map(|m| {
            let what = m["method"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| m["status"].to_string());
            format!(
                "{} {} {}",
                m["frame"],
                what,
                m["cseq"]["method"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(summary.len(), 7, "{summary:?}");
    assert_eq!(messages[0]["method"], "INVITE");
    assert_eq!(messages[0]["transport"], "udp");
    assert_eq!(messages[0]["time"], 0.0);
    assert!(messages.iter().all(|m| {
        m["call_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("basic-udp-1"))
    }));
    assert!(
        summary.iter().any(|s| s.ends_with("BYE BYE")),
        "{summary:?}"
    );
    assert_eq!(
        doc["stats"]["sip"]["non_sip_datagrams"], 10,
        "the RTP packets"
    );
    assert_eq!(doc["inputs"][0]["frames"], 17);
}

#[test]
fn standard_input_and_gzip_give_the_same_answer() {
    let path = sample("calls-mixed-udp.pcapng");
    let bytes = std::fs::read(&path).expect("sample");
    let plain = sipxfer(["calls", "--format", "json", path.to_str().unwrap()]);
    let piped = sipxfer_stdin(&["calls", "--format", "json", "-"], &bytes);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).expect("gzip");
    let gzipped = gz.finish().expect("gzip");
    let piped_gz = sipxfer_stdin(&["calls", "--format", "json", "-"], &gzipped);
    assert!(piped.status.success() && piped_gz.status.success());
    assert_eq!(json(&plain)["dialogs"], json(&piped)["dialogs"]);
    assert_eq!(json(&plain)["dialogs"], json(&piped_gz)["dialogs"]);
    assert_eq!(json(&piped_gz)["inputs"][0]["gzip"], true);
    assert_eq!(json(&piped_gz)["inputs"][0]["path"], "-");
}

#[test]
fn several_files_are_merged_and_each_frame_names_its_file() {
    let udp = sample("basic-call-udp.pcap");
    let tcp = sample("basic-call-tcp.pcap");
    let out = sipxfer([
        "messages",
        "--format",
        "json",
        udp.to_str().unwrap(),
        tcp.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    let messages = doc["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 14);
    assert_eq!(messages.iter().filter(|m| m["file"] == 1).count(), 7);
    let text = stdout(&sipxfer([
        "calls",
        udp.to_str().unwrap(),
        tcp.to_str().unwrap(),
    ]));
    assert!(text.contains("2:4-2:16"), "{text}");
    assert!(text.contains("Read 2 files"), "{text}");
    assert!(
        text.contains("2: ") && text.contains("basic-call-tcp.pcap"),
        "the files are listed by number: {text}"
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_one_clear_error() {
    let dir = std::env::temp_dir().join(format!("sipxfer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "INVITE is not a capture\n").expect("write");
    let out = sipxfer(["calls", text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("notes.txt") && err.contains("pcap"), "{err}");

    let missing = sipxfer(["calls", dir.join("missing.pcap").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("missing.pcap"));

    let usage = sipxfer(["calls"]);
    assert_eq!(usage.status.code(), Some(2), "no file is bad usage");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_capture_cut_short_is_analysed_up_to_the_cut_and_the_cut_reported() {
    let bytes = std::fs::read(sample("calls-mixed-udp.pcapng")).expect("sample");
    // Cut inside the last packet (the file ends with a 108-byte statistics block).
    let cut = &bytes[..bytes.len() - 160];
    let out = sipxfer_stdin(&["calls", "-"], cut);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Damaged or incomplete input"), "{text}");
    assert!(text.contains("frame 23 at byte"), "{text}");
    assert!(text.contains("22 SIP messages"), "{text}");
    assert!(
        text.contains("rejected 486"),
        "calls before the cut are there: {text}"
    );
}

#[test]
fn every_prefix_of_a_capture_is_handled_without_panic() {
    // The library, not the binary: 5,000 runs must stay fast.
    let bytes = std::fs::read(sample("basic-call-udp.pcap")).expect("sample");
    for len in 0..bytes.len() {
        let reader = Box::new(std::io::Cursor::new(bytes[..len].to_vec()));
        if let Ok(input) = sipxfer::capture::Input::from_reader("cut", 0, reader) {
            let a = sipxfer::analysis::run(
                vec![input],
                &sipxfer::analysis::Options::default(),
                &mut sipxfer::analysis::Quiet,
            );
            assert!(a.stats.sip.messages <= 7);
        }
    }
}

/// A UDP SIP message from 127.0.0.1:5060 to 127.0.0.2:5060 in an Ethernet frame.
fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64)
        .udp(5060, 5060);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, payload).expect("frame");
    frame
}

#[test]
fn bytes_from_the_wire_cannot_drive_the_terminal() {
    let invite = "INVITE sip:bob@127.0.0.2 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n\
        From: \"Evil\x1b]0;owned\x07\x1b[2J\" <sip:evil@127.0.0.1>;tag=1\r\n\
        To: <sip:bob@127.0.0.2>\r\n\
        Call-ID: \x1b[31mred\r\n\
        CSeq: 1 INVITE\r\n\
        Content-Length: 0\r\n\r\n";
    let mut pcap = PcapWriter::new(Vec::new(), 1).expect("writer");
    pcap.write_packet(1_000_000_000, &udp_frame(invite.as_bytes()))
        .expect("packet");
    let bytes = pcap.into_inner();
    for command in ["calls", "messages"] {
        let out = sipxfer_stdin(&[command, "--color", "always", "-"], &bytes);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("\\x1b[31mred"), "{command}: {text}");
        // The only escape sequences left are our own colours (ESC [ digits m).
        for (at, _) in text.match_indices('\x1b') {
            let rest = &text[at + 1..];
            let ok = rest.starts_with('[')
                && rest[1..].find('m').is_some_and(|m| {
                    rest[1..1 + m]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ';')
                });
            assert!(ok, "{command}: raw escape from the wire at {at}: {text:?}");
        }
        assert!(!text.contains('\x07'), "{command}: raw BEL");
    }
}

#[test]
fn no_color_means_no_escape_codes() {
    let out = sipxfer(["calls", sample("calls-mixed-udp.pcapng").to_str().unwrap()]);
    assert!(!stdout(&out).contains('\x1b'));
    let forced = sipxfer([
        "calls",
        "--color",
        "always",
        sample("calls-mixed-udp.pcapng").to_str().unwrap(),
    ]);
    assert!(stdout(&forced).contains('\x1b'));
}

#[test]
fn gzip_read_on_its_own_thread_gives_the_same_answer_as_in_place() {
    let bytes = std::fs::read(sample("xfer-attended-replaces-udp.pcap")).expect("sample");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).expect("gzip");
    let dir = std::env::temp_dir().join(format!("sipxfer-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("capture.pcap.gz");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let path = path.to_str().unwrap();
    let threaded = sipxfer(["analyze", "--format", "json", path, path]);
    let in_place = sipxfer(["analyze", "--format", "json", "--single-thread", path, path]);
    assert!(threaded.status.success() && in_place.status.success());
    assert_eq!(stdout(&threaded), stdout(&in_place));
    assert_eq!(json(&threaded)["inputs"][1]["gzip"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every file is read on a thread of its own (the plain RTP set aside there), and the
/// answer is byte for byte the one of a single thread: for each sample and public
/// capture alone, for all the samples at once (a ring buffer of sorts: their times do
/// not overlap), for captures whose times overlap, and for every public capture at once
/// (the public ones when they are present).
#[test]
fn files_read_on_threads_give_the_same_answer_as_one_thread() {
    let mut runs: Vec<Vec<PathBuf>> = Vec::new();
    let mut samples: Vec<PathBuf> = std::fs::read_dir(root().join("samples"))
        .expect("samples")
        .chain(std::fs::read_dir(root().join("samples/faults")).expect("faults"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    samples.sort();
    assert!(samples.len() > 30, "{samples:?}");
    let public = common::public_captures();
    // Each capture alone, then all of them at once.
    runs.extend(samples.iter().chain(&public).map(|p| vec![p.clone()]));
    runs.push(samples);
    let one = sample("xfer-two-transfers-udp.pcap");
    runs.push(vec![one.clone(), sample("calls-mixed-udp.pcapng"), one]);
    if !public.is_empty() {
        runs.push(public);
    }
    for files in &runs {
        let files: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
        for command in [
            &["analyze", "--format", "json"][..],
            &["analyze", "--ladder"],
            &["calls", "--format", "json"],
            &["messages", "--format", "json"],
        ] {
            let threaded = sipxfer(command.iter().chain(&files));
            let single = sipxfer(command.iter().chain(&["--single-thread"]).chain(&files));
            assert!(threaded.status.success(), "{}", stderr(&threaded));
            assert_eq!(
                stdout(&threaded),
                stdout(&single),
                "{command:?} over {} files",
                files.len()
            );
        }
    }
}

/// README.md shows real output: each `$ sipxfer ...` block in it must be what the
/// command prints today (the ladder block shows only its ladder part).
#[test]
fn the_readme_shows_real_output() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let mut checked = 0;
    for block in readme.split("```\n$ sipxfer ").skip(1) {
        let Some((command, rest)) = block.split_once('\n') else {
            continue;
        };
        let Some(shown) = rest.split("```").next() else {
            continue;
        };
        if shown.starts_with("...") {
            continue;
        }
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipxfer"))
            .args(&args)
            .current_dir(common::root())
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        assert_eq!(
            stdout(&out).trim_end(),
            shown.trim_end(),
            "README block `sipxfer {command}`"
        );
        checked += 1;
    }
    assert!(checked >= 2, "README blocks checked: {checked}");
}

#[test]
fn a_capture_alone_means_analyze() {
    let path = sample("xfer-blind-completed-udp.pcap");
    let plain = sipxfer([path.to_str().unwrap()]);
    let analyze = sipxfer(["analyze", path.to_str().unwrap()]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert_eq!(stdout(&plain), stdout(&analyze));
    // Options before the file mean analyze too (issue 10 item 11); a typo of a
    // command is still an error.
    let json = sipxfer(["--format", "json", path.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    assert_eq!(
        stdout(&json),
        stdout(&sipxfer([
            "analyze",
            path.to_str().unwrap(),
            "--format",
            "json"
        ]))
    );
    assert_eq!(sipxfer(["nosuchfile.pcap"]).status.code(), Some(2));
    assert!(stdout(&sipxfer(["--help"])).contains("analyze"));
}

/// A message counts as cut by the capture only when its datagram runs past the bytes
/// captured, not whenever a record claims a longer packet than it holds (as in
/// xfer-2views-loopback-truncated-records.pcapng, whose complete datagrams are each
/// recorded 28 bytes longer than they are).
#[test]
fn only_a_datagram_that_runs_past_the_captured_bytes_is_cut_by_the_capture() {
    let options = "OPTIONS sip:bob@127.0.0.2 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcut\r\n\
        From: <sip:alice@127.0.0.1>;tag=1\r\n\
        To: <sip:bob@127.0.0.2>\r\n\
        Call-ID: cut-1\r\n\
        CSeq: 1 OPTIONS\r\n\
        Content-Length: 0\r\n\r\n";
    let frame = udp_frame(options.as_bytes());
    let long = u32::try_from(frame.len() + 28).expect("length");
    let mut pcap = PcapWriter::new(Vec::new(), 1).expect("writer");
    // Complete, though the record says 28 bytes more.
    pcap.write_record(1_000_000_000, &frame, long)
        .expect("record");
    // Really cut: the headers' end is missing.
    pcap.write_record(2_000_000_000, &frame[..frame.len() - 30], long)
        .expect("record");
    let out = sipxfer_stdin(&["messages", "--format", "json", "-"], &pcap.into_inner());
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["stats"]["sip"]["messages"], 2);
    assert_eq!(doc["stats"]["sip"]["cut_by_capture"], 1);
    assert_eq!(doc["stats"]["net"]["truncated_packets"], 1);
    assert_eq!(doc["inputs"][0]["snapped_frames"], 2);
}
