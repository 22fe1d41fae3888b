//! Validation of SelinuxProfiles (SE-03..SE-07, SE-15..SE-17): every violation, with paths.

use std::collections::BTreeSet;

use spo_core::Violations;

use crate::inherit::{resolve_parent, ParentResolver, ParentStatus};
use crate::model::{ParentKind, SelinuxProfile, CONTAINER_TEMPLATE, SELF_LABEL};
use crate::names::{is_cil_decl_name, is_token, Naming, PolicyName};
use crate::Error;

/// Built-in denied types (SE-15).
pub const BUILTIN_DENIED_TYPES: [&str; 4] = ["kernel_t", "kmem_t", "security_t", "shadow_t"];
/// Built-in denied classes (SE-15).
pub const BUILTIN_DENIED_CLASSES: [&str; 4] = ["capability", "capability2", "security", "system"];
/// Built-in denied permissions (SE-15).
pub const BUILTIN_DENIED_PERMISSIONS: [&str; 8] = [
    "load_policy",
    "mac_admin",
    "mounton",
    "relabelto",
    "relabelfrom",
    "setbool",
    "setenforce",
    "setsecparam",
];

/// Which system templates profiles may inherit (SPOD `allowedSystemProfiles`, SE-04).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowedSystemProfiles {
    /// Only these (default: `["container"]`).
    List(Vec<String>),
    /// Any template (used where no SPOD exists, e.g. an offline conversion).
    Any,
}

impl Default for AllowedSystemProfiles {
    fn default() -> Self {
        Self::List(vec![CONTAINER_TEMPLATE.to_string()])
    }
}

impl AllowedSystemProfiles {
    /// Whether `name` may be inherited.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            Self::List(l) => l.iter().any(|n| n == name),
            Self::Any => true,
        }
    }
}

/// The SPOD's deny-list settings (SE-15..SE-17). Effective denied set per category:
/// (built-in − allowed) ∪ denied, so an entry both denied and allowed stays denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DenyOptions {
    /// `deniedTypes`: extra denied types (SE-16).
    pub denied_types: BTreeSet<String>,
    /// `deniedClasses` (SE-16).
    pub denied_classes: BTreeSet<String>,
    /// `deniedPermissions` (SE-16).
    pub denied_permissions: BTreeSet<String>,
    /// `allowedTypes`: built-in entries to lift (SE-17).
    pub allowed_types: BTreeSet<String>,
    /// `allowedClasses` (SE-17).
    pub allowed_classes: BTreeSet<String>,
    /// `allowedPermissions` (SE-17).
    pub allowed_permissions: BTreeSet<String>,
}

impl DenyOptions {
    /// Sets [`DenyOptions::denied_types`].
    #[must_use]
    pub fn with_denied_types(mut self, denied_types: BTreeSet<String>) -> Self {
        self.denied_types = denied_types;
        self
    }

    /// Sets [`DenyOptions::denied_classes`].
    #[must_use]
    pub fn with_denied_classes(mut self, denied_classes: BTreeSet<String>) -> Self {
        self.denied_classes = denied_classes;
        self
    }

    /// Sets [`DenyOptions::denied_permissions`].
    #[must_use]
    pub fn with_denied_permissions(mut self, denied_permissions: BTreeSet<String>) -> Self {
        self.denied_permissions = denied_permissions;
        self
    }

    /// Sets [`DenyOptions::allowed_types`].
    #[must_use]
    pub fn with_allowed_types(mut self, allowed_types: BTreeSet<String>) -> Self {
        self.allowed_types = allowed_types;
        self
    }

    /// Sets [`DenyOptions::allowed_classes`].
    #[must_use]
    pub fn with_allowed_classes(mut self, allowed_classes: BTreeSet<String>) -> Self {
        self.allowed_classes = allowed_classes;
        self
    }

    /// Sets [`DenyOptions::allowed_permissions`].
    #[must_use]
    pub fn with_allowed_permissions(mut self, allowed_permissions: BTreeSet<String>) -> Self {
        self.allowed_permissions = allowed_permissions;
        self
    }
}

fn effective(
    builtin: &[&str],
    allowed: &BTreeSet<String>,
    denied: &BTreeSet<String>,
) -> BTreeSet<String> {
    builtin
        .iter()
        .filter(|b| !allowed.contains(**b))
        .map(|b| b.to_string())
        .chain(denied.iter().cloned())
        .collect()
}

impl DenyOptions {
    /// The effective denied types.
    pub fn types(&self) -> BTreeSet<String> {
        effective(
            &BUILTIN_DENIED_TYPES,
            &self.allowed_types,
            &self.denied_types,
        )
    }
    /// The effective denied classes.
    pub fn classes(&self) -> BTreeSet<String> {
        effective(
            &BUILTIN_DENIED_CLASSES,
            &self.allowed_classes,
            &self.denied_classes,
        )
    }
    /// The effective denied permissions.
    pub fn permissions(&self) -> BTreeSet<String> {
        effective(
            &BUILTIN_DENIED_PERMISSIONS,
            &self.allowed_permissions,
            &self.denied_permissions,
        )
    }
}

/// What the node (SPOD) decides: naming era, allowed templates, deny list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Policy naming (era B/C `<name>` by default; era A `<name>_<namespace>`).
    pub naming: Naming,
    /// `allowedSystemProfiles` (default `["container"]`).
    pub allowed_system_profiles: AllowedSystemProfiles,
    /// Deny list settings.
    pub deny: DenyOptions,
}

impl Options {
    /// Sets [`Options::naming`].
    #[must_use]
    pub fn with_naming(mut self, naming: Naming) -> Self {
        self.naming = naming;
        self
    }

    /// Sets [`Options::allowed_system_profiles`].
    #[must_use]
    pub fn with_allowed_system_profiles(
        mut self,
        allowed_system_profiles: AllowedSystemProfiles,
    ) -> Self {
        self.allowed_system_profiles = allowed_system_profiles;
        self
    }

    /// Sets [`Options::deny`].
    #[must_use]
    pub fn with_deny(mut self, deny: DenyOptions) -> Self {
        self.deny = deny;
        self
    }
}

impl Options {
    /// Templates a raw policy may `blockinherit`: the allowed list, or `container` when any
    /// template is allowed.
    pub fn blockinherit_templates(&self) -> Vec<String> {
        match &self.allowed_system_profiles {
            AllowedSystemProfiles::List(l) => l.clone(),
            AllowedSystemProfiles::Any => vec![CONTAINER_TEMPLATE.to_string()],
        }
    }
}

/// The result of checking a profile: violations plus what translation needs.
#[derive(Debug)]
pub(crate) struct Checked {
    pub violations: Violations,
    pub policy_name: Option<PolicyName>,
    /// Per `spec.inherit` entry: the resolved SelinuxProfile parent, if it is one.
    pub parents: Vec<Option<PolicyName>>,
}

/// Validates `profile`: names, inherit entries (SE-03..SE-06, cycles), allow tokens (SE-07)
/// and the deny list (SE-15..SE-17). `Err` only when a parent lookup itself failed.
pub fn validate(
    profile: &SelinuxProfile,
    opts: &Options,
    resolver: &dyn ParentResolver,
) -> Result<Violations, Error> {
    Ok(check(profile, opts, resolver)?.violations)
}

pub(crate) fn check(
    profile: &SelinuxProfile,
    opts: &Options,
    resolver: &dyn ParentResolver,
) -> Result<Checked, Error> {
    let mut v = Violations::new();
    let policy_name = match PolicyName::for_object(&profile.metadata, opts.naming) {
        Ok(p) => Some(p),
        Err(e) => {
            v.extend_prefixed("", e);
            None
        }
    };
    let mut parents = Vec::with_capacity(profile.spec.inherit.len());
    for (i, r) in profile.spec.inherit.iter().enumerate() {
        let path = format!("spec.inherit[{i}]");
        let mut parent = None;
        match r.parent_kind() {
            _ if r.name.is_empty() => v.push(format!("{path}.name"), "must not be empty"),
            ParentKind::System => {
                if !is_cil_decl_name(&r.name) {
                    v.push(
                        format!("{path}.name"),
                        format!("{:?} is not a valid template name", r.name),
                    );
                } else if !opts.allowed_system_profiles.allows(&r.name) {
                    v.push(
                        format!("{path}.name"),
                        format!(
                            "system profile {} not in SecurityProfilesOperatorDaemon's allow list",
                            r.name
                        ),
                    );
                }
            }
            ParentKind::SelinuxProfile => {
                match resolve_parent(profile, &r.name, opts.naming, resolver)? {
                    ParentStatus::Found(p) => parent = Some(p),
                    ParentStatus::Missing => v.push(
                        format!("{path}.name"),
                        format!(
                            "couldn't find inherit reference: SelinuxProfile {:?}",
                            r.name
                        ),
                    ),
                    ParentStatus::BadName(reason) => v.push(format!("{path}.name"), reason),
                    ParentStatus::Cycle(chain) => v.push(
                        format!("{path}.name"),
                        format!("inheritance cycle: {}", chain.join(" -> ")),
                    ),
                }
            }
            ParentKind::Unknown(kind) => v.push(
                format!("{path}.kind"),
                format!(
                    "unknown inherit kind {kind:?} for entry (expected System or SelinuxProfile)"
                ),
            ),
        }
        parents.push(parent);
    }
    check_allow(profile, opts, &mut v);
    Ok(Checked {
        violations: v,
        policy_name,
        parents,
    })
}

fn check_allow(profile: &SelinuxProfile, opts: &Options, v: &mut Violations) {
    let (types, classes, perms) = (
        opts.deny.types(),
        opts.deny.classes(),
        opts.deny.permissions(),
    );
    for (label, by_class) in &profile.spec.allow {
        // Paths are built only for violations: a 10,000-rule profile allocates none.
        let lpath = || format!("spec.allow.{label}");
        if label != SELF_LABEL && !is_token(label) {
            v.push(
                lpath(),
                format!("label {label:?} must match ^([a-zA-Z0-9.\\-_]+|@self)$"),
            );
        } else if types.contains(label) {
            v.push(lpath(), format!("type {label} is on the deny list"));
        }
        for (class, list) in by_class {
            let cpath = || format!("spec.allow.{label}.{class}");
            if !is_token(class) {
                v.push(
                    cpath(),
                    format!("class {class:?} must match ^[a-zA-Z0-9.\\-_]+$"),
                );
            } else if classes.contains(class) {
                v.push(cpath(), format!("class {class} is on the deny list"));
            }
            if list.is_empty() {
                v.push(cpath(), "lists no permissions");
            }
            for (i, perm) in list.iter().enumerate() {
                if !is_token(perm) {
                    let reason = format!("permission {perm:?} must match ^[a-zA-Z0-9.\\-_]+$");
                    v.push(format!("{}[{i}]", cpath()), reason);
                } else if perms.contains(perm) {
                    v.push(
                        format!("{}[{i}]", cpath()),
                        format!("permission {perm} is on the deny list"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inherit::NoParents;
    use crate::model::PolicyRef;

    fn profile(allow: &[(&str, &str, &[&str])]) -> SelinuxProfile {
        let mut p = SelinuxProfile::named("demo");
        for (l, c, perms) in allow {
            p.spec
                .allow
                .entry(l.to_string())
                .or_default()
                .insert(c.to_string(), perms.iter().map(|s| s.to_string()).collect());
        }
        p
    }

    fn paths(v: &Violations) -> Vec<&str> {
        v.as_slice().iter().map(|x| x.path.as_str()).collect()
    }

    // covers: SE-04, SE-05, SE-06
    #[test]
    fn se_04_to_06_inherit_entries_are_checked_all_at_once() {
        let mut p = profile(&[]);
        p.spec.inherit = vec![
            PolicyRef {
                kind: String::new(),
                name: "container".into(),
            },
            PolicyRef::system("net_container"),
            PolicyRef {
                kind: "Seccomp".into(),
                name: "x".into(),
            },
            PolicyRef::profile("missing"),
            PolicyRef::system(""),
        ];
        let v = validate(&p, &Options::default(), &NoParents).unwrap();
        assert_eq!(
            paths(&v),
            [
                "spec.inherit[1].name",
                "spec.inherit[2].kind",
                "spec.inherit[3].name",
                "spec.inherit[4].name"
            ]
        );
        assert!(v.as_slice()[0]
            .reason
            .contains("not in SecurityProfilesOperatorDaemon's allow list"));
        assert!(v.as_slice()[2]
            .reason
            .contains("couldn't find inherit reference"));
        let opts = Options {
            allowed_system_profiles: AllowedSystemProfiles::List(vec![
                "container".into(),
                "net_container".into(),
            ]),
            ..Options::default()
        };
        assert_eq!(validate(&p, &opts, &NoParents).unwrap().len(), 3);
    }

    // covers: SE-07
    #[test]
    fn se_07_labels_classes_and_permissions_must_be_tokens() {
        let p = profile(&[
            ("@self", "tcp_socket", &["listen"]),
            ("a b", "file", &["read"]),
            ("x_t", "fi)le", &["re(ad", "ok"]),
            ("y_t", "dir", &[]),
        ]);
        let v = validate(&p, &Options::default(), &NoParents).unwrap();
        assert_eq!(
            paths(&v),
            [
                "spec.allow.a b",
                "spec.allow.x_t.fi)le",
                "spec.allow.x_t.fi)le[0]",
                "spec.allow.y_t.dir"
            ]
        );
    }

    // covers: SE-15, SE-16, SE-17
    #[test]
    fn se_15_to_17_deny_list_builtin_extended_and_lifted() {
        let p = profile(&[
            ("kernel_t", "file", &["read"]),
            ("var_t", "capability", &["setenforce"]),
            ("etc_t", "file", &["write"]),
        ]);
        let v = validate(&p, &Options::default(), &NoParents).unwrap();
        assert_eq!(
            paths(&v),
            [
                "spec.allow.kernel_t",
                "spec.allow.var_t.capability",
                "spec.allow.var_t.capability[0]"
            ]
        );
        let mut opts = Options::default();
        opts.deny.denied_types.insert("etc_t".into());
        opts.deny.allowed_types.insert("kernel_t".into());
        opts.deny.allowed_classes.insert("capability".into());
        // Both denied and allowed: stays denied (SE-17).
        opts.deny.denied_permissions.insert("setenforce".into());
        opts.deny.allowed_permissions.insert("setenforce".into());
        let v = validate(&p, &opts, &NoParents).unwrap();
        assert_eq!(
            paths(&v),
            ["spec.allow.etc_t", "spec.allow.var_t.capability[0]"]
        );
    }
}
