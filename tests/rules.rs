//! The rules as a CI pipeline uses them: `check` and its exit codes, rule levels from
//! the command line and from sipxfer.toml, `explain` and `rules`. The captures are the
//! SIPp samples (samples/README.md) and, for each rule, the SIPp fault captures in
//! samples/faults/ (samples/faults/README.md says how each was made).

mod common;

use common::{json, sample, sipxfer, stderr, stdout};

fn codes(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn check_exit_codes_follow_fail_on() {
    let clean = sample("xfer-blind-completed-udp.pcap");
    let clean = clean.to_str().unwrap();
    // Its only finding is X107 (202 to REFER), at info level.
    let out = sipxfer(["check", clean]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("X107"));
    assert_eq!(
        sipxfer(["check", "--fail-on", "info", clean]).status.code(),
        Some(1)
    );
    assert_eq!(
        sipxfer(["check", "--deny", "X107", clean]).status.code(),
        Some(1)
    );
    assert_eq!(
        sipxfer([
            "check",
            "--fail-on",
            "info",
            "--allow",
            "refer-accepted-202",
            clean
        ])
        .status
        .code(),
        Some(0)
    );
    let lost = sample("xfer-transferor-hangs-up-early-udp.pcap");
    let lost = lost.to_str().unwrap();
    assert_eq!(
        sipxfer(["check", lost]).status.code(),
        Some(0),
        "X501 is a warning"
    );
    let out = sipxfer(["check", "--fail-on", "warning", lost]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("X501") && stdout(&out).contains("FAIL"));
    // Bad usage and unreadable input are 2, never 1.
    assert_eq!(
        sipxfer(["check", "--deny", "X999", clean]).status.code(),
        Some(2)
    );
    assert_eq!(
        sipxfer(["check", "/nonexistent.pcap"]).status.code(),
        Some(2)
    );
}

#[test]
fn check_json_is_the_analyze_document() {
    let path = sample("xfer-transferor-hangs-up-early-udp.pcap");
    let check = sipxfer(["check", "--format", "json", path.to_str().unwrap()]);
    let analyze = sipxfer(["analyze", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(json(&check), json(&analyze));
    let doc = json(&check);
    assert_eq!(codes(&doc), vec!["X107", "X501"]);
    let lost = &doc["findings"][1];
    assert_eq!(lost["severity"], "warning");
    assert_eq!(lost["rfc"], "RFC 5589 §6, §7");
    assert_eq!(lost["frames"], serde_json::json!([12, 15]));
    assert_eq!(lost["transfer"], 1);
    assert_eq!(doc["transfers"][0]["findings"][1]["rule"], "X501");
}

#[test]
fn the_config_file_sets_levels_and_trusted_domains() {
    let dir = std::env::temp_dir().join(format!("sipxfer-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("sipxfer.toml");
    let path = sample("xfer-blind-completed-udp.pcap");
    let path = path.to_str().unwrap();

    std::fs::write(&config, "trusted-domains = [\"example.com\"]\n").expect("write");
    let doc = json(&sipxfer([
        "check",
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
        path,
    ]));
    assert!(
        codes(&doc).contains(&"X701".to_string()),
        "{:?}",
        codes(&doc)
    );

    std::fs::write(
        &config,
        "trusted-domains = [\"127.0.0.0/8\"]\nallow = [\"X107\"]\nfail-on = \"info\"\n",
    )
    .expect("write");
    // Run where the file is, as sipxfer.toml in the current directory.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(["check", path])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("X701") && !stdout(&out).contains("X107"));

    std::fs::write(&config, "deny = [\"X107\"\n").expect("write");
    let out = sipxfer(["check", "--config", config.to_str().unwrap(), path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("sipxfer.toml: line 1"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_rule_is_listed_and_explained() {
    let list = json(&sipxfer(["rules", "--format", "json"]));
    let rules = list["rules"].as_array().expect("rules");
    assert!(rules.len() >= 30);
    let text = stdout(&sipxfer(["rules"]));
    for r in rules {
        let code = r["code"].as_str().expect("code");
        assert!(text.contains(code));
        let out = sipxfer(["explain", code]);
        assert!(out.status.success());
        let explained = stdout(&out);
        assert!(explained.starts_with(code), "{explained}");
        assert!(explained.contains(r["rfc"].as_str().expect("rfc")));
        assert!(explained.contains("Usual cause:") && explained.contains("Fix or work around:"));
        let by_name = sipxfer(["explain", r["name"].as_str().expect("name")]);
        assert_eq!(stdout(&by_name), explained);
    }
    let unknown = sipxfer(["explain", "X000"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("sipxfer rules"));
}

#[test]
fn clean_samples_raise_no_error() {
    for file in [
        "xfer-blind-completed-udp.pcap",
        "xfer-blind-failed-target-busy-udp.pcap",
        "xfer-attended-replaces-udp.pcap",
        "xfer-blind-via-proxy-udp.pcap",
        "xfer-blind-completed-tcp.pcap",
        "xfer-semi-attended-udp.pcap",
        "xfer-refer-sub-false-udp.pcap",
        "calls-mixed-udp.pcapng",
        "basic-call-tcp.pcap",
        "tcp-pipelined-segments.pcap",
    ] {
        let doc = json(&sipxfer([
            "check",
            "--format",
            "json",
            sample(file).to_str().unwrap(),
        ]));
        let unexpected: Vec<String> = codes(&doc).into_iter().filter(|c| c != "X107").collect();
        assert!(unexpected.is_empty(), "{file}: {unexpected:?}");
    }
}

/// Each fault capture (samples/faults/, made by SIPp phones that reproduce one fault;
/// samples/faults/README.md) fires its rule at the frames given, and nothing else but
/// X107, which the 202 of their base flow carries.
#[test]
fn every_rule_fires_on_its_fault_capture() {
    /// A rule code and the frames it points at.
    type Fired = (&'static str, &'static [u64]);
    let expected: &[(&str, &[Fired])] = &[
        ("ok107-refer-answered-200", &[]),
        ("x101-refer-to-missing", &[("X101", &[6])]),
        ("x102-refer-to-multiple", &[("X102", &[6])]),
        ("x103-refer-to-invalid-uri", &[("X103", &[6])]),
        ("x104-refer-to-empty-user", &[("X104", &[6])]),
        ("x105-refer-in-early-dialog", &[("X105", &[4])]),
        (
            "x201-replaces-without-tags",
            &[("X201", &[11]), ("X201", &[15])],
        ),
        (
            "x202-replaces-empty-tags",
            &[("X202", &[11]), ("X202", &[15])],
        ),
        ("x203-replaces-in-bye", &[("X203", &[17])]),
        ("x204-replaces-multiple", &[("X204", &[15])]),
        ("x205-replaces-ignored", &[("X205", &[17])]),
        ("x206-replaced-dialog-not-captured", &[("X206", &[6])]),
        ("x301-refer-accepted-no-notify", &[("X301", &[7])]),
        (
            "x302-notify-without-event",
            &[("X302", &[8]), ("X302", &[15])],
        ),
        ("x303-notify-body-not-sipfrag", &[("X303", &[8])]),
        ("x304-notify-without-subscription-state", &[("X304", &[8])]),
        ("x305-final-status-subscription-active", &[("X305", &[15])]),
        ("x306-terminated-reason-timeout", &[("X306", &[15])]),
        ("x307-subscription-state-malformed", &[("X307", &[15])]),
        (
            "x308-notify-without-id",
            &[("X308", &[18]), ("X308", &[25])],
        ),
        ("x309-notify-after-termination", &[("X309", &[17])]),
        ("x310-cseq-not-increasing", &[("X310", &[8])]),
        ("x311-sipfrag-contradicts-responses", &[("X311", &[14])]),
        ("x312-notify-despite-refer-sub-false", &[("X312", &[8, 15])]),
        ("x401-referred-by-not-copied", &[("X401", &[10])]),
        (
            "x501-released-before-outcome-caller-lost",
            &[("X501", &[12, 15])],
        ),
        ("x601-content-length-mismatch", &[("X601", &[8])]),
    ];
    let mut failures = Vec::new();
    for (name, want) in expected {
        let path = common::root().join(format!("samples/faults/{name}.pcap"));
        let doc = json(&sipxfer([
            "check",
            "--format",
            "json",
            path.to_str().unwrap(),
        ]));
        let got: Vec<(String, Vec<u64>)> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] != "X107")
            .map(|f| {
                let frames = f["frames"].as_array().expect("frames");
                (
                    f["rule"].as_str().unwrap_or_default().to_string(),
                    frames.iter().filter_map(|x| x.as_u64()).collect(),
                )
            })
            .collect();
        let want: Vec<(String, Vec<u64>)> = want
            .iter()
            .map(|(code, frames)| (code.to_string(), frames.to_vec()))
            .collect();
        if got != want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Which rules fire on the public captures, each checked by reading the capture (see
/// tests/expected/public-findings.md): pinned so a change of behaviour is a decision.
#[test]
fn public_captures_fire_the_rules_read_in_them() {
    // Every capture in ../shared/captures/public, with the codes `check --format json`
    // lists for it, in that order (tests/expected/public-findings.md checks each one
    // against the capture).
    let expected: &[(&str, &[&str])] = &[
        ("corrupt-mixed-endian-header.pcap", &[]),
        ("gtp-ipv6-tcp-sll.pcap", &[]),
        ("invalid-content-length.pcap", &["X601", "X601"]),
        ("ipip-tunnel-tcp.pcap", &[]),
        ("ipv4-linktype228.pcap", &[]),
        ("junk-before-request.pcap", &[]),
        ("pppoe-sip.pcap", &["X602", "X602", "X602"]),
        ("rawip-linktype.pcap", &[]),
        ("sctp-sip-sll.pcap", &[]),
        ("tcp-sip-invite-over-3-segments.pcap", &[]),
        ("tcp-sip-large-body-loopback.pcap", &[]),
        ("tcp-sip-retransmissions-sll.pcap", &[]),
        ("tcp-sip-split-segments-port6060.pcap", &[]),
        ("udp-ipv4-frag-incomplete.pcap", &[]),
        ("udp-ipv4-frag-invite.pcapng", &[]),
        ("udp-ipv6-frag-sll.pcap", &["X310"]),
        ("udp-ipv6.pcap", &[]),
        ("utf8-latin1-headers.pcap", &[]),
        ("vlan-qinq-pppoe-gre-multiif.pcapng", &[]),
        ("websocket-sip-tcp.pcap", &[]),
        ("xfer-2views-ethernet.pcapng", &["X107", "X307"]),
        ("xfer-2views-loopback-truncated-records.pcapng", &[]),
        (
            "xfer-attended-opensips-3cx-sll.pcap",
            &["X107", "X304", "X401"],
        ),
        ("xfer-attended-refer-rejected-erspan.pcapng", &[]),
        ("xfer-blind-device-vantage.pcapng", &["X107", "X301"]),
        ("xfer-blind-linux-2if-enp2s0-lo.pcapng", &["X107", "X307"]),
        ("xfer-blind-macos-2if-en0-lo0.pcapng", &["X107", "X307"]),
        ("xfer-blind-npcap-2if-ipfrag.pcapng", &["X107", "X307"]),
        ("xfer-blind-old-linphone-android.pcapng", &["X107", "X307"]),
        (
            "xfer-blind-opensips-3cx-sll.pcap",
            &["X107", "X304", "X401"],
        ),
        ("xfer-blind-proxy-minimal.pcap", &["X107", "X307"]),
        ("xfer-blind-proxy-vantage.pcapng", &["X107", "X307"]),
        ("xfer-blind-zoiper-linphone.pcapng", &["X107", "X307"]),
        ("xfer-blind-zoiper-small.pcap", &["X107", "X307"]),
        (
            "xfer-notify-stuck-100-loopback.pcapng",
            &["X107", "X313", "X314"],
        ),
        ("xfer-refer-no-notify-eth.pcapng", &["X107", "X301"]),
        // No X301: the capture shows no in-dialog request of the transferee at all (not
        // even the ACK of its new call), so a NOTIFY could have gone unseen.
        ("xfer-refer-no-notify-ipfrag.pcap", &["X107"]),
        ("xfer-refer-retrans-202-storm.pcapng", &["X107", "X307"]),
        ("xfer-refer-retrans-lossy.pcap", &["X106", "X107", "X307"]),
        (
            "xfer-two-transfers-ipfrag.pcapng",
            &["X107", "X307", "X107", "X307"],
        ),
    ];
    for (name, want) in expected {
        let Some(path) = common::public(name) else {
            continue;
        };
        let doc = json(&sipxfer([
            "check",
            "--format",
            "json",
            path.to_str().unwrap(),
        ]));
        assert_eq!(codes(&doc), *want, "{name}");
    }
    for path in common::public_captures() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            expected.iter().any(|(pinned, _)| *pinned == name),
            "{name} is in ../shared/captures/public but its codes are not pinned here"
        );
    }
}

/// README.md's rule table lists every rule, with the code, name, severity, RFC and
/// summary `sipxfer rules --format json` gives, in catalog order.
#[test]
fn the_readme_rule_table_is_the_catalog() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let rows: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("| X"))
        .map(str::to_string)
        .collect();
    let doc = json(&sipxfer(["rules", "--format", "json"]));
    let want: Vec<String> = doc["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            format!(
                "| {} | `{}` | {} | {} | {} |",
                r["code"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
                r["severity"].as_str().unwrap_or_default(),
                r["rfc"].as_str().unwrap_or_default(),
                r["summary"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(rows, want);
}

/// X301 rests on what the capture can see: the NOTIFYs follow the dialog's route set,
/// like every in-dialog request of the transferee. The same SIPp capture with the
/// transferee's in-dialog requests taken out (its ACKs and its BYE: frames 5, 12 and 15,
/// as when a Record-Route sends them through an interface not captured) shows no
/// more that a NOTIFY is missing, and the progress phase says why.
#[test]
fn a_missing_notify_counts_only_where_the_transferees_requests_are_seen() {
    let path = sample("faults/x301-refer-accepted-no-notify.pcap");
    let whole = json(&sipxfer([
        "check",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    assert_eq!(codes(&whole), ["X107", "X301"]);

    let mut input = sipxfer::capture::Input::open(path.to_str().unwrap(), 0).expect("sample");
    let mut w = sipxfer::capture::write::PcapWriter::new(Vec::new(), 1).expect("header");
    while let Some(frame) = input.next_frame() {
        if ![5, 12, 15].contains(&frame.number) {
            w.write_record(frame.ts_ns, frame.data, frame.orig_len)
                .expect("record");
        }
    }
    let dir = std::env::temp_dir().join(format!("sipxfer-x301-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cut = dir.join("x301-transferee-unseen.pcap");
    std::fs::write(&cut, w.into_inner()).expect("write");
    let doc = json(&sipxfer([
        "check",
        "--format",
        "json",
        cut.to_str().unwrap(),
    ]));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(codes(&doc), ["X107"]);
    let progress = doc["transfers"][0]["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .find(|p| p["number"] == 4)
        .expect("phase 4")
        .clone();
    assert!(
        progress["reason"]
            .as_str()
            .is_some_and(|m| m.contains("nor any in-dialog request of the transferee")),
        "{progress}"
    );
}
