#![allow(clippy::unwrap_used, missing_docs)]
//! Lint and set-algebra benches (issue 11): linting one ~60-rule SeccompProfile, the source
//! map that gives findings their lines, subset of two 60-rule profiles with argument
//! conditions, and running the BPF walker over a compiled filter.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use spo_core::lint::{LintConfig, SourceMap};
use spo_core::{Arch, ObjectMeta};
use spo_seccomp::{Action, Arg, ArgOp, SeccompProfile, SeccompSpec, Syscall};

fn sixty(offset: u64) -> SeccompProfile {
    let mut names: Vec<String> = (0..60u64)
        .filter_map(|k| spo_seccomp::syscalls::name(Arch::X86_64, (offset + k * 5) % 330))
        .collect();
    names.extend(["execve", "exit_group"].map(String::from));
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.architectures = vec![Arch::X86_64];
    spec.syscalls = names
        .into_iter()
        .map(|n| Syscall::new([n], Action::Allow))
        .collect();
    let mut cond = Syscall::new(["personality"], Action::Allow);
    cond.args = vec![Arg {
        index: 0,
        value: 8,
        value_two: 0,
        op: ArgOp::Equal,
    }];
    spec.syscalls.push(cond);
    SeccompProfile::new(ObjectMeta::named("bench"), spec)
}

fn bench(c: &mut Criterion) {
    let p = sixty(7);
    let cfg = LintConfig::default();
    // Warm the per-architecture syscall tables once, as a long-running linter would.
    black_box(spo_seccomp::lint::lint(&p, &cfg));
    c.bench_function("lint a 60-rule SeccompProfile", |b| {
        b.iter(|| black_box(spo_seccomp::lint::lint(black_box(&p), &cfg)))
    });
    let yaml = p.to_yaml(spo_core::Version::V1).unwrap();
    c.bench_function("source map of a 60-rule profile", |b| {
        b.iter(|| black_box(SourceMap::parse(black_box(&yaml))))
    });
    let q = sixty(11);
    c.bench_function("subset of two 60-rule profiles", |b| {
        b.iter(|| black_box(spo_seccomp::subset::subset(&p.spec, &q.spec)))
    });
    let prog = spo_seccomp::compile::compile(&p.spec).unwrap();
    let data = spo_seccomp::inspect::SeccompData {
        nr: 246,
        arch: Arch::X86_64.audit_arch().unwrap(),
        ..Default::default()
    };
    c.bench_function("BPF walker: one call through a 60-rule filter", |b| {
        b.iter(|| {
            black_box(spo_seccomp::inspect::run(
                prog.instructions(),
                black_box(&data),
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
