//! Filters on every command (`--call-id`, `--transfer`, `--number`, `--from`, `--to`):
//! they choose what is shown and never change what is linked.

mod common;

use common::{json, sample, sipxfer, stdout};

fn doc(args: &[&str]) -> serde_json::Value {
    json(&sipxfer(args))
}

const TWO: &str = "samples/xfer-two-transfers-udp.pcap";

fn path(name: &str) -> String {
    sample(name.trim_start_matches("samples/"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_filtered_transfer_is_the_same_transfer() {
    let file = path(TWO);
    let all = doc(&["analyze", "--format", "json", &file]);
    let transfers = all["transfers"].as_array().expect("transfers");
    assert!(transfers.len() >= 2);
    for t in transfers {
        let id = t["id"].to_string();
        let one = doc(&["analyze", "--format", "json", "--transfer", &id, &file]);
        assert_eq!(one["transfers"].as_array().map(Vec::len), Some(1), "{id}");
        assert_eq!(one["transfers"][0], *t, "transfer {id} is linked the same");
        // By Call-ID prefix: the REFER's Call-ID names it (and maybe others).
        let call_id = t["refer"]["call_id"].as_str().expect("call_id");
        let prefix = call_id.get(..call_id.len() - 3).expect("long enough");
        let by_id = doc(&["analyze", "--format", "json", "--call-id", prefix, &file]);
        assert!(
            by_id["transfers"]
                .as_array()
                .expect("transfers")
                .contains(t),
            "{id}"
        );
        // JSON Lines too.
        let lines = stdout(&sipxfer([
            "analyze",
            "--format",
            "jsonl",
            "--transfer",
            &id,
            &file,
        ]));
        assert_eq!(lines.lines().count(), 1, "{id}");
    }
}

#[test]
fn numbers_and_time_windows_choose_transfers() {
    let file = path("xfer-attended-replaces-udp.pcap");
    let count = |args: &[&str]| {
        let mut all = vec!["analyze", "--format", "json"];
        all.extend_from_slice(args);
        all.push(&file);
        doc(&all)["transfers"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(count(&["--number", "carol"]), 1);
    assert_eq!(count(&["--number", "nobody"]), 0);
    assert_eq!(count(&["--from", "0.5", "--to", "0.6"]), 1);
    assert_eq!(count(&["--from", "2"]), 0);
    assert_eq!(count(&["--to", "1970-01-01T00:00:01Z"]), 0);
    let text = stdout(&sipxfer(["analyze", "--number", "nobody", &file]));
    assert!(
        text.starts_with("Filters show 0 of the 1 transfers"),
        "{text}"
    );
    let bad = sipxfer(["analyze", "--from", "yesterday", &file]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn messages_and_calls_follow_the_filters() {
    let file = path(TWO);
    let all = doc(&["analyze", "--format", "json", &file]);
    let t = &all["transfers"][0];
    let ids: Vec<&str> = [
        &t["original_call"]["call_id"],
        &t["consultation_call"]["call_id"],
        &t["new_call"]["call_id"],
        &t["refer"]["call_id"],
    ]
    .iter()
    .filter_map(|v| v.as_str())
    .collect();
    let every = stdout(&sipxfer(["messages", "--format", "jsonl", &file]));
    let expected = every
        .lines()
        .filter(|l| {
            let m: serde_json::Value = serde_json::from_str(l).expect("a message");
            ids.contains(&m["call_id"].as_str().unwrap_or_default())
        })
        .count();
    let shown = stdout(&sipxfer([
        "messages",
        "--format",
        "jsonl",
        "--transfer",
        "1",
        &file,
    ]));
    assert_eq!(shown.lines().count(), expected);
    let calls = doc(&["calls", "--format", "json", "--transfer", "1", &file]);
    for d in calls["dialogs"].as_array().expect("dialogs") {
        assert!(ids.contains(&d["call_id"].as_str().unwrap_or_default()));
    }
    let window = stdout(&sipxfer([
        "messages", "--format", "jsonl", "--from", "0", "--to", "0.001", &file,
    ]));
    for l in window.lines() {
        let m: serde_json::Value = serde_json::from_str(l).expect("a message");
        assert!(m["time"].as_f64().unwrap_or(9.0) <= 0.001);
    }
    // check judges only what is shown.
    let fault = path("faults/x301-refer-accepted-no-notify.pcap");
    assert_eq!(sipxfer(["check", &fault]).status.code(), Some(1));
    let none = sipxfer(["check", "--number", "nobody", &fault]);
    assert_eq!(none.status.code(), Some(0));
}
