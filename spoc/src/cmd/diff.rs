//! `spoc diff A B`: a semantic diff of two profiles of the same kind. Exit 0 equal, 1
//! different, 2 unreadable input or different kinds.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use spo_core::Kind;
use spo_seccomp::diff::{ChangeKind, Entry};
use spo_seccomp::model::ArgOp;

use crate::cli::{DiffArgs, Format, Global};
use crate::input::{self, Item};
use crate::Outcome;

/// The single profile of `path` (the first document of a multi-document file); Docker's JSON
/// dialect is read as `spoc lint` reads it.
pub fn load_one(path: &Path) -> Result<Item> {
    let mut items = match input::load(path) {
        Ok(items) => items,
        Err(e) => {
            let docker = input::read_text(path)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .filter(|v| v.get("archMap").is_some())
                .and_then(|v| crate::cmd::lint::docker_view(&v));
            match docker {
                Some(text) => input::load_text(&text, path)?,
                None => return Err(e),
            }
        }
    };
    if items.len() > 1 {
        tracing::warn!(file = %path.display(), "several documents: using the first");
    }
    let first = items.drain(..).next();
    first.ok_or_else(|| {
        anyhow::Error::new(input::Unreadable {
            path: path.display().to_string(),
            what: "no document found".into(),
        })
    })
}

/// A set difference of flat facts, for SELinux and AppArmor profiles.
#[derive(Debug, Serialize)]
struct SetDiff {
    added: Vec<String>,
    removed: Vec<String>,
}

fn set_diff(a: BTreeSet<String>, b: BTreeSet<String>) -> SetDiff {
    SetDiff {
        added: b.difference(&a).cloned().collect(),
        removed: a.difference(&b).cloned().collect(),
    }
}

fn selinux_facts(item: &Item) -> Result<BTreeSet<String>> {
    let Item::Manifest(d) = item else {
        anyhow::bail!("expected a manifest")
    };
    let p = spo_selinux::SelinuxProfile::from_document(d)?;
    let mut f = BTreeSet::new();
    f.insert(format!("mode: {:?}", p.spec.mode));
    for i in &p.spec.inherit {
        f.insert(format!("inherit: {} {}", i.kind, i.name));
    }
    for (ty, classes) in &p.spec.allow {
        for (class, perms) in classes {
            for perm in perms {
                f.insert(format!("allow {ty} {class} {perm}"));
            }
        }
    }
    Ok(f)
}

fn apparmor_facts(item: &Item) -> Result<BTreeSet<String>> {
    let Item::Manifest(d) = item else {
        anyhow::bail!("expected a manifest")
    };
    let p = spo_apparmor::AppArmorProfile::from_document(d)?;
    let mut f = BTreeSet::new();
    f.insert(format!("mode: {:?}", p.spec.mode()));
    if let Some(policy) = p.spec.raw_policy() {
        for l in policy.lines().map(str::trim).filter(|l| !l.is_empty()) {
            f.insert(format!("policy: {l}"));
        }
    }
    if let Some(abs) = &p.spec.abstract_ {
        let v = serde_json::to_value(abs)?;
        flatten("", &v, &mut f);
    }
    Ok(f)
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                flatten(prefix, x, out);
            }
        }
        other => {
            out.insert(format!("{prefix}: {other}"));
        }
    }
}

/// `index op value` of one condition.
pub fn cond_text(a: &spo_seccomp::Arg) -> String {
    let op = match a.op {
        ArgOp::NotEqual => "!=",
        ArgOp::Less => "<",
        ArgOp::LessOrEqual => "<=",
        ArgOp::Equal => "==",
        ArgOp::GreaterOrEqual => ">=",
        ArgOp::Greater => ">",
        ArgOp::MaskedEqual => {
            return format!("arg{} & {:#x} == {:#x}", a.index, a.value, a.value_two)
        }
        _ => "?",
    };
    format!("arg{} {op} {:#x}", a.index, a.value)
}

fn entries_text(e: &[Entry]) -> String {
    if e.is_empty() {
        return "(default action)".into();
    }
    e.iter()
        .map(|x| {
            if x.args.is_empty() {
                x.outcome.to_string()
            } else {
                let c: Vec<String> = x.args.iter().map(cond_text).collect();
                format!("{} if {}", x.outcome, c.join(" && "))
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Diffs two profiles.
pub fn run(args: &DiffArgs, global: &Global) -> Result<Outcome> {
    let a = load_one(&args.a)?;
    let b = load_one(&args.b)?;
    if a.kind() != b.kind() {
        eprintln!("spoc: cannot diff a {} with a {}", a.kind(), b.kind());
        return Ok(Outcome::Code(2));
    }
    let json = global.format == Some(Format::Json);
    let equal = match a.kind() {
        Kind::SeccompProfile => {
            let d = spo_seccomp::diff::diff(&a.seccomp()?.spec, &b.seccomp()?.spec);
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                if let Some((x, y)) = d.default_action {
                    println!("defaultAction: {x} → {y}");
                }
                for x in &d.added_architectures {
                    println!("architectures: + {x}");
                }
                for x in &d.removed_architectures {
                    println!("architectures: - {x}");
                }
                if let Some((x, y)) = &d.flags {
                    println!("flags: {x:?} → {y:?}");
                }
                let all = a.seccomp()?.spec.effective_architectures();
                for c in &d.changes {
                    let arches = if c.architectures.len() == all.len() {
                        String::new()
                    } else {
                        let names: Vec<&str> = c.architectures.iter().map(|a| a.as_str()).collect();
                        format!("  [{}]", names.join(", "))
                    };
                    match c.kind {
                        ChangeKind::Added => {
                            println!("+ {}: {}{arches}", c.syscall, entries_text(&c.after))
                        }
                        ChangeKind::Removed => {
                            println!("- {}: {}{arches}", c.syscall, entries_text(&c.before))
                        }
                        ChangeKind::Changed => println!(
                            "~ {}: {} → {}{arches}",
                            c.syscall,
                            entries_text(&c.before),
                            entries_text(&c.after)
                        ),
                        _ => println!("? {}{arches}", c.syscall),
                    }
                }
            }
            d.is_empty()
        }
        kind @ (Kind::SelinuxProfile | Kind::AppArmorProfile) => {
            let (fa, fb) = if kind == Kind::SelinuxProfile {
                (selinux_facts(&a)?, selinux_facts(&b)?)
            } else {
                (apparmor_facts(&a)?, apparmor_facts(&b)?)
            };
            let d = set_diff(fa, fb);
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                for x in &d.removed {
                    println!("- {x}");
                }
                for x in &d.added {
                    println!("+ {x}");
                }
            }
            d.added.is_empty() && d.removed.is_empty()
        }
        other => {
            eprintln!("spoc: diff does not support {other}");
            return Ok(Outcome::Code(2));
        }
    };
    Ok(if equal { Outcome::Ok } else { Outcome::Code(1) })
}
