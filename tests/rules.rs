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
    // No finding by default: X107 (202 to REFER) is off until turned on.
    let out = sipxfer(["check", clean]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("X107"));
    assert_eq!(
        sipxfer(["check", "--fail-on", "info", clean]).status.code(),
        Some(0)
    );
    let warned = sipxfer(["check", "--warn", "X107", clean]);
    assert_eq!(
        warned.status.code(),
        Some(0),
        "a warning passes --fail-on error"
    );
    assert!(stdout(&warned).contains("X107"));
    assert_eq!(
        sipxfer(["check", "--fail-on", "warning", "--warn", "X107", clean])
            .status
            .code(),
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
    // The document of analyze, plus the verdict.
    let mut doc = json(&check);
    let verdict = doc
        .as_object_mut()
        .map(|d| (d.remove("verdict"), d.remove("fail_on"), d.remove("counts")));
    assert_eq!(doc, json(&analyze));
    assert_eq!(
        verdict,
        Some((
            Some(serde_json::json!("pass")),
            Some(serde_json::json!("error")),
            Some(serde_json::json!({"error": 0, "warning": 2, "info": 0})),
        ))
    );
    let failing = json(&sipxfer([
        "check",
        "--format",
        "json",
        "--fail-on",
        "warning",
        path.to_str().unwrap(),
    ]));
    assert_eq!(failing["verdict"], "fail");
    assert_eq!(failing["fail_on"], "warning");
    assert_eq!(codes(&doc), vec!["X315", "X501"]);
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

/// Every sample capture in samples/ (SIPp and real UAs, samples/README.md) with the
/// codes `check` lists for it: the clean captures no rule may fire on, and the two
/// whose findings are the point (the transferor hanging up early; linphone's malformed
/// Subscription-State). Every new rule is held to staying silent on the clean ones.
const SAMPLE_FINDINGS: &[(&str, &[&str])] = &[
    // Through a B2BUA (issue 14): the SBC rewrote the relayed REFER's Referred-By.
    ("b2bua-pbx-attended-udp.pcap", &[]),
    ("b2bua-pbx-blind-udp.pcap", &[]),
    ("b2bua-sbc-attended-udp.pcap", &["X402"]),
    ("basic-call-tcp.pcap", &[]),
    ("basic-call-udp.pcap", &[]),
    ("calls-mixed-udp.pcapng", &[]),
    ("tcp-pipelined-segments.pcap", &[]),
    ("xfer-attended-linphone-udp.pcap", &["X307"]),
    ("xfer-attended-replaces-udp.pcap", &[]),
    ("xfer-blind-baresip-udp.pcap", &[]),
    ("xfer-blind-completed-tcp.pcap", &[]),
    ("xfer-blind-completed-udp.pcap", &[]),
    ("xfer-blind-failed-404-udp.pcap", &[]),
    ("xfer-blind-failed-target-busy-udp.pcap", &[]),
    ("xfer-blind-via-proxy-udp.pcap", &[]),
    ("xfer-chained-udp.pcap", &[]),
    ("xfer-out-of-dialog-refer-udp.pcap", &[]),
    ("xfer-refer-rejected-udp.pcap", &[]),
    ("xfer-refer-sub-false-udp.pcap", &[]),
    ("xfer-semi-attended-udp.pcap", &[]),
    ("xfer-transferor-hangs-up-early-udp.pcap", &["X315", "X501"]),
    ("xfer-two-transfers-udp.pcap", &[]),
];

#[test]
fn clean_samples_raise_no_finding() {
    for (file, want) in SAMPLE_FINDINGS {
        let doc = json(&sipxfer([
            "check",
            "--format",
            "json",
            sample(file).to_str().unwrap(),
        ]));
        assert_eq!(codes(&doc), *want, "{file}");
    }
    let on_disk: Vec<String> = std::fs::read_dir(common::root().join("samples"))
        .expect("samples")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    for name in &on_disk {
        assert!(
            SAMPLE_FINDINGS.iter().any(|(f, _)| f == name),
            "samples/{name} is not pinned in SAMPLE_FINDINGS"
        );
    }
}

/// A rule code and the frames it points at.
type Fired = (&'static str, &'static [u64]);

/// Every fault capture in samples/faults/ (without `.pcap`), with the findings it
/// fires by default: the pins [`every_rule_fires_on_its_fault_capture`] holds them
/// to, and through which [`every_rule_has_all_its_pieces`] finds each rule's capture.
const FAULT_CAPTURES: &[(&str, &[Fired])] = &[
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
        &[("X315", &[17, 18]), ("X501", &[12, 15])],
    ),
    ("x601-content-length-mismatch", &[("X601", &[8])]),
    (
        "x313-notify-unanswered",
        &[("X313", &[8, 10]), ("X313", &[16, 18])],
    ),
    ("x108-refer-challenge-not-retried", &[("X108", &[6, 7])]),
    ("x207-replaces-unmatched-accepted", &[("X207", &[15, 17])]),
    ("x208-replaces-rejected-481", &[("X208", &[15, 17])]),
    ("x209-replaces-tags-swapped", &[("X209", &[15])]),
    ("x315-notify-rejected-after-release", &[("X315", &[17, 18])]),
    ("x402-referred-by-changed", &[("X402", &[6, 10])]),
    ("x502-new-call-2xx-not-acked", &[("X502", &[13, 18])]),
    ("x503-attended-downgraded-to-blind", &[("X503", &[6, 11])]),
    ("x603-input-damaged", &[("X603", &[20])]),
    ("x314-no-final-notify", &[("X314", &[15])]),
    ("x109-refer-too-many-hops", &[("X109", &[6, 7])]),
    ("x210-replaces-dialog-already-ended", &[("X210", &[11, 17])]),
    ("x110-refer-in-dialog-without-to-tag", &[("X110", &[6])]),
    ("x316-notify-id-not-refer-cseq", &[("X316", &[10, 17])]),
];

/// Each fault capture (samples/faults/, made by SIPp phones that reproduce one fault;
/// samples/faults/README.md) fires its rule at the frames given, and nothing else (X107,
/// which the 202 of their base flow carries, is off by default).
#[test]
fn every_rule_fires_on_its_fault_capture() {
    let mut failures = Vec::new();
    for (name, want) in FAULT_CAPTURES {
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

/// Every capture in ../shared/captures/public, with the codes `check --format json`
/// lists for it, in that order (tests/expected/public-findings.md checks each one
/// against the capture).
const PUBLIC_FINDINGS: &[(&str, &[&str])] = &[
    // No readable frame: `check` exits 2 (check_refuses_a_file_with_no_readable_frame);
    // analyze reports the damage as X603 at the record it could not read.
    ("corrupt-mixed-endian-header.pcap", &["X603"]),
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
    ("xfer-2views-ethernet.pcapng", &["X307"]),
    ("xfer-2views-loopback-truncated-records.pcapng", &[]),
    ("xfer-attended-opensips-3cx-sll.pcap", &["X304", "X401"]),
    ("xfer-attended-refer-rejected-erspan.pcapng", &[]),
    ("xfer-blind-device-vantage.pcapng", &["X301"]),
    ("xfer-blind-linux-2if-enp2s0-lo.pcapng", &["X307"]),
    ("xfer-blind-macos-2if-en0-lo0.pcapng", &["X307"]),
    ("xfer-blind-npcap-2if-ipfrag.pcapng", &["X307"]),
    ("xfer-blind-old-linphone-android.pcapng", &["X307"]),
    ("xfer-blind-opensips-3cx-sll.pcap", &["X304", "X401"]),
    ("xfer-blind-proxy-minimal.pcap", &["X307"]),
    ("xfer-blind-proxy-vantage.pcapng", &["X307"]),
    ("xfer-blind-zoiper-linphone.pcapng", &["X307"]),
    ("xfer-blind-zoiper-small.pcap", &["X307"]),
    ("xfer-notify-stuck-100-loopback.pcapng", &["X313", "X314"]),
    ("xfer-refer-no-notify-eth.pcapng", &["X301"]),
    // No X301: the capture shows no in-dialog request of the transferee at all (not
    // even the ACK of its new call), so a NOTIFY could have gone unseen.
    ("xfer-refer-no-notify-ipfrag.pcap", &[]),
    ("xfer-refer-retrans-202-storm.pcapng", &["X307"]),
    ("xfer-refer-retrans-lossy.pcap", &["X106", "X307"]),
    ("xfer-two-transfers-ipfrag.pcapng", &["X307", "X307"]),
];

/// Which rules fire on the public captures, each checked by reading the capture (see
/// tests/expected/public-findings.md): pinned so a change of behaviour is a decision.
/// Read from `analyze --format json`, whose findings are those of `check` (which
/// refuses a file with no readable frame).
#[test]
fn public_captures_fire_the_rules_read_in_them() {
    for (name, want) in PUBLIC_FINDINGS {
        let Some(path) = common::public(name) else {
            continue;
        };
        let doc = json(&sipxfer([
            "analyze",
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
            PUBLIC_FINDINGS.iter().any(|(pinned, _)| *pinned == name),
            "{name} is in ../shared/captures/public but its codes are not pinned here"
        );
    }
}

/// Where a rule without a fault capture is pinned instead.
enum PinnedOn {
    /// A capture of ../shared/captures/public whose [`PUBLIC_FINDINGS`] list it.
    Public(&'static str),
    /// Somewhere else, said in words.
    Elsewhere(&'static str),
}

/// The rules with no fault capture in samples/faults/ (samples/faults/README.md says
/// why), each with where a test pins it instead. Keep it short: a rule that gets a
/// fault capture leaves this list.
const WITHOUT_FAULT_CAPTURE: &[(&str, PinnedOn)] = &[
    ("X106", PinnedOn::Public("xfer-refer-retrans-lossy.pcap")),
    (
        "X107",
        PinnedOn::Elsewhere(
            "off by default; turned on, it fires at the 202 of every fault capture's base \
             flow and not on ok107-refer-answered-200: x107_is_off_until_turned_on",
        ),
    ),
    ("X602", PinnedOn::Public("pppoe-sip.pcap")),
    (
        "X701",
        PinnedOn::Elsewhere(
            "depends on the configuration, not the capture: \
             the_config_file_sets_levels_and_trusted_domains",
        ),
    ),
];

/// A rule is its catalog entry plus pieces kept elsewhere; this fails when one is
/// missing or out of step with the catalog: its explanation file
/// (src/rules/explain/CODE.md, three sections), its row in README.md's rule table
/// (derived here from the catalog, in catalog order), and a fault capture
/// (samples/faults/xNNN-*.pcap) pinned in [`FAULT_CAPTURES`] to fire it, or an entry
/// in [`WITHOUT_FAULT_CAPTURE`] saying where it is pinned instead.
#[test]
fn every_rule_has_all_its_pieces() {
    use sipxfer::rules::RULES;
    let mut missing = Vec::new();

    // README.md's table, derived from the catalog.
    let want: Vec<String> = RULES
        .iter()
        .map(|r| {
            format!(
                "| {} | `{}` | {} | {} | {} |",
                r.code,
                r.name,
                r.default_level(),
                r.rfc,
                r.summary
            )
        })
        .collect();
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| X")).collect();
    if rows != want {
        missing.push(format!(
            "README.md's rule table must be, in this order:\n{}",
            want.join("\n")
        ));
    }

    // `sipxfer rules --format json` lists the catalog.
    let listed = json(&sipxfer(["rules", "--format", "json"]));
    if listed["rules"] != serde_json::to_value(RULES).expect("rules serialize") {
        missing.push("`sipxfer rules --format json` does not list the catalog".to_string());
    }

    // The explanation files: one per rule, nothing else.
    let dir = common::root().join("src/rules/explain");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/rules/explain")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    files.sort();
    let want_files: Vec<String> = RULES.iter().map(|r| format!("{}.md", r.code)).collect();
    if files != want_files {
        missing.push(format!(
            "src/rules/explain/ holds {files:?}; the catalog wants {want_files:?}"
        ));
    }
    for r in RULES {
        let e = r.explanation();
        if e.sections().iter().any(|(_, text)| text.trim().is_empty()) {
            missing.push(format!(
                "src/rules/explain/{}.md lacks one of its sections {:?}",
                r.code,
                sipxfer::rules::Explanation::HEADINGS
            ));
        }
    }

    // The fault captures: every one pinned, every rule fired by one (or exempted).
    let on_disk: Vec<String> = std::fs::read_dir(common::root().join("samples/faults"))
        .expect("samples/faults")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".pcap").map(str::to_string))
        .collect();
    for name in &on_disk {
        if !FAULT_CAPTURES.iter().any(|(pinned, _)| pinned == name) {
            missing.push(format!(
                "samples/faults/{name}.pcap is not pinned in FAULT_CAPTURES"
            ));
        }
    }
    for r in RULES {
        let code = r.code.as_str();
        let prefix = format!("{}-", code.to_ascii_lowercase());
        let captures: Vec<&str> = FAULT_CAPTURES
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .map(|(name, _)| *name)
            .collect();
        let exempt = WITHOUT_FAULT_CAPTURE.iter().find(|(c, _)| *c == code);
        match (captures.as_slice(), exempt) {
            ([], None) => missing.push(format!(
                "{code} has no fault capture samples/faults/{prefix}*.pcap pinned in \
                 FAULT_CAPTURES (samples/faults/README.md says how to make one)"
            )),
            ([], Some((_, PinnedOn::Public(capture)))) => {
                let pinned = PUBLIC_FINDINGS
                    .iter()
                    .any(|(name, codes)| name == capture && codes.contains(&code));
                if !pinned {
                    missing.push(format!(
                        "{code} is said to fire on the public {capture}, but \
                         PUBLIC_FINDINGS does not pin it there"
                    ));
                }
            }
            ([], Some((_, PinnedOn::Elsewhere(why)))) => {
                if why.trim().is_empty() {
                    missing.push(format!(
                        "{code} is exempted without saying where it is pinned"
                    ));
                }
            }
            (_, Some(_)) => missing.push(format!(
                "{code} has a fault capture {captures:?}: take it out of WITHOUT_FAULT_CAPTURE"
            )),
            (names, None) => {
                for name in names {
                    let fires = FAULT_CAPTURES
                        .iter()
                        .any(|(n, fired)| n == name && fired.iter().any(|(c, _)| *c == code));
                    if !fires {
                        missing.push(format!(
                            "samples/faults/{name}.pcap is pinned in FAULT_CAPTURES without {code}"
                        ));
                    }
                    if !on_disk.iter().any(|n| n == name) {
                        missing.push(format!("samples/faults/{name}.pcap is not there"));
                    }
                }
            }
        }
    }
    for (code, _) in WITHOUT_FAULT_CAPTURE {
        if !RULES.iter().any(|r| r.code == *code) {
            missing.push(format!(
                "WITHOUT_FAULT_CAPTURE names {code}, not in the catalog"
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
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
    assert_eq!(codes(&whole), ["X301"]);

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
    assert!(codes(&doc).is_empty(), "{:?}", codes(&doc));
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

/// X107 (202 to a REFER, RFC 7647 §5) fires on nearly every real transfer, so it is off
/// by default; `--warn X107` turns it on, at the 202 and only there.
#[test]
fn x107_is_off_until_turned_on() {
    let blind = sample("xfer-blind-completed-udp.pcap");
    let blind = blind.to_str().unwrap();
    let plain = json(&sipxfer(["check", "--format", "json", blind]));
    assert!(codes(&plain).is_empty(), "{:?}", codes(&plain));
    let on = json(&sipxfer([
        "check", "--format", "json", "--warn", "X107", blind,
    ]));
    assert_eq!(codes(&on), ["X107"]);
    assert_eq!(on["findings"][0]["severity"], "warning");
    assert_eq!(on["findings"][0]["frames"], serde_json::json!([7]));
    let ok = sample("faults/ok107-refer-answered-200.pcap");
    let ok = json(&sipxfer([
        "check",
        "--format",
        "json",
        "--warn",
        "X107",
        ok.to_str().unwrap(),
    ]));
    assert!(codes(&ok).is_empty(), "{:?}", codes(&ok));
    let rules = json(&sipxfer(["rules", "--format", "json"]));
    let x107 = rules["rules"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "X107"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(x107["enabled_by_default"], false);
}

/// Damage to the input is a finding (X603, a warning), so `--fail-on warning` and
/// `--deny X603` fail a cut capture; `analyze` reports the same cut.
#[test]
fn a_damaged_capture_is_a_finding_of_check() {
    let cut = sample("faults/x603-input-damaged.pcap");
    let cut = cut.to_str().unwrap();
    let out = sipxfer(["check", cut]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning passes --fail-on error"
    );
    assert!(stdout(&out).contains("X603"), "{}", stdout(&out));
    assert_eq!(
        sipxfer(["check", "--fail-on", "warning", cut])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sipxfer(["check", "--deny", "X603", cut]).status.code(),
        Some(1)
    );
    assert_eq!(
        sipxfer(["check", "--fail-on", "warning", "--allow", "X603", cut])
            .status
            .code(),
        Some(0)
    );
    let doc = json(&sipxfer(["check", "--format", "json", cut]));
    assert_eq!(doc["verdict"], "pass");
    assert_eq!(doc["counts"]["warning"], 1);
    assert_eq!(doc["inputs"][0]["damage"][0]["kind"], "truncated_record");
}

/// A file with no readable frame is nothing to check: exit 2, one line on standard
/// error saying why, nothing on standard output.
#[test]
fn check_refuses_a_file_with_no_readable_frame() {
    let dir = std::env::temp_dir().join(format!("sipxfer-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let empty = dir.join("header-only.pcap");
    let w = sipxfer::capture::write::PcapWriter::new(Vec::new(), 1).expect("header");
    std::fs::write(&empty, w.into_inner()).expect("write");
    let mut files = vec![empty.clone()];
    files.extend(common::public("corrupt-mixed-endian-header.pcap"));
    for file in &files {
        let out = sipxfer(["check", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("no readable frame"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `Refer-Sub: false` agreed (RFC 4488 §4) means there is no subscription, so no NOTIFY
/// is owed: no rule about a missing, unanswered or incomplete NOTIFY may fire. On
/// xfer-refer-sub-false-udp.pcap (no NOTIFY at all) and on
/// x312-notify-despite-refer-sub-false.pcap (NOTIFYs sent anyway) only X312 may.
#[test]
fn refer_sub_false_owes_no_notify() {
    const ABOUT_MISSING_NOTIFYS: &[&str] = &["X301", "X305", "X313", "X314", "X315"];
    for (file, want) in [
        ("xfer-refer-sub-false-udp.pcap", &[][..]),
        (
            "faults/x312-notify-despite-refer-sub-false.pcap",
            &["X312"][..],
        ),
    ] {
        let doc = json(&sipxfer([
            "check",
            "--format",
            "json",
            sample(file).to_str().unwrap(),
        ]));
        let got = codes(&doc);
        assert!(
            !got.iter()
                .any(|c| ABOUT_MISSING_NOTIFYS.contains(&c.as_str())),
            "{file}: {got:?}"
        );
        assert_eq!(got, want, "{file}");
        assert_eq!(doc["transfers"][0]["refer"]["refer_sub_granted"], false);
    }
}
