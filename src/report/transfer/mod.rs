//! `sipxfer analyze`: each transfer with its roles, REFER, progress, phased flow,
//! release and findings, as text ([`text`]) or JSON ([`json`], [`JsonLines`]).

mod json;
mod legs;
mod text;

pub use json::*;
pub use text::{OtherCalls, finding_line, text, text_one, text_with, unlinked_lines};
