//! The SPOD `allowedSyscalls` / `allowedSeccompActions` compliance check (SC-37..SC-39), as a
//! pure function on a resolved spec.

use spo_core::Violations;

use crate::model::{Action, SeccompSpec};

/// The actions that count as "allowing" when the SPOD sets none (SC-37).
pub const DEFAULT_ALLOWING_ACTIONS: [Action; 4] =
    [Action::Allow, Action::Log, Action::Trace, Action::Notify];

/// Checks a resolved spec against an allow-list. `allowed_actions` empty means
/// [`DEFAULT_ALLOWING_ACTIONS`]. Returns every violation; empty means compliant.
pub fn check_allowed(
    spec: &SeccompSpec,
    allowed_syscalls: &[String],
    allowed_actions: &[Action],
) -> Violations {
    let mut v = Violations::new();
    let actions: &[Action] = if allowed_actions.is_empty() {
        &DEFAULT_ALLOWING_ACTIONS
    } else {
        allowed_actions
    };
    // SC-39: an allowing action outside the default four makes every profile non-compliant.
    for (i, a) in allowed_actions.iter().enumerate() {
        if !DEFAULT_ALLOWING_ACTIONS.contains(a) {
            v.push(
                format!("allowedSeccompActions[{i}]"),
                format!("seccomp action not allowed: {a}"),
            );
        }
    }
    // SC-38
    if actions.contains(&spec.default_action) {
        v.push(
            "spec.defaultAction",
            format!(
                "seccomp profile not allowed: default action {} lets every syscall through",
                spec.default_action
            ),
        );
    }
    // SC-37
    for (i, rule) in spec.syscalls.iter().enumerate() {
        if !actions.contains(&rule.action) {
            continue;
        }
        for (j, name) in rule.names.iter().enumerate() {
            if !allowed_syscalls.iter().any(|a| a == name) {
                v.push(
                    format!("spec.syscalls[{i}].names[{j}]"),
                    format!("syscall not allowed: {name}"),
                );
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Syscall;

    fn allowed() -> Vec<String> {
        ["read", "write", "exit_group"].map(String::from).to_vec()
    }

    // covers: SC-37
    #[test]
    fn sc_37_allowing_rules_outside_the_list_are_rejected() {
        let mut s = SeccompSpec::new(Action::Errno);
        s.syscalls = vec![
            Syscall::new(["read", "mkdir"], Action::Allow),
            Syscall::new(["ptrace"], Action::Errno),
        ];
        let v = check_allowed(&s, &allowed(), &[]);
        assert_eq!(v.len(), 1, "{v}");
        assert_eq!(v.as_slice()[0].path, "spec.syscalls[0].names[1]");
        assert_eq!(v.as_slice()[0].reason, "syscall not allowed: mkdir");
        s.syscalls.pop();
        s.syscalls[0].names.pop();
        assert!(check_allowed(&s, &allowed(), &[]).is_empty());
    }

    // covers: SC-38
    #[test]
    fn sc_38_allowing_default_action_is_rejected_errno_without_rules_is_fine() {
        let v = check_allowed(&SeccompSpec::new(Action::Allow), &allowed(), &[]);
        assert!(v.as_slice()[0]
            .reason
            .starts_with("seccomp profile not allowed"));
        assert!(check_allowed(&SeccompSpec::new(Action::Errno), &allowed(), &[]).is_empty());
    }

    // covers: SC-39
    #[test]
    fn sc_39_allowed_actions_replace_the_default_set() {
        let mut s = SeccompSpec::new(Action::Errno);
        s.syscalls = vec![Syscall::new(["mkdir"], Action::Log)];
        // Only ALLOW counts as allowing: the LOG rule is not checked.
        assert!(check_allowed(&s, &allowed(), &[Action::Allow]).is_empty());
        // An action outside the four makes everything non-compliant.
        let v = check_allowed(
            &SeccompSpec::new(Action::Errno),
            &allowed(),
            &[Action::Errno],
        );
        assert_eq!(
            v.as_slice()[0].reason,
            "seccomp action not allowed: SCMP_ACT_ERRNO"
        );
    }
}
