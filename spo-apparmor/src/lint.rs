//! Lint rules for AppArmorProfiles (issue 11): write access to the whole filesystem,
//! dangerous capabilities, mount and ptrace rules, raw sockets, complain mode left on. Both the
//! structured form (`spec.abstract`) and raw policy text (`spec.policy`) are checked. Rules are
//! documented in `docs/src/lint-rules.md`.
//!
//! ```
//! use spo_apparmor::{lint::lint, Abstract, AppArmorProfile, CapabilityRules};
//! use spo_core::lint::LintConfig;
//!
//! let p = AppArmorProfile::new("demo", Abstract {
//!     capability: Some(CapabilityRules { allowed_capabilities: vec!["sys_admin".into()] }),
//!     ..Abstract::default()
//! });
//! assert_eq!(lint(&p, &LintConfig::default())[0].rule, "apparmor/dangerous-capability");
//! ```

use spo_core::lint::{Finding, LintConfig, RuleInfo, Severity};

use crate::model::{AppArmorProfile, Mode};

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        severity,
        summary,
    }
}

/// Write access to `/**` (or `/`, `/*`, `**`).
pub const WRITE_EVERYTHING: RuleInfo = rule(
    "apparmor/write-everything",
    Severity::Error,
    "the profile grants write access to the whole filesystem (`/**`)",
);
/// A capability that gives the workload the node.
pub const DANGEROUS_CAPABILITY: RuleInfo = rule(
    "apparmor/dangerous-capability",
    Severity::Warning,
    "the profile allows a capability that amounts to root on the node (sys_admin, sys_module, …)",
);
/// A mount, umount, remount or pivot_root rule.
pub const MOUNT: RuleInfo = rule(
    "apparmor/mount",
    Severity::Warning,
    "the profile allows mount, umount or pivot_root",
);
/// A ptrace rule or `capability sys_ptrace`.
pub const PTRACE: RuleInfo = rule(
    "apparmor/ptrace",
    Severity::Warning,
    "the profile allows tracing other processes (ptrace)",
);
/// Raw sockets.
pub const RAW_NETWORK: RuleInfo = rule(
    "apparmor/raw-network",
    Severity::Warning,
    "the profile allows raw sockets (packet crafting and sniffing)",
);
/// `mode: Complain` (or `flags=(complain)`) left in a profile.
pub const COMPLAIN_MODE: RuleInfo = rule(
    "apparmor/complain-mode",
    Severity::Warning,
    "the profile is in complain mode: nothing is enforced",
);

/// Every AppArmor rule.
pub const RULES: &[RuleInfo] = &[
    WRITE_EVERYTHING,
    DANGEROUS_CAPABILITY,
    MOUNT,
    PTRACE,
    RAW_NETWORK,
    COMPLAIN_MODE,
];

/// Capabilities that amount to root on the node, with the reason.
const DANGEROUS_CAPS: &[(&str, &str)] = &[
    (
        "sys_admin",
        "mount, namespaces, bpf, and most of the kernel's admin interfaces",
    ),
    ("sys_module", "loads kernel modules"),
    ("sys_rawio", "raw device and I/O port access"),
    ("sys_boot", "reboots the node or loads a new kernel"),
    (
        "dac_read_search",
        "reads any file by handle (the 'shocker' breakout)",
    ),
    ("bpf", "loads eBPF programs"),
    ("mac_admin", "changes the LSM policy"),
    ("mac_override", "overrides the LSM policy"),
];

fn is_write_everything(path: &str) -> bool {
    matches!(path.trim(), "/**" | "/*" | "/" | "**" | "/**/" | "/{,**}")
}

fn cap_name(c: &str) -> String {
    let c = c.trim().to_ascii_lowercase();
    c.strip_prefix("cap_").unwrap_or(&c).to_string()
}

/// Lints an AppArmorProfile.
pub fn lint(profile: &AppArmorProfile, cfg: &LintConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = &profile.spec;
    if spec.mode() == Mode::Complain {
        out.push(
            Finding::new(
                &COMPLAIN_MODE,
                "spec.mode",
                "mode Complain: violations are logged, not blocked",
            )
            .with_help(
                "remove `mode: Complain` (or `complainMode: true`) once the profile is complete",
            ),
        );
    }
    if let Some(abs) = &spec.abstract_ {
        if let Some(fs) = &abs.filesystem {
            let lists = [
                ("writeOnlyPaths", &fs.write_only_paths),
                ("readWritePaths", &fs.read_write_paths),
            ];
            for (field, list) in lists {
                for (i, p) in list.iter().flatten().enumerate() {
                    if is_write_everything(p) {
                        out.push(
                            Finding::new(
                                &WRITE_EVERYTHING,
                                format!("spec.abstract.filesystem.{field}[{i}]"),
                                format!("{p:?} grants write access to every file of the container"),
                            )
                            .with_help("list the directories the workload writes, e.g. /tmp/** and /var/lib/app/**"),
                        );
                    }
                }
            }
        }
        if let Some(caps) = &abs.capability {
            for (i, c) in caps.allowed_capabilities.iter().enumerate() {
                let name = cap_name(c);
                let path = format!("spec.abstract.capability.allowedCapabilities[{i}]");
                if name == "sys_ptrace" {
                    out.push(ptrace_finding(path, "capability sys_ptrace"));
                } else if let Some((_, why)) = DANGEROUS_CAPS.iter().find(|(n, _)| *n == name) {
                    out.push(cap_finding(path, &name, why));
                }
            }
        }
        if abs.network.is_some_and(|n| n.raw()) {
            out.push(
                Finding::new(
                    &RAW_NETWORK,
                    "spec.abstract.network.allowRaw",
                    "raw sockets are allowed",
                )
                .with_help("drop allowRaw unless the workload crafts packets (ping needs ICMP sockets only)"),
            );
        }
    }
    if let Some(policy) = spec.raw_policy() {
        raw_policy(policy, &mut out);
    }
    cfg.finish(out, Some(&profile.metadata))
}

fn cap_finding(path: String, name: &str, why: &str) -> Finding {
    Finding::new(
        &DANGEROUS_CAPABILITY,
        path,
        format!("capability {name}: {why}"),
    )
    .with_help(format!(
        "drop {name}; grant the narrower capability the workload needs"
    ))
}

fn ptrace_finding(path: String, what: &str) -> Finding {
    Finding::new(
        &PTRACE,
        path,
        format!("{what}: the workload may read and control other processes"),
    )
    .with_help("remove it unless the workload is a debugger or profiler")
}

/// Rules of raw policy text, by line (`spec.policy` is one field; the message names the line).
fn raw_policy(policy: &str, out: &mut Vec<Finding>) {
    for (n, line) in policy.lines().enumerate() {
        let l = line.trim().trim_end_matches(',');
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let at = |what: &str| format!("policy line {}: {what}", n + 1);
        let words: Vec<&str> = l.split_whitespace().collect();
        let first = words
            .iter()
            .find(|w| !matches!(**w, "allow" | "audit" | "owner"))
            .copied()
            .unwrap_or("");
        if l.contains("flags=") && l.contains("complain") {
            out.push(
                Finding::new(&COMPLAIN_MODE, "spec.policy", at("flags=(complain)"))
                    .with_help("remove the complain flag once the profile is complete"),
            );
        }
        if l.starts_with("deny") {
            continue;
        }
        match first {
            "mount" | "umount" | "remount" | "pivot_root" => out.push(
                Finding::new(&MOUNT, "spec.policy", at(&format!("{first} rule `{l}`")))
                    .with_help("remove mount rules; mounts belong to the container runtime"),
            ),
            "ptrace" => out.push(ptrace_finding("spec.policy".into(), &at("ptrace rule"))),
            "capability" => {
                for w in &words[1..] {
                    let name = cap_name(w);
                    if name == "sys_ptrace" {
                        out.push(ptrace_finding(
                            "spec.policy".into(),
                            &at("capability sys_ptrace"),
                        ));
                    } else if let Some((_, why)) = DANGEROUS_CAPS.iter().find(|(n, _)| *n == name) {
                        out.push(cap_finding("spec.policy".into(), &name, &at(why)));
                    }
                }
            }
            "network" if words.contains(&"raw") || words.contains(&"packet") => out.push(
                Finding::new(&RAW_NETWORK, "spec.policy", at("raw network access"))
                    .with_help("remove raw/packet network rules unless needed"),
            ),
            p if p.starts_with('/') || p.starts_with("**") => {
                let perms = words.get(1).copied().unwrap_or("");
                if is_write_everything(p) && perms.contains(['w', 'a']) {
                    out.push(
                        Finding::new(&WRITE_EVERYTHING, "spec.policy", at(&format!("`{l}`")))
                            .with_help("list the directories the workload writes"),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Abstract, CapabilityRules, FilesystemRules, NetworkRules};

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn structured_rules() {
        let cfg = LintConfig::default();
        let clean = AppArmorProfile::new(
            "p",
            Abstract {
                filesystem: Some(FilesystemRules {
                    read_write_paths: Some(vec!["/tmp/**".into()]),
                    ..Default::default()
                }),
                capability: Some(CapabilityRules {
                    allowed_capabilities: vec!["net_bind_service".into()],
                }),
                ..Default::default()
            },
        );
        assert!(lint(&clean, &cfg).is_empty());
        let bad = AppArmorProfile::new(
            "p",
            Abstract {
                filesystem: Some(FilesystemRules {
                    read_write_paths: Some(vec!["/**".into()]),
                    ..Default::default()
                }),
                capability: Some(CapabilityRules {
                    allowed_capabilities: vec!["sys_admin".into(), "sys_ptrace".into()],
                }),
                network: Some(NetworkRules {
                    allow_raw: Some(true),
                    allowed_protocols: None,
                }),
                ..Default::default()
            },
        );
        let mut bad = bad;
        bad.spec.mode = Some(Mode::Complain);
        assert_eq!(
            ids(&lint(&bad, &cfg)),
            [
                DANGEROUS_CAPABILITY.id,
                PTRACE.id,
                WRITE_EVERYTHING.id,
                RAW_NETWORK.id,
                COMPLAIN_MODE.id
            ]
        );
    }

    #[test]
    fn raw_policy_rules() {
        let mut p = AppArmorProfile::new("p", Abstract::default());
        p.spec.abstract_ = None;
        p.spec.policy = Some(
            "profile p flags=(attach_disconnected,complain) {\n  /** rw,\n  mount,\n  ptrace (read),\n  capability sys_admin,\n  deny mount,\n  /tmp/** rw,\n}\n"
                .into(),
        );
        let f = lint(&p, &LintConfig::default());
        assert_eq!(
            ids(&f),
            [
                COMPLAIN_MODE.id,
                WRITE_EVERYTHING.id,
                MOUNT.id,
                PTRACE.id,
                DANGEROUS_CAPABILITY.id
            ],
            "{f:#?}"
        );
        assert!(f[1].message.starts_with("policy line 2"));
    }
}
