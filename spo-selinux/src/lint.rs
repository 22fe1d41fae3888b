//! Lint rules for SelinuxProfiles (issue 11): allows that undo confinement, templates outside
//! the operator's allow-list, permissive mode left on. Rules are documented in
//! `docs/src/lint-rules.md`.
//!
//! ```
//! use spo_core::lint::LintConfig;
//! use spo_selinux::{lint::lint, SelinuxProfile};
//!
//! let mut p = SelinuxProfile::named("demo");
//! p.spec.allow.entry("shadow_t".into()).or_default().insert("file".into(), vec!["write".into()]);
//! let f = lint(&p, &LintConfig::default());
//! assert_eq!(f[0].rule, "selinux/sensitive-type");
//! ```

use spo_core::lint::{Finding, LintConfig, RuleInfo, Severity};

use crate::model::{Mode, ParentKind, SelinuxProfile, SELF_LABEL};

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        severity,
        summary,
    }
}

/// A `*` type, class or permission.
pub const WILDCARD: RuleInfo = rule(
    "selinux/wildcard",
    Severity::Error,
    "an allow rule grants `*` (every type, class or permission)",
);
/// Write-like access to a type that guards credentials, the kernel or the policy.
pub const SENSITIVE_TYPE: RuleInfo = rule(
    "selinux/sensitive-type",
    Severity::Warning,
    "an allow rule grants write-like access to a sensitive type (shadow_t, security_t, …)",
);
/// `@self` allowed to change its own domain.
pub const SELF_TRANSITION: RuleInfo = rule(
    "selinux/self-process-transition",
    Severity::Warning,
    "the profile's own domain may transition or change its context (class process)",
);
/// A system template outside `allowedSystemProfiles`.
pub const TEMPLATE_NOT_ALLOWED: RuleInfo = rule(
    "selinux/template-not-allowed",
    Severity::Error,
    "the profile inherits a system template outside allowedSystemProfiles",
);
/// `mode: Permissive` left in a profile.
pub const PERMISSIVE: RuleInfo = rule(
    "selinux/permissive",
    Severity::Warning,
    "the profile is permissive: denials are logged, not enforced",
);

/// Every SELinux rule.
pub const RULES: &[RuleInfo] = &[
    WILDCARD,
    SENSITIVE_TYPE,
    SELF_TRANSITION,
    TEMPLATE_NOT_ALLOWED,
    PERMISSIVE,
];

/// Types whose write access hands over the node: credentials, the kernel, the policy itself,
/// and unconfined or container-runtime domains.
pub const SENSITIVE_TYPES: &[&str] = &[
    "shadow_t",
    "passwd_file_t",
    "security_t",
    "kernel_t",
    "proc_kcore_t",
    "memory_device_t",
    "sysfs_t",
    "proc_security_t",
    "selinux_config_t",
    "load_policy_t",
    "unconfined_t",
    "sysadm_t",
    "container_runtime_t",
    "container_runtime_exec_t",
    "docker_var_run_t",
    "container_var_run_t",
    "etc_t",
    "bin_t",
    "lib_t",
    "boot_t",
    "modules_object_t",
];

const WRITE_PERMS: &[&str] = &[
    "*",
    "write",
    "append",
    "create",
    "unlink",
    "rename",
    "setattr",
    "relabelfrom",
    "relabelto",
    "add_name",
    "remove_name",
    "link",
    "reparent",
    "rmdir",
    "mounton",
    "load_policy",
    "setenforce",
    "setbool",
    "module_load",
    "connectto",
    "ptrace",
];

const TRANSITION_PERMS: &[&str] = &["*", "transition", "dyntransition", "setcurrent", "setexec"];

/// Lints a SelinuxProfile.
pub fn lint(profile: &SelinuxProfile, cfg: &LintConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = &profile.spec;
    if spec.mode == Mode::Permissive {
        out.push(
            Finding::new(
                &PERMISSIVE,
                "spec.mode",
                "mode Permissive: the policy is installed but denials are not enforced",
            )
            .with_help("remove `mode: Permissive` once the profile is complete"),
        );
    }
    if let Some(allowed) = &cfg.allowed_system_profiles {
        for (i, parent) in spec.inherit.iter().enumerate() {
            if parent.parent_kind() == ParentKind::System
                && !allowed.iter().any(|a| a == &parent.name)
            {
                out.push(
                    Finding::new(
                        &TEMPLATE_NOT_ALLOWED,
                        format!("spec.inherit[{i}].name"),
                        format!(
                            "system template {:?} is not in allowedSystemProfiles ({})",
                            parent.name,
                            allowed.join(", ")
                        ),
                    )
                    .with_help("inherit one of the allowed templates, or ask for it to be added"),
                );
            }
        }
    }
    for (ty, classes) in &spec.allow {
        if ty == "*" {
            out.push(
                Finding::new(
                    &WILDCARD,
                    format!("spec.allow.{ty}"),
                    "allow on every type (`*`)",
                )
                .with_help("name the target types"),
            );
        }
        for (class, perms) in classes {
            let path = format!("spec.allow.{ty}.{class}");
            if class == "*" {
                out.push(
                    Finding::new(
                        &WILDCARD,
                        path.clone(),
                        format!("allow on every class (`*`) of {ty}"),
                    )
                    .with_help("name the object classes"),
                );
            }
            for (k, perm) in perms.iter().enumerate() {
                let at = format!("{path}[{k}]");
                if perm == "*" {
                    out.push(
                        Finding::new(
                            &WILDCARD,
                            at.clone(),
                            format!("every permission (`*`) on {ty}:{class}"),
                        )
                        .with_help("list the permissions the workload needs"),
                    );
                }
                if SENSITIVE_TYPES.contains(&ty.as_str()) && WRITE_PERMS.contains(&perm.as_str()) {
                    out.push(
                        Finding::new(
                            &SENSITIVE_TYPE,
                            at.clone(),
                            format!(
                                "{perm} on {ty}:{class}: {ty} guards credentials, the kernel or \
                                 the host"
                            ),
                        )
                        .with_help(format!(
                            "drop {perm:?}; give the workload its own type instead of {ty}"
                        )),
                    );
                }
                if ty == SELF_LABEL
                    && class == "process"
                    && TRANSITION_PERMS.contains(&perm.as_str())
                {
                    out.push(
                        Finding::new(
                            &SELF_TRANSITION,
                            at,
                            format!(
                                "{perm} on {SELF_LABEL}:process lets the container change its \
                                 own SELinux context"
                            ),
                        )
                        .with_help(format!("remove {perm:?} from the process class")),
                    );
                }
            }
        }
    }
    cfg.finish(out, Some(&profile.metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyRef;

    fn with(ty: &str, class: &str, perms: &[&str]) -> SelinuxProfile {
        let mut p = SelinuxProfile::named("t");
        p.spec
            .allow
            .entry(ty.into())
            .or_default()
            .insert(class.into(), perms.iter().map(|s| s.to_string()).collect());
        p
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn each_rule_fires_and_clean_profiles_pass() {
        let cfg = LintConfig::default();
        assert!(lint(&with("var_log_t", "file", &["read", "open"]), &cfg).is_empty());
        assert_eq!(
            ids(&lint(&with("var_log_t", "file", &["*"]), &cfg)),
            [WILDCARD.id]
        );
        let f = lint(&with("shadow_t", "file", &["read", "write"]), &cfg);
        assert_eq!(ids(&f), [SENSITIVE_TYPE.id]);
        assert_eq!(f[0].path, "spec.allow.shadow_t.file[1]");
        assert_eq!(
            ids(&lint(&with("@self", "process", &["transition"]), &cfg)),
            [SELF_TRANSITION.id]
        );
        let mut p = with("var_log_t", "file", &["read"]);
        p.spec.mode = Mode::Permissive;
        assert_eq!(ids(&lint(&p, &cfg)), [PERMISSIVE.id]);
        let mut p = with("var_log_t", "file", &["read"]);
        p.spec.inherit = vec![PolicyRef::system("net_container")];
        let cfg =
            LintConfig::default().with_allowed_system_profiles(Some(vec!["container".into()]));
        assert_eq!(ids(&lint(&p, &cfg)), [TEMPLATE_NOT_ALLOWED.id]);
        p.spec.inherit = vec![PolicyRef::system("container")];
        assert!(lint(&p, &cfg).is_empty());
    }
}
