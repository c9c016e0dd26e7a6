//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A capture in samples/.
pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

/// Says that a test (or part of one) was skipped, on standard error itself: `eprintln!`
/// is captured by the test harness and shown only when the test fails, so a test
/// skipped for want of ../shared would otherwise pass silently.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "skipped: {what}");
}

/// A capture from ../shared/captures/public, or `None` (with a note) when ../shared is
/// not beside the repository, as on a user's machine.
pub fn public(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/captures/public").join(name);
    if path.exists() {
        Some(path)
    } else {
        skipped(&format!(
            "{} is not there (../shared is missing)",
            path.display()
        ));
        None
    }
}

/// Every capture in ../shared/captures/public, sorted; empty when ../shared is missing.
pub fn public_captures() -> Vec<PathBuf> {
    let dir = root().join("../shared/captures/public");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        skipped(&format!("{} is not there", dir.display()));
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "gz")
        })
        .collect();
    files.sort();
    files
}

/// Runs the sipxfer binary with `args` (NO_COLOR set, no terminal).
pub fn sipxfer<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the sipxfer binary runs")
}

/// Runs sipxfer with bytes on standard input.
pub fn sipxfer_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sipxfer binary starts");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("stdin takes the capture");
    }
    child.wait_with_output().expect("sipxfer ends")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Compares `actual` with the snapshot `tests/snapshots/NAME`. With
/// `SIPXFER_UPDATE_SNAPSHOTS=1` the snapshot is (re)written instead.
pub fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("SIPXFER_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("snapshot written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with SIPXFER_UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(5)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .collect();
        panic!(
            "output differs from snapshot {} (SIPXFER_UPDATE_SNAPSHOTS=1 rewrites it after review)\n{}\nexpected {} lines, got {}",
            path.display(),
            diff.join("\n"),
            expected.lines().count(),
            actual.lines().count()
        );
    }
}

/// Parses JSON output.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("output is not JSON ({e}): {}", stdout(o)))
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
