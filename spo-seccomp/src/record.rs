//! Profiles from recorded syscalls (CLI-02..CLI-04, RC-19).

use std::collections::BTreeSet;

use spo_core::{Arch, ObjectMeta};

use crate::model::{Action, SeccompProfile, SeccompSpec, Syscall};

/// The result of building a recorded profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedProfile {
    /// The profile: `defaultAction: SCMP_ACT_ERRNO`, the given architecture, one ALLOW rule
    /// with the sorted, unique names.
    pub profile: SeccompProfile,
    /// Base syscalls that were added because they were not observed (for the "Adding base
    /// syscalls" message).
    pub added_base: Vec<String>,
}

/// Builds the profile of a recording: the observed syscall names plus `base` (CLI-03/CLI-04).
/// Names are sorted and de-duplicated; an empty observation still yields a valid profile.
pub fn profile_from_syscalls<I, S, B>(
    name: &str,
    arch: Arch,
    observed: I,
    base: &[B],
) -> RecordedProfile
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
    B: AsRef<str>,
{
    let mut names: BTreeSet<String> = observed.into_iter().map(Into::into).collect();
    let mut added_base = Vec::new();
    for b in base {
        if names.insert(b.as_ref().to_string()) {
            added_base.push(b.as_ref().to_string());
        }
    }
    added_base.sort();
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.architectures = vec![arch.resolved()];
    if !names.is_empty() {
        spec.syscalls = vec![Syscall::new(names, Action::Allow)];
    }
    RecordedProfile {
        profile: SeccompProfile::new(ObjectMeta::named(name), spec),
        added_base,
    }
}

/// A profile name derived from a command path: its basename, lower-cased, with characters a
/// Kubernetes name cannot hold replaced by `-` (upstream uses the bare basename, which may be
/// an invalid object name such as `python3.11` → valid, but `My_App` → `my-app`).
pub fn name_from_command(command: &str) -> String {
    let base = command.rsplit('/').next().unwrap_or(command);
    let mut out: String = base
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '.' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    while out.starts_with(['-', '.']) {
        out.remove(0);
    }
    while out.ends_with(['-', '.']) {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("profile");
    }
    out.truncate(253);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: CLI-03, CLI-04
    #[test]
    fn cli_03_recorded_profile_shape() {
        let r = profile_from_syscalls(
            "ls",
            Arch::X86_64,
            ["write", "read", "read"],
            &["read", "close"],
        );
        let spec = &r.profile.spec;
        assert_eq!(spec.default_action, Action::Errno);
        assert_eq!(spec.architectures, vec![Arch::X86_64]);
        assert_eq!(spec.syscalls.len(), 1);
        assert_eq!(spec.syscalls[0].names, ["close", "read", "write"]);
        assert_eq!(spec.syscalls[0].action, Action::Allow);
        assert_eq!(r.added_base, ["close"]);
        assert_eq!(r.profile.metadata.name, "ls");
    }

    #[test]
    fn names_from_commands_are_valid_object_names() {
        assert_eq!(name_from_command("/usr/bin/python3.11"), "python3.11");
        assert_eq!(name_from_command("My_App"), "my-app");
        assert_eq!(name_from_command("/"), "profile");
        assert!(spo_core::name::is_dns1123_subdomain(&name_from_command(
            "_x_"
        )));
    }
}
