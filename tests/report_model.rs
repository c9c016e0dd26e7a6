//! The report renders the transfer model and computes nothing of its own: the calls
//! outside every transfer come from the transfer stage, and the ladder's NOTIFY rows
//! show the sipfrag the model holds — on every hop of a proxied NOTIFY.

mod common;

use common::sample;
use sipxfer::analysis::{self, Analysis, Options, Quiet};
use sipxfer::capture::Input;
use sipxfer::report::ladder::Rows;
use sipxfer::report::{self, Palette};
use sipxfer::transfer::calls_outside_transfers;

fn analyse(files: &[&str], rows: Option<&mut Rows>) -> Analysis {
    let inputs = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = sample(f);
            Input::open(path.to_str().expect("utf-8 path"), i as u32).expect("capture opens")
        })
        .collect();
    match rows {
        Some(rows) => analysis::run(inputs, &Options::default(), rows),
        None => analysis::run(inputs, &Options::default(), &mut Quiet),
    }
}

#[test]
fn calls_outside_transfers_are_those_of_no_transfer() {
    let a = analyse(&["xfer-blind-completed-udp.pcap"], None);
    assert!(!a.dialogs.is_empty());
    assert_eq!(
        calls_outside_transfers(&a.transfers, &a.dialogs),
        Vec::<usize>::new()
    );

    let a = analyse(
        &["xfer-two-transfers-udp.pcap", "calls-mixed-udp.pcapng"],
        None,
    );
    let outside = calls_outside_transfers(&a.transfers, &a.dialogs);
    let call_ids: Vec<&str> = outside
        .iter()
        .map(|&i| a.dialogs[i].call_id.as_str())
        .collect();
    assert_eq!(call_ids.len(), 4, "{call_ids:?}");
    assert!(
        call_ids.iter().all(|c| c.starts_with("mixed-")),
        "{call_ids:?}"
    );
    let text = report::transfer::text(
        &a,
        Palette {
            enabled: false,
            wide: false,
        },
        None,
    );
    assert!(text.ends_with("4 other calls are not part of a transfer (see `sipxfer calls`).\n"));
}

#[test]
fn ladder_notify_rows_show_the_models_sipfrag_on_every_hop() {
    let mut rows = Rows::default();
    let a = analyse(&["xfer-blind-via-proxy-udp.pcap"], Some(&mut rows));
    let t = &a.transfers[0];
    let statuses: Vec<&str> = t
        .notifies
        .iter()
        .filter_map(|n| n.sipfrag.as_deref())
        .map(|s| s.trim_start_matches("SIP/2.0 "))
        .collect();
    assert_eq!(statuses, ["100 Trying", "200 OK"]);
    let ladder = report::ladder::render(&a, t, &rows);
    for status in statuses {
        let hops = ladder
            .lines()
            .filter(|l| l.contains(&format!("NOTIFY ({status})")))
            .count();
        assert_eq!(hops, 2, "NOTIFY ({status}) on both hops:\n{ladder}");
    }
    // A NOTIFY row keeps its CSeq to find its sipfrag; other rows have none.
    assert!(rows.rows.iter().any(|r| r.notify.is_some()));
    assert!(
        rows.rows
            .iter()
            .filter(|r| !r.label.starts_with("NOTIFY"))
            .all(|r| r.notify.is_none())
    );
}

/// The one ladder model the text, SVG and Mermaid pictures are drawn from: lanes named
/// by role, each arrow in its dialog, retransmissions told from new messages, and the
/// phases as bands over the rows they span.
#[test]
fn the_ladder_model_knows_dialogs_retransmissions_and_phases() {
    use sipxfer::report::ladder::{self, Leg};
    let mut rows = Rows::default();
    let a = analyse(&["xfer-attended-replaces-udp.pcap"], Some(&mut rows));
    let t = &a.transfers[0];
    let l = ladder::build(&a, t, &rows);
    assert_eq!(l.lanes.len(), 3);
    assert_eq!(l.lanes[0].role_text(), "transferee Alice");
    assert_eq!(l.arrows.len(), 26);
    let legs: Vec<Leg> = l.arrows.iter().map(|a| a.leg).collect();
    assert_eq!(legs[0], Leg::Original);
    assert_eq!(legs[5], Leg::Consultation);
    assert_eq!(legs[14], Leg::NewCall);
    assert!(l.arrows.iter().all(|a| !a.retransmission));
    assert_eq!(l.arrows[12].label, "NOTIFY (100 Trying)");
    // Phase 1 spans frames 1-5, phase 7 (consultation) frames 6-10.
    let band = |n: u8| l.bands.iter().find(|b| b.phase.kind.number() == n);
    assert_eq!(band(1).map(|b| (b.first, b.last)), Some((0, 4)));
    assert_eq!(band(7).map(|b| (b.first, b.last)), Some((5, 9)));

    let mut rows = Rows::default();
    let a = analyse(&["faults/x313-notify-unanswered.pcap"], Some(&mut rows));
    let l = ladder::build(&a, &a.transfers[0], &rows);
    let again: Vec<u64> = l
        .arrows
        .iter()
        .filter(|a| a.retransmission)
        .map(|a| a.row.frame.number)
        .collect();
    assert_eq!(again, vec![9, 10, 17, 18]);
}
