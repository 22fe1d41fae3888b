//! Property tests of the set algebra (issue 11): subset is reflexive and transitive,
//! merge(A, B) ⊇ A and B, intersect(A, B) ⊆ A and B, and a kernel cross-check: when
//! subset(A, B) holds, every sampled call A's compiled filter allows is allowed by B's
//! compiled filter, run for real in forked children (never in the test process); the BPF
//! walker of `spoc inspect` agrees with the kernel on every such call.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use spo_core::{Arch, ObjectMeta};
use spo_seccomp::merge::merge_profiles;
use spo_seccomp::subset::{intersect, outcomes, subset};
use spo_seccomp::{Action, Arg, ArgOp, SeccompProfile, SeccompSpec, Syscall};

/// Syscalls that never block and never fail with ENOSYS or EHWPOISON on their own, so a
/// forked child can call them with any small arguments.
const POOL: [&str; 8] = [
    "getpid", "getppid", "getuid", "gettid", "close", "dup", "getpgid", "umask",
];
/// Errnos the filters return: the pool's syscalls never return them themselves.
const DENY_ERRNOS: [u32; 2] = [38, 133];

fn op() -> impl Strategy<Value = ArgOp> {
    prop_oneof![
        Just(ArgOp::Equal),
        Just(ArgOp::NotEqual),
        Just(ArgOp::Less),
        Just(ArgOp::LessOrEqual),
        Just(ArgOp::Greater),
        Just(ArgOp::GreaterOrEqual),
    ]
}

fn action() -> impl Strategy<Value = (Action, Option<u32>)> {
    prop_oneof![
        3 => Just((Action::Allow, None)),
        1 => Just((Action::Log, None)),
        2 => (0usize..2).prop_map(|i| (Action::Errno, Some(DENY_ERRNOS[i]))),
        1 => Just((Action::KillProcess, None)),
    ]
}

/// A rule on one pool syscall with at most `max_args` conditions on arguments 0 and 1.
fn rule(max_args: usize) -> impl Strategy<Value = Syscall> {
    (
        0..POOL.len(),
        action(),
        prop::collection::vec((0u32..2, op(), 0u64..6), 0..=max_args),
    )
        .prop_map(|(n, (action, errno), args)| {
            let mut r = Syscall::new([POOL[n]], action);
            r.errno_ret = errno;
            r.args = args
                .into_iter()
                .map(|(index, op, value)| Arg {
                    index,
                    value,
                    value_two: 0,
                    op,
                })
                .collect();
            r
        })
}

fn spec_with(default: Action, rules: Vec<Syscall>) -> SeccompSpec {
    let mut s = SeccompSpec::new(default);
    // ENOSYS as the default errno, so the child can tell a denial from a real failure.
    s.default_errno_ret = (default == Action::Errno).then_some(38);
    s.architectures = vec![Arch::X86_64];
    s.syscalls = rules;
    s
}

fn spec(max_args: usize) -> impl Strategy<Value = SeccompSpec> {
    (
        prop_oneof![
            4 => Just(Action::Errno),
            1 => Just(Action::KillProcess),
            1 => Just(Action::Allow)
        ],
        prop::collection::vec(rule(max_args), 0..6),
    )
        .prop_map(|(d, rules)| spec_with(d, rules))
}

/// `s` with every rule of the chosen pool syscalls replaced by an unconditional ALLOW: a
/// profile that allows at least as much.
fn widen(s: &SeccompSpec, pick: &[bool]) -> SeccompSpec {
    let mut out = s.clone();
    let chosen: Vec<&str> = POOL
        .iter()
        .zip(pick)
        .filter(|(_, p)| **p)
        .map(|(n, _)| *n)
        .collect();
    for r in &mut out.syscalls {
        r.names.retain(|n| !chosen.contains(&n.as_str()));
    }
    out.syscalls.retain(|r| !r.names.is_empty());
    if !chosen.is_empty() {
        out.syscalls.push(Syscall::new(chosen, Action::Allow));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // covers: issue 11 (subset is reflexive)
    #[test]
    fn subset_is_reflexive(a in spec(2)) {
        prop_assert!(subset(&a, &a).holds());
    }

    // covers: issue 11 (subset is transitive)
    #[test]
    fn subset_is_transitive(a in spec(2), p1 in prop::collection::vec(any::<bool>(), 8),
                            p2 in prop::collection::vec(any::<bool>(), 8), c in spec(2)) {
        let b = widen(&a, &p1);
        let cc = widen(&b, &p2);
        prop_assert!(subset(&a, &b).holds(), "{:?}", subset(&a, &b));
        let r = subset(&b, &cc);
        prop_assert!(r.holds(), "{:?}\nb = {:?}\ncc = {:?}", r.witnesses, b.syscalls, cc.syscalls);
        prop_assert!(subset(&a, &cc).holds());
        // Random triples: whenever both hold, the composition holds.
        if subset(&a, &c).holds() && subset(&c, &b).holds() {
            prop_assert!(subset(&a, &b).holds());
        }
    }

    // covers: issue 11, SC-24 (merge(A, B) ⊇ A and B for allow-lists with the same default
    // action and architecture, rules with at most one condition, where upstream's AND of two
    // rules' conditions on the same argument becomes an OR in the filter. Merging deny-lists
    // (default ALLOW) is not a union: their deny rules are merged too.)
    #[test]
    fn merge_contains_both(a in spec(1), b in spec(1)) {
        prop_assume!(!a.default_action.is_allowing());
        let mut b = b;
        b.default_action = a.default_action;
        b.default_errno_ret = a.default_errno_ret;
        let pa = SeccompProfile::new(ObjectMeta::named("a"), a.clone());
        let pb = SeccompProfile::new(ObjectMeta::named("b"), b.clone());
        let m = merge_profiles(&[pa, pb]).unwrap();
        let single_index = m.spec.syscalls.iter().all(|r| {
            r.args.iter().all(|x| x.index == r.args.first().map_or(0, |f| f.index))
        });
        prop_assume!(single_index);
        let ra = subset(&a, &m.spec);
        prop_assert!(ra.holds(), "A ⊄ merge: {:?}\nA = {:?}\nmerge = {:?}", ra.witnesses, a.syscalls, m.spec.syscalls);
        let rb = subset(&b, &m.spec);
        prop_assert!(rb.holds(), "B ⊄ merge: {:?}\nmerge = {:#?}", rb.witnesses, m.spec);
    }

    // covers: issue 11 (intersect(A, B) ⊆ A and B)
    #[test]
    fn intersection_is_within_both(a in spec(2), b in spec(2)) {
        let (i, _) = intersect(&a, &b);
        let ra = subset(&i, &a);
        prop_assert!(ra.holds(), "{:?}\n{:#?}", ra.witnesses, i);
        let rb = subset(&i, &b);
        prop_assert!(rb.holds(), "{:?}\n{:#?}", rb.witnesses, i);
    }
}

/// What the kernel did with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Allowed,
    Denied,
}

/// Runs `name(args)` in a forked child under `spec`'s compiled filter.
/// `spec` plus what the child needs: it reports through write and leaves through exit_group.
fn augmented(spec: &SeccompSpec) -> SeccompSpec {
    let mut spec = spec.clone();
    spec.syscalls
        .push(Syscall::new(["write", "exit_group"], Action::Allow));
    spec
}

/// What the BPF walker of `spoc inspect` says the compiled filter does with the call.
fn walker(spec: &SeccompSpec, name: &str, args: [u64; 6]) -> Kernel {
    let filter = spo_seccomp::compile::compile(&augmented(spec)).unwrap();
    let data = spo_seccomp::inspect::SeccompData {
        nr: spo_seccomp::syscalls::number(Arch::X86_64, name).unwrap(),
        arch: Arch::X86_64.audit_arch().unwrap(),
        instruction_pointer: 0,
        args,
    };
    let r = spo_seccomp::inspect::run(filter.instructions(), &data).unwrap();
    match r.ret & 0xffff_0000 {
        0x7fff_0000 | 0x7ffc_0000 => Kernel::Allowed, // ALLOW, LOG
        _ => Kernel::Denied,
    }
}

fn run_in_child(spec: &SeccompSpec, name: &str, args: [u64; 6]) -> Kernel {
    let spec = augmented(spec);
    let filter = spo_seccomp::compile::compile(&spec).unwrap();
    let insns: Vec<libc::sock_filter> = filter.instructions().to_vec();
    let nr = libc::c_long::from(
        i32::try_from(spo_seccomp::syscalls::number(Arch::X86_64, name).unwrap()).unwrap(),
    );
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 with a valid array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // The sampled calls close small descriptors: keep the write end out of their reach.
    let high = unsafe { libc::fcntl(fds[1], libc::F_DUPFD_CLOEXEC, 900) };
    assert!(high >= 900);
    unsafe { libc::close(fds[1]) };
    fds[1] = high;
    let prog = libc::sock_fprog {
        len: u16::try_from(insns.len()).unwrap(),
        filter: insns.as_ptr().cast_mut(),
    };
    // SAFETY: the child only issues raw system calls on memory prepared before the fork
    // (no allocation, no locks) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        unsafe {
            libc::close(fds[0]);
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(90);
            }
            if libc::syscall(
                libc::SYS_seccomp,
                1 as libc::c_ulong,
                0 as libc::c_ulong,
                &prog,
            ) != 0
            {
                libc::_exit(91);
            }
            let r = libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
            let e = *libc::__errno_location();
            let msg: [i64; 2] = [r, i64::from(e)];
            libc::write(fds[1], msg.as_ptr().cast(), 16);
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end; reading into a local buffer.
    unsafe { libc::close(fds[1]) };
    let mut buf = [0i64; 2];
    let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), 16) };
    unsafe { libc::close(fds[0]) };
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFSIGNALED(status) {
        assert_eq!(libc::WTERMSIG(status), libc::SIGSYS, "child died otherwise");
        return Kernel::Denied;
    }
    assert_eq!(libc::WEXITSTATUS(status), 0, "child setup failed");
    assert_eq!(n, 16);
    if buf[0] == -1 && DENY_ERRNOS.iter().any(|e| i64::from(*e) == buf[1]) {
        Kernel::Denied
    } else {
        Kernel::Allowed
    }
}

fn samples() -> Vec<(&'static str, [u64; 6])> {
    let mut v = Vec::new();
    for n in POOL {
        for (a0, a1) in [(0, 0), (2, 5), (5, 1), (u64::MAX, 3)] {
            v.push((n, [a0, a1, 0, 0, 0, 0]));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    // covers: issue 11 (kernel cross-check of subset, in forked children)
    #[test]
    fn kernel_agrees_with_subset(a in spec(2), pick in prop::collection::vec(any::<bool>(), 8),
                                 other in spec(2)) {
        // One pair that is a subset by construction, one random pair.
        let b = widen(&a, &pick);
        prop_assert!(subset(&a, &b).holds());
        let pairs = [(a.clone(), b), (a.clone(), other)];
        for (x, y) in &pairs {
            let holds = subset(x, y).holds();
            for (name, args) in samples() {
                let kx = run_in_child(x, name, args);
                // The BPF walker agrees with the kernel.
                prop_assert_eq!(walker(x, name, args), kx, "walker on {}{:?}", name, args);
                // The model's possible outcomes contain what the kernel did.
                let ox = outcomes(x, Arch::X86_64, name, &args);
                if kx == Kernel::Allowed {
                    prop_assert!(ox.iter().any(|o| o.allows()), "{name}{args:?}: kernel allowed, model {ox:?}");
                } else {
                    prop_assert!(!ox.iter().all(|o| o.allows()), "{name}{args:?}: kernel denied, model {ox:?}");
                }
                if holds && kx == Kernel::Allowed {
                    let ky = run_in_child(y, name, args);
                    prop_assert_eq!(ky, Kernel::Allowed, "{}{:?} allowed by A, not by B", name, args);
                }
            }
        }
    }
}

/// The model's one assumption about libseccomp, checked in the kernel: an unconditional rule
/// for a syscall decides, whatever conditional rules for it say and in whatever order.
#[test]
fn unconditional_rule_supersedes_conditional_ones() {
    fn cond(a: Action, v: u64) -> Syscall {
        let mut r = Syscall::new(["getpid"], a);
        if a == Action::Errno {
            r.errno_ret = Some(133);
        }
        r.args = vec![Arg {
            index: 0,
            value: v,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        r
    }
    let allow = Syscall::new(["getpid"], Action::Allow);
    let mut deny = Syscall::new(["getpid"], Action::Errno);
    deny.errno_ret = Some(133);
    let cases = [
        (vec![allow.clone(), cond(Action::Errno, 5)], Kernel::Allowed),
        (vec![cond(Action::Errno, 5), allow.clone()], Kernel::Allowed),
        (vec![deny.clone(), cond(Action::Allow, 5)], Kernel::Denied),
        (vec![cond(Action::Allow, 5), deny], Kernel::Denied),
    ];
    for (rules, expected) in cases {
        let s = spec_with(Action::Errno, rules);
        for x in [[5u64, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0]] {
            assert_eq!(
                run_in_child(&s, "getpid", x),
                expected,
                "{:?} {x:?}",
                s.syscalls
            );
            let model = outcomes(&s, Arch::X86_64, "getpid", &x);
            assert_eq!(model.len(), 1);
            assert_eq!(model[0].allows(), expected == Kernel::Allowed);
        }
    }
}
