//! Protocol violations: the catalog of rules and the checks that find them.

pub mod catalog;

pub use catalog::{RULES, Rule, Severity};
