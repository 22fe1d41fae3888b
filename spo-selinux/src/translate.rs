//! SelinuxProfile → CIL module (spec §3): SE-08..SE-14.

use std::collections::BTreeSet;

use crate::cil::{Block, Module, Name, Statement};
use crate::inherit::ParentResolver;
use crate::model::{Mode, ParentKind, SelinuxProfile, CONTAINER_TEMPLATE, SELF_LABEL};
use crate::validate::{check, Options};
use crate::Error;

/// Validates `profile` and translates it into its CIL module. Fails with
/// [`Error::Invalid`] listing every violation, so no CIL exists for an invalid profile.
///
/// Layout (spec §3): `(blockinherit container)` unless a SelinuxProfile parent is inherited
/// (SE-09); other system templates in inherit order, once each (SE-10); SelinuxProfile
/// parents by policy name (SE-11); `(typepermissive process)` when permissive (SE-12); allow
/// rules sorted by label, then class, permissions de-duplicated and sorted (SE-13), `@self`
/// rendered as `<policyName>.process` (SE-14).
pub fn to_cil(
    profile: &SelinuxProfile,
    opts: &Options,
    resolver: &dyn ParentResolver,
) -> Result<Module, Error> {
    let checked = check(profile, opts, resolver)?;
    let invalid = |violations| Error::Invalid {
        kind: "SelinuxProfile",
        name: profile.metadata.name.clone(),
        violations,
    };
    if !checked.violations.is_empty() {
        return Err(invalid(checked.violations));
    }
    let Some(policy_name) = checked.policy_name else {
        // check() reports a violation whenever the name is missing.
        return Err(invalid(spo_core::Violations::new()));
    };
    let name = |s: &str, path: &str| {
        Name::new(s).ok_or_else(|| {
            let mut v = spo_core::Violations::new();
            v.push(path, format!("{s:?} is not a CIL name"));
            invalid(v)
        })
    };
    let mut statements = Vec::new();
    let mut inherited = BTreeSet::new();
    let has_profile_parent = checked.parents.iter().any(Option::is_some);
    if !has_profile_parent {
        inherited.insert(CONTAINER_TEMPLATE.to_string());
        statements.push((
            Statement::BlockInherit(name(CONTAINER_TEMPLATE, "spec.inherit")?),
            "spec.inherit".to_string(),
        ));
    }
    for (i, r) in profile.spec.inherit.iter().enumerate() {
        if r.parent_kind() == ParentKind::System && inherited.insert(r.name.clone()) {
            let path = format!("spec.inherit[{i}]");
            statements.push((Statement::BlockInherit(name(&r.name, &path)?), path));
        }
    }
    for (i, parent) in checked.parents.iter().enumerate() {
        if let Some(p) = parent {
            if inherited.insert(p.as_str().to_string()) {
                statements.push((
                    Statement::BlockInherit(Name::from(p)),
                    format!("spec.inherit[{i}]"),
                ));
            }
        }
    }
    let process = name("process", "spec")?;
    if profile.spec.mode == Mode::Permissive {
        statements.push((
            Statement::TypePermissive(process.clone()),
            "spec.mode".into(),
        ));
    }
    let usage = policy_name.usage();
    for (label, by_class) in &profile.spec.allow {
        let lpath = format!("spec.allow.{label}");
        let target = if label == SELF_LABEL {
            name(&usage, &lpath)?
        } else {
            name(label, &lpath)?
        };
        for (class, list) in by_class {
            let cpath = format!("{lpath}.{class}");
            let perms = list
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|p| name(p, &cpath))
                .collect::<Result<Vec<_>, _>>()?;
            statements.push((
                Statement::Allow {
                    source: process.clone(),
                    target: target.clone(),
                    class: name(class, &cpath)?,
                    perms,
                },
                cpath,
            ));
        }
    }
    Ok(Module::Profile(Block {
        name: policy_name,
        statements,
    }))
}
