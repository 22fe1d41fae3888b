//! `spoc convert FILE`: SeccompProfile manifests → raw OCI seccomp JSON (2-space indented),
//! raw JSON → a SeccompProfile manifest (CLI-14). Every document of a stream is converted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use spo_core::{Kind, Version};
use spo_seccomp::json::to_pretty_json;

use crate::cli::{ConvertArgs, Global};
use crate::input::{self, Item};
use crate::kinds;
use crate::output;
use crate::Outcome;

/// Mode of converted files (spoc.md §4).
const MODE: u32 = 0o600;

/// A SeccompProfile has no `defaultErrnoRet` (upstream's CRD lacks it; an ERRNO default
/// returns EPERM). EPERM itself is dropped silently; any other value only with `--lossy`.
fn drop_default_errno(spec: &mut spo_seccomp::SeccompSpec, args: &ConvertArgs) -> Result<()> {
    let Some(errno) = spec.default_errno_ret else {
        return Ok(());
    };
    if errno != 1 && spec.default_action == spo_seccomp::Action::Errno {
        if !args.lossy {
            bail!(
                "{}: defaultErrnoRet {errno} cannot be expressed in a SeccompProfile (the CRD has \
                 no such field; its SCMP_ACT_ERRNO default returns EPERM = 1); pass --lossy to \
                 drop it",
                args.file.display()
            );
        }
        eprintln!(
            "spoc: warning: {}: defaultErrnoRet {errno} dropped (--lossy): the profile's default \
             action now returns EPERM",
            args.file.display()
        );
    }
    spec.default_errno_ret = None;
    Ok(())
}

/// One converted document: a suggested file name and its text.
struct Converted {
    name: String,
    ext: &'static str,
    text: String,
}

fn convert_item(item: &Item, args: &ConvertArgs, global: &Global) -> Result<Converted> {
    match item {
        Item::RawSeccomp { .. } => {
            let mut p = item.seccomp()?;
            if let Some(n) = &args.name {
                p.metadata.name = n.clone();
            }
            drop_default_errno(&mut p.spec, args)?;
            let value = p.to_manifest(Version::V1)?;
            let (text, ext) = match global.data_format() {
                crate::cli::Format::Yaml => (spo_core::to_yaml_stream(&[value])?, "yaml"),
                crate::cli::Format::Json | crate::cli::Format::Jsonl => (
                    format!("{}\n", serde_json::to_string_pretty(&value)?),
                    "json",
                ),
            };
            Ok(Converted {
                name: p.metadata.name,
                ext,
                text,
            })
        }
        _ => match item.kind() {
            Kind::SeccompProfile => {
                let mut p = item.seccomp()?;
                if args.resolve {
                    p = kinds::seccomp::resolve_from_files(&p, &args.file, &args.profiles_dir)?;
                }
                Ok(Converted {
                    name: p.metadata.name,
                    ext: "json",
                    text: to_pretty_json(&p.spec),
                })
            }
            Kind::SelinuxProfile | Kind::RawSelinuxProfile => {
                let Item::Manifest(doc) = item else {
                    bail!("expected a manifest")
                };
                Ok(Converted {
                    name: doc.metadata.name.clone(),
                    ext: "cil",
                    text: kinds::selinux::convert(doc)?,
                })
            }
            Kind::AppArmorProfile => {
                let doc = kinds::apparmor::document(item)?;
                let program = args.program_name.as_deref();
                let text = kinds::apparmor::convert(doc, program)?;
                let name = program.unwrap_or(&doc.metadata.name);
                Ok(Converted {
                    name: spo_apparmor::install::profile_file_name(name)?,
                    ext: "apparmor",
                    text,
                })
            }
            other => bail!("cannot convert {other} to raw profile"),
        },
    }
}

/// Several documents in one output stay parseable: JSON documents become one array (or
/// JSON Lines with `--output jsonl`), YAML documents a `---`-separated stream; other texts
/// (CIL, AppArmor policy) are concatenated.
fn combine(converted: &[Converted], format: Option<crate::cli::Format>) -> Result<String> {
    use crate::cli::Format;
    let all = |ext: &str| converted.iter().all(|c| c.ext == ext);
    if converted.len() > 1 && all("json") {
        let values = converted
            .iter()
            .map(|c| serde_json::from_str(&c.text))
            .collect::<Result<Vec<serde_json::Value>, _>>()?;
        let format = if format == Some(Format::Jsonl) {
            Format::Jsonl
        } else {
            Format::Json
        };
        return output::render(&values, format);
    }
    if converted.len() > 1 && all("yaml") {
        return Ok(converted
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("---\n"));
    }
    Ok(converted.iter().map(|c| c.text.as_str()).collect())
}

fn is_dir_target(p: &Path) -> bool {
    p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/')
}

/// Converts every document of the input.
pub fn run(args: &ConvertArgs, global: &Global) -> Result<Outcome> {
    let items = input::load(&args.file)?;
    let converted = items
        .iter()
        .map(|i| convert_item(i, args, global))
        .collect::<Result<Vec<_>>>()?;
    match args.output_file.as_deref() {
        Some(dir) if is_dir_target(dir) => {
            std::fs::create_dir_all(dir)?;
            for c in &converted {
                let path: PathBuf = dir.join(format!("{}.{}", c.name, c.ext));
                output::write(Some(&path), &c.text, MODE)?;
                eprintln!("wrote {}", path.display());
            }
        }
        Some(_) if converted.len() > 1 => bail!(
            "{} documents in {}: give -o a directory to write one file per profile",
            converted.len(),
            args.file.display()
        ),
        target => {
            let text = combine(&converted, global.format)?;
            output::write(target, &text, MODE)?;
        }
    }
    Ok(Outcome::Ok)
}
