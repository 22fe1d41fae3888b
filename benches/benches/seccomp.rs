#![allow(clippy::unwrap_used, missing_docs)]
//! spo-seccomp benches: decode + validate, merge of 50 profiles, a 15-deep base chain,
//! compiling a 300-rule allowlist.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use spo_core::{Arch, ObjectMeta};
use spo_seccomp::merge::{merge_profiles, UnionMode};
use spo_seccomp::resolve::resolve;
use spo_seccomp::{Action, SeccompProfile, SeccompSpec, Syscall};

const RUNC: &str = include_str!("../../spo-seccomp/tests/fixtures/upstream/baseprofile-runc.yaml");

fn x86_64_names() -> Vec<String> {
    (0..460u64)
        .filter_map(|nr| spo_seccomp::syscalls::name(Arch::X86_64, nr))
        .collect()
}

fn profile(name: &str, names: Vec<String>) -> SeccompProfile {
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.architectures = vec![Arch::X86_64];
    spec.syscalls = vec![Syscall::new(names, Action::Allow)];
    SeccompProfile::new(ObjectMeta::named(name), spec)
}

fn bench(c: &mut Criterion) {
    c.bench_function("decode+validate runc base profile", |b| {
        b.iter(|| {
            let p = SeccompProfile::from_yaml(black_box(RUNC)).unwrap();
            black_box(spo_seccomp::validate::validate(&p[0]))
        })
    });

    // The YAML layer alone: the block-style subset parser against the full parser.
    let doc = RUNC.trim_start_matches("---\n");
    c.bench_function("parse runc base profile YAML: subset parser", |b| {
        b.iter(|| black_box(spo_core::yaml_subset::parse(black_box(doc)).unwrap()))
    });
    c.bench_function("parse runc base profile YAML: full parser", |b| {
        b.iter(|| black_box(serde_yaml::from_str::<serde_json::Value>(black_box(doc)).unwrap()))
    });

    let all = x86_64_names();
    let fifty: Vec<SeccompProfile> = (0..50)
        .map(|i| {
            let names = (0..60)
                .map(|k| all[(i * 7 + k * 5) % all.len()].clone())
                .collect();
            profile(&format!("p{i}"), names)
        })
        .collect();
    c.bench_function("merge 50 profiles x 60 rules", |b| {
        b.iter(|| black_box(merge_profiles(black_box(&fifty))))
    });

    let chain: HashMap<String, SeccompProfile> = (0..15)
        .map(|i| {
            let mut p = profile(
                &format!("c{i}"),
                vec![all[i * 3].clone(), all[i * 3 + 1].clone()],
            );
            if i < 14 {
                p.spec.base_profile_name = Some(format!("c{}", i + 1));
            }
            (format!("c{i}"), p)
        })
        .collect();
    c.bench_function("resolve a 15-deep base chain", |b| {
        b.iter(|| black_box(resolve(&chain["c0"], &chain, UnionMode::V1).unwrap()))
    });

    let mut big = SeccompSpec::new(Action::Errno);
    big.syscalls = all
        .iter()
        .take(300)
        .map(|n| Syscall::new([n.as_str()], Action::Allow))
        .collect();
    c.bench_function("compile a 300-rule allowlist", |b| {
        b.iter(|| black_box(spo_seccomp::compile::compile(black_box(&big)).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
