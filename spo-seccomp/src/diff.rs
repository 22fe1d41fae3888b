//! Semantic diff of two SeccompProfiles (issue 11).
//!
//! Both specs are normalised per architecture the way the filter sees them: names that do not
//! exist on the architecture are dropped there, rules repeating the default action are
//! dropped, a syscall's rules become a set of `(outcome, conditions)` entries (conditions as
//! a sorted set, so order and duplicates do not matter; errno EPERM and "unset" are the
//! same). Differences are reported per syscall, with the architectures they apply to.
//!
//! ```
//! use spo_seccomp::{diff::diff, Action, SeccompSpec, Syscall};
//!
//! let mut a = SeccompSpec::new(Action::Errno);
//! a.syscalls = vec![Syscall::new(["read", "write"], Action::Allow)];
//! let mut b = SeccompSpec::new(Action::Errno);
//! b.syscalls = vec![Syscall::new(["write"], Action::Allow), Syscall::new(["read"], Action::Allow)];
//! assert!(diff(&a, &b).is_empty());
//! b.syscalls.pop();
//! assert_eq!(diff(&a, &b).changes[0].syscall, "read");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use spo_core::Arch;

use crate::model::{Arg, SeccompSpec};
use crate::subset::Outcome;

/// One normalised rule entry: an outcome and the AND of its conditions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Entry {
    /// What the filter does.
    pub outcome: Outcome,
    /// The conditions (empty: unconditional).
    pub args: Vec<Arg>,
}

/// How one syscall changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Only B has rules for it.
    Added,
    /// Only A has rules for it.
    Removed,
    /// Both have rules, and they differ.
    Changed,
}

/// A difference for one syscall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The syscall.
    pub syscall: String,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// A's entries (empty: the default action applies).
    pub before: Vec<Entry>,
    /// B's entries.
    pub after: Vec<Entry>,
    /// The architectures where this is the difference.
    pub architectures: Vec<Arch>,
}

/// The differences between A and B.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// `(A, B)` default actions, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_action: Option<(Outcome, Outcome)>,
    /// Architectures only B covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_architectures: Vec<Arch>,
    /// Architectures only A covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_architectures: Vec<Arch>,
    /// `(A, B)` filter flags, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<(Vec<String>, Vec<String>)>,
    /// Per-syscall differences, sorted by syscall.
    pub changes: Vec<Change>,
}

impl Diff {
    /// True when the profiles are equal after normalisation.
    pub fn is_empty(&self) -> bool {
        self.default_action.is_none()
            && self.added_architectures.is_empty()
            && self.removed_architectures.is_empty()
            && self.flags.is_none()
            && self.changes.is_empty()
    }
}

fn normalise(spec: &SeccompSpec, arch: Arch) -> BTreeMap<String, BTreeSet<Entry>> {
    let mut out: BTreeMap<String, BTreeSet<Entry>> = BTreeMap::new();
    let default = crate::subset::outcome_of(spec.default_action, spec.default_errno_ret);
    for rule in &spec.syscalls {
        let outcome = crate::subset::outcome_of(rule.action, rule.errno());
        if outcome == default && rule.args.is_empty() {
            continue; // the same as no rule
        }
        let mut args = rule.args.clone();
        args.sort();
        args.dedup();
        let entry = Entry { outcome, args };
        for name in &rule.names {
            if crate::syscalls::exists(arch, name) {
                out.entry(name.clone()).or_default().insert(entry.clone());
            }
        }
    }
    out
}

/// The semantic diff from `a` to `b`.
pub fn diff(a: &SeccompSpec, b: &SeccompSpec) -> Diff {
    let mut d = Diff::default();
    let da = crate::subset::outcome_of(a.default_action, a.default_errno_ret);
    let db = crate::subset::outcome_of(b.default_action, b.default_errno_ret);
    if da != db {
        d.default_action = Some((da, db));
    }
    let aa = a.effective_architectures();
    let ba = b.effective_architectures();
    d.added_architectures = ba.iter().copied().filter(|x| !aa.contains(x)).collect();
    d.removed_architectures = aa.iter().copied().filter(|x| !ba.contains(x)).collect();
    let flags = |s: &SeccompSpec| {
        let mut f: Vec<String> = s.flags.iter().map(|f| format!("{f:?}")).collect();
        f.sort();
        f.dedup();
        f
    };
    if flags(a) != flags(b) {
        d.flags = Some((flags(a), flags(b)));
    }
    // (syscall, before, after) → architectures
    let mut grouped: BTreeMap<(String, Vec<Entry>, Vec<Entry>), Vec<Arch>> = BTreeMap::new();
    for arch in aa.iter().filter(|x| ba.contains(x)) {
        let na = normalise(a, *arch);
        let nb = normalise(b, *arch);
        let names: BTreeSet<&String> = na.keys().chain(nb.keys()).collect();
        for name in names {
            let before: Vec<Entry> = na.get(name).into_iter().flatten().cloned().collect();
            let after: Vec<Entry> = nb.get(name).into_iter().flatten().cloned().collect();
            if before != after {
                grouped
                    .entry((name.clone(), before, after))
                    .or_default()
                    .push(*arch);
            }
        }
    }
    for ((syscall, before, after), architectures) in grouped {
        let kind = match (before.is_empty(), after.is_empty()) {
            (true, _) => ChangeKind::Added,
            (_, true) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        d.changes.push(Change {
            syscall,
            kind,
            before,
            after,
            architectures,
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, ArgOp, Syscall};

    fn arg(index: u32, value: u64) -> Arg {
        Arg {
            index,
            value,
            value_two: 0,
            op: ArgOp::Equal,
        }
    }

    #[test]
    fn normalisation_ignores_order_duplicates_and_default_rules() {
        let mut a = SeccompSpec::new(Action::Errno);
        let mut r = Syscall::new(["personality"], Action::Allow);
        r.args = vec![arg(0, 8), arg(1, 0)];
        a.syscalls = vec![
            Syscall::new(["read", "write"], Action::Allow),
            r.clone(),
            Syscall::new(["mkdir"], Action::Errno),
        ];
        let mut b = SeccompSpec::new(Action::Errno);
        r.args.reverse();
        let mut eperm = Syscall::new(["close"], Action::Errno);
        eperm.errno_ret = Some(1);
        b.syscalls = vec![
            r,
            Syscall::new(["write", "read", "read"], Action::Allow),
            eperm,
        ];
        assert!(diff(&a, &b).is_empty(), "{:?}", diff(&a, &b));
    }

    #[test]
    fn added_removed_changed_per_architecture() {
        let mut a = SeccompSpec::new(Action::Errno);
        a.architectures = vec![Arch::X86_64, Arch::Aarch64];
        a.syscalls = vec![Syscall::new(["read", "open", "bpf"], Action::Allow)];
        let mut b = a.clone();
        let mut c3 = Syscall::new(["bpf"], Action::Errno);
        c3.errno_ret = Some(38);
        b.syscalls = vec![Syscall::new(["read", "mkdir"], Action::Allow), c3];
        b.default_action = Action::KillProcess;
        let d = diff(&a, &b);
        assert!(d.default_action.is_some());
        let kinds: Vec<(&str, ChangeKind, usize)> = d
            .changes
            .iter()
            .map(|c| (c.syscall.as_str(), c.kind, c.architectures.len()))
            .collect();
        // mkdir exists on x86_64 only; open too; read is unchanged.
        assert_eq!(
            kinds,
            [
                ("bpf", ChangeKind::Changed, 2),
                ("mkdir", ChangeKind::Added, 1),
                ("open", ChangeKind::Removed, 1),
            ]
        );
    }
}
