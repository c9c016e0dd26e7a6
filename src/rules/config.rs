//! What the user says about the rules: per-rule levels (`--allow`, `--warn`, `--deny`
//! and the config file) and the trusted domains.
//!
//! The config file is `sipxfer.toml` in the current directory, or `--config FILE`:
//!
//! ```toml
//! fail-on = "warning"                    # check's threshold (default: error)
//! allow = ["X107"]                        # silence these rules
//! warn = ["X401"]                         # report these as warnings
//! deny = ["X301", "refer-accepted-202"]   # report these as errors
//! trusted-domains = ["example.com", "10.0.0.0/8"]
//! ```
//!
//! Only this small subset of TOML is read (string values and one-line arrays of
//! strings, `#` comments), by hand: it is all the file needs, and it keeps the
//! dependency list to the crates the design names. Anything else in the file, and a
//! rule code or name that is not in the catalog, is an error that names the line, so
//! a typo is never ignored silently.

use std::net::IpAddr;

use super::catalog::{self, Code, Rule, Severity};

/// The level a user gives a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    Info,
    Warn,
    Deny,
}

/// The rules configuration of a run.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Per-rule levels, later entries winning (the file first, then the command line).
    pub levels: Vec<(Code, Level)>,
    /// Domains (host names, with their subdomains; IP addresses; IPv4/IPv6 CIDR
    /// blocks) a transfer target may be in. Empty: the trusted-domain rule is silent.
    pub trusted_domains: Vec<String>,
    /// `check` fails on findings at or above this severity.
    pub fail_on: Option<Severity>,
}

impl Config {
    /// The severity a finding of `rule` is reported with, `None` when allowed.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        let level = self
            .levels
            .iter()
            .rev()
            .find(|(code, _)| *code == rule.code)
            .map(|(_, level)| *level);
        match level {
            None if rule.off_by_default => None,
            None => Some(rule.severity),
            Some(Level::Allow) => None,
            Some(Level::Info) => Some(Severity::Info),
            Some(Level::Warn) => Some(Severity::Warning),
            Some(Level::Deny) => Some(Severity::Error),
        }
    }

    /// Sets the level of a rule named by code or name.
    pub fn set(&mut self, code_or_name: &str, level: Level) -> Result<(), String> {
        let rule = catalog::find(code_or_name.trim()).ok_or_else(|| {
            format!(
                "no rule {:?}: `sipxfer rules` lists every code and name",
                code_or_name
            )
        })?;
        self.levels.push((rule.code, level));
        Ok(())
    }

    /// Whether `host` (of a target URI) is inside the trusted domains.
    pub fn trusts(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        self.trusted_domains.iter().any(|d| {
            let d = d.trim().to_ascii_lowercase();
            if let (Some(ip), Some((net, bits))) = (ip, d.split_once('/')) {
                return in_block(ip, net, bits);
            }
            host == d || host.ends_with(&format!(".{d}"))
        })
    }

    /// Reads the config file's text. Errors name the line.
    pub fn parse_file(&mut self, text: &str) -> Result<(), String> {
        for (i, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            let at = |msg: String| format!("line {}: {msg}", i + 1);
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| at(format!("expected `key = value`, found {line:?}")))?;
            let key = key.trim();
            let values = parse_value(value.trim()).map_err(at)?;
            match key {
                "allow" | "info" | "warn" | "deny" => {
                    let level = match key {
                        "allow" => Level::Allow,
                        "info" => Level::Info,
                        "warn" => Level::Warn,
                        _ => Level::Deny,
                    };
                    for v in values {
                        self.set(&v, level).map_err(at)?;
                    }
                }
                "trusted-domains" | "trusted_domains" => self.trusted_domains.extend(values),
                "fail-on" | "fail_on" => {
                    let v = values.first().map(String::as_str).unwrap_or_default();
                    self.fail_on = Some(parse_severity(v).map_err(at)?);
                }
                other => {
                    return Err(at(format!(
                        "unknown key {other:?} (known: allow, info, warn, deny, trusted-domains, fail-on)"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `error`, `warning` or `info`.
pub fn parse_severity(text: &str) -> Result<Severity, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Severity::Error),
        "warning" | "warn" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(format!(
            "{other:?} is not a severity (error, warning, info)"
        )),
    }
}

/// Removes a `#` comment that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return line.get(..i).unwrap_or(line),
            _ => {}
        }
    }
    line
}

/// A quoted string or an array of quoted strings, on one line.
fn parse_value(value: &str) -> Result<Vec<String>, String> {
    let string = |s: &str| -> Result<String, String> {
        let s = s.trim();
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map(str::to_string)
            .ok_or_else(|| format!("expected a quoted string, found {s:?}"))
    };
    if let Some(inner) = value.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| "an array must close on the same line with `]`".to_string())?;
        inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(string)
            .collect()
    } else {
        Ok(vec![string(value)?])
    }
}

/// Whether `ip` is inside the block `net/bits`.
fn in_block(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_change_severity_and_later_ones_win() {
        let mut c = Config::default();
        let rule = Code::X401.rule();
        assert_eq!(c.severity(rule), Some(Severity::Info));
        c.set("referred-by-not-copied", Level::Deny)
            .expect("by name");
        assert_eq!(c.severity(rule), Some(Severity::Error));
        c.set("x401", Level::Allow).expect("by code, any case");
        assert_eq!(c.severity(rule), None);
        assert!(c.set("X999", Level::Deny).is_err());
    }

    #[test]
    fn a_rule_off_by_default_is_reported_only_when_turned_on() {
        let mut c = Config::default();
        let rule = Code::X107.rule();
        assert!(rule.off_by_default);
        assert_eq!(c.severity(rule), None);
        c.set("refer-accepted-202", Level::Warn).expect("by name");
        assert_eq!(c.severity(rule), Some(Severity::Warning));
        c.set("X107", Level::Info).expect("by code");
        assert_eq!(c.severity(rule), Some(Severity::Info));
        c.set("X107", Level::Allow).expect("by code");
        assert_eq!(c.severity(rule), None);
    }

    #[test]
    fn the_config_file_is_read_and_typos_are_errors() {
        let mut c = Config::default();
        c.parse_file(
            "# sipxfer.toml\nfail-on = \"warning\"\nallow = [\"X107\", \"X206\"] # quiet\n\
             deny = [\"X401\"]\ntrusted-domains = [\"example.com\", \"10.0.0.0/8\", \"2001:db8::/32\"]\n",
        )
        .expect("valid file");
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.severity(Code::X206.rule()), None);
        assert_eq!(c.severity(Code::X401.rule()), Some(Severity::Error));
        assert!(c.trusts("pbx.example.com") && c.trusts("EXAMPLE.com"));
        assert!(!c.trusts("example.com.evil.net") && !c.trusts("notexample.com"));
        assert!(c.trusts("10.1.2.3") && !c.trusts("11.0.0.1"));
        assert!(c.trusts("[2001:db8::5]") && !c.trusts("2001:db9::5"));
        let err = Config::default()
            .parse_file("\nallwo = [\"X101\"]\n")
            .expect_err("typo");
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(Config::default().parse_file("deny = [\"X999\"]").is_err());
        assert!(Config::default().parse_file("deny = X101").is_err());
    }
}
