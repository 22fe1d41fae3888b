//! spo-selinux: validate + translate + render a 10,000-rule SelinuxProfile (issue target:
//! ≤ 50 ms, i.e. no quadratic behaviour), validation alone, and the raw-policy check on a
//! 10,000-statement policy.

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use spo_core::ObjectMeta;
use spo_selinux::raw::check_policy;
use spo_selinux::{to_cil, NoParents, Options, SelinuxProfile};

const CLASSES: [&str; 10] = [
    "file",
    "dir",
    "sock_file",
    "lnk_file",
    "chr_file",
    "blk_file",
    "fifo_file",
    "tcp_socket",
    "udp_socket",
    "unix_stream_socket",
];
const PERMS: [&str; 8] = [
    "read", "write", "open", "getattr", "ioctl", "lock", "append", "map",
];

/// 1,000 labels × 10 classes = 10,000 allow rules, 5 permissions each (one duplicate).
fn big_profile() -> SelinuxProfile {
    let mut p = SelinuxProfile::named("bench");
    p.metadata = ObjectMeta::named("bench");
    for l in 0..1000 {
        let mut classes = BTreeMap::new();
        for (c, class) in CLASSES.iter().enumerate() {
            let perms = (0..4)
                .map(|k| PERMS[(l + c + k) % PERMS.len()].to_string())
                .chain(std::iter::once(PERMS[(l + c) % PERMS.len()].to_string()))
                .collect();
            classes.insert(class.to_string(), perms);
        }
        p.spec.allow.insert(format!("label_{l:04}_t"), classes);
    }
    p
}

fn bench(c: &mut Criterion) {
    let p = big_profile();
    let opts = Options::default();
    let text = to_cil(&p, &opts, &NoParents)
        .map(|m| m.render())
        .unwrap_or_default();
    assert_eq!(
        text.lines().count(),
        10_003,
        "1 block line + 1 inherit + 10,000 rules + 1 close"
    );
    c.bench_function("selinux_to_cil_10k_rules", |b| {
        b.iter(|| to_cil(std::hint::black_box(&p), &opts, &NoParents).map(|m| m.render()))
    });
    c.bench_function("selinux_validate_10k_rules", |b| {
        b.iter(|| spo_selinux::validate(std::hint::black_box(&p), &opts, &NoParents))
    });
    let policy: String = (0..10_000)
        .map(|i| format!("(allow process label_{i}_t ( file ( read write open )))\n"))
        .collect();
    let allowed = vec!["container".to_string()];
    c.bench_function("selinux_raw_check_10k_statements", |b| {
        b.iter(|| check_policy(std::hint::black_box(&policy), &allowed))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
