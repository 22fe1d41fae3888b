//! Syscall union and profile merging (SC-24, SC-25, CLI-15, CLI-16).
//!
//! The 1.0 union normalises to one entry per name and keeps, per name, the less restrictive
//! action. Upstream keeps the *left* entry on ties, which makes `merge(a, b)` and
//! `merge(b, a)` differ when two rules share an action but not an `errnoRet`, or pair
//! `KILL` with `KILL_THREAD`. We break such ties by a fixed order instead (action name, then
//! the smaller `errnoRet`), so the union is associative, commutative and idempotent and
//! merging recordings gives the same profile in any order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::model::{Arg, SeccompProfile, Syscall};

/// Which union algorithm: `V1` (1.0+: one entry per name, conflicts resolved, sorted by name,
/// SC-24) or `Legacy` (0.10: concatenate, sort names within entries, sort entries by action,
/// SC-25). The SDK's one "v1 or 0.10" type, [`spo_core::Era`].
pub type UnionMode = spo_core::Era;

/// Orders two rules for the same name by how permissive they are; `Greater` wins.
fn permissive_cmp(a: &Syscall, b: &Syscall) -> Ordering {
    a.action
        .permissiveness()
        .cmp(&b.action.permissiveness())
        .then_with(|| b.action.as_str().cmp(a.action.as_str()))
        // A smaller errno wins ties: `None` (the default EPERM) is smallest.
        .then_with(|| b.errno().cmp(&a.errno()))
}

/// Combines two rules for the same name (SC-24 steps 2 and 3).
fn combine(a: &Syscall, b: &Syscall) -> Syscall {
    let winner = if permissive_cmp(b, a) == Ordering::Greater {
        b
    } else {
        a
    };
    let args = if a.args.is_empty() || b.args.is_empty() {
        Vec::new()
    } else {
        let mut args: Vec<Arg> = a.args.iter().chain(&b.args).copied().collect();
        args.sort();
        args.dedup();
        args
    };
    Syscall {
        names: winner.names.clone(),
        action: winner.action,
        errno_ret: winner.errno(),
        args,
    }
}

fn split(rules: &[Syscall], into: &mut BTreeMap<String, Syscall>) {
    for rule in rules {
        for name in &rule.names {
            let mut one = Syscall {
                names: vec![name.clone()],
                action: rule.action,
                errno_ret: rule.errno(),
                args: rule.args.clone(),
            };
            one.args.sort();
            one.args.dedup();
            let merged = match into.get(name) {
                Some(existing) => combine(existing, &one),
                None => one,
            };
            into.insert(name.clone(), merged);
        }
    }
}

/// Normalises a rule list: one entry per name, duplicates combined, sorted by name.
pub fn normalize(rules: &[Syscall]) -> Vec<Syscall> {
    let mut map = BTreeMap::new();
    split(rules, &mut map);
    map.into_values().collect()
}

/// The union of `left` (the base) and `right` (the derived profile).
pub fn union(left: &[Syscall], right: &[Syscall], mode: UnionMode) -> Vec<Syscall> {
    if mode == UnionMode::Legacy {
        let mut out: Vec<Syscall> = left.iter().chain(right).cloned().collect();
        for rule in &mut out {
            rule.names.sort();
        }
        out.sort_by(|a, b| a.action.as_str().cmp(b.action.as_str()));
        return out;
    }
    // V1 and any later era.
    let mut map = BTreeMap::new();
    split(left, &mut map);
    split(right, &mut map);
    map.into_values().collect()
}

/// Merges profiles (CLI-15): metadata, default action, architectures, flags and listener
/// fields come from the first; syscalls are the 1.0 union of all, normalised. `None` when
/// `profiles` is empty.
pub fn merge_profiles(profiles: &[SeccompProfile]) -> Option<SeccompProfile> {
    let (first, rest) = profiles.split_first()?;
    let mut out = first.clone();
    let mut map = BTreeMap::new();
    split(&first.spec.syscalls, &mut map);
    for p in rest {
        split(&p.spec.syscalls, &mut map);
    }
    out.spec.syscalls = map.into_values().collect();
    Some(out)
}

/// True when the first profile already allows everything the merge would add (CLI-16):
/// its normalised syscalls equal the merged ones.
pub fn covers(first: &SeccompProfile, others: &[SeccompProfile]) -> bool {
    let mut all = Vec::with_capacity(others.len() + 1);
    all.push(first.clone());
    all.extend_from_slice(others);
    match merge_profiles(&all) {
        Some(merged) => normalize(&first.spec.syscalls) == merged.spec.syscalls,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action::*;

    fn rule(names: &[&str], action: crate::Action, errno: Option<u32>) -> Syscall {
        let mut r = Syscall::new(names.iter().copied(), action);
        r.errno_ret = errno;
        r
    }

    // covers: SC-24
    #[test]
    fn sc_24_spec_example() {
        let base = [
            rule(&["read", "write"], Allow, None),
            rule(&["mkdir"], Errno, Some(1)),
        ];
        let prof = [
            rule(&["write", "exit_group"], Allow, None),
            rule(&["mkdir"], Allow, None),
        ];
        let got = union(&base, &prof, UnionMode::V1);
        let want = [
            rule(&["exit_group"], Allow, None),
            rule(&["mkdir"], Allow, None),
            rule(&["read"], Allow, None),
            rule(&["write"], Allow, None),
        ];
        assert_eq!(got, want);
    }

    // covers: SC-24
    #[test]
    fn sc_24_ranking_and_errno_follow_the_winner() {
        let got = union(
            &[rule(&["x"], KillProcess, None)],
            &[rule(&["x"], Trap, None)],
            UnionMode::V1,
        );
        assert_eq!(got[0].action, Trap);
        let got = union(
            &[rule(&["x"], Errno, Some(5))],
            &[rule(&["x"], Notify, None)],
            UnionMode::V1,
        );
        assert_eq!((got[0].action, got[0].errno_ret), (Notify, None));
        let got = union(
            &[rule(&["x"], Log, None)],
            &[rule(&["x"], Trace, Some(3))],
            UnionMode::V1,
        );
        assert_eq!(got[0].action, Log);
    }

    // covers: SC-24
    #[test]
    fn sc_24_args_union_or_unconditional() {
        let mut a = rule(&["personality"], Allow, None);
        a.args = vec![Arg {
            index: 0,
            value: 8,
            value_two: 0,
            op: crate::ArgOp::Equal,
        }];
        let mut b = a.clone();
        b.args[0].value = 0x20000;
        let got = union(&[a.clone()], &[b], UnionMode::V1);
        assert_eq!(got[0].args.len(), 2);
        let got = union(&[a], &[rule(&["personality"], Allow, None)], UnionMode::V1);
        assert!(got[0].args.is_empty());
    }

    // covers: SC-25
    #[test]
    fn sc_25_legacy_union_keeps_duplicates_sorted_by_action() {
        let base = [
            rule(&["write", "read"], Allow, None),
            rule(&["mkdir"], Errno, Some(1)),
        ];
        let prof = [
            rule(&["write", "exit_group"], Allow, None),
            rule(&["mkdir"], Allow, None),
        ];
        let got = union(&base, &prof, UnionMode::Legacy);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].names, ["read", "write"]);
        assert_eq!(got[1].names, ["exit_group", "write"]);
        assert_eq!(got[2].names, ["mkdir"]);
        assert_eq!(got[3], rule(&["mkdir"], Errno, Some(1)));
    }
}
