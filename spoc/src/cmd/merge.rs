//! `spoc merge FILE…` and `spoc merge --check` (CLI-15, CLI-16).

use anyhow::{bail, Result};
use spo_core::Kind;

use crate::cli::{Global, MergeArgs};
use crate::input::{self, Item};
use crate::kinds;
use crate::output;
use crate::Outcome;

/// Mode of merged files (spoc.md §5).
const MODE: u32 = 0o600;

/// Merges the profiles of all files.
pub fn run(args: &MergeArgs, global: &Global) -> Result<Outcome> {
    let items: Vec<Item> = input::load_all(&args.files)?
        .into_iter()
        .flatten()
        .collect();
    let Some(first) = items.first() else {
        bail!("no profile(s) provided")
    };
    let kind = first.kind();
    if let Some(other) = items.iter().find(|i| i.kind() != kind) {
        bail!("cannot merge {} with {}", kind, other.kind());
    }
    let all_raw = items.iter().all(|i| matches!(i, Item::RawSeccomp { .. }));
    let (merged_text, up_to_date) = match kind {
        Kind::SeccompProfile => {
            let profiles = items
                .iter()
                .map(Item::seccomp)
                .collect::<Result<Vec<_>>>()?;
            let Some(merged) = spo_seccomp::merge::merge_profiles(&profiles) else {
                bail!("no profile(s) provided")
            };
            let up_to_date = args.check
                && spo_seccomp::merge::normalize(&profiles[0].spec.syscalls)
                    == merged.spec.syscalls;
            let text = if all_raw {
                spo_seccomp::json::to_pretty_json(&merged.spec)
            } else {
                let version = first.version();
                output::render(&[merged.to_manifest(version)?], global.data_format())?
            };
            (text, up_to_date)
        }
        Kind::SelinuxProfile => {
            let docs = items
                .iter()
                .map(|i| match i {
                    Item::Manifest(d) => Ok(d.clone()),
                    Item::RawSeccomp { .. } | Item::Seccomp(..) => {
                        bail!("cannot merge seccomp profiles with SelinuxProfiles")
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            let merged = crate::kinds::selinux::merge(&docs)?;
            let up_to_date = merged == crate::kinds::selinux::merge(&docs[..1])?;
            (output::render(&[merged], global.data_format())?, up_to_date)
        }
        Kind::AppArmorProfile => {
            let docs = items
                .iter()
                .map(|i| kinds::apparmor::document(i).cloned())
                .collect::<Result<Vec<_>>>()?;
            let (merged, up_to_date) = kinds::apparmor::merge_check(&docs)?;
            (output::render(&[merged], global.data_format())?, up_to_date)
        }
        other => bail!("spoc cannot merge {other} profiles yet"),
    };
    if args.check {
        if up_to_date {
            eprintln!("Base profile is up-to-date.");
            return Ok(Outcome::Ok);
        }
        eprint!("{merged_text}");
        eprintln!("Base profile needs an update.");
        return Ok(Outcome::Code(1));
    }
    output::write(args.output_file.as_deref(), &merged_text, MODE)?;
    Ok(Outcome::Ok)
}
