//! Every file of every fuzz corpus (`fuzz/corpus/<target>/`) replayed through the same
//! body its fuzz target runs, on the stable toolchain: the corpora hold the inputs
//! that reach the most code, and every crash the fuzzers ever found, so this keeps
//! them passing without nightly or cargo-fuzz. A panic names the file.

use std::error::Error;
use std::path::{Path, PathBuf};

#[path = "../fuzz/shared/dialogs.rs"]
mod dialogs;

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

fn corpus(target: &str) -> Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} is empty", dir.display()).into());
    }
    Ok(files)
}

/// Runs `body` on every file of `target`'s corpus, saying which file a panic came from.
fn replay(target: &str, body: fn(&[u8])) -> Result {
    for path in corpus(target)? {
        let data = std::fs::read(&path)?;
        let outcome = std::panic::catch_unwind(|| body(&data));
        if outcome.is_err() {
            return Err(format!("{target}: {} panicked", path.display()).into());
        }
    }
    Ok(())
}

#[test]
fn capture_corpus() -> Result {
    replay("capture", sipxfer::fuzzing::capture)
}

#[test]
fn sip_message_corpus() -> Result {
    replay("sip_message", sipxfer::fuzzing::sip_message)
}

#[test]
fn pipeline_corpus() -> Result {
    replay("pipeline", sipxfer::fuzzing::pipeline)
}

#[test]
fn config_corpus() -> Result {
    replay("config", sipxfer::fuzzing::config)
}

#[test]
fn transfer_dialogs_corpus() -> Result {
    replay("transfer_dialogs", dialogs::run)
}

/// The structure-aware target's scripts do reach the linker: the canonical blind
/// and attended transfers, built from the script alone, are found as transfers.
#[test]
fn scripted_transfers_are_found() -> Result {
    use dialogs::{Scenario, Template};
    use sipxfer::analysis::{self, Options, Quiet};
    use sipxfer::capture::Input;
    use sipxfer::transfer::{Kind, Outcome};
    for (template, kind) in [
        (Template::Blind, Kind::Blind),
        (Template::Attended, Kind::Attended),
    ] {
        let scenario = Scenario {
            template,
            steps: Vec::new(),
            mutations: Vec::new(),
            relayed: false,
        };
        let pcap = scenario.pcap();
        let input = Input::from_reader("script", 0, Box::new(std::io::Cursor::new(pcap)))?;
        let a = analysis::run(vec![input], &Options::default(), &mut Quiet);
        assert_eq!(a.transfers.len(), 1, "{template:?}");
        let kinds: Vec<_> = a.transfers.iter().map(|t| (t.kind, t.outcome)).collect();
        assert_eq!(kinds, [(kind, Outcome::Completed)], "{template:?}");
        assert_eq!(
            a.dialogs.len(),
            if matches!(template, Template::Blind) {
                2
            } else {
                3
            }
        );
    }
    Ok(())
}
