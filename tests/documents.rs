//! Whole JSON documents pinned, byte for byte: for each sample whose text or
//! transfers are snapshotted (tests/transfers.rs, tests/cli.rs), the complete document
//! its command prints — schema version, inputs, counts, dialogs, transfers and
//! findings, in the field order the contract gives (README.md, "JSON").
//!
//! The captures are named relative to the repository root, as a user would type them,
//! so the `path` of each input does not depend on where the repository is checked out.
//! `SIPXFER_UPDATE_SNAPSHOTS=1` rewrites the snapshots (review the diff).

mod common;

use common::{root, snapshot, stderr, stdout};

/// Runs sipxfer in the repository root.
fn run_in_root(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the sipxfer binary runs");
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let text = stdout(&out);
    let doc: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?} prints no JSON document ({e})"));
    assert_eq!(doc["schema_version"], 1, "{args:?}");
    text
}

#[test]
fn analyze_documents() {
    for (name, file) in [
        ("blind-completed", "xfer-blind-completed-udp.pcap"),
        ("attended", "xfer-attended-replaces-udp.pcap"),
        ("rejected", "xfer-refer-rejected-udp.pcap"),
    ] {
        let path = format!("samples/{file}");
        let doc = run_in_root(&["analyze", "--format", "json", &path]);
        snapshot(&format!("analyze-{name}.document.json"), &doc);
        // `check` prints the same document, byte for byte, then its verdict.
        let check = run_in_root(&["check", "--format", "json", &path]);
        let body = doc
            .trim_end()
            .strip_suffix('}')
            .map(str::trim_end)
            .unwrap_or_default();
        assert!(check.starts_with(body), "{name}: check's document differs");
        let rest = check.get(body.len()..).unwrap_or_default();
        assert!(
            rest.starts_with(
                ",\n  \"verdict\": \"pass\",\n  \"fail_on\": \"error\",\n  \"counts\": {"
            ),
            "{name}: {rest}"
        );
    }
}

#[test]
fn calls_document() {
    let doc = run_in_root(&[
        "calls",
        "--format",
        "json",
        "samples/calls-mixed-udp.pcapng",
    ]);
    snapshot("calls-mixed-udp.document.json", &doc);
}

#[test]
fn messages_document() {
    let doc = run_in_root(&[
        "messages",
        "--format",
        "json",
        "samples/basic-call-tcp.pcap",
    ]);
    snapshot("messages-basic-call-tcp.document.json", &doc);
}
