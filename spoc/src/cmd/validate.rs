//! `spoc validate FILE…`: report every violation of every document; exit 1 when any.

use anyhow::Result;
use serde::Serialize;
use spo_core::{Kind, Violation};

use crate::cli::{Format, Global, ValidateArgs};
use crate::input::{self, Item};
use crate::kinds;
use crate::Outcome;

/// The result for one document.
#[derive(Debug, Serialize)]
struct Report {
    file: String,
    document: usize,
    kind: String,
    name: String,
    valid: bool,
    violations: Vec<ViolationOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ViolationOut {
    path: String,
    reason: String,
}

impl From<Violation> for ViolationOut {
    fn from(v: Violation) -> Self {
        ViolationOut {
            path: v.path,
            reason: v.reason,
        }
    }
}

fn check(
    item: &Item,
    file: &std::path::Path,
    args: &ValidateArgs,
) -> Result<(spo_core::Violations, Vec<String>)> {
    match item.kind() {
        Kind::SeccompProfile => kinds::seccomp::validate(
            item,
            file,
            &kinds::seccomp::ValidateOpts {
                profiles_dir: &args.profiles_dir,
                allowed_syscalls: &args.allowed_syscalls,
                allowed_actions: &args.allowed_actions,
            },
        ),
        Kind::SelinuxProfile | Kind::RawSelinuxProfile => {
            let Item::Manifest(doc) = item else {
                anyhow::bail!("expected a manifest")
            };
            let mut dirs: Vec<std::path::PathBuf> = vec![match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => ".".into(),
            }];
            dirs.extend(args.profiles_dir.iter().cloned());
            let v = kinds::selinux::validate_in(doc, args.selinux_base.as_deref(), &dirs)?;
            Ok((v, Vec::new()))
        }
        Kind::AppArmorProfile => Ok((
            kinds::apparmor::validate(kinds::apparmor::document(item)?)?,
            Vec::new(),
        )),
        Kind::ProfileRecording
        | Kind::ProfileBinding
        | Kind::SecurityProfilesOperatorDaemon
        | Kind::SecurityProfileNodeStatus => {
            let Item::Manifest(doc) = item else {
                anyhow::bail!("expected a manifest")
            };
            Ok((spo_core::others::validate_other(doc), Vec::new()))
        }
        other => anyhow::bail!("spoc cannot validate a {}", other.as_str()),
    }
}

/// Validates all files.
pub fn run(args: &ValidateArgs, global: &Global) -> Result<Outcome> {
    let mut reports = Vec::new();
    for file in &args.files {
        let items = input::load(file)?;
        for item in &items {
            let (document, name) = item.position();
            let (violations, warnings) = match check(item, file, args) {
                Ok((v, w)) => (v.into_vec(), w),
                Err(e) => (vec![kinds::seccomp::decode_violation(&e)], Vec::new()),
            };
            reports.push(Report {
                file: file.display().to_string(),
                document,
                kind: item.kind().to_string(),
                name,
                valid: violations.is_empty(),
                violations: violations.into_iter().map(Into::into).collect(),
                warnings,
            });
        }
    }
    let invalid = reports.iter().filter(|r| !r.valid).count();
    match global.format {
        Some(Format::Json) => {
            crate::output::print_stdout(&(serde_json::to_string_pretty(&reports)? + "\n"))?
        }
        Some(Format::Jsonl) => {
            let values = reports
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?;
            crate::output::print_stdout(&crate::output::render(&values, Format::Jsonl)?)?
        }
        Some(Format::Yaml) => crate::output::print_stdout(&serde_yaml_text(&reports)?)?,
        None => {
            use std::fmt::Write as _;
            let mut out = String::new();
            let mut err = String::new();
            for r in &reports {
                for w in &r.warnings {
                    let _ = writeln!(err, "warning: {}: {} {:?}: {w}", r.file, r.kind, r.name);
                }
                if r.valid {
                    let _ = writeln!(out, "{}: {} {:?}: valid", r.file, r.kind, r.name);
                } else {
                    for v in &r.violations {
                        let _ = writeln!(
                            out,
                            "{}: document {} ({} {:?}): {}: {}",
                            r.file, r.document, r.kind, r.name, v.path, v.reason
                        );
                    }
                }
            }
            if invalid > 0 {
                let _ = writeln!(err, "{invalid} of {} documents invalid", reports.len());
            }
            crate::output::print_stderr(&err);
            crate::output::print_stdout(&out)?;
        }
    }
    Ok(if invalid > 0 {
        Outcome::Code(1)
    } else {
        Outcome::Ok
    })
}

fn serde_yaml_text<T: Serialize>(v: &T) -> Result<String> {
    let value = serde_json::to_value(v)?;
    Ok(spo_core::to_yaml_stream(&[value])?)
}
