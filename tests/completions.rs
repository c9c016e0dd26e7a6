//! `sipxfer completions SHELL` and `sipxfer man [COMMAND]`: generated from the
//! command line itself, so every command and option is there.

mod common;

use common::{sipxfer, stdout};

#[test]
fn completions_for_every_shell_know_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = sipxfer(["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        for word in ["analyze", "export", "with-media", "call-id"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    // The bash script offers the formats, and is valid bash.
    let script = stdout(&sipxfer(["completions", "bash"]));
    assert!(script.contains("html") && script.contains("mermaid"));
    if let Ok(out) = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
    {
        assert!(out.status.success(), "{}", common::stderr(&out));
    }
    assert_eq!(sipxfer(["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_pages_are_roff() {
    let page = stdout(&sipxfer(["man"]));
    assert!(page.contains(".TH sipxfer 1"), "{page}");
    assert!(page.contains("export"));
    let analyze = stdout(&sipxfer(["man", "analyze"]));
    assert!(analyze.contains(".TH sipxfer-analyze 1"));
    assert!(analyze.contains("mermaid"));
    assert_eq!(sipxfer(["man", "nosuch"]).status.code(), Some(2));
}
