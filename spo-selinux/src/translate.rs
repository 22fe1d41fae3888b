//! SelinuxProfile → CIL module (spec §3): SE-08..SE-14.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use spo_core::Violations;

use crate::cil::{Block, Module, Name, Origin, Statement};
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
        return Err(invalid(Violations::new()));
    };
    // Validation has accepted every token; a refusal here would be a bug, reported as a
    // violation rather than a panic.
    let not_a_name = |s: &str, path: String| {
        let mut v = Violations::new();
        v.push(path, format!("{s:?} is not a CIL name"));
        invalid(v)
    };
    // Names repeat across rules (permissions, classes): build each once.
    let mut names: HashMap<String, Name> = HashMap::new();
    let mut intern = |s: &str, path: &dyn Fn() -> String| -> Result<Name, Error> {
        if let Some(n) = names.get(s) {
            return Ok(n.clone());
        }
        let n = Name::new(s).ok_or_else(|| not_a_name(s, path()))?;
        names.insert(s.to_string(), n.clone());
        Ok(n)
    };
    let mut statements = Vec::new();
    let mut inherited = BTreeSet::new();
    let has_profile_parent = checked.parents.iter().any(Option::is_some);
    if !has_profile_parent {
        inherited.insert(CONTAINER_TEMPLATE.to_string());
        let n = intern(CONTAINER_TEMPLATE, &|| "spec.inherit".into())?;
        statements.push((Statement::BlockInherit(n), Origin::Inherit));
    }
    for (i, r) in profile.spec.inherit.iter().enumerate() {
        if r.parent_kind() == ParentKind::System && inherited.insert(r.name.clone()) {
            let n = intern(&r.name, &|| format!("spec.inherit[{i}]"))?;
            statements.push((Statement::BlockInherit(n), Origin::InheritEntry(i)));
        }
    }
    for (i, parent) in checked.parents.iter().enumerate() {
        if let Some(p) = parent {
            if inherited.insert(p.as_str().to_string()) {
                statements.push((
                    Statement::BlockInherit(Name::from(p)),
                    Origin::InheritEntry(i),
                ));
            }
        }
    }
    let process = intern("process", &|| "spec".into())?;
    if profile.spec.mode == Mode::Permissive {
        statements.push((Statement::TypePermissive(process.clone()), Origin::Mode));
    }
    let usage = policy_name.usage();
    let mut perms: Vec<&str> = Vec::new();
    for (label, by_class) in &profile.spec.allow {
        let lpath = || format!("spec.allow.{label}");
        let target = if label == SELF_LABEL {
            intern(&usage, &lpath)?
        } else {
            intern(label, &lpath)?
        };
        let label_arc: Arc<str> = Arc::from(label.as_str());
        for (class, list) in by_class {
            let cpath = || format!("spec.allow.{label}.{class}");
            perms.clear();
            perms.extend(list.iter().map(String::as_str));
            perms.sort_unstable();
            perms.dedup();
            let perm_names = perms
                .iter()
                .map(|p| intern(p, &cpath))
                .collect::<Result<Vec<_>, _>>()?;
            let class_name = intern(class, &cpath)?;
            statements.push((
                Statement::Allow {
                    source: process.clone(),
                    target: target.clone(),
                    class: class_name.clone(),
                    perms: perm_names,
                },
                Origin::Allow {
                    label: label_arc.clone(),
                    class: class_name.shared(),
                },
            ));
        }
    }
    Ok(Module::Profile(Block {
        name: policy_name,
        statements,
    }))
}
