//! Lint rules for SeccompProfiles (issue 11): mistakes no validator catches, as
//! [`Finding`]s with stable rule IDs. Every rule is documented in `docs/src/lint-rules.md`.
//!
//! [`lint`] checks a profile on its own; [`lint_resolving`] also walks its base-profile
//! chain (errors of the chain are findings) and checks the rules that need the complete rule
//! set (can the process start, `clone3`, `allowedSyscalls`) on the resolved profile.
//!
//! ```
//! use spo_core::lint::LintConfig;
//! use spo_seccomp::{lint::lint, SeccompProfile};
//!
//! let yaml = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n\
//!             metadata: {name: demo}\n\
//!             spec: {defaultAction: SCMP_ACT_ERRNO, \
//!                    syscalls: [{action: SCMP_ACT_ALLOW, names: [read, write, exit_group]}]}\n";
//! let profile = SeccompProfile::from_yaml(yaml)?.remove(0);
//! let findings = lint(&profile, &LintConfig::default());
//! assert!(findings.iter().any(|f| f.rule == "seccomp/cannot-start"));
//! # Ok::<(), spo_seccomp::SeccompError>(())
//! ```

mod tables;

use std::collections::{BTreeMap, HashMap};

use spo_core::lint::{Finding, LintConfig, RuleInfo, Severity};
use spo_core::Arch;

use crate::merge::UnionMode;
use crate::model::{Action, SeccompProfile, SeccompSpec};
use crate::resolve::{BaseProfileResolver, ResolveError};

pub use tables::{arity, blocked_reason, BLOCKED};

const fn rule(id: &'static str, severity: Severity, summary: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        severity,
        summary,
    }
}

/// The profile is invalid (a violation of the schema or of SC-01..SC-05).
pub const INVALID: RuleInfo = rule(
    "seccomp/invalid",
    Severity::Error,
    "the profile is invalid (schema or field rules)",
);
/// A syscall name that exists on none of the profile's architectures.
pub const UNKNOWN_SYSCALL: RuleInfo = rule(
    "seccomp/unknown-syscall",
    Severity::Error,
    "a syscall name exists on none of the profile's architectures",
);
/// A syscall name that exists on some of the profile's architectures only.
pub const PARTIAL_SYSCALL: RuleInfo = rule(
    "seccomp/partial-arch-syscall",
    Severity::Warning,
    "a syscall name exists on some of the profile's architectures only",
);
/// A syscall listed under two different actions.
pub const CONFLICTING_ACTIONS: RuleInfo = rule(
    "seccomp/conflicting-actions",
    Severity::Error,
    "a syscall is listed under two different actions",
);
/// An allow-list with which no process can start or exit.
pub const CANNOT_START: RuleInfo = rule(
    "seccomp/cannot-start",
    Severity::Error,
    "the allow-list lacks execve/execveat or exit_group: the container cannot start or exit",
);
/// `clone3` denied with an errno other than ENOSYS while `clone` is allowed.
pub const CLONE3_ERRNO: RuleInfo = rule(
    "seccomp/clone3-errno",
    Severity::Error,
    "clone3 is denied with something other than ENOSYS while clone is allowed",
);
/// An allowed syscall that the runtime default profiles block.
pub const DANGEROUS_SYSCALL: RuleInfo = rule(
    "seccomp/dangerous-syscall",
    Severity::Warning,
    "the profile allows a syscall the runtime default profiles block",
);
/// `defaultAction: SCMP_ACT_ALLOW`: a deny-list.
pub const DENY_LIST: RuleInfo = rule(
    "seccomp/deny-list",
    Severity::Info,
    "the default action allows everything (a deny-list)",
);
/// `defaultAction: SCMP_ACT_LOG`: complain mode left in a profile.
pub const COMPLAIN_MODE: RuleInfo = rule(
    "seccomp/complain-mode",
    Severity::Warning,
    "the default action is SCMP_ACT_LOG (complain mode): nothing is enforced",
);
/// An argument condition on an index beyond the syscall's arity.
pub const ARG_BEYOND_ARITY: RuleInfo = rule(
    "seccomp/arg-beyond-arity",
    Severity::Error,
    "an argument condition tests an argument the syscall does not have",
);
/// A compiled filter over the kernel's instruction limit.
pub const TOO_MANY_INSTRUCTIONS: RuleInfo = rule(
    "seccomp/instruction-limit",
    Severity::Error,
    "the compiled filter exceeds the kernel's limit of 4096 BPF instructions",
);
/// The base-profile chain is broken (missing, cycle, too deep).
pub const BASE_PROFILE: RuleInfo = rule(
    "seccomp/base-profile",
    Severity::Error,
    "the base-profile chain cannot be resolved (missing, cycle or too deep)",
);
/// An allowing rule outside the `allowedSyscalls` policy.
pub const DISALLOWED_SYSCALL: RuleInfo = rule(
    "seccomp/disallowed-syscall",
    Severity::Error,
    "the profile allows a syscall or action outside the allowedSyscalls policy",
);

/// Every seccomp rule.
pub const RULES: &[RuleInfo] = &[
    INVALID,
    UNKNOWN_SYSCALL,
    PARTIAL_SYSCALL,
    CONFLICTING_ACTIONS,
    CANNOT_START,
    CLONE3_ERRNO,
    DANGEROUS_SYSCALL,
    DENY_LIST,
    COMPLAIN_MODE,
    ARG_BEYOND_ARITY,
    TOO_MANY_INSTRUCTIONS,
    BASE_PROFILE,
    DISALLOWED_SYSCALL,
];

/// The kernel's limit on the length of a classic BPF program (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

const ENOSYS: u32 = 38;

/// The single place this module looks syscall numbers up: spo-seccomp's generated tables.
fn syscall_number(name: &str, arch: Arch) -> Option<u32> {
    crate::syscalls::number(arch.resolved(), name)
}

fn exists(name: &str, arch: Arch) -> bool {
    syscall_number(name, arch).is_some()
}

fn arches_having(name: &str) -> Vec<Arch> {
    Arch::ALL
        .into_iter()
        .filter(|a| *a != Arch::Native && exists(name, *a))
        .collect()
}

fn arch_list(arches: &[Arch]) -> String {
    arches
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lints `profile` without resolving its base profile. Rules that need the complete rule set
/// are skipped when the profile has a base.
pub fn lint(profile: &SeccompProfile, cfg: &LintConfig) -> Vec<Finding> {
    let has_base = base_name(profile).is_some();
    let resolved = (!has_base).then_some(profile);
    let raw = lint_raw(profile, resolved, None, cfg);
    cfg.finish(raw, Some(&profile.metadata))
}

/// Lints `profile` after resolving its base-profile chain with `resolver`; a broken chain is a
/// `seccomp/base-profile` finding.
pub fn lint_resolving(
    profile: &SeccompProfile,
    cfg: &LintConfig,
    resolver: &impl BaseProfileResolver,
) -> Vec<Finding> {
    let (resolved, base_error) = if base_name(profile).is_some() {
        match crate::resolve::resolve(profile, resolver, UnionMode::V1) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (Some(profile.clone()), None)
    };
    let raw = lint_raw(profile, resolved.as_ref(), base_error.as_ref(), cfg);
    cfg.finish(raw, Some(&profile.metadata))
}

fn base_name(p: &SeccompProfile) -> Option<&str> {
    p.spec
        .base_profile_name
        .as_deref()
        .filter(|b| !b.is_empty())
}

fn lint_raw(
    profile: &SeccompProfile,
    resolved: Option<&SeccompProfile>,
    base_error: Option<&ResolveError>,
    cfg: &LintConfig,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = &profile.spec;
    let on = |r: &RuleInfo| !cfg.is_allowed(r.id);
    if on(&INVALID) {
        invalid(profile, &mut out);
    }
    if on(&UNKNOWN_SYSCALL) || on(&PARTIAL_SYSCALL) {
        names_per_arch(spec, &mut out);
    }
    if on(&CONFLICTING_ACTIONS) {
        conflicting_actions(spec, &mut out);
    }
    if on(&DANGEROUS_SYSCALL) {
        dangerous(spec, &mut out);
    }
    default_action(spec, &mut out);
    if on(&ARG_BEYOND_ARITY) {
        beyond_arity(spec, &mut out);
    }
    if on(&TOO_MANY_INSTRUCTIONS) {
        instruction_limit(spec, &mut out);
    }
    if let Some(e) = base_error {
        out.push(
            Finding::new(&BASE_PROFILE, "spec.baseProfileName", e.to_string()).with_help(
                "make every base profile of the chain exist (in the same directory or \
                 --profiles-dir), end the chain without returning to a profile already in it, \
                 and keep it at most 15 profiles long",
            ),
        );
    }
    if let Some(r) = resolved {
        let from_base = base_name(profile).is_some();
        if on(&CANNOT_START) {
            cannot_start(&r.spec, from_base, &mut out);
        }
        if on(&CLONE3_ERRNO) {
            clone3(spec, &r.spec, &mut out);
        }
        if on(&DISALLOWED_SYSCALL) && !cfg.allowed_syscalls.is_empty() {
            policy(spec, &r.spec, cfg, &mut out);
        }
    }
    out
}

fn invalid(profile: &SeccompProfile, out: &mut Vec<Finding>) {
    for v in crate::validate::validate(profile).into_vec() {
        // Unknown names are the job of `seccomp/unknown-syscall`.
        if v.reason.starts_with("unknown syscall") {
            continue;
        }
        out.push(
            Finding::new(&INVALID, v.path, v.reason)
                .with_help("fix the field; `spoc validate` lists every violation of the profile"),
        );
    }
}

fn names_per_arch(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    let arches = spec.effective_architectures();
    for (i, rule) in spec.syscalls.iter().enumerate() {
        for (j, name) in rule.names.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            let missing: Vec<Arch> = arches
                .iter()
                .copied()
                .filter(|a| !exists(name, *a))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let path = format!("spec.syscalls[{i}].names[{j}]");
            if missing.len() == arches.len() {
                let elsewhere = arches_having(name);
                let (message, help) = if elsewhere.is_empty() {
                    (
                        format!("syscall {name:?} does not exist on any architecture"),
                        match suggest(name, &arches) {
                            Some(s) => format!("did you mean {s:?}?"),
                            None => "remove the name or fix its spelling (a syscall newer than \
                                     the syscall table is reported too)"
                                .to_string(),
                        },
                    )
                } else {
                    (
                        format!(
                            "syscall {name:?} exists on none of the profile's architectures ({}); \
                             the rule does nothing",
                            arch_list(&arches)
                        ),
                        format!(
                            "it exists on {}; remove it or add the architecture",
                            arch_list(&elsewhere)
                        ),
                    )
                };
                out.push(Finding::new(&UNKNOWN_SYSCALL, path, message).with_help(help));
            } else {
                out.push(
                    Finding::new(
                        &PARTIAL_SYSCALL,
                        path,
                        format!(
                            "syscall {name:?} does not exist on {}; the rule has no effect there",
                            arch_list(&missing)
                        ),
                    )
                    .with_help("harmless when intended; allow the rule for this profile otherwise"),
                );
            }
        }
    }
}

/// The closest known name (edit distance ≤ 2) on `arches`.
fn suggest(name: &str, arches: &[Arch]) -> Option<String> {
    let arch = *arches.first()?;
    let mut best: Option<(usize, &str)> = None;
    for &(cand, _) in crate::syscalls::table_of(arch) {
        let d = edit_distance(name, cand);
        if d <= 2 && best.is_none_or(|(bd, b)| (d, cand) < (bd, b)) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, s)| s.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn conflicting_actions(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    // name → first unconditional (rule index, action, errno)
    let mut seen: HashMap<&str, (usize, Action, Option<u32>)> = HashMap::new();
    for (i, rule) in spec.syscalls.iter().enumerate() {
        if !rule.args.is_empty() {
            continue;
        }
        for (j, name) in rule.names.iter().enumerate() {
            match seen.get(name.as_str()) {
                Some(&(first, action, errno)) if first != i => {
                    if action != rule.action || errno != rule.errno() {
                        out.push(
                            Finding::new(
                                &CONFLICTING_ACTIONS,
                                format!("spec.syscalls[{i}].names[{j}]"),
                                format!(
                                    "{name:?} is listed under {} here and under {} in \
                                     spec.syscalls[{first}]",
                                    describe(rule.action, rule.errno()),
                                    describe(action, errno)
                                ),
                            )
                            .with_help(
                                "keep the syscall in one rule only; libseccomp refuses a \
                                 second action for the same syscall",
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    seen.insert(name, (i, rule.action, rule.errno()));
                }
            }
        }
    }
}

fn describe(action: Action, errno: Option<u32>) -> String {
    match (action, errno) {
        (Action::Errno | Action::Trace, Some(e)) => format!("{action}({e})"),
        _ => action.to_string(),
    }
}

fn dangerous(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    if spec.default_action.is_allowing() {
        return; // a deny-list: `seccomp/deny-list` says it
    }
    for (i, rule) in spec.syscalls.iter().enumerate() {
        if !rule.action.is_allowing() {
            continue;
        }
        for (j, name) in rule.names.iter().enumerate() {
            if let Some(reason) = blocked_reason(name) {
                let cond = if rule.args.is_empty() {
                    ""
                } else {
                    " (with argument conditions)"
                };
                out.push(
                    Finding::new(
                        &DANGEROUS_SYSCALL,
                        format!("spec.syscalls[{i}].names[{j}]"),
                        format!(
                            "{name:?} is allowed{cond}; runtime default profiles block it — {reason}"
                        ),
                    )
                    .with_help(format!(
                        "remove {name:?} unless the workload needs it; if it does, suppress the \
                         rule for this profile with the spo.x-k8s.io/lint-allow annotation"
                    )),
                );
            }
        }
    }
}

fn default_action(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    match spec.default_action {
        Action::Allow => out.push(
            Finding::new(
                &DENY_LIST,
                "spec.defaultAction",
                "defaultAction SCMP_ACT_ALLOW: every syscall not listed is allowed (a deny-list)",
            )
            .with_help("prefer an allow-list: defaultAction SCMP_ACT_ERRNO with the syscalls the workload uses"),
        ),
        Action::Log => out.push(
            Finding::new(
                &COMPLAIN_MODE,
                "spec.defaultAction",
                "defaultAction SCMP_ACT_LOG only logs: the profile enforces nothing (complain mode)",
            )
            .with_help("after recording, set defaultAction to SCMP_ACT_ERRNO"),
        ),
        _ => {}
    }
}

fn beyond_arity(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    for (i, rule) in spec.syscalls.iter().enumerate() {
        for (k, arg) in rule.args.iter().enumerate() {
            for name in &rule.names {
                let Some(n) = arity(name) else { continue };
                if arg.index >= u32::from(n) && arg.index <= 5 {
                    out.push(
                        Finding::new(
                            &ARG_BEYOND_ARITY,
                            format!("spec.syscalls[{i}].args[{k}].index"),
                            format!(
                                "{name:?} takes {n} argument{}; index {} tests a register that \
                                 holds garbage",
                                if n == 1 { "" } else { "s" },
                                arg.index
                            ),
                        )
                        .with_help(format!(
                            "use an index below {n}, or move {name:?} to a rule without this \
                             condition"
                        )),
                    );
                }
            }
        }
    }
}

/// A generous upper bound of the compiled filter's length; the filter is compiled only when
/// the bound exceeds the limit.
fn instruction_bound(spec: &SeccompSpec) -> usize {
    let per_arch: usize = spec
        .syscalls
        .iter()
        .map(|r| r.names.len() * (4 + 12 * r.args.len()))
        .sum();
    let arches = spec.effective_architectures().len();
    2 * (16 + arches * (16 + per_arch))
}

/// Without libseccomp only a filter whose lower bound is already over the limit is reported.
#[cfg(not(feature = "libseccomp"))]
fn instruction_limit(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    let at_least = crate::validate::bpf_lower_bound(spec);
    if instruction_bound(spec) <= MAX_INSNS || at_least <= MAX_INSNS {
        return;
    }
    out.push(
        Finding::new(
            &TOO_MANY_INSTRUCTIONS,
            "spec.syscalls",
            format!(
                "the compiled filter has at least {at_least} instructions, over the kernel's \
                 limit of {MAX_INSNS}"
            ),
        )
        .with_help("split the profile or drop argument conditions; the kernel refuses the filter"),
    );
}

#[cfg(feature = "libseccomp")]
fn instruction_limit(spec: &SeccompSpec, out: &mut Vec<Finding>) {
    if instruction_bound(spec) <= MAX_INSNS {
        return;
    }
    let Ok(total) = crate::compile::compile(spec) else {
        return; // compilation errors are reported by validation
    };
    if total.len() <= MAX_INSNS {
        return;
    }
    let mut per: Vec<String> = Vec::new();
    let arches = spec.effective_architectures();
    if arches.len() == 1 {
        per.push(format!("{}: {}", arches[0], total.len()));
    }
    for a in arches.iter().copied().filter(|_| arches.len() > 1) {
        let mut one = spec.clone();
        one.architectures = vec![a];
        if let Ok(f) = crate::compile::compile(&one) {
            per.push(format!("{a}: {}", f.len()));
        }
    }
    out.push(
        Finding::new(
            &TOO_MANY_INSTRUCTIONS,
            "spec.syscalls",
            format!(
                "the compiled filter has {} instructions, over the kernel's limit of {MAX_INSNS} \
                 ({})",
                total.len(),
                per.join(", ")
            ),
        )
        .with_help(
            "drop architectures the nodes do not run, merge argument conditions, or split \
             the rules; the runtime will fail to start the container",
        ),
    );
}

/// The effective action of an unconditional rule for `name`, else the default.
fn effective(spec: &SeccompSpec, name: &str) -> (Action, Option<u32>, Option<(usize, usize)>) {
    for (i, rule) in spec.syscalls.iter().enumerate() {
        if !rule.args.is_empty() {
            continue;
        }
        if let Some(j) = rule.names.iter().position(|n| n == name) {
            return (rule.action, rule.errno(), Some((i, j)));
        }
    }
    (spec.default_action, spec.default_errno_ret, None)
}

fn allows(spec: &SeccompSpec, name: &str) -> bool {
    if spec.default_action.is_allowing() {
        // Only an explicit unconditional deny blocks it.
        return effective(spec, name).0.is_allowing();
    }
    spec.syscalls
        .iter()
        .any(|r| r.action.is_allowing() && r.names.iter().any(|n| n == name))
}

fn cannot_start(resolved: &SeccompSpec, from_base: bool, out: &mut Vec<Finding>) {
    if resolved.default_action.is_allowing() {
        return;
    }
    let mut missing = Vec::new();
    if !allows(resolved, "execve") && !allows(resolved, "execveat") {
        missing.push("execve (or execveat)");
    }
    if !allows(resolved, "exit_group") {
        missing.push("exit_group");
    }
    if missing.is_empty() {
        return;
    }
    let whose = if from_base {
        " (with its base profiles)"
    } else {
        ""
    };
    out.push(
        Finding::new(
            &CANNOT_START,
            "spec.syscalls",
            format!(
                "the profile{whose} does not allow {}: a container under it is killed or fails \
                 at start or exit",
                missing.join(" and ")
            ),
        )
        .with_help("add execve and exit_group to an SCMP_ACT_ALLOW rule"),
    );
}

fn clone3(own: &SeccompSpec, resolved: &SeccompSpec, out: &mut Vec<Finding>) {
    if !allows(resolved, "clone") || allows(resolved, "clone3") {
        return;
    }
    let (action, errno, at) = effective(resolved, "clone3");
    let errno_eff = match action {
        Action::Errno => Some(errno.unwrap_or(1)),
        _ => None,
    };
    if errno_eff == Some(ENOSYS) {
        return;
    }
    let how = match errno_eff {
        Some(e) => format!("{action} with errno {e}"),
        None => action.to_string(),
    };
    // Point at the rule in the profile itself when there is one.
    let path = match (at, effective(own, "clone3").2) {
        (_, Some((i, j))) => format!("spec.syscalls[{i}].names[{j}]"),
        (Some(_), None) => "spec.baseProfileName".to_string(),
        (None, None) => "spec.defaultAction".to_string(),
    };
    let source = if at.is_some() {
        "a rule"
    } else {
        "the default action"
    };
    out.push(
        Finding::new(
            &CLONE3_ERRNO,
            path,
            format!(
                "clone is allowed but clone3 is denied by {source} ({how}); glibc falls back to \
                 clone only when clone3 fails with ENOSYS, so thread and process creation fail"
            ),
        )
        .with_help("add a rule {names: [clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}"),
    );
}

fn policy(own: &SeccompSpec, resolved: &SeccompSpec, cfg: &LintConfig, out: &mut Vec<Finding>) {
    let mut actions = Vec::new();
    for a in &cfg.allowed_seccomp_actions {
        match a.parse::<Action>() {
            Ok(a) => actions.push(a),
            Err(()) => out.push(Finding::new(
                &DISALLOWED_SYSCALL,
                "spec",
                format!("allowedSeccompActions: unknown action {a:?}"),
            )),
        }
    }
    let help = "remove the syscall, or ask for it to be added to the allowedSyscalls policy";
    let mut reported: BTreeMap<String, ()> = BTreeMap::new();
    for v in crate::allowed::check_allowed(own, &cfg.allowed_syscalls, &actions).into_vec() {
        reported.insert(v.reason.clone(), ());
        let path = if v.path.starts_with("spec.") {
            v.path
        } else {
            format!("spec.{}", v.path.trim_start_matches("spec."))
        };
        out.push(Finding::new(&DISALLOWED_SYSCALL, path, v.reason).with_help(help));
    }
    if own == resolved {
        return;
    }
    for v in crate::allowed::check_allowed(resolved, &cfg.allowed_syscalls, &actions).into_vec() {
        if reported.contains_key(&v.reason) {
            continue;
        }
        reported.insert(v.reason.clone(), ());
        out.push(
            Finding::new(
                &DISALLOWED_SYSCALL,
                "spec.baseProfileName",
                format!("{} (from a base profile)", v.reason),
            )
            .with_help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Arg, ArgOp, Syscall};
    use spo_core::ObjectMeta;

    fn profile(default: Action, rules: Vec<Syscall>) -> SeccompProfile {
        let mut spec = SeccompSpec::new(default);
        spec.architectures = vec![Arch::X86_64];
        spec.syscalls = rules;
        SeccompProfile::new(ObjectMeta::named("t"), spec)
    }

    fn rules_of(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    fn base_rules() -> Syscall {
        Syscall::new(["execve", "exit_group", "read", "write"], Action::Allow)
    }

    #[test]
    fn clean_allow_list_has_no_findings() {
        let p = profile(Action::Errno, vec![base_rules()]);
        assert!(lint(&p, &LintConfig::default()).is_empty());
    }

    #[test]
    fn unknown_and_partial_names() {
        let mut p = profile(
            Action::Errno,
            vec![
                base_rules(),
                Syscall::new(["wirte", "arch_prctl", "open"], Action::Allow),
            ],
        );
        p.spec.architectures = vec![Arch::Aarch64];
        let f = lint(&p, &LintConfig::default());
        let unknown: Vec<_> = f
            .iter()
            .filter(|f| f.rule == UNKNOWN_SYSCALL.id)
            .map(|f| f.path.as_str())
            .collect();
        // wirte (typo), arch_prctl and open (x86 only) are on none of [aarch64].
        assert_eq!(
            unknown,
            [
                "spec.syscalls[1].names[0]",
                "spec.syscalls[1].names[1]",
                "spec.syscalls[1].names[2]"
            ]
        );
        let typo = f.iter().find(|f| f.message.contains("wirte")).unwrap();
        assert_eq!(typo.help.as_deref(), Some("did you mean \"write\"?"));
        p.spec.architectures = vec![Arch::X86_64, Arch::Aarch64];
        let f = lint(&p, &LintConfig::default());
        let partial = f.iter().find(|f| f.rule == PARTIAL_SYSCALL.id).unwrap();
        assert!(partial.message.contains("SCMP_ARCH_AARCH64"), "{partial:?}");
    }

    #[test]
    fn conflicting_actions_are_errors_conditional_rules_are_not() {
        let mut cond = Syscall::new(["personality"], Action::Allow);
        cond.args = vec![Arg {
            index: 0,
            value: 8,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        let p = profile(
            Action::Errno,
            vec![
                base_rules(),
                Syscall::new(["mkdir"], Action::Allow),
                Syscall::new(["mkdir", "personality"], Action::KillProcess),
                cond,
            ],
        );
        let f = lint(&p, &LintConfig::default());
        let c: Vec<_> = f
            .iter()
            .filter(|f| f.rule == CONFLICTING_ACTIONS.id)
            .collect();
        assert_eq!(c.len(), 1, "{f:?}");
        assert_eq!(c[0].path, "spec.syscalls[2].names[0]");
    }

    #[test]
    fn cannot_start_clone3_dangerous_and_defaults() {
        let p = profile(
            Action::Errno,
            vec![Syscall::new(["read", "clone", "bpf"], Action::Allow)],
        );
        let f = lint(&p, &LintConfig::default());
        assert_eq!(
            rules_of(&f),
            [CLONE3_ERRNO.id, CANNOT_START.id, DANGEROUS_SYSCALL.id],
            "{f:#?}"
        );
        assert_eq!(f[0].path, "spec.defaultAction");
        assert!(f[1].message.contains("execve (or execveat) and exit_group"));
        assert!(f[2].message.contains("bpf"));
        // clone3 → ENOSYS is the fix.
        let mut fixed = profile(
            Action::Errno,
            vec![base_rules(), Syscall::new(["clone"], Action::Allow)],
        );
        let mut c3 = Syscall::new(["clone3"], Action::Errno);
        c3.errno_ret = Some(38);
        fixed.spec.syscalls.push(c3.clone());
        assert!(lint(&fixed, &LintConfig::default()).is_empty());
        c3.errno_ret = Some(1);
        *fixed.spec.syscalls.last_mut().unwrap() = c3;
        let f = lint(&fixed, &LintConfig::default());
        assert_eq!(f[0].path, "spec.syscalls[2].names[0]");
        // Deny-list and complain mode.
        let f = lint(&profile(Action::Allow, vec![]), &LintConfig::default());
        assert_eq!(rules_of(&f), [DENY_LIST.id]);
        let f = lint(&profile(Action::Log, vec![]), &LintConfig::default());
        assert_eq!(rules_of(&f), [COMPLAIN_MODE.id]);
    }

    #[test]
    fn args_beyond_arity() {
        let mut r = Syscall::new(["getpid", "read"], Action::Allow);
        r.args = vec![Arg {
            index: 2,
            value: 1,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        let p = profile(Action::Errno, vec![base_rules(), r]);
        let f = lint(&p, &LintConfig::default());
        assert_eq!(rules_of(&f), [ARG_BEYOND_ARITY.id], "{f:?}");
        assert!(f[0].message.contains("\"getpid\" takes 0 arguments"));
    }

    // covers: SC-37, SC-16 (allowedSyscalls policy; a missing base is a finding)
    #[test]
    fn policy_and_base_chain() {
        let mut cfg = LintConfig::default()
            .with_allowed_syscalls(["execve", "exit_group", "read"].map(String::from).to_vec());
        let p = profile(Action::Errno, vec![base_rules()]);
        let f = lint(&p, &cfg);
        assert_eq!(rules_of(&f), [DISALLOWED_SYSCALL.id]);
        assert_eq!(f[0].path, "spec.syscalls[0].names[3]");
        cfg.allowed_syscalls.push("write".into());
        assert!(lint(&p, &cfg).is_empty());

        let mut d = profile(Action::Errno, vec![Syscall::new(["read"], Action::Allow)]);
        d.spec.base_profile_name = Some("nope".into());
        let map: HashMap<String, SeccompProfile> = HashMap::new();
        let f = lint_resolving(&d, &LintConfig::default(), &map);
        assert_eq!(rules_of(&f), [BASE_PROFILE.id]);
        let mut map = HashMap::new();
        map.insert(
            "nope".to_string(),
            profile(Action::Errno, vec![base_rules()]),
        );
        assert!(lint_resolving(&d, &LintConfig::default(), &map).is_empty());
        // Without resolution, rules that need the full set are skipped.
        assert!(lint(&d, &LintConfig::default()).is_empty());
        // covers: SC-22 (a cycle is a finding naming the chain)
        let mut cyc = HashMap::new();
        let mut x = profile(Action::Errno, vec![base_rules()]);
        x.metadata.name = "x".into();
        x.spec.base_profile_name = Some("y".into());
        let mut y = x.clone();
        y.metadata.name = "y".into();
        y.spec.base_profile_name = Some("x".into());
        cyc.insert("y".to_string(), y);
        let f = lint_resolving(&x, &LintConfig::default(), &cyc);
        assert_eq!(rules_of(&f), [BASE_PROFILE.id]);
        assert_eq!(f[0].message, "base profile cycle: x → y → x");
    }

    #[test]
    #[cfg(feature = "libseccomp")]
    fn instruction_limit_counts_the_compiled_filter() {
        let names: Vec<String> = (0..300)
            .filter_map(|nr| crate::syscalls::name(Arch::X86_64, nr))
            .collect();
        let mut rules = vec![base_rules()];
        for n in names {
            let mut r = Syscall::new([n], Action::Allow);
            r.args = (0..3)
                .map(|i| Arg {
                    index: i,
                    value: (1 << 40) + u64::from(i) * 7 + rules.len() as u64,
                    value_two: 0,
                    op: ArgOp::Equal,
                })
                .collect();
            rules.push(r);
        }
        let mut p = profile(Action::Errno, rules);
        p.spec.architectures = vec![Arch::X86_64, Arch::X86];
        let cfg = LintConfig::default();
        let f: Vec<_> = lint(&p, &cfg)
            .into_iter()
            .filter(|f| f.rule == TOO_MANY_INSTRUCTIONS.id)
            .collect();
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("SCMP_ARCH_X86_64: "),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn annotation_and_levels_apply() {
        let mut p = profile(Action::Log, vec![]);
        p.metadata.annotations.insert(
            spo_core::lint::SUPPRESS_ANNOTATION.into(),
            COMPLAIN_MODE.id.into(),
        );
        assert!(lint(&p, &LintConfig::default()).is_empty());
    }
}
