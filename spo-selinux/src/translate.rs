//! SelinuxProfile → CIL module (spec §3): SE-08..SE-14.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use spo_core::Violations;

use crate::cil::{Block, Module, Name, Origin, Statement};
use crate::inherit::ParentResolver;
use crate::model::{Mode, ParentKind, SelinuxProfile, CONTAINER_TEMPLATE, SELF_LABEL};
use crate::validate::{check, Checked, Options};
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
    if !checked.violations.is_empty() {
        return Err(invalid(profile, checked.violations));
    }
    let Some(policy_name) = checked.policy_name.clone() else {
        // check() reports a violation whenever the name is missing.
        return Err(invalid(profile, Violations::new()));
    };
    let mut names = Interner {
        profile,
        names: HashMap::new(),
    };
    let mut statements = inherit_statements(profile, &checked, &mut names)?;
    let process = names.get("process", &|| "spec".into())?;
    if profile.spec.mode == Mode::Permissive {
        statements.push((Statement::TypePermissive(process.clone()), Origin::Mode));
    }
    allow_statements(
        profile,
        &policy_name.usage(),
        &process,
        &mut names,
        &mut statements,
    )?;
    Ok(Module::Profile(Block {
        name: policy_name,
        statements,
    }))
}

fn invalid(profile: &SelinuxProfile, violations: Violations) -> Error {
    Error::Invalid {
        kind: "SelinuxProfile",
        name: profile.metadata.name.clone(),
        violations,
    }
}

/// CIL names, each built once (names repeat across rules: permissions, classes).
/// Validation has accepted every token; a refusal here would be a bug, reported as a
/// violation rather than a panic.
struct Interner<'a> {
    profile: &'a SelinuxProfile,
    names: HashMap<String, Name>,
}

impl Interner<'_> {
    fn get(&mut self, s: &str, path: &dyn Fn() -> String) -> Result<Name, Error> {
        if let Some(n) = self.names.get(s) {
            return Ok(n.clone());
        }
        let Some(n) = Name::new(s) else {
            let mut v = Violations::new();
            v.push(path(), format!("{s:?} is not a CIL name"));
            return Err(invalid(self.profile, v));
        };
        self.names.insert(s.to_string(), n.clone());
        Ok(n)
    }
}

/// `(blockinherit container)` unless a SelinuxProfile parent is inherited (SE-09), other
/// system templates in inherit order, once each (SE-10), SelinuxProfile parents by policy
/// name (SE-11).
fn inherit_statements(
    profile: &SelinuxProfile,
    checked: &Checked,
    names: &mut Interner<'_>,
) -> Result<Vec<(Statement, Origin)>, Error> {
    let mut statements = Vec::new();
    let mut inherited = BTreeSet::new();
    let has_profile_parent = checked.parents.iter().any(Option::is_some);
    if !has_profile_parent {
        inherited.insert(CONTAINER_TEMPLATE.to_string());
        let n = names.get(CONTAINER_TEMPLATE, &|| "spec.inherit".into())?;
        statements.push((Statement::BlockInherit(n), Origin::Inherit));
    }
    for (i, r) in profile.spec.inherit.iter().enumerate() {
        if r.parent_kind() == ParentKind::System && inherited.insert(r.name.clone()) {
            let n = names.get(&r.name, &|| format!("spec.inherit[{i}]"))?;
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
    Ok(statements)
}

/// Allow rules sorted by label, then class, permissions de-duplicated and sorted (SE-13),
/// `@self` rendered as `<policyName>.process` (SE-14).
fn allow_statements(
    profile: &SelinuxProfile,
    usage: &str,
    process: &Name,
    names: &mut Interner<'_>,
    statements: &mut Vec<(Statement, Origin)>,
) -> Result<(), Error> {
    let mut perms: Vec<&str> = Vec::new();
    for (label, by_class) in &profile.spec.allow {
        let lpath = || format!("spec.allow.{label}");
        let target = if label == SELF_LABEL {
            names.get(usage, &lpath)?
        } else {
            names.get(label, &lpath)?
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
                .map(|p| names.get(p, &cpath))
                .collect::<Result<Vec<_>, _>>()?;
            let class_name = names.get(class, &cpath)?;
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
    Ok(())
}
