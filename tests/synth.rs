//! The analysis of generated captures against the generator's own ground truth
//! (examples/synth.rs): calls by outcome, every SIP message, every transfer by kind,
//! outcome and REFER frame — so speed never comes at the cost of a wrong answer. Also
//! checks that `--format jsonl` streams transfers while the capture is still being
//! read, and that the streamed transfers are exactly the final ones.

#[path = "../examples/synth.rs"]
#[allow(dead_code)]
mod synth;

use clap::Parser;
use sipxfer::analysis::{self, Analysis, Observer, Options, Quiet};
use sipxfer::capture::Input;
use sipxfer::dialog::Answer;
use sipxfer::transfer::Transfer;

/// Generates a capture with its truth into a temporary folder.
fn generate(name: &str, args: &[&str]) -> (std::path::PathBuf, serde_json::Value) {
    let dir = std::env::temp_dir().join(format!("sipxfer-synth-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pcap = dir.join("synth.pcap");
    let truth = dir.join("truth.json");
    let mut argv = vec![
        "synth".to_string(),
        "--out".to_string(),
        pcap.display().to_string(),
        "--ground-truth".to_string(),
        truth.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let parsed = synth::Args::try_parse_from(argv).expect("synth arguments");
    synth::run(&parsed).expect("synth writes the capture");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).expect("truth")).expect("JSON");
    (pcap, truth)
}

fn analyse<O: Observer>(pcap: &std::path::Path, observer: &mut O) -> Analysis {
    let input = Input::open(pcap.to_str().expect("path"), 0).expect("opens");
    analysis::run(vec![input], &Options::default(), observer)
}

fn check_against_truth(a: &Analysis, truth: &serde_json::Value) {
    assert_eq!(
        a.stats.frames,
        truth["packets"].as_u64().unwrap_or_default()
    );
    assert_eq!(
        a.stats.sip.messages,
        truth["sip_messages"].as_u64().unwrap_or_default()
    );
    let count = |f: &dyn Fn(&sipxfer::dialog::Dialog) -> bool| {
        a.dialogs.iter().filter(|d| f(d)).count() as u64
    };
    assert_eq!(
        a.dialogs.len() as u64,
        truth["calls"].as_u64().unwrap_or_default()
    );
    assert_eq!(count(&|d| d.answer == Answer::Answered), truth["answered"]);
    assert_eq!(
        count(&|d| d.answer == Answer::Cancelled),
        truth["cancelled"]
    );
    assert_eq!(count(&|d| d.answer == Answer::Pending), truth["unanswered"]);
    for status in [486u16, 404] {
        let rejected = count(&|d| d.answer == Answer::Rejected && d.status == Some(status));
        assert_eq!(
            rejected,
            truth["rejected"][status.to_string()],
            "rejected {status}"
        );
    }
    let want = truth["transfers"].as_array().cloned().unwrap_or_default();
    let got: Vec<serde_json::Value> = a
        .transfers
        .iter()
        .map(|t| {
            serde_json::json!({
                "kind": t.kind.as_str(), "outcome": t.outcome.as_str(), "status": t.status,
                "refer_call_id": t.refer.call_id, "refer_frame": t.refer.frame.number,
            })
        })
        .collect();
    assert_eq!(got.len(), want.len(), "transfers");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}

#[test]
fn every_call_and_transfer_of_a_generated_capture() {
    let (pcap, truth) = generate(
        "mix",
        &[
            "--bytes",
            "5M",
            "--seed",
            "7",
            "--concurrent-calls",
            "10",
            "--min-duration",
            "2",
            "--max-duration",
            "8",
            "--transfer-share",
            "0.3",
            "--tcp-share",
            "0.5",
            "--fragment-share",
            "0.3",
        ],
    );
    let a = analyse(&pcap, &mut Quiet);
    assert!(!a.transfers.is_empty(), "the mix has transfers");
    assert!(
        a.stats.net.reassembled_datagrams > 0,
        "and fragmented INVITEs"
    );
    assert!(a.stats.net.tcp_segments > 0, "and SIP over TCP");
    check_against_truth(&a, &truth);
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}

/// Records when each transfer was streamed, in bytes read so far and in progress
/// reports so far.
#[derive(Default)]
struct Stream {
    read: u64,
    total: u64,
    ticks: u64,
    streamed: Vec<(u64, Transfer)>,
    streamed_at_tick: Vec<u64>,
}

impl Observer for Stream {
    fn streams_transfers(&self) -> bool {
        true
    }
    fn transfer(&mut self, _zero_ns: i64, transfer: &Transfer) {
        self.streamed.push((self.read, transfer.clone()));
        self.streamed_at_tick.push(self.ticks);
    }
    fn progress(&mut self, read: u64, total: Option<u64>) {
        self.read = read;
        self.total = total.unwrap_or_default();
        self.ticks += 1;
    }
}

#[test]
fn transfers_stream_before_the_end_and_match_the_final_result() {
    // About ten minutes of capture time at a few calls at once: transfers complete
    // long before the end.
    let (pcap, truth) = generate(
        "stream",
        &[
            "--bytes",
            "30M",
            "--seed",
            "3",
            "--concurrent-calls",
            "4",
            "--min-duration",
            "5",
            "--max-duration",
            "20",
            "--transfer-share",
            "0.4",
        ],
    );
    let a = analyse(&pcap, &mut Quiet);
    check_against_truth(&a, &truth);
    let mut stream = Stream::default();
    let streamed = analyse(&pcap, &mut stream);
    assert_eq!(stream.streamed.len(), a.transfers.len());
    assert!(
        streamed.dialogs.len() < a.dialogs.len(),
        "while streaming, calls long over are let go"
    );
    let (early_at, _) = stream.streamed.first().expect("a transfer was streamed");
    assert!(
        *early_at < stream.total / 2,
        "the first transfer came at byte {early_at} of {}",
        stream.total
    );
    // Transfers stream as they finish, each with its id (its place in REFER order).
    let mut streamed: Vec<&Transfer> = stream.streamed.iter().map(|(_, t)| t).collect();
    streamed.sort_by_key(|t| t.id);
    for (s, t) in streamed.iter().zip(&a.transfers) {
        assert_eq!(format!("{s:?}"), format!("{t:?}"), "streamed = final");
    }
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}

#[test]
fn thousands_of_transfers_in_a_sip_only_capture_match_the_ground_truth() {
    // A busy PBX filtered on the SIP ports: no RTP, two thousand calls up at once,
    // most scenarios transfers. Linking is by index, so this takes no longer per
    // transfer than a small capture does.
    let (pcap, truth) = generate(
        "sip-only",
        &[
            "--bytes",
            "40M",
            "--seed",
            "5",
            "--no-media",
            "--concurrent-calls",
            "2000",
            "--transfer-share",
            "0.6",
            "--min-duration",
            "2",
            "--max-duration",
            "10",
            "--keepalive-interval",
            "0",
        ],
    );
    let a = analyse(&pcap, &mut Quiet);
    assert!(
        a.transfers.len() >= 2000,
        "thousands of transfers: {}",
        a.transfers.len()
    );
    check_against_truth(&a, &truth);
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}

#[test]
fn a_transfer_whose_call_stays_up_holds_back_no_other() {
    // The first scenario is a failed transfer whose original call stays up past the
    // end of the file: its transfer can change until then. Every later transfer must
    // still stream as soon as it is over.
    let (pcap, truth) = generate(
        "stuck",
        &[
            "--bytes",
            "40M",
            "--seed",
            "3",
            "--no-media",
            "--concurrent-calls",
            "20",
            "--transfer-share",
            "0.4",
            "--min-duration",
            "5",
            "--max-duration",
            "20",
            "--stuck-transfer",
        ],
    );
    let a = analyse(&pcap, &mut Quiet);
    check_against_truth(&a, &truth);
    // The stuck transfer: failed, and its original call never released.
    let stuck = a
        .transfers
        .iter()
        .find(|t| t.outcome.as_str() == "failed" && t.released.is_none())
        .expect("the stuck transfer");
    let mut stream = Stream::default();
    analyse(&pcap, &mut stream);
    assert_eq!(stream.streamed.len(), a.transfers.len());
    assert!(stream.ticks >= 4, "the file is read in several steps");
    let tick_of = |id: usize| {
        stream
            .streamed
            .iter()
            .zip(&stream.streamed_at_tick)
            .find(|((_, t), _)| t.id == id)
            .map(|(_, &tick)| tick)
    };
    assert_eq!(
        tick_of(stuck.id),
        Some(stream.ticks),
        "the stuck transfer is streamed only at the end of the file"
    );
    let later = a.transfers.iter().filter(|t| t.id > stuck.id);
    let early = later
        .filter(|t| tick_of(t.id).is_some_and(|tick| tick <= stream.ticks / 2))
        .count();
    assert!(
        early > 10,
        "transfers after the stuck one stream while its call is up ({early} in the first half)"
    );
    let mut streamed: Vec<&Transfer> = stream.streamed.iter().map(|(_, t)| t).collect();
    streamed.sort_by_key(|t| t.id);
    for (s, t) in streamed.iter().zip(&a.transfers) {
        assert_eq!(format!("{s:?}"), format!("{t:?}"), "streamed = final");
    }
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}

#[test]
fn past_the_cap_pending_transfers_are_decided_early_counted_and_said() {
    // REFERs accepted and then nothing (no NOTIFY, no new call, no BYE), about four
    // hundred a second: with a cap of 100, most are resolved before their new call's
    // window closes and built while their call is still up. Nothing happens in those
    // calls afterwards, so each transfer is what it would have been without the cap,
    // bar its note; and the cap decides the same with reader threads or without.
    let (pcap, _truth) = generate(
        "pending",
        &[
            "--bytes",
            "2M",
            "--seed",
            "4",
            "--shape",
            "pending-refers",
            "--keepalive-interval",
            "0",
        ],
    );
    let open = || Input::open(pcap.to_str().expect("path"), 0).expect("opens");
    let capped = |threads: bool| Options {
        max_pending: 100,
        threads,
        ..Options::default()
    };
    let whole = analyse(&pcap, &mut Quiet);
    let a = analysis::run(vec![open()], &capped(true), &mut Quiet);
    let single = analysis::run(vec![open()], &capped(false), &mut Quiet);
    assert!(
        whole.stats.transfers.is_quiet(),
        "the default cap is not reached"
    );
    assert!(whole.transfers.len() > 1000, "{}", whole.transfers.len());
    let early = &a.stats.transfers;
    assert_eq!(early.max_pending, 100);
    assert!(early.resolved_early > 500, "{early:?}");
    assert!(early.built_early > 500, "{early:?}");
    let said = |what: &str| {
        a.transfers
            .iter()
            .filter(|t| t.note.as_deref().is_some_and(|n| n.contains(what)))
            .count() as u64
    };
    assert_eq!(said("linked before its new call"), early.resolved_early);
    assert_eq!(
        said("reported while a call of it was still up"),
        early.built_early
    );
    assert_eq!(a.transfers.len(), whole.transfers.len());
    use sipxfer::transfer::MissingReason;
    let up_when_reported = a
        .transfers
        .iter()
        .filter(|t| {
            t.phases
                .iter()
                .any(|p| p.missing == Some(MissingReason::UpWhenReported))
        })
        .count() as u64;
    assert_eq!(
        up_when_reported, early.built_early,
        "their calls were up when reported"
    );
    for (t, w) in a.transfers.iter().zip(&whole.transfers) {
        let mut t = t.clone();
        t.note = None;
        for p in &mut t.phases {
            if p.missing == Some(MissingReason::UpWhenReported) {
                p.missing = Some(MissingReason::StillUp);
            }
        }
        assert_eq!(format!("{t:?}"), format!("{w:?}"), "transfer {}", w.id);
    }
    assert_eq!(
        format!("{:?}", a.transfers),
        format!("{:?}", single.transfers)
    );
    assert_eq!(
        format!("{:?}", a.stats.transfers),
        format!("{:?}", single.stats.transfers)
    );
    // The summary says it.
    let summary = sipxfer::report::summary::text(&a, sipxfer::report::Palette::default());
    assert!(
        summary.contains("Decided early: more than 100 transfers"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(pcap.parent().expect("dir"));
}
