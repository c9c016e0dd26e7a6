//! The HTML page of `analyze --format html` in a real headless browser (Chromium),
//! loaded from disk with networking off: for every transfer sample, the page's script
//! runs without an error or a console message, there is one SVG ladder per transfer,
//! and each ladder has one arrow per SIP message of that transfer's dialogs (counted
//! independently, from `messages --format json` and the Call-IDs `analyze --format
//! json` gives the transfer). A screenshot of the attended sample is written to
//! target/ (and to docs/report-attended.png with `SIPXFER_UPDATE_SCREENSHOT=1`).
//!
//! Skips, saying so, when no Chromium is installed (`chromium`, `chromium-browser`,
//! or the path in `SIPXFER_CHROMIUM`); .ci/run installs Debian's `chromium`.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{root, sipxfer, skipped, stdout};

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SIPXFER_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs the browser headless on `page` with networking disabled and a fresh profile;
/// `extra` is the action (`--dump-dom`, `--screenshot=...`). Standard output and
/// standard error come back.
fn browse(browser: &Path, page: &Path, profile: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}#all", page.display());
    let mut out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            // No network: every name resolves to nothing, every request to a dead proxy.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1100,1500",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");
    // The pipes are drained on threads, and a browser that hangs is stopped after
    // a minute, so a broken browser fails the test instead of holding CI.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        out.stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        out.stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    loop {
        if out.try_wait().expect("the browser is waited for").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = out.kill();
            let _ = out.wait();
            panic!(
                "the browser did not finish within a minute on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

/// The value of `name="..."` in the first tag of `html` that starts with `tag`.
fn attribute(html: &str, tag: &str, name: &str) -> Option<String> {
    let at = html.find(tag)?;
    let end = at + html.get(at..)?.find('>')?;
    let open = html.get(at..end)?;
    let key = format!("{name}=\"");
    let start = open.find(&key)? + key.len();
    let rest = open.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_string())
}

/// The Call-IDs of each transfer's dialogs, from `analyze --format json`.
fn transfer_call_ids(file: &Path) -> Vec<Vec<String>> {
    let doc = common::json(&sipxfer([
        "analyze".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        file.as_os_str(),
    ]));
    let empty = Vec::new();
    doc["transfers"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|t| {
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
        })
        .collect()
}

/// The Call-ID of every SIP message, from `messages --format jsonl`.
fn message_call_ids(file: &Path) -> Vec<String> {
    let out = sipxfer([
        "messages".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        file.as_os_str(),
    ]);
    stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["call_id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn html_pages_render_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        skipped("no chromium installed: the HTML page was not checked in a browser");
        return;
    };
    let dir = root().join("target/browser-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target/browser-check is made");
    // Every transfer sample, and the real-world shapes (fragments, two interfaces out
    // of order, a REFER that cannot be linked, a Cisco cid: REFER, huge headers).
    let list = |dir: &str, keep: fn(&str) -> bool| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
            .expect("the samples are there")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| keep(n))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        names
    };
    let mut samples = list("samples", |n| {
        n.starts_with("xfer-") && n.ends_with(".pcap")
    });
    assert!(samples.len() >= 10);
    samples.extend(list("samples/realworld", |n| n.starts_with("rw-")));
    for path in &samples {
        let file = root().join(path);
        let name = path.rsplit('/').next().unwrap_or(path);
        let page = dir.join(format!("{name}.html"));
        let out = sipxfer([
            "analyze".as_ref(),
            "--format".as_ref(),
            "html".as_ref(),
            "-o".as_ref(),
            page.as_os_str(),
            file.as_os_str(),
        ]);
        assert!(out.status.success(), "{name}: {}", common::stderr(&out));
        let profile = dir.join(format!("profile-{name}"));
        let (dom, log) = browse(&browser, &page, &profile, &["--dump-dom"]);
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{name}: console says {console:?}");
        assert_eq!(
            attribute(&dom, "<body", "data-ready").as_deref(),
            Some("1"),
            "{name}: the page's script did not finish"
        );
        assert_eq!(
            attribute(&dom, "<body", "data-errors").as_deref(),
            Some("0"),
            "{name}"
        );
        let transfers = transfer_call_ids(&file);
        let messages = message_call_ids(&file);
        assert_eq!(
            attribute(&dom, "<body", "data-svgs"),
            Some(transfers.len().to_string()),
            "{name}: one SVG per transfer"
        );
        assert_eq!(
            dom.matches("<svg class=\"ladder\"").count(),
            transfers.len()
        );
        for (i, ids) in transfers.iter().enumerate() {
            let expected = messages.iter().filter(|c| ids.contains(c)).count();
            let section = format!("<section class=\"transfer\" id=\"transfer-{}\"", i + 1);
            assert_eq!(
                attribute(&dom, &section, "data-arrows"),
                Some(expected.to_string()),
                "{name}: transfer {} has one arrow per message of its dialogs {ids:?}",
                i + 1
            );
        }
        let _ = std::fs::remove_dir_all(&profile);
    }
    // A screenshot of the attended sample, for the eye and for README.
    let page = dir.join("xfer-attended-replaces-udp.pcap.html");
    let shot = dir.join("report-attended.png");
    let profile = dir.join("profile-screenshot");
    let arg = format!("--screenshot={}", shot.display());
    browse(&browser, &page, &profile, &[arg.as_str()]);
    let png = std::fs::read(&shot).expect("the browser wrote a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    if std::env::var_os("SIPXFER_UPDATE_SCREENSHOT").is_some() {
        std::fs::create_dir_all(root().join("docs")).expect("docs/ is made");
        std::fs::write(root().join("docs/report-attended.png"), &png).expect("screenshot kept");
    }
}
