//! Runtime seccomp JSON (moby, containers-common, upstream SPO's deploy profiles): the real
//! files validate and evaluate for every target; raw JSON → SeccompProfile → raw JSON keeps
//! the meaning (issue 9).

use std::collections::BTreeSet;

use proptest::prelude::*;
use spo_core::Arch;
use spo_seccomp::json::to_pretty_json;
use spo_seccomp::runtime::{runtime_from_raw_json, spec_from_raw_json_for};
use spo_seccomp::runtime::{
    ArchMapEntry, Condition, RuntimeProfile, RuntimeSyscall, Target, DEFAULT_CAPS,
};
use spo_seccomp::validate::validate_spec;
use spo_seccomp::{Action, Arg, ArgOp};

use crate::fixtures::dir;

fn real_profiles() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir("real"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&f).unwrap(),
            )
        })
        .collect()
}

fn targets() -> Vec<Target> {
    let all_caps: Vec<String> = DEFAULT_CAPS
        .iter()
        .map(|c| c.to_string())
        .chain([
            "CAP_SYS_ADMIN".into(),
            "CAP_BPF".into(),
            "CAP_PERFMON".into(),
        ])
        .collect();
    let mut out = Vec::new();
    for arch in [
        Arch::X86_64,
        Arch::Aarch64,
        Arch::S390X,
        Arch::Ppc64Le,
        Arch::Riscv64,
    ] {
        out.push(Target::new(arch, DEFAULT_CAPS, (6, 18)));
        out.push(Target::new(arch, &all_caps, (4, 4)));
    }
    out
}

// covers: SC-01, SC-02, SC-04 (real-world runtime profiles)
#[test]
fn real_runtime_profiles_validate_for_every_target() {
    let profiles = real_profiles();
    assert!(profiles.len() >= 6, "{}", profiles.len());
    for (file, text) in &profiles {
        let raw = runtime_from_raw_json(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(raw.violations().is_empty(), "{file}: {}", raw.violations());
        for t in targets() {
            let spec = raw.evaluate(&t);
            let v = validate_spec(&spec);
            assert!(v.is_empty(), "{file} for {t:?}: {v}");
        }
    }
}

#[test]
fn moby_default_is_evaluated_like_docker() {
    let text = std::fs::read_to_string(dir("real").join("moby-default.json")).unwrap();
    let names = |t: &Target| -> BTreeSet<String> {
        spec_from_raw_json_for(&text, t)
            .unwrap()
            .syscalls
            .iter()
            .filter(|s| s.action == Action::Allow)
            .flat_map(|s| s.names.clone())
            .collect()
    };
    let x86 = Target::new(Arch::X86_64, DEFAULT_CAPS, (6, 18));
    let spec = spec_from_raw_json_for(&text, &x86).unwrap();
    assert_eq!(spec.architectures, [Arch::X86_64, Arch::X86, Arch::X32]);
    assert_eq!(spec.default_errno_ret, Some(1));
    let n = names(&x86);
    assert!(n.contains("arch_prctl") && n.contains("process_vm_readv"));
    assert!(!n.contains("bpf") && !n.contains("s390_pci_mmio_read"));
    // CAP_SYS_ADMIN adds bpf, mount...; an old kernel loses process_vm_readv (minKernel 4.8).
    let admin = Target::new(
        Arch::X86_64,
        DEFAULT_CAPS.iter().copied().chain(["sys_admin"]),
        (4, 4),
    );
    let n = names(&admin);
    assert!(n.contains("bpf") && n.contains("mount"));
    assert!(!n.contains("process_vm_readv"));
    let s390 = Target::new(Arch::S390X, DEFAULT_CAPS, (6, 18));
    let n = names(&s390);
    assert!(n.contains("s390_pci_mmio_read") && !n.contains("arch_prctl"));
}

const NAMES: [&str; 6] = ["read", "write", "mkdir", "clone", "bpf", "personality"];

fn condition() -> impl Strategy<Value = Condition> {
    (
        proptest::sample::subsequence(vec!["amd64", "arm64", "s390x"], 0..2),
        proptest::sample::subsequence(vec!["CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_BPF"], 0..2),
        proptest::option::of(proptest::sample::select(vec!["4.8", "5.10", "6.18"])),
    )
        .prop_map(|(arches, caps, k)| Condition {
            arches: arches.into_iter().map(String::from).collect(),
            caps: caps.into_iter().map(String::from).collect(),
            min_kernel: k.map(String::from),
        })
}

fn runtime_rule() -> impl Strategy<Value = RuntimeSyscall> {
    (
        proptest::sample::subsequence(NAMES.to_vec(), 1..4),
        proptest::sample::select(vec![Action::Allow, Action::Errno, Action::Log]),
        proptest::option::of(1u32..40),
        proptest::option::of(proptest::sample::select(vec!["EPERM", "ENOSYS"])),
        proptest::collection::vec((0u32..3, 0u64..9), 0..3),
        condition(),
        condition(),
        proptest::option::of("[a-z][a-z ]{0,7}"),
    )
        .prop_map(
            |(names, action, errno_ret, errno, args, inc, exc, comment)| {
                let errs = action == Action::Errno;
                RuntimeSyscall {
                    names: names.into_iter().map(String::from).collect(),
                    action,
                    errno_ret: errno_ret.filter(|_| errs),
                    errno: errno.filter(|_| errs).map(String::from),
                    args: args
                        .into_iter()
                        .map(|(index, value)| Arg {
                            index,
                            value,
                            value_two: 0,
                            op: ArgOp::Equal,
                        })
                        .collect(),
                    comment,
                    includes: inc,
                    excludes: exc,
                    ..RuntimeSyscall::default()
                }
            },
        )
}

fn runtime_profile() -> impl Strategy<Value = RuntimeProfile> {
    (
        proptest::sample::select(vec![Action::Errno, Action::Allow, Action::KillProcess]),
        proptest::option::of(1u32..40),
        any::<bool>(),
        proptest::collection::vec(runtime_rule(), 0..6),
    )
        .prop_map(
            |(default_action, errno, arch_map, syscalls)| RuntimeProfile {
                default_action,
                default_errno_ret: errno.filter(|_| default_action == Action::Errno),
                arch_map: if arch_map {
                    vec![
                        ArchMapEntry {
                            architecture: "SCMP_ARCH_X86_64".into(),
                            sub_architectures: vec!["SCMP_ARCH_X86".into()],
                        },
                        ArchMapEntry {
                            architecture: "SCMP_ARCH_AARCH64".into(),
                            sub_architectures: vec!["SCMP_ARCH_ARM".into()],
                        },
                    ]
                } else {
                    Vec::new()
                },
                syscalls,
                ..RuntimeProfile::default()
            },
        )
}

proptest! {
    /// Raw JSON → (evaluate for a target) → SeccompProfile spec → raw JSON → evaluate again:
    /// the same filter. The written JSON is plain OCI, so it no longer depends on the target.
    #[test]
    fn raw_json_round_trips_through_a_seccomp_profile(
        p in runtime_profile(),
        arch in proptest::sample::select(vec![Arch::X86_64, Arch::Aarch64, Arch::S390X]),
        caps in proptest::sample::subsequence(vec!["CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_BPF"], 0..3),
        kernel in proptest::sample::select(vec![(4u32, 4u32), (5, 10), (6, 18)]),
    ) {
        let target = Target::new(arch, caps, kernel);
        let text = serde_json::to_string_pretty(&p).unwrap();
        let spec = spec_from_raw_json_for(&text, &target).unwrap();
        let written = to_pretty_json(&spec);
        let back = runtime_from_raw_json(&written).unwrap();
        prop_assert!(!back.is_conditional());
        prop_assert_eq!(&back.evaluate(&target), &spec);
        prop_assert_eq!(&back.evaluate(&Target::new(Arch::X86_64, DEFAULT_CAPS, (6, 18))), &spec);
        // And the RuntimeProfile itself round-trips through its JSON.
        prop_assert_eq!(runtime_from_raw_json(&text).unwrap(), p);
    }
}

#[test]
fn from_yaml_one_wants_exactly_one_profile() {
    use spo_seccomp::SeccompProfile;
    let one = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n\
               metadata: {name: a}\nspec: {defaultAction: SCMP_ACT_LOG}\n";
    assert_eq!(
        SeccompProfile::from_yaml_one(one).unwrap().metadata.name,
        "a"
    );
    let two = format!("{one}---\n{one}");
    let e = SeccompProfile::from_yaml_one(&two).unwrap_err().to_string();
    assert_eq!(e, "expected exactly one SeccompProfile document, found 2");
    assert!(SeccompProfile::from_yaml_one("a: b\n").is_err());
}
