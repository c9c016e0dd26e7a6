//! `analyze --format html`: one self-contained page (no external script, font or
//! stylesheet; it works offline) with, per transfer, the verdict, the roles, the phase
//! table, the findings (linked to their `explain` texts, embedded in the page) and an
//! SVG ladder drawn from [`super::ladder`]'s model; then the calls that are not part of
//! a transfer and the findings about the capture.
//!
//! Guarantees:
//! - Every byte that came off the wire is HTML-escaped, after its control characters
//!   are escaped as in text output ([`super::escape_str`]); the page's only script and
//!   style are the inline ones below, and its Content-Security-Policy allows nothing
//!   else to load.
//! - Thousands of transfers: each ladder's SVG (and the messages it shows) is in an
//!   inert `<template>` until its ladder is opened, so the browser lays out only the
//!   ladders looked at. The first [`OPEN_LADDERS`] transfers open theirs at once.
//! - The page's script writes what it drew into `data-` attributes of `<body>`
//!   (`data-svgs`, `data-arrows`, `data-errors`), for the headless-browser check.

use std::fmt::Write as _;

use super::ladder::{self, Arrow, Ladder, Rows};
use super::refers::Unlinked;
use super::{Clock, escape_str, frame_name, phase};
use crate::analysis::Analysis;
use crate::capture::FrameRef;
use crate::rules::{Finding, Rule};
use crate::transfer::{Kind, Phase, Role, Transfer, calls_outside_transfers};

/// How many transfers have their ladder drawn when the page opens; the others draw
/// theirs when opened.
pub const OPEN_LADDERS: usize = 20;

/// HTML-escapes text (the five characters that matter in text and attributes).
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text that came off the wire: control characters escaped, then HTML-escaped.
fn wire(text: &str) -> String {
    html(&escape_str(text))
}

/// A whole SIP message for the page: each line's control characters escaped (the
/// line breaks kept), then HTML-escaped.
fn message_text(raw: &str) -> String {
    let lines: Vec<String> = raw
        .split('\n')
        .map(|l| escape_str(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect();
    html(lines.join("\n").trim_end())
}

/// How frames are named and timed on this page.
#[derive(Clone, Copy)]
struct Frames {
    inputs: usize,
    clock: Clock,
}

impl Frames {
    fn name(self, f: FrameRef) -> String {
        frame_name(self.inputs, f)
    }
    fn time(self, f: FrameRef) -> String {
        self.clock.text(f)
    }
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 3em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0}td,th{padding:2px 8px;text-align:left;vertical-align:top}
th{border-bottom:1px solid #999}tr:nth-child(even) td{background:#f4f4f4}
code,.mono{font-family:ui-monospace,monospace;font-size:12px}
section.transfer{border-top:2px solid #ccc;padding-top:.6em;margin-top:1.2em}
.completed{color:#176f2c}.failed,.rejected,.abandoned{color:#b00020}.unknown{color:#8a6100}
.sev-error{color:#b00020}.sev-warning{color:#8a6100}.sev-info{color:#555}
.missing td{color:#777;font-style:italic}
details.ladder summary{cursor:pointer;font-weight:600}
svg.ladder{display:block;margin:.5em 0;font-family:ui-monospace,monospace;font-size:11px}
svg .lane{stroke:#999;stroke-dasharray:3 3}
svg .arrow line,svg .arrow path{stroke-width:1.6;fill:none}
svg .arrow{cursor:pointer}svg .arrow:hover text,svg .arrow:focus text{font-weight:bold}
svg .arrow.retransmission line,svg .arrow.retransmission path{stroke-dasharray:5 3}
svg .original line,svg .original path{stroke:#1f5fbf}svg .original text.label{fill:#1f5fbf}
svg .consultation line,svg .consultation path{stroke:#8e3fb0}svg .consultation text.label{fill:#8e3fb0}
svg .new-call line,svg .new-call path{stroke:#1d8a3a}svg .new-call text.label{fill:#1d8a3a}
svg .refer line,svg .refer path{stroke:#b35c00}svg .refer text.label{fill:#b35c00}
svg .band-text{font-size:10px}
.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:1.5em;height:3px;vertical-align:middle;margin-right:.3em}
#message{position:fixed;right:1em;bottom:1em;max-width:60%;max-height:60%;overflow:auto;background:#fffbe6;border:1px solid #c9b458;padding:.6em;margin:0;white-space:pre-wrap;font:12px ui-monospace,monospace;box-shadow:0 2px 8px #0003}
#message-close{position:fixed;right:1.4em;bottom:calc(60% + 1.2em)}
.explain article{margin:.6em 0 1.2em}
"#;

const SCRIPT: &str = r#"
(function(){
var body=document.body,errors=0;
window.addEventListener('error',function(){errors++;body.setAttribute('data-errors',errors);});
function draw(d){var t=d.querySelector('template');if(t){d.appendChild(t.content.cloneNode(true));t.parentNode.removeChild(t);}count();}
function count(){
body.setAttribute('data-svgs',document.querySelectorAll('svg.ladder').length);
body.setAttribute('data-arrows',document.querySelectorAll('svg.ladder g.arrow').length);
document.querySelectorAll('section.transfer').forEach(function(s){var v=s.querySelector('svg.ladder');if(v)s.setAttribute('data-arrows',v.querySelectorAll('g.arrow').length);});}
var all=location.hash==='#all';
document.querySelectorAll('details.ladder').forEach(function(d){
if(all)d.open=true;if(d.open)draw(d);
d.addEventListener('toggle',function(){if(d.open)draw(d);});});
function reveal(){var s=location.hash&&document.getElementById(location.hash.slice(1));
if(s&&s.classList.contains('transfer')){var d=s.querySelector('details.ladder');if(d&&!d.open)d.open=true;}}
window.addEventListener('hashchange',reveal);reveal();
var panel=document.getElementById('message'),close=document.getElementById('message-close');
function show(g){var t=g.querySelector('title');panel.textContent=t?t.textContent:'';panel.hidden=false;close.hidden=false;}
document.addEventListener('click',function(e){var g=e.target.closest&&e.target.closest('g.arrow');if(g)show(g);});
document.addEventListener('keydown',function(e){if(e.key==='Enter'&&e.target.closest&&e.target.closest('g.arrow'))show(e.target.closest('g.arrow'));if(e.key==='Escape'){panel.hidden=true;close.hidden=true;}});
close.addEventListener('click',function(){panel.hidden=true;close.hidden=true;});
count();body.setAttribute('data-errors',errors);body.setAttribute('data-ready','1');
})();
"#;

/// Renders the whole page. `rows` must have been collected [`Rows::with_messages`] for
/// the arrows to show their messages.
pub fn page(a: &Analysis, rows: &Rows) -> String {
    page_with(a, rows, &[])
}

/// Renders the whole page, with the REFERs that could not be linked into a transfer
/// (never "no REFER" when a REFER was seen).
pub fn page_with(a: &Analysis, rows: &Rows, unlinked: &[Unlinked]) -> String {
    let frames = Frames {
        inputs: a.inputs.len(),
        clock: Clock::of(a),
    };
    let mut out = String::with_capacity(1 << 16);
    let files: Vec<String> = a
        .inputs
        .iter()
        .map(|i| html(super::short_path(&i.path)))
        .collect();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sipxfer: {}</title>\n<style>{STYLE}</style>\n</head>\n<body data-transfers=\"{}\">\n",
        files.join(", "),
        a.transfers.len()
    );
    let _ = writeln!(out, "<h1>sipxfer: {}</h1>", files.join(", "));
    let _ = writeln!(
        out,
        "<p class=\"summary\">Read {} file{}: {} frames, {} SIP messages, {} dialogs, {} transfer{}.</p>",
        a.inputs.len(),
        if a.inputs.len() == 1 { "" } else { "s" },
        a.stats.frames,
        a.stats.sip.messages,
        a.dialogs.len(),
        a.transfers.len(),
        if a.transfers.len() == 1 { "" } else { "s" },
    );
    if a.transfers.is_empty() && unlinked.is_empty() {
        let _ = writeln!(out, "<p>No transfer (no REFER) in the capture.</p>");
    }
    if !unlinked.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"unlinked\">\n<h2>REFERs not linked into a transfer</h2>\n<ul>"
        );
        for u in unlinked {
            let _ = writeln!(
                out,
                "<li>REFER frame {} at {} could not be linked: {}</li>",
                frames.name(u.frame),
                frames.time(u.frame),
                wire(&u.reason)
            );
        }
        let _ = writeln!(out, "</ul>\n</section>");
    }
    if a.transfers.len() > 1 {
        out.push_str(&contents(a, frames));
    }
    let _ = writeln!(
        out,
        "<p class=\"legend\">Dialogs: <span><i style=\"background:#1f5fbf\"></i>original call</span>\
         <span><i style=\"background:#8e3fb0\"></i>consultation</span>\
         <span><i style=\"background:#1d8a3a\"></i>new call</span>\
         <span><i style=\"background:#b35c00\"></i>out-of-dialog REFER</span>\
         dashed: retransmission. Click an arrow (or focus it and press Enter) to see the whole message.</p>"
    );
    for (i, t) in a.transfers.iter().enumerate() {
        out.push_str(&transfer(a, t, rows, frames, i < OPEN_LADDERS));
    }
    out.push_str(&other_calls(a, frames));
    if !a.findings.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"capture-findings\">\n<h2>Findings about the capture</h2>"
        );
        out.push_str(&findings(&a.findings, frames));
        let _ = writeln!(out, "</section>");
    }
    out.push_str(&explanations(a));
    let _ = write!(
        out,
        "<button id=\"message-close\" type=\"button\" hidden>close</button>\n\
         <pre id=\"message\" hidden></pre>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

/// The table of contents: one row per transfer.
fn contents(a: &Analysis, frames: Frames) -> String {
    let mut out = String::from(
        "<nav id=\"contents\">\n<h2>Transfers</h2>\n<table>\n<tr><th>#</th><th>kind</th><th>outcome</th><th>REFER</th><th>transferor</th><th>transferee</th><th>target</th><th>findings</th></tr>\n",
    );
    for t in &a.transfers {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#transfer-{id}\">{id}</a></td><td>{}</td><td class=\"{}\">{}</td><td>frame {} at {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.kind.as_str(),
            t.outcome.as_str(),
            html(&outcome(t)),
            frames.name(t.refer.frame),
            frames.time(t.refer.frame),
            wire(&t.transferor.short()),
            wire(&t.transferee.short()),
            wire(&t.target.short()),
            t.findings.len(),
            id = t.id,
        );
    }
    out.push_str("</table>\n</nav>\n");
    out
}

/// `completed`, `failed 486`.
fn outcome(t: &Transfer) -> String {
    match t.status {
        Some(s) => format!("{} {s}", t.outcome.as_str()),
        None => t.outcome.as_str().to_string(),
    }
}

/// One transfer: verdict, roles, REFER and progress, phases, findings, ladder.
fn transfer(a: &Analysis, t: &Transfer, rows: &Rows, frames: Frames, open: bool) -> String {
    let ladder = ladder::build(a, t, rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section class=\"transfer\" id=\"transfer-{}\" data-kind=\"{}\" data-outcome=\"{}\" data-messages=\"{}\">",
        t.id,
        t.kind.as_str(),
        t.outcome.as_str(),
        ladder.arrows.len()
    );
    let kind = if t.kind == Kind::NotTransfer {
        "REFER (not a call transfer)"
    } else {
        t.kind.as_str()
    };
    let mut extra = String::new();
    if let Some(id) = t.retry_of {
        let _ = write!(
            extra,
            " &middot; retries <a href=\"#transfer-{id}\">transfer {id}</a>"
        );
    }
    if let Some(id) = t.follows {
        let _ = write!(
            extra,
            " &middot; follows <a href=\"#transfer-{id}\">transfer {id}</a> (chained)"
        );
    }
    let _ = writeln!(
        out,
        "<h2>Transfer {} <span class=\"kind\">{kind}</span> <span class=\"verdict {}\">{}</span></h2>\n<p>REFER frame {} at {}{extra}</p>",
        t.id,
        t.outcome.as_str(),
        html(&outcome(t)),
        frames.name(t.refer.frame),
        frames.time(t.refer.frame),
    );
    let _ = writeln!(
        out,
        "<table class=\"roles\">\n<tr><th>role</th><th>party</th><th>address</th></tr>"
    );
    for (label, role) in [
        ("transferor", &t.transferor),
        ("transferee", &t.transferee),
        ("target", &t.target),
    ] {
        out.push_str(&role_row(label, role));
    }
    out.push_str("</table>\n");
    out.push_str(&refer(t, frames));
    out.push_str(&phases(t, frames));
    if let Some(rel) = &t.released {
        let _ = writeln!(
            out,
            "<p>Original call released{} at {} (frame {}), {} the outcome was known.</p>",
            rel.by
                .map(|r| format!(" by the {}", ladder::role_word(r)))
                .unwrap_or_default(),
            frames.time(rel.frame),
            frames.name(rel.frame),
            if rel.before_outcome {
                "<strong>before</strong>"
            } else {
                "after"
            }
        );
    }
    if let Some(note) = &t.note {
        let _ = writeln!(out, "<p class=\"note\">Note: {}</p>", wire(note));
    }
    let _ = writeln!(out, "<h3>Findings</h3>");
    if t.findings.is_empty() {
        let _ = writeln!(out, "<p>none</p>");
    } else {
        out.push_str(&findings(&t.findings, frames));
    }
    let _ = writeln!(
        out,
        "<details class=\"ladder\"{}>\n<summary>Ladder: {} messages, {} parties</summary>\n<template>",
        if open { " open" } else { "" },
        ladder.arrows.len(),
        ladder.lanes.len()
    );
    out.push_str(&svg(&ladder, frames));
    out.push_str("</template>\n</details>\n</section>\n");
    out
}

fn role_row(label: &str, r: &Role) -> String {
    let name = r.name.as_deref().map(wire).unwrap_or_default();
    format!(
        "<tr><td>{label}</td><td>{name} <code>{}</code></td><td><code>{}</code></td></tr>\n",
        wire(&r.uri),
        r.address.map(|a| a.to_string()).unwrap_or("-".to_string())
    )
}

/// The REFER, its answer, Referred-By, Replaces, the NOTIFYs and the new call.
fn refer(t: &Transfer, frames: Frames) -> String {
    let r = &t.refer;
    let mut out = String::from("<table class=\"refer\">\n");
    let response = match r.response {
        Some((f, s)) => format!("&rarr; {s} (frame {})", frames.name(f)),
        None => "&rarr; no response".to_string(),
    };
    let _ = writeln!(
        out,
        "<tr><td>REFER</td><td>frame {} Refer-To <code>{}</code> {response}</td></tr>",
        frames.name(r.frame),
        wire(&r.refer_to)
    );
    if let Some(by) = &r.referred_by {
        let _ = writeln!(
            out,
            "<tr><td>Referred-By</td><td><code>{}</code></td></tr>",
            wire(by)
        );
    }
    if let Some(rp) = &r.replaces {
        let part = |p: &Option<String>| p.as_deref().map_or("(missing)".to_string(), wire);
        let _ = writeln!(
            out,
            "<tr><td>Replaces</td><td><code>{}; to-tag={}; from-tag={}{}</code></td></tr>",
            part(&rp.call_id),
            part(&rp.to_tag),
            part(&rp.from_tag),
            if rp.early_only { "; early-only" } else { "" }
        );
    }
    let notifies: Vec<String> = t
        .notifies
        .iter()
        .map(|n| {
            let what = n
                .sipfrag
                .as_deref()
                .map(|s| wire(s.trim_start_matches("SIP/2.0 ")))
                .unwrap_or_else(|| "no sipfrag".to_string());
            let state = n
                .subscription_state
                .as_deref()
                .map(|s| format!(", {}", wire(s)))
                .unwrap_or_default();
            format!("{what} ({}{state})", frames.name(n.frame))
        })
        .collect();
    let _ = writeln!(
        out,
        "<tr><td>NOTIFY</td><td>{}</td></tr>",
        if notifies.is_empty() {
            "none".to_string()
        } else {
            notifies.join(" &rarr; ")
        }
    );
    if let Some(n) = &t.new_call {
        let _ = writeln!(
            out,
            "<tr><td>new call</td><td>INVITE frame {}, Call-ID <code>{}</code> (linked by {})</td></tr>",
            frames.name(n.invite),
            wire(&n.call_id),
            n.evidence.join(", ")
        );
    }
    out.push_str("</table>\n");
    out
}

/// The phase table: the phases as they happened (by start), then the missing ones.
fn phases(t: &Transfer, frames: Frames) -> String {
    let mut list: Vec<&Phase> = t.phases.iter().collect();
    list.sort_by_key(|p| {
        let start = p.first.map(|f| (f.ts_ns, f.seq));
        (start.is_none(), start, p.kind.number())
    });
    let mut out = String::from(
        "<table class=\"phases\">\n<tr><th>phase</th><th>start</th><th>end</th><th>frames</th><th>dialog</th></tr>\n",
    );
    for p in list {
        let name = format!("{} {}", p.kind.number(), wire(&phase::name(p)));
        match (p.first, p.last) {
            (Some(f), Some(l)) => {
                let _ = writeln!(
                    out,
                    "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}-{}</td><td><code>{}</code></td></tr>",
                    frames.time(f),
                    frames.time(l),
                    frames.name(f),
                    frames.name(l),
                    p.dialog.as_deref().map(wire).unwrap_or_default()
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "<tr class=\"missing\"><td>{name}</td><td colspan=\"4\">missing: {}</td></tr>",
                    html(&phase::why_missing(p).unwrap_or_default())
                );
            }
        }
    }
    out.push_str("</table>\n");
    out
}

/// Findings as a list, each code linked to its explanation on the page.
fn findings(list: &[Finding], frames: Frames) -> String {
    let mut out = String::from("<ul class=\"findings\">\n");
    for f in list {
        let at: Vec<String> = f.frames.iter().map(|x| frames.name(*x)).collect();
        let at = match at.len() {
            0 => String::new(),
            1 => format!("frame {}: ", at.join("")),
            _ => format!("frames {}: ", at.join(", ")),
        };
        let _ = writeln!(
            out,
            "<li class=\"sev-{sev}\">{sev} <a href=\"#explain-{code}\">{code}</a> {at}{} ({})</li>",
            wire(&f.message),
            html(f.rule.rfc),
            sev = f.severity.as_str(),
            code = f.rule.code,
        );
    }
    out.push_str("</ul>\n");
    out
}

/// The calls that are not part of any transfer.
fn other_calls(a: &Analysis, frames: Frames) -> String {
    let others = calls_outside_transfers(&a.transfers, &a.dialogs);
    if others.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section id=\"other-calls\">\n<h2>Calls not part of a transfer ({})</h2>\n<table>\n<tr><th>start</th><th>from</th><th>to</th><th>Call-ID</th><th>state</th><th>frames</th></tr>\n",
        others.len()
    );
    for d in others.iter().filter_map(|i| a.dialogs.get(*i)) {
        let party = |p: &crate::dialog::Party| {
            format!(
                "{} <code>{}</code>",
                p.name.as_deref().map(wire).unwrap_or_default(),
                wire(&p.uri)
            )
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}-{}</td></tr>",
            frames.time(d.first),
            party(&d.caller),
            party(&d.callee),
            wire(&d.call_id),
            wire(&super::calls::state_text(d)),
            frames.name(d.first),
            frames.name(d.last)
        );
    }
    out.push_str("</table>\n</section>\n");
    out
}

/// The `explain` text of every rule a finding on the page cites.
fn explanations(a: &Analysis) -> String {
    let mut rules: Vec<&'static Rule> = Vec::new();
    for f in a.all_findings() {
        if !rules.iter().any(|r| r.code == f.rule.code) {
            rules.push(f.rule);
        }
    }
    if rules.is_empty() {
        return String::new();
    }
    rules.sort_by_key(|r| r.code.to_string());
    let mut out =
        String::from("<section class=\"explain\" id=\"explain\">\n<h2>Rules cited</h2>\n");
    for r in rules {
        let e = r.explanation();
        let _ = writeln!(
            out,
            "<article id=\"explain-{code}\">\n<h3>{code} {} <small>({}, {})</small></h3>\n<p><em>{}</em></p>",
            html(r.name),
            r.severity.as_str(),
            html(r.rfc),
            html(r.summary),
            code = r.code,
        );
        for (title, text) in e.sections() {
            let _ = writeln!(out, "<h4>{}</h4>\n<p>{}</p>", html(title), html(text));
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    out
}

const ROW: usize = 26;
const LANE: usize = 190;
const LEFT: usize = 150;
const TOP: usize = 48;

/// The centre of a lane, in pixels.
fn lane_x(i: usize) -> usize {
    LEFT + i * LANE + LANE / 2
}

/// The ladder as SVG: lane heads, phase bands on the left, one `<g class="arrow">`
/// per message with the whole message in its `<title>`.
fn svg(ladder: &Ladder<'_, '_>, frames: Frames) -> String {
    let width = LEFT + LANE * ladder.lanes.len().max(1) + 10;
    let height = TOP + ROW * ladder.arrows.len() + 10;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    out.push_str(
        "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"context-stroke\"/></marker></defs>\n",
    );
    // Phase bands: a strip per phase number left of the rows, and a faint band across.
    for band in &ladder.bands {
        let n = band.phase.kind.number() as usize;
        let y = TOP + band.first * ROW;
        let h = (band.last + 1 - band.first) * ROW;
        let x = 4 + (n - 1) * 9;
        let colour = phase_colour(n);
        let _ = writeln!(
            out,
            "<g class=\"band\" data-phase=\"{n}\"><title>phase {n}: {}</title><rect x=\"{x}\" y=\"{y}\" width=\"7\" height=\"{h}\" fill=\"{colour}\" fill-opacity=\".7\"/><rect x=\"{LEFT}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{colour}\" fill-opacity=\".07\"/><text class=\"band-text\" x=\"{x}\" y=\"{}\">{n}</text></g>",
            wire(&phase::name(band.phase)),
            LANE * ladder.lanes.len(),
            y.saturating_sub(2),
        );
    }
    for (i, lane) in ladder.lanes.iter().enumerate() {
        let x = lane_x(i);
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"14\" text-anchor=\"middle\">{}</text><text x=\"{x}\" y=\"28\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><line class=\"lane\" x1=\"{x}\" y1=\"34\" x2=\"{x}\" y2=\"{}\"/>",
            html(&lane.address.to_string()),
            wire(&lane.role_text()),
            height - 4
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"100\" y=\"28\" text-anchor=\"end\" font-weight=\"bold\">frame</text><text x=\"104\" y=\"28\" font-weight=\"bold\">time</text>"
    );
    for (i, arrow) in ladder.arrows.iter().enumerate() {
        out.push_str(&arrow_svg(i, arrow, frames));
    }
    out.push_str("</svg>\n");
    out
}

fn phase_colour(n: usize) -> &'static str {
    const COLOURS: [&str; 8] = [
        "#1f5fbf", "#b35c00", "#1d8a3a", "#c2185b", "#5d4037", "#00838f", "#8e3fb0", "#757575",
    ];
    COLOURS.get(n.saturating_sub(1)).copied().unwrap_or("#999")
}

/// One message: frame and time at the left, the arrow, its label, the message in
/// its title.
fn arrow_svg(i: usize, arrow: &Arrow<'_>, frames: Frames) -> String {
    let y = TOP + i * ROW + ROW / 2 + 6;
    let (x1, x2) = (lane_x(arrow.from), lane_x(arrow.to));
    let mut classes = format!("arrow {}", arrow.leg.as_str());
    if arrow.retransmission {
        classes.push_str(" retransmission");
    }
    if arrow.row.is_response() {
        classes.push_str(" response");
    }
    let label = if arrow.retransmission {
        format!("{} (retransmission)", arrow.label)
    } else {
        arrow.label.clone()
    };
    let title = match &arrow.row.message {
        Some(m) => format!(
            "frame {} at {}, {} \u{2192} {}\n\n{}",
            frames.name(arrow.row.frame),
            frames.time(arrow.row.frame),
            arrow.row.src,
            arrow.row.dst,
            message_text(m)
        ),
        None => wire(&label),
    };
    let mut out = format!(
        "<g class=\"{classes}\" tabindex=\"0\" data-frame=\"{}\" data-call-id=\"{}\"><title>{title}</title>",
        frames.name(arrow.row.frame),
        wire(&arrow.row.call_id),
    );
    let _ = write!(
        out,
        "<text x=\"100\" y=\"{y}\" text-anchor=\"end\">{}</text><text x=\"104\" y=\"{y}\">{}</text>",
        frames.name(arrow.row.frame),
        frames.time(arrow.row.frame)
    );
    if x1 == x2 {
        let _ = write!(
            out,
            "<path d=\"M{x1},{}h30v10h-30\" marker-end=\"url(#head)\"/><text class=\"label\" x=\"{}\" y=\"{}\">{}</text>",
            y - 6,
            x1 + 34,
            y,
            wire(&label)
        );
    } else {
        let (start, end) = if x2 > x1 {
            (x1 + 2, x2 - 2)
        } else {
            (x1 - 2, x2 + 2)
        };
        let _ = write!(
            out,
            "<line x1=\"{start}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" marker-end=\"url(#head)\"/><text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            (x1 + x2) / 2,
            y - 4,
            wire(&label)
        );
    }
    out.push_str("</g>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(wire("a\x1b[2J<b>"), "a\\x1b[2J&lt;b&gt;");
    }

    #[test]
    fn an_arrow_escapes_everything_from_the_wire() {
        let hostile = "<img src=x onerror=alert(1)>\x1b[2J";
        let row = ladder::Row {
            frame: FrameRef::default(),
            src: "10.0.0.1:5060".parse().expect("addr"),
            dst: "10.0.0.2:5060".parse().expect("addr"),
            call_id: format!("id\"{hostile}"),
            label: "200 OK".to_string(),
            notify: None,
            cseq: Some((1, "INVITE".to_string())),
            message: Some(format!(
                "SIP/2.0 200 OK\r\nFrom: \"{hostile}\" <sip:a@b>\r\n\r\n"
            )),
        };
        let arrow = Arrow {
            row: &row,
            from: 1,
            to: 0,
            label: format!("200 {hostile}"),
            leg: ladder::Leg::NewCall,
            retransmission: true,
        };
        let frames = Frames {
            inputs: 1,
            clock: Clock::from_zero(0),
        };
        let svg = arrow_svg(0, &arrow, frames);
        assert!(!svg.contains("<img"), "{svg}");
        assert!(!svg.contains('\x1b'), "{svg}");
        assert!(
            svg.contains("&lt;img src=x onerror=alert(1)&gt;\\x1b[2J"),
            "{svg}"
        );
        assert!(svg.contains("data-call-id=\"id&quot;&lt;img"), "{svg}");
        assert!(svg.contains("class=\"arrow new-call retransmission response\""));
        assert!(svg.contains("(retransmission)"));
    }

    #[test]
    fn messages_keep_their_lines_and_lose_their_controls() {
        assert_eq!(
            message_text("INVITE sip:a@b SIP/2.0\r\nSubject: <i>\x07</i>\r\n\r\n"),
            "INVITE sip:a@b SIP/2.0\nSubject: &lt;i&gt;\\x07&lt;/i&gt;"
        );
    }
}
