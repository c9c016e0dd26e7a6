//! Parsing of command lines: the default command, each command's options and their
//! defaults, and what clap refuses.

use std::ffi::OsString;

use super::*;
use crate::rules::{Level, Severity};

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("sipxfer")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect()
}

/// The command a command line parses to, or why it does not.
fn parsed(args: &[&str]) -> Result<Command, String> {
    parse(argv(args))
        .map(|cli| cli.command)
        .map_err(|e| format!("{args:?} does not parse: {e}"))
}

/// clap's error for a command line it refuses, or what it parsed instead.
fn refused(args: &[&str]) -> Result<clap::Error, String> {
    match parse(argv(args)) {
        Ok(cli) => Err(format!("{args:?} parses as {cli:?}")),
        Err(e) => Ok(e),
    }
}

#[test]
fn a_bare_capture_is_analyzed() -> Result<(), String> {
    assert_eq!(
        with_default_command(argv(&["a.pcap"])),
        argv(&["analyze", "a.pcap"])
    );
    // Standard input alone is a capture too.
    assert_eq!(with_default_command(argv(&["-"])), argv(&["analyze", "-"]));
    let Command::Analyze(args) = parsed(&["a.pcap", "b.pcapng"])? else {
        return Err("not analyze".into());
    };
    assert_eq!(args.common.files, ["a.pcap", "b.pcapng"]);
    Ok(())
}

#[test]
fn commands_options_and_help_are_left_alone() {
    for args in [
        &["calls", "a.pcap"][..],
        &["help"],
        &["--help"],
        &["-V"],
        &[],
    ] {
        assert_eq!(with_default_command(argv(args)), argv(args), "{args:?}");
    }
}

#[test]
fn options_before_the_files_mean_analyze_or_move_after_their_command() -> Result<(), String> {
    assert_eq!(
        with_default_command(argv(&["--format", "json", "a.pcap"])),
        argv(&["analyze", "--format", "json", "a.pcap"])
    );
    assert_eq!(
        with_default_command(argv(&["--color=never", "--ladder", "a.pcap"])),
        argv(&["analyze", "--color=never", "--ladder", "a.pcap"])
    );
    assert_eq!(
        with_default_command(argv(&["--format", "json", "calls", "a.pcap"])),
        argv(&["calls", "--format", "json", "a.pcap"])
    );
    let Command::Analyze(args) = parsed(&["--format", "json", "a.pcap"])? else {
        return Err("not analyze".into());
    };
    assert_eq!(args.common.format, Format::Json);
    Ok(())
}

#[test]
fn analyze_defaults() -> Result<(), String> {
    let Command::Analyze(args) = parsed(&["analyze", "a.pcap"])? else {
        return Err("not analyze".into());
    };
    assert_eq!(args.common.format, Format::Text);
    assert_eq!(args.common.color, Color::Auto);
    assert!(!args.common.single_thread && !args.ladder);
    assert_eq!(args.common.max_pending, crate::transfer::MAX_PENDING);
    assert!(args.rules.allow.is_empty() && args.rules.warn.is_empty());
    assert!(args.rules.deny.is_empty() && args.rules.config.is_none());
    Ok(())
}

#[test]
fn analyze_takes_every_option() -> Result<(), String> {
    let Command::Analyze(args) = parsed(&[
        "analyze",
        "--format",
        "jsonl",
        "--color",
        "never",
        "--single-thread",
        "--max-pending",
        "100",
        "--ladder",
        "--allow",
        "X107",
        "--allow",
        "refer-accepted-202",
        "--warn",
        "X301",
        "--deny",
        "X201",
        "--config",
        "rules.toml",
        "a.pcap",
    ])?
    else {
        return Err("not analyze".into());
    };
    assert_eq!(args.common.format, Format::Jsonl);
    assert_eq!(args.common.color, Color::Never);
    assert!(args.common.single_thread && args.ladder);
    assert_eq!(super::shared::threads(&args.common).max_pending, 100);
    assert_eq!(args.rules.allow, ["X107", "refer-accepted-202"]);
    assert_eq!(args.rules.warn, ["X301"]);
    assert_eq!(args.rules.deny, ["X201"]);
    assert_eq!(args.rules.config.as_deref(), Some("rules.toml"));
    Ok(())
}

#[test]
fn check_fail_on_maps_to_a_severity() -> Result<(), String> {
    let Command::Check(args) = parsed(&["check", "a.pcap"])? else {
        return Err("not check".into());
    };
    assert_eq!(args.fail_on, None);
    for (word, severity) in [
        ("error", Severity::Error),
        ("warning", Severity::Warning),
        ("info", Severity::Info),
    ] {
        let Command::Check(args) = parsed(&["check", "--fail-on", word, "a.pcap"])? else {
            return Err("not check".into());
        };
        assert_eq!(args.fail_on.map(SeverityArg::severity), Some(severity));
    }
    assert_eq!(
        refused(&["check", "--fail-on", "fatal", "a.pcap"])?.kind(),
        clap::error::ErrorKind::InvalidValue
    );
    Ok(())
}

#[test]
fn explain_rules_calls_and_messages() -> Result<(), String> {
    let Command::Explain(args) = parsed(&["explain", "X301", "--format", "json"])? else {
        return Err("not explain".into());
    };
    assert_eq!((args.code.as_str(), args.format), ("X301", DocFormat::Json));
    let Command::Rules(args) = parsed(&["rules"])? else {
        return Err("not rules".into());
    };
    assert_eq!(args.format, DocFormat::Text);
    let Command::Calls(args) = parsed(&["calls", "--color", "always", "-"])? else {
        return Err("not calls".into());
    };
    assert!(!args.correlate);
    let common = args.common;
    assert_eq!(
        (common.files.as_slice(), common.color),
        (&["-".to_string()][..], Color::Always)
    );
    let Command::Messages(common) = parsed(&["messages", "a.pcap", "b.pcap"])? else {
        return Err("not messages".into());
    };
    assert_eq!(common.files.len(), 2);
    Ok(())
}

#[test]
fn bad_command_lines_exit_2_and_help_exits_0() -> Result<(), String> {
    // A capture is required; an option without its command is no capture.
    for args in [
        &["analyze"][..],
        &["calls"],
        &["explain"],
        &["--format", "json"],
        &["analyze", "--format", "xml", "a.pcap"],
        &["rules", "--format", "jsonl"],
        &["rules", "a.pcap"],
    ] {
        let e = refused(args)?;
        assert!(e.use_stderr(), "{args:?}");
        assert_eq!(
            usage_exit_code(&e),
            std::process::ExitCode::from(2),
            "{args:?}"
        );
    }
    for args in [
        &["--help"][..],
        &["--version"],
        &["help"],
        &["analyze", "--help"],
    ] {
        let e = refused(args)?;
        assert!(!e.use_stderr(), "{args:?}");
        assert_eq!(
            usage_exit_code(&e),
            std::process::ExitCode::SUCCESS,
            "{args:?}"
        );
    }
    Ok(())
}

#[test]
fn a_closed_pipe_is_success_and_other_write_errors_exit_2() {
    use std::io::{Error, ErrorKind};
    use std::process::ExitCode;
    assert_eq!(exit_code(Ok(ExitCode::from(1))), ExitCode::from(1));
    assert_eq!(
        exit_code(Err(Error::from(ErrorKind::BrokenPipe))),
        ExitCode::SUCCESS
    );
    assert_eq!(
        exit_code(Err(Error::from(ErrorKind::StorageFull))),
        ExitCode::from(2)
    );
}

fn rule_args(allow: &[&str], deny: &[&str], config: Option<&str>) -> RuleArgs {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    RuleArgs {
        allow: owned(allow),
        warn: Vec::new(),
        deny: owned(deny),
        config: config.map(str::to_string),
    }
}

#[test]
fn the_command_line_wins_over_the_config_file() -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("sipxfer-cli-test-{}.toml", std::process::id()));
    std::fs::write(&path, "deny = [\"X107\"]\nfail-on = \"warning\"\n")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let config = shared::rules_config(&rule_args(&["X107"], &[], path.to_str()));
    let _ = std::fs::remove_file(&path);
    let config = config?;
    let levels: Vec<(&str, Level)> = config
        .levels
        .iter()
        .map(|(r, l)| (r.as_str(), *l))
        .collect();
    assert_eq!(levels, [("X107", Level::Deny), ("X107", Level::Allow)]);
    assert_eq!(config.fail_on, Some(Severity::Warning));
    Ok(())
}

#[test]
fn a_missing_named_config_file_or_an_unknown_rule_is_an_error() {
    let missing = shared::rules_config(&rule_args(&[], &[], Some("/nonexistent/sipxfer.toml")));
    assert!(
        matches!(&missing, Err(e) if e.starts_with("/nonexistent/sipxfer.toml: ")),
        "a named config file must exist"
    );
    let unknown = shared::rules_config(&rule_args(&[], &["X999-no-such-rule"], None));
    assert!(
        matches!(&unknown, Err(e) if e.contains("X999-no-such-rule")),
        "no such rule"
    );
}

#[test]
fn max_pending_is_at_least_one() {
    // A cap of zero would decide every transfer early: refused, not taken as one.
    assert!(parsed(&["analyze", "--max-pending", "0", "a.pcap"]).is_err());
    assert!(parsed(&["calls", "--max-pending", "1", "a.pcap"]).is_ok());
}
