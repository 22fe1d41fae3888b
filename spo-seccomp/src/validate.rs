//! Validation that reports every problem of a SeccompProfile with its field path.
//!
//! Decoding already enforces SC-01..SC-03's enums and types; this adds the rules that need
//! context: syscall names per architecture, counts, ranges, the listener path (SC-05),
//! combinations the kernel or runtimes refuse, and the object name.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use spo_core::{name, Violations};

use crate::model::{Action, ArgOp, Flag, SeccompProfile, SeccompSpec};
use crate::syscalls;

/// Highest errno a seccomp filter can return (`SECCOMP_RET_DATA` is 16 bits; Linux errnos stop at 4095).
pub const MAX_ERRNO: u32 = 4095;
/// Most argument conditions per rule (SC-03).
pub const MAX_ARGS: usize = 6;
/// The directory a `listenerPath` must live in (SC-05).
pub const LISTENER_DIR: &str = "/var/run/security-profiles-operator/";

/// The kernel's limit on the length of one classic BPF program (`BPF_MAXINSNS`).
pub const BPF_MAXINSNS: usize = 4096;

/// A lower bound of the BPF instructions any compiler needs for `spec`, without compiling:
/// per architecture, one jump per syscall with a rule and one per argument comparison of each
/// distinct (syscall, rule) pair. Linear in the profile. When it exceeds [`BPF_MAXINSNS`] the
/// kernel will refuse the filter whatever the compiler does.
pub fn bpf_lower_bound(spec: &SeccompSpec) -> usize {
    let arches = spec.effective_architectures();
    let mut rules: HashSet<(&str, Action, Option<u32>, &[crate::model::Arg])> = HashSet::new();
    let mut syscalls_with_rules: HashSet<&str> = HashSet::new();
    let mut per_name_args: HashMap<&str, usize> = HashMap::new();
    for rule in &spec.syscalls {
        if rule.action == spec.default_action && rule.errno() == spec.default_errno_ret {
            continue;
        }
        for n in &rule.names {
            if rules.insert((n.as_str(), rule.action, rule.errno(), rule.args.as_slice())) {
                syscalls_with_rules.insert(n.as_str());
                *per_name_args.entry(n.as_str()).or_default() += rule.args.len();
            }
        }
    }
    arches
        .iter()
        .map(|a| {
            syscalls_with_rules
                .iter()
                .filter(|n| syscalls::exists(*a, n))
                .map(|n| 1 + per_name_args.get(n).copied().unwrap_or(0))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// Validates a whole profile: metadata and spec. Empty result = valid.
pub fn validate(profile: &SeccompProfile) -> Violations {
    let mut v = profile.metadata.validate();
    v.extend_prefixed("spec", validate_spec(&profile.spec));
    v
}

/// Validates a spec; paths are relative to the spec (`syscalls[0].names[1]`), so the same
/// function serves manifests (prefixed with `spec.`) and raw OCI JSON.
pub fn validate_spec(spec: &SeccompSpec) -> Violations {
    let mut v = Violations::new();
    check_base_profile(spec, &mut v);
    check_default_action(spec, &mut v);
    check_lists(spec, &mut v);
    check_listener(spec, &mut v);
    check_size(spec, &mut v);
    check_rules(spec, &mut v);
    v
}

/// `baseProfileName`: a SeccompProfile name or an `oci://` reference (SC-16, SC-17).
fn check_base_profile(spec: &SeccompSpec, v: &mut Violations) {
    if let Some(base) = spec.base_profile_name.as_deref() {
        if let Some(reference) = base.strip_prefix("oci://") {
            if reference.is_empty() || reference.chars().any(char::is_whitespace) {
                v.push(
                    "baseProfileName",
                    format!("{base:?} is not a valid oci:// reference"),
                );
            }
        } else if !base.is_empty() {
            for x in name::check_dns1123_subdomain("baseProfileName", base) {
                v.push(
                    x.path,
                    format!("{} (a SeccompProfile name or oci://<ref>)", x.reason),
                );
            }
        }
    }
}

/// `defaultAction` and `defaultErrnoRet`.
fn check_default_action(spec: &SeccompSpec, v: &mut Violations) {
    if spec.default_action == Action::Notify {
        v.push(
            "defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default action (the kernel and libseccomp refuse it)",
        );
    }
    if let Some(e) = spec.default_errno_ret {
        if spec.default_action != Action::Errno {
            v.push(
                "defaultErrnoRet",
                format!(
                    "only applies to SCMP_ACT_ERRNO, not {}",
                    spec.default_action
                ),
            );
        }
        if e > MAX_ERRNO {
            v.push(
                "defaultErrnoRet",
                format!("{e} is above the largest errno {MAX_ERRNO}"),
            );
        }
    }
}

/// `architectures` and `flags` list each value once.
fn check_lists(spec: &SeccompSpec, v: &mut Violations) {
    let mut seen_arches = HashSet::new();
    for (i, a) in spec.architectures.iter().enumerate() {
        if !seen_arches.insert(*a) {
            v.push(
                format!("architectures[{i}]"),
                format!("{a} is listed twice"),
            );
        }
    }
    let mut seen_flags = HashSet::new();
    for (i, f) in spec.flags.iter().enumerate() {
        if !seen_flags.insert(*f) {
            v.push(format!("flags[{i}]"), format!("{f:?} is listed twice"));
        }
    }
}

/// The seccomp agent fields (SC-05) and what needs them.
fn check_listener(spec: &SeccompSpec, v: &mut Violations) {
    if spec.flags.contains(&Flag::WaitKillableRecv) && spec.listener_path.is_none() {
        v.push(
            "flags",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a seccomp agent (listenerPath)",
        );
    }
    match spec.listener_path.as_deref() {
        Some(p) => {
            let file = p.strip_prefix(LISTENER_DIR).unwrap_or("");
            if file.is_empty()
                || !file
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            {
                v.push(
                    "listenerPath",
                    format!("{p:?} must match ^/var/run/security-profiles-operator/[a-zA-Z0-9_\\-\\.]+$"),
                );
            }
        }
        None => {
            if spec.listener_metadata.is_some() {
                v.push("listenerMetadata", "is set but listenerPath is not");
            }
        }
    }
    let uses_notify = spec.syscalls.iter().any(|s| s.action == Action::Notify);
    if uses_notify && spec.listener_path.is_none() {
        v.push("listenerPath", "required when a rule uses SCMP_ACT_NOTIFY");
    }
}

/// A filter the kernel cannot load ([`BPF_MAXINSNS`]).
fn check_size(spec: &SeccompSpec, v: &mut Violations) {
    let at_least = bpf_lower_bound(spec);
    if at_least > BPF_MAXINSNS {
        v.push(
            "syscalls",
            format!(
                "the filter needs at least {at_least} BPF instructions; the kernel loads at most {BPF_MAXINSNS}"
            ),
        );
    }
}

/// Every rule: its names, errno and argument conditions.
fn check_rules(spec: &SeccompSpec, v: &mut Violations) {
    let arches = spec.effective_architectures();
    let arch_list = arches
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    // Names repeat across rules: each is looked up once.
    let mut known_names: HashMap<&str, bool> = HashMap::new();
    for (i, rule) in spec.syscalls.iter().enumerate() {
        let at = format!("syscalls[{i}]");
        check_names(rule, &at, &arches, &arch_list, &mut known_names, v);
        check_rule_fields(spec, rule, i, &at, v);
    }
}

/// The names of one rule: present, not repeated, known on some architecture (memoised in
/// `known`, since names repeat across rules).
fn check_names<'a>(
    rule: &'a crate::model::Syscall,
    at: &str,
    arches: &[spo_core::Arch],
    arch_list: &str,
    known_names: &mut HashMap<&'a str, bool>,
    v: &mut Violations,
) {
    if rule.names.is_empty() {
        v.push(format!("{at}.names"), "must list at least one syscall");
    }
    // Name → (occurrences, position of its first repetition). Sized by the distinct names,
    // not by the list: a million copies of one name cost one entry, and the repetitions are
    // reported once per name with their count.
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut repeated: Vec<&str> = Vec::new();
    for (j, n) in rule.names.iter().enumerate() {
        if n.is_empty() {
            v.push(format!("{at}.names[{j}]"), "empty syscall name");
            continue;
        }
        match seen.entry(n.as_str()) {
            Entry::Occupied(mut e) => {
                // Known or not, it was judged at its first occurrence.
                let (count, first_repeat) = e.get_mut();
                if *count == 1 {
                    *first_repeat = j;
                    repeated.push(n.as_str());
                }
                *count += 1;
                continue;
            }
            Entry::Vacant(e) => {
                e.insert((1, 0));
            }
        }
        let known = *known_names.entry(n.as_str()).or_insert_with(|| {
            arches.iter().any(|a| syscalls::exists(*a, n)) || syscalls::exists_anywhere(n)
        });
        if !known {
            v.push(
                format!("{at}.names[{j}]"),
                format!("unknown syscall {n:?} on {arch_list}"),
            );
        }
    }
    for n in repeated {
        let (count, first_repeat) = seen[n];
        let reason = if count == 2 {
            format!("{n:?} is listed twice in this rule")
        } else {
            format!("{n:?} is listed {count} times in this rule")
        };
        v.push(format!("{at}.names[{first_repeat}]"), reason);
    }
}

/// `errnoRet` and `args` of one rule.
fn check_rule_fields(
    spec: &SeccompSpec,
    rule: &crate::model::Syscall,
    i: usize,
    at: &str,
    v: &mut Violations,
) {
    if let Some(e) = rule.errno() {
        if !matches!(rule.action, Action::Errno | Action::Trace) {
            v.push(
                format!("{at}.errnoRet"),
                format!(
                    "only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {}",
                    rule.action
                ),
            );
        }
        if e > MAX_ERRNO {
            v.push(
                format!("{at}.errnoRet"),
                format!("{e} is above the largest errno {MAX_ERRNO}"),
            );
        }
    }
    if rule.args.len() > MAX_ARGS {
        v.push(
            format!("{at}.args"),
            format!(
                "{} conditions; at most {MAX_ARGS} are allowed",
                rule.args.len()
            ),
        );
    }
    for (k, arg) in rule.args.iter().enumerate() {
        if arg.index > 5 {
            v.push(
                format!("{at}.args[{k}].index"),
                format!("{} is not an argument position (0..5)", arg.index),
            );
        }
        if arg.op != ArgOp::MaskedEqual && arg.value_two != 0 {
            v.push(
                format!("{at}.args[{k}].valueTwo"),
                "only used by SCMP_CMP_MASKED_EQ",
            );
        }
    }
    if rule.action == spec.default_action && rule.args.is_empty() {
        // Harmless but a sign of a mistake: runtimes skip such rules.
        tracing::debug!(rule = i, "rule repeats the default action");
    }
}

/// Findings that do not make a profile invalid: syscall names that exist, but not on every
/// architecture the profile covers (runtimes skip them there). Each names the architectures.
pub fn warnings(spec: &SeccompSpec) -> Violations {
    let mut v = Violations::new();
    let arches = spec.effective_architectures();
    // Per distinct name: the architectures it is missing on (`None` = nothing to say).
    let mut memo: HashMap<&str, Option<String>> = HashMap::new();
    for (i, rule) in spec.syscalls.iter().enumerate() {
        for (j, n) in rule.names.iter().enumerate() {
            let missing = memo.entry(n.as_str()).or_insert_with(|| {
                let missing: Vec<&str> = arches
                    .iter()
                    .filter(|a| !syscalls::exists(**a, n))
                    .map(|a| a.as_str())
                    .collect();
                (!missing.is_empty() && syscalls::exists_anywhere(n)).then(|| missing.join(", "))
            });
            if let Some(missing) = missing {
                v.push(
                    format!("syscalls[{i}].names[{j}]"),
                    format!(
                        "syscall {n:?} does not exist on {missing}; the rule has no effect there"
                    ),
                );
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Arg, Syscall};
    use spo_core::{Arch, ObjectMeta};

    fn paths(v: &Violations) -> Vec<&str> {
        v.as_slice().iter().map(|x| x.path.as_str()).collect()
    }

    // covers: SC-03 (issue 9: a million copies of one name gave a million violations and
    // 365 MB of report; each repeated name is now reported once, with its count)
    #[test]
    fn repeated_names_are_reported_once_with_their_count() {
        let mut names = vec!["read".to_string(); 1000];
        names.extend(["write", "write", "opne", "opne", "opne"].map(String::from));
        let mut spec = SeccompSpec::new(Action::Errno);
        spec.architectures = vec![Arch::X86_64];
        spec.syscalls = vec![Syscall::new(names, Action::Allow)];
        let v = validate_spec(&spec);
        let got: Vec<(&str, &str)> = v
            .as_slice()
            .iter()
            .map(|x| (x.path.as_str(), x.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "syscalls[0].names[1002]",
                    "unknown syscall \"opne\" on SCMP_ARCH_X86_64"
                ),
                (
                    "syscalls[0].names[1]",
                    "\"read\" is listed 1000 times in this rule"
                ),
                (
                    "syscalls[0].names[1001]",
                    "\"write\" is listed twice in this rule"
                ),
                (
                    "syscalls[0].names[1003]",
                    "\"opne\" is listed 3 times in this rule"
                ),
            ]
        );
    }

    #[test]
    fn reports_every_violation_with_paths() {
        let mut spec = SeccompSpec::new(Action::Notify);
        spec.architectures = vec![Arch::X86_64, Arch::Aarch64, Arch::X86_64];
        spec.listener_path = Some("/tmp/agent.sock".into());
        let mut r = Syscall::new(["read", "opne", "open"], Action::Allow);
        r.errno_ret = Some(1);
        r.args = vec![Arg {
            index: 7,
            value: 0,
            value_two: 1,
            op: ArgOp::Equal,
        }];
        spec.syscalls = vec![r, Syscall::new(Vec::<String>::new(), Action::Errno)];
        let p = SeccompProfile::new(ObjectMeta::named("Bad_Name"), spec);
        let v = validate(&p);
        let got = paths(&v);
        for want in [
            "metadata.name",
            "spec.defaultAction",
            "spec.architectures[2]",
            "spec.listenerPath",
            "spec.syscalls[0].names[1]",
            "spec.syscalls[0].errnoRet",
            "spec.syscalls[0].args[0].index",
            "spec.syscalls[0].args[0].valueTwo",
            "spec.syscalls[1].names",
        ] {
            assert!(got.contains(&want), "missing {want} in {v}");
        }
        assert!(
            !got.contains(&"spec.syscalls[0].names[2]"),
            "open exists on x86_64: {v}"
        );
        let w = warnings(&p.spec);
        assert_eq!(w.as_slice().len(), 1, "{w}");
        assert_eq!(w.as_slice()[0].path, "syscalls[0].names[2]");
        assert_eq!(
            w.as_slice()[0].reason,
            "syscall \"open\" does not exist on SCMP_ARCH_AARCH64; the rule has no effect there"
        );
    }

    // covers: SC-05
    #[test]
    fn sc_05_listener_path_pattern() {
        let mut spec = SeccompSpec::new(Action::Errno);
        spec.listener_path = Some("/var/run/security-profiles-operator/agent-1.sock".into());
        assert!(validate_spec(&spec).is_empty());
        for bad in [
            "/var/run/security-profiles-operator/",
            "/var/run/security-profiles-operator/a/b",
            "/run/x.sock",
        ] {
            spec.listener_path = Some(bad.into());
            assert_eq!(paths(&validate_spec(&spec)), ["listenerPath"], "{bad}");
        }
    }

    // Issue 9: 5,000 argument rules passed validation and failed at load with EINVAL.
    #[test]
    fn filters_the_kernel_cannot_load_are_invalid() {
        let mut spec = SeccompSpec::new(Action::Errno);
        spec.syscalls = (0..5000)
            .map(|i| {
                let mut r = Syscall::new(["personality"], Action::Allow);
                r.args = vec![Arg {
                    index: 0,
                    value: i,
                    value_two: 0,
                    op: ArgOp::Equal,
                }];
                r
            })
            .collect();
        let v = validate_spec(&spec);
        assert_eq!(paths(&v), ["syscalls"], "{v}");
        assert!(v.as_slice()[0]
            .reason
            .contains("at least 5001 BPF instructions"));
        spec.syscalls.truncate(1000);
        assert!(validate_spec(&spec).is_empty());
    }

    // covers: SC-01
    #[test]
    fn sc_01_default_action_only_is_valid() {
        let p = SeccompProfile::new(ObjectMeta::named("ok"), SeccompSpec::new(Action::Log));
        assert!(validate(&p).is_empty());
    }
}
