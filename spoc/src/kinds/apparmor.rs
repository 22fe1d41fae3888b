//! AppArmorProfile glue for the shared verbs: validate (with the real parser when installed),
//! convert to policy text, merge. The logic lives in spo-apparmor.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;
use spo_apparmor::install::{ApparmorParser, Diagnostic};
use spo_apparmor::{AppArmorProfile, Rendered};
use spo_core::{Document, Violations};

use crate::input::Item;

/// Environment variable naming the `apparmor_parser` binary (tests, unusual installs).
pub const PARSER_ENV: &str = "SPOC_APPARMOR_PARSER";

/// The parser to compile with: `$SPOC_APPARMOR_PARSER`, else the installed one, else none.
pub fn parser() -> Option<ApparmorParser> {
    match std::env::var_os(PARSER_ENV) {
        Some(p) if !p.is_empty() => Some(ApparmorParser::new(
            PathBuf::from(p),
            spo_apparmor::install::SystemRunner,
        )),
        _ => ApparmorParser::find(),
    }
}

fn decode(doc: &Document) -> Result<AppArmorProfile> {
    AppArmorProfile::from_document(doc).map_err(|e| match e {
        // Unwrapped so callers find the DecodeError (field path) in the chain.
        spo_apparmor::Error::Decode(d) => anyhow::Error::new(d),
        other => anyhow::Error::new(other),
    })
}

/// The manifest of an item of kind AppArmorProfile.
pub fn document(item: &Item) -> Result<&Document> {
    match item {
        Item::Manifest(d) => Ok(d),
        other => anyhow::bail!(
            "expected an AppArmorProfile manifest, found {}",
            other.kind()
        ),
    }
}

/// Decode errors are `Err`; rule violations (AA-01, AA-11) are listed; when the profile is
/// valid and `apparmor_parser` is installed, the rendered policy is compiled
/// (`-Q -K -M <features>`) and the parser's errors are reported against the input field
/// that produced the offending line.
pub fn validate(doc: &Document) -> Result<Violations> {
    let profile = decode(doc)?;
    let violations = spo_apparmor::validate(&profile, None);
    if !violations.is_empty() {
        return Ok(violations);
    }
    let rendered = spo_apparmor::render_with_origins(&profile, None)?;
    let Some(parser) = parser() else {
        tracing::info!("apparmor_parser is not installed: the policy was not compiled");
        return Ok(violations);
    };
    let diagnostics = parser
        .compile(&rendered.text)
        .context("cannot run apparmor_parser")?;
    Ok(diagnostics_to_violations(&rendered, &diagnostics, &profile))
}

/// Maps parser diagnostics to violations on the input fields.
fn diagnostics_to_violations(
    rendered: &Rendered,
    diagnostics: &[Diagnostic],
    profile: &AppArmorProfile,
) -> Violations {
    let fallback = if profile.spec.raw_policy().is_some() {
        "spec.policy"
    } else {
        "spec.abstract"
    };
    let mut out = Violations::new();
    for d in diagnostics {
        // Messages without a line number often quote the offending text.
        let line = d.line.or_else(|| {
            let needle = d
                .message
                .split('\'')
                .nth(1)
                .map(str::to_string)
                .or_else(|| {
                    d.message
                        .strip_prefix("Found reference to variable ")
                        .and_then(|r| r.split(',').next())
                        .map(|v| format!("@{{{v}}}"))
                })?;
            rendered
                .text
                .lines()
                .position(|l| l.contains(&needle))
                .map(|i| i + 1)
        });
        let path = line
            .and_then(|n| rendered.origin_of_line(n))
            .unwrap_or(fallback);
        // A raw policy's origin already names its line.
        let at = match line {
            Some(n) if profile.spec.raw_policy().is_none() => {
                format!(" (line {n} of the rendered policy)")
            }
            _ => String::new(),
        };
        out.push(path, format!("apparmor_parser: {}{at}", d.message));
    }
    out
}

/// The policy text (CLI-14): profile name `program_name`, else `metadata.name` (then the
/// profile is unattached: it confines nothing until a pod or program refers to it by name).
pub fn convert(doc: &Document, program_name: Option<&str>) -> Result<String> {
    let profile = decode(doc)?;
    if program_name.is_none() {
        tracing::info!(
            name = %profile.metadata.name,
            "no --program-name: the profile is named after metadata.name and is unattached"
        );
    }
    Ok(spo_apparmor::render(&profile, program_name)?)
}

/// The merged AppArmorProfile manifest (CLI-15): union into the first profile.
pub fn merge(docs: &[Document]) -> Result<Value> {
    let profiles = docs.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(spo_apparmor::merge(&profiles)?.to_manifest()?)
}

/// `merge --check` (CLI-16): the merged manifest and whether the normalised first profile
/// already equals it.
pub fn merge_check(docs: &[Document]) -> Result<(Value, bool)> {
    let merged = merge(docs)?;
    let first = docs
        .first()
        .map(decode)
        .transpose()?
        .context("no profile(s) provided")?;
    let up_to_date = spo_apparmor::normalize(&first).to_manifest()? == merged;
    Ok((merged, up_to_date))
}
