//! Resolution of SelinuxProfile parents (SE-06, SE-11) behind a trait: the operator backs it
//! with the API server, spoc with manifest files, tests with a slice.

use std::collections::BTreeSet;

use crate::error::ResolveError;
use crate::model::{ParentKind, SelinuxProfile};
use crate::names::{Naming, PolicyName};
use crate::Error;

/// Looks up SelinuxProfile objects by name.
pub trait ParentResolver {
    /// The SelinuxProfile `name` (in `namespace` for era A), `Ok(None)` when it does not
    /// exist, `Err` when the lookup itself failed.
    fn lookup(
        &self,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Option<SelinuxProfile>, ResolveError>;
}

/// A resolver that knows no profiles: every SelinuxProfile parent is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoParents;

impl ParentResolver for NoParents {
    fn lookup(&self, _: &str, _: Option<&str>) -> Result<Option<SelinuxProfile>, ResolveError> {
        Ok(None)
    }
}

impl ParentResolver for [SelinuxProfile] {
    fn lookup(
        &self,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Option<SelinuxProfile>, ResolveError> {
        Ok(self
            .iter()
            .find(|p| {
                p.metadata.name == name
                    && (namespace.is_none() || p.metadata.namespace.as_deref() == namespace)
            })
            .cloned())
    }
}

impl ParentResolver for Vec<SelinuxProfile> {
    fn lookup(
        &self,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Option<SelinuxProfile>, ResolveError> {
        self.as_slice().lookup(name, namespace)
    }
}

/// Deepest parent chain followed when looking for cycles.
pub const MAX_INHERIT_DEPTH: usize = 32;

/// Outcome of resolving one SelinuxProfile parent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParentStatus {
    /// Found; this is the policy name to inherit (`<parent>` or era A `<parent>_<ns>`).
    Found(PolicyName),
    /// Not found (SE-06).
    Missing,
    /// The parent's name cannot be a policy name.
    BadName(String),
    /// Following the parent leads back to a profile already on the chain.
    Cycle(Vec<String>),
}

/// Resolves the SelinuxProfile parent `name` of `child`, following the parent's own
/// SelinuxProfile parents to detect inheritance cycles (which CIL would reject).
pub fn resolve_parent(
    child: &SelinuxProfile,
    name: &str,
    naming: Naming,
    resolver: &dyn ParentResolver,
) -> Result<ParentStatus, Error> {
    let namespace = match naming {
        Naming::ClusterScoped => None,
        Naming::Namespaced => child.metadata.namespace.as_deref(),
    };
    let lookup = |n: &str| {
        resolver
            .lookup(n, namespace)
            .map_err(|source| Error::Resolve {
                parent: n.to_string(),
                source,
            })
    };
    let Some(parent) = lookup(name)? else {
        return Ok(ParentStatus::Missing);
    };
    let mut meta = parent.metadata.clone();
    if naming == Naming::Namespaced && meta.namespace.is_none() {
        meta.namespace = namespace.map(str::to_string);
    }
    let policy = match PolicyName::for_object(&meta, naming) {
        Ok(p) => p,
        Err(v) => return Ok(ParentStatus::BadName(v.to_string())),
    };
    let mut chain = vec![child.metadata.name.clone(), parent.metadata.name.clone()];
    if parent.metadata.name == child.metadata.name {
        return Ok(ParentStatus::Cycle(chain));
    }
    let mut done = BTreeSet::new();
    if let Some(cycle) = find_cycle(&parent, &mut chain, &mut done, &lookup)? {
        return Ok(ParentStatus::Cycle(cycle));
    }
    Ok(ParentStatus::Found(policy))
}

/// Depth-first search over SelinuxProfile parents for a name already on `chain`.
fn find_cycle(
    current: &SelinuxProfile,
    chain: &mut Vec<String>,
    done: &mut BTreeSet<String>,
    lookup: &dyn Fn(&str) -> Result<Option<SelinuxProfile>, Error>,
) -> Result<Option<Vec<String>>, Error> {
    for r in &current.spec.inherit {
        if r.parent_kind() != ParentKind::SelinuxProfile {
            continue;
        }
        let grand = r.name.as_str();
        if chain.iter().any(|c| c == grand) {
            let mut cycle = chain.clone();
            cycle.push(grand.to_string());
            return Ok(Some(cycle));
        }
        if chain.len() >= MAX_INHERIT_DEPTH || done.contains(grand) {
            continue;
        }
        if let Some(gp) = lookup(grand)? {
            chain.push(grand.to_string());
            if let Some(cycle) = find_cycle(&gp, chain, done, lookup)? {
                return Ok(Some(cycle));
            }
            chain.pop();
        }
        done.insert(grand.to_string());
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyRef;

    fn child_of(name: &str, parents: &[&str]) -> SelinuxProfile {
        let mut p = SelinuxProfile::named(name);
        p.spec.inherit = parents.iter().map(|n| PolicyRef::profile(*n)).collect();
        p
    }

    // covers: SE-06, SE-11
    #[test]
    fn se_06_se_11_found_missing_and_failing_lookups() {
        let store = vec![child_of("foo", &[])];
        let child = child_of("bar", &["foo"]);
        let found = resolve_parent(&child, "foo", Naming::ClusterScoped, &store).unwrap();
        assert_eq!(found, ParentStatus::Found(PolicyName::new("foo").unwrap()));
        assert_eq!(
            resolve_parent(&child, "nope", Naming::ClusterScoped, &store).unwrap(),
            ParentStatus::Missing
        );
        struct Broken;
        impl ParentResolver for Broken {
            fn lookup(
                &self,
                _: &str,
                _: Option<&str>,
            ) -> Result<Option<SelinuxProfile>, ResolveError> {
                Err("api server unavailable".into())
            }
        }
        let err = resolve_parent(&child, "foo", Naming::ClusterScoped, &Broken).unwrap_err();
        assert!(matches!(err, Error::Resolve { ref parent, .. } if parent == "foo"));
    }

    #[test]
    fn era_a_parents_are_looked_up_in_the_childs_namespace() {
        let mut foo = child_of("foo", &[]);
        foo.metadata.namespace = Some("web".into());
        let mut child = child_of("bar", &["foo"]);
        child.metadata.namespace = Some("web".into());
        let st = resolve_parent(&child, "foo", Naming::Namespaced, &vec![foo]).unwrap();
        assert_eq!(st, ParentStatus::Found(PolicyName::new("foo_web").unwrap()));
    }

    #[test]
    fn inheritance_cycles_are_detected() {
        let store = vec![
            child_of("a", &["b"]),
            child_of("b", &["c"]),
            child_of("c", &["a"]),
        ];
        let child = child_of("a", &["b"]);
        match resolve_parent(&child, "b", Naming::ClusterScoped, &store).unwrap() {
            ParentStatus::Cycle(c) => assert_eq!(c, ["a", "b", "c", "a"]),
            other => panic!("{other:?}"),
        }
        let self_ref = child_of("x", &["x"]);
        assert!(matches!(
            resolve_parent(
                &self_ref,
                "x",
                Naming::ClusterScoped,
                &vec![self_ref.clone()]
            )
            .unwrap(),
            ParentStatus::Cycle(_)
        ));
        // A diamond is not a cycle.
        let store = vec![
            child_of("l", &["root"]),
            child_of("r", &["root"]),
            child_of("root", &[]),
        ];
        let child = child_of("leaf", &["l", "r"]);
        assert!(matches!(
            resolve_parent(&child, "l", Naming::ClusterScoped, &store).unwrap(),
            ParentStatus::Found(_)
        ));
    }
}
