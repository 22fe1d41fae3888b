//! Property tests: the 1.0 union is associative, commutative and idempotent; normalisation
//! is idempotent; serialisation round-trips.

use proptest::prelude::*;
use spo_core::{Arch, ObjectMeta};
use spo_seccomp::merge::{covers, merge_profiles, normalize, union, UnionMode};
use spo_seccomp::{Action, Arg, ArgOp, SeccompProfile, SeccompSpec, Syscall};

const NAMES: [&str; 8] = [
    "read",
    "write",
    "mkdir",
    "openat",
    "close",
    "ioctl",
    "personality",
    "futex",
];

fn action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

fn arg() -> impl Strategy<Value = Arg> {
    (
        0u32..3,
        0u64..4,
        proptest::sample::select(vec![ArgOp::Equal, ArgOp::NotEqual, ArgOp::MaskedEqual]),
    )
        .prop_map(|(index, value, op)| Arg {
            index,
            value,
            value_two: 0,
            op,
        })
}

fn rule() -> impl Strategy<Value = Syscall> {
    (
        proptest::sample::subsequence(NAMES.to_vec(), 1..4),
        action(),
        proptest::option::of(0u32..3),
        proptest::collection::vec(arg(), 0..3),
    )
        .prop_map(|(names, action, errno_ret, args)| Syscall {
            names: names.into_iter().map(String::from).collect(),
            action,
            errno_ret,
            args,
        })
}

fn rules() -> impl Strategy<Value = Vec<Syscall>> {
    proptest::collection::vec(rule(), 0..6)
}

fn profile(rules: Vec<Syscall>) -> SeccompProfile {
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.architectures = vec![Arch::X86_64];
    spec.syscalls = rules;
    SeccompProfile::new(ObjectMeta::named("p"), spec)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // covers: SC-24
    #[test]
    fn sc_24_union_is_commutative(a in rules(), b in rules()) {
        prop_assert_eq!(union(&a, &b, UnionMode::V1), union(&b, &a, UnionMode::V1));
    }

    // covers: SC-24
    #[test]
    fn sc_24_union_is_associative(a in rules(), b in rules(), c in rules()) {
        let left = union(&union(&a, &b, UnionMode::V1), &c, UnionMode::V1);
        let right = union(&a, &union(&b, &c, UnionMode::V1), UnionMode::V1);
        prop_assert_eq!(left, right);
    }

    // covers: SC-24
    #[test]
    fn sc_24_union_is_idempotent_and_normal(a in rules()) {
        let n = normalize(&a);
        prop_assert_eq!(union(&a, &a, UnionMode::V1), n.clone());
        prop_assert_eq!(normalize(&n), n.clone());
        // One name per entry, sorted.
        prop_assert!(n.iter().all(|r| r.names.len() == 1));
        prop_assert!(n.windows(2).all(|w| w[0].names[0] < w[1].names[0]));
    }

    // covers: CLI-15, CLI-16
    #[test]
    fn cli_16_merged_profile_covers_every_input(a in rules(), b in rules(), c in rules()) {
        let ps = vec![profile(a), profile(b), profile(c)];
        let merged = merge_profiles(&ps).unwrap();
        prop_assert!(covers(&merged, &ps));
        for p in &ps {
            // Every name of every input is in the merge with an action at least as permissive.
            for r in &p.spec.syscalls {
                for n in &r.names {
                    let m = merged.spec.syscalls.iter().find(|m| &m.names[0] == n).unwrap();
                    prop_assert!(m.action.permissiveness() >= r.action.permissiveness());
                }
            }
        }
    }

    // covers: SC-08
    #[test]
    fn sc_08_disk_json_round_trips(a in rules()) {
        let p = profile(normalize(&a));
        let json = spo_seccomp::json::to_disk_json(&p.spec, spo_seccomp::json::Era::V1);
        let back = spo_seccomp::spec_from_raw_json(&json).unwrap();
        // errnoRet 0 is omitted on disk, i.e. read back as "not set".
        let expect: Vec<Syscall> = p.spec.syscalls.iter().cloned().map(|mut r| { r.errno_ret = r.errno(); r }).collect();
        prop_assert_eq!(back.syscalls, expect);
    }
}
