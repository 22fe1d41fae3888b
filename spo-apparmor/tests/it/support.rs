//! Shared helpers: fixtures and the real parser.

use std::path::{Path, PathBuf};

use spo_apparmor::install::{ApparmorParser, Diagnostic};
use spo_apparmor::AppArmorProfile;
use spo_core::parse_documents;

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

pub fn profiles(text: &str) -> Vec<AppArmorProfile> {
    parse_documents(text)
        .unwrap()
        .iter()
        .map(|d| AppArmorProfile::from_document(d).unwrap())
        .collect()
}

/// The real parser in compile-only mode, or `None` (with the reason printed) when it is not
/// installed. CI installs it (`make deps`), so there the tests always run.
pub fn parser() -> Option<ApparmorParser> {
    let p = ApparmorParser::find();
    if p.is_none() {
        eprintln!("SKIP: apparmor_parser is not installed (apt-get install apparmor)");
    }
    p
}

/// Compiles `text` with the real parser; `Err` with the diagnostics when it is rejected.
pub fn compile(parser: &ApparmorParser, text: &str) -> Result<(), Vec<Diagnostic>> {
    let d = parser.compile(text).unwrap();
    if d.is_empty() {
        Ok(())
    } else {
        Err(d)
    }
}

/// True when a line of `text` is a `deny` rule (AA-04 forbids them in complain mode).
pub fn has_deny_rule(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("deny "))
}
