//! The pictures of `analyze`: Mermaid diagrams pinned byte for byte, and the HTML
//! page's structure (its elements with their ids, classes and counts, not its bytes)
//! pinned, for samples of each kind. The page is also checked to be self-contained
//! and to escape what came off the wire. `SIPXFER_UPDATE_SNAPSHOTS=1` rewrites the
//! snapshots (review the diff).

mod common;

use common::{root, snapshot, stderr, stdout};

/// Runs sipxfer in the repository root (so inputs are named as a user types them).
fn run_in_root(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", stderr(&out)));
    }
    Ok(stdout(&out))
}

const SAMPLES: [(&str, &str); 5] = [
    ("blind-completed", "xfer-blind-completed-udp.pcap"),
    ("attended", "xfer-attended-replaces-udp.pcap"),
    ("rejected", "xfer-refer-rejected-udp.pcap"),
    ("two-transfers", "xfer-two-transfers-udp.pcap"),
    ("x301", "faults/x301-refer-accepted-no-notify.pcap"),
];

#[test]
fn mermaid_snapshots() -> Result<(), String> {
    for (name, file) in SAMPLES {
        let text = run_in_root(&["analyze", "--format", "mermaid", &format!("samples/{file}")])?;
        assert!(text.contains("```mermaid\nsequenceDiagram\n"), "{name}");
        snapshot(&format!("analyze-{name}.mermaid.md"), &text);
    }
    Ok(())
}

/// The value of attribute `name` in an opening tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = tag.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// The page's structure: one line per element that has an id or a class (or is a
/// section, table, svg or template; not SVG text), `tag#id.class [data-...]`, in document order;
/// runs of the same line folded into `line ×N`. Text, styles and the script are left
/// out.
fn structure(page: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut rest = page;
    while let Some(open) = rest.find('<') {
        rest = rest.get(open + 1..).unwrap_or_default();
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = rest.get(..end).unwrap_or_default();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() || name == "text" {
            continue;
        }
        let id = attribute(tag, "id");
        let class = attribute(tag, "class");
        let landmark = matches!(
            name.as_str(),
            "section" | "table" | "svg" | "template" | "details" | "nav" | "script" | "style"
        );
        if id.is_none() && class.is_none() && !landmark {
            continue;
        }
        let mut line = name.clone();
        if let Some(id) = id {
            line.push('#');
            line.push_str(id);
        }
        if let Some(class) = class {
            for c in class.split(' ') {
                line.push('.');
                line.push_str(c);
            }
        }
        for data in ["data-kind", "data-outcome", "data-messages", "data-phase"] {
            if let Some(v) = attribute(tag, data) {
                line.push_str(&format!(" [{data}={v}]"));
            }
        }
        lines.push(line);
    }
    let mut out = String::new();
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let run = lines.iter().skip(i).take_while(|l| *l == line).count();
        if run > 1 {
            out.push_str(&format!("{line} ×{run}\n"));
        } else {
            out.push_str(&format!("{line}\n"));
        }
        i += run;
    }
    out
}

#[test]
fn html_structure_snapshots() -> Result<(), String> {
    for (name, file) in SAMPLES {
        let page = run_in_root(&["analyze", "--format", "html", &format!("samples/{file}")])?;
        // Self-contained: nothing to fetch, nothing but the inline script and style.
        assert!(page.starts_with("<!DOCTYPE html>"), "{name}");
        for forbidden in ["<link", "src=", "@import", "url(http", "https://"] {
            assert!(!page.contains(forbidden), "{name}: {forbidden}");
        }
        assert_eq!(
            page.matches("http://").count(),
            page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "{name}: only the SVG namespace names a URL"
        );
        if name == "x301" {
            // Each finding links to its rule's explanation, embedded in the page.
            assert!(
                page.contains("<a href=\"#explain-X301\">X301</a>"),
                "{name}"
            );
            assert!(page.contains("<article id=\"explain-X301\">"), "{name}");
        }
        snapshot(
            &format!("analyze-{name}.html-structure.txt"),
            &structure(&page),
        );
    }
    Ok(())
}

#[test]
fn html_goes_to_the_file_named_by_o() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("sipxfer-pictures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("report.html");
    let path_text = path.to_string_lossy().into_owned();
    let printed = run_in_root(&[
        "analyze",
        "--format",
        "html",
        "-o",
        &path_text,
        "samples/xfer-blind-completed-udp.pcap",
    ])?;
    assert!(printed.is_empty());
    let page = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(page.contains("<section class=\"transfer\" id=\"transfer-1\""));
    Ok(())
}

#[test]
fn only_analyze_draws_pictures() {
    for command in ["calls", "messages", "check"] {
        let out = common::sipxfer([
            command,
            "--format",
            "html",
            "samples/xfer-blind-completed-udp.pcap",
        ]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(stderr(&out).contains("analyze --format html"), "{command}");
    }
}

#[test]
fn the_page_names_a_refer_it_could_not_link() -> Result<(), String> {
    let page = run_in_root(&[
        "analyze",
        "--format",
        "html",
        "samples/realworld/rw-refer-announced-body.pcap",
    ])?;
    assert!(!page.contains("no REFER"));
    assert!(page.contains("REFER frame 6 at 2.096000 could not be linked: it has no Call-ID"));
    Ok(())
}
